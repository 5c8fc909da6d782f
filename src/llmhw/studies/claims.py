"""Every quantitative claim of Ma and Patterson (2026) that llmhw can recompute, recomputed.

The claims come from the reconstruction of the paper in ``../shared/paper/paper.md``: its section 2
(the numbered quantitative claims), its Tables 1, 3 and 4, and the tests its section 5 proposes
(Q1-Q15). Each row: the claim, the paper's figure with its source label, llmhw's figure computed
live from the catalogs and the engine, whether they agree (yes, partly, no, not computable) and why.

Agreement: "yes" when llmhw's figure is within about 10% of the paper's or inside its range (or
reproduces a qualitative claim with numbers), "partly" when the direction or the order of magnitude
holds but the figure does not, "no" when llmhw contradicts it. Several catalog numbers were taken
from the paper itself (HBF and HBM4 power, LPDDR5 energy, the PIM/PNM shard sizes); their rows say
so: agreement there checks the bookkeeping, not the claim.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
from matplotlib.figure import Figure as MplFigure  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

import llmhw  # noqa: E402
from llmhw import api  # noqa: E402
from llmhw.core.units import DAYS_PER_YEAR  # noqa: E402
from llmhw.hardware import near_memory as nm  # noqa: E402
from llmhw.hardware.catalog import chips, lookup  # noqa: E402
from llmhw.scenario.economics import EconomicsParams  # noqa: E402
from llmhw.studies import style
from llmhw.studies.base import Figure, Study, Table  # noqa: E402

AGREE = ("yes", "partly", "no", "not computable")
_PLAIN = FuncFormatter(lambda v, _: f"{v:g}")
Row = dict[str, Any]


def row(cid: str, claim: str, paper: str, source: str, llmhw_fig: str, agree: str, why: str,
        paper_value: float | tuple[float, float] | None = None, llmhw_value: float | None = None,
        unit: str = "") -> Row:
    """One claim. ``paper_value`` is the paper's one number, or its (low, high) range."""
    assert agree in AGREE, agree
    lo, hi = paper_value if isinstance(paper_value, tuple) else (paper_value, paper_value)
    return {"id": cid, "claim": claim, "paper_figure": paper, "paper_source": source, "llmhw_figure": llmhw_fig,
            "agree": agree, "why": why, "paper_low": lo, "paper_high": hi,
            "llmhw_value": None if llmhw_value is None else float(f"{llmhw_value:.4g}"), "unit": unit}


def off_by(r: Row) -> float | None:
    """Relative distance of llmhw's number from the paper's number or range (0 inside the range)."""
    v, lo, hi = r["llmhw_value"], r["paper_low"], r["paper_high"]
    if not v or not lo or not hi:
        return None
    return v / hi - 1 if v > hi else v / lo - 1 if v < lo else 0.0


def not_computable(cid: str, claim: str, paper: str, source: str, why: str) -> Row:
    return row(cid, claim, paper, source, "-", "not computable", why)


def _pred(s: dict[str, Any]) -> dict[str, Any]:
    return llmhw.predict(s).to_dict()


def _l70(hw: str, n: int, batch: int, **kw: Any) -> dict[str, Any]:
    s: dict[str, Any] = {"model": "llama-3.1-70b", "hardware": hw, "n_chips": n, "parallelism": {"tp": n},
                         "precision": {"weights": "fp8", "kv_cache": "fp8"},
                         "workload": {"input_tokens": 1024, "output_tokens": 1024, "batch": batch}}
    s.update(kw)
    return s


# ------------------------------------------------------------------ section 2 of paper.md
def c03_experts() -> list[Row]:
    m = llmhw.load_model("deepseek-v3")
    e = m.moe
    return [row("S2-3", "MoE models have tens to hundreds of experts: 256 for DeepSeek-V3", "256 experts",
                "paper.md §2 #3 [FT]",
                f"{e.n_routed_experts} routed experts (+{e.n_shared_experts} shared), {e.experts_per_token} per token; "
                f"{m.total_params / 1e9:.0f} B parameters, {m.active_params / 1e9:.1f} B active",
                "yes" if e.n_routed_experts == 256 else "no",
                "from DeepSeek-V3's Hugging Face config.json in the model catalog",
                256, e.n_routed_experts, "experts")]


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
        return [not_computable("S2-4", claim, "80X FLOP/s, 17X bandwidth (gap 4.7X)", "paper.md §2 #4 [FT]",
                               "not computable yet: the catalog has no FP64 peaks for 2012-2022 NVIDIA GPUs")]
    a, b = ends
    f = b.peak_flops["fp64"] / a.peak_flops["fp64"]
    bw = b.memory[0].bandwidth_bytes_per_s / a.memory[0].bandwidth_bytes_per_s
    return [
        row("S2-4a", claim + " (FLOP/s)", "80X", "paper.md §2 #4 [FT]",
            f"{f:.0f}X: {b.id} {b.peak_flops['fp64'] / 1e12:.1f} / {a.id} {a.peak_flops['fp64'] / 1e12:.2f} TFLOP/s FP64 "
            "(catalog peaks; H100's is the tensor-core rate, its vector FP64 gives half)",
            "partly", "same direction, smaller: the paper does not name its endpoints; no pair of catalogued "
            "2012 and 2022 flagships gives 80X", 80, f, "x"),
        row("S2-4b", claim + " (bandwidth)", "17X", "paper.md §2 #4 [FT]",
            f"{bw:.1f}X: {b.memory[0].bandwidth_bytes_per_s / 1e12:.2f} / {a.memory[0].bandwidth_bytes_per_s / 1e12:.2f} TB/s",
            "partly" if abs(bw / 17 - 1) > 0.1 else "yes", "datasheet bandwidths of the same endpoints", 17, bw, "x"),
        row("S2-4c", "The FLOP/s-to-bandwidth gap (the ridge point) widened 80/17 = 4.7X", "4.7X (virge.io's arithmetic)",
            "paper.md §2 #4 / W1",
            f"{f / bw:.1f}X: ridge {a.peak_flops['fp64'] / a.memory[0].bandwidth_bytes_per_s:.1f} -> "
            f"{b.peak_flops['fp64'] / b.memory[0].bandwidth_bytes_per_s:.1f} FP64 FLOP/byte",
            "partly", "the gap widens, by less than 4.7X with these endpoints", 80 / 17, f / bw, "x"),
    ]


def c05_hbm_cost() -> list[Row]:
    usd_gb = EconomicsParams.default().memory_usd_per_gb_fallback["hbm"]
    chip = lookup("h200")
    hbm_usd = chip.memory[0].capacity_bytes / 1e9 * usd_gb
    s = _l70("hgx-h200-8", 8, 64)
    c0 = _pred(s)["cost_usd_per_mtok"]
    c1 = _pred({**s, "overrides": {"chip.price_usd": chip.price_usd + 0.35 * hbm_usd}})["cost_usd_per_mtok"]
    return [
        row("S2-5", "HBM cost per GB and per GB/s rose 1.35X from 2023 to 2025", "1.35X", "paper.md §2 #5 [FT]",
            f"trend not computable (one HBM price in the catalog: {usd_gb:g} USD/GB); its effect: 0.35 x "
            f"{hbm_usd:,.0f} USD of HBM on an H200 = +{0.35 * hbm_usd:,.0f} USD, USD/Mtok +{(c1 / c0 - 1) * 100:.1f}% "
            "(Llama 3.1 70B FP8, 8 x H200, batch 64)",
            "not computable", "llmhw has no price history; it can only price the consequence (Q12)"),
        not_computable("S2-6", "Standard DDR4 cost: capacity 0.54X, bandwidth 0.45X from 2022 to 2025", "0.54X, 0.45X",
                       "paper.md §2 #6 [FT]", "no DRAM price history in the catalog"),
    ]


def c09_density() -> list[Row]:
    return [not_computable("S2-9", "DRAM density: a 4X step from the 8 Gb dies of 2014 takes over 10 years "
                           "(earlier 4X steps: 3-6 years)", ">10 years", "paper.md §2 #9 [FT]",
                           "no DRAM die-density history in the catalog (memory presets hold stacks, not dies by year)")]


def c10_sram() -> list[Row]:
    w = llmhw.load_model("llama-3.1-70b").weight_bytes("fp8")
    g = lookup("groq-lpu").memory[0].capacity_bytes
    c = lookup("cerebras-wse3").memory[0].capacity_bytes
    w_ds = llmhw.load_model("deepseek-v3").weight_bytes("fp8")
    return [row("S2-10", "SRAM-only designs (Groq, Cerebras) are insufficient: they had to retrofit external DRAM",
                "qualitative (Q15: chips to hold a model)", "paper.md §2 #10 [FT], Q15",
                f"Llama 3.1 70B FP8 ({w / 1e9:.1f} GB of weights alone) needs {math.ceil(w / g)} Groq LPUs "
                f"({g / 1e6:.0f} MB SRAM each) or {math.ceil(w / c)} Cerebras WSE-3 wafers ({c / 1e9:.0f} GB); "
                f"DeepSeek-V3 FP8 ({w_ds / 1e9:.0f} GB): {math.ceil(w_ds / g):,} LPUs",
                "yes", "hundreds of chips before any KV cache: the system size (and hops) the paper warns of",
                None, math.ceil(w / g), "chips")]


def c11_latency() -> list[Row]:
    d1 = _pred(_l70("hgx-h100-8", 8, 1))
    d8 = _pred({**_l70("hgx-h100-8", 8, 1), "workload": {"input_tokens": 1024, "output_tokens": 8192, "batch": 1}})
    return [row("S2-11", "Inference needs a response in seconds or less (training takes weeks)", "seconds or less",
                "paper.md §2 #11 [FT]",
                f"Llama 3.1 70B FP8 on 8 x H100, one user: TTFT {d1['ttft_s'] * 1e3:.0f} ms, a 1K-token answer in "
                f"{d1['e2e_s']:.1f} s, an 8K-token reasoning trace in {d8['e2e_s']:.0f} s",
                "partly", "the first token comes in well under a second; time to completion of long outputs "
                "is tens of seconds even at batch 1: the paper's time-to-completion challenge")]


def c12_hbf() -> list[Row]:
    hbf, hbm4 = lookup("hbf"), lookup("hbm4")
    bw6400 = 2048 * 6.4e9 / 8
    p_hbf = hbf.energy_j_per_bit * hbf.bandwidth_bytes_per_s * 8
    p_hbm = hbm4.energy_j_per_bit * bw6400 * 8
    h200 = lookup("h200").memory[0].capacity_bytes
    return [
        row("S2-12", "HBF gives 10X memory capacity: one stack 512 GB vs 48 GB for one HBM4 stack", "512 GB vs 48 GB (10X)",
            "paper.md §2 #12, Table 3 [FT, T-3]",
            f"{hbf.capacity_bytes / 1e9:.0f} GB vs {hbm4.capacity_bytes / 1e9:.0f} GB = "
            f"{hbf.capacity_bytes / hbm4.capacity_bytes:.1f}X per stack; an H200 plus one HBF stack holds "
            f"{(h200 + hbf.capacity_bytes) / h200:.1f}X its HBM alone",
            "yes", "catalog presets (HBF: Sandisk's announced 16 x 256 Gb dies)", 10,
            hbf.capacity_bytes / hbm4.capacity_bytes, "x"),
        row("S2-13", "HBF read bandwidth 1638 GB/s per stack, equal to one HBM4-6400 stack", "1638 GB/s",
            "paper.md §2 #13, Table 3 [T-3]",
            f"HBF {hbf.bandwidth_bytes_per_s / 1e9:.0f} GB/s; HBM4-6400 = 2048 pins x 6.4 Gb/s / 8 = "
            f"{bw6400 / 1e9:.1f} GB/s (the catalog's HBM4 preset is the 8 Gb/s bin, {hbm4.bandwidth_bytes_per_s / 1e9:.0f} GB/s)",
            "yes", "equal by construction of the paper's comparison point", 1638, hbf.bandwidth_bytes_per_s / 1e9, "GB/s"),
        row("S2-14", "HBF power under 80 W per stack vs 40 W for HBM4", "<80 W vs 40 W", "paper.md §2 #14, Table 3 [T-3]",
            f"{p_hbf:.0f} W ({hbf.energy_j_per_bit * 1e12:.1f} pJ/bit x 1638 GB/s) vs {p_hbm:.0f} W "
            f"({hbm4.energy_j_per_bit * 1e12:.2f} pJ/bit x 1638 GB/s)",
            "yes", "circular: the catalog's pJ/bit were derived from Table 3's watts", 80, p_hbf, "W"),
    ]


def c15_hbf_latency() -> list[Row]:
    hbf = lookup("hbf")
    h200 = lookup("h200").memory[0]
    tier = {"tech": h200.id, "capacity_bytes": h200.capacity_bytes, "bandwidth_bytes_per_s": h200.bandwidth_bytes_per_s}
    base = _l70("h200", 1, 1)
    t0 = _pred(base)["tpot_s"]
    t1 = _pred({**base, "overrides": {"chip.memory": [tier, "hbf"]},
                "placement": {"weights": "hbf", "kv_cache": h200.id}})["tpot_s"]
    layers = llmhw.load_model("llama-3.1-70b").n_layers
    per_step = layers * 4 * hbf.latency_s
    return [
        row("S2-15", "HBF read latency: microseconds (text v2), 10s of us (later text), 1000s of ns (Table 3)",
            "1-10s of us", "paper.md §2 #15 [FT, T-3]",
            f"catalog {hbf.latency_s * 1e6:g} us (swept 1-25 us): {layers} layers x 4 weight reads x "
            f"{hbf.latency_s * 1e6:g} us = {per_step * 1e3:.1f} ms per decode step; Llama 3.1 70B FP8 on one H200, "
            f"batch 1, weights in HBF: TPOT {t1 * 1e3:.0f} ms vs {t0 * 1e3:.0f} ms in HBM; hiding it takes "
            f"{hbf.bandwidth_bytes_per_s * hbf.latency_s / 1e6:.1f} MB in flight per stack (BW x latency, Q5)",
            "partly", "llmhw uses one value inside the paper's inconsistent range; at 5 us latency is a "
            "tenth of the step, flash bandwidth the rest", (1, 30), hbf.latency_s * 1e6, "us"),
        row("S2-16", "HBF reads whole pages: 4096 B per read (Table 3), 10s of KB (text) vs 32 B for HBM4",
            "4096 B vs 32 B", "paper.md §2 #16, Table 3 [FT, T-3]",
            f"{hbf.access_granularity_bytes:.0f} B vs {lookup('hbm4').access_granularity_bytes:.0f} B; a 2 KB KV "
            f"block costs {hbf.access_granularity_bytes / 2048:.0f}x its bytes, weight matrices (MBs) nothing",
            "yes", "catalog granularities from Table 3; the engine charges a page per smaller read", 4096,
            hbf.access_granularity_bytes, "B"),
    ]


def c17_flash() -> list[Row]:
    return [not_computable("S2-17", "Flash capacity doubles every three years", "2X per 3 years",
                           "paper.md §2 #17 [FT]", "no flash density history in the catalog")]


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
            "32-64 MB vs 16-32 GB (1000X)", "paper.md §2 #18, Table 4 [FT, T-4]",
            f"PIM presets {lo / 1e6:.0f}-{hi / 1e6:.0f} MB; pnm-hbm {pnm.shard_bytes / 1e9:.0f} GB (one HBM4 stack): "
            f"{pnm.shard_bytes / pim['pim-hbm'].shard_bytes:,.0f}X; Llama 3.1 70B TP8 bf16 on 32 MB banks: "
            f"{', '.join(bad)} cannot map",
            "partly", "shard sizes were set from Table 4 (PNM as one 48 GB stack, above 16-32 GB); the mapping "
            "rule shows which tensors break PIM", (250, 1000), pnm.shard_bytes / pim["pim-hbm"].shard_bytes, "x"),
    ]


def c19_bw_per_watt() -> list[Row]:
    fb = EconomicsParams.default().memory_energy_j_per_bit_fallback
    std = {"pim-hbm": lookup("hbm2e").energy_j_per_bit, "pim-gddr6-aim": lookup("gddr7").energy_j_per_bit or fb["gddr"],
           "pim-lpddr5": lookup("lpddr5").energy_j_per_bit}
    ratios = {k: v / lookup(k).energy_j_per_bit for k, v in std.items()}
    pnm = lookup("hbm4").energy_j_per_bit / lookup("pnm-hbm").energy_j_per_bit
    txt = ", ".join(f"{k} {r:.1f}X" for k, r in ratios.items())
    lo, hi = min(ratios.values()), max(ratios.values())
    return [
        row("S2-19a", "PIM bandwidth per watt is 5X-10X that of standard memory", "5X-10X", "paper.md §2 #19, Table 4 [T-4]",
            f"{txt} (host-memory pJ/bit / PIM pJ/bit: HBM2E, GDDR, LPDDR5)",
            "partly" if hi >= 5 or lo >= 4 else "no", "the catalog's PIM energies (vendor savings of 60-70%) give "
            "3-5X, the low end of the paper's range", (5, 10), float(np.median(list(ratios.values()))), "x"),
        row("S2-19b", "PNM bandwidth per watt is 2X-5X that of standard memory", "2X-5X", "paper.md §2 #19, Table 4 [T-4]",
            f"pnm-hbm {pnm:.1f}X (HBM4 {lookup('hbm4').energy_j_per_bit * 1e12:.2f} / {lookup('pnm-hbm').energy_j_per_bit * 1e12:.1f} pJ/bit)",
            "yes" if 2 <= pnm <= 5 else "no", "the PNM energy was estimated from the paper's 2-3X (row S2-20)", (2, 5), pnm, "x"),
    ]


def c20_base_die() -> list[Row]:
    hbm4, pnm = lookup("hbm4"), lookup("pnm-hbm")
    gen2 = lookup("3d-dram-hybrid-bond-gen2")
    s = {"model": "llama-3.1-70b", "hardware": "hgx-h100-8", "n_chips": 8, "parallelism": {"tp": 8},
         "precision": {"weights": "bf16", "kv_cache": "bf16"}, "workload": {"input_tokens": 1024, "output_tokens": 1024, "batch": 1}}
    from llmhw.api import sweep_economics as esweep

    a0 = esweep(s, batch=np.array([1]))
    a1 = esweep({**s, "overrides": {"chip.near_memory": "pnm-hbm"}}, batch=np.array([1]))
    e0, e1 = float(a0["decode_step_energy_j"][0]), float(a1["decode_step_energy_j"][0])
    return [row("S2-20", "Compute on the HBM base die: HBM's bandwidth at 2-3X lower power", "2-3X lower power",
                "paper.md §2 #20 [FT]",
                f"pnm-hbm {hbm4.energy_j_per_bit / pnm.energy_j_per_bit:.1f}X lower pJ/bit than HBM4; custom 3D "
                f"(hybrid-bond gen-2) {hbm4.energy_j_per_bit / gen2.energy_j_per_bit:.1f}X; engine: the dynamic energy "
                f"of a Llama 3.1 70B decode step on 8 x H100 falls {e0 / e1:.1f}X ({e0:.3f} -> {e1:.3f} J per chip)",
                "yes", "the presets' pJ/bit were estimated from this claim, so the per-bit ratio is bookkeeping; the "
                "step energy shows it survives the compute energy PNM adds", (2, 3), hbm4.energy_j_per_bit / pnm.energy_j_per_bit, "x")]


def c22_hbm_table() -> list[Row]:
    paper = {"hbm2e": 461, "hbm3": 819, "hbm3e": 1254, "hbm4": 2048}
    rows = []
    for k, v in paper.items():
        bw = lookup(k).bandwidth_bytes_per_s / 1e9
        ok = abs(bw / v - 1) <= 0.02
        rows.append(row(f"T1-{k}", f"{k.upper()} stack bandwidth (Table 1)", f"{v:,} GB/s", "paper.md Table 1 [T-1]",
                        f"{bw:,.0f} GB/s", "yes" if ok else "partly",
                        "catalog preset" + ("" if ok else f" ({bw / v - 1:+.0%}: vendors' 9.2-9.6 Gb/s parts, not the 9.8 max)"),
                        v, bw, "GB/s"))
    h4 = lookup("hbm4").capacity_bytes
    rows.append(row("T1-hbm4-cap", "HBM4 maximum stack capacity (Table 1)", "64 GiB", "paper.md Table 1 [T-1]",
                    f"{h4 / 1e9:.0f} GB (preset: the 48 GB HBM4-6400 part of Table 3)", "partly",
                    "Table 1 gives the JEDEC maximum, Table 3 and the catalog a shipping part", 64 * 2**30 / 1e9, h4 / 1e9, "GB"))
    stacks = {"a100-sxm-80gb": ("A100", 5, "hbm2e"), "h100-sxm": ("H100", 5, "hbm3"), "b200": ("B100/B200", 8, "hbm3e")}
    parts = []
    agree = True
    for cid, (name, n, tech) in stacks.items():
        got = math.ceil(lookup(cid).memory[0].capacity_bytes / lookup(tech).capacity_bytes - 1e-9)
        parts.append(f"{name} {got} (paper {n})")
        agree &= got == n
    rows.append(row("T1-stacks", "HBM stacks per NVIDIA GPU (Table 1): A100 5, H100 5, B100 8", "5, 5, 8",
                    "paper.md Table 1 [T-1]", "; ".join(parts) + " = capacity / preset stack capacity",
                    "yes" if agree else "partly", "derived from catalog capacities; B200 sells 180 of 192 GB", None, None))
    return rows


def c24_trends() -> list[Row]:
    ds = llmhw.load_model("deepseek-v3")
    l70 = llmhw.load_model("llama-3.1-70b")
    kv128 = l70.kv_cache_bytes_per_token("bf16") * 131072
    return [
        row("S2-24a", "MoE, reasoning, long context and RAG raise memory capacity and bandwidth demands",
            "qualitative (Table 2)", "paper.md §2 #24, Table 2 [FT]",
            f"DeepSeek-V3 FP8 holds {ds.weight_bytes('fp8') / 1e9:.0f} GB of weights for {ds.active_params / 1e9:.0f} B "
            f"active parameters ({ds.total_params / ds.active_params:.0f}X a dense model of equal compute); a 128K context "
            f"of Llama 3.1 70B is {kv128 / 1e9:.1f} GB of bf16 KV cache per request, "
            f"{kv128 / l70.weight_bytes('bf16'):.0%} of its bf16 weights",
            "yes", "capacity per FLOP grows by an order of magnitude (the trends study has every trend)", None, None),
        not_computable("S2-24b", "Diffusion is the one trend that only increases compute demand", "qualitative",
                       "paper.md §2 #24 [FT]", "no diffusion language model in the catalog (see the trends study's "
                       "block-decoding approximation)"),
    ]


def other_not_computable() -> list[Row]:
    return [
        not_computable("S2-1", "Industry share of computer-architecture papers: ~40% in 1976, <4% at ISCA 2025",
                       "40% -> <4%", "paper.md §2 #1 [FT]", "bibliometrics, outside a hardware model"),
        not_computable("S2-2", "Annual inference-chip sales grow 4X-6X over the next 5-8 years", "4X-6X",
                       "paper.md §2 #2 [FT]", "a market forecast"),
        not_computable("S2-21", "PIM was conceived by the 1990s", "1990s", "paper.md §2 #21 [FT]", "history"),
        not_computable("S2-23", "OpenAI lost about $5B on $3.7B of revenue", "$5B loss, $3.7B revenue",
                       "paper.md §2 #23 [2nd]", "company finances; also not in the full-text copy"),
    ]


# ------------------------------------------------------------------ Table 3 of paper.md
def table3() -> list[Row]:
    def gbs_per_w(tech: str, bw: float | None = None) -> tuple[float, float, float]:
        t = lookup(tech)
        b = bw or t.bandwidth_bytes_per_s
        w = (t.energy_j_per_bit or 0) * b * 8
        return b / 1e9, w, b / 1e9 / w if w else float("nan")

    rows = []
    b, w, r = gbs_per_w("hbm4", 2048 * 6.4e9 / 8)
    rows.append(row("T3-hbm4", "One HBM4-6400 stack: 1638 GB/s at 40 W = 41 GB/s per W", "41 GB/s per W",
                    "paper.md Table 3 [T-3]", f"{b:,.0f} GB/s at {w:.0f} W = {r:.0f} GB/s per W", "yes",
                    "circular: HBM4's pJ/bit was derived from this row", 41, r, "GB/s per W"))
    b, w, r = gbs_per_w("hbf")
    cap = lookup("hbf").capacity_bytes / 1e9
    rows.append(row("T3-hbf", "One HBF stack: >20.5 GB/s per W and >6.4 GB per W", ">20.5 GB/s/W, >6.4 GB/W",
                    "paper.md Table 3 [T-3]", f"{r:.1f} GB/s per W, {cap / w:.1f} GB per W", "yes",
                    "circular: HBF's pJ/bit was derived from the <80 W bound", 20.5, r, "GB/s per W"))
    b, w, r = gbs_per_w("ddr5")
    rows.append(row("T3-ddr5", "One DDR5-6400 64 GB module: 51 GB/s at 12 W = 4 GB/s per W", "4 GB/s per W",
                    "paper.md Table 3 [T-3]",
                    f"{b:.1f} GB/s at {w:.1f} W = {r:.1f} GB/s per W ({lookup('ddr5').energy_j_per_bit * 1e12:.0f} pJ/bit)",
                    "no", "the catalog prices DRAM access energy (ReaLLM's 10 pJ/bit); the paper's 12 W is whole-module "
                    "power (29 pJ/bit), refresh and I/O included", 4, r, "GB/s per W"))
    b, w, r = gbs_per_w("lpddr5")
    rows.append(row("T3-lpddr5", "One LPDDR5-6400 16 GB module: 51 GB/s at 3 W = 17 GB/s per W", "17 GB/s per W",
                    "paper.md Table 3 [T-3, single-source]", f"{b:.1f} GB/s at {w:.1f} W = {r:.0f} GB/s per W", "yes",
                    "circular: LPDDR5's 7.3 pJ/bit was derived from this row", 17, r, "GB/s per W"))
    ssd = lookup("nand-ssd-gen5")
    b, w, r = gbs_per_w("nand-ssd-gen5")
    rows.append(row("T3-flash", "One flash card: 4096 GB, 4 GB/s read, 50 W, 10,000s of ns", "4 GB/s, 0.1 GB/s per W",
                    "paper.md Table 3 [T-3]",
                    f"a PCIe Gen5 SSD: {ssd.capacity_bytes / 1e12:.1f} TB, {b:.0f} GB/s, {w:.0f} W "
                    f"({r:.2f} GB/s per W), {ssd.latency_s * 1e6:.0f} us",
                    "partly", "a newer, faster drive than the paper's card: same latency class, 3.5X its bandwidth",
                    4, b, "GB/s"))
    rows.append(row("T3-latency", "DRAM read latency 10-100 ns (HBM4, DDR5, LPDDR5)", "10-100 ns", "paper.md Table 3 [T-3]",
                    f"{lookup('hbm4').latency_s * 1e9:.0f} ns for every DRAM preset", "yes", "the top of the range",
                    (10, 100), lookup("hbm4").latency_s * 1e9, "ns"))
    return rows


# ------------------------------------------------------------------ section 5 tests
def q1_decode_bound() -> tuple[list[Row], dict[str, Any]]:
    s = {"model": "llama-3.1-70b", "hardware": "hgx-h100-8", "n_chips": 8, "parallelism": {"tp": 8},
         "precision": {"weights": "fp8", "kv_cache": "fp8"}, "workload": {"input_tokens": 1024, "output_tokens": 1024, "batch": 1}}
    batch = np.unique(np.round(np.logspace(0, 11, 45, base=2)).astype(int))
    m = api.evaluate(s, batch=batch)
    keep = np.asarray(m.fits, bool)
    batch = batch[keep]
    acc, tm = m.decode.accounting, m.decode.time
    ai = (acc.total_flops / acc.memory_bytes)[keep]
    chip = lookup("h100-sxm")
    ridge = chip.peak_flops["fp8"] / chip.memory[0].bandwidth_bytes_per_s
    cross = batch[np.argmax(ai >= ridge)] if (ai >= ridge).any() else None
    comp = (tm.compute_s > tm.memory_s)[keep]
    eng_cross = batch[np.argmax(comp)] if comp.any() else None
    d = _pred(s)
    pre = d["breakdown"]["prefill"]["bound"]
    dec = d["breakdown"]["decode"]["bound"]
    where = (f"crossing it at batch {cross}" if cross is not None else
             f"and never reaching it: up to the largest batch that fits ({batch[-1]}) it saturates at "
             f"{ai.max():.0f} FLOP/B as KV-cache reads grow with the batch")
    rows = [row("Q1", "Decode is memory-bound, prefill compute-bound; batching makes decode less memory-bound",
                "qualitative", "paper.md §4.2 [FT], Q1",
                f"Llama 3.1 70B FP8 on 8 x H100 at batch 1: decode {dec}-bound, prefill {pre}-bound; a decode step does "
                f"{ai[0]:.1f} FLOP per byte at batch 1 against a ridge of {ridge:.0f} (FP8 peak / HBM bandwidth), "
                f"{where}; with fitted (not peak) efficiencies compute overtakes memory at batch "
                f"{eng_cross if eng_cross is not None else '> ' + str(batch[-1])}",
                "yes" if dec == "memory" and pre == "compute" else "partly",
                "the roofline ridge sits far above any interactive batch", None, ai[0], "FLOP/B")]
    return rows, {"batch": batch, "ai": ai, "ridges": _ridges(), "eng_cross": eng_cross}


def _ridges() -> dict[str, float]:
    out = {}
    for cid in ("h100-sxm", "h200", "b200", "mi300x", "mi355x"):
        c = lookup(cid)
        out[cid] = c.peak_flops["fp8"] / c.memory[0].bandwidth_bytes_per_s
    return out


def q4_system_size() -> list[Row]:
    h200 = lookup("h200").memory[0]
    tier = {"tech": h200.id, "capacity_bytes": h200.capacity_bytes, "bandwidth_bytes_per_s": h200.bandwidth_bytes_per_s}

    def min_chips(over: dict[str, Any] | None, placement: dict[str, str] | None) -> int | None:
        for n in (1, 2, 4, 8, 16, 32):
            s = {"model": "deepseek-v3", "hardware": "hgx-h200-8" if n <= 8 else "h200", "n_chips": n,
                 "parallelism": {"tp": n} if n <= 8 else {"tp": 8, "pp": n // 8},
                 "precision": {"weights": "fp8", "kv_cache": "fp8"},
                 "workload": {"input_tokens": 4096, "output_tokens": 1024, "batch": 16}}
            if over:
                s["overrides"] = over
            if placement:
                s["placement"] = placement
            try:
                if llmhw.fit(s).fits:
                    return n
            except llmhw.LlmhwError:
                continue
        return None

    n0 = min_chips(None, None)
    n1 = min_chips({"chip.memory": [tier, "hbf"]}, {"weights": "hbf", "kv_cache": h200.id})
    return [row("Q4", "HBF's capacity makes the inference system smaller", "10X capacity per node",
                "paper.md §4.3 [FT], Q4",
                f"DeepSeek-V3 FP8 (16 requests of 5K tokens): {n0} H200s with HBM only, {n1} with one HBF stack each "
                "(weights in HBF, KV in HBM)",
                "yes" if n0 and n1 and n1 < n0 else "partly", "memory capacity sets the minimum system; fewer "
                "chips means fewer hops and smaller collectives", None, None)]


def q6_endurance() -> list[Row]:
    h200 = lookup("h200").memory[0]
    tier = {"tech": h200.id, "capacity_bytes": h200.capacity_bytes, "bandwidth_bytes_per_s": h200.bandwidth_bytes_per_s}
    s = {**_l70("h200", 1, 64), "overrides": {"chip.memory": [tier, "hbf"]},
         "placement": {"weights": h200.id, "kv_cache": "hbf"}}
    t = _pred(s)["memory_tiers"][1]
    days = t["lifetime_days"]
    cycles = lookup("hbf").write_endurance_cycles
    tlc = days * 3000 / cycles
    life = EconomicsParams.default().service_life_years
    return [row("Q6", "HBF's limited write endurance makes it infeasible for the KV cache, written every token",
                "infeasible for KV", "paper.md §4.3 [FT], Q6",
                f"Llama 3.1 70B FP8 on one H200 + HBF, KV cache in HBF, batch 64: {t['write_bytes_per_s'] / 1e9:.2f} GB/s "
                f"of KV writes wear the 512 GB stack out in {days:,.0f} days at {cycles:,.0f} P/E cycles (SLC, a "
                f"secondary figure), {tlc:.0f} days at 3,000 (TLC)",
                "yes" if days < life * DAYS_PER_YEAR else "partly",
                f"under a {life:.0f}-year service life even with SLC endurance; with TLC-class endurance in weeks", None, days, "days")]


def q8_thermal() -> list[Row]:
    stack = {"tech": "3d-dram-soic-gen1", "stack_area_m2": 400e-6, "capacity_per_layer_bytes": 12e9}
    s = {"model": "llama-3.1-70b", "hardware": "h100-sxm", "n_chips": 1,
         "precision": {"weights": "fp8", "kv_cache": "fp8"},
         "workload": {"input_tokens": 1024, "output_tokens": 1024, "batch": 1},
         "overrides": {"chip.stacked": stack, "chip.die_area_m2": 814e-6}}
    batch = np.array([1, 2, 4, 8, 16, 32])
    dec = api.evaluate(s, batch=batch).decode.time
    mem = dec.tier_s[0]
    comp = dec.compute_s
    st = lookup("3d-dram-soic-gen1")
    from llmhw.hardware.catalog import stacked_from_dict

    big = stacked_from_dict(stack)
    frac = big.thermal_clock_fraction(lookup("h100-sxm").tdp_w, 814e-6)
    peak = lookup("h100-sxm").peak_flops["fp8"] * frac
    w = llmhw.load_model("llama-3.1-70b").weight_bytes("fp8")
    roof_b = (w / big.bandwidth_bytes_per_s) * peak / (2 * llmhw.load_model("llama-3.1-70b").active_params)
    return [row("Q8", "3D stacking's thermal limit is acceptable: run the logic at a lower clock, decode has "
                "low arithmetic intensity", "qualitative (2-3X lower power)", "paper.md §4.5 [FT], Q8",
                f"H100 under a 400 mm2 gen-1 stack ({big.bandwidth_bytes_per_s / 1e12:.1f} TB/s, {st.id}): thermal "
                f"cap -> {frac:.0%} clock; the roofline keeps decode memory-bound up to batch {roof_b:.0f}, but with "
                f"the fitted GEMV efficiency the engine's decode step is compute-bound from batch 1 "
                f"({comp[0] * 1e3:.1f} ms compute vs {mem[0] * 1e3:.1f} ms stack reads)",
                "partly", "true on peak FLOP/s; at batch 1 GEMV kernels use a few percent of peak, so halving the "
                "clock costs more than the stack's bandwidth saves", None, roof_b, "batch")]


def q9_latency() -> list[Row]:
    s = lookup("hgx-h100-8")
    fp = api.family_params("nvidia-gpu")
    sizes = np.array([8192 * 2, 64 * 8192 * 2])
    c = api.collective_cost("all_reduce", sizes, 8, s.scale_up_network, s.scale_out_network, fp)
    share = c.latency_s / (c.latency_s + c.bandwidth_s)
    return [row("Q9", "Latency trumps bandwidth for frequent, small messages in a big network", "qualitative",
                "paper.md §4.2, §4.6 [FT], Q9",
                f"a TP-8 all-reduce on 8 x H100 (NVLink 4 + NVSwitch): 16 KB (batch 1) {share[0]:.0%} latency "
                f"({c.algorithm[0]}, {(c.latency_s[0] + c.bandwidth_s[0]) * 1e6:.1f} us), 1 MiB (batch 64) "
                f"{share[1]:.0%} latency ({c.algorithm[1]})",
                "yes" if share[0] > 0.5 else "no", "decode messages are batch x hidden x 2 bytes: kilobytes that "
                "the link moves in nanoseconds behind microseconds of latency", None, share[0] * 100, "% latency")]


def q13_metrics() -> list[Row]:
    names = {"hgx-h100-8": "H100", "hgx-h200-8": "H200", "dgx-b200-8": "B200", "mi300x-8": "MI300X"}
    cost, flops = {}, {}
    for hw, n in names.items():
        d = _pred(_l70(hw, 8, 64))
        cost[n] = d["cost_usd_per_mtok"]
        flops[n] = lookup(hw).chip.peak_flops["fp8"]
    by_f = sorted(names.values(), key=lambda n: -flops[n])
    by_c = sorted(names.values(), key=lambda n: cost[n])
    return [row("Q13", "Peak FLOP/s is not the metric: rank by performance/TCO, /power, /CO2e", "qualitative",
                "paper.md §4.1 [FT], Q13",
                f"Llama 3.1 70B FP8, TP 8, batch 64: by peak FP8 FLOP/s {' > '.join(by_f)}; by USD/Mtok "
                f"{' < '.join(by_c)} ({', '.join(f'{n} {cost[n]:.2f}' for n in by_c)} USD/Mtok)",
                "yes" if by_f != by_c else "partly", "the ranking changes (the economics study draws the fronts)",
                None, None)]


def q14_mobile() -> list[Row]:
    lp = lookup("lpddr5")
    s = {"model": "llama-3.1-8b", "hardware": "apple-a17-pro", "n_chips": 1, "engine": "llama.cpp",
         "precision": {"weights": "int4", "kv_cache": "fp16", "activations": "fp16"},
         "workload": {"input_tokens": 1024, "output_tokens": 256, "batch": 1}}
    d = _pred(s)
    w = llmhw.load_model("llama-3.1-8b").active_params * 4.25 / 8
    return [row("Q14", "Phones: HBM is infeasible; LPDDR5 gives 51 GB/s at ~3 W per 16 GB module", "51 GB/s, 3 W",
                "paper.md §4.7 [FT], Table 3, Q14",
                f"on 51.2 GB/s (A17 Pro) Llama 3.1 8B INT4 decodes at {d['tok_s_per_user']:.1f} tok/s (bound "
                f"{lp.bandwidth_bytes_per_s / w:.1f}); 10 tok/s needs under {lp.bandwidth_bytes_per_s / 10 / 1e9:.1f} GB "
                "read per token (the mobile study has every phone)",
                "yes", "a phone's decode is LPDDR-bandwidth-bound", 51, lp.bandwidth_bytes_per_s / 1e9, "GB/s")]


# ------------------------------------------------------------------ figures
# label offsets (points) for crowded markers of the scatter; the rest go right of their marker
_LABEL_AT = {"Q14": (-5, 3), "S2-4a": (5, 3), "T3-flash": (-5, 3), "T3-hbm4": (-5, -8), "T3-hbf": (-5, 1),
             "T3-lpddr5": (-5, 2), "S2-4b": (5, -6), "S2-4c": (-5, -2), "S2-19a": (5, -5), "S2-20": (-5, -2),
             "S2-18": (-5, 3), "T1-hbm4": (-5, 1), "S2-15": (5, 3), "T3-ddr5": (-5, -8), "T1-hbm4-cap": (5, -3), "S2-14": (5, -4)}


def _fig_scatter(rows: list[Row]) -> MplFigure:
    pts = [r for r in rows if off_by(r) is not None and r["agree"] != "not computable"]
    fig = MplFigure(figsize=(7.2, 6.2), layout="constrained")
    ax = fig.subplots()
    cols = {"yes": "#2ca02c", "partly": "#ff7f0e", "no": "#d62728"}
    lo = min(min(r["paper_low"], r["llmhw_value"]) for r in pts) / 2
    hi = max(max(r["paper_high"], r["llmhw_value"]) for r in pts) * 2
    x = np.array([lo, hi])
    ax.plot(x, x, color="0.3", lw=1, label="llmhw = paper")
    ax.fill_between(x, x / 1.25, x * 1.25, color="0.85", label="within 25%")
    def xpos(r: Row) -> float:       # the paper's number, or the point of its range nearest llmhw's
        return min(max(r["llmhw_value"], r["paper_low"]), r["paper_high"])

    for a in ("yes", "partly", "no"):
        p = [r for r in pts if r["agree"] == a]
        ax.scatter([xpos(r) for r in p], [r["llmhw_value"] for r in p], color=cols[a], s=30, zorder=3,
                   label=f"{a} ({len(p)})")
        for r in p:
            if r["paper_high"] > r["paper_low"]:
                ax.plot([r["paper_low"], r["paper_high"]], [r["llmhw_value"]] * 2, color=cols[a], lw=2, alpha=0.5)
    ax.plot([], [], color="0.5", lw=2, label="the paper's range")
    for r in pts:
        dx, dy = _LABEL_AT.get(r["id"], (5, -3))
        ax.annotate(f"{r['id']} ({r['unit']})", (xpos(r), r["llmhw_value"]), fontsize=6.5, xytext=(dx, dy),
                    textcoords="offset points", ha="left" if dx > 0 else "right")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.xaxis.set_major_formatter(_PLAIN)
    ax.yaxis.set_major_formatter(_PLAIN)
    ax.set_xlabel("the paper's figure (unit in each label; bars: its range, dot at its nearest point)")
    ax.set_ylabel("llmhw's figure (same unit)")
    ax.set_title("Paper vs llmhw: every claim with a number on each side", fontsize=10)
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(True, which="both", alpha=0.25)
    return fig


def _fig_counts(rows: list[Row]) -> MplFigure:
    groups = {"paper.md §2 (claims)": lambda r: r["id"].startswith("S2"),
              "Tables 1 and 3 (specs)": lambda r: r["id"].startswith("T"),
              "Section 5 tests (Q1-Q15)": lambda r: r["id"].startswith("Q")}
    cols = {"yes": "#2ca02c", "partly": "#ff7f0e", "no": "#d62728", "not computable": "#bbbbbb"}
    fig = MplFigure(figsize=(8, 3.2), layout="constrained")
    ax = fig.subplots()
    names = list(groups)
    left = np.zeros(len(names))
    for a in AGREE:
        v = np.array([sum(1 for r in rows if groups[g](r) and r["agree"] == a) for g in names])
        ax.barh(names, v, left=left, color=cols[a], label=a)
        for i, (lf, n) in enumerate(zip(left, v, strict=True)):
            if n:
                ax.text(lf + n / 2, i, str(n), ha="center", va="center", fontsize=8)
        left += v
    ax.invert_yaxis()
    ax.set_xlabel("number of claims")
    fig.legend(*ax.get_legend_handles_labels(), fontsize=8, ncol=4, loc="outside upper center")
    return fig


def _fig_roofline(q1: dict[str, Any]) -> MplFigure:
    fig = MplFigure(figsize=(7.5, 4.6), layout="constrained")
    ax = fig.subplots()
    ax.plot(q1["batch"], q1["ai"], "o-", ms=3, color="k", zorder=3,
            label="decode step, Llama 3.1 70B FP8, 8 x H100, TP 8 (1K in / 1K out)")
    names = {"h100-sxm": "H100 (HBM3)", "h200": "H200 (HBM3E)", "b200": "B200 (HBM3E)", "mi300x": "MI300X (HBM3)",
             "mi355x": "MI355X (HBM3E)"}
    colors = ["#1f77b4", "#2ca02c", "#d62728", "#ff7f0e", "#9467bd"]
    for (cid, r), c in zip(q1["ridges"].items(), colors, strict=True):
        ax.axhline(r, color=c, ls="--", lw=1, label=f"ridge {names[cid]}: {r:.0f} FLOP/B (FP8 peak / bandwidth)")
    if q1.get("eng_cross") is not None:
        ax.axvline(q1["eng_cross"], color="0.5", ls=":", lw=1)
        ax.text(q1["eng_cross"] / 1.08, 240, f"batch {q1['eng_cross']}: compute time overtakes memory time\n"
                "with fitted GEMM efficiencies", fontsize=7, color="0.3", ha="right")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.xaxis.set_major_formatter(_PLAIN)
    ax.yaxis.set_major_formatter(_PLAIN)
    ax.set_ylim(1, 2000)
    ax.set_xlabel("batch (requests decoded together; up to the largest that fits)")
    ax.set_ylabel("arithmetic intensity (FP8 FLOP per HBM byte)")
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title("Q1: decode arithmetic intensity vs the roofline ridge", fontsize=10)
    return fig


# ------------------------------------------------------------------ the study
CHECKS: tuple[Callable[[], list[Row]], ...] = (
    c03_experts, c04_memory_wall, c05_hbm_cost, c09_density, c10_sram, c11_latency, c12_hbf, c15_hbf_latency,
    c17_flash, c18_shards, c19_bw_per_watt, c20_base_die, c22_hbm_table, c24_trends, other_not_computable, table3,
    q4_system_size, q6_endurance, q8_thermal, q9_latency, q13_metrics, q14_mobile,
)


def claim_rows() -> tuple[list[Row], dict[str, Any]]:
    rows: list[Row] = []
    for f in CHECKS:
        try:
            rows.extend(f())
        except Exception as e:  # a failing check becomes its own row, never a failed study
            rows.append(not_computable(f.__name__, f.__doc__ or f.__name__, "-", "-", f"error: {e}"))
    q1_rows, q1 = q1_decode_bound()
    rows.extend(q1_rows)
    order = {"S": 0, "T": 1, "Q": 2}

    def key(r: Row) -> tuple[int, float, str]:
        head = r["id"].split("-")[0] if r["id"][0] != "Q" else r["id"]
        num = "".join(ch for ch in (r["id"].split("-")[1] if r["id"].startswith("S2-") else head[1:]) if ch.isdigit())
        return order.get(r["id"][0], 3), float(num or 0), r["id"]

    rows.sort(key=key)
    return rows, q1



def run() -> Study:
    style.apply()
    rows, q1 = claim_rows()
    counts = {a: sum(1 for r in rows if r["agree"] == a) for a in AGREE}
    n = len(rows)
    findings = [
        f"{n} claims: {counts['yes']} agree, {counts['partly']} partly, {counts['no']} disagree, "
        f"{counts['not computable']} not computable by llmhw.",
    ]
    for r in rows:
        if r["agree"] in ("partly", "no"):
            findings.append(f"{r['id']} ({r['agree']}): {r['claim']}. Paper {r['paper_figure']}; llmhw "
                            f"{r['llmhw_figure']}. {r['why'][0].upper()}{r['why'][1:]}.")
    circular = [r["id"] for r in rows if "circular" in r["why"] or "bookkeeping" in r["why"]]
    findings.append(f"Agreement by construction (catalog numbers taken from the paper): {', '.join(circular)}.")
    nc = [r["id"] for r in rows if r["agree"] == "not computable"]
    findings.append(f"Not computable (history, markets, prices over time, diffusion models): {', '.join(nc)}.")
    pts = [r for r in rows if off_by(r) is not None and r["agree"] != "not computable"]
    within = sum(1 for r in pts if abs(off_by(r)) <= 0.25)
    misses = [r["id"] for r in pts if abs(off_by(r)) > 0.25]
    table_rows = [{k: v for k, v in r.items()} for r in rows]
    return Study(
        name="claims", title="The paper's quantitative claims, recomputed",
        question="Which numbers in Ma and Patterson (2026) does llmhw reproduce from its catalogs and engine, and "
                 "where and why does it differ?",
        tables=[Table("claims", "Every numeric claim of the paper (paper.md §2, Tables 1/3/4, section 5 tests)",
                      table_rows,
                      note="agree: yes (within ~10% or inside the paper's range, or a qualitative claim reproduced "
                           "with numbers), partly (same direction or order, different figure), no, not computable. "
                           "paper_low / paper_high / llmhw_value: the number (or range) compared, in 'unit'.")],
        figures=[
            Figure("claims_agreement",
                   f"Of {n} claims, llmhw recomputes {n - counts['not computable']}: {counts['yes']} agree, "
                   f"{counts['partly']} partly and {counts['no']} disagree; the rest are history, markets or prices "
                   "over time.", _fig_counts(rows)),
            Figure("claims_scatter",
                   f"{within} of the {len(pts)} claims with a number on each side land within 25% of the "
                   f"paper's number or range; the misses ({', '.join(misses)}) are explained row by row in the "
                   "table (unnamed endpoints, module vs access power, maximum vs shipping parts).",
                   _fig_scatter(rows)),
            Figure("claims_decode_roofline",
                   f"Decode is memory-bound (Q1): a Llama 3.1 70B FP8 decode step does {q1['ai'][0]:.0f} FLOP per "
                   f"byte at batch 1 and saturates near {q1['ai'].max():.0f} as KV reads grow with the batch, below "
                   f"the {min(q1['ridges'].values()):.0f}-{max(q1['ridges'].values()):.0f} FLOP/B ridges of today's GPUs.",
                   _fig_roofline(q1)),
        ],
        findings=findings)
