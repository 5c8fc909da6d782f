"""Near-memory compute and 3D stacking inside the engine: offload by hand, shards, thermal cap."""

from dataclasses import replace

import pytest

import llmhw
from llmhw import Scenario
from llmhw.accounting.operators import decode_step
from llmhw.cost.params import engine_profile, family_params
from llmhw.cost.roofline import price_ops
from llmhw.hardware.catalog import hardware_from_dict, near_memory_presets
from llmhw.hardware.near_memory import internal_bandwidth, tier_peak_flops
from llmhw.serving.closed_loop import Engine

IDEAL = replace(family_params("nvidia-gpu"), compute_eff_max=1.0, compute_m_half=0.0,
                compute_n_half=0.0, fp8_eff=1.0, fp4_eff=1.0, attention_eff=1.0, memory_eff=1.0,
                read_overhead_s=0.0, kernel_overhead_s=0.0, comm_latency_s=0.0, comm_bw_eff=1.0)


def scenario(near, **kw):
    chip = hardware_from_dict({"kind": "chip", "id": "gpu", "family": "nvidia-gpu",
                               "peak_flops": {"bf16": 1e15, "fp16": 1e15},
                               "memory": [{"tech": "hbm3", "capacity_bytes": 80e9, "bandwidth_bytes_per_s": 3.2e12}],
                               "near_memory": near})
    d = {"model": "llama-3.1-8b", "hardware": chip, "n_chips": 1,
         "workload": {"input_tokens": 512, "output_tokens": 128, "batch": 1}, "engine": "ideal"}
    d.update(kw)
    return Scenario.from_dict(d)


def test_pim_runs_batch1_gemv_at_internal_bandwidth():
    s = scenario("pim-hbm")
    e = Engine(s)
    e.params = IDEAL
    tier = s.chip.memory[0]
    nm = near_memory_presets()["pim-hbm"]
    bw = internal_bandwidth(nm, tier)
    assert bw == pytest.approx(4 * 3.2e12)                            # 4x the external bandwidth
    peak = tier_peak_flops(nm, tier)["fp16"]
    assert peak == pytest.approx(1.2e12 * 3.2e12 / 307.2e9)           # devices in the tier x 1.2 TFLOP/s
    ops = e.ops.ops(decode_step(s.model, 1, 576))
    cost = price_ops(ops, s.chip, e.flops, "bf16", IDEAL, engine_profile("ideal"), None, None, 1, e.tiers,
                     e.near, "decode", e.physics)
    # Each offloaded GEMV: max(FLOPs / PIM peak, weight bytes / internal bandwidth) + HBM latency,
    # when that beats the host's weight-streaming time.
    expect = 0.0
    for op in ops:
        if op.name in e.near.ops and op.kind == "gemm":
            t_near = max(float(op.flops) / peak, float(op.weight_bytes) / bw) + tier.latency_s
            t_host = float(op.bytes) / 3.2e12 + tier.latency_s
            if t_near < t_host:
                expect += op.count * t_near
    assert float(cost.near_memory_s) == pytest.approx(expect, rel=1e-9)
    assert expect > 0
    # Offloading the GEMVs makes a batch-1 decode step faster than the plain chip.
    plain = llmhw.predict(scenario(None)).tpot_s
    assert llmhw.predict(s).tpot_s < plain


def test_pim_compute_is_too_weak_for_large_batches():
    p = llmhw.predict(scenario("pim-hbm", workload={"input_tokens": 512, "output_tokens": 128, "batch": 256}))
    assert p.to_dict()["breakdown"]["decode"]["near_memory_s"] == 0.0


def test_pim_bank_shards_cannot_hold_a_long_kv_head():
    # One request's K and V for one head at 100k tokens: 100k x 128 x 2 x 2 B = 51 MB > 32 MB bank.
    near = {"tech": "pim-hbm", "ops": ["gemv", "decode_attention"]}
    p = llmhw.predict(scenario(near, workload={"input_tokens": 100_000, "output_tokens": 128, "batch": 1}))
    assert any("attention stays on the main compute" in n for n in p.notes)
    short = llmhw.predict(scenario(near))
    assert not any("attention" in n for n in short.notes)


def test_pim_takes_capacity():
    cap = llmhw.fit(scenario("pim-hbm")).to_dict()["memory_tiers"][0]["usable_bytes"]
    nm = near_memory_presets()["pim-hbm"]
    assert cap == pytest.approx(80e9 * (1 - nm.capacity_overhead) * 0.9)


def test_3d_stack_thermal_cap_scales_compute():
    chip = hardware_from_dict({"kind": "chip", "id": "x", "family": "nvidia-gpu", "peak_flops": {"bf16": 1e15},
                               "memory": ["hbm3"], "tdp_w": 700, "die_area_m2": 800e-6,
                               "stacked": "3d-dram-hybrid-bond-gen2"})
    s = Scenario.from_dict({"model": "llama-3.1-8b", "hardware": chip, "n_chips": 1,
                            "workload": {"input_tokens": 512, "output_tokens": 128, "batch": 1}})
    # The 700 W TDP covers the logic, the stack and the HBM3: at full bandwidth the HBM3 draws
    # 3.9 pJ x 8 x 819 GB/s + 6.39 W = 31.94 W and the stack (13.9 TB/s at 1 pJ/bit) 111.1 W + 8 W,
    # so the logic at full clock is 700 - 151.05 = 548.95 W. Under the stack 0.43 W/mm2 x 800 mm2 =
    # 344 W cover logic x f + reads x f + 8 W: f = 336 / 660.06 = 0.509, for the clock and the
    # stack's data rate alike.
    stack_reads = chip.stacked.bandwidth_bytes_per_s * 8 * 1e-12
    logic = 700 - (3.9e-12 * 8 * 819e9 + 6.39) - (stack_reads + 8.0)
    frac = (0.43e6 * 800e-6 - 8.0) / (logic + stack_reads)
    assert frac == pytest.approx(0.509, abs=0.001)
    e = Engine(s)
    assert e.flops["bf16"] == pytest.approx(1e15 * frac)
    assert s.chip.memory[0].bandwidth_bytes_per_s == pytest.approx(chip.stacked.bandwidth_bytes_per_s)
    assert e.tiers.read_bw[0] == pytest.approx(chip.stacked.bandwidth_bytes_per_s * frac)
    assert e.tiers.read_bw[1] == pytest.approx(819e9)            # the HBM3 next to it keeps its rate
    assert any("share" in n and "51%" in n for n in e.notes)
