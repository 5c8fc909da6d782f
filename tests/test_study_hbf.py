"""RQ2 study (HBF): its key numbers against hand arithmetic."""

import math

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from llmhw.studies import hbf, scenarios, style  # noqa: E402
from llmhw.studies.base import Study  # noqa: E402

GB = 1e9


@pytest.fixture(scope="module")
def study(study_of) -> Study:
    return study_of("hbf")


def table(study: Study, name: str) -> list[dict]:
    return next(t for t in study.tables if t.name == name).rows


def test_study_shape(study):
    assert study.name == "hbf"
    assert 2 <= len(study.figures) <= 4
    assert all(f.caption and f.figure.axes for f in study.figures)
    for t in study.tables:
        assert t.rows
    assert len(study.findings) >= 5


def test_figures_say_their_setup_and_the_study_its_answer(study):
    """Every figure names its model or chip in a setup line that fits above it, no text under
    8 pt; the summary is short and quotes numbers."""
    assert not style.study_problems(study, {"moe-1t", "Llama 3.1 405B", "B200"})


def test_moe_1t_is_kimi_k2_sized():
    m = hbf.moe_1t()
    # Routed experts: 60 MoE layers x 384 experts x 3 matrices x 7168 x 2048.
    routed = 60 * 384 * 3 * 7168 * 2048
    assert routed == pytest.approx(1.0146e12, rel=1e-4)
    assert m.total_params == pytest.approx(1.03e12, rel=0.01)   # Kimi K2: 1.04 T published
    assert m.active_params == pytest.approx(32e9, rel=0.03)     # Kimi K2: 32 B active
    # MLA latent cache: 61 layers x (512 + 64) x 1 B in FP8.
    assert m.kv_cache_bytes_per_token("fp8") == 61 * 576


def test_chips_needed_by_hand(study):
    m = hbf.moe_1t()
    routed = 60 * 384 * 3 * 7168 * 2048          # FP8: 1 byte per parameter
    replicated = m.total_params - routed          # attention, dense layer, shared experts, embeddings
    kv_one = (hbf.ISL + hbf.OSL) * 61 * 576       # one request's KV cache (the test of "fits")

    def by_hand(capacity: float) -> int:
        n = 1
        while replicated + routed / n + kv_one > 0.9 * capacity:
            n *= 2
        return n

    hbm_cap, hbf_stack, hbm4_cap = 180 * GB, 512 * GB, 8 * 48 * GB
    expect = {0: by_hand(hbm_cap), 2: by_hand(2 * hbf_stack), 4: by_hand(4 * hbf_stack)}
    assert expect == {0: 8, 2: 2, 4: 1}
    assert by_hand(hbm4_cap) == 4          # 8 HBM4 stacks of 48 GB: 11.8 + 1014.6 / 4 = 265 GB < 345.6
    # 8 chips: 11.8 GB replicated + 1014.6 GB / 8 = 138.6 GB per chip, under 0.9 x 180 = 162 GB.
    assert (replicated + routed / 8) / GB == pytest.approx(138.6, abs=0.1)
    rows = [r for r in table(study, "hbf-chips") if r["model"] == "moe-1t" and r["weights_precision"] == "fp8"]
    got = {r["design"]: r["chips_weights"] for r in rows}
    assert got == {"8 HBM3E": 8, "6 HBM3E + 2 HBF": 2, "4 HBM3E + 4 HBF": 1, "8 HBM4": 4, "4 HBM4 + 4 HBF": 1}
    lower = {r["design"]: r["lower_bound_chips"] for r in rows}
    assert lower == {"8 HBM3E": math.ceil(1026.4 / 162), "6 HBM3E + 2 HBF": math.ceil(1026.4 / 921.6),
                     "4 HBM3E + 4 HBF": 1, "8 HBM4": math.ceil(1026.4 / 345.6), "4 HBM4 + 4 HBF": 1}
    # BF16 doubles the bytes: 16 HBM chips (2053 GB / 162 = 12.7 -> 16), 2 with 4 HBF stacks.
    bf16 = {r["design"]: r["chips_weights"] for r in table(study, "hbf-chips")
            if r["model"] == "moe-1t" and r["weights_precision"] == "bf16"}
    assert bf16["8 HBM3E"] == 16 and bf16["4 HBM3E + 4 HBF"] == 2


def test_design_tiers_are_iso_shoreline_and_iso_bandwidth():
    # B200: 8 HBM3E sites, 180 GB and 8 TB/s -> 22.5 GB and 1.0 TB/s per site. An HBF stack on such
    # a site reads at the site's 1.0 TB/s (its write bandwidth, 1/4 of its read, scales with it).
    ov, placement = scenarios.design(4)
    hbm, flash = ov["chip.memory"]
    assert hbm["capacity_bytes"] == pytest.approx(90 * GB)            # 4 of 8 stacks of a 180 GB B200
    assert hbm["bandwidth_bytes_per_s"] == pytest.approx(4e12)
    assert flash["capacity_bytes"] == pytest.approx(4 * 512 * GB)
    assert flash["bandwidth_bytes_per_s"] == pytest.approx(4 * 1.0e12)
    assert flash["write_bandwidth_bytes_per_s"] == pytest.approx(4 * 1.0e12 * 410 / 1638)
    assert placement == {"weights": "hbf", "kv_cache": "hbm3e"}
    # HBM4-6400 sites: 48 GB at 2048 pins x 6.4 Gb/s / 8 = 1.6384 TB/s, the paper's HBF bandwidth.
    ov, placement = scenarios.design(4, "hbm4")
    hbm, flash = ov["chip.memory"]
    assert hbm["capacity_bytes"] == pytest.approx(4 * 48 * GB)
    assert hbm["bandwidth_bytes_per_s"] == pytest.approx(4 * 2048 * 6.4e9 / 8, rel=1e-3)
    assert flash["bandwidth_bytes_per_s"] == pytest.approx(hbm["bandwidth_bytes_per_s"])
    assert placement == {"weights": "hbf", "kv_cache": "hbm4"}
    ov, placement = scenarios.design(0, "hbm4")
    assert ov["chip.memory"][0]["capacity_bytes"] == pytest.approx(8 * 48 * GB) and placement == {}


def test_memory_power_by_hand(study):
    rows = {r["design"]: r for r in table(study, "hbf-sites")}
    # Full-bandwidth power of a stack: its static power + site bandwidth x 8 bits x access pJ/bit
    # (one energy definition, docs/economics.md).
    from llmhw.hardware.catalog import memory_presets
    mp = memory_presets()

    def full(tech, bw):
        return mp[tech].static_power_w + bw * 8 * mp[tech].energy_j_per_bit

    assert rows["8 HBM3E"]["memory_power_full_bw_w"] == pytest.approx(8 * full("hbm3e", 1e12), abs=1)
    assert rows["4 HBM3E + 4 HBF"]["memory_power_full_bw_w"] == pytest.approx(
        4 * full("hbm3e", 1e12) + 4 * full("hbf", 1e12), abs=1)
    # Table 3: 40 W per HBM4 stack streaming at 1638 GB/s, static and access together.
    assert rows["8 HBM4"]["memory_power_full_bw_w"] == pytest.approx(8 * full("hbm4", 1.638e12), abs=1)
    assert full("hbm4", 1.6384e12) == pytest.approx(40, rel=0.02)
    assert rows["4 HBM3E + 4 HBF"]["hbf_bytes_in_flight_mb"] == 4 * 40


def test_latency_only_the_routed_experts_wait(study):
    rows = {(r["memory_site"][:5], r["hbf_read_latency_us"]): r for r in table(study, "hbf-latency")}
    # Weights are read ahead; the routed experts (60 MoE layers of 61) wait for one HBF access per
    # step and layer. On a 1.0 TB/s site 40 MB in flight cover up to 40 us, so from 5 to 25 us the
    # batch-1 step grows by 60 x 20 us = 1.2 ms and nothing else.
    delta_ms = rows[("HBM3E", 25.0)]["decode_step_batch1_ms"] - rows[("HBM3E", 5.0)]["decode_step_batch1_ms"]
    assert delta_ms == pytest.approx(60 * 20e-6 * 1e3, abs=0.02)
    # Bytes a stack must have in flight to stream its site's bandwidth: 1.0 TB/s x 5 us = 5 MB;
    # 1.638 TB/s x 25 us = 41 MB.
    assert rows[("HBM3E", 5.0)]["bytes_in_flight_needed_per_stack_mb"] == pytest.approx(5.0, abs=0.05)
    assert rows[("HBM4-", 25.0)]["bytes_in_flight_needed_per_stack_mb"] == pytest.approx(41.0, abs=0.05)
    # At 50 us 40 MB in flight stream 0.8 TB/s per stack on either site: the interface no longer matters.
    for k in ("HBM3E", "HBM4-"):
        assert rows[(k, 50.0)]["read_ahead_tb_s_per_stack"] == pytest.approx(0.8)
    assert rows[("HBM3E", 50.0)]["decode_step_batch1_ms"] == pytest.approx(
        rows[("HBM4-", 50.0)]["decode_step_batch1_ms"], rel=0.01)


def test_page_amplification_by_hand(study):
    rows = [r for r in table(study, "hbf-page-size") if r["model"] == "moe-1t"]
    block = 16 * 576                                # 16 tokens x MLA latent x 1 B
    by_page = {r["page_kb"]: r for r in rows}
    assert by_page[4]["kv_read_amplification"] == pytest.approx(3 * 4096 / block, abs=0.01)    # 1.33
    assert by_page[64]["kv_read_amplification"] == pytest.approx(65536 / block, abs=0.01)      # 7.11
    # The extra HBF reads are the KV bytes times the extra amplification: batch 32 at the mean
    # context 8192 + 1024 / 2 = 8704 tokens, 35,136 B per token.
    kv = hbf.PAGE_BATCH * (hbf.ISL + hbf.OSL / 2) * 61 * 576
    extra = (by_page[64]["hbf_read_per_step_gb"] - by_page[4]["hbf_read_per_step_gb"]) * GB
    assert extra == pytest.approx(kv * (65536 / block - 3 * 4096 / block), rel=0.01)
    # Llama 3.1 405B's block: 16 tokens x 8 KV heads x 128 x 2 (K, V) x 1 B = 32 KB: 4 KB pages do not amplify.
    l405 = {r["page_kb"]: r for r in table(study, "hbf-page-size") if r["model"] == "llama-3.1-405b"}
    assert l405[4]["kv_read_amplification"] == 1.0 and l405[64]["kv_read_amplification"] == 2.0


def test_endurance_by_hand():
    m = hbf.moe_1t()
    s = hbf.scenario(4, 1, placement={"weights": "hbf", "kv_cache": "hbf"})
    a = hbf._sweep(s, -1)
    # Every request writes the KV of its 8192 + 1024 tokens once; requests finish at
    # output tokens/s / 1024.
    rate = float(a["output_tok_s"]) / hbf.OSL * (hbf.ISL + hbf.OSL) * m.kv_cache_bytes_per_token("fp8")
    assert float(a["tier1_write_bytes_per_s"]) == pytest.approx(rate, rel=1e-6)
    # lifetime = 2 TB x 100k cycles / write rate.
    days = 4 * 512e9 * 1e5 / rate / 86400
    assert float(a["tier1_lifetime_days"]) == pytest.approx(days, rel=1e-6)


def test_endurance_table_and_prefix_cache(study):
    rows = {r["what_is_written"]: r for r in table(study, "hbf-endurance")}
    daily = rows["prefix cache: 1 TB rewritten every day"]
    # 4 x 512 GB x 3,000 cycles / (1 TB per day) = 6,144 days = 16.8 years.
    assert daily["lifetime_at_3k_pe_years"] == pytest.approx(2.048 * 3000 / 365, rel=0.005)
    assert daily["write_mb_s"] == pytest.approx(1e12 / 86400 / 1e6, abs=0.05)


def test_operating_points_consistent(study):
    rows = table(study, "hbf-operating-points")
    one = next(r for r in rows if r["design"] == "4 HBM3E + 4 HBF" and r["chips"] == 1
               and r["operating_point"] == "batch 1")
    eight = next(r for r in rows if r["design"] == "8 HBM3E" and r["chips"] == 8
                 and r["operating_point"] == "batch 1")
    # Batch 1: one request's tokens per second over the chips that serve it.
    for r, n in ((one, 1), (eight, 8)):
        assert r["output_tok_s_per_chip"] == pytest.approx(1e3 / r["tpot_ms"] / n, rel=0.15)
    assert one["cost_usd_per_mtok"] is not None and one["cost_usd_per_mtok"] > 0
    assert np.isfinite(one["energy_j_per_token"])


def test_best_under_slo_rows_meet_the_slo_and_are_the_search_best(study):
    rows = table(study, "hbf-best-under-slo")
    keys = [(k, n) for k, n in ((r["design"], r["chips"]) for r in rows)]
    assert len(set(keys)) == len(keys) >= 5
    for r in rows:
        assert r["output_tok_s_per_chip"] is not None
        assert r["tpot_ms"] <= hbf.TPOT_SLO_S * 1e3          # every row meets the one SLO
        assert r["min_cost_usd_per_mtok"] <= r["cost_usd_per_mtok"] + 0.01
    # The single HBF chip, recomputed by brute force: its only mapping is tp1, so the best is the
    # largest tokens/s per chip over every batch that fits and meets the SLO (one predict each).
    # The search's grid is every batch to 64, then 12% apart; the brute force takes every batch.
    one = next(r for r in rows if r["design"] == "4 HBM3E + 4 HBF" and r["chips"] == 1)
    s = scenarios.scenario(4, 1)
    best = 0.0
    with np.errstate(all="ignore"):
        for b in range(1, 65):
            p = hbf.api.predict(s.replace(workload={"batch": b}))
            if p.fits and p.tpot_s <= hbf.TPOT_SLO_S:
                best = max(best, p.output_tok_s_per_chip)
    assert one["output_tok_s_per_chip"] == pytest.approx(best, abs=0.06)
    # The baseline, recomputed through llmhw.api.search directly (every mapping of its 8 chips).
    base = next(r for r in rows if r["design"] == "8 HBM3E")
    with np.errstate(all="ignore"):
        res = hbf.api.search(scenarios.scenario(0, base["chips"]), ["tpot_s<=0.05"], "output_tok_s_per_chip")
    assert base["output_tok_s_per_chip"] == pytest.approx(res.best["output_tok_s_per_chip"], abs=0.06)
    assert base["batch"] == res.best["batch"]
    # No fixed-mapping point (the operating-points table's 'best' row, one mapping) beats the search.
    for r in rows:
        fixed = next((o for o in table(study, "hbf-operating-points") if o["design"] == r["design"]
                      and o["chips"] == r["chips"] and o["operating_point"].startswith("best")), None)
        if fixed is not None:
            assert r["output_tok_s_per_chip"] >= fixed["output_tok_s_per_chip"] - 0.5


def test_best_under_slo_finding_follows_the_table(study):
    rows = table(study, "hbf-best-under-slo")
    text = next(f for f in study.findings if f.startswith("Each at its best mapping under the same SLO"))
    for site in {r["memory_site"] for r in rows}:
        pkg = [r for r in rows if r["memory_site"] == site]
        base = next(r for r in pkg if r["design"].startswith("8 "))
        for r in pkg:
            # The ratio column is tokens/s per chip over the package's DRAM-only design, and the
            # finding quotes it.
            assert r["ratio_vs_dram_only"] == pytest.approx(r["output_tok_s_per_chip"] / base["output_tok_s_per_chip"],
                                                            abs=0.006)
            assert f"{r['ratio_vs_dram_only']:.2f}x" in text
        ranked = sorted(pkg, key=lambda r: -r["output_tok_s_per_chip"])
        win, second = ranked[0], ranked[1]
        chips = f"{win['chips']} chip{'s' if win['chips'] > 1 else ''}"
        margin = win["output_tok_s_per_chip"] / second["output_tok_s_per_chip"]
        assert f"{win['design']} on {chips} wins, {margin:.2f}x the runner-up" in text
