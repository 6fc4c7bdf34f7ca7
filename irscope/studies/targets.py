"""Case study "One program, three compilers": the same programs compiled for this CPU, an H100 and a TPU v5e.

    irscope figures targets            # six programs x three compilers (a few minutes), figures/targets.png
    irscope figures targets --quick    # GELU and Swish at a small size, CPU and TPU v5e (seconds)

Each program is compiled by XLA:CPU (this machine), XLA:GPU for one H100 and XLA:TPU for one TPU v5e
chip, the last two without the device (`irscope.frontends.targets`; nothing is autotuned there), through
the notebook call `irscope.api.inspect_jax(fn, args, target=...)`, so every number in the table is the one
`python -m inspect.hlo ... --target NAME` prints for the same program. The programs are the repository's
own code, at one size each, f32:

- GELU, Swish, softmax, layer norm: the plain-jnp references of the Pallas kernels
  (`irscope.kernels.{gelu,swish,softmax,layer_norm}`), on a batch x seq x d_model activation (softmax on
  batch x heads x seq x seq attention scores), each a few MiB;
- MLP block: `mlp_block` of `examples/sharded_mlp.py`, `x + gelu(x @ w1) @ w2` (a transformer's
  feed-forward block), unsharded;
- transformer step: `train_step` of `examples/transformer.py` (forward, backward and SGD update of a
  2-layer decoder), with the example's parameter tree widened (`widened_params`) to d_model 512 and
  256 positions.

Per (program, target) the table gives what the target's compiler made: kernels launched, the HLO
instructions fused into them (nested fusions opened, parameters left out), the kinds of kernel (the
report's kernel kinds; an unfused instruction by its opcode), bytes and FLOPs (irscope's totals in the
target compiler's conventions: XLA's HloCostAnalysis, on TPU with padded tiled layouts, equal to XLA:TPU's
`cost_analysis()`), FLOP/B, the sum of the kernels' times at the roofline peak of the target's own chip
(`irscope.hw`: `cpu` is this machine's measured bandwidth and FLOP/s), the compiler's own estimate where it
gives one (XLA:TPU's `optimal_seconds`; XLA:CPU and a deviceless XLA:GPU give none), and the bytes against
XLA:CPU's for the same program. Nothing is measured: H100 and TPU figures are predictions from modules
compiled without the device.

The figure (`targets.png`) plots exactly the table's kernels, bytes against XLA:CPU's, FLOP/B and t@peak
(with XLA:TPU's estimate), one group of bars per program.

Not handled yet: bf16 programs (the MXU and tensor cores' own type), multi-chip topologies (see the
sharding study and `--mesh`), measured times on the accelerators (no device here), and the kernel-by-kernel
pairing of the three modules (`python -m inspect.diff --target-before cpu --target-after h100` does it
for one program).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from irscope.studies.common import write_png as _write_png

if TYPE_CHECKING:
    from irscope.ir.hlo import Instruction, Module
    from irscope.passes.fusion import Kernel
    from irscope.passes.report import HloReport

TITLE = "One program, three compilers: GELU, Swish, softmax, layer norm, an MLP block and a transformer step on CPU, H100 and TPU v5e"

TARGETS = ("cpu", "h100", "tpu-v5e")
QUICK_TARGETS = ("cpu", "tpu-v5e")
"""Quick mode: the local compiler and one deviceless one (the one that gives its own estimate)."""
COMPILERS = {"cpu": "XLA:CPU (this machine)", "h100": "XLA:GPU, H100 (deviceless)",
             "tpu-v5e": "XLA:TPU, TPU v5e (deviceless)"}
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
"""The repository's examples/ folder (the MLP block and the transformer step live there)."""

ACTIVATION = (4, 512, 1024)
"""batch x seq x d_model: 2,048 tokens of width 1024 (8 MiB of f32), as in a BERT-large-sized layer."""
SCORES = (4, 8, 256, 256)
"""batch x heads x seq x seq attention scores (8 MiB of f32) for softmax."""
MLP = {"tokens": 2048, "d_model": 1024, "d_ff": 4096}
TRANSFORMER = {"d_model": 512, "seq": 256, "batch": 8}
"""4 heads of 128, 2 layers, vocab 256 (the example's); at 256 positions XLA:TPU writes its own attention
kernel (see the README)."""
QUICK_SHAPE = (64, 256)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Program:
    """One program of the study: a function and the arguments it is compiled at."""

    name: str
    """As the table names it."""
    source: str
    """Where the function lives in the repository."""
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    """`ShapeDtypeStruct`s (or pytrees of them), one per positional parameter."""
    size: str
    """The size in words, for the table."""


# --- The programs -------------------------------------------------------------------------------------

def _f32(*shape: int) -> Any:
    import jax
    import jax.numpy as jnp

    return jax.ShapeDtypeStruct(shape, jnp.float32)


def _shape_text(shape: Sequence[int]) -> str:
    return f"f32[{','.join(map(str, shape))}]"


def _example(file: str) -> Any:
    """An examples/ file, loaded as `python -m inspect.hlo` loads it."""
    from irscope.frontends.model_file import load

    return load(EXAMPLES / file).module


def widened_params(example: Any, d_model: int, seq: int) -> Any:
    """`example.init_params`'s tree of `ShapeDtypeStruct`s at another width and length: each dimension that
    is the example's d_model, 3 d_model (QKV), d_mlp or sequence length becomes the new one; the vocabulary
    stays. Traces `init_params` without allocating (`jax.eval_shape`)."""
    import jax

    dims = {example.D_MODEL: d_model, 3 * example.D_MODEL: 3 * d_model, example.D_MLP: 4 * d_model,
            example.SEQ: seq}
    if len(dims) != 4 or example.VOCAB in dims:
        raise ValueError("the example's dimensions are not distinct; widened_params cannot tell them apart")
    if d_model % example.N_HEADS:
        raise ValueError(f"d_model {d_model} is not a multiple of the example's {example.N_HEADS} heads")
    tree = jax.eval_shape(example.init_params, jax.random.key(0))
    return jax.tree.map(lambda s: jax.ShapeDtypeStruct(tuple(dims.get(n, n) for n in s.shape), s.dtype), tree)


def programs(quick: bool) -> list[Program]:
    """The study's programs: GELU and Swish at a small size when `quick`, else all six."""
    import jax
    import jax.numpy as jnp

    from irscope.kernels.gelu import gelu_reference
    from irscope.kernels.layer_norm import layer_norm_reference
    from irscope.kernels.softmax import softmax_reference
    from irscope.kernels.swish import swish_reference

    act = QUICK_SHAPE if quick else ACTIVATION
    out = [Program("GELU", "irscope/kernels/gelu.py:gelu_reference", gelu_reference, (_f32(*act),),
                   _shape_text(act)),
           Program("Swish", "irscope/kernels/swish.py:swish_reference", swish_reference, (_f32(*act),),
                   _shape_text(act))]
    if quick:
        return out
    d = ACTIVATION[-1]
    out.append(Program("softmax", "irscope/kernels/softmax.py:softmax_reference", softmax_reference,
                       (_f32(*SCORES),), _shape_text(SCORES)))
    out.append(Program("layer norm", "irscope/kernels/layer_norm.py:layer_norm_reference", layer_norm_reference,
                       (_f32(*ACTIVATION), _f32(d), _f32(d)), _shape_text(ACTIVATION)))
    t, dm, ff = MLP["tokens"], MLP["d_model"], MLP["d_ff"]
    out.append(Program("MLP block", "examples/sharded_mlp.py:mlp_block", _example("sharded_mlp.py").mlp_block,
                       (_f32(t, dm), _f32(dm, ff), _f32(ff, dm)), f"{t} tokens, {dm}->{ff}->{dm}"))
    tr = _example("transformer.py")
    d_model, seq, batch = TRANSFORMER["d_model"], TRANSFORMER["seq"], TRANSFORMER["batch"]
    step = tr.IRSCOPE_EXAMPLES["train_step"][0]
    out.append(Program("transformer step", "examples/transformer.py:train_step", step,
                       (widened_params(tr, d_model, seq), jax.ShapeDtypeStruct((batch, seq + 1), jnp.int32)),
                       f"d_model {d_model}, {seq} tokens x {batch}, {tr.N_LAYERS} layers"))
    return out


# --- What one compiler made ---------------------------------------------------------------------------

def _fused_instructions(module: Module, kernel: Kernel) -> Iterator[Instruction]:
    """The instructions inside a fusion kernel, nested fusions opened (their calls and all parameters left
    out); nothing for a kernel that is not a fusion."""
    todo = [kernel.fused_computation] if kernel.fused_computation else []
    while todo:
        for inst in module.computations[todo.pop()].instructions:
            if inst.opcode == "fusion":
                todo.extend(inst.called)
            elif inst.opcode != "parameter":
                yield inst


def fused_ops(module: Module, kernel: Kernel) -> int:
    """HLO instructions fused into a kernel (nested fusions opened, parameters left out); 0 when unfused."""
    return sum(1 for _ in _fused_instructions(module, kernel))


def kernel_label(kernel: Kernel) -> str:
    """What kind of kernel it is: the report's kind (`kLoop`, `__triton_nested_gemm_fusion`, `pallas`...),
    an unfused instruction by its opcode, a custom call by its target."""
    if kernel.kind == "custom-call":
        return kernel.instruction.attrs.get("custom_call_target", "custom-call").strip('"')
    if kernel.kind == "op":
        return kernel.opcode
    return kernel.kind


def describe_kinds(kinds: dict[str, int], limit: int = 4) -> str:
    """'39 __triton_nested_gemm_fusion, 26 kInput, ...': the most frequent kinds first, `limit` of them."""
    ordered = sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))
    text = ", ".join(f"{n} {kind}" for kind, n in ordered[:limit])
    rest = sum(n for _, n in ordered[limit:])
    return text + (f", {rest} other" if rest else "")


NOTABLE = ("dot", "convolution", "custom-call", "reduce", "reduce-window", "copy-start", "exponential")
"""Opcodes counted inside every kernel (nested fusions opened) for the notes: where the matmuls went."""


def _notable_ops(module: Module, kernel: Kernel) -> Counter[str]:
    opcodes = [i.opcode for i in _fused_instructions(module, kernel)] if kernel.fused_computation else [kernel.opcode]
    return Counter(op for op in opcodes if op in NOTABLE)


def summarize(program: Program, target: str, report: HloReport) -> dict[str, Any]:
    """One (program, target): the report's totals and what kinds of kernels the compiler made."""
    from irscope.passes.compiler_estimate import module_estimate_s

    module = report.module
    kernels = [r.kernel for r in report.rows]
    ops: Counter[str] = Counter()
    for k in kernels:
        ops += _notable_ops(module, k)
    # XLA counts a custom call as -1 FLOPs and -1 bytes; where the module has one, the row shows irscope's
    # estimate (custom calls costed from their shapes) and keeps XLA's figures beside it.
    estimated = report.unknown_custom_calls > 0
    totals = report.estimated_totals if estimated else report.totals
    return {
        "program": program.name, "source": program.source, "size": program.size, "target": target,
        "compiler": COMPILERS.get(target, target), "chip": report.chip.name,
        "device_kind": report.extra.get("device_kind"), "autotuned": report.extra.get("autotuned"),
        "compile_s": report.extra.get("compile_s"),
        "kernels": len(kernels), "fused_ops": sum(fused_ops(module, k) for k in kernels),
        "kinds": dict(Counter(kernel_label(k) for k in kernels)),
        "ops": dict(sorted(ops.items())),
        "custom_calls": dict(Counter(_custom_call_label(k) for k in kernels if k.kind in ("custom-call", "pallas"))),
        "totals": "estimated" if estimated else "xla",
        "bytes": totals.bytes_accessed, "flops": totals.flops, "transcendentals": totals.transcendentals,
        "xla_bytes": report.totals.bytes_accessed, "xla_flops": report.totals.flops,
        "intensity": totals.flops / totals.bytes_accessed if totals.bytes_accessed > 0 else None,
        "time_at_peak_s": report.time_at_peak_s,
        "compiler_estimate_s": module_estimate_s(report),
        "unknown_custom_calls": report.unknown_custom_calls,
        "largest": _largest(report),
    }


def _custom_call_label(kernel: Kernel) -> str:
    """A custom call's target, with the op_name XLA gave it when that says more (`pallas: online-softmax`)."""
    label = kernel_label(kernel)
    return f"{label}: {kernel.op_name}" if kernel.op_name and "/" not in kernel.op_name else label


def _largest(report: HloReport, n: int = 3) -> list[dict[str, Any]]:
    """The kernels that move the most bytes: name, kind, ops and bytes (evidence for the notes)."""
    rows = sorted(report.rows, key=lambda r: -r.cost.bytes_accessed)[:n]
    return [{"name": r.name, "kind": kernel_label(r.kernel), "ops": list(dict.fromkeys(r.kernel.ops))[:8],
             "bytes": r.cost.bytes_accessed, "op_name": r.kernel.op_name} for r in rows]


# --- The study ------------------------------------------------------------------------------------------

def check_extras(targets: Sequence[str]) -> None:
    """Raise `TargetUnavailable` (one line naming the pip command) for the first target whose compiler is
    not installed, before anything is compiled or written."""
    from irscope.frontends.targets import parse_target, require_extra

    for name in targets:
        require_extra(parse_target(name))


def run(out_dir: Path, *, quick: bool = False, progress: Progress | None = None) -> dict[str, Any]:
    """Compile every program for every target, tabulate and plot; returns `table`, `rows`, `notes`, `figures`.

    Arguments:
        out_dir: where `targets.png` goes (created if needed).
        quick: GELU and Swish at a small size, for CPU and TPU v5e only.
        progress: one-line messages; the bar goes to stderr.
    """
    import time

    from irscope.api import inspect_jax
    from irscope.util.progress import Progress as Bar

    targets = QUICK_TARGETS if quick else TARGETS
    check_extras(targets)
    progs = programs(quick)
    if progress is not None:
        progress(f"targets study: {len(progs)} programs x {len(targets)} compilers ({', '.join(targets)})")
    rows: list[dict[str, Any]] = []
    start = time.perf_counter()
    with Bar(total=len(progs) * len(targets), label="targets study") as bar:
        for program in progs:
            for target in targets:
                report = inspect_jax(program.fn, list(program.args), target=target)
                rows.append(summarize(program, target, report))
                bar.advance(f"{program.name} on {target}")
    seconds = time.perf_counter() - start
    table = [table_row(r, rows) for r in rows]
    path = Path(out_dir) / "targets.png"
    _write_png(path, plot(table))
    return {"study": "targets", "title": TITLE, "quick": quick, "targets": list(targets),
            "programs": [{"name": p.name, "source": p.source, "size": p.size} for p in progs],
            "table": table, "rows": rows, "seconds": round(seconds, 1),
            "notes": notes(rows, seconds), "figures": [str(path)]}


def table_row(row: dict[str, Any], rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One printed row: numbers, in the units the column names (the figure plots these values)."""
    cpu = next((r for r in rows if r["program"] == row["program"] and r["target"] == "cpu"), None)
    est = row["compiler_estimate_s"]
    return {
        "program": row["program"], "size": row["size"], "target": row["target"],
        "kernels": row["kernels"], "fused ops": row["fused_ops"], "kernel kinds": describe_kinds(row["kinds"]),
        "MiB": row["bytes"] / 2**20, "GFLOP": row["flops"] / 1e9,
        "FLOP/B": row["intensity"],
        "t@peak us": row["time_at_peak_s"] * 1e6,
        "compiler us": est * 1e6 if est is not None else None,
        "totals": row["totals"],
        "bytes vs cpu": row["bytes"] / cpu["bytes"] if cpu and cpu["bytes"] > 0 else None,
    }


def notes(rows: Sequence[dict[str, Any]], seconds: float) -> list[str]:
    """What the table says, in sentences (each from the rows)."""
    out = [f"{len(rows)} compiles in {seconds:.0f} s; f32; H100 and TPU v5e modules compiled without the device "
           "(not autotuned); t@peak on each target's own chip (cpu: this machine's measured peaks); all "
           "predictions, nothing measured."]
    by = {(r["program"], r["target"]): r for r in rows}
    for program in dict.fromkeys(r["program"] for r in rows):
        mine = [by[(program, t)] for t in TARGETS if (program, t) in by]
        parts = []
        for r in mine:
            matmuls = r["ops"].get("dot", 0) + r["ops"].get("convolution", 0)
            parts.append(f"{r['target']} {r['kernels']} kernels ({describe_kinds(r['kinds'], 3)})"
                         + (f", matmuls as {_matmul_words(r)}" if matmuls else ""))
        out.append(f"{program}: " + "; ".join(parts) + ".")
    missing = [f"{r['program']} on {r['target']}" for r in rows if r["target"].startswith("tpu")
               and r["compiler_estimate_s"] is None]
    if missing:
        out.append("XLA:TPU gives no module estimate (optimal_seconds <= 0) for: " + ", ".join(missing) + ".")
    for r in rows:
        if r["totals"] == "estimated":
            calls = ", ".join(f"{n} {label}" for label, n in sorted(r["custom_calls"].items(), key=lambda kv: -kv[1]))
            out.append(f"{r['program']} on {r['target']}: totals 'estimated': {r['unknown_custom_calls']} custom "
                       f"calls ({calls}) that XLA counts as -1 are costed from their shapes and, for Mosaic kernels "
                       f"with an MLIR text body, what the body computes (0 FLOPs where irscope cannot see "
                       f"inside); XLA's own totals: {r['xla_bytes'] / 2**20:,.1f} MiB, "
                       f"{r['xla_flops'] / 1e9:.3f} GFLOP.")
    return out


def _matmul_words(row: dict[str, Any]) -> str:
    ops = row["ops"]
    return ", ".join(f"{ops[k]} {k}" for k in ("dot", "convolution") if ops.get(k))


# --- The figure ----------------------------------------------------------------------------------------

COLORS = {"cpu": "tab:gray", "h100": "tab:green", "tpu-v5e": "tab:blue"}
PANELS = (
    ("kernels", "kernels launched", "log", "Kernels the compiler made"),
    ("bytes vs cpu", "bytes accessed / XLA:CPU's", "linear", "Memory traffic against XLA:CPU's"),
    ("FLOP/B", "FLOP per byte (module)", "log", "Arithmetic intensity"),
    ("t@peak us", "t@peak on the target's chip (us)", "log", "Time at the roofline peak of each target's chip"),
)
"""(table column, axis label, scale, title) of each panel."""


def plot(table: Sequence[dict[str, Any]]) -> Any:
    """Four panels, one group of bars per program and one bar per target: kernels, bytes against XLA:CPU's,
    FLOP/B and t@peak (XLA:TPU's own estimate as a marker). Every plotted value is a table cell."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    programs_ = list(dict.fromkeys(r["program"] for r in table))
    targets = [t for t in TARGETS if any(r["target"] == t for r in table)]
    by = {(r["program"], r["target"]): r for r in table}
    width = 0.8 / len(targets)
    fig, axes = plt.subplots(2, 2, figsize=(13, 8.4))
    for ax, (column, label, scale, title) in zip(axes.flat, PANELS, strict=True):
        for j, target in enumerate(targets):
            xs, heights = [], []
            for i, program in enumerate(programs_):
                value = by[(program, target)][column] if (program, target) in by else None
                if value is not None and (scale == "linear" or value > 0):
                    xs.append(i + (j - (len(targets) - 1) / 2) * width)
                    heights.append(value)
            bars = ax.bar(xs, heights, width, color=COLORS.get(target, "tab:orange"), label=target,
                          gid=f"{column}|{target}")
            if column == "kernels":
                ax.bar_label(bars, labels=[f"{h:.0f}" for h in heights], fontsize=7, padding=1)
            if column == "t@peak us" and target.startswith("tpu"):
                est = [(x, by[(p, target)]["compiler us"]) for x, p in zip(xs, programs_, strict=True)
                       if by[(p, target)]["compiler us"] is not None]
                if est:
                    ax.plot([x for x, _ in est], [e for _, e in est], "k_", markersize=14, mew=2,
                            gid=f"compiler us|{target}")
        if column == "bytes vs cpu":
            ax.axhline(1.0, color="black", linewidth=0.8, linestyle="--")
            ax.set_ylim(0, None)
        ax.set_yscale(scale)
        ax.set_ylabel(label)
        ax.set_title(title, fontsize=9.5)
        ax.set_xticks(range(len(programs_)))
        ax.set_xticklabels([p.replace(" ", "\n") for p in programs_], fontsize=8)
        ax.grid(True, axis="y", which="both", alpha=0.3)
    # The kernels panel: a one-kernel bar stays visible on the log axis, and the counts above the bars fit.
    top = max((r["kernels"] for r in table), default=1)
    axes.flat[0].set_ylim(0.7, top * 2.2)
    handles = [Patch(color=COLORS.get(t, "tab:orange"), label=COMPILERS.get(t, t)) for t in targets]
    handles.append(Line2D([], [], color="black", marker="_", linestyle="none", markersize=14, mew=2,
                          label="XLA:TPU's own estimate (optimal_seconds)"))
    handles.append(Line2D([], [], color="black", linestyle="--", linewidth=0.8, label="XLA:CPU's bytes (ratio 1)"))
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=8.5, frameon=False)
    fig.suptitle("The same programs compiled by XLA for this CPU, an H100 and a TPU v5e (f32)\n"
                 "H100 and TPU v5e: compiled without the device, not autotuned. t@peak and the TPU estimate are "
                 "predictions, not measurements\n(the cpu roofline is this machine's measured bandwidth and FLOP/s)",
                 fontsize=10)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig


def plotted(fig: Any) -> dict[str, list[float]]:
    """The values the figure plots, by `column|target` (what `plot` tagged): bar heights and markers."""
    out: dict[str, list[float]] = {}
    for ax in fig.axes:
        for container in ax.containers:
            gid = container.patches[0].get_gid() if container.patches else None
            if gid is None:
                gid = getattr(container, "get_gid", lambda: None)()
            if gid is not None:
                out[gid] = [p.get_height() for p in container.patches]
        for line in ax.lines:
            if line.get_gid():
                out[line.get_gid()] = [float(y) for y in line.get_ydata()]
    return out
