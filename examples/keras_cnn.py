"""A tiny Keras CNN (32x32 RGB -> 10 classes) to convert and inspect as TFLite:

    python -m inspect.tflite --convert examples/keras_cnn.py --mode int8 -o out/cnn.int8.tflite
    python -m inspect.tflite out/cnn.int8.tflite --measure

`IRSCOPE_KERAS` maps a name to a function that builds a `keras.Model` (the convention
`--convert model.py` reads). The layers cover what the precision table distinguishes: a strided
convolution, a depthwise convolution, a residual add, pooling, dense layers and a softmax; two
layers have at least 1024 weights, so dynamic-range quantization (`--mode dynamic`) quantizes them.
"""

import keras


def small_cnn() -> keras.Model:
    keras.utils.set_random_seed(0)  # the same weights on every run, so converted files are comparable
    inputs = keras.Input((32, 32, 3), batch_size=1, name="image")
    x = keras.layers.Conv2D(16, 3, strides=2, padding="same", activation="relu6")(inputs)  # (1, 16, 16, 16)
    y = keras.layers.DepthwiseConv2D(3, padding="same", activation="relu6")(x)
    y = keras.layers.Conv2D(16, 1)(y)
    x = keras.layers.Add()([x, y])
    x = keras.layers.Conv2D(32, 3, strides=2, padding="same", activation="relu")(x)  # (1, 8, 8, 32), 4,608 weights
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dense(64, activation="relu")(x)  # 2,048 weights
    outputs = keras.layers.Dense(10, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="small_cnn")


IRSCOPE_KERAS = {"small_cnn": small_cnn}
