"""Small JAX programs that exercise XLA's features, lowered in-process for parser tests."""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
from jax import lax

f32 = jnp.float32


def _mlp(x, w1, w2):
    return jax.nn.gelu(x @ w1) @ w2


def _fori(x):
    return lax.fori_loop(0, 8, lambda i, c: jnp.sin(c) * 1.5 + i, x)


def _scan(xs):
    return lax.scan(lambda c, x: (c * 0.9 + x, c.sum()), jnp.zeros(xs.shape[1:]), xs)


def _switch(i, x):
    return lax.switch(i, [jnp.sin, jnp.cos, lambda v: v * 2.0], x)


def _sort_topk(x):
    return jnp.sort(x, axis=-1), lax.top_k(x, 4)


def _gather_scatter(x, idx):
    return x[idx].sum(), x.at[idx].add(1.0)


def _conv(x, w):
    y = lax.conv_general_dilated(x, w, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))
    return lax.reduce_window(y, -jnp.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")


def _dus(x, u, i):
    return lax.dynamic_update_slice(x, u, (i, 0))


def _rng(key):
    return jax.random.normal(key, (64, 64))


def _fft(x):
    return jnp.fft.rfft(x).real


def _cumsum(x):
    return jnp.cumsum(x, axis=0)


def _bf16_int8(a, b, c, d):
    return (a @ b).astype(f32), lax.dot(c, d, preferred_element_type=jnp.int32)


PROGRAMS: dict[str, tuple[Callable, tuple]] = {
    "mlp": (_mlp, (jnp.ones((32, 64)), jnp.ones((64, 128)), jnp.ones((128, 16)))),
    "fori": (_fori, (jnp.ones((128,)),)),
    "scan": (_scan, (jnp.ones((6, 16)),)),
    "switch": (_switch, (jnp.int32(1), jnp.ones((16,)))),
    "sort_topk": (_sort_topk, (jnp.ones((8, 32)),)),
    "gather_scatter": (_gather_scatter, (jnp.ones((32, 8)), jnp.arange(4))),
    "conv": (_conv, (jnp.ones((2, 16, 16, 3)), jnp.ones((3, 3, 3, 8)))),
    "dus": (_dus, (jnp.ones((16, 8)), jnp.ones((2, 8)), jnp.int32(3))),
    "rng": (_rng, (jax.random.PRNGKey(0),)),
    "fft": (_fft, (jnp.ones((4, 32)),)),
    "cumsum": (_cumsum, (jnp.ones((64, 4)),)),
    "bf16_int8": (
        _bf16_int8,
        (jnp.ones((16, 32), jnp.bfloat16), jnp.ones((32, 8), jnp.bfloat16),
         jnp.ones((16, 32), jnp.int8), jnp.ones((32, 8), jnp.int8)),
    ),
}


def texts(name: str) -> tuple[str, str]:
    """(pre-optimization HLO, optimized HLO) of one program."""
    fn, args = PROGRAMS[name]
    lowered = jax.jit(fn).lower(*args)
    return lowered.as_text(dialect="hlo"), lowered.compile().as_text()
