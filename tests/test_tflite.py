"""The TFLite reader, its agreement with the LiteRT interpreter, the quantization pass, the kernel graph,
and conversion from every kind of source. Models: `tflite_models.converted()` (tiny, converted once)."""

from __future__ import annotations

import json
import math
import random
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import time_limit
from tflite_models import MODES, converted

from irscope.ir.tflite import TFLiteParseError, build_kernel_graph, parse_tflite, read_tflite
from irscope.passes.quantization import analyze_tflite, op_cost
from irscope.render.tflite import report_table

KERNEL_NODE_ATTRS = {"kind", "opcode", "ops", "op_name", "shape", "bytes_read", "bytes_written", "flops",
                     "transcendentals", "intensity", "bound", "time_at_peak_s", "fused"}
EDGE_ATTRS = {"shape", "dtype", "bytes", "operand_index"}


@pytest.fixture(scope="session")
def models() -> dict[str, Path]:
    return converted()


def _interpreter(path: Path):
    """The LiteRT interpreter without delegates (its view of the file, not XNNPACK's rewrite)."""
    try:
        from ai_edge_litert.interpreter import Interpreter, OpResolverType
    except ImportError:  # pragma: no cover - the test extra installs ai-edge-litert
        import tensorflow as tf

        Interpreter, OpResolverType = tf.lite.Interpreter, tf.lite.experimental.OpResolverType
    interpreter = Interpreter(model_path=str(path),
                              experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    interpreter.allocate_tensors()
    return interpreter


# ---------------------------------------------------------------------------------------------
# The JSON contract against the interpreter's own view


@pytest.mark.parametrize("name", [f"cnn.{m}" for m in MODES] + ["seq.fp32", "seq.int8"])
def test_json_contract_agrees_with_the_interpreter(models: dict[str, Path], name: str) -> None:
    report = analyze_tflite(read_tflite(models[name])).to_json()
    assert report["schema"] == "irscope.tflite-report/1"
    assert report["size_bytes"] == models[name].stat().st_size
    interpreter = _interpreter(models[name])
    main = report["subgraphs"][0]
    assert main["name"] == "main"

    ops = interpreter._get_ops_details()
    assert [(o["op_name"], list(o["inputs"]), list(o["outputs"])) for o in ops] == \
        [(o["opcode"], o["inputs"], o["outputs"]) for o in main["operators"]]

    details = {d["index"]: d for d in interpreter.get_tensor_details()}
    assert set(range(len(main["tensors"]))) <= set(details)
    for tensor in main["tensors"]:
        d = details[tensor["index"]]
        assert d["name"] == tensor["name"]
        assert np.dtype(d["dtype"]).name == tensor["dtype"], tensor["name"]
        assert list(d["shape"]) == tensor["shape"]
        assert list(d["shape_signature"]) == tensor["shape_signature"]
        q = d["quantization_parameters"]
        if tensor["quantization"] is None:
            assert len(q["scales"]) == 0
        else:
            assert np.array_equal(np.asarray(tensor["quantization"]["scales"], np.float32), q["scales"])
            assert list(q["zero_points"]) == tensor["quantization"]["zero_points"]
            assert q["quantized_dimension"] == tensor["quantization"]["quantized_dimension"]

    signatures = interpreter.get_signature_list()
    assert {s["key"]: (sorted(s["inputs"]), sorted(s["outputs"])) for s in report["signatures"]} == \
        {k: (sorted(v["inputs"]), sorted(v["outputs"])) for k, v in signatures.items()}
    json.dumps(report, allow_nan=False)


def test_reader_fields(models: dict[str, Path]) -> None:
    model = read_tflite(models["cnn.int8"])
    assert model.version == 3 and model.description
    assert {m.name for m in model.metadata} >= {"min_runtime_version"}
    assert next(m for m in model.metadata if m.name == "min_runtime_version").text.count(".") == 2
    assert all(c.custom_code is None and c.version >= 1 for c in model.operator_codes)
    conv = next(op for op in model.main.operators if op.opcode == "CONV_2D")
    assert conv.options_type == "Conv2DOptions" and conv.options["padding"] == "SAME"
    assert conv.fused_activation == "RELU6"
    weights = model.main.tensors[conv.inputs[1]]
    assert weights.is_constant and weights.dtype == "int8"
    assert weights.quantization is not None and weights.quantization.per_channel
    assert weights.quantization.quantized_dimension == 0 and len(weights.quantization.scales) == weights.shape[0]
    assert weights.nbytes == weights.buffer_bytes == math.prod(weights.shape)
    # A dynamic batch keeps -1 in the signature and 1 in the shape.
    seq = read_tflite(models["seq.fp32"])
    x = seq.main.tensors[seq.main.inputs[0]]
    assert x.shape == (1, 8, 16) and x.shape_signature == (-1, 8, 16)


def _rewrite(data: bytes, edit) -> bytes:
    """Unpack with the schema's object API, edit, pack again (a model the converter would not write)."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as s

    model = s.ModelT.InitFromPackedBuf(data, 0)
    edit(s, model)
    builder = flatbuffers.Builder(0)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def test_custom_opcodes_and_versions(models: dict[str, Path]) -> None:
    def make_custom(s, model) -> None:
        code = s.OperatorCodeT()
        code.builtinCode = code.deprecatedBuiltinCode = s.BuiltinOperator.CUSTOM
        code.customCode, code.version = "MyFancyOp", 7
        model.operatorCodes.append(code)
        last = model.subgraphs[0].operators[-1]
        last.opcodeIndex, last.builtinOptionsType, last.builtinOptions = len(model.operatorCodes) - 1, 0, None

    model = parse_tflite(_rewrite(models["cnn.fp32"].read_bytes(), make_custom), "custom.tflite")
    last = model.main.operators[-1]
    assert (last.opcode, last.custom, last.version) == ("MyFancyOp", True, 7)
    assert model.operator_codes[last.opcode_index].builtin == "CUSTOM"
    analysis = analyze_tflite(model)
    assert analysis.main[-1].flops == 0  # custom ops are not costed
    assert analysis.to_json()["subgraphs"][0]["operators"][-1]["custom"] is True


def test_builtin_code_above_127_uses_the_new_field(models: dict[str, Path]) -> None:
    # deprecated_builtin_code is an int8: codes above 127 live in builtin_code only.
    def set_codes(s, model) -> None:
        code = model.operatorCodes[0]
        code.builtinCode, code.deprecatedBuiltinCode = 150, s.BuiltinOperator.PLACEHOLDER_FOR_GREATER_OP_CODES

    model = parse_tflite(_rewrite(models["cnn.fp32"].read_bytes(), set_codes))
    assert model.operator_codes[0].builtin_code == 150


# ---------------------------------------------------------------------------------------------
# Precision, boundaries, fallbacks


def test_precision_per_mode(models: dict[str, Path]) -> None:
    analyses = {m: analyze_tflite(read_tflite(models[f"cnn.{m}"])) for m in MODES}
    assert {m: a.mode for m, a in analyses.items()} == {m: m for m in MODES}

    assert set(analyses["fp32"].precision_counts()) == {"float32"}

    fp16 = analyses["fp16"]
    deq = [o for o in fp16.main if o.opcode == "DEQUANTIZE"]
    assert deq and all(o.boundary == "dequantize-weights" and o.weights == "float16" for o in deq)
    convs = [o for o in fp16.main if o.opcode in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")]
    assert all(o.precision == "float32" and o.weights == "float16" and o.weights_dequantized for o in convs)
    assert not fp16.fallbacks and fp16.size.weights.get("float16", 0) > 0

    dynamic = analyses["dynamic"]
    hybrid = [o for o in dynamic.main if o.precision == "hybrid"]
    # The 4,608-weight conv and the 2,048-weight dense layer are quantized; smaller ones stay float.
    assert [(o.opcode, o.weights) for o in hybrid] == [("CONV_2D", "int8"), ("FULLY_CONNECTED", "int8")]
    assert sorted(o.opcode for o in dynamic.fallbacks) == ["CONV_2D", "CONV_2D", "DEPTHWISE_CONV_2D",
                                                           "FULLY_CONNECTED"]

    int8 = analyses["int8"]
    assert set(int8.precision_counts()) == {"int8"} and not int8.fallbacks and not int8.boundaries
    assert int8.io_dtypes() == (("int8",), ("int8",))
    assert all(o.weights_per_channel for o in int8.main if o.weights)

    int16 = analyses["int16x8"]
    assert [(o.opcode, o.boundary) for o in int16.boundaries] == [("QUANTIZE", "quantize"), ("DEQUANTIZE", "dequantize")]
    assert {o.precision for o in int16.main if o.boundary is None} == {"int16"}
    assert {o.weights for o in int16.main if o.weights} == {"int8"}


def test_float_fallback_in_an_int8_model(models: dict[str, Path]) -> None:
    analysis = analyze_tflite(read_tflite(models["seq.int8"]))
    assert analysis.mode == "int8"
    assert [(o.opcode, o.precision) for o in analysis.fallbacks] == [("CUMSUM", "float32")]
    kinds = [(o.opcode, o.boundary, o.inputs[0], o.outputs[0]) for o in analysis.boundaries]
    assert kinds == [("DEQUANTIZE", "dequantize", "int8", "float32"), ("QUANTIZE", "quantize", "float32", "int8")]
    by_op = {o.opcode: o for o in analysis.main}
    assert by_op["BATCH_MATMUL"].precision == "int8" and by_op["SHAPE"].precision == "int32"


def test_sizes_count_shared_buffers_once(models: dict[str, Path]) -> None:
    for name in ("cnn.fp32", "cnn.int8"):
        model = read_tflite(models[name])
        size = analyze_tflite(model).size
        assert size.total == model.size_bytes
        referenced = {t.buffer for t in model.main.tensors if t.is_constant}
        assert size.weights_total == sum(model.buffer_bytes[b] for b in referenced)
        assert 0 < size.graph < size.total
    fp32 = analyze_tflite(read_tflite(models["cnn.fp32"])).size
    int8 = analyze_tflite(read_tflite(models["cnn.int8"])).size
    assert 0.2 < int8.weights["int8"] / fp32.weights["float32"] < 0.3


# ---------------------------------------------------------------------------------------------
# Costs


def test_macs_and_flops_from_shapes(models: dict[str, Path]) -> None:
    model = read_tflite(models["cnn.fp32"])
    sg = model.main
    by_kind: dict[str, list] = {}
    for op in sg.operators:
        by_kind.setdefault(op.opcode, []).append(op)
    conv0 = by_kind["CONV_2D"][0]  # 3x3, 3 -> 16, stride 2: out (1, 16, 16, 16)
    assert op_cost(sg, conv0) == (16 * 16 * 16 * 3 * 3 * 3, 2 * 110592 + 4096 + 4096, 0)  # + bias + RELU6
    dw = by_kind["DEPTHWISE_CONV_2D"][0]
    assert op_cost(sg, dw)[0] == 16 * 16 * 16 * 3 * 3
    fc = by_kind["FULLY_CONNECTED"][0]  # 32 -> 64
    assert op_cost(sg, fc)[0] == 32 * 64
    add = by_kind["ADD"][0]
    assert op_cost(sg, add) == (0, 16 * 16 * 16, 0)
    softmax = by_kind["SOFTMAX"][0]
    assert op_cost(sg, softmax) == (0, 40, 10)
    seq = read_tflite(models["seq.fp32"])
    bmm = next(op for op in seq.main.operators if op.opcode == "BATCH_MATMUL")
    assert op_cost(seq.main, bmm)[:2] == (8 * 8 * 16, 2 * 8 * 8 * 16)
    # Precision does not change the work; bytes shrink with the dtype.
    a32 = analyze_tflite(model).totals()
    a8 = analyze_tflite(read_tflite(models["cnn.int8"])).totals()
    assert a8["macs"] == a32["macs"] and a8["bytes_accessed"] < a32["bytes_accessed"] / 3


def test_bytes_use_real_dtypes(models: dict[str, Path]) -> None:
    model = read_tflite(models["cnn.int8"])
    sg = model.main
    conv = sg.operators[0]
    read, written = sg.op_bytes(conv)
    x, w, b = (sg.tensors[i] for i in conv.inputs)
    assert read == math.prod(x.shape) + math.prod(w.shape) + 4 * math.prod(b.shape)  # int8, int8, int32 bias
    assert written == math.prod(sg.tensors[conv.outputs[0]].shape)


# ---------------------------------------------------------------------------------------------
# The kernel graph: the HLO side's roofline and rendering apply unchanged


def test_kernel_graph_schema_and_roofline(models: dict[str, Path]) -> None:
    from irscope.hw import get_chip

    analysis = analyze_tflite(read_tflite(models["cnn.int8"]), chip=get_chip("h100"))
    graph = analysis.graph()
    ops = [n for n, d in graph.nodes(data=True) if d["kind"] == "op"]
    assert len(ops) == len(analysis.main)
    for name, attrs in graph.nodes(data=True):
        assert KERNEL_NODE_ATTRS <= set(attrs), name
    for _, _, attrs in graph.edges(data=True):
        assert EDGE_ATTRS <= set(attrs)
    conv = graph.nodes["conv_2d_0"]
    assert conv["precision"] == "int8" and conv["ops"] == ["CONV_2D", "RELU6"] and conv["flops"] > 0
    assert conv["bound"] in ("memory", "compute") and conv["time_at_peak_s"] > 0
    # Every op's input edges carry exactly the bytes the op reads.
    for name in ops:
        read = sum(d["bytes"] for _, _, d in graph.in_edges(name, data=True))
        assert read == graph.nodes[name]["bytes_read"]
    assert {d["dtype"] for _, _, d in graph.edges(data=True)} <= {"s8", "s32"}
    plain = build_kernel_graph(read_tflite(models["cnn.int8"]))
    assert plain.number_of_nodes() == graph.number_of_nodes() and plain.nodes["conv_2d_0"]["flops"] == 0


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz not installed")
def test_svg_by_kind_and_by_precision(models: dict[str, Path]) -> None:
    from irscope.render.dot import render_svg
    from irscope.render.tflite import PRECISION_COLORS, precision_svg, precision_view

    graph = analyze_tflite(read_tflite(models["seq.int8"])).graph()
    assert render_svg(graph).lstrip().startswith(("<?xml", "<svg"))
    view = precision_view(graph)
    legend = dict(view.legend)
    assert legend["int8"] == PRECISION_COLORS["int8"] and legend["float32"] == PRECISION_COLORS["float32"]
    assert legend["boundary"] == PRECISION_COLORS["boundary"]
    cumsum = next(n for n in view.nodes if n.id.startswith("cumsum"))
    assert cumsum.fill == PRECISION_COLORS["float32"] and cumsum.lines[0].startswith("float32 · CUMSUM")
    assert "</svg>" in precision_svg(graph)


# ---------------------------------------------------------------------------------------------
# Conversion from every kind of source


def test_convert_saved_model_and_concrete_function(tmp_path: Path) -> None:
    import tensorflow as tf

    from irscope.frontends.tflite_convert import convert, input_specs

    class Dense(tf.Module):
        def __init__(self) -> None:
            self.w = tf.Variable(tf.random.stateless_normal([64, 32], seed=[1, 2]))

        @tf.function(input_signature=[tf.TensorSpec([1, 64], tf.float32, name="x")])
        def __call__(self, x):
            return {"y": tf.nn.relu(tf.matmul(x, self.w))}

    module = Dense()
    saved = tmp_path / "saved"
    tf.saved_model.save(module, str(saved), signatures=module.__call__.get_concrete_function())
    assert [(s.name, s.shape) for s in input_specs(str(saved))] == [("x", (1, 64))]
    supplied = [np.full((1, 64), 0.5, np.float32), np.zeros((1, 64), np.float32)]
    from_saved = analyze_tflite(parse_tflite(convert(str(saved), "int8", representative_data=supplied)))
    assert from_saved.mode == "int8" and from_saved.io_dtypes() == (("int8",), ("int8",))
    concrete = module.__call__.get_concrete_function()
    from_fn = analyze_tflite(parse_tflite(convert(concrete, "dynamic", trackable=module)))
    assert from_fn.mode == "dynamic" and [o.precision for o in from_fn.main if o.opcode == "FULLY_CONNECTED"] == ["hybrid"]


def test_calibration_data_and_errors(tmp_path: Path) -> None:
    from irscope.frontends.tflite_convert import (
        ConversionError,
        InputSpec,
        convert,
        load_calibration,
        load_source,
        representative_dataset,
    )

    specs = [InputSpec("image", (1, 4, 4, 3), "float32")]
    np.save(tmp_path / "cal.npy", np.zeros((3, 4, 4, 3), np.float32))  # samples without the batch axis
    rows = list(representative_dataset(specs, load_calibration(tmp_path / "cal.npy"))())
    assert len(rows) == 3 and rows[0][0].shape == (1, 4, 4, 3)
    np.savez(tmp_path / "cal.npz", image=np.zeros((2, 1, 4, 4, 3), np.float32))
    rows = list(representative_dataset(specs, load_calibration(tmp_path / "cal.npz"), by_name=True)())
    assert list(rows[0]) == ["image"]
    with pytest.raises(ConversionError, match="shape"):
        list(representative_dataset(specs, np.zeros((2, 5), np.float32))())
    with pytest.raises(ValueError, match="unknown mode"):
        convert(None, "int3")
    bad = tmp_path / "bad.py"
    bad.write_text("import keras\n\ndef build():\n    return 1 / 0\n\nIRSCOPE_KERAS = {'m': build}\n")
    with pytest.raises(ConversionError, match=r"bad.py:4: ZeroDivisionError"):
        load_source(bad)
    two = tmp_path / "two.py"
    two.write_text("IRSCOPE_KERAS = {'a': None, 'b': None}\n")
    with pytest.raises(ConversionError, match="pick one with --fn"):
        load_source(two)
    with pytest.raises(ConversionError, match="not a SavedModel"):
        load_source(tmp_path)


# ---------------------------------------------------------------------------------------------
# Malformed input: one-line errors, never a crash or a hang


def _mutations(data: bytes, rng: random.Random, count: int):
    n = len(data)
    for k in range(count):
        kind = k % 5
        if kind == 0:
            yield "truncate", data[: rng.randrange(0, n)]
        elif kind == 1:  # flip a few random bytes
            b = bytearray(data)
            for _ in range(rng.randint(1, 8)):
                b[rng.randrange(n)] = rng.randrange(256)
            yield "flip", bytes(b)
        elif kind == 2:  # a 32-bit word (an offset, a length, an index) set to something large
            b = bytearray(data)
            at = rng.randrange(0, n - 4) & ~3
            b[at:at + 4] = rng.choice([0x7FFFFFFF, 0xFFFFFFFF, 0x10000, rng.randrange(1 << 32)]).to_bytes(4, "little")
            yield "word", bytes(b)
        elif kind == 3:  # bytes cut out of the middle
            at = rng.randrange(8, n - 1)
            yield "cut", data[:at] + data[at + rng.randint(1, 64):]
        else:  # the head of the file (root table, vtables) scrambled
            b = bytearray(data)
            for _ in range(4):
                b[rng.randrange(0, min(n, 256))] = rng.randrange(256)
            yield "head", bytes(b)


def test_fuzz_mutated_files_never_crash_or_hang(models: dict[str, Path]) -> None:
    rng = random.Random(20240501)
    outcomes: dict[str, int] = {"parsed": 0, "rejected": 0}
    for name in ("cnn.int8", "seq.int8"):
        data = models[name].read_bytes()
        for kind, mutated in _mutations(data, rng, 250):
            with time_limit(10):
                try:
                    model = parse_tflite(mutated, "mutated.tflite")
                except TFLiteParseError as e:
                    message = str(e)
                    assert "\n" not in message and message.startswith("mutated.tflite: "), (kind, message)
                    outcomes["rejected"] += 1
                    continue
            # Whatever parses must survive the whole pipeline.
            with time_limit(10):
                analysis = analyze_tflite(model)
                for sub in range(len(model.subgraphs)):
                    analysis.graph(sub)
                json.dumps(analysis.to_json())
                report_table(analysis)
            outcomes["parsed"] += 1
    print(outcomes)
    assert outcomes["rejected"] > 100 and outcomes["parsed"] > 10, outcomes


@pytest.mark.parametrize("data, message", [
    (b"", "too short"),
    (b"hello, world\n" * 10, "no 'TFL3' file identifier"),
    (b"\x00" * 4 + b"TFL3", "malformed TFLite flatbuffer"),
    (b"\x10\x00\x00\x00TFL3" + b"\xff" * 64, "malformed TFLite flatbuffer"),
])
def test_not_a_flatbuffer(data: bytes, message: str) -> None:
    with pytest.raises(TFLiteParseError, match=message):
        parse_tflite(data, "x.tflite")


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(TFLiteParseError, match="no such file"):
        read_tflite(tmp_path / "nope.tflite")
    with pytest.raises(TFLiteParseError, match="is a directory"):
        read_tflite(tmp_path)
