"""How much of an int8 model's per-layer error is the network amplifying a small error, rather than int8
adding one at each layer? Run the *float* model twice, on random inputs and on the same inputs rounded to
an int8 input's step (2/255 over [-1, 1)), every layer in float32, and print the SQNR of every ~20th layer
of the second run against the first -- the same SQNR as `--layers` (irscope.passes.quant_error):

    python examples/quant_sensitivity.py out/mnv2bn.fp32.tflite

If the SQNR falls along the graph here, where only the input was rounded, the network itself magnifies
small perturbations (random-weight networks with BatchNorm do), and an int8 model's falling SQNR is partly
that, not int8's rounding at each layer.
"""

import sys

import numpy as np

from irscope.errors import IrscopeError
from irscope.measure.tflite_tensors import capture, input_shapes, load_interpreter, make_samples
from irscope.passes.quant_error import TensorError

STEP = 2 / 255
"""An int8 input's step when its range is [-1, 1): the input rounding every int8 model here starts with."""


def main(path: str, samples: int = 4, rows: int = 20) -> None:
    inputs = make_samples(input_shapes(load_interpreter(path)), count=samples, seed=0)
    rounded = [[np.round(a / STEP) * STEP for a in sample] for sample in inputs]
    exact, perturbed = capture(path, inputs), capture(path, rounded)
    print(f"{path}: float model, input rounded to steps of 2/255, {samples} random samples")
    print(f"{'#':>4}  {'op':<20} {'SQNR dB':>8}  tensor")
    shown = exact.ops[:: max(1, len(exact.ops) // rows)] + exact.ops[-1:]
    for op in dict.fromkeys(shown):
        t = op.outputs[0]
        error = TensorError.of([(a[t], b[t]) for a, b in zip(exact.values, perturbed.values, strict=True)])
        print(f"{op.index:>4}  {op.opcode:<20} {error.sqnr_db:>8.1f}  {exact.tensors[t].name.split(';')[-1]}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: python examples/quant_sensitivity.py MODEL.fp32.tflite", file=sys.stderr)
        sys.exit(2)
    try:
        main(sys.argv[1])
    except IrscopeError as e:  # a missing or unreadable model: one line
        print(f"quant_sensitivity: error: {e}", file=sys.stderr)
        sys.exit(2)
