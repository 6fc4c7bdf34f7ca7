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
- ICI on TPU v5e: 400 GB/s bidirectional per chip over 4 ports in a 2D torus, 200 GB/s per direction
  per chip summed over its ports. A ring laid along one torus axis uses two of the four ports, so a
  one-axis collective sees about half of that; the table keeps the per-chip total and says so.

Not handled yet: link latency (every prediction is bandwidth-only, so small messages are
under-predicted), NVSwitch SHARP in-network reduction (which halves an all-reduce's traffic),
multi-node fabrics (InfiniBand, DCN), PCIe-only systems, and the TPU's per-axis torus bandwidth.
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

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "fabric": self.fabric, "bandwidth_bidirectional": self.bandwidth_bidirectional,
                "bandwidth_per_direction": self.bandwidth_per_direction, "sources": dict(self.sources),
                "notes": self.notes}


_H100_DS = ("NVIDIA H100 Tensor Core GPU datasheet, H100 SXM column: Interconnect NVIDIA NVLink 900GB/s "
            "(fourth-generation NVLink, 18 links; bidirectional per GPU)")
_H200_DS = ("NVIDIA H200 Tensor Core GPU datasheet, H200 SXM column: Interconnect NVIDIA NVLink 900GB/s "
            "(bidirectional per GPU, the same NVLink 4 as the H100)")
_A100_DS = ("NVIDIA A100 Tensor Core GPU datasheet (nvidia-a100-datasheet-us-nvidia-1758950-r4-web.pdf), "
            "A100 80GB SXM column: Interconnect NVLink 600GB/s (third-generation NVLink, 12 links)")
_TPU_DOC = ("Google Cloud TPU documentation, 'TPU v5e' page (cloud.google.com/tpu/docs/v5e): "
            "Bidirectional inter-chip interconnect (ICI) bandwidth (per chip) 400 GBps; ICI ports per chip 4; "
            "2D torus")
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
             "Per chip over all 4 ports; a ring along one torus axis uses 2 of them (about half)."),
    )
}
LINKS: Mapping[str, Link] = MappingProxyType(_LINKS)
"""Every system, by name."""


def get_link(name: str) -> Link:
    """The interconnect of `name` (`h100`, `h200`, `a100`, `tpu-v5e`; case-insensitive)."""
    key = name.strip().lower().replace("_", "-")
    if key == "v5e":
        key = "tpu-v5e"
    if key not in _LINKS:
        raise ValueError(f"unknown interconnect {name!r} (known: {', '.join(_LINKS)})")
    return _LINKS[key]
