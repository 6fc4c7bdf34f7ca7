"""Per-layer quantization error (`irscope.passes.quant_error`, `irscope.measure.tflite_tensors`, `--layers`):
the metrics against numpy written out, the tensor matching on real conversions (int8 with int8 I/O, int16x8
with QUANTIZE/DEQUANTIZE boundaries, a model quantized by ai-edge-quantizer), a cross-check against
ai-edge-quantizer's own validation on the same model pair, the CLI's table, JSON and plot, and the one-line
errors for models that do not correspond, calibration data that does not fit, and a model the interpreter
cannot prepare."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from tflite_models import REPO, converted, one_error_line, run_tflite, work_dir

from irscope.errors import CalibrationError, ModelLoadError, ModelMismatchError
from irscope.measure.tflite_tensors import (
    TensorInfo,
    capture,
    compare_layers,
    input_shapes,
    load_interpreter,
    make_samples,
)
from irscope.passes.quant_error import TensorError, layer_errors


@pytest.fixture(scope="module")
def models() -> dict[str, Path]:
    return converted()


# --- the metrics ------------------------------------------------------------------------------------

def test_metrics_match_their_definitions() -> None:
    rng = np.random.default_rng(1)
    f = [rng.normal(size=(3, 5)), rng.normal(size=(3, 5))]
    q = [a + rng.normal(scale=0.05, size=a.shape) for a in f]
    e = TensorError.of(list(zip(f, q, strict=True)))
    ff, qq = np.concatenate([a.ravel() for a in f]), np.concatenate([a.ravel() for a in q])
    assert e.elements == 30
    assert e.max_abs_error == pytest.approx(np.max(np.abs(qq - ff)))
    assert e.rmse == pytest.approx(np.sqrt(np.mean((qq - ff) ** 2)))
    assert e.sqnr_db == pytest.approx(10 * np.log10(np.sum(ff**2) / np.sum((qq - ff) ** 2)))
    assert e.cosine == pytest.approx(ff @ qq / np.linalg.norm(ff) / np.linalg.norm(qq))
    # a known value: an error of a tenth of the signal everywhere is 20 dB
    assert TensorError.of([(np.ones(4), np.full(4, 1.1))]).sqnr_db == pytest.approx(20.0)
    exact = TensorError.of([(np.arange(4.0), np.arange(4.0))])
    assert exact.sqnr_db == math.inf and exact.to_json()["sqnr_db"] is None and exact.cosine == pytest.approx(1.0)


def test_a_model_against_itself_is_exact(models: dict[str, Path]) -> None:
    r = compare_layers(models["cnn.fp32"], models["cnn.fp32"], samples=2)
    assert not r.unmatched and len(r.layers) == 10  # the input and 9 operators
    assert all(x.error.sqnr_db == math.inf and x.error.max_abs_error == 0 for x in r.layers)
    assert all(x.lost_db in (None, 0.0) for x in r.layers) and r.worst() == []


# --- matching and error on real conversions ---------------------------------------------------------------

def test_int8_every_tensor_matched_by_name(models: dict[str, Path]) -> None:
    r = compare_layers(models["cnn.fp32"], models["cnn.int8"], samples=3)
    assert [x.opcode for x in r.layers][:3] == ["INPUT", "CONV_2D", "DEPTHWISE_CONV_2D"]
    assert not r.unmatched and r.samples == 3
    assert {x.match.via for x in r.layers} == {"input", "name"}
    assert all(x.dtype == "int8" for x in r.layers)
    # int8 of a 32x32 CNN on inputs in its calibration range: tens of dB, never exact, never useless
    assert all(15 < x.error.sqnr_db < 60 and x.error.cosine > 0.99 for x in r.layers), r.to_text()
    first = r.layers[1]
    assert first.input_sqnr_db == r.layers[0].error.sqnr_db  # the int8 input's own rounding is inherited
    assert first.lost_db == pytest.approx(first.input_sqnr_db - first.error.sqnr_db)
    worst = r.worst(3)
    assert len(worst) == 3 and worst[0].lost_db >= worst[1].lost_db >= worst[2].lost_db


def test_int16x8_matches_through_quantize_and_dequantize(models: dict[str, Path]) -> None:
    r = compare_layers(models["cnn.fp32"], models["cnn.int16x8"], samples=2)
    via = {x.opcode: x.match.via for x in r.layers}
    assert via["QUANTIZE"] == "QUANTIZE" and r.layers[1].tensor.endswith("_int16")
    assert via["DEQUANTIZE"] == "name" and not r.unmatched
    softmax = next(x for x in r.layers if x.opcode == "SOFTMAX")
    assert softmax.match.via == "position" and softmax.tensor.endswith(":0_int16")
    # 16-bit activations: every layer closer to float than int8's
    int8 = {x.tensor: x.error.sqnr_db for x in compare_layers(models["cnn.fp32"], models["cnn.int8"], samples=2).layers}
    shared = [x for x in r.layers if x.tensor in int8 and x.opcode != "INPUT"]
    assert len(shared) == 9 and all(x.error.sqnr_db > int8[x.tensor] for x in shared)


def test_dynamic_error_starts_at_the_first_int8_weight_layer(models: dict[str, Path]) -> None:
    r = compare_layers(models["cnn.fp32"], models["cnn.dynamic"], samples=2)
    # dynamic mode quantizes only the weights of layers with >= 1024 of them: the 3x3x16x32 conv and dense 32x64
    starts = [x for x in r.layers if x.lost_db == math.inf]
    # (op 4 of examples/keras_cnn.py; Keras numbers layer names per session, so not by name)
    assert [(x.op, x.opcode) for x in starts] == [(4, "CONV_2D")]
    assert all(x.error.sqnr_db == math.inf for x in r.layers[: r.layers.index(starts[0])])
    assert r.to_json()["layers"][r.layers.index(starts[0])]["error_starts_here"] is True


def test_fp16_weight_dequantize_ops_are_not_layers(models: dict[str, Path]) -> None:
    r = compare_layers(models["cnn.fp32"], models["cnn.fp16"], samples=1)
    assert r.weight_dequantize_ops == 8 and not r.unmatched  # 6 weight tensors and 2 bias vectors in float16
    assert [x.opcode for x in r.layers].count("DEQUANTIZE") == 0 and len(r.layers) == 10
    # float16 weights, float32 arithmetic: close to float, and not exact
    assert all(60 < x.error.sqnr_db < math.inf for x in r.layers[1:]), r.to_text()
    assert "8 weight DEQUANTIZE ops left out" in r.to_text()


def test_fused_activation_names_in_another_order() -> None:
    """Captures with renamed tensors: the ';'-parts reordered, a fused activation's name missing, and a
    name that no rule can place (reported, with the reason)."""
    f = converted()["cnn.fp32"]
    rows = make_samples(input_shapes(load_interpreter(f)), count=1)
    fc, qc = capture(f, rows), capture(converted()["cnn.int8"], rows)
    renamed = dict(qc.tensors)
    # by position in examples/keras_cnn.py (Keras numbers layer names per session): conv+relu6, add, dense+relu
    relu6, add, dense = (qc.tensors[qc.ops[k].outputs[0]] for k in (0, 3, 6))
    assert len(relu6.name.split(";")) == 2 and "Relu" in dense.name
    without_relu = ";".join(p for p in dense.name.split(";") if "Relu" not in p)
    renamed[relu6.index] = _renamed(relu6, ";".join(reversed(relu6.name.split(";"))))
    renamed[dense.index] = _renamed(dense, without_relu)
    renamed[add.index] = _renamed(add, "something/else")
    ops = qc.ops
    qc2 = replace(qc, tensors=renamed)
    r = layer_errors(fc, qc2)
    via = {x.tensor: x.match.via for x in r.layers}
    assert via[renamed[relu6.index].name] == "fused-name" and via[without_relu] == "fused-name"
    assert via["something/else"] == "position"  # same opcode sequence: the k-th ADD is the float ADD
    # with the opcode sequence broken too, it stays unmatched, with the reason
    qc3 = replace(qc2, ops=ops[:-1])
    r3 = layer_errors(fc, qc3)
    [lost] = [x for x in r3.layers if x.tensor == "something/else"]
    assert lost.error is None and lost.match.reason == "no float tensor has this name"
    assert [x.split()[0] for x in r3.unmatched_float_ops] == ["ADD", "SOFTMAX"]  # the quantized model lacks them


def _renamed(t: TensorInfo, name: str) -> TensorInfo:
    return replace(t, name=name)


def test_model_quantized_by_ai_edge_quantizer(models: dict[str, Path]) -> None:
    pytest.importorskip("ai_edge_quantizer")
    from ai_edge_quantizer import quantizer, recipe

    qt = quantizer.Quantizer(models["cnn.fp32"].read_bytes())
    qt.load_quantization_recipe(recipe.static_wi8_ai8())
    rows = make_samples(input_shapes(load_interpreter(models["cnn.fp32"])), count=4, seed=5)
    calibration = qt.calibrate({"serving_default": [{"image": row[0]} for row in rows]})
    path = work_dir() / "cnn.aeq-int8.tflite"
    path.write_bytes(qt.quantize(calibration).quantized_model)
    r = compare_layers(models["cnn.fp32"], path, samples=2)
    assert not r.unmatched and all(x.error.sqnr_db < 60 for x in r.layers)


# --- cross-check: ai-edge-quantizer's validation on the same pair ----------------------------------------

@pytest.mark.parametrize("mode", ["int8", "int16x8"])
def test_agrees_with_ai_edge_quantizer_validation(models: dict[str, Path], mode: str) -> None:
    """Both tools run the float and the quantized model on the same sample with every tensor kept, match
    tensors by name and dequantize. Both compute the mean squared error and the signal-to-noise ratio;
    ai-edge-quantizer's SNR is mean(f^2) / (MSE + 1e-9) as a ratio, irscope's 10 log10(sum f^2 / sum
    (q-f)^2) in dB. Tolerances: MSE within 1e-4 relative (float32 against float64 arithmetic), SNR within
    0.01 dB once the 1e-9 is taken back out."""
    pytest.importorskip("ai_edge_quantizer")
    from ai_edge_quantizer import model_validator
    from ai_edge_quantizer.utils import validation_utils as vu

    f, q = models["cnn.fp32"].read_bytes(), models[f"cnn.{mode}"].read_bytes()
    rows = make_samples(input_shapes(load_interpreter(f)), count=1, seed=11)
    ours = layer_errors(capture(f, rows), capture(q, rows))
    theirs = model_validator.compare_model(
        f, q, {"serving_default": [{"image": rows[0][0]}]},
        [vu.ValidationErrorMetric.MSE, vu.ValidationErrorMetric.SNR], use_xnnpack=False, num_threads=1,
    ).get_all_tensor_results()
    compared = 0
    for layer in ours.layers:
        other = theirs.get(layer.tensor)
        if other is None or layer.match.via == "input":  # their input is the float one, ours quantized
            continue
        mse = layer.error.rmse**2
        assert mse == pytest.approx(other["mse"], rel=1e-4), layer.tensor
        snr_db = 10 * math.log10(other["snr"] * (other["mse"] + 1e-9) / other["mse"])
        assert layer.error.sqnr_db == pytest.approx(snr_db, abs=0.01), layer.tensor
        compared += 1
    assert compared == 9  # every operator output: the ones named alike in both models


# --- the CLI -------------------------------------------------------------------------------------------

def test_cli_table_json_and_plot(capsys, models: dict[str, Path], tmp_path: Path) -> None:
    rc, out, err = run_tflite(capsys, str(models["cnn.int8"]), "--compare", str(models["cnn.fp32"]), "--layers",
                        "--samples", "2", "--json", str(tmp_path / "l.json"),
                        "--layers-plot", str(tmp_path / "l.svg"))
    assert rc == 0, err
    assert "SQNR dB" in out and "DEPTHWISE_CONV_2D" in out and "growth" in out and "worst" in out
    report = json.loads((tmp_path / "l.json").read_text())
    assert report["schema"] == "irscope.tflite-layers/1" and report["samples"] == 2
    assert len(report["layers"]) == 10 and report["unmatched"] == []
    assert all(isinstance(x["sqnr_db"], float) for x in report["layers"])
    svg = (tmp_path / "l.svg").read_text()
    assert svg.lstrip().startswith(("<?xml", "<svg")) and "#" + str(report["worst"][0]["op"]) in svg
    rc, out, _ = run_tflite(capsys, str(models["cnn.int8"]), "--compare", str(models["cnn.fp32"]), "--layers",
                      "--samples", "1", "--json", "-")
    assert rc == 0 and json.loads(out)["samples"] == 1


def test_cli_calibration_file(capsys, models: dict[str, Path], tmp_path: Path) -> None:
    data = np.random.default_rng(3).uniform(-1, 1, size=(3, 32, 32, 3)).astype(np.float32)
    np.savez(tmp_path / "cal.npz", image=data)
    rc, out, err = run_tflite(capsys, str(models["cnn.int8"]), "--compare", str(models["cnn.fp32"]), "--layers",
                        "--calibration", str(tmp_path / "cal.npz"), "--json", "-")
    assert rc == 0, err
    report = json.loads(out)
    assert report["samples"] == 3 and report["sample_source"].endswith("cal.npz")


def _erfinv_model() -> Path:
    """A model with a custom op (Erfinv) the LiteRT interpreter has no kernel for: it reads fine and
    cannot be prepared."""
    path = work_dir() / "erfinv.tflite"
    if not path.exists():
        import tensorflow as tf

        @tf.function(input_signature=[tf.TensorSpec([1, 32, 32, 3], tf.float32)])
        def fn(x):
            return tf.math.erfinv(x)

        converter = tf.lite.TFLiteConverter.from_concrete_functions([fn.get_concrete_function()], None)
        converter.allow_custom_ops = True
        path.write_bytes(converter.convert())
    return path


@pytest.mark.parametrize("case, message", [
    ("other-model", "is not a conversion of"),
    ("other-inputs", "its inputs have shapes [[1, 8, 16]], the float model's [[1, 32, 32, 3]]"),
    ("cal-shape", "has shape [5, 5], the model wants [1, 32, 32, 3]"),
    ("cal-count", "has 2 arrays for 1 inputs"),
    ("cal-name", "has no input 'image'"),
    ("unpreparable", "cannot prepare it: Encountered unresolved custom op: Erfinv"),
    ("no-compare", "--layers compares TARGET against a float model: add --compare"),
    ("plot-suffix", "give a .png or .svg file name"),
    ("samples", "--samples must be >= 1"),
])
def test_bad_input_is_one_line(capsys, models: dict[str, Path], tmp_path: Path, case: str, message: str) -> None:
    flt, q8 = str(models["cnn.fp32"]), str(models["cnn.int8"])
    argv = [q8, "--compare", flt, "--layers"]
    if case == "other-model":  # same input shape, other ops: a dense-only model
        argv = [_dense_model(tmp_path), "--compare", flt, "--layers"]
        capsys.readouterr()  # what TensorFlow printed while converting it
    elif case == "other-inputs":
        argv = [str(models["seq.int8"]), "--compare", flt, "--layers"]
    elif case == "cal-shape":
        np.save(tmp_path / "c.npy", np.zeros((2, 5, 5), np.float32))
        argv += ["--calibration", str(tmp_path / "c.npy")]
    elif case == "cal-count":
        np.savez(tmp_path / "c.npz", np.zeros((2, 32, 32, 3), np.float32), np.zeros((2, 4), np.float32))
        argv += ["--calibration", str(tmp_path / "c.npz")]
    elif case == "cal-name":
        np.savez(tmp_path / "c.npz", picture=np.zeros((2, 32, 32, 3), np.float32))
        argv += ["--calibration", str(tmp_path / "c.npz")]
    elif case == "unpreparable":
        argv = [q8, "--compare", str(_erfinv_model()), "--layers"]
        capsys.readouterr()
    elif case == "no-compare":
        argv = [q8, "--layers"]
    elif case == "plot-suffix":
        argv += ["--layers-plot", str(tmp_path / "x.pdf")]
    elif case == "samples":
        argv += ["--samples", "0"]
    rc, out, err = run_tflite(capsys, *argv)
    assert rc == 2 and out == "", err
    assert message in one_error_line(err, progress=("running ",))


def _dense_model(tmp_path: Path) -> str:
    import keras

    from irscope.frontends.tflite_convert import convert

    keras.utils.set_random_seed(2)
    inputs = keras.Input((32, 32, 3), batch_size=1, name="image")
    x = keras.layers.Flatten()(inputs)
    model = keras.Model(inputs, keras.layers.Dense(4)(keras.layers.Dense(8, activation="tanh")(x)))
    path = tmp_path / "dense.int8.tflite"
    path.write_bytes(convert(model, "int8"))
    return str(path)


def test_library_errors_are_irscope_errors(models: dict[str, Path]) -> None:
    with pytest.raises(CalibrationError, match="sample 0 has 2 arrays"):
        make_samples([("x", (1, 4))], [[np.zeros(4), np.zeros(4)]])
    with pytest.raises(ModelLoadError, match="Erfinv"):
        load_interpreter(_erfinv_model())
    with pytest.raises(ModelMismatchError):
        compare_layers(models["cnn.fp32"], models["seq.fp32"])


# --- the fix: --keep-float ---------------------------------------------------------------------------------

def test_keep_float_leaves_the_worst_layers_in_float(tmp_path: Path) -> None:
    from irscope.frontends.tflite_convert import load_source
    from irscope.studies.quantization import keep_float, keep_float_text

    source = load_source(REPO / "examples" / "keras_cnn.py")
    result = keep_float(source, 2, tmp_path / "kept.tflite", samples=2, rounds=1)
    kept = {k["tensor"] for k in result["kept"]}
    assert len(kept) == 2 and (tmp_path / "kept.tflite").exists()
    # the kept ops compute in float in the new model, between a DEQUANTIZE and a QUANTIZE ...
    after = result["layers_kept"]
    by_float_name = {after.float_names.get(x.match.float): x for x in after.matched if x.match.via == "name"}
    assert all(by_float_name[name].dtype == "float32" for name in kept), after.to_text()
    assert sum(x.opcode == "DEQUANTIZE" for x in after.layers) >= 2
    # ... which costs bytes (float weights), and every other layer stays int8
    fp32, int8, mixed = result["rows"]
    assert fp32["size_bytes"] > mixed["size_bytes"] > int8["size_bytes"]
    assert all(r["latency_s"] > 0 for r in result["rows"])
    assert "kept float" in keep_float_text(result) and "x fp32" in keep_float_text(result)


@pytest.mark.parametrize("argv, message", [
    (["{cnn}", "--keep-float", "2"], "--keep-float re-converts the model: give its source with --convert"),
    (["--convert", "{src}", "--mode", "fp16", "-o", "{tmp}/x.tflite", "--keep-float", "2"],
     "--keep-float works on int8 models, not --mode fp16"),
    (["--convert", "{src}", "-o", "{tmp}/x.tflite", "--keep-float", "0"], "--keep-float must be >= 1"),
    (["--convert", "{src}", "-o", "{tmp}/x.tflite", "--keep-float", "2", "--svg", "{tmp}/x.svg", "--measure"],
     "it does not take --svg, --measure"),
])
def test_keep_float_errors_are_one_line(capsys, models: dict[str, Path], tmp_path: Path, argv: list[str],
                                        message: str) -> None:
    fill = {"cnn": str(models["cnn.int8"]), "src": str(REPO / "examples" / "keras_cnn.py"), "tmp": str(tmp_path)}
    rc, out, err = run_tflite(capsys, *(a.format(**fill) for a in argv))
    assert rc == 2 and out == ""
    assert message in one_error_line(err, progress=("running ",))
    assert not list(tmp_path.iterdir())  # nothing converted, nothing written


def test_worst_layer_labels_do_not_print_over_each_other():
    """Neighbouring worst layers (ResNet50's #4 and #5 printed over each other) get labels apart."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from irscope.render.quant_layers import _name_worst

    fig, ax = plt.subplots(figsize=(14, 4.2), dpi=110)
    ys = [48, 42, 42, 46, 33, 35, 33, 30] + [30 - k * 0.4 for k in range(60)]
    ax.plot(range(len(ys)), ys)
    _name_worst(fig, ax, [(k, ys[k], f"#{k} CONV_2D\n...block{k}_bn_1/batchnorm/sub1") for k in (1, 4, 5, 6, 59)])
    renderer = fig.canvas.get_renderer()
    boxes = []
    for label in list(ax.texts):  # each label's text alone, measured on an arrowless twin (the arrow has an extent too)
        twin = ax.annotate(label.get_text(), label.xy, textcoords="offset points", xytext=label.xyann,
                           fontsize=label.get_fontsize())
        boxes.append(twin.get_window_extent(renderer))
        twin.remove()
    plt.close(fig)
    assert len(boxes) == 5
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
