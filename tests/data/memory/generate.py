"""Regenerate the XLA dumps in this folder: `python tests/data/memory/generate.py [--target T] [NAME ...]`.

Each program is compiled in a child process with `XLA_FLAGS=--xla_dump_to=DIR --xla_dump_hlo_as_text`
(the flag must be set before jax starts, hence the child): by jax's XLA:CPU (the default, files in this
folder), or with `--target h100` / `--target tpu-v5e` by that chip's own XLA without the device
(`irscope.frontends.targets.compile_for_target`; files in the subfolder `h100/` or `tpu-v5e/`, and only the
programs in `TARGET_PROGRAMS`). Of each dump this keeps the four files irscope's memory analysis is
tested against (XLA:CPU, XLA:GPU and XLA:TPU all write them, named `..._after_optimizations*.txt`):

- `<name>.hlo`: the optimized, scheduled module (`*cpu_after_optimizations.txt`);
- `<name>-buffer-assignment.txt`: XLA's buffer assignment (allocations, their values, temp size);
- `<name>-live-range.txt`: XLA's HloLiveRange (the flattened schedule, each value's live range, the
  peak moment and the values live there);
- `<name>-memory-usage-report.txt`: the allocations by size;

and `<name>.json`: `Compiled.memory_analysis()` of the same compile. The sharded program runs with
8 host devices (`--xla_force_host_platform_device_count=8`) on the CPU, on `h100:4` and `tpu-v5e:2x2`
for the targets. On the targets the Pallas kernel is compiled for the chip (Triton on the GPU, Mosaic on
the TPU), not interpreted.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
# XLA's dump file of the optimized module (and its three memory reports) -> the name kept here.
# XLA:CPU writes `...cpu_after_optimizations.txt`, XLA:GPU `...sm_9.0a_gpu_after_optimizations.txt`,
# XLA:TPU `...cl_NNN.after_optimizations.txt`.
KEEP = {
    "": ".hlo",
    "-buffer-assignment": "-buffer-assignment.txt",
    "-live-range": "-live-range.txt",
    "-memory-usage-report": "-memory-usage-report.txt",
}
_DUMP_FILE = re.compile(r"[._]after_optimizations(-buffer-assignment|-live-range|-memory-usage-report)?\.txt$")
# What the deviceless targets compile (the CPU does all of PROGRAMS).
TARGET_PROGRAMS = ("mlp", "fori", "cond", "scatter", "donate", "train", "train_remat", "pallas", "sharded")
SHARDED_ON = {"cpu": "cpu", "h100": "h100:4", "tpu-v5e": "tpu-v5e:2x2"}

CHILD = r'''
import json, sys
import jax, jax.numpy as jnp
from jax import lax

name, target = sys.argv[1], sys.argv[2]


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
                          out_specs=pl.BlockSpec((16, 128), lambda i: (i, 0)),
                          interpret=target == "cpu")(x, y)


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
z = lambda *s: jax.ShapeDtypeStruct(s, f32)
layers = [(z(64, 256), z(256, 64)) for _ in range(3)]
programs = {
    "mlp": (mlp, (z(128, 256), z(256, 512), z(512, 64))),
    "fori": (fori, (z(64, 128), z(128, 128))),
    "cond": (cond, (jax.ShapeDtypeStruct((), jnp.int32), z(64, 128), z(128, 128))),
    "scatter": (scatter, (z(1024, 64), jax.ShapeDtypeStruct((32,), jnp.int32), z(32, 64))),
    "dus_loop": (dus_loop, (z(16, 256), z(16, 256))),
    "donate": (jax.jit(donate, donate_argnums=0), (z(256, 256), z(256, 256))),
    "train": (lambda p, x: train(p, x, False), (layers, z(512, 64))),
    "train_remat": (lambda p, x: train(p, x, True), (layers, z(512, 64))),
    "pallas": (pallas_add, (z(64, 128), z(64, 128))),
    "scan_layers": (scan_layers, (z(4, 128, 128), z(64, 128))),
    "nested": (nested, (z(256, 64),)),
    "multi_out": (multi_out, (z(512, 128),)),
    "sort_topk": (sort_topk, (z(64, 256),)),
    "sharded": (sharded, (z(256, 128), z(128, 64))),
}
fn, args = programs[name]
if target == "cpu":
    if name == "sharded":
        from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
        mesh = Mesh(jax.devices()[:8], ("d",))
        args = (jax.ShapeDtypeStruct((256, 128), f32, sharding=NamedSharding(mesh, P("d", None))),
                jax.ShapeDtypeStruct((128, 64), f32, sharding=NamedSharding(mesh, P(None, None))))
    c = (fn if hasattr(fn, "lower") else jax.jit(fn)).lower(*args).compile()
    m = c.memory_analysis()
    stats = {"argument_bytes": m.argument_size_in_bytes, "output_bytes": m.output_size_in_bytes,
             "alias_bytes": m.alias_size_in_bytes, "temp_bytes": m.temp_size_in_bytes}
    text = c.as_text()
else:
    from irscope.frontends.targets import compile_for_target
    mesh = None
    if name == "sharded":
        from jax.sharding import PartitionSpec as P
        args = (jax.ShapeDtypeStruct((256, 128), f32, sharding=P("d", None)), z(128, 64))
        mesh = {"d": 4}
    c = compile_for_target(fn, args, target, mesh=mesh)
    stats = {k: v for k, v in c.memory_analysis.to_json().items() if k != "generated_code_bytes"}
    text = c.hlo_text
print(json.dumps({**stats, "module": text.split(",", 1)[0].split()[1]}))
'''

PROGRAMS = ("mlp", "fori", "cond", "scatter", "dus_loop", "donate", "train", "train_remat", "pallas", "sharded",
            "scan_layers", "nested", "multi_out", "sort_topk")


def generate(name: str, target: str = "cpu") -> None:
    out_dir = HERE if target == "cpu" else HERE / target
    out_dir.mkdir(exist_ok=True)
    compile_for = SHARDED_ON[target] if name == "sharded" else target
    with tempfile.TemporaryDirectory(prefix="irscope-memdump-") as tmp:
        flags = f"--xla_dump_to={tmp} --xla_dump_hlo_as_text"
        if name == "sharded" and target == "cpu":
            flags += " --xla_force_host_platform_device_count=8"
        env = {**os.environ, "XLA_FLAGS": flags, "PYTHONPATH": str(HERE.parents[2])}
        if target == "cpu":
            env["JAX_PLATFORMS"] = "cpu"
        out = subprocess.run([sys.executable, "-c", CHILD, name, compile_for], env=env, check=True,
                             capture_output=True, text=True).stdout
        stats = json.loads(out.strip().splitlines()[-1])
        module = stats.pop("module")
        found: dict[str, Path] = {}
        for path in sorted(Path(tmp).glob(f"module_*.{module}.*")):
            m = _DUMP_FILE.search(path.name)
            if m is not None:
                found[m.group(1) or ""] = path
        if set(found) != set(KEEP):
            raise SystemExit(f"{name} ({target}): found {sorted(found)} of the dump files of {module}")
        for suffix, path in found.items():
            shutil.copyfile(path, out_dir / f"{name}{KEEP[suffix]}")
        import jax

        stats["versions"] = {"jax": jax.__version__}
        stats["target"] = compile_for
        (out_dir / f"{name}.json").write_text(json.dumps({"program": name, "memory_analysis": stats}, indent=1)
                                              + "\n")
        print(f"{name} ({compile_for}): {module}, {stats}")


if __name__ == "__main__":
    argv = sys.argv[1:]
    chosen = "cpu"
    if argv[:1] == ["--target"]:
        chosen, argv = argv[1], argv[2:]
    if chosen not in SHARDED_ON:
        raise SystemExit(f"--target {chosen}: expected one of {', '.join(SHARDED_ON)}")
    for program in argv or (PROGRAMS if chosen == "cpu" else TARGET_PROGRAMS):
        generate(program, chosen)
