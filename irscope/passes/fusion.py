"""Fusion groups: every kernel a module launches, in execution order, with what was fused into it.

A kernel is one launch: a fusion (XLA's kinds kLoop, kInput, kOutput, kCustom, and the backend's own
name for a kCustom fusion such as `__triton_gemm` or `__ynn_fusion`), or an instruction that runs
unfused (a `dot`, a `copy`, a collective, a custom call). Instructions that launch nothing —
parameters, constants, tuples, get-tuple-element, bitcasts, the `-done` half of async pairs — are
not kernels. Control flow is followed: the kernels of while bodies and conditions, conditional
branches, calls, async wrappers and command buffers are listed where they run, with the path of
control-flow instructions that leads to them.

A Pallas kernel is one kernel of kind `pallas` wherever it appears. On GPU and TPU it is a custom call
(`PALLAS_TARGETS`). In interpret mode (the CPU), `pallas_call` lowers to ordinary HLO, a while loop
over the grid that dynamic-slices each block out of its array and dynamic-update-slices each result
block back; irscope recognises that loop, reported as one kernel with the loop inside, by two marks:

- the loop's state starts with two s32 scalars (the step counter, a grid index) and carries an
  array that enters the loop filled with Pallas's "uninitialized" value (NaN for floats, the type's
  minimum for integers: outputs not yet written, and the padding of blocks that overhang their
  array), and the body writes blocks with dynamic-update-slice. No name is needed, so any pallas_call's grid loop is found (and a
  hand-written loop that does exactly this would be taken for one);
- or its `op_name` has a scope that starts with `pallas` (a `pallas_call(..., name="pallas_gelu")`
  opens that scope; irscope's own kernels are named so). This also marks what XLA leaves of a
  one-step grid, whose loop its while-loop simplifier inlines (a fusion holding an op of such a
  kernel's body is `pallas`), and the fill, pad and slice launches around a loop. An unnamed one-step grid, once
  inlined, cannot be told from XLA's own ops.

Not handled yet: kernels a backend creates below HLO (a cuDNN graph's internal kernels, or the
several CUDA kernels one XLA:GPU fusion can become); those are matched in the measure pass.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from irscope.ir.hlo import Computation, Instruction, Module, Shape
from irscope.ir.opcodes import COLLECTIVES as COLLECTIVES
from irscope.ir.opcodes import CONTROL_FLOW as CONTROL
from irscope.ir.opcodes import FILL_PRESERVING as _FILL_TRANSPARENT
from irscope.ir.opcodes import NO_LAUNCH as NO_LAUNCH

# Custom-call targets that are Pallas/Mosaic kernels (TPU, GPU Triton and Mosaic GPU lowerings).
PALLAS_TARGETS = frozenset({"tpu_custom_call", "__gpu$xla.gpu.triton", "mosaic_gpu", "mosaic_gpu_v2"})
# Pallas's interpret mode fills outputs (and overhanging block padding) with this value per element
# type before the grid loop writes them (jax/_src/pallas/primitives.py: uninitialized_value).
_INT_MIN = {"s8": -(2**7), "s16": -(2**15), "s32": -(2**31), "s64": -(2**63)}


@dataclass(frozen=True, slots=True)
class Tensor:
    """A tensor crossing a kernel boundary."""

    name: str
    """The instruction that produces it (a kernel, a parameter, a constant...)."""
    shape: Shape
    """Its shape (an array leaf when the producer returns a tuple)."""

    @property
    def bytes(self) -> int:
        return self.shape.byte_size


@dataclass(frozen=True, slots=True, eq=False)
class Kernel:
    """One kernel launch."""

    name: str
    """The launching instruction's name."""
    computation: str
    """The computation that holds the instruction (the entry, a loop body, a branch...)."""
    path: tuple[str, ...]
    """Control-flow instructions from the entry to here (`("while.3",)` for a loop body's kernel)."""
    kind: str
    """`kLoop`/`kInput`/`kOutput`/`kCustom`, a backend fusion kind (`__triton_gemm`), `pallas`,
    `custom-call`, `collective`, or `op` for an unfused instruction."""
    opcode: str
    """The launching instruction's opcode (`fusion`, `dot`, `custom-call`, ...)."""
    ops: tuple[str, ...]
    """Opcodes of the fused instructions in order, parameters left out ([opcode] when unfused)."""
    roots: tuple[str, ...]
    """The fused computation's outputs: its root, or each operand of a tuple root (multi-output)."""
    inputs: tuple[Tensor, ...]
    """Operands, as the tensors they are."""
    outputs: tuple[Tensor, ...]
    """Results: one per array leaf of the result shape."""
    fused_computation: str | None
    """The computation a fusion calls, or None."""
    op_name: str | None
    """The framework scope of the instruction (`jit(f)/layer_2/dot_general`), from its metadata."""
    instruction: Instruction
    """The launching instruction itself."""

    @property
    def qualified_name(self) -> str:
        """Name unique in the module: `while.3/fusion.2` inside a loop body, `fusion.2` at top level."""
        return "/".join((*self.path, self.name))


def _fusion_kind(inst: Instruction) -> str:
    kind = inst.attrs.get("kind", "kLoop")
    if kind == "kCustom":
        config = inst.attrs.get("backend_config", "")
        named = _backend_fusion_name(config)
        if named:
            return named
    return kind


def _backend_fusion_name(config: str) -> str | None:
    """The `fusion_backend_config.kind` (GPU) or `fusion_config.kind` (CPU) of a backend config."""
    if '"kind"' not in config and "kind:" not in config:
        return None
    try:
        data = json.loads(config[1:-1].encode().decode("unicode_escape") if config.startswith('"') else config)
    except (ValueError, UnicodeDecodeError):
        return None
    for key in ("fusion_backend_config", "fusion_config"):
        section = data.get(key) if isinstance(data, dict) else None
        if isinstance(section, dict) and isinstance(section.get("kind"), str):
            return section["kind"]
    return None


def _custom_call_kind(inst: Instruction) -> str:
    target = inst.attrs.get("custom_call_target", "").strip('"')
    return "pallas" if target in PALLAS_TARGETS else "custom-call"


def _is_pallas_fusion(module: Module, comp_name: str) -> bool:
    comp = module.computations[comp_name]
    return any(i.opcode == "custom-call" and _custom_call_kind(i) == "pallas" for i in comp.instructions)


def in_pallas_scope(inst: Instruction) -> bool:
    """Whether the instruction's `op_name` has a scope starting with `pallas` (the scope a
    `pallas_call(..., name="pallas_...")` opens)."""
    meta = inst.attrs.get("metadata")
    if not meta or "allas" not in meta:  # cheap test first: most modules have no Pallas at all
        return False
    op_name = inst.op_name
    return bool(op_name) and any(part.lower().startswith("pallas") for part in op_name.split("/"))


def _is_pallas_body_op(inst: Instruction) -> bool:
    """An op of a named Pallas kernel's body (its grid loop inlined by XLA)."""
    return in_pallas_scope(inst) and "/while/body/" in (inst.op_name or "")


def is_pallas_grid_loop(module: Module, comp: Computation, loop: Instruction) -> bool:
    """Whether a `while` is the grid loop `pallas_call(..., interpret=True)` lowers to: its state
    starts with an s32 step counter and grid index, one of its arrays enters filled with Pallas's uninitialized value,
    and its body writes blocks with dynamic-update-slice."""
    if loop.opcode != "while" or len(loop.called) < 1 or not loop.operands:
        return False
    init = comp.by_name.get(loop.operands[0])
    if init is None or init.opcode != "tuple" or not init.operands:
        return False
    # (step counter, grid index...): a grid loop XLA kept has at least one grid axis (it inlines a
    # one-step loop), so the state starts with two s32 scalars.
    if len(init.operands) < 3:
        return False
    for name in init.operands[:2]:
        scalar = comp.by_name[name].shape
        if scalar.is_tuple or scalar.dtype != "s32" or scalar.rank != 0:
            return False
    filled = any(
        comp.by_name[o].shape.rank > 0 and _is_fill(module, comp, comp.by_name[o], None, 0)
        for o in init.operands[2:]
    )
    return filled and _writes_blocks(module, module.computations[loop.called[0]], 0)


def _is_fill(module: Module, comp: Computation, inst: Instruction,
             param: Callable[[int], bool] | None, depth: int) -> bool:
    """Whether `inst` holds nothing but Pallas's uninitialized value (looking through copies,
    broadcasts, pads whose padding is the value, and the fusions or calls that wrap them)."""
    if depth > 16:
        return False
    opcode = inst.opcode
    if opcode == "constant":
        return _is_fill_literal(inst)
    if opcode == "parameter":
        return param is not None and param(inst.parameter_number)
    if opcode in _FILL_TRANSPARENT and inst.operands:
        return _is_fill(module, comp, comp.by_name[inst.operands[0]], param, depth + 1)
    if opcode == "pad" and len(inst.operands) == 2:
        # Pallas pads an overhanging block's array with the value; the data inside is real.
        return _is_fill(module, comp, comp.by_name[inst.operands[1]], param, depth + 1)
    if opcode in ("fusion", "call") and inst.called:
        callee = module.computations[inst.called[0]]

        def inner(k: int) -> bool:
            return k < len(inst.operands) and _is_fill(module, comp, comp.by_name[inst.operands[k]], param,
                                                       depth + 1)

        return _is_fill(module, callee, callee.root, inner, depth + 1)
    return False


def _is_fill_literal(inst: Instruction) -> bool:
    values = (inst.literal or "").replace("{", " ").replace("}", " ").replace(",", " ").split()
    if not values:
        return False
    dtype = inst.shape.dtype
    if dtype in _INT_MIN:
        return all(v == str(_INT_MIN[dtype]) for v in values)
    return all(v.lower() in ("nan", "-nan") for v in values)


def _writes_blocks(module: Module, comp: Computation, depth: int) -> bool:
    if depth > 4:
        return False
    for inst in comp.instructions:
        if inst.opcode == "dynamic-update-slice":
            return True
        if inst.opcode in ("fusion", "call") and any(
                _writes_blocks(module, module.computations[c], depth + 1) for c in inst.called):
            return True
    return False


def _loop_ops(module: Module, comp: Computation, depth: int = 0) -> Iterator[str]:
    """Opcodes run by a Pallas grid loop's body, fused computations and nested loops included."""
    for inst in comp.instructions:
        if inst.opcode in NO_LAUNCH:
            continue
        if inst.called and depth < 8 and (inst.opcode == "fusion" or inst.opcode in CONTROL):
            for callee in inst.called:
                yield from _loop_ops(module, module.computations[callee], depth + 1)
            continue
        yield inst.opcode


def _outputs(inst: Instruction) -> tuple[Tensor, ...]:
    return tuple(Tensor(inst.name, leaf) for _, leaf in inst.shape.leaves())


def _roots(fused: Computation) -> tuple[str, ...]:
    root = fused.root
    if root.opcode == "tuple":
        return root.operands
    return (root.name,)


def _ops(fused: Computation) -> tuple[str, ...]:
    return tuple(i.opcode for i in fused.instructions if i.opcode != "parameter")


def find_kernels(module: Module) -> list[Kernel]:
    """Every kernel of the module in execution order (text order, which is the schedule when the
    module `is_scheduled`), descending into control flow."""
    return list(_walk(module, module.entry, ()))


def _walk(module: Module, comp: Computation, path: tuple[str, ...]) -> Iterator[Kernel]:
    by_name = comp.by_name
    for inst in comp.instructions:
        opcode = inst.opcode
        if opcode in NO_LAUNCH or opcode.endswith(("-done", "-update")):
            continue
        if opcode in CONTROL and (in_pallas_scope(inst) or is_pallas_grid_loop(module, comp, inst)):
            # A Pallas kernel in interpret mode: one kernel, with its grid loop inside.
            body = module.computations[inst.called[0]]
            inputs = tuple(_input(by_name[o]) for o in inst.operands)
            yield Kernel(inst.name, comp.name, path, "pallas", opcode, tuple(_loop_ops(module, body)),
                         (inst.name,), inputs, _outputs(inst), body.name, inst.op_name, inst)
            continue
        if opcode in CONTROL or (opcode.endswith("-start") and inst.called and opcode not in COLLECTIVES):
            # The callees' kernels run; the control instruction itself launches nothing.
            # (A while runs body and condition; a conditional one branch; a call its callee.)
            for callee in inst.called:
                yield from _walk(module, module.computations[callee], (*path, inst.name))
            continue
        inputs = tuple(_input(by_name[o]) for o in inst.operands)
        if opcode == "fusion":
            fused = module.computations[inst.called[0]]
            # A Pallas kernel, or what XLA made of an inlined one-step grid (maybe fused with
            # its neighbours: the fusion then holds the kernel's body).
            pallas = _is_pallas_fusion(module, fused.name) or in_pallas_scope(inst) or any(
                _is_pallas_body_op(i) for i in fused.instructions)
            kind = "pallas" if pallas else _fusion_kind(inst)
            yield Kernel(inst.name, comp.name, path, kind, opcode, _ops(fused), _roots(fused), inputs,
                         _outputs(inst), fused.name, inst.op_name, inst)
            continue
        if opcode == "custom-call":
            kind = _custom_call_kind(inst)
        elif in_pallas_scope(inst):
            kind = "pallas"
        elif opcode in COLLECTIVES:
            kind = "collective"
        else:
            kind = "op"
        yield Kernel(inst.name, comp.name, path, kind, opcode, (opcode,), (inst.name,), inputs,
                     _outputs(inst), None, inst.op_name, inst)


def _input(inst: Instruction) -> Tensor:
    return Tensor(inst.name, inst.shape)
