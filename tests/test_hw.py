"""Hardware table, roofline placement, the CPU probe and its cache, and `irscope hw`.

No test depends on how fast this machine is: the probe runs at tiny sizes and only its figures'
signs are checked; cache and CLI tests use a fake measurement.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from irscope import hw
from irscope.cli import hw as cli_hw
from irscope.ir.hlo import DTYPE_BYTES
from irscope.measure import probe
from irscope.passes.roofline import RooflinePoint, place

STATIC = [hw.get_chip(n) for n in hw.list_chips() if n != "cpu"]
TINY = probe.ProbeConfig(
    array_bytes=1 * probe.MIB, bw_repeats=2, xla_repeats=2, matmul_n=64, matmul_n_f64=32,
    matmul_repeats=2, chunk_bytes=64 * 1024,
)


def fake_result(cpu: str = "Fake CPU", triad: float = 20e9) -> probe.ProbeResult:
    return probe.ProbeResult(
        cpu_model=cpu, vendor="AMD", cores=2, threads=2, jax_version="0.0", numpy_version="0.0",
        measured_at="2025-01-02T03:04:05+00:00", mem_total=8 * 2**30, load_avg=0.1,
        copy_bw=25e9, triad_bw=triad, triad_bw_xla=10e9, matmul_flops_f32=100e9, matmul_flops_f64=50e9,
        config=TINY.resolved(), elapsed_s=0.5,
        samples={"copy_bw": (25e9, 24e9), "triad_bw": (triad, triad / 2), "triad_bw_xla": (10e9,),
                 "matmul_flops_f32": (100e9, 90e9), "matmul_flops_f64": (50e9,)},
    )


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("IRSCOPE_CACHE_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture
def fake_measure(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[probe.ProbeConfig | None]]:
    """Replace the measurement with a fake; the list records each call's config."""
    calls: list[probe.ProbeConfig | None] = []

    def measure(config: probe.ProbeConfig | None = None, progress: object = None) -> probe.ProbeResult:
        calls.append(config)
        return fake_result(cpu=probe.cpu_model())

    monkeypatch.setattr(probe, "measure", measure)
    yield calls


# --- The table ------------------------------------------------------------------------------------

def test_every_number_has_a_source() -> None:
    known = set(DTYPE_BYTES) | {"tf32", "f8"}
    for chip in STATIC:
        assert set(chip.peak_flops) <= known, chip.name
        for key in chip.source_keys():
            assert chip.sources.get(key, "").strip(), f"{chip.name}: no source for {key}"
        assert all(v > 0 for v in chip.peak_flops.values())
        assert chip.mem_bandwidth > 0 and chip.mem_capacity > 0
        assert chip.vendor and chip.product


def test_vendor_figures() -> None:
    h100, h200, a100, tpu = (hw.get_chip(n) for n in ("h100", "h200", "a100", "tpu-v5e"))
    assert h100.mem_bandwidth == 3.35e12 and h200.mem_bandwidth == 4.8e12 and a100.mem_bandwidth == 2.039e12
    assert h100.peak_flops["f32"] == 67e12 and h100.peak_flops["tf32"] == pytest.approx(494.5e12)
    assert h200.peak_flops == h100.peak_flops  # same GH100 compute
    assert h200.mem_capacity > h100.mem_capacity == a100.mem_capacity
    assert a100.peak_flops["f32"] == 19.5e12 and a100.peak_flops["bf16"] == 312e12
    assert tpu.peak_flops["bf16"] == 197e12 and tpu.peak_flops["s8"] == 393e12
    assert tpu.mem_bandwidth == 819e9 and tpu.mem_capacity == 16 * 2**30
    # Dense, not sparse: no Hopper bf16 figure near the datasheet's 1,979 "with sparsity".
    assert h100.peak_flops["bf16"] < 1000e12
    for chip in (h100, h200, a100):
        assert "non-tensor" in chip.notes and "tf32" in chip.notes


def test_ridge_points_are_sane() -> None:
    for chip in STATIC:
        for dtype in ("f32", "bf16", "s8"):
            assert 1 < hw.ridge_point(chip, dtype) < 2000, (chip.name, dtype)
    h100 = hw.get_chip("h100")
    assert hw.ridge_point(h100, "bf16") == pytest.approx(989.5 / 3.35)
    assert hw.ridge_point(h100, "bf16") > hw.ridge_point(h100, "tf32") > hw.ridge_point(h100, "f32")
    # More bandwidth, same compute: a lower ridge.
    assert hw.ridge_point(hw.get_chip("h200"), "bf16") < hw.ridge_point(h100, "bf16")


@pytest.mark.parametrize(("alias", "name"), [
    ("H100", "h100"), (" h100-sxm ", "h100"), ("H100-SXM5", "h100"), ("h200-sxm", "h200"),
    ("A100-SXM4", "a100"), ("v5e", "tpu-v5e"), ("TPU-V5E", "tpu-v5e"), ("tpu_v5e", "tpu-v5e"),
])
def test_aliases(alias: str, name: str) -> None:
    assert hw.get_chip(alias).name == name
    assert hw.canonical_name(alias) == name


def test_unknown_chip_message() -> None:
    with pytest.raises(ValueError) as e:
        hw.get_chip("mi300x")
    known = "a100, h100, h200, b200, tpu-v4, tpu-v5e, tpu-v5p, tpu-v6e, cpu"
    assert str(e.value) == f"unknown chip: 'mi300x'; known: {known}"
    assert hw.list_chips() == tuple(known.split(", "))


@pytest.mark.parametrize(("chip", "dtype", "used"), [
    ("h100", "f32", "f32"), ("h100", "tf32", "tf32"), ("h100", "f8e4m3fn", "f8"), ("h100", "f8e5m2", "f8"),
    ("a100", "f8e4m3fn", "bf16"), ("h100", "u8", "s8"), ("h100", "s4", "s8"), ("h100", "s32", "f32"),
    ("h100", "pred", "f32"), ("h100", "c64", "f32"), ("h100", "c128", "f64"), ("h100", "f16", "f16"),
    ("tpu-v5e", "f32", "bf16"), ("tpu-v5e", "f64", "bf16"), ("tpu-v5e", "f16", "bf16"), ("tpu-v5e", "s8", "s8"),
])
def test_peak_flops_fallbacks(chip: str, dtype: str, used: str) -> None:
    c = hw.get_chip(chip)
    assert hw.peak_dtype_for(c, dtype) == used
    assert hw.peak_flops_for(c, dtype) == c.peak_flops[used]


def test_unknown_dtype() -> None:
    with pytest.raises(ValueError, match="unknown dtype: 'float32'"):
        hw.peak_flops_for(hw.get_chip("h100"), "float32")


def test_chip_is_a_checked_value() -> None:
    h100 = hw.get_chip("h100")
    with pytest.raises(TypeError):
        h100.peak_flops["f32"] = 1.0  # type: ignore[index]
    assert hash(h100) == hash(hw.get_chip("H100"))
    with pytest.raises(ValueError, match="no source for peak_flops.bf16"):
        hw.Chip("x", "X", {"f32": 1e12, "bf16": 2e12}, 1e12, 1e9,
                {"peak_flops.f32": "a", "mem_bandwidth": "b", "mem_capacity": "c"})
    with pytest.raises(ValueError, match="f32 or bf16"):
        hw.Chip("x", "X", {"s8": 1e12}, 1e12, 1e9, {"peak_flops.s8": "a", "mem_bandwidth": "b", "mem_capacity": "c"})
    for chip in STATIC:
        json.dumps(chip.to_json(), allow_nan=False)


# --- Roofline -------------------------------------------------------------------------------------

def test_memory_and_compute_bound_on_either_side_of_the_ridge() -> None:
    h100 = hw.get_chip("h100")
    ridge = hw.ridge_point(h100, "bf16")
    nbytes = 1e9
    low = place(0.5 * ridge * nbytes, nbytes, h100, "bf16")
    assert low.bound == "memory" and low.intensity < low.ridge_point
    assert low.time_at_peak_s == pytest.approx(nbytes / 3.35e12) == low.memory_time_s
    high = place(2 * ridge * nbytes, nbytes, h100, "bf16")
    assert high.bound == "compute" and high.intensity > high.ridge_point
    assert high.time_at_peak_s == high.compute_time_s == pytest.approx(2 * ridge * nbytes / h100.peak_flops["bf16"])
    assert high.fraction_of_peak_flops == 1.0 and low.fraction_of_peak_flops == pytest.approx(0.5)


def test_zero_bytes_zero_flops_and_no_work() -> None:
    a100 = hw.get_chip("a100")
    no_bytes = place(1e9, 0, a100)
    assert no_bytes.bound == "compute" and math.isinf(no_bytes.intensity)
    assert no_bytes.time_at_peak_s == 1e9 / 19.5e12 and no_bytes.to_json()["intensity"] is None
    no_flops = place(0, 4096, a100)
    assert no_flops.bound == "memory" and no_flops.intensity == 0.0
    nothing = place(0, 0, a100)
    assert nothing.bound == "n/a" and nothing.time_at_peak_s == 0.0 and math.isnan(nothing.intensity)
    json.dumps(nothing.to_json(), allow_nan=False)


def test_place_records_the_fallback_and_rejects_bad_input() -> None:
    tpu = hw.get_chip("tpu-v5e")
    p = place(1e12, 1e9, tpu, "f32")
    assert (p.dtype, p.peak_dtype, p.peak_flops, p.chip) == ("f32", "bf16", 197e12, "tpu-v5e")
    assert p.to_json()["bound"] == p.bound
    for flops, nbytes in ((-1, 0), (0, -1), (math.nan, 1), (1, math.inf)):
        with pytest.raises(ValueError):
            place(flops, nbytes, tpu)


def test_docstring_example() -> None:
    p = place(2 * 4096**3, 3 * 4096**2 * 2, hw.get_chip("h100"), "bf16")
    assert (p.bound, round(p.intensity)) == ("compute", 1365)


work = st.floats(min_value=0, max_value=1e20, allow_nan=False, allow_infinity=False)


@settings(deadline=None)  # a pure function; a stall on a busy machine must not fail the test
@given(flops=work, nbytes=work, chip=st.sampled_from(STATIC),
       dtype=st.sampled_from(["f32", "bf16", "f16", "s8", "f64", "tf32", "f8e4m3fn", "s32"]))
def test_time_at_peak_bounds_both_partial_times(flops: float, nbytes: float, chip: hw.Chip, dtype: str) -> None:
    p: RooflinePoint = place(flops, nbytes, chip, dtype)
    assert p.time_at_peak_s >= p.compute_time_s and p.time_at_peak_s >= p.memory_time_s
    assert p.time_at_peak_s in (p.compute_time_s, p.memory_time_s)
    # The bound names the larger time (up to an ulp of rounding right at the ridge).
    if p.bound == "memory":
        assert math.isclose(p.time_at_peak_s, p.memory_time_s, rel_tol=1e-12)
        assert p.intensity <= p.ridge_point * (1 + 1e-9)
    elif p.bound == "compute":
        assert math.isclose(p.time_at_peak_s, p.compute_time_s, rel_tol=1e-12)
        assert p.intensity >= p.ridge_point * (1 - 1e-9)
    else:
        assert flops == nbytes == 0


# --- The probe and its cache ------------------------------------------------------------------------

def test_probe_measures_positive_figures_at_tiny_sizes() -> None:
    import jax

    messages: list[str] = []
    r = probe.measure(TINY, progress=messages.append)
    for figure in ("copy_bw", "triad_bw", "triad_bw_xla", "matmul_flops_f32"):
        value = getattr(r, figure)
        assert math.isfinite(value) and value > 0, figure
        assert len(r.samples[figure]) == 2 and max(r.samples[figure]) == value
        assert 0 < r.median(figure) <= value
    assert r.matmul_flops_f64 is not None and r.matmul_flops_f64 > 0
    assert not jax.config.jax_enable_x64  # the f64 matmul's x64 mode stays scoped
    assert r.config.array_bytes == probe.MIB and r.config.threads >= 1
    assert r.cores >= 1 and r.cpu_model and r.measured_at.endswith("+00:00")
    assert len(messages) == 5
    assert probe.ProbeResult.from_json(json.loads(json.dumps(r.to_json()))) == r


def test_default_arrays_exceed_the_cache() -> None:
    cfg = probe.ProbeConfig().resolved()
    assert cfg.array_bytes >= 64 * probe.MIB
    assert cfg.array_bytes >= 4 * probe.usable_llc_bytes() or cfg.array_bytes >= probe.total_memory() // 16
    assert cfg.threads == probe.usable_cores()


def test_cache_round_trip(cache_dir: Path, fake_measure: list[object]) -> None:
    first = probe.load_or_measure(config=TINY)
    assert len(fake_measure) == 1
    data = json.loads((cache_dir / "cpu_probe.json").read_text())
    assert data["schema"] == "irscope.cpu-probe/1" and len(data["entries"]) == 1
    assert data["entries"][0]["key"]["cpu_model"] == probe.cpu_model()
    assert data["entries"][0]["key"]["jax_version"] == probe._jax_version()
    again = probe.load_or_measure(config=TINY)
    assert len(fake_measure) == 1 and again == first
    assert [p.name for p in cache_dir.iterdir()] == ["cpu_probe.json"]  # no temporary left behind


def test_cache_is_keyed_and_invalidated(
    cache_dir: Path, fake_measure: list[object], monkeypatch: pytest.MonkeyPatch
) -> None:
    probe.load_or_measure(config=TINY)
    probe.load_or_measure(config=TINY, force=True)
    assert len(fake_measure) == 2
    monkeypatch.setattr(probe, "cpu_model", lambda: "Another CPU")
    assert probe.load_or_measure(config=TINY).cpu_model == "Another CPU"
    assert len(fake_measure) == 3
    monkeypatch.setattr(probe, "_jax_version", lambda: "99.0")
    probe.load_or_measure(config=TINY)
    monkeypatch.setattr(probe, "usable_cores", lambda: 64)
    probe.load_or_measure(config=TINY)
    probe.load_or_measure(config=TINY)  # now cached under the new key
    assert len(fake_measure) == 5
    # Other settings are another key, and every key keeps its own entry.
    probe.load_or_measure(config=probe.ProbeConfig(array_bytes=2 * probe.MIB))
    assert len(fake_measure) == 6
    assert len(json.loads((cache_dir / "cpu_probe.json").read_text())["entries"]) == 5


def test_corrupt_or_foreign_cache_is_remeasured(cache_dir: Path, fake_measure: list[object]) -> None:
    path = cache_dir / "cpu_probe.json"
    for text in ("{not json", json.dumps({"schema": "something-else/9", "entries": []}), "[]"):
        path.write_text(text)
        probe.load_or_measure(config=TINY)
        assert json.loads(path.read_text())["schema"] == probe.CACHE_SCHEMA
    assert len(fake_measure) == 3


def test_unwritable_cache_warns_and_still_returns(tmp_path: Path, fake_measure: list[object]) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.warns(RuntimeWarning, match="could not write the cache"):
        r = probe.load_or_measure(config=TINY, path=blocker / "cpu_probe.json")
    assert r.triad_bw > 0


def test_cache_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("IRSCOPE_CACHE_DIR", str(tmp_path))
    assert probe.cache_path() == tmp_path / "cpu_probe.json"
    monkeypatch.delenv("IRSCOPE_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert probe.cache_path() == tmp_path / "xdg" / "irscope" / "cpu_probe.json"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert probe.cache_path() == Path.home() / ".cache" / "irscope" / "cpu_probe.json"


def test_cpu_chip_from_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    result = fake_result(triad=12.5e9)
    monkeypatch.setattr(probe, "load_or_measure", lambda **kw: result)
    cpu = hw.get_chip("CPU")
    assert cpu.name == "cpu" and cpu.mem_bandwidth == 12.5e9
    assert cpu.peak_flops == {"f32": 100e9, "f64": 50e9}
    assert cpu.sources["mem_bandwidth"].startswith("measured by irscope's probe on 2025-01-02")
    assert "triad" in cpu.sources["mem_bandwidth"]
    assert hw.peak_dtype_for(cpu, "bf16") == "f32"
    assert place(1e9, 1e9, cpu).bound == "memory"


# --- irscope hw -------------------------------------------------------------------------------------

def run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="irscope")
    cli_hw.add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["hw", *argv])
    return int(args.func(args))


def test_cli_json_one_chip_does_not_probe(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_probe(**kw: object) -> probe.ProbeResult:
        raise AssertionError("probe ran")

    monkeypatch.setattr(probe, "load_or_measure", no_probe)
    assert run_cli("--chip", "H100-SXM", "--json", "-") == 0
    out = capsys.readouterr()
    doc = json.loads(out.out)
    assert doc["schema"] == "irscope.hw-report/1"
    assert [c["name"] for c in doc["chips"]] == ["h100"]
    assert doc["chips"][0]["sources"]["mem_bandwidth"].startswith("NVIDIA H100")
    assert doc["chips"][0]["ridge_point_f32"] == pytest.approx(67 / 3.35)
    assert "cpu_probe" not in doc and out.err == ""


def test_cli_all_chips_probes_once(
    capsys: pytest.CaptureFixture[str], cache_dir: Path, fake_measure: list[object]
) -> None:
    assert run_cli("--json", "-") == 0
    out = capsys.readouterr()
    doc = json.loads(out.out)
    assert [c["name"] for c in doc["chips"]] == list(hw.list_chips())
    assert doc["cpu_probe"]["triad_bw"] == doc["chips"][-1]["mem_bandwidth"]
    assert "measuring this CPU" in out.err
    assert run_cli() == 0  # cached now: no progress, a table on stdout
    out = capsys.readouterr()
    assert out.err == "" and len(fake_measure) == 1
    for name in hw.list_chips():
        assert f"\n{name} " in out.out
    assert "cpu probe: " in out.out and "<- cpu bandwidth" in out.out
    assert run_cli("--chip", "cpu", "--remeasure", "--sources") == 0
    assert len(fake_measure) == 2
    assert "measured by irscope's probe on" in capsys.readouterr().out


def test_cli_json_to_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    dest = tmp_path / "hw.json"
    assert run_cli("--chip", "tpu-v5e", "--json", str(dest)) == 0
    assert json.loads(dest.read_text())["chips"][0]["ridge_point_f32_uses"] == "bf16"
    out = capsys.readouterr().out
    assert "tpu-v5e" in out and "240.5*" in out


def test_cli_user_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert run_cli("--chip", "mi300x") == 2
    out = capsys.readouterr()
    assert out.out == ""
    assert out.err == f"irscope hw: error: unknown chip: 'mi300x'; known: {', '.join(hw.list_chips())}\n"
    (tmp_path / "a-file").write_text("")
    assert run_cli("--chip", "h100", "--json", str(tmp_path / "a-file" / "x.json")) == 2
    out = capsys.readouterr()
    assert out.out == "" and len(out.err.splitlines()) == 1
    assert out.err.startswith(f"irscope hw: error: cannot write {tmp_path}")
