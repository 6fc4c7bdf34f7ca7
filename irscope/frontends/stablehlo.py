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
MLIR's diagnostic, with the whole diagnostic (its later lines and notes indented under the first).
When the failing operation carries a `loc(...)` from elsewhere (a Python source line, as
`jax ... as_text(debug_info=True)` writes), the module is parsed again with its `loc(...)` annotations
dropped so that the error still points at a line of the file. Types jaxlib's Python bindings do not
register (`!quant.uniform`) are handed to XLA's own converter, whose answer is the real limit
("'stablehlo.uniform_quantize' op can't be translated to XLA HLO").

XLA's compiler aborts the process (a C++ check failure, exit 134) on some modules it should reject:
an entry returning an unranked `tensor<*xi32>`, a sharding listing more devices than tiles. So
`compile_mlir` first checks what the MLIR bindings can check cheaply (`check_for_xla`: ranked entry
types, sharding tile counts against their device lists and ranks), then compiles in a child process:
a fork of this process while it is safe to fork (no XLA client and no MLIR worker threads started
yet; irscope's MLIR contexts run single-threaded for that reason), which the CLI always is; with
`isolate=True` a fresh interpreter otherwise. An abort in the child becomes a `StableHLOError`
naming XLA's failed check. Measured on a 654-byte MLP module (`benchmarks/isolated_compile.py`,
2 shared cores): 0.08 s in process with XLA's client up, 0.18 s in a fork, 4.2 s in a fresh
interpreter.

MLIR's bytecode reader trusts its input: corrupted bytecode can abort the process (a C++ exception
from the bindings through code that cannot unwind, a corrupted heap) or loop. So `parse_mlir` reads
bytecode in a forked child too (about 28 ms more on a 730-byte module), stops it after a time limit,
and takes the parsed module back pickled; an abort or a loop there is a `StableHLOError`. Where no
fork is safe (XLA already runs in this process) bytecode is read in process. Text is read in process.

An entry with tuple-typed arguments or results (old MHLO) is not compiled (PJRT rejects tuple
parameters, `Invalid XLA PrimitiveType: 13 (TUPLE)`); `compile_mlir` returns jaxlib's HLO conversion
of it instead, marked `stage="hlo"`. MLIR bytecode written by `jax.export` (portable VHLO artifacts)
is deserialized to StableHLO first.

Not handled yet: modules with more than one partition or replica (they are compiled for one device);
recompiling HLO that XLA has already optimized (refused with a `HloTextError`: the optimized text is
the answer already). Modules parsed from text without `loc(...)` annotations compile to HLO whose
metadata says `source_file="-"` with the line in the .mlir file.
"""

from __future__ import annotations

import math
import os
import pickle
import re
import select
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
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
from irscope.frontends.jax_lower import Compiled, LoweringError, device_for, normalize_cost
from irscope.util.files import write_atomic

# MLIR bytecode files start with these four bytes.
_BYTECODE_MAGIC = b"ML\xefR"
# `"file":12:5` inside an MLIR location, as diagnostics print it.
_FILE_LOC = re.compile(r'"(?P<file>(?:[^"\\]|\\.)*)":(?P<line>\d+):(?P<col>\d+)')
# XLA's HLO parser reports `was parsing 5:26: error: ...`.
_HLO_LOC = re.compile(r"was parsing (?P<line>\d+):(?P<col>\d+): error: (?P<msg>[^\n]*)")
# XLA's MLIR converters report `-:2:8: error: ...` for a position in the text they were given.
_XLA_MLIR_LOC = re.compile(r"-:(?P<line>\d+):(?P<col>\d+): error: (?P<msg>[^\n]*)")
# MLIR's advice when a dialect is not registered, which speaks to mlir-opt users, not ours.
_UNREGISTERED_ADVICE = re.compile(r"\.?\s*If this is intended, please (call allowUnregisteredDialects|use "
                                  r"-allow-unregistered-dialect).*$", re.S)
# An unregistered type or attribute: `!"quant"<"uniform<...>">`, `#"sparse_tensor"<"encoding<{...">`.
_UNREGISTERED = re.compile(r'[!#]"(?P<dialect>[\w.]+)"<')
# `Dialect `check' not found for custom op 'check.expect_eq'`.
_DIALECT_NOT_FOUND = re.compile(r"Dialect `(?P<dialect>[\w.]+)' not found")
# `F1206 13:35:08.98 11484 shape.h:843] Check failed: ...`, XLA's fatal log line before an abort.
_FATAL_LINE = re.compile(r"^F\d{4} [\d:.]+\s+\d+ (?P<where>[\w./-]+:\d+)\] (?P<msg>.*)$", re.M)


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
    entry_types: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
    """The `@main` function's argument and result types as MLIR prints them; empty without `@main`."""
    shardings: tuple[tuple[str, str, int | None], ...] = ()
    """`(where, sharding, rank)` for every `mhlo.sharding` attribute on `@main`'s arguments and results
    and on operations (`"@main result 0"`, `"{devices=[2,1]0,1}"`, 2); rank None if not one ranked tensor."""
    problems: tuple[str, ...] = ()
    """What XLA would abort on instead of rejecting (see `check_for_xla`), found while parsing."""

    @property
    def tuple_entry(self) -> bool:
        """`@main` takes or returns a tuple (old MHLO), which PJRT cannot compile."""
        return any(t.startswith("tuple<") for types in self.entry_types for t in types)


def read_mlir(path: str | os.PathLike[str]) -> MlirModule:
    """Read, parse and verify a `.mlir` file (text or MLIR bytecode); `StableHLOError` if malformed."""
    shown = str(path)
    try:
        source = Path(path).read_bytes()
    except OSError as e:
        raise StableHLOError(e.strerror or str(e), path=shown) from None
    return parse_mlir(source, path=shown)


@contextmanager
def _context() -> Iterator[ir.Context]:
    """jax's MLIR context (func/stablehlo/mhlo/chlo/sdy/vhlo registered), single-threaded.

    MLIR's worker threads would outlive the context and make a later fork of this process unsafe
    (`compile_mlir` forks to isolate XLA's aborts); parsing and verifying one module needs none.
    """
    with jax_mlir.make_ir_context() as context:
        context.enable_multithreading(False)
        yield context


def parse_mlir(source: str | bytes, *, path: str = "<string>", isolate: bool | None = None) -> MlirModule:
    """Parse and verify MLIR text or bytecode; `path` names it in error messages.

    Portable artifacts (VHLO bytecode, as `jax.export` serializes) are deserialized to StableHLO.

    MLIR's bytecode reader trusts its input: a corrupted file can abort the process (an exception
    thrown through C++ code that cannot unwind, a corrupted heap). So bytecode is parsed in a forked
    child where that is safe (see `_fork_is_safe`), and the parsed module comes back pickled; an abort
    there is a `StableHLOError` here. `isolate=False` parses in this process (bytecode irscope or XLA
    wrote itself); where no fork is safe, bytecode is parsed here too. Text is parsed here. The fork
    costs about 28 ms on a 730-byte module (35 ms against 7 ms in process, 2 shared cores).
    """
    if isinstance(source, bytes) and not source.startswith(_BYTECODE_MAGIC):
        try:
            source = source.decode("utf-8")
        except UnicodeDecodeError as e:
            raise StableHLOError(f"not MLIR text or bytecode ({e.reason} at byte {e.start})", path=path) from None
    if isinstance(source, bytes) and isolate is not False and _fork_is_safe():
        return _parse_forked(source, path)
    try:
        return _parse_here(source, path)
    except RuntimeError as e:  # the bindings' own failures on malformed input (a string not UTF-8)
        raise StableHLOError(f"malformed module: {_whole(str(e))}", path=path) from None


# How long the child may parse bytecode before it counts as looping: generous (bytecode reads at tens
# of MB/s; a 1 kB fuzzed file looped for minutes), so that only a reader that is stuck is stopped.
_PARSE_SECONDS = 30.0
_PARSE_SECONDS_PER_MB = 2.0


def _parse_forked(source: bytes, path: str) -> MlirModule:
    """`_parse_here` in a forked child; its `MlirModule` or error comes back, an abort is an error."""
    limit = _PARSE_SECONDS + _PARSE_SECONDS_PER_MB * len(source) / 1e6
    payload, exit_code, stderr = _in_fork(_parse_outcome, source, path, limit=limit)
    if payload is None:
        raise StableHLOError(f"MLIR's bytecode reader did not finish in {limit:.0f} s (corrupted bytecode can "
                             "make it loop); it was stopped", path=path)
    if exit_code == 0 and payload:
        result = pickle.loads(payload)
        if isinstance(result, MlirModule):
            return result
        _, message, line, column = result
        raise StableHLOError(message, path=path, line=line, column=column)
    if exit_code > 0 and "Traceback (most recent call last)" in stderr:  # irscope's bug, not the user's
        raise RuntimeError(f"the child process parsing {path} failed:\n{stderr.strip()}")
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    reason = " ".join(lines[-2:]) if lines else "no message"
    how = f"signal {-exit_code}" if exit_code < 0 else f"exit status {exit_code}"
    raise StableHLOError(f"MLIR's bytecode reader aborted on this file ({how}): {reason}", path=path)


def _parse_outcome(source: bytes, path: str) -> Any:
    """What the parsing child sends back: an `MlirModule`, or a `StableHLOError`'s fields."""
    try:
        return _parse_here(source, path)
    except StableHLOError as e:
        return ("StableHLOError", e.message, e.line, e.column)
    except RuntimeError as e:
        return ("StableHLOError", f"malformed module: {_whole(str(e))}", None, None)


def _parse_here(source: str | bytes, path: str) -> MlirModule:
    """Parse, verify and describe a module in this process (text, or bytecode already vetted)."""
    with _context():
        try:
            module = ir.Module.parse(source)
        except ir.MLIRError as e:
            raise _mlir_error(e, source, path) from None
        dialects = _dialects(module)
        if "vhlo" in dialects:
            try:
                module = xc._xla.mlir.deserialize_portable_artifact(
                    source if isinstance(source, bytes) else jax_mlir.module_to_bytecode(module))
            except (ir.MLIRError, _jax.JaxRuntimeError, ValueError) as e:
                raise StableHLOError(f"cannot read this portable (VHLO) artifact: {_xla_message(e)}",
                                     path=path) from None
            dialects = _dialects(module)
        name_attr = module.operation.attributes["sym_name"] if "sym_name" in module.operation.attributes else None
        name = ir.StringAttr(name_attr).value if name_attr is not None else ""
        entry_types, shardings = _entry_and_shardings(module)
        return MlirModule(
            path=path,
            name=name,
            text=str(module),
            dialects=frozenset(dialects),
            bytecode=jax_mlir.module_to_bytecode(module),
            entry_types=entry_types,
            shardings=shardings,
            problems=tuple(_problems(entry_types, shardings)),
        )


def _dialects(module: Any) -> set[str]:
    dialects: set[str] = set()

    def visit(op: Any) -> Any:
        dialects.add(op.name.split(".", 1)[0])
        return ir.WalkResult.ADVANCE

    module.operation.walk(visit)
    return dialects


def _rank(t: Any) -> int | None:
    t = t.maybe_downcast() if hasattr(t, "maybe_downcast") else t
    return t.rank if isinstance(t, ir.RankedTensorType) else None


def _entry_and_shardings(
    module: Any,
) -> tuple[tuple[tuple[str, ...], tuple[str, ...]], tuple[tuple[str, str, int | None], ...]]:
    """`@main`'s argument and result types, and every `mhlo.sharding` string with where it sits."""
    entry: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
    shardings: list[tuple[str, str, int | None]] = []

    def sharding_of(attrs: Any) -> str | None:
        if not isinstance(attrs, ir.DictAttr) or "mhlo.sharding" not in attrs:
            return None
        value = attrs["mhlo.sharding"]
        return value.value if isinstance(value, ir.StringAttr) else None

    for op in module.body.operations:
        if op.operation.name != "func.func":
            continue
        attrs = op.operation.attributes
        if "sym_name" not in attrs or ir.StringAttr(attrs["sym_name"]).value != "main":
            continue
        ftype = ir.TypeAttr(attrs["function_type"]).value
        ftype = ftype.maybe_downcast() if hasattr(ftype, "maybe_downcast") else ftype
        if not isinstance(ftype, ir.FunctionType):
            continue
        entry = (tuple(str(t) for t in ftype.inputs), tuple(str(t) for t in ftype.results))
        for key, kind, types in (("arg_attrs", "argument", ftype.inputs), ("res_attrs", "result", ftype.results)):
            if key not in attrs:
                continue
            for i, a in enumerate(ir.ArrayAttr(attrs[key])):
                found = sharding_of(a)
                if found is not None and i < len(types):
                    shardings.append((f"@main {kind} {i}", found, _rank(types[i])))

    def visit(op: Any) -> Any:
        attrs = op.attributes
        if "mhlo.sharding" in attrs and isinstance(attrs["mhlo.sharding"], ir.StringAttr):
            results = list(op.results)
            shardings.append((f"'{op.name}' at {op.location}", attrs["mhlo.sharding"].value,
                              _rank(results[0].type) if len(results) == 1 else None))
        return ir.WalkResult.ADVANCE

    module.operation.walk(visit)
    return entry, tuple(shardings)


# `{devices=[2,2]0,1,2,3}`, `{devices=[2,2]<=[4]}`, `{devices=[2,1,2]<=[2,2]T(1,0) last_tile_dim_replicate}`
_TILED = re.compile(
    r"devices=\[(?P<dims>[\d,\s]+)\]\s*(?:<=\[(?P<iota>[\d,\s]+)\](?:T\([\d,\s]+\))?|(?P<list>[\d,\s]+))"
    r"(?P<rest>[^{}]*)"
)
_LAST_TILE_DIMS = re.compile(r"last_tile_dims=\{(?P<kinds>[^}]*)\}")


def check_sharding(sharding: str, rank: int | None) -> str | None:
    """What is wrong with one HLO sharding string for a tensor of `rank`, or None.

    Checks what XLA aborts on or stumbles over: the tile dimensions must multiply to the number of
    devices listed (or to the iota's size), each device listed once, and the tile rank (without the
    trailing replicated/manual dimensions) must equal the tensor's rank. Tuple shardings are checked
    element by element against no rank. Anything this does not recognise is left to XLA.
    """
    for match in _TILED.finditer(sharding):
        dims = [int(d) for d in match["dims"].replace(" ", "").split(",") if d]
        tiles = math.prod(dims)
        if match["iota"] is not None:
            devices = math.prod(int(d) for d in match["iota"].replace(" ", "").split(",") if d)
        else:
            listed = [int(d) for d in match["list"].replace(" ", "").split(",") if d]
            if len(set(listed)) != len(listed):
                return f"sharding {sharding} lists a device twice"
            devices = len(listed)
        if tiles != devices:
            return f"sharding {sharding} has {tiles} tiles but {devices} devices"
        rest = match["rest"]
        extra = 1 if "last_tile_dim_replicate" in rest else 0
        last = _LAST_TILE_DIMS.search(rest)
        if last:
            extra += len([k for k in last["kinds"].split(",") if k.strip()])
        if rank is not None and not sharding.lstrip().startswith("{{") and len(dims) - extra != rank:
            return f"sharding {sharding} tiles {len(dims) - extra} dimensions of a rank-{rank} tensor"
    return None


def _problems(entry_types: tuple[tuple[str, ...], tuple[str, ...]],
              shardings: tuple[tuple[str, str, int | None], ...]) -> list[str]:
    out = []
    for kind, types in zip(("argument", "result"), entry_types, strict=True):
        for i, t in enumerate(types):
            if "tensor<*" in t:
                out.append(f"@main {kind} {i} is an unranked {t}; XLA compiles ranked tensors only")
    for where, sharding, rank in shardings:
        problem = check_sharding(sharding, rank)
        if problem:
            out.append(f"{where}: {problem}")
    return out


def check_for_xla(module: MlirModule) -> None:
    """Raise `StableHLOError` for what XLA would abort on rather than reject: an unranked entry type,
    a sharding whose tile count does not match its devices or rank (see `check_sharding`)."""
    if module.problems:
        more = f" (and {len(module.problems) - 1} more)" if len(module.problems) > 1 else ""
        raise StableHLOError(f"XLA cannot compile it: {module.problems[0]}{more}", path=module.path)


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
    isolate: bool | None = None,
) -> Compiled:
    """Compile a module with XLA for one device of `backend` (default: JAX's default backend).

    Returns the optimized HLO text and XLA's cost analysis, as `jax_lower.Lowered.compiled` does, so the
    two paths can be compared number for number. This is the one place irscope calls the XLA compiler
    outside `jax.jit`. An unavailable backend raises `jax_lower.LoweringError`; a module XLA rejects,
    or aborts on, raises `StableHLOError`.

    Arguments:
        module: a parsed module (`read_mlir`).
        backend: `cpu`, `gpu`, `tpu`, or None for JAX's default.
        compiler_options: XLA options for this compilation (`{"xla_cpu_enable_fast_math": True}`).
        isolate: True: compile in a child process, so that an abort inside XLA (a C++ check failure)
            is an error here and not the end of this process: a fork while no XLA client runs in this
            process (about 0.1 s more than compiling here on a small module, the child starting its
            own client), else a fresh interpreter (about 4 s more: it imports JAX). False: compile in
            this process. None (the default): the fork where it is safe, else in this process, after
            `check_for_xla` has ruled out the aborts known (`benchmarks/isolated_compile.py`).

    Example:
        >>> c = compile_mlir(read_mlir("mlp.mlir"))                    # doctest: +SKIP
        >>> c.cost["flops"], c.optimized.count("fusion(")             # doctest: +SKIP
        (2101248.0, 3)
    """
    check_for_xla(module)
    if module.tuple_entry:
        start = time.perf_counter()
        text = to_hlo_text(module)
        return Compiled(
            optimized=text, cost={}, seconds=time.perf_counter() - start, stage="hlo",
            note="@main takes or returns tuples, which XLA's compile API rejects; this is jaxlib's "
                 "conversion of the module to HLO, before optimization",
        )
    options = {k: str(v) for k, v in (compiler_options or {}).items()}
    if isolate is False:
        return _compile_here(module.bytecode, backend, options, module.path)
    if _fork_is_safe():
        return _compile_forked(module, backend, options)
    if isolate is None:  # the fast path: XLA already runs here, and the known aborts were checked
        return _compile_here(module.bytecode, backend, options, module.path)
    return _compile_spawned(module, backend, options)


def _compile_here(bytecode: bytes, backend: str | None, options: Mapping[str, str], path: str) -> Compiled:
    """Compile in this process (what the child does in the isolated paths)."""
    device = device_for(backend)
    client = device.client
    compile_options = jax_compiler.get_compile_options(
        num_replicas=1, num_partitions=1, env_options_overrides=dict(options) or None, backend=client,
    )
    start = time.perf_counter()
    try:
        # The bytecode as it is: XLA's parser knows dialects jaxlib's bindings do not (`quant` in
        # modules deserialized from VHLO), and the module was verified when it was read.
        executable = client.compile_and_load(
            bytecode, executable_devices=xc.DeviceList((device,)), compile_options=compile_options
        )
    except _jax.JaxRuntimeError as e:
        raise StableHLOError(f"XLA cannot compile it: {_xla_message(e)}", path=path) from None
    seconds = time.perf_counter() - start
    return Compiled(
        optimized=executable.get_hlo_text(),
        cost=normalize_cost(executable.cost_analysis()),
        seconds=seconds,
    )


def _fork_is_safe() -> bool:
    """No XLA client and no MLIR/LLVM worker threads in this process yet: a fork copies no held lock.

    Threads that do not hold locks across a fork (Python's own, OpenBLAS's, which registers fork
    handlers) are allowed; XLA's thread pools and MLIR's `llvm-worker`s are not.
    """
    if not hasattr(os, "fork"):
        return False
    from jax._src import xla_bridge

    if getattr(xla_bridge, "_backends", None):
        return False
    try:
        names = [Path(f"/proc/self/task/{t}/comm").read_text().strip() for t in os.listdir("/proc/self/task")]
    except OSError:
        return False
    return not any(n.startswith("llvm-worker") for n in names)


def _compile_forked(module: MlirModule, backend: str | None, options: Mapping[str, str]) -> Compiled:
    """Compile in a forked child (`_in_fork`)."""
    payload, exit_code, stderr = _in_fork(_outcome, module.bytecode, backend, options, module.path)
    return _result(payload or b"", exit_code, stderr, module.path)


def _read_until(fd: int, deadline: float | None) -> bytes | None:
    """Everything written to pipe `fd` until its end, or None when `deadline` (monotonic) passes first."""
    chunks = []
    with os.fdopen(fd, "rb", buffering=0) as pipe:
        while True:
            if deadline is not None:
                ready, _, _ = select.select([pipe], [], [], max(0.0, deadline - time.monotonic()))
                if not ready:
                    return None
            chunk = pipe.read(1 << 20)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


def _in_fork(work: Any, *args: Any, limit: float | None = None) -> tuple[bytes | None, int, str]:
    """Run `work(*args)` in a forked child: (its result pickled, its exit code, its stderr).

    The result comes back through a pipe, stderr through a file; the child leaves with `os._exit`,
    running no cleanup of this process's objects. Past `limit` seconds the child is killed and its
    result is None. Only call it when `_fork_is_safe()`.
    """
    read_fd, write_fd = os.pipe()
    with tempfile.TemporaryFile() as err:
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the child: do the work, send the result, and leave without running any cleanup
            status = 0
            try:
                os.close(read_fd)
                os.dup2(err.fileno(), 2)
                result: Any = work(*args)
                with os.fdopen(write_fd, "wb") as out:
                    pickle.dump(result, out)
            except BaseException:  # noqa: BLE001 - whatever happens, the child must not return
                import traceback

                traceback.print_exc()  # into `err`, for `_result`
                status = 1
            finally:
                os._exit(status)
        os.close(write_fd)
        try:
            payload = _read_until(read_fd, None if limit is None else time.monotonic() + limit)
            if payload is None:  # past its time: the child loops, and must not outlive the wait
                os.kill(pid, 9)
            _, status = os.waitpid(pid, 0)
        except BaseException:  # interrupted (Ctrl-C, a time limit): the child must not outlive us
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            raise
        err.seek(0)
        stderr = err.read().decode("utf-8", errors="replace")
    return payload, os.waitstatus_to_exitcode(status), stderr


def _compile_spawned(module: MlirModule, backend: str | None, options: Mapping[str, str]) -> Compiled:
    """Compile in a fresh interpreter (`python -m irscope.frontends.stablehlo`), the module on stdin."""
    request = pickle.dumps((module.bytecode, backend, dict(options), module.path))
    done = subprocess.run(
        [sys.executable, "-m", "irscope.frontends.stablehlo"], input=request, capture_output=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)},
    )
    return _result(done.stdout, done.returncode, done.stderr.decode("utf-8", errors="replace"), module.path)


def _outcome(bytecode: bytes, backend: str | None, options: Mapping[str, str], path: str) -> Any:
    """What a child sends back: a `Compiled`, or the error a user should see, as plain values."""
    try:
        return _compile_here(bytecode, backend, options, path)
    except StableHLOError as e:
        return ("StableHLOError", e.message)
    except LoweringError as e:
        return ("LoweringError", str(e))


def _result(payload: bytes, exit_code: int, stderr: str, path: str) -> Compiled:
    """The child's `Compiled`, or its error raised here; an abort names XLA's failed check."""
    if exit_code == 0 and payload:
        result = pickle.loads(payload)
        if isinstance(result, Compiled):
            _forward(stderr)
            return result
        kind, message = result
        _forward(stderr)
        if kind == "LoweringError":
            raise LoweringError(message)
        raise StableHLOError(message, path=path)
    if exit_code > 0 and "Traceback (most recent call last)" in stderr:  # irscope's bug, not the user's
        raise RuntimeError(f"the child process compiling {path} failed:\n{stderr.strip()}")
    fatal = _FATAL_LINE.search(stderr)
    if fatal:
        reason = f"{fatal['msg'].strip()} ({fatal['where']})"
    else:
        lines = [line.strip() for line in stderr.splitlines() if line.strip() and not line.startswith(("W", "I"))]
        reason = lines[0] if lines else "no message"
    how = f"signal {-exit_code}" if exit_code < 0 else f"exit status {exit_code}"
    raise StableHLOError(f"XLA aborted while compiling it ({how}): {reason}", path=path)


def _forward(stderr: str) -> None:
    """Pass on the child's warnings (XLA logs on stderr), as an in-process compile would show them."""
    if stderr.strip():
        sys.stderr.write(stderr if stderr.endswith("\n") else stderr + "\n")
        sys.stderr.flush()


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
    return parse_mlir(bytecode, path=path, isolate=False)  # XLA wrote it


def _mlir_error(error: ir.MLIRError, source: str | bytes, path: str) -> StableHLOError:
    """The first error diagnostic as `path:line:col: message`, its later lines and notes indented."""
    diagnostics = list(error.error_diagnostics)
    if not diagnostics:
        return StableHLOError(_whole(error.message), path=path)
    first = diagnostics[0]
    message = _diagnostic_text(first, source)
    unregistered = _UNREGISTERED.search(first.message)
    if unregistered and isinstance(source, str):
        xla = _xla_reason(source)  # XLA's converters register more dialects than jaxlib's bindings
        if xla is not None:
            return xla if xla.path != "-" else StableHLOError(xla.message, path=path, line=xla.line,
                                                               column=xla.column)
    match = _FILE_LOC.search(str(first.location))
    if match and match["file"] == "-":  # the parser's own position in `source`
        return StableHLOError(message, path=path, line=int(match["line"]), column=int(match["col"]))
    if isinstance(source, str) and "loc(" in source:
        # The failing op carries a location from elsewhere (e.g. Python source). Parse again without
        # locations so MLIR reports the position in this file; lines do not move.
        stripped = _strip_locations(source)
        with _context():
            try:
                ir.Module.parse(stripped)
            except ir.MLIRError as e:
                again = list(e.error_diagnostics)
                located = _FILE_LOC.search(str(again[0].location)) if again else None
                if located and located["file"] == "-":
                    return StableHLOError(
                        _diagnostic_text(again[0], stripped), path=path,
                        line=int(located["line"]), column=int(located["col"]),
                    )
    head, newline, rest = message.partition("\n")
    return StableHLOError(f"{head}{_at(head, first.location)}{newline}{rest}", path=path)


def _diagnostic_text(diagnostic: Any, source: str | bytes = "") -> str:
    """A diagnostic's whole message and its notes: later lines indented under the first.

    An unregistered dialect gets a sentence that names it and says what it means here (jaxlib's MLIR
    bindings, and so XLA's input, do not include it) instead of MLIR's advice to mlir-opt users.
    """
    text = diagnostic.message
    found = _UNREGISTERED.search(text) or _DIALECT_NOT_FOUND.search(text)
    dialect = found["dialect"] if found else None
    if dialect is None and "unregistered dialect" in text and isinstance(source, str):
        dialect = _dialect_at(source, str(diagnostic.location))
    if dialect is not None or _UNREGISTERED_ADVICE.search(text):
        text = _UNREGISTERED_ADVICE.sub("", text).rstrip(". ")
    if dialect is not None:
        text += (f" (the '{dialect}' dialect is not one XLA takes as input: jaxlib registers func, "
                 "stablehlo, mhlo, chlo, sdy and vhlo)")
    if "found in dialect ('vhlo')" in text:
        text += " (a portable artifact from a newer StableHLO than jaxlib's: it does not know this op version)"
    parts = [text] + [f"note: {_whole(n.message)}{_at(n.message, n.location)}" for n in diagnostic.notes]
    return _whole("\n".join(parts))


def _at(message: str, location: Any) -> str:
    """` (at loc(...))` for a note, unless the location is unknown or the message says it already."""
    where = str(location)
    return "" if where == "loc(unknown)" or f"(at {where})" in message else f" (at {where})"


def _dialect_at(source: str, location: str) -> str | None:
    """The dialect of the operation named at `location` (`"-":18:44`) in `source`, if one is there."""
    match = _FILE_LOC.search(location)
    if not match or match["file"] != "-":
        return None
    lines = source.splitlines()
    line, col = int(match["line"]), int(match["col"])
    if not 0 < line <= len(lines):
        return None
    # MLIR points at the operation's name or just after it: the last `dialect.op` starting by there.
    ops = [m for m in re.finditer(r'"?([A-Za-z_][\w$]*)\.[\w.$]+"?', lines[line - 1]) if m.start() < col]
    return ops[-1][1] if ops else None


def _whole(text: str) -> str:
    """All of a multi-line message: the first line, then the rest indented by four spaces."""
    lines = [line.rstrip() for line in text.strip().splitlines() if line.strip()]
    return "\n    ".join(lines)


def _xla_reason(source: str) -> StableHLOError | None:
    """XLA's own verdict on MLIR text jaxlib's bindings cannot parse, with its position; None if it
    converts (the bindings' error stands then)."""
    try:
        xc._xla.mlir.mlir_module_to_xla_computation(source, use_tuple_args=False, return_tuple=False)
    except _jax.JaxRuntimeError as e:
        text = str(e)
        match = _XLA_MLIR_LOC.search(text)
        if match is None:
            return None
        reason = match["msg"].strip()
        if "can't be translated to XLA HLO" in reason:
            reason += " (XLA has no lowering for it on this backend)"
        return StableHLOError(reason, path="-", line=int(match["line"]), column=int(match["col"]))
    return None


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
    """XLA's status text without its `UNKNOWN:`/`-:1:1: error:` prefixes; later lines indented."""
    text = _whole(str(error))
    text = re.sub(r"^[A-Z_]+: ", "", text)
    return re.sub(r"^-:\d+:\d+: error: ", "", text)



if __name__ == "__main__":  # the child of `compile_mlir(..., isolate=True)` when forking is not safe
    _bytecode, _backend, _options, _path = pickle.loads(sys.stdin.buffer.read())
    sys.stdout.buffer.write(pickle.dumps(_outcome(_bytecode, _backend, _options, _path)))
