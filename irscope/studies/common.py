"""What the case studies share: writing a matplotlib figure as a PNG, whole or not at all."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from irscope.util.files import write_atomic


def png_bytes(fig: Any, dpi: int = 110) -> bytes:
    """The figure as PNG bytes; the figure is closed (pyplot keeps every open figure alive)."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    plt.close(fig)
    return buffer.getvalue()


def write_png(path: Path, fig_or_bytes: Any) -> None:
    """Write a figure (or PNG bytes) to `path` through a temporary file and a rename."""
    data = fig_or_bytes if isinstance(fig_or_bytes, bytes) else png_bytes(fig_or_bytes)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(str(path), data)
