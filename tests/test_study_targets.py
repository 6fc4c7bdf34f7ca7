"""`irscope figures targets` (quick): GELU and Swish compiled for this CPU and (without the device) a TPU v5e.

The study's numbers must be the ones `inspect_jax(..., target=...)` gives for the same program, the ratios
must be computed from them, and the figure must plot the table's values. The live compile needs the `tpu`
extra (installed by `make test`); without it the test says so and skips, and the missing-extra path is
checked on its own.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from irscope.cli.main import main
from irscope.frontends import targets as T
from irscope.studies import STUDIES
from irscope.studies import targets as study

needs_tpu = pytest.mark.skipif(not T.extra_installed(T.CHIPS["tpu-v5e"]),
                               reason="needs XLA:TPU's compiler: pip install 'irscope[tpu]'")


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("targets")
    return study.run(out, quick=True, progress=None)


@needs_tpu
def test_a_row_per_program_and_target(quick):
    pairs = [(r["program"], r["target"]) for r in quick["table"]]
    assert pairs == [(p, t) for p in ("GELU", "Swish") for t in study.QUICK_TARGETS]
    assert all(r["size"] == "f32[64,256]" for r in quick["table"])
    assert quick["figures"] and Path(quick["figures"][0]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@needs_tpu
def test_totals_are_what_inspect_jax_gives(quick):
    from irscope.api import inspect_jax
    from irscope.passes.compiler_estimate import module_estimate_s

    by = {(r["program"], r["target"]): r for r in quick["rows"]}
    for program in study.programs(quick=True):
        for target in study.QUICK_TARGETS:
            report = inspect_jax(program.fn, list(program.args), target=target)
            row = by[(program.name, target)]
            assert row["totals"] == ("estimated" if report.unknown_custom_calls else "xla")
            totals = report.estimated_totals if report.unknown_custom_calls else report.totals
            assert row["bytes"] == totals.bytes_accessed > 0
            assert row["flops"] == totals.flops > 0
            assert (row["xla_bytes"], row["xla_flops"]) == (report.totals.bytes_accessed, report.totals.flops)
            assert row["kernels"] == len(report.rows)
            assert row["time_at_peak_s"] == pytest.approx(report.time_at_peak_s, rel=1e-12)
            assert row["compiler_estimate_s"] == module_estimate_s(report)
            assert row["chip"] == ("cpu" if target == "cpu" else target)
    # XLA:TPU's totals are its own cost analysis: the report's equal them.
    tpu = by[("GELU", "tpu-v5e")]
    assert tpu["compiler_estimate_s"] is not None and tpu["compiler_estimate_s"] > 0
    assert by[("GELU", "cpu")]["compiler_estimate_s"] is None


@needs_tpu
def test_table_cells_follow_from_the_rows(quick):
    rows = {(r["program"], r["target"]): r for r in quick["rows"]}
    for cell in quick["table"]:
        row = rows[(cell["program"], cell["target"])]
        cpu = rows[(cell["program"], "cpu")]
        assert cell["MiB"] * 2**20 == row["bytes"]
        assert cell["GFLOP"] * 1e9 == pytest.approx(row["flops"], rel=1e-12)
        assert cell["FLOP/B"] == pytest.approx(row["flops"] / row["bytes"], rel=1e-12)
        assert cell["t@peak us"] == pytest.approx(row["time_at_peak_s"] * 1e6, rel=1e-12)
        assert cell["bytes vs cpu"] == pytest.approx(row["bytes"] / cpu["bytes"], rel=1e-12)
        assert cell["kernels"] == sum(row["kinds"].values())
    # GELU (tanh) does more arithmetic per element than Swish: more fused instructions, more FLOPs.
    gelu, swish = rows[("GELU", "cpu")], rows[("Swish", "cpu")]
    assert gelu["fused_ops"] > swish["fused_ops"] > 0 and gelu["flops"] > swish["flops"]


@needs_tpu
def test_the_figure_plots_the_table(quick):
    fig = study.plot(quick["table"])
    try:
        values = study.plotted(fig)
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)
    for column, *_ in study.PANELS:
        for target in study.QUICK_TARGETS:
            expected = [r[column] for r in quick["table"] if r["target"] == target]
            assert values[f"{column}|{target}"] == pytest.approx(expected, rel=1e-12), (column, target)
    expected = [r["compiler us"] for r in quick["table"] if r["target"] == "tpu-v5e"]
    assert values["compiler us|tpu-v5e"] == pytest.approx(expected, rel=1e-12)


def test_fused_ops_open_nested_fusions():
    from irscope.ir.hlo_parser import parse_module
    from irscope.passes.fusion import find_kernels

    text = """HloModule m

inner {
  p0 = f32[8]{0} parameter(0)
  ROOT e = f32[8]{0} exponential(p0)
}

outer {
  p0 = f32[8]{0} parameter(0)
  f = f32[8]{0} fusion(p0), kind=kLoop, calls=inner
  ROOT n = f32[8]{0} negate(f)
}

ENTRY main {
  x = f32[8]{0} parameter(0)
  ROOT k = f32[8]{0} fusion(x), kind=kOutput, calls=outer
}
"""
    module = parse_module(text)
    (kernel,) = find_kernels(module)
    assert study.fused_ops(module, kernel) == 2  # exponential, negate
    assert study.kernel_label(kernel) == "kOutput"
    assert study.describe_kinds({"kLoop": 3, "copy-start": 3, "kOutput": 5, "a": 1, "b": 1}, limit=3) == \
        "5 kOutput, 3 copy-start, 3 kLoop, 2 other"


def test_widened_transformer_keeps_the_tree():
    import jax

    example = study._example("transformer.py")
    wide = study.widened_params(example, 512, 256)
    base = jax.eval_shape(example.init_params, jax.random.key(0))
    assert jax.tree.structure(wide) == jax.tree.structure(base)
    assert wide["layers"][0]["qkv"].shape == (512, 1536) and wide["layers"][0]["fc"].shape == (512, 2048)
    assert wide["pos"].shape == (256, 512) and wide["embed"].shape == (example.VOCAB, 512)
    with pytest.raises(ValueError, match="heads"):
        study.widened_params(example, 510, 256)


def test_a_missing_extra_is_one_line_and_writes_nothing(tmp_path, monkeypatch, capsys):
    real = T.extra_installed
    monkeypatch.setattr(T, "extra_installed", lambda chip: chip.platform != "tpu" and real(chip))
    with pytest.raises(T.TargetUnavailable, match=r"pip install 'irscope\[tpu\]'"):
        study.run(tmp_path / "a", quick=True)
    assert main(["figures", "targets", "--quick", "--out", str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pip install 'irscope[tpu]'" in err[0], err
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_registered():
    assert "targets" in STUDIES and study.TITLE and callable(study.run)
