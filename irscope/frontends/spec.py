"""Argument specs: `"f32[256,512] f32[512,1024] s32[] bf16[8,128]"` -> `jax.ShapeDtypeStruct`s.

This is the `--args` grammar of `python -m inspect.hlo model.py --fn NAME --args SPEC`, and what a model
file's `IRSCOPE_EXAMPLES` table may use in place of real arrays. A spec is a whitespace-separated list of
tokens (a comma between tokens is allowed too); each token is

    DTYPE[D0,D1,...]        f32[256,512]      an array
    DTYPE[]  or  DTYPE      s32[]  s32        a scalar
    DTYPE[D0,...]{1,0}      f32[2,3]{1,0}     a shape copied from HLO text: the layout is ignored

DTYPE is an HLO element type name (`pred s8 s16 s32 s64 u8 u16 u32 u64 f16 bf16 f32 f64 c64 c128`, and
the fp8 / 4-bit types XLA prints) or a numpy name (`float32`, `int8`, `bool`, ...). IMPL is the name
JAX prints for a key implementation (`fry` for threefry2x32, `rbg`, `unsafe_rbg`). No data is needed:
a `ShapeDtypeStruct` is enough to lower a function.

Errors raise `SpecError` (a `ValueError`) whose message names the bad token and its column.

Not handled yet: dynamic dimensions (`f32[<=8]`, `f32[?]`), tuples, shardings, weak types and custom
(user-registered) key implementations.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping
from typing import Any

import jax
import numpy as np

from irscope.errors import SpecError as SpecError

# HLO element type name -> numpy/JAX dtype name. The fp8 and 4-bit types come from ml_dtypes,
# which JAX depends on, so `np.dtype(jnp.dtype(name))` resolves every one of them.
HLO_TO_NUMPY: Mapping[str, str] = {
    "pred": "bool",
    "s4": "int4", "s8": "int8", "s16": "int16", "s32": "int32", "s64": "int64",
    "u4": "uint4", "u8": "uint8", "u16": "uint16", "u32": "uint32", "u64": "uint64",
    "f16": "float16", "bf16": "bfloat16", "f32": "float32", "f64": "float64",
    "c64": "complex64", "c128": "complex128",
    "f8e4m3fn": "float8_e4m3fn", "f8e5m2": "float8_e5m2", "f8e4m3fnuz": "float8_e4m3fnuz",
    "f8e5m2fnuz": "float8_e5m2fnuz", "f8e4m3b11fnuz": "float8_e4m3b11fnuz",
}
NUMPY_TO_HLO: Mapping[str, str] = {v: k for k, v in HLO_TO_NUMPY.items()}

# One token: a dtype word, then an optional [dims], then an optional {layout}.
_TOKEN = re.compile(r"(?P<dtype>[A-Za-z_][A-Za-z0-9_]*(?:<[A-Za-z0-9_]*>)?)(?:\[(?P<dims>[^][]*)\])?"
                    r"(?:\{(?P<layout>[^}]*)\})?")
_DIM = re.compile(r"\d+")
MAX_ARRAY_BYTES = 2**63 - 1
"""XLA's limit for one array: its byte size must fit an int64 (ShapeUtil::ValidateShape)."""


# JAX's key implementations, by the name `jax.random.key(0, impl=NAME)` takes.
_KEY_IMPLS = ("threefry2x32", "rbg", "unsafe_rbg")


@functools.cache
def _key_dtypes() -> dict[str, Any]:
    """`"key<fry>"` -> that key dtype, one per implementation, plus `"key"` for JAX's default one."""
    found: dict[str, Any] = {}
    for impl in _KEY_IMPLS:
        dtype = jax.eval_shape(functools.partial(jax.random.key, 0, impl=impl)).dtype
        found[str(dtype)] = dtype
    found["key"] = jax.eval_shape(functools.partial(jax.random.key, 0)).dtype
    return found


def is_key_dtype(dtype: Any) -> bool:
    """Whether `dtype` is a typed PRNG key's (`key<fry>`), which numpy cannot represent."""
    return jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key)


def parse_dtype(name: str) -> Any:
    """An HLO (`f32`) or numpy (`float32`) element type name -> numpy dtype, or a key type name
    (`key<fry>`, `key`) -> that JAX key dtype; `SpecError` if unknown."""
    if name == "key" or name.startswith("key<"):
        keys = _key_dtypes()
        if name not in keys:
            known = " ".join(k for k in keys if k != "key")
            raise SpecError(f"unknown key type {name!r} (known: {known}, or key for JAX's default)", token=name)
        return keys[name]
    numpy_name = HLO_TO_NUMPY.get(name, name)
    if numpy_name not in NUMPY_TO_HLO:
        known = " ".join(HLO_TO_NUMPY)
        raise SpecError(f"unknown dtype {name!r} (known: {known}, or their numpy names)", token=name)
    return np.dtype(jax.numpy.dtype(numpy_name))


def _split(text: str) -> list[tuple[str, int]]:
    """Split on whitespace and commas outside brackets; each token with its 0-based offset."""
    tokens: list[tuple[str, int]] = []
    depth, start = 0, None
    for i, ch in enumerate(text):
        if ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        separator = depth <= 0 and (ch.isspace() or ch == ",")
        if separator:
            if start is not None:
                tokens.append((text[start:i], start))
                start = None
        elif start is None:
            start = i
    if start is not None:
        tokens.append((text[start:], start))
    return tokens


def parse_arg(token: str, *, column: int = 1) -> jax.ShapeDtypeStruct:
    """One token (`f32[256,512]`) -> `jax.ShapeDtypeStruct`. `column` (1-based) is for error messages."""
    where = f"at column {column}"
    match = _TOKEN.fullmatch(token)
    if match is None:
        raise SpecError(
            f"bad argument spec {token!r} {where}: expected DTYPE[D0,D1,...], e.g. f32[256,512]",
            token=token, column=column,
        )
    try:
        dtype = parse_dtype(match["dtype"])
    except SpecError as e:
        raise SpecError(f"bad argument spec {token!r} {where}: {e}", token=token, column=column) from None
    dims: list[int] = []
    text = (match["dims"] or "").strip()
    for piece in text.split(",") if text else []:
        piece = piece.strip()
        if not _DIM.fullmatch(piece):
            raise SpecError(
                f"bad argument spec {token!r} {where}: dimension {piece!r} is not a non-negative integer",
                token=token, column=column,
            )
        dims.append(int(piece))
    if math.prod(dims) * max(int(getattr(dtype, "itemsize", 1) or 1), 1) > MAX_ARRAY_BYTES:
        raise SpecError(f"bad argument spec {token!r} {where}: more than 2**63 bytes (XLA's limit for one array)",
                        token=token, column=column)
    return jax.ShapeDtypeStruct(tuple(dims), dtype)


def parse_args(text: str) -> tuple[jax.ShapeDtypeStruct, ...]:
    """A whitespace-separated spec (`"f32[256,512] s32[]"`) -> one `ShapeDtypeStruct` per token.

    An empty spec is no arguments. Raises `SpecError` naming the first bad token and its column.
    """
    return tuple(parse_arg(token, column=offset + 1) for token, offset in _split(text))


def format_arg(arg: jax.ShapeDtypeStruct | jax.Array | np.ndarray) -> str:
    """`ShapeDtypeStruct((256, 512), float32)` -> `"f32[256,512]"`: the inverse of `parse_arg`.

    A typed key array prints as its key type, `key<fry>[4]`, which `parse_arg` reads back.
    """
    dims = ",".join(str(d) for d in arg.shape)
    if is_key_dtype(arg.dtype):
        return f"{arg.dtype}[{dims}]"
    name = np.dtype(arg.dtype).name
    return f"{NUMPY_TO_HLO.get(name, name)}[{dims}]"
