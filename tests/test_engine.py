"""The engine: operator FLOPs and bytes by hand, physical invariants, the predict contract."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import llmhw
from llmhw import Scenario, predict, sweep
from llmhw.accounting.operators import (
    OperatorModel,
    causal_pairs,
    decode_step,
    prefill_step,
    totals,
)
from llmhw.cost.comm import collective_time
from llmhw.cost.params import family_params
from llmhw.hardware.catalog import interconnects
from llmhw.workload.hf_config import model_from_hf_config

TINY = model_from_hf_config({
    "model_type": "llama", "hidden_size": 64, "intermediate_size": 256, "num_hidden_layers": 2,
    "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 100, "max_position_embeddings": 512,
}, model_id="tiny")


def tiny(**kw):
    d = dict(model=TINY, hardware=llmhw.load_hardware("h100-sxm"), n_chips=1, parallelism=llmhw.Parallelism(),
             precision=llmhw.PrecisionSpec(), workload=llmhw.Workload(input_tokens=10, output_tokens=4, batch=3))
    d.update(kw)
    return Scenario.create(**d)


def test_decode_ops_by_hand():
    om = OperatorModel(tiny())
    t = totals(om.ops(decode_step(TINY, 3, 10)))
    qkv = 64 * 64 + 2 * 64 * 32          # q (4 heads x 16) and k, v (2 KV heads x 16)
    o, ffn, head = 64 * 64, 3 * 64 * 256, 100 * 64
    attn = 2 * 4 * (16 + 16) * 3 * 10    # 3 queries x 10 keys, QK and AV over 4 heads
    assert t["flops"] == 2 * (2 * 3 * (qkv + o + ffn) + attn) + 2 * 3 * head   # 2 layers, then the LM head
    assert t["flops"] == 2 * 3 * (TINY.active_params - 2 * 2 * 64 - 64) + 2 * attn
    assert t["weight_bytes"] == 2 * (2 * (qkv + o + ffn)) + 2 * head
    # KV: each request reads its 10 cached tokens and writes 1, per layer, K and V of 2 heads x 16, bf16.
    assert t["kv_read_bytes"] == 2 * 3 * 10 * (2 * 2 * 16) * 2
    assert t["kv_write_bytes"] == 2 * 3 * (2 * 2 * 16) * 2


def test_prefill_ops_by_hand():
    om = OperatorModel(tiny())
    t = totals(om.ops(prefill_step(TINY, 10)))
    pairs = 10 * 11 / 2                   # causal: token i attends to i keys
    assert t["flops"] == 2 * 10 * (TINY.active_params - 2 * 2 * 64 - 64 - 100 * 64) + 2 * 100 * 64 \
        + 2 * 2 * 4 * 32 * pairs
    assert t["kv_read_bytes"] == 0 and t["kv_write_bytes"] == 2 * 10 * 64 * 2
    assert causal_pairs(5000, 1024) == 1024 * 1025 / 2 + (5000 - 1024) * 1024


def test_tp_comm_ops_and_sizes():
    s = Scenario.from_dict({"model": "llama-3.1-70b", "hardware": "h100-sxm", "n_chips": 8, "parallelism": {"tp": 8},
                            "workload": {"input_tokens": 100, "output_tokens": 100, "batch": 16}})
    ops = OperatorModel(s).ops(decode_step(s.model, 16, 150))
    ar = [o for o in ops if o.collective == "all_reduce"]
    assert sum(o.count for o in ar) == 2 * 80        # after attention and after the FFN, every layer
    assert all(o.comm_bytes == 16 * 8192 * 2 for o in ar)


def test_mla_decode_reads_latent_and_absorbs():
    s = Scenario.from_dict({"model": "deepseek-v3", "hardware": "h200", "n_chips": 8, "parallelism": {"tp": 8},
                            "precision": {"weights": "fp8", "kv_cache": "fp8"},
                            "workload": {"input_tokens": 100, "output_tokens": 100, "batch": 1}})
    ops = OperatorModel(s).ops(decode_step(s.model, 1, 1000))
    att = [o for o in ops if o.name == "attention"]
    # 61 layers x 1000 cached tokens x 576 latent elements x 1 byte, on every TP rank.
    assert sum(o.count * o.kv_read_bytes for o in att) == 61 * 1000 * 576
    # Absorbed scores in the 576-wide latent and values in the 512-wide latent, 16 local heads.
    assert att[0].flops == 2 * 16 * (576 + 512) * 1000


def test_moe_touched_experts():
    s = Scenario.from_dict({"model": "mixtral-8x7b", "hardware": "h100-sxm", "n_chips": 1,
                            "workload": {"input_tokens": 100, "output_tokens": 100, "batch": 1}})
    om = OperatorModel(s)
    one = [o for o in om.ops(decode_step(s.model, 1, 100)) if o.name == "experts"][0]
    many = [o for o in om.ops(decode_step(s.model, 256, 100)) if o.name == "experts"][0]
    expert_bytes = 3 * 4096 * 14336 * 2
    assert one.weight_bytes == pytest.approx(2 * expert_bytes)          # one token reads its 2 experts
    assert many.weight_bytes == pytest.approx(8 * expert_bytes, rel=1e-6)  # 256 tokens touch all 8


def test_moe_expert_parallel_waits_for_the_busiest_group():
    def experts_op(ep, batch):
        s = Scenario.from_dict({"model": "deepseek-v3", "hardware": "hgx-h200-8", "n_chips": 8,
                                "parallelism": {"tp": 8, "ep": ep}, "precision": {"weights": "fp8"},
                                "workload": {"input_tokens": 100, "output_tokens": 100, "batch": batch}})
        op = [o for o in OperatorModel(s).ops(decode_step(s.model, batch, 100)) if o.name == "experts"][0]
        return op, s.model.expert_params          # fp8: one byte per parameter
    # EP8, one token: its 8 experts fall in 8 groups of 32 at random. On average a chip holds one
    # of them, but the step waits for the chip that holds the most: 2.55 of them in a simulation
    # of uniform routing (issue 10; tests/test_expert_load.py has its own).
    op, e = experts_op(8, 1)
    assert op.weight_bytes / e == pytest.approx(2.55, rel=0.05)
    assert op.flops / (2 * e) == pytest.approx(2.55, rel=0.05)          # one pair per touched expert
    # 4,096 tokens touch every expert: each chip reads all 32 of its own, no more.
    op, e = experts_op(8, 4096)
    assert op.weight_bytes / e == pytest.approx(32.0)
    # Without EP every chip holds an eighth of all experts and does the same work: the 8 touched
    # experts' eighths, as before.
    op, e = experts_op(1, 1)
    assert op.weight_bytes / e == pytest.approx(1.0)


def test_collectives_pick_the_right_algorithm():
    fp = family_params("nvidia-gpu")
    net = interconnects()["nvlink4-hgx8"]
    small = collective_time("all_reduce", 16e3, 8, net, None, fp)
    # 16 KB: latency rules; one-shot's single step (0.6 us synchronisation + 0.5 us hop) beats a
    # ring's 14; both pay the software base once.
    step = 0.6e-6 + 0.5e-6
    ring = fp.comm_latency_s + 14 * step + 2 * 7 / 8 * 16e3 / (net.bandwidth_per_chip * fp.comm_bw_eff)
    one_shot = fp.comm_latency_s + step + 7 * 16e3 / (net.bandwidth_per_chip * fp.comm_bw_eff)
    assert small == pytest.approx(one_shot) and small < ring
    assert collective_time("all_reduce", 0.0, 1, net, None, fp) == 0.0
    big = collective_time("all_reduce", 1e9, 8, net, None, fp)
    assert big >= 1e9 / (net.bandwidth_per_chip * fp.comm_bw_eff)      # every byte crosses a link once


def test_llama70b_tp8_decode_floor():
    p = predict({"model": "llama-3.1-70b", "hardware": "h100-sxm", "n_chips": 8, "parallelism": {"tp": 8},
                 "workload": {"input_tokens": 128, "output_tokens": 128, "batch": 1}, "engine": "ideal"})
    # The scaling book's floor: every weight byte crosses HBM once per token.
    floor = 70.55e9 * 2 / 8 / 3.35e12
    assert p.tpot_s >= floor
    assert p.tpot_s < 1.5 * floor


@settings(max_examples=30, deadline=None)
@given(batch=st.integers(1, 256), ctx=st.integers(64, 8192), scale=st.floats(1.01, 10.0),
       ratio=st.sampled_from([0.1, 0.5, 0.9, 1.0]))
def test_more_bandwidth_or_flops_never_slower(batch, ctx, scale, ratio):
    """A faster chip could idle to act as the slower one: no metric may get worse. TTFT too, at
    any length spread (issue 13 found it rising up to 84% at 10x bandwidth with length_ratio < 1,
    from a queue share that shrank with decode time)."""
    base = {"model": "llama-3.1-8b", "n_chips": 1,
            "workload": {"input_tokens": ctx, "output_tokens": 128, "batch": batch, "length_ratio": ratio}}
    chip = llmhw.load_hardware("h100-sxm")
    faster_mem = chip.model_copy(update={"memory": (chip.memory[0].model_copy(
        update={"bandwidth_bytes_per_s": chip.memory[0].bandwidth_bytes_per_s * scale}),)})
    faster_alu = chip.model_copy(update={"peak_flops": {k: v * scale for k, v in chip.peak_flops.items()}})
    p0 = predict({**base, "hardware": chip})
    for c in (faster_mem, faster_alu):
        p = predict({**base, "hardware": c})
        assert p.tpot_s <= p0.tpot_s * (1 + 1e-12) and p.e2e_s <= p0.e2e_s * (1 + 1e-12)
        assert p.ttft_s <= p0.ttft_s * (1 + 1e-12)


def test_closed_loop_ttft_does_not_rise_with_bandwidth_in_the_simulator_either():
    """The event simulator (an independent model of the same engine: every prompt queued and
    chunked one iteration at a time) agrees that 10x the memory bandwidth does not lengthen TTFT
    in a closed loop with spread lengths, while it raises throughput."""
    from llmhw.api import simulate

    runs = []
    for bw in (3.35e12, 3.35e13):
        d = {"model": "llama-3.1-8b", "hardware": "h100-sxm", "n_chips": 1,
             "workload": {"input_tokens": 1024, "output_tokens": 1024, "batch": 256, "length_ratio": 0.1},
             "overrides": {"chip.memory[0].bandwidth_bytes_per_s": bw}}
        runs.append((simulate(d, None, 1500, 0, concurrency=256), predict(d)))
    (sim0, p0), (sim1, p1) = runs
    assert sim1["output_tok_s"] > 1.2 * sim0["output_tok_s"] and p1.output_tok_s > 1.2 * p0.output_tok_s
    assert sim1["ttft_s"]["mean"] <= 1.02 * sim0["ttft_s"]["mean"]
    assert p1.ttft_s <= p0.ttft_s


@pytest.mark.parametrize("model, hw, n, par", [
    ("llama-3.1-8b", "h100-sxm", 1, {"tp": 1}),
    ("llama-3.1-70b", "h200", 8, {"tp": 8}),
    ("mixtral-8x7b", "mi300x", 2, {"tp": 2}),
    ("deepseek-v3", "b200", 8, {"tp": 8}),
])
def test_tpot_grows_with_context_and_throughput_with_batch(model, hw, n, par):
    s = {"model": model, "hardware": hw, "n_chips": n, "parallelism": par,
         "precision": {"weights": "fp8", "kv_cache": "fp8"},
         "workload": {"input_tokens": 1024, "output_tokens": 512, "batch": 8}}
    ctx = sweep(s, input_tokens=np.array([128, 512, 2048, 8192, 32768]))
    assert np.all(np.diff(ctx["decode_step_s"]) >= 0)
    b = sweep(s, batch=np.arange(1, 257))
    ok = b["fits"]
    thr = b["output_tok_s"][ok]
    assert np.all(np.diff(thr) >= -1e-9 * thr[1:])


def test_sweep_matches_predict_and_broadcasts():
    s = {"model": "llama-3.1-8b", "hardware": "h100-sxm", "n_chips": 1,
         "workload": {"input_tokens": 512, "output_tokens": 256, "batch": 4}}
    r = sweep(s, batch=np.array([[1], [4]]), input_tokens=np.array([512, 1024, 2048]))
    assert r["tpot_s"].shape == (2, 3)
    assert r["tpot_s"][1, 0] == pytest.approx(predict(s).tpot_s)


def test_batch_max_uses_largest_fitting():
    s = {"model": "llama-3.1-70b", "hardware": "h100-sxm", "n_chips": 8, "parallelism": {"tp": 8},
         "precision": {"weights": "fp8", "kv_cache": "fp8"}, "engine": "ideal",
         "workload": {"input_tokens": 1024, "output_tokens": 1024, "batch": "max"}}
    p = predict(s)
    assert p.batch == llmhw.fit(Scenario.from_dict(s)).max_batch
    assert p.fits
    # One request more does not fit.
    assert not predict({**s, "workload": {**s["workload"], "batch": p.batch + 1}}).fits


def test_predict_json_contract(run_cli, write_yaml):
    y = write_yaml({"model": "llama-3.1-8b", "hardware": "h100-sxm", "n_chips": 1,
                    "workload": {"input_tokens": 512, "output_tokens": 256, "batch": 4}})
    r = run_cli("predict", str(y), "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    for k in ("ttft_s", "tpot_s", "e2e_s", "output_tok_s", "output_tok_s_per_chip", "tok_s_per_user", "fits",
              "memory", "breakdown"):
        assert k in d
    assert d["output_tok_s"] == pytest.approx(4 * 256 / d["e2e_s"])
    assert d["tok_s_per_user"] == pytest.approx(1 / d["tpot_s"])
    assert set(d["breakdown"]) == {"prefill", "decode"}


def test_predict_batch_jsonl(run_cli, tmp_path):
    good = {"model": "llama-3.1-8b", "hardware": "h100-sxm", "n_chips": 1,
            "workload": {"input_tokens": 512, "output_tokens": 256, "batch": 4}}
    f = tmp_path / "in.jsonl"
    f.write_text("\n".join([json.dumps(good), "{oops", json.dumps({**good, "model": "nope"}), json.dumps(good)]))
    r = run_cli("predict", "--batch", str(f), "--json")
    assert r.returncode == 0, r.stderr
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert len(lines) == 4
    assert "tpot_s" in lines[0] and "tpot_s" in lines[3]
    assert lines[1]["error"]["line"] == 2 and lines[2]["error"]["field"] == "model"


def test_validation_error_against_published_measurements():
    # The shipped calibration against the shipped measurements (docs/validation.md has the
    # full report). Loose bounds: this guards against regressions, it does not chase rows.
    from llmhw.validation.validate import run

    res = run()
    assert len(res.rows) >= 500
    s = res.summary
    assert s[("all", "all")]["median"] < 0.20
    for metric in ("tpot_s", "ttft_s", "output_tok_s", "output_tok_s_per_chip", "tok_s_per_user"):
        assert s[("all", metric)]["median"] < 0.30, metric


def test_engine_cap_holds_per_data_parallel_replica():
    import llmhw
    from llmhw.scenario.engines import default_profiles

    # Eight replicas of one B200 each run their own TensorRT-LLM instance: the deployment
    # schedules eight times the engine's cap.
    p = llmhw.predict({"model": "llama-2-70b", "hardware": "b200", "n_chips": 8, "engine": "trtllm",
                       "parallelism": {"tp": 1, "dp": 8}, "precision": {"weights": "fp4", "kv_cache": "fp8"},
                       "workload": {"input_tokens": 128, "output_tokens": 128, "batch": "max"}}).to_dict()
    assert p["max_batch_engine"] == 8 * default_profiles()["trtllm"].max_batch
