"""`diff --memory`: the figures and the values at the peak that come and go, on real pairs of compiles."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from irscope.frontends import targets as T
from irscope.frontends.xla_buffers import parse_live_range_peak
from irscope.ir.hlo_parser import parse_module
from irscope.passes.diff import diff_modules
from irscope.passes.memory import analyze_memory, with_compiler_figures

DATA = Path(__file__).parent / "data" / "memory"
ROOT = Path(__file__).resolve().parent.parent


def _module(folder: Path, name: str):
    return parse_module((folder / f"{name}.hlo").read_text(), str(folder / f"{name}.hlo"))


def _xla_peak(folder: Path, name: str) -> int:
    return sum(b for _, b in parse_live_range_peak((folder / f"{name}-live-range.txt").read_text())[1])


@pytest.mark.parametrize("folder", [DATA, DATA / "h100", DATA / "tpu-v5e"], ids=["cpu", "h100", "tpu-v5e"])
def test_checkpoint_on_vs_off(folder):
    """jax.checkpoint: the peak delta is the difference of XLA's own live-range peaks, and it is exactly
    what appeared at the peak less what disappeared (a matched value has the same shape on both sides)."""
    result = diff_modules(_module(folder, "train"), _module(folder, "train_remat"), "cpu", memory=True)
    memory = result.memory
    assert memory is not None
    assert memory.delta["peak_bytes"] == _xla_peak(folder, "train_remat") - _xla_peak(folder, "train") < 0
    assert memory.delta["peak_bytes"] == sum(b.bytes for b in memory.appeared) - sum(b.bytes for b in memory.disappeared)
    assert memory.delta["argument_bytes"] == memory.delta["output_bytes"] == 0
    assert memory.disappeared and any(b.source for b in memory.disappeared)  # copies XLA:TPU adds have none


def test_a_module_against_itself_has_no_memory_difference():
    module = _module(DATA, "train")
    memory = diff_modules(module, module, "cpu", memory=True).memory
    assert not memory.appeared and not memory.disappeared and set(memory.delta.values()) == {0}
    assert memory.kept == len(analyze_memory(module, max_live=0).live_at_peak)


def _compile(fn, *shapes, donate=()):
    import jax

    compiled = jax.jit(fn, donate_argnums=donate).lower(*[jax.ShapeDtypeStruct(s, "float32") for s in shapes]).compile()
    stats = compiled.memory_analysis()
    module = parse_module(compiled.as_text())
    figures = {"argument_bytes": stats.argument_size_in_bytes, "output_bytes": stats.output_size_in_bytes,
               "alias_bytes": stats.alias_size_in_bytes, "temp_bytes": stats.temp_size_in_bytes}
    return module, with_compiler_figures(analyze_memory(module, max_live=0), figures)


def _update(state, g):
    import jax.numpy as jnp

    return state - 0.1 * jnp.tanh(g), jnp.sum(g * g)


def test_donated_argument_vs_not():
    """Donating the state: the output reuses the argument's buffer (alias bytes, from memory_analysis()),
    and the new state no longer needs a buffer of its own at the peak."""
    plain_module, plain = _compile(_update, (256, 256), (256, 256))
    donated_module, donated = _compile(_update, (256, 256), (256, 256), donate=(0,))
    memory = diff_modules(plain_module, donated_module, "cpu", memory=(plain, donated)).memory
    assert memory.delta["alias_bytes"] == 256 * 256 * 4
    assert memory.provenance_after["alias_bytes"] == "xla"
    assert memory.delta["peak_bytes"] <= -256 * 256 * 4
    assert "f32[256,256]" in {b.shape for b in memory.disappeared}
    assert memory.delta["peak_bytes"] == sum(b.bytes for b in memory.appeared) - sum(b.bytes for b in memory.disappeared)


def _mlp(x, w1, w2):
    import jax.numpy as jnp

    return jnp.tanh(x @ w1) @ w2


def test_batch_8_vs_16():
    """A larger batch: the argument and the activations grow; the weights stay matched at both peaks."""
    small_module, small = _compile(_mlp, (8, 512), (512, 1024), (1024, 256))
    large_module, large = _compile(_mlp, (16, 512), (512, 1024), (1024, 256))
    memory = diff_modules(small_module, large_module, "cpu", memory=(small, large)).memory
    assert memory.delta["argument_bytes"] == 8 * 512 * 4 and memory.delta["output_bytes"] == 8 * 256 * 4
    assert {b.shape for b in memory.appeared} >= {"f32[16,512]"}
    assert {b.shape for b in memory.disappeared} >= {"f32[8,512]"}
    assert all(b.shape.startswith(("f32[16", "f32[8")) for b in memory.appeared + memory.disappeared)
    assert memory.kept >= 2  # both weights


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "inspect.diff", *args], cwd=ROOT, capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "JAX_PLATFORMS": "cpu"})


def test_cli_diff_memory_text_and_json():
    before, after = str(DATA / "train.hlo"), str(DATA / "train_remat.hlo")
    text = _cli(before, after, "--memory")
    assert text.returncode in (0, 1), text.stderr
    assert "disappear from the peak" in text.stdout and "peak " in text.stdout
    run = _cli(before, after, "--memory", "--json", "-")
    report = json.loads(run.stdout)
    assert report["schema"] == "irscope.diff-report/1"
    memory = report["memory"]
    assert memory["delta"]["peak_bytes"] == _xla_peak(DATA, "train_remat") - _xla_peak(DATA, "train")
    assert set(memory["disappeared_at_peak"][0]) == {"name", "bytes", "shape", "kernel", "op_name", "source"}
    assert "memory" not in json.loads(_cli(before, after, "--json", "-").stdout)


def test_cli_diff_memory_of_two_compiles_is_labelled_xla(tmp_path):
    """Two model.py sides compiled here: the four figures are each compile's memory_analysis()."""
    model = tmp_path / "model.py"
    model.write_text("import jax.numpy as jnp\n\n\ndef f(x, w):\n    return jnp.tanh(x @ w)\n\n\n"
                     "IRSCOPE_EXAMPLES = {'small': (f, 'f32[8,128] f32[128,256]'), "
                     "'large': (f, 'f32[16,128] f32[128,256]')}\n")
    run = _cli(f"{model}::small", f"{model}::large", "--memory", "--json", "-")
    assert run.returncode in (0, 1), run.stderr
    memory = json.loads(run.stdout)["memory"]
    assert {memory["provenance"]["after"][k] for k in ("argument_bytes", "output_bytes", "temp_bytes")} == {"xla"}
    assert memory["delta"]["argument_bytes"] == 8 * 128 * 4 and memory["delta"]["output_bytes"] == 8 * 256 * 4


@pytest.mark.skipif(not T.extra_installed(T.CHIPS["tpu-v5e"]), reason="XLA:TPU is not installed: pip install 'irscope[tpu]'")
def test_cli_diff_memory_with_a_target_carries_that_compiles_figures(tmp_path):
    """Sides compiled for another chip (--target): the figures are XLA:TPU's memory_analysis() of them."""
    model = tmp_path / "model.py"
    model.write_text("import jax.numpy as jnp\n\n\ndef f(x, w):\n    return jnp.tanh(x @ w)\n\n\n"
                     "IRSCOPE_EXAMPLES = {'small': (f, 'f32[8,128] f32[128,256]'), "
                     "'large': (f, 'f32[16,128] f32[128,256]')}\n")
    run = _cli(f"{model}::small", f"{model}::large", "--target", "tpu-v5e", "--memory", "--json", "-")
    assert run.returncode in (0, 1), run.stderr
    memory = json.loads(run.stdout)["memory"]
    for side in ("before", "after"):
        assert {memory["provenance"][side][k] for k in ("argument_bytes", "output_bytes", "temp_bytes")} == {"xla"}
    import jax
    import jax.numpy as jnp

    compiled = T.compile_for_target(lambda x, w: jnp.tanh(x @ w),
                                  (jax.ShapeDtypeStruct((16, 128), jnp.float32),
                                   jax.ShapeDtypeStruct((128, 256), jnp.float32)), "tpu-v5e")
    xla = compiled.memory_analysis
    assert memory["after"]["argument_bytes"] == xla.argument_bytes
    assert memory["after"]["output_bytes"] == xla.output_bytes
    assert memory["after"]["temp_bytes"] == xla.temp_bytes
