"""Semantic diff of two HLO modules: which kernels appeared, disappeared or changed, and what that cost.

`diff_modules(before, after, chip="h100")` (or `diff_reports` on two `HloReport`s) returns a frozen
`DiffResult`. Nothing is diffed line by line: both modules are fingerprinted, and kernels, computations
and instructions are matched by structure, so renaming and renumbering alone produce no difference.

How the matching works, in order:

1. Fingerprints (hash-consing, shared by both modules, so equal ids mean equal structure). An
   instruction's *local* id is its opcode, shape with layout, attributes (names, metadata, channel ids
   and control predecessors left out) and the fingerprints of the computations it calls; its *deep* id
   adds its operands' deep ids, so it stands for everything upstream of it. A computation's fingerprint
   is its root's deep id (plus dead ends and parameters). Instruction names never enter an id.
2. Parameters: the entry computations' parameters are paired by `op_name` (JAX writes the argument's
   path there, `p['layers'][0]['w1']`) and shape, then by number; reordered arguments are a signature
   change, not a rewiring of every kernel.
3. Exact: kernels whose deep ids are equal (same structure, same inputs all the way up) are paired,
   in execution order when several share one id. They are unchanged.
4. Same kernel, other wiring: a kernel with the same *local* signature (the launching instruction's
   local id, which includes its fused computation's fingerprint, and its operand shapes) as an
   unmatched kernel of the other side is paired with the best-wired one: operands coming from paired
   kernels (or the same parameter), users that are paired, feeding the same program output, the
   same `op_name` (with the `jit(fn)/` prefix dropped), then the nearest position in execution order.
5. Changed kernels: the remaining kernels are paired by evidence — paired neighbours (producers,
   users, program outputs), the same `op_name`, the same opcode, kind, result dims or fused ops —
   best score first, with a floor below which nothing is paired.
   Steps 4 and 5 repeat while they find pairs, since each new pair is evidence for its neighbours.
6. What is left was added (only in `after`) or removed (only in `before`).

A paired kernel is `changed` when it differs in itself (opcode or kind, result or operand shapes or
layouts, fused ops, attributes) or in its wiring (an operand now comes from another kernel), and
`unchanged` otherwise: a kernel whose inputs changed upstream but which does the same work on the
same producers' outputs is unchanged. Identical changes (the same change to the same kernel, as in
every layer of a model) are grouped into one `ChangeGroup` with a count.

Computations are paired through their kernels (a fusion pair pairs its fused computations; the
computations holding paired kernels pair by vote), through paired instructions' callees, then by
fingerprint. Instructions are paired within paired computations (deep id, then kernels, then local
id, then opcode and op_name) for the side-by-side view.

Costs follow XLA's conventions (`irscope.passes.cost`); time at peak is the roofline bound on the
report's chip; measured times are carried when the caller supplies them (`measured_before/after`).

With `memory=True` the diff also compares memory (`irscope.passes.memory`, `MemoryDiff`): argument,
output, alias, temp and peak bytes on each side and their deltas, and the values live at the peak that
appear in `after` or disappear from `before`. Values are matched by what they are, not by name (names
change between compiles): the scope path of the op that writes them (`op_name`, `jit(fn)/` dropped), the
source line, and the shape; a parameter by its number and shape.

Not handled yet: moves of work between computations (a kernel hoisted out of a loop body shows as
removed from the body and added to the caller); a layer inserted in the middle of a stack of identical
layers may be reported as added at another position (identical layers are interchangeable to a
structural match); parameters of HLO without `op_name` metadata are paired by number and shape only.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict, deque
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from irscope.hw import Chip, get_chip
from irscope.ir.hlo import Computation, Instruction, Module, Shape
from irscope.ir.opcodes import NO_LAUNCH, PASS_THROUGH, PLUMBING
from irscope.passes.fusion import Kernel
from irscope.passes.memory import LiveBuffer, MemoryAnalysis, analyze_memory
from irscope.passes.report import HloReport, KernelRow, analyze
from irscope.util.display import show

SCHEMA = "irscope.diff-report/1"

Status = Literal["unchanged", "changed", "added", "removed"]
STATUSES: tuple[Status, ...] = ("changed", "added", "removed", "unchanged")

# Why a paired kernel counts as changed, in the order reports list them.
REASONS = ("opcode", "shape", "layout", "fused ops", "operands", "attributes")

# Attributes that name things or number them, and metadata: never part of a fingerprint.
IGNORED_ATTRS = frozenset({
    "metadata", "frontend_attributes", "channel_id", "control-predecessors", "statistics_viz",
    # called computations enter through their fingerprints instead of their names
    "calls", "to_apply", "body", "condition", "select", "scatter", "true_computation",
    "false_computation", "branch_computations", "called_computations",
})

# The `jit(fn)/` (or `pjit(fn)/`) prefix of an op_name, which renaming the function changes.
_JIT_PREFIX = re.compile(r"^p?jit\([^/]*\)/")

# Step 4 pairs a kernel only with a score at least this high (one paired neighbour plus two matching
# traits, or the same op_name plus one).
_MIN_SCORE = 4
# Step 3 compares a kernel with at most this many same-signature kernels (the nearest in order).
_NEAREST = 16
# Steps 3-4 repeat at most this many times.
_ROUNDS = 6


# ----------------------------------------------------------------------------------------------
# The result


@dataclass(frozen=True)
class KernelInfo:
    """One side of a kernel entry: what the kernel is and what it costs."""

    name: str
    """Qualified name (`fusion.3`, or `while.2/fusion.1` inside a loop body)."""
    computation: str
    """The computation that launches it."""
    kind: str
    """`kLoop`, `kInput`, `kOutput`, a backend fusion name, `op`, `custom-call`, `collective`, `pallas`."""
    opcode: str
    """The launching instruction's opcode."""
    ops: tuple[str, ...]
    """The fused opcodes (the opcode itself when unfused)."""
    op_name: str | None
    """The framework scope from its metadata, `jit(fn)/` prefix dropped."""
    inputs: tuple[str, ...]
    """Operand shapes with layouts."""
    outputs: tuple[str, ...]
    """Result array shapes with layouts."""
    bytes_accessed: float
    """Bytes read and written (XLA's conventions; one launch)."""
    flops: float
    """FLOPs (one launch)."""
    transcendentals: float
    """Transcendentals (one launch)."""
    time_at_peak_s: float
    """Roofline lower bound on the report's chip (one launch)."""
    trip_count: int | None
    """Launches per program run: the known trip counts of the loops around it (None: unknown)."""
    measured_s: float | None = None
    """Measured time per launch, when the caller supplied one."""

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "computation": self.computation, "kind": self.kind, "opcode": self.opcode,
            "ops": list(self.ops), "op_name": self.op_name, "inputs": list(self.inputs),
            "outputs": list(self.outputs), "bytes_accessed": self.bytes_accessed, "flops": self.flops,
            "transcendentals": self.transcendentals, "time_at_peak_s": self.time_at_peak_s,
            "trip_count": self.trip_count, "measured_s": self.measured_s,
        }


@dataclass(frozen=True)
class Delta:
    """After minus before, per kernel or in total (an added kernel's delta is its cost)."""

    bytes_accessed: float = 0.0
    flops: float = 0.0
    transcendentals: float = 0.0
    time_at_peak_s: float = 0.0
    measured_s: float | None = None
    """None unless both sides were measured (or the one side, for an added or removed kernel)."""

    def __add__(self, other: Delta) -> Delta:
        measured = None
        if self.measured_s is not None or other.measured_s is not None:
            measured = (self.measured_s or 0.0) + (other.measured_s or 0.0)
        return Delta(self.bytes_accessed + other.bytes_accessed, self.flops + other.flops,
                     self.transcendentals + other.transcendentals, self.time_at_peak_s + other.time_at_peak_s,
                     measured)

    def to_json(self) -> dict[str, Any]:
        return {"bytes_accessed": self.bytes_accessed, "flops": self.flops,
                "transcendentals": self.transcendentals, "time_at_peak_s": self.time_at_peak_s,
                "measured_s": self.measured_s}


@dataclass(frozen=True)
class KernelChange:
    """One kernel of either side: unchanged, changed (with reasons), added or removed."""

    status: Status
    before: KernelInfo | None
    """The kernel in `before` (None when added)."""
    after: KernelInfo | None
    """The kernel in `after` (None when removed)."""
    reasons: tuple[str, ...] = ()
    """For `changed`: a subset of `REASONS`, in that order."""
    details: tuple[str, ...] = ()
    """For `changed`: one readable line per difference (`result f32[64,256] -> f32[64,512]`)."""
    group_key: Hashable = field(default=None, compare=False, repr=False)
    """Entries with equal keys are the same change (same status, reasons and kernel structures)."""

    @property
    def delta(self) -> Delta:
        def cost(k: KernelInfo | None, sign: float) -> Delta:
            if k is None:
                return Delta()
            return Delta(sign * k.bytes_accessed, sign * k.flops, sign * k.transcendentals,
                         sign * k.time_at_peak_s, None if k.measured_s is None else sign * k.measured_s)

        total = cost(self.after, 1.0) + cost(self.before, -1.0)
        if self.before is not None and self.after is not None and (
                self.before.measured_s is None or self.after.measured_s is None):
            total = Delta(total.bytes_accessed, total.flops, total.transcendentals, total.time_at_peak_s, None)
        return total

    @property
    def label(self) -> str:
        """`before -> after` for a pair with different names, else the one name."""
        a = self.before.name if self.before else None
        b = self.after.name if self.after else None
        if a and b and a != b:
            return f"{a} -> {b}"
        return a or b or "?"

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status,
                "before": self.before.name if self.before else None,
                "after": self.after.name if self.after else None,
                "reasons": list(self.reasons), "details": list(self.details), "delta": self.delta.to_json()}


@dataclass(frozen=True)
class ChangeGroup:
    """Identical changes, one entry per repetition (the same kernel change in every layer)."""

    status: Status
    reasons: tuple[str, ...]
    entries: tuple[KernelChange, ...]
    """The repetitions, in execution order; the first stands for all."""

    @property
    def count(self) -> int:
        return len(self.entries)

    @property
    def first(self) -> KernelChange:
        return self.entries[0]

    @property
    def delta(self) -> Delta:
        """The change summed over all repetitions."""
        total = Delta()
        for entry in self.entries:
            total = total + entry.delta
        return total

    def to_json(self) -> dict[str, Any]:
        first = self.first
        return {
            "status": self.status, "reasons": list(self.reasons), "count": self.count,
            "before": first.before.to_json() if first.before else None,
            "after": first.after.to_json() if first.after else None,
            "details": list(first.details),
            "delta": self.delta.to_json(),
            "delta_each": first.delta.to_json(),
            "members": [{"before": e.before.name if e.before else None, "after": e.after.name if e.after else None}
                        for e in self.entries],
        }


@dataclass(frozen=True)
class Totals:
    """One module's figures (XLA's conventions; time at peak sums kernels × known trip counts)."""

    module: str
    source: str
    instructions: int
    kernels: int
    bytes_accessed: float
    flops: float
    transcendentals: float
    time_at_peak_s: float
    measured_s: float | None = None
    """A measured time for the whole program, when the caller supplied one."""

    def to_json(self) -> dict[str, Any]:
        return {"module": self.module, "source": self.source, "instructions": self.instructions,
                "kernels": self.kernels, "bytes_accessed": self.bytes_accessed, "flops": self.flops,
                "transcendentals": self.transcendentals, "time_at_peak_s": self.time_at_peak_s,
                "measured_s": self.measured_s}


@dataclass(frozen=True)
class InstructionPair:
    """Two instructions the matching paired (for the side-by-side view)."""

    before: tuple[str, str]
    """(computation, instruction) in `before`."""
    after: tuple[str, str]
    """(computation, instruction) in `after`."""
    same: bool
    """Whether the two are structurally equal (same deep fingerprint, or same local one with paired
    operands)."""


@dataclass(frozen=True)
class DiffResult:
    """What changed between two modules, kernel by kernel, with the cost of each change."""

    before: Totals
    after: Totals
    chip: str
    """The chip the time at peak is computed for."""
    kernels: tuple[KernelChange, ...]
    """Every kernel of both sides, in `after`'s execution order with removed kernels where they were."""
    groups: tuple[ChangeGroup, ...]
    """The changed, added and removed kernels, identical changes grouped, in order of first appearance."""
    signature: tuple[str, ...]
    """Differences in the entry computation's parameters and result (`parameter 0: ... -> ...`)."""
    computations: tuple[tuple[str | None, str | None], ...]
    """Computation pairs (before, after); None on one side for an added or removed computation."""
    instruction_pairs: tuple[InstructionPair, ...] = field(repr=False)
    """Paired instructions of paired computations (unpaired ones are added or removed)."""
    other_changes: tuple[str, ...] = ()
    """Differences outside the kernels: non-kernel instructions of paired computations (a tuple, a
    loop's trip count constant) that are unpaired or changed."""
    memory: MemoryDiff | None = None
    """Arguments, outputs, temps, the peak and the values at the peak of both sides; None unless asked."""

    @property
    def summary(self) -> dict[str, int]:
        counts = Counter(k.status for k in self.kernels)
        return {s: counts.get(s, 0) for s in ("added", "removed", "changed", "unchanged")}

    @property
    def identical(self) -> bool:
        """No kernel added, removed or changed, the same signature and nothing else changed."""
        s = self.summary
        return not (s["added"] or s["removed"] or s["changed"] or self.signature or self.other_changes)

    @property
    def delta(self) -> Delta:
        """Totals after minus before (bytes and FLOPs as XLA counts them; time at peak with trip counts)."""
        a, b = self.before, self.after
        measured = None if a.measured_s is None or b.measured_s is None else b.measured_s - a.measured_s
        return Delta(b.bytes_accessed - a.bytes_accessed, b.flops - a.flops,
                     b.transcendentals - a.transcendentals, b.time_at_peak_s - a.time_at_peak_s, measured)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "chip": self.chip,
            "identical": self.identical,
            "summary": self.summary,
            "before": self.before.to_json(),
            "after": self.after.to_json(),
            "delta": self.delta.to_json(),
            "signature": list(self.signature),
            "other_changes": list(self.other_changes),
            "groups": [g.to_json() for g in self.groups],
            "kernels": [k.to_json() for k in self.kernels],
            "computations": [{"before": a, "after": b} for a, b in self.computations],
            "provenance": {"bytes_accessed": "xla", "flops": "xla", "transcendentals": "xla",
                           "time_at_peak_s": "estimated", "measured_s": "measured"},
            **({"memory": self.memory.to_json()} if self.memory is not None else {}),
        }

    # Display: written by irscope.render, reached through the one hook irscope.util.display.
    def to_text(self, **kwargs: Any) -> str:
        return show(self, "text", **kwargs)

    def _repr_html_(self) -> str:
        return show(self, "html")


# ----------------------------------------------------------------------------------------------
# Entry points


def diff_modules(before: Module, after: Module, chip: Chip | str = "h100", *,
                 measured_before: Mapping[str, float] | None = None,
                 measured_after: Mapping[str, float] | None = None,
                 total_measured_before: float | None = None,
                 total_measured_after: float | None = None,
                 memory: bool | tuple[MemoryAnalysis, MemoryAnalysis] = False) -> DiffResult:
    """Diff two modules: run the report passes on each (kernels, cost, roofline on `chip`), then match.

    Arguments:
        before, after: the two modules (parsed HLO; before or after optimization, but the same stage
            on both sides makes the most sense).
        chip: the chip for time at peak (a `Chip` or a name; the default is fixed so output is stable).
        measured_before, measured_after: measured seconds per launch by qualified kernel name, if any.
        total_measured_before, total_measured_after: measured seconds per program run, if any.
        memory: compare memory too (`DiffResult.memory`): True analyses both modules; a pair of
            `MemoryAnalysis` (e.g. with the compiler's `memory_analysis()` figures) is used as given.

    Example:
        >>> result = diff_modules(parse_module(text), parse_module(text))
        >>> result.identical, result.summary["unchanged"] > 0
        (True, True)
    """
    chip_value = get_chip(chip) if isinstance(chip, str) else chip
    return diff_reports(analyze(before, chip_value), analyze(after, chip_value),
                        measured_before=measured_before, measured_after=measured_after,
                        total_measured_before=total_measured_before, total_measured_after=total_measured_after,
                        memory=memory)


def diff_reports(before: HloReport, after: HloReport, *,
                 measured_before: Mapping[str, float] | None = None,
                 measured_after: Mapping[str, float] | None = None,
                 total_measured_before: float | None = None,
                 total_measured_after: float | None = None,
                 memory: bool | tuple[MemoryAnalysis, MemoryAnalysis] = False) -> DiffResult:
    """Diff two analysed modules (`irscope.passes.report.analyze`, on the same chip); `memory` as for
    `diff_modules`."""
    interner = _Interner()
    a = _Side(before, interner, measured_before or {})
    b = _Side(after, interner, measured_after or {})
    params = match_parameters(before.module, after.module)
    pairs = _match_kernels(a, b, params)
    changes = _changes(a, b, pairs, params)
    comp_pairs, inst_pairs, other = _match_computations(a, b, pairs)
    signature = _signature(before.module, after.module, params)
    explained = signature or other or any(c.status != "unchanged" for c in changes)
    if not explained and a.comp_fp[a.module.entry_name] != b.comp_fp[b.module.entry_name]:
        # Nothing else explains it: constants, tuples or bitcasts that feed the program's outputs.
        other.append("the entry computation differs outside its kernels (constants, tuples or bitcasts)")
    return DiffResult(
        before=_totals(before, total_measured_before),
        after=_totals(after, total_measured_after),
        chip=before.chip.name,
        kernels=tuple(changes),
        groups=_group(changes),
        signature=signature,
        computations=tuple(comp_pairs),
        instruction_pairs=tuple(inst_pairs),
        other_changes=tuple(other),
        memory=_memory_diff(before, after, memory),
    )


def _memory_diff(before: HloReport, after: HloReport,
                 memory: bool | tuple[MemoryAnalysis, MemoryAnalysis]) -> MemoryDiff | None:
    if memory is False:
        return None
    if memory is True:
        memory = (analyze_memory(before.module, max_live=0), analyze_memory(after.module, max_live=0))
    return diff_memory(*memory)


# ----------------------------------------------------------------------------------------------
# Fingerprints


class _Interner:
    """Hash-consing: equal keys get equal small ints, shared by both modules of one diff."""

    def __init__(self) -> None:
        self.ids: dict[Hashable, int] = {}

    def __call__(self, key: Hashable) -> int:
        found = self.ids.get(key)
        if found is None:
            found = self.ids[key] = len(self.ids)
        return found


def attrs_key(inst: Instruction) -> tuple[tuple[str, str], ...]:
    """The attributes that take part in a fingerprint, as a sorted tuple."""
    return tuple(sorted((k, v) for k, v in inst.attrs.items() if k not in IGNORED_ATTRS))


def normalize_op_name(op_name: str | None) -> str | None:
    """`jit(gelu)/mul` -> `mul`: the scope path without the jitted function's name."""
    if not op_name:
        return None
    return _JIT_PREFIX.sub("", op_name, count=1) or None


# A kernel input's producer: ("k", kernel index, tuple index), ("P", entry parameter number, tuple
# index), ("p", parameter number of a called computation (a loop body's state), tuple index),
# or ("i", local id of another instruction (a constant, a loop), tuple index); then the producing
# instruction's name, for messages only (names never take part in a comparison).
_Source = tuple[str, int, tuple[int, ...], str]


class _Side:
    """Everything the matching needs about one module (working state; not part of the result)."""

    def __init__(self, report: HloReport, interner: _Interner, measured: Mapping[str, float]) -> None:
        self.report = report
        self.module = module = report.module
        self.rows: list[KernelRow] = list(report.rows)
        self.kernels: list[Kernel] = [r.kernel for r in self.rows]
        self.local: dict[tuple[str, str], int] = {}
        self.deep: dict[tuple[str, str], int] = {}
        self.comp_fp: dict[str, int] = {}
        self._intern = interner
        self._shape_text: dict[Shape, str] = {}
        for name in module.computations:
            self._computation(name)
        n = max(len(self.kernels), 1)
        self.position = [i / n for i in range(len(self.kernels))]
        self.at = {(k.computation, k.name): i for i, k in enumerate(self.kernels)}
        self.kdeep = [self.deep[(k.computation, k.name)] for k in self.kernels]
        self.klocal = [
            interner(("kernel", self.local[(k.computation, k.name)], tuple(self.shape_text(t.shape) for t in k.inputs)))
            for k in self.kernels
        ]
        self.depth = [len(k.path) for k in self.kernels]
        self.op_name = [normalize_op_name(k.op_name) for k in self.kernels]
        self.sources: list[tuple[_Source, ...]] = [
            tuple(self._source(module.computations[k.computation], t.name) for t in k.inputs) for k in self.kernels
        ]
        users: list[dict[int, None]] = [{} for _ in self.kernels]  # ordered sets
        for j, sources in enumerate(self.sources):
            for s in sources:
                if s[0] == "k":
                    users[s[1]][j] = None
        self.users: list[list[int]] = [list(u) for u in users]
        self.outputs: list[set[int]] = [set() for _ in self.kernels]
        entry = module.entry
        root = entry.root
        roots = root.operands if root.opcode == "tuple" else (root.name,)
        for j, name in enumerate(roots):
            s = self._source(entry, name)
            if s[0] == "k":
                self.outputs[s[1]].add(j)
        self.measured = measured
        self.infos = [self._info(i) for i in range(len(self.kernels))]

    def shape_text(self, shape: Shape) -> str:
        text = self._shape_text.get(shape)
        if text is None:
            text = self._shape_text[shape] = str(shape)
        return text

    def _computation(self, name: str) -> int:
        """Fingerprint a computation (and, first, the computations it calls)."""
        found = self.comp_fp.get(name)
        if found is not None:
            return found
        self.comp_fp[name] = -1  # a computation that (malformed) calls itself sees this, not a recursion
        comp = self.module.computations[name]
        intern = self._intern
        for inst in _post_order(comp):
            called = tuple(self._computation(c) for c in inst.called)
            local = intern(("inst", inst.opcode, self.shape_text(inst.shape), attrs_key(inst), inst.literal, called))
            self.local[(name, inst.name)] = local
            self.deep[(name, inst.name)] = intern(
                ("deep", local, tuple(self.deep.get((name, o), -1) for o in inst.operands)))
        users = comp.users
        dead_ends = sorted(self.deep[(name, i.name)] for i in comp.instructions
                           if not users.get(i.name) and i.name != comp.root_name)
        params = tuple(self.local[(name, p.name)] for p in comp.parameters)
        fp = self.comp_fp[name] = intern(("comp", self.deep[(name, comp.root_name)], tuple(dead_ends), params))
        return fp

    def _source(self, comp: Computation, name: str) -> _Source:
        """Where a kernel input comes from, through bitcasts and get-tuple-elements."""
        index: tuple[int, ...] = ()
        inst = comp.by_name[name]
        while True:
            kernel = self.at.get((comp.name, inst.name))
            if kernel is not None:
                return ("k", kernel, index, inst.name)
            if inst.opcode == "parameter":
                kind = "P" if comp.name == self.module.entry_name else "p"
                return (kind, inst.parameter_number, index, inst.name)
            if inst.opcode in PASS_THROUGH and inst.operands:
                if inst.opcode == "tuple":
                    if not index:  # the whole tuple is the input: it is its own source
                        return ("i", self.local[(comp.name, inst.name)], index, inst.name)
                    inst, index = comp.by_name[inst.operands[index[0]]], index[1:]
                    continue
                if inst.opcode == "get-tuple-element":
                    index = (int(inst.attrs.get("index", "0")), *index)
                inst = comp.by_name[inst.operands[0]]
                continue
            return ("i", self.local[(comp.name, inst.name)], index, inst.name)

    def _info(self, i: int) -> KernelInfo:
        row, k = self.rows[i], self.kernels[i]
        c = row.cost
        return KernelInfo(
            name=k.qualified_name, computation=k.computation, kind=k.kind, opcode=k.opcode, ops=k.ops,
            op_name=self.op_name[i], inputs=tuple(self.shape_text(t.shape) for t in k.inputs),
            outputs=tuple(self.shape_text(t.shape) for t in k.outputs),
            bytes_accessed=max(c.bytes_accessed, 0.0), flops=max(c.flops, 0.0),
            transcendentals=max(c.transcendentals, 0.0), time_at_peak_s=row.roofline.time_at_peak_s,
            trip_count=row.trip_count, measured_s=self.measured.get(k.qualified_name),
        )


def _post_order(comp: Computation) -> list[Instruction]:
    """Instructions with every operand before its users (text order is one already, as XLA prints it;
    this also copes with hand-written text that is not)."""
    by_name = comp.by_name
    done: set[str] = set()
    visiting: set[str] = set()
    order: list[Instruction] = []
    for start in comp.instructions:
        if start.name in done:
            continue
        stack = [(start, 0)]
        visiting.add(start.name)
        while stack:
            inst, k = stack.pop()
            if k < len(inst.operands):
                stack.append((inst, k + 1))
                operand = inst.operands[k]
                if operand not in done and operand not in visiting and operand in by_name:
                    visiting.add(operand)
                    stack.append((by_name[operand], 0))
                continue
            visiting.discard(inst.name)
            if inst.name not in done:
                done.add(inst.name)
                order.append(inst)
    return order


# ----------------------------------------------------------------------------------------------
# Kernel matching


class _Matching:
    """The kernel pairs found so far, and the scores that find more."""

    def __init__(self, a: _Side, b: _Side, params: Mapping[int, int]) -> None:
        self.a, self.b = a, b
        self.params = params
        """Entry parameter number in `before` -> its partner's in `after`."""
        self.ab: dict[int, int] = {}
        self.ba: dict[int, int] = {}

    def pair(self, i: int, j: int) -> None:
        self.ab[i] = j
        self.ba[j] = i

    def source_paired(self, sa: _Source, sb: _Source) -> bool:
        if sa[0] != sb[0] or sa[2] != sb[2]:
            return False
        if sa[0] == "k":
            return self.ab.get(sa[1]) == sb[1]
        if sa[0] == "P":
            return self.params.get(sa[1]) == sb[1]
        return sa[1] == sb[1]

    def wiring(self, i: int, j: int) -> tuple[int, int, int]:
        """(operands from paired producers, paired users, shared program outputs)."""
        a, b = self.a, self.b
        inputs = sum(1 for sa, sb in zip(a.sources[i], b.sources[j], strict=False) if self.source_paired(sa, sb))
        b_users = set(b.users[j])
        users = sum(1 for u in a.users[i] if self.ab.get(u) in b_users)
        outputs = len(a.outputs[i] & b.outputs[j])
        return inputs, users, outputs

    def distance(self, i: int, j: int) -> float:
        return abs(self.a.position[i] - self.b.position[j])


def _match_kernels(a: _Side, b: _Side, params: Mapping[int, int]) -> dict[int, int]:
    m = _Matching(a, b, params)
    # Step 2: exact structure, everything upstream included.
    exact: dict[tuple[int, int], deque[int]] = defaultdict(deque)
    for j in range(len(b.kernels)):
        exact[(b.kdeep[j], b.depth[j])].append(j)
    for i in range(len(a.kernels)):
        queue = exact.get((a.kdeep[i], a.depth[i]))
        if queue:
            m.pair(i, queue.popleft())
    # Steps 3 and 4, while they find pairs.
    for _ in range(_ROUNDS):
        found = _same_signature(m) + _similar(m)
        if not found:
            break
    return m.ab


def _greedy(m: _Matching, scored: Iterable[tuple[float, float, int, int]]) -> int:
    """Accept candidate pairs best score first (then nearest), each kernel at most once."""
    found = 0
    for _, _, i, j in sorted(scored, key=lambda t: (-t[0], t[1], t[2], t[3])):
        if i in m.ab or j in m.ba:
            continue
        m.pair(i, j)
        found += 1
    return found


def _same_signature(m: _Matching) -> int:
    a, b = m.a, m.b
    free_b: dict[int, list[int]] = defaultdict(list)
    for j in range(len(b.kernels)):
        if j not in m.ba:
            free_b[b.klocal[j]].append(j)
    scored = []
    for i in range(len(a.kernels)):
        if i in m.ab or a.klocal[i] not in free_b:
            continue
        candidates = [j for j in free_b[a.klocal[i]] if b.depth[j] == a.depth[i]]
        if len(candidates) > _NEAREST:
            candidates = sorted(candidates, key=lambda j: m.distance(i, j))[:_NEAREST]
        for j in candidates:
            inputs, users, outputs = m.wiring(i, j)
            score = 2 * (inputs + users + outputs) + (a.op_name[i] is not None and a.op_name[i] == b.op_name[j])
            scored.append((score, m.distance(i, j), i, j))
    return _greedy(m, scored)


def _similar(m: _Matching) -> int:
    a, b = m.a, m.b
    by_op_name: dict[str, list[int]] = defaultdict(list)
    by_param: dict[tuple[str, int, tuple[int, ...]], list[int]] = defaultdict(list)
    by_output: dict[int, list[int]] = defaultdict(list)
    for j in range(len(b.kernels)):
        if j in m.ba:
            continue
        if b.op_name[j]:
            by_op_name[b.op_name[j]].append(j)
        for s in b.sources[j]:
            if s[0] in ("p", "P"):
                by_param[(s[0], s[1], s[2])].append(j)
        for out in b.outputs[j]:
            by_output[out].append(j)
    scored = []
    for i in range(len(a.kernels)):
        if i in m.ab:
            continue
        candidates: set[int] = set()
        for s in a.sources[i]:
            if s[0] == "k" and s[1] in m.ab:
                candidates.update(u for u in b.users[m.ab[s[1]]] if u not in m.ba)
            elif s[0] == "P" and s[1] in m.params:
                candidates.update(by_param.get(("P", m.params[s[1]], s[2]), ()))
            elif s[0] == "p":
                candidates.update(by_param.get(("p", s[1], s[2]), ()))
        for u in a.users[i]:
            if u in m.ab:
                candidates.update(s[1] for s in b.sources[m.ab[u]] if s[0] == "k" and s[1] not in m.ba)
        for out in a.outputs[i]:
            candidates.update(by_output.get(out, ()))
        same_name = by_op_name.get(a.op_name[i] or "", [])
        if len(same_name) > _NEAREST:
            same_name = sorted(same_name, key=lambda j: m.distance(i, j))[:_NEAREST]
        candidates.update(same_name)
        for j in candidates:
            if b.depth[j] != a.depth[i]:
                continue
            score = _similarity(m, i, j)
            if score is not None:
                scored.append((score, m.distance(i, j), i, j))
    return _greedy(m, scored)


def _similarity(m: _Matching, i: int, j: int) -> float | None:
    """The evidence that kernel i of `before` became kernel j of `after`, or None if too little."""
    a, b = m.a, m.b
    ka, kb = a.kernels[i], b.kernels[j]
    inputs, users, outputs = m.wiring(i, j)
    same_name = a.op_name[i] is not None and a.op_name[i] == b.op_name[j]
    traits = (
        (ka.opcode == kb.opcode)
        + (ka.kind == kb.kind)
        + (_dims(ka) == _dims(kb))
        + (Counter(ka.ops) == Counter(kb.ops))
    )
    neighbours = inputs + users + outputs
    if not (neighbours or same_name) or not (traits or same_name):
        return None
    score = 2 * neighbours + 3 * same_name + traits
    return score if score >= _MIN_SCORE else None


def _dims(k: Kernel) -> tuple[tuple[str, tuple[int, ...]], ...]:
    return tuple((t.shape.dtype, t.shape.dims) for t in k.outputs)


# ----------------------------------------------------------------------------------------------
# Changes and reasons


def _changes(a: _Side, b: _Side, pairs: Mapping[int, int], params: Mapping[int, int]) -> list[KernelChange]:
    """Every kernel of both sides, in `after`'s order, removed kernels after their predecessor's peer."""
    m = _Matching(a, b, params)
    for i, j in pairs.items():
        m.pair(i, j)
    keyed: list[tuple[tuple[float, int, int], KernelChange]] = []
    for j in range(len(b.kernels)):
        i = m.ba.get(j)
        if i is None:
            change = KernelChange("added", None, b.infos[j], group_key=("added", None, b.klocal[j]))
        else:
            change = _compare(m, i, j)
        keyed.append(((j, 0, 0), change))
    last = -1.0
    for i in range(len(a.kernels)):
        j = m.ab.get(i)
        if j is not None:
            last = j
            continue
        keyed.append(((last, 1, i), KernelChange("removed", a.infos[i], None,
                                                 group_key=("removed", a.klocal[i], None))))
    keyed.sort(key=lambda t: t[0])
    return [change for _, change in keyed]


def _compare(m: _Matching, i: int, j: int) -> KernelChange:
    a, b = m.a, m.b
    ka, kb = a.kernels[i], b.kernels[j]
    if a.kdeep[i] == b.kdeep[j]:
        return KernelChange("unchanged", a.infos[i], b.infos[j])
    reasons: set[str] = set()
    details: list[str] = []
    if ka.opcode != kb.opcode or ka.kind != kb.kind:
        reasons.add("opcode")
        details.append(f"opcode {_kind_text(ka)} -> {_kind_text(kb)}")
    _compare_shapes("result", [t.shape for t in ka.outputs], [t.shape for t in kb.outputs], reasons, details)
    if len(ka.inputs) != len(kb.inputs):
        reasons.add("operands")
        details.append(f"{len(ka.inputs)} operands -> {len(kb.inputs)}")
    else:
        for n, (ta, tb) in enumerate(zip(ka.inputs, kb.inputs, strict=True)):
            _compare_shapes(f"operand {n}", [ta.shape], [tb.shape], reasons, details)
    for n, (sa, sb) in enumerate(zip(a.sources[i], b.sources[j], strict=False)):
        if not m.source_paired(sa, sb):
            reasons.add("operands")
            details.append(f"operand {n} from {_source_text(a, sa)} -> {_source_text(b, sb)}")
    ops_a, ops_b = Counter(ka.ops), Counter(kb.ops)
    if ops_a != ops_b:
        reasons.add("fused ops")
        details.append("ops " + _counter_delta(ops_a, ops_b))
    elif a.local[(ka.computation, ka.name)] != b.local[(kb.computation, kb.name)]:
        # Same ops, yet the kernel differs: its attributes, or inside its fused computation.
        own_a, own_b = dict(attrs_key(ka.instruction)), dict(attrs_key(kb.instruction))
        changed_attrs = sorted(k for k in own_a.keys() | own_b.keys() if own_a.get(k) != own_b.get(k))
        inner = _inner_difference(a, b, ka, kb)
        if changed_attrs:
            reasons.add("attributes")
            details.append("attributes " + ", ".join(changed_attrs))
        if inner:
            reasons.add(inner[0])
            details.append(inner[1])
        if not changed_attrs and not inner and not reasons:
            reasons.add("attributes")
            details.append("attributes of the called computation")
    if not reasons:
        # Same work on paired producers; only something further upstream differs.
        return KernelChange("unchanged", a.infos[i], b.infos[j])
    ordered = tuple(r for r in REASONS if r in reasons)
    return KernelChange("changed", a.infos[i], b.infos[j], ordered, tuple(details),
                        group_key=("changed", ordered, a.klocal[i], b.klocal[j]))


def _kind_text(k: Kernel) -> str:
    return k.opcode if k.kind == "op" else f"{k.opcode} {k.kind}"


def _compare_shapes(what: str, sa: list[Shape], sb: list[Shape], reasons: set[str], details: list[str]) -> None:
    def dims(shapes: list[Shape]) -> list[str]:
        return [s.short() for s in shapes]

    if dims(sa) != dims(sb):
        reasons.add("shape")
        details.append(f"{what} {', '.join(dims(sa))} -> {', '.join(dims(sb))}")
    elif [str(s) for s in sa] != [str(s) for s in sb]:
        reasons.add("layout")
        details.append(f"{what} layout {', '.join(map(str, sa))} -> {', '.join(map(str, sb))}")


def _inner_difference(a: _Side, b: _Side, ka: Kernel, kb: Kernel) -> tuple[str, str] | None:
    """For two fusions with the same ops: whether their insides differ in shapes, layouts or attributes."""
    if not (ka.fused_computation and kb.fused_computation):
        return None
    ca = a.module.computations[ka.fused_computation]
    cb = b.module.computations[kb.fused_computation]
    if a.comp_fp[ca.name] == b.comp_fp[cb.name]:
        return None
    dims_a = Counter(i.shape.short() for i in ca.instructions)
    dims_b = Counter(i.shape.short() for i in cb.instructions)
    if dims_a != dims_b:
        return "shape", "fused shapes " + _counter_delta(dims_a, dims_b)
    layout_a = Counter(str(i.shape) for i in ca.instructions)
    layout_b = Counter(str(i.shape) for i in cb.instructions)
    if layout_a != layout_b:
        return "layout", "fused layouts " + _counter_delta(layout_a, layout_b)
    return "attributes", "attributes or constants inside the fused computation"


def _counter_delta(before: Counter[str], after: Counter[str], limit: int = 6) -> str:
    """`-erf×2 +tanh`: what was taken away, then what was added (shape plumbing left out when
    something else changed, at most `limit` of each sign)."""
    removed, added = before - after, after - before
    plumbing = PLUMBING if (set(removed) | set(added)) - PLUMBING else frozenset()
    parts = []
    for sign, counts in (("-", removed), ("+", added)):
        items = sorted(((k, n) for k, n in counts.items() if k not in plumbing), key=lambda kv: (-kv[1], kv[0]))
        parts += [f"{sign}{key}" + (f"×{n}" if n > 1 else "") for key, n in items[:limit]]
        if len(items) > limit:
            parts.append(f"({sign}{len(items) - limit} more)")
    return " ".join(parts)


def _source_text(side: _Side, s: _Source) -> str:
    kind, value, index, name = s
    suffix = "".join(f"[{k}]" for k in index)
    if kind == "k":
        return side.kernels[value].qualified_name + suffix
    if kind in ("p", "P"):
        return f"parameter {value}{suffix}"
    return name + suffix


def _group(changes: list[KernelChange]) -> tuple[ChangeGroup, ...]:
    groups: dict[Hashable, list[KernelChange]] = {}
    for change in changes:
        if change.status == "unchanged":
            continue
        groups.setdefault(change.group_key, []).append(change)
    return tuple(ChangeGroup(entries[0].status, entries[0].reasons, tuple(entries)) for entries in groups.values())


# ----------------------------------------------------------------------------------------------
# Computations and instructions


def _match_computations(a: _Side, b: _Side, pairs: Mapping[int, int]
                        ) -> tuple[list[tuple[str | None, str | None]], list[InstructionPair], list[str]]:
    comp_ab: dict[str, str] = {}
    comp_ba: dict[str, str] = {}
    work: deque[tuple[str, str]] = deque()

    def pair(ca: str, cb: str) -> None:
        if ca in comp_ab or cb in comp_ba:
            return
        comp_ab[ca], comp_ba[cb] = cb, ca
        work.append((ca, cb))

    pair(a.module.entry_name, b.module.entry_name)
    votes: Counter[tuple[str, str]] = Counter()
    for i, j in pairs.items():
        ka, kb = a.kernels[i], b.kernels[j]
        if ka.fused_computation and kb.fused_computation:
            pair(ka.fused_computation, kb.fused_computation)
        votes[(ka.computation, kb.computation)] += 1
    for (ca, cb), _ in votes.most_common():
        pair(ca, cb)
    inst_pairs: list[InstructionPair] = []
    other: list[str] = []

    def drain() -> None:
        while work:
            ca, cb = work.popleft()
            found = _match_instructions(a, b, ca, cb, pairs)
            inst_pairs.extend(found)
            for p in found:
                ia = a.module.computations[ca].by_name[p.before[1]]
                ib = b.module.computations[cb].by_name[p.after[1]]
                if len(ia.called) == len(ib.called):
                    for x, y in zip(ia.called, ib.called, strict=True):
                        pair(x, y)

    drain()
    # Leftovers with equal fingerprints (reducers, unreached callees), in text order.
    by_fp: dict[int, deque[str]] = defaultdict(deque)
    for name in b.module.computations:
        if name not in comp_ba:
            by_fp[b.comp_fp[name]].append(name)
    for name in a.module.computations:
        if name not in comp_ab and by_fp.get(a.comp_fp[name]):
            pair(name, by_fp[a.comp_fp[name]].popleft())
    drain()
    result: list[tuple[str | None, str | None]] = [(ca, comp_ab.get(ca)) for ca in a.module.computations]
    result += [(None, cb) for cb in b.module.computations if cb not in comp_ba]
    # Instructions of paired computations that launch nothing and are not reported through a kernel's
    # operands or the signature (a loop, a call, a conditional) but are unpaired or changed.
    paired_a = {p.before: p for p in inst_pairs}
    paired_b = {p.after for p in inst_pairs}
    fused = {k.fused_computation for k in a.kernels if k.fused_computation}
    for ca, cb in comp_ab.items():
        if ca in fused:
            continue
        for inst in a.module.computations[ca].instructions:
            key = (ca, inst.name)
            if key in a.at or inst.opcode in NO_LAUNCH:
                continue
            p = paired_a.get(key)
            if p is None:
                other.append(f"{ca}: {inst.name} ({inst.opcode}) only in before")
            elif not p.same and p.after not in b.at:
                other.append(f"{ca}: {inst.name} ({inst.opcode}) -> {p.after[1]} changed")
        for inst in b.module.computations[cb].instructions:
            key = (cb, inst.name)
            if key not in b.at and key not in paired_b and inst.opcode not in NO_LAUNCH:
                other.append(f"{cb}: {inst.name} ({inst.opcode}) only in after")
    return result, inst_pairs, other


def _match_instructions(a: _Side, b: _Side, ca: str, cb: str, pairs: Mapping[int, int]) -> list[InstructionPair]:
    comp_a, comp_b = a.module.computations[ca], b.module.computations[cb]
    ab: dict[str, str] = {}
    ba: dict[str, str] = {}

    def pair(x: str, y: str) -> None:
        if x not in ab and y not in ba:
            ab[x], ba[y] = y, x

    # 1. the same structure, everything upstream included
    by_deep: dict[int, deque[str]] = defaultdict(deque)
    for inst in comp_b.instructions:
        by_deep[b.deep[(cb, inst.name)]].append(inst.name)
    for inst in comp_a.instructions:
        queue = by_deep.get(a.deep[(ca, inst.name)])
        while queue and queue[0] in ba:
            queue.popleft()
        if queue:
            pair(inst.name, queue.popleft())
    # 2. paired kernels
    for i, j in pairs.items():
        ka, kb = a.kernels[i], b.kernels[j]
        if ka.computation == ca and kb.computation == cb:
            pair(ka.name, kb.name)
    # 3. the same instruction with other operands, then the same opcode and op_name, in text order
    keys = (
        lambda side, comp, inst: side.local[(comp, inst.name)],
        lambda side, comp, inst: (inst.opcode, normalize_op_name(inst.op_name), inst.shape.short()),
        lambda side, comp, inst: (inst.opcode, normalize_op_name(inst.op_name)),
    )
    for key in keys:
        free: dict[Hashable, deque[str]] = defaultdict(deque)
        for inst in comp_b.instructions:
            if inst.name not in ba:
                free[key(b, cb, inst)].append(inst.name)
        for inst in comp_a.instructions:
            if inst.name in ab:
                continue
            queue = free.get(key(a, ca, inst))
            if queue:
                pair(inst.name, queue.popleft())
    out = []
    for x, y in ab.items():
        ia, ib = comp_a.by_name[x], comp_b.by_name[y]
        same = a.deep[(ca, x)] == b.deep[(cb, y)] or (
            a.local[(ca, x)] == b.local[(cb, y)]
            and len(ia.operands) == len(ib.operands)
            and all(ab.get(o) == p for o, p in zip(ia.operands, ib.operands, strict=True))
        )
        out.append(InstructionPair((ca, x), (cb, y), same))
    return out


# ----------------------------------------------------------------------------------------------
# Totals and signature


def _totals(report: HloReport, measured: float | None) -> Totals:
    t = report.cost.totals
    return Totals(
        module=report.module.name, source=report.module.source, instructions=report.module.instruction_count,
        kernels=len(report.rows), bytes_accessed=max(t.bytes_accessed, 0.0), flops=max(t.flops, 0.0),
        transcendentals=max(t.transcendentals, 0.0),
        time_at_peak_s=report.time_at_peak_s if math.isfinite(report.time_at_peak_s) else 0.0,
        measured_s=measured,
    )


def match_parameters(before: Module, after: Module) -> dict[int, int]:
    """Pair the entry computations' parameters: by their `op_name` (JAX writes the argument's path,
    `p['layers'][0]['w1']`) and shape, then by op_name alone, then by number and shape, then by number.
    Returns before's parameter number -> after's."""
    pa, pb = before.entry.parameters, after.entry.parameters
    mapping: dict[int, int] = {}
    taken: set[int] = set()
    keys = (
        lambda p: (p.op_name, str(p.shape)) if p.op_name else None,
        lambda p: p.op_name or None,
        lambda p: (p.parameter_number, str(p.shape)),
        lambda p: p.parameter_number,
    )
    for key in keys:
        free_a = [p for p in pa if p.parameter_number not in mapping]
        free_b = [p for p in pb if p.parameter_number not in taken]
        count_a = Counter(key(p) for p in free_a)
        by_key = defaultdict(list)
        for p in free_b:
            by_key[key(p)].append(p.parameter_number)
        for p in free_a:
            k = key(p)
            if k is not None and count_a[k] == 1 and len(by_key.get(k, ())) == 1:
                mapping[p.parameter_number] = by_key[k][0]
                taken.add(by_key[k][0])
    return mapping


def _signature(before: Module, after: Module, params: Mapping[int, int]) -> tuple[str, ...]:
    """The entry computation's parameters and result, where they differ."""
    pa = {p.parameter_number: p for p in before.entry.parameters}
    pb = {p.parameter_number: p for p in after.entry.parameters}

    def name(p: Instruction) -> str:
        return f" ({p.op_name})" if p.op_name else ""

    lines = []
    for n, p in sorted(pa.items()):
        m = params.get(n)
        if m is None:
            lines.append(f"parameter {n}{name(p)} {p.shape}: only in before")
            continue
        q = pb[m]
        if m != n:
            lines.append(f"parameter {n}{name(p)} is now parameter {m}")
        if str(p.shape) != str(q.shape):
            lines.append(f"parameter {n}{name(p)}: {p.shape} -> {q.shape}")
    paired = set(params.values())
    for n, q in sorted(pb.items()):
        if n not in paired:
            lines.append(f"parameter {n}{name(q)} {q.shape}: only in after")
    ra, rb = str(before.entry.root.shape), str(after.entry.root.shape)
    if ra != rb:
        lines.append(f"result: {_shorten(ra)} -> {_shorten(rb)}")
    return tuple(lines)


def _shorten(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ----------------------------------------------------------------------------------------------
# Memory

MEMORY_FIGURES = ("argument_bytes", "output_bytes", "alias_bytes", "temp_bytes", "peak_bytes")


@dataclass(frozen=True)
class MemoryDiff:
    """Memory of both sides: the figures, their deltas, and the values at the peak that came or went."""

    before: Mapping[str, int | None]
    """`MEMORY_FIGURES` of `before` (None where unknown: an unscheduled module has no peak)."""
    after: Mapping[str, int | None]
    provenance_before: Mapping[str, str]
    """Where each figure came from (`exact`, `xla`, `estimated`), as `MemoryAnalysis.provenance`."""
    provenance_after: Mapping[str, str]
    appeared: tuple[LiveBuffer, ...]
    """Values live at `after`'s peak with no counterpart at `before`'s, largest first."""
    disappeared: tuple[LiveBuffer, ...]
    """Values live at `before`'s peak with no counterpart at `after`'s, largest first."""
    kept: int
    """Values at both peaks (matched)."""
    peak_instruction_before: str | None = None
    peak_instruction_after: str | None = None

    @property
    def delta(self) -> dict[str, int | None]:
        """After minus before, per figure (None where either side is unknown)."""
        return {k: None if self.before[k] is None or self.after[k] is None else self.after[k] - self.before[k]
                for k in MEMORY_FIGURES}

    def to_json(self) -> dict[str, Any]:
        return {
            "before": dict(self.before), "after": dict(self.after), "delta": self.delta,
            "peak_instruction": {"before": self.peak_instruction_before, "after": self.peak_instruction_after},
            "appeared_at_peak": [b.to_json() for b in self.appeared],
            "disappeared_at_peak": [b.to_json() for b in self.disappeared],
            "kept_at_peak": self.kept,
            "provenance": {"before": dict(self.provenance_before), "after": dict(self.provenance_after)},
        }


def diff_memory(before: MemoryAnalysis, after: MemoryAnalysis) -> MemoryDiff:
    """Compare two memory analyses (give them `max_live=0`, so every value at the peak is matched).

    A value at one peak is matched with one at the other of the same identity (`_buffer_key`), then
    what is left by source line and shape alone (`jax.checkpoint` renames the scope of the ops it
    wraps); each match is used once, so a second copy of a tensor that only `after` holds appears."""
    appeared, disappeared = list(after.live_at_peak), list(before.live_at_peak)
    kept = 0
    for key in (_buffer_key, _loose_key):  # the exact identity first, then source line and shape alone
        pool: dict[tuple[Any, ...], list[LiveBuffer]] = defaultdict(list)
        for b in disappeared:
            pool[key(b)].append(b)
        unmatched = []
        for b in appeared:
            matches = pool.get(key(b))
            if matches:
                matches.pop()
                kept += 1
            else:
                unmatched.append(b)
        appeared, disappeared = unmatched, [b for bs in pool.values() for b in bs]
    order = lambda b: (-b.bytes, b.name)  # noqa: E731

    def figures(m: MemoryAnalysis) -> dict[str, int | None]:
        return {k: getattr(m, k) for k in MEMORY_FIGURES}

    return MemoryDiff(figures(before), figures(after), dict(before.provenance), dict(after.provenance),
                      tuple(sorted(appeared, key=order)), tuple(sorted(disappeared, key=order)), kept,
                      before.peak_instruction, after.peak_instruction)


def _buffer_key(b: LiveBuffer) -> tuple[Any, ...]:
    """What a value at the peak is, whatever XLA named it: its writer's scope path and source line and
    its shape; an entry parameter by its number and shape; without metadata, its kernel's opcode-like
    name without XLA's numbering (`fusion.12` -> `fusion`)."""
    if b.parameter is not None:
        return ("parameter", b.parameter, b.shape)
    op_name = normalize_op_name(b.op_name)
    if op_name or b.source:
        return ("op", op_name, b.source, b.shape)
    return ("name", re.sub(r"[.\d]+$", "", b.kernel), b.shape)


def _loose_key(b: LiveBuffer) -> tuple[Any, ...]:
    return ("source", b.source, b.shape) if b.source else _buffer_key(b)
