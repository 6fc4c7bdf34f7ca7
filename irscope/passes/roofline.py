"""Roofline placement: where a kernel's FLOPs and bytes put it against one chip's ceilings.

Pure arithmetic over numbers, no IO: the caller brings the kernel's cost (from `irscope.passes` cost
analysis, XLA's conventions) and a `Chip` (from `irscope.hw.get_chip`, which is where any probing
happens). For a kernel doing F FLOPs and moving B bytes on a chip with peak P FLOP/s and bandwidth W:

    intensity      I = F / B                  (FLOP per byte)
    ridge point    R = P / W                  (the intensity at which the two roofs meet)
    time at peak   T = max(F / P, B / W)      (a lower bound: perfect overlap, both units at peak)
    bound          "memory" if B * P > F * W (I < R), "compute" otherwise, "n/a" if F = B = 0

The bound compares products rather than quotients: in exact arithmetic that is the same as `I < R` and
as `B / W > F / P`, but it cannot be fooled by a quotient that underflows to 0 or overflows to inf.
`time_at_peak_s` is the larger time, which is the bound's own (up to an ulp of rounding at the ridge).

Not handled yet: per-level rooflines (L2, shared memory), launch overhead, and mixing dtypes within
one kernel (the caller picks the dtype whose peak applies, usually the dot's input type).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from irscope.hw import Chip, peak_dtype_for

Bound = Literal["memory", "compute", "n/a"]


@dataclass(frozen=True)
class RooflinePoint:
    """One kernel placed on one chip's roofline."""

    flops: float
    """FLOPs the kernel does (XLA's count: a multiply-add is 2)."""
    bytes: float
    """Bytes it moves to and from main memory."""
    intensity: float
    """FLOP per byte: `inf` when bytes is 0 and flops is not, `nan` when both are 0."""
    bound: Bound
    """`memory` or `compute`: which roof limits it; `n/a` for a kernel that does no work."""
    time_at_peak_s: float
    """max(compute_time_s, memory_time_s): the fastest it could run on this chip."""
    compute_time_s: float
    """flops / peak_flops."""
    memory_time_s: float
    """bytes / mem_bandwidth."""
    ridge_point: float
    """peak_flops / mem_bandwidth, FLOP per byte."""
    peak_flops: float
    """The compute roof used, FLOP/s."""
    mem_bandwidth: float
    """The memory roof used, bytes/s."""
    chip: str
    """Chip name (`h100`, `cpu`, ...)."""
    dtype: str
    """The dtype asked for."""
    peak_dtype: str
    """The chip's `peak_flops` key actually used (differs from `dtype` after a fallback)."""

    @property
    def fraction_of_peak_flops(self) -> float:
        """Share of the compute roof reached when running at `time_at_peak_s` (1.0 when compute-bound)."""
        return self.compute_time_s / self.time_at_peak_s if self.time_at_peak_s > 0 else 0.0

    def to_json(self) -> dict[str, object]:
        """Plain-JSON form; a non-finite intensity (`inf`, `nan`) is written as null."""
        return {
            "flops": self.flops,
            "bytes": self.bytes,
            "intensity": self.intensity if math.isfinite(self.intensity) else None,
            "bound": self.bound,
            "time_at_peak_s": self.time_at_peak_s,
            "compute_time_s": self.compute_time_s,
            "memory_time_s": self.memory_time_s,
            "ridge_point": self.ridge_point,
            "peak_flops": self.peak_flops,
            "mem_bandwidth": self.mem_bandwidth,
            "chip": self.chip,
            "dtype": self.dtype,
            "peak_dtype": self.peak_dtype,
        }


def _check(value: float, what: str) -> float:
    value = float(value)
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{what} must be a finite number >= 0, got {value!r}")
    return value


def place(flops: float, bytes_accessed: float, chip: Chip, dtype: str = "f32") -> RooflinePoint:
    """Place a kernel of `flops` FLOPs and `bytes_accessed` bytes on `chip`'s roofline for `dtype`.

    Arguments:
        flops: FLOPs (or integer ops) the kernel does, >= 0.
        bytes_accessed: bytes it reads and writes in main memory, >= 0.
        chip: the chip, e.g. `irscope.hw.get_chip("h100")`.
        dtype: HLO element type whose peak applies (`f32`, `bf16`, `s8`, ... or `tf32`); a dtype the chip
            publishes no figure for falls back as `irscope.hw.FALLBACKS` says.

    Example:
        >>> from irscope.hw import get_chip
        >>> p = place(2 * 4096**3, 3 * 4096**2 * 2, get_chip("h100"), "bf16")
        >>> p.bound, round(p.intensity)
        ('compute', 1365)
    """
    flops = _check(flops, "flops")
    nbytes = _check(bytes_accessed, "bytes_accessed")
    peak_dtype = peak_dtype_for(chip, dtype)
    peak = chip.peak_flops[peak_dtype]
    bandwidth = chip.mem_bandwidth
    compute_time = flops / peak
    memory_time = nbytes / bandwidth
    if nbytes > 0:
        intensity = flops / nbytes
    else:
        intensity = math.inf if flops > 0 else math.nan
    bound: Bound
    if flops == 0 and nbytes == 0:
        bound = "n/a"
    elif nbytes * peak > flops * bandwidth:
        bound = "memory"
    else:
        bound = "compute"
    return RooflinePoint(
        flops=flops,
        bytes=nbytes,
        intensity=intensity,
        bound=bound,
        time_at_peak_s=max(compute_time, memory_time),
        compute_time_s=compute_time,
        memory_time_s=memory_time,
        ridge_point=peak / bandwidth,
        peak_flops=peak,
        mem_bandwidth=bandwidth,
        chip=chip.name,
        dtype=dtype,
        peak_dtype=peak_dtype,
    )
