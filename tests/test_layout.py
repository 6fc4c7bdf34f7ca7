"""The layout pass: physical orders, data-moving transposes and copies, and an NCHW convolution."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

from irscope.ir.hlo_parser import parse_module
from irscope.passes.layout import layouts, physical_order

HANDWRITTEN = """HloModule m

fused_t {
  p = f32[8,16,4,4]{3,2,1,0} parameter(0)
  t = f32[8,4,4,16]{2,1,3,0} transpose(p), dimensions={0,2,3,1}
  ROOT c = f32[8,4,4,16]{3,2,1,0} copy(t)
}

fused_add {
  a = f32[8,4,4,16]{3,2,1,0} parameter(0)
  ROOT s = f32[8,4,4,16]{3,2,1,0} add(a, a)
}

ENTRY e {
  x = f32[8,16,4,4]{3,2,1,0} parameter(0)
  y = f32[4,8]{1,0} parameter(1)
  f = f32[8,4,4,16]{3,2,1,0} fusion(x), kind=kLoop, calls=fused_t
  g = f32[8,4,4,16]{3,2,1,0} fusion(f), kind=kLoop, calls=fused_add
  relabel = f32[8,4]{0,1} transpose(y), dimensions={1,0}
  move = f32[8,4]{1,0} transpose(y), dimensions={1,0}
  same = f32[4,8]{1,0} copy(y)
  newlayout = f32[4,8]{0,1} copy(y)
  ROOT r = (f32[8,4,4,16], f32[8,4], f32[8,4], f32[4,8], f32[4,8]) tuple(g, relabel, move, same, newlayout)
}
"""


def test_physical_order_ignores_unit_dims():
    from irscope.ir.hlo import Shape

    assert physical_order(Shape("f32", (8, 3, 32, 32), layout=(1, 3, 2, 0))) == (0, 2, 3, 1)
    assert physical_order(Shape("f32", (1, 16), layout=(0, 1))) == (1,)
    assert physical_order(Shape("f32", (2, 5))) == (0, 1)  # no layout: row-major


def test_handwritten_layout_changes():
    report = layouts(parse_module(HANDWRITTEN))
    by = {k.name: k for k in report.kernels}
    assert (by["f"].layout_change, by["f"].where) == ("copy", "root")
    assert by["f"].inputs == (("f32[8,16,4,4]", "{3,2,1,0}"),)
    assert by["g"].layout_change is None
    # A transpose whose layouts make it a relabelling moves nothing; one that keeps row-major moves data.
    assert by["relabel"].layout_change is None
    assert by["move"].layout_change == "transpose" and by["move"].where == "kernel"
    assert by["same"].layout_change is None
    assert by["newlayout"].layout_change == "copy" and by["newlayout"].outputs == (("f32[4,8]", "{0,1}"),)
    assert {k.name for k in report.layout_kernels} == {"f", "move", "newlayout"}
    assert report.layout_bytes == sum(by[n].bytes for n in ("f", "move", "newlayout")) > 0
    assert 0 < report.layout_share < 1
    assert report.to_json()["schema"] == "irscope.layouts/1"


def _conv_module(fmt: str) -> str:
    kernel = "HWIO" if fmt == "NHWC" else "OIHW"

    def f(x: jax.Array, w: jax.Array) -> jax.Array:
        return jax.nn.relu(lax.conv_general_dilated(x, w, (1, 1), "SAME", dimension_numbers=(fmt, kernel, fmt)))

    if fmt == "NHWC":
        args = (jax.ShapeDtypeStruct((2, 8, 8, 4), jnp.float32), jax.ShapeDtypeStruct((3, 3, 4, 4), jnp.float32))
    else:
        args = (jax.ShapeDtypeStruct((2, 4, 8, 8), jnp.float32), jax.ShapeDtypeStruct((4, 4, 3, 3), jnp.float32))
    return jax.jit(f).lower(*args).compile().as_text() or ""


def test_nchw_convolution_gets_transposes_on_cpu():
    nhwc = layouts(parse_module(_conv_module("NHWC")))
    nchw = layouts(parse_module(_conv_module("NCHW")))
    assert not nhwc.layout_kernels
    # XLA:CPU convolves NHWC: the NCHW input, the OIHW weight and the NCHW result are reordered.
    assert len(nchw.layout_kernels) >= 2
    assert nchw.layout_bytes > 0 and nchw.total_bytes > nhwc.total_bytes
