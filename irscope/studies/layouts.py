"""Case study "Memory layouts": the same convolutional network written NHWC and NCHW, through XLA:CPU.

    irscope figures layouts            # the full study (a minute or two), figures/layouts.png
    irscope figures layouts --quick    # a tiny network (seconds)

The network: a classifier of `depth` 3x3 convolutions (the first from 3 input channels, the rest
`channels` to `channels`, stride 1, SAME padding), each followed by ReLU, then a global average pool
and a dense layer to 10 classes, f32, on a batch of square images. It is written twice with
`lax.conv_general_dilated`: with dimension numbers `("NHWC", "HWIO", "NHWC")` on NHWC inputs, and
`("NCHW", "OIHW", "NCHW")` on NCHW inputs, at depths `DEPTHS`.

For each, `irscope.passes.layout.layouts` lists the kernels of the optimized module that reorder
memory (a transpose or a layout-changing copy, alone or as a fusion's root) and XLA's bytes accessed
by them, against the whole program's. The JIT-compiled function is timed with
`irscope.measure.timing.measure_function` (median), and its kernels are timed one by one from a
profiler trace (`irscope.measure.trace.profile_kernels`), which gives the measured time of the
layout-changing kernels themselves.

What to expect on XLA:CPU: its convolutions run NHWC (`dim_labels=b01f_01io->b01f`), so layout
assignment turns the NCHW program into an NHWC one and adds transposes where the program's interface
fixes the layout: the input images, and every weight (a parameter in OIHW, transposed to HWIO on each
call). Inside the network nothing is transposed, so the cost does not grow with depth the way a
per-layer transpose would. XLA:CPU (jaxlib 0.10) also hands the whole convolution stack to one
YNNPACK fusion (`__ynn_fusion`), whose traffic is only its inputs and output: beside it, the
boundary transposes are a large share of the (small) traffic, and the measured time says how much
they cost against the convolutions' compute. The notes name the kernels that hold the convolutions.

The figure (`layouts.png`): left, bytes accessed per configuration, split into layout-changing
kernels and the rest; middle, the measured time of the whole call; right, the profiled time of the
layout-changing kernels on their own axis, each labelled with its share of the call.

The TFLite side (`irscope.studies.layouts_tflite`, run after the XLA part when TensorFlow is
installed): the same classifier built in Keras `channels_last` and `channels_first`, batch 1, 32x32,
converted to fp32 `.tflite`; TFLite kernels are NHWC only, so the converter inserts TRANSPOSE ops,
which the notes count, with their bytes, share of the activation traffic and the LiteRT latency of
both models (1 thread, interleaved median). The summary's `tflite` entry holds those rows.

Not handled yet: GPU backends (cuDNN prefers NHWC for tensor cores too, and XLA:GPU's layout
assignment makes the same kind of choice), and training steps (the weight gradients come back in
the weights' OIHW layout, adding a transpose per weight).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from irscope.studies.common import write_png as _write_png

TITLE = "Memory layouts: a CNN written NHWC vs NCHW, the transposes XLA:CPU adds, and their measured cost"

FULL = {"batch": 8, "image": 32, "channels": 64, "depths": (2, 8)}
"""8 images of 32x32, 64 channels: about 0.6 GFLOP per 64->64 convolution, tens of ms on two cores."""
QUICK = {"batch": 2, "image": 8, "channels": 8, "depths": (2,)}
FORMATS = ("NHWC", "NCHW")
CLASSES = 10

Progress = Callable[[str], None]


def network(fmt: str, depth: int) -> Callable[..., Any]:
    """The classifier in one layout: f(images, conv weights (a list), dense weight) -> logits."""
    import jax
    import jax.numpy as jnp
    from jax import lax

    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r} (known: {', '.join(FORMATS)})")
    kernel_fmt = "HWIO" if fmt == "NHWC" else "OIHW"
    spatial = (1, 2) if fmt == "NHWC" else (2, 3)

    def f(x: jax.Array, convs: list[jax.Array], dense: jax.Array) -> jax.Array:
        for w in convs:
            x = jax.nn.relu(lax.conv_general_dilated(x, w, (1, 1), "SAME", dimension_numbers=(fmt, kernel_fmt, fmt)))
        pooled = jnp.mean(x, axis=spatial)  # (batch, channels)
        return pooled @ dense

    del depth  # the depth is the length of `convs`
    return f


def arguments(fmt: str, depth: int, batch: int, image: int, channels: int) -> tuple[Any, ...]:
    """Abstract arguments of `network(fmt, depth)`."""
    import jax
    import jax.numpy as jnp

    f32 = jnp.float32
    if fmt == "NHWC":
        x = jax.ShapeDtypeStruct((batch, image, image, 3), f32)
        convs = [jax.ShapeDtypeStruct((3, 3, 3 if i == 0 else channels, channels), f32) for i in range(depth)]
    else:
        x = jax.ShapeDtypeStruct((batch, 3, image, image), f32)
        convs = [jax.ShapeDtypeStruct((channels, 3 if i == 0 else channels, 3, 3), f32) for i in range(depth)]
    return x, convs, jax.ShapeDtypeStruct((channels, CLASSES), f32)


def measure(fmt: str, depth: int, config: dict[str, Any], *, quick: bool) -> dict[str, Any]:
    """Static layout report, measured time, and profiled time of the layout-changing kernels."""
    import jax

    from irscope.ir.hlo_parser import parse_module
    from irscope.measure.timing import measure_function
    from irscope.passes.fusion import find_kernels
    from irscope.passes.layout import layouts

    fn = network(fmt, depth)
    args = arguments(fmt, depth, config["batch"], config["image"], config["channels"])
    module = parse_module(jax.jit(fn).lower(*args).compile().as_text() or "")
    report = layouts(module)
    kernels = find_kernels(module)
    limits = {"repeats": 3} if quick else {"min_time_s": 2.0, "max_time_s": 10.0}
    timing = measure_function(fn, args, eager=False, **limits)
    assert timing.jit is not None
    layout_s: float | None = None
    profiled = None
    try:
        from irscope.measure.trace import profile_kernels

        profiled = profile_kernels(fn, args, module, kernels, runs=3 if quick else 10)
        names = {k.name for k in report.layout_kernels}
        layout_s = sum(t.median_s for n, t in profiled.kernel_times.items() if n in names)
        kernels_s = sum(t.median_s for t in profiled.kernel_times.values())
    except Exception as error:  # the trace is a bonus: report, don't fail the study  # noqa: BLE001
        kernels_s = None
        profile_error = f"{type(error).__name__}: {error}"
    else:
        profile_error = None
    return {
        "format": fmt, "depth": depth, "kernels": len(report.kernels),
        "layout_kernels": [k.to_json() for k in report.layout_kernels],
        "layout_bytes": report.layout_bytes, "total_bytes": report.total_bytes,
        "layout_share": report.layout_share, "jit_s": timing.jit.median_s,
        "jit_spread": timing.jit.spread, "layout_measured_s": layout_s, "kernels_measured_s": kernels_s,
        "profile_error": profile_error,
        "conv_kernels": sorted({f"{k.name} ({k.kind}, {k.ops.count('convolution')} conv)" for k in kernels
                                if "convolution" in k.ops}),
    }


def run(out_dir: Path, *, quick: bool = False, progress: Progress | None = None) -> dict[str, Any]:
    """Compile, analyse, measure and plot; returns `table`, `rows`, `notes` and `figures`."""
    from irscope.util.progress import Progress as Bar

    config = QUICK if quick else FULL
    configs = [(fmt, depth) for depth in config["depths"] for fmt in FORMATS]
    if progress is not None:
        progress(f"layouts study: {len(configs)} networks (batch {config['batch']}, {config['image']}x"
                 f"{config['image']}, {config['channels']} channels)")
    load_before = os.getloadavg()[0]
    rows = []
    with Bar(total=len(configs), label="layouts study") as bar:
        for fmt, depth in configs:
            rows.append(measure(fmt, depth, config, quick=quick))
            bar.advance(f"{fmt} depth {depth}")
    load_after = os.getloadavg()[0]
    path = Path(out_dir) / "layouts.png"
    _write_png(path, plot(rows, config))
    from irscope.studies import layouts_tflite

    if progress is not None:
        progress("layouts study: TFLite side (Keras channels_last vs channels_first)")
    tflite = layouts_tflite.measure(config, quick=quick)
    return {
        "study": "layouts", "title": TITLE, "quick": quick, "config": {**config, "depths": list(config["depths"])},
        "table": [table_row(r) for r in rows], "rows": rows,
        "notes": notes(rows, config, load_before, load_after) + layouts_tflite.notes(tflite),
        "tflite": tflite, "figures": [str(path)],
    }


def table_row(row: dict[str, Any]) -> dict[str, Any]:
    """One printed row."""
    measured = row["layout_measured_s"]
    return {
        "format": row["format"], "depth": row["depth"], "kernels": row["kernels"],
        "layout kernels": len(row["layout_kernels"]),
        "layout MB": f"{row['layout_bytes'] / 1e6:.3f}", "total MB": f"{row['total_bytes'] / 1e6:.2f}",
        "traffic share": f"{row['layout_share']:.1%}",
        "jit ms": f"{row['jit_s'] * 1e3:.2f}",
        "layout ms (profiled)": "-" if measured is None else f"{measured * 1e3:.3f}",
    }


def notes(rows: Sequence[dict[str, Any]], config: dict[str, Any], load_before: float,
          load_after: float) -> list[str]:
    """What the table says, in sentences."""
    out = [f"batch {config['batch']}, {config['image']}x{config['image']} RGB, {config['channels']} channels, "
           f"f32, XLA:CPU; load average {load_before:.1f} before, {load_after:.1f} after (shared machine)."]
    by = {(r["format"], r["depth"]): r for r in rows}
    for depth in config["depths"]:
        nhwc, nchw = by[("NHWC", depth)], by[("NCHW", depth)]
        kinds = sorted({f"{k['layout_change']} ({k['where']})" for k in nchw["layout_kernels"]})
        out.append(
            f"depth {depth}: NCHW adds {len(nchw['layout_kernels']) - len(nhwc['layout_kernels'])} layout-changing "
            f"kernels ({', '.join(kinds) or 'none'}), {nchw['layout_bytes'] / 1e6:.3f} MB = "
            f"{nchw['layout_share']:.1%} of its traffic; measured NCHW/NHWC time "
            f"{nchw['jit_s'] / nhwc['jit_s']:.2f}x (spreads {nhwc['jit_spread']:.0%}, {nchw['jit_spread']:.0%}); "
            f"convolutions run in {', '.join(nchw['conv_kernels'])}.")
        if nchw["layout_measured_s"] is not None:
            out.append(f"  profiled, the layout-changing kernels take {nchw['layout_measured_s'] * 1e3:.3f} ms = "
                       f"{nchw['layout_measured_s'] / nchw['jit_s']:.1%} of the NCHW call; a larger whole-call "
                       "difference is the shared machine's noise (see the spreads).")
    errors = {r["profile_error"] for r in rows if r["profile_error"]}
    if errors:
        out.append(f"per-kernel profile unavailable: {'; '.join(sorted(errors))}")
    return out


def plot(rows: Sequence[dict[str, Any]], config: dict[str, Any]) -> Any:
    """Three panels per configuration: the traffic split (both segments labelled in MB), the measured time of
    the whole call, and the profiled time of the layout-changing kernels on their own axis (a fraction of a
    percent of the call would be invisible inside its bar), labelled with their share of the call."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"{r['format']}\ndepth {r['depth']}" for r in rows]
    xs = list(range(len(rows)))
    fig, (left, middle, right) = plt.subplots(1, 3, figsize=(14, 4.4))
    layout_mb = [r["layout_bytes"] / 1e6 for r in rows]
    other_mb = [(r["total_bytes"] - r["layout_bytes"]) / 1e6 for r in rows]
    left.bar(xs, other_mb, color="tab:blue", label="other kernels")
    left.bar(xs, layout_mb, bottom=other_mb, color="tab:red", label="layout-changing kernels")
    for x, r, other, layout in zip(xs, rows, other_mb, layout_mb, strict=True):
        text = f"{layout:.2f} MB layout\n= {r['layout_share']:.0%}" if layout else "no layout\nkernels"
        left.text(x, r["total_bytes"] / 1e6, text, ha="center", va="bottom", fontsize=8,
                  color="tab:red" if layout else "black")
        left.text(x, other / 2, f"{other:.2f}", ha="center", va="center", fontsize=8, color="white")
    left.margins(y=0.2)
    left.set_ylabel("MB accessed per call (XLA's count)")
    left.set_title("Traffic: share spent reordering memory", fontsize=10)
    calls = [r["jit_s"] * 1e3 for r in rows]
    middle.bar(xs, calls, color="tab:gray", label="whole call (median)")
    for x, ms in zip(xs, calls, strict=True):
        middle.text(x, ms, f"{ms:.3g} ms", ha="center", va="bottom", fontsize=8)
    middle.margins(y=0.15)
    middle.set_ylabel("ms per call (median)")
    middle.set_title("Whole call, measured (XLA:CPU, JIT)", fontsize=10)
    measured = [(r["layout_measured_s"] or 0.0) * 1e3 for r in rows]
    right.bar(xs, measured, color="tab:red", label="layout-changing kernels (profiled)")
    for x, r, ms in zip(xs, rows, measured, strict=True):
        text = f"{ms:.3f} ms\n= {ms / (r['jit_s'] * 1e3):.1%} of the call" if r["layout_kernels"] else "none"
        right.text(x, ms, text, ha="center", va="bottom", fontsize=8, color="tab:red" if r["layout_kernels"] else "black")
    right.margins(y=0.25)
    right.set_ylabel("ms per call (profiled kernels)")
    right.set_title("Only the layout-changing kernels (own scale)", fontsize=10)
    for ax in (left, middle, right):
        ax.set_xticks(xs, labels, fontsize=8)
        ax.set_ylim(bottom=0)
        ax.grid(True, axis="y", alpha=0.3)
    left.legend(fontsize=8, loc="upper left")
    fig.suptitle(f"CNN classifier, batch {config['batch']}, {config['image']}x{config['image']}, "
                 f"{config['channels']} channels, f32: NHWC vs NCHW")
    fig.tight_layout()
    return fig
