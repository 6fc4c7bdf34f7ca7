"""The Pallas-vs-XLA harness and `irscope kernels`: fields, JSON contract, errors. No timing assertions."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import pytest
from conftest import REPO

from irscope.cli.main import main
from irscope.hw import get_chip
from irscope.ir.hlo_parser import parse_module
from irscope.kernels.harness import KERNELS, SCHEMA, compare
from irscope.kernels.static import pallas_traffic
from irscope.passes.cost import module_cost

# The keys the JSON contract names; more may follow them.
CONTRACT = {"kernel", "shape", "dtype", "max_abs_error", "tolerance", "bytes_pallas", "bytes_xla",
            "time_pallas_s", "time_xla_s", "time_eager_s", "interpret"}


@pytest.fixture(scope="module")
def matmul_result():
    return compare(KERNELS["matmul_bias_gelu"], (40, 48, 33), "f32", get_chip("h100"), interpret=True, repeats=1)


def test_compare_puts_the_three_side_by_side(matmul_result) -> None:
    r = matmul_result
    spec = KERNELS["matmul_bias_gelu"]
    assert (r.kernel, r.shape, r.dtype, r.interpret, r.chip) == ("matmul_bias_gelu", (40, 48, 33), "float32", True, "h100")
    assert r.ok and r.tolerance == spec.tolerance["float32"]
    args = spec.make_args(r.shape, jnp.float32, jax.random.key(0))
    # bytes_pallas is the static BlockSpec count, bytes_xla irscope's cost pass at XLA's conventions.
    [traffic] = pallas_traffic(lambda *a: spec.pallas(*a, interpret=True), *args)
    assert r.bytes_pallas == traffic.bytes_accessed
    cost = module_cost(parse_module(jax.jit(spec.reference).lower(*args).compile().as_text()))
    assert (r.bytes_xla, r.bytes_eager) == (cost.totals.bytes_accessed, cost.unfused_bytes_accessed)
    assert r.flops == cost.totals.flops > 2 * 40 * 48 * 33
    for which in ("pallas", "xla", "eager"):
        assert getattr(r, f"time_{which}_s") > 0 and r.gbps(which) > 0 and r.roofline[which] > 0
    assert r.xla_kernels and all(kind for _, kind, _ in r.xla_kernels)
    doc = r.to_json()
    assert CONTRACT <= set(doc) and json.loads(json.dumps(doc)) == doc


def test_every_kernel_has_sizes_and_a_tolerance_per_dtype() -> None:
    from irscope.cli.kernels import KERNEL_NAMES

    assert tuple(KERNELS) == KERNEL_NAMES
    for spec in KERNELS.values():
        assert set(spec.tolerance) == {"float32", "bfloat16"}
        for size in (*spec.cpu_sizes, *spec.gpu_sizes):
            assert len(size) == len(spec.dims)


def test_cli_prints_the_table_and_writes_the_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "kernels.json"
    rc = main(["kernels", "--kernel", "swish", "--sizes", "24x40", "--dtype", "bf16", "--repeats", "1",
               "--hw", "h100", "--json", str(out)])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    assert "swish" in captured.out and "24x40" in captured.out and "interpret mode" in captured.out
    doc = json.loads(out.read_text())
    assert doc["schema"] == SCHEMA == "irscope.kernels-report/1"
    [result] = doc["results"]
    assert CONTRACT <= set(result)
    assert (result["kernel"], result["shape"], result["dtype"], result["interpret"]) == ("swish", [24, 40], "bfloat16", True)
    assert result["bytes_pallas"] == 2 * 24 * 40 * 2 and math.isfinite(result["max_abs_error"])


@pytest.mark.parametrize(("argv", "message"), [
    (["--kernel", "gelu", "--sizes", "12xq"], "bad size '12xq'"),
    (["--kernel", "matmul_bias_gelu", "--sizes", "64x64"], "matmul_bias_gelu takes sizes MxKxN"),
    (["--kernel", "softmax", "--sizes", "2x20000"], "do not fit one block"),
    (["--kernel", "gelu", "--compiled"], "--compiled needs a GPU"),
    (["--kernel", "layer_norm", "--sizes", "16384x4096"], "in interpret mode its grid loop would copy"),
    (["--kernel", "nope"], "unknown kernel 'nope'; known: gelu, swish"),
    (["--kernel", "gelu", "--hw", "z80"], "unknown chip"),
])
def test_cli_user_errors_are_one_line_and_exit_2(argv: list[str], message: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    if ("--compiled" in argv or "16384x4096" in argv) and jax.default_backend() == "gpu":
        pytest.skip("a GPU is present")
    try:
        rc = main(["kernels", *argv, "--repeats", "1", *([] if "--hw" in argv else ["--hw", "h100"])])
    except SystemExit as e:  # argparse's own errors
        rc = e.code
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2
    assert len(err) == 1 and message in err[0], err


def test_launcher_help() -> None:
    done = subprocess.run([sys.executable, "-m", "inspect.kernels", "--help"], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0 and "--sizes" in done.stdout and "BxTxSxD" in done.stdout
