"""Per-kernel times from a profiler trace, matched to the kernels of the optimized module.

    trace = capture(lambda: compiled(*values), runs=5)          # jax.profiler, in a temp dir
    times = match(module, find_kernels(module), trace.events, runs=trace.runs)
    times.kernel_times["fusion.3"].median_s, times.unmatched_events

`capture` runs a call under `jax.profiler.start_trace` into a temporary directory (removed afterwards,
whatever happens), reads the XSpace it wrote with `jax.profiler.ProfileData`, and keeps the events
that are kernel executions (`read_events`):

- on XLA:CPU every thunk the runtime executes is an event on a host thread whose stats carry
  `hlo_op` (the instruction's name: `broadcast_maximum_fusion`, `ynn_fusion.2`) and `hlo_module`;
  the `end: NAME` markers beside them are not executions and are skipped;
- on a GPU, kernels are events on the device planes (`/device:GPU:0`), on the `Stream #...` lines
  (when there are any, the host's events are not used: they would count each kernel twice).
  XLA names a fusion's kernel after the fusion with dots turned to underscores (`fusion.3` ->
  `fusion_3`), and one fusion may launch several kernels (`fusion_3`, `fusion_3_1`, ...); library
  kernels (cuBLAS, cuDNN) have their own names and match only through an `hlo_op` stat.

`match` assigns each event to a kernel, in this order: its `hlo_op` stat names the kernel's
instruction; its name is the instruction's name; its name is the name with dots turned to
underscores; or its name starts with that underscored name and `_` (the longest such name wins).
An event whose `hlo_op` names a control-flow instruction (`while.5` on XLA:CPU, which times the whole
loop) is a *container*: it is listed, since its time includes kernels matched on their own. Every
other event is *unmatched* and listed with its name, count, total time and why (`other module` when
its `hlo_module` names another module, else `no kernel of that name`): nothing is dropped silently.

A kernel's time per run is the sum of its events within one execution of the module (a loop body's
kernel runs once per iteration; a fusion may launch several kernels), and the figure is the median
over runs. Runs are told apart by the events' `run_id` stat; where there is none, the total is
divided by the number of calls (`KernelTime.per_run` says which).

Not handled yet: kernels that XLA:CPU runs inside a loop's condition (the while thunk evaluates it
without a trace event, so such a kernel stays unmatched), cuDNN graphs and Triton autotuning kernels
launched during the trace, asynchronous collectives (their start and done events are not paired),
and multi-device traces (events of every device are pooled).
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import jax

from irscope.errors import TraceError as TraceError
from irscope.ir.hlo import Module
from irscope.ir.opcodes import CONTROL_FLOW as _CONTROL_OPCODES
from irscope.passes.fusion import Kernel

# Derived timelines the profiler may add to a device plane: they repeat the stream events.
_DERIVED_LINES = frozenset({"XLA Modules", "XLA Ops", "XLA TraceMe", "Steps", "Framework Ops",
                            "Framework Name Scope", "Source code", "Launch Stats", "SparseCore"})


@dataclass(frozen=True, slots=True)
class TraceEvent:
    """One kernel execution in a trace."""

    name: str
    """The event's name (XLA:CPU: the instruction's name; GPU: the kernel's name)."""
    start_ns: float
    """Start, nanoseconds on the trace's clock."""
    duration_ns: float
    """Duration, nanoseconds."""
    hlo_op: str | None
    """The `hlo_op` stat: the HLO instruction the runtime says it ran, when present."""
    hlo_module: str | None
    """The `hlo_module` stat: the module's name (`jit_mlp`), when present."""
    run_id: int | None
    """The `run_id` stat: which execution of the module, when present."""
    plane: str
    """The XSpace plane (`/host:CPU`, `/device:GPU:0`)."""
    line: str
    """The line within the plane (a host thread, a GPU stream)."""


@dataclass(frozen=True)
class Trace:
    """The kernel events of `runs` calls captured by `capture`."""

    events: tuple[TraceEvent, ...]
    """Kernel executions, in the order the trace lists them."""
    runs: int
    """How many calls were traced."""


@dataclass(frozen=True)
class KernelTime:
    """The measured time of one kernel."""

    kernel: str
    """The kernel's qualified name (`Kernel.qualified_name`)."""
    samples_s: tuple[float, ...]
    """Seconds per run (the sum of its events in that run), one per run it appeared in."""
    events_per_run: float
    """Median number of events per run: >1 for a loop body's kernel, or a fusion of several GPU kernels."""
    per_run: str
    """`run_id` (runs told apart by the events' run ids) or `mean` (total over the number of calls)."""

    @property
    def median_s(self) -> float:
        return statistics.median(self.samples_s)

    def to_json(self) -> dict[str, Any]:
        return {"kernel": self.kernel, "median_s": self.median_s, "runs": len(self.samples_s),
                "events_per_run": self.events_per_run, "per_run": self.per_run}


@dataclass(frozen=True)
class UnmatchedEvent:
    """Events of one name that no kernel of the module claims."""

    name: str
    """The event name."""
    count: int
    """How many such events the trace holds."""
    total_s: float
    """Their summed duration, seconds."""
    reason: str
    """`other module`, `no kernel of that name`, or `control flow` (a container, see the module docs)."""

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "count": self.count, "total_s": self.total_s, "reason": self.reason}


@dataclass(frozen=True)
class KernelTimes:
    """A trace matched to a module's kernels."""

    module: str
    """The module's name."""
    runs: int
    """Runs the per-run figures are over."""
    kernel_times: Mapping[str, KernelTime]
    """Measured kernels by qualified name."""
    unmatched_kernels: tuple[str, ...]
    """Kernels of the module with no event (qualified names, in execution order)."""
    unmatched_events: tuple[UnmatchedEvent, ...]
    """Events no kernel claims, by total time, longest first."""
    containers: tuple[UnmatchedEvent, ...]
    """Events of control-flow instructions (a while loop timed as a whole); their kernels are matched
    on their own."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "kernel_times", MappingProxyType(dict(self.kernel_times)))

    @property
    def matched(self) -> int:
        return len(self.kernel_times)

    @property
    def total(self) -> int:
        return len(self.kernel_times) + len(self.unmatched_kernels)

    @property
    def matched_fraction(self) -> float:
        return self.matched / self.total if self.total else 1.0

    def to_json(self) -> dict[str, Any]:
        return {
            "module": self.module,
            "runs": self.runs,
            "kernels_matched": self.matched,
            "kernels": self.total,
            "unmatched_kernels": list(self.unmatched_kernels),
            "unmatched_events": [e.to_json() for e in self.unmatched_events],
            "containers": [e.to_json() for e in self.containers],
        }


# --- Capturing ----------------------------------------------------------------------------------------

def capture(call: Callable[[], Any], *, runs: int = 5, warmup: int = 1) -> Trace:
    """Trace `runs` calls of `call()` (each waited on) after `warmup` untimed ones; `TraceError` if the
    profiler cannot start (for instance, another trace is running in this process)."""
    if runs < 1:
        raise ValueError(f"runs must be >= 1, got {runs}")
    for _ in range(warmup):
        jax.block_until_ready(call())
    options = jax.profiler.ProfileOptions()
    options.python_tracer_level = 0  # Python function events: overhead, and nothing to match
    options.enable_hlo_proto = False  # the module is already known; do not serialize it again
    log_dir = tempfile.mkdtemp(prefix="irscope-trace-")
    try:
        try:
            jax.profiler.start_trace(log_dir, profiler_options=options)
        except RuntimeError as e:
            raise TraceError(f"could not start the profiler: {e}") from e
        try:
            for _ in range(runs):
                jax.block_until_ready(call())
        finally:
            jax.profiler.stop_trace()
        files = sorted(Path(log_dir).rglob("*.xplane.pb"))
        if not files:
            raise TraceError(f"the profiler wrote no .xplane.pb under {log_dir}")
        profile = jax.profiler.ProfileData.from_file(str(files[-1]))
        events = tuple(read_events(profile))
    finally:
        shutil.rmtree(log_dir, ignore_errors=True)
    return Trace(events, runs)


def read_events(profile: Any) -> list[TraceEvent]:
    """The kernel executions of a `jax.profiler.ProfileData` (see the module docstring for which).

    When a device plane holds kernel events, only those are kept: the host's events for the same
    work (launches, thunks) would count every kernel twice.
    """
    host: list[TraceEvent] = []
    device: list[TraceEvent] = []
    for plane in profile.planes:
        on_device = plane.name.startswith("/device:")
        for line in plane.lines:
            if on_device and (line.name in _DERIVED_LINES or not line.name.startswith("Stream")):
                continue
            for event in line.events:
                stats = dict(event.stats)
                hlo_op = stats.get("hlo_op")
                if not on_device and hlo_op is None:
                    continue  # host bookkeeping: Python, PjRt, thread pools
                if event.name.startswith("end: "):
                    continue  # XLA:CPU's completion marker, not an execution
                run_id = stats.get("run_id")
                module = stats.get("hlo_module")
                (device if on_device else host).append(TraceEvent(
                    name=str(event.name), start_ns=float(event.start_ns), duration_ns=float(event.duration_ns),
                    hlo_op=str(hlo_op) if hlo_op is not None else None,
                    hlo_module=str(module) if module is not None else None,
                    run_id=int(run_id) if isinstance(run_id, int | float) else None,
                    plane=str(plane.name), line=str(line.name),
                ))
    return device or host


# --- Matching -----------------------------------------------------------------------------------------

def gpu_kernel_name(instruction_name: str) -> str:
    """The name XLA:GPU gives a fusion's kernel: the instruction's name with dots as underscores."""
    return instruction_name.replace(".", "_")


def match(module: Module, kernels: Sequence[Kernel], events: Sequence[TraceEvent], *, runs: int) -> KernelTimes:
    """Assign trace events to kernels and compute each kernel's median time per run.

    Arguments:
        module: the optimized module the kernels come from (its name filters events by `hlo_module`,
            and its control-flow instructions are recognised as containers).
        kernels: `irscope.passes.fusion.find_kernels(module)`.
        events: `Trace.events` (or `read_events(profile)`).
        runs: how many calls the trace holds (used where events carry no run id).
    """
    by_name: dict[str, Kernel] = {}
    by_underscored: dict[str, Kernel] = {}
    for kernel in kernels:
        by_name.setdefault(kernel.name, kernel)
        by_underscored.setdefault(gpu_kernel_name(kernel.name), kernel)
    control = {inst.name for comp in module.computations.values() for inst in comp.instructions
               if inst.opcode in _CONTROL_OPCODES}
    prefixes = sorted(by_underscored, key=len, reverse=True)

    hits: dict[str, list[TraceEvent]] = defaultdict(list)
    missed: dict[tuple[str, str], list[TraceEvent]] = defaultdict(list)
    for event in events:
        if event.hlo_module is not None and event.hlo_module != module.name:
            missed[(event.name, "other module")].append(event)
            continue
        kernel = _find(event, by_name, by_underscored, prefixes)
        if kernel is not None:
            hits[kernel.qualified_name].append(event)
        elif (event.hlo_op or event.name) in control:
            missed[(event.hlo_op or event.name, "control flow")].append(event)
        else:
            missed[(event.name, "no kernel of that name")].append(event)

    times = {name: _kernel_time(name, evs, runs) for name, evs in hits.items()}
    order = [k.qualified_name for k in kernels]
    unmatched = [(_unmatched(name, reason, evs)) for (name, reason), evs in missed.items()]
    unmatched.sort(key=lambda u: -u.total_s)
    return KernelTimes(
        module=module.name,
        runs=_runs(events, runs),
        kernel_times={name: times[name] for name in order if name in times},
        unmatched_kernels=tuple(name for name in order if name not in times),
        unmatched_events=tuple(u for u in unmatched if u.reason != "control flow"),
        containers=tuple(u for u in unmatched if u.reason == "control flow"),
    )


def _find(event: TraceEvent, by_name: Mapping[str, Kernel], by_underscored: Mapping[str, Kernel],
          prefixes: Sequence[str]) -> Kernel | None:
    if event.hlo_op is not None:
        return by_name.get(event.hlo_op)  # the runtime said which instruction: no guessing
    name = event.name
    kernel = by_name.get(name) or by_underscored.get(name)
    if kernel is not None:
        return kernel
    for prefix in prefixes:  # one fusion, several kernels: fusion_3_1 belongs to fusion.3
        if name.startswith(prefix + "_"):
            return by_underscored[prefix]
    return None


def _runs(events: Sequence[TraceEvent], calls: int) -> int:
    ids = {e.run_id for e in events if e.run_id is not None}
    return len(ids) if ids else calls


def _kernel_time(name: str, events: Sequence[TraceEvent], calls: int) -> KernelTime:
    per_run: dict[int, list[TraceEvent]] = defaultdict(list)
    if all(e.run_id is not None for e in events):
        for e in events:
            per_run[int(e.run_id)].append(e)  # type: ignore[arg-type]
        samples = tuple(sum(e.duration_ns for e in evs) * 1e-9 for evs in per_run.values())
        counts = [len(evs) for evs in per_run.values()]
        return KernelTime(name, samples, float(statistics.median(counts)), "run_id")
    total = sum(e.duration_ns for e in events) * 1e-9
    return KernelTime(name, (total / max(calls, 1),), len(events) / max(calls, 1), "mean")


def _unmatched(name: str, reason: str, events: Sequence[TraceEvent]) -> UnmatchedEvent:
    return UnmatchedEvent(name, len(events), sum(e.duration_ns for e in events) * 1e-9, reason)


def profile_kernels(
    fn: Callable[..., Any],
    args: Sequence[Any],
    module: Module,
    kernels: Sequence[Kernel],
    *,
    runs: int = 5,
    seed: int = 0,
    backend: str | None = None,
) -> KernelTimes:
    """Run `jax.jit(fn)` on seeded random inputs under the profiler and match its kernels.

    `module` must be the optimized module of `jax.jit(fn)` at `args` for `backend` (what
    `irscope.frontends.jax_lower.lower(fn, args).optimized` parses to): XLA names kernels
    deterministically, so the names in the trace are the names in the module.
    """
    from irscope.measure.timing import placement, random_inputs

    with placement(args, backend) as device:
        values = random_inputs(args, seed=seed, device=device)
        compiled = jax.jit(fn)
        trace = capture(lambda: compiled(*values), runs=runs)
    return match(module, kernels, trace.events, runs=trace.runs)
