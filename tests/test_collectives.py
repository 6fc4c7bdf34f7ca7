"""The collectives pass: replica-group forms, ring traffic, async forms, and a real 8-device module.

The real module is compiled in a subprocess with `--xla_force_host_platform_device_count=8`, so this
pytest process keeps its own device count.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap

import pytest

from irscope.frontends import targets as T
from irscope.hw import get_chip
from irscope.interconnect import LINKS, get_link
from irscope.ir.hlo_parser import parse_module
from irscope.passes.collectives import (
    chip_coords,
    collectives,
    decode_replica_groups,
    num_devices,
    torus_axes,
    traffic,
)
from irscope.passes.report import analyze


def test_explicit_and_empty_groups():
    assert decode_replica_groups("{{0,1},{2,3}}").groups == ((0, 1), (2, 3))
    assert decode_replica_groups("{ {0, 2}, {1, 3} }").groups == ((0, 2), (1, 3))
    empty = decode_replica_groups("{}", 4)
    assert empty.form == "all" and empty.groups == ((0, 1, 2, 3),)
    assert decode_replica_groups(None).group_size == 0


def test_iota_groups():
    assert decode_replica_groups("[2,4]<=[8]").groups == ((0, 1, 2, 3), (4, 5, 6, 7))
    assert decode_replica_groups("[2,4]<=[4,2]T(1,0)").groups == ((0, 2, 4, 6), (1, 3, 5, 7))
    # A 3-d transpose: iota(8) as [2,2,2], transposed (2,0,1), read as 4 groups of 2.
    assert decode_replica_groups("[4,2]<=[2,2,2]T(2,0,1)").groups == ((0, 2), (4, 6), (1, 3), (5, 7))
    with pytest.raises(ValueError, match="groups of"):
        decode_replica_groups("[3,4]<=[8]")


def test_mesh_groups_match_the_equivalent_iota():
    # Grouping over the major axis of a [2,4] mesh is iota [4,2]<=[2,4]T(1,0).
    mesh = decode_replica_groups("mesh['axis_0'=2,'axis_1'=4] {'axis_0'}")
    assert mesh.form == "mesh"
    assert mesh.groups == decode_replica_groups("[4,2]<=[2,4]T(1,0)").groups == ((0, 4), (1, 5), (2, 6), (3, 7))
    assert decode_replica_groups("mesh['a'=2,'b'=4]{'b'}").groups == ((0, 1, 2, 3), (4, 5, 6, 7))
    assert decode_replica_groups("mesh['a'=2,'b'=1,'c'=4] {'a'}").groups == ((0, 4), (1, 5), (2, 6), (3, 7))
    # Both axes, in the listed order: the group order follows it.
    assert decode_replica_groups("mesh['a'=2,'b'=2] {'b','a'}").groups == ((0, 2, 1, 3),)
    # Sub-axes (XLA's examples for mesh<"a"=8>): {a:(1)2} reshapes [8] -> [1,2,4] and groups over the 2.
    assert decode_replica_groups("mesh['a'=8] {'a':(1)2}").groups == ((0, 4), (1, 5), (2, 6), (3, 7))
    assert decode_replica_groups("mesh['a'=8] {'a':(2)2}").groups == ((0, 2), (1, 3), (4, 6), (5, 7))
    assert decode_replica_groups("mesh['a'=8] {'a':(1)2,'a':(4)2}").groups == (
        (0, 1, 4, 5), (2, 3, 6, 7))
    with pytest.raises(ValueError, match="bad axis"):
        decode_replica_groups("mesh['a'=2] {'z'}")


def test_ring_traffic_factors():
    assert traffic("all-reduce", 8, 800) == (1400.0, 1400.0)
    assert traffic("all-gather", 4, 400) == (300.0, 300.0)
    assert traffic("reduce-scatter", 4, 400) == (300.0, 300.0)
    assert traffic("all-to-all", 4, 400) == (300.0, 300.0)
    assert traffic("collective-permute", 2, 400) == (400.0, 400.0)
    assert traffic("all-reduce", 1, 400) == (0.0, 0.0)


def test_interconnect_table_has_sources():
    for link in LINKS.values():
        assert link.sources["bandwidth_bidirectional"]
    assert get_link("h100").bandwidth_per_direction == 450e9
    assert get_link("H200").bandwidth_per_direction == 450e9
    assert get_link("a100").bandwidth_per_direction == 300e9
    assert get_link("v5e").bandwidth_per_direction == 200e9
    with pytest.raises(ValueError, match="unknown interconnect"):
        get_link("pcie9")


HANDWRITTEN = """HloModule spmd, num_partitions=4

add {
  a = f32[] parameter(0)
  b = f32[] parameter(1)
  ROOT s = f32[] add(a, b)
}

wrapped_rs {
  p = f32[8,4] parameter(0)
  ROOT rs = f32[2,4] reduce-scatter(p), channel_id=3, replica_groups={{0,1,2,3}}, dimensions={0}, to_apply=add
}

ENTRY e {
  x = f32[8,4] parameter(0)
  ars = f32[8,4] all-reduce-start(x), channel_id=1, replica_groups=[1,4]<=[4], to_apply=add
  ard = f32[8,4] all-reduce-done(ars)
  ags = (f32[8,4], f32[32,4]) all-gather-start(x), channel_id=2, replica_groups={{0,1},{2,3}}, dimensions={0}
  agd = f32[32,4] all-gather-done(ags)
  s = ((f32[8,4]), f32[2,4], s32[]) async-start(x), calls=wrapped_rs
  d = f32[2,4] async-done(s)
  cps = (f32[8,4], f32[8,4], u32[], u32[]) collective-permute-start(x), channel_id=4, source_target_pairs={{0,1},{1,2},{2,3},{3,0}}
  cpd = f32[8,4] collective-permute-done(cps)
  a2a = f32[8,4] all-to-all(ard), channel_id=5, replica_groups={}, dimensions={0}
  ROOT t = (f32[32,4], f32[2,4], f32[8,4], f32[8,4]) tuple(agd, d, cpd, a2a)
}
"""


def test_async_forms_on_handwritten_hlo():
    report = collectives(parse_module(HANDWRITTEN), "h100")
    by = {c.collective: c for c in report.collectives}
    assert [c.opcode for c in report.collectives] == [
        "all-reduce-start", "all-gather-start", "reduce-scatter", "collective-permute-start", "all-to-all"]
    assert report.num_devices == 4
    s = 8 * 4 * 4  # bytes of f32[8,4]
    ar = by["all-reduce"]
    assert ar.is_async and ar.group_size == 4 and ar.payload_bytes == s and ar.sent_bytes == 2 * 3 / 4 * s
    assert ar.replica_groups.form == "iota" and ar.algorithm.startswith("ring")
    ag = by["all-gather"]
    assert ag.is_async and ag.group_size == 2 and ag.payload_bytes == 2 * s and ag.sent_bytes == s
    rs = by["reduce-scatter"]
    assert rs.is_async and rs.group_size == 4 and rs.sent_bytes == 3 / 4 * s and rs.channel_id == 3
    cp = by["collective-permute"]
    assert cp.is_async and cp.pairs == ((0, 1), (1, 2), (2, 3), (3, 0)) and cp.sent_bytes == s
    a2a = by["all-to-all"]
    assert not a2a.is_async and a2a.replica_groups.form == "all" and a2a.group_size == 4
    assert ar.time_s == pytest.approx(ar.sent_bytes / 450e9)
    assert report.communication_time_s == pytest.approx(sum(c.time_s for c in report.collectives))
    assert report.compute_kernels == 0
    counts = report.by_collective()
    assert counts["all-reduce"][0] == 1 and set(counts) == set(by)
    assert report.to_json()["schema"] == "irscope.collectives/1"


_GENERATE = textwrap.dedent("""
    import jax, jax.numpy as jnp
    from jax import shard_map
    from jax.sharding import NamedSharding, PartitionSpec as P
    mesh = jax.make_mesh((2, 4), ("a", "b"))
    def f(x):
        s = jax.lax.psum_scatter(x, "b", scatter_dimension=0, tiled=True)
        g = jax.lax.all_gather(s, "b", axis=0, tiled=True)
        t = jax.lax.all_to_all(g, "b", 0, 0, tiled=True)
        p = jax.lax.ppermute(t, "a", perm=[(0, 1), (1, 0)])
        return jax.lax.psum(p, "a")
    fn = jax.jit(shard_map(f, mesh=mesh, in_specs=P("a", "b"), out_specs=P("a", "b")))
    arg = jax.ShapeDtypeStruct((64, 32), jnp.float32, sharding=NamedSharding(mesh, P("a", "b")))
    print(fn.lower(arg).compile().as_text())
""")


@pytest.fixture(scope="module")
def eight_device_module() -> str:
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=8", "JAX_PLATFORMS": "cpu"}
    done = subprocess.run([sys.executable, "-c", _GENERATE], capture_output=True, text=True, env=env,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_real_eight_device_module(eight_device_module: str):
    report = collectives(parse_module(eight_device_module), "h100")
    assert report.num_devices == 8
    by = {c.collective: c for c in report.collectives}
    assert set(by) == {"reduce-scatter", "all-gather", "all-to-all", "collective-permute", "all-reduce"}
    per_device = 32 * 8 * 4  # each device's block of the f32[64,32] input: [32,8]
    rs = by["reduce-scatter"]
    assert rs.group_size == 4 and sorted(rs.replica_groups.groups) == [(0, 1, 2, 3), (4, 5, 6, 7)]
    assert rs.payload_bytes == per_device and rs.sent_bytes == 3 / 4 * per_device
    ag = by["all-gather"]
    assert ag.group_size == 4 and ag.payload_bytes == per_device
    # psum over "a" groups devices that differ only along the major mesh axis.
    ar = by["all-reduce"]
    assert ar.group_size == 2 and sorted(ar.replica_groups.groups) == [(0, 4), (1, 5), (2, 6), (3, 7)]
    assert ar.sent_bytes == per_device  # 2 * (2-1)/2 * S
    cp = by["collective-permute"]
    assert sorted(cp.pairs) == sorted([(0, 4), (4, 0), (1, 5), (5, 1), (2, 6), (6, 2), (3, 7), (7, 3)])
    assert all(c.time_s > 0 for c in report.collectives)
    assert report.compute_time_s > 0


# --- The main report's comm_bytes / comm_time_s -----------------------------------------------------

_TARGETS = os.path.join(os.path.dirname(__file__), "data", "targets")
_FORMULA = {"all-reduce": lambda n, s: 2 * (n - 1) / n * s, "all-gather": lambda n, s: (n - 1) / n * s * n,
            "reduce-scatter": lambda n, s: (n - 1) / n * s, "all-to-all": lambda n, s: (n - 1) / n * s}


def _check_comm_keys(module, doc: dict, *, timed: bool) -> int:
    """Every collective kernel of `doc` carries comm_bytes equal to the formula on its decoded groups
    (and a positive comm_time_s when `timed`); no other kernel has either key. Returns the count."""
    instructions = {i.name: i for c in module.computations.values() for i in c.instructions}
    found = 0
    for kernel in doc["kernels"]:
        if kernel["kind"] != "collective":
            assert "comm_bytes" not in kernel and "comm_time_s" not in kernel, kernel["name"]
            continue
        found += 1
        inst = instructions[kernel["name"].rsplit("/", 1)[-1]]
        groups = decode_replica_groups(inst.attrs.get("replica_groups"), num_devices(module))
        base = kernel["opcode"].removesuffix("-start")
        payload = sum(t["bytes"] for t in kernel["inputs"])
        assert kernel["comm_bytes"] == pytest.approx(_FORMULA[base](groups.group_size, payload))
        assert kernel["comm_provenance"] == "estimated"
        if timed:
            assert kernel["comm_time_s"] > 0
        else:
            assert kernel["comm_time_s"] is None
    return found


@pytest.mark.parametrize(("name", "target"), [("sharded_matmul.tpu-v5e_2x2.hlo", "tpu-v5e:2x2"),
                                              ("sharded_matmul.h100_8.hlo", "h100:8")])
def test_report_collectives_carry_comm_on_the_corpus(name: str, target: str):
    module = parse_module(open(os.path.join(_TARGETS, name)).read())
    report = analyze(module, get_chip(target.split(":")[0]), extra={"target": target})
    assert _check_comm_keys(module, report.to_json(), timed=True) == 1
    text = report.to_text()
    assert " comm " in text.splitlines()[2] + " " and "comm     1 collective" in text
    # Without a target or a chip with an interconnect (the CPU), the bytes stay and the time is unknown.
    cpu = analyze(module, get_chip("cpu"))
    assert _check_comm_keys(module, cpu.to_json(), timed=False) == 1
    assert "no interconnect known" in cpu.to_text()


def test_report_without_collectives_has_no_comm_column():
    module = parse_module(open(os.path.join(_TARGETS, "gelu.tpu-v5e.hlo")).read())
    report = analyze(module, get_chip("tpu-v5e"), extra={"target": "tpu-v5e"})
    assert "comm" not in report.to_text().splitlines()[2]
    assert not any(k for k in report.to_json()["kernels"] if "comm_bytes" in k)


TORUS = """HloModule torus, num_partitions=4

add {
  a = f32[] parameter(0)
  b = f32[] parameter(1)
  ROOT s = f32[] add(a, b)
}

ENTRY e {
  x = f32[256,256] parameter(0)
  along_x = f32[256,256] all-reduce(x), channel_id=1, replica_groups={{0,1},{2,3}}, to_apply=add
  along_y = f32[256,256] all-reduce(along_x), channel_id=2, replica_groups={{0,2},{1,3}}, to_apply=add
  ROOT both = f32[256,256] all-reduce(along_y), channel_id=3, replica_groups={{0,1,2,3}}, to_apply=add
}
"""


def test_torus_placement_decides_the_rate():
    """On a v5e 2x2 (ids x fastest), a group along x or y is one ring over one axis (2 of 4 ports, half
    the chip's ICI); the group of all four spans both axes (all ports)."""
    link = get_link("tpu-v5e")
    placed = {c.name: c for c in collectives(parse_module(TORUS), link, topology=(2, 2)).collectives}
    s = 256 * 256 * 4
    one_axis = link.bandwidth_bidirectional / 4  # two ports of 1/4 each, per direction
    assert placed["along_x"].time_s == pytest.approx(s / one_axis)  # 2(n-1)/n * S = S for n=2
    assert placed["along_y"].time_s == pytest.approx(s / one_axis)
    assert placed["both"].time_s == pytest.approx(1.5 * s / link.bandwidth_per_direction)
    assert "over 2 of 2 torus axes" in placed["both"].algorithm
    # Unknown topology: every group at the chip's full rate (the old single-ring assumption).
    flat = {c.name: c for c in collectives(parse_module(TORUS), link).collectives}
    assert flat["along_x"].time_s == pytest.approx(s / link.bandwidth_per_direction)
    # A 3D torus: one axis of three is a third of the chip's ICI.
    v5p = get_link("tpu-v5p")
    assert v5p.axis_bandwidth(1) == pytest.approx(v5p.bandwidth_per_direction / 3)
    assert v5p.axis_bandwidth(3) == pytest.approx(v5p.bandwidth_per_direction)


def test_two_devices_of_one_chip_need_no_ici():
    # A v4-like slice: 8 devices on 4 chips, two cores each; ids 0 and 1 share chip (0, 0).
    assert chip_coords(1, 8, (2, 2)) == chip_coords(0, 8, (2, 2)) == (0, 0)
    assert torus_axes([(0, 1), (2, 3)], 8, (2, 2)) == 0
    assert torus_axes([(0, 2)], 8, (2, 2)) == 1
    # The compiler's device assignment overrides the id order: here ids 0 and 1 share a chip.
    assert torus_axes([(0, 1)], 4, (2, 2)) == 1
    assert torus_axes([(0, 1)], 4, (2, 2), coords=[(0, 0, 0), (0, 0, 0), (1, 0, 0), (1, 0, 0)]) == 0


needs_tpu = pytest.mark.skipif(not T.extra_installed(T.CHIPS["tpu-v5e"]),
                               reason="XLA:TPU is not installed: pip install 'irscope[tpu]'")
needs_gpu = pytest.mark.skipif(not T.extra_installed(T.CHIPS["h100"]),
                               reason="XLA:GPU is not installed: pip install 'irscope[gpu]'")


@needs_tpu
def test_chip_coords_match_the_tpu_topology():
    """Device id -> chip coordinates as libtpu lays out its slices (a v4 chip holds two devices)."""
    for name in ("tpu-v5e:4x4", "tpu-v5p:2x2x2", "tpu-v4:2x2x2"):
        shape = T.parse_target(name).shape
        devices = T.devices_for(name)
        for d in devices:
            assert chip_coords(d.id, len(devices), shape) == tuple(d.coords[:len(shape)]), (name, d.id)


@pytest.mark.parametrize(("target", "mesh"), [
    pytest.param("tpu-v5e:2x2", {"data": 2, "model": 2}, marks=needs_tpu),
    pytest.param("tpu-v5e:4x4", {"data": 2, "model": 8}, marks=needs_tpu),
    pytest.param("h100:8", {"data": 2, "model": 4}, marks=needs_gpu),
])
def test_live_sharded_compile_prices_its_collectives(target: str, mesh: dict[str, int]):
    import jax
    import jax.numpy as jnp
    from jax.sharding import PartitionSpec as P

    from irscope.api import inspect_jax

    args = [jax.ShapeDtypeStruct((256, 512), jnp.bfloat16, sharding=P("data", None)),
            jax.ShapeDtypeStruct((512, 2048), jnp.bfloat16, sharding=P(None, "model")),
            jax.ShapeDtypeStruct((2048, 512), jnp.bfloat16, sharding=P("model", None))]
    report = inspect_jax(lambda x, w1, w2: x + jax.nn.gelu(x @ w1) @ w2, args, target=target, mesh=mesh)
    assert _check_comm_keys(report.module, report.to_json(), timed=True) >= 1
    if target.startswith("tpu"):  # the device assignment's chip coordinates, one per device
        assert len(report.extra["device_coords"]) == math.prod(mesh.values())
        assert len({tuple(c) for c in report.extra["device_coords"]}) == math.prod(mesh.values())
    assert "comm     " in report.to_text()
