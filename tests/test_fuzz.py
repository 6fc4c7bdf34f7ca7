"""Fuzzing, quick and with a fixed seed: mutated real inputs end in a user error or a report, never a crash.

The mutants (`tests/mutants.py`) are structure-aware: HLO text from the corpus with wrong operands,
opcodes, attributes, called computations, numbers and nesting; TFLite files the tests convert, with
re-packed wrong indices, shapes, types and quantization, or cut and flipped bytes. Most of them
parse, so they reach the verifiers and, past them, the passes. Each test runs a few hundred examples
derandomized (the same ones every run) under a per-example time limit; `benchmarks/fuzz.py` runs the
long campaign through the CLI in child processes.
"""

from __future__ import annotations

import functools
import json

import pytest
from conftest import corpus_files, time_limit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mutants import DrawChoices, hlo_mutant, tflite_mutant

from irscope.hw import get_chip
from irscope.ir.hlo_parser import HloParseError, parse_modules
from irscope.ir.verify import HloVerifyError, verify
from irscope.passes.report import analyze
from irscope.render.table import report_table

# Small corpus files keep each example fast; together they still hold every opcode family the
# passes index into (fusions, loops, scatter, reduce, select-and-scatter, convolution, ...).
SMALL = [p for p in corpus_files() if p.stat().st_size < 6000]
TEXTS = [p.read_text() for p in SMALL]
SECONDS_PER_EXAMPLE = 30  # a 20,000-instruction module takes about 8 s here; a hang never ends

FUZZ = settings(max_examples=300, derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def hlo_pipeline(text: str) -> None:
    """What `irscope hlo dump.hlo --json` does with a text: parse, verify, analyze, render."""
    chip = get_chip("h100")
    for module in parse_modules(text, "mutant.hlo"):
        verify(module, text)
        report = analyze(module, chip)
        json.dumps(report.to_json())
        report_table(report)
        report.graph()


def test_corpus_is_there_for_the_fuzzer():
    assert len(SMALL) >= 20


@FUZZ
@given(st.data())
def test_hlo_mutants_end_in_a_user_error_or_a_report(data):
    base = data.draw(st.sampled_from(range(len(TEXTS))), label="corpus file")
    text = hlo_mutant(TEXTS[base], DrawChoices(data), big=False)
    with time_limit(SECONDS_PER_EXAMPLE):
        try:
            hlo_pipeline(text)
        except (HloParseError, HloVerifyError) as e:
            assert str(e).startswith("mutant.hlo"), str(e)


@functools.cache
def tflite_files() -> tuple[bytes, ...]:
    """Real models the tests convert: an int8 CNN, a float sequence model (dynamic batch), an fp16 CNN."""
    from tflite_models import converted

    files = converted()
    return tuple(files[name].read_bytes() for name in ("cnn.int8", "seq.fp32", "cnn.fp16"))


def tflite_pipeline(data: bytes) -> None:
    """What `irscope tflite model.tflite --json` does with a file: read, verify, analyze, render."""
    from irscope.ir.tflite import build_kernel_graph, parse_tflite
    from irscope.ir.tflite_verify import verify_tflite
    from irscope.passes.quantization import analyze_tflite
    from irscope.render.tflite import report_table as tflite_table

    model = verify_tflite(parse_tflite(data, "mutant.tflite"))
    analysis = analyze_tflite(model, get_chip("h100"))
    json.dumps(analysis.to_json())
    for k in range(len(model.subgraphs)):
        tflite_table(analysis, subgraph=k)
        build_kernel_graph(model, k)


@FUZZ
@given(data=st.data())
def test_tflite_mutants_end_in_a_user_error_or_a_report(data):
    from irscope.ir.tflite import TFLiteParseError
    from irscope.ir.tflite_verify import TFLiteVerifyError

    base = data.draw(st.sampled_from(range(3)), label="model")
    mutant = tflite_mutant(tflite_files()[base], DrawChoices(data))
    with time_limit(SECONDS_PER_EXAMPLE):
        try:
            tflite_pipeline(mutant)
        except (TFLiteParseError, TFLiteVerifyError) as e:
            assert "\n" not in str(e)


def test_tuple_shapes_nested_thousands_deep_are_a_user_error():
    # The parser refuses past its own depth bound; between that and 64 levels, the verifier does.
    for depth, error, words in ((3000, HloParseError, "nested more than"), (100, HloVerifyError, "nest more than 64")):
        text = "ENTRY e {\n  ROOT p = " + "(" * depth + "f32[2]" + ")" * depth + " parameter(0)\n}\n"
        with pytest.raises(error, match=words):
            hlo_pipeline(text)


_MLIR_CHILD = """
import random, sys
sys.path.insert(0, "tests")
from mutants import RandomChoices, mlir_mutant
from irscope.errors import IrscopeError
from irscope.frontends import stablehlo

# No XLA client starts in this process, so bytecode is read in a forked child (where a fork is not
# safe, in a process running XLA already, it is read in process and can still abort it).
text = open(sys.argv[1]).read()
code = stablehlo.parse_mlir(text).bytecode
stablehlo._PARSE_SECONDS = 5.0  # a reader that loops is stopped sooner than in real use
rng, counts = random.Random(0), {"ok": 0, "error": 0}
for k in range(60):
    if k % 2:  # bytecode: flipped bytes, or cut short
        data = bytearray(code)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(4, len(data))] ^= 1 << rng.randrange(8)
        source = bytes(data) if k % 4 == 1 else code[: rng.randrange(4, len(code))]
    else:
        source = mlir_mutant(text, RandomChoices(rng))
    try:
        stablehlo.parse_mlir(source)
        counts["ok"] += 1
    except IrscopeError as e:
        assert len(str(e).splitlines()) == 1 or isinstance(e, stablehlo.StableHLOError), e
        counts["error"] += 1
print(counts)
"""


def test_mlir_mutants_never_end_the_process(tmp_path) -> None:
    """Text and bytecode mutants in a child interpreter (an abort there would be signal 6, not a failed test)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    import jax
    import jax.numpy as jnp

    source = tmp_path / "m.mlir"
    source.write_text(jax.jit(lambda x, w: jnp.tanh(x @ w).sum(0)).lower(jnp.ones((4, 8)), jnp.ones((8, 3))).as_text())
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-c", _MLIR_CHILD, str(source)], capture_output=True, text=True, cwd=root,
                          env={**os.environ, "PYTHONPATH": str(root)}, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    counts = eval(done.stdout.strip().splitlines()[-1])  # noqa: S307 - our own child's dict
    assert counts["ok"] + counts["error"] == 60 and counts["error"] > 0
