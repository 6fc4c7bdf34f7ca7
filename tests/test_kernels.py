"""Every Pallas kernel against its plain-jnp reference: dtypes, odd shapes, refused shapes.

`TestKernels` compiles the kernels for the backend and runs only where there is a GPU (the kernels
are written for Pallas's Triton backend); `TestKernelsInterpret` runs the same suite in interpret
mode, on any machine. Shapes are small and chosen so that blocks overhang the arrays along every
dimension: interpret mode pads an overhanging block with NaN, so a missing mask fails loudly.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from irscope.kernels import KernelShapeError
from irscope.kernels import flash_attention as fa_module
from irscope.kernels import gelu as gelu_module
from irscope.kernels import layer_norm as ln_module
from irscope.kernels import matmul as mm_module
from irscope.kernels import softmax as sm_module
from irscope.kernels import swish as swish_module
from irscope.kernels.common import MAX_ROW_BLOCK
from irscope.kernels.flash_attention import flash_attention, flash_attention_reference
from irscope.kernels.gelu import gelu, gelu_reference
from irscope.kernels.layer_norm import layer_norm, layer_norm_reference
from irscope.kernels.matmul import matmul_bias_act, matmul_bias_act_reference
from irscope.kernels.softmax import softmax, softmax_reference
from irscope.kernels.swish import swish, swish_reference

# kernel -> (numpy dtype name -> max abs error): the tolerance tables the kernels publish, which the
# harness reports beside each error.
TOLERANCE: dict[str, dict[str, float]] = {
    "gelu": gelu_module.TOLERANCE,
    "swish": swish_module.TOLERANCE,
    "softmax": sm_module.TOLERANCE,
    "layer_norm": ln_module.TOLERANCE,
    "matmul": mm_module.TOLERANCE,
    "flash_attention": fa_module.TOLERANCE,
}


def normal(seed: int, shape: tuple[int, ...], dtype: jnp.dtype, scale: float = 1.0) -> jax.Array:
    # numpy draws and numpy error checks: no XLA compilation per shape beyond the kernels' own.
    x = np.random.default_rng(seed).standard_normal(shape, dtype=np.float32) * np.float32(scale)
    return jnp.asarray(x.astype(dtype))


def max_error(got: jax.Array, want: jax.Array) -> float:
    assert got.shape == want.shape and got.dtype == want.dtype
    got32, want32 = np.asarray(got).astype(np.float32), np.asarray(want).astype(np.float32)
    assert np.all(np.isfinite(got32)), "NaN or inf in the output: an overhanging block was not masked"
    return float(np.max(np.abs(got32 - want32))) if got32.size else 0.0


def reference(fn: Callable, *args: jax.Array, **kwargs: object) -> jax.Array:
    """The reference, jitted (one compilation instead of one per op)."""
    return jax.jit(functools.partial(fn, **kwargs))(*args)


def tolerance(kernel: str, dtype: jnp.dtype) -> float:
    return TOLERANCE[kernel][np.dtype(dtype).name]


class TestKernels:
    INTERPRET = False

    @pytest.fixture(autouse=True)
    def _needs_backend(self) -> None:
        if not self.INTERPRET and jax.default_backend() != "gpu":
            pytest.skip("compiled Pallas kernels need a GPU (TestKernelsInterpret runs them here)")

    # -- element-wise -------------------------------------------------------------------------------

    @pytest.mark.parametrize(("shape", "dtype"), [((8, 128), jnp.float32), ((2, 3, 37), jnp.float32),
                                                  ((13, 300), jnp.bfloat16), ((5,), jnp.bfloat16)])
    @pytest.mark.parametrize(("name", "fn", "ref"), [("gelu", gelu, gelu_reference),
                                                      ("swish", swish, swish_reference)])
    def test_elementwise(self, name: str, fn: Callable, ref: Callable, shape: tuple[int, ...],
                         dtype: jnp.dtype) -> None:
        x = normal(0, shape, dtype, 3.0)
        assert max_error(fn(x, interpret=self.INTERPRET), reference(ref, x)) <= tolerance(name, dtype)

    def test_elementwise_blocks_are_keywords(self) -> None:
        # Many small blocks, overhanging in both dimensions.
        x = normal(1, (13, 300), jnp.float32)
        got = gelu(x, block_rows=4, block_cols=128, interpret=self.INTERPRET)
        assert max_error(got, reference(gelu_reference, x)) <= tolerance("gelu", jnp.float32)

    # -- row kernels --------------------------------------------------------------------------------

    @pytest.mark.parametrize(("shape", "dtype"), [((16, 256), jnp.float32), ((2, 5, 33), jnp.float32),
                                                  ((37, 100), jnp.bfloat16), ((3, 1), jnp.bfloat16)])
    def test_softmax(self, shape: tuple[int, ...], dtype: jnp.dtype) -> None:
        x = normal(2, shape, dtype, 4.0)
        assert max_error(softmax(x, interpret=self.INTERPRET), reference(softmax_reference, x)) <= tolerance("softmax", dtype)

    def test_softmax_of_large_logits_is_stable(self) -> None:
        x = jnp.array([[1000.0, 1000.0, -1000.0], [-1e30, 0.0, 1e30]], jnp.float32)
        got = softmax(x, interpret=self.INTERPRET)
        np.testing.assert_allclose(np.asarray(got), [[0.5, 0.5, 0.0], [0.0, 0.0, 1.0]], atol=1e-7)

    @pytest.mark.parametrize(("shape", "dtype"), [((16, 256), jnp.float32), ((2, 5, 33), jnp.float32),
                                                  ((37, 100), jnp.bfloat16)])
    def test_layer_norm(self, shape: tuple[int, ...], dtype: jnp.dtype) -> None:
        x = jnp.asarray(np.asarray(normal(3, shape, dtype)) + 2)  # an offset, so a wrong mean shows
        gamma, beta = normal(4, shape[-1:], dtype), normal(5, shape[-1:], dtype)
        got = layer_norm(x, gamma, beta, interpret=self.INTERPRET)
        assert max_error(got, reference(layer_norm_reference, x, gamma, beta)) <= tolerance("layer_norm", dtype)

    def test_row_blocks_are_keywords(self) -> None:
        x = normal(6, (37, 100), jnp.float32)
        got = softmax(x, block_rows=8, interpret=self.INTERPRET)
        assert max_error(got, reference(softmax_reference, x)) <= tolerance("softmax", jnp.float32)

    # -- matmul + epilogue --------------------------------------------------------------------------

    @pytest.mark.parametrize(("m", "k", "n", "dtype"), [(64, 64, 64, jnp.bfloat16), (37, 300, 70, jnp.float32)])
    def test_matmul_bias_gelu(self, m: int, k: int, n: int, dtype: jnp.dtype) -> None:
        x, w, b = normal(7, (m, k), dtype), normal(8, (k, n), dtype, 1 / math.sqrt(k)), normal(9, (n,), dtype)
        got = matmul_bias_act(x, w, b, interpret=self.INTERPRET)
        assert max_error(got, reference(matmul_bias_act_reference, x, w, b)) <= tolerance("matmul", dtype)

    @pytest.mark.parametrize("activation", ["relu", "swish"])
    def test_matmul_activations_and_blocks(self, activation: str) -> None:
        x, w, b = normal(10, (40, 50), jnp.float32), normal(11, (50, 33), jnp.float32, 0.2), normal(12, (33,), jnp.float32)
        got = matmul_bias_act(x, w, b, activation=activation, block_m=16, block_n=16, block_k=16,
                              interpret=self.INTERPRET)
        want = reference(matmul_bias_act_reference, x, w, b, activation=activation)
        assert max_error(got, want) <= tolerance("matmul", jnp.float32)

    # -- flash attention ----------------------------------------------------------------------------

    @pytest.mark.parametrize(("b", "t", "s", "d", "dtype"), [(2, 32, 32, 32, jnp.bfloat16),
                                                             (2, 37, 45, 40, jnp.float32)])
    def test_flash_attention(self, b: int, t: int, s: int, d: int, dtype: jnp.dtype) -> None:
        q, k, v = normal(13, (b, t, d), dtype), normal(14, (b, s, d), dtype), normal(15, (b, s, d), dtype)
        got = flash_attention(q, k, v, block_q=16, block_k=16, interpret=self.INTERPRET)
        assert max_error(got, reference(flash_attention_reference, q, k, v)) <= tolerance("flash_attention", dtype)

    # -- what is refused ----------------------------------------------------------------------------

    def test_unsupported_shapes_are_refused_with_the_reason(self) -> None:
        f32 = jnp.float32
        cases: list[tuple[Callable[[], object], str]] = [
            (lambda: softmax(jnp.zeros((2, MAX_ROW_BLOCK + 1), f32), interpret=True), "do not fit one block"),
            (lambda: layer_norm(jnp.zeros((2, 8), f32), jnp.zeros(7, f32), jnp.zeros(8, f32), interpret=True),
             "gamma and beta must have shape"),
            (lambda: gelu(jnp.zeros((4, 4), f32), block_cols=100, interpret=True), "power of two"),
            (lambda: gelu(jnp.zeros((4, 4), jnp.int32), interpret=True), "floating-point"),
            (lambda: matmul_bias_act(jnp.zeros((4, 5), f32), jnp.zeros((6, 3), f32), jnp.zeros(3, f32),
                                     interpret=True), "expected x (M, K)"),
            (lambda: matmul_bias_act(jnp.zeros((4, 5), f32), jnp.zeros((5, 3), f32), jnp.zeros(3, f32),
                                     block_k=8, interpret=True), ">= 16"),
            (lambda: matmul_bias_act(jnp.zeros((4, 5), f32), jnp.zeros((5, 3), f32), jnp.zeros(3, f32),
                                     activation="tanh", interpret=True), "unknown activation"),
            (lambda: flash_attention(*(jnp.zeros((1, 8, 300), f32),) * 3, interpret=True), "head dim 300"),
            (lambda: flash_attention(jnp.zeros((1, 8, 16), f32), jnp.zeros((1, 8, 32), f32),
                                     jnp.zeros((1, 8, 32), f32), interpret=True), "expected q (B, T, D)"),
        ]
        for call, message in cases:
            with pytest.raises(KernelShapeError, match=message.replace("(", r"\(").replace(")", r"\)")):
                call()

    def test_empty_arrays_pass_through(self) -> None:
        x = jnp.zeros((0, 7), jnp.float32)
        assert gelu(x, interpret=self.INTERPRET).shape == (0, 7)
        assert softmax(x, interpret=self.INTERPRET).shape == (0, 7)


class TestKernelsInterpret(TestKernels):
    INTERPRET = True


def test_references_match_jax() -> None:
    # The plain-jnp references are what every kernel is held to: check them against jax.nn once.
    x = normal(20, (7, 50), jnp.float32, 3.0)
    np.testing.assert_allclose(gelu_reference(x), jax.nn.gelu(x, approximate=True), atol=1e-6)
    np.testing.assert_allclose(swish_reference(x), jax.nn.silu(x), atol=1e-6)
    np.testing.assert_allclose(softmax_reference(x), jax.nn.softmax(x, axis=-1), atol=1e-7)
    g, b = normal(21, (50,), jnp.float32), normal(22, (50,), jnp.float32)
    want = (x - x.mean(-1, keepdims=True)) / jnp.sqrt(x.var(-1, keepdims=True) + 1e-5) * g + b
    np.testing.assert_allclose(layer_norm_reference(x, g, b), want, atol=1e-5)
    q, k, v = normal(23, (2, 9, 16), jnp.float32), normal(24, (2, 11, 16), jnp.float32), normal(25, (2, 11, 16), jnp.float32)
    want = jax.nn.dot_product_attention(q[:, :, None], k[:, :, None], v[:, :, None])[:, :, 0]
    np.testing.assert_allclose(flash_attention_reference(q, k, v), want, atol=1e-5)
