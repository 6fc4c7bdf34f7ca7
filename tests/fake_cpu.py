"""A fixed `cpu` chip for tests that need one without running the probe (which takes seconds)."""

from __future__ import annotations

from irscope.measure import probe


def fake_probe_result() -> probe.ProbeResult:
    """A plausible 2-core probe result; no test may depend on its numbers matching this machine."""
    config = probe.ProbeConfig(array_bytes=probe.MIB, bw_repeats=1, xla_repeats=1, matmul_n=64, matmul_n_f64=0,
                               matmul_repeats=1, chunk_bytes=64 * 1024, threads=2)
    return probe.ProbeResult(
        cpu_model="Fake CPU", vendor="AMD", cores=2, threads=2, jax_version="0.0", numpy_version="0.0",
        measured_at="2025-01-02T03:04:05+00:00", mem_total=8 * 2**30, load_avg=0.1,
        copy_bw=10e9, triad_bw=8e9, triad_bw_xla=4e9, matmul_flops_f32=100e9, matmul_flops_f64=None,
        config=config, elapsed_s=0.5,
        samples={"copy_bw": (10e9,), "triad_bw": (8e9,), "triad_bw_xla": (4e9,), "matmul_flops_f32": (100e9,)},
    )
