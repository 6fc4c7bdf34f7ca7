"""Benchmark: irscope's HLO parser against XLA's own (C++) parser on the same large module.

    python benchmarks/parse_speed.py [--layers 12] [--repeats 5]

Builds the optimized HLO of a toy GPT training step unrolled over --layers layers (12 layers is
about 30,000 instructions; the text is cached under benchmarks/.cache/ because XLA takes a while to
compile it), then, in one process and on the same text:

  - XLA's parser: jaxlib's `hlo_module_from_text` (the baseline);
  - irscope's parser: `irscope.ir.hlo_parser.parse_module`;
  - irscope's full report: parse + fusion groups + cost + roofline + JSON.

It prints medians over --repeats runs, throughput, memory per instruction (the parsed module's
retained size, measured with tracemalloc), and as its last line the ratio the targets are stated
in: `irscope/xla parse time ratio: R` (target R <= 2).
"""

from __future__ import annotations

import argparse
import gc
import json
import pathlib
import statistics
import sys
import time
import tracemalloc

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def module_text(layers: int) -> str:
    cache = HERE / ".cache" / f"toy_gpt_{layers}l_optimized.hlo"
    if cache.exists():
        return cache.read_text()
    import toy_gpt

    print(f"compiling a {layers}-layer toy GPT training step with XLA (once; cached in {cache}) ...",
          file=sys.stderr, flush=True)
    text = toy_gpt.train_step_hlo(layers)
    cache.parent.mkdir(exist_ok=True)
    cache.write_text(text)
    return text


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=12)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    from jax._src.lib import xla_client as xc

    from irscope.hw import get_chip
    from irscope.ir.hlo_parser import parse_module
    from irscope.passes.report import analyze

    text = module_text(args.layers)
    module = parse_module(text)
    n = module.instruction_count
    chip = get_chip("h100")

    t_xla = median_time(lambda: xc.hlo.hlo_module_from_text(text), args.repeats)
    t_ours = median_time(lambda: parse_module(text), args.repeats)
    t_report = median_time(lambda: json.dumps(analyze(parse_module(text), chip).to_json()), max(1, args.repeats // 2))

    del module
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    module = parse_module(text)
    retained, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    retained -= base
    peak -= base

    print(f"module: {args.layers}-layer toy GPT training step, optimized: {n:,} instructions, "
          f"{len(module.computations):,} computations, {len(text) / 1e6:.1f} MB of text")
    print(f"{'parser':<28}{'median s':>10}{'instr/s':>14}")
    print(f"{'xla (hlo_module_from_text)':<28}{t_xla:>10.3f}{n / t_xla:>14,.0f}")
    print(f"{'irscope parse_module':<28}{t_ours:>10.3f}{n / t_ours:>14,.0f}")
    print(f"{'irscope full report + JSON':<28}{t_report:>10.3f}{n / t_report:>14,.0f}")
    print(f"memory: {retained / n:,.0f} B/instruction retained, {peak / n:,.0f} B/instruction at peak "
          f"(target < 2,048 retained)")
    print(f"irscope/xla parse time ratio: {t_ours / t_xla:.2f}")


if __name__ == "__main__":
    main()
