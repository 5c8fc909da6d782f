"""Hostile config.json dicts for the loader, and the one property every answer must have.

A case starts from a shipped catalog config and applies a few mutations: a field set to an odd
JSON value (zero, negative, huge, fractional, NaN, infinity, null, a boolean, a string, a list, a
nested object) or deleted. The fields the readers take are picked far more often than the ones
they ignore, since those are where a bad value can get through.

The property (``check``): ``model_from_hf_config`` either refuses with an LlmhwError whose text is
one short line naming a field, or returns a ModelSpec whose every derived figure is a finite,
non-negative number obeying the identities that hold for any model (active parameters never
exceed the total; bf16 weights take two bytes per parameter; sliding windows only shrink the
cache). Used by tests/robustness/test_config_json.py (through Hypothesis) and by
benchmarks/fuzz_loaders.py (through a plain random generator, for many more cases).
"""

from __future__ import annotations

import json
import math
import random
from functools import cache
from importlib import resources
from typing import Any

from pydantic import ValidationError

from llmhw.core.errors import LlmhwError
from llmhw.workload.catalog import load_model
from llmhw.workload.hf_config import SUPPORTED_MODEL_TYPES, model_from_hf_config
from llmhw.workload.model import (
    MAX_CONTEXT,
    MAX_EXPERTS,
    MAX_FFN,
    MAX_HEAD_DIM,
    MAX_HEADS,
    MAX_HIDDEN,
    MAX_LAYERS,
    MAX_VOCAB,
    ModelSpec,
)

# The longest error text accepted from the loader: it names a field and what is accepted, and
# never echoes a value back.
MAX_ERROR_CHARS = 1000

DELETE = object()

# Fields some reader takes (each is worth mutating); ignored fields get a small share of cases.
READ_KEYS: tuple[str, ...] = (
    "model_type", "num_hidden_layers", "hidden_size", "num_attention_heads", "num_key_value_heads",
    "head_dim", "intermediate_size", "vocab_size", "max_position_embeddings", "sliding_window",
    "use_sliding_window", "max_window_layers", "sliding_window_pattern", "layer_types",
    "mlp_only_layers", "decoder_sparse_step", "first_k_dense_replace", "moe_layer_freq",
    "num_local_experts", "num_experts", "n_routed_experts", "n_shared_experts", "num_experts_per_tok",
    "experts_per_token", "moe_intermediate_size", "shared_expert_intermediate_size", "q_lora_rank",
    "kv_lora_rank", "qk_rope_head_dim", "qk_nope_head_dim", "v_head_dim", "tie_word_embeddings",
    "attention_bias", "mlp_bias", "topk_method", "text_config",
)
IGNORED_KEYS: tuple[str, ...] = ("rope_theta", "rope_scaling", "rms_norm_eps", "torch_dtype", "architectures")
KEYS: tuple[str, ...] = READ_KEYS + IGNORED_KEYS


def _deep(depth: int) -> Any:
    v: Any = 1
    for _ in range(depth):
        v = [v]
    return v


# Values a hostile user writes; each is a literal (no generation cost), shared by reference and
# never mutated (cases copy the config, not the values).
ODD_VALUES: tuple[Any, ...] = (
    0, -1, 1, 2, 3, 5, 7, 64, 127, 4096, 10**6, 10**9, 10**12, -(10**12), 2**31, 2**63, 10**400,
    0.0, -0.0, 0.5, 1.5, 4096.0, 1e-300, 1e300, 1e12, float("nan"), float("inf"), float("-inf"),
    None, True, False, "", "64", "4096", "nan", "llama", "x" * 5000, "[/b]",
    [], [0], [1, 2], [-1], [10**6], [None], [1.5], [True], ["full_attention"], ["sliding_attention"],
    ["full_attention", "sliding_attention"] * 8, [{"a": 1}], [[]], {}, {"a": 1}, {"model_type": "llama"},
    {"model_type": "gemma3_text", "hidden_size": 0}, {"x": float("nan")}, {"x": [float("inf")]},
    _deep(50), _deep(1000), list(range(200)), *SUPPORTED_MODEL_TYPES,
)


@cache
def shipped_configs() -> tuple[tuple[str, dict[str, Any]], ...]:
    """(file name, parsed config) of every shipped catalog config."""
    root = resources.files("llmhw.workload").joinpath("catalog/models")
    out = []
    for f in sorted(root.iterdir(), key=lambda p: p.name):
        if f.name.endswith(".json"):
            out.append((f.name, json.loads(f.read_text())))
    return tuple(out)


def layer_list(rng: random.Random, n: int) -> list[Any]:
    """A layer_types-like list: mostly valid entries, of a length near the layer count."""
    kinds = ("full_attention", "sliding_attention", "sliding_attention", "global", "local", 1, None)
    return [rng.choice(kinds) for _ in range(n)]


def apply(base: dict[str, Any], ops: list[tuple[bool, str, Any]]) -> dict[str, Any]:
    """A copy of ``base`` with ``ops`` applied: (into text_config?, key, value or DELETE)."""
    # Only top-level keys and text_config's keys change, so copying those two levels is enough
    # (a deep copy of the shipped config would cost more than the load it feeds).
    cfg = dict(base)
    if isinstance(cfg.get("text_config"), dict):
        cfg["text_config"] = dict(cfg["text_config"])
    for into_text, key, value in ops:
        target = cfg
        if into_text and isinstance(cfg.get("text_config"), dict):
            target = cfg["text_config"]
        if value is DELETE:
            target.pop(key, None)
        else:
            target[key] = value
    return cfg


def random_case(rng: random.Random) -> dict[str, Any]:
    """One case from a plain random generator (the benchmark's; Hypothesis has its own)."""
    _, base = rng.choice(shipped_configs())
    ops = []
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        key = rng.choice(READ_KEYS) if rng.random() < 0.9 else rng.choice(IGNORED_KEYS)
        r = rng.random()
        if r < 0.15:
            value: Any = DELETE
        elif r < 0.55:
            value = rng.choice(ODD_VALUES)
        elif r < 0.75:
            value = rng.randint(-3, 300)
        elif r < 0.85:
            value = rng.choice((-1, 1)) * 2 ** rng.randint(0, 80)
        elif r < 0.95:
            value = layer_list(rng, rng.choice((0, 1, 2, 24, 26, 36, 48, 62, 64, 80, 128)))
        else:
            value = rng.choice((rng.uniform(-1e6, 1e6), rng.expovariate(1e-3)))
        ops.append((rng.random() < 0.5, key, value))
    return apply(base, ops)


def _numbers(v: Any, path: str = "") -> list[tuple[str, float]]:
    """Every number in a summary (bools are flags, not figures)."""
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return []
    if isinstance(v, dict):
        return [x for k, sub in v.items() for x in _numbers(sub, f"{path}.{k}")]
    return [(path, v)]


def check_spec(m: ModelSpec, contexts: tuple[int, ...] = ()) -> None:
    """Every figure of ``m`` is finite and non-negative, and the identities that bind any model hold."""
    s = m.summary()
    for path, x in _numbers(s):
        assert isinstance(x, int | float), (path, x)
        assert math.isfinite(x) and x >= 0, (path, x)
    assert s["total_params"] > 0 and s["flops_per_token"] > 0 and s["kv_cache_bytes_per_token"] > 0
    assert m.active_params <= m.total_params
    assert s["weight_bytes"]["bf16"] == 2 * m.total_params
    assert s["kv_cache_bytes_at_max_context"] <= s["kv_cache_bytes_per_token"] * m.max_context
    assert sum(s["kv_cache_bytes_per_token_by_kind"].values()) == s["kv_cache_bytes_per_token"]
    assert s["flops_per_token_at_max_context"] >= s["flops_per_token"]
    assert len(m.layer_attention) == len(m.layer_ffn) == m.n_layers
    for ctx in contexts:
        kv = m.kv_cache_bytes(ctx, "fp8")
        fl = m.flops_per_token(ctx)
        assert math.isfinite(kv) and kv >= 0 and math.isfinite(fl) and fl >= 2 * m.active_params, (ctx, kv, fl)
        assert kv <= m.kv_cache_bytes_per_token("fp8") * ctx


# ModelSpec built directly: fields of the spec itself, of its MoE block and of its MLA block, and
# the values they are set to (the physical bounds and one past each are among them).
SPEC_FIELDS: tuple[str, ...] = ("n_layers", "hidden_size", "n_heads", "n_kv_heads", "head_dim", "intermediate_size",
                                "vocab_size", "max_context", "sliding_window", "norms_per_layer", "tie_embeddings",
                                "gated_ffn", "layer_attention", "layer_ffn")
MOE_FIELDS: tuple[str, ...] = ("n_routed_experts", "experts_per_token", "expert_intermediate_size", "n_shared_experts",
                               "shared_intermediate_size")
MLA_FIELDS: tuple[str, ...] = ("q_lora_rank", "kv_lora_rank", "qk_rope_head_dim", "qk_nope_head_dim", "v_head_dim")
SPEC_VALUES: tuple[Any, ...] = (
    0, -1, 1, 2, 7, 4096, True, 1.5, 2.0, "8", None, float("nan"), float("inf"), 10**12, 2**63,
    MAX_LAYERS, MAX_LAYERS + 1, MAX_HIDDEN, MAX_HIDDEN + 1, MAX_FFN, MAX_FFN + 1, MAX_HEADS, MAX_HEADS + 1,
    MAX_HEAD_DIM, 2 * MAX_HEAD_DIM, 2 * MAX_HEAD_DIM + 1, MAX_EXPERTS, MAX_EXPERTS + 1, MAX_VOCAB,
    MAX_VOCAB + 1, MAX_CONTEXT, MAX_CONTEXT + 1, (), ("full",), ("sliding",) * 62, ("dense",) * 32, ("moe",) * 61,
)
SPEC_MODELS: tuple[str, ...] = ("llama-3.1-8b", "deepseek-v3", "mixtral-8x7b", "gemma-3-27b", "gpt-oss-20b",
                                "qwen1.5-moe-a2.7b", "qwen3-30b-a3b")


@cache
def _spec_data(model_id: str) -> dict[str, Any]:
    return load_model(model_id).model_dump()


def random_spec_case(rng: random.Random) -> tuple[dict[str, Any], int]:
    """(ModelSpec fields with one to three set to odd values, a context to price)."""
    data = dict(_spec_data(rng.choice(SPEC_MODELS)))
    for _ in range(rng.choice((1, 1, 2, 3))):
        value = rng.choice(SPEC_VALUES) if rng.random() < 0.6 else rng.randint(-2, 70_000)
        block = rng.choice(("", "", "moe", "mla"))
        if not block:
            data[rng.choice(SPEC_FIELDS)] = value
        elif data[block] is not None:
            fields = MOE_FIELDS if block == "moe" else MLA_FIELDS
            data[block] = {**data[block], rng.choice(fields): value}
    return data, rng.choice((0, 1, rng.randint(0, 2**40), MAX_CONTEXT))


def check_spec_case(case: tuple[dict[str, Any], int]) -> str:
    """The property for a ModelSpec built directly; returns 'refused' or 'answered'."""
    data, context = case
    try:
        m = ModelSpec(**data)
    except ValidationError:
        return "refused"
    check_spec(m, (context,))
    return "answered"


def check(cfg: Any) -> str:
    """The property; returns 'refused' or 'answered'."""
    try:
        m = model_from_hf_config(cfg, model_id="fuzz")
    except LlmhwError as exc:
        text = str(exc)
        assert "\n" not in text and "\r" not in text, text[:300]
        assert len(text) <= MAX_ERROR_CHARS, f"{len(text)} characters: {text[:300]}"
        assert exc.field and exc.field.startswith("config.json"), text[:300]
        return "refused"
    check_spec(m, (0, 1, m.max_context, MAX_CONTEXT))
    return "answered"
