"""The operator-fusion case study: its static figures, its summary, and `irscope figures fusion`.

No timing is asserted (the machine is shared); the sweep is the tiny `--quick` one.
"""

from __future__ import annotations

import json

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
    gelu = fusion.static_cost(fusion.gelu_tanh, n)
    assert gelu.kernels == 1 and gelu.fused_bytes == relu.fused_bytes
    assert gelu.unfused_bytes >= gelu.per_op_bytes > gelu.fused_bytes
    assert gelu.flops > relu.flops


def test_run_summary_and_figures(tmp_path, cpu_cache):
    summary = fusion.run(tmp_path / "figs", quick=True, exponents=(10,),
                         workloads=[fusion.WORKLOADS[0], fusion.WORKLOADS[3]])
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
        return {"workload": "w", "exponent": exponent, "eager_s": eager_s, "jit_s": jit_s, "eager_ops": 2,
                "eager_s_per_op": eager_s / 2, "time_ratio": eager_s / jit_s, "per_op_ratio": 3.0,
                "unfused_ratio": 4.0, "jit_bytes_per_s": 1e9, "jit_donated_bytes_per_s": 2e9}

    rows = [row(10, 1e-4, 1e-5), row(12, 1.5e-4, 1.2e-5), row(14, 5e-4, 3e-5), row(16, 2e-3, 1e-4)]
    machine = {"product": "Fake CPU", "jax": "0", "mem_bandwidth": 8e9, "peak_flops_f32": 1e11,
               "load_avg_before": 0.5, "load_avg_after": None}
    text = "\n".join(fusion.notes(rows, machine))
    assert "eager time within 2x of its 2^10 time up to 2^12, JIT up to 2^12" in text
    assert "at 2^16: time ratio 20.00, per-op byte ratio 3.00" in text
    assert "load average 0.50 before, ? after" in text
    cells = fusion.table_row({**row(16, 2e-3, 1e-4), "eager_bytes_per_s": 1e9}, 8e9)
    assert cells["n"] == "2^16" and cells["jit % BW"] == "12%"


def test_figures_command_writes_the_three_files(tmp_path, cpu_cache, capsys):
    out = tmp_path / "figures"
    assert main(["figures", "fusion", "--quick", "--out", str(out)]) == 0
    for name in ("fusion_low.png", "fusion_medium.png", "fusion_high.png"):
        assert (out / name).read_bytes()[:8] == PNG
    stdout, stderr = capsys.readouterr()
    header = stdout.splitlines()[0]
    assert header.split()[:3] == ["workload", "n", "ops"]
    assert {"relu", "gelu", "swish", "chain24"} <= {line.split()[0] for line in stdout.splitlines()[2:10]}
    assert "fusion study" in stderr  # the progress bar
