"""What every subcommand shares: the one-line error contract, atomic writes, progress on stderr."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import NoReturn


class UserError(Exception):
    """A mistake the user can fix (bad file, flag, function, shape): one line on stderr, exit 2."""


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (and exit status 2), not usage + error."""

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: error: {message} (see --help)", file=sys.stderr)
        raise SystemExit(2)


OUTPUT_FLAGS = {"json": "--json", "svg": "--svg", "html": "--html", "pass_html": "--pass-html"}
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


def progress(message: str) -> None:
    """A progress or warning line on stderr (stdout stays machine-readable)."""
    print(message, file=sys.stderr, flush=True)


def write_atomic(path: str, data: str | bytes) -> None:
    """Write `data` to `path` whole or not at all (`-` is stdout): a temporary file, then a rename."""
    if path == "-":
        sys.stdout.write(data if isinstance(data, str) else data.decode())
        sys.stdout.flush()
        return
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    except OSError as e:
        raise UserError(f"cannot write {path}: {e.strerror or e}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; a plain open() would honour the umask
        os.replace(tmp, target)
    except BaseException as e:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise UserError(f"cannot write {path}: {e.strerror or e}") from None
        raise


class Progress:
    """A progress bar on stderr for work that takes more than a couple of seconds.

        with Progress(total=len(sizes), label="fusion study") as bar:
            for size in sizes:
                ...
                bar.advance(f"gelu 2^{k}")

    On a terminal it redraws one line; elsewhere (CI logs, pipes) it prints a line per step at most
    every `min_interval_s`, so logs stay short. Nothing goes to stdout.
    """

    def __init__(self, total: int, label: str, *, min_interval_s: float = 2.0, stream=None):
        import time

        self.total, self.label, self.done = max(total, 1), label, 0
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.min_interval_s = min_interval_s
        self._clock = time.monotonic
        self._start = self._last = self._clock()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.tty:
            self.stream.write("\n")
        self.stream.flush()

    def advance(self, what: str = "", steps: int = 1) -> None:
        self.done = min(self.total, self.done + steps)
        now = self._clock()
        if not self.tty and now - self._last < self.min_interval_s and self.done < self.total:
            return
        self._last = now
        elapsed = now - self._start
        eta = elapsed / self.done * (self.total - self.done) if self.done else 0.0
        width = 24
        filled = int(width * self.done / self.total)
        bar = "#" * filled + "." * (width - filled)
        line = f"{self.label} [{bar}] {self.done}/{self.total} {elapsed:5.0f}s eta {eta:4.0f}s {what}"
        if self.tty:
            self.stream.write("\r" + line[:120].ljust(120))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
