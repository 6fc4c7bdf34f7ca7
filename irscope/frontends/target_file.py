"""What a command-line TARGET names: a model.py (`model.py::fn` picks a function), an MLIR file
(StableHLO/MHLO text or bytecode), or HLO text; checked before anything is lowered or compiled.

    target = load_target("examples/mlp.py::mlp")   # TargetFile(name="examples/mlp.py", kind="model", fn="mlp")
    target = load_target("dump.hlo")
    text = target.read_text()                       # the HLO text; one-line TargetFileError if unreadable

A `.py` file is a model file; anything else is told by its first bytes (`irscope.frontends.formats`),
whatever it is called: MLIR bytecode or text, HLO text; a TFLite flatbuffer or another binary file is
refused with a line that says what to use instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from irscope.errors import TargetFileError
from irscope.frontends.formats import sniff


@dataclass(frozen=True)
class TargetFile:
    """A target file that exists, and what kind of program it holds."""

    name: str
    """The file as the command line wrote it (labels and messages use it)."""
    path: Path
    """The file."""
    kind: Literal["model", "mlir", "hlo"]
    """`model` (a model.py), `mlir` (StableHLO/MHLO, text or bytecode) or `hlo` (HLO text)."""
    fn: str | None = None
    """The function a `model.py::fn` target names, else None."""

    def read_text(self) -> str:
        """The file as UTF-8 text; `TargetFileError` (one line, naming the file) if it is not text."""
        try:
            return self.path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise TargetFileError(f"{self.name}: not a text file (expected HLO text, .mlir or a model.py)") from None
        except OSError as e:
            raise TargetFileError(f"{self.name}: {e.strerror or e}") from None


def load_target(target: str) -> TargetFile:
    """The `TargetFile` a command line names; `TargetFileError` if the file is missing, a directory, or
    `::fn` follows a file that is not a model.py."""
    path_text, _, fn = target.rpartition("::")
    if not path_text or (not path_text.endswith(".py") and not Path(path_text).exists()):
        path_text, fn = target, ""  # no `::fn`, or a file whose name holds `::`
    path = Path(path_text)
    if not path.exists():
        raise TargetFileError(f"{path_text}: no such file")
    if path.is_dir():
        raise TargetFileError(f"{path_text}: is a directory (give a model.py, .hlo/.txt or .mlir file)")
    if path.suffix == ".py":
        return TargetFile(path_text, path, "model", fn or None)
    if fn:
        raise TargetFileError(f"{target}: ::fn picks a function of a model.py, not of a {path.suffix or 'text'} file")
    try:
        kind = sniff(path)
    except OSError as e:
        raise TargetFileError(f"{path_text}: {e.strerror or e}") from None
    if kind == "tflite":
        raise TargetFileError(f"{path_text}: is a TFLite model; inspect it with `irscope tflite {path_text}`")
    if kind == "binary":
        raise TargetFileError(f"{path_text}: not a text file (expected HLO text, .mlir or a model.py)")
    return TargetFile(path_text, path, "mlir" if kind in ("mlir", "mlir-bytecode") else "hlo")
