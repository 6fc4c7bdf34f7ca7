"""Benchmark: what compiling a StableHLO module in a child process costs (`compile_mlir(isolate=...)`).

    python benchmarks/isolated_compile.py [FILE.mlir] [--repeats 5]

XLA aborts the process on some malformed modules, so `irscope.frontends.stablehlo.compile_mlir`
compiles in a child: a fork while no XLA client runs in this process (what the CLI does), else a
fresh interpreter. This times, on one small module (default: a two-layer MLP lowered by JAX here):

  - in process, warm       (`isolate=False`, XLA client already up: the baseline)
  - forked child           (`isolate=True` in a process that has not started XLA; each fork starts it)
  - fresh interpreter      (`isolate=True` after XLA started here: imports JAX in the child)

Each row runs in its own process, in order, so that one's state (an XLA client) does not leak into
the next; it prints medians over --repeats runs and each row's ratio to the baseline.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_CHILD = """
import json, sys, time
sys.path.insert(0, {root!r})
from irscope.frontends import stablehlo
module = stablehlo.read_mlir({path!r})
mode, repeats = {mode!r}, {repeats}
if mode != "fork":
    import jax
    jax.devices()  # an XLA client runs here from now on: forking is no longer safe
times = []
for _ in range(repeats):
    start = time.perf_counter()
    stablehlo.compile_mlir(module, isolate=mode != "warm")
    times.append(time.perf_counter() - start)
print(json.dumps(times))
"""


def small_module(directory: Path) -> Path:
    import jax
    import jax.numpy as jnp

    def mlp(x, w1, w2):
        return jnp.tanh(x @ w1) @ w2

    spec = [jax.ShapeDtypeStruct(s, jnp.float32) for s in ((8, 64), (64, 64), (64, 8))]
    path = directory / "mlp.mlir"
    path.write_text(jax.jit(mlp).lower(*spec).as_text())
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("file", nargs="?", help="a .mlir file (default: a small MLP lowered here)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.file) if args.file else small_module(Path(tmp))
        size = path.stat().st_size
        rows = {}
        for mode, label in (("warm", "in process, warm (baseline)"), ("fork", "forked child"),
                            ("spawn", "fresh interpreter")):
            code = _CHILD.format(root=str(ROOT), path=str(path), mode=mode, repeats=args.repeats)
            done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
            times = json.loads(done.stdout.strip().splitlines()[-1])
            # The first warm compile also starts the XLA client; the medians leave it out.
            rows[label] = statistics.median(times[1:] if mode == "warm" and len(times) > 1 else times)
    base = rows["in process, warm (baseline)"]
    print(f"compile of {path.name} ({size:,} B), median of {args.repeats}")
    print(f"{'path':30}  {'seconds':>8}  {'x baseline':>10}")
    for label, seconds in rows.items():
        print(f"{label:30}  {seconds:8.3f}  {seconds / base:10.1f}")


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    print(f"(benchmark took {time.perf_counter() - start:.0f} s)", file=sys.stderr)
