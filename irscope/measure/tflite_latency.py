"""Run a `.tflite` model on this CPU: latency with the LiteRT interpreter (XNNPACK), and outputs on given
inputs, so two conversions of one model can be compared.

The interpreter is ai-edge-litert's (`ai_edge_litert.interpreter.Interpreter`), else TensorFlow's
`tf.lite.Interpreter`. By default it applies its default delegate, XNNPACK, as an app would; pass
`xnnpack=False` for the reference builtin kernels.

`measure_latency` times `invoke()` alone (inputs are set once before): `warmup` untimed runs, then
`repeats` timed ones, and reports the median (robust on a shared machine) beside the minimum and the
spread. `measure_interleaved` times several models in turns (rounds of a few runs each), so that on a
shared machine a burst of someone else's load is spread over all of them, not charged to one. Inputs are random (`irscope.frontends.tflite_convert.CALIBRATION_RANGE`, fixed seed), quantized
to the model's input dtype with its own scale and zero point.

`run_model` feeds float inputs to a model whatever its input dtype (quantizing them), and returns its
outputs as float (dequantizing them): two conversions of one model then compare directly
(`output_drift`: max abs error and cosine similarity).

Not handled yet: models with dynamic input shapes beyond a batch of 1 (inputs use the static shape),
string inputs, several signatures (the interpreter's default inputs are used), pinning threads to cores,
and delegates other than XNNPACK.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from irscope.errors import ModelLoadError as ModelLoadError
from irscope.errors import RuntimeUnavailable as RuntimeUnavailable


@dataclass(frozen=True)
class Latency:
    """Latency of one model's `invoke()` on this machine."""

    median_s: float
    """Median over the timed runs."""
    min_s: float
    """The fastest timed run."""
    p90_s: float
    """90th percentile."""
    samples: tuple[float, ...]
    """Every timed run, seconds."""
    threads: int
    """Interpreter threads."""
    warmup: int
    """Untimed runs before timing."""
    runtime: str
    """Which interpreter ran it (`ai-edge-litert 2.3.0`, `tensorflow 2.21.0`)."""
    delegate: str
    """`XNNPACK` or `none` (builtin kernels)."""

    def to_json(self) -> dict[str, Any]:
        return {"median_s": self.median_s, "min_s": self.min_s, "p90_s": self.p90_s, "repeats": len(self.samples),
                "threads": self.threads, "warmup": self.warmup, "runtime": self.runtime, "delegate": self.delegate,
                "provenance": "measured"}


def interpreter_class() -> tuple[Any, Any, str]:
    """(Interpreter class, OpResolverType enum or None, runtime name)."""
    try:
        import ai_edge_litert
        from ai_edge_litert.interpreter import Interpreter, OpResolverType

        return Interpreter, OpResolverType, f"ai-edge-litert {ai_edge_litert.__version__}"
    except ImportError:
        pass
    try:
        import tensorflow as tf
    except ImportError:
        raise RuntimeUnavailable("running .tflite files needs ai-edge-litert or tensorflow: "
                                 "pip install 'irscope[tflite]'") from None
    return tf.lite.Interpreter, getattr(tf.lite.experimental, "OpResolverType", None), f"tensorflow {tf.__version__}"


def load_interpreter(model: str | Path | bytes, *, threads: int = 1, xnnpack: bool = True) -> tuple[Any, str]:
    """An allocated interpreter for `model` (a path or the flatbuffer's bytes), and the runtime's name."""
    cls, resolver, runtime = interpreter_class()
    kwargs: dict[str, Any] = {"num_threads": threads}
    if isinstance(model, bytes):
        kwargs["model_content"] = model
    else:
        kwargs["model_path"] = str(model)
    if not xnnpack and resolver is not None:
        kwargs["experimental_op_resolver_type"] = resolver.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    try:
        interpreter = cls(**kwargs)
        interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as e:
        name = "<bytes>" if isinstance(model, bytes) else str(model)
        first = next((line.strip() for line in str(e).splitlines() if line.strip()), type(e).__name__)
        raise ModelLoadError(f"{name}: the interpreter cannot run it: {first}") from None
    return interpreter, runtime


def input_specs(interpreter: Any) -> list[tuple[tuple[int, ...], str]]:
    """(shape, dtype name) of each input, in the interpreter's order."""
    return [(tuple(int(d) for d in det["shape"]), np.dtype(det["dtype"]).name)
            for det in interpreter.get_input_details()]


def random_float_inputs(interpreter: Any, seed: int = 0) -> list[np.ndarray]:
    """Float inputs for the model, uniform in the calibration range (see the module docstring)."""
    from irscope.frontends.tflite_convert import CALIBRATION_RANGE

    rng = np.random.default_rng(seed)
    low, high = CALIBRATION_RANGE
    out = []
    for shape, dtype in input_specs(interpreter):
        if np.issubdtype(np.dtype(dtype), np.integer) and not _is_quantized(interpreter, len(out)):
            out.append(np.zeros(shape, dtype=dtype))
        else:
            out.append(rng.uniform(low, high, size=shape).astype(np.float32))
    return out


def _is_quantized(interpreter: Any, k: int) -> bool:
    det = interpreter.get_input_details()[k]
    return len(det["quantization_parameters"]["scales"]) > 0


def _quantize(value: np.ndarray, det: Mapping[str, Any]) -> np.ndarray:
    dtype = np.dtype(det["dtype"])
    scales = det["quantization_parameters"]["scales"]
    if np.issubdtype(dtype, np.integer) and len(scales):
        scale = float(scales[0])
        zero = int(det["quantization_parameters"]["zero_points"][0])
        info = np.iinfo(dtype)
        return np.clip(np.round(value / scale) + zero, info.min, info.max).astype(dtype)
    return value.astype(dtype)


def _dequantize(value: np.ndarray, det: Mapping[str, Any]) -> np.ndarray:
    scales = det["quantization_parameters"]["scales"]
    if np.issubdtype(value.dtype, np.integer) and len(scales):
        zeros = det["quantization_parameters"]["zero_points"]
        return (value.astype(np.float32) - float(zeros[0])) * float(scales[0])
    return value.astype(np.float32)


def set_inputs(interpreter: Any, inputs: Sequence[np.ndarray]) -> None:
    details = interpreter.get_input_details()
    if len(inputs) != len(details):
        raise ValueError(f"{len(inputs)} inputs for a model with {len(details)}")
    for det, value in zip(details, inputs, strict=True):
        value = np.asarray(value)
        if tuple(value.shape) != tuple(det["shape"]):
            raise ValueError(f"input {det['name']!r}: shape {list(value.shape)}, the model wants {list(det['shape'])}")
        interpreter.set_tensor(det["index"], _quantize(value, det))


def run_model(model: str | Path | bytes, inputs: Sequence[np.ndarray], *, threads: int = 1,
              xnnpack: bool = True) -> list[np.ndarray]:
    """Run once on float `inputs` (quantized to the model's input dtypes); outputs as float32."""
    interpreter, _ = load_interpreter(model, threads=threads, xnnpack=xnnpack)
    set_inputs(interpreter, inputs)
    interpreter.invoke()
    return [_dequantize(interpreter.get_tensor(det["index"]), det) for det in interpreter.get_output_details()]


class Runner:
    """A loaded model with random inputs set, ready to time: `time(n)` runs `invoke()` n times.

    For comparing several models on a shared machine, keep one `Runner` per model and time them in
    turns (`measure_interleaved`), so that a neighbour's burst of load hits every model alike.
    """

    def __init__(self, model: str | Path | bytes, *, threads: int = 1, seed: int = 0, xnnpack: bool = True):
        if threads < 1:
            raise ValueError(f"threads must be >= 1, got {threads}")
        self.interpreter, self.runtime = load_interpreter(model, threads=threads, xnnpack=xnnpack)
        self.threads, self.xnnpack = threads, xnnpack
        set_inputs(self.interpreter, random_float_inputs(self.interpreter, seed))

    def time(self, n: int) -> list[float]:
        """Seconds of each of `n` `invoke()` calls."""
        out = []
        invoke = self.interpreter.invoke
        for _ in range(n):
            start = time.perf_counter()
            invoke()
            out.append(time.perf_counter() - start)
        return out

    def latency(self, samples: Sequence[float], warmup: int) -> Latency:
        ordered = sorted(samples)
        return Latency(
            median_s=statistics.median(samples), min_s=ordered[0],
            p90_s=ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))],
            samples=tuple(samples), threads=self.threads, warmup=warmup, runtime=self.runtime,
            delegate="XNNPACK" if self.xnnpack else "none",
        )


def measure_interleaved(runners: Sequence[Runner], *, warmup: int = 3, rounds: int = 5,
                        per_round: int = 5) -> list[Latency]:
    """Time several runners in turns: `warmup` runs each, then `rounds` rounds of `per_round` runs each.

    Each model's latency is the median of its `rounds * per_round` samples; interleaving spreads a shared
    machine's load bursts over all models instead of landing on whichever ran at the time.
    """
    for runner in runners:
        runner.time(warmup)
    samples: list[list[float]] = [[] for _ in runners]
    for _ in range(rounds):
        for k, runner in enumerate(runners):
            samples[k].extend(runner.time(per_round))
    return [runner.latency(s, warmup) for runner, s in zip(runners, samples, strict=True)]


def measure_latency(model: str | Path | bytes, *, threads: int = 1, warmup: int = 5, repeats: int = 50,
                    seed: int = 0, xnnpack: bool = True) -> Latency:
    """Median latency of `invoke()` over `repeats` runs after `warmup` (see the module docstring).

    Example:
        >>> lat = measure_latency("mobilenet.int8.tflite", threads=2)   # doctest: +SKIP
        >>> f"{lat.median_s * 1e3:.2f} ms"                               # doctest: +SKIP
    """
    if threads < 1 or repeats < 1 or warmup < 0:
        raise ValueError(f"threads and repeats must be >= 1 and warmup >= 0 (got {threads}, {repeats}, {warmup})")
    runner = Runner(model, threads=threads, seed=seed, xnnpack=xnnpack)
    runner.time(warmup)
    return runner.latency(runner.time(repeats), warmup)


@dataclass(frozen=True)
class Drift:
    """How far one model's output moved from another's on the same inputs."""

    output: int
    """Which output."""
    max_abs_error: float
    """max |a - b| over the output's elements."""
    cosine_similarity: float
    """a·b / (|a| |b|) over the flattened output (1.0 for identical directions)."""

    def to_json(self) -> dict[str, Any]:
        return {"output": self.output, "max_abs_error": self.max_abs_error,
                "cosine_similarity": self.cosine_similarity}


def output_drift(reference: Sequence[np.ndarray], other: Sequence[np.ndarray]) -> list[Drift]:
    """Per output: max abs error and cosine similarity of `other` against `reference`."""
    if len(reference) != len(other):
        raise ValueError(f"{len(reference)} outputs against {len(other)}")
    out = []
    for k, (a, b) in enumerate(zip(reference, other, strict=True)):
        a64, b64 = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
        if a64.shape != b64.shape:
            raise ValueError(f"output {k}: {a64.size} elements against {b64.size}")
        norm = float(np.linalg.norm(a64) * np.linalg.norm(b64))
        cosine = float(a64 @ b64) / norm if norm > 0 else (1.0 if not a64.any() and not b64.any() else 0.0)
        out.append(Drift(k, float(np.max(np.abs(a64 - b64))) if a64.size else 0.0, cosine))
    return out
