"""Physical layouts: the minor-to-major order of every kernel's tensors, and the kernels that reorder memory.

XLA's layout assignment picks, for every array, the order its dimensions lie in memory (printed as
`f32[8,3,32,32]{1,3,2,0}`: minor-to-major, so that one is NCHW logically and NHWC physically). Where an
instruction wants its operand in another order than the producer wrote it, XLA inserts a `copy` that
changes the layout, or keeps a `transpose` that moves data; later passes may fuse those into a
kernel. `layouts(module)` reports, per kernel (`irscope.passes.fusion.find_kernels`), the layouts of
its inputs and outputs, and marks a kernel as *layout-changing* when it is, or its fused computation
holds, a transpose or copy whose result lies in memory in another order than its operand:

- a `copy` whose result layout differs from its operand's;
- a `transpose` that is not a bitcast (its permutation, read through both layouts, moves data).

Dimensions of size 1 are ignored in both tests (moving them moves no bytes). A kernel's traffic is
XLA's bytes accessed for it (`irscope.passes.cost`), so the share of the program's traffic spent on
reordering is `LayoutReport.layout_bytes / total_bytes`. `where` says whether the reordering op is
the kernel itself (`kernel`), the root of its fusion (`root`), or inside it (`inner`; the kernel
also computes something else, so only part of its traffic is the reorder).

Not handled yet: tiled layouts (`T(8,128)`, TPU and some GPU layouts: the tile order is compared only
through the minor-to-major tuple), layout changes hidden in custom calls (cuDNN's own transposes), and
which XLA pass inserted a copy (that needs the pass dump; `irscope.passes.pipeline` shows it).
"""

from __future__ import annotations

from dataclasses import dataclass

from irscope.ir.attrs import int_list
from irscope.ir.hlo import Instruction, Module, Shape
from irscope.passes.cost import module_cost
from irscope.passes.fusion import find_kernels


def minor_to_major(shape: Shape) -> tuple[int, ...]:
    """The shape's layout, or XLA's default (row-major: `{rank-1, ..., 0}`) when none is printed."""
    return shape.layout if shape.layout is not None else tuple(range(shape.rank - 1, -1, -1))


def physical_order(shape: Shape, labels: tuple[int, ...] | None = None) -> tuple[int, ...]:
    """Dimensions from major to minor in memory, named by `labels[d]` (default: d), size-1 ones left out."""
    names = labels if labels is not None else tuple(range(shape.rank))
    return tuple(names[d] for d in reversed(minor_to_major(shape)) if shape.dims[d] != 1)


def moves_data(inst: Instruction, operand: Shape) -> bool:
    """Whether a transpose or copy writes its result in another physical order than it reads."""
    result = inst.shape
    if not (result.is_array and operand.is_array) or result.rank != operand.rank:
        return False
    if inst.opcode == "copy":
        return physical_order(operand) != physical_order(result)
    if inst.opcode == "transpose":
        dims = int_list(inst.attrs.get("dimensions", "{}")) or tuple(range(result.rank))
        # Result dimension i is operand dimension dims[i]: name both in the operand's dimensions.
        return physical_order(operand) != physical_order(result, dims)
    return False


def layout_text(shape: Shape) -> str:
    """`{1,3,2,0}` (the default order is printed too)."""
    return "{" + ",".join(map(str, minor_to_major(shape))) + "}"


@dataclass(frozen=True)
class KernelLayout:
    """One kernel's tensors and whether it reorders memory."""

    name: str
    """Qualified kernel name."""
    kind: str
    """The kernel's kind (`kLoop`, `op`, ...)."""
    opcode: str
    """The launching instruction's opcode."""
    inputs: tuple[tuple[str, str], ...]
    """(shape without layout, minor-to-major) of each operand."""
    outputs: tuple[tuple[str, str], ...]
    """(shape without layout, minor-to-major) of each result."""
    layout_change: str | None
    """`transpose` or `copy` when the kernel reorders memory, else None."""
    where: str | None
    """`kernel` (the kernel is the op), `root` (its fusion's root), `inner` (elsewhere in the fusion)."""
    bytes: float
    """XLA's bytes accessed by the kernel."""
    op_name: str | None
    """The framework scope."""

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "kind": self.kind, "opcode": self.opcode,
                "inputs": [list(t) for t in self.inputs], "outputs": [list(t) for t in self.outputs],
                "layout_change": self.layout_change, "where": self.where, "bytes": self.bytes,
                "op_name": self.op_name}


@dataclass(frozen=True)
class LayoutReport:
    """Every kernel's layouts, and the layout-changing ones' share of the traffic."""

    module: str
    kernels: tuple[KernelLayout, ...]
    """In execution order."""
    total_bytes: float
    """XLA's bytes accessed by all kernels (loops once)."""
    schema: str = "irscope.layouts/1"

    @property
    def layout_kernels(self) -> tuple[KernelLayout, ...]:
        """The kernels that reorder memory."""
        return tuple(k for k in self.kernels if k.layout_change is not None)

    @property
    def layout_bytes(self) -> float:
        """Bytes accessed by the layout-changing kernels."""
        return sum(k.bytes for k in self.layout_kernels)

    @property
    def layout_share(self) -> float:
        """layout_bytes / total_bytes (0 for a module that moves nothing)."""
        return self.layout_bytes / self.total_bytes if self.total_bytes > 0 else 0.0

    def to_json(self) -> dict[str, object]:
        return {"schema": self.schema, "module": self.module, "total_bytes": self.total_bytes,
                "layout_bytes": self.layout_bytes, "layout_share": self.layout_share,
                "kernels": [k.to_json() for k in self.kernels]}


def _change(module: Module, kernel_inst: Instruction, comp_name: str) -> tuple[str | None, str | None]:
    """(opcode, where) of the first data-moving transpose or copy of a kernel."""
    comp = module.computations[comp_name]
    if kernel_inst.opcode in ("transpose", "copy"):
        operand = comp.by_name[kernel_inst.operands[0]].shape
        return (kernel_inst.opcode, "kernel") if moves_data(kernel_inst, operand) else (None, None)
    if kernel_inst.opcode != "fusion" or not kernel_inst.called:
        return None, None
    fused = module.computations[kernel_inst.called[0]]
    roots = set(fused.root.operands) if fused.root.opcode == "tuple" else {fused.root_name}
    found: tuple[str | None, str | None] = (None, None)
    for inst in fused.instructions:
        if inst.opcode in ("transpose", "copy") and moves_data(inst, fused.by_name[inst.operands[0]].shape):
            if inst.name in roots:
                return inst.opcode, "root"
            if found[0] is None:
                found = (inst.opcode, "inner")
    return found


def layouts(module: Module) -> LayoutReport:
    """Layouts of every kernel's inputs and outputs, and which kernels reorder memory.

    Example:
        >>> report = layouts(parse_module(compiled.as_text()))
        >>> [(k.name, k.layout_change, k.bytes) for k in report.layout_kernels], report.layout_share
    """
    cost = module_cost(module)
    out = []
    total = 0.0
    for k in find_kernels(module):
        c = cost.per_instruction.get((k.computation, k.name))
        nbytes = c.bytes_accessed if c is not None else float(sum(t.bytes for t in (*k.inputs, *k.outputs)))
        total += nbytes
        change, where = _change(module, k.instruction, k.computation)
        out.append(KernelLayout(
            name=k.qualified_name, kind=k.kind, opcode=k.opcode,
            inputs=tuple((t.shape.short(), layout_text(t.shape)) for t in k.inputs if t.shape.is_array),
            outputs=tuple((t.shape.short(), layout_text(t.shape)) for t in k.outputs),
            layout_change=change, where=where, bytes=nbytes, op_name=k.op_name))
    return LayoutReport(module=module.name, kernels=tuple(out), total_bytes=total)
