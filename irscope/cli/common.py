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


OUTPUT_FLAGS = {"json": "--json", "svg": "--svg", "html": "--html", "pass_html": "--pass-html", "output": "--output"}
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


def progress(message: str) -> None:
    """A progress or warning line on stderr (stdout stays machine-readable)."""
    print(message, file=sys.stderr, flush=True)


def write_atomic(path: str, data: str | bytes) -> None:
    """Write `data` to `path` whole or not at all (`-` is stdout): a temporary file, then a rename."""
    if path == "-":
        if not stdout_is_open():
            raise UserError("cannot write to stdout: it is closed")
        try:
            sys.stdout.write(data if isinstance(data, str) else data.decode())
            sys.stdout.flush()
        except BrokenPipeError:
            raise
        except OSError as e:
            raise UserError(f"cannot write to stdout: {e.strerror or e}") from None
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
