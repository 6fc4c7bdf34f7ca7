"""Memory of a compiled module: argument, output and alias bytes, and the peak of live bytes over the schedule.

`analyze_memory(module)` returns a frozen `MemoryAnalysis`. It is a model of what XLA itself does
before anything runs, written after reading XLA's `HloDataflowAnalysis` (which instructions define
new values), `HloAliasAnalysis` (which values must share a buffer), `HloLiveRange` (each value's live
range over the flattened schedule, and the peak moment) and `BufferAssignment` (allocations):

1. **The schedule.** A scheduled module (`is_scheduled=true`) prints each computation's instructions
   in their scheduled order. The entry computation's order is flattened as `HloLiveRange` does it in
   module scope: before a `while` come its condition's and then its body's instructions, before a
   `call`, `conditional` or `async-start` those of the computations it calls; fused computations,
   reducers and comparators run inside one kernel and are not part of the schedule. A logical time
   is an index into this flattened sequence.
2. **Values** (`HloDataflowAnalysis`, SSA form). Every array (and every tuple's index table, 8 bytes
   per element) that an instruction produces is a value, except where the instruction only forwards
   a value: `get-tuple-element`, `bitcast`, `tuple` (it defines only its index table), `opt-barrier`,
   `domain`, a `call` (its callee's root), a `conditional` branch's parameter (the branch operand),
   `copy-done` and `async-done` (the value their `-start` made), `*-done` of a collective (its
   operand), and `copy-start`/`async-start`, which forward their operand at `{0}`. A `while` and its
   condition's and body's parameters define a *phi* value at each index where the loop changes the
   carried value (the body's root holds a value other than the init's); where the body passes an
   element through, the carried value stays the init's. A `conditional` defines a phi wherever its
   branches return different values.
3. **Buffers** (`HloAliasAnalysis`): values that must share memory are one buffer: the values of a
   loop's carry at one index (init, both parameters, the body's root, the while), a conditional's
   branch roots and its result, the operand 0 and result of an in-place op (`dynamic-update-slice`,
   `scatter`, a fusion whose root is one of them on a fused parameter, `output_to_operand_aliasing`),
   and a donated entry parameter and the output it aliases (`input_output_alias`).
4. **Live ranges** (`HloLiveRange`): a value lives from its defining instruction (a parameter: from
   the start of its computation) to the latest of its positions (a root position: the end of the
   computation) and uses (a `while` operand: the start of the body; a `get-tuple-element` uses only
   the tuple's index table; a `tuple` uses nothing). Entry parameters that are not donated live to
   the end. The values of one buffer are then made disjoint in order of start (each ends where the
   next one starts; the last takes the latest end).
5. **The peak** (`HloLiveRange::ComputePeakMemoryMoment`): events +bytes at each start and -bytes at
   each end + 1, starts before ends at the same time; the peak moment is the first time the running
   sum reaches its maximum. XLA sizes each event by the defining instruction's whole shape, so every
   value of a tuple-shaped instruction counts as its index table there. `peak_bytes` is what XLA
   prints under "Live ranges at T (peak)": the sum of the values whose range contains T, each by its
   own size. `live_bytes[t]` is that sum at every t (the plot), and `max_live_bytes` its maximum,
   which can sit elsewhere (XLA's search also counts, at T, the values that died at T-1).

Sizes: a value's `size` is its logical size, as XLA's live ranges count it on every backend (XLA:TPU
included: an `s32[]{:T(128)}` is 4 bytes there), in every memory space (TPU's VMEM, `S(1)`, too); its
`allocated` size is what its buffer takes (padded to whole tiles, a TPU tuple's index table to 512
bytes). `peak_allocated_bytes` sums the allocated sizes at the peak in the main memory only.

Argument, output and alias bytes are exact (from the entry's parameters, its root and the module's
`input_output_alias`, counted per buffer at allocated sizes as `Compiled.memory_analysis()` counts
allocations). Temp bytes need XLA's heap simulator (its packing, alignment and fragmentation): irscope
reports the peak of temporaries it can see, labelled `estimated`; XLA's figures replace it (provenance
`xla`) when the compile is at hand (`with_compiler_figures`: `memory_analysis()`) or a buffer-assignment
dump is read (`with_xla_figures`, `irscope.frontends.xla_buffers`).

Not handled yet: asynchronous computations on other execution threads are flattened like calls; host
offload (`S(5)`) is counted like any other space.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from irscope.ir.hlo import Computation, Instruction, Module, Shape
from irscope.ir.layout import is_tiled, tiled_byte_size
from irscope.ir.opcodes import ELEMENTWISE_FLOP, TRANSCENDENTAL
from irscope.ir.source import instruction_location

Index = tuple[int, ...]

# Instructions whose result at every index is their operand's value: no new value.
_FORWARD = frozenset({"bitcast", "opt-barrier", "domain", "add-dependency"})
# The second half of an asynchronous pair hands on the value its first half made, at this index of
# the start's tuple (a copy-start is (destination, source, context); the others (operands, result, ...)).
_DONE_FORWARDS_START = {"copy-done": 0, "async-done": 1, "all-gather-done": 1, "collective-permute-done": 1}
# An all-reduce-start's result is the reduced buffer itself; its -done hands it on.
_DONE_FORWARDS_OPERAND = frozenset({"all-reduce-done"})
# The first halves: where in their tuple they hold their operands' buffers (forwarded, not new values).
_START_OPERANDS_AT = {"copy-start": 1, "async-start": 0, "all-gather-start": 0, "collective-permute-start": 0}
# In-place ops: result {} shares operand 0's buffer (HloDataflowAnalysis::GetInPlaceInputOutputPairs).
_IN_PLACE = frozenset({"dynamic-update-slice", "scatter"})

# XLA:TPU allocates a tuple's index table in whole tiles of this many bytes (seen in its buffer assignment).
_TPU_TABLE_TILE = 512

_ALIAS_ENTRY = re.compile(r"\{([\d,\s]*)\}\s*:\s*\(\s*(\d+)\s*,\s*\{([\d,\s]*)\}")


@dataclass(eq=False, slots=True)
class _Value:
    """One HloValue: what an instruction defines at one index of its shape."""

    id: int
    instruction: Instruction
    computation: str
    index: Index
    shape: Shape
    phi: bool = False
    size: int = 0
    """Bytes of the value as XLA's live ranges count them: its logical size (a tuple: its index table;
    a tiled layout is not padded)."""
    allocated: int = 0
    """Bytes its buffer takes: `size`, padded to whole tiles when the layout is tiled (XLA:TPU)."""
    event_size: int = 0
    """Logical bytes of the whole instruction's shape, which XLA's peak-moment search counts for each value."""
    start: int = 0
    end: int = 0

    @property
    def name(self) -> str:
        return f"{self.instruction.name}{{{','.join(map(str, self.index))}}}"


@dataclass(frozen=True, slots=True)
class LiveBuffer:
    """A value alive at the peak."""

    name: str
    """XLA's name for the value: the defining instruction and the index, `fusion.3{}`, `while.1{1}`."""
    bytes: int
    shape: str
    """Its shape without layout, `f32[128,512]`."""
    kernel: str
    """The instruction that writes it (the fusion, the parameter, the loop)."""
    computation: str
    """The computation that instruction is in."""
    op_name: str | None
    """The framework's scope path from the instruction's metadata."""
    source: str | None
    """`file:line` of the user's code, from the metadata's stack frames."""
    start: int
    """First logical time it is live (an index into `MemoryAnalysis.schedule`)."""
    end: int
    """Last logical time it is live."""
    parameter: int | None = None
    """The entry parameter's number, when the value is (part of) one."""

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "bytes": self.bytes, "shape": self.shape, "kernel": self.kernel,
                "op_name": self.op_name, "source": self.source}


@dataclass(frozen=True, eq=False)
class MemoryAnalysis:
    """What a module holds in memory: its arguments, outputs, and the peak of live bytes."""

    module: str
    argument_bytes: int
    """Bytes of the entry parameters (every leaf, and a tuple parameter's index table): exact."""
    output_bytes: int
    """Bytes of the entry's result buffers (an aliased parameter's included): exact."""
    alias_bytes: int
    """Bytes of outputs that reuse a donated parameter's buffer (`input_output_alias`): exact."""
    temp_bytes: int | None
    """Bytes XLA allocates for temporaries: XLA's figure from a buffer-assignment dump (`xla`), else
    irscope's estimate (the peak of live bytes that are neither arguments nor outputs)."""
    peak_bytes: int | None
    """Sum of the values live at the peak moment (XLA's "Live ranges at T (peak)"); None when the
    module has no schedule."""
    peak_index: int | None
    """The peak moment: an index into `schedule`."""
    max_live_bytes: int | None = None
    """The most bytes live at any logical time (the maximum of `live_bytes`). XLA's peak search adds
    the values born at T before it drops those that died at T-1, and sizes every value of a
    tuple-shaped instruction by the instruction's index table, so its peak moment can be elsewhere."""
    max_live_index: int | None = None
    """Where `max_live_bytes` first happens."""
    peak_allocated_bytes: int | None = None
    """The values live at the peak at the sizes their buffers take in the device's main memory: padded
    to whole tiles (XLA:TPU's tiled layouts), and without those in another memory space (`S(1)`, TPU's
    on-chip VMEM). XLA's live-range peak (`peak_bytes`) counts logical sizes in every memory space;
    on the CPU and the GPUs the two are equal."""
    schedule: tuple[str, ...] = ()
    """The flattened schedule (instruction names, loop bodies before their loop)."""
    live_bytes: tuple[int, ...] = ()
    """Live bytes at each logical time."""
    live_at_peak: tuple[LiveBuffer, ...] = ()
    """The values live at the peak, largest first."""
    provenance: Mapping[str, str] = field(default_factory=dict)
    """Where each figure came from: `exact` (shapes), `xla` (XLA's dump), `estimated` (irscope's model)."""
    xla: Mapping[str, Any] | None = None
    """XLA's own figures when a dump was read (temp size, its live-range peak), for comparison."""
    note: str | None = None
    """Why a figure is missing (an unscheduled module has no peak)."""

    @property
    def peak_instruction(self) -> str | None:
        return self.schedule[self.peak_index] if self.peak_index is not None and self.schedule else None

    def to_json(self) -> dict[str, Any]:
        return {
            "argument_bytes": self.argument_bytes,
            "output_bytes": self.output_bytes,
            "alias_bytes": self.alias_bytes,
            "temp_bytes": self.temp_bytes,
            "peak_bytes": self.peak_bytes,
            "peak_index": self.peak_index,
            "peak_instruction": self.peak_instruction,
            "max_live_bytes": self.max_live_bytes,
            "max_live_index": self.max_live_index,
            "peak_allocated_bytes": self.peak_allocated_bytes,
            "live_at_peak": [b.to_json() for b in self.live_at_peak],
            "provenance": dict(self.provenance),
            **({"xla": dict(self.xla)} if self.xla is not None else {}),
            **({"note": self.note} if self.note else {}),
        }


def input_output_aliases(module: Module) -> list[tuple[Index, int, Index]]:
    """(output index, parameter number, parameter index) of each `input_output_alias` entry."""
    text = module.attrs.get("input_output_alias", "")

    def index(s: str) -> Index:
        return tuple(int(x) for x in s.replace(" ", "").split(",") if x)

    return [(index(m.group(1)), int(m.group(2)), index(m.group(3))) for m in _ALIAS_ENTRY.finditer(text)]


def is_scheduled(module: Module) -> bool:
    return module.attrs.get("is_scheduled") == "true"


def analyze_memory(module: Module, *, max_live: int = 20) -> MemoryAnalysis:
    """Arguments, outputs, aliases and (for a scheduled module) the peak and what is live there.

    `max_live` bounds `live_at_peak` (the largest first); 0 keeps them all."""
    model = _Model(module)
    argument, output, alias = model.io_bytes()
    provenance = {"argument_bytes": "exact", "output_bytes": "exact", "alias_bytes": "exact"}
    if not is_scheduled(module):
        return MemoryAnalysis(module.name, argument, output, alias, None, None, None,
                              provenance={**provenance, "temp_bytes": "unknown", "peak_bytes": "unknown"},
                              note="the module has no schedule (is_scheduled=true), so its peak cannot be computed")
    model.run()
    live, peak_index = model.live_bytes_and_peak()
    at_peak = sorted((v for v in model.values if v.start <= peak_index <= v.end),
                     key=lambda v: (-v.size, v.name))
    peak_bytes = sum(v.size for v in at_peak)
    allocated = sum(v.allocated for v in at_peak if not _other_space(v.shape))
    temp = model.temp_peak()
    shown = at_peak[:max_live] if max_live else at_peak
    most = max(live, default=0)
    return MemoryAnalysis(
        module.name, argument, output, alias, temp, peak_bytes, peak_index,
        max_live_bytes=most, max_live_index=live.index(most) if live else None, peak_allocated_bytes=allocated,
        schedule=tuple(inst.name for inst, _ in model.sequence), live_bytes=tuple(live),
        live_at_peak=tuple(model.live_buffer(v) for v in shown),
        provenance={**provenance, "temp_bytes": "estimated", "peak_bytes": "estimated", "peak_index": "estimated",
                    "max_live_bytes": "estimated"},
    )


class _Model:
    """The values, buffers and live ranges of one module (steps 1 to 4 of the module docstring)."""

    def __init__(self, module: Module) -> None:
        self.module = module
        self.values: list[_Value] = []
        self.sequence: list[tuple[Instruction, str]] = []
        self.time: dict[int, int] = {}  # id(instruction) -> logical time
        self.span: dict[str, tuple[int, int]] = {}  # computation -> [start, end)
        self.sets: dict[int, dict[Index, _Value]] = {}  # id(instruction) -> index -> value
        self.parent: dict[int, int] = {}  # union-find over value ids (buffers)
        self.async_done: dict[str, Instruction] = {}  # async computation -> its async-done
        entry = module.entry
        self.tiled = any(is_tiled(leaf) for s in [entry.root.shape, *(p.shape for p in entry.parameters)]
                         for leaf in _leaves(s))

    # --- exact figures -------------------------------------------------------------------------------

    def io_bytes(self) -> tuple[int, int, int]:
        entry = self.module.entry
        argument = sum(self._shape_bytes(p.shape) for p in entry.parameters)
        output = self._shape_bytes(entry.root.shape)
        params = entry.parameters
        alias = sum(self._allocated(params[param].shape.subshape(pidx))
                    for _, param, pidx in set(input_output_aliases(self.module))
                    if param < len(params) and _valid(params[param].shape, pidx))
        return argument, output, alias

    def temp_peak(self) -> int:
        """The most bytes live at once in buffers that hold no argument, output or constant, less the
        output buffers not yet written then, in the device's main memory (not `S(1)`): an estimate of
        XLA's temp allocation, whose heap simulator
        also packs (imperfectly), aligns, and shares buffers by rules modelled here only in part."""
        entry = self.module.entry
        io = [v for p in entry.parameters for v in self.sets.get(id(p), {}).values()]
        io.extend(self.sets.get(id(entry.root), {}).values())
        shares = self._operand_shares()
        saved = dict(self.parent)
        for u, v in shares:  # a shared pair is one allocation: it holds an argument or output if either does
            self._union(u, v)
        groups = {v.id: self._find(v.id) for v in self.values}
        self.parent = saved
        io_buffers = {groups[v.id] for v in io}
        ends = {u.id: u.end - 1 for u, _ in shares}  # the user writes over it in the same instruction
        n = len(self.sequence)
        delta = [0] * (n + 2)
        for v in self.values:
            if v.instruction.opcode != "constant" and groups[v.id] not in io_buffers and not _other_space(v.shape):
                end = ends.get(v.id, v.end)
                if end >= v.start:
                    delta[v.start] += v.allocated
                    delta[end + 1] -= v.allocated
        # An output buffer exists from the start, but holds its value only from its first write: before
        # that XLA packs temporaries into it (so they do not count as temp bytes).
        param_buffers = {groups[v.id] for p in entry.parameters for v in self.sets.get(id(p), {}).values()}
        first_write: dict[int, tuple[int, int]] = {}
        for v in self.values:
            g = groups[v.id]
            if g in io_buffers and g not in param_buffers and v.instruction.opcode != "constant":
                start, size = first_write.get(g, (n, 0))
                first_write[g] = (min(start, v.start), max(size, v.allocated))
        free = [0] * (n + 2)
        for start, size in first_write.values():
            free[0] += size
            free[start] -= size
        best = running = free_now = 0
        for t in range(n + 1):
            running += delta[t]
            free_now += free[t]
            best = max(best, running - free_now)
        return best

    def _operand_shares(self) -> list[tuple[_Value, _Value]]:
        """(operand value, result value) pairs XLA's buffer assigner may put in one allocation: an
        element-wise kernel (a kLoop fusion, an element-wise op) writing over its operand 0 when that has
        the same size and dies there (BufferAssigner's CanShareOperandBufferWithUser, simplified: on the
        CPU dumps XLA shared operand 0 and not a later one)."""
        elementwise = ELEMENTWISE_FLOP | TRANSCENDENTAL
        readonly = {id(p) for p in self.module.entry.parameters}
        pairs = []
        for inst, comp_name in self.sequence:
            if not (inst.fusion_kind == "kLoop" or inst.opcode in elementwise) or inst.shape.is_tuple:
                continue
            result = self.sets.get(id(inst), {}).get(())
            if result is None or result.instruction is not inst:
                continue
            if not inst.operands:
                continue
            comp = self.module.computations[comp_name]
            operand = self.sets.get(id(comp.by_name[inst.operands[0]]), {}).get(())
            if (operand is not None and operand.allocated == result.allocated and operand.end == result.start
                    and operand.instruction.opcode != "constant" and id(operand.instruction) not in readonly):
                pairs.append((operand, result))
        return pairs

    # --- steps 1 to 4 --------------------------------------------------------------------------------

    def run(self) -> None:
        self._flatten(self.module.entry)
        self._dataflow(self.module.entry)
        self._alias_inputs_outputs()
        self._live_ranges()
        self._normalize()

    def _flatten(self, comp: Computation) -> None:
        if comp.name in self.span:
            return
        start = len(self.sequence)
        self.span[comp.name] = (start, start)  # guards recursion
        computations = self.module.computations
        for inst in comp.instructions:
            op = inst.opcode
            if op == "while":
                body, cond = _while_parts(inst)
                self._flatten(computations[cond])
                self._flatten(computations[body])
            elif op in ("call", "conditional", "async-start"):
                for callee in inst.called:
                    self._flatten(computations[callee])
            self.time[id(inst)] = len(self.sequence)
            self.sequence.append((inst, comp.name))
        self.span[comp.name] = (start, len(self.sequence))

    def _allocated(self, shape: Shape) -> int:
        """Bytes of one buffer: an array padded to whole tiles when its layout is tiled; a tuple's index
        table 8 bytes per element, which XLA:TPU (a module with tiled layouts) pads to whole 512-byte
        tiles (its buffer assignment gives a 7- or a 21-element tuple 512 bytes)."""
        if shape.is_tuple:
            table = shape.byte_size
            return -(-table // _TPU_TABLE_TILE) * _TPU_TABLE_TILE if self.tiled and table else table
        return _bytes(shape)

    def _shape_bytes(self, shape: Shape) -> int:
        """Bytes of every buffer of a shape: the leaves and each tuple's index table."""
        if not shape.is_tuple:
            return self._allocated(shape)
        return self._allocated(shape) + sum(self._shape_bytes(s) for s in shape.tuple_shapes)

    def _new(self, inst: Instruction, comp: str, index: Index, *, phi: bool = False) -> _Value:
        shape = inst.shape.subshape(index)
        value = _Value(len(self.values), inst, comp, index, shape, phi, size=shape.byte_size,
                       allocated=self._allocated(shape), event_size=inst.shape.byte_size)
        self.values.append(value)
        self.parent[value.id] = value.id
        return value

    def _define_all(self, inst: Instruction, comp: str) -> dict[Index, _Value]:
        if not inst.shape.is_tuple:
            return {(): self._new(inst, comp, ())}
        return {index: self._new(inst, comp, index) for index in _indices(inst.shape)}

    def _dataflow(self, comp: Computation, param_sets: list[dict[Index, _Value]] | None = None) -> None:
        """Value sets of every instruction of `comp` (parameters given by the caller, else defined)."""
        computations = self.module.computations
        sets = self.sets
        name = comp.name
        for inst in comp.instructions:
            op = inst.opcode
            operands = [comp.by_name[o] for o in inst.operands]
            if op == "parameter":
                if param_sets is not None:
                    sets[id(inst)] = param_sets[inst.parameter_number]
                else:
                    sets[id(inst)] = self._define_all(inst, name)
            elif op == "get-tuple-element":
                k = int(inst.attrs.get("index", "0"))
                src = sets[id(operands[0])]
                sets[id(inst)] = {index[1:]: v for index, v in src.items() if index and index[0] == k}
            elif op == "tuple":
                out = {(): self._new(inst, name, ())}
                for k, operand in enumerate(operands):
                    for index, v in sets[id(operand)].items():
                        out[(k, *index)] = v
                sets[id(inst)] = out
            elif op in _FORWARD and operands:
                sets[id(inst)] = dict(sets[id(operands[0])]) if op != "add-dependency" else sets[id(operands[0])]
            elif op == "while":
                sets[id(inst)] = self._while(inst, name, sets[id(operands[0])])
            elif op == "conditional":
                sets[id(inst)] = self._conditional(inst, name, [sets[id(o)] for o in operands])
            elif op == "call":
                callee = computations[inst.called[0]]
                self._dataflow(callee, [sets[id(o)] for o in operands])
                sets[id(inst)] = sets[id(callee.root)]
            elif op in _START_OPERANDS_AT and inst.shape.is_tuple:
                sets[id(inst)] = self._start(inst, name, operands)
            elif (op == "async-update" or op in _DONE_FORWARDS_OPERAND) and operands:
                sets[id(inst)] = sets[id(operands[0])]
            elif op in _DONE_FORWARDS_START and operands and sets[id(operands[0])].keys() != {()}:
                src, at = sets[id(operands[0])], _DONE_FORWARDS_START[op]
                sets[id(inst)] = {index[1:]: v for index, v in src.items() if index and index[0] == at}
                if op == "async-done":
                    start = _async_start_of(comp, inst)
                    if start is not None:
                        for callee in start.called:
                            self.async_done[callee] = inst
            else:
                out = self._define_all(inst, name)
                sets[id(inst)] = out
                self._in_place(inst, operands, out)

    def _start(self, inst: Instruction, comp: str, operands: list[Instruction]) -> dict[Index, _Value]:
        """The first half of an asynchronous pair: at `_START_OPERANDS_AT` it holds its operands (a tuple of
        them for an async-start or several operands), forwarded; the rest (the destination, the context)
        it defines. An async computation's parameters are the operands, and its root is the result {1}."""
        forwarded: dict[Index, _Value] = {}
        at = _START_OPERANDS_AT[inst.opcode]
        several = inst.opcode == "async-start" or len(operands) > 1
        for k, operand in enumerate(operands):
            prefix = (at, k) if several else (at,)
            forwarded.update(((*prefix, *index), v) for index, v in self.sets[id(operand)].items())
        if inst.opcode == "async-start":
            callee = self.module.computations.get(inst.called[0]) if inst.called else None
            if callee is not None:
                self._dataflow(callee, [self.sets[id(o)] for o in operands])
                forwarded.update(((1, *index), v) for index, v in self.sets[id(callee.root)].items())
        out = {}
        for index in _indices(inst.shape):
            out[index] = forwarded[index] if index in forwarded else self._new(inst, comp, index)
        return out

    def _while(self, inst: Instruction, comp: str, init: dict[Index, _Value]) -> dict[Index, _Value]:
        """Phi values where the body changes the carried value; the init's value elsewhere."""
        body_name, cond_name = _while_parts(inst)
        body = self.module.computations[body_name]
        cond = self.module.computations[cond_name]
        body_param = body.parameters[0] if body.parameters else None
        indices = sorted(init)
        phi_at: set[Index] = set()
        snapshot, parents = len(self.values), dict(self.parent)
        for _ in range(len(indices) + 2):  # each pass adds phis; the carry has finitely many indices
            del self.values[snapshot:]
            self.parent = dict(parents)
            carried: dict[Index, _Value] = {}
            phis_body = {index: self._new(body_param or inst, body_name, index, phi=True) if index in phi_at else None
                         for index in indices}
            for index in indices:
                carried[index] = phis_body[index] or init[index]
            self._dataflow(body, [carried])
            root = self.sets[id(body.root)]
            changed = {index for index in indices if index not in phi_at and root.get(index) is not carried[index]}
            if not changed:
                break
            phi_at |= changed
        cond_param = cond.parameters[0] if cond.parameters else None
        cond_set = {index: (self._new(cond_param or inst, cond_name, index, phi=True) if index in phi_at
                            else init[index]) for index in indices}
        self._dataflow(cond, [cond_set])
        out = {index: (self._new(inst, comp, index, phi=True) if index in phi_at else init[index])
               for index in indices}
        root = self.sets[id(body.root)]
        for index in phi_at:  # one buffer per carried index: init, both parameters, the body's root, the loop
            for v in (init[index], carried[index], cond_set[index], root.get(index), out[index]):
                if v is not None:
                    self._union(out[index], v)
        return out

    def _conditional(self, inst: Instruction, comp: str, operand_sets: list[dict[Index, _Value]]) -> dict[Index, _Value]:
        roots = []
        for k, callee in enumerate(inst.called):
            branch = self.module.computations[callee]
            self._dataflow(branch, [operand_sets[k + 1]] if k + 1 < len(operand_sets) else None)
            roots.append(self.sets[id(branch.root)])
        out: dict[Index, _Value] = {}
        for index in _indices(inst.shape):
            candidates = {id(r.get(index)): r.get(index) for r in roots}
            if len(candidates) == 1 and None not in candidates.values():
                out[index] = next(iter(candidates.values()))  # type: ignore[assignment]
                continue
            out[index] = self._new(inst, comp, index, phi=True)
            for v in candidates.values():
                if v is not None:
                    self._union(out[index], v)
        return out

    def _in_place(self, inst: Instruction, operands: list[Instruction], out: dict[Index, _Value]) -> None:
        """Union an in-place op's result with the operand buffer it overwrites."""
        for operand_number, index in _in_place_pairs(self.module, inst):
            if operand_number < len(operands) and index in out:
                src = self.sets[id(operands[operand_number])].get(())
                if src is not None:
                    self._union(out[index], src)

    def _alias_inputs_outputs(self) -> None:
        entry = self.module.entry
        params = entry.parameters
        root = self.sets[id(entry.root)]
        self.donated: set[tuple[int, Index]] = set()
        for out, param, pidx in input_output_aliases(self.module):
            if param >= len(params):
                continue
            self.donated.add((param, pidx))
            a, b = root.get(out), self.sets[id(params[param])].get(pidx)
            if a is not None and b is not None:
                self._union(a, b)

    def _union(self, a: _Value, b: _Value) -> None:
        ra, rb = self._find(a.id), self._find(b.id)
        if ra != rb:
            self.parent[rb] = ra

    def _find(self, i: int) -> int:
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def _live_ranges(self) -> None:
        """Start and end of every value (step 4), from its definition, positions and uses."""
        time, span = self.time, self.span
        computations = self.module.computations
        entry_name = self.module.entry_name
        end_of_schedule = len(self.sequence)
        # The latest position and use of each value, found by walking every scheduled instruction once.
        last: dict[int, int] = {}

        def touch(v: _Value, t: int) -> None:
            if last.get(v.id, -1) < t:
                last[v.id] = t

        for inst, comp_name in self.sequence:
            t = time[id(inst)]
            comp = computations[comp_name]
            own = self.sets.get(id(inst), {})
            position_time = span[comp_name][1] if inst.is_root else t
            for v in own.values():  # positions
                touch(v, position_time)
            op = inst.opcode
            if op in ("tuple", "call"):
                continue  # a tuple reads nothing; a call's uses are its callee's
            for operand_name in inst.operands:
                operand_set = self.sets.get(id(comp.by_name[operand_name]), {})
                if op == "get-tuple-element":
                    v = operand_set.get(())
                    if v is not None:
                        touch(v, t)
                    continue
                use_time = t
                if op == "while":
                    body = computations[_while_parts(inst)[0]]
                    use_time = time.get(id(body.parameters[0]), t) if body.parameters else t
                for v in operand_set.values():
                    touch(v, use_time)
        readonly_params = {id(p) for p in computations[entry_name].parameters}
        for v in self.values:
            inst = v.instruction
            t = time.get(id(inst))
            if t is None:  # defined by a computation outside the schedule
                v.start = v.end = -1
                continue
            comp_span = span.get(v.computation, (t, t + 1))
            v.start = comp_span[0] if inst.opcode == "parameter" else t
            end = comp_span[1] if inst.is_root else t
            done = self.async_done.get(v.computation)
            if done is not None:
                end = max(end, time.get(id(done), end))
            end = max(end, last.get(v.id, -1))
            if (id(inst) in readonly_params and v.computation == entry_name
                    and (inst.parameter_number, v.index) not in self.donated):
                end = end_of_schedule
            v.end = max(end, v.start)

    def _normalize(self) -> None:
        """Make the values of one buffer disjoint (HloLiveRange::NormalizeAliasedBuffers)."""
        groups: dict[int, list[_Value]] = {}
        for v in self.values:
            if v.start >= 0:
                groups.setdefault(self._find(v.id), []).append(v)
        for members in groups.values():
            if len(members) < 2:
                continue
            members.sort(key=lambda v: (v.start, v.end, v.id))
            for a, b in zip(members, members[1:], strict=False):
                b.end = max(a.end, b.end)
                a.end = min(a.end, b.start)
        self.values = [v for v in self.values if v.start >= 0]

    # --- step 5 --------------------------------------------------------------------------------------

    def live_bytes_and_peak(self) -> tuple[list[int], int]:
        n = len(self.sequence)
        delta = [0] * (n + 2)
        for v in self.values:
            size = v.size
            delta[v.start] += size
            delta[v.end + 1] -= size
        live, running = [], 0
        for t in range(n):
            running += delta[t]
            live.append(running)
        # XLA's peak moment: at each time, the starts are counted before the ends.
        starts = [0] * (n + 2)
        ends = [0] * (n + 2)
        for v in self.values:
            starts[v.start] += v.event_size  # XLA sizes the event by the whole instruction's shape
            ends[v.end + 1] += v.event_size
        usage, best, peak_time = 0, 0, 0
        for t in range(n + 1):
            usage += starts[t]
            if usage > best:
                best, peak_time = usage, t
            usage -= ends[t]
        return live, peak_time

    def live_buffer(self, v: _Value) -> LiveBuffer:
        inst = v.instruction
        entry_parameter = inst.opcode == "parameter" and v.computation == self.module.entry_name
        return LiveBuffer(v.name, v.size, v.shape.short(), inst.name, v.computation, inst.op_name,
                          instruction_location(self.module, inst), v.start, v.end,
                          inst.parameter_number if entry_parameter else None)


def _while_parts(inst: Instruction) -> tuple[str, str]:
    """(body, condition) of a while."""
    body = inst.attrs.get("body", "").lstrip("%")
    cond = inst.attrs.get("condition", "").lstrip("%")
    if body and cond:
        return body, cond
    return inst.called[0], inst.called[1]


def _async_start_of(comp: Computation, done: Instruction) -> Instruction | None:
    inst = comp.by_name.get(done.operands[0]) if done.operands else None
    while inst is not None and inst.opcode != "async-start" and inst.operands:
        inst = comp.by_name.get(inst.operands[0])
    return inst


def _indices(shape: Shape) -> list[Index]:
    """Every index of a shape, the tuple index tables included, in pre-order."""
    out: list[Index] = [()]
    if shape.is_tuple:
        for k, sub in enumerate(shape.tuple_shapes):
            out.extend((k, *index) for index in _indices(sub))
    return out


def _valid(shape: Shape, index: Index) -> bool:
    for k in index:
        if not shape.is_tuple or k >= len(shape.tuple_shapes):
            return False
        shape = shape.tuple_shapes[k]
    return True


def _leaves(shape: Shape) -> list[Shape]:
    return [leaf for s in shape.tuple_shapes for leaf in _leaves(s)] if shape.is_tuple else [shape]


_SPACE = re.compile(r"S\((\d+)\)")


def _other_space(shape: Shape) -> bool:
    """Whether an array lives outside the device's main memory (`S(1)`: TPU's VMEM, a host space)."""
    m = _SPACE.search(shape.layout_extra) if "S(" in shape.layout_extra else None
    return m is not None and m.group(1) != "0"


def _bytes(shape: Shape) -> int:
    """Bytes of one buffer: an array padded to whole tiles when its layout is tiled, else its size."""
    return tiled_byte_size(shape)


def _in_place_pairs(module: Module, inst: Instruction) -> list[tuple[int, Index]]:
    """(operand number, result index) pairs an instruction updates in place."""
    op = inst.opcode
    if op in _IN_PLACE:
        if op == "scatter" and inst.shape.is_tuple:
            return [(k, (k,)) for k in range(len(inst.shape.tuple_shapes))]
        return [(0, ())]
    pairs = []
    aliasing = inst.attrs.get("output_to_operand_aliasing")
    if aliasing:
        pairs.extend((int(m.group(2)), tuple(int(x) for x in m.group(1).replace(" ", "").split(",") if x))
                     for m in _ALIAS_ENTRY.finditer(aliasing))
    if op == "fusion" and inst.called and not pairs:
        fused = module.computations.get(inst.called[0])
        if fused is not None:
            root = fused.root
            outputs = [((), root)]
            if root.opcode == "tuple":
                outputs = [((k,), fused.by_name[o]) for k, o in enumerate(root.operands)]
            for index, out in outputs:
                if out.opcode in _IN_PLACE and out.operands:
                    src = fused.by_name[out.operands[0]]
                    while src.opcode == "bitcast" and src.operands:
                        src = fused.by_name[src.operands[0]]
                    if src.opcode == "parameter":
                        pairs.append((src.parameter_number, index))
    return pairs


def with_xla_figures(analysis: MemoryAnalysis, *, temp_bytes: int, peak_index: int | None = None,
                     peak_bytes: int | None = None) -> MemoryAnalysis:
    """`analysis` with XLA's own figures from a dump: its temp size replaces irscope's estimate
    (provenance `xla`), and its live-range peak is kept beside irscope's for comparison."""
    from dataclasses import replace

    xla = {**(analysis.xla or {}), "temp_bytes": temp_bytes, "peak_index": peak_index, "peak_bytes": peak_bytes}
    return replace(analysis, temp_bytes=temp_bytes, xla=xla,
                   provenance={**analysis.provenance, "temp_bytes": "xla"})


COMPILER_FIGURES = ("argument_bytes", "output_bytes", "alias_bytes", "temp_bytes")
_TPU_TEMP_NOTE = ("XLA:TPU's memory_analysis() temp figure is not the sum of the temps in its buffer "
                  "assignment (compiled without the device it is often 0); --xla-dump DIR reads that")


def with_compiler_figures(analysis: MemoryAnalysis, figures: Any, *,
                          platform: str | None = None) -> MemoryAnalysis:
    """`analysis` with the compiler's own argument, output, alias and temp bytes (provenance `xla`):
    `figures` is `Compiled.memory_analysis()` of the compile the module came from, as
    `irscope.frontends.jax_lower.MemoryAnalysis` (anything with `to_json()`) or a mapping with the keys of
    `COMPILER_FIGURES`. irscope's figures it replaces are kept in `xla["irscope"]` for comparison; the
    peak stays irscope's. None leaves `analysis` as it is."""
    from dataclasses import replace

    if figures is None:
        return analysis
    if hasattr(figures, "to_json"):
        figures = figures.to_json()
    changes = {key: int(figures[key]) for key in COMPILER_FIGURES if figures.get(key) is not None}
    ours = {key: getattr(analysis, key) for key in changes}
    note = analysis.note
    if platform == "tpu" and "temp_bytes" in changes:
        note = f"{note}; {_TPU_TEMP_NOTE}" if note else _TPU_TEMP_NOTE
    return replace(analysis, **changes, note=note,
                   xla={**(analysis.xla or {}), "memory_analysis": changes, "irscope": ours},
                   provenance={**analysis.provenance, **dict.fromkeys(changes, "xla")})
