"""irscope.passes.mosaic: what a Mosaic TPU kernel computes, read from the MLIR body of its custom call."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from irscope.hw import get_chip
from irscope.ir.hlo_parser import parse_module
from irscope.passes.cost import module_cost
from irscope.passes.mosaic import kernel_body, kernel_cost
from irscope.passes.report import analyze

DATA = Path(__file__).parent / "data"
ATTENTION = DATA / "targets" / "attention.tpu-v5e.hlo"  # tools/target_corpus.py: XLA:TPU's own online-softmax


def _custom_calls(module):
    return [i for c in module.computations.values() for i in c.instructions if i.opcode == "custom-call"]


def test_xla_tpus_online_softmax_is_read_from_its_body():
    module = parse_module(ATTENTION.read_text())
    (call,) = [i for i in _custom_calls(module) if kernel_body(i)]
    assert "tpu.matmul" in kernel_body(call) and "iteration_bounds" in kernel_body(call)
    flops, transcendentals = kernel_cost(call)
    batch, heads, seq, dim = 2, 4, 256, 64
    pv = 2 * batch * heads * seq * seq * dim  # probabilities @ V, the matmul the kernel does per head
    # exp over each head's 256x256 scores, and two exps of the 256 running maxima per grid step
    assert transcendentals == batch * heads * (seq * seq + 2 * seq)
    assert pv < flops < pv * 1.05  # the softmax's element-wise work is a few percent on top


def test_the_estimate_adds_the_kernel_to_xlas_total():
    """XLA's cost analysis leaves the custom call out; irscope's estimate is XLA's total plus the kernel."""
    module = parse_module(ATTENTION.read_text())
    record = json.loads(ATTENTION.with_suffix(".json").read_text())
    (call,) = [i for i in _custom_calls(module) if kernel_body(i)]
    report = analyze(module, get_chip("tpu-v5e"))
    assert report.totals.flops == record["cost_analysis"]["flops"]  # XLA's convention, unchanged
    assert module_cost(module).totals.flops == record["cost_analysis"]["flops"]
    assert report.estimated_totals.flops == record["cost_analysis"]["flops"] + kernel_cost(call)[0]
    row = next(r for r in report.rows if r.kernel.name == call.name)
    assert row.cost.flops == kernel_cost(call)[0]


def _with_body(mlir: str) -> str:
    body = base64.b64encode(mlir.encode()).decode()
    return ("HloModule m, is_scheduled=true\n\nENTRY %main (a: f32[8,128], b: f32[128,256]) -> f32[8,256] {\n"
            "  %a = f32[8,128]{1,0} parameter(0)\n  %b = f32[128,256]{1,0} parameter(1)\n"
            '  ROOT %k = f32[8,256]{1,0} custom-call(%a, %b), custom_call_target="tpu_custom_call", '
            f'backend_config={{"custom_call_config":{{"body":"{body}"}}}}\n}}\n')


MLIR = """module {
  func.func @main(%arg0: i32, %arg1: memref<8x128xf32>, %arg2: memref<128x128xf32>, %arg3: memref<8x128xf32>) attributes {iteration_bounds = array<i64: 2>} {
    %0 = vector.load %arg1[%c0, %c0] : memref<8x128xf32>, vector<8x128xf32>
    %1 = vector.load %arg2[%c0, %c0] : memref<128x128xf32>, vector<128x128xf32>
    %cst = arith.constant dense<0.0> : vector<8x128xf32>
    %2 = tpu.matmul %0, %1, %cst {dimension_numbers = #tpu.dot_dimension_numbers<[1], [0], [0], [1], [0, 0, 1, 1], [], []>} : vector<8x128xf32>, vector<128x128xf32>, vector<8x128xf32> -> vector<8x128xf32>
    %3 = math.tanh %2 : vector<8x128xf32>
    %4 = arith.addf %3, %0 : vector<8x128xf32>
    %5 = vector.multi_reduction <add>, %4, %cst [1] : vector<8x128xf32> to vector<8xf32>
    return
  }
  func.func @index(%arg0: i32) -> (i32, i32) {
    %0 = arith.addf %x, %y : vector<1000x1000xf32>
    return %arg0, %arg0 : i32, i32
  }
}
"""


def test_a_written_kernel_counts_each_op_once_per_grid_step():
    (call,) = _custom_calls(parse_module(_with_body(MLIR)))
    matmul, add, reduction = 2 * 8 * 128 * 128, 8 * 128, 8 * 128
    assert kernel_cost(call) == (2 * (matmul + add + reduction), 2 * 8 * 128)  # 2 steps; @index not counted


def test_bytecode_bodies_and_other_calls_are_not_read():
    """Pallas writes user kernels as MLIR bytecode: no reading, the shape-only estimate stays (0 FLOPs)."""
    pallas = parse_module((DATA / "memory" / "tpu-v5e" / "pallas.hlo").read_text())
    calls = [i for i in _custom_calls(pallas) if "tpu_custom_call" in i.attrs.get("custom_call_target", "")]
    assert calls and all(kernel_body(i) is None and kernel_cost(i) is None for i in calls)
    bytecode = parse_module(_with_body("ML\xefR\x00 bytecode"))
    truncated = parse_module(_with_body(MLIR).replace('"body":"', '"body":"a'))  # bad base64 padding
    assert all(kernel_cost(i) is None for m in (bytecode, truncated) for i in _custom_calls(m))
