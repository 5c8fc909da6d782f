"""Collective communication time: an alpha-beta model of the topology.

    time = steps x alpha + bytes_on_the_busiest_link / bandwidth

alpha is the latency of one algorithm step (software plus the network's hop latency); the
algorithm is picked per message size as NCCL and the engines' custom all-reduce kernels do: a
ring's many steps lose to one-shot at small messages, one-shot's (p-1) x traffic loses at
large ones, and switches that reduce in the network (NVLink SHARP) move each byte once.
"""

from __future__ import annotations

import numpy as np

from llmhw.engine.params import FamilyParams
from llmhw.hardware.interconnect import Interconnect

Array = np.ndarray | float


def _network(scale_up: Interconnect | None, scale_out: Interconnect | None, group: int) -> Interconnect | None:
    """The network a collective over ``group`` chips is limited by."""
    if scale_up is not None and group <= scale_up.domain_size:
        return scale_up
    return scale_out or scale_up


def collective_time(kind: str, size: Array, group: int, scale_up: Interconnect | None,
                    scale_out: Interconnect | None, fp: FamilyParams) -> Array:
    """Seconds for one collective of ``kind`` with ``size`` bytes per chip over ``group`` chips."""
    S = np.asarray(size, dtype=float)
    if group <= 1:
        return np.zeros_like(S)
    net = _network(scale_up, scale_out, group)
    if net is None:
        raise ValueError(f"a collective over {group} chips needs an interconnect; the chip has none")
    bw = net.bandwidth_per_chip * fp.comm_bw_eff
    alpha = fp.comm_latency_s + (net.latency_per_hop or 0.0)
    p = float(group)
    direct = net.topology in ("switch", "full_mesh")
    if net.topology == "torus_2d" or net.topology == "torus_3d":
        ring_steps = 2.0 * sum(d - 1 for d in (net.dims or (group,)))
    else:
        ring_steps = 2.0 * (p - 1)
    if kind == "all_reduce":
        ring = ring_steps * alpha + 2 * (p - 1) / p * S / bw
        if not direct:
            return ring
        one_shot = alpha + (p - 1) * S / bw
        two_shot = 2 * alpha + 2 * (p - 1) / p * S / bw
        t = np.minimum(ring, np.minimum(one_shot, two_shot))
        if net.in_network_reduction:
            t = np.minimum(t, 2 * alpha + S / bw)
        return t
    if kind == "all_gather":
        steps = alpha if direct else ring_steps / 2 * alpha
        return steps + (p - 1) * S / bw
    if kind == "all_to_all":
        steps = alpha if direct else ring_steps / 2 * alpha
        return steps + (p - 1) / p * S / bw
    if kind == "send":
        return alpha + S / bw
    raise ValueError(f"unknown collective '{kind}'")
