"""How a `LayerErrors` (irscope.passes.quant_error) looks: the per-layer table, and the SQNR-per-layer
figure (PNG or SVG through matplotlib) with the layers that lose most named on it.

The same error as colours on the TFLite graph: `irscope.render.tflite.sqnr_view` (SVG) and `annotate_sqnr`
(the Model Explorer `sqnr` overlay).
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

from irscope.render.table import human_bytes, plural

LOW_SQNR_DB = 20.0
"""Below this the quantized tensor's error is more than a tenth of its signal (RMS): marked `!` in the table."""


def _db(x: float | None) -> str:
    if x is None:
        return "-"
    if math.isinf(x):
        return "exact" if x > 0 else "-inf"
    return f"{x:.1f}"


def _lost(layer: Any) -> str:
    lost = layer.lost_db
    if lost is None:
        return "-"
    if math.isinf(lost):
        return "starts"
    return f"{lost:+.1f}"


def short_name(name: str, width: int = 48) -> str:
    """A tensor name cut to `width`: the last ';'-part with a scope in it (the op that produced it; a
    bare part like `1` is a converter's suffix), its tail kept."""
    parts = [p for p in name.split(";") if p]
    part = next((p for p in reversed(parts) if "/" in p), parts[-1] if parts else name)
    return part if len(part) <= width else "..." + part[-(width - 3):]


def layers_text(result: Any, *, max_rows: int | None = None, worst: int = 5) -> str:
    """The per-layer table, the unmatched tensors with their reasons, and how the error grows."""
    lines = [f"layer error  {result.quant_source} ({human_bytes(result.quant_size)}) against "
             f"{result.float_source} ({human_bytes(result.float_size)})",
             f"inputs       {plural(result.samples, 'sample')}, {result.sample_source}; builtin kernels, every tensor kept",
             ""]
    header = f"{'#':>4}  {'op':<20} {'dtype':<8} {'SQNR dB':>8} {'lost dB':>8} {'max abs':>10} {'RMSE':>10} {'cosine':>8}  {'match':<10} tensor"
    lines += [header, "-" * len(header)]
    rows = list(result.layers)
    shown = rows if not max_rows or len(rows) <= max_rows else rows[:max_rows]
    for x in shown:
        idx = "in" if x.op < 0 else str(x.op)
        if x.error is None:
            lines.append(f"{idx:>4}  {x.opcode:<20} {x.dtype:<8} {'-':>8} {'-':>8} {'-':>10} {'-':>10} {'-':>8}  "
                         f"{'none':<10} {short_name(x.tensor)}  ({x.match.reason})")
            continue
        e = x.error
        flag = "!" if e.sqnr_db < LOW_SQNR_DB else " "
        lines.append(f"{idx:>4}  {x.opcode:<20} {x.dtype:<8} {_db(e.sqnr_db):>7}{flag} {_lost(x):>8} "
                     f"{e.max_abs_error:>10.3g} {e.rmse:>10.3g} {e.cosine:>8.5f}  {x.match.via:<10} {short_name(x.tensor)}")
    if len(shown) < len(rows):
        lines.append(f"... {len(rows) - len(shown)} more rows (--max-rows 0 shows all)")
    lines.append("")
    matched, unmatched = result.matched, result.unmatched
    lines.append(f"matched      {len(matched)} of {plural(len(rows), 'tensor')}"
                 + (f"; unmatched: {len(unmatched)} (reasons in the table)" if unmatched else "")
                 + (f"; {plural(result.weight_dequantize_ops, 'weight DEQUANTIZE op')} left out (not layers)"
                    if result.weight_dequantize_ops else ""))
    if result.unmatched_float_ops:
        lines.append(f"float only   {plural(len(result.unmatched_float_ops), 'float op')} with no quantized "
                     f"counterpart: {', '.join(result.unmatched_float_ops[:4])}"
                     + (" ..." if len(result.unmatched_float_ops) > 4 else ""))
    lines.append(growth_line(result))
    for k, x in enumerate(result.worst(worst)):
        loses = "starts the error" if x.lost_db == math.inf else f"loses {_lost(x)} dB"
        lines.append(f"{'worst' if k == 0 else '':<12} #{x.op} {x.opcode} {loses}: {short_name(x.tensor, 80)}")
    lines.append("             SQNR = 10 log10(sum f^2 / sum (q-f)^2); lost = worst input SQNR - output SQNR; "
                 f"! below {LOW_SQNR_DB:g} dB")
    return "\n".join(lines)


def growth_line(result: Any) -> str:
    """`growth  SQNR 48.5 dB after the first layer -> 37.2 dB at the output (-11.3 dB over 9 layers)`."""
    compute = [x for x in result.matched if x.opcode != "INPUT" and x.op >= 0]
    finite = [x for x in compute if x.error and math.isfinite(x.error.sqnr_db)]
    if not finite:
        return "growth       no layer differs from the float model"
    first, last = finite[0], compute[-1]
    if last.error is None or not math.isfinite(last.error.sqnr_db):
        return f"growth       the first error appears at #{first.op} {first.opcode} ({_db(first.error.sqnr_db)} dB)"
    return (f"growth       SQNR {_db(first.error.sqnr_db)} dB at #{first.op} {first.opcode} (the first inexact layer) "
            f"-> {_db(last.error.sqnr_db)} dB at the output #{last.op} {last.opcode} "
            f"({last.error.sqnr_db - first.error.sqnr_db:+.1f} dB over {plural(len(compute) - compute.index(first) - 1, 'layer')})")


def layers_html(result: Any) -> str:
    import html

    return f"<pre>{html.escape(layers_text(result))}</pre>"


def sqnr_figure(result: Any, *, worst: int = 5) -> Any:
    """A matplotlib Figure: SQNR (dB) per layer in execution order, the worst layers named."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [x for x in result.matched if x.op >= 0]
    xs = list(range(len(rows)))
    finite = [x.error.sqnr_db for x in rows if x.error and math.isfinite(x.error.sqnr_db)]
    cap = (max(finite) + 10) if finite else 100.0  # exact tensors drawn at the top, marked
    ys = [min(x.error.sqnr_db, cap) if x.error else math.nan for x in rows]
    fig, ax = plt.subplots(figsize=(max(6.0, min(18.0, 0.12 * len(rows) + 4)), 4.2), dpi=110)
    colours = ["#c0392b" if y < LOW_SQNR_DB else "#2c7fb8" for y in ys]
    ax.plot(xs, ys, color="#999999", linewidth=0.8, zorder=1)
    ax.scatter(xs, ys, c=colours, s=14, zorder=2)
    ax.axhline(LOW_SQNR_DB, color="#c0392b", linestyle=":", linewidth=0.8)
    names = {id(x) for x in result.worst(worst)}
    _name_worst(fig, ax, [(k, ys[k], f"#{x.op} {x.opcode}\n{short_name(x.tensor, 28)}")
                          for k, x in enumerate(rows) if id(x) in names])
    ax.set_xlabel("layer (quantized model's operators, execution order)")
    ax.set_ylabel("SQNR against float (dB)")
    ax.set_title(f"{Path(result.quant_source).name} vs {Path(result.float_source).name}: per-layer SQNR "
                 f"({plural(result.samples, 'sample')}); worst {min(worst, len(names))} named", fontsize=9)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


# Where a worst layer's label may go, in points from its dot: below right first (the line falls
# left to right), then above, further below and above, and to the left.
_LABEL_OFFSETS = tuple((dx, dy) for dx in (4, -120, 60, -180) for dy in (-22, 10, -46, 34, -70, 58, -94, 82))


def _name_worst(fig: Any, ax: Any, points: list[tuple[int, float, str]]) -> None:
    """Label each (x, y, text) at the first offset whose text box overlaps no label placed before it and
    stays inside the axes (else where it overlaps least), so neighbouring worst layers do not print
    over each other."""
    from matplotlib.transforms import Bbox

    fig.canvas.draw()  # fixes the axes' limits, so data points have their display positions
    renderer = fig.canvas.get_renderer()
    inside = ax.get_window_extent(renderer)
    placed: list[Any] = []

    def clash(box: Any) -> float:
        overlaps = (Bbox.intersection(box, other) for other in placed)
        return (0.0 if inside.contains(box.x0, box.y0) and inside.contains(box.x1, box.y1) else 1e9) + \
            sum(o.width * o.height for o in overlaps if o is not None)

    for k, y, text in sorted(points, key=lambda p: p[0]):
        if not math.isfinite(y):
            continue
        best: tuple[float, tuple[int, int], Any] | None = None
        for offset in _LABEL_OFFSETS:  # measured without the arrow, whose extent would count too
            trial = ax.annotate(text, (k, y), textcoords="offset points", xytext=offset, fontsize=7)
            box = trial.get_window_extent(renderer)
            trial.remove()
            if best is None or clash(box) < best[0]:
                best = (clash(box), offset, box)
            if best[0] == 0:
                break
        assert best is not None
        ax.annotate(text, (k, y), textcoords="offset points", xytext=best[1], fontsize=7, color="#c0392b",
                    arrowprops={"arrowstyle": "-", "color": "#c0392b", "linewidth": 0.5})
        placed.append(best[2])


def sqnr_plot_bytes(result: Any, fmt: str) -> bytes:
    """The figure as `png` or `svg` bytes."""
    import matplotlib.pyplot as plt

    fig = sqnr_figure(result)
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt)
    plt.close(fig)
    return buf.getvalue()
