"""Collective communication time: an alpha-beta model of the topology and the algorithm.

Every algorithm costs

    time = base + steps x step(hops) + bytes through the busiest port / bandwidth
    base = the software base latency of one collective, paid once: the network's
           software_latency_s (a what-if), else the family's fitted fp.comm_latency_s
    step(hops) = the network's sync_latency_s + endpoint_latency_s + hops x its hop latency

The base is software (launch, argument setup, the library's fixed cost of a call): NCCL's tuner
charges 6.6 us once per ring call of its low-latency (LL) protocol (``baseLat``). The per-step
part is the network's: ``sync_latency_s`` is the protocol's synchronisation per step (the receiver
sees the sender's flag with the data; NCCL's tuner models an LL step as 0.6 us on NVLink, 1.0 us
over PCI, 2.7 us over the network, ``hwLat``), a sourced field of each catalog network; the hops
and the endpoints are the topology's. So an algorithm's steps cost only their per-step latency: a
ring of 8 pays the base once and 14 steps, not 14 bases. The algorithm choice on one network
does not depend on the base at all (every candidate pays it).

With ``S`` the message size per chip in bytes, ``p`` the chips in the group, ``B`` the bandwidth
one chip injects towards the group (``Interconnect.group_bandwidth`` x ``fp.comm_bw_eff``):

| collective | algorithm | steps | bytes / bandwidth | where |
|---|---|---|---|---|
| all_reduce | ring | 2(p-1) (torus: 2 sum(d_i - 1)) | 2(p-1)/p x S / B_ring | everywhere |
| | tree (double binary) | 2 ceil(log2 p) | 2 S / B_peer | everywhere |
| | recursive doubling | ceil(log2 p) (torus: per dimension) | steps x S / B_peer | everywhere |
| | one-shot | 1 | (p-1) S / B | switch, full mesh, dragonfly |
| | two-shot (reduce-scatter + all-gather) | 2 | 2(p-1)/p x S / B | switch, full mesh, dragonfly |
| | in-network (switch reduces) | 2 | S / B | switches with ``in_network_reduction`` |
| all_gather (S in, pS out) | ring / recursive doubling / direct | p-1 / ceil(log2 p) / 1 | (p-1) S / B | |
| reduce_scatter (S in, S/p out) | ring / recursive halving / direct | p-1 / ceil(log2 p) / 1 | (p-1)/p x S / B | |
| all_to_all (S in, S out) | direct | 1 | (p-1)/p x S / B; ring, torus: mean distance x S / B | everywhere |
| send | | 1 | S / B_peer | |

``B_ring`` is ``B`` except on a full mesh, where rings can only use 2 floor((p-1)/2) of the p-1
peer links; ``B_peer`` is the bandwidth to a single peer (``B`` through a switch, the links to that
peer on a full mesh, one link on a ring or torus). Steps wait for their farthest message: one-shot,
two-shot and direct steps cross the group's diameter in hops, ring steps one hop on direct
networks (a neighbour), tree steps the mean.

The algorithm is the fastest for each message size (``np.minimum`` over the candidates, as NCCL's
tuner and the engines' custom all-reduce kernels pick): a ring's many steps lose to one-shot at
small messages, one-shot's (p-1) x traffic loses at large ones, and switches that reduce in the
network (NVLink SHARP) move each byte once.

A group larger than the scale-up domain spans n = ceil(p / D) domains of d = ceil(p / n) chips.
Two candidates then compete: *flat*, every algorithm above on the scale-out network with all p
chips, and *hierarchical*: all_reduce = reduce-scatter in the domain, all-reduce of S/d over the n
domains on the scale-out network (d rails in parallel), all-gather in the domain; all_gather and
all_to_all = the inter-domain phase over scale-out, then the intra-domain phase over scale-up;
reduce_scatter = intra then inter. Each phase takes its own fastest algorithm and pays its steps;
the whole collective pays one base, the larger of the two networks' bases: it is one call, as
NCCL's hierarchical algorithms (tree, NVLS tree, CollNet) are one launch whose tuner charges
``baseLat`` once, and as an engine's TP all-reduce across nodes is one NCCL call. Flat pays the
scale-out network's base.

``collective_cost`` returns the chosen algorithm's latency part (base + steps, seconds), bandwidth
part (seconds) and name; ``collective_split`` the two parts without the name (hot path);
``collective_time`` their sum. Both are vectorized over message sizes (any numpy shape).
``degree_study`` / ``tp_latency_bound`` / ``ep_latency_bound`` answer how the collectives'
latency caps the useful TP and EP degree. docs/interconnect.md has the derivations and a worked
example.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import ceil, log2
from typing import NamedTuple

import numpy as np

from llmhw.core.errors import LlmhwError
from llmhw.cost.params import FamilyParams
from llmhw.hardware.interconnect import DIRECT_TOPOLOGIES, Interconnect

Array = np.ndarray | float

KINDS: tuple[str, ...] = ("all_reduce", "all_gather", "reduce_scatter", "all_to_all", "send")
ALGORITHMS: tuple[str, ...] = ("in_network", "one_shot", "two_shot", "ring", "tree", "recursive_doubling",
                               "recursive_halving", "direct", "send", "hierarchical")
_TORUS = ("ring", "torus_2d", "torus_3d")


class CollectiveCost(NamedTuple):
    """Seconds of one collective, split into the chosen algorithm's two terms."""

    latency_s: np.ndarray      # base + steps x step latency: software base, synchronisation and hops
    bandwidth_s: np.ndarray    # bytes / bandwidth
    algorithm: np.ndarray      # the chosen algorithm's name per message size (ALGORITHMS; "flat_" + name
    #                            when a group spanning scale-up domains runs flat on the scale-out network)

    @property
    def time_s(self) -> np.ndarray:
        return self.latency_s + self.bandwidth_s


# -- one network ----------------------------------------------------------------------------


def base_latency(net: Interconnect, fp: FamilyParams) -> float:
    """Software base latency of one collective on ``net``, paid once per collective: the network's
    own when it sets one (a what-if for low-latency collective libraries), else the family's
    fitted ``comm_latency_s``."""
    return fp.comm_latency_s if net.software_latency_s is None else net.software_latency_s


def _log_steps(net: Interconnect, p: int) -> tuple[int, float]:
    """Steps and total hops of recursive doubling (halving): ceil(log2 p) partner exchanges;
    on a ring or torus, dimension by dimension with partners 1, 2, 4, ... apart."""
    if net.topology in _TORUS:
        steps, hops = 0, 0.0
        for d in net.group_shape(p):
            for k in range(ceil(log2(d)) if d > 1 else 0):
                steps += 1
                hops += min(2 ** k, max(d - 2 ** k, 1))
        return steps, hops
    steps = ceil(log2(p))
    return steps, steps * net.hops(p, "max")


def _steps(kind: str, p: int, net: Interconnect, fp: FamilyParams) -> dict[str, tuple[float, float]]:
    """Per algorithm: (seconds of its steps, the base excluded; seconds per byte of message)."""
    eff = fp.comm_bw_eff
    bw = net.group_bandwidth(p) * eff
    bw_ring = net.ring_bandwidth(p) * eff
    bw_peer = net.peer_bandwidth(p) * eff
    a_far = net.step_latency(net.hops(p, "max"))
    a_next = net.step_latency(net.hops(p, "neighbor"))
    a_mean = net.step_latency(net.hops(p, "mean"))
    half_ring = sum(d - 1 for d in net.group_shape(p)) if net.topology in _TORUS else p - 1
    log_steps, log_hops = _log_steps(net, p)
    log_lat = log_steps * net.fixed_step_latency + log_hops * (net.latency_per_hop or 0.0)
    direct = net.topology in DIRECT_TOPOLOGIES
    out: dict[str, tuple[float, float]] = {}
    if kind == "all_reduce":
        if net.in_network_reduction and net.topology in ("switch", "dragonfly"):
            out["in_network"] = (2 * a_far, 1.0 / bw)
        if direct:
            out["one_shot"] = (a_far, (p - 1) / bw)
            out["two_shot"] = (2 * a_far, 2 * (p - 1) / p / bw)
        out["ring"] = (2 * half_ring * a_next, 2 * (p - 1) / p / bw_ring)
        out["tree"] = (2 * ceil(log2(p)) * a_mean, 2.0 / bw_peer)
        out["recursive_doubling"] = (log_lat, log_steps / bw_peer)
    elif kind == "all_gather":
        if direct:
            out["direct"] = (a_far, (p - 1) / bw)
        out["ring"] = (half_ring * a_next, (p - 1) / bw_ring)
        out["recursive_doubling"] = (log_lat, (p - 1) / bw_peer)
    elif kind == "reduce_scatter":
        if direct:
            out["direct"] = (a_far, (p - 1) / p / bw)
        out["ring"] = (half_ring * a_next, (p - 1) / p / bw_ring)
        out["recursive_halving"] = (log_lat, (p - 1) / p / bw_peer)
    elif kind == "all_to_all":
        # Chips' routers forward on a ring or torus (as TPU ICI does), so every chip sends to all
        # peers at once; a byte then crosses mean_distance links, each a share of the chip's links.
        per_byte = (p - 1) / p / bw if (direct or net.topology == "point_to_point") else net.mean_distance(p) / bw
        out["direct"] = (a_far, per_byte)
    else:   # send: one peer
        out["send"] = (net.step_latency(net.hops(2, "max")), 1.0 / bw_peer)
    return out


def candidates(kind: str, group: int, net: Interconnect, fp: FamilyParams) -> dict[str, tuple[float, float]]:
    """The algorithms that can run ``kind`` over ``group`` chips of ``net``, each as
    (latency seconds: the base once + its steps, seconds per byte of message):
    time = latency + per_byte x S."""
    p = int(group)
    if kind not in KINDS:
        raise LlmhwError(f"unknown collective '{kind}'", field="collective", accepted=", ".join(KINDS))
    if p <= 1:
        return {"none": (0.0, 0.0)}
    base = base_latency(net, fp)
    return {name: (base + lat, k) for name, (lat, k) in _steps(kind, p, net, fp).items()}


def _pick(names: Sequence[str], lats: Sequence[Array], bws: Sequence[Array],
          algorithms: Sequence[str] | None = None) -> CollectiveCost:
    keep = [i for i, n in enumerate(names)
            if algorithms is None or n in algorithms or n.removeprefix("flat_") in algorithms]
    if not keep:
        raise LlmhwError(f"none of the algorithms {list(algorithms or ())} runs here", field="algorithms",
                         accepted=", ".join(names))
    shape = np.broadcast_shapes(*(np.shape(x) for x in (*lats, *bws)))
    lat = np.stack([np.broadcast_to(np.asarray(lats[i], dtype=float), shape) for i in keep])
    bw = np.stack([np.broadcast_to(np.asarray(bws[i], dtype=float), shape) for i in keep])
    idx = np.argmin(lat + bw, axis=0)
    take = idx[None, ...]
    return CollectiveCost(np.take_along_axis(lat, take, 0)[0], np.take_along_axis(bw, take, 0)[0],
                          np.asarray([names[i] for i in keep])[idx])


def _on_network(kind: str, S: np.ndarray, group: int, net: Interconnect, fp: FamilyParams,
                algorithms: Sequence[str] | None = None, base: bool = True) -> CollectiveCost:
    """The fastest algorithm on one network; ``base=False`` leaves the base out (a phase of a
    hierarchical collective, which pays one base for all its phases)."""
    c = candidates(kind, group, net, fp) if base else _steps(kind, int(group), net, fp)
    names = list(c)
    return _pick(names, [lat for lat, _ in c.values()], [k * S for _, k in c.values()], algorithms)


# -- groups and networks --------------------------------------------------------------------


def _span(group: int, scale_up: Interconnect | None, scale_out: Interconnect | None) -> tuple[int, int] | None:
    """(chips per domain d, domains n) when the group spans scale-up domains, else None."""
    if scale_up is None or scale_out is None or group <= scale_up.domain_size:
        return None
    n = ceil(group / scale_up.domain_size)
    return ceil(group / n), n


def _single(group: int, scale_up: Interconnect | None, scale_out: Interconnect | None) -> Interconnect:
    if scale_up is not None and (group <= scale_up.domain_size or scale_out is None):
        return scale_up
    if scale_out is not None:
        return scale_out
    raise LlmhwError(f"a collective over {group} chips needs an interconnect; the hardware has none",
                     field="hardware.scale_up")


def collective_cost(kind: str, size: Array, group: int, scale_up: Interconnect | None,
                    scale_out: Interconnect | None, fp: FamilyParams,
                    algorithms: Sequence[str] | None = None) -> CollectiveCost:
    """One collective of ``kind`` with ``size`` bytes per chip over ``group`` chips: the fastest
    algorithm per size, its latency seconds, its bandwidth seconds and its name.

    ``algorithms`` restricts the choice (e.g. ``("ring", "one_shot")``); a group that spans
    scale-up domains also accepts ``"hierarchical"`` and, for flat scale-out algorithms, their
    plain or ``flat_`` names.
    """
    if kind not in KINDS:
        raise LlmhwError(f"unknown collective '{kind}'", field="collective", accepted=", ".join(KINDS))
    S = np.asarray(size, dtype=float)
    group = int(group)
    if group <= 1:
        z = np.zeros_like(S)
        return CollectiveCost(z, z.copy(), np.full(S.shape, "none"))
    span = _span(group, scale_up, scale_out)
    if span is None:
        return _on_network(kind, S, group, _single(group, scale_up, scale_out), fp, algorithms)
    assert scale_up is not None and scale_out is not None
    d, n = span

    def phase(k: str, msg: np.ndarray, g: int, net: Interconnect) -> tuple[np.ndarray, np.ndarray]:
        if g <= 1:
            return np.zeros_like(msg), np.zeros_like(msg)
        c = _on_network(k, msg, g, net, fp, base=False)
        return c.latency_s, c.bandwidth_s

    if kind == "all_reduce":
        parts = [phase("reduce_scatter", S, d, scale_up), phase("all_reduce", S / d, n, scale_out),
                 phase("all_gather", S / d, d, scale_up)]
    elif kind == "all_gather":
        parts = [phase("all_gather", S, n, scale_out), phase("all_gather", S * n, d, scale_up)]
    elif kind == "reduce_scatter":
        parts = [phase("reduce_scatter", S, d, scale_up), phase("reduce_scatter", S / d, n, scale_out)]
    elif kind == "all_to_all":
        parts = [phase("all_to_all", S, n, scale_out), phase("all_to_all", S, d, scale_up)]
    else:   # a send between two chips in different domains
        return _on_network(kind, S, 2, scale_out, fp, algorithms)
    c = candidates(kind, group, scale_out, fp)
    names = ["flat_" + nm for nm in c] + ["hierarchical"]
    # One call, one base (module docstring): the larger of the two networks' software bases.
    base = max(base_latency(scale_up, fp), base_latency(scale_out, fp))
    lats = [lat for lat, _ in c.values()] + [base + sum(p[0] for p in parts)]
    bws = [k * S for _, k in c.values()] + [sum(p[1] for p in parts)]
    return _pick(names, lats, bws, algorithms)


def collective_time(kind: str, size: Array, group: int, scale_up: Interconnect | None,
                    scale_out: Interconnect | None, fp: FamilyParams) -> Array:
    """Seconds for one collective of ``kind`` with ``size`` bytes per chip over ``group`` chips:
    the fastest algorithm's latency + bandwidth seconds (``collective_cost``)."""
    S = np.asarray(size, dtype=float)
    group = int(group)
    if group <= 1:
        return np.zeros_like(S)
    if _span(group, scale_up, scale_out) is None:
        # The hot path: a minimum over a few affine candidates, no argmin or name bookkeeping.
        c = candidates(kind, group, _single(group, scale_up, scale_out), fp)
        it = iter(c.values())
        lat, k = next(it)
        t = lat + k * S
        for lat, k in it:
            t = np.minimum(t, lat + k * S)
        return t
    return collective_cost(kind, S, group, scale_up, scale_out, fp).time_s


def collective_split(kind: str, size: Array, group: int, scale_up: Interconnect | None,
                     scale_out: Interconnect | None, fp: FamilyParams) -> tuple[Array, Array]:
    """(latency seconds, bandwidth seconds) of the fastest algorithm: ``collective_cost`` without
    the names, for the engine's hot path. latency + bandwidth == ``collective_time``."""
    S = np.asarray(size, dtype=float)
    group = int(group)
    if group <= 1:
        return np.zeros_like(S), np.zeros_like(S)
    if _span(group, scale_up, scale_out) is None:
        c = candidates(kind, group, _single(group, scale_up, scale_out), fp)
        if S.ndim == 0:
            lat, k = min(c.values(), key=lambda v: v[0] + v[1] * float(S))
            return np.float64(lat), np.float64(k * float(S))
        it = iter(c.values())
        lat, k = next(it)
        t = lat + k * S
        best_lat = np.full(np.shape(t), lat)
        for lat, k in it:
            tk = lat + k * S
            better = tk < t
            t = np.where(better, tk, t)
            best_lat = np.where(better, lat, best_lat)
        return best_lat, t - best_lat
    c = collective_cost(kind, S, group, scale_up, scale_out, fp)
    return c.latency_s, c.bandwidth_s


# -- how latency caps the useful parallel degree --------------------------------------------


@dataclass
class DegreeStudy:
    """Per parallel degree: one layer's collectives split into latency and bandwidth seconds,
    the layer's other work, and what share of the layer the collectives take.

    ``work_s`` is the layer's non-communication time at that degree (``work_1_s`` at degree 1);
    ``layer_s`` = work + collectives; ``share`` = collectives / layer; ``latency_bound`` where
    latency seconds exceed bandwidth seconds; ``efficiency`` = work_1 / (degree x layer), the
    parallel efficiency; ``useful(e)`` the largest degree still at efficiency e or better (default
    one half: beyond it, more than half of every added chip's time goes to communication);
    ``fastest`` the degree with the shortest layer.
    """

    kind: str
    degree: np.ndarray
    message_bytes: np.ndarray
    latency_s: np.ndarray          # per layer (all its collectives of this kind)
    bandwidth_s: np.ndarray
    algorithm: np.ndarray
    work_s: np.ndarray
    work_1_s: float
    collectives_per_layer: int

    @property
    def comm_s(self) -> np.ndarray:
        return self.latency_s + self.bandwidth_s

    @property
    def layer_s(self) -> np.ndarray:
        return self.work_s + self.comm_s

    @property
    def share(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.layer_s > 0, self.comm_s / self.layer_s, 0.0)

    @property
    def latency_bound(self) -> np.ndarray:
        return self.latency_s > self.bandwidth_s

    @property
    def efficiency(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.layer_s > 0, self.work_1_s / (self.degree * self.layer_s), 1.0)

    def useful(self, min_efficiency: float = 0.5) -> int:
        ok = self.degree[self.efficiency >= min_efficiency]
        return int(ok.max()) if ok.size else int(self.degree.min())

    @property
    def fastest(self) -> int:
        return int(self.degree[int(np.argmin(self.layer_s))])

    def rows(self) -> list[dict]:
        return [{"degree": int(self.degree[i]), "message_bytes": float(self.message_bytes[i]),
                 "algorithm": str(self.algorithm[i]), "latency_s": float(self.latency_s[i]),
                 "bandwidth_s": float(self.bandwidth_s[i]), "work_s": float(self.work_s[i]),
                 "layer_s": float(self.layer_s[i]), "share": float(self.share[i]),
                 "efficiency": float(self.efficiency[i]), "latency_bound": bool(self.latency_bound[i])}
                for i in range(len(self.degree))]


def degree_study(kind: str, message_bytes: Array, work_s: Array, degrees: Sequence[int],
                 scale_up: Interconnect | None, fp: FamilyParams, scale_out: Interconnect | None = None,
                 collectives_per_layer: int = 2) -> DegreeStudy:
    """Price ``collectives_per_layer`` collectives of ``kind`` per layer at each degree.

    ``message_bytes``: one value, or one per degree. ``work_s``: the layer's other time at degree 1,
    split evenly by the degree (a float), or one value per degree (an array, e.g. from
    ``llmhw.sweep``; its first degree then stands for degree 1 as work x degree). Degrees beyond the
    scale-up domain go hierarchical (or flat) over ``scale_out``.
    """
    deg = np.asarray(degrees, dtype=int)
    msg = np.broadcast_to(np.asarray(message_bytes, dtype=float), deg.shape).astype(float)
    w = np.asarray(work_s, dtype=float)
    work = w / deg if w.ndim == 0 else np.broadcast_to(w, deg.shape).astype(float)
    work_1 = float(w) if w.ndim == 0 else float(work[0] * deg[0])
    lat = np.zeros(deg.shape)
    bw = np.zeros(deg.shape)
    alg = np.full(deg.shape, "none", dtype=object)
    for i, g in enumerate(deg):          # a handful of degrees: one vectorized call each
        c = collective_cost(kind, msg[i], int(g), scale_up, scale_out, fp)
        lat[i], bw[i], alg[i] = float(c.latency_s), float(c.bandwidth_s), str(c.algorithm)
    n = collectives_per_layer
    return DegreeStudy(kind, deg, msg, n * lat, n * bw, alg.astype(str), work, work_1, n)


def tp_latency_bound(hidden: int, act_bytes: float, tokens: int, scale_up: Interconnect | None,
                     fp: FamilyParams, tps: Sequence[int] = (1, 2, 4, 8, 16, 32, 64),
                     scale_out: Interconnect | None = None, layer_work_s: Array = 0.0,
                     all_reduces_per_layer: int = 2) -> DegreeStudy:
    """Tensor parallelism: per layer, ``all_reduces_per_layer`` all-reduces (after attention and
    after the FFN) of tokens x hidden x act_bytes each, whatever the TP degree, against the layer's
    other work ``layer_work_s`` at TP 1 (split by TP). A decode message (batch x hidden x 2 bytes:
    16 KB at batch 1 and hidden 8192) is latency-bound: its time stays near the base latency plus
    a step or two per all-reduce while the work shrinks as 1/TP, which caps the useful degree."""
    return degree_study("all_reduce", float(tokens) * hidden * act_bytes, layer_work_s, tps, scale_up, fp,
                        scale_out, all_reduces_per_layer)


def ep_latency_bound(hidden: int, act_bytes: float, tokens: int, top_k: int, scale_up: Interconnect | None,
                     fp: FamilyParams, eps: Sequence[int] = (1, 2, 4, 8, 16, 32, 64),
                     scale_out: Interconnect | None = None, layer_work_s: Array = 0.0) -> DegreeStudy:
    """Expert parallelism: per MoE layer a dispatch and a combine all-to-all of ``tokens`` (per
    chip) x min(top_k, EP) x hidden x act_bytes, against the layer's expert work at EP 1 (split by
    EP)."""
    deg = np.asarray(eps, dtype=int)
    msg = float(tokens) * np.minimum(top_k, deg) * hidden * act_bytes
    return degree_study("all_to_all", msg, layer_work_s, eps, scale_up, fp, scale_out, 2)
