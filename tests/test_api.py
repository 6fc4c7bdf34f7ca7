"""The notebook/CI surface: `irscope.inspect_jax`, `irscope.inspect_hlo` and how reports display."""

from __future__ import annotations

import jax.numpy as jnp
from conftest import CORPUS

import irscope


def test_inspect_jax_matches_xla_and_displays():
    report = irscope.inspect_jax(lambda x, w: jnp.tanh(x @ w), "f32[64,128] f32[128,32]", hw="h100")
    doc = report.to_json()
    assert doc["totals"]["flops"] == report.xla_cost["flops"] == 2 * 64 * 128 * 32
    html = report._repr_html_()
    assert html.startswith("<div>") and "<table>" in html and "fusion saved" in html
    assert report.to_text().splitlines()[0].startswith("module jit__lambda (optimized")
    svg = report.svg()
    assert "<svg" in svg


def test_inspect_hlo_from_path_text_and_module():
    path = CORPUS / "jax_logsm_before_optimizations.hlo"
    from_path = irscope.inspect_hlo(path, hw="a100")
    from_text = irscope.inspect_hlo(path.read_text(), hw="a100")
    from_module = irscope.inspect_hlo(irscope.parse_module(path.read_text()), hw="a100")
    assert from_path.stage == "hlo"  # before optimization: every op is its own kernel
    assert from_path.to_json()["totals"] == from_text.to_json()["totals"] == from_module.to_json()["totals"]
