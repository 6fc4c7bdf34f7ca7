"""Collectives of an SPMD-partitioned module: who talks to whom, how many bytes, and how long it takes.

`collectives(module, link="h100")` finds every collective kernel (`irscope.passes.fusion.find_kernels`,
kind `collective`, so those inside loop bodies and async wrappers too), decodes its replica groups,
and prices it with the standard bandwidth-optimal algorithm for its kind. For a group of n devices
and a payload of S bytes per device (the operand; for an all-gather, the gathered result):

    all-reduce          ring (reduce-scatter, then all-gather)   sends 2(n-1)/n * S, receives as much
    all-gather          ring                                       (n-1)/n * S
    reduce-scatter      ring                                       (n-1)/n * S
    all-to-all          pairwise exchange                          (n-1)/n * S
    collective-permute  point to point                             S (a device that is a source)
    collective-broadcast  ring (pipelined broadcast)               S

These are the NCCL "bus bandwidth" factors (NCCL's PERFORMANCE.md): the bytes each device puts on
its links, which no algorithm can beat by more than the (n-1)/n term. `comm_bytes` is that figure,
per device. The time of one collective is `comm_bytes / rate` (a device sends and receives at once),
with the rate from `irscope.interconnect`:

- a switched fabric (NVLink through NVSwitch): every group runs at the device's full per-direction
  rate, whoever is in it;
- a TPU torus (ICI), when the topology is known (`tpu-v5e:2x2`, `tpu-v5p:2x2x2`): each device of a
  replica group sits on a chip of the slice. When irscope compiled the program, the coordinates come
  from the compiler's device assignment (`CompiledForTarget.device_coords`: the mesh reorders devices
  to lay its axes along the torus); for a module read from a file, device id d is taken to sit on chip
  d // (devices per chip), chip c at (c mod X, c div X mod Y, ...), x fastest (libtpu's numbering;
  a test checks it). A group whose members
  differ along k torus axes runs as a ring over those axes (the 2D/3D torus algorithm: one ring per
  axis, all at once), at k times one axis's rate, `Link.axis_bandwidth(k)`: two ports per axis, each
  1/(2D) of the chip's bidirectional figure on a D-dimensional torus. So a group along one axis of a
  v5e gets half the chip's ICI, a group spanning both axes all of it. A permute is priced on one axis.
  A group within one chip (two cores of a TPU v4) needs no ICI: time 0.
  Without a topology, a torus is priced at its full per-chip rate (all axes).

These are estimates (provenance `estimated`): bandwidth only, no latency, every axis treated as a
closed ring (a slice without wrap-around links is up to 2x slower on that axis), no multi-hop routing
of groups whose members are not neighbours. The async forms (`all-reduce-start`/`-done`, `all-gather-start`,
`collective-permute-start`, and `async-start` wrappers of reduce-scatter or all-to-all) are the same
collectives; `is_async` marks them, since XLA may overlap them with compute.

Replica groups come in three printed forms, all decoded to explicit device groups:

- explicit lists `{{0,1},{2,3}}` (`{}` means one group of every device);
- iota `[G,S]<=[d0,d1,...]T(p0,p1,...)`: iota(prod d) reshaped to d, transposed by p, read as G groups
  of S (XLA's `IotaReplicaGroupList`);
- mesh axes `mesh['a'=2,'b'=4] {'a'}`: the device ids 0..N-1 laid out row-major on the mesh; the
  listed axes are moved last (in the listed order) and the result read as groups of their product
  (XLA's `MeshAxesReplicaGroupList::flattened_replica_groups`). A sub-axis `'a':(k)m` splits axis
  a into (k, m, size/(k*m)) and groups over the middle part.

Beside the collectives the result keeps the compute kernels' roofline time on the matching chip
(`irscope.hw`), so communication and compute can be compared per step.

Not handled yet: link latency (bandwidth-only times under-predict small messages), tree and
in-network (SHARP) all-reduce, hierarchical (multi-node) groups, overlap of async collectives with
compute (the step time adds them), meshes with explicit device lists, and `ragged-all-to-all`'s
data-dependent sizes (costed as an all-to-all of its whole buffer).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from irscope.hw import get_chip
from irscope.interconnect import Link, get_link
from irscope.ir.hlo import Module
from irscope.passes.cost import Cost, module_cost
from irscope.passes.fusion import Kernel, async_base, find_kernels
from irscope.passes.roofline import place

# The base collective of each opcode (async halves and wrappers map to the synchronous op).
_BASE = {
    "all-reduce": "all-reduce", "all-reduce-start": "all-reduce",
    "all-gather": "all-gather", "all-gather-start": "all-gather",
    "reduce-scatter": "reduce-scatter",
    "all-to-all": "all-to-all", "ragged-all-to-all": "all-to-all",
    "collective-permute": "collective-permute", "collective-permute-start": "collective-permute",
    "collective-broadcast": "collective-broadcast",
}
ALGORITHMS = {
    "all-reduce": "ring (reduce-scatter + all-gather)",
    "all-gather": "ring",
    "reduce-scatter": "ring",
    "all-to-all": "pairwise exchange",
    "collective-permute": "point-to-point",
    "collective-broadcast": "ring (pipelined)",
}
"""The algorithm each collective is priced by."""


# --- Replica groups -------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReplicaGroups:
    """A collective's device groups, decoded from any of XLA's printed forms."""

    text: str
    """The attribute as printed (`{{0,1},{2,3}}`, `[2,4]<=[4,2]T(1,0)`, `mesh[...] {...}`)."""
    form: str
    """`list`, `iota`, `mesh`, or `all` (empty or absent: one group of every device)."""
    groups: tuple[tuple[int, ...], ...]
    """The groups as device (or replica) ids; for form `all` with a known device count, that one group."""

    @property
    def group_size(self) -> int:
        """Devices per group (0 when form is `all` and the device count was not known)."""
        return len(self.groups[0]) if self.groups else 0

    def to_json(self) -> dict[str, object]:
        return {"text": self.text, "form": self.form, "groups": [list(g) for g in self.groups]}


def _iota(dims: Sequence[int], perm: Sequence[int] | None) -> list[int]:
    """iota(prod dims) reshaped to `dims`, transposed by `perm`, flattened row-major."""
    n = math.prod(dims)
    if perm is None or list(perm) == list(range(len(dims))):
        return list(range(n))
    if sorted(perm) != list(range(len(dims))):
        raise ValueError(f"bad transpose permutation {tuple(perm)} for dims {tuple(dims)}")
    out_dims = [dims[p] for p in perm]
    strides = [math.prod(dims[i + 1:]) for i in range(len(dims))]
    result = []
    for flat in range(n):
        # Index of `flat` in the transposed array, then the source offset it reads.
        rest, offset = flat, 0
        for axis in range(len(out_dims) - 1, -1, -1):
            rest, idx = divmod(rest, out_dims[axis])
            offset += idx * strides[perm[axis]]
        result.append(offset)
    return result


def _chunk(ids: list[int], size: int) -> tuple[tuple[int, ...], ...]:
    return tuple(tuple(ids[i:i + size]) for i in range(0, len(ids), size))


_IOTA = re.compile(r"^\[(\d+),(\d+)\]<=\[([\d,]+)\](?:T\(([\d,]+)\))?$")
_MESH = re.compile(r"^mesh\[(.*)\]\s*\{(.*)\}$", re.S)
_MESH_AXIS = re.compile(r"^'([^']*)'=(\d+)$")
_AXIS_REF = re.compile(r"^'([^']*)'(?::\((\d+)\)(\d+))?$")


def decode_replica_groups(text: str | None, num_devices: int | None = None) -> ReplicaGroups:
    """Device groups of a `replica_groups=` value; `num_devices` fills in the empty form `{}`.

    Example:
        >>> decode_replica_groups("[2,4]<=[4,2]T(1,0)").groups
        ((0, 2, 4, 6), (1, 3, 5, 7))
        >>> decode_replica_groups("mesh['a'=2,'b'=4] {'a'}").groups
        ((0, 4), (1, 5), (2, 6), (3, 7))
    """
    raw = (text or "").strip()
    compact = re.sub(r"\s+", "", raw)
    if compact in ("", "{}", "{{}}"):
        groups = (tuple(range(num_devices)),) if num_devices else ()
        return ReplicaGroups(raw, "all", groups)
    if compact.startswith("{"):
        inner = compact[1:-1]
        found = re.findall(r"\{([^{}]*)\}", inner)
        if not found or re.sub(r"\{[^{}]*\}|,", "", inner):
            raise ValueError(f"bad replica_groups {raw!r}")
        return ReplicaGroups(raw, "list", tuple(tuple(int(x) for x in g.split(",") if x) for g in found))
    match = _IOTA.match(compact)
    if match:
        count, size = int(match.group(1)), int(match.group(2))
        dims = [int(d) for d in match.group(3).split(",")]
        perm = [int(p) for p in match.group(4).split(",")] if match.group(4) else None
        if count * size != math.prod(dims):
            raise ValueError(f"bad replica_groups {raw!r}: {count}x{size} groups of {math.prod(dims)} devices")
        return ReplicaGroups(raw, "iota", _chunk(_iota(dims, perm), size))
    match = _MESH.match(raw)
    if match:
        return ReplicaGroups(raw, "mesh", _mesh_groups(match.group(1), match.group(2), raw))
    raise ValueError(f"unknown replica_groups form {raw!r}")


def _mesh_groups(mesh_text: str, axes_text: str, raw: str) -> tuple[tuple[int, ...], ...]:
    names: list[str] = []
    sizes: list[int] = []
    for part in mesh_text.split(","):
        m = _MESH_AXIS.match(part.strip())
        if not m:
            raise ValueError(f"bad mesh axis {part!r} in replica_groups {raw!r}")
        names.append(m.group(1))
        sizes.append(int(m.group(2)))
    # Each mesh axis becomes one or more reshape dims; `grouped` collects the dims to group over.
    refs: dict[int, list[tuple[int, int] | None]] = {}
    order: list[tuple[int, int | None]] = []  # (mesh axis, sub-axis pre-size or None) in listed order
    for part in (p.strip() for p in axes_text.split(",") if p.strip()):
        m = _AXIS_REF.match(part)
        if not m or m.group(1) not in names:
            raise ValueError(f"bad axis {part!r} in replica_groups {raw!r}")
        axis = names.index(m.group(1))
        sub = (int(m.group(2)), int(m.group(3))) if m.group(2) else None
        refs.setdefault(axis, []).append(sub)
        order.append((axis, sub[0] if sub else None))
    reshape: list[int] = []
    where: dict[tuple[int, int | None], int] = {}  # (axis, pre-size) -> reshape dim
    for axis, size in enumerate(sizes):
        subs = refs.get(axis)
        if not subs:
            reshape.append(size)
            continue
        if subs == [None]:
            where[(axis, None)] = len(reshape)
            reshape.append(size)
            continue
        if any(s is None for s in subs):
            raise ValueError(f"axis {names[axis]!r} used whole and split in replica_groups {raw!r}")
        prefix = 1
        for pre, sub_size in sorted(s for s in subs if s is not None):
            if pre != prefix:
                reshape.append(pre // prefix)
                prefix = pre
            where[(axis, pre)] = len(reshape)
            reshape.append(sub_size)
            prefix *= sub_size
        if prefix != size:
            reshape.append(size // prefix)
    grouped = [where[key] for key in order]
    perm = [d for d in range(len(reshape)) if d not in grouped] + grouped
    group_size = math.prod(reshape[d] for d in grouped)
    return _chunk(_iota(reshape, perm), group_size)


def source_target_pairs(text: str | None) -> tuple[tuple[int, int], ...]:
    """`{{0,1},{1,2}}` -> ((0, 1), (1, 2))."""
    if not text:
        return ()
    return tuple((int(a), int(b)) for a, b in re.findall(r"\{\s*(\d+)\s*,\s*(\d+)\s*\}", text))


# --- The pass -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Collective:
    """One collective of the module, priced on one interconnect."""

    name: str
    """Qualified kernel name (`while.3/all-reduce.1` inside a loop body)."""
    opcode: str
    """The instruction's opcode as printed (`all-reduce-start`, `reduce-scatter`, ...)."""
    collective: str
    """The base collective (`all-reduce`, `all-gather`, `reduce-scatter`, `all-to-all`,
    `collective-permute`, `collective-broadcast`)."""
    is_async: bool
    """A `-start` half or inside an `async-start` wrapper (XLA may overlap it with compute)."""
    replica_groups: ReplicaGroups
    """The device groups."""
    group_size: int
    """Devices per group (for a permute, the devices that take part)."""
    payload_bytes: int
    """S in the module docstring's formulas: bytes per device of the operand (the gathered result
    for an all-gather)."""
    sent_bytes: float
    """Bytes one device sends under `algorithm`."""
    received_bytes: float
    """Bytes one device receives under `algorithm`."""
    algorithm: str
    """The algorithm the bytes assume."""
    time_s: float | None
    """max(sent, received) over the rate of the group's placement (module docstring); None when no
    interconnect is known (`kernel_comms` for a chip without a link)."""
    shape: str
    """Operand shapes, without layouts."""
    channel_id: int | None
    """`channel_id` (cross-partition collectives have one), or None."""
    op_name: str | None
    """The framework scope it came from."""
    pairs: tuple[tuple[int, int], ...] = ()
    """A permute's (source, target) pairs."""

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "opcode": self.opcode, "collective": self.collective,
                "is_async": self.is_async, "replica_groups": self.replica_groups.to_json(),
                "group_size": self.group_size, "payload_bytes": self.payload_bytes,
                "sent_bytes": self.sent_bytes, "received_bytes": self.received_bytes,
                "algorithm": self.algorithm, "time_s": self.time_s, "shape": self.shape,
                "channel_id": self.channel_id, "op_name": self.op_name,
                "pairs": [list(p) for p in self.pairs]}


@dataclass(frozen=True)
class CollectivesReport:
    """Every collective of a module on one interconnect, with the compute beside it."""

    module: str
    """Module name."""
    num_devices: int
    """Devices the program runs on (`num_partitions` x `replica_count` of the module header)."""
    link: Link
    """The interconnect the times assume."""
    collectives: tuple[Collective, ...]
    """In execution order."""
    compute_kernels: int
    """Kernels that are not collectives."""
    compute_time_s: float
    """Sum of the compute kernels' roofline time at peak on the link's chip (`irscope.hw`), per device."""
    schema: str = field(default="irscope.collectives/1")
    """JSON schema tag."""

    @property
    def sent_bytes(self) -> float:
        """Bytes one device sends over the whole program."""
        return sum(c.sent_bytes for c in self.collectives)

    @property
    def received_bytes(self) -> float:
        return sum(c.received_bytes for c in self.collectives)

    @property
    def communication_time_s(self) -> float:
        """Sum of the collectives' times (no overlap assumed)."""
        return sum(c.time_s or 0.0 for c in self.collectives)

    @property
    def step_time_s(self) -> float:
        """Compute plus communication, serialized: an upper bound on the predicted step."""
        return self.compute_time_s + self.communication_time_s

    def by_collective(self) -> dict[str, tuple[int, float, float]]:
        """Base collective -> (count, bytes sent per device, time)."""
        out: dict[str, tuple[int, float, float]] = {}
        for c in self.collectives:
            n, sent, t = out.get(c.collective, (0, 0.0, 0.0))
            out[c.collective] = (n + 1, sent + c.sent_bytes, t + (c.time_s or 0.0))
        return out

    def to_json(self) -> dict[str, object]:
        return {"schema": self.schema, "module": self.module, "num_devices": self.num_devices,
                "link": self.link.to_json(), "collectives": [c.to_json() for c in self.collectives],
                "compute_kernels": self.compute_kernels, "compute_time_s": self.compute_time_s,
                "communication_time_s": self.communication_time_s, "sent_bytes": self.sent_bytes,
                "received_bytes": self.received_bytes, "step_time_s": self.step_time_s}


def num_devices(module: Module) -> int:
    """`num_partitions` times `replica_count` from the module header (1 when absent)."""
    parts = int(module.attrs.get("num_partitions", "1") or 1)
    replicas = int(module.attrs.get("replica_count", "1") or 1)
    return parts * replicas


def traffic(collective: str, n: int, payload: float) -> tuple[float, float]:
    """(sent, received) bytes per device for a base collective over `n` devices of payload S."""
    if n <= 1:
        return 0.0, 0.0
    if collective == "all-reduce":
        each = 2 * (n - 1) / n * payload
    elif collective in ("all-gather", "reduce-scatter", "all-to-all"):
        each = (n - 1) / n * payload
    elif collective in ("collective-permute", "collective-broadcast"):
        each = float(payload)
    else:
        raise ValueError(f"unknown collective {collective!r}")
    return each, each


def _price(kernel: Kernel, devices: int, link: Link | None, async_bodies: frozenset[str],
           topology: tuple[int, ...] = (), coords: Sequence[Sequence[int]] = ()) -> Collective:
    inst = kernel.instruction
    base = base_collective(inst.opcode)
    if base is None:
        raise ValueError(f"{kernel.name}: {inst.opcode!r} is not a collective irscope can price")
    groups = decode_replica_groups(inst.attrs.get("replica_groups"), devices)
    operand_bytes = sum(t.bytes for t in kernel.inputs)
    pairs: tuple[tuple[int, int], ...] = ()
    if base == "collective-permute":
        pairs = source_target_pairs(inst.attrs.get("source_target_pairs"))
        n = len({d for p in pairs for d in p})
        payload = operand_bytes
        sent = received = float(payload) if pairs else 0.0
    else:
        n = groups.group_size or devices
        payload = operand_bytes * n if base == "all-gather" else operand_bytes
        sent, received = traffic(base, n, payload)
    channel = inst.attrs.get("channel_id")
    is_async = inst.opcode.endswith("-start") or kernel.computation in async_bodies
    axes = 1 if base == "collective-permute" else torus_axes(groups.groups, devices, topology, coords)
    time_s: float | None = None
    if link is not None:
        rate = link.axis_bandwidth(axes) if topology or not link.torus_dims else link.bandwidth_per_direction
        time_s = 0.0 if axes == 0 else max(sent, received) / rate
    return Collective(
        name=kernel.qualified_name, opcode=inst.opcode, collective=base, is_async=is_async,
        replica_groups=groups, group_size=n, payload_bytes=payload, sent_bytes=sent,
        received_bytes=received, algorithm=_algorithm(base, link, axes, bool(topology)),
        time_s=time_s,
        shape=", ".join(t.shape.short() for t in kernel.inputs),
        channel_id=int(channel) if channel and channel.isdigit() else None,
        op_name=kernel.op_name, pairs=pairs)


def chip_coords(device: int, devices: int, topology: Sequence[int]) -> tuple[int, ...]:
    """Torus coordinates of a device id on a slice of shape `topology` (x fastest; module docstring)."""
    chips = math.prod(topology)
    per_chip = devices // chips if devices >= chips and devices % chips == 0 else 1
    chip = device // per_chip
    coords = []
    for size in topology:
        chip, coord = divmod(chip, size)
        coords.append(coord)
    return tuple(coords)


def torus_axes(groups: Sequence[Sequence[int]], devices: int, topology: Sequence[int],
               coords: Sequence[Sequence[int]] = ()) -> int:
    """The most torus axes any group's members differ along (1 when the topology is unknown or flat).
    `coords`: each device's chip coordinates from the compiler's device assignment; without them,
    `chip_coords` (device ids in the topology's order)."""
    if not topology or len(topology) < 2 or not groups:
        return 1
    if coords and len(coords) != devices:
        coords = ()
    most = 0
    for group in groups:
        where = [tuple(coords[d]) if coords else chip_coords(d, devices, topology) for d in group]
        dims = len(where[0]) if where else 0
        most = max(most, sum(1 for axis in range(dims) if len({c[axis] for c in where}) > 1))
    return most


def _algorithm(base: str, link: Link | None, axes: int, placed: bool) -> str:
    if link is None:
        return ALGORITHMS[base]
    if not link.torus_dims:
        return f"{ALGORITHMS[base]} on {link.fabric}"
    if not placed:
        return f"{ALGORITHMS[base]}, all ICI ports (topology unknown)"
    if axes == 0:
        return f"{ALGORITHMS[base]} within one chip"
    return f"{ALGORITHMS[base]} over {axes} of {link.torus_dims} torus axes"


def base_collective(opcode: str) -> str | None:
    """The collective an opcode performs (`all-reduce-start` and XLA's async shorthand
    `all-to-all-start` included), or None."""
    return _BASE.get(opcode) or _BASE.get(async_base(opcode) or "")


def _compute_dtype(kernel: Kernel) -> str:
    dtype = kernel.outputs[0].shape.dtype if kernel.outputs else "f32"
    # XLA:GPU runs an f32 dot or convolution at JAX's default precision on TF32 tensor cores.
    if dtype == "f32" and any(op in ("dot", "convolution") for op in kernel.ops):
        return "tf32"
    return dtype


def collectives(module: Module, link: str | Link = "h100", topology: Sequence[int] = (),
                coords: Sequence[Sequence[int]] = ()) -> CollectivesReport:
    """Every collective of `module` priced on `link` (a name from `irscope.interconnect`), placed on a
    TPU slice of shape `topology` (e.g. (2, 2); empty: unknown), and the compute kernels' roofline
    time on the chip of the same name.

    Example:
        >>> report = collectives(parse_module(compiled.as_text()), "h100")
        >>> [(c.collective, c.group_size, c.sent_bytes) for c in report.collectives]
    """
    link = get_link(link) if isinstance(link, str) else link
    devices = num_devices(module)
    kernels = find_kernels(module)
    async_bodies = _async_bodies(module)
    found = tuple(_price(k, devices, link, async_bodies, tuple(topology), coords) for k in kernels
                  if k.kind == "collective" and base_collective(k.opcode) is not None)
    chip = get_chip(link.name)
    cost = module_cost(module)
    compute = [k for k in kernels if k.kind != "collective"]
    compute_time = 0.0
    for k in compute:
        parts = [cost.per_instruction[key] for key in k.cost_parts if key in cost.per_instruction]
        if parts:
            c = sum(parts, Cost())
            compute_time += place(c.flops + c.transcendentals, c.bytes_accessed, chip,
                                  _compute_dtype(k)).time_at_peak_s
    return CollectivesReport(module=module.name, num_devices=devices, link=link, collectives=found,
                             compute_kernels=len(compute), compute_time_s=compute_time)


def _async_bodies(module: Module) -> frozenset[str]:
    return frozenset(callee for comp in module.computations.values() for inst in comp.instructions
                     if inst.opcode == "async-start" for callee in inst.called)


def kernel_comms(module: Module, kernels: Sequence[Kernel], link: Link | None,
                 topology: Sequence[int] = (), coords: Sequence[Sequence[int]] = ()) -> dict[int, Collective]:
    """The collective kernels among `kernels` (by `id(kernel)`), each priced like `collectives` does:
    the main report's `comm_bytes` (`sent_bytes`) and `comm_time_s` (`time_s`, None without a link).
    `coords`: the chip coordinates of each device of the assignment (`CompiledForTarget.device_coords`)."""
    devices = num_devices(module)
    bodies = _async_bodies(module)
    return {id(k): _price(k, devices, link, bodies, tuple(topology), coords) for k in kernels
            if k.kind == "collective" and base_collective(k.opcode) is not None}
