"""RQ3a study (PIM vs PNM): its key numbers against hand arithmetic."""

import re

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from llmhw import api  # noqa: E402
from llmhw.hardware.catalog import near_memory_presets  # noqa: E402
from llmhw.hardware.near_memory import kv_head_item, shard_fit  # noqa: E402
from llmhw.studies import near_memory as nm  # noqa: E402
from llmhw.studies import style  # noqa: E402

GB = 1e9
# Llama 3.1 70B at TP 8, per chip, in parameters: per layer qkv 1280 x 8192, o 8192 x 1024, FFN
# 3 x 8192 x 3584; 80 layers; LM head 128,256 / 8 x 8192.
LAYER = 1280 * 8192 + 8192 * 1024 + 3 * 8192 * 3584
LINEAR_PARAMS = 80 * LAYER + 16032 * 8192


@pytest.fixture(scope="module")
def study(study_of):
    return study_of("near_memory")


def rows(study, name):
    return next(t for t in study.tables if t.name == name).rows


def test_study_shape(study):
    assert study.name == "near_memory"
    assert 2 <= len(study.figures) <= 4 and all(f.caption for f in study.figures)
    assert len(study.findings) >= 5


def test_figures_say_their_setup_and_the_study_its_answer(study):
    """Every figure names its model or system in a setup line that fits above it, no text under
    8 pt; the summary is short and quotes numbers."""
    assert not style.study_problems(study, {"Llama 3.1 70B", "H100", "DeepSeek-V3"})


def test_pim_compute_bound_at_high_multiplier():
    # HBM-PIM: 1.2 TFLOP/s fp16 per 307.2 GB/s device; an H100's 3.35 TB/s tier holds 10.9 of them.
    peak = 1.2e12 * 3.35e12 / 307.2e9
    assert peak == pytest.approx(13.09e12, rel=1e-3)
    a = nm._sweep(nm.scenario("pim-hbm", 32), np.array([1]))
    # At 32x internal bandwidth (107 TB/s) the batch-1 GEMVs are compute-bound:
    # 2 FLOP per parameter of every linear layer on the chip / peak (+ 100 ns HBM latency per operator).
    expect = 2 * LINEAR_PARAMS / peak
    assert expect == pytest.approx(1.33e-3, rel=0.01)
    assert float(a["decode_near_memory_s"][0]) == pytest.approx(expect, rel=0.03)


def test_pim_bandwidth_bound_at_preset(study):
    # At the preset's 4x (13.4 TB/s inside the banks) the same step reads 17.4 GB per chip: no
    # efficiency can take it below 17.4 GB / 13.4 TB/s = 1.3 ms.
    a = nm._sweep(nm.scenario("pim-hbm"), np.array([1]))
    t = float(a["decode_near_memory_s"][0])
    floor = 2 * LINEAR_PARAMS / (4 * 3.35e12)
    assert t >= floor
    d = {r["design"]: r for r in rows(study, "near-memory-designs")}
    # Batch 1 reads every weight once: 4x the bandwidth behind the same interface is faster.
    assert d[nm.LABELS["pim-hbm"]]["tpot_b1_ms"] < d[nm.LABELS[None]]["tpot_b1_ms"]
    # Batch 16: PIM needs 2 x 16 x 8.8 G FLOP / 13.1 TFLOP/s = 21 ms per step for the linear layers,
    # the GPU reads them in 17.6 GB / 3.35 TB/s = 5.3 ms: nothing is offloaded and TPOT is HBM's.
    assert 2 * 16 * LINEAR_PARAMS / 13.09e12 > 3 * 2 * LINEAR_PARAMS / 3.35e12
    assert d[nm.LABELS["pim-hbm"]]["tpot_b16_ms"] == d[nm.LABELS[None]]["tpot_b16_ms"]


def test_memory_energy_per_token_by_hand(study):
    d = {r["design"]: r for r in rows(study, "near-memory-designs")}
    # Batch 1: every token, 8 chips each read their 17.4 GB of linear weights (+ a 1k-token KV cache),
    # at 3.9 pJ/bit from HBM3, 1.1 pJ/bit inside HBM-PIM.
    bits = 8 * 2 * LINEAR_PARAMS * 8
    assert d[nm.LABELS[None]]["decode_memory_b1_j_per_token"] == pytest.approx(bits * 3.9e-12, rel=0.02)
    assert d[nm.LABELS["pim-hbm"]]["decode_memory_b1_j_per_token"] == pytest.approx(bits * 1.1e-12, rel=0.02)


def test_pim_capacity_loss_by_hand(study):
    d = {r["design"]: r for r in rows(study, "near-memory-designs")}
    # KV per request per chip: 2048 tokens x 80 layers x 1 KV head x 128 x 2 (K, V) x 2 B = 83.9 MB.
    kv = 2048 * 80 * 128 * 2 * 2
    weights = 2 * (LINEAR_PARAMS + 16032 * 8192)          # + the embedding slice
    for label, cap in ((nm.LABELS[None], 80 * GB), (nm.LABELS["pim-hbm"], 80 * GB * 0.75)):
        assert d[label]["max_batch"] == pytest.approx((0.9 * cap - weights) / kv, rel=0.02)


def test_shard_map_by_hand(study):
    by = {r["model"]: r for r in rows(study, "near-memory-shard-map")}
    # One request's KV head in a 32 MB bank: 32e6 / (2 x 128 x 2 B) tokens (GQA, BF16); MLA's latent
    # is 576 wide and stored once: 32e6 / 1152; gpt-oss's heads are 64 wide: 32e6 / 256.
    assert by["llama-3.1-70b"]["max_context_in_32mb_bank_tokens"] == 62500
    assert by["deepseek-v3"]["max_context_in_32mb_bank_tokens"] == 32_000_000 // 1152
    assert by["gpt-oss-120b"]["max_context_in_32mb_bank_tokens"] == 125000
    assert by["llama-3.1-70b"]["max_context_in_48gb_pnm_tokens"] == 48_000_000_000 // 512
    # Consistent with shard_fit: 8k tokens map (4.2 MB), 128k do not (67 MB), as the engine decides.
    pim = near_memory_presets()["pim-hbm"]
    f8k, f128k = shard_fit(pim, {"a": kv_head_item(8192, 128, 2), "b": kv_head_item(131072, 128, 2)})
    for r in by.values():
        assert r["engine_pim_attention_8k"] is True and r["engine_pim_attention_128k"] is False
    assert f8k.fits and not f128k.fits
    # Weights split by rows always map; 70B at TP 8 fills ceil(17.66 GB / 32 MB) banks; whole, its
    # qkv (21 MB) and o (16.8 MB) slices fit a bank, the FFN (58.7 MB) and LM head (263 MB) do not.
    r70 = by["llama-3.1-70b"]
    assert r70["weights_map_to_pim_rows_split"] and r70["weights_map_to_pnm_whole"]
    assert r70["pim_banks_for_weights"] == int(np.ceil(2 * (LINEAR_PARAMS + 16032 * 8192) / 32e6))
    assert r70["matrix_types_fitting_one_pim_bank_whole"] == "2/4"
    assert r70["largest_matrix_mb"] == pytest.approx(16032 * 8192 * 2 / 1e6, abs=0.1)


# ------------------------------------------------------------------ like with like
@pytest.fixture(scope="module")
def cands():
    return nm._fair_search()


def test_designs_share_interface_and_envelope(study, cands):
    # Every design keeps the H100's HBM3 tier (3.35 TB/s) and its TDP as the power envelope, at
    # every mapping the search tries (candidates() asserts it per mapping).
    bws = {c.interface_bandwidth for c in cands.values()}
    caps = {c.power_cap_w for c in cands.values()}
    assert bws == {3.35e12}
    assert len(caps) == 1 and None not in caps
    assert caps == {api.economics_constants(nm.scenario(None)).power_cap_w}
    for name in ("near-memory-designs", "near-memory-fair"):
        assert {r["interface_bandwidth_tb_s_per_chip"] for r in rows(study, name)} == {3.35}
    assert {r["power_envelope_w_per_chip"] for r in rows(study, "near-memory-fair")} == caps


def test_best_mapping_is_the_api_argmax(cands):
    # Independently of the study's bookkeeping: price every mapping x batch through the public API
    # and take the best feasible point; the study's choice must reach the same figure.
    for tech, c in cands.items():
        pts = []
        for par in nm.MAPPINGS:
            s = nm.scenario(tech, parallelism=par)
            cap = api.economics_constants(s).power_cap_w
            with np.errstate(all="ignore"):
                a = api.sweep_economics(s, batch=nm.SEARCH_BATCHES)
            for k in range(len(nm.SEARCH_BATCHES)):
                if a["fits"][k] and a["batch"][k] >= 1 and a["power_w_per_chip_model"][k] <= cap:
                    pts.append((float(a["tpot_s"][k]), float(a["output_tok_s_per_chip"][k])))
        for target in nm.TPOT_TARGETS_S:
            i = nm.best_index(c, target)
            if target is None:
                assert c.a["tpot_s"][i] == pytest.approx(min(t for t, _ in pts), rel=1e-12)
                continue
            ok = [y for t, y in pts if t <= target]
            if not ok:
                assert i is None
            else:
                assert c.a["output_tok_s_per_chip"][i] == pytest.approx(max(ok), rel=1e-12)
                assert c.a["tpot_s"][i] <= target


def _fake(tpot, tok, power, fits, cap=100.0):
    n = len(tpot)
    a = {"tpot_s": np.array(tpot, float), "output_tok_s_per_chip": np.array(tok, float),
         "power_w_per_chip_model": np.array(power, float), "fits": np.array(fits, bool),
         "batch": np.arange(1, n + 1, dtype=float)}
    return nm.Candidates("x", ["m"] * n, a, 1e12, cap)


def test_best_index_rules():
    # Point 2 has the most throughput but breaks the power envelope, point 3 does not fit:
    # the best within 50 ms is point 1; the lowest TPOT among feasible points is point 0.
    c = _fake(tpot=[0.01, 0.04, 0.045, 0.03], tok=[10, 40, 90, 80], power=[50, 90, 120, 60],
              fits=[True, True, True, False])
    assert nm.best_index(c, 0.05) == 1
    assert nm.best_index(c, None) == 0
    assert nm.best_index(c, 0.005) is None
    t, y = nm.frontier(c)
    assert list(t) == [0.01, 0.04] and list(y) == [10, 40]
    # No cap: the envelope check is skipped.
    assert nm.best_index(_fake([0.01, 0.04], [10, 40], [50, 500], [True, True], cap=None), 0.05) == 1


def test_frontier_dominates_every_feasible_point(cands):
    for c in cands.values():
        t, y = nm.frontier(c)
        assert np.all(np.diff(t) >= 0) and np.all(np.diff(y) >= 0)
        ok = nm.feasible(c)
        for tt, yy in zip(c.a["tpot_s"][ok], c.a["output_tok_s_per_chip"][ok], strict=True):
            assert np.any((t <= tt) & (y >= yy))


def test_fair_table_ratios_and_verdict_follow_the_numbers(study):
    fair = rows(study, "near-memory-fair")
    by = {(r["objective"], r["design"]): r for r in fair}
    gains = {}
    for target in nm.TPOT_TARGETS_S:
        o = nm.objective_label(target)
        h = by[o, nm.LABELS[None]]
        for tech in nm.TECHS:
            r = by[o, nm.LABELS[tech]]
            want = h["tpot_ms"] / r["tpot_ms"] if target is None else r["tok_s_per_chip"] / h["tok_s_per_chip"]
            assert r["gain_vs_hbm_x"] == pytest.approx(want, rel=0.01)      # rows are rounded
            if target is not None:
                assert r["tpot_ms"] <= target * 1e3
        gains[target] = by[o, nm.LABELS["pim-hbm"]]["gain_vs_hbm_x"]
    text = next(f for f in study.findings if f.startswith("Like with like"))
    thr = [g for t, g in gains.items() if t is not None]
    assert nm.verdict("PIM", gains[None], thr) in text
    # The numbers quoted are the table's.
    for r in fair:
        if r["feasible"] and r["tpot_target_ms"] is not None:
            assert f"{r['tok_s_per_chip']:.0f} tokens/s per chip ({r['mapping']}, batch {r['batch']}" in text
    cap = next(f for f in study.figures if f.name == "near-memory-frontier").caption
    assert [float(x) for x in re.findall(r"([\d.]+)x HBM", cap)] == pytest.approx(list(gains.values()), abs=0.006)


def test_same_batch_verdicts_follow_the_numbers(study):
    d = {r["design"]: r for r in rows(study, "near-memory-designs")}
    hbm, pnm = d[nm.LABELS[None]], d[nm.LABELS["pnm-hbm"]]
    text = next(f for f in study.findings if f.startswith("Same batch, batch 1"))
    r = hbm["tpot_b1_ms"] / pnm["tpot_b1_ms"]
    assert ("PNM on the base die at 1x is as fast as HBM" in text) == (abs(r - 1) <= 0.02)
    assert nm._compare(1.0) == "as fast as" and nm._compare(2.0) == "2.00x faster than"
    assert nm._compare(0.5) == "2.00x slower than"


def test_verdict_rules():
    assert nm.verdict("X", 1.8, [0.95, 0.97]).startswith("X's advantage is a latency one: 1.80x lower TPOT")
    assert nm.verdict("X", 1.8, [1.0, 1.01]).startswith("X's advantage is a latency one")
    assert nm.verdict("X", 1.8, [1.2, 1.3]).startswith("X wins at every objective")
    assert nm.verdict("X", 1.0, [1.0, 0.99]).startswith("X matches HBM at every objective")
    assert nm.verdict("X", 0.9, [0.9, 0.95]).startswith("X gains nothing")
    assert nm.verdict("X", 0.9, [1.3, 1.2]).startswith("for X the ranking depends on the objective")
    assert "cannot be ranked" in nm.verdict("X", None, [1.0])


def test_saturation_multiplier():
    # TPOT over MULTIPLIERS 1..32: halves until 4x, then flat: bandwidth stops binding beyond 4x.
    assert nm.saturation_multiplier(np.array([8.0, 4.0, 2.0, 2.0, 2.0, 2.0])) == 4.0
    assert nm.saturation_multiplier(np.array([32.0, 16.0, 8.0, 4.0, 2.0, 1.0])) is None
    assert nm.saturation_multiplier(np.array([5.0, 5.0, 5.0, 5.0, 5.0, 5.0])) == 1.0
