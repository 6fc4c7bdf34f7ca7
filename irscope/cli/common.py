"""What every subcommand shares: the one-line error contract, atomic writes, progress on stderr.

The writers and progress lines live in `irscope.util` (the case studies use them too); they are
imported here under their old names."""

from __future__ import annotations

import argparse
import sys
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
