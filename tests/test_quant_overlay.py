"""The per-layer quantization error drawn on the TFLite graph (`--svg --color-by sqnr`, the Model Explorer
`sqnr` overlay): on the small CNN converted to fp32 and int8, the colours and values of named nodes follow
an SQNR recomputed here straight from the LiteRT interpreter's tensors; and the BatchNorm re-estimation of
`examples/keras_apps.py` leaves each BatchNorm's output at zero mean and unit variance on its samples."""

from __future__ import annotations

import importlib.util
import json
import math
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from tflite_models import REPO, converted, work_dir

from irscope.cli.main import main
from irscope.ir.tflite import read_tflite
from irscope.measure.tflite_tensors import compare_layers
from irscope.passes.quantization import analyze_tflite
from irscope.render.tflite import SQNR_BANDS, SQNR_EXACT, SQNR_NONE, annotate_sqnr, sqnr_band, sqnr_view

SAMPLES = 3


@pytest.fixture(scope="module")
def pair() -> dict[str, object]:
    """The CNN's fp32 and int8 models, three input samples in a .npy file, and the per-layer result on them."""
    models = converted()
    rng = np.random.default_rng(42)
    samples = rng.uniform(-1, 1, size=(SAMPLES, 32, 32, 3)).astype(np.float32)
    npy = work_dir() / "overlay_samples.npy"
    np.save(npy, samples)
    fp32, int8 = models["cnn.fp32"], models["cnn.int8"]
    return {"fp32": fp32, "int8": int8, "samples": samples, "npy": npy,
            "layers": compare_layers(fp32, int8, calibration=npy),
            "graph": analyze_tflite(read_tflite(str(int8))).graph(0)}


def _tensors(path: Path, samples: np.ndarray) -> dict[str, list[np.ndarray]]:
    """Every tensor of `path` by name, as float (dequantized with its own scale), one array per sample."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    with warnings.catch_warnings():  # "preserve_all_tensors is for debugging": it is
        warnings.simplefilter("ignore", UserWarning)
        interp = Interpreter(model_path=str(path), experimental_preserve_all_tensors=True,
                             experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    interp.allocate_tensors()
    inp = interp.get_input_details()[0]
    out: dict[str, list[np.ndarray]] = {}
    for x in samples:
        scale, zero = inp["quantization"]
        value = x[None] if not scale else np.clip(np.round(x[None] / scale) + zero, -128, 127)
        interp.set_tensor(inp["index"], value.astype(inp["dtype"]))
        interp.invoke()
        for d in interp.get_tensor_details():
            try:
                t = interp.get_tensor(d["index"]).astype(np.float64)
            except ValueError:  # a tensor with no data (an optional input left out)
                continue
            scale, zero = d["quantization"]
            out.setdefault(d["name"], []).append((t - zero) * scale if scale else t)
    return out


def _sqnr(f: list[np.ndarray], q: list[np.ndarray]) -> float:
    f_all, q_all = np.concatenate([a.ravel() for a in f]), np.concatenate([a.ravel() for a in q])
    return 10 * math.log10(float(f_all @ f_all) / float((q_all - f_all) @ (q_all - f_all)))


@pytest.fixture(scope="module")
def recomputed(pair) -> dict[str, float]:
    """Op node -> SQNR of its output, from the interpreter's tensors matched by name (not through irscope)."""
    floats, quants = _tensors(pair["fp32"], pair["samples"]), _tensors(pair["int8"], pair["samples"])
    out = {}
    for node, attrs in pair["graph"].nodes(data=True):
        name = attrs.get("op_name")
        if attrs.get("kind") == "op" and name in floats and name in quants and quants[name][0].shape == floats[name][0].shape:
            out[node] = _sqnr(floats[name], quants[name])
    return out


def test_named_nodes_are_coloured_by_their_recomputed_sqnr(pair, recomputed) -> None:
    assert {"conv_2d_0", "conv_2d_2", "fully_connected_7"} <= set(recomputed), recomputed
    view = sqnr_view(pair["graph"], pair["layers"])
    drawn = {n.id: n for n in view.nodes}
    for node, sqnr in recomputed.items():
        label, fill = sqnr_band(sqnr)
        assert drawn[node].fill == fill, (node, sqnr, label)
        assert drawn[node].lines[0].startswith(f"{sqnr:.1f} dB"), (node, drawn[node].lines)
    # the layers do not all fall in one band: the test tells colours apart
    assert len({sqnr_band(s)[1] for s in recomputed.values()}) >= 2
    # weights are not compared: grey, and the legend says so
    assert all(n.fill == SQNR_NONE[1] for n in view.nodes if n.kind == "constant")
    legend = dict(view.legend)
    assert SQNR_NONE[0] in legend and all(sqnr_band(s)[0] in legend for s in recomputed.values())
    assert view.color_by == "SQNR against float"


def test_bands_split_at_their_bounds() -> None:
    assert sqnr_band(40.0)[0] == "≥ 40 dB" and sqnr_band(39.99)[0] == "30-40 dB"
    assert sqnr_band(20.0)[0] == "20-30 dB" and sqnr_band(19.9)[0] == "10-20 dB"
    assert sqnr_band(-3.0)[0] == "< 0 dB"
    assert sqnr_band(math.inf) == SQNR_EXACT and sqnr_band(None) == SQNR_NONE
    assert len({fill for _, _, fill in SQNR_BANDS} | {SQNR_EXACT[1], SQNR_NONE[1]}) == len(SQNR_BANDS) + 2


def test_annotate_sets_the_overlay_values(pair, recomputed) -> None:
    graph = annotate_sqnr(pair["graph"].copy(), pair["layers"])
    for node, sqnr in recomputed.items():
        assert graph.nodes[node]["sqnr_db"] == pytest.approx(sqnr, abs=1e-6)
    assert not any("sqnr_db" in a for _, a in graph.nodes(data=True) if a.get("kind") == "constant")


def test_cli_svg_coloured_by_sqnr(pair, recomputed, capsys) -> None:
    svg = work_dir() / "cnn.sqnr.svg"
    rc = main(["tflite", str(pair["int8"]), "--compare", str(pair["fp32"]), "--layers", "--calibration",
               str(pair["npy"]), "--svg", str(svg), "--color-by", "sqnr"])
    capsys.readouterr()
    assert rc == 0
    text = svg.read_text()
    assert "SQNR against float" in text
    # conv_2d_2's node group is filled with its band's colour and labelled with its SQNR
    group = re.search(r"<title>conv_2d_2</title>.*?</g>", text, re.S).group(0)
    assert f'fill="{sqnr_band(recomputed["conv_2d_2"])[1]}"' in group
    assert f"{recomputed['conv_2d_2']:.1f} dB" in group


def test_cli_model_explorer_overlay(pair, recomputed, capsys) -> None:
    if importlib.util.find_spec("model_explorer") is None:
        pytest.skip("irscope[viewer] is not installed")
    out = work_dir() / "me_sqnr"
    rc = main(["tflite", str(pair["int8"]), "--compare", str(pair["fp32"]), "--layers", "--calibration",
               str(pair["npy"]), "--model-explorer-out", str(out), "--overlays", "sqnr"])
    capsys.readouterr()
    assert rc == 0
    data = json.loads(next(out.glob("*.sqnr.json")).read_text())
    results = next(iter(data.values()))["results"]
    index = {node: f"op{a['index']}" for node, a in pair["graph"].nodes(data=True) if a.get("kind") == "op"}
    for node, sqnr in recomputed.items():
        assert results[index[node]]["value"] == pytest.approx(sqnr, abs=1e-6)


def test_sqnr_colours_need_layers(pair, capsys) -> None:
    rc = main(["tflite", str(pair["int8"]), "--svg", str(work_dir() / "x.svg"), "--color-by", "sqnr"])
    err = capsys.readouterr().err
    assert rc == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "--compare FLOAT.tflite --layers" in lines[0], err


def _keras_apps():
    spec = importlib.util.spec_from_file_location("keras_apps", REPO / "examples" / "keras_apps.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_batchnorm_reestimation_gives_unit_scale() -> None:
    import keras

    apps = _keras_apps()
    keras.utils.set_random_seed(0)
    inputs = keras.Input((16, 16, 3))
    x = keras.layers.Conv2D(8, 3, padding="same")(inputs)
    x = keras.layers.BatchNormalization(name="bn1")(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.Conv2D(8, 3, padding="same", kernel_initializer=keras.initializers.RandomNormal(stddev=1e-3))(x)
    x = keras.layers.BatchNormalization(name="bn2")(x)
    model = keras.Model(inputs, x)
    probe = keras.Model(inputs, [model.get_layer("bn1").output, model.get_layer("bn2").output])
    x_in = np.random.default_rng(apps.BN_SEED).uniform(-1, 1, size=(apps.BN_SAMPLES, 16, 16, 3)).astype("float32")
    before = [keras.ops.convert_to_numpy(t) for t in probe(x_in, training=False)]
    assert np.std(before[1]) < 0.05  # the default statistics (0, 1) leave the small-weight branch tiny
    apps.recalibrate_batchnorm(model)
    after = [keras.ops.convert_to_numpy(t) for t in probe(x_in, training=False)]
    for name, h in zip(("bn1", "bn2"), after, strict=True):
        # per channel, on the samples it was estimated on: mean 0 and variance v / (v + epsilon), v being the
        # input's variance (now the moving variance): 1 for unit-scale inputs, less for tiny ones
        layer = model.get_layer(name)
        v = keras.ops.convert_to_numpy(layer.moving_variance).astype(np.float64)
        assert np.allclose(h.mean(axis=(0, 1, 2)), 0, atol=1e-3)
        assert np.allclose(h.var(axis=(0, 1, 2)), v / (v + layer.epsilon), rtol=1e-2)
    assert np.all(after[0].var(axis=(0, 1, 2)) > 0.99)
    assert np.std(after[1]) > 5 * np.std(before[1])
