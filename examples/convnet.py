"""A small convolutional network forward pass (NHWC), with max and average pooling and a dense head.

    python -m inspect.hlo examples/convnet.py

Input: a batch of 16 RGB images of 32x32, channels last (NHWC). Two blocks of 3x3 convolution
(`jax.lax.conv_general_dilated`, kernels in HWIO layout) + bias + ReLU + 2x2 pooling (`reduce_window`:
max after the first block, mean after the second), then flatten and a dense layer to 10 logits.

What you will see depends on the backend, which is the point of looking. On a CPU (jax 0.10), XLA
hands the whole network up to the dense head to its YNNPACK library as ONE `kCustom` fusion
(`ynn_fusion`: both convolutions, bias, ReLU, both pools and the head's matmul), followed by one `kLoop`
fusion for the final bias: two kernels. XLA's cost analysis then counts only that fusion's inputs and
output, 0.44 MB, although the 16x32x32x32 activations alone are 2 MB: bytes hidden inside a library
call are invisible to it. Run it again with YNNPACK fusion off,

    XLA_FLAGS=--xla_cpu_experimental_ynn_fusion_type= python -m inspect.hlo examples/convnet.py

and you get XLA's own plan: each convolution is a kernel of its own, bias + ReLU is one `kLoop` fusion
after it, each pooling window another, 15 MB of traffic in all. On a GPU the convolutions become cuDNN
custom calls. The convolutions carry nearly all of the 0.17 GFLOP either way.
"""

import jax
import jax.numpy as jnp

BATCH, SIZE, CHANNELS, CLASSES = 16, 32, 3, 10
WIDTHS = (32, 64)  # output channels of the two conv blocks


def conv_block(x: jax.Array, w: jax.Array, b: jax.Array, pool: str) -> jax.Array:
    """3x3 same-padded convolution + bias + ReLU, then a 2x2 stride-2 pooling window."""
    y = jax.lax.conv_general_dilated(
        x, w, window_strides=(1, 1), padding="SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
    )  # (B, H, W, C_out)
    y = jax.nn.relu(y + b)
    window, strides = (1, 2, 2, 1), (1, 2, 2, 1)
    if pool == "max":
        return jax.lax.reduce_window(y, -jnp.inf, jax.lax.max, window, strides, "VALID")
    return jax.lax.reduce_window(y, 0.0, jax.lax.add, window, strides, "VALID") / 4.0  # (B, H/2, W/2, C)


def convnet(
    images: jax.Array,
    w1: jax.Array, b1: jax.Array,
    w2: jax.Array, b2: jax.Array,
    w_head: jax.Array, b_head: jax.Array,
) -> jax.Array:
    """Logits (B, CLASSES) for images (B, 32, 32, 3)."""
    x = conv_block(images, w1, b1, pool="max")  # (B, 16, 16, 32)
    x = conv_block(x, w2, b2, pool="mean")  # (B, 8, 8, 64)
    x = x.reshape(x.shape[0], -1)  # (B, 4096)
    return x @ w_head + b_head


_C1, _C2 = WIDTHS
_FLAT = (SIZE // 4) * (SIZE // 4) * _C2

IRSCOPE_EXAMPLES = {
    # name: (function, one spec per positional argument)
    "convnet": (convnet, [
        f"f32[{BATCH},{SIZE},{SIZE},{CHANNELS}]",
        f"f32[3,3,{CHANNELS},{_C1}]", f"f32[{_C1}]",
        f"f32[3,3,{_C1},{_C2}]", f"f32[{_C2}]",
        f"f32[{_FLAT},{CLASSES}]", f"f32[{CLASSES}]",
    ]),
}
