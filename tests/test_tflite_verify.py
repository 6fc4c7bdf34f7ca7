"""The TFLite verifier: real converted models pass; each kind of ill-formed table fails with one line."""

from __future__ import annotations

import pytest
from tflite_models import converted

from irscope.ir.tflite import parse_tflite, read_tflite, schema
from irscope.ir.tflite_verify import TFLiteVerifyError, verify_tflite


@pytest.mark.parametrize("name", ["cnn.fp32", "cnn.fp16", "cnn.dynamic", "cnn.int8", "cnn.int16x8", "seq.fp32",
                                  "seq.int8"])
def test_converted_models_verify(name):
    model = read_tflite(converted()[name])
    assert verify_tflite(model) is model


def _edited(name: str, edit) -> bytes:
    import flatbuffers

    m = schema().ModelT.InitFromPackedBuf(bytearray(converted()[name].read_bytes()), 0)
    edit(m)
    builder = flatbuffers.Builder(1024)
    builder.Finish(m.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _second_writer(m):
    ops = m.subgraphs[0].operators
    ops[1].outputs = list(ops[0].outputs)


def _cycle(m):
    ops = m.subgraphs[0].operators
    ops[0].inputs = [ops[-1].outputs[0], *list(ops[0].inputs)[1:]]


def _short_buffer(m):
    sg = m.subgraphs[0]
    t = next(t for t in sg.tensors if m.buffers[t.buffer].data is not None and len(m.buffers[t.buffer].data) > 8)
    m.buffers[t.buffer].data = list(m.buffers[t.buffer].data)[:3]


def _unknown_type(m):
    m.subgraphs[0].tensors[0].type = 99


def _per_channel_mismatch(m):
    t = next(t for t in m.subgraphs[0].tensors if t.quantization is not None and t.quantization.scale is not None
             and len(t.quantization.scale) > 1)
    t.quantization.quantizedDimension = 1


def _while_to_nowhere(m):
    s = schema()
    options = s.WhileOptionsT()
    options.condSubgraphIndex, options.bodySubgraphIndex = 0, 7
    op = m.subgraphs[0].operators[0]
    op.builtinOptionsType, op.builtinOptions = s.BuiltinOptions.WhileOptions, options


def _while_calls_itself(m):
    s = schema()
    options = s.WhileOptionsT()
    options.condSubgraphIndex = options.bodySubgraphIndex = 0
    op = m.subgraphs[0].operators[0]
    op.builtinOptionsType, op.builtinOptions = s.BuiltinOptions.WhileOptions, options


CASES = {
    "second_writer": ("cnn.fp32", _second_writer, "which operator 0 writes too"),
    "cycle": ("cnn.fp32", _cycle, "operators feed each other in a cycle"),
    "short_buffer": ("cnn.fp32", _short_buffer, "its buffer"),
    "unknown_type": ("cnn.fp32", _unknown_type, "unknown tensor type 99"),
    "per_channel": ("cnn.int8", _per_channel_mismatch, "per-channel scales for dimension 1"),
    "while_to_nowhere": ("cnn.fp32", _while_to_nowhere, "body_subgraph_index=7 is out of range (1 subgraphs)"),
    "while_calls_itself": ("cnn.fp32", _while_calls_itself, "calls itself: subgraph 0 -> 0"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_ill_formed_model_fails_naming_the_place(case):
    name, edit, words = CASES[case]
    model = parse_tflite(_edited(name, edit), "m.tflite")
    with pytest.raises(TFLiteVerifyError) as info:
        verify_tflite(model)
    message = str(info.value)
    assert message.startswith("m.tflite: subgraph 0") and words in message and "\n" not in message, message


def test_an_unedited_repack_still_verifies():
    # The edits above are the only difference: packing a model again changes nothing the verifier sees.
    verify_tflite(parse_tflite(_edited("cnn.int8", lambda m: None), "m.tflite"))
