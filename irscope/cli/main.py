"""The `irscope` command and its subcommands; `python -m inspect.<name>` launchers call `main`.

Every subcommand follows the same rules (DESIGN.md): human output on stdout, progress and warnings
on stderr, `--json` output versioned, and a user's mistake (a bad file, flag, function or shape)
ends with one line on stderr and exit status 2, never a traceback.

A subcommand is a module `irscope.cli.<name>` with `add_parser(subparsers)`, which registers the
parser and sets `func` (called with the parsed arguments, returning the exit status).
"""

from __future__ import annotations

import argparse
import errno
import importlib
import sys
from collections.abc import Sequence

from irscope._version import __version__
from irscope.cli.common import (
    OneLineParser,
    check_backend,
    check_input_paths,
    check_output_paths,
    stdout_is_open,
)
from irscope.errors import IrscopeError

SUBCOMMANDS = ("hlo", "tflite", "kernels", "diff", "figures", "hw")

DESCRIPTION = """\
irscope makes an ML compiler's decisions visible and measurable: which ops XLA fused into which
kernels, the bytes and FLOPs of each, and where each sits on a chip's roofline.

Run `irscope SUBCOMMAND --help` for details. From the repository root,
`python -m inspect.hlo ...` is the same as `irscope hlo ...` (likewise inspect.tflite,
inspect.kernels, inspect.diff), and `python -m irscope ...` is `irscope ...` anywhere.
"""

EPILOG = """\
examples:
  irscope hlo examples/mlp.py --hw h100               the kernels XLA made of a model.py
  irscope hlo dump.after_optimizations.txt --sort time --top 20
  irscope diff examples/gelu.py::exact examples/gelu.py::tanh
  irscope tflite model.tflite
  irscope hw                                          the chips the roofline knows
"""

VERSION = f"irscope {__version__}"


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="irscope", description=DESCRIPTION, epilog=EPILOG,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=VERSION)
    sub = parser.add_subparsers(dest="command", metavar="SUBCOMMAND", parser_class=OneLineParser)
    for name in SUBCOMMANDS:
        try:
            module = importlib.import_module(f"irscope.cli.{name}")
        except ModuleNotFoundError as e:
            if e.name == f"irscope.cli.{name}":
                continue  # not built yet
            raise
        module.add_parser(sub)
    for subparser in sub.choices.values():  # `python -m inspect.hlo --version` is `irscope hlo --version`
        subparser.add_argument("--version", action="version", version=VERSION)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.command is None:
        parser.print_help()
        return 2
    if not stdout_is_open():  # `irscope hlo x.hlo >&-`: the report would vanish without a word
        print(f"irscope {args.command}: error: stdout is closed, and irscope prints its report there "
              "(redirect it instead, e.g. > /dev/null)", file=sys.stderr)
        return 2
    try:
        check_input_paths(args)  # a FIFO or a device never reaches an open() that would block
        check_backend(args)
        check_output_paths(args)  # a typo in an output folder fails before any work, not after it
        return int(args.func(args) or 0)
    except IrscopeError as e:  # every mistake a user can cause (irscope.errors), caught here once
        print(f"irscope {args.command}: error: {one_line(e)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("irscope: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `irscope hlo x.py | head`
        return 0
    except OSError as e:
        if e.errno == errno.EBADF and not stdout_is_open():  # `irscope hlo x.hlo >&-`
            print(f"irscope {args.command}: error: cannot print the result: stdout is closed", file=sys.stderr)
            return 2
        raise
    except (SystemExit, GeneratorExit) as e:
        # Argument parsing is over, so this came from the user's code (a model.py that calls sys.exit
        # while it loads or while its function runs): one line naming it, not a silent exit status.
        print(f"irscope {args.command}: error: {stopped_by_user_code(e)}", file=sys.stderr)
        return 2
    except BaseException as e:
        if isinstance(e, Exception):
            raise  # a bug in irscope: keep the traceback
        print(f"irscope {args.command}: error: {stopped_by_user_code(e)}", file=sys.stderr)
        return 2


def one_line(e: BaseException) -> str:
    """The error's first line: it names the place (`file:line:col`) and the reason. The rest of a longer
    message (the source line with a caret under the column, MLIR's notes) stays on the exception for a
    library caller; on the terminal a mistake is one line, so scripts and CI logs can grep it."""
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def stopped_by_user_code(e: BaseException) -> str:
    """One line for a `SystemExit` or other `BaseException` raised by the user's code: where and what."""
    from irscope.frontends.model_file import stopped_line

    return stopped_line(e)


if __name__ == "__main__":
    raise SystemExit(main())
