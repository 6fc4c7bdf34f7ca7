"""The interconnect table: chip-to-chip bandwidth of the systems irscope predicts collectives for.

One `Link` per system, each number with its source, like `irscope.hw`'s chip table. The figure a
collective's time is computed from is `bandwidth_per_direction`: the bytes per second one device can
send (and, at the same time, receive) over the scale-up fabric. Vendors print the *bidirectional*
total (NVIDIA's "900 GB/s NVLink", Google's "bidirectional ICI bandwidth per chip"); this table
halves it, because a ring step sends one buffer and receives another at the same time, each at the
one-direction rate.

- NVLink on H100 SXM5 and H200 SXM: fourth-generation NVLink, 18 links of 50 GB/s (25 + 25), 900 GB/s
  bidirectional per GPU, through NVSwitch in an HGX/DGX 8-GPU node, so every GPU reaches every other
  at the full rate: 450 GB/s per direction.
- NVLink on A100 SXM4: third-generation NVLink, 12 links, 600 GB/s bidirectional, 300 GB/s per
  direction.
- ICI on TPU v5e and v6e: 400 and 800 GB/s bidirectional per chip over 4 ports, 2D torus; TPU v5p:
  1,200 GB/s over 6 ports, 3D torus. The table keeps the per-chip total and the port count;
  `irscope.passes.collectives` turns them into the rate of a ring over one or several torus axes
  (`Link.axis_bandwidth`).

Not handled yet: link latency (every prediction is bandwidth-only, so small messages are
under-predicted), NVSwitch SHARP in-network reduction (which halves an all-reduce's traffic),
multi-node fabrics (InfiniBand, DCN), PCIe-only systems, and TPU v4 (no sourced ICI figure here yet).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True)
class Link:
    """The scale-up interconnect of one system, per device."""

    name: str
    """Key (`h100`, `h200`, `a100`, `tpu-v5e`): the same names as `irscope.hw`'s chips."""
    fabric: str
    """What it is (`NVLink 4 via NVSwitch`, `ICI, 2D torus`)."""
    bandwidth_bidirectional: float
    """The vendor's figure: bytes/s in and out of one device together."""
    sources: Mapping[str, str]
    """`bandwidth_bidirectional` -> where the number comes from."""
    notes: str = ""
    """Topology caveats."""
    torus_dims: int = 0
    """Dimensions of the torus the chips form (2 for v5e/v6e, 3 for v5p); 0 for a switched fabric
    (NVSwitch), where every pair of devices talks at the full per-device rate."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "sources", MappingProxyType(dict(self.sources)))
        if not self.bandwidth_bidirectional > 0:
            raise ValueError(f"link {self.name!r}: bandwidth must be > 0, got {self.bandwidth_bidirectional!r}")
        if not self.sources.get("bandwidth_bidirectional"):
            raise ValueError(f"link {self.name!r} has no source for its bandwidth")

    @property
    def bandwidth_per_direction(self) -> float:
        """Bytes/s one device sends (and, concurrently, receives): half the bidirectional figure."""
        return self.bandwidth_bidirectional / 2

    @property
    def ports(self) -> int:
        """ICI ports per chip on a torus: two per dimension (one neighbour each way); 0 when switched."""
        return 2 * self.torus_dims

    def axis_bandwidth(self, axes: int) -> float:
        """Bytes/s per direction for a ring over `axes` torus dimensions at once: each dimension lends
        its two ports, each port carrying bandwidth_bidirectional / ports both ways together. All
        dimensions together give `bandwidth_per_direction`. A switched fabric ignores `axes`."""
        if not self.torus_dims:
            return self.bandwidth_per_direction
        axes = min(max(axes, 1), self.torus_dims)
        return axes * self.bandwidth_bidirectional / self.ports

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "fabric": self.fabric, "bandwidth_bidirectional": self.bandwidth_bidirectional,
                "bandwidth_per_direction": self.bandwidth_per_direction, "sources": dict(self.sources),
                "notes": self.notes, "torus_dims": self.torus_dims}


_H100_DS = ("NVIDIA H100 Tensor Core GPU datasheet, H100 SXM column: Interconnect NVIDIA NVLink 900GB/s "
            "(fourth-generation NVLink, 18 links; bidirectional per GPU)")
_H200_DS = ("NVIDIA H200 Tensor Core GPU datasheet, H200 SXM column: Interconnect NVIDIA NVLink 900GB/s "
            "(bidirectional per GPU, the same NVLink 4 as the H100)")
_A100_DS = ("NVIDIA A100 Tensor Core GPU datasheet (nvidia-a100-datasheet-us-nvidia-1758950-r4-web.pdf), "
            "A100 80GB SXM column: Interconnect NVLink 600GB/s (third-generation NVLink, 12 links)")
_TPU_DOC = ("Google Cloud TPU documentation, 'TPU v5e' page (cloud.google.com/tpu/docs/v5e): "
            "Bidirectional inter-chip interconnect (ICI) bandwidth (per chip) 400 GBps; ICI ports per chip 4; "
            "2D torus")
_V6E_DOC = ("Google Cloud TPU documentation, 'TPU v6e' page (cloud.google.com/tpu/docs/v6e): "
            "Bidirectional inter-chip interconnect (ICI) bandwidth (per chip) 800 GBps; ICI ports per chip 4; "
            "2D torus")
_V5P_DOC = ("Google Cloud TPU documentation, 'TPU v5p' page (cloud.google.com/tpu/docs/v5p): "
            "Bidirectional inter-chip interconnect (ICI) bandwidth per chip 1200 GBps; 3D torus")
_NVSWITCH = "8 GPUs of an HGX/DGX node through NVSwitch: every pair at the full per-GPU rate."

_LINKS: dict[str, Link] = {
    link.name: link for link in (
        Link("h100", "NVLink 4 via NVSwitch (HGX H100 8-GPU)", 900e9, {"bandwidth_bidirectional": _H100_DS},
             _NVSWITCH),
        Link("h200", "NVLink 4 via NVSwitch (HGX H200 8-GPU)", 900e9, {"bandwidth_bidirectional": _H200_DS},
             _NVSWITCH),
        Link("a100", "NVLink 3 via NVSwitch (HGX A100 8-GPU)", 600e9, {"bandwidth_bidirectional": _A100_DS},
             _NVSWITCH),
        Link("tpu-v5e", "ICI, 2D torus", 400e9, {"bandwidth_bidirectional": _TPU_DOC},
             "Per chip over all 4 ports; a ring along one torus axis uses 2 of them (half).", torus_dims=2),
        Link("tpu-v6e", "ICI, 2D torus", 800e9, {"bandwidth_bidirectional": _V6E_DOC},
             "Per chip over all 4 ports; a ring along one torus axis uses 2 of them (half).", torus_dims=2),
        Link("tpu-v5p", "ICI, 3D torus", 1200e9, {"bandwidth_bidirectional": _V5P_DOC},
             "Per chip over all 6 ports; a ring along one torus axis uses 2 of them (a third).", torus_dims=3),
    )
}
LINKS: Mapping[str, Link] = MappingProxyType(_LINKS)
"""Every system, by name."""


def get_link(name: str) -> Link:
    """The interconnect of `name` (`h100`, `h200`, `a100`, `tpu-v5e`, `tpu-v5p`, `tpu-v6e`;
    case-insensitive; `v5e` for `tpu-v5e`)."""
    key = name.strip().lower().replace("_", "-")
    if key in ("v5e", "v5p", "v6e"):
        key = f"tpu-{key}"
    if key not in _LINKS:
        raise ValueError(f"unknown interconnect {name!r} (known: {', '.join(_LINKS)})")
    return _LINKS[key]
