"""Case study "Sparsity": a dense matmul against 2:4 structured and unstructured sparse versions.

    irscope figures sparsity            # the full sweep (a minute or two), figures/sparsity.png
    irscope figures sparsity --quick    # tiny matrices, two sparsity levels (seconds)

The product is `A @ B` with A of M x K (the sparse operand, a weight matrix with a fraction `s` of
zeros) and B of K x N, f32. At each sparsity level it runs four ways, on the same seeded values:

- `dense`: `A @ B` with the zeros stored (XLA's dot; the time does not depend on s);
- `bcoo`: `jax.experimental.sparse.BCOO.fromdense(A) @ B` (unstructured; COO: each kept value with
  its row and column, int32). XLA:CPU lowers it to a gather of B's rows, a multiply and a scatter-add;
- `bcsr`: `BCSR.fromdense(A) @ B` (unstructured; CSR: column indices plus row pointers), which jaxlib
  lowers on the CPU to one custom call, `cpu_csr_sparse_dense_ffi` (opaque to XLA's cost analysis);
- `2:4` (at s = 0.5 only): two of every four consecutive values along K kept, stored compressed
  (values M x K/2, and their positions 0..3 as int8), decompressed inside the jitted function and
  multiplied densely. This is what 2:4 costs where there are no sparse tensor cores: the storage
  halves, the FLOPs do not.

Static figures come from irscope's passes over the optimized module: XLA's FLOPs and bytes
(`irscope.passes.cost`) and the ops it emitted for the sparse product (gathers, scatters, loops,
custom calls; from `irscope.passes.fusion.find_kernels`); where a custom call hides the FLOPs (XLA
counts it as -1), the table shows `~` and 2 nnz N instead. "Index bytes" are what the sparse format
adds to the values it keeps. Times are medians of `irscope.measure.timing.time_call` on concrete
arrays (the sparse structure must be the real one, so the inputs are not `random_inputs`).

The H100 prediction is a roofline (`irscope.passes.roofline.place`, `irscope.hw`'s H100) of ideal
kernels, at a compute-bound shape (`H100_SHAPE`) and at the measured one:
dense on TF32 tensor cores; 2:4 on sparse tensor cores (half the FLOPs at the dense rate, i.e. the
datasheet's "with sparsity" peak; 2 bits of metadata per kept value); unstructured CSR on the CUDA
cores at the f32 rate (sparse tensor cores need the 2:4 pattern), reading each kept value with a
4-byte column index once, B and C once. The break-even sparsity is where the unstructured kernel's
time falls below dense.

Not handled yet: block-sparse formats (BCOO with dense blocks, which would use the dot units),
bf16 and int8, batched sparse operands, and measured GPU runs (cuSPARSE would replace the custom call).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from irscope.studies.common import write_png as _write_png

TITLE = "Sparsity: dense matmul vs 2:4 and unstructured sparse (BCOO, BCSR) on this CPU, and on an H100 roofline"

FULL = {"m": 1024, "k": 1024, "n": 64, "levels": (0.5, 0.75, 0.9, 0.95, 0.99)}
"""A 1024x1024 weight times 64 columns: BCOO's gathered rows (nnz x 64 floats) stay under 150 MB."""
QUICK = {"m": 64, "k": 64, "n": 16, "levels": (0.5, 0.9)}
H100_SHAPE = (8192, 8192, 8192)
"""A square product large enough to be compute-bound on an H100 when dense."""
NOTABLE = ("dot", "gather", "scatter", "while", "sort", "custom-call", "convolution")
"""Opcodes the 'XLA emits' column counts, over all kernels (inside fusions too)."""

Progress = Callable[[str], None]


# --- The operands ----------------------------------------------------------------------------------

def sparse_matrix(m: int, k: int, sparsity: float, seed: int = 0) -> np.ndarray:
    """An m x k f32 matrix with a fraction `sparsity` of zeros at random positions."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((m, k)).astype(np.float32)
    a[rng.random((m, k)) < sparsity] = 0.0
    return a


def two_four(m: int, k: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A 2:4-sparse m x k matrix: (dense form, kept values m x k/2, their positions 0..3 as int8)."""
    if k % 4:
        raise ValueError(f"2:4 sparsity needs K divisible by 4, got {k}")
    rng = np.random.default_rng(seed)
    values = rng.standard_normal((m, k // 2)).astype(np.float32)
    # Two distinct positions in each group of four, in increasing order.
    keys = rng.random((m, k // 4, 4))
    positions = np.sort(np.argsort(keys, axis=-1)[..., :2], axis=-1).astype(np.int8)
    dense = np.zeros((m, k // 4, 4), np.float32)
    np.put_along_axis(dense, positions.astype(np.int64), values.reshape(m, k // 4, 2), axis=-1)
    return dense.reshape(m, k), values, positions.reshape(m, k // 2)


def decompress_matmul(values: Any, positions: Any, b: Any) -> Any:
    """2:4 product on hardware without sparse units: scatter the kept values back, then a dense dot."""
    import jax.numpy as jnp

    m, half = values.shape
    vals = values.reshape(m, half // 2, 2)
    pos = positions.reshape(m, half // 2, 2).astype(jnp.int32)
    onehot = pos[..., None] == jnp.arange(4, dtype=jnp.int32)  # (m, k/4, 2, 4)
    dense = jnp.sum(jnp.where(onehot, vals[..., None], 0.0), axis=2).reshape(m, half * 2)
    return dense @ b


# --- Static and measured figures -------------------------------------------------------------------------

def emitted(text: str) -> dict[str, Any]:
    """XLA's cost and the notable ops of an optimized module."""
    from irscope.ir.hlo_parser import parse_module
    from irscope.passes.cost import module_cost
    from irscope.passes.fusion import find_kernels

    module = parse_module(text)
    cost = module_cost(module)
    ops: Counter[str] = Counter()
    for kernel in find_kernels(module):
        ops.update(op for op in kernel.ops if op in NOTABLE)
    estimated = sum(c.bytes_accessed for c in cost.custom_calls.values())
    return {"flops": cost.totals.flops, "bytes": cost.totals.bytes_accessed, "ops": dict(ops),
            "custom_call_bytes_estimated": estimated, "kernels": len(find_kernels(module))}


def _time(fn: Callable[..., Any], args: Sequence[Any], quick: bool) -> tuple[float, float, str]:
    import jax

    from irscope.measure.timing import time_call

    compiled = jax.jit(fn)
    limits = {"min_repeats": 3, "max_repeats": 3} if quick else {"min_time_s": 1.0, "max_time_s": 5.0}
    timing = time_call(lambda: compiled(*args), mode="jit", **limits)
    return timing.median_s, timing.spread, compiled.lower(*args).compile().as_text() or ""


def measure_level(sparsity: float, config: dict[str, Any], *, quick: bool) -> list[dict[str, Any]]:
    """The sparse variants at one sparsity level (and 2:4 at 0.5)."""
    import jax.numpy as jnp
    from jax.experimental import sparse

    m, k, n = config["m"], config["k"], config["n"]
    b = jnp.asarray(np.random.default_rng(1).standard_normal((k, n)).astype(np.float32))
    a = sparse_matrix(m, k, sparsity)
    nnz = int(np.count_nonzero(a))
    rows = []

    def matmul(x: Any, y: Any) -> Any:
        return x @ y

    bcoo = sparse.BCOO.fromdense(jnp.asarray(a))
    t, spread, text = _time(matmul, (bcoo, b), quick)
    rows.append({"variant": "bcoo", "sparsity": sparsity, "nnz": nnz, "values_bytes": nnz * 4,
                 "index_bytes": int(bcoo.indices.size * bcoo.indices.dtype.itemsize), "time_s": t,
                 "spread": spread, **emitted(text)})
    bcsr = sparse.BCSR.fromdense(jnp.asarray(a))
    t, spread, text = _time(matmul, (bcsr, b), quick)
    index = int(bcsr.indices.size * bcsr.indices.dtype.itemsize + bcsr.indptr.size * bcsr.indptr.dtype.itemsize)
    rows.append({"variant": "bcsr", "sparsity": sparsity, "nnz": nnz, "values_bytes": nnz * 4,
                 "index_bytes": index, "time_s": t, "spread": spread, **emitted(text)})
    if sparsity == 0.5:
        _, values, positions = two_four(m, k)
        t, spread, text = _time(decompress_matmul, (jnp.asarray(values), jnp.asarray(positions), b), quick)
        rows.append({"variant": "2:4", "sparsity": 0.5, "nnz": int(values.size), "values_bytes": values.size * 4,
                     "index_bytes": int(positions.size), "time_s": t, "spread": spread, **emitted(text)})
    return rows


def measure_dense(config: dict[str, Any], *, quick: bool) -> dict[str, Any]:
    import jax.numpy as jnp

    m, k, n = config["m"], config["k"], config["n"]
    a = jnp.asarray(sparse_matrix(m, k, 0.0))
    b = jnp.asarray(np.random.default_rng(1).standard_normal((k, n)).astype(np.float32))
    t, spread, text = _time(lambda x, y: x @ y, (a, b), quick)
    return {"variant": "dense", "sparsity": 0.0, "nnz": m * k, "values_bytes": m * k * 4, "index_bytes": 0,
            "time_s": t, "spread": spread, **emitted(text)}


# --- The H100 roofline ---------------------------------------------------------------------------------

def h100_times(m: int, k: int, n: int, density: float) -> dict[str, float]:
    """Ideal-kernel roofline times (seconds) on an H100 of dense, 2:4 and unstructured CSR products."""
    from irscope.hw import get_chip
    from irscope.passes.roofline import place

    chip = get_chip("h100")
    bc = (k * n + m * n) * 4  # B read once, C written once
    dense = place(2 * m * k * n, m * k * 4 + bc, chip, "tf32").time_at_peak_s
    # Sparse tensor cores: half the FLOPs at the dense rate; values halve, plus 2 bits per kept value.
    two_four_t = place(m * k * n, m * k // 2 * 4 + m * k // 2 / 4 + bc, chip, "tf32").time_at_peak_s
    nnz = density * m * k
    csr = place(2 * nnz * n, nnz * 8 + (m + 1) * 4 + bc, chip, "f32").time_at_peak_s
    return {"dense": dense, "2:4": two_four_t, "csr": csr}


def break_even(m: int, k: int, n: int) -> float | None:
    """The smallest sparsity (to 0.1%) at which ideal unstructured CSR beats dense on the H100."""
    for step in range(0, 1000):
        s = step / 1000
        t = h100_times(m, k, n, 1 - s)
        if t["csr"] < t["dense"]:
            return s
    return None


# --- The study ------------------------------------------------------------------------------------------

def run(out_dir: Path, *, quick: bool = False, progress: Progress | None = None) -> dict[str, Any]:
    """Measure, analyse and plot; returns `table`, `rows`, `h100`, `notes` and `figures`."""
    from irscope.util.progress import Progress as Bar

    config = QUICK if quick else FULL
    levels = tuple(config["levels"])
    if progress is not None:
        progress(f"sparsity study: {config['m']}x{config['k']} @ {config['k']}x{config['n']}, "
                 f"sparsity {', '.join(map(str, levels))}")
    load_before = os.getloadavg()[0]
    with Bar(total=1 + len(levels), label="sparsity study") as bar:
        dense = measure_dense(config, quick=quick)
        bar.advance("dense")
        rows = [dense]
        for s in levels:
            rows += measure_level(s, config, quick=quick)
            bar.advance(f"sparsity {s}")
    load_after = os.getloadavg()[0]
    m, k, n = config["m"], config["k"], config["n"]
    for row in rows:
        row["n"] = n
        row["h100_s"] = h100_times(m, k, n, 1 - row["sparsity"])[
            {"dense": "dense", "2:4": "2:4"}.get(row["variant"], "csr")]
    h100 = {"shape": list(H100_SHAPE), "break_even_sparsity": break_even(*H100_SHAPE),
            "measured_shape_break_even_sparsity": break_even(m, k, n),
            "dense_s": h100_times(*H100_SHAPE, 1.0)["dense"], "two_four_s": h100_times(*H100_SHAPE, 0.5)["2:4"]}
    path = Path(out_dir) / "sparsity.png"
    _write_png(path, plot(rows, config))
    return {"study": "sparsity", "title": TITLE, "quick": quick,
            "config": {**config, "levels": list(levels)}, "table": [table_row(r, dense) for r in rows],
            "rows": rows, "h100": h100, "notes": notes(rows, dense, h100, config, load_before, load_after),
            "figures": [str(path)]}


def done_flops(row: dict[str, Any]) -> tuple[float, str]:
    """(FLOPs the variant does, mark): XLA's count, or `~` and 2 nnz N when a custom call hides them
    (XLA counts a custom call as -1)."""
    if "custom-call" in row["ops"] or row["flops"] < 0:
        return 2.0 * row["nnz"] * row["n"], "~"
    return float(row["flops"]), ""


def table_row(row: dict[str, Any], dense: dict[str, Any]) -> dict[str, Any]:
    """One printed row."""
    ops = ", ".join(f"{op} {count}" for op, count in sorted(row["ops"].items())) or "-"
    flops, mark = done_flops(row)
    return {
        "variant": row["variant"], "sparsity": f"{row['sparsity']:.2f}", "nnz": row["nnz"],
        "MFLOP": f"{mark}{flops / 1e6:.2f}",
        "FLOPs skipped": f"{mark}{1 - flops / dense['flops']:.0%}" if dense["flops"] else "-",
        "values KB": f"{row['values_bytes'] / 1e3:.0f}", "index KB": f"{row['index_bytes'] / 1e3:.0f}",
        "XLA emits": ops, "cpu ms": f"{row['time_s'] * 1e3:.3f}",
        "vs dense": f"{row['time_s'] / dense['time_s']:.2f}x",
        "H100 us": f"{row['h100_s'] * 1e6:.2f}",
    }


def notes(rows: Sequence[dict[str, Any]], dense: dict[str, Any], h100: dict[str, Any], config: dict[str, Any],
          load_before: float, load_after: float) -> list[str]:
    """What the table says, in sentences."""
    out = [f"A {config['m']}x{config['k']} (sparse) @ B {config['k']}x{config['n']}, f32, XLA:CPU, medians; "
           f"load average {load_before:.1f} before, {load_after:.1f} after (shared machine)."]
    wins = [r for r in rows if r["variant"] != "dense" and r["time_s"] < dense["time_s"]]
    if wins:
        first = min(wins, key=lambda r: r["sparsity"])
        out.append(f"On this CPU sparse beats dense from sparsity {first['sparsity']:.2f} on ({first['variant']}, "
                   f"{dense['time_s'] / first['time_s']:.1f}x); winners: "
                   + ", ".join(f"{r['variant']}@{r['sparsity']:.2f}" for r in wins) + ".")
    else:
        out.append("On this CPU no sparse variant beats dense at any measured sparsity.")
    bcoo = [r for r in rows if r["variant"] == "bcoo"]
    if bcoo:
        r = bcoo[0]
        out.append(f"BCOO index bytes are {r['index_bytes'] / r['values_bytes']:.0f}x its values' "
                   f"(two int32 per value); XLA emits {', '.join(sorted(r['ops'])) or 'nothing notable'}.")
    be = h100["break_even_sparsity"]
    shape = "x".join(map(str, h100["shape"]))
    out.append(f"H100 roofline at {shape}: dense {h100['dense_s'] * 1e3:.2f} ms (TF32), 2:4 "
               f"{h100['two_four_s'] * 1e3:.2f} ms (sparse tensor cores, at most 2x); unstructured CSR on CUDA "
               f"cores needs sparsity above {be:.1%} to win." if be is not None else
               f"H100 roofline at {shape}: unstructured CSR never beats dense.")
    small = h100["measured_shape_break_even_sparsity"]
    if small is not None:
        out.append(f"At the measured shape the H100 is memory-bound, and CSR wins above {small:.1%} sparsity "
                   "(8 bytes per kept value against 4 per dense value).")
    return out


def plot(rows: Sequence[dict[str, Any]], config: dict[str, Any]) -> Any:
    """Measured CPU time against sparsity; H100 roofline times against sparsity."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    dense = next(r for r in rows if r["variant"] == "dense")
    levels = sorted({r["sparsity"] for r in rows if r["variant"] != "dense"})
    left.axhline(dense["time_s"] * 1e3, color="black", linestyle="--", label="dense (zeros stored)")
    styles = {"bcoo": ("o-", "tab:red"), "bcsr": ("s-", "tab:blue"), "2:4": ("*", "tab:green")}
    for variant, (style, color) in styles.items():
        mine = sorted((r for r in rows if r["variant"] == variant), key=lambda r: r["sparsity"])
        if mine:
            left.plot([r["sparsity"] for r in mine], [r["time_s"] * 1e3 for r in mine], style, color=color,
                      label=variant, markersize=12 if variant == "2:4" else 6)
    left.set_yscale("log")
    left.set_xlabel("sparsity (fraction of zeros in A)")
    left.set_ylabel("ms per product (median)")
    left.set_title(f"This CPU: {config['m']}x{config['k']} @ {config['k']}x{config['n']}, f32")
    grid = np.linspace(0.0, 0.995, 200)
    times = [h100_times(*H100_SHAPE, 1 - s) for s in grid]
    right.plot(grid, [t["csr"] * 1e3 for t in times], color="tab:blue", label="unstructured CSR (CUDA cores)")
    right.axhline(times[0]["dense"] * 1e3, color="black", linestyle="--", label="dense (TF32 tensor cores)")
    right.plot([0.5], [times[0]["2:4"] * 1e3], "*", color="tab:green", markersize=12, label="2:4 (sparse tensor cores)")
    be = break_even(*H100_SHAPE)
    if be is not None:
        right.axvline(be, color="gray", linestyle=":", label=f"break-even {be:.1%}")
    right.set_yscale("log")
    right.set_xlabel("sparsity")
    right.set_ylabel("ms (roofline, ideal kernels)")
    right.set_title(f"H100 roofline at {'x'.join(map(str, H100_SHAPE))}")
    for ax in (left, right):
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    if levels:
        left.set_xlim(min(levels) - 0.05, 1.0)
    fig.suptitle("Sparse vs dense matmul: measured on this CPU, predicted on an H100")
    fig.tight_layout()
    return fig
