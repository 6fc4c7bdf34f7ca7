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
import json
import math
import sys
from typing import Any

from irscope.cli.common import Progress, UserError, progress, write_atomic

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
    from irscope.kernels.common import KernelShapeError
    from irscope.kernels.harness import (
        KERNELS,
        TooSlowToInterpret,
        check_size,
        compare,
        default_sizes,
        interpret_default,
        report_json,
    )

    if args.repeats < 1:
        raise UserError(f"--repeats must be >= 1, got {args.repeats}")
    backend = jax.default_backend()
    interpret = interpret_default() if args.interpret is None else args.interpret
    if not interpret and backend != "gpu":
        raise UserError(f"--compiled needs a GPU; JAX's backend here is {backend}")
    try:
        chip = get_chip(args.hw or default_chip_name(), progress=progress)
    except ValueError as e:
        raise UserError(str(e)) from None
    unknown = [name for name in args.kernel or () if name not in KERNELS]
    if unknown:
        raise UserError(f"unknown kernel {unknown[0]!r}; known: {', '.join(KERNELS)}")
    specs = [KERNELS[name] for name in (args.kernel or KERNELS)]
    sizes = [_parse_size(s) for s in args.sizes] if args.sizes else None
    plan = []
    for spec in specs:
        for size in sizes or default_sizes(spec, interpret):
            try:
                plan.append((spec, check_size(spec, size)))
            except ValueError as e:
                raise UserError(str(e)) from None
    device = jax.devices()[0].device_kind
    results = []
    with Progress(total=len(plan), label="kernels") as bar:
        for spec, size in plan:
            try:
                results.append(compare(spec, size, args.dtype, chip, interpret=interpret, repeats=args.repeats))
            except (KernelShapeError, TooSlowToInterpret) as e:
                raise UserError(str(e)) from None
            bar.advance(f"{spec.name} {'x'.join(map(str, size))}")
    print(format_report(results, device=device, backend=backend, chip=chip, xla_kernels=args.xla_kernels))
    if args.json:
        write_atomic(args.json, json.dumps(report_json(results, device=device, backend=backend), indent=1) + "\n")
    failed = [r for r in results if not r.ok]
    for r in failed:
        print(f"irscope kernels: {r.kernel} {'x'.join(map(str, r.shape))} {r.dtype}: max abs error "
              f"{r.max_abs_error:.3g} is above the tolerance {r.tolerance:.3g}", file=sys.stderr)
    return 1 if failed else 0


def _bytes(n: float) -> str:
    """A size in the unit that keeps the number at 1 or more: '8.0 KiB', not '0.0 MiB'."""
    from irscope.render.table import human_bytes

    return human_bytes(n)


def _time(s: float) -> str:
    from irscope.render.table import human_time

    return human_time(s)


def _rate(x: float) -> str:
    if not math.isfinite(x):
        return "-"
    return f"{x:,.1f}" if x >= 1 else f"{x:.3f}"


def _pct(x: float) -> str:
    if not math.isfinite(x):
        return "-"
    return f"{100 * x:.0f}%" if x >= 0.01 else f"{100 * x:.2f}%"


def format_report(results: list[Any], *, device: str, backend: str, chip: Any, xla_kernels: bool = False) -> str:
    """The table the command prints (results from `irscope.kernels.harness.compare`)."""
    interpreted = any(r.interpret for r in results)
    mark = "†" if interpreted else ""
    head = (f"Pallas vs XLA vs eager on {device} (JAX backend {backend}); roofline: {chip.name} "
            f"({chip.product or chip.name}), {chip.mem_bandwidth / 1e9:,.0f} GB/s")
    header = ("kernel", "size", "dtype", "max|err|", "tol", "ok",
              "pallas", "xla", "unfused", f"pallas{mark}", "xla", "eager",
              f"pallas{mark}", "xla", "eager", f"pallas{mark}", "xla", "eager")
    groups = (("", 6), ("bytes", 3), ("median time", 3), ("GB/s", 3), ("% of roofline", 3))
    rows = [header]
    for r in results:
        rows.append((
            r.kernel, "x".join(map(str, r.shape)), {"float32": "f32", "bfloat16": "bf16"}.get(r.dtype, r.dtype),
            f"{r.max_abs_error:.2g}", f"{r.tolerance:.2g}", "yes" if r.ok else "NO",
            _bytes(r.bytes_pallas), _bytes(r.bytes_xla), _bytes(r.bytes_eager),
            _time(r.time_pallas_s), _time(r.time_xla_s), _time(r.time_eager_s),
            _rate(r.gbps("pallas")), _rate(r.gbps("xla")), _rate(r.gbps("eager")),
            _pct(r.roofline.get("pallas", math.nan)), _pct(r.roofline.get("xla", math.nan)),
            _pct(r.roofline.get("eager", math.nan)),
        ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    left = {0, 1, 2, 5}

    def line(row: tuple[str, ...]) -> str:
        cells = [c.ljust(widths[i]) if i in left else c.rjust(widths[i]) for i, c in enumerate(row)]
        return "  ".join(cells).rstrip()

    group_cells, i = [], 0
    for title, span in groups:
        width = sum(widths[i:i + span]) + 2 * (span - 1)
        group_cells.append(title.center(width) if title else " " * width)
        i += span
    out = [head, "", "  ".join(group_cells).rstrip(), line(header), line(tuple("-" * w for w in widths))]
    out += [line(row) for row in rows[1:]]
    if interpreted:
        out += ["", "† interpret mode: the Pallas grid runs as an XLA while loop on this machine; its time, GB/s and "
                    "roofline say nothing about the kernel's performance on a GPU."]
    out += ["bytes: pallas from its grid and BlockSpecs; xla = XLA's cost analysis of the reference's optimized "
            "HLO; unfused = the same with every op its own kernel, which GB/s and roofline use for eager."]
    if xla_kernels:
        for r in results:
            out += ["", f"XLA's kernels for {r.kernel} {'x'.join(map(str, r.shape))} {r.dtype} "
                        f"({_bytes(r.bytes_xla)}; Pallas: {_bytes(r.bytes_pallas)}):"]
            width = max((len(n) for n, _, _ in r.xla_kernels), default=0)
            out += [f"  {n.ljust(width)}  {k:<14} {_bytes(b):>10}" for n, k, b in r.xla_kernels]
    return "\n".join(out)
