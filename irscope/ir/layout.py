"""Sizes of arrays in tiled layouts (XLA:TPU's `{1,0:T(8,128)(2,1)}`).

A TPU layout names its tiles after the dimension order: `T(8,128)` splits the two most minor dimensions
into 8 x 128 tiles, and memory holds whole tiles, so an f32[100,100] occupies 104 x 128 elements. Only
the first tile counts for the size (a second one, `(2,1)`, packs narrow types inside the first). A shape
without `T(` (every CPU and GPU layout) is its plain `Shape.byte_size`.

Not handled yet: tiles that name more dimensions than the shape has beyond padding the missing ones
with 1 (what XLA does for scalars, `f32[]{:T(128)}`), and dynamic shapes' size metadata.
"""

from __future__ import annotations

import re

from irscope.ir.hlo import Shape

_TILE = re.compile(r"T\(([\d,]+)\)")


def is_tiled(shape: Shape) -> bool:
    """Whether an array's layout names tiles (`T(...)`), as XLA:TPU's layouts do."""
    return shape.is_array and "T(" in shape.layout_extra and shape.layout is not None


def tiled_byte_size(shape: Shape) -> int:
    """Bytes of one array padded to whole tiles when its layout is tiled, else `Shape.byte_size`.

    The tile's dimensions cover the most minor dimensions (in layout order); a shape with fewer
    dimensions than the tile counts as having leading dimensions of 1.
    """
    if not is_tiled(shape):
        return shape.byte_size
    tile = _TILE.search(shape.layout_extra)
    if tile is None:
        return shape.byte_size
    sizes = [int(x) for x in tile.group(1).split(",")]
    assert shape.layout is not None
    major_to_minor = [shape.dims[d] for d in reversed(shape.layout)]
    major_to_minor = [1] * max(0, len(sizes) - len(major_to_minor)) + major_to_minor
    for k, t in enumerate(sizes):
        i = len(major_to_minor) - len(sizes) + k
        major_to_minor[i] = -(-major_to_minor[i] // t) * t
    elements = 1
    for d in major_to_minor:
        elements *= d
    return (elements * shape.element_bits + 7) // 8
