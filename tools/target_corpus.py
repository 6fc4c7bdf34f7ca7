"""Compile a few real programs for H100 and TPU v5e without either chip, and keep what the compilers made.

    python tools/target_corpus.py            # (re)writes tests/data/targets/ (needs the gpu and tpu extras)
    python tools/target_corpus.py --table    # compares irscope's costs with the compilers' (corpus only)

For each program x target it writes `<program>.<target>.hlo` (the optimized module, as the target's compiler
printed it) and `<program>.<target>.json` (the compiler's cost_analysis: flops, bytes accessed,
transcendentals, optimal_seconds where present; its memory_analysis; the versions that made it). Parsing and
costing tests read these files, so they run without the extras; `tests/test_targets.py` also compiles the
same `PROGRAMS` live when the extras are installed.

`--table` prints, per module, irscope's FLOPs and bytes accessed (`irscope.passes.cost.module_cost`, XLA:CPU's
conventions, and XLA:TPU's for tiled layouts) against the compiler's own figures; on TPU they are equal.
"""

from __future__ import annotations

import argparse
import functools
import importlib.metadata
import json
import sys
from collections.abc import Callable, Container
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

# irscope's targets module first: it imports JAX with the plugins' start-up logs kept off the terminal.
from irscope.frontends import targets  # noqa: E402, I001

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
from jax import lax  # noqa: E402
from jax.sharding import PartitionSpec as P  # noqa: E402

OUT = REPO / "tests" / "data" / "targets"
SCHEMA = "irscope.target-corpus/1"
COST_KEYS = ("flops", "bytes accessed", "transcendentals", "optimal_seconds")


def gelu(x):
    return jax.nn.gelu(x)


def swish(x):
    return jax.nn.silu(x)


def softmax(x):
    return jax.nn.softmax(x, axis=-1)


def layer_norm(x, scale, bias):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) * lax.rsqrt(var + 1e-5) * scale + bias


def mlp_block(x, w1, w2):
    return x + jax.nn.gelu(x @ w1) @ w2


def while_loop(x, w):
    return lax.fori_loop(0, 16, lambda i, h: jnp.tanh(h @ w), x)


def scatter_add(table, idx, updates):
    return table.at[idx].add(updates)


def sharded_matmul(x, w1, w2):
    # Megatron-style: w1 split by columns, w2 by rows over "model", the batch over "data", so the second
    # matmul ends in an all-reduce over "model".
    return jax.nn.relu(x @ w1) @ w2


def attention(q, k, v):
    # causal attention over 256 positions: XLA:TPU swaps softmax(scores) @ v for its own Mosaic kernel
    # (`online-softmax`, a tpu_custom_call whose MLIR body irscope.passes.mosaic reads)
    scores = jnp.einsum("bhqd,bhkd->bhqk", q, k) / 8.0
    mask = jnp.tril(jnp.ones((scores.shape[-2], scores.shape[-1]), bool))
    return jnp.einsum("bhqk,bhkd->bhqd", jax.nn.softmax(jnp.where(mask, scores, -1e9), -1), v)


def _transformer() -> tuple[Callable[..., Any], list[Any]]:
    sys.path.insert(0, str(REPO / "examples"))
    import transformer

    fn, args = transformer.IRSCOPE_EXAMPLES["train_step"]
    return fn, args


def _sds(shape, dtype, spec=None):
    return jax.ShapeDtypeStruct(shape, dtype, sharding=spec) if spec is not None else jax.ShapeDtypeStruct(
        shape, dtype)


f32, bf16, s32 = jnp.float32, jnp.bfloat16, jnp.int32

# name -> (function, args, {target: mesh axes or None})
SINGLE = ("h100", "tpu-v5e")
PROGRAMS: dict[str, tuple[Callable[..., Any], list[Any], dict[str, dict[str, int] | None]]] = {
    "gelu": (gelu, ["f32[1024,1024]"], dict.fromkeys(SINGLE)),
    "swish": (swish, ["f32[1024,1024]"], dict.fromkeys(SINGLE)),
    "softmax": (softmax, ["f32[512,1024]"], dict.fromkeys(SINGLE)),
    # 100 columns: XLA:TPU pads the minor dimension to 128 lanes, and counts the padding as bytes moved.
    "softmax_odd": (softmax, ["f32[1000,100]"], dict.fromkeys(SINGLE)),
    "layer_norm": (layer_norm, ["f32[512,1024]", "f32[1024]", "f32[1024]"], dict.fromkeys(SINGLE)),
    "mlp_block": (mlp_block, ["f32[256,512]", "f32[512,2048]", "f32[2048,512]"], dict.fromkeys(SINGLE)),
    "mlp_block_bf16": (mlp_block, ["bf16[256,512]", "bf16[512,2048]", "bf16[2048,512]"], dict.fromkeys(SINGLE)),
    "while_loop": (while_loop, ["f32[128,256]", "f32[256,256]"], dict.fromkeys(SINGLE)),
    "scatter_add": (scatter_add, ["f32[4096,128]", "s32[512]", "f32[512,128]"], dict.fromkeys(SINGLE)),
    "attention": (attention, ["f32[2,4,256,64]"] * 3, dict.fromkeys(SINGLE)),
    "sharded_matmul": (
        sharded_matmul,
        [_sds((512, 1024), f32, P("data", None)), _sds((1024, 2048), f32, P(None, "model")),
         _sds((2048, 1024), f32, P("model", None))],
        {"tpu-v5e:2x2": {"data": 2, "model": 2}, "h100:8": {"data": 2, "model": 4}},
    ),
}


@functools.cache
def _transformer_entry() -> tuple[Callable[..., Any], list[Any], dict[str, dict[str, int] | None]]:
    fn, args = _transformer()
    return fn, args, dict.fromkeys(SINGLE)


def programs() -> dict[str, tuple[Callable[..., Any], list[Any], dict[str, dict[str, int] | None]]]:
    """Every program, the transformer training step (examples/transformer.py) included."""
    return {**PROGRAMS, "transformer_step": _transformer_entry()}


def corpus_paths(out_dir: Path, program: str, target: str) -> tuple[Path, Path]:
    """(HLO file, JSON file) of one program compiled for one target: `gelu.h100.hlo`, `x.tpu-v5e_2x2.json`."""
    stem = f"{program}.{target.replace(':', '_')}"
    return out_dir / f"{stem}.hlo", out_dir / f"{stem}.json"


def _versions() -> dict[str, str]:
    out = {}
    for dist in ("jax", "jaxlib", "jax-cuda12-plugin", "libtpu"):
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            pass
    return out


def _arg_text(arg: Any) -> Any:
    leaves = jax.tree.leaves(arg)
    if isinstance(arg, str):
        return arg
    if len(leaves) == 1 and hasattr(leaves[0], "shape"):
        leaf = leaves[0]
        return f"{jnp.dtype(leaf.dtype).name}{list(leaf.shape)}"
    return f"pytree of {len(leaves)} arrays"


def write(out_dir: Path = OUT, only: Container[str] | None = None) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (fn, args, target_meshes) in programs().items():
        if only is not None and name not in only:
            continue
        for target_name, mesh in target_meshes.items():
            compiled = targets.compile_for_target(fn, args, target_name, mesh=mesh)
            cost = compiled.cost_analysis
            record = {
                "schema": SCHEMA,
                "program": name,
                "args": [_arg_text(a) for a in args],
                "mesh": mesh,
                **compiled.to_json(),
                "cost_analysis": {k: cost[k] for k in COST_KEYS if k in cost} if cost else None,
                "autotune_note": compiled.autotune_note,
                "versions": _versions(),
            }
            hlo, meta = corpus_paths(out_dir, name, target_name)
            hlo.write_text(compiled.hlo_text)
            meta.write_text(json.dumps(record, indent=1) + "\n")
            written += [hlo, meta]
            print(f"{hlo.name}: {len(compiled.hlo_text):,} chars, {compiled.seconds:.2f} s", file=sys.stderr)
    return written


def table(out_dir: Path = OUT) -> str:
    """irscope's figures against the compiler's, one row per corpus module."""
    from irscope.ir.hlo_parser import parse_module
    from irscope.passes.cost import module_cost

    rows = [("module", "compiler flops", "irscope flops", "ratio", "compiler bytes", "irscope bytes", "ratio")]
    for path in sorted(out_dir.glob("*.json")):
        record = json.loads(path.read_text())
        cost = record["cost_analysis"]
        hlo, _ = corpus_paths(out_dir, record["program"], record["target"])
        totals = module_cost(parse_module(hlo.read_text())).totals
        if not cost:
            rows.append((path.stem, "-", f"{totals.flops:,.0f}", "-", "-", f"{totals.bytes_accessed:,.0f}", "-"))
            continue
        rows.append((path.stem, f"{cost['flops']:,.0f}", f"{totals.flops:,.0f}",
                     f"{totals.flops / cost['flops']:.2f}" if cost["flops"] else "-",
                     f"{cost['bytes accessed']:,.0f}", f"{totals.bytes_accessed:,.0f}",
                     f"{totals.bytes_accessed / cost['bytes accessed']:.2f}"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True)))
                     for r in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", action="store_true", help="compare irscope's costs with the corpus's")
    parser.add_argument("--out", type=Path, default=OUT, help="corpus folder (default tests/data/targets)")
    parser.add_argument("--only", metavar="NAME", action="append",
                        help="(re)write only this program's modules (repeatable; default: every program)")
    ns = parser.parse_args(argv)
    if ns.table:
        print(table(ns.out))
        return 0
    unknown = sorted(set(ns.only or ()) - set(programs()))
    if unknown:
        parser.error(f"unknown program(s) {', '.join(unknown)}; known: {', '.join(programs())}")
    write(ns.out, set(ns.only) if ns.only else None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
