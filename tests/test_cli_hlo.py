"""`irscope hlo` end to end: inputs, outputs, the JSON contract, and bad input."""

from __future__ import annotations

import json
import random

import jax
import jax.numpy as jnp
import pytest
from conftest import CORPUS, REPO

from irscope.cli.main import main
from irscope.frontends.stablehlo import write_mlir

KERNEL_KEYS = {"name", "kind", "ops", "bytes_read", "bytes_written", "flops", "transcendentals"}
TOTAL_KEYS = {"bytes_accessed", "flops", "transcendentals", "unfused_bytes_accessed"}


def run(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = main(["hlo", *argv])
    except SystemExit as e:  # argparse exits on usage errors
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def mlp_json(tmp_path_factory):
    path = tmp_path_factory.mktemp("mlp") / "mlp.json"
    assert main(["hlo", str(REPO / "examples" / "mlp.py"), "--hw", "h100", "--json", str(path)]) == 0
    return json.loads(path.read_text())


def test_json_contract(mlp_json):
    doc = mlp_json
    assert doc["schema"] == "irscope.hlo-report/1"
    assert doc["module"] == "jit_mlp"
    assert doc["kernels"] and all(KERNEL_KEYS <= set(k) for k in doc["kernels"])
    assert TOTAL_KEYS <= set(doc["totals"])
    kinds = {k["kind"] for k in doc["kernels"]}
    assert "kLoop" in kinds
    # The totals follow XLA's conventions: they equal what XLA's cost analysis reports.
    xla = doc["xla_cost_analysis"]
    assert doc["totals"]["flops"] == pytest.approx(xla["flops"], rel=1e-6)
    assert doc["totals"]["bytes_accessed"] == pytest.approx(xla["bytes accessed"], rel=1e-6)
    assert doc["totals"]["transcendentals"] == pytest.approx(xla.get("transcendentals", 0.0), rel=1e-6)
    assert doc["totals"]["unfused_bytes_accessed"] >= doc["totals"]["bytes_accessed"]
    # No control flow here: the kernels add up to the totals.
    assert sum(k["flops"] for k in doc["kernels"]) == pytest.approx(doc["totals"]["flops"], rel=1e-6)
    for k in doc["kernels"]:
        assert k["bound"] in ("memory", "compute", "n/a")
        assert k["time_at_peak_s"] >= 0


def test_table_on_stdout(capsys):
    code, out, err = run(capsys, str(REPO / "examples" / "mlp.py"), "--hw", "h100")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("module jit_mlp (optimized")
    header = next(line for line in lines if line.startswith("#"))
    for column in ("kernel", "kind", "ops", "bytes", "FLOPs", "FLOP/B", "bound", "t@peak"):
        assert column in header
    assert any("fusion saved" in line for line in lines)
    assert "lowering mlp" in err  # progress goes to stderr


def test_json_to_stdout_is_only_json(capsys):
    code, out, _ = run(capsys, str(CORPUS / "jax_logsm_gpu_after_optimizations.hlo"), "--hw", "h100", "--json", "-")
    assert code == 0
    doc = json.loads(out)
    assert doc["module"] == "jit__logsm_from_logmhalo_jax_kern" and doc["stage"] == "optimized"


def test_svg(tmp_path, capsys):
    svg = tmp_path / "g.svg"
    code, _, err = run(capsys, str(CORPUS / "hlo_to_mhlo_fusion.hlo"), "--hw", "h100", "--svg", str(svg), "--expand")
    assert code == 0, err
    text = svg.read_text()
    assert "<svg" in text and "</svg>" in text


@pytest.mark.parametrize("stage, marker", [("stablehlo", "func.func"), ("hlo", "HloModule"), ("optimized", "fusion")])
def test_stages(capsys, stage, marker):
    code, out, _ = run(capsys, str(REPO / "examples" / "mlp.py"), "--stage", stage)
    assert code == 0 and marker in out


def test_mlir_input(tmp_path, capsys):
    lowered = jax.jit(lambda x, y: jnp.tanh(x @ y)).lower(jnp.ones((8, 16)), jnp.ones((16, 4)))
    path = tmp_path / "m.mlir"
    write_mlir(path, lowered.as_text())
    code, out, err = run(capsys, str(path), "--hw", "h100", "--json", "-")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["totals"]["flops"] == pytest.approx(lowered.compile().cost_analysis()["flops"])


def test_fn_and_args(tmp_path, capsys):
    model = tmp_path / "model.py"
    model.write_text("import jax.numpy as jnp\n\ndef attention(q, k):\n    return jnp.einsum('qd,kd->qk', q, k)\n")
    code, out, err = run(capsys, str(model), "--fn", "attention", "--args", "f32[64,32] f32[64,32]", "--hw", "h100")
    assert code == 0, err
    assert "module jit_attention" in out
    code, out, _ = run(capsys, str(model), "--list")
    assert code == 0 and "attention" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["examples/mlp.py", "--bogus"], "unrecognized arguments: --bogus"),
        (["examples/mlp.py", "--fn", "nope"], "no function 'nope'"),
        (["examples/mlp.py", "--hw", "z80"], "unknown chip: 'z80'"),
        (["missing.hlo"], "missing.hlo: no such file"),
        (["examples/mlp.py", "--fn", "mlp", "--args", "f32[2,x]"], "bad argument spec"),
    ],
)
def test_user_errors_are_one_line(capsys, monkeypatch, argv, message):
    monkeypatch.chdir(REPO)
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and message in err


def test_malformed_hlo_points_at_line_and_writes_nothing(tmp_path, capsys):
    bad = tmp_path / "bad.hlo"
    bad.write_text(CORPUS.joinpath("gpu_hlo_ptx.hlo").read_text().replace("ROOT out = f16[] add(a, b)", "ROOT out = f16[] add(a, b"))
    out_json = tmp_path / "out.json"
    code, out, err = run(capsys, str(bad), "--json", str(out_json))
    assert code == 2 and out == ""
    first = err.splitlines()[0]
    assert first.startswith(f"irscope hlo: error: {bad}:9:1: expected ',' or ')' after an operand")
    assert err.splitlines()[-1].strip() == "^"
    assert not out_json.exists()


def test_truncated_and_mutated_files_never_crash(tmp_path, capsys):
    """Fuzz with a fixed seed: every mutation is either read or refused with exit status 2."""
    text = CORPUS.joinpath("jax_logsm_gpu_after_optimizations.hlo").read_text()
    rng = random.Random(1234)
    outcomes = {0: 0, 2: 0}
    for trial in range(40):
        mutated = list(text)
        for _ in range(rng.randint(1, 5)):
            pos = rng.randrange(len(mutated))
            action = rng.choice(["delete", "insert", "truncate"])
            if action == "delete":
                del mutated[pos]
            elif action == "insert":
                mutated.insert(pos, rng.choice("{}()[],=%\"\n x0"))
            else:
                del mutated[pos:]
        path = tmp_path / f"m{trial}.hlo"
        path.write_text("".join(mutated))
        code, _, err = run(capsys, str(path), "--hw", "h100", "--json", str(tmp_path / "o.json"))
        assert code in (0, 2), err
        if code == 2:
            assert err.startswith("irscope hlo: error: ") and "Traceback" not in err
        outcomes[code] += 1
    assert outcomes[2] > 0
