"""Reading an input file the user named, safely: regular files only, a size limit, one-line errors.

Users point irscope at whatever their tools wrote, and sometimes at the wrong thing: a folder, a named
pipe (whose `open()` would wait forever for a writer), `/dev/zero` (which never ends), a file they
cannot read, a name longer than the system allows. `check_input(path)` looks with `os.stat` before
anything is opened and raises `InputFileError` with one line that says what the path is;
`read_bytes` / `read_text` then read it, refusing more than `max_input_bytes()`.

The limit defaults to `DEFAULT_MAX_INPUT_BYTES` (4 GiB: the largest dumps seen, a 48-layer training
step, are 45 MB of HLO text) and is raised with the environment variable `IRSCOPE_MAX_INPUT_BYTES`
(a number of bytes, or with a K, M, G or T suffix: `IRSCOPE_MAX_INPUT_BYTES=16G`).

`InputFileError` is an `OSError`, and also the built-in subclass callers expect for the common
cases (`FileNotFoundError`, `IsADirectoryError`, `PermissionError`), so `except FileNotFoundError`
keeps working.
"""

from __future__ import annotations

import errno
import os
import re
import stat

from irscope.errors import InputFileError as InputFileError
from irscope.errors import InputIsADirectoryError as _Directory
from irscope.errors import InputNotFoundError as _Missing
from irscope.errors import InputPermissionError as _Denied

DEFAULT_MAX_INPUT_BYTES = 4 << 30
"""Largest input read by default (4 GiB); `IRSCOPE_MAX_INPUT_BYTES` overrides it."""
LIMIT_VARIABLE = "IRSCOPE_MAX_INPUT_BYTES"

_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}




def max_input_bytes() -> int:
    """The size limit for one input: `IRSCOPE_MAX_INPUT_BYTES`, else `DEFAULT_MAX_INPUT_BYTES`."""
    text = os.environ.get(LIMIT_VARIABLE, "").strip()
    if not text:
        return DEFAULT_MAX_INPUT_BYTES
    m = re.fullmatch(r"(\d+)\s*([KMGT]?)i?B?", text, re.I)
    if m is None:
        raise InputFileError(LIMIT_VARIABLE, f"{text!r} is not a size (give bytes, or e.g. 512M, 16G)")
    return int(m.group(1)) * _UNITS[m.group(2).upper()]


def _size_text(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} bytes"  # pragma: no cover


_KINDS = (
    (stat.S_ISFIFO, "is a named pipe (FIFO), not a file: irscope reads files (save the output to a file first)"),
    (stat.S_ISCHR, "is a character device, not a file"),
    (stat.S_ISBLK, "is a block device, not a file"),
    (stat.S_ISSOCK, "is a socket, not a file"),
)


def _stat_error(path: str, e: OSError, what: str) -> InputFileError:
    if e.errno == errno.ENOENT:
        return _Missing(path, f"no such file{what}", e.errno)
    if e.errno in (errno.EACCES, errno.EPERM):
        return _Denied(path, "permission denied (irscope cannot read it)", e.errno)
    if e.errno == errno.ENAMETOOLONG:
        return InputFileError(_shorten(path), "file name too long", e.errno)
    if e.errno == errno.ENOTDIR:
        return InputFileError(path, "a part of the path is a file, not a folder", e.errno)
    if e.errno == errno.ELOOP:
        return InputFileError(path, "too many levels of symbolic links", e.errno)
    return InputFileError(path, e.strerror or str(e), e.errno or errno.EIO)


def _shorten(path: str) -> str:
    return path if len(path) <= 80 else path[:40] + "..." + path[-30:]


def check_input(path: str | os.PathLike[str], *, directories: bool = False, what: str = "") -> os.stat_result:
    """Refuse an input that is not a readable regular file (or a folder, with `directories=True`),
    or that is larger than `max_input_bytes()`; returns its `os.stat` result. Opens nothing.

    `what` is added to the "no such file" message (e.g. " (give a model.py, .hlo or .mlir file)").
    """
    shown = os.fspath(path)
    if shown == "":
        raise _Missing("''", "an empty path names no file", errno.ENOENT)
    if "\0" in shown:
        raise InputFileError(repr(shown), "a path cannot hold a NUL character")
    try:
        st = os.stat(shown)
    except OSError as e:
        raise _stat_error(shown, e, what) from None
    except ValueError as e:  # e.g. an unencodable name
        raise InputFileError(repr(shown), str(e)) from None
    if stat.S_ISDIR(st.st_mode):
        if directories:
            return st
        raise _Directory(shown, f"is a directory, not a file{what}", errno.EISDIR)
    for test, reason in _KINDS:
        if test(st.st_mode):
            raise InputFileError(shown, reason)
    if not stat.S_ISREG(st.st_mode):
        raise InputFileError(shown, "is not a regular file")
    limit = max_input_bytes()
    if st.st_size > limit:
        raise InputFileError(shown, f"is {_size_text(st.st_size)}, above irscope's limit of {_size_text(limit)} for "
                                    f"one input (raise it with {LIMIT_VARIABLE}=..., e.g. 16G)", errno.EFBIG)
    if not os.access(shown, os.R_OK):
        raise _Denied(shown, "permission denied (irscope cannot read it)", errno.EACCES)
    return st


def read_bytes(path: str | os.PathLike[str], *, what: str = "") -> bytes:
    """The bytes of a regular file, after `check_input`; never blocks on a pipe, never reads past the limit."""
    shown = os.fspath(path)
    check_input(shown, what=what)
    limit = max_input_bytes()
    try:
        # O_NONBLOCK: if the path became a pipe since the stat, open returns at once instead of waiting.
        fd = os.open(shown, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as e:
        raise _stat_error(shown, e, what) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise InputFileError(shown, "is not a regular file")
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(limit + 1)
    except OSError as e:
        if isinstance(e, InputFileError):
            raise
        raise _stat_error(shown, e, what) from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise InputFileError(shown, f"is larger than irscope's limit of {_size_text(limit)} for one input "
                                    f"(raise it with {LIMIT_VARIABLE}=..., e.g. 16G)", errno.EFBIG)
    return data


def read_text(path: str | os.PathLike[str], *, what: str = "", expected: str = "") -> str:
    """The UTF-8 text of a regular file (see `read_bytes`); a binary file is one line naming it.

    `expected` says what text was wanted (`"HLO text"`), for that message."""
    data = read_bytes(path, what=what)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        wanted = f"; expected {expected}" if expected else ""
        raise InputFileError(os.fspath(path), f"not a text file (byte {e.start} is not UTF-8{wanted})") from None
