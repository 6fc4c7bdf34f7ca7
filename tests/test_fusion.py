"""Fusion groups and the kernel graph, on modules XLA writes and on corpus files."""

from __future__ import annotations

import pathlib

import pytest
from conftest import CORPUS
from jax_programs import texts

from irscope.hw import get_chip
from irscope.ir.hlo_parser import parse_file, parse_module
from irscope.passes.fusion import NO_LAUNCH, find_kernels
from irscope.passes.report import analyze


def test_mlp_kernels_are_the_entry_launches():
    _, optimized = texts("mlp")
    module = parse_module(optimized)
    kernels = find_kernels(module)
    launches = [i for i in module.entry.instructions if i.opcode not in NO_LAUNCH]
    assert [k.name for k in kernels] == [i.name for i in launches]
    for k in kernels:
        if k.opcode == "fusion":
            fused = module.computations[k.fused_computation]
            assert list(k.ops) == [i.opcode for i in fused.instructions if i.opcode != "parameter"]
            assert k.kind in ("kLoop", "kInput", "kOutput") or k.kind.startswith("__")
        assert [t.name for t in k.inputs] == list(k.instruction.operands)


def test_pre_optimization_module_is_all_unfused_ops():
    hlo, _ = texts("mlp")
    module = parse_module(hlo)
    kernels = find_kernels(module)
    assert kernels and {k.kind for k in kernels} == {"op"}
    assert any(k.opcode == "dot" for k in kernels)


def test_loop_body_kernels_carry_the_path_and_trip_count():
    _, optimized = texts("fori")
    module = parse_module(optimized)
    report = analyze(module, get_chip("h100"))
    inner = [r for r in report.rows if r.kernel.path]
    assert inner, "the loop body's kernels must be listed"
    loop = inner[0].kernel.path[0]
    assert module.entry.by_name[loop].opcode == "while"
    assert all(r.trip_count == 8 for r in inner)
    assert any("sine" in r.kernel.ops for r in inner)
    assert inner[0].name.startswith(loop + "/")


def test_conditional_branches_are_listed():
    _, optimized = texts("switch")
    module = parse_module(optimized)
    ops = {op for k in find_kernels(module) if k.path for op in k.ops}
    assert {"sine", "cosine", "multiply"} <= ops


def test_multi_output_fusion_roots_and_graph_edges():
    module = parse_file(CORPUS / "emit_transpose_side_outputs_inplace.hlo")[0]
    kernels = find_kernels(module)
    fusion = next(k for k in kernels if k.opcode == "fusion")
    assert len(fusion.roots) == 3 and len(fusion.outputs) == 3
    report = analyze(module, get_chip("h100"))
    graph = report.graph()
    assert fusion.name in graph
    assert graph.nodes[fusion.name]["kind"] == "kInput"
    assert graph.nodes[fusion.name]["fused"], "fused ops are on the node for --expand"


def test_graph_edges_look_through_tuples_and_gte():
    module = parse_file(CORPUS / "hlo_to_mhlo_fusion.hlo")[0]
    graph = analyze(module, get_chip("h100")).graph()
    for u, _, data in graph.edges(data=True):
        assert graph.nodes[u]["opcode"] not in ("get-tuple-element", "tuple", "bitcast")
        assert data["bytes"] >= 0 and data["shape"]
    assert any(graph.nodes[n]["kind"] == "parameter" for n in graph)


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.hlo")), ids=lambda p: p.name)
def test_every_corpus_module_reports(path):
    for module in parse_file(path):
        report = analyze(module, get_chip("a100"))
        doc = report.to_json()
        assert doc["totals"]["kernels"] == len(doc["kernels"])
        for kernel in doc["kernels"]:
            assert kernel["bytes_read"] + kernel["bytes_written"] >= 0 or kernel["kind"] == "custom-call"
        report.graph()  # builds without error


def test_async_wrappers_and_command_buffers():
    # An async-start wrapping a fusion, and a command-buffer computation behind a call: the kernels
    # inside are what runs; the wrappers launch nothing themselves.
    module = parse_file(pathlib.Path(__file__).parent / "data" / "async_and_command_buffer.hlo")[0]
    kernels = find_kernels(module)
    assert [(k.qualified_name, k.kind, k.ops) for k in kernels] == [
        ("start/f", "kLoop", ("negate",)),
        ("cb/g", "kLoop", ("exponential",)),
    ]


def test_library_gemm_custom_call_is_costed_from_its_shapes():
    # cuBLASLt matmul custom calls: XLA counts -1; irscope's labelled estimate is 2*M*N*K FLOPs.
    module = parse_file(CORPUS / "gpu_kernel_reuse.hlo")[0]
    rows = [r for r in analyze(module, get_chip("h100")).rows if r.kernel.kind == "custom-call"]
    assert rows and all(r.provenance == "estimated" for r in rows)
    assert all(r.cost.flops == 2 * 5 * 5 * 5 for r in rows)  # f32[5,5] x f32[5,5]
    assert all(r.cost.bytes_read == 2 * 100 and r.cost.bytes_written == 100 for r in rows)
