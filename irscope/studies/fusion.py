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
constant). Achieved bandwidth divides the bytes of the way it ran by its median time: eager by
`per_op`, both JIT figures by `fused`. FLOPs are XLA's count (`flops + transcendentals`, one per
element each), the same for every way of running.

Figures (`fusion_low.png`, `fusion_medium.png`, `fusion_high.png`): left, achieved FLOP/s against
arithmetic intensity on this CPU's roofline (bandwidth slope and compute roof from the probe of
`irscope.measure.probe`, via `irscope.hw.get_chip("cpu")`), eager in red, JIT in green, one point per
size (bigger markers for bigger sizes); right, achieved bandwidth against size, with the probe's
bandwidth as a dashed line. The table `run` returns (and `irscope figures fusion` prints) holds every
other size; `rows` in its JSON holds all of them.

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


WORKLOADS = (
    Workload("relu", "low", relu),
    Workload("gelu", "medium", gelu_tanh),
    Workload("swish", "medium", swish),
    Workload("chain24", "high", chain24),
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
        "jit_bytes_per_s": static.fused_bytes / jit_s,
        "jit_donated_bytes_per_s": static.fused_bytes / donated_s,
        "eager_flops_per_s": static.flops / eager_s,
        "jit_flops_per_s": static.flops / jit_s,
        "jit_donated_flops_per_s": static.flops / donated_s,
        "eager_s_per_op": eager_s / max(static.eager_ops, 1),
    }


# --- The study ------------------------------------------------------------------------------------

def run(out_dir: Path, *, quick: bool = False, progress: Progress | None = None,
        exponents: Sequence[int] | None = None, workloads: Sequence[Workload] = WORKLOADS) -> dict[str, Any]:
    """Measure every workload at every size, write the three figures into `out_dir`, and return the
    summary: `table` (every other size, formatted), `rows` (every size, raw), `notes`, `figures`,
    `machine`.

    Arguments:
        out_dir: where `fusion_low.png`, `fusion_medium.png`, `fusion_high.png` go (created if needed).
        quick: sizes 2^10 and 2^12 with short time limits (seconds in all).
        progress: one-line messages (the CPU probe's, if it has to run); the bar goes to stderr.
        exponents: the sizes (powers of two) instead of the default sweep.
        workloads: the workloads (default all four).
    """
    from irscope.hw import get_chip
    from irscope.util.progress import Progress as Bar

    chip = get_chip("cpu", progress=progress)
    sizes = tuple(exponents) if exponents is not None else (QUICK_EXPONENTS if quick else FULL_EXPONENTS)
    load_before = _load()
    rows: list[dict[str, Any]] = []
    with Bar(total=len(workloads) * len(sizes), label="fusion study") as bar:
        for workload in workloads:
            for exponent in sizes:
                rows.append(measure_cell(workload, exponent, quick=quick))
                bar.advance(f"{workload.name} 2^{exponent}")
    load_after = _load()
    machine = {
        "chip": chip.name, "product": chip.product, "mem_bandwidth": chip.mem_bandwidth,
        "peak_flops_f32": chip.peak_flops.get("f32"), "load_avg_before": load_before, "load_avg_after": load_after,
        "cores": os.cpu_count(), "jax": jax.__version__,
    }
    out_dir = Path(out_dir)
    figures = []
    for complexity in COMPLEXITIES:
        chosen = [r for r in rows if r["complexity"] == complexity]
        if chosen:
            path = out_dir / f"fusion_{complexity}.png"
            _write_png(path, plot(chosen, chip, title=_title(complexity, chosen, chip)))
            figures.append(str(path))
    shown = sizes[::TABLE_EVERY] if len(sizes) > 3 else sizes
    if sizes[-1] not in shown:
        shown = (*shown, sizes[-1])
    table = [table_row(r, chip.mem_bandwidth) for r in rows if r["exponent"] in shown]
    return {
        "study": "fusion",
        "title": TITLE,
        "quick": quick,
        "machine": machine,
        "table": table,
        "rows": rows,
        "notes": notes(rows, machine),
        "figures": figures,
    }


def table_row(row: dict[str, Any], bandwidth: float) -> dict[str, Any]:
    """One row of the printed table (strings for times, rounded numbers elsewhere)."""
    return {
        "workload": row["workload"],
        "n": f"2^{row['exponent']}",
        "ops": row["eager_ops"],
        "eager": human_time(row["eager_s"]),
        "jit": human_time(row["jit_s"]),
        "eager/jit time": round(row["time_ratio"], 2),
        "unfused/fused B": round(row["unfused_ratio"], 2),
        "per-op/fused B": round(row["per_op_ratio"], 2),
        "eager GB/s": round(row["eager_bytes_per_s"] / 1e9, 2),
        "jit GB/s": round(row["jit_bytes_per_s"] / 1e9, 2),
        "donated GB/s": round(row["jit_donated_bytes_per_s"] / 1e9, 2),
        "jit % BW": f"{100 * row['jit_bytes_per_s'] / bandwidth:.0f}%",
    }


def notes(rows: Sequence[dict[str, Any]], machine: dict[str, Any]) -> list[str]:
    """What the numbers say, computed from them: dispatch cost, where it dominates, ratios at the top size."""
    out = [
        f"machine: {machine['product']}, jax {machine['jax']}; roofline from irscope's probe: "
        f"{machine['mem_bandwidth'] / 1e9:.2f} GB/s (STREAM triad), "
        f"{(machine['peak_flops_f32'] or 0) / 1e9:.1f} GFLOP/s (f32 matmul); load average "
        f"{_fmt_load(machine['load_avg_before'])} before, {_fmt_load(machine['load_avg_after'])} after",
    ]
    smallest = min(r["exponent"] for r in rows)
    largest = max(r["exponent"] for r in rows)
    small = [r for r in rows if r["exponent"] == smallest]
    per_op = sorted(r["eager_s_per_op"] for r in small)
    jit_call = sorted(r["jit_s"] for r in small)
    out.append(f"dispatch at 2^{smallest}: eager costs {human_time(per_op[len(per_op) // 2])} per op (median over "
               f"workloads, {human_time(per_op[0])} to {human_time(per_op[-1])}); one JIT call costs "
               f"{human_time(jit_call[0])} to {human_time(jit_call[-1])}")
    for name in dict.fromkeys(r["workload"] for r in rows):
        mine = sorted((r for r in rows if r["workload"] == name), key=lambda r: r["exponent"])
        flat_eager = _flat_until(mine, "eager_s")
        flat_jit = _flat_until(mine, "jit_s")
        top = mine[-1]
        out.append(
            f"{name}: eager time within 2x of its 2^{smallest} time up to 2^{flat_eager}, JIT up to 2^{flat_jit} "
            f"(overhead, not bytes, sets the time there); at 2^{largest}: time ratio {top['time_ratio']:.2f}, "
            f"per-op byte ratio {top['per_op_ratio']:.2f}, unfused byte ratio {top['unfused_ratio']:.2f}; JIT "
            f"{top['jit_bytes_per_s'] / machine['mem_bandwidth']:.0%} of the probe's bandwidth, "
            f"{top['jit_donated_bytes_per_s'] / machine['mem_bandwidth']:.0%} into a donated buffer")
    return out


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

_COLORS = {"eager": "#d62728", "jit": "#2ca02c", "jit_donated": "#98df8a"}
_LABELS = {"eager": "eager (op by op)", "jit": "jax.jit (fused)", "jit_donated": "jax.jit, donated output buffer"}
_MARKERS = ("o", "s", "^", "D")


def _title(complexity: str, rows: Sequence[dict[str, Any]], chip: Any) -> str:
    names = " and ".join(dict.fromkeys(r["workload"] for r in rows))
    return f"{complexity} complexity: {names} — eager vs JIT on {chip.product}"


def plot(rows: Sequence[dict[str, Any]], chip: Any, *, title: str) -> bytes:
    """The figure of some rows as PNG bytes: roofline (left) and achieved bandwidth by size (right)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bandwidth, peak = chip.mem_bandwidth, chip.peak_flops["f32"]
    fig, (roof, bw) = plt.subplots(1, 2, figsize=(13, 6))
    xs = np.logspace(-3, 3, 200)
    roof.plot(xs, np.minimum(peak, xs * bandwidth), color="black", lw=1.5,
              label=f"roofline: {bandwidth / 1e9:.1f} GB/s (triad), {peak / 1e9:.0f} GFLOP/s (f32 matmul)")
    workloads = list(dict.fromkeys(r["workload"] for r in rows))
    exps = [r["exponent"] for r in rows]
    lo, hi = min(exps), max(exps)
    for w, name in enumerate(workloads):
        mine = sorted((r for r in rows if r["workload"] == name), key=lambda r: r["exponent"])
        marker = _MARKERS[w % len(_MARKERS)]
        for mode, bytes_key in (("eager", "per_op_bytes"), ("jit", "fused_bytes"), ("jit_donated", "fused_bytes")):
            x = [r["flops"] / r[bytes_key] for r in mine]
            y = [r[f"{mode}_flops_per_s"] for r in mine]
            sizes = [12 + 60 * (r["exponent"] - lo) / max(hi - lo, 1) for r in mine]
            roof.scatter(x, y, s=sizes, c=_COLORS[mode], marker=marker, edgecolors="black", linewidths=0.4,
                         alpha=0.85, zorder=3)
            if mode != "jit_donated":  # label the smallest and largest size (left of eager, right of JIT)
                dx = -8 if mode == "eager" else 8
                for r, xi, yi in ((mine[0], x[0], y[0]), (mine[-1], x[-1], y[-1])):
                    roof.annotate(f"2^{r['exponent']}", (xi, yi), textcoords="offset points", xytext=(dx, -3),
                                  fontsize=7, color=_COLORS[mode], ha="right" if dx < 0 else "left")
            gbps = [r[f"{mode}_bytes_per_s"] / 1e9 for r in mine]
            bw.plot([r["exponent"] for r in mine], gbps, color=_COLORS[mode], marker=marker, ms=5,
                    ls="-" if w == 0 else "--", label=f"{name}: {_LABELS[mode]}")
    roof.set(xscale="log", yscale="log", xlabel="arithmetic intensity (FLOP per byte moved)",
             ylabel="achieved FLOP/s (XLA flops + transcendentals)", title="on the roofline")
    flops_seen = [r[f"{m}_flops_per_s"] for r in rows for m in ("eager", "jit", "jit_donated")]
    roof.set_ylim(min(flops_seen) / 3, peak * 3)
    roof.set_xlim(1e-2, 1e2)
    roof.grid(True, which="both", alpha=0.25)
    bw.axhline(bandwidth / 1e9, color="black", ls=":", lw=1.2, label="probe bandwidth (triad)")
    bw.set(yscale="log", xlabel="elements (log2)", ylabel="achieved GB/s (bytes of the way it ran)",
           title="achieved bandwidth by size")
    bw.set_xticks(sorted(set(exps)))
    bw.set_xticklabels([f"2^{e}" for e in sorted(set(exps))])
    bw.grid(True, which="both", alpha=0.25)
    # One legend for both panels, below them: the series are the same, and no point hides behind it.
    handles = roof.get_legend_handles_labels()[0] + bw.get_legend_handles_labels()[0]
    fig.legend(handles=handles, loc="lower center", ncol=4, fontsize=8, frameon=False)
    fig.suptitle(title, fontsize=11)
    rows_of_legend = math.ceil(len(handles) / 4)
    fig.tight_layout(rect=(0, 0.05 + 0.04 * rows_of_legend, 1, 1))
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    return buffer.getvalue()
