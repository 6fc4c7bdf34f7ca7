"""Decoders for HLO attribute text: the pieces `Instruction.attrs` keeps as source text.

The data model leaves every attribute as the text XLA printed (`"{1,0}"`, `"{size=3x3 stride=2x2}"`,
`"b01f_01io->b01f"`); a pass that needs the value asks one of these functions for it. Each decoder
takes exactly the text of one attribute value and raises `ValueError` naming the text when it cannot
read it.

Not handled yet: sharding (replica groups, in all three printed forms, are
decoded by `irscope.passes.collectives.decode_replica_groups`), and the proto-text
forms some attributes take in old dumps (`window={dimensions {size: 3}}`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any


def int_list(text: str) -> tuple[int, ...]:
    """`"{1,0}"` -> (1, 0); `"{}"` -> (); also accepts the bare `"1,0"`."""
    body = text.strip()
    if body.startswith("{") and body.endswith("}"):
        body = body[1:-1]
    body = body.strip()
    if not body:
        return ()
    try:
        return tuple(int(part) for part in body.split(","))
    except ValueError:
        raise ValueError(f"not an int list: {text!r}") from None


_C_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "?": "?", "a": "\a",
              "b": "\b", "f": "\f", "v": "\v"}
_C_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|.)", re.S)


def _c_unescape(match: re.Match[str]) -> str:
    code = match.group(1)
    if code[0] == "x":
        return chr(int(code[1:], 16))
    if code[0] in "01234567":
        return chr(int(code, 8))
    return _C_ESCAPES.get(code, code)


def _unquote(text: str) -> str:
    """An HLO string literal's value: quotes stripped, C escapes (as XLA's CEscape writes them) undone."""
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        return text
    body = text[1:-1]
    return _C_ESCAPE.sub(_c_unescape, body) if "\\" in body else body


_METADATA_ITEM = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|[^\s}]*)')


def metadata_field(text: str, key: str) -> str | None:
    """One field of a `metadata={...}` value: `metadata_field('{op_name="a/b" source_line=3}', "op_name")`
    is `"a/b"`; None when the field is absent. Quoted values are unescaped."""
    for m in _METADATA_ITEM.finditer(text):
        if m.group(1) == key:
            return _unquote(m.group(2))
    return None


@dataclass(frozen=True, slots=True)
class WindowDim:
    """One spatial dimension of a `window={...}` attribute, as XLA's `WindowDimension` holds it."""

    size: int = 1
    """Window (kernel) extent."""
    stride: int = 1
    """Step between windows."""
    padding_low: int = 0
    """Padding before the first element."""
    padding_high: int = 0
    """Padding after the last element."""
    window_dilation: int = 1
    """`rhs_dilate`: spacing between window taps."""
    base_dilation: int = 1
    """`lhs_dilate`: spacing inserted between input elements."""
    window_reversal: bool = False
    """`rhs_reversal`: the window is applied mirrored."""


_WINDOW_KEYS = {"size", "stride", "pad", "lhs_dilate", "rhs_dilate", "rhs_reversal"}


def window(text: str) -> tuple[WindowDim, ...]:
    """`"{size=3x3 stride=2x2 pad=0_1x0_1 lhs_dilate=1x1 rhs_dilate=2x2}"` -> one `WindowDim` per
    spatial dimension; `"{}"` -> ()."""
    body = text.strip()
    if body.startswith("{") and body.endswith("}"):
        body = body[1:-1]
    fields: dict[str, list[str]] = {}
    for item in body.split():
        key, sep, value = item.partition("=")
        if not sep or key not in _WINDOW_KEYS:
            raise ValueError(f"unknown window field {item!r} in {text!r}")
        fields[key] = value.split("x")
    if not fields:
        return ()
    rank = len(next(iter(fields.values())))
    if any(len(v) != rank for v in fields.values()):
        raise ValueError(f"window fields disagree on the number of dimensions: {text!r}")
    dims = []
    for i in range(rank):
        low, high = 0, 0
        if "pad" in fields:
            low_text, _, high_text = fields["pad"][i].partition("_")
            low, high = int(low_text), int(high_text)
        dims.append(WindowDim(
            size=int(fields["size"][i]) if "size" in fields else 1,
            stride=int(fields["stride"][i]) if "stride" in fields else 1,
            padding_low=low,
            padding_high=high,
            window_dilation=int(fields["rhs_dilate"][i]) if "rhs_dilate" in fields else 1,
            base_dilation=int(fields["lhs_dilate"][i]) if "lhs_dilate" in fields else 1,
            window_reversal=fields["rhs_reversal"][i] == "1" if "rhs_reversal" in fields else False,
        ))
    return tuple(dims)


@dataclass(frozen=True, slots=True)
class ConvDims:
    """A convolution's `dim_labels`, decoded into XLA's `ConvolutionDimensionNumbers`."""

    input_batch: int
    input_feature: int
    input_spatial: tuple[int, ...]
    kernel_input_feature: int
    kernel_output_feature: int
    kernel_spatial: tuple[int, ...]
    output_batch: int
    output_feature: int
    output_spatial: tuple[int, ...]


def _labels(part: str, first: str, second: str, text: str) -> tuple[int, int, tuple[int, ...]]:
    if part.count(first) != 1 or part.count(second) != 1:
        raise ValueError(f"bad dim_labels {text!r}: {part!r} needs one {first!r} and one {second!r}")
    spatial = sorted((int(c), i) for i, c in enumerate(part) if c.isdigit())
    if [s for s, _ in spatial] != list(range(len(spatial))) or len(spatial) + 2 != len(part):
        raise ValueError(f"bad dim_labels {text!r}: spatial labels of {part!r} must be 0..n-1")
    return part.index(first), part.index(second), tuple(i for _, i in spatial)


def conv_dim_labels(text: str) -> ConvDims:
    """`"b01f_01io->b01f"` -> `ConvDims` (input `b`/`f`, kernel `i`/`o`, output `b`/`f`, digits spatial)."""
    lhs, arrow, out = text.strip().partition("->")
    inp, underscore, ker = lhs.partition("_")
    if not arrow or not underscore:
        raise ValueError(f"bad dim_labels {text!r}: expected 'input_kernel->output'")
    ib, if_, isp = _labels(inp, "b", "f", text)
    ki, ko, ksp = _labels(ker, "i", "o", text)
    ob, of, osp = _labels(out, "b", "f", text)
    return ConvDims(ib, if_, isp, ki, ko, ksp, ob, of, osp)


def slice_ranges(text: str) -> tuple[tuple[int, int, int], ...]:
    """`"{[0:4], [1:7:2]}"` -> ((0, 4, 1), (1, 7, 2)): (start, limit, stride) per dimension."""
    ranges = []
    for match in re.finditer(r"\[([^\]]*)\]", text):
        parts = [int(p) for p in match.group(1).split(":")]
        if len(parts) == 2:
            parts.append(1)
        if len(parts) != 3:
            raise ValueError(f"bad slice range {match.group(0)!r} in {text!r}")
        ranges.append((parts[0], parts[1], parts[2]))
    return tuple(ranges)


def backend_config(text: str) -> Any:
    """A `backend_config=` value decoded from JSON (XLA:CPU and GPU print JSON); None if it is not JSON."""
    body = text.strip()
    if body.startswith('"') and body.endswith('"'):
        body = json.loads(body)
    try:
        return json.loads(body)
    except (json.JSONDecodeError, TypeError):
        return None


_META_FIELD = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|[^\s}]+)')


def metadata_fields(text: str) -> dict[str, str]:
    """Every field of a `metadata={...}` value, quoted values unescaped."""
    return {key: _unquote(value) for key, value in _META_FIELD.findall(text)}


def name_list(text: str) -> tuple[str, ...]:
    """`"{%a, b.1}"` -> ("a", "b.1"): computation or instruction names in braces."""
    body = text.strip()
    if body.startswith("{") and body.endswith("}"):
        body = body[1:-1]
    return tuple(part.strip().lstrip("%") for part in body.split(",") if part.strip())
