"""Sizes of arrays in tiled layouts (XLA:TPU's `{1,0:T(8,128)(2,1)}`).

A TPU layout names its tiles after the dimension order: `T(8,128)` splits the two most minor dimensions
into 8 x 128 tiles, and memory holds whole tiles, so an f32[100,100] occupies 104 x 128 elements. Only
the first tile counts for the size (a second one, `(2,1)`, packs narrow types inside the first). A shape
without `T(` (every CPU and GPU layout) is its plain `Shape.byte_size`.

Not handled yet: tiles that name more dimensions than the shape has beyond padding the missing ones
with 1 (what XLA does for scalars, `f32[]{:T(128)}`), and dynamic shapes' size metadata.
"""

from __future__ import annotations

import math
import re

from irscope.ir.hlo import Shape

_TILE = re.compile(r"T\(([\d,]+)\)")


def is_tiled(shape: Shape) -> bool:
    """Whether an array's layout names tiles (`T(...)`), as XLA:TPU's layouts do."""
    return shape.is_array and "T(" in shape.layout_extra and shape.layout is not None


def tiled_dims(shape: Shape, dims: tuple[int, ...] | None = None) -> tuple[int, ...]:
    """The dimensions (logical order) of an array padded to whole tiles: `f32[100,100]{1,0:T(8,128)}`
    is (104, 128). `dims`, when given, pads a block of those dimensions in the same layout (a gather's
    slice) instead of the whole array. An untiled shape keeps its dimensions."""
    if dims is None:
        dims = shape.dims
    tile = _TILE.search(shape.layout_extra) if is_tiled(shape) else None
    if tile is None or shape.layout is None:
        return tuple(dims)
    sizes = [int(x) for x in tile.group(1).split(",")]
    padded = list(dims)
    # The tile covers the most minor dimensions; those it names beyond the rank are leading 1s.
    for t, d in zip(reversed(sizes), shape.layout, strict=False):
        padded[d] = -(-padded[d] // t) * t
    return tuple(padded)


def tiled_byte_size(shape: Shape, dims: tuple[int, ...] | None = None) -> int:
    """Bytes of one array padded to whole tiles when its layout is tiled, else `Shape.byte_size`.

    A shape with fewer dimensions than the tile counts as having leading dimensions of 1 (a scalar
    `f32[]{:T(128)}` is 128 elements, 512 bytes). `dims`, when given, sizes a block of those
    dimensions in the same layout (see `tiled_dims`).
    """
    if not is_tiled(shape):
        return shape.byte_size if dims is None else (math.prod(dims) * shape.element_bits + 7) // 8
    padded = tiled_dims(shape, dims)
    tile = _TILE.search(shape.layout_extra)
    missing = 1
    if tile is not None:
        sizes = [int(x) for x in tile.group(1).split(",")]
        missing = math.prod(sizes[: max(0, len(sizes) - len(padded))])
    return (math.prod(padded) * missing * shape.element_bits + 7) // 8
