"""The one memory model (accounting/memory.py): bytes by hand, the prompt-chunk rule, and fit and
predict agreeing on random scenarios."""

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import llmhw
from llmhw import Scenario
from llmhw.accounting.fit import fit_at
from llmhw.accounting.memory import LOGIT_BYTES, MemoryModel
from llmhw.core.errors import LlmhwError
from llmhw.scenario.engines import default_profiles, engine_names


def scenario(**kw):
    d = {"model": "llama-3.1-8b", "hardware": "h100-sxm", "n_chips": 1,
         "workload": {"input_tokens": 100, "output_tokens": 28, "batch": 1}}
    d.update(kw)
    return Scenario.from_dict(d)


def test_kv_of_one_request_by_hand():
    # Llama 3.1 8B: 32 layers x (K, V) x 8 KV heads x 128 head_dim x 2 bytes (bf16) per token.
    per_token = 32 * 2 * 8 * 128 * 2
    mem = MemoryModel.of(scenario())
    for ctx in (1, 128, 4096, 131072):
        assert mem.at(1, ctx, 1).kv == per_token * ctx
    # TP2 halves the KV heads of a chip; fp8 halves the bytes.
    mem = MemoryModel.of(scenario(n_chips=4, parallelism={"tp": 2, "pp": 2}, precision={"kv_cache": "fp8"}))
    assert mem.at(3, 1000, 1).kv == 3 * 1000 * 16 * 2 * 4 * 128 * 1   # 16 layers per stage


def test_sliding_layers_hold_their_window():
    # Gemma 2 9B: 42 layers alternate sliding (window 4096) and full; 8 KV heads of 256.
    s = scenario(model="gemma-2-9b")
    m = s.model
    assert m.sliding_window == 4096 and m.n_sliding_layers == 21
    per_layer_token = 2 * 8 * 256 * 2
    mem = MemoryModel.of(s)
    assert mem.at(1, 10_000, 1).kv == per_layer_token * (21 * 10_000 + 21 * 4096)
    assert mem.at(1, 1000, 1).kv == per_layer_token * 42 * 1000


def test_activations_by_hand_and_the_chunk_rule():
    # Llama 3.1 8B, TP1: residual and normed copy (2 x 4096) plus the gated FFN (3 x 14336), wider
    # than attention (q 4096 + k,v 2 x 1024 + o 4096); bf16. FP32 logits over 128256 tokens.
    act_tok = (2 * 4096 + 3 * 14336) * 2
    logits = 128256 * LOGIT_BYTES
    s = scenario(workload={"input_tokens": 5000, "output_tokens": 10, "batch": 1})
    assert s.prefill_chunk_tokens == 8192                       # the default engine's
    assert MemoryModel.of(s).at(1, 5010, 5000).act == 5000 * act_tok + logits
    q = scenario(workload={"input_tokens": 5000, "output_tokens": 10, "batch": 1}, engine="qnn")
    assert q.prefill_chunk_tokens == 128
    assert MemoryModel.of(q).at(1, 5010, 5000).act == 128 * act_tok + logits
    assert llmhw.fit(q).activation_bytes == 128 * act_tok + logits
    # A step holds at least one token per request.
    assert MemoryModel.of(q).at(300, 5010, 5000).act == 300 * act_tok + 300 * logits


def test_chunk_rule_every_engine_and_replace():
    for name in engine_names():
        s = scenario(engine=name)
        assert s.prefill_chunk_tokens == default_profiles()[name].prefill_chunk_tokens
    s = scenario(engine="llama.cpp", workload={"input_tokens": 100, "output_tokens": 28, "prefill_chunk_tokens": 512})
    assert s.prefill_chunk_tokens == 512
    # replace() rebuilds the workload; an unset chunk stays the engine's.
    r = scenario(engine="llama.cpp").replace(workload={"batch": 4})
    assert r.prefill_chunk_tokens == 2048 and r.replace(engine="qnn").prefill_chunk_tokens == 128


def test_weights_that_overflow_give_no_batch():
    s = scenario(model="llama-3.1-405b", workload={"input_tokens": 100, "output_tokens": 28, "batch": "max"})
    f = llmhw.fit(s)
    d = llmhw.predict(s).to_dict()
    assert f.max_batch == 0 and not f.fits
    assert d["max_batch_memory"] == 0 and d["max_batch"] == 0 and not d["fits"]


def test_weights_tier_overflow_gives_no_batch():
    # Explicit placement of 140 GB of bf16 weights (70B) on a 24 GB HBM3E stack,
    # with the KV cache on a roomy flash tier: the KV tier alone would admit many requests.
    s = scenario(model="llama-3.1-70b", hardware="h200", overrides={"chip.memory": ["hbm3e", "hbf"]},
                 placement={"weights": "hbm3e", "kv_cache": "hbf"},
                 workload={"input_tokens": 100, "output_tokens": 28, "batch": "max"})
    assert s.chip.memory[0].capacity_bytes * 0.9 < 70e9 * 2
    assert llmhw.fit(s).max_batch == 0
    assert llmhw.predict(s).to_dict()["max_batch_memory"] == 0


def test_engine_cap_is_named():
    s = Scenario.from_yaml("examples/llama70b-h100x8.yaml")
    d = llmhw.predict(s.replace(workload={"batch": "max"})).to_dict()
    f = llmhw.fit(s)
    assert d["max_batch_engine"] == default_profiles()[s.engine].max_batch
    assert d["max_batch_memory"] == f.max_batch > d["max_batch_engine"]
    assert d["max_batch"] == d["max_batch_engine"] == d["batch"]
    assert any(str(d["max_batch_memory"]) in n and str(d["max_batch_engine"]) in n for n in d["notes"])
    a = llmhw.sweep(s, batch=[-1, 1])
    assert list(a["max_batch_memory"]) == [f.max_batch] * 2
    assert list(a["max_batch_engine"]) == [d["max_batch_engine"]] * 2


# -- fit and predict agree --------------------------------------------------------------------

MODELS = ["llama-3.1-8b", "llama-3.1-70b", "qwen3-32b", "mistral-7b", "phi-3-mini",    # dense / GQA / MHA
          "deepseek-v2-lite", "deepseek-v3",                                          # MLA (+ MoE)
          "mixtral-8x7b", "qwen3-30b-a3b", "gpt-oss-20b",                              # MoE
          "gemma-2-9b", "gemma-3-27b", "mistral-7b-v0.1"]                              # sliding windows
HARDWARE = ["h100-sxm", "h200", "b200", "mi300x"]


@st.composite
def scenarios(draw):
    model = draw(st.sampled_from(MODELS))
    tp = draw(st.sampled_from([1, 2, 4, 8]))
    pp = draw(st.integers(1, 4))
    dp = draw(st.sampled_from([1, 2]))
    ep = draw(st.sampled_from([1, tp * dp]))
    batch = draw(st.one_of(st.integers(1, 4096), st.just("max")))
    wl = {"input_tokens": draw(st.integers(1, 200_000)), "output_tokens": draw(st.integers(1, 4096)),
          "batch": batch}
    if draw(st.booleans()):
        wl["prefill_chunk_tokens"] = draw(st.integers(1, 100_000))
    d = {"model": model, "hardware": draw(st.sampled_from(HARDWARE)), "n_chips": tp * pp * dp,
         "parallelism": {"tp": tp, "pp": pp, "dp": dp, "ep": ep},
         "precision": {"weights": draw(st.sampled_from(["bf16", "fp8", "fp4"])),
                       "kv_cache": draw(st.sampled_from(["bf16", "fp8"]))},
         "workload": wl, "engine": draw(st.sampled_from(engine_names()))}
    tiers = draw(st.sampled_from(["one", "auto", "explicit", "near"]))
    if tiers in ("auto", "explicit"):
        d["overrides"] = {"chip.memory": ["hbm3e", "hbf"]}
        if tiers == "explicit":
            d["placement"] = draw(st.sampled_from([{"weights": "hbf", "kv_cache": "hbm3e"},
                                                   {"weights": "hbm3e", "kv_cache": "hbf"}]))
    elif tiers == "near":
        d["overrides"] = {"chip.near_memory": draw(st.sampled_from(["pim-hbm", "pnm-hbm"]))}
    try:
        return Scenario.from_dict(d)
    except LlmhwError:
        assume(False)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(scenarios())
def test_fit_and_predict_agree(s):
    f = llmhw.fit(s)
    d = llmhw.predict(s).to_dict()
    m = d["memory"]
    assert f.max_batch == d["max_batch_memory"]
    assert d["max_batch"] == min(d["max_batch_memory"], d["max_batch_engine"])
    assert f.capacity_bytes == pytest.approx(m["capacity_bytes"], rel=1e-12)
    assert f.usable_bytes == pytest.approx(m["usable_bytes"], rel=1e-12)
    # The memory limit is the largest batch that fits: one more request per replica does not.
    if f.max_batch >= 1:
        assert fit_at(s, f.max_batch)
        assert not fit_at(s, f.max_batch + s.parallelism.dp)
    # With 'max', predict also applies the engine's cap, so the bytes are at another batch.
    if s.workload.batch == "max" and d["max_batch_engine"] < d["max_batch_memory"]:
        return
    assert f.batch == d["batch"]
    assert f.fits == d["fits"]
    for ours, theirs in ((f.weights_bytes, "weights_bytes"), (f.kv_cache_bytes, "kv_cache_bytes"),
                         (f.activation_bytes, "activation_bytes"), (f.total_bytes, "total_bytes")):
        assert ours == pytest.approx(m[theirs], rel=1e-12)
    for t_fit, t_pred in zip(f.tiers(), d["memory_tiers"], strict=True):
        assert t_fit["used_bytes"] == pytest.approx(t_pred["used_bytes"], rel=1e-12)
