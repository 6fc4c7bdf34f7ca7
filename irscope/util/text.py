"""Plain-text helpers: the first line of a message, and column-aligned tables."""

from __future__ import annotations

from collections.abc import Container, Sequence


def first_line(text: str, *, limit: int | None = None, skip: tuple[str, ...] = ()) -> str:
    """The first non-blank line of `text`, stripped ('' if there is none).

    Arguments:
        limit: cut the line to this many characters.
        skip: prefixes of lines to pass over (a traceback's `Traceback`, `File ...` lines).
    """
    for line in text.splitlines():
        line = line.strip()
        if line and not (skip and line.startswith(skip)):
            return line if limit is None else line[:limit]
    return ""


def column_widths(rows: Sequence[Sequence[str]]) -> list[int]:
    """The widest cell of each column (rows may include the header)."""
    return [max(len(row[k]) for row in rows) for k in range(len(rows[0]))] if rows else []


def align_row(cells: Sequence[str], widths: Sequence[int], right: Container[int] = ()) -> str:
    """One table line: each cell padded to its column's width (right-aligned if its index is in
    `right`), two spaces apart, trailing spaces stripped."""
    return "  ".join(c.rjust(w) if k in right else c.ljust(w)
                     for k, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()


def text_table(header: Sequence[str], rows: Sequence[Sequence[str]], right: Container[int] = ()) -> list[str]:
    """Header, a rule of dashes, and the rows, in columns as wide as their widest cell."""
    widths = column_widths([header, *rows])
    return [align_row(header, widths, right), align_row(["-" * w for w in widths], widths),
            *(align_row(r, widths, right) for r in rows)]
