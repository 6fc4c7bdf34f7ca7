"""The memory pass on XLA:GPU (H100) and XLA:TPU (v5e) modules, against those compilers' own dumps
(tests/data/memory/h100/, tpu-v5e/, written deviceless by tests/data/memory/generate.py --target T), and
`memory_analysis()` figures when irscope compiles the program itself."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from irscope.frontends.xla_buffers import parse_live_range_peak, read_xla_memory
from irscope.ir.hlo_parser import parse_module
from irscope.passes.memory import _Model, analyze_memory, with_compiler_figures
from irscope.render.memory_plot import memory_text

DATA = Path(__file__).parent / "data" / "memory"
ROOT = Path(__file__).resolve().parent.parent
CASES = sorted((d.name, p.stem) for d in (DATA / "h100", DATA / "tpu-v5e") for p in d.glob("*.hlo"))
IDS = [f"{t}-{n}" for t, n in CASES]
FIGURES = ("argument_bytes", "output_bytes", "alias_bytes", "temp_bytes")


def _module(target: str, name: str):
    path = DATA / target / f"{name}.hlo"
    return parse_module(path.read_text(), str(path))


def _stats(target: str, name: str) -> dict:
    return json.loads((DATA / target / f"{name}.json").read_text())["memory_analysis"]


def test_both_targets_cover_the_programs_of_the_issue():
    for target in ("h100", "tpu-v5e"):
        assert {n for t, n in CASES if t == target} >= {"fori", "cond", "scatter", "donate", "train",
                                                        "train_remat", "sharded", "pallas"}


@pytest.mark.parametrize(("target", "name"), CASES, ids=IDS)
def test_schedule_live_ranges_and_peak_equal_xla(target, name):
    """XLA:GPU and XLA:TPU write `*-live-range.txt` too: the flattened schedule, every value's range, the
    peak moment and the values live there (with their bytes) equal irscope's."""
    text = (DATA / target / f"{name}-live-range.txt").read_text()
    model = _Model(_module(target, name))
    model.run()
    assert [inst.name for inst, _ in model.sequence] == re.findall(r"^    \d+:(\S+)$", text, re.M)
    xla_ranges = {k: (int(a), int(b)) for k, a, b in re.findall(r"^    (\S+\{[\d,]*\}):(\d+)-(\d+)$", text, re.M)}
    assert {v.name: (v.start, v.end) for v in model.values} == xla_ranges
    peak_index, live = parse_live_range_peak(text)
    result = analyze_memory(_module(target, name), max_live=0)
    assert (result.peak_index, result.peak_bytes) == (peak_index, sum(b for _, b in live))
    assert sorted((b.name, b.bytes) for b in result.live_at_peak) == sorted(live)


@pytest.mark.parametrize(("target", "name"), CASES, ids=IDS)
def test_exact_figures_equal_memory_analysis(target, name):
    """Arguments, outputs and aliases from the module alone, XLA:TPU's tiled layouts and padded tuple
    index tables included."""
    stats, result = _stats(target, name), analyze_memory(_module(target, name))
    assert [getattr(result, k) for k in FIGURES[:3]] == [stats[k] for k in FIGURES[:3]]


@pytest.mark.parametrize("name", sorted(n for t, n in CASES if t == "h100"))
def test_h100_buffer_assignment_temps_equal_memory_analysis(name):
    module = _module("h100", name)
    assert read_xla_memory(DATA / "h100", module.name, name).temp_bytes == _stats("h100", name)["temp_bytes"]


def test_tpu_memory_analysis_temps_are_not_its_buffer_assignment_temps():
    """A difference irscope cannot close: compiled without the device, XLA:TPU's memory_analysis() gives 0
    temp bytes on all these programs, while its buffer assignment allocates temps in HBM (color 0) and in
    other memory spaces (VMEM, color 1). The report says so when it shows memory_analysis()'s temps."""
    names = sorted(n for t, n in CASES if t == "tpu-v5e")
    assert all(_stats("tpu-v5e", n)["temp_bytes"] == 0 for n in names)
    assert sum(read_xla_memory(DATA / "tpu-v5e", f"jit_{n}", n).temp_bytes > 0
               for n in names if n not in ("train", "train_remat")) >= 6
    fori = read_xla_memory(DATA / "tpu-v5e", "jit_fori", "fori")
    assert (fori.temp_bytes, fori.other_space_temp_bytes) == (66048, 163840 + 4 + 512)
    result = with_compiler_figures(analyze_memory(_module("tpu-v5e", "fori")), _stats("tpu-v5e", "fori"),
                                   platform="tpu")
    assert result.temp_bytes == 0 and result.provenance["temp_bytes"] == "xla"
    assert "buffer assignment" in memory_text(result)


def test_tpu_peak_counts_vmem_and_logical_sizes_and_the_report_says_so():
    """XLA:TPU's live-range peak sums logical sizes (an s32[] is 4 bytes, though its buffer takes a 512-byte
    tile) over every memory space (the loop's f32[64,128] in S(1), VMEM). irscope's peak equals it; the
    bytes the same values take in HBM are reported beside it."""
    result = analyze_memory(_module("tpu-v5e", "fori"))
    assert (result.peak_bytes, result.peak_allocated_bytes) == (196620, 99328)
    assert "allocated" in memory_text(result) and "S(1)" in memory_text(result)
    h100 = analyze_memory(_module("h100", "fori"))
    assert h100.peak_allocated_bytes == h100.peak_bytes and "allocated" not in memory_text(h100)


def _step(state, x):
    import jax.numpy as jnp
    from jax import lax

    y = lax.fori_loop(0, 3, lambda i, c: jnp.tanh(c) + x, x)
    return state + y.sum(), y


@pytest.mark.parametrize("target", ["cpu", "h100", "tpu-v5e"])
def test_inspect_jax_reports_memory_analysis_figures(target):
    """When irscope compiles the program, its four figures are XLA's memory_analysis(), labelled `xla`;
    the peak stays irscope's own."""
    import jax

    import irscope
    from irscope.frontends.targets import compile_for_target

    args = "f32[64,32] f32[64,32]"
    fn = jax.jit(_step, donate_argnums=0)
    if target == "cpu":
        report = irscope.inspect_jax(fn, args, memory=True)
        # inspect_jax jits what it is given (a jit of a jit: the inner donation is not the outer one's)
        stats = jax.jit(fn).lower(*[jax.ShapeDtypeStruct((64, 32), "float32")] * 2).compile().memory_analysis()
        expected = [stats.argument_size_in_bytes, stats.output_size_in_bytes, stats.alias_size_in_bytes,
                    stats.temp_size_in_bytes]
    else:
        report = irscope.inspect_jax(fn, args, target=target, memory=True)
        expected = [getattr(compile_for_target(fn, args, target).memory_analysis, k) for k in FIGURES]
    memory = report.memory
    assert [getattr(memory, k) for k in FIGURES] == expected
    assert {memory.provenance[k] for k in FIGURES} == {"xla"} and memory.provenance["peak_bytes"] == "estimated"
    assert (memory.alias_bytes > 0) == (target != "cpu") and memory.peak_bytes is not None
    assert ("buffer assignment" in (memory.note or "")) == (target == "tpu-v5e")


def test_cli_model_file_memory_is_labelled_xla(tmp_path):
    model = tmp_path / "model.py"
    model.write_text("import jax.numpy as jnp\n\n\ndef f(x, w):\n    return jnp.tanh(x @ w) @ w.T\n\n\n"
                     "IRSCOPE_EXAMPLES = {'f': (f, 'f32[128,64] f32[64,256]')}\n")
    run = subprocess.run([sys.executable, "-m", "irscope", "hlo", str(model), "--memory", "--json", "-"], cwd=ROOT,
                         capture_output=True, text=True,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "JAX_PLATFORMS": "cpu"})
    assert run.returncode == 0, run.stderr
    memory = json.loads(run.stdout)["memory"]
    assert {memory["provenance"][k] for k in FIGURES} == {"xla"}
    assert memory["xla"]["memory_analysis"]["argument_bytes"] == memory["argument_bytes"] == (128 * 64 + 64 * 256) * 4


@pytest.mark.parametrize(("target", "prefix"), [("h100", "module_0001.jit_fori.sm_9.0a_gpu_after_optimizations"),
                                                ("tpu-v5e", "module_0000.jit_fori.cl_933746096.after_optimizations")])
def test_cli_reads_a_gpu_or_tpu_dump_folder(tmp_path, target, prefix):
    """`--xla-dump` finds the files by the names XLA:GPU and XLA:TPU give them; the temps are the buffer
    assignment's in the main memory, and XLA's live-range peak is printed beside irscope's (equal)."""
    import shutil

    for suffix in ("", "-buffer-assignment", "-live-range"):
        ours = f"fori{suffix}.txt" if suffix else "fori.hlo"
        shutil.copy(DATA / target / ours, tmp_path / f"{prefix}{suffix}.txt")
    run = subprocess.run([sys.executable, "-m", "irscope", "hlo", str(tmp_path / f"{prefix}.txt"), "--memory",
                          "--xla-dump", str(tmp_path), "--json", "-"], cwd=ROOT, capture_output=True, text=True,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "JAX_PLATFORMS": "cpu"})
    assert run.returncode == 0, run.stderr
    memory = json.loads(run.stdout)["memory"]
    assert memory["temp_bytes"] == read_xla_memory(DATA / target, "jit_fori", "fori").temp_bytes
    assert memory["provenance"]["temp_bytes"] == "xla"
    assert (memory["xla"]["peak_bytes"], memory["xla"]["peak_index"]) == (memory["peak_bytes"], memory["peak_index"])
