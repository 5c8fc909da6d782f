"""RQ2: High Bandwidth Flash for the weights, HBM for the KV cache.

Ma & Patterson (2026, section 4.3) propose HBF (flash dies stacked like HBM: 512 GB and 1.638 TB/s
read per stack, microsecond reads of 4 KB pages, limited write endurance) to give a node 10x the
memory capacity, so that a giant MoE fits on fewer chips. This study trades a package's DRAM stacks
for HBF stacks on the same memory sites (iso-shoreline) and gives both kinds of stack the site's
interface bandwidth (iso-bandwidth), in two packages:

- the B200 as shipped, 8 HBM3E sites at 1.0 TB/s each (its 8 TB/s over 8): ``8 HBM3E`` (180 GB,
  8 TB/s); ``6 HBM3E + 2 HBF`` (135 GB and 6 TB/s of HBM, 1 TB and 2 TB/s of HBF); ``4 HBM3E + 4
  HBF`` (90 GB and 4 TB/s, 2 TB and 4 TB/s). An HBF stack on an HBM3E site reads at the site's
  1.0 TB/s, not at the 1.638 TB/s of its HBM4-class interface.
- a hypothetical B200-class package with HBM4-6400 sites (48 GB at 1.638 TB/s, the paper's Table 3
  comparison point, whose bandwidth the paper gives HBF): ``8 HBM4`` (384 GB, 13.1 TB/s) and ``4
  HBM4 + 4 HBF`` (192 GB and 6.55 TB/s of HBM, 2 TB and 6.55 TB/s of HBF).

Weights go to HBF, the KV cache and activations to HBM (``placement``); HBF weights are read ahead
(docs/memory_tiers.md: only the routed experts wait for the flash's latency). The model is a
1T-parameter-class MoE built from a config (the catalog has none): Kimi-K2's published shape
(61 layers, hidden 7168, 384 routed experts of width 2048, 8 active, 1 shared, MLA with a 512-wide
latent, 64 heads, vocabulary 163,840), 1.03 T parameters in total, 32 B active, served as
DeepSeek and Kimi are: attention data parallel, experts spread over all chips (tp 1, dp = ep = n).

Power: energy per token counts each bit read at its memory's access energy plus each stack's
static power (one definition for every memory, docs/economics.md: HBF 5.49 pJ/bit + 8 W, an upper
bound from Table 3's "under 80 W"; HBM3E 3.9 pJ/bit + 9.4 W; HBM4 2.44 + 8 W). The
package's power envelope is not held equal: llmhw's economics adds a swapped-in tier's
full-bandwidth read power to the B200's 1000 W TDP, which still includes the HBM3E stacks it
replaced (the ``hbf-sites`` table gives each design's memory power at full bandwidth).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.figure import Figure as MplFigure
from matplotlib.ticker import NullLocator

import llmhw
from llmhw import api
from llmhw.core.units import DAYS_PER_YEAR, SECONDS_PER_DAY
from llmhw.hardware.catalog import memory_presets
from llmhw.scenario.economics import EconomicsParams
from llmhw.studies import style
from llmhw.studies.base import Figure, Study, Table
from llmhw.studies.scenarios import (
    HARDWARE,
    ISL,
    OSL,
    SITES,
    chips_needed,
    design_label,
    design_short,
    max_batch,
    moe_1t,
    scenario,
    site,
    usable_weight_capacity,
)
from llmhw.workload.model import ModelSpec

BATCHES = np.array([1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024])
SERVE_REQUESTS = 256              # "weights + KV of a serving load": this many requests in flight
TPOT_SLO_S = 0.050                # one SLO for every design: 20 tok/s per user, an interactive reader's pace (moe-1t, 8k context)
LATENCIES_S = np.array([1e-6, 2e-6, 5e-6, 10e-6, 25e-6, 50e-6])
PAGES_B = np.array([4096, 8192, 16384, 32768, 65536])
PE_CYCLES = np.array([1e3, 3e3, 1e4, 3e4, 1e5, 3e5])
DESIGNS = (0, 2, 4)               # HBF stacks out of the B200's 8 HBM3E sites
HBM4_DESIGNS = (0, 4)             # HBF stacks out of the 8 sites of the HBM4-class package
SITE_DESIGNS = {"hbm3e": DESIGNS, "hbm4": HBM4_DESIGNS}
SITE_NAMES = {"hbm3e": "HBM3E site, 1.0 TB/s", "hbm4": "HBM4-6400 site, 1.64 TB/s"}
PAGE_BATCH = 32
PACKAGES = {"hbm3e": "the B200 (HBM3E sites, 1.0 TB/s)", "hbm4": "the HBM4-class package (sites at 1.64 TB/s)"}


def service_life_years() -> float:
    """The service life llmhw assumes for an accelerator and its memory (scenario/economics.yaml)."""
    return EconomicsParams.default().service_life_years


def _sweep(s: llmhw.Scenario, batch: Any) -> dict[str, np.ndarray]:
    with np.errstate(all="ignore"):
        return api.sweep_economics(s, batch=batch)


def _metrics(s: llmhw.Scenario, batch: Any) -> api.Metrics:
    with np.errstate(all="ignore"):
        return api.evaluate(s, batch=batch)



# -- the study -------------------------------------------------------------------------------


Key = tuple[str, int, int]        # (memory site, HBF stacks of the 8 sites, chips)


def _chips_table() -> tuple[Table, dict[tuple[str, str, int, str], tuple[int, int]]]:
    models = [(moe_1t(), "fp8"), (moe_1t(), "bf16"), (llmhw.load_model("llama-3.1-405b"), "fp8"),
              (llmhw.load_model("llama-3.1-405b"), "bf16")]
    rows, out = [], {}
    for m, w in models:
        wb = m.weight_bytes(w)
        for kind, designs in SITE_DESIGNS.items():
            for k in designs:
                n1, mb1 = chips_needed(k, m, w, 1, kind)
                n2, mb2 = chips_needed(k, m, w, SERVE_REQUESTS, kind)
                out[(m.id, w, k, kind)] = (n1, n2)
                cap = usable_weight_capacity(k, kind)
                rows.append({"model": m.id, "weights_precision": w, "weights_gb": round(wb / 1e9),
                             "memory_site": SITE_NAMES[kind], "design": design_short(k, kind),
                             "weight_capacity_per_chip_gb": round(cap / 1e9),
                             "lower_bound_chips": math.ceil(wb / cap),
                             "chips_weights": n1, "max_batch_at_that_size": mb1,
                             f"chips_weights_plus_{SERVE_REQUESTS}_requests": n2})
    note = (f"Chips = the smallest power of two whose memory holds the weights (plus one request, or "
            f"{SERVE_REQUESTS} requests of {ISL}+{OSL} tokens, KV cache in FP8) with 10% kept free (vLLM's 0.9); "
            "the MoE runs attention data parallel with experts spread over all chips (its attention and dense "
            "layers are replicated on every chip), Llama 405B TP within 8 chips then PP. lower_bound_chips = "
            "ceil(weights / weight capacity per chip). Weights go to HBF, KV cache to HBM. Capacity does not "
            "depend on the sites' bandwidth; the HBM4 package's 48 GB stacks hold 2.1x the B200's 22.5 GB.")
    return Table("hbf-chips", "Chips needed for a 1T-parameter MoE and Llama 3.1 405B, with and without HBF",
                 rows, note), out


def memory_power_w(kind: str, n_hbf: int) -> tuple[float, float]:
    """(DRAM, HBF) power at full bandwidth of a package's memories, W: per stack its static power
    plus site bandwidth x bits x access energy per bit (one energy definition, docs/economics.md;
    the catalog's, HBF's an upper bound)."""
    dram, _, bw = site(kind)
    presets = memory_presets()

    def stack_w(tech: str) -> float:
        t = presets[tech]
        return (t.static_power_w or 0.0) + bw * 8 * t.energy_j_per_bit
    return (SITES - n_hbf) * stack_w(dram), n_hbf * stack_w("hbf")


def _sites_table() -> Table:
    """The designs: capacity, bandwidth per site and per tier, and memory power, per package."""
    hbf = memory_presets()["hbf"]
    rows = []
    for kind, designs in SITE_DESIGNS.items():
        dram, cap, bw = site(kind)
        for k in designs:
            p_dram, p_hbf = memory_power_w(kind, k)
            rows.append({"memory_site": SITE_NAMES[kind], "design": design_short(k, kind),
                         "site_bandwidth_tb_s": round(bw / 1e12, 3),
                         "dram_gb": round(cap * (SITES - k) / 1e9), "dram_tb_s": round(bw * (SITES - k) / 1e12, 2),
                         "hbf_tb": round(hbf.capacity_bytes * k / 1e12, 2), "hbf_tb_s": round(bw * k / 1e12, 2),
                         "hbf_bytes_in_flight_mb": round(hbf.max_bytes_in_flight * k / 1e6),
                         "memory_power_full_bw_w": round(p_dram + p_hbf)})
    note = ("Iso-shoreline and iso-bandwidth: every stack, DRAM or HBF, reads at its site's interface bandwidth. "
            "An HBF stack on a B200 HBM3E site (1.0 TB/s: 8 TB/s over 8 stacks) is held to that, not to the "
            "1.638 TB/s the paper quotes for it next to HBM4-6400. HBF write bandwidth scales with the read (1/4). "
            "Memory power at full bandwidth = stacks x (static W + site bandwidth x 8 x access pJ/bit): HBM3E "
            "9.4 W + 3.9, HBM4 8 W + 2.44, HBF 8 W + 5.49 (Table 3's under-80 W, an upper bound); the power "
            "envelope is not held equal (see the "
            "findings). Bytes in flight: 40 MB per HBF stack (estimated), read ahead at min(site bandwidth, "
            "40 MB / latency).")
    return Table("hbf-sites", "The designs: memory sites, capacity, bandwidth and power per package", rows, note)


def _curves(designs: list[Key]) -> dict[Key, dict[str, np.ndarray]]:
    """Metrics vs batch per (memory site, HBF stacks, chips): powers of two up to the largest batch,
    and that batch."""
    out = {}
    for kind, k, n in designs:
        s = scenario(k, n, kind=kind)
        mb = max_batch(k, n, s.model, "fp8", kind)
        b = np.unique(np.append(BATCHES[BATCHES < mb], mb))
        out[(kind, k, n)] = {**_sweep(s, b), "batches": b}
    return out


def _operating_points(curves: dict[Key, dict[str, np.ndarray]]) -> Table:
    rows = []
    for (kind, k, n), a in curves.items():
        fits = a["fits"].astype(bool)
        pts = {"batch 1": 0}
        ok = np.where(fits & (a["tpot_s"] <= TPOT_SLO_S))[0]
        if ok.size:
            pts[f"best with TPOT <= {TPOT_SLO_S * 1e3:.0f} ms"] = int(ok[np.argmax(a["output_tok_s_per_chip"][ok])])
        allf = np.where(fits)[0]
        pts["max throughput"] = int(allf[np.argmax(a["output_tok_s_per_chip"][allf])])
        for what, i in pts.items():
            rows.append({"memory_site": SITE_NAMES[kind], "design": design_short(k, kind), "chips": n,
                         "operating_point": what, "batch": int(a["batches"][i]),
                         "tpot_ms": round(float(a["tpot_s"][i]) * 1e3, 1),
                         "ttft_s": round(float(a["ttft_s"][i]), 2),
                         "output_tok_s_per_chip": round(float(a["output_tok_s_per_chip"][i])),
                         "energy_j_per_token": round(float(a["energy_j_per_token"][i]), 2),
                         "cost_usd_per_mtok": round(float(a["cost_usd_per_mtok"][i]), 2),
                         "tokens_per_s_per_mw": round(float(a["tokens_per_mw"][i]))})
    note = ("moe-1t, FP8 weights and KV, 8192 in / 1024 out, default engine. Each design is compared with the "
            "DRAM-only design of its own package: HBF at the B200 HBM3E site's 1.0 TB/s against 8 HBM3E, HBF at "
            "HBM4-class 1.64 TB/s against 8 HBM4. J/token and $/Mtok from llmhw.economics (docs/economics.md): "
            "the whole system (chips + host), HBF priced at 0.75 USD/GB, and a swapped-in tier's full-bandwidth "
            "read power added to the chip's power cap.")
    return Table("hbf-operating-points", "TPOT, throughput, energy and cost per token at three operating points",
                 rows, note)


def mapping_text(par: dict[str, Any]) -> str:
    """A mapping as 'tp4 ep2 dp2' (factors of 1 left out; 'tp1' when every factor is 1)."""
    text = " ".join(f"{k}{v}" for k, v in par.items() if isinstance(v, int) and v > 1) or "tp1"
    # moe_dp replicated: every replica holds all experts (not attention data parallel).
    return text + (" replicas" if par.get("moe_dp") == "replicated" else "")


def search_design(kind: str, k: int, n: int, objective: str = "output_tok_s_per_chip") -> Any:
    """llmhw.search over every mapping of the design's ``n`` chips and every batch up to its memory
    limit, under TPOT <= TPOT_SLO_S: the design at its best, not at the study's fixed mapping."""
    with np.errstate(all="ignore"):
        return api.search(scenario(k, n, kind=kind), [f"tpot_s<={TPOT_SLO_S}"], objective)


def _baseline(kind: str, keys: list[Key]) -> Key:
    """The DRAM-only design of a package (the first of its keys with no HBF stack)."""
    return next(key for key in keys if key[0] == kind and key[1] == 0)


def _best_table(keys: list[Key]) -> tuple[Table, dict[Key, dict[str, Any]]]:
    """Each design at its own best mapping and batch under the same TPOT SLO, against the DRAM-only
    design of its package."""
    best: dict[Key, dict[str, Any]] = {}
    for key in keys:
        b = search_design(*key).best
        c = search_design(*key, objective="cost_usd_per_mtok").best
        best[key] = {"best": b, "cheapest": c}
    rows = []
    for key in keys:
        kind, k, n = key
        b, c = best[key]["best"], best[key]["cheapest"]
        base = best[_baseline(kind, keys)]["best"]
        row: dict[str, Any] = {"memory_site": SITE_NAMES[kind], "design": design_short(k, kind), "chips": n}
        if b is None:
            row.update({"best_mapping": None, "batch": None, "tpot_ms": None, "ttft_s": None,
                        "output_tok_s_per_chip": None, "ratio_vs_dram_only": None,
                        "cost_usd_per_mtok": None, "min_cost_usd_per_mtok": None})
        else:
            row.update({"best_mapping": mapping_text(b["parallelism"]), "batch": int(b["batch"]),
                        "tpot_ms": round(b["tpot_s"] * 1e3, 1), "ttft_s": round(b["ttft_s"], 2),
                        "output_tok_s_per_chip": round(b["output_tok_s_per_chip"], 1),
                        "ratio_vs_dram_only": None if base is None else
                        round(b["output_tok_s_per_chip"] / base["output_tok_s_per_chip"], 2),
                        "cost_usd_per_mtok": round(b["cost_usd_per_mtok"], 2),
                        "min_cost_usd_per_mtok": None if c is None else round(c["cost_usd_per_mtok"], 2)})
        rows.append(row)
    note = (f"Each design at its best mapping under the same SLO, TPOT <= {TPOT_SLO_S * 1e3:.0f} ms: llmhw.search "
            "over every valid mapping (tp, pp, ep, dp) of its chips and every batch up to its memory limit, for the "
            "most output tokens/s per chip; moe-1t, FP8 weights and KV, 8192 in / 1024 out, default engine. "
            "cost_usd_per_mtok is at that point; min_cost_usd_per_mtok is a second search for the least cost under "
            "the same SLO. ratio_vs_dram_only: tokens/s per chip over the DRAM-only design of the same package, "
            "also at its best. The hbf-operating-points table holds every design to one mapping (attention data "
            "parallel, experts over all chips) and power-of-two batches: a different question.")
    return Table("hbf-best-under-slo", f"Each at its best mapping under the same SLO (TPOT <= "
                 f"{TPOT_SLO_S * 1e3:.0f} ms): tokens/s per chip", rows, note), best


def read_ahead_bw(kind: str, latency_s: Any) -> Any:
    """Bandwidth one HBF stack streams at on a ``kind`` site: min(site bandwidth, bytes in flight /
    latency) (Little's law; docs/memory_tiers.md)."""
    return np.minimum(site(kind)[2], memory_presets()["hbf"].max_bytes_in_flight / np.asarray(latency_s, dtype=float))


def _latency_table() -> tuple[Table, dict[str, Any]]:
    b = np.array([1, 64])
    steps = {}
    rows = []
    for kind in SITE_DESIGNS:
        t = np.zeros((LATENCIES_S.size, b.size))
        for i, lat in enumerate(LATENCIES_S):
            a = _sweep(scenario(4, 1, kind=kind, extra={"chip.memory[1].latency_s": float(lat)}), b)
            t[i] = a["decode_step_s"]
        steps[kind] = t
        bw = site(kind)[2]
        rows += [{"memory_site": SITE_NAMES[kind], "hbf_read_latency_us": round(float(lat) * 1e6, 1),
                  "read_ahead_tb_s_per_stack": round(float(read_ahead_bw(kind, lat)) / 1e12, 3),
                  "bytes_in_flight_needed_per_stack_mb": round(bw * float(lat) / 1e6, 1),
                  "decode_step_batch1_ms": round(float(t[i, 0]) * 1e3, 2),
                  "decode_step_batch64_ms": round(float(t[i, 1]) * 1e3, 2)}
                 for i, lat in enumerate(LATENCIES_S)]
    note = ("One chip with 4 DRAM + 4 HBF stacks, moe-1t in FP8 (weights in HBF). Weights are read ahead: only "
            "the routed experts (60 MoE layers), whose addresses the router computes, wait for one HBF access "
            "latency per step and layer. bytes_in_flight_needed = site bandwidth x latency: what one stack must "
            "have outstanding to stream at full bandwidth (the paper's question Q5); with 40 MB per stack "
            "(estimated) a stack streams min(site bandwidth, 40 MB / latency).")
    return Table("hbf-latency", "Decode step vs HBF read latency", rows, note), {"step_s": steps, "batch": b}


def kv_block_bytes(model: ModelSpec) -> float:
    """One KV read: a 16-token cache block (vLLM's default) of one layer on one chip (TP 1), FP8."""
    return 16 * model.kv_cache_bytes_per_token("fp8") / model.n_layers


def page_amplification(block: float, page: Any) -> Any:
    """Bytes read per byte wanted when a block is rounded up to whole pages."""
    page = np.asarray(page, dtype=float)
    return np.ceil(block / page) * page / block


def _page_table() -> tuple[Table, dict[str, Any]]:
    b = PAGE_BATCH
    rows, out = [], {}
    for m in (moe_1t(), llmhw.load_model("llama-3.1-405b")):
        base = scenario(4, 1, model=m, batch=b, placement={"weights": "hbf", "kv_cache": "hbf"})
        step, reads = [], []
        for g in PAGES_B:
            s = base.replace(overrides={**base.overrides, "chip.memory[1].access_granularity_bytes": float(g)})
            dec = _metrics(s, b).decode
            step.append(float(dec.time.total_s))
            reads.append(float(dec.accounting.tier_read_bytes[1]))
        kv_hbm = float(_sweep(scenario(4, 1, model=m, batch=b), b)["decode_step_s"])
        blk = kv_block_bytes(m)
        amp = page_amplification(blk, PAGES_B)
        out[m.id] = {"step_s": np.array(step), "reads": np.array(reads), "amp": amp, "kv_hbm_s": kv_hbm,
                     "block": blk}
        rows += [{"model": m.id, "kv_block_kb": round(blk / 1e3, 1), "page_kb": int(g // 1024),
                  "kv_read_amplification": round(float(amp[i]), 2),
                  "hbf_read_per_step_gb": round(reads[i] / 1e9, 1), "decode_step_ms": round(step[i] * 1e3, 1),
                  "decode_step_kv_in_hbm_ms": round(kv_hbm * 1e3, 1)} for i, g in enumerate(PAGES_B)]
    note = (f"KV cache forced into HBF (one B200, 4 HBM3E + 4 HBF at 1.0 TB/s each, FP8, batch {b}). A KV "
            "read waits for the flash's latency (its block is known only from the block table) and fetches "
            "one 16-token block of one layer (vLLM's block): 16 x 576 B (MLA latent) = 9.2 KB for moe-1t, "
            "16 x 8 heads x 128 x 2 (K, V) x 1 B = 32.8 KB for Llama 3.1 405B, rounded up to whole pages. "
            "Weight reads (MBs per matrix) are not amplified.")
    return Table("hbf-page-size", "Page size: KV reads from flash", rows, note), out


def _endurance_table() -> tuple[Table, dict[str, Any]]:
    """Lifetime of the HBF tier when it takes writes: the KV cache (every token), or a prefix cache
    (a slow-changing context corpus rewritten on a schedule)."""
    hbf = memory_presets()["hbf"]
    cap = 4 * hbf.capacity_bytes
    cases: dict[str, float] = {}       # label -> write bytes/s on one chip's HBF tier (4 stacks, 2 TB)
    rates = {}
    for m in (moe_1t(), llmhw.load_model("llama-3.1-405b")):
        s = scenario(4, 1, model=m, placement={"weights": "hbf", "kv_cache": "hbf"})
        a = _metrics(s, -1)                     # the largest batch: the highest write rate
        hbf_use = a.tiers[1]
        wr = float(hbf_use.write_bytes_per_s)
        label = (f"KV cache of {m.id} ({m.kv_cache_bytes_per_token('fp8') / 1e3:.0f} KB/token), "
                 f"batch {int(a.batch)}")
        cases[label] = wr
        rates[m.id] = {"write_bytes_per_s": wr, "lifetime_days": float(hbf_use.lifetime_days),
                       "batch": int(a.batch), "output_tok_s": float(a.output_tok_s),
                       "kv_per_token": m.kv_cache_bytes_per_token("fp8")}
    cases["prefix cache: 1 TB rewritten every hour"] = 1e12 / 3600
    cases["prefix cache: 1 TB rewritten every day"] = 1e12 / SECONDS_PER_DAY
    rows = []
    life_years = {}
    for label, wr in cases.items():
        years = cap * PE_CYCLES / wr / SECONDS_PER_DAY / DAYS_PER_YEAR
        life_years[label] = years
        row = {"what_is_written": label, "write_mb_s": round(wr / 1e6, 1)}
        for c, y in zip(PE_CYCLES, years, strict=True):
            row[f"lifetime_at_{int(c / 1000)}k_pe_years"] = float(f"{y:.3g}")
        rows.append(row)
    write_bw = hbf.write_bandwidth_bytes_per_s * site("hbm3e")[2] / hbf.bandwidth_bytes_per_s   # per stack, at the site
    full = cap * 1e5 / (4 * write_bw) / SECONDS_PER_DAY
    note = ("One B200, 4 HBM3E + 4 HBF stacks (2 TB), FP8 KV cache of 8192 + 1024-token requests at the largest batch "
            "(the highest write rate), perfect wear levelling and a write amplification of 1: lifetime = "
            "capacity x P/E cycles / write rate (docs/memory_tiers.md); a flash translation layer's write "
            "amplification divides it. The KV write rate is the engine's steady state: every prompt and "
            "generated token's KV, written once. HBF's endurance is not published: ~100k cycles (SLC) is the "
            "figure in news summaries; TLC NAND is rated ~1-3k. Writing at HBF's full write bandwidth "
            f"(4 x {write_bw / 1e9:.0f} GB/s at the HBM3E site) would wear 100k-cycle flash out in {full:.1f} days. "
            f"Service life: {service_life_years():.0f} years (llmhw's).")
    return (Table("hbf-endurance", "Endurance: how long 2 TB of HBF lasts when written", rows, note),
            {"years": life_years, "rates": rates, "capacity": cap, "full_bw_days": full})


def _style(ax: Any) -> None:
    ax.grid(True, which="major", alpha=0.3)
    ax.grid(True, which="minor", alpha=0.1)


# One colour per design across the figures (style.PALETTE, colour-blind safe); HBM4-site designs are
# also hatched (bars) or dotted (lines).
COLORS = {("hbm3e", 0): style.PALETTE[0], ("hbm3e", 2): style.PALETTE[3], ("hbm3e", 4): style.PALETTE[1],
          ("hbm4", 0): style.PALETTE[2], ("hbm4", 4): style.PALETTE[4]}
BAR_DESIGNS = [(kind, k) for kind, ks in SITE_DESIGNS.items() for k in ks]


def _pow2_axis(ax: Any, values: Any) -> None:
    """A base-2 log x axis with plain tick labels (1, 4, 16, ...)."""
    ax.set_xscale("log", base=2)
    ticks = [int(v) for v in values]
    ax.set_xticks(ticks, labels=[f"{v:,}" for v in ticks])
    ax.xaxis.set_minor_locator(NullLocator())


def _fig_chips(chips: dict[tuple[str, str, int, str], tuple[int, int]]) -> MplFigure:
    fig, ax = style.figure(7.6, 4.4)
    models = ((moe_1t(), "1T MoE"), (llmhw.load_model("llama-3.1-405b"), "Llama 3.1 405B"))
    groups = [(m.id, prec, f"{name}, {prec.upper()}\n({m.weight_bytes(prec) / 1e12:.2f} TB)")
              for m, name in models for prec in ("fp8", "bf16")]
    w = 0.16
    for j, (kind, k) in enumerate(BAR_DESIGNS):
        xs = np.arange(len(groups)) + (j - (len(BAR_DESIGNS) - 1) / 2) * w
        vals = [chips[(mid, p, k, kind)][0] for mid, p, _ in groups]
        ax.bar(xs, vals, w, color=COLORS[(kind, k)], label=design_label(k, kind),
               hatch="//" if kind == "hbm4" else None, edgecolor="white", linewidth=0.4)
        for x, v in zip(xs, vals, strict=True):
            ax.text(x, v * 1.08, str(v), ha="center", va="bottom", fontsize=8)
    ax.set_yscale("log", base=2)
    ax.set_ylim(0.7, 180)                 # room above the bars for the legend
    ax.set_yticks([1, 2, 4, 8, 16, 32], labels=["1", "2", "4", "8", "16", "32"])
    ax.yaxis.set_minor_locator(NullLocator())
    ax.set_xticks(np.arange(len(groups)), labels=[g[2] for g in groups])
    ax.set_ylabel("chips to hold the weights (power of two)")
    ax.set_title("Chips needed: 8 memory sites per package, DRAM or HBF stacks")
    ax.legend(fontsize=8, loc="upper center")
    ax.grid(axis="x", visible=False)
    return fig


def _fig_curves(curves: dict[Key, dict[str, np.ndarray]]) -> MplFigure:
    fig, (ax1, ax2) = style.figure(10.5, 4.6, 1, 2)
    n_hbm = next(n for (kind, k, n) in curves if kind == "hbm3e" and k == 0)
    for (kind, k, n), a in curves.items():
        f = a["fits"].astype(bool)
        label = f"{design_short(k, kind)} x {n} chip{'s' if n > 1 else ''}"
        ls = ":" if kind == "hbm4" else "--" if (k, n) == (4, n_hbm) else "-"
        mk = "s" if kind == "hbm4" else "o"
        ax1.plot(a["batches"][f], a["tpot_s"][f] * 1e3, ls, marker=mk, ms=3.5, color=COLORS[(kind, k)], label=label)
        ax2.plot(a["tok_s_per_user"][f], a["output_tok_s_per_chip"][f], ls, marker=mk, ms=3.5,
                 color=COLORS[(kind, k)], label=label)
    _pow2_axis(ax1, BATCHES[::2])
    style.log_axis(ax1, "y")
    ax1.set_xlabel("concurrent requests (batch)")
    ax1.set_ylabel("TPOT (ms)")
    ax1.set_title("(a) time per output token")
    style.log_axis(ax2, "xy")
    ax2.set_xlabel("interactivity: tokens/s per user (1 / TPOT)")
    ax2.set_ylabel("output tokens/s per chip")
    ax2.set_title("(b) throughput per chip vs interactivity")
    for ax in (ax1, ax2):
        _style(ax)
    ax1.legend(fontsize=8, title=f"solid, dashed: B200 HBM3E sites ({site('hbm3e')[2] / 1e12:.1f} TB/s)\n"
               f"dotted: HBM4 sites ({site('hbm4')[2] / 1e12:.2f} TB/s)", title_fontsize=8, loc="upper left")
    return fig


def _fig_latency_page(lat: dict[str, Any], page: dict[str, Any]) -> MplFigure:
    fig, (ax1, ax2) = style.figure(10, 4.2, 1, 2)
    batch_colors = (style.PALETTE[0], style.PALETTE[1])
    ax1.axvspan(1, 25, color="0.9", lw=0, label="1-25 us: range quoted by\nthe paper and vendors")
    for kind, ls in (("hbm3e", "-"), ("hbm4", ":")):
        for j, b in enumerate(lat["batch"]):
            ax1.plot(LATENCIES_S * 1e6, lat["step_s"][kind][:, j] * 1e3, ls, marker="o", ms=4, color=batch_colors[j],
                     label=f"batch {b}, {SITE_NAMES[kind]}")
    style.log_axis(ax1, "xy")
    ax1.set_xlabel("HBF read latency (us)")
    ax1.set_ylabel("decode step (ms)")
    ax1.set_title("(a) read latency, weights in HBF (1T MoE)")
    ax1.legend(fontsize=8, loc="center left")
    kb = PAGES_B / 1024
    page_colors = (style.PALETTE[2], style.PALETTE[3])
    for j, (mid, d) in enumerate(page.items()):
        ratio = d["step_s"] / d["kv_hbm_s"]
        ax2.plot(kb, ratio, marker="os"[j], ms=4.5, color=page_colors[j],
                 label=f"{mid}: {d['block'] / 1e3:.1f} KB KV block")
        # The two models' points nearly coincide at small pages: one model's labels above its
        # points, the other's below.
        for x, y, amp in zip(kb, ratio, d["amp"], strict=True):
            ax2.annotate(f"{amp:.2g}x", (x, y), textcoords="offset points", xytext=(0, 6 if j == 0 else -7),
                         va="bottom" if j == 0 else "top", ha="center", fontsize=8, color=page_colors[j])
    ax2.margins(y=0.18)
    ax2.axhline(1.0, color="0.4", ls="--", lw=1, label="KV cache in HBM")
    _pow2_axis(ax2, kb)
    ax2.set_xlabel("HBF page (read granularity, KB)")
    ax2.set_ylabel("decode step, KV in HBF / KV in HBM")
    ax2.set_title(f"(b) page size, KV cache in HBF (batch {PAGE_BATCH})")
    ax2.legend(fontsize=8, loc="upper left", title="labels: KV read amplification", title_fontsize=8)
    for ax in (ax1, ax2):
        _style(ax)
    return fig


def _fig_endurance(end: dict[str, Any]) -> MplFigure:
    fig, ax = style.figure(7.5, 4.4)
    styles = ["-", "-", "--", "--"]
    for j, ((label, years), ls) in enumerate(zip(end["years"].items(), styles, strict=True)):
        ax.plot(PE_CYCLES, years, ls, marker="o", ms=4, color=style.PALETTE[j], label=label)
    life = service_life_years()
    ax.axhline(life, color="k", lw=1)
    ax.text(PE_CYCLES[-1], life * 1.2, f"{life:.0f}-year service life", fontsize=8, ha="right")
    ax.axvspan(1e3, 3e3, color="0.9", lw=0)
    ax.axvline(1e5, color="0.5", ls=":", lw=1)
    ax.text(1.05e3, 2e-2, "TLC NAND\n(1-3k)", fontsize=8)
    ax.text(1.08e5, 2e-2, "HBF, reported\n(SLC, 100k)", fontsize=8)
    style.log_axis(ax, "xy")
    ax.set_ylim(1e-2, 1e4)
    ax.set_xlabel("flash program/erase cycles")
    ax.set_ylabel(f"lifetime of {end['capacity'] / 1e12:.0f} TB of HBF (years)")
    ax.set_title("How long the flash lasts when it takes writes")
    ax.legend(fontsize=8, loc="upper left")
    _style(ax)
    return fig


def _dominates(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    """Whether curve a gives at least curve b's tokens/s per chip at every tokens/s per user where
    both have points (log-interpolated along b)."""
    fa, fb = a["fits"].astype(bool), b["fits"].astype(bool)
    ua, ta = a["tok_s_per_user"][fa], a["output_tok_s_per_chip"][fa]
    ub, tb = b["tok_s_per_user"][fb], b["output_tok_s_per_chip"][fb]
    order = np.argsort(ub)
    ub, tb = ub[order], tb[order]
    inside = (ua >= ub[0]) & (ua <= ub[-1])
    if not inside.any():
        return False
    ref = np.exp(np.interp(np.log(ua[inside]), np.log(ub), np.log(tb)))
    return bool(np.all(ta[inside] >= ref))


@dataclass
class Results:
    """The tables and the numbers the findings and figures quote."""

    chips_t: Table
    chips: dict[tuple[str, str, int, str], tuple[int, int]]
    sites_t: Table
    curves: dict[Key, dict[str, np.ndarray]]
    ops_t: Table
    lat_t: Table
    lat: dict[str, Any]
    page_t: Table
    page: dict[str, Any]
    end_t: Table
    end: dict[str, Any]
    best_t: Table
    best: dict[Key, dict[str, Any]]

    def chips_for(self, weights: str, n_hbf: int, kind: str = "hbm3e") -> int:
        """Chips moe-1t needs with ``n_hbf`` HBF stacks per chip on ``kind`` sites (weights alone)."""
        return self.chips[(moe_1t().id, weights, n_hbf, kind)][0]

    def point(self, k: int, n: int, what: str, kind: str = "hbm3e") -> dict[str, Any]:
        """The operating-points row of ``k`` HBF stacks on ``n`` chips whose point starts with ``what``."""
        return next(r for r in self.ops_t.rows if r["design"] == design_short(k, kind) and r["chips"] == n
                    and r["operating_point"].startswith(what))

    def point_or_none(self, kind: str, design: str, n: int) -> float | None:
        """Tokens/s per chip of the operating-points row 'best with TPOT <= SLO' of a design (by its short
        name) on ``n`` chips, None when no batch met the SLO at the fixed mapping."""
        r = next((r for r in self.ops_t.rows if r["memory_site"] == SITE_NAMES[kind] and r["design"] == design
                  and r["chips"] == n and r["operating_point"].startswith("best")), None)
        return None if r is None else float(r["output_tok_s_per_chip"])

    def step_ms(self, kind: str, latency_s: float, batch_index: int = 0) -> float:
        """The latency table's decode step (ms) at the swept latency nearest ``latency_s``."""
        i = int(np.argmin(abs(LATENCIES_S - latency_s)))
        return float(self.lat["step_s"][kind][i, batch_index]) * 1e3

    def per_us(self, kind: str = "hbm3e") -> float:
        """Seconds a batch-1 decode step gains per microsecond of HBF read latency (5 -> 25 us)."""
        return (self.step_ms(kind, 25e-6) - self.step_ms(kind, 5e-6)) / 1e3 / 20.0

    def cycles_needed(self) -> dict[str, float]:
        """P/E cycles a KV cache in HBF needs to last the service life, per model."""
        days = service_life_years() * DAYS_PER_YEAR
        return {k: days * SECONDS_PER_DAY * v["write_bytes_per_s"] / self.end["capacity"] for k, v in self.end["rates"].items()}


def results() -> Results:
    chips_t, chips = _chips_table()
    m = moe_1t()
    n_hbm, n_2, n_4 = (chips[(m.id, "fp8", k, "hbm3e")][0] for k in DESIGNS)
    n4_hbm, n4_4 = (chips[(m.id, "fp8", k, "hbm4")][0] for k in HBM4_DESIGNS)
    curves = _curves([("hbm3e", 0, n_hbm), ("hbm3e", 2, n_2), ("hbm3e", 4, n_4), ("hbm3e", 4, n_hbm),
                      ("hbm4", 0, n4_hbm), ("hbm4", 4, n4_4)])
    return Results(chips_t, chips, _sites_table(), curves, _operating_points(curves), *_latency_table(),
                   *_page_table(), *_endurance_table(), *_best_table(list(curves)))


def _system_findings(res: Results) -> list[str]:
    """Capacity, latency, throughput, cost and energy of the HBF designs, each against the DRAM-only
    design of its own package (same sites, same bandwidth per site)."""
    m = moe_1t()
    n_hbm, n_2, n_4 = (res.chips_for("fp8", k) for k in DESIGNS)
    n4_hbm, n4_4 = (res.chips_for("fp8", k, "hbm4") for k in HBM4_DESIGNS)
    b_hbm, b_4 = res.chips_for("bf16", 0), res.chips_for("bf16", 4)
    chips, row = res.chips, res.point
    h1, f1, q1 = row(0, n_hbm, "batch 1"), row(4, n_4, "batch 1"), row(2, n_2, "batch 1")
    hm, fm, qm = row(0, n_hbm, "max"), row(4, n_4, "max"), row(2, n_2, "max")
    slo_h, slo_f = row(0, n_hbm, "best"), row(4, n_4, "best")
    g1, gf1 = row(0, n4_hbm, "batch 1", "hbm4"), row(4, n4_4, "batch 1", "hbm4")
    gm, gfm = row(0, n4_hbm, "max", "hbm4"), row(4, n4_4, "max", "hbm4")
    p_hbm = sum(memory_power_w("hbm3e", 0))
    p_hbf = sum(memory_power_w("hbm3e", 4))
    p4_hbm, p4_hbf = sum(memory_power_w("hbm4", 0)), sum(memory_power_w("hbm4", 4))
    return [
        f"Capacity: giving 4 of a B200's 8 memory sites to HBF stacks holds {usable_weight_capacity(4) / 1e12:.2f} TB "
        f"of weights per chip against {usable_weight_capacity(0) / 1e9:.0f} GB of HBM3E "
        f"({usable_weight_capacity(4) / usable_weight_capacity(0):.1f}x). The 1T-parameter MoE (moe-1t: Kimi-K2's "
        f"shape, {m.total_params / 1e12:.2f} T parameters, {m.active_params / 1e9:.0f} B active) needs {n_hbm} "
        f"B200s in FP8 and {b_hbm} in BF16 with HBM only, {n_4} and {b_4} with 4 HBF stacks, {n_2} and "
        f"{chips[(m.id, 'bf16', 2, 'hbm3e')][0]} with 2. With HBM4 sites (48 GB stacks) it needs {n4_hbm} chips "
        f"in FP8, {n4_4} with 4 HBF stacks. Llama 3.1 405B fits one HBF chip in either precision.",
        f"Latency, iso-bandwidth (every stack at the B200 HBM3E site's 1.0 TB/s): at batch 1 the single HBF chip "
        f"decodes at {f1['tpot_ms']} ms per token against {h1['tpot_ms']} ms on {n_hbm} HBM-only chips (2 HBF "
        f"stacks on {n_2} chips: {q1['tpot_ms']} ms): its 4 TB/s of HBF streams the active experts of the whole "
        f"model alone, where the {n_hbm} chips each stream an eighth at 8 TB/s and pay all-to-alls. Per chip it "
        f"delivers {f1['output_tok_s_per_chip']} tokens/s against {h1['output_tok_s_per_chip']}. HBM4-class "
        f"(HBF at 1.64 TB/s against 8 HBM4 at 1.64 TB/s): {gf1['tpot_ms']} ms on {n4_4} chip against "
        f"{g1['tpot_ms']} ms on {n4_hbm}.",
        f"Throughput: with TPOT <= {TPOT_SLO_S * 1e3:.0f} ms the B200 HBF chip gives {slo_f['output_tok_s_per_chip']} "
        f"tokens/s per chip (batch {slo_f['batch']}) against {slo_h['output_tok_s_per_chip']} (batch "
        f"{slo_h['batch']}) on the HBM system; at maximum throughput {fm['output_tok_s_per_chip']} against "
        f"{hm['output_tok_s_per_chip']} (HBM4 package: {gfm['output_tok_s_per_chip']} against "
        f"{gm['output_tok_s_per_chip']}). The single B200's batch stops at {fm['batch']}: its 90 GB of HBM "
        f"(0.9 usable) holds that many 9k-token KV caches, so HBF moves the capacity wall from the weights "
        f"to the KV cache. With {n_hbm} HBF chips (same system size) the weights leave the HBM free for "
        f"the KV cache, but at batch 1 each chip reads its expert shard from half the bandwidth "
        f"({row(4, n_hbm, 'batch 1')['tpot_ms']} ms).",
        f"Cost and energy (llmhw.economics, whole system): at maximum throughput the B200 HBF chip serves at "
        f"{fm['cost_usd_per_mtok']} USD per million output tokens and {fm['energy_j_per_token']} J per token, "
        f"the {n_hbm}-chip HBM system at {hm['cost_usd_per_mtok']} USD and {hm['energy_j_per_token']} J "
        f"({n_2} chips with 2 HBF stacks: {qm['cost_usd_per_mtok']} USD, {qm['energy_j_per_token']} J); at batch 1 "
        f"{f1['cost_usd_per_mtok']} against {h1['cost_usd_per_mtok']} USD/Mtok, because one chip idles instead of "
        f"{n_hbm}. HBM4 package: {gfm['cost_usd_per_mtok']} against {gm['cost_usd_per_mtok']} USD/Mtok at maximum "
        "throughput.",
        f"Assumptions and doubts: the comparison is iso-shoreline and iso-bandwidth per site (HBF's quoted "
        f"1.638 TB/s on a 1.0 TB/s HBM3E site would hand the flash a 64% bandwidth bonus). Power is not iso: at full "
        f"bandwidth the B200's memories draw {p_hbm:.0f} W with 8 HBM3E and {p_hbf:.0f} W with 4 + 4 HBF, the HBM4 "
        f"package's {p4_hbm:.0f} W and {p4_hbf:.0f} W (HBF at Table 3's under-80 W, an upper bound); the "
        "economics adds the HBF stacks' full power to the 1000 W TDP, which still holds the HBM3E stacks they "
        "replaced, so the HBF designs get the larger power cap and provisioned power. Energy per token counts "
        "each bit read at its memory's energy and barely depends on the envelope (flash standby is taken as 2% "
        "of its full power). HBF latency (5 us), bytes in flight (40 MB per stack), "
        "write bandwidth and endurance are estimates; the HBM4 package is hypothetical (B200 compute).",
    ]


def best_verdict(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The winner of some designs' rows (most tokens/s per chip) and its margin over the runner-up;
    rows without a feasible point are left out."""
    ok = sorted((r for r in rows if r.get("output_tok_s_per_chip") is not None),
                key=lambda r: -r["output_tok_s_per_chip"])
    if not ok:
        return {"winner": None, "runner_up": None, "margin": None}
    second = ok[1] if len(ok) > 1 else None
    margin = None if second is None else ok[0]["output_tok_s_per_chip"] / second["output_tok_s_per_chip"]
    return {"winner": ok[0], "runner_up": second, "margin": margin}


def _label(r: dict[str, Any]) -> str:
    return f"{r['design']} on {r['chips']} chip{'s' if r['chips'] > 1 else ''}"


def best_finding(res: Results) -> str:
    """Which design wins at its best under the SLO, by how much, and whether the study's fixed-mapping
    comparison (hbf-operating-points) says the same: every number from the two tables."""
    parts = []
    for kind in SITE_DESIGNS:
        rows = [r for r in res.best_t.rows if r["memory_site"] == SITE_NAMES[kind]]
        v = best_verdict(rows)
        if v["winner"] is None:
            parts.append(f"on {PACKAGES[kind]} no design meets the SLO")
            continue
        listed = "; ".join(
            f"{_label(r)}: no point meets it" if r["output_tok_s_per_chip"] is None else
            f"{_label(r)} {r['output_tok_s_per_chip']:.1f} ({r['ratio_vs_dram_only']:.2f}x, {r['best_mapping']}, "
            f"batch {r['batch']}; least cost {r['min_cost_usd_per_mtok']} USD/Mtok)" for r in rows)
        fixed = [{**r, "output_tok_s_per_chip": res.point_or_none(kind, r["design"], r["chips"])} for r in rows]
        fv = best_verdict(fixed)
        text = f"on {PACKAGES[kind]}, {listed}. {_label(v['winner'])} wins"
        if v["margin"] is not None:
            text += f", {v['margin']:.2f}x the runner-up ({_label(v['runner_up'])})"
        if fv["winner"] is None:
            text += "; at the study's fixed mapping no design meets the SLO"
        else:
            same = _label(fv["winner"]) == _label(v["winner"])
            text += (f". At the study's fixed mapping (attention data parallel, experts over all chips, "
                     f"power-of-two batches) {_label(fv['winner'])} wins"
                     + (f", {fv['margin']:.2f}x the runner-up ({_label(fv['runner_up'])})" if fv["margin"] is not None
                        else "")
                     + (": the same verdict" if same else ": the verdict differs"))
        parts.append(text)
    return (f"Each at its best mapping under the same SLO (TPOT <= {TPOT_SLO_S * 1e3:.0f} ms; llmhw.search over "
            "every mapping of the design's chips and every batch to its memory limit), tokens/s per chip against "
            "the DRAM-only design of the same package: " + ". Then, ".join(parts) + ".")


def _flash_findings(res: Results) -> list[str]:
    """Read latency, page size and endurance."""
    m = moe_1t()
    per_us, need = res.per_us(), res.cycles_needed()
    kv, yrs = res.end["rates"], dict(res.end["years"])
    kv_labels = [k for k in yrs if k.startswith("KV")]
    i100, i3 = int(np.where(PE_CYCLES == 1e5)[0][0]), int(np.where(PE_CYCLES == 3e3)[0][0])
    l405, lm = res.page["llama-3.1-405b"], res.page[m.id]
    hbf = memory_presets()["hbf"]
    q_mb = hbf.max_bytes_in_flight / 1e6
    hide_b200, hide_hbm4 = (hbf.max_bytes_in_flight / site(kind)[2] * 1e6 for kind in ("hbm3e", "hbm4"))
    ratio_4 = l405["step_s"][0] / l405["kv_hbm_s"]
    return [
        f"Read latency: weights are read ahead, so only the routed experts (60 MoE layers, addresses known once "
        f"the router has run) wait for the flash: every extra microsecond adds {per_us * 1e3:.3f} ms to a batch-1 "
        f"step of moe-1t ({res.step_ms('hbm3e', 5e-6):.2f} ms at 5 us, {res.step_ms('hbm3e', 25e-6):.2f} ms at 25 us "
        f"on the B200 sites). Read-ahead needs bandwidth x latency in flight: {q_mb:.0f} MB per stack "
        f"(estimated) hides up to {hide_b200:.0f} us at 1.0 TB/s and {hide_hbm4:.0f} us at 1.64 TB/s; beyond, a "
        f"stack streams {q_mb:.0f} MB / latency ({res.step_ms('hbm3e', 50e-6):.1f} ms at 50 us on the B200 "
        f"sites, {res.step_ms('hbm4', 50e-6):.1f} ms on the HBM4 sites).",
        f"Page size: a KV read is one 16-token block of one layer, {lm['block'] / 1e3:.1f} KB for moe-1t's MLA "
        f"latent and {l405['block'] / 1e3:.1f} KB for Llama 405B's GQA heads in FP8. Pages larger than the block "
        f"multiply the bytes read: up to {lm['amp'][-1]:.1f}x (moe-1t) and {l405['amp'][-1]:.1f}x (405B) at "
        f"64 KB. At 4 KB pages the KV cache in HBF at batch {PAGE_BATCH} costs the 405B step "
        f"{ratio_4:.2f}x the KV-in-HBM step (4 HBF stacks and the 4 remaining HBM3E stacks read at the same "
        f"1.0 TB/s per site; the flash adds a latency per attention read); at 64 KB it is "
        f"{l405['step_s'][-1] / l405['kv_hbm_s']:.2f}x (405B) and {lm['step_s'][-1] / lm['kv_hbm_s']:.2f}x (moe-1t, "
        f"whose step is dominated by its weights). Pages should stay at or below the KV block size.",
        f"Endurance: a KV cache in 2 TB of HBF at the largest batch writes {kv[m.id]['write_bytes_per_s'] / 1e6:.0f} MB/s "
        f"(moe-1t) and {kv['llama-3.1-405b']['write_bytes_per_s'] / 1e6:.0f} MB/s (Llama 405B): by volume it lasts "
        f"{yrs[kv_labels[0]][i100]:.0f} and {yrs[kv_labels[1]][i100]:.0f} years at the 100k cycles reported for "
        f"HBF but {yrs[kv_labels[0]][i3]:.1f} and {yrs[kv_labels[1]][i3]:.1f} years at 3k (TLC-class). A "
        f"{service_life_years():.0f}-year service life needs {need[m.id] / 1e3:.0f}k and "
        f"{need['llama-3.1-405b'] / 1e3:.0f}k cycles. So the paper's 'infeasible for KV cache' holds for TLC-class "
        f"cells, or for SLC with a write amplification above {1e5 / max(need.values()):.1f}; a 1 TB prefix cache "
        f"rewritten daily lasts {yrs['prefix cache: 1 TB rewritten every day'][i3]:.0f} years even at 3k cycles.",
    ]


def _setups(res: Results) -> dict[str, str]:
    """Each figure's setup line, from the study's inputs."""
    m, l405 = moe_1t(), llmhw.load_model("llama-3.1-405b")
    moe = f"{m.id} ({m.total_params / 1e12:.2f} T params)"
    lengths = f"{style.tokens(ISL)} in / {style.tokens(OSL)} out"
    chip_counts = sorted({n for (_kind, _k, n) in res.curves})
    one = f"1 {HARDWARE.upper()} ({design_short(4)})"
    end_batches = ", ".join(f"{v['batch']:,}" for v in res.end["rates"].values())
    return {
        "hbf-chips": style.setup(f"{moe}, {l405.name}", f"FP8, BF16 weights on {HARDWARE.upper()}-class packages",
                                 f"{SITES} memory sites"),
        "hbf-tpot-throughput": style.setup(f"{moe} FP8 on {chip_counts[0]}-{chip_counts[-1]} {HARDWARE.upper()}-class "
                                           "chips (DP = EP = chips)", lengths, "batch 1 to the most that fits"),
        "hbf-latency-page": style.setup(f"{m.id} (a); {m.id}, {l405.name} (b); FP8 on {one}", lengths,
                                        "batch " + ", ".join(str(b) for b in res.lat["batch"]) + f" (a), "
                                        f"{PAGE_BATCH} (b)"),
        "hbf-endurance": style.setup(f"{m.id}, {l405.name} FP8 KV in {res.end['capacity'] / 1e12:.0f} TB HBF of {one}",
                                     lengths, f"batch {end_batches} (max)"),
    }


def _summary(res: Results) -> str:
    n_hbm, n_4 = res.chips_for("fp8", 0), res.chips_for("fp8", 4)
    h1, f1 = res.point(0, n_hbm, "batch 1"), res.point(4, n_4, "batch 1")
    fm = res.point(4, n_4, "max")
    need = res.cycles_needed()
    return (f"Yes for capacity: giving 4 of a B200's 8 memory sites to HBF cuts the chips a 1T-parameter MoE needs "
            f"from {n_hbm} to {n_4} (FP8), and that one chip decodes at {f1['tpot_ms']} ms per token against "
            f"{h1['tpot_ms']} ms on {n_hbm} HBM-only chips; its 90 GB of HBM then caps the batch at {fm['batch']}. "
            f"Flash is fine for weights, but a per-token KV cache in HBF outlives a {service_life_years():.0f}-year "
            f"service life only with >= {max(need.values()) / 1e3:.0f}k P/E cycles (SLC-class).")


def _figures(res: Results) -> list[Figure]:
    n_hbm, n_4 = res.chips_for("fp8", 0), res.chips_for("fp8", 4)
    b_hbm, b_4 = res.chips_for("bf16", 0), res.chips_for("bf16", 4)
    h1, f1 = res.point(0, n_hbm, "batch 1"), res.point(4, n_4, "batch 1")
    chips, curves, lat, page, end = res.chips, res.curves, res.lat, res.page, res.end
    per_us, need, lm = res.per_us(), res.cycles_needed(), res.page[moe_1t().id]
    return [
        Figure("hbf-chips", "Giving half of a B200's eight memory sites to HBF stacks cuts the chips a "
               f"1T-parameter MoE needs from {n_hbm} to {n_4} (FP8) and from {b_hbm} to {b_4} (BF16); "
               "Llama 3.1 405B fits one chip. Hatched: a package with HBM4 sites.", _fig_chips(chips)),
        Figure("hbf-tpot-throughput", f"At the same 1.0 TB/s per site, one B200 with 4 HBF stacks serving moe-1t "
               f"runs at {f1['tpot_ms'] / h1['tpot_ms']:.1f}x the {n_hbm}-chip HBM system's TPOT at batch 1 and gives "
               + ("more tokens/s per chip at every interactivity both reach"
                  if _dominates(curves[("hbm3e", 4, n_4)], curves[("hbm3e", 0, n_hbm)]) else
                  f"{f1['output_tok_s_per_chip']} vs {h1['output_tok_s_per_chip']} tokens/s per chip at batch 1")
               + "; its 90 GB of HBM for the KV cache caps its batch. Dotted: HBF at 1.64 TB/s against HBM4.",
               _fig_curves(curves)),
        Figure("hbf-latency-page", f"Read ahead, each microsecond of HBF read latency adds {per_us * 1e3:.3f} ms to "
               "a moe-1t decode step (one wait per routed-expert read) until 40 MB in flight per stack no longer "
               "cover bandwidth x latency; flash pages larger than a 16-token KV block "
               f"(9-33 KB) multiply the KV bytes read, up to {lm['amp'][-1]:.1f}x at 64 KB.",
               _fig_latency_page(lat, page)),
        Figure("hbf-endurance", "By write volume, a per-token KV cache in HBF outlives the "
               f"{service_life_years():.0f}-year service life only with >= {max(need.values()) / 1e3:.0f}k P/E "
               "cycles (SLC-class); a prefix cache rewritten daily fits any flash.",
               _fig_endurance(end)),
    ]


def run() -> Study:
    res = results()
    findings = [*_system_findings(res), best_finding(res), *_flash_findings(res)]
    figures = _figures(res)
    setups = _setups(res)
    for f in figures:
        f.setup = setups[f.name]
    return Study(
        name="hbf", title="RQ2: High Bandwidth Flash for weights, HBM for the KV cache",
        question=("Does HBF's 10x capacity per node (512 GB per stack, read at its memory site's bandwidth) shrink "
                  "the system a 1T-parameter model needs, and what do its microsecond page reads and limited write "
                  "endurance cost in TPOT, throughput, energy and $/token? (Ma & Patterson 2026, section 4.3; Q4-Q6)"),
        tables=[res.chips_t, res.sites_t, res.ops_t, res.best_t, res.lat_t, res.page_t, res.end_t], figures=figures,
        findings=findings, summary=_summary(res))
