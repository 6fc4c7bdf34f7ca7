"""The Pallas-vs-XLA-vs-eager comparison as text: the table `irscope kernels` prints.

One row per kernel and size: numerical error against the plain-jnp reference, bytes moved (Pallas from
its BlockSpecs, XLA from its cost analysis, unfused), median times, achieved GB/s and the fraction of
the chip's roofline each implementation reaches.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from irscope.render.table import human_bytes, human_time
from irscope.util.text import align_row, column_widths

if TYPE_CHECKING:
    from irscope.kernels.harness import KernelComparison


def comparison_text(comparison: KernelComparison, *, xla_kernels: bool = False) -> str:
    """`KernelComparison.to_text()`: the table, with each reference's XLA kernels if `xla_kernels`."""
    return format_report(list(comparison.results), device=comparison.device, backend=comparison.backend,
                         chip=comparison.chip, xla_kernels=xla_kernels)


def _bytes(n: float) -> str:
    """A size in the unit that keeps the number at 1 or more: '8.0 KiB', not '0.0 MiB'."""
    return human_bytes(n)


def _time(s: float) -> str:
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
    widths = column_widths(rows)
    right = set(range(len(header))) - {0, 1, 2, 5}

    def line(row: tuple[str, ...]) -> str:
        return align_row(row, widths, right)

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
