"""The HLO report: kernels, their cost and roofline placement, and the module's totals, as one value.

`analyze(module, chip)` runs the passes (fusion groups, cost, roofline) and returns a frozen
`HloReport`. The CLI prints it (`to_text`), writes it (`to_json`, the `irscope.hlo-report/1`
contract of DESIGN.md), draws it (`svg`), and a notebook displays it (`_repr_html_`): all read the
same object.

A kernel's cost is XLA's figure for its instruction, or for every part of an async pair (start,
updates, done: `Kernel.cost_parts`), so the rows add up to `totals`. The one exception is a custom
call, which XLA counts as -1 FLOPs and -1 bytes: its row carries irscope's estimate from its shapes
(provenance `estimated`). `totals` keeps XLA's figure for parity; the JSON says how many unknowns it
holds (`totals.unknown_custom_calls`) and gives the rows' sum as `estimated_totals`.
A collective's row also carries its communication (`KernelRow.comm`, JSON `comm_bytes` per device and
`comm_time_s` on the target's interconnect, estimated by `irscope.passes.collectives`).

`with_measurement(report, measurement, kernel_times)` returns the same report with runtime beside the
static numbers (`irscope.measure.timing` for the whole program JIT-compiled and eager,
`irscope.measure.trace` for each kernel): each row's `measured_s`, achieved bandwidth and fraction of
its roofline bound, and the report's `measured` summary (JSON `"measured"`, provenance `measured`).
"""

from __future__ import annotations

import contextlib
import gc
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import networkx as nx

from irscope.hw import Chip, peak_dtype_for
from irscope.interconnect import LINKS
from irscope.ir.hlo import Module, Shape
from irscope.ir.opcodes import MATMUL as _MATMUL
from irscope.passes.collectives import Collective, kernel_comms
from irscope.passes.cost import ZERO, Cost, ModuleCost, module_cost
from irscope.passes.fusion import Kernel, find_kernels
from irscope.passes.kernel_graph import build_kernel_graph
from irscope.passes.peaks import roofline_key
from irscope.passes.roofline import RooflinePoint, place
from irscope.util.display import show

if TYPE_CHECKING:
    from irscope.measure.timing import Measurement
    from irscope.measure.trace import KernelTimes
    from irscope.passes.memory import MemoryAnalysis

SCHEMA = "irscope.hlo-report/1"


@dataclass(frozen=True, slots=True)
class KernelRow:
    """One kernel of the report: what it is, what it costs, where it sits on the roofline."""

    kernel: Kernel
    cost: Cost
    """XLA's convention (a kernel inside a loop: one iteration)."""
    roofline: RooflinePoint
    dtype: str
    """The dtype whose peak applies (a matmul's input type, else the output's)."""
    trip_count: int | None
    """How many times the kernel runs per call of the module: the product of the trip counts of the
    loops around it (None when one is unknown)."""
    measured_s: float | None = None
    """Measured time per run of the module (every iteration of a loop around it, every GPU kernel it
    launched), the median over profiled runs; None when not measured."""
    provenance: str = "xla"
    """`xla` (XLA's cost-analysis conventions) or `estimated` (a custom call, which XLA counts as
    -1 FLOPs and -1 bytes, costed by irscope from its shapes and backend_config)."""
    xla_cost: Cost | None = None
    """XLA's own figure when `cost` is irscope's estimate (its -1s, for parity); else None."""
    comm: Collective | None = None
    """A collective's communication (`irscope.passes.collectives`): bytes per device and time on the
    target's interconnect (estimated); None for every other kernel."""

    @property
    def name(self) -> str:
        return self.kernel.qualified_name

    @property
    def achieved_bytes_per_s(self) -> float | None:
        """Bytes it moves per run (XLA's count x known trip count) over its measured time."""
        if not self.measured_s or self.trip_count is None or self.cost.bytes_accessed < 0:
            return None
        return self.cost.bytes_accessed * self.trip_count / self.measured_s

    @property
    def fraction_of_roofline(self) -> float | None:
        """Time at peak (x known trip count) over measured time: 1.0 is running at the roofline bound."""
        if not self.measured_s or self.trip_count is None:
            return None
        return self.roofline.time_at_peak_s * self.trip_count / self.measured_s

    def to_json(self, shapes: dict[int, tuple[str, int]] | None = None) -> dict[str, Any]:
        """The row as JSON. `shapes` (id(shape) -> (short text, bytes)) caches across the rows of one
        report: a 48-layer module's kernels have 92,000 inputs of a few hundred distinct shapes."""
        k, c, r = self.kernel, self.cost, self.roofline
        if shapes is None:
            shapes = {}

        def shape(s: Shape) -> tuple[str, int]:
            found = shapes.get(id(s))
            if found is None:
                found = shapes[id(s)] = (s.short(), s.byte_size)
            return found

        inputs = []
        for t in k.inputs:
            text, nbytes = shape(t.shape)
            inputs.append({"name": t.name, "shape": text, "bytes": nbytes})
        outputs = []
        for t in k.outputs:
            text, nbytes = shape(t.shape)
            outputs.append({"shape": text, "bytes": nbytes})
        return {
            "name": self.name,
            "kind": k.kind,
            "opcode": k.opcode,
            "ops": list(k.ops),
            "computation": k.computation,
            "roots": list(k.roots),
            "inputs": inputs,
            "outputs": outputs,
            "op_name": k.op_name,
            "bytes_read": c.bytes_read,
            "bytes_written": c.bytes_written,
            "flops": c.flops,
            "transcendentals": c.transcendentals,
            "intensity": _finite(r.intensity),
            "bound": r.bound,
            "dtype": self.dtype,
            "peak_dtype": r.peak_dtype,
            "time_at_peak_s": r.time_at_peak_s,
            "trip_count": self.trip_count,
            "measured_s": self.measured_s,
            "achieved_bytes_per_s": self.achieved_bytes_per_s,
            "fraction_of_roofline": self.fraction_of_roofline,
            "provenance": self.provenance,
            **({"xla": {"flops": self.xla_cost.flops, "bytes_accessed": self.xla_cost.bytes_accessed}}
               if self.xla_cost is not None else {}),
            **(_comm_json(self.comm) if self.comm is not None else {}),
        }


def _comm_json(comm: Collective) -> dict[str, Any]:
    """A collective row's `comm_*` keys: per-device bytes, time on the interconnect, how it was priced."""
    return {"comm_bytes": comm.sent_bytes, "comm_time_s": comm.time_s, "comm_group_size": comm.group_size,
            "comm_algorithm": comm.algorithm, "comm_provenance": "estimated"}


@dataclass(frozen=True, eq=False)
class HloReport:
    """Everything `python -m inspect.hlo` says about one module."""

    module: Module
    chip: Chip
    rows: tuple[KernelRow, ...]
    cost: ModuleCost
    stage: str = "optimized"
    """`optimized` (after XLA's passes) or `hlo` (before): a pre-optimization module is unfused."""
    xla_cost: Mapping[str, float] | None = None
    """XLA's own `cost_analysis()` of the compiled module, when irscope compiled it."""
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Provenance notes (the function, its argument shapes, compile time...)."""
    measured: Mapping[str, Any] | None = None
    """Runtime of the whole program and the trace match (`with_measurement`); None when not measured.
    Keys: `jit_s`, `eager_s` (medians), `repeats`, `speedup`, achieved rates and fractions of the
    chip's peaks, and `trace` (kernels matched, unmatched events)."""
    memory: MemoryAnalysis | None = None
    """Arguments, outputs, temps and the peak of live bytes (`irscope.passes.memory`); None unless asked."""

    @property
    def totals(self) -> Cost:
        return self.cost.totals

    @property
    def time_at_peak_s(self) -> float:
        """Sum of the kernels' times at peak, each loop body counted by its known trip count."""
        return sum(r.roofline.time_at_peak_s * (r.trip_count or 1) for r in self.rows)

    @property
    def unknown_custom_calls(self) -> int:
        """Kernels that are custom calls XLA's totals count as -1 FLOPs and -1 bytes ("unknown")."""
        return sum(1 for r in self.rows if r.provenance == "estimated")

    @property
    def estimated_totals(self) -> Cost:
        """The rows added up (loops once, as in `totals`): XLA's figures, except that each custom
        call is irscope's estimate from its shapes and backend_config instead of XLA's -1s."""
        return sum((r.cost for r in self.rows), ZERO)

    def estimated_totals_json(self) -> dict[str, Any]:
        t = self.estimated_totals
        return {"provenance": "estimated", "bytes_accessed": t.bytes_accessed, "flops": t.flops,
                "transcendentals": t.transcendentals,
                "note": "custom calls costed from their shapes, backend_config and Mosaic kernel bodies (XLA counts each as -1)"}

    def graph(self, computation: str | None = None) -> nx.MultiDiGraph:
        """The kernel graph of one computation (the entry by default), with costs on the nodes."""
        by_kernel = {id(r.kernel): r for r in self.rows}

        def data(kernel: Kernel) -> dict[str, Any]:
            row = by_kernel[id(kernel)]
            j = row.to_json()
            return {k: j[k] for k in ("bytes_read", "bytes_written", "flops", "transcendentals", "intensity",
                                      "bound", "time_at_peak_s", "dtype")}

        return build_kernel_graph(self.module, [r.kernel for r in self.rows], data, computation)

    def to_json(self) -> dict[str, Any]:
        with _without_cyclic_gc():
            return self._to_json()

    def _to_json(self) -> dict[str, Any]:
        t = self.cost
        shapes: dict[int, tuple[str, int]] = {}  # the rows' shape cache (the module keeps the shapes alive)
        doc = {
            "schema": SCHEMA,
            "module": self.module.name,
            "source": self.module.source,
            "stage": self.stage,
            "chip": self.chip.name,
            "kernels": [r.to_json(shapes) for r in self.rows],
            "totals": {
                "bytes_accessed": t.totals.bytes_accessed,
                "flops": t.totals.flops,
                "transcendentals": t.totals.transcendentals,
                "unfused_bytes_accessed": t.unfused_bytes_accessed,
                "fusion_saved_fraction": t.fusion_saved_fraction,
                "time_at_peak_s": self.time_at_peak_s,
                "kernels": len(self.rows),
                "instructions": self.module.instruction_count,
                "unknown_custom_calls": self.unknown_custom_calls,
            },
            "estimated_totals": self.estimated_totals_json(),
            "with_trip_counts": {
                "provenance": "estimated",
                "bytes_accessed": t.totals_with_trip_counts.bytes_accessed,
                "flops": t.totals_with_trip_counts.flops,
                "transcendentals": t.totals_with_trip_counts.transcendentals,
                "trip_counts": dict(t.trip_counts),
            },
            "xla_cost_analysis": dict(self.xla_cost) if self.xla_cost is not None else None,
            "measured": dict(self.measured) if self.measured is not None else None,
            "provenance": {
                "totals": "xla", "unfused_bytes_accessed": "estimated", "roofline": "estimated",
                **({"chip": "measured"} if self.chip.name == "cpu" else {}),
                **({"measured": "measured"} if self.measured is not None else {}),
            },
            **({"extra": dict(self.extra)} if self.extra else {}),
            **({"memory": self.memory.to_json()} if self.memory is not None else {}),
        }
        from irscope.passes.compiler_estimate import with_target

        return with_target(self, doc)  # "target", "compiler_estimate_s" when compiled for a target

    # Display: written by irscope.render, reached through the one hook irscope.util.display.
    def to_text(self, *, max_rows: int | None = None) -> str:
        return show(self, "text", max_rows=max_rows)

    def svg(self, **kwargs: Any) -> str:
        return show(self, "svg", **kwargs)

    def _repr_html_(self) -> str:
        return show(self, "html")

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        """A few lines (module, kernels, totals, the costliest kernels), not the module: a notebook
        keeps the plain-text form of every displayed value, and a module can be megabytes."""
        return show(self, "repr")

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """IPython's plain-text display (a terminal IPython, or a notebook's text/plain copy)."""
        printer.text(repr(self))


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def kernel_dtype(module: Module, kernel: Kernel) -> str:
    """The dtype whose peak FLOP/s bounds a kernel: a matmul's input type, else its first output's.

    A kernel that is a loop (a Pallas grid in interpret mode) is searched through its body and the
    fusions there; without a matmul, its largest carried array decides (not the s32 counter)."""
    for comp_name in _computations_of(module, kernel):
        holder = module.computations[comp_name]
        for inst in holder.instructions:
            if inst.opcode in _MATMUL and inst.operands:
                return holder.by_name[inst.operands[0]].shape.dtype
    if kernel.fused_computation is None and kernel.opcode not in ("while",):
        holder = module.computations[kernel.computation]
        inst = kernel.instruction
        if inst.opcode in _MATMUL and inst.operands:
            return holder.by_name[inst.operands[0]].shape.dtype
    leaves = [leaf for _, leaf in kernel.instruction.shape.leaves()]
    if kernel.opcode == "while" and leaves:
        return max(leaves, key=lambda leaf: leaf.byte_size).dtype
    return leaves[0].dtype if leaves else "f32"


def _computations_of(module: Module, kernel: Kernel) -> list[str]:
    """The computations a kernel runs: its fused computation, or a loop's body and what it calls."""
    if kernel.fused_computation is not None:
        return [kernel.fused_computation]
    if kernel.opcode != "while":
        return []
    return module.reachable_from(kernel.instruction.called)


def _trip_count(module: Module, kernel: Kernel, trips: Mapping[str, int | None]) -> int | None:
    """Runs of the kernel per call of the module: the trip counts of the loops around it, times its
    own when the kernel is itself a loop (a Pallas grid)."""
    names = (*kernel.path, kernel.name) if kernel.opcode == "while" else kernel.path
    count = 1
    for name in names:
        if name in trips:
            n = trips[name]
            if n is None:
                return None
            count *= n
    return count


@contextlib.contextmanager
def _without_cyclic_gc() -> Iterator[None]:
    """Pause Python's cyclic garbage collector: the passes allocate hundreds of thousands of small
    acyclic objects, and each full collection they trigger walks every object of a large module
    (on the 48-layer benchmark, 15-25% of the report's time). Reference counting still frees them."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def analyze(module: Module, chip: Chip, *, stage: str = "optimized",
            xla_cost: Mapping[str, float] | None = None, extra: Mapping[str, Any] | None = None) -> HloReport:
    """Run the passes over a module and place each kernel on `chip`'s roofline."""
    with _without_cyclic_gc():
        return _analyze(module, chip, stage, xla_cost, extra)


def _analyze(module: Module, chip: Chip, stage: str, xla_cost: Mapping[str, float] | None,
             extra: Mapping[str, Any] | None) -> HloReport:
    kernels = find_kernels(module)
    cost = module_cost(module)
    per_instruction, custom_calls = cost.per_instruction, cost.custom_calls
    comms = _comms(module, kernels, chip, extra or {})
    rows = []
    for kernel in kernels:
        provenance = "xla"
        c = xla = ZERO
        for key in kernel.cost_parts:  # an async pair is its start, updates and done
            figure = per_instruction.get(key, ZERO)
            xla = xla + figure
            if key in custom_calls:
                c, provenance = c + custom_calls[key], "estimated"
            else:
                c = c + figure
        dtype = kernel_dtype(module, kernel)
        peak = roofline_key(chip, module, kernel, dtype)  # tensor core / MXU vs CUDA core / vector unit
        point = place(max(c.flops, 0.0), max(c.bytes_accessed, 0.0), chip, peak)
        trips = _trip_count(module, kernel, cost.trip_counts)
        rows.append(KernelRow(kernel, c, point, dtype, trips, provenance=provenance,
                              xla_cost=xla if provenance == "estimated" else None, comm=comms.get(id(kernel))))
    return HloReport(module, chip, tuple(rows), cost, stage, xla_cost, dict(extra or {}))


def _comms(module: Module, kernels: list[Kernel], chip: Chip, extra: Mapping[str, Any]) -> dict[int, Collective]:
    """The collectives among `kernels`, priced on the interconnect of the target (else of the roofline
    chip; none for the CPU) and, for a TPU target, placed on its slice's torus (by the compiler's device
    assignment, `extra["device_coords"]`, when irscope compiled it)."""
    if not any(k.kind == "collective" for k in kernels):
        return {}
    target = extra.get("target")
    name, topology = chip.name, ()
    if target:
        from irscope.errors import IrscopeError
        from irscope.frontends.targets import parse_target

        try:
            parsed = parse_target(target)
        except IrscopeError:
            parsed = None
        if parsed is not None:
            name = parsed.chip.name
            topology = parsed.shape if parsed.platform == "tpu" else ()
    return kernel_comms(module, kernels, LINKS.get(name), topology, extra.get("device_coords") or ())


def with_measurement(report: HloReport, measurement: Measurement | None = None,
                     kernel_times: KernelTimes | None = None) -> HloReport:
    """`report` with measured runtime beside its static numbers (a new report; the input is unchanged).

    Arguments:
        report: what `analyze` returned for the optimized module that was run.
        measurement: `irscope.measure.timing.measure_function` of the program (JIT and eager medians).
        kernel_times: `irscope.measure.trace.match` of a trace to `report`'s kernels.

    The achieved rates divide the module's traffic and FLOPs (with known loop trip counts, since a
    measured run executes every iteration) by the JIT median; the fractions compare them with
    `report.chip`'s peaks, whichever chip that is: a CPU run placed on an H100's roofline says how far
    this machine is from that chip.
    """
    rows = report.rows
    if kernel_times is not None:
        times = kernel_times.kernel_times
        rows = tuple(replace(r, measured_s=times[r.name].median_s) if r.name in times else r for r in rows)
    summary: dict[str, Any] = {"jit_s": None, "eager_s": None, "repeats": 0}
    if measurement is not None:
        summary.update(measurement.to_json())
        summary.update(_achieved(report, measurement.jit.median_s if measurement.jit else None))
    summary["trace"] = kernel_times.to_json() if kernel_times is not None else None
    summary["provenance"] = "measured"
    return replace(report, rows=rows, measured=summary)


def _achieved(report: HloReport, jit_s: float | None) -> dict[str, Any]:
    """Achieved bytes/s and FLOP/s of the whole program, and their fractions of the chip's peaks."""
    if not jit_s or jit_s <= 0:
        return {}
    work = report.cost.totals_with_trip_counts if report.cost.trip_counts else report.totals
    chip = report.chip
    peak = chip.peak_flops[peak_dtype_for(chip, "f32")]
    bytes_per_s = max(work.bytes_accessed, 0.0) / jit_s
    flops_per_s = max(work.flops, 0.0) / jit_s
    return {
        "chip": chip.name,
        "achieved_bytes_per_s": bytes_per_s,
        "achieved_flops_per_s": flops_per_s,
        "fraction_of_bandwidth": bytes_per_s / chip.mem_bandwidth,
        "fraction_of_peak_flops": flops_per_s / peak,
        "fraction_of_roofline": report.time_at_peak_s / jit_s,
    }
