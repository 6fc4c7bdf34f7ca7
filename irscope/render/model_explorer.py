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

Overlays (`node_data_builder.ModelNodeData`) colour nodes by `bytes`, `time` (t@peak),
`intensity`, `bound`, `measured` (per-kernel time, when measured) and `precision` (TFLite).

`write_dir` writes `graphs.json` plus one `<overlay>.json` per overlay; `serve` starts the viewer.

Not handled yet: a graph per fused computation (a fusion's ops are an attribute), the diff overlay
and side-by-side view, and the adapter extension that opens an `.hlo` file from Model Explorer itself.
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

import networkx as nx

from irscope.errors import RenderError, UserError
from irscope.render.table import human_bytes, human_count, human_time, short_source

INSTALL_HINT = "Model Explorer is not installed: pip install 'irscope[viewer]' (ai-edge-model-explorer)"

# Gradients run from white (least) to the ColorBrewer colour of the measure (most), so the costly
# kernels stand out and the cheap ones stay quiet.
_GRADIENTS: Mapping[str, tuple[str, str]] = {
    "bytes": ("#f7fbff", "#08519c"),      # Blues
    "time": ("#fff5eb", "#a63603"),       # Oranges
    "intensity": ("#f7fcf5", "#006d2c"),  # Greens
    "measured": ("#fcfbfd", "#54278f"),   # Purples
    "sqnr": ("#d73027", "#1a9850"),       # lowest SQNR red, highest green (RdYlGn ends, as the SVG's --color-by sqnr)
}
_BOUND_COLORS = {"memory": "#80b1d3", "compute": "#fb8072"}  # as the SVG's --color-by bound
OVERLAYS: tuple[str, ...] = ("bytes", "time", "intensity", "bound", "measured", "precision", "sqnr")
"""Every overlay name; a graph offers those its nodes have numbers for."""


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


def hlo_model(report: Any) -> ExplorerModel:
    """The entry computation's kernel graph and, linked from each loop or call, its bodies' graphs."""
    from irscope.render.table import kernel_source

    rows = {(r.kernel.computation, r.kernel.name): r for r in report.rows}
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
            if attrs.get("kind") == "control":
                bodies = [c for c in attrs.get("called", ()) if any(r.kernel.computation == c for r in report.rows)]
                subgraphs[name] = bodies
                todo.extend(bodies)
        graphs.append(to_graph(graph, comp, sources=sources, subgraphs=subgraphs))
        kernel_graphs[comp] = graph
    return ExplorerModel(report.module.name, tuple(graphs), kernel_graphs)


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


def _values(graph: nx.MultiDiGraph, overlay: str) -> dict[str, Any]:
    """Node -> the overlay's value, for the nodes that have one."""
    out: dict[str, Any] = {}
    for name, a in graph.nodes(data=True):
        if a.get("kind") in ("parameter", "constant"):
            continue
        if overlay == "bytes":
            value: Any = float(a.get("bytes_read") or 0) + float(a.get("bytes_written") or 0)
            value = value if value > 0 else None
        elif overlay == "time":
            value = a.get("time_at_peak_s")
        elif overlay == "intensity":
            value = a.get("intensity")
        elif overlay == "measured":
            value = a.get("measured_s")
        elif overlay == "bound":
            value = a.get("bound") if a.get("bound") in _BOUND_COLORS else None
        elif overlay == "precision":
            value = a.get("precision")
        elif overlay == "sqnr":  # dB against the float model, set by irscope.render.tflite.annotate_sqnr
            value = a.get("sqnr_db")
        else:
            raise ValueError(f"unknown overlay: {overlay}")
        if value is not None and not (isinstance(value, float) and not math.isfinite(value)):
            out[str(name)] = value
    return out


def overlay(model: ExplorerModel, name: str) -> Any:
    """One overlay as a `node_data_builder.ModelNodeData` over all of the model's graphs.

    Numbers get a white-to-colour gradient; `bound` and `precision` are categories, each node with its
    category's colour (value: the category's index in the legend order).
    """
    if name not in OVERLAYS:
        raise UserError(f"unknown overlay {name!r} (overlays: {', '.join(OVERLAYS)})")
    _, nb = _me()
    graphs_data = {}
    if name in ("bound", "precision"):
        from irscope.render.tflite import PRECISION_COLORS

        colors = dict(_BOUND_COLORS) if name == "bound" else dict(PRECISION_COLORS)
        order = list(colors)
        for gid, graph in model.kernel_graphs.items():
            results = {}
            for node, value in _values(graph, name).items():
                key = value if value in colors else "other"
                colors.setdefault(key, "#d9d9d9")
                order += [] if key in order else [key]
                results[node] = nb.NodeDataResult(value=order.index(key), bgColor=colors[key])
            if results:
                graphs_data[gid] = nb.GraphNodeData(name=name, results=results)
    else:
        low, high = _GRADIENTS[name]
        for gid, graph in model.kernel_graphs.items():
            values = _values(graph, name)
            if values:
                graphs_data[gid] = nb.GraphNodeData(
                    name=name, results={n: nb.NodeDataResult(value=float(v)) for n, v in values.items()},
                    gradient=[nb.GradientItem(stop=0, bgColor=low), nb.GradientItem(stop=1, bgColor=high)])
    return nb.ModelNodeData(graphsData=graphs_data)


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
            raise UserError(f"--overlays: {model.label} has no {n!r} figures (it has: {', '.join(available)})")
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


def viewer_config(models: Sequence[ExplorerModel], overlays: Sequence[Sequence[str]]) -> Any:
    """A `ModelExplorerConfig` holding the models' graphs (in memory) and their overlays."""
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
    return config


def serve(models: Sequence[ExplorerModel], overlays: Sequence[Sequence[str]], *, port: int | None,
          open_browser: bool, host: str = "localhost") -> None:
    """Start Model Explorer on `host:port` (a free port by default) with the models loaded; runs until
    interrupted. The server prints its URL on stdout."""
    if port is not None and port_in_use(host, port):
        raise UserError(f"--port {port}: already in use on {host} (leave --port out for a free one)")
    config = viewer_config(models, overlays)
    from model_explorer import apis

    apis.visualize_from_config(config=config, host=host, port=port or free_port(host),
                               no_open_in_browser=not open_browser)
