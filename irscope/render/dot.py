"""The kernel graph as Graphviz DOT and SVG: `view_to_dot` prints a `View` (irscope.render.graph_view)
as DOT, `render_svg` runs Graphviz on it under a time limit.

`to_dot`, `render_svg` and `report_svg` are the entry points; the view they draw is built by
`irscope.render.graph_view.build_view`, whose names are re-exported here.

- **Edge labels are `xlabel`s**, placed after layout: a `label` makes dot add a virtual node per
  edge (a 1,346-node chain: 14.9 s with labels, 1.6 s with xlabels; Graphviz 2.43, one core).
- **The engine is chosen by size** (`choose_engine`): `dot` (top-down) up to `DOT_MAX_NODES` nodes
  when no node keeps more than `DOT_MAX_DEGREE` edges, else `sfdp` with overlap removal and straight
  edges; under `engine="auto"`, a dot run that takes half of `timeout_s` is abandoned for sfdp.

Text is drawn as written except a backslash, drawn as `⧵` (Graphviz expands backslash-N in every label).
"""

from __future__ import annotations

import html
import math
import os
import shutil
import subprocess
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import networkx as nx

from irscope.errors import RenderError as RenderError
from irscope.render.graph_view import _NARROW_HINT, _fresh
from irscope.render.graph_view import BOUND_COLORS as BOUND_COLORS
from irscope.render.graph_view import EXPAND_MAX_NODES as EXPAND_MAX_NODES
from irscope.render.graph_view import EXTRA_FUSION_COLORS as EXTRA_FUSION_COLORS
from irscope.render.graph_view import FANOUT_COPY_LIMIT as FANOUT_COPY_LIMIT
from irscope.render.graph_view import INPUT_BUNDLE_LIMIT as INPUT_BUNDLE_LIMIT
from irscope.render.graph_view import KIND_COLORS as KIND_COLORS
from irscope.render.graph_view import LONG_EDGE_SPAN as LONG_EDGE_SPAN
from irscope.render.graph_view import TUPLE_STUB_LIMIT as TUPLE_STUB_LIMIT
from irscope.render.graph_view import ColorBy as ColorBy
from irscope.render.graph_view import DrawEdge as DrawEdge
from irscope.render.graph_view import DrawNode as DrawNode
from irscope.render.graph_view import FusedOp as FusedOp
from irscope.render.graph_view import RepeatGroup as RepeatGroup
from irscope.render.graph_view import Repeats as Repeats
from irscope.render.graph_view import View as View
from irscope.render.graph_view import build_view as build_view
from irscope.render.graph_view import find_repeats as find_repeats
from irscope.render.graph_view import graph_to_json as graph_to_json
from irscope.render.graph_view import human_bytes as human_bytes
from irscope.render.graph_view import human_flops as human_flops
from irscope.render.graph_view import ranks as ranks
from irscope.util.files import write_atomic

DOT_MAX_NODES = 2000
"""Above this many drawn nodes, `choose_engine` picks `sfdp`: `dot` took 0.8 s at 2,500 nodes but
has cliffs above (DESIGN.md)."""
DOT_MAX_DEGREE = 50
"""A node with more edges than this sends `choose_engine` to `sfdp` (dot's ranking explodes)."""
DOT_TIMEOUT_SHARE = 0.5
"""Under `engine="auto"`, the share of `timeout_s` that `dot` gets before `sfdp` is tried instead."""
SFDP_ARGS: tuple[str, ...] = ("-Goverlap=prism", "-Gsplines=false")
"""sfdp flags: remove node overlaps, draw straight edges (DESIGN.md: 1,566 kernels in 0.35 s)."""
_DOT_MISSING = "Graphviz 'dot' not found: install graphviz (apt-get install graphviz)"


# ---------------------------------------------------------------------------------------------
# DOT text


def _q_id(text: str) -> str:
    """A DOT quoted ID (node, cluster): backslashes and quotes escaped. IDs are not escStrings, so
    Graphviz keeps them as written; the escaping only has to be injective and keep the quotes."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# Graphviz 2.43 expands `\N`, `\G`, ... in labels and tooltips and has no escape that yields a plain
# backslash before them (`\\N` and `&#92;N` both become the node name), so a backslash is drawn as
# U+29F5 REVERSE SOLIDUS OPERATOR. The JSON keeps the real text.
_BACKSLASH = "\u29f5"


def _q(text: str) -> str:
    """A DOT quoted label or tooltip: shown as written (`&` escaped, since Graphviz decodes
    entities in labels too), newlines as `\\n` (centred lines)."""
    text = text.replace("\\", _BACKSLASH).replace("&", "&amp;").replace('"', '\\"')
    return '"' + text.replace("\n", "\\n") + '"'


def _q_left(lines: Iterable[str]) -> str:
    """A DOT quoted label of left-justified lines (`\\l` ends each)."""
    return '"' + "".join(_q(line)[1:-1] + "\\l" for line in lines) + '"'


def _h(text: str) -> str:
    """Text for a Graphviz HTML-like label."""
    return html.escape(text.replace("\\", _BACKSLASH), quote=True)


def _node_html(node: DrawNode) -> str:
    head = f"<B>{_h(node.name)}</B>" + (f" ×{node.count}" if node.count > 1 else "")
    if not node.lines:
        return f"<{head}>"
    body = "<BR/>".join(_h(line) for line in node.lines)
    return f'<{head}<BR/><FONT POINT-SIZE="8">{body}</FONT>>'


_TEXT_ATTRS = frozenset({"label", "xlabel", "tooltip"})


def _attrs(**attrs: str | float | int | None) -> str:
    parts = []
    for key, value in attrs.items():
        if value is None:
            continue
        if isinstance(value, str) and value.startswith("<") and value.endswith(">"):
            parts.append(f"{key}={value}")  # an HTML-like label, already escaped
        elif isinstance(value, str):
            parts.append(f"{key}={_q(value) if key in _TEXT_ATTRS else _q_id(value)}")
        else:
            parts.append(f"{key}={value:g}")
    return "[" + ", ".join(parts) + "]"


def _penwidth(nbytes: int) -> float:
    """Heavier tensors, thicker edges: 0.6 at 1 KiB and below, 1.85 at 1 MiB, 3 from 1 GiB."""
    return round(0.6 + min(2.4, max(0.0, math.log2(max(nbytes, 1) / 1024) / 8)), 2)


def _cluster_id(node: DrawNode) -> str:
    return f"cluster_k:{node.id}"


def _root_op(node: DrawNode) -> FusedOp:
    used = {o for op in node.fused for o in op.operands}
    roots = [op for op in node.fused if op.id not in used and op.opcode != "parameter"]
    return roots[-1] if roots else node.fused[-1]


def _entry_op(node: DrawNode, operand_index: int) -> FusedOp:
    for op in node.fused:
        if op.opcode == "parameter" and op.parameter_number == operand_index:
            return op
    return node.fused[0]


def _node_dot(node: DrawNode, indent: str) -> list[str]:
    style = "rounded,filled"
    shape = "box"
    fontsize: float | None = None
    if node.kind == "connector":
        attrs = _attrs(label=node.name, shape="box", style="rounded,dashed", fontsize=7, height=0.2,
                       tooltip=node.tooltip, color="#888888")
        return [f"{indent}{_q_id(node.id)} {attrs};"]
    if node.is_input:
        shape, style, fontsize = "ellipse", "filled", 8
    if node.copy_of is not None:
        style += ",dashed"
    if not node.fused:
        attrs = _attrs(label=_node_html(node), shape=shape, style=style, fillcolor=node.fill,
                       tooltip=node.tooltip, fontsize=fontsize, peripheries=2 if node.count > 1 else None)
        return [f"{indent}{_q_id(node.id)} {attrs};"]
    # An expanded fusion: a cluster of its ops, labelled like the kernel node it replaces.
    out = [f"{indent}subgraph {_q_id(_cluster_id(node))} {{",
           f"{indent}  graph {_attrs(label=_node_html(node), style='rounded,filled', fillcolor=node.fill, tooltip=node.tooltip)};"]
    for op in node.fused:
        if op.opcode == "parameter":
            label = f"param {op.parameter_number}"
            attrs = _attrs(label=label, shape="ellipse", style="filled", fillcolor="#ffffff", fontsize=7,
                           height=0.2, tooltip=op.name)
        else:
            attrs = _attrs(label=op.opcode, shape="box", style="filled", fillcolor="#ffffff", fontsize=7,
                           height=0.2, tooltip=op.name)
        out.append(f"{indent}  {_q_id(op.id)} {attrs};")
    for op in node.fused:
        for operand in op.operands:
            out.append(f"{indent}  {_q_id(operand)} -> {_q_id(op.id)} [arrowsize=0.4];")
    out.append(f"{indent}}}")
    return out


def _edge_dot(edge: DrawEdge, by_id: Mapping[str, DrawNode], group_count: Mapping[str, int]) -> str:
    src, dst = by_id[edge.src], by_id[edge.dst]
    tail, head = _q_id(edge.src), _q_id(edge.dst)
    extra: dict[str, str | float | None] = {}
    if src.fused:
        tail = _q_id(_root_op(src).id)
        if edge.src != edge.dst:
            extra["ltail"] = _cluster_id(src)
    if dst.fused:
        head = _q_id(_entry_op(dst, edge.operand_index).id)
        if edge.src != edge.dst:
            extra["lhead"] = _cluster_id(dst)
    label = edge.label
    # Edges inside a collapsed group stand for one edge per repeat: the ×N is on the cluster already.
    same_group = src.group is not None and src.group == dst.group and edge.count == group_count[src.group]
    if edge.count > 1 and not same_group:
        label += f" ×{edge.count}"
    if edge.carried:
        label = "to next repeat\n" + label
        extra.update(style="dashed", constraint="false", color="#888888")
    attrs = _attrs(xlabel=label, tooltip=label, penwidth=_penwidth(edge.bytes), **extra)
    return f"  {tail} -> {head} {attrs};"


def view_to_dot(view: View) -> str:
    """Print a `View` as DOT (top-down; edge labels as `xlabel`s, see the module docstring)."""
    title = [f"{view.module} · {view.computation}".strip(" ·"),
             f"{view.kernels} kernels, drawn as {len(view.nodes)} nodes and {len(view.edges)} edges"]
    title += [f"note: {n}" for n in view.notes]
    lines = [
        f"digraph {_q_id(view.module or 'kernels')} {{",
        "  graph " + _attrs(rankdir="TB", labelloc="t", labeljust="l", fontname="Helvetica", fontsize=11,
                            nodesep=0.15, ranksep=0.3, forcelabels="true",
                            compound="true" if view.expanded else None) + ";",
        f"  graph [label={_q_left(title)}];",
        "  node " + _attrs(fontname="Helvetica", fontsize=9, margin="0.06,0.03", height=0.3) + ";",
        "  edge " + _attrs(fontname="Helvetica", fontsize=7, color="#555555", arrowsize=0.5) + ";",
    ]
    if view.legend:
        rows = "".join(f'<TR><TD BGCOLOR="{color}">{_h(key)}</TD></TR>' for key, color in view.legend)
        table = (f'<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3">'
                 f"<TR><TD><B>{_h(view.color_by)}</B></TD></TR>{rows}</TABLE>>")
        legend_id = _fresh("legend", {n.id for n in view.nodes})
        lines.append(f"  {_q_id(legend_id)} {_attrs(label=table, shape='plain')};")
    by_group: dict[str | None, list[DrawNode]] = defaultdict(list)
    for node in view.nodes:
        by_group[node.group].append(node)
    for group in view.groups:
        lines.append(f"  subgraph {_q_id('cluster_' + group.id)} {{")
        lines.append("    graph " + _attrs(label=group.label, style="dashed,rounded", color="#777777",
                                          fontsize=10) + ";")
        for node in by_group.get(group.id, []):
            lines.extend(_node_dot(node, "    "))
        lines.append("  }")
    for node in by_group.get(None, []):
        lines.extend(_node_dot(node, "  "))
    by_id = {n.id: n for n in view.nodes}
    group_count = {g.id: g.count for g in view.groups}
    lines.extend(_edge_dot(e, by_id, group_count) for e in view.edges)
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_dot(graph: nx.MultiDiGraph, **view_kwargs: Any) -> str:
    """The kernel graph as DOT text, top-down; `view_kwargs` as for `build_view` (`color_by`, `expand`,
    `collapse_repeats`, `max_nodes`, `scope`, `long_edge_span`).

    Example:
        >>> open("step.dot", "w").write(to_dot(kernel_graph(module), color_by="bound"))
    """
    return view_to_dot(build_view(graph, **view_kwargs))


# ---------------------------------------------------------------------------------------------
# Running Graphviz

ENGINES = frozenset({"auto", "dot", "sfdp", "neato", "fdp", "twopi", "circo"})


def choose_engine(view: View) -> str:
    """`dot` (layered, top-down) while the view is small and no node is a hub; else `sfdp`."""
    if view.node_count <= DOT_MAX_NODES and view.max_degree <= DOT_MAX_DEGREE:
        return "dot"
    return "sfdp"


class _Timeout(Exception):
    pass


def _run_graphviz(dot_text: str, engine: str, timeout_s: float) -> str:
    exe = shutil.which("dot")
    if exe is None:
        raise RenderError(_DOT_MISSING)
    args = [exe, f"-K{engine}", "-Tsvg", *(SFDP_ARGS if engine == "sfdp" else ())]
    if timeout_s <= 0:
        raise _Timeout
    try:
        proc = subprocess.run(args, input=dot_text.encode("utf-8"), capture_output=True, timeout=timeout_s)
    except FileNotFoundError as e:
        raise RenderError(_DOT_MISSING) from e
    except subprocess.TimeoutExpired as e:  # subprocess.run has killed and reaped Graphviz
        raise _Timeout from e
    svg = proc.stdout.decode("utf-8", errors="replace")
    if proc.returncode != 0 or "<svg" not in svg:
        err = proc.stderr.decode("utf-8", errors="replace").strip().splitlines()
        raise RenderError(f"Graphviz {engine} failed (exit {proc.returncode}): {err[-1] if err else 'no output'}")
    return svg


def render_view(view: View, *, engine: str = "auto", timeout_s: float = 60) -> str:
    if engine not in ENGINES:
        raise ValueError(f"unknown engine: {engine!r} (expected one of {sorted(ENGINES)})")
    dot_text = view_to_dot(view)
    start = time.monotonic()
    chosen = choose_engine(view) if engine == "auto" else engine
    tried = chosen
    try:
        if engine == "auto" and chosen == "dot":
            # dot has cliffs that size alone does not predict; keep time for sfdp if it falls off one.
            try:
                return _run_graphviz(dot_text, "dot", timeout_s * DOT_TIMEOUT_SHARE)
            except _Timeout:
                tried = "dot, then sfdp,"
                return _run_graphviz(dot_text, "sfdp", timeout_s - (time.monotonic() - start))
        return _run_graphviz(dot_text, chosen, timeout_s)
    except _Timeout:
        raise RenderError(
            f"Graphviz {tried} did not finish within {timeout_s:g} s on {view.node_count} nodes and "
            f"{len(view.edges)} edges of {view.computation or 'the graph'}: {_NARROW_HINT}, "
            "or allow more time (timeout_s)") from None


def render_svg(
    graph: nx.MultiDiGraph,
    path: str | os.PathLike[str] | None = None,
    *,
    engine: str = "auto",
    timeout_s: float = 60,
    warn: Callable[[str], None] | None = None,
    **to_dot_kwargs: Any,
) -> str:
    """Draw the kernel graph with Graphviz and return the SVG text; write it to `path` if given.

    Arguments:
        graph: a kernel graph of one computation.
        path: where to write the SVG, whole or not at all.
        engine: `"auto"` (`choose_engine`; a `dot` run that takes more than half of `timeout_s` is
            abandoned for `sfdp`), or a Graphviz engine name (`"dot"`, `"sfdp"`, ...).
        timeout_s: the most Graphviz may take, in all.
        warn: called with one line when the drawing cannot do what was asked (an `expand` too large
            to draw is skipped); the same words are a note in the SVG's header.
        **to_dot_kwargs: `color_by`, `expand`, `collapse_repeats`, `max_nodes`, `scope` (see `build_view`).

    Raises:
        RenderError: no Graphviz, too many nodes, or Graphviz too slow; the message says what to narrow.
    """
    view = build_view(graph, **to_dot_kwargs)
    if warn is not None and to_dot_kwargs.get("expand") and not view.expanded:
        warn(next(n for n in view.notes if n.startswith("not expanded")))
    svg = render_view(view, engine=engine, timeout_s=timeout_s)
    if path is not None:
        write_atomic(path, svg, make_dirs=False)
    return svg


def report_svg(report: Any, *, computation: str | None = None, **kwargs: Any) -> str:
    """`HloReport.svg()`: the kernel graph of one computation of the report (the entry by default),
    drawn by `render_svg` with `kwargs`."""
    return render_svg(report.graph(computation), **kwargs)
