"""Standard vision backbones from `keras.applications`, built with `weights=None` (random weights, no
download) at 224x224x3, for `--convert` and the per-layer quantization case study in the README:

    python -m inspect.tflite --convert examples/keras_apps.py --fn mobilenet_v2 -o out/mnv2.keep3.tflite \
        --keep-float 3 --samples 4

Random weights are not a trained model's: activation ranges, and so the int8 error per layer, differ from
a trained network's. The study shows where the error arises and what keeping layers in float costs; rerun
it on your trained model for your numbers.
"""

import keras


def mobilenet_v2() -> keras.Model:
    keras.utils.set_random_seed(0)
    return keras.applications.MobileNetV2(weights=None, input_shape=(224, 224, 3))


def efficientnet_b0() -> keras.Model:
    keras.utils.set_random_seed(0)
    return keras.applications.EfficientNetB0(weights=None, input_shape=(224, 224, 3))


def resnet50() -> keras.Model:
    keras.utils.set_random_seed(0)
    return keras.applications.ResNet50(weights=None, input_shape=(224, 224, 3))


IRSCOPE_KERAS = {"mobilenet_v2": mobilenet_v2, "efficientnet_b0": efficientnet_b0, "resnet50": resnet50}
