"""Tiny Keras models converted to .tflite once per test session, in every mode, for the TFLite tests.

`converted()` builds `examples/keras_cnn.py`'s 32x32 CNN and a small sequence model (dynamic batch,
BATCH_MATMUL, and a CUMSUM that has no int8 kernel, so its int8 conversion falls back to float) and
converts them; the files live in a temporary directory removed at exit. A module-level cache, not
only a session fixture, so that every test module shares one conversion.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MODES = ("fp32", "fp16", "dynamic", "int8", "int16x8")


def sequence_model():
    import keras

    keras.utils.set_random_seed(1)
    inputs = keras.Input((8, 16), name="seq")  # batch None: shape_signature [-1, 8, 16]
    x = keras.layers.Dense(16)(inputs)
    x = keras.layers.Lambda(lambda t: keras.ops.cumsum(t, axis=1))(x)
    x = keras.layers.Lambda(lambda t: keras.ops.matmul(t, keras.ops.transpose(t, (0, 2, 1))))(x)  # (B, 8, 8)
    return keras.Model(inputs, keras.layers.Softmax()(x), name="seq")


@functools.cache
def work_dir() -> Path:
    path = Path(tempfile.mkdtemp(prefix="irscope-tflite-tests-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


@functools.cache
def converted() -> dict[str, Path]:
    """`cnn.<mode>` for every mode, `seq.fp32` and `seq.int8` -> path of the .tflite file."""
    from irscope.frontends.tflite_convert import convert, load_source

    out: dict[str, Path] = {}
    cnn = load_source(REPO / "examples" / "keras_cnn.py")
    for mode in MODES:
        out[f"cnn.{mode}"] = _write(f"cnn.{mode}", convert(cnn, mode))
    seq = sequence_model()
    for mode in ("fp32", "int8"):
        out[f"seq.{mode}"] = _write(f"seq.{mode}", convert(seq, mode))
    return out


def _write(name: str, data: bytes) -> Path:
    path = work_dir() / f"{name}.tflite"
    path.write_bytes(data)
    return path


def run_tflite(capsys, *argv: str) -> tuple[int, str, str]:
    """`irscope tflite ARGV` in this process: (exit status, stdout, stderr)."""
    from irscope.cli.main import main

    rc = main(["tflite", *argv])
    out, err = capsys.readouterr()
    return rc, out, err


def one_error_line(err: str, *, progress: tuple[str, ...] = ()) -> str:
    """The one `irscope tflite: error:` line of `err` (asserted), past progress lines starting with `progress`."""
    lines = [line for line in err.splitlines() if line.strip() and not (progress and line.startswith(progress))]
    assert len(lines) == 1, err
    assert lines[0].startswith("irscope tflite: error: "), err
    return lines[0]
