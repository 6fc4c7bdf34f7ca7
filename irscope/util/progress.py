"""Progress and warnings on stderr, so that stdout stays machine-readable."""

from __future__ import annotations

import sys
import time
from typing import IO


def progress(message: str) -> None:
    """A progress or warning line on stderr (stdout stays machine-readable)."""
    print(message, file=sys.stderr, flush=True)



class Progress:
    """A progress bar on stderr for work that takes more than a couple of seconds.

        with Progress(total=len(sizes), label="fusion study") as bar:
            for size in sizes:
                ...
                bar.advance(f"gelu 2^{k}")

    On a terminal it redraws one line; elsewhere (CI logs, pipes) it prints a line per step at most
    every `min_interval_s`, so logs stay short. Nothing goes to stdout.
    """

    def __init__(self, total: int, label: str, *, min_interval_s: float = 2.0, stream: IO[str] | None = None):
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
