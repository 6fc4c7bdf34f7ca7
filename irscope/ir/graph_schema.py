"""The kernel graph's node and edge attributes, typed once.

A kernel graph is a `networkx.MultiDiGraph` of one computation (graph attributes `module`,
`computation`, and `format` = `tflite` for a TFLite subgraph). Two builders make it:
`irscope.passes.kernel_graph.build_kernel_graph` (HLO) and `irscope.ir.tflite.build_kernel_graph`
(TFLite); `irscope.render.graph_view` draws it and `graph_to_json` writes it. They all read and write
the attributes below.
"""

from __future__ import annotations

from typing import Any, TypedDict

# Node kinds that are not kernels: inputs drawn beside the kernels, and control flow that stands for
# the kernels it runs (counted where they run, as the report's table counts them).
NOT_KERNELS = frozenset({"parameter", "constant", "control"})


class FusedInstruction(TypedDict, total=False):
    """One instruction of a fusion's computation (in `KernelNode.fused`)."""

    name: str
    opcode: str
    operands: list[str]
    shape: str
    parameter_number: int
    """Only for a `parameter`: which operand of the fusion it is."""


class KernelNode(TypedDict, total=False):
    """A node: a kernel (`kind` a fusion kind, `op`, `custom-call`, `collective`, `pallas`), an input
    (`parameter`, `constant`) or control flow (`control`)."""

    kind: str
    opcode: str
    ops: list[str]
    """Opcodes it runs, in order (its own opcode when unfused)."""
    op_name: str | None
    """The framework scope (`jit(f)/layer_2/dot_general`), or a TFLite tensor's name."""
    shape: str
    """Result shape in XLA's spelling (`f32[256,1024]{1,0}`)."""
    fused: list[FusedInstruction]
    bytes_read: float
    bytes_written: float
    flops: float
    transcendentals: float
    intensity: float | None
    """FLOPs per byte; None until placed on a roofline."""
    bound: str | None
    """`memory` or `compute` on the chip's roofline; None until placed."""
    time_at_peak_s: float | None
    dtype: str
    """The dtype whose peak applies (HLO), or an input tensor's dtype (TFLite)."""
    called: list[str]
    """For `control`: the computations it runs."""
    kernels: int
    """For `control`: the kernels it runs (each once, as the report's table lists them)."""
    # TFLite only (irscope.ir.tflite.build_kernel_graph, irscope.passes.quantization):
    index: int
    """An operator's index in its subgraph."""
    tensor: int
    """An input or constant node's tensor index."""
    precision: str
    """The precision the operator computes in (`int8`, `float32`, ...)."""
    weights: str | None
    """Its weights' dtype and form (`int8 per-ch`), None without weights."""
    boundary: str | None
    """`quantize` / `dequantize` for a precision boundary, else None."""
    fallback: bool
    """Whether it runs in float in a model converted to integers."""
    macs: float


class TensorEdge(TypedDict, total=False):
    """An edge: a tensor from its producer to one consumer."""

    shape: str
    dtype: str
    bytes: int
    operand_index: int
    """Which operand of the consumer it is."""
    tensor: int
    """TFLite only: the tensor's index in its subgraph."""
    quantization: str | None
    """TFLite only: a short summary (`s=0.0039 zp=-128`), None for an unquantized tensor."""


def empty_costs() -> dict[str, Any]:
    """The cost attributes of a node nothing has costed yet."""
    return {"bytes_read": 0.0, "bytes_written": 0.0, "flops": 0.0, "transcendentals": 0.0,
            "intensity": None, "bound": None, "time_at_peak_s": None}


def is_kernel(node: KernelNode | dict[str, Any]) -> bool:
    """Whether a node is a kernel launch (not an input or a control-flow instruction)."""
    return node.get("kind") not in NOT_KERNELS


def kernel_count(node: KernelNode | dict[str, Any]) -> int:
    """How many of the report's kernels a node stands for: 1 for a kernel, the kernels a control-flow
    instruction runs, 0 for an input."""
    if node.get("kind") == "control":
        return int(node.get("kernels") or 0)
    return 1 if is_kernel(node) else 0
