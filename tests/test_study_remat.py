"""The rematerialization case study (`irscope figures remat --quick`) and the example's `remat` choices.

The quick study compiles a tiny transformer step for TPU v5e (XLA:TPU, deviceless) under `none` and
`per_block`, at two batch sizes; its figures are checked against XLA's own cost analysis and against the
properties remat must have. No time is asserted.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from irscope.frontends import targets as T
from irscope.studies import STUDIES, remat

needs_tpu = pytest.mark.skipif(not T.extra_installed(T.CHIPS["tpu-v5e"]),
                               reason="XLA:TPU is not installed: pip install 'irscope[tpu]'")
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("remat")
    return out, remat.run(out, quick=True)


def test_registered():
    assert "remat" in STUDIES
    assert remat.TITLE


def test_every_policy_gives_the_same_step():
    """Remat changes what is kept and recomputed, never the numbers: loss and updated weights agree."""
    t = remat.transformer()
    params = t.init_params(jax.random.key(1), d_model=32, n_layers=2, seq=8)
    tokens = jax.random.randint(jax.random.key(2), (2, 9), 0, t.VOCAB)
    results = {policy: jax.jit(functools.partial(t.train_step, remat=policy))(params, tokens) for policy in t.REMAT}
    loss, new = results["none"]
    for policy, (other_loss, other_new) in results.items():
        np.testing.assert_allclose(other_loss, loss, rtol=1e-5, err_msg=policy)
        for a, b in zip(jax.tree.leaves(other_new), jax.tree.leaves(new), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6, err_msg=policy)


def test_unknown_policy_is_named():
    t = remat.transformer()
    params = jax.eval_shape(functools.partial(t.init_params, d_model=32, n_layers=1, seq=8), jax.random.key(0))
    with pytest.raises(ValueError, match="unknown remat: 'everything'"):
        jax.eval_shape(functools.partial(t.train_step, remat="everything"), params,
                       jax.ShapeDtypeStruct((1, 9), jnp.int32))


@needs_tpu
def test_quick_rows_and_recompute(quick):
    out, summary = quick
    config = remat.QUICK
    keys = [(r["target"], r["policy"], r["batch"]) for r in summary["table"]]
    assert sorted(keys) == sorted((t, p, b) for t in config["targets"] for p in config["policies"]
                                  for b in config["batches"])
    points = {(p["policy"], p["batch"]): p for p in summary["points"]}
    for batch in config["batches"]:
        none, block = points[("none", batch)], points[("per_block", batch)]
        for p in (none, block):
            assert p["flops"] == p["xla_flops"]  # irscope's count is XLA:TPU's cost_analysis()
        row = next(r for r in summary["table"] if (r["policy"], r["batch"]) == ("per_block", batch))
        extra = block["flops"] - none["flops"]
        assert row["recompute_GFLOPs"] == round(extra / 1e9, 3)
        assert extra > 0  # each block's forward pass runs again
        # the recomputing kernels are found in the module by their scope, and none without remat
        assert none["remat_kernels"] == 0 and block["remat_kernels"] > 0
        assert 0 < block["remat_kernel_flops"] <= block["flops"]
        # keeping only block inputs does not raise the peak; irscope's liveness peak falls
        assert block["peak_xla"] <= none["peak_xla"]
        assert block["peak_irscope"] < none["peak_irscope"]
    fits = {f["policy"]: f for f in summary["fits"]}
    assert fits["per_block"]["MiB_per_sequence_irscope"] < fits["none"]["MiB_per_sequence_irscope"]
    png = out / "remat.png"
    assert png.read_bytes().startswith(PNG) and summary["figures"] == [str(png)]
    assert any("16 GiB HBM" in line for line in summary["notes"])
