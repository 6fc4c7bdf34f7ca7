"""The collectives pass: replica-group forms, ring traffic, async forms, and a real 8-device module.

The real module is compiled in a subprocess with `--xla_force_host_platform_device_count=8`, so this
pytest process keeps its own device count.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from irscope.interconnect import LINKS, get_link
from irscope.ir.hlo_parser import parse_module
from irscope.passes.collectives import collectives, decode_replica_groups, traffic


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
