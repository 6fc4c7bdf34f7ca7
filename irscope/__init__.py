"""irscope: make an ML compiler's decisions visible and measurable.

The public API is what this file names; everything else is reachable by module path
(`irscope.ir.hlo_parser`, `irscope.passes.cost`, ...).

Every result (`HloReport`, `DiffResult`, `PassTimeline`, `TFLiteAnalysis`, `KernelComparison`) has the
same methods: `to_json()` (plain data, versioned by its `"schema"`), `to_text()` (the table the CLI
prints), `_repr_html_()` (what a notebook shows) and, where it has a graph, `svg()`.

Layers (tests/test_layering.py checks them): `ir`, `hw`, `errors`, `util` <- `frontends` <-
`passes`/`measure`/`kernels` <- `render` <- `studies`/`api` <- `cli`. A result displays itself
through one hook, `irscope.util.display`.
"""

# First: imports JAX with the GPU/TPU plugins' start-up logs kept off the terminal (see the module).
from irscope.frontends import targets as _targets  # noqa: F401, I001
from typing import TYPE_CHECKING, Any
from irscope import hw as _hw
from irscope._version import __version__ as __version__
from irscope.api import inspect_hlo as inspect_hlo
from irscope.api import inspect_jax as inspect_jax
from irscope.errors import HloParseError as HloParseError
from irscope.errors import IrscopeError as IrscopeError
from irscope.hw import Chip as Chip
from irscope.hw import get_chip as get_chip
from irscope.ir.hlo import Module as Module
from irscope.ir.hlo_parser import parse_module as parse_module
from irscope.ir.hlo_parser import parse_modules as parse_modules
from irscope.passes.report import HloReport as HloReport
from irscope.passes.report import analyze as analyze

if TYPE_CHECKING:  # the lazy names below, for type checkers and readers
    from irscope.ir.tflite import read_tflite as read_tflite
    from irscope.kernels.harness import KernelComparison as KernelComparison
    from irscope.kernels.harness import compare as compare_kernel  # noqa: F401
    from irscope.passes.diff import DiffResult as DiffResult
    from irscope.passes.diff import diff_modules as diff_modules
    from irscope.passes.pipeline import PassTimeline as PassTimeline
    from irscope.passes.pipeline import read_dumps as read_dumps
    from irscope.passes.quantization import TFLiteAnalysis as TFLiteAnalysis
    from irscope.passes.quantization import analyze_tflite as analyze_tflite


# Loaded on first use, so that `import irscope` (and every CLI start) stays light: the Pallas kernels
# import Pallas, and the diff, pipeline and TFLite modules cost a few hundred ms between them.
# name -> (module, attribute)
_LAZY = {
    "DiffResult": ("irscope.passes.diff", "DiffResult"),
    "diff_modules": ("irscope.passes.diff", "diff_modules"),
    "PassTimeline": ("irscope.passes.pipeline", "PassTimeline"),
    "read_dumps": ("irscope.passes.pipeline", "read_dumps"),
    "TFLiteAnalysis": ("irscope.passes.quantization", "TFLiteAnalysis"),
    "analyze_tflite": ("irscope.passes.quantization", "analyze_tflite"),
    "read_tflite": ("irscope.ir.tflite", "read_tflite"),
    "KernelComparison": ("irscope.kernels.harness", "KernelComparison"),
    "compare_kernel": ("irscope.kernels.harness", "compare"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        return getattr(importlib.import_module(module), attribute)
    raise AttributeError(f"module 'irscope' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


def _cpu_from_probe(progress: Any) -> Chip:
    """`get_chip("cpu")`: this machine, measured once by the probe and cached (irscope.measure.probe)."""
    from irscope.measure import probe

    return probe.cpu_chip(probe.load_or_measure(progress=progress))


_hw.set_cpu_source(_cpu_from_probe)
