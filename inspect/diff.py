"""Launcher: ``python -m inspect.diff ...`` (see ``irscope diff --help``)."""

import sys

from irscope.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main(["diff", *sys.argv[1:]]))
