"""Tensor parallelism that does not divide the heads: engines that pad (NxD Inference's rule)."""

import pytest

import llmhw
from llmhw import Scenario
from llmhw.accounting.operators import OperatorModel, decode_step, totals
from llmhw.scenario.padding import padded_heads
from llmhw.workload.hf_config import model_from_hf_config

TINY = model_from_hf_config({
    "model_type": "llama", "hidden_size": 64, "intermediate_size": 256, "num_hidden_layers": 2,
    "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 99, "max_position_embeddings": 512,
}, model_id="tiny")


@pytest.mark.parametrize("heads, kv, ranks, expect", [
    (32, 32, 12, (36, 36)),    # MHA: ceil(32 / 12) = 3 heads a rank, K/V padded alike
    (32, 8, 12, (36, 36)),     # 12 and 8 do not divide one another: K/V replicated to one per query head
    (32, 8, 24, (48, 24)),     # 24 = 3 x 8: each KV head replicated to one per rank
    (64, 8, 24, (72, 24)),     # Llama 70B on 24 NeuronCores: 3 query heads and 1 KV head a rank
    (40, 40, 24, (48, 48)),    # Llama 2 13B
    (32, 8, 8, (32, 8)),       # divides: nothing padded
    (64, 8, 4, (64, 8)),       # KV heads that tp divides stay
])
def test_padded_head_counts(heads, kv, ranks, expect):
    assert padded_heads(heads, kv, ranks) == expect


def scenario(engine="vllm-neuron", tp=3, **par):
    return Scenario.from_dict({"model": TINY, "hardware": "h100-sxm", "n_chips": tp, "engine": engine,
                               "parallelism": {"tp": tp, **par},
                               "workload": {"input_tokens": 10, "output_tokens": 4, "batch": 3}})


def test_padded_heads_cost_their_flops_weights_and_kv():
    """4 heads and 2 KV heads over tp 3: 2 query heads a chip (6 computed, +50%), and, 3 and 2 not
    dividing one another, the K/V heads replicated to one per query head (2 a chip); the FFN
    width 256 padded to 258 (86 a chip)."""
    s = scenario()
    assert (s.run_model.n_heads, s.run_model.n_kv_heads, s.run_model.intermediate_size) == (6, 6, 258)
    assert (s.model.n_heads, s.model.n_kv_heads) == (4, 2)          # the model itself is untouched
    t = totals(OperatorModel(s).ops(decode_step(TINY, 3, 10)))
    d = 16                                                            # head_dim
    attn = 2 * 2 * (d + d) * 3 * 10                # per layer: 2 heads a chip, 3 queries x 10 keys
    qkv, o, ffn = 64 * 2 * d + 2 * 64 * 2 * d, 2 * d * 64, 3 * 64 * 86
    head = 99 * 64 / 3
    assert t["flops"] == pytest.approx(2 * (2 * 3 * (qkv + o + ffn) + attn) + 2 * 3 * head)
    assert t["weight_bytes"] == pytest.approx(2 * 2 * (qkv + o + ffn) + 2 * head)
    # Each of 3 requests reads 10 cached tokens, per layer, K and V of 2 heads x 16 in bf16.
    assert t["kv_read_bytes"] == 2 * 3 * 10 * (2 * 2 * d) * 2
    # Three chips compute 6 heads where the model has 4: 50% more attention FLOPs in all.
    unpadded = 2 * 4 * (d + d) * 3 * 10
    assert 3 * attn / unpadded == 1.5


def test_llama_32_heads_on_12_chips_computes_36_heads():
    s = Scenario.from_dict({"model": "llama-3.1-8b", "hardware": "h100-sxm", "n_chips": 12, "engine": "vllm-neuron",
                            "parallelism": {"tp": 12}, "workload": {"input_tokens": 128, "output_tokens": 8}})
    att = [o for o in OperatorModel(s).ops(decode_step(s.model, 1, 1000)) if o.name == "attention"][0]
    per_chip = 2 * 3 * (128 + 128) * 1000                     # 3 heads a chip, 1,000 keys
    assert att.flops == per_chip
    assert 12 * per_chip / (2 * 32 * 256 * 1000) == 1.125     # 12.5% more attention FLOPs
    assert any("32 -> 36 query heads" in n for n in llmhw.fit(s).notes)


def test_ranks_per_chip_pads_for_every_neuroncore():
    """24 NeuronCores on 12 chips: 32 heads padded to 48 (2 a core, 4 a chip), 8 KV heads
    replicated to 24 (1 a core, 2 a chip)."""
    s = Scenario.from_dict({"model": "llama-3.1-8b", "hardware": "h100-sxm", "n_chips": 12, "engine": "vllm-neuron",
                            "parallelism": {"tp": 12, "ranks_per_chip": 2},
                            "workload": {"input_tokens": 128, "output_tokens": 8}})
    ops = OperatorModel(s).ops(decode_step(s.model, 1, 1000))
    att = [o for o in ops if o.name == "attention"][0]
    assert att.flops == 2 * 4 * 256 * 1000
    assert att.kv_read_bytes == 1000 * 2 * 2 * 128 * 2       # 2 KV heads a chip, K and V, bf16


def test_engines_that_do_not_pad_refuse_naming_the_field_and_the_tps():
    with pytest.raises(llmhw.LlmhwError) as e:
        scenario(engine="vllm")
    assert e.value.field == "parallelism.tp"
    assert e.value.accepted == "1, 2, 4"
    assert "vllm-neuron" in e.value.detail            # says which engines pad
    with pytest.raises(llmhw.LlmhwError) as e:
        scenario(engine="vllm", tp=4, ranks_per_chip=2)      # 8 ranks for 4 heads
    assert e.value.accepted == "1, 2" and "4 x 2 = 8 ranks" in e.value.detail
    scenario(engine="vllm", tp=2)                      # divides: fine, and nothing padded
    assert scenario(engine="vllm", tp=2).run_model is TINY
