"""The tests the paper's section 5 proposes (Ma & Patterson 2026, §5, Q1-Q15) that llmhw runs, as rows of the
claims table. Most are qualitative: each states the claim as a condition on the engine's results
(and a weaker form of it), and the rule turns whether they hold into the verdict."""

from __future__ import annotations

from typing import Any

import numpy as np

import llmhw
from llmhw import api
from llmhw.core.units import DAYS_PER_YEAR
from llmhw.hardware.catalog import lookup, stacked_from_dict
from llmhw.scenario.economics import EconomicsParams
from llmhw.studies._claims_rule import Condition, Number, Row, restates, row
from llmhw.studies._claims_runs import h200_with_hbf, l70, pred
from llmhw.studies.scenarios import llama70b_training

RIDGE_CHIPS = ("h100-sxm", "h200", "b200", "mi300x", "mi355x")


def ridges() -> dict[str, float]:
    """FP8 peak / HBM bandwidth (FLOP per byte) of today's accelerators."""
    out = {}
    for cid in RIDGE_CHIPS:
        c = lookup(cid)
        out[cid] = c.peak_flops["fp8"] / c.memory[0].bandwidth_bytes_per_s
    return out


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
    d = pred(s)
    pre = d["breakdown"]["prefill"]["bound"]
    dec = d["breakdown"]["decode"]["bound"]
    where = (f"crossing it at batch {cross}" if cross is not None else
             f"and never reaching it: up to the largest batch that fits ({batch[-1]}) it saturates at "
             f"{ai.max():.0f} FLOP/B as KV-cache reads grow with the batch")
    rises = len(ai) > 1 and ai.max() > ai[0]
    rows = [row("Q1", "Decode is memory-bound, prefill compute-bound; batching makes decode less memory-bound",
                "Ma & Patterson 2026, §4.2 [FT], Q1",
                Condition("at batch 1 decode is memory-bound and prefill compute-bound, and decode's arithmetic "
                          "intensity rises with the batch", "decode is memory-bound at batch 1"),
                "qualitative",
                f"Llama 3.1 70B FP8 on 8 x H100 at batch 1: decode {dec}-bound, prefill {pre}-bound; a decode step does "
                f"{ai[0]:.1f} FLOP per byte at batch 1 against a ridge of {ridge:.0f} (FP8 peak / HBM bandwidth), "
                f"{where}; with fitted (not peak) efficiencies compute overtakes memory at batch "
                f"{eng_cross if eng_cross is not None else '> ' + str(batch[-1])}",
                value=ai[0], unit="FLOP/B", holds=dec == "memory" and pre == "compute" and rises,
                partial=dec == "memory", note="the roofline ridge sits far above any interactive batch")]
    return rows, {"batch": batch, "ai": ai, "ridges": ridges(), "eng_cross": eng_cross, "scenario": s}


# Llama 3 405B pre-training (Llama Team 2024, arXiv 2407.21783, §3.4 and Table 4): 15.6T tokens on
# 16,384 H100s, 8K-token sequences, TP8 PP16 DP128, 2,048 sequences per step; the mapping llmhw's
# training validation uses for its Table 4 rows (validation/measurements_training.csv).
LLAMA3_TOKENS = 15.6e12
LLAMA3_RUN = {"model": "llama-3.1-405b", "hardware": "h100-sxm", "n_chips": 16384,
              "parallelism": {"tp": 8, "pp": 16, "dp": 128},
              "training": {"sequence_length": 8192, "global_batch_sequences": 2048, "micro_batch": 1,
                           "optimizer": "adam", "precision": "bf16", "recompute": "selective", "zero": 2,
                           "pipeline_schedule": "interleaved", "virtual_stages": 4}}
WEEK_DAYS = 7.0


def q1_training() -> list[Row]:
    """RQ1's "compared to training": a Llama 3.1 70B training step on 64 x H100 (the trends study's,
    studies/scenarios.py) against the same model's FP8 decode at batch 32 on 8 x H100."""
    train = api.train(llama70b_training())
    chip = lookup("h100-sxm")
    bw = chip.memory[0].bandwidth_bytes_per_s
    r_train, r_dec = chip.peak_flops["bf16"] / bw, chip.peak_flops["fp8"] / bw
    m = api.evaluate(l70("hgx-h100-8", 8, 32))
    acc, tm = m.decode.accounting, m.decode.time
    dec_ai = float(acc.total_flops / acc.memory_bytes)
    dec_peak = 100 * float(acc.total_flops / tm.total_s) / chip.peak_flops["fp8"]
    dec_lat = 100 * float(tm.comm_latency_s / (tm.comm_latency_s + tm.comm_bandwidth_s))
    mfu = 100 * train.mfu
    above, below = train.intensity > r_train, dec_ai < r_dec
    ratio = mfu / dec_peak
    big = max(train.messages, key=lambda x: x["count_per_step"] * x["seconds_each"])
    dp = next(x for x in train.messages if x["purpose"] == "dp_grads")
    p = api.train(LLAMA3_RUN)
    days = LLAMA3_TOKENS / p.tokens_per_s / 86400
    return [
        row("Q1-train", "Decode makes LLM inference fundamentally different from training: its challenges are "
            "memory and interconnect rather than compute", "Ma & Patterson 2026, abstract [FT], RQ1",
            Condition("on the same H100, a Llama 3.1 70B training step runs above the ridge at over 30% MFU while "
                      "its decode runs below the ridge at under 10% of peak FLOP/s",
                      "training runs above the ridge and decode below it"),
            "qualitative",
            f"training (64 x H100, TP8 PP4 DP2) {train.intensity:,.0f} FLOP/B against a BF16 ridge of {r_train:.0f}, "
            f"{mfu:.0f}% MFU; FP8 decode (8 x H100, batch 32) {dec_ai:.0f} FLOP/B against {r_dec:.0f}, "
            f"{dec_peak:.1f}% of peak: {ratio:.0f}x less of the chip's compute",
            value=ratio, unit="x", holds=above and below and mfu > 30 and dec_peak < 10,
            partial=above and below, note="the trends study's 'training_vs_inference' table"),
        row("Q1-collectives", "Decode's collectives are latency-bound, training's bandwidth-bound (interconnect "
            "latency outweighs bandwidth for decode)", "Ma & Patterson 2026, §3 'Interconnect latency outweighs "
            "bandwidth' [FT], RQ1",
            Condition("decode's TP all-reduce spends over half its time in latency while training's busiest "
                      "collective spends under 10%", "decode's spends over half"),
            "qualitative",
            f"decode: {32 * 8192 * 2 / 1e3:.0f} KB all-reduces (32 x 8,192 bf16 values), {dec_lat:.0f}% latency; "
            f"training: {big['bytes'] / 1e6:.0f} MB {big['kind'].replace('_', '-')}s, {100 * big['latency_share']:.1f}% "
            f"latency, and a {dp['bytes'] / 1e9:.1f} GB gradient reduce-scatter",
            value=dec_lat, unit="%", holds=dec_lat > 50 and big["latency_share"] < 0.1,
            partial=dec_lat > 50, note="latency share: a collective's time with one byte / its time"),
        row("S2-11b", "Training takes weeks", "Ma & Patterson 2026, §2 #11 [FT]",
            Condition("pre-training Llama 3 405B on 15.6T tokens on 16,384 H100s takes 1 to 16 weeks",
                      "it takes days to months"),
            "weeks",
            f"{p.tokens_per_s / 1e6:.1f}M tokens/s at {100 * p.mfu:.0f}% MFU: {days:.0f} days "
            f"({days / WEEK_DAYS:.1f} weeks) of pre-training, not counting interruptions",
            value=days, unit="days", holds=WEEK_DAYS <= days <= 16 * WEEK_DAYS, partial=1 <= days <= 365,
            note="Llama 3 405B's published mapping and token count (Llama Team 2024, §3.4, Table 4)"),
    ]


def q4_system_size() -> list[Row]:
    over, hbm_id = h200_with_hbf()

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
    n1 = min_chips(over, {"weights": "hbf", "kv_cache": hbm_id})
    return [row("Q4", "HBF's capacity makes the inference system smaller", "Ma & Patterson 2026, §4.3 [FT], Q4",
                Condition("fewer H200s hold DeepSeek-V3 with one HBF stack each (weights in HBF) than with HBM only"),
                "10X capacity per node",
                f"DeepSeek-V3 FP8 (16 requests of 5K tokens): {n0 or '> 32'} H200s with HBM only, {n1 or '> 32'} with one "
                "HBF stack each "
                "(weights in HBF, KV in HBM)",
                holds=None if n1 is None and n0 is None else n1 is not None and (n0 is None or n1 < n0),
                note="memory capacity sets the minimum system; fewer chips means fewer hops and smaller collectives")]


def q6_endurance() -> list[Row]:
    over, hbm_id = h200_with_hbf()
    s = {**l70("h200", 1, 64), "overrides": over, "placement": {"weights": hbm_id, "kv_cache": "hbf"}}
    t = pred(s)["memory_tiers"][1]
    days = t["lifetime_days"]
    cycles = lookup("hbf").write_endurance_cycles
    tlc = days * 3000 / cycles
    life = EconomicsParams.default().service_life_years
    return [row("Q6", "HBF's limited write endurance makes it infeasible for the KV cache, written every token",
                "Ma & Patterson 2026, §4.3 [FT], Q6",
                Condition(f"KV writes wear the HBF stack out within the {life:.0f}-year service life at the "
                          "catalog's endurance", "they do at TLC-class endurance (3,000 P/E cycles)"),
                "infeasible for KV",
                f"Llama 3.1 70B FP8 on one H200 + HBF, KV cache in HBF, batch 64: {t['write_bytes_per_s'] / 1e9:.2f} GB/s "
                f"of KV writes wear the 512 GB stack out in {days:,.0f} days at {cycles:,.0f} P/E cycles (SLC, a "
                f"secondary figure), {tlc:.0f} days at 3,000 (TLC)",
                value=days, unit="days", holds=days < life * DAYS_PER_YEAR, partial=tlc < life * DAYS_PER_YEAR,
                note="the endurance is a secondary figure (100,000 cycles, SLC)")]


def q8_thermal() -> list[Row]:
    stack = {"tech": "3d-dram-soic-gen1", "stack_area_m2": 400e-6, "capacity_per_layer_bytes": 12e9}
    h100 = lookup("h100-sxm")
    s = {"model": "llama-3.1-70b", "hardware": "h100-sxm", "n_chips": 1,
         "precision": {"weights": "fp8", "kv_cache": "fp8"},
         "workload": {"input_tokens": 1024, "output_tokens": 1024, "batch": 1},
         "overrides": {"chip.stacked": stack, "chip.die_area_m2": 814e-6}}
    dec = api.evaluate(s, batch=np.array([1])).decode.time
    mem, comp = float(dec.tier_s[0][0]), float(dec.compute_s[0])
    big = stacked_from_dict(stack)
    frac = big.thermal_clock_fraction(h100.tdp_w, 814e-6)
    peak = h100.peak_flops["fp8"] * frac
    model = llmhw.load_model("llama-3.1-70b")
    roof_b = (model.weight_bytes("fp8") / big.bandwidth_bytes_per_s) * peak / (2 * model.active_params)
    return [row("Q8", "3D stacking's thermal limit is acceptable: run the logic at a lower clock, decode has "
                "low arithmetic intensity", "Ma & Patterson 2026, §4.5 [FT], Q8",
                Condition("under the stack's thermal clock cap the engine's batch-1 decode step is still memory-bound",
                          "on peak FLOP/s at the capped clock (the roofline) it is"),
                "qualitative (2-3X lower power)",
                f"H100 under a 400 mm2 gen-1 stack ({big.bandwidth_bytes_per_s / 1e12:.1f} TB/s, {big.id}): thermal "
                f"cap -> {frac:.0%} clock; the roofline keeps decode memory-bound up to batch {roof_b:.0f}; the "
                f"engine's batch-1 decode step: {comp * 1e3:.1f} ms compute vs {mem * 1e3:.1f} ms stack reads",
                value=roof_b, unit="batch", holds=mem >= comp, partial=roof_b >= 1,
                note="at batch 1 GEMV kernels use a few percent of peak, so a lower clock costs more than peak "
                     "FLOP/s suggest")]


def q9_latency() -> list[Row]:
    s = lookup("hgx-h100-8")
    fp = api.family_params("nvidia-gpu")
    sizes = np.array([8192 * 2, 64 * 8192 * 2])
    c = api.collective_cost("all_reduce", sizes, 8, s.scale_up_network, s.scale_out_network, fp)
    share = c.latency_s / (c.latency_s + c.bandwidth_s)
    return [row("Q9", "Latency trumps bandwidth for frequent, small messages in a big network",
                "Ma & Patterson 2026, §4.2, §4.6 [FT], Q9",
                Condition("latency is most of a batch-1 TP-8 all-reduce (16 KB)",
                          "latency's share is larger for the 16 KB message than for a 1 MiB one"),
                "qualitative",
                f"a TP-8 all-reduce on 8 x H100 (NVLink 4 + NVSwitch): 16 KB (batch 1) {share[0]:.0%} latency "
                f"({c.algorithm[0]}, {(c.latency_s[0] + c.bandwidth_s[0]) * 1e6:.1f} us), 1 MiB (batch 64) "
                f"{share[1]:.0%} latency ({c.algorithm[1]})",
                value=share[0] * 100, unit="% latency", holds=bool(share[0] > 0.5), partial=bool(share[0] > share[1]),
                note="decode messages are batch x hidden x 2 bytes: kilobytes")]


def q13_metrics() -> list[Row]:
    names = {"hgx-h100-8": "H100", "hgx-h200-8": "H200", "dgx-b200-8": "B200", "mi300x-8": "MI300X"}
    cost, flops = {}, {}
    for hw, n in names.items():
        cost[n] = pred(l70(hw, 8, 64))["cost_usd_per_mtok"]
        flops[n] = lookup(hw).chip.peak_flops["fp8"]
    by_f = sorted(names.values(), key=lambda n: -flops[n])
    by_c = sorted(names.values(), key=lambda n: cost[n])
    return [row("Q13", "Peak FLOP/s is not the metric: rank by performance/TCO, /power, /CO2e", "Ma & Patterson 2026, §4.1 [FT], Q13",
                Condition("the chip with the highest peak FP8 FLOP/s is not the cheapest per token",
                          "the two rankings differ somewhere"),
                "qualitative",
                f"Llama 3.1 70B FP8, TP 8, batch 64: by peak FP8 FLOP/s {' > '.join(by_f)}; by USD/Mtok "
                f"{' < '.join(by_c)} ({', '.join(f'{n} {cost[n]:.2f}' for n in by_c)} USD/Mtok)",
                holds=by_f[0] != by_c[0], partial=by_f != by_c,
                note="one operating point for all (TP 8, batch 64); under a per-user speed floor each system picks "
                     "its own GPUs and batch and the cost ranking changes: the economics study draws the fronts and "
                     "explains the difference")]


def q14_mobile() -> list[Row]:
    phone = lookup("apple-a17-pro")
    mem = phone.memory[0]
    s = {"model": "llama-3.1-8b", "hardware": "apple-a17-pro", "n_chips": 1, "engine": "llama.cpp",
         "precision": {"weights": "int4", "kv_cache": "fp16", "activations": "fp16"},
         "workload": {"input_tokens": 1024, "output_tokens": 256, "batch": 1}}
    d = pred(s)
    w = llmhw.load_model("llama-3.1-8b").active_params * 4.25 / 8
    bw = mem.bandwidth_bytes_per_s
    return [row("Q14", "Phones: HBM is infeasible; LPDDR5 gives 51 GB/s at ~3 W per 16 GB module",
                "Ma & Patterson 2026, §4.7 [FT], Table 3, Q14", Number.of(51), "51 GB/s, 3 W",
                f"the A17 Pro's LPDDR5: {bw / 1e9:.1f} GB/s; Llama 3.1 8B INT4 decodes at {d['tok_s_per_user']:.1f} "
                f"tok/s (bound {bw / w:.1f}); 10 tok/s needs under {bw / 10 / 1e9:.1f} GB read per token "
                "(the mobile study has every phone)",
                value=bw / 1e9, unit="GB/s", echoes=(restates(mem, "bandwidth_bytes_per_s", f"{phone.id}.memory.bandwidth_bytes_per_s"),),
                note="a phone's decode is LPDDR-bandwidth-bound")]


CHECKS = (q1_training, q4_system_size, q6_endurance, q8_thermal, q9_latency, q13_metrics, q14_mobile)
