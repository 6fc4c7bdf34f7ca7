"""Shared fixtures: the corpus of real HLO text vendored in tests/data/corpus/hlo (see its SOURCES.md)."""

from __future__ import annotations

import os
import pathlib
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parent.parent
# Real HLO text written by XLA and its authors, copied into the repository with its sources and
# licences (tests/data/corpus/hlo/SOURCES.md); IRSCOPE_CORPUS points the tests at another folder.
CORPUS = pathlib.Path(os.environ.get("IRSCOPE_CORPUS", REPO / "tests" / "data" / "corpus" / "hlo"))

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))


def corpus_files() -> list[pathlib.Path]:
    return sorted(CORPUS.glob("*.hlo"))


@pytest.fixture(scope="session")
def corpus() -> list[pathlib.Path]:
    files = corpus_files()
    assert files, f"HLO corpus not found at {CORPUS} (set IRSCOPE_CORPUS)"
    return files
