"""The diff report as text: a header, one line per change (identical changes grouped, ×N), the totals.

    ~  select_multiply_fusion -> multiply_multiply_fusion  kLoop  fused ops   0 B  -917.5k  -2.5 ns
         ops -multiply×22 -add×19 ... +tanh

Markers follow `diff`: `~` changed, `+` added, `-` removed (and `=` unchanged with `show_unchanged`).
Deltas are after minus before; a group's deltas are summed over its repetitions. Every figure comes
from the `DiffResult`, so the text, the JSON and the HTML agree.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from irscope.render.table import human_bytes, human_count, human_time
from irscope.util.text import align_row, column_widths

if TYPE_CHECKING:
    from irscope.passes.diff import ChangeGroup, Delta, DiffResult, KernelChange, MemoryDiff
    from irscope.passes.memory import LiveBuffer

MARK = {"changed": "~", "added": "+", "removed": "-", "unchanged": "="}
_LABEL_WIDTH = 64
_DETAIL_LINES = 4


def signed(value: float, fmt: Callable[[float], str]) -> str:
    """`+1.5 KiB`, `-917.5k`, `0`: a delta with its sign, in the unit `fmt` gives."""
    if value == 0:
        return "0"
    return ("+" if value > 0 else "-") + fmt(abs(value))


def _time(s: float) -> str:
    return human_time(s)


def _delta_cells(d: Delta, measured: bool) -> list[str]:
    cells = [signed(d.bytes_accessed, human_bytes), signed(d.flops, human_count), signed(d.time_at_peak_s, _time)]
    if measured:
        cells.append("-" if d.measured_s is None else signed(d.measured_s, _time))
    return cells


def _name(change: KernelChange, count: int) -> str:
    label = change.label
    if len(label) > _LABEL_WIDTH:
        label = label[: _LABEL_WIDTH - 1] + "…"
    trips = (change.after or change.before).trip_count if (change.after or change.before) else None
    if trips not in (None, 1):
        label += f" (×{trips} per run)"
    return label + (f"  ×{count}" if count > 1 else "")


def _kind(change: KernelChange) -> str:
    a, b = change.before, change.after
    if a and b and a.kind != b.kind:
        return f"{a.kind}->{b.kind}"
    return (b or a).kind if (b or a) else ""


def diff_text(result: DiffResult, *, max_rows: int | None = 60, show_unchanged: bool = False) -> str:
    """The readable report of a diff (`max_rows` change entries at most, None for all)."""
    before, after = result.before, result.after
    measured = any(k.delta.measured_s is not None for k in result.kernels)
    s = result.summary
    lines = [
        f"diff {before.module} -> {after.module} (t@peak on {result.chip})",
        f"  before  {before.source or before.module}: {before.kernels:,} kernels, {before.instructions:,} instructions",
        f"  after   {after.source or after.module}: {after.kernels:,} kernels, {after.instructions:,} instructions",
        "",
        f"kernels: {s['changed']:,} changed, {s['added']:,} added, {s['removed']:,} removed, "
        f"{s['unchanged']:,} unchanged",
    ]
    if result.signature:
        lines += ["", "signature:"] + [f"  {line}" for line in result.signature]
    entries: list[tuple[KernelChange, ChangeGroup | None]] = []
    if show_unchanged:
        grouped = {id(g.first): g for g in result.groups}
        members = {id(e) for g in result.groups for e in g.entries[1:]}
        entries = [(k, grouped.get(id(k))) for k in result.kernels if id(k) not in members]
    else:
        entries = [(g.first, g) for g in result.groups]
    if entries:
        lines.append("")
        lines += _table(entries, measured, max_rows)
    if result.other_changes:
        lines += ["", f"outside the kernels ({len(result.other_changes):,}):"]
        lines += [f"  {line}" for line in result.other_changes[:10]]
        if len(result.other_changes) > 10:
            lines.append(f"  ... {len(result.other_changes) - 10:,} more (--json for all)")
    lines += ["", *_totals(result)]
    if result.memory is not None:
        lines += ["", *memory_diff_text(result.memory, max_rows=10 if max_rows else None)]
    if result.identical:
        memory = result.memory
        moved = memory is not None and (memory.appeared or memory.disappeared or any(memory.delta.values()))
        lines += ["", f"no kernel difference: all {s['unchanged']:,} kernels matched and unchanged; the schedule "
                      "differs (memory above)" if moved else
                  f"no difference: all {s['unchanged']:,} kernels matched and unchanged"]
    return "\n".join(lines)


def _table(entries: list[tuple[KernelChange, ChangeGroup | None]], measured: bool, max_rows: int | None) -> list[str]:
    header = ["", "kernel (before -> after)", "kind", "reasons", "Δbytes", "ΔFLOPs", "Δt@peak"]
    if measured:
        header.append("Δmeasured")
    rows: list[tuple[list[str], list[str]]] = []
    shown = entries if max_rows is None else entries[:max_rows]
    for change, group in shown:
        count = group.count if group else 1
        delta = group.delta if group else change.delta
        cells = [MARK[change.status], _name(change, count), _kind(change), ", ".join(change.reasons) or "-",
                 *_delta_cells(delta, measured)]
        extra = [f"     {d}" for d in change.details[:_DETAIL_LINES]]
        if len(change.details) > _DETAIL_LINES:
            extra.append(f"     ... {len(change.details) - _DETAIL_LINES} more differences")
        if group and group.count > 1:
            others = [e.label for e in group.entries[1:4]]
            more = group.count - 1 - len(others)
            extra.append("     also " + ", ".join(others) + (f" and {more:,} more" if more else ""))
        rows.append((cells, extra))
    widths = column_widths([header, *(cells for cells, _ in rows)])
    numeric = set(range(4, len(header)))
    out = [align_row(header, widths, numeric),
           align_row([" " if k == 0 else "-" * w for k, w in enumerate(widths)], widths, numeric)]
    for cells, extra in rows:
        out.append(align_row(cells, widths, numeric))
        out += extra
    if len(shown) < len(entries):
        out.append(f"... {len(entries) - len(shown):,} more entries (--json for all)")
    return out


def _totals(result: DiffResult) -> list[str]:
    a, b, d = result.before, result.after, result.delta
    rows = [
        ("bytes accessed", human_bytes(a.bytes_accessed), human_bytes(b.bytes_accessed),
         signed(d.bytes_accessed, human_bytes), _percent(a.bytes_accessed, b.bytes_accessed)),
        ("FLOPs", human_count(a.flops), human_count(b.flops), signed(d.flops, human_count),
         _percent(a.flops, b.flops)),
        ("transcendentals", human_count(a.transcendentals), human_count(b.transcendentals),
         signed(d.transcendentals, human_count), _percent(a.transcendentals, b.transcendentals)),
        (f"t@peak ({result.chip})", _time(a.time_at_peak_s), _time(b.time_at_peak_s),
         signed(d.time_at_peak_s, _time), _percent(a.time_at_peak_s, b.time_at_peak_s)),
    ]
    if a.measured_s is not None and b.measured_s is not None:
        rows.append(("measured", _time(a.measured_s), _time(b.measured_s),
                     signed(b.measured_s - a.measured_s, _time), _percent(a.measured_s, b.measured_s)))
    rows += [
        ("kernels", f"{a.kernels:,}", f"{b.kernels:,}", signed(b.kernels - a.kernels, lambda x: f"{x:,.0f}"),
         _percent(a.kernels, b.kernels)),
        ("instructions", f"{a.instructions:,}", f"{b.instructions:,}",
         signed(b.instructions - a.instructions, lambda x: f"{x:,.0f}"), _percent(a.instructions, b.instructions)),
    ]
    header = ("total", "before", "after", "delta", "")
    widths = column_widths([header, *rows])
    right = {1, 2, 3, 4}
    return [align_row(header, widths, right)] + [align_row(r, widths, right) for r in rows] + [
        "(bytes and FLOPs as XLA's cost analysis counts them; t@peak sums kernels × known loop trip counts)"]


def _percent(before: float, after: float) -> str:
    if before == after:
        return ""
    if before <= 0:
        return "(new)"
    return f"{100 * (after - before) / before:+.1f}%"


_MEMORY_LABELS = {"argument_bytes": "arguments", "output_bytes": "outputs", "alias_bytes": "aliased",
                  "temp_bytes": "temps", "peak_bytes": "peak"}


def memory_diff_text(memory: MemoryDiff, *, max_rows: int | None = 10) -> list[str]:
    """The memory section: each figure before and after with its delta, then the values that appear at or
    disappear from the peak (matched by op_name, source and shape, not by name)."""
    header = ["memory", "before", "after", "Δ", ""]
    rows = []
    for key, label in _MEMORY_LABELS.items():
        a, b, d = memory.before[key], memory.after[key], memory.delta[key]
        where = {memory.provenance_before.get(key, "unknown"), memory.provenance_after.get(key, "unknown")}
        rows.append([label, "unknown" if a is None else human_bytes(a), "unknown" if b is None else human_bytes(b),
                     "" if d is None else signed(d, human_bytes),
                     ("" if a is None or b is None else _percent(a, b)) + f"  [{'/'.join(sorted(where))}]"])
    widths = column_widths([header, *rows])
    right = {1, 2, 3}
    lines = [align_row(header, widths, right)] + [align_row(r, widths, right) for r in rows]
    if memory.peak_instruction_before or memory.peak_instruction_after:
        lines.append(f"peak at {memory.peak_instruction_before} -> {memory.peak_instruction_after}; "
                     f"{memory.kept:,} values at both peaks")
    for title, mark, buffers in (("appear at the peak", "+", memory.appeared),
                                 ("disappear from the peak", "-", memory.disappeared)):
        if buffers:
            lines.append(f"{title} ({len(buffers):,}, {human_bytes(sum(b.bytes for b in buffers))}):")
            lines += [f"  {mark} {_buffer_line(b)}" for b in buffers[:max_rows]]
            if max_rows is not None and len(buffers) > max_rows:
                lines.append(f"  ... {len(buffers) - max_rows:,} more (--json for all)")
    return lines


def _buffer_line(b: LiveBuffer) -> str:
    where = " ".join(x for x in (b.op_name, b.source) if x)
    return f"{human_bytes(b.bytes):>10}  {b.shape:<16} {b.name:<28} {where}"
