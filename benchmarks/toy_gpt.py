"""A toy GPT training step, Python-unrolled over its layers: the benchmark's large module.

`train_step_hlo(layers)` lowers and compiles it on the CPU and returns the optimized HLO text.
The text, not the timing, is what the parser benchmark needs; XLA's compile of 12 layers takes
tens of seconds here, so the benchmark caches the text under benchmarks/.cache/.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

D, HEADS, SEQ, BATCH, VOCAB = 128, 4, 64, 4, 512


def _init(layers: int):
    key = jax.random.PRNGKey(0)
    ks = iter(jax.random.split(key, 8 * layers + 4))
    p = {"emb": jax.random.normal(next(ks), (VOCAB, D)) * 0.02, "layers": []}
    for _ in range(layers):
        p["layers"].append({
            "ln1": jnp.ones((D,)), "ln2": jnp.ones((D,)),
            "wqkv": jax.random.normal(next(ks), (D, 3 * D)) * 0.02,
            "wo": jax.random.normal(next(ks), (D, D)) * 0.02,
            "w1": jax.random.normal(next(ks), (D, 4 * D)) * 0.02,
            "w2": jax.random.normal(next(ks), (4 * D, D)) * 0.02,
        })
    return p


def _ln(x, g):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) * jax.lax.rsqrt(var + 1e-5) * g


def _forward(p, tokens):
    x = p["emb"][tokens]  # (B, T, D)
    mask = jnp.tril(jnp.ones((SEQ, SEQ), bool))
    for layer in p["layers"]:
        h = _ln(x, layer["ln1"])
        q, k, v = jnp.split(h @ layer["wqkv"], 3, axis=-1)
        q, k, v = (t.reshape(BATCH, SEQ, HEADS, D // HEADS) for t in (q, k, v))
        att = jnp.einsum("bqhd,bkhd->bhqk", q, k) / (D // HEADS) ** 0.5
        att = jax.nn.softmax(jnp.where(mask, att, -1e9), axis=-1)
        o = jnp.einsum("bhqk,bkhd->bqhd", att, v).reshape(BATCH, SEQ, D)
        x = x + o @ layer["wo"]
        x = x + jax.nn.gelu(_ln(x, layer["ln2"]) @ layer["w1"]) @ layer["w2"]
    return x @ p["emb"].T


def _loss(p, tokens):
    logits = _forward(p, tokens[:, :-1])
    logp = jax.nn.log_softmax(logits[:, :SEQ - 1])
    return -jnp.take_along_axis(logp, tokens[:, 1:SEQ, None], axis=-1).mean()


def train_step(p, tokens):
    loss, grads = jax.value_and_grad(_loss)(p, tokens)
    return loss, jax.tree.map(lambda a, g: a - 1e-3 * g, p, grads)


def lowered(layers: int):
    p = _init(layers)
    tokens = jnp.zeros((BATCH, SEQ + 1), jnp.int32)
    return jax.jit(train_step).lower(p, tokens)


def train_step_hlo(layers: int, optimized: bool = True) -> str:
    lo = lowered(layers)
    return lo.compile().as_text() if optimized else lo.as_text(dialect="hlo")
