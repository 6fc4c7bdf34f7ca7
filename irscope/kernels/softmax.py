"""Row softmax (numerically stable) as one Pallas kernel: each row read once and written once.

    y[r] = exp(x[r] - max(x[r])) / sum(exp(x[r] - max(x[r])))      along the last axis, in f32

Each program holds whole rows (`common.row_blocks`), so the maximum, the exponentials and their sum
never leave the chip. XLA:CPU makes three or four kernels of it (a max, an exp-and-sum, a divide)
and reads the input at least twice; XLA:GPU fuses it into one or two.

Shapes: any rank; the softmax runs along the last axis. A row longer than `common.MAX_ROW_BLOCK`
elements is refused (`KernelShapeError`): it would not fit one program. Otherwise ragged shapes are
masked: the padded columns of a row block load as -inf (exp gives 0), and rows past the end are
neither loaded nor stored.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax.experimental import pallas as pl
from jax.experimental.pallas import triton as plgpu

from irscope.kernels.common import as_rows, check_block, check_float, in_bounds, row_blocks

# Max abs error against `softmax_reference` per input dtype, for rows drawn from N(0, 1) (outputs in
# [0, 1]). f32: a few ulps of 1 plus the sum's reassociation. bf16: one bf16 ulp below 1 (2^-8).
TOLERANCE = {"float32": 1e-6, "bfloat16": 2.0**-8}


def _softmax_kernel(x_ref: jax.Ref, o_ref: jax.Ref, *, rows: int, cols: int) -> None:
    # inputs: x_ref (block_rows, block_cols), block_cols >= cols: whole rows
    # outputs: o_ref (block_rows, block_cols)
    mask = in_bounds(x_ref.shape, (rows, cols), (0, -1))
    x = plgpu.load(x_ref, mask=mask, other=-jnp.inf).astype(jnp.float32)
    row_max = jnp.max(x, axis=1, keepdims=True)
    # A row past the end is all -inf: its max is -inf and x - max NaN, but it is never stored.
    e = jnp.exp(x - row_max)
    y = e / jnp.sum(e, axis=1, keepdims=True)
    plgpu.store(o_ref, y.astype(o_ref.dtype), mask=mask)


@functools.partial(jax.jit, static_argnames=("block_rows", "interpret"))
def softmax(x: jax.Array, *, block_rows: int | None = None, interpret: bool = False) -> jax.Array:
    """Softmax along the last axis, as one Pallas kernel.

    Args:
        x: a floating-point array of any rank >= 1; rows of at most `MAX_ROW_BLOCK` elements.
        block_rows: rows per program, a power of two; None picks `common.row_blocks`. The block
            always spans the whole row (rounded up to a power of two).
        interpret: run the kernel in Pallas's interpret mode (any backend; the CPU needs it).

    Returns:
        softmax(x, axis=-1), same shape and dtype.

    Raises:
        KernelShapeError: a row longer than `MAX_ROW_BLOCK`, or a non-float input.
    """
    check_float("softmax", x)
    if x.size == 0:
        return x
    x2 = as_rows(x)
    rows, cols = x2.shape
    default_rows, block_cols = row_blocks("softmax", rows, cols)
    block = (block_rows or default_rows, block_cols)
    check_block("softmax", "block_rows", block[0])
    spec = pl.BlockSpec(block, lambda i: (i, 0))
    y = pl.pallas_call(
        functools.partial(_softmax_kernel, rows=rows, cols=cols),
        out_shape=jax.ShapeDtypeStruct(x2.shape, x2.dtype),
        grid=(pl.cdiv(rows, block[0]),),
        in_specs=[spec],
        out_specs=spec,
        interpret=interpret,
        name="pallas_softmax",
    )(x2)
    return y.reshape(x.shape)


def softmax_reference(x: jax.Array) -> jax.Array:
    """Softmax along the last axis in plain jnp (f32 inside, rounded to x's dtype)."""
    x32 = x.astype(jnp.float32)
    e = jnp.exp(x32 - jnp.max(x32, axis=-1, keepdims=True))
    return (e / jnp.sum(e, axis=-1, keepdims=True)).astype(x.dtype)
