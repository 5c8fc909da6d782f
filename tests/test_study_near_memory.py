"""RQ3a study (PIM vs PNM): its key numbers against hand arithmetic."""

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from llmhw.hardware.catalog import near_memory_presets  # noqa: E402
from llmhw.hardware.near_memory import kv_head_item, shard_fit  # noqa: E402
from llmhw.studies import near_memory as nm  # noqa: E402

GB = 1e9
# Llama 3.1 70B at TP 8, per chip, in parameters: per layer qkv 1280 x 8192, o 8192 x 1024, FFN
# 3 x 8192 x 3584; 80 layers; LM head 128,256 / 8 x 8192.
LAYER = 1280 * 8192 + 8192 * 1024 + 3 * 8192 * 3584
LINEAR_PARAMS = 80 * LAYER + 16032 * 8192


@pytest.fixture(scope="module")
def study():
    return nm.run()


def rows(study, name):
    return next(t for t in study.tables if t.name == name).rows


def test_study_shape(study):
    assert study.name == "near_memory"
    assert 2 <= len(study.figures) <= 4 and all(f.caption for f in study.figures)
    assert len(study.findings) >= 5


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
    # At the preset's 4x (13.4 TB/s inside the banks) the same step reads 17.4 GB per chip: at least
    # 17.4 GB / 13.4 TB/s = 1.3 ms, and at the engine's memory efficiency (at most 0.80) above that.
    a = nm._sweep(nm.scenario("pim-hbm"), np.array([1]))
    t = float(a["decode_near_memory_s"][0])
    floor = 2 * LINEAR_PARAMS / (4 * 3.35e12)
    assert floor <= t <= floor / 0.75 + 400 * 100e-9
    d = {r["design"]: r for r in rows(study, "near-memory-designs")}
    assert d[nm.LABELS["pim-hbm"]]["tpot_b1_ms"] < 0.6 * d[nm.LABELS[None]]["tpot_b1_ms"]
    # Batch 16: PIM's 13 TFLOP/s cannot beat the GPU, so nothing is offloaded and TPOT is HBM's.
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
