"""The view of a kernel graph: what will be drawn, as plain data that tests read.

Build the data, then draw it: `build_view` turns a kernel graph (`irscope.passes.kernel_graph` or
`irscope.ir.tflite.build_kernel_graph`, a `networkx.MultiDiGraph` of one computation whose nodes and
edges follow `irscope.ir.graph_schema`) into a `View` — the nodes, edges, clusters, legend and notes
that will be drawn, and what was left out — as frozen plain data. `irscope.render.dot` prints a
`View` as DOT and runs Graphviz; nothing here writes DOT or runs a program. `graph_to_json` is the
graph itself as plain data.

What the view does to keep a large computation legible and Graphviz fast (DESIGN.md, "Drawing large
graphs", has the cliffs; the numbers below were measured here with Graphviz 2.43 on one core):

- **Repeated layers collapse** into one cluster labelled `×N` whose kernels stand for all repeats
  (`find_repeats` says how repeats are detected). A 16-layer GPT training step: 1,527 kernels, 168
  drawn.
- **Edges between the same two drawn nodes merge** (one edge per repeat, one producer feeding
  several operands); the label says `×N`.
- **A ROOT tuple with many operands** becomes one output stub per operand.
- **An input with many users** (a parameter, constant or operand-less fusion feeding more than
  `FANOUT_COPY_LIMIT` kernels) gets one copy per user, and **a kernel with many parameter or
  constant inputs** gets them as one `N inputs` node.
- **Edges spanning many ranks become connectors** (`to ...` under the producer, `from ...` above
  the consumer). dot's cost grows with rank-spanning edges times depth: a 1,346-node chain took
  1.6 s, 15 s once one node fed 6 kernels spread along it, and did not finish in 120 s at 12; a
  training step's saved activations are all such edges. With connectors, the 96-user case: 3.6 s.
- **Expanding fusions** (`expand=True`) draws each fusion's ops as a cluster while kernels plus
  fused ops stay under `EXPAND_MAX_NODES`; above, the view is not expanded and `View.notes` says so.

The header counts kernels as the report's table does: nodes that launch work, not the parameters,
constants drawn beside them; a loop or call counts the kernels it runs.

- **A constant that a broadcast (reshape, convert) only reshapes** is a line in that op's label, and the
  pair a line in its one user's label (`_fold_constant_splats`): SSD-MobileNet's 124 bias broadcasts
  made its drawing 15,191 pt wide.
- **Narrowing**: `scope` (an op_name prefix) and `around`/`depth` (a kernel's neighbourhood) draw part
  of a computation.

Not handled yet: several computations in one drawing (a while body is its own kernel graph).
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import networkx as nx

from irscope.errors import RenderError
from irscope.ir.graph_schema import FusedInstruction, KernelNode, TensorEdge, kernel_count
from irscope.ir.opcodes import FILL_PRESERVING
from irscope.render.table import human_bytes as human_bytes

ColorBy = Literal["kind", "bound"]

# Fill colours by kernel kind: ColorBrewer Set3 (pastel, so black text stays readable).
KIND_COLORS: Mapping[str, str] = {
    "kLoop": "#80b1d3",
    "kInput": "#b3de69",
    "kOutput": "#fdb462",
    "kCustom": "#bebada",
    "fusion": "#ccebc5",  # a backend fusion kind once EXTRA_FUSION_COLORS runs out
    "pallas": "#fb8072",
    "custom-call": "#fccde5",
    "collective": "#ffed6f",
    "control": "#bc80bd",
    "op": "#8dd3c7",
    "parameter": "#ffffb3",
    "constant": "#d9d9d9",
    "other": "#ffffff",
}
# For backend fusion kinds (`__triton_gemm`, `__ynn_fusion`): Set2 and Pastel1 colours not used above.
EXTRA_FUSION_COLORS: tuple[str, ...] = ("#e5c494", "#a6d854", "#b3cde3", "#decbe4", "#fed9a6", "#e5d8bd")
BOUND_COLORS: Mapping[str, str] = {
    "memory": "#80b1d3",
    "compute": "#fb8072",
    "n/a": "#d9d9d9",
    "unknown": "#ffffff",
}
# Kinds drawn as small ellipses rather than kernel boxes.
_INPUT_KINDS = frozenset({"parameter", "constant"})

FANOUT_COPY_LIMIT = 4
"""An input (a node with no drawn inputs) with more users than this gets one copy per user."""
INPUT_BUNDLE_LIMIT = 4
"""A kernel with more parameters and constants than this as inputs gets them as one node."""
TUPLE_STUB_LIMIT = 4
"""A `tuple` with no users and more operands than this becomes one output stub per operand."""
LONG_EDGE_SPAN = 16
"""Edges spanning more ranks than this become connector pairs (`_cut_long_edges`); a transformer
sublayer's residual edges span about 10."""
SPLAT_OPCODES = FILL_PRESERVING
"""Ops that only move or convert a constant's values (a bias broadcast to an activation's shape): with
the constant, they are drawn inside their one user (`_fold_constant_splats`)."""
EXPAND_MAX_NODES = 1500
"""`expand=True` draws fused ops only while kernels plus fused ops stay under this; else it degrades."""

_LABEL_OPS = 3  # fused opcodes listed in a node label before "+N"
_SHAPE_CHARS = 32  # edge-label shapes longer than this are cut with "…"

_NARROW_HINT = (
    "narrow the view: draw one computation (--computation NAME), one scope (--scope PREFIX, scope=...) "
    "or one kernel's neighbourhood (--around KERNEL --depth N, around=..., depth=...)"
)


# ---------------------------------------------------------------------------------------------
# The view: plain data that the DOT printer draws


@dataclass(frozen=True, slots=True)
class FusedOp:
    """One instruction inside an expanded fusion."""

    id: str
    """DOT node id (`<kernel>/<instruction>`)."""
    name: str
    """Instruction name inside the fused computation."""
    opcode: str
    """Its opcode; `parameter` ops are where the fusion's operands enter."""
    operands: tuple[str, ...]
    """DOT ids of its operands within the same fusion."""
    parameter_number: int | None = None
    """For a `parameter`, which operand of the fusion it is."""


@dataclass(frozen=True, slots=True)
class DrawNode:
    """One drawn node: a kernel, a representative of N repeated kernels, or a copy of an input."""

    id: str
    """DOT node id (the kernel name; `name#k` for a copy, `name[i]` for an output stub)."""
    name: str
    """Kernel name shown in the label."""
    kind: str
    """Kernel kind from the graph (`kLoop`, `op`, `parameter`, ...)."""
    fill: str
    """Fill colour (by kind or by bound)."""
    lines: tuple[str, ...]
    """Label lines under the name: kind and ops, bytes and FLOPs, bound."""
    tooltip: str
    """Hover text: op_name and shape."""
    count: int = 1
    """How many kernels this node stands for (`×N` when > 1)."""
    group: str | None = None
    """Id of the repeat group this node is drawn in, if any."""
    copy_of: str | None = None
    """For a copy of an input or a tuple's output stub: the original kernel; for a bundle of
    inputs or a connector: the kernel it hangs off. None for a kernel."""
    role: str = "kernel"
    """`kernel`, `copy` (of a many-user input), `stub` (an operand of a wide ROOT tuple), `bundle`
    (a kernel's many parameter/constant inputs), or `connector` (long edges, `to ...`/`from ...`)."""
    fused: tuple[FusedOp, ...] = ()
    """The fused instructions, when the view is expanded and this kernel is a fusion."""

    @property
    def is_input(self) -> bool:
        """Drawn as a small ellipse: a parameter, a constant, or a copy or stub of one."""
        return self.kind in _INPUT_KINDS or (self.copy_of is not None and self.kind != "connector")


@dataclass(frozen=True, slots=True)
class DrawEdge:
    """One drawn edge: a tensor, or N identical tensors merged by collapsing."""

    src: str
    """Producer node id."""
    dst: str
    """Consumer node id."""
    label: str
    """Shape and size, `f32[256,1024]\\n1.0 MiB`."""
    bytes: int
    """Bytes of one tensor."""
    operand_index: int
    """Which operand of the consumer it is."""
    count: int = 1
    """How many edges of the graph it stands for."""
    carried: bool = False
    """It joins two different repeats of a collapsed group (layer i to layer j): drawn dashed."""


@dataclass(frozen=True, slots=True)
class RepeatGroup:
    """Kernels repeated under op_name scopes that differ only in an index (`layer_0` ... `layer_11`)."""

    id: str
    """DOT cluster id suffix (`g0`, `g1`, ...)."""
    template: str
    """The scope with its index replaced by `#` (`jit(step)/jvp(layer_#)`)."""
    indices: tuple[int, ...]
    """The indices collapsed into the group, ascending."""
    representative: int
    """The index whose kernels are drawn (the smallest)."""
    kernels: int
    """Kernels per repeat."""

    @property
    def count(self) -> int:
        return len(self.indices)

    @property
    def label(self) -> str:
        return f"{self.template} ×{self.count}  (# = {_ranges(self.indices)})"


@dataclass(frozen=True, slots=True)
class View:
    """What `view_to_dot` draws: nodes, edges, repeat groups, a legend and notes, as plain data."""

    module: str
    """Module name (graph attribute `module`)."""
    computation: str
    """The drawn computation (graph attribute `computation`)."""
    color_by: ColorBy
    """What the fill colour means."""
    nodes: tuple[DrawNode, ...]
    """Drawn nodes, in graph order."""
    edges: tuple[DrawEdge, ...]
    """Drawn edges."""
    groups: tuple[RepeatGroup, ...] = ()
    """Collapsed repeat groups; their nodes carry `group`."""
    legend: tuple[tuple[str, str], ...] = ()
    """(meaning, colour) for each colour used."""
    notes: tuple[str, ...] = ()
    """What the view left out or changed (copies, stubs, skipped expansion), for the user."""
    kernels: int = 0
    """Kernels in the input graph, counted as the report's table counts them (`kernel_count`: not its
    parameters or constants; a loop or call counts the kernels it runs), before scope selection and
    collapsing."""
    expanded: bool = False
    """Fusions are drawn as clusters of their fused ops."""

    @property
    def node_count(self) -> int:
        """Nodes Graphviz lays out: drawn nodes plus, when expanded, their fused ops."""
        return len(self.nodes) + sum(len(n.fused) for n in self.nodes)

    @property
    def max_degree(self) -> int:
        """The most edges any drawn node keeps (in plus out)."""
        degree: Counter[str] = Counter()
        for e in self.edges:
            degree[e.src] += 1
            degree[e.dst] += 1
        return max(degree.values(), default=0)

    def to_dot(self) -> str:
        from irscope.render.dot import view_to_dot  # the writer imports this module

        return view_to_dot(self)

    def to_svg(self, *, engine: str = "auto", timeout_s: float = 60) -> str:
        from irscope.render.dot import render_view

        return render_view(self, engine=engine, timeout_s=timeout_s)

    def _repr_svg_(self) -> str | None:
        # A notebook shows the SVG; on failure (no Graphviz, too slow) it falls back to repr().
        try:
            return self.to_svg(timeout_s=30)
        except RenderError:
            return None

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": "irscope.kernel-graph-view/1",
            "module": self.module,
            "computation": self.computation,
            "color_by": self.color_by,
            "kernels": self.kernels,
            "expanded": self.expanded,
            "nodes": [
                {
                    "id": n.id, "name": n.name, "kind": n.kind, "fill": n.fill, "lines": list(n.lines),
                    "tooltip": n.tooltip, "count": n.count, "group": n.group, "copy_of": n.copy_of,
                    "role": n.role,
                    "fused": [
                        {"id": f.id, "name": f.name, "opcode": f.opcode, "operands": list(f.operands),
                         "parameter_number": f.parameter_number}
                        for f in n.fused
                    ],
                }
                for n in self.nodes
            ],
            "edges": [
                {"src": e.src, "dst": e.dst, "label": e.label, "bytes": e.bytes,
                 "operand_index": e.operand_index, "count": e.count, "carried": e.carried}
                for e in self.edges
            ],
            "groups": [
                {"id": g.id, "template": g.template, "indices": list(g.indices),
                 "representative": g.representative, "kernels": g.kernels}
                for g in self.groups
            ],
            "legend": [list(item) for item in self.legend],
            "notes": list(self.notes),
        }

    def __repr__(self) -> str:
        notes = "".join(f"\n  note: {n}" for n in self.notes)
        return (f"<View {self.module}/{self.computation}: {len(self.nodes)} nodes, {len(self.edges)} edges"
                f" drawn for {self.kernels} kernels>{notes}")


# ---------------------------------------------------------------------------------------------
# Human units


def human_flops(n: float) -> str:
    """`2.1e9` -> `2.1 GFLOP` (decimal units)."""
    if n < 1000:
        return f"{n:.0f} FLOP"
    for unit in ("kFLOP", "MFLOP", "GFLOP", "TFLOP", "PFLOP"):
        n /= 1000
        if n < 1000 or unit == "PFLOP":
            return f"{n:.1f} {unit}"
    raise AssertionError("unreachable")


def _ranges(indices: Sequence[int]) -> str:
    """`[0, 1, 2, 5]` -> `0-2, 5`."""
    parts: list[str] = []
    start = prev = indices[0]
    for i in [*indices[1:], None]:
        if i is not None and i == prev + 1:
            prev = i
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if i is not None:
            start = prev = i
    return ", ".join(parts)


def _short_shape(shape: str) -> str:
    """Drop layouts (`{1,0}`) and cut long tuple shapes."""
    text = re.sub(r"\{[^{}]*\}", "", shape)
    return text if len(text) <= _SHAPE_CHARS else text[: _SHAPE_CHARS - 1] + "…"


# ---------------------------------------------------------------------------------------------
# Repeated layers

# An index at the end of a scope word: `layer_3`, `layers.3`, `block3`, `h-3`, or a bare `3` between
# slashes or dots. It must be followed by the end, `/`, `.`, `)` or `]`, so `atan2` in a primitive name
# would match — which is why only the scope (the op_name without its last component) is searched.
_INDEX = re.compile(r"(?<![\w])(?:[A-Za-z]\w*?[_.\-]?)?(\d+)(?=$|[/.)\]])")


@dataclass(frozen=True, slots=True)
class _Slot:
    """Where one kernel sits in a repeat: template, index, and what it is inside the repeat."""

    template: str
    index: int
    signature: tuple[Any, ...]


def _scope(op_name: str | None) -> str:
    """The scope of the first op_name (XLA joins a fusion's several op_names with `;`)."""
    first = (op_name or "").split(";", 1)[0]
    return first.rsplit("/", 1)[0] if "/" in first else ""


@dataclass(frozen=True, slots=True)
class Repeats:
    """What `find_repeats` found."""

    groups: tuple[RepeatGroup, ...]
    """The collapsed groups."""
    representative: Mapping[str, str]
    """For every kernel of a collapsed repeat, the kernel drawn in its place (drawn ones map to
    themselves)."""
    place: Mapping[str, tuple[str, int]]
    """For every kernel of a collapsed repeat, (group id, index of its repeat)."""


def find_repeats(graph: nx.MultiDiGraph) -> Repeats:
    """Find repeated layers: kernels whose op_name scopes differ only in one index.

    How repeats are detected:

    1. Each kernel's scope is its `op_name` without the last component (the primitive, so `atan2`
       or `log1p` never count). Every number that ends a scope word is a candidate index:
       `layer_3`, `layers.3`, `block3`, `jvp(layer_3)`, or a bare `/3/`. Replacing it by `#` and
       cutting the scope after it gives a *template* (`jit(step)/jvp(layer_#)`).
    2. A template seen with at least two distinct indices is a repeat; a kernel belongs to the
       outermost such template in its scope (`layer_#`, not `layer_3/head_#`). Forward and backward
       passes (`jvp(layer_#)`, `transpose(jvp(layer_#))`) are different templates.
    3. An input (no in-edges: a layer's weights) whose users in repeats all have the same index
       joins the first user's repeat (users outside repeats, like the ROOT tuple, do not count) if
       every collapsed repeat has a matching input (so the model's input, used by the first layer
       only, stays outside). Likewise a kernel with no index in its scope whose inputs from
       repeats all have one index (a layer's weight update, scoped `jit(step)/sub`) joins the
       repeat of the last of them, if every collapsed repeat has a matching kernel.
    4. A repeat's *shape* is the set of its kernels' signatures (op_names with the repeat's prefix
       cut out, kind, opcode; not the fused ops, which XLA may vary by layer), each numbered by how many of the same signature came before it. Repeats with the
       most common shape collapse when there are at least two of them: the smallest index is drawn
       and stands for the rest, and the j-th kernel of a signature in repeat i maps to the j-th
       kernel of that signature in the drawn repeat. Repeats of another shape (a first or last layer
       that XLA fused differently) stay drawn as they are.

    Op_names with no index in their scope (a Python loop without `jax.named_scope`) never collapse.

    Returns:
        The collapsed groups, and where each of their kernels is drawn.
    """
    nodes = list(graph.nodes)
    position = {name: i for i, name in enumerate(nodes)}
    # 1. Candidate (template, index, rest-of-op_name) per kernel, outermost first.
    candidates: dict[str, list[tuple[str, int, str]]] = {}
    indices_of: dict[str, set[int]] = defaultdict(set)
    for name in nodes:
        op_name = graph.nodes[name].get("op_name") or ""
        scope = _scope(op_name)
        found: list[tuple[str, int, str]] = []
        for m in _INDEX.finditer(scope):
            closing = re.match(r"\)*", scope[m.end(1):])
            tail = closing.group(0) if closing else ""
            template = scope[: m.start(1)] + "#" + tail
            # What the kernel is inside its repeat: the op_name(s) with this repeat's prefix cut out.
            prefix = re.escape(scope[: m.end(1)]) + r"(?!\d)"
            found.append((template, int(m.group(1)), re.sub(prefix, "#", op_name)))
            indices_of[template].add(int(m.group(1)))
        if found:
            candidates[name] = found
    # 2. The outermost template that really repeats.
    slot: dict[str, _Slot] = {}
    for name, found in candidates.items():
        for template, index, rest in found:
            if len(indices_of[template]) >= 2:
                attrs = graph.nodes[name]
                # Not the fused ops: XLA may fuse a different number of them in each layer (a gradient
                # accumulation that grows with depth), and the kernel is still "the same kernel".
                sig = ("kernel", rest, attrs.get("kind"), attrs.get("opcode"))
                slot[name] = _Slot(template, index, sig)
                break
    # 3. Inputs whose users all sit in one repeat join it.
    for name in nodes:
        if name in slot or graph.in_degree(name) > 0:
            continue
        users = [(v, d.get("operand_index", 0)) for _, v, d in graph.out_edges(name, data=True) if v in slot]
        if users and len({slot[v].index for v, _ in users}) == 1:
            template, index = slot[users[0][0]].template, slot[users[0][0]].index
            attrs = graph.nodes[name]
            uses = tuple(sorted(((slot[v].signature, i) for v, i in users), key=repr))
            sig = ("input", attrs.get("kind"), attrs.get("shape"), uses)
            slot[name] = _Slot(template, index, sig)
    # 3b. Kernels outside any repeat whose inputs from repeats all have one index (a layer's weight
    #     update `p - lr * g`, scoped `jit(step)/sub`) join the repeat of their last such input.
    for name in nodes:  # graph order is a topological order, so chains of such kernels join too
        if name in slot or graph.in_degree(name) == 0:
            continue
        producers = [(u, d.get("operand_index", 0)) for u, _, d in graph.in_edges(name, data=True) if u in slot]
        if producers and len({slot[u].index for u, _ in producers}) == 1:
            last = max((u for u, _ in producers), key=position.__getitem__)
            attrs = graph.nodes[name]
            inputs = tuple(sorted(((slot[u].signature, i) for u, i in producers), key=repr))
            sig = ("derived", attrs.get("op_name"), attrs.get("kind"), attrs.get("opcode"), inputs)
            slot[name] = _Slot(slot[last].template, slot[last].index, sig)
    # 4. Group, compare shapes (of kernels: an input like the model's `x` may sit in the first
    #    layer only), collapse the most common shape.
    members: dict[str, dict[int, list[str]]] = defaultdict(lambda: defaultdict(list))
    for name in nodes:  # graph order, so the j-th kernel of a signature is well defined
        if name in slot:
            members[slot[name].template][slot[name].index].append(name)
    groups: list[RepeatGroup] = []
    representative: dict[str, str] = {}
    place: dict[str, tuple[str, int]] = {}
    for template, by_index in members.items():
        keyed = {i: _ordinal_keys(names, slot) for i, names in by_index.items()}
        shapes = {i: frozenset(k for k in keys if k[0][0] == "kernel") for i, keys in keyed.items()}
        common, _ = Counter(shapes.values()).most_common(1)[0]
        indices = sorted(i for i, s in shapes.items() if s == common)
        if len(indices) < 2:
            continue
        # Kernels correspond by (signature, ordinal); inputs only where every repeat has one.
        shared = set.intersection(*(set(keyed[i]) for i in indices))
        gid = f"g{len(groups)}"
        rep = indices[0]
        groups.append(RepeatGroup(gid, template, tuple(indices), rep, len(common)))
        for i in indices:
            for key, name in keyed[i].items():
                if key in shared:
                    representative[name] = keyed[rep][key]
                    place[name] = (gid, i)
    return Repeats(tuple(groups), representative, place)


def _ordinal_keys(names: Sequence[str], slot: Mapping[str, _Slot]) -> dict[tuple[Any, int], str]:
    """(signature, how many kernels of that signature came before) -> kernel, for one repeat."""
    seen: Counter[Any] = Counter()
    keys: dict[tuple[Any, int], str] = {}
    for name in names:
        sig = slot[name].signature
        keys[(sig, seen[sig])] = name
        seen[sig] += 1
    return keys


# ---------------------------------------------------------------------------------------------
# Building the view


def _palette(graph: nx.MultiDiGraph, color_by: ColorBy) -> dict[str, str]:
    """Legend entry -> colour: the fixed table, plus a colour each for backend fusion kinds
    (`__triton_gemm`, `__ynn_fusion`) in name order while `EXTRA_FUSION_COLORS` lasts."""
    if color_by == "bound":
        return dict(BOUND_COLORS)
    palette = dict(KIND_COLORS)
    extra = sorted({str(d.get("kind")) for _, d in graph.nodes(data=True)
                    if d.get("kind") and d.get("kind") not in KIND_COLORS
                    and (d.get("opcode") == "fusion" or str(d.get("kind")).startswith("k"))})
    for kind, color in zip(extra, EXTRA_FUSION_COLORS, strict=False):
        palette[kind] = color
    return palette


def _legend_key(attrs: KernelNode, color_by: ColorBy, palette: Mapping[str, str]) -> str:
    """Which legend entry (and so which colour) a kernel gets."""
    if color_by == "bound":
        bound = attrs.get("bound")
        if bound in BOUND_COLORS:
            return str(bound)
        return "n/a" if attrs.get("kind") in _INPUT_KINDS else "unknown"
    kind = str(attrs.get("kind") or "other")
    if kind in palette:
        return kind
    if attrs.get("opcode") == "fusion" or kind.startswith("k"):
        return "fusion"
    return "other"


def _label_lines(attrs: KernelNode) -> tuple[str, ...]:
    """Label lines under a kernel's name: kind and first ops, bytes read -> written and FLOPs, bound."""
    kind = str(attrs.get("kind") or "")
    if kind in _INPUT_KINDS:
        return (_short_shape(str(attrs.get("shape") or "")),)
    ops = [op for op in attrs.get("ops") or [attrs.get("opcode") or "?"] if op != "parameter"]
    shown = ", ".join(ops[:_LABEL_OPS]) + (f" +{len(ops) - _LABEL_OPS}" if len(ops) > _LABEL_OPS else "")
    first = shown if kind in ("op", "") else f"{kind} · {shown}"
    lines = [first]
    read, written, flops = (float(attrs.get(k) or 0) for k in ("bytes_read", "bytes_written", "flops"))
    traffic = f"{human_bytes(read)} → {human_bytes(written)}"
    lines.append(traffic + (f" · {human_flops(flops)}" if flops else ""))
    bound, intensity = attrs.get("bound"), attrs.get("intensity")
    if bound in ("memory", "compute"):
        lines.append(f"{bound}-bound" + (f" · {intensity:.3g} FLOP/B" if intensity is not None else ""))
    return tuple(lines)


def _tooltip(name: str, attrs: KernelNode) -> str:
    parts = [name, str(attrs.get("shape") or "")]
    if attrs.get("op_name"):
        parts.append(str(attrs["op_name"]))
    return "\n".join(p for p in parts if p)


def _edge_label(data: TensorEdge) -> str:
    shape = _short_shape(str(data.get("shape") or data.get("dtype") or ""))
    return f"{shape}\n{human_bytes(float(data.get('bytes') or 0))}"


def _parameter_number(op: Mapping[str, Any], ordinal: int) -> int:
    if isinstance(op.get("parameter_number"), int):
        return int(op["parameter_number"])
    m = re.search(r"param(?:eter)?_?(\d+)", str(op.get("name") or ""))
    return int(m.group(1)) if m else ordinal


def _fused_ops(kernel: str, fused: Iterable[FusedInstruction]) -> tuple[FusedOp, ...]:
    ops = list(fused)
    ids = {str(op["name"]): f"{kernel}/{op['name']}" for op in ops}
    out: list[FusedOp] = []
    ordinal = 0
    for op in ops:
        number = None
        if op.get("opcode") == "parameter":
            number = _parameter_number(op, ordinal)
            ordinal += 1
        operands = tuple(ids[o] for o in op.get("operands") or () if o in ids)
        out.append(FusedOp(ids[str(op["name"])], str(op["name"]), str(op.get("opcode")), operands, number))
    return tuple(out)


def build_view(
    graph: nx.MultiDiGraph,
    *,
    color_by: ColorBy = "kind",
    expand: bool = False,
    collapse_repeats: bool = True,
    max_nodes: int = 2000,
    scope: str | None = None,
    around: str | None = None,
    depth: int = 2,
    long_edge_span: int | None = LONG_EDGE_SPAN,
) -> View:
    """Decide what to draw for a kernel graph; see the module docstring for each step.

    Arguments:
        graph: a kernel graph (`irscope.passes.kernel_graph`, schema `irscope.ir.graph_schema`) of one computation.
        color_by: fill by `"kind"` (kLoop, kInput, custom-call, ...) or by `"bound"` (memory/compute).
        expand: draw each fusion as a cluster of its fused ops (degrades, with a note, above
            `EXPAND_MAX_NODES` kernels plus ops).
        collapse_repeats: collapse repeated layers (`find_repeats`) into one `×N` cluster.
        max_nodes: refuse (`RenderError`) to draw more kernels than this (copies, stubs and
            connectors not counted).
        scope: draw only kernels whose op_name starts with this prefix, at its start or at any `/`
            (`"jit(step)/layer_3/"`, or just `"layer_3/"`; the trailing `/` keeps out `layer_30`).
        around: draw only this kernel and those within `depth` hops up (its inputs' producers) and
            down (its users); RenderError for a name the graph does not have.
        depth: hops for `around`.
        long_edge_span: edges spanning more ranks than this become connector pairs (`None`: never).

    Returns:
        The `View`.
    """
    if color_by not in ("kind", "bound"):
        raise ValueError(f"unknown color_by: {color_by!r} (expected 'kind' or 'bound')")
    module = str(graph.graph.get("module", ""))
    computation = str(graph.graph.get("computation", ""))
    notes: list[str] = []

    # Scope and neighbourhood selection: a subgraph, so repeats are found within it.
    graph_in = graph
    if scope:
        keep = {n for n, d in graph_in.nodes(data=True) if in_scope(d.get("op_name"), scope)}
        if not keep:
            raise RenderError(f"--scope {scope}: no kernel of {computation or 'the graph'} has an op_name "
                              f"starting with it (at the start or after a '/')")
        graph_in = _select(graph_in, keep, f"scope {scope!r}", notes)
    if around is not None:
        graph_in = _select(graph_in, neighbourhood(graph_in, around, depth, computation), f"{depth} hops of {around}",
                           notes)

    repeats = find_repeats(graph_in) if collapse_repeats else Repeats((), {}, {})
    groups, rep, place = repeats.groups, repeats.representative, repeats.place
    for g in groups:
        notes.append(f"{g.count} repeats of {g.template} drawn as one (×{g.count})")
    count_of = {g.id: g.count for g in groups}

    def drawn(name: str) -> str:
        return rep.get(name, name)

    # Edges, mapped onto the drawn kernels; edges between the same two drawn nodes merge (all
    # repeats' copies of one edge, and one producer feeding several operands of one consumer).
    merged: dict[tuple[str, str, bool], list[Any]] = {}
    for u, v, data in graph_in.edges(data=True):
        du, dv = drawn(u), drawn(v)
        pu, pv = place.get(u), place.get(v)
        carried = pu is not None and pv is not None and pu[0] == pv[0] and pu[1] != pv[1]
        key = (du, dv, carried)
        if key in merged:
            merged[key][2] += 1
        else:
            merged[key] = [data, int(data.get("operand_index", 0)), 1]
    edges = [DrawEdge(du, dv, _edge_label(data), int(data.get("bytes") or 0), oi, n, carried)
             for (du, dv, carried), (data, oi, n) in merged.items()]

    # Nodes: one per drawn kernel, in graph order.
    palette = _palette(graph_in, color_by)
    legend_used: dict[str, str] = {}
    nodes: list[DrawNode] = []
    for name, attrs in graph_in.nodes(data=True):
        if drawn(name) != name:
            continue
        key = _legend_key(attrs, color_by, palette)
        fill = legend_used[key] = palette[key]
        gid = place[name][0] if name in place else None
        nodes.append(DrawNode(
            id=name, name=name, kind=str(attrs.get("kind") or ""), fill=fill,
            lines=_label_lines(attrs), tooltip=_tooltip(name, attrs),
            count=count_of[gid] if gid else 1, group=gid,
        ))

    nodes, edges = _stub_tuples(graph_in, nodes, edges, notes)
    nodes, edges = _fold_constant_splats(graph_in, nodes, edges, notes)
    nodes, edges = _copy_fanout_inputs(nodes, edges, notes)
    nodes, edges = _bundle_inputs(nodes, edges, notes)
    if long_edge_span is not None:
        nodes, edges = _cut_long_edges(nodes, edges, long_edge_span, notes)

    drawn_kernels = sum(1 for n in nodes if n.copy_of is None)
    if drawn_kernels > max_nodes:
        raise RenderError(
            f"{computation or 'the graph'} has {drawn_kernels} kernels to draw (max_nodes={max_nodes}) "
            f"after collapsing repeats: {_NARROW_HINT}")

    expanded = False
    if expand:
        total = len(nodes) + sum(len(graph_in.nodes[n.id].get("fused") or ())
                                 for n in nodes if n.copy_of is None)
        if total > EXPAND_MAX_NODES:
            notes.append(f"not expanded: {total} kernels and fused ops exceed {EXPAND_MAX_NODES}; {_NARROW_HINT}")
        else:
            expanded = True
            nodes = [
                replace(n, fused=_fused_ops(n.id, graph_in.nodes[n.id].get("fused") or ()))
                if n.copy_of is None else n
                for n in nodes
            ]

    order = list(palette)
    legend = tuple(sorted(legend_used.items(), key=lambda kv: order.index(kv[0])))
    return View(module, computation, color_by, tuple(nodes), tuple(edges), groups, legend,
                tuple(notes), sum(kernel_count(attrs) for _, attrs in graph.nodes(data=True)), expanded)


def in_scope(op_name: str | None, prefix: str) -> bool:
    """Whether an op_name starts with `prefix`, at its start or right after one of its `/`."""
    text = op_name or ""
    return text.startswith(prefix) or ("/" + prefix) in text


def neighbourhood(graph: nx.MultiDiGraph, kernel: str, depth: int, computation: str = "") -> set[str]:
    """`kernel` and the nodes within `depth` hops up (producers of its inputs) and down (its users)."""
    if kernel not in graph:
        near = sorted(n for n in graph.nodes if kernel in str(n))[:3]
        hint = f" (did you mean {', '.join(near)}?)" if near else ""
        raise RenderError(f"--around {kernel}: no such kernel in {computation or 'the graph'}{hint}")
    if depth < 0:
        raise RenderError(f"--depth {depth}: give 0 or more hops")
    keep = {kernel}
    for step in (graph.predecessors, graph.successors):
        frontier = {kernel}
        for _ in range(depth):
            frontier = {m for n in frontier for m in step(n)} - keep
            keep |= frontier
    return keep


def _select(graph: nx.MultiDiGraph, keep: set[str], what: str, notes: list[str]) -> nx.MultiDiGraph:
    cut = sum(1 for u, v in graph.edges() if (u in keep) != (v in keep))
    if cut:
        notes.append(f"{cut} edges to kernels outside {what} not drawn")
    return graph.subgraph([n for n in graph.nodes if n in keep])


def _stub_tuples(graph: nx.MultiDiGraph, nodes: list[DrawNode], edges: list[DrawEdge],
                 notes: list[str]) -> tuple[list[DrawNode], list[DrawEdge]]:
    """A `tuple` with no users and many operands (the ROOT of a training step) -> one stub each."""
    indeg: Counter[str] = Counter(e.dst for e in edges)
    has_users = {e.src for e in edges}
    by_id = {n.id: n for n in nodes}
    wide = {n.id for n in nodes
            if graph.nodes[n.id].get("opcode") == "tuple" and n.id not in has_users
            and indeg[n.id] > TUPLE_STUB_LIMIT}
    if not wide:
        return nodes, edges
    out_nodes = [n for n in nodes if n.id not in wide]
    out_edges: list[DrawEdge] = []
    taken = {n.id for n in nodes}
    for e in edges:
        if e.dst not in wide:
            out_edges.append(e)
            continue
        stub = _fresh(f"{e.dst}[{e.operand_index}]", taken)
        t = by_id[e.dst]
        out_nodes.append(DrawNode(stub, f"{t.name}[{e.operand_index}]", t.kind, t.fill, (), t.tooltip,
                                  count=t.count, group=t.group, copy_of=t.id, role="stub"))
        out_edges.append(replace(e, dst=stub))
    for t in sorted(wide):
        notes.append(f"{t}: its {indeg[t]} operands drawn as output stubs {t}[i]")
    return out_nodes, out_edges


def _fold_constant_splats(graph: nx.MultiDiGraph, nodes: list[DrawNode], edges: list[DrawEdge],
                          notes: list[str]) -> tuple[list[DrawNode], list[DrawEdge]]:
    """A constant whose one user is a broadcast (or another `SPLAT_OPCODES` op), and that op when it has
    one user: drawn as a line in the user's label, not as two nodes. An unfused TensorFlow module has a
    hundred such pairs (every bias and batch-norm scale), each a rank of its own beside its user, and
    together they set the drawing's width (SSD-MobileNet: 15,191 pt)."""
    by_id = {n.id: n for n in nodes}
    into: dict[str, list[DrawEdge]] = defaultdict(list)
    out: dict[str, list[DrawEdge]] = defaultdict(list)
    for e in edges:
        into[e.dst].append(e)
        out[e.src].append(e)

    def splat(n: DrawNode) -> bool:  # a node whose inputs are all single-user constants
        ins = into.get(n.id, [])
        return (n.role == "kernel" and graph.nodes[n.id].get("opcode") in SPLAT_OPCODES and bool(ins)
                and all(by_id[e.src].kind == "constant" and by_id[e.src].role == "kernel" and not into.get(e.src)
                        and len(out[e.src]) == 1 for e in ins))

    splats = [n for n in nodes if splat(n)]
    if not splats:
        return nodes, edges
    gone: set[str] = set()
    extra: dict[str, list[str]] = defaultdict(list)
    for n in splats:
        consts = [by_id[e.src] for e in into[n.id]]
        gone.update(c.id for c in consts)
        what = f"{n.name} of {', '.join(c.name for c in consts)}"
        users = {e.dst for e in out.get(n.id, [])}
        if len(users) == 1 and n.count == by_id[next(iter(users))].count:
            gone.add(n.id)  # the pair is one line in its user's label
            extra[next(iter(users))].append(f"+ {what} {_short_shape(str(graph.nodes[n.id].get('shape') or ''))}")
        else:
            extra[n.id].append(f"of {', '.join(c.name for c in consts)}")
    out_nodes = [replace(n, lines=(*n.lines, *extra[n.id][:3], *((f"+{len(extra[n.id]) - 3} more",)
                                                                 if len(extra[n.id]) > 3 else ())))
                 if n.id in extra else n for n in nodes if n.id not in gone]
    out_edges = [e for e in edges if e.src not in gone and e.dst not in gone]
    inside = sum(1 for n in splats if n.id in gone)
    notes.append(f"{len(splats)} constants broadcast, reshaped or converted drawn in a label line"
                 + (f" ({inside} of them, with the op, inside the one kernel that uses them)" if inside else ""))
    return out_nodes, out_edges


def _copy_fanout_inputs(nodes: list[DrawNode], edges: list[DrawEdge],
                        notes: list[str]) -> tuple[list[DrawNode], list[DrawEdge]]:
    """An input with more than FANOUT_COPY_LIMIT users -> one copy per user (see module docstring)."""
    has_inputs = {e.dst for e in edges}
    users: Counter[str] = Counter(e.src for e in edges if e.src != e.dst)
    wide = {n for n, k in users.items() if k > FANOUT_COPY_LIMIT and n not in has_inputs}
    if not wide:
        return nodes, edges
    by_id = {n.id: n for n in nodes}
    taken = {n.id for n in nodes}
    out_nodes = [n for n in nodes if n.id not in wide]
    out_edges: list[DrawEdge] = []
    copies: Counter[str] = Counter()
    for e in edges:
        if e.src not in wide:
            out_edges.append(e)
            continue
        copies[e.src] += 1
        src = by_id[e.src]
        cid = _fresh(f"{e.src}#{copies[e.src]}", taken)
        # The copy sits next to its user: in the user's repeat cluster, if any.
        out_nodes.append(replace(src, id=cid, copy_of=src.id, role="copy",
                                 group=by_id[e.dst].group if e.dst in by_id else None))
        out_edges.append(replace(e, src=cid))
    widest = sorted(wide, key=lambda n: (-users[n], n))
    listed = ", ".join(f"{n} ({users[n]})" for n in widest[:3]) + (f" +{len(widest) - 3}" if len(widest) > 3 else "")
    notes.append(f"{len(wide)} inputs with more than {FANOUT_COPY_LIMIT} users drawn once per user: {listed}")
    return out_nodes, out_edges


def _bundle_inputs(nodes: list[DrawNode], edges: list[DrawEdge],
                   notes: list[str]) -> tuple[list[DrawNode], list[DrawEdge]]:
    """A kernel with more than INPUT_BUNDLE_LIMIT parameters or constants as inputs gets them as one
    `N inputs` node (a 229-operand fusion would otherwise sit under a rank of 60 ellipses)."""
    by_id = {n.id: n for n in nodes}
    has_inputs = {e.dst for e in edges}
    feeds: dict[str, list[DrawEdge]] = defaultdict(list)
    for e in edges:
        if e.src not in has_inputs and by_id[e.src].is_input and e.src != e.dst:
            feeds[e.dst].append(e)
    wide = {dst: group for dst, group in feeds.items() if len(group) > INPUT_BUNDLE_LIMIT}
    if not wide:
        return nodes, edges
    taken = set(by_id)
    bundled = {id(e) for group in wide.values() for e in group}
    out_edges = [e for e in edges if id(e) not in bundled]
    still_used = {e.src for e in out_edges} | {e.dst for e in out_edges}
    gone = {e.src for group in wide.values() for e in group} - still_used
    out_nodes = [n for n in nodes if n.id not in gone]
    for dst, group in wide.items():
        names = [by_id[e.src].copy_of or e.src for e in group]
        kinds = Counter(by_id[e.src].kind for e in group)
        first = by_id[group[0].src]
        bid = _fresh(f"{dst}<inputs", taken)
        out_nodes.append(DrawNode(bid, f"{len(group)} inputs", kinds.most_common(1)[0][0], first.fill,
                                  (_names(names, 2),), "\n".join(names), group=by_id[dst].group, copy_of=dst,
                                  role="bundle"))
        out_edges.append(_bundle(group, bid, dst))
    notes.append(f"{len(wide)} kernels with more than {INPUT_BUNDLE_LIMIT} parameter or constant inputs: "
                 "those drawn as one `N inputs` node each")
    return out_nodes, out_edges


def ranks(nodes: Sequence[DrawNode], edges: Sequence[DrawEdge]) -> dict[str, int] | None:
    """Layer of each node as `dot` would roughly rank it, or None if the edges have a cycle.

    Network simplex pulls sources down to their users and sinks up to their inputs, so: a node
    with inputs and users sits one below its lowest such input (a longest path that ignores
    sources and sinks); a source, just above its first user that has users; a sink, just below its
    lowest input; a source feeding only sinks, just above the first of them.
    """
    graph = nx.DiGraph()
    graph.add_nodes_from(n.id for n in nodes)
    graph.add_edges_from((e.src, e.dst) for e in edges if not e.carried and e.src != e.dst)
    try:
        order = list(nx.topological_sort(graph))
    except nx.NetworkXUnfeasible:
        return None
    sources = {n for n in order if graph.in_degree(n) == 0}
    sinks = {n for n in order if graph.out_degree(n) == 0 and n not in sources}
    rank: dict[str, int] = {}
    for n in order:
        if n not in sources:
            rank[n] = max((rank[p] + 1 for p in graph.predecessors(n) if p not in sources), default=1)
    floating = set()
    for n in sources:
        inner = [rank[c] for c in graph.successors(n) if c not in sinks]
        if inner:
            rank[n] = min(inner) - 1
        else:
            floating.add(n)
    for n in sinks:
        rank[n] = max((rank[p] + 1 for p in graph.predecessors(n) if p not in floating), default=rank[n])
    for n in floating:
        rank[n] = min((rank[c] for c in graph.successors(n)), default=1) - 1
    return rank


def _names(names: Sequence[str], limit: int = 3) -> str:
    return ", ".join(names[:limit]) + (f" +{len(names) - limit}" if len(names) > limit else "")


def _cut_long_edges(nodes: list[DrawNode], edges: list[DrawEdge], span: int,
                    notes: list[str]) -> tuple[list[DrawNode], list[DrawEdge]]:
    """Edges spanning more than `span` ranks -> off-page connectors: the producer gets one
    `to ...` node, the consumer one `from ...` node, each naming the kernels at the other end.

    Why: dot's cost grows with rank-spanning edges times the graph's depth (measured here: a
    1,346-node chain lays out in 1.6 s, in 15 s once one input feeds 6 kernels spread along it,
    and not within 120 s at 12), and in a training step every activation saved for the backward
    pass is such an edge. They are also the lines nobody can follow in the picture.
    """
    total = 0
    for _ in range(8):  # cutting moves ranks, which can make other edges long; each pass cuts more
        rank = ranks(nodes, edges)
        if rank is None:
            break
        long = [e for e in edges if not e.carried and e.src != e.dst and rank[e.dst] - rank[e.src] > span]
        if not long:
            break
        nodes, edges = _connect(nodes, edges, long)
        total += len(long)
    if total:
        notes.append(f"{total} edges spanning more than {span} ranks drawn as connectors (to .../from ...)")
    return nodes, edges


def _connect(nodes: list[DrawNode], edges: list[DrawEdge],
             long: list[DrawEdge]) -> tuple[list[DrawNode], list[DrawEdge]]:
    """Replace `long` edges by a `to ...` node under each producer and a `from ...` node above
    each consumer."""
    by_id = {n.id: n for n in nodes}
    taken = set(by_id)
    outgoing: dict[str, list[DrawEdge]] = defaultdict(list)
    incoming: dict[str, list[DrawEdge]] = defaultdict(list)
    for e in long:
        outgoing[e.src].append(e)
        incoming[e.dst].append(e)
    cut = set(map(id, long))
    out_nodes = list(nodes)
    out_edges = [e for e in edges if id(e) not in cut]
    for src, group in outgoing.items():
        node = by_id[src]
        cid = _fresh(f"{src}>", taken)
        targets = [by_id[e.dst].name for e in group]
        out_nodes.append(DrawNode(cid, "to " + _names(targets), "connector", "#ffffff", (),
                                  "used by:\n" + "\n".join(targets), group=node.group, copy_of=src,
                                  role="connector"))
        out_edges.append(_bundle(group, src, cid))
    for dst, group in incoming.items():
        node = by_id[dst]
        cid = _fresh(f"{dst}<", taken)
        sources = [by_id[e.src].name for e in group]
        out_nodes.append(DrawNode(cid, "from " + _names(sources), "connector", "#ffffff", (),
                                  "inputs from:\n" + "\n".join(sources), group=node.group, copy_of=dst,
                                  role="connector"))
        out_edges.append(_bundle(group, cid, dst))
    return out_nodes, out_edges


def _bundle(group: Sequence[DrawEdge], src: str, dst: str) -> DrawEdge:
    """One edge standing for several (the same tensors seen from a connector)."""
    if len(group) == 1:
        return replace(group[0], src=src, dst=dst)
    total = sum(e.bytes * e.count for e in group)
    count = sum(e.count for e in group)
    return DrawEdge(src, dst, f"{count} tensors\n{human_bytes(total)}", total, group[0].operand_index)


def _fresh(candidate: str, taken: set[str]) -> str:
    name, k = candidate, 1
    while name in taken:
        k += 1
        name = f"{candidate}~{k}"
    taken.add(name)
    return name


# ---------------------------------------------------------------------------------------------
# Plain data


def _plain(value: Any) -> Any:
    """A JSON-safe copy: tuples to lists, non-finite floats to None, unknown objects to str."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return str(value)


def graph_to_json(graph: nx.MultiDiGraph) -> dict[str, Any]:
    """The kernel graph as plain data: `{"schema", "module", "computation", "nodes", "edges"}`.

    Each node is its attributes plus `"id"`; each edge its attributes plus `"src"`, `"dst"`, `"key"`.
    For what is drawn (after collapsing and copies) use `build_view(graph).to_json()`.
    """
    return {
        "schema": "irscope.kernel-graph/1",
        "module": _plain(graph.graph.get("module")),
        "computation": _plain(graph.graph.get("computation")),
        "nodes": [{"id": n, **_plain(dict(d))} for n, d in graph.nodes(data=True)],
        "edges": [{"src": u, "dst": v, "key": _plain(k), **_plain(dict(d))}
                  for u, v, k, d in graph.edges(keys=True, data=True)],
    }
