"""Bytes, FLOPs and transcendentals per instruction and per kernel, the way XLA counts them.

`instruction_cost` and `module_cost` follow XLA's `HloCostAnalysis` (xla/service/hlo_cost_analysis.cc)
with XLA:CPU's shape-size function, so that for a module XLA compiled, `module_cost(m).totals` equals
`jax.stages.Compiled.cost_analysis()` ('flops', 'transcendentals', 'bytes accessed'). The conventions
that matter, in one place:

- Bytes of a shape: an array's bytes (sub-byte types packed only with an `E(n)` layout); a tuple is its
  pointer table, 8 bytes per element; a dynamic shape adds 4 bytes of size metadata per dimension.
- By default an instruction reads all its operands (a tuple operand: its pointer table) and writes every
  array of its result; parameters, constants, get-tuple-element, bitcast (and transposes that are
  bitcasts) cost nothing; a tuple writes its table; slices, dynamic slices, gathers and scatters move
  only the part they touch.
- Element-wise ops are one FLOP per output element, or one transcendental for exp, log, tanh, ...;
  a dot is 2 FLOPs per multiply-add; a convolution counts only the window positions that land in the
  input; reduce-like ops run their reducer once per combine; sort is n*ceil(log2 n); RNG is one
  transcendental per element.
- A fusion is one kernel: its FLOPs are its instructions' FLOPs, its bytes are what it reads from its
  operands (a parameter read by several element-wise users is read once, through a slice only the
  slice) plus what it writes; big constants inside it are read too.
- A while loop counts its body and condition once, a conditional its most expensive branch, a call
  its callee; a custom call counts -1 FLOPs and -1 bytes ("unknown").

Floats: XLA keeps every figure and every running sum in float32. irscope's XLA-convention figures
(`totals`, `per_instruction`, `instruction_cost`) do the same, in XLA's visiting order, so they match
bit for bit even past 2**24 (a 2.5 GFLOP SSD-MobileNet agrees exactly); its own estimates are float64.

Beside XLA's figures, `module_cost` gives irscope's own, labelled `estimated` (see DESIGN.md):
loops multiplied by their trip count when it is known (the `known_trip_count` XLA writes into a
while's backend_config, or a counter compared with a constant), custom calls costed from their shapes
(operands read once, results written once, no FLOPs), and the unfused traffic: every instruction
inside every fusion run as its own kernel (a fusion that only wraps one op counts as itself). Under
XLA's conventions a gather or scatter inside a multi-op fusion reads its whole operand but alone only
the part it touches, so for such modules the unfused traffic can come out below the fused.

Not handled yet: the new `scan` opcode (costed by XLA's default rule until XLA gives it one), the
GPU cost model's extra conventions (`GpuHloCostAnalysis` refines fusion reads and collectives), XLA's
per-operand keys ('bytes accessed0{}', 'utilization0{}'; only totals and per-instruction reads and
writes are kept), and trip counts of loops whose counter is not a scalar integer stepped by a constant.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from irscope.ir.attrs import backend_config, conv_dim_labels, int_list, window
from irscope.ir.hlo import POINTER_BYTES, Computation, Instruction, Module, Shape
from irscope.ir.opcodes import CONTROL_FLOW as CONTROL_FLOW
from irscope.ir.opcodes import ELEMENTWISE_FLOP as ELEMENTWISE_FLOP
from irscope.ir.opcodes import TRANSCENDENTAL as TRANSCENDENTAL
from irscope.ir.opcodes import ZERO_COST as FREE

# Provenance labels (DESIGN.md): figures that follow XLA's HloCostAnalysis, and irscope's own models.
XLA = "xla"
ESTIMATED = "estimated"

# FLOPs per fused multiply-add (HloCostAnalysis::kFmaFlops).
FMA_FLOPS = 2

# A fusion reads its constants from memory when they have more elements than this (XLA:CPU's
# HloCostAnalysis::immediate_constant_max_elements(): smaller ones are immediates in the code).
IMMEDIATE_CONSTANT_MAX_ELEMENTS = 1

# XLA:CPU stores a dynamic dimension's size as an s32 beside the array.
DYNAMIC_SIZE_BYTES = 4


@dataclass(frozen=True, slots=True)
class Cost:
    """What one instruction, kernel or program costs. Supports `+` and scaling by an int."""

    flops: float = 0.0
    """Floating-point (and integer) operations, an FMA counting two."""
    transcendentals: float = 0.0
    """exp, log, tanh, sqrt, ... and random numbers, counted apart from FLOPs."""
    bytes_read: float = 0.0
    """Bytes read from memory (operands, large constants of a fusion)."""
    bytes_written: float = 0.0
    """Bytes written to memory (the result, or the part of it that is written)."""

    @property
    def bytes_accessed(self) -> float:
        """Bytes read plus bytes written: XLA's 'bytes accessed'."""
        return self.bytes_read + self.bytes_written

    @property
    def arithmetic_intensity(self) -> float:
        """FLOPs per byte accessed (inf for a kernel that moves nothing but computes, 0 for neither)."""
        if self.bytes_accessed:
            return self.flops / self.bytes_accessed
        return math.inf if self.flops else 0.0

    def __add__(self, other: Cost) -> Cost:
        return Cost(
            self.flops + other.flops,
            self.transcendentals + other.transcendentals,
            self.bytes_read + other.bytes_read,
            self.bytes_written + other.bytes_written,
        )

    def __mul__(self, times: int) -> Cost:
        return Cost(
            self.flops * times,
            self.transcendentals * times,
            self.bytes_read * times,
            self.bytes_written * times,
        )

    __rmul__ = __mul__

    def to_json(self) -> dict[str, float]:
        return {
            "flops": self.flops,
            "transcendentals": self.transcendentals,
            "bytes_read": self.bytes_read,
            "bytes_written": self.bytes_written,
            "bytes_accessed": self.bytes_accessed,
        }


ZERO = Cost()


def total(costs: Iterable[Cost]) -> Cost:
    """The sum of some costs (ZERO for none)."""
    result = ZERO
    for cost in costs:
        result = result + cost
    return result


@dataclass(frozen=True, slots=True, eq=False)
class ModuleCost:
    """Costs of a whole module: XLA's figures and irscope's own, each with its provenance."""

    totals: Cost
    """The module's cost as XLA counts it: equals `Compiled.cost_analysis()` (provenance `xla`)."""
    per_instruction: Mapping[tuple[str, str], Cost]
    """(computation, instruction) -> XLA's cost, for every instruction of the entry and of the
    computations control flow runs (loop bodies and conditions, branches, calls), in text order. A
    while, conditional or call includes its callees, so sum one computation's entries, not all."""
    totals_with_trip_counts: Cost
    """irscope's estimate (`estimated`): as `totals`, but each loop with a known trip count n runs its
    body n times and its condition n + 1 times (nested loops multiply), and custom calls are costed
    from their shapes. Loops with unknown counts still count once."""
    trip_counts: Mapping[str, int | None]
    """Each while loop's trip count, by instruction name; None where irscope cannot tell."""
    custom_calls: Mapping[tuple[str, str], Cost]
    """(computation, instruction) -> a custom call costed from its shapes (`estimated`): operands read
    once, results written once, FLOPs unknown (0). XLA counts each as -1 FLOPs and -1 bytes."""
    unfused_bytes_accessed: float
    """Bytes accessed if every instruction inside every fusion ran as its own kernel (`estimated`),
    with XLA's per-instruction conventions (loops once, as in `totals`)."""
    provenance: Mapping[str, str] = field(default_factory=dict)
    """Field name -> `xla` or `estimated`."""

    @property
    def fusion_saved_fraction(self) -> float:
        """The share of the unfused memory traffic that fusion removed: 1 - fused / unfused bytes."""
        if self.unfused_bytes_accessed <= 0:
            return 0.0
        return 1.0 - self.totals.bytes_accessed / self.unfused_bytes_accessed

    def summary(self) -> str:
        """One line: 'fusion saved X% of memory traffic (A -> B bytes)'."""
        return (
            f"fusion saved {100 * self.fusion_saved_fraction:.1f}% of memory traffic "
            f"({self.unfused_bytes_accessed:,.0f} -> {self.totals.bytes_accessed:,.0f} bytes)"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "totals": self.totals.to_json(),
            "totals_with_trip_counts": self.totals_with_trip_counts.to_json(),
            "unfused_bytes_accessed": self.unfused_bytes_accessed,
            "fusion_saved_fraction": self.fusion_saved_fraction,
            "trip_counts": dict(self.trip_counts),
            "instructions": [
                {"computation": comp, "name": name, **cost.to_json()}
                for (comp, name), cost in self.per_instruction.items()
            ],
            "custom_calls": [
                {"computation": comp, "name": name, **cost.to_json()}
                for (comp, name), cost in self.custom_calls.items()
            ],
            "provenance": dict(self.provenance),
        }


# ----------------------------------------------------------------------------------------------
# Shapes


def shape_bytes(shape: Shape) -> int:
    """Bytes of a shape as XLA:CPU's cost analysis sizes it (`CpuExecutable::ShapeSizeBytes`)."""
    if shape.is_tuple:
        return POINTER_BYTES * len(shape.tuple_shapes)
    if shape.dtype == "opaque":
        return POINTER_BYTES
    size = shape.byte_size
    if shape.dynamic and any(shape.dynamic):
        size += DYNAMIC_SIZE_BYTES * shape.rank
    return size


def _first_array(shape: Shape) -> Shape:
    """The shape itself, or its first element when it is a tuple (variadic reduce, sort, ...)."""
    return shape.tuple_shapes[0] if shape.is_tuple else shape


def _subshapes(shape: Shape, index: tuple[int, ...] = ()) -> Iterator[tuple[tuple[int, ...], Shape]]:
    """Every sub-shape with its index, pre-order, the shape itself first (ShapeUtil::ForEachSubshape)."""
    yield index, shape
    if shape.is_tuple:
        for i, sub in enumerate(shape.tuple_shapes):
            yield from _subshapes(sub, (*index, i))


def _minor_to_major(shape: Shape) -> tuple[int, ...]:
    return shape.layout if shape.layout is not None else tuple(range(shape.rank - 1, -1, -1))


def transpose_is_bitcast(operand: Shape, result: Shape, dimensions: tuple[int, ...]) -> bool:
    """Whether a transpose only relabels dimensions in memory (ShapeUtil::TransposeIsBitcast)."""
    if operand.dtype != result.dtype:
        return False
    out_order = _minor_to_major(result)
    return tuple(dimensions[d] for d in out_order) == _minor_to_major(operand)


def _name(ref: str) -> str:
    return ref.strip().lstrip("%")


# ----------------------------------------------------------------------------------------------
# XLA's per-opcode rules


def leaf_bytes(shape: Shape) -> int:
    """Bytes of every non-tuple leaf of a shape, summed (a tuple's elements, not its pointer table)."""
    return sum(shape_bytes(sub) for _, sub in _subshapes(shape) if not sub.is_tuple)


def _default_cost(operands: list[Shape], result: Shape) -> Cost:
    """Preprocess's default: every operand read in full (a tuple operand: its pointer table), every
    array of the result written in full."""
    return Cost(bytes_read=sum(shape_bytes(s) for s in operands), bytes_written=leaf_bytes(result))


def _log2_floor(n: int) -> int:
    return n.bit_length() - 1 if n > 0 else -1


def _log2_ceiling(n: int) -> int:
    return (n - 1).bit_length() if n > 0 else -1


def convolution_flops(inst: Instruction, lhs: Shape, rhs: Shape) -> int:
    """FLOPs of a convolution, counting only kernel taps that land on the (undilated) input, as
    HloCostAnalysis::GetConvolutionFlops does."""
    result = inst.shape
    dnums = conv_dim_labels(inst.attrs["dim_labels"])
    dims = window(inst.attrs["window"]) if "window" in inst.attrs else ()
    if dims:
        kernel = [rhs.dims[d] for d in dnums.kernel_spatial]
        output = [result.dims[d] for d in dnums.output_spatial]
        inputs = [lhs.dims[d] for d in dnums.input_spatial]
    else:
        dims = window("{size=1}")
        kernel, output, inputs = [1], [1], [1]
    positions = 1
    for k, wd in enumerate(dims):
        k_lim, o_lim, i_lim = kernel[k], output[k], inputs[k]
        # Two layouts XLA recognises as a dense N-valid-of-N^2 pattern, for speed; same count.
        if (i_lim == o_lim and k_lim == o_lim and i_lim == wd.base_dilation and wd.window_dilation == 1
                and max(1, i_lim - 1) == wd.stride and wd.padding_low == 0 and wd.padding_high == 0):
            positions *= i_lim
            continue
        if (i_lim == 1 and k_lim == o_lim and wd.window_dilation == 1 and wd.base_dilation == 1
                and wd.stride == 1 and wd.padding_high == o_lim - 1 and wd.padding_low == o_lim - 1):
            positions *= o_lim
            continue
        valid = 0
        for tap in range(k_lim):
            if wd.stride == 1 and wd.base_dilation == 1:
                base = wd.padding_low - tap * wd.window_dilation
                valid += max(min(i_lim + base, o_lim) - max(base, 0), 0)
                continue
            for out in range(o_lim):
                undilated = out * wd.stride - wd.padding_low + tap * wd.window_dilation
                # C++ integer division truncates toward zero.
                index = int(undilated / wd.base_dilation) if wd.base_dilation > 1 else undilated
                if undilated != index * wd.base_dilation:
                    continue
                if 0 <= index < i_lim:
                    valid += 1
        positions *= valid
    feature_groups = int(inst.attrs.get("feature_group_count", "1"))
    batch_groups = int(inst.attrs.get("batch_group_count", "1"))
    input_feature = lhs.dims[dnums.input_feature]
    output_feature = result.dims[dnums.output_feature]
    batch = lhs.dims[dnums.input_batch]
    fmas = (input_feature // feature_groups) * output_feature * (batch // batch_groups) * positions
    return fmas * FMA_FLOPS


def _reduce_window_count(inst: Instruction, operand: Shape) -> int:
    """How many times a reduce-window applies its reducer (HandleReduceWindow's reduction_count)."""
    dims = window(inst.attrs["window"]) if "window" in inst.attrs else ()
    window_elements = math.prod(d.size for d in dims)
    out = _first_array(inst.shape)
    count = (window_elements - 1) * out.elements
    # XLA spots a reduce-window that is a reduce along one dimension broadcast back (a cumsum-like
    # "all-to-all" window) and counts it as one reduction plus the broadcast.
    reducing = [d for d in dims if d.size != 1]
    padded = [d for d in dims if d.padding_low != 0 or d.padding_high != 0]
    if len(reducing) == 1 and len(padded) == 1 and not inst.shape.is_tuple:
        for k, d in enumerate(dims):
            if (d.size != 1 and d.padding_low != 0 and d.padding_high != 0
                    and d.padding_low == d.padding_high and d.size == 2 * d.padding_low + 1):
                if d.padding_low == inst.shape.dims[k] - 1:
                    width = inst.shape.dims[k]
                    count = out.elements // width + (width - 1)
                break
    return count


def _branch_max(branches: list[Cost]) -> Cost:
    """Per-property maximum over a conditional's branches, as HandleConditional takes it (starting
    from the first branch, and skipping zero-valued properties of the others)."""
    first = branches[0]
    flops, trans = first.flops, first.transcendentals
    accessed, written = first.bytes_accessed, first.bytes_written
    for b in branches[1:]:
        if b.flops:
            flops = max(flops, b.flops)
        if b.transcendentals:
            trans = max(trans, b.transcendentals)
        if b.bytes_accessed:
            accessed = max(accessed, b.bytes_accessed)
        if b.bytes_written:
            written = max(written, b.bytes_written)
    return Cost(flops, trans, accessed - written, written)


def _f32(x: float) -> float:
    return float(np.float32(x))


def _f32_cost(cost: Cost) -> Cost:
    """A cost as XLA stores it: each property a float32 (read = accessed - written)."""
    accessed, written = _f32(cost.bytes_accessed), _f32(cost.bytes_written)
    return Cost(_f32(cost.flops), _f32(cost.transcendentals), accessed - written, written)


def _f32_total(costs: Iterable[Cost]) -> Cost:
    """A sum with every partial sum rounded to float32, as HloCostAnalysis accumulates."""
    flops = trans = accessed = written = 0.0
    for c in costs:
        flops = _f32(flops + c.flops)
        trans = _f32(trans + c.transcendentals)
        accessed = _f32(accessed + c.bytes_accessed)
        written = _f32(written + c.bytes_written)
    return Cost(flops, trans, accessed - written, written)


def xla_visit_order(comp: Computation) -> list[Instruction]:
    """The order XLA's visitor walks a computation: a depth-first post-order, operands left to right,
    from each instruction nothing uses (in text order) and then from the root. Only the rounding of
    float32 sums depends on it."""
    used = {name for inst in comp.instructions for name in inst.operands}
    starts = [i for i in comp.instructions if i.name not in used and i.name != comp.root_name]
    order: list[Instruction] = []
    done: set[str] = set()
    for start in [*starts, comp.root]:
        stack: list[tuple[Instruction, bool]] = [(start, False)]
        while stack:
            inst, expanded = stack.pop()
            if inst.name in done:
                continue
            if expanded:
                done.add(inst.name)
                order.append(inst)
                continue
            stack.append((inst, True))
            for name in reversed(inst.operands):
                if name not in done:
                    stack.append((comp.by_name[name], False))
    return order


def _kernel_ops(fused: Computation) -> list[Instruction]:
    """The instructions of a fused computation that do work (not parameters, constants, bitcasts,
    get-tuple-element or tuple). A fusion of one such op just wraps it: unfusing changes nothing."""
    return [i for i in fused.instructions if i.opcode not in FREE and i.opcode != "tuple"]


class _Analysis:
    """One walk over a module under one set of conventions, memoised per computation.

    trip_counts: loops run their known trip count; custom calls are costed from their shapes.
    unfused: every instruction inside a fusion counts as its own kernel.
    float32: round each instruction's figures and each running sum to float32, visiting instructions
        in XLA's order, as HloCostAnalysis does (its Properties are floats); exact parity above 2**24.
    """

    def __init__(self, module: Module, *, trip_counts: bool = False, unfused: bool = False,
                 float32: bool = False):
        self.module = module
        self.trip_counts = trip_counts
        self.unfused = unfused
        self.float32 = float32
        self._totals: dict[str, Cost] = {}
        self._users: dict[str, Mapping[str, tuple[Instruction, ...]]] = {}

    # -- computations ---------------------------------------------------------------------------
    def computation(self, name: str) -> Computation:
        return self.module.computations[_name(name)]

    def computation_total(self, name: str) -> Cost:
        """The sum over every instruction of a computation (HloCostAnalysis::ProcessSubcomputation)."""
        name = _name(name)
        cached = self._totals.get(name)
        if cached is None:
            comp = self.computation(name)
            if self.float32:
                cached = _f32_total(self.instruction(comp, inst) for inst in xla_visit_order(comp))
            else:
                cached = total(self.instruction(comp, inst) for inst in comp.instructions)
            self._totals[name] = cached
        return cached

    def users(self, comp: Computation, inst: Instruction) -> list[Instruction]:
        """Distinct users of an instruction, in text order (XLA's users() lists each once)."""
        table = self._users.get(comp.name)
        if table is None:
            users: dict[str, list[Instruction]] = {}
            for user in comp.instructions:
                for operand in dict.fromkeys(user.operands):
                    users.setdefault(operand, []).append(user)
            table = {name: tuple(found) for name, found in users.items()}
            self._users[comp.name] = table
        return list(table.get(inst.name, ()))

    # -- instructions ---------------------------------------------------------------------------
    def instruction(self, comp: Computation, inst: Instruction) -> Cost:
        """One instruction's cost under this analysis' conventions."""
        op = inst.opcode
        if op in FREE:
            return ZERO
        operands = [s.shape for s in comp.operands_of(inst)]
        if op in TRANSCENDENTAL:
            cost = _default_cost(operands, inst.shape) + Cost(transcendentals=inst.shape.elements)
        elif op in ELEMENTWISE_FLOP:
            cost = _default_cost(operands, inst.shape) + Cost(flops=inst.shape.elements)
        elif op in _HANDLERS:
            cost = _HANDLERS[op](self, comp, inst, operands)
        else:  # every other opcode: XLA's default, operands read and result written, no FLOPs
            cost = _default_cost(operands, inst.shape)
        return _f32_cost(cost) if self.float32 else cost

    def reducer_flops(self, inst: Instruction, times: float, computation: str | None = None) -> Cost:
        """A called scalar computation's FLOPs and transcendentals, times `times` (bytes are not
        copied from sub-computations: KeyToCopyFromSubcomputation)."""
        callee = self.computation_total(computation or inst.called[0])
        if self.float32:
            times = _f32(times)  # XLA multiplies a float by the count converted to float
        return Cost(flops=callee.flops * times, transcendentals=callee.transcendentals * times)

    # -- fusion -----------------------------------------------------------------------------------
    def fusion(self, comp: Computation, inst: Instruction, operands: list[Shape]) -> Cost:
        fused = self.computation(inst.called[0])
        if self.unfused and len(_kernel_ops(fused)) > 1:
            return self.computation_total(fused.name)
        if inst.attrs.get("kind") == "kCustom":
            # XLA costs a custom fusion around a gather or scatter as that gather or scatter.
            for inner in fused.instructions:
                if inner.opcode in ("gather", "scatter"):
                    inner_operands = [s.shape for s in fused.operands_of(inner)]
                    return _HANDLERS[inner.opcode](self, fused, inner, inner_operands)
        inner_total = self.computation_total(fused.name)
        written = self.fusion_output_bytes(fused, inst.shape)
        read = 0
        for constant in fused.instructions:
            if constant.opcode == "constant" and constant.shape.elements > IMMEDIATE_CONSTANT_MAX_ELEMENTS:
                read += shape_bytes(constant.shape)
        for param in fused.parameters:
            read += self.fusion_operand_read_bytes(fused, param)
        return Cost(inner_total.flops, inner_total.transcendentals, read, written)

    def fusion_output_bytes(self, fused: Computation, shape: Shape) -> int:
        """What a fusion writes: each array of its result, or only the update of a dynamic-update-slice
        that produces it in place (FusionProcessOutputBytesAccessed)."""
        written = 0
        root = fused.root
        for index, sub in _subshapes(shape):
            if not sub.is_array:
                continue
            producer = root
            if len(index) == 1 and root.opcode == "tuple":
                producer = fused.by_name[root.operands[index[0]]]
            if producer.opcode == "dynamic-update-slice":
                written += shape_bytes(fused.by_name[producer.operands[1]].shape)
            else:
                written += shape_bytes(sub)
        return written

    def fusion_operand_read_bytes(self, fused: Computation, param: Instruction) -> int:
        """What a fusion reads through one parameter (FusionProcessOperandBytesRead): for a tuple
        parameter, through the get-tuple-element that extracts each leaf."""
        if not param.shape.is_tuple:
            return self.parameter_read_bytes(fused, param)
        size = 0
        for index, _leaf in param.shape.leaves():
            node = param
            for i in index:
                for user in self.users(fused, node):
                    if user.opcode == "get-tuple-element" and int(user.attrs.get("index", "-1")) == i:
                        node = user
                        break
            size += self.parameter_read_bytes(fused, node)
        return size

    def parameter_read_bytes(self, fused: Computation, hlo: Instruction) -> int:
        """Bytes a fusion reads through one parameter, by the kind of its users
        (HloCostAnalysis::FusionParameterReadBytes): users that read element by element share one
        read; a slice reads its slice; a broadcast or reshape counts a read of its own."""
        size = 0
        seen_trivial = False

        def trivial(nbytes: int) -> int:
            nonlocal seen_trivial
            if seen_trivial:
                return 0
            seen_trivial = True
            return nbytes

        for user in self.users(fused, hlo):
            op = user.opcode
            if op == "fusion":
                size += self._nested_fusion_read_bytes(fused, hlo, user)
            elif op == "slice":
                size += shape_bytes(user.shape)
            elif op == "dynamic-slice":
                if user.operands[0] == hlo.name:
                    size += shape_bytes(user.shape)
                else:
                    size += trivial(shape_bytes(hlo.shape))
            elif op == "dynamic-update-slice":
                if user.operands[0] != hlo.name:  # operand 0 is updated in place, not read
                    size += trivial(shape_bytes(hlo.shape))
            elif op in ("broadcast", "reshape"):
                size += shape_bytes(hlo.shape)
            else:
                size += trivial(shape_bytes(hlo.shape))
        return size

    def _nested_fusion_read_bytes(self, fused: Computation, hlo: Instruction, user: Instruction) -> int:
        # A fusion inside a fusion (XLA's "simple" case: the parameter is the nested root's first
        # operand) is judged by what the nested fusion's users do with its result.
        nested = self.computation(user.called[0])
        nested_params = nested.parameters
        nested_root = nested.root
        size = 0
        for idx, operand in enumerate(user.operands):
            if operand != hlo.name:
                continue
            param = nested_params[idx]
            simple = not nested_root.operands or nested_root.operands[0] == param.name
            seen = False
            for fusion_user in self.users(fused, user):
                op = fusion_user.opcode
                if simple and op == "slice":
                    size += shape_bytes(fusion_user.shape)
                elif simple and op == "dynamic-slice":
                    if fusion_user.operands[0] == user.name:
                        size += shape_bytes(fusion_user.shape)
                    elif not seen:
                        seen = True
                        size += shape_bytes(user.shape)
                elif simple and op == "dynamic-update-slice":
                    if fusion_user.operands[0] != user.name and not seen:
                        seen = True
                        size += shape_bytes(user.shape)
                elif not seen:
                    seen = True
                    size += self.parameter_read_bytes(nested, param)
        return size

    # -- control flow -----------------------------------------------------------------------------
    def while_loop(self, comp: Computation, inst: Instruction, operands: list[Shape]) -> Cost:
        body, condition = while_computations(inst)
        body_cost = self.computation_total(body)
        condition_cost = self.computation_total(condition)
        if self.trip_counts:
            n = trip_count(self.module, comp, inst)
            if n is not None:
                return body_cost * n + condition_cost * (n + 1)
        return body_cost + condition_cost

    def custom_call(self, comp: Computation, inst: Instruction, operands: list[Shape]) -> Cost:
        if self.trip_counts:
            return custom_call_shape_cost(inst, operands)
        # XLA does not know what a custom call does and records -1 ("unknown") FLOPs and bytes.
        return Cost(flops=-1.0, bytes_written=-1.0)


def while_computations(inst: Instruction) -> tuple[str, str]:
    """A while's (body, condition) computation names."""
    body = inst.attrs.get("body")
    condition = inst.attrs.get("condition")
    if body is not None and condition is not None:
        return _name(body), _name(condition)
    return inst.called[0], inst.called[1]


def custom_call_shape_cost(inst: Instruction, operands: list[Shape]) -> Cost:
    """irscope's estimate of a custom call: every operand array read once, every result array written
    once, FLOPs unknown (0)."""
    read = sum(shape_bytes(leaf) for s in operands for _, leaf in s.leaves())
    written = sum(shape_bytes(leaf) for _, leaf in inst.shape.leaves())
    return Cost(flops=_library_gemm_flops(inst, operands), bytes_read=read, bytes_written=written)


def _library_gemm_flops(inst: Instruction, operands: list[Shape]) -> float:
    """FLOPs of a GEMM library call (cuBLAS/cuBLASLt/hipBLAS custom calls carry their dot dimension
    numbers in `gemm_backend_config`): 2 * output elements * contracted size; 0 for anything else."""
    config = inst.attrs.get("backend_config")
    if not config or "gemm_backend_config" not in config or not operands:
        return 0.0
    decoded = backend_config(config)
    dims = (decoded or {}).get("gemm_backend_config", {}).get("dot_dimension_numbers")
    if not isinstance(dims, dict):
        return 0.0
    lhs = operands[0]
    width = math.prod(lhs.dims[int(d)] for d in dims.get("lhs_contracting_dimensions", []))
    result = next((leaf for _, leaf in inst.shape.leaves()), None)  # the matrix; a workspace may follow
    return float(FMA_FLOPS * (result.elements if result is not None else 0) * width)


# -- the per-opcode handlers, each (analysis, computation, instruction, operand shapes) -> Cost ----


def _dot(a: _Analysis, comp: Computation, inst: Instruction, ops: list[Shape]) -> Cost:
    contracting = int_list(inst.attrs.get("lhs_contracting_dims", "{}"))
    width = math.prod(ops[0].dims[d] for d in contracting)
    return _default_cost(ops, inst.shape) + Cost(flops=FMA_FLOPS * inst.shape.elements * width)


def _ragged_dot(a: _Analysis, comp: Computation, inst: Instruction, ops: list[Shape]) -> Cost:
    contracting = int_list(inst.attrs.get("lhs_contracting_dims", "{}"))
    width = math.prod(ops[0].dims[d] for d in contracting)
    dims = list(inst.shape.dims)
    # XLA deletes result dimension i for each i < the number of rhs group dimensions, one after the
    # other (so the indices shift): it undercounts, and irscope follows.
    for i in range(len(int_list(inst.attrs.get("rhs_group_dims", "{}")))):
        del dims[i]
    return _default_cost(ops, inst.shape) + Cost(flops=FMA_FLOPS * math.prod(dims) * width)


def _convolution(a: _Analysis, comp: Computation, inst: Instruction, ops: list[Shape]) -> Cost:
    return _default_cost(ops, inst.shape) + Cost(flops=convolution_flops(inst, ops[0], ops[1]))


def _fft(a: _Analysis, comp: Computation, inst: Instruction, ops: list[Shape]) -> Cost:
    log_factors = 1
    for length in int_list(inst.attrs.get("fft_length", "{}")):
        log_factors *= _log2_floor(length)
    complex_mul_fmas = 4
    flops = FMA_FLOPS * complex_mul_fmas * log_factors * _first_array(ops[0]).elements
    return _default_cost(ops, inst.shape) + Cost(flops=flops)


def _sort(a: _Analysis, comp: Computation, inst: Instruction, ops: list[Shape]) -> Cost:
    n = ops[0].elements
    return _default_cost(ops, inst.shape) + Cost(flops=n * _log2_ceiling(n))


def _reduce(a: _Analysis, comp: Computation, inst: Instruction, ops: list[Shape]) -> Cost:
    combines = ops[0].elements - _first_array(inst.shape).elements
    return _default_cost(ops, inst.shape) + a.reducer_flops(inst, combines)


def _reduce_window(a: _Analysis, comp: Computation, inst: Instruction, ops: list[Shape]) -> Cost:
    return _default_cost(ops, inst.shape) + a.reducer_flops(inst, _reduce_window_count(inst, ops[0]))


def _select_and_scatter(a: _Analysis, comp: Computation, inst: Instruction, ops: list[Shape]) -> Cost:
    select = _name(inst.attrs.get("select", inst.called[0]))
    scatter = _name(inst.attrs.get("scatter", inst.called[1]))
    source = ops[1].elements
    window_elements = math.prod(d.size for d in window(inst.attrs.get("window", "{}")))
    return (_default_cost(ops, inst.shape)
            + a.reducer_flops(inst, source * (window_elements - 1), select)
            + a.reducer_flops(inst, source, scatter))


def _map(a: _Analysis, comp: Computation, inst: Instruction, ops: list[Shape]) -> Cost:
    return _default_cost(ops, inst.shape) + a.reducer_flops(inst, inst.shape.elements)


def _slice(a: _Analysis, comp: Computation, inst: Instruction, ops: list[Shape]) -> Cost:
    out = shape_bytes(inst.shape)
    return Cost(bytes_read=out, bytes_written=out)


def _dynamic_slice(a: _Analysis, comp: Computation, inst: Instruction, ops: list[Shape]) -> Cost:
    # XLA counts the first start index only (a leftover of the days of one index vector).
    out = shape_bytes(inst.shape)
    return Cost(bytes_read=out + shape_bytes(ops[1]), bytes_written=out)


def _dynamic_update_slice(a: _Analysis, comp: Computation, inst: Instruction, ops: list[Shape]) -> Cost:
    # Operand 0 is updated in place: only the update is read and written.
    update = shape_bytes(ops[1])
    return Cost(bytes_read=update + shape_bytes(ops[2]), bytes_written=update)


def _gather(a: _Analysis, comp: Computation, inst: Instruction, ops: list[Shape]) -> Cost:
    out = shape_bytes(inst.shape)
    return Cost(bytes_read=out + shape_bytes(ops[1]), bytes_written=out)


def _scatter(a: _Analysis, comp: Computation, inst: Instruction, ops: list[Shape]) -> Cost:
    n = (len(ops) - 1) // 2
    updates = ops[n + 1:]
    update_bytes = sum(shape_bytes(u) for u in updates)
    # Reads the updated part of the operand and the updates, writes the updated part.
    read = 2 * update_bytes + shape_bytes(ops[n])
    return Cost(bytes_read=read, bytes_written=update_bytes) + a.reducer_flops(inst, updates[0].elements)


def _tuple(a: _Analysis, comp: Computation, inst: Instruction, ops: list[Shape]) -> Cost:
    return Cost(bytes_written=shape_bytes(inst.shape))


def _transpose(a: _Analysis, comp: Computation, inst: Instruction, ops: list[Shape]) -> Cost:
    if transpose_is_bitcast(ops[0], inst.shape, int_list(inst.attrs.get("dimensions", "{}"))):
        return ZERO
    return _default_cost(ops, inst.shape)


def _rng(a: _Analysis, comp: Computation, inst: Instruction, ops: list[Shape]) -> Cost:
    return _default_cost(ops, inst.shape) + Cost(transcendentals=inst.shape.elements)


def _rng_bit_generator(a: _Analysis, comp: Computation, inst: Instruction, ops: list[Shape]) -> Cost:
    elements = sum(leaf.elements for _, leaf in inst.shape.leaves())
    return _default_cost(ops, inst.shape) + Cost(transcendentals=elements)


def _all_reduce(a: _Analysis, comp: Computation, inst: Instruction, ops: list[Shape]) -> Cost:
    # XLA assumes two participants: one add per output element.
    arrays = [s for _, s in _subshapes(inst.shape) if s.is_array]
    return Cost(
        flops=sum(s.elements for s in arrays),
        bytes_read=sum(shape_bytes(s) for s in ops),
        bytes_written=sum(shape_bytes(s) for s in arrays),
    )


def _triangular_solve(a: _Analysis, comp: Computation, inst: Instruction, ops: list[Shape]) -> Cost:
    # Half of the triangular matrix is read; batch * m * n^2 / 2 FMAs.
    read = shape_bytes(ops[0]) / 2.0 + shape_bytes(ops[1])
    flops = FMA_FLOPS * ops[0].dims[-1] * ops[1].elements
    return Cost(flops=flops, bytes_read=read, bytes_written=shape_bytes(inst.shape))


def _cholesky(a: _Analysis, comp: Computation, inst: Instruction, ops: list[Shape]) -> Cost:
    # Half of the matrix is read and half written; batch * n^3 / 3 FLOPs.
    half = shape_bytes(ops[0]) / 2.0
    return Cost(flops=(ops[0].dims[-1] * ops[0].elements) // 3, bytes_read=half, bytes_written=half)


def _infeed(a: _Analysis, comp: Computation, inst: Instruction, ops: list[Shape]) -> Cost:
    return Cost(bytes_written=sum(shape_bytes(leaf) for _, leaf in inst.shape.leaves()))


def _outfeed(a: _Analysis, comp: Computation, inst: Instruction, ops: list[Shape]) -> Cost:
    return Cost(bytes_read=sum(shape_bytes(leaf) for s in ops for _, leaf in s.leaves()))


def _fusion(a: _Analysis, comp: Computation, inst: Instruction, ops: list[Shape]) -> Cost:
    return a.fusion(comp, inst, ops)


def _while(a: _Analysis, comp: Computation, inst: Instruction, ops: list[Shape]) -> Cost:
    return a.while_loop(comp, inst, ops)


def _conditional(a: _Analysis, comp: Computation, inst: Instruction, ops: list[Shape]) -> Cost:
    return _branch_max([a.computation_total(name) for name in inst.called])


def _call(a: _Analysis, comp: Computation, inst: Instruction, ops: list[Shape]) -> Cost:
    return a.computation_total(inst.called[0])


def _custom_call(a: _Analysis, comp: Computation, inst: Instruction, ops: list[Shape]) -> Cost:
    return a.custom_call(comp, inst, ops)


_Handler = Callable[[_Analysis, Computation, Instruction, list[Shape]], Cost]

_HANDLERS: dict[str, _Handler] = {
    "dot": _dot,
    "ragged-dot": _ragged_dot,
    "scaled-dot": _dot,
    "convolution": _convolution,
    "fft": _fft,
    "sort": _sort,
    "reduce": _reduce,
    "reduce-window": _reduce_window,
    "select-and-scatter": _select_and_scatter,
    "map": _map,
    "slice": _slice,
    "dynamic-slice": _dynamic_slice,
    "dynamic-update-slice": _dynamic_update_slice,
    "gather": _gather,
    "scatter": _scatter,
    "tuple": _tuple,
    "transpose": _transpose,
    "rng": _rng,
    "rng-bit-generator": _rng_bit_generator,
    "all-reduce": _all_reduce,
    "all-reduce-start": _all_reduce,
    "triangular-solve": _triangular_solve,
    "cholesky": _cholesky,
    "infeed": _infeed,
    "outfeed": _outfeed,
    "fusion": _fusion,
    "while": _while,
    "conditional": _conditional,
    "call": _call,
    "async-start": _call,
    "custom-call": _custom_call,
}


# ----------------------------------------------------------------------------------------------
# Trip counts


_COMPARE_TRIPS = {
    "LT": lambda init, bound, step: -(-(bound - init) // step) if step > 0 else None,
    "LE": lambda init, bound, step: -(-(bound + 1 - init) // step) if step > 0 else None,
    "GT": lambda init, bound, step: -(-(init - bound) // -step) if step < 0 else None,
    "GE": lambda init, bound, step: -(-(init - bound + 1) // -step) if step < 0 else None,
    "NE": lambda init, bound, step: ((bound - init) // step
                                     if step and (bound - init) % step == 0 and (bound - init) // step >= 0
                                     else None),
}
_FLIP = {"LT": "GT", "LE": "GE", "GT": "LT", "GE": "LE", "NE": "NE"}


def _int_constant(comp: Computation, name: str) -> int | None:
    """The value of a scalar integer constant (looking through copies and converts), else None."""
    inst = comp.by_name.get(name)
    while inst is not None and inst.opcode in ("copy", "convert", "bitcast") and inst.operands:
        inst = comp.by_name.get(inst.operands[0])
    if inst is None or inst.opcode != "constant" or inst.shape.rank != 0 or inst.literal is None:
        return None
    try:
        return int(inst.literal.strip())
    except ValueError:
        return None


def _through_fusion(module: Module, comp: Computation, inst: Instruction
                    ) -> tuple[Instruction, list[tuple[Computation, str]]]:
    """The op a (one-op) fusion wraps, with its operands as (computation, name) pairs resolved to the
    computation that defines them: a fused parameter becomes the fusion's operand in `comp`."""
    if inst.opcode != "fusion":
        return inst, [(comp, name) for name in inst.operands]
    fused = module.computations[inst.called[0]]
    root = fused.root
    operands: list[tuple[Computation, str]] = []
    for name in root.operands:
        defining = fused.by_name[name]
        if defining.opcode == "parameter":
            operands.append((comp, inst.operands[defining.parameter_number]))
        else:
            operands.append((fused, name))
    return root, operands


def _tuple_index_of(comp: Computation, name: str, param: str) -> int | None:
    """k when `name` is get-tuple-element(param), index=k."""
    inst = comp.by_name.get(name)
    if inst is None or inst.opcode != "get-tuple-element" or inst.operands[0] != param:
        return None
    return int(inst.attrs.get("index", "-1"))


def _loop_pattern(module: Module, while_inst: Instruction) -> tuple[int, str, int, int] | None:
    """(counter tuple index, comparison direction, bound, step) of a counted loop, or None."""
    body_name, cond_name = while_computations(while_inst)
    cond = module.computations[cond_name]
    cond_param = cond.parameters[0].name
    compare, sides = _through_fusion(module, cond, cond.root)
    if compare.opcode != "compare" or len(sides) != 2:
        return None
    lhs, rhs = sides
    direction = compare.attrs.get("direction", "")
    lhs_index, rhs_index = _tuple_index_of(*lhs, cond_param), _tuple_index_of(*rhs, cond_param)
    lhs_const, rhs_const = _int_constant(*lhs), _int_constant(*rhs)
    if lhs_index is not None and rhs_const is not None:
        index, bound = lhs_index, rhs_const
    elif rhs_index is not None and lhs_const is not None:
        index, bound, direction = rhs_index, lhs_const, _FLIP.get(direction, "")
    else:
        return None
    body = module.computations[body_name]
    root = body.root
    if root.opcode != "tuple" or index >= len(root.operands):
        return None
    body_param = body.parameters[0].name
    update, operands = _through_fusion(module, body, body.by_name[root.operands[index]])
    if update.opcode not in ("add", "subtract") or len(operands) != 2:
        return None
    step: int | None = None
    if _tuple_index_of(*operands[0], body_param) == index:
        step = _int_constant(*operands[1])
    elif update.opcode == "add" and _tuple_index_of(*operands[1], body_param) == index:
        step = _int_constant(*operands[0])
    if step is None:
        return None
    return index, direction, bound, -step if update.opcode == "subtract" else step


def trip_count(module: Module, computation: Computation, inst: Instruction) -> int | None:
    """How many times a while loop runs its body, when irscope can tell; else None.

    First XLA's own annotation (`backend_config={"known_trip_count":{"n":"8"}}`), then the pattern XLA
    recognises: a scalar integer counter in the loop tuple, started from a constant, stepped by a
    constant in the body and compared with a constant in the condition."""
    config = backend_config(inst.attrs["backend_config"]) if "backend_config" in inst.attrs else None
    if isinstance(config, dict):
        known = config.get("known_trip_count")
        if isinstance(known, dict) and "n" in known:
            return int(known["n"])
    pattern = _loop_pattern(module, inst)
    if pattern is None or not inst.operands:
        return None
    index, direction, bound, step = pattern
    init_tuple = computation.by_name.get(inst.operands[0])
    if init_tuple is None or init_tuple.opcode != "tuple" or index >= len(init_tuple.operands):
        return None
    init = _int_constant(computation, init_tuple.operands[index])
    rule = _COMPARE_TRIPS.get(direction)
    if init is None or rule is None:
        return None
    n = rule(init, bound, step)
    return max(n, 0) if n is not None else None


# ----------------------------------------------------------------------------------------------
# Public entry points


def _find_computation(module: Module, inst: Instruction) -> Computation:
    for comp in module.computations.values():
        if comp.by_name.get(inst.name) is inst:
            return comp
    raise ValueError(f"instruction {inst.name!r} is not in module {module.name!r}")


def instruction_cost(module: Module, computation: Computation | None, inst: Instruction) -> Cost:
    """One instruction's cost as XLA's HloCostAnalysis counts it: a fusion is the whole kernel, a
    while its body and condition once, a conditional its most expensive branch.

    Arguments:
        module: the module the instruction belongs to (fusions and loops look up their callees).
        computation: the computation holding `inst` (None: look it up).
        inst: the instruction.
    """
    comp = computation if computation is not None else _find_computation(module, inst)
    return _Analysis(module, float32=True).instruction(comp, inst)


def _control_flow_computations(module: Module) -> list[str]:
    """The entry and every computation control flow runs from it, each once, in discovery order."""
    order: list[str] = []
    pending = [module.entry_name]
    while pending:
        name = pending.pop(0)
        if name in order:
            continue
        order.append(name)
        for inst in module.computations[name].instructions:
            if inst.opcode in CONTROL_FLOW:
                pending.extend(_name(c) for c in inst.called)
    return order


def module_cost(module: Module) -> ModuleCost:
    """The cost of a module, per instruction and in total, with irscope's own estimates beside XLA's.

    Returns a frozen `ModuleCost`; `totals` follows XLA (`Compiled.cost_analysis()`), the rest is
    labelled in `provenance`.

    Example:
        >>> cost = module_cost(parse_module(jax.jit(f).lower(x).compile().as_text()))
        >>> cost.totals.flops, cost.summary()
    """
    xla = _Analysis(module, float32=True)
    per_instruction: dict[tuple[str, str], Cost] = {}
    trips: dict[str, int | None] = {}
    custom: dict[tuple[str, str], Cost] = {}
    for name in _control_flow_computations(module):
        comp = module.computations[name]
        for inst in comp.instructions:
            per_instruction[(name, inst.name)] = xla.instruction(comp, inst)
            if inst.opcode == "while":
                trips[inst.name] = trip_count(module, comp, inst)
    for comp in module.computations.values():
        for inst in comp.instructions:
            if inst.opcode == "custom-call":
                custom[(comp.name, inst.name)] = custom_call_shape_cost(
                    inst, [s.shape for s in comp.operands_of(inst)])
    unfused = _Analysis(module, unfused=True).computation_total(module.entry_name)
    return ModuleCost(
        totals=xla.computation_total(module.entry_name),
        per_instruction=per_instruction,
        totals_with_trip_counts=_Analysis(module, trip_counts=True).computation_total(module.entry_name),
        trip_counts=trips,
        custom_calls=custom,
        unfused_bytes_accessed=unfused.bytes_accessed,
        provenance={
            "totals": XLA,
            "per_instruction": XLA,
            "totals_with_trip_counts": ESTIMATED,
            "trip_counts": ESTIMATED,
            "custom_calls": ESTIMATED,
            "unfused_bytes_accessed": ESTIMATED,
            "fusion_saved_fraction": ESTIMATED,
        },
    )
