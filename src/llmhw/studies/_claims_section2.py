"""The claims of the paper's section 2 (Ma & Patterson 2026, §2, claims 1-24) as rows of the claims table.

Each builder computes llmhw's figure from the catalogs and the engine and hands it, with the
paper's figure, to :func:`_claims_rule.row`, which judges it. Claims 7 and 8 carry no number;
claim 22 (Table 1) is in _claims_tables.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import llmhw
from llmhw import api
from llmhw.hardware import near_memory as nm
from llmhw.hardware.catalog import chips, lookup
from llmhw.scenario.economics import EconomicsParams
from llmhw.studies._claims_rule import Condition, Number, Row, not_computable, restates, row
from llmhw.studies._claims_runs import NEAR_MEMORY_BASE, h200_with_hbf, l70, pred


def c03_experts() -> list[Row]:
    m = llmhw.load_model("deepseek-v3")
    e = m.moe
    return [row("S2-3", "MoE models have tens to hundreds of experts: 256 for DeepSeek-V3", "Ma & Patterson 2026, §2 #3 [FT]",
                Number.of(256), "256 experts",
                f"{e.n_routed_experts} routed experts (+{e.n_shared_experts} shared), {e.experts_per_token} per token; "
                f"{m.total_params / 1e9:.0f} B parameters, {m.active_params / 1e9:.1f} B active",
                value=e.n_routed_experts, unit="experts",
                note="from DeepSeek-V3's Hugging Face config.json in the model catalog")]


def _fp64_endpoints() -> tuple[Any, Any] | None:
    cs = [c for c in chips().values() if c.vendor.lower().startswith("nvidia") and "fp64" in c.peak_flops]
    old = [c for c in cs if c.year == 2012]
    if not old:
        return None
    c2012 = max(old, key=lambda c: c.peak_flops["fp64"])
    by_id = {c.id: c for c in cs}
    c2022 = by_id.get("h100-sxm") or max((c for c in cs if c.year == 2022), key=lambda c: c.peak_flops["fp64"],
                                         default=None)
    return (c2012, c2022) if c2022 is not None else None


def c04_memory_wall() -> list[Row]:
    claim = "Memory wall: NVIDIA GPU 64-bit FLOP/s rose 80X from 2012 to 2022, memory bandwidth 17X"
    ends = _fp64_endpoints()
    if ends is None:
        return [not_computable("S2-4", claim, "80X FLOP/s, 17X bandwidth (gap 4.7X)", "Ma & Patterson 2026, §2 #4 [FT]",
                               "the catalog has no FP64 peaks for 2012-2022 NVIDIA GPUs")]
    a, b = ends
    fa, fb = a.peak_flops["fp64"], b.peak_flops["fp64"]
    ba, bb = a.memory[0].bandwidth_bytes_per_s, b.memory[0].bandwidth_bytes_per_s
    flops_in = (restates(a, "peak_flops.fp64"), restates(b, "peak_flops.fp64"))
    bw_in = (restates(a.memory[0], "bandwidth_bytes_per_s", f"{a.id}.memory.bandwidth_bytes_per_s"),
             restates(b.memory[0], "bandwidth_bytes_per_s", f"{b.id}.memory.bandwidth_bytes_per_s"))
    return [
        row("S2-4a", claim + " (FLOP/s)", "Ma & Patterson 2026, §2 #4 [FT]", Number.of(80, effect=True), "80X",
            f"{fb / fa:.0f}X: {b.id} {fb / 1e12:.1f} / {a.id} {fa / 1e12:.2f} TFLOP/s FP64 "
            "(catalog peaks; H100's is the tensor-core rate, its vector FP64 gives half)",
            value=fb / fa, unit="x", echoes=flops_in,
            note="the paper does not name its endpoints; llmhw takes the 2012 and 2022 flagships"),
        row("S2-4b", claim + " (bandwidth)", "Ma & Patterson 2026, §2 #4 [FT]", Number.of(17, effect=True), "17X",
            f"{bb / ba:.1f}X: {bb / 1e12:.2f} / {ba / 1e12:.2f} TB/s", value=bb / ba, unit="x", echoes=bw_in,
            note="datasheet bandwidths of the same endpoints"),
        row("S2-4c", "The FLOP/s-to-bandwidth gap (the ridge point) widened 80/17 = 4.7X", "Ma & Patterson 2026, §2 #4 / W1",
            Number.of(80 / 17, effect=True), "4.7X (virge.io's arithmetic)",
            f"{fb / fa / (bb / ba):.1f}X: ridge {fa / ba:.1f} -> {fb / bb:.1f} FP64 FLOP/byte",
            value=fb / fa / (bb / ba), unit="x", echoes=flops_in + bw_in, note="the ridge of the same endpoints"),
    ]


def c05_hbm_cost() -> list[Row]:
    usd_gb = EconomicsParams.default().memory_usd_per_gb_fallback["hbm"]
    chip = lookup("h200")
    hbm_usd = chip.memory[0].capacity_bytes / 1e9 * usd_gb
    s = l70("hgx-h200-8", 8, 64)
    c0 = pred(s)["cost_usd_per_mtok"]
    c1 = pred({**s, "overrides": {"chip.price_usd": chip.price_usd + 0.35 * hbm_usd}})["cost_usd_per_mtok"]
    return [
        not_computable("S2-5", "HBM cost per GB and per GB/s rose 1.35X from 2023 to 2025", "1.35X",
                       "Ma & Patterson 2026, §2 #5 [FT]",
                       "llmhw has no price history; it can only price the consequence (Q12)",
                       f"trend not computable (one HBM price in the catalog: {usd_gb:g} USD/GB); its effect: 0.35 x "
                       f"{hbm_usd:,.0f} USD of HBM on an H200 = +{0.35 * hbm_usd:,.0f} USD, USD/Mtok "
                       f"+{(c1 / c0 - 1) * 100:.1f}% (Llama 3.1 70B FP8, 8 x H200, batch 64)"),
        not_computable("S2-6", "Standard DDR4 cost: capacity 0.54X, bandwidth 0.45X from 2022 to 2025", "0.54X, 0.45X",
                       "Ma & Patterson 2026, §2 #6 [FT]", "no DRAM price history in the catalog"),
    ]


def c09_density() -> list[Row]:
    return [not_computable("S2-9", "DRAM density: a 4X step from the 8 Gb dies of 2014 takes over 10 years "
                           "(earlier 4X steps: 3-6 years)", ">10 years", "Ma & Patterson 2026, §2 #9 [FT]",
                           "no DRAM die-density history in the catalog (memory presets hold stacks, not dies by year)")]


def c10_sram() -> list[Row]:
    w = llmhw.load_model("llama-3.1-70b").weight_bytes("fp8")
    g = lookup("groq-lpu").memory[0].capacity_bytes
    c = lookup("cerebras-wse3").memory[0].capacity_bytes
    h = lookup("h200").memory[0].capacity_bytes
    w_ds = llmhw.load_model("deepseek-v3").weight_bytes("fp8")
    n_g, n_c, n_h = math.ceil(w / g), math.ceil(w / c), math.ceil(w / h)
    return [row("S2-10", "SRAM-only designs (Groq, Cerebras) are insufficient: they had to retrofit external DRAM",
                "Ma & Patterson 2026, §2 #10 [FT], Q15",
                Condition("both SRAM-only designs need more chips than an HBM GPU (H200) to hold a 70B model's "
                          "FP8 weights", "one of them does"),
                "qualitative (Q15: chips to hold a model)",
                f"Llama 3.1 70B FP8 ({w / 1e9:.1f} GB of weights alone) needs {n_g} Groq LPUs "
                f"({g / 1e6:.0f} MB SRAM each), {n_c} Cerebras WSE-3 wafers ({c / 1e9:.0f} GB) or {n_h} H200; "
                f"DeepSeek-V3 FP8 ({w_ds / 1e9:.0f} GB): {math.ceil(w_ds / g):,} LPUs",
                value=n_g, unit="chips", holds=n_g > n_h and n_c > n_h, partial=n_g > n_h or n_c > n_h,
                note="before any KV cache: the system size (and hops) the paper warns of")]


def c11_latency() -> list[Row]:
    d1 = pred(l70("hgx-h100-8", 8, 1))
    d8 = pred({**l70("hgx-h100-8", 8, 1), "workload": {"input_tokens": 1024, "output_tokens": 8192, "batch": 1}})
    first, long = d1["ttft_s"] <= 1.0, d8["e2e_s"] > 10.0
    return [row("S2-11", "Inference needs a response in seconds or less (training takes weeks); time to completion "
                "is the challenge", "Ma & Patterson 2026, §2 #11, §4.1 [FT]",
                Condition("on 8 x H100 the first token comes within a second, while an 8K-token answer takes "
                          "over 10 s", "the first token comes within a second"),
                "seconds or less",
                f"Llama 3.1 70B FP8 on 8 x H100, one user: TTFT {d1['ttft_s'] * 1e3:.0f} ms, a 1K-token answer in "
                f"{d1['e2e_s']:.1f} s, an 8K-token reasoning trace in {d8['e2e_s']:.0f} s",
                holds=first and long, partial=first,
                note="time to completion of long outputs is tens of seconds even at batch 1")]


def c12_hbf() -> list[Row]:
    hbf, hbm4 = lookup("hbf"), lookup("hbm4")
    bw6400 = 2048 * 6.4e9 / 8
    # Whole power of one stack streaming at its bandwidth: static + access energy x bandwidth.
    p_hbf = (hbf.static_power_w or 0) + hbf.energy_j_per_bit * hbf.bandwidth_bytes_per_s * 8
    p_hbm = (hbm4.static_power_w or 0) + hbm4.energy_j_per_bit * bw6400 * 8
    h200 = lookup("h200").memory[0].capacity_bytes
    return [
        row("S2-12", "HBF gives 10X memory capacity: one stack 512 GB vs 48 GB for one HBM4 stack",
            "Ma & Patterson 2026, §2 #12, Table 3 [FT, T-3]", Number.of(10, effect=True), "512 GB vs 48 GB (10X)",
            f"{hbf.capacity_bytes / 1e9:.0f} GB vs {hbm4.capacity_bytes / 1e9:.0f} GB = "
            f"{hbf.capacity_bytes / hbm4.capacity_bytes:.1f}X per stack; an H200 plus one HBF stack holds "
            f"{(h200 + hbf.capacity_bytes) / h200:.1f}X its HBM alone",
            value=hbf.capacity_bytes / hbm4.capacity_bytes, unit="x",
            echoes=(restates(hbf, "capacity_bytes"), restates(hbm4, "capacity_bytes")),
            note="catalog presets (HBF: Sandisk's announced 16 x 256 Gb dies; HBM4: SK hynix's 16-high part)"),
        row("S2-13", "HBF read bandwidth 1638 GB/s per stack, equal to one HBM4-6400 stack",
            "Ma & Patterson 2026, §2 #13, Table 3 [T-3]", Number.of(1638), "1638 GB/s",
            f"HBF {hbf.bandwidth_bytes_per_s / 1e9:.0f} GB/s; HBM4-6400 = 2048 pins x 6.4 Gb/s / 8 = "
            f"{bw6400 / 1e9:.1f} GB/s (the catalog's HBM4 preset is the 8 Gb/s bin, {hbm4.bandwidth_bytes_per_s / 1e9:.0f} GB/s)",
            value=hbf.bandwidth_bytes_per_s / 1e9, unit="GB/s", echoes=(restates(hbf, "bandwidth_bytes_per_s"),),
            note="the HBF preset cites the paper and the vendors' 1.6 TB/s gen-1 target"),
        row("S2-14", "HBF power under 80 W per stack vs 40 W for HBM4", "Ma & Patterson 2026, §2 #14, Table 3 [T-3]",
            Number.of((0, 80)), "<80 W vs 40 W",
            f"{p_hbf:.0f} W ({hbf.static_power_w or 0:.0f} W static + {hbf.energy_j_per_bit * 1e12:.1f} pJ/bit x "
            f"{hbf.bandwidth_bytes_per_s / 1e9:.0f} GB/s) vs {p_hbm:.0f} W ({hbm4.static_power_w or 0:.0f} W + "
            f"{hbm4.energy_j_per_bit * 1e12:.2f} pJ/bit x 1638 GB/s)",
            value=p_hbf, unit="W", echoes=(restates(hbf, "energy_j_per_bit"), restates(hbf, "static_power_w"),
                                           restates(hbf, "bandwidth_bytes_per_s")),
            note="power = static + access energy x bandwidth"),
    ]


def c15_hbf_latency() -> list[Row]:
    hbf = lookup("hbf")
    over, hbm_id = h200_with_hbf()
    base = l70("h200", 1, 1)
    t0 = pred(base)["tpot_s"]
    t1 = pred({**base, "overrides": over, "placement": {"weights": "hbf", "kv_cache": hbm_id}})["tpot_s"]
    layers = llmhw.load_model("llama-3.1-70b").n_layers
    per_step = layers * 4 * hbf.latency_s
    return [
        row("S2-15", "HBF read latency: microseconds (text v2), 10s of us (later text), 1000s of ns (Table 3)",
            "Ma & Patterson 2026, §2 #15 [FT, T-3]", Number.of((1, 30)), "1-10s of us",
            f"catalog {hbf.latency_s * 1e6:g} us (swept 1-25 us): {layers} layers x 4 weight reads x "
            f"{hbf.latency_s * 1e6:g} us = {per_step * 1e3:.1f} ms per decode step; Llama 3.1 70B FP8 on one H200, "
            f"batch 1, weights in HBF: TPOT {t1 * 1e3:.0f} ms vs {t0 * 1e3:.0f} ms in HBM; hiding it takes "
            f"{hbf.bandwidth_bytes_per_s * hbf.latency_s / 1e6:.1f} MB in flight per stack (BW x latency, Q5)",
            value=hbf.latency_s * 1e6, unit="us", echoes=(restates(hbf, "latency_s"),),
            note="one value inside the paper's inconsistent range; the latency is not published"),
        row("S2-16", "HBF reads whole pages: 4096 B per read (Table 3), 10s of KB (text) vs 32 B for HBM4",
            "Ma & Patterson 2026, §2 #16, Table 3 [FT, T-3]", Number.of(4096), "4096 B vs 32 B",
            f"{hbf.access_granularity_bytes:.0f} B vs {lookup('hbm4').access_granularity_bytes:.0f} B; a 2 KB KV "
            f"block costs {hbf.access_granularity_bytes / 2048:.0f}x its bytes, weight matrices (MBs) nothing",
            value=hbf.access_granularity_bytes, unit="B",
            echoes=(restates(hbf, "access_granularity_bytes"), restates(lookup("hbm4"), "access_granularity_bytes")),
            note="the engine charges a whole page per smaller read"),
    ]


def c17_flash() -> list[Row]:
    return [not_computable("S2-17", "Flash capacity doubles every three years", "2X per 3 years",
                           "Ma & Patterson 2026, §2 #17 [FT]", "no flash density history in the catalog")]


def c18_shards() -> list[Row]:
    pim = {k: lookup(k) for k in ("pim-hbm", "pim-gddr6-aim", "pim-lpddr5")}
    pnm = lookup("pnm-hbm")
    lo, hi = min(p.shard_bytes for p in pim.values()), max(p.shard_bytes for p in pim.values())
    m = llmhw.load_model("llama-3.1-70b")
    gate = nm.gemv_item(m.intermediate_size // 8, m.hidden_size, 2)
    fits = nm.shard_fit(pim["pim-hbm"], {"gate_proj rows": gate, "gate_proj whole": gate[0],
                                         "kv head 128k": nm.kv_head_item(131072, m.head_dim, 2)})
    bad = [f.tensor for f in fits if not f.fits]
    return [
        row("S2-18", "PIM needs LLM pieces sharded to 32-64 MB banks; PNM shards can be 1000x larger (16-32 GB)",
            "Ma & Patterson 2026, §2 #18, Table 4 [FT, T-4]", Number.of((250, 1000), effect=True), "32-64 MB vs 16-32 GB (1000X)",
            f"PIM presets {lo / 1e6:.0f}-{hi / 1e6:.0f} MB; pnm-hbm {pnm.shard_bytes / 1e9:.0f} GB (one HBM4 stack): "
            f"{pnm.shard_bytes / pim['pim-hbm'].shard_bytes:,.0f}X; Llama 3.1 70B TP8 bf16 on 32 MB banks: "
            f"{', '.join(bad)} cannot map",
            value=pnm.shard_bytes / pim["pim-hbm"].shard_bytes, unit="x",
            echoes=(restates(pim["pim-hbm"], "shard_bytes"), restates(pnm, "shard_bytes")),
            note="PNM as one 48 GB HBM4 stack, above the paper's 16-32 GB example"),
    ]


def c19_bw_per_watt() -> list[Row]:
    fb = EconomicsParams.default().memory_energy_j_per_bit_fallback
    std = {"pim-hbm": lookup("hbm2e").energy_j_per_bit, "pim-gddr6-aim": lookup("gddr7").energy_j_per_bit or fb["gddr"],
           "pim-lpddr5": lookup("lpddr5").energy_j_per_bit}
    ratios = {k: v / lookup(k).energy_j_per_bit for k, v in std.items()}
    hbm4, pnm = lookup("hbm4"), lookup("pnm-hbm")
    r_pnm = hbm4.energy_j_per_bit / pnm.energy_j_per_bit
    txt = ", ".join(f"{k} {r:.1f}X" for k, r in ratios.items())
    return [
        row("S2-19a", "PIM bandwidth per watt is 5X-10X that of standard memory", "Ma & Patterson 2026, §2 #19, Table 4 [T-4]",
            Number.of((5, 10), effect=True), "5X-10X",
            f"{txt} (host-memory pJ/bit / PIM pJ/bit: HBM2E, GDDR, LPDDR5); median {np.median(list(ratios.values())):.1f}X",
            value=float(np.median(list(ratios.values()))), unit="x",
            echoes=tuple(restates(lookup(k), "energy_j_per_bit") for k in ratios),
            note="the catalog's PIM energies are vendors' savings of 60-70%"),
        row("S2-19b", "PNM bandwidth per watt is 2X-5X that of standard memory", "Ma & Patterson 2026, §2 #19, Table 4 [T-4]",
            Number.of((2, 5), effect=True), "2X-5X",
            f"pnm-hbm {r_pnm:.1f}X (HBM4 {hbm4.energy_j_per_bit * 1e12:.2f} / {pnm.energy_j_per_bit * 1e12:.1f} pJ/bit)",
            value=r_pnm, unit="x", echoes=(restates(pnm, "energy_j_per_bit"),),
            note="host HBM4 pJ/bit / PNM pJ/bit"),
    ]


def c20_base_die() -> list[Row]:
    """The paper's 2-3X lower power for compute on the HBM base die: per bit (the presets), and what it
    does to the whole system's energy per token (the near-memory study's system, batch 1 and 16)."""
    hbm4, pnm = lookup("hbm4"), lookup("pnm-hbm")
    gen2 = lookup("3d-dram-hybrid-bond-gen2")
    claim = "Compute on the HBM base die: HBM's bandwidth at 2-3X lower power"
    paper = Number.of((2, 3), effect=True)
    batch = np.array([1, 16])
    with np.errstate(all="ignore"):
        e0 = np.asarray(api.sweep_economics(NEAR_MEMORY_BASE, batch=batch)["energy_j_per_token"], float)
        e1 = np.asarray(api.sweep_economics({**NEAR_MEMORY_BASE, "overrides": {"chip.near_memory": "pnm-hbm"}},
                                            batch=batch)["energy_j_per_token"], float)
    system = "Llama 3.1 70B BF16 on 8 x H100 (the near-memory study's system), 1K in / 1K out"
    rows = [row("S2-20a", claim + " (per bit)", "Ma & Patterson 2026, §2 #20 [FT]", paper, "2-3X lower power",
                f"pnm-hbm {hbm4.energy_j_per_bit / pnm.energy_j_per_bit:.1f}X lower pJ/bit than HBM4; custom 3D "
                f"(hybrid-bond gen-2) {hbm4.energy_j_per_bit / gen2.energy_j_per_bit:.1f}X",
                value=hbm4.energy_j_per_bit / pnm.energy_j_per_bit, unit="x",
                echoes=(restates(pnm, "energy_j_per_bit"),), note="the presets' energy per bit read")]
    for i, (b, sub) in enumerate(zip(batch, "bc", strict=True)):
        rows.append(row(f"S2-20{sub}", f"{claim} (the system's J/token, batch {b})", "Ma & Patterson 2026, §2 #20 [FT]", paper,
                        "2-3X lower power",
                        f"{system}, batch {b}: {e0[i]:.3g} J/token with HBM, {e1[i]:.3g} J/token with pnm-hbm "
                        f"({(e1[i] / e0[i] - 1) * 100:+.1f}%): {e0[i] / e1[i]:.2f}X",
                        value=e0[i] / e1[i], unit="x",
                        note="static and host power and compute do not shrink with the memory's pJ/bit"))
    return rows


def c24_trends() -> list[Row]:
    ds = llmhw.load_model("deepseek-v3")
    l70m = llmhw.load_model("llama-3.1-70b")
    kv128 = l70m.kv_cache_bytes_per_token("bf16") * 131072
    moe = ds.total_params / ds.active_params
    kv_share = kv128 / l70m.weight_bytes("bf16")
    return [
        row("S2-24a", "MoE, reasoning, long context and RAG raise memory capacity and bandwidth demands",
            "Ma & Patterson 2026, §2 #24, Table 2 [FT]",
            Condition("DeepSeek-V3 holds 10X or more parameters per active parameter, and one 128K-token request's "
                      "KV cache exceeds 10% of Llama 3.1 70B's weights", "one of the two"),
            "qualitative (Table 2)",
            f"DeepSeek-V3 FP8 holds {ds.weight_bytes('fp8') / 1e9:.0f} GB of weights for {ds.active_params / 1e9:.0f} B "
            f"active parameters ({moe:.0f}X a dense model of equal compute); a 128K context "
            f"of Llama 3.1 70B is {kv128 / 1e9:.1f} GB of bf16 KV cache per request, {kv_share:.0%} of its bf16 weights",
            holds=moe >= 10 and kv_share > 0.1, partial=moe >= 10 or kv_share > 0.1,
            note="the trends study has every trend"),
        not_computable("S2-24b", "Diffusion is the one trend that only increases compute demand", "qualitative",
                       "Ma & Patterson 2026, §2 #24 [FT]", "no diffusion language model in the catalog (see the trends study's "
                       "block-decoding approximation)"),
    ]


def other_not_computable() -> list[Row]:
    return [
        not_computable("S2-1", "Industry share of computer-architecture papers: ~40% in 1976, <4% at ISCA 2025",
                       "40% -> <4%", "Ma & Patterson 2026, §2 #1 [FT]", "bibliometrics, outside a hardware model"),
        not_computable("S2-2", "Annual inference-chip sales grow 4X-6X over the next 5-8 years", "4X-6X",
                       "Ma & Patterson 2026, §2 #2 [FT]", "a market forecast"),
        not_computable("S2-21", "PIM was conceived by the 1990s", "1990s", "Ma & Patterson 2026, §2 #21 [FT]", "history"),
        not_computable("S2-23", "OpenAI lost about $5B on $3.7B of revenue", "$5B loss, $3.7B revenue",
                       "Ma & Patterson 2026, §2 #23 [2nd]", "company finances; also not in the full-text copy"),
    ]


CHECKS = (c03_experts, c04_memory_wall, c05_hbm_cost, c09_density, c10_sram, c11_latency, c12_hbf, c15_hbf_latency,
          c17_flash, c18_shards, c19_bw_per_watt, c20_base_die, c24_trends, other_not_computable)
