"""The XLA pass timeline as text: one row per pass that changed the module, with what it left behind.

    #  pipeline / pass                                  instrs     Δ  fusions  kernels    bytes   FLOPs   t@peak
    -  (input)                                              29             0       12  1.1 MiB    4.4M  1.2 us
   11  dot-library-passes / dot-library-rewriter            33    +4       1       10  ...

`#` is XLA's dump number (what `--pass N` takes); `Δ` the change in instruction count. Dumps where
nothing changed (pipeline starts, nested pipelines' ends) are left out unless `show_all`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from irscope.render.diff_text import signed
from irscope.render.table import human_bytes, human_count, human_time
from irscope.util.text import text_table

if TYPE_CHECKING:
    from irscope.passes.pipeline import PassTimeline

COLUMNS = ("#", "pipeline / pass", "instrs", "Δ", "fusions", "kernels", "bytes", "FLOPs", "t@peak")
_LABEL_WIDTH = 72


def pass_timeline_text(timeline: PassTimeline, *, show_all: bool = False) -> str:
    shown = timeline.steps if show_all else timeline.changed
    changed = sum(1 for s in timeline.steps if s.changed)
    rows = []
    previous = None
    for s in shown:
        label = s.label if len(s.label) <= _LABEL_WIDTH else s.label[: _LABEL_WIDTH - 1] + "…"
        if not s.changed and s.index:
            label += "  (no change)"
        delta = "" if previous is None else signed(s.instructions - previous.instructions, lambda x: f"{x:,.0f}")
        rows.append([s.number if s.step is not None else "-", label, f"{s.instructions:,}", delta,
                     f"{s.fusions:,}", f"{s.kernels:,}", human_bytes(s.bytes_accessed), human_count(s.flops),
                     human_time(s.time_at_peak_s)])
        previous = s
    lines = [
        f"XLA pass timeline of {timeline.module}: {len(timeline.steps):,} dumps, {changed:,} passes changed the "
        f"module (t@peak on {timeline.chip})",
        "",
        *text_table(COLUMNS, rows, right=set(range(len(COLUMNS))) - {1}),
    ]
    hidden = len(timeline.steps) - len(shown)
    lines += ["", "# is XLA's dump number: `--pass N` (or `--pass NAME`) diffs the module before and after that pass"]
    if hidden:
        lines.append(f"{hidden:,} dumps where nothing changed (pipeline starts and ends) are not shown")
    return "\n".join(lines)
