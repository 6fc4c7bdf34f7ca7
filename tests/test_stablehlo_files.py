"""Real StableHLO/MHLO modules written elsewhere (StableHLO's own test modules, JAX's export test data,
text and portable bytecode; tests/data/corpus/stablehlo, see its SOURCES.md) through `irscope hlo`:
no traceback, no abort, no hang; a report, or one clean error line.

Every file runs in one child interpreter that has started no XLA client (the CLI's situation, so
compiles are isolated in forks), each under a time limit; the per-file tests read its results.
Then the cases that used to abort the process or lose the reason, each checked by itself.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from irscope.frontends import stablehlo
from irscope.frontends.formats import sniff, sniff_bytes

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "data" / "corpus" / "stablehlo"
FILES = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.name != "SOURCES.md")
SECONDS = 120

_DRIVER = r"""
import contextlib, io, json, os, signal, sys, time
from irscope.cli.main import main
for path in sys.argv[1:]:
    err, out = io.StringIO(), io.StringIO()
    def expire(*_):
        raise TimeoutError
    signal.signal(signal.SIGALRM, expire)
    signal.alarm(SECONDS)
    start = time.perf_counter()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            status = main(["hlo", path, "--max-rows", "5"])
    except TimeoutError:
        status = "timeout"
    except BaseException as e:
        import traceback
        err.write("Traceback\n" + traceback.format_exc())
        status = "raised"
    finally:
        signal.alarm(0)
    print(json.dumps({"path": path, "status": status, "stderr": err.getvalue(),
                      "report": "total " in out.getvalue(), "seconds": time.perf_counter() - start}), flush=True)
""".replace("SECONDS", str(SECONDS))


@pytest.fixture(scope="module")
def results() -> dict[str, dict]:
    done = subprocess.run([sys.executable, "-c", _DRIVER, *map(str, FILES)], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60 * 30)
    found = {}
    for line in done.stdout.splitlines():
        if line.startswith("{"):
            row = json.loads(line)
            found[row["path"]] = row
    assert found, f"the driver died (exit {done.returncode}): {done.stderr[-2000:]}"
    return found


def test_the_corpus_is_there() -> None:
    assert sum(p.suffix == ".mlir" for p in FILES) >= 200
    assert sum(p.name.endswith(".mlir.bc") for p in FILES) >= 40


@pytest.mark.parametrize("path", FILES, ids=[str(f.relative_to(CORPUS)) for f in FILES])
def test_real_module_gives_a_report_or_one_error_line(results: dict[str, dict], path: Path) -> None:
    row = results.get(str(path))
    assert row is not None, "the driver stopped before this file (an abort of the whole process?)"
    assert row["status"] in (0, 2), row
    assert "Traceback" not in row["stderr"] and "Check failure" not in row["stderr"], row["stderr"][-3000:]
    if row["status"] == 0:
        assert row["report"]
        return
    errors = [line for line in row["stderr"].splitlines() if line.startswith("irscope hlo: error:")]
    assert len(errors) == 1, row["stderr"]
    assert errors[0].startswith(f"irscope hlo: error: {path}")
    # Only the error's own continuation lines (indented) may follow it.
    after = row["stderr"].split(errors[0], 1)[1].splitlines()[1:]
    assert all(line.startswith("    ") for line in after), row["stderr"]


def test_corpus_counts(results: dict[str, dict]) -> None:
    """The numbers the report quotes: how many files report, how many refuse cleanly."""
    statuses = [row["status"] for row in results.values()]
    print(f"\n{len(statuses)} files: {statuses.count(0)} reports, {statuses.count(2)} clean errors")
    bytecode = [row for p, row in results.items() if p.endswith(".mlir.bc") and "jax_export" in p]
    assert sum(row["status"] == 0 for row in bytecode) >= 5  # portable artifacts compile, not 'not a text file'


# ---------------------------------------------------------------------------------------------
# What used to abort, mislead or lose the reason


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


UNRANKED = """func.func @main(%arg0: tensor<4xi32>) -> tensor<*xi32> {
  %0 = tensor.cast %arg0 : tensor<4xi32> to tensor<*xi32>
  return %0 : tensor<*xi32>
}
"""

SHARDED = """func.func @main(%arg0: tensor<8x8xf32> {mhlo.sharding = "SHARDING"}) -> tensor<8x8xf32> {
  %0 = stablehlo.add %arg0, %arg0 : tensor<8x8xf32>
  return %0 : tensor<8x8xf32>
}
"""

TUPLES = """func.func @main(%arg0: tuple<tensor<4xf32>, tensor<4xf32>>) -> tuple<tensor<4xf32>> {
  %0 = mhlo.get_tuple_element %arg0[0] : (tuple<tensor<4xf32>, tensor<4xf32>>) -> tensor<4xf32>
  %1 = mhlo.get_tuple_element %arg0[1] : (tuple<tensor<4xf32>, tensor<4xf32>>) -> tensor<4xf32>
  %2 = mhlo.add %0, %1 : tensor<4xf32>
  %3 = mhlo.tuple %2 : tuple<tensor<4xf32>>
  return %3 : tuple<tensor<4xf32>>
}
"""


def _cli(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "irscope.cli.main", *argv], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)


def _error_line(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 2, done.stderr[-3000:]
    lines = [line for line in done.stderr.splitlines() if line.startswith("irscope hlo: error:")]
    assert len(lines) == 1 and "Traceback" not in done.stderr and "Check fail" not in done.stderr, done.stderr
    return lines[0]


def test_unranked_entry_is_refused_before_xla(tmp_path: Path) -> None:
    line = _error_line(_cli("hlo", str(_write(tmp_path, "u.mlir", UNRANKED))))
    assert "@main result 0 is an unranked tensor<*xi32>" in line


@pytest.mark.parametrize(("sharding", "reason"), [
    ("{devices=[2,2]0,1,2,3,4,5}", "4 tiles but 6 devices"),
    ("{devices=[2,2]<=[8]}", "4 tiles but 8 devices"),
    ("{devices=[2,2]0,1,2,2}", "lists a device twice"),
    ("{devices=[3]0,1,2}", "tiles 1 dimensions of a rank-2 tensor"),
])
def test_bad_sharding_is_refused_before_xla(tmp_path: Path, sharding: str, reason: str) -> None:
    line = _error_line(_cli("hlo", str(_write(tmp_path, "s.mlir", SHARDED.replace("SHARDING", sharding)))))
    assert reason in line


@pytest.mark.parametrize("sharding", ["{devices=[2,1]0,1}", "{devices=[2,2]<=[4]}", "{replicated}",
                                      "{devices=[2,1,2]0,1,2,3 last_tile_dim_replicate}", "{maximal device=0}"])
def test_good_shardings_pass_the_check(sharding: str) -> None:
    assert stablehlo.check_sharding(sharding, 2) is None


def test_an_abort_inside_xla_is_an_error_not_the_end(tmp_path: Path) -> None:
    """Skip the check (as for an abort irscope does not know yet): the forked child dies, not this process."""
    code = f"""
import dataclasses, sys
from irscope.frontends import stablehlo
module = dataclasses.replace(stablehlo.read_mlir({str(_write(tmp_path, "u.mlir", UNRANKED))!r}), problems=())
try:
    stablehlo.compile_mlir(module)
except stablehlo.StableHLOError as e:
    print("caught:", e)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "caught:" in done.stdout and "XLA aborted while compiling it (signal 6)" in done.stdout
    assert "Check failed" in done.stdout  # XLA's own reason, from the child's stderr


def test_tuple_entry_reports_the_hlo(tmp_path: Path) -> None:
    done = _cli("hlo", str(_write(tmp_path, "t.mlir", TUPLES)), "--json", "-")
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert report["totals"]["flops"] == 4  # the one add of 4 elements
    assert "tuples" in done.stderr and "before optimization" in done.stderr


def test_tuple_entry_matches_xla_on_the_converted_hlo(tmp_path: Path) -> None:
    module = stablehlo.read_mlir(_write(tmp_path, "t.mlir", TUPLES))
    assert module.tuple_entry
    compiled = stablehlo.compile_mlir(module)
    assert compiled.stage == "hlo" and compiled.note
    from jaxlib import _hlo

    assert _hlo.hlo_module_from_text(compiled.optimized) is not None  # XLA's parser reads it back


def test_whole_diagnostic_is_kept(tmp_path: Path) -> None:
    text = """#CSR = #sparse_tensor.encoding<{
  map = (d0, d1) -> (d0 : dense, d1 : compressed)
}>
func.func @main(%arg0: tensor<4x4xf32, #CSR>) -> tensor<4x4xf32, #CSR> {
  return %arg0 : tensor<4x4xf32, #CSR>
}
"""
    with pytest.raises(stablehlo.StableHLOError) as e:
        stablehlo.read_mlir(_write(tmp_path, "sp.mlir", text))
    message = str(e.value)
    assert message.startswith(f"{tmp_path / 'sp.mlir'}:1:23: ")
    assert "d1 : compressed" in message  # the diagnostic's later lines, not only `#"sparse_tensor"<"encoding<{`
    assert "'sparse_tensor' dialect is not one XLA takes" in message
    assert "allowUnregisteredDialects" not in message


def test_uniform_quantize_names_xlas_limit(tmp_path: Path) -> None:
    text = """func.func @main(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  %0 = stablehlo.uniform_quantize %arg0 : (tensor<4xf32>) -> tensor<4x!quant.uniform<i8:f32, 0.5:3>>
  %1 = stablehlo.uniform_dequantize %0 : (tensor<4x!quant.uniform<i8:f32, 0.5:3>>) -> tensor<4xf32>
  return %1 : tensor<4xf32>
}
"""
    with pytest.raises(stablehlo.StableHLOError) as e:
        stablehlo.read_mlir(_write(tmp_path, "q.mlir", text))
    assert str(e.value).startswith(f"{tmp_path / 'q.mlir'}:2:8: 'stablehlo.uniform_quantize' op can't be "
                                   "translated to XLA HLO")
    assert "unregistered" not in str(e.value)


def test_bytecode_is_found_by_its_magic_whatever_its_name(tmp_path: Path) -> None:
    source = next(p for p in FILES if p.name.endswith(".mlir.bc") and "jax_export" in str(p)
                  and p.name.startswith("cpu_lu"))
    renamed = tmp_path / "module.txt"
    renamed.write_bytes(source.read_bytes())
    assert sniff(renamed) == "mlir-bytecode"
    done = _cli("hlo", str(renamed), "--json", "-")
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout)["totals"]["flops"] > 0


@pytest.mark.parametrize(("head", "suffix", "kind"), [
    (b"ML\xefR\x00rest", ".hlo", "mlir-bytecode"),
    (b"\x1c\x00\x00\x00TFL3\x00\x00", ".mlir", "tflite"),
    (b"HloModule m\n\nENTRY e {}", ".mlir", "hlo"),
    (b"// comment\nmodule @m {\n}", ".txt", "mlir"),
    (b'#loc1 = loc("x.py":1:2)\nmodule {\n}', "", "mlir"),
    (b"func.func @main() {\n}", ".hlo", "mlir"),
    (b"\x08\x01\x12\x05\xff\xfe\x00", ".pb", "binary"),
    (b"import jax\n", ".py", "python"),
])
def test_sniff(head: bytes, suffix: str, kind: str) -> None:
    assert sniff_bytes(head, suffix) == kind


def test_tflite_given_to_hlo_says_so(tmp_path: Path) -> None:
    model = next((ROOT / "tests" / "data" / "corpus" / "tflite").rglob("*.tflite"))
    line = _error_line(_cli("hlo", str(model)))
    assert "is a TFLite model" in line


def test_unregistered_operation_names_its_dialect(tmp_path: Path) -> None:
    text = """func.func @main(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  %0 = "interpreter.run_parallel"(%arg0) : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}
"""
    with pytest.raises(stablehlo.StableHLOError) as e:
        stablehlo.read_mlir(_write(tmp_path, "i.mlir", text))
    assert "the 'interpreter' dialect is not one XLA takes as input" in str(e.value)
    assert "-allow-unregistered-dialect" not in str(e.value)


def test_notebook_api_reads_bytecode(tmp_path: Path) -> None:
    import irscope

    source = next(p for p in FILES if p.name.startswith("cpu_lu") and p.name.endswith(".mlir.bc"))
    renamed = tmp_path / "dump.hlo"  # a misleading name: the first bytes decide
    renamed.write_bytes(source.read_bytes())
    assert irscope.inspect_hlo(renamed).to_json()["totals"]["flops"] > 0


def test_tflite_reader_points_mlir_bytecode_to_hlo(tmp_path: Path) -> None:
    from irscope.ir.tflite import TFLiteParseError, read_tflite

    source = next(p for p in FILES if p.name.endswith(".mlir.bc"))
    with pytest.raises(TFLiteParseError, match="it is MLIR bytecode, which `irscope hlo"):
        read_tflite(source)


@pytest.mark.parametrize("name", ["export__batch_norm_grad.mlir", "export__batch_norm_training.mlir"])
def test_real_tuple_mhlo_converts_and_parses_as_xla_does(name: str) -> None:
    """XLA's own MHLO export tests with a tuple-returning @main: jaxlib's conversion, read by irscope's
    HLO parser, has the structure XLA's parser gives it."""
    from xla_oracle import differences, irscope_view, xla_view

    from irscope.ir.hlo_parser import parse_module

    module = stablehlo.read_mlir(CORPUS / "xla_mhlo" / name)
    assert module.tuple_entry and "mhlo" in module.dialects
    compiled = stablehlo.compile_mlir(module)
    assert compiled.stage == "hlo"
    parsed = parse_module(compiled.optimized)
    assert differences(xla_view(compiled.optimized), irscope_view(parsed)) == []
    # And irscope's bytes equal XLA's HloCostAnalysis of that HLO (XLA's own numbers, not compiled).
    import jax
    from jax._src.lib import _jax
    from jaxlib import _hlo

    from irscope.passes.cost import module_cost

    xla = _jax.hlo_module_cost_analysis(jax.devices("cpu")[0].client, _hlo.hlo_module_from_text(compiled.optimized))
    assert module_cost(parsed).totals.bytes_accessed == xla["bytes accessed"] > 0


FUZZED = sorted((ROOT / "tests" / "data" / "mlir_fuzz").glob("*.mlirbc"))
LOOPS = ROOT / "tests" / "data" / "mlir_fuzz" / "loops.mlirbc"  # the reader loops: stopped after a limit


@pytest.mark.parametrize("path", [p for p in FUZZED if p != LOOPS], ids=lambda p: p.stem)
def test_corrupted_bytecode_is_one_error_line(path: Path) -> None:
    """Bytecode that once aborted the process (MLIR's reader) or raised RuntimeError (the bindings)."""
    done = _cli("hlo", str(path), "--json", "-")
    assert done.returncode == 2, done.stderr[-3000:]
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and f"error: {path}: " in lines[0], done.stderr[-3000:]
    assert done.stdout == ""


def test_library_survives_corrupted_bytecode_and_reads_good_bytecode_alike() -> None:
    """The library call forks for bytecode: an abort is a StableHLOError, a good module is the same module."""
    good = next(p for p in FILES if p.name.endswith(".mlir.bc") and "jax_export" in str(p))
    code = f"""
from irscope.frontends import stablehlo
stablehlo._PARSE_SECONDS = 3.0  # loops.mlirbc would go on for minutes; 30 s is the real limit
for path in {[str(p) for p in FUZZED]!r}:
    try:
        stablehlo.read_mlir(path)
    except stablehlo.StableHLOError as e:
        print("caught:", str(e).splitlines()[0])
assert stablehlo._fork_is_safe()
data = open({str(good)!r}, "rb").read()
print("same:", stablehlo.parse_mlir(data) == stablehlo.parse_mlir(data, isolate=False))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("caught:") == len(FUZZED) == 4
    assert f"{LOOPS}: MLIR's bytecode reader did not finish in 3 s" in done.stdout
    assert "signal 6" in done.stdout and "malformed module" in done.stdout
    assert "same: True" in done.stdout


def test_isolated_compile_spawns_where_no_fork_is_safe() -> None:
    """XLA already runs in the process, so `isolate=True` starts a fresh interpreter; same costs as in process."""
    code = """
import jax, jax.numpy as jnp
from irscope.frontends import stablehlo
jax.jit(lambda x: x + 1)(jnp.ones(3))  # an XLA client now runs here: no fork is safe
module = stablehlo.parse_mlir(jax.jit(jnp.tanh).lower(jnp.ones((4,))).as_text())
assert not stablehlo._fork_is_safe()
spawned = stablehlo.compile_mlir(module, isolate=True)
here = stablehlo.compile_mlir(module, isolate=False)
print("same cost:", spawned.cost == here.cost and spawned.cost["transcendentals"] == 4)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "same cost: True" in done.stdout
