"""XLA:TPU's byte counts: irscope's totals on TPU-compiled modules equal the TPU compiler's
`cost_analysis()['bytes accessed']`.

XLA:TPU's cost analysis is closed source; the conventions (`irscope.passes.cost.tpu_shape_bytes`,
`_tpu_gather`) were inferred from its figures. The corpus tests (tests/data/targets/, written by
tools/target_corpus.py) need no extra; the live tests compile programs that were not used to tune the
rules and are skipped without the `tpu` extra.
"""

from __future__ import annotations

import json
from pathlib import Path

import jax
import jax.numpy as jnp
import pytest

from irscope.frontends import targets as T
from irscope.ir.hlo_parser import parse_module
from irscope.ir.layout import tiled_byte_size, tiled_dims
from irscope.passes.cost import module_cost, shape_bytes, tpu_shape_bytes

CORPUS = Path(__file__).resolve().parent / "data" / "targets"
TPU_MODULES = sorted(p.stem for p in CORPUS.glob("*.hlo") if ".tpu-" in p.name)

# Modules whose bytes still differ, with irscope / compiler as measured (tools/target_corpus.py --table).
KNOWN_GAPS: dict[str, float] = {}

needs_tpu = pytest.mark.skipif(not T.extra_installed(T.CHIPS["tpu-v5e"]),
                               reason="XLA:TPU is not installed: pip install 'irscope[tpu]'")


def _shape(text: str):
    return parse_module(f"HloModule m\nENTRY e {{\n  ROOT p = {text} parameter(0)\n}}\n").entry.root.shape


@pytest.mark.parametrize("name", TPU_MODULES)
def test_tpu_corpus_bytes_equal_the_compilers(name):
    record = json.loads((CORPUS / f"{name}.json").read_text())
    ours = module_cost(parse_module((CORPUS / f"{name}.hlo").read_text())).totals.bytes_accessed
    theirs = record["cost_analysis"]["bytes accessed"]
    if name in KNOWN_GAPS:
        assert round(ours / theirs, 3) == KNOWN_GAPS[name]
    else:
        assert ours == theirs


def test_the_corpus_has_the_tpu_modules():
    assert len(TPU_MODULES) >= 11 and "transformer_step.tpu-v5e" in TPU_MODULES


@pytest.mark.parametrize(("text", "dims", "size"), [
    ("f32[100,100]{1,0:T(8,128)}", (104, 128), 104 * 128 * 4),
    ("f32[512,1024]{1,0:T(8,128)S(1)}", (512, 1024), 512 * 1024 * 4),   # VMEM counts the same
    ("f32[1024,64]{0,1:T(8,128)}", (1024, 64), 64 * 1024 * 4),          # the minor dimension is 0
    ("f32[]{:T(128)}", (), 512),                                          # a scalar is a 128-lane tile
    ("f32[8]{0:T(128)}", (128,), 512),
    ("bf16[3,5]{1,0:T(8,128)(2,1)}", (8, 128), 8 * 128 * 2),              # the second tile packs only
    ("f32[100,100]{1,0}", (100, 100), 40000),                             # untiled: unchanged
])
def test_tiled_sizes(text, dims, size):
    shape = _shape(text)
    assert tiled_dims(shape) == dims
    assert tiled_byte_size(shape) == size == shape_bytes(shape)


def test_tpu_sizes_apply_only_to_tpu_shapes():
    assert tpu_shape_bytes(_shape("(f32[8]{0:T(128)}, f32[8]{0:T(128)}, u32[]{:S(2)})")) == 512
    assert tpu_shape_bytes(_shape("u32[]{:S(2)}")) == 4096
    for cpu in ("(f32[8]{0}, f32[8]{0})", "f32[8,3]{1,0}", "f32[]"):
        assert tpu_shape_bytes(_shape(cpu)) is None
    assert shape_bytes(_shape("(f32[8]{0}, f32[8]{0}, s32[])")) == 24  # XLA:CPU's pointer table


S = jax.ShapeDtypeStruct
F32, I32, BF16 = jnp.float32, jnp.int32, jnp.bfloat16

# Programs the rules were not tuned on (odd shapes, other dtypes, other ops), compiled live.
LIVE = {
    "odd_layer_norm": (lambda x: (x - x.mean(-1, keepdims=True)) / (x.std(-1, keepdims=True) + 1e-5),
                       [S((33, 777), F32)]),
    "bf16_mlp": (lambda x, w1, w2: jax.nn.relu(x @ w1) @ w2,
                 [S((128, 384), BF16), S((384, 1000), BF16), S((1000, 256), BF16)]),
    "conv": (lambda x, w: jax.lax.conv(x, w, (1, 1), "SAME"), [S((8, 16, 32, 32), F32), S((32, 16, 3, 3), F32)]),
    "argmax": (lambda x: jnp.argmax(x, 1), [S((256, 512), F32)]),
    "fori": (lambda x: jax.lax.fori_loop(0, 7, lambda i, c: (c[0] * 1.01 + i, c[1] + 1.0), (x, x.sum())),
             [S((64, 256), F32)]),
    # lax.scan: XLA:TPU reserves the stacked output with an AllocateBuffer custom call.
    "scan": (lambda x: jax.lax.scan(lambda c, r: (jnp.tanh(c @ r), c.sum()), x[0], x)[1], [S((16, 32, 32), F32)]),
    "cumsum": (lambda x: jnp.cumsum(x, 0), [S((300, 70), F32)]),
    "int8": (lambda x: (x.astype(jnp.int8) * 3).astype(F32), [S((100, 300), F32)]),
    "gather_elements": (lambda x, i, j: x[i, j], [S((64, 1024), F32), S((100,), I32), S((100,), I32)]),
    "gather_blocks": (lambda x, i: x[i], [S((16, 24, 300), F32), S((40,), I32)]),
    "take_along_axis": (lambda x, i: jnp.take_along_axis(x, i[..., None], axis=-1),
                        [S((4, 32, 200), F32), S((4, 32), I32)]),
    "scatter_rows": (lambda x, i, u: x.at[i].add(u), [S((1000, 96), F32), S((77,), I32), S((77, 96), F32)]),
    # More update rows than the operand has: the windows overlap, and XLA:TPU counts each one.
    "scatter_overlapping": (lambda x, i, u: x.at[i].add(u), [S((64, 200), F32), S((300,), I32), S((300, 200), F32)]),
}


@needs_tpu
@pytest.mark.parametrize("name", sorted(LIVE))
def test_live_tpu_bytes_equal_the_compilers(name):
    fn, args = LIVE[name]
    compiled = T.compile_for_target(fn, args, "tpu-v5e")
    ours = module_cost(parse_module(compiled.hlo_text)).totals
    assert ours.bytes_accessed == compiled.cost_analysis["bytes accessed"]
    assert ours.flops == compiled.cost_analysis["flops"]
