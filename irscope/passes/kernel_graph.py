"""The kernel graph: one computation's kernels as a networkx graph, the view rendering and diff use.

A node is a kernel launch (an XLA fusion or unfused instruction; later a TFLite operator), a module
input (`parameter`), a constant, or a control-flow instruction (`control`: a while, conditional or
call, standing for the kernels it runs). An edge is a tensor from its producer to a consumer, with
its shape, dtype and bytes. Edges look through instructions that launch nothing: a
get-tuple-element of a multi-output fusion is an edge from that fusion, a bitcast is an edge from
what it bitcasts, and a tuple fans out into one edge per element.

The graph is built from the IR and the passes' results; it is never the source of truth.

Node and edge attributes: `irscope.ir.graph_schema` (`KernelNode`, `TensorEdge`), the schema the
TFLite builder, the drawing and the JSON share.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

import networkx as nx

from irscope.ir.graph_schema import FusedInstruction, KernelNode, empty_costs
from irscope.ir.hlo import Computation, Instruction, Module, Shape
from irscope.ir.opcodes import CONTROL_FLOW, NO_LAUNCH, PASS_THROUGH
from irscope.passes.fusion import Kernel


def _fused_ops(module: Module, kernel: Kernel) -> list[FusedInstruction]:
    if kernel.fused_computation is None:
        return []
    fused = module.computations[kernel.fused_computation]
    out: list[FusedInstruction] = []
    for i in fused.instructions:
        op = FusedInstruction(name=i.name, opcode=i.opcode, operands=list(i.operands), shape=i.shape.short())
        if i.opcode == "parameter":
            op["parameter_number"] = i.parameter_number
        out.append(op)
    return out


def build_kernel_graph(
    module: Module,
    kernels: list[Kernel],
    node_data: Callable[[Kernel], Mapping[str, Any]] | None = None,
    computation: str | None = None,
) -> nx.MultiDiGraph:
    """The kernel graph of one computation (the entry by default).

    Arguments:
        module: the parsed module.
        kernels: `find_kernels(module)`; only those of `computation` become nodes.
        node_data: extra attributes per kernel (costs, roofline placement), merged into its node.
        computation: the computation to draw.
    """
    comp = module.computations[computation or module.entry_name]
    graph = nx.MultiDiGraph(module=module.name, computation=comp.name)
    mine = {k.name: k for k in kernels if k.computation == comp.name}
    by_name = comp.by_name
    runs_under = Counter(name for k in kernels for name in set(k.path))  # HLO names are module-unique
    for inst in comp.instructions:
        node = _node(module, comp, inst, mine, node_data, runs_under)
        if node is not None:
            graph.add_node(inst.name, **node)
    for inst in comp.instructions:
        if inst.name not in graph:
            continue
        for index, operand in enumerate(inst.operands):
            for source, shape in _sources(by_name, operand):
                if source not in graph:
                    graph.add_node(source, **_plain_node(by_name[source]))
                graph.add_edge(source, inst.name, shape=shape.short(), dtype=shape.dtype,
                               bytes=shape.byte_size, operand_index=index)
    return graph


def _node(module: Module, comp: Computation, inst: Instruction, kernels: Mapping[str, Kernel],
          node_data: Callable[[Kernel], Mapping[str, Any]] | None, runs_under: Mapping[str, int]
          ) -> KernelNode | None:
    kernel = kernels.get(inst.name)
    if kernel is not None:
        node = KernelNode(kind=kernel.kind, opcode=kernel.opcode, ops=list(kernel.ops), op_name=kernel.op_name,
                          shape=inst.shape.short(), fused=_fused_ops(module, kernel), **empty_costs())
        if node_data is not None:
            node.update(node_data(kernel))  # type: ignore[typeddict-item]
        return node
    if inst.opcode in CONTROL_FLOW:
        return KernelNode(**{**_plain_node(inst), "kind": "control", "ops": [inst.opcode],  # type: ignore[typeddict-item]
                             "called": list(inst.called), "kernels": runs_under.get(inst.name, 0)})
    if inst.is_root and inst.opcode in NO_LAUNCH and inst.opcode != "parameter":
        return None
    return None


def _plain_node(inst: Instruction) -> KernelNode:
    kind = {"parameter": "parameter", "constant": "constant"}.get(inst.opcode, "op")
    return KernelNode(kind=kind, opcode=inst.opcode, ops=[inst.opcode], op_name=inst.op_name,
                      shape=inst.shape.short(), fused=[], **empty_costs())


def _sources(by_name: Mapping[str, Instruction], name: str) -> list[tuple[str, Shape]]:
    """(producer, shape) pairs behind an operand, looking through tuples, GTEs and bitcasts."""
    inst = by_name[name]
    if inst.opcode not in PASS_THROUGH:
        return [(name, inst.shape)]
    if inst.opcode == "tuple":
        out: list[tuple[str, Shape]] = []
        for operand in inst.operands:
            out.extend(_sources(by_name, operand))
        return out
    if inst.opcode == "get-tuple-element":
        producer = by_name[inst.operands[0]]
        if producer.opcode == "tuple":
            index = int(inst.attrs.get("index", "0"))
            return _sources(by_name, producer.operands[index])
        if producer.opcode in PASS_THROUGH:
            return [(src, inst.shape) for src, _ in _sources(by_name, producer.name)]
        return [(producer.name, inst.shape)]
    # bitcast, opt-barrier, domain: the data is the operand's
    return [(src, inst.shape) for src, _ in _sources(by_name, inst.operands[0])] if inst.operands else []
