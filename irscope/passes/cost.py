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
- An async start costs what it wraps (XLA's printed shorthand `all-to-all-start(x)` is an async-start
  wrapping one all-to-all, costed as that all-to-all on the same operands with the wrapped result);
  its updates and done cost the default (they read the start's tuple table and write the result).

Speed: plain instructions are costed once for all three conventions (XLA's, unfused, estimated);
computations are evaluated callees first without recursion, each once; XLA's visiting order and float32
steps are taken only where a sum can round. A 328k-instruction module costs in well under a second.

Floats: XLA keeps every figure and every running sum in float32. irscope's XLA-convention figures
(`totals`, `per_instruction`, `instruction_cost`) do the same, in XLA's visiting order, so they match
bit for bit even past 2**24 (a 2.5 GFLOP SSD-MobileNet agrees exactly); its own estimates are float64.

Beside XLA's figures, `module_cost` gives irscope's own, labelled `estimated` (see DESIGN.md):
loops multiplied by their trip count when it is known (the `known_trip_count` XLA writes into a
while's backend_config, or a counter compared with a constant), custom calls costed from their shapes
(operands read once, results written once, the FLOPs of the cuBLAS GEMM, cuDNN convolution or cuDNN
fused attention they are: `library_call_flops`), and the unfused traffic: every instruction
inside every fusion run as its own kernel (a fusion that only wraps one op counts as itself). Under
XLA's conventions a gather or scatter inside a multi-op fusion reads its whole operand but alone only
the part it touches, so for such modules the unfused traffic can come out below the fused.

XLA:TPU (a module whose layouts carry tiles, `{1,0:T(8,128)}`) counts differently, and its cost
analysis is not open source. Inferred from its `cost_analysis()` (each with its evidence in the
docstring named): arrays count whole tiles, tuple tables 512 bytes, async copies' sync flags 4 KiB
(`tpu_shape_bytes`); a gather reads whole tiles per slice (`_tpu_gather`); a scatter reads and writes
whole tiles per update window (`_tpu_scatter`); `AllocateBuffer` costs nothing (`tpu_allocation`).
Every committed TPU v5e module and the programs compiled live in tests/test_tpu_cost.py agree
exactly. Shapes without tiles (every CPU and GPU module) never reach these rules.

Not handled yet: the new `scan` opcode (costed by XLA's default rule until XLA gives it one), the
GPU cost model's extra conventions (`GpuHloCostAnalysis` refines fusion reads and collectives), XLA's
per-operand keys ('bytes accessed0{}', 'utilization0{}'; only totals and per-instruction reads and
writes are kept), and trip counts of loops whose counter is not a scalar integer stepped by a constant.
"""

from __future__ import annotations

import collections
import math
import operator
import struct
from collections.abc import Callable, Container, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import compress, filterfalse, islice
from typing import Any

import numpy as np

from irscope.errors import CyclicModuleError
from irscope.ir.attrs import backend_config, conv_dim_labels, int_list, window
from irscope.ir.hlo import POINTER_BYTES, Computation, Instruction, Module, Shape
from irscope.ir.layout import is_tiled, tiled_byte_size, tiled_dims
from irscope.ir.opcodes import CONTROL_FLOW as CONTROL_FLOW
from irscope.ir.opcodes import ELEMENTWISE_FLOP as ELEMENTWISE_FLOP
from irscope.ir.opcodes import TRANSCENDENTAL as TRANSCENDENTAL
from irscope.ir.opcodes import ZERO_COST as FREE
from irscope.passes.mosaic import kernel_cost

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
    once, results written once, FLOPs of the library call it is (0 when unknown). XLA counts each as
    -1 FLOPs and -1 bytes."""
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
    """Bytes of a shape as XLA:CPU's cost analysis sizes it (`CpuExecutable::ShapeSizeBytes`), or
    XLA:TPU's when the shape carries TPU layouts (`tpu_shape_bytes`)."""
    tpu = tpu_shape_bytes(shape)
    if tpu is not None:
        return tpu
    if shape.is_tuple:
        return POINTER_BYTES * len(shape.tuple_shapes)
    if shape.dtype == "opaque":
        return POINTER_BYTES
    size = shape.byte_size
    if shape.dynamic and any(shape.dynamic):
        size += DYNAMIC_SIZE_BYTES * shape.rank
    return size


# XLA:TPU's sizes, inferred from its cost_analysis() (see `tpu_shape_bytes`).
TPU_TUPLE_TABLE_BYTES = 512
TPU_SYNC_FLAG_BYTES = 4096


def _tiled_tuple(shape: Shape) -> bool:
    return any(is_tiled(leaf) or _tiled_tuple(leaf) for leaf in shape.tuple_shapes)


def tpu_shape_bytes(shape: Shape) -> int | None:
    """Bytes of a shape as XLA:TPU's cost analysis sizes it, or None when the shape is not a TPU one
    (no tiled layout anywhere in it: every CPU and GPU shape), so those keep XLA:CPU's sizes exactly.

    XLA:TPU's cost analysis is not open source; each convention below was inferred from its
    `cost_analysis()['bytes accessed']` on modules compiled with libtpu 0.0.42.1 for TPU v5e (the
    committed corpus tests/data/targets/*.tpu-v5e*, and programs compiled live for the check):

    - A tiled array (`f32[100,100]{1,0:T(8,128)}`) counts its whole tiles (`tiled_byte_size`):
      104 x 128 x 4 bytes here; a scalar `f32[]{:T(128)}` counts 512. Evidence: softmax_odd
      (100 columns) rose from 0.94 to 1.00 of the compiler's figure with this alone; element-wise
      programs over untiled-size shapes (100x100) match exactly.
    - Memory spaces do not change the size: an array in VMEM (`S(1)`) counts like one in HBM
      (the fusions reading `copy-done`'s S(1) result match only when counted).
    - A tuple's index table counts 512 bytes (a tile of 128 four-byte entries) instead of 8 per
      element: while_loop's two 4-tuples (the loop state and the body's root) left 960 = 2 x
      (512 - 32) bytes unexplained without it.
    - An async copy's sync flag (`u32[]{:S(2)}`, the third element of `copy-start`'s tuple) counts
      4096 bytes (one 8 x 128 tile of u32): every `copy-start`/`copy-done` pair, whatever the size
      of the array it copies, was 4,608 bytes (= 4,096 + the 512-byte table copy-done reads) above
      four times the array; seen on 1 to 3 pairs per module in softmax, layer_norm, mlp_block,
      sharded_matmul, while_loop and programs compiled live (8x128 to 512x1024 arrays).

    The per-instruction rules that differ on TPU are `_tpu_gather`, `_tpu_scatter` and
    `tpu_allocation`.
    """
    if shape.is_tuple:
        if not _tiled_tuple(shape):
            return None
        return TPU_TUPLE_TABLE_BYTES * max(1, -(-len(shape.tuple_shapes) // 128))
    if is_tiled(shape):
        return tiled_byte_size(shape)
    if shape.is_array and "S(2)" in shape.layout_extra:
        return max(TPU_SYNC_FLAG_BYTES, shape.byte_size)
    return None


def tpu_allocation(inst: Instruction) -> bool:
    """Whether a custom call is XLA:TPU's `AllocateBuffer` (a loop's output buffer, reserved before
    the loop fills it), which its cost analysis counts as nothing rather than XLA's -1 "unknown".

    Evidence (TPU v5e, libtpu 0.0.42.1): `lax.scan` modules carry one or two; with each counted -1
    FLOPs and -1 bytes, irscope came out exactly that many FLOPs and bytes below the compiler."""
    return (inst.attrs.get("custom_call_target", "").strip('"') == "AllocateBuffer"
            and is_tiled(_first_array(inst.shape)))


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
    if not shape.is_tuple:
        return shape_bytes(shape)
    size, pending = 0, list(shape.tuple_shapes)
    while pending:
        sub = pending.pop()
        if sub.is_tuple:
            pending.extend(sub.tuple_shapes)
        else:
            size += shape_bytes(sub)
    return size


def _default_cost(operands: list[Shape], result: Shape) -> Cost:
    """Preprocess's default: every operand read in full (a tuple operand: its pointer table), every
    array of the result written in full."""
    return Cost(bytes_read=sum(shape_bytes(s) for s in operands), bytes_written=leaf_bytes(result))


def _log2_floor(n: int) -> int:
    return n.bit_length() - 1 if n > 0 else -1


def _log2_ceiling(n: int) -> int:
    return (n - 1).bit_length() if n > 0 else -1


def convolution_flops(inst: Instruction, lhs: Shape, rhs: Shape, result: Shape | None = None) -> int:
    """FLOPs of a convolution, counting only kernel taps that land on the (undilated) input, as
    HloCostAnalysis::GetConvolutionFlops does. `result` is the convolution's output (default: the
    instruction's shape; a cuDNN backward call passes the forward convolution's output)."""
    result = inst.shape if result is None else result
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


_F32 = struct.Struct("<f")
# Multiples of 0.5 up to this magnitude are exact float32 values (24-bit significand). Every figure
# XLA's rules produce is a multiple of 0.5 (byte and element counts, halves for triangular solves),
# so a computation whose figures sum to less than this in absolute value has the same float32 total
# in any order: no rounding happens, and irscope can skip XLA's visiting order.
_F32_EXACT = float(2**23)

Figures = tuple[float, float, float, float]
"""(flops, transcendentals, bytes accessed, bytes written): XLA's properties, the hot loops' form."""
_NOTHING: Figures = (0.0, 0.0, 0.0, 0.0)


def _f32(x: float) -> float:
    """x rounded to the nearest float32, as XLA stores every property."""
    try:
        return _F32.unpack(_F32.pack(x))[0]
    except OverflowError:
        return math.copysign(math.inf, x)


def _f32_figures(f: Figures) -> Figures:
    return (_f32(f[0]), _f32(f[1]), _f32(f[2]), _f32(f[3]))


def _figures(cost: Cost) -> Figures:
    return (cost.flops, cost.transcendentals, cost.bytes_read + cost.bytes_written, cost.bytes_written)


def _cost(f: Figures) -> Cost:
    return Cost(f[0], f[1], f[2] - f[3], f[3])


def _f32_cost(cost: Cost) -> Cost:
    """A cost as XLA stores it: each property a float32 (read = accessed - written)."""
    return _cost(_f32_figures(_figures(cost)))


def _branch_max(branches: list[Figures]) -> Figures:
    """Per-property maximum over a conditional's branches, as HandleConditional takes it (starting
    from the first branch, and skipping zero-valued properties of the others)."""
    flops, trans, accessed, written = branches[0]
    for b in branches[1:]:
        if b[0]:
            flops = max(flops, b[0])
        if b[1]:
            trans = max(trans, b[1])
        if b[2]:
            accessed = max(accessed, b[2])
        if b[3]:
            written = max(written, b[3])
    return (flops, trans, accessed, written)


def xla_visit_order(comp: Computation) -> list[Instruction]:
    """The order XLA's visitor walks a computation: a depth-first post-order, operands left to right,
    from each instruction nothing uses (in text order) and then from the root. Only the rounding of
    float32 sums depends on it. Raises `CyclicModuleError` when an instruction reaches itself."""
    by_name = comp.by_name
    used = {name for inst in comp.instructions for name in inst.operands}
    starts = [i for i in comp.instructions if i.name not in used and i.name != comp.root_name]
    order: list[Instruction] = []
    done: set[str] = set()
    open_: set[str] = set()  # expanded, not finished: on the current path
    for start in [*starts, comp.root]:
        stack: list[tuple[Instruction, bool]] = [(start, False)]
        while stack:
            inst, expanded = stack.pop()
            name = inst.name
            if expanded:
                open_.discard(name)
                done.add(name)
                order.append(inst)
                continue
            if name in done:
                continue
            if name in open_:
                # Entries pushed before `inst` was expanded lie below its marker, so this one was
                # pushed by one of its own operands' operands: a cycle.
                raise CyclicModuleError(f"computation {comp.name!r}: instruction {name!r} is its own operand "
                                        "(through a cycle of operands)")
            open_.add(name)
            stack.append((inst, True))
            for operand in reversed(inst.operands):
                if operand not in done:
                    stack.append((by_name[operand], False))
    return order


def callees_first(module: Module, roots: Iterable[str], follow: Callable[[Instruction], Iterable[str]],
                  done: Container[str] = (), calling: Mapping[str, Sequence[Instruction]] | None = None) -> list[str]:
    """Computations reachable from `roots` through `follow(instruction)` (the callees to descend
    into), each after everything it calls: an iterative post-order, so any depth of nesting works.
    Names in `done` are skipped with what they call. `calling` maps a computation to its instructions
    that call others, in text order (`calling_instructions`; made here when not given). Raises
    `CyclicModuleError` on a call cycle."""
    order: list[str] = []
    finished: set[str] = set()
    open_: set[str] = set()
    if calling is None:
        calling = calling_instructions(module)
    for root in roots:
        stack: list[tuple[str, bool]] = [(_name(root), False)]
        while stack:
            name, expanded = stack.pop()
            if expanded:
                open_.discard(name)
                finished.add(name)
                order.append(name)
                continue
            if name in finished or name in done:
                continue
            if name in open_:
                raise CyclicModuleError(f"computation {name!r} calls itself")
            open_.add(name)
            stack.append((name, True))
            for inst in reversed(calling[name]):
                for callee in reversed(tuple(follow(inst))):
                    callee = _name(callee)
                    if callee not in finished and callee not in done:
                        stack.append((callee, False))
    return order


_CALLED = operator.attrgetter("called")
_OPCODE = operator.attrgetter("opcode")


def calling_instructions(module: Module) -> dict[str, tuple[Instruction, ...]]:
    """Each computation's instructions that call computations, in text order (found in C: a few
    thousand of a module's 300,000 instructions)."""
    return {name: tuple(compress(comp.instructions, map(_CALLED, comp.instructions)))
            for name, comp in module.computations.items()}


_NO_WORK = FREE | {"tuple"}


def _several_kernel_ops(fused: Computation) -> bool:
    """Whether a fused computation holds more than one instruction that does work (not a parameter,
    constant, bitcast, get-tuple-element or tuple); a fusion of one such op just wraps it: unfusing
    changes nothing. Stops at the second, in C (map, filterfalse, islice)."""
    work = filterfalse(_NO_WORK.__contains__, map(_OPCODE, fused.instructions))
    return next(islice(work, 1, None), None) is not None


# How the analysis treats each opcode (decided once per opcode, then looked up).
_FREE, _TRANSCENDENTAL, _ELEMENTWISE, _HANDLED, _DEFAULT, _SPECIAL, _ASYNC_SUGAR = range(7)

# Async halves XLA has real opcodes for; any other `X-start` is XLA's printed shorthand for an
# `async-start` wrapping one X (`all-to-all-start`, `reduce-scatter-start`, `fusion-start`, ...).
NATIVE_ASYNC = frozenset({
    "all-reduce-start", "all-gather-start", "collective-permute-start", "copy-start", "async-start",
    "all-reduce-done", "all-gather-done", "collective-permute-done", "copy-done", "async-done",
    "async-update", "send-done", "recv-done",
})


def async_wrapped_opcode(opcode: str) -> str | None:
    """The opcode an async shorthand wraps (`all-to-all-start` -> `all-to-all`), else None."""
    for suffix in ("-start", "-update", "-done"):
        if opcode.endswith(suffix) and opcode not in NATIVE_ASYNC:
            return opcode[: -len(suffix)]
    return None


def _opcode_class(op: str) -> int:
    if op in FREE:
        return _FREE
    if op in TRANSCENDENTAL:
        return _TRANSCENDENTAL
    if op in ELEMENTWISE_FLOP:
        return _ELEMENTWISE
    if op in _SPECIALS:
        return _SPECIAL
    if op in _HANDLERS:
        return _HANDLED
    if op.endswith("-start") and op not in NATIVE_ASYNC:
        return _ASYNC_SUGAR
    return _DEFAULT


def _defined_before_use(comp: Computation) -> bool:
    """Whether every operand is defined above its user (XLA prints so): then there is no cycle."""
    seen: set[str] = set()
    add = seen.add
    for inst in comp.instructions:
        if not seen.issuperset(inst.operands):
            return False
        add(inst.name)
    return True


def _exact_sums(columns: tuple[tuple[float, ...], ...]) -> bool:
    """Whether every float32 partial sum of each column is exact in any order: the values are
    integers, all multiples of 2**k, and their absolute sum is at most 2**(24+k) (2**23 and
    multiples of 0.5 when some are not integers). Then neither order nor rounding matter."""
    values = np.array(columns, dtype=np.float64)
    bound = np.abs(values).sum(axis=1)
    if not np.isfinite(bound).all() or bound.max() >= 2.0**62:
        return False
    ints = values.astype(np.int64)
    if not (ints == values).all():
        return bool((bound <= _F32_EXACT).all())
    low = np.bitwise_or.reduce(np.abs(ints), axis=1)
    low &= -low  # the lowest set bit: every value is a multiple of it
    return bool((bound <= 2.0**24 * low).all())


class _Shared:
    """What every convention of one module's analysis shares: each plain instruction's figures
    (they depend on the instruction alone), shape sizes, and users within a computation."""

    def __init__(self, module: Module):
        self.module = module
        self.xla = _Analysis(module, shared=self)
        self.leaves: dict[int, Figures] = {}
        """id(instruction) -> XLA's figures of a plain instruction (see `leaf`)."""
        self.sizes: dict[int, int] = {}
        self.leaf_sizes: dict[int, int] = {}
        self._users: dict[str, dict[str, list[Instruction]]] = {}
        self.classes: dict[str, int] = {}
        self.raw_totals: dict[str, Figures] = {}
        """Computation -> float64 sums of XLA's unrounded figures, from XLA's walk."""
        self.plain: set[str] = set()
        """Computations without fusions, control flow or custom calls: the same in every convention."""
        self._multi_op: dict[str, bool] = {}
        self._wrapped: dict[int, Instruction] = {}
        self.calling = calling_instructions(module)
        """Computation -> its instructions that call computations (`callees_first` walks only these)."""
        self.flow = {module.entry_name} | {
            _name(callee) for insts in self.calling.values() for inst in insts
            if inst.opcode in CONTROL_FLOW for callee in inst.called}
        """Computations whose whole cost (bytes too) a caller uses: the entry and control flow's callees."""

    def size(self, shape: Shape) -> int:
        b = self.sizes.get(id(shape))
        if b is None:
            b = self.sizes[id(shape)] = shape_bytes(shape)
        return b

    def read_bytes(self, by_name: Mapping[str, Instruction], operands: Iterable[str]) -> int:
        """What the default rule reads: each operand in full (a tuple operand, its pointer table)."""
        sizes = self.sizes
        read = 0
        for o in operands:
            s = by_name[o].shape
            b = sizes.get(id(s))
            if b is None:
                b = sizes[id(s)] = shape_bytes(s)
            read += b
        return read

    def opcode_class(self, op: str) -> int:
        c = self.classes.get(op)
        if c is None:
            c = self.classes[op] = _opcode_class(op)
        return c

    def multi_op(self, fused: Computation) -> bool:
        m = self._multi_op.get(fused.name)
        if m is None:
            m = self._multi_op[fused.name] = _several_kernel_ops(fused)
        return m

    def users(self, comp: Computation, inst: Instruction) -> Sequence[Instruction]:
        """Distinct users of an instruction, in text order (XLA's users() lists each once)."""
        table = self._users.get(comp.name)
        if table is None:
            table = self._users[comp.name] = collections.defaultdict(list)
            for user in comp.instructions:
                for operand in user.operands:
                    table[operand].append(user)
        found = table.get(inst.name, ())
        if len(found) > 1 and len(set(map(id, found))) != len(found):  # one user, two operands
            found = list(dict.fromkeys(found))
        return found

    def wrapped(self, inst: Instruction) -> Instruction:
        """The instruction an async shorthand wraps, made once (the leaf cache keys on identity)."""
        found = self._wrapped.get(id(inst))
        if found is None:
            found = self._wrapped[id(inst)] = async_wrapped_instruction(inst)
        return found

    def leaf(self, comp: Computation, inst: Instruction, cls: int) -> Figures:
        """XLA's figures (unrounded) of an instruction whose cost depends on nothing but itself, its
        operands' shapes and the scalar computations it applies."""
        key = id(inst)
        fig = self.leaves.get(key)
        if fig is not None:
            return fig
        shape = inst.shape
        if cls == _HANDLED:
            operands = [comp.by_name[o].shape for o in inst.operands]
            fig = _figures(_HANDLERS[inst.opcode](self.xla, comp, inst, operands))
        else:
            read = self.read_bytes(comp.by_name, inst.operands)
            written = self.leaf_sizes.get(id(shape))
            if written is None:
                written = self.leaf_sizes[id(shape)] = leaf_bytes(shape)
            accessed = float(read + written)
            if cls == _TRANSCENDENTAL:
                fig = (0.0, float(shape.elements), accessed, float(written))
            elif cls == _ELEMENTWISE:
                fig = (float(shape.elements), 0.0, accessed, float(written))
            else:
                fig = (0.0, 0.0, accessed, float(written))
        self.leaves[key] = fig
        return fig


# The three conventions one module is costed under.
_XLA_MODE, _UNFUSED_MODE, _ESTIMATED_MODE = "xla", "unfused", "estimated"


class _Analysis:
    """One walk over a module under one set of conventions, memoised per computation.

    xla: XLA's HloCostAnalysis: each instruction's figures and each running sum rounded to float32,
        instructions visited in XLA's order where rounding can happen (exact parity above 2**24).
    estimated: loops run their known trip count; custom calls are costed from their shapes;
        float64 sums of XLA's per-instruction figures otherwise.
    unfused: every instruction inside a multi-op fusion counts as its own kernel (float64).

    Computations are evaluated callees first (`callees_first`), so nothing recurses with the depth
    of the module, and each computation once; plain instructions are costed once for all three
    conventions (`_Shared.leaf`).
    """

    def __init__(self, module: Module, *, mode: str = _XLA_MODE, shared: _Shared | None = None):
        self.module = module
        self.mode = mode
        self.shared = shared if shared is not None else _Shared(module)
        self._totals: dict[str, Figures] = {}
        self._figures: dict[str, list[Figures]] = {}
        self._fusions: dict[int, Figures] = {}

    # -- computations ---------------------------------------------------------------------------
    def computation(self, name: str) -> Computation:
        return self.module.computations[_name(name)]

    def computation_total(self, name: str) -> Cost:
        """The sum over every instruction of a computation (HloCostAnalysis::ProcessSubcomputation)."""
        return _cost(self.total(_name(name)))

    def total(self, name: str) -> Figures:
        cached = self._totals.get(name)
        if cached is None:
            for callee in callees_first(self.module, (name,), self._follow, self._totals, self.shared.calling):
                self._evaluate(self.module.computations[callee])
            cached = self._totals[name]
        return cached

    def figures(self, name: str) -> list[Figures]:
        """Each instruction's figures (XLA's: rounded to float32), in text order."""
        self.total(name)
        figs = self._figures[name]
        if self.mode != _XLA_MODE or not figs:
            return figs
        with np.errstate(over="ignore"):
            return [tuple(f) for f in np.array(figs, dtype=np.float64).astype(np.float32).astype(np.float64).tolist()]

    def _follow(self, inst: Instruction) -> Iterable[str]:
        """The callees this convention needs the totals of before `inst` can be costed."""
        op = inst.opcode
        if self.mode == _XLA_MODE:
            return inst.called
        if op in CONTROL_FLOW:
            return while_computations(inst) if op == "while" else inst.called
        if op == "fusion" and self.mode == _UNFUSED_MODE and self.shared.multi_op(self.computation(inst.called[0])):
            return inst.called[:1]
        return ()

    def _evaluate(self, comp: Computation) -> None:
        shared, name = self.shared, comp.name
        if self.mode == _UNFUSED_MODE and name in shared.plain:
            # Nothing in it differs between conventions: XLA's walk already summed it in float64.
            self._totals[name] = shared.raw_totals[name]
            return
        if self.mode == _XLA_MODE and name not in shared.flow and self._sum_without_order(comp):
            return
        classes, leaves = shared.classes, shared.leaves
        figs: list[Figures] = []
        append = figs.append
        plain = True
        for inst in comp.instructions:  # instruction_figures, inlined: this loop is the pass
            cls = classes.get(inst.opcode)
            if cls is None:
                cls = shared.opcode_class(inst.opcode)
            if cls == _FREE:
                append(_NOTHING)
            elif cls >= _SPECIAL:
                plain = False
                append(self.instruction_figures(comp, inst))
            else:
                fig = leaves.get(id(inst))
                append(fig if fig is not None else shared.leaf(comp, inst, cls))
        self._figures[name] = figs
        if not figs:
            self._totals[name] = _NOTHING
            return
        columns = tuple(zip(*figs, strict=True))
        totals: Figures = tuple(sum(column) for column in columns)  # type: ignore[assignment]
        if self.mode == _XLA_MODE:
            if not _defined_before_use(comp):
                xla_visit_order(comp)  # text order is not a topological one: raises on a cycle
            shared.raw_totals[name] = totals
            if plain:
                shared.plain.add(name)
            # Only control flow uses a computation's bytes; fusions and reducers take its FLOPs.
            checked = columns if name in shared.flow else columns[:2]
            if max(sum(map(abs, column)) for column in checked) > _F32_EXACT and not _exact_sums(checked):
                # Rounding can happen: XLA's order and float32 at every step decide the digits
                # (numpy's accumulate adds in order, in float32, as XLA's properties_sum_ does).
                by_id = {id(inst): f for inst, f in zip(comp.instructions, figs, strict=True)}
                ordered = np.array([by_id[id(inst)] for inst in xla_visit_order(comp)], dtype=np.float64)
                with np.errstate(over="ignore"):
                    sums = np.add.accumulate(ordered.astype(np.float32), axis=0, dtype=np.float32)[-1]
                totals = tuple(float(x) for x in sums)  # type: ignore[assignment]
        self._totals[name] = totals

    def _sum_without_order(self, comp: Computation) -> bool:
        """XLA's total of a computation only fusions and reducers call (they take its FLOPs and
        transcendentals, exact in float32; bytes as float64 sums, for the unfused walk), in one pass
        over its instructions without per-instruction figures. False (nothing stored) when the sums
        could round, or the text is not in topological order: then `_evaluate` takes XLA's order."""
        shared, name = self.shared, comp.name
        classes, read_bytes, leaf_sizes, by_name = shared.classes, shared.read_bytes, shared.leaf_sizes, comp.by_name
        flops = trans = accessed = written = 0.0
        flops_bits = trans_bits = 0  # OR of the counts: their lowest set bit divides them all
        flops_abs = trans_abs = 0.0
        integral, plain = True, True
        defined: set[str] = set()  # `_defined_before_use`, in the same loop
        in_order, define = defined.issuperset, defined.add
        for inst in comp.instructions:
            operands = inst.operands
            if not in_order(operands):
                return False  # (the figures cached so far depend on their instruction alone)
            define(inst.name)
            cls = classes.get(inst.opcode)
            if cls is None:
                cls = shared.opcode_class(inst.opcode)
            if cls == _FREE:
                continue
            if cls in (_ELEMENTWISE, _TRANSCENDENTAL, _DEFAULT):
                shape = inst.shape
                read = read_bytes(by_name, operands)
                out = leaf_sizes.get(id(shape))
                if out is None:
                    out = leaf_sizes[id(shape)] = leaf_bytes(shape)
                accessed += read + out
                written += out
                if cls == _ELEMENTWISE:
                    n = shape.elements
                    flops += n
                    flops_abs += n
                    flops_bits |= n
                elif cls == _TRANSCENDENTAL:
                    n = shape.elements
                    trans += n
                    trans_abs += n
                    trans_bits |= n
                continue
            if cls >= _SPECIAL:
                plain = False
            f = self.instruction_figures(comp, inst)
            flops += f[0]
            trans += f[1]
            accessed += f[2]
            written += f[3]
            flops_abs += abs(f[0])
            trans_abs += abs(f[1])
            if f[0] != int(f[0]) or f[1] != int(f[1]):
                integral = False
            else:
                flops_bits |= abs(int(f[0]))
                trans_bits |= abs(int(f[1]))
        for total, bits in ((flops_abs, flops_bits), (trans_abs, trans_bits)):
            limit = 2.0**24 * (bits & -bits) if integral else _F32_EXACT
            if total > max(limit, _F32_EXACT):
                return False
        totals = (float(flops), float(trans), float(accessed), float(written))
        shared.raw_totals[name] = totals
        if plain:
            shared.plain.add(name)
        self._totals[name] = totals
        return True

    # -- instructions ---------------------------------------------------------------------------
    def instruction(self, comp: Computation, inst: Instruction) -> Cost:
        """One instruction's cost under this analysis' conventions."""
        fig = self.instruction_figures(comp, inst)
        return _cost(_f32_figures(fig) if self.mode == _XLA_MODE else fig)

    def instruction_figures(self, comp: Computation, inst: Instruction) -> Figures:
        """One instruction's figures, before XLA's float32 rounding."""
        op = inst.opcode
        cls = self.shared.opcode_class(op)
        if cls == _FREE:
            return _NOTHING
        if cls == _SPECIAL:
            return _SPECIALS[op](self, comp, inst)
        if cls == _ASYNC_SUGAR:
            return self.async_start(comp, inst)
        return self.shared.leaf(comp, inst, cls)

    def reducer_flops(self, inst: Instruction, times: float, computation: str | None = None) -> Cost:
        """A called scalar computation's FLOPs and transcendentals, times `times` (bytes are not
        copied from sub-computations: KeyToCopyFromSubcomputation). XLA's figures, in every mode."""
        callee = self.shared.xla.total(_name(computation or inst.called[0]))
        times = _f32(times)  # XLA multiplies a float by the count converted to float
        return Cost(flops=_f32(callee[0]) * times, transcendentals=_f32(callee[1]) * times)

    # -- async shorthand ---------------------------------------------------------------------------
    def async_start(self, comp: Computation, inst: Instruction) -> Figures:
        """`X-start(...)`: an async-start wrapping one X, costed as X on the same operands with the
        wrapped result shape (HandleAsyncStart: the wrapped computation's cost)."""
        return self.instruction_figures(comp, self.shared.wrapped(inst))

    # -- fusion -----------------------------------------------------------------------------------
    def fusion(self, comp: Computation, inst: Instruction) -> Figures:
        if self.mode != _XLA_MODE:
            fused = self.computation(inst.called[0])
            if self.mode == _UNFUSED_MODE and self.shared.multi_op(fused):
                return self.total(fused.name)
            return self.shared.xla.fusion(comp, inst)
        key = id(inst)
        cached = self._fusions.get(key)
        if cached is None:
            cached = self._fusions[key] = self._xla_fusion(comp, inst)
        return cached

    def _xla_fusion(self, comp: Computation, inst: Instruction) -> Figures:
        fused = self.computation(inst.called[0])
        if inst.attrs.get("kind") == "kCustom":
            # XLA costs a custom fusion around a gather or scatter as that gather or scatter.
            for inner in fused.instructions:
                if inner.opcode in ("gather", "scatter"):
                    inner_operands = [s.shape for s in fused.operands_of(inner)]
                    return _figures(_HANDLERS[inner.opcode](self, fused, inner, inner_operands))
        inner_total = self.total(fused.name)
        written = self.fusion_output_bytes(fused, inst.shape)
        read = self._parameter_reads(fused)
        if read is None:  # tuple parameters or nested fusions: the general rule, user by user
            read = sum(self.fusion_operand_read_bytes(fused, param) for param in fused.parameters)
        for inner in fused.instructions:
            if inner.opcode == "constant" and inner.shape.elements > IMMEDIATE_CONSTANT_MAX_ELEMENTS:
                read += shape_bytes(inner.shape)
        return (_f32(inner_total[0]), _f32(inner_total[1]), float(read + written), float(written))

    def _parameter_reads(self, fused: Computation) -> int | None:
        """`parameter_read_bytes` summed over a fusion's array parameters in one pass over its
        instructions, without a users table; None when a parameter is a tuple or a user is a
        nested fusion (then each parameter goes through `fusion_operand_read_bytes`)."""
        size = self.shared.size
        state: dict[str, list[Any]] = {}  # parameter -> [its bytes, read so far, a trivial user seen]
        for inst in fused.instructions:
            op = inst.opcode
            if op == "parameter":
                if inst.shape.is_tuple:
                    return None
                state[inst.name] = [size(inst.shape), 0, False]
            elif op == "fusion":
                return None
        for user in fused.instructions:
            for operand in user.operands:
                st = state.get(operand)
                if st is None:
                    continue
                # A user naming the parameter twice is one user; every branch below that adds is
                # one-operand (slice, broadcast, reshape) or keyed on operand 0, so twice is once.
                op = user.opcode
                if op == "slice":
                    st[1] += size(user.shape)
                elif op == "dynamic-slice" and user.operands[0] == operand:
                    st[1] += size(user.shape)
                elif op == "dynamic-update-slice" and user.operands[0] == operand:
                    pass  # operand 0 is updated in place, not read
                elif op in ("broadcast", "reshape"):
                    st[1] += st[0]
                elif not st[2]:
                    st[2] = True
                    st[1] += st[0]
        return sum(st[1] for st in state.values())

    def fusion_output_bytes(self, fused: Computation, shape: Shape) -> int:
        """What a fusion writes: each array of its result, or only the update of a dynamic-update-slice
        that produces it in place (FusionProcessOutputBytesAccessed)."""
        root = fused.root
        if not shape.is_tuple:
            if root.opcode == "dynamic-update-slice":
                return self.shared.size(fused.by_name[root.operands[1]].shape)
            return self.shared.size(shape) if shape.is_array else 0
        written = 0
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
                for user in self.shared.users(fused, node):
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
        own = self.shared.size(hlo.shape)
        for user in self.shared.users(fused, hlo):
            op = user.opcode
            if op == "fusion":
                size += self._nested_fusion_read_bytes(fused, hlo, user)
            elif op == "slice":
                size += self.shared.size(user.shape)
            elif op == "dynamic-slice" and user.operands[0] == hlo.name:
                size += self.shared.size(user.shape)
            elif op == "dynamic-update-slice" and user.operands[0] == hlo.name:
                pass  # operand 0 is updated in place, not read
            elif op in ("broadcast", "reshape"):
                size += own
            elif not seen_trivial:
                seen_trivial = True
                size += own
        return size

    def _nested_fusion_read_bytes(self, fused: Computation, hlo: Instruction, user: Instruction) -> int:
        # A fusion inside a fusion (XLA's "simple" case: the parameter is the nested root's first
        # operand) is judged by what the nested fusion's users do with its result. Nesting is a
        # fusion's own structure, a level or two deep: this recursion follows it.
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
            for fusion_user in self.shared.users(fused, user):
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
    def while_loop(self, comp: Computation, inst: Instruction) -> Figures:
        body_name, condition_name = while_computations(inst)
        body, condition = self.total(body_name), self.total(condition_name)
        if self.mode == _ESTIMATED_MODE:
            n = trip_count(self.module, comp, inst)
            if n is not None:
                return tuple(b * n + c * (n + 1) for b, c in zip(body, condition, strict=True))  # type: ignore[return-value]
        return tuple(b + c for b, c in zip(body, condition, strict=True))  # type: ignore[return-value]

    def conditional(self, comp: Computation, inst: Instruction) -> Figures:
        return _branch_max([self.total(_name(name)) for name in inst.called])

    def call(self, comp: Computation, inst: Instruction) -> Figures:
        return self.total(_name(inst.called[0]))

    def custom_call(self, comp: Computation, inst: Instruction) -> Figures:
        if self.mode == _ESTIMATED_MODE:
            return _figures(custom_call_shape_cost(inst, [comp.by_name[o].shape for o in inst.operands]))
        if tpu_allocation(inst):
            return (0.0, 0.0, 0.0, 0.0)
        if inst.attrs.get("custom_call_target", "").strip('"') == "tpu_custom_call":
            # XLA:TPU records -1 FLOPs but no bytes for a Mosaic kernel: its total is irscope's + 1 byte per
            # such call otherwise (tests/data/targets/attention.tpu-v5e and two live compiles checked)
            return (-1.0, 0.0, 0.0, 0.0)
        # XLA does not know what a custom call does and records -1 ("unknown") FLOPs and bytes.
        return (-1.0, 0.0, -1.0, -1.0)


def async_wrapped_instruction(inst: Instruction) -> Instruction:
    """The instruction an async shorthand `X-start` wraps: X on the same operands, attributes and
    callees, with the wrapped result (the start's shape is ((operands...), result, context...))."""
    op = async_wrapped_opcode(inst.opcode) or inst.opcode
    shape = inst.shape
    result = shape.tuple_shapes[1] if shape.is_tuple and len(shape.tuple_shapes) >= 2 else shape
    return Instruction(inst.name, op, result, inst.operands, inst.attrs, inst.called, inst.is_root, inst.literal,
                       inst.line)


_SPECIALS: dict[str, Callable[[_Analysis, Computation, Instruction], Figures]] = {
    "fusion": _Analysis.fusion,
    "while": _Analysis.while_loop,
    "conditional": _Analysis.conditional,
    "call": _Analysis.call,
    "async-start": _Analysis.call,
    "custom-call": _Analysis.custom_call,
}


def while_computations(inst: Instruction) -> tuple[str, str]:
    """A while's (body, condition) computation names."""
    body = inst.attrs.get("body")
    condition = inst.attrs.get("condition")
    if body is not None and condition is not None:
        return _name(body), _name(condition)
    return inst.called[0], inst.called[1]


def custom_call_shape_cost(inst: Instruction, operands: list[Shape]) -> Cost:
    """irscope's estimate of a custom call: every operand array read once, every result array written
    once, and the FLOPs of the library call it is (`library_call_flops`; 0 when unknown), or of the
    Mosaic TPU kernel it runs (`irscope.passes.mosaic.kernel_cost`, with its transcendentals)."""
    read = sum(shape_bytes(leaf) for s in operands for _, leaf in s.leaves())
    written = sum(shape_bytes(leaf) for _, leaf in inst.shape.leaves())
    kernel = kernel_cost(inst)  # a Mosaic TPU kernel whose body is MLIR text: what its grid computes
    if kernel is not None:
        return Cost(flops=kernel[0], transcendentals=kernel[1], bytes_read=read, bytes_written=written)
    return Cost(flops=library_call_flops(inst, operands), bytes_read=read, bytes_written=written)


# cuDNN convolution targets, and which shapes play the forward convolution's (input, kernel, output):
# an index into the operands, or -1 for the call's result (its first array; a workspace follows).
_CUDNN_CONVOLUTIONS = {
    "__cudnn$convForward": (0, 1, -1),
    "__cudnn$convBiasActivationForward": (0, 1, -1),
    "__cudnn$convForwardGraph": (0, 1, -1),
    "__cudnn$convBackwardInput": (-1, 1, 0),
    "__cudnn$convBackwardFilter": (0, -1, 1),
}


def library_call_flops(inst: Instruction, operands: list[Shape]) -> float:
    """FLOPs of a library custom call, from its shapes and attributes; 0 for a call irscope does not
    know. cuBLAS/cuBLASLt/hipBLAS GEMMs: 2 x output elements x contracted size (`gemm_backend_config`'s
    dot dimensions). cuDNN convolutions: the convolution they compute (`window` and `dim_labels` on the
    call, XLA's tap counting; backward passes count as the forward convolution, the same multiply-adds).
    cuDNN fused attention (`__cudnn$fmha...`): its batched matmuls from `cudnn_fmha_backend_config`,
    forward Q.K^T and P.V; backward five of that size (recomputed Q.K^T, dP, dV, dQ, dK) -- an estimate
    that ignores masking and the softmax's element-wise work."""
    target = inst.attrs.get("custom_call_target", "").strip('"')
    result = next((leaf for _, leaf in inst.shape.leaves()), None)
    if result is None:
        return 0.0
    roles = _CUDNN_CONVOLUTIONS.get(target)
    if roles is not None and "dim_labels" in inst.attrs and len(operands) >= 2:
        lhs, rhs, out = (result if r < 0 else operands[r] for r in roles)
        return float(convolution_flops(inst, lhs, rhs, out))
    if target.startswith("__cudnn$fmha"):
        return _fmha_flops(inst, operands, backward="Backward" in target)
    return _library_gemm_flops(inst, operands, result)


def _dot_numbers(config: dict[str, Any], key: str) -> dict[str, list[int]] | None:
    dims = config.get(key) if isinstance(config, dict) else None
    if not isinstance(dims, dict):
        return None
    return {k: [int(d) for d in v] for k, v in dims.items() if isinstance(v, list)}


def _fmha_flops(inst: Instruction, operands: list[Shape], *, backward: bool) -> float:
    """Q (operand 0) . K^T (operand 1) gives the attention matrix, B x H x T x S, whose size the config
    states (`intermediate_tensor_shape`; else it is derived from the forward bmm1 dimensions); then
    D = Q's elements x S / that size and Dv = D x V's elements / K's (grouped-query heads included)."""
    decoded = backend_config(inst.attrs.get("backend_config", "")) or {}
    config = decoded.get("cudnn_fmha_backend_config") if isinstance(decoded, dict) else None
    if not isinstance(config, dict) or len(operands) < 3:
        return 0.0
    q, k, v = operands[0], operands[1], operands[2]
    intermediate = config.get("intermediate_tensor_shape")
    dims = [int(d) for d in intermediate.get("dimensions", [])] if isinstance(intermediate, dict) else []
    if len(dims) >= 2:
        scores, kv_length = math.prod(dims), dims[-1]
    else:
        bmm1 = _dot_numbers(config, "bmm1_dot_dimension_numbers")
        if bmm1 is None:
            return 0.0
        batch, contracting = bmm1.get("lhs_batch_dimensions", []), bmm1.get("lhs_contracting_dimensions", [])
        rhs_used = set(bmm1.get("rhs_batch_dimensions", [])) | set(bmm1.get("rhs_contracting_dimensions", []))
        kv_length = math.prod(n for d, n in enumerate(k.dims) if d not in rhs_used)
        scores = (math.prod(q.dims[d] for d in batch)
                  * math.prod(n for d, n in enumerate(q.dims) if d not in batch and d not in contracting)
                  * kv_length)
    if not scores or not k.elements:
        return 0.0
    head = q.elements * kv_length / scores  # D, the Q.K^T contraction
    value = head * v.elements / k.elements  # Dv
    if backward:  # recomputed Q.K^T, dQ, dK (each D), dV, dP (each Dv)
        return float(FMA_FLOPS * scores * (3 * head + 2 * value))
    return float(FMA_FLOPS * scores * (head + value))


def _library_gemm_flops(inst: Instruction, operands: list[Shape], result: Shape) -> float:
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
    return float(FMA_FLOPS * result.elements * width)


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
    if is_tiled(inst.shape):
        return _tpu_gather(inst, ops)
    out = shape_bytes(inst.shape)
    return Cost(bytes_read=out + shape_bytes(ops[1]), bytes_written=out)


def _tpu_gather(inst: Instruction, ops: list[Shape]) -> Cost:
    """XLA:TPU's gather (see `tpu_shape_bytes`): one slice per element of the result's batch
    dimensions padded to the result's tiles, each reading the whole tiles it touches in the
    operand's layout; the indices read and the result written in full (padded).

    Evidence (TPU v5e, libtpu 0.0.42.1): 100 rows of f32[64,1024] read 104 x 32 KiB (the result
    f32[100,1024] pads to 104 rows; a row pads to 8 x 1024); 100 single elements read 128 x 4 KiB
    (f32[100] pads to 128); take_along_axis on f32[8,64,256] reads 8 x 128 x 4 KiB; rows of
    f32[256,128] and f32[1024,64], and [1,24,300] blocks of f32[16,24,300], likewise."""
    operand, indices = ops[0], ops[1]
    slice_sizes = int_list(inst.attrs.get("slice_sizes", "{}"))
    offset_dims = set(int_list(inst.attrs.get("offset_dims", "{}")))
    padded = tiled_dims(inst.shape)
    slices = math.prod(n for d, n in enumerate(padded) if d not in offset_dims)
    per_slice = tiled_byte_size(operand, slice_sizes)
    return Cost(bytes_read=slices * per_slice + shape_bytes(indices), bytes_written=shape_bytes(inst.shape))


def _tpu_scatter(inst: Instruction, ops: list[Shape]) -> Cost:
    """XLA:TPU's scatter (see `_tpu_gather`): the indices and updates read in full; of each operand,
    the whole tiles each update window touches (one window per element of the updates' batch
    dimensions, padded to the updates' tiles) read and written, even when the windows overlap
    and so add up to more than the operand.

    Evidence (TPU v5e, libtpu 0.0.42.1): 77 rows into f32[1000,96] read and write 80 x 4 KiB;
    512 rows into f32[256,128] (the transformer's tied-embedding gradient) 512 x 4 KiB, 16 times
    the operand; 128 rows into f32[1024,64] and 512 into f32[4096,128] 128 and 512 x 4 KiB."""
    n = (len(ops) - 1) // 2
    operands, indices, updates = ops[:n], ops[n], ops[n + 1:]
    window_dims = int_list(inst.attrs.get("update_window_dims", "{}"))
    inserted = set(int_list(inst.attrs.get("inserted_window_dims", "{}")))
    touched = 0
    for operand, update in zip(operands, updates, strict=True):
        sizes = iter(update.dims[d] for d in window_dims)
        window = tuple(1 if d in inserted else next(sizes, 1) for d in range(operand.rank))
        padded = tiled_dims(update)
        windows = math.prod(k for d, k in enumerate(padded) if d not in window_dims)
        touched += windows * tiled_byte_size(operand, window)
    read = touched + shape_bytes(indices) + sum(shape_bytes(u) for u in updates)
    return Cost(bytes_read=read, bytes_written=touched)


def _scatter(a: _Analysis, comp: Computation, inst: Instruction, ops: list[Shape]) -> Cost:
    n = (len(ops) - 1) // 2
    updates = ops[n + 1:]
    flops = a.reducer_flops(inst, updates[0].elements)
    if is_tiled(_first_array(inst.shape)):
        return _tpu_scatter(inst, ops) + flops
    update_bytes = sum(shape_bytes(u) for u in updates)
    # Reads the updated part of the operand and the updates, writes the updated part.
    read = 2 * update_bytes + shape_bytes(ops[n])
    return Cost(bytes_read=read, bytes_written=update_bytes) + flops


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
    for _ in range(len(comp.instructions)):  # bounded: a cycle of copies must not loop forever
        if inst is None or inst.opcode not in ("copy", "convert", "bitcast") or not inst.operands:
            break
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
    return _Shared(module).xla.instruction(comp, inst)


def _control_flow_computations(module: Module) -> list[str]:
    """The entry and every computation control flow runs from it, each once, in discovery order."""
    order: dict[str, None] = {}
    pending = collections.deque([module.entry_name])
    while pending:
        name = pending.popleft()
        if name in order:
            continue
        order[name] = None
        for inst in module.computations[name].instructions:
            if inst.opcode in CONTROL_FLOW:
                pending.extend(_name(c) for c in inst.called)
    return list(order)


def module_cost(module: Module) -> ModuleCost:
    """The cost of a module, per instruction and in total, with irscope's own estimates beside XLA's.

    Returns a frozen `ModuleCost`; `totals` follows XLA (`Compiled.cost_analysis()`), the rest is
    labelled in `provenance`.

    Example:
        >>> cost = module_cost(parse_module(jax.jit(f).lower(x).compile().as_text()))
        >>> cost.totals.flops, cost.summary()
    """
    shared = _Shared(module)
    xla = shared.xla
    per_instruction: dict[tuple[str, str], Cost] = {}
    trips: dict[str, int | None] = {}
    custom: dict[tuple[str, str], Cost] = {}
    for name in _control_flow_computations(module):
        comp = module.computations[name]
        for inst, fig in zip(comp.instructions, xla.figures(name), strict=True):
            per_instruction[(name, inst.name)] = _cost(fig)
            if inst.opcode == "while":
                trips[inst.name] = trip_count(module, comp, inst)
    for comp in module.computations.values():
        for inst in comp.instructions:
            if inst.opcode == "custom-call":
                custom[(comp.name, inst.name)] = custom_call_shape_cost(
                    inst, [s.shape for s in comp.operands_of(inst)])
    unfused = _Analysis(module, mode=_UNFUSED_MODE, shared=shared).total(module.entry_name)
    estimated = _Analysis(module, mode=_ESTIMATED_MODE, shared=shared).total(module.entry_name)
    return ModuleCost(
        totals=_cost(xla.total(module.entry_name)),
        per_instruction=per_instruction,
        totals_with_trip_counts=_cost(estimated),
        trip_counts=trips,
        custom_calls=custom,
        unfused_bytes_accessed=unfused[2],
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
