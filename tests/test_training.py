"""A training step (issue 17, docs/training.md) against hand-derived numbers."""

from __future__ import annotations

import pytest
from tests.robustness.harness import assert_refused, run_cli, strict_json

import llmhw
from llmhw.core.errors import LlmhwError
from llmhw.workload.model import ModelSpec

# A tiny MHA model, 4 layers, hidden 64, 4 heads of 16, a plain (ungated) FFN of 256, vocabulary 128.
# Per layer: attention 4 x 64 x 64 = 16,384; FFN 2 x 64 x 256 = 32,768; two norms 128: 49,280.
# Active (per token): 4 x 49,280 + final norm 64 + LM head 128 x 64 = 205,376.
# Stored: 4 x 49,280 + embedding 8,192 + LM head 8,192 + final norm 64 = 213,568.
TINY = ModelSpec(id="tiny", n_layers=4, hidden_size=64, n_heads=4, n_kv_heads=4, head_dim=16, intermediate_size=256,
                 gated_ffn=False, vocab_size=128, max_context=1024, layer_attention=("full",) * 4,
                 layer_ffn=("dense",) * 4)
ACTIVE, TOTAL = 205_376, 213_568


def scenario(par: dict, **training: object) -> dict:
    n = par.get("tp", 1) * par.get("pp", 1) * par.get("dp", 1)
    t = {"sequence_length": 8, "global_batch_sequences": 16, "micro_batch": 1, **training}
    return {"model": TINY, "hardware": "h100-sxm", "n_chips": n, "parallelism": par, "training": t}


def test_parameter_counts_of_the_tiny_model() -> None:
    assert (TINY.active_params, TINY.total_params) == (ACTIVE, TOTAL)


@pytest.mark.parametrize("recompute", ["none", "selective", "full"])
def test_step_flops_forward_backward_recompute(recompute: str) -> None:
    r = llmhw.train(scenario({}, recompute=recompute))
    T = 16 * 8
    # Attention: 2 x 4 heads x (16 + 16) = 256 FLOPs per (query, key) pair and layer; a causal
    # sequence of 8 keeps 8 x 9 / 2 = 36 pairs per layer, 144 over 4 layers: 144 x 256 / 8 = 4,608 per token.
    fwd = T * (2 * ACTIVE + 4_608)
    assert r.flops.forward == pytest.approx(fwd)
    assert r.flops.backward == pytest.approx(2 * fwd)
    extra = {"none": 0, "selective": T * 4_608, "full": fwd}[recompute]
    assert r.flops.recompute == pytest.approx(extra)
    # Model FLOPs count every pair: 256 x 8 keys x 4 layers = 8,192 per token, x3 for fwd + bwd.
    assert r.flops.model == pytest.approx(3 * T * (2 * ACTIVE + 8_192))


@pytest.mark.parametrize(("zero", "per_param"), [(0, 16.0), (1, 2 + 2 + 12 / 4), (2, 2 + 2 / 4 + 12 / 4),
                                                  (3, 16 / 4)])
def test_adam_mixed_precision_bytes_and_zero_stages(zero: int, per_param: float) -> None:
    r = llmhw.train(scenario({"dp": 4}, zero=zero))
    m = r.memory
    assert m.weights + m.gradients + m.optimizer == pytest.approx(per_param * TOTAL)


def test_sgd_keeps_one_state() -> None:
    m = llmhw.train(scenario({}, optimizer="sgd")).memory
    assert m.weights + m.gradients + m.optimizer == pytest.approx((2 + 2 + 8) * TOTAL)


def test_activations_full_recompute_keep_the_layer_inputs() -> None:
    # Full recompute keeps 2h bytes per token and layer (bf16 input), plus one layer's set while it
    # is recomputed: QKV input 2h + Q, K, V 6h + projection input 2h + FFN 2h + 4 x 256 + norms 4h.
    m = llmhw.train(scenario({}, recompute="full")).memory
    bs, h = 8, 64
    one_layer = 2 * h + 6 * h + 2 * h + 2 * h + 4 * 256 + 4 * h
    assert m.activations == pytest.approx(4 * bs * 2 * h + bs * one_layer)


@pytest.mark.parametrize(("schedule", "v"), [("1f1b", 1), ("interleaved", 2)])
def test_pipeline_bubble(schedule: str, v: int) -> None:
    p, m = 2, 8
    r = llmhw.train(scenario({"pp": p}, global_batch_sequences=m, pipeline_schedule=schedule, virtual_stages=v))
    c = r.cost
    assert r.micro_batches == m
    assert c.bubble_s / (c.step_time_s - c.memory_s) == pytest.approx((p - 1) / (v * m + p - 1))


def test_breakdown_sums_and_mfu_identity() -> None:
    r = llmhw.train(scenario({"tp": 2, "pp": 2, "dp": 2}, recompute="selective", zero=1))
    c = r.cost
    assert c.compute_s + c.communication_s + c.memory_s + c.bubble_s == pytest.approx(c.step_time_s)
    peak = r.scenario.chip.flops()["bf16"]
    assert r.mfu * 8 * peak * r.step_time_s == pytest.approx(r.flops.model)
    assert r.tokens_per_s * r.step_time_s == pytest.approx(16 * 8)
    d = r.to_dict()
    assert d["energy_per_token_j"] > 0 and d["memory_per_chip"]["fits"]


def test_megatron_gpt3_175b_against_its_measured_iteration() -> None:
    """Korthikanti et al. 2022 measured 13.75 s per iteration for GPT-3 175B on 64 A100s (tp 8,
    pp 8, 3 virtual stages, batch 64 of 2,048 tokens, sequence parallelism and selective
    recompute). The megatron engine's GEMM efficiency is fitted on rows including this one, so
    this checks the whole chain (shapes, FLOPs, bubble, TP messages) lands near it, not accuracy."""
    from llmhw.validation.training import load_training_cases
    gpt3 = next(c for c in load_training_cases() if c.label.startswith("gpt3-175b") and "selective" in c.label)
    r = llmhw.train(gpt3.scenario)
    assert r.step_time_s == pytest.approx(13.75, rel=0.15)
    assert r.fits


def test_bad_blocks_name_their_field() -> None:
    with pytest.raises(LlmhwError, match="training.micro_batch"):
        llmhw.train(scenario({"dp": 2}, micro_batch=3))
    with pytest.raises(LlmhwError, match="training.global_batch_tokens"):
        llmhw.train(scenario({}, global_batch_sequences=None, global_batch_tokens=12))
    with pytest.raises(LlmhwError, match="training.zero"):
        llmhw.train(scenario({}, zero=4))


def test_cli_train(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "t.yaml"
    f.write_text("model: llama-3.2-1b\nhardware: h100-sxm\nn_chips: 2\nparallelism: {dp: 2}\n"
                 "training: {sequence_length: 2048, global_batch_tokens: 16384, micro_batch: 2}\n")
    res = run_cli(capsys, "train", f, "--json")
    assert res.code == 0, res.stderr
    d = strict_json(res.stdout)
    assert d["micro_batches"] == 2 and 0 < d["mfu"] < 1
    f.write_text(f.read_text().replace("micro_batch: 2", "micro_batch: 3"))
    assert_refused(run_cli(capsys, "train", f), "training.micro_batch")


def test_context_parallel_splits_activations_and_exchanges_kv() -> None:
    # cp = 2 over a sequence of 8: each chip keeps 4 tokens' activations, so half the bytes; and
    # per layer exchanges its K and V (2 x 4 heads x 16 = 128 values per token, bf16) three times.
    base = llmhw.train(scenario({"dp": 2}, recompute="selective"))
    r = llmhw.train({**scenario({"dp": 2, "cp": 2}, recompute="selective"), "n_chips": 4})
    assert r.memory.activations == pytest.approx(base.memory.activations / 2)
    assert r.to_dict()["parallelism"]["cp"] == 2 and r.to_dict()["parallelism"]["dp"] == 2
    from llmhw.accounting.training import degrees, training_messages
    msgs = training_messages(TINY, r.training, degrees(1, 1, 4, 1, 2), r.micro_batches)
    cp = msgs["cp"]
    assert (cp.kind, cp.group, cp.count) == ("all_gather", 2, 3 * 4)
    assert cp.bytes == pytest.approx(1 * 4 * 128 * 2)
    # Gradients are reduced over the dp x cp = 4 chips that hold the same weights.
    assert msgs["dp"].group == 4
    # The FLOPs of the step do not change; the cp group holds the same weights (ZeRO over dp x cp).
    assert r.flops.executed == pytest.approx(base.flops.executed)


def test_context_parallel_refusals_name_their_field() -> None:
    with pytest.raises(LlmhwError, match="n_chips.*tp x pp x dp x cp"):
        llmhw.train(scenario({"dp": 2, "cp": 2}))
    with pytest.raises(LlmhwError, match="training.context_parallel"):
        llmhw.train({**scenario({"cp": 8}), "n_chips": 8})      # 8 tokens cannot split into 2 x 8 chunks


def test_gemm_efficiency_what_if_scales_the_gemm_time() -> None:
    # Halving the GEMM efficiency doubles the GEMM part of a micro-batch's forward and nothing else.
    a = llmhw.train(scenario({}), gemm_eff=0.8)
    b = llmhw.train(scenario({}), gemm_eff=0.4)
    pa, pb = a.cost.compute_parts_s, b.cost.compute_parts_s
    assert pb["gemm"] == pytest.approx(2 * pa["gemm"])
    assert (pb["attention"], pb["elementwise"]) == pytest.approx((pa["attention"], pa["elementwise"]))
    with pytest.raises(LlmhwError, match="gemm_eff"):
        llmhw.train(scenario({}), gemm_eff=1.5)
    with pytest.raises(LlmhwError, match="training.engine"):
        llmhw.train(scenario({}, engine="deepspeed"))


def test_elementwise_traffic_by_hand() -> None:
    # Forward element-wise traffic: each stored activation byte read and written once. The tiny
    # model keeps (selective) 2h + 6h + 2h (attention) + 2h + 4 x 256 (FFN) + 4h (norms) = 16h + 1,024
    # = 2,048 bytes per token and layer; 16 sequences x 8 tokens x 4 layers, on H100's 3.35 TB/s at
    # the nvidia-gpu family's memory_eff.
    r = llmhw.train(scenario({}))
    from llmhw.api import family_params
    fp = family_params("nvidia-gpu")
    per_mb = 2 * 2_048 * 8 * 4
    assert r.cost.compute_parts_s["elementwise"] == pytest.approx(
        per_mb / (r.scenario.chip.memory_bandwidth_bytes_per_s * fp.memory_eff))


@pytest.mark.parametrize("recompute", ["selective", "full"])
def test_hbm_traffic_per_step_by_hand(recompute: str) -> None:
    # 16 micro-batches of one 8-token sequence on one chip; the tiny model stores 213,568 parameters.
    # Per micro-batch: bf16 weights read in the forward and for the input gradients (and once more
    # in a fully recomputed forward), bf16 gradients read and added to; activations: the forward's
    # element-wise traffic (2 x 2,048 B per token and layer, see above) x 3 (backward twice the
    # forward), x 4 under full recompute. Once per step Adam reads and writes its states: master 4 +
    # moments 8 read and written, the gradient 2 read and the bf16 weight 2 written: 14 + 14 bytes.
    r = llmhw.train(scenario({}, recompute=recompute))
    tr, m = r.traffic, 16
    passes = 3 if recompute == "full" else 2
    assert tr.weight_reads == pytest.approx(m * passes * 2 * TOTAL)
    assert tr.gradient_reads == tr.gradient_writes == pytest.approx(m * 2 * TOTAL)
    act = m * 2 * 2_048 * 8 * 4 * (4 if recompute == "full" else 3)
    assert tr.activation_reads + tr.activation_writes == pytest.approx(act)
    assert tr.optimizer_reads + tr.optimizer_writes == pytest.approx(28 * TOTAL)
    # Stored for the backward, once per micro-batch: 2,048 B per token and layer (selective), the
    # layer inputs' 2h = 128 B under full recompute.
    assert tr.stash_writes == pytest.approx(m * 8 * 4 * (128 if recompute == "full" else 2_048))
    assert r.intensity == pytest.approx(r.flops.executed / tr.total)


def test_collectives_split_latency_from_bandwidth() -> None:
    # A collective's latency share is its time with one byte over its time: a TP all-reduce of the
    # tiny model's 8 x 64 bf16 values (1 KB) is almost all latency, a DP reduce-scatter of a 70B
    # model's gradients almost all bandwidth.
    tiny = llmhw.train(scenario({"tp": 2}))
    tp = next(m for m in tiny.messages if m["purpose"] == "tp")
    assert tp["bytes"] == 8 * 64 * 2
    assert tp["latency_share"] > 0.95
    big = llmhw.train({"model": "llama-3.1-70b", "hardware": "h100-sxm", "n_chips": 64,
                       "parallelism": {"tp": 8, "pp": 4, "dp": 2},
                       "training": {"sequence_length": 4096, "global_batch_sequences": 64, "zero": 1}})
    dp = next(m for m in big.messages if m["purpose"] == "dp_grads")
    assert dp["latency_share"] < 0.01
    assert sum(m["count_per_step"] * m["bytes"] for m in big.messages) > 0


def test_a_3d_stack_throttles_the_training_clock_by_its_envelope() -> None:
    # The stacking study's gen-1 design under its thermal cap: logic and stack share 0.43 W/mm2 x
    # 814 mm2 = 350 W, half the H100's 700 W. With the logic's power linear in the clock, the clock
    # can be at most (350 W - the stack's static power) / the logic's full-clock power, and at least
    # what the envelope leaves with the stack at its full rate (the step streams far less than that).
    from llmhw.hardware.package import package_power
    from llmhw.studies import stacking
    base = llmhw.train(scenario({}))
    r = llmhw.train({**scenario({}), "overrides": stacking.overrides(1)})
    clock = r.cost.clock_fraction
    full = package_power(r.scenario.chip, r.scenario.base_hardware)
    assert full.thermal_w == pytest.approx(0.43e6 * 814e-6)
    assert full.fraction <= clock <= (full.thermal_w - full.stack_static_w) / full.logic_w
    assert clock < 1.0 and any("3D stack" in n for n in r.notes)
    # Compute-bound work slows by 1 / clock.
    assert r.cost.compute_parts_s["gemm"] / base.cost.compute_parts_s["gemm"] == pytest.approx(1 / clock)
