"""The HLO data model: modules, computations, instructions and shapes, as frozen values.

This is what `irscope.ir.hlo_parser` produces from XLA's HLO text, and what every pass reads. It keeps
what XLA's own `HloModuleProto` keeps for the analyses irscope does (opcode, shape, operands, called
computations, attributes) and leaves attribute values as their source text until something asks
for them: most attributes are never read, and not parsing them is what makes large dumps fast.

Not handled yet: literal values (a constant's literal is kept as text), and the layout of
sub-byte element types beyond the `E(n)` element size. Unbounded dynamic dimensions (`f32[?]`) are
kept as -1 and count as 0 elements.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property

# Bytes per element, as XLA's ShapeUtil::ByteSizeOfPrimitiveType reports them (sub-byte types
# occupy one byte each unless the layout packs them with E(n)).
DTYPE_BYTES: Mapping[str, int] = {
    "pred": 1, "s1": 1, "s2": 1, "s4": 1, "s8": 1, "s16": 2, "s32": 4, "s64": 8,
    "u1": 1, "u2": 1, "u4": 1, "u8": 1, "u16": 2, "u32": 4, "u64": 8,
    "f16": 2, "bf16": 2, "f32": 4, "f64": 8, "c64": 8, "c128": 16,
    "f4e2m1fn": 1, "f6e2m3fn": 1, "f6e3m2fn": 1, "f8e3m4": 1, "f8e4m3": 1, "f8e4m3fn": 1,
    "f8e4m3b11fnuz": 1, "f8e4m3fnuz": 1, "f8e5m2": 1, "f8e5m2fnuz": 1, "f8e8m0fnu": 1,
    "token": 0, "opaque": 0,
}

# numpy names for the element types, for JSON and for the TFLite side's common vocabulary.
NUMPY_DTYPE: Mapping[str, str] = {
    "pred": "bool", "s8": "int8", "s16": "int16", "s32": "int32", "s64": "int64",
    "u8": "uint8", "u16": "uint16", "u32": "uint32", "u64": "uint64",
    "f16": "float16", "bf16": "bfloat16", "f32": "float32", "f64": "float64",
    "c64": "complex64", "c128": "complex128", "s4": "int4", "u4": "uint4",
}

# Size XLA:CPU gives a tuple's index table: one pointer per element.
POINTER_BYTES = 8


@dataclass(frozen=True, slots=True)
class Shape:
    """An HLO shape: an array (`f32[2,3]{1,0}`), a tuple of shapes, a token, or a buffer (`b(f32[4])`)."""

    dtype: str
    """Element type as XLA prints it (`f32`, `bf16`, `s4`, ...), or `tuple` / `token` / `buffer`."""
    dims: tuple[int, ...] = ()
    """Dimension sizes (upper bounds for dynamic dimensions)."""
    dynamic: tuple[bool, ...] = ()
    """Per dimension, whether it was written `<=N` (bounded dynamic) or `?`; empty if none is."""
    layout: tuple[int, ...] | None = None
    """Minor-to-major dimension order, or None when the text gave no layout."""
    layout_extra: str = ""
    """The rest of the layout after `:` (tiling `T(8,128)`, element size `E(4)`, memory space `S(1)`)."""
    tuple_shapes: tuple[Shape, ...] = ()
    """Element shapes of a tuple; for a buffer, the one array shape it holds."""
    _elements: int = field(init=False, repr=False, compare=False, default=0)
    _bytes: int = field(init=False, repr=False, compare=False, default=0)

    def __post_init__(self) -> None:
        # Shapes are interned by the parser and asked for their size constantly: compute it once.
        elements = math.prod(self.dims) if self.is_array and -1 not in self.dims else 0
        object.__setattr__(self, "_elements", elements)
        object.__setattr__(self, "_bytes", self._byte_size(elements))

    @property
    def is_tuple(self) -> bool:
        return self.dtype == "tuple"

    @property
    def is_array(self) -> bool:
        return self.dtype not in _NOT_ARRAYS

    @property
    def is_buffer(self) -> bool:
        return self.dtype == "buffer"

    @property
    def rank(self) -> int:
        return len(self.dims)

    @property
    def elements(self) -> int:
        """Number of elements of an array shape (1 for a scalar, 0 for tuples and tokens)."""
        return self._elements

    @property
    def element_bits(self) -> int:
        """Bits per element: the `E(n)` element size when the layout packs, else whole bytes."""
        extra = self.layout_extra
        if "E(" in extra:
            start = extra.index("E(") + 2
            return int(extra[start:extra.index(")", start)])
        return DTYPE_BYTES.get(self.dtype, 0) * 8

    @property
    def byte_size(self) -> int:
        """Bytes of this shape as XLA:CPU's cost analysis counts them (a tuple: its pointer table)."""
        return self._bytes

    def _byte_size(self, elements: int) -> int:
        if self.is_tuple:
            return POINTER_BYTES * len(self.tuple_shapes)
        if self.is_buffer:
            return self.tuple_shapes[0].byte_size
        if not self.is_array:
            return 0
        bits = self.element_bits
        if bits % 8:
            return (elements * bits + 7) // 8
        return elements * (bits // 8)

    def leaves(self) -> Iterator[tuple[tuple[int, ...], Shape]]:
        """Every array sub-shape with its index path, depth first (the shape itself for an array)."""
        if self.is_tuple:
            for i, sub in enumerate(self.tuple_shapes):
                for index, leaf in sub.leaves():
                    yield (i, *index), leaf
        elif self.is_buffer:
            yield (), self.tuple_shapes[0]
        elif self.is_array:
            yield (), self

    def subshape(self, index: tuple[int, ...]) -> Shape:
        shape = self
        for i in index:
            shape = shape.tuple_shapes[i]
        return shape

    def __str__(self) -> str:
        if self.is_tuple:
            return "(" + ", ".join(str(s) for s in self.tuple_shapes) + ")"
        if self.is_buffer:
            return f"b({self.tuple_shapes[0]})"
        if self.dtype in ("token", "opaque"):
            return f"{self.dtype}[]"
        dims = ",".join(_dim_text(d, bool(self.dynamic and self.dynamic[i])) for i, d in enumerate(self.dims))
        text = f"{self.dtype}[{dims}]"
        if self.layout is not None:
            text += "{" + ",".join(map(str, self.layout))
            text += (":" + self.layout_extra if self.layout_extra else "") + "}"
        return text

    def short(self) -> str:
        """The shape without its layout: `f32[256,1024]`."""
        if self.is_tuple:
            return "(" + ", ".join(s.short() for s in self.tuple_shapes) + ")"
        if self.is_buffer:
            return f"b({self.tuple_shapes[0].short()})"
        if not self.is_array:
            return f"{self.dtype}[]"
        return f"{self.dtype}[{','.join('?' if d < 0 else str(d) for d in self.dims)}]"


_NOT_ARRAYS = frozenset({"tuple", "token", "opaque", "buffer"})


def _dim_text(size: int, dynamic: bool) -> str:
    if size < 0:
        return "?"
    return f"<={size}" if dynamic else str(size)


@dataclass(frozen=True, slots=True, eq=False)
class Instruction:
    """One HLO instruction. Compares by identity: two `add`s of the same inputs are two nodes."""

    name: str
    """Instruction name without the `%` sigil (`fusion.3`, `custom-call.1`)."""
    opcode: str
    """Opcode as XLA prints it (`add`, `fusion`, `get-tuple-element`, `all-reduce-start`)."""
    shape: Shape
    """Result shape."""
    operands: tuple[str, ...]
    """Operand instruction names, in order (names resolve within the same computation)."""
    attrs: Mapping[str, str] = field(default_factory=dict)
    """Attributes as their source text, e.g. {"kind": "kLoop", "dimensions": "{1}"}."""
    called: tuple[str, ...] = ()
    """Called computations, in XLA's order (a while: body, condition; a conditional: branches)."""
    is_root: bool = False
    """Marked ROOT in the text (or last in a computation that marks none)."""
    literal: str | None = None
    """For `constant`, the literal's text; for `parameter`, the parameter number as text."""
    line: int = 0
    """1-based line of the instruction in the source text (0 when unknown)."""

    @property
    def parameter_number(self) -> int:
        if self.opcode != "parameter" or self.literal is None:
            raise ValueError(f"{self.name} is not a parameter")
        return int(self.literal)

    @property
    def fusion_kind(self) -> str | None:
        """`kLoop`, `kInput`, `kOutput` or `kCustom` for a fusion, else None."""
        return self.attrs.get("kind") if self.opcode == "fusion" else None

    @property
    def op_name(self) -> str | None:
        """The `op_name` of the instruction's metadata (the framework's scope path), if any."""
        meta = self.attrs.get("metadata")
        if not meta:
            return None
        from irscope.ir.attrs import metadata_field

        return metadata_field(meta, "op_name")

    @property
    def source_line(self) -> int | None:
        meta = self.attrs.get("metadata")
        if not meta:
            return None
        from irscope.ir.attrs import metadata_field

        value = metadata_field(meta, "source_line")
        return int(value) if value is not None else None


@dataclass(frozen=True, eq=False)  # not slotted: `users` is cached in the instance dict
class Computation:
    """A named list of instructions with one root: the entry, a fused computation, a loop body."""

    name: str
    """Computation name without `%`."""
    instructions: tuple[Instruction, ...]
    """Instructions in text order (XLA prints them in a valid post order)."""
    root_name: str
    """Name of the root instruction."""
    is_entry: bool = False
    """Marked ENTRY (or the only computation of a module that marks none)."""
    attrs: Mapping[str, str] = field(default_factory=dict)
    """Attributes written after the closing brace (`execution_thread="main"`)."""
    by_name: Mapping[str, Instruction] = field(default_factory=dict, repr=False)
    """Instruction by name (built by the parser)."""

    @property
    def root(self) -> Instruction:
        return self.by_name[self.root_name]

    @property
    def parameters(self) -> list[Instruction]:
        """Parameter instructions ordered by parameter number."""
        params = [i for i in self.instructions if i.opcode == "parameter"]
        return sorted(params, key=lambda i: i.parameter_number)

    def operands_of(self, inst: Instruction) -> list[Instruction]:
        return [self.by_name[name] for name in inst.operands]

    @cached_property
    def users(self) -> Mapping[str, tuple[Instruction, ...]]:
        """Users of each instruction, by name, in text order (an operand used twice counts twice)."""
        users: dict[str, list[Instruction]] = {i.name: [] for i in self.instructions}
        for inst in self.instructions:
            for operand in inst.operands:
                users.setdefault(operand, []).append(inst)
        return {k: tuple(v) for k, v in users.items()}

    def __len__(self) -> int:
        return len(self.instructions)


@dataclass(frozen=True, slots=True, eq=False)
class Module:
    """An HLO module: its computations and the header attributes."""

    name: str
    """Module name from the `HloModule` line (or the file name when the text has none)."""
    computations: Mapping[str, Computation]
    """Computations by name, in text order."""
    entry_name: str
    """Name of the entry computation."""
    attrs: Mapping[str, str] = field(default_factory=dict)
    """Header attributes as text (`is_scheduled`, `entry_computation_layout`, ...)."""
    stack_frames: Mapping[int, tuple[str, str, int, int | None]] = field(default_factory=dict)
    """stack_frame_id -> (file, function, line, parent frame id), from the StackFrames tables."""
    source: str = ""
    """Where the text came from (a path, or a description like `<jit_mlp optimized>`)."""

    @property
    def entry(self) -> Computation:
        return self.computations[self.entry_name]

    @property
    def instruction_count(self) -> int:
        return sum(len(c) for c in self.computations.values())

    def reachable_from(self, names: Iterable[str]) -> list[str]:
        """`names` and every computation they call, directly or through others, each once (names the
        module does not define are skipped; iterative, so call chains of any depth are fine)."""
        seen: set[str] = set()
        order: list[str] = []
        todo = list(names)
        while todo:
            name = todo.pop()
            if name in seen or name not in self.computations:
                continue
            seen.add(name)
            order.append(name)
            for inst in self.computations[name].instructions:
                todo.extend(inst.called)
        return order

    def called_by(self) -> Mapping[str, tuple[tuple[Computation, Instruction], ...]]:
        """For each computation, the (computation, instruction) pairs that call it."""
        callers: dict[str, list[tuple[Computation, Instruction]]] = {n: [] for n in self.computations}
        for comp in self.computations.values():
            for inst in comp.instructions:
                for callee in inst.called:
                    callers.setdefault(callee, []).append((comp, inst))
        return {k: tuple(v) for k, v in callers.items()}
