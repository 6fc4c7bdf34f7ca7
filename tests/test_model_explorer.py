"""Model Explorer output: graphs and overlays built with Model Explorer's own classes, read back with them.

The JSON that `--model-explorer-out` writes is loaded back into `model_explorer.graph_builder.Graph`
(through `dacite`, as Model Explorer's node-data-provider runner does) and into
`node_data_builder.GraphNodeData`, and its nodes, edges and namespaces are compared with the kernel graph
of a real module: TensorFlow's SSD-MobileNet (the largest corpus module) and a JAX loop compiled here.
The viewer test starts `diff --model-explorer` on a free port, reads both graphs back through the server's
own routes, then drives headless Chromium over the DevTools protocol (tests/chromium.py), polling the page
until both panes show their graph and the overlays' colours are painted (or a deadline passes), and
takes a screenshot; skipped without Chromium. The adapter extension is run through Model Explorer's own
extension manager, in process.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from conftest import REPO

pytest.importorskip("model_explorer", reason="irscope[viewer] is not installed")
dacite = pytest.importorskip("dacite")

from model_explorer import graph_builder, node_data_builder  # noqa: E402

from irscope import hw  # noqa: E402
from irscope.ir.graph_schema import kernel_count  # noqa: E402
from irscope.ir.hlo_parser import parse_module  # noqa: E402
from irscope.passes.report import analyze  # noqa: E402
from irscope.render import model_explorer as me  # noqa: E402

DATA = REPO / "tests" / "data"
CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
ENV = {**os.environ, "PYTHONPATH": str(REPO)}


@pytest.fixture(scope="module")
def ssd_report():
    path = DATA / "corpus" / "hlo" / "ssd_mobilenet_tf.hlo"
    return analyze(parse_module(path.read_text(), str(path)), hw.get_chip("h100"))


def _load_graphs(path):
    doc = json.loads(path.read_text())
    return [dacite.from_dict(data_class=graph_builder.Graph, data=g) for g in doc["graphs"]]


def test_graph_json_loads_back_with_the_right_nodes_and_edges(ssd_report, tmp_path):
    model = me.hlo_model(ssd_report)
    paths = me.write_dir(model, tmp_path, model.available_overlays())
    graphs = _load_graphs(paths[0])
    entry = ssd_report.graph()
    assert graphs[0].id == ssd_report.module.entry_name
    nodes = {n.id: n for n in graphs[0].nodes}
    assert set(nodes) == set(entry.nodes)
    assert sum(len(n.incomingEdges) for n in nodes.values()) == entry.number_of_edges()
    for src, dst, data in entry.edges(data=True):
        assert any(e.sourceNodeId == src and e.targetNodeInputId == str(data["operand_index"])
                   for e in nodes[dst].incomingEdges)
    kernels = sum(kernel_count(a) for _, a in entry.nodes(data=True))
    entry_rows = [r for r in ssd_report.rows if r.kernel.computation == ssd_report.module.entry_name]
    assert kernels >= len(entry_rows) > 100
    # figures as attributes, matching the report's numbers
    row = max(entry_rows, key=lambda r: r.cost.bytes_accessed)
    attrs = {kv.key: kv.value for kv in nodes[row.kernel.name].attrs}
    assert attrs["kind"] == row.kernel.kind
    assert f"({int(row.cost.bytes_read + row.cost.bytes_written):,})" in attrs["bytes"]
    assert attrs["bound"] == row.roofline.bound
    # TensorFlow scopes become namespaces: the op's own name is left off
    named = [n for n in graphs[0].nodes if n.namespace]
    assert len(named) > 100
    node = next(n for n in named if entry.nodes[n.id].get("op_name", "").count("/") >= 2)
    assert entry.nodes[node.id]["op_name"].startswith(node.namespace + "/")


def test_overlays_load_back_and_colour_the_costly_kernels(ssd_report, tmp_path):
    model = me.hlo_model(ssd_report)
    assert {"bytes", "time", "bound"} <= set(model.available_overlays())
    assert "precision" not in model.available_overlays()
    paths = me.write_dir(model, tmp_path, ["bytes", "bound"])
    gid = ssd_report.module.entry_name
    by_bytes = dacite.from_dict(data_class=node_data_builder.GraphNodeData, data=json.loads(paths[1].read_text())[gid])
    rows = {r.kernel.name: r for r in ssd_report.rows if r.kernel.computation == gid}
    assert set(by_bytes.results) <= set(model.kernel_graphs[gid].nodes)
    for name, result in by_bytes.results.items():
        if name in rows:
            assert result.value == rows[name].cost.bytes_read + rows[name].cost.bytes_written
    assert [g.stop for g in by_bytes.gradient] == [0, 1]
    bound = json.loads(paths[2].read_text())[gid]["results"]
    colours = {rows[n].roofline.bound: r["bgColor"] for n, r in bound.items() if n in rows}
    assert colours == {"memory": "#80b1d3", "compute": "#fb8072"} or len(colours) == 1


def test_a_loop_links_to_its_body_graph(tmp_path):
    import jax
    import jax.numpy as jnp

    def f(x, w):
        return jax.lax.fori_loop(0, 7, lambda i, h: jnp.tanh(h @ w), x)

    text = jax.jit(f).lower(jnp.ones((64, 64)), jnp.ones((64, 64))).compile().as_text()
    report = analyze(parse_module(text, "loop"), hw.get_chip("h100"))
    model = me.hlo_model(report)
    assert len(model.graphs) >= 2
    ids = {g.id for g in model.graphs}
    loop = next(n for n in model.graphs[0].nodes if n.subgraphIds)
    assert set(loop.subgraphIds) <= ids
    body = next(g for g in model.graphs if g.id == loop.subgraphIds[0])
    assert any(kv.key == "FLOPs" for n in body.nodes for kv in n.attrs)


def test_tflite_graph_has_precision(tmp_path):
    from irscope.ir.tflite import read_tflite
    from irscope.passes.quantization import analyze_tflite

    path = DATA / "tflite" / "hello_world_int8.tflite"
    analysis = analyze_tflite(read_tflite(str(path)))
    model = me.tflite_model(analysis, "hello_world_int8")
    assert "precision" in model.available_overlays()
    ops = analysis.model.subgraphs[0].operators
    graph = model.graphs[0]
    assert {n.id for n in graph.nodes if n.id.startswith("op")} == {f"op{i}" for i in range(len(ops))}
    paths = me.write_dir(model, tmp_path, ["precision"])
    data = json.loads(paths[1].read_text())
    results = next(iter(data.values()))["results"]
    assert len(results) == len(ops) and all(r["bgColor"] for r in results.values())


def _cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "inspect.hlo", *args], capture_output=True, text=True,
                          cwd=REPO, env=ENV, timeout=timeout)


def test_cli_writes_the_folder_and_refuses_bad_overlays(tmp_path):
    hlo = str(DATA / "gelu_tanh.hlo")
    ok = _cli(hlo, "--model-explorer-out", str(tmp_path), "--overlays", "bytes,bound")
    assert ok.returncode == 0, ok.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["jit_mlp.bound.json", "jit_mlp.bytes.json",
                                                          "jit_mlp.graphs.json"]
    bad = _cli(hlo, "--model-explorer-out", str(tmp_path), "--overlays", "colour")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
    assert "unknown overlay 'colour'" in bad.stderr
    none = _cli(hlo, "--model-explorer-out", str(tmp_path), "--overlays", "precision")
    assert none.returncode == 2 and "no 'precision' figures" in none.stderr
    made = _cli(hlo, "--model-explorer-out", str(tmp_path / "new"))  # the output folder itself is made
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "new" / "jit_mlp.graphs.json").is_file()
    missing = _cli(hlo, "--model-explorer-out", str(tmp_path / "nope" / "deeper"))  # but never its parents
    assert missing.returncode == 2 and "no such folder" in missing.stderr
    assert missing.stdout == "" and not (tmp_path / "nope").exists()  # refused before the table is printed


def test_port_in_use_is_one_line(tmp_path):
    with socket.socket() as s:
        s.bind(("localhost", 0))
        s.listen()
        port = s.getsockname()[1]
        proc = _cli(str(DATA / "gelu_tanh.hlo"), "--model-explorer", "--no-open", "--port", str(port))
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines()[-1].endswith("(leave --port out for a free one)")
    assert len(proc.stderr.strip().splitlines()) == 1


def _rgb(colour: str) -> str:
    return "rgb({}, {}, {})".format(*(int(colour[i:i + 2], 16) for i in (1, 3, 5)))


# The page's state, read in one go: the panes, the text (graph selectors, node-data tables) and the
# colours Model Explorer paints its node-data cells (its legend of each overlay) with.
_PAGE_STATE = """(() => {
  const cells = Array.from(document.querySelectorAll('td')).map(e => getComputedStyle(e).backgroundColor);
  return {panes: document.querySelectorAll('split-pane').length, text: document.body.innerText,
          canvases: document.querySelectorAll('webgl-renderer canvas').length,
          colours: Array.from(new Set(cells))};
})()"""


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (Debian: apt-get install chromium)")
def test_viewer_shows_both_programs_of_a_diff_side_by_side(tmp_path):
    from chromium import Chromium

    proc = subprocess.Popen([sys.executable, "-m", "inspect.diff", str(DATA / "gelu_exact.hlo"),
                             str(DATA / "gelu_tanh.hlo"), "--model-explorer", "--no-open"],
                            cwd=REPO, env={**ENV, "PYTHONUNBUFFERED": "1"},
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True)
    try:
        url, deadline = None, time.monotonic() + 240
        while url is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            m = re.search(r"(http://localhost:\d+/\S*)", line.strip())
            url = m.group(1) if m else None
        assert url, "the viewer printed no URL"
        # the server hands the web app both graphs and every overlay, through Model Explorer's own routes
        base = url.split("/?")[0]
        for index, node in ((0, "select_multiply_fusion.1"), (1, "multiply_multiply_fusion.1")):
            with urllib.request.urlopen(f"{base}/api/v1/load_graphs_json?graph_index={index}", timeout=30) as r:
                assert node in {n["id"] for n in json.load(r)["graphs"][0]["nodes"]}
        # The web app lays the graphs out in a worker after the page has loaded: poll its DOM until
        # both panes show their graph and the overlays' colours are painted, with a generous deadline.
        with Chromium(CHROMIUM, tmp_path / "profile") as browser:
            browser.open(url)
            state = browser.wait_for(f"(s => s.panes === 2 && s.text.includes('multiply_multiply_fusion.1') "
                                     f"&& s.text.includes('select_multiply_fusion.1') && s.colours.length > 3 "
                                     f"? s : null)({_PAGE_STATE})", timeout=180)
            assert state, f"the viewer did not show both graphs within 180 s: {browser.eval(_PAGE_STATE)}"
            browser.screenshot(tmp_path / "viewer.png")
        assert "main.1 (before)" in state["text"] and "10 nodes" in state["text"]  # the graph selector
        assert state["canvases"] >= 2  # one WebGL drawing per pane
        # the overlays' legends: the diff's "changed" colour and the top of the bytes gradient
        assert _rgb(me.DIFF_COLORS["changed"]) in state["colours"]
        assert _rgb(me.OVERLAYS["bytes"].gradient[-1]) in state["colours"]
        assert (tmp_path / "viewer.png").stat().st_size > 10_000
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


# ------------------------------------------------------------------------------------------------
# diff: two programs side by side, kernels marked by irscope.passes.diff's matching


def _compiled(fn, *shapes):
    import jax
    import jax.numpy as jnp

    text = jax.jit(fn).lower(*(jnp.ones(s, jnp.float32) for s in shapes)).compile().as_text()
    return analyze(parse_module(text, fn.__name__), hw.get_chip("h100"))


@pytest.fixture(scope="module")
def mlp_pair():
    """A 2-layer and a 3-layer tanh MLP compiled by XLA here: the third layer's kernels are added."""
    import jax.numpy as jnp

    def two_layers(x, w1, w2):
        return jnp.tanh(x @ w1) @ w2

    def three_layers(x, w1, w2):
        return jnp.tanh(jnp.tanh(x @ w1) @ w2) @ w2

    from irscope.passes.diff import diff_reports

    before = _compiled(two_layers, (64, 128), (128, 128), (128, 128))
    after = _compiled(three_layers, (64, 128), (128, 128), (128, 128))
    return diff_reports(before, after), before, after


def test_diff_marks_added_changed_and_removed_kernels_on_each_side(mlp_pair, tmp_path):
    result, before, after = mlp_pair
    assert result.summary["added"] > 0
    left, right = me.diff_models(result, before, after)
    assert {"diff", "delta-bytes"} <= set(right.available_overlays())
    assert {g.id for g in left.graphs}.isdisjoint(g.id for g in right.graphs)  # one viewer holds both
    for model, side, word in ((left, "before", "removed"), (right, "after", "added")):
        report = before if side == "before" else after
        paths = me.write_dir(model, tmp_path / side, model.available_overlays())
        graphs = _load_graphs(paths[0])
        gid = graphs[0].id
        assert gid == f"{report.module.entry_name} ({side})"
        status = dacite.from_dict(data_class=node_data_builder.GraphNodeData,
                                  data=json.loads((tmp_path / side / f"{side}_{report.module.name}.diff.json")
                                                  .read_text())[gid])
        legend = {t.value: t.bgColor for t in status.thresholds}
        shown = {node: list(me.DIFF_COLORS)[r.value] for node, r in status.results.items()}
        assert all(legend[r.value] == r.bgColor for r in status.results.values())
        # exactly the diff's verdict for every kernel of the entry computation, by name
        expected = {getattr(c, side).name: c.status for c in result.kernels
                    if getattr(c, side) is not None and getattr(c, side).computation == report.module.entry_name}
        assert shown == expected
        assert set(expected.values()) <= {"unchanged", "changed", word}
        delta = json.loads((tmp_path / side / f"{side}_{report.module.name}.delta-bytes.json").read_text())[gid]
        for change in result.kernels:
            info = getattr(change, side)
            if info is not None and info.name in delta["results"]:
                assert delta["results"][info.name]["value"] == change.delta.bytes_accessed
                if change.status == "added":
                    assert change.delta.bytes_accessed == info.bytes_accessed > 0
        attrs = {kv.key: kv.value for n in graphs[0].nodes if n.id in expected for kv in n.attrs}
        assert "diff" in attrs and "delta bytes" in attrs


def test_diff_viewer_opens_the_two_programs_in_split_panes(mlp_pair):
    from urllib.parse import unquote

    result, before, after = mlp_pair
    models = me.diff_models(result, before, after)
    config = me.viewer_config(models, [["diff"], ["diff", "delta-bytes"]], side_by_side=True)
    data = json.loads(unquote(config.to_url_param_value()))
    assert [m["url"] for m in data["models"]] == [f"graphs://{m.label}/{i}" for i, m in enumerate(models)]
    panes = data["uiState"]["paneStates"]
    assert [p["selectedGraphId"] for p in panes] == [m.graphs[0].id for m in models]
    assert [p["widthFraction"] for p in panes] == [0.5, 0.5]
    assert data["nodeDataTargets"] == [models[0].label, models[1].label, models[1].label]


def test_diff_cli_writes_both_programs(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "inspect.diff", str(DATA / "gelu_exact.hlo"),
                           str(DATA / "gelu_tanh.hlo"), "--model-explorer-out", str(tmp_path), "--overlays", "diff"],
                          capture_output=True, text=True, cwd=REPO, env=ENV, timeout=300)
    assert proc.returncode == 1, proc.stderr  # diff's status: the programs differ
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "after_jit_mlp.diff.json", "after_jit_mlp.graphs.json", "before_jit_mlp.diff.json", "before_jit_mlp.graphs.json"]
    after = json.loads((tmp_path / "after_jit_mlp.diff.json").read_text())["main.1 (after)"]["results"]
    assert {n for n, r in after.items() if r["value"] == list(me.DIFF_COLORS).index("changed")} == {
        "multiply_multiply_fusion", "multiply_multiply_fusion.1", "multiply_multiply_fusion.2"}
    bad = subprocess.run([sys.executable, "-m", "inspect.diff", str(DATA / "gelu_exact.hlo"),
                          str(DATA / "gelu_tanh.hlo"), "--model-explorer-out", str(tmp_path), "--overlays", "dif"],
                         capture_output=True, text=True, cwd=REPO, env=ENV, timeout=300)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1, bad.stderr


# ------------------------------------------------------------------------------------------------
# memory: bytes alive at the peak


def test_memory_overlay_adds_up_to_the_peak(tmp_path):
    from irscope.passes.memory import analyze_memory

    report = analyze(parse_module((DATA / "gelu_tanh.hlo").read_text(), "gelu"), hw.get_chip("h100"))
    model = me.hlo_model(report)
    assert "memory" in model.available_overlays()
    paths = me.write_dir(model, tmp_path, ["memory"])
    gid = report.module.entry_name
    data = dacite.from_dict(data_class=node_data_builder.GraphNodeData, data=json.loads(paths[1].read_text())[gid])
    kernels = {r.kernel.name for r in report.rows if r.kernel.computation == gid}
    assert set(data.results) == kernels
    # what the kernels hold plus the (not donated, so alive to the end) parameters is XLA's peak figure
    params = sum(p.shape.byte_size for p in report.module.entry.parameters)
    held = sum(r.value for r in data.results.values())
    assert params > 0 and held > 0
    assert held + params == analyze_memory(report.module).peak_bytes
    # an unscheduled module has no peak, so no memory overlay
    text = (DATA / "mlp_before_optimization.hlo").read_text()
    unscheduled = analyze(parse_module(text, "mlp"), hw.get_chip("h100"))
    assert "memory" not in me.hlo_model(unscheduled).available_overlays()
    bad = _cli(str(DATA / "mlp_before_optimization.hlo"), "--model-explorer-out", str(tmp_path), "--overlays", "memory")
    assert bad.returncode == 2 and "no 'memory' figures: the module has no schedule" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1


# ------------------------------------------------------------------------------------------------
# the adapter extension, through Model Explorer's own extension manager


def test_adapter_extension_converts_an_hlo_dump_and_a_model_file():
    from model_explorer.extension_manager import ExtensionManager

    manager = ExtensionManager(["irscope.cli.viewer_ext"])
    manager.load_extensions()
    meta = next(m for m in manager.get_extensions_metadata() if m["id"] == "irscope_kernel_graph")
    assert meta["type"] == "adapter" and {"hlo", "py"} <= set(meta["fileExts"])

    def convert(path):
        return manager.run_cmd({"extensionId": "irscope_kernel_graph", "cmdId": "convert", "modelPath": str(path),
                                "settings": {}, "deleteAfterConversion": False})

    path = DATA / "corpus" / "hlo" / "ssd_mobilenet_tf.hlo"
    graphs = [dacite.from_dict(data_class=graph_builder.Graph, data=g) for g in convert(path)["graphs"]]
    report = analyze(parse_module(path.read_text(), str(path)), hw.get_chip("cpu"))
    assert graphs[0].id == report.module.entry_name
    assert {n.id for n in graphs[0].nodes} == set(report.graph().nodes)
    collections = convert(REPO / "examples" / "mlp.py")["graphCollections"]
    assert [c["label"] for c in collections] == ["mlp"]
    nodes = collections[0]["graphs"][0]["nodes"]
    assert sum(1 for n in nodes if any(kv["key"] == "FLOPs" for kv in n["attrs"])) >= 3
    with pytest.raises(Exception, match="no such file"):
        convert(DATA / "no_such.hlo")
