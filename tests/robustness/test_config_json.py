"""Hugging Face config.json files as a hostile user writes them.

Each bad case is a shipped catalog config with one field spoiled, written to a file and shown
through the command line: it must be refused on one line that names the field. The odd-but-valid
cases must answer with finite figures that agree with hand arithmetic or with the unspoiled model.
Then Hypothesis mutates the shipped configs at random (tests/robustness/hf_mutations.py holds
the mutations and the property every answer must have).
"""

from __future__ import annotations

import json
import random
from importlib import resources
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.robustness.harness import assert_answered, assert_refused, run_cli, strict_json, write
from tests.robustness.hf_mutations import (
    DELETE,
    KEYS,
    ODD_VALUES,
    apply,
    check,
    check_spec_case,
    layer_list,
    random_case,
    random_spec_case,
    shipped_configs,
)

from llmhw.core.errors import LlmhwError
from llmhw.workload.catalog import load_model
from llmhw.workload.hf_config import model_from_hf_config
from llmhw.workload.model import (
    MAX_CONTEXT,
    MAX_EXPERTS,
    MAX_FFN,
    MAX_HEAD_DIM,
    MAX_HEADS,
    MAX_HIDDEN,
    MAX_LAYERS,
    MAX_VOCAB,
)


def shipped(name: str) -> dict[str, Any]:
    root = resources.files("llmhw.workload").joinpath("catalog/models")
    return json.loads(root.joinpath(name).read_text())


def spoiled(name: str, path: str, value: Any) -> dict[str, Any]:
    """Shipped config ``name`` with the field at dotted ``path`` set to ``value`` (or deleted)."""
    cfg = shipped(name)
    *outer, last = path.split(".")
    target = cfg
    for k in outer:
        target = target[k]
    if value is DELETE:
        del target[last]
    else:
        target[last] = value
    return cfg


def config_file(tmp_path, cfg: Any) -> str:
    """Write ``cfg`` as tmp/model/config.json; json.dumps writes NaN and Infinity literally,
    as a careless script would."""
    (tmp_path / "model").mkdir()
    return str(write(tmp_path / "model", "config.json", json.dumps(cfg)))


L8, MX, DS, G3, G2 = "llama-3.1-8b.json", "mixtral-8x7b.json", "deepseek-v3.json", "gemma-3-27b.json", "gemma-2-9b.json"
OSS, Q3M, Q15M, Q2, M01 = "gpt-oss-20b.json", "qwen3-30b-a3b.json", "qwen1.5-moe-a2.7b.json", "qwen2-7b.json", "mistral-7b-v0.1.json"

# (shipped file, spoiled field, value, names the error line must hold)
BAD: list[tuple[str, str, Any, tuple[str, ...]]] = [
    (L8, "num_attention_heads", 0, ("num_attention_heads",)),
    (L8, "num_attention_heads", -32, ("num_attention_heads",)),
    (L8, "num_attention_heads", True, ("num_attention_heads",)),
    (L8, "num_attention_heads", "32", ("num_attention_heads",)),
    (L8, "hidden_size", 4097, ("hidden_size", "num_attention_heads")),
    (L8, "hidden_size", DELETE, ("hidden_size",)),
    (L8, "hidden_size", 10**400, ("hidden_size",)),
    (L8, "head_dim", 0, ("head_dim",)),
    (L8, "num_key_value_heads", 0, ("num_key_value_heads",)),
    (L8, "num_key_value_heads", 5, ("num_key_value_heads",)),
    (L8, "num_key_value_heads", 64, ("num_key_value_heads",)),
    (L8, "model_type", ["llama"], ("model_type",)),
    (L8, "model_type", {"name": "llama"}, ("model_type",)),
    (L8, "model_type", 7, ("model_type",)),
    (L8, "model_type", "falcon", ("model_type", "llama")),
    (L8, "model_type", "x" * 100_000, ("model_type",)),
    (L8, "vocab_size", 0, ("vocab_size",)),
    (L8, "intermediate_size", 0, ("intermediate_size",)),
    (L8, "intermediate_size", [14336], ("intermediate_size",)),
    (L8, "max_position_embeddings", 0, ("max_position_embeddings",)),
    (L8, "max_position_embeddings", -1, ("max_position_embeddings",)),
    (L8, "num_hidden_layers", 1e12, ("num_hidden_layers",)),
    (L8, "num_hidden_layers", 10**30, ("num_hidden_layers",)),
    (L8, "num_hidden_layers", 32.5, ("num_hidden_layers",)),
    (L8, "tie_word_embeddings", "yes", ("tie_word_embeddings",)),
    (M01, "sliding_window", 0, ("sliding_window",)),
    (M01, "sliding_window", "4k", ("sliding_window",)),
    (Q2, "use_sliding_window", 1, ("use_sliding_window",)),
    (Q2, "max_window_layers", -1, ("max_window_layers",)),
    (MX, "num_local_experts", 0, ("num_local_experts",)),
    (MX, "num_local_experts", 10**9, ("num_local_experts",)),
    (MX, "num_experts_per_tok", 9, ("num_experts_per_tok", "num_local_experts")),
    (MX, "num_experts_per_tok", 0, ("num_experts_per_tok",)),
    (DS, "kv_lora_rank", 0, ("kv_lora_rank",)),
    (DS, "q_lora_rank", 0, ("q_lora_rank",)),
    (DS, "qk_rope_head_dim", -64, ("qk_rope_head_dim",)),
    (DS, "v_head_dim", "128", ("v_head_dim",)),
    (DS, "moe_layer_freq", 0, ("moe_layer_freq",)),
    (DS, "n_routed_experts", 0, ("n_routed_experts",)),
    (DS, "num_experts_per_tok", 300, ("num_experts_per_tok",)),
    (DS, "topk_method", 5, ("topk_method",)),
    (G3, "text_config.layer_types", "sliding_attention", ("text_config.layer_types",)),
    (G3, "text_config.layer_types", ["sliding_attention"] * 61, ("layer_types", "62")),
    (G3, "text_config.layer_types", ["sliding_attention"] * 61 + [{"kind": "full"}], ("layer_types[61]",)),
    (G3, "text_config.sliding_window_pattern", 0, ("sliding_window_pattern",)),
    (G3, "text_config.num_attention_heads", 0, ("text_config.num_attention_heads",)),
    (G3, "text_config", 5, ("text_config",)),
    (G2, "sliding_window", DELETE, ("sliding_window",)),
    (OSS, "layer_types", {"0": "full_attention"}, ("layer_types",)),
    (OSS, "num_experts_per_tok", 64, ("num_experts_per_tok",)),
    (OSS, "sliding_window", -128, ("sliding_window",)),
    (Q3M, "mlp_only_layers", 3, ("mlp_only_layers",)),
    (Q3M, "mlp_only_layers", [48], ("mlp_only_layers[0]",)),
    (Q3M, "mlp_only_layers", [{"layer": 1}], ("mlp_only_layers[0]",)),
    (Q3M, "decoder_sparse_step", 0, ("decoder_sparse_step",)),
    (Q3M, "num_experts", 0, ("num_experts",)),
    (Q3M, "moe_intermediate_size", 0, ("moe_intermediate_size",)),
    (Q15M, "shared_expert_intermediate_size", -1, ("shared_expert_intermediate_size",)),
]


@pytest.mark.parametrize("name, path, value, names", BAD,
                         ids=[f"{n.removesuffix('.json')}-{p}-{str(v)[:12]}" for n, p, v, _ in BAD])
def test_bad_field_is_refused_by_name(capsys, tmp_path, name, path, value, names):
    f = config_file(tmp_path, spoiled(name, path, value))
    line = assert_refused(run_cli(capsys, "show", f), "config.json", *names)
    assert len(line) < 1000


@pytest.mark.parametrize("path, literal", [("hidden_size", float("nan")), ("num_hidden_layers", float("inf")),
                                           ("rope_theta", float("-inf"))])
def test_non_finite_literal_in_a_file_is_refused(capsys, tmp_path, path, literal):
    # Python's json module reads NaN and Infinity; they are not JSON, and no size is NaN.
    f = config_file(tmp_path, spoiled(L8, path, literal))
    assert_refused(run_cli(capsys, "show", f), "config.json")


@pytest.mark.parametrize("path, value", [
    ("hidden_size", float("nan")), ("num_hidden_layers", float("inf")), ("rope_scaling.factor", float("nan")),
    ("num_attention_heads", float("-inf")),
])
def test_non_finite_number_in_a_dict_is_named(path, value):
    with pytest.raises(LlmhwError) as e:
        model_from_hf_config(spoiled(L8, path, value), model_id="x")
    assert e.value.field == f"config.json.{path}" and "finite" in str(e.value)


def test_a_config_that_is_not_an_object(capsys, tmp_path):
    f = config_file(tmp_path, [1, 2, 3])
    assert_refused(run_cli(capsys, "show", f), "config.json")


def test_pydantic_text_never_reaches_the_user():
    # Each of these used to escape as pydantic's own multi-line report, or as a bare crash.
    for name, path, value in [(DS, "kv_lora_rank", 0), (MX, "num_experts_per_tok", 9), (L8, "head_dim", 0),
                              (L8, "num_key_value_heads", 0), (L8, "vocab_size", 0)]:
        with pytest.raises(LlmhwError) as e:
            model_from_hf_config(spoiled(name, path, value), model_id="x")
        text = str(e.value)
        assert "\n" not in text and "validation error" not in text and "Input should" not in text
        assert e.value.field.endswith(path)


def test_deep_nesting_under_an_ignored_key_is_harmless():
    deep: Any = 1
    for _ in range(100_000):
        deep = [deep]
    m = model_from_hf_config({**shipped(L8), "extra": deep}, model_id="x")
    assert m.total_params == load_model("llama-3.1-8b").total_params


# -- odd but valid -----------------------------------------------------------------------------


def show_json(capsys, tmp_path, cfg: dict[str, Any]) -> dict[str, Any]:
    res = run_cli(capsys, "show", config_file(tmp_path, cfg), "--json")
    assert_answered(res)
    s = strict_json(res.stdout)
    assert isinstance(s, dict)
    return s


def test_integral_floats_read_as_integers(capsys, tmp_path):
    cfg = {k: float(v) if isinstance(v, int) and not isinstance(v, bool) else v for k, v in shipped(L8).items()}
    s = show_json(capsys, tmp_path, cfg)
    assert s["total_params"] == load_model("llama-3.1-8b").total_params


def test_a_window_longer_than_the_context_evicts_nothing(capsys, tmp_path):
    s = show_json(capsys, tmp_path, spoiled(M01, "sliding_window", 10**6))
    assert s["sliding_layers"] == 0 and s["sliding_window"] is None
    assert s["kv_cache_bytes_at_max_context"] == s["kv_cache_bytes_per_token"] * s["max_context"]


def test_the_smallest_model_by_hand(capsys, tmp_path):
    one = {"model_type": "llama", "hidden_size": 1, "intermediate_size": 1, "num_hidden_layers": 1,
           "num_attention_heads": 1, "vocab_size": 1, "max_position_embeddings": 1}
    s = show_json(capsys, tmp_path, one)
    # q, k, v, o of 1x1; gate, up, down of 1x1; two norms; embedding, LM head and final norm of 1.
    assert s["total_params"] == 4 + 3 + 2 + 1 + 1 + 1
    assert s["kv_cache_bytes_per_token"] == 2 * 2  # K and V, one element each, two bytes (bf16)


def test_the_largest_model_the_bounds_allow_stays_finite(capsys, tmp_path):
    big = {"model_type": "mixtral", "hidden_size": MAX_HIDDEN, "intermediate_size": MAX_FFN,
           "num_hidden_layers": MAX_LAYERS, "num_attention_heads": MAX_HEADS, "head_dim": MAX_HEAD_DIM,
           "vocab_size": MAX_VOCAB, "max_position_embeddings": MAX_CONTEXT, "num_local_experts": MAX_EXPERTS,
           "num_experts_per_tok": MAX_EXPERTS}
    s = show_json(capsys, tmp_path, big)
    expert = 3 * MAX_HIDDEN * MAX_FFN
    assert s["total_params"] > MAX_LAYERS * MAX_EXPERTS * expert
    assert s["flops_per_token_at_max_context"] < 1e23  # the bound model.py promises


def test_every_layer_listed_dense_leaves_no_moe_layer(capsys, tmp_path):
    s = show_json(capsys, tmp_path, spoiled(Q3M, "mlp_only_layers", list(range(48))))
    assert s["moe_layers"] == 0 and s["dense_layers"] == 48


def test_deepseek_without_routed_experts_is_dense(capsys, tmp_path):
    s = show_json(capsys, tmp_path, spoiled(DS, "n_routed_experts", None))
    assert s["moe"] is False and s["n_routed_experts"] == 0 and s["attention"] == "mla"


def test_gemma3_with_every_layer_global(capsys, tmp_path):
    s = show_json(capsys, tmp_path, spoiled(G3, "text_config.layer_types", ["full_attention"] * 62))
    assert s["sliding_layers"] == 0
    assert s["kv_cache_bytes_at_max_context"] == s["kv_cache_bytes_per_token"] * s["max_context"]


@pytest.mark.parametrize("name", [
    "x" * 5000, "a\0b.json", "/" + "d" * 300 + "/config.json", "[/b]" * 40,
])
def test_odd_model_names_are_refused_on_one_short_line(capsys, name):
    assert_refused(run_cli(capsys, "show", name), "model")


# -- fuzzing -----------------------------------------------------------------------------------

# Ten thousand cases from the shared random generator, one seed each: drawing a single integer is
# the cheapest thing Hypothesis can generate, so the time goes to the loader. A failure reports
# its seed; `benchmarks/fuzz_loaders.py --seed N --cases 1` replays it.
@settings(max_examples=10_000, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**64 - 1))
def test_fuzz_loader(seed):
    check(random_case(random.Random(seed)))


# Fewer cases, built by Hypothesis itself, so that a failure shrinks to the fewest and plainest
# mutations that still break the loader.
_values = st.one_of(
    st.sampled_from(ODD_VALUES),
    st.integers(-3, 300),
    st.integers(-(2**80), 2**80),
    st.floats(),
    st.builds(lambda n, seed: layer_list(random.Random(seed), n), st.sampled_from((0, 1, 24, 48, 62, 64)),
              st.integers(0, 2**16)),
    st.just(DELETE),
)


@settings(max_examples=500, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.integers(0, len(shipped_configs()) - 1),
       st.lists(st.tuples(st.booleans(), st.sampled_from(KEYS), _values), min_size=1, max_size=3))
def test_fuzz_loader_shrinkable(which, ops):
    check(apply(shipped_configs()[which][1], ops))


# ModelSpec built directly (the Python API), from the same kind of seeded generator: a field of a
# valid spec set to an odd value is refused by pydantic, or every figure stays finite at any
# context a prediction may ask about.
@settings(max_examples=2_000, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**64 - 1))
def test_fuzz_model_spec(seed):
    check_spec_case(random_spec_case(random.Random(seed)))
