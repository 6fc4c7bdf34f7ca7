"""The big-graph flags `hlo`, `tflite` and `diff` share: `--model-explorer`, `--model-explorer-out DIR`,
`--html PATH` (not on diff: it has its own side-by-side page).

The commands call `add_arguments` once and `show_hlo` / `show_tflite` / `show_diff` after their report;
the work is in `irscope.render.model_explorer` and `irscope.render.html_view`.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from irscope.cli.common import UserError, progress, write_atomic


def add_arguments(parser: argparse.ArgumentParser, *, html: bool = True) -> None:
    view = parser.add_argument_group("viewing big graphs (Model Explorer: pip install 'irscope[viewer]')")
    view.add_argument("--model-explorer", action="store_true",
                      help="start Google's Model Explorer on localhost with the kernel graphs and overlays loaded "
                           "(runs until Ctrl-C)")
    view.add_argument("--model-explorer-out", metavar="DIR",
                      help="write the Model Explorer graph JSON and one node-data JSON per overlay into DIR")
    view.add_argument("--overlays", metavar="LIST",
                      help="node-data overlays, comma-separated: bytes, time (t@peak), intensity, bound, measured, "
                           "precision, sqnr (tflite --layers), memory (bytes alive at the peak; scheduled modules), "
                           "diff and delta-bytes (diff only) (default: all the program has)")
    view.add_argument("--port", type=int, metavar="N", help="the viewer's port (default: a free one)")
    view.add_argument("--no-open", action="store_true", help="print the viewer's URL, do not open a browser")
    if not html:
        return
    view.add_argument("--html", metavar="PATH",
                      help="write one self-contained, offline HTML page of the kernel graph (pan, zoom, search, "
                           "collapse scopes, click a kernel for its figures)")


def wanted(args: argparse.Namespace) -> bool:
    if (args.overlays or args.port is not None or args.no_open) and not (args.model_explorer or args.model_explorer_out):
        raise UserError("--overlays, --port and --no-open go with --model-explorer or --model-explorer-out")
    if args.model_explorer_out:  # checked before any work: a folder that is there, or one we can make
        out = Path(args.model_explorer_out)
        if out.exists() and not out.is_dir():
            raise UserError(f"--model-explorer-out {out}: is not a folder")
        if not out.exists() and not out.parent.is_dir():
            raise UserError(f"--model-explorer-out {out}: no such folder {str(out.parent)!r} to create it in")
    return bool(args.model_explorer or args.model_explorer_out or getattr(args, "html", None))


def _show(args: argparse.Namespace, model_fn: Any, html_fn: Any) -> None:
    if html_fn is not None and args.html:
        page = html_fn()
        write_atomic(args.html, page)
        progress(f"wrote {args.html} ({os.path.getsize(args.html):,} bytes)" if args.html != "-" else "")
    if not (args.model_explorer or args.model_explorer_out):
        return
    from irscope.render import model_explorer as me

    made = model_fn()
    models = list(made) if isinstance(made, tuple) else [made]
    names = [me.choose_overlays(model, args.overlays) for model in models]
    if args.model_explorer_out:
        for model, chosen in zip(models, names, strict=True):
            paths = me.write_dir(model, args.model_explorer_out, chosen)
            progress(f"wrote {', '.join(str(p) for p in paths)}")
            progress(f"open with: model-explorer {paths[0]}"
                     + (f" --node_data_paths={','.join(str(p) for p in paths[1:])}" if paths[1:] else ""))
    if args.model_explorer:
        me.serve(models, names, port=args.port, open_browser=not args.no_open, side_by_side=len(models) == 2)


def show_hlo(args: argparse.Namespace, report: Any) -> None:
    from irscope.render import html_view, model_explorer

    _show(args, lambda: model_explorer.hlo_model(report), lambda: html_view.hlo_page(report))


def show_tflite(args: argparse.Namespace, analysis: Any, path: str, layers: Any = None) -> None:
    """`layers` (a `LayerErrors`, from --layers): each node's SQNR goes into the Model Explorer graph (overlay sqnr)."""
    from pathlib import Path

    from irscope.render import html_view, model_explorer
    from irscope.render.tflite import annotate_sqnr

    label = Path(path).stem

    def model() -> Any:
        m = model_explorer.tflite_model(analysis, label)
        if layers is not None:
            annotate_sqnr(next(iter(m.kernel_graphs.values())), layers)  # the main subgraph, the one compared
        return m

    _show(args, model, lambda: html_view.tflite_page(analysis, label, args.subgraph))


def show_diff(args: argparse.Namespace, result: Any, before: Any, after: Any, chip: Any) -> None:
    """Both programs side by side, marked by the diff (`before` and `after`: the sides' modules)."""
    from irscope.passes.report import analyze
    from irscope.render import model_explorer

    _show(args, lambda: model_explorer.diff_models(result, analyze(before, chip), analyze(after, chip)), None)
