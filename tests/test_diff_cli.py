"""`irscope diff` / `python -m inspect.diff` end to end: the text report (golden files), the JSON, the
exit status (0 same, 1 different, 2 trouble) and the sides it accepts.

Golden files live in tests/golden/ (`pytest --update-goldens` regenerates them; see conftest.py). Their
inputs are the fixed HLO files tests/data/gelu_{exact,tanh}.hlo, compiled once from examples/gelu.py
(fixtures, not live compiles, keep the goldens independent of the machine's CPU and of jax's version).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import REPO

from irscope.cli import main as cli_main
from irscope.cli.common import UserError
from irscope.cli.diff import parse_xla_flags


@pytest.fixture
def diff(capsys, monkeypatch):
    """Run `irscope diff ARGS` from the repository root -> (exit status, stdout, stderr)."""
    monkeypatch.chdir(REPO)
    # Only this subcommand: its tests should not depend on the others importing cleanly.
    monkeypatch.setattr(cli_main, "SUBCOMMANDS", ("diff",))

    def run(*argv: str) -> tuple[int, str, str]:
        try:
            code = cli_main.main(["diff", *argv])
        except SystemExit as e:  # argparse usage errors
            code = e.code
        out, err = capsys.readouterr()
        return code, out, err

    return run


EXACT, TANH = "tests/data/gelu_exact.hlo", "tests/data/gelu_tanh.hlo"


def test_golden_gelu_exact_vs_tanh(diff, golden):
    code, out, _ = diff(EXACT, TANH, "--hw", "h100")
    assert code == 1
    golden("diff_gelu_exact_vs_tanh.txt", out)


def test_golden_gelu_all_kernels(diff, golden):
    code, out, _ = diff(EXACT, TANH, "--hw", "h100", "--all")
    assert code == 1
    golden("diff_gelu_exact_vs_tanh_all.txt", out)


def test_golden_identical(diff, golden):
    code, out, _ = diff(TANH, TANH, "--hw", "h100")
    assert code == 0
    golden("diff_identical.txt", out)


def test_json_and_html_outputs(diff, tmp_path):
    js, page = tmp_path / "d.json", tmp_path / "d.html"
    code, out, err = diff(EXACT, TANH, "--hw", "h100", "--json", str(js), "--html", str(page))
    assert code == 1
    assert "select_multiply_fusion" in out and f"wrote {js}" in err
    doc = json.loads(js.read_text())
    assert doc["schema"] == "irscope.diff-report/1"
    assert doc["summary"] == {"added": 0, "removed": 0, "changed": 3, "unchanged": 3}
    assert page.read_text().startswith("<!doctype html>")


def test_json_to_stdout_is_only_json(diff):
    code, out, _ = diff(TANH, TANH, "--hw", "h100", "--json", "-")
    assert code == 0
    assert json.loads(out)["identical"] is True


def test_model_files_with_xla_flags(diff):
    # The same program, once with XLA's fusion pass disabled: kernels appear, bytes grow.
    code, out, err = diff("examples/gelu.py::tanh", "examples/gelu.py::tanh", "--hw", "h100",
                          "--xla-flags-after", "--xla_disable_hlo_passes=fusion")
    assert code == 1, err
    assert "[--xla_disable_hlo_passes=fusion]" in out
    assert "added" in out and "+" in out.split("kernels:")[1]
    code, out, _ = diff("examples/gelu.py::tanh", "examples/gelu.py::tanh", "--hw", "h100")
    assert code == 0 and "no difference" in out


def test_stage_hlo_compares_xla_input(diff):
    code, out, _ = diff("examples/gelu.py", "examples/gelu.py", "--fn", "exact", "--stage", "hlo", "--hw", "h100")
    assert code == 0
    assert "no difference" in out


@pytest.mark.parametrize("argv, message", [
    (("nope.hlo", TANH), "nope.hlo: no such file"),
    ((EXACT, "tests"), "is a directory"),
    ((f"{EXACT}::f", TANH), "::fn picks a function of a model.py, not of a .hlo file"),
    (("examples/gelu.py", TANH), "offers 2 programs"),
    (("examples/gelu.py::nosuch", TANH), "no function 'nosuch'"),
    ((EXACT, TANH, "--hw", "abacus"), "unknown chip"),
    ((EXACT, TANH, "--xla-flags", "fast"), "not an XLA flag"),
    ((EXACT, TANH, "--xla-flags-after", "--xla_disable_hlo_passes=fusion"), "already optimized"),
    (("examples/gelu.py::tanh", TANH, "--xla-flags", "--xla_no_such_option=1"), "No such compile option"),
])
def test_trouble_is_one_line_and_exit_2(diff, argv, message):
    code, out, err = diff(*argv)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()[-1]) > 0 and "Traceback" not in err


def test_parse_xla_flags():
    assert parse_xla_flags("--xla_a=true --xla_b=3 xla_c=fusion,cse --xla_d") == {
        "xla_a": True, "xla_b": 3, "xla_c": "fusion,cse", "xla_d": True}
    assert parse_xla_flags("") == {}
    with pytest.raises(UserError, match="not an XLA flag"):
        parse_xla_flags("--fast")


def test_launcher_exit_status():
    """`python -m inspect.diff` from the repository root: exit 1 for different programs."""
    proc = subprocess.run([sys.executable, "-m", "inspect.diff", EXACT, TANH, "--hw", "h100"],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.startswith("diff jit_mlp -> jit_mlp")


def test_measure_adds_measured_times(diff, tmp_path):
    model = tmp_path / "tiny.py"
    model.write_text("import jax\n\n\ndef f(x, w):\n    return jax.nn.gelu(x @ w)\n")
    js = tmp_path / "m.json"
    code, out, err = diff(f"{model}::f", f"{model}::f", "--args", "f32[64,64] f32[64,64]", "--hw", "h100",
                          "--measure", "--json", str(js),
                          "--xla-flags-after", "--xla_disable_hlo_passes=fusion")
    assert code == 1, err
    doc = json.loads(js.read_text())
    assert doc["before"]["measured_s"] > 0 and doc["after"]["measured_s"] > 0
    assert doc["delta"]["measured_s"] is not None
    assert "measured" in out and "Δmeasured" in out
