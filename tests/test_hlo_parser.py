"""irscope's HLO parser against XLA's own parser, on real corpus files and on modules JAX writes."""

from __future__ import annotations

import random
import re

import pytest
from conftest import corpus_files
from hypothesis import given, settings
from hypothesis import strategies as st
from jax_programs import PROGRAMS, texts
from xla_oracle import differences, irscope_view, xla_view

from irscope.ir.attrs import int_list, metadata_field, metadata_fields, name_list
from irscope.ir.hlo import Shape
from irscope.ir.hlo_parser import HloParseError, _split_modules, parse_module, parse_modules, shape_from_token

# Files XLA's bundled parser refuses as a whole: several modules split by `// -----`
# (XLA's tools split them before parsing; irscope does the same and checks each piece).
XLA_REFUSES_WHOLE = {"gpu_kernel_reuse.hlo", "gpu_dynamic_update_slice_inplace_bf16.hlo"}


@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: p.name)
def test_corpus_matches_xla_parser(path):
    text = path.read_text()
    modules = parse_modules(text, str(path))
    pieces = _split_modules(text)
    assert len(modules) == len(pieces)
    try:
        xla_view(text)
        whole_ok = True
    except Exception:
        whole_ok = False
    assert whole_ok == (path.name not in XLA_REFUSES_WHOLE), "update XLA_REFUSES_WHOLE"
    for (_, piece), module in zip(pieces, modules, strict=True):
        assert differences(xla_view(piece), irscope_view(module)) == []


def test_corpus_is_complete(corpus):
    assert len(corpus) >= 58


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_jax_modules_match_xla_parser(name):
    for text in texts(name):
        module = parse_module(text)
        assert differences(xla_view(text), irscope_view(module)) == []


def test_while_and_conditional_call_order():
    _, optimized = texts("fori")
    module = parse_module(optimized)
    whiles = [i for c in module.computations.values() for i in c.instructions if i.opcode == "while"]
    assert whiles, "expected a while loop"
    body, cond = whiles[0].called
    assert module.computations[cond].root.shape.dtype == "pred"
    assert body == whiles[0].attrs["body"].lstrip("%")


def test_module_header_and_stack_frames():
    _, optimized = texts("mlp")
    module = parse_module(optimized)
    assert module.name == "jit__mlp"
    assert module.attrs["is_scheduled"] == "true"
    assert module.attrs["entry_computation_layout"].startswith("{(f32[32,64]{1,0}")
    assert module.stack_frames, "the StackFrames table should be read"
    frames = [f for f in module.stack_frames.values() if f[0].endswith("jax_programs.py")]
    assert frames and all(line > 0 for _, _, line, _ in frames)
    assert "_mlp" in {func for _, func, _, _ in frames}
    entry = module.entry
    assert entry.is_entry and entry.root.is_root
    fusions = [i for i in entry.instructions if i.opcode == "fusion"]
    assert fusions and all(i.fusion_kind in ("kLoop", "kInput", "kOutput", "kCustom") for i in fusions)
    assert any((i.op_name or "").startswith("jit(_mlp)") for i in fusions)


@pytest.mark.parametrize(
    "token, expected",
    [
        ("f32[]", Shape("f32", (), (), None)),
        ("f32[2,3]{1,0}", Shape("f32", (2, 3), (), (1, 0))),
        ("bf16[8, 128]{1,0:T(8,128)(2,1)S(1)}", Shape("bf16", (8, 128), (), (1, 0), "T(8,128)(2,1)S(1)")),
        ("s32[<=10,3]", Shape("s32", (10, 3), (True, False), None)),
        ("s4[64,64]{1,0:E(4)}", Shape("s4", (64, 64), (), (1, 0), "E(4)")),
        ("f4e2m1fn[16]", Shape("f4e2m1fn", (16,), (), None)),
        ("token[]", Shape("token")),
    ],
)
def test_shapes(token, expected):
    assert shape_from_token(token) == expected


def test_shape_sizes():
    assert shape_from_token("f32[256,1024]{1,0}").byte_size == 256 * 1024 * 4
    assert shape_from_token("s4[64,64]{1,0:E(4)}").byte_size == 64 * 64 // 2
    assert shape_from_token("pred[7]").byte_size == 7
    assert str(shape_from_token("bf16[8,128]{1,0:T(8,128)}")) == "bf16[8,128]{1,0:T(8,128)}"


HANDWRITTEN = """
HloModule m, is_scheduled=true, entry_computation_layout={((f32[4]{0}, s32[]), token[])->f32[4]{0}}

FileNames
1 "a.py"

FunctionNames
1 "f"

FileLocations
1 {file_name_id=1 function_name_id=1 line=7 end_line=7 column=1 end_column=9}

StackFrames
1 {file_location_id=1 parent_frame_id=1}

%add (x: f32[], y: f32[]) -> f32[] {
  %x = f32[] parameter(0)
  %y = f32[] parameter(1)
  ROOT %sum = f32[] add(f32[] %x, f32[] %y)
}

%async_wrapped (p: f32[4]) -> f32[4] {
  %p = f32[4]{0} parameter(0)
  ROOT %ar = f32[4]{0} all-reduce(%p), replica_groups=[2,4]<=[4,2]T(1,0), to_apply=%add
}, execution_thread="main"

ENTRY %main (t: (f32[4], s32[]), tok: token[]) -> f32[4] {
  %t = (f32[4]{0}, s32[]) parameter(0), sharding={{replicated}, {maximal device=0}}
  %tok = token[] parameter(1)
  %gte = f32[4]{0} get-tuple-element(%t), index=0, metadata={op_name="jit(f)/a[b=(1, 2)]" stack_frame_id=1}
  %dyn = f32[<=4]{0} custom-call(%gte), custom_call_target="Foo$bar", backend_config="{\\"k\\": [1, 2]}"
  %start = ((f32[4]{0}), f32[4]{0}, u32[]) all-reduce-start(%gte), replica_groups={{0,1},{2,3}}, to_apply=%add
  %done = f32[4]{0} all-reduce-done(%start)
  %conv = f32[4]{0} convert(%done), backend_config={"outer":{"inner":{"deeper":{"deepest":{"x":[{"y":1}]}}}}}
  /* a comment */ %c = f32[4]{0} constant({1, 2, 3, 4}) // trailing comment
  ROOT %out = f32[4]{0} add(%conv, %c), frontend_attributes={_xla_stream="1"}, dim_labels=b01f_01io->b01f
}
"""


def test_handwritten_features():
    module = parse_module(HANDWRITTEN)
    assert module.entry_name == "main"
    assert module.stack_frames == {1: ("a.py", "f", 7, None)}
    wrapped = module.computations["async_wrapped"]
    assert wrapped.attrs == {"execution_thread": '"main"'}
    assert wrapped.root.attrs["replica_groups"] == "[2,4]<=[4,2]T(1,0)"
    assert wrapped.root.called == ("add",)
    entry = module.entry.by_name
    assert entry["t"].shape.is_tuple and entry["t"].shape.tuple_shapes[1] == Shape("s32")
    assert entry["tok"].shape.dtype == "token"
    assert entry["gte"].op_name == "jit(f)/a[b=(1, 2)]"
    assert metadata_fields(entry["gte"].attrs["metadata"])["stack_frame_id"] == "1"
    assert entry["dyn"].shape.dynamic == (True,)
    assert entry["dyn"].attrs["custom_call_target"] == '"Foo$bar"'
    assert entry["start"].shape.tuple_shapes[0].is_tuple
    assert entry["conv"].attrs["backend_config"].endswith('[{"y":1}]}}}}}')
    assert entry["c"].literal == "{ 1 , 2 , 3 , 4 }"
    assert entry["out"].attrs["dim_labels"] == "b01f_01io->b01f"
    assert entry["out"].attrs["frontend_attributes"] == '{_xla_stream="1"}'
    assert module.entry.root_name == "out"


def test_attr_decoders():
    assert int_list("{1,0}") == (1, 0) and int_list("{}") == ()
    assert metadata_field('{op_name="a \\"b\\"" source_line=3}', "op_name") == 'a "b"'
    assert name_list("{%a, b.1}") == ("a", "b.1")


def test_no_root_and_no_entry():
    module = parse_module("c1 {\n a = f32[] parameter(0)\n ROOT b = f32[] negate(a)\n}\n"
                          "c2 {\n a = f32[] parameter(0)\n b = f32[] negate(a)\n}\n")
    assert module.entry_name == "c2" and module.entry.root_name == "b" and module.entry.root.is_root


def test_several_modules_in_one_text():
    text = "HloModule a\nENTRY e {\n ROOT p = f32[] parameter(0)\n}\nHloModule b\nENTRY e {\n ROOT p = s32[] parameter(0)\n}\n"
    modules = parse_modules(text)
    assert [m.name for m in modules] == ["a", "b"]


@pytest.mark.parametrize(
    "text, line, col, message",
    [
        ("HloModule m\nENTRY e {\n  p = f32[] parameter(0)\n  ROOT q f32[] negate(p)\n}\n", 4, 10,
         "expected '=' after instruction name 'q'"),
        ("ENTRY e {\n  p = f32[] parameter(0)\n  ROOT q = f32[] negate(r)\n}\n", 3, 3,
         "'q' uses 'r', which is not defined in 'e'"),
        ("ENTRY e {\n  p = f32[] parameter(0)\n  ROOT q = f32[] custom-call(p), target=\"abc\n}\n", 3, 41,
         "expected an attribute value, got an unterminated string"),
        ("ENTRY e {\n  p = f32[] parameter(0)\n", 2, 24, "computation 'e' is not closed"),
        ("ENTRY e {\n  ROOT p = f32[2,x] parameter(0)\n}\n", 2, 12, "malformed shape"),
        ("ENTRY e {\n  p = f32[] parameter(0)\n  ROOT r = f32[] reduce(p, p), to_apply=nowhere\n}\n", 1, 1,
         "calls unknown computation 'nowhere'"),
        ("ENTRY e {\n  p = f32[] parameter(0)\n  ROOT q = f32[] negate(p),\n}\n", 3, 27,
         "expected an instruction, got ','"),
        ("// only a comment\n", 0, 0, "no HLO module found"),
    ],
)
def test_errors_point_at_the_problem(text, line, col, message):
    with pytest.raises(HloParseError) as info:
        parse_module(text, "bad.hlo")
    err = info.value
    assert message in err.message
    assert (err.line, err.col) == (line, col), str(err)
    if line:
        assert str(err).startswith(f"bad.hlo:{line}:{col}: ")
        assert str(err).splitlines()[-1] == " " * (col - 1) + "^"


def test_error_line_in_later_split_module():
    text = "ENTRY a {\n ROOT p = f32[] parameter(0)\n}\n// -----\nENTRY b {\n ROOT p = f32[] nope\n}\n"
    with pytest.raises(HloParseError) as info:
        parse_modules(text, "two.hlo")
    assert (info.value.line, info.value.message) == (7, "expected '(' after opcode 'nope', got '}'")


_TOKEN_GAP = re.compile(r"(?<=[,(]) ")


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_layout_of_the_text_does_not_matter(seed):
    """Re-wrapping lines and adding comments between tokens never changes the parsed graph."""
    _, text = texts("mlp") if seed % 2 else texts("conv")
    rng = random.Random(seed)
    pieces = _TOKEN_GAP.split(text)
    noisy = pieces[0]
    for piece in pieces[1:]:
        noisy += rng.choice([" ", "\n    ", " /*index=9*/ ", "  \n\t"]) + piece
    assert differences(irscope_view(parse_module(text)), irscope_view(parse_module(noisy))) == []


MESH_GROUPS = """HloModule m, num_partitions=8

add {
  a = f32[] parameter(0)
  b = f32[] parameter(1)
  ROOT s = f32[] add(a, b)
}

ENTRY e {
  p = f32[32]{0} parameter(0)
  ROOT ar = f32[32]{0} all-reduce(p), channel_id=2, replica_groups=mesh['axis_0'=2,'axis_1'=1,'axis_2'=4] {'axis_0'}, use_global_device_ids=true, to_apply=add
}
"""


def test_mesh_replica_groups_match_xla():
    # The newer replica-group form XLA prints for SPMD-partitioned modules.
    module = parse_module(MESH_GROUPS)
    root = module.entry.root
    assert root.attrs["replica_groups"] == "mesh['axis_0'=2,'axis_1'=1,'axis_2'=4]{'axis_0'}"
    assert root.attrs["use_global_device_ids"] == "true" and root.called == ("add",)
    assert differences(xla_view(MESH_GROUPS), irscope_view(module)) == []
