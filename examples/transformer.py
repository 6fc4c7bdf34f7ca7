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


def init_params(key: jax.Array) -> Params:
    """Randomly initialised parameters: embeddings, N_LAYERS blocks, final layer norm."""
    keys = iter(jax.random.split(key, 2 + 4 * N_LAYERS))

    def dense(shape: tuple[int, int]) -> jax.Array:
        return jax.random.normal(next(keys), shape) * shape[0] ** -0.5

    layers = [
        {
            "ln1": {"scale": jnp.ones(D_MODEL), "bias": jnp.zeros(D_MODEL)},
            "qkv": dense((D_MODEL, 3 * D_MODEL)),
            "proj": dense((D_MODEL, D_MODEL)),
            "ln2": {"scale": jnp.ones(D_MODEL), "bias": jnp.zeros(D_MODEL)},
            "fc": dense((D_MODEL, D_MLP)),
            "out": dense((D_MLP, D_MODEL)),
        }
        for _ in range(N_LAYERS)
    ]
    return {
        "embed": dense((VOCAB, D_MODEL)),
        "pos": dense((SEQ, D_MODEL)),
        "layers": layers,
        "ln_f": {"scale": jnp.ones(D_MODEL), "bias": jnp.zeros(D_MODEL)},
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


def forward(params: Params, tokens: jax.Array) -> jax.Array:
    """Logits (B, T, VOCAB) for input tokens (B, T)."""
    x = params["embed"][tokens] + params["pos"][: tokens.shape[1]]  # (B, T, C)
    for i, layer in enumerate(params["layers"]):
        # named scopes become part of every op_name: `.../layer0/attention/dot_general`
        with jax.named_scope(f"layer{i}"):
            with jax.named_scope("attention"):
                x = x + attention(layer_norm(x, layer["ln1"]), layer)
            with jax.named_scope("mlp"):
                h = jax.nn.gelu(layer_norm(x, layer["ln2"]) @ layer["fc"])  # (B, T, 4C)
                x = x + h @ layer["out"]
    with jax.named_scope("head"):
        return layer_norm(x, params["ln_f"]) @ params["embed"].T  # tied embeddings


def loss_fn(params: Params, tokens: jax.Array) -> jax.Array:
    """Mean next-token cross-entropy; `tokens` is (B, T+1): inputs are [:, :-1], targets [:, 1:]."""
    logits = forward(params, tokens[:, :-1])
    logp = jax.nn.log_softmax(logits, axis=-1)
    targets = tokens[:, 1:]
    return -jnp.take_along_axis(logp, targets[..., None], axis=-1).mean()


def train_step(params: Params, tokens: jax.Array, lr: float = LEARNING_RATE) -> tuple[jax.Array, Params]:
    """One SGD step: (loss before the step, updated parameters)."""
    loss, grads = jax.value_and_grad(loss_fn)(params, tokens)
    new_params = jax.tree.map(lambda p, g: p - lr * g, params, grads)
    return loss, new_params


IRSCOPE_EXAMPLES = {
    # name: (function, positional arguments); the params pytree holds ShapeDtypeStructs, not data.
    "train_step": (
        functools.partial(train_step, lr=LEARNING_RATE),
        [jax.eval_shape(init_params, jax.random.key(0)), f"s32[{BATCH},{SEQ + 1}]"],
    ),
}
