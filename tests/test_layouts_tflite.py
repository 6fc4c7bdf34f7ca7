"""The TFLite side of the layouts study: a channels_first Keras CNN converts with TRANSPOSE ops (structure only)."""

from __future__ import annotations

import pytest

pytest.importorskip("tensorflow")
pytest.importorskip("keras")

from irscope.studies import layouts, layouts_tflite  # noqa: E402


def test_channels_first_converts_with_more_transposes():
    result = layouts_tflite.measure(layouts.QUICK, quick=True)
    assert result["error"] is None
    by = {r["format"]: r for r in result["rows"]}
    assert set(by) == set(layouts_tflite.FORMATS)
    last, first = by["channels_last"], by["channels_first"]
    assert first["input"] == "float32[1,3,32,32]" and last["input"] == "float32[1,32,32,3]"
    assert first["transposes"] > last["transposes"]
    assert first["transpose_bytes"] > 0 and 0 < first["activation_share"] < 1
    assert last["transpose_bytes"] == 0 and last["activation_share"] == 0
    assert first["opcodes"].count("CONV_2D") == last["opcodes"].count("CONV_2D") == layouts.QUICK["depths"][0]
    assert all(r["latency_s"] is not None and r["latency_s"] > 0 for r in result["rows"])
    lines = layouts_tflite.notes(result)
    assert any("TRANSPOSE ops" in line for line in lines)
