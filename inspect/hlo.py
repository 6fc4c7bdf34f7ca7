"""Launcher: ``python -m inspect.hlo ...`` (see ``irscope hlo --help``)."""

import sys

from irscope.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main(["hlo", *sys.argv[1:]]))
