"""`--target` and `--mesh` on `hlo` and `diff`, `inspect_jax(target=...)`, the unit-aware roofline peaks and
the compiler's own estimates.

Peak-selection and estimate tests read the committed corpus (tests/data/targets/) and need no extra. The
CLI tests compile live with XLA:GPU and XLA:TPU on this CPU and skip, naming the pip command, when the
`gpu` or `tpu` extra is missing (`make test` installs both).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jax
import jax.numpy as jnp
import pytest

from irscope import hw
from irscope.api import inspect_hlo, inspect_jax
from irscope.cli.main import main
from irscope.frontends import targets as T
from irscope.passes.compiler_estimate import kernel_estimate_s, module_estimate_s
from irscope.passes.report import analyze

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "tests" / "data" / "targets"
EXAMPLES = REPO / "examples"

needs_gpu = pytest.mark.skipif(not T.extra_installed(T.CHIPS["h100"]),
                               reason="XLA:GPU is not installed: pip install 'irscope[gpu]'")
needs_tpu = pytest.mark.skipif(not T.extra_installed(T.CHIPS["tpu-v5e"]),
                               reason="XLA:TPU is not installed: pip install 'irscope[tpu]'")
NEEDS = {"h100": needs_gpu, "tpu-v5e": needs_tpu}


def run(capsys, command: str, *argv: str) -> tuple[int, str, str]:
    try:
        code = main([command, *argv])
    except SystemExit as e:
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


# ----------------------------------------------------------------------------------------------
# The chip table: every target's chip, peaks by unit


def test_every_target_chip_is_in_the_table_with_sources():
    for name in T.CHIPS:
        chip = hw.get_chip(name) if name != "cpu" else None
        if chip is None:
            continue
        assert chip.platform == ("gpu" if T.CHIPS[name].platform == "cuda" else "tpu")
        assert all(chip.sources[k] for k in chip.source_keys())


@pytest.mark.parametrize(("chip", "dtype", "unit", "key"), [
    ("h100", "f32", "matrix", "tf32"),    # XLA:GPU's default precision: TF32 tensor cores
    ("h100", "f32", "vector", "f32"),     # element-wise: CUDA cores
    ("h100", "bf16", "matrix", "bf16"),
    ("h100", "bf16", "vector", "f32"),
    ("h100", "f16", "matrix", "f16"),
    ("h100", "f8e4m3fn", "matrix", "f8"),
    ("h100", "s8", "matrix", "s8"),
    ("h100", "f64", "vector", "f64"),
    ("a100", "f32", "matrix", "tf32"),
    ("a100", "f8e4m3fn", "matrix", "bf16"),  # no FP8 units on Ampere
    ("b200", "f32", "matrix", "tf32"),
    ("b200", "bf16", "matrix", "bf16"),
    ("tpu-v5e", "f32", "matrix", "bf16"),  # the MXU runs an f32 dot as bf16 passes
    ("tpu-v5e", "s8", "matrix", "s8"),
    ("tpu-v6e", "bf16", "vector", "bf16"),  # no published vector-unit figure: the stated upper bound
])
def test_peak_key_follows_dtype_and_unit(chip, dtype, unit, key):
    assert hw.peak_key(hw.get_chip(chip), dtype, unit) == key


def test_peak_key_refuses_unknown_unit_and_dtype():
    with pytest.raises(ValueError, match="unknown unit"):
        hw.peak_key(hw.get_chip("h100"), "f32", "sfu")
    with pytest.raises(ValueError, match="unknown dtype"):
        hw.peak_key(hw.get_chip("h100"), "f33", "vector")


def test_tpu_clocks_follow_from_the_mxu_arithmetic():
    # 4 MXUs of 128x128 multiply-adds at 1.5 GHz are v5e's 197 TFLOP/s; v4 and v5p have two TensorCores.
    assert hw.get_chip("tpu-v5e").clock_hz == pytest.approx(1.503e9, rel=1e-3)
    assert hw.get_chip("tpu-v4").clock_hz == pytest.approx(1.049e9, rel=1e-3)
    assert hw.get_chip("tpu-v6e").clock_hz is None  # not published, not derivable: no conversion


def _ridge(chip: hw.Chip, key: str) -> float:
    return chip.peak_flops[key] / chip.mem_bandwidth


def test_h100_f32_matmuls_use_tf32_and_are_memory_bound():
    report = inspect_hlo(CORPUS / "mlp_block.h100.hlo", hw="h100")
    chip = report.chip
    gemms = [r for r in report.rows if "gemm" in r.kernel.name]
    loops = [r for r in report.rows if r.kernel.kind == "kLoop"]
    assert gemms and loops
    for row in gemms:
        assert row.dtype == "f32" and row.roofline.peak_dtype == "tf32"
        assert row.roofline.peak_flops == chip.peak_flops["tf32"]
        # Below the TF32 ridge (about 148 FLOP/B), above the CUDA-core one (20): the old table's mistake.
        assert _ridge(chip, "f32") < row.roofline.intensity < _ridge(chip, "tf32")
        assert row.roofline.bound == "memory"
    assert {r.roofline.peak_dtype for r in loops} == {"f32"}


def test_h100_bf16_matmuls_use_bf16_tensor_cores():
    report = inspect_hlo(CORPUS / "mlp_block_bf16.h100.hlo", hw="h100")
    gemms = [r for r in report.rows if "gemm" in r.kernel.name]
    assert gemms and {r.roofline.peak_dtype for r in gemms} == {"bf16"}


# ----------------------------------------------------------------------------------------------
# The compiler's own estimates (TPU)


def _tpu_report(name: str):
    record = json.loads((CORPUS / f"{name}.tpu-v5e.json").read_text())
    module = inspect_hlo(CORPUS / f"{name}.tpu-v5e.hlo").module
    return analyze(module, hw.get_chip("tpu-v5e"), xla_cost=record["cost_analysis"],
                   extra={"target": "tpu-v5e"}), record


@pytest.mark.parametrize("name", ["mlp_block", "softmax", "transformer_step"])
def test_tpu_estimates_are_the_compilers_cycles_over_the_clock(name):
    report, record = _tpu_report(name)
    clock = hw.get_chip("tpu-v5e").clock_hz
    found = 0
    for row in report.rows:
        config = row.kernel.instruction.attrs.get("backend_config", "")
        m = re.search(r'"estimated_cycles":"(\d+)"', config)
        estimate = kernel_estimate_s(report, row)
        if m is None:
            assert estimate is None
        else:
            found += 1
            assert estimate == pytest.approx(int(m.group(1)) / clock)
    assert found > 0
    assert module_estimate_s(report) == record["cost_analysis"]["optimal_seconds"]
    doc = report.to_json()
    assert doc["target"] == "tpu-v5e" and doc["totals"]["compiler_estimate_s"] > 0
    assert sum(k["compiler_estimate_s"] is not None for k in doc["kernels"]) == found
    assert doc["provenance"]["compiler_estimate_s"] == "xla"


def test_a_report_without_target_has_no_target_keys():
    doc = inspect_hlo(CORPUS / "mlp_block.h100.hlo", hw="h100").to_json()
    assert "target" not in doc and "compiler_estimate_s" not in doc["totals"]


# ----------------------------------------------------------------------------------------------
# The CLI, compiling live


@pytest.mark.parametrize("target", [pytest.param("h100", marks=needs_gpu), pytest.param("tpu-v5e", marks=needs_tpu)])
@pytest.mark.parametrize("example", ["mlp", "gelu", "transformer", "convnet"])
def test_hlo_target_on_examples(capsys, tmp_path, target, example):
    out_json = tmp_path / "r.json"
    pick = ["--fn", "tanh"] if example == "gelu" else []  # gelu.py holds two programs
    code, out, err = run(capsys, "hlo", str(EXAMPLES / f"{example}.py"), *pick, "--target", target,
                         "--json", str(out_json))
    assert code == 0, err
    doc = json.loads(out_json.read_text())
    assert doc["target"] == target and doc["chip"] == target  # the roofline chip defaults to the target
    assert doc["autotuned"] is False
    assert out.splitlines()[0].startswith(f"target   {target}: compiled by its own XLA")
    assert f"on {target}:" in out
    kinds = {k["kind"] for k in doc["kernels"]}
    assert not any("ynn" in k for k in kinds)  # XLA:CPU's YNNPACK fusions are not there
    if target == "h100":
        assert "nothing was autotuned" in out.splitlines()[0]
        assert doc["xla_cost_analysis"] is None  # XLA:GPU has none without the device
        assert all(k["compiler_estimate_s"] is None for k in doc["kernels"])
    else:
        assert doc["totals"]["compiler_estimate_s"] == doc["xla_cost_analysis"]["optimal_seconds"]
        assert "compiler " in out and "optimal_seconds" in out


@needs_gpu
def test_h100_mlp_gemm_fusions_are_tritons_on_tf32(capsys, tmp_path):
    code, out, err = run(capsys, "hlo", str(EXAMPLES / "mlp.py"), "--target", "h100", "--json", "-")
    assert code == 0, err
    doc = json.loads(out)
    gemms = [k for k in doc["kernels"] if k["kind"].startswith("__triton")]
    assert gemms and {k["peak_dtype"] for k in gemms} == {"tf32"}
    assert {k["bound"] for k in gemms} == {"memory"}


@needs_tpu
def test_hw_overrides_the_targets_chip(capsys):
    code, out, err = run(capsys, "hlo", str(EXAMPLES / "mlp.py"), "--target", "tpu-v5e", "--hw", "h100",
                         "--json", "-")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["target"] == "tpu-v5e" and doc["chip"] == "h100"


@pytest.mark.parametrize(("target", "mesh", "devices"), [
    pytest.param("tpu-v5e:2x2", "data=2,model=2", 4, marks=needs_tpu),
    pytest.param("h100:8", "data=2,model=4", 8, marks=needs_gpu),
])
def test_sharded_example_with_mesh_has_its_collective(capsys, target, mesh, devices):
    code, out, err = run(capsys, "hlo", str(EXAMPLES / "sharded_mlp.py"), "--target", target, "--mesh", mesh,
                         "--json", "-")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["target"] == target and doc["extra"]["num_devices"] == devices
    assert any(k["kind"] == "collective" and "all-reduce" in k["opcode"] for k in doc["kernels"])
    # Per-device shapes: the batch (256) is split over `data` (2), the weights over `model`.
    assert any(i["shape"].startswith("bf16[128,512]") for k in doc["kernels"] for i in k["inputs"])


@needs_tpu
def test_hlo_text_with_a_target_only_picks_the_chip(capsys):
    code, out, err = run(capsys, "hlo", str(CORPUS / "softmax.tpu-v5e.hlo"), "--target", "tpu-v5e",
                         "--json", "-")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["target"] == "tpu-v5e" and doc["chip"] == "tpu-v5e"
    assert "the target only picks the roofline chip" in err


@needs_tpu
def test_mlir_file_with_a_target_is_compiled_by_its_compiler(capsys, tmp_path):
    path = tmp_path / "f.mlir"
    path.write_text(jax.jit(lambda x: jnp.tanh(x) * 2).lower(jnp.ones((128, 256))).as_text())
    code, out, err = run(capsys, "hlo", str(path), "--target", "tpu-v5e", "--json", "-")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["target"] == "tpu-v5e" and doc["xla_cost_analysis"]["optimal_seconds"] > 0  # XLA:TPU's figures
    assert any(k["compiler_estimate_s"] for k in doc["kernels"])  # its estimated_cycles


@needs_tpu
@needs_gpu
def test_diff_with_a_target_per_side(capsys):
    code, out, err = run(capsys, "diff", str(EXAMPLES / "mlp.py"), str(EXAMPLES / "mlp.py"),
                         "--target-before", "h100", "--target-after", "tpu-v5e")
    assert code == 1, err  # the two compilers made different programs
    assert "@h100" in out and "@tpu-v5e" in out and "(t@peak on h100)" in out


@needs_tpu
def test_inspect_jax_with_target():
    report = inspect_jax(lambda x, w: jnp.tanh(x @ w), "f32[256,512] f32[512,1024]", target="tpu-v5e")
    doc = report.to_json()
    assert doc["target"] == "tpu-v5e" and doc["chip"] == "tpu-v5e" and doc["totals"]["compiler_estimate_s"]


@needs_tpu
def test_inspect_jax_with_target_and_mesh():
    from jax.sharding import PartitionSpec as P

    args = [jax.ShapeDtypeStruct((256, 512), jnp.float32, sharding=P("data", None)),
            jax.ShapeDtypeStruct((512, 1024), jnp.float32, sharding=P(None, "model"))]
    report = inspect_jax(lambda x, w: x @ w, args, target="tpu-v5e:2x2", mesh={"data": 2, "model": 2})
    doc = report.to_json()
    assert doc["target"] == "tpu-v5e:2x2" and doc["extra"]["num_devices"] == 4
    assert any(i["shape"].startswith("f32[128,512]") for k in doc["kernels"] for i in k["inputs"])


# ----------------------------------------------------------------------------------------------
# Mistakes: one line, exit 2, nothing written


@pytest.mark.parametrize(("argv", "message"), [
    (["mlp.py", "--target", "tpu-v9"], "unknown target 'tpu-v9' (choose one of: cpu, h100"),
    (["mlp.py", "--target", "tpu-v5e:3x3"], "v5e slices are 1x1, 2x2"),
    (["mlp.py", "--target", "h100:9"], "1 to 8"),
    (["mlp.py", "--mesh", "data=2"], "the target cpu has one"),
    (["mlp.py", "--target", "h100:4", "--mesh", "data=2;model=2"], "expected AXIS=N pairs"),
    (["mlp.py", "--target", "h100", "--measure"], "--measure times this machine's CPU, which is not h100"),
    (["mlp.py", "--hw", "h100", "--measure"], "which is not --hw h100"),
    (["mlp.py", "--target", "h100", "--passes"], "drop --target"),
])
def test_user_mistakes_without_compiling(capsys, tmp_path, argv, message):
    out_json = tmp_path / "r.json"
    code, out, err = run(capsys, "hlo", str(EXAMPLES / argv[0]), *argv[1:], "--json", str(out_json))
    assert code == 2 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert not out_json.exists()


@pytest.mark.parametrize(("mesh", "message"), [
    ("data=2,tensor=2", "names mesh axes 'model' but the mesh has 'data', 'tensor'"),
    ("data=2,model=4", "has 8 devices but tpu-v5e:2x2 has 4"),
    (None, "sharded over mesh axes 'data', 'model': give --mesh data=N,model=N"),
])
@needs_tpu
def test_mesh_mistakes(capsys, tmp_path, mesh, message):
    out_json = tmp_path / "r.json"
    argv = [str(EXAMPLES / "sharded_mlp.py"), "--target", "tpu-v5e:2x2", "--json", str(out_json)]
    code, out, err = run(capsys, "hlo", *argv, *(["--mesh", mesh] if mesh else []))
    lines = [line for line in err.strip().splitlines() if not line.startswith("compiling ")]
    assert code == 2 and out == "" and message in err and len(lines) == 1, err
    assert not out_json.exists()


def test_sharded_example_on_the_local_cpu_says_what_it_needs(capsys):
    code, out, err = run(capsys, "hlo", str(EXAMPLES / "sharded_mlp.py"))
    lines = [line for line in err.strip().splitlines() if not line.startswith("lowering ")]
    assert code == 2 and out == "" and len(lines) == 1, err
    assert "sharded over mesh axes 'data', 'model'" in err and "--target tpu-v5e:2x2 --mesh data=2,model=2" in err
