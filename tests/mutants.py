"""Structure-aware mutations of real inputs, for the fuzz tests and `benchmarks/fuzz.py`.

Each mutator takes a `Choices` (where its decisions come from) and a real input, and returns a
mutant that is *almost* right: HLO text whose grammar is intact but whose operands, opcodes,
attributes, called computations, numbers or nesting are wrong; TFLite flatbuffers whose tables are
re-packed with wrong indices, shapes, types or subgraph references, or whose bytes are cut and
flipped. Those are the inputs that parse and then reach the passes.

`Choices` has two sources: `RandomChoices(random.Random(seed))` for the long campaign (fast, one
seed reproduces a whole run), and `DrawChoices(data)` inside a Hypothesis test (so a failing example
shrinks to the fewest, simplest decisions).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


class Choices:
    """Where a mutator's decisions come from."""

    def integer(self, low: int, high: int) -> int:
        raise NotImplementedError

    def element(self, items: Sequence[T]) -> T:
        return items[self.integer(0, len(items) - 1)]


class RandomChoices(Choices):
    def __init__(self, rng: random.Random):
        self.rng = rng

    def integer(self, low: int, high: int) -> int:
        return self.rng.randint(low, high)


class DrawChoices(Choices):
    """Decisions drawn from Hypothesis (`st.data()`), so failures shrink."""

    def __init__(self, data: Any):
        from hypothesis import strategies as st

        self.data, self.st = data, st

    def integer(self, low: int, high: int) -> int:
        return self.data.draw(self.st.integers(low, high))


# -- HLO text -----------------------------------------------------------------------------------

_INSTRUCTION = re.compile(
    r"^(?P<indent>[ \t]*)(?P<root>ROOT[ \t]+)?(?P<name>%?[\w.\-]+)[ \t]*=[ \t]*(?P<shape>.*?)[ \t]"
    r"(?P<opcode>[a-z][\w\-]*)\((?P<operands>[^()]*)\)(?P<rest>.*)$")
_HEADER = re.compile(r"^[ \t]*(?:ENTRY[ \t]+)?%?(?P<name>[\w.\-]+)[ \t]*(?:\(.*\)[ \t]*->[ \t]*.*?)?[ \t]*\{[ \t]*$")
_DIM = re.compile(r"(?<=[\[,])(\d+)(?=[\],])")
_DTYPE = re.compile(r"\b(f32|bf16|f16|s32|s8|u8|pred|f64|s64|u32)(?=\[)")
_CALL_ATTR = re.compile(r"\b(calls|to_apply|body|condition|select|scatter|true_computation|false_computation)=%?([\w.\-]+)")
_ATTR = re.compile(r", (\w+)=(\{[^{}]*\}|[^,\s{}]+)")

OPCODES = (
    "add", "negate", "tuple", "fusion", "call", "while", "conditional", "reduce", "reduce-window", "scatter",
    "gather", "convolution", "dot", "transpose", "fft", "dynamic-update-slice", "dynamic-slice",
    "select-and-scatter", "get-tuple-element", "custom-call", "sort", "map", "triangular-solve", "cholesky",
    "all-reduce", "all-gather", "broadcast", "reshape", "slice", "pad", "concatenate", "select", "constant",
    "parameter", "copy", "bitcast", "iota", "rng-bit-generator", "async-start", "async-done", "ragged-dot",
    "reverse", "clamp", "infeed", "outfeed", "send", "recv", "after-all", "collective-permute",
)
GARBAGE_VALUES = (
    "{1,2,3}", "{}", "{-1}", "{0,0}", "{5,4,3,2,1,0}", "{size=0x0}", "{size=99999999999999999999}",
    "{size=3x3 stride=0x0}", "{size=2 pad=-5_-5}", "{size=1x1x1x1x1x1x1 lhs_dilate=0}", "b01f_01io->b01f",
    "bf_io->bf", "b0f_0io->b0f", "x", '"x"', "-1", "999999999", "kLoop", "{{{", "}",
    '{"known_trip_count":{"n":[4]}}', '{"known_trip_count":{"n":"-3"}}', '{"known_trip_count":"x"}',
    '{"known_trip_count":{"n":"9999999999999999999999"}}', "[2,4]<=[8]", "{{0,1},{2}}", "nan", "1e400",
)
ATTR_KEYS = ("window", "dimensions", "index", "backend_config", "lhs_contracting_dims", "rhs_contracting_dims",
             "dim_labels", "fft_length", "feature_group_count", "slice", "kind", "replica_groups",
             "rhs_group_dims", "lhs_batch_dims", "to_apply", "calls", "custom_call_target")
HUGE_NUMBERS = ("0", "1", "-1", "2147483648", "4294967296", "9223372036854775807", "9223372036854775808",
                "100000000000000000000000000000", "7" * 60)
BAD_DTYPES = ("q32", "f33", "tuple", "token", "s0", "u128", "bf17", "opaque", "f8e4m3", "s4")


def _lines_matching(lines: list[str], pattern: re.Pattern[str]) -> list[int]:
    return [k for k, line in enumerate(lines) if pattern.match(line)]


def _computation_of(lines: list[str], k: int) -> tuple[str, int, int]:
    """(name, first instruction line, end line) of the computation around line k."""
    start = k
    while start > 0 and not _HEADER.match(lines[start - 1]):
        start -= 1
    m = _HEADER.match(lines[start - 1]) if start > 0 else None
    end = k
    while end < len(lines) and not lines[end].lstrip().startswith("}"):
        end += 1
    return (m.group("name") if m else ""), start, end


def _names(lines: list[str], start: int, end: int) -> list[str]:
    return [m.group("name").lstrip("%") for line in lines[start:end] if (m := _INSTRUCTION.match(line))]


def _set_operands(line: str, operands: list[str]) -> str:
    m = _INSTRUCTION.match(line)
    assert m is not None
    return line[:m.start("operands")] + ", ".join(operands) + line[m.end("operands"):]


def _split_operands(text: str) -> list[str]:
    return [p.strip() for p in text.split(",") if p.strip()]


def _operand_name(operand: str) -> str:
    return operand.split()[-1].lstrip("%") if operand.split() else operand


def hlo_mutate_once(text: str, c: Choices, big: bool = True) -> str:
    """One structure-aware edit of HLO text (see the module docstring).

    `big=False` keeps the depth and length edits small (tuples nested 200 deep, chains of 2,000),
    for quick tests; the campaign nests thousands deep and adds chains of 20,000 instructions."""
    lines = text.split("\n")
    insts = _lines_matching(lines, _INSTRUCTION)
    if not insts:
        return text[: c.integer(0, len(text))]
    k = c.element(insts)
    line = lines[k]
    m = _INSTRUCTION.match(line)
    assert m is not None
    comp, start, end = _computation_of(lines, k)
    names = _names(lines, start, end)
    operands = _split_operands(m.group("operands"))
    kind = c.integer(0, 16)
    if kind == 0 and operands:  # drop an operand
        del operands[c.integer(0, len(operands) - 1)]
        lines[k] = _set_operands(line, operands)
    elif kind == 1:  # add an operand of the same computation
        operands.insert(c.integer(0, len(operands)), c.element(names))
        lines[k] = _set_operands(line, operands)
    elif kind == 2:  # use itself, or an instruction defined later (a cycle, often)
        own = m.group("name").lstrip("%")
        later = names[names.index(own):] if own in names else [own]
        target = c.element(later)
        if operands:
            operands[c.integer(0, len(operands) - 1)] = target
        else:
            operands = [target]
        lines[k] = _set_operands(line, operands)
    elif kind == 3:  # another opcode
        lines[k] = line[:m.start("opcode")] + c.element(OPCODES) + line[m.end("opcode"):]
    elif kind == 4:  # an attribute's value garbled
        attrs = list(_ATTR.finditer(line))
        if attrs:
            a = c.element(attrs)
            lines[k] = line[:a.start(2)] + c.element(GARBAGE_VALUES) + line[a.end(2):]
        else:
            lines[k] = line + f", {c.element(ATTR_KEYS)}={c.element(GARBAGE_VALUES)}"
    elif kind == 5:  # an attribute added (maybe a duplicate key)
        lines[k] = line + f", {c.element(ATTR_KEYS)}={c.element(GARBAGE_VALUES + (comp, 'nope'))}"
    elif kind == 6:  # a called computation changed: itself, missing, or another one
        calls = list(_CALL_ATTR.finditer(text))
        if calls:
            a = c.element(calls)
            comps = [h.group("name") for h in map(_HEADER.match, lines) if h]
            text = text[:a.start(2)] + c.element([*comps, "nope", comp]) + text[a.end(2):]
            return text
        lines[k] = line + f", to_apply={comp}"
    elif kind == 7:  # a dimension replaced by an extreme number
        dims = list(_DIM.finditer(line))
        if dims:
            d = c.element(dims)
            lines[k] = line[:d.start()] + c.element(HUGE_NUMBERS) + line[d.end():]
    elif kind == 8:  # an element type no table knows
        types = list(_DTYPE.finditer(line))
        if types:
            t = c.element(types)
            lines[k] = line[:t.start()] + c.element(BAD_DTYPES) + line[t.end():]
    elif kind == 9:  # the result shape nested in tuples, deep
        depth = c.element((1, 3, 50, 65, 500, 3000) if big else (1, 3, 50, 65, 200))
        shape = m.group("shape")
        lines[k] = line[:m.start("shape")] + "(" * depth + shape + ")" * depth + line[m.end("shape"):]
    elif kind == 10:  # an attribute of deeply nested brackets
        depth = c.element((10, 200, 5000, 50000) if big else (10, 200, 5000))
        lines[k] = line + ", frontend_attributes=" + "{" * depth + "}" * depth
    elif kind == 11:  # a long chain of instructions (an unrolled loop)
        length = c.element((10, 2000, 20000) if big else (10, 2000))
        own = m.group("name").lstrip("%")
        shape = m.group("shape")
        chain = [f"  chain.{j} = {shape} copy({'chain.' + str(j - 1) if j else own})" for j in range(length)]
        lines[k + 1:k + 1] = chain
    elif kind == 12:  # a line deleted
        del lines[k]
    elif kind == 13:  # a line duplicated (a name defined twice)
        lines.insert(k, line)
    elif kind == 14:  # two instruction lines swapped (roots move, order changes)
        j = c.element(insts)
        lines[k], lines[j] = lines[j], lines[k]
    elif kind == 15:  # the ROOT marker moved or dropped
        lines[k] = line.replace("ROOT ", "", 1) if m.group("root") else m.group("indent") + "ROOT " + line.lstrip()
    else:  # cut short
        return text[: c.integer(0, len(text))]
    return "\n".join(lines)


def hlo_mutant(text: str, c: Choices, max_edits: int = 3, big: bool = True) -> str:
    """One to `max_edits` edits of HLO text (see `hlo_mutate_once`)."""
    for _ in range(c.integer(1, max_edits)):
        text = hlo_mutate_once(text, c, big)
    return text


# -- TFLite flatbuffers ----------------------------------------------------------------------------

INTERESTING_INTS = (-2, -1, 0, 1, 2, 3, 7, 255, 65535, 2**31 - 1, 10**6)
"""Values for int32 fields (tensor indices, shapes); raw byte edits add 2**32 - 1."""


def tflite_mutant(data: bytes, c: Choices) -> bytes:
    """Re-packed tables with wrong fields (most of the time), or cut and flipped bytes."""
    kind = c.integer(0, 9)
    if kind == 0:  # cut short
        return data[: c.integer(0, len(data))]
    if kind == 1:  # bytes flipped
        out = bytearray(data)
        for _ in range(c.integer(1, 8)):
            i = c.integer(0, len(out) - 1)
            out[i] ^= 1 << c.integer(0, 7)
        return bytes(out)
    if kind == 2:  # an offset or length overwritten with an interesting number
        out = bytearray(data)
        i = c.integer(0, max(0, len(out) - 4)) & ~3
        out[i:i + 4] = (c.element((*INTERESTING_INTS, 2**32 - 1)) & 0xFFFFFFFF).to_bytes(4, "little")
        return bytes(out)
    return _repacked(data, c, kind)


def _repacked(data: bytes, c: Choices, kind: int) -> bytes:
    import flatbuffers

    from irscope.ir.tflite import schema

    s = schema()
    model = s.ModelT.InitFromPackedBuf(bytearray(data), 0)
    sg = c.element(model.subgraphs)
    if kind == 3 and sg.operators:  # an operator's tensor index wrong (a cycle, a second writer, out of range)
        op = c.element(sg.operators)
        field = "inputs" if c.integer(0, 1) else "outputs"
        values = list(getattr(op, field) if getattr(op, field) is not None else [])
        n = len(sg.tensors)
        value = c.element([*INTERESTING_INTS, n, n - 1, *(op.inputs if op.inputs is not None else [0])])
        if values:
            values[c.integer(0, len(values) - 1)] = value
        else:
            values = [value]
        setattr(op, field, values)
    elif kind == 4 and sg.tensors:  # a shape with extreme or negative dimensions
        t = c.element(sg.tensors)
        shape = list(t.shape if t.shape is not None else [1])
        if shape:
            shape[c.integer(0, len(shape) - 1)] = c.element((0, -1, -7, 2**31 - 1, 65536, 10**9))
        else:
            shape = [c.element((0, -1, 2**31 - 1))]
        t.shape = shape
    elif kind == 5 and sg.tensors:  # an unknown type, or another one
        c.element(sg.tensors).type = c.element((99, 5, 13, 14, 17, 19, 0, 9))
    elif kind == 6 and sg.tensors:  # a buffer index or a buffer's data wrong
        t = c.element(sg.tensors)
        if c.integer(0, 1):
            t.buffer = c.element((0, len(model.buffers), len(model.buffers) - 1, 2**31 - 1))
        elif model.buffers and model.buffers[t.buffer].data is not None:
            model.buffers[t.buffer].data = list(model.buffers[t.buffer].data)[: c.integer(0, 3)]
    elif kind == 7 and sg.tensors:  # quantization that does not fit the shape
        t = c.element(sg.tensors)
        q = t.quantization or s.QuantizationParametersT()
        n = c.element((0, 1, 2, 3, 1000))
        q.scale = [c.element((0.5, float("nan"), float("inf"), -1.0)) for _ in range(n)]
        q.zeroPoint = [0] * (n if c.integer(0, 3) else n + 1)
        q.quantizedDimension = c.element((0, 1, 3, 7, -1, 2**31 - 1))
        t.quantization = q
    elif kind == 8 and sg.operators:  # an operator's opcode index wrong, or its operator code
        op = c.element(sg.operators)
        op.opcodeIndex = c.element((0, len(model.operatorCodes), 2**31 - 1, *range(len(model.operatorCodes))))
    else:  # subgraph-level lists: inputs, outputs
        field = c.element(("inputs", "outputs"))
        values = list(getattr(sg, field) or [])
        values.append(c.element((*INTERESTING_INTS, len(sg.tensors))))
        setattr(sg, field, values)
    builder = flatbuffers.Builder(len(data) + 1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


# -- MLIR text -------------------------------------------------------------------------------------

def mlir_mutant(text: str, c: Choices) -> str:
    """Token-level edits of MLIR text: cut, numbers, types and value names changed."""
    kind = c.integer(0, 4)
    if kind == 0:
        return text[: c.integer(0, len(text))]
    if kind == 1:
        dims = list(re.finditer(r"(?<=[<x])\d+(?=x)", text))
        if dims:
            d = c.element(dims)
            return text[:d.start()] + c.element(HUGE_NUMBERS) + text[d.end():]
    if kind == 2:
        types = list(re.finditer(r"\b(f32|i32|i1|f16|bf16)\b", text))
        if types:
            t = c.element(types)
            return text[:t.start()] + c.element(("f33", "i0", "tuple", "!x", "f8E4M3FN")) + text[t.end():]
    if kind == 3:
        values = list(re.finditer(r"%\w+", text))
        if len(values) > 1:
            a, b = c.element(values), c.element(values)
            return text[:a.start()] + b.group(0) + text[a.end():]
    lines = text.split("\n")
    del lines[c.integer(0, len(lines) - 1)]
    return "\n".join(lines)


MUTATORS: dict[str, Callable[..., Any]] = {"hlo": hlo_mutant, "tflite": tflite_mutant, "mlir": mlir_mutant}
