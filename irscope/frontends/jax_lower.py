"""Lower a JAX function to its three IR texts: StableHLO, HLO before optimization, HLO after.

    lowered = lower(fn, [jax.ShapeDtypeStruct((256, 512), jnp.float32), ...])
    lowered.stablehlo   # what jax.jit(fn).lower(*args) hands to XLA        (no compilation)
    lowered.hlo         # the same module as HLO text, before XLA's passes   (no compilation)
    lowered.optimized   # the HLO XLA will run, after fusion and layout      (compiles, once)
    lowered.cost        # XLA's cost analysis of the optimized module         (compiles, once)

`stablehlo` and `hlo` are ready as soon as `lower` returns; the first read of `optimized`, `cost` or
`compiled` compiles the module for the chosen backend and keeps the result, so printing
`--stage stablehlo` never compiles. Arguments may be `jax.ShapeDtypeStruct`s, arrays, spec strings
(`"f32[256,512]"`, see `irscope.frontends.spec`) or pytrees of them: lowering needs shapes, not data.

`hlo` keeps XLA's debug metadata (`metadata={op_name="jit(f)/dot_general" ...}` and the stack-frame
tables), as the optimized text always does, so instructions can be traced back to source before and
after optimization. `stablehlo` is printed without MLIR locations, as `jax.jit(...).lower().as_text()`
prints it.

A function that fails to trace (a shape mismatch, a Python error inside it) is the user's error:
`lower` raises `LoweringError` with one line naming the file and line in the user's code.

Not handled yet: multi-device programs (shardings, more than one partition), and XLA flags that only
take effect at backend start-up (`XLA_FLAGS`); per-compilation options go through `compiler_options`.
"""

from __future__ import annotations

import os
import time
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import jax
import numpy as np

from irscope.errors import LoweringError as LoweringError
from irscope.frontends.spec import SpecError, parse_args
from irscope.util.text import first_line as _first_line

_X64_DTYPES = frozenset({"int64", "uint64", "float64", "complex128"})

Stage = Literal["stablehlo", "hlo", "optimized"]
STAGES: tuple[Stage, ...] = ("stablehlo", "hlo", "optimized")

# Frames in these directories are library code, never the place a user's error is reported at.
_LIBRARY_DIRS = tuple(
    str(Path(p).resolve()) + os.sep
    for p in {
        os.path.dirname(os.__file__),  # the standard library
        os.path.dirname(jax.__file__),
        os.path.dirname(np.__file__),
        str(Path(__file__).resolve().parents[1]),  # irscope itself
    }
)


def _exclude_from_source_info() -> None:
    """Keep this file out of the stack frames JAX records in HLO metadata (private JAX API; optional)."""
    try:
        from jax._src import source_info_util
    except ImportError:  # pragma: no cover - the private module moved; metadata just shows this frame
        return
    register = getattr(source_info_util, "register_exclusion", None)
    if register is not None:
        register(__file__)


_exclude_from_source_info()


@dataclass(frozen=True)
class Compiled:
    """The result of compiling a lowered module with XLA for one backend."""

    optimized: str
    """The optimized HLO module as text (`jax.stages.Compiled.as_text()`)."""
    cost: Mapping[str, float]
    """XLA's cost analysis of the optimized module, as a flat dict (see `normalize_cost`)."""
    seconds: float
    """Wall time XLA took to compile, in seconds."""
    stage: str = "optimized"
    """`optimized`, or `hlo` when XLA could not compile the module and `optimized` holds the HLO
    before optimization instead (`stablehlo.compile_mlir` on an entry with tuple-typed arguments)."""
    note: str | None = None
    """Why `stage` is not `optimized`, for the user."""
    memory: MemoryAnalysis | None = None
    """XLA's `memory_analysis()` of the compile (None where the backend reports none)."""


@dataclass(frozen=True, eq=False)
class Lowered:
    """A JAX function lowered for one backend; compiled on first use of `optimized`/`cost`."""

    name: str
    """The module name, `jit_<function name>`."""
    backend: str
    """The platform it is lowered for (`cpu`, `cuda`, `tpu`, ...)."""
    stablehlo: str = field(repr=False)
    """The StableHLO module (MLIR text) that JAX hands to XLA."""
    hlo: str = field(repr=False)
    """The same module as HLO text, before any XLA pass, with debug metadata."""
    seconds: float
    """Wall time to trace and lower the function, in seconds."""
    jax_lowered: jax.stages.Lowered = field(repr=False)
    """JAX's own `Lowered` object, for anything this one does not expose."""
    compiler_options: Mapping[str, Any] = field(default_factory=dict, repr=False)
    """XLA debug options passed to the compiler (`{"xla_cpu_enable_fast_math": False}`, ...)."""

    @cached_property
    def compiled(self) -> Compiled:
        """Compile (once) and return the optimized module and its cost analysis."""
        start = time.perf_counter()
        compiled = self.jax_lowered.compile(compiler_options=dict(self.compiler_options) or None)
        seconds = time.perf_counter() - start
        return Compiled(
            optimized=compiled.as_text() or "",
            cost=normalize_cost(compiled.cost_analysis()),
            seconds=seconds,
            memory=MemoryAnalysis.of(compiled.memory_analysis()),
        )

    @property
    def optimized(self) -> str:
        """The optimized HLO text (compiles on first use)."""
        return self.compiled.optimized

    @property
    def cost(self) -> Mapping[str, float]:
        """XLA's cost analysis of the optimized module (compiles on first use)."""
        return self.compiled.cost

    def text(self, stage: Stage) -> str:
        """The IR text of one stage: `stablehlo`, `hlo` or `optimized` (only this one compiles)."""
        if stage == "stablehlo":
            return self.stablehlo
        if stage == "hlo":
            return self.hlo
        if stage == "optimized":
            return self.optimized
        raise ValueError(f"unknown stage: {stage!r} (expected one of {', '.join(STAGES)})")


def lower(
    fn: Callable[..., Any],
    args: Sequence[Any] | str,
    *,
    backend: str | None = None,
    static_argnums: int | Sequence[int] = (),
    compiler_options: Mapping[str, Any] | None = None,
) -> Lowered:
    """Trace and lower `fn` at the shapes of `args` for `backend` (default: JAX's default backend).

    Arguments:
        fn: any function `jax.jit` accepts.
        args: positional arguments: `ShapeDtypeStruct`s, arrays, spec strings, pytrees of those, or one
            spec string for all of them (`"f32[256,512] f32[512,1024]"`). Arguments at
            `static_argnums` are passed through as they are.
        backend: `cpu`, `gpu`, `tpu`, ...; a backend that is not available raises `LoweringError`.
        static_argnums: as for `jax.jit`.
        compiler_options: XLA debug options for the compilation step (as `Lowered.compile` takes them).

    Returns a `Lowered` whose `stablehlo` and `hlo` are ready; `optimized` and `cost` compile on first use.
    Raises `SpecError` for a malformed spec string and `LoweringError` when tracing fails.
    If any argument has a 64-bit dtype, the function is lowered with `jax.enable_x64(True)`, since without
    it JAX would silently lower `f64[...]` as `f32[...]`.
    """
    statics = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)
    abstract = abstractify(args, static_argnums=statics)
    device = device_for(backend)
    x64 = bool(jax.config.jax_enable_x64) or _needs_x64(a for i, a in enumerate(abstract) if i not in statics)
    start = time.perf_counter()
    try:
        with jax.default_device(device), jax.enable_x64(x64):
            jax_lowered = jax.jit(fn, static_argnums=statics).lower(*abstract)
    except Exception as e:  # anything raised while tracing the user's function is the user's error
        raise LoweringError(user_error_line(e)) from e
    seconds = time.perf_counter() - start
    return Lowered(
        name=_module_name(jax_lowered),
        backend=device.platform,
        stablehlo=jax_lowered.as_text(),
        hlo=jax_lowered.as_text(dialect="hlo", debug_info=True),
        seconds=seconds,
        jax_lowered=jax_lowered,
        compiler_options=dict(compiler_options or {}),
    )


@dataclass(frozen=True)
class MemoryAnalysis:
    """The compiler's buffer sizes for one compiled program (`Compiled.memory_analysis()`), per device."""

    argument_bytes: int
    """Bytes of the parameters."""
    output_bytes: int
    """Bytes of the outputs."""
    alias_bytes: int
    """Bytes of outputs that share a buffer with a parameter (donated)."""
    temp_bytes: int
    """Bytes of the scratch buffers the program allocates while it runs."""
    generated_code_bytes: int = 0
    """Size of the compiled code (0 where the compiler does not report it)."""

    @classmethod
    def of(cls, stats: Any) -> MemoryAnalysis | None:
        """From what `Compiled.memory_analysis()` (or `get_compiled_memory_stats()`) returns; None for None."""
        if stats is None:
            return None
        return cls(argument_bytes=int(stats.argument_size_in_bytes), output_bytes=int(stats.output_size_in_bytes),
                   alias_bytes=int(stats.alias_size_in_bytes), temp_bytes=int(stats.temp_size_in_bytes),
                   generated_code_bytes=int(getattr(stats, "generated_code_size_in_bytes", 0) or 0))

    def to_json(self) -> dict[str, int]:
        return {"argument_bytes": self.argument_bytes, "output_bytes": self.output_bytes,
                "alias_bytes": self.alias_bytes, "temp_bytes": self.temp_bytes,
                "generated_code_bytes": self.generated_code_bytes}


def abstractify(args: Sequence[Any] | str, *, static_argnums: Iterable[int] = ()) -> tuple[Any, ...]:
    """Arguments -> the same pytrees with every leaf a `jax.ShapeDtypeStruct`.

    A leaf may be a `ShapeDtypeStruct`, anything with `.shape` and `.dtype` (arrays), or a one-token spec
    string; a whole spec string stands for all the arguments. Python scalars stay as they are (JAX
    treats them as weakly typed scalars). Arguments at `static_argnums` are left untouched.
    Raises `SpecError` for a malformed spec.
    """
    if isinstance(args, str):
        return parse_args(args)
    statics = set(static_argnums)
    return tuple(a if i in statics else jax.tree.map(_abstract_leaf, a) for i, a in enumerate(args))


def _abstract_leaf(leaf: Any) -> Any:
    if isinstance(leaf, jax.ShapeDtypeStruct):
        return leaf
    if isinstance(leaf, str):
        specs = parse_args(leaf)
        if len(specs) != 1:
            raise SpecError(f"expected one argument spec, got {len(specs)} in {leaf!r}", token=leaf)
        return specs[0]
    if hasattr(leaf, "shape") and hasattr(leaf, "dtype"):
        return jax.ShapeDtypeStruct(tuple(leaf.shape), leaf.dtype)
    return leaf


def _needs_x64(args: Iterable[Any]) -> bool:
    """Whether any leaf has a 64-bit dtype, which JAX lowers as 32-bit unless x64 is enabled."""
    leaves = (leaf for a in args for leaf in jax.tree.leaves(a) if hasattr(leaf, "dtype"))
    return any(str(leaf.dtype) in _X64_DTYPES for leaf in leaves)  # str(): key<fry> is no numpy dtype


def normalize_cost(raw: Any) -> dict[str, float]:
    """XLA's `cost_analysis()` result -> one flat `{name: float}` dict.

    Depending on the JAX version it is a dict, a list with one dict per HLO module, or None (backend
    without cost analysis). Dicts in a list are summed key by key; non-numeric values are dropped.
    Keys are XLA's: `flops`, `transcendentals`, `bytes accessed`, `bytes accessed0{}` (operand 0),
    `bytes accessedout{}`, `utilization0{}`, `optimal_seconds`, ...
    """
    if raw is None:
        return {}
    dicts = [raw] if isinstance(raw, Mapping) else list(raw)
    out: dict[str, float] = {}
    for d in dicts:
        for key, value in (d or {}).items():
            try:
                out[str(key)] = out.get(str(key), 0.0) + float(value)
            except (TypeError, ValueError):
                continue
    return out


def user_error_line(exc: BaseException, *, files: Iterable[str | os.PathLike[str]] | None = None) -> str:
    """`path:line: ExceptionType: first line of the message`, at the innermost frame of the user's code.

    The user's code is any frame outside the standard library, JAX, numpy, irscope and site-packages,
    and, when `files` is given, inside one of those files or directories. A `SyntaxError` reports its own file, line and column.
    """
    message = _first_line(str(exc))
    kind = type(exc).__name__
    if isinstance(exc, SyntaxError) and exc.filename and exc.lineno:
        col = f":{exc.offset}" if exc.offset else ""
        return f"{_display(exc.filename)}:{exc.lineno}{col}: {kind}: {_first_line(exc.msg or '')}"
    wanted = [str(Path(f).resolve()) for f in files] if files is not None else None
    location = ""
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        filename = frame.f_code.co_filename
        if _is_user_file(filename, wanted):
            location = f"{_display(filename)}:{lineno}: "
    return f"{location}{kind}: {message}" if message else f"{location}{kind}"


def _is_user_file(filename: str, wanted: list[str] | None) -> bool:
    if filename.startswith("<"):
        return False
    path = str(Path(filename).resolve())
    if path.startswith(_LIBRARY_DIRS) or f"{os.sep}site-packages{os.sep}" in path:
        return False
    return wanted is None or any(path == w or path.startswith(w.rstrip(os.sep) + os.sep) for w in wanted)



def _display(filename: str) -> str:
    """A path relative to the working directory when it is under it, else as given."""
    try:
        return os.path.relpath(filename) if not os.path.relpath(filename).startswith("..") else filename
    except ValueError:  # another drive on Windows
        return filename


def device_for(backend: str | None) -> jax.Device:
    """The first device of `backend` (None: JAX's default); `LoweringError` if it is not available."""
    try:
        return jax.devices(backend)[0]
    except RuntimeError as e:
        available = sorted({d.platform for d in jax.devices()} | {jax.default_backend()})
        raise LoweringError(
            f"backend {backend!r} is not available here (available: {', '.join(available)})"
        ) from e


def _module_name(jax_lowered: jax.stages.Lowered) -> str:
    module = jax_lowered.compiler_ir("stablehlo")
    name = module.operation.attributes["sym_name"]
    return str(name.value) if hasattr(name, "value") else str(name).strip('"')
