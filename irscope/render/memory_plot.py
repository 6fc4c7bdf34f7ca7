"""The memory section of the HLO report, as text and as a picture.

`memory_text(analysis)` is the section printed after the kernel table; `memory_figure(analysis)`
draws live bytes over the schedule (a step plot, logical time on x), marks the peak, and stacks the
largest values live at the peak over their live ranges, each named; `write_memory_plot` writes it
as PNG or SVG (by the file's suffix), whole or not at all.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from irscope.errors import UserError
from irscope.passes.memory import MemoryAnalysis
from irscope.render.table import human_bytes, short_source
from irscope.util.files import write_atomic
from irscope.util.text import text_table

PLOT_FORMATS = (".png", ".svg")
# The y axis reaches this far above the most live bytes, so the peak's label has a free band to sit in.
_HEADROOM = 1.25


def _figure_line(label: str, value: int | None, provenance: str) -> str:
    shown = "unknown" if value is None else f"{human_bytes(value)} ({value:,} B)"
    return f"  {label:<10} {shown}  [{provenance}]"


def memory_text(analysis: MemoryAnalysis, *, max_rows: int = 10) -> str:
    """Arguments, outputs, aliases, temps and the peak, then the largest values live at the peak."""
    p = analysis.provenance
    lines = [f"memory of {analysis.module}:"]
    for label, key in (("arguments", "argument_bytes"), ("outputs", "output_bytes"), ("aliased", "alias_bytes"),
                       ("temps", "temp_bytes"), ("peak", "peak_bytes")):
        lines.append(_figure_line(label, getattr(analysis, key), p.get(key, "unknown")))
    if analysis.peak_index is not None:
        lines[-1] += f" at {analysis.peak_index} of {len(analysis.schedule)} ({analysis.peak_instruction})"
    if analysis.peak_allocated_bytes is not None and analysis.peak_allocated_bytes != analysis.peak_bytes:
        lines.append(f"  allocated  {human_bytes(analysis.peak_allocated_bytes)} ({analysis.peak_allocated_bytes:,} B) "
                     "at the peak in main memory: the same values padded to whole tiles, without those in other "
                     "memory spaces (S(1): on-chip VMEM); XLA's live-range peak counts logical sizes in every space")
    if analysis.max_live_index is not None and analysis.max_live_index != analysis.peak_index:
        lines.append(f"  most live  {human_bytes(analysis.max_live_bytes or 0)} ({analysis.max_live_bytes:,} B) at "
                     f"{analysis.max_live_index} ({analysis.schedule[analysis.max_live_index]}); XLA's peak search adds "
                     "the values born at T before it drops those that died at T-1, and sizes a tuple-shaped "
                     "instruction's values by its index table, so its peak can sit elsewhere")
    if analysis.xla is not None and analysis.xla.get("peak_bytes") is not None:
        xla = analysis.xla
        same = "equal" if (xla["peak_bytes"], xla["peak_index"]) == (analysis.peak_bytes, analysis.peak_index) \
            else "differs"
        lines.append(f"  XLA's live-range peak: {xla['peak_bytes']:,} B at {xla['peak_index']} ({same})")
    if analysis.note:
        lines.append(f"  note: {analysis.note}")
    if analysis.live_at_peak:
        rows = [[b.name, human_bytes(b.bytes), b.shape, b.kernel, f"{b.start}-{b.end}", short_source(b.source) if b.source else (b.op_name or "")]
                for b in analysis.live_at_peak[:max_rows]]
        lines.append("live at the peak, largest first:")
        lines.extend("  " + line for line in text_table(["value", "bytes", "shape", "kernel", "live", "source"],
                                                         rows, right={1}))
        rest = analysis.live_at_peak[max_rows:]
        if rest:
            lines.append(f"  ... {len(rest)} more, {human_bytes(sum(b.bytes for b in rest))}")
    return "\n".join(lines)


def memory_figure(analysis: MemoryAnalysis, *, top: int = 6) -> Any:
    """A matplotlib figure of live bytes over the schedule, the peak marked, the largest values stacked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if analysis.peak_index is None or not analysis.live_bytes:
        raise UserError(f"{analysis.module}: no schedule, so there is no live-bytes curve to draw")
    n = len(analysis.live_bytes)
    xs = list(range(n))
    scale, unit = _unit(max(analysis.live_bytes))
    fig, ax = plt.subplots(figsize=(12, 4.5))
    shown = analysis.live_at_peak[:top]
    layers = [[b.bytes / scale if b.start <= t <= b.end else 0.0 for t in xs] for b in shown]
    # Everything but the largest values at the peak is the grey base; the named values stack on it.
    stacked = [max(total / scale - sum(layer[t] for layer in layers), 0.0)
               for t, total in enumerate(analysis.live_bytes)]
    ax.fill_between(xs, [0.0] * n, stacked, step="post", color="0.85", label="all other live values")
    for buffer, layer in zip(shown, layers, strict=True):
        top_edge = [a + b for a, b in zip(stacked, layer, strict=True)]
        ax.fill_between(xs, stacked, top_edge, step="post", alpha=0.7,
                        label=f"{buffer.name} {buffer.shape} ({human_bytes(buffer.bytes)})")
        stacked = top_edge
    ax.step(xs, [b / scale for b in analysis.live_bytes], where="post", color="black", linewidth=1.2,
            label="all live bytes")
    peak = analysis.live_bytes[analysis.peak_index] / scale
    ax.axvline(analysis.peak_index, color="crimson", linestyle="--", linewidth=1)
    # The label sits in the band above the curve (the y axis leaves it free), in the corner away from
    # the peak, with an arrow to it: it never covers the curve, the stack or the legend (outside).
    left = analysis.peak_index > n / 2
    ax.annotate(f"XLA's peak {human_bytes(analysis.peak_bytes or 0)} at {analysis.peak_index} "
                f"({analysis.peak_instruction})", xy=(analysis.peak_index, peak), xycoords="data",
                xytext=(0.02 if left else 0.98, 0.95), textcoords="axes fraction", ha="left" if left else "right",
                va="top", color="crimson", fontsize=8,
                arrowprops={"arrowstyle": "->", "color": "crimson", "linewidth": 0.8})
    if analysis.max_live_index is not None and analysis.max_live_index != analysis.peak_index:
        ax.axvline(analysis.max_live_index, color="0.4", linestyle=":", linewidth=1,
                   label=f"most live bytes: {human_bytes(analysis.max_live_bytes or 0)} at {analysis.max_live_index}")
    ax.set_xlabel("schedule (logical time: instruction index, loop bodies flattened)")
    ax.set_ylabel(f"live {unit}")
    ax.set_title(f"{analysis.module}: live bytes over the schedule")
    ax.set_xlim(0, max(n - 1, 1))
    ax.set_ylim(0, max(analysis.live_bytes) / scale * _HEADROOM or 1.0)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False)
    fig.tight_layout()
    return fig


def write_memory_plot(analysis: MemoryAnalysis, path: str | Path) -> None:
    """Write `memory_figure` to `path` (.png or .svg)."""
    suffix = Path(path).suffix.lower()
    if suffix not in PLOT_FORMATS:
        raise UserError(f"--memory-plot {path}: give a .png or .svg file name")
    import matplotlib.pyplot as plt

    fig = memory_figure(analysis)
    buffer = io.BytesIO()
    fig.savefig(buffer, format=suffix[1:], dpi=110)
    plt.close(fig)
    write_atomic(str(path), buffer.getvalue(), make_dirs=False)


def _unit(largest: int) -> tuple[float, str]:
    for scale, unit in ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if largest >= scale:
            return float(scale), unit
    return 1.0, "bytes"
