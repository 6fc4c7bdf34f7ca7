"""One training step of a tiny decoder-only transformer, in plain `jax.numpy`.

    python -m inspect.hlo examples/transformer.py

The step is the whole loop body: embed the tokens, run 2 blocks of (layer norm -> causal multi-head
attention -> residual, layer norm -> GELU MLP -> residual), project to logits, take the cross-entropy
loss, differentiate it with `jax.value_and_grad`, and apply an SGD update. Sizes are small (vocab 256,
width 128, 4 heads, 64 tokens, batch 8) so it compiles in about a second on a CPU.

What you will see: the forward pass, the backward pass and the update compiled into one module, with
about three times as many kernels as the forward pass alone (about 200 against 70 on a CPU). The
matmuls (QKV and output projections, attention scores, MLP, logits, and their transposed twins in the
backward pass) are `kCustom` fusions on a CPU (XLA hands them to its YNNPACK library); the elementwise
work around them (layer norm, softmax, GELU, the loss, and the SGD update `p - lr * g` of every
parameter) is fused into `kLoop` fusions. Source names survive: a kernel's `op_name`
(`jit(train_step)/transpose(jvp(layer1))/mlp/dot_general`) says whether it is forward (`jvp`) or
backward (`transpose(jvp)`) and, through the `jax.named_scope`s below, which layer and which part of
it; a parameter's says which leaf of the dict it is (`params['layers'][0]['qkv']`).

The parameters are one argument, a dict; the `IRSCOPE_EXAMPLES` table gives its shapes with
`jax.eval_shape(init_params, key)`, which traces `init_params` without allocating any weights.
"""

import functools

import jax
import jax.numpy as jnp

VOCAB = 256  # byte-level tokens
D_MODEL = 128
N_HEADS = 4  # head size 32
N_LAYERS = 2
D_MLP = 4 * D_MODEL
SEQ = 64
BATCH = 8
LEARNING_RATE = 1e-2

Params = dict


def init_params(key: jax.Array, *, d_model: int = D_MODEL, n_layers: int = N_LAYERS, seq: int = SEQ,
                vocab: int = VOCAB) -> Params:
    """Randomly initialised parameters: embeddings, `n_layers` blocks, final layer norm.

    The keywords size the model (the case study `irscope figures remat` uses a larger one); the MLP is
    4 x `d_model` wide, and `d_model` must divide by N_HEADS.
    """
    keys = iter(jax.random.split(key, 2 + 4 * n_layers))
    d_mlp = 4 * d_model

    def dense(shape: tuple[int, int]) -> jax.Array:
        return jax.random.normal(next(keys), shape) * shape[0] ** -0.5

    layers = [
        {
            "ln1": {"scale": jnp.ones(d_model), "bias": jnp.zeros(d_model)},
            "qkv": dense((d_model, 3 * d_model)),
            "proj": dense((d_model, d_model)),
            "ln2": {"scale": jnp.ones(d_model), "bias": jnp.zeros(d_model)},
            "fc": dense((d_model, d_mlp)),
            "out": dense((d_mlp, d_model)),
        }
        for _ in range(n_layers)
    ]
    return {
        "embed": dense((vocab, d_model)),
        "pos": dense((seq, d_model)),
        "layers": layers,
        "ln_f": {"scale": jnp.ones(d_model), "bias": jnp.zeros(d_model)},
    }


def layer_norm(x: jax.Array, p: Params) -> jax.Array:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) * jax.lax.rsqrt(var + 1e-5) * p["scale"] + p["bias"]


def attention(x: jax.Array, p: Params) -> jax.Array:
    B, T, C = x.shape
    q, k, v = jnp.split(x @ p["qkv"], 3, axis=-1)  # 3 x (B, T, C)

    def heads(t: jax.Array) -> jax.Array:
        return t.reshape(B, T, N_HEADS, C // N_HEADS).transpose(0, 2, 1, 3)  # (B, nh, T, hs)

    q, k, v = heads(q), heads(k), heads(v)
    scores = q @ k.transpose(0, 1, 3, 2) * (C // N_HEADS) ** -0.5  # (B, nh, T, T)
    causal = jnp.tril(jnp.ones((T, T), dtype=bool))
    scores = jnp.where(causal, scores, -jnp.inf)
    y = jax.nn.softmax(scores, axis=-1) @ v  # (B, nh, T, hs)
    return y.transpose(0, 2, 1, 3).reshape(B, T, C) @ p["proj"]


REMAT = ("none", "dots_saveable", "nothing_saveable", "per_block")
"""Rematerialization choices for `forward` (`jax.checkpoint`): `none`; the whole stack of blocks under one
checkpoint with `jax.checkpoint_policies.dots_saveable` (the backward pass keeps the matmul outputs and
recomputes the rest) or `nothing_saveable` (it keeps nothing and recomputes the whole stack); `per_block`:
each block under its own checkpoint (only each block's input is kept; a block is recomputed just before
its backward pass)."""


def block(x: jax.Array, layer: Params) -> jax.Array:
    """One transformer block: x + attention(ln1(x)), then + MLP(ln2(x)); x is (B, T, C)."""
    with jax.named_scope("attention"):
        x = x + attention(layer_norm(x, layer["ln1"]), layer)
    with jax.named_scope("mlp"):
        h = jax.nn.gelu(layer_norm(x, layer["ln2"]) @ layer["fc"])  # (B, T, 4C)
        return x + h @ layer["out"]


def forward(params: Params, tokens: jax.Array, remat: str = "none") -> jax.Array:
    """Logits (B, T, VOCAB) for input tokens (B, T); `remat` is one of REMAT."""
    if remat not in REMAT:
        raise ValueError(f"unknown remat: {remat!r} (known: {', '.join(REMAT)})")
    one_block = jax.checkpoint(block) if remat == "per_block" else block

    def blocks(x: jax.Array, layers: list[Params]) -> jax.Array:
        for i, layer in enumerate(layers):
            # named scopes become part of every op_name: `.../layer0/attention/dot_general`
            with jax.named_scope(f"layer{i}"):
                x = one_block(x, layer)
        return x

    if remat in ("dots_saveable", "nothing_saveable"):
        blocks = jax.checkpoint(blocks, policy=getattr(jax.checkpoint_policies, remat))
    x = params["embed"][tokens] + params["pos"][: tokens.shape[1]]  # (B, T, C)
    x = blocks(x, params["layers"])
    with jax.named_scope("head"):
        return layer_norm(x, params["ln_f"]) @ params["embed"].T  # tied embeddings


def loss_fn(params: Params, tokens: jax.Array, remat: str = "none") -> jax.Array:
    """Mean next-token cross-entropy; `tokens` is (B, T+1): inputs are [:, :-1], targets [:, 1:]."""
    logits = forward(params, tokens[:, :-1], remat)
    logp = jax.nn.log_softmax(logits, axis=-1)
    targets = tokens[:, 1:]
    return -jnp.take_along_axis(logp, targets[..., None], axis=-1).mean()


def train_step(params: Params, tokens: jax.Array, lr: float = LEARNING_RATE,
               remat: str = "none") -> tuple[jax.Array, Params]:
    """One SGD step: (loss before the step, updated parameters); `remat` is one of REMAT."""
    loss, grads = jax.value_and_grad(loss_fn)(params, tokens, remat)
    new_params = jax.tree.map(lambda p, g: p - lr * g, params, grads)
    return loss, new_params


IRSCOPE_EXAMPLES = {
    # name: (function, positional arguments); the params pytree holds ShapeDtypeStructs, not data.
    "train_step": (
        functools.partial(train_step, lr=LEARNING_RATE),
        [jax.eval_shape(init_params, jax.random.key(0)), f"s32[{BATCH},{SEQ + 1}]"],
    ),
}
