"""Compile for a chip that is not in this machine: the target registry and deviceless compilation.

    target = parse_target("tpu-v5e:2x2")              # validated; loads no plugin
    out = compile_for_target(fn, args, target)         # XLA:TPU's own module, compiled on this CPU
    out.hlo_text, out.cost_analysis, out.memory_analysis, out.autotuned
    compile_mlir_for_target(read_mlir("step.mlir"), "h100:8")   # a saved (sharded) StableHLO module

A target is a chip and a topology, `NAME[:TOPOLOGY]`:

- `cpu`: the local XLA:CPU backend (the default); it takes no topology.
- `h100`, `a100`, `h200`, `b200`: XLA:GPU. The compiler gets the GPU's description (SM count, clocks,
  bandwidth, shared memory, compute capability) from XLA's own target config, vendored in
  `irscope/data/gpu_specs/` (see its SOURCES.md). Topology `N` is N GPUs in one NVLink host (`h100:8`),
  `HxN` is H hosts of N GPUs.
- `tpu-v4`, `tpu-v5e`, `tpu-v5p`, `tpu-v6e`: XLA:TPU, from libtpu. Topology is the slice shape in chips,
  as Cloud TPU names it (`tpu-v5e:2x2`, `tpu-v5p:2x2x1`); without one, a single chip.

How: `jax.experimental.topologies.get_topology_desc` builds compile-only devices for the chip; the
arguments become `ShapeDtypeStruct`s placed (or sharded) on those devices; `jax.jit(fn).lower(...).compile()`
runs the target's real compiler. No device, driver or NVIDIA library is needed. What differs from a compile
on the real chip: nothing is autotuned (XLA:GPU needs a device to time its Triton tile and cuBLAS algorithm
candidates, so it keeps its defaults, e.g. 16x8 output tiles with 2 warps for an f32 GEMM, and split-K;
`CompiledForTarget.autotuned` is False and `autotune_note` says so).
XLA:GPU has no `cost_analysis()` here (None); `memory_analysis()` works on both.

The plugins come with the optional extras: `pip install 'irscope[gpu]'` (jax-cuda12-plugin, jax-cuda12-pjrt)
and `pip install 'irscope[tpu]'` (libtpu). Without one, `TargetUnavailable` says which command to run.

Logs: the plugins print C++ log lines and Python tracebacks from their initialisation on a machine without
their device ("Could not find cuda drivers", "Unable to load CUDA", libtpu's metadata warnings). This module
(1) imports JAX with file descriptor 2 captured, (2) on a machine with no GPU or TPU device file and no
`JAX_PLATFORMS` set, tells JAX to start only its CPU backend (the others could only fail), and (3) builds
topologies and compiles with file descriptor 2 captured; what a failure printed goes into the error's one
line. libtpu takes a machine-wide lock file unless `ALLOW_MULTIPLE_LIBTPU_LOAD` is set; compile-only use
needs no device, so this module sets it (two irscope processes may compile for TPU at once).

Not handled yet: pre-optimization HLO text (convert it with `stablehlo.hlo_text_to_mlir` first), GPUs other
than the four above, multi-slice TPU (DCN) topologies, XLA flags that only take effect at backend start-up,
and a check on a real GPU: where one is attached, JAX compiles through its client, which autotunes, and
`autotuned` says True; that path has not run here (no GPU was lent to this work).
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal


@contextlib.contextmanager
def captured_stderr() -> Iterator[list[str]]:
    """Capture file descriptor 2 (C++ logs) and `sys.stderr` (Python's); yield a list that receives the text.

    The list gets one item when the block ends (also when it raises): what went to file descriptor 2, then
    what went to `sys.stderr` (they are separate streams when something, pytest for one, has replaced
    `sys.stderr`). Process-wide: output of other threads during the block is captured too.
    """
    out: list[str] = []
    sys.stderr.flush()
    saved = os.dup(2)
    python_side = io.StringIO()
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            with contextlib.redirect_stderr(python_side):
                yield out
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            out.append(tmp.read().decode("utf-8", "replace") + python_side.getvalue())


# Plugin set-up that must happen before JAX starts its backends (see the module docstring).
os.environ.setdefault("ALLOW_MULTIPLE_LIBTPU_LOAD", "1")  # compile-only TPU use holds no device
os.environ.setdefault("TPU_SKIP_MDS_QUERY", "1")  # not on a Cloud TPU VM: no metadata server to ask
# The CUDA plugin refuses to register when it cannot load the CUDA runtime, unless told to skip the check;
# compiling needs no runtime.
os.environ.setdefault("JAX_SKIP_CUDA_CONSTRAINTS_CHECK", "1")

with captured_stderr():  # the CUDA plugin's modules log "Could not find cuda drivers" on load
    import jax
    import numpy as np
    from jax._src import xla_bridge
    from jax.sharding import NamedSharding, PartitionSpec, SingleDeviceSharding

from irscope.errors import TargetCompileError as TargetCompileError  # noqa: E402
from irscope.errors import TargetError as TargetError  # noqa: E402
from irscope.errors import TargetUnavailable as TargetUnavailable  # noqa: E402
from irscope.frontends.jax_lower import (  # noqa: E402  (after the quiet import of JAX)
    LoweringError,
    MemoryAnalysis,
    _first_line,
    _module_name,
    _needs_x64,
    abstractify,
    normalize_cost,
    user_error_line,
)
from irscope.frontends.stablehlo import MlirModule  # noqa: E402

Platform = Literal["cpu", "cuda", "tpu"]

_SPEC_DIR = Path(__file__).resolve().parents[1] / "data" / "gpu_specs"

# Device files whose presence means a real accelerator may be attached (then JAX starts as it would anyway).
_ACCELERATOR_DEVICE_FILES = ("/dev/nvidia0", "/dev/nvidiactl", "/dev/accel0", "/dev/vfio/0", "/dev/kfd")


def _prefer_cpu_backend() -> None:
    """On a machine with no accelerator and no `JAX_PLATFORMS`, start only JAX's CPU backend.

    Otherwise JAX initialises every installed plugin on first use, and on such a machine each one fails
    loudly (a traceback from the CUDA plugin, libtpu's warnings). Deviceless compilation does not need
    them started: topologies load their plugin themselves.
    """
    if os.environ.get("JAX_PLATFORMS") or jax.config.jax_platforms:
        return
    if xla_bridge.backends_are_initialized():
        return
    if any(os.path.exists(p) for p in _ACCELERATOR_DEVICE_FILES):
        return
    jax.config.update("jax_platforms", "cpu")
    # Registering the plugins (which JAX does when it first starts a backend) loads the CUDA plugin's
    # library, which logs; do it now, quietly, without starting a backend, so that settings such as
    # `jax_num_cpu_devices` can still be changed after `import irscope`.
    with captured_stderr(), contextlib.suppress(Exception):
        xla_bridge._discover_and_register_pjrt_plugins()


_prefer_cpu_backend()

# Keep this file out of the stack frames JAX writes into HLO metadata, so they point at the user's code.
with contextlib.suppress(ImportError, AttributeError):  # private JAX API; without it a frame here shows
    from jax._src import source_info_util

    source_info_util.register_exclusion(__file__)


# ----------------------------------------------------------------------------------------------
# Errors


# ----------------------------------------------------------------------------------------------
# The chips


@dataclass(frozen=True)
class Chip:
    """One kind of chip a program can be compiled for."""

    name: str
    """Canonical name, also the key of the chip table in `irscope.hw` (`h100`, `tpu-v5e`, `cpu`)."""
    platform: Platform
    """JAX's platform: `cpu`, `cuda` or `tpu`."""
    description: str
    """What it is, in words (`NVIDIA H100 SXM 80GB`)."""
    extra: str | None = None
    """The irscope extra that installs its compiler (`gpu`, `tpu`); None for the local CPU."""
    spec_file: str | None = None
    """GPU: XLA's target config, a file in irscope/data/gpu_specs."""
    tpu_version: str | None = None
    """TPU: libtpu's name for the generation (`v5e`)."""
    torus_dims: int = 0
    """TPU: dimensions of the slice shape (2 for v5e/v6e, 3 for v4/v5p)."""
    max_chips: int = 1
    """The largest slice (TPU) or number of GPUs (8 per host, 64 hosts) irscope accepts."""

    @property
    def spec_path(self) -> Path | None:
        return _SPEC_DIR / self.spec_file if self.spec_file else None

    def spec_text(self) -> str:
        """The GPU's target config as XLA reads it (text proto)."""
        if self.spec_path is None:
            raise ValueError(f"{self.name} has no GPU target config")
        return self.spec_path.read_text()


GPUS_PER_HOST = 8  # an HGX/DGX board; NVLink connects the GPUs inside it
MAX_GPU_HOSTS = 64

# v5e/v6e slices (Cloud TPU documentation, "TPU v5e" and "TPU v6e", supported slice shapes).
_TORUS_2D_SHAPES = ((1, 1), (2, 2), (2, 4), (4, 4), (4, 8), (8, 8), (8, 16), (16, 16))
# v4/v5p slices smaller than one 4x4x4 cube; larger ones are AxBxC with A<=B<=C, all multiples of 4
# (Cloud TPU documentation, "TPU v4" and "TPU v5p" configurations; "types and topologies").
_SMALL_3D_SHAPES = ((1, 1, 1), (2, 2, 1), (2, 2, 2), (2, 2, 4), (2, 4, 4))

CHIPS: dict[str, Chip] = {
    c.name: c
    for c in (
        Chip("cpu", "cpu", "this machine's CPU (XLA:CPU)"),
        Chip("h100", "cuda", "NVIDIA H100 SXM 80GB", "gpu", spec_file="h100_sxm.txtpb",
             max_chips=GPUS_PER_HOST * MAX_GPU_HOSTS),
        Chip("a100", "cuda", "NVIDIA A100 SXM4 80GB", "gpu", spec_file="a100_sxm_80.txtpb",
             max_chips=GPUS_PER_HOST * MAX_GPU_HOSTS),
        Chip("h200", "cuda", "NVIDIA H200 141GB", "gpu", spec_file="h200.txtpb",
             max_chips=GPUS_PER_HOST * MAX_GPU_HOSTS),
        Chip("b200", "cuda", "NVIDIA B200", "gpu", spec_file="b200.txtpb",
             max_chips=GPUS_PER_HOST * MAX_GPU_HOSTS),
        # Pod sizes: v4 4096 chips (16x16x16), v5p largest slice 16x16x24, v5e and v6e 256 (16x16).
        Chip("tpu-v4", "tpu", "Google TPU v4", "tpu", tpu_version="v4", torus_dims=3, max_chips=4096),
        Chip("tpu-v5e", "tpu", "Google TPU v5e", "tpu", tpu_version="v5e", torus_dims=2, max_chips=256),
        Chip("tpu-v5p", "tpu", "Google TPU v5p", "tpu", tpu_version="v5p", torus_dims=3, max_chips=6144),
        Chip("tpu-v6e", "tpu", "Google TPU v6e (Trillium)", "tpu", tpu_version="v6e", torus_dims=2,
             max_chips=256),
    )
}
GPUS = tuple(n for n, c in CHIPS.items() if c.platform == "cuda")
TPUS = tuple(n for n, c in CHIPS.items() if c.platform == "tpu")


@dataclass(frozen=True)
class Target:
    """A chip and a topology: what `--target NAME[:TOPOLOGY]` names."""

    chip: Chip
    """The kind of chip."""
    shape: tuple[int, ...]
    """TPU: the slice shape in chips, (1, 1) or (1, 1, 1) for one chip. GPU: (hosts, GPUs per host).
    CPU: ()."""

    @property
    def num_chips(self) -> int:
        """Chips (TPU) or GPUs the program is compiled for; 1 for the CPU."""
        return math.prod(self.shape) if self.shape else 1

    @property
    def topology(self) -> str:
        """The topology as written after the colon (`2x2`, `8`, `2x8`); '' for one chip or the CPU."""
        if self.num_chips == 1:
            return ""
        if self.chip.platform == "cuda" and self.shape[0] == 1:
            return str(self.shape[1])
        return "x".join(map(str, self.shape))

    @property
    def name(self) -> str:
        """Canonical spelling: `tpu-v5e:2x2`, `h100:8`, `h100` (one GPU), `cpu`."""
        return f"{self.chip.name}:{self.topology}" if self.topology else self.chip.name

    @property
    def platform(self) -> Platform:
        return self.chip.platform

    @property
    def is_local(self) -> bool:
        """True for `cpu`: compiled by this machine's own backend, with its real device."""
        return self.chip.platform == "cpu"

    def __str__(self) -> str:
        return self.name


def list_targets() -> tuple[str, ...]:
    """The chip names `parse_target` accepts."""
    return tuple(CHIPS)


def parse_target(text: str) -> Target:
    """`NAME[:TOPOLOGY]` -> a validated `Target`; loads no plugin.

    Names are case-insensitive; `tpu-v5e` may also be written `v5e`. Raises `TargetError`, with the valid
    choices in its message, for an unknown chip or a topology the chip cannot have.

        parse_target("h100:8").num_chips     # 8
        parse_target("tpu-v5e:2x2").name     # 'tpu-v5e:2x2'
        parse_target("tpu-v5e:3x3")          # TargetError: ... v5e slices are 1x1, 2x2, 2x4, ...
    """
    if not isinstance(text, str) or not text.strip():
        raise TargetError(f"empty target (choose one of: {', '.join(CHIPS)})")
    name, _, topology = text.strip().lower().partition(":")
    if name in {"v4", "v5e", "v5p", "v6e"}:
        name = f"tpu-{name}"
    chip = CHIPS.get(name)
    if chip is None:
        raise TargetError(f"unknown target {text.strip()!r} (choose one of: {', '.join(CHIPS)}; "
                          "a TPU or GPU may add a topology, e.g. tpu-v5e:2x2, h100:8)")
    if chip.platform == "cpu":
        if topology:
            raise TargetError(f"target 'cpu' takes no topology (got {text.strip()!r}); it compiles for this "
                              "machine's CPU")
        return Target(chip, ())
    if chip.platform == "cuda":
        return Target(chip, _gpu_shape(chip, topology, text))
    return Target(chip, _tpu_shape(chip, topology, text))


def _dims(topology: str, text: str) -> tuple[int, ...]:
    if not re.fullmatch(r"[1-9][0-9]*(x[1-9][0-9]*)*", topology):
        raise TargetError(f"malformed topology in {text.strip()!r}: expected numbers joined by 'x', "
                          "e.g. tpu-v5e:2x2, tpu-v5p:2x2x1, h100:8")
    return tuple(int(d) for d in topology.split("x"))


def _gpu_shape(chip: Chip, topology: str, text: str) -> tuple[int, int]:
    if not topology:
        return (1, 1)
    dims = _dims(topology, text)
    hosts, per_host = (1, dims[0]) if len(dims) == 1 else dims if len(dims) == 2 else (0, 0)
    if not (1 <= per_host <= GPUS_PER_HOST and 1 <= hosts <= MAX_GPU_HOSTS):
        raise TargetError(f"{chip.name} cannot have topology {topology!r}: write N GPUs in one host "
                          f"(1 to {GPUS_PER_HOST}, e.g. {chip.name}:8) or HxN for H hosts of N GPUs "
                          f"(H up to {MAX_GPU_HOSTS}, e.g. {chip.name}:2x8)")
    return (hosts, per_host)


def _tpu_shapes_text(chip: Chip) -> str:
    if chip.torus_dims == 2:
        return ", ".join("x".join(map(str, s)) for s in _TORUS_2D_SHAPES)
    small = ", ".join("x".join(map(str, s)) for s in _SMALL_3D_SHAPES)
    return (f"{small}, or AxBxC with A<=B<=C all multiples of 4 and at most {chip.max_chips} chips "
            "(4x4x4, 4x4x8, 8x8x8, ...)")


def _tpu_shape(chip: Chip, topology: str, text: str) -> tuple[int, ...]:
    if not topology:
        return (1,) * chip.torus_dims
    dims = _dims(topology, text)
    valid = len(dims) == chip.torus_dims and (
        dims in _TORUS_2D_SHAPES if chip.torus_dims == 2 else
        dims in _SMALL_3D_SHAPES or (
            all(d % 4 == 0 for d in dims) and list(dims) == sorted(dims) and math.prod(dims) <= chip.max_chips
        )
    )
    if not valid:
        raise TargetError(f"{chip.name} cannot have topology {topology!r}: {chip.tpu_version} slices are "
                          f"{_tpu_shapes_text(chip)}")
    return dims


# ----------------------------------------------------------------------------------------------
# Plugins and devices


def extra_installed(chip: Chip) -> bool:
    """Whether the chip's compiler is installed (without importing it)."""
    if chip.platform == "cpu":
        return True
    module = "jax_plugins.xla_cuda12" if chip.platform == "cuda" else "libtpu"
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def require_extra(target: Target) -> None:
    """Raise `TargetUnavailable` naming the pip command when the target's compiler is not installed."""
    chip = target.chip
    if not extra_installed(chip):
        raise TargetUnavailable(f"target {target.name!r} needs XLA:{'GPU' if chip.platform == 'cuda' else 'TPU'}"
                                f"'s compiler, which is not installed: pip install 'irscope[{chip.extra}]'")


def _host_bounds(target: Target) -> list[int]:
    """Chips per host of a TPU slice (libtpu's `chips_per_host_bounds`): 1, 4 (2x2) or 8 (2x4) for
    v5e/v6e hosts, 4 (2x2x1) for v4/v5p hosts."""
    dims = target.shape
    if target.num_chips == 1:
        return [1, 1, 1]
    if target.chip.torus_dims == 2:
        return [2, 2, 1] if dims == (2, 2) else [2, 4, 1]
    return [2, 2, 1]


def _last_error_line(text: str) -> str:
    """The most useful line of a plugin's captured output: its last error-looking line, else its last line."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    errors = [ln for ln in lines if re.search(r"error|invalid|failed|unable|abort", ln, re.I)
              and "All log messages before" not in ln]
    return (errors or lines or [""])[-1][:300]


def _cuda_topology(spec: str, shape: str) -> Any:
    from jax.experimental import topologies

    try:
        return topologies.get_topology_desc(platform="cuda", target_config=spec, topology=shape)
    except NotImplementedError:
        # JAX started its backends before this module set JAX_SKIP_CUDA_CONSTRAINTS_CHECK, so the CUDA plugin
        # failed its CUDA-runtime check and never registered. Register it now (no backend is started).
        import jax_plugins.xla_cuda12 as cuda_plugin

        cuda_plugin.initialize()
        return topologies.get_topology_desc(platform="cuda", target_config=spec, topology=shape)


@cache
def _devices(target: Target) -> tuple[jax.Device, ...]:
    if target.is_local:
        return tuple(jax.devices("cpu"))
    require_extra(target)
    from jax.experimental import topologies

    log: list[str] = []
    try:
        with captured_stderr() as log:
            if target.platform == "cuda":
                hosts, per_host = target.shape
                topo = _cuda_topology(target.chip.spec_text(), f"1x{hosts}x{per_host}")
            else:
                topo = topologies.get_topology_desc(
                    platform="tpu", topology_name=f"{target.chip.tpu_version}:{'x'.join(map(str, target.shape))}",
                    chips_per_host_bounds=_host_bounds(target))
    except Exception as e:  # a plugin that fails to start: its own words, in one line
        detail = _first_line(str(e)) or _last_error_line(log[0] if log else "")
        raise TargetUnavailable(f"could not start the compiler for {target.name}: {detail}") from e
    return tuple(topo.devices)


def devices_for(target: Target | str) -> tuple[jax.Device, ...]:
    """The target's devices: compile-only devices for a GPU/TPU (built once per target), or the local CPU."""
    return _devices(parse_target(target) if isinstance(target, str) else target)


def probe(target: Target | str, *, timeout_s: float = 120.0) -> str | None:
    """Start the target's compiler in a child process and compile a tiny program there.

    Returns None when it worked, else one line saying why (a missing extra, a plugin that fails to start,
    or one that aborts or hangs the process: the child takes the blow, this process goes on). Costs a
    process start and a plugin load (a few seconds); use it before handing a compiler something risky.
    """
    target = parse_target(target) if isinstance(target, str) else target
    if not extra_installed(target.chip):
        try:
            require_extra(target)
        except TargetUnavailable as e:
            return str(e)
    code = ("import sys; from irscope.frontends.targets import compile_for_target as c; "
            f"c(lambda x: x * 2.0, ['f32[8,128]'], {target.name!r}); print('ok')")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in [str(Path(__file__).resolve().parents[2]),
                                                                    os.environ.get("PYTHONPATH", "")] if p))
    try:
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout_s,
                              env=env)
    except subprocess.TimeoutExpired:
        return f"the compiler for {target.name} did not finish a tiny program in {timeout_s:.0f} s"
    if done.returncode == 0 and done.stdout.strip().endswith("ok"):
        return None
    why = _last_error_line(done.stderr) or f"exit status {done.returncode}"
    if done.returncode < 0:
        why = f"killed by signal {-done.returncode}: {why}"
    return f"the compiler for {target.name} failed in a child process: {why}"


# ----------------------------------------------------------------------------------------------
# Compiling


def _autotune_note(target: Target) -> str:
    return NOT_AUTOTUNED if not target.is_local else "XLA:CPU has no tile autotuning; compiled on this machine"


def _compiled_on_real_gpu(target: Target, devices: Sequence[jax.Device]) -> bool:
    """Whether JAX compiles this target through a real GPU client on this machine (it does when one of the
    same platform version is attached: `jax._src.compiler._get_cross_compile_backend`), which autotunes."""
    if target.platform != "cuda":
        return False
    try:
        from jax._src import compiler as jax_compiler

        with captured_stderr():
            return jax_compiler._get_cross_compile_backend(devices[0].client) is not None
    except Exception:  # private JAX API moved: assume the deviceless path, the only one tested here
        return False


def _autotuning(target: Target, devices: Sequence[jax.Device]) -> tuple[bool, str]:
    if _compiled_on_real_gpu(target, devices):
        real = jax.devices("cuda")[0].device_kind
        return True, (f"compiled through this machine's {real}, so XLA autotuned tile configs on it"
                      + ("" if real == devices[0].device_kind else f", not on a {devices[0].device_kind}"))
    return False, _autotune_note(target)


NOT_AUTOTUNED = ("compiled without the device: XLA kept its default tile configs and library algorithms "
                 "(nothing was autotuned)")


@dataclass(frozen=True, eq=False)
class CompiledForTarget:
    """A program compiled by the target's own compiler."""

    target: Target
    """What it was compiled for."""
    name: str
    """The module name (`jit_<function>`)."""
    stablehlo: str = field(repr=False)
    """The StableHLO module JAX handed to the compiler (with the target's shardings)."""
    hlo_text: str = field(repr=False)
    """The optimized HLO module, as the target's compiler left it (`Compiled.as_text()`)."""
    cost_analysis: dict[str, float] | None
    """The compiler's own cost analysis (`flops`, `bytes accessed`, `transcendentals`, TPU's
    `optimal_seconds`, per-operand keys), flattened; None where the compiler has none (XLA:GPU deviceless)."""
    memory_analysis: MemoryAnalysis | None
    """The compiler's buffer sizes; None where it reports none."""
    autotuned: bool
    """Whether tile configs and library algorithms were autotuned on the device (never, deviceless)."""
    autotune_note: str
    """One sentence on autotuning, for the report."""
    num_devices: int
    """Devices the program was compiled for (a v4 chip counts as 2: XLA:TPU sees both TensorCores)."""
    device_kind: str
    """The compiler's name for the device (`NVIDIA H100 80GB HBM3`, `TPU v5 lite`)."""
    seconds: float
    """Wall time of lowering and compiling, in seconds."""
    device_coords: tuple[tuple[int, ...], ...] = ()
    """TPU: each device's chip coordinates on the torus, in the order the module's replica groups number
    the devices (the device assignment); empty elsewhere. Prices collectives by placement."""

    def to_json(self) -> dict[str, Any]:
        """The figures the corpus JSON keeps (no module text)."""
        return {
            "target": self.target.name,
            "platform": self.target.platform,
            "device_kind": self.device_kind,
            "num_devices": self.num_devices,
            "module": self.name,
            "autotuned": self.autotuned,
            "cost_analysis": self.cost_analysis,
            "memory_analysis": self.memory_analysis.to_json() if self.memory_analysis else None,
        }


def compile_for_target(
    fn: Callable[..., Any],
    args: Sequence[Any] | str,
    target: Target | str = "cpu",
    *,
    static_argnums: int | Sequence[int] = (),
    mesh: Mapping[str, int] | jax.sharding.Mesh | None = None,
    compiler_options: Mapping[str, Any] | None = None,
) -> CompiledForTarget:
    """Compile `fn` at the shapes of `args` with the target's own compiler, without its device.

    Arguments:
        fn: a function (or a `jax.jit`-wrapped one).
        args: as for `irscope.frontends.jax_lower.lower`: `ShapeDtypeStruct`s, arrays, spec strings,
            pytrees of them, or one spec string. A `ShapeDtypeStruct` may carry `sharding=PartitionSpec(...)`
            (needs `mesh`) or a `NamedSharding` over the target's devices.
        target: a `Target` or its name (`"h100:8"`, `"tpu-v5e:2x2"`, `"cpu"`).
        static_argnums: as for `jax.jit`.
        mesh: axis sizes (`{"data": 2, "model": 2}`, product = the target's devices) or a ready `Mesh`.
            Without one, a multi-device target gets a one-axis mesh `("devices",)` and unsharded
            arguments are replicated over it.
        compiler_options: XLA debug options for this compilation.

    Raises `TargetError` (bad target or mesh), `TargetUnavailable` (extra missing or plugin failed),
    `LoweringError` (the function fails to trace), `TargetCompileError` (the compiler rejects it).
    """
    target = parse_target(target) if isinstance(target, str) else target
    devices = _devices(target)
    statics = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)
    abstract = abstractify(args, static_argnums=statics)
    the_mesh = _build_mesh(mesh, devices, target)
    # A ShapeDtypeStruct built with a bare PartitionSpec resolves it against the mesh in context.
    with _mesh_context(the_mesh):
        placed = tuple(a if i in statics else jax.tree.map(lambda leaf: _place(leaf, devices, the_mesh), a)
                       for i, a in enumerate(abstract))
    x64 = bool(jax.config.jax_enable_x64) or _needs_x64(a for i, a in enumerate(placed) if i not in statics)
    jitted = fn if hasattr(fn, "lower") else jax.jit(fn, static_argnums=statics)
    start = time.perf_counter()
    try:
        with jax.enable_x64(x64), _mesh_context(the_mesh):
            lowered = jitted.lower(*placed)
    except TargetError:
        raise
    except Exception as e:  # tracing the user's function: the user's error, at their line
        raise LoweringError(user_error_line(e)) from e
    log: list[str] = []
    try:
        with captured_stderr() as log:
            compiled = lowered.compile(compiler_options=dict(compiler_options) if compiler_options else None)
            hlo_text = compiled.as_text() or ""
            cost = _cost_or_none(compiled)
            memory = MemoryAnalysis.of(compiled.memory_analysis())
    except Exception as e:
        detail = _first_line(str(e)) or _last_error_line(log[0] if log else "")
        raise TargetCompileError(f"the {target.name} compiler rejected the program: {detail}") from e
    seconds = time.perf_counter() - start
    cost_dict = normalize_cost(cost) if cost is not None else None
    autotuned, autotune_note = _autotuning(target, devices)
    return CompiledForTarget(
        target=target,
        name=_module_name(lowered),
        stablehlo=lowered.as_text(),
        hlo_text=hlo_text,
        cost_analysis=cost_dict or None,
        memory_analysis=memory,
        autotuned=autotuned,
        autotune_note=autotune_note,
        num_devices=len(devices) if the_mesh is not None else 1,
        device_kind=str(devices[0].device_kind),
        seconds=seconds,
        device_coords=_coords(target, list(the_mesh.devices.flat) if the_mesh is not None else devices[:1]),
    )


def compile_mlir_for_target(
    module: MlirModule,
    target: Target | str = "cpu",
    *,
    compiler_options: Mapping[str, Any] | None = None,
) -> CompiledForTarget:
    """Compile a StableHLO module (`irscope.frontends.stablehlo.read_mlir`) with the target's compiler.

    A sharded module (a `shard_map` or `jit` program saved with `lower(...).as_text()`, Shardy's `sdy`
    meshes) is compiled for the number of devices it names in `mhlo.num_partitions` x `mhlo.num_replicas`;
    the target must have exactly that many (`TargetError` names a topology that does). The module's
    shardings keep their device ids; its mesh is laid over the target's devices in order.
    """
    from jax._src import compiler as jax_compiler
    from jax._src.interpreters import mlir as jax_mlir
    from jax._src.lib import xla_client as xc
    from jax._src.lib.mlir import ir

    target = parse_target(target) if isinstance(target, str) else target
    with jax_mlir.make_ir_context():
        attributes = ir.Module.parse(module.bytecode).operation.attributes
        partitions, replicas = (ir.IntegerAttr(attributes[key]).value if key in attributes else 1
                                for key in ("mhlo.num_partitions", "mhlo.num_replicas"))
    wanted = partitions * replicas
    if wanted != target.num_chips and not (target.is_local and wanted == 1):
        raise TargetError(f"{module.path}: the module is partitioned for {wanted} device(s) "
                          f"({partitions} partitions x {replicas} replicas) but {target.name} has "
                          f"{target.num_chips}: {_targets_with(target.chip, wanted)}")
    devices = _devices(target)[:wanted] if not target.is_local else _devices(target)[:1]
    if len(devices) != wanted:  # a v4 chip is two devices: the module must name devices, not chips
        raise TargetError(f"{module.path}: the module is partitioned for {wanted} device(s) but {target.name} "
                          f"has {len(_devices(target))} devices")

    client = devices[0].client
    options = jax_compiler.get_compile_options(
        num_replicas=replicas, num_partitions=partitions,
        device_assignment=np.array(devices).reshape(replicas, partitions),
        env_options_overrides={k: str(v) for k, v in (compiler_options or {}).items()} or None,
    )
    start = time.perf_counter()
    log: list[str] = []
    try:
        with captured_stderr() as log, jax_mlir.make_ir_context():
            ir_module = ir.Module.parse(module.bytecode)
            compile_fn = client.compile_and_load if target.is_local else client.compile
            executable = compile_fn(ir_module, executable_devices=xc.DeviceList(tuple(devices)),
                                    compile_options=options)
            hlo_text = executable.get_hlo_text() if hasattr(executable, "get_hlo_text") else (
                executable.hlo_modules()[0].to_string())
            cost = _cost_or_none(executable)
            memory = MemoryAnalysis.of(executable.get_compiled_memory_stats())
    except Exception as e:
        detail = _first_line(str(e)) or _last_error_line(log[0] if log else "")
        raise TargetCompileError(f"{module.path}: the {target.name} compiler rejected the module: {detail}") from e
    cost_dict = normalize_cost(cost) if cost is not None else None
    autotuned, autotune_note = _autotuning(target, devices)
    return CompiledForTarget(
        target=target,
        name=module.name,
        stablehlo=module.text,
        hlo_text=hlo_text,
        cost_analysis=cost_dict or None,
        memory_analysis=memory,
        autotuned=autotuned,
        autotune_note=autotune_note,
        num_devices=wanted,
        device_kind=str(devices[0].device_kind),
        seconds=time.perf_counter() - start,
        device_coords=_coords(target, devices),
    )


def _coords(target: Target, devices: Sequence[Any]) -> tuple[tuple[int, ...], ...]:
    """The TPU chip coordinates of `devices`, in order (empty for other platforms)."""
    if target.platform != "tpu":
        return ()
    return tuple(tuple(int(c) for c in getattr(d, "coords", ())) for d in devices)


def _cost_or_none(executable: Any) -> Any:
    """The executable's cost analysis; None where the compiler has none (XLA:GPU deviceless: UNIMPLEMENTED)."""
    try:
        return executable.cost_analysis()
    except Exception:
        return None


def _targets_with(chip: Chip, devices: int) -> str:
    """A sentence naming topologies of `chip` with `devices` chips (or saying there are none)."""
    if chip.platform == "cpu":
        return "compile it for a GPU or TPU target with that many devices (e.g. h100:8, tpu-v5e:2x2)"
    if chip.platform == "cuda":
        if devices <= GPUS_PER_HOST:
            return f"use {chip.name}:{devices}"
        if devices % GPUS_PER_HOST == 0 and devices // GPUS_PER_HOST <= MAX_GPU_HOSTS:
            return f"use {chip.name}:{devices // GPUS_PER_HOST}x{GPUS_PER_HOST}"
        return f"no {chip.name} topology has {devices} GPUs"
    shapes = _TORUS_2D_SHAPES if chip.torus_dims == 2 else _SMALL_3D_SHAPES
    fits = [s for s in shapes if math.prod(s) == devices]
    if fits:
        return f"use {chip.name}:{'x'.join(map(str, fits[0]))}"
    return f"no {chip.name} slice has {devices} chips ({_tpu_shapes_text(chip)})"


def _build_mesh(mesh: Mapping[str, int] | jax.sharding.Mesh | None, devices: Sequence[jax.Device],
                target: Target) -> jax.sharding.Mesh | None:
    if isinstance(mesh, jax.sharding.Mesh):
        return mesh
    if mesh is None:
        if len(devices) == 1:
            return None
        mesh = {"devices": len(devices)}
    sizes = dict(mesh)
    if any(not isinstance(v, int) or v < 1 for v in sizes.values()) or math.prod(sizes.values()) != len(devices):
        spelled = ",".join(f"{k}={v}" for k, v in sizes.items())
        cores = " (TensorCores: two per v4 chip)" if len(devices) != target.num_chips else ""
        raise TargetError(f"mesh {spelled} has {math.prod(sizes.values())} devices but {target.name} has "
                          f"{len(devices)}{cores}: the axis sizes must multiply to {len(devices)}")
    from jax.experimental import mesh_utils

    try:  # lays the axes along the TPU torus
        grid = mesh_utils.create_device_mesh(tuple(sizes.values()), list(devices))
    except (AssertionError, ValueError, NotImplementedError):
        # v4's compile-only devices are TensorCores, two per chip, which mesh_utils refuses ("megacore");
        # fall back to device order.
        grid = np.array(devices).reshape(tuple(sizes.values()))
    return jax.sharding.Mesh(grid, tuple(sizes))


def _mesh_context(mesh: jax.sharding.Mesh | None) -> contextlib.AbstractContextManager[Any]:
    return jax.set_mesh(mesh) if mesh is not None else contextlib.nullcontext()


def _place(leaf: Any, devices: Sequence[jax.Device], mesh: jax.sharding.Mesh | None) -> Any:
    """A `ShapeDtypeStruct` leaf -> the same, placed or sharded on the target's devices."""
    if not isinstance(leaf, jax.ShapeDtypeStruct):
        return leaf
    try:
        sharding = leaf.sharding  # a bare PartitionSpec resolves against the mesh in context here
    except (TypeError, ValueError) as e:
        spec = getattr(leaf, "_sharding", None)  # the PartitionSpec as given (private; for the message)
        if mesh is None:
            raise TargetError(f"an argument is sharded {spec} but the target has one device and no mesh: "
                              "give a multi-device target (e.g. tpu-v5e:2x2) and a mesh") from e
        unknown = [a for a in _spec_axes(spec) if a not in mesh.axis_names] if isinstance(spec, PartitionSpec) else []
        raise TargetError(f"sharding {spec} names mesh axes {', '.join(map(repr, unknown)) or '?'} but the mesh "
                          f"has {', '.join(map(repr, mesh.axis_names))}") from e
    if isinstance(sharding, NamedSharding) and set(sharding.mesh.devices.flat) <= set(devices):
        new = sharding
    elif sharding is not None and not isinstance(sharding, SingleDeviceSharding):
        raise TargetError(f"an argument carries sharding {sharding}, which is not on {devices[0].device_kind} "
                          "devices: give it a PartitionSpec and a mesh instead")
    elif mesh is not None:
        new = NamedSharding(mesh, PartitionSpec())
    else:
        new = SingleDeviceSharding(devices[0])
    return jax.ShapeDtypeStruct(leaf.shape, leaf.dtype, sharding=new, weak_type=leaf.weak_type)


def _spec_axes(spec: PartitionSpec) -> list[str]:
    axes: list[str] = []
    for entry in spec:
        if entry is None:
            continue
        axes.extend(entry if isinstance(entry, tuple) else (entry,))
    return [str(a) for a in axes]
