"""Read a Hugging Face ``config.json`` (a local file; llmhw never downloads) into a ModelSpec.

Each supported ``model_type`` names its fields differently; the small readers below map them
onto one spec. A missing field is an error that names the field and the model_type, never a
silent default, except where Hugging Face's own code has a default (noted inline).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from llmhw.core.errors import LlmhwError
from llmhw.core.io import CONFIG_MAX_BYTES, read_json
from llmhw.workload.model import MLASpec, ModelSpec, MoESpec

_MISSING = object()


class _Cfg:
    """A config dict that reports missing or ill-typed fields by name."""

    def __init__(self, raw: dict[str, Any], where: str, model_type: str):
        self.raw, self.where, self.model_type = raw, where, model_type

    def req(self, key: str, kind: type = int) -> Any:
        if key not in self.raw or self.raw[key] is None:
            raise LlmhwError(
                f"missing field '{key}', required for model_type '{self.model_type}'", field=f"{self.where}.{key}"
            )
        return self._typed(key, self.raw[key], kind)

    def opt(self, key: str, default: Any, kind: type = int) -> Any:
        v = self.raw.get(key, _MISSING)
        if v is _MISSING or v is None:
            return default
        return self._typed(key, v, kind)

    def _typed(self, key: str, v: Any, kind: type) -> Any:
        if kind is int:
            if isinstance(v, bool) or not isinstance(v, int | float) or int(v) != v:
                raise LlmhwError(f"expected an integer, got {v!r}", field=f"{self.where}.{key}")
            if v < 0:
                raise LlmhwError(f"must not be negative, got {v}", field=f"{self.where}.{key}")
            return int(v)
        if kind is bool:
            if not isinstance(v, bool):
                raise LlmhwError(f"expected true or false, got {v!r}", field=f"{self.where}.{key}")
            return v
        return v


def _common(c: _Cfg, *, default_max_context: int | None = None) -> dict[str, Any]:
    n_heads = c.req("num_attention_heads")
    hidden = c.req("hidden_size")
    head_dim = c.opt("head_dim", None)
    if head_dim is None:
        if hidden % n_heads:
            raise LlmhwError(
                f"hidden_size {hidden} is not divisible by num_attention_heads {n_heads}; give head_dim",
                field=f"{c.where}.head_dim",
            )
        head_dim = hidden // n_heads
    max_ctx = c.opt("max_position_embeddings", default_max_context)
    if max_ctx is None:
        c.req("max_position_embeddings")
    return dict(
        n_layers=c.req("num_hidden_layers"),
        hidden_size=hidden,
        n_heads=n_heads,
        # HF's default for num_key_value_heads is num_attention_heads (plain MHA).
        n_kv_heads=c.opt("num_key_value_heads", n_heads),
        head_dim=head_dim,
        vocab_size=c.req("vocab_size"),
        tie_embeddings=c.opt("tie_word_embeddings", False, bool),
        max_context=max_ctx,
    )


def _window_if_real(c: _Cfg, max_ctx: int) -> int | None:
    """A sliding window at least as long as the context never evicts anything."""
    w = c.opt("sliding_window", None)
    if w is None or w >= max_ctx:
        return None
    if not c.opt("use_sliding_window", True, bool):
        return None
    return w


def _read_dense(c: _Cfg, **extra: Any) -> dict[str, Any]:
    base = _common(c)
    n = base["n_layers"]
    window = _window_if_real(c, base["max_context"])
    base.update(
        intermediate_size=c.req("intermediate_size"),
        # Every supported family builds a gated FFN (SwiGLU or GeGLU: gate, up, down).
        gated_ffn=True,
        layer_attention=("sliding",) * n if window else ("full",) * n,
        layer_ffn=("dense",) * n,
        sliding_window=window,
        qkv_bias=c.opt("attention_bias", False, bool),
        o_bias=c.opt("attention_bias", False, bool),
        mlp_bias=c.opt("mlp_bias", False, bool),
    )
    base.update(extra)
    return base


def _llama(c: _Cfg) -> dict[str, Any]:
    return _read_dense(c)


def _qwen2(c: _Cfg) -> dict[str, Any]:
    # Qwen2 always has biases on q, k and v (not on o); transformers hard-codes them.
    d = _read_dense(c, qkv_bias=True, o_bias=False)
    # Qwen2 only slides on layers at or above max_window_layers when use_sliding_window is on.
    if d["sliding_window"] is not None:
        first = c.opt("max_window_layers", 0)
        d["layer_attention"] = tuple("sliding" if i >= first else "full" for i in range(d["n_layers"]))
        if "sliding" not in d["layer_attention"]:
            d["sliding_window"] = None
    return d


def _qwen3(c: _Cfg) -> dict[str, Any]:
    d = _qwen2(c)
    d.update(qkv_bias=c.opt("attention_bias", False, bool), o_bias=c.opt("attention_bias", False, bool), qk_norm=True)
    return d


def _phi3(c: _Cfg) -> dict[str, Any]:
    return _read_dense(c)


def _sparse_layers(c: _Cfg, n: int) -> tuple[str, ...]:
    """Qwen-MoE layer pattern: MoE every ``decoder_sparse_step`` layers except mlp_only_layers."""
    step = c.opt("decoder_sparse_step", 1)
    dense_only = set(c.opt("mlp_only_layers", [], list))
    if step < 1:
        raise LlmhwError("must be >= 1", field=f"{c.where}.decoder_sparse_step")
    return tuple("moe" if (i not in dense_only and (i + 1) % step == 0) else "dense" for i in range(n))


def _mixtral(c: _Cfg) -> dict[str, Any]:
    d = _read_dense(c)
    d["layer_ffn"] = ("moe",) * d["n_layers"]
    d["moe"] = MoESpec(
        n_routed_experts=c.req("num_local_experts"),
        experts_per_token=c.req("num_experts_per_tok"),
        expert_intermediate_size=d["intermediate_size"],
    )
    d["intermediate_size"] = 0
    return d


def _qwen2_moe(c: _Cfg) -> dict[str, Any]:
    d = _qwen2(c)
    shared = c.opt("shared_expert_intermediate_size", 0)
    d["moe"] = MoESpec(
        n_routed_experts=c.req("num_experts"),
        experts_per_token=c.req("num_experts_per_tok"),
        expert_intermediate_size=c.req("moe_intermediate_size"),
        n_shared_experts=1 if shared else 0,
        shared_intermediate_size=shared,
        shared_expert_gate=bool(shared),
    )
    d["layer_ffn"] = _sparse_layers(c, d["n_layers"])
    return d


def _qwen3_moe(c: _Cfg) -> dict[str, Any]:
    d = _qwen3(c)
    d["moe"] = MoESpec(
        n_routed_experts=c.req("num_experts"),
        experts_per_token=c.req("num_experts_per_tok"),
        expert_intermediate_size=c.req("moe_intermediate_size"),
    )
    d["layer_ffn"] = _sparse_layers(c, d["n_layers"])
    return d


def _deepseek(c: _Cfg) -> dict[str, Any]:
    base = _common(c)
    n = base["n_layers"]
    first_dense = c.opt("first_k_dense_replace", 0)
    freq = c.opt("moe_layer_freq", 1)
    n_routed = c.opt("n_routed_experts", None)
    layer_ffn = tuple(
        "moe" if (n_routed and i >= first_dense and i % freq == 0) else "dense" for i in range(n)
    )
    n_shared = c.opt("n_shared_experts", 0)
    moe_inter = c.req("moe_intermediate_size") if n_routed else 0
    mla = MLASpec(
        q_lora_rank=c.opt("q_lora_rank", None),
        kv_lora_rank=c.req("kv_lora_rank"),
        qk_rope_head_dim=c.req("qk_rope_head_dim"),
        qk_nope_head_dim=c.req("qk_nope_head_dim"),
        v_head_dim=c.req("v_head_dim"),
    )
    base.update(
        n_kv_heads=base["n_heads"],
        head_dim=mla.qk_nope_head_dim + mla.qk_rope_head_dim,
        intermediate_size=c.req("intermediate_size"),
        gated_ffn=True,
        layer_attention=("full",) * n,
        layer_ffn=layer_ffn,
        mla=mla,
        moe=MoESpec(
            n_routed_experts=n_routed,
            experts_per_token=c.req("num_experts_per_tok"),
            expert_intermediate_size=moe_inter,
            n_shared_experts=n_shared,
            shared_intermediate_size=n_shared * moe_inter,
            # V3's e_score_correction_bias: one bias per expert in the router.
            router_bias=c.opt("topk_method", "", str) == "noaux_tc",
        )
        if n_routed
        else None,
    )
    return base


def _gemma(c: _Cfg) -> dict[str, Any]:
    # Gemma 1: a GeGLU FFN (gate, up, down), two norms per layer, tied embeddings (HF default),
    # full attention on every layer; head_dim (256) is given, not hidden / heads.
    return _read_dense(c, qkv_bias=False, o_bias=False)


def _gemma2(c: _Cfg) -> dict[str, Any]:
    d = _read_dense(c, norms_per_layer=4)
    n = d["n_layers"]
    w = c.req("sliding_window")
    # Gemma 2 alternates: even layers local (sliding), odd layers global.
    d.update(
        sliding_window=w,
        layer_attention=tuple("sliding" if i % 2 == 0 else "full" for i in range(n)),
        qkv_bias=False,
        o_bias=False,
        tie_embeddings=c.opt("tie_word_embeddings", True, bool),
    )
    return d


def _gemma3(c: _Cfg) -> dict[str, Any]:
    d = _read_dense(c, norms_per_layer=4, qk_norm=True)
    n = d["n_layers"]
    w = c.req("sliding_window")
    types = c.opt("layer_types", None, list)
    if types is not None:
        pattern = tuple(_layer_type(t, c) for t in types)
    else:
        # Older configs give sliding_window_pattern P: every P-th layer is global.
        p = c.opt("sliding_window_pattern", 6)
        pattern = tuple("full" if (i + 1) % p == 0 else "sliding" for i in range(n))
    d.update(
        sliding_window=w,
        layer_attention=pattern,
        qkv_bias=False,
        o_bias=False,
        tie_embeddings=c.opt("tie_word_embeddings", True, bool),
    )
    return d


def _layer_type(t: Any, c: _Cfg) -> str:
    if t in ("sliding_attention", "sliding"):
        return "sliding"
    if t in ("full_attention", "full", "global"):
        return "full"
    raise LlmhwError(
        f"unknown layer type {t!r}", field=f"{c.where}.layer_types", accepted="sliding_attention, full_attention"
    )


def _gpt_oss(c: _Cfg) -> dict[str, Any]:
    base = _common(c)
    n = base["n_layers"]
    types = c.opt("layer_types", None, list)
    pattern = (
        tuple(_layer_type(t, c) for t in types)
        if types is not None
        else tuple("sliding" if i % 2 == 0 else "full" for i in range(n))
    )
    inter = c.req("intermediate_size")
    base.update(
        intermediate_size=0,
        gated_ffn=True,
        layer_attention=pattern,
        layer_ffn=("moe",) * n,
        sliding_window=c.req("sliding_window"),
        qkv_bias=c.opt("attention_bias", True, bool),
        o_bias=c.opt("attention_bias", True, bool),
        attention_sinks=True,
        moe=MoESpec(
            n_routed_experts=c.req("num_local_experts"),
            experts_per_token=c.opt("num_experts_per_tok", None) or c.req("experts_per_token"),
            expert_intermediate_size=inter,
            router_bias=True,
            expert_bias=True,
        ),
    )
    return base


# Defaults of transformers' config classes for fields that published configs leave out (Gemma 3's
# text_config omits its vocabulary and context, relying on Gemma3TextConfig's defaults).
HF_DEFAULTS: dict[str, dict[str, Any]] = {
    "gemma3_text": {"vocab_size": 262208, "max_position_embeddings": 131072,
                    "tie_word_embeddings": True, "sliding_window_pattern": 6},
    "gemma": {"tie_word_embeddings": True},
    "gemma2": {"tie_word_embeddings": True},
}

READERS: dict[str, Callable[[_Cfg], dict[str, Any]]] = {
    "llama": _llama,
    "mistral": _llama,
    "granite": _llama,  # Llama's shapes plus scalar multipliers, which hold no weights
    "mixtral": _mixtral,
    "qwen2": _qwen2,
    "qwen2_moe": _qwen2_moe,
    "qwen3": _qwen3,
    "qwen3_moe": _qwen3_moe,
    "deepseek_v3": _deepseek,
    "deepseek_v2": _deepseek,
    "gemma": _gemma,
    "gemma2": _gemma2,
    "gemma3": _gemma3,
    "gemma3_text": _gemma3,
    "gpt_oss": _gpt_oss,
    "phi3": _phi3,
}

SUPPORTED_MODEL_TYPES: tuple[str, ...] = tuple(sorted(READERS))


def model_from_hf_config(raw: dict[str, Any], *, model_id: str, name: str = "", source: str = "",
                         where: str = "config.json") -> ModelSpec:
    """Build a ModelSpec from the parsed contents of a Hugging Face config.json."""
    if not isinstance(raw, dict):
        raise LlmhwError("a config.json must hold a JSON object", field=where)
    model_type = raw.get("model_type")
    if model_type is None:
        raise LlmhwError("missing field 'model_type'", field=f"{where}.model_type",
                         accepted=", ".join(SUPPORTED_MODEL_TYPES))
    # Multimodal wrappers (Gemma 3) keep the language model's fields under text_config.
    if isinstance(raw.get("text_config"), dict):
        text = dict(raw["text_config"])
        text.setdefault("model_type", f"{model_type}_text" if model_type == "gemma3" else model_type)
        return model_from_hf_config(text, model_id=model_id, name=name, source=source, where=f"{where}.text_config")
    if model_type not in READERS:
        raise LlmhwError(f"unsupported model_type '{model_type}'", field=f"{where}.model_type",
                         accepted=", ".join(SUPPORTED_MODEL_TYPES))
    raw = {**HF_DEFAULTS.get(model_type, {}), **{k: v for k, v in raw.items() if v is not None}}
    fields = READERS[model_type](_Cfg(raw, where, model_type))
    try:
        return ModelSpec(id=model_id, name=name or model_id, model_type=model_type, source=source, **fields)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        raise LlmhwError(err["msg"], field=f"{where}{'.' + loc if loc else ''}") from None


def load_hf_config(path: str | Path, *, model_id: str | None = None) -> ModelSpec:
    """Read a local config.json file."""
    p = Path(path)
    raw = read_json(p, field="model", max_bytes=CONFIG_MAX_BYTES)
    mid = model_id or (p.parent.name if p.name == "config.json" else p.stem)
    return model_from_hf_config(raw, model_id=mid, source=str(p.name), where=p.name)
