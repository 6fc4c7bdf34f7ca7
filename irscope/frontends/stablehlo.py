"""StableHLO / MHLO `.mlir` files: read and verify them, convert them to HLO text, compile them with XLA.

Everything goes through jaxlib's own MLIR Python bindings and XLA converters, never a hand parser:

    read_mlir(path)        ir.Module.parseFile in a context from jax's mlir.make_ir_context(), which
                           registers the func/stablehlo/mhlo/chlo/sdy dialects; parsing also verifies.
    to_hlo_text(module)    jaxlib `_xla.mlir.mlir_module_to_xla_computation(...)` -> `.as_hlo_text()`:
                           the HLO XLA starts from, before any optimization pass.
    compile_mlir(module)   the backend client's `compile_and_load(module, executable_devices=...,
                           compile_options=...)`, as `jax._src.compiler` does it, then the executable's
                           `get_hlo_text()` and `cost_analysis()`: the optimized HLO and XLA's costs.
    hlo_text_to_mlir(text) the way back for pre-optimization HLO text: XLA's HLO parser
                           (`jaxlib._hlo.hlo_module_from_text`) then `_xla.mlir.hlo_to_stablehlo`.
    write_mlir(path, text) writes a module whole or not at all (the output of `lower(...).stablehlo`
                           reads back with `read_mlir`).

A syntax or verification error is a `StableHLOError` whose message starts `file:line:col:` taken from
MLIR's diagnostic. When the failing operation carries a `loc(...)` from elsewhere (a Python source
line, as `jax ... as_text(debug_info=True)` writes), the module is parsed again with its `loc(...)`
annotations dropped so that the error still points at a line of the file.

Not handled yet: modules with more than one partition or replica (they are compiled for one device);
`jax.export` serialized artifacts (portable VHLO bytecode, which `_xla.mlir.deserialize_portable_artifact`
would turn into StableHLO); recompiling HLO that XLA has already optimized (refused with a
`HloTextError`: the optimized text is the answer already). Modules parsed from text without `loc(...)`
annotations compile to HLO whose metadata says `source_file="-"` with the line in the .mlir file.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jax._src import compiler as jax_compiler
from jax._src.interpreters import mlir as jax_mlir
from jax._src.lib import _jax
from jax._src.lib import xla_client as xc
from jax._src.lib.mlir import ir

from irscope.errors import HloTextError as HloTextError
from irscope.errors import IRFileError as IRFileError
from irscope.errors import StableHLOError as StableHLOError
from irscope.frontends.jax_lower import Compiled, device_for, normalize_cost
from irscope.util.files import write_atomic
from irscope.util.text import first_line as _first_line

# MLIR bytecode files start with these four bytes.
_BYTECODE_MAGIC = b"ML\xefR"
# `"file":12:5` inside an MLIR location, as diagnostics print it.
_FILE_LOC = re.compile(r'"(?P<file>(?:[^"\\]|\\.)*)":(?P<line>\d+):(?P<col>\d+)')
# XLA's HLO parser reports `was parsing 5:26: error: ...`.
_HLO_LOC = re.compile(r"was parsing (?P<line>\d+):(?P<col>\d+): error: (?P<msg>[^\n]*)")


@dataclass(frozen=True)
class MlirModule:
    """A parsed and verified StableHLO/MHLO module, kept as bytecode so it outlives its MLIR context."""

    path: str
    """The file it came from as the user named it, or `<string>`."""
    name: str
    """The module's `sym_name` (`jit_mlp`), or '' if it has none."""
    text: str = field(repr=False)
    """The module as MLIR prints it (generic attributes kept, locations dropped)."""
    dialects: frozenset[str]
    """Dialects of the operations it uses: `{"builtin", "func", "stablehlo"}`, ..."""
    bytecode: bytes = field(repr=False)
    """MLIR bytecode of the module, what XLA's converters and compilers take."""


def read_mlir(path: str | os.PathLike[str]) -> MlirModule:
    """Read, parse and verify a `.mlir` file (text or MLIR bytecode); `StableHLOError` if malformed."""
    shown = str(path)
    try:
        source = Path(path).read_bytes()
    except OSError as e:
        raise StableHLOError(e.strerror or str(e), path=shown) from None
    return parse_mlir(source, path=shown)


def parse_mlir(source: str | bytes, *, path: str = "<string>") -> MlirModule:
    """Parse and verify MLIR text or bytecode; `path` names it in error messages."""
    if isinstance(source, bytes) and not source.startswith(_BYTECODE_MAGIC):
        try:
            source = source.decode("utf-8")
        except UnicodeDecodeError as e:
            raise StableHLOError(f"not MLIR text or bytecode ({e.reason} at byte {e.start})", path=path) from None
    with jax_mlir.make_ir_context():
        try:
            module = ir.Module.parse(source)
        except ir.MLIRError as e:
            raise _mlir_error(e, source, path) from None
        dialects: set[str] = set()

        def visit(op: Any) -> Any:
            dialects.add(op.name.split(".", 1)[0])
            return ir.WalkResult.ADVANCE

        module.operation.walk(visit)
        name_attr = module.operation.attributes["sym_name"] if "sym_name" in module.operation.attributes else None
        name = ir.StringAttr(name_attr).value if name_attr is not None else ""
        return MlirModule(
            path=path,
            name=name,
            text=str(module),
            dialects=frozenset(dialects),
            bytecode=jax_mlir.module_to_bytecode(module),
        )


def write_mlir(path: str | os.PathLike[str], text: str) -> None:
    """Write MLIR text to `path` whole or not at all (a temporary file in the same folder, then rename)."""
    write_atomic(path, text, make_dirs=False)


def to_hlo_text(module: MlirModule) -> str:
    """The module as HLO text, before optimization (jaxlib's `mlir_module_to_xla_computation`)."""
    try:
        computation = xc._xla.mlir.mlir_module_to_xla_computation(
            module.bytecode, use_tuple_args=False, return_tuple=False
        )
    except _jax.JaxRuntimeError as e:
        raise StableHLOError(f"cannot convert to HLO: {_xla_message(e)}", path=module.path) from None
    return computation.as_hlo_text()


def compile_mlir(
    module: MlirModule,
    *,
    backend: str | None = None,
    compiler_options: Mapping[str, Any] | None = None,
) -> Compiled:
    """Compile a module with XLA for one device of `backend` (default: JAX's default backend).

    Returns the optimized HLO text and XLA's cost analysis, as `jax_lower.Lowered.compiled` does, so the
    two paths can be compared number for number. This is the one place irscope calls the XLA compiler
    outside `jax.jit`. An unavailable backend raises `jax_lower.LoweringError`.
    """
    device = device_for(backend)
    client = device.client
    options = jax_compiler.get_compile_options(
        num_replicas=1,
        num_partitions=1,
        env_options_overrides={k: str(v) for k, v in (compiler_options or {}).items()} or None,
        backend=client,
    )
    start = time.perf_counter()
    with jax_mlir.make_ir_context():
        ir_module = ir.Module.parse(module.bytecode)
        try:
            executable = client.compile_and_load(
                ir_module, executable_devices=xc.DeviceList((device,)), compile_options=options
            )
        except _jax.JaxRuntimeError as e:
            raise StableHLOError(f"XLA cannot compile it: {_xla_message(e)}", path=module.path) from None
    seconds = time.perf_counter() - start
    return Compiled(
        optimized=executable.get_hlo_text(),
        cost=normalize_cost(executable.cost_analysis()),
        seconds=seconds,
    )


def hlo_text_to_mlir(text: str, *, path: str = "<string>") -> MlirModule:
    """Pre-optimization HLO text -> a StableHLO module (XLA's HLO parser, then `hlo_to_stablehlo`).

    Compile the result with `compile_mlir` to see what XLA makes of an HLO dump. Raises `HloTextError`
    with XLA's line and column for text its parser rejects, and for an already optimized module
    (`is_scheduled=true`), which XLA cannot compile a second time.
    """
    header = text.lstrip().split("\n", 1)[0]
    if "is_scheduled=true" in header:
        raise HloTextError(
            "this HLO module is already optimized (is_scheduled=true); XLA cannot compile it again, "
            "read it as it is instead",
            path=path, line=1,
        )
    from jaxlib import _hlo  # XLA's own HLO text parser; not re-exported under jax._src.lib

    try:
        hlo_module = _hlo.hlo_module_from_text(text)
    except _jax.JaxRuntimeError as e:
        # XLA lists several `was parsing L:C: error:` lines; the first that does not end in ':' (and
        # so needs no continuation) is usually the one that names the problem.
        matches = list(_HLO_LOC.finditer(str(e)))
        match = next((m for m in matches if not m["msg"].rstrip().endswith(":")), None)
        match = match or (matches[0] if matches else None)
        if match:
            raise HloTextError(
                match["msg"], path=path, line=int(match["line"]), column=int(match["col"])
            ) from None
        raise HloTextError(_xla_message(e), path=path) from None
    try:
        bytecode = xc._xla.mlir.hlo_to_stablehlo(hlo_module.as_serialized_hlo_module_proto())
    except _jax.JaxRuntimeError as e:
        raise HloTextError(f"cannot convert to StableHLO: {_xla_message(e)}", path=path) from None
    return parse_mlir(bytecode, path=path)


def _mlir_error(error: ir.MLIRError, source: str | bytes, path: str) -> StableHLOError:
    """The first error diagnostic as `path:line:col: message`."""
    diagnostics = list(error.error_diagnostics)
    if not diagnostics:
        return StableHLOError(_first_line(error.message), path=path)
    first = diagnostics[0]
    message = _first_line(first.message)
    match = _FILE_LOC.search(str(first.location))
    if match and match["file"] == "-":  # the parser's own position in `source`
        return StableHLOError(message, path=path, line=int(match["line"]), column=int(match["col"]))
    if isinstance(source, str) and "loc(" in source:
        # The failing op carries a location from elsewhere (e.g. Python source). Parse again without
        # locations so MLIR reports the position in this file; lines do not move.
        stripped = _strip_locations(source)
        with jax_mlir.make_ir_context():
            try:
                ir.Module.parse(stripped)
            except ir.MLIRError as e:
                again = list(e.error_diagnostics)
                located = _FILE_LOC.search(str(again[0].location)) if again else None
                if located and located["file"] == "-":
                    return StableHLOError(
                        _first_line(again[0].message), path=path,
                        line=int(located["line"]), column=int(located["col"]),
                    )
    return StableHLOError(f"{message} (at {first.location})", path=path)


def _strip_locations(text: str) -> str:
    """Drop every trailing `loc(...)` annotation (balanced parentheses, quoted strings respected).

    `#locN = loc(...)` alias definitions are left alone: unused aliases are legal.
    """
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        j = text.find("loc(", i)
        if j < 0:
            out.append(text[i:])
            break
        standalone = j == 0 or not (text[j - 1].isalnum() or text[j - 1] in "_.#")
        is_alias = text[i:j].rstrip().endswith("=")  # `#loc3 = loc(...)`: keep, others may use it
        if not standalone or is_alias:
            out.append(text[i: j + 4])
            i = j + 4
            continue
        out.append(text[i:j])
        depth, k, in_string = 0, j + 3, False
        while k < n:
            ch = text[k]
            if in_string:
                if ch == "\\":
                    k += 1
                elif ch == '"':
                    in_string = False
            elif ch == '"':
                in_string = True
            elif ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
                if depth == 0:
                    break
            k += 1
        i = k + 1
    return "".join(out)


def _xla_message(error: Exception) -> str:
    """XLA's status text without its `UNKNOWN:`/`-:1:1: error:` prefixes, first line only."""
    text = _first_line(str(error))
    text = re.sub(r"^[A-Z_]+: ", "", text)
    return re.sub(r"^-:\d+:\d+: error: ", "", text)

