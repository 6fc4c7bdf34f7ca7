"""Fusion groups: every kernel a module launches, in execution order, with what was fused into it.

A kernel is one launch: a fusion (XLA's kinds kLoop, kInput, kOutput, kCustom, and the backend's own
name for a kCustom fusion such as `__triton_gemm` or `__ynn_fusion`), or an instruction that runs
unfused (a `dot`, a `copy`, a collective, a custom call). Instructions that launch nothing —
parameters, constants, tuples, get-tuple-element, bitcasts, the `-done` half of async pairs — are
not kernels. An async pair -- `X-start` ... `X-done`, native or XLA's printed shorthand for an async
X, or an `async-start` wrapping one op -- is one kernel of X (kind `collective` for a collective, `op` for
a copy), whose `cost_parts` are the start, its updates and its done. Control flow is followed: the kernels of while bodies and conditions, conditional
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

from irscope.errors import CyclicModuleError as CyclicModuleError
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
    """The launching instruction itself (for an async wrapper, the op it wraps)."""
    parts: tuple[tuple[str, str], ...] = ()
    """(computation, instruction) pairs whose costs make up the kernel's (XLA's per-instruction
    figures): an async pair's start, updates and done. Empty: just (computation, name)."""

    @property
    def cost_parts(self) -> tuple[tuple[str, str], ...]:
        """The (computation, instruction) pairs to add up for this kernel's cost."""
        return self.parts or ((self.computation, self.name),)

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


# Native async halves and the ops they belong to. Any other `X-start`/`X-update`/`X-done` is XLA's
# printed shorthand for an `async-start`/`-update`/`-done` wrapping one X (`all-to-all-start`).
_NATIVE_ASYNC = frozenset({
    "all-reduce-start", "all-gather-start", "collective-permute-start", "copy-start", "async-start",
    "all-reduce-done", "all-gather-done", "collective-permute-done", "copy-done", "async-done",
    "async-update", "send", "send-done", "recv", "recv-done",
})


def async_base(opcode: str) -> str | None:
    """The op an async start stands for: `all-to-all-start` -> `all-to-all`, `copy-start` -> `copy`,
    `send` -> `send`; None for anything that does not start an async pair."""
    if opcode in ("send", "recv"):
        return opcode
    if opcode.endswith("-start") and opcode != "async-start":
        return opcode[: -len("-start")]
    return None


def _is_async_continuation(opcode: str) -> bool:
    return opcode.endswith(("-done", "-update"))


def _continuations(comp: Computation) -> dict[str, tuple[str, ...]]:
    """Start instruction -> the `-update`/`-done` instructions that continue it, in order."""
    chains: dict[str, tuple[str, ...]] = {}
    origin: dict[str, str] = {}
    for inst in comp.instructions:
        opcode = inst.opcode
        if inst.operands and _is_async_continuation(opcode):
            first = inst.operands[0]
            start = origin.get(first, first)
            origin[inst.name] = start
            chains[start] = (*chains.get(start, ()), inst.name)
    return chains


def find_kernels(module: Module) -> list[Kernel]:
    """Every kernel of the module in execution order (text order, which is the schedule when the
    module `is_scheduled`), descending into control flow. Raises `CyclicModuleError` when a
    computation calls itself."""
    return list(_walk(module))


def _walk(module: Module) -> Iterator[Kernel]:
    # An explicit stack of (computation, path, next instruction index): any depth of control flow.
    tensors: dict[int, Tensor] = {}

    def tensor(inst: Instruction) -> Tensor:
        found = tensors.get(id(inst))
        if found is None:
            found = tensors[id(inst)] = Tensor(inst.name, inst.shape)
        return found

    pallas_possible = _mentions_pallas(module)
    # Frames: (computation, path of control instructions, computations on the call chain, next index,
    # async chains of the computation).
    stack: list[tuple[Computation, tuple[str, ...], tuple[str, ...], int, dict[str, tuple[str, ...]]]] = [
        (module.entry, (), (module.entry_name,), 0, _continuations(module.entry))]
    while stack:
        comp, path, chain, index, chains = stack.pop()
        by_name = comp.by_name
        instructions = comp.instructions
        while index < len(instructions):
            inst = instructions[index]
            index += 1
            opcode = inst.opcode
            if opcode in NO_LAUNCH or _is_async_continuation(opcode):
                continue
            pallas_scope = pallas_possible and in_pallas_scope(inst)
            if opcode in CONTROL and (pallas_scope or is_pallas_grid_loop(module, comp, inst)):
                # A Pallas kernel in interpret mode: one kernel, with its grid loop inside.
                body = module.computations[inst.called[0]]
                inputs = tuple(tensor(by_name[o]) for o in inst.operands)
                yield Kernel(inst.name, comp.name, path, "pallas", opcode, tuple(_loop_ops(module, body)),
                             (inst.name,), inputs, _outputs(inst), body.name, inst.op_name, inst)
                continue
            if opcode == "async-start" and inst.called:
                wrapped_comp = module.computations[inst.called[0]]
                wrapped = _single_launch(wrapped_comp)
                if wrapped is not None:
                    # An async wrapper of one op (a collective, a fusion, a custom call): that op is
                    # the kernel, and the wrapper's start, updates and done are its cost.
                    rest = chains.get(inst.name, ())
                    done = by_name[rest[-1]] if rest else None
                    yield _kernel(module, wrapped_comp, (*path, inst.name), wrapped, wrapped.opcode,
                                  tuple(tensor(wrapped_comp.by_name[o]) for o in wrapped.operands),
                                  ((comp.name, inst.name), *((comp.name, name) for name in rest)),
                                  pallas_possible, _outputs(done) if done is not None else None)
                    continue
            if opcode in CONTROL:
                # The callees' kernels run; the control instruction itself launches nothing.
                # (A while runs body and condition; a conditional one branch; a call its callee.)
                stack.append((comp, path, chain, index, chains))
                for callee in reversed(inst.called):
                    if callee in chain:
                        raise CyclicModuleError(f"computation {callee!r} runs itself (through {inst.name!r})")
                    target = module.computations[callee]
                    stack.append((target, (*path, inst.name), (*chain, callee), 0, _continuations(target)))
                break
            inputs = tuple(tensor(by_name[o]) for o in inst.operands)
            base = async_base(opcode)
            if base is not None:
                # `X-start` ... `X-done` (a native pair, or the shorthand of an async X): one kernel
                # of X, whose outputs are what the done returns, costed as the whole chain.
                rest = chains.get(inst.name, ())
                done = by_name[rest[-1]] if rest else None
                if base == "fusion" and not inst.called:
                    base = "op"
                yield _kernel(module, comp, path, inst, base, inputs,
                              ((comp.name, inst.name), *((comp.name, name) for name in rest)), pallas_possible,
                              _outputs(done) if done is not None and base != "send" else None)
                continue
            yield _kernel(module, comp, path, inst, opcode, inputs, (), pallas_possible)


def _kernel(module: Module, comp: Computation, path: tuple[str, ...], inst: Instruction, opcode: str,
            inputs: tuple[Tensor, ...], parts: tuple[tuple[str, str], ...], pallas_possible: bool,
            outputs: tuple[Tensor, ...] | None = None) -> Kernel:
    """The kernel `inst` launches, as an op of `opcode` (for an async pair, the op it stands for)."""
    outputs = _outputs(inst) if outputs is None else outputs
    pallas_scope = pallas_possible and in_pallas_scope(inst)
    if opcode == "fusion":
        fused = module.computations[inst.called[0]]
        # A Pallas kernel, or what XLA made of an inlined one-step grid (maybe fused with
        # its neighbours: the fusion then holds the kernel's body).
        pallas = pallas_possible and (pallas_scope or _is_pallas_fusion(module, fused.name) or any(
            _is_pallas_body_op(i) for i in fused.instructions))
        kind = "pallas" if pallas else _fusion_kind(inst)
        return Kernel(inst.name, comp.name, path, kind, inst.opcode, _ops(fused), _roots(fused), inputs,
                      outputs, fused.name, inst.op_name, inst, parts)
    if opcode == "custom-call":
        kind = _custom_call_kind(inst)
    elif pallas_scope:
        kind = "pallas"
    elif opcode in COLLECTIVES:
        kind = "collective"
    else:
        kind = "op"
    return Kernel(inst.name, comp.name, path, kind, inst.opcode, (opcode,), (inst.name,), inputs,
                  outputs, None, inst.op_name, inst, parts)


def _single_launch(wrapped: Computation) -> Instruction | None:
    """The one instruction of an async computation that launches work, or None (none, or several)."""
    launches = [i for i in wrapped.instructions if i.opcode not in NO_LAUNCH]
    if len(launches) != 1 or launches[0].opcode in CONTROL:
        return None
    return launches[0]


def _mentions_pallas(module: Module) -> bool:
    """Whether anything in the module can be a Pallas kernel (a cheap test that spares modules without
    Pallas, nearly all, the per-instruction checks)."""
    for comp in module.computations.values():
        for inst in comp.instructions:
            if "allas" in inst.attrs.get("metadata", "") or (
                    inst.opcode == "custom-call" and _custom_call_kind(inst) == "pallas"):
                return True
    return False
