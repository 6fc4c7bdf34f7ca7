"""The hardware table: peak FLOP/s per dtype, memory bandwidth and capacity of the chips irscope knows.

Every number carries its source (`Chip.sources`, field -> where it comes from). Peaks are *dense*
(no 2:4 structured sparsity): NVIDIA's datasheets print the tensor-core figures "with sparsity", and
this table halves them. The local CPU (`cpu`) is not in the table: its figures are measured once by
`irscope.measure.probe` and cached, and `get_chip("cpu")` builds a `Chip` from that measurement.

Where this module sits: below `passes` (the roofline and the diff read it), beside `ir`, importing
nothing above `ir`. Measuring is `measure`'s job, a layer up, so the table does not call the probe:
the package's `__init__` (the top layer) installs, with `set_cpu_source`, a function that reads or
runs `irscope.measure.probe` (imported only when `cpu` is asked for), and `get_chip("cpu")` calls it.

Two conventions matter when reading the numbers:

- `peak_flops["f32"]` is the plain (non-tensor-core) FP32 rate on GPUs; `"tf32"` is its own key.
  XLA:GPU runs an f32 dot at JAX's default precision on TF32 tensor cores, so a caller that knows a
  kernel is such a dot should ask for `"tf32"`; elementwise f32 work runs at the `"f32"` rate.
- A dtype without a published figure falls back along a fixed chain (`FALLBACKS`), for example f32 ->
  bf16 on a TPU, whose matrix units run an f32 dot at default precision as one bf16 pass.
  `peak_dtype_for` says which key was used, and `irscope.passes.roofline` records it.

Not handled yet: clock throttling (all figures are boost-clock peaks), per-unit ceilings (a GPU's
SFU or a TPU's vector unit), and memory tiers other than the main one.
Chip-to-chip (NVLink, ICI) bandwidth is its own table, `irscope.interconnect`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from irscope.errors import UnknownChipError
from irscope.ir.hlo import DTYPE_BYTES

GIB = 2**30


@dataclass(frozen=True)
class Chip:
    """One chip's roofline ceilings, each with its source."""

    name: str
    """Canonical lower-case key (`h100`, `tpu-v5e`, `cpu`); `get_chip` accepts it and its aliases."""
    vendor: str
    """Maker, as the datasheet names it (`NVIDIA`, `Google`, `AMD`, ...)."""
    peak_flops: Mapping[str, float]
    """Dense peak FLOP/s (OP/s for integers) per dtype key: HLO names (`f32`, `bf16`, `s8`, ...) plus `tf32`
    and `f8`. Only figures with a source; other dtypes fall back (see `FALLBACKS`)."""
    mem_bandwidth: float
    """Main-memory (HBM / DRAM) bandwidth, bytes/s."""
    mem_capacity: float
    """Main-memory capacity, bytes."""
    sources: Mapping[str, str]
    """Where each number comes from: `peak_flops.<dtype>`, `mem_bandwidth`, `mem_capacity` -> source."""
    notes: str = ""
    """Caveats: which unit a figure is for (tensor core or not), unit conventions, fallbacks."""
    product: str = ""
    """Full product name (`NVIDIA H100 SXM5 80GB`), for tables."""
    platform: str = "cpu"
    """`gpu`, `tpu` or `cpu`: decides which unit runs an f32 matmul (`peak_key`)."""
    clock_hz: float | None = None
    """TPU: the TensorCore clock that turns the compiler's `estimated_cycles` into seconds (source in
    `sources["clock_hz"]`); None where no figure can be sourced."""

    def __post_init__(self) -> None:
        # Freeze the mappings so a Chip is a value, and check the table's one invariant:
        # no number without a source.
        object.__setattr__(self, "peak_flops", MappingProxyType(dict(self.peak_flops)))
        object.__setattr__(self, "sources", MappingProxyType(dict(self.sources)))
        if not self.peak_flops:
            raise ValueError(f"chip {self.name!r} has no peak FLOP/s figure")
        if not any(k in self.peak_flops for k in _LAST_RESORT):
            raise ValueError(f"chip {self.name!r} needs an f32 or bf16 peak (the fallback of last resort)")
        for key, value in self.peak_flops.items():
            if not value > 0:
                raise ValueError(f"chip {self.name!r}: peak_flops[{key!r}] must be > 0, got {value!r}")
        for value, what in ((self.mem_bandwidth, "mem_bandwidth"), (self.mem_capacity, "mem_capacity")):
            if not value > 0:
                raise ValueError(f"chip {self.name!r}: {what} must be > 0, got {value!r}")
        if self.clock_hz is not None and not self.clock_hz > 0:
            raise ValueError(f"chip {self.name!r}: clock_hz must be > 0, got {self.clock_hz!r}")
        missing = [k for k in self.source_keys() if not self.sources.get(k)]
        if missing:
            raise ValueError(f"chip {self.name!r}: no source for {', '.join(missing)}")

    def __hash__(self) -> int:
        return hash(self.name)

    def source_keys(self) -> tuple[str, ...]:
        """The `sources` keys this chip's numbers need."""
        clock = ("clock_hz",) if self.clock_hz is not None else ()
        return (*(f"peak_flops.{k}" for k in self.peak_flops), "mem_bandwidth", "mem_capacity", *clock)

    def to_json(self) -> dict[str, object]:
        """Plain-JSON form (the `irscope hw --json` chip entry)."""
        return {
            "name": self.name,
            "product": self.product,
            "vendor": self.vendor,
            "peak_flops": dict(self.peak_flops),
            "mem_bandwidth": self.mem_bandwidth,
            "mem_capacity": self.mem_capacity,
            "platform": self.platform,
            "clock_hz": self.clock_hz,
            "ridge_point_f32": ridge_point(self, "f32"),
            "ridge_point_f32_uses": peak_dtype_for(self, "f32"),
            "sources": dict(self.sources),
            "notes": self.notes,
        }


# Fallback chains: for a dtype, the peak_flops keys to try, in order. Every chain ends in f32 then bf16
# (every chip has one of those, checked by Chip), so any known dtype gets a number; `peak_dtype_for`
# tells which one. Why each step:
# - 16-bit floats: bf16 and f16 run at the same rate on every chip here.
# - fp8: where there is no fp8 unit (A100, TPU v5e, CPU), XLA upcasts to a 16-bit type.
# - sub-byte and unsigned 8-bit integers: the int8 unit (conservative for int4, which some chips run at 2x).
# - complex: the rate of its real component type.
# - f32 with no f32 figure (TPU): XLA:TPU runs an f32 dot at default precision as one bf16 MXU pass;
#   Precision.HIGHEST takes several passes, so this is an upper bound.
# - other integers and pred: no chip publishes a rate; the f32 vector rate is the nearest published one.
_LAST_RESORT = ("f32", "bf16")
_F8 = tuple(d for d in DTYPE_BYTES if d.startswith(("f8", "f6", "f4")))
_INT8 = ("s8", "u8", "s4", "u4", "s2", "u2", "s1", "u1")
FALLBACKS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "f64": ("f64", *_LAST_RESORT),
    "c128": ("f64", *_LAST_RESORT),
    "c64": _LAST_RESORT,
    "tf32": ("tf32", *_LAST_RESORT),
    "bf16": ("bf16", "f16", "f32"),
    "f16": ("f16", "bf16", "f32"),
    "f8": ("f8", "bf16", "f16", "f32"),
    **{d: ("f8", "bf16", "f16", "f32") for d in _F8},
    **{d: ("s8", *_LAST_RESORT) for d in _INT8},
})


def peak_dtype_for(chip: Chip, dtype: str) -> str:
    """The `chip.peak_flops` key that `peak_flops_for(chip, dtype)` uses (`dtype` itself when published).

    Raises `ValueError` for a name that is neither an HLO element type nor `tf32`/`f8`.
    """
    if dtype in chip.peak_flops:
        return dtype
    if dtype not in DTYPE_BYTES and dtype not in FALLBACKS:
        raise ValueError(f"unknown dtype: {dtype!r}; expected an HLO element type such as f32, bf16, s8")
    for key in FALLBACKS.get(dtype, _LAST_RESORT):
        if key in chip.peak_flops:
            return key
    raise AssertionError(f"chip {chip.name!r} has neither f32 nor bf16")  # Chip.__post_init__ forbids it


def peak_flops_for(chip: Chip, dtype: str) -> float:
    """Peak FLOP/s of `chip` for HLO element type `dtype`, falling back as `FALLBACKS` documents."""
    return chip.peak_flops[peak_dtype_for(chip, dtype)]


Unit = str
"""`matrix` (a kernel holding a dot or convolution: tensor cores, the TPU's MXU) or `vector` (everything
else: CUDA cores, the TPU's vector unit)."""
UNITS = ("matrix", "vector")


def peak_key(chip: Chip, dtype: str, unit: Unit = "matrix") -> str:
    """The `chip.peak_flops` key for a kernel whose work is `dtype` on `unit` (`matrix` or `vector`).

    - GPU, matrix: an f32 dot runs on TF32 tensor cores at XLA:GPU's default precision (JAX's
      `Precision.DEFAULT`), so `f32` -> `tf32`; bf16/f16/fp8/int8 use their tensor-core keys.
    - GPU, vector: element-wise work and reductions run on the CUDA cores: the non-tensor `f32` rate for
      every floating type up to 32 bits (conservative for packed bf16/f16 arithmetic), `f64` for f64.
    - TPU, matrix: the MXU; an f32 dot at default precision is bf16 MXU work (`FALLBACKS`).
    - TPU, vector: Google publishes no vector-unit figure, so this falls back like a matrix kernel (the
      bf16 MXU peak: an upper bound, stated in the chip's notes).
    - CPU: the measured per-dtype figures, whatever the unit.

    Raises `ValueError` for an unknown unit or dtype.
    """
    if unit not in UNITS:
        raise ValueError(f"unknown unit: {unit!r}; expected one of {', '.join(UNITS)}")
    if chip.platform == "gpu":
        if unit == "matrix" and dtype == "f32" and "tf32" in chip.peak_flops:
            return "tf32"
        if unit == "vector":
            key = "f64" if dtype in ("f64", "c128") else "f32"
            peak_dtype_for(chip, dtype)  # still refuses an unknown dtype
            return key if key in chip.peak_flops else peak_dtype_for(chip, dtype)
    return peak_dtype_for(chip, dtype)


def ridge_point(chip: Chip, dtype: str = "f32") -> float:
    """FLOP per byte at which `chip` turns from memory- to compute-bound for `dtype`."""
    return peak_flops_for(chip, dtype) / chip.mem_bandwidth


# --- The table -------------------------------------------------------------------------------------

_H100_DS = "NVIDIA H100 Tensor Core GPU datasheet, H100 SXM column"
_H200_DS = "NVIDIA H200 Tensor Core GPU datasheet, H200 SXM column"
_A100_DS = "NVIDIA A100 Tensor Core GPU datasheet, A100 80GB SXM column"
_TPU_DOC = "Google Cloud TPU documentation, 'TPU v5e' page (cloud.google.com/tpu/docs/v5e), key chip specifications"
_HGX_B200 = "NVIDIA HGX B200 specifications (8-GPU board; nvidia.com/en-us/data-center/hgx)"
_TPU_V4 = "Google Cloud TPU documentation, 'TPU v4' page (cloud.google.com/tpu/docs/v4)"
_TPU_V5P = "Google Cloud TPU documentation, 'TPU v5p' page (cloud.google.com/tpu/docs/v5p)"
_TPU_V6E = "Google Cloud TPU documentation, 'TPU v6e' page (cloud.google.com/tpu/docs/v6e)"
_TPU_F32_NOTE = (
    "Google publishes no f32 or vector-unit figure: an f32 dot at default precision is bf16 MXU work, and "
    "element-wise kernels fall back to the bf16 MXU peak too (an upper bound; the vector unit is slower)."
)


def _mxu_clock(bf16_peak: float, *, mxus: int) -> float:
    """A TPU's clock from its bf16 peak: each 128x128 MXU does 128*128 multiply-adds (2 FLOP) a cycle."""
    return bf16_peak / (mxus * 128 * 128 * 2)


_HALVED = "; the datasheet's figure is with 2:4 sparsity, halved here for dense"
_GIB = " (vendor 'GB' of HBM read as GiB: HBM stacks are binary-sized, and the driver exposes about that many GiB)"

# Hopper: H100 SXM5 and H200 SXM have the same GH100 compute and clocks; only the memory differs.
# Literals, not products, so each figure is exactly the decimal number written (sparse / 2 for dense).
_HOPPER_FLOPS = {
    "f64": 34e12, "f32": 67e12, "tf32": 494.5e12, "bf16": 989.5e12, "f16": 989.5e12, "f8": 1979e12, "s8": 1979e12,
}


def _hopper_sources(sheet: str) -> dict[str, str]:
    return {
        "peak_flops.f64": f"{sheet}: FP64 34 TFLOPS (non-tensor-core)",
        "peak_flops.f32": f"{sheet}: FP32 67 TFLOPS (non-tensor-core)",
        "peak_flops.tf32": f"{sheet}: TF32 Tensor Core 989 TFLOPS{_HALVED}",
        "peak_flops.bf16": f"{sheet}: BFLOAT16 Tensor Core 1,979 TFLOPS{_HALVED}",
        "peak_flops.f16": f"{sheet}: FP16 Tensor Core 1,979 TFLOPS{_HALVED}",
        "peak_flops.f8": f"{sheet}: FP8 Tensor Core 3,958 TFLOPS{_HALVED}",
        "peak_flops.s8": f"{sheet}: INT8 Tensor Core 3,958 TOPS{_HALVED}",
    }


_HOPPER_NOTES = (
    "f32 is the non-tensor-core FP32 rate (67 TFLOP/s); 'tf32' is the TF32 tensor-core rate (494.5 dense), "
    "which is what XLA:GPU uses for an f32 dot at JAX's default precision. f64 is the non-tensor-core "
    "rate; the FP64 tensor cores reach 67 TFLOP/s on DGEMM-like work. All tensor-core figures are "
    "dense (datasheet sparse figures halved); the H100 architecture whitepaper lists the same dense "
    "peaks unrounded (494.7 / 989.4 / 1978.9). Boost-clock peaks at 700 W."
)

_CHIPS: dict[str, Chip] = {
    c.name: c for c in (
        Chip(
            name="h100",
            product="NVIDIA H100 SXM5 80GB",
            vendor="NVIDIA",
            peak_flops=_HOPPER_FLOPS,
            mem_bandwidth=3.35e12,
            mem_capacity=80 * GIB,
            sources={
                **_hopper_sources(_H100_DS),
                "mem_bandwidth": f"{_H100_DS}: GPU memory bandwidth 3.35TB/s (HBM3)",
                "mem_capacity": f"{_H100_DS}: GPU memory 80GB{_GIB}",
            },
            notes=_HOPPER_NOTES,
            platform="gpu",
        ),
        Chip(
            name="h200",
            product="NVIDIA H200 SXM 141GB",
            vendor="NVIDIA",
            peak_flops=_HOPPER_FLOPS,
            mem_bandwidth=4.8e12,
            mem_capacity=141 * GIB,
            sources={
                **_hopper_sources(_H200_DS),
                "mem_bandwidth": f"{_H200_DS}: GPU memory bandwidth 4.8TB/s (HBM3e)",
                "mem_capacity": f"{_H200_DS}: GPU memory 141GB{_GIB}",
            },
            notes="Same GH100 compute as the H100 SXM5; only memory differs. " + _HOPPER_NOTES,
            platform="gpu",
        ),
        Chip(
            name="a100",
            product="NVIDIA A100 SXM4 80GB",
            vendor="NVIDIA",
            peak_flops={
                "f64": 9.7e12, "f32": 19.5e12, "tf32": 156e12, "bf16": 312e12, "f16": 312e12, "s8": 624e12,
            },
            mem_bandwidth=2.039e12,
            mem_capacity=80 * GIB,
            sources={
                "peak_flops.f64": f"{_A100_DS}: FP64 9.7 TFLOPS (non-tensor-core)",
                "peak_flops.f32": f"{_A100_DS}: FP32 19.5 TFLOPS (non-tensor-core)",
                "peak_flops.tf32": f"{_A100_DS}: Tensor Float 32 (TF32) 156 TFLOPS (dense; 312 with sparsity)",
                "peak_flops.bf16": f"{_A100_DS}: BFLOAT16 Tensor Core 312 TFLOPS (dense; 624 with sparsity)",
                "peak_flops.f16": f"{_A100_DS}: FP16 Tensor Core 312 TFLOPS (dense; 624 with sparsity)",
                "peak_flops.s8": f"{_A100_DS}: INT8 Tensor Core 624 TOPS (dense; 1,248 with sparsity)",
                "mem_bandwidth": f"{_A100_DS}: GPU memory bandwidth 2,039GB/s (HBM2e)",
                "mem_capacity": f"{_A100_DS}: GPU memory 80GB HBM2e{_GIB}",
            },
            notes=(
                "f32 is the non-tensor-core FP32 rate (19.5 TFLOP/s); 'tf32' is the TF32 tensor-core rate "
                "(156 dense), which XLA:GPU uses for an f32 dot at JAX's default precision. f64 is the "
                "non-tensor-core rate; FP64 tensor cores reach 19.5 TFLOP/s. No FP8 units: f8 types fall "
                "back to bf16. Dense figures (the datasheet prints dense and sparse side by side)."
            ),
            platform="gpu",
        ),
        Chip(
            name="tpu-v5e",
            product="Google Cloud TPU v5e (per chip)",
            vendor="Google",
            peak_flops={"bf16": 197e12, "s8": 393e12},
            mem_bandwidth=819e9,
            mem_capacity=16 * GIB,
            sources={
                "peak_flops.bf16": f"{_TPU_DOC}: peak compute per chip (bf16) 197 TFLOPs",
                "peak_flops.s8": (
                    f"{_TPU_DOC}: peak compute per chip (Int8) 393 TOPs (JAX's "
                    "pallas/mosaic/tpu_info.py has 3.94e14, i.e. 2 x bf16)"
                ),
                "mem_bandwidth": f"{_TPU_DOC}: HBM2 capacity and bandwidth '16 GB, 819 GBps'",
                "clock_hz": f"derived: 197 TFLOP/s / (4 MXUs x 128x128 MACs x 2 FLOP) ({_TPU_DOC})",
                "mem_capacity": (
                    f"{_TPU_DOC}: HBM2 16 GB; JAX's pallas/mosaic/tpu_info.py gives 17.2e9 bytes, i.e. 16 GiB"
                ),
            },
            notes=(
                "One TensorCore per chip (4 MXUs, a vector unit, a scalar unit). Google publishes no f32 "
                "figure: XLA:TPU runs an f32 dot at default precision as one bf16 MXU pass, so f32 falls "
                "back to the bf16 peak (an upper bound: Precision.HIGH/HIGHEST take several passes, and "
                "elementwise f32 runs on the much slower vector unit). A later revision of Google's page "
                "prints the bandwidth as '800 GiBps'; 819 GB/s is the figure JAX's tpu_info also uses (8.2e11)."
            ),
            platform="tpu",
            clock_hz=_mxu_clock(197e12, mxus=4),
        ),
        Chip(
            name="b200",
            product="NVIDIA B200 (HGX B200, per GPU)",
            vendor="NVIDIA",
            peak_flops={
                "f64": 37e12, "f32": 75e12, "tf32": 1.125e15, "bf16": 2.25e15, "f16": 2.25e15, "f8": 4.5e15,
                "s8": 4.5e15,
            },
            mem_bandwidth=8e12,
            mem_capacity=191514411008,
            sources={
                "peak_flops.f64": f"{_HGX_B200}: FP64 296 TFLOPS / 8 (37 per GPU, non-tensor-core)",
                "peak_flops.f32": (f"{_HGX_B200}: FP32 600 TFLOPS / 8; XLA's b200.txtpb agrees: 148 SMs x 128 "
                                   "FP32 units x 2 FLOP x 1.965 GHz = 74.4 TFLOP/s"),
                "peak_flops.tf32": f"{_HGX_B200}: TF32 Tensor Core 18 PFLOPS / 8{_HALVED}",
                "peak_flops.bf16": f"{_HGX_B200}: FP16/BF16 Tensor Core 36 PFLOPS / 8{_HALVED}",
                "peak_flops.f16": f"{_HGX_B200}: FP16/BF16 Tensor Core 36 PFLOPS / 8{_HALVED}",
                "peak_flops.f8": f"{_HGX_B200}: FP8/FP6 Tensor Core 72 PFLOPS / 8{_HALVED}",
                "peak_flops.s8": f"{_HGX_B200}: INT8 Tensor Core 72 POPS / 8{_HALVED}",
                "mem_bandwidth": f"{_HGX_B200}: 64 TB/s of HBM3e bandwidth / 8 (XLA's b200.txtpb: 7.67e12 B/s)",
                "mem_capacity": "XLA's target config b200.txtpb (irscope/data/gpu_specs): device_memory_size",
            },
            notes=(
                "Per-GPU figures are the 8-GPU HGX B200 board's divided by 8. f32 is the CUDA-core rate; "
                "'tf32' is the TF32 tensor-core rate XLA:GPU uses for an f32 dot at default precision. "
                "FP4 (2x FP8) is not in the table: XLA has no fp4 dot here. Dense figures (sparse halved)."
            ),
            platform="gpu",
        ),
        Chip(
            name="tpu-v4",
            product="Google Cloud TPU v4 (per chip, 2 TensorCores)",
            vendor="Google",
            peak_flops={"bf16": 275e12, "s8": 275e12},
            mem_bandwidth=1200e9,
            mem_capacity=32 * GIB,
            sources={
                "peak_flops.bf16": f"{_TPU_V4}: peak compute per chip (bf16) 275 TFLOPs",
                "peak_flops.s8": f"{_TPU_V4}: peak compute per chip (int8) 275 TOPs",
                "mem_bandwidth": f"{_TPU_V4}: HBM2 bandwidth per chip 1200 GBps",
                "mem_capacity": f"{_TPU_V4}: HBM2 capacity per chip 32 GiB",
                "clock_hz": f"derived: 275 TFLOP/s / (2 TensorCores x 4 MXUs x 128x128 MACs x 2 FLOP) ({_TPU_V4})",
            },
            notes="Two TensorCores per chip, which XLA:TPU sees as two devices (megacore). " + _TPU_F32_NOTE,
            platform="tpu",
            clock_hz=_mxu_clock(275e12, mxus=8),
        ),
        Chip(
            name="tpu-v5p",
            product="Google Cloud TPU v5p (per chip, 2 TensorCores)",
            vendor="Google",
            peak_flops={"bf16": 459e12, "s8": 918e12},
            mem_bandwidth=2765e9,
            mem_capacity=95e9,
            sources={
                "peak_flops.bf16": f"{_TPU_V5P}: peak compute per chip (bf16) 459 TFLOPs",
                "peak_flops.s8": f"{_TPU_V5P}: peak compute per chip (Int8) 918 TOPs",
                "mem_bandwidth": f"{_TPU_V5P}: HBM2e bandwidth per chip 2765 GBps",
                "mem_capacity": f"{_TPU_V5P}: HBM2e capacity per chip 95 GB",
                "clock_hz": f"derived: 459 TFLOP/s / (2 TensorCores x 4 MXUs x 128x128 MACs x 2 FLOP) ({_TPU_V5P})",
            },
            notes=_TPU_F32_NOTE,
            platform="tpu",
            clock_hz=_mxu_clock(459e12, mxus=8),
        ),
        Chip(
            name="tpu-v6e",
            product="Google Cloud TPU v6e Trillium (per chip)",
            vendor="Google",
            peak_flops={"bf16": 918e12, "s8": 1836e12},
            mem_bandwidth=1638e9,
            mem_capacity=32e9,
            sources={
                "peak_flops.bf16": f"{_TPU_V6E}: peak compute per chip (bf16) 918 TFLOPs",
                "peak_flops.s8": f"{_TPU_V6E}: peak compute per chip (Int8) 1836 TOPs",
                "mem_bandwidth": f"{_TPU_V6E}: HBM bandwidth per chip 1638 GBps",
                "mem_capacity": f"{_TPU_V6E}: HBM capacity per chip 32 GB",
            },
            notes=("One TensorCore with two 256x256 MXUs. No clock is published and the MXU arithmetic does "
                   "not give a plausible one, so the compiler's estimated_cycles are not converted. "
                   + _TPU_F32_NOTE),
            platform="tpu",
        ),
    )
}

# Table order (`list_chips`, `irscope hw`): GPUs by generation, then TPUs by generation.
_CHIPS = {n: _CHIPS[n] for n in ("a100", "h100", "h200", "b200", "tpu-v4", "tpu-v5e", "tpu-v5p", "tpu-v6e")}

ALIASES: Mapping[str, str] = MappingProxyType({
    "h100-sxm": "h100", "h100-sxm5": "h100", "h100sxm": "h100", "nvidia-h100": "h100",
    "h200-sxm": "h200", "nvidia-h200": "h200",
    "a100-sxm": "a100", "a100-sxm4": "a100", "a100-80gb": "a100", "nvidia-a100": "a100",
    "b200-sxm": "b200", "nvidia-b200": "b200",
    "v4": "tpu-v4", "tpuv4": "tpu-v4", "v5p": "tpu-v5p", "tpuv5p": "tpu-v5p", "v6e": "tpu-v6e", "trillium": "tpu-v6e",
    "v5e": "tpu-v5e", "tpuv5e": "tpu-v5e", "tpu_v5e": "tpu-v5e", "v5litepod": "tpu-v5e", "tpu-v5-lite": "tpu-v5e",
    "local": "cpu", "host": "cpu",
})


def list_chips() -> tuple[str, ...]:
    """Canonical names of every known chip, `cpu` last. Cheap: does not run the CPU probe."""
    return (*_CHIPS, "cpu")


def get_chip(name: str, *, progress: Callable[[str], None] | None = None) -> Chip:
    """The chip called `name` (case-insensitive; aliases such as `h100-sxm` and `v5e` work).

    `cpu` is this machine, built from the cached probe result; if there is none, the probe runs
    (a few seconds), reporting through `progress`. Unknown names raise `ValueError` listing the known ones.
    """
    key = canonical_name(name)
    if key == "cpu":
        if _cpu_source is None:
            raise ValueError("the local CPU's figures are measured: no source installed (`import irscope` "
                             "installs irscope.measure.probe's; see set_cpu_source)")
        return _cpu_source(progress)
    return _CHIPS[key]


# Builds the `cpu` Chip (from the probe's cache, or by running the probe); set by irscope/__init__.py.
_cpu_source: Callable[[Callable[[str], None] | None], Chip] | None = None


def set_cpu_source(source: Callable[[Callable[[str], None] | None], Chip]) -> None:
    """Install the function `get_chip("cpu")` calls (with its `progress`) to get this machine's Chip."""
    global _cpu_source
    _cpu_source = source


def canonical_name(name: str) -> str:
    """The canonical name for `name` or one of its aliases (case-insensitive); `ValueError` if unknown.

    Cheap: never runs the CPU probe.
    """
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    if key not in list_chips():
        raise UnknownChipError(f"unknown chip: {name!r}; known: {', '.join(list_chips())}")
    return key
