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
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from irscope.hw import get_chip
from irscope.ir.files import check_input, read_text
from irscope.ir.hlo import Module
from irscope.ir.hlo_parser import parse_module
from irscope.ir.verify import verify
from irscope.passes.report import HloReport, analyze


def inspect_jax(fn: Callable[..., Any], args: Sequence[Any] | str, *, hw: str | None = None,
                backend: str | None = None, target: str | None = None,
                mesh: Mapping[str, int] | None = None, memory: bool = False) -> HloReport:
    """Lower `fn` at `args` (arrays, `ShapeDtypeStruct`s or a spec string), compile it with XLA and
    report on the optimized module, placed on chip `hw`'s roofline.

    `target` (`"h100"`, `"tpu-v5e:2x2"`, ...) compiles with that chip's own XLA, without the device
    (`irscope.frontends.targets`); `mesh` lays PartitionSpec-sharded arguments over its chips. `hw`
    defaults to the target's chip, else `cpu`. `memory=True` adds the memory analysis (`report.memory`:
    arguments, outputs, temps, the peak and what is live there)."""
    if target is not None:
        return _inspect_for_target(fn, args, target, hw=hw, mesh=mesh, memory=memory)
    hw = hw or "cpu"
    from irscope.frontends.jax_lower import lower

    lowered = lower(fn, args, backend=backend)
    module = verify(parse_module(lowered.optimized, f"<{lowered.name} optimized>"), lowered.optimized)
    return _with_memory(analyze(module, get_chip(hw), xla_cost=dict(lowered.cost),
                                extra={"backend": lowered.backend, "compile_s": round(lowered.compiled.seconds, 3)}),
                        memory, lowered.compiled.memory, lowered.backend)


def _with_memory(report: HloReport, memory: bool, compiled: Any = None,
                 platform: str | None = None) -> HloReport:
    """`report` with its memory analysed when asked; `compiled` is XLA's `memory_analysis()` of the compile
    the module came from (its argument, output, alias and temp bytes replace irscope's, labelled `xla`)."""
    if not memory:
        return report
    from dataclasses import replace

    from irscope.passes.memory import analyze_memory, with_compiler_figures

    return replace(report, memory=with_compiler_figures(analyze_memory(report.module), compiled, platform=platform))


def inspect_hlo(text_or_path: str | os.PathLike[str] | Module, *, hw: str = "cpu", memory: bool = False) -> HloReport:
    """Report on HLO text: a string holding a module, a path to a dump, or an already parsed Module.

    A string is HLO text when it looks like it (several lines, or it starts with `HloModule`, or it
    holds a `{`); otherwise it is a path. A path that is not a readable regular file raises
    `irscope.ir.files.InputFileError` (an `OSError`; `FileNotFoundError` for a missing one, "no such
    file"). Malformed text raises `HloParseError`, a module that is not well formed `HloVerifyError`
    (both `ValueError`s, one line naming the place).
    `memory=True` adds `report.memory` (`irscope.passes.memory`).
    """
    if isinstance(text_or_path, Module):
        module = verify(text_or_path)
    elif isinstance(text_or_path, os.PathLike) or not _looks_like_hlo_text(text_or_path):
        path = Path(text_or_path)
        check_input(path, what=" (give HLO text or the path of a dump)")  # a FIFO, a device: one line, no hang
        from irscope.frontends.formats import sniff

        if sniff(path) in ("mlir", "mlir-bytecode"):  # by its first bytes: StableHLO/MHLO
            from irscope.frontends import stablehlo

            compiled = stablehlo.compile_mlir(stablehlo.read_mlir(path))
            module = verify(parse_module(compiled.optimized, str(path)), compiled.optimized)
            return _with_memory(analyze(module, get_chip(hw), stage=compiled.stage,
                                        xla_cost=dict(compiled.cost) or None), memory)
        text = read_text(path, what=" (give HLO text or the path of a dump)", expected="HLO text")
        module = verify(parse_module(text, str(path)), text)
    else:
        module = verify(parse_module(text_or_path), text_or_path)
    optimized = module.attrs.get("is_scheduled") == "true" or any(
        i.opcode == "fusion" for i in module.entry.instructions)
    return _with_memory(analyze(module, get_chip(hw), stage="optimized" if optimized else "hlo"), memory)


def _inspect_for_target(fn: Callable[..., Any], args: Sequence[Any] | str, target: str, *, hw: str | None,
                        mesh: Mapping[str, int] | None, memory: bool = False) -> HloReport:
    """`inspect_jax` with `target`: the target compiler's module, its cost analysis and the target's chip."""
    from irscope.frontends.targets import compile_for_target
    from irscope.hw import list_chips

    compiled = compile_for_target(fn, args, target, mesh=mesh)
    chip = hw or (compiled.target.chip.name if compiled.target.chip.name in list_chips() else "cpu")
    module = parse_module(compiled.hlo_text, f"<{compiled.name} for {compiled.target.name}>")
    report = analyze(module, get_chip(chip), xla_cost=compiled.cost_analysis, extra=target_extra(compiled))
    return _with_memory(report, memory, compiled.memory_analysis, compiled.target.platform)


def target_extra(compiled: Any) -> dict[str, Any]:
    """What a report keeps (its `extra`) about a `CompiledForTarget`: target, devices, autotuning, time."""
    return {"target": compiled.target.name, "device_kind": compiled.device_kind,
            "num_devices": compiled.num_devices, "autotuned": compiled.autotuned,
            "autotune_note": compiled.autotune_note, "compile_s": round(compiled.seconds, 3),
            **({"device_coords": [list(c) for c in compiled.device_coords]} if compiled.device_coords else {})}


def _looks_like_hlo_text(text: str) -> bool:
    """HLO text (even one line of it) rather than a file name: a file name has no newline or brace."""
    stripped = text.lstrip()
    return "\n" in stripped or stripped.startswith("HloModule") or "{" in stripped
