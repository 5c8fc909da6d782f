"""Collectives and topologies against hand-derived alpha-beta arithmetic (docs/interconnect.md).

Every collective pays one software base latency and, per algorithm step, the network's
synchronisation + hops x hop latency."""

from dataclasses import replace
from math import log2

import numpy as np
import pytest

from llmhw.core.errors import LlmhwError
from llmhw.core.provenance import build
from llmhw.cost.comm import (
    KINDS,
    candidates,
    collective_cost,
    collective_split,
    collective_time,
    ep_latency_bound,
    tp_latency_bound,
)
from llmhw.cost.params import family_params
from llmhw.hardware.catalog import interconnects, links, lookup
from llmhw.hardware.interconnect import Interconnect, check_size

# Round numbers so every expectation below can be checked with a pencil.
SW = 10e-6          # software base latency, once per collective
HOP = 1e-6          # network latency per hop
FP = replace(family_params("nvidia-gpu"), comm_latency_s=SW, comm_bw_eff=1.0)
A = HOP             # a one-hop step on the test networks (no synchronisation or endpoint latency)
US = 1e-6


def net(**kw) -> Interconnect:
    base = dict(id="t", topology="switch", link=links()["nvlink4"], links_per_chip=1, domain_size=8,
                hop_latency_s=HOP)
    base.update(kw)
    return build(Interconnect, base, where="interconnect")


# A full mesh of 8 chips, 7 links of 64 GB/s each: one link to each peer, 448 GB/s per chip.
MESH = net(topology="full_mesh", link=links()["infinity-fabric"], links_per_chip=7)
B_MESH = 7 * 64e9


def test_one_shot_beats_ring_on_a_full_mesh_only_below_the_crossover():
    # one-shot: the base, 1 step, each chip pulls S from each of 7 peers over that peer's link
    #   t1 = SW + A + 7 S / B
    # ring: the base, 14 steps of one hop; rings use 2 x floor(7/2) = 6 of the 7 peer links
    # (Walecki), so t_ring = SW + 14 A + (2 x 7/8) S / (6/7 B) = SW + 14 A + (49/24) S / B
    # equal at S* = 13 A B / (7 - 49/24) = (312/119) A B: the base cancels
    c = candidates("all_reduce", 8, MESH, FP)
    assert c["one_shot"] == pytest.approx((SW + A, 7 / B_MESH))
    assert c["ring"] == pytest.approx((SW + 14 * A, 49 / 24 / B_MESH))
    s_star = 312 / 119 * A * B_MESH
    assert s_star == pytest.approx(1.1745e6, rel=1e-3)                 # 1.17 MB
    below, above = s_star * 0.99, s_star * 1.01
    pick = collective_cost("all_reduce", np.array([below, above]), 8, MESH, None, FP,
                           algorithms=("ring", "one_shot"))
    assert list(pick.algorithm) == ["one_shot", "ring"]
    t1 = SW + A + 7 * s_star / B_MESH
    assert collective_time("all_reduce", s_star, 8, MESH, None, FP) <= t1   # two-shot is better still


def test_full_choice_on_a_full_mesh_flips_from_one_shot_to_two_shot():
    # two-shot: SW + 2 A + 2 (7/8) S / B; equal to one-shot at S = A B / (7 - 7/4) = A B / 5.25
    s2 = A * B_MESH / 5.25
    assert s2 == pytest.approx(85_333, rel=1e-4)
    c = collective_cost("all_reduce", np.array([0.0, 16e3, s2 * 0.99, s2 * 1.01, 1e9]), 8, MESH, None, FP)
    assert list(c.algorithm) == ["one_shot", "one_shot", "one_shot", "two_shot", "two_shot"]
    # latency and bandwidth seconds are the chosen algorithm's two terms
    assert c.latency_s[1] == pytest.approx(SW + A) and c.bandwidth_s[1] == pytest.approx(7 * 16e3 / B_MESH)
    assert c.latency_s[4] == pytest.approx(SW + 2 * A) and c.bandwidth_s[4] == pytest.approx(1.75e9 / B_MESH)
    assert np.allclose(c.time_s, collective_time("all_reduce", c.latency_s * 0 + [0.0, 16e3, s2 * 0.99,
                                                                                 s2 * 1.01, 1e9], 8, MESH, None, FP))


def test_in_network_reduction_moves_each_byte_once():
    sw = net(links_per_chip=18, in_network_reduction=True)        # 18 x 25 GB/s = 450 GB/s
    c = candidates("all_reduce", 8, sw, FP)
    B = 450e9
    assert c["in_network"] == pytest.approx((SW + 2 * A, 1 / B))
    assert c["two_shot"] == pytest.approx((SW + 2 * A, 2 * 7 / 8 / B))
    # Same two steps, S / B instead of 2 (p-1)/p x S / B: half the bytes as p grows (8/14 at p = 8).
    assert c["in_network"][1] / c["two_shot"][1] == pytest.approx(8 / 14)
    big = collective_cost("all_reduce", 1e9, 8, sw, None, FP)
    assert str(big.algorithm) == "in_network" and float(big.bandwidth_s) == pytest.approx(1e9 / B)
    # Without it the same switch falls back to two-shot at large messages.
    plain = collective_cost("all_reduce", 1e9, 8, net(links_per_chip=18), None, FP)
    assert str(plain.algorithm) == "two_shot"


@pytest.mark.parametrize("p", [2, 4, 8, 16, 64])
def test_recursive_doubling_takes_log2_p_steps(p):
    sw = net(domain_size=64)
    lat, per_byte = candidates("all_reduce", p, sw, FP)["recursive_doubling"]
    assert lat == pytest.approx(SW + log2(p) * A)
    assert per_byte == pytest.approx(log2(p) / 25e9)               # the whole message at every step
    # On a ring of 8 the partners are 1, 2 and 4 hops away: 3 steps, 7 hops; with 0.6 us of
    # synchronisation per step, 3 x 0.6 us more (the synchronisation is per step, not per hop).
    ring = net(topology="ring", links_per_chip=2, dims=[8])
    assert candidates("all_reduce", 8, ring, FP)["recursive_doubling"][0] == pytest.approx(SW + 7 * HOP)
    synced = net(topology="ring", links_per_chip=2, dims=[8], sync_latency_s=0.6 * US)
    assert candidates("all_reduce", 8, synced, FP)["recursive_doubling"][0] == pytest.approx(
        SW + 3 * 0.6 * US + 7 * HOP)


def test_hierarchical_all_to_all_across_two_nodes_uses_the_scale_out_link():
    up, out = interconnects()["nvlink4-hgx8"], interconnects()["ib-ndr-scaleout"]
    fp = FP
    S = 64e6
    c = collective_cost("all_to_all", S, 16, up, out, fp)
    assert str(c.algorithm) == "hierarchical"
    b_up, b_out = up.bandwidth_per_chip, out.bandwidth_per_chip          # 450 and 50 GB/s
    # inter-node: half of each chip's bytes leave over its own NIC; then 7/8 move inside the node
    assert float(c.bandwidth_s) == pytest.approx(S / 2 / b_out + 7 / 8 * S / b_up)
    # one base for the whole collective (one call), then one step on each network:
    # IB (2.7 us synchronisation + 0.3 us switch) and NVLink (0.6 us + 0.5 us NVSwitch)
    assert float(c.latency_s) == pytest.approx(SW + (2.7 + 0.3) * US + (0.6 + 0.5) * US)
    assert out.step_latency(1) == pytest.approx(3.0 * US) and up.step_latency(1) == pytest.approx(1.1 * US)
    # flat (every byte through the NIC, one step) wins when latency dominates
    small = collective_cost("all_to_all", 1e3, 16, up, out, fp)
    assert str(small.algorithm) == "flat_direct"
    assert float(small.bandwidth_s) == pytest.approx(15 / 16 * 1e3 / b_out)


def test_spanning_all_reduce_is_hierarchical_for_large_messages():
    up, out = interconnects()["nvlink4-hgx8"], interconnects()["ib-ndr-scaleout"]
    S = 256e6
    c = collective_cost("all_reduce", S, 16, up, out, FP)
    assert str(c.algorithm) == "hierarchical"
    # reduce-scatter in the node (direct), all-reduce of S/8 between the 2 nodes, all-gather back;
    # each phase's candidate carries the base, the whole collective pays it once
    inter = min(candidates("all_reduce", 2, out, FP).values(), key=lambda t: t[0] + t[1] * S / 8)
    rs = candidates("reduce_scatter", 8, up, FP)["direct"]
    ag = candidates("all_gather", 8, up, FP)["direct"]
    assert float(c.time_s) == pytest.approx(rs[0] + rs[1] * S + inter[0] + inter[1] * S / 8 + ag[0] + ag[1] * S / 8
                                            - 2 * SW)
    assert float(c.latency_s) == pytest.approx(SW + 1.1 * US + inter[0] - SW + 1.1 * US)
    flat = collective_cost("all_reduce", S, 16, up, out, FP, algorithms=("in_network", "ring"))
    assert str(flat.algorithm).startswith("flat_") and float(flat.time_s) > float(c.time_s)


def test_torus_dims_must_match_the_domain():
    with pytest.raises(LlmhwError) as e:
        net(topology="torus_2d", links_per_chip=4, domain_size=200, dims=[16, 16])
    assert e.value.field == "interconnect.dims" and "256" in str(e.value)
    with pytest.raises(LlmhwError) as e:
        net(topology="torus_3d", links_per_chip=6, domain_size=64)
    assert e.value.field == "interconnect.dims"
    with pytest.raises(LlmhwError) as e:
        net(topology="torus_3d", links_per_chip=6, domain_size=16, dims=[4, 4])
    assert e.value.field == "interconnect.dims"
    with pytest.raises(LlmhwError) as e:
        net(topology="full_mesh", links_per_chip=4, domain_size=8)
    assert e.value.field == "interconnect.links_per_chip"
    with pytest.raises(LlmhwError) as e:
        net(topology="ring", links_per_chip=2, levels=2)
    assert e.value.field == "interconnect.levels"


def test_check_size_names_the_field():
    torus = interconnects()["tpu-v5e-ici-8"]                        # 2 x 4
    check_size(torus, 8)
    check_size(torus, 4)
    with pytest.raises(LlmhwError) as e:
        check_size(torus, 16)
    assert e.value.field == "interconnect.domain_size"
    with pytest.raises(LlmhwError) as e:
        check_size(torus, 5)                                        # 5 fits no dimension of 2 x 4
    assert e.value.field == "interconnect.topology"
    with pytest.raises(LlmhwError) as e:
        check_size(interconnects()["nvlink4-hgx8"], 9, where="hardware.scale_up")
    assert e.value.field == "hardware.scale_up.domain_size"


def test_diameters():
    # dragonfly of 2 chips per router, 4 routers per group, 9 groups: local, global, local links
    fly = net(topology="dragonfly", domain_size=72, dims=[2, 4, 9])
    assert fly.diameter == 4
    assert fly.hops(2) == 1 and fly.hops(8) == 2 and fly.hops(9) == 4
    assert interconnects()["slingshot-dragonfly"].diameter == 4
    assert net(topology="ring", links_per_chip=2, dims=[8]).diameter == 4
    assert interconnects()["tpu-v4-ici"].diameter == 24             # 16 x 16 x 16: 8 + 8 + 8
    assert MESH.diameter == 1
    assert net().diameter == 1
    # a 3-level fat tree of 64-port switches: 32 chips below a leaf, 1024 below a pod
    tree = interconnects()["ib-ndr-scaleout"]
    assert tree.diameter == 5
    assert [tree.hops(g) for g in (16, 32, 33, 1024, 1025)] == [1, 1, 3, 3, 5]


def test_links_a_group_can_use():
    assert MESH.group_bandwidth(4) == pytest.approx(3 * 64e9)          # links to 3 peers only
    assert MESH.peer_bandwidth(8) == pytest.approx(64e9)
    v4 = interconnects()["tpu-v4-ici"]
    assert v4.slice_dims(64) == (4, 4, 4) and v4.links_used(64) == 6     # 3D torus: 6 links
    assert interconnects()["tpu-v5e-ici"].links_used(256) == 4           # 2D torus: 4 links
    assert net(topology="ring", links_per_chip=2, dims=[8]).links_used(8) == 2


def test_time_is_monotonic_in_size_and_hop_latency():
    sizes = np.sort(np.concatenate([[0.0], np.geomspace(1, 1e10, 300)]))
    nets = [MESH, net(links_per_chip=18, in_network_reduction=True), interconnects()["tpu-v5e-ici"],
            interconnects()["slingshot-dragonfly"], net(topology="point_to_point")]
    up, out = interconnects()["nvlink4-hgx8"], interconnects()["ib-ndr-scaleout"]
    for kind in KINDS:
        for n in nets:
            g = min(8, n.domain_size)
            t = collective_time(kind, sizes, g, n, None, FP)
            assert np.all(np.diff(t) >= -1e-18), (kind, n.id)
            slow = n.model_copy(update={"hop_latency_s": 10 * HOP})
            assert np.all(collective_time(kind, sizes, g, slow, None, FP) >= t - 1e-18), (kind, n.id)
            nic = n.model_copy(update={"endpoint_latency_s": 2e-6})
            assert np.all(collective_time(kind, sizes, g, nic, None, FP) >= t + 2e-6 - 1e-15), (kind, n.id)
            sync = n.model_copy(update={"sync_latency_s": 2e-6})
            assert np.all(collective_time(kind, sizes, g, sync, None, FP) >= t + 2e-6 - 1e-15), (kind, n.id)
        for g in (8, 32):
            t = collective_time(kind, sizes, g, up, out, FP)
            assert np.all(np.diff(t) >= -1e-18), kind
            c = collective_cost(kind, sizes, g, up, out, FP)
            lat, bw = collective_split(kind, sizes, g, up, out, FP)
            assert np.allclose(t, c.time_s, rtol=1e-12) and np.allclose(lat, c.latency_s) and np.allclose(bw, c.bandwidth_s)


def test_zero_for_a_group_of_one():
    for kind in KINDS:
        t = collective_time(kind, np.array([0.0, 1e6]), 1, MESH, None, FP)
        assert t.shape == (2,) and not t.any()
        c = collective_cost(kind, 1e6, 1, None, None, FP)
        assert float(c.time_s) == 0.0


def test_errors():
    with pytest.raises(LlmhwError):
        collective_time("broadcast", 1e3, 8, MESH, None, FP)
    with pytest.raises(LlmhwError) as e:
        collective_time("all_reduce", 1e3, 8, None, None, FP)
    assert e.value.field == "hardware.scale_up"


def test_worked_example_8_h100_decode_all_reduce():
    # docs/interconnect.md: batch 64 x hidden 8192 x 2 bytes = 1 MiB over 8 H100s on NVSwitch.
    fp = family_params("nvidia-gpu")
    nv = interconnects()["nvlink4-hgx8"]
    S = 64 * 8192 * 2
    base = fp.comm_latency_s
    a = 0.6 * US + 0.5 * US                  # a step: NCCL's NVLink synchronisation + one NVSwitch hop
    B = 450e9 * fp.comm_bw_eff
    c = collective_cost("all_reduce", S, 8, nv, None, fp)
    assert str(c.algorithm) == "in_network"
    assert float(c.latency_s) == pytest.approx(base + 2 * a) and float(c.bandwidth_s) == pytest.approx(S / B)
    assert collective_split("all_reduce", S, 8, nv, None, fp) == pytest.approx((base + 2 * a, S / B))
    # one-shot (base + a + 7 S / B) wins below a B / 6 = 61.9 KB at 75 % of 450 GB/s, whatever the base
    assert a * 337.5e9 / 6 == pytest.approx(61_875)
    assert str(collective_cost("all_reduce", 0.99 * a * B / 6, 8, nv, None, fp).algorithm) == "one_shot"
    assert str(collective_cost("all_reduce", 1.01 * a * B / 6, 8, nv, None, fp).algorithm) == "in_network"


@pytest.mark.parametrize("base", [12.6 * US, 20 * US])
def test_small_decode_all_reduce_on_nvswitch_is_a_base_and_one_step(base):
    # A 16 KB decode all-reduce (batch 1 x hidden 8192 x 2 B) over hgx-h100-8's NVSwitch, at a base
    # of 12.6 us (about today's fitted NVIDIA value) and at the fit's 20 us bound: one-shot = the
    # base + one step (0.6 us NVLink synchronisation + one 0.5 us NVSwitch hop) + 7 x 16 KB at 75 %
    # of 18 x 25 GB/s (0.34 us): 14.04 and 21.44 us, within 25 us. (NCCL measures 19-23 us through
    # torch.distributed on 8 x H100, hardware.md 3b.)
    fp = replace(family_params("nvidia-gpu"), comm_latency_s=base)
    up = lookup("hgx-h100-8").scale_up_network
    S = 8192 * 2
    B = 18 * 25e9 * fp.comm_bw_eff
    one_shot = base + (0.6 + 0.5) * US + 7 * S / B
    c = collective_cost("all_reduce", S, 8, up, None, fp)
    assert str(c.algorithm) == "one_shot" and float(c.time_s) == pytest.approx(one_shot)
    assert float(c.time_s) <= 25 * US
    # in-network reduction takes one 1.1 us step more for 7 x fewer bytes: 0.34 - 0.05 us saved
    assert float(collective_time("all_reduce", S, 8, up, None, fp)) < base + 2 * 1.1 * US


@pytest.mark.parametrize("base", [12.6 * US, 20 * US])
@pytest.mark.parametrize("link, sync, per_step", [("nvlink4", 0.6 * US, 0.5 * US), ("tpu-v5e-ici-link", 0.0, 1 * US)])
def test_small_decode_all_reduce_on_a_ring_of_8(base, link, sync, per_step):
    # The same 16 KB over a ring of 8 chips with 2 links each at the catalog's hop latency: NVLink 4
    # (25 GB/s, 0.5 us, with NVLink's 0.6 us synchronisation per step) or TPU v5e ICI (50 GB/s, 1 us,
    # no synchronisation figure). By hand (h = hop, y = synchronisation, b = one link at 75 %):
    #   recursive doubling: base + 3 y + (1 + 2 + 4) h + 3 S / b
    #   ring:               base + 14 (y + h) + 2 (7/8) S / (2 b)
    #   tree:               base + 6 (y + (16/7) h) + 2 S / b        (mean ring distance 16/7)
    # NVLink: base + 7.92 us (RD) < base + 12.20 (tree) < base + 16.17 (ring): 20.52 and 27.92 us.
    # ICI:    base + 8.31 us (RD): 20.91 and 28.31 us. Both within 30 us at the 20 us bound.
    fp = replace(family_params("nvidia-gpu"), comm_latency_s=base)
    ring = net(topology="ring", link=links()[link], links_per_chip=2, dims=[8], hop_latency_s=None,
               sync_latency_s=sync)
    assert ring.latency_per_hop == pytest.approx(per_step)
    if link == "nvlink4":
        assert sync == interconnects()["nvlink4-hgx8"].sync_latency_s      # the NVLink networks' value
    S = 8192 * 2
    b = links()[link].bandwidth_bytes_per_s * fp.comm_bw_eff
    h, y = per_step, sync
    rd = base + 3 * y + 7 * h + 3 * S / b
    by_hand = {"recursive_doubling": rd, "ring": base + 14 * (y + h) + 1.75 * S / (2 * b),
               "tree": base + 6 * (y + 16 / 7 * h) + 2 * S / b}
    c = collective_cost("all_reduce", S, 8, ring, None, fp)
    assert str(c.algorithm) == "recursive_doubling" and float(c.time_s) == pytest.approx(rd)
    for name, t in by_hand.items():
        assert float(collective_cost("all_reduce", S, 8, ring, None, fp, algorithms=(name,)).time_s) == pytest.approx(t)
    assert float(c.time_s) <= 30 * US


def test_the_base_is_paid_once_per_collective():
    # A ring all-reduce on one switch of 64 with 0.6 us of synchronisation per step: SW once, then
    # 2 (p - 1) steps of (0.6 us + one 1 us hop). Growing the group adds steps, never bases.
    sw = net(domain_size=64, sync_latency_s=0.6 * US)
    step = 0.6 * US + HOP
    ps = (2, 4, 8, 16, 32, 64)
    lats = [float(collective_cost("all_reduce", 16e3, p, sw, None, FP, algorithms=("ring",)).latency_s) for p in ps]
    assert lats == pytest.approx([SW + 2 * (p - 1) * step for p in ps])
    assert np.diff(lats) == pytest.approx([2 * (b - a) * step for a, b in zip(ps[:-1], ps[1:], strict=True)])
    # Every candidate: the base + its own steps (one-shot 1, two-shot 2, recursive doubling 3).
    c = candidates("all_reduce", 8, sw, FP)
    assert c["one_shot"][0] == pytest.approx(SW + step) and c["two_shot"][0] == pytest.approx(SW + 2 * step)
    assert c["recursive_doubling"][0] == pytest.approx(SW + 3 * step)
    # A larger base shifts every collective by exactly the difference, one network or two
    # (hierarchical is one call: one base), so it never changes the algorithm chosen.
    sizes = np.geomspace(1, 1e9, 50)
    fp30 = replace(FP, comm_latency_s=30 * US)
    up, out = interconnects()["nvlink4-hgx8"], interconnects()["ib-ndr-scaleout"]
    for kind in KINDS:
        for g, u, o in ((8, sw, None), (32, up, out), (16, up, out)):
            a, b = collective_cost(kind, sizes, g, u, o, FP), collective_cost(kind, sizes, g, u, o, fp30)
            assert np.allclose(b.time_s - a.time_s, 20 * US, rtol=0, atol=1e-12), (kind, g)
            assert list(a.algorithm) == list(b.algorithm)
    # A network's own software latency (a what-if) replaces the family's base, once.
    fast = sw.model_copy(update={"software_latency_s": 1 * US})
    assert candidates("all_reduce", 8, fast, FP)["ring"][0] == pytest.approx(1 * US + 14 * step)


def test_latency_caps_the_useful_tp_degree():
    sw = net(links_per_chip=18, domain_size=64)
    work = 400e-6                                    # one layer's other work at TP 1
    s = tp_latency_bound(8192, 2, 1, sw, FP, tps=(1, 2, 4, 8, 16, 32, 64), layer_work_s=work)
    S = 8192 * 2
    # 16 KB, 2 per layer: one-shot 2 (SW + A + (p-1) S / 450 GB/s) up to TP 16; from TP 32 two-shot
    # 2 (SW + 2 A + 2 (p-1)/p x S / 450 GB/s) (one more 1 us step, but (p-1) S / B is 1.13 us at 32)
    for p, lat, bw in zip(s.degree, s.latency_s, s.bandwidth_s, strict=True):
        if p == 1:
            assert lat == bw == 0.0
        elif p <= 16:
            assert lat == pytest.approx(2 * (SW + A)) and bw == pytest.approx(2 * (p - 1) * S / 450e9)
        else:
            assert lat == pytest.approx(2 * (SW + 2 * A)) and bw == pytest.approx(2 * 2 * (p - 1) / p * S / 450e9)
    assert s.latency_bound[1:].all() and not s.latency_bound[0]
    layer = work / s.degree + s.latency_s + s.bandwidth_s
    # efficiency = 400 us / (p x layer): 0.69 at 8, 0.52 at 16, 0.34 at 32 (layer 72.5, 48.1, 36.6 us)
    assert s.efficiency[3:6] == pytest.approx(work / (s.degree[3:6] * layer[3:6]))
    assert s.efficiency[3:6] == pytest.approx([0.690, 0.520, 0.341], abs=2e-3)
    assert s.useful() == 16 and s.useful(0.6) == 8
    assert s.fastest == 64                   # one or two steps at any p on one switch
    assert np.all(np.diff(s.share) > 0)
    # Past one HGX node of 8 the TP all-reduce crosses InfiniBand: 50 GB/s instead of 450.
    hgx, ib = interconnects()["nvlink4-hgx8"], interconnects()["ib-ndr-scaleout"]
    s2 = tp_latency_bound(8192, 2, 1, hgx, FP, scale_out=ib, layer_work_s=work)
    assert all(a.startswith(("flat_", "hierarchical")) for a in s2.algorithm[4:])
    assert s2.comm_s[4] > s.comm_s[4] and s2.useful() == 8
    assert s.rows()[3]["degree"] == 8
    e = ep_latency_bound(7168, 1, 32, 8, sw, FP, eps=(1, 8, 64), layer_work_s=2e-3)
    assert list(e.message_bytes) == [32 * 1 * 7168, 32 * 8 * 7168, 32 * 8 * 7168]


def test_software_latency_override_is_a_low_latency_what_if():
    import llmhw
    from llmhw.cost.params import family_params

    base = {"model": "llama-3.1-70b", "hardware": "hgx-h100-8", "n_chips": 8, "parallelism": {"tp": 8},
            "workload": {"input_tokens": 1024, "output_tokens": 128, "batch": 1}}
    a = llmhw.predict(base).to_dict()["breakdown"]["decode"]
    b = llmhw.predict({**base, "overrides": {"interconnect.software_latency_s": 1e-6}}).to_dict()["breakdown"]["decode"]
    fitted = family_params("nvidia-gpu").comm_latency_s
    # 161 collectives per decode step (one-shot on NVSwitch): each pays one software base, so each
    # loses the fitted base and gains 1 us; their steps (and the algorithm choice) do not change.
    assert a["comm_latency_s"] - b["comm_latency_s"] == pytest.approx(161 * (fitted - 1e-6), rel=1e-6)
    assert b["memory_s"] == pytest.approx(a["memory_s"])
