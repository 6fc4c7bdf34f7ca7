"""Case study "Quantization: FP32 vs INT8": what each TFLite quantization mode buys in size and CPU latency on
standard vision backbones, and where an int8 model still computes in float.

    irscope figures quantization            # the full study (about 6 minutes on 2 cores), figures/quantization.png
    irscope figures quantization --quick    # a tiny CNN, fp32 and int8, one thread (seconds after TF loads)

Models: `keras.applications` MobileNetV2, ResNet50 and EfficientNetB0, built with `weights=None`
(random weights: no download; size and latency do not depend on the weights' values) at 224x224x3,
batch 1. Each is converted with `irscope.frontends.tflite_convert.convert` in the modes fp32, fp16,
dynamic and int8 (int8 calibrated on 8 random samples, int8 input and output, float fallback allowed so
that any op without an int8 kernel shows up rather than failing the conversion), read back with
`irscope.ir.tflite`, analysed with `irscope.passes.quantization`, and timed with
`irscope.measure.tflite_latency` (LiteRT interpreter, XNNPACK delegate, 1 and 2 threads): the four modes
of one model are timed in turns, `ROUNDS` rounds of `PER_ROUND` runs each after `WARMUP`, and each
latency is the median of its 30 runs, so that load from other jobs on a shared machine falls on
every mode alike and the ratios stay fair.

The figure (`quantization.png`): model size, and latency with 1 and 2 threads, per model and mode
(log scales), each bar labelled with its ratio to fp32. The table (`irscope figures quantization` prints it; the README
quotes it) has one row per model and mode; the notes state the int8/fp32 ratios and what the per-op
precision table shows (`fallbacks`: ops computing in float in a quantized model, and `hybrid` ops).

The machine may be shared: latencies are medians, and the load average before and after is recorded.

Not handled yet: accuracy (random weights have none to lose; `irscope tflite --compare` reports output
drift), int16x8 (XNNPACK has no int16 kernels, so it runs the reference kernels and would dominate the
figure), and other batch sizes.
"""

from __future__ import annotations

import os
import platform
import tempfile
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from irscope.studies.common import write_png as _write_png

TITLE = "Quantization (FP32 vs INT8): size and CPU latency of MobileNetV2, ResNet50, EfficientNetB0 in TFLite"

MODELS = ("MobileNetV2", "ResNet50", "EfficientNetB0")
"""`keras.applications` names, built with weights=None at 224x224."""
MODES = ("fp32", "fp16", "dynamic", "int8")
THREADS = (1, 2)
WARMUP = 3
ROUNDS = 6
PER_ROUND = 5
"""Each model is timed in ROUNDS turns of PER_ROUND runs: a median over 30 runs per mode and thread count."""
QUICK_MODES = ("fp32", "int8")
QUICK_ROUNDS = 1

Progress = Callable[[str], None]


def build_model(name: str) -> Any:
    """A `keras.applications` model with random weights at 224x224x3, or the tiny `quick` CNN."""
    from irscope.frontends.tflite_convert import import_tf

    import_tf()
    import keras

    keras.utils.set_random_seed(0)
    if name == "TinyCNN":
        inputs = keras.Input((32, 32, 3), batch_size=1)
        x = keras.layers.Conv2D(16, 3, strides=2, padding="same", activation="relu6")(inputs)
        x = keras.layers.DepthwiseConv2D(3, padding="same", activation="relu6")(x)
        x = keras.layers.Conv2D(32, 1, activation="relu")(x)
        x = keras.layers.GlobalAveragePooling2D()(x)
        return keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(x), name="tiny_cnn")
    builder = getattr(keras.applications, name)
    return builder(weights=None, input_shape=(224, 224, 3))


def measure_model(name: str, modes: Sequence[str], threads: Sequence[int], work_dir: Path, *, rounds: int,
                  advance: Callable[[str], None]) -> list[dict[str, Any]]:
    """Convert `name` in every mode and analyse each, then time them in turns; one raw row per mode."""
    from irscope.frontends.tflite_convert import convert
    from irscope.ir.tflite import read_tflite
    from irscope.measure.tflite_latency import Runner, measure_interleaved
    from irscope.passes.quantization import analyze_tflite

    model = build_model(name)
    paths, analyses = {}, {}
    for mode in modes:
        paths[mode] = work_dir / f"{name}.{mode}.tflite"
        paths[mode].write_bytes(convert(model, mode))
        analyses[mode] = analyze_tflite(read_tflite(paths[mode]))
        advance(f"{name} {mode} converted")
    latency: dict[str, dict[int, Any]] = {mode: {} for mode in modes}
    for n in threads:
        # All modes of one model at one thread count, in turns (see measure_interleaved).
        runners = [Runner(paths[mode], threads=n) for mode in modes]
        for mode, result in zip(modes, measure_interleaved(runners, warmup=WARMUP, rounds=rounds,
                                                           per_round=PER_ROUND), strict=True):
            latency[mode][n] = result
        del runners
        advance(f"{name} timed on {n} thread{'s' if n > 1 else ''}")
    rows = []
    for mode in modes:
        analysis = analyses[mode]
        fallbacks = Counter(o.opcode for o in analysis.fallbacks)
        hybrid = Counter(o.opcode for o in analysis.all_ops() if o.precision == "hybrid")
        shape_ops = Counter(o.opcode for o in analysis.all_ops()
                            if o.precision not in ("float32", "float16", "int8", "int16", "hybrid"))
        rows.append({
            "model": name, "mode": mode, "size_bytes": analysis.size.total,
            "weights_bytes": dict(analysis.size.weights), "ops": len(analysis.all_ops()),
            "precision_counts": dict(Counter(o.precision for o in analysis.all_ops()
                                             if o.boundary != "dequantize-weights")),
            "weight_dequantize_ops": sum(o.boundary == "dequantize-weights" for o in analysis.all_ops()),
            "fallbacks": dict(fallbacks),
            "hybrid": dict(hybrid), "other_ops": dict(shape_ops),
            "boundaries": [f"{o.opcode}:{o.boundary}" for o in analysis.boundaries],
            "io": [list(x) for x in analysis.io_dtypes()],
            "latency_s": {str(n): latency[mode][n].median_s for n in threads},
            "latency_min_s": {str(n): latency[mode][n].min_s for n in threads},
            "latency_p90_s": {str(n): latency[mode][n].p90_s for n in threads},
            "macs": analysis.totals()["macs"],
        })
    return rows


def run(out_dir: Path, *, quick: bool = False, progress: Progress | None = None,
        models: Sequence[str] | None = None) -> dict[str, Any]:
    """Convert, measure and plot; returns `table` (printed), `rows` (raw), `notes`, `figures`, `machine`.

    Arguments:
        out_dir: where `quantization.png` goes (created if needed).
        quick: a tiny CNN in fp32 and int8, one thread, few repeats (checks the pipeline, not the numbers).
        progress: one-line messages; the bar goes to stderr.
        models: `keras.applications` names instead of `MODELS`.
    """
    from irscope.util.progress import Progress as Bar

    names = tuple(models) if models is not None else (("TinyCNN",) if quick else MODELS)
    modes = QUICK_MODES if quick else MODES
    threads = (1,) if quick else THREADS
    rounds = QUICK_ROUNDS if quick else ROUNDS
    if progress is not None:
        progress(f"quantization study: {len(names)} model(s) x {len(modes)} modes, latency on {threads} thread(s)"
                 " (loading TensorFlow ...)")
    load_before = _load()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="irscope-quant-") as tmp, \
            Bar(total=len(names) * (len(modes) + len(threads)), label="quantization study") as bar:
        for name in names:
            rows += measure_model(name, modes, threads, Path(tmp), rounds=rounds, advance=bar.advance)
    machine = _machine(load_before, _load())
    out_dir = Path(out_dir)
    path = out_dir / "quantization.png"
    _write_png(path, plot(rows, threads, machine, inputs="32x32" if quick and models is None else "224x224"))
    return {
        "study": "quantization",
        "title": TITLE,
        "quick": quick,
        "machine": machine,
        "table": [table_row(r, rows, threads) for r in rows],
        "rows": rows,
        "notes": notes(rows, threads, machine),
        "figures": [str(path)],
    }


def _fp32(row: dict[str, Any], rows: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    return next((r for r in rows if r["model"] == row["model"] and r["mode"] == "fp32"), None)


def table_row(row: dict[str, Any], rows: Sequence[dict[str, Any]], threads: Sequence[int]) -> dict[str, Any]:
    """One printed row: size and latencies, each with its ratio to the same model's fp32."""
    base = _fp32(row, rows)
    out: dict[str, Any] = {
        "model": row["model"], "mode": row["mode"],
        "size MB": f"{row['size_bytes'] / 1e6:.2f}",
        "size/fp32": f"{row['size_bytes'] / base['size_bytes']:.3f}" if base else "-",
    }
    for n in threads:
        t = row["latency_s"][str(n)]
        out[f"{n}T ms"] = f"{t * 1e3:.2f}"
        out[f"{n}T/fp32"] = f"{t / base['latency_s'][str(n)]:.2f}" if base else "-"
    counts = sorted(row["precision_counts"].items(), key=lambda kv: -kv[1])
    out["ops by precision"] = ", ".join(f"{p} {n}" for p, n in counts)
    if row["weight_dequantize_ops"]:
        out["ops by precision"] += f" (+{row['weight_dequantize_ops']} weight DEQUANTIZE)"
    return out


def notes(rows: Sequence[dict[str, Any]], threads: Sequence[int], machine: dict[str, Any]) -> list[str]:
    """The ratios and what the precision tables show, computed from the rows."""
    out = [f"machine: {machine['cpu']} ({machine['cores']} cores), {machine['runtime']}, XNNPACK; "
           f"load average {machine['load_avg_before']} before, {machine['load_avg_after']} after"]
    for model in dict.fromkeys(r["model"] for r in rows):
        mine = {r["mode"]: r for r in rows if r["model"] == model}
        base, int8 = mine.get("fp32"), mine.get("int8")
        if base and int8:
            lat = ", ".join(f"{n} thread{'s' if n > 1 else ''} {int8['latency_s'][str(n)] / base['latency_s'][str(n)]:.2f}"
                            for n in threads)
            out.append(f"{model}: int8/fp32 size {int8['size_bytes'] / base['size_bytes']:.3f}, latency {lat}")
    int8_rows = [r for r in rows if r["mode"] == "int8"]
    if int8_rows:
        fallback = Counter()
        for r in int8_rows:
            fallback.update(r["fallbacks"])
        io = sorted({f"{'/'.join(r['io'][0])} in, {'/'.join(r['io'][1])} out" for r in int8_rows})
        if fallback:
            out.append("int8 models: ops still computing in float: "
                       + ", ".join(f"{k} x{n}" for k, n in fallback.most_common()) + f"; I/O {'; '.join(io)}")
        else:
            out.append(f"int8 models: every op computes in int8 (no float fallback, no QUANTIZE/DEQUANTIZE inside "
                       f"the graph); I/O {'; '.join(io)}")
    for r in int8_rows:
        if r["other_ops"]:
            ops = ", ".join(f"{k} x{n}" for k, n in Counter(r["other_ops"]).most_common())
            out.append(f"{r['model']} int8: {sum(r['other_ops'].values())} ops compute on integers that are not "
                       f"quantized values ({ops}): shape arithmetic, the same in every mode")
    for r in rows:
        if r["mode"] == "dynamic":
            hybrid = sum(r["hybrid"].values())
            fb = ", ".join(f"{k} x{n}" for k, n in Counter(r["fallbacks"]).most_common()) or "none"
            out.append(f"{r['model']} dynamic: {hybrid} hybrid ops (int8 weights, float activations: "
                       f"{', '.join(f'{k} x{n}' for k, n in r['hybrid'].items()) or 'none'}); weighted ops left in "
                       f"float: {fb}")
    return out


def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def _machine(before: str, after: str) -> dict[str, Any]:
    from irscope.measure.tflite_latency import interpreter_class

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "runtime": interpreter_class()[2],
            "load_avg_before": before, "load_avg_after": after}


# ---------------------------------------------------------------------------------------------
# The figure

_MODE_COLORS = {"fp32": "#fb8072", "fp16": "#fdb462", "dynamic": "#bebada", "int8": "#80b1d3", "int16x8": "#b3de69"}


def plot(rows: Sequence[dict[str, Any]], threads: Sequence[int], machine: dict[str, Any], *,
         inputs: str = "224x224") -> Any:
    """Grouped bars: size, then latency per thread count; each bar labelled with its ratio to fp32."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    models = list(dict.fromkeys(r["model"] for r in rows))
    modes = list(dict.fromkeys(r["mode"] for r in rows))
    by = {(r["model"], r["mode"]): r for r in rows}
    panels: list[tuple[str, Callable[[dict[str, Any]], float]]] = [("model size (MB)", lambda r: r["size_bytes"] / 1e6)]
    for n in threads:
        panels.append((f"latency, {n} thread{'s' if n > 1 else ''} (ms, median)",
                       lambda r, n=n: r["latency_s"][str(n)] * 1e3))
    fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 4.2), squeeze=False)
    width = 0.8 / max(len(modes), 1)
    for ax, (title, value) in zip(axes[0], panels, strict=True):
        for k, mode in enumerate(modes):
            xs, heights, labels = [], [], []
            for i, model in enumerate(models):
                row = by.get((model, mode))
                if row is None:
                    continue
                base = by.get((model, "fp32"))
                xs.append(i + (k - (len(modes) - 1) / 2) * width)
                heights.append(value(row))
                labels.append(f"{value(row) / value(base):.2f}" if base and mode != "fp32" else "")
            bars = ax.bar(xs, heights, width=width * 0.95, color=_MODE_COLORS.get(mode, "#d9d9d9"), label=mode,
                          edgecolor="#555555", linewidth=0.5)
            ax.bar_label(bars, labels=labels, fontsize=6.5, padding=1, rotation=90)
        ax.set_xticks(range(len(models)), models, fontsize=8)
        ax.set_yscale("log")  # ResNet50 is 7x MobileNetV2's size and 10x its latency: keep both readable
        ax.set_title(title + ", log scale", fontsize=9)
        ax.tick_params(axis="y", labelsize=8)
        ax.margins(y=0.25)
        ax.grid(axis="y", alpha=0.3)
    axes[0][0].legend(fontsize=8, title="mode (label: x fp32)", title_fontsize=7)
    fig.suptitle(f"TFLite quantization on {machine['cpu']} ({machine['runtime']}, XNNPACK); {inputs}, batch 1, "
                 "random weights", fontsize=9)
    fig.tight_layout()
    return fig
