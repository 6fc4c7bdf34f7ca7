"""Text and HTML tables of an HLO report: one row per kernel, then the totals; and its short summary.

Rows are in execution order unless sorted (`sort="bytes"|"flops"|"time"|"intensity"`), and `top=N`
keeps the first N with a footer saying what the rest weigh. A `source` column (the user's `file:line`,
from the instruction metadata or the module's stack-frame tables) appears when any kernel has one.

A measured report (`irscope.passes.report.with_measurement`) gains two columns, `measured` (the
kernel's median time per run from a profiler trace) and `% of roofline` (its time at peak over the
measured time), and footer lines with the JIT and eager medians and the trace match.

A module with collectives gains a `comm` column after t@peak (each collective's time on the target's
interconnect, or its bytes per device when no interconnect is known) and a footer line with the
total (`irscope.passes.collectives`, estimated).
"""

from __future__ import annotations

import html
import math
import os
from typing import TYPE_CHECKING

from irscope.hw import peak_dtype_for, peak_flops_for

if TYPE_CHECKING:
    from irscope.passes.report import HloReport, KernelRow


def human_bytes(n: float) -> str:
    """1536 -> '1.5 KiB' (binary units, as memory is sized)."""
    if n < 0:
        return "?"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


def plural(count: int, noun: str, plural_form: str | None = None) -> str:
    """`plural(1, "kernel")` -> '1 kernel'; `plural(1200, "kernel")` -> '1,200 kernels'."""
    return f"{count:,} {noun if count == 1 else plural_form or noun + 's'}"


def human_count(n: float) -> str:
    """2.1e9 -> '2.1G' (decimal units, as FLOPs are counted)."""
    if n < 0:
        return "?"
    for unit, scale in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f}{unit}"
    return f"{n:.0f}"


def _spaced(count: str) -> str:
    """'67.0T' -> '67.0 T' so that a unit can follow: '67.0 TFLOP/s'."""
    return count[:-1] + " " + count[-1] if count and count[-1].isalpha() else count + " "


def human_time(s: float | None) -> str:
    if s is None or not math.isfinite(s):
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if s >= scale:
            return f"{s / scale:.2f} {unit}"
    return f"{s * 1e9:.1f} ns"


def ops_summary(ops: tuple[str, ...] | list[str], limit: int = 4) -> str:
    """The distinct opcodes of a kernel, most frequent first: 'multiply×3 add tanh +2'."""
    counts: dict[str, int] = {}
    for op in ops:
        if op in ("constant", "bitcast", "broadcast") and len(ops) > 1:
            continue  # shape plumbing: not what a reader scans for
        counts[op] = counts.get(op, 0) + 1
    if not counts:
        counts = {ops[0]: 1} if ops else {}
    ordered = sorted(counts.items(), key=lambda kv: -kv[1])
    parts = [f"{op}×{n}" if n > 1 else op for op, n in ordered[:limit]]
    if len(ordered) > limit:
        parts.append(f"+{len(ordered) - limit}")
    return " ".join(parts)


COLUMNS = ("#", "kernel", "kind", "ops", "bytes", "FLOPs", "FLOP/B", "bound", "t@peak")
MEASURED_COLUMNS = ("measured", "% of roofline")
COMM_COLUMN = "comm"
SOURCE_COLUMN = "source"
_NUMERIC = {"#", "bytes", "FLOPs", "FLOP/B", "t@peak", COMM_COLUMN, *MEASURED_COLUMNS}

SORT_KEYS = ("bytes", "flops", "time", "intensity")
"""Orders of `sort_rows`: the costliest first (bytes, FLOPs, time), or the least FLOPs per byte first."""


def _is_measured(report: HloReport) -> bool:
    return report.measured is not None or any(r.measured_s is not None for r in report.rows)


def _has_comm(report: HloReport) -> bool:
    return any(r.comm is not None for r in report.rows)


def _columns(report: HloReport, *, sources: bool = False) -> tuple[str, ...]:
    columns = COLUMNS + (COMM_COLUMN,) if _has_comm(report) else COLUMNS
    columns = columns + MEASURED_COLUMNS if _is_measured(report) else columns
    return columns + (SOURCE_COLUMN,) if sources else columns


def _comm_cell(row: KernelRow) -> str:
    """A collective's time on the interconnect (its bytes per device when no link is known); '-' else."""
    if row.comm is None:
        return "-"
    if row.comm.time_s is None:
        return human_bytes(row.comm.sent_bytes)
    return human_time(row.comm.time_s)


def comm_line(report: HloReport) -> str | None:
    """`comm     3 collectives, 1.0 MiB per device, 10.49 us on tpu-v5e ICI (...)`; None without any."""
    comms = [(r.comm, _runs(r)) for r in report.rows if r.comm is not None]
    if not comms:
        return None
    sent = sum(c.sent_bytes * runs for c, runs in comms)
    times = [c.time_s * runs for c, runs in comms if c.time_s is not None]
    where = (f"{human_time(sum(times))} on {report.extra.get('target') or report.chip.name}'s interconnect"
             if times else f"no interconnect known for {report.chip.name}")
    return (f"comm     {plural(len(comms), 'collective')}, {human_bytes(sent)} sent per device, {where} "
            "(bandwidth only, no overlap; estimated)")


def _runs(row: KernelRow) -> int:
    """How often the kernel runs per call of the module (a loop body's kernels: the known trip count)."""
    return row.trip_count or 1


def row_weight(row: KernelRow, key: str) -> float:
    """The quantity `sort_rows` orders by, per call of the module (loop bodies × their trip count)."""
    if key == "bytes":
        return max(row.cost.bytes_accessed, 0) * _runs(row)
    if key == "flops":
        return max(row.cost.flops, 0) * _runs(row)
    if key == "time":
        if row.measured_s is not None:
            return row.measured_s
        return row.roofline.time_at_peak_s * _runs(row)
    if key == "intensity":
        return row.roofline.intensity
    raise ValueError(f"unknown sort key {key!r} (known: {', '.join(SORT_KEYS)})")


def sort_rows(report: HloReport, key: str | None) -> list[tuple[int, KernelRow]]:
    """(execution index, row) pairs: in execution order for `key` None, else by `key` (see `SORT_KEYS`).

    bytes/flops/time put the costliest kernel first (per call of the module; `time` is the measured
    time in a measured report, kernels without one last, else the time at peak); intensity puts the lowest FLOPs per byte first
    (the most memory-bound), kernels that move no bytes last. Ties keep execution order.
    """
    indexed = list(enumerate(report.rows))
    if key is None:
        return indexed
    if key == "time" and any(r.measured_s is not None for r in report.rows):
        # Measured times and times at peak are not comparable: kernels without a measured time go last.
        def by_measured(pair: tuple[int, KernelRow]) -> tuple[bool, float]:
            measured = pair[1].measured_s
            return (measured is None, -(measured or 0.0))

        return sorted(indexed, key=by_measured)
    if key == "intensity":
        def by_intensity(pair: tuple[int, KernelRow]) -> tuple[bool, float]:
            value = row_weight(pair[1], key)
            return (not math.isfinite(value), value if math.isfinite(value) else 0.0)

        return sorted(indexed, key=by_intensity)
    return sorted(indexed, key=lambda pair: -row_weight(pair[1], key))


def kernel_source(report: HloReport, row: KernelRow) -> str | None:
    """The user's `file:line` behind a kernel, full path (see `irscope.ir.source`); None if unknown."""
    from irscope.ir.source import kernel_location

    return kernel_location(report.module, row.kernel.instruction, row.kernel.fused_computation)


def short_source(location: str | None) -> str:
    """`/home/me/proj/model.py:32` -> `model.py:32` (or a path relative to the working directory)."""
    if not location:
        return "-"
    path, _, line = location.rpartition(":")
    if not path:
        return location
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        relative = path
    shown = relative if not relative.startswith("..") and len(relative) <= 40 else os.path.basename(path)
    return f"{shown}:{line}"


def human_percent(fraction: float | None) -> str:
    """0.123 -> '12.3%'; None -> '-'."""
    if fraction is None or not math.isfinite(fraction):
        return "-"
    return f"{100 * fraction:.1f}%"


def _row_cells(index: int, row: KernelRow, *, measured: bool = False, source: str | None = None,
               comm: bool = False) -> list[str]:
    r = row.roofline
    intensity = "-" if not math.isfinite(r.intensity) else f"{r.intensity:.2f}"
    name = row.name if row.trip_count in (None, 1) else f"{row.name} ×{row.trip_count}"
    cells = [str(index), name, row.kernel.kind, ops_summary(row.kernel.ops), human_bytes(row.cost.bytes_accessed),
             human_count(row.cost.flops), intensity, r.bound, human_time(r.time_at_peak_s)]
    if comm:
        cells.append(_comm_cell(row))
    if measured:
        cells += [human_time(row.measured_s), human_percent(row.fraction_of_roofline)]
    if source is not None:
        cells.append(source)
    return cells


def _sources(report: HloReport) -> dict[int, str | None]:
    """Each row's full `file:line` by row index; empty when no kernel has one (no column then)."""
    found = {i: kernel_source(report, row) for i, row in enumerate(report.rows)}
    return found if any(found.values()) else {}


def _left_out_line(report: HloReport, hidden: list[tuple[int, KernelRow]], sort: str | None) -> str:
    """`... 12 more kernels (3.1% of bytes, 0.2% of FLOPs; --top 0 shows all)`."""
    shares = []
    for key, label in (("bytes", "bytes"), ("flops", "FLOPs")):
        total = sum(row_weight(r, key) for r in report.rows)
        if total > 0:
            part = sum(row_weight(r, key) for _, r in hidden)
            shares.append(f"{100 * part / total:.1f}% of {label}")
    weight = f"{', '.join(shares)}; " if shares else ""
    more = "more kernel" if len(hidden) == 1 else "more kernels"
    order = f" (sorted by {sort})" if sort else ""
    return f"... {len(hidden):,} {more}{order}: {weight}--top 0 shows all, --json lists all"


def report_table(report: HloReport, *, max_rows: int | None = None, sort: str | None = None) -> str:
    """The kernel table with its header and totals. `max_rows` keeps the first rows (after `sort`)."""
    measured = _is_measured(report)
    sources = _sources(report)
    columns = _columns(report, sources=bool(sources))
    ordered = sort_rows(report, sort)
    kept = ordered if max_rows is None or len(ordered) <= max_rows else ordered[:max_rows]
    comm = _has_comm(report)
    shown = [_row_cells(i, row, measured=measured, source=short_source(sources[i]) if sources else None,
                        comm=comm) for i, row in kept]
    widths = [len(c) for c in columns]
    for cells in shown:
        widths = [max(w, min(len(c), 48)) for w, c in zip(widths, cells, strict=True)]
    numeric = {k for k, column in enumerate(columns) if column in _NUMERIC}

    def line(cells: list[str]) -> str:
        out = []
        for k, (cell, width) in enumerate(zip(cells, widths, strict=True)):
            cell = cell if len(cell) <= width else cell[: width - 1] + "…"
            out.append(cell.rjust(width) if k in numeric else cell.ljust(width))
        return "  ".join(out).rstrip()

    t = report.cost
    chip = report.chip
    lines = [
        f"module {report.module.name} ({report.stage}, {report.module.instruction_count:,} instructions, "
        f"{plural(len(report.rows), 'kernel')}) on {chip.name}: "
        f"{_spaced(human_count(peak_flops_for(chip, 'f32')))}FLOP/s {peak_dtype_for(chip, 'f32')}, "
        f"{chip.mem_bandwidth / 1e9:,.0f} GB/s",
        "",
        line(list(columns)),
        line(["-" * w for w in widths]),
    ]
    lines += [line(cells) for cells in shown]
    if len(kept) < len(ordered):
        lines.append(_left_out_line(report, ordered[len(kept):], sort))
    lines += [
        "",
        f"total    {human_bytes(t.totals.bytes_accessed)} accessed, {human_count(t.totals.flops)} FLOPs, "
        f"{human_count(t.totals.transcendentals)} transcendentals (XLA's cost-analysis conventions)",
        *([f"estimate {human_bytes(report.estimated_totals.bytes_accessed)} accessed, "
           f"{human_count(report.estimated_totals.flops)} FLOPs: XLA counts {report.unknown_custom_calls} "
           "custom call(s) as -1, irscope costs them from their shapes, library configs and kernel bodies (irscope's estimate)"]
          if report.unknown_custom_calls else []),
        f"unfused  {human_bytes(t.unfused_bytes_accessed)} if every fused op ran as its own kernel: "
        f"fusion saved {100 * t.fusion_saved_fraction:.1f}% of memory traffic",
        f"t@peak   {human_time(report.time_at_peak_s)} (sum over kernels, loops × known trip counts)",
        *([line] if (line := comm_line(report)) else []),
    ]
    if t.trip_counts:
        known = ", ".join(f"{k}×{v if v is not None else '?'}" for k, v in t.trip_counts.items())
        w = t.totals_with_trip_counts
        lines.append(f"loops    {known}: with trip counts {human_bytes(w.bytes_accessed)} accessed, "
                     f"{human_count(w.flops)} FLOPs (irscope's estimate)")
    if report.measured is not None:
        lines += measured_lines(report)
    return "\n".join(lines)


def _timing_text(t: dict | None) -> str:
    if not t:
        return "-"
    spread = f" ±{50 * t['spread']:.0f}%" if t.get("spread") else ""
    return f"{human_time(t['median_s'])}{spread} (median of {t['repeats']})"


def _speedup_text(speedup: float | None) -> str:
    """eager time / JIT time -> ': JIT 2.10× faster than eager', or '1.23× slower' below 1."""
    if not speedup or not math.isfinite(speedup):
        return ""
    if speedup >= 1:
        return f": JIT {speedup:.2f}× faster than eager"
    return f": JIT {1 / speedup:.2f}× slower than eager"


def measured_lines(report: HloReport) -> list[str]:
    """The footer of a measured report: JIT and eager times, achieved rates, the trace match."""
    m = report.measured or {}
    lines = []
    if m.get("jit") or m.get("eager"):
        ratio = _speedup_text(m.get("speedup"))
        lines.append(f"measured jit {_timing_text(m.get('jit'))}, eager {_timing_text(m.get('eager'))}{ratio} "
                     f"(seed {m.get('seed')}, {m.get('backend')}; ± is half the interquartile range)")
    if m.get("achieved_bytes_per_s") is not None:
        chip = report.chip
        lines.append(
            f"achieved {m['achieved_bytes_per_s'] / 1e9:,.3g} GB/s = {human_percent(m['fraction_of_bandwidth'])} "
            f"of {chip.name}'s {chip.mem_bandwidth / 1e9:,.3g} GB/s, "
            f"{_spaced(human_count(m['achieved_flops_per_s']))}FLOP/s = "
            f"{human_percent(m['fraction_of_peak_flops'])} of its f32 peak; t@peak is "
            f"{human_percent(m['fraction_of_roofline'])} of the JIT time")
    trace = m.get("trace")
    if trace:
        unmatched = trace["unmatched_events"]
        listed = ", ".join(f"{e['name']} ×{e['count']} ({e['reason']})" for e in unmatched[:5])
        more = f" +{len(unmatched) - 5} more" if len(unmatched) > 5 else ""
        lines.append(f"trace    {trace['kernels_matched']}/{trace['kernels']} kernels matched to profiler events "
                     f"over {trace['runs']} runs; unmatched events: {listed + more if unmatched else 'none'}")
        if trace["unmatched_kernels"]:
            names = ", ".join(trace["unmatched_kernels"][:5])
            more = f" +{len(trace['unmatched_kernels']) - 5} more" if len(trace["unmatched_kernels"]) > 5 else ""
            lines.append(f"         kernels without events: {names}{more}")
        if trace["containers"]:
            names = ", ".join(f"{e['name']} ({human_time(e['total_s'] / max(trace['runs'], 1))}/run)"
                              for e in trace["containers"][:5])
            lines.append(f"         control flow timed as a whole (its kernels are matched on their own): {names}")
    return lines


def report_html(report: HloReport, max_rows: int = 200) -> str:
    measured = _is_measured(report)
    sources = _sources(report)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in _columns(report, sources=bool(sources)))
    body = []
    comm = _has_comm(report)
    for i, row in enumerate(report.rows[:max_rows]):
        cells = _row_cells(i, row, measured=measured, source=short_source(sources[i]) if sources else None,
                           comm=comm)
        body.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
    more = f"<p>… {len(report.rows) - max_rows} more kernels</p>" if len(report.rows) > max_rows else ""
    t = report.cost
    summary = (f"<p><b>{html.escape(report.module.name)}</b> on {html.escape(report.chip.name)}: "
               f"{human_bytes(t.totals.bytes_accessed)} accessed, {human_count(t.totals.flops)} FLOPs; "
               f"fusion saved {100 * t.fusion_saved_fraction:.1f}% of memory traffic</p>")
    return f"<div>{summary}<table><tr>{head}</tr>{''.join(body)}</table>{more}</div>"


def report_summary(report: HloReport, *, top: int = 3) -> str:
    """A few lines for a notebook's plain-text display: the module, kernel count, totals, the costliest
    kernels by time at peak. The full table is `to_text()`; the module itself is `report.module`."""
    t = report.totals
    header = (f"HloReport {report.module.name} ({report.stage}) on {report.chip.name}: "
              f"{plural(len(report.rows), 'kernel')}, {plural(report.module.instruction_count, 'instruction')}")
    lines = [header,
             f"  total {human_bytes(t.bytes_accessed)} accessed, {human_count(t.flops)} FLOPs, "
             f"t@peak {human_time(report.time_at_peak_s)}"]
    def at_peak(row: KernelRow) -> float:
        return row.roofline.time_at_peak_s * _runs(row)

    ranked = sorted(report.rows, key=lambda row: -at_peak(row))[:top]
    total_time = report.time_at_peak_s
    for row in ranked:
        share = f"{100 * at_peak(row) / total_time:.0f}%" if total_time > 0 else "-"
        lines.append(f"  {share:>4}  {row.name} ({row.kernel.kind}: {ops_summary(row.kernel.ops, limit=3)}), "
                     f"{human_bytes(row.cost.bytes_accessed)}, {human_count(row.cost.flops)} FLOPs")
    if len(report.rows) > top:
        lines.append("  (.to_text() for the table, .to_json() for the numbers)")
    return "\n".join(lines)
