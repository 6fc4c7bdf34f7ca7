"""Measured runtime: JIT/eager timing, profiler traces matched to kernels, and `--measure` in the report.

Structure, never speed: the machine is shared, so no test compares a time with a number or with
another time. What is checked is that medians are positive, that repeats are counted as asked, and
that every fusion XLA compiled is found in the profiler's trace.
"""

from __future__ import annotations

import functools
import json
from types import SimpleNamespace as NS

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import REPO
from fake_cpu import fake_probe_result

from irscope.cli.main import main
from irscope.frontends import model_file
from irscope.hw import get_chip
from irscope.ir.hlo_parser import parse_module
from irscope.measure import probe
from irscope.measure.timing import Timing, measure_function, random_inputs, time_call, unjit
from irscope.measure.trace import TraceEvent, gpu_kernel_name, match, profile_kernels, read_events
from irscope.passes.fusion import find_kernels
from irscope.passes.report import analyze, with_measurement

FUSION_KINDS = {"kLoop", "kInput", "kOutput", "kCustom"}


@pytest.fixture
def cpu_cache(tmp_path, monkeypatch):
    """`get_chip("cpu")` without running the probe: a fake result in a private cache."""
    monkeypatch.setenv("IRSCOPE_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(probe, "measure", lambda config=None, progress=None: fake_probe_result())


@pytest.fixture(scope="module")
def mlp():
    entry = model_file.load(REPO / "examples" / "mlp.py").examples()[0]
    module = parse_module(entry.lower().optimized)
    return entry, module


# --- Inputs and timing ---------------------------------------------------------------------------

def test_random_inputs_are_seeded_and_sensible():
    specs = [jax.ShapeDtypeStruct((64,), jnp.float32), jax.ShapeDtypeStruct((3, 5), jnp.int32),
             {"mask": jax.ShapeDtypeStruct((7,), jnp.bool_), "h": jax.ShapeDtypeStruct((4,), jnp.bfloat16)},
             jax.ShapeDtypeStruct((9,), jnp.uint8), 2.5]
    a = random_inputs(specs, seed=3)
    b = random_inputs(specs, seed=3)
    c = random_inputs(specs, seed=4)
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
    assert not np.array_equal(np.asarray(a[0]), np.asarray(c[0]))
    assert a[0].shape == (64,) and a[0].dtype == jnp.float32 and np.isfinite(np.asarray(a[0])).all()
    ints = np.asarray(a[1])
    assert a[1].dtype == jnp.int32 and ints.min() >= 0 and ints.max() < 8  # valid as small indices
    assert a[2]["mask"].dtype == jnp.bool_ and a[2]["h"].dtype == jnp.bfloat16
    assert a[3].dtype == jnp.uint8 and np.asarray(a[3]).max() < 8
    assert a[4] == 2.5  # a Python scalar passes through
    with pytest.raises(ValueError, match="int_range"):
        random_inputs(specs, int_range=(5, 5))


def test_time_call_counts_repeats_and_warmup():
    calls = []

    def call():
        calls.append(1)
        return jnp.ones(4)

    t = time_call(call, mode="jit", warmup=2, min_repeats=4, max_repeats=4, min_time_s=0, max_time_s=60)
    assert t.repeats == 4 and len(calls) == 6 and t.warmup == 2
    assert t.median_s > 0 and t.min_s <= t.median_s <= t.max_s
    lo, hi = t.quartiles_s
    assert t.min_s <= lo <= hi <= t.max_s and t.spread >= 0
    # A time cap stops early, but never below the floor of 3 timed calls.
    t = time_call(call, max_time_s=0.0, min_time_s=10.0, min_repeats=100, max_repeats=1000)
    assert t.repeats == 3
    assert set(t.to_json()) >= {"median_s", "p25_s", "p75_s", "min_s", "max_s", "repeats", "spread"}
    with pytest.raises(ValueError):
        Timing("jit", (), 0)


def test_unjit():
    def f(x, y):
        return x + y

    jf = jax.jit(f)
    assert unjit(jf) is f and unjit(f) is f
    p = unjit(functools.partial(jf, y=1.0))
    assert isinstance(p, functools.partial) and p.func is f and p.keywords == {"y": 1.0}


def test_measure_function_positive_medians():
    def f(x, w):
        return jnp.tanh(x @ w).sum()

    args = [jax.ShapeDtypeStruct((32, 16), jnp.float32), jax.ShapeDtypeStruct((16, 8), jnp.float32)]
    m = measure_function(f, args, repeats=3)
    assert m.jit is not None and m.eager is not None
    assert m.jit.repeats == 3 and m.eager.repeats == 3
    assert m.jit.median_s > 0 and m.eager.median_s > 0 and m.speedup is not None and m.speedup > 0
    assert m.backend == "cpu"
    doc = m.to_json()
    assert doc["jit_s"] == m.jit.median_s and doc["eager_s"] == m.eager.median_s and doc["repeats"] == 3
    only_jit = measure_function(jax.jit(f), args, eager=False, repeats=2)
    assert only_jit.eager is None and only_jit.speedup is None and only_jit.jit.repeats == 2
    with pytest.raises(ValueError):
        measure_function(f, args, repeats=0)


# --- Traces --------------------------------------------------------------------------------------

def test_every_mlp_fusion_is_matched_to_trace_events(mlp):
    entry, module = mlp
    kernels = find_kernels(module)
    fusions = [k for k in kernels if k.opcode == "fusion"]
    assert fusions and {k.instruction.attrs.get("kind", "kLoop") for k in fusions} <= FUSION_KINDS
    times = profile_kernels(entry.fn, entry.args, module, kernels, runs=3)
    assert times.module == "jit_mlp" and times.runs == 3
    for k in fusions:
        assert k.qualified_name in times.kernel_times, f"{k.qualified_name} has no trace event"
        kt = times.kernel_times[k.qualified_name]
        assert kt.median_s > 0 and kt.events_per_run >= 1 and kt.per_run == "run_id"
    assert times.matched_fraction == 1.0 and not times.unmatched_kernels
    assert all(e.reason for e in times.unmatched_events)  # listed with a reason, if there are any


def test_loop_body_kernels_are_matched_and_the_loop_is_a_container():
    def f(x):
        return jax.lax.fori_loop(0, 4, lambda i, c: jnp.tanh(c * 2.0 + 1.0), x)

    args = [jax.ShapeDtypeStruct((256,), jnp.float32)]
    module = parse_module(jax.jit(f).lower(*args).compile().as_text())
    kernels = find_kernels(module)
    times = profile_kernels(f, args, module, kernels, runs=2)
    loop = next(i for i in module.entry.instructions if i.opcode == "while")
    body = [k for k in kernels if k.computation == loop.attrs["body"].lstrip("%")]
    assert body and all(k.qualified_name in times.kernel_times for k in body)
    assert {times.kernel_times[k.qualified_name].events_per_run for k in body} == {4}  # once per iteration
    # XLA:CPU evaluates the condition without a trace event: its kernel is listed as unmatched.
    condition = [k.qualified_name for k in kernels if k.computation == loop.attrs["condition"].lstrip("%")]
    assert set(times.unmatched_kernels) <= set(condition)
    assert [c.reason for c in times.containers] == ["control flow"] * len(times.containers)
    loops = [i.name for i in module.entry.instructions if i.opcode == "while"]
    assert {c.name for c in times.containers} <= set(loops)


def _event(name, dur, *, run=None, op=None, module=None):
    return TraceEvent(name, 0.0, dur, op, module, run, "/device:GPU:0", "Stream #1")


def test_match_gpu_names_and_unmatched_events(mlp):
    _, module = mlp
    kernels = find_kernels(module)
    dotted = next(k for k in kernels if "." in k.name)  # ynn_fusion.2
    plain = next(k for k in kernels if "." not in k.name and k.opcode == "fusion")
    under = gpu_kernel_name(dotted.name)
    assert "." not in under
    events = [
        _event(under, 1000, run=1), _event(under + "_1", 500, run=1),  # one fusion, two GPU kernels
        _event(under, 2000, run=2), _event(under + "_1", 1000, run=2),
        _event(plain.name, 100, run=1), _event(plain.name, 300, run=2),
        _event("sm90_xmma_gemm_f32", 700, run=1),  # a library kernel with no hlo_op: listed
        _event("fusion.7", 50, run=1, op="fusion.7", module="jit_other"),  # another module's
    ]
    times = match(module, kernels, events, runs=2)
    kt = times.kernel_times[dotted.qualified_name]
    assert kt.samples_s == pytest.approx((1.5e-6, 3e-6)) and kt.events_per_run == 2
    assert times.kernel_times[plain.qualified_name].median_s == pytest.approx(2e-7)
    reasons = {e.name: e.reason for e in times.unmatched_events}
    assert reasons == {"sm90_xmma_gemm_f32": "no kernel of that name", "fusion.7": "other module"}
    assert set(times.unmatched_kernels) == {k.qualified_name for k in kernels} - {
        dotted.qualified_name, plain.qualified_name}
    doc = times.to_json()
    assert doc["kernels_matched"] == 2 and doc["kernels"] == len(kernels)
    # Without run ids the time per run is the total over the calls.
    mean = match(module, kernels, [_event(plain.name, 400), _event(plain.name, 200)], runs=2)
    assert mean.kernel_times[plain.qualified_name].per_run == "mean"
    assert mean.kernel_times[plain.qualified_name].median_s == pytest.approx(3e-7)


def test_read_events_prefers_device_streams():
    def ev(name, **stats):
        return NS(name=name, start_ns=0.0, duration_ns=10.0, stats=list(stats.items()))

    host = NS(name="/host:CPU", lines=[NS(name="python", events=[ev("PjitFunction(f)"),
                                                                 ev("fusion.1", hlo_op="fusion.1")])])
    cpu_only = NS(planes=[host])
    assert [e.name for e in read_events(cpu_only)] == ["fusion.1"]
    gpu = NS(name="/device:GPU:0", lines=[
        NS(name="Stream #14(Compute)", events=[ev("fusion_1", run_id=3), ev("end: fusion_1")]),
        NS(name="XLA Ops", events=[ev("fusion.1")]),  # derived from the stream: would double count
    ])
    events = read_events(NS(planes=[host, gpu]))
    assert [(e.name, e.run_id, e.plane) for e in events] == [("fusion_1", 3, "/device:GPU:0")]


# --- The report and the CLI ----------------------------------------------------------------------

def test_report_with_measurement(mlp):
    entry, module = mlp
    report = analyze(module, get_chip("h100"))
    assert report.to_json()["measured"] is None
    assert all(k["measured_s"] is None for k in report.to_json()["kernels"])
    assert "measured" not in report.to_text()
    measurement = measure_function(entry.fn, entry.args, repeats=2)
    times = profile_kernels(entry.fn, entry.args, module, [r.kernel for r in report.rows], runs=2)
    measured = with_measurement(report, measurement, times)
    assert report.measured is None  # the input is unchanged
    doc = measured.to_json()
    m = doc["measured"]
    assert m["jit_s"] > 0 and m["eager_s"] > 0 and m["repeats"] == 2 and m["provenance"] == "measured"
    assert m["chip"] == "h100" and 0 < m["fraction_of_bandwidth"] and m["achieved_flops_per_s"] > 0
    assert m["trace"]["kernels_matched"] == m["trace"]["kernels"] == len(report.rows)
    for k in doc["kernels"]:
        assert k["measured_s"] > 0 and k["fraction_of_roofline"] > 0 and k["achieved_bytes_per_s"] > 0
    text = measured.to_text()
    header = text.splitlines()[2]
    assert "measured" in header and "% of roofline" in header
    assert "measured jit" in text and "kernels matched" in text
    assert "% of roofline" in measured._repr_html_()
    json.dumps(doc)  # plain JSON


def run_cli(capsys, *argv):
    try:
        code = main(["hlo", *argv])
    except SystemExit as e:
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_measure_json(capsys, cpu_cache):
    code, out, err = run_cli(capsys, str(REPO / "examples" / "mlp.py"), "--measure", "--repeats", "2",
                             "--json", "-")
    assert code == 0, err
    doc = json.loads(out)
    m = doc["measured"]
    assert m["jit_s"] > 0 and m["eager_s"] > 0 and m["repeats"] == 2 and m["chip"] == "cpu"
    fusions = [k for k in doc["kernels"] if k["opcode"] == "fusion"]
    assert fusions and all(k["measured_s"] is not None and k["measured_s"] > 0 for k in fusions)
    assert "measuring jit_mlp" in err  # the progress bar, on stderr


def test_cli_measure_table_without_eager(capsys, cpu_cache):
    code, out, err = run_cli(capsys, str(REPO / "examples" / "mlp.py"), "--measure", "--repeats", "2",
                             "--no-eager")
    assert code == 0, err
    assert "% of roofline" in out and "measured jit" in out and "eager -" in out


@pytest.mark.parametrize("argv, message", [
    (["--repeats", "3"], "need --measure"),
    (["--measure", "--repeats", "0"], "--repeats must be at least 1"),
])
def test_cli_measure_flag_errors(capsys, argv, message):
    code, out, err = run_cli(capsys, str(REPO / "examples" / "mlp.py"), "--hw", "h100", *argv)
    assert code == 2 and out == "" and message in err and len(err.strip().splitlines()) == 1


def test_cli_measure_needs_a_function(capsys, tmp_path):
    path = tmp_path / "m.hlo"
    path.write_text(jax.jit(jnp.sin).lower(jnp.ones(4)).as_text(dialect="hlo"))
    code, out, err = run_cli(capsys, str(path), "--hw", "h100", "--measure")
    assert code == 2 and "needs a model.py" in err and len(err.strip().splitlines()) == 1
