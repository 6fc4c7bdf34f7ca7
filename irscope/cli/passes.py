"""`irscope hlo TARGET --passes` / `--pass NAME`: XLA's optimization pipeline, pass by pass.

`--passes` compiles the program once with XLA writing the module after every pass that changes it
(`irscope.passes.pipeline`), and lists those passes in order with what each left behind: instruction,
fusion and kernel counts, bytes and FLOPs (XLA's conventions) and time at peak on `--hw`. `--pass NAME`
(or XLA's dump number from that list) diffs the module before and after that pass with the diff
engine (`irscope.passes.diff`), as `irscope diff` prints it. The dump directory is temporary and is
removed before the command ends.

This module holds the whole feature; `irscope.cli.hlo` adds its flags (`add_arguments`) and hands
over to `run_target` (any TARGET) or `run_passes` (one model.py entry) when either flag is given.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from irscope.cli.common import Progress, UserError, progress, write_atomic
from irscope.util.jsonio import dumps


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add `--passes`, `--pass NAME|N`, `--all-dumps` and `--pass-html PATH` to `irscope hlo`."""
    group = parser.add_argument_group("XLA's pass pipeline")
    group.add_argument("--passes", action="store_true",
                       help="compile with a dump after every pass; list the passes that changed the module, "
                            "with instruction/fusion counts, bytes, FLOPs and t@peak after each")
    group.add_argument("--pass", dest="pass_name", metavar="NAME|N", default=None,
                       help="diff the module before and after one pass: its name (fusion; fusion:2 for its "
                            "second run) or its dump number from --passes")
    group.add_argument("--all-dumps", action="store_true",
                       help="with --passes, list every dump, also those where nothing changed")
    group.add_argument("--pass-html", metavar="PATH",
                       help="with --pass, write the side-by-side HTML page of that pass's diff")


def wants_passes(args: argparse.Namespace) -> bool:
    """Whether the command line asked for the pass timeline or one pass's diff."""
    return bool(getattr(args, "passes", False) or getattr(args, "pass_name", None) is not None)


def run_target(args: argparse.Namespace) -> int:
    """`--passes`/`--pass` for any TARGET: a model.py (one program), a .mlir file, or HLO text before
    optimization (XLA cannot re-run its pipeline on an optimized module)."""
    from irscope.frontends import stablehlo
    from irscope.frontends.target_file import load_target

    target = load_target(args.target)
    if target.kind == "model":
        return run_passes(args, resolve_one(args))
    if target.kind == "mlir":
        module = stablehlo.read_mlir(args.target)
    else:
        text = target.read_text()
        if "is_scheduled=true" in text.split("\n", 1)[0]:
            raise UserError(f"{args.target} is already optimized (is_scheduled=true): --passes needs the "
                            "module before optimization (e.g. `--stage hlo` of a model.py)")
        module = stablehlo.hlo_text_to_mlir(text, path=args.target)

    def compile_with(options: dict[str, Any]) -> object:
        return stablehlo.compile_mlir(module, backend=getattr(args, "backend", None), compiler_options=options)

    return _run(args, compile_with, module.name or None, args.target)


def resolve_one(args: argparse.Namespace) -> Any:
    """The one model.py entry `--fn/--args` select (a `model_file.Entry`); `UserError` if several."""
    from irscope.frontends import model_file

    entries = model_file.resolve(args.target, getattr(args, "fn", None), getattr(args, "args", None))
    if len(entries) != 1:
        names = ", ".join(e.name for e in entries)
        raise UserError(f"{args.target} offers {len(entries)} programs ({names}); --passes needs one: pick it "
                        "with --fn NAME")
    return entries[0]


def run_passes(args: argparse.Namespace, entry: Any) -> int:
    """`--passes` / `--pass` for one `irscope.frontends.model_file.Entry`."""

    lowered = entry.lower(backend=getattr(args, "backend", None))

    def compile_with(options: dict[str, Any]) -> object:
        return lowered.jax_lowered.compile(compiler_options={**lowered.compiler_options, **options})

    return _run(args, compile_with, lowered.name, f"{args.target}::{entry.name}")


def _run(args: argparse.Namespace, compile_with: Callable[[dict[str, Any]], object], module_name: str | None,
         source: str) -> int:
    from irscope import hw
    from irscope.passes.pipeline import capture

    chip = hw.get_chip(hw.canonical_name(getattr(args, "hw", "cpu")), progress=progress)
    pass_name = getattr(args, "pass_name", None)
    progress(f"compiling {module_name or source} with XLA, dumping the module after every pass ...")
    with capture(compile_with, module_name) as dumps:
        with Progress(total=len(dumps.files), label="reading pass dumps") as bar:
            timeline = dumps.timeline(chip, progress=lambda done, total: bar.advance())
        if pass_name is None:
            _print_timeline(args, timeline)
            return 0
        step = timeline.find(pass_name)
        before, after = dumps.around(step)
        html_texts = (dumps.text(step.index - 1), dumps.text(step.index)) if args.pass_html else None
    _print_pass_diff(args, timeline, step, before, after, chip, html_texts)
    return 0


def _print_timeline(args: argparse.Namespace, timeline: Any) -> None:
    json_path = getattr(args, "json", None)
    if json_path != "-":
        print(timeline.to_text(show_all=getattr(args, "all_dumps", False)))
    if json_path:
        write_atomic(json_path, dumps(timeline.to_json()) + "\n")
        if json_path != "-":
            progress(f"wrote {json_path}")


def _print_pass_diff(args: argparse.Namespace, timeline: Any, step: Any, before: Any, after: Any, chip: Any,
                     html_texts: tuple[str, str] | None) -> None:
    from irscope.passes.diff import diff_modules

    result = diff_modules(before, after, chip)
    previous = timeline.steps[step.index - 1]
    json_path = getattr(args, "json", None)
    if json_path != "-":
        print(f"pass {step.number}: {step.label} (XLA's dump {step.file})")
        print(f"  {previous.instructions:,} -> {step.instructions:,} instructions, "
              f"{previous.kernels:,} -> {step.kernels:,} kernels, {previous.fusions:,} -> {step.fusions:,} fusions")
        print()
        print(result.to_text(max_rows=getattr(args, "max_rows", 60) or None))
    if json_path:
        doc = {**result.to_json(), "pass": step.to_json()}
        write_atomic(json_path, dumps(doc) + "\n")
        if json_path != "-":
            progress(f"wrote {json_path}")
    if html_texts is not None:
        from irscope.render.diff_html import diff_html

        title = f"irscope: XLA pass {step.number} {step.label} on {timeline.module}"
        write_atomic(args.pass_html, diff_html(result, html_texts[0], html_texts[1], title=title))
        if args.pass_html != "-":
            progress(f"wrote {args.pass_html}")
