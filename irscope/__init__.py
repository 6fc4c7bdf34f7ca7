"""irscope: make an ML compiler's decisions visible and measurable.

The public API is what this file imports; everything else is reachable by module path
(`irscope.ir.hlo_parser`, `irscope.passes.cost`, ...).
"""

# First: imports JAX with the GPU/TPU plugins' start-up logs kept off the terminal (see the module).
from irscope.frontends import targets as _targets  # noqa: F401, I001
from irscope.api import inspect_hlo as inspect_hlo
from irscope.api import inspect_jax as inspect_jax
from irscope.hw import get_chip as get_chip
from irscope.ir.hlo_parser import HloParseError as HloParseError
from irscope.ir.hlo_parser import parse_module as parse_module
from irscope.ir.hlo_parser import parse_modules as parse_modules
from irscope.passes.report import HloReport as HloReport
from irscope.passes.report import analyze as analyze

__version__ = "0.1.0"
