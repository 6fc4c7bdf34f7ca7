"""What the tables say in words: units, plurals and ratios read the way a person would write them."""

from __future__ import annotations

import dataclasses
import re

import pytest

import irscope
from irscope.cli.kernels import format_report
from irscope.kernels.harness import Result
from irscope.render.table import human_bytes, measured_lines, plural, report_table

ONE_KERNEL = "HloModule m\nENTRY e {\n  p = f32[2048] parameter(0)\n  ROOT a = f32[2048] add(p, p)\n}\n"


@pytest.mark.parametrize(("n", "text"), [(0, "0 B"), (1000, "1000 B"), (1024, "1.0 KiB"), (8192, "8.0 KiB"),
                                          (1536, "1.5 KiB"), (3 * 2**20, "3.0 MiB"), (5 * 2**30, "5.0 GiB")])
def test_human_bytes_picks_the_unit_that_keeps_the_number_at_least_1(n: int, text: str) -> None:
    assert human_bytes(n) == text


def test_plural() -> None:
    assert [plural(n, "kernel") for n in (0, 1, 2, 1200)] == ["0 kernels", "1 kernel", "2 kernels", "1,200 kernels"]
    assert plural(1, "entry", "entries") == "1 entry" and plural(3, "entry", "entries") == "3 entries"


def test_one_kernel_is_singular() -> None:
    report = irscope.inspect_hlo(ONE_KERNEL, hw="h100")
    assert len(report.rows) == 1
    text = report_table(report)
    assert "1 kernel)" in text.splitlines()[0]
    assert "67.0 TFLOP/s" in text.splitlines()[0]
    for line in (text + "\n" + repr(report)).splitlines():
        assert not re.search(r"(?<![\d,.])1 (kernels|instructions)\b", line), line


def _measured(report, speedup: float):
    return dataclasses.replace(report, measured={
        "jit": {"median_s": 1e-3, "repeats": 5, "spread": 0.1},
        "eager": {"median_s": speedup * 1e-3, "repeats": 5, "spread": 0.1},
        "speedup": speedup, "seed": 0, "backend": "cpu",
        "achieved_bytes_per_s": 2.5e9, "fraction_of_bandwidth": 0.1,
        "achieved_flops_per_s": 144.1e9, "fraction_of_peak_flops": 0.5, "fraction_of_roofline": 0.2,
        "trace": None,
    })


@pytest.mark.parametrize(("speedup", "words"), [(2.5, "JIT 2.50× faster than eager"),
                                                 (1.0, "JIT 1.00× faster than eager"),
                                                 (0.81, "JIT 1.23× slower than eager")])
def test_speedup_below_1_says_slower(speedup: float, words: str) -> None:
    report = _measured(irscope.inspect_hlo(ONE_KERNEL, hw="h100"), speedup)
    lines = measured_lines(report)
    assert words in lines[0]
    assert "faster" not in lines[0] or speedup >= 1
    assert "144.1 GFLOP/s" in lines[1]  # a space before the unit


def test_kernels_table_sizes_in_a_readable_unit() -> None:
    result = Result(kernel="gelu", shape=(32, 64), dtype="float32", max_abs_error=0.0, tolerance=1e-6,
                    bytes_pallas=8192, bytes_pallas_no_reuse=8192, bytes_xla=8192.0, bytes_eager=40960.0,
                    flops=1e4, time_pallas_s=2e-5, time_xla_s=1e-5, time_eager_s=1e-4, interpret=True,
                    chip="h100", roofline={}, xla_kernels=(("fusion", "kLoop", 8192.0),))
    text = format_report([result], device="cpu", backend="cpu", chip=irscope.get_chip("h100"), xla_kernels=True)
    assert "0.0 MiB" not in text and "0.0" not in text.split("bytes: pallas")[0].splitlines()[-1]
    assert "8.0 KiB" in text and "40.0 KiB" in text
    assert "(8.0 KiB; Pallas: 8.0 KiB)" in text


def test_sort_by_time_uses_measured_times_when_there_are_some() -> None:
    from irscope.render.table import sort_rows

    text = ("HloModule m\nENTRY e {\n  p = f32[4096] parameter(0)\n  a = f32[4096] negate(p)\n"
            "  b = f32[4096] multiply(a, a)\n  ROOT c = f32[4096] subtract(b, p)\n}\n")
    report = irscope.inspect_hlo(text, hw="h100")
    names = [r.name for r in report.rows]
    assert names == ["a", "b", "c"]
    static = [r.name for _, r in sort_rows(report, "time")]
    assert static == ["b", "c", "a"]  # a reads one operand, b and c two (a tie keeps execution order)
    measured = dataclasses.replace(report, rows=(
        dataclasses.replace(report.rows[0], measured_s=1e-6), report.rows[1],
        dataclasses.replace(report.rows[2], measured_s=5e-7)))
    assert [r.name for _, r in sort_rows(measured, "time")] == ["a", "c", "b"]  # b has no time: last
