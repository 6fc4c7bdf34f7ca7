"""The shared helpers of irscope.util: atomic writes, first lines, aligned tables."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from irscope.errors import IrscopeError, WriteError
from irscope.util import files
from irscope.util.text import align_row, column_widths, first_line, text_table


def test_write_atomic_writes_whole_files_with_the_usual_mode(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b.svg"
    files.write_atomic(target, "<svg/>")
    assert target.read_text() == "<svg/>"
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask  # not mkstemp's 0600
    files.write_atomic(target, b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01" and sorted(p.name for p in target.parent.iterdir()) == ["b.svg"]


def test_a_failed_write_leaves_nothing_and_is_a_user_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "replace", broken)
    with pytest.raises(WriteError, match="cannot write .*x.svg: No space left on device") as caught:
        files.write_atomic(tmp_path / "x.svg", "<svg/>")
    assert isinstance(caught.value, OSError) and isinstance(caught.value, IrscopeError)
    assert list(tmp_path.iterdir()) == []


def test_write_atomic_without_make_dirs_names_the_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(WriteError, match="no/such"):
        files.write_atomic(tmp_path / "no" / "such" / "x.txt", "x", make_dirs=False)
    assert not (tmp_path / "no").exists()


def test_first_line() -> None:
    assert first_line("\n  \n  error: bad  \nmore") == "error: bad"
    assert first_line("") == ""
    assert first_line("Traceback (most recent call last):\n  File \"x\", line 1\nValueError: x",
                      skip=("Traceback", "File ")) == "ValueError: x"
    assert first_line("abcdef", limit=3) == "abc"


def test_text_table_aligns_columns() -> None:
    lines = text_table(("name", "bytes"), [("a", "1 B"), ("long name", "10 KiB")], right={1})
    assert lines == ["name        bytes", "---------  ------", "a             1 B", "long name  10 KiB"]
    assert column_widths([("ab", "c")]) == [2, 1]
    assert align_row(("x", ""), [3, 4]) == "x"  # trailing spaces stripped


def test_load_target_kinds_and_mistakes(tmp_path: Path) -> None:
    from irscope.errors import TargetFileError
    from irscope.frontends.target_file import load_target

    model = tmp_path / "m.py"
    model.write_text("")
    assert (load_target(f"{model}::f").kind, load_target(f"{model}::f").fn) == ("model", "f")
    hlo = tmp_path / "x.hlo"
    hlo.write_text("HloModule x\n")
    assert load_target(str(hlo)).kind == "hlo" and load_target(str(hlo)).read_text() == "HloModule x\n"
    bytecode = tmp_path / "x.mlir.bc"  # MLIR bytecode is told by its magic bytes, not its name
    bytecode.write_bytes(b"ML\xefR\x00\x01")
    assert load_target(str(bytecode)).kind == "mlir"
    binary = tmp_path / "w.txt"
    binary.write_bytes(b"\xff\xfe\x00")
    for target, message in [(str(tmp_path / "nope.hlo"), "no such file"), (str(tmp_path), "is a directory"),
                            (f"{hlo}::f", "::fn picks a function of a model.py")]:
        with pytest.raises(TargetFileError, match=message):
            load_target(target)
    with pytest.raises(TargetFileError, match="w.txt: not a text file"):
        load_target(str(binary)).read_text()
