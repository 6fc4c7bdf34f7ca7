"""The roadmap case studies (sharding, layouts, sparsity) run end to end in quick mode and write their figures.

These check the pipeline and the invariants of the numbers, never a timing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from irscope.studies import STUDIES, layouts, sharding, sparsity


def _png(path: str) -> bool:
    return Path(path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_sharding_quick(tmp_path: Path):
    summary = sharding.run(tmp_path, quick=True, progress=None)
    assert summary["figures"] == [str(tmp_path / "sharding.png")] and _png(summary["figures"][0])
    rows = {(r["tokens"], r["sharding"]): r for r in summary["rows"]}
    small, large = sharding.QUICK["tokens"]
    # DP all-reduces the weight gradients: the same bytes whatever the batch; TP's grow with it.
    assert rows[(small, "DP")]["sent_bytes"] == rows[(large, "DP")]["sent_bytes"] > 0
    assert rows[(large, "TP")]["sent_bytes"] > rows[(small, "TP")]["sent_bytes"] > 0
    weights = sharding.BLOCKS * 2 * 128 * 512 * 4
    assert rows[(small, "DP")]["sent_bytes"] == 2 * 7 / 8 * weights  # one ring all-reduce of all gradients
    assert all(r["step_s"] >= r["communication_s"] > 0 for r in summary["rows"])
    assert summary["diff"]["summary"]["changed"] > 0
    assert len(summary["table"]) == 4 and summary["notes"]
    # The figure draws sent bytes, step and communication time; the table quotes the same rows.
    for r, cells in zip(summary["rows"], summary["table"], strict=True):
        assert r["step_s"] == pytest.approx(r["compute_s"] + r["communication_s"], rel=1e-12)  # no overlap assumed
        assert cells["sent MB/dev"] == f"{r['sent_bytes'] / 1e6:.2f}"
        assert cells["comm share"] == f"{r['communication_s'] / r['step_s']:.0%}"


def test_layouts_quick(tmp_path: Path):
    summary = layouts.run(tmp_path, quick=True, progress=None)
    assert _png(summary["figures"][0]) and summary["figures"][0].endswith("layouts.png")
    by = {r["format"]: r for r in summary["rows"]}
    assert by["NHWC"]["layout_bytes"] == 0
    assert by["NCHW"]["layout_kernels"] and 0 < by["NCHW"]["layout_share"] < 1
    assert all(r["jit_s"] > 0 for r in summary["rows"])
    # The figure's segments: layout bytes out of the total, and the profiled layout kernels out of the call.
    for r, cells in zip(summary["rows"], summary["table"], strict=True):
        assert r["layout_share"] == pytest.approx(r["layout_bytes"] / r["total_bytes"], rel=1e-12)
        assert r["layout_bytes"] == sum(k["bytes"] for k in r["layout_kernels"])
        assert cells["traffic share"] == f"{r['layout_share']:.1%}"
        assert cells["layout MB"] == f"{r['layout_bytes'] / 1e6:.3f}"


def test_sparsity_quick(tmp_path: Path):
    summary = sparsity.run(tmp_path, quick=True, progress=None)
    assert _png(summary["figures"][0]) and summary["figures"][0].endswith("sparsity.png")
    variants = {(r["variant"], r["sparsity"]) for r in summary["rows"]}
    assert {("dense", 0.0), ("bcoo", 0.5), ("bcsr", 0.9), ("2:4", 0.5)} <= variants
    dense = next(r for r in summary["rows"] if r["variant"] == "dense")
    for r, cells in zip(summary["rows"], summary["table"], strict=True):  # the figure's times against dense
        assert cells["vs dense"] == f"{r['time_s'] / dense['time_s']:.2f}x"
        assert cells["cpu ms"] == f"{r['time_s'] * 1e3:.3f}"
    bcoo = next(r for r in summary["rows"] if r["variant"] == "bcoo")
    assert "gather" in bcoo["ops"] and "scatter" in bcoo["ops"]
    # The H100 break-even for unstructured sparsity at the compute-bound shape: CUDA-core f32 vs TF32.
    assert 0.8 < summary["h100"]["break_even_sparsity"] < 0.9


def test_two_four_pattern():
    dense, values, positions = sparsity.two_four(4, 8)
    groups = dense.reshape(4, 2, 4)
    assert ((groups != 0).sum(axis=-1) == 2).all()
    import jax.numpy as jnp

    b = np.eye(8, dtype=np.float32)
    out = sparsity.decompress_matmul(jnp.asarray(values), jnp.asarray(positions), jnp.asarray(b))
    np.testing.assert_allclose(np.asarray(out), dense, rtol=1e-6)


def test_registered():
    assert {"layouts", "sparsity", "sharding"} <= set(STUDIES)
    for module in (layouts, sparsity, sharding):
        assert module.TITLE and callable(module.run)
