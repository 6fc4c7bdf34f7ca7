"""GELU, exact or tanh-approximated: the smallest change worth diffing.

    python -m inspect.diff examples/gelu.py::exact examples/gelu.py::tanh --hw h100

Three dense layers, each followed by GELU. `jax.nn.gelu(x, approximate=False)` computes
0.5·x·(1 + erf(x/√2)); XLA has no erf instruction on the CPU, so it expands erf into a rational
polynomial with a few dozen multiplies, adds, compares and selects. `approximate=True` uses
0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))): one tanh and a handful of multiplies. Either way XLA fuses
the whole GELU into the loop fusion after each matmul, so the diff shows the same three kernels
changed in their fused ops, grouped as one change ×3, with fewer FLOPs and the same bytes.
"""

import functools

import jax


def mlp(x: jax.Array, weights: list[jax.Array], *, approximate: bool) -> jax.Array:
    """Dense layers (no bias), each followed by GELU."""
    for w in weights:
        x = jax.nn.gelu(x @ w, approximate=approximate)  # (B, D)
    return x


BATCH, WIDTH, LAYERS = 256, 512, 3
ARGS = [f"f32[{BATCH},{WIDTH}]", [f"f32[{WIDTH},{WIDTH}]"] * LAYERS]

IRSCOPE_EXAMPLES = {
    # name: (function, one spec per positional argument; the weights are one list)
    "exact": (functools.partial(mlp, approximate=False), ARGS),
    "tanh": (functools.partial(mlp, approximate=True), ARGS),
}
