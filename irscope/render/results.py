"""Writers for the displays a result's own render module does not provide.

Every result (`HloReport`, `DiffResult`, `PassTimeline`, `TFLiteAnalysis`, `KernelComparison`) has
`to_json()`, `to_text()` and `_repr_html_()`, and `svg()` where it has a graph; `irscope.util.display`
maps each to its writer. Where there is no dedicated HTML view, the notebook shows the text table
in a `<pre>` block (`text_html`).
"""

from __future__ import annotations

import html
from typing import Any


def text_html(result: Any, **kwargs: Any) -> str:
    """The result's text table as an HTML `<pre>` block (what a notebook shows for it)."""
    return f"<pre style=\"font-size: 12px\">{html.escape(result.to_text(**kwargs))}</pre>"


def tflite_svg(analysis: Any, *, subgraph: int = 0, **kwargs: Any) -> str:
    """`TFLiteAnalysis.svg()`: one subgraph's operators coloured by precision (Graphviz)."""
    from irscope.render.tflite import precision_svg

    return precision_svg(analysis.graph(subgraph), **kwargs)
