"""Which precision each TFLite operator computes in, where the model crosses between precisions, and what
each operator costs (MACs, FLOPs, bytes).

`analyze_tflite(model)` is a pure function of a parsed `irscope.ir.tflite.TFLiteModel`; its result,
`TFLiteAnalysis`, is frozen and serialisable, and builds the common kernel graph (`.graph()`) with
these numbers on its nodes, so the HLO side's roofline and rendering apply unchanged.

**Precision of an operator** (`OpInfo.precision`), from the dtypes of the tensors it reads and writes:

- `QUANTIZE` computes in its output's dtype; it is a `quantize` boundary (float -> integer) or a
  `requantize` (integer -> integer with new scales).
- `DEQUANTIZE` computes in its output's float dtype; a `dequantize` boundary, or `dequantize-weights`
  when its input is a constant: the fp16 and dynamic-range converters store weights in float16/int8
  and expand them to float32 once, when the interpreter prepares the model.
- Any other operator: `hybrid` when its activations are float and a constant operand is a quantized
  integer (dynamic-range quantization: int8 weights, activations quantized on the fly); otherwise the
  dtype of its first float or integer-quantized activation (`float32`, `float16`, `int8`, `int16`,
  ...), else of its output (`int32` for shape arithmetic; SHAPE and RANK, which read no data, too).
- Its `weights`: the dtype of its constant weight operand, looking through a `DEQUANTIZE` of a
  constant (so an fp16 model's convolutions compute in `float32` from `float16` weights).

**Float fallbacks** (`OpInfo.fallback`): in a model with integer compute (int8/int16 ops), every
non-boundary operator that computes in float; in a dynamic-range model, every weighted operator
(conv, fully-connected, matmul, ...) still in float.

**Costs** follow XLA's conventions where they exist (a multiply-add is 2 FLOPs; an element-wise op
1 FLOP per output element; exp, log, tanh, logistic, sqrt, rsqrt, pow, sin and cos count as
transcendentals, not FLOPs), counting integer operations the same way:

- CONV_2D: MACs = N·Ho·Wo·Co·Kh·Kw·Ci/groups; DEPTHWISE_CONV_2D: N·Ho·Wo·Co·Kh·Kw;
  TRANSPOSE_CONV: N·Hi·Wi·Ci·Kh·Kw·Co; CONV_3D: output elements·Kd·Kh·Kw·Ci;
  FULLY_CONNECTED: output elements·K; BATCH_MATMUL: output elements·K.
  FLOPs = 2·MACs, plus one per output element for a bias.
- A fused activation adds one FLOP per output element (a transcendental for TANH).
- Reductions: one FLOP per input element; pools: one per output element per window position;
  SOFTMAX: 4 FLOPs and one transcendental per element (max, subtract, exp, sum, divide).
- Data movement (RESHAPE, CONCATENATION, PAD, GATHER, ...): 0 FLOPs, bytes only.
- Bytes: every input and output tensor at its real dtype (int4 packed two per byte; a sparse
  constant's kept values and indices), plus the scale and zero-point tensors of blockwise-quantized
  weights (`Subgraph.op_bytes`).

Not handled yet: costs of control flow (WHILE/IF bodies are separate subgraphs, counted once and
not multiplied by a trip count), LSTM/RNN/SVDF costs, custom ops (0 FLOPs), and what a delegate
(XNNPACK) does to precision at run time: it may run an fp16 model's float32 ops in fp16 on CPUs with
fp16 arithmetic, which the file cannot say.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

import networkx as nx

from irscope.ir.tflite import XLA_DTYPE, Operator, Subgraph, Tensor, TFLiteModel, build_kernel_graph
from irscope.util.display import show

FLOAT_DTYPES = frozenset({"float32", "float16", "bfloat16", "float64"})
"""Dtypes an operator computes in as floating point."""
INT_QUANT_DTYPES = frozenset({"int8", "uint8", "int16", "int4", "uint4"})
"""Integer dtypes that carry quantized real values (when the tensor has scales)."""
BOUNDARY_OPS = frozenset({"QUANTIZE", "DEQUANTIZE"})
"""Operators that move values between precisions."""
SHAPE_ONLY = frozenset({"SHAPE", "RANK"})
"""Operators that read only their input's shape: their precision is their output's."""

WEIGHT_OPERAND: Mapping[str, int] = MappingProxyType({
    "CONV_2D": 1, "DEPTHWISE_CONV_2D": 1, "FULLY_CONNECTED": 1, "TRANSPOSE_CONV": 1, "CONV_3D": 1,
    "CONV_3D_TRANSPOSE": 1, "BATCH_MATMUL": 1, "EMBEDDING_LOOKUP": 1, "SVDF": 1,
    "UNIDIRECTIONAL_SEQUENCE_LSTM": 2, "LSTM": 2, "BIDIRECTIONAL_SEQUENCE_LSTM": 2,
})
"""Operators with weights, and which operand holds them."""

ELEMENTWISE: Mapping[str, int] = MappingProxyType({
    **{op: 1 for op in (
        "ADD", "SUB", "MUL", "DIV", "MAXIMUM", "MINIMUM", "RELU", "RELU6", "RELU_N1_TO_1", "RELU_0_TO_1",
        "LEAKY_RELU", "PRELU", "ABS", "NEG", "SQUARE", "FLOOR", "CEIL", "ROUND", "SIGN", "FLOOR_DIV",
        "FLOOR_MOD", "ADD_N", "LESS", "LESS_EQUAL", "GREATER", "GREATER_EQUAL", "EQUAL", "NOT_EQUAL",
        "LOGICAL_AND", "LOGICAL_OR", "LOGICAL_NOT", "SELECT", "SELECT_V2", "QUANTIZE", "DEQUANTIZE",
        "CAST", "ELU", "EXP", "LOG", "LOGISTIC", "TANH", "SQRT", "RSQRT", "POW", "SIN", "COS", "GELU",
    )},
    "SQUARED_DIFFERENCE": 2,
    "HARD_SWISH": 5,  # x * relu6(x + 3) / 6: add, max, min, mul, mul
})
"""Element-wise operators and their FLOPs per output element (transcendental parts not included)."""

TRANSCENDENTAL: Mapping[str, int] = MappingProxyType({
    "EXP": 1, "LOG": 1, "LOGISTIC": 1, "TANH": 1, "SQRT": 1, "RSQRT": 1, "POW": 1, "SIN": 1, "COS": 1,
    "ELU": 1, "GELU": 1,
})
"""Transcendentals per output element (XLA counts these apart from FLOPs)."""

_TRANSCENDENTAL_ONLY = frozenset({"EXP", "LOG", "LOGISTIC", "TANH", "SQRT", "RSQRT", "POW", "SIN", "COS"})
REDUCTIONS = frozenset({"MEAN", "SUM", "REDUCE_MAX", "REDUCE_MIN", "REDUCE_PROD", "REDUCE_ANY", "REDUCE_ALL",
                        "ARG_MAX", "ARG_MIN", "L2_NORMALIZATION", "CUMSUM"})
"""Operators costing one FLOP per input element."""
POOLS = frozenset({"AVERAGE_POOL_2D", "MAX_POOL_2D", "L2_POOL_2D"})

# Which roofline dtype key applies to a precision (hybrid ops run an int8 matmul).
_ROOFLINE_DTYPE = {"hybrid": "s8"}


@dataclass(frozen=True)
class OpInfo:
    """What one operator computes in and what it costs."""

    subgraph: int
    """The subgraph it belongs to."""
    index: int
    """Its index in the subgraph."""
    opcode: str
    """Its opcode (`CONV_2D`, or a custom op's name)."""
    precision: str
    """What it computes in: `float32`, `float16`, `int8`, `int16`, `hybrid`, or another dtype name."""
    inputs: tuple[str, ...]
    """Dtypes of its activation (non-constant) inputs."""
    outputs: tuple[str, ...]
    """Dtypes of its outputs."""
    weights: str | None = None
    """Dtype of its weights (`int8`, `float16`, ...), None for an op without a weight operand."""
    weights_dequantized: bool = False
    """Its weights reach it through a DEQUANTIZE of a constant (fp16 and some dynamic-range models)."""
    weights_per_channel: bool = False
    """Its weights carry more than one scale (per channel, per block or along several axes)."""
    weights_quantization: str | None = None
    """How its weights are quantized: `per_tensor`, `per_channel`, `blockwise`, ... (None if float)."""
    weights_block_size: int | None = None
    """Elements per scale block of blockwise-quantized weights."""
    boundary: str | None = None
    """`quantize`, `requantize`, `dequantize` or `dequantize-weights` for QUANTIZE/DEQUANTIZE."""
    fallback: bool = False
    """It computes in float although the model is quantized (see the module docstring)."""
    macs: int = 0
    """Multiply-accumulates (conv, fully-connected, matmul)."""
    flops: int = 0
    """FLOPs (integer operations for integer ops), XLA's conventions."""
    transcendentals: int = 0
    """Transcendental evaluations."""
    bytes_read: int = 0
    """Bytes of its inputs at their real dtypes."""
    bytes_written: int = 0
    """Bytes of its outputs."""
    activation: str | None = None
    """Its fused activation (`RELU6`), if any."""

    @property
    def roofline_dtype(self) -> str:
        """XLA dtype name whose peak applies (`s8` for int8 and hybrid ops, `f32` for float32)."""
        return _ROOFLINE_DTYPE.get(self.precision, XLA_DTYPE.get(self.precision, "f32"))

    def to_json(self) -> dict[str, Any]:
        return {
            "precision": self.precision, "weights": self.weights, "weights_dequantized": self.weights_dequantized,
            "weights_per_channel": self.weights_per_channel, "weights_quantization": self.weights_quantization,
            "weights_block_size": self.weights_block_size, "boundary": self.boundary, "fallback": self.fallback,
            "macs": self.macs, "flops": self.flops, "transcendentals": self.transcendentals,
            "bytes_read": self.bytes_read, "bytes_written": self.bytes_written,
        }


@dataclass(frozen=True)
class SizeBreakdown:
    """Where a `.tflite` file's bytes go."""

    total: int
    """The file size."""
    weights: Mapping[str, int]
    """Constant buffers by the dtype of the tensors using them (each shared buffer counted once)."""
    metadata: int
    """Buffers holding metadata (`min_runtime_version`, `CONVERSION_METADATA`, ...)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "weights", MappingProxyType(dict(self.weights)))

    @property
    def weights_total(self) -> int:
        return sum(self.weights.values())

    @property
    def graph(self) -> int:
        """Everything else: the tensor and operator tables, names, quantization parameters, padding."""
        return self.total - self.weights_total - self.metadata

    def to_json(self) -> dict[str, Any]:
        return {"total": self.total, "weights": dict(self.weights), "weights_total": self.weights_total,
                "metadata": self.metadata, "graph": self.graph}


@dataclass(frozen=True)
class TFLiteAnalysis:
    """Precision, boundaries, fallbacks and costs of every operator of a TFLite model."""

    model: TFLiteModel
    """The model analysed."""
    ops: tuple[tuple[OpInfo, ...], ...]
    """Per subgraph, one `OpInfo` per operator, in order."""
    mode: str
    """The quantization the model looks converted with: fp32, fp16, dynamic, int8, int16x8."""
    size: SizeBreakdown
    """Where the file's bytes go."""
    chip: Any = field(default=None, compare=False)
    """The `irscope.hw.Chip` used for roofline placement in `graph()`, or None."""

    @property
    def main(self) -> tuple[OpInfo, ...]:
        return self.ops[0]

    def all_ops(self) -> list[OpInfo]:
        return [info for sub in self.ops for info in sub]

    def precision_counts(self) -> Counter[str]:
        """Operators per precision over all subgraphs (boundary ops included)."""
        return Counter(info.precision for info in self.all_ops())

    @property
    def fallbacks(self) -> list[OpInfo]:
        return [info for info in self.all_ops() if info.fallback]

    @property
    def boundaries(self) -> list[OpInfo]:
        return [info for info in self.all_ops() if info.boundary is not None]

    def io_dtypes(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Dtypes of the main subgraph's inputs and outputs."""
        sg = self.model.main
        return (tuple(sg.tensors[t].dtype for t in sg.inputs), tuple(sg.tensors[t].dtype for t in sg.outputs))

    def totals(self) -> dict[str, int]:
        ops = self.all_ops()
        return {"macs": sum(o.macs for o in ops), "flops": sum(o.flops for o in ops),
                "transcendentals": sum(o.transcendentals for o in ops),
                "bytes_accessed": sum(o.bytes_read + o.bytes_written for o in ops)}

    def graph(self, subgraph: int = 0) -> nx.MultiDiGraph:
        """The kernel graph of one subgraph, with precision, costs and (given a chip) roofline placement."""
        infos = self.ops[subgraph]

        def node_data(op: Operator) -> dict[str, Any]:
            info = infos[op.index]
            data: dict[str, Any] = {
                "precision": info.precision, "weights": info.weights, "boundary": info.boundary,
                "fallback": info.fallback, "macs": float(info.macs), "flops": float(info.flops),
                "transcendentals": float(info.transcendentals),
            }
            if self.chip is not None:
                from irscope.passes.roofline import place

                point = place(info.flops, info.bytes_read + info.bytes_written, self.chip, info.roofline_dtype)
                data.update(intensity=point.intensity if math.isfinite(point.intensity) else None,
                            bound=point.bound, time_at_peak_s=point.time_at_peak_s)
            return data

        return build_kernel_graph(self.model, subgraph, node_data)

    def to_json(self) -> dict[str, Any]:
        """The `irscope.tflite-report/1` contract with each operator's analysis merged into its entry."""
        out = self.model.to_json()
        for sub_json, infos in zip(out["subgraphs"], self.ops, strict=True):
            for op_json, info in zip(sub_json["operators"], infos, strict=True):
                op_json.update(info.to_json())
        inputs, outputs = self.io_dtypes()
        out.update({
            "mode": self.mode,
            "input_dtypes": list(inputs), "output_dtypes": list(outputs),
            "size": self.size.to_json(),
            "precision_counts": dict(self.precision_counts()),
            "fallbacks": [{"subgraph": o.subgraph, "index": o.index, "opcode": o.opcode, "precision": o.precision}
                          for o in self.fallbacks],
            "boundaries": [{"subgraph": o.subgraph, "index": o.index, "opcode": o.opcode, "boundary": o.boundary,
                            "from": (o.inputs or (o.weights,))[0], "to": o.outputs[0] if o.outputs else None}
                           for o in self.boundaries],
            "totals": self.totals(),
            "provenance": {"bytes": "exact", "macs": "exact", "flops": "exact", "transcendentals": "exact",
                           "conventions": "irscope.passes.quantization (from shapes and dtypes)"},
        })
        return out

    # Display: written by irscope.render, reached through the one hook irscope.util.display.
    def to_text(self, **kwargs: Any) -> str:
        return show(self, "text", **kwargs)

    def svg(self, **kwargs: Any) -> str:
        return show(self, "svg", **kwargs)

    def _repr_html_(self) -> str:
        return show(self, "html")


# ---------------------------------------------------------------------------------------------
# The pass


def analyze_tflite(model: TFLiteModel, chip: Any = None) -> TFLiteAnalysis:
    """Precision, boundaries, fallbacks and costs of every operator; `chip` places them on a roofline.

    Arguments:
        model: a parsed model (`irscope.ir.tflite.read_tflite`).
        chip: an `irscope.hw.Chip` for `TFLiteAnalysis.graph()`'s roofline attributes, or None.

    Example:
        >>> a = analyze_tflite(read_tflite("mobilenet.int8.tflite"))          # doctest: +SKIP
        >>> a.mode, a.precision_counts()["int8"], [o.opcode for o in a.fallbacks]  # doctest: +SKIP
        ('int8', 64, [])
    """
    # 1. Precision and cost of each operator, from its own tensors.
    raw = [tuple(_op_info(sg, op) for op in sg.operators) for sg in model.subgraphs]
    # 2. The model's mode, from all of them; then fallbacks, which depend on the mode.
    mode = _mode([info for sub in raw for info in sub])
    ops = tuple(tuple(_with_fallback(info, mode) for info in sub) for sub in raw)
    return TFLiteAnalysis(model=model, ops=ops, mode=mode, size=size_breakdown(model), chip=chip)


def _is_quantized_int(t: Tensor) -> bool:
    return t.dtype in INT_QUANT_DTYPES and t.quantization is not None


def _weight_source(sg: Subgraph, index: int) -> tuple[Tensor, bool] | None:
    """The constant behind operand tensor `index` and whether a DEQUANTIZE sits between; None if none."""
    tensor = sg.tensors[index]
    if tensor.is_constant:
        return tensor, False
    producer = sg.producers.get(index)
    if producer is not None:
        op = sg.operators[producer]
        if op.opcode == "DEQUANTIZE" and op.inputs and op.inputs[0] >= 0 and sg.tensors[op.inputs[0]].is_constant:
            return sg.tensors[op.inputs[0]], True
    return None


def _op_info(sg: Subgraph, op: Operator) -> OpInfo:
    ins = [sg.tensors[i] for i in op.inputs if i >= 0]
    outs = sg.op_outputs(op)
    act_in = [t for t in ins if not t.is_constant]
    in_dtypes = tuple(t.dtype for t in act_in)
    out_dtypes = tuple(t.dtype for t in outs)
    boundary: str | None = None
    weights: str | None = None
    dequantized = per_channel = False
    weight_quant: str | None = None
    block_size: int | None = None

    slot = WEIGHT_OPERAND.get(op.opcode)
    if slot is not None and slot < len(op.inputs) and op.inputs[slot] >= 0:
        found = _weight_source(sg, op.inputs[slot])
        if found is not None:
            tensor, dequantized = found
            weights = tensor.dtype
            if tensor.quantization is not None:
                per_channel = tensor.quantization.per_channel
                weight_quant, block_size = tensor.quantization.kind, tensor.quantization.block_size

    if op.opcode == "QUANTIZE":
        precision = out_dtypes[0] if out_dtypes else "unknown"
        source = ins[0].dtype if ins else ""
        boundary = "quantize" if source in FLOAT_DTYPES else "requantize"
    elif op.opcode == "DEQUANTIZE":
        precision = out_dtypes[0] if out_dtypes else "unknown"
        boundary = "dequantize-weights" if ins and ins[0].is_constant else "dequantize"
        if ins and ins[0].is_constant:
            weights = ins[0].dtype
    elif op.opcode in SHAPE_ONLY:
        precision = out_dtypes[0] if out_dtypes else "none"
    else:
        data = [t.dtype for t in (*act_in, *outs) if t.dtype in FLOAT_DTYPES or _is_quantized_int(t)]
        if any(d in FLOAT_DTYPES for d in data) and any(t.is_constant and _is_quantized_int(t) for t in ins):
            precision = "hybrid"
        elif data:
            precision = data[0]
        else:
            precision = out_dtypes[0] if out_dtypes else (in_dtypes[0] if in_dtypes else "none")

    macs, flops, transcendentals = op_cost(sg, op)
    read, written = sg.op_bytes(op)
    return OpInfo(
        subgraph=sg.index, index=op.index, opcode=op.opcode, precision=precision, inputs=in_dtypes,
        outputs=out_dtypes, weights=weights, weights_dequantized=dequantized, weights_per_channel=per_channel,
        weights_quantization=weight_quant, weights_block_size=block_size,
        boundary=boundary, macs=macs, flops=flops, transcendentals=transcendentals, bytes_read=read,
        bytes_written=written, activation=op.fused_activation,
    )


def _mode(infos: list[OpInfo]) -> str:
    compute = [o for o in infos if o.boundary is None]
    precisions = {o.precision for o in compute}
    if "int16" in precisions:
        return "int16x8"
    if precisions & {"int8", "uint8", "int4"}:
        return "int8"
    if "hybrid" in precisions:
        return "dynamic"
    dequantized = {o.weights for o in infos if o.boundary == "dequantize-weights"}
    if dequantized & {"int8", "int4", "uint8"}:
        return "dynamic"
    if "float16" in dequantized or "float16" in precisions:
        return "fp16"
    return "fp32"


def _with_fallback(info: OpInfo, mode: str) -> OpInfo:
    if info.boundary is not None or info.precision not in FLOAT_DTYPES:
        return info
    integer_model = mode in ("int8", "int16x8")
    weighted_float = mode == "dynamic" and info.opcode in WEIGHT_OPERAND
    if integer_model or weighted_float:
        return replace(info, fallback=True)
    return info


# ---------------------------------------------------------------------------------------------
# Costs


def _shape(sg: Subgraph, op: Operator, k: int, outputs: bool = False) -> tuple[int, ...]:
    indices = op.outputs if outputs else op.inputs
    if k >= len(indices) or indices[k] < 0:
        return ()
    return sg.tensors[indices[k]].shape


def op_cost(sg: Subgraph, op: Operator) -> tuple[int, int, int]:
    """(MACs, FLOPs, transcendentals) of one operator (conventions in the module docstring)."""
    out = _shape(sg, op, 0, outputs=True)
    n_out = math.prod(out) if out else 0
    code = op.opcode
    macs = flops = transcendentals = 0
    has_bias, bias_slot = False, 2
    if code == "CONV_2D":
        f = _shape(sg, op, 1)
        if len(f) == 4:
            macs = n_out * f[1] * f[2] * f[3]
        has_bias = True
    elif code == "DEPTHWISE_CONV_2D":
        f = _shape(sg, op, 1)
        if len(f) == 4:
            macs = n_out * f[1] * f[2]
        has_bias = True
    elif code == "TRANSPOSE_CONV":
        x, f = _shape(sg, op, 2), _shape(sg, op, 1)
        if len(f) == 4 and x:
            macs = math.prod(x) * f[0] * f[1] * f[2]
        has_bias, bias_slot = True, 3
    elif code == "CONV_3D":
        f = _shape(sg, op, 1)
        if len(f) == 5:
            macs = n_out * f[0] * f[1] * f[2] * f[3]
        has_bias = True
    elif code == "FULLY_CONNECTED":
        w = _shape(sg, op, 1)
        if len(w) == 2:
            macs = n_out * w[1]
        has_bias = True
    elif code == "BATCH_MATMUL":
        x = _shape(sg, op, 0)
        if len(x) >= 2:
            macs = n_out * (x[-2] if op.options.get("adj_x") else x[-1])
    elif code in ELEMENTWISE:
        flops = n_out * (0 if code in _TRANSCENDENTAL_ONLY else ELEMENTWISE[code])
        transcendentals = n_out * TRANSCENDENTAL.get(code, 0)
    elif code in REDUCTIONS:
        x = _shape(sg, op, 0)
        flops = math.prod(x) if x else 0
    elif code in POOLS:
        window = int(op.options.get("filter_height") or 1) * int(op.options.get("filter_width") or 1)
        flops = n_out * window
    elif code in ("SOFTMAX", "LOG_SOFTMAX"):
        flops, transcendentals = 4 * n_out, n_out
    if macs:
        flops += 2 * macs
        if has_bias and bias_slot < len(op.inputs) and op.inputs[bias_slot] >= 0:
            flops += n_out
    if op.fused_activation is not None:
        if op.fused_activation == "TANH":
            transcendentals += n_out
        else:
            flops += n_out
    return macs, flops, transcendentals


# ---------------------------------------------------------------------------------------------
# Size


def size_breakdown(model: TFLiteModel) -> SizeBreakdown:
    """The file's bytes: constant buffers by dtype (shared buffers once), metadata, and the rest."""
    dtype_of: dict[int, str] = {}
    for sg in model.subgraphs:
        for t in sg.tensors:
            if t.buffer > 0 and model.buffer_bytes[t.buffer] > 0:
                dtype_of.setdefault(t.buffer, t.dtype)
    meta = {m.buffer for m in model.metadata if m.buffer > 0}
    weights: Counter[str] = Counter()
    for buffer, dtype in dtype_of.items():
        if buffer not in meta:
            weights[dtype] += model.buffer_bytes[buffer]
    metadata = sum(model.buffer_bytes[b] for b in meta)
    ordered = dict(sorted(weights.items(), key=lambda kv: -kv[1]))
    return SizeBreakdown(total=model.size_bytes, weights=ordered, metadata=metadata)
