"""`irscope hlo TARGET` / `python -m inspect.hlo TARGET`: what XLA did to a program, kernel by kernel."""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from irscope.cli.common import UserError, progress, write_atomic
from irscope.render.table import plural
from irscope.util.jsonio import dumps

if TYPE_CHECKING:
    from irscope.passes.report import HloReport

STAGES = ("stablehlo", "hlo", "optimized")
SORT_KEYS = ("bytes", "flops", "time", "intensity")  # irscope.render.table.SORT_KEYS, without importing it

EPILOG = """\
TARGET is one of:
  model.py      a Python file. With an IRSCOPE_EXAMPLES table it needs no flags:
                    IRSCOPE_EXAMPLES = {"mlp": (mlp, ["f32[256,512]", "f32[512,1024]"])}
                any top-level function works with --fn NAME --args "f32[256,512] f32[512,1024]"
  dump.hlo      HLO text (before or after optimization, as XLA dumps or prints it; .txt too)
  module.mlir   StableHLO or MHLO (text or bytecode), compiled for the local backend

the table (one row per kernel, in execution order unless --sort; the first 60 unless --top):
  kernel   the instruction that launches it (a loop body's kernels: while.3/fusion.2 ×N, N = trip count)
  kind     kLoop/kInput/kOutput/kCustom fusion, the backend's fusion name (__ynn_fusion, __triton_gemm),
           op (an unfused instruction), custom-call, collective, pallas
  ops      the fused opcodes, most frequent first (constants, broadcasts and bitcasts left out)
  bytes    bytes read + written, FLOPs: both as XLA's HloCostAnalysis counts them
  FLOP/B   arithmetic intensity; bound: memory or compute on the chosen chip (--hw)
  t@peak   the fastest the kernel could run there: max(FLOPs / peak, bytes / bandwidth)
  source   the user's file:line behind the kernel, from XLA's op metadata (shown when XLA kept it)
with --measure (model.py targets), two more:
  measured       the kernel's median time per run, from a jax.profiler trace of the JIT-compiled program
  % of roofline  t@peak over measured: how close the kernel came to the chip's bound
  and footer lines: JIT and eager medians on seeded random inputs, the speed-up, achieved bandwidth
  and FLOP/s against the chip's peaks, and any trace events that match no kernel

examples:
  python -m inspect.hlo examples/mlp.py
  python -m inspect.hlo examples/mlp.py --hw h100 --svg mlp.svg --json mlp.json
  python -m inspect.hlo examples/transformer.py --sort time --top 10     (the costliest ten, their code)
  python -m inspect.hlo examples/transformer.py --stage hlo > before.hlo
  python -m inspect.hlo dump.after_optimizations.txt --svg dump.svg --color-by bound
  python -m inspect.hlo model.py --fn attention --args "f32[8,128,64] f32[8,128,64] f32[8,128,64]"
  python -m inspect.hlo examples/mlp.py --measure --repeats 20
  python -m inspect.hlo examples/mlp.py --target h100          (XLA:GPU's kernels, compiled without a GPU)
  python -m inspect.hlo examples/sharded_mlp.py --target tpu-v5e:2x2 --mesh data=2,model=2
  python -m inspect.hlo examples/transformer.py --memory --memory-plot mem.png   (the peak, what holds it)
  python -m inspect.hlo DUMP/module_0008.jit_mlp.cpu_after_optimizations.txt --memory --xla-dump DUMP
  python -m inspect.hlo examples/mlp.py --passes --hw h100          (XLA's pipeline, pass by pass)
  python -m inspect.hlo examples/mlp.py --pass fusion --pass-html fusion.html
  python -m inspect.hlo examples/mlp.py --pass algsimp:1       (NAME:N: the Nth run of NAME that changed the module)
"""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "hlo",
        help="inspect a model.py, an HLO dump or a StableHLO file: kernels, bytes, FLOPs, roofline",
        description="Show every kernel XLA launches for a program: what was fused into it, the bytes it "
                    "moves, its FLOPs, and where it sits on a chip's roofline.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("target", metavar="TARGET", help="model.py, HLO text (.hlo/.txt) or StableHLO (.mlir)")
    src = parser.add_argument_group("choosing the program")
    src.add_argument("--fn", metavar="NAME", help="the function (or IRSCOPE_EXAMPLES entry) to inspect")
    src.add_argument("--args", metavar="SPEC", help='argument shapes, e.g. "f32[256,512] f32[512,1024] s32[]"')
    src.add_argument("--list", action="store_true", help="list the file's examples and functions, then exit")
    src.add_argument("--module", type=int, metavar="N", default=None,
                     help="which module of an HLO file holding several (0-based; default: all, table only)")
    src.add_argument("--backend", metavar="NAME", default=None, help="cpu, gpu, tpu (default: JAX's default)")
    out = parser.add_argument_group("output")
    out.add_argument("--stage", choices=STAGES, help="print that IR instead of the table, then exit")
    out.add_argument("--hw", metavar="CHIP", default=None,
                     help="the chip for the roofline: h100, h200, a100, b200, tpu-v4, tpu-v5e, tpu-v5p, tpu-v6e, "
                          "cpu (measured); default: the --target's chip, else cpu")
    out.add_argument("--json", metavar="PATH", help="write the irscope.hlo-report/1 JSON (- for stdout)")
    out.add_argument("--svg", metavar="PATH", help="draw the entry computation's kernel graph (Graphviz)")
    out.add_argument("--expand", action="store_true", help="in the SVG, draw each fusion's ops as a cluster")
    out.add_argument("--color-by", choices=("kind", "bound"), default="kind", help="SVG node colours")
    out.add_argument("--computation", metavar="NAME", help="draw this computation instead of the entry")
    out.add_argument("--scope", metavar="PREFIX",
                     help="in the SVG, only kernels whose op_name starts with PREFIX (at its start or after a /)")
    out.add_argument("--around", metavar="KERNEL", help="in the SVG, only KERNEL and the kernels --depth hops from it")
    out.add_argument("--depth", type=_count, metavar="N", help="hops up and down for --around (default 2)")
    out.add_argument("--sort", choices=SORT_KEYS, default=None,
                     help="order the table by bytes, FLOPs or time (costliest first; loop bodies × their trip "
                          "count; time is measured with --measure, else t@peak) or intensity (lowest first); "
                          "default: execution order")
    out.add_argument("--top", type=_count, default=60, metavar="N",
                     help="rows of the table (default 60; 0 for all); a footer says what the rest weigh")
    out.add_argument("--max-rows", dest="top", type=_count, help=argparse.SUPPRESS)  # the old name of --top
    mem = parser.add_argument_group("memory (irscope.passes.memory)")
    mem.add_argument("--memory", action="store_true",
                     help="argument, output, alias and temp bytes, the peak of live bytes over the schedule "
                          "and the buffers alive there (JSON key \"memory\")")
    mem.add_argument("--memory-plot", metavar="PATH", help="draw live bytes over the schedule (.png or .svg)")
    mem.add_argument("--xla-dump", metavar="DIR",
                     help="an XLA_FLAGS=--xla_dump_to folder: take the exact temp size from XLA's buffer "
                          "assignment and show XLA's live-range peak beside irscope's")
    run_group = parser.add_argument_group("measuring (model.py targets)")
    run_group.add_argument("--measure", action="store_true",
                           help="run the program on seeded random inputs, JIT-compiled and eagerly, and "
                                "profile it: median times, speed-up, per-kernel times")
    run_group.add_argument("--repeats", type=int, metavar="N", default=None,
                           help="timed calls per mode (default: as many as fit in about 0.2 s, at least 5)")
    run_group.add_argument("--seed", type=int, default=0, metavar="N", help="seed of the random inputs (default 0)")
    run_group.add_argument("--no-eager", action="store_true", help="with --measure, skip the eager run")
    from irscope.cli.passes import add_arguments as add_pass_arguments

    add_pass_arguments(parser)  # --passes, --pass NAME|N, --all-dumps, --pass-html PATH
    from irscope.cli import target_args

    target_args.add_arguments(parser)  # --target NAME[:TOPOLOGY], --mesh AXIS=N,...
    from irscope.cli.viewer import add_arguments as add_viewer_arguments

    add_viewer_arguments(parser)  # --model-explorer, --model-explorer-out DIR, --overlays, --port, --html PATH
    parser.set_defaults(func=run)
    return parser


@dataclass
class _Program:
    """One module to report on, with where it came from."""

    text: str
    source: str
    xla_cost: dict[str, float] | None
    extra: dict[str, Any]
    entry: Any = None
    """The model file's entry (function and abstract arguments), which `--measure` runs."""
    memory: Any = None
    """XLA's `memory_analysis()` of the compile, when irscope compiled it (`--memory` reports its figures)."""
    platform: str | None = None
    """The platform that compiled it (`cpu`, `cuda`, `tpu`)."""


def run(args: argparse.Namespace) -> int:
    from irscope.frontends.target_file import load_target

    target = load_target(args.target)
    path = target.path
    if args.computation and not args.svg:
        raise UserError(f"--computation {args.computation} picks the computation --svg draws: give --svg PATH too")
    for flag, value in (("--scope", args.scope), ("--around", args.around)):
        if value is not None and not args.svg:
            raise UserError(f"{flag} {value} narrows the drawing --svg makes: give --svg PATH too")
    if args.depth is not None and args.around is None:
        raise UserError("--depth N counts hops from --around KERNEL: give --around too")
    from irscope.cli import target_args

    compile_target = target_args.resolve(args)  # --target/--mesh; sets the default --hw
    chip = _chip(args.hw)  # fail early on a bad --hw, before any compiling
    from irscope.cli.viewer import wanted as wants_viewer

    wants_viewer(args)  # checks its flags early too
    _check_measure_flags(args, path)
    target_args.check_measure(args, compile_target)
    from irscope.cli.memory import check_memory_flags

    check_memory_flags(args)
    from irscope.cli.passes import run_target, wants_passes

    if wants_passes(args):
        if compile_target is not None and not compile_target.is_local:
            raise UserError("--passes/--pass replay the local compiler's pipeline; drop --target to see them")
        return run_target(args)  # model.py (one entry), .mlir, or pre-optimization HLO
    if compile_target is not None and not compile_target.is_local and target.kind != "hlo":
        programs = target_args.programs(args, compile_target, target.kind)
    elif target.kind == "model":
        programs = _from_model_file(args)
    elif target.kind == "mlir":
        programs = _from_mlir(args)
    else:
        programs = _from_hlo_text(args)
    target_args.tag(programs, compile_target, target.kind)
    if programs is None:  # --list or --stage printed what was asked
        return 0
    if len(programs) > 1 and (args.json or args.svg or wants_viewer(args)):
        raise UserError(f"{args.target} holds {len(programs)} programs; --json/--svg need one "
                        f"(pick it with --fn NAME, or --module N for an HLO file)")
    for k, program in enumerate(programs):
        _report(args, program, _chip_value(chip), first=k == 0)
    return 0


def _count(text: str) -> int:
    """argparse type of --top: a non-negative integer."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of rows, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 (all rows) or more, got {value}")
    return value


def _chip(name: str) -> str:
    from irscope import hw

    return hw.canonical_name(name)


def _chip_value(name: str):
    from irscope import hw

    return hw.get_chip(name, progress=progress)


def _from_model_file(args: argparse.Namespace) -> list[_Program] | None:
    from irscope.frontends import model_file

    if args.list:
        infos = model_file.list_functions(args.target)
        for info in infos:
            spec = info.spec if info.spec is not None else "(needs --args)"
            where = f"  line {info.line}" if info.line else ""
            print(f"{'example ' if info.in_table else 'function'} {info.name}{info.signature}  {spec}{where}")
        return None
    entries = model_file.resolve(args.target, args.fn, args.args)
    programs = []
    for entry in entries:
        progress(f"lowering {entry.name}{' at ' + entry.spec if entry.spec else ''} ...")
        lowered = entry.lower(backend=args.backend)
        if args.stage in ("stablehlo", "hlo"):
            print(lowered.text(args.stage))
            continue
        start = time.perf_counter()
        progress(f"compiling {lowered.name} with XLA ({lowered.backend}) ...")
        text = lowered.optimized
        seconds = time.perf_counter() - start
        if args.stage == "optimized":
            print(text)
            continue
        programs.append(_Program(text, f"{args.target}::{entry.name}", dict(lowered.cost),
                                 {"function": entry.name, "args": entry.spec, "backend": lowered.backend,
                                  "compile_s": round(seconds, 3)}, entry, lowered.compiled.memory, lowered.backend))
    return None if args.stage else programs


def _from_mlir(args: argparse.Namespace) -> list[_Program] | None:
    from irscope.frontends import stablehlo
    from irscope.frontends.jax_lower import LoweringError

    try:
        module = stablehlo.read_mlir(args.target)
        if args.stage == "stablehlo":
            print(module.text)
            return None
        if args.stage == "hlo":
            print(stablehlo.to_hlo_text(module))
            return None
        progress(f"compiling {module.name or args.target} with XLA ...")
        compiled = stablehlo.compile_mlir(module, backend=args.backend)
    except (stablehlo.IRFileError, LoweringError) as e:
        raise UserError(str(e)) from None
    if compiled.note:
        progress(f"{args.target}: {compiled.note}")
    if args.stage == "optimized":
        print(compiled.optimized)
        return None
    return [_Program(compiled.optimized, args.target, dict(compiled.cost) or None,
                     {"compile_s": round(compiled.seconds, 3)})]


def _from_hlo_text(args: argparse.Namespace) -> list[_Program] | None:
    from irscope.frontends.target_file import load_target
    from irscope.ir.hlo_parser import parse_modules
    from irscope.ir.verify import verify_all

    text = load_target(args.target).read_text()
    modules = verify_all(parse_modules(text, args.target), text)  # well formed before any pass
    if args.module is not None:
        if not 0 <= args.module < len(modules):
            raise UserError(f"{args.target} holds {plural(len(modules), 'module')}; --module {args.module} "
                            f"is out of range (0 to {len(modules) - 1})")
        modules = [modules[args.module]]
    if args.stage in ("hlo", "stablehlo", "optimized"):
        return _print_hlo_stage(args, text, modules)
    # One _Program per module: the report re-parses nothing, it takes the parsed module.
    return [_Program("", args.target, None, {"module_object": m}) for m in modules]


def _print_hlo_stage(args: argparse.Namespace, text: str, modules: list) -> None:
    from irscope.frontends import stablehlo

    if args.stage == "hlo":
        print(text)
        return None
    if any(m.attrs.get("is_scheduled") == "true" for m in modules):
        raise UserError(f"{args.target} is already optimized (is_scheduled=true): --stage {args.stage} needs "
                        "the module before optimization")
    mlir = stablehlo.hlo_text_to_mlir(text, path=args.target)
    if args.stage == "stablehlo":
        print(mlir.text)
    else:
        print(stablehlo.compile_mlir(mlir, backend=args.backend).optimized)
    return None


def _report(args: argparse.Namespace, program: _Program, chip, *, first: bool) -> None:
    from irscope.ir.hlo_parser import HloParseError, parse_module
    from irscope.ir.verify import HloVerifyError, verify
    from irscope.passes.fusion import CyclicModuleError
    from irscope.passes.report import analyze

    module = program.extra.pop("module_object", None)
    if module is None:
        try:
            module = verify(parse_module(program.text, program.source), program.text)
        except (HloParseError, HloVerifyError) as e:  # XLA wrote something irscope cannot read: irscope's bug
            raise RuntimeError(f"irscope could not parse XLA's output: {e}") from e
    if args.svg and args.computation and args.computation not in module.computations:
        names = ", ".join(list(module.computations)[:8])
        more = f" (+{len(module.computations) - 8} more)" if len(module.computations) > 8 else ""
        raise UserError(f"--computation {args.computation}: no such computation in {module.name} "
                        f"(computations: {names}{more})")
    stage = "optimized" if _looks_optimized(module) else "hlo"
    try:
        report = analyze(module, chip, stage=stage, xla_cost=program.xla_cost, extra=program.extra)
    except CyclicModuleError as e:  # malformed text: an instruction or computation that uses itself
        raise UserError(f"{program.source}: {e}") from None
    if args.measure:
        report = _measure(args, program, report)
    if args.memory or args.memory_plot or args.xla_dump:
        from irscope.cli.memory import with_memory

        report = with_memory(args, report, program.memory, program.platform)
    if args.json != "-":
        from irscope.render.table import report_table

        if not first:
            print()
        from irscope.cli.target_args import footer_lines, header_line

        if header_line(report):
            print(header_line(report))
        print(report_table(report, max_rows=args.top or None, sort=args.sort))
        for line in footer_lines(report):
            print(line)
        if report.memory is not None:
            from irscope.render.memory_plot import memory_text

            print("\n" + memory_text(report.memory))
    if args.json:
        write_atomic(args.json, dumps(report_json(report)) + "\n")
        if args.json != "-":
            progress(f"wrote {args.json}")
    if args.svg:
        _write_svg(args, report)
    if args.memory_plot and report.memory is not None and report.memory.peak_index is not None:
        from irscope.render.memory_plot import write_memory_plot

        write_memory_plot(report.memory, args.memory_plot)
        progress(f"wrote {args.memory_plot}")
    from irscope.cli.viewer import show_hlo, wanted

    if wanted(args):
        show_hlo(args, report)


def _looks_optimized(module) -> bool:
    if module.attrs.get("is_scheduled") == "true":
        return True
    return any(i.opcode == "fusion" for i in module.entry.instructions)


def report_json(report: HloReport) -> dict[str, Any]:
    """`report.to_json()` with each kernel's `"source"`: the user's `file:line` (None when unknown)."""
    from irscope.render.table import kernel_source

    doc = report.to_json()
    for kernel, row in zip(doc["kernels"], report.rows, strict=True):
        kernel["source"] = kernel_source(report, row)
    return doc


def _write_svg(args: argparse.Namespace, report) -> None:

    from irscope.render.dot import render_svg

    # Too many kernels to draw is an error (one line naming the flags that narrow it); --expand too big
    # to draw is a warning, and the drawing is made without it.
    svg = render_svg(report.graph(args.computation), color_by=args.color_by, expand=args.expand,
                     scope=args.scope, around=args.around, depth=2 if args.depth is None else args.depth,
                     warn=lambda note: progress(f"warning: --expand: {note}"))
    write_atomic(args.svg, svg)
    progress(f"wrote {args.svg} ({os.path.getsize(args.svg):,} bytes)" if args.svg != "-" else "")


def _check_measure_flags(args: argparse.Namespace, path: Path) -> None:
    if args.repeats is not None and args.repeats < 1:
        raise UserError(f"--repeats must be at least 1, got {args.repeats}")
    if not args.measure:
        if args.repeats is not None or args.no_eager:
            raise UserError("--repeats and --no-eager need --measure")
        return
    if path.suffix != ".py":
        raise UserError(f"--measure runs a function on random inputs, so it needs a model.py; {args.target} "
                        "is IR text with no function to call")


def _measure(args: argparse.Namespace, program: _Program, report: HloReport) -> HloReport:
    """Time the program JIT-compiled and eagerly, profile it, and put the numbers beside the report's."""
    from irscope.cli.common import Progress
    from irscope.measure.timing import measure_function
    from irscope.measure.trace import TraceError, profile_kernels
    from irscope.passes.report import with_measurement

    entry, backend = program.entry, args.backend
    if report.chip.name != "cpu" and program.extra.get("backend") == "cpu":
        progress(f"note: measuring on this CPU, placed on {report.chip.name}'s roofline: the fractions compare "
                 f"this machine's times with {report.chip.name}'s peaks")
    steps = 2 if args.no_eager else 3
    with Progress(total=steps, label=f"measuring {report.module.name}") as bar:
        measurement = measure_function(entry.fn, entry.args, eager=not args.no_eager, repeats=args.repeats,
                                       seed=args.seed, backend=backend, progress=bar.advance)
        try:
            kernel_times = profile_kernels(entry.fn, entry.args, report.module, [r.kernel for r in report.rows],
                                           seed=args.seed, backend=backend)
        except TraceError as e:
            progress(f"warning: no per-kernel times: {e}")
            kernel_times = None
        bar.advance("trace")
    return with_measurement(report, measurement, kernel_times)
