"""Flash-attention forward as one Pallas kernel: softmax(q k^T * scale) v without the score matrix.

Each program takes a (block_q, D) tile of queries and walks the keys in steps of block_k with the
online softmax of FlashAttention (Dao et al. 2022, algorithm 1): a running row maximum m, a running
denominator l and an f32 accumulator, rescaled by exp(m_old - m_new) at every step. The (T, S) score
and probability matrices never reach memory. XLA:CPU writes the scores, reads them back for the
softmax and writes the probabilities for the second matmul (the README's case study counts it).

Shapes: q (B, T, D), k and v (B, S, D), B being batch x heads; no mask, no causal variant, no dropout
(not written yet). Ragged T and S are masked (keys past S get a score of -inf, queries past T are not
stored); D is padded to a power of two >= 16 with masked loads. D above `MAX_HEAD_DIM` is refused.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
from jax.experimental import pallas as pl
from jax.experimental.pallas import triton as plgpu

from irscope.kernels.common import KernelShapeError, check_block, check_float, next_power_of_2

# Max abs error against `flash_attention_reference` per input dtype, for q, k, v from N(0, 1) (outputs
# are convex combinations of v's rows). f32: TF32 tensor-core dots on a GPU at JAX's default
# precision (~1e-6 on a CPU). bf16: the probabilities are rounded to bf16 before the second dot, as
# every bf16 flash kernel does (2^-8 relative per term), and the output to bf16.
TOLERANCE = {"float32": 1e-2, "bfloat16": 2.0**-5}

# The widest head a program holds: q tile, accumulator and a k/v tile of 256 f32 columns at
# block 64 are 192 KiB, the H100's shared memory per SM; wider heads need another split.
MAX_HEAD_DIM = 256


def attention_blocks(t: int, s: int, d: int) -> tuple[int, int, int]:
    """(block_q, block_k, block_d) for q (B, t, D), k/v (B, s, D).

    block_q, block_k: 64, or the sequence rounded up to a power of two when shorter, never below 16
    (Triton's dot). JAX's Pallas GPU attention defaults to 128 x 128 with head dims of 64-128 on
    A100/H100; 64 keeps the f32 (block_q, D) accumulator plus a (block_q, block_k) score tile inside
    4 warps' registers for D up to 128. block_d: D rounded up to a power of two, at least 16.
    """
    if d > MAX_HEAD_DIM:
        raise KernelShapeError(f"flash_attention: head dim {d} is above {MAX_HEAD_DIM}; not supported")
    block_q = max(16, min(64, next_power_of_2(t)))
    block_k = max(16, min(64, next_power_of_2(s)))
    return block_q, block_k, max(16, next_power_of_2(d))


def _flash_attention_kernel(q_ref: jax.Ref, k_ref: jax.Ref, v_ref: jax.Ref, o_ref: jax.Ref, *,
                            seq_q: int, seq_k: int, head_dim: int, block_k: int, scale: float) -> None:
    # inputs: q_ref (block_q, block_d) of one batch row; k_ref, v_ref (s_padded, block_d) of the
    #         same row, s_padded = block_k * cdiv(seq_k, block_k)
    # outputs: o_ref (block_q, block_d)
    block_q, block_d = q_ref.shape
    rows = pl.program_id(1) * block_q + jnp.arange(block_q)
    dims = jnp.arange(block_d) < head_dim
    q = plgpu.load(q_ref, mask=(rows < seq_q)[:, None] & dims[None, :], other=0.0)

    def step(j: jax.Array, carry: tuple[jax.Array, jax.Array, jax.Array]) -> tuple[jax.Array, ...]:
        acc, m_prev, l_prev = carry
        keys = j * block_k + jnp.arange(block_k)
        tile_mask = (keys < seq_k)[:, None] & dims[None, :]
        k = plgpu.load(k_ref.at[pl.ds(j * block_k, block_k), :], mask=tile_mask, other=0.0)
        v = plgpu.load(v_ref.at[pl.ds(j * block_k, block_k), :], mask=tile_mask, other=0.0)
        s = jnp.dot(q, k.T, preferred_element_type=jnp.float32) * scale  # (block_q, block_k)
        s = jnp.where((keys < seq_k)[None, :], s, -jnp.inf)
        m_new = jnp.maximum(m_prev, jnp.max(s, axis=1))
        p = jnp.exp(s - m_new[:, None])
        alpha = jnp.exp(m_prev - m_new)  # 0 on the first step (m_prev = -inf)
        l_new = alpha * l_prev + jnp.sum(p, axis=1)
        acc = acc * alpha[:, None] + jnp.dot(p.astype(v.dtype), v, preferred_element_type=jnp.float32)
        return acc, m_new, l_new

    init = (jnp.zeros((block_q, block_d), jnp.float32), jnp.full((block_q,), -jnp.inf, jnp.float32),
            jnp.zeros((block_q,), jnp.float32))
    acc, _, l_final = jax.lax.fori_loop(0, pl.cdiv(seq_k, block_k), step, init)
    out = acc / l_final[:, None]
    plgpu.store(o_ref, out.astype(o_ref.dtype), mask=(rows < seq_q)[:, None] & dims[None, :])


@functools.partial(jax.jit, static_argnames=("scale", "block_q", "block_k", "interpret"))
def flash_attention(q: jax.Array, k: jax.Array, v: jax.Array, *, scale: float | None = None,
                    block_q: int | None = None, block_k: int | None = None,
                    interpret: bool = False) -> jax.Array:
    """softmax(q k^T * scale) v, forward only, as one Pallas kernel (no score matrix in memory).

    Args:
        q: (B, T, D); k, v: (B, S, D); one floating dtype. B is batch x heads.
        scale: the score scale; None is 1/sqrt(D).
        block_q, block_k: query and key tile sizes, powers of two >= 16; None picks `attention_blocks`.
        interpret: run the kernel in Pallas's interpret mode (any backend; the CPU needs it).

    Returns:
        (B, T, D) in q's dtype.

    Raises:
        KernelShapeError: shapes that do not match, mixed dtypes, D > `MAX_HEAD_DIM`, bad blocks.
    """
    check_float("flash_attention", q, k, v)
    if q.ndim != 3 or k.ndim != 3 or k.shape != v.shape or q.shape[0] != k.shape[0] or q.shape[2] != k.shape[2]:
        raise KernelShapeError(
            f"flash_attention: expected q (B, T, D), k and v (B, S, D), got {q.shape}, {k.shape}, {v.shape}")
    if len({q.dtype, k.dtype, v.dtype}) != 1:
        raise KernelShapeError(f"flash_attention: q, k, v must share a dtype, got {q.dtype}, {k.dtype}, {v.dtype}")
    (batch, t, d), s = q.shape, k.shape[1]
    if batch == 0 or t == 0 or s == 0 or d == 0:
        raise KernelShapeError(f"flash_attention: empty operand q {q.shape}, k {k.shape}")
    default_q, default_k, block_d = attention_blocks(t, s, d)
    bq, bk = block_q or default_q, block_k or default_k
    for what, size in (("block_q", bq), ("block_k", bk)):
        check_block("flash_attention", what, size)
        if size < 16:
            raise KernelShapeError(f"flash_attention: {what} must be >= 16 (Triton's dot), got {size}")
    s_padded = bk * pl.cdiv(s, bk)
    q_spec = pl.BlockSpec((None, bq, block_d), lambda b, i: (b, i, 0))
    kv_spec = pl.BlockSpec((None, s_padded, block_d), lambda b, i: (b, 0, 0))
    kernel = functools.partial(_flash_attention_kernel, seq_q=t, seq_k=s, head_dim=d, block_k=bk,
                               scale=float(scale if scale is not None else 1.0 / math.sqrt(d)))
    return pl.pallas_call(
        kernel,
        out_shape=jax.ShapeDtypeStruct(q.shape, q.dtype),
        grid=(batch, pl.cdiv(t, bq)),
        in_specs=[q_spec, kv_spec, kv_spec],
        out_specs=q_spec,
        interpret=interpret,
        name="pallas_flash_attention",
    )(q, k, v)


def flash_attention_reference(q: jax.Array, k: jax.Array, v: jax.Array, *,
                              scale: float | None = None) -> jax.Array:
    """softmax(q k^T * scale) v in plain jnp, in f32, rounded to q's dtype."""
    scale = scale if scale is not None else 1.0 / math.sqrt(q.shape[-1])
    scores = jnp.einsum("btd,bsd->bts", q, k, preferred_element_type=jnp.float32) * scale
    scores = scores - jnp.max(scores, axis=-1, keepdims=True)
    p = jnp.exp(scores)
    p = p / jnp.sum(p, axis=-1, keepdims=True)
    return jnp.einsum("bts,bsd->btd", p, v.astype(jnp.float32)).astype(q.dtype)
