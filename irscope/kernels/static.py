"""Bytes a Pallas kernel moves, read off its grid and BlockSpecs without running it.

A `pallas_call` runs its kernel once per point of its grid, in row-major order (the last grid axis
fastest). At each step every BlockSpec's index map names one block of its array: an input block is
copied in, an output block copied out. `pallas_traffic(fn, *args)` traces `fn`, finds every
`pallas_call` in it (inside jit, vmap, cond, ...), evaluates each index map over the whole grid at
once (vmapped), and counts the bytes two ways:

- `bytes` (the pipeline model): a block whose index does not change from one step to the next is
  not moved again. This is what Pallas's TPU and Mosaic GPU pipelines do (an output block is written
  back once, when its index changes), and on a GPU it is what DRAM sees when consecutive programs,
  which run at the same time, read the same block through L2.
- `bytes_no_reuse`: every step moves every block, an upper bound (Triton programs load their blocks
  independently; without L2 hits each load reaches DRAM).

Only the part of a block inside its array counts (an overhanging edge block moves what it covers),
so for a kernel that reads each input once and writes each output once both figures equal the
arrays' sizes, the floor any kernel meets. The numbers are exact from shapes (provenance `exact`).

Not handled yet: index maps that read scalar-prefetch operands, dynamic grids, blocks in `pl.ANY`
memory (the kernel copies what it wants itself) and `BoundedSlice`/indirect block dims: such calls
raise `UnsupportedPallasCall`. Loads a kernel makes inside its block (a K loop) are not counted
separately: the block is the unit. A `pallas_call` inside a loop counts once, per call site.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import jax
import jax.extend.core as jex
import numpy as np
from jax.experimental import pallas as pl

from irscope.errors import UnsupportedPallasCall as UnsupportedPallasCall

# A grid larger than this is not enumerated (the index maps run vmapped over every step).
MAX_GRID_STEPS = 1 << 22


@dataclass(frozen=True)
class BlockTraffic:
    """One operand of a pallas_call: its BlockSpec and the bytes it moves."""

    origin: str
    """Which operand: `args[0]`, `outputs[0]`, ... (Pallas's own naming)."""
    role: str
    """`input` (blocks copied in) or `output` (blocks copied out)."""
    array_shape: tuple[int, ...]
    """Shape of the whole array."""
    dtype: str
    """numpy name of its element type."""
    block_shape: tuple[int, ...]
    """Shape of one block (1 along squeezed dims)."""
    moves: int
    """Blocks moved under the pipeline model: the runs of equal consecutive block indices."""
    bytes: int
    """Bytes moved under the pipeline model (in-bounds part of each moved block)."""
    bytes_no_reuse: int
    """Bytes moved if every grid step moves its block."""

    @property
    def array_bytes(self) -> int:
        return math.prod(self.array_shape) * np.dtype(self.dtype).itemsize

    def to_json(self) -> dict[str, Any]:
        return {
            "origin": self.origin, "role": self.role, "array_shape": list(self.array_shape),
            "dtype": self.dtype, "block_shape": list(self.block_shape), "moves": self.moves,
            "bytes": self.bytes, "bytes_no_reuse": self.bytes_no_reuse, "array_bytes": self.array_bytes,
        }


@dataclass(frozen=True)
class PallasTraffic:
    """The memory traffic of one pallas_call, from its grid and BlockSpecs."""

    name: str
    """The call's `name=` (or its kernel function's name)."""
    grid: tuple[int, ...]
    """The grid."""
    blocks: tuple[BlockTraffic, ...]
    """Inputs then outputs, in the call's order."""

    @property
    def steps(self) -> int:
        """Programs the grid runs."""
        return math.prod(self.grid)

    @property
    def bytes_read(self) -> int:
        return sum(b.bytes for b in self.blocks if b.role == "input")

    @property
    def bytes_written(self) -> int:
        return sum(b.bytes for b in self.blocks if b.role == "output")

    @property
    def bytes_accessed(self) -> int:
        """Read plus written, pipeline model: the figure to set beside XLA's `bytes accessed`."""
        return self.bytes_read + self.bytes_written

    @property
    def bytes_accessed_no_reuse(self) -> int:
        return sum(b.bytes_no_reuse for b in self.blocks)

    @property
    def array_bytes(self) -> int:
        """Every operand and result once: the least any kernel computing this can move."""
        return sum(b.array_bytes for b in self.blocks)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "grid": list(self.grid), "steps": self.steps,
            "bytes_read": self.bytes_read, "bytes_written": self.bytes_written,
            "bytes_accessed": self.bytes_accessed, "bytes_accessed_no_reuse": self.bytes_accessed_no_reuse,
            "array_bytes": self.array_bytes, "provenance": "exact",
            "blocks": [b.to_json() for b in self.blocks],
        }


def pallas_traffic(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[PallasTraffic, ...]:
    """The traffic of every pallas_call `fn(*args, **kwargs)` makes, in trace order.

    Arguments are arrays or `jax.ShapeDtypeStruct`s: only shapes matter, nothing runs on a device.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from irscope.kernels.gelu import gelu
        >>> [t] = pallas_traffic(lambda x: gelu(x, interpret=True), jax.ShapeDtypeStruct((256, 1024), jnp.float32))
        >>> t.bytes_read, t.bytes_written
        (1048576, 1048576)
    """
    closed = jax.make_jaxpr(fn)(*args, **kwargs)
    return tuple(call_traffic(eqn) for eqn in _pallas_calls(closed.jaxpr))


def _pallas_calls(jaxpr: Any) -> Iterator[Any]:
    for eqn in jaxpr.eqns:
        if eqn.primitive is pl.pallas_call_p:
            yield eqn
            continue
        for sub in jex.jaxprs_in_params(eqn.params):
            yield from _pallas_calls(sub)


def call_traffic(eqn: Any) -> PallasTraffic:
    """The traffic of one `pallas_call` equation of a jaxpr."""
    mapping = eqn.params["grid_mapping"]
    name = eqn.params.get("name") or getattr(eqn.params["jaxpr"].debug_info, "func_name", "pallas_call")
    grid = mapping.grid
    if not all(isinstance(g, int) for g in grid):
        raise UnsupportedPallasCall(f"{name}: dynamic grid {grid}")
    if mapping.num_index_operands:
        raise UnsupportedPallasCall(f"{name}: index maps read scalar-prefetch operands")
    steps = math.prod(grid)
    if steps > MAX_GRID_STEPS:
        raise UnsupportedPallasCall(f"{name}: grid {grid} has {steps} steps, above {MAX_GRID_STEPS}")
    # Grid indices of every step, row-major (the last axis fastest), as Pallas runs them.
    ids = np.indices(grid, dtype=np.int32).reshape(len(grid), -1) if grid else np.zeros((0, 1), np.int32)
    blocks = []
    for k, bm in enumerate(mapping.block_mappings):
        role = "input" if k < mapping.num_inputs else "output"
        blocks.append(_block_traffic(name, bm, role, ids))
    return PallasTraffic(str(name), tuple(grid), tuple(blocks))


def _block_traffic(name: str, bm: Any, role: str, ids: np.ndarray) -> BlockTraffic:
    space = str(getattr(bm.transformed_block_aval, "memory_space", ""))
    if "any" in space.lower():
        raise UnsupportedPallasCall(f"{name}: {bm.origin} is in pl.ANY memory (the kernel copies it itself)")
    shape = tuple(bm.array_aval.shape)
    starts, sizes = _block_starts(name, bm, ids)  # (ndim, steps), (ndim,)
    # In-bounds extent of each step's block, per dim, then the product: the bytes it really moves.
    lo = np.clip(starts, 0, None)
    hi = np.minimum(starts + np.asarray(sizes)[:, None], np.asarray(shape, dtype=np.int64)[:, None])
    elements = np.prod(np.clip(hi - lo, 0, None), axis=0) if shape else np.ones(ids.shape[1], np.int64)
    itemsize = np.dtype(bm.array_aval.dtype).itemsize
    # A block moves at the first step and whenever its index differs from the step before.
    moved = np.ones(ids.shape[1], dtype=bool)
    if ids.shape[1] > 1 and shape:
        moved[1:] = np.any(starts[:, 1:] != starts[:, :-1], axis=0)
    elif ids.shape[1] > 1:
        moved[1:] = False
    return BlockTraffic(
        origin=str(bm.origin), role=role, array_shape=shape, dtype=np.dtype(bm.array_aval.dtype).name,
        block_shape=tuple(int(s) for s in sizes), moves=int(moved.sum()),
        bytes=int(elements[moved].sum()) * itemsize, bytes_no_reuse=int(elements.sum()) * itemsize,
    )


def _block_starts(name: str, bm: Any, ids: np.ndarray) -> tuple[np.ndarray, tuple[int, ...]]:
    """Element offsets of the block at every step, (ndim, steps), and the block's size per dim."""
    index_map = jex.jaxpr_as_fun(bm.index_map_jaxpr)
    steps = ids.shape[1]
    if ids.shape[0]:
        outs = jax.vmap(lambda *i: tuple(index_map(*i)))(*(jax.numpy.asarray(row) for row in ids))
    else:
        outs = tuple(np.broadcast_to(np.asarray(o), (steps,)) for o in index_map())
    starts, sizes = [], []
    for dim, (index, block) in enumerate(zip(outs, bm.block_shape, strict=True)):
        index = np.broadcast_to(np.asarray(index, dtype=np.int64), (steps,))
        if isinstance(block, pl.Blocked) or isinstance(block, int):
            size = block.block_size if isinstance(block, pl.Blocked) else block
            starts.append(index * size)
        elif isinstance(block, pl.Squeezed) or block is None:
            size = 1
            starts.append(index)
        elif isinstance(block, pl.Element):
            size = block.block_size
            starts.append(index - block.padding[0])
        else:
            raise UnsupportedPallasCall(f"{name}: {bm.origin} dim {dim} is {block}, not a blocked dim")
        sizes.append(int(size))
    return (np.stack(starts) if starts else np.zeros((0, steps), np.int64)), tuple(sizes)
