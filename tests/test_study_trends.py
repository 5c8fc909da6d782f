"""RQ1 trends study: its key numbers against hand arithmetic from model configs and datasheets."""

import math

import pytest

from llmhw.hardware.catalog import chips
from llmhw.studies import style, trends
from llmhw.workload.catalog import load_model


@pytest.fixture(scope="module")
def study(study_of):
    return study_of("trends")


def _table(study, name):
    return next(t for t in study.tables if t.name == name).rows


def _row(rows, trend, hardware):
    return next(r for r in rows if r["trend"] == trend and r["hardware"] == hardware)


def test_study_shape(study):
    assert study.name == "trends"
    assert {f.name for f in study.figures} == {"roofline", "intensity_vs_ridge", "step_breakdown",
                                               "memory_capacity", "hardware_trend", "sram_only"}
    assert all(f.caption and f.figure is not None for f in study.figures)
    assert len(_table(study, "trends")) == len(trends.TRENDS) * len(trends.SYSTEMS)
    assert len(study.findings) >= 6


def test_figures_say_their_setup_and_the_study_its_answer(study):
    """Every figure names what was computed (a chip or model of the study) in a setup line short
    enough to sit above it, with no text under 8 pt; the summary is short and quotes numbers."""
    names = {style.label(c) for c, _ in trends.SYSTEMS} | {load_model(t.model).name for t in trends.TRENDS}
    assert not style.study_problems(study, names)


def test_ridge_points_are_peak_over_bandwidth():
    assert trends.ridge("h100-sxm") == pytest.approx(1979e12 / 3.35e12)      # 591 FLOP/B
    assert trends.ridge("b200") == pytest.approx(4500e12 / 8.0e12)           # 562
    assert trends.ridge("mi300x") == pytest.approx(2614.9e12 / 5.3e12)       # 493
    assert trends.ridge("tpu-v6e") == pytest.approx(918e12 / 1.638e12)       # 560: FP8 runs at the BF16 rate


def test_decode_intensity_at_batch_1_is_two_flops_per_weight_byte():
    """Llama 3.1 70B, FP8, TP8, batch 1 at the mean context of 1K in / 1K out (1,536 tokens):
    per chip, FLOPs = (2 x active params + attention) / 8; bytes = (weights read + KV) / 8."""
    m = load_model("llama-3.1-70b")
    ctx = 1024 + 512
    flops = 2 * m.active_params + 2 * 64 * (128 + 128) * ctx * 80           # 2 x 69.5 B + 4.0 GFLOP
    weights_read = m.total_params - 128256 * 8192                             # the embedding table is not read
    kv = 80 * 2 * 8 * 128 * ctx                                               # FP8: 1 byte per element
    hand = flops / (weights_read + kv)                                         # 2.05 FLOP/B
    b1 = trends.batch_sweep(batches=(1,))[0]
    assert b1["batch"] == 1 and b1["intensity"] == pytest.approx(hand, rel=0.02)
    assert hand == pytest.approx(2.05, abs=0.01)


def test_decode_intensity_at_batch_32(study):
    m = load_model("llama-3.1-70b")
    ctx, B = 1024 + 512, 32
    flops = B * (2 * m.active_params + 2 * 64 * 256 * ctx * 80)
    nbytes = (m.total_params - 128256 * 8192) + B * 80 * 2048 * ctx
    row = _row(_table(study, "trends"), "Chat (reference)", "hgx-h100-8")
    assert row["batch"] == B
    assert row["decode_intensity_flop_per_byte"] == pytest.approx(flops / nbytes, rel=0.03)   # ~58


def test_long_context_decode_approaches_gqa_attention_intensity(study):
    """At 128K the KV read dominates: per cached token per layer, 2 x 64 heads x (128 + 128)
    FLOPs over 8 KV heads x 2 x 128 bytes = 16 FLOP/B."""
    gqa = (2 * 64 * 256) / (8 * 2 * 128)
    assert gqa == 16
    row = _row(_table(study, "trends"), "Long context", "hgx-h100-8")
    assert gqa < row["decode_intensity_flop_per_byte"] < 1.4 * gqa
    # KV is most of the decode step's memory time
    assert row["decode_memory_kv_pct"] > 3 * row["decode_memory_weights_pct"]


def test_decode_below_ridge_prefill_above_except_moe(study):
    rows = _table(study, "trends")
    for r in rows:
        if r["trend"] == "Diffusion decoding":
            assert r["decode_intensity_flop_per_byte"] > r["ridge_flop_per_byte"]
            continue
        assert r["decode_intensity_flop_per_byte"] < r["ridge_flop_per_byte"] / 5, r
        if r["trend"] == "MoE":
            # 1,024 prompt tokens x 8 of 256 experts = 32 tokens per expert GEMM: below the ridge
            assert r["prefill_intensity_flop_per_byte"] < r["ridge_flop_per_byte"]
        else:
            assert r["prefill_intensity_flop_per_byte"] > r["ridge_flop_per_byte"], r


def test_diffusion_step_amortizes_one_weight_read_over_the_block(study):
    """32 positions per request per step: ~32x the FLOPs of an autoregressive step on about the
    same bytes, so ~18x the intensity at batch 32 (the KV of the context is read once)."""
    rows = _table(study, "trends")
    ar = _row(rows, "Chat (reference)", "hgx-h100-8")
    diff = _row(rows, "Diffusion decoding", "hgx-h100-8")
    ratio = diff["decode_intensity_flop_per_byte"] / ar["decode_intensity_flop_per_byte"]
    assert 12 < ratio < 32


def test_memory_capacity_decides_the_chip_count(study):
    ds = load_model("deepseek-v3")
    assert ds.weight_bytes("fp8") > 0.9 * 8 * 80e9            # 671 GB > 576 GB usable on 8 x H100
    rows = _table(study, "trends")
    assert _row(rows, "MoE", "h100-sxm")["chips"] == 16
    assert _row(rows, "MoE", "dgx-b200-8")["chips"] == 8       # 8 x 180 GB holds it
    assert _row(rows, "MoE", "tpu-v6e")["chips"] == 32         # 671 GB > 16 x 32 GB x 0.9
    mem = {r["trend"]: r for r in _table(study, "memory")}
    # 32 requests x 131,072 tokens x 80 layers x 2 x 8 heads x 128 x 1 B
    assert mem["Long context"]["kv_at_batch_gb"] == pytest.approx(32 * 131072 * 80 * 2048 / 1e9)
    # 8 x H100 hold floor((0.9 x 640 GB - 70.6 GB - activations) / 21.5 GB) = 23 requests at 128K
    lc = _row(rows, "Long context", "hgx-h100-8")
    assert lc["max_batch"] == math.floor((0.9 * 640e9 - load_model("llama-3.1-70b").total_params) / (131072 * 163840))


def test_hardware_trend_endpoints():
    """K20X (2012): 1.31 TFLOP/s FP64, 250 GB/s. H100 SXM (2022): 66.9 FP64 (tensor), 33.5 vector,
    3.35 TB/s. The paper says 80X and 17X."""
    rows = {r["id"]: r for r in trends.generations()}
    assert chips()["k20x"].flops()["fp64"] == pytest.approx(1.31e12)
    assert chips()["h100-sxm"].flops()["fp64"] == pytest.approx(66.9e12)
    h = rows["h100-sxm"]
    assert h["fp64_growth_x"] == pytest.approx(66.9 / 1.31)             # 51X
    assert h["fp64_vector_growth_x"] == pytest.approx(33.5 / 1.31)      # 26X
    assert h["bandwidth_growth_x"] == pytest.approx(3350 / 250)         # 13.4X
    assert h["sixteen_bit_growth_x"] == pytest.approx(989.4 / 3.95)     # 250X
    assert [r["year"] for r in trends.generations()] == sorted(r["year"] for r in trends.generations())
    assert rows["k20x"]["year"] == 2012 and h["year"] == 2022


def test_sram_only_chip_count_and_hops():
    m = load_model("llama-3.1-70b")
    r = trends.sram_chips_needed("llama-3.1-70b", "groq-lpu", 4096)
    weights = m.total_params * 1.0                                         # FP8
    kv = 4096 * 80 * 2 * 8 * 128
    assert r["chips"] == math.ceil((weights + kv) / 230e6) == 310
    assert r["pipeline_hops"] == r["chips"] - 1
    assert trends.sram_chips_needed("llama-3.1-70b", "cerebras-wse3", 4096)["chips"] == math.ceil((weights + kv) / 44e9)
    t = trends.sram_time_per_token("llama-3.1-70b", "groq-lpu", 8192, 1e-6)
    nbytes = weights + 8192 * 80 * 2048
    assert t["memory_s"] == pytest.approx(nbytes / 80e12)                 # the chips take turns: one chip's bandwidth
    assert t["hop_s"] == pytest.approx(t["hops"] * 1e-6)


def test_study_trends_writes_its_report(tmp_path):
    from llmhw.report import run_studies

    res = run_studies("trends", tmp_path, progress=False)
    assert res.ok and res.outcome == {"trends": "ok"}
    d = tmp_path / "trends"
    for name in ("roofline", "intensity_vs_ridge", "step_breakdown", "memory_capacity", "hardware_trend", "sram_only"):
        assert (d / f"{name}.png").stat().st_size > 10_000 and (d / f"{name}.svg").is_file()
    for name in ("systems", "trends", "memory", "hardware_trend", "sram_only"):
        assert (d / f"{name}.csv").is_file()
    assert "RQ1" in (tmp_path / "index.html").read_text()


def test_compared_to_training(study):
    """RQ1's contrast: the same chip runs a training step above its ridge at a large share of peak
    and decode far below it; training's collectives are bandwidth-bound, decode's latency-bound;
    training keeps 2 + 2 + 12 = 16 bytes of model state per parameter, FP8 inference 1."""
    train, train_fp8, prefill, decode = _table(study, "training_vs_inference")
    assert train["intensity_flop_per_byte"] > train["ridge_flop_per_byte"] > decode["intensity_flop_per_byte"]
    assert train["ridge_flop_per_byte"] == pytest.approx(989e12 / 3.35e12, rel=0.01)      # H100 BF16 / HBM3
    assert train["share_of_peak_pct"] > 10 * decode["share_of_peak_pct"]
    assert train["compute_bound_pct"] > 50 and decode["compute_bound_pct"] < 5
    # Decode's TP all-reduce carries batch x hidden bf16 values: 32 x 8,192 x 2 B.
    assert decode["message_mb"] == pytest.approx(32 * 8192 * 2 / 1e6)
    assert decode["latency_share_pct"] > 50 > 10 > train["latency_share_pct"]
    assert train["message_mb"] > 100 * decode["message_mb"]
    # 16 B per parameter, a little over for the heaviest pipeline stage (the embeddings or head).
    assert 16 <= train["state_bytes_per_param"] < 17.5
    assert decode["state_bytes_per_param"] == pytest.approx(1.0, rel=0.02)                 # FP8 weights
    assert 1 < decode["memory_bytes_per_param"] < 2 < 16 < train["memory_bytes_per_param"]
    assert train_fp8["share_of_peak_pct"] < train["share_of_peak_pct"]    # MFU against the FP8 peak


def test_directions_help_training_and_inference_differently(study):
    rows = {r["what_if"].split(" (")[0].split(",")[0]: r for r in _table(study, "directions_training_vs_inference")}
    wide, fast = rows["twice the links per chip"], rows["software base 1 us per collective"]
    # Bandwidth helps the bandwidth-bound side more, latency the latency-bound side.
    assert -wide["training_step_change_pct"] > -fast["training_step_change_pct"]
    assert -fast["tpot_change_pct"] > -wide["tpot_change_pct"]
    pnm = rows["PNM logic on the HBM"]
    assert pnm["training_step_change_pct"] is None and pnm["tpot_batch1_change_pct"] < 0
    # HBF: what training writes every micro-batch wears flash out in weeks; inference's weights last.
    hbf = {r["data"].split(" ")[0]: r for r in _table(study, "hbf_writes_training_vs_inference")}
    assert hbf["gradients"]["lifetime_days"] < 365 < hbf["KV"]["lifetime_days"] < hbf["weights"]["lifetime_days"]
    # Lifetime = 512 GB x 100k cycles / write rate.
    r = hbf["optimizer"]
    assert r["lifetime_days"] == pytest.approx(512e9 * 1e5 / (r["write_mb_s_per_chip"] * 1e6) / 86400)
