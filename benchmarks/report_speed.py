"""Benchmark: where the time of an HLO report goes once the module is parsed.

    python benchmarks/report_speed.py [--layers 48] [--repeats 3]
    python benchmarks/report_speed.py --layers 48 --repeats 3 --baseline ../main   (yours vs a checkout)

On the cached toy-GPT module of `parse_speed.py` (the same file, built the same way), in one
process: irscope's parse for scale, then each pass on the already parsed module -- fusion groups
(`find_kernels`), the verifier (`verify`, which `irscope hlo FILE` runs first), the cost pass
(`module_cost`), the whole `analyze` (both, plus roofline rows), the JSON (`report_json` and the text `hlo --json` writes),
the memory model (`analyze_memory`, what `--memory` adds), and the report right after a fresh parse
(as the CLI runs it: verify, analyze, JSON) -- as medians over --repeats runs of wall-clock and CPU
time. The last lines give what `--memory` adds to the report (issue 13: at most 30%) and the
report's CPU time with and without the parse.

With `--baseline DIR` it times the same steps in child processes instead, alternating one run
with `PYTHONPATH=DIR` (another checkout of irscope, e.g. main's) and one with this checkout, --repeats
rounds, and prints the median CPU seconds of both per step and their ratio (this/baseline): on a
shared machine, CPU time of alternated runs is the fair comparison.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from parse_speed import module_text, timings

HERE = Path(__file__).resolve().parent
FRESH = "verify + analyze + JSON, fresh parse"
JSON = "report_json + JSON text (as the CLI writes it)"


def measure(layers: int, repeats: int) -> tuple[int, dict[str, tuple[float, float]]]:
    """(instructions, step -> median (wall, CPU) seconds) for the irscope on `sys.path`."""
    from irscope.hw import get_chip
    from irscope.ir.hlo_parser import parse_module
    from irscope.ir.verify import verify
    from irscope.passes.cost import module_cost
    from irscope.passes.fusion import find_kernels
    from irscope.passes.memory import analyze_memory
    from irscope.passes.report import analyze

    try:
        from irscope.util.jsonio import dumps
    except ImportError:  # a --baseline checkout from before irscope.util.jsonio: what its CLI wrote
        def dumps(doc):
            return json.dumps(doc, indent=1)
    from irscope.cli.hlo import report_json

    text = module_text(layers)
    module = parse_module(text)
    chip = get_chip("h100")
    report = analyze(module, chip)
    steps = {
        "parse_module (for scale)": lambda: parse_module(text),
        "verify": lambda: verify(module, text),
        "find_kernels": lambda: find_kernels(module),
        "module_cost": lambda: module_cost(module),
        "analyze (kernels+cost+roofline)": lambda: analyze(module, chip),
        JSON: lambda: dumps(report_json(report)),
        "analyze_memory (--memory)": lambda: json.dumps(analyze_memory(module).to_json()),
    }
    rows = timings(steps, repeats)
    fresh_wall, fresh_cpu = [], []  # the CLI's case: the passes right after the parse, on a module never walked
    for _ in range(repeats):
        gc.collect()
        parsed = parse_module(text)
        start, start_cpu = time.perf_counter(), time.process_time()
        dumps(report_json(analyze(verify(parsed, text), chip)))
        fresh_wall.append(time.perf_counter() - start)
        fresh_cpu.append(time.process_time() - start_cpu)
        del parsed
    rows[FRESH] = (statistics.median(fresh_wall), statistics.median(fresh_cpu))
    return module.instruction_count, rows


def compare(args: argparse.Namespace) -> None:
    """Alternate child runs of this script (one repeat each) under the baseline's and this checkout's
    PYTHONPATH; print median CPU seconds per step and the ratio."""
    checkouts = {"baseline": str(Path(args.baseline).resolve()), "this": str(HERE.parent)}
    cpu: dict[str, dict[str, list[float]]] = {k: {} for k in checkouts}
    n = 0
    for _ in range(args.repeats):
        for key, path in checkouts.items():
            env = {**os.environ, "PYTHONPATH": path}
            out = subprocess.run([sys.executable, __file__, "--layers", str(args.layers), "--repeats", "1",
                                  "--child"], env=env, check=True, capture_output=True, text=True).stdout
            doc = json.loads(out)
            n = doc["instructions"]
            for step, (_, seconds) in doc["rows"].items():
                cpu[key].setdefault(step, []).append(seconds)
    print(f"module: {args.layers}-layer toy GPT training step, optimized: {n:,} instructions")
    print(f"baseline: {checkouts['baseline']}; this: {checkouts['this']}; CPU seconds, medians of "
          f"{args.repeats} alternated child runs")
    print(f"{'step':<40}{'baseline':>10}{'this':>10}{'ratio':>8}")
    for step in cpu["this"]:
        base, this = statistics.median(cpu["baseline"][step]), statistics.median(cpu["this"][step])
        print(f"{step:<40}{base:>10.3f}{this:>10.3f}{this / base:>8.2f}")
    parse = [statistics.median(cpu[k]["parse_module (for scale)"]) + statistics.median(cpu[k][FRESH])
             for k in checkouts]
    print(f"{'report (parse + verify + passes + JSON)':<40}{parse[0]:>10.3f}{parse[1]:>10.3f}"
          f"{parse[1] / parse[0]:>8.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=12)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--baseline", metavar="DIR", help="another irscope checkout to compare with, run alternately")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)  # compare()'s runs: JSON out
    args = parser.parse_args()
    if args.baseline:
        compare(args)
        return
    n, rows = measure(args.layers, args.repeats)
    if args.child:
        print(json.dumps({"instructions": n, "rows": rows}))
        return
    print(f"module: {args.layers}-layer toy GPT training step, optimized: {n:,} instructions")
    print(f"{'step':<40}{'median s':>10}{'cpu s':>10}{'instr/s':>14}")
    for label, (wall, cpu) in rows.items():
        print(f"{label:<40}{wall:>10.3f}{cpu:>10.3f}{n / wall:>14,.0f}")
    cpu = {label: c for label, (_, c) in rows.items()}  # CPU time: steadier than wall-clock on a shared machine
    report = cpu["analyze (kernels+cost+roofline)"] + cpu[JSON]
    memory = cpu["analyze_memory (--memory)"]
    print(f"--memory adds {memory / report:.0%} to analyze + JSON, {memory / (report + cpu['verify']):.0%} to "
          f"verify + analyze + JSON (CPU {memory:.3f} s on {report:.3f} s; issue 13's target: at most 30%)")
    print(f"CPU s: analyze + JSON {report:.3f}, verify + analyze + JSON {cpu[FRESH]:.3f} on a fresh parse, "
          f"with the parse {cpu[FRESH] + cpu['parse_module (for scale)']:.3f} ({n:,} instructions)")


if __name__ == "__main__":
    main()
