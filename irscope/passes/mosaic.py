"""What a Mosaic TPU kernel computes, read from the kernel body its custom call carries.

XLA:TPU runs Pallas kernels, and kernels of its own such as the `online-softmax` it substitutes for
softmax(scores) @ V in attention, as `custom-call`s to `tpu_custom_call`. Their `backend_config` holds the
kernel as MLIR (`custom_call_config.body`, base64): the `main` function that one grid step runs, with the
grid in its `iteration_bounds`. XLA's cost analysis counts such a call as unknown (-1); irscope's estimate
(`irscope.passes.cost.custom_call_shape_cost`) reads the body when it is MLIR text:

- `tpu.matmul`: 2 x result elements x the contracted size (its `dot_dimension_numbers`' lhs contracting
  dimensions), as HloCostAnalysis counts a dot;
- element-wise `arith` float ops and `arith.select`: one FLOP per result element; `vector.multi_reduction`:
  one per input element; `math.exp`, `math.tanh`, ... one transcendental per result element,
  as HloCostAnalysis counts element-wise ops and reductions;
- all of it once per grid step, times the product of `iteration_bounds`.

Ops under `scf.if` count as if the branch always ran (an upper bound; in these kernels it is the first
step's initialisation) and loops (`scf.for`) once, so the figure is an estimate. A body serialized as MLIR
bytecode (what Pallas writes for user kernels) is not read: `kernel_cost` returns None and the call keeps
irscope's shape-only estimate (0 FLOPs).
"""

from __future__ import annotations

import base64
import binascii
import math
import re

from irscope.ir.attrs import backend_config
from irscope.ir.hlo import Instruction

_FLOP_OPS = frozenset({"addf", "subf", "mulf", "divf", "maximumf", "minimumf", "negf", "cmpf", "select",
                       "remf", "maxnumf", "minnumf"})
_TRANSCENDENTAL_OPS = frozenset({"exp", "exp2", "expm1", "log", "log1p", "log2", "tanh", "sqrt", "rsqrt",
                                 "sin", "cos", "tan", "atan", "atan2", "erf", "powf", "logistic", "cbrt"})
_VECTOR = r"vector<((?:\d+x)*\d+)x\w+>"
_BOUNDS = re.compile(r"iteration_bounds\s*=\s*array<i64(?::\s*([\d,\s]*))?>")
_OP = re.compile(r"=\s*(arith|math)\.(\w+)\b[^\n]*?:\s*(?:" + _VECTOR + r"(?:,\s*[^\n]*)?)\s*$", re.M)
_MATMUL = re.compile(r"=\s*tpu\.matmul\b[^\n]*?dimension_numbers\s*=\s*#tpu\.dot_dimension_numbers<\[([\d,\s]*)\]"
                     r"[^\n]*?:\s*" + _VECTOR + r"\s*,[^\n]*->\s*" + _VECTOR + r"\s*$", re.M)
_REDUCTION = re.compile(r"=\s*vector\.multi_reduction\b[^\n]*?:\s*" + _VECTOR + r"\s+to\b", re.M)


def kernel_body(inst: Instruction) -> str | None:
    """The MLIR text of a `tpu_custom_call`'s kernel, or None (another call, bytecode, no body)."""
    if inst.attrs.get("custom_call_target", "").strip('"') != "tpu_custom_call":
        return None
    config = backend_config(inst.attrs.get("backend_config", "")) or {}
    body = (config.get("custom_call_config") or {}).get("body") if isinstance(config, dict) else None
    if not isinstance(body, str):
        return None
    try:
        raw = base64.b64decode(body, validate=False)
    except (binascii.Error, ValueError):
        return None
    if not raw.lstrip().startswith(b"module"):
        return None  # MLIR bytecode ("ML\xefR"): not read here
    return raw.decode("utf-8", errors="replace")


def _elements(dims: str) -> int:
    return math.prod(int(d) for d in dims.split("x"))


def _main(text: str) -> str:
    """The `@main` function's text (the grid step), or the whole module if there is no such function."""
    start = text.find("func.func @main")
    if start < 0:
        return text
    end = text.find("func.func @", start + 1)
    return text[start:end if end > 0 else len(text)]


def kernel_cost(inst: Instruction) -> tuple[float, float] | None:
    """(FLOPs, transcendentals) of a Mosaic kernel over its whole grid, or None when its body is not MLIR text."""
    text = kernel_body(inst)
    if text is None:
        return None
    main = _main(text)
    bounds = _BOUNDS.search(main)
    steps = math.prod(int(b) for b in bounds.group(1).replace(" ", "").split(",") if b) if bounds and bounds.group(1) else 1
    flops = transcendentals = 0.0
    for contracting, lhs, result in _MATMUL.findall(main):
        lhs_dims = [int(d) for d in lhs.split("x")]
        width = math.prod(lhs_dims[int(d)] for d in contracting.replace(" ", "").split(",") if d and int(d) < len(lhs_dims))
        flops += 2.0 * _elements(result) * width
    for dialect, op, dims in _OP.findall(main):
        if dialect == "arith" and op in _FLOP_OPS:
            flops += _elements(dims)
        elif dialect == "math" and op in _TRANSCENDENTAL_OPS:
            transcendentals += _elements(dims)
    for dims in _REDUCTION.findall(main):
        flops += _elements(dims)
    return flops * steps, transcendentals * steps
