"""Run a `.tflite` model and keep every intermediate tensor, as float, so two conversions of one model
can be compared tensor by tensor (`irscope.passes.quant_error`).

The LiteRT interpreter normally reuses an intermediate tensor's memory once its last reader has run;
`experimental_preserve_all_tensors=True` keeps each one. The model runs on the builtin reference kernels
(no XNNPACK): a delegate runs a whole partition as one node, and the tensors inside it are never written
back. Quantized tensors are dequantized with their own scales and zero points (per channel where the
tensor has several scales), so an int8 tensor and its float counterpart compare directly.

`capture(model, samples)` runs the model once per sample and returns a `Capture`: the operators in
execution order, each tensor's name, shape, dtype and quantization, and per sample the value of every
activation (graph inputs and operator outputs; weights are left out). `make_samples` builds the samples:
seeded random (`irscope.frontends.tflite_convert.CALIBRATION_RANGE`), or from a calibration file.

Not handled yet: subgraphs other than the main one (the bodies of WHILE/IF are not captured), several
signatures, string tensors, and samples that do not fit in memory (every activation of every sample is kept).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from irscope.errors import CalibrationError, ModelLoadError
from irscope.measure.tflite_latency import interpreter_class


@dataclass(frozen=True)
class TensorInfo:
    """One tensor of the main subgraph, as the interpreter reports it."""

    index: int
    """Its index in the subgraph (the flatbuffer's)."""
    name: str
    """The converter's name: TensorFlow op names joined by ';' where ops were fused."""
    shape: tuple[int, ...]
    """Static shape."""
    dtype: str
    """numpy dtype name."""
    scales: tuple[float, ...]
    """Quantization scales (empty for an unquantized tensor)."""
    zero_points: tuple[int, ...]
    """Zero points, one per scale."""
    quantized_dimension: int
    """The axis the scales run along when there are several."""

    @property
    def quantized(self) -> bool:
        return bool(self.scales) and np.issubdtype(np.dtype(self.dtype), np.integer)


@dataclass(frozen=True)
class OpInfo:
    """One operator, in execution order."""

    index: int
    """Its position in the subgraph's operator list (= execution order)."""
    opcode: str
    """`CONV_2D`, `QUANTIZE`, ..."""
    inputs: tuple[int, ...]
    """Tensor indices (-1: an optional input left out)."""
    outputs: tuple[int, ...]
    """Tensor indices."""


@dataclass(frozen=True)
class Capture:
    """A model's structure and every activation's value on each sample (float64, dequantized)."""

    source: str
    """The model's path, or `<bytes>`."""
    size_bytes: int
    """The flatbuffer's size."""
    ops: tuple[OpInfo, ...]
    """Operators of the main subgraph, in execution order."""
    tensors: Mapping[int, TensorInfo]
    """Every tensor by index."""
    inputs: tuple[int, ...]
    """The graph's input tensors."""
    outputs: tuple[int, ...]
    """The graph's output tensors."""
    values: tuple[Mapping[int, np.ndarray], ...] = field(repr=False)
    """Per sample: tensor index -> its value as float64 (activations only)."""

    def activations(self) -> list[int]:
        """Graph inputs, then each operator's outputs in execution order."""
        seen: dict[int, None] = dict.fromkeys(self.inputs)
        for op in self.ops:
            seen.update(dict.fromkeys(t for t in op.outputs if t >= 0))
        return list(seen)


def load_interpreter(model: str | Path | bytes) -> Any:
    """An allocated interpreter that keeps every tensor and runs the builtin kernels."""
    cls, resolver, _ = interpreter_class()
    kwargs: dict[str, Any] = {"experimental_preserve_all_tensors": True}
    kwargs["model_content" if isinstance(model, bytes) else "model_path"] = model if isinstance(model, bytes) else str(model)
    if resolver is not None:
        kwargs["experimental_op_resolver_type"] = resolver.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    name = "<bytes>" if isinstance(model, bytes) else str(model)
    try:
        with warnings.catch_warnings():  # "preserve_all_tensors is for debugging": this is debugging
            warnings.filterwarnings("ignore", message=".*experimental_preserve_all_tensors.*")
            interpreter = cls(**kwargs)
        interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as e:
        first = next((line.strip() for line in str(e).splitlines() if line.strip()), type(e).__name__)
        raise ModelLoadError(f"{name}: the interpreter cannot prepare it: {first}") from None
    return interpreter


def input_shapes(interpreter: Any) -> list[tuple[str, tuple[int, ...]]]:
    """(name, static shape) of each graph input."""
    return [(d["name"], tuple(int(x) for x in d["shape"])) for d in interpreter.get_input_details()]


def make_samples(shapes: Sequence[tuple[str, tuple[int, ...]]], data: Any = None, *, count: int = 4,
                 seed: int = 0, source: str = "calibration data") -> list[list[np.ndarray]]:
    """Float samples, one array per input: `count` seeded random ones, or those of `data`.

    `data` is what `irscope.frontends.tflite_convert.load_calibration` returns: one array with samples
    along its first axis (one-input models), or a list of samples, each a list of arrays (in input order)
    or a dict by input name (the model's tensor name, or that name without `serving_default_` and `:0`).
    A sample may leave out the batch axis. A sample that does not fit raises `CalibrationError`.
    """
    if data is None:
        from irscope.frontends.tflite_convert import CALIBRATION_RANGE

        low, high = CALIBRATION_RANGE
        rng = np.random.default_rng(seed)
        return [[rng.uniform(low, high, size=shape).astype(np.float32) for _, shape in shapes] for _ in range(count)]
    if isinstance(data, np.ndarray):
        if len(shapes) != 1:
            raise CalibrationError(f"{source}: one array, but the model has {len(shapes)} inputs")
        data = [[a] for a in data]
    out = []
    for k, sample in enumerate(data):
        if isinstance(sample, Mapping):
            row = []
            for name, shape in shapes:
                key = next((c for c in (name, _short(name)) if c in sample), None)
                if key is None:
                    raise CalibrationError(f"{source}: sample {k} has no input {_short(name)!r} "
                                           f"(it has {', '.join(map(repr, sample))})")
                row.append(_fit(sample[key], shape, f"{source}: sample {k}, input {_short(name)!r}"))
        else:
            arrays = list(sample) if isinstance(sample, (list, tuple)) else [sample]
            if len(arrays) != len(shapes):
                raise CalibrationError(f"{source}: sample {k} has {len(arrays)} arrays for {len(shapes)} inputs")
            row = [_fit(a, shape, f"{source}: sample {k}, input {_short(name)!r}")
                   for a, (name, shape) in zip(arrays, shapes, strict=True)]
        out.append(row)
    if not out:
        raise CalibrationError(f"{source}: no samples")
    return out


def _short(name: str) -> str:
    return name.removeprefix("serving_default_").removesuffix(":0")


def _fit(array: Any, shape: tuple[int, ...], where: str) -> np.ndarray:
    a = np.asarray(array)
    if not np.issubdtype(a.dtype, np.number):
        raise CalibrationError(f"{where}: dtype {a.dtype}, expected numbers")
    if a.shape != shape:
        if a.size != math.prod(shape):
            raise CalibrationError(f"{where} has shape {list(a.shape)}, the model wants {list(shape)}")
        a = a.reshape(shape)  # a sample without its batch axis
    return a.astype(np.float32)


def capture(model: str | Path | bytes, samples: Sequence[Sequence[np.ndarray]]) -> Capture:
    """Run `model` on each sample (float arrays, quantized to the model's input dtypes) and keep every
    activation, dequantized to float64."""
    interpreter = load_interpreter(model)
    tensors = {int(d["index"]): _tensor_info(d) for d in interpreter.get_tensor_details()}
    ops = tuple(OpInfo(int(o["index"]), str(o["op_name"]), tuple(int(i) for i in o["inputs"]),
                       tuple(int(i) for i in o["outputs"]))
                for o in interpreter._get_ops_details())  # noqa: SLF001 (the only way to list the ops it runs)
    inputs = tuple(int(d["index"]) for d in interpreter.get_input_details())
    outputs = tuple(int(d["index"]) for d in interpreter.get_output_details())
    wanted = dict.fromkeys(inputs)
    for op in ops:
        wanted.update(dict.fromkeys(t for t in op.outputs if t >= 0))
    values = []
    for sample in samples:
        for index, value in zip(inputs, sample, strict=True):
            interpreter.set_tensor(index, _quantize(np.asarray(value, np.float32), tensors[index]))
        interpreter.invoke()
        values.append({t: dequantize(interpreter.get_tensor(t), tensors[t]) for t in wanted
                       if np.dtype(tensors[t].dtype).kind in "biuf"})
    size = len(model) if isinstance(model, bytes) else Path(model).stat().st_size
    return Capture("<bytes>" if isinstance(model, bytes) else str(model), size, ops, tensors, inputs, outputs,
                   tuple(values))


def _tensor_info(d: Mapping[str, Any]) -> TensorInfo:
    q = d["quantization_parameters"]
    return TensorInfo(int(d["index"]), str(d["name"]), tuple(int(x) for x in d["shape"]), np.dtype(d["dtype"]).name,
                      tuple(float(s) for s in q["scales"]), tuple(int(z) for z in q["zero_points"]),
                      int(q["quantized_dimension"]))


def _quantize(value: np.ndarray, t: TensorInfo) -> np.ndarray:
    dtype = np.dtype(t.dtype)
    if t.quantized:
        info = np.iinfo(dtype)
        return np.clip(np.round(value / t.scales[0]) + t.zero_points[0], info.min, info.max).astype(dtype)
    return value.astype(dtype)


def dequantize(value: np.ndarray, t: TensorInfo) -> np.ndarray:
    """`value` as float64: (q - zero_point) * scale, per channel along `quantized_dimension` when the
    tensor has several scales; an unquantized tensor is only widened."""
    if not t.quantized:
        return np.asarray(value, np.float64)
    scales = np.asarray(t.scales, np.float64)
    zeros = np.asarray(t.zero_points or (0,) * len(scales), np.float64)
    if len(scales) > 1 and value.ndim:
        shape = [1] * value.ndim
        shape[t.quantized_dimension] = len(scales)
        scales, zeros = scales.reshape(shape), zeros.reshape(shape)
    return (value.astype(np.float64) - zeros) * scales


def compare_layers(float_model: str | Path | bytes, quant_model: str | Path | bytes, *, samples: int = 4,
                   seed: int = 0, calibration: str | Path | None = None) -> Any:
    """Run both models on the same inputs and report each layer's error (`irscope.passes.quant_error`).

    Arguments:
        float_model, quant_model: `.tflite` paths (or bytes): the float original and its quantized conversion.
        samples: how many seeded random samples (ignored with `calibration`).
        seed: the random samples' seed.
        calibration: a `.npy`/`.npz` file of samples (see `make_samples`) instead of random ones.

    Returns:
        A `LayerErrors` (`to_text()`, `to_json()`, `worst()`).

    Example:
        >>> report = compare_layers("cnn.fp32.tflite", "cnn.int8.tflite")   # doctest: +SKIP
        >>> [layer.tensor for layer in report.worst(3)]                      # doctest: +SKIP
    """
    from irscope.passes.quant_error import layer_errors

    data, source = None, f"random (seed {seed})"
    if calibration is not None:
        from irscope.errors import ConversionError
        from irscope.frontends.tflite_convert import load_calibration

        try:
            data = load_calibration(calibration)
        except ConversionError as e:
            raise CalibrationError(str(e)) from None
        source = str(calibration)
    shapes = input_shapes(load_interpreter(float_model))
    rows = make_samples(shapes, data, count=samples, seed=seed, source=source)
    quant_shapes = [s for _, s in input_shapes(load_interpreter(quant_model))]
    if quant_shapes != [s for _, s in shapes]:
        from irscope.errors import ModelMismatchError

        raise ModelMismatchError(f"{quant_model if not isinstance(quant_model, bytes) else '<bytes>'} is not a "
                                 f"conversion of {float_model if not isinstance(float_model, bytes) else '<bytes>'}: "
                                 f"its inputs have shapes {[list(s) for s in quant_shapes]}, the float model's "
                                 f"{[list(s) for _, s in shapes]}")
    return layer_errors(capture(float_model, rows), capture(quant_model, rows), sample_source=source)
