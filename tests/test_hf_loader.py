"""Reading Hugging Face config.json files, and the errors for bad ones."""

import json

import pytest

from llmhw.core.errors import LlmhwError
from llmhw.workload.catalog import load_model, model_index
from llmhw.workload.hf_config import SUPPORTED_MODEL_TYPES, load_hf_config, model_from_hf_config

TINY = {
    "model_type": "llama", "hidden_size": 64, "intermediate_size": 256, "num_hidden_layers": 2,
    "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 100, "max_position_embeddings": 512,
    "tie_word_embeddings": False,
}


def test_every_required_model_type_has_a_reader():
    need = {"llama", "mistral", "mixtral", "qwen2", "qwen2_moe", "qwen3", "qwen3_moe", "deepseek_v3",
            "gemma2", "gemma3", "gemma3_text", "gpt_oss", "phi3"}
    assert need <= set(SUPPORTED_MODEL_TYPES)


def test_catalog_covers_every_reader():
    seen = {load_model(m).model_type for m in model_index()}
    assert {"llama", "mistral", "mixtral", "qwen2", "qwen2_moe", "qwen3", "qwen3_moe", "deepseek_v3",
            "gemma2", "gemma3_text", "gpt_oss", "phi3"} <= seen


def test_tiny_llama_by_hand(tmp_path):
    p = tmp_path / "config.json"
    p.write_text(json.dumps(TINY))
    m = load_hf_config(p)
    assert m.head_dim == 16 and m.attention_kind == "gqa"
    attn = 64 * 64 + 2 * 64 * 32 + 64 * 64
    layer = attn + 3 * 64 * 256 + 2 * 64
    assert m.total_params == 2 * layer + 2 * 100 * 64 + 64
    assert m.kv_cache_bytes_per_token("bf16") == 2 * 2 * 2 * 16 * 2  # layers x (K,V) x heads x dim x 2 B


def test_moe_layer_patterns():
    q = model_from_hf_config(
        {**TINY, "model_type": "qwen3_moe", "num_experts": 8, "num_experts_per_tok": 2, "moe_intermediate_size": 32,
         "num_hidden_layers": 4, "decoder_sparse_step": 2, "mlp_only_layers": [3]},
        model_id="t")
    assert q.layer_ffn == ("dense", "moe", "dense", "dense")
    ds = load_model("deepseek-v3")
    assert ds.layer_ffn[:4] == ("dense", "dense", "dense", "moe")


def test_unknown_model_type_lists_supported():
    with pytest.raises(LlmhwError) as e:
        model_from_hf_config({**TINY, "model_type": "falcon"}, model_id="x")
    assert "falcon" in str(e.value) and "llama" in str(e.value) and e.value.field.endswith("model_type")


def test_missing_field_is_named():
    cfg = dict(TINY)
    del cfg["num_hidden_layers"]
    with pytest.raises(LlmhwError) as e:
        model_from_hf_config(cfg, model_id="x")
    assert "num_hidden_layers" in str(e.value) and "llama" in str(e.value)


def test_missing_moe_field_is_named():
    with pytest.raises(LlmhwError) as e:
        model_from_hf_config({**TINY, "model_type": "mixtral", "num_experts_per_tok": 2}, model_id="x")
    assert "num_local_experts" in str(e.value)


def test_negative_and_mistyped_fields():
    with pytest.raises(LlmhwError, match="hidden_size"):
        model_from_hf_config({**TINY, "hidden_size": -64}, model_id="x")
    with pytest.raises(LlmhwError, match="num_attention_heads"):
        model_from_hf_config({**TINY, "num_attention_heads": "four"}, model_id="x")


def test_malformed_json(tmp_path):
    p = tmp_path / "config.json"
    p.write_text('{"model_type": "llama",')
    with pytest.raises(LlmhwError, match="malformed JSON"):
        load_hf_config(p)


def test_unknown_catalog_id_suggests():
    with pytest.raises(LlmhwError) as e:
        load_model("llama-3.1-7b")
    assert "did you mean" in str(e.value) and "llama-3.1-8b" in str(e.value)


def test_path_to_config_dir(tmp_path):
    (tmp_path / "mymodel").mkdir()
    (tmp_path / "mymodel" / "config.json").write_text(json.dumps(TINY))
    assert load_model(str(tmp_path / "mymodel")).id == "mymodel"
