"""Open-loop simulation (first version): queueing invariants and agreement with the closed form."""

import json

import pytest

import llmhw
from llmhw.api import simulate
from llmhw.core.errors import LlmhwError

S = {"model": "llama-3.1-8b", "hardware": "h100-sxm", "n_chips": 1, "engine": "vllm",
     "precision": {"weights": "bf16", "kv_cache": "bf16"},
     "workload": {"input_tokens": 512, "output_tokens": 64, "batch": 1, "harness": "offline"}}


@pytest.fixture(scope="module")
def runs():
    return {r: simulate(S, r, 1500, seed=3) for r in (1.0, 20.0, 60.0)}


def test_littles_law(runs):
    r = runs[20.0]
    # Time-averaged requests in the system (counted from the event timeline) = arrival rate x
    # mean time in the system (without the per-request overhead, which is not spent in it).
    in_system = r["e2e_s"]["mean"] - llmhw.api.engine_profile_overhead(S)
    assert r["mean_in_flight"] == pytest.approx(r["arrival_rate_per_s"] * in_system, rel=0.05)


def test_throughput_is_the_offered_load_below_saturation(runs):
    for rate in (1.0, 20.0):
        r = runs[rate]
        assert not r["saturated"]
        assert r["output_tok_s"] == pytest.approx(r["arrival_rate_per_s"] * 64, rel=0.05)


def test_light_load_ttft_is_the_batch1_prefill(runs):
    p = llmhw.predict(S)
    assert runs[1.0]["ttft_s"]["mean"] == pytest.approx(p.ttft_s, rel=0.10)
    assert runs[1.0]["tpot_s"]["mean"] == pytest.approx(p.tpot_s, rel=0.10)


def test_tail_latency_grows_with_load(runs):
    p99 = [runs[r]["ttft_s"]["p99"] for r in (1.0, 20.0, 60.0)]
    assert p99 == sorted(p99)


def test_overload_is_reported_as_saturated():
    r = simulate(S, 2000.0, 600, seed=1)
    assert r["saturated"] and r["completion_rate_per_s"] < r["arrival_rate_per_s"]


def test_bad_rate_names_the_field():
    with pytest.raises(LlmhwError) as e:
        simulate(S, -1.0)
    assert e.value.field == "rate_per_s"


def test_cli_simulate(run_cli, write_yaml):
    r = run_cli("simulate", str(write_yaml(S)), "--rate", "5", "--requests", "300", "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert {"p50", "p90", "p99", "mean"} <= set(d["ttft_s"]) and d["completed"] > 0


def test_find_rate_is_the_edge_of_the_slo():
    from llmhw.api import find_rate

    slo = ["ttft_s.p99<=0.2", "tpot_s.p99<=0.015"]
    r = find_rate(S, slo, requests=600, seed=2)
    rate = r["rate_per_s"]
    assert rate > 0 and r["ttft_s"]["p99"] <= 0.2 and r["tpot_s"]["p99"] <= 0.015 and not r["saturated"]
    # 10% more load breaks an SLO or saturates (bisection to 5%).
    above = simulate(S, rate * 1.1, 600, seed=2)
    assert above["saturated"] or above["ttft_s"]["p99"] > 0.2 or above["tpot_s"]["p99"] > 0.015
    with pytest.raises(LlmhwError) as e:
        find_rate(S, ["ttft fast"])
    assert e.value.field == "--slo"


@pytest.mark.parametrize("concurrency", [1, 16])
def test_closed_process_agrees_with_predict_on_throughput(concurrency):
    s = {**S, "workload": {**S["workload"], "batch": concurrency}}
    r = simulate(s, None, 800, seed=4, concurrency=concurrency)
    assert r["mean_in_flight"] == pytest.approx(concurrency, rel=0.05)
    assert r["output_tok_s"] == pytest.approx(llmhw.predict(s).values["output_tok_s"], rel=0.10)


def test_arrival_from_the_scenario_and_bursts_raise_the_tail():
    poisson = {**S, "workload": {**S["workload"], "arrival": {"process": "poisson", "rate_per_s": 30.0}}}
    bursty = {**S, "workload": {**S["workload"], "arrival": {"process": "gamma", "rate_per_s": 30.0, "cv": 4.0}}}
    a, b = simulate(poisson, requests=1500, seed=5), simulate(bursty, requests=1500, seed=5)
    assert a["arrival_rate_per_s"] == pytest.approx(30.0, rel=0.1)
    assert b["arrival_rate_per_s"] == pytest.approx(30.0, rel=0.3)
    # Same mean load, burstier gaps: a longer queue tail.
    assert b["queue_s"]["p99"] > a["queue_s"]["p99"]
    with pytest.raises(LlmhwError) as e:
        simulate(S)
    assert e.value.field == "rate_per_s"
    with pytest.raises(LlmhwError) as e:
        llmhw.Scenario.from_dict({**S, "workload": {**S["workload"], "arrival": {"process": "closed"}}})
    assert e.value.field == "workload.arrival"


def test_cli_simulate_batch_keeps_going_past_a_bad_line(run_cli, tmp_path):
    good = {**S, "workload": {**S["workload"], "arrival": {"process": "poisson", "rate_per_s": 5.0}}}
    f = tmp_path / "runs.jsonl"
    f.write_text(json.dumps(good) + "\n" + "{not json\n" + json.dumps(S) + "\n")
    r = run_cli("simulate", "--batch", str(f), "--requests", "200", "--json")
    assert r.returncode == 0, r.stderr
    out = [json.loads(x) for x in r.stdout.splitlines()]
    assert len(out) == 3
    assert out[0]["completed"] > 0
    assert out[1]["error"]["field"] == "line 2"
    assert out[2]["error"]["field"] == "rate_per_s"         # no arrival given in that scenario


def test_prefix_cache_skips_the_shared_prompt():
    base = simulate(S, 1.0, 300, seed=6)
    cached = simulate({**S, "workload": {**S["workload"], "prefix_cached_tokens": 448}}, 1.0, 300, seed=6)
    # 448 of 512 prompt tokens come from the cache: the light-load TTFT is about a 64-token prefill
    # (plus the same request overhead), far below the full prompt's; decode is unchanged.
    over = llmhw.api.engine_profile_overhead(S)
    assert cached["ttft_s"]["mean"] - over < 0.35 * (base["ttft_s"]["mean"] - over)
    assert cached["tpot_s"]["mean"] == pytest.approx(base["tpot_s"]["mean"], rel=0.05)


def test_speculative_decoding_emits_several_tokens_a_step():
    spec = {"draft_tokens": 3, "acceptance": 0.8}
    # Expected tokens a step: 1 + 0.8 + 0.8^2 + 0.8^3 = 2.952.
    assert llmhw.scenario.values.Speculative(**spec).tokens_per_step == pytest.approx(2.952)
    base = simulate(S, 1.0, 300, seed=7)
    fast = simulate({**S, "workload": {**S["workload"], "speculative": spec}}, 1.0, 300, seed=7)
    # A memory-bound step verifying 4 positions costs little more than one: TPOT falls by most
    # of 2.95x, never by more.
    ratio = fast["tpot_s"]["mean"] / base["tpot_s"]["mean"]
    assert 1 / 2.952 <= ratio < 0.5


# -- the scheduler: KV budget, admission, preemption, schedule, draft model --------------------

# Llama 3.1 8B on an H100 PCIe (its host link is PCIe Gen5 x16) with 30% of the memory for the
# engine: about 50k tokens of KV cache, long outputs of 1,024-2,048 tokens. Requests hold ~1.5k
# tokens at their peak, so `peak` admission runs about 30 at once and `current` more.
TIGHT = {"model": "llama-3.1-8b", "hardware": "h100-pcie", "n_chips": 1, "engine": "vllm", "memory_utilization": 0.3,
         "precision": {"weights": "bf16", "kv_cache": "bf16"},
         "workload": {"input_tokens": 512, "output_tokens": 2048, "length_ratio": 0.5, "batch": 1,
                      "harness": "offline"}}


RATE_TIGHT = 1.45


def _sim(scenario, rate, n=1500, seed=0, **policy):
    """One replica through the serving layer, with the engine profile's policy overridden."""
    import numpy as np

    from llmhw.serving.closed_loop import Engine
    from llmhw.serving.simulate import poisson_arrivals, policy_of, run, summarize

    s = llmhw.Scenario.from_dict(scenario)
    eng, w = Engine(s), s.workload
    rng = np.random.default_rng(seed + 1)
    isl = np.maximum(np.round(w.input_tokens * rng.uniform(w.length_ratio, 1.0, n)), 1).astype(int)
    osl = np.maximum(np.round(w.output_tokens * rng.uniform(w.length_ratio, 1.0, n)), 1).astype(int)
    req = run(eng, poisson_arrivals(rate, n, seed), isl, osl, policy_of(eng, **policy))
    return summarize(req, 1, s.n_chips)


@pytest.fixture(scope="module")
def tight():
    # 1.45 requests a second: more than `peak` admission's ~30 requests serve, well below what
    # `current` serves (its preemptions stay a fraction of the requests; at 1.6 it nears saturation).
    return {k: _sim(TIGHT, RATE_TIGHT, admission=a, preemption=p) for k, (a, p) in
            {"peak": ("peak", "none"), "recompute": ("current", "recompute"), "swap": ("current", "swap")}.items()}


def test_kv_budget_is_the_memory_left_after_weights():
    from llmhw.serving.closed_loop import Engine
    from llmhw.serving.simulate import policy_of

    s = llmhw.Scenario.from_dict(S)
    m = s.model
    # 90% of 80 GB, less 2 bytes per parameter, over 2 (K, V) x layers x KV heads x head dim x 2
    # bytes a token; the step's activations (8,192 tokens) take a little more.
    per_token = 2 * m.n_layers * m.n_kv_heads * m.head_dim * 2
    hand = (0.9 * s.chip.memory[0].capacity_bytes - 2 * m.total_params) / per_token
    kv = policy_of(Engine(s)).kv_tokens
    assert 0.95 * hand < kv < hand


def test_current_admission_preempts_and_peak_never(tight):
    assert tight["peak"]["preemptions"] == 0
    assert tight["recompute"]["preemptions"] > 0 and tight["swap"]["preemptions"] > 0
    # Reserving every request's peak leaves the cache unused while requests grow: the same load
    # that `current` admission serves saturates `peak`.
    assert tight["peak"]["saturated"] and not tight["recompute"]["saturated"]


def test_recompute_prefills_again(tight):
    roomy = _sim({**TIGHT, "memory_utilization": 0.9}, RATE_TIGHT)
    assert roomy["preemptions"] == 0
    # A preempted request's prompt and output are prefilled again on return (~1.5k tokens, tens
    # of ms), while swapping copies its KV over PCIe (~200 MB at 64 GB/s, a few ms): recompute
    # spends more time per request than swap, and both more than a cache that never fills.
    e2e = {k: r["e2e_s"]["mean"] for k, r in {**tight, "roomy": roomy}.items() if k != "peak"}
    assert e2e["recompute"] > e2e["swap"] > e2e["roomy"]


def test_littles_law_holds_with_preemption(tight):
    r = tight["recompute"]
    in_system = r["e2e_s"]["mean"] - llmhw.api.engine_profile_overhead(TIGHT)
    assert r["mean_in_flight"] == pytest.approx(r["arrival_rate_per_s"] * in_system, rel=0.05)


def test_swap_needs_a_host_link():
    with pytest.raises(LlmhwError) as e:
        _sim({**TIGHT, "hardware": "h100-sxm"}, 1.0, 50, preemption="swap")
    assert e.value.field == "preemption"


def test_prefill_first_trades_the_decode_tail_for_ttft():
    mixed = _sim(S, 20.0, seed=3, schedule="mixed")
    first = _sim(S, 20.0, seed=3, schedule="prefill_first")
    assert not mixed["saturated"] and not first["saturated"]
    # A prefill that runs alone does not wait for the decode step: the first token comes sooner.
    # The decodes wait for it, and the iteration pays the step's host overhead once more.
    assert first["ttft_s"]["mean"] < mixed["ttft_s"]["mean"]
    assert first["tpot_s"]["p99"] > mixed["tpot_s"]["p99"]


def test_a_draft_model_costs_its_steps_and_memory():
    from llmhw.serving.closed_loop import Engine
    from llmhw.serving.simulate import policy_of

    mtp = {"draft_tokens": 3, "acceptance": 0.8}
    runs, kv = {}, {}
    for name, spec in (("mtp", mtp), ("draft", {**mtp, "draft_model": "llama-3.2-1b"})):
        s = {**S, "workload": {**S["workload"], "speculative": spec}}
        runs[name] = simulate(s, None, 800, seed=4, concurrency=16)
        kv[name] = policy_of(Engine(llmhw.Scenario.from_dict(s))).kv_tokens
    # Same acceptance, so the same tokens a step; three 1B decode steps make each step longer.
    assert runs["draft"]["output_tok_s"] < runs["mtp"]["output_tok_s"]
    assert runs["draft"]["tpot_s"]["mean"] > runs["mtp"]["tpot_s"]["mean"]
    # The draft's weights (~2.5 GB) and KV take cache space.
    assert kv["draft"] < kv["mtp"]
    with pytest.raises(LlmhwError) as e:
        simulate({**S, "workload": {**S["workload"], "speculative": {**mtp, "draft_model": "nope"}}}, 1.0, 20)
    assert e.value.field == "workload.speculative.draft_model"


def test_engine_policies_are_profile_data():
    from llmhw.scenario.engines import check_policy, default_profiles

    p = default_profiles()
    assert (p["vllm"].schedule, p["vllm"].admission, p["vllm"].preemption) == ("mixed", "current", "recompute")
    assert (p["sglang"].schedule, p["sglang"].admission) == ("prefill_first", "current")
    assert (p["trtllm"].admission, p["trtllm"].preemption) == ("peak", "none")
    assert p["jetstream"].schedule == "prefill_first"
    with pytest.raises(LlmhwError) as e:
        check_policy("engine", "mixed", "current", "none")
    assert e.value.field == "engine.preemption"


def test_goodput_counts_requests_within_every_limit(runs):
    loose = simulate(S, 20.0, 1500, seed=3, slo=["ttft_s.p99<=100", "tpot_s<=10"])
    # Every request meets limits this loose: goodput is the arrival rate.
    assert loose["good_share"] == 1.0 and loose["slo_met"]
    assert loose["goodput_req_s"] == pytest.approx(loose["arrival_rate_per_s"], rel=0.05)
    tight = simulate(S, 20.0, 1500, seed=3, slo=["ttft_s<=1e-6"])
    assert tight["goodput_req_s"] == 0.0 and not tight["slo_met"]
    with pytest.raises(LlmhwError) as e:
        simulate(S, 20.0, 300, slo=["ttft_s.p42<=1"])
    assert e.value.field == "--slo"


def test_economics_of_a_run_improve_with_load(runs):
    # The chips cost the same per hour; more requests a second spread it over more tokens.
    light, busy = runs[1.0], runs[20.0]
    assert light["cost_usd_per_mtok"] > busy["cost_usd_per_mtok"] > 0
    assert light["energy_j_per_token"] > busy["energy_j_per_token"] > 0


def test_find_chips_takes_the_fewest_that_serve_the_rate():
    from llmhw.api import find_chips

    slo = ["ttft_s.p99<=1", "tpot_s.p99<=0.05"]
    one = find_chips(S, 2.0, slo, requests=400)
    assert one["n_chips"] == 1 and not one["saturated"]
    # Far beyond one H100's capacity for this load (tens of requests a second): more chips,
    # each tried count below failing or carrying too little.
    many = find_chips(S, 400.0, slo, requests=800, max_chips=64)
    assert many["n_chips"] is not None and many["n_chips"] > 1
    assert many["ttft_s"]["p99"] <= 1 and many["tpot_s"]["p99"] <= 0.05 and not many["saturated"]
    assert all(t["n_chips"] <= many["n_chips"] for t in many["tried"])


def test_a_short_run_is_lengthened_to_a_steady_state():
    short = simulate(S, 20.0, 40, seed=1)
    r = simulate(S, 20.0, 40, seed=1, min_lifetimes=10)
    # Below saturation a lifetime does not grow with the run, so the lengthened run spans about
    # ten of them where the short one spans a few.
    assert short["lifetimes"] < 5 and r["requests"] > 40 and r["lifetimes"] >= 8
