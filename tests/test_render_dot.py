"""Tests for `irscope.render.dot`: the view data first (what is drawn), then DOT through Graphviz.

The kernel graphs are built by hand to the schema of `irscope.ir.graph_schema`; `transformer_graph`
makes a training-step-like graph of any size (layers of attention + MLP kernels, one weight per
matmul, a constant feeding every layer, a ROOT tuple of all gradients).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from irscope.render import dot as rd
from irscope.render import graph_view as gv

HAVE_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAVE_DOT, reason="Graphviz 'dot' not installed")


# ---------------------------------------------------------------------------------------------
# Hand-built kernel graphs


def add_kernel(g: nx.MultiDiGraph, name: str, kind: str = "kLoop", *, ops: list[str] | None = None,
               op_name: str | None = None, shape: str = "f32[256,1024]", opcode: str | None = None,
               fused: list[dict] | None = None, bound: str | None = "memory", **costs: float) -> str:
    opcode = opcode or {"parameter": "parameter", "constant": "constant", "op": "dot"}.get(kind, "fusion")
    g.add_node(
        name, kind=kind, opcode=opcode, ops=ops or [opcode], op_name=op_name, shape=shape,
        bytes_read=costs.get("bytes_read", 2 * 2**20), bytes_written=costs.get("bytes_written", 2**20),
        flops=costs.get("flops", 262144.0), transcendentals=0.0,
        bound=None if kind in ("parameter", "constant") else bound,
        intensity=None if kind in ("parameter", "constant") else 0.25, time_at_peak_s=None,
        fused=fused or [],
    )
    return name


def add_edge(g: nx.MultiDiGraph, u: str, v: str, operand_index: int = 0,
             shape: str = "f32[256,1024]{1,0}", nbytes: int = 2**20) -> None:
    g.add_edge(u, v, shape=shape, dtype=shape.split("[")[0], bytes=nbytes, operand_index=operand_index)


def new_graph() -> nx.MultiDiGraph:
    return nx.MultiDiGraph(module="jit_step", computation="main.42")


# One sublayer: pre-norm, attention-ish or MLP-ish, residual add. (name, kind, ops, operand names)
_SUBLAYER = [
    ("ln", "kInput", ["reduce", "multiply", "rsqrt"], ["x", "eps"]),
    ("q", "kOutput", ["dot", "add"], ["ln", "w0"]),
    ("k", "kOutput", ["dot", "add"], ["ln", "w1"]),
    ("v", "kOutput", ["dot"], ["ln", "w2"]),
    ("qk", "kOutput", ["dot", "multiply"], ["q", "k"]),
    ("max", "kInput", ["reduce"], ["qk"]),
    ("exp", "kLoop", ["subtract", "exponential"], ["qk", "max"]),
    ("sum", "kInput", ["reduce"], ["exp"]),
    ("softmax", "kLoop", ["divide"], ["exp", "sum"]),
    ("av", "kOutput", ["dot"], ["softmax", "v"]),
    ("o", "kOutput", ["dot"], ["av", "w3"]),
    ("add", "kLoop", ["add"], ["o", "x"]),
]
_WEIGHTS = ["w0", "w1", "w2", "w3"]


def transformer_graph(layers: int, sublayers: int = 1, *, scoped: bool = True) -> nx.MultiDiGraph:
    """A forward pass of `layers` layers of `sublayers` x 16 nodes (12 kernels, 4 weights), plus an
    input, a constant used by every layer norm, a loss, and a ROOT tuple of every weight."""
    g = new_graph()
    x = add_kernel(g, "x.1", "parameter", op_name="x")
    eps = add_kernel(g, "constant.7", "constant", shape="f32[]")
    weights: list[str] = []
    for layer in range(layers):
        scope = f"jit(step)/jvp(transformer)/layer_{layer}" if scoped else "jit(step)/jvp(transformer)"
        for sub in range(sublayers):
            names = {"x": x, "eps": eps}
            for w in _WEIGHTS:
                names[w] = add_kernel(g, f"p.{layer}.{sub}.{w}", "parameter", op_name=f"params[{layer}][{w}]")
                weights.append(names[w])
            for short, kind, ops, operands in _SUBLAYER:
                name = f"fusion.{layer}.{sub}.{short}"
                add_kernel(g, name, kind, ops=ops, op_name=f"{scope}/sub_{sub}/{ops[0]}")
                for i, operand in enumerate(operands):
                    add_edge(g, names[operand], name, i)
                names[short] = name
            x = names["add"]
    loss = add_kernel(g, "loss", "kInput", ops=["multiply", "reduce"], op_name="jit(step)/reduce_sum")
    add_edge(g, x, loss)
    root = add_kernel(g, "tuple.9", "op", opcode="tuple", ops=["tuple"], bound="n/a")
    for i, w in enumerate([loss, *weights]):
        add_edge(g, w, root, i)
    return g


def run_dot(text: str, engine: str = "dot") -> str:
    proc = subprocess.run(["dot", f"-K{engine}", "-Tsvg"], input=text.encode(), capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout.decode()


def fused(*ops: tuple[str, str, list[str]]) -> list[dict]:
    return [{"name": n, "opcode": op, "operands": operands, "shape": "f32[8]"} for n, op, operands in ops]


def small_graph() -> nx.MultiDiGraph:
    """p0, p1 -> fusion.1 (kLoop: multiply, tanh) -> dot.2 (op) ; constant.3 -> fusion.1."""
    g = new_graph()
    add_kernel(g, "p0", "parameter", op_name="x")
    add_kernel(g, "p1", "parameter", op_name="w")
    add_kernel(g, "constant.3", "constant", shape="f32[]")
    add_kernel(g, "fusion.1", "kLoop", ops=["multiply", "tanh"], op_name="jit(f)/tanh", fused=fused(
        ("param_0.1", "parameter", []), ("param_1.1", "parameter", []), ("param_2.1", "parameter", []),
        ("multiply.1", "multiply", ["param_0.1", "param_1.1"]), ("tanh.1", "tanh", ["multiply.1"]),
        ("add.1", "add", ["tanh.1", "param_2.1"])))
    add_kernel(g, "dot.2", "op", ops=["dot"], op_name="jit(f)/dot_general", bound="compute")
    add_edge(g, "p0", "fusion.1", 0)
    add_edge(g, "p1", "fusion.1", 1)
    add_edge(g, "constant.3", "fusion.1", 2, shape="f32[]", nbytes=4)
    add_edge(g, "fusion.1", "dot.2", 0)
    add_edge(g, "p1", "dot.2", 1)
    return g


def svg_texts(svg: str) -> list[str]:
    """The visible text of an SVG, entities decoded."""
    import html

    return [html.unescape(t) for t in re.findall(r"<text[^>]*>(.*?)</text>", svg)]


# ---------------------------------------------------------------------------------------------
# Units and small pieces


def test_human_units() -> None:
    assert rd.human_bytes(0) == "0 B"
    assert rd.human_bytes(1536) == "1.5 KiB"
    assert rd.human_bytes(2**20) == "1.0 MiB"
    assert rd.human_bytes(3 * 2**40) == "3.0 TiB"
    assert rd.human_flops(999) == "999 FLOP"
    assert rd.human_flops(2.1e9) == "2.1 GFLOP"


def test_node_labels_and_edge_labels() -> None:
    view = rd.build_view(small_graph())
    by_id = {n.id: n for n in view.nodes}
    fusion = by_id["fusion.1"]
    assert fusion.lines[0] == "kLoop · multiply, tanh"
    assert fusion.lines[1] == "2.0 MiB → 1.0 MiB · 262.1 kFLOP"
    assert fusion.lines[2] == "memory-bound · 0.25 FLOP/B"
    assert "jit(f)/tanh" in fusion.tooltip
    assert by_id["dot.2"].lines[0] == "dot"  # an unfused op shows its opcode, not "op · dot"
    assert by_id["p0"].lines == ("f32[256,1024]",)
    edge = next(e for e in view.edges if (e.src, e.dst) == ("fusion.1", "dot.2"))
    assert edge.label == "f32[256,1024]\n1.0 MiB"  # layout `{1,0}` dropped
    assert edge.bytes == 2**20


# ---------------------------------------------------------------------------------------------
# DOT through Graphviz


@needs_dot
def test_dot_output_renders() -> None:
    text = rd.to_dot(small_graph())
    assert text.startswith('digraph "jit_step" {')
    assert 'rankdir="TB"' in text
    svg = run_dot(text)
    assert "<svg" in svg
    shown = svg_texts(svg)
    assert "fusion.1" in shown and "kLoop · multiply, tanh" in shown


@needs_dot
def test_awkward_names_are_escaped() -> None:
    g = new_graph()
    a = add_kernel(g, 'fusion.1-a"q\\', "kLoop", ops=["a<b", "c&d"],
                   op_name="jit(f)/x[\"k's\"]/<tag>&amp;\\N/add")
    b = add_kernel(g, "p\\N.1", "parameter", op_name='params["w"]')
    c = add_kernel(g, "custom-call.2{x}", "custom-call", op_name="a;b|c")
    add_edge(g, b, a)
    add_edge(g, a, c, shape='(f32[2], s32[]) "q"')
    svg = run_dot(rd.to_dot(g, expand=True))
    shown = svg_texts(svg)
    # A backslash is drawn as U+29F5 (Graphviz would expand `\N`); everything else as written.
    assert 'fusion.1-a"q⧵' in shown
    assert "p⧵N.1" in shown
    assert "kLoop · a<b, c&d" in shown
    assert "custom-call.2{x}" in shown
    tooltips = [t for t in re.findall(r'xlink:title="([^"]*)"', svg)]
    assert any("&amp;amp;⧵N/add" in t for t in tooltips)  # `&amp;` shown literally, not decoded


# ---------------------------------------------------------------------------------------------
# Colours


def test_colours_by_kind() -> None:
    g = small_graph()
    add_kernel(g, "gemm.4", "__triton_gemm", opcode="fusion", ops=["dot"])
    add_kernel(g, "cc.5", "custom-call", opcode="custom-call")
    add_kernel(g, "weird.6", "mystery", opcode="mystery")
    view = rd.build_view(g)
    fill = {n.id: n.fill for n in view.nodes}
    assert fill["fusion.1"] == rd.KIND_COLORS["kLoop"]
    assert fill["dot.2"] == rd.KIND_COLORS["op"]
    assert fill["p0"] == rd.KIND_COLORS["parameter"]
    assert fill["constant.3"] == rd.KIND_COLORS["constant"]
    assert fill["cc.5"] == rd.KIND_COLORS["custom-call"]
    assert fill["gemm.4"] == rd.EXTRA_FUSION_COLORS[0]  # a backend fusion kind gets its own colour
    assert fill["weird.6"] == rd.KIND_COLORS["other"]
    legend = dict(view.legend)
    assert legend["kLoop"] == rd.KIND_COLORS["kLoop"] and legend["__triton_gemm"] == rd.EXTRA_FUSION_COLORS[0]
    assert "kInput" not in legend  # only colours in use
    assert len(set(legend.values())) == len(legend)


def test_colours_by_bound() -> None:
    view = rd.build_view(small_graph(), color_by="bound")
    fill = {n.id: n.fill for n in view.nodes}
    assert fill["fusion.1"] == rd.BOUND_COLORS["memory"]
    assert fill["dot.2"] == rd.BOUND_COLORS["compute"]
    assert fill["p0"] == rd.BOUND_COLORS["n/a"]
    assert [k for k, _ in view.legend] == ["memory", "compute", "n/a"]
    with pytest.raises(ValueError, match="unknown color_by: 'flops'"):
        rd.build_view(small_graph(), color_by="flops")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# Expanded fusions


@needs_dot
def test_expand_draws_fusions_as_clusters() -> None:
    view = rd.build_view(small_graph(), expand=True)
    assert view.expanded
    fusion = next(n for n in view.nodes if n.id == "fusion.1")
    assert [op.opcode for op in fusion.fused] == ["parameter"] * 3 + ["multiply", "tanh", "add"]
    assert [op.parameter_number for op in fusion.fused[:3]] == [0, 1, 2]
    text = view.to_dot()
    assert 'subgraph "cluster_k:fusion.1" {' in text
    assert '"fusion.1/multiply.1" -> "fusion.1/tanh.1"' in text
    # the constant (operand 2) enters at param 2; the output leaves from the root `add`
    assert re.search(r'"constant.3" -> "fusion.1/param_2.1" \[.*lhead="cluster_k:fusion.1"', text)
    assert re.search(r'"fusion.1/add.1" -> "dot.2" \[.*ltail="cluster_k:fusion.1"', text)
    assert "param 2" in svg_texts(run_dot(text))


def test_expand_degrades_above_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gv, "EXPAND_MAX_NODES", 5)
    view = rd.build_view(small_graph(), expand=True)
    assert not view.expanded
    assert all(not n.fused for n in view.nodes)
    assert any(n.startswith("not expanded: 11 kernels and fused ops exceed 5") for n in view.notes)


# ---------------------------------------------------------------------------------------------
# Keeping large graphs legible


def test_high_fanout_constant_gets_a_copy_per_user() -> None:
    g = new_graph()
    add_kernel(g, "constant.1", "constant", shape="f32[]")
    add_kernel(g, "constant.2", "constant", shape="f32[]")
    for i in range(10):
        add_kernel(g, f"fusion.{i}", ops=["add"])
        add_edge(g, "constant.1", f"fusion.{i}", shape="f32[]", nbytes=4)
    for i in range(rd.FANOUT_COPY_LIMIT):
        add_edge(g, "constant.2", f"fusion.{i}", 1, shape="f32[]", nbytes=4)
    view = rd.build_view(g)
    copies = [n for n in view.nodes if n.copy_of == "constant.1"]
    assert len(copies) == 10 and "constant.1" not in {n.id for n in view.nodes}
    assert {n.role for n in copies} == {"copy"}
    assert sorted(e.dst for e in view.edges if e.src in {c.id for c in copies}) == sorted(f"fusion.{i}" for i in range(10))
    assert "constant.2" in {n.id for n in view.nodes}  # FANOUT_COPY_LIMIT users: drawn once
    assert any("1 inputs with more than 4 users drawn once per user: constant.1 (10)" in n for n in view.notes)


def test_root_tuple_becomes_output_stubs() -> None:
    g = new_graph()
    add_kernel(g, "tuple.9", "op", opcode="tuple", ops=["tuple"])
    for i in range(8):
        add_kernel(g, f"fusion.{i}")
        add_edge(g, f"fusion.{i}", "tuple.9", i)
    view = rd.build_view(g)
    ids = {n.id for n in view.nodes}
    assert "tuple.9" not in ids and {f"tuple.9[{i}]" for i in range(8)} <= ids
    assert {n.role for n in view.nodes if n.copy_of == "tuple.9"} == {"stub"}
    assert view.max_degree == 1


def test_many_parameter_inputs_become_one_node() -> None:
    g = new_graph()
    add_kernel(g, "fusion.big", ops=["add"] * 8)
    for i in range(8):
        add_kernel(g, f"p{i}", "parameter")
        add_edge(g, f"p{i}", "fusion.big", i)
    view = rd.build_view(g)
    assert [(n.name, n.role) for n in view.nodes if n.copy_of == "fusion.big"] == [("8 inputs", "bundle")]
    assert len(view.nodes) == 2 and len(view.edges) == 1
    assert view.edges[0].label == "8 tensors\n8.0 MiB"


def test_long_edges_become_connectors() -> None:
    g = new_graph()
    chain = [add_kernel(g, f"fusion.{i}", op_name="jit(f)/chain/add") for i in range(40)]
    for u, v in zip(chain, chain[1:], strict=False):
        add_edge(g, u, v)
    add_edge(g, chain[0], chain[30], 1)  # spans 30 ranks
    add_edge(g, chain[1], chain[30], 2)
    view = rd.build_view(g)
    rank = rd.ranks(view.nodes, view.edges)
    assert rank is not None
    assert max(rank[e.dst] - rank[e.src] for e in view.edges) <= rd.LONG_EDGE_SPAN
    names = {n.id: n.name for n in view.nodes if n.role == "connector"}
    assert names == {"fusion.0>": "to fusion.30", "fusion.1>": "to fusion.30", "fusion.30<": "from fusion.0, fusion.1"}
    assert not any(e.src in ("fusion.0", "fusion.1") and e.dst == "fusion.30" for e in view.edges)
    assert len(rd.build_view(g, long_edge_span=None).edges) == 41


def test_scope_selects_kernels() -> None:
    g = transformer_graph(3)
    view = rd.build_view(g, scope="layer_1/")
    kernels = [n for n in view.nodes if n.copy_of is None and not n.is_input]
    assert len(kernels) == len(_SUBLAYER)
    assert any("edges to kernels outside scope 'layer_1/' not drawn" in n for n in view.notes)
    with pytest.raises(rd.RenderError, match="no kernel of main.42 has an op_name starting with it"):
        rd.build_view(g, scope="nope")
    # a prefix, not a substring: from the start of the op_name or after a `/`
    assert rd.build_view(g, scope="jit(step)/jvp(transformer)/layer_1/").nodes == view.nodes
    with pytest.raises(rd.RenderError):
        rd.build_view(g, scope="ayer_1/")


def test_max_nodes_refuses_with_advice() -> None:
    with pytest.raises(rd.RenderError, match=r"has \d+ kernels to draw \(max_nodes=10\).*narrow the view"):
        rd.build_view(transformer_graph(2), collapse_repeats=False, max_nodes=10)


# ---------------------------------------------------------------------------------------------
# Repeated layers


def test_twelve_layers_collapse_to_one() -> None:
    g = transformer_graph(12)
    view = rd.build_view(g)
    assert [(grp.template, grp.count, grp.kernels) for grp in view.groups] == [
        ("jit(step)/jvp(transformer)/layer_#", 12, len(_SUBLAYER))]
    assert len(view.nodes) < g.number_of_nodes() / 4
    layer = [n for n in view.nodes if n.group == "g0" and n.copy_of is None]
    assert {n.count for n in layer} == {12}
    assert len([n for n in layer if n.kind == "parameter"]) == len(_WEIGHTS)  # each layer's weights too
    assert "x.1" in {n.id for n in view.nodes if n.group is None}  # the model input stays outside
    # the residual stream from one layer to the next is a carried edge inside the group
    assert any(e.carried and e.src == "fusion.0.0.add" and e.dst == "fusion.0.0.ln" for e in view.edges)
    assert all(e.count == 12 for e in view.edges
               if not e.carried and e.src.startswith("fusion.0.0.") and e.dst.startswith("fusion.0.0."))
    text = view.to_dot()
    assert "layer_# ×12  (# = 0-11)" in text and "</B> ×12" in text
    assert rd.build_view(g, collapse_repeats=False).groups == ()


def test_layer_that_differs_stays_drawn() -> None:
    g = transformer_graph(6)
    add_kernel(g, "extra", op_name="jit(step)/jvp(transformer)/layer_5/sub_0/extra/add")
    add_edge(g, "fusion.5.0.add", "extra")
    view = rd.build_view(g)
    (group,) = view.groups
    assert group.indices == (0, 1, 2, 3, 4)
    assert {"extra", "fusion.5.0.ln"} <= {n.id for n in view.nodes}


def test_unscoped_layers_do_not_collapse() -> None:
    assert rd.find_repeats(transformer_graph(4, scoped=False)).groups == ()


@pytest.mark.parametrize(("scope", "template"), [
    ("jit(f)/layer_3", "jit(f)/layer_#"),
    ("jit(f)/layers.3.attn", "jit(f)/layers.#"),
    ("jit(f)/block3", "jit(f)/block#"),
    ("jit(f)/transpose(jvp(layer3))/mlp", "jit(f)/transpose(jvp(layer#))"),
    ("model/layers/3/attn", "model/layers/#"),
    ("jit(f)/h-3", "jit(f)/h-#"),
])
def test_repeat_spellings(scope: str, template: str) -> None:
    g = new_graph()
    for i in range(3):
        name = add_kernel(g, f"k{i}", op_name=scope.replace("3", str(i)) + "/add")
        if i:
            add_edge(g, f"k{i - 1}", name)
    (group,) = rd.find_repeats(g).groups
    assert group.template == template and group.indices == (0, 1, 2)


def test_primitive_names_are_not_indices() -> None:
    g = new_graph()
    for i, prim in enumerate(["atan2", "log1p", "exp2"]):
        add_kernel(g, f"k{i}", op_name=f"jit(f)/{prim}")
    add_kernel(g, "k3", op_name="jit(f)/atan3")
    assert rd.find_repeats(g).groups == ()


def test_joined_op_names_and_varying_fusions_still_collapse() -> None:
    """XLA joins a fusion's op_names with `;` and may fuse a different number of ops per layer."""
    g = new_graph()
    prev = None
    for i in range(4):
        scope = f"jit(f)/jvp(layer{i})"
        a = add_kernel(g, f"a{i}", ops=["add"] * (i + 1), op_name=f"{scope}/attn/add;{scope}/attn/transpose")
        b = add_kernel(g, f"b{i}", "kOutput", ops=["dot"], op_name=f"{scope}/mlp/dot_general")
        add_edge(g, a, b)
        if prev:
            add_edge(g, prev, a)
        prev = b
    (group,) = rd.find_repeats(g).groups
    assert group.count == 4


# ---------------------------------------------------------------------------------------------
# Engines, time limits, files


def test_engine_choice() -> None:
    small = rd.build_view(transformer_graph(12, 6))
    assert rd.choose_engine(small) == "dot"
    # about 3,000 drawn kernels: past dot's comfort zone
    big = rd.build_view(transformer_graph(24, 8), collapse_repeats=False, max_nodes=5000)
    assert sum(1 for n in big.nodes if n.copy_of is None) > 3000
    assert rd.choose_engine(big) == "sfdp"
    # a node that keeps more than DOT_MAX_DEGREE edges
    g = new_graph()
    add_kernel(g, "hub", ops=["concatenate"])
    for i in range(rd.DOT_MAX_DEGREE + 1):
        add_kernel(g, f"f{i}")
        add_edge(g, f"f{i}", "hub", i)
    assert rd.choose_engine(rd.build_view(g)) == "sfdp"


def test_auto_falls_back_to_sfdp_when_dot_times_out(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, float]] = []

    def fake(dot_text: str, engine: str, timeout_s: float) -> str:
        calls.append((engine, timeout_s))
        if engine == "dot":
            raise rd._Timeout
        return "<svg>sfdp</svg>"

    monkeypatch.setattr(rd, "_run_graphviz", fake)
    assert rd.render_svg(small_graph(), timeout_s=10) == "<svg>sfdp</svg>"
    assert [e for e, _ in calls] == ["dot", "sfdp"]
    assert calls[0][1] == pytest.approx(5) and 4 < calls[1][1] <= 10
    with pytest.raises(ValueError, match="unknown engine: 'gnuplot'"):
        rd.render_svg(small_graph(), engine="gnuplot")


@needs_dot
def test_timeout_raises_instead_of_hanging(tmp_path: Path) -> None:
    import time

    g = transformer_graph(12, 6)
    out = tmp_path / "g.svg"
    start = time.monotonic()
    with pytest.raises(rd.RenderError, match=r"did not finish within 0.05 s.*narrow the view"):
        rd.render_svg(g, out, timeout_s=0.05, collapse_repeats=False)
    assert time.monotonic() - start < 5
    assert list(tmp_path.iterdir()) == []  # no file, no temp file


def test_missing_graphviz(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rd.shutil, "which", lambda name: None)
    with pytest.raises(rd.RenderError) as err:
        rd.render_svg(small_graph())
    assert str(err.value) == "Graphviz 'dot' not found: install graphviz (apt-get install graphviz)"


@needs_dot
def test_svg_written_whole_or_not_at_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "kernels.svg"
    svg = rd.render_svg(small_graph(), out)
    assert out.read_text() == svg and svg.rstrip().endswith("</svg>")
    assert oct(out.stat().st_mode & 0o777) != oct(0o600)
    # a failing render leaves the old file as it was and no temp file behind
    monkeypatch.setattr(rd.shutil, "which", lambda name: None)
    with pytest.raises(rd.RenderError):
        rd.render_svg(small_graph(), out)
    assert out.read_text() == svg
    assert [p.name for p in tmp_path.iterdir()] == ["kernels.svg"]


# ---------------------------------------------------------------------------------------------
# Plain data


def test_graph_to_json() -> None:
    g = small_graph()
    g.nodes["dot.2"]["intensity"] = float("nan")
    data = rd.graph_to_json(g)
    assert data["schema"] == "irscope.kernel-graph/1"
    assert (data["module"], data["computation"]) == ("jit_step", "main.42")
    assert [n["id"] for n in data["nodes"]] == list(g.nodes)
    assert len(data["edges"]) == g.number_of_edges()
    assert data["edges"][0] | {"key": 0} == {"src": "p0", "dst": "fusion.1", "key": 0, "shape": "f32[256,1024]{1,0}",
                                             "dtype": "f32", "bytes": 2**20, "operand_index": 0}
    assert next(n for n in data["nodes"] if n["id"] == "dot.2")["intensity"] is None
    json.dumps(data, allow_nan=False)


def test_view_to_json() -> None:
    view = rd.build_view(transformer_graph(3), expand=True)
    data = json.loads(json.dumps(view.to_json(), allow_nan=False))
    assert data["schema"] == "irscope.kernel-graph-view/1"
    assert len(data["nodes"]) == len(view.nodes) and len(data["edges"]) == len(view.edges)
    assert data["groups"][0]["indices"] == [0, 1, 2]
    assert f"drawn for {view.kernels} kernels>" in repr(view) and "View jit_step/main.42" in repr(view)


# ---------------------------------------------------------------------------------------------
# Real modules


@needs_dot
def test_real_training_step_collapses_and_renders() -> None:
    import jax
    import jax.numpy as jnp

    from irscope.hw import get_chip
    from irscope.ir.hlo_parser import parse_module
    from irscope.passes.report import analyze

    def layer(x, w1, w2):
        return x + jax.nn.softmax(jnp.tanh(x @ w1) @ w2, axis=-1)

    def loss(ws, x):
        for i, (w1, w2) in enumerate(ws):
            with jax.named_scope(f"layer_{i}"):
                x = layer(x, w1, w2)
        return jnp.sum(x**2)

    def step(ws, x):
        grads = jax.grad(loss)(ws, x)
        return jax.tree.map(lambda w, g: w - 0.1 * g, ws, grads)

    ws = [(jnp.ones((16, 16)), jnp.ones((16, 16))) for _ in range(4)]
    text = jax.jit(step).lower(ws, jnp.ones((8, 16))).compile().as_text()
    graph = analyze(parse_module(text), get_chip("h100")).graph()
    view = rd.build_view(graph)
    assert any(grp.template == "jit(step)/jvp(layer_#)" for grp in view.groups)
    assert sum(1 for n in view.nodes if n.copy_of is None) < graph.number_of_nodes() * 2 / 3
    for options in ({}, {"expand": True, "color_by": "bound"}, {"collapse_repeats": False}):
        svg = rd.render_svg(graph, **options)
        assert "<svg" in svg


@needs_dot
@pytest.mark.parametrize("name", ["cpu_tiled_dot.hlo", "cpu_tiled_reduce_row.hlo"])
def test_corpus_modules_render(corpus: list[Path], name: str) -> None:
    from irscope.hw import get_chip
    from irscope.ir.hlo_parser import parse_file
    from irscope.passes.report import analyze

    path = next(p for p in corpus if p.name == name)
    graph = analyze(parse_file(path)[0], get_chip("h100")).graph()
    assert "<svg" in run_dot(rd.to_dot(graph, expand=True))


def test_notebook_display(monkeypatch: pytest.MonkeyPatch) -> None:
    view = rd.build_view(small_graph())
    if HAVE_DOT:
        assert "<svg" in (view._repr_svg_() or "")
    monkeypatch.setattr(rd.shutil, "which", lambda name: None)
    assert view._repr_svg_() is None  # IPython then shows repr(view), notes included


# ---------------------------------------------------------------------------------------------
# Invariants on random graphs



_KINDS = ["kLoop", "kInput", "op", "parameter", "constant", "custom-call"]
_SCOPES = ["jit(f)", "jit(f)/layer_{}", "jit(f)/jvp(block{})/mlp", ""]
_kernel_rows = st.lists(
    st.tuples(st.sampled_from(_KINDS), st.sampled_from(_SCOPES), st.integers(0, 3),
              st.lists(st.integers(0, 39), max_size=8)),
    min_size=1, max_size=40)


def kernel_graph_from(rows: list[tuple[str, str, int, list[int]]], root_tuple: bool) -> nx.MultiDiGraph:
    """A DAG of kernels, parameters and constants with op_names that repeat; kernel i reads
    earlier kernels (operand u is taken modulo i); the last one may be a ROOT tuple."""
    g = new_graph()
    for i, (kind, scope, index, operands) in enumerate(rows):
        tuple_root = root_tuple and i == len(rows) - 1 and kind not in ("parameter", "constant")
        add_kernel(g, f"k{i}", kind, op_name=scope.format(index) + "/add" if scope else None,
                   opcode="tuple" if tuple_root else None)
        if kind not in ("parameter", "constant") and i:
            for j, u in enumerate(operands):
                add_edge(g, f"k{u % i}", f"k{i}", j)
    return g


@settings(max_examples=60, deadline=None)
@given(_kernel_rows, st.booleans(), st.booleans(), st.sampled_from([None, 2, 16]))
def test_view_invariants(rows: list, root_tuple: bool, collapse: bool, span: int | None) -> None:
    g = kernel_graph_from(rows, root_tuple)
    view = rd.build_view(g, collapse_repeats=collapse, long_edge_span=span, max_nodes=10**6)
    ids = [n.id for n in view.nodes]
    assert len(ids) == len(set(ids))
    assert all(e.src in ids and e.dst in ids for e in view.edges)
    # Every kernel is drawn, stands behind a drawn representative, or was copied, stubbed or bundled.
    repeats = rd.find_repeats(g) if collapse else rd.Repeats((), {}, {})
    shown = set(ids) | {n.copy_of for n in view.nodes} | {t for n in view.nodes for t in n.tooltip.split("\n")}
    for name in g.nodes:
        assert repeats.representative.get(name, name) in shown
    # kernels drawn never exceed kernels given; each group's count is its number of repeats
    assert sum(1 for n in view.nodes if n.copy_of is None) <= g.number_of_nodes()
    assert all(n.count == next(grp.count for grp in view.groups if grp.id == n.group)
               for n in view.nodes if n.group and n.copy_of is None)
    if span is not None and (rank := rd.ranks(view.nodes, view.edges)) is not None:
        assert all(rank[e.dst] - rank[e.src] <= span for e in view.edges if not e.carried)
    text = view.to_dot()
    assert text.count("{") == text.count("}") or "{" in "".join(ids)


# ---------------------------------------------------------------------------------------------
# Counting kernels as the table does; saying when --expand could not expand

DATA = Path(__file__).resolve().parent / "data"
REPO = DATA.parent.parent


@pytest.mark.parametrize("name", ["mlp_before_optimization.hlo", "gelu_tanh.hlo"])
def test_header_counts_kernels_as_the_table_does(name: str) -> None:
    from irscope.hw import get_chip
    from irscope.ir.hlo_parser import parse_module
    from irscope.passes.report import analyze

    report = analyze(parse_module((DATA / name).read_text(), name), get_chip("h100"))
    graph = report.graph()
    inputs = sum(1 for _, d in graph.nodes(data=True) if d["kind"] in ("parameter", "constant"))
    assert inputs > 0  # the graph draws the inputs beside the kernels...
    view = rd.build_view(graph)
    assert view.kernels == len(report.rows)  # ...but counts only kernels, like the table
    assert f"{len(report.rows)} kernels, drawn as" in rd.view_to_dot(view)


def test_expand_too_large_is_said_once_to_the_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gv, "EXPAND_MAX_NODES", 5)
    said: list[str] = []
    if shutil.which("dot") is None:
        pytest.skip("Graphviz not installed")
    svg = rd.render_svg(small_graph(), expand=True, warn=said.append)
    assert len(said) == 1 and said[0].startswith("not expanded:") and "narrow the view" in said[0]
    assert "not expanded" in svg
    said.clear()
    rd.render_svg(small_graph(), expand=False, warn=said.append)
    assert said == []


def test_cli_expand_warns_on_stderr(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                    tmp_path: Path) -> None:
    if shutil.which("dot") is None:
        pytest.skip("Graphviz not installed")
    from irscope.cli.main import main

    monkeypatch.setattr(gv, "EXPAND_MAX_NODES", 2)
    assert main(["hlo", str(DATA / "gelu_tanh.hlo"), "--hw", "h100", "--svg", str(tmp_path / "g.svg"),
                 "--expand"]) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if "--expand" in line]
    assert len(warnings) == 1 and "--computation" in warnings[0] and "--around" in warnings[0]


def _ssd_graph() -> nx.MultiDiGraph:
    from irscope.hw import get_chip
    from irscope.ir.hlo_parser import parse_module
    from irscope.passes.report import analyze

    path = DATA / "corpus" / "hlo" / "ssd_mobilenet_tf.hlo"
    return analyze(parse_module(path.read_text(), path.name), get_chip("h100")).graph()


def test_constant_broadcasts_are_drawn_inside_their_user() -> None:
    # TensorFlow's SSD-MobileNet, unfused: every bias and scale is a constant broadcast into one op
    graph = _ssd_graph()
    pairs = {v: u for u, v in graph.edges() if graph.nodes[u]["kind"] == "constant" and graph.out_degree(u) == 1
             and graph.nodes[v]["opcode"] == "broadcast" and graph.in_degree(v) == 1}
    assert len(pairs) > 100
    view = rd.build_view(graph, collapse_repeats=False)
    drawn = {n.id for n in view.nodes}
    folded = [b for b in pairs if len(set(graph.successors(b))) == 1]
    assert not set(pairs.values()) & drawn  # no constant of a pair is a node, nor a broadcast of one user...
    assert not set(folded) & drawn
    for b in set(pairs) - set(folded):  # a broadcast with several users stays, naming its constant
        assert f"of {pairs[b]}" in next(n for n in view.nodes if n.id == b).lines
    lines = [line for n in view.nodes for line in n.lines]
    for b in folded:  # ...each is a line in its one user's label (three at most, then "+N more")
        user = next(iter(graph.successors(b)))
        node = next(n for n in view.nodes if n.id == user)
        assert any(f"+ {b} of {pairs[b]} " in line for line in node.lines) or node.lines[-1].endswith("more")
    assert sum(1 for line in lines if line.startswith("+ ")) >= len(folded) * 0.9
    assert view.kernels == sum(1 for _, d in graph.nodes(data=True) if d["kind"] not in ("parameter", "constant"))
    assert any("drawn in a label line" in note for note in view.notes)


@needs_dot
def test_ssd_mobilenet_is_no_longer_wide() -> None:
    svg = rd.render_svg(_ssd_graph())
    width, height = (float(x) for x in re.search(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"', svg).groups())
    assert width < 3_000  # 15,191 pt before constant broadcasts were folded into their users


def test_around_draws_a_kernels_neighbourhood() -> None:
    g = transformer_graph(3)
    centre = "fusion.1.0.softmax"
    assert centre in g
    for depth in (0, 1, 2):
        up = nx.single_source_shortest_path_length(g.reverse(copy=False), centre, cutoff=depth)
        down = nx.single_source_shortest_path_length(g, centre, cutoff=depth)
        view = rd.build_view(g, around=centre, depth=depth, collapse_repeats=False, long_edge_span=None)
        kept = {n.copy_of or n.id for n in view.nodes if n.role in ("kernel", "copy")}
        assert kept == set(up) | set(down)
    with pytest.raises(rd.RenderError, match=r"--around softmax: no such kernel in main.42 \(did you mean "):
        rd.build_view(g, around="softmax")


def test_cli_narrowing_flags(tmp_path: Path) -> None:
    import os
    import sys

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "inspect.hlo", str(DATA / "gelu_tanh.hlo"), *args],
                              capture_output=True, text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
                              timeout=300)

    for args, said in ((["--around", "nope", "--svg", str(tmp_path / "a.svg")], "--around nope: no such kernel"),
                       (["--depth", "1", "--svg", str(tmp_path / "a.svg")], "give --around too"),
                       (["--scope", "jit(mlp)/"], "give --svg PATH too"),
                       (["--scope", "nope/", "--svg", str(tmp_path / "a.svg")], "--scope nope/: no kernel")):
        proc = cli(*args)
        assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, (args, proc.stderr)
        assert said in proc.stderr
    assert not (tmp_path / "a.svg").exists()
    if HAVE_DOT:
        ok = cli("--around", "multiply_multiply_fusion.1", "--depth", "1", "--svg", str(tmp_path / "n.svg"))
        assert ok.returncode == 0, ok.stderr
        svg = (tmp_path / "n.svg").read_text()
        titles = set(re.findall(r"<title>([^<]*)</title>", svg))
        assert {"multiply_multiply_fusion.1", "ynn_fusion.1", "ynn_fusion"} <= titles
        assert "ynn_fusion.2" not in titles and "multiply_multiply_fusion.2" not in titles


def test_every_graph_attribute_is_in_the_one_schema() -> None:
    # Both builders (HLO and TFLite) write only what irscope.ir.graph_schema declares.
    from irscope.hw import get_chip
    from irscope.ir.graph_schema import KernelNode, TensorEdge
    from irscope.ir.hlo_parser import parse_module
    from irscope.ir.tflite import read_tflite
    from irscope.passes.quantization import analyze_tflite
    from irscope.passes.report import analyze

    chip = get_chip("h100")
    graphs = [analyze(parse_module((DATA / "mlp_before_optimization.hlo").read_text()), chip).graph(),
              analyze_tflite(read_tflite(DATA / "tflite" / "micro_speech_quantized.tflite"), chip).graph()]
    for graph in graphs:
        for _, attrs in graph.nodes(data=True):
            assert set(attrs) <= set(KernelNode.__annotations__), set(attrs) - set(KernelNode.__annotations__)
        for *_, attrs in graph.edges(data=True):
            assert set(attrs) <= set(TensorEdge.__annotations__), set(attrs) - set(TensorEdge.__annotations__)
