"""GELU (tanh approximation) as one Pallas kernel: each element read once and written once.

    y = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))        (computed in f32, rounded to x's dtype)

XLA fuses this into one loop fusion too; the kernel is the baseline for what a hand-written
element-wise kernel reaches next to it. Any shape and any floating dtype: the array is viewed as
(rows, last axis) and tiled by `common.elementwise_blocks`; blocks that overhang the array are
masked (loads and stores of the out-of-bounds part are skipped), so no shape is refused.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
from jax.experimental import pallas as pl
from jax.experimental.pallas import triton as plgpu

from irscope.kernels.common import as_rows, check_block, check_float, elementwise_blocks, in_bounds

# Max abs error against `gelu_reference` per input dtype, for inputs drawn from N(0, 1).
# f32: a few ulps of |y| < 8 (a GPU's tanh differs from XLA's by ulps). bf16: one bf16 ulp at
# |y| < 8 (2^-4): kernel and reference both compute in f32 and may round to neighbouring values.
TOLERANCE = {"float32": 1e-5, "bfloat16": 2.0**-4}

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def _gelu_f32(x: jax.Array) -> jax.Array:
    return 0.5 * x * (1.0 + jnp.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)))


def _gelu_kernel(x_ref: jax.Ref, o_ref: jax.Ref, *, rows: int, cols: int) -> None:
    # inputs: x_ref (block_rows, block_cols)
    # outputs: o_ref (block_rows, block_cols)
    mask = in_bounds(x_ref.shape, (rows, cols), (0, 1))
    x = plgpu.load(x_ref, mask=mask, other=0.0).astype(jnp.float32)
    plgpu.store(o_ref, _gelu_f32(x).astype(o_ref.dtype), mask=mask)


@functools.partial(jax.jit, static_argnames=("block_rows", "block_cols", "interpret"))
def gelu(x: jax.Array, *, block_rows: int | None = None, block_cols: int | None = None,
         interpret: bool = False) -> jax.Array:
    """GELU, tanh approximation, as one Pallas kernel.

    Args:
        x: a floating-point array of any shape.
        block_rows, block_cols: the block over (rows, last axis), powers of two; None picks
            `common.elementwise_blocks`.
        interpret: run the kernel in Pallas's interpret mode (any backend; the CPU needs it).

    Returns:
        gelu(x), same shape and dtype.
    """
    check_float("gelu", x)
    if x.size == 0:
        return x
    x2 = as_rows(x)
    rows, cols = x2.shape
    default_rows, default_cols = elementwise_blocks(rows, cols)
    block = (block_rows or default_rows, block_cols or default_cols)
    for what, size in zip(("block_rows", "block_cols"), block, strict=True):
        check_block("gelu", what, size)
    spec = pl.BlockSpec(block, lambda i, j: (i, j))
    y = pl.pallas_call(
        functools.partial(_gelu_kernel, rows=rows, cols=cols),
        out_shape=jax.ShapeDtypeStruct(x2.shape, x2.dtype),
        grid=(pl.cdiv(rows, block[0]), pl.cdiv(cols, block[1])),
        in_specs=[spec],
        out_specs=spec,
        interpret=interpret,
        name="pallas_gelu",
    )(x2)
    return y.reshape(x.shape)


def gelu_reference(x: jax.Array) -> jax.Array:
    """GELU, tanh approximation, in plain jnp (f32 inside, rounded to x's dtype)."""
    return _gelu_f32(x.astype(jnp.float32)).astype(x.dtype)
