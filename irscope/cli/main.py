"""The `irscope` command and its subcommands; `python -m inspect.<name>` launchers call `main`.

Every subcommand follows the same rules (DESIGN.md): human output on stdout, progress and warnings
on stderr, `--json` output versioned, and a user's mistake (a bad file, flag, function or shape)
ends with one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from irscope.cli import hlo as hlo_cmd
from irscope.cli import hw as hw_cmd
from irscope.cli.common import OneLineParser, UserError

DESCRIPTION = """\
irscope makes an ML compiler's decisions visible and measurable: which ops XLA fused into which
kernels, the bytes and FLOPs of each, and where each sits on a chip's roofline.

subcommands:
  hlo     inspect a JAX model.py, an HLO text file or a StableHLO .mlir file
  hw      the hardware table (peak FLOP/s, bandwidth, sources) and this CPU's measured roofline

Run `irscope SUBCOMMAND --help` for details. From the repository root,
`python -m inspect.hlo ...` is the same as `irscope hlo ...`.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="irscope", description=DESCRIPTION,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="SUBCOMMAND", parser_class=OneLineParser)
    hlo_cmd.add_parser(sub)
    hw_cmd.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except UserError as e:
        print(f"irscope {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("irscope: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `irscope hlo x.py | head`
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
