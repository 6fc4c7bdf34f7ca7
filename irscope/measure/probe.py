"""Measure this machine's roofline ceilings once: STREAM-like memory bandwidth and XLA:CPU matmul FLOP/s.

The local CPU's row in the hardware table (`irscope.hw.get_chip("cpu")`) is built from this measurement,
because a CPU's usable bandwidth and FLOP/s depend on its memory channels, core count, clocks and the
BLAS/XLA build far more than on its model name. What is measured:

- copy  `b[:] = a` and triad `a = b + s*c` (the STREAM kernels) with numpy, one contiguous slice per
  usable core on a thread pool (numpy drops the GIL inside its loops). The triad runs in chunks of
  `chunk_bytes` through a small scratch buffer, so the arrays are streamed once each, as in STREAM,
  instead of twice by numpy's two-pass `b + s*c`. Bytes are counted the STREAM way: the arrays a kernel
  names (2 for copy, 3 for triad), without write-allocate traffic, which is also how XLA's cost analysis
  counts `bytes accessed`, so the two can be compared. Each array is at least 4x the last-level cache
  all probe threads can use together (STREAM's sizing rule) and at least 64 MiB, unless that would
  exceed RAM / 16.
- the same triad as one jitted, fused XLA:CPU kernel (with a donated output buffer, so page faults
  of a fresh output are not timed): what XLA's own elementwise code reaches, for reference.
- `jax.jit(jnp.matmul)` of two n x n matrices in f32 (and f64, under `jax.enable_x64`), counting
  2 n^3 FLOPs: what XLA:CPU achieves on a large dot, which is the compute roof its kernels see.

On demand, not cached and not part of the `cpu` chip: `transcendental_rate`, the `tanh` or `exp` per second
of one fused XLA:CPU kernel over a cache-resident array (the compute roof of a kernel bound by them).

Each figure is the best of N timed repeats after one untimed warm-up (STREAM reports the best rate
too): on a shared machine noise only ever slows a run down, so the fastest run is the best estimate
of what the hardware can do, which is what a roofline ceiling is. Every repeat's rate is kept in
`ProbeResult.samples`, so the median and spread are there for anyone who wants them. What best-of-N
cannot remove is a neighbour that holds a core for the whole run: the load average before measuring
is recorded (`ProbeResult.load_avg`) so that `irscope hw` can say so, and `--remeasure` runs it again.

The result is cached as JSON in `$IRSCOPE_CACHE_DIR/cpu_probe.json` (else `$XDG_CACHE_HOME/irscope/`,
else `~/.cache/irscope/`), keyed by CPU model, usable core count, jax version and the probe's
settings; a different key measures again. The file is replaced atomically.

Not handled yet: NUMA placement (threads and pages go where the OS puts them), frequency warm-up
beyond one untimed run, and bf16/int8 matmul rates.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
import warnings
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from irscope import hw
from irscope.util.files import write_atomic

CACHE_SCHEMA = "irscope.cpu-probe/1"
CACHE_FILE = "cpu_probe.json"
MIB = 2**20
MAX_CACHE_ENTRIES = 8  # one per (machine, jax, settings) seen from a shared home directory

Progress = Callable[[str], None]


@dataclass(frozen=True)
class ProbeConfig:
    """Sizes and repeat counts of the probe; 0 means "choose for this machine" (see `resolved`)."""

    array_bytes: int = 0
    """Bytes per STREAM array; 0 = max(64 MiB, 4 x usable last-level cache), capped at RAM / 16."""
    bw_repeats: int = 10
    """Timed repeats of each bandwidth kernel (the best is reported)."""
    xla_repeats: int = 5
    """Timed repeats of the XLA:CPU triad (a reference figure, and the slowest bandwidth kernel)."""
    matmul_n: int = 2048
    """f32 matrix side: 2 x 2048^3 = 17 GFLOP, 0.15 s per run at the ~120 GFLOP/s of a quiet 2-core Zen 3."""
    matmul_n_f64: int = 1536
    """f64 matrix side: smaller, since f64 runs at about half the f32 rate; 0 skips the f64 matmul."""
    matmul_repeats: int = 5
    """Timed repeats of each matmul (the best is reported)."""
    chunk_bytes: int = 1 * MIB
    """Triad scratch chunk: small enough to stay in cache, large enough that Python overhead is noise."""
    threads: int = 0
    """Threads for the numpy kernels; 0 = every usable core."""

    def resolved(self) -> ProbeConfig:
        """This config with every 0 replaced by the value chosen for this machine."""
        threads = self.threads or usable_cores()
        array_bytes = self.array_bytes
        if not array_bytes:
            array_bytes = max(64 * MIB, 4 * usable_llc_bytes())
            array_bytes = min(array_bytes, max(64 * MIB, total_memory() // 16))
        return replace(self, array_bytes=array_bytes, threads=threads)


DEFAULT_CONFIG = ProbeConfig()


@dataclass(frozen=True)
class ProbeResult:
    """One measurement of this machine; rates are the best of the repeats."""

    cpu_model: str
    """`model name` from /proc/cpuinfo (or the platform's best equivalent)."""
    vendor: str
    """CPU vendor (`AMD`, `Intel`, ...), from /proc/cpuinfo `vendor_id` where there is one."""
    cores: int
    """Cores this process may run on (its CPU affinity), part of the cache key."""
    threads: int
    """Threads the numpy bandwidth kernels used."""
    jax_version: str
    """jax version the matmuls ran with, part of the cache key."""
    numpy_version: str
    """numpy version the bandwidth kernels ran with."""
    measured_at: str
    """When, as ISO 8601 UTC (`2025-01-31T12:00:00+00:00`)."""
    mem_total: int
    """Total RAM, bytes."""
    load_avg: float
    """1-minute load average just before measuring (-1 if unknown): well above 0 means the figures
    may be low because something else was running; `irscope hw --remeasure` measures again."""
    copy_bw: float
    """STREAM copy, bytes/s (2 arrays counted)."""
    triad_bw: float
    """STREAM triad, bytes/s (3 arrays counted): the `cpu` chip's memory bandwidth."""
    triad_bw_xla: float
    """The triad as one fused XLA:CPU kernel, bytes/s."""
    matmul_flops_f32: float
    """XLA:CPU f32 matmul, FLOP/s."""
    matmul_flops_f64: float | None
    """XLA:CPU f64 matmul, FLOP/s; None when not measured."""
    config: ProbeConfig
    """The resolved settings it ran with."""
    samples: Mapping[str, tuple[float, ...]]
    """Every timed repeat's rate per figure (`copy_bw`, `triad_bw`, ...), in run order."""
    elapsed_s: float
    """Wall time of the whole measurement, seconds."""

    def __post_init__(self) -> None:
        frozen = {k: tuple(float(x) for x in v) for k, v in self.samples.items()}
        object.__setattr__(self, "samples", MappingProxyType(frozen))

    def __hash__(self) -> int:
        return hash((self.cpu_model, self.cores, self.measured_at))

    def median(self, figure: str) -> float:
        """Median of a figure's repeats (`median("triad_bw")`), to set against the best.

        A figure with no recorded repeats (a hand-made result) reports its best value.
        """
        runs = self.samples.get(figure)
        return statistics.median(runs) if runs else float(getattr(self, figure))

    def to_json(self) -> dict[str, Any]:
        """Plain-JSON form (the cache entry, and `cpu_probe` in `irscope hw --json`)."""
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d["config"] = asdict(self.config)
        d["samples"] = {k: list(v) for k, v in self.samples.items()}
        return d

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> ProbeResult:
        """Inverse of `to_json`; raises KeyError/TypeError/ValueError on a malformed dict."""
        kwargs = dict(d)
        kwargs["config"] = ProbeConfig(**kwargs["config"])
        kwargs["samples"] = {k: tuple(v) for k, v in kwargs["samples"].items()}
        return cls(**kwargs)


# --- What machine is this ---------------------------------------------------------------------------

def _cpuinfo_field(name: str) -> str | None:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                key, sep, value = line.partition(":")
                if sep and key.strip() == name:
                    return value.strip()
    except OSError:
        pass
    return None


def cpu_model() -> str:
    """The CPU's model string: /proc/cpuinfo `model name`, else what `platform` knows."""
    return _cpuinfo_field("model name") or platform.processor() or platform.machine() or "unknown CPU"


def cpu_vendor() -> str:
    """`AMD`, `Intel`, or the raw vendor id; `unknown` off Linux."""
    vendor_id = _cpuinfo_field("vendor_id")
    names = {"AuthenticAMD": "AMD", "GenuineIntel": "Intel"}
    return names.get(vendor_id or "", vendor_id or "unknown")


def usable_cores() -> int:
    """Cores this process may run on (honours taskset / cgroup CPU affinity)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def total_memory() -> int:
    """Total RAM in bytes (0 if the platform will not say)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 0


def _parse_size(text: str) -> int:
    text = text.strip().upper()
    for suffix, mult in (("K", 2**10), ("M", 2**20), ("G", 2**30)):
        if text.endswith(suffix):
            return int(text[:-1]) * mult
    return int(text)


def usable_llc_bytes(default: int = 32 * MIB) -> int:
    """Total last-level cache the usable cores share among them (one count per cache instance).

    Read from /sys/devices/system/cpu; `default` where that is not available.
    """
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    instances: dict[str, tuple[int, int]] = {}  # shared_cpu_list -> (level, size)
    for cpu in cpus:
        base = Path(f"/sys/devices/system/cpu/cpu{cpu}/cache")
        best: tuple[int, int, str] | None = None
        for index in base.glob("index*"):
            try:
                if (index / "type").read_text().strip() == "Instruction":
                    continue
                level = int((index / "level").read_text())
                size = _parse_size((index / "size").read_text())
                shared = (index / "shared_cpu_list").read_text().strip()
            except (OSError, ValueError):
                continue
            if best is None or level > best[0]:
                best = (level, size, shared)
        if best is not None:
            instances[best[2]] = (best[0], best[1])
    if not instances:
        return default
    top = max(level for level, _ in instances.values())
    return sum(size for level, size in instances.values() if level == top)


def _jax_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("jax")
    except PackageNotFoundError:
        return "none"


# --- The kernels --------------------------------------------------------------------------------------

def _best_rates(run: Callable[[], None], nbytes_or_flops: float, repeats: int) -> list[float]:
    """Rates (work / s) of `repeats` timed runs after one untimed warm-up."""
    from irscope.measure.timing import time_call  # deferred: timing imports jax, `import irscope` does not

    timing = time_call(run, warmup=1, min_repeats=repeats, max_repeats=repeats, min_time_s=0.0,
                       max_time_s=float("inf"))
    return [nbytes_or_flops / s for s in timing.samples_s]


def _numpy_stream(cfg: ProbeConfig, progress: Progress) -> dict[str, list[float]]:
    n = cfg.array_bytes // 8  # float64 elements, as STREAM
    chunk = max(1, cfg.chunk_bytes // 8)
    a = np.full(n, 1.0)  # np.full writes every page, so page faults happen here, not in the timing
    b = np.full(n, 2.0)
    c = np.full(n, 0.5)
    scalar = 3.0
    # One contiguous slice per thread, cut at chunk boundaries.
    cuts = [min(n, (n * k // cfg.threads) // chunk * chunk) for k in range(cfg.threads)] + [n]
    slices = [slice(lo, hi) for lo, hi in zip(cuts, cuts[1:], strict=False) if hi > lo]
    scratch = [np.empty(chunk) for _ in slices]

    def copy_part(i: int) -> None:
        np.copyto(b[slices[i]], a[slices[i]])

    def triad_part(i: int) -> None:
        tmp = scratch[i]
        s = slices[i]
        for lo in range(s.start, s.stop, chunk):
            hi = min(lo + chunk, s.stop)
            t = tmp[: hi - lo]
            np.multiply(c[lo:hi], scalar, out=t)
            np.add(b[lo:hi], t, out=a[lo:hi])

    mib = cfg.array_bytes / MIB
    with ThreadPoolExecutor(max_workers=len(slices)) as pool:
        def on_all(part: Callable[[int], None]) -> Callable[[], None]:
            return lambda: list(pool.map(part, range(len(slices))))

        progress(f"probe: copy, {len(slices)} threads, 2 x {mib:.0f} MiB, best of {cfg.bw_repeats}")
        copy = _best_rates(on_all(copy_part), 2 * n * 8, cfg.bw_repeats)
        progress(f"probe: triad, {len(slices)} threads, 3 x {mib:.0f} MiB, best of {cfg.bw_repeats}")
        triad = _best_rates(on_all(triad_part), 3 * n * 8, cfg.bw_repeats)
    return {"copy_bw": copy, "triad_bw": triad}


def _xla_triad(cfg: ProbeConfig, progress: Progress) -> list[float]:
    import jax
    import jax.numpy as jnp

    n = cfg.array_bytes // 4  # float32 elements: same bytes per array as the numpy kernels
    progress(f"probe: triad as one XLA:CPU fusion, 3 x {cfg.array_bytes / MIB:.0f} MiB, best of {cfg.xla_repeats}")
    b = jnp.full((n,), 2.0, jnp.float32)
    c = jnp.full((n,), 0.5, jnp.float32)
    state = {"a": jnp.zeros((n,), jnp.float32)}
    # Donating `a` lets XLA write the result into a's (already touched) buffer each call.
    triad = jax.jit(lambda a, b, c: b + 3.0 * c, donate_argnums=0)

    def run() -> None:
        state["a"] = triad(state["a"], b, c)
        state["a"].block_until_ready()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "donated buffers were not usable" on backends that cannot alias
        return _best_rates(run, 3 * n * 4, cfg.xla_repeats)


def _xla_matmul(cfg: ProbeConfig, n: int, dtype: str, progress: Progress) -> list[float]:
    import jax
    import jax.numpy as jnp

    progress(f"probe: {dtype} matmul {n}x{n} with jax.jit on XLA:CPU, best of {cfg.matmul_repeats}")
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.standard_normal((n, n)).astype(dtype))
    y = jnp.asarray(rng.standard_normal((n, n)).astype(dtype))
    if x.dtype != np.dtype(dtype):
        raise RuntimeError(f"jax gave {x.dtype} for {dtype}: is x64 off?")
    matmul = jax.jit(jnp.matmul)
    return _best_rates(lambda: matmul(x, y).block_until_ready(), 2.0 * n**3, cfg.matmul_repeats)


def _enable_x64() -> Any:
    import jax

    ctx = getattr(jax, "enable_x64", None)
    if ctx is None:
        import jax.experimental

        ctx = getattr(jax.experimental, "enable_x64", None)
    return ctx


def measure(config: ProbeConfig | None = None, progress: Progress | None = None) -> ProbeResult:
    """Run the probe now (no cache). Takes a few seconds at the default sizes."""
    say: Progress = progress or (lambda _msg: None)
    cfg = (config or DEFAULT_CONFIG).resolved()
    load_avg = os.getloadavg()[0] if hasattr(os, "getloadavg") else -1.0
    t0 = time.perf_counter()
    samples: dict[str, list[float]] = dict(_numpy_stream(cfg, say))
    samples["triad_bw_xla"] = _xla_triad(cfg, say)
    samples["matmul_flops_f32"] = _xla_matmul(cfg, cfg.matmul_n, "float32", say)
    x64 = _enable_x64() if cfg.matmul_n_f64 else None
    if x64 is not None:
        with x64(True):  # scoped: the process's x64 setting is left as it was
            samples["matmul_flops_f64"] = _xla_matmul(cfg, cfg.matmul_n_f64, "float64", say)
    return ProbeResult(
        cpu_model=cpu_model(),
        vendor=cpu_vendor(),
        cores=usable_cores(),
        threads=cfg.threads,
        jax_version=_jax_version(),
        numpy_version=np.__version__,
        measured_at=datetime.now(UTC).isoformat(timespec="seconds"),
        mem_total=total_memory(),
        load_avg=load_avg,
        copy_bw=max(samples["copy_bw"]),
        triad_bw=max(samples["triad_bw"]),
        triad_bw_xla=max(samples["triad_bw_xla"]),
        matmul_flops_f32=max(samples["matmul_flops_f32"]),
        matmul_flops_f64=max(samples["matmul_flops_f64"]) if "matmul_flops_f64" in samples else None,
        config=cfg,
        samples={k: tuple(v) for k, v in samples.items()},
        elapsed_s=time.perf_counter() - t0,
    )


# --- The cache ----------------------------------------------------------------------------------------

def cache_path() -> Path:
    """Where the probe result is cached (see the module docstring for the order of precedence)."""
    if os.environ.get("IRSCOPE_CACHE_DIR"):
        return Path(os.environ["IRSCOPE_CACHE_DIR"]) / CACHE_FILE
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "irscope" / CACHE_FILE


def cache_key(config: ProbeConfig | None = None) -> dict[str, Any]:
    """What a cached result must match to be reused: this CPU, its core count, jax, and the settings."""
    cfg = (config or DEFAULT_CONFIG).resolved()
    return {"cpu_model": cpu_model(), "cores": usable_cores(), "jax_version": _jax_version(), "config": asdict(cfg)}


def _read_entries(path: Path) -> list[dict[str, Any]]:
    """The cache file's entries; empty if it is missing, unreadable, or of another schema."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if not isinstance(data, dict) or data.get("schema") != CACHE_SCHEMA:
        return []
    entries = data.get("entries")
    return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []


def load_cached(config: ProbeConfig | None = None, path: Path | None = None) -> ProbeResult | None:
    """The cached result for this machine and settings, or None."""
    key = cache_key(config)
    for entry in _read_entries(path or cache_path()):
        if entry.get("key") == key:
            try:
                return ProbeResult.from_json(entry["result"])
            except (KeyError, TypeError, ValueError):
                return None
    return None


def save(result: ProbeResult, path: Path | None = None) -> Path:
    """Add `result` to the cache (replacing an entry with the same key), atomically. Returns the path."""
    return _save(result, path or cache_path(), cache_key(result.config))


def _save(result: ProbeResult, path: Path, key: dict[str, Any]) -> Path:
    entries = [e for e in _read_entries(path) if e.get("key") != key]
    entries = [*entries, {"key": key, "result": result.to_json()}][-MAX_CACHE_ENTRIES:]
    text = json.dumps({"schema": CACHE_SCHEMA, "entries": entries}, indent=1) + "\n"
    write_atomic(path, text)  # a WriteError is an OSError: load_or_measure warns and goes on
    return path


def load_or_measure(
    force: bool = False,
    progress: Progress | None = None,
    *,
    config: ProbeConfig | None = None,
    path: Path | None = None,
) -> ProbeResult:
    """The cached probe result for this machine, measuring (and caching) it first if there is none.

    Arguments:
        force: measure again even if a cached result matches.
        progress: called with one-line messages while measuring (the CLI prints them on stderr).
        config: probe settings (default `DEFAULT_CONFIG`); part of the cache key.
        path: cache file (default `cache_path()`).
    """
    path = path or cache_path()
    key = cache_key(config)
    if not force:
        cached = load_cached(config, path)
        if cached is not None:
            return cached
    if progress is not None:
        progress(f"probe: measuring this CPU's bandwidth and FLOP/s once (a few seconds); cache: {path}")
    result = measure(config, progress)
    try:
        _save(result, path, key)
    except OSError as e:
        message = f"probe: could not write the cache {path}: {e}"
        if progress is not None:
            progress(message)
        else:
            warnings.warn(message, RuntimeWarning, stacklevel=2)
    return result


def cpu_chip(result: ProbeResult) -> hw.Chip:
    """The `cpu` Chip from a probe measurement: memory bandwidth is the triad figure, peaks the matmuls."""
    date = result.measured_at[:10]
    how = f"measured by irscope's probe on {date} ({result.cpu_model}, {result.cores} cores, jax {result.jax_version})"
    cfg = result.config
    peak_flops = {"f32": result.matmul_flops_f32}
    sources = {
        "peak_flops.f32": (
            f"{how}: jax.jit f32 {cfg.matmul_n}x{cfg.matmul_n} matmul on XLA:CPU, best of {cfg.matmul_repeats}"
        ),
        "mem_bandwidth": (
            f"{how}: STREAM-like triad a = b + s*c, numpy, {result.threads} threads, "
            f"3 x {cfg.array_bytes / 2**20:.0f} MiB arrays, best of {cfg.bw_repeats}"
        ),
        "mem_capacity": "total RAM from os.sysconf (SC_PHYS_PAGES x SC_PAGE_SIZE)",
    }
    if result.matmul_flops_f64 is not None:
        peak_flops["f64"] = result.matmul_flops_f64
        sources["peak_flops.f64"] = (
            f"{how}: jax.jit f64 {cfg.matmul_n_f64}x{cfg.matmul_n_f64} matmul on XLA:CPU, "
            f"best of {cfg.matmul_repeats}"
        )
    return hw.Chip(
        name="cpu",
        product=f"{result.cpu_model} ({result.cores} cores)",
        vendor=result.vendor,
        peak_flops=peak_flops,
        mem_bandwidth=result.triad_bw,
        mem_capacity=float(result.mem_total),
        sources=sources,
        notes=(
            "Measured, not datasheet: the FLOP/s are what XLA:CPU reaches on a large matmul (not the "
            "cores' theoretical FMA peak), and the bandwidth is a multi-threaded numpy triad. XLA:CPU's "
            f"own fused triad reached {result.triad_bw_xla / 1e9:.1f} GB/s. Other float types fall back "
            "to f32 (XLA:CPU upcasts bf16/f16 dots to f32 on CPUs without native bf16 units)."
        ),
    )


# --- Transcendental rate (measured on demand, not cached) ---------------------------------------------

TRANSCENDENTAL_OPS = ("tanh", "exp")
"""The element-wise transcendentals `transcendental_rate` can measure."""


def transcendental_rate(op: str = "tanh", *, depth: int = 6, elements: int = 2**16, loops: int = 16,
                        repeats: int = 5) -> float:
    """Transcendentals per second XLA:CPU computes inside one fused element-wise kernel: the compute roof of a
    kernel whose time goes to `tanh` or `exp`, which the f32 matmul rate (the roofline's roof) is not.

    One `jax.jit` function runs a `lax.fori_loop` of `loops` iterations over a cache-resident f32 array of
    `elements` (256 KiB by default, so memory is not what limits it); each iteration applies `op` `depth`
    times in a row, which XLA fuses into one loop kernel, as it fuses the transcendentals of a workload.
    A chain is measured rather than one `op` per kernel because that is how a fused kernel meets them (one
    `tanh` per kernel measures faster on XLA:CPU, since the kernel then does nothing else). `exp` runs as
    `exp(-y)` on non-negative inputs, which keeps every value in [1/e, 1]. Best of `repeats` timed calls
    after one untimed (compiling) call; raises ValueError for an op not in `TRANSCENDENTAL_OPS`.
    """
    if op not in TRANSCENDENTAL_OPS:
        raise ValueError(f"unknown transcendental: {op!r}; known: {', '.join(TRANSCENDENTAL_OPS)}")
    import jax
    import jax.numpy as jnp

    step = jnp.tanh if op == "tanh" else (lambda y: jnp.exp(-y))

    def body(_: Any, y: Any) -> Any:
        for _ in range(depth):
            y = step(y)
        return y

    kernel = jax.jit(lambda x: jax.lax.fori_loop(0, loops, body, x))
    x = jnp.abs(jnp.asarray(np.random.default_rng(0).standard_normal(elements, dtype=np.float32)))
    rates = _best_rates(lambda: kernel(x).block_until_ready(), float(depth * loops * elements), repeats)
    return max(rates)
