"""Targets: names and topologies, the committed H100/TPU corpus, and live deviceless compiles.

The corpus tests (tests/data/targets/, written by tools/target_corpus.py) need no extra. The live tests
compile with XLA:GPU and XLA:TPU on this CPU; they are skipped, with the reason, when the `gpu` or `tpu`
extra is not installed (`make test` installs both).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import pytest
from jax.sharding import PartitionSpec as P

from irscope.frontends import targets as T
from irscope.frontends.jax_lower import LoweringError
from irscope.ir.hlo_parser import parse_module
from irscope.passes.cost import module_cost

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "tests" / "data" / "targets"


def _load_corpus_tool():
    spec = importlib.util.spec_from_file_location("target_corpus", REPO / "tools" / "target_corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


corpus_tool = _load_corpus_tool()
RECORDS = {p.name: json.loads(p.read_text()) for p in sorted(CORPUS.glob("*.json"))}

needs_gpu = pytest.mark.skipif(not T.extra_installed(T.CHIPS["h100"]),
                               reason="XLA:GPU is not installed: pip install 'irscope[gpu]'")
needs_tpu = pytest.mark.skipif(not T.extra_installed(T.CHIPS["tpu-v5e"]),
                               reason="XLA:TPU is not installed: pip install 'irscope[tpu]'")


# ----------------------------------------------------------------------------------------------
# Names and topologies


@pytest.mark.parametrize(("text", "name", "chips", "platform"), [
    ("cpu", "cpu", 1, "cpu"),
    ("h100", "h100", 1, "cuda"),
    ("H100:1", "h100", 1, "cuda"),
    ("h100:8", "h100:8", 8, "cuda"),
    ("a100:2x8", "a100:2x8", 16, "cuda"),
    ("b200:1x4", "b200:4", 4, "cuda"),
    ("tpu-v5e", "tpu-v5e", 1, "tpu"),
    ("tpu-v5e:1x1", "tpu-v5e", 1, "tpu"),
    ("v5e:2x2", "tpu-v5e:2x2", 4, "tpu"),
    ("tpu-v6e:16x16", "tpu-v6e:16x16", 256, "tpu"),
    ("tpu-v4:2x2x1", "tpu-v4:2x2x1", 4, "tpu"),
    ("tpu-v5p:4x4x8", "tpu-v5p:4x4x8", 128, "tpu"),
    ("tpu-v5p:16x16x24", "tpu-v5p:16x16x24", 6144, "tpu"),
])
def test_parse_target(text, name, chips, platform):
    target = T.parse_target(text)
    assert (target.name, target.num_chips, target.platform) == (name, chips, platform)
    assert T.parse_target(target.name) == target  # the canonical name reads back as the same target


@pytest.mark.parametrize(("text", "expected"), [
    ("h900", "choose one of: cpu, h100, a100, h200, b200, tpu-v4, tpu-v5e, tpu-v5p, tpu-v6e"),
    ("", "choose one of: cpu"),
    ("cpu:4", "target 'cpu' takes no topology"),
    ("h100:9", "write N GPUs in one host (1 to 8"),
    ("h100:0", "expected numbers joined by 'x'"),
    ("h100:x8", "expected numbers joined by 'x'"),
    ("h100:2x2x2", "h100 cannot have topology '2x2x2'"),
    ("tpu-v5e:3x3", "v5e slices are 1x1, 2x2, 2x4, 4x4, 4x8, 8x8, 8x16, 16x16"),
    ("tpu-v5e:32x32", "tpu-v5e cannot have topology '32x32'"),
    ("tpu-v5e:2x2x1", "tpu-v5e cannot have topology '2x2x1'"),
    ("tpu-v4:2x2", "v4 slices are 1x1x1, 2x2x1, 2x2x2, 2x2x4, 2x4x4, or AxBxC"),
    ("tpu-v5p:3x3x3", "tpu-v5p cannot have topology '3x3x3'"),
    ("tpu-v5p:8x4x4", "A<=B<=C all multiples of 4"),
    ("tpu-v4:16x16x32", "at most 4096 chips"),
])
def test_bad_targets_name_the_valid_choices(text, expected):
    with pytest.raises(T.TargetError) as info:
        T.parse_target(text)
    message = str(info.value)
    assert expected in message and "\n" not in message
    assert isinstance(info.value, ValueError)


def test_every_chip_name_parses_and_matches_the_chip_table():
    from irscope.hw import list_chips

    assert T.list_targets() == tuple(T.CHIPS)
    for name in T.CHIPS:
        assert T.parse_target(name).chip.name == name
    # The roofline table knows these chips by the same names (the lead wires the rest).
    assert {"cpu", "h100", "a100", "h200", "tpu-v5e"} <= set(list_chips()) & set(T.CHIPS)


def test_missing_extra_names_the_pip_command(monkeypatch):
    monkeypatch.setattr(T.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(T.TargetUnavailable, match=r"pip install 'irscope\[tpu\]'$"):
        T.compile_for_target(lambda x: x, ["f32[8]"], "tpu-v6e:2x2")
    with pytest.raises(T.TargetUnavailable, match=r"pip install 'irscope\[gpu\]'$"):
        T.require_extra(T.parse_target("a100"))
    assert T.probe("h200") == ("target 'h200' needs XLA:GPU's compiler, which is not installed: "
                               "pip install 'irscope[gpu]'")
    T.require_extra(T.parse_target("cpu"))  # the local backend needs no extra


def test_captured_stderr_catches_cpp_writes_and_restores():
    import os

    with T.captured_stderr() as log:
        os.write(2, b"from C++\n")
        print("from Python", file=sys.stderr)
    assert log == ["from C++\nfrom Python\n"]
    with pytest.raises(RuntimeError), T.captured_stderr() as log:
        os.write(2, b"before the error\n")
        raise RuntimeError("boom")
    assert log == ["before the error\n"]


def test_importing_irscope_prints_nothing():
    """With the plugins installed and no device, `import irscope` and a CPU compile say nothing on stderr."""
    code = ("import irscope, jax; jax.config.update('jax_num_cpu_devices', 2); "
            "from irscope.frontends.targets import compile_for_target as c; "
            "c(lambda x: x + 1.0, ['f32[8]'], 'cpu'); print(len(jax.devices()))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          cwd=REPO, env={**_env(), "JAX_PLATFORMS": ""})
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.split() == ["2"]  # importing irscope started no backend: JAX can still be configured


def _env():
    import os

    return {**os.environ, "PYTHONPATH": str(REPO)}


# ----------------------------------------------------------------------------------------------
# The committed corpus (no extras needed)


def _corpus_pairs():
    return [(name, record) for name, record in RECORDS.items()]


def test_corpus_is_complete_and_small():
    expected = {corpus_tool.corpus_paths(CORPUS, program, target)[1].name
                for program, (_, _, targets) in corpus_tool.programs().items() for target in targets}
    assert set(RECORDS) == expected
    for name in RECORDS:
        assert (CORPUS / name.replace(".json", ".hlo")).exists()
    size = sum(p.stat().st_size for p in CORPUS.iterdir())
    assert size < 2_000_000, f"tests/data/targets is {size:,} bytes; keep it under 2 MB"


@pytest.mark.parametrize(("name", "record"), _corpus_pairs(), ids=[n for n, _ in _corpus_pairs()])
def test_corpus_module_parses_and_records_the_compiler(name, record):
    module = parse_module((CORPUS / name.replace(".json", ".hlo")).read_text())
    assert record["schema"] == "irscope.target-corpus/1"
    assert record["autotuned"] is False and "nothing was autotuned" in record["autotune_note"]
    memory = record["memory_analysis"]
    assert set(memory) >= {"argument_bytes", "output_bytes", "alias_bytes", "temp_bytes"}
    params = sum(p.shape.byte_size for p in module.entry.parameters)
    if record["platform"] == "cuda":
        assert record["cost_analysis"] is None  # XLA:GPU has no cost analysis without a device
        assert memory["argument_bytes"] == params
    else:
        # XLA leaves out the figures that are 0 (a scatter has no transcendentals)
        assert set(record["cost_analysis"]) >= {"flops", "bytes accessed", "optimal_seconds"}
        assert memory["argument_bytes"] >= params  # padded to the tiles on TPU, never smaller


def _texts(platform: str) -> dict[str, str]:
    return {r["program"]: (CORPUS / n.replace(".json", ".hlo")).read_text()
            for n, r in RECORDS.items() if r["platform"] == platform}


def test_h100_modules_are_xla_gpus():
    gpu = _texts("cuda")
    assert "StreamExecutorGpuDevice" not in "".join(gpu)  # sanity: these are module texts
    for program in ("mlp_block", "mlp_block_bf16", "while_loop", "transformer_step", "sharded_matmul"):
        assert "__triton_nested_gemm_fusion" in gpu[program] or '"__cublas' in gpu[program], program
    for program in ("softmax", "layer_norm"):
        assert "__triton" in gpu[program], program  # Triton's normalization/softmax fusions
    assert "all-reduce-start" in gpu["sharded_matmul"]


def test_tpu_modules_are_xla_tpus():
    tpu = _texts("tpu")
    for program, text in tpu.items():
        assert "T(8,128)" in text or "T(1024)" in text or "T(256)" in text, program  # tiled layouts
        assert '"estimated_cycles"' in text, program
    assert "S(1)" in tpu["transformer_step"] and "S(1)" in tpu["mlp_block"]  # values kept in VMEM
    assert "copy-start" in tpu["transformer_step"] or "slice-start" in tpu["transformer_step"]
    assert "all-reduce" in tpu["sharded_matmul"]


@pytest.mark.parametrize("name", [n for n, r in RECORDS.items() if r["platform"] == "tpu"])
def test_tpu_flops_equal_the_compilers(name):
    record = RECORDS[name]
    cost = module_cost(parse_module((CORPUS / name.replace(".json", ".hlo")).read_text())).totals
    assert cost.flops == record["cost_analysis"]["flops"]
    assert cost.transcendentals == record["cost_analysis"].get("transcendentals", 0)


def test_table_compares_every_module():
    text = corpus_tool.table(CORPUS)
    assert text.count("\n") == len(RECORDS)  # a header and one row per module
    assert "transformer_step.tpu-v5e" in text and "1.00" in text


# ----------------------------------------------------------------------------------------------
# Live compiles (the extras)


SMALL = [p for p in corpus_tool.PROGRAMS if p != "sharded_matmul"]


@needs_tpu
@pytest.mark.parametrize("program", [*SMALL, "transformer_step"])
def test_tpu_compile_matches_its_cost_analysis(program):
    fn, args, _ = corpus_tool.programs()[program]
    out = T.compile_for_target(fn, args, "tpu-v5e")
    assert out.device_kind == "TPU v5 lite" and out.num_devices == 1 and not out.autotuned
    totals = module_cost(parse_module(out.hlo_text)).totals
    assert totals.flops == out.cost_analysis["flops"]
    assert out.cost_analysis["optimal_seconds"] > 0
    # The committed corpus is what this compiler makes today.
    record = RECORDS[corpus_tool.corpus_paths(CORPUS, program, "tpu-v5e")[1].name]
    assert out.cost_analysis["flops"] == record["cost_analysis"]["flops"]
    assert out.memory_analysis.to_json()["argument_bytes"] == record["memory_analysis"]["argument_bytes"]


@needs_gpu
@pytest.mark.parametrize("program", SMALL)
def test_h100_compile(program):
    fn, args, _ = corpus_tool.programs()[program]
    out = T.compile_for_target(fn, args, "h100")
    assert out.device_kind == "NVIDIA H100 80GB HBM3" and out.cost_analysis is None and not out.autotuned
    assert out.memory_analysis.argument_bytes > 0
    module = parse_module(out.hlo_text)
    assert module.entry.parameters
    if program.startswith("mlp_block") or program == "while_loop":
        assert "__triton_nested_gemm_fusion" in out.hlo_text


@needs_gpu
@pytest.mark.parametrize("gpu", T.GPUS)
def test_every_gpu_spec_compiles(gpu):
    """Each vendored target config parses with this XLA and names the GPU it describes."""
    out = T.compile_for_target(corpus_tool.softmax, ["f32[512,1024]"], gpu)
    name = next(line.split('"')[1] for line in T.CHIPS[gpu].spec_text().splitlines()
                if line.startswith("device_description_str"))
    assert out.device_kind == name
    assert "__triton" in out.hlo_text


@needs_tpu
@needs_gpu
@pytest.mark.parametrize(("target", "mesh", "devices"), [
    ("tpu-v5e:2x2", {"data": 2, "model": 2}, 4),
    ("h100:8", {"data": 2, "model": 4}, 8),
])
def test_sharded_matmul_has_its_collective(target, mesh, devices):
    fn, args, _ = corpus_tool.PROGRAMS["sharded_matmul"]
    out = T.compile_for_target(fn, args, target, mesh=mesh)
    assert out.num_devices == devices
    entry = parse_module(out.hlo_text).entry
    assert any(i.opcode.startswith("all-reduce") for i in entry.instructions)
    x = entry.parameters[0].shape.dims
    assert x == (512 // mesh["data"], 1024)  # the per-device shard


@needs_tpu
def test_multi_device_target_without_mesh_replicates():
    out = T.compile_for_target(corpus_tool.gelu, ["f32[256,256]"], "tpu-v5e:2x2")
    assert out.num_devices == 4
    assert parse_module(out.hlo_text).entry.parameters[0].shape.dims == (256, 256)


@needs_tpu
def test_mesh_mistakes_are_target_errors():
    x = jax.ShapeDtypeStruct((64, 64), jnp.float32, sharding=P("data", None))
    with pytest.raises(T.TargetError, match="mesh data=3 has 3 devices but tpu-v5e:2x2 has 4"):
        T.compile_for_target(lambda a: a, [x], "tpu-v5e:2x2", mesh={"data": 3})
    with pytest.raises(T.TargetError, match="names mesh axes 'data' but the mesh has 'rows', 'cols'"):
        T.compile_for_target(lambda a: a, [x], "tpu-v5e:2x2", mesh={"rows": 2, "cols": 2})
    with pytest.raises(T.TargetError, match="the target has one device and no mesh"):
        T.compile_for_target(lambda a: a, [x], "tpu-v5e")


@needs_tpu
def test_a_tracing_error_is_the_users():
    def broken(a):
        return a @ jnp.ones((3, 3))  # shapes do not match

    with pytest.raises(LoweringError, match=r"test_targets.py:\d+: TypeError"):
        T.compile_for_target(broken, ["f32[4,4]"], "tpu-v5e")


@needs_tpu
@needs_gpu
def test_probe_compiles_in_a_child_process_quietly():
    assert T.probe("tpu-v5e") is None
    assert T.probe("h100:8") is None
    code = ("import irscope.frontends.targets as T; "
            "[T.compile_for_target(lambda x: x * 2.0, ['f32[8,128]'], t) for t in ('h100', 'tpu-v5e:2x2')]")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          cwd=REPO, env=_env())
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # the plugins' start-up logs stay off the terminal


@needs_gpu
def test_h100_after_jax_started_its_backends_first():
    """A user who started JAX's backends before importing irscope (so the CUDA plugin failed its runtime
    check and never registered) can still compile for an H100."""
    code = ("import os, jax; os.environ.pop('JAX_SKIP_CUDA_CONSTRAINTS_CHECK', None); jax.devices(); "
            "import irscope.frontends.targets as T; "
            "print(T.compile_for_target(lambda x: x * 2.0, ['f32[8,128]'], 'h100').device_kind)")
    env = {k: v for k, v in _env().items() if k not in ("JAX_PLATFORMS", "JAX_SKIP_CUDA_CONSTRAINTS_CHECK")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=REPO,
                          env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("NVIDIA H100 80GB HBM3")


def _saved_sharded_module():
    """A sharded step saved as StableHLO text, as `jax.jit(f).lower(...).as_text()` writes it."""
    import numpy as np
    from jax.sharding import Mesh, NamedSharding

    from irscope.frontends.stablehlo import parse_mlir

    mesh = Mesh(np.array(T.devices_for("tpu-v5e:2x2")).reshape(2, 2), ("data", "model"))
    x = jax.ShapeDtypeStruct((512, 1024), jnp.float32, sharding=NamedSharding(mesh, P("data", None)))
    w = jax.ShapeDtypeStruct((1024, 1024), jnp.float32, sharding=NamedSharding(mesh, P(None, "model")))
    text = jax.jit(lambda a, b: (a @ b).sum()).lower(x, w).as_text()
    assert "mhlo.num_partitions = 4" in text
    return parse_mlir(text, path="step.mlir")


@needs_tpu
@needs_gpu
@pytest.mark.parametrize(("target", "kind"), [("tpu-v5e:2x2", "TPU v5 lite"), ("tpu-v5p:2x2x1", "TPU v5"),
                                              ("h100:4", "NVIDIA H100 80GB HBM3")])
def test_sharded_stablehlo_compiles_for_the_devices_it_names(target, kind):
    out = T.compile_mlir_for_target(_saved_sharded_module(), target)
    assert (out.num_devices, out.device_kind) == (4, kind)
    entry = parse_module(out.hlo_text).entry
    assert entry.parameters[0].shape.dims == (256, 1024)  # x split over "data"
    assert any(i.opcode.startswith("all-reduce") for i in entry.instructions)
    if target.startswith("tpu"):
        assert module_cost(parse_module(out.hlo_text)).totals.flops == out.cost_analysis["flops"]


@needs_tpu
@pytest.mark.parametrize(("target", "advice"), [
    ("tpu-v5e", "but tpu-v5e has 1: use tpu-v5e:2x2"),
    ("h100:8", "but h100:8 has 8: use h100:4"),
    ("cpu", "compile it for a GPU or TPU target with that many devices"),
])
def test_sharded_stablehlo_on_the_wrong_device_count_says_which_target(target, advice):
    with pytest.raises(T.TargetError, match="step.mlir: the module is partitioned for 4 device") as info:
        T.compile_mlir_for_target(_saved_sharded_module(), target)
    assert advice in str(info.value)


@needs_tpu
@needs_gpu
def test_single_device_stablehlo_for_every_kind_of_target():
    from irscope.frontends.stablehlo import parse_mlir

    text = jax.jit(corpus_tool.softmax).lower(jax.ShapeDtypeStruct((512, 1024), jnp.float32)).as_text()
    module = parse_mlir(text, path="softmax.mlir")
    cpu, h100, tpu = (T.compile_mlir_for_target(module, t) for t in ("cpu", "h100", "tpu-v5e"))
    assert tpu.cost_analysis["flops"] == RECORDS["softmax.tpu-v5e.json"]["cost_analysis"]["flops"]
    for out in (cpu, tpu):  # each compiler fused its own way; irscope's parse agrees with each
        assert module_cost(parse_module(out.hlo_text)).totals.flops == out.cost_analysis["flops"]
    assert h100.cost_analysis is None and "__triton" in h100.hlo_text
    assert "T(8,128)" in tpu.hlo_text


@needs_tpu
def test_v4_meshes_count_tensorcores():
    """XLA:TPU's compile-only v4 devices are TensorCores (two per chip); a mesh is laid over them in order."""
    x = jax.ShapeDtypeStruct((512, 512), jnp.float32, sharding=P("data", None))
    out = T.compile_for_target(lambda a: a @ a.T, [x], "tpu-v4:2x2x1", mesh={"data": 8})
    assert (out.num_devices, out.device_kind) == (8, "TPU v4")
    with pytest.raises(T.TargetError, match=r"has 8 \(TensorCores: two per v4 chip\)"):
        T.compile_for_target(lambda a: a @ a.T, [x], "tpu-v4:2x2x1", mesh={"data": 4})


@needs_tpu
def test_metadata_points_at_the_users_code_not_irscope():
    out = T.compile_for_target(corpus_tool.gelu, ["f32[8,128]"], "tpu-v5e")
    assert "target_corpus.py" in out.hlo_text and "irscope/frontends/targets.py" not in out.hlo_text
