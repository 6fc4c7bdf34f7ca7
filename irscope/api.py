"""The notebook/CI surface: one call from a function, a text or a file to a report.

    import irscope
    report = irscope.inspect_jax(mlp, "f32[256,512] f32[512,1024] f32[1024,10]", hw="h100")
    report                       # in a notebook: the kernel table
    report.to_json()["totals"]   # the numbers, for CI
    report.svg()                 # the kernel graph

`inspect_jax` lowers and compiles with XLA for the local backend; `inspect_hlo` reads HLO text (a
string or a path) written anywhere, by any XLA.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from irscope.hw import get_chip
from irscope.ir.files import read_text
from irscope.ir.hlo import Module
from irscope.ir.hlo_parser import parse_module
from irscope.ir.verify import verify
from irscope.passes.report import HloReport, analyze


def inspect_jax(fn: Callable[..., Any], args: Sequence[Any] | str, *, hw: str = "cpu",
                backend: str | None = None) -> HloReport:
    """Lower `fn` at `args` (arrays, `ShapeDtypeStruct`s or a spec string), compile it with XLA and
    report on the optimized module, placed on chip `hw`'s roofline."""
    from irscope.frontends.jax_lower import lower

    lowered = lower(fn, args, backend=backend)
    module = verify(parse_module(lowered.optimized, f"<{lowered.name} optimized>"), lowered.optimized)
    return analyze(module, get_chip(hw), xla_cost=dict(lowered.cost),
                   extra={"backend": lowered.backend, "compile_s": round(lowered.compiled.seconds, 3)})


def inspect_hlo(text_or_path: str | os.PathLike[str] | Module, *, hw: str = "cpu") -> HloReport:
    """Report on HLO text: a string holding a module, a path to a dump, or an already parsed Module.

    A string is HLO text when it looks like it (several lines, or it starts with `HloModule`, or it
    holds a `{`); otherwise it is a path. A path that is not a readable regular file raises
    `irscope.ir.files.InputFileError` (an `OSError`; `FileNotFoundError` for a missing one, "no such
    file"). Malformed text raises `HloParseError`, a module that is not well formed `HloVerifyError`
    (both `ValueError`s, one line naming the place).
    """
    if isinstance(text_or_path, Module):
        module = verify(text_or_path)
    elif isinstance(text_or_path, os.PathLike) or not _looks_like_hlo_text(text_or_path):
        path = os.fspath(text_or_path)
        text = read_text(path, what=" (give HLO text or the path of a dump)", expected="HLO text")
        module = verify(parse_module(text, path), text)
    else:
        module = verify(parse_module(text_or_path), text_or_path)
    optimized = module.attrs.get("is_scheduled") == "true" or any(
        i.opcode == "fusion" for i in module.entry.instructions)
    return analyze(module, get_chip(hw), stage="optimized" if optimized else "hlo")


def _looks_like_hlo_text(text: str) -> bool:
    """HLO text (even one line of it) rather than a file name: a file name has no newline or brace."""
    stripped = text.lstrip()
    return "\n" in stripped or stripped.startswith("HloModule") or "{" in stripped
