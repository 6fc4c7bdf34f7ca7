"""Wall-clock time of a JAX function, JIT-compiled and eager, on seeded random inputs.

    args = random_inputs([jax.ShapeDtypeStruct((256, 512), jnp.float32)], seed=0)
    m = measure_function(mlp, args)              # Measurement(jit=Timing, eager=Timing)
    m.jit.median_s, m.eager.median_s, m.speedup

What the two modes are:

- `jit`: `jax.jit(fn)(*args)`, what a user who jits gets, Python dispatch included. The first call
  compiles and is not timed.
- `eager`: `fn(*args)` without `jax.jit`, as JAX runs a function op by op: every `jax.numpy` call
  dispatches its own small XLA computation and materializes its result. A library function that is
  itself jitted (`jax.nn.gelu`) still runs as one compiled computation there, exactly as it would for
  the user; a `fn` that the user wrapped in `jax.jit` is unwrapped first, so that eager means eager.

How a figure is made (`time_call`): `warmup` untimed calls, then timed calls, each ending in
`jax.block_until_ready` on the whole output, until both `min_repeats` calls and `min_time_s` seconds
are done (`max_repeats` and `max_time_s` cap it, so a slow function still stops; at least
`FLOOR_REPEATS` calls are always timed). The median is the figure; the spread is kept as the
quartiles and the extremes, and every sample is in `Timing.samples_s`. The median, not the best,
because this compares two ways of running a program on the same machine, and the median is what a
user sees on a typical call; the roofline probe (`irscope.measure.probe`) reports the best, because a
ceiling is what the hardware can do.

Inputs (`random_inputs`) are drawn from a seeded numpy generator, one leaf at a time in pytree order:
floats from a standard normal, booleans fair coins, integers uniform in `int_range` (default [0, 8):
small and non-negative, so an integer argument that is an index, a class label or a loop bound
stays valid and short), complex numbers with normal real and imaginary parts.

Not handled yet: donated arguments (a function that donates its inputs would consume them on the
first call), functions with static (non-array) arguments other than through `functools.partial`,
multi-device programs, and CPU frequency or cache state beyond the warm-up.
"""

from __future__ import annotations

import contextlib
import functools
import math
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import jax
import numpy as np

FLOOR_REPEATS = 3
"""Timed calls made whatever the time limits say: a median of fewer is not a median."""

INT_RANGE = (0, 8)
"""Default [low, high) of random integer inputs (see the module docstring)."""

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Timing:
    """The timed calls of one function in one mode."""

    mode: str
    """`jit` or `eager`."""
    samples_s: tuple[float, ...]
    """Seconds per call, every timed repeat in run order."""
    warmup: int
    """Untimed calls made first (the first JIT call compiles)."""

    def __post_init__(self) -> None:
        if not self.samples_s:
            raise ValueError("a Timing needs at least one sample")

    @property
    def repeats(self) -> int:
        return len(self.samples_s)

    @property
    def median_s(self) -> float:
        return statistics.median(self.samples_s)

    @property
    def min_s(self) -> float:
        return min(self.samples_s)

    @property
    def max_s(self) -> float:
        return max(self.samples_s)

    @property
    def quartiles_s(self) -> tuple[float, float]:
        """The 25th and 75th percentiles (both the sample when there is one)."""
        if len(self.samples_s) < 2:
            return self.samples_s[0], self.samples_s[0]
        q = statistics.quantiles(self.samples_s, n=4, method="inclusive")
        return q[0], q[2]

    @property
    def spread(self) -> float:
        """Interquartile range over the median: 0.05 means the middle half lies within ±2.5%."""
        lo, hi = self.quartiles_s
        return (hi - lo) / self.median_s if self.median_s > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        lo, hi = self.quartiles_s
        return {"mode": self.mode, "median_s": self.median_s, "p25_s": lo, "p75_s": hi, "min_s": self.min_s,
                "max_s": self.max_s, "spread": self.spread, "repeats": self.repeats, "warmup": self.warmup}


@dataclass(frozen=True)
class Measurement:
    """A function timed JIT-compiled and eagerly on the same inputs."""

    jit: Timing | None
    """`jax.jit(fn)(*args)`; None when not measured."""
    eager: Timing | None
    """`fn(*args)` without jit; None when not measured."""
    seed: int
    """The seed of the random inputs."""
    backend: str
    """The platform it ran on (`cpu`, `cuda`, ...)."""

    @property
    def speedup(self) -> float | None:
        """Eager median over JIT median: how many times faster the compiled program ran."""
        if self.jit is None or self.eager is None or self.jit.median_s <= 0:
            return None
        return self.eager.median_s / self.jit.median_s

    def to_json(self) -> dict[str, Any]:
        return {
            "jit_s": self.jit.median_s if self.jit else None,
            "eager_s": self.eager.median_s if self.eager else None,
            "repeats": self.jit.repeats if self.jit else (self.eager.repeats if self.eager else 0),
            "eager_repeats": self.eager.repeats if self.eager else None,
            "speedup": self.speedup,
            "jit": self.jit.to_json() if self.jit else None,
            "eager": self.eager.to_json() if self.eager else None,
            "seed": self.seed,
            "backend": self.backend,
        }


# --- Inputs -------------------------------------------------------------------------------------------

def random_inputs(args: Sequence[Any], *, seed: int = 0, int_range: tuple[int, int] = INT_RANGE,
                  device: jax.Device | None = None) -> tuple[Any, ...]:
    """Concrete arrays for abstract arguments: every `ShapeDtypeStruct` leaf (or anything with `.shape`
    and `.dtype`) of each argument's pytree becomes a seeded random array on `device`.

    Other leaves (Python scalars) are passed through. The same seed gives the same arrays.
    """
    rng = np.random.default_rng(seed)
    low, high = int_range
    if high <= low:
        raise ValueError(f"int_range must be [low, high) with high > low, got {int_range}")

    def leaf(x: Any) -> Any:
        if not (hasattr(x, "shape") and hasattr(x, "dtype")):
            return x
        if jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key):  # a typed key: seeded keys of its kind
            key = jax.random.key(int(rng.integers(2**31)), impl=x.dtype)
            return jax.random.split(key, tuple(x.shape)) if x.shape else key
        shape, dtype = tuple(x.shape), np.dtype(x.dtype)
        if dtype == np.bool_:
            value = rng.random(shape) < 0.5
        elif jax.numpy.issubdtype(dtype, jax.numpy.integer):  # jnp's test also knows int4/uint4
            info = jax.numpy.iinfo(dtype)
            value = rng.integers(max(low, info.min), min(high, info.max + 1), size=shape)
        elif np.issubdtype(dtype, np.complexfloating):
            value = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
        else:  # float16/32/64 and the ml_dtypes floats (bfloat16, float8_*): draw in f32, then cast
            value = rng.standard_normal(shape, dtype=np.float32)
        array = np.asarray(value).astype(dtype)
        return jax.device_put(array, device) if device is not None else jax.numpy.asarray(array)

    return tuple(jax.tree.map(leaf, a) for a in args)


def needs_x64(args: Sequence[Any]) -> bool:
    """Whether any leaf has a 64-bit dtype (JAX would silently run it as 32-bit without x64)."""
    wide = {"int64", "uint64", "float64", "complex128"}
    return any(str(leaf.dtype) in wide  # str(): a key dtype (key<fry>) is no numpy dtype
               for a in args for leaf in jax.tree.leaves(a) if hasattr(leaf, "dtype"))


@contextlib.contextmanager
def placement(args: Sequence[Any], backend: str | None = None) -> Iterator[jax.Device]:
    """Run the block on `backend`'s first device, with x64 on when an argument needs it (as
    `irscope.frontends.jax_lower.lower` compiles), and yield that device."""
    device = jax.devices(backend)[0]
    x64 = bool(jax.config.jax_enable_x64) or needs_x64(args)
    with jax.default_device(device), jax.enable_x64(x64):
        yield device


# --- Timing -------------------------------------------------------------------------------------------

def unjit(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn` without a `jax.jit` wrapper (also inside a `functools.partial`), so calling it runs eagerly."""
    if isinstance(fn, functools.partial):
        inner = unjit(fn.func)
        return fn if inner is fn.func else functools.partial(inner, *fn.args, **fn.keywords)
    wrapped = getattr(fn, "__wrapped__", None)
    if wrapped is not None and hasattr(fn, "lower"):  # a jax.jit-wrapped function
        return wrapped
    return fn


def time_call(call: Callable[[], Any], *, mode: str = "call", warmup: int = 1, min_repeats: int = 5,
              max_repeats: int = 1000, min_time_s: float = 0.2, max_time_s: float = 10.0) -> Timing:
    """Time `call()` (its output is waited on with `jax.block_until_ready`) as the module docstring says.

    Arguments:
        call: runs the work once and returns its output (any pytree of arrays).
        mode: a label kept in the result (`jit`, `eager`).
        warmup: untimed calls first.
        min_repeats, min_time_s: keep timing until both are reached...
        max_repeats, max_time_s: ...or either of these is (at least `FLOOR_REPEATS` calls are timed).
    """
    for _ in range(warmup):
        jax.block_until_ready(call())
    floor = min(FLOOR_REPEATS, max_repeats)
    samples: list[float] = []
    started = time.perf_counter()
    while True:
        t0 = time.perf_counter()
        jax.block_until_ready(call())
        samples.append(time.perf_counter() - t0)
        n, elapsed = len(samples), time.perf_counter() - started
        if n >= max_repeats or (n >= floor and elapsed >= max_time_s):
            break
        if n >= min_repeats and elapsed >= min_time_s:
            break
    return Timing(mode, tuple(samples), warmup)


def measure_function(
    fn: Callable[..., Any],
    args: Sequence[Any],
    *,
    jit: bool = True,
    eager: bool = True,
    repeats: int | None = None,
    min_time_s: float = 0.2,
    max_time_s: float = 10.0,
    warmup: int = 1,
    seed: int = 0,
    backend: str | None = None,
    progress: Progress | None = None,
) -> Measurement:
    """Time `fn` at `args` JIT-compiled and eagerly, on the same seeded random inputs.

    Arguments:
        fn: anything `jax.jit` accepts (a jitted function is unwrapped for the eager run).
        args: abstract arguments (`ShapeDtypeStruct` pytrees, as `irscope.frontends` produces) or arrays
            (their shapes are used; fresh random values are drawn).
        jit, eager: which modes to time.
        repeats: exactly this many timed calls per mode; None chooses (see `time_call`).
        min_time_s, max_time_s: the time limits of `time_call` when `repeats` is None.
        warmup: untimed calls per mode (the JIT's first call compiles, so at least one is made).
        seed: seed of the random inputs.
        backend: `cpu`, `gpu`, ...; JAX's default when None.
        progress: called with a short message after each mode (the CLI advances its bar).
    """
    say: Progress = progress or (lambda _msg: None)
    limits: dict[str, Any]
    if repeats is not None:
        if repeats < 1:
            raise ValueError(f"repeats must be >= 1, got {repeats}")
        limits = {"min_repeats": repeats, "max_repeats": repeats, "min_time_s": 0.0, "max_time_s": math.inf}
    else:
        limits = {"min_time_s": min_time_s, "max_time_s": max_time_s}
    with placement(args, backend) as device:
        values = random_inputs(args, seed=seed, device=device)
        jit_timing = eager_timing = None
        if jit:
            compiled = jax.jit(fn)
            jit_timing = time_call(lambda: compiled(*values), mode="jit", warmup=max(1, warmup), **limits)
            say(f"jit {jit_timing.median_s * 1e3:.3g} ms (median of {jit_timing.repeats})")
        if eager:
            plain = unjit(fn)
            eager_timing = time_call(lambda: plain(*values), mode="eager", warmup=warmup, **limits)
            say(f"eager {eager_timing.median_s * 1e3:.3g} ms (median of {eager_timing.repeats})")
    return Measurement(jit_timing, eager_timing, seed, device.platform)
