"""irscope's HLO parser against XLA's own parser, on real corpus files and on modules JAX writes."""

from __future__ import annotations

import functools
import pathlib
import random
import re

import pytest
from conftest import corpus_files
from hypothesis import given, settings
from hypothesis import strategies as st
from jax_programs import PROGRAMS, texts
from xla_oracle import differences, irscope_view, xla_verdicts, xla_view

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


# XLA's own test files (tests/data/corpus/xla/SOURCES.md), each piece of a `// -----` file on its own.
XLA_CORPUS = pathlib.Path(__file__).resolve().parent / "data" / "corpus" / "xla"
XLA_CORPUS_FILES = sorted(XLA_CORPUS.glob("*.hlo"))
# (file, line of the piece) -> why irscope and XLA may disagree there.
KNOWN_DISAGREEMENTS = {
    ("hlo__translate__hlo_to_mhlo__tests__import_async.hlo", 234):
        "recv-done is written (f32[128,21], token[]) but XLA replaces the written shape with the one "
        "it derives from the recv, (f32[128,32], token[]); irscope keeps the written shape",
}


@functools.cache
def _xla_corpus_verdicts() -> dict[tuple[str, int], tuple[str, object]]:
    """XLA's parse of every piece of the XLA corpus, in one child process (XLA aborts on some)."""
    keys, texts = [], []
    for path in XLA_CORPUS_FILES:
        for line, piece in _split_modules(path.read_text()):
            keys.append((path.name, line))
            texts.append(piece)
    return dict(zip(keys, xla_verdicts(texts), strict=True))


def test_xla_corpus_is_large():
    verdicts = _xla_corpus_verdicts()
    accepted = sum(status == "ok" for status, _ in verdicts.values())
    assert len(XLA_CORPUS_FILES) >= 450 and len(verdicts) >= 1000 and accepted >= 850


@pytest.mark.parametrize("path", XLA_CORPUS_FILES, ids=lambda p: p.name)
def test_xla_corpus(path):
    """Where XLA's parser accepts a piece, irscope accepts it and builds the same graph; where XLA
    refuses it, irscope either refuses it with one HloParseError or reads it (irscope is more lenient:
    it does not check the types of the operands, for one)."""
    verdicts = _xla_corpus_verdicts()
    for line, piece in _split_modules(path.read_text()):
        status, xla = verdicts[(path.name, line)]
        try:
            module = parse_module(piece, str(path))
        except HloParseError as err:
            assert status != "ok", f"line {line}: XLA accepts this piece, irscope says {err.one_line}"
            assert err.message and "\n" not in err.message
            continue
        if status == "ok" and (path.name, line) not in KNOWN_DISAGREEMENTS:
            assert differences(xla, irscope_view(module)) == [], f"piece at line {line}"


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


# Forms of XLA's grammar beyond what its printer writes, each as XLA's own tests write it.
GRAMMAR_FORMS = {
    "inferred shapes": """HloModule m
add {
  x = f32[] parameter(0)
  y = f32[] parameter(1)
  ROOT s = add(x, y)
}
ENTRY e {
  a = f32[4,8] parameter(0)
  t = tuple(a, a)
  g = get-tuple-element(t), index=1
  c = compare(a, g), direction=LT
  s = select(c, a, g)
  b = broadcast(s), dimensions={2}
  tr = transpose(b), dimensions={2,1,0}
  r = reduce(tr, f32[] constant(0)), dimensions={0}, to_apply=add
  d = dot(a, r), lhs_contracting_dims={0}, rhs_contracting_dims={0}
  cat = concatenate(d, d), dimensions={1}
  p = pad(cat, f32[] constant(0)), padding=1_1x0_2_1
  ROOT out = (f32[4,8], f32[10,9]) tuple(a, p)
}
""",
    "nested instructions": """HloModule m
ENTRY e {
  p = f32[] parameter(0)
  ROOT r = f32[1,8] reshape(f32[8] broadcast(add(p, f32[] parameter(1))))
}
""",
    "buffer shapes": """HloModule m
ENTRY e {
  c = f32[] constant(0)
  b = b(f32[]) custom-call(c), custom_call_target="Pin", output_to_operand_aliasing={{}: (0, {})}, api_version=API_VERSION_TYPED_FFI
  ROOT u = f32[] custom-call(b), custom_call_target="Unpin", api_version=API_VERSION_TYPED_FFI
}
""",
    "literal attributes": """HloModule m
ENTRY e {
  p = f32[2,3] parameter(0)
  a = f32[2,3] custom-call(p), custom_call_target="SetBound", literal=s32[] 1
  b = f32[2,3] custom-call(a), custom_call_target="t", literal=s32[2]{0} {1, 2}
  ROOT c = f32[2,3] custom-call(b), custom_call_target="t", literal=( s32[4]{0} {4, 128, 128, 3}, pred[] true )
}
""",
    "module name with a colon, computation inline": """HloModule m:
ENTRY e {
  p = f32[8] parameter(0)
  ROOT r = f32[] reduce(p, f32[] constant(0)), dimensions={0}, to_apply={
    x = f32[] parameter(0)
    y = f32[] parameter(1)
    ROOT m = maximum(x, y)
  }
}
""",
    "async sugar": """HloModule m
ENTRY e {
  p = f32[4] parameter(0)
  s = ((f32[4]), f32[4], s32[]) custom-call-start(p), custom_call_target="foo"
  u = ((f32[4]), f32[4], s32[]) custom-call-update(s)
  d = f32[4] custom-call-done(u)
  ROOT r = add(d, p)
}
""",
    "unbounded dimensions": """HloModule m
ENTRY e {
  a = f32[?,3] parameter(0)
  ROOT r = f32[?,3] negate(a)
}
""",
}


@pytest.mark.parametrize("form", sorted(GRAMMAR_FORMS))
def test_grammar_forms_match_xla(form):
    text = GRAMMAR_FORMS[form]
    assert differences(xla_view(text), irscope_view(parse_module(text))) == []


def test_grammar_forms_details():
    inferred = parse_module(GRAMMAR_FORMS["inferred shapes"]).entry.by_name
    assert str(inferred["p"].shape) == "f32[10,9]" and inferred["c"].shape.dtype == "pred"
    assert inferred["b"].shape.dims == (2, 4, 8) and inferred["r"].shape.dims == (4, 2)
    nested = parse_module(GRAMMAR_FORMS["nested instructions"]).entry
    assert [i.opcode for i in nested.instructions] == ["parameter", "parameter", "add", "broadcast", "reshape"]
    assert nested.root.operands == ("broadcast.anon",)
    buffers = parse_module(GRAMMAR_FORMS["buffer shapes"]).entry.by_name
    assert buffers["b"].shape.is_buffer and str(buffers["b"].shape) == "b(f32[])"
    assert buffers["b"].shape.byte_size == 4 and not buffers["b"].shape.is_array
    literal = parse_module(GRAMMAR_FORMS["literal attributes"]).entry.by_name
    assert literal["a"].attrs["literal"] == "s32[] 1" and literal["b"].attrs["literal"] == "s32[2]{0} { 1 , 2 }"
    inline = parse_module(GRAMMAR_FORMS["module name with a colon, computation inline"])
    assert inline.name == "m" and list(inline.computations) == ["_", "e"] and inline.entry.root.called == ("_",)
    sugar = parse_module(GRAMMAR_FORMS["async sugar"]).entry
    assert [i.opcode for i in sugar.instructions][1:4] == ["custom-call-start", "custom-call-update", "custom-call-done"]
    assert str(parse_module(GRAMMAR_FORMS["unbounded dimensions"]).entry.root.shape) == "f32[?,3]"


def test_compact_get_tuple_element():
    # `t#1#0`, newer than the XLA bundled with jaxlib here, so checked without the oracle.
    text = """ENTRY e {
  p = (f32[4], (s32[], f32[4])) parameter(0)
  a = f32[4] negate(p#1#1)
  ROOT r = add(a, p#0)
}
"""
    entry = parse_module(text).entry
    gtes = [(i.name, i.operands, i.attrs["index"]) for i in entry.instructions if i.opcode == "get-tuple-element"]
    assert gtes == [("p#1", ("p",), "1"), ("p#1#1", ("p#1",), "1"), ("p#0", ("p",), "0")]
    assert entry.root.shape == Shape("f32", (4,))


@pytest.mark.parametrize(
    "text, message",
    [
        ("ENTRY e {\n  p = f32[2] parameter(0)\n  ROOT r = reshape(p)\n}\n", "cannot infer the result shape of 'reshape'"),
        ("ENTRY e {\n  ROOT r = add(p, p)\n}\n", "operand 'p' is not defined before it"),
        ("ENTRY e {\n  p = f32[2] parameter(0)\n  ROOT g = get-tuple-element(p), index=0\n}\n", "index 0 out of range"),
        ("ENTRY e {\n  p = (f32[2]) parameter(0)\n  ROOT r = f32[2] negate(p#3)\n}\n", "needs 'p' to be a tuple with element 3"),
        ("ENTRY e {\n  ROOT p = b((f32[2])) parameter(0)\n}\n", "after the array shape of a buffer"),
    ],
)
def test_grammar_errors(text, message):
    with pytest.raises(HloParseError) as info:
        parse_module(text, "bad.hlo")
    assert message in info.value.message


def _deep(prefix: str, depth: int, suffix: str) -> str:
    return prefix * depth + suffix


@pytest.mark.parametrize(
    "text",
    [
        # a tuple shape nested 100,000 deep (issue 18: RecursionError)
        "ENTRY e {\n  ROOT p = " + "(" * 100_000 + "f32[]" + ")" * 100_000 + " parameter(0)\n}\n",
        # an operand nested 100,000 instructions deep
        "ENTRY e {\n  p = f32[] parameter(0)\n  ROOT r = " + "negate(" * 100_000 + "p" + ")" * 100_000 + "\n}\n",
        # computations written inline, 1,000 deep
        "ENTRY e {\n  p = f32[] parameter(0)\n  ROOT r = f32[] call(p), to_apply="
        + "{ x = f32[] parameter(0)\n ROOT c = f32[] call(x), to_apply=" * 1000 + "x" + "}" * 1000 + "\n}\n",
    ],
    ids=["tuple shape", "nested operands", "inline computations"],
)
def test_deep_nesting_is_a_clean_error(text):
    with pytest.raises(HloParseError) as info:
        parse_module(text, "deep.hlo")
    assert "levels deep" in info.value.message


@pytest.mark.parametrize("opener, closer", [("{", "}"), ("[", "]"), ("(", ")")])
def test_huge_nested_attribute_is_linear(opener, closer):
    """A 2 MB attribute of nested brackets (issue 18 found a hang on 5 MB): linear, a clean error if unbalanced."""
    import time

    depth = 1_000_000
    text = ("ENTRY e {\n  ROOT p = f32[] parameter(0), backend_config=" + opener * depth + closer * depth + "\n}\n")
    start = time.perf_counter()
    module = parse_module(text)
    assert time.perf_counter() - start < 20
    assert len(module.entry.root.attrs["backend_config"]) == 2 * depth
    with pytest.raises(HloParseError):  # unbalanced: a clean error, as fast
        parse_module(text.replace(closer * depth, closer * (depth - 1)))


def test_deep_but_reasonable_nesting_parses():
    depth = 150
    text = "ENTRY e {\n  ROOT p = " + "(" * depth + "f32[]" + ")" * depth + " parameter(0)\n}\n"
    shape = parse_module(text).entry.root.shape
    for _ in range(depth):
        shape = shape.tuple_shapes[0]
    assert shape == Shape("f32")


def test_fast_path_builds_whole_instructions():
    """The parser sets an Instruction's slots directly: every field must be set, as __init__ would."""
    import dataclasses

    from irscope.ir.hlo import Instruction

    _, text = texts("mlp")
    for comp in parse_module(text).computations.values():
        for inst in comp.instructions:
            rebuilt = Instruction(*(getattr(inst, f.name) for f in dataclasses.fields(Instruction)))
            assert dataclasses.astuple(rebuilt) == dataclasses.astuple(inst)


def test_reachable_from_follows_calls_once_and_skips_unknown_names():
    module = parse_module("""HloModule m
add { a = f32[] parameter(0)  b = f32[] parameter(1)  ROOT s = f32[] add(a, b) }
body { p = (s32[], f32[4]) parameter(0)  i = s32[] get-tuple-element(p), index=0
       x = f32[4] get-tuple-element(p), index=1  z = f32[] constant(0)
       r = f32[] reduce(x, z), dimensions={0}, to_apply=add
       ROOT t = (s32[], f32[4]) tuple(i, x) }
cond { p = (s32[], f32[4]) parameter(0)  ROOT c = pred[] constant(false) }
ENTRY e { p = (s32[], f32[4]) parameter(0)  ROOT w = (s32[], f32[4]) while(p), body=body, condition=cond }
""")
    assert sorted(module.reachable_from(["body", "cond", "nosuch"])) == ["add", "body", "cond"]
    assert sorted(module.reachable_from([module.entry_name])) == ["add", "body", "cond", "e"]
    assert module.reachable_from([]) == []
