"""Shared fixtures: the corpus of real HLO text vendored in tests/data/corpus/hlo (see its SOURCES.md),
and the golden files of every text output (tests/golden/).

Golden files are compared exactly. After an intended change to an output, regenerate them with
`pytest --update-goldens` (the tests that use them then pass and rewrite their files) and review
`git diff tests/golden` before committing.
"""

from __future__ import annotations

import os
import pathlib
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

REPO = pathlib.Path(__file__).resolve().parent.parent
# Real HLO text written by XLA and its authors, copied into the repository with its sources and
# licences (tests/data/corpus/hlo/SOURCES.md); IRSCOPE_CORPUS points the tests at another folder.
CORPUS = pathlib.Path(os.environ.get("IRSCOPE_CORPUS", REPO / "tests" / "data" / "corpus" / "hlo"))
GOLDEN = REPO / "tests" / "golden"

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))


def corpus_files() -> list[pathlib.Path]:
    return sorted(CORPUS.glob("*.hlo"))


@pytest.fixture(scope="session")
def corpus() -> list[pathlib.Path]:
    files = corpus_files()
    assert files, f"HLO corpus not found at {CORPUS} (set IRSCOPE_CORPUS)"
    return files


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-goldens", action="store_true", default=False,
                     help="rewrite tests/golden/* from the current output instead of comparing (review the diff)")


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Callable[[str, str], None]:
    """`golden(name, text)`: `text` must equal tests/golden/NAME exactly (or, with --update-goldens,
    becomes it)."""
    update = request.config.getoption("--update-goldens")

    def check(name: str, text: str) -> None:
        path = GOLDEN / name
        if update:
            path.parent.mkdir(exist_ok=True)
            path.write_text(text, encoding="utf-8")
            return
        assert path.exists(), f"no golden file {path}: run pytest --update-goldens and review it"
        expected = path.read_text(encoding="utf-8")
        assert text == expected, f"output differs from {path}; if the change is intended, run pytest --update-goldens"

    return check


class TookTooLong(Exception):
    """Raised by `time_limit`. Not a `TimeoutError`: that is an `OSError`, which code under test may catch."""


@contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    """A hang is a failure: SIGALRM interrupts Python code in the block that runs longer than `seconds`."""
    def expire(signum: int, frame: object) -> None:
        raise TookTooLong(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
