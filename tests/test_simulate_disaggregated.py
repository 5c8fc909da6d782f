"""Open-loop serving of prefill/decode pools (serving/open_loop_disaggregated.py)."""

import numpy as np
import pytest

import llmhw.api
from llmhw.core.errors import LlmhwError
from llmhw.scenario.disaggregated import Disaggregated
from llmhw.serving.closed_loop import Engine
from llmhw.serving.simulate import policy_of, run

# Llama 3.1 8B on H100 SXM, long prompts and moderate outputs: a prompt's prefill takes a few
# hundred milliseconds, a decode step about ten.
BASE = {"model": "llama-3.1-8b", "hardware": "h100-sxm", "engine": "vllm",
        "precision": {"weights": "bf16", "kv_cache": "bf16"},
        "workload": {"input_tokens": 8192, "output_tokens": 256}}
DIS = {**BASE, "disaggregation": {"prefill": {"n_chips": 2, "parallelism": {"tp": 1, "dp": 2}},
                                  "decode": {"n_chips": 2, "parallelism": {"tp": 1, "dp": 2}}}}
CO = {**BASE, "n_chips": 4, "parallelism": {"tp": 1, "dp": 4}}
MODERATE = 4.0        # requests/s: about 85% of the two prefill replicas' capacity


@pytest.fixture(scope="module")
def runs():
    return {"light": llmhw.api.simulate(DIS, 0.05, 200, 0),
            "moderate": llmhw.api.simulate(DIS, MODERATE, 1000, 0),
            "co": llmhw.api.simulate(CO, MODERATE, 1000, 0)}


def test_littles_law(runs):
    r = runs["moderate"]
    # Requests in the system (prefill pool, transfer, decode pool), averaged over time = arrival
    # rate x mean time in it (the per-request overhead is not spent in it).
    in_system = r["e2e_s"]["mean"] - llmhw.api.engine_profile_overhead(BASE)
    assert r["mean_in_flight"] == pytest.approx(r["arrival_rate_per_s"] * in_system, rel=0.05)


def test_throughput_is_the_offered_load_below_saturation(runs):
    for name in ("light", "moderate"):
        r = runs[name]
        assert not r["saturated"]
        assert not r["prefill_pool"]["saturated"] and not r["decode_pool"]["saturated"]
        assert r["output_tok_s"] == pytest.approx(r["arrival_rate_per_s"] * r["mean_output_tokens"], rel=0.05)
        assert r["output_tok_s_per_chip"] == pytest.approx(r["output_tok_s"] / 4)


def test_light_load_ttft_is_prefill_transfer_and_a_step(runs):
    r = runs["light"]
    d = Disaggregated.from_dict(DIS)
    m = d.decode.model
    L = 8192
    # The KV cache of the prompt: K and V, every layer and KV head, bf16; one sender (tp 1) over
    # NVLink (all four chips in one scale-up domain). No transfer beats the link's bandwidth.
    kv_bytes = 2 * m.n_layers * m.n_kv_heads * m.head_dim * 2 * L
    link = d.decode.system.scale_up_network.bandwidth_per_chip      # all its links, one way
    assert r["kv_bytes_per_request"] == pytest.approx(kv_bytes)
    assert kv_bytes / link <= r["kv_transfer_s"] < 2 * kv_bytes / link
    # With nobody queued: the prompt's prefill alone, its transfer, the decode replica's
    # iteration that samples the first token (at most a decode step of one request), overheads.
    hand = (llmhw.api.step_cost(d.prefill, "prefill", 1, L).total_s + kv_bytes / link
            + llmhw.api.step_cost(d.decode, "decode", 1, L).total_s + llmhw.api.engine_profile_overhead(BASE))
    assert r["ttft_s"]["p50"] == pytest.approx(hand, rel=0.10)
    # The prefill pool queues nobody at this load.
    assert r["prefill_pool"]["queue_s"]["p90"] < 0.01 * hand


def test_a_too_small_prefill_pool_saturates_alone():
    # Long prompts, a few output tokens: one chip prefills about 2.4 prompts a second (8k tokens
    # in ~0.42 s) while three decode chips could take far more.
    heavy = {**DIS, "workload": {"input_tokens": 8192, "output_tokens": 16},
             "disaggregation": {"prefill": {"n_chips": 1}, "decode": {"n_chips": 3, "parallelism": {"tp": 1, "dp": 3}}}}
    d = Disaggregated.from_dict(heavy)
    capacity = 1.0 / llmhw.api.step_cost(d.prefill, "prefill", 1, 8192).total_s
    r = llmhw.api.simulate(heavy, 2.0 * capacity, 600, 0)
    assert r["saturated"] and r["prefill_pool"]["saturated"]
    assert not r["decode_pool"]["saturated"]
    # The decode pool serves what the prefill pool lets through: its queue stays short.
    assert r["decode_pool"]["queue_s"]["p99"] < 0.1


def test_decodes_never_wait_behind_prefills(runs):
    # The same four chips co-located: each replica's decode steps share iterations with 8k-token
    # prompt chunks, so the slowest token gaps stretch; the decode pool's steps carry no prompt.
    dis, co = runs["moderate"], runs["co"]
    assert not co["saturated"]
    assert dis["tpot_s"]["p99"] < 0.5 * co["tpot_s"]["p99"]
    # ...at the price of half the chips prefilling: the first token waits longer.
    assert dis["ttft_s"]["p50"] > co["ttft_s"]["p50"]


def test_find_rate_and_closed_loop():
    best = llmhw.api.find_rate(DIS, ["tpot_s.p99<=0.02"], requests=300, lo=0.5, hi=50.0, tolerance=0.2)
    assert best["rate_per_s"] > 0 and not best["saturated"] and best["tpot_s"]["p99"] <= 0.02
    with pytest.raises(LlmhwError) as e:
        llmhw.api.simulate(DIS, None, 100, 0, concurrency=8)
    assert e.value.field == "concurrency"


def test_per_request_cached_prompt_matches_a_shared_one():
    # run() takes the cached prompt tokens per request; the same count for every request is the
    # shared prefix of before.
    eng = Engine(Disaggregated.from_dict(DIS).decode)
    pol = policy_of(eng)
    n = 50
    arrival = np.cumsum(np.full(n, 0.05))
    isl, osl = np.full(n, 2048), np.full(n, 64)
    a = run(eng, arrival, isl, osl, pol, 0, 1024)
    b = run(eng, arrival, isl, osl, pol, 0, np.full(n, 1024))
    assert np.array_equal(a.finish, b.finish) and np.array_equal(a.first_token, b.first_token)
