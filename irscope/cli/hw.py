"""`irscope hw`: print the hardware table (and this CPU's measured figures), or write it as JSON.

    irscope hw                     every chip; measures this CPU first if it has no cached probe
    irscope hw --chip h100         one chip (no probe unless the chip is `cpu`)
    irscope hw --sources           also print where each number comes from
    irscope hw --remeasure         measure this CPU again, replacing the cached figures
    irscope hw --json out.json     also write {"schema": "irscope.hw-report/1", "chips": [...]}; `-` is stdout

Human output goes to stdout, progress to stderr; a user error (unknown chip, unwritable JSON path) is one
line on stderr and exit status 2. `python -m irscope.cli.hw` runs the command on its own.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from irscope import hw
from irscope.cli.common import UserError, progress, write_atomic
from irscope.measure import probe
from irscope.util.jsonio import dumps
from irscope.util.text import text_table

SCHEMA = "irscope.hw-report/1"
PROG = "irscope hw"


EPILOG = """\
examples:
  irscope hw                     every chip; measures this CPU first if it has no cached probe
  irscope hw --chip h100         one chip (no probe)
  irscope hw --sources           where each number comes from
  irscope hw --remeasure         measure this CPU again
"""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the `hw` subcommand on an `argparse` subparsers object; returns its parser."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "hw",
        help="hardware table: peak FLOP/s, bandwidth, ridge points (this CPU measured)",
        description="Print the hardware table irscope's roofline uses, with this CPU's measured figures.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--chip", metavar="NAME", help=f"show one chip ({', '.join(hw.list_chips())})")
    parser.add_argument("--sources", action="store_true", help="print the source of every number")
    parser.add_argument("--remeasure", action="store_true", help="run the CPU probe again, replacing the cache")
    parser.add_argument("--json", metavar="PATH", help="write the report as JSON to PATH (- for stdout)")
    parser.set_defaults(func=run)
    return parser


def _err(message: object) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return 2


def _num(value: float | None, scale: float) -> str:
    """`value / scale` with one decimal, or three significant digits below 1 (a CPU in TFLOP/s)."""
    if value is None:
        return "-"
    x = value / scale
    return f"{x:,.1f}" if x >= 1 else f"{x:.3g}"


def _table(chips: list[hw.Chip]) -> str:
    """The chips as a fixed-width text table; a ridge point that used a fallback peak is marked `*`."""
    header = ("chip", "product", "f32 TFLOP/s", "bf16 TFLOP/s", "s8 TOP/s", "BW GB/s", "mem GiB", "ridge f32")
    rows = []
    footnote = False
    for c in chips:
        fallback = hw.peak_dtype_for(c, "f32") != "f32"
        footnote |= fallback
        ridge = f"{hw.ridge_point(c, 'f32'):,.1f}{'*' if fallback else ''}"
        rows.append((
            c.name, c.product,
            _num(c.peak_flops.get("f32"), 1e12), _num(c.peak_flops.get("bf16"), 1e12),
            _num(c.peak_flops.get("s8"), 1e12), _num(c.mem_bandwidth, 1e9),
            _num(c.mem_capacity, 2**30), ridge,
        ))
    lines = text_table(header, rows, right=set(range(2, len(header))))
    lines.append("Dense peaks (no sparsity); f32 is the non-tensor-core rate on GPUs (see --sources for tf32).")
    lines.append("ridge f32 = f32 peak / bandwidth, FLOP per byte: below it a kernel is memory-bound.")
    if footnote:
        lines.append("* no published f32 peak: the ridge uses the fallback irscope applies (f32 -> bf16).")
    return "\n".join(lines)


def _probe_text(r: probe.ProbeResult, path: Path) -> str:
    cfg = r.config
    mib = cfg.array_bytes / 2**20

    def line(label: str, figure: str, scale: float, unit: str, how: str) -> str:
        best = getattr(r, figure)
        return f"  {label:<13}{best / scale:8.1f} {unit:<8} median {r.median(figure) / scale:7.1f}   {how}"

    lines = [
        f"cpu probe: {r.cpu_model}, {r.cores} cores, jax {r.jax_version}, measured {r.measured_at} "
        f"in {r.elapsed_s:.1f} s (best of N; cache {path})",
        line("copy", "copy_bw", 1e9, "GB/s", f"numpy, {r.threads} threads, 2 x {mib:.0f} MiB"),
        line("triad", "triad_bw", 1e9, "GB/s", f"numpy, {r.threads} threads, 3 x {mib:.0f} MiB  <- cpu bandwidth"),
        line("triad (XLA)", "triad_bw_xla", 1e9, "GB/s", "one jitted XLA:CPU fusion"),
        line("matmul f32", "matmul_flops_f32", 1e9, "GFLOP/s", f"jax.jit {cfg.matmul_n}^2  <- cpu f32 peak"),
    ]
    if r.matmul_flops_f64 is not None:
        lines.append(line("matmul f64", "matmul_flops_f64", 1e9, "GFLOP/s", f"jax.jit {cfg.matmul_n_f64}^2"))
    if r.load_avg > 0.5 * r.cores:
        lines.append(
            f"  note: load average was {r.load_avg:.1f} on {r.cores} cores while measuring; the figures "
            "may be low (irscope hw --remeasure)"
        )
    return "\n".join(lines)


def _sources_text(chips: list[hw.Chip]) -> str:
    lines = []
    for c in chips:
        lines.append(f"{c.name} ({c.product}):")
        for key in c.source_keys():
            lines.append(f"  {key}: {c.sources[key]}")
        if c.notes:
            lines.append(f"  notes: {c.notes}")
    return "\n".join(lines)


def report(chips: list[hw.Chip], probe_result: probe.ProbeResult | None) -> dict[str, Any]:
    """The `irscope.hw-report/1` JSON document."""
    doc: dict[str, Any] = {"schema": SCHEMA, "chips": [c.to_json() for c in chips]}
    if probe_result is not None:
        doc["cpu_probe"] = probe_result.to_json()
    return doc


def run(args: argparse.Namespace) -> int:
    """Run `irscope hw` with parsed arguments; returns the exit status."""
    names = list(hw.list_chips())
    if args.chip is not None:
        try:
            names = [hw.canonical_name(args.chip)]
        except ValueError as e:
            return _err(e)

    probe_result = None
    chips = []
    for name in names:
        if name == "cpu":
            probe_result = probe.load_or_measure(force=args.remeasure, progress=progress)
            chips.append(probe.cpu_chip(probe_result))
        else:
            chips.append(hw.get_chip(name))

    to_stdout = args.json == "-"
    if args.json is not None:
        try:
            write_atomic(args.json, dumps(report(chips, probe_result), allow_nan=False) + "\n")
        except UserError as e:
            return _err(e)
    if not to_stdout:
        parts = [_table(chips)]
        if probe_result is not None:
            parts.append(_probe_text(probe_result, probe.cache_path()))
        if args.sources:
            parts.append(_sources_text(chips))
        print("\n\n".join(parts))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Standalone entry point: `python -m irscope.cli.hw [options]`."""
    parser = argparse.ArgumentParser(prog="irscope")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["hw", *(sys.argv[1:] if argv is None else argv)])
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
