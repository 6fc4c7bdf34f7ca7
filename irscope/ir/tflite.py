"""The TFLite data model and reader: a `.tflite` flatbuffer as frozen values, and its kernel graph.

`read_tflite(path)` (or `parse_tflite(data)`) reads a model with the flatbuffer bindings that the
TFLite schema generates (`schema_py_generated`, from ai-edge-litert or else TensorFlow), table by
table, into `TFLiteModel`: its subgraphs, operators (builtin and custom opcodes with their versions
and builtin options), tensors (shape, shape_signature, dtype, quantization with its per-channel
axis, buffer sizes), signatures and metadata. Nothing is hand-decoded: every field comes from the
generated accessors.

Malformed input is expected (a truncated download, a file that is not a flatbuffer), and becomes a
`TFLiteParseError` with one line naming the file, never a crash or a hang. The generated accessors
check nothing, so the reader does: the file identifier (`TFL3`), every vector length against the
file size, a work budget proportional to the file size (tables pointing into each other cannot make
the reader loop for long), and every index (operator code, tensor, buffer, subgraph) against its
table.

Conventions:

- dtypes are numpy names (`float32`, `int8`, `int4`, `bfloat16`, ...), as in the JSON contract;
  the kernel graph's edges use XLA's names (`f32`, `s8`), as the HLO side's graph does.
- A tensor's bytes are its element count times its dtype's width (sub-byte types packed, as TFLite
  packs int4); a `string` tensor counts its buffer.
- An optional operator input is tensor index `-1`, as in the flatbuffer.
- A buffer may be shared by several tensors (the converter deduplicates identical constants), so
  sizes per buffer are counted once.

`build_kernel_graph(model)` turns one subgraph into the common kernel graph of
`irscope.ir.graph_schema`: one node per operator (kind `op`), per subgraph input (`parameter`) and
per constant tensor (`constant`); one edge per tensor use. Costs beyond bytes (FLOPs, precision,
roofline placement) come from `irscope.passes.quantization` through `node_data`.

Buffers of models over 2 GB, which sit after the flatbuffer (`offset`/`size`), are sized from those
fields and checked against the file's end.

Quantization is read in every form the schema has (`Quantization.kind`): per tensor, per channel
along `quantized_dimension`, blockwise (int4 weights with a tensor of per-block scales, as LiteRT's
LLM exports write), multi-axis, and custom (an opaque byte string). A blockwise or multi-axis
tensor's scales and zero points are tensors of their own, which the operator reading it reads too
(`Subgraph.op_bytes` counts them). Sparse constants (`Tensor.sparsity`) count the kept values in
their buffer plus the index vectors of each sparse dimension.

Not handled yet: string tensor contents, the values of scales kept in tensors (their tensor is
named, not read), and weights kept in other files (`external_buffers`): such tensors count 0
buffer bytes.
"""

from __future__ import annotations

import math
import os
import re
import struct
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from types import MappingProxyType, ModuleType
from typing import Any

import networkx as nx

from irscope.errors import TFLiteParseError as TFLiteParseError
from irscope.errors import TFLiteUnavailable as TFLiteUnavailable
from irscope.ir.graph_schema import empty_costs
from irscope.util.text import first_line

FILE_IDENTIFIER = b"TFL3"
"""Bytes 4..8 of every TFLite flatbuffer."""

# TensorType enum value -> (numpy name, bits per element; 0: variable or not data).
TENSOR_TYPES: Mapping[int, tuple[str, int]] = MappingProxyType({
    0: ("float32", 32), 1: ("float16", 16), 2: ("int32", 32), 3: ("uint8", 8), 4: ("int64", 64),
    5: ("string", 0), 6: ("bool", 8), 7: ("int16", 16), 8: ("complex64", 64), 9: ("int8", 8),
    10: ("float64", 64), 11: ("complex128", 128), 12: ("uint64", 64), 13: ("resource", 0),
    14: ("variant", 0), 15: ("uint32", 32), 16: ("uint16", 16), 17: ("int4", 4), 18: ("bfloat16", 16),
    19: ("int2", 2), 20: ("uint4", 4), 21: ("float8_e4m3fn", 8), 22: ("float8_e5m2", 8),
})

# numpy name -> XLA's element type name, for the kernel graph and the roofline's dtype keys.
XLA_DTYPE: Mapping[str, str] = MappingProxyType({
    "float32": "f32", "float16": "f16", "bfloat16": "bf16", "float64": "f64", "int8": "s8", "int16": "s16",
    "int32": "s32", "int64": "s64", "uint8": "u8", "uint16": "u16", "uint32": "u32", "uint64": "u64",
    "bool": "pred", "int4": "s4", "uint4": "u4", "int2": "s2", "complex64": "c64", "complex128": "c128",
    "float8_e4m3fn": "f8e4m3fn", "float8_e5m2": "f8e5m2",
})

_QUANT_DETAILS = {0: None, 1: "custom", 2: "blockwise", 3: "multi_axis"}


def schema() -> ModuleType:
    """The generated TFLite schema bindings: ai-edge-litert's, else TensorFlow's."""
    try:
        from ai_edge_litert import schema_py_generated
    except ImportError:
        try:
            from tensorflow.lite.python import schema_py_generated  # type: ignore[no-redef]
        except ImportError:
            raise TFLiteUnavailable(
                "reading .tflite files needs ai-edge-litert or tensorflow: pip install 'irscope[tflite]'"
            ) from None
    return schema_py_generated


# ---------------------------------------------------------------------------------------------
# The data model


QUANTIZATION_KINDS = ("per_tensor", "per_channel", "blockwise", "multi_axis", "custom")
"""`Quantization.kind` values: the schema's `scale`/`zero_point` vectors (one value, or one per slice of
`quantized_dimension`), or one of its `QuantizationDetails` (which then replace those vectors)."""


@dataclass(frozen=True)
class Quantization:
    """A tensor's quantization: real = scale * (q - zero_point), per tensor, per channel or per block.

    Per-tensor and per-channel scales sit in the tensor's own table. Blockwise and multi-axis
    quantization (int4 LLM weights from LiteRT's exporters and ai-edge-quantizer) keep their scales
    and zero points in other tensors of the subgraph, named by `scales_tensor` and
    `zero_points_tensor`; `custom` quantization is an opaque byte string only its kernel reads.
    """

    scales: tuple[float, ...]
    """One scale per tensor, or one per slice along `quantized_dimension`; () when they sit in a tensor."""
    zero_points: tuple[int, ...]
    """Zero points, as many as scales (0 for symmetric weights)."""
    quantized_dimension: int
    """The axis the scales run along when there are several (per-channel quantization)."""
    min: tuple[float, ...] = ()
    """Calibrated minima, when the converter kept them."""
    max: tuple[float, ...] = ()
    """Calibrated maxima, when the converter kept them."""
    details: str | None = None
    """`custom`, `blockwise` or `multi_axis`: which `QuantizationDetails` the tensor carries, if any."""
    kind: str = "per_tensor"
    """One of `QUANTIZATION_KINDS`."""
    block_size: int | None = None
    """Elements per block along the quantized axis (blockwise; multi-axis when blocked)."""
    scales_tensor: int | None = None
    """Index of the tensor holding the scales (blockwise, multi-axis)."""
    zero_points_tensor: int | None = None
    """Index of the tensor holding the zero points; None when they are all 0 (the file's -1)."""
    quantized_dimensions: tuple[int, ...] = ()
    """The axes a multi-axis quantization runs along."""
    custom_bytes: int = 0
    """Length of a custom quantization's opaque parameters."""

    @property
    def per_channel(self) -> bool:
        """More than one scale along an axis: per-channel, blockwise or multi-axis."""
        return len(self.scales) > 1 or self.kind in ("per_channel", "blockwise", "multi_axis")

    @property
    def parameter_tensors(self) -> tuple[int, ...]:
        """Tensors a kernel reads besides this one to dequantize it (its scales and zero points)."""
        return tuple(t for t in (self.scales_tensor, self.zero_points_tensor) if t is not None)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind, "scales": list(self.scales), "zero_points": list(self.zero_points),
            "quantized_dimension": self.quantized_dimension,
        }
        if self.details:
            out["details"] = self.details
        if self.block_size is not None:
            out["block_size"] = self.block_size
        if self.scales_tensor is not None:
            out["scales_tensor"] = self.scales_tensor
            out["zero_points_tensor"] = self.zero_points_tensor
        if self.kind == "multi_axis":
            out["quantized_dimensions"] = list(self.quantized_dimensions)
        if self.kind == "custom":
            out["custom_bytes"] = self.custom_bytes
        return out


SPARSE_INDEX_BITS: Mapping[str, int] = MappingProxyType({"Int32Vector": 32, "Uint16Vector": 16, "Uint8Vector": 8})
"""Width of each `SparseIndexVector` member, for the bytes a sparse tensor's indices take."""


@dataclass(frozen=True)
class DimensionMetadata:
    """How one dimension of a sparse tensor is stored (the schema's TACO-style `DimensionMetadata`)."""

    format: str
    """`dense` (every coordinate implied) or `sparse_csr` (segments and indices stored)."""
    dense_size: int
    """Size of a dense dimension."""
    segments: int = 0
    """Length of `array_segments` (CSR row pointers) of a sparse dimension."""
    indices: int = 0
    """Length of `array_indices` (CSR column indices) of a sparse dimension."""
    index_bytes: int = 0
    """Bytes the segments and indices take, at their stored widths."""

    def to_json(self) -> dict[str, Any]:
        return {"format": self.format, "dense_size": self.dense_size, "segments": self.segments,
                "indices": self.indices, "index_bytes": self.index_bytes}


@dataclass(frozen=True)
class Sparsity:
    """A sparse constant's storage: only the kept values are in its buffer, their positions here."""

    traversal_order: tuple[int, ...]
    """Order the dimensions (then block dimensions) are traversed in."""
    block_map: tuple[int, ...]
    """Which tensor dimension each block dimension maps to (block sparsity); () otherwise."""
    dim_metadata: tuple[DimensionMetadata, ...]
    """One entry per traversed dimension."""

    @property
    def index_bytes(self) -> int:
        """Bytes of index metadata a kernel reads with the values."""
        return sum(d.index_bytes for d in self.dim_metadata)

    def to_json(self) -> dict[str, Any]:
        return {"traversal_order": list(self.traversal_order), "block_map": list(self.block_map),
                "dim_metadata": [d.to_json() for d in self.dim_metadata], "index_bytes": self.index_bytes}


@dataclass(frozen=True)
class Tensor:
    """One tensor of a subgraph."""

    index: int
    """Its index in the subgraph's tensor table (what operators refer to)."""
    name: str
    """Its name (the converter's: usually the TF op or Keras layer path)."""
    shape: tuple[int, ...]
    """Static shape (a dynamic dimension is stored as 1)."""
    shape_signature: tuple[int, ...] | None
    """Shape with -1 for dynamic dimensions; None when the file has none (then it equals `shape`)."""
    dtype: str
    """numpy name of the element type (`float32`, `int8`, ...)."""
    buffer: int
    """Index into the model's buffers; 0 is the empty sentinel buffer."""
    buffer_bytes: int
    """Bytes of data its buffer holds (0 for an activation)."""
    quantization: Quantization | None
    """Its quantization, or None when it has no scales."""
    is_variable: bool = False
    """A variable tensor (state kept between invocations)."""
    sparsity: Sparsity | None = None
    """How a sparse constant is stored; None for a dense tensor."""

    @property
    def sparse(self) -> bool:
        return self.sparsity is not None

    @property
    def is_constant(self) -> bool:
        """Its value is in the file (weights, biases, shape operands)."""
        return self.buffer_bytes > 0 and not self.is_variable

    @property
    def elements(self) -> int:
        return math.prod(self.shape)

    @property
    def bits(self) -> int:
        """Bits per element (0 for string, resource and variant tensors)."""
        return _DTYPE_BITS.get(self.dtype, 0)

    @property
    def nbytes(self) -> int:
        """Bytes a kernel reads or writes for it: element count times dtype width (sub-byte types packed);
        a string tensor's buffer; a sparse constant's kept values plus its index metadata."""
        if self.sparsity is not None and self.buffer_bytes:
            return self.buffer_bytes + self.sparsity.index_bytes
        if self.bits == 0:
            return self.buffer_bytes
        return (self.elements * self.bits + 7) // 8

    @property
    def type_str(self) -> str:
        """The shape with its numpy dtype, `int8[1,32,32,8]`, for tables."""
        return f"{self.dtype}[{','.join(str(d) for d in self.shape)}]"

    @property
    def xla_shape(self) -> str:
        """The shape in XLA's spelling, `s8[1,32,32,8]`, for the kernel graph."""
        return f"{XLA_DTYPE.get(self.dtype, self.dtype)}[{','.join(str(d) for d in self.shape)}]"

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index, "name": self.name, "shape": list(self.shape),
            "shape_signature": list(self.shape_signature if self.shape_signature is not None else self.shape),
            "dtype": self.dtype,
            "quantization": self.quantization.to_json() if self.quantization is not None else None,
            "buffer": self.buffer, "buffer_bytes": self.buffer_bytes,
            "is_variable": self.is_variable,
            **({"sparsity": self.sparsity.to_json()} if self.sparsity is not None else {}),
        }


@dataclass(frozen=True)
class OperatorCode:
    """An entry of the model's operator-code table."""

    builtin: str
    """The builtin operator's name (`CONV_2D`), or `CUSTOM`."""
    builtin_code: int
    """Its enum value (the larger of `builtin_code` and `deprecated_builtin_code`, as TFLite reads it)."""
    version: int
    """The op's version (which kernel variant the runtime needs)."""
    custom_code: str | None = None
    """For a custom op, its name (`FlexConv2D`, `TFLite_Detection_PostProcess`, ...)."""

    @property
    def name(self) -> str:
        """The op's name as the interpreter reports it: the custom name for a custom op."""
        return self.custom_code if self.custom_code is not None else self.builtin


@dataclass(frozen=True)
class Operator:
    """One operator of a subgraph: a kernel the interpreter runs."""

    index: int
    """Its position in the subgraph (execution order)."""
    opcode_index: int
    """Index into the model's operator codes."""
    opcode: str
    """Builtin name (`CONV_2D`) or, for a custom op, its custom code."""
    version: int
    """The op's version."""
    custom: bool
    """A custom op (not a builtin)."""
    inputs: tuple[int, ...]
    """Input tensor indices; -1 for an omitted optional input."""
    outputs: tuple[int, ...]
    """Output tensor indices."""
    intermediates: tuple[int, ...] = ()
    """Intermediate tensors (LSTM-style ops keep quantization parameters there)."""
    options: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)
    """Builtin options as plain values (`stride_h`, `padding`, `fused_activation_function`, ...)."""
    options_type: str | None = None
    """Name of the options table (`Conv2DOptions`), None when the op has none."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "options", MappingProxyType(dict(self.options)))

    @property
    def fused_activation(self) -> str | None:
        """The fused activation (`RELU`, `RELU6`, ...) or None."""
        act = self.options.get("fused_activation_function")
        return act if isinstance(act, str) and act != "NONE" else None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "index": self.index, "opcode": self.opcode, "inputs": list(self.inputs),
            "outputs": list(self.outputs), "version": self.version, "custom": self.custom,
        }
        if self.intermediates:
            out["intermediates"] = list(self.intermediates)
        if self.options:
            out["options"] = dict(self.options)
        return out


@dataclass(frozen=True)
class Subgraph:
    """One subgraph: the main graph, or a body of a WHILE/IF/CALL_ONCE."""

    index: int
    """Its index in the model."""
    name: str
    """Its name (`main` for the converter's first subgraph)."""
    tensors: tuple[Tensor, ...]
    """The tensor table."""
    operators: tuple[Operator, ...]
    """Operators in execution order."""
    inputs: tuple[int, ...]
    """Tensor indices of its inputs."""
    outputs: tuple[int, ...]
    """Tensor indices of its outputs."""

    @cached_property
    def producers(self) -> Mapping[int, int]:
        """Tensor index -> index of the operator that writes it."""
        return MappingProxyType({t: op.index for op in self.operators for t in op.outputs if t >= 0})

    def tensor(self, index: int) -> Tensor | None:
        """The tensor at `index`, None for an omitted optional input (-1)."""
        return self.tensors[index] if index >= 0 else None

    def op_inputs(self, op: Operator) -> list[Tensor]:
        return [self.tensors[i] for i in op.inputs if i >= 0]

    def op_outputs(self, op: Operator) -> list[Tensor]:
        return [self.tensors[i] for i in op.outputs if i >= 0]

    def quantization_inputs(self, op: Operator) -> list[Tensor]:
        """Tensors an operator reads only to dequantize its inputs: blockwise and multi-axis scales and
        zero points, which are not among its operands (each once, and none that is an operand)."""
        operands = set(op.inputs)
        extra: dict[int, Tensor] = {}
        for t in self.op_inputs(op):
            if t.quantization is not None:
                for i in t.quantization.parameter_tensors:
                    if i not in operands:
                        extra.setdefault(i, self.tensors[i])
        return list(extra.values())

    def op_bytes(self, op: Operator) -> tuple[int, int]:
        """(bytes read, bytes written): every input and output tensor once per use, at its real dtype,
        plus the scales and zero points of blockwise or multi-axis quantized inputs."""
        read = sum(t.nbytes for t in self.op_inputs(op)) + sum(t.nbytes for t in self.quantization_inputs(op))
        return (read, sum(t.nbytes for t in self.op_outputs(op)))

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index, "name": self.name, "inputs": list(self.inputs), "outputs": list(self.outputs),
            "operators": [op.to_json() for op in self.operators],
            "tensors": [t.to_json() for t in self.tensors],
        }


@dataclass(frozen=True)
class Signature:
    """A SignatureDef: named entry points mapping names to tensors of one subgraph."""

    key: str
    """The signature key (`serving_default`)."""
    subgraph: int
    """The subgraph it runs."""
    inputs: tuple[tuple[str, int], ...]
    """(name, tensor index) per input."""
    outputs: tuple[tuple[str, int], ...]
    """(name, tensor index) per output."""

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "subgraph": self.subgraph,
                "inputs": {n: i for n, i in self.inputs}, "outputs": {n: i for n, i in self.outputs}}


@dataclass(frozen=True)
class Metadata:
    """A metadata entry: a named buffer (`min_runtime_version`, `CONVERSION_METADATA`, ...)."""

    name: str
    """Its name."""
    buffer: int
    """The buffer holding it."""
    nbytes: int
    """Its size."""
    text: str | None = None
    """The value as text when it is a short printable string (`min_runtime_version`: `1.14.0`)."""

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "buffer": self.buffer, "bytes": self.nbytes, "text": self.text}


@dataclass(frozen=True)
class TFLiteModel:
    """A whole `.tflite` file."""

    source: str
    """Where it was read from (a path, or `<bytes>`)."""
    size_bytes: int
    """The file's size."""
    version: int
    """The schema version (3)."""
    description: str
    """The converter's description (`MLIR Converted.`)."""
    operator_codes: tuple[OperatorCode, ...]
    """The operator-code table."""
    subgraphs: tuple[Subgraph, ...]
    """Subgraphs; 0 is the main one."""
    buffer_bytes: tuple[int, ...]
    """Size of each buffer (0 for the sentinel and activations)."""
    signatures: tuple[Signature, ...] = ()
    """Signature defs."""
    metadata: tuple[Metadata, ...] = ()
    """Metadata entries."""

    @property
    def name(self) -> str:
        """The file's stem, for tables and graph titles."""
        return Path(self.source).stem if self.source != "<bytes>" else "model"

    @property
    def main(self) -> Subgraph:
        return self.subgraphs[0]

    def to_json(self) -> dict[str, Any]:
        """The `irscope.tflite-report/1` contract (DESIGN.md), before any analysis adds to it."""
        return {
            "schema": "irscope.tflite-report/1",
            "source": self.source,
            "size_bytes": self.size_bytes,
            "version": self.version,
            "description": self.description,
            "operator_codes": [
                {"builtin": c.builtin, "builtin_code": c.builtin_code, "custom_code": c.custom_code,
                 "version": c.version} for c in self.operator_codes
            ],
            "subgraphs": [sg.to_json() for sg in self.subgraphs],
            "signatures": [s.to_json() for s in self.signatures],
            "metadata": [m.to_json() for m in self.metadata],
        }


_DTYPE_BITS: Mapping[str, int] = MappingProxyType({name: bits for name, bits in TENSOR_TYPES.values()})


# ---------------------------------------------------------------------------------------------
# The reader


def read_tflite(path: str | os.PathLike[str]) -> TFLiteModel:
    """Read a `.tflite` file; `TFLiteParseError` (one line) when it is not a readable TFLite model."""
    shown = str(path)
    p = Path(path)
    if not p.exists():
        raise TFLiteParseError(f"{shown}: no such file")
    if p.is_dir():
        raise TFLiteParseError(f"{shown}: is a directory, not a .tflite file")
    try:
        data = p.read_bytes()
    except OSError as e:
        raise TFLiteParseError(f"{shown}: {e.strerror or e}") from None
    return parse_tflite(data, shown)


def parse_tflite(data: bytes, source: str = "<bytes>") -> TFLiteModel:
    """Parse a TFLite flatbuffer held in memory (see `read_tflite`)."""
    if len(data) < 8:
        raise TFLiteParseError(f"{source}: not a TFLite model: {len(data)} bytes, too short for a flatbuffer")
    if data[4:8] != FILE_IDENTIFIER:
        hint = ""
        if bytes(data[:4]) == b"ML\xefR" or bytes(data[:9]) == b"HloModule":
            hint = "; it is MLIR bytecode" if bytes(data[:4]) == b"ML\xefR" else "; it is HLO text"
            hint += f", which `irscope hlo {source}` reads"
        raise TFLiteParseError(f"{source}: not a TFLite model: no 'TFL3' file identifier at byte 4 "
                               f"(found {bytes(data[4:8])!r}){hint}")
    reader = _Reader(bytes(data), source, schema())
    try:
        return reader.model()
    except TFLiteParseError:
        raise
    except (IndexError, KeyError, ValueError, TypeError, OverflowError, AttributeError, struct.error) as e:
        # The generated accessors read offsets without checking them: a corrupted or truncated file
        # surfaces as an out-of-range read somewhere inside them.
        where = f" ({reader.where})" if reader.where else ""
        if isinstance(e, (struct.error, IndexError)):
            detail = f"an offset points outside the {len(data)}-byte file (truncated or corrupted)"
        else:
            detail = f"{type(e).__name__}: {_first_line(str(e)) or 'bad value'}"
        raise TFLiteParseError(f"{source}: malformed TFLite flatbuffer{where}: {detail}") from None


def _first_line(text: str) -> str:
    return first_line(text, limit=120)


def _snake(name: str) -> str:
    """`fusedActivationFunction` -> `fused_activation_function` (the schema's own field names)."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _enum_names(cls: type) -> dict[int, str]:
    return {v: k for k, v in vars(cls).items() if not k.startswith("_") and isinstance(v, int)}


class _Reader:
    """Walks the flatbuffer through the generated accessors, checking lengths and indices."""

    def __init__(self, data: bytes, source: str, s: ModuleType):
        self.data, self.source, self.s = data, source, s
        self.size = len(data)
        # Every vector element read costs one unit; a well-formed file has fewer elements than bytes
        # (each takes at least one), so a walk that costs more is going round shared tables.
        self.budget = self.size + 4096
        self.where = ""
        self.root: Any = None
        self.builtin_names = _enum_names(s.BuiltinOperator)
        self.option_names = _enum_names(s.BuiltinOptions)
        self.option2_names = _enum_names(s.BuiltinOptions2) if hasattr(s, "BuiltinOptions2") else {}
        self.enum_tables = {
            "fused_activation_function": _enum_names(s.ActivationFunctionType),
            "padding": _enum_names(s.Padding),
        }
        self.sparse_index_names = _enum_names(s.SparseIndexVector) if hasattr(s, "SparseIndexVector") else {}

    def fail(self, message: str) -> TFLiteParseError:
        where = f" ({self.where})" if self.where else ""
        return TFLiteParseError(f"{self.source}: malformed TFLite flatbuffer{where}: {message}")

    def length(self, n: int, what: str, width: int = 1) -> int:
        """Check a vector length read from the file against the file size and the work budget."""
        if n < 0 or n * width > self.size:
            raise self.fail(f"{what} claims {n} entries, more than the {self.size}-byte file can hold")
        self.budget -= n
        if self.budget < 0:
            raise self.fail(f"{what}: tables refer to each other in a loop or overlap")
        return n

    def ints(self, obj: Any, name: str, what: str) -> tuple[int, ...]:
        """A vector of ints through `<name>Length` and `<name>AsNumpy` (absent -> ())."""
        n = self.length(getattr(obj, f"{name}Length")(), what, 4)
        if n == 0:
            return ()
        return tuple(int(v) for v in getattr(obj, f"{name}AsNumpy")().tolist())

    def floats(self, obj: Any, name: str, what: str) -> tuple[float, ...]:
        n = self.length(getattr(obj, f"{name}Length")(), what, 4)
        if n == 0:
            return ()
        return tuple(float(v) for v in getattr(obj, f"{name}AsNumpy")().tolist())

    @staticmethod
    def text(raw: bytes | None) -> str:
        return raw.decode("utf-8", errors="replace") if raw else ""

    def model(self) -> TFLiteModel:
        s = self.s
        m = self.root = s.Model.GetRootAs(self.data, 0)
        self.where = "buffers"
        buffers = tuple(self.buffer(m.Buffers(i), i) for i in range(self.length(m.BuffersLength(), "buffers", 4)))
        if not buffers:
            raise self.fail("no buffers (a TFLite model has at least the empty buffer 0)")
        self.where = "operator codes"
        codes = tuple(self.opcode(m.OperatorCodes(i))
                      for i in range(self.length(m.OperatorCodesLength(), "operator codes", 4)))
        n_sub = self.length(m.SubgraphsLength(), "subgraphs", 4)
        if n_sub == 0:
            raise self.fail("no subgraphs")
        subgraphs = tuple(self.subgraph(m.Subgraphs(i), i, codes, buffers) for i in range(n_sub))
        self.where = "signatures"
        signatures = tuple(self.signature(m.SignatureDefs(i), subgraphs)
                           for i in range(self.length(m.SignatureDefsLength(), "signature defs", 4)))
        self.where = "metadata"
        metadata = tuple(self.metadata(m.Metadata(i), buffers)
                         for i in range(self.length(m.MetadataLength(), "metadata", 4)))
        self.where = ""
        return TFLiteModel(
            source=self.source, size_bytes=self.size, version=int(m.Version()),
            description=self.text(m.Description()), operator_codes=codes, subgraphs=subgraphs,
            buffer_bytes=buffers, signatures=signatures, metadata=metadata,
        )

    def buffer(self, b: Any, index: int) -> int:
        n = self.length(b.DataLength(), f"buffer {index}")
        if n:
            return n
        offset = int(b.Offset()) if hasattr(b, "Offset") else 0
        size = int(b.Size()) if hasattr(b, "Size") else 0
        if offset > 1:  # data kept after the flatbuffer (models over 2 GB)
            if offset + size > self.size:
                raise self.fail(f"buffer {index} lies at bytes {offset}..{offset + size}, past the end of the file")
            return size
        return 0

    def opcode(self, c: Any) -> OperatorCode:
        code = max(int(c.DeprecatedBuiltinCode()), int(c.BuiltinCode()))
        builtin = self.builtin_names.get(code, f"BUILTIN_{code}")
        custom = c.CustomCode()
        return OperatorCode(builtin=builtin, builtin_code=code, version=int(c.Version()),
                            custom_code=self.text(custom) if custom is not None else None)

    def subgraph(self, g: Any, index: int, codes: Sequence[OperatorCode], buffers: Sequence[int]) -> Subgraph:
        self.where = f"subgraph {index}"
        n_tensors = self.length(g.TensorsLength(), "tensors", 4)
        tensors = tuple(self.tensor(g.Tensors(i), i, index, buffers, n_tensors) for i in range(n_tensors))
        self.where = f"subgraph {index}"
        inputs = self.ints(g, "Inputs", "subgraph inputs")
        outputs = self.ints(g, "Outputs", "subgraph outputs")
        for what, indices in (("input", inputs), ("output", outputs)):
            bad = [i for i in indices if not 0 <= i < n_tensors]
            if bad:
                raise self.fail(f"{what} tensor {bad[0]} out of range ({n_tensors} tensors)")
        operators = tuple(self.operator(g.Operators(i), i, index, codes, n_tensors)
                          for i in range(self.length(g.OperatorsLength(), "operators", 4)))
        self.where = ""
        return Subgraph(index=index, name=self.text(g.Name()), tensors=tensors, operators=operators,
                        inputs=inputs, outputs=outputs)

    def tensor(self, t: Any, index: int, subgraph: int, buffers: Sequence[int], n_tensors: int) -> Tensor:
        self.where = f"subgraph {subgraph}, tensor {index}"
        code = int(t.Type())
        dtype = TENSOR_TYPES[code][0] if code in TENSOR_TYPES else f"unknown_{code}"
        shape = self.ints(t, "Shape", "shape")
        signature = self.ints(t, "ShapeSignature", "shape signature") if t.ShapeSignatureLength() else None
        if any(d < 0 for d in shape):
            raise self.fail(f"negative dimension in shape {list(shape)}")
        if signature is not None and (len(signature) != len(shape) or any(d < -1 for d in signature)):
            raise self.fail(f"shape signature {list(signature)} does not match shape {list(shape)}")
        buffer = int(t.Buffer())
        if not 0 <= buffer < len(buffers):
            raise self.fail(f"buffer {buffer} out of range ({len(buffers)} buffers)")
        return Tensor(
            index=index, name=self.text(t.Name()), shape=shape, shape_signature=signature, dtype=dtype,
            buffer=buffer, buffer_bytes=buffers[buffer], quantization=self.quantization(t.Quantization(), n_tensors),
            is_variable=bool(t.IsVariable()), sparsity=self.sparsity(t.Sparsity()),
        )

    def quantization(self, q: Any, n_tensors: int) -> Quantization | None:
        """Every form the schema has: scales in the table (per tensor or per channel), or details."""
        if q is None:
            return None
        scales = self.floats(q, "Scale", "quantization scales")
        zero_points = self.ints(q, "ZeroPoint", "quantization zero points")
        kind_code = int(q.DetailsType())
        if not scales and kind_code == 0:
            return None  # min/max alone (kept for TensorFlow) do not make a tensor quantized
        if scales and kind_code == 0 and len(zero_points) != len(scales):
            raise self.fail(f"{len(scales)} quantization scales but {len(zero_points)} zero points")
        common = dict(
            scales=scales, zero_points=zero_points, quantized_dimension=int(q.QuantizedDimension()),
            min=self.floats(q, "Min", "quantization min"), max=self.floats(q, "Max", "quantization max"),
        )
        if kind_code == 0:
            return Quantization(**common, kind="per_channel" if len(scales) > 1 else "per_tensor")
        details = _QUANT_DETAILS.get(kind_code)
        table = q.Details()
        if details is None or table is None:
            raise self.fail(f"unknown quantization details type {kind_code}")
        if details == "custom":
            custom = self.s.CustomQuantization()
            custom.Init(table.Bytes, table.Pos)
            n = self.length(custom.CustomLength(), "custom quantization")
            return Quantization(**common, details=details, kind=details, custom_bytes=n)
        cls = self.s.BlockwiseQuantization if details == "blockwise" else self.s.MultiAxisQuantization
        d = cls()
        d.Init(table.Bytes, table.Pos)
        scales_tensor, zp_tensor, block_size = int(d.Scales()), int(d.ZeroPoints()), int(d.BlockSize())
        if not 0 <= scales_tensor < n_tensors:
            raise self.fail(f"{details} quantization scales tensor {scales_tensor} out of range ({n_tensors} tensors)")
        if not -1 <= zp_tensor < n_tensors:
            raise self.fail(f"{details} quantization zero-point tensor {zp_tensor} out of range ({n_tensors} tensors)")
        if block_size < 0 or (details == "blockwise" and block_size == 0):
            raise self.fail(f"{details} quantization with block size {block_size}")
        return Quantization(
            **common, details=details, kind=details, block_size=block_size or None, scales_tensor=scales_tensor,
            zero_points_tensor=zp_tensor if zp_tensor >= 0 else None,
            quantized_dimensions=self.ints(d, "QuantizedDimensions", "quantized dimensions")
            if details == "multi_axis" else (),
        )

    def sparsity(self, sp: Any) -> Sparsity | None:
        """The TACO-style sparse storage: traversal order, block map, and each dimension's index vectors."""
        if sp is None:
            return None
        dims = []
        for i in range(self.length(sp.DimMetadataLength(), "sparsity dimensions", 4)):
            d = sp.DimMetadata(i)
            counts, index_bytes = [], 0
            for type_fn, table_fn in (("ArraySegmentsType", "ArraySegments"), ("ArrayIndicesType", "ArrayIndices")):
                vector_type = self.sparse_index_names.get(int(getattr(d, type_fn)()))
                table = getattr(d, table_fn)()
                if vector_type is None or table is None:
                    counts.append(0)
                    continue
                vector = getattr(self.s, vector_type)()
                vector.Init(table.Bytes, table.Pos)
                bits = SPARSE_INDEX_BITS.get(vector_type, 32)
                n = self.length(vector.ValuesLength(), f"sparsity {table_fn}", bits // 8)
                counts.append(n)
                index_bytes += n * bits // 8
            fmt = int(d.Format())
            dims.append(DimensionMetadata(
                format={0: "dense", 1: "sparse_csr"}.get(fmt, f"format_{fmt}"), dense_size=int(d.DenseSize()),
                segments=counts[0], indices=counts[1], index_bytes=index_bytes,
            ))
        return Sparsity(traversal_order=self.ints(sp, "TraversalOrder", "traversal order"),
                        block_map=self.ints(sp, "BlockMap", "block map"), dim_metadata=tuple(dims))

    def operator(self, o: Any, index: int, subgraph: int, codes: Sequence[OperatorCode],
                 n_tensors: int) -> Operator:
        self.where = f"subgraph {subgraph}, operator {index}"
        opcode_index = int(o.OpcodeIndex())
        if not 0 <= opcode_index < len(codes):
            raise self.fail(f"operator code {opcode_index} out of range ({len(codes)} codes)")
        code = codes[opcode_index]
        inputs = self.ints(o, "Inputs", "operator inputs")
        outputs = self.ints(o, "Outputs", "operator outputs")
        intermediates = self.ints(o, "Intermediates", "operator intermediates")
        for what, indices, low in (("input", inputs, -1), ("output", outputs, 0), ("intermediate", intermediates, 0)):
            bad = [i for i in indices if not low <= i < n_tensors]
            if bad:
                raise self.fail(f"{what} tensor {bad[0]} out of range ({n_tensors} tensors)")
        options_type, options = self.options(o)
        return Operator(
            index=index, opcode_index=opcode_index, opcode=code.name, version=code.version,
            custom=code.custom_code is not None, inputs=inputs, outputs=outputs, intermediates=intermediates,
            options=options, options_type=options_type,
        )

    def options(self, o: Any) -> tuple[str | None, dict[str, Any]]:
        """The builtin options table through the generated object API (`Conv2DOptionsT`)."""
        for type_fn, table_fn, names in (("BuiltinOptionsType", "BuiltinOptions", self.option_names),
                                         ("BuiltinOptions2Type", "BuiltinOptions2", self.option2_names)):
            if not hasattr(o, type_fn):
                continue
            kind = int(getattr(o, type_fn)())
            if kind == 0:
                continue
            name = names.get(kind)
            table = getattr(o, table_fn)()
            cls = getattr(self.s, f"{name}T", None) if name else None
            if cls is None or table is None:
                return name, {}
            obj = cls.InitFromBuf(table.Bytes, table.Pos)
            values = {_snake(k): v for k, v in vars(obj).items()}
            return name, {k: self.option_value(k, v) for k, v in values.items()}
        return None, {}

    def option_value(self, key: str, value: Any) -> Any:
        names = self.enum_tables.get(key)
        if names is not None and isinstance(value, int):
            return names.get(value, value)
        if hasattr(value, "tolist"):
            value = value.tolist()
        if isinstance(value, list):
            self.length(len(value), f"option {key}")
            return [v if isinstance(v, (int, float, bool, str)) else str(v) for v in value]
        if isinstance(value, bytes):
            return self.text(value)
        if value is None or isinstance(value, (int, float, bool, str)):
            return value
        return str(value)

    def signature(self, d: Any, subgraphs: Sequence[Subgraph]) -> Signature:
        sub = int(d.SubgraphIndex())
        if not 0 <= sub < len(subgraphs):
            raise self.fail(f"signature refers to subgraph {sub} ({len(subgraphs)} subgraphs)")
        n_tensors = len(subgraphs[sub].tensors)

        def maps(count: int, get: Callable[[int], Any], what: str) -> tuple[tuple[str, int], ...]:
            out = []
            for j in range(self.length(count, what, 4)):
                entry = get(j)
                index = int(entry.TensorIndex())
                if not 0 <= index < n_tensors:
                    raise self.fail(f"signature {what} tensor {index} out of range ({n_tensors} tensors)")
                out.append((self.text(entry.Name()), index))
            return tuple(out)

        return Signature(
            key=self.text(d.SignatureKey()), subgraph=sub,
            inputs=maps(d.InputsLength(), d.Inputs, "inputs"), outputs=maps(d.OutputsLength(), d.Outputs, "outputs"),
        )

    def metadata(self, md: Any, buffers: Sequence[int]) -> Metadata:
        buffer = int(md.Buffer())
        if not 0 <= buffer < len(buffers):
            raise self.fail(f"metadata buffer {buffer} out of range ({len(buffers)} buffers)")
        nbytes = buffers[buffer]
        text = None
        if 0 < nbytes <= 64:
            raw = self.root.Buffers(buffer).DataAsNumpy()
            value = bytes(raw).rstrip(b"\0")
            if value and all(32 <= c < 127 for c in value):
                text = value.decode("ascii")
        return Metadata(name=self.text(md.Name()), buffer=buffer, nbytes=nbytes, text=text)


# ---------------------------------------------------------------------------------------------
# The kernel graph


def _empty_costs() -> dict[str, Any]:
    return {**empty_costs(), "fused": []}


def build_kernel_graph(
    model: TFLiteModel,
    subgraph: int = 0,
    node_data: Callable[[Operator], Mapping[str, Any]] | None = None,
) -> nx.MultiDiGraph:
    """The kernel graph of one subgraph, in the schema of `irscope.ir.graph_schema`.

    Nodes: one per operator (id `<opcode>_<index>` in lower case, kind `op`, `ops` the opcode and its
    fused activation, `op_name` the name of its first output tensor), one per subgraph input
    (`parameter`, id the tensor's name) and one per constant or variable tensor (`constant` /
    `parameter`, id `<last part of its name>#<index>`); inputs and constants carry `dtype` (numpy name).
    Edges: one per use of a tensor (shape in XLA's spelling, dtype, bytes, operand_index, plus
    `tensor`, the tensor index, and `quantization`, a short summary).
    An operator node's bytes are exact (`Subgraph.op_bytes`); `node_data` adds FLOPs, precision and
    roofline placement (`irscope.passes.quantization.TFLiteAnalysis.graph` does).

    Arguments:
        model: the parsed model.
        subgraph: which subgraph (0, the main one, by default).
        node_data: extra attributes per operator, merged into its node.
    """
    if not 0 <= subgraph < len(model.subgraphs):
        raise ValueError(f"subgraph {subgraph} out of range ({len(model.subgraphs)} subgraphs)")
    sg = model.subgraphs[subgraph]
    graph = nx.MultiDiGraph(module=model.name, computation=sg.name or f"subgraph_{subgraph}", format="tflite")
    op_ids = {op.index: f"{op.opcode.lower()}_{op.index}" for op in sg.operators}
    taken = set(op_ids.values())
    tensor_node: dict[int, str] = {}
    for t in sg.inputs:
        tensor = sg.tensors[t]
        name = tensor.name or f"input_{t}"
        node_id = name if name not in taken else f"{name}#{t}"
        taken.add(node_id)
        tensor_node[t] = node_id
        graph.add_node(node_id, kind="parameter", opcode="parameter", ops=["parameter"], op_name=tensor.name,
                       shape=tensor.xla_shape, dtype=tensor.dtype, tensor=t, **_empty_costs())
    for op in sg.operators:
        read, written = sg.op_bytes(op)
        outputs = sg.op_outputs(op)
        node = {
            "kind": "op", "opcode": op.opcode,
            "ops": [op.opcode] + ([op.fused_activation] if op.fused_activation else []),
            "op_name": outputs[0].name if outputs else "",
            "shape": outputs[0].xla_shape if len(outputs) == 1 else f"({', '.join(t.xla_shape for t in outputs)})",
            **_empty_costs(), "bytes_read": float(read), "bytes_written": float(written), "index": op.index,
        }
        if node_data is not None:
            node.update(node_data(op))
        graph.add_node(op_ids[op.index], **node)
    producers = sg.producers
    for op in sg.operators:
        for operand_index, t in enumerate(op.inputs):
            if t < 0:
                continue
            tensor = sg.tensors[t]
            if t in producers:
                source = op_ids[producers[t]]
            elif t in tensor_node:
                source = tensor_node[t]
            else:  # a constant or a variable: its own input node, named by its last path component
                source = f"{tensor.name.rsplit('/', 1)[-1] or 'tensor'}#{t}"
                tensor_node[t] = source
                kind = "constant" if tensor.is_constant else "parameter"
                graph.add_node(source, kind=kind, opcode=kind, ops=[kind], op_name=tensor.name,
                               shape=tensor.xla_shape, dtype=tensor.dtype, tensor=t, **_empty_costs())
            graph.add_edge(source, op_ids[op.index], shape=tensor.xla_shape,
                           dtype=XLA_DTYPE.get(tensor.dtype, tensor.dtype), bytes=tensor.nbytes,
                           operand_index=operand_index, tensor=t, quantization=quantization_summary(tensor))
    return graph


def quantization_summary(tensor: Tensor) -> str | None:
    """`s=0.0039 zp=-128`, `per-channel(axis 0) x8`, `blockwise(32)`, ..., or None for an unquantized tensor."""
    q = tensor.quantization
    if q is None:
        return None
    if q.kind == "blockwise":
        return f"blockwise({q.block_size})"
    if q.kind == "multi_axis":
        axes = ",".join(str(a) for a in q.quantized_dimensions)
        return f"multi-axis({axes})" + (f" block {q.block_size}" if q.block_size else "")
    if q.kind == "custom":
        return f"custom({q.custom_bytes} B)"
    if q.per_channel:
        return f"per-channel(axis {q.quantized_dimension}) x{len(q.scales)}"
    return f"s={q.scales[0]:.3g} zp={q.zero_points[0] if q.zero_points else 0}"
