"""The operator-fusion case study: its static figures, its summary, and `irscope figures fusion`.

No timing is asserted (the machine is shared); the sweep is the tiny `--quick` one.
"""

from __future__ import annotations

import csv
import json
import math

import jax
import jax.numpy as jnp
import pytest
from fake_cpu import fake_probe_result

from irscope.cli.main import main
from irscope.measure import probe
from irscope.studies import fusion

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def cpu_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("IRSCOPE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(probe, "measure", lambda config=None, progress=None: fake_probe_result())


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """`irscope figures fusion --quick` once for the module: (out dir, stdout, stderr, summary JSON)."""
    tmp = tmp_path_factory.mktemp("fusion")
    out = tmp / "figures"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("IRSCOPE_CACHE_DIR", str(tmp / "cache"))
        mp.setattr(probe, "measure", lambda config=None, progress=None: fake_probe_result())
        code = main(["figures", "fusion", "--quick", "--out", str(out), "--json", str(tmp / "given.json")])
    assert code == 0
    return out, json.loads((tmp / "given.json").read_text())


def test_per_op_traffic_counts_what_eager_moves():
    x = jax.ShapeDtypeStruct((1024,), jnp.float32)
    assert fusion.per_op_traffic(fusion.relu, x) == (1, 2 * 4096.0)  # read x, write max(x, 0)
    ops, nbytes = fusion.per_op_traffic(fusion.chain24, x)
    assert ops == 24 and nbytes == 24 * 2 * 4096.0  # each op one read and one write; scalars are literals
    ops, _ = fusion.per_op_traffic(fusion.gelu_tanh, x)
    assert ops == 8
    assert fusion.per_op_traffic(fusion.swish, x)[0] == 4


def test_static_cost_from_the_passes():
    n = 2**10
    relu = fusion.static_cost(fusion.relu, n)
    assert relu.kernels == 1 and relu.eager_ops == 1
    assert relu.fused_bytes == 2 * 4 * n  # one fused kernel: read x, write y
    assert relu.unfused_bytes > relu.fused_bytes  # the unfused HLO materializes the broadcast 0
    assert relu.transcendentals == 0
    gelu = fusion.static_cost(fusion.gelu_tanh, n)
    assert gelu.kernels == 1 and gelu.fused_bytes == relu.fused_bytes
    assert gelu.transcendentals == n  # one tanh per element, XLA's count
    assert fusion.static_cost(fusion.chain24, n).transcendentals == 6 * n
    assert gelu.unfused_bytes >= gelu.per_op_bytes > gelu.fused_bytes
    assert gelu.flops > relu.flops


def test_run_summary_and_figures(tmp_path, cpu_cache):
    summary = fusion.run(tmp_path / "figs", quick=True, exponents=(10,),
                         workloads=[fusion.WORKLOADS[0], fusion.WORKLOADS[3]], targets=())
    assert [p.rsplit("/", 1)[-1] for p in summary["figures"]] == ["fusion_low.png", "fusion_high.png"]
    for path in summary["figures"]:
        with open(path, "rb") as f:
            assert f.read(8) == PNG
    rows = summary["rows"]
    assert [r["workload"] for r in rows] == ["relu", "chain24"]
    for r in rows:
        assert r["eager_s"] > 0 and r["jit_s"] > 0 and r["jit_donated_s"] > 0
        assert r["time_ratio"] > 0 and r["fused_bytes"] > 0 and r["per_op_ratio"] >= 1
    assert len(summary["table"]) == 2 and summary["notes"]
    assert summary["machine"]["chip"] == "cpu"
    json.dumps(summary)


def test_notes_find_where_overhead_dominates():
    def row(exponent, eager_s, jit_s):
        return {"workload": "w", "exponent": exponent, "elements": 2**exponent, "eager_s": eager_s, "jit_s": jit_s,
                "eager_ops": 2, "eager_s_per_op": eager_s / 2, "time_ratio": eager_s / jit_s, "per_op_ratio": 3.0,
                "unfused_ratio": 4.0, "jit_bytes_per_s": 1e9, "jit_donated_bytes_per_s": 2e9,
                "eager_bytes_per_s": 1.5e9, "eager_effective_bytes_per_s": 0.5e9,
                "transcendentals": 0.0, "transcendental_bound_bytes_per_s": None}

    rows = [row(10, 1e-4, 1e-5), row(12, 1.5e-4, 1.2e-5), row(14, 5e-4, 3e-5), row(16, 2e-3, 1e-4)]
    machine = {"product": "Fake CPU", "jax": "0", "mem_bandwidth": 8e9, "copy_bandwidth": 10e9,
               "peak_flops_f32": 1e11, "transcendentals_per_s": {}, "load_avg_before": 0.5, "load_avg_after": None}
    text = "\n".join(fusion.notes(rows, machine))
    assert "eager time within 2x of its 2^10 time up to 2^12, JIT up to 2^12" in text
    assert "at 2^16: time ratio 20.00, per-op byte ratio 3.00" in text
    assert "speed-up (eager/jit time) 10.00x at 2^10, 20.00x at most (2^16), 20.00x at 2^16" in text
    assert "JIT is faster at every size" in text
    assert "JIT 1.00 GB/s = 10% of its ceiling (copy bandwidth)" in text
    assert "load average 0.50 before, ? after" in text
    cells = fusion.table_row(row(16, 2e-3, 1e-4), machine)
    assert cells["n"] == "2^16" and cells["jit % ceiling"] == "10%" and cells["ceiling"] == "copy"
    assert cells["speed-up"] == 20.0


def test_crossings_interpolate_where_the_speed_up_passes_one():
    def rows(*ratios):
        return [{"workload": "w", "exponent": 10 + 2 * i, "time_ratio": r} for i, r in enumerate(ratios)]

    assert fusion.crossings(rows(2.0, 1.5, 0.5, 0.25)) == {"w": [round(12 + math.log(1.5) / math.log(3.0) * 2, 1)]}
    assert fusion.crossings(rows(3.0, 2.0, 1.1)) == {"w": []}
    assert fusion.crossings(rows(0.5, 2.0, 0.5)) == {"w": [11.0, 13.0]}  # symmetric on the log scale
    assert fusion.crossings(rows(2.0, 1.0, 0.5)) == {"w": [12.0]}


def test_transcendental_ceiling():
    row = {"fused_bytes": 8.0 * 1024, "transcendentals": 6.0 * 1024}
    chain = fusion.WORKLOADS[3]
    assert chain.roof_key == "tanh x6" and fusion.WORKLOADS[0].roof_key is None
    assert fusion._transcendental_bound(row, chain, {"tanh x6": 1.2e9}) == pytest.approx(1.2e9 / 6 * 8)
    assert fusion._transcendental_bound(row, fusion.WORKLOADS[0], {"tanh x6": 1.2e9}) is None
    machine = {"copy_bandwidth": 10e9}
    assert fusion.ceiling({"transcendental_bound_bytes_per_s": 1.6e9}, machine) == ("transcendentals", 1.6e9)
    assert fusion.ceiling({"transcendental_bound_bytes_per_s": 16e9}, machine) == ("copy", 10e9)
    assert fusion.ceiling({"transcendental_bound_bytes_per_s": None}, machine) == ("copy", 10e9)


def test_plotted_data_is_the_ratios_it_claims(quick_run):
    """The figure's series: speed-up = eager time / JIT time, effective bandwidth = the fused program's bytes /
    each mode's time, the tanh/exp ceiling = rate x fused bytes / transcendentals; the table quotes them."""
    _, summary = quick_run
    rates = summary["machine"]["transcendentals_per_s"]
    assert set(rates) == {"tanh x1", "exp x1", "tanh x6"} and all(rate > 0 for rate in rates.values())
    by_name = {w.name: w for w in fusion.WORKLOADS}
    table = {(t["workload"], t["n"]): t for t in summary["table"]}
    assert set(table) == {(r["workload"], f"2^{r['exponent']}") for r in summary["rows"]}
    for r in summary["rows"]:
        assert r["time_ratio"] == pytest.approx(r["eager_s"] / r["jit_s"], rel=1e-12)
        assert r["eager_effective_bytes_per_s"] == pytest.approx(r["fused_bytes"] / r["eager_s"], rel=1e-12)
        assert r["jit_bytes_per_s"] == pytest.approx(r["fused_bytes"] / r["jit_s"], rel=1e-12)
        assert r["jit_donated_bytes_per_s"] == pytest.approx(r["fused_bytes"] / r["jit_donated_s"], rel=1e-12)
        assert r["eager_bytes_per_s"] == pytest.approx(r["per_op_bytes"] / r["eager_s"], rel=1e-12)
        workload = by_name[r["workload"]]
        assert r["transcendentals"] == workload.per_element * r["elements"]  # XLA's count: the roof is the right one
        if workload.roof_key is None:
            assert r["transcendental_bound_bytes_per_s"] is None
        else:
            expected = rates[workload.roof_key] * r["fused_bytes"] / r["transcendentals"]
            assert r["transcendental_bound_bytes_per_s"] == pytest.approx(expected, rel=1e-12)
        cells = table[(r["workload"], f"2^{r['exponent']}")]
        assert cells["speed-up"] == round(r["eager_s"] / r["jit_s"], 2)
        assert cells["eager eff GB/s"] == round(r["fused_bytes"] / r["eager_s"] / 1e9, 2)
        assert cells["jit eff GB/s"] == round(r["fused_bytes"] / r["jit_s"] / 1e9, 2)
    assert summary["crossings"] == fusion.crossings(summary["rows"])
    # Predicted accelerator times: an element-wise kernel's time at peak is its bytes over the bandwidth, so
    # 4x the elements is 4x the time (launch overhead is not modelled).
    small, large = (r for r in summary["rows"] if r["workload"] == "relu")
    from irscope.frontends import targets as T

    assert set(small["predicted_s"]) == {t for t in fusion.PREDICTED_TARGETS if T.extra_installed(T.CHIPS[t])}
    for target, seconds in small["predicted_s"].items():
        assert 0 < seconds < small["jit_s"]
        assert large["predicted_s"][target] == pytest.approx(4 * seconds, rel=1e-6)


def test_csv_is_the_json_table(quick_run):
    out, given = quick_run
    written = json.loads((out / "fusion.json").read_text())
    assert written == given and written["schema"] == "irscope.study-summary/1" and written["name"] == "fusion"
    with open(out / "fusion.csv", newline="") as f:
        lines = list(csv.DictReader(f))
    assert lines == [{k: str(v) for k, v in row.items()} for row in written["table"]]
    assert list(lines[0]) == list(written["table"][0])


def test_figures_command_writes_the_three_files(quick_run):
    out, summary = quick_run
    for name in ("fusion_low.png", "fusion_medium.png", "fusion_high.png"):
        assert (out / name).read_bytes()[:8] == PNG
    assert [t["workload"] for t in summary["table"]][::2] == ["relu", "gelu", "swish", "chain24"]
    assert list(summary["table"][0])[:3] == ["workload", "n", "ops"]


def test_figures_command_prints_the_table(tmp_path, cpu_cache, capsys, monkeypatch):
    def run(out_dir, *, quick, progress):
        return {"table": [{"workload": "w", "n": "2^10", "speed-up": 2.5}], "notes": ["w: speed-up 2.50x"]}

    monkeypatch.setattr(fusion, "run", run)
    assert main(["figures", "fusion", "--out", str(tmp_path)]) == 0
    stdout, stderr = capsys.readouterr()
    assert stdout.splitlines()[0].split() == ["workload", "n", "speed-up"]
    assert stdout.splitlines()[-1] == "w: speed-up 2.50x"
    assert "fusion.csv" in stderr
