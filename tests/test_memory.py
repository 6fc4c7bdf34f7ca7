"""The memory pass against XLA itself: its dumps (live ranges, buffer assignment) and memory_analysis()."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from irscope.frontends.xla_buffers import parse_live_range_peak, read_xla_memory
from irscope.ir.hlo_parser import parse_module
from irscope.passes.memory import _Model, analyze_memory

DATA = Path(__file__).parent / "data" / "memory"
TARGETS = Path(__file__).parent / "data" / "targets"
DUMPS = sorted(p.stem for p in DATA.glob("*.hlo"))
ROOT = Path(__file__).resolve().parent.parent


def _module(name: str):
    return parse_module((DATA / f"{name}.hlo").read_text(), str(DATA / f"{name}.hlo"))


def _xla_stats(name: str) -> dict:
    return json.loads((DATA / f"{name}.json").read_text())["memory_analysis"]


def test_the_dumps_cover_the_programs_of_the_issue():
    assert set(DUMPS) >= {"mlp", "fori", "cond", "scatter", "dus_loop", "donate", "train", "train_remat",
                          "pallas", "sharded"}


@pytest.mark.parametrize("name", DUMPS)
def test_peak_equals_xla_live_range(name):
    """The peak moment and the bytes live there equal what XLA printed under "Live ranges at T (peak)"."""
    peak_index, live = parse_live_range_peak((DATA / f"{name}-live-range.txt").read_text())
    result = analyze_memory(_module(name), max_live=0)
    assert result.peak_index == peak_index
    assert result.peak_bytes == sum(b for _, b in live)
    assert sorted((b.name, b.bytes) for b in result.live_at_peak) == sorted(live)
    assert result.live_bytes[result.peak_index] == result.peak_bytes
    assert result.max_live_bytes == max(result.live_bytes) >= result.peak_bytes


@pytest.mark.parametrize("name", DUMPS)
def test_every_live_range_equals_xla(name):
    """Each value's [start, end] over the flattened schedule, as XLA's HloLiveRange printed it."""
    text = (DATA / f"{name}-live-range.txt").read_text()
    xla_ranges = {k: (int(a), int(b)) for k, a, b in re.findall(r"^    (\S+\{[\d,]*\}):(\d+)-(\d+)$", text, re.M)}
    xla_sequence = re.findall(r"^    \d+:(\S+)$", text, re.M)
    model = _Model(_module(name))
    model.run()
    assert [inst.name for inst, _ in model.sequence] == xla_sequence
    assert {v.name: (v.start, v.end) for v in model.values} == xla_ranges


@pytest.mark.parametrize("name", DUMPS)
def test_exact_figures_equal_memory_analysis(name):
    stats = _xla_stats(name)
    result = analyze_memory(_module(name))
    assert (result.argument_bytes, result.output_bytes, result.alias_bytes) == (
        stats["argument_bytes"], stats["output_bytes"], stats["alias_bytes"])
    assert result.provenance["argument_bytes"] == "exact"


@pytest.mark.parametrize("name", DUMPS)
def test_buffer_assignment_gives_xla_temp_bytes(name):
    xla = read_xla_memory(DATA, file_stem=name, module_name=_module(name).name)
    assert xla.temp_bytes == _xla_stats(name)["temp_bytes"]


def test_donation_shares_the_parameter_buffer():
    result = analyze_memory(_module("donate"))
    assert result.alias_bytes == 256 * 256 * 4
    model = _Model(_module("donate"))
    model.run()
    ranges = {v.name: (v.start, v.end) for v in model.values}
    assert ranges["state.1{}"][1] == 2  # a donated parameter dies at its last use, not at the end


def test_live_at_peak_names_kernel_and_source():
    result = analyze_memory(_module("mlp"))
    largest = result.live_at_peak[0]
    assert (largest.name, largest.bytes, largest.shape, largest.kernel) == ("w1.1{}", 524288, "f32[256,512]", "w1.1")
    tanh = next(b for b in result.live_at_peak if b.kernel == "wrapped_tanh")
    assert tanh.op_name == "jit(mlp)/tanh" and tanh.source == "<string>:10"  # the child script, line 10: jnp.tanh(x @ w1)
    assert [b.bytes for b in result.live_at_peak] == sorted((b.bytes for b in result.live_at_peak), reverse=True)


@pytest.mark.parametrize("path", sorted(TARGETS.glob("*.hlo")), ids=lambda p: p.stem)
def test_h100_and_tpu_corpus_memory_analysis(path):
    stats = json.loads(path.with_suffix(".json").read_text())["memory_analysis"]
    result = analyze_memory(parse_module(path.read_text(), str(path)))
    for key in ("argument_bytes", "output_bytes", "alias_bytes"):  # XLA:TPU's 512-byte tuple index tables included
        assert getattr(result, key) == stats[key], key
    assert result.peak_bytes is not None and result.peak_bytes >= result.argument_bytes


def test_live_compile_on_cpu_equals_memory_analysis():
    import jax
    import jax.numpy as jnp
    from jax import lax

    def step(state, x):
        y = lax.fori_loop(0, 3, lambda i, c: jnp.tanh(c) + x, x)
        return state + y.sum(), y

    compiled = jax.jit(step, donate_argnums=0).lower(jnp.zeros((64, 32)), jnp.zeros((64, 32))).compile()
    stats = compiled.memory_analysis()
    result = analyze_memory(parse_module(compiled.as_text()))
    assert (result.argument_bytes, result.output_bytes, result.alias_bytes) == (
        stats.argument_size_in_bytes, stats.output_size_in_bytes, stats.alias_size_in_bytes)
    assert result.peak_bytes is not None


def test_unscheduled_module_reports_arguments_only():
    text = (ROOT / "tests" / "data" / "mlp_before_optimization.hlo").read_text()
    result = analyze_memory(parse_module(text))
    assert result.peak_bytes is None and result.peak_index is None and result.argument_bytes > 0
    assert "schedule" in (result.note or "")


def _cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "irscope", "hlo", *args], cwd=cwd, capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "JAX_PLATFORMS": "cpu"})


def test_cli_memory_json_and_plot(tmp_path):
    dump = tmp_path / "dump"
    dump.mkdir()
    for suffix in ("-buffer-assignment.txt", "-live-range.txt"):  # named as XLA names them
        shutil.copy(DATA / f"fori{suffix}", dump / f"module_0001.jit_fori.cpu_after_optimizations{suffix}")
    plot = tmp_path / "fori.svg"
    run = _cli(str(DATA / "fori.hlo"), "--memory", "--xla-dump", str(dump), "--memory-plot", str(plot),
               "--json", "-")
    assert run.returncode == 0, run.stderr
    memory = json.loads(run.stdout)["memory"]
    assert {"argument_bytes", "output_bytes", "alias_bytes", "temp_bytes", "peak_bytes", "peak_index",
            "live_at_peak", "provenance"} <= set(memory)
    assert set(memory["live_at_peak"][0]) == {"name", "bytes", "shape", "kernel", "op_name", "source"}
    assert memory["temp_bytes"] == _xla_stats("fori")["temp_bytes"] and memory["provenance"]["temp_bytes"] == "xla"
    assert memory["xla"]["peak_bytes"] == memory["peak_bytes"]
    assert plot.read_text().lstrip().startswith("<?xml")


def test_cli_memory_text_section():
    run = _cli(str(DATA / "mlp.hlo"), "--memory")
    assert run.returncode == 0, run.stderr
    assert "memory of jit_mlp:" in run.stdout and "live at the peak" in run.stdout


def test_cli_unscheduled_module_one_line_exit_0():
    run = _cli(str(ROOT / "tests" / "data" / "mlp_before_optimization.hlo"), "--memory", "--json", "-")
    assert run.returncode == 0, run.stderr
    assert run.stderr.count("\n") == 1 and "needs a schedule" in run.stderr
    assert json.loads(run.stdout)["memory"]["peak_bytes"] is None


def test_cli_dump_without_files_exit_2(tmp_path):
    run = _cli(str(DATA / "mlp.hlo"), "--memory", "--xla-dump", str(tmp_path))
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1 and "buffer-assignment" in run.stderr


_ASYNC_COPY = """\
HloModule m, is_scheduled=true

%fused_dus (p0: f32[64], p1: f32[8], p2: s32[]) -> f32[64] {
  %p0 = f32[64]{0} parameter(0)
  %p1 = f32[8]{0} parameter(1)
  %p2 = s32[] parameter(2)
  ROOT %dus = f32[64]{0} dynamic-update-slice(%p0, %p1, %p2)
}

ENTRY %main (x: f32[64], u: f32[8], i: s32[]) -> f32[64] {
  %x = f32[64]{0} parameter(0)
  %u = f32[8]{0} parameter(1)
  %i = s32[] parameter(2)
  %cs = (f32[64]{0}, f32[64]{0}, u32[]) copy-start(%x)
  %cd = f32[64]{0} copy-done(%cs)
  %b = f32[64]{0} bitcast(%cd)
  ROOT %f = f32[64]{0} fusion(%b, %u, %i), kind=kLoop, calls=%fused_dus
}
"""


def test_copy_start_done_bitcast_and_in_place_fusion_share_buffers():
    """copy-start (destination, source, context) forwards its operand at {1} and defines the destination
    {0}, which copy-done and the bitcast hand on (no new value); the fusion whose root is a
    dynamic-update-slice of its parameter 0 writes into that buffer (one buffer: disjoint live ranges)."""
    from jax._src.lib import xla_client

    xla_client.hlo.hlo_module_from_text(_ASYNC_COPY)  # XLA's own parser accepts the module
    model = _Model(parse_module(_ASYNC_COPY))
    model.run()
    names = sorted(v.name for v in model.values)
    assert names == ["cs{0}", "cs{2}", "cs{}", "f{}", "i{}", "u{}", "x{}"]
    by_name = {v.name: v for v in model.values}
    assert model._find(by_name["cs{0}"].id) == model._find(by_name["f{}"].id)
    assert by_name["cs{0}"].end == by_name["f{}"].start  # handed over at the fusion, not both alive after


def test_inspect_hlo_memory_in_the_notebook_report():
    import irscope.api

    report = irscope.api.inspect_hlo(DATA / "scatter.hlo", memory=True)
    assert report.memory is not None and report.to_json()["memory"]["peak_bytes"] == report.memory.peak_bytes
    assert irscope.api.inspect_hlo(DATA / "scatter.hlo").memory is None


def test_cli_bad_plot_name_fails_before_the_table():
    run = _cli(str(DATA / "mlp.hlo"), "--memory-plot", "peak.gif")
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.count("\n") == 1 and ".png or .svg" in run.stderr


def test_checkpoint_lowers_the_peak_as_xla_says():
    """jax.checkpoint recomputes activations in the backward pass: XLA's live-range peak drops, and so
    does irscope's (each equal to XLA's, see test_peak_equals_xla_live_range)."""
    plain, remat = (analyze_memory(_module(n)) for n in ("train", "train_remat"))
    assert remat.peak_bytes < plain.peak_bytes
    assert (remat.argument_bytes, remat.output_bytes) == (plain.argument_bytes, plain.output_bytes)


@pytest.mark.parametrize("name", ["train", "fori"])
def test_plot_peak_label_overprints_nothing(name):
    """The peak's label sits above the whole curve, and the legend outside the axes."""
    from irscope.render.memory_plot import memory_figure

    fig = memory_figure(analyze_memory(_module(name)))
    fig.canvas.draw()
    ax = fig.axes[0]
    from matplotlib.text import Text

    label = Text.get_window_extent(ax.texts[0])  # the words alone, without the arrow
    top_of_curve = ax.transData.transform((0, max(ax.lines[0].get_ydata())))[1]
    assert label.y0 > top_of_curve and ax.get_window_extent().contains(label.x0, label.y0)
    assert ax.get_legend().get_window_extent().x0 >= ax.get_window_extent().x1
    import matplotlib.pyplot as plt

    plt.close(fig)
