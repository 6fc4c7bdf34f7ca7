"""Shared fixtures: the corpus of real HLO text beside the repository."""

from __future__ import annotations

import os
import pathlib
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parent.parent
# The corpus lives in ../shared beside a checkout (CI lays it out the same way).
CORPUS = pathlib.Path(os.environ.get("IRSCOPE_CORPUS", REPO.parent / "shared" / "corpus" / "hlo"))

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))


def corpus_files() -> list[pathlib.Path]:
    return sorted(CORPUS.glob("*.hlo"))


@pytest.fixture(scope="session")
def corpus() -> list[pathlib.Path]:
    files = corpus_files()
    assert files, f"HLO corpus not found at {CORPUS} (set IRSCOPE_CORPUS)"
    return files
