"""A three-layer MLP forward pass: the smallest model worth looking at.

    python -m inspect.hlo examples/mlp.py

Batch 256, widths 512 -> 1024 -> 1024 -> 10, float32, ReLU between layers. What you will see on a CPU:
six kernels. Each matrix multiply becomes one `kCustom` fusion (`ynn_fusion`: XLA:CPU hands the dot to
its YNNPACK library), and the bias add and ReLU after it become one `kLoop` fusion
(`broadcast_maximum_fusion`: broadcast + add + max in one pass), so the 256x1024 activations are read
and written once per layer instead of once per elementwise op. The matmuls are nearly all of the
0.81 GFLOP (2*256*(512*1024 + 1024*1024 + 1024*10)); of the 15 MB of memory traffic XLA counts,
6.3 MB is reading the weights. On a GPU the bias and ReLU may instead fuse into the matmul's epilogue.

The `IRSCOPE_EXAMPLES` table at the bottom is the convention that lets `inspect.hlo` run this file with
no flags: a name -> (function, argument shapes). The weights are arguments, not globals, so they appear
as HLO parameters; a closed-over array would be baked into the HLO as a constant.
To try other shapes: `python -m inspect.hlo examples/mlp.py --fn mlp --args "f32[64,512] f32[512,1024]
f32[1024] f32[1024,1024] f32[1024] f32[1024,10] f32[10]"`.
"""

import jax


def mlp(
    x: jax.Array,
    w1: jax.Array, b1: jax.Array,
    w2: jax.Array, b2: jax.Array,
    w3: jax.Array, b3: jax.Array,
) -> jax.Array:
    """Logits of a 3-layer ReLU MLP."""
    h = jax.nn.relu(x @ w1 + b1)  # (B, 1024)
    h = jax.nn.relu(h @ w2 + b2)  # (B, 1024)
    return h @ w3 + b3  # (B, 10)


BATCH, D_IN, HIDDEN, CLASSES = 256, 512, 1024, 10

IRSCOPE_EXAMPLES = {
    # name: (function, one spec per positional argument)
    "mlp": (mlp, [
        f"f32[{BATCH},{D_IN}]",
        f"f32[{D_IN},{HIDDEN}]", f"f32[{HIDDEN}]",
        f"f32[{HIDDEN},{HIDDEN}]", f"f32[{HIDDEN}]",
        f"f32[{HIDDEN},{CLASSES}]", f"f32[{CLASSES}]",
    ]),
}
