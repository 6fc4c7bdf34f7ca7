"""Fusion groups: every kernel a module launches, in execution order, with what was fused into it.

A kernel is one launch: a fusion (XLA's kinds kLoop, kInput, kOutput, kCustom, and the backend's own
name for a kCustom fusion such as `__triton_gemm` or `__ynn_fusion`), or an instruction that runs
unfused (a `dot`, a `copy`, a collective, a custom call). Instructions that launch nothing —
parameters, constants, tuples, get-tuple-element, bitcasts, the `-done` half of async pairs — are
not kernels. Control flow is followed: the kernels of while bodies and conditions, conditional
branches, calls, async wrappers and command buffers are listed where they run, with the path of
control-flow instructions that leads to them.

Not handled yet: kernels a backend creates below HLO (a cuDNN graph's internal kernels, or the
several CUDA kernels one XLA:GPU fusion can become); those are matched in the measure pass.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

from irscope.ir.hlo import Computation, Instruction, Module, Shape

# Opcodes that launch nothing: they name, reshape in place, or wait for other work.
NO_LAUNCH = frozenset({
    "parameter", "constant", "get-tuple-element", "tuple", "bitcast", "after-all", "add-dependency",
    "opt-barrier", "domain", "partition-id", "replica-id", "iota-shape", "get-dimension-size",
})
# Opcodes whose callees run as part of the program (the callee's kernels are listed, not this op).
CONTROL = frozenset({"while", "conditional", "call", "async-start", "async-update", "async-done"})
COLLECTIVES = frozenset({
    "all-reduce", "all-gather", "reduce-scatter", "all-to-all", "collective-permute",
    "collective-broadcast", "ragged-all-to-all", "all-reduce-start", "all-gather-start",
    "collective-permute-start", "send", "recv",
})
# Custom-call targets that are Pallas/Mosaic kernels (TPU, GPU Triton and Mosaic GPU lowerings).
PALLAS_TARGETS = frozenset({"tpu_custom_call", "__gpu$xla.gpu.triton", "mosaic_gpu", "mosaic_gpu_v2"})


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
        if opcode in CONTROL or (opcode.endswith("-start") and inst.called and opcode not in COLLECTIVES):
            # The callees' kernels run; the control instruction itself launches nothing.
            # (A while runs body and condition; a conditional one branch; a call its callee.)
            for callee in inst.called:
                yield from _walk(module, module.computations[callee], (*path, inst.name))
            continue
        inputs = tuple(_input(by_name[o]) for o in inst.operands)
        if opcode == "fusion":
            fused = module.computations[inst.called[0]]
            kind = "pallas" if _is_pallas_fusion(module, fused.name) else _fusion_kind(inst)
            yield Kernel(inst.name, comp.name, path, kind, opcode, _ops(fused), _roots(fused), inputs,
                         _outputs(inst), fused.name, inst.op_name, inst)
            continue
        if opcode == "custom-call":
            kind = _custom_call_kind(inst)
        elif opcode in COLLECTIVES:
            kind = "collective"
        else:
            kind = "op"
        yield Kernel(inst.name, comp.name, path, kind, opcode, (opcode,), (inst.name,), inputs,
                     _outputs(inst), None, inst.op_name, inst)


def _input(inst: Instruction) -> Tensor:
    return Tensor(inst.name, inst.shape)
