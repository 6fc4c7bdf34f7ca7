"""`irscope kernels` / `python -m inspect.kernels`: Pallas kernels beside XLA's fused kernels and eager.

    python -m inspect.kernels                                 every kernel at its default size, f32
    python -m inspect.kernels --kernel softmax --sizes 4096x1024 --dtype bf16
    python -m inspect.kernels --kernel matmul_bias_gelu --sizes 512x512x512 1024x256x4096
    python -m inspect.kernels --json kernels.json --hw h100

Per kernel, size and dtype: the Pallas result's max abs error against the plain-jnp reference (and
the tolerance it must meet), the bytes each implementation moves (static), the median times, the
achieved GB/s and the fraction of the chip's roofline (`irscope.kernels.harness`). On a machine
without a GPU the Pallas kernels run in interpret mode, and their times are labelled as such.

Human output on stdout, progress on stderr; a bad flag or size is one line on stderr and exit 2; a
kernel outside its tolerance makes the exit status 1 (after the whole table is printed).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from irscope.cli.common import Progress, UserError, progress, write_atomic
from irscope.render.kernels_text import format_report as format_report  # its old home
from irscope.util.jsonio import dumps

# The harness's kernels (irscope.kernels.harness.KERNELS; a test keeps the two in step).
KERNEL_NAMES = ("gelu", "swish", "softmax", "layer_norm", "matmul_bias_gelu", "flash_attention")

EPILOG = """\
sizes (one or more per run, applied to every kernel chosen; `x` between numbers):
  gelu, swish, softmax, layer_norm   ROWSxCOLS       e.g. 1024x1024 (softmax/layer_norm along COLS)
  matmul_bias_gelu                   MxKxN           gelu(x @ w + b), x (M, K), w (K, N)
  flash_attention                    BxTxSxD         q (B, T, D), k and v (B, S, D)

columns:
  max|err|, tol    max abs error of the Pallas output against the jitted reference, and its tolerance
  bytes            pallas: from the kernel's grid and BlockSpecs (a block the next grid step reuses
                   moves once); xla: XLA's cost analysis of the reference's optimized HLO; unfused:
                   the same module with every fused op its own kernel (used for eager's GB/s)
  time             medians over --repeats runs after a warm-up; eager runs under jax.disable_jit()
  GB/s, roofline   bytes / time, and the time at the chip's peak (--hw) over the measured time

examples:
  python -m inspect.kernels --kernel layer_norm --xla-kernels
  python -m inspect.kernels --dtype bf16 --repeats 20 --json out.json
"""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the `kernels` subcommand; returns its parser. (Imports nothing heavy: the kernels load
    JAX and Pallas, so they are imported when the command runs.)"""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "kernels",
        help="Pallas kernels against XLA's fused kernels and eager: error, bytes, time, roofline",
        description="Run each Pallas kernel beside XLA's fused kernel for its reference and beside eager "
                    "execution: same inputs, same checks, bytes and time side by side.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--kernel", action="append", metavar="NAME",
                        help=f"a kernel to run (repeatable; default: all): {', '.join(KERNEL_NAMES)}")
    parser.add_argument("--sizes", nargs="+", metavar="SIZE", help="sizes such as 1024x1024 (see below)")
    parser.add_argument("--dtype", choices=("f32", "bf16"), default="f32", help="input dtype (default f32)")
    parser.add_argument("--repeats", type=int, default=5, metavar="N", help="timed runs per median (default 5)")
    parser.add_argument("--hw", metavar="CHIP",
                        help="the chip for the roofline (default: this GPU's model, else cpu, measured)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--interpret", dest="interpret", action="store_true", default=None,
                      help="run Pallas in interpret mode even on a GPU")
    mode.add_argument("--compiled", dest="interpret", action="store_false",
                      help="compile Pallas for the backend (needs a GPU)")
    parser.add_argument("--xla-kernels", action="store_true",
                        help="after the table, list the kernels XLA made of each reference with their bytes")
    parser.add_argument("--json", metavar="PATH", help="write the irscope.kernels-report/1 JSON (- for stdout)")
    parser.set_defaults(func=run)
    return parser


def _parse_size(text: str) -> tuple[int, ...]:
    try:
        size = tuple(int(part) for part in text.lower().split("x"))
    except ValueError:
        raise UserError(f"bad size {text!r}: expected numbers joined by x, e.g. 1024x1024") from None
    if not size or any(s < 1 for s in size):
        raise UserError(f"bad size {text!r}: every number must be positive")
    return size


def default_chip_name() -> str:
    """The hardware-table name of this machine's accelerator: h100/h200/a100 by device kind, else cpu."""
    import jax

    kind = jax.devices()[0].device_kind.lower()
    for name in ("h200", "h100", "a100"):
        if name in kind:
            return name
    if "v5 lite" in kind or "v5e" in kind:
        return "tpu-v5e"
    return "cpu"


def run(args: argparse.Namespace) -> int:
    import jax

    from irscope.hw import get_chip
    from irscope.kernels.harness import (
        KERNELS,
        KernelComparison,
        check_size,
        compare,
        default_sizes,
        interpret_default,
    )

    if args.repeats < 1:
        raise UserError(f"--repeats must be >= 1, got {args.repeats}")
    backend = jax.default_backend()
    interpret = interpret_default() if args.interpret is None else args.interpret
    if not interpret and backend != "gpu":
        raise UserError(f"--compiled needs a GPU; JAX's backend here is {backend}")
    chip = get_chip(args.hw or default_chip_name(), progress=progress)
    unknown = [name for name in args.kernel or () if name not in KERNELS]
    if unknown:
        raise UserError(f"unknown kernel {unknown[0]!r}; known: {', '.join(KERNELS)}")
    specs = [KERNELS[name] for name in (args.kernel or KERNELS)]
    sizes = [_parse_size(s) for s in args.sizes] if args.sizes else None
    plan = []
    for spec in specs:
        for size in sizes or default_sizes(spec, interpret):
            plan.append((spec, check_size(spec, size)))
    device = jax.devices()[0].device_kind
    results = []
    with Progress(total=len(plan), label="kernels") as bar:
        for spec, size in plan:
            results.append(compare(spec, size, args.dtype, chip, interpret=interpret, repeats=args.repeats))
            bar.advance(f"{spec.name} {'x'.join(map(str, size))}")
    comparison = KernelComparison(tuple(results), device, backend, chip)
    print(comparison.to_text(xla_kernels=args.xla_kernels))
    if args.json:
        write_atomic(args.json, dumps(comparison.to_json()) + "\n")
    failed = [r for r in results if not r.ok]
    for r in failed:
        print(f"irscope kernels: {r.kernel} {'x'.join(map(str, r.shape))} {r.dtype}: max abs error "
              f"{r.max_abs_error:.3g} is above the tolerance {r.tolerance:.3g}", file=sys.stderr)
    return 1 if failed else 0
