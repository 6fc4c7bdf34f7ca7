"""irscope's kernel graphs as Google Model Explorer graphs, with node-data overlays.

Model Explorer (`pip install 'irscope[viewer]'`, package `ai-edge-model-explorer`) is a WebGL graph
viewer built for tens of thousands of nodes: namespaces collapse, search, per-node data overlays.
This module turns a kernel graph (`irscope.ir.graph_schema`) into its `graph_builder.Graph`, built
with Model Explorer's own classes, so what we write is what its server and web app read:

- a node per kernel (and per parameter, constant, control-flow instruction), its id the HLO
  instruction name (or `op3` for a TFLite operator), its label the kernel's name;
- its namespace from the `op_name` scope minus the op (`jit(step)/transpose(jvp(layer_3))`), so
  repeated layers fold into one box each and the backward pass (`transpose(jvp(...))`) sits apart
  from the forward;
- its figures as attributes (kind, ops, shape, bytes, FLOPs, FLOP/B, bound, t@peak, source line;
  precision and weights for TFLite); a loop or call links to its bodies' graphs (`subgraphIds`);
- one edge per tensor, from the producer's output 0 to the consumer's operand index.

Overlays (`node_data_builder.ModelNodeData`, one table: `OVERLAYS`) colour nodes by `bytes`, `time`
(t@peak), `intensity`, `bound`, `measured` (per-kernel time, when measured), `precision` (TFLite),
`memory` (bytes alive at the peak, scheduled modules), and for a diff `diff` (changed, added,
removed) and `delta-bytes`; `diff_models` builds both programs of a diff, which `serve` opens in
two panes. The adapter that opens a file from Model Explorer itself is `irscope.cli.viewer_ext`.

`write_dir` writes `graphs.json` plus one `<overlay>.json` per overlay; `serve` starts the viewer.

Not handled yet: a graph per fused computation (a fusion's ops are an attribute).
"""

from __future__ import annotations

import json
import math
import re
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import networkx as nx

from irscope.errors import RenderError, UserError
from irscope.render.table import human_bytes, human_count, human_time, short_source

INSTALL_HINT = "Model Explorer is not installed: pip install 'irscope[viewer]' (ai-edge-model-explorer)"


@dataclass(frozen=True)
class Overlay:
    """One node-data overlay: what it shows, how a node's value is read, and how values are coloured."""

    label: str
    """What the legend calls it."""
    value: Callable[[Mapping[str, Any]], Any]
    """A kernel node's attributes -> its value (a number, or a category for `categories`), or None."""
    gradient: tuple[str, ...] = ()
    """Colours from the least to the most; three colours are diverging, the middle one at zero."""
    categories: Mapping[str, str] | None = None
    """Category -> colour (unknown categories are grey), for overlays whose values are names."""


def _attr(key: str) -> Callable[[Mapping[str, Any]], Any]:
    return lambda a: a.get(key)


def _moved(a: Mapping[str, Any]) -> float | None:
    moved = float(a.get("bytes_read") or 0) + float(a.get("bytes_written") or 0)
    return moved if moved > 0 else None


def _precision_colors() -> Mapping[str, str]:
    from irscope.render.tflite import PRECISION_COLORS

    return PRECISION_COLORS


_BOUND_COLORS = {"memory": "#80b1d3", "compute": "#fb8072"}  # as the SVG's --color-by bound
DIFF_COLORS = {"unchanged": "#f0f0f0", "changed": "#fdb462", "added": "#b3de69", "removed": "#fb8072"}
"""`diff` overlay: each kernel's status in the matching of `irscope.passes.diff` (as the diff page)."""

# Gradients run from white (least) to the ColorBrewer colour of the measure (most), so the costly
# kernels stand out and the cheap ones stay quiet; `delta-bytes` diverges around zero (less is green).
# The one table of overlays: add a name here and the CLI's --overlays, the JSON writer and the viewer
# offer it.
OVERLAYS: dict[str, Overlay] = {
    "bytes": Overlay("bytes read + written", _moved, ("#f7fbff", "#08519c")),                    # Blues
    "time": Overlay("time at peak (roofline bound)", _attr("time_at_peak_s"), ("#fff5eb", "#a63603")),  # Oranges
    "intensity": Overlay("FLOP/B", _attr("intensity"), ("#f7fcf5", "#006d2c")),                  # Greens
    "bound": Overlay("memory- or compute-bound", lambda a: a.get("bound") if a.get("bound") in _BOUND_COLORS else None,
                     categories=_BOUND_COLORS),
    "measured": Overlay("measured time", _attr("measured_s"), ("#fcfbfd", "#54278f")),            # Purples
    "precision": Overlay("precision", _attr("precision"), categories={}),  # filled from render.tflite
    "memory": Overlay("bytes of its outputs alive at the memory peak", _attr("alive_at_peak_bytes"),
                      ("#fff7f3", "#7a0177")),                                                    # RdPu
    "diff": Overlay("diff: changed, added, removed", _attr("diff_status"), categories=DIFF_COLORS),
    "delta-bytes": Overlay("bytes after - before", _attr("delta_bytes"), ("#1a9850", "#ffffff", "#d73027")),
    # dB against the float model, set by irscope.render.tflite.annotate_sqnr; lowest red, highest green
    # (RdYlGn's ends, as the SVG's --color-by sqnr)
    "sqnr": Overlay("SQNR against the float model (dB)", _attr("sqnr_db"), ("#d73027", "#1a9850")),
}
"""Every overlay; a graph offers those its nodes have values for."""


def _me() -> tuple[Any, Any]:
    try:
        from model_explorer import graph_builder, node_data_builder
    except ImportError:
        raise RenderError(INSTALL_HINT) from None  # the CLI prints it as one line
    return graph_builder, node_data_builder


@dataclass(frozen=True)
class ExplorerModel:
    """The Model Explorer graphs of one program, and the kernel graphs they were built from."""

    label: str
    """The program's name (the module, or the .tflite file's stem)."""
    graphs: tuple[Any, ...]
    """`graph_builder.Graph`s, the first one the entry computation (or the main subgraph)."""
    kernel_graphs: Mapping[str, nx.MultiDiGraph]
    """Graph id -> the kernel graph behind it (with `measured_s` on measured kernels)."""

    def adapter_response(self) -> dict[str, Any]:
        """What a Model Explorer adapter returns: `{"graphs": [...]}` as plain JSON data."""
        return {"graphs": [asdict(g) for g in self.graphs]}

    def available_overlays(self) -> list[str]:
        return [name for name in OVERLAYS if any(_values(g, name) for g in self.kernel_graphs.values())]


def namespace(op_name: str | None) -> str:
    """`jit(f)/jit(main)/layer_2/dot_general` -> `jit(f)/jit(main)/layer_2` (the scope, without the op).

    Slashes inside brackets (`transpose(jvp(a/b))`) do not split a scope.
    """
    if not op_name:
        return ""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(op_name):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(depth - 1, 0)
        elif ch == "/" and depth == 0:
            parts.append(op_name[start:i])
            start = i + 1
    return "/".join(p for p in parts if p)


def _fmt_number(value: float | None, fmt: Callable[[float], str]) -> str:
    return "-" if value is None or (isinstance(value, float) and not math.isfinite(value)) else fmt(value)


def _figures(attrs: Mapping[str, Any], source: str | None) -> list[tuple[str, str]]:
    """A node's attribute rows, in the order the report's table shows them."""
    moved = float(attrs.get("bytes_read") or 0) + float(attrs.get("bytes_written") or 0)
    rows = [("kind", str(attrs.get("kind", ""))), ("opcode", str(attrs.get("opcode", "")))]
    if attrs.get("ops"):
        rows.append(("ops", ", ".join(attrs["ops"])))
    rows.append(("shape", str(attrs.get("shape", ""))))
    if attrs.get("kind") not in ("parameter", "constant"):
        rows += [
            ("bytes", f"{human_bytes(moved)} ({int(moved):,})"),
            ("bytes read", human_bytes(float(attrs.get("bytes_read") or 0))),
            ("bytes written", human_bytes(float(attrs.get("bytes_written") or 0))),
            ("FLOPs", human_count(float(attrs.get("flops") or 0))),
            ("FLOP/B", _fmt_number(attrs.get("intensity"), lambda v: f"{v:.3g}")),
            ("bound", str(attrs.get("bound") or "-")),
            ("t@peak", _fmt_number(attrs.get("time_at_peak_s"), human_time)),
        ]
    if attrs.get("measured_s") is not None:
        rows.append(("measured", human_time(attrs["measured_s"])))
    if attrs.get("alive_at_peak_bytes"):
        rows.append(("alive at peak", human_bytes(attrs["alive_at_peak_bytes"])))
    if attrs.get("diff_status") is not None:
        delta = float(attrs.get("delta_bytes") or 0)
        rows += [("diff", str(attrs["diff_status"])),
                 ("delta bytes", f"{'+' if delta >= 0 else '-'}{human_bytes(abs(delta))} ({int(delta):+,})")]
    for key in ("precision", "weights", "boundary", "dtype"):
        if attrs.get(key) is not None:
            rows.append((key, str(attrs[key])))
    if attrs.get("called"):
        rows.append(("runs", ", ".join(attrs["called"])))
    if attrs.get("op_name"):
        rows.append(("op_name", str(attrs["op_name"])))
    if source:
        rows.append(("source", short_source(source)))
    return rows


def to_graph(graph: nx.MultiDiGraph, graph_id: str, *, node_ids: Mapping[str, str] | None = None,
             labels: Mapping[str, str] | None = None, sources: Mapping[str, str | None] | None = None,
             subgraphs: Mapping[str, Sequence[str]] | None = None) -> Any:
    """One kernel graph as a `graph_builder.Graph`.

    Arguments:
        graph: the kernel graph (`irscope.ir.graph_schema` attributes).
        graph_id: the Model Explorer graph id (unique within the model).
        node_ids: node -> id in Model Explorer (default: the node's own name).
        labels: node -> label shown on the box (default: the id).
        sources: node -> the user's `file:line` behind it.
        subgraphs: node -> ids of the graphs it runs (a loop's body).
    """
    gb, _ = _me()
    node_ids = node_ids or {}
    out = gb.Graph(id=graph_id, nodes=[])
    made: dict[str, Any] = {}
    for name, attrs in graph.nodes(data=True):
        nid = node_ids.get(name, str(name))
        node = gb.GraphNode(
            id=nid, label=(labels or {}).get(name, nid), namespace=namespace(attrs.get("op_name")),
            attrs=[gb.KeyValue(key=k, value=v) for k, v in _figures(attrs, (sources or {}).get(name))],
            outputsMetadata=[gb.MetadataItem(id="0", attrs=[gb.KeyValue(key="shape", value=str(attrs.get("shape", "")))])],
            subgraphIds=list((subgraphs or {}).get(name, ())),
        )
        made[name] = node
        out.nodes.append(node)
    for src, dst, data in graph.edges(data=True):
        made[dst].incomingEdges.append(gb.IncomingEdge(
            sourceNodeId=node_ids.get(src, str(src)), sourceNodeOutputId="0",
            targetNodeInputId=str(data.get("operand_index", 0))))
    return out


def hlo_model(report: Any, *, label: str | None = None, suffix: str = "",
              marks: Mapping[tuple[str, str], Mapping[str, Any]] | None = None) -> ExplorerModel:
    """The entry computation's kernel graph and, linked from each loop or call, its bodies' graphs.

    A scheduled module's kernels also carry `alive_at_peak_bytes` (the `memory` overlay): the bytes of
    their outputs alive at the module's memory peak (`irscope.passes.memory`). `suffix` is added to
    every graph id, so that two programs' graphs (a diff) can share one viewer; `marks` adds attributes
    to kernels by (computation, name) (the diff's status and delta).
    """
    from irscope.render.table import kernel_source

    rows = {(r.kernel.computation, r.kernel.name): r for r in report.rows}
    alive = _alive_at_peak(report)
    graphs, kernel_graphs = [], {}
    todo, seen = [report.module.entry_name], set()
    while todo:
        comp = todo.pop(0)
        if comp in seen:
            continue
        seen.add(comp)
        graph = report.graph(comp)
        sources, subgraphs = {}, {}
        for name, attrs in graph.nodes(data=True):
            row = rows.get((comp, name))
            if row is not None:
                sources[name] = kernel_source(report, row)
                if row.measured_s is not None:
                    attrs["measured_s"] = row.measured_s
            if alive is not None and attrs.get("kind") not in ("parameter", "constant"):
                attrs["alive_at_peak_bytes"] = alive.get((comp, name), 0)
            attrs.update((marks or {}).get((comp, name), {}))
            if attrs.get("kind") == "control":
                bodies = [c for c in attrs.get("called", ()) if any(r.kernel.computation == c for r in report.rows)]
                subgraphs[name] = [c + suffix for c in bodies]
                todo.extend(bodies)
        graphs.append(to_graph(graph, comp + suffix, sources=sources, subgraphs=subgraphs))
        kernel_graphs[comp + suffix] = graph
    return ExplorerModel(label or report.module.name, tuple(graphs), kernel_graphs)


def _alive_at_peak(report: Any) -> dict[tuple[str, str], int] | None:
    """(computation, instruction) -> bytes of its values alive at the peak; None for an unscheduled module."""
    from irscope.passes.memory import analyze_memory, is_scheduled

    if not is_scheduled(report.module):
        return None
    memory = report.memory
    if memory is None or memory.peak_bytes is None or sum(b.bytes for b in memory.live_at_peak) != memory.peak_bytes:
        memory = analyze_memory(report.module, max_live=0)  # every buffer alive at the peak, not the largest 20
    alive: dict[tuple[str, str], int] = {}
    for buffer in memory.live_at_peak:
        key = (buffer.computation, buffer.kernel)
        alive[key] = alive.get(key, 0) + buffer.bytes
    return alive


def diff_models(result: Any, before: Any, after: Any) -> tuple[ExplorerModel, ExplorerModel]:
    """Both programs of a diff (`irscope.passes.diff.DiffResult` and the two reports it was made from),
    their kernels marked by the matching: `diff_status` (unchanged, changed, added on the after side,
    removed on the before side) and `delta_bytes` (after - before; an added kernel's bytes, a removed
    one's negated)."""
    models = []
    for side, report in (("before", before), ("after", after)):
        where = {r.kernel.qualified_name: (r.kernel.computation, r.kernel.name) for r in report.rows}
        marks = {}
        for change in result.kernels:
            info = getattr(change, side)
            if info is not None and info.name in where:
                marks[where[info.name]] = {"diff_status": change.status, "delta_bytes": change.delta.bytes_accessed}
        models.append(hlo_model(report, label=f"{side} {report.module.name}", suffix=f" ({side})", marks=marks))
    return models[0], models[1]


def tflite_model(analysis: Any, label: str) -> ExplorerModel:
    """One graph per subgraph of a TFLite model; operator nodes are `op<index>`, labelled by opcode."""
    graphs, kernel_graphs = [], {}
    for index, subgraph in enumerate(analysis.model.subgraphs):
        graph = analysis.graph(index)
        gid = subgraph.name or f"subgraph_{index}"
        ids = {n: (f"op{a['index']}" if "index" in a else f"t{a.get('tensor', n)}") for n, a in graph.nodes(data=True)}
        labels = {n: str(a.get("opcode") or n) for n, a in graph.nodes(data=True)}
        graphs.append(to_graph(graph, gid, node_ids=ids, labels=labels))
        kernel_graphs[gid] = nx.relabel_nodes(graph, ids)
    return ExplorerModel(label, tuple(graphs), kernel_graphs)


def _values(graph: nx.MultiDiGraph, name: str) -> dict[str, Any]:
    """Node -> the overlay's value, for the kernels that have one (parameters and constants have none)."""
    spec = OVERLAYS[name]
    out: dict[str, Any] = {}
    for node, a in graph.nodes(data=True):
        if a.get("kind") in ("parameter", "constant"):
            continue
        value = spec.value(a)
        if value is not None and not (isinstance(value, float) and not math.isfinite(value)):
            out[str(node)] = value
    return out


def overlay(model: ExplorerModel, name: str) -> Any:
    """One overlay as a `node_data_builder.ModelNodeData` over all of the model's graphs.

    Numbers get a white-to-colour gradient (a diverging one is centred on zero in each graph);
    categories (`bound`, `precision`, `diff`) get thresholds, one colour per category in the legend
    (value: the category's index in the legend's order).
    """
    if name not in OVERLAYS:
        raise UserError(f"unknown overlay {name!r} (overlays: {', '.join(OVERLAYS)})")
    _, nb = _me()
    spec = OVERLAYS[name]
    graphs_data = {}
    if spec.categories is not None:
        colors = dict(spec.categories) if name != "precision" else dict(_precision_colors())
        order = list(colors)
        values = {gid: _values(graph, name) for gid, graph in model.kernel_graphs.items()}
        for v in (v for vs in values.values() for v in vs.values()):
            key = v if v in colors else "other"
            if key not in colors:
                colors[key] = "#d9d9d9"
                order.append(key)
        thresholds = [nb.ThresholdItem(value=i, bgColor=colors[key]) for i, key in enumerate(order)]
        for gid, vs in values.items():
            results = {}
            for node, value in vs.items():
                key = value if value in colors else "other"
                results[node] = nb.NodeDataResult(value=order.index(key), bgColor=colors[key])
            if results:
                graphs_data[gid] = nb.GraphNodeData(name=f"{name} ({spec.label})", results=results,
                                                    thresholds=thresholds)
    else:
        for gid, graph in model.kernel_graphs.items():
            values = _values(graph, name)
            if values:
                graphs_data[gid] = nb.GraphNodeData(
                    name=f"{name} ({spec.label})",
                    results={n: nb.NodeDataResult(value=float(v)) for n, v in values.items()},
                    gradient=_gradient(nb, spec.gradient, values.values()))
    return nb.ModelNodeData(graphsData=graphs_data)


def _gradient(nb: Any, colours: Sequence[str], values: Any) -> list[Any]:
    """Gradient stops: two colours at 0 and 1; three with the middle one where zero falls between the
    graph's least and largest value (Model Explorer places stops on that range)."""
    if len(colours) == 2:
        return [nb.GradientItem(stop=0, bgColor=colours[0]), nb.GradientItem(stop=1, bgColor=colours[1])]
    values = [float(v) for v in values]
    low, high = min(values), max(values)
    zero = 0.5 if high <= low else min(max(-low / (high - low), 0.0), 1.0)
    stops = [(0.0, colours[0]), (zero, colours[1]), (1.0, colours[2])]
    if zero in (0.0, 1.0):  # all on one side of zero: white to that side's colour
        stops = [(0.0, colours[1]), (1.0, colours[2])] if zero == 0.0 else [(0.0, colours[0]), (1.0, colours[1])]
    return [nb.GradientItem(stop=s, bgColor=c) for s, c in stops]


_WHY_MISSING = {
    "memory": ": the module has no schedule (its header lacks is_scheduled=true), so no memory peak",
    "measured": ": add --measure",
    "sqnr": ": it comes from tflite --compare FLOAT --layers",
    "diff": ": it comes from irscope diff",
    "delta-bytes": ": it comes from irscope diff",
    "precision": ": it comes from a .tflite model",
}
"""Why a graph lacks an overlay, said when the user asks for it."""


def choose_overlays(model: ExplorerModel, names: str | None) -> list[str]:
    """`--overlays a,b` checked against what this model has (default: all it has)."""
    available = model.available_overlays()
    if not names:
        return available
    chosen = [n.strip() for n in names.split(",") if n.strip()]
    for n in chosen:
        if n not in OVERLAYS:
            raise UserError(f"--overlays: unknown overlay {n!r} (overlays: {', '.join(OVERLAYS)})")
        if n not in available:
            why = _WHY_MISSING.get(n, "")
            raise UserError(f"--overlays: {model.label} has no {n!r} figures{why} (it has: {', '.join(available)})")
    return chosen


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name) or "model"


def write_dir(model: ExplorerModel, folder: str | Path, overlays: Sequence[str]) -> list[Path]:
    """Write `<label>.graphs.json` and one `<label>.<overlay>.json` per overlay; return the paths."""
    from irscope.util.files import write_atomic

    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise UserError(f"--model-explorer-out {folder}: is not a folder")
    if not folder.parent.is_dir():
        raise UserError(f"--model-explorer-out {folder}: no such folder {str(folder.parent)!r} to create it in")
    folder.mkdir(exist_ok=True)  # the folder itself is the output: make it, but never its parents
    stem = _safe(model.label)
    graph_path = folder / f"{stem}.graphs.json"
    write_atomic(str(graph_path), json.dumps(model.adapter_response()) + "\n")
    paths = [graph_path]
    for name in overlays:
        path = folder / f"{stem}.{name}.json"
        write_atomic(str(path), overlay(model, name).to_json_string() + "\n")
        paths.append(path)
    return paths


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


def free_port(host: str = "localhost") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def viewer_config(models: Sequence[ExplorerModel], overlays: Sequence[Sequence[str]], *,
                  side_by_side: bool = False) -> Any:
    """A `ModelExplorerConfig` holding the models' graphs (in memory) and their overlays; with
    `side_by_side`, the first two models open in two panes (a diff)."""
    _me()
    import model_explorer

    config = model_explorer.config()
    for model, names in zip(models, overlays, strict=True):
        # What `add_model_from_pytorch` does with its converted graphs: keep them in memory and name them
        # in the URL as graphs://NAME/INDEX, which the server's load_graphs_json answers.
        index = len(config.graphs_list)
        config.graphs_list.append({"graphs": list(model.graphs)})
        config.model_sources.append({"url": f"graphs://{model.label}/{index}"})
        for name in names:
            config.add_node_data(name=f"{model.label} {name}", node_data=overlay(model, name), model_name=model.label)
    if side_by_side and len(models) >= 2:
        url_value = config.to_url_param_value

        def with_panes() -> str:
            # The web app restores a split view from the URL's `uiState` (two `paneStates`, each naming
            # the graph it shows); the Python config has no call for it, so it goes into the same JSON.
            data = json.loads(unquote(url_value()))
            data["uiState"] = {"paneStates": [
                {"deepestExpandedGroupNodeIds": [], "selectedNodeId": "", "selectedGraphId": m.graphs[0].id,
                 "selectedCollectionLabel": "", "widthFraction": 0.5, "selected": i == 0}
                for i, m in enumerate(models[:2])]}
            return quote(json.dumps(data))

        config.to_url_param_value = with_panes
    return config


def serve(models: Sequence[ExplorerModel], overlays: Sequence[Sequence[str]], *, port: int | None,
          open_browser: bool, host: str = "localhost", side_by_side: bool = False) -> None:
    """Start Model Explorer on `host:port` (a free port by default) with the models loaded; runs until
    interrupted. The server prints its URL on stdout."""
    if port is not None and port_in_use(host, port):
        raise UserError(f"--port {port}: already in use on {host} (leave --port out for a free one)")
    config = viewer_config(models, overlays, side_by_side=side_by_side)
    from model_explorer import apis

    apis.visualize_from_config(config=config, host=host, port=port or free_port(host),
                               no_open_in_browser=not open_browser)
