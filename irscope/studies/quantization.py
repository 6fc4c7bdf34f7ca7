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
as ratios to the same model's fp32 on linear axes from 0 (the fp32 bar at 1 carries its own value), each bar
labelled with its ratio. The table (`irscope figures quantization` prints it; the README
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
from dataclasses import replace
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
    add_ratios(rows, threads)
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
    if "size_ratio" not in row:
        add_ratios(rows, threads)
    out: dict[str, Any] = {
        "model": row["model"], "mode": row["mode"],
        "size MB": f"{row['size_bytes'] / 1e6:.2f}",
        "size/fp32": "-" if row["size_ratio"] is None else f"{row['size_ratio']:.3f}",
    }
    for n in threads:
        ratio = row[f"latency_ratio_{n}t"]
        out[f"{n}T ms"] = f"{row['latency_s'][str(n)] * 1e3:.2f}"
        out[f"{n}T/fp32"] = "-" if ratio is None else f"{ratio:.2f}"
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
    out += ratio_ranges(rows, threads)
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


def ratio_ranges(rows: Sequence[dict[str, Any]], threads: Sequence[int]) -> list[str]:
    """One line per non-fp32 mode: the range over models of its size and latency ratios to fp32 (the figure's
    finding in numbers)."""
    if rows and "size_ratio" not in rows[0]:
        add_ratios(rows, threads)
    out = []
    for mode in dict.fromkeys(r["mode"] for r in rows if r["mode"] != "fp32"):
        mine = [r for r in rows if r["mode"] == mode and r["size_ratio"] is not None]
        if not mine:
            continue
        parts = [f"size {_span([r['size_ratio'] for r in mine], 3)}"]
        parts += [f"latency {n} thread{'s' if n > 1 else ''} {_span([r[f'latency_ratio_{n}t'] for r in mine], 2)}"
                  for n in threads]
        out.append(f"{mode}/fp32 over {len(mine)} model{'s' if len(mine) > 1 else ''}: " + ", ".join(parts))
    return out


def _span(values: Sequence[float], digits: int) -> str:
    lo, hi = min(values), max(values)
    return f"{lo:.{digits}f}" if f"{lo:.{digits}f}" == f"{hi:.{digits}f}" else f"{lo:.{digits}f}-{hi:.{digits}f}"


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
    """Grouped bars of each mode's ratio to the same model's fp32 (size, then latency per thread count), on a
    linear axis from 0 with the fp32 line at 1; each bar labelled with its ratio, each fp32 bar with its value."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    models = list(dict.fromkeys(r["model"] for r in rows))
    modes = list(dict.fromkeys(r["mode"] for r in rows))
    by = {(r["model"], r["mode"]): r for r in rows}
    panels: list[tuple[str, str, str]] = [("model size", "size_ratio", "size_bytes")]
    for n in threads:
        panels.append((f"latency, {n} thread{'s' if n > 1 else ''} (median)", f"latency_ratio_{n}t", str(n)))
    fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 4.4), squeeze=False)
    width = 0.8 / max(len(modes), 1)
    for ax, (title, key, absolute) in zip(axes[0], panels, strict=True):
        top = max([1.0, *(r[key] for r in rows if r.get(key) is not None)])
        for k, mode in enumerate(modes):
            xs, heights, labels = [], [], []
            for i, model in enumerate(models):
                row = by.get((model, mode))
                if row is None or row.get(key) is None:
                    continue
                xs.append(i + (k - (len(modes) - 1) / 2) * width)
                heights.append(row[key])
                labels.append(_absolute(row, absolute) if mode == "fp32" else f"{row[key]:.2f}")
            bars = ax.bar(xs, heights, width=width * 0.95, color=_MODE_COLORS.get(mode, "#d9d9d9"), label=mode,
                          edgecolor="#555555", linewidth=0.5)
            ax.bar_label(bars, labels=labels, fontsize=6.5, padding=1, rotation=90)
        ax.axhline(1.0, color="#555555", lw=0.8, ls="--")
        ax.set_xticks(range(len(models)), models, fontsize=8)
        ax.set_ylim(0, top * 1.3)
        ax.set_ylabel("x the same model's fp32 (lower is better)", fontsize=8)
        ax.set_title(title, fontsize=9)
        ax.tick_params(axis="y", labelsize=8)
        ax.grid(axis="y", alpha=0.3)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(modes) + 1, fontsize=8, frameon=False,
               title="mode (bar label: x fp32; the fp32 bar's label: its own value)", title_fontsize=8)
    fig.suptitle(f"TFLite quantization on {machine['cpu']} ({machine['runtime']}, XNNPACK); {inputs}, batch 1, "
                 "random weights: each mode against fp32", fontsize=9)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    return fig


def _absolute(row: dict[str, Any], what: str) -> str:
    """The fp32 bar's own value: `13.9 MB`, `12.6 ms`."""
    if what == "size_bytes":
        return f"{row['size_bytes'] / 1e6:.3g} MB"
    return f"{row['latency_s'][what] * 1e3:.3g} ms"


def add_ratios(rows: Sequence[dict[str, Any]], threads: Sequence[int]) -> None:
    """Give each row its ratios to the same model's fp32: `size_ratio` and `latency_ratio_<n>t` per thread
    count (None without an fp32 row); the figure draws these, the table prints them."""
    for row in rows:
        base = _fp32(row, rows)
        row["size_ratio"] = row["size_bytes"] / base["size_bytes"] if base else None
        for n in threads:
            row[f"latency_ratio_{n}t"] = row["latency_s"][str(n)] / base["latency_s"][str(n)] if base else None


# ---------------------------------------------------------------------------------------------
# The fix, tried for real: keep the layers that lose most in float

KEEP_FLOAT_EVAL_SEED = 1000
"""Random evaluation inputs start at this seed, apart from the calibration samples (seeds 0..7)."""


def keep_float(source: Any, n: int, out_path: str | Path, *, calibration: Any = None, calibration_samples: int = 8,
               samples: int = 4, threads: int = 1, rounds: int = ROUNDS, progress: Progress | None = None
               ) -> dict[str, Any]:
    """Convert `source` (a keras.Model, SavedModel dir or concrete function) to fp32 and to int8, find the
    `n` layers of the int8 model that lose most SQNR (`irscope.passes.quant_error`), convert again with
    those left in float (`convert_keep_float`), and measure all three: size, latency (interleaved, XNNPACK),
    and per-layer and output error against fp32 on the same random inputs (seed `KEEP_FLOAT_EVAL_SEED`).

    Both int8 models take the same route (calibrated once per conversion on the same data, quantized by
    the MLIR quantizer, float input/output), so they differ only in the kept layers. The kept model is
    written to `out_path`. Returns a dict: `rows` (fp32, int8, int8 keep n: size, latency, output SQNR and
    cosine), `kept` (op, opcode, tensor, lost dB), `layers` and `layers_kept` (LayerErrors).
    """
    from irscope.frontends.tflite_convert import convert, convert_keep_float
    from irscope.measure.tflite_latency import Runner, measure_interleaved
    from irscope.measure.tflite_tensors import compare_layers
    from irscope.util.files import write_atomic

    say = progress or (lambda _msg: None)
    out_path = Path(out_path)
    with tempfile.TemporaryDirectory(prefix="irscope-keep-") as tmp:
        fp32, base = Path(tmp) / "fp32.tflite", Path(tmp) / "int8.tflite"
        say("converting to fp32 and int8 ...")
        fp32.write_bytes(convert(source, "fp32"))
        base.write_bytes(convert_keep_float(source, [], representative_data=calibration,
                                            calibration_samples=calibration_samples))
        say(f"per-layer error of int8 on {_plural(samples, 'random sample')} ...")
        layers = compare_layers(fp32, base, samples=samples, seed=KEEP_FLOAT_EVAL_SEED)
        worst = layers.worst(n)
        names = [layers.float_names[x.match.float] for x in worst if x.match.float is not None]
        say(f"converting again with {_plural(len(names), 'layer')} kept in float ...")
        write_atomic(out_path, convert_keep_float(source, names, representative_data=calibration,
                                                  calibration_samples=calibration_samples))
        kept_layers = compare_layers(fp32, out_path, samples=samples, seed=KEEP_FLOAT_EVAL_SEED)
        # the temporary files are gone when the caller reads the reports: name what they held
        layers = replace(layers, float_source="fp32 (converted)", quant_source="int8 (converted, nothing kept)")
        kept_layers = replace(kept_layers, float_source="fp32 (converted)")
        say(f"timing the three models in turns ({_plural(threads, 'thread')}) ...")
        runners = [Runner(p, threads=threads) for p in (fp32, base, out_path)]
        latency = measure_interleaved(runners, warmup=WARMUP, rounds=rounds, per_round=PER_ROUND)
        del runners
    rows = []
    fp32_size = layers.float_size
    for label, size, result, lat in (("fp32", fp32_size, None, latency[0]),
                                     ("int8", layers.quant_size, layers, latency[1]),
                                     (f"int8, {len(names)} kept float", kept_layers.quant_size, kept_layers, latency[2])):
        out = result.to_json() if result is not None else {}
        final = _output_error(result) if result is not None else None
        rows.append({"model": label, "size_bytes": size, "size_ratio": size / fp32_size,
                     "latency_s": lat.median_s, "latency_ratio": lat.median_s / latency[0].median_s,
                     "output_sqnr_db": out.get("final_sqnr_db"),
                     "output_cosine": final.cosine if final else None,
                     "median_layer_sqnr_db": _median_sqnr(result) if result is not None else None})
    return {"rows": rows, "threads": threads,
            "kept": [{"op": x.op, "opcode": x.opcode, "tensor": layers.float_names[x.match.float],
                      "lost_db": x.lost_db} for x in worst if x.match.float is not None],
            "layers": layers, "layers_kept": kept_layers, "path": str(out_path)}


def _plural(n: int, noun: str) -> str:
    from irscope.render.table import plural

    return plural(n, noun)


def _output_error(result: Any) -> Any:
    outputs = [x for x in result.matched if x.op >= 0]
    return outputs[-1].error if outputs else None


def _median_sqnr(result: Any) -> float | None:
    import math
    import statistics

    values = [x.error.sqnr_db for x in result.matched if x.op >= 0 and x.opcode not in ("QUANTIZE", "DEQUANTIZE")
              and math.isfinite(x.error.sqnr_db)]
    return statistics.median(values) if values else None


def keep_float_text(result: dict[str, Any]) -> str:
    """The side-by-side table of `keep_float`."""
    from irscope.render.table import human_bytes, human_time

    def db(x: float | None) -> str:
        return "-" if x is None else f"{x:.1f}"

    lines = ["kept float   " + "; ".join(f"#{k['op']} {k['opcode']} {k['tensor']} (lost {db(k['lost_db'])} dB)"
                                          for k in result["kept"]),
             "",
             f"{'model':<22} {'size':>10} {'x fp32':>7} {'latency':>10} {'x fp32':>7} {'output SQNR':>12} "
             f"{'cosine':>8} {'median layer SQNR':>18}"]
    for r in result["rows"]:
        lines.append(f"{r['model']:<22} {human_bytes(r['size_bytes']):>10} {r['size_ratio']:>7.3f} "
                     f"{human_time(r['latency_s']):>10} {r['latency_ratio']:>7.2f} {db(r['output_sqnr_db']):>9} dB "
                     f"{'-' if r['output_cosine'] is None else format(r['output_cosine'], '.5f'):>8} "
                     f"{db(r['median_layer_sqnr_db']):>15} dB")
    lines.append(f"             latency: median of {ROUNDS * PER_ROUND} runs, {_plural(result['threads'], 'thread')}, XNNPACK, "
                 "the three timed in turns; errors on the same random inputs against fp32")
    return "\n".join(lines)
