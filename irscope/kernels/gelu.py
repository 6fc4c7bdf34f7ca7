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

from irscope.kernels.common import elementwise_call

# Max abs error against `gelu_reference` per input dtype, for inputs drawn from N(0, 1).
# f32: a few ulps of |y| < 8 (a GPU's tanh differs from XLA's by ulps). bf16: one bf16 ulp at
# |y| < 8 (2^-4): kernel and reference both compute in f32 and may round to neighbouring values.
TOLERANCE = {"float32": 1e-5, "bfloat16": 2.0**-4}

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def _gelu_f32(x: jax.Array) -> jax.Array:
    return 0.5 * x * (1.0 + jnp.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)))


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
    return elementwise_call("gelu", _gelu_f32, x, block_rows=block_rows, block_cols=block_cols,
                            interpret=interpret)


def gelu_reference(x: jax.Array) -> jax.Array:
    """GELU, tanh approximation, in plain jnp (f32 inside, rounded to x's dtype)."""
    return _gelu_f32(x.astype(jnp.float32)).astype(x.dtype)
