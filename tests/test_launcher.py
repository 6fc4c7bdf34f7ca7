"""`python -m inspect.hlo` from the repo root must leave the standard `inspect` module intact."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig

from conftest import CORPUS, REPO

STDLIB_INSPECT = os.path.join(sysconfig.get_paths()["stdlib"], "inspect.py")


def _run(code: str, cwd: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_inspect_in_repo_root_is_the_stdlib_module():
    code = (
        "import inspect, json, importlib.util\n"
        "assert inspect.__file__.endswith('inspect/__init__.py'), inspect.__file__\n"
        "def f(a, b=2, *c, d, **e): return a\n"
        "assert str(inspect.signature(f)) == '(a, b=2, *c, d, **e)'\n"
        "assert 'def dumps(' in inspect.getsource(json.dumps)\n"
        "assert inspect.isfunction(f) and inspect.getmodule(json.dumps) is json\n"
        f"spec = importlib.util.spec_from_file_location('stdinspect', {STDLIB_INSPECT!r})\n"
        "std = importlib.util.module_from_spec(spec); spec.loader.exec_module(std)\n"
        "public = {n for n in dir(std) if not n.startswith('__')}\n"
        "missing = public - set(dir(inspect))\n"
        "assert not missing, missing\n"
        "import dataclasses, jax\n"  # both use inspect heavily at import time
        "print('ok')\n"
    )
    result = _run(code, str(REPO))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_python_m_inspect_hlo_runs_with_jax_and_signature():
    # A real `python -m inspect.hlo` process: JAX traces the example (inspect.signature on the
    # user's function) and the table comes out.
    result = subprocess.run(
        [sys.executable, "-m", "inspect.hlo", "examples/mlp.py", "--hw", "h100", "--max-rows", "3"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "module jit_mlp (optimized" in result.stdout
    assert "fusion saved" in result.stdout


def test_irscope_imports_after_stdlib_inspect(tmp_path):
    # As IPython and a bare `pytest` do: the stdlib module is imported first, from elsewhere.
    code = (
        "import inspect\n"
        f"assert inspect.__file__ == {STDLIB_INSPECT!r}, inspect.__file__\n"
        "import irscope.cli.main, irscope.passes.report, irscope.ir.hlo_parser\n"
        "print('ok')\n"
    )
    # irscope is importable anywhere through its (editable) install; the repo root is not on sys.path.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                            timeout=120, env=env)
    assert result.returncode == 0, result.stderr


def test_console_script_anywhere(tmp_path):
    script = os.path.join(os.path.dirname(sys.executable), "irscope")
    assert os.path.exists(script), "pip install -e . should install the irscope console script"
    hlo = CORPUS / "tools_large_constant.hlo"
    result = subprocess.run([script, "hlo", str(hlo), "--hw", "a100"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("module f (")


def test_python_m_irscope_and_version_anywhere(tmp_path):
    # `python -m irscope` is the console script for an environment that has no script on its PATH.
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    import irscope

    for argv in (["-m", "irscope", "--version"], ["-m", "irscope", "hlo", "--version"]):
        result = subprocess.run([sys.executable, *argv], cwd=tmp_path, capture_output=True, text=True,
                                timeout=120, env=env)
        assert result.returncode == 0, result.stderr
        assert result.stdout == f"irscope {irscope.__version__}\n"
    hlo = CORPUS / "tools_large_constant.hlo"
    result = subprocess.run([sys.executable, "-m", "irscope", "hlo", str(hlo), "--hw", "a100"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("module f (")
    result = subprocess.run([sys.executable, "-m", "inspect.hlo", "--version"], cwd=REPO, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0 and result.stdout == f"irscope {irscope.__version__}\n", result.stderr
