"""JSON text for irscope's files: readable at the top, one line per row below, at the C encoder's speed.

`json.dumps(obj, indent=1)` runs the standard library's pure-Python encoder (the C one serves only
`indent=None`): on the 48-layer benchmark module's report that is 0.6 s of the 3 s the whole report is
allowed. `dumps` expands the outer `depth` levels of dicts and lists, one entry per line, and writes
everything below with the C encoder on one line, so a report's top-level keys stand apart and each
kernel is one line (`grep`-able, diff-friendly) while the text is still one valid JSON document that
`json.loads` reads back to the same object.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any


def dumps(obj: Any, *, depth: int = 2, allow_nan: bool = True, default: Callable[[Any], Any] | None = None) -> str:
    """`obj` as JSON text: containers at the outer `depth` levels one entry per line (one space of indent
    per level), deeper values compact on their line. `allow_nan` and `default` as for `json.dumps`."""
    compact = json.JSONEncoder(allow_nan=allow_nan, default=default, separators=(", ", ": ")).encode

    def encode(value: Any, level: int) -> str:
        if level >= depth or not isinstance(value, (dict, list, tuple)) or not value:
            return compact(value)
        inner = " " * (level + 1)
        if isinstance(value, dict):
            lines = [f"{inner}{_key(k, compact)}: {encode(v, level + 1)}" for k, v in value.items()]
            return "{\n" + ",\n".join(lines) + "\n" + " " * level + "}"
        return "[\n" + ",\n".join(inner + encode(v, level + 1) for v in value) + "\n" + " " * level + "]"

    return encode(obj, 0)


def _key(key: Any, compact: Callable[[Any], str]) -> str:
    """A dict key as JSON writes it (a string; numbers, booleans and None converted as json.dumps does)."""
    if isinstance(key, str):
        return compact(key)
    text = compact({key: 0})  # json's own conversion of a non-string key
    return text[1:text.rindex(":")]
