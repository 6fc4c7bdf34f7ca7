"""Each Pallas kernel beside XLA's fused kernel and beside eager execution: same inputs, same checks.

For one kernel, size and dtype, `compare` draws seeded inputs and measures three implementations:

- `pallas`: the kernel (`irscope.kernels.<name>`), compiled on a GPU, in interpret mode elsewhere;
- `xla`: the plain-jnp reference under `jax.jit`, i.e. whatever XLA fuses it into;
- `eager`: the same reference op by op (`jax.disable_jit()`), every op its own kernel.

and reports the Pallas result's max abs error against the (jitted) reference with the tolerance it
must meet, the median time of each, and the bytes each moves, all static:

- `bytes_pallas`: from the kernel's grid and BlockSpecs (`irscope.kernels.static`, pipeline model);
- `bytes_xla`: `module_cost` of the reference's optimized HLO (XLA's conventions: equal to
  `Compiled.cost_analysis()['bytes accessed']`);
- `bytes_eager`: the same module's unfused traffic, every fused op run as its own kernel.

Achieved GB/s is bytes / time, and the roofline fraction is the time at the chip's peak (the larger
of FLOPs / peak and bytes / bandwidth, `irscope.passes.roofline.place`) over the measured time.
In interpret mode the Pallas time is that of an XLA while loop over the grid on the CPU: it says
nothing about the kernel's performance, and results carry `interpret: true`.

Not handled yet: picking block sizes by autotuning (each kernel's block function decides), and
timing on a GPU with a profiler trace (wall-clock medians over `block_until_ready` include launch
overhead, which matters below ~10 us).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from irscope.errors import KernelShapeError
from irscope.errors import TooSlowToInterpret as TooSlowToInterpret
from irscope.hw import Chip
from irscope.ir.hlo_parser import parse_module
from irscope.kernels import flash_attention as _fa
from irscope.kernels import gelu as _gelu
from irscope.kernels import layer_norm as _ln
from irscope.kernels import matmul as _mm
from irscope.kernels import softmax as _sm
from irscope.kernels import swish as _swish
from irscope.kernels.static import pallas_traffic
from irscope.measure.timing import time_call
from irscope.passes.cost import module_cost
from irscope.passes.fusion import find_kernels
from irscope.passes.roofline import place
from irscope.util.display import show

SCHEMA = "irscope.kernels-report/1"

# Interpret mode carries whole arrays through an XLA while loop, and XLA:CPU copies them at every grid
# step: a call costs about steps x the arrays' bytes of copying. Above this many bytes (tens of seconds
# a call at a CPU's 5-20 GB/s) the harness refuses instead of running for hours.
MAX_INTERPRET_COPY_BYTES = 32 * 2**30


DTYPES: Mapping[str, Any] = {"f32": jnp.float32, "bf16": jnp.bfloat16}

Args = tuple[jax.Array, ...]


def _normal(key: jax.Array, shape: tuple[int, ...], dtype: Any, scale: float = 1.0) -> jax.Array:
    return (jax.random.normal(key, shape, jnp.float32) * scale).astype(dtype)


def _rows_args(shape: tuple[int, ...], dtype: Any, key: jax.Array) -> Args:
    return (_normal(key, shape, dtype),)


def _layer_norm_args(shape: tuple[int, ...], dtype: Any, key: jax.Array) -> Args:
    kx, kg, kb = jax.random.split(key, 3)
    return _normal(kx, shape, dtype), _normal(kg, shape[-1:], dtype), _normal(kb, shape[-1:], dtype)


def _matmul_args(shape: tuple[int, ...], dtype: Any, key: jax.Array) -> Args:
    m, k, n = shape
    kx, kw, kb = jax.random.split(key, 3)
    # w ~ N(0, 1/K) keeps x @ w of order 1 whatever K, so one absolute tolerance fits every size.
    return _normal(kx, (m, k), dtype), _normal(kw, (k, n), dtype, 1.0 / math.sqrt(k)), _normal(kb, (n,), dtype)


def _attention_args(shape: tuple[int, ...], dtype: Any, key: jax.Array) -> Args:
    b, t, s, d = shape
    kq, kk, kv = jax.random.split(key, 3)
    return _normal(kq, (b, t, d), dtype), _normal(kk, (b, s, d), dtype), _normal(kv, (b, s, d), dtype)


@dataclass(frozen=True)
class KernelSpec:
    """One kernel as the harness runs it."""

    name: str
    """The name on the command line (`--kernel`)."""
    pallas: Callable[..., jax.Array]
    """The Pallas function, called as `pallas(*args, interpret=...)`."""
    reference: Callable[..., jax.Array]
    """The plain-jnp reference, called as `reference(*args)`."""
    make_args: Callable[[tuple[int, ...], Any, jax.Array], Args]
    """(size, dtype, PRNG key) -> the arguments."""
    dims: tuple[str, ...]
    """What each number of a size means (`rows x cols`, `M x K x N`, ...)."""
    tolerance: Mapping[str, float]
    """numpy dtype name -> the max abs error the kernel must meet."""
    cpu_sizes: tuple[tuple[int, ...], ...]
    """Default sizes in interpret mode: small enough that the grid loop runs in seconds."""
    gpu_sizes: tuple[tuple[int, ...], ...]
    """Default sizes on a GPU: large enough to be bandwidth- or compute-bound, not launch-bound."""
    dots: bool = False
    """Whether its FLOPs are matmuls: an f32 one is then placed against the TF32 tensor-core peak,
    which is what XLA and Triton use for f32 dots at JAX's default precision."""

    @property
    def size_form(self) -> str:
        return "x".join(self.dims)


KERNELS: Mapping[str, KernelSpec] = {spec.name: spec for spec in (
    KernelSpec("gelu", _gelu.gelu, _gelu.gelu_reference, _rows_args, ("rows", "cols"), _gelu.TOLERANCE,
               ((1024, 1024),), ((8192, 8192),)),
    KernelSpec("swish", _swish.swish, _swish.swish_reference, _rows_args, ("rows", "cols"), _swish.TOLERANCE,
               ((1024, 1024),), ((8192, 8192),)),
    KernelSpec("softmax", _sm.softmax, _sm.softmax_reference, _rows_args, ("rows", "cols"), _sm.TOLERANCE,
               ((1024, 1024),), ((16384, 4096),)),
    KernelSpec("layer_norm", _ln.layer_norm, _ln.layer_norm_reference, _layer_norm_args, ("rows", "cols"),
               _ln.TOLERANCE, ((1024, 1024),), ((16384, 4096),)),
    KernelSpec("matmul_bias_gelu", _mm.matmul_bias_act, _mm.matmul_bias_act_reference, _matmul_args,
               ("M", "K", "N"), _mm.TOLERANCE, ((512, 512, 512),), ((4096, 4096, 4096),), dots=True),
    KernelSpec("flash_attention", _fa.flash_attention, _fa.flash_attention_reference, _attention_args,
               ("B", "T", "S", "D"), _fa.TOLERANCE, ((8, 512, 512, 64),), ((32, 2048, 2048, 64),),
               dots=True),
)}


def interpret_default() -> bool:
    """Interpret mode unless JAX's default backend is a GPU (the kernels are written for Triton)."""
    return jax.default_backend() != "gpu"


def default_sizes(spec: KernelSpec, interpret: bool) -> tuple[tuple[int, ...], ...]:
    return spec.cpu_sizes if interpret else spec.gpu_sizes


@dataclass(frozen=True)
class Result:
    """One kernel at one size and dtype: error, bytes and times of the three implementations."""

    kernel: str
    """The kernel's name in `KERNELS`."""
    shape: tuple[int, ...]
    """The size, in the kernel's `dims` (e.g. M, K, N)."""
    dtype: str
    """numpy name: `float32`, `bfloat16`."""
    max_abs_error: float
    """max |pallas - reference| over the output, computed in f32 (inf if the output has a NaN)."""
    tolerance: float
    """The most `max_abs_error` may be (the kernel's `TOLERANCE` for this dtype)."""
    bytes_pallas: int
    """Static, from the grid and BlockSpecs (pipeline model: a block reused by the next step is not moved)."""
    bytes_pallas_no_reuse: int
    """Static, every grid step moving every block."""
    bytes_xla: float
    """XLA's `bytes accessed` for the reference's optimized module (module_cost, XLA's conventions)."""
    bytes_eager: float
    """The same module's unfused traffic: every op its own kernel."""
    flops: float
    """XLA's FLOP count for the reference (used for the roofline of all three)."""
    time_pallas_s: float
    """Median seconds of the Pallas kernel (interpret mode: of its grid loop on this machine)."""
    time_xla_s: float
    """Median seconds of the reference under jax.jit."""
    time_eager_s: float
    """Median seconds of the reference op by op (jax.disable_jit)."""
    interpret: bool
    """Whether the Pallas kernel ran in interpret mode (its time then says nothing about the kernel)."""
    chip: str
    """The chip whose roofline the fractions use."""
    roofline: Mapping[str, float] = field(default_factory=dict)
    """Implementation -> time at the chip's peak / measured time."""
    xla_kernels: tuple[tuple[str, str, float], ...] = ()
    """(name, kind, bytes) of each kernel XLA made of the reference, in execution order."""

    @property
    def ok(self) -> bool:
        return self.max_abs_error <= self.tolerance

    def gbps(self, which: str) -> float:
        """Achieved GB/s (10^9 bytes/s) of `pallas`, `xla` or `eager`."""
        nbytes = {"pallas": self.bytes_pallas, "xla": self.bytes_xla, "eager": self.bytes_eager}[which]
        seconds = {"pallas": self.time_pallas_s, "xla": self.time_xla_s, "eager": self.time_eager_s}[which]
        return nbytes / seconds / 1e9 if seconds > 0 else math.nan

    def to_json(self) -> dict[str, Any]:
        return {
            "kernel": self.kernel, "shape": list(self.shape), "dtype": self.dtype,
            "max_abs_error": _finite(self.max_abs_error), "tolerance": self.tolerance, "ok": self.ok,
            "bytes_pallas": self.bytes_pallas, "bytes_xla": self.bytes_xla,
            "time_pallas_s": self.time_pallas_s, "time_xla_s": self.time_xla_s,
            "time_eager_s": self.time_eager_s, "interpret": self.interpret,
            "bytes_pallas_no_reuse": self.bytes_pallas_no_reuse, "bytes_eager": self.bytes_eager,
            "flops": self.flops, "chip": self.chip,
            "gbps": {w: _finite(self.gbps(w)) for w in ("pallas", "xla", "eager")},
            "roofline_fraction": {w: _finite(v) for w, v in self.roofline.items()},
            "xla_kernels": [{"name": n, "kind": k, "bytes": b} for n, k, b in self.xla_kernels],
        }


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def median_time(fn: Callable[..., Any], args: Sequence[Any], repeats: int) -> float:
    """Median wall-clock seconds of `fn(*args)` over `repeats` runs, after one untimed warm-up run."""
    n = max(1, repeats)
    return time_call(lambda: fn(*args), warmup=1, min_repeats=n, max_repeats=n, min_time_s=0.0,
                     max_time_s=float("inf")).median_s


def check_size(spec: KernelSpec, size: Sequence[int]) -> tuple[int, ...]:
    """The size as a tuple, or `KernelShapeError` (a ValueError) naming the form the kernel takes."""
    size = tuple(int(s) for s in size)
    if len(size) != len(spec.dims) or any(s < 1 for s in size):
        raise KernelShapeError(f"{spec.name} takes sizes {spec.size_form} (positive), got {'x'.join(map(str, size))}")
    return size


def compare(spec: KernelSpec, size: Sequence[int], dtype: str, chip: Chip, *, interpret: bool | None = None,
            repeats: int = 5, seed: int = 0) -> Result:
    """Run one kernel at one size and dtype (`f32` or `bf16`) three ways; see the module docstring."""
    shape = check_size(spec, size)
    interpret = interpret_default() if interpret is None else interpret
    jdtype = DTYPES[dtype]
    args = spec.make_args(shape, jdtype, jax.random.key(seed))

    def pallas_fn(*a: jax.Array) -> jax.Array:
        return spec.pallas(*a, interpret=interpret)

    xla_fn = jax.jit(spec.reference)

    def eager_fn(*a: jax.Array) -> jax.Array:
        with jax.disable_jit():
            return spec.reference(*a)

    traffic = pallas_traffic(pallas_fn, *args)
    copied = sum(t.steps * t.array_bytes for t in traffic)
    if interpret and copied > MAX_INTERPRET_COPY_BYTES:
        raise TooSlowToInterpret(
            f"{spec.name} {'x'.join(map(str, shape))}: in interpret mode its grid loop would copy about "
            f"{copied / 2**30:,.0f} GiB; pick a smaller size, or run it on a GPU")
    got = jax.block_until_ready(pallas_fn(*args))
    want = jax.block_until_ready(xla_fn(*args))
    error = float(jnp.max(jnp.abs(got.astype(jnp.float32) - want.astype(jnp.float32))))
    if not np.isfinite(error):
        error = math.inf

    module = parse_module(xla_fn.lower(*args).compile().as_text())
    cost = module_cost(module)
    flops = float(cost.totals.flops)
    xla_kernels = tuple(
        (k.qualified_name, k.kind, float(cost.per_instruction[(k.computation, k.name)].bytes_accessed))
        for k in find_kernels(module) if (k.computation, k.name) in cost.per_instruction
    )
    times = {
        "pallas": median_time(pallas_fn, args, repeats),
        "xla": median_time(xla_fn, args, repeats),
        "eager": median_time(eager_fn, args, repeats),
    }
    nbytes = {
        "pallas": float(sum(t.bytes_accessed for t in traffic)),
        "xla": float(cost.totals.bytes_accessed),
        "eager": float(cost.unfused_bytes_accessed),
    }
    peak_dtype = "bf16" if dtype == "bf16" else ("tf32" if spec.dots else "f32")
    roofline = {w: place(flops, nbytes[w], chip, peak_dtype).time_at_peak_s / times[w] for w in times}
    return Result(
        kernel=spec.name, shape=shape, dtype=np.dtype(jdtype).name, max_abs_error=error,
        tolerance=spec.tolerance[np.dtype(jdtype).name],
        bytes_pallas=int(nbytes["pallas"]), bytes_pallas_no_reuse=sum(t.bytes_accessed_no_reuse for t in traffic),
        bytes_xla=nbytes["xla"], bytes_eager=nbytes["eager"], flops=flops,
        time_pallas_s=times["pallas"], time_xla_s=times["xla"], time_eager_s=times["eager"],
        interpret=interpret, chip=chip.name, roofline=roofline, xla_kernels=xla_kernels,
    )


@dataclass(frozen=True)
class KernelComparison:
    """Pallas vs XLA vs eager for several kernels and sizes on one device: what `irscope kernels` reports."""

    results: tuple[Result, ...]
    """One `compare` result per kernel and size, in the order run."""
    device: str
    """The device they ran on (`jax.devices()[0].device_kind`)."""
    backend: str
    """JAX's backend (`cpu`, `gpu`, `tpu`)."""
    chip: Chip
    """The chip whose roofline the fractions use."""

    @property
    def ok(self) -> bool:
        """Whether every Pallas kernel matched its reference within tolerance."""
        return all(r.ok for r in self.results)

    def to_json(self) -> dict[str, Any]:
        return report_json(self.results, device=self.device, backend=self.backend)

    # Display: written by irscope.render, reached through the one hook irscope.util.display.
    def to_text(self, *, xla_kernels: bool = False) -> str:
        return show(self, "text", xla_kernels=xla_kernels)

    def _repr_html_(self) -> str:
        return show(self, "html")


def report_json(results: Sequence[Result], *, device: str, backend: str) -> dict[str, Any]:
    """The `irscope.kernels-report/1` document."""
    return {"schema": SCHEMA, "device": device, "backend": backend, "results": [r.to_json() for r in results]}
