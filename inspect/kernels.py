"""Launcher: ``python -m inspect.kernels ...`` (see ``irscope kernels --help``)."""

import sys

from irscope.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main(["kernels", *sys.argv[1:]]))
