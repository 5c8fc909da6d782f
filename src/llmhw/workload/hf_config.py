"""Read a Hugging Face ``config.json`` (a local file; llmhw never downloads) into a ModelSpec.

Each supported ``model_type`` names its fields differently; the small readers below map them
onto one spec. A missing field is an error that names the field and the model_type, never a
silent default, except where Hugging Face's own code has a default (noted inline).
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from llmhw.core.errors import LlmhwError
from llmhw.core.io import CONFIG_MAX_BYTES, read_json
from llmhw.workload.model import (
    MAX_CONTEXT,
    MAX_EXPERTS,
    MAX_FFN,
    MAX_HEAD_DIM,
    MAX_HEADS,
    MAX_HIDDEN,
    MAX_LAYERS,
    MAX_VOCAB,
    MLASpec,
    ModelSpec,
    MoESpec,
)

_MISSING = object()

# Each integer field a reader takes, and the range it may hold: (lowest, highest). The highest are
# the physical bounds of model.py (which says why each is generous); the lowest say which fields
# may be zero (an offset, a count of optional parts) and which must be positive (a width, a count
# that is divided by or looped over).
_INT_BOUNDS: dict[str, tuple[int, int]] = {
    "num_hidden_layers": (1, MAX_LAYERS),
    "hidden_size": (1, MAX_HIDDEN),
    "num_attention_heads": (1, MAX_HEADS),
    "num_key_value_heads": (1, MAX_HEADS),
    "head_dim": (1, MAX_HEAD_DIM),
    "intermediate_size": (1, MAX_FFN),
    "vocab_size": (1, MAX_VOCAB),
    "max_position_embeddings": (1, MAX_CONTEXT),
    "sliding_window": (1, MAX_CONTEXT),
    "max_window_layers": (0, MAX_LAYERS),
    "sliding_window_pattern": (1, MAX_LAYERS),
    "decoder_sparse_step": (1, MAX_LAYERS),
    "first_k_dense_replace": (0, MAX_LAYERS),
    "moe_layer_freq": (1, MAX_LAYERS),
    "num_local_experts": (1, MAX_EXPERTS),
    "num_experts": (1, MAX_EXPERTS),
    "n_routed_experts": (1, MAX_EXPERTS),
    "n_shared_experts": (0, MAX_EXPERTS),
    "num_experts_per_tok": (1, MAX_EXPERTS),
    "experts_per_token": (1, MAX_EXPERTS),
    "moe_intermediate_size": (1, MAX_FFN),
    "shared_expert_intermediate_size": (0, MAX_FFN),
    "q_lora_rank": (1, MAX_HIDDEN),
    "kv_lora_rank": (1, MAX_HIDDEN),
    "qk_rope_head_dim": (1, MAX_HEAD_DIM),
    "qk_nope_head_dim": (1, MAX_HEAD_DIM),
    "v_head_dim": (1, MAX_HEAD_DIM),
    # GPT-2's names for the same shapes
    "n_embd": (1, MAX_HIDDEN),
    "n_head": (1, MAX_HEADS),
    "n_layer": (1, MAX_LAYERS),
    "n_positions": (1, MAX_CONTEXT),
    "n_inner": (1, MAX_FFN),
}

# An error line quotes a value only when it is short; anything longer is described, never echoed.
_QUOTE_CHARS = 40
_QUOTE_INT = 10**21


def _shown(v: Any) -> str:
    """A value as an error line may quote it."""
    if v is None or isinstance(v, bool):
        return json.dumps(v)
    if isinstance(v, numbers.Integral):
        # str() of a huge int is slow (and refused past 4300 digits), so compare first.
        return str(int(v)) if abs(int(v)) < _QUOTE_INT else "an integer of more than 21 digits"
    if isinstance(v, numbers.Real):
        return repr(float(v))
    if isinstance(v, str):
        return json.dumps(v) if len(v) <= _QUOTE_CHARS else f"a string of {len(v)} characters"
    if isinstance(v, list | tuple):
        return f"a list of {len(v)} item{'' if len(v) == 1 else 's'}"
    if isinstance(v, dict):
        return "an object"
    return f"a value of type {type(v).__name__}"


def _int_value(v: Any, field: str, lo: int, hi: int) -> int:
    """``v`` as an integer in [lo, hi], or an error naming ``field``. Booleans are refused
    (Python counts True as 1), and so are strings, non-finite and fractional numbers."""
    accepted = f"an integer from {lo} to {hi}"
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise LlmhwError(f"expected an integer, got {_shown(v)}", field=field, accepted=accepted)
    if not isinstance(v, numbers.Integral):
        f = float(v)
        if not math.isfinite(f):
            raise LlmhwError(f"must be a finite number, got {_shown(v)}", field=field, accepted=accepted)
        if not f.is_integer():
            raise LlmhwError(f"expected an integer, got {_shown(v)}", field=field, accepted=accepted)
    n = int(v)
    if n < lo:
        what = "a positive integer" if lo == 1 else ("not negative" if lo == 0 else f"at least {lo}")
        raise LlmhwError(f"must be {what}, got {_shown(v)}", field=field, accepted=accepted)
    if n > hi:
        raise LlmhwError(f"{_shown(v)} is beyond any physical model", field=field, accepted=accepted)
    return n


class _Cfg:
    """A config dict that reports missing or ill-typed fields by name."""

    def __init__(self, raw: dict[str, Any], where: str, model_type: str):
        self.raw, self.where, self.model_type = raw, where, model_type

    def field(self, key: str) -> str:
        return f"{self.where}.{key}"

    def req(self, key: str, kind: type = int) -> Any:
        if key not in self.raw or self.raw[key] is None:
            raise LlmhwError(
                f"missing field '{key}', required for model_type '{self.model_type}'", field=self.field(key)
            )
        return self._typed(key, self.raw[key], kind)

    def opt(self, key: str, default: Any, kind: type = int) -> Any:
        v = self.raw.get(key, _MISSING)
        if v is _MISSING or v is None:
            return default
        return self._typed(key, v, kind)

    def _typed(self, key: str, v: Any, kind: type) -> Any:
        if kind is int:
            lo, hi = _INT_BOUNDS[key]
            return _int_value(v, self.field(key), lo, hi)
        if kind is bool:
            if not isinstance(v, bool):
                raise LlmhwError(f"expected true or false, got {_shown(v)}", field=self.field(key))
            return v
        if kind is str:
            if not isinstance(v, str):
                raise LlmhwError(f"expected a string, got {_shown(v)}", field=self.field(key))
            return v
        if kind is list:
            if not isinstance(v, list | tuple):
                raise LlmhwError(f"expected a list, got {_shown(v)}", field=self.field(key))
            return list(v)
        raise TypeError(f"no reading of kind {kind!r}")


def _divisors(n: int) -> str:
    return ", ".join(str(k) for k in range(1, n + 1) if n % k == 0)


def _common(c: _Cfg, *, mla: bool = False) -> dict[str, Any]:
    """The fields every family shares. Under MLA (DeepSeek) the per-head widths come from the
    latent ranks, so hidden_size need not split evenly into heads, and K/V heads are not read."""
    n_heads = c.req("num_attention_heads")
    hidden = c.req("hidden_size")
    head_dim = n_kv = n_heads
    if not mla:
        head_dim = c.opt("head_dim", None)
        if head_dim is None:
            if hidden % n_heads:
                raise LlmhwError(
                    f"{hidden} is not divisible by num_attention_heads ({n_heads}) and no head_dim is given",
                    field=c.field("hidden_size"), accepted="a multiple of num_attention_heads, or a head_dim",
                )
            head_dim = hidden // n_heads
        # HF's default for num_key_value_heads is num_attention_heads (plain MHA).
        n_kv = c.opt("num_key_value_heads", n_heads)
        if n_heads % n_kv:
            raise LlmhwError(
                f"{n_kv} key/value heads do not divide num_attention_heads ({n_heads})",
                field=c.field("num_key_value_heads"), accepted=_divisors(n_heads),
            )
    return dict(
        n_layers=c.req("num_hidden_layers"),
        hidden_size=hidden,
        n_heads=n_heads,
        n_kv_heads=n_kv,
        head_dim=head_dim,
        vocab_size=c.req("vocab_size"),
        tie_embeddings=c.opt("tie_word_embeddings", False, bool),
        max_context=c.req("max_position_embeddings"),
    )


def _window_if_real(c: _Cfg, max_ctx: int) -> int | None:
    """A sliding window at least as long as the context never evicts anything."""
    w = c.opt("sliding_window", None)
    # Read even when the window does not matter, so a bad value is refused, not skipped.
    on = c.opt("use_sliding_window", True, bool)
    return w if on and w is not None and w < max_ctx else None


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


def _experts(c: _Cfg, count_key: str, k_key: str = "num_experts_per_tok") -> tuple[int, int]:
    """(experts, experts per token); a token cannot be routed to more experts than exist."""
    n, k = c.req(count_key), c.req(k_key)
    if k > n:
        raise LlmhwError(f"{k} experts per token, more than the {n} experts of {count_key}",
                         field=c.field(k_key), accepted=f"an integer from 1 to {n}")
    return n, k


def _llama(c: _Cfg) -> dict[str, Any]:
    return _read_dense(c)


def _qwen2(c: _Cfg) -> dict[str, Any]:
    # Qwen2 always has biases on q, k and v (not on o); transformers hard-codes them.
    d = _read_dense(c, qkv_bias=True, o_bias=False)
    # Qwen2 only slides on layers at or above max_window_layers when use_sliding_window is on.
    first = c.opt("max_window_layers", 0)
    if d["sliding_window"] is not None:
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


def _layer_indices(c: _Cfg, key: str, n: int) -> set[int]:
    """A list of layer indices (0 to n - 1); an index past the last layer names no layer."""
    items = c.opt(key, [], list)
    return {_int_value(x, f"{c.field(key)}[{i}]", 0, n - 1) for i, x in enumerate(items)}


def _sparse_layers(c: _Cfg, n: int) -> tuple[str, ...]:
    """Qwen-MoE layer pattern: MoE every ``decoder_sparse_step`` layers except mlp_only_layers."""
    step = c.opt("decoder_sparse_step", 1)
    dense_only = _layer_indices(c, "mlp_only_layers", n)
    return tuple("moe" if (i not in dense_only and (i + 1) % step == 0) else "dense" for i in range(n))


def _mixtral(c: _Cfg) -> dict[str, Any]:
    d = _read_dense(c)
    d["layer_ffn"] = ("moe",) * d["n_layers"]
    n, k = _experts(c, "num_local_experts")
    d["moe"] = MoESpec(n_routed_experts=n, experts_per_token=k, expert_intermediate_size=d["intermediate_size"])
    d["intermediate_size"] = 0
    return d


def _qwen2_moe(c: _Cfg) -> dict[str, Any]:
    d = _qwen2(c)
    shared = c.opt("shared_expert_intermediate_size", 0)
    n, k = _experts(c, "num_experts")
    d["moe"] = MoESpec(
        n_routed_experts=n,
        experts_per_token=k,
        expert_intermediate_size=c.req("moe_intermediate_size"),
        n_shared_experts=1 if shared else 0,
        shared_intermediate_size=shared,
        shared_expert_gate=bool(shared),
    )
    d["layer_ffn"] = _sparse_layers(c, d["n_layers"])
    return d


def _qwen3_moe(c: _Cfg) -> dict[str, Any]:
    d = _qwen3(c)
    n, k = _experts(c, "num_experts")
    d["moe"] = MoESpec(n_routed_experts=n, experts_per_token=k, expert_intermediate_size=c.req("moe_intermediate_size"))
    d["layer_ffn"] = _sparse_layers(c, d["n_layers"])
    return d


def _deepseek(c: _Cfg) -> dict[str, Any]:
    base = _common(c, mla=True)
    n = base["n_layers"]
    # No n_routed_experts (null) is a dense model, as in transformers' DeepseekV3 code.
    n_routed = c.opt("n_routed_experts", None)
    # The optional MoE fields are read (and so checked) even for a dense model.
    first_dense = c.opt("first_k_dense_replace", 0)
    freq = c.opt("moe_layer_freq", 1)
    n_shared = c.opt("n_shared_experts", 0)
    router_bias = c.opt("topk_method", "", str) == "noaux_tc"
    moe = None
    layer_ffn = ("dense",) * n
    if n_routed is not None:
        layer_ffn = tuple("moe" if (i >= first_dense and i % freq == 0) else "dense" for i in range(n))
        n_routed, k = _experts(c, "n_routed_experts")
        moe_inter = c.req("moe_intermediate_size")
        moe = MoESpec(
            n_routed_experts=n_routed,
            experts_per_token=k,
            expert_intermediate_size=moe_inter,
            n_shared_experts=n_shared,
            shared_intermediate_size=n_shared * moe_inter,
            # V3's e_score_correction_bias: one bias per expert in the router.
            router_bias=router_bias,
        )
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
        moe=moe,
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
    pattern = _layer_types(c, n)
    # Older configs give sliding_window_pattern P: every P-th layer is global.
    p = c.opt("sliding_window_pattern", 6)
    if pattern is None:
        pattern = tuple("full" if (i + 1) % p == 0 else "sliding" for i in range(n))
    d.update(
        sliding_window=w,
        layer_attention=pattern,
        qkv_bias=False,
        o_bias=False,
        tie_embeddings=c.opt("tie_word_embeddings", True, bool),
    )
    return d


_LAYER_TYPES = {"sliding_attention": "sliding", "sliding": "sliding",
                "full_attention": "full", "full": "full", "global": "full"}


def _layer_types(c: _Cfg, n: int) -> tuple[str, ...] | None:
    """``layer_types``: one attention kind per layer, or None when the config does not list them."""
    types = c.opt("layer_types", None, list)
    if types is None:
        return None
    if len(types) != n:
        raise LlmhwError(f"lists {len(types)} layers, but num_hidden_layers is {n}", field=c.field("layer_types"),
                         accepted=f"a list of {n} entries, each sliding_attention or full_attention")
    out = []
    for i, t in enumerate(types):
        kind = _LAYER_TYPES.get(t) if isinstance(t, str) else None
        if kind is None:
            raise LlmhwError(f"unknown layer type {_shown(t)}", field=f"{c.field('layer_types')}[{i}]",
                             accepted="sliding_attention, full_attention")
        out.append(kind)
    return tuple(out)


def _gpt_oss(c: _Cfg) -> dict[str, Any]:
    base = _common(c)
    n = base["n_layers"]
    pattern = _layer_types(c, n) or tuple("sliding" if i % 2 == 0 else "full" for i in range(n))
    inter = c.req("intermediate_size")
    # gpt-oss configs spell the routing width num_experts_per_tok; older ones experts_per_token.
    k_key = "num_experts_per_tok" if c.raw.get("num_experts_per_tok") is not None else "experts_per_token"
    n_experts, k = _experts(c, "num_local_experts", k_key)
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
            n_routed_experts=n_experts,
            experts_per_token=k,
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

def _gpt2(c: _Cfg) -> dict[str, Any]:
    """GPT-2's names (n_embd, n_head, n_layer, n_positions, n_inner): the GPT-3 / Megatron GPT
    shape, multi-head attention, a plain GELU FFN of 4 x n_embd unless n_inner says otherwise,
    biases everywhere, the LM head tied to the embedding. The learned position table
    (n_positions x n_embd, under 0.1% of a large model's weights) is not counted."""
    hidden, n_heads = c.req("n_embd"), c.req("n_head")
    if hidden % n_heads:
        raise LlmhwError(f"{hidden} is not divisible by n_head ({n_heads})", field=c.field("n_embd"),
                         accepted="a multiple of n_head")
    n = c.req("n_layer")
    inner = c.opt("n_inner", None)
    return dict(n_layers=n, hidden_size=hidden, n_heads=n_heads, n_kv_heads=n_heads, head_dim=hidden // n_heads,
                vocab_size=c.req("vocab_size"), tie_embeddings=c.opt("tie_word_embeddings", True, bool),
                max_context=c.req("n_positions"),
                intermediate_size=4 * hidden if inner is None else c.req("n_inner"), gated_ffn=False,
                layer_attention=("full",) * n, layer_ffn=("dense",) * n, qkv_bias=True, o_bias=True, mlp_bias=True)


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
    "gpt2": _gpt2,
}

SUPPORTED_MODEL_TYPES: tuple[str, ...] = tuple(sorted(READERS))


# Where a ModelSpec field comes from in a config.json, for the rare check only the spec makes.
_SPEC_FIELDS = {"n_layers": "num_hidden_layers", "n_heads": "num_attention_heads",
                "n_kv_heads": "num_key_value_heads", "max_context": "max_position_embeddings",
                "layer_attention": "layer_types"}
# Longest field path an error line names; a deeply nested value is named by its first steps.
_FIELD_CHARS = 200


# JSON's own scalar types that cannot hold a non-finite number, skipped at the cost of one lookup.
_PLAIN = frozenset({str, int, bool, type(None)})


def _refuse_non_finite(raw: dict[str, Any], where: str) -> None:
    """NaN and infinities are not JSON, but Python's json module reads them and a dict built in
    Python may hold them: refuse one anywhere in the config, read or not. The walk keeps its own
    stack (no recursion limit on deep nesting); a container's path is a chain of (parent, key)
    links, spelled out only to name a bad value."""
    stack: list[tuple[Any, Any]] = [(None, raw)]
    while stack:
        at, box = stack.pop()
        items = box.items() if isinstance(box, dict) else enumerate(box)
        for key, v in items:
            t = type(v)
            if t in _PLAIN:
                continue
            if t is dict or t is list or isinstance(v, dict | list | tuple):
                if v:
                    stack.append(((at, key), v))
            elif isinstance(v, numbers.Real) and not isinstance(v, numbers.Integral) and not math.isfinite(float(v)):
                raise LlmhwError(f"must be a finite number, got {_shown(v)}", field=_path(where, (at, key)),
                                 accepted="a finite number (NaN and Infinity are not JSON)")


def _path(where: str, at: Any) -> str:
    """``where`` followed by the keys of a (parent, key) chain, cut to a readable length."""
    steps: list[str] = []
    while at is not None:
        at, key = at
        steps.append(f"[{key}]" if isinstance(key, int) else f".{str(key)[:_QUOTE_CHARS]}")
    path = where + "".join(reversed(steps))
    return path if len(path) <= _FIELD_CHARS else path[:_FIELD_CHARS] + "..."


def _clean(exc: ValidationError, where: str) -> LlmhwError:
    """One line naming the config field, for a check only the spec itself makes."""
    err = exc.errors()[0]
    loc = ".".join(_SPEC_FIELDS.get(str(p), str(p)) for p in err["loc"])
    msg = err["msg"].removeprefix("Value error, ").replace("\n", " ")
    return LlmhwError(msg, field=f"{where}.{loc}" if loc else where)


def model_from_hf_config(raw: dict[str, Any], *, model_id: str, name: str = "", source: str = "",
                         where: str = "config.json") -> ModelSpec:
    """Build a ModelSpec from the parsed contents of a Hugging Face config.json."""
    if not isinstance(raw, dict):
        raise LlmhwError(f"a config.json must hold a JSON object, got {_shown(raw)}", field=where)
    _refuse_non_finite(raw, where)
    return _from_dict(raw, model_id=model_id, name=name, source=source, where=where, unwrap=True)


def _from_dict(raw: dict[str, Any], *, model_id: str, name: str, source: str, where: str,
               unwrap: bool) -> ModelSpec:
    model_type = raw.get("model_type")
    if model_type is None:
        raise LlmhwError("missing field 'model_type'", field=f"{where}.model_type",
                         accepted=", ".join(SUPPORTED_MODEL_TYPES))
    if not isinstance(model_type, str):
        raise LlmhwError(f"expected a string, got {_shown(model_type)}", field=f"{where}.model_type",
                         accepted=", ".join(SUPPORTED_MODEL_TYPES))
    # Multimodal wrappers (Gemma 3) keep the language model's fields under text_config; only the
    # top level is unwrapped (a text_config inside a text_config is no format transformers writes).
    text = raw.get("text_config")
    if unwrap and text is not None:
        if not isinstance(text, dict):
            raise LlmhwError(f"expected an object, got {_shown(text)}", field=f"{where}.text_config")
        text = dict(text)
        text.setdefault("model_type", f"{model_type}_text" if model_type == "gemma3" else model_type)
        return _from_dict(text, model_id=model_id, name=name, source=source, where=f"{where}.text_config",
                          unwrap=False)
    if model_type not in READERS:
        raise LlmhwError(f"unsupported model_type {_shown(model_type)}", field=f"{where}.model_type",
                         accepted=", ".join(SUPPORTED_MODEL_TYPES))
    raw = {**HF_DEFAULTS.get(model_type, {}), **{k: v for k, v in raw.items() if v is not None}}
    try:
        fields = READERS[model_type](_Cfg(raw, where, model_type))
        return ModelSpec(id=model_id, name=name or model_id, model_type=model_type, source=source, **fields)
    except ValidationError as exc:
        raise _clean(exc, where) from None


def load_hf_config(path: str | Path, *, model_id: str | None = None) -> ModelSpec:
    """Read a local config.json file."""
    p = Path(path)
    raw = read_json(p, field="model", max_bytes=CONFIG_MAX_BYTES)
    mid = model_id or (p.parent.name if p.name == "config.json" else p.stem)
    return model_from_hf_config(raw, model_id=mid, source=str(p.name), where=p.name)
