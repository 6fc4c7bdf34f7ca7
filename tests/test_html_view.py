"""The offline HTML view: self-contained, every kernel in its data, and usable in a real browser.

The browser checks open the page in headless Chromium (`--dump-dom FILE#search=NAME`): the page lays
out, runs the search, and writes what it found into `<body data-*>`, which the test reads. The big one
loads the 12-layer toy GPT training step (about 30,000 instructions, compiled once and cached under
benchmarks/.cache/, as benchmarks/parse_speed.py does) and finds a kernel by name. Skipped, with the
reason, without Chromium.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter

import pytest
from conftest import REPO

from irscope import hw
from irscope.ir.hlo_parser import parse_module
from irscope.passes.report import analyze
from irscope.render.html_view import CHUNK, hlo_page, page_data, tflite_page

DATA = REPO / "tests" / "data"
CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (Debian: apt-get install "
                                                              "chromium); the structural checks still ran")


def _report(path):
    return analyze(parse_module(path.read_text(), str(path)), hw.get_chip("h100"))


def _open(page: str, tmp_path, search: str) -> dict[str, str]:
    path = tmp_path / "view.html"
    path.write_text(page, encoding="utf-8")
    proc = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
         "--virtual-time-budget=20000", "--dump-dom", f"file://{path}#search={search}"],
        capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-2000:]
    body = re.search(r"<body([^>]*)>", proc.stdout)
    assert body, proc.stdout[:2000]
    found = dict(re.findall(r'data-([a-z-]+)="([^"]*)"', body.group(1)))
    found["dom"] = proc.stdout
    return found


def test_page_is_self_contained_and_holds_every_node():
    report = _report(DATA / "corpus" / "hlo" / "ssd_mobilenet_tf.hlo")
    graph = report.graph()
    data = page_data(graph, title="ssd")
    assert [n["id"] for n in data["nodes"]] == [str(n) for n in graph.nodes]
    assert len(data["edges"]) == len({(s, d) for s, d in graph.edges()})
    # no scope shows more than CHUNK nodes of its own; inputs sit under their own scopes
    assert max(Counter(n["scope"] for n in data["nodes"]).values()) <= CHUNK
    assert all(n["scope"].startswith("(parameters)") for n in data["nodes"] if n["kind"] == "parameter")
    page = hlo_page(report)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)  # nothing loads from the network
    assert "default-src 'none'" in page and "cytoscape" in page and "dagre" in page
    assert "</script" not in page[page.index("const DATA="):].split(";</script>")[0]


@needs_chromium
def test_search_finds_a_kernel_and_shows_its_figures(tmp_path):
    report = _report(DATA / "gelu_tanh.hlo")
    found = _open(hlo_page(report), tmp_path, "multiply_multiply_fusion.1")
    assert found.get("ready") == "1", "the page's script did not run"
    assert found["found"] == "multiply_multiply_fusion.1"
    assert float(found["zoom"]) >= 0.8 and int(found["in-view"]) == int(found["drawn"])  # small: all of it shows
    assert 'id="selected">multiply_multiply_fusion.1<' in found["dom"]
    row = next(r for r in report.rows if r.kernel.name == "multiply_multiply_fusion.1")
    assert f"({int(row.cost.bytes_read + row.cost.bytes_written):,})" in found["dom"]


@needs_chromium
def test_tflite_page_in_the_browser(tmp_path):
    from irscope.ir.tflite import read_tflite
    from irscope.passes.quantization import analyze_tflite

    analysis = analyze_tflite(read_tflite(str(DATA / "tflite" / "micro_speech_quantized.tflite")))
    found = _open(tflite_page(analysis, "micro_speech"), tmp_path, "FULLY_CONNECTED")
    graph = analysis.graph(0)
    fc = [str(n) for n, a in graph.nodes(data=True) if a.get("opcode") == "FULLY_CONNECTED"]
    assert found["found"] == fc[0]
    selected = re.search(r'id="selected">([^<]*)<', found["dom"]).group(1)
    assert selected.startswith("FULLY_CONNECTED #")
    assert "<td>precision</td><td>int8</td>" in found["dom"]


@needs_chromium
def test_the_12_layer_training_step_loads_and_search_finds_a_kernel(tmp_path):
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        import parse_speed
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    text = parse_speed.module_text(12)  # cached after the first compile
    module = parse_module(text, "toy_gpt_12l")
    assert module.instruction_count > 25_000
    report = analyze(module, hw.get_chip("h100"))
    kernels = [r.kernel.name for r in report.rows if r.kernel.computation == module.entry_name]
    assert len(kernels) > 1_000
    target = kernels[len(kernels) // 2]
    found = _open(hlo_page(report), tmp_path, target)
    assert found.get("ready") == "1"
    assert found["found"] == target
    assert int(found["drawn"]) <= 100 and int(found["drawn-after-search"]) <= 100
    # it opens readable: labels at 0.8x or more, several boxes on screen (not a thin strip of the whole)
    assert float(found["zoom"]) >= 0.8 and int(found["in-view"]) >= 5
    print(f"\n12-layer step: {len(kernels)} kernels; load {found['load-ms']} ms (layout {found['layout-ms']} ms), "
          f"search {found['search-ms']} ms (layout {found['search-layout-ms']} ms)")


def _cli(command: str, *args: str) -> subprocess.CompletedProcess:
    import os

    return subprocess.run([sys.executable, "-m", f"inspect.{command}", *args], capture_output=True, text=True,
                          cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=300)


def test_cli_writes_the_page_and_refuses_misplaced_flags(tmp_path):
    out = tmp_path / "g.html"
    ok = _cli("hlo", str(DATA / "gelu_tanh.hlo"), "--html", str(out))
    assert ok.returncode == 0, ok.stderr
    assert "ynn_fusion.2" in out.read_text() and f"wrote {out}" in ok.stderr
    tfl = _cli("tflite", str(DATA / "tflite" / "hello_world_int8.tflite"), "--html", str(tmp_path / "t.html"))
    assert tfl.returncode == 0, tfl.stderr
    assert "FULLY_CONNECTED" in (tmp_path / "t.html").read_text()
    bad = _cli("hlo", str(DATA / "gelu_tanh.hlo"), "--html", str(tmp_path / "no" / "g.html"))
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1 and "no such folder" in bad.stderr
    lone = _cli("hlo", str(DATA / "gelu_tanh.hlo"), "--overlays", "bytes")
    assert lone.returncode == 2 and "go with --model-explorer" in lone.stderr
