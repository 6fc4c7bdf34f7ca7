"""The TFLite side of the layouts study: the same CNN built in Keras `channels_last` and `channels_first`.

`irscope.studies.layouts.run` calls `measure` after its XLA part. Each Keras model (random weights, batch 1,
`IMAGE`x`IMAGE` RGB, `depth` 3x3 SAME convolutions with ReLU, global average pool, dense to 10 classes;
input NHWC `[1, 32, 32, 3]` or NCHW `[1, 3, 32, 32]`) is converted to fp32 with
`irscope.frontends.tflite_convert.convert`. TFLite kernels are NHWC only, so the converter rewrites a
`channels_first` graph to NHWC and inserts TRANSPOSE ops where the graph's interface or an axis-dependent
op fixes NCHW; `irscope.ir.tflite.parse_tflite` counts them and their bytes (input and output tensors at
their real dtypes, the int32 permutation included), against the whole model's traffic
(`irscope.passes.quantization.analyze_tflite` totals) and against its activation traffic (the non-constant
tensors every operator reads and writes). Both models are timed with the LiteRT interpreter (1 thread,
XNNPACK, interleaved with `irscope.measure.tflite_latency.measure_interleaved`, median).

The converter needs no NCHW kernel (TensorFlow's CPU kernels have none): it only traces the model.
If TensorFlow or a conversion fails, the study reports the error instead of the rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from irscope.util.text import text_table

FORMATS = ("channels_last", "channels_first")
IMAGE = 32
CLASSES = 10


def keras_network(fmt: str, depth: int, channels: int, image: int = IMAGE, seed: int = 0) -> Any:
    """The classifier as a Keras model with `data_format=fmt` (random weights, batch 1)."""
    import keras

    if fmt not in FORMATS:
        raise ValueError(f"unknown data format {fmt!r} (known: {', '.join(FORMATS)})")
    keras.utils.set_random_seed(seed)
    shape = (image, image, 3) if fmt == "channels_last" else (3, image, image)
    inputs = keras.Input(shape=shape, batch_size=1)
    x = inputs
    for _ in range(depth):
        x = keras.layers.Conv2D(channels, 3, padding="same", activation="relu", data_format=fmt)(x)
    x = keras.layers.GlobalAveragePooling2D(data_format=fmt)(x)
    return keras.Model(inputs, keras.layers.Dense(CLASSES)(x), name=f"cnn_{fmt}_{depth}")


def analyse(data: bytes) -> dict[str, Any]:
    """TRANSPOSE ops of a converted model, their bytes, and the model's total and activation traffic."""
    from irscope.ir.tflite import parse_tflite
    from irscope.passes.quantization import analyze_tflite

    model = parse_tflite(data)
    sg = model.main
    transposes = [op for op in sg.operators if op.opcode == "TRANSPOSE"]

    def activation_bytes(op: Any) -> int:
        return sum(t.nbytes for t in sg.op_inputs(op) + sg.op_outputs(op) if not t.is_constant)

    activation_total = sum(activation_bytes(op) for op in sg.operators)
    transpose_bytes = sum(sum(sg.op_bytes(op)) for op in transposes)
    transpose_activation = sum(activation_bytes(op) for op in transposes)
    return {
        "ops": len(sg.operators), "opcodes": [op.opcode for op in sg.operators],
        "transposes": len(transposes),
        "transpose_shapes": [f"{sg.op_inputs(op)[0].type_str} -> {sg.op_outputs(op)[0].type_str}"
                             for op in transposes],
        "transpose_consumers": sorted({c.opcode for op in transposes for c in sg.operators
                                       if set(op.outputs) & set(c.inputs)}),
        "transpose_bytes": transpose_bytes, "transpose_activation_bytes": transpose_activation,
        "total_bytes": analyze_tflite(model).totals()["bytes_accessed"],
        "activation_bytes": activation_total,
        "activation_share": transpose_activation / activation_total if activation_total else 0.0,
        "file_bytes": len(data), "input": sg.tensors[sg.inputs[0]].type_str,
    }


def measure(config: dict[str, Any], *, quick: bool) -> dict[str, Any]:
    """Convert, analyse and time both formats at each depth of `config`: `{"rows": [...]}` or `{"error": ...}`."""
    try:
        from irscope.frontends.tflite_convert import convert, import_tf
        from irscope.measure.tflite_latency import Runner, measure_interleaved

        import_tf()
    except ImportError as error:
        return {"rows": [], "error": f"TFLite side skipped: {type(error).__name__}: {error}"}
    rows: list[dict[str, Any]] = []
    errors: list[str] = []
    for depth in config["depths"]:
        pair: list[tuple[dict[str, Any], bytes]] = []
        for fmt in FORMATS:
            try:
                data = convert(keras_network(fmt, depth, config["channels"]), "fp32")
            except Exception as error:  # a failed conversion is a finding, not a crash  # noqa: BLE001
                errors.append(f"{fmt} depth {depth}: conversion failed: {type(error).__name__}: "
                              f"{str(error).strip().splitlines()[0] if str(error).strip() else ''}")
                continue
            pair.append(({"format": fmt, "depth": depth, "channels": config["channels"], **analyse(data)}, data))
        if not pair:
            continue
        limits = {"warmup": 2, "rounds": 3, "per_round": 3} if quick else {"warmup": 5, "rounds": 10, "per_round": 10}
        try:
            latencies = measure_interleaved([Runner(data, threads=1) for _, data in pair], **limits)
        except Exception as error:  # noqa: BLE001
            errors.append(f"depth {depth}: timing failed: {type(error).__name__}: {error}")
            latencies = [None] * len(pair)
        for (row, _), latency in zip(pair, latencies, strict=True):
            row["latency_s"] = latency.median_s if latency is not None else None
            row["latency_p90_s"] = latency.p90_s if latency is not None else None
            row["runtime"] = f"{latency.runtime}, {latency.delegate}" if latency is not None else None
            rows.append(row)
    return {"rows": rows, "error": "; ".join(errors) or None}


def table_row(row: dict[str, Any]) -> dict[str, Any]:
    """One row of the TFLite table."""
    latency = row["latency_s"]
    return {
        "format": row["format"], "depth": row["depth"], "input": row["input"], "ops": row["ops"],
        "TRANSPOSE ops": row["transposes"], "transpose KB": f"{row['transpose_bytes'] / 1e3:.1f}",
        "total KB": f"{row['total_bytes'] / 1e3:.1f}", "activation share": f"{row['activation_share']:.1%}",
        "latency ms": "-" if latency is None else f"{latency * 1e3:.3f}",
    }


def notes(result: dict[str, Any]) -> list[str]:
    """The TFLite table as text lines, and what it says."""
    rows: Sequence[dict[str, Any]] = result["rows"]
    out: list[str] = []
    if rows:
        out.append("")
        out.append(f"TFLite side (Keras CNN, batch 1, {IMAGE}x{IMAGE} RGB, {rows[0]['channels']} channels, fp32 "
                   f"via irscope's converter; {rows[0]['runtime'] or 'not timed'}, 1 thread, interleaved median):")
        out.extend(_text_table([table_row(r) for r in rows]))
        by = {(r["format"], r["depth"]): r for r in rows}
        for depth in sorted({r["depth"] for r in rows}):
            last, first = by.get(("channels_last", depth)), by.get(("channels_first", depth))
            if last is None or first is None:
                continue
            ratio = (f"{first['latency_s'] / last['latency_s']:.2f}x"
                     if first["latency_s"] and last["latency_s"] else "not measured")
            out.append(
                f"depth {depth}: channels_first converts with {first['transposes']} TRANSPOSE ops "
                f"({', '.join(first['transpose_shapes']) or 'none'}) against {last['transposes']} for channels_last, "
                f"{first['transpose_bytes'] / 1e3:.1f} KB = {first['activation_share']:.1%} of its activation traffic "
                f"({first['transpose_bytes'] / first['total_bytes']:.1%} of all bytes accessed); "
                f"latency channels_first/channels_last {ratio}.")
        counts = {r["depth"]: r["transposes"] for r in rows if r["format"] == "channels_first"}
        consumers = sorted({c for r in rows if r["format"] == "channels_first" for c in r["transpose_consumers"]})
        convs = {r["depth"]: r["opcodes"].count("CONV_2D") for r in rows if r["format"] == "channels_first"}
        growth = ("the same at every depth" if len(set(counts.values())) == 1
                  else ", ".join(f"{n} at depth {d}" for d, n in sorted(counts.items())))
        out.append(f"  channels_first TRANSPOSE count: {growth} (convolutions: "
                   f"{', '.join(f'{n} at depth {d}' for d, n in sorted(convs.items()))}); the transposes feed "
                   f"{', '.join(consumers) or 'nothing'}"
                   + (": the converter runs the convolutions NHWC and transposes at the input and before the "
                      "axis-dependent pool, not around each convolution." if len(set(counts.values())) == 1 else "."))
    if result.get("error"):
        out.append(result["error"])
    return out


def _text_table(rows: Sequence[dict[str, Any]]) -> list[str]:
    columns = list(rows[0])
    return text_table(columns, [[str(r[c]) for c in columns] for r in rows])
