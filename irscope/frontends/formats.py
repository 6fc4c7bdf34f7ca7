"""What kind of file a path holds, from its first bytes rather than its name.

    sniff(path) -> "mlir-bytecode" | "tflite" | "mlir" | "hlo" | "python" | "binary"

- `mlir-bytecode`: MLIR bytecode, magic `ML\\xefR` at byte 0 (`.mlirbc`, `.mlir.bc`, jax.export's
  portable artifacts, or any name at all).
- `tflite`: a TFLite flatbuffer, file identifier `TFL3` at byte 4.
- `mlir`: MLIR text: its first significant line (after `//` comments and `#alias = ...` definitions)
  opens a `module`, a `func.func`, or a generic `"builtin.module"`/`"func.func"` operation.
- `hlo`: HLO text: its first significant line is `HloModule ...`.
- `python`: a `.py` file (a model file irscope imports; Python has no magic bytes).
- `binary`: anything else that is not UTF-8 text (e.g. a protobuf), which no reader here takes.

Text that is neither recognisable MLIR nor `HloModule` keeps the suffix's word (`.mlir` -> `mlir`),
and is otherwise `hlo`, so the HLO reader's own error names the first thing it could not read.

Not handled yet: serialized `HloModuleProto`/`HloProto` files (`*.pb`), which report as `binary`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

MLIR_BYTECODE_MAGIC = b"ML\xefR"
"""The first four bytes of every MLIR bytecode file."""
TFLITE_IDENTIFIER = b"TFL3"
"""Bytes 4..8 of every TFLite flatbuffer."""

_HEAD_BYTES = 1 << 16
# The opening of an MLIR module or function, in the pretty or the generic form.
_MLIR_START = re.compile(r'(module\b|func\.func\b|"builtin\.module"|"func\.func"|\{-#)')


def sniff_bytes(head: bytes, suffix: str = "") -> str:
    """The kind of a file whose first bytes are `head` (see the module docstring)."""
    if head.startswith(MLIR_BYTECODE_MAGIC):
        return "mlir-bytecode"
    if head[4:8] == TFLITE_IDENTIFIER:
        return "tflite"
    if suffix == ".py":
        return "python"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as e:
        if len(head) < _HEAD_BYTES or e.start < len(head) - 4:  # not a character cut at the end of `head`
            return "binary"
        text = head[: e.start].decode("utf-8")
    if "\0" in text:
        return "binary"
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("//"):
            continue
        if stripped.startswith("HloModule"):
            return "hlo"
        if _MLIR_START.match(stripped):
            return "mlir"
        if re.match(r"[#!][\w.$-]+\s*=", stripped):  # `#loc1 = loc(...)`, `!tuple = ...` aliases
            continue
        break
    return "mlir" if suffix in (".mlir", ".mlirbc") else "hlo"


def sniff(path: str | os.PathLike[str]) -> str:
    """The kind of the file at `path`; `OSError` if it cannot be read."""
    p = Path(path)
    with p.open("rb") as f:
        head = f.read(_HEAD_BYTES)
    return sniff_bytes(head, p.suffix)
