"""The target compiler's own time estimates, beside irscope's time at peak.

XLA:TPU writes, in each fusion's backend_config, the cycles its cost model expects the kernel to take
(`"estimated_cycles"`), and its `cost_analysis()` gives the module's `optimal_seconds`. irscope shows
both beside t@peak (JSON `compiler_estimate_s`, per kernel and in the totals, provenance `xla`): two
independent lower-bound models of the same kernel, so a large gap is worth a look. Cycles become seconds
at the target chip's clock (`irscope.hw.Chip.clock_hz`, sourced); a chip without one gets None.
XLA:GPU gives no estimate in a deviceless compile (no cost analysis, no cycles), so GPU targets show none.

Only reports that carry a target (`extra["target"]`, set by `--target` or `inspect_jax(target=...)`) get
these keys.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from irscope import hw

if TYPE_CHECKING:
    from irscope.passes.report import HloReport, KernelRow


def target_clock(extra: Mapping[str, Any]) -> float | None:
    """The clock of the report's target chip (`extra["target"]`), Hz; None when unknown or unsourced."""
    name = str(extra.get("target", "")).partition(":")[0]
    if name not in hw.list_chips() or name == "cpu":
        return None
    return hw.get_chip(name).clock_hz


def kernel_estimate_s(report: HloReport, row: KernelRow) -> float | None:
    """XLA:TPU's `estimated_cycles` for one kernel over the target's clock, in seconds; None when absent."""
    clock = target_clock(report.extra)
    config = row.kernel.instruction.attrs.get("backend_config")
    if clock is None or not config or "estimated_cycles" not in config:
        return None
    try:
        cycles = _find_key(json.loads(config), "estimated_cycles")
        return float(cycles) / clock if cycles is not None else None
    except (ValueError, TypeError):
        return None


def module_estimate_s(report: HloReport) -> float | None:
    """The compiler's estimate for the whole module (XLA:TPU's `optimal_seconds`); None when it gives none."""
    value = (report.xla_cost or {}).get("optimal_seconds")
    return float(value) if value is not None and value > 0 else None


def with_target(report: HloReport, doc: dict[str, Any]) -> dict[str, Any]:
    """A report's JSON with the target keys: `target`, `autotuned`, and `compiler_estimate_s` (each kernel
    and the totals). Unchanged for a report without a target."""
    extra = report.extra
    if "target" not in extra:
        return doc
    doc["target"] = extra["target"]
    doc["autotuned"] = extra.get("autotuned")
    for kernel, row in zip(doc["kernels"], report.rows, strict=True):
        kernel["compiler_estimate_s"] = kernel_estimate_s(report, row)
    doc["totals"]["compiler_estimate_s"] = module_estimate_s(report)
    doc["provenance"]["compiler_estimate_s"] = "xla"
    return doc


def _find_key(value: Any, key: str) -> Any:
    """The first value of `key` anywhere in a JSON value (depth first), or None."""
    if isinstance(value, dict):
        if key in value:
            return value[key]
        items: Any = value.values()
    elif isinstance(value, list):
        items = value
    else:
        return None
    for item in items:
        found = _find_key(item, key)
        if found is not None:
            return found
    return None
