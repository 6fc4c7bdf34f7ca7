"""XLA's own view of an HLO text, for parity tests: jaxlib's parser, decoded from its proto.

`xla_view(text)` runs `hlo_module_from_text` (XLA's C++ parser, bundled in jaxlib), serialises the
module to an `HloModuleProto` and decodes it with the `hlo_pb2` module that TensorFlow ships.
`irscope_view(module)` puts irscope's parse in the same form, so tests compare plain data.

XLA's parser CHECK-fails (aborts the whole process) on a few invalid inputs that its own tests
feed it, so `xla_verdicts(texts)` runs it in a child process and reports such a text as refused;
the corpus test goes through it.

The form is structural: XLA's parser makes instruction names unique across the whole module
(`p0` in a second computation becomes `p0.1`) and may reorder a computation's instructions, so
neither names nor positions can be compared. Each computation becomes the multiset of its
instructions' structural keys (see `_canonical`).
"""

from __future__ import annotations

import collections
import os
import pickle
import re
import struct
import subprocess
import sys

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


_UNBOUNDED = -(2**63)  # how XLA stores the size of a `?` dimension


def _proto_shape(shape) -> str:
    name = _TYPE_NAMES[shape.element_type]
    if name == "tuple":
        return "(" + ", ".join(_proto_shape(s) for s in shape.tuple_shapes) + ")"
    if name == "buffer":
        return f"b({_proto_shape(shape.tuple_shapes[0])})"
    if name in ("token", "opaque_type"):
        return "token[]" if name == "token" else "opaque[]"
    return f"{name}[{','.join('?' if d == _UNBOUNDED else str(d) for d in shape.dimensions)}]"


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
    return view_of_proto(xla_proto(text))


_WRAPPER = re.compile(r"async_wrapped(\.\d+)?")
_ASYNC_STEP = {"async-start": "start", "async-update": "update", "async-done": "done"}


def _sugar_wrappers(proto) -> dict[int, object]:
    """Computations XLA's parser made for async sugar (`custom-call-start(...)` is an async-start
    calling a new computation, `async_wrapped`, of parameters and the custom-call): id -> its root."""
    wrappers = {}
    for comp in proto.computations:
        root = next(i for i in comp.instructions if i.id == comp.root_id)
        if _WRAPPER.fullmatch(comp.name) and all(
            i.opcode == "parameter" and i.name.startswith("async_param")
            for i in comp.instructions if i.id != comp.root_id
        ):
            wrappers[comp.id] = root
    return wrappers


def view_of_proto(proto) -> View:
    """The view of XLA's module, with async sugar put back as written: irscope keeps
    `custom-call-start` as the opcode and makes no wrapper computation."""
    comp_names = {c.id: c.name for c in proto.computations}
    wrappers = _sugar_wrappers(proto)
    view: View = {}
    for comp in proto.computations:
        if comp.id in wrappers:
            continue
        pos = {inst.id: k for k, inst in enumerate(comp.instructions)}
        sugar: dict[int, str] = {}  # instruction id -> the wrapped opcode of an async chain
        insts = []
        for inst in comp.instructions:
            opcode = inst.opcode
            called = tuple(comp_names[c] for c in inst.called_computation_ids)
            wrapped = next((wrappers[c] for c in inst.called_computation_ids if c in wrappers), None)
            if opcode in _ASYNC_STEP:
                if wrapped is not None:
                    sugar[inst.id] = wrapped.opcode
                    called = tuple(comp_names[c] for c in wrapped.called_computation_ids)
                elif inst.operand_ids and inst.operand_ids[0] in sugar and opcode != "async-start":
                    sugar[inst.id] = sugar[inst.operand_ids[0]]
                if inst.id in sugar:
                    opcode = f"{sugar[inst.id]}-{_ASYNC_STEP[opcode]}"
                    called = called if _ASYNC_STEP[inst.opcode] == "start" else ()
            insts.append((
                opcode,
                _proto_shape(inst.shape),
                inst.parameter_number if inst.opcode == "parameter" else -1,
                tuple(pos[o] for o in inst.operand_ids),
                called,
                inst.id == comp.root_id,
            ))
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


# -- XLA's parser in a child process -----------------------------------------------------------
# The child reads a pickled list of texts and the index to start at, and writes one length-prefixed
# pickle per text: ("ok", serialized HloModuleProto) or ("refused", XLA's message).
_CHILD = r"""
import pickle, struct, sys
from jax._src.lib import xla_client as xc
texts, start = pickle.load(sys.stdin.buffer)
out = sys.stdout.buffer
for text in texts[start:]:
    try:
        result = ("ok", xc.hlo.hlo_module_from_text(text).as_serialized_hlo_module_proto())
    except Exception as e:
        lines = str(e).strip().splitlines() or [type(e).__name__]
        result = ("refused", next((l for l in lines if "error:" in l), lines[0]).strip())
    blob = pickle.dumps(result)
    out.write(struct.pack("<Q", len(blob)) + blob)
    out.flush()
"""


def xla_verdicts(texts: list[str]) -> list[tuple[str, object]]:
    """XLA's parse of each text, in a child process: ("ok", View) or ("refused", message).

    A text on which XLA's parser aborts the process is ("refused", "aborted: ..."), and the child
    is restarted at the next text.
    """
    results: list[tuple[str, object]] = []
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    while len(results) < len(texts):
        child = subprocess.run(
            [sys.executable, "-c", _CHILD], input=pickle.dumps((texts, len(results))),
            capture_output=True, env=env, check=False,
        )
        data, pos = child.stdout, 0
        while pos + 8 <= len(data):
            (size,) = struct.unpack_from("<Q", data, pos)
            if pos + 8 + size > len(data):
                break
            status, payload = pickle.loads(data[pos + 8: pos + 8 + size])
            pos += 8 + size
            if status == "ok":
                proto = hlo_pb2.HloModuleProto()
                proto.ParseFromString(payload)
                results.append(("ok", view_of_proto(proto)))
            else:
                results.append(("refused", payload))
        if child.returncode != 0 and len(results) < len(texts):
            last = [line for line in child.stderr.decode(errors="replace").splitlines() if line.startswith("F")]
            results.append(("refused", "aborted: " + (last[-1] if last else f"exit {child.returncode}")))
    return results
