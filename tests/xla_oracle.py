"""XLA's own view of an HLO text, for parity tests: jaxlib's parser, decoded from its proto.

`xla_view(text)` runs `hlo_module_from_text` (XLA's C++ parser, bundled in jaxlib), serialises the
module to an `HloModuleProto` and decodes it with the `hlo_pb2` module that TensorFlow ships.
`irscope_view(module)` puts irscope's parse in the same form, so tests compare plain data.

The form is structural: XLA's parser makes instruction names unique across the whole module
(`p0` in a second computation becomes `p0.1`) and may reorder a computation's instructions, so
neither names nor positions can be compared. Each computation becomes the multiset of its
instructions' structural keys (see `_canonical`).
"""

from __future__ import annotations

import collections

from jax._src.lib import xla_client as xc

from irscope.ir.hlo import Module, Shape

try:  # TensorFlow ships XLA's protos; the location moved between releases.
    from tensorflow.compiler.xla import xla_data_pb2
    from tensorflow.compiler.xla.service import hlo_pb2
except ImportError:  # pragma: no cover
    from local_xla.xla import xla_data_pb2  # type: ignore[no-redef]
    from local_xla.xla.service import hlo_pb2  # type: ignore[no-redef]

_TYPE_NAMES = {v: k.lower() for k, v in xla_data_pb2.PrimitiveType.items()}

View = dict[str, tuple]  # computation name -> (is entry, size, structural multiset, root key)


def _proto_shape(shape) -> str:
    name = _TYPE_NAMES[shape.element_type]
    if name == "tuple":
        return "(" + ", ".join(_proto_shape(s) for s in shape.tuple_shapes) + ")"
    if name in ("token", "opaque_type"):
        return "token[]" if name == "token" else "opaque[]"
    return f"{name}[{','.join(str(d) for d in shape.dimensions)}]"


def _our_shape(shape: Shape) -> str:
    if shape.is_tuple:
        return "(" + ", ".join(_our_shape(s) for s in shape.tuple_shapes) + ")"
    return shape.short()


def xla_proto(text: str):
    module = xc.hlo.hlo_module_from_text(text)
    proto = hlo_pb2.HloModuleProto()
    proto.ParseFromString(module.as_serialized_hlo_module_proto())
    return proto


def _canonical(insts: list[tuple]) -> tuple[collections.Counter, int]:
    """Order-free form of one computation: the multiset of structural keys, and the root's key.

    insts: (opcode, shape, parameter number or -1, operand indices, called names, is root). A key
    is a hash of (opcode, shape, parameter number, operand keys, called names), computed bottom up,
    so two computations have the same multiset exactly when they are the same graph.
    """
    keys: list[int | None] = [None] * len(insts)

    def key(k: int) -> int:
        if keys[k] is None:
            opcode, shape, param, operands, called, _ = insts[k]
            keys[k] = hash((opcode, shape, param, tuple(key(o) for o in operands), called))
        return keys[k]  # type: ignore[return-value]

    import sys

    sys.setrecursionlimit(max(10000, sys.getrecursionlimit()))
    counter = collections.Counter(key(k) for k in range(len(insts)))
    root = next((key(k) for k, inst in enumerate(insts) if inst[5]), -1)
    return counter, root


def xla_view(text: str) -> View:
    proto = xla_proto(text)
    comp_names = {c.id: c.name for c in proto.computations}
    view: View = {}
    for comp in proto.computations:
        pos = {inst.id: k for k, inst in enumerate(comp.instructions)}
        insts = [
            (
                inst.opcode,
                _proto_shape(inst.shape),
                inst.parameter_number if inst.opcode == "parameter" else -1,
                tuple(pos[o] for o in inst.operand_ids),
                tuple(comp_names[c] for c in inst.called_computation_ids),
                inst.id == comp.root_id,
            )
            for inst in comp.instructions
        ]
        view[comp.name] = (comp.id == proto.entry_computation_id, len(insts), *_canonical(insts))
    return view


def irscope_view(module: Module) -> View:
    view: View = {}
    for comp in module.computations.values():
        pos = {inst.name: k for k, inst in enumerate(comp.instructions)}
        insts = [
            (
                i.opcode,
                _our_shape(i.shape),
                i.parameter_number if i.opcode == "parameter" else -1,
                tuple(pos[o] for o in i.operands),
                i.called,
                i.is_root,
            )
            for i in comp.instructions
        ]
        view[comp.name] = (comp.is_entry, len(insts), *_canonical(insts))
    return view


def differences(xla: View, ours: View) -> list[str]:
    """Human-readable differences between two views (empty when they agree)."""
    out: list[str] = []
    if list(xla) != list(ours):
        out.append(f"computations differ: xla {list(xla)} vs irscope {list(ours)}")
        return out
    for name in xla:
        x, o = xla[name], ours[name]
        if x[0] != o[0]:
            out.append(f"{name}: entry flag xla={x[0]} irscope={o[0]}")
        if x[1] != o[1]:
            out.append(f"{name}: {x[1]} instructions in xla, {o[1]} in irscope")
        if x[2] != o[2]:
            out.append(f"{name}: instruction graphs differ ({sum((x[2] - o[2]).values())} unmatched)")
        if x[3] != o[3]:
            out.append(f"{name}: roots differ")
    return out
