"""Golden files for every text output, compared exactly: the HLO kernel table, the TFLite table, the
XLA pass timeline, the kernels comparison table (the diff's are in test_diff_cli.py).

Inputs are fixed files (tests/fixed_results.py): no timings, no live compiles. After an intended
change to an output, run `pytest --update-goldens` and review `git diff tests/golden`.
"""

from __future__ import annotations

import pathlib
from collections.abc import Callable

import fixed_results
import pytest

Golden = Callable[[str, str], None]


@pytest.mark.parametrize(("name", "golden_file"), [
    ("gelu_tanh.hlo", "hlo_table_gelu_tanh.txt"),
    ("mlp_before_optimization.hlo", "hlo_table_mlp_before_optimization.txt"),
])
def test_hlo_table(name: str, golden_file: str, golden: Golden, tmp_path: pathlib.Path,
                   monkeypatch: pytest.MonkeyPatch) -> None:
    # The source column shows a path relative to the working directory when it is short: run from a
    # folder outside the checkout so the table is the same wherever the repository is cloned.
    monkeypatch.chdir(tmp_path)
    golden(golden_file, fixed_results.hlo_report(name).to_text() + "\n")


@pytest.mark.parametrize(("name", "golden_file"), [
    ("hello_world_int8.tflite", "tflite_table_hello_world_int8.txt"),
    ("micro_speech_quantized.tflite", "tflite_table_micro_speech_quantized.txt"),
])
def test_tflite_table(name: str, golden_file: str, golden: Golden) -> None:
    golden(golden_file, fixed_results.tflite_analysis(name).to_text() + "\n")


def test_pass_timeline(golden: Golden) -> None:
    timeline = fixed_results.pass_timeline()
    golden("pass_timeline_mlp.txt", timeline.to_text() + "\n")
    golden("pass_timeline_mlp_all.txt", timeline.to_text(show_all=True) + "\n")


def test_kernels_table(golden: Golden) -> None:
    comparison = fixed_results.kernel_comparison()
    golden("kernels_table_gelu.txt", comparison.to_text() + "\n")
    golden("kernels_table_gelu_xla_kernels.txt", comparison.to_text(xla_kernels=True) + "\n")


def test_diff_text(golden: Golden) -> None:
    # The library's text (the CLI's is in test_diff_cli.py): the same DiffResult, all kernels shown.
    golden("diff_text_gelu_exact_vs_tanh.txt", fixed_results.diff_result().to_text(show_unchanged=True) + "\n")
