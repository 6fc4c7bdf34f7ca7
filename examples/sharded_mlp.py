"""A tensor- and data-parallel MLP block, for multi-chip targets: the arguments carry PartitionSpecs.

    python -m inspect.hlo examples/sharded_mlp.py --target tpu-v5e:2x2 --mesh data=2,model=2
    python -m inspect.hlo examples/sharded_mlp.py --target h100:8 --mesh data=2,model=4

The batch is split over the `data` axis; the first weight's columns and the second weight's rows over
`model` (Megatron-style: no communication between the two matmuls, one reduction of the partial sums
after the second). What you will see: each device's share of the matmuls (the shapes in the table are
per device), and the collective XLA inserts for the reduction (an all-reduce, or a reduce-scatter where
the output is sharded). `--mesh` builds the mesh over the target's chips; its axis names must be the
ones the PartitionSpecs use, and its sizes must multiply to the chip count.

This file needs a multi-chip `--target`: on the local CPU (one device) the specs have no mesh to name.
"""

import jax
import jax.numpy as jnp
from jax.sharding import PartitionSpec as P


def mlp_block(x: jax.Array, w1: jax.Array, w2: jax.Array) -> jax.Array:
    """x + gelu(x @ w1) @ w2: a transformer's feed-forward block."""
    return x + jax.nn.gelu(x @ w1) @ w2  # (B, D)


BATCH, D_MODEL, D_FF = 256, 512, 2048

IRSCOPE_EXAMPLES = {
    "mlp_block": (mlp_block, [
        jax.ShapeDtypeStruct((BATCH, D_MODEL), jnp.bfloat16, sharding=P("data", None)),
        jax.ShapeDtypeStruct((D_MODEL, D_FF), jnp.bfloat16, sharding=P(None, "model")),
        jax.ShapeDtypeStruct((D_FF, D_MODEL), jnp.bfloat16, sharding=P("model", None)),
    ]),
}
