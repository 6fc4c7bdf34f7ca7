"""Regenerate the XLA:CPU dumps in this folder: `python tests/data/memory/generate.py [NAME ...]`.

Each program is compiled by jax's XLA:CPU in a child process with `XLA_FLAGS=--xla_dump_to=DIR`
(the flag must be set before jax starts, hence the child). Of each dump this keeps the four files
irscope's memory analysis is tested against:

- `<name>.hlo`: the optimized, scheduled module (`*cpu_after_optimizations.txt`);
- `<name>-buffer-assignment.txt`: XLA's buffer assignment (allocations, their values, temp size);
- `<name>-live-range.txt`: XLA's HloLiveRange (the flattened schedule, each value's live range, the
  peak moment and the values live there);
- `<name>-memory-usage-report.txt`: the allocations by size;

and `<name>.json`: `Compiled.memory_analysis()` of the same compile. The sharded program runs with
8 host devices (`--xla_force_host_platform_device_count=8`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
KEEP = {
    "cpu_after_optimizations.txt": ".hlo",
    "cpu_after_optimizations-buffer-assignment.txt": "-buffer-assignment.txt",
    "cpu_after_optimizations-live-range.txt": "-live-range.txt",
    "cpu_after_optimizations-memory-usage-report.txt": "-memory-usage-report.txt",
}

CHILD = r'''
import json, sys
import jax, jax.numpy as jnp
from jax import lax

name = sys.argv[1]


def mlp(x, w1, w2):
    return jnp.tanh(x @ w1) @ w2


def fori(x, w):
    return lax.fori_loop(0, 6, lambda i, c: jnp.tanh(c @ w) + i, x)


def cond(p, x, w):
    return lax.cond(p > 0, lambda: jnp.sin(x @ w), lambda: jnp.cos(x) * 2.0)


def scatter(x, idx, upd):
    return x.at[idx].add(upd)


def dus_loop(buf, rows):
    def body(i, b):
        return lax.dynamic_update_slice(b, jnp.tanh(rows[i])[None], (i, 0))
    return lax.fori_loop(0, rows.shape[0], body, buf)


def donate(state, g):
    return state - 0.1 * g, jnp.sum(g * g)


def _block(x, w1, w2):
    h = jnp.tanh(x @ w1)
    return x + h @ w2


def _loss(params, x, remat):
    block = jax.checkpoint(_block) if remat else _block
    for w1, w2 in params:
        x = block(x, w1, w2)
    return jnp.mean(x * x)


def train(params, x, remat=False):
    loss, grads = jax.value_and_grad(_loss)(params, x, remat)
    return loss, jax.tree.map(lambda p, g: p - 0.01 * g, params, grads)


def pallas_add(x, y):
    from jax.experimental import pallas as pl

    def kernel(x_ref, y_ref, o_ref):
        o_ref[...] = x_ref[...] + y_ref[...] * 2.0

    return pl.pallas_call(kernel, out_shape=jax.ShapeDtypeStruct(x.shape, x.dtype), grid=(4,),
                          in_specs=[pl.BlockSpec((16, 128), lambda i: (i, 0))] * 2,
                          out_specs=pl.BlockSpec((16, 128), lambda i: (i, 0)), interpret=True)(x, y)


def scan_layers(ws, x):
    def layer(h, w):
        h = jnp.tanh(h @ w)
        return h, h.sum()
    return lax.scan(layer, x, ws)


def nested(x):
    inner = lambda j, c: jnp.sin(c) + j
    return lax.fori_loop(0, 3, lambda i, c: lax.fori_loop(0, 4, inner, c * 0.5), x)


def multi_out(x):
    return x.sum(axis=0), x.max(axis=0), jnp.exp(x)


def sort_topk(x):
    return jnp.sort(x, axis=-1), lax.top_k(x, 4)[0]


def sharded(x, w):
    return jnp.tanh(x @ w).sum(axis=0)


f32 = jnp.float32
z = lambda *s: jnp.zeros(s, f32)
layers = [(z(64, 256), z(256, 64)) for _ in range(3)]
if name == "mlp":
    c = jax.jit(mlp).lower(z(128, 256), z(256, 512), z(512, 64)).compile()
elif name == "fori":
    c = jax.jit(fori).lower(z(64, 128), z(128, 128)).compile()
elif name == "cond":
    c = jax.jit(cond).lower(jnp.int32(1), z(64, 128), z(128, 128)).compile()
elif name == "scatter":
    c = jax.jit(scatter).lower(z(1024, 64), jnp.zeros((32,), jnp.int32), z(32, 64)).compile()
elif name == "dus_loop":
    c = jax.jit(dus_loop).lower(z(16, 256), z(16, 256)).compile()
elif name == "donate":
    c = jax.jit(donate, donate_argnums=0).lower(z(256, 256), z(256, 256)).compile()
elif name in ("train", "train_remat"):
    c = jax.jit(lambda p, x: train(p, x, name == "train_remat")).lower(layers, z(512, 64)).compile()
elif name == "pallas":
    c = jax.jit(pallas_add).lower(z(64, 128), z(64, 128)).compile()
elif name == "scan_layers":
    c = jax.jit(scan_layers).lower(z(4, 128, 128), z(64, 128)).compile()
elif name == "nested":
    c = jax.jit(nested).lower(z(256, 64)).compile()
elif name == "multi_out":
    c = jax.jit(multi_out).lower(z(512, 128)).compile()
elif name == "sort_topk":
    c = jax.jit(sort_topk).lower(z(64, 256)).compile()
elif name == "sharded":
    from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
    mesh = Mesh(jax.devices()[:8], ("d",))
    xs = jax.ShapeDtypeStruct((256, 128), f32, sharding=NamedSharding(mesh, P("d", None)))
    ws = jax.ShapeDtypeStruct((128, 64), f32, sharding=NamedSharding(mesh, P(None, None)))
    c = jax.jit(sharded).lower(xs, ws).compile()
m = c.memory_analysis()
print(json.dumps({"argument_bytes": m.argument_size_in_bytes, "output_bytes": m.output_size_in_bytes,
                  "alias_bytes": m.alias_size_in_bytes, "temp_bytes": m.temp_size_in_bytes,
                  "module": c.as_text().split(",", 1)[0].split()[1]}))
'''

PROGRAMS = ("mlp", "fori", "cond", "scatter", "dus_loop", "donate", "train", "train_remat", "pallas", "sharded",
            "scan_layers", "nested", "multi_out", "sort_topk")


def generate(name: str) -> None:
    with tempfile.TemporaryDirectory(prefix="irscope-memdump-") as tmp:
        flags = f"--xla_dump_to={tmp}"
        if name == "sharded":
            flags += " --xla_force_host_platform_device_count=8"
        env = {**os.environ, "XLA_FLAGS": flags, "JAX_PLATFORMS": "cpu"}
        out = subprocess.run([sys.executable, "-c", CHILD, name], env=env, check=True, capture_output=True,
                             text=True).stdout
        stats = json.loads(out.strip().splitlines()[-1])
        module = stats.pop("module")
        found = 0
        for path in sorted(Path(tmp).glob(f"module_*.{module}.*")):
            for suffix, ours in KEEP.items():
                if path.name.endswith("." + suffix):
                    shutil.copyfile(path, HERE / f"{name}{ours}")
                    found += 1
        if found != len(KEEP):
            raise SystemExit(f"{name}: found {found} of the {len(KEEP)} dump files of {module}")
        import jax

        stats["versions"] = {"jax": jax.__version__}
        (HERE / f"{name}.json").write_text(json.dumps({"program": name, "memory_analysis": stats}, indent=1) + "\n")
        print(f"{name}: {module}, {stats}")


if __name__ == "__main__":
    for program in sys.argv[1:] or PROGRAMS:
        generate(program)
