"""Real .tflite files written elsewhere (LiteRT's and tflite-micro's test models, tests/data/corpus/tflite,
see its SOURCES.md): each reads through `irscope tflite` with no traceback and no hang, and what the
reader says about every tensor agrees with the LiteRT interpreter's own view of the file.

The quantization forms get their own checks against the interpreter: blockwise int4 weights (LiteRT's
LLM exports), sparse constants (converted here with TFLite's sparsity optimization), and custom and
multi-axis details (written here with the schema's own object API into a real model).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import time_limit

from irscope.cli.main import main
from irscope.ir.tflite import read_tflite, schema
from irscope.passes.quantization import analyze_tflite

CORPUS = Path(__file__).resolve().parent / "data" / "corpus" / "tflite"
FILES = sorted(CORPUS.rglob("*.tflite"))
BLOCKWISE = CORPUS / "litert" / "qwen_fc_blockwise_quantized.tflite"
BLOCKWISE_SMALL = CORPUS / "litert" / "blockwise_quantized.tflite"
SECONDS = 60


def _interpreter(path: Path):
    """The LiteRT interpreter without delegates, or None when it cannot load the model (custom ops,
    NPU-compiled bytecode, ...)."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    try:
        return Interpreter(model_path=str(path),
                           experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    except (ValueError, RuntimeError):
        return None


def test_the_corpus_is_there() -> None:
    assert len(FILES) >= 200, "tests/data/corpus/tflite is incomplete"
    assert all(f.read_bytes()[4:8] == b"TFL3" for f in FILES)


@pytest.mark.parametrize("path", FILES, ids=[str(f.relative_to(CORPUS)) for f in FILES])
def test_real_model_reads_and_agrees_with_the_interpreter(path: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "report.json"
    with time_limit(SECONDS):
        status = main(["tflite", str(path), "--json", str(out)])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    if status == 2:  # a clean refusal: one line
        lines = [line for line in err.splitlines() if line.startswith("irscope tflite: error:")]
        assert len(lines) == 1, err
        return
    assert status == 0, err
    report = json.loads(out.read_text())
    assert report["size_bytes"] == path.stat().st_size
    interpreter = _interpreter(path)
    if interpreter is None:
        return
    details = {d["index"]: d for d in interpreter.get_tensor_details()}
    tensors = report["subgraphs"][0]["tensors"]
    for tensor in tensors:
        d = details[tensor["index"]]
        assert d["name"] == tensor["name"]
        dtype = {"int4": "int8", "uint4": "uint8", "int2": "int8", "string": "bytes"}.get(tensor["dtype"], tensor["dtype"])
        assert np.dtype(d["dtype"]).name == dtype, tensor["name"]  # int4 widened to int8
        assert list(d["shape"]) == tensor["shape"]
        _agree(d["quantization_parameters"], tensor["quantization"], tensors)
        if "sparsity" in tensor:
            _agree_sparsity(d["sparsity_parameters"], tensor["sparsity"])


def _agree(q: dict, mine: dict | None, tensors: list[dict]) -> None:
    """irscope's quantization of one tensor against the interpreter's `quantization_parameters`."""
    if mine is None:
        assert len(q["scales"]) == 0
        return
    if mine["kind"] == "blockwise":
        # The interpreter reads the scales tensor's bytes as float16 and the zero points as int32.
        scales = tensors[mine["scales_tensor"]]
        assert len(q["scales"]) * 2 == _nbytes(scales)
        zps = mine["zero_points_tensor"]
        assert len(q["zero_points"]) * 4 == (_nbytes(tensors[zps]) if zps is not None else 0)
        assert q.get("block_size", mine["block_size"]) == mine["block_size"]
        assert q["quantized_dimension"] == mine["quantized_dimension"]
        return
    if mine["kind"] in ("custom", "multi_axis"):
        return  # the interpreter does not expose these
    assert np.array_equal(np.asarray(mine["scales"], np.float32), q["scales"])
    assert list(q["zero_points"]) == mine["zero_points"]
    assert q["quantized_dimension"] == mine["quantized_dimension"]
    assert mine["kind"] == ("per_channel" if len(q["scales"]) > 1 else "per_tensor")


def _nbytes(tensor: dict) -> int:
    bits = {"float32": 32, "float16": 16, "int32": 32, "int8": 8, "int4": 4, "int16": 16}[tensor["dtype"]]
    return (int(np.prod(tensor["shape"])) * bits + 7) // 8


def _agree_sparsity(theirs: dict, mine: dict) -> None:
    assert list(theirs["traversal_order"]) == mine["traversal_order"]
    assert list(theirs.get("block_map", [])) == mine["block_map"]
    assert len(theirs["dim_metadata"]) == len(mine["dim_metadata"])
    for t, m in zip(theirs["dim_metadata"], mine["dim_metadata"], strict=True):
        assert {0: "dense", 1: "sparse_csr"}[t["format"]] == m["format"]
        if m["format"] == "dense":
            assert t["dense_size"] == m["dense_size"]
        else:
            assert len(t["array_segments"]) == m["segments"]
            assert len(t["array_indices"]) == m["indices"]


# ---------------------------------------------------------------------------------------------
# Blockwise int4 weights (LiteRT's LLM exports)


def test_blockwise_int4_weights_are_read_and_counted() -> None:
    model = read_tflite(BLOCKWISE)
    sg = model.main
    weights = sg.tensors[1]
    q = weights.quantization
    assert weights.dtype == "int4" and weights.shape == (1024, 1024)
    assert q is not None and q.kind == "blockwise" and q.block_size == 32
    scales = sg.tensors[q.scales_tensor]
    assert scales.dtype == "float16" and scales.shape == (1024, 1024 // 32)  # one scale per 32-block
    assert q.zero_points_tensor is None  # -1 in the file: symmetric
    assert weights.nbytes == 1024 * 1024 // 2  # int4 packs two per byte
    read, written = sg.op_bytes(sg.operators[0])
    assert read == 1024 * 4 + 1024 * 1024 // 2 + 1024 * 32 * 2  # activation, packed weights, scales
    assert written == 1024 * 4

    analysis = analyze_tflite(model)
    info = analysis.main[0]
    assert (info.precision, info.weights, info.weights_quantization, info.weights_block_size) == \
        ("hybrid", "int4", "blockwise", 32)
    assert analysis.mode == "dynamic"  # float activations, integer weights
    tensor_json = analysis.to_json()["subgraphs"][0]["tensors"][1]["quantization"]
    assert tensor_json["kind"] == "blockwise" and tensor_json["block_size"] == 32
    assert {"scales", "zero_points", "quantized_dimension"} <= set(tensor_json)  # the contract's keys stay


def test_blockwise_table_row(capsys) -> None:
    assert main(["tflite", str(BLOCKWISE)]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if "FULLY_CONNECTED" in line)
    assert "int4 block32" in row and "hybrid" in row


def test_blockwise_with_zero_points_agrees_with_the_interpreter() -> None:
    model = read_tflite(BLOCKWISE_SMALL)
    q = model.main.tensors[2].quantization
    assert q is not None and (q.kind, q.block_size, q.scales_tensor, q.zero_points_tensor) == ("blockwise", 32, 0, 1)
    d = _interpreter(BLOCKWISE_SMALL).get_tensor_details()[2]["quantization_parameters"]
    assert len(d["zero_points"]) == model.main.tensors[1].elements
    # The ADD reads its two operands and the scale and zero-point tensors of the blockwise one.
    assert model.main.op_bytes(model.main.operators[0])[0] == 64 + 64 + 8 + 8


# ---------------------------------------------------------------------------------------------
# Sparse constants, custom and multi-axis details


@pytest.fixture(scope="module")
def sparse_model(tmp_path_factory) -> Path:
    """A Dense layer with 80% zero weights converted with TFLite's sparsity optimization."""
    import tensorflow as tf

    rng = np.random.default_rng(0)
    w = rng.standard_normal((64, 64)).astype(np.float32)
    w[rng.random(w.shape) < 0.8] = 0.0
    layer = tf.keras.layers.Dense(64, use_bias=False)
    model = tf.keras.Sequential([tf.keras.Input((64,)), layer])
    layer.set_weights([w])
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.EXPERIMENTAL_SPARSITY]
    path = tmp_path_factory.mktemp("sparse") / "sparse.tflite"
    path.write_bytes(converter.convert())
    return path


def test_sparse_weights_agree_with_the_interpreter(sparse_model: Path) -> None:
    model = read_tflite(sparse_model)
    sparse = [t for sg in model.subgraphs for t in sg.tensors if t.sparsity is not None]
    assert sparse, "the converter wrote no sparse tensor"
    details = {d["index"]: d for d in _interpreter(sparse_model).get_tensor_details()}
    for t in sparse:
        _agree_sparsity(details[t.index]["sparsity_parameters"], t.sparsity.to_json())
        # A kernel reads the kept values and their indices, not the dense shape.
        assert t.nbytes == t.buffer_bytes + t.sparsity.index_bytes < t.elements * t.bits // 8


def test_custom_and_multi_axis_details(tmp_path: Path) -> None:
    """Write custom and multi-axis details into a real model with the schema's object API."""
    s = schema()
    data = BLOCKWISE_SMALL.read_bytes()
    m = s.ModelT.InitFromPackedBuf(bytearray(data), 0)
    tensors = m.subgraphs[0].tensors
    custom = s.QuantizationParametersT()
    custom.detailsType = s.QuantizationDetails.CustomQuantization
    custom.details = s.CustomQuantizationT()
    custom.details.custom = [1, 2, 3, 4, 5]
    tensors[3].quantization = custom
    multi = s.QuantizationParametersT()
    multi.detailsType = s.QuantizationDetails.MultiAxisQuantization
    multi.details = s.MultiAxisQuantizationT(scales=0, zeroPoints=-1, blockSize=16, quantizedDimensions=[0])
    tensors[4].quantization = multi
    import flatbuffers

    builder = flatbuffers.Builder(1024)
    builder.Finish(m.Pack(builder), file_identifier=b"TFL3")
    path = tmp_path / "details.tflite"
    path.write_bytes(bytes(builder.Output()))

    sg = read_tflite(path).main
    c, x = sg.tensors[3].quantization, sg.tensors[4].quantization
    assert (c.kind, c.custom_bytes, c.details) == ("custom", 5, "custom")
    assert (x.kind, x.block_size, x.quantized_dimensions, x.scales_tensor, x.zero_points_tensor) == \
        ("multi_axis", 16, (0,), 0, None)
    assert _interpreter(path) is not None  # LiteRT still reads the file


def test_a_bad_scales_index_is_one_line(tmp_path: Path) -> None:
    s = schema()
    m = s.ModelT.InitFromPackedBuf(bytearray(BLOCKWISE_SMALL.read_bytes()), 0)
    m.subgraphs[0].tensors[2].quantization.details.scales = 99
    import flatbuffers

    builder = flatbuffers.Builder(1024)
    builder.Finish(m.Pack(builder), file_identifier=b"TFL3")
    path = tmp_path / "bad.tflite"
    path.write_bytes(bytes(builder.Output()))
    from irscope.ir.tflite import TFLiteParseError

    with pytest.raises(TFLiteParseError, match="scales tensor 99 out of range"):
        read_tflite(path)
