"""Every result has the same surface: `to_json()` (plain data with a `"schema"`), `to_text()`,
`_repr_html_()`, and `svg()` where it has a graph; and the package's public API names them all.
The results are made from fixed files (tests/fixed_results.py).
"""

from __future__ import annotations

import json
import shutil

import fixed_results
import pytest

import irscope

HAS_GRAPHVIZ = shutil.which("dot") is not None

RESULTS = {
    "HloReport": (fixed_results.hlo_report, "irscope.hlo-report/1", True),
    "DiffResult": (fixed_results.diff_result, "irscope.diff-report/1", False),
    "PassTimeline": (fixed_results.pass_timeline, "irscope.pass-timeline/1", False),
    "TFLiteAnalysis": (fixed_results.tflite_analysis, "irscope.tflite-report/1", True),
    "KernelComparison": (fixed_results.kernel_comparison, "irscope.kernels-report/1", False),
}


@pytest.mark.parametrize("name", list(RESULTS))
def test_every_result_has_the_same_methods(name: str) -> None:
    make, schema, has_graph = RESULTS[name]
    result = make()
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
                 "HloReport", "DiffResult", "PassTimeline", "TFLiteAnalysis", "Chip", "Module", "KernelComparison",
                 "compare_kernel"):
        assert callable(getattr(irscope, name)) and name in dir(irscope), name
    with pytest.raises(AttributeError, match="no attribute 'nosuch'"):
        irscope.nosuch  # noqa: B018
