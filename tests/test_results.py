"""Every result has the same surface: `to_json()` (plain data with a `"schema"`), `to_text()`,
`_repr_html_()`, and `svg()` where it has a graph; and the package's public API names them all.

The inputs are fixed files: tests/data/gelu_{exact,tanh}.hlo (optimized HLO, compiled once from
examples/gelu.py), tests/data/mlp_before_optimization.hlo (`irscope hlo examples/mlp.py --stage hlo`,
paths made relative), and real TFLite models from tflite-micro (tests/data/tflite/SOURCES.md).
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO

import irscope
from irscope.frontends import stablehlo
from irscope.passes.pipeline import capture

DATA = REPO / "tests" / "data"
HAS_GRAPHVIZ = shutil.which("dot") is not None


@pytest.fixture(scope="module")
def h100() -> irscope.Chip:
    return irscope.get_chip("h100")


def hlo_report(h100: irscope.Chip) -> irscope.HloReport:
    return irscope.analyze(irscope.parse_module((DATA / "gelu_tanh.hlo").read_text(), "gelu_tanh.hlo"), h100)


def diff_result(h100: irscope.Chip) -> irscope.DiffResult:
    before, after = (irscope.parse_module((DATA / f"gelu_{n}.hlo").read_text(), f"gelu_{n}.hlo")
                     for n in ("exact", "tanh"))
    return irscope.diff_modules(before, after, h100)


def pass_timeline(h100: irscope.Chip) -> irscope.PassTimeline:
    text = (DATA / "mlp_before_optimization.hlo").read_text()
    module = stablehlo.hlo_text_to_mlir(text, path="mlp_before_optimization.hlo")
    with capture(lambda options: stablehlo.compile_mlir(module, backend="cpu", compiler_options=options),
                 module.name or None) as dumps:
        return dumps.timeline(h100)


def tflite_analysis(h100: irscope.Chip) -> irscope.TFLiteAnalysis:
    return irscope.analyze_tflite(irscope.read_tflite(DATA / "tflite" / "micro_speech_quantized.tflite"), h100)


def kernel_comparison(h100: irscope.Chip) -> Any:
    """A real interpret-mode comparison of one small GELU, with its timings fixed (they vary per run)."""
    from irscope.kernels.harness import KERNELS

    result = irscope.compare_kernel(KERNELS["gelu"], (64, 128), "f32", h100, interpret=True, repeats=1)
    fixed = dataclasses.replace(result, time_pallas_s=2e-3, time_xla_s=1e-5, time_eager_s=4e-5,
                                max_abs_error=0.0, roofline={"pallas": 0.001, "xla": 0.5, "eager": 0.25})
    return irscope.KernelComparison((fixed,), "cpu", "cpu", h100)


RESULTS = {
    "HloReport": (hlo_report, "irscope.hlo-report/1", True),
    "DiffResult": (diff_result, "irscope.diff-report/1", False),
    "PassTimeline": (pass_timeline, "irscope.pass-timeline/1", False),
    "TFLiteAnalysis": (tflite_analysis, "irscope.tflite-report/1", True),
    "KernelComparison": (kernel_comparison, "irscope.kernels-report/1", False),
}


@pytest.mark.parametrize("name", list(RESULTS))
def test_every_result_has_the_same_methods(name: str, h100: irscope.Chip) -> None:
    make, schema, has_graph = RESULTS[name]
    result = make(h100)
    assert type(result).__name__ == name and getattr(irscope, name) is type(result)
    data = result.to_json()
    assert isinstance(data, dict) and data["schema"] == schema
    json.dumps(data, allow_nan=False)  # plain data, as the CLI writes it
    text = result.to_text()
    assert isinstance(text, str) and text.strip() and "\n" in text
    html = result._repr_html_()
    assert isinstance(html, str) and html.lstrip().startswith("<")
    assert hasattr(result, "svg") == has_graph
    if has_graph and HAS_GRAPHVIZ:
        svg = result.svg()
        assert isinstance(svg, str) and "<svg" in svg


def test_public_api_is_explicit() -> None:
    for name in ("inspect_hlo", "inspect_jax", "analyze", "diff_modules", "read_dumps", "read_tflite",
                 "analyze_tflite", "parse_module", "parse_modules", "get_chip", "IrscopeError", "HloParseError",
                 "HloReport", "DiffResult", "PassTimeline", "TFLiteAnalysis", "Chip", "Module"):
        assert callable(getattr(irscope, name)), name
    with pytest.raises(AttributeError, match="no attribute 'nosuch'"):
        irscope.nosuch  # noqa: B018


def test_the_public_api_does_not_import_jax() -> None:
    import subprocess
    import sys

    code = "import sys, irscope; print('jax' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(irscope.__file__).parent.parent).stdout
    assert out.strip() == "False"
