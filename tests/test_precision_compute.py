"""Weights stored in one type, multiplied in another (precision.compute and the W8A16 shorthand)."""

import pytest

import llmhw
from llmhw import Scenario
from llmhw.accounting.operators import Op
from llmhw.api import operator_totals, step_cost
from llmhw.cost.params import engine_profile, family_params
from llmhw.cost.roofline import price_ops
from llmhw.hardware.catalog import chips
from llmhw.workload.hf_config import model_from_hf_config

TINY = model_from_hf_config({
    "model_type": "llama", "hidden_size": 64, "intermediate_size": 256, "num_hidden_layers": 2,
    "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 100, "max_position_embeddings": 512,
}, model_id="tiny")
# One layer's weights: q (4 heads x 16) + k, v (2 KV heads x 16) + o + the gated FFN; the LM head.
LAYER = 64 * 64 + 2 * 64 * 32 + 64 * 64 + 3 * 64 * 256
HEAD = 100 * 64


def scenario(precision):
    return Scenario.from_dict({"model": TINY, "hardware": "a100-sxm-80gb", "n_chips": 1, "precision": precision,
                               "workload": {"input_tokens": 10, "output_tokens": 4, "batch": 3}})


def test_w8a16_reads_int8_bytes_and_books_gemm_flops_at_bf16():
    s = scenario("W8A16")
    t = operator_totals(s, "decode", 3, 10)
    assert t["weight_bytes"] == 2 * LAYER * 1 + HEAD * 1           # 1 byte per weight, head as the weights
    c = step_cost(s, "decode", 3, 10)
    # Every FLOP, GEMM and attention alike, runs in bf16 although the A100 lists 624 int8 TOPS.
    assert set(c.flops) == {"bf16"}
    assert float(c.flops["bf16"]) == pytest.approx(float(t["flops"]))


def test_w8a8_books_gemm_flops_at_int8_and_attention_at_bf16():
    s = scenario("W8A8")
    c = step_cost(s, "decode", 3, 10)
    attn = 2 * 2 * 4 * (16 + 16) * 3 * 10                          # 2 layers, 3 queries x 10 keys, 4 heads
    gemm = 2 * 3 * (2 * LAYER) + 2 * 3 * HEAD
    assert float(c.flops["int8"]) == gemm and float(c.flops["bf16"]) == attn


def test_gemm_priced_at_the_compute_types_peak():
    """A large GEMM (m, n far above the efficiency knees): its compute time is FLOPs over the named
    type's peak times the family's efficiency, so W8A16 over W8A8 is the int8 / bf16 peak ratio."""
    chip = chips()["a100-sxm-80gb"]
    fp, prof = family_params(chip.family), engine_profile("default")
    F, m, n = 1e15, 1e6, 1e6
    eff = fp.compute_eff_max * m / (m + fp.compute_m_half) * n / (n + fp.compute_n_half)

    def compute_s(compute):
        op = Op("ffn", "gemm", 1, flops=F, weight_bytes=1.0, m=m, n=n, weight_precision="int8",
                compute_precision=compute)
        return float(price_ops([op], chip, chip.peak_flops, "bf16", fp, prof, None, None).compute_s)

    assert compute_s("bf16") == pytest.approx(F / (chip.peak_flops["bf16"] * eff))
    assert compute_s("int8") == pytest.approx(F / (chip.peak_flops["int8"] * eff))
    assert compute_s("bf16") / compute_s("int8") == pytest.approx(624 / 312)


def test_shorthand_equals_long_form():
    assert scenario("W8A16").precision == scenario({"weights": "int8", "compute": "bf16"}).precision
    assert scenario({"scheme": "w4a16", "kv_cache": "fp8"}).precision == \
        scenario({"weights": "int4", "compute": "bf16", "kv_cache": "fp8"}).precision
    a, b = llmhw.predict(scenario("W4A4")), llmhw.predict(scenario({"weights": "int4", "compute": "int4"}))
    assert a.to_dict() == b.to_dict()


def test_without_compute_the_engine_rule_stands():
    # int8 weights on a chip listing int8 still multiply in int8 (every earlier scenario as before).
    c = step_cost(scenario({"weights": "int8"}), "decode", 3, 10)
    assert "int8" in c.flops
    s = scenario("W8A16").replace(precision={"kv_cache": "fp8"})
    assert (s.precision.weights, s.precision.compute, s.precision.kv_cache) == ("int8", "bf16", "fp8")
    assert scenario("W8A16").replace(precision="W8A8").precision.compute == "int8"


@pytest.mark.parametrize("bad, field", [
    ("W3A16", "precision.scheme"),
    ({"scheme": "W8A16", "weights": "int4"}, "precision.weights"),
    ({"scheme": "W8A8", "compute": "bf16"}, "precision.compute"),
    ({"compute": "int3"}, "precision.compute"),
    ({"scheme": 8}, "precision.scheme"),
])
def test_bad_precision_is_refused_with_its_field(bad, field):
    with pytest.raises(llmhw.LlmhwError) as e:
        scenario(bad)
    assert e.value.field == field and e.value.accepted
