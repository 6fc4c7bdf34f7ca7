"""Static analysis of Pallas kernels: bytes from grids and BlockSpecs, and Pallas kernels found in HLO.

The traffic tests only trace (`jax.make_jaxpr`), nothing is compiled; the HLO tests compile a few
small programs for the CPU, where `pallas_call(..., interpret=True)` becomes a while loop.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
import pytest
from jax.experimental import pallas as pl

from irscope.hw import get_chip
from irscope.ir.hlo_parser import parse_module
from irscope.kernels.flash_attention import flash_attention
from irscope.kernels.gelu import gelu
from irscope.kernels.layer_norm import layer_norm, layer_norm_reference
from irscope.kernels.matmul import matmul_bias_act, matmul_blocks
from irscope.kernels.softmax import softmax
from irscope.kernels.static import UnsupportedPallasCall, pallas_traffic
from irscope.passes.cost import module_cost
from irscope.passes.fusion import find_kernels
from irscope.passes.report import analyze

F32 = jnp.float32


def spec(*shape: int, dtype: jnp.dtype = F32) -> jax.ShapeDtypeStruct:
    return jax.ShapeDtypeStruct(shape, dtype)


def interpreted(fn: Callable) -> Callable:
    return lambda *args: fn(*args, interpret=True)


# -- bytes from the grid and BlockSpecs ------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(256, 1024), (13, 300), (7,)])
def test_an_elementwise_kernel_moves_its_arrays_once(shape: tuple[int, ...]) -> None:
    [t] = pallas_traffic(interpreted(gelu), spec(*shape))
    nbytes = math.prod(shape) * 4
    # Overhanging edge blocks count only their in-bounds part.
    assert (t.bytes_read, t.bytes_written, t.bytes_accessed_no_reuse) == (nbytes, nbytes, 2 * nbytes)
    assert t.array_bytes == 2 * nbytes and t.name == "pallas_gelu"


def test_bf16_counts_two_bytes_an_element() -> None:
    [t] = pallas_traffic(interpreted(softmax), spec(64, 100, dtype=jnp.bfloat16))
    assert t.bytes_accessed == 2 * 64 * 100 * 2


def test_matmul_blocks_reused_by_the_next_step_move_once() -> None:
    m, k, n = 512, 256, 384
    [t] = pallas_traffic(interpreted(matmul_bias_act), spec(m, k), spec(k, n), spec(n))
    bm, bn, _ = matmul_blocks(m, n, k, F32)
    rows, cols = m // bm, n // bn
    assert t.grid == (rows, cols)
    x, w, b, out = t.blocks
    # The grid runs j fastest: x's block (i, 0) stays for a whole row of steps, so it moves once per i.
    assert (x.moves, x.bytes, x.bytes_no_reuse) == (rows, m * k * 4, m * k * 4 * cols)
    # w's and b's blocks change every step: read once per row of output blocks.
    assert (w.moves, w.bytes) == (rows * cols, k * n * 4 * rows)
    assert b.bytes == n * 4 * rows
    assert (out.role, out.bytes) == ("output", m * n * 4)


def test_flash_attention_reads_k_and_v_once_per_query_block_without_reuse() -> None:
    b, t_len, d = 4, 1024, 64
    [t] = pallas_traffic(lambda q, k, v: flash_attention(q, k, v, block_q=64, interpret=True),
                         *[spec(b, t_len, d)] * 3)
    array = b * t_len * d * 4
    assert t.bytes_accessed == 4 * array  # q, k, v and the output, once each
    assert t.bytes_accessed_no_reuse == 2 * array + 2 * array * (t_len // 64)


def test_an_output_block_revisited_by_consecutive_steps_is_written_once() -> None:
    def kernel(x_ref, o_ref):  # noqa: ANN001 (Pallas refs)
        o_ref[...] = x_ref[...]

    def f(x):
        return pl.pallas_call(kernel, out_shape=jax.ShapeDtypeStruct((16, 32), F32), grid=(2, 3),
                              in_specs=[pl.BlockSpec((8, 32), lambda i, j: (i, j))],
                              out_specs=pl.BlockSpec((8, 32), lambda i, j: (i, 0)), interpret=True)(x)

    [t] = pallas_traffic(f, spec(16, 96))
    x, out = t.blocks
    assert (x.moves, x.bytes) == (6, 16 * 96 * 4)
    assert (out.moves, out.bytes, out.bytes_no_reuse) == (2, 16 * 32 * 4, 3 * 16 * 32 * 4)


def test_calls_are_found_inside_vmap_and_jit() -> None:
    calls = pallas_traffic(jax.jit(jax.vmap(interpreted(gelu))), spec(3, 64, 64))
    assert len(calls) == 1 and calls[0].grid[0] == 3 and calls[0].bytes_accessed == 2 * 3 * 64 * 64 * 4
    both = pallas_traffic(lambda x: softmax(gelu(x, interpret=True), interpret=True), spec(8, 128))
    assert [c.name for c in both] == ["pallas_gelu", "pallas_softmax"]


def test_scalar_prefetch_index_maps_are_not_analysed() -> None:
    from jax.experimental.pallas import tpu as pltpu

    def kernel(s_ref, x_ref, o_ref):  # noqa: ANN001 (Pallas refs)
        o_ref[...] = x_ref[...]

    def f(s, x):
        grid_spec = pltpu.PrefetchScalarGridSpec(
            num_scalar_prefetch=1, grid=(2,), in_specs=[pl.BlockSpec((8, 128), lambda i, s: (s[i], 0))],
            out_specs=pl.BlockSpec((8, 128), lambda i, s: (i, 0)))
        return pl.pallas_call(kernel, out_shape=jax.ShapeDtypeStruct((16, 128), F32), grid_spec=grid_spec,
                              interpret=True)(s, x)

    with pytest.raises(UnsupportedPallasCall, match="scalar-prefetch"):
        pallas_traffic(f, spec(2, dtype=jnp.int32), spec(16, 128))


def test_layer_norm_case_study_xla_reads_x_three_times() -> None:
    # The README's case study: XLA:CPU computes the mean and the variance in kernels of their own.
    shape = (1024, 1024)
    args = (spec(*shape), spec(shape[1]), spec(shape[1]))
    [t] = pallas_traffic(interpreted(layer_norm), *args)
    x_bytes = math.prod(shape) * 4
    assert t.bytes_accessed == 2 * x_bytes + 2 * shape[1] * 4
    cost = module_cost(parse_module(jax.jit(layer_norm_reference).lower(*args).compile().as_text()))
    assert cost.totals.bytes_accessed >= 2.9 * t.bytes_accessed


# -- Pallas kernels in HLO ------------------------------------------------------------------------------


def _tanh_kernel(x_ref, o_ref):  # noqa: ANN001 (Pallas refs)
    o_ref[...] = jnp.tanh(x_ref[...]) + 1.0


def _tanh_call(x: jax.Array, block_rows: int, name: str | None) -> jax.Array:
    block = pl.BlockSpec((block_rows, x.shape[1]), lambda i: (i, 0))
    return pl.pallas_call(_tanh_kernel, out_shape=jax.ShapeDtypeStruct(x.shape, x.dtype),
                          grid=(pl.cdiv(x.shape[0], block_rows),), in_specs=[block], out_specs=block,
                          interpret=True, name=name)(x)


def _kernels(fn: Callable, *args: jax.Array, optimized: bool = True) -> list:
    lowered = jax.jit(fn).lower(*args)
    text = lowered.compile().as_text() if optimized else lowered.as_text(dialect="hlo")
    return find_kernels(parse_module(text))


@pytest.mark.parametrize("name", [None, "pallas_tanh"])
@pytest.mark.parametrize("optimized", [True, False])
def test_the_grid_loop_is_one_pallas_kernel(name: str | None, optimized: bool) -> None:
    x = jnp.ones((12, 128), F32)  # three steps, the last block overhanging
    kernels = _kernels(lambda x: jnp.sin(_tanh_call(x, 5, name)), x, optimized=optimized)
    [loop] = [k for k in kernels if k.opcode == "while"]
    assert loop.kind == "pallas" and loop.fused_computation
    assert {"tanh", "dynamic-slice", "dynamic-update-slice"} <= set(loop.ops)
    assert not [k for k in kernels if loop.name in k.path], "nothing inside the grid loop is listed on its own"
    sine = [k for k in kernels if "sine" in k.ops]
    assert sine and all(k.kind != "pallas" for k in sine), "XLA's own op after the kernel stays XLA's"


def test_a_named_one_step_grid_inlined_by_xla_is_still_pallas() -> None:
    kernels = _kernels(lambda x: _tanh_call(x, 8, "pallas_tanh"), jnp.ones((8, 128), F32))
    assert not [k for k in kernels if k.opcode == "while"], "XLA inlines a one-trip loop"
    assert [k.kind for k in kernels if "tanh" in k.ops] == ["pallas"]


def test_loops_that_are_not_pallas_stay_loops() -> None:
    x = jnp.ones((8, 128), F32)

    def fori(x):  # writes rows of a zero-filled array in a loop, as a grid loop writes blocks
        return jax.lax.fori_loop(0, 8, lambda i, acc: acc.at[i].set(jnp.sin(x[i])), jnp.zeros_like(x))

    def nan_filled(x):  # NaN-filled, but no grid index in the loop state
        return jax.lax.fori_loop(0, 8, lambda i, acc: acc.at[i].set(jnp.sin(x[i])), jnp.full_like(x, jnp.nan))

    def scan(x):
        return jax.lax.scan(lambda c, row: (c, jnp.sin(row)), 0.0, x)[1]

    for fn in (fori, nan_filled, scan):
        kernels = _kernels(fn, x)
        assert all(k.kind != "pallas" for k in kernels), fn.__name__
        assert any(k.path for k in kernels), "the loop body's kernels are listed"


def test_a_pallas_kernel_inside_a_scan_is_found_in_the_body() -> None:
    def f(xs):
        return jax.lax.scan(lambda c, x: (c, gelu(x, block_rows=2, interpret=True)), 0.0, xs)[1]

    kernels = _kernels(f, jnp.ones((3, 8, 128), F32))
    [inner] = [k for k in kernels if k.kind == "pallas" and k.opcode == "while"]
    assert len(inner.path) == 1, "listed where it runs: inside the scan's loop"


def test_the_hlo_report_shows_the_kernel() -> None:
    lowered = jax.jit(lambda x: softmax(x, interpret=True)).lower(jnp.ones((300, 200), F32))
    report = analyze(parse_module(lowered.compile().as_text()), get_chip("h100"))
    doc = report.to_json()
    pallas = [k for k in doc["kernels"] if k["kind"] == "pallas"]
    assert any(k["name"].startswith("while") for k in pallas)
    assert "pallas" in report.to_text()
