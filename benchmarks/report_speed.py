"""Benchmark: where the time of an HLO report goes once the module is parsed.

    python benchmarks/report_speed.py [--layers 48] [--repeats 3]

On the cached toy-GPT module of `parse_speed.py` (the same file, built the same way), in one
process: irscope's parse for scale, then each pass on the already parsed module -- fusion groups
(`find_kernels`), the verifier (`verify`, which `irscope hlo FILE` runs first), the cost pass (`module_cost`), the whole `analyze` (both, plus roofline rows),
and the JSON (`to_json` + `json.dumps`), and both right after a fresh parse (as the CLI runs them) -- as
medians over --repeats runs, and as its last line the report's time without the parse.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import time

from parse_speed import module_text, timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=12)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from irscope.hw import get_chip
    from irscope.ir.hlo_parser import parse_module
    from irscope.ir.verify import verify
    from irscope.passes.cost import module_cost
    from irscope.passes.fusion import find_kernels
    from irscope.passes.report import analyze

    text = module_text(args.layers)
    module = parse_module(text)
    chip = get_chip("h100")
    report = analyze(module, chip)
    n = module.instruction_count
    steps = {
        "parse_module (for scale)": lambda: parse_module(text),
        "verify": lambda: verify(module, text),
        "find_kernels": lambda: find_kernels(module),
        "module_cost": lambda: module_cost(module),
        "analyze (kernels+cost+roofline)": lambda: analyze(module, chip),
        "to_json + json.dumps": lambda: json.dumps(report.to_json()),
    }
    rows = [(label, wall) for label, (wall, _) in timings(steps, args.repeats).items()]
    fresh = []  # the CLI's case: analyze + JSON right after the parse, on a module never walked
    for _ in range(args.repeats):
        gc.collect()
        parsed = parse_module(text)
        start = time.perf_counter()
        json.dumps(analyze(parsed, chip).to_json())
        fresh.append(time.perf_counter() - start)
        del parsed
    rows.append(("analyze + JSON, freshly parsed", statistics.median(fresh)))
    print(f"module: {args.layers}-layer toy GPT training step, optimized: {n:,} instructions")
    print(f"{'step':<34}{'median s':>10}{'instr/s':>14}")
    for label, seconds in rows:
        print(f"{label:<34}{seconds:>10.3f}{n / seconds:>14,.0f}")
    seconds = dict(rows)
    print(f"analyze + JSON: {seconds['analyze (kernels+cost+roofline)'] + seconds['to_json + json.dumps']:.3f} s, "
          f"{seconds['analyze + JSON, freshly parsed']:.3f} s on a fresh parse ({n:,} instructions)")


if __name__ == "__main__":
    main()
