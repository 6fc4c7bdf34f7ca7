"""Launcher: ``python -m inspect.hlo TARGET ...`` (see ``irscope hlo --help``)."""

from irscope.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main(["hlo", *__import__("sys").argv[1:]]))
