"""Parameter counts, KV-cache sizes and FLOPs against hand arithmetic and published figures."""

import pytest

from llmhw.workload.catalog import load_model, model_ids, model_index

REQUIRED = [
    "llama-2-7b", "llama-2-13b", "llama-2-70b", "llama-3.1-8b", "llama-3.1-70b", "llama-3.1-405b",
    "llama-3.2-1b", "llama-3.2-3b", "llama-3.3-70b", "mistral-7b", "mixtral-8x7b", "mixtral-8x22b",
    "qwen2.5-7b", "qwen2.5-72b", "qwen3-8b", "qwen3-32b", "qwen3-235b-a22b", "qwen3-30b-a3b",
    "deepseek-v3", "deepseek-r1", "gemma-3-27b", "gpt-oss-20b", "gpt-oss-120b", "phi-3-mini",
]


def test_catalog_holds_required_ids():
    assert set(REQUIRED) <= set(model_ids())


def _tolerance(published: float, last_digit: float | None) -> float:
    """1% of the figure, or one unit of the last digit the authors printed ("14B" is only
    known to +-1B), whichever is larger."""
    return max(0.01 * published, last_digit or 0.0)


@pytest.mark.parametrize("mid", [m for m in model_index() if model_index()[m].get("published_total_params")])
def test_total_params_match_published(mid):
    e = model_index()[mid]
    m = load_model(mid)
    pub = float(e["published_total_params"])
    assert abs(m.total_params - pub) <= _tolerance(pub, e.get("published_total_last_digit")), (m.total_params, pub)


@pytest.mark.parametrize("mid", [m for m in model_index() if model_index()[m].get("published_active_params")])
def test_active_params_match_published(mid):
    e = model_index()[mid]
    m = load_model(mid)
    pub = float(e["published_active_params"])
    ours = m.active_params_incl_embedding if e["published_active_counts_embedding"] else m.active_params
    assert abs(ours - pub) <= _tolerance(pub, e.get("published_active_last_digit")), (ours, pub)


def test_issue_examples_within_one_percent():
    # The figures quoted in the foundation issue, each in its authors' convention.
    assert load_model("llama-3.1-70b").total_params == pytest.approx(70.6e9, rel=0.01)
    ds = load_model("deepseek-v3")
    assert ds.total_params == pytest.approx(671e9, rel=0.01)
    assert ds.active_params == pytest.approx(36.6e9, rel=0.01)  # DeepSeek README_WEIGHTS; "37B" rounded
    mx = load_model("mixtral-8x7b")
    assert mx.total_params == pytest.approx(46.7e9, rel=0.01)
    assert mx.active_params_incl_embedding == pytest.approx(12.9e9, rel=0.01)
    oss = load_model("gpt-oss-120b")
    assert oss.total_params == pytest.approx(117e9, rel=0.01)
    assert oss.active_params == pytest.approx(5.13e9, rel=0.01)


def test_llama_3_1_8b_params_by_hand():
    m = load_model("llama-3.1-8b")
    h, inter, L, V = 4096, 14336, 32, 128256
    attn = h * h + 2 * h * 1024 + h * h          # q, k, v (8 KV heads x 128), o
    ffn = 3 * h * inter                          # gate, up, down
    layer = attn + ffn + 2 * h                   # two RMSNorms
    total = L * layer + 2 * V * h + h            # untied embedding and head, final norm
    assert m.total_params == total == 8_030_261_248
    assert m.active_params == total - V * h      # the embedding is a lookup, not a matmul


def test_deepseek_v3_mla_moe_by_hand():
    m = load_model("deepseek-v3")
    h = 7168
    mla = (h * 1536 + 1536 + 1536 * 128 * 192     # q_a, its norm, q_b (nope 128 + rope 64 per head)
           + h * (512 + 64) + 512                # kv_a (latent + shared rope key), its norm
           + 512 * 128 * (128 + 128)             # kv_b (K nope and V per head)
           + 128 * 128 * h)                      # o
    expert = 3 * h * 2048
    dense_layer = mla + 3 * h * 18432 + 2 * h
    moe_layer = mla + 257 * expert + h * 256 + 256 + 2 * h   # 256 routed + 1 shared, router + bias
    assert m.n_dense_layers == 3 and m.n_moe_layers == 58
    assert m.total_params == 3 * dense_layer + 58 * moe_layer + 2 * 129280 * h + h
    active_moe = mla + 9 * expert + h * 256 + 256 + 2 * h
    assert m.active_params == 3 * dense_layer + 58 * active_moe + 129280 * h + h


def test_mla_kv_cache_per_token():
    # MLA caches the 512-wide latent plus the 64-wide shared RoPE key per layer: (512 + 64) x 61
    # layers x 2 bytes = 70,272 bytes, the "70 KB per token" DeepSeek-V3 is known for, against
    # 128 heads x (192 + 128) x 2 x 61 = 5.0 MB for the same attention without compression.
    m = load_model("deepseek-v3")
    assert m.kv_cache_bytes_per_token("bf16") == 70_272
    assert m.kv_cache_bytes_per_token("fp8") == 35_136


def test_gqa_kv_cache_per_token():
    # Llama 3.1 70B: 80 layers x 2 (K, V) x 8 KV heads x 128 x 2 bytes = 327,680 bytes.
    assert load_model("llama-3.1-70b").kv_cache_bytes_per_token("bf16") == 327_680


def test_sliding_window_layers():
    g3 = load_model("gemma-3-27b")
    assert (g3.n_layers, g3.n_sliding_layers, g3.sliding_window) == (62, 52, 1024)  # 5 local : 1 global
    assert g3.layer_attention[5] == "full" and g3.layer_attention[0] == "sliding"
    per_layer = 2 * 16 * 128 * 2
    assert g3.kv_cache_bytes(16384, "bf16") == per_layer * (10 * 16384 + 52 * 1024)
    oss = load_model("gpt-oss-120b")
    assert oss.n_sliding_layers == 18 and oss.sliding_window == 128
    g2 = load_model("gemma-2-27b")
    assert g2.layer_attention[:2] == ("sliding", "full")


def test_flops_per_token():
    m = load_model("llama-3.1-8b")
    assert m.flops_per_token(0) == 2 * m.active_params
    # Attention at context c: QK^T and AV, 2 FLOPs per MAC, 32 heads x 128 dims each, 32 layers.
    assert m.flops_per_token(1000) - m.flops_per_token(0) == 32 * 2 * 32 * (128 + 128) * 1000


def test_weight_bytes_by_precision():
    m = load_model("llama-3.1-8b")
    assert m.weight_bytes("bf16") == 2 * m.total_params
    assert m.weight_bytes("fp8") == m.total_params
    assert m.weight_bytes("fp4") == m.total_params * 4.5 / 8    # NVFP4: E4M3 scale per 16 values
    assert m.weight_bytes("int4") == m.total_params * 4.25 / 8  # group 128, fp16 scale + zero
