"""Swish / SiLU as one Pallas kernel: each element read once and written once.

    y = x * sigmoid(x) = x / (1 + exp(-x))                       (computed in f32, rounded to x's dtype)

XLA fuses this into one loop fusion too; with `gelu` it is the element-wise baseline. Any shape and
any floating dtype: the array is viewed as (rows, last axis) and tiled by
`common.elementwise_blocks`; blocks that overhang the array are masked, so no shape is refused.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from irscope.kernels.common import elementwise_call

# Max abs error against `swish_reference` per input dtype, for inputs drawn from N(0, 1): as for gelu,
# a few f32 ulps of |y| < 8, and one bf16 ulp at |y| < 8.
TOLERANCE = {"float32": 1e-5, "bfloat16": 2.0**-4}


def _swish_f32(x: jax.Array) -> jax.Array:
    # exp(-x) overflows to inf for x < -88: x / inf is -0, the right limit.
    return x / (1.0 + jnp.exp(-x))


@functools.partial(jax.jit, static_argnames=("block_rows", "block_cols", "interpret"))
def swish(x: jax.Array, *, block_rows: int | None = None, block_cols: int | None = None,
          interpret: bool = False) -> jax.Array:
    """Swish / SiLU, x * sigmoid(x), as one Pallas kernel.

    Args:
        x: a floating-point array of any shape.
        block_rows, block_cols: the block over (rows, last axis), powers of two; None picks
            `common.elementwise_blocks`.
        interpret: run the kernel in Pallas's interpret mode (any backend; the CPU needs it).

    Returns:
        swish(x), same shape and dtype.
    """
    return elementwise_call("swish", _swish_f32, x, block_rows=block_rows, block_cols=block_cols,
                            interpret=interpret)


def swish_reference(x: jax.Array) -> jax.Array:
    """Swish / SiLU in plain jnp (f32 inside, rounded to x's dtype)."""
    return _swish_f32(x.astype(jnp.float32)).astype(x.dtype)
