"""The notebook/CI surface: `irscope.inspect_jax`, `irscope.inspect_hlo` and how reports display."""

from __future__ import annotations

import jax.numpy as jnp
import pytest
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


def test_inspect_hlo_missing_path_says_no_such_file(tmp_path):
    missing = tmp_path / "missing.txt"
    for given in (str(missing), missing, "missing.txt"):
        with pytest.raises(FileNotFoundError, match="no such file"):
            irscope.inspect_hlo(given)
    with pytest.raises(IsADirectoryError, match="is a directory"):
        irscope.inspect_hlo(str(tmp_path))
    # Text is still text, even on one line.
    one_line = "HloModule m ENTRY e { p = f32[4] parameter(0) ROOT a = f32[4] add(p, p) }"
    assert irscope.inspect_hlo(one_line).to_json()["totals"]["flops"] == 4


def test_plain_text_repr_is_a_short_summary():
    path = CORPUS / "jax_logsm_gpu_after_optimizations.hlo"
    report = irscope.inspect_hlo(path, hw="a100")
    text = repr(report)
    lines = text.splitlines()
    assert len(lines) <= 6 and len(text) < 1000, text  # not the module (the dataclass repr was all of it)
    assert lines[0].startswith(f"HloReport {report.module.name} (optimized) on a100: ")
    assert f"{len(report.rows)} kernel" in lines[0]
    # The kernels named are the three with the largest time at peak, largest first.
    by_time = sorted(report.rows, key=lambda r: -r.roofline.time_at_peak_s * (r.trip_count or 1))
    named = [line.split()[1] for line in lines[2:5]]
    assert named == [r.name for r in by_time[:3]]

    class Printer:  # IPython's pretty printer, as much of it as _repr_pretty_ uses
        def __init__(self):
            self.out = []

        def text(self, s):
            self.out.append(s)

    printer = Printer()
    report._repr_pretty_(printer, False)
    assert printer.out == [text]
