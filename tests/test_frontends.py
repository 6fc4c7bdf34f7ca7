"""Frontends: argument specs, model files, lowering JAX functions, and StableHLO files."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from irscope.frontends import jax_lower, model_file, spec, stablehlo
from irscope.frontends.jax_lower import LoweringError, lower, normalize_cost
from irscope.frontends.model_file import ModelFileError
from irscope.frontends.spec import SpecError, format_arg, parse_arg, parse_args
from irscope.frontends.stablehlo import HloTextError, StableHLOError

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
EXAMPLE_NAMES = ("mlp", "transformer", "convnet")


def write(tmp_path: Path, name: str, source: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def lowered() -> dict[str, jax_lower.Lowered]:
    """Each example's table entry, lowered once for the whole module (compiled on first use)."""
    return {name: model_file.resolve(EXAMPLES / f"{name}.py")[0].lower() for name in EXAMPLE_NAMES}


# --- spec ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("f32[256,512]", [((256, 512), "float32")]),
        ("f32[256,512] f32[512,1024]", [((256, 512), "float32"), ((512, 1024), "float32")]),
        ("s32[] bf16[8,128]", [((), "int32"), ((8, 128), "bfloat16")]),
        ("pred[3] s8[1] s16[1] s64[2] u8[1] u32[1] f16[1] f64[1] c64[1]",
         [((3,), "bool"), ((1,), "int8"), ((1,), "int16"), ((2,), "int64"), ((1,), "uint8"),
          ((1,), "uint32"), ((1,), "float16"), ((1,), "float64"), ((1,), "complex64")]),
        ("float32[4] int8[2,2] bool", [((4,), "float32"), ((2, 2), "int8"), ((), "bool")]),
        ("f32[2,3]{1,0}, f32[0]", [((2, 3), "float32"), ((0,), "float32")]),
        ("  f32[ 2 , 3 ]  ", [((2, 3), "float32")]),
        ("", []),
    ],
)
def test_parse_args_good(text: str, expected: list[tuple[tuple[int, ...], str]]) -> None:
    got = parse_args(text)
    assert [(a.shape, np.dtype(a.dtype).name) for a in got] == expected
    assert all(isinstance(a, jax.ShapeDtypeStruct) for a in got)


@pytest.mark.parametrize(
    ("text", "token", "column"),
    [
        ("f33[2]", "f33[2]", 1),
        ("f32[2] q8[1]", "q8[1]", 8),
        ("f32[2,x]", "f32[2,x]", 1),
        ("f32[-1]", "f32[-1]", 1),
        ("f32[2] f32[3", "f32[3", 8),
        ("f32(2)", "f32(2)", 1),
        ("[2]", "[2]", 1),
    ],
)
def test_parse_args_bad_names_the_token(text: str, token: str, column: int) -> None:
    with pytest.raises(SpecError) as info:
        parse_args(text)
    assert repr(token) in str(info.value)
    assert f"column {column}" in str(info.value)
    assert (info.value.token, info.value.column) == (token, column)
    assert isinstance(info.value, ValueError)


@given(
    st.sampled_from(sorted(spec.HLO_TO_NUMPY)),
    st.lists(st.integers(min_value=0, max_value=4096), max_size=5),
)
def test_format_then_parse_is_identity(dtype: str, dims: list[int]) -> None:
    arg = parse_arg(f"{dtype}[{','.join(map(str, dims))}]")
    assert format_arg(arg) == f"{dtype}[{','.join(map(str, dims))}]"
    assert parse_arg(format_arg(arg)) == arg


@pytest.mark.parametrize("impl", ["threefry2x32", "rbg", "unsafe_rbg"])
@pytest.mark.parametrize("shape", [(), (4,), (2, 3)])
def test_typed_keys_format_and_parse_back(impl: str, shape: tuple[int, ...]) -> None:
    key = jax.random.key(0, impl=impl)
    arg = jax.random.split(key, shape) if shape else key  # a real key array, as a model file holds one
    text = format_arg(arg)
    assert text == f"{key.dtype}[{','.join(map(str, shape))}]"  # key<fry>[4], key<rbg>[2,3], ...
    back = parse_arg(text)
    assert back.shape == shape and back.dtype == arg.dtype


def test_key_spec_default_impl_and_bad_impl() -> None:
    assert parse_arg("key[]").dtype == jax.random.key(0).dtype  # JAX's default implementation
    with pytest.raises(SpecError, match=r"unknown key type 'key<nope>'.*key<fry>"):
        parse_args("f32[2] key<nope>[]")


# --- model files ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_examples_follow_the_convention(name: str) -> None:
    entries = model_file.resolve(EXAMPLES / f"{name}.py")
    assert entries and all(e.from_table for e in entries)
    for entry in entries:
        leaves = jax.tree.leaves(entry.args)
        assert leaves and all(isinstance(x, jax.ShapeDtypeStruct) for x in leaves)
    module = model_file.load(EXAMPLES / f"{name}.py").module
    assert module.__doc__ and "python -m inspect.hlo" in module.__doc__


def test_fn_and_args_for_any_top_level_function(tmp_path: Path) -> None:
    path = write(tmp_path, "plain.py", """\
        import jax.numpy as jnp

        def matmul(x, w):
            return x @ w

        def double(a):
            \"\"\"Twice a.\"\"\"
            return a * 2
    """)
    (entry,) = model_file.resolve(path, fn="matmul", args="f32[256,512] f32[512,1024]")
    assert entry.name == "matmul" and not entry.from_table
    assert entry.spec == "f32[256,512] f32[512,1024]"
    assert "dot(" in entry.lower().hlo
    # --args alone is ambiguous with two functions...
    with pytest.raises(ModelFileError, match="--args needs --fn"):
        model_file.resolve(path, args="f32[2]")
    # ... and no table and no flags says what to do.
    with pytest.raises(ModelFileError, match="no IRSCOPE_EXAMPLES table.*functions: matmul, double"):
        model_file.resolve(path)
    with pytest.raises(ModelFileError, match="give its arguments with --args"):
        model_file.resolve(path, fn="double")
    with pytest.raises(ModelFileError, match="column 8"):
        model_file.resolve(path, fn="double", args="f32[2] f99[1]")


def test_unknown_function_lists_the_available_ones(tmp_path: Path) -> None:
    path = write(tmp_path, "m.py", """\
        def f(x):
            return x

        def g(x):
            return x

        IRSCOPE_EXAMPLES = {"first": (f, ["f32[2]"])}
    """)
    with pytest.raises(ModelFileError) as info:
        model_file.resolve(path, fn="nope", args="f32[2]")
    message = str(info.value)
    assert "'nope'" in message and "examples: first" in message and "functions: f, g" in message
    assert "\n" not in message


def test_table_entries_and_fn_override(tmp_path: Path) -> None:
    path = write(tmp_path, "t.py", """\
        import functools
        import jax
        import jax.numpy as jnp
        import numpy as np

        def scale(x, s=1.0):
            return x * s

        IRSCOPE_EXAMPLES = {
            "specs": (scale, ["f32[4,4]"]),
            "struct": (functools.partial(scale, s=2.0), [jax.ShapeDtypeStruct((3,), jnp.bfloat16)]),
            "array": (scale, (np.zeros((2, 5), np.int32),)),
            "one_string": (lambda x, y: x + y, "f32[8] f32[8]"),
            "pytree": (lambda p: p["a"] @ p["b"], [{"a": "f32[2,3]", "b": "f32[3,4]"}]),
            "big_pytree": (lambda p: sum(p), [[jax.ShapeDtypeStruct((2,), jnp.float32)] * 6]),
        }
    """)
    loaded = model_file.load(path)
    entries = {e.name: e for e in loaded.resolve()}
    assert list(entries) == ["specs", "struct", "array", "one_string", "pytree", "big_pytree"]
    assert entries["specs"].spec == "f32[4,4]"
    assert entries["struct"].spec == "bf16[3]"
    assert entries["array"].spec == "s32[2,5]"
    assert entries["one_string"].spec == "f32[8] f32[8]"
    assert entries["pytree"].spec == "{f32[2,3] f32[3,4]}"
    assert entries["big_pytree"].spec == "{6 arrays}"
    (override,) = loaded.resolve(fn="specs", args="f32[16,16]")
    assert override.fn is entries["specs"].fn and override.spec == "f32[16,16]"
    assert "f32[16,16]" in override.lower().hlo


def test_typed_prng_key_in_the_table_lists_and_lowers(tmp_path: Path) -> None:
    # The way JAX recommends keys now: `jax.random.key(0)` (dtype key<fry>, which numpy cannot hold).
    path = write(tmp_path, "keys.py", """\
        import jax
        import numpy as np

        def dropout(key, x):
            return jax.random.bernoulli(key, 0.9, x.shape) * x

        def noisy(params, keys):
            return params["w"] + jax.random.normal(keys[0], params["w"].shape)

        IRSCOPE_EXAMPLES = {
            "d": (dropout, [jax.random.key(0), "f32[512,512]"]),
            "spec": (dropout, ["key<rbg>[]", np.zeros((4, 4), np.float32)]),
            "tree": (noisy, [{"w": jax.ShapeDtypeStruct((8,), "float32")}, jax.random.split(jax.random.key(1), 3)]),
        }
    """)
    listed = {i.name: i for i in model_file.list_functions(path)}
    assert listed["d"].spec == "key<fry>[] f32[512,512]"
    assert listed["spec"].spec == "key<rbg>[] f32[4,4]"
    assert listed["tree"].spec == "{f32[8]} key<fry>[3]"
    entries = {e.name: e for e in model_file.resolve(path)}
    lowered = entries["d"].lower()
    assert "f32[512,512]" in lowered.hlo and lowered.optimized
    (override,) = model_file.resolve(path, fn="d", args="key<fry>[] f32[4,8]")
    assert "f32[4,8]" in override.lower().hlo


def test_list_functions(tmp_path: Path) -> None:
    listed = {i.name: i for i in model_file.list_functions(EXAMPLES / "mlp.py")}
    assert listed["mlp"].in_table and listed["mlp"].spec.startswith("f32[256,512] f32[512,1024]")
    assert listed["mlp"].signature == "(x, w1, b1, w2, b2, w3, b3)"
    listed = {i.name: i for i in model_file.list_functions(EXAMPLES / "transformer.py")}
    assert listed["train_step"].in_table and listed["train_step"].spec.endswith("s32[8,65]")
    assert not listed["forward"].in_table and listed["forward"].spec is None
    assert listed["forward"].line is not None and listed["forward"].summary


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import math\n\ny = math.pi\nz = x + 1\n", "bad.py:4: NameError: name 'x' is not defined"),
        ("def f(x):\n    return x +\n", "bad.py:2:15: SyntaxError: invalid syntax"),
        ("def f():\n    raise ValueError('no\\nmore')\n\nf()\n", "bad.py:2: ValueError: no"),
        ("import sys\nsys.exit(3)\n", "bad.py:2: SystemExit: 3"),
        ("IRSCOPE_EXAMPLES = [1]\n", "bad.py:1: IRSCOPE_EXAMPLES must be a dict"),
        ("IRSCOPE_EXAMPLES = {'a': 1}\n", "bad.py:1: IRSCOPE_EXAMPLES['a'] must be a (fn, args) pair"),
        ("f = abs\nIRSCOPE_EXAMPLES = {'a': (f, ['f32[2'])}\n", "bad.py:2: IRSCOPE_EXAMPLES['a']: bad argument"),
    ],
)
def test_user_error_is_one_line(tmp_path: Path, source: str, expected: str) -> None:
    path = write(tmp_path, "bad.py", source)
    with pytest.raises(ModelFileError) as info:
        model_file.resolve(path)
    message = str(info.value)
    assert "\n" not in message
    assert expected in message, message
    assert message.startswith(str(path).removesuffix("bad.py"))


def test_error_in_a_neighbour_module_names_it(tmp_path: Path) -> None:
    write(tmp_path, "helper.py", "VALUE = 1\nraise RuntimeError('boom')\n")
    path = write(tmp_path, "model.py", "import helper\n")
    with pytest.raises(ModelFileError, match=r"helper\.py:2: RuntimeError: boom$"):
        model_file.load(path)
    sys.modules.pop("helper", None)


def test_loading_leaves_no_trace_on_sys_path(tmp_path: Path) -> None:
    write(tmp_path, "sibling.py", "X = 41\n")
    path = write(tmp_path, "uses_sibling.py", "import sibling\n\ndef f(x):\n    return x + sibling.X\n")
    before = list(sys.path)
    loaded = model_file.load(path)
    assert sys.path == before
    assert loaded.module.sibling.X == 41 and loaded.module.__name__ != "__main__"
    sys.modules.pop("sibling", None)
    with pytest.raises(ModelFileError, match="no such file"):
        model_file.load(tmp_path / "missing.py")


# --- lowering ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_lower_examples_gives_every_stage(lowered: dict[str, jax_lower.Lowered], name: str) -> None:
    low = lowered[name]
    assert low.backend == jax.default_backend()
    assert low.name.startswith("jit_")
    assert "func.func" in low.text("stablehlo") and f"module @{low.name}" in low.stablehlo
    assert low.text("hlo").startswith(f"HloModule {low.name}")
    assert 'op_name="jit(' in low.hlo  # debug metadata kept before optimization too
    optimized = low.text("optimized")
    assert optimized.startswith(f"HloModule {low.name}") and "fusion" in optimized
    assert low.cost["flops"] > 0 and low.cost["bytes accessed"] > 0
    assert all(isinstance(v, float) for v in low.cost.values())


def test_stablehlo_stage_does_not_compile() -> None:
    low = lower(lambda x: jnp.sin(x) * 2, "f32[16]")
    assert low.text("stablehlo") and low.text("hlo")
    assert "compiled" not in low.__dict__
    assert low.cost["transcendentals"] == 16
    assert "compiled" in low.__dict__
    with pytest.raises(ValueError, match="unknown stage: 'llvm'"):
        low.text("llvm")  # type: ignore[arg-type]


def test_lower_accepts_every_argument_form() -> None:
    def f(x, p, n):
        return x * n + p["b"].sum()

    low = lower(f, [np.ones((2, 3), np.float32), {"b": "s32[4]"}, 3], static_argnums=2)
    assert "tensor<2x3xf32>" in low.stablehlo and "tensor<4xi32>" in low.stablehlo


def test_64_bit_arguments_are_lowered_as_64_bit() -> None:
    low = lower(lambda x: x + 1, "f64[3]")
    assert "tensor<3xf64>" in low.stablehlo and "f64[3]" in low.optimized
    assert not jax.config.jax_enable_x64


def test_tracing_error_names_the_users_line(tmp_path: Path) -> None:
    path = write(tmp_path, "shapes.py", "def f(x, w):\n    return x @ w\n")
    (entry,) = model_file.resolve(path, fn="f", args="f32[2,3] f32[4,4]")
    with pytest.raises(LoweringError) as info:
        entry.lower()
    message = str(info.value)
    assert message.endswith("shapes.py:2: TypeError: dot_general requires contracting dimensions "
                            "to have the same shape, got (3,) and (4,).")


def test_unavailable_backend_is_a_lowering_error() -> None:
    with pytest.raises(LoweringError, match="backend 'nosuchchip' is not available here"):
        lower(lambda x: x, "f32[2]", backend="nosuchchip")


def test_normalize_cost() -> None:
    assert normalize_cost(None) == {}
    assert normalize_cost({"flops": 2, "name": "x"}) == {"flops": 2.0}
    assert normalize_cost([{"flops": 1.0, "bytes accessed": 4}, {"flops": 2}]) == {
        "flops": 3.0, "bytes accessed": 4.0}


# --- StableHLO files -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["mlp", "convnet"])
def test_stablehlo_round_trip(lowered: dict[str, jax_lower.Lowered], tmp_path: Path, name: str) -> None:
    direct = lowered[name]
    path = tmp_path / f"{name}.mlir"
    stablehlo.write_mlir(path, direct.stablehlo)
    module = stablehlo.read_mlir(path)
    assert module.name == direct.name and "stablehlo" in module.dialects
    hlo = stablehlo.to_hlo_text(module)
    assert hlo.startswith(f"HloModule {direct.name}")
    compiled = stablehlo.compile_mlir(module)
    assert "fusion" in compiled.optimized
    for key in ("flops", "transcendentals", "bytes accessed"):
        assert compiled.cost.get(key) == direct.cost.get(key), key


def test_stablehlo_bytecode_and_mhlo_are_read(tmp_path: Path) -> None:
    low = lower(lambda x: x * x, "f32[8]")
    module = stablehlo.parse_mlir(low.stablehlo)
    again = stablehlo.parse_mlir(module.bytecode, path="m.mlirbc")
    assert again.text == module.text
    mhlo = stablehlo.parse_mlir(
        "module @m {\n  func.func @main(%a: tensor<2xf32>) -> tensor<2xf32> {\n"
        "    %0 = mhlo.add %a, %a : tensor<2xf32>\n    return %0 : tensor<2xf32>\n  }\n}\n"
    )
    assert "mhlo" in mhlo.dialects
    assert "add(" in stablehlo.to_hlo_text(mhlo)
    assert stablehlo.compile_mlir(mhlo).cost["flops"] == 2


def test_malformed_mlir_names_file_line_and_column(tmp_path: Path) -> None:
    text = lower(lambda x: jnp.tanh(x), "f32[4]").stablehlo
    lines = text.splitlines()
    bad_line = next(i for i, line in enumerate(lines) if "stablehlo.tanh" in line)
    lines[bad_line] = lines[bad_line].replace("stablehlo.tanh %arg0", "stablehlo.tanh %arg0 %%")
    path = tmp_path / "bad.mlir"
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(StableHLOError) as info:
        stablehlo.read_mlir(path)
    assert info.value.line == bad_line + 1 and info.value.column
    assert str(info.value).startswith(f"{path}:{bad_line + 1}:{info.value.column}: ")
    assert "\n" not in str(info.value)


def test_verifier_error_behind_a_foreign_location_points_into_the_file(tmp_path: Path) -> None:
    path = tmp_path / "verify.mlir"
    path.write_text(
        "module @m {\n"
        "  func.func @main(%a: tensor<2xf32>) -> tensor<3xf32> {\n"
        '    %0 = "stablehlo.add"(%a, %a) : (tensor<2xf32>, tensor<2xf32>) -> tensor<3xf32>'
        ' loc("jit(f)/add"("model.py":3:4))\n'
        "    return %0 : tensor<3xf32>\n"
        "  }\n"
        "}\n",
        encoding="utf-8",
    )
    with pytest.raises(StableHLOError, match=r"verify\.mlir:3:10: 'stablehlo.add' op requires the same shape"):
        stablehlo.read_mlir(path)


def test_stablehlo_conversion_and_file_errors(tmp_path: Path) -> None:
    no_main = stablehlo.parse_mlir(
        "module @m {\n  func.func @foo(%a: tensor<2xf32>) -> tensor<2xf32> {\n"
        "    return %a : tensor<2xf32>\n  }\n}\n", path="foo.mlir")
    with pytest.raises(StableHLOError, match="^foo.mlir: cannot convert to HLO: .*`main`"):
        stablehlo.to_hlo_text(no_main)
    with pytest.raises(StableHLOError, match="missing.mlir: No such file"):
        stablehlo.read_mlir(tmp_path / "missing.mlir")


def test_hlo_text_compiles_like_the_direct_path(lowered: dict[str, jax_lower.Lowered]) -> None:
    direct = lowered["mlp"]
    compiled = stablehlo.compile_mlir(stablehlo.hlo_text_to_mlir(direct.hlo, path="mlp.hlo"))
    assert compiled.cost["flops"] == direct.cost["flops"]
    with pytest.raises(HloTextError, match="already optimized"):
        stablehlo.hlo_text_to_mlir(direct.optimized, path="opt.hlo")
    bad = "HloModule m\n\nENTRY main {\n  p = f32[2] parameter(0)\n  ROOT a = f32[2] add(p, q)\n}\n"
    with pytest.raises(HloTextError, match=r"^bad\.hlo:5:26: instruction does not exist: q$"):
        stablehlo.hlo_text_to_mlir(bad, path="bad.hlo")
