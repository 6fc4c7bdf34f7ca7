"""Where in the user's code an instruction came from: `file:line` from its metadata.

XLA keeps the Python location of each op in the instruction's `metadata`, in one of two forms:
`source_file="/path/model.py" source_line=32` (older XLA, and what `jax.jit` printed until 2025), or
`stack_frame_id=12` pointing into the module's `FileNames`/`FunctionNames`/`FileLocations`/`StackFrames`
tables (newer XLA; the parser reads them into `Module.stack_frames`). Frame 12 is the innermost call,
its parents the callers; JAX records only user frames, so the innermost one is the user's line.

A fusion's own metadata is usually its root's; when it has none, the fused instructions are asked,
root first. Not handled yet: choosing among several user frames (a helper called from many places
reports the helper's line).
"""

from __future__ import annotations

from irscope.ir.attrs import metadata_fields
from irscope.ir.hlo import Instruction, Module


def instruction_location(module: Module, inst: Instruction) -> str | None:
    """`/path/model.py:32` for one instruction, or None when its metadata names no place."""
    meta = inst.attrs.get("metadata")
    if not meta:
        return None
    fields = metadata_fields(meta)
    source_file, source_line = fields.get("source_file"), fields.get("source_line")
    if source_file and source_line and source_line.lstrip("-").isdigit() and int(source_line) > 0:
        return f"{source_file}:{int(source_line)}"
    frame_id = fields.get("stack_frame_id")
    if frame_id and frame_id.isdigit():
        frame = module.stack_frames.get(int(frame_id))
        if frame is not None and frame[0] != "?" and frame[2] > 0:
            return f"{frame[0]}:{frame[2]}"
    return None


def kernel_location(module: Module, launcher: Instruction, fused_computation: str | None = None) -> str | None:
    """The location of a kernel: its launching instruction's, else (a fusion) the first fused
    instruction that has one, root first, then from the last instruction back."""
    found = instruction_location(module, launcher)
    if found is not None or fused_computation is None:
        return found
    computation = module.computations.get(fused_computation)
    if computation is None:
        return None
    root = computation.by_name.get(computation.root_name)
    candidates = ([root] if root is not None else []) + list(reversed(computation.instructions))
    for inst in candidates:
        found = instruction_location(module, inst)
        if found is not None:
            return found
    return None
