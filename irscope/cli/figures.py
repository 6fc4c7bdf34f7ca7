"""`irscope figures NAME`: regenerate one case study's figures and print its table."""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path
from typing import Any

from irscope.cli.common import UserError, progress, write_atomic
from irscope.studies import STUDIES
from irscope.studies.common import summary_json, write_tables
from irscope.util.text import text_table

EPILOG = """\
examples:
  irscope figures --list                      the studies, one line each
  irscope figures fusion --quick              two sizes in seconds: checks the pipeline, not the numbers
  irscope figures fusion --out /tmp/figs --json fusion.json

Every study also writes the table it prints and plots beside its figures: <out>/<NAME>.csv (the table)
and <out>/<NAME>.json (the whole summary: table, raw rows, notes, machine).
"""


def _available() -> dict[str, Any]:
    found = {}
    for name in STUDIES:
        try:
            found[name] = importlib.import_module(f"irscope.studies.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"irscope.studies.{name}":
                raise
    return found


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "figures",
        help="regenerate a case study's figures and table (fusion, quantization, ...)",
        description="Run one case study: measure, write its figures, print the table the README quotes.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("name", nargs="?", metavar="NAME", help="the study (see --list)")
    parser.add_argument("--list", action="store_true", help="list the studies")
    parser.add_argument("--out", metavar="DIR", default="figures", help="where the figures go (default figures/)")
    parser.add_argument("--quick", action="store_true", help="a tiny sweep (seconds): checks the pipeline, not the numbers")
    parser.add_argument("--json", metavar="PATH", help="also write the study's summary as JSON (- for stdout)")
    parser.set_defaults(func=run)
    return parser


def _print_table(rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    columns = list(rows[0])
    print("\n".join(text_table(columns, [[_fmt(r.get(c)) for c in columns] for r in rows])))


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return "-" if value is None else str(value)


def run(args: argparse.Namespace) -> int:
    studies = _available()
    if args.list or args.name is None:
        for name, module in studies.items():
            print(f"{name:<14}{module.TITLE}")
        return 0 if args.list else 2
    if args.name not in studies:
        raise UserError(f"unknown study: {args.name!r}; known: {', '.join(studies) or 'none yet'}")
    out = Path(args.out)
    summary = studies[args.name].run(out, quick=args.quick, progress=progress)
    written = write_tables(out, args.name, summary)
    progress(f"figures {args.name}: table in {written[0]}, summary in {written[1]}")
    if args.json:
        write_atomic(args.json, summary_json(args.name, summary))
    if args.json != "-":
        _print_table(summary.get("table", []))
        for line in summary.get("notes", []):
            print(line)
    return 0
