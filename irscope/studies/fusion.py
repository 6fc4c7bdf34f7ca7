"""Case study "The operator-fusion advantage": eager JAX against XLA's JIT on element-wise workloads.

    irscope figures fusion            # the full sweep (a few minutes), figures into figures/
    irscope figures fusion --quick    # two tiny sizes (seconds): checks the pipeline, not the numbers

Four element-wise workloads of rising complexity, each over f32 vectors of 2^10 to 2^26 elements:
ReLU (low: 1 op), GELU with the tanh approximation and Swish (medium: 8 and 4 ops) and a chain of 24
element-wise ops (high). Each is run three ways on the same seeded input:

- eager: the function called without `jax.jit`; every op is dispatched on its own and writes its
  result to memory;
- jit: `jax.jit(fn)`, which XLA compiles into one fused kernel;
- jit into a donated buffer: the same kernel writing into a reused output buffer
  (`donate_argnums` on an extra, unused argument), so that no call pays for a fresh output's
  allocation and first-touch page faults; the traffic is the same as `jit`'s.

The static bytes come from irscope's own passes over the module XLA compiled: `fused` is
`module_cost(...).totals.bytes_accessed` (XLA's convention), `unfused` is `unfused_bytes_accessed`
(every fused instruction as its own kernel). Beside them, `per_op` counts what eager execution moves:
each primitive of the function's jaxpr reads its array operands and writes its results (a Python
scalar is a literal, not an array, so unlike the unfused HLO, eager never materializes a broadcast
constant). FLOPs are XLA's count (`flops + transcendentals`, one per element each), the same for
every way of running.

Two bandwidths per row: *effective* bandwidth divides the fused program's bytes (the least the work
needs) by each mode's time, so the mode that takes longer is lower whatever it moved; *achieved*
bandwidth divides the bytes of the way it ran (eager: `per_op`) by its time. Effective bandwidth is set
against two measured ceilings: the probe's STREAM copy (a fused element-wise kernel reads one array and
writes one, as copy does; triad is drawn too), and, for a workload with transcendentals, their rate:
`irscope.measure.probe.transcendental_rate` of a fused chain as long as the workload's (6 `tanh` for
chain24, 1 `tanh` or `exp` for GELU and Swish) over a cache-resident array, turned into the effective
bandwidth the kernel would reach if its transcendentals took all its time. The lower of the two is the
row's ceiling.

Figures (`fusion_low.png`, `fusion_medium.png`, `fusion_high.png`), four panels each: the median time
per call against size (with the predicted time at peak on an H100 and a TPU v5e from XLA's deviceless
compiles, `irscope.api.inspect_jax(..., target=...)`: predictions, not measurements), the speed-up
eager time / JIT time against size with where the curves cross (`crossings`), effective bandwidth
against the ceilings, and the roofline (achieved FLOP/s against arithmetic intensity, bandwidth slope
and f32 matmul roof from the probe via `irscope.hw.get_chip("cpu")`, each transcendental roof as a
segment), where every size of one mode would sit at one intensity: the points are spread sideways by
size (eager left of its intensity, JIT right, marked by a thin line), marker size = size, with legends
for every encoding. The table `run` returns (and `irscope figures fusion` prints, and writes as
`fusion.csv` beside the figures) holds every other size; `rows` in its JSON holds all of them.

Timing (`time_interleaved`): one untimed call of each way of running, then 4 rounds in which the
three ways take turns, each timed for about 0.08 s (at least one call) per round; the figure is the
median of all its calls. Interleaving puts a burst of load from a neighbour on all three alike; the
load average before and after the sweep is recorded in the notes. A cell of 2^26 elements makes 5
calls of each way, which is what bounds the sweep's time.

Not handled yet: other dtypes (bf16 halves the bytes), multi-threading settings of XLA:CPU, and GPU
runs (the same study on a GPU would name its figures after the device).
"""

from __future__ import annotations

import io
import math
import os
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from irscope.render.table import human_time
from irscope.studies.common import write_png as _write_png

TITLE = "The operator-fusion advantage: eager JAX vs XLA's JIT on element-wise workloads, on this CPU's roofline"

FULL_EXPONENTS = tuple(range(10, 27, 2))
"""2^10 (4 KiB, in L1) to 2^26 (256 MiB per array, far beyond any cache) elements."""
QUICK_EXPONENTS = (10, 12)
TABLE_EVERY = 2
"""The printed table shows every other size of the sweep (the JSON `rows` hold all)."""

Progress = Callable[[str], None]


# --- The workloads --------------------------------------------------------------------------------

def relu(x: jax.Array) -> jax.Array:
    """max(x, 0): one op."""
    return jnp.maximum(x, 0.0)


_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def gelu_tanh(x: jax.Array) -> jax.Array:
    """GELU, tanh approximation, written op by op (`jax.nn.gelu` is itself jitted, so it would run as
    one fused kernel even eagerly): 8 ops."""
    return 0.5 * x * (1.0 + jnp.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x**3)))


def swish(x: jax.Array) -> jax.Array:
    """x * sigmoid(x) as x / (1 + exp(-x)): 4 ops."""
    return x / (1.0 + jnp.exp(-x))


def chain24(x: jax.Array) -> jax.Array:
    """24 element-wise ops: six rounds of scale, shift, tanh, clamp (bounded, so no overflow)."""
    for _ in range(6):
        x = x * 1.5
        x = x - 0.25
        x = jnp.tanh(x)
        x = jnp.maximum(x, -0.5)
    return x


@dataclass(frozen=True)
class Workload:
    """One element-wise function of the study."""

    name: str
    """Short name, used in the table and the legend."""
    complexity: str
    """`low`, `medium` or `high`: which figure it is drawn in."""
    fn: Callable[[jax.Array], jax.Array]
    """The function of one f32 vector."""
    transcendental: str | None = None
    """The transcendental it computes (`tanh`, `exp`; see `irscope.measure.probe.transcendental_rate`), if any."""
    per_element: int = 0
    """How many of them per element, one after the other: its roof is the rate of a fused chain that long."""

    @property
    def roof_key(self) -> str | None:
        """`tanh x6`: the key of its transcendental roof in the summary's `machine.transcendentals_per_s`."""
        return f"{self.transcendental} x{self.per_element}" if self.transcendental else None


WORKLOADS = (
    Workload("relu", "low", relu),
    Workload("gelu", "medium", gelu_tanh, "tanh", 1),
    Workload("swish", "medium", swish, "exp", 1),
    Workload("chain24", "high", chain24, "tanh", 6),
)
COMPLEXITIES = ("low", "medium", "high")


# --- Static figures -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Static:
    """What irscope's passes (and the jaxpr) say one workload at one size should cost."""

    fused_bytes: float
    """XLA's bytes accessed of the optimized module (the JIT's traffic)."""
    unfused_bytes: float
    """irscope's unfused traffic: every fused instruction as its own kernel."""
    per_op_bytes: float
    """Eager traffic: each jaxpr primitive reads its array operands and writes its results."""
    flops: float
    """XLA's FLOPs plus transcendentals (one per element each)."""
    transcendentals: float
    """XLA's transcendentals alone (part of `flops`)."""
    kernels: int
    """Kernels of the optimized module."""
    eager_ops: int
    """Primitives in the jaxpr: the dispatches an eager call makes."""


def static_cost(fn: Callable[[jax.Array], jax.Array], n: int) -> Static:
    """Lower `fn` at f32[n] with `jax.jit`, compile it, and cost it with irscope's passes."""
    from irscope.ir.hlo_parser import parse_module
    from irscope.passes.cost import module_cost
    from irscope.passes.fusion import find_kernels

    arg = jax.ShapeDtypeStruct((n,), jnp.float32)
    module = parse_module(jax.jit(fn).lower(arg).compile().as_text() or "")
    cost = module_cost(module)
    ops, per_op = per_op_traffic(fn, arg)
    return Static(
        fused_bytes=cost.totals.bytes_accessed,
        unfused_bytes=cost.unfused_bytes_accessed,
        per_op_bytes=per_op,
        flops=cost.totals.flops + cost.totals.transcendentals,
        transcendentals=cost.totals.transcendentals,
        kernels=len(find_kernels(module)),
        eager_ops=ops,
    )


def per_op_traffic(fn: Callable[..., Any], *args: Any) -> tuple[int, float]:
    """(primitives, bytes) of running `fn` op by op: each primitive of its jaxpr reads its non-literal
    operands and writes its results. Sub-jaxprs (a `pjit` inside) count as one dispatch."""
    from jax.extend.core import Literal

    jaxpr = jax.make_jaxpr(fn)(*args).jaxpr

    def nbytes(var: Any) -> float:
        aval = var.aval
        return float(np.prod(aval.shape, dtype=np.int64)) * np.dtype(aval.dtype).itemsize

    total = 0.0
    for eqn in jaxpr.eqns:
        total += sum(nbytes(v) for v in eqn.invars if not isinstance(v, Literal))
        total += sum(nbytes(v) for v in eqn.outvars)
    return len(jaxpr.eqns), total


# --- Measuring ------------------------------------------------------------------------------------

ROUNDS = 4
"""Timing rounds per cell; each round times every way of running in turn (see `time_interleaved`)."""
ROUND_BUDGET_S = 0.08
"""Seconds each way of running gets per round, after the first (a cell takes at least 3 x 4 x 0.08 s)."""
MAX_CALLS_PER_ROUND = 500


def time_interleaved(calls: dict[str, Callable[[], Any]], *, rounds: int = ROUNDS,
                     budget_s: float = ROUND_BUDGET_S) -> dict[str, Any]:
    """Time several ways of running the same work in alternation, so that on a shared machine a burst
    of load falls on all of them alike, not on whichever happened to run then.

    Each call is made once untimed (compilation), then `rounds` rounds follow; in each, every way runs
    for about `budget_s` (as many calls as fit, judged from its first timed call; at least one), each
    call waited on. Returns a `Timing` per way with every sample.
    """
    from irscope.measure.timing import Timing

    for call in calls.values():
        jax.block_until_ready(call())
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for round_ in range(rounds):
        for name, call in calls.items():
            done = samples[name]
            count = 1 if round_ == 0 else max(1, min(MAX_CALLS_PER_ROUND, int(budget_s / max(done[0], 1e-9))))
            for _ in range(count):
                t0 = time.perf_counter()
                jax.block_until_ready(call())
                done.append(time.perf_counter() - t0)
    return {name: Timing(name, tuple(v), warmup=1) for name, v in samples.items()}


def _time_workload(fn: Callable[[jax.Array], jax.Array], x: jax.Array, quick: bool) -> dict[str, Any]:
    jitted = jax.jit(fn)
    into = jax.jit(lambda buf, v: fn(v), donate_argnums=0, keep_unused=True)
    state = {"buf": jnp.zeros_like(x)}

    def donated() -> jax.Array:
        state["buf"] = into(state["buf"], x)  # the output takes the donated buffer's place
        return state["buf"]

    calls = {"eager": lambda: fn(x), "jit": lambda: jitted(x), "jit_donated": donated}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "donated buffers were not usable", on a backend that cannot alias
        if quick:
            return time_interleaved(calls, rounds=2, budget_s=0.005)
        return time_interleaved(calls)


def measure_cell(workload: Workload, exponent: int, *, quick: bool, seed: int = 0) -> dict[str, Any]:
    """Static and measured figures of one workload at 2^exponent elements, as one row (plain JSON)."""
    n = 2**exponent
    static = static_cost(workload.fn, n)
    x = jnp.asarray(np.random.default_rng(seed).standard_normal(n, dtype=np.float32))
    t = _time_workload(workload.fn, x, quick)
    eager_s, jit_s, donated_s = t["eager"].median_s, t["jit"].median_s, t["jit_donated"].median_s
    return {
        "workload": workload.name,
        "complexity": workload.complexity,
        "exponent": exponent,
        "elements": n,
        "eager_ops": static.eager_ops,
        "kernels": static.kernels,
        "flops": static.flops,
        "transcendentals": static.transcendentals,
        "fused_bytes": static.fused_bytes,
        "unfused_bytes": static.unfused_bytes,
        "per_op_bytes": static.per_op_bytes,
        "eager_s": eager_s,
        "jit_s": jit_s,
        "jit_donated_s": donated_s,
        "eager_spread": t["eager"].spread,
        "jit_spread": t["jit"].spread,
        "repeats": {k: v.repeats for k, v in t.items()},
        "time_ratio": eager_s / jit_s,
        "unfused_ratio": static.unfused_bytes / static.fused_bytes,
        "per_op_ratio": static.per_op_bytes / static.fused_bytes,
        "eager_bytes_per_s": static.per_op_bytes / eager_s,
        "eager_effective_bytes_per_s": static.fused_bytes / eager_s,
        "jit_bytes_per_s": static.fused_bytes / jit_s,
        "jit_donated_bytes_per_s": static.fused_bytes / donated_s,
        "eager_flops_per_s": static.flops / eager_s,
        "jit_flops_per_s": static.flops / jit_s,
        "jit_donated_flops_per_s": static.flops / donated_s,
        "eager_s_per_op": eager_s / max(static.eager_ops, 1),
    }


# --- The study ------------------------------------------------------------------------------------

PREDICTED_TARGETS = ("h100", "tpu-v5e")
"""Accelerators whose time at peak (XLA's deviceless compile, costed on the chip's roofline) the headline panel
draws as predictions beside the CPU's measured times."""


def predicted_times(workload: Workload, exponents: Sequence[int], targets: Sequence[str]) -> dict[str, list[float]]:
    """Per target, the predicted time per call at each size: `inspect_jax(..., target=T).time_at_peak_s`, the
    sum over the kernels XLA compiled for T of max(bytes / bandwidth, FLOPs / peak). A prediction, not a
    measurement: no launch overhead, and transcendentals cost nothing extra. A target whose compiler is not
    installed is left out (`irscope.frontends.targets.TargetUnavailable`)."""
    from irscope.api import inspect_jax
    from irscope.frontends.targets import TargetUnavailable

    out: dict[str, list[float]] = {}
    for target in targets:
        try:
            out[target] = [inspect_jax(workload.fn, [jax.ShapeDtypeStruct((2**e,), jnp.float32)],
                                       target=target).time_at_peak_s for e in exponents]
        except TargetUnavailable:
            continue
    return out


def run(out_dir: Path, *, quick: bool = False, progress: Progress | None = None,
        exponents: Sequence[int] | None = None, workloads: Sequence[Workload] = WORKLOADS,
        targets: Sequence[str] = PREDICTED_TARGETS) -> dict[str, Any]:
    """Measure every workload at every size, write the three figures into `out_dir`, and return the
    summary: `table` (every other size, formatted), `rows` (every size, raw), `crossings`, `notes`,
    `figures`, `machine`.

    Arguments:
        out_dir: where `fusion_low.png`, `fusion_medium.png`, `fusion_high.png` go (created if needed).
        quick: sizes 2^10 and 2^12 with short time limits (seconds in all).
        progress: one-line messages (the CPU probe's, if it has to run); the bar goes to stderr.
        exponents: the sizes (powers of two) instead of the default sweep.
        workloads: the workloads (default all four).
        targets: accelerators whose predicted time at peak goes beside the measured times (`PREDICTED_TARGETS`).
    """
    from irscope.hw import get_chip
    from irscope.measure import probe
    from irscope.util.progress import Progress as Bar

    chip = get_chip("cpu", progress=progress)
    measured = probe.load_or_measure(progress=progress)  # the same cached probe: its copy bandwidth too
    sizes = tuple(exponents) if exponents is not None else (QUICK_EXPONENTS if quick else FULL_EXPONENTS)
    load_before = _load()
    roofs = sorted({(w.transcendental, w.per_element) for w in workloads if w.transcendental})
    rates = {f"{op} x{depth}": probe.transcendental_rate(op, depth=depth, loops=24 // depth,
                                                         repeats=3 if quick else TRANSCENDENTAL_REPEATS)
             for op, depth in roofs}
    rows: list[dict[str, Any]] = []
    with Bar(total=len(workloads) * len(sizes), label="fusion study") as bar:
        for workload in workloads:
            predicted = predicted_times(workload, sizes, targets)
            for i, exponent in enumerate(sizes):
                row = measure_cell(workload, exponent, quick=quick)
                row["transcendental_bound_bytes_per_s"] = _transcendental_bound(row, workload, rates)
                row["predicted_s"] = {target: times[i] for target, times in predicted.items()}
                rows.append(row)
                bar.advance(f"{workload.name} 2^{exponent}")
    load_after = _load()
    machine = {
        "chip": chip.name, "product": chip.product, "mem_bandwidth": chip.mem_bandwidth,
        "copy_bandwidth": measured.copy_bw, "peak_flops_f32": chip.peak_flops.get("f32"),
        "transcendentals_per_s": rates,
        "load_avg_before": load_before, "load_avg_after": load_after,
        "cores": os.cpu_count(), "jax": jax.__version__,
    }
    crossed = crossings(rows)
    out_dir = Path(out_dir)
    figures = []
    for complexity in COMPLEXITIES:
        chosen = [r for r in rows if r["complexity"] == complexity]
        if chosen:
            path = out_dir / f"fusion_{complexity}.png"
            _write_png(path, plot(chosen, machine, title=_title(complexity, chosen, machine),
                                  crossed={k: v for k, v in crossed.items() if any(r["workload"] == k for r in chosen)}))
            figures.append(str(path))
    shown = sizes[::TABLE_EVERY] if len(sizes) > 3 else sizes
    if sizes[-1] not in shown:
        shown = (*shown, sizes[-1])
    table = [table_row(r, machine) for r in rows if r["exponent"] in shown]
    return {
        "study": "fusion",
        "title": TITLE,
        "quick": quick,
        "machine": machine,
        "table": table,
        "rows": rows,
        "crossings": crossed,
        "notes": notes(rows, machine),
        "figures": figures,
    }


TRANSCENDENTAL_REPEATS = 25
"""Timed calls of `probe.transcendental_rate` per transcendental, about 1.5 ms each: the best is the roof, and
many short calls are likelier than a few long ones to catch a moment when a shared machine is quiet."""


def _transcendental_bound(row: dict[str, Any], workload: Workload, rates: dict[str, float]) -> float | None:
    """The effective bandwidth (fused bytes / s) a kernel would reach if its transcendentals were all its time."""
    if workload.roof_key is None or not row["transcendentals"]:
        return None
    return rates[workload.roof_key] * row["fused_bytes"] / row["transcendentals"]


def ceiling(row: dict[str, Any], machine: dict[str, Any]) -> tuple[str, float]:
    """The lower of the two ceilings on a row's effective bandwidth: DRAM copy (the fused kernel reads one
    array and writes one, as STREAM copy does) or its transcendentals at the measured rate."""
    bound = row.get("transcendental_bound_bytes_per_s")
    if bound is not None and bound < machine["copy_bandwidth"]:
        return "transcendentals", bound
    return "copy", machine["copy_bandwidth"]


def crossings(rows: Sequence[dict[str, Any]]) -> dict[str, list[float]]:
    """Per workload, the sizes (log2 elements, interpolated on log speed-up) where the eager and JIT time curves
    cross, i.e. where eager/jit time passes 1; empty when JIT is faster (or slower) at every size."""
    out: dict[str, list[float]] = {}
    for name in dict.fromkeys(r["workload"] for r in rows):
        mine = sorted((r for r in rows if r["workload"] == name), key=lambda r: r["exponent"])
        found = []
        for a, b in zip(mine, mine[1:], strict=False):
            la, lb = math.log(a["time_ratio"]), math.log(b["time_ratio"])
            if la == 0.0:
                found.append(float(a["exponent"]))
            elif la * lb < 0:
                found.append(round(a["exponent"] + la / (la - lb) * (b["exponent"] - a["exponent"]), 1))
        if mine and math.log(mine[-1]["time_ratio"]) == 0.0:
            found.append(float(mine[-1]["exponent"]))
        out[name] = found
    return out


def table_row(row: dict[str, Any], machine: dict[str, Any]) -> dict[str, Any]:
    """One row of the printed table (strings for times, rounded numbers elsewhere)."""
    bound, limit = ceiling(row, machine)
    return {
        "workload": row["workload"],
        "n": f"2^{row['exponent']}",
        "ops": row["eager_ops"],
        "eager": human_time(row["eager_s"]),
        "jit": human_time(row["jit_s"]),
        "speed-up": round(row["time_ratio"], 2),
        "per-op/fused B": round(row["per_op_ratio"], 2),
        "unfused/fused B": round(row["unfused_ratio"], 2),
        "eager eff GB/s": round(row["eager_effective_bytes_per_s"] / 1e9, 2),
        "jit eff GB/s": round(row["jit_bytes_per_s"] / 1e9, 2),
        "donated eff GB/s": round(row["jit_donated_bytes_per_s"] / 1e9, 2),
        "ceiling": _roof_key(row["workload"]) if bound == "transcendentals" else "copy",
        "ceiling GB/s": round(limit / 1e9, 2),
        "jit % ceiling": f"{100 * row['jit_bytes_per_s'] / limit:.0f}%",
    }


def notes(rows: Sequence[dict[str, Any]], machine: dict[str, Any]) -> list[str]:
    """What the numbers say, computed from them: the speed-up and where the curves cross, the ceilings and how
    near each mode gets, dispatch cost, ratios at the top size."""
    rates = machine.get("transcendentals_per_s", {})
    roofs = ", ".join(f"{rate / 1e9:.2f} G/s ({key})" for key, rate in rates.items())
    out = [
        f"machine: {machine['product']}, jax {machine['jax']}; ceilings from irscope's probe: "
        f"{machine['copy_bandwidth'] / 1e9:.2f} GB/s (STREAM copy), {machine['mem_bandwidth'] / 1e9:.2f} GB/s "
        f"(STREAM triad), {(machine['peak_flops_f32'] or 0) / 1e9:.1f} GFLOP/s (f32 matmul)"
        + (f", transcendentals in one fused chain of N per element, in cache: {roofs}" if roofs else "")
        + f"; load average {_fmt_load(machine['load_avg_before'])} before, {_fmt_load(machine['load_avg_after'])} after",
    ]
    smallest = min(r["exponent"] for r in rows)
    largest = max(r["exponent"] for r in rows)
    small = [r for r in rows if r["exponent"] == smallest]
    per_op = sorted(r["eager_s_per_op"] for r in small)
    jit_call = sorted(r["jit_s"] for r in small)
    out.append(f"dispatch at 2^{smallest}: eager costs {human_time(per_op[len(per_op) // 2])} per op (median over "
               f"workloads, {human_time(per_op[0])} to {human_time(per_op[-1])}); one JIT call costs "
               f"{human_time(jit_call[0])} to {human_time(jit_call[-1])}")
    top_rows = [r for r in rows if r["exponent"] == largest and r.get("predicted_s")]
    if top_rows:
        r = top_rows[0]
        out.append(f"predicted at 2^{largest} (time at peak from a deviceless compile, not measured; the same for every "
                   "workload, which all move the same fused bytes): "
                   + ", ".join(f"{_TARGET_NAMES.get(t, t)} {human_time(v)}" for t, v in r["predicted_s"].items())
                   + f"; measured here, JIT {human_time(min(x['jit_s'] for x in top_rows))} to "
                   f"{human_time(max(x['jit_s'] for x in top_rows))}")
    crossed = crossings(rows)
    for name in dict.fromkeys(r["workload"] for r in rows):
        mine = sorted((r for r in rows if r["workload"] == name), key=lambda r: r["exponent"])
        flat_eager = _flat_until(mine, "eager_s")
        flat_jit = _flat_until(mine, "jit_s")
        top = mine[-1]
        best = max(mine, key=lambda r: r["time_ratio"])
        where = crossed.get(name) or []
        cross = (f"eager and JIT times cross near {', '.join(f'2^{e:g}' for e in where)}" if where else
                 f"JIT is {'faster' if top['time_ratio'] > 1 else 'slower'} at every size")
        out.append(
            f"{name}: speed-up (eager/jit time) {mine[0]['time_ratio']:.2f}x at 2^{smallest}, "
            f"{best['time_ratio']:.2f}x at most (2^{best['exponent']}), {top['time_ratio']:.2f}x at 2^{largest}; {cross}")
        bound, limit = ceiling(top, machine)
        what = ("copy bandwidth" if bound == "copy" else
                f"{_ceiling_words(top, machine)} = {limit / 1e9:.2f} GB/s of fused bytes")
        out.append(
            f"{name} at 2^{largest}: effective bandwidth (fused bytes / time) JIT {top['jit_bytes_per_s'] / 1e9:.2f} "
            f"GB/s = {top['jit_bytes_per_s'] / limit:.0%} of its ceiling ({what}), "
            f"{top['jit_donated_bytes_per_s'] / limit:.0%} into a donated buffer; eager "
            f"{top['eager_effective_bytes_per_s'] / 1e9:.2f} GB/s (moving {top['per_op_ratio']:.2f}x the bytes: "
            f"{top['eager_bytes_per_s'] / 1e9:.2f} GB/s of its own)")
        out.append(
            f"{name}: eager time within 2x of its 2^{smallest} time up to 2^{flat_eager}, JIT up to 2^{flat_jit} "
            f"(overhead, not bytes, sets the time there); at 2^{largest}: time ratio {top['time_ratio']:.2f}, "
            f"per-op byte ratio {top['per_op_ratio']:.2f}, unfused byte ratio {top['unfused_ratio']:.2f}")
    return out


def _roof_key(name: str) -> str:
    """`tanh x6`: the measured transcendental roof of the workload called `name`."""
    return next((w.roof_key for w in WORKLOADS if w.name == name and w.roof_key), "transcendentals")


def _ceiling_words(row: dict[str, Any], machine: dict[str, Any]) -> str:
    """`6 tanh per element at 1.10 G/s`: how a row's transcendental ceiling is made."""
    per_element = row["transcendentals"] / row["elements"]
    workload = next((w for w in WORKLOADS if w.name == row["workload"]), None)
    op = workload.transcendental if workload else "transcendental"
    rate = machine.get("transcendentals_per_s", {}).get(workload.roof_key if workload else "", 0.0)
    return f"{per_element:g} {op} per element at {rate / 1e9:.2f} G/s"


def _flat_until(rows: Sequence[dict[str, Any]], key: str) -> int:
    base = rows[0][key]
    flat = rows[0]["exponent"]
    for r in rows:
        if r[key] > 2 * base:
            break
        flat = r["exponent"]
    return flat


def _load() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except (OSError, AttributeError):
        return None


def _fmt_load(value: float | None) -> str:
    return "?" if value is None else f"{value:.2f}"


# --- Figures --------------------------------------------------------------------------------------

_MODES = ("eager", "jit", "jit_donated")
_COLORS = {"eager": "#d62728", "jit": "#2ca02c", "jit_donated": "#98df8a"}
_LABELS = {"eager": "eager (op by op)", "jit": "jax.jit (fused)", "jit_donated": "jax.jit, donated output buffer"}
_MARKERS = ("o", "s", "^", "D")
_STYLES = ("-", "--", "-.", ":")
_PREDICTED_COLORS = {"h100": "#1f77b4", "tpu-v5e": "#8c564b"}
_TARGET_NAMES = {"h100": "H100", "tpu-v5e": "TPU v5e"}
_DODGE = 2.0
"""On the roofline, a workload's points spread over [I / 2, I) (eager) and (I, 2 I] (JIT) around its intensity I,
smallest size nearest I: every size and mode would otherwise sit on one vertical line."""


def _title(complexity: str, rows: Sequence[dict[str, Any]], machine: dict[str, Any]) -> str:
    names = " and ".join(dict.fromkeys(r["workload"] for r in rows))
    return f"{complexity} complexity: {names} — eager vs JIT, measured on {machine['product']}"


def _marker_size(exponent: int, lo: int, hi: int) -> float:
    return 12 + 70 * (exponent - lo) / max(hi - lo, 1)


def plot(rows: Sequence[dict[str, Any]], machine: dict[str, Any], *, title: str,
         crossed: dict[str, list[float]] | None = None) -> bytes:
    """The figure of some rows as PNG bytes, four panels: time per call and the speed-up against size (the
    headline, with where the curves cross), effective bandwidth against the measured ceilings, and the roofline.
    """
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    crossed = crossed or {}
    fig, axes = plt.subplots(2, 2, figsize=(13, 10))
    (times, speed), (eff, roof) = axes
    workloads = list(dict.fromkeys(r["workload"] for r in rows))
    exps = sorted({r["exponent"] for r in rows})
    lo, hi = exps[0], exps[-1]
    by_name = {name: sorted((r for r in rows if r["workload"] == name), key=lambda r: r["exponent"])
               for name in workloads}
    style = {name: (_MARKERS[w % len(_MARKERS)], _STYLES[w % len(_STYLES)]) for w, name in enumerate(workloads)}

    for name, mine in by_name.items():
        marker, ls = style[name]
        e = [r["exponent"] for r in mine]
        for mode in _MODES:
            times.plot(e, [r[f"{mode}_s"] for r in mine], color=_COLORS[mode], marker=marker, ms=4, ls=ls)
            key = "eager_effective_bytes_per_s" if mode == "eager" else f"{mode}_bytes_per_s"
            eff.plot(e, [r[key] / 1e9 for r in mine], color=_COLORS[mode], marker=marker, ms=4, ls=ls)
        speed.plot(e, [r["time_ratio"] for r in mine], color="black", marker=marker, ms=5, ls=ls)
        above = workloads.index(name) % 2 == 0  # two workloads share a panel: one labelled above, one below
        for r in mine:
            speed.annotate(f"{r['time_ratio']:.1f}", (r["exponent"], r["time_ratio"]), textcoords="offset points",
                           xytext=(0, 6 if above else -12), ha="center", fontsize=7)
        where = crossed.get(name, [])
        for x in where:
            for ax in (times, speed):
                ax.axvline(x, color="#7f7f7f", ls=":", lw=1)
        if where:  # one label per workload, at the top, one line down per workload: never over another label
            right_half = where[0] > (lo + hi) / 2  # then the label ends at the last crossing, inside the axes
            speed.text(where[-1] if right_half else where[0], 0.97 - 0.06 * workloads.index(name),
                       f" {name}: curves cross near {', '.join(f'2^{x:g}' for x in where)} ",
                       transform=speed.get_xaxis_transform(), ha="right" if right_half else "left", va="top",
                       fontsize=7.5, color="#444444")
        bound = mine[-1].get("transcendental_bound_bytes_per_s")
        if bound is not None:
            eff.axhline(bound / 1e9, color="#9467bd", ls=ls, lw=1.3)

    # Predicted accelerator times: the same for every workload here (the same fused bytes), so one line each.
    predicted_handles = []
    first = by_name[workloads[0]]
    for target in first[0].get("predicted_s", {}):
        color = _PREDICTED_COLORS.get(target, "#7f7f7f")
        times.plot([r["exponent"] for r in first], [r["predicted_s"][target] for r in first], color=color, lw=1.2,
                   ls=(0, (5, 2)), marker="x", ms=4)
        predicted_handles.append(Line2D([], [], color=color, ls=(0, (5, 2)), marker="x",
                                        label=f"{_TARGET_NAMES.get(target, target)} time at peak "
                                              "(PREDICTED, deviceless compile)"))
    # Legends for every encoding: colour = way of running, marker and line = workload, ceilings.
    mode_handles = [Line2D([], [], color=_COLORS[m], lw=2, label=_LABELS[m]) for m in _MODES]
    workload_handles = [Line2D([], [], color="#555555", marker=style[n][0], ls=style[n][1], label=n) for n in workloads]
    times.legend(handles=mode_handles + workload_handles + predicted_handles, fontsize=7.5, loc="upper left")
    times.set(xscale="linear", yscale="log", ylabel="time per call (s): CPU measured (median)",
              title="time per call (lower is better)")
    speed.axhline(1.0, color="#7f7f7f", lw=1)
    # Log scale: a ratio of 1/2 is as far below 1 as 2 is above, and one burst of a neighbour's load (a 600x
    # cell) does not flatten every other point against the axis.
    ratios = [r["time_ratio"] for r in rows]
    speed.set(yscale="log", ylim=(min(0.5, min(ratios) / 1.5), max(ratios) * 3), ylabel="speed-up: eager time / JIT time",
              title="JIT speed-up over eager (above 1: JIT faster)")
    speed.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}x"))

    copy_bw, triad_bw = machine["copy_bandwidth"] / 1e9, machine["mem_bandwidth"] / 1e9
    eff.axhline(copy_bw, color="black", ls="-", lw=1.2)
    eff.axhline(triad_bw, color="black", ls=":", lw=1.2)
    ceiling_handles = [Line2D([], [], color="black", ls="-", label=f"STREAM copy {copy_bw:.1f} GB/s (probe)"),
                       Line2D([], [], color="black", ls=":", label=f"STREAM triad {triad_bw:.1f} GB/s (probe)")]
    for name, mine in by_name.items():
        if mine[-1].get("transcendental_bound_bytes_per_s") is not None:
            ceiling_handles.append(Line2D([], [], color="#9467bd", ls=style[name][1],
                                          label=f"{name}: {_ceiling_words(mine[-1], machine)}"))
    eff.legend(handles=ceiling_handles, fontsize=7.5, loc="best", title="ceilings", title_fontsize=7.5)
    eff.set(yscale="log", ylabel="effective GB/s = fused program's bytes / time",
            title="effective bandwidth (same bytes for every mode)")
    for ax in (times, speed, eff):
        ax.set_xticks(exps, [f"2^{e}" for e in exps], fontsize=8)
        ax.set_xlabel("elements per array (f32)")
        ax.grid(True, which="both", alpha=0.25)

    # The roofline: bytes of the way it ran; points dodged sideways by size (see _DODGE).
    bandwidth, peak = machine["mem_bandwidth"], machine["peak_flops_f32"]
    xs = np.logspace(-3, 3, 200)
    roof.plot(xs, np.minimum(peak, xs * bandwidth), color="black", lw=1.5)
    span = max(hi - lo, 1)
    for name, mine in by_name.items():
        marker, ls = style[name]
        for mode, bytes_key in (("eager", "per_op_bytes"), ("jit", "fused_bytes"), ("jit_donated", "fused_bytes")):
            side = -1 if mode == "eager" else 1
            x = [r["flops"] / r[bytes_key] * _DODGE ** (side * (0.1 + 0.9 * (r["exponent"] - lo) / span)) for r in mine]
            roof.scatter(x, [r[f"{mode}_flops_per_s"] for r in mine], s=[_marker_size(r["exponent"], lo, hi) for r in mine],
                         c=_COLORS[mode], marker=marker, edgecolors="black", linewidths=0.4, alpha=0.85, zorder=3)
            roof.axvline(mine[0]["flops"] / mine[0][bytes_key], color=_COLORS[mode], lw=0.6, alpha=0.5)
        top = mine[-1]
        if top.get("transcendental_bound_bytes_per_s") is not None:
            flops_roof = top["transcendental_bound_bytes_per_s"] * top["flops"] / top["fused_bytes"]
            intensities = [top["flops"] / top["fused_bytes"], top["flops"] / top["per_op_bytes"]]
            roof.hlines(flops_roof, min(intensities) / 3, max(intensities) * 3, color="#9467bd", ls=ls, lw=1.3)
    size_handles = [plt.scatter([], [], s=_marker_size(e, lo, hi), c="white", edgecolors="black", linewidths=0.6,
                                label=f"2^{e}") for e in sorted({lo, (lo + hi) // 2, hi})]
    roof_handles = [Line2D([], [], color="black", lw=1.5,
                           label=f"roofline: triad {bandwidth / 1e9:.1f} GB/s, f32 matmul {peak / 1e9:.0f} GFLOP/s"),
                    ]
    if any(r.get("transcendental_bound_bytes_per_s") is not None for r in rows):
        roof_handles.append(Line2D([], [], color="#9467bd", lw=1.3, label="the workload's tanh/exp roof (measured)"))
    roof.legend(handles=roof_handles + size_handles, fontsize=7.5, loc="upper left", title="marker size = elements",
                title_fontsize=7.5)
    flops_seen = [r[f"{m}_flops_per_s"] for r in rows for m in _MODES]
    roof.set_ylim(min(flops_seen) / 3, peak * 3)
    roof.set_xlim(1e-2, 1e2)
    roof.set(xscale="log", yscale="log", xlabel="arithmetic intensity (FLOP per byte of the way it ran)",
             ylabel="achieved FLOP/s (XLA flops + transcendentals)",
             title="roofline: each mode's points spread by size\n(eager left, JIT right of the thin line at its intensity)")
    roof.title.set_fontsize(9)
    roof.grid(True, which="both", alpha=0.25)
    fig.suptitle(title + "\n(all times measured on this CPU; ceilings measured by irscope's probe)", fontsize=11)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    plt.close(fig)
    return buffer.getvalue()
