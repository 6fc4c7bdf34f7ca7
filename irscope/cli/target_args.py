"""`--target NAME[:TOPOLOGY]` and `--mesh AXIS=N,...` for `hlo` and `diff`: compile for a chip this machine lacks.

    python -m inspect.hlo examples/mlp.py --target h100             # XLA:GPU's kernels, H100 roofline
    python -m inspect.hlo examples/sharded_mlp.py --target tpu-v5e:2x2 --mesh data=2,model=2
    python -m inspect.diff examples/mlp.py examples/mlp.py --target-before h100 --target-after tpu-v5e

What each kind of input does with a target:
- model.py (a table entry or `--fn/--args`): compiled by the target's own compiler
  (`irscope.frontends.targets.compile_for_target`); arguments may carry `PartitionSpec`s, laid over
  `--mesh`, which is built over the target's devices.
- .mlir: compiled by the target's compiler (`compile_mlir_for_target`), for the devices its shardings name.
- HLO text: used as it is (it was compiled already, by whatever compiler wrote it); the target only
  picks the roofline chip and is recorded in the report.

The report carries the target (`"target": "tpu-v5e:2x2"` in the JSON, a line above the table), whether
tile configs were autotuned (never, without the device), and where the compiler gives its own time
estimate (XLA:TPU: `estimated_cycles` in each fusion's backend_config, `optimal_seconds` in its cost
analysis), that estimate beside t@peak (`compiler_estimate_s`). The roofline chip defaults to the target's
chip; `--hw` still overrides it.

`--measure` times the local machine only, so it is refused with a non-CPU target or `--hw`: a CPU time
is no fraction of an H100 roofline.

Collectives carry `comm_bytes`/`comm_time_s` on the target's interconnect (`irscope.passes.collectives`),
and TPU totals follow XLA:TPU's padded tiled layouts (`irscope.ir.layout`), equal to its cost_analysis().
"""

from __future__ import annotations

import argparse
import re
from typing import TYPE_CHECKING, Any

from irscope.cli.common import UserError, progress

if TYPE_CHECKING:
    from irscope.frontends.targets import CompiledForTarget, Target
    from irscope.passes.report import HloReport

HLO_TEXT_NOTE = "HLO text is used as it is: the target only picks the roofline chip"


def add_arguments(parser: argparse.ArgumentParser, *, per_side: bool = False) -> None:
    """Add `--target` (dest `compile_target`) and `--mesh`; with `per_side`, `--target-before/-after` too."""
    group = parser.add_argument_group("compiling for an accelerator (no device needed)")
    group.add_argument("--target", dest="compile_target", metavar="NAME[:TOPOLOGY]", default=None,
                       help="compile with that chip's own XLA: cpu (default), h100, a100, h200, b200, tpu-v4, "
                            "tpu-v5e, tpu-v5p, tpu-v6e; a topology such as tpu-v5e:2x2 or h100:8 for several "
                            "chips. Needs pip install 'irscope[gpu]' or 'irscope[tpu]'")
    group.add_argument("--mesh", metavar="AXIS=N,...", default=None,
                       help="device mesh over the target's chips for arguments sharded with PartitionSpecs, "
                            "e.g. data=2,model=2 (the sizes multiply to the chip count)")
    if per_side:
        group.add_argument("--target-before", dest="compile_target_before", metavar="NAME[:TOPOLOGY]",
                           default=None, help="the target for BEFORE only (overrides --target)")
        group.add_argument("--target-after", dest="compile_target_after", metavar="NAME[:TOPOLOGY]",
                           default=None, help="the target for AFTER only (overrides --target)")


def parse_mesh(text: str | None) -> dict[str, int] | None:
    """`"data=2,model=2"` -> {"data": 2, "model": 2}; `UserError` for anything else."""
    if text is None:
        return None
    sizes: dict[str, int] = {}
    for part in text.split(","):
        m = re.fullmatch(r"\s*([A-Za-z_]\w*)\s*=\s*([1-9][0-9]*)\s*", part)
        if not m:
            raise UserError(f"--mesh {text!r}: expected AXIS=N pairs joined by commas, e.g. --mesh data=2,model=2")
        if m.group(1) in sizes:
            raise UserError(f"--mesh {text!r}: axis {m.group(1)!r} appears twice")
        sizes[m.group(1)] = int(m.group(2))
    return sizes


def resolve(args: argparse.Namespace, which: str = "") -> Target | None:
    """The validated target of one side (`which` is '', 'before' or 'after'); None without `--target`.

    Also sets `args.hw` to the roofline chip when `--hw` was not given: the target's chip (`cpu` without
    one). Raises `TargetError`/`UserError` (one line, exit 2) for a bad target, mesh or `--measure`.
    """
    from irscope import hw
    from irscope.frontends.targets import parse_target

    text = getattr(args, f"compile_target_{which}", None) if which else None
    text = text or args.compile_target
    target = parse_target(text) if text is not None else None
    mesh = parse_mesh(args.mesh)
    if mesh is not None and (target is None or target.num_chips == 1):
        shown = target.name if target is not None else "cpu"
        raise UserError(f"--mesh {args.mesh} lays arguments over several chips, but the target {shown} has one: "
                        "give a multi-chip target, e.g. --target tpu-v5e:2x2 or --target h100:4")
    if getattr(args, "hw_given", None) is None:
        args.hw_given = args.hw is not None
    if not args.hw_given:
        chip = target.chip.name if target is not None else "cpu"
        args.hw = chip if chip in hw.list_chips() else "cpu"
    return target


def check_measure(args: argparse.Namespace, target: Target | None) -> None:
    """Refuse `--measure` with a non-CPU target or `--hw`: it times this machine only (one line, exit 2)."""
    from irscope import hw

    if not getattr(args, "measure", False):
        return
    where = target.name if target is not None and not target.is_local else None
    if where is None and hw.canonical_name(args.hw) != "cpu":
        where = f"--hw {args.hw}"
    if where is not None:
        raise UserError(f"--measure times this machine's CPU, which is not {where}: a CPU time is no fraction "
                        "of that chip's roofline; drop --target/--hw to measure here, or drop --measure")


def programs(args: argparse.Namespace, target: Target, kind: str) -> list[Any] | None:
    """`hlo`'s programs for a non-CPU target: a model file's entries or a .mlir file, compiled by the target's
    compiler. None when `--stage` printed what was asked."""
    from irscope.cli.hlo import _Program
    from irscope.frontends import model_file

    if args.stage == "hlo":
        raise UserError("--stage hlo shows the local compiler's input; with --target use --stage stablehlo (what "
                        "the target's compiler gets) or --stage optimized (what it made of it)")
    mesh = parse_mesh(args.mesh)
    if kind == "mlir":
        if mesh is not None:
            raise UserError(f"--mesh: {args.target} names its own shardings; --mesh is for a model.py's "
                            "PartitionSpecs")
        compiled = compile_mlir(args.target, target)
        if _print_stage(args, compiled):
            return None
        return [_Program(compiled.hlo_text, args.target, compiled.cost_analysis, compiled_extra(compiled),
                         memory=compiled.memory_analysis, platform=target.platform)]
    out = []
    for entry in model_file.resolve(args.target, args.fn, args.args):
        compiled = compile_entry(entry, target, mesh)
        if _print_stage(args, compiled):
            continue
        out.append(_Program(compiled.hlo_text, f"{args.target}::{entry.name}", compiled.cost_analysis,
                            {"function": entry.name, "args": entry.spec, **compiled_extra(compiled)}, entry,
                            compiled.memory_analysis, target.platform))
    return None if args.stage else out


def tag(programs: list[Any] | None, target: Target | None, kind: str) -> None:
    """Record `--target` on programs the local path made: `cpu`, or a chip for HLO text (used as it is)."""
    if target is None or not programs:
        return
    for program in programs:
        program.extra["target"] = target.name
        if kind == "hlo" and not target.is_local:
            program.extra["target_note"] = HLO_TEXT_NOTE
    if kind == "hlo" and not target.is_local:
        progress(f"note: {HLO_TEXT_NOTE} ({target.name}); compile a model.py or .mlir to see its compiler's "
                 "kernels")


def _print_stage(args: argparse.Namespace, compiled: CompiledForTarget) -> bool:
    if args.stage == "stablehlo":
        print(compiled.stablehlo)
    elif args.stage == "optimized":
        print(compiled.hlo_text)
    return bool(args.stage)


def compile_entry(entry: Any, target: Target, mesh: dict[str, int] | None,
                  compiler_options: dict[str, Any] | None = None) -> CompiledForTarget:
    """A model file's entry compiled by the target's compiler, with progress on stderr."""
    from irscope.frontends.targets import compile_for_target

    axes = entry.mesh_axes
    if axes and mesh is None:
        raise UserError(f"{entry.path}::{entry.name}: its arguments are sharded over mesh axes "
                        f"{', '.join(map(repr, axes))}: give --mesh {','.join(f'{a}=N' for a in axes)} with sizes "
                        f"that multiply to {target.name}'s {target.num_chips} chips")
    progress(f"compiling {entry.name} for {target.name} with its own XLA (no device needed) ...")
    return compile_for_target(entry.fn, entry.args, target, mesh=mesh, compiler_options=compiler_options)


def diff_side(args: argparse.Namespace, loaded: Any, target: Target, flags: dict[str, Any], which: str) -> Any:
    """One side of `irscope diff` compiled by the target's compiler (a model.py or .mlir side)."""
    from irscope.cli.diff import _label, _side
    from irscope.frontends import model_file

    if args.stage == "hlo":
        raise UserError("--stage hlo compares the local compiler's input; with --target compare the optimized "
                        "modules (the default)")
    if args.measure:
        raise UserError(f"--measure times this machine's CPU, not {target.name}: drop --measure or the target")
    if loaded.kind == "mlir":
        compiled = compile_mlir(loaded.name, target)
        return _with_memory(_side(f"{_label(loaded.name, None, flags)} @{target.name}", compiled.hlo_text), compiled)
    entries = model_file.resolve(loaded.name, loaded.fn or args.fn, args.args)
    if len(entries) > 1:
        names = ", ".join(e.name for e in entries)
        raise UserError(f"{loaded.name} offers {len(entries)} programs ({names}); pick one with "
                        f"{loaded.name}::NAME or --fn")
    compiled = compile_entry(entries[0], target, parse_mesh(args.mesh), compiler_options=flags or None)
    return _with_memory(_side(f"{_label(loaded.name, entries[0].name, flags)} @{target.name}", compiled.hlo_text),
                        compiled)


def _with_memory(side: Any, compiled: CompiledForTarget) -> Any:
    """A diff side with the compiler's memory_analysis() figures (for `diff --memory`)."""
    side.memory, side.platform = compiled.memory_analysis, compiled.target.platform
    return side


def compile_mlir(path: str, target: Target) -> CompiledForTarget:
    """A StableHLO file compiled by the target's compiler."""
    from irscope.frontends import stablehlo
    from irscope.frontends.jax_lower import LoweringError
    from irscope.frontends.targets import compile_mlir_for_target

    try:
        module = stablehlo.read_mlir(path)
    except (stablehlo.IRFileError, LoweringError) as e:
        raise UserError(str(e)) from None
    progress(f"compiling {module.name or path} for {target.name} with its own XLA (no device needed) ...")
    return compile_mlir_for_target(module, target)


def compiled_extra(compiled: CompiledForTarget) -> dict[str, Any]:
    """What a report keeps about a target compile (its `extra`, the JSON's `"extra"`)."""
    from irscope.api import target_extra

    return target_extra(compiled)


# --- what the report says about the target -------------------------------------------------------


def header_line(report: HloReport) -> str | None:
    """The line above the table: what the module was compiled for, and whether it was autotuned."""
    extra = report.extra
    if "target" not in extra:
        return None
    if extra.get("target_note"):
        return f"target   {extra['target']}: {extra['target_note']} ({report.chip.name})"
    devices = extra.get("num_devices") or 1
    kind = extra.get("device_kind", "")
    line = f"target   {extra['target']}: compiled by its own XLA for {devices} x {kind}" if kind else \
        f"target   {extra['target']}"
    if extra.get("autotune_note") and not extra.get("autotuned") and _is_gpu(extra["target"]):
        line += f"; {extra['autotune_note']}"
    return line


def footer_lines(report: HloReport) -> list[str]:
    """Lines under the totals: the compiler's own estimates beside irscope's t@peak."""
    from irscope.passes.compiler_estimate import kernel_estimate_s, module_estimate_s, target_clock
    from irscope.render.table import human_time

    if "target" not in report.extra:
        return []
    lines = []
    total = module_estimate_s(report)
    if total is not None:
        lines.append(f"compiler {human_time(total)} for the module (XLA's optimal_seconds) vs t@peak "
                     f"{human_time(report.time_at_peak_s)}")
    estimates = [(row, kernel_estimate_s(report, row)) for row in report.rows]
    estimates = [(row, s) for row, s in estimates if s is not None]
    if estimates:
        clock = target_clock(report.extra) or 0.0
        worst = sorted(estimates, key=lambda e: -e[1])[:3]
        listed = ", ".join(f"{row.name} {human_time(s)} (t@peak {human_time(row.roofline.time_at_peak_s)})"
                           for row, s in worst)
        lines.append(f"         {len(estimates)} kernels carry estimated_cycles (at {clock / 1e9:.2f} GHz): "
                     f"{listed}; all in --json (compiler_estimate_s)")
    return lines


def _is_gpu(name: str) -> bool:
    from irscope.frontends.targets import parse_target

    return parse_target(name).platform == "cuda"
