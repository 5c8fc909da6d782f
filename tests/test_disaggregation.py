"""Prefill/decode disaggregation: the KV cache's trip by hand, the decode pool uninterrupted, the
prefill pool's limit, and clear errors."""

import json

import pytest

import llmhw
from llmhw.core.errors import LlmhwError

BASE = {"model": "llama-3.1-70b", "hardware": "h100-sxm", "precision": {"weights": "fp8", "kv_cache": "fp8"},
        "engine": "vllm", "workload": {"input_tokens": 2048, "output_tokens": 256, "batch": 16},
        "disaggregation": {"prefill": {"n_chips": 2, "parallelism": {"tp": 2}},
                           "decode": {"n_chips": 6, "parallelism": {"tp": 2, "dp": 3}}}}


def _with(batch=16, **pools):
    d = {**BASE, "workload": {**BASE["workload"], "batch": batch}}
    if pools:
        d["disaggregation"] = {**BASE["disaggregation"], **pools}
    return d


def test_kv_cache_moves_at_link_bandwidth():
    d = llmhw.predict(_with()).to_dict()
    # Llama 3.1 70B: 80 layers x 8 KV heads x 128 x (K, V) x 1 B (fp8) = 163,840 B per token.
    kv = 80 * 8 * 128 * 2 * 2048
    assert d["kv_bytes_per_request"] == pytest.approx(kv)
    # Both pools (8 chips) sit in one NVLink domain; each of the 2 prefill chips sends its half at
    # 450 GB/s x 0.75 (the collective bandwidth share), plus microseconds of latency.
    t_bw = kv / 2 / (450e9 * 0.75)
    assert t_bw <= d["breakdown"]["kv_transfer_s"] <= t_bw + 20e-6


def test_decode_pool_is_not_interrupted_by_prefills():
    dis = llmhw.predict(_with()).to_dict()
    # The same decode pool serving aggregated (prefills interleaved in its steps), same requests
    # per replica: its TPOT can only be longer.
    agg = {k: v for k, v in BASE.items() if k != "disaggregation"}
    agg.update(n_chips=6, parallelism={"tp": 2, "dp": 3})
    a = llmhw.predict(agg).to_dict()
    assert dis["tpot_s"] < a["tpot_s"]
    assert dis["tok_s_per_user"] == pytest.approx(1 / dis["tpot_s"])
    assert dis["output_tok_s_per_chip"] == pytest.approx(dis["output_tok_s"] / 8)


def test_prefill_pool_limits_throughput_at_large_batch():
    d = llmhw.predict(_with(batch=256)).to_dict()
    assert d["limiting_pool"] == "prefill"
    # Throughput is the prefill pool's prompt rate times the tokens each request generates.
    assert d["output_tok_s"] == pytest.approx(d["prefill_capacity_req_s"] * 256)
    # Little's law holds at that rate: batch = rate x e2e.
    assert 256 == pytest.approx(d["prefill_capacity_req_s"] * d["e2e_s"], rel=1e-6)
    small = llmhw.predict(_with(batch=1)).to_dict()
    assert small["limiting_pool"] == "decode"


def test_pools_may_use_different_chips():
    d = llmhw.predict(_with(decode={"n_chips": 4, "parallelism": {"tp": 4}, "hardware": "h200"})).to_dict()
    assert d["pools"]["decode"]["hardware"] == "h200" and d["pools"]["prefill"]["hardware"] == "h100-sxm"
    assert d["n_chips"] == 6


@pytest.mark.parametrize("pools,field", [
    ({"decode": {"parallelism": {"tp": 2}}}, "disaggregation.decode.n_chips"),
    ({"prefill": {"n_chips": 3, "parallelism": {"tp": 3}}}, "disaggregation.prefill.parallelism.tp"),
    ({"prefill": {"n_chips": 2, "tp": 2}}, "disaggregation.prefill.tp"),
])
def test_bad_pools_name_the_field(pools, field):
    with pytest.raises(LlmhwError) as e:
        llmhw.predict(_with(**pools))
    assert e.value.field == field


def test_chip_count_must_be_the_pools_sum():
    with pytest.raises(LlmhwError) as e:
        llmhw.predict({**BASE, "n_chips": 4})
    assert e.value.field == "n_chips"


def test_cli_predict_disaggregated(run_cli, write_yaml):
    r = run_cli("predict", str(write_yaml(BASE)), "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert {"kv_transfer_s", "prefill_s", "decode_step_s"} <= set(d["breakdown"]) and d["limiting_pool"] in (
        "prefill", "decode")
