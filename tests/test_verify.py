"""The HLO verifier: real modules pass, each kind of ill-formed module fails with one line naming the place.

Ill-formed modules are small edits of a well-formed one; each is one the parser accepts and a pass
would index into. Where XLA's own parser refuses the same edit (it checks operand counts), the test
says so: irscope must refuse at least everything XLA refuses.
"""

from __future__ import annotations

import pytest
from conftest import corpus_files
from jax_programs import PROGRAMS, texts
from xla_oracle import xla_proto

from irscope.ir.hlo import Instruction, Module
from irscope.ir.hlo_parser import parse_module, parse_modules
from irscope.ir.verify import MAX_NESTING, HloVerifyError, verify

BASE = """\
HloModule m

add_f32 {
  a = f32[] parameter(0)
  b = f32[] parameter(1)
  ROOT s = f32[] add(a, b)
}

fused {
  fp0 = f32[8,4] parameter(0)
  ROOT fneg = f32[8,4] negate(fp0)
}

body {
  bp = (s32[], f32[8,4]) parameter(0)
  i = s32[] get-tuple-element(bp), index=0
  x = f32[8,4] get-tuple-element(bp), index=1
  one = s32[] constant(1)
  i1 = s32[] add(i, one)
  ROOT bt = (s32[], f32[8,4]) tuple(i1, x)
}

cond {
  cp = (s32[], f32[8,4]) parameter(0)
  ci = s32[] get-tuple-element(cp), index=0
  n = s32[] constant(4)
  ROOT lt = pred[] compare(ci, n), direction=LT
}

ENTRY main {
  p0 = f32[8,4]{1,0} parameter(0)
  p1 = f32[4,16] parameter(1)
  f = f32[8,4] fusion(p0), kind=kLoop, calls=fused
  t = f32[4,8]{1,0} transpose(f), dimensions={1,0}
  d = f32[8,16] dot(p0, p1), lhs_contracting_dims={1}, rhs_contracting_dims={0}
  zero = f32[] constant(0)
  r = f32[8] reduce(f, zero), dimensions={1}, to_apply=add_f32
  rw = f32[8,4] reduce-window(f, zero), window={size=1x2 pad=0_0x0_1}, to_apply=add_f32
  c0 = s32[] constant(0)
  init = (s32[], f32[8,4]) tuple(c0, f)
  w = (s32[], f32[8,4]) while(init), condition=cond, body=body, backend_config={"known_trip_count":{"n":"4"}}
  wx = f32[8,4] get-tuple-element(w), index=1
  ROOT out = (f32[4,8], f32[8,16], f32[8], f32[8,4], f32[8,4]) tuple(t, d, r, rw, wx)
}
"""


def _verify_text(text: str) -> None:
    verify(parse_module(text, "m.hlo"), text)


def _error(text: str) -> str:
    with pytest.raises(HloVerifyError) as info:
        _verify_text(text)
    message = str(info.value)
    assert "\n" not in message
    return message


def _xla_refuses(text: str) -> bool:
    try:
        xla_proto(text)
    except Exception:
        return True
    return False


def test_base_module_is_well_formed_for_xla_and_irscope():
    assert not _xla_refuses(BASE)
    _verify_text(BASE)


@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: p.name)
def test_every_corpus_module_verifies(path):
    text = path.read_text()
    for module in parse_modules(text, str(path)):
        assert verify(module, text) is module


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_modules_jax_writes_verify(name):
    for text in texts(name):
        verify(parse_module(text), text)


# (edit of BASE, words the message must hold, where: "line:col" of the instruction)
CASES = {
    "too_few_operands": (("add(i, one)", "add(i)"), "add takes 2 operands, has 1", "19:3"),
    "dot_one_operand": (("dot(p0, p1)", "dot(p0)"), "dot takes 2 operands", "35:3"),
    "transpose_not_permutation": (("dimensions={1,0}", "dimensions={1,2}"), "not a permutation", "34:3"),
    "transpose_two_operands": (("transpose(f)", "transpose(f, p0)"), "transpose takes 1 operand", "34:3"),
    "unknown_dtype": (("p1 = f32[4,16]", "p1 = q32[4,16]"), "unknown element type 'q32'", "32:3"),
    "self_operand": (("wx = f32[8,4] get-tuple-element(w)", "wx = f32[8,4] add(wx, wx)"),
                     "'wx' in computation 'main': is its own operand", "42:3"),
    "forward_cycle": (("fusion(p0)", "fusion(t)"), "operand cycle f -> t -> f", "33:3"),
    "fusion_param_count": (("fusion(p0)", "fusion(p0, p1)"), "takes 1 parameter, but 2 are passed", "33:3"),
    "while_no_condition": ((", condition=cond", ""), "while calls 2 computations, calls 1", "41:3"),
    "trip_count_list": (('"n":"4"', '"n":[4]'), "known_trip_count", "41:3"),
    "trip_count_huge": (('"n":"4"', '"n":"99999999999999999999"'), "known_trip_count", "41:3"),
    "window_rank": (("window={size=1x2 pad=0_0x0_1}", "window={size=1x2x3}"), "window has 3 dimensions", "38:3"),
    "window_malformed": (("window={size=1x2 pad=0_0x0_1}", "window={1,2,3}"), "window field", "38:3"),
    "reduce_odd": (("reduce(f, zero)", "reduce(f, zero, zero)"), "even count", "37:3"),
    "gte_out_of_range": (("get-tuple-element(w), index=1", "get-tuple-element(w), index=7"),
                         "index=7 is out of range", "42:3"),
    "gte_of_array": (("get-tuple-element(w), index=1", "get-tuple-element(f), index=0"), "non-tuple", "42:3"),
    "contracting_out_of_range": (("lhs_contracting_dims={1}", "lhs_contracting_dims={5}"),
                                 "lhs_contracting_dims 5 is out of range", "35:3"),
    "negative_dim": (("p1 = f32[4,16]", "p1 = f32[4,-16]"), "negative", "32:3"),
    "huge_array": (("p1 = f32[4,16]", "p1 = f32[4000000000,4000000000,4000000000]"), "2**63", "32:3"),
    "bad_layout": (("p0 = f32[8,4]{1,0}", "p0 = f32[8,4]{1,7}"), "not a permutation", "31:3"),
    "tuple_arity": (("init = (s32[], f32[8,4]) tuple(c0, f)", "init = (s32[], f32[8,4]) tuple(c0)"),
                    "a tuple of 1 operands", "40:3"),
    "param_gap": (("fp0 = f32[8,4] parameter(0)", "fp0 = f32[8,4] parameter(1)"), "none numbered 0", "9:1"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_ill_formed_module_fails_naming_the_place(name):
    (old, new), words, where = CASES[name]
    assert old in BASE
    text = BASE.replace(old, new, 1)
    message = _error(text)
    assert words in message
    assert message.startswith("m.hlo:")
    if where is not None:
        assert message.startswith(f"m.hlo:{where}:"), message


# Edits on which jaxlib's HLO parser takes the whole process down (SIGSEGV, SIGABRT) instead of
# refusing: a one-operand dot, a fused computation with no parameter 0.
XLA_PARSER_CRASHES = {"dot_one_operand", "param_gap"}


def test_irscope_refuses_what_xla_refuses_for_operand_counts():
    # XLA's parser checks operand counts itself: for each edit it refuses, irscope must refuse too.
    refused = 0
    for name, ((old, new), _, _) in CASES.items():
        if name in XLA_PARSER_CRASHES:
            continue
        text = BASE.replace(old, new, 1)
        if _xla_refuses(text):
            refused += 1
            with pytest.raises(HloVerifyError):
                _verify_text(text)
    assert refused >= 10


def test_recursive_call_is_refused_without_recursion():
    text = BASE.replace("ROOT fneg = f32[8,4] negate(fp0)", "ROOT fneg = f32[8,4] fusion(fp0), kind=kLoop, calls=fused")
    assert "calls itself: fused -> fused" in _error(text)


def test_mutual_recursion_names_the_chain():
    text = (BASE.replace("ROOT s = f32[] add(a, b)", "ROOT s = f32[] call(a, b), to_apply=other")
            .replace("fused {", "other {\n  oa = f32[] parameter(0)\n  ob = f32[] parameter(1)\n"
                     "  ROOT os = f32[] call(oa, ob), to_apply=add_f32\n}\n\nfused {"))
    message = _error(text)
    assert "calls itself" in message and "add_f32 -> other -> add_f32" in message


def test_long_chains_and_deep_calls_verify_iteratively():
    # 50,000 instructions in one chain: no recursion limit on the way.
    lines = ["ENTRY e {", "  x0 = f32[2] parameter(0)"]
    lines += [f"  x{k} = f32[2] negate(x{k - 1})" for k in range(1, 50_000)]
    lines.append("}")
    _verify_text("\n".join(lines))
    # Chains of `depth` computations (the entry included), at the nesting limit and just over it.
    for depth, ok in ((MAX_NESTING, True), (MAX_NESTING + 1, False)):
        comps = ["c0 {\n  a = f32[] parameter(0)\n  ROOT r = f32[] negate(a)\n}"]
        comps += [f"c{k} {{\n  a = f32[] parameter(0)\n  ROOT r = f32[] call(a), to_apply=c{k - 1}\n}}"
                  for k in range(1, depth - 1)]
        text = "\n".join(comps) + f"\nENTRY e {{\n  p = f32[] parameter(0)\n  ROOT r = f32[] call(p), to_apply=c{depth - 2}\n}}\n"
        if ok:
            _verify_text(text)
        else:
            assert "chain of calls more than 64 computations deep" in _error(text)


def test_cycle_through_a_long_chain_is_found():
    lines = ["ENTRY e {", "  x0 = f32[2] negate(x19999)"]
    lines += [f"  x{k} = f32[2] negate(x{k - 1})" for k in range(1, 20_000)]
    lines.append("}")
    assert "operand cycle" in _error("\n".join(lines))


def test_hand_built_module_with_a_dangling_operand():
    module = parse_module(BASE)
    comp = module.entry
    bad = Instruction("x", "negate", comp.root.shape, ("nope",))
    entry = type(comp)(comp.name, (*comp.instructions, bad), comp.root_name, True, {},
                       {**comp.by_name, "x": bad})
    broken = Module(module.name, {**module.computations, comp.name: entry}, comp.name)
    with pytest.raises(HloVerifyError, match="'x' in computation 'main': uses 'nope'"):
        verify(broken)


def test_convolution_window_and_output_follow_xla_shape_inference():
    # A real convolution from XLA's tools (window 32x128, stride 31x1, lhs_dilate 32x1).
    path = corpus_files()[0].parent / "tools_multihost_runner_test_hlo.hlo"
    text = path.read_text()
    verify(parse_module(text), text)
    kernel = text.replace("%rhs = f32[32,1024,64,128]", "%rhs = f32[32,1024,64,4294967296]")
    assert "window size 128 of spatial dimension 1 is not the kernel's 4294967296" in _error(kernel)
    output = text.replace("ROOT %conv = f32[32,24,1024,1]", "ROOT %conv = f32[32,24,1024,9]")
    assert "output spatial dimension 1 is 9, but" in _error(output)


def test_a_shape_nested_past_the_bound_is_found_before_any_message_prints_it():
    # A fusion whose fused root is nested 300 deep: the fusion check would print the root's shape,
    # so every shape of every computation is checked first (Shape.short() recurses per level).
    # The fused computation comes after the entry here, so the entry's fusion is looked at first.
    deep = "(" * 150 + "f32[8,4]" + ")" * 150  # the parser reads up to 200 levels
    fused = "fused {\n  fp0 = f32[8,4] parameter(0)\n  ROOT fneg = f32[8,4] negate(fp0)\n}\n"
    assert fused in BASE
    text = BASE.replace(fused, "") + "\n" + fused.replace("ROOT fneg = f32[8,4]", f"ROOT fneg = {deep}")
    assert "'fneg' in computation 'fused': tuple shapes nest more than 64 deep" in _error(text)
