"""The diff engine: empty for a module and itself or a renamed copy, and the known changes are found.

Known changes, each compiled here by XLA:CPU: GELU exact vs tanh (the fused ops change, grouped ×3
across layers), a function with and without `jax.checkpoint`, NHWC vs NCHW convolution, and a
fusion-disabling XLA flag.
"""

from __future__ import annotations

import random
import re

import jax
import jax.numpy as jnp
import pytest
from conftest import REPO, corpus_files
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jax import lax

from irscope.frontends import model_file
from irscope.frontends.jax_lower import lower
from irscope.ir.hlo_parser import parse_module, parse_modules
from irscope.passes.diff import SCHEMA, diff_modules, normalize_op_name

DATA = REPO / "tests" / "data"

# A name token: optionally %-prefixed, not an opcode (an opcode is followed by its operand list).
_NAME = re.compile(r"(?<![\w.\-%])(%?)([A-Za-z_][\w.\-]*)(?!\()")


def renamed(text: str, seed: int = 0) -> str:
    """The same modules with every computation and instruction renamed (shuffled numbering)."""
    names = set()
    for module in parse_modules(text):
        for comp in module.computations.values():
            names.add(comp.name)
            names.update(i.name for i in comp.instructions)
    ordered = sorted(names)
    fresh = [f"n{k}" for k in range(len(ordered))]
    random.Random(seed).shuffle(fresh)
    mapping = dict(zip(ordered, fresh, strict=True))

    def sub(m: re.Match[str]) -> str:
        name = m.group(2)
        return m.group(1) + mapping[name] if name in mapping else m.group(0)

    return _NAME.sub(sub, text)


def optimized(fn, spec: str, **options) -> str:
    return lower(fn, spec, compiler_options=options).optimized


@pytest.fixture(scope="module")
def gelu_texts() -> tuple[str, str]:
    return (DATA / "gelu_exact.hlo").read_text(), (DATA / "gelu_tanh.hlo").read_text()


# --- Nothing changed -------------------------------------------------------------------------------

def test_module_with_itself_is_empty(gelu_texts):
    module = parse_module(gelu_texts[0])
    result = diff_modules(module, module)
    assert result.identical
    assert result.summary == {"added": 0, "removed": 0, "changed": 0, "unchanged": 6}
    assert result.groups == () and result.signature == () and result.other_changes == ()
    assert all(p.same for p in result.instruction_pairs)
    assert len(result.instruction_pairs) == module.instruction_count


def test_renamed_copy_is_empty(gelu_texts):
    text = gelu_texts[0]
    copy = renamed(text, seed=1)
    assert "select_multiply_fusion" not in copy  # the renaming did something
    result = diff_modules(parse_module(text), parse_module(copy))
    assert result.identical, result.to_text()


@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: p.name)
def test_corpus_renamed_copies_are_empty(path):
    text = path.read_text()
    for module, copy in zip(parse_modules(text, path.name), parse_modules(renamed(text), path.name), strict=True):
        assert diff_modules(module, module).identical
        result = diff_modules(module, copy)
        assert result.identical, result.to_text()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**16), swap=st.booleans())
def test_property_renaming_and_reordering_change_nothing(gelu_texts, seed, swap):
    """Property: any renaming, and moving the fused computations' text around, is no difference."""
    text = renamed(gelu_texts[1], seed)
    if swap:  # put the computations in another text order (XLA prints callees first; ours may not)
        head, *comps = re.split(r"\n\n(?=%|ENTRY)", text)
        entry = [c for c in comps if c.startswith("ENTRY")]
        others = [c for c in comps if not c.startswith("ENTRY")]
        random.Random(seed).shuffle(others)
        text = "\n\n".join([head, *entry, *others])
    result = diff_modules(parse_module(gelu_texts[1]), parse_module(text))
    assert result.identical, result.to_text()


def test_a_real_change_is_not_missed_after_renaming(gelu_texts):
    text = renamed(gelu_texts[1], seed=3).replace("constant(0.044715)", "constant(0.05)", 1)
    result = diff_modules(parse_module(gelu_texts[1]), parse_module(text))
    assert not result.identical
    assert result.summary["changed"] == 1
    (group,) = result.groups
    assert group.reasons == ("attributes",)


# --- Known changes ---------------------------------------------------------------------------------

def test_gelu_exact_vs_tanh_is_one_change_in_three_layers(gelu_texts):
    result = diff_modules(parse_module(gelu_texts[0]), parse_module(gelu_texts[1]), "h100")
    assert result.summary == {"added": 0, "removed": 0, "changed": 3, "unchanged": 3}
    (group,) = result.groups
    assert group.status == "changed" and group.count == 3
    assert group.reasons == ("fused ops",)
    first = group.first
    assert "erf" not in " ".join(first.after.ops) and "tanh" in first.after.ops
    assert any(d.startswith("ops ") and "+tanh" in d for d in first.details)
    # Same bytes (both read the matmul's output and write theirs); the tanh form does fewer FLOPs.
    assert group.delta.bytes_accessed == 0
    assert group.delta.flops < 0
    assert result.delta.flops == pytest.approx(group.delta.flops)
    # The matmuls are matched unchanged despite the kernels downstream changing.
    unchanged = [k for k in result.kernels if k.status == "unchanged"]
    assert {k.before.kind for k in unchanged} == {"__ynn_fusion"}


def test_gelu_live_compile_matches_the_fixture_story():
    entries = {e.name: e for e in model_file.resolve(REPO / "examples" / "gelu.py")}
    a = parse_module(entries["exact"].lower().optimized)
    b = parse_module(entries["tanh"].lower().optimized)
    result = diff_modules(a, b)
    assert result.summary["changed"] == 3 and result.summary["added"] == result.summary["removed"] == 0
    assert [g.count for g in result.groups] == [3]


def _layer(x, w1, w2):
    return jnp.sin(jnp.sin(x @ w1) @ w2)


def test_checkpoint_changes_the_backward_pass():
    spec = "f32[32,64] f32[64,64] f32[64,64]"
    plain = jax.grad(lambda x, w1, w2: _layer(x, w1, w2).sum(), argnums=(1, 2))
    remat = jax.grad(lambda x, w1, w2: jax.checkpoint(_layer)(x, w1, w2).sum(), argnums=(1, 2))
    a, b = parse_module(optimized(plain, spec)), parse_module(optimized(remat, spec))
    result = diff_modules(a, b)
    assert not result.identical
    s = result.summary
    assert s["changed"] + s["added"] + s["removed"] >= 1
    # Rematerialization recomputes (part of) the forward pass in the backward one: never less work.
    # (XLA:CPU fuses the recomputed cosine into the kernel that uses it: that kernel's fused ops change.)
    assert result.after.flops >= result.before.flops
    assert any("fused ops" in k.reasons or k.status == "added" for k in result.kernels)


def test_nhwc_vs_nchw_convolution():
    def nhwc(x, w):
        return lax.conv_general_dilated(x, w, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))

    def nchw(x, w):
        return lax.conv_general_dilated(x, w, (1, 1), "SAME", dimension_numbers=("NCHW", "OIHW", "NCHW"))

    a = parse_module(optimized(nhwc, "f32[8,32,32,16] f32[3,3,16,32]"))
    b = parse_module(optimized(nchw, "f32[8,16,32,32] f32[32,16,3,3]"))
    result = diff_modules(a, b)
    assert not result.identical
    assert "parameter 0 (x): f32[8,32,32,16]{3,2,1,0} -> f32[8,16,32,32]{3,2,1,0}" in result.signature
    # The convolution itself is matched (as changed), and the layout changes arrive as new kernels.
    conv = [k for k in result.kernels if k.status == "changed"]
    assert conv and any("convolution" in k.before.ops for k in conv)
    assert result.summary["added"] >= 1
    assert result.after.bytes_accessed > result.before.bytes_accessed


def test_fusion_disabling_flag():
    def block(x, w):
        return jax.nn.gelu(x @ w) * 2.0 + 1.0

    spec = "f32[64,128] f32[128,256]"
    a = parse_module(optimized(block, spec))
    b = parse_module(optimized(block, spec, xla_disable_hlo_passes="fusion"))
    result = diff_modules(a, b)
    assert not result.identical
    assert result.after.kernels > result.before.kernels
    assert result.summary["added"] >= result.after.kernels - result.before.kernels
    assert result.after.bytes_accessed > result.before.bytes_accessed  # unfused: every op reads and writes


# --- The result ------------------------------------------------------------------------------------

def test_json_shape(gelu_texts):
    result = diff_modules(parse_module(gelu_texts[0]), parse_module(gelu_texts[1]), "h100")
    doc = result.to_json()
    assert doc["schema"] == SCHEMA == "irscope.diff-report/1"
    assert set(doc["summary"]) == {"added", "removed", "changed", "unchanged"}
    assert doc["identical"] is False
    group = doc["groups"][0]
    assert group["count"] == 3 and group["status"] == "changed" and len(group["members"]) == 3
    assert group["before"]["kind"] == "kLoop" and group["after"]["kind"] == "kLoop"
    assert doc["delta"]["flops"] == pytest.approx(doc["after"]["flops"] - doc["before"]["flops"])
    assert len(doc["kernels"]) == 6
    import json

    json.dumps(doc)  # plain JSON throughout


def test_op_name_prefix_is_dropped():
    assert normalize_op_name("jit(gelu)/mul") == "mul"
    assert normalize_op_name("pjit(f)/jvp(g)/dot_general") == "jvp(g)/dot_general"
    assert normalize_op_name(None) is None


def test_swapped_arguments_are_a_signature_change_only():
    def f(x, w):
        return jnp.tanh(x @ w)

    def g(w, x):
        return jnp.tanh(x @ w)

    a = parse_module(optimized(f, "f32[64,128] f32[128,32]"))
    b = parse_module(optimized(g, "f32[128,32] f32[64,128]"))
    result = diff_modules(a, b)
    assert result.summary["changed"] == result.summary["added"] == result.summary["removed"] == 0
    assert result.signature == ("parameter 0 (x) is now parameter 1", "parameter 1 (w) is now parameter 0")
    assert not result.identical


# --- looking through to the producer (irscope.ir.opcodes.PASS_THROUGH) -------------------------------

_BARRIER = """HloModule m, entry_computation_layout={(f32[8]{0}, f32[8]{0})->f32[8]{0}}

ENTRY main {
  p0 = f32[8]{0} parameter(0)
  p1 = f32[8]{0} parameter(1)
  %s
  ROOT e = f32[8]{0} exponential(x)
}
"""


def test_an_input_behind_an_opt_barrier_is_traced_to_its_parameter() -> None:
    # The same exponential reads parameter 1, once directly and once through an opt-barrier and a
    # get-tuple-element: XLA forwards the buffer, so the kernel's input is the same and it is unchanged.
    direct = parse_module(_BARRIER % "x = f32[8]{0} add(p1, p1)")
    barrier = parse_module(_BARRIER % (
        "t = (f32[8]{0}, f32[8]{0}) tuple(p0, p1)\n"
        "  b = (f32[8]{0}, f32[8]{0}) opt-barrier(t)\n"
        "  g = f32[8]{0} get-tuple-element(b), index=1\n"
        "  x = f32[8]{0} add(g, g)"))
    result = diff_modules(direct, barrier)
    assert result.summary["changed"] == 0 and result.summary["added"] == 0, result.to_text()
    swapped = parse_module(_BARRIER % ("t = (f32[8]{0}, f32[8]{0}) tuple(p0, p1)\n"
                                       "  b = (f32[8]{0}, f32[8]{0}) opt-barrier(t)\n"
                                       "  g = f32[8]{0} get-tuple-element(b), index=0\n"
                                       "  x = f32[8]{0} add(g, g)"))
    # Through the barrier to parameter 0 instead: the add reads another tensor, so it changed.
    assert diff_modules(direct, swapped).summary["changed"] == 1
