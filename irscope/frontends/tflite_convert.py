"""Programs -> `.tflite`: convert a Keras model, a SavedModel or a concrete function with TensorFlow's own
converter (`tf.lite.TFLiteConverter`), in one of the quantization modes irscope compares.

Modes (`MODES`), each the converter settings TensorFlow documents for it:

| mode      | weights        | activations | input/output | converter settings                                  |
|-----------|----------------|-------------|--------------|-----------------------------------------------------|
| `fp32`    | float32        | float32     | float32      | none                                                |
| `fp16`    | float16        | float32     | float32      | `Optimize.DEFAULT`, `supported_types=[float16]`     |
| `dynamic` | int8           | float32 (*) | float32      | `Optimize.DEFAULT` (dynamic-range quantization)     |
| `int8`    | int8           | int8        | int8         | `Optimize.DEFAULT`, representative dataset, int8 ops, int8 I/O |
| `int16x8` | int8           | int16       | float32      | `Optimize.DEFAULT`, representative dataset, `EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8` |

(*) hybrid ops quantize their activations on the fly; the converter only quantizes weights of at
least 1024 elements. For `int8` and `int16x8`, ops without an integer kernel fall back to float
(the builtin op set is allowed too) unless `integer_only=True`, which makes such a model fail to convert;
`irscope.passes.quantization` finds the fallbacks.

The representative dataset is random by default: `calibration_samples` draws (seed `seed`) uniform in
[-1, 1) for float inputs (zeros for integer inputs), at each input's shape with a dynamic batch set
to 1. Supply real data with `representative_data` for meaningful activation ranges.

**The model.py convention** for `irscope tflite --convert model.py`: a module-level dict

    IRSCOPE_KERAS = {"small_cnn": small_cnn}   # name -> zero-argument function returning a keras.Model

(a value may also be a `keras.Model`). `--fn NAME` picks an entry, or any top-level zero-argument
function of the file; a file with one entry needs no flag. Keras application models must be built with
`weights=None` when there is no network. The file runs as a fresh module with its own directory on
`sys.path`.

Not handled yet: models with several signatures (the first, or `signature_key`, is converted),
select-TF ops (`SELECT_TF_OPS`), 16x8 integer input/output, and QAT models beyond what the converter
does by itself.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from irscope.errors import ConversionError as ConversionError
from irscope.util.text import first_line

MODES = ("fp32", "fp16", "dynamic", "int8", "int16x8")
"""The quantization modes `convert` knows."""

TABLE_NAME = "IRSCOPE_KERAS"
"""The module-level dict a model file defines for `--convert`."""

CALIBRATION_RANGE = (-1.0, 1.0)
"""Random calibration and comparison inputs are uniform in this range (float inputs)."""



@dataclass(frozen=True)
class InputSpec:
    """One model input: what the representative dataset must feed."""

    name: str
    """The input's name (a SavedModel signature's argument name)."""
    shape: tuple[int, ...]
    """Its shape, dynamic dimensions set to 1."""
    dtype: str
    """numpy dtype name."""


def import_tf() -> ModuleType:
    """TensorFlow, with its C++ info logs off unless the user set `TF_CPP_MIN_LOG_LEVEL`."""
    if "tensorflow" not in sys.modules:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        import tensorflow as tf
    except ImportError:
        raise ConversionError("converting to .tflite needs tensorflow: pip install 'irscope[tflite]'") from None
    return tf


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """Send what TensorFlow and Keras print during a conversion ("Saved artifact at ...") to stderr."""
    with contextlib.redirect_stdout(sys.stderr):
        yield


@contextlib.contextmanager
def silenced(enabled: bool = True) -> Iterator[None]:
    """Discard everything written to file descriptors 1 and 2 meanwhile, and Python warnings: the converter's
    C++ logs, Keras's export listing, calibration warnings (a failed conversion still raises, with its message)."""
    if not enabled:
        with quiet_stdout():
            yield
        return
    sys.stdout.flush()
    sys.stderr.flush()
    saved = (os.dup(1), os.dup(2))
    try:
        with tempfile.TemporaryFile() as sink:
            os.dup2(sink.fileno(), 1)
            os.dup2(sink.fileno(), 2)
            try:
                with quiet_stdout(), warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    yield
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os.dup2(saved[0], 1)
                os.dup2(saved[1], 2)
    finally:
        os.close(saved[0])
        os.close(saved[1])


# ---------------------------------------------------------------------------------------------
# Sources


def source_kind(target: str | os.PathLike[str]) -> str:
    """`model.py`, `saved_model` or `keras` for what `--convert TARGET` names; `ConversionError` otherwise.
    Cheap (no TensorFlow), so a wrong target fails before anything loads."""
    path = Path(target)
    if not path.exists():
        raise ConversionError(f"{target}: no such file or directory")
    if path.is_dir():
        if not (path / "saved_model.pb").exists():
            raise ConversionError(f"{target}: a directory without saved_model.pb (not a SavedModel)")
        return "saved_model"
    if path.suffix == ".py":
        return "model.py"
    if path.suffix in (".keras", ".h5"):
        return "keras"
    raise ConversionError(f"{target}: expected a model.py, a SavedModel directory or a .keras file")


def load_source(target: str | os.PathLike[str], fn: str | None = None) -> Any:
    """What `--convert TARGET` names: a model.py (see the convention), a SavedModel directory
    (returned as its path) or a `.keras` / `.h5` file (loaded with Keras)."""
    kind = source_kind(target)
    path = Path(target)
    if kind == "saved_model":
        return str(path)
    if kind == "model.py":
        return load_keras_model_file(path, fn)
    if kind == "keras":
        import_tf()
        import keras

        try:
            return keras.models.load_model(path, compile=False)
        except Exception as e:  # whatever Keras raises on a bad file is the user's error
            raise ConversionError(f"{target}: cannot load with Keras: {_first_line(str(e))}") from None
    raise AssertionError(kind)


def load_keras_model_file(path: str | os.PathLike[str], fn: str | None = None) -> Any:
    """Run a model.py and build the Keras model its `IRSCOPE_KERAS` entry (or `fn`) returns."""
    module = _exec_file(Path(path))
    table = getattr(module, TABLE_NAME, None)
    if table is not None and not isinstance(table, Mapping):
        raise ConversionError(f"{path}: {TABLE_NAME} must be a dict of name -> function returning a keras.Model")
    entries: dict[str, Any] = dict(table or {})
    if fn is None:
        if len(entries) == 1:
            fn = next(iter(entries))
        elif not entries:
            raise ConversionError(f"{path}: no {TABLE_NAME} table; add IRSCOPE_KERAS = {{\"name\": build_fn}} "
                                  "or pick a function with --fn NAME")
        else:
            raise ConversionError(f"{path} holds {len(entries)} models ({', '.join(entries)}); pick one with --fn NAME")
    builder = entries.get(fn)
    if builder is None:
        builder = getattr(module, fn, None)
        if builder is None or not callable(builder):
            known = ", ".join(entries) or "none"
            raise ConversionError(f"{path}: no model or function {fn!r} (table entries: {known})")
    import_tf()
    import keras

    model = builder
    if not isinstance(builder, keras.Model):
        try:
            model = builder()
        except Exception as e:  # the user's code
            from irscope.frontends.jax_lower import user_error_line

            raise ConversionError(user_error_line(e, files=[str(Path(path).resolve().parent)])) from None
    if not isinstance(model, keras.Model):
        raise ConversionError(f"{path}: {fn} returned {type(model).__name__}, not a keras.Model")
    return model


def _exec_file(file: Path) -> ModuleType:
    """Run a model file as a fresh module, the way `inspect.hlo` loads one (`model_file.load`)."""
    from irscope.frontends.model_file import ModelFileError, load

    try:
        with quiet_stdout():
            return load(file).module
    except ModelFileError as e:
        raise ConversionError(str(e)) from None


def input_specs(source: Any, signature_key: str | None = None) -> list[InputSpec]:
    """The inputs of a Keras model, a SavedModel directory or a concrete function."""
    tf = import_tf()
    if isinstance(source, (str, os.PathLike)):
        loaded = tf.saved_model.load(str(source))
        signature = _signature(loaded, str(source), signature_key)
        specs = [(name, spec) for name, spec in sorted(signature.structured_input_signature[1].items())]
        specs += [(spec.name or f"arg_{k}", spec) for k, spec in enumerate(signature.structured_input_signature[0])]
    elif hasattr(source, "structured_input_signature"):  # a ConcreteFunction
        flat = tf.nest.flatten(source.structured_input_signature)
        specs = [(spec.name or f"arg_{k}", spec) for k, spec in enumerate(flat)]
    else:
        specs = [(getattr(t, "name", f"input_{k}"), t) for k, t in enumerate(source.inputs)]
    out = []
    for name, spec in specs:
        dtype = spec.dtype.name if hasattr(spec.dtype, "name") else str(spec.dtype)
        shape = tuple(1 if d is None else int(d) for d in spec.shape)
        out.append(InputSpec(name, shape, np.dtype(dtype).name))
    return out


def _signature(loaded: Any, path: str, key: str | None) -> Any:
    signatures = dict(loaded.signatures)
    if not signatures:
        raise ConversionError(f"{path}: the SavedModel has no signatures")
    if key is None:
        key = "serving_default" if "serving_default" in signatures else next(iter(signatures))
    if key not in signatures:
        raise ConversionError(f"{path}: no signature {key!r} (has {', '.join(signatures)})")
    return signatures[key]


# ---------------------------------------------------------------------------------------------
# Representative data


def random_inputs(specs: Sequence[InputSpec], seed: int = 0) -> list[np.ndarray]:
    """One random sample for `specs`: uniform in `CALIBRATION_RANGE` for floats, zeros otherwise."""
    rng = np.random.default_rng(seed)
    low, high = CALIBRATION_RANGE
    out = []
    for spec in specs:
        if np.issubdtype(np.dtype(spec.dtype), np.floating):
            out.append(rng.uniform(low, high, size=spec.shape).astype(spec.dtype))
        else:
            out.append(np.zeros(spec.shape, dtype=spec.dtype))
    return out


def representative_dataset(
    specs: Sequence[InputSpec],
    data: Any = None,
    *,
    samples: int = 8,
    seed: int = 0,
    by_name: bool = False,
) -> Callable[[], Iterable[Any]]:
    """The converter's `representative_dataset`: random samples, or `data` supplied by the user.

    `data` may be a callable returning an iterable of samples (TensorFlow's own form), an iterable of
    samples (each a list of arrays, one per input, or a dict by input name), or one array whose first
    axis runs over samples (one-input models). `by_name` yields dicts (SavedModel signatures).
    """
    if callable(data):
        return data
    if data is None:
        rows: list[list[np.ndarray]] = [random_inputs(specs, seed + k) for k in range(samples)]
    elif isinstance(data, np.ndarray):
        if len(specs) != 1:
            raise ConversionError(f"calibration data is one array but the model has {len(specs)} inputs")
        rows = [[_fit(data[k], specs[0])] for k in range(len(data))]
    else:
        rows = []
        for sample in data:
            if isinstance(sample, Mapping):
                missing = [s.name for s in specs if s.name not in sample]
                if missing:
                    raise ConversionError(f"calibration sample has no input {missing[0]!r}")
                rows.append([_fit(sample[s.name], s) for s in specs])
            else:
                arrays = list(sample) if isinstance(sample, (list, tuple)) else [sample]
                if len(arrays) != len(specs):
                    raise ConversionError(f"calibration sample has {len(arrays)} arrays for {len(specs)} inputs")
                rows.append([_fit(a, s) for a, s in zip(arrays, specs, strict=True)])
    if not rows:
        raise ConversionError("calibration data is empty")

    def dataset() -> Iterator[Any]:
        for row in rows:
            yield {s.name: a for s, a in zip(specs, row, strict=True)} if by_name else row

    return dataset


def _fit(array: Any, spec: InputSpec) -> np.ndarray:
    a = np.asarray(array, dtype=spec.dtype)
    if a.shape != spec.shape:
        if a.size == math.prod(spec.shape):
            a = a.reshape(spec.shape)  # a sample without its batch axis
        else:
            raise ConversionError(f"calibration sample for {spec.name!r} has shape {list(a.shape)}, "
                                  f"the model wants {list(spec.shape)}")
    return a


def load_calibration(path: str | os.PathLike[str]) -> Any:
    """Calibration data from a file: `.npy` (samples along the first axis) or `.npz` (one array per
    input, by name or in order, samples along the first axis)."""
    p = Path(path)
    try:
        loaded = np.load(p, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise ConversionError(f"{path}: cannot read calibration data: {_first_line(str(e))}") from None
    if isinstance(loaded, np.ndarray):
        return loaded
    arrays = {k: loaded[k] for k in loaded.files}
    counts = {len(a) for a in arrays.values()}
    if len(counts) != 1:
        raise ConversionError(f"{path}: the arrays hold different numbers of samples ({sorted(counts)})")
    n = counts.pop()
    if all(k.startswith("arr_") for k in arrays):
        return [[arrays[k][i] for k in sorted(arrays, key=lambda k: int(k[4:]))] for i in range(n)]
    return [{k: a[i] for k, a in arrays.items()} for i in range(n)]


# ---------------------------------------------------------------------------------------------
# Conversion


def convert(
    source: Any,
    mode: str = "fp32",
    *,
    representative_data: Any = None,
    calibration_samples: int = 8,
    seed: int = 0,
    integer_only: bool = False,
    signature_key: str | None = None,
    trackable: Any = None,
    quiet: bool = True,
) -> bytes:
    """Convert a model to a `.tflite` flatbuffer with TensorFlow's converter.

    Arguments:
        source: a `keras.Model`, a SavedModel directory (path), or a `tf` ConcreteFunction (its
            variables must be reachable from it, e.g. a method of a `tf.Module`).
        mode: one of `MODES` (see the module docstring).
        representative_data: calibration data for `int8` / `int16x8` (see `representative_dataset`);
            random by default.
        calibration_samples: how many random samples when no data is given.
        seed: the random samples' seed.
        integer_only: for `int8` / `int16x8`, allow no float fallback (conversion fails instead).
        signature_key: the SavedModel signature to convert (default `serving_default`).
        trackable: for a concrete function, the object owning its variables (a `tf.Module`).
        quiet: discard what TensorFlow prints while converting (see `silenced`).

    Returns:
        The flatbuffer's bytes.

    Example:
        >>> data = convert(keras_model, "int8")                 # doctest: +SKIP
        >>> Path("model.int8.tflite").write_bytes(data)          # doctest: +SKIP
    """
    if mode not in MODES:
        raise ValueError(f"unknown mode: {mode!r}; expected one of {', '.join(MODES)}")
    tf = import_tf()
    by_name = False
    with silenced(quiet):
        if isinstance(source, (str, os.PathLike)):
            loaded = tf.saved_model.load(str(source))
            key = signature_key or ("serving_default" if "serving_default" in loaded.signatures
                                    else next(iter(loaded.signatures), None))
            converter = tf.lite.TFLiteConverter.from_saved_model(str(source), signature_keys=[key] if key else None)
            by_name = True
        elif hasattr(source, "structured_input_signature"):
            converter = tf.lite.TFLiteConverter.from_concrete_functions([source], trackable)
        elif hasattr(source, "inputs") and hasattr(source, "outputs"):
            converter = tf.lite.TFLiteConverter.from_keras_model(source)
        else:
            raise ConversionError(f"cannot convert a {type(source).__name__}: expected a keras.Model, a SavedModel "
                                  "directory or a concrete function")
        if mode != "fp32":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if mode == "fp16":
            converter.target_spec.supported_types = [tf.float16]
        if mode in ("int8", "int16x8"):
            specs = input_specs(source, signature_key)
            converter.representative_dataset = representative_dataset(
                specs, representative_data, samples=calibration_samples, seed=seed, by_name=by_name)
            fallback = [] if integer_only else [tf.lite.OpsSet.TFLITE_BUILTINS]
            if mode == "int8":
                converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8, *fallback]
                converter.inference_input_type = tf.int8
                converter.inference_output_type = tf.int8
            else:
                converter.target_spec.supported_ops = [
                    tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8, *fallback]
        try:
            return bytes(converter.convert())
        except ConversionError:
            raise
        except Exception as e:  # the converter raises many types for a model it cannot take
            raise ConversionError(f"the TFLite converter failed ({mode}): {_first_line(str(e))}") from None


def _first_line(text: str) -> str:
    return first_line(text, limit=200, skip=("Traceback", "File "))
