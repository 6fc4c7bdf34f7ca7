"""Standard vision backbones from `keras.applications`, built with `weights=None` (random weights, no
download) at 224x224x3, for `--convert` and the per-layer quantization case study in the README:

    python -m inspect.tflite --convert examples/keras_apps.py --fn mobilenet_v2 -o out/mnv2.keep3.tflite \
        --keep-float 3 --samples 4

Random weights are not a trained model's: activation ranges, and so the int8 error per layer, differ from
a trained network's. The study shows where the error arises and what keeping layers in float costs; rerun
it on your trained model for your numbers.

The `_bn` entries (`mobilenet_v2_bn`, ...) are the same random networks with BatchNorm's moving statistics
re-estimated (`recalibrate_batchnorm`). A freshly built BatchNormalization layer holds mean 0 and
variance 1, which does not match what random convolutions feed it: activations shrink (or grow) layer
after layer, and in MobileNetV2 they reach ~1e-9 by block 13, where int8 has nothing left to represent.
A trained network's BatchNorm statistics are those of its own activations; re-estimating them on a few
inputs gives the random network that property (every BatchNorm output has zero mean and unit variance
per channel on those inputs), so its per-layer SQNR says something about int8 rather than about dead
activations. The weights stay random: this is still not a trained model.
"""

import keras
import numpy as np

BN_SAMPLES = 8
"""Inputs the BatchNorm statistics are estimated on (uniform in [-1, 1), like the calibration data)."""
BN_SEED = 1234
"""Their seed: other inputs than the converter's calibration (seed 0) and the comparison's samples."""


def recalibrate_batchnorm(model: keras.Model, *, samples: int = BN_SAMPLES, seed: int = BN_SEED) -> keras.Model:
    """Set every BatchNormalization layer's moving mean and variance to the per-channel mean and variance
    of its input on `samples` random inputs, in graph order ("BN re-estimation").

    Layers are visited in the functional graph's order, so each one's input is computed with every
    BatchNorm before it already re-estimated: one forward pass (of the model up to that layer) per layer.
    Returns `model`, changed in place; nothing else (weights, gamma, beta) changes.
    """
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, size=(samples, *model.input_shape[1:])).astype("float32")
    for layer in model.layers:
        if not isinstance(layer, keras.layers.BatchNormalization):
            continue
        upto = keras.Model(model.input, layer.input)
        h = keras.ops.convert_to_numpy(upto(x, training=False)).astype(np.float64)  # (N, H, W, C)
        axes = tuple(i for i in range(h.ndim) if i != layer.axis % h.ndim)
        layer.moving_mean.assign(h.mean(axis=axes).astype("float32"))
        layer.moving_variance.assign(h.var(axis=axes).astype("float32"))
    return model


def mobilenet_v2() -> keras.Model:
    keras.utils.set_random_seed(0)
    return keras.applications.MobileNetV2(weights=None, input_shape=(224, 224, 3))


def efficientnet_b0() -> keras.Model:
    keras.utils.set_random_seed(0)
    return keras.applications.EfficientNetB0(weights=None, input_shape=(224, 224, 3))


def resnet50() -> keras.Model:
    keras.utils.set_random_seed(0)
    return keras.applications.ResNet50(weights=None, input_shape=(224, 224, 3))


def mobilenet_v2_bn() -> keras.Model:
    return recalibrate_batchnorm(mobilenet_v2())


def efficientnet_b0_bn() -> keras.Model:
    return recalibrate_batchnorm(efficientnet_b0())


def resnet50_bn() -> keras.Model:
    return recalibrate_batchnorm(resnet50())


IRSCOPE_KERAS = {"mobilenet_v2": mobilenet_v2, "efficientnet_b0": efficientnet_b0, "resnet50": resnet50,
                 "mobilenet_v2_bn": mobilenet_v2_bn, "efficientnet_b0_bn": efficientnet_b0_bn,
                 "resnet50_bn": resnet50_bn}
