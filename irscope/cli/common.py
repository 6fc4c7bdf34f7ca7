"""What every subcommand shares: the one-line error contract, atomic writes, progress on stderr.

The writers and progress lines live in `irscope.util` (the case studies use them too); they are
imported here under their old names."""

from __future__ import annotations

import argparse
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


OUTPUT_FLAGS = {"json": "--json", "svg": "--svg", "html": "--html", "pass_html": "--pass-html",
                "memory_plot": "--memory-plot"}
"""The options that name a file to write (by argparse dest), checked before any work starts."""


def check_output_paths(args: argparse.Namespace) -> None:
    """Refuse an output file whose folder does not exist, before anything is compiled or printed.

    `--svg /no/such/dir/x.svg` is most often a typo; creating the folders would hide it. `-` (stdout)
    is always fine.
    """
    for dest, flag in OUTPUT_FLAGS.items():
        path = getattr(args, dest, None)
        if not path or path == "-":
            continue
        target = Path(path)
        folder = target.parent
        if target.is_dir():
            raise UserError(f"{flag} {path}: is a folder (give a file name)")
        if not folder.is_dir():
            what = "is not a folder" if folder.exists() else "no such folder"
            raise UserError(f"{flag} {path}: {what} {str(folder)!r} (create it first)")
