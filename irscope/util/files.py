"""Writing a file whole or not at all."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from irscope.errors import WriteError


def write_atomic(path: str | os.PathLike[str], data: str | bytes, *, make_dirs: bool = True) -> None:
    """Write `data` to `path` whole or not at all (`-` is stdout): a temporary file beside it, then a rename.

    The file gets the permissions a plain `open()` would give it (0666 less the umask), not
    `mkstemp`'s 0600, and is synced to disk before the rename. `make_dirs` creates missing parent
    folders; without it a missing folder is a `WriteError` (an `IrscopeError` and an `OSError`), like
    any other failed write (a read-only folder, a full disk), named with the path.
    """
    if str(path) == "-":
        sys.stdout.write(data if isinstance(data, str) else data.decode())
        sys.stdout.flush()
        return
    target = Path(path)
    try:
        if make_dirs:
            target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as e:
        raise WriteError(f"cannot write {path}: {e.strerror or e}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; a plain open() would honour the umask
        os.replace(tmp, target)
    except BaseException as e:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise WriteError(f"cannot write {path}: {e.strerror or e}") from None
        raise
