"""TFLite reports as text and pictures: the per-op precision table, the side-by-side comparison of two
models, and the kernel graph coloured by precision or, for a quantized model compared with its float
original (`irscope.passes.quant_error`), by each layer's SQNR (`sqnr_view`; `annotate_sqnr` puts the same
numbers on the graph for the Model Explorer `sqnr` overlay).

The table and the comparison are plain functions of `irscope.passes.quantization.TFLiteAnalysis` (and
of measured numbers the caller passes in); `precision_view` reuses the HLO side's graph drawing
(`irscope.render.dot.build_view`) and only recolours its nodes, so layout, repeat collapsing and
Graphviz time limits are the same.

Not handled yet: an HTML table for notebooks, and aligning two models' operators by tensor names
(the comparison aligns opcode sequences, so a reordered graph shows as inserts and deletes).
"""

from __future__ import annotations

import difflib
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import networkx as nx

from irscope.ir.tflite import quantization_summary
from irscope.passes.quantization import OpInfo, TFLiteAnalysis
from irscope.render.table import human_bytes, human_count, human_time
from irscope.util.text import text_table as _grid

PRECISION_COLORS: Mapping[str, str] = {
    "float32": "#fb8072",
    "float16": "#fdb462",
    "bfloat16": "#fccde5",
    "hybrid": "#bebada",
    "int8": "#80b1d3",
    "uint8": "#8dd3c7",
    "int16": "#b3de69",
    "boundary": "#ffed6f",
    "other": "#d9d9d9",
}
"""Fill colour per precision (ColorBrewer Set3): floats warm, integers cool, QUANTIZE/DEQUANTIZE yellow."""

# ---------------------------------------------------------------------------------------------
# The table


def op_label(info: OpInfo) -> str:
    """`CONV_2D+RELU6`."""
    return info.opcode + (f"+{info.activation}" if info.activation else "")


def weights_label(info: OpInfo) -> str:
    """`int8 per-ch`, `int4 block32`, `float16 deq`, or `-`."""
    if info.weights is None:
        return "-"
    parts = [info.weights]
    if info.weights_quantization == "blockwise":
        parts.append(f"block{info.weights_block_size}")
    elif info.weights_quantization in ("multi_axis", "custom"):
        parts.append(info.weights_quantization.replace("_", "-"))
    elif info.weights_per_channel:
        parts.append("per-ch")
    if info.weights_dequantized and info.boundary is None:
        parts.append("deq")
    return " ".join(parts)


def note(info: OpInfo, analysis: TFLiteAnalysis) -> str:
    sg = analysis.model.subgraphs[info.subgraph]
    if info.fallback:
        return "float fallback"
    if info.boundary == "dequantize-weights":
        return "weights, once at load"
    if info.boundary is not None:
        op = sg.operators[info.index]
        at = ""
        if any(t in sg.inputs for t in op.inputs):
            at = " (model input)"
        elif any(t in sg.outputs for t in op.outputs):
            at = " (model output)"
        src = info.inputs[0] if info.inputs else "?"
        dst = info.outputs[0] if info.outputs else "?"
        return f"{info.boundary} {src}→{dst}{at}"
    return ""


def precision_summary(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{p} ×{n}" for p, n in sorted(counts.items(), key=lambda kv: -kv[1]))


def size_line(analysis: TFLiteAnalysis) -> str:
    s = analysis.size
    by_dtype = ", ".join(f"{d} {human_bytes(n)}" for d, n in s.weights.items()) or "none"
    return (f"size       {human_bytes(s.total)} = weights {human_bytes(s.weights_total)} ({by_dtype}) "
            f"+ graph {human_bytes(s.graph)} + metadata {human_bytes(s.metadata)}")


def report_table(analysis: TFLiteAnalysis, *, subgraph: int = 0, max_rows: int | None = 60,
                 chip_name: str | None = None) -> str:
    """The per-op table of one subgraph with the model's header and footer lines."""
    model = analysis.model
    sg = model.subgraphs[subgraph]
    infos = analysis.ops[subgraph]
    ins, outs = analysis.io_dtypes()
    n_ops = sum(len(s.operators) for s in model.subgraphs)
    lines = [
        f"{model.source}: {analysis.mode} ({'/'.join(ins) or '-'} in, {'/'.join(outs) or '-'} out), "
        f"{n_ops} ops in {len(model.subgraphs)} subgraph{'s' if len(model.subgraphs) != 1 else ''}",
        size_line(analysis),
        f"precision  {precision_summary(Counter(i.precision for i in infos))}"
        + (f" (subgraph {subgraph})" if len(model.subgraphs) > 1 else ""),
        "",
    ]
    graph = analysis.graph(subgraph) if chip_name else None
    header = ["#", "op", "precision", "weights", "output", "quantization", "MACs", "bytes", "FLOP/B"]
    if chip_name:
        header += ["bound", "t@peak"]
    header.append("note")
    rows = []
    shown = infos if not max_rows else infos[:max_rows]
    for info in shown:
        op = sg.operators[info.index]
        out = sg.tensors[op.outputs[0]] if op.outputs and op.outputs[0] >= 0 else None
        moved = info.bytes_read + info.bytes_written
        row = [str(info.index), op_label(info), info.precision, weights_label(info),
               out.type_str if out is not None else "-",
               (quantization_summary(out) or "-") if out is not None else "-",
               human_count(info.macs) if info.macs else "-", human_bytes(moved),
               f"{info.flops / moved:.2f}" if moved and info.flops else "-"]
        if graph is not None:
            attrs = graph.nodes[f"{op.opcode.lower()}_{op.index}"]
            row += [str(attrs.get("bound") or "-"), human_time(attrs.get("time_at_peak_s"))]
        row.append(note(info, analysis))
        rows.append(row)
    right = {0, 6, 7, 8} | ({9, 10} if chip_name else set())
    lines += _grid(header, rows, right=sorted(right))
    if max_rows and len(infos) > max_rows:
        lines.append(f"... {len(infos) - max_rows} more ops (--max-rows 0 for all)")
    lines.append("")
    totals = analysis.totals()
    lines.append(f"total      {human_count(totals['macs'])} MACs, {human_count(totals['flops'])} FLOPs, "
                 f"{human_bytes(totals['bytes_accessed'])} read+written by ops (all subgraphs)")
    lines.append(f"boundaries {_boundary_text(analysis)}")
    lines.append(f"fallbacks  {fallback_text(analysis)}")
    return "\n".join(lines)


def _boundary_text(analysis: TFLiteAnalysis) -> str:
    found = Counter()
    for info in analysis.boundaries:
        src = info.inputs[0] if info.inputs else (info.weights or "?")
        dst = info.outputs[0] if info.outputs else "?"
        found[f"{info.opcode} {src}→{dst}" + (" (weights)" if info.boundary == "dequantize-weights" else "")] += 1
    if not found:
        return "none"
    return ", ".join(f"{k} ×{n}" if n > 1 else k for k, n in found.items())


def fallback_text(analysis: TFLiteAnalysis) -> str:
    """Which ops still compute in float in a quantized model, and why when it can be said."""
    fallbacks = analysis.fallbacks
    if analysis.mode in ("fp32", "fp16"):
        return "n/a (a float model)"
    if not fallbacks:
        return "none: every op computes in integer" if analysis.mode != "dynamic" else "none"
    kinds = Counter(op_label(f).split("+")[0] for f in fallbacks)
    verb = "op computes" if len(fallbacks) == 1 else "ops compute"
    text = f"{len(fallbacks)} {verb} in float: " + ", ".join(
        f"{k} ×{n}" if n > 1 else k for k, n in kinds.most_common())
    if analysis.mode == "dynamic":
        small = True
        for f in fallbacks:
            sg = analysis.model.subgraphs[f.subgraph]
            op = sg.operators[f.index]
            w = sg.tensors[op.inputs[1]] if len(op.inputs) > 1 and op.inputs[1] >= 0 else None
            small = small and w is not None and w.elements < 1024
        if small:
            text += " (their weights have fewer than 1024 elements, which dynamic-range quantization leaves float)"
    return text


# ---------------------------------------------------------------------------------------------
# Two models side by side


def compare_text(a: TFLiteAnalysis, b: TFLiteAnalysis, *, latency: Sequence[Any] | None = None,
                 drift: Sequence[Any] | None = None, max_rows: int | None = 60) -> str:
    """Size, per-op precision, latency and output drift of two models (B against A)."""
    lines = [f"A  {a.model.source} ({a.mode})", f"B  {b.model.source} ({b.mode})", ""]
    ta, tb = a.totals(), b.totals()
    rows = [
        ["size", human_bytes(a.size.total), human_bytes(b.size.total), _ratio(b.size.total, a.size.total)],
        ["weights", human_bytes(a.size.weights_total), human_bytes(b.size.weights_total),
         _ratio(b.size.weights_total, a.size.weights_total)],
        ["ops", str(len(a.all_ops())), str(len(b.all_ops())), _ratio(len(b.all_ops()), len(a.all_ops()))],
        ["MACs", human_count(ta["macs"]), human_count(tb["macs"]), _ratio(tb["macs"], ta["macs"])],
        ["bytes read+written", human_bytes(ta["bytes_accessed"]), human_bytes(tb["bytes_accessed"]),
         _ratio(tb["bytes_accessed"], ta["bytes_accessed"])],
    ]
    if latency is not None:
        la, lb = latency
        rows.append([f"latency ({la.threads} thread{'s' if la.threads > 1 else ''}, median)",
                     human_time(la.median_s), human_time(lb.median_s), _ratio(lb.median_s, la.median_s)])
    lines += _grid(["", "A", "B", "B/A"], rows, right=[1, 2, 3])
    if latency is not None:
        la = latency[0]
        lines.append(f"(latency: median of {len(la.samples)} runs after {la.warmup} warm-up, {la.runtime}, "
                     f"delegate {la.delegate})")
    if drift is not None:
        lines.append("")
        for d in drift:
            lines.append(f"drift      output {d.output}: max abs error {d.max_abs_error:.3g}, "
                         f"cosine similarity {d.cosine_similarity:.6f} (B against A, same random inputs)")
    lines += ["", "precision by op type"]
    kinds = list(dict.fromkeys([i.opcode for i in a.all_ops()] + [i.opcode for i in b.all_ops()]))
    rows = [[k, _kind_precisions(a, k), _kind_precisions(b, k)] for k in kinds]
    lines += _grid(["op", "A", "B"], rows)
    lines += ["", "per op (aligned by opcode sequence)"]
    lines += _aligned(a.main, b.main, max_rows)
    return "\n".join(lines)


def _ratio(x: float, y: float) -> str:
    return f"{x / y:.2f}" if y else "-"


def _kind_precisions(analysis: TFLiteAnalysis, kind: str) -> str:
    counts = Counter(i.precision for i in analysis.all_ops() if i.opcode == kind)
    return precision_summary(counts) if counts else "-"


def _aligned(a: Sequence[OpInfo], b: Sequence[OpInfo], max_rows: int | None) -> list[str]:
    matcher = difflib.SequenceMatcher(None, [i.opcode for i in a], [i.opcode for i in b], autojunk=False)
    rows: list[list[str]] = []
    for _, i1, i2, j1, j2 in matcher.get_opcodes():
        left, right = list(a[i1:i2]), list(b[j1:j2])
        for k in range(max(len(left), len(right))):
            la = left[k] if k < len(left) else None
            rb = right[k] if k < len(right) else None
            changed = la is not None and rb is not None and la.precision != rb.precision
            rows.append([
                str(la.index) if la else "", op_label(la) if la else "", la.precision if la else "",
                str(rb.index) if rb else "", op_label(rb) if rb else "", rb.precision if rb else "",
                "*" if changed else "",
            ])
    shown = rows if not max_rows else rows[:max_rows]
    out = _grid(["A#", "A op", "A precision", "B#", "B op", "B precision", ""], shown, right=[0, 3])
    if max_rows and len(rows) > max_rows:
        out.append(f"... {len(rows) - max_rows} more rows (--max-rows 0 for all)")
    return out


# ---------------------------------------------------------------------------------------------
# The graph coloured by precision


def _node_precision(attrs: Mapping[str, Any]) -> str:
    if attrs.get("boundary") in ("quantize", "requantize", "dequantize"):
        return "boundary"
    precision = attrs.get("precision") or attrs.get("dtype") or "other"  # inputs and constants: their dtype
    return precision if precision in PRECISION_COLORS else "other"


def precision_view(graph: nx.MultiDiGraph, **build_kwargs: Any) -> Any:
    """`irscope.render.dot.build_view` of a TFLite kernel graph, nodes filled by precision, with a legend.

    A kernel's first label line becomes `<precision> · <ops>`; inputs and constants take the colour of
    their dtype (so int8 weights are blue), QUANTIZE/DEQUANTIZE boundaries are yellow.
    """
    from irscope.render.dot import build_view

    view = build_view(graph, **build_kwargs)
    used: dict[str, str] = {}
    nodes = []
    for node in view.nodes:
        attrs = graph.nodes[node.copy_of or node.id] if (node.copy_of or node.id) in graph else {}
        key = _node_precision(attrs)
        used[key] = PRECISION_COLORS[key]
        lines = node.lines
        if attrs.get("kind") == "op" and lines:
            lines = (f"{attrs.get('precision')} · {lines[0]}", *lines[1:])
        nodes.append(replace(node, fill=PRECISION_COLORS[key], lines=lines))
    order = list(PRECISION_COLORS)
    legend = tuple(sorted(used.items(), key=lambda kv: order.index(kv[0])))
    # The legend's title is the view's color_by: say what the colours mean here.
    return replace(view, nodes=tuple(nodes), legend=legend, color_by="precision")  # type: ignore[arg-type]


def precision_svg(graph: nx.MultiDiGraph, *, timeout_s: float = 60, **build_kwargs: Any) -> str:
    """The SVG of `precision_view` (Graphviz; `irscope.render.dot.RenderError` when it cannot draw)."""
    return precision_view(graph, **build_kwargs).to_svg(timeout_s=timeout_s)


# ---------------------------------------------------------------------------------------------
# The graph coloured by per-layer quantization error (irscope.passes.quant_error)

SQNR_BANDS: tuple[tuple[float, str, str], ...] = (
    (40.0, "≥ 40 dB", "#66bd63"),
    (30.0, "30-40 dB", "#a6d96a"),
    (20.0, "20-30 dB", "#d9ef8b"),
    (10.0, "10-20 dB", "#fee08b"),
    (0.0, "0-10 dB", "#fdae61"),
    (-math.inf, "< 0 dB", "#f46d43"),
)
"""(lower bound, legend entry, fill) from best to worst (ColorBrewer RdYlGn, its light classes so black text
stays readable): 20 dB is an RMS error of 10% of the signal (`irscope.render.quant_layers.LOW_SQNR_DB`), so
yellow to red are the layers to look at."""
SQNR_EXACT = ("exact", "#1a9850")
"""A tensor equal to its float counterpart (shape arithmetic, an int8 input that is exactly representable)."""
SQNR_NONE = ("not compared", PRECISION_COLORS["other"])
"""Weights, and tensors that could not be matched to the float model."""
SQNR_LEGEND_TITLE = "SQNR against float"


def sqnr_values(graph: nx.MultiDiGraph, layers: Any) -> dict[str, Any]:
    """Node -> the `irscope.passes.quant_error.Layer` of its output, for the nodes of a TFLite kernel graph
    of the quantized model (`TFLiteAnalysis.graph(0)`, or Model Explorer's relabelled copy) that were compared:
    operators by their index, graph inputs by their tensor index. Nodes left out were not compared."""
    by_op = {x.op: x for x in layers.layers if x.op >= 0 and x.error is not None}
    by_input = {x.match.quant: x for x in layers.layers if x.op < 0 and x.error is not None}
    out: dict[str, Any] = {}
    for node, attrs in graph.nodes(data=True):
        if attrs.get("kind") == "op" and attrs.get("index") in by_op:
            out[node] = by_op[attrs["index"]]
        elif attrs.get("kind") == "parameter" and attrs.get("tensor") in by_input:
            out[node] = by_input[attrs["tensor"]]
    return out


def sqnr_band(sqnr_db: float | None) -> tuple[str, str]:
    """(legend entry, fill) of an SQNR in dB; None: not compared."""
    if sqnr_db is None or math.isnan(sqnr_db):
        return SQNR_NONE
    if sqnr_db == math.inf:
        return SQNR_EXACT
    return next((label, fill) for low, label, fill in SQNR_BANDS if sqnr_db >= low)


def _db_text(x: float | None) -> str:
    if x is None:
        return "-"
    return ("exact" if x > 0 else "-inf") if math.isinf(x) else f"{x:.1f}"


def sqnr_view(graph: nx.MultiDiGraph, layers: Any, **build_kwargs: Any) -> Any:
    """`irscope.render.dot.build_view` of the quantized model's kernel graph (subgraph 0), each node filled by
    its output's SQNR against the float model (`SQNR_BANDS`), with the dB scale as the legend.

    An operator's first label line becomes `<SQNR> dB · lost <dB> · <ops>`; weights and unmatched tensors are
    grey. Repeats are not collapsed unless asked (`collapse_repeats=True`): each layer has its own error.
    """
    from irscope.render.dot import build_view

    build_kwargs.setdefault("collapse_repeats", False)
    view = build_view(graph, **build_kwargs)
    values = sqnr_values(graph, layers)
    used: dict[str, str] = {}
    nodes = []
    for node in view.nodes:
        layer = values.get(node.copy_of or node.id)
        label, fill = sqnr_band(layer.error.sqnr_db if layer is not None else None)
        used[label] = fill
        lines = node.lines
        if layer is not None and layer.op >= 0 and lines:
            lost = layer.lost_db
            lost_text = "" if lost is None else (" · error starts" if lost == math.inf else f" · lost {lost:+.1f}")
            lines = (f"{_db_text(layer.error.sqnr_db)} dB{lost_text} · {lines[0]}", *lines[1:])
        nodes.append(replace(node, fill=fill, lines=lines))
    order = [SQNR_EXACT[0], *(label for _, label, _ in SQNR_BANDS), SQNR_NONE[0]]
    legend = tuple(sorted(used.items(), key=lambda kv: order.index(kv[0])))
    # The legend's title is the view's color_by.
    return replace(view, nodes=tuple(nodes), legend=legend, color_by=SQNR_LEGEND_TITLE)  # type: ignore[arg-type]


def sqnr_svg(graph: nx.MultiDiGraph, layers: Any, *, timeout_s: float = 60, **build_kwargs: Any) -> str:
    """The SVG of `sqnr_view` (Graphviz; `irscope.render.dot.RenderError` when it cannot draw)."""
    return sqnr_view(graph, layers, **build_kwargs).to_svg(timeout_s=timeout_s)


def annotate_sqnr(graph: nx.MultiDiGraph, layers: Any) -> nx.MultiDiGraph:
    """Set `sqnr_db` and `lost_db` on the compared nodes of `graph` (in place; finite values only, as Model
    Explorer's gradient needs numbers) and return it: what the Model Explorer `sqnr` overlay shows."""
    for node, layer in sqnr_values(graph, layers).items():
        for key, value in (("sqnr_db", layer.error.sqnr_db), ("lost_db", layer.lost_db)):
            if value is not None and math.isfinite(value):
                graph.nodes[node][key] = value
    return graph
