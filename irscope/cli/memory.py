"""`--memory`, `--memory-plot` and `--xla-dump` of `irscope hlo`: the memory analysis beside the report."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from irscope.errors import UserError
from irscope.util.progress import progress

if TYPE_CHECKING:
    from irscope.passes.report import HloReport


def check_memory_flags(args: argparse.Namespace) -> None:
    """Refuse a plot format or dump folder that cannot work, before anything is compiled or printed."""
    if args.memory_plot and Path(args.memory_plot).suffix.lower() not in (".png", ".svg"):
        raise UserError(f"--memory-plot {args.memory_plot}: give a .png or .svg file name")
    if args.xla_dump and not Path(args.xla_dump).is_dir():
        raise UserError(f"--xla-dump {args.xla_dump}: no such folder (give the folder XLA_FLAGS=--xla_dump_to wrote)")


def with_memory(args: argparse.Namespace, report: HloReport, compiled: Mapping[str, int] | None = None,
                platform: str | None = None) -> HloReport:
    """`report` with its `memory` analysed, XLA's `memory_analysis()` figures when irscope compiled the
    module (`compiled`, from `platform`), and XLA's figures from `--xla-dump`, when given.

    An unscheduled module has no peak: one line on stderr says so, and the report keeps what can
    be known (arguments, outputs)."""
    from irscope.passes.memory import analyze_memory, with_compiler_figures, with_xla_figures

    memory = with_compiler_figures(analyze_memory(report.module), compiled, platform=platform)
    if args.xla_dump:
        from irscope.frontends.xla_buffers import read_xla_memory

        stem = Path(report.module.source).stem if report.module.source else None
        xla = read_xla_memory(args.xla_dump, report.module.name, stem)
        memory = with_xla_figures(memory, temp_bytes=xla.temp_bytes, peak_index=xla.peak_index,
                                  peak_bytes=xla.peak_bytes)
    if memory.peak_index is None:
        progress(f"{report.module.source or report.module.name}: the peak of live bytes needs a schedule "
                 "(an optimized module, is_scheduled=true); reporting arguments and outputs only"
                 + (", no --memory-plot" if args.memory_plot else ""))
    return replace(report, memory=memory)
