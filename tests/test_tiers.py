"""Memory tiers and High Bandwidth Flash: per-tier pricing, page reads, placement, endurance."""

import math
from dataclasses import replace

import numpy as np
import pytest

import llmhw
from llmhw import Scenario
from llmhw.accounting.operators import OperatorModel, decode_step
from llmhw.accounting.placement import auto_placement
from llmhw.cost.params import engine_profile, family_params
from llmhw.cost.roofline import price_ops, tier_model
from llmhw.hardware.catalog import hardware_from_dict, lookup, memory_presets
from llmhw.hardware.physics import chip_physics
from llmhw.workload.hf_config import model_from_hf_config

TINY = model_from_hf_config({
    "model_type": "llama", "hidden_size": 64, "intermediate_size": 256, "num_hidden_layers": 2,
    "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 128, "max_position_embeddings": 512,
}, model_id="tiny")

IDEAL = replace(family_params("nvidia-gpu"), compute_eff_max=1.0, compute_m_half=0.0,
                compute_n_half=0.0, fp8_eff=1.0, fp4_eff=1.0, attention_eff=1.0, memory_eff=1.0,
                read_overhead_s=0.0, kernel_overhead_s=0.0, comm_latency_s=0.0, comm_bw_eff=1.0)


def hbm_hbf_chip():
    return hardware_from_dict({"kind": "chip", "id": "hbm-hbf", "family": "nvidia-gpu",
                               "peak_flops": {"bf16": 1e18}, "memory": ["hbm3", "hbf"]})


TINY_MOE = model_from_hf_config({
    "model_type": "mixtral", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
    "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 128, "max_position_embeddings": 512,
    "num_local_experts": 4, "num_experts_per_tok": 2,
}, model_id="tiny-moe")


def _hbf_chip(latency_s: float | None = None):
    hbf = {"tech": "hbf", **({"latency_s": latency_s} if latency_s else {})}
    return hardware_from_dict({"kind": "chip", "id": "hbm-hbf", "family": "nvidia-gpu",
                               "peak_flops": {"bf16": 1e18}, "memory": ["hbm3", hbf]})


def _weights_in_hbf(model, chip):
    s = Scenario.create(model=model, hardware=chip, n_chips=1, parallelism=llmhw.Parallelism(),
                        precision=llmhw.PrecisionSpec(), workload=llmhw.Workload(input_tokens=8, output_tokens=8))
    ops = OperatorModel(s).ops(decode_step(model, 1, 100))
    kv_block = 16 * (2 * 2 * 16) * 2                      # 16 tokens x (K,V x 2 heads x 16) x 2 B
    pure = replace(chip_physics(chip, ideal=True), kernel_launch_s=0.0)   # peak bandwidth, no launches
    tm = tier_model(chip, {"weights": 1, "kv_cache": 0, "activations": 0}, kv_block, pure)
    return ops, price_ops(ops, chip, chip.flops(), "bf16", IDEAL, engine_profile("ideal"), None, None, 1, tm,
                          physics=pure)


def test_weights_in_hbf_are_prefetched_by_hand():
    chip = hbm_hbf_chip()
    ops, cost = _weights_in_hbf(TINY, chip)
    hbm, hbf = memory_presets()["hbm3"], memory_presets()["hbf"]
    # A dense model's weights are read in the same order every step, so they are read ahead: no
    # operator waits for the flash's access latency. By Little's law a stack streams at most
    # bytes in flight / latency = 40 MB / 5 us = 8 TB/s, above its 1.638 TB/s: the full bandwidth.
    # (The compute here is 10^18 FLOP/s, so nothing is compute-bound.) The attention reads only
    # HBM (DRAM, not read ahead): KV + activations at HBM bandwidth plus HBM latency.
    assert hbf.max_bytes_in_flight / hbf.latency_s > hbf.bandwidth_bytes_per_s
    expect = 0.0
    for op in ops:
        t_hbf = float(op.weight_bytes) / hbf.bandwidth_bytes_per_s
        hbm_bytes = float(op.kv_read_bytes) + float(op.act_bytes)
        t_hbm = hbm_bytes / hbm.bandwidth_bytes_per_s + float(op.kv_write_bytes) / hbm.bandwidth_bytes_per_s \
            + hbm.latency_s
        expect += op.count * max(t_hbf, t_hbm)
    assert float(cost.memory_s) == pytest.approx(expect, rel=1e-9)
    weight_bytes = sum(op.count * float(op.weight_bytes) for op in ops)
    assert float(cost.tier_s[1]) == pytest.approx(weight_bytes / hbf.bandwidth_bytes_per_s, rel=1e-9)
    # At 100 us the 40 MB in flight sustain only 40 MB / 100 us = 0.4 TB/s: the weights stream at that.
    _, slow = _weights_in_hbf(TINY, _hbf_chip(100e-6))
    assert float(slow.tier_s[1]) == pytest.approx(weight_bytes / (40e6 / 100e-6), rel=1e-9)


def test_routed_experts_wait_for_the_flash_once_per_operator():
    # The routed experts' weights are known only after the router has picked them: that read waits
    # for one HBF access latency per operator (2 layers here); every other weight is read ahead.
    chip = _hbf_chip()
    ops, cost = _weights_in_hbf(TINY_MOE, chip)
    hbf = memory_presets()["hbf"]
    # Each matrix is read in whole 4 KB pages: the 512-byte router costs one page.
    weight_bytes = sum(op.count * math.ceil(float(op.weight_bytes) / 4096) * 4096 for op in ops)
    expert_ops = sum(op.count for op in ops if op.name == "experts")
    assert expert_ops == 2
    assert float(cost.tier_s[1]) == pytest.approx(weight_bytes / hbf.bandwidth_bytes_per_s
                                                  + expert_ops * hbf.latency_s, rel=1e-9)


def test_bytes_in_flight_scale_with_the_stacks_of_a_tier():
    hbf = memory_presets()["hbf"]
    assert hbf.device_capacity_bytes == hbf.capacity_bytes and hbf.tier_bytes_in_flight == hbf.max_bytes_in_flight
    four = hardware_from_dict({"kind": "chip", "id": "c", "family": "nvidia-gpu", "peak_flops": {"bf16": 1e15},
                               "memory": ["hbm3e", {"tech": "hbf", "capacity_bytes": 4 * hbf.capacity_bytes,
                                                    "bandwidth_bytes_per_s": 4 * hbf.bandwidth_bytes_per_s}]})
    assert four.memory[1].devices == 4.0
    tm = tier_model(four, {"weights": 1, "kv_cache": 0, "activations": 0})
    assert tm.in_flight == (None, 4 * hbf.max_bytes_in_flight)        # DRAM is not read ahead
    # Each streams at its peak times its stream efficiency; 4 x 40 MB / 5 us = 32 TB/s does not bind.
    assert tm.stream_bw(1) == pytest.approx(4 * hbf.bandwidth_bytes_per_s * hbf.stream_efficiency)
    assert tm.stream_bw(0) == pytest.approx(four.memory[0].bandwidth_bytes_per_s * four.memory[0].stream_efficiency)


def test_deepseek_v3_weights_in_hbf_hide_most_of_the_flash_latency():
    # DeepSeek-V3 FP8 on 8 H200s (TP8), one HBF stack each holding the weights, batch 1. Charged
    # one access latency per weight operator, 5 us cost +22% TPOT and 25 us +112% (4 weight reads
    # x 61 layers in sequence). Read ahead, only the 58 routed-expert reads per step wait:
    # 58 x 5 us = 0.3 ms and 58 x 25 us = 1.45 ms on a ~8 ms step, plus at 25 us a stream of
    # 40 MB / 25 us = 1.6 TB/s instead of 1.638 (2% on the weight reads). Bounds: 10% and 35%.
    h200 = lookup("h200").memory[0]
    tier = {"tech": h200.id, "capacity_bytes": h200.capacity_bytes, "bandwidth_bytes_per_s": h200.bandwidth_bytes_per_s}

    def tpot(latency_s):
        return llmhw.predict({
            "model": "deepseek-v3", "hardware": "hgx-h200-8", "n_chips": 8, "parallelism": {"tp": 8},
            "precision": {"weights": "fp8", "kv_cache": "fp8"},
            "workload": {"input_tokens": 1024, "output_tokens": 1024, "batch": 1},
            "overrides": {"chip.memory": [tier, {"tech": "hbf", "latency_s": latency_s}]},
            "placement": {"weights": "hbf", "kv_cache": h200.id}}).tpot_s

    t0, t5, t25 = tpot(1e-12), tpot(5e-6), tpot(25e-6)
    assert t0 < t5 < t25
    assert t5 / t0 - 1 <= 0.10
    assert t25 / t0 - 1 <= 0.35
    # The part that remains is the dependent reads: at least 58 x 20 us more from 5 to 25 us.
    assert t25 - t5 >= 58 * 20e-6 * 0.999


def test_flash_page_reads_amplify_small_kv_blocks():
    chip = hbm_hbf_chip()
    tm = tier_model(chip, {"weights": 0, "kv_cache": 1, "activations": 0}, kv_access_bytes=2048)
    assert float(tm.amplification(1, 2048)) == 2.0           # a 2 KB block costs a 4 KB page
    assert float(tm.amplification(1, 8192)) == 1.0
    assert float(tm.amplification(1, 5000)) == pytest.approx(8192 / 5000)
    assert tm.amplification(0, 2048) == 1.0                  # HBM bursts are 32 B: no amplification


def test_automatic_placement():
    hbm, hbf = memory_presets()["hbm3e"], memory_presets()["hbf"]
    tiers = (hbm, hbf)
    usable = [t.capacity_bytes * 0.9 for t in tiers]
    # Everything fits in HBM: all there.
    p = auto_placement(tiers, usable, weights=10e9, kv=5e9, act=1e9)
    assert p.where == {"weights": 0, "kv_cache": 0, "activations": 0}
    # Weights do not fit in HBM: they go to flash, the KV cache stays in HBM.
    p = auto_placement(tiers, usable, weights=300e9, kv=10e9, act=1e9)
    assert p.where["weights"] == 1 and p.where["kv_cache"] == 0
    # For the largest batch, read-only weights go to flash to leave HBM to the KV cache.
    p = auto_placement(tiers, usable, weights=10e9, kv=1e9, act=1e9, for_max_batch=True)
    assert p.where["weights"] == 1 and p.where["kv_cache"] == 0


def test_hbf_grows_the_batch_and_wears_out_with_kv():
    base = {"model": "llama-3.1-70b", "n_chips": 1, "precision": {"weights": "fp8", "kv_cache": "fp8"},
            "workload": {"input_tokens": 1024, "output_tokens": 1024, "batch": "max"}}
    hbm_only = hardware_from_dict({"kind": "chip", "id": "a", "family": "nvidia-gpu", "peak_flops": {"bf16": 1e15},
                                   "memory": [{"tech": "hbm3e", "capacity_bytes": 96e9}]})
    with_hbf = hardware_from_dict({"kind": "chip", "id": "b", "family": "nvidia-gpu", "peak_flops": {"bf16": 1e15},
                                   "memory": [{"tech": "hbm3e", "capacity_bytes": 96e9}, "hbf"]})
    a = llmhw.predict({**base, "hardware": hbm_only}).to_dict()
    b = llmhw.predict({**base, "hardware": with_hbf}).to_dict()
    # Weights (70.6 GB at fp8) leave 96 x 0.9 - 70.6 = 15.8 GB of HBM to the KV cache; moved to
    # HBF, they leave all 86.4 GB: the batch grows about 86.4 / 15.8 = 5.5x.
    assert b["batch"] / a["batch"] == pytest.approx((96e9 * 0.9) / (96e9 * 0.9 - 70.55e9), rel=0.05)
    assert b["memory_tiers"][1]["holds"] == ["weights"]
    assert b["memory_tiers"][0]["lifetime_days"] is None          # DRAM does not wear out
    # The flash tier is read ahead: its bytes in flight (one stack, 40 MB) allow 40 MB / 5 us =
    # 8 TB/s, above its 1.638 TB/s x 0.9 stream efficiency, so it streams at that; DRAM reports none.
    assert b["memory_tiers"][1]["bytes_in_flight"] == pytest.approx(40e6)
    assert b["memory_tiers"][1]["read_ahead_bandwidth_bytes_per_s"] == pytest.approx(1.638e12 * 0.9)
    assert b["memory_tiers"][0]["bytes_in_flight"] is None
    # KV cache forced into flash: it is written every token, so the flash has a finite life.
    kv_flash = hardware_from_dict({"kind": "chip", "id": "c", "family": "nvidia-gpu", "peak_flops": {"bf16": 1e15},
                                   "memory": [{"tech": "hbm3e", "capacity_bytes": 8e9}, "hbf"]})
    c = llmhw.predict({**base, "hardware": kv_flash, "workload": {**base["workload"], "batch": 64}}).to_dict()
    tier = c["memory_tiers"][1]
    assert "kv_cache" in tier["holds"]
    hbf = memory_presets()["hbf"]
    assert tier["lifetime_days"] == pytest.approx(
        hbf.capacity_bytes * hbf.write_endurance_cycles / tier["write_bytes_per_s"] / 86400, rel=1e-9)


def test_more_hbf_latency_never_faster():
    chip = hbm_hbf_chip()
    slow = chip.model_copy(update={"memory": (chip.memory[0], chip.memory[1].model_copy(
        update={"latency_s": chip.memory[1].latency_s * 10}))})
    s = {"model": "llama-3.1-8b", "n_chips": 1, "workload": {"input_tokens": 512, "output_tokens": 128, "batch": "max"}}
    fast_t = llmhw.predict({**s, "hardware": chip}).tpot_s
    slow_t = llmhw.predict({**s, "hardware": slow}).tpot_s
    assert slow_t > fast_t and np.isfinite(slow_t)


def test_bad_tier_inputs_are_named():
    from llmhw.core.errors import LlmhwError

    base = {"model": "llama-3.1-405b", "hardware": "h200", "n_chips": 1,
            "workload": {"input_tokens": 100, "output_tokens": 100, "batch": 1},
            "overrides": {"chip.memory": ["hbm3e", "hbf"]}}
    # 811 GB of bf16 weights cannot sit in a 141 GB HBM3E tier: a result (does not fit, by how
    # much), not an error, and fit and predict say the same.
    s = Scenario.from_dict({**base, "placement": {"weights": "hbm3e"}})
    f = llmhw.fit(s)
    assert not f.fits and f.max_batch == 0
    assert f.overflow_bytes > 811e9 - 0.9 * 141e9 - 1e9
    p = llmhw.predict(s).to_dict()
    assert not p["fits"] and p["max_batch"] == 0
    assert any("does not fit: hbm3e" in n for n in p["notes"])
    with pytest.raises(LlmhwError) as e:
        Scenario.from_dict({**base, "placement": {"weights": "hbm9"}})
    assert e.value.field == "placement.weights"
    with pytest.raises(LlmhwError) as e:
        Scenario.from_dict({**base, "overrides": {"chip.memory": [{"tech": "hbf", "capacity_bytes": 0}]}})
    assert "capacity_bytes" in str(e.value)


def test_torus_must_hold_a_slice():
    from llmhw.core.errors import LlmhwError

    with pytest.raises(LlmhwError) as e:
        Scenario.from_dict({"model": "llama-3.1-8b", "hardware": "tpu-v5e-8", "n_chips": 5,
                            "parallelism": {"pp": 5}, "workload": {"input_tokens": 10, "output_tokens": 10}})
    assert e.value.field in ("interconnect.topology", "interconnect.domain_size")


def test_wear_out_note_follows_the_scenarios_service_life():
    # KV cache in flash: flash wears out in capacity x P/E cycles / write rate. Endurance picked so
    # it lasts five years: flagged under a 6-year service life, not under the default 4 years.
    base = {"model": "llama-3.1-70b", "n_chips": 1, "precision": {"weights": "fp8", "kv_cache": "fp8"},
            "workload": {"input_tokens": 1024, "output_tokens": 1024, "batch": 64}}

    def chip(cycles):
        hbf = {"tech": "hbf", **({"write_endurance_cycles": cycles} if cycles else {})}
        return hardware_from_dict({"kind": "chip", "id": "c", "family": "nvidia-gpu", "peak_flops": {"bf16": 1e15},
                                   "memory": [{"tech": "hbm3e", "capacity_bytes": 8e9}, hbf]})

    probe = llmhw.predict({**base, "hardware": chip(None)}).to_dict()["memory_tiers"][1]
    capacity, write_rate = probe["capacity_bytes"], probe["write_bytes_per_s"]
    five_years_s = 5 * 365.25 * 86400
    cycles = five_years_s * write_rate / capacity
    s = {**base, "hardware": chip(cycles)}
    four = llmhw.predict(s).to_dict()
    six = llmhw.predict({**s, "economics": {"service_life_years": 6}}).to_dict()
    assert four["memory_tiers"][1]["lifetime_days"] == pytest.approx(capacity * cycles / write_rate / 86400, rel=1e-9)
    assert four["memory_tiers"][1]["lifetime_days"] == pytest.approx(5 * 365.25, rel=1e-9)
    assert not any("wears out in" in n for n in four["notes"])
    assert any("wears out in 1,826 days" in n and "6-year service life" in n for n in six["notes"])
