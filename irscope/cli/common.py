"""What every subcommand shares: the one-line error contract, checks on inputs and outputs before any
work, atomic writes, progress on stderr.

The writers and progress lines live in `irscope.util` (the case studies use them too); they are
imported here under their old names."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import NoReturn

from irscope.errors import UserError as UserError
from irscope.util.files import write_atomic as write_atomic
from irscope.util.progress import Progress as Progress
from irscope.util.progress import progress as progress


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (and exit status 2), not usage + error."""

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: error: {message} (see --help)", file=sys.stderr)
        raise SystemExit(2)


OUTPUT_FLAGS = {"json": "--json", "svg": "--svg", "html": "--html", "pass_html": "--pass-html", "output": "--output",
                "memory_plot": "--memory-plot"}
"""The options that name a file to write (by argparse dest), checked before any work starts."""
INPUT_DESTS = ("target", "before", "after", "compare", "calibration")
"""The arguments that name a file irscope reads (a `model.py::fn` names `model.py`)."""


def input_paths(args: argparse.Namespace) -> list[str]:
    """The files the command reads, as given (`::fn` stripped), for the checks on outputs."""
    paths = []
    for dest in INPUT_DESTS:
        value = getattr(args, dest, None)
        if isinstance(value, str) and value:
            paths.append(value.partition("::")[0] if ".py::" in value else value)
    return paths


BACKENDS = ("cpu", "gpu", "cuda", "rocm", "tpu")
"""The `--backend` names JAX knows (whether one is available here is checked when it is used)."""


def check_backend(args: argparse.Namespace) -> None:
    """Refuse a `--backend` that is no JAX backend, even where the target does not use it (HLO text)."""
    backend = getattr(args, "backend", None)
    if backend is not None and backend.lower() not in BACKENDS:
        raise UserError(f"--backend {backend!r}: not a backend (expected one of {', '.join(BACKENDS)})")


def check_input_paths(args: argparse.Namespace) -> None:
    """Refuse, for every subcommand, an existing input that is a FIFO, a device or a socket (opening
    it would block or never end), unreadable, or over the size limit, before any work. Folders pass
    (a SavedModel is one); what is missing is left to the subcommand, which knows what it wanted."""
    from irscope.ir.files import InputFileError, check_input

    for path in input_paths(args):
        try:
            os.stat(path)
        except FileNotFoundError:
            continue  # the subcommand says "no such file" in its own words
        except (OSError, ValueError):
            pass  # too long, a loop of links, not a folder, no permission: check_input names it
        try:
            check_input(path, directories=True)
        except InputFileError as e:
            raise UserError(str(e)) from None


def check_output_paths(args: argparse.Namespace) -> None:
    """Refuse an output that could not be written or would overwrite an input, before any work.

    - an empty path (`--json ''`) names nothing;
    - a missing folder (`--svg /no/such/dir/x.svg`) is most often a typo; creating it would hide that;
    - an output that is the same file as an input (`--json model.py`, or a link to it) would destroy
      the input: irscope never modifies its inputs;
    - `-` is stdout, refused when stdout is closed (the output would vanish without a word).
    """
    inputs = [p for p in input_paths(args) if _exists(p)]
    for dest, flag in OUTPUT_FLAGS.items():
        path = getattr(args, dest, None)
        if path is None:
            continue
        if not isinstance(path, str) or not path.strip():
            raise UserError(f"{flag} {path!r}: an empty path names no file (give a file name, or - for stdout)")
        if path == "-":
            if not stdout_is_open():
                raise UserError(f"{flag} -: stdout is closed, so the output would be lost (redirect it to a file)")
            continue
        target = Path(path)
        folder = target.parent
        if _is_dir(target):
            raise UserError(f"{flag} {path}: is a folder (give a file name)")
        if not _is_dir(folder):
            what = "is not a folder" if _exists(str(folder)) else "no such folder"
            raise UserError(f"{flag} {path}: {what} {str(folder)!r} (create it first)")
        for source in inputs:
            if _same_file(path, source):
                raise UserError(f"{flag} {path}: is the input {source} (irscope never overwrites an input; "
                                "give another file name)")


def _exists(path: str) -> bool:
    try:
        os.stat(path)
    except (OSError, ValueError):
        return False
    return True


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except (OSError, ValueError):
        return False


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return False


def stdout_is_open() -> bool:
    """Whether anything written to stdout can arrive: Python started with fd 1 open, and it still is."""
    stream = sys.stdout
    if stream is None:
        return False
    try:
        fd = stream.fileno()
    except (OSError, ValueError, AttributeError):
        return not getattr(stream, "closed", False)  # a StringIO under test: open unless closed
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


def check_target(path: str, *, what: str = " (give a model.py, .hlo/.txt or .mlir file)") -> None:
    """Refuse an input that is not a readable regular file within the size limit, in one line."""
    from irscope.ir.files import InputFileError, check_input

    try:
        check_input(path, what=what)
    except InputFileError as e:
        raise UserError(str(e)) from None


def read_hlo_file(path: str) -> tuple[str, list]:
    """The text of an HLO file and its modules, parsed and verified; every failure one `UserError`."""
    from irscope.ir.files import InputFileError, read_text
    from irscope.ir.hlo_parser import HloParseError, parse_modules
    from irscope.ir.verify import HloVerifyError, verify_all

    try:
        text = read_text(path, expected="HLO text, .mlir or a model.py")
    except InputFileError as e:
        raise UserError(str(e)) from None
    try:
        return text, verify_all(parse_modules(text, path), text)
    except (HloParseError, HloVerifyError) as e:
        raise UserError(str(e)) from None
