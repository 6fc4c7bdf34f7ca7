"""What the case studies share: writing a matplotlib figure as a PNG, and the table it was drawn from as
CSV and JSON beside it, each whole or not at all."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from irscope.util.files import write_atomic

SUMMARY_SCHEMA = "irscope.study-summary/1"
"""The `schema` of `<name>.json`: the study's whole summary (`table`, `rows` where it has them, `notes`, ...)."""


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


def summary_json(name: str, summary: Mapping[str, Any]) -> str:
    """The summary as JSON text, with a `schema` and the study's `name` first (values JSON cannot hold become
    strings)."""
    return json.dumps({"schema": SUMMARY_SCHEMA, "name": name, **summary}, indent=1, default=str) + "\n"


def table_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    """The printed table as CSV: one header line (the union of the rows' keys, in first-seen order), then one
    line per row; an absent cell is empty, a list or dict cell is its JSON text."""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return buffer.getvalue()


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list | tuple | dict):
        return json.dumps(value, default=str)
    return value


def write_tables(out_dir: Path, name: str, summary: Mapping[str, Any]) -> list[Path]:
    """Write `<out_dir>/<name>.csv` (the summary's `table`, the rows `irscope figures NAME` prints) and
    `<out_dir>/<name>.json` (the whole summary) for any study; returns the two paths."""
    out_dir = Path(out_dir)
    csv_path, json_path = out_dir / f"{name}.csv", out_dir / f"{name}.json"
    write_atomic(csv_path, table_csv(summary.get("table", [])))
    write_atomic(json_path, summary_json(name, summary))
    return [csv_path, json_path]
