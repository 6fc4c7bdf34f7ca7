"""One result of each kind, made from fixed files in tests/data (no timings, no live compiles), for the
result-surface tests and the golden files.

- HLO: tests/data/gelu_{exact,tanh}.hlo (optimized, compiled once from examples/gelu.py) and
  tests/data/mlp_before_optimization.hlo (`irscope hlo examples/mlp.py --stage hlo`);
- the pass timeline: tests/data/pass_dumps/jit_mlp_cpu (see its README.md);
- TFLite: tests/data/tflite/*.tflite from tflite-micro (see its SOURCES.md);
- the kernels comparison: one real interpret-mode run of the GELU kernel, its times fixed.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import irscope

DATA = Path(__file__).resolve().parent / "data"


def chip() -> irscope.Chip:
    return irscope.get_chip("h100")


def hlo_report(name: str = "gelu_tanh.hlo") -> irscope.HloReport:
    module = irscope.parse_module((DATA / name).read_text(encoding="utf-8"), name)
    optimized = module.attrs.get("is_scheduled") == "true"
    return irscope.analyze(module, chip(), stage="optimized" if optimized else "hlo")


def diff_result() -> irscope.DiffResult:
    before, after = (irscope.parse_module((DATA / f"gelu_{n}.hlo").read_text(encoding="utf-8"), f"gelu_{n}.hlo")
                     for n in ("exact", "tanh"))
    return irscope.diff_modules(before, after, chip())


def pass_timeline() -> irscope.PassTimeline:
    return irscope.read_dumps(DATA / "pass_dumps" / "jit_mlp_cpu").timeline(chip())


def tflite_analysis(name: str = "micro_speech_quantized.tflite") -> irscope.TFLiteAnalysis:
    from irscope.ir.tflite import parse_tflite

    # Named by its path in the repository, so the text does not depend on where the clone is.
    model = parse_tflite((DATA / "tflite" / name).read_bytes(), f"tests/data/tflite/{name}")
    return irscope.analyze_tflite(model, chip())


def kernel_comparison() -> Any:
    """A real interpret-mode comparison of one small GELU, keeping what is the same on every machine
    (the Pallas kernel's bytes, read off its BlockSpecs) and fixing the rest: times, and so GB/s and
    roofline fractions, vary per run; the error depends on the CPU's math; and XLA's bytes, FLOPs and
    kernels depend on the backend that compiled the reference (a GPU, where there is one)."""
    from irscope.kernels.harness import KERNELS

    result = irscope.compare_kernel(KERNELS["gelu"], (64, 128), "f32", chip(), interpret=True, repeats=1)
    fixed = dataclasses.replace(
        result, time_pallas_s=2e-3, time_xla_s=1e-5, time_eager_s=4e-5, max_abs_error=0.0,
        bytes_xla=65536.0, bytes_eager=917504.0, flops=90112.0,
        xla_kernels=(("add_multiply_fusion", "kLoop", 65536.0),),
        roofline={"pallas": 0.001, "xla": 0.5, "eager": 0.25})
    return irscope.KernelComparison((fixed,), "cpu", "cpu", chip())
