"""Tests for `irscope.render.dot`: the view data first (what is drawn), then DOT through Graphviz.

The kernel graphs are built by hand to the schema of `irscope.ir.kernel_graph`; `transformer_graph`
makes a training-step-like graph of any size (layers of attention + MLP kernels, one weight per
matmul, a constant feeding every layer, a ROOT tuple of all gradients).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import networkx as nx
import pytest

from irscope.render import dot as rd

HAVE_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAVE_DOT, reason="Graphviz 'dot' not installed")


# ---------------------------------------------------------------------------------------------
# Hand-built kernel graphs


def add_kernel(g: nx.MultiDiGraph, name: str, kind: str = "kLoop", *, ops: list[str] | None = None,
               op_name: str | None = None, shape: str = "f32[256,1024]", opcode: str | None = None,
               fused: list[dict] | None = None, bound: str | None = "memory", **costs: float) -> str:
    opcode = opcode or {"parameter": "parameter", "constant": "constant", "op": "dot"}.get(kind, "fusion")
    g.add_node(
        name, kind=kind, opcode=opcode, ops=ops or [opcode], op_name=op_name, shape=shape,
        bytes_read=costs.get("bytes_read", 2 * 2**20), bytes_written=costs.get("bytes_written", 2**20),
        flops=costs.get("flops", 262144.0), transcendentals=0.0,
        bound=None if kind in ("parameter", "constant") else bound,
        intensity=None if kind in ("parameter", "constant") else 0.25, time_at_peak_s=None,
        fused=fused or [],
    )
    return name


def add_edge(g: nx.MultiDiGraph, u: str, v: str, operand_index: int = 0,
             shape: str = "f32[256,1024]{1,0}", nbytes: int = 2**20) -> None:
    g.add_edge(u, v, shape=shape, dtype=shape.split("[")[0], bytes=nbytes, operand_index=operand_index)


def new_graph() -> nx.MultiDiGraph:
    return nx.MultiDiGraph(module="jit_step", computation="main.42")


# One sublayer: pre-norm, attention-ish or MLP-ish, residual add. (name, kind, ops, operand names)
_SUBLAYER = [
    ("ln", "kInput", ["reduce", "multiply", "rsqrt"], ["x", "eps"]),
    ("q", "kOutput", ["dot", "add"], ["ln", "w0"]),
    ("k", "kOutput", ["dot", "add"], ["ln", "w1"]),
    ("v", "kOutput", ["dot"], ["ln", "w2"]),
    ("qk", "kOutput", ["dot", "multiply"], ["q", "k"]),
    ("max", "kInput", ["reduce"], ["qk"]),
    ("exp", "kLoop", ["subtract", "exponential"], ["qk", "max"]),
    ("sum", "kInput", ["reduce"], ["exp"]),
    ("softmax", "kLoop", ["divide"], ["exp", "sum"]),
    ("av", "kOutput", ["dot"], ["softmax", "v"]),
    ("o", "kOutput", ["dot"], ["av", "w3"]),
    ("add", "kLoop", ["add"], ["o", "x"]),
]
_WEIGHTS = ["w0", "w1", "w2", "w3"]


def transformer_graph(layers: int, sublayers: int = 1, *, scoped: bool = True) -> nx.MultiDiGraph:
    """A forward pass of `layers` layers of `sublayers` x 16 nodes (12 kernels, 4 weights), plus an
    input, a constant used by every layer norm, a loss, and a ROOT tuple of every weight."""
    g = new_graph()
    x = add_kernel(g, "x.1", "parameter", op_name="x")
    eps = add_kernel(g, "constant.7", "constant", shape="f32[]")
    weights: list[str] = []
    for layer in range(layers):
        scope = f"jit(step)/jvp(transformer)/layer_{layer}" if scoped else "jit(step)/jvp(transformer)"
        for sub in range(sublayers):
            names = {"x": x, "eps": eps}
            for w in _WEIGHTS:
                names[w] = add_kernel(g, f"p.{layer}.{sub}.{w}", "parameter", op_name=f"params[{layer}][{w}]")
                weights.append(names[w])
            for short, kind, ops, operands in _SUBLAYER:
                name = f"fusion.{layer}.{sub}.{short}"
                add_kernel(g, name, kind, ops=ops, op_name=f"{scope}/sub_{sub}/{ops[0]}")
                for i, operand in enumerate(operands):
                    add_edge(g, names[operand], name, i)
                names[short] = name
            x = names["add"]
    loss = add_kernel(g, "loss", "kInput", ops=["multiply", "reduce"], op_name="jit(step)/reduce_sum")
    add_edge(g, x, loss)
    root = add_kernel(g, "tuple.9", "op", opcode="tuple", ops=["tuple"], bound="n/a")
    for i, w in enumerate([loss, *weights]):
        add_edge(g, w, root, i)
    return g


def run_dot(text: str, engine: str = "dot") -> str:
    proc = subprocess.run(["dot", f"-K{engine}", "-Tsvg"], input=text.encode(), capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout.decode()
