"""Every case study writes the table it prints and plots, `<out>/<NAME>.csv`, and its summary, `<out>/<NAME>.json`,
with no code of its own (the CLI does it); and the quantization figure is drawn from ratios to fp32.

The quantization run is the real `--quick` one (a tiny Keras CNN through TensorFlow's converter and LiteRT);
no timing is asserted.
"""

from __future__ import annotations

import csv
import json
import types

import pytest

from irscope.cli import figures as figures_cli
from irscope.cli.main import main
from irscope.studies import common


def _csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_any_study_gets_its_table_and_summary_written(tmp_path, monkeypatch, capsys):
    """A study added later (here a stand-in) needs nothing but `run` returning a summary with a `table`."""
    table = [{"config": "a", "ratio": 0.5, "kernels": 3, "ops": ["dot", "add"]},
             {"config": "b", "ratio": 1.25, "note": None, "extra": "only here"}]

    def run(out_dir, *, quick, progress):
        return {"study": "newcomer", "table": table, "notes": ["b is 2.5x a"], "rows": [{"x": 1}]}

    study = types.SimpleNamespace(TITLE="a study added later", run=run)
    monkeypatch.setattr(figures_cli, "_available", lambda: {"newcomer": study})
    out = tmp_path / "out"
    assert main(["figures", "newcomer", "--out", str(out)]) == 0
    written = json.loads((out / "newcomer.json").read_text())
    assert written["schema"] == common.SUMMARY_SCHEMA and written["name"] == "newcomer"
    assert written["table"] == table and written["notes"] == ["b is 2.5x a"] and written["rows"] == [{"x": 1}]
    lines = _csv(out / "newcomer.csv")
    assert list(lines[0]) == ["config", "ratio", "kernels", "ops", "note", "extra"]  # the union, first-seen order
    assert lines[0] == {"config": "a", "ratio": "0.5", "kernels": "3", "ops": '["dot", "add"]', "note": "",
                        "extra": ""}
    assert lines[1]["ratio"] == "1.25" and lines[1]["note"] == "" and lines[1]["extra"] == "only here"
    stdout = capsys.readouterr().out
    assert stdout.splitlines()[-1] == "b is 2.5x a"

    # --json - puts the same summary on stdout instead of the table; the files are still written.
    (out / "newcomer.csv").unlink()
    assert main(["figures", "newcomer", "--out", str(out), "--json", "-"]) == 0
    assert json.loads(capsys.readouterr().out) == written
    assert (out / "newcomer.csv").exists()


def test_an_empty_table_is_a_header_less_csv():
    assert common.table_csv([]) == "\n"


@pytest.fixture(scope="module")
def quantization_quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("quantization")
    assert main(["figures", "quantization", "--quick", "--out", str(out)]) == 0
    return out, json.loads((out / "quantization.json").read_text())


def test_quantization_figure_is_drawn_from_ratios_to_fp32(quantization_quick):
    out, summary = quantization_quick
    assert (out / "quantization.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = summary["rows"]
    assert {r["mode"] for r in rows} == {"fp32", "int8"}
    fp32 = {r["model"]: r for r in rows if r["mode"] == "fp32"}
    for r, cells in zip(rows, summary["table"], strict=True):
        base = fp32[r["model"]]
        assert r["size_ratio"] == r["size_bytes"] / base["size_bytes"]
        assert r["latency_ratio_1t"] == r["latency_s"]["1"] / base["latency_s"]["1"]
        assert cells["size/fp32"] == f"{r['size_bytes'] / base['size_bytes']:.3f}"
        assert cells["1T/fp32"] == f"{r['latency_s']['1'] / base['latency_s']['1']:.2f}"
    int8 = next(r for r in rows if r["mode"] == "int8")
    assert 0 < int8["size_ratio"] < 1  # int8 weights: smaller, on the figure's linear axis from 0
    assert f"int8/fp32 over 1 model: size {int8['size_ratio']:.3f}" in "\n".join(summary["notes"])
    assert _csv(out / "quantization.csv") == [{k: str(v) for k, v in row.items()} for row in summary["table"]]
