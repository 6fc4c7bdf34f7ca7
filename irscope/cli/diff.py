"""`irscope diff BEFORE AFTER` / `python -m inspect.diff`: what a change did to the compiled program.

Each side is an HLO text file, a StableHLO file or a `model.py` (`model.py::fn` picks a function),
possibly the same program under other XLA flags. The two modules are matched by structure
(`irscope.passes.diff`), and the report lists the kernels that changed, appeared or disappeared, with
their bytes, FLOPs and time at peak (and measured time with `--measure`). The exit status follows
`diff`: 0 when the programs match, 1 when they differ, 2 on trouble.
"""

from __future__ import annotations

import argparse
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from irscope.cli.common import UserError, progress, write_atomic
from irscope.render.table import plural
from irscope.util.jsonio import dumps
from irscope.util.text import first_line as _first_line

EPILOG = """\
BEFORE and AFTER are each one of:
  model.py[::fn]  a Python file (see `irscope hlo --help`); ::fn (or --fn) picks the function
  dump.hlo        HLO text, used as it is (compiled first only when --xla-flags-* apply to it)
  module.mlir     StableHLO or MHLO, compiled for the local backend

what is compared (default: the optimized HLO XLA runs; --stage hlo: before XLA's passes):
  kernels are matched by structure (opcodes, shapes, operand wiring, fused-computation fingerprints,
  op_name metadata), so renaming and renumbering alone are no difference. Each kernel is unchanged,
  changed (reasons: opcode, shape, layout, fused ops, operands, attributes), added (+) or removed (-);
  the same change repeated in many layers is one line with ×N.

exit status: 0 the programs match, 1 they differ, 2 trouble (a bad file, flag or function).

examples:
  python -m inspect.diff gelu_exact.hlo gelu_tanh.hlo --hw h100
  python -m inspect.diff model.py::step model.py::step_remat --html diff.html
  python -m inspect.diff model.py model.py --xla-flags-after "--xla_disable_hlo_passes=fusion"
  python -m inspect.diff before.mlir after.mlir --json diff.json
  python -m inspect.diff examples/mlp.py examples/mlp.py --target-before h100 --target-after tpu-v5e
  python -m inspect.diff model.py::step model.py::step_remat --model-explorer   (side by side, diff overlay)
"""

_FLAG = re.compile(r"^(?:--)?(?P<name>xla_\w+)(?:=(?P<value>.*))?$", re.S)


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "diff",
        help="what a change did to the compiled program: kernels added, removed or changed, and the cost",
        description="Compare two programs kernel by kernel: which kernels appeared, disappeared or changed, "
                    "and what that did to bytes, FLOPs and time.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("before", metavar="BEFORE", help="model.py[::fn], HLO text (.hlo/.txt) or StableHLO (.mlir)")
    parser.add_argument("after", metavar="AFTER", help="the same kinds of file (may be the same file)")
    src = parser.add_argument_group("choosing the programs")
    src.add_argument("--fn", metavar="NAME", help="the function of a model.py (both sides, unless ::fn is given)")
    src.add_argument("--args", metavar="SPEC", help='argument shapes for --fn, e.g. "f32[256,512] f32[512,1024]"')
    src.add_argument("--module", type=int, metavar="N", default=0,
                     help="which module of an HLO file holding several (0-based; default 0)")
    src.add_argument("--backend", metavar="NAME", default=None, help="cpu, gpu, tpu (default: JAX's default)")
    src.add_argument("--stage", choices=("optimized", "hlo"), default="optimized",
                     help="compare XLA's output (optimized, the default) or its input (hlo)")
    src.add_argument("--xla-flags", metavar="FLAGS", default="",
                     help='XLA debug options for both sides, as in XLA_FLAGS: "--xla_cpu_enable_fast_math=true"')
    src.add_argument("--xla-flags-before", metavar="FLAGS", default="", help="XLA debug options for BEFORE only")
    src.add_argument("--xla-flags-after", metavar="FLAGS", default="", help="XLA debug options for AFTER only")
    out = parser.add_argument_group("output")
    out.add_argument("--hw", metavar="CHIP", default=None,
                     help="the chip for time at peak: h100, h200, a100, b200, tpu-v4, tpu-v5e, tpu-v5p, tpu-v6e, "
                          "cpu (measured); default: BEFORE's --target chip, else cpu")
    out.add_argument("--json", metavar="PATH", help="write the irscope.diff-report/1 JSON (- for stdout)")
    out.add_argument("--html", metavar="PATH", help="write a self-contained side-by-side HTML page")
    out.add_argument("--all", action="store_true", help="list unchanged kernels too")
    out.add_argument("--max-rows", type=int, default=60, metavar="N",
                     help="change entries to print (default 60; 0 for all)")
    out.add_argument("--memory", action="store_true",
                     help="compare memory too: argument, output, temp and peak bytes, and the values that appear at "
                          "or disappear from the peak (JSON key \"memory\")")
    out.add_argument("--measure", action="store_true",
                     help="also run each model.py side on random inputs: measured time per kernel and in total")
    from irscope.cli import target_args

    target_args.add_arguments(parser, per_side=True)  # --target, --target-before/-after, --mesh
    from irscope.cli.viewer import add_arguments as add_viewer_arguments

    add_viewer_arguments(parser, html=False)  # --model-explorer, --model-explorer-out DIR, --overlays, --port
    parser.set_defaults(func=run)
    _take_xla_flags_as_values(parser)
    return parser


def _take_xla_flags_as_values(parser: argparse.ArgumentParser) -> None:
    """Let `--xla-flags-after --xla_disable_hlo_passes=fusion` work as written.

    argparse reads any word that starts with `--` as an option, so the flag's value would be refused
    ("expected one argument"). A word that starts with `--xla_` is never one of this command's
    options, so it is handed back as a value.
    """
    parse_optional = getattr(parser, "_parse_optional", None)
    if parse_optional is None:  # pragma: no cover - argparse internals moved; `--xla-flags=...` still works
        return

    def _parse_optional(arg_string: str) -> Any:
        if arg_string.startswith("--xla_"):
            return None
        return parse_optional(arg_string)

    parser._parse_optional = _parse_optional  # type: ignore[method-assign]


@dataclass
class _Side:
    """One side of the diff: the module, its text, where it came from, what was measured."""

    label: str
    text: str
    module: Any
    measured: Mapping[str, float] = field(default_factory=dict)
    total_measured: float | None = None
    memory: Any = None
    """XLA's memory_analysis() of the compile (`jax_lower.MemoryAnalysis`), when this side was compiled here
    (for --memory)."""
    platform: str | None = None
    """The platform that compiled it (`cpu`, `cuda`, `tpu`), when this side was compiled here."""


def run(args: argparse.Namespace) -> int:
    from irscope import hw
    from irscope.cli import target_args
    from irscope.passes.diff import diff_modules

    # After, then before: the default --hw is BEFORE's target chip.
    args.target_after, args.target_before = (target_args.resolve(args, w) for w in ("after", "before"))
    chip_name = hw.canonical_name(args.hw)
    common = parse_xla_flags(args.xla_flags, "--xla-flags")
    flags_before = {**common, **parse_xla_flags(args.xla_flags_before, "--xla-flags-before")}
    flags_after = {**common, **parse_xla_flags(args.xla_flags_after, "--xla-flags-after")}
    from irscope.cli.viewer import show_diff, wanted
    from irscope.frontends.target_file import load_target

    wants_viewer = wanted(args)  # its flags are checked before anything is compiled
    for target in (args.before, args.after):  # both are usable before anything is compiled
        load_target(target)
    before = _load(args, args.before, flags_before, "before")
    after = _load(args, args.after, flags_after, "after")
    chip = hw.get_chip(chip_name, progress=progress)
    result = diff_modules(before.module, after.module, chip,
                          measured_before=before.measured, measured_after=after.measured,
                          total_measured_before=before.total_measured, total_measured_after=after.total_measured,
                          memory=_memory(before, after) if args.memory else False)
    if args.json != "-":
        print(result.to_text(max_rows=args.max_rows or None, show_unchanged=args.all))
    if args.json:
        write_atomic(args.json, dumps(result.to_json()) + "\n")
        if args.json != "-":
            progress(f"wrote {args.json}")
    if args.html:
        from irscope.render.diff_html import diff_html

        write_atomic(args.html, diff_html(result, before.text, after.text))
        if args.html != "-":
            progress(f"wrote {args.html}")
    if wants_viewer:
        show_diff(args, result, before.module, after.module, chip)
    return 0 if result.identical else 1


def _memory(before: _Side, after: _Side) -> tuple[Any, Any]:
    """Both sides' memory analyses, with XLA's memory_analysis() figures where the side was compiled here."""
    from irscope.passes.memory import analyze_memory, with_compiler_figures

    a, b = (with_compiler_figures(analyze_memory(s.module, max_live=0), s.memory, platform=s.platform)
            for s in (before, after))
    return a, b


def parse_xla_flags(text: str, option: str = "--xla-flags") -> dict[str, Any]:
    """`"--xla_a=true --xla_b=3 --xla_c=fusion"` -> {"xla_a": True, "xla_b": 3, "xla_c": "fusion"}.

    The syntax of `XLA_FLAGS` (shell-style quoting allowed); a flag without a value is `True`.
    """
    try:
        tokens = shlex.split(text)
    except ValueError as e:
        raise UserError(f"{option}: {e}") from None
    flags: dict[str, Any] = {}
    for token in tokens:
        m = _FLAG.match(token)
        if not m:
            raise UserError(f"{option}: {token!r} is not an XLA flag (expected --xla_name=value)")
        value = m.group("value")
        flags[m.group("name")] = True if value is None else _flag_value(value)
    return flags


def _flag_value(value: str) -> Any:
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    if re.fullmatch(r"-?\d+", value):
        return int(value)
    return value


def _load(args: argparse.Namespace, target: str, flags: dict[str, Any], which: str) -> _Side:
    from irscope.frontends.target_file import load_target

    loaded = load_target(target)
    path_text = loaded.name
    side_target = getattr(args, f"target_{which}", None)  # --target/--target-before/--target-after
    if side_target is not None and not side_target.is_local and loaded.kind != "hlo":
        from irscope.cli.target_args import diff_side

        return diff_side(args, loaded, side_target, flags, which)
    if loaded.kind == "model":
        return _from_model_file(args, path_text, loaded.fn or args.fn, flags, which)
    if args.measure:
        progress(f"--measure: {path_text} is not a model.py; its side is not measured")
    if loaded.kind == "mlir":
        return _from_mlir(args, path_text, flags)
    return _from_hlo_text(args, path_text, flags)


def _label(path: str, fn: str | None, flags: Mapping[str, Any]) -> str:
    label = f"{path}::{fn}" if fn else path
    if flags:
        label += " [" + " ".join(f"--{k}={str(v).lower() if isinstance(v, bool) else v}"
                                 for k, v in flags.items()) + "]"
    return label


def _from_model_file(args: argparse.Namespace, path: str, fn: str | None, flags: dict[str, Any],
                     which: str) -> _Side:
    from irscope.frontends import model_file
    from irscope.frontends.jax_lower import MemoryAnalysis

    try:
        entries = model_file.resolve(path, fn, args.args)
        if len(entries) > 1:
            names = ", ".join(e.name for e in entries)
            raise UserError(f"{path} offers {len(entries)} programs ({names}); pick one with {path}::NAME or --fn")
        entry = entries[0]
        progress(f"{which}: lowering {entry.name}{' at ' + entry.spec if entry.spec else ''} ...")
        lowered = entry.lower(backend=args.backend, compiler_options=flags)
        label = _label(path, entry.name, flags)
        if args.stage == "hlo":
            return _side(label, lowered.hlo)
        progress(f"{which}: compiling {lowered.name} with XLA ({lowered.backend}) ...")
        executable = lowered.jax_lowered.compile(compiler_options=flags or None)
    except Exception as e:  # XLA rejects a flag: JaxRuntimeError "No such compile option"
        if type(e).__name__ in ("JaxRuntimeError", "XlaRuntimeError"):
            raise UserError(f"{which}: XLA: {_first_line(str(e))}") from None
        raise
    side = _side(label, executable.as_text() or "")
    side.memory, side.platform = MemoryAnalysis.of(executable.memory_analysis()), lowered.backend
    if args.measure:
        _measure(side, executable, entry, which, args.backend)
    return side


def _from_mlir(args: argparse.Namespace, path: str, flags: dict[str, Any]) -> _Side:
    from irscope.frontends import stablehlo

    module = stablehlo.read_mlir(path)
    if args.stage == "hlo":
        return _side(_label(path, None, {}), stablehlo.to_hlo_text(module))
    progress(f"compiling {module.name or path} with XLA ...")
    compiled = stablehlo.compile_mlir(module, backend=args.backend, compiler_options=flags)
    return _side(_label(path, None, flags), compiled.optimized)


def _from_hlo_text(args: argparse.Namespace, path: str, flags: dict[str, Any]) -> _Side:
    from irscope.frontends import stablehlo
    from irscope.frontends.target_file import load_target
    from irscope.ir.hlo_parser import parse_modules
    from irscope.ir.verify import verify_all

    text = load_target(path).read_text()
    modules = verify_all(parse_modules(text, path), text)  # well formed before any pass
    if not 0 <= args.module < len(modules):
        raise UserError(f"{path} holds {plural(len(modules), 'module')}; --module {args.module} is out of range "
                        f"(0 to {len(modules) - 1})")
    piece = _module_text(text, args.module) if len(modules) > 1 else text
    module = modules[args.module]
    if not flags:
        return _Side(path, piece, module)
    if module.attrs.get("is_scheduled") == "true":
        raise UserError(f"{path} is already optimized (is_scheduled=true): XLA flags cannot apply to it; "
                        "give the module before optimization")
    progress(f"compiling {module.name} with XLA ...")
    compiled = stablehlo.compile_mlir(stablehlo.hlo_text_to_mlir(piece, path=path), backend=args.backend,
                                      compiler_options=flags)
    return _side(_label(path, None, flags), compiled.optimized)


def _module_text(text: str, index: int) -> str:
    """The text of one module of a file that holds several, split as the parser splits them."""
    from irscope.ir.hlo_parser import split_modules

    pieces = split_modules(text)
    return pieces[index][1].strip("\n") + "\n" if index < len(pieces) else text


def _side(label: str, text: str) -> _Side:
    from irscope.ir.hlo_parser import HloParseError, parse_module
    from irscope.ir.verify import HloVerifyError, verify

    try:
        module = verify(parse_module(text, label), text)
    except (HloParseError, HloVerifyError) as e:  # XLA wrote something irscope cannot read: irscope's bug
        raise RuntimeError(f"irscope could not parse XLA's output: {e}") from e
    return _Side(label, text, module)


def _measure(side: _Side, executable: Any, entry: Any, which: str, backend: str | None) -> None:
    """Time the compiled program on seeded random inputs: per kernel (profiler trace) and in total."""
    from irscope.measure import trace
    from irscope.measure.timing import placement, random_inputs, time_call
    from irscope.passes.fusion import find_kernels

    progress(f"{which}: measuring {entry.name} ...")
    with placement(entry.args, backend) as device:
        values = random_inputs(entry.args, seed=0, device=device)
        timing = time_call(lambda: executable(*values), mode="jit")
        captured = trace.capture(lambda: executable(*values), runs=5)
    times = trace.match(side.module, find_kernels(side.module), captured.events, runs=captured.runs)
    side.measured = {name: t.median_s for name, t in times.kernel_times.items()}
    side.total_measured = timing.median_s
    if times.unmatched_kernels:
        progress(f"{which}: {len(times.unmatched_kernels)} of {times.total} kernels had no trace event")

