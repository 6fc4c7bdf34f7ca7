"""Which compute roof applies to a kernel: its unit (matrix or vector) and the chip's peak for it.

A GPU runs a dot on its tensor cores and element-wise work on its CUDA cores; a TPU runs a dot on its MXU
and element-wise work on its vector unit. The roofline of a kernel must use the peak of the unit that
does the kernel's FLOPs: an f32 dot on an H100 runs on TF32 tensor cores at XLA:GPU's default precision
(494.5 TFLOP/s dense), not at the 67 TFLOP/s CUDA-core rate, and placing it against the latter calls a
memory-bound matmul compute-bound. `irscope.hw.peak_key` holds the table's side of the rule; this module
finds the unit from the module.

A kernel is `matrix` when it is, or contains (through nested fusions and called computations), a dot or
convolution, or when it is a library call of a GEMM or convolution (cuBLAS, cuBLASLt, cuDNN); otherwise
`vector`.

Not handled yet: a kernel that mixes a small dot with heavy element-wise work (it is all `matrix`).
"""

from __future__ import annotations

from operator import attrgetter

from irscope.hw import Chip, Unit, peak_key
from irscope.ir.hlo import Module
from irscope.ir.opcodes import MATMUL
from irscope.passes.fusion import Kernel

# Library calls XLA:GPU emits for matrix work (custom_call_target prefixes).
MATRIX_LIBRARY_CALLS = ("__cublas$gemm", "__cublas$lt$matmul", "__cudnn$conv", "__cudnn$fmha")
_OPCODE = attrgetter("opcode")


def kernel_unit(module: Module, kernel: Kernel) -> Unit:
    """`matrix` if the kernel does a dot or convolution (or calls a GEMM/convolution library), else `vector`."""
    inst = kernel.instruction
    if inst.opcode in MATMUL or _is_matrix_call(inst):
        return "matrix"
    for name in module.reachable_from(inst.called):
        instructions = module.computations[name].instructions
        opcodes = set(map(_OPCODE, instructions))  # one C-level pass; most kernels hold no call
        if not opcodes.isdisjoint(MATMUL):
            return "matrix"
        if "custom-call" in opcodes and any(_is_matrix_call(sub) for sub in instructions):
            return "matrix"
    return "vector"


def _is_matrix_call(inst) -> bool:
    if inst.opcode != "custom-call":
        return False
    target = str(inst.attrs.get("custom_call_target", "")).strip('"')
    return target.startswith(MATRIX_LIBRARY_CALLS)


def roofline_key(chip: Chip, module: Module, kernel: Kernel, dtype: str) -> str:
    """The `chip.peak_flops` key whose peak bounds `kernel` (its dtype is `dtype`): see `irscope.hw.peak_key`."""
    return peak_key(chip, dtype, kernel_unit(module, kernel))
