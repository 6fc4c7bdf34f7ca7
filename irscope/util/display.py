"""The one hook through which a result displays itself.

Results are made in the lower layers (`passes`, `kernels`); how they look as text, HTML and SVG is
`render`'s job, a layer above. So a result's `to_text()`, `_repr_html_()` and `svg()` do not import
`render`: they call `show(self, "text", ...)`, and `show` looks the writer up in `WRITERS` by the
result's class name and the format, importing its module by name the first time. That lookup is the
only place a lower layer reaches `render`, and the layering test (tests/test_layering.py) allows it
here and nowhere else.

To give a new result a display, add its writers to `WRITERS` (`"module:function"`, the function
taking the result first), and have its methods call `show`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

# (result class name, format) -> "module:function" of the writer.
WRITERS: Mapping[tuple[str, str], str] = MappingProxyType({
    ("HloReport", "text"): "irscope.render.table:report_table",
    ("HloReport", "html"): "irscope.render.table:report_html",
    ("HloReport", "svg"): "irscope.render.dot:report_svg",
    ("HloReport", "repr"): "irscope.render.table:report_summary",
    ("DiffResult", "text"): "irscope.render.diff_text:diff_text",
    ("DiffResult", "html"): "irscope.render.results:text_html",
    ("PassTimeline", "text"): "irscope.render.pipeline_text:pass_timeline_text",
    ("PassTimeline", "html"): "irscope.render.results:text_html",
    ("TFLiteAnalysis", "text"): "irscope.render.tflite:report_table",
    ("TFLiteAnalysis", "html"): "irscope.render.results:text_html",
    ("TFLiteAnalysis", "svg"): "irscope.render.results:tflite_svg",
    ("KernelComparison", "text"): "irscope.render.kernels_text:comparison_text",
    ("KernelComparison", "html"): "irscope.render.results:text_html",
})


def writer(result: object, fmt: str) -> Callable[..., str]:
    """The function that writes `result` as `fmt` (`text`, `html`, `svg`); `KeyError` if there is none."""
    target = WRITERS[(type(result).__name__, fmt)]
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def show(result: object, fmt: str, **kwargs: Any) -> str:
    """`result` written as `fmt` by its writer in `render`."""
    return writer(result, fmt)(result, **kwargs)
