"""Launcher: ``python -m inspect.tflite ...`` (see ``irscope tflite --help``)."""

import sys

from irscope.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main(["tflite", *sys.argv[1:]]))
