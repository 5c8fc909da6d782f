"""RQ4: low-latency interconnect for decode.

Ma & Patterson (2026, sections 3 and 4.6): decode messages are small (a TP all-reduce carries batch x
hidden x 2 bytes), so "latency trumps bandwidth"; they propose high-connectivity topologies (fewer
hops), processing in the network (in-switch reduction, one-step all-reduce), smaller systems
(more capacity per chip, e.g. HBF), and reliability co-design: a local standby spare instead of
migrating a job, and timeouts with stale or fake data instead of waiting for stragglers.

The collective costs come from llmhw's alpha-beta model (cost/comm.py, docs/interconnect.md):
time = software base (once per collective) + steps x (synchronisation + hops x hop latency)
+ bytes / bandwidth, the fastest algorithm per message size. The study's hypothetical networks
set no synchronisation latency: their hop latency stands for all of a step's latency. Failures and stragglers are modelled analytically here (see ``recovery`` and
``straggler_wait``); their assumptions are in the tables' notes.
"""

from __future__ import annotations

from dataclasses import replace
from math import ceil, log2
from typing import Any

import numpy as np
from matplotlib.figure import Figure as MplFigure
from matplotlib.ticker import NullLocator

import llmhw
from llmhw.api import collective_cost, family_params, search
from llmhw.core.units import DAYS_PER_YEAR
from llmhw.hardware.catalog import lookup
from llmhw.hardware.interconnect import Interconnect, Link
from llmhw.studies import scenarios, style
from llmhw.studies.base import Figure, Study, Table
from llmhw.studies.scenarios import FAST_BASE_S, FAST_HOP_S, low_latency_overrides

FP = family_params("nvidia-gpu")                     # fitted: software base 12.6 us per collective
FP_FAST = replace(FP, comm_latency_s=FAST_BASE_S)
INJECTION = 900e9                                     # bytes/s per chip per direction (18 NVLink-5 links)
HOPS_S = np.logspace(-8, -5, 31)
TP_HIDDEN, TP_BATCH = 8192, 64                        # TP 8 all-reduce: 64 tokens x 8192 x 2 B = 1 MiB
EP, EP_TOKENS, EP_TOPK, EP_HIDDEN = 64, 64, 8, 7168   # EP 64 dispatch: 64 tokens x 8 x 7168 x 1 B (FP8)
TP_DEGREES = (1, 2, 4, 8, 16, 32, 64)
TP_MODEL = "llama-3.1-405b"
TP_BATCHES = (1, 16, 64, 256)

# Reliability: per-chip failure rate from Meta's Llama 3 405B run (Dubey et al. 2024, "The Llama 3
# Herd of Models", section 3.3.4, Table 5): 419 unexpected interruptions in 54 days on 16,384 H100s,
# 58.7 % attributed to GPUs (GPU, HBM3, SRAM, system processor, ...).
LLAMA3_INTERRUPTIONS, LLAMA3_DAYS, LLAMA3_GPUS, GPU_SHARE = 419, 54, 16384, 0.587
FAIL_PER_CHIP_YEAR = GPU_SHARE * LLAMA3_INTERRUPTIONS / (LLAMA3_GPUS * LLAMA3_DAYS / DAYS_PER_YEAR)
DETECT_S = 10.0            # assumed: heartbeat / collective timeout that declares a chip dead
RESTART_S = 60.0           # assumed: a fresh engine on another node (process, NCCL init, graph capture)
JITTER_S = 2e-6            # assumed: mean exponential per-chip delay at a collective (launch jitter)
STALL_PROB = 1e-3          # assumed: chance a chip stalls before a collective
STALL_S = 1e-3             # assumed: length of a stall
TIMEOUTS_S = (100e-6, 25e-6, 10e-6)
GROUPS = 2 ** np.arange(1, 11)


def _net(topology: str, domain: int, links: int, dims: tuple[int, ...] | None = None, levels: int = 1,
         inr: bool = False, hop: float | None = None) -> Interconnect:
    """A network with ``INJECTION`` bytes/s per chip spread over ``links`` links."""
    link = Link(id=f"{topology}-link", bandwidth_bytes_per_s=INJECTION / links)
    return Interconnect(id=f"{topology}-{domain}", topology=topology, link=link, domain_size=domain,
                        links_per_chip=links, dims=dims, levels=levels, in_network_reduction=inr,
                        hop_latency_s=hop)


def tp_networks() -> dict[str, Interconnect]:
    """Eight chips (a TP 8 group), 900 GB/s each, by topology."""
    return {
        "switch + in-network reduction": _net("switch", 8, 18, inr=True),
        "switch": _net("switch", 8, 18),
        "full mesh (7 links)": _net("full_mesh", 8, 7),
        "dragonfly 2x2x2": _net("dragonfly", 8, 18, dims=(2, 2, 2)),
        "3D torus 2x2x2": _net("torus_3d", 8, 6, dims=(2, 2, 2)),
        "2D torus 2x4": _net("torus_2d", 8, 4, dims=(2, 4)),
        "ring of 8": _net("ring", 8, 2, dims=(8,)),
    }


def ep_networks() -> dict[str, Interconnect]:
    """64 chips (an EP 64 group), 900 GB/s each, by topology."""
    return {
        "switch (1 level, radix 64)": _net("switch", 64, 18),
        "fat tree (2 levels)": _net("switch", 64, 18, levels=2),
        "dragonfly 4x4x4": _net("dragonfly", 64, 18, dims=(4, 4, 4)),
        "full mesh (63 links)": _net("full_mesh", 64, 63),
        "3D torus 4x4x4": _net("torus_3d", 64, 6, dims=(4, 4, 4)),
        "2D torus 8x8": _net("torus_2d", 64, 4, dims=(8, 8)),
        "ring of 64": _net("ring", 64, 2, dims=(64,)),
    }


def with_hop(net: Interconnect, hop: float) -> Interconnect:
    return net.model_copy(update={"hop_latency_s": float(hop)})


def tp_message() -> float:
    return TP_BATCH * TP_HIDDEN * 2.0


def ep_message() -> float:
    return EP_TOKENS * EP_TOPK * EP_HIDDEN * 1.0


def _hop_sweep() -> dict[str, dict[str, np.ndarray]]:
    out: dict[str, dict[str, np.ndarray]] = {"tp": {}, "ep": {}}
    for name, net in tp_networks().items():
        out["tp"][name] = np.array([float(collective_cost("all_reduce", tp_message(), 8, with_hop(net, h), None,
                                                          FP_FAST).time_s) for h in HOPS_S])
    for name, net in ep_networks().items():
        out["ep"][name] = np.array([float(collective_cost("all_to_all", ep_message(), EP, with_hop(net, h), None,
                                                          FP_FAST).time_s) for h in HOPS_S])
    sw = tp_networks()["switch + in-network reduction"]
    out["tp_today"] = np.array([float(collective_cost("all_reduce", tp_message(), 8, with_hop(sw, h), None,
                                                      FP).time_s) for h in HOPS_S])
    sw64 = ep_networks()["switch (1 level, radix 64)"]
    out["ep_today"] = np.array([float(collective_cost("all_to_all", ep_message(), EP, with_hop(sw64, h), None,
                                                      FP).time_s) for h in HOPS_S])
    return out


def _topology_table() -> Table:
    rows = []
    for kind, nets, group, msg in (("TP 8 all-reduce", tp_networks(), 8, tp_message()),
                                   ("EP 64 all-to-all", ep_networks(), EP, ep_message())):
        coll = "all_reduce" if kind.startswith("TP") else "all_to_all"
        for name, net in nets.items():
            row = {"collective": kind, "network": name, "diameter_hops": net.hops(group, "max"),
                   "links_per_chip": net.links_per_chip}
            for hop in (1e-7, 1e-6):
                c = collective_cost(coll, msg, group, with_hop(net, hop), None, FP_FAST)
                row[f"time_at_{int(hop * 1e9)}ns_hop_us"] = round(float(c.time_s) * 1e6, 2)
                row[f"algorithm_at_{int(hop * 1e9)}ns_hop"] = str(c.algorithm)
            c = collective_cost(coll, msg, group, with_hop(net, 1e-7), None, FP)
            row["time_today_base_100ns_hop_us"] = round(float(c.time_s) * 1e6, 1)
            rows.append(row)
    note = (f"Every network gives each chip {INJECTION / 1e9:.0f} GB/s per direction, split over its links. "
            f"TP 8: {TP_BATCH} tokens x {TP_HIDDEN} x 2 B = {tp_message() / 2 ** 20:.0f} MiB per chip; EP 64 dispatch: "
            f"{EP_TOKENS} tokens per chip x top-{EP_TOPK} x {EP_HIDDEN} x 1 B (FP8) = {ep_message() / 1e6:.2f} MB. "
            f"Software base {FAST_BASE_S * 1e6:.0f} us per collective (a low-overhead library); per algorithm "
            "step the hops only (no synchronisation latency is set). time_today_base: the fitted NVIDIA base of "
            f"{FP.comm_latency_s * 1e6:.1f} us. The fastest algorithm for each network and size "
            "(docs/interconnect.md).")
    return Table("interconnect-topologies", "Decode collectives by topology and hop latency", rows, note)


def _algorithm_table() -> tuple[Table, dict[str, Any]]:
    sys_ = lookup("hgx-h100-8")
    up = sys_.scale_up_network
    rows = []
    best = {}
    for b in (1, 16, 64, 256):
        S = b * TP_HIDDEN * 2.0
        times = {}
        for alg in ("ring", "tree", "recursive_doubling", "one_shot", "two_shot", "in_network"):
            c = collective_cost("all_reduce", S, 8, up, None, FP, algorithms=(alg,))
            times[alg] = float(c.time_s)
        classic = min(times["ring"], times["tree"], times["recursive_doubling"])
        direct = min(classic, times["one_shot"], times["two_shot"])
        allb = min(direct, times["in_network"])
        best[b] = {"classic": classic, "direct": direct, "all": allb, **times}
        rows.append({"batch": b, "message_kb": round(S / 1e3, 1),
                     **{f"{k}_us": round(v * 1e6, 1) for k, v in times.items()},
                     "best_ring_tree_rd_us": round(classic * 1e6, 1),
                     "speedup_one_two_shot": round(classic / direct, 2),
                     "speedup_with_in_network": round(classic / allb, 2)})
    note = (f"One all-reduce over 8 H100s (NVLink 4 + NVSwitch, 18 x 25 GB/s, 0.5 us per hop and "
            f"{up.sync_latency_s * 1e6:.1f} us of synchronisation per step, NVLink SHARP), hidden {TP_HIDDEN}, "
            f"BF16 activations, fitted software base {FP.comm_latency_s * 1e6:.1f} us per collective and "
            f"{FP.comm_bw_eff:.0%} of link bandwidth. The speedups compare the best of ring, tree and recursive "
            "doubling (classic NCCL) with adding one-shot and two-shot (direct) and in-network reduction.")
    return Table("interconnect-allreduce-algorithms", "TP 8 all-reduce: what one-shot and in-network reduction buy",
                 rows, note), best


def layer_work_s(batch: int) -> float:
    """Decode work (compute + memory seconds) of one layer of TP_MODEL at TP 1 on an H100, FP8."""
    s = llmhw.Scenario.from_dict({"model": TP_MODEL, "hardware": "hgx-h100-8", "n_chips": 1,
                                  "precision": {"weights": "fp8", "kv_cache": "fp8"},
                                  "workload": {"input_tokens": 1024, "output_tokens": 1024, "batch": batch}})
    with np.errstate(all="ignore"):
        a = llmhw.sweep(s)
    m = s.model
    return float(a["decode_compute_s"] + a["decode_memory_s"]) / m.n_layers


TP_VARIANTS: dict[str, dict[str, Any]] = {
    "ring, tree, recursive doubling (classic)": {"algorithms": ("ring", "tree", "recursive_doubling",
                                                                "hierarchical"), "fp": FP},
    "+ one-shot, two-shot": {"algorithms": ("ring", "tree", "recursive_doubling", "one_shot", "two_shot",
                                            "hierarchical"), "fp": FP},
    "+ in-network reduction (today's HGX)": {"algorithms": None, "fp": FP},
    "+ in-network, software base halved": {"algorithms": None, "fp": replace(FP, comm_latency_s=FP.comm_latency_s / 2)},
    "+ in-network, software base 1 us": {"algorithms": None, "fp": FP_FAST},
}


def tp_efficiency(batch: int, work1: float, variant: dict[str, Any]) -> dict[str, np.ndarray]:
    """Per TP degree: two all-reduces per layer against work1 / TP, parallel efficiency
    work1 / (TP x (work1 / TP + comm))."""
    sys_ = lookup("hgx-h100-8")
    up, out = sys_.scale_up_network, sys_.scale_out_network
    m = llmhw.load_model(TP_MODEL)
    S = batch * m.hidden_size * 2.0
    deg = np.array(TP_DEGREES)
    comm = np.array([2 * float(collective_cost("all_reduce", S, int(p), up, out, variant["fp"],
                                               algorithms=variant["algorithms"]).time_s) if p > 1 else 0.0
                     for p in deg])
    work = work1 / deg
    eff = work1 / (deg * (work + comm))
    return {"degree": deg, "comm_s": comm, "work_s": work, "efficiency": eff, "share": comm / (work + comm)}


def useful_degree(eff: dict[str, np.ndarray], threshold: float = 0.5) -> int:
    ok = eff["degree"][eff["efficiency"] >= threshold]
    return int(ok.max()) if ok.size else 1


def _tp_table() -> tuple[Table, dict[str, Any]]:
    rows = []
    curves: dict[str, Any] = {}
    for b in TP_BATCHES:
        w1 = layer_work_s(b)
        for name, v in TP_VARIANTS.items():
            e = tp_efficiency(b, w1, v)
            curves[(name, b)] = e
            i8 = int(np.where(e["degree"] == 8)[0][0])
            rows.append({"batch": b, "collectives": name, "layer_work_tp1_us": round(w1 * 1e6),
                         "allreduces_per_layer_tp8_us": round(float(e["comm_s"][i8]) * 1e6, 1),
                         "comm_share_tp8": round(float(e["share"][i8]), 2),
                         "efficiency_tp8": round(float(e["efficiency"][i8]), 2),
                         "largest_tp_at_50pct_efficiency": useful_degree(e)})
    note = (f"{TP_MODEL} decode, FP8 weights, BF16 activations: per layer two all-reduces of batch x 16384 x 2 B "
            "against the layer's compute and memory time at TP 1 (from the engine, one H100) split evenly by TP. "
            "8 H100s per NVLink 4 domain, InfiniBand NDR (3-level fat tree, SHARP) beyond; groups larger than 8 "
            "take the faster of flat and hierarchical. Efficiency = work(TP 1) / (TP x layer time); beyond the "
            "largest TP at 50 % efficiency, more than half of every added chip's time goes to communication. "
            "'classic' keeps hierarchical (whose intra-node phases may use any algorithm).")
    return Table("interconnect-tp-degree", "The TP degree beyond which communication dominates", rows, note), curves


# -- each network at its best mapping under one SLO -------------------------------------------------

SLO_TPOT_S = 0.020             # 20 ms per output token: 50 tok/s per user, where decode latency matters
SEARCH_HW = "hgx-h200-8"       # an H100 cannot reach 20 ms for 405B in FP8 at any mapping (weights / bandwidth)
SEARCH_ISL = SEARCH_OSL = 1024
SEARCH_DESIGNS: dict[str, dict[str, float]] = {
    "today's HGX (fitted software base, 0.5 us hops)": {},
    "software base halved": {"interconnect.software_latency_s": FP.comm_latency_s / 2},
    f"software base {FAST_BASE_S * 1e6:.0f} us": {"interconnect.software_latency_s": FAST_BASE_S},
    f"software base {FAST_BASE_S * 1e6:.0f} us, {FAST_HOP_S * 1e9:.0f} ns hops, no step synchronisation":
        low_latency_overrides("interconnect"),
}


def search_scenario(overrides: dict[str, float]) -> dict[str, Any]:
    """TP_MODEL on one SEARCH_HW node with a network what-if; the search chooses mapping and batch."""
    s: dict[str, Any] = {"model": TP_MODEL, "hardware": SEARCH_HW, "n_chips": lookup(SEARCH_HW).n_chips,
                         "precision": {"weights": "fp8", "kv_cache": "fp8"},
                         "workload": {"input_tokens": SEARCH_ISL, "output_tokens": SEARCH_OSL, "batch": 1}}
    if overrides:
        s["overrides"] = dict(overrides)
    return s


def mapping_label(par: dict[str, Any]) -> str:
    """'TP 8' or 'TP 4 x DP 2': the degrees above 1."""
    parts = [f"{k.upper()} {v}" for k, v in par.items() if isinstance(v, int) and v > 1]
    # moe_dp replicated: every replica holds all experts (not attention data parallel).
    return (" x ".join(parts) or "one chip") + (" replicas" if par.get("moe_dp") == "replicated" else "")


def _best_mapping_table() -> Table:
    """Each network design at its best mapping (tp, pp, ep, dp) and batch under the TPOT SLO."""
    rows = []
    base = None
    for name, ov in SEARCH_DESIGNS.items():
        r = search(search_scenario(ov), slo=[f"tpot_s<={SLO_TPOT_S}"], objective="output_tok_s_per_chip")
        b = r.best
        if b is None:
            rows.append({"design": name, "best_mapping": None, "batch": None, "tpot_ms": None,
                         "tok_s_per_user": None, "tok_s_per_chip": None, "ratio_vs_baseline": None,
                         "configurations_searched": r.evaluated})
            continue
        if base is None and not rows:
            base = b["output_tok_s_per_chip"]
        rows.append({"design": name, "best_mapping": mapping_label(b["parallelism"]), **b["parallelism"],
                     "batch": b["batch"], "tpot_ms": round(b["tpot_s"] * 1e3, 2),
                     "tok_s_per_user": round(b["tok_s_per_user"], 1),
                     "tok_s_per_chip": round(b["output_tok_s_per_chip"], 1),
                     "ratio_vs_baseline": round(b["output_tok_s_per_chip"] / base, 3) if base else None,
                     "configurations_searched": r.evaluated})
    note = (f"{TP_MODEL} FP8 (weights and KV cache), {SEARCH_ISL} in / {SEARCH_OSL} out, default engine, one "
            f"{SEARCH_HW} node. Each design at its own best mapping and batch under the same SLO, TPOT <= "
            f"{SLO_TPOT_S * 1e3:.0f} ms: llmhw.api.search over every valid (tp, pp, ep, dp) on the node and every "
            "batch up to the memory limit, objective output tokens/s per chip. The designs change the scale-up "
            f"network only: the software base per collective (fitted {FP.comm_latency_s * 1e6:.1f} us on NVIDIA; "
            f"halved; {FAST_BASE_S * 1e6:.0f} us, a low-overhead library) and, last, the hops (NVLink switch 0.5 us "
            "-> 100 ns) with no per-step synchronisation latency (0.6 us today), as the study's hypothetical "
            "networks. ratio_vs_baseline: tok/s per chip over the first row's.")
    return Table("interconnect-best-mapping", f"Lower-latency networks, each at its best mapping under TPOT <= "
                 f"{SLO_TPOT_S * 1e3:.0f} ms", rows, note)


def _best_mapping_finding(t: Table) -> str:
    ok = [r for r in t.rows if r["tok_s_per_chip"] is not None]
    if not ok:
        return (f"No design meets TPOT <= {SLO_TPOT_S * 1e3:.0f} ms for {TP_MODEL} on {SEARCH_HW} at any mapping "
                "and batch.")
    b0, last = ok[0], ok[-1]
    grows = all(a["batch"] <= b["batch"] for a, b in zip(ok, ok[1:], strict=False)) and last["batch"] > b0["batch"]
    return (f"Under TPOT <= {SLO_TPOT_S * 1e3:.0f} ms ({TP_MODEL} FP8 on {SEARCH_HW}, each design at its best "
            f"mapping and batch): today's network serves {b0['tok_s_per_chip']:.0f} tok/s per chip at "
            f"{b0['best_mapping']}, batch {b0['batch']}; "
            + "; ".join(f"{r['design']} {r['tok_s_per_chip']:.0f} ({r['ratio_vs_baseline']:.2f}x, "
                        f"{r['best_mapping']}, batch {r['batch']})" for r in ok[1:])
            + ". " + (f"Each cut in collective latency shortens the step, so a larger batch fits under the SLO "
                      f"(batch {' -> '.join(str(r['batch']) for r in ok)}); " if grows else "")
            + f"the lowest-latency network gives {last['ratio_vs_baseline']:.2f}x today's throughput per chip at the "
            "same TPOT.")


# -- system size (capacity per chip) ------------------------------------------------------------


def _system_size_table() -> tuple[Table, dict[str, Any]]:
    """moe-1t on B200s with and without HBF: the engine's decode communication per step."""
    m = scenarios.moe_1t()
    rows = []
    for w in ("fp8", "bf16"):
        for k in (0, 4):
            n, _ = scenarios.chips_needed(k, m, w, 1)
            s = scenarios.scenario(k, n, weights=w, batch=64)
            with np.errstate(all="ignore"):
                a = llmhw.sweep(s, batch=np.array([64]))
            up, out = s.system.scale_up_network, s.system.scale_out_network
            if n <= 1:
                hops = 0.0
            elif n <= up.domain_size:
                hops = up.hops(n, "max")
            else:
                hops = up.hops(up.domain_size, "max") * 2 + out.hops(ceil(n / up.domain_size), "max")
            rows.append({"model_precision": f"moe-1t {w.upper()}", "design": scenarios.design_short(k), "chips": n,
                         "network": "none (one chip)" if n == 1 else ("NVLink switch" if n <= up.domain_size
                                                                       else "NVLink + InfiniBand"),
                         "worst_path_hops": hops,
                         "decode_step_ms": round(float(a["decode_step_s"][0]) * 1e3, 1),
                         "decode_comm_ms": round(float(a["decode_comm_s"][0]) * 1e3, 2),
                         "decode_comm_latency_ms": round(float(a["decode_comm_latency_s"][0]) * 1e3, 2),
                         "comm_share_of_step": round(float(a["decode_comm_s"][0] / a["decode_step_s"][0]), 3)})
    note = ("moe-1t (Kimi-K2's shape) on B200s (HGX: 8 per NVLink 5 domain, InfiniBand NDR beyond), attention "
            "data parallel and experts over all chips, 64 requests of 8192 + 1024 tokens, default engine. "
            "Per decode step the engine prices an all-to-all dispatch and combine per MoE layer; at this size "
            "they are almost all latency. worst_path_hops: switch traversals between the farthest two chips "
            "(the NVLink switch on each side plus the InfiniBand tree between nodes).")
    return Table("interconnect-system-size", "HBF shrinks the system and its communication (engine)", rows, note), {}


SIZES_T = np.array([0.25, 0.5, 1, 2, 4, 8, 16])     # trillion parameters (FP8)


def _torus(n: int) -> Interconnect:
    """An n-chip 3D torus as cubic as powers of two allow (TPU-like), 6 x 100 GB/s, 1 us per hop."""
    dims = [1, 1, 1]
    k = 0
    while np.prod(dims) < n:
        dims[k % 3] *= 2
        k += 1
    d = tuple(sorted(dims, reverse=True))
    return Interconnect(id=f"torus-{n}", topology="torus_3d", link=Link(id="ici", bandwidth_bytes_per_s=100e9),
                        domain_size=n, links_per_chip=6, dims=d, hop_latency_s=1e-6)


def _fat_tree(n: int) -> Interconnect:
    """A fat tree of radix-64 switches holding n chips (1 level up to 64, then 2, then 3)."""
    levels = 1 if n <= 64 else 2 if n <= 2048 else 3
    return Interconnect(id=f"fat-{n}", topology="switch", link=Link(id="l", bandwidth_bytes_per_s=50e9),
                        domain_size=max(n, 2), links_per_chip=18, levels=levels, hop_latency_s=0.5e-6)


def chips_for(params: float, capacity: float) -> int:
    """Smallest power of two with params (FP8, 1 B each) <= 0.9 x capacity per chip."""
    return int(2 ** max(0, ceil(log2(params / (0.9 * capacity)))))


GLOBAL_TOKENS = 512      # decode tokens in flight across the whole system (one per request)


def _scaling() -> dict[str, Any]:
    """Per model size: chips needed with and without HBF, and one MoE layer's dispatch + combine
    all-to-all over all of them at a fixed global batch, split into latency and bandwidth."""
    hbm, flash = scenarios.usable_weight_capacity(0) / 0.9, scenarios.usable_weight_capacity(4) / 0.9
    out: dict[str, Any] = {"sizes": SIZES_T}
    for name, cap in (("HBM", hbm), ("HBF", flash)):
        chips = np.array([chips_for(t * 1e12, cap) for t in SIZES_T])
        d: dict[str, list[float]] = {k: [] for k in ("torus_lat", "torus_bw", "fat_lat", "fat_bw", "torus_hops",
                                                       "fat_hops")}
        for n in chips:
            n = int(n)
            if n == 1:
                for k in d:
                    d[k].append(0.0)
                continue
            msg = GLOBAL_TOKENS / n * EP_TOPK * EP_HIDDEN * 1.0
            for key, net in (("torus", _torus(n)), ("fat", _fat_tree(n))):
                c = collective_cost("all_to_all", msg, n, net, None, FP_FAST)
                d[f"{key}_lat"].append(2 * float(c.latency_s))
                d[f"{key}_bw"].append(2 * float(c.bandwidth_s))
                d[f"{key}_hops"].append(net.hops(n, "max"))
        out[name] = {"chips": chips, **{k: np.array(v) for k, v in d.items()}}
    return out


def _scaling_table(sc: dict[str, Any]) -> Table:
    rows = []
    for i, t in enumerate(sc["sizes"]):
        row: dict[str, Any] = {"params_trillion_fp8": float(t)}
        for name in ("HBM", "HBF"):
            d, k = sc[name], name.lower()
            row[f"chips_{k}"] = int(d["chips"][i])
            row[f"torus_diameter_{k}_hops"] = int(d["torus_hops"][i])
            row[f"fat_tree_{k}_hops"] = int(d["fat_hops"][i])
            row[f"torus_alltoall_latency_{k}_us"] = round(float(d["torus_lat"][i]) * 1e6, 1)
            row[f"fat_tree_alltoall_latency_{k}_us"] = round(float(d["fat_lat"][i]) * 1e6, 1)
        rows.append(row)
    note = ("Chips = the smallest power of two whose 0.9 x capacity holds the FP8 weights: HBM = a B200's 180 GB, "
            "HBF = 4 HBM3E + 4 HBF stacks (2 TB). All-to-all: dispatch + combine of one MoE layer over all chips for "
            f"{GLOBAL_TOKENS} decode tokens in flight in the whole system (top-{EP_TOPK}, {EP_HIDDEN} x 1 B per token), "
            f"software base {FAST_BASE_S * 1e6:.0f} us; 3D torus: 6 x 100 GB/s, 1 us per hop, as cubic as powers of "
            "two allow (TPU-like); fat tree: radix-64 switches, 18 x 50 GB/s, 0.5 us per switch. Shown: the latency "
            "part, the base + hops x hop latency (one step), which the system size sets; the bandwidth part depends on "
            "how many tokens each chip holds and is left out. Capacity only: the KV cache and the chips' memory "
            "bandwidth are left out too.")
    return Table("interconnect-capacity-scaling", "Capacity per chip vs system size, hops and all-to-all time",
                 rows, note)


# -- reliability ------------------------------------------------------------------------------


def recovery(weights_bytes: float, reload_bw: float, reprefill_s: float, restart_s: float) -> dict[str, float]:
    """Seconds to serve again after a chip fails: detect + restart + reload the weights + re-prefill
    the lost KV caches."""
    reload = weights_bytes / reload_bw
    return {"detect_s": DETECT_S, "restart_s": restart_s, "reload_s": reload, "reprefill_s": reprefill_s,
            "total_s": DETECT_S + restart_s + reload + reprefill_s}


def _reliability() -> tuple[Table, dict[str, Any]]:
    m = scenarios.moe_1t()
    ib = lookup("ib-ndr-scaleout").link.bandwidth_bytes_per_s
    pcie = lookup("pcie-gen5-host").link.bandwidth_bytes_per_s
    rows = []
    cases: dict[str, dict[str, float]] = {}
    for k in (0, 4):
        n, _ = scenarios.chips_needed(k, m, "fp8", 1)
        s = scenarios.scenario(k, n, batch=64)
        # Re-prefill: the requests of the failed replica (attention DP: 64 / n requests), each its
        # prompt plus half its output so far, at the engine's prefill rate on one replica.
        r = int(np.ceil(64 / n))
        with np.errstate(all="ignore"):
            a = llmhw.sweep(s, batch=np.array([64]), input_tokens=np.array([scenarios.ISL + scenarios.OSL // 2]))
        reprefill = r * float(a["prefill_s"][0])
        per_chip = float(a["weights_bytes"][0])
        migrate = recovery(per_chip, ib, reprefill, RESTART_S)        # every chip of a fresh node, in parallel
        spare = recovery(per_chip, pcie, reprefill, 0.0)               # a hot spare loads one shard from host
        label = f"{n} x B200, {scenarios.design_short(k)}"
        cases[label] = {"chips": n, "migrate": migrate, "spare": spare}
        fails = n * FAIL_PER_CHIP_YEAR
        for how, rec in (("migrate to a distant node", migrate), ("local hot spare", spare)):
            rows.append({"design": label, "recovery": how, "failures_per_year": round(fails, 2),
                         "weights_reloaded_per_chip_gb": round(per_chip / 1e9), "reload_s": round(rec["reload_s"], 1),
                         "reprefill_s": round(rec["reprefill_s"], 2), "total_s": round(rec["total_s"], 1),
                         "downtime_min_per_year": round(fails * rec["total_s"] / 60, 1)})
    note = (f"Failure rate {FAIL_PER_CHIP_YEAR:.3f} per chip-year: 58.7 % of the 419 unexpected interruptions of "
            "Meta's 54-day Llama 3 405B run on 16,384 H100s were GPU faults (Dubey et al. 2024, Table 5). "
            f"Recovery = detection ({DETECT_S:.0f} s, assumed) + restart + weight reload + re-prefill. Without a spare the "
            f"job migrates to a distant node: an engine restart ({RESTART_S:.0f} s, assumed) and every chip reloads its "
            f"shard over its {ib / 1e9:.0f} GB/s InfiniBand NIC in parallel (line rate: a best case). A local hot "
            f"spare (initialised, in the same node) loads only the failed chip's shard from host memory over PCIe 5 "
            f"({pcie / 1e9:.0f} GB/s). Either way the failed replica's in-flight requests (64 / chips of them, "
            "attention data parallel) are prefilled again (prompt + half the output), at the engine's prefill time. "
            "One failure of any chip stops the whole model instance (its experts are spread over all chips).")
    return Table("interconnect-failures", "A failed chip: recovery with and without a local standby spare",
                 rows, note), cases


def _delay_cdf(t: np.ndarray, jitter_s: float, stall_prob: float, stall_s: float) -> np.ndarray:
    """P(one chip's delay <= t): an exponential jitter of mean ``jitter_s``, plus, with probability
    ``stall_prob``, a stall of ``stall_s`` before it."""
    base = 1.0 - np.exp(-np.maximum(t, 0.0) / jitter_s)
    late = np.where(t >= stall_s, 1.0 - np.exp(-np.maximum(t - stall_s, 0.0) / jitter_s), 0.0)
    return (1.0 - stall_prob) * base + stall_prob * late


def straggler_wait(p: Any, jitter_s: float, timeout_s: float | None = None, stall_prob: float = 0.0,
                   stall_s: float = 0.0, points: int = 40001) -> np.ndarray:
    """Expected wait of a collective for the slowest of p chips, E[min(max of p delays, timeout)]
    = integral over t < timeout of 1 - F(t)^p, with F the per-chip delay CDF (``_delay_cdf``).
    With jitter only and no timeout this is jitter x H_p (the harmonic number, ~ ln p + 0.58)."""
    p = np.atleast_1d(np.asarray(p, dtype=float))
    end = timeout_s if timeout_s is not None else stall_s + 60.0 * jitter_s
    t = np.linspace(0.0, end, points)
    surv = 1.0 - _delay_cdf(t, jitter_s, stall_prob, stall_s)[None, :]
    # 1 - F^p, computed as -expm1(p log1p(-surv)) to keep precision when surv is tiny
    tail = -np.expm1(p[:, None] * np.log1p(-np.clip(surv, 0.0, 1.0 - 1e-15)))
    return ((tail[:, 1:] + tail[:, :-1]) * 0.5 * np.diff(t)).sum(axis=1)      # trapezoid rule


def stale_share(p: Any, jitter_s: float, timeout_s: float, stall_prob: float = 0.0,
                stall_s: float = 0.0) -> np.ndarray:
    """Share of collectives in which some chip misses the timeout: 1 - F(timeout)^p."""
    p = np.asarray(p, dtype=float)
    return 1.0 - _delay_cdf(np.asarray(timeout_s), jitter_s, stall_prob, stall_s) ** p


def _straggler_table() -> Table:
    rows = []
    m = scenarios.moe_1t()
    l405 = llmhw.load_model(TP_MODEL)
    cases = (("TP 8 all-reduces, Llama 3.1 405B", 8, 2 * l405.n_layers),
             ("EP 8 all-to-alls, moe-1t", 8, 2 * m.n_moe_layers),
             ("EP 64 all-to-alls, moe-1t", 64, 2 * m.n_moe_layers),
             ("EP 256 all-to-alls, moe-1t", 256, 2 * m.n_moe_layers))
    for label, p, per_step in cases:
        w = float(straggler_wait(p, JITTER_S, None, STALL_PROB, STALL_S)[0])
        row = {"collectives": label, "group": p, "collectives_per_decode_step": per_step,
               "jitter_only_wait_us": round(float(straggler_wait(p, JITTER_S)[0]) * 1e6, 1),
               "wait_per_collective_us": round(w * 1e6, 1), "wait_per_step_ms": round(w * per_step * 1e3, 2)}
        for t in TIMEOUTS_S:
            wt = float(straggler_wait(p, JITTER_S, t, STALL_PROB, STALL_S)[0])
            row[f"wait_per_step_timeout_{int(t * 1e6)}us_ms"] = round(wt * per_step * 1e3, 2)
            row[f"stale_share_timeout_{int(t * 1e6)}us"] = round(float(stale_share(p, JITTER_S, t, STALL_PROB,
                                                                                    STALL_S)), 4)
        rows.append(row)
    note = (f"Each chip reaches a collective late by an exponential jitter of mean {JITTER_S * 1e6:.0f} us and, with "
            f"probability {STALL_PROB:g}, after a stall of {STALL_S * 1e3:.0f} ms (both assumed: launch jitter; a "
            "descheduled host thread or a link retry). The collective waits for the slowest of the group: "
            "E[max of p] = integral of 1 - F(t)^p; with jitter only, mean x H_p ~ mean x (ln p + 0.58). Rare stalls "
            "dominate as p grows (P(some chip stalls) = 1 - (1 - q)^p): the fan-out tail amplification of Dean and "
            "Barroso, 'The Tail at Scale' (CACM 2013). With a timeout the collective goes on with stale or fake data "
            "for the late chips (the paper's proposal): stale_share = 1 - F(timeout)^p. Its effect on output quality "
            "is outside an analytic model.")
    return Table("interconnect-stragglers", "Stragglers: waiting for the slowest chip vs a timeout", rows, note)


# -- figures ------------------------------------------------------------------------------------


def _style(ax: Any) -> None:
    ax.grid(True, which="major", alpha=0.3)
    ax.grid(True, which="minor", alpha=0.1)


def _pow2_x(ax: Any, values: Any, labels: list[str] | None = None) -> None:
    ax.set_xscale("log", base=2)
    ax.set_xticks(values, labels=labels or [f"{v:g}" for v in values])
    ax.xaxis.set_minor_locator(NullLocator())


def _fig_hops(sw: dict[str, Any]) -> MplFigure:
    fig, (ax1, ax2) = style.figure(11, 5.8, 1, 2)
    for ax, key, nets, today, title in (
            (ax1, "tp", tp_networks(), sw["tp_today"],
             f"(a) TP 8 all-reduce, {TP_BATCH} tokens x {TP_HIDDEN:,} x 2 B = {tp_message() / 2 ** 20:.0f} MiB"),
            (ax2, "ep", ep_networks(), sw["ep_today"],
             f"(b) EP {EP} all-to-all, {EP_TOKENS} tok/chip x top-{EP_TOPK} x {EP_HIDDEN:,} x 1 B")):
        for j, name in enumerate(nets):
            ax.plot(HOPS_S * 1e9, sw[key][name] * 1e6, color=style.PALETTE[j], label=name,
                    ls=(0, (5, 2)) if name.startswith("full mesh") else "-", lw=1.6)
        ax.plot(HOPS_S * 1e9, today * 1e6, "k--", lw=1.2, label=f"the first, fitted base {FP.comm_latency_s * 1e6:.1f} us "
                "(today)")
        ax.axvline(500, color="0.6", ls=":", lw=1)
        ax.text(520, 1.1, "NVLink switch\n(est. 0.5 us)", fontsize=8, color="0.4")
        style.log_axis(ax, "xy")
        ax.set_xlabel("latency per hop (ns)")
        ax.set_title(title)
        ax.set_ylim(1, 1000)
        # Under each panel: inside, eight entries would cover the slow networks' curves.
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2)
        _style(ax)
    ax1.set_ylabel("collective time (us)")
    return fig


def _fig_tp(curves: dict[Any, Any]) -> MplFigure:
    fig, axes = style.figure(11, 4.3, 1, 2, sharey=True)
    for ax, b in zip(axes, (1, 64), strict=True):
        for j, name in enumerate(TP_VARIANTS):
            e = curves[(name, b)]
            # Markers apart: at batch 1 the classic and one-shot curves run under the in-network one.
            ax.plot(e["degree"], e["efficiency"], marker=style.marker(j), ms=5 if j < 2 else 4,
                    mfc="none" if j < 2 else None, color=style.PALETTE[j], label=name)
        ax.axhline(0.5, color="k", lw=0.8, ls="--")
        ax.axvspan(8, 64, color="0.93", lw=0)
        ax.text(9, 0.03, "beyond one NVLink domain: InfiniBand", fontsize=8, color="0.35")
        _pow2_x(ax, TP_DEGREES)
        ax.set_xlabel("tensor-parallel degree")
        ax.set_title(f"batch {b}: all-reduce of {b * llmhw.load_model(TP_MODEL).hidden_size * 2 / 1e3:.0f} KB")
        ax.set_ylim(0, 1.05)
        _style(ax)
    axes[0].set_ylabel("parallel efficiency = work(TP 1) / (TP x layer time)")
    axes[0].legend(fontsize=8, loc="lower left", title="collectives", title_fontsize=8)
    return fig


HBM_HBF_COLORS = {"HBM": style.PALETTE[0], "HBF": style.PALETTE[1]}   # as the HBF study's 8 HBM3E and 4 + 4 HBF


def _fig_scaling(sc: dict[str, Any]) -> MplFigure:
    fig, (ax1, ax2) = style.figure(11, 4.3, 1, 2)
    for name, color in HBM_HBF_COLORS.items():
        d = sc[name]
        label = "B200, 8 HBM3E (180 GB)" if name == "HBM" else "B200, 4 HBM3E + 4 HBF (2 TB)"
        ax1.plot(SIZES_T, d["chips"], marker="o", color=color, label=label)
        ok = d["chips"] > 1
        ax2.plot(SIZES_T[ok], d["torus_lat"][ok] * 1e6, marker="o", color=color, label=f"{label}, 3D torus")
        ax2.plot(SIZES_T[ok], d["fat_lat"][ok] * 1e6, marker="s", ls="--", color=color, label=f"{label}, fat tree")
        for x, y, h in zip(SIZES_T[ok], d["torus_lat"][ok] * 1e6, d["torus_hops"][ok], strict=True):
            ax2.annotate(f"{int(h)}", (x, y), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=8,
                         color=color)
    for ax in (ax1, ax2):
        _pow2_x(ax, SIZES_T)
        ax.set_xlabel("model parameters (trillions, FP8)")
        _style(ax)
    ax1.set_yscale("log", base=2)
    ax1.set_yticks([1, 2, 4, 8, 16, 32, 64, 128], labels=["1", "2", "4", "8", "16", "32", "64", "128"])
    ax1.yaxis.set_minor_locator(NullLocator())
    ax1.set_ylabel("chips to hold the weights")
    ax1.set_title("(a) system size")
    ax1.legend(fontsize=8)
    ax2.set_ylabel("latency part of dispatch + combine (us)")
    ax2.set_title("(b) EP all-to-all latency per MoE layer")
    ax2.set_ylim(0, 1.12e6 * max(float(sc[k]["torus_lat"].max()) for k in ("HBM", "HBF")))
    ax2.text(0.98, 0.03, "one chip: no all-to-all", transform=ax2.transAxes, ha="right", fontsize=8,
             color=HBM_HBF_COLORS["HBF"])
    ax2.legend(fontsize=8, loc="upper left", title="labels: torus diameter (hops)", title_fontsize=8)
    return fig


def _fig_reliability(cases: dict[str, Any]) -> MplFigure:
    # (a) across the top, (b) and (c) below: 8 in wide, every text at 8 pt or more.
    fig = style.canvas(8, 7.0)
    axd = fig.subplot_mosaic([["a", "a"], ["b", "c"]], height_ratios=[1, 1.15])
    ax1, ax2, ax3 = axd["a"], axd["b"], axd["c"]
    labels, parts = [], []
    for name, c in cases.items():
        for how in ("migrate", "spare"):
            labels.append(f"{name}\n{'migrate' if how == 'migrate' else 'local spare'}")
            parts.append(c[how])
    bottom = np.zeros(len(labels))
    for key, color, lab in (("detect_s", "#999999", "detect (assumed)"),
                            ("restart_s", style.PALETTE[3], "restart engine (assumed)"),
                            ("reload_s", style.PALETTE[0], "reload weights"),
                            ("reprefill_s", style.PALETTE[2], "re-prefill lost KV")):
        v = np.array([p[key] for p in parts])
        ax1.barh(labels, v, left=bottom, color=color, label=lab)
        bottom += v
    for y, tot in enumerate(bottom):
        ax1.text(tot + 1, y, f"{tot:.0f} s", va="center", fontsize=8)
    ax1.set_xlabel("time to serve again after a chip fails (s)")
    ax1.set_title("(a) a failed chip")
    ax1.set_xlim(0, bottom.max() * 1.25)
    ax1.invert_yaxis()
    ax1.tick_params(axis="y", labelsize=8)
    ax1.grid(axis="y", visible=False)
    ax1.legend(fontsize=8, loc="lower right")
    colors = {None: style.PALETTE[3], TIMEOUTS_S[0]: style.PALETTE[1], TIMEOUTS_S[1]: style.PALETTE[0],
              TIMEOUTS_S[2]: style.PALETTE[4]}
    styles = {None: ("-", "o"), TIMEOUTS_S[0]: ("-", "o"), TIMEOUTS_S[1]: ("--", "s"), TIMEOUTS_S[2]: ("-", "^")}
    for t, color in colors.items():
        lab = "wait for the slowest" if t is None else f"timeout {t * 1e6:.0f} us"
        ls, mk = styles[t]
        ax2.plot(GROUPS, straggler_wait(GROUPS, JITTER_S, t, STALL_PROB, STALL_S) * 1e6, marker=mk, ms=3.5,
                 color=color, label=lab, ls=ls)
        if t is not None:
            ax3.plot(GROUPS, stale_share(GROUPS, JITTER_S, t, STALL_PROB, STALL_S), marker=mk, ms=3.5, color=color,
                     label=lab, ls=ls, mfc="none" if mk == "s" else None)
    ax2.plot(GROUPS, straggler_wait(GROUPS, JITTER_S) * 1e6, ls=":", color="0.4", label="jitter only, no stalls")
    ticks = GROUPS[::3]
    for ax in (ax2, ax3):
        _pow2_x(ax, ticks, [f"{int(g):,}" for g in ticks])
        ax.set_xlabel("chips in the collective")
    style.log_axis(ax2, "y")
    ax2.set_ylabel("expected wait per collective (us)")
    ax2.set_title("(b) waiting for stragglers")
    ax2.legend(fontsize=8, loc="upper left")
    style.log_axis(ax3, "y", plain=False)
    ax3.set_ylabel("share of collectives using stale data")
    ax3.set_title("(c) the price of a timeout")
    ax3.legend(fontsize=8, loc="lower right")
    for ax in (ax1, ax2, ax3):
        _style(ax)
    return fig


def _network_findings(topo_t: Table, alg_t: Table, tp_t: Table) -> list[str]:
    """Hop latency, topology, algorithms and the TP degree."""
    topo = {(r["collective"], r["network"]): r for r in topo_t.rows}
    tp_sw, tp_ring = topo[("TP 8 all-reduce", "switch + in-network reduction")], topo[("TP 8 all-reduce", "ring of 8")]
    ep_sw, ep_t3, ep_ring = (topo[("EP 64 all-to-all", k)] for k in ("switch (1 level, radix 64)", "3D torus 4x4x4",
                                                                      "ring of 64"))
    tp = {(r["collectives"], r["batch"]): r for r in tp_t.rows}
    names = list(TP_VARIANTS)
    return [
        f"Latency beats bandwidth: with a {FAST_BASE_S * 1e6:.0f} us software base per collective, a TP 8 all-reduce "
        f"of 1 MiB takes {tp_sw['time_at_100ns_hop_us']} us on a switch with in-network reduction at 100 ns per hop "
        f"and {tp_sw['time_at_1000ns_hop_us']} us at 1 us; today's fitted software base "
        f"({FP.comm_latency_s * 1e6:.1f} us) makes the same collective {tp_sw['time_today_base_100ns_hop_us']} us. The "
        f"software base, paid once per collective, not the wire, is the first latency to cut; hop latency matters "
        f"once hops x steps near it.",
        f"Topology: hops per step separate topologies. At 1 us per hop an EP 64 all-to-all takes "
        f"{ep_sw['time_at_1000ns_hop_us']} us on a one-level switch ({ep_sw['diameter_hops']:.0f} hop), "
        f"{ep_t3['time_at_1000ns_hop_us']} us on a 4x4x4 torus ({ep_t3['diameter_hops']:.0f} hops, and its bytes "
        f"cross 3 links on average) and {ep_ring['time_at_1000ns_hop_us']} us on a ring of 64 "
        f"({ep_ring['diameter_hops']:.0f} hops); a TP 8 all-reduce {tp_sw['time_at_1000ns_hop_us']} us on the switch "
        f"with in-network reduction and {tp_ring['time_at_1000ns_hop_us']} us on a ring of 8 ({tp_ring['algorithm_at_1000ns_hop'].replace('_', ' ')}). "
        "Low-diameter networks with one-step algorithms (switches, dragonflies, full meshes) win decode.",
        f"Algorithms: on 8 H100s, adding one-shot/two-shot to ring, tree and recursive doubling speeds up a decode "
        f"all-reduce {alg_t.rows[0]['speedup_one_two_shot']}x at batch 1 and {alg_t.rows[2]['speedup_one_two_shot']}x "
        f"at batch 64; NVLink SHARP's in-network reduction adds little at batch 1 (two steps vs one-shot's one) and "
        f"gives {alg_t.rows[3]['speedup_with_in_network']}x over classic at batch 256 ({alg_t.rows[3]['in_network_us']} us "
        f"vs {alg_t.rows[3]['best_ring_tree_rd_us']} us).",
        f"TP degree: for Llama 3.1 405B decode on H100s, communication takes over (parallel efficiency below 50 %) "
        f"beyond TP {tp[(names[2], 1)]['largest_tp_at_50pct_efficiency']} at batch 1 and TP "
        f"{tp[(names[2], 64)]['largest_tp_at_50pct_efficiency']} at batch 64 with today's HGX collectives; with only "
        f"ring/tree algorithms beyond TP {tp[(names[0], 1)]['largest_tp_at_50pct_efficiency']} and "
        f"{tp[(names[0], 64)]['largest_tp_at_50pct_efficiency']}; with a 1 us software base beyond TP "
        f"{tp[(names[4], 1)]['largest_tp_at_50pct_efficiency']}"
        f"{' (the largest tried)' if tp[(names[4], 1)]['largest_tp_at_50pct_efficiency'] == max(TP_DEGREES) else ''} and "
        f"{tp[(names[4], 64)]['largest_tp_at_50pct_efficiency']}. "
        f"At TP 8 and batch 64 the all-reduces are {tp[(names[2], 64)]['comm_share_tp8']:.0%} of a layer.",
    ]


def _system_findings(size_t: Table, sc: dict[str, Any], fail_t: Table, strag_t: Table) -> list[str]:
    """System size, failures and stragglers."""
    size = {(r["model_precision"], r["design"]): r for r in size_t.rows}
    s8, s1 = size[("moe-1t FP8", "8 HBM3E")], size[("moe-1t FP8", "4 HBM3E + 4 HBF")]
    s16, s2 = size[("moe-1t BF16", "8 HBM3E")], size[("moe-1t BF16", "4 HBM3E + 4 HBF")]
    fails = {(r["design"], r["recovery"]): r for r in fail_t.rows}
    lab_h, lab_f = f"{s8['chips']} x B200, 8 HBM3E", f"{s1['chips']} x B200, 4 HBM3E + 4 HBF"
    hm, hs = fails[(lab_h, "migrate to a distant node")], fails[(lab_h, "local hot spare")]
    fm, fs = fails[(lab_f, "migrate to a distant node")], fails[(lab_f, "local hot spare")]
    st = {r["group"]: r for r in strag_t.rows if "EP" in r["collectives"]}
    ic_detect = DETECT_S
    i4t = sc["sizes"].tolist().index(4)
    return [
        f"System size: HBF's capacity puts moe-1t on {s1['chips']} chip instead of {s8['chips']} (FP8) and "
        f"{s2['chips']} instead of {s16['chips']} (BF16), removing most per-step all-to-alls: the engine's decode "
        f"communication falls from {s8['decode_comm_ms']} ms per step to {s1['decode_comm_ms']} ms, and from "
        f"{s16['decode_comm_ms']} ms over NVLink + InfiniBand ({s16['worst_path_hops']:.0f} switch hops) to "
        f"{s2['decode_comm_ms']} ms over one NVLink switch. For a 4T-parameter FP8 model, {int(sc['HBM']['chips'][i4t])} "
        f"HBM chips (a {int(sc['HBM']['torus_hops'][i4t])}-hop torus) become {int(sc['HBF']['chips'][i4t])} HBF chips "
        f"({int(sc['HBF']['torus_hops'][i4t])} hops): the latency part of a MoE layer's all-to-all drops from "
        f"{sc['HBM']['torus_lat'][i4t] * 1e6:.0f} to {sc['HBF']['torus_lat'][i4t] * 1e6:.0f} us.",
        f"Failures: with {FAIL_PER_CHIP_YEAR:.2f} GPU faults per chip-year (Llama 3), an 8-chip moe-1t instance fails "
        f"{hm['failures_per_year']} times a year. Migrating to a distant node costs {hm['total_s']:.0f} s per failure "
        f"({hm['downtime_min_per_year']} min a year); a local hot spare {hs['total_s']:.0f} s ({hs['downtime_min_per_year']} "
        f"min a year: detection {ic_detect:.0f} s, reload {hs['reload_s']} s, re-prefill {hs['reprefill_s']} s). The single HBF chip fails {fm['failures_per_year']} times a "
        f"year but reloads {fm['weights_reloaded_per_chip_gb']} GB per chip: {fm['total_s']:.0f} s by migration, "
        f"{fs['total_s']:.0f} s from a local spare over PCIe ({fs['downtime_min_per_year']} min a year). At these "
        f"rates the lost capacity is minutes a year per instance either way; what the spare buys is the stall that "
        f"the in-flight requests see, cut {fm['total_s'] / fs['total_s']:.1f}-{hm['total_s'] / hs['total_s']:.1f}x.",
        f"Stragglers: with {JITTER_S * 1e6:.0f} us of exponential jitter per chip alone a collective waits "
        f"{st[8]['jitter_only_wait_us']} us for 8 chips and {st[256]['jitter_only_wait_us']} us for 256 (~ ln p); rare "
        f"{STALL_S * 1e3:.0f} ms stalls (1 in {1 / STALL_PROB:.0f} per chip) dominate at scale: {st[8]['wait_per_collective_us']} us "
        f"(8 chips), {st[64]['wait_per_collective_us']} us (64), {st[256]['wait_per_collective_us']} us (256) per "
        f"collective, {st[64]['wait_per_step_ms']} ms per moe-1t decode step at EP 64 (120 all-to-alls). A 25 us "
        f"timeout cuts that to {st[64]['wait_per_step_timeout_25us_ms']} ms with "
        f"{st[64]['stale_share_timeout_25us']:.1%} of the collectives using stale data "
        f"({st[256]['stale_share_timeout_25us']:.0%} at 256 chips): the paper's timeouts pay in large groups, at a "
        "price in data freshness that grows with the group.",
    ]


def _setups(cases: dict[str, Any]) -> dict[str, str]:
    """Each figure's setup line, from the study's constants."""
    moe = scenarios.moe_1t().id
    b200s = " or ".join(f"{c['chips']} B200{'s' if c['chips'] > 1 else ''}" for c in cases.values())
    return {
        "interconnect-hop-latency": style.setup(f"8- and {EP}-chip networks, {INJECTION / 1e9:.0f} GB/s per chip",
                                                f"software base {FAST_BASE_S * 1e6:.0f} us",
                                                f"hops {HOPS_S[0] * 1e9:.0f} ns-{HOPS_S[-1] * 1e6:.0f} us"),
        "interconnect-tp-degree": style.setup(f"{llmhw.load_model(TP_MODEL).name} FP8 decode on H100s (8 per NVLink "
                                              "domain, InfiniBand beyond)", f"TP {TP_DEGREES[0]}-{TP_DEGREES[-1]}",
                                              "batch 1 and 64"),
        "interconnect-capacity-scaling": style.setup(f"{SIZES_T[0]:g}-{SIZES_T[-1]:g}T-parameter MoE FP8 on B200s, "
                                                     "HBM or HBF", f"{GLOBAL_TOKENS} decode tokens in flight",
                                                     f"top-{EP_TOPK}"),
        "interconnect-reliability": style.setup(f"{moe} FP8 on {b200s}, 64 requests (a)",
                                                f"{JITTER_S * 1e6:.0f} us jitter, {STALL_S * 1e3:.0f} ms stalls at "
                                                f"{STALL_PROB:g} per chip (b, c)"),
    }


def _summary(topo_t: Table, best_t: Table, size_t: Table, fail_t: Table) -> str:
    tp_sw = next(r for r in topo_t.rows if r["collective"] == "TP 8 all-reduce"
                 and r["network"] == "switch + in-network reduction")
    ok = [r for r in best_t.rows if r["tok_s_per_chip"] is not None]
    best = ("" if len(ok) < 2 else f" For {llmhw.load_model(TP_MODEL).name} under TPOT <= {SLO_TPOT_S * 1e3:.0f} ms "
            f"on {SEARCH_HW.replace('hgx-', '').replace('-8', '').upper()}s, the lowest-latency network serves "
            f"{ok[-1]['ratio_vs_baseline']:.2f}x today's tokens/s per chip.")
    size = {(r["model_precision"], r["design"]): r for r in size_t.rows}
    s8, s1 = size[("moe-1t FP8", "8 HBM3E")], size[("moe-1t FP8", "4 HBM3E + 4 HBF")]
    spare = [r["total_s"] for r in fail_t.rows if r["recovery"] == "local hot spare"]
    move = [r["total_s"] for r in fail_t.rows if r["recovery"] != "local hot spare"]
    return (f"Decode collectives are latency-bound: a 1 MiB TP 8 all-reduce takes {tp_sw['time_today_base_100ns_hop_us']} "
            f"us with today's fitted software base and {tp_sw['time_at_100ns_hop_us']} us with a "
            f"{FAST_BASE_S * 1e6:.0f} us base." + best + f" HBF's capacity cuts a 1T MoE from {s8['chips']} chips to "
            f"{s1['chips']}, its decode communication from {s8['decode_comm_ms']} to {s1['decode_comm_ms']} ms per step; a "
            f"local spare cuts recovery from {min(move):.0f}-{max(move):.0f} s to {min(spare):.0f}-{max(spare):.0f} s.")


def run() -> Study:
    sw = _hop_sweep()
    topo_t = _topology_table()
    alg_t, best = _algorithm_table()
    tp_t, curves = _tp_table()
    size_t, _ = _system_size_table()
    sc = _scaling()
    scale_t = _scaling_table(sc)
    fail_t, cases = _reliability()
    strag_t = _straggler_table()
    best_t = _best_mapping_table()
    findings = [*_network_findings(topo_t, alg_t, tp_t), _best_mapping_finding(best_t),
                *_system_findings(size_t, sc, fail_t, strag_t)]
    tp_limit = next(r for r in tp_t.rows if r["collectives"] == list(TP_VARIANTS)[2] and r["batch"] == 64)
    figures = [
        Figure("interconnect-hop-latency", "With a 1 us software base, short hops leave the base and the "
               "bandwidth; from a few hundred ns per hop topologies separate by hops x steps: one-step low-diameter "
               "networks (switch, dragonfly, full mesh) beat tori and rings. Today's fitted base (dashed) outweighs "
               "a switch's hops up to several us per hop.", _fig_hops(sw)),
        Figure("interconnect-tp-degree", f"Decode all-reduces stay the same size as TP grows while the work "
               f"shrinks, so TP beyond {tp_limit['largest_tp_at_50pct_efficiency']} (batch 64) spends most "
               "of every added GPU on communication; one-shot, in-network reduction and a lower software base "
               "move that limit.", _fig_tp(curves)),
        Figure("interconnect-capacity-scaling", "More capacity per chip (HBF) means 8-16x fewer chips for the "
               "same model, so fewer hops and less latency in every MoE all-to-all.", _fig_scaling(sc)),
        Figure("interconnect-reliability", "A local hot spare cuts the cost of a failed chip from a restart "
               "and full reload to detection, one shard's reload and re-prefill; a timeout bounds the straggler "
               "wait that rare stalls make grow with the group, at the price of stale data in a growing share of "
               "collectives.",
               _fig_reliability(cases)),
    ]
    setups = _setups(cases)
    for f in figures:
        f.setup = setups[f.name]
    return Study(
        name="interconnect", title="RQ4: low-latency interconnect for decode",
        question=("Decode's collectives are small and frequent: how much do hop latency, topology, one-shot and "
                  "in-network algorithms, a smaller system (more capacity per chip), local spares and timeouts "
                  "change decode time? (Ma & Patterson 2026, sections 3 and 4.6; Q9-Q11)"),
        tables=[topo_t, alg_t, tp_t, best_t, size_t, scale_t, fail_t, strag_t], figures=figures, findings=findings,
        summary=_summary(topo_t, best_t, size_t, fail_t))
