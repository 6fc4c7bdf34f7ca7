"""irscope: make an ML compiler's decisions visible and measurable.

The public API is what this file imports; everything else is reachable by module path
(`irscope.ir.hlo_parser`, `irscope.passes.cost`, ...).

Every result (`HloReport`, `DiffResult`, `PassTimeline`, `TFLiteAnalysis`, `KernelComparison`) has the
same methods: `to_json()` (plain data, versioned by its `"schema"`), `to_text()` (the table the CLI
prints), `_repr_html_()` (what a notebook shows) and, where it has a graph, `svg()`.

Layers (tests/test_layering.py checks them): `ir`, `hw`, `errors`, `util` <- `frontends` <-
`passes`/`measure`/`kernels` <- `render` <- `studies`/`api` <- `cli`. A result displays itself
through one hook, `irscope.util.display`.
"""

from typing import Any

import irscope.measure.probe  # noqa: F401  (gives irscope.hw the measured figures of the local CPU)
from irscope.api import inspect_hlo as inspect_hlo
from irscope.api import inspect_jax as inspect_jax
from irscope.errors import HloParseError as HloParseError
from irscope.errors import IrscopeError as IrscopeError
from irscope.hw import Chip as Chip
from irscope.hw import get_chip as get_chip
from irscope.ir.hlo import Module as Module
from irscope.ir.hlo_parser import parse_module as parse_module
from irscope.ir.hlo_parser import parse_modules as parse_modules
from irscope.ir.tflite import read_tflite as read_tflite
from irscope.passes.diff import DiffResult as DiffResult
from irscope.passes.diff import diff_modules as diff_modules
from irscope.passes.pipeline import PassTimeline as PassTimeline
from irscope.passes.pipeline import read_dumps as read_dumps
from irscope.passes.quantization import TFLiteAnalysis as TFLiteAnalysis
from irscope.passes.quantization import analyze_tflite as analyze_tflite
from irscope.passes.report import HloReport as HloReport
from irscope.passes.report import analyze as analyze

__version__ = "0.1.0"

# The Pallas kernels import jax and Pallas, which `import irscope` (and so every CLI start) does not
# need; these names load them on first use.
_LAZY = {"KernelComparison": "irscope.kernels.harness", "compare_kernel": "irscope.kernels.harness"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module = importlib.import_module(_LAZY[name])
        return getattr(module, "compare" if name == "compare_kernel" else name)
    raise AttributeError(f"module 'irscope' has no attribute {name!r}")
