"""Case study "Rematerialization": `jax.checkpoint` policies on a transformer training step, for H100 and TPU v5e.

    irscope figures remat            # the full study (9 minutes here: XLA:TPU compiles slowly), figures/remat.png
    irscope figures remat --quick    # a tiny model, TPU v5e only, two policies (seconds)

The program is `examples/transformer.py`'s training step (forward, `jax.value_and_grad` of the
cross-entropy, SGD update) at a size where activations, not weights, fill the memory: 4 blocks, d_model
256, 4 heads, 128 tokens, f32, so that the weights are 12.5 MiB and each sequence of the batch adds
about 11 MiB to the peak on H100 without remat. It is compiled by each target's own XLA without the device (`irscope.frontends.targets`) under each
choice of `examples.transformer.REMAT`:

- `none`: every activation the backward pass needs is kept from the forward pass;
- `dots_saveable`: the stack of blocks under one `jax.checkpoint(policy=dots_saveable)`: matmul outputs
  are kept, everything else in the stack is recomputed at the start of the backward pass;
- `nothing_saveable`: the same with `nothing_saveable`: the whole stack's forward pass runs twice;
- `per_block`: each block under its own `jax.checkpoint`: only block inputs are kept, and each block is
  recomputed just before its own backward pass.

For each policy, target and batch size the study records:

- peak memory as XLA reports it (`memory_analysis()`: arguments + outputs + temps - aliased bytes; its
  temps are the buffer assignment's, which packs buffers that are not live at once), XLA's temp bytes,
  and irscope's own liveness peak (`irscope.passes.memory`, an estimate: the most bytes live at one point
  of the schedule, buffers not packed);
- FLOPs of the whole step, as `irscope.passes.cost` counts them (XLA's HloCostAnalysis conventions;
  XLA:GPU gives no `cost_analysis()` without the device, XLA:TPU's equals irscope's), and the recompute
  FLOPs: the policy's FLOPs minus `none`'s at the same target and batch;
- the kernels of the optimized module that recompute: those whose `op_name` holds JAX's
  `rematted_computation` scope, and their FLOPs (a fusion that mixes recomputed and backward work counts
  whole, so this is a cross-check of the recompute FLOPs, not the same number);
- t@peak: the sum over kernels of the time at the chip's roofline (a prediction, not a measurement);
- the largest batch whose peak fits the chip's HBM (`irscope.hw`: 80 GiB H100, 16 GiB TPU v5e), by a
  straight line through the peaks at the two compiled batch sizes (an extrapolation: XLA's buffer
  packing, and on TPU its use of on-chip memory, make the real curve only nearly straight).

The figure (`remat.png`): top, per target, peak memory against recompute FLOPs at the larger batch, one
point per policy; bottom, per target, peak memory against batch size with the extrapolated lines and the
HBM budget.

Not handled yet: a measured step time (no H100 or TPU here), bf16 (halves the activations), scanned
layers (`jax.lax.scan` with `jax.checkpoint` inside), offloading policies
(`save_and_offload_only_these_names`), and XLA's own rematerialization pass, which it runs only when a
program exceeds the device memory it is told about.
"""

from __future__ import annotations

import functools
import importlib.util
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from irscope.studies.common import write_png as _write_png

TITLE = "Rematerialization: jax.checkpoint policies on a transformer step, peak memory vs recompute, H100 and TPU v5e"

FULL = {"d_model": 256, "n_layers": 4, "seq": 128, "batches": (16, 32), "targets": ("h100", "tpu-v5e"),
        "policies": ("none", "dots_saveable", "nothing_saveable", "per_block")}
"""Activations many times the 12.5 MiB of weights at both batches. On TPU v5e, XLA keeps some policies'
temporaries in on-chip VMEM at batch 16 (0 temp bytes in HBM), which bends the line through XLA's peaks;
the study also draws the line through irscope's liveness peaks. Larger batches would compile for minutes."""
QUICK = {"d_model": 64, "n_layers": 2, "seq": 32, "batches": (4, 8), "targets": ("tpu-v5e",),
         "policies": ("none", "per_block")}
REMAT_SCOPE = "rematted_computation"
"""The name scope JAX gives the recomputed forward pass of a `jax.checkpoint`ed function."""
MIB = 2**20

Progress = Callable[[str], None]


@functools.cache
def transformer() -> ModuleType:
    """`examples/transformer.py`, imported from the repository (examples/ is not a package)."""
    path = Path(__file__).resolve().parents[2] / "examples" / "transformer.py"
    spec = importlib.util.spec_from_file_location("irscope_examples_transformer", path)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(f"{path}: the transformer example is missing")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def step_and_args(policy: str, *, d_model: int, n_layers: int, seq: int, batch: int) -> tuple[Callable[..., Any], list[Any]]:
    """The training step under `policy` and its abstract arguments (weights as ShapeDtypeStructs)."""
    import jax
    import jax.numpy as jnp

    t = transformer()
    params = jax.eval_shape(functools.partial(t.init_params, d_model=d_model, n_layers=n_layers, seq=seq),
                            jax.random.key(0))
    tokens = jax.ShapeDtypeStruct((batch, seq + 1), jnp.int32)
    step = functools.partial(t.train_step, lr=t.LEARNING_RATE, remat=policy)
    step.__name__ = f"train_step_{policy}"  # type: ignore[attr-defined]
    return step, [params, tokens]


@dataclass(frozen=True)
class Point:
    """One policy compiled for one target at one batch size."""

    policy: str
    target: str
    batch: int
    peak_xla: int
    """memory_analysis(): arguments + outputs + temps - aliases, bytes."""
    temp_xla: int
    """memory_analysis() temp bytes."""
    peak_irscope: int | None
    """irscope's liveness peak (estimated), bytes."""
    flops: float
    """Whole step, irscope's count (XLA's conventions)."""
    xla_flops: float | None
    """XLA's cost_analysis() FLOPs where the compiler gives them (TPU), else None."""
    remat_kernels: int
    """Kernels whose op_name is in JAX's `rematted_computation` scope."""
    remat_kernel_flops: float
    time_at_peak_s: float
    """Predicted: sum over kernels of the roofline time on the target's chip."""
    kernels: int
    compile_s: float


def measure(policy: str, target: str, batch: int, config: dict[str, Any]) -> Point:
    """Compile one step for `target` and take its memory, FLOPs and recomputed kernels."""
    from irscope.frontends.targets import compile_for_target
    from irscope.hw import get_chip
    from irscope.ir.hlo_parser import parse_module
    from irscope.passes.memory import analyze_memory
    from irscope.passes.report import analyze

    fn, args = step_and_args(policy, d_model=config["d_model"], n_layers=config["n_layers"], seq=config["seq"],
                             batch=batch)
    start = time.perf_counter()
    compiled = compile_for_target(fn, args, target)
    seconds = time.perf_counter() - start
    memory = compiled.memory_analysis
    if memory is None:
        raise RuntimeError(f"{target}: the compiler gave no memory_analysis()")
    module = parse_module(compiled.hlo_text, f"<{compiled.name} for {target}>")
    report = analyze(module, get_chip(compiled.target.chip.name), xla_cost=compiled.cost_analysis)
    recomputing = [r for r in report.rows if r.kernel.op_name and REMAT_SCOPE in r.kernel.op_name]
    xla_flops = (compiled.cost_analysis or {}).get("flops")
    return Point(
        policy=policy, target=target, batch=batch,
        peak_xla=memory.argument_bytes + memory.output_bytes + memory.temp_bytes - memory.alias_bytes,
        temp_xla=memory.temp_bytes,
        peak_irscope=analyze_memory(module).peak_bytes,
        flops=report.totals.flops,
        xla_flops=float(xla_flops) if xla_flops is not None else None,
        remat_kernels=len(recomputing),
        remat_kernel_flops=sum(r.cost.flops * (r.trip_count or 1) for r in recomputing),
        time_at_peak_s=report.time_at_peak_s,
        kernels=len(report.rows),
        compile_s=seconds,
    )


def max_batch(points: Sequence[Point], budget: float, *, irscope: bool = False) -> tuple[float, float, int | None]:
    """(bytes per sequence, fixed bytes, largest batch under `budget`) from the line through the peaks at the
    smallest and largest batch: XLA's peaks, or irscope's liveness peaks with `irscope`."""
    ordered = sorted(points, key=lambda p: p.batch)
    small, large = ordered[0], ordered[-1]
    y0, y1 = ((small.peak_irscope or 0, large.peak_irscope or 0) if irscope else (small.peak_xla, large.peak_xla))
    if large.batch == small.batch:
        return 0.0, float(y0), None
    slope = (y1 - y0) / (large.batch - small.batch)
    fixed = y0 - slope * small.batch
    if slope <= 0:
        return slope, fixed, None
    return slope, fixed, int((budget - fixed) // slope)


def run(out_dir: Path, *, quick: bool = False, progress: Progress | None = None) -> dict[str, Any]:
    """Compile every policy for every target at two batch sizes, tabulate, plot; returns `table` (what the
    figure plots, rounded), `fits` (the max-batch lines), `points` (the unrounded figures), `notes`, `figures`.

    Arguments:
        out_dir: where `remat.png` goes (created if needed).
        quick: a tiny model, TPU v5e only, policies `none` and `per_block`.
        progress: one-line messages; the bar goes to stderr.
    """
    from irscope.hw import get_chip
    from irscope.util.progress import Progress as Bar

    config = QUICK if quick else FULL
    jobs = [(p, t, b) for t in config["targets"] for p in config["policies"] for b in config["batches"]]
    if progress is not None:
        progress(f"remat study: {len(jobs)} deviceless compiles ({', '.join(config['targets'])})")
    points: dict[tuple[str, str, int], Point] = {}
    start = time.perf_counter()
    with Bar(total=len(jobs), label="remat study") as bar:
        for policy, target, batch in jobs:
            points[(policy, target, batch)] = measure(policy, target, batch, config)
            bar.advance(f"{target} {policy} batch {batch}")
    budgets = {t: get_chip(t).mem_capacity for t in config["targets"]}
    fits = []
    for target in config["targets"]:
        for policy in config["policies"]:
            mine = [points[(policy, target, b)] for b in config["batches"]]
            slope, fixed, most = max_batch(mine, budgets[target])
            slope_irscope, _, most_irscope = max_batch(mine, budgets[target], irscope=True)
            fits.append({"target": target, "policy": policy, "budget_GiB": budgets[target] / 2**30,
                         "MiB_per_sequence": round(slope / MIB, 3), "fixed_MiB": round(fixed / MIB, 1),
                         "max_batch": most, "MiB_per_sequence_irscope": round(slope_irscope / MIB, 3),
                         "max_batch_irscope": most_irscope})
    table = [table_row(points[job], points[("none", job[1], job[2])],
                       next(f for f in fits if (f["target"], f["policy"]) == job[1::-1]))
             for job in jobs]
    path = Path(out_dir) / "remat.png"
    _write_png(path, plot(table, fits, config))
    return {
        "study": "remat",
        "title": TITLE,
        "quick": quick,
        "config": {k: list(v) if isinstance(v, tuple) else v for k, v in config.items()},
        "seconds": round(time.perf_counter() - start, 1),
        "table": table,
        "fits": fits,
        "points": [asdict(p) for p in points.values()],
        "notes": notes(table, fits, config),
        "figures": [str(path)],
    }


def table_row(point: Point, baseline: Point, fit: dict[str, Any]) -> dict[str, Any]:
    """One printed (and CSV) row: what the figure plots, with units in the column names."""
    extra = point.flops - baseline.flops
    return {
        "target": point.target, "policy": point.policy, "batch": point.batch,
        "peak_xla_MiB": round(point.peak_xla / MIB, 1),
        "temp_xla_MiB": round(point.temp_xla / MIB, 1),
        "peak_irscope_MiB": round(point.peak_irscope / MIB, 1) if point.peak_irscope is not None else None,
        "GFLOPs": round(point.flops / 1e9, 3),
        "recompute_GFLOPs": round(extra / 1e9, 3),
        "recompute_pct": round(100 * extra / baseline.flops, 1) if baseline.flops else None,
        "remat_kernels": point.remat_kernels,
        "remat_kernel_GFLOPs": round(point.remat_kernel_flops / 1e9, 3),
        "t_at_peak_us_predicted": round(point.time_at_peak_s * 1e6, 1),
        "max_batch_in_HBM": fit["max_batch"],
        "max_batch_irscope": fit["max_batch_irscope"],
        "compile_s": round(point.compile_s, 1),
    }


def notes(table: Sequence[dict[str, Any]], fits: Sequence[dict[str, Any]], config: dict[str, Any]) -> list[str]:
    """What the table says, in sentences (numbers from the table only)."""
    large = max(config["batches"])
    out = [f"Training step of examples/transformer.py: {config['n_layers']} blocks, d_model {config['d_model']}, "
           f"{config['seq']} tokens, f32; deviceless compiles (t@peak and max batch are predictions). "
           f"Peak = XLA's memory_analysis() (args + outputs + temps - aliases); max batch: a line through "
           f"batches {', '.join(map(str, config['batches']))}, extrapolated to the chip's HBM."]
    for target in config["targets"]:
        rows = {r["policy"]: r for r in table if r["target"] == target and r["batch"] == large}
        base = rows["none"]
        parts = []
        for policy, r in rows.items():
            if policy == "none":
                continue
            parts.append(f"{policy} {r['peak_xla_MiB']:.1f} MiB ({r['peak_xla_MiB'] / base['peak_xla_MiB']:.2f}x) "
                         f"for {r['recompute_pct']:+.1f}% FLOPs")
        out.append(f"{target} at batch {large}: none peaks at {base['peak_xla_MiB']:.1f} MiB; " + "; ".join(parts) + ".")
        ranked = sorted((f for f in fits if f["target"] == target), key=lambda f: -(f["max_batch"] or 0))
        budget = ranked[0]["budget_GiB"]
        out.append(f"{target}, {budget:.0f} GiB HBM: largest batch that fits (extrapolated; XLA's peaks / "
                   "irscope's) " + ", ".join(f"{f['policy']} {_count(f['max_batch'])} / {_count(f['max_batch_irscope'])}"
                                             for f in ranked) + ".")
        if target.startswith("tpu") and any(r["temp_xla_MiB"] == 0 for r in table if r["target"] == target):
            out.append(f"{target}: where XLA reports 0 temp bytes, its memory-space assignment has put the temporaries "
                       "in on-chip VMEM (S(1) layouts), so the line through XLA's peaks starts below zero; the line "
                       "through irscope's liveness peaks is the cross-check.")
    return out


def _count(n: int | None) -> str:
    return "-" if n is None else f"{n:,}"


POLICY_STYLE = {"none": ("tab:gray", "o"), "dots_saveable": ("tab:blue", "s"),
                "nothing_saveable": ("tab:red", "^"), "per_block": ("tab:green", "D")}


def plot(table: Sequence[dict[str, Any]], fits: Sequence[dict[str, Any]], config: dict[str, Any]) -> Any:
    """Top: peak memory vs recompute FLOPs per policy; bottom: peak memory vs batch, with the HBM budget."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    targets = config["targets"]
    large = max(config["batches"])
    fig, axes = plt.subplots(2, len(targets), figsize=(6.2 * len(targets), 8.4), squeeze=False)
    for col, target in enumerate(targets):
        top, bottom = axes[0][col], axes[1][col]
        for policy in config["policies"]:
            color, marker = POLICY_STYLE.get(policy, ("black", "x"))
            row = next(r for r in table if (r["target"], r["policy"], r["batch"]) == (target, policy, large))
            top.plot([row["recompute_GFLOPs"]], [row["peak_xla_MiB"]], marker, color=color, markersize=9, clip_on=False,
                     label=f"{policy}: {row['t_at_peak_us_predicted']:,.0f} us predicted")
            fit = next(f for f in fits if (f["target"], f["policy"]) == (target, policy))
            mine = sorted((r for r in table if (r["target"], r["policy"]) == (target, policy)), key=lambda r: r["batch"])
            bottom.plot([r["batch"] for r in mine], [r["peak_xla_MiB"] / 1024 for r in mine], marker, color=color,
                        markersize=7, clip_on=False)
            if fit["max_batch"]:
                xs = [0, fit["max_batch"]]
                bottom.plot(xs, [(fit["fixed_MiB"] + fit["MiB_per_sequence"] * x) / 1024 for x in xs], "--",
                            color=color, label=f"{policy}: max batch {fit['max_batch']:,}")
        budget = next(f["budget_GiB"] for f in fits if f["target"] == target)
        bottom.axhline(budget, color="black", linewidth=1.2, label=f"HBM budget {budget:.0f} GiB")
        top.set_xlim(left=0)
        highest = max(r["peak_xla_MiB"] for r in table if r["target"] == target and r["batch"] == large)
        top.set_ylim(0, highest * 1.6)  # room above the points for the legend
        top.set_xlabel(f"recompute GFLOPs per step (policy minus none), batch {large}")
        top.set_ylabel("peak memory, MiB (XLA memory_analysis)")
        top.set_title(f"{target} (deviceless compile), batch {large}")
        top.legend(title="policy: t@peak (sum of kernels at the roofline)", fontsize=8, title_fontsize=8,
                   loc="upper center", ncol=2)
        bottom.set_xlim(left=0)
        bottom.set_ylim(0, budget * 1.15)
        bottom.set_xlabel("batch (sequences)")
        bottom.set_ylabel("peak memory, GiB")
        bottom.set_title(f"{target}: markers compiled, dashed lines extrapolated")
        bottom.legend(fontsize=8, loc="lower right")
        for ax in (top, bottom):
            ax.grid(True, alpha=0.3)
    fig.suptitle(f"jax.checkpoint policies on a transformer training step ({config['n_layers']} blocks, "
                 f"d_model {config['d_model']}, {config['seq']} tokens, f32): predictions, not measurements")
    fig.tight_layout()
    return fig
