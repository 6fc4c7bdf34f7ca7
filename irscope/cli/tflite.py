"""`irscope tflite MODEL.tflite` / `python -m inspect.tflite MODEL.tflite`: which ops of a TFLite model run in
which precision, where its bytes go, how fast it runs here, and how two conversions of a model differ.
With `--convert`, first convert a Keras model.py, a SavedModel or a .keras file with TensorFlow's converter.
With `--compare FLOAT.tflite --layers`, run the float model and the quantized TARGET on the same inputs and
report each layer's error (`irscope.measure.tflite_tensors`, `irscope.passes.quant_error`).

Not handled yet: the table shows one subgraph (`--subgraph N`; the JSON holds all of them), `--compare`
computes no output drift when the two models' inputs differ in shape, and models with several
signatures are measured through the interpreter's default inputs.
"""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path
from typing import Any

from irscope.cli.common import UserError, progress, write_atomic
from irscope.render.table import plural
from irscope.util.jsonio import dumps

MODES = ("fp32", "fp16", "dynamic", "int8", "int16x8")  # irscope.frontends.tflite_convert.MODES, without importing TF

EPILOG = """\
TARGET is a .tflite file, or with --convert one of:
  model.py        a Python file with a table of Keras models:
                      IRSCOPE_KERAS = {"small_cnn": small_cnn}   # name -> function returning a keras.Model
                  (--fn NAME picks an entry or any zero-argument top-level function; one entry needs no flag)
  saved_model/    a SavedModel directory (its serving_default signature)
  model.keras     a Keras model file

modes (--mode): fp32; fp16 (float16 weights); dynamic (int8 weights, float activations: hybrid ops);
  int8 (int8 weights and activations, int8 input/output, calibrated on a representative dataset:
  random by default, or --calibration FILE.npy|.npz); int16x8 (int16 activations, int8 weights).
  int8/int16x8 let ops without an integer kernel fall back to float unless --integer-only.

the table (one row per operator of the main subgraph, in execution order):
  precision  what the op computes in: float32, float16, int8, int16, hybrid (float activations, int8
             weights), or the dtype of its output for shape arithmetic
  weights    the dtype of its weights; per-ch: one scale per output channel; deq: expanded from a
             float16/int8 constant by a DEQUANTIZE when the model is prepared
  output     its output tensor; quantization: that tensor's scale and zero point
  MACs, bytes, FLOP/B: multiply-accumulates, bytes read + written at the real dtypes, intensity
  note       float fallback (a float op in a quantized model), quantize/dequantize boundaries

per-layer error (--compare FLOAT.tflite --layers; TARGET is the quantized model):
  both models run on the same inputs (--samples N seeded random ones, or --calibration FILE.npz) on the
  builtin kernels with every intermediate tensor kept; each tensor of TARGET is matched to the float
  model's (by name, by the same fused op names in another order, through QUANTIZE/DEQUANTIZE, or by
  position when both run the same opcodes), dequantized, and compared:
  SQNR dB    10 log10(sum f^2 / sum (q-f)^2) over all samples ("exact" when equal); ! below 20 dB
  lost dB    the worst SQNR among the layer's inputs minus its output's: what this layer adds
             ("starts": the first layer whose output differs)
  max abs, RMSE, cosine   of the dequantized tensor against the float one
  --layers-plot PATH draws SQNR per layer with the worst layers named (.png or .svg); --svg PATH
  --color-by sqnr draws TARGET's graph with each op filled by its SQNR band (legend in dB), and
  --model-explorer(-out) adds the per-node SQNR as the overlay `sqnr`.

examples:
  python -m inspect.tflite model.tflite
  python -m inspect.tflite model.tflite --measure --threads 2 --json report.json --svg model.svg
  python -m inspect.tflite model.int8.tflite --compare model.fp32.tflite
  python -m inspect.tflite model.int8.tflite --compare model.fp32.tflite --layers --layers-plot sqnr.png
  python -m inspect.tflite model.int8.tflite --compare model.fp32.tflite --layers --svg g.svg --color-by sqnr
  python -m inspect.tflite --convert examples/keras_cnn.py --mode int8 -o out/cnn.int8.tflite
"""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "tflite",
        help="inspect a .tflite model: per-op precision, quantization, size, latency; convert Keras to TFLite",
        description="Show which ops of a TFLite model run in which precision, where its bytes go, how fast it "
                    "runs on this CPU, and how two conversions differ; --convert converts a Keras model first.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("target", metavar="TARGET", help="a .tflite file (with --convert: model.py, SavedModel dir, .keras)")
    conv = parser.add_argument_group("converting (TensorFlow's converter)")
    conv.add_argument("--convert", action="store_true", help="convert TARGET to .tflite first, then report on it")
    conv.add_argument("--mode", choices=MODES, default="int8", help="quantization mode (default int8)")
    conv.add_argument("-o", "--output", metavar="PATH", help="where the converted .tflite goes (required with --convert)")
    conv.add_argument("--fn", metavar="NAME", help="the IRSCOPE_KERAS entry (or function) of a model.py")
    conv.add_argument("--calibration", metavar="FILE", help="representative data, .npy or .npz (default: random)")
    conv.add_argument("--calibration-samples", type=int, default=8, metavar="N",
                      help="random calibration samples when no FILE is given (default 8)")
    conv.add_argument("--integer-only", action="store_true",
                      help="int8/int16x8: fail rather than let an op fall back to float")
    out = parser.add_argument_group("output")
    out.add_argument("--json", metavar="PATH", help="write the irscope.tflite-report/1 JSON (- for stdout)")
    out.add_argument("--svg", metavar="PATH", help="draw the subgraph's ops coloured by precision (Graphviz)")
    out.add_argument("--color-by", choices=("precision", "sqnr"), default="precision",
                     help="what the SVG's colours show: each op's precision (default), or with --compare FLOAT "
                          "--layers its output's SQNR against the float model (Model Explorer: the sqnr overlay)")
    out.add_argument("--subgraph", type=int, default=0, metavar="N", help="which subgraph the table and SVG show")
    out.add_argument("--hw", metavar="CHIP", help="also place ops on a chip's roofline (h100, a100, cpu, ...)")
    out.add_argument("--max-rows", type=int, default=60, metavar="N", help="rows of the table (default 60; 0 for all)")
    from irscope.cli.viewer import add_arguments as add_viewer_arguments

    add_viewer_arguments(parser)  # --model-explorer, --model-explorer-out DIR, --overlays, --port, --html PATH
    meas = parser.add_argument_group("measuring (LiteRT interpreter with XNNPACK)")
    meas.add_argument("--measure", action="store_true", help="time invoke(): warm-up, then the median of --repeats")
    meas.add_argument("--threads", type=int, default=1, metavar="N", help="interpreter threads (default 1)")
    meas.add_argument("--repeats", type=int, default=50, metavar="N", help="timed runs (default 50)")
    meas.add_argument("--warmup", type=int, default=5, metavar="N", help="untimed runs first (default 5)")
    meas.add_argument("--no-xnnpack", action="store_true", help="use the builtin kernels, not the XNNPACK delegate")
    meas.add_argument("--compare", metavar="OTHER", help="another .tflite: size, per-op precision, latency and output "
                                                          "drift side by side (OTHER is A, TARGET is B)")
    lay = parser.add_argument_group("per-layer error (with --compare FLOAT.tflite: where a quantized TARGET lost accuracy)")
    lay.add_argument("--layers", action="store_true",
                     help="run OTHER (float) and TARGET (quantized) on the same inputs, keep every tensor, and "
                          "report each layer's error: max abs, RMSE, SQNR dB, cosine (--json: irscope.tflite-layers/1)")
    lay.add_argument("--layers-plot", metavar="PATH", help="draw SQNR per layer, worst layers named (.png or .svg)")
    lay.add_argument("--samples", type=int, default=4, metavar="N",
                     help="random input samples when no --calibration FILE is given (default 4)")
    lay.add_argument("--seed", type=int, default=0, metavar="N", help="the random samples' seed (default 0)")
    lay.add_argument("--keep-float", type=int, metavar="N",
                     help="with --convert SOURCE: convert to fp32 and int8, find the N layers that lose most, convert "
                          "again with them left in float (TensorFlow's selective quantization) into -o, and report "
                          "size, latency and error of the three side by side")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    _check_numbers(args)
    if args.keep_float is not None:
        return _run_keep_float(args)
    if args.layers or args.layers_plot:
        return _run_layers(args)
    if args.color_by == "sqnr":
        raise UserError("--color-by sqnr colours the quantized model by its error: add --compare FLOAT.tflite --layers")
    chip = _chip(args.hw) if args.hw else None
    if args.convert:
        path = _convert(args)
    else:
        if args.output or args.fn or args.calibration:
            raise UserError("-o/--fn/--calibration go with --convert")
        path = args.target
    analysis = _analyze(path, chip)
    if not 0 <= args.subgraph < len(analysis.model.subgraphs):
        raise UserError(f"{path} has {plural(len(analysis.model.subgraphs), 'subgraph')}; --subgraph "
                        f"{args.subgraph} is out of range")
    report = analysis.to_json()
    latency = None
    if args.measure:
        latency = _measure(path, args)
        report["latency"] = latency.to_json()
    compare_lines = None
    if args.compare:
        other = _analyze(args.compare, chip)
        compare_lines, report["compare"] = _compare(args, other, analysis)
    if args.json != "-":
        from irscope.render.tflite import report_table

        print(report_table(analysis, subgraph=args.subgraph, max_rows=args.max_rows or None, chip_name=args.hw))
        if latency is not None:
            print(_latency_line(latency))
        if compare_lines is not None:
            print()
            print(compare_lines)
    if args.json:
        write_atomic(args.json, dumps(_finite(report), allow_nan=False) + "\n")
        if args.json != "-":
            progress(f"wrote {args.json}")
    if args.svg:
        _write_svg(args, analysis)
    from irscope.cli.viewer import show_tflite, wanted

    if wanted(args):
        show_tflite(args, analysis, path)
    return 0


def _finite(value: Any) -> Any:
    """JSON-safe: a non-finite float (a corrupted scale, an infinite intensity) becomes null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _check_numbers(args: argparse.Namespace) -> None:
    for flag, value, low in (("--threads", args.threads, 1), ("--repeats", args.repeats, 1), ("--warmup", args.warmup, 0),
                             ("--calibration-samples", args.calibration_samples, 1), ("--max-rows", args.max_rows, 0),
                             ("--samples", args.samples, 1), ("--keep-float", 1 if args.keep_float is None else args.keep_float, 1)):
        if value < low:
            raise UserError(f"{flag} must be >= {low}, got {value}")
    if args.convert and not args.output:
        raise UserError("--convert needs -o PATH for the .tflite it writes")


def _chip(name: str) -> Any:
    from irscope import hw

    return hw.get_chip(hw.canonical_name(name), progress=progress)


def _analyze(path: str, chip: Any) -> Any:
    from irscope.ir.tflite import read_tflite
    from irscope.ir.tflite_verify import verify_tflite
    from irscope.passes.quantization import analyze_tflite

    if Path(path).suffix in (".py", ".keras", ".h5") or (Path(path).is_dir() and (Path(path) / "saved_model.pb").exists()):
        raise UserError(f"{path}: not a .tflite file; add --convert --mode MODE -o OUT.tflite to convert it first")
    model = verify_tflite(read_tflite(path))  # indices, writers, cycles, buffers: one line before any analysis
    return analyze_tflite(model, chip)


def _convert(args: argparse.Namespace) -> str:
    from irscope.frontends import tflite_convert as tc

    data = None
    if args.calibration:
        if args.mode not in ("int8", "int16x8"):
            raise UserError(f"--calibration is for --mode int8 or int16x8, not {args.mode}")
        data = tc.load_calibration(args.calibration)
    tc.source_kind(args.target)  # a wrong target fails before TensorFlow loads
    progress(f"loading {args.target} (TensorFlow) ...")
    source = tc.load_source(args.target, args.fn)
    progress(f"converting to TFLite ({args.mode}) ...")
    flatbuffer = tc.convert(source, args.mode, representative_data=data,
                            calibration_samples=args.calibration_samples, integer_only=args.integer_only)
    write_atomic(args.output, flatbuffer)
    progress(f"wrote {args.output} ({len(flatbuffer):,} bytes)")
    return str(args.output)


def _measure(path: str, args: argparse.Namespace) -> Any:
    from irscope.measure import tflite_latency as tl

    progress(f"measuring {path}: {args.warmup} warm-up + {plural(args.repeats, 'run')} on {plural(args.threads, 'thread')} ...")
    return tl.measure_latency(path, threads=args.threads, warmup=args.warmup, repeats=args.repeats,
                              xnnpack=not args.no_xnnpack)


def _latency_line(latency: Any) -> str:
    from irscope.render.table import human_time

    return (f"latency    {human_time(latency.median_s)} median of {len(latency.samples)} runs "
            f"(min {human_time(latency.min_s)}, p90 {human_time(latency.p90_s)}) on {latency.threads} "
            f"thread{'s' if latency.threads > 1 else ''}, {latency.runtime}, delegate {latency.delegate}")


def _compare(args: argparse.Namespace, a: Any, b: Any) -> tuple[str, dict[str, Any]]:
    """A = OTHER (--compare), B = TARGET: the reference first, so ratios read 'B is x times A'."""
    from irscope.measure import tflite_latency as tl
    from irscope.render.tflite import compare_text

    path_a, path_b = a.model.source, b.model.source
    progress(f"comparing {path_b} against {path_a}: latency ({args.repeats} runs each) and output drift ...")
    latency = [tl.measure_latency(p, threads=args.threads, warmup=args.warmup, repeats=args.repeats,
                                  xnnpack=not args.no_xnnpack) for p in (path_a, path_b)]
    drift = None
    interp, _ = tl.load_interpreter(path_a, xnnpack=not args.no_xnnpack)
    shapes_a = [s for s, _ in tl.input_specs(interp)]
    interp_b, _ = tl.load_interpreter(path_b, xnnpack=not args.no_xnnpack)
    shapes_b = [s for s, _ in tl.input_specs(interp_b)]
    drift_note = None
    if shapes_a == shapes_b:
        inputs = tl.random_float_inputs(interp, seed=0)
        out_a = tl.run_model(path_a, inputs, xnnpack=not args.no_xnnpack)
        out_b = tl.run_model(path_b, inputs, xnnpack=not args.no_xnnpack)
        try:
            drift = tl.output_drift(out_a, out_b)
        except ValueError as e:
            drift_note = f"outputs differ: {e}"
    else:
        drift_note = f"inputs differ ({shapes_a} against {shapes_b})"
    text = compare_text(a, b, latency=latency, drift=drift, max_rows=args.max_rows or None)
    if drift_note:
        text += f"\ndrift      not computed: {drift_note}"
    summary: dict[str, Any] = {
        "a": {"source": path_a, "mode": a.mode, "size_bytes": a.size.total, "latency": latency[0].to_json(),
              "precision_counts": dict(a.precision_counts())},
        "b": {"source": path_b, "mode": b.mode, "size_bytes": b.size.total, "latency": latency[1].to_json(),
              "precision_counts": dict(b.precision_counts())},
        "size_ratio": b.size.total / a.size.total if a.size.total else None,
        "latency_ratio": latency[1].median_s / latency[0].median_s if latency[0].median_s else None,
        "drift": [d.to_json() for d in drift] if drift is not None else None,
    }
    return text, summary


def _run_layers(args: argparse.Namespace) -> int:
    """`--compare FLOAT --layers`: the per-layer error table (irscope.passes.quant_error)."""
    from irscope.measure.tflite_tensors import compare_layers

    if not args.compare:
        raise UserError("--layers compares TARGET against a float model: add --compare FLOAT.tflite")
    if args.convert or args.output or args.fn:
        raise UserError("--layers takes two .tflite files; convert first (--convert ... -o OUT.tflite)")
    plot_format = None
    if args.layers_plot:
        plot_format = Path(args.layers_plot).suffix.lower().lstrip(".")
        if plot_format not in ("png", "svg"):
            raise UserError(f"--layers-plot {args.layers_plot}: give a .png or .svg file name")
    if args.subgraph != 0:
        raise UserError("--layers compares the main subgraph only: leave out --subgraph")
    from irscope.cli.viewer import show_tflite, wanted

    show = wanted(args)  # a misused viewer flag fails before the models run
    # a missing file, a .py or a non-flatbuffer fails here with its one line
    _analyze(args.compare, None)
    analysis = _analyze(args.target, None)
    progress(f"running {args.compare} and {args.target} on "
             f"{args.calibration or plural(args.samples, 'random sample')}, every tensor kept ...")
    result = compare_layers(args.compare, args.target, samples=args.samples, seed=args.seed,
                            calibration=args.calibration)
    if args.json != "-":
        print(result.to_text(max_rows=args.max_rows or None))
    if args.json:
        write_atomic(args.json, dumps(_finite(result.to_json()), allow_nan=False) + "\n")
        if args.json != "-":
            progress(f"wrote {args.json}")
    if args.layers_plot:
        from irscope.render.quant_layers import sqnr_plot_bytes

        write_atomic(args.layers_plot, sqnr_plot_bytes(result, plot_format or "png"))
        progress(f"wrote {args.layers_plot}")
    if args.svg:
        _write_svg(args, analysis, result if args.color_by == "sqnr" else None)
    if show:
        show_tflite(args, analysis, args.target, layers=result)
    return 0


def _run_keep_float(args: argparse.Namespace) -> int:
    """`--convert SOURCE --keep-float N -o OUT`: the fix tried for real (irscope.studies.quantization.keep_float)."""
    from irscope.frontends import tflite_convert as tc
    from irscope.studies.quantization import keep_float, keep_float_text

    if not args.convert:
        raise UserError("--keep-float re-converts the model: give its source with --convert SOURCE -o OUT.tflite")
    if args.mode != "int8":
        raise UserError(f"--keep-float works on int8 models, not --mode {args.mode}")
    if args.compare or args.layers_plot:
        raise UserError("--keep-float converts its own float and int8 models: leave out --compare/--layers-plot")
    ignored = [flag for flag, given in (("--svg", args.svg), ("--html", getattr(args, "html", None)),
                                        ("--model-explorer", args.model_explorer),
                                        ("--model-explorer-out", args.model_explorer_out), ("--measure", args.measure),
                                        ("--hw", args.hw), ("--no-xnnpack", args.no_xnnpack)) if given]
    if ignored:  # never drop a flag silently: the user would wait minutes for output that is not there
        raise UserError(f"--keep-float prints its tables (and --json); it does not take {', '.join(ignored)}: "
                        "draw or time the model it writes (-o) in a second command")
    data = tc.load_calibration(args.calibration) if args.calibration else None
    tc.source_kind(args.target)
    progress(f"loading {args.target} (TensorFlow) ...")
    source = tc.load_source(args.target, args.fn)
    result = keep_float(source, args.keep_float, args.output, calibration=data,
                        calibration_samples=args.calibration_samples, samples=args.samples, threads=args.threads,
                        progress=progress)
    if args.json != "-":
        print(result["layers"].to_text(max_rows=args.max_rows or None))
        print()
        print(keep_float_text(result))
    if args.json:
        report = result["layers"].to_json()
        report["keep_float"] = {"kept": result["kept"], "rows": result["rows"], "threads": result["threads"],
                                "path": result["path"], "layers": result["layers_kept"].to_json()["layers"]}
        write_atomic(args.json, dumps(_finite(report), allow_nan=False) + "\n")
        if args.json != "-":
            progress(f"wrote {args.json}")
    progress(f"wrote {args.output}")
    return 0


def _write_svg(args: argparse.Namespace, analysis: Any, layers: Any = None) -> None:
    """The kernel graph coloured by precision, or with `layers` (a `LayerErrors`) by each output's SQNR."""
    from irscope.render.tflite import precision_svg, sqnr_svg

    graph = analysis.graph(args.subgraph)
    svg = precision_svg(graph) if layers is None else sqnr_svg(graph, layers)
    write_atomic(args.svg, svg)
    if args.svg != "-":
        progress(f"wrote {args.svg} ({os.path.getsize(args.svg):,} bytes)")
