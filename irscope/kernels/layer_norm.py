"""Layer norm (forward) as one Pallas kernel: each row read once, its statistics kept on chip.

    y[r] = (x[r] - mean(x[r])) / sqrt(var(x[r]) + eps) * gamma + beta      along the last axis, in f32

Each program holds whole rows (`common.row_blocks`), computes the mean and the variance of the
centred row there, and writes the normalised row: x is read once and y written once. XLA:CPU
computes the statistics in separate kernels, each reading x again (three reads of x in all, see the
README's case study). Only y is returned; the mean and 1/std a backward pass would keep are not.

Shapes: any rank; the norm runs along the last axis, gamma and beta have that axis's length. A row
longer than `common.MAX_ROW_BLOCK` elements is refused (`KernelShapeError`). Otherwise ragged shapes
are masked: padded columns load as 0 and are left out of the variance, rows past the end are
neither loaded nor stored.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax.experimental import pallas as pl
from jax.experimental.pallas import triton as plgpu

from irscope.kernels.common import KernelShapeError, as_rows, check_block, check_float, in_bounds, row_blocks

# Max abs error against `layer_norm_reference` per input dtype, for rows drawn from N(0, 1) and gamma,
# beta from N(0, 1) (|y| < 8 or so). f32: the mean and variance summed in another order. bf16: one
# bf16 ulp at |y| < 8 (2^-4).
TOLERANCE = {"float32": 1e-5, "bfloat16": 2.0**-4}

DEFAULT_EPS = 1e-5


def _layer_norm_kernel(x_ref: jax.Ref, gamma_ref: jax.Ref, beta_ref: jax.Ref, o_ref: jax.Ref, *,
                       rows: int, cols: int, eps: float) -> None:
    # inputs: x_ref (block_rows, block_cols), block_cols >= cols: whole rows;
    #         gamma_ref, beta_ref (block_cols,)
    # outputs: o_ref (block_rows, block_cols)
    mask = in_bounds(x_ref.shape, (rows, cols), (0, -1))
    col_mask = in_bounds(gamma_ref.shape, (cols,), (-1,))
    x = plgpu.load(x_ref, mask=mask, other=0.0).astype(jnp.float32)
    mean = jnp.sum(x, axis=1, keepdims=True) / cols
    centred = jnp.where(mask, x - mean, 0.0)  # padded columns must not add (0 - mean)^2
    var = jnp.sum(centred * centred, axis=1, keepdims=True) / cols
    gamma = plgpu.load(gamma_ref, mask=col_mask, other=0.0).astype(jnp.float32)
    beta = plgpu.load(beta_ref, mask=col_mask, other=0.0).astype(jnp.float32)
    y = centred * jax.lax.rsqrt(var + eps) * gamma[None, :] + beta[None, :]
    plgpu.store(o_ref, y.astype(o_ref.dtype), mask=mask)


@functools.partial(jax.jit, static_argnames=("eps", "block_rows", "interpret"))
def layer_norm(x: jax.Array, gamma: jax.Array, beta: jax.Array, *, eps: float = DEFAULT_EPS,
               block_rows: int | None = None, interpret: bool = False) -> jax.Array:
    """Layer norm along the last axis (forward), as one Pallas kernel.

    Args:
        x: a floating-point array of any rank >= 1; rows of at most `MAX_ROW_BLOCK` elements.
        gamma, beta: scale and shift, shape (x.shape[-1],).
        eps: added to the variance.
        block_rows: rows per program, a power of two; None picks `common.row_blocks`. The block
            always spans the whole row (rounded up to a power of two).
        interpret: run the kernel in Pallas's interpret mode (any backend; the CPU needs it).

    Returns:
        The normalised x, same shape and dtype.

    Raises:
        KernelShapeError: gamma/beta not of shape (x.shape[-1],), a row longer than
            `MAX_ROW_BLOCK`, or a non-float input.
    """
    check_float("layer_norm", x, gamma, beta)
    if x.ndim == 0 or gamma.shape != (x.shape[-1],) or beta.shape != (x.shape[-1],):
        raise KernelShapeError(
            f"layer_norm: gamma and beta must have shape (x.shape[-1],) = ({x.shape[-1] if x.ndim else '?'},), "
            f"got x {x.shape}, gamma {gamma.shape}, beta {beta.shape}")
    if x.size == 0:
        return x
    x2 = as_rows(x)
    rows, cols = x2.shape
    default_rows, block_cols = row_blocks("layer_norm", rows, cols)
    block = (block_rows or default_rows, block_cols)
    check_block("layer_norm", "block_rows", block[0])
    row_spec = pl.BlockSpec(block, lambda i: (i, 0))
    vec_spec = pl.BlockSpec((block_cols,), lambda i: (0,))
    y = pl.pallas_call(
        functools.partial(_layer_norm_kernel, rows=rows, cols=cols, eps=eps),
        out_shape=jax.ShapeDtypeStruct(x2.shape, x2.dtype),
        grid=(pl.cdiv(rows, block[0]),),
        in_specs=[row_spec, vec_spec, vec_spec],
        out_specs=row_spec,
        interpret=interpret,
        name="pallas_layer_norm",
    )(x2, gamma, beta)
    return y.reshape(x.shape)


def layer_norm_reference(x: jax.Array, gamma: jax.Array, beta: jax.Array, *,
                         eps: float = DEFAULT_EPS) -> jax.Array:
    """Layer norm along the last axis in plain jnp (f32 inside, rounded to x's dtype)."""
    x32 = x.astype(jnp.float32)
    mean = jnp.mean(x32, axis=-1, keepdims=True)
    var = jnp.mean(jnp.square(x32 - mean), axis=-1, keepdims=True)
    y = (x32 - mean) * jax.lax.rsqrt(var + eps) * gamma.astype(jnp.float32) + beta.astype(jnp.float32)
    return y.astype(x.dtype)
