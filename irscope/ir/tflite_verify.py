"""Check that a parsed TFLite model is well formed before any analysis reads it.

`irscope.ir.tflite.read_tflite` already refuses what would make the flatbuffer accessors misbehave
(lengths past the end of the file, indices out of their tables). A model can pass that and still
be wrong in ways that an analysis trips over: a tensor written by two operators, operators that feed
each other in a cycle, a control-flow operator naming a subgraph that does not exist or that calls
itself, per-channel scales that do not match the channel dimension, a constant whose buffer is
smaller than its shape says, sizes that no float can hold. `verify_tflite(model)` finds those and
raises one `TFLiteVerifyError` naming the subgraph, the operator or tensor and what is wrong.

The checks follow what TFLite's `InterpreterBuilder` and `Subgraph::AllocateTensors` refuse (tensor
and buffer sizes, subgraph indices of WHILE/IF/CALL_ONCE), plus the dataflow rules the kernel graph
relies on. Bounds, as on the HLO side (`irscope.ir.verify`): a tensor's element count and byte size
below 2**63, and control flow nesting at most 64 subgraphs deep. Every walk is iterative.

Not checked yet: per-operator input counts and shapes (the analyses guard every optional input),
sparsity parameters, and signature names.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from irscope.errors import TFLiteVerifyError as TFLiteVerifyError
from irscope.ir.tflite import TENSOR_TYPES, Operator, Subgraph, TFLiteModel
from irscope.ir.verify import post_order

MAX_TENSOR_BYTES = 2**63 - 1
"""Largest element count and byte size of one tensor (int64, as TFLite's own sizes are)."""
MAX_NESTING = 64
"""Deepest chain of subgraphs calling subgraphs (WHILE, IF, CALL_ONCE, CALL)."""

# Builtin option fields that name a subgraph (from the TFLite schema's WhileOptions, IfOptions,
# CallOnceOptions, CallOptions and StablehloWhile/Case/Composite options).
SUBGRAPH_OPTIONS = (
    "cond_subgraph_index", "body_subgraph_index", "then_subgraph_index", "else_subgraph_index",
    "init_subgraph_index", "subgraph", "decomposition_subgraph_index", "branch_subgraph_indices",
)
_KNOWN_DTYPES = frozenset(name for name, _ in TENSOR_TYPES.values())


def verify_tflite(model: TFLiteModel) -> TFLiteModel:
    """Raise `TFLiteVerifyError` if `model` is not well formed; return it unchanged otherwise."""
    if not model.subgraphs:
        raise TFLiteVerifyError(f"{model.source}: the model has no subgraph")
    for sg in model.subgraphs:
        _check_tensors(model, sg)
        _check_dataflow(model, sg)
    _check_calls(model)
    for sig in model.signatures:
        if not 0 <= sig.subgraph < len(model.subgraphs):
            _fail(model, f"signature '{sig.key}' names subgraph {sig.subgraph} of {len(model.subgraphs)}")
        n = len(model.subgraphs[sig.subgraph].tensors)
        for name, index in (*sig.inputs, *sig.outputs):
            if not 0 <= index < n:
                _fail(model, f"signature '{sig.key}': tensor {index} ('{name}') is out of range ({n} tensors)")
    return model


def _fail(model: TFLiteModel, message: str, where: str = "") -> None:
    raise TFLiteVerifyError(f"{model.source}: {where + ': ' if where else ''}{message}")


def _op_where(sg: Subgraph, op: Operator) -> str:
    return f"subgraph {sg.index}, operator {op.index} ({op.opcode})"


def _check_tensors(model: TFLiteModel, sg: Subgraph) -> None:
    for t in sg.tensors:
        where = f"subgraph {sg.index}, tensor {t.index} ('{t.name[:40]}')"
        if t.dtype not in _KNOWN_DTYPES:
            _fail(model, f"unknown tensor type {t.dtype.removeprefix('unknown_')}", where)
        if any(d < 0 for d in t.shape):
            _fail(model, f"negative dimension in shape {list(t.shape)}", where)
        if t.elements > MAX_TENSOR_BYTES or t.nbytes > MAX_TENSOR_BYTES:
            _fail(model, f"shape {list(t.shape)} holds more than 2**63 elements or bytes", where)
        if t.is_constant and t.bits and not t.sparse and t.buffer_bytes < t.nbytes:
            _fail(model, f"a constant {t.type_str} needs {t.nbytes} bytes, its buffer {t.buffer} has "
                         f"{t.buffer_bytes}", where)
        q = t.quantization
        if q is None:
            continue
        if not all(math.isfinite(s) for s in q.scales):
            _fail(model, "a quantization scale is not finite", where)
        if len(q.scales) > 1:
            if not 0 <= q.quantized_dimension < len(t.shape):
                _fail(model, f"quantized_dimension {q.quantized_dimension} is out of range for shape "
                             f"{list(t.shape)}", where)
            if t.shape[q.quantized_dimension] != len(q.scales) and q.details is None:
                _fail(model, f"{len(q.scales)} per-channel scales for dimension {q.quantized_dimension} of "
                             f"size {t.shape[q.quantized_dimension]}", where)


def _check_dataflow(model: TFLiteModel, sg: Subgraph) -> None:
    """Each tensor has at most one writer, inputs and constants none, and operators form no cycle."""
    writer: dict[int, int] = {}
    inputs = set(sg.inputs)
    for op in sg.operators:
        for t in op.outputs:
            if t < 0:
                continue
            if t in writer:
                _fail(model, f"writes tensor {t}, which operator {writer[t]} writes too", _op_where(sg, op))
            if t in inputs:
                _fail(model, f"writes tensor {t}, an input of the subgraph", _op_where(sg, op))
            if sg.tensors[t].is_constant:
                _fail(model, f"writes tensor {t}, a constant", _op_where(sg, op))
            writer[t] = op.index
    # Operator -> the operators it reads from: a cycle means no order could run them.
    _, cycle = post_order(range(len(sg.operators)), lambda k: _readers_of(sg.operators[k], writer))
    if cycle is not None:
        _fail(model, "operators feed each other in a cycle: " + " -> ".join(map(str, cycle)),
              _op_where(sg, sg.operators[cycle[0]]))


def _readers_of(op: Operator, writer: dict[int, int]) -> Iterator[int]:
    for t in op.inputs:
        if t >= 0 and t in writer:
            yield writer[t]


def _subgraph_refs(op: Operator) -> Iterator[tuple[str, int]]:
    for key in SUBGRAPH_OPTIONS:
        value = op.options.get(key)
        if value is None:
            continue
        values = value if isinstance(value, list | tuple) else [value]
        for v in values:
            if isinstance(v, bool) or not isinstance(v, int):
                continue  # `subgraph` may be a nested table in some options: not an index
            yield key, v


def _check_calls(model: TFLiteModel) -> None:
    n = len(model.subgraphs)
    calls: dict[int, list[int]] = {}
    for sg in model.subgraphs:
        for op in sg.operators:
            for key, index in _subgraph_refs(op):
                if not 0 <= index < n:
                    _fail(model, f"{key}={index} is out of range ({n} subgraphs)", _op_where(sg, op))
                calls.setdefault(sg.index, []).append(index)
    order, cycle = post_order(range(n), lambda k: calls.get(k, ()))
    if cycle is not None:
        _fail(model, "calls itself: subgraph " + " -> ".join(map(str, cycle)), f"subgraph {cycle[0]}")
    depth: dict[int, int] = {}
    for node in order:  # callees come first
        depth[node] = 1 + max((depth[c] for c in calls.get(node, ())), default=0)
        if depth[node] > MAX_NESTING:
            _fail(model, f"control flow nests more than {MAX_NESTING} subgraphs deep", f"subgraph {node}")
