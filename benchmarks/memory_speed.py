"""Benchmark: what `--memory` adds to the HLO report's time on the same large module.

    python benchmarks/memory_speed.py [--layers 48] [--repeats 3]

Reads the optimized toy GPT training step of `parse_speed.py` (cached under benchmarks/.cache/;
compiled once if missing), parses it once, then times in one process, alternating:

  - the report (the baseline): fusion groups + cost + roofline + the JSON document;
  - the report with `--memory`: the same, plus `irscope.passes.memory.analyze_memory` and its JSON;

and prints the medians and, as its last line, `memory/report time ratio: R` (target: R <= 0.30, the
issue's "at most 30% more").
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=48)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    from parse_speed import module_text

    from irscope.hw import get_chip
    from irscope.ir.hlo_parser import parse_module
    from irscope.passes.memory import analyze_memory
    from irscope.passes.report import analyze

    module = parse_module(module_text(args.layers), f"toy_gpt_{args.layers}l")
    chip = get_chip("h100")

    def report() -> object:
        r = analyze(module, chip)
        json.dumps(r.to_json())
        return r

    def report_with_memory() -> object:
        r = replace(analyze(module, chip), memory=analyze_memory(module))
        json.dumps(r.to_json())
        return r

    times: dict[str, list[float]] = {"report": [], "report --memory": []}
    for _ in range(args.repeats):
        for name, fn in (("report", report), ("report --memory", report_with_memory)):
            gc.collect()
            start = time.perf_counter()
            result = fn()
            times[name].append(time.perf_counter() - start)
    base, with_memory = (statistics.median(times[k]) for k in times)
    memory = result.memory  # type: ignore[attr-defined]
    print(f"module: {args.layers} layers, {module.instruction_count:,} instructions, "
          f"{len(memory.schedule):,} in the flattened schedule")
    print(f"peak {memory.peak_bytes:,} B at {memory.peak_index} ({memory.peak_instruction}), "
          f"arguments {memory.argument_bytes:,} B, outputs {memory.output_bytes:,} B")
    print(f"{'':<18}{'median s':>10}  runs")
    for name, values in times.items():
        print(f"{name:<18}{statistics.median(values):>10.2f}  " + " ".join(f"{v:.2f}" for v in values))
    print(f"memory/report time ratio: {(with_memory - base) / base:.3f}")


if __name__ == "__main__":
    main()
