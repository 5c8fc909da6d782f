"""Memory per chip against bytes derived by hand, and the fit invariants."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmhw import Scenario, fit
from llmhw.accounting.fit import fit_at
from llmhw.accounting.sharding import attention_params_per_chip, stage_layers
from llmhw.core.errors import LlmhwError


def scenario(**kw):
    d = {"model": "llama-3.1-70b", "hardware": "h100-sxm", "n_chips": 8, "parallelism": {"tp": 8},
         "precision": {"weights": "fp8", "kv_cache": "fp8", "activations": "bf16"},
         "workload": {"input_tokens": 1024, "output_tokens": 1024, "batch": 64}}
    d.update(kw)
    return Scenario.from_dict(d)


def test_llama_70b_tp8_by_hand():
    r = fit(scenario())
    h, inter, V = 8192, 28672, 128256
    # Per chip and layer: q and o split 8 ways, one of the 8 KV heads, 1/8 of the FFN, norms whole.
    layer = h * h // 8 + 2 * h * 128 + h * h // 8 + 3 * h * inter // 8 + 2 * h
    params = 80 * layer + 2 * V * h // 8 + h            # vocab-parallel embedding and head; final norm
    assert r.weights_bytes == params * 1.0              # fp8: one byte each
    # KV: 64 requests x 2048 tokens x 80 layers x (K,V) x 1 head x 128 x 1 byte.
    assert r.kv_cache_bytes == 64 * 2048 * 80 * 2 * 128
    # Activations: a 1024-token prompt step; per token the residual and its normed copy (2h) plus
    # the FFN's gate, up and product (3 x 28672 / 8), in bf16; fp32 logits for 64 requests.
    act = 1024 * (2 * h + 3 * inter // 8) * 2 + 64 * V // 8 * 4
    assert r.activation_bytes == act
    assert r.capacity_bytes == 80e9 and r.usable_bytes == pytest.approx(72e9)
    assert r.fits
    # Largest batch: weights + r x (KV per request + activations per request) <= 72 GB; beyond
    # 1024 requests a decode step outgrows the prompt chunk, so activations grow with r too.
    per_req = 2048 * 80 * 2 * 128 + (2 * h + 3 * inter // 8) * 2 + V // 8 * 4
    assert r.max_batch == int((72e9 - r.weights_bytes) // per_req)


def test_deepseek_v3_on_h200_mla_replicated_by_hand():
    r = fit(scenario(model="deepseek-v3", hardware="h200",
                     workload={"input_tokens": 2048, "output_tokens": 2048, "batch": 16}))
    h = 7168
    replicated = h * 1536 + 1536 + h * 576 + 512                      # q_a, kv_a and their norms
    split = 1536 * 128 * 192 + 512 * 128 * 256 + 128 * 128 * h        # q_b, kv_b, o
    attn = replicated + split / 8
    dense = attn + 3 * h * 18432 / 8 + 2 * h
    moe = attn + 256 * 3 * h * 2048 / 8 + (h * 256 + 256) + 3 * h * 2048 / 8 + 2 * h
    params = 3 * dense + 58 * moe + 2 * 129280 * h / 8 + h
    assert r.weights_bytes == pytest.approx(params, rel=1e-12)
    assert r.weights_bytes == pytest.approx(84_780_357_120, rel=1e-12)
    # The latent cache is not split by TP: every chip holds all of it.
    assert r.kv_cache_bytes == 16 * 4096 * 61 * 576
    assert any("replicated" in n for n in r.notes)


def test_mixtral_tp2_dp2_ep4_by_hand():
    r = fit(scenario(model="mixtral-8x7b", n_chips=4, parallelism={"tp": 2, "dp": 2, "ep": 4},
                     precision={"weights": "bf16", "kv_cache": "bf16"},
                     workload={"input_tokens": 1024, "output_tokens": 1024, "batch": 8}))
    h = 4096
    experts = 8 * 3 * h * 14336 / 4          # 1/(tp x dp) of all experts: 2 whole experts per chip
    attn = h * h / 2 + 2 * h * 128 * 4 + h * h / 2   # 8 KV heads over tp=2: 4 per chip
    layer = attn + experts + h * 8 + 2 * h
    params = 32 * layer + 2 * 32000 * h / 2 + h
    assert r.weights_bytes == params * 2
    # 8 requests over dp=2: 4 per replica; 4 KV heads per chip.
    assert r.requests_per_replica == 4
    assert r.kv_cache_bytes == 4 * 2048 * 32 * 2 * 4 * 128 * 2


def test_gemma3_sliding_window_kv():
    r = fit(scenario(model="gemma-3-27b", n_chips=1, parallelism={"tp": 1},
                     precision={"weights": "bf16", "kv_cache": "bf16"},
                     workload={"input_tokens": 8192, "output_tokens": 8192, "batch": 2}))
    # 10 global layers hold all 16384 tokens; 52 local layers hold the 1024-token window.
    assert r.kv_cache_bytes == 2 * (2 * 16 * 128 * 2) * (10 * 16384 + 52 * 1024)


def test_kv_heads_fewer_than_tp_are_replicated():
    r = fit(scenario(n_chips=16, parallelism={"tp": 16}))
    assert r.kv_cache_bytes == 64 * 2048 * 80 * 2 * 128   # still one full KV head per chip
    assert any("replicated on 2 chips" in n for n in r.notes)


def test_pipeline_stages_split_like_vllm():
    assert [len(s) for s in stage_layers(61, 4)] == [15, 15, 16, 15]   # extra layer before the last stage
    assert [len(s) for s in stage_layers(62, 4)] == [15, 16, 16, 15]
    assert [len(s) for s in stage_layers(80, 4)] == [20, 20, 20, 20]
    r = fit(scenario(model="deepseek-v3", hardware="h200", n_chips=16, parallelism={"tp": 8, "pp": 2}))
    assert r.stage in (0, 1)
    assert any("uneven" in n for n in r.notes)


def test_tp1_holds_whole_model():
    r = fit(scenario(model="llama-3.2-1b", n_chips=1, parallelism={"tp": 1},
                     precision={"weights": "bf16"}))
    from llmhw import load_model
    assert r.weights_bytes == load_model("llama-3.2-1b").weight_bytes("bf16")


def test_does_not_fit_is_a_result_with_advice():
    r = fit(scenario(n_chips=1, parallelism={"tp": 1}))
    assert not r.fits
    assert r.overflow_bytes == pytest.approx(r.total_bytes - 72e9)
    text = " ".join(r.advice)
    assert "smaller batch" in text and "more chips" in text and "lower precision" in text
    # The suggested batch really fits, one more does not.
    assert fit_at(r.scenario, r.max_batch) and not fit_at(r.scenario, r.max_batch + 1)


def test_weights_alone_too_big():
    r = fit(scenario(model="llama-3.1-405b", n_chips=1, parallelism={"tp": 1}, precision={"weights": "bf16"}))
    assert not r.fits and r.max_batch == 0
    assert r.to_dict()["overflow_bytes"] > 700e9


def test_batch_max_takes_largest_fitting():
    r = fit(scenario(workload={"input_tokens": 1024, "output_tokens": 1024, "batch": "max"}))
    assert r.batch == r.max_batch == 1502 and r.fits


@pytest.mark.parametrize("tp", [1, 2, 4, 8])
def test_attention_split_sums_to_whole(tp):
    from llmhw import load_model
    m = load_model("llama-3.1-70b")
    ds = load_model("deepseek-v3")
    assert attention_params_per_chip(m, 1) == m.attention_params
    assert attention_params_per_chip(ds, 1) == ds.attention_params
    # q, o and (with tp <= KV heads) k, v split exactly.
    assert attention_params_per_chip(m, tp) * tp == m.attention_params


@settings(max_examples=40, deadline=None)
@given(tp=st.sampled_from([1, 2, 4, 8]), batch=st.integers(1, 4096),
       ctx=st.integers(1, 16384), w=st.sampled_from(["bf16", "fp8", "fp4"]))
def test_invariants(tp, batch, ctx, w):
    s = scenario(n_chips=tp, parallelism={"tp": tp}, precision={"weights": w, "kv_cache": "fp8"},
                 workload={"input_tokens": ctx, "output_tokens": 128, "batch": batch})
    r = fit(s)
    # More requests never need less memory; fits exactly when total <= usable.
    r2 = fit(s.replace(workload={"batch": batch + 1}))
    assert r2.total_bytes >= r.total_bytes
    assert r.fits == (r.total_bytes <= r.usable_bytes)
    # max_batch is the boundary: it fits, one more does not.
    if r.max_batch:
        assert fit_at(s, r.max_batch) and not fit_at(s, r.max_batch + 1)
    # Twice the chips never hold more weights each.
    if tp < 8:
        r3 = fit(s.replace(n_chips=2 * tp, parallelism={"tp": 2 * tp}))
        assert r3.weights_bytes < r.weights_bytes


@pytest.mark.parametrize("kw, field", [
    ({"parallelism": {"tp": 3}, "n_chips": 3}, "parallelism.tp"),
    ({"parallelism": {"tp": 8}, "n_chips": 4}, "n_chips"),
    ({"parallelism": {"tp": 8, "ep": 2}}, "parallelism.ep"),
    ({"parallelism": {"tp": 1, "pp": 81}, "n_chips": 81}, "parallelism.pp"),
    ({"model": "mixtral-8x7b", "parallelism": {"tp": 8, "ep": 3}}, "parallelism.ep"),
    ({"model": "mixtral-8x7b", "n_chips": 4, "parallelism": {"tp": 2, "dp": 2, "ep": 8}}, "parallelism.ep"),
    ({"precision": {"weights": "fp6"}}, "precision.weights"),
    ({"workload": {"input_tokens": 0, "output_tokens": 8}}, "workload.input_tokens"),
    ({"workload": {"input_tokens": 8, "output_tokens": 8, "batch": -1}}, "workload.batch"),
    ({"workload": {"output_tokens": 8}}, "workload.input_tokens"),
    ({"hardware": "hgx-h100-8", "n_chips": 16, "parallelism": {"tp": 8, "pp": 2}}, "n_chips"),
    ({"memory_utilization": 1.5}, "memory_utilization"),
    ({"hardware": "h100"}, "hardware"),
    ({"colour": "blue"}, "colour"),
])
def test_bad_scenarios_name_the_field(kw, field):
    with pytest.raises(LlmhwError) as e:
        scenario(**kw)
    assert e.value.field == field, str(e.value)


def test_engine_and_compute_unit_are_checked():
    with pytest.raises(LlmhwError) as e:
        scenario(engine="tgi")
    assert e.value.field == "engine" and "vllm" in str(e.value)
    with pytest.raises(LlmhwError) as e:
        scenario(compute_unit="npu")          # an H100 has one compute path
    assert e.value.field == "compute_unit"
    s = scenario(model="llama-3.2-1b", hardware="snapdragon-8-elite", n_chips=1, parallelism={"tp": 1},
                 compute_unit="gpu", engine="llama.cpp")
    assert s.compute_unit == "gpu" and s.engine == "llama.cpp"
