"""What every Pallas kernel in `irscope.kernels` shares: the shape error, tiling constants, edge masks.

The kernels are written for Pallas's Triton backend (NVIDIA GPUs) and run anywhere in interpret mode
(`interpret=True`, which is what the CPU can do). Two Triton rules shape every block choice:

- every array a kernel loads, stores or computes on must have a power-of-two number of elements, so
  block sizes are powers of two and a block may be larger than the array it tiles;
- a block that overhangs its array is not clipped for you: loads and stores go through
  `plgpu.load`/`plgpu.store` with a mask of the in-bounds elements (`in_bounds`), and reductions fill
  the masked part with their identity (0 for sums, -inf for maxima). Interpret mode honours the same
  masks, and pads overhanging blocks with NaN, so a missing mask shows up as a NaN in the tests.

Not handled yet: TPU (Mosaic wants blocks whose last two dims are multiples of (8, 128) or the whole
array, and has no masked loads of this kind) and Mosaic GPU; a kernel refuses nothing because of them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
from jax.experimental import pallas as pl
from jax.experimental.pallas import triton as plgpu

from irscope.errors import KernelShapeError as KernelShapeError

# Elements one program of an element-wise or row kernel handles. 4096 f32 are 16 KiB per operand:
# with Triton's default 4 warps (128 threads) that is 32 elements per thread, enough independent
# 16-byte loads in flight to cover HBM latency without spilling registers (Triton's tutorials and
# JAX's Pallas GPU ops use 1-16 Ki-element blocks for memory-bound kernels).
TARGET_BLOCK_ELEMENTS = 4096

# Widest block along the contiguous (last) axis of an element-wise kernel: 1024 f32 are 4 KiB, eight
# fully coalesced 512-byte warp transactions per row of the block.
MAX_BLOCK_COLS = 1024

# The longest row a row kernel (softmax, layer norm) holds in one block. A row lives in registers:
# 16 Ki f32 are 64 KiB, 128 per thread at 4 warps, which is where Triton starts to spill on an H100
# (JAX's Pallas GPU layer norm caps its block at 64 KiB for the same reason). Longer rows need a
# two-pass or online kernel, which is not written yet; they are refused.
MAX_ROW_BLOCK = 16384


def next_power_of_2(n: int) -> int:
    """The smallest power of two >= n (1 for n <= 1)."""
    return 1 if n <= 1 else 1 << (n - 1).bit_length()


def check_float(name: str, *arrays: jax.Array) -> None:
    """Refuse non-floating inputs: every kernel here computes in f32 and rounds to the input dtype."""
    for x in arrays:
        if not jnp.issubdtype(x.dtype, jnp.floating):
            raise KernelShapeError(f"{name}: expected a floating-point array, got {x.dtype}")


def as_rows(x: jax.Array) -> jax.Array:
    """`x` as a 2-D (rows, last axis) array; a scalar is (1, 1), a vector one row. Free: a reshape."""
    if x.ndim == 0:
        return x.reshape(1, 1)
    if x.ndim == 1:
        return x.reshape(1, x.shape[0])
    return x.reshape(-1, x.shape[-1])


def in_bounds(block: tuple[int, ...], limits: tuple[int, ...], axes: tuple[int, ...]) -> jax.Array:
    """Inside a kernel: the mask of a block's elements that lie inside the array.

    Arguments:
        block: the block's shape.
        limits: the array's size along each dimension of the block.
        axes: for each dimension of the block, the grid axis whose program id picks the block along
            it, or -1 when the block starts at 0 there (it covers the whole dimension).
    """
    mask = jnp.ones(block, dtype=jnp.bool_)
    for dim, (limit, axis) in enumerate(zip(limits, axes, strict=True)):
        if limit % block[dim] == 0:
            continue  # the blocks tile this dimension exactly: nothing overhangs
        start = pl.program_id(axis) * block[dim] if axis >= 0 else 0
        index = start + jax.lax.broadcasted_iota(jnp.int32, block, dim)
        mask = mask & (index < limit)
    return mask


def elementwise_blocks(rows: int, cols: int) -> tuple[int, int]:
    """Block (rows, cols) of an element-wise kernel over a (rows, cols) array.

    cols: the whole row rounded up to a power of two, at most `MAX_BLOCK_COLS` (coalesced loads
    along the contiguous axis). rows: enough rows for `TARGET_BLOCK_ELEMENTS` per program, a power of
    two, no more than the array has (rounded up).
    """
    block_cols = min(next_power_of_2(cols), MAX_BLOCK_COLS)
    block_rows = max(1, min(next_power_of_2(rows), TARGET_BLOCK_ELEMENTS // block_cols))
    return block_rows, block_cols


def row_blocks(name: str, rows: int, cols: int) -> tuple[int, int]:
    """Block (rows, cols) of a row kernel (a reduction along the last axis, e.g. softmax).

    cols: the whole row rounded up to a power of two (a row must sit in one program to be reduced
    there); a row longer than `MAX_ROW_BLOCK` is refused. rows: enough rows for
    `TARGET_BLOCK_ELEMENTS` per program, a power of two, at least 1.
    """
    block_cols = next_power_of_2(cols)
    if block_cols > MAX_ROW_BLOCK:
        raise KernelShapeError(
            f"{name}: rows of {cols} elements do not fit one block (at most {MAX_ROW_BLOCK}); "
            "a two-pass kernel for long rows is not written yet")
    block_rows = max(1, min(next_power_of_2(rows), TARGET_BLOCK_ELEMENTS // block_cols))
    return block_rows, block_cols


def check_block(name: str, what: str, size: int) -> None:
    """Refuse a block size the Triton backend cannot use (not a positive power of two)."""
    if size < 1 or size & (size - 1):
        raise KernelShapeError(f"{name}: {what} must be a positive power of two, got {size}")


def _elementwise_kernel(x_ref: jax.Ref, o_ref: jax.Ref, *, f32_fn: Callable[[jax.Array], jax.Array],
                        rows: int, cols: int) -> None:
    # inputs: x_ref (block_rows, block_cols)
    # outputs: o_ref (block_rows, block_cols)
    mask = in_bounds(x_ref.shape, (rows, cols), (0, 1))
    x = plgpu.load(x_ref, mask=mask, other=0.0).astype(jnp.float32)
    plgpu.store(o_ref, f32_fn(x).astype(o_ref.dtype), mask=mask)


def elementwise_call(name: str, f32_fn: Callable[[jax.Array], jax.Array], x: jax.Array, *,
                     block_rows: int | None, block_cols: int | None, interpret: bool) -> jax.Array:
    """`f32_fn` applied element by element as one Pallas kernel named `pallas_<name>`.

    The array is viewed as (rows, last axis) and tiled by `elementwise_blocks` (or the given block);
    each element is loaded once, computed in f32, rounded to x's dtype and stored once. Blocks that
    overhang the array are masked, so every shape is accepted.
    """
    check_float(name, x)
    if x.size == 0:
        return x
    x2 = as_rows(x)
    rows, cols = x2.shape
    default_rows, default_cols = elementwise_blocks(rows, cols)
    block = (block_rows or default_rows, block_cols or default_cols)
    for what, size in zip(("block_rows", "block_cols"), block, strict=True):
        check_block(name, what, size)
    spec = pl.BlockSpec(block, lambda i, j: (i, j))
    y = pl.pallas_call(
        functools.partial(_elementwise_kernel, f32_fn=f32_fn, rows=rows, cols=cols),
        out_shape=jax.ShapeDtypeStruct(x2.shape, x2.dtype),
        grid=(pl.cdiv(rows, block[0]), pl.cdiv(cols, block[1])),
        in_specs=[spec],
        out_specs=spec,
        interpret=interpret,
        name=f"pallas_{name}",
    )(x2)
    return y.reshape(x.shape)
