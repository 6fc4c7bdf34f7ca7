"""Matmul with a fused bias + activation epilogue, as one Pallas kernel: act(x @ w + b).

Each program computes one (block_m, block_n) tile of the output: it walks K in steps of block_k,
accumulating x-tile @ w-tile in f32, then adds the bias, applies the activation and writes the tile
once. The epilogue costs no extra pass over the output, which is what XLA's GPU backend also does
when it fuses the epilogue into its Triton or cuBLAS-Lt GEMM; XLA:CPU runs the dot in its library
and the epilogue as a separate loop fusion (one more read and write of the output).

Shapes: x (M, K), w (K, N), b (N,), any sizes. Ragged shapes are masked: the last K step loads 0
past K (in both x and w, so padding never meets padding), and output rows and columns past the end
are neither loaded nor stored. Block sizes below 16 are refused on every backend because Triton's
`tl.dot` needs at least 16 along each dimension.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
from jax.experimental import pallas as pl
from jax.experimental.pallas import triton as plgpu

from irscope.kernels.common import KernelShapeError, check_block, check_float, next_power_of_2
from irscope.kernels.gelu import _gelu_f32
from irscope.kernels.swish import _swish_f32

# Max abs error against `matmul_bias_act_reference` per input dtype, for x from N(0, 1), w from
# N(0, 1/K) and b from N(0, 1) (outputs of order 1). f32: on a GPU both the kernel and XLA run f32
# dots on TF32 tensor cores at JAX's default precision (10-bit mantissa, ~1e-3 relative per dot);
# on a CPU the error is ~1e-6. bf16: one bf16 ulp at |y| < 8 (2^-4).
TOLERANCE = {"float32": 1e-2, "bfloat16": 2.0**-4}

ACTIVATIONS: dict[str, Callable[[jax.Array], jax.Array]] = {
    "none": lambda y: y,
    "relu": lambda y: jnp.maximum(y, 0.0),
    "gelu": _gelu_f32,
    "swish": _swish_f32,
}

# Triton's tl.dot needs every dimension of its operands to be at least 16.
MIN_DOT_BLOCK = 16


def matmul_blocks(m: int, n: int, k: int, dtype: jnp.dtype) -> tuple[int, int, int]:
    """(block_m, block_n, block_k) for an (m, k) @ (k, n) matmul.

    block_m, block_n: 64 x 64 output tiles (16 KiB of f32 accumulator: 32 registers a thread at 4
    warps), or the matrix rounded up to a power of two when smaller, and never below 16 (tl.dot).
    Triton's H100 matmul configurations use 64-128; 128 x 128 tiles need 8 warps, which Pallas
    does not pick for us. block_k: 32 for 2-byte types, 16 for f32: one 64-byte sector of each row
    of a tile per step, and a multiple of the tensor cores' K (16 for bf16, 8 for tf32).
    """
    block_m = max(MIN_DOT_BLOCK, min(64, next_power_of_2(m)))
    block_n = max(MIN_DOT_BLOCK, min(64, next_power_of_2(n)))
    block_k = max(MIN_DOT_BLOCK, min(64 // jnp.dtype(dtype).itemsize, next_power_of_2(k)))
    return block_m, block_n, block_k


def _matmul_kernel(x_ref: jax.Ref, w_ref: jax.Ref, b_ref: jax.Ref, o_ref: jax.Ref, *,
                   m: int, n: int, k: int, block_k: int, activation: str) -> None:
    # inputs: x_ref (block_m, k_padded), w_ref (k_padded, block_n), b_ref (block_n,);
    #         k_padded = block_k * cdiv(k, block_k)
    # outputs: o_ref (block_m, block_n)
    block_m, block_n = o_ref.shape
    rows = pl.program_id(0) * block_m + jnp.arange(block_m)
    cols = pl.program_id(1) * block_n + jnp.arange(block_n)

    def step(i: jax.Array, acc: jax.Array) -> jax.Array:
        ks = i * block_k + jnp.arange(block_k)
        x = plgpu.load(x_ref.at[:, pl.ds(i * block_k, block_k)],
                       mask=(rows[:, None] < m) & (ks[None, :] < k), other=0.0)
        w = plgpu.load(w_ref.at[pl.ds(i * block_k, block_k), :],
                       mask=(ks[:, None] < k) & (cols[None, :] < n), other=0.0)
        return acc + jnp.dot(x, w, preferred_element_type=jnp.float32)

    acc = jax.lax.fori_loop(0, pl.cdiv(k, block_k), step, jnp.zeros((block_m, block_n), jnp.float32))
    b = plgpu.load(b_ref, mask=cols < n, other=0.0).astype(jnp.float32)
    y = ACTIVATIONS[activation](acc + b[None, :])
    plgpu.store(o_ref, y.astype(o_ref.dtype), mask=(rows[:, None] < m) & (cols[None, :] < n))


@functools.partial(jax.jit, static_argnames=("activation", "block_m", "block_n", "block_k", "interpret"))
def matmul_bias_act(x: jax.Array, w: jax.Array, b: jax.Array, *, activation: str = "gelu",
                    block_m: int | None = None, block_n: int | None = None, block_k: int | None = None,
                    interpret: bool = False) -> jax.Array:
    """act(x @ w + b) as one Pallas kernel, accumulating in f32.

    Args:
        x: (M, K); w: (K, N); b: (N,); floating point, one dtype (the output's).
        activation: `none`, `relu`, `gelu` (tanh approximation) or `swish`.
        block_m, block_n, block_k: the tile, powers of two >= 16; None picks `matmul_blocks`.
        interpret: run the kernel in Pallas's interpret mode (any backend; the CPU needs it).

    Returns:
        (M, N) in x's dtype.

    Raises:
        KernelShapeError: shapes that do not chain, mixed dtypes, an unknown activation or a
            block below 16 or not a power of two.
    """
    check_float("matmul_bias_act", x, w, b)
    if x.ndim != 2 or w.ndim != 2 or b.ndim != 1 or x.shape[1] != w.shape[0] or b.shape[0] != w.shape[1]:
        raise KernelShapeError(
            f"matmul_bias_act: expected x (M, K), w (K, N), b (N,), got {x.shape}, {w.shape}, {b.shape}")
    if len({x.dtype, w.dtype, b.dtype}) != 1:
        raise KernelShapeError(f"matmul_bias_act: x, w, b must share a dtype, got {x.dtype}, {w.dtype}, {b.dtype}")
    if activation not in ACTIVATIONS:
        raise KernelShapeError(f"matmul_bias_act: unknown activation {activation!r}; known: {', '.join(ACTIVATIONS)}")
    (m, k), n = x.shape, w.shape[1]
    if m == 0 or n == 0 or k == 0:
        raise KernelShapeError(f"matmul_bias_act: empty operand ({m}, {k}) @ ({k}, {n})")
    default = matmul_blocks(m, n, k, x.dtype)
    bm, bn, bk = (given or d for given, d in zip((block_m, block_n, block_k), default, strict=True))
    for what, size in (("block_m", bm), ("block_n", bn), ("block_k", bk)):
        check_block("matmul_bias_act", what, size)
        if size < MIN_DOT_BLOCK:
            raise KernelShapeError(f"matmul_bias_act: {what} must be >= {MIN_DOT_BLOCK} (Triton's dot), got {size}")
    k_padded = bk * pl.cdiv(k, bk)
    return pl.pallas_call(
        functools.partial(_matmul_kernel, m=m, n=n, k=k, block_k=bk, activation=activation),
        out_shape=jax.ShapeDtypeStruct((m, n), x.dtype),
        grid=(pl.cdiv(m, bm), pl.cdiv(n, bn)),
        in_specs=[
            pl.BlockSpec((bm, k_padded), lambda i, j: (i, 0)),
            pl.BlockSpec((k_padded, bn), lambda i, j: (0, j)),
            pl.BlockSpec((bn,), lambda i, j: (j,)),
        ],
        out_specs=pl.BlockSpec((bm, bn), lambda i, j: (i, j)),
        interpret=interpret,
        name="pallas_matmul_bias_act",
    )(x, w, b)


def matmul_bias_act_reference(x: jax.Array, w: jax.Array, b: jax.Array, *,
                              activation: str = "gelu") -> jax.Array:
    """act(x @ w + b) in plain jnp: the dot accumulates in f32, the epilogue runs in f32."""
    y = jnp.dot(x, w, preferred_element_type=jnp.float32) + b.astype(jnp.float32)
    return ACTIVATIONS[activation](y).astype(x.dtype)
