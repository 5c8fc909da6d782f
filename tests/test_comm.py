"""Collectives and topologies against hand-derived alpha-beta arithmetic (docs/interconnect.md)."""

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
from llmhw.hardware.catalog import interconnects, links
from llmhw.hardware.interconnect import Interconnect, check_size

# Round numbers so every expectation below can be checked with a pencil.
SW = 10e-6          # software latency per algorithm step
HOP = 1e-6          # network latency per hop
FP = replace(family_params("nvidia-gpu"), comm_latency_s=SW, comm_bw_eff=1.0)
A = SW + HOP        # alpha of a one-hop step


def net(**kw) -> Interconnect:
    base = dict(id="t", topology="switch", link=links()["nvlink4"], links_per_chip=1, domain_size=8,
                hop_latency_s=HOP)
    base.update(kw)
    return build(Interconnect, base, where="interconnect")


# A full mesh of 8 chips, 7 links of 64 GB/s each: one link to each peer, 448 GB/s per chip.
MESH = net(topology="full_mesh", link=links()["infinity-fabric"], links_per_chip=7)
B_MESH = 7 * 64e9


def test_one_shot_beats_ring_on_a_full_mesh_only_below_the_crossover():
    # one-shot: 1 step, each chip pulls S from each of 7 peers over that peer's link, in parallel
    #   t1 = A + 7 S / B
    # ring: 14 steps of one hop; rings use 2 x floor(7/2) = 6 of the 7 peer links (Walecki), so
    #   t_ring = 14 A + (2 x 7/8) S / (6/7 B) = 14 A + (49/24) S / B
    # equal at S* = 13 A B / (7 - 49/24) = (312/119) A B
    c = candidates("all_reduce", 8, MESH, FP)
    assert c["one_shot"] == pytest.approx((A, 7 / B_MESH))
    assert c["ring"] == pytest.approx((14 * A, 49 / 24 / B_MESH))
    s_star = 312 / 119 * A * B_MESH
    assert s_star == pytest.approx(12.92e6, rel=1e-3)                  # 12.9 MB
    below, above = s_star * 0.99, s_star * 1.01
    pick = collective_cost("all_reduce", np.array([below, above]), 8, MESH, None, FP,
                           algorithms=("ring", "one_shot"))
    assert list(pick.algorithm) == ["one_shot", "ring"]
    t1 = A + 7 * s_star / B_MESH
    assert collective_time("all_reduce", s_star, 8, MESH, None, FP) <= t1   # two-shot is better still


def test_full_choice_on_a_full_mesh_flips_from_one_shot_to_two_shot():
    # two-shot: 2 A + 2 (7/8) S / B; equal to one-shot at S = A B / (7 - 7/4) = A B / 5.25
    s2 = A * B_MESH / 5.25
    assert s2 == pytest.approx(938_667, rel=1e-4)
    c = collective_cost("all_reduce", np.array([0.0, 16e3, s2 * 0.99, s2 * 1.01, 1e9]), 8, MESH, None, FP)
    assert list(c.algorithm) == ["one_shot", "one_shot", "one_shot", "two_shot", "two_shot"]
    # latency and bandwidth seconds are the chosen algorithm's two terms
    assert c.latency_s[1] == pytest.approx(A) and c.bandwidth_s[1] == pytest.approx(7 * 16e3 / B_MESH)
    assert c.latency_s[4] == pytest.approx(2 * A) and c.bandwidth_s[4] == pytest.approx(1.75e9 / B_MESH)
    assert np.allclose(c.time_s, collective_time("all_reduce", c.latency_s * 0 + [0.0, 16e3, s2 * 0.99,
                                                                                 s2 * 1.01, 1e9], 8, MESH, None, FP))


def test_in_network_reduction_moves_each_byte_once():
    sw = net(links_per_chip=18, in_network_reduction=True)        # 18 x 25 GB/s = 450 GB/s
    c = candidates("all_reduce", 8, sw, FP)
    B = 450e9
    assert c["in_network"] == pytest.approx((2 * A, 1 / B))
    assert c["two_shot"] == pytest.approx((2 * A, 2 * 7 / 8 / B))
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
    assert lat == pytest.approx(log2(p) * A)
    assert per_byte == pytest.approx(log2(p) / 25e9)               # the whole message at every step
    # On a ring of 8 the partners are 1, 2 and 4 hops away: 3 steps, 7 hops.
    ring = net(topology="ring", links_per_chip=2, dims=[8])
    assert candidates("all_reduce", 8, ring, FP)["recursive_doubling"][0] == pytest.approx(3 * SW + 7 * HOP)


def test_hierarchical_all_to_all_across_two_nodes_uses_the_scale_out_link():
    up, out = interconnects()["nvlink4-hgx8"], interconnects()["ib-ndr-scaleout"]
    fp = FP
    S = 64e6
    c = collective_cost("all_to_all", S, 16, up, out, fp)
    assert str(c.algorithm) == "hierarchical"
    b_up, b_out = up.bandwidth_per_chip, out.bandwidth_per_chip          # 450 and 50 GB/s
    # inter-node: half of each chip's bytes leave over its own NIC; then 7/8 move inside the node
    assert float(c.bandwidth_s) == pytest.approx(S / 2 / b_out + 7 / 8 * S / b_up)
    # one step on each network: software + IB switch hop, software + NVSwitch hop
    assert float(c.latency_s) == pytest.approx(2 * SW + out.latency_per_hop + up.latency_per_hop)
    # flat (every byte through the NIC, one step) wins when latency dominates
    small = collective_cost("all_to_all", 1e3, 16, up, out, fp)
    assert str(small.algorithm) == "flat_direct"
    assert float(small.bandwidth_s) == pytest.approx(15 / 16 * 1e3 / b_out)


def test_spanning_all_reduce_is_hierarchical_for_large_messages():
    up, out = interconnects()["nvlink4-hgx8"], interconnects()["ib-ndr-scaleout"]
    S = 256e6
    c = collective_cost("all_reduce", S, 16, up, out, FP)
    assert str(c.algorithm) == "hierarchical"
    # reduce-scatter in the node (direct), all-reduce of S/8 between the 2 nodes, all-gather back
    inter = min(candidates("all_reduce", 2, out, FP).values(), key=lambda t: t[0] + t[1] * S / 8)
    rs = candidates("reduce_scatter", 8, up, FP)["direct"]
    ag = candidates("all_gather", 8, up, FP)["direct"]
    assert float(c.time_s) == pytest.approx(rs[0] + rs[1] * S + inter[0] + inter[1] * S / 8 + ag[0] + ag[1] * S / 8)
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
    a = fp.comm_latency_s + nv.latency_per_hop
    B = 450e9 * fp.comm_bw_eff
    c = collective_cost("all_reduce", S, 8, nv, None, fp)
    assert str(c.algorithm) == "in_network"
    assert float(c.latency_s) == pytest.approx(2 * a) and float(c.bandwidth_s) == pytest.approx(S / B)
    assert collective_split("all_reduce", S, 8, nv, None, fp) == pytest.approx((2 * a, S / B))
    # one-shot wins below a B / 6 (745 KB with the shipped calibration)
    assert str(collective_cost("all_reduce", 0.99 * a * B / 6, 8, nv, None, fp).algorithm) == "one_shot"


def test_latency_caps_the_useful_tp_degree():
    sw = net(links_per_chip=18, domain_size=64)
    work = 400e-6                                    # one layer's other work at TP 1
    s = tp_latency_bound(8192, 2, 1, sw, FP, tps=(1, 2, 4, 8, 16, 32, 64), layer_work_s=work)
    S = 8192 * 2
    # 16 KB: one-shot, 2 per layer: 2 (A + (p-1) S / 450 GB/s)
    for p, lat, bw in zip(s.degree, s.latency_s, s.bandwidth_s, strict=True):
        if p == 1:
            assert lat == bw == 0.0
        else:
            assert lat == pytest.approx(2 * A) and bw == pytest.approx(2 * (p - 1) * S / 450e9)
    assert s.latency_bound[1:].all() and not s.latency_bound[0]
    layer = work / s.degree + s.latency_s + s.bandwidth_s
    # efficiency = 400 us / (p x layer): 0.69 at 8, 0.52 at 16, 0.34 at 32 (layer 72.5, 48.1, 36.7 us)
    assert s.efficiency[3:6] == pytest.approx(work / (s.degree[3:6] * layer[3:6]))
    assert s.efficiency[3:6] == pytest.approx([0.690, 0.520, 0.341], abs=2e-3)
    assert s.useful() == 16 and s.useful(0.6) == 8
    assert s.fastest == 64                   # one-shot's latency does not grow with p on one switch
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
    # 161 single-step collectives per decode step (one-shot on NVSwitch): each loses the fitted
    # software alpha and gains 1 us.
    assert a["comm_latency_s"] - b["comm_latency_s"] == pytest.approx(161 * (fitted - 1e-6), rel=1e-6)
    assert b["memory_s"] == pytest.approx(a["memory_s"])
