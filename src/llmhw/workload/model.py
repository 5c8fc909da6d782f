"""What a transformer LLM is, as far as inference hardware cares.

A :class:`ModelSpec` holds the shapes that decide bytes and FLOPs: layers, hidden size,
attention (MHA, GQA, MQA or DeepSeek's multi-head latent attention), the FFN (dense, gated or
not, or a mixture of experts), and which layers attend to a sliding window. Everything else
(parameter counts, weight bytes, KV-cache bytes, FLOPs per token) is derived here with plain
arithmetic a reader can check by hand.

Conventions:
- ``active_params`` counts the parameters a token's forward pass multiplies by: every weight
  of the layers it passes through (routed experts it is sent to, shared experts, attention,
  norms) plus the LM head, but not the input embedding, which is a one-row lookup. This is the
  convention of OpenAI's gpt-oss model card and it is what FLOPs and streamed bytes follow.
  ``active_params_incl_embedding`` adds the embedding table, as Mistral counts Mixtral.
- DeepSeek-V3's multi-token-prediction module is not part of the model (it is excluded from
  the 671 B its authors quote, and engines run it only for speculative decoding).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from llmhw.core.units import bytes_per_element

AttentionKind = Literal["full", "sliding"]
FFNKind = Literal["dense", "moe"]

# Upper bounds on a model's shapes. The largest published decoders stay below 130 layers, a hidden
# size of 20k, an FFN 75k wide, 128 query heads, head_dim 256, 512 routed experts, a vocabulary of
# 263k and a 10M-token context. Each bound is 50 to 130 times beyond, so no real or planned model
# is refused, while a typo (1e12 layers) is, before it builds per-layer tuples of a trillion
# entries. Within the bounds every derived figure stays exact and far inside a float's range: the
# largest, FLOPs per token at the longest context, is below 1e23.
MAX_LAYERS = 10_000
MAX_HIDDEN = 1 << 20
MAX_FFN = 1 << 22
MAX_HEADS = 16_384
MAX_HEAD_DIM = 16_384
MAX_EXPERTS = 65_536
MAX_VOCAB = 1 << 24
MAX_CONTEXT = 1 << 30
# Norm vectors per layer: Gemma 2 and 3 have the most, 4 (around attention and around the FFN).
MAX_NORMS_PER_LAYER = 16


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MLASpec(_Spec):
    """Multi-head latent attention (DeepSeek-V2/V3): K and V come from a shared latent."""

    q_lora_rank: int | None = Field(None, gt=0, le=MAX_HIDDEN, strict=True, description="rank of the query down-projection; None = full-rank query")
    kv_lora_rank: int = Field(gt=0, le=MAX_HIDDEN, strict=True, description="width of the compressed KV latent that is cached")
    qk_rope_head_dim: int = Field(gt=0, le=MAX_HEAD_DIM, strict=True, description="per-head width of the decoupled RoPE key (shared across heads, cached)")
    qk_nope_head_dim: int = Field(gt=0, le=MAX_HEAD_DIM, strict=True, description="per-head width of the non-RoPE query/key part")
    v_head_dim: int = Field(gt=0, le=MAX_HEAD_DIM, strict=True, description="per-head value width")


class MoESpec(_Spec):
    """Mixture-of-experts FFN, used by the layers whose ``ffn`` kind is ``moe``."""

    n_routed_experts: int = Field(gt=0, le=MAX_EXPERTS, strict=True)
    experts_per_token: int = Field(gt=0, le=MAX_EXPERTS, strict=True)
    expert_intermediate_size: int = Field(gt=0, le=MAX_FFN, strict=True)
    n_shared_experts: int = Field(0, ge=0, le=MAX_EXPERTS, strict=True, description="experts every token goes through")
    shared_intermediate_size: int = Field(0, ge=0, le=MAX_EXPERTS * MAX_FFN, strict=True, description="total FFN width of the shared experts together")
    shared_expert_gate: bool = Field(False, description="a sigmoid gate (hidden -> 1) on the shared expert (Qwen2-MoE)")
    router_bias: bool = False
    expert_bias: bool = Field(False, description="bias vectors inside each expert (gpt-oss)")

    @model_validator(mode="after")
    def _check(self) -> MoESpec:
        if self.experts_per_token > self.n_routed_experts:
            raise ValueError(
                f"experts_per_token ({self.experts_per_token}) exceeds n_routed_experts ({self.n_routed_experts})"
            )
        if (self.n_shared_experts > 0) != (self.shared_intermediate_size > 0):
            raise ValueError("n_shared_experts and shared_intermediate_size must both be zero or both positive")
        return self


class ModelSpec(_Spec):
    """Shapes of a decoder-only transformer. Counts are plain integers; sizes are elements."""

    id: str
    name: str = ""
    model_type: str = Field("custom", description="Hugging Face model_type it was read from")
    n_layers: int = Field(gt=0, le=MAX_LAYERS, strict=True)
    hidden_size: int = Field(gt=0, le=MAX_HIDDEN, strict=True)
    n_heads: int = Field(gt=0, le=MAX_HEADS, strict=True, description="query heads")
    n_kv_heads: int = Field(gt=0, le=MAX_HEADS, strict=True, description="key/value heads (n_heads for MHA, 1 for MQA); for MLA, n_heads")
    # Under MLA the query/key head is the no-RoPE part plus the RoPE part, each up to MAX_HEAD_DIM.
    head_dim: int = Field(gt=0, le=2 * MAX_HEAD_DIM, strict=True)
    intermediate_size: int = Field(ge=0, le=MAX_FFN, strict=True, description="FFN width of the dense layers (0 if every layer is MoE)")
    gated_ffn: bool = Field(True, description="SwiGLU/GeGLU: gate, up and down matrices; else up and down")
    vocab_size: int = Field(gt=0, le=MAX_VOCAB, strict=True)
    tie_embeddings: bool = False
    max_context: int = Field(gt=0, le=MAX_CONTEXT, strict=True)
    layer_attention: tuple[AttentionKind, ...] = Field(description="per layer: full or sliding-window attention")
    layer_ffn: tuple[FFNKind, ...] = Field(description="per layer: dense FFN or MoE")
    sliding_window: int | None = Field(None, gt=0, le=MAX_CONTEXT, strict=True)
    mla: MLASpec | None = None
    moe: MoESpec | None = None
    qkv_bias: bool = False
    o_bias: bool = False
    mlp_bias: bool = False
    qk_norm: bool = Field(False, description="per-head RMSNorm on queries and keys (Qwen3, Gemma 3)")
    attention_sinks: bool = Field(False, description="a learned sink logit per head (gpt-oss)")
    norms_per_layer: int = Field(2, ge=0, le=MAX_NORMS_PER_LAYER, strict=True, description="hidden-size norm vectors per layer (Gemma: 4)")
    source: str = Field("", description="where the shapes come from (URL or file)")

    @model_validator(mode="after")
    def _check(self) -> ModelSpec:
        for name in ("layer_attention", "layer_ffn"):
            if len(getattr(self, name)) != self.n_layers:
                raise ValueError(f"{name} has {len(getattr(self, name))} entries for {self.n_layers} layers")
        if self.mla is None and self.n_heads % self.n_kv_heads:
            raise ValueError(f"n_heads ({self.n_heads}) is not a multiple of n_kv_heads ({self.n_kv_heads})")
        if "sliding" in self.layer_attention and self.sliding_window is None:
            raise ValueError("sliding layers need a sliding_window")
        if "moe" in self.layer_ffn and self.moe is None:
            raise ValueError("layers of kind 'moe' need a moe block")
        if "dense" in self.layer_ffn and self.intermediate_size == 0:
            raise ValueError("dense layers need intermediate_size > 0")
        return self

    # -- structure -------------------------------------------------------------------------

    @property
    def attention_kind(self) -> str:
        if self.mla is not None:
            return "mla"
        if self.n_kv_heads == self.n_heads:
            return "mha"
        return "mqa" if self.n_kv_heads == 1 else "gqa"

    @property
    def is_moe(self) -> bool:
        return "moe" in self.layer_ffn

    @property
    def n_moe_layers(self) -> int:
        return self.layer_ffn.count("moe")

    @property
    def n_dense_layers(self) -> int:
        return self.layer_ffn.count("dense")

    @property
    def n_sliding_layers(self) -> int:
        return self.layer_attention.count("sliding")

    @property
    def q_width(self) -> int:
        """Elements of one token's queries across all heads."""
        if self.mla:
            return self.n_heads * (self.mla.qk_nope_head_dim + self.mla.qk_rope_head_dim)
        return self.n_heads * self.head_dim

    @property
    def attn_out_width(self) -> int:
        """Elements of one token's attention output (input of the O projection)."""
        return self.n_heads * (self.mla.v_head_dim if self.mla else self.head_dim)

    # -- parameters, per component (elements) ------------------------------------------------

    def ffn_params(self, width: int) -> int:
        h = self.hidden_size
        mats = (3 if self.gated_ffn else 2) * h * width
        bias = ((2 * width if self.gated_ffn else width) + h) if self.mlp_bias else 0
        return mats + bias

    @cached_property
    def attention_params(self) -> int:
        """One layer's attention weights (projections, biases, q/k norms, sinks)."""
        h = self.hidden_size
        if self.mla:
            m, H = self.mla, self.n_heads
            qk_head = m.qk_nope_head_dim + m.qk_rope_head_dim
            if m.q_lora_rank:
                q = h * m.q_lora_rank + m.q_lora_rank + m.q_lora_rank * H * qk_head
            else:
                q = h * H * qk_head
            kv_a = h * (m.kv_lora_rank + m.qk_rope_head_dim) + m.kv_lora_rank
            kv_b = m.kv_lora_rank * H * (m.qk_nope_head_dim + m.v_head_dim)
            o = H * m.v_head_dim * h
            return q + kv_a + kv_b + o
        kv = self.n_kv_heads * self.head_dim
        p = h * self.q_width + 2 * h * kv + self.attn_out_width * h
        if self.qkv_bias:
            p += self.q_width + 2 * kv
        if self.o_bias:
            p += h
        if self.qk_norm:
            p += 2 * self.head_dim
        if self.attention_sinks:
            p += self.n_heads
        return p

    @cached_property
    def expert_params(self) -> int:
        """One routed expert."""
        assert self.moe is not None
        p = 3 * self.hidden_size * self.moe.expert_intermediate_size if self.gated_ffn else 2 * self.hidden_size * self.moe.expert_intermediate_size
        if self.moe.expert_bias:
            w = self.moe.expert_intermediate_size
            p += (2 * w if self.gated_ffn else w) + self.hidden_size
        return p

    @cached_property
    def router_params(self) -> int:
        assert self.moe is not None
        e = self.moe.n_routed_experts
        return self.hidden_size * e + (e if self.moe.router_bias else 0)

    @cached_property
    def shared_expert_params(self) -> int:
        """All shared experts of one MoE layer together, with their gate."""
        if self.moe is None or self.moe.n_shared_experts == 0:
            return 0
        gate = self.hidden_size if self.moe.shared_expert_gate else 0
        return self.ffn_params(self.moe.shared_intermediate_size) + gate

    @property
    def dense_ffn_params(self) -> int:
        return self.ffn_params(self.intermediate_size) if self.intermediate_size else 0

    @property
    def norm_params_per_layer(self) -> int:
        return self.norms_per_layer * self.hidden_size

    @property
    def embedding_params(self) -> int:
        return self.vocab_size * self.hidden_size

    @property
    def lm_head_params(self) -> int:
        """Parameters of the output projection; a tied head reuses the embedding (0 extra)."""
        return 0 if self.tie_embeddings else self.vocab_size * self.hidden_size

    def layer_params(self, i: int) -> int:
        """Total parameters of layer ``i``."""
        p = self.attention_params + self.norm_params_per_layer
        if self.layer_ffn[i] == "moe":
            assert self.moe is not None
            p += self.moe.n_routed_experts * self.expert_params + self.router_params + self.shared_expert_params
        else:
            p += self.dense_ffn_params
        return p

    def layer_active_params(self, i: int) -> int:
        """Parameters layer ``i`` multiplies one token by."""
        p = self.attention_params + self.norm_params_per_layer
        if self.layer_ffn[i] == "moe":
            assert self.moe is not None
            p += self.moe.experts_per_token * self.expert_params + self.router_params + self.shared_expert_params
        else:
            p += self.dense_ffn_params
        return p

    def _sum_over_layers(self, per_layer: Callable[[int], int]) -> int:
        """``per_layer`` summed over the layers; layers of one FFN kind are alike, so each kind is
        priced once and multiplied by its count (exact integers, and no loop over 10k layers)."""
        return sum(self.layer_ffn.count(k) * per_layer(self.layer_ffn.index(k)) for k in set(self.layer_ffn))

    @cached_property
    def total_params(self) -> int:
        layers = self._sum_over_layers(self.layer_params)
        return layers + self.embedding_params + self.lm_head_params + self.hidden_size  # final norm

    @cached_property
    def active_params(self) -> int:
        """Per-token compute parameters: layers + final norm + LM head (which is the tied
        embedding matrix when embeddings are tied); the input embedding lookup is excluded."""
        layers = self._sum_over_layers(self.layer_active_params)
        return layers + self.hidden_size + self.vocab_size * self.hidden_size

    @property
    def active_params_incl_embedding(self) -> int:
        extra = 0 if self.tie_embeddings else self.embedding_params
        return self.active_params + extra

    def weight_bytes(self, precision: str = "bf16") -> float:
        """Bytes of all weights stored at ``precision`` (block scales included)."""
        return self.total_params * bytes_per_element(precision)

    # -- KV cache ----------------------------------------------------------------------------

    @property
    def kv_elements_per_token_per_layer(self) -> int:
        """Cached elements one token adds to one layer: K and V heads, or MLA's latent plus
        its shared RoPE key."""
        if self.mla:
            return self.mla.kv_lora_rank + self.mla.qk_rope_head_dim
        return 2 * self.n_kv_heads * self.head_dim

    def kv_cache_bytes_per_token(self, precision: str = "bf16") -> float:
        """KV bytes one token adds across all layers (before any sliding window evicts it)."""
        return self.n_layers * self.kv_elements_per_token_per_layer * bytes_per_element(precision)

    def kv_cache_bytes_per_token_by_kind(self, precision: str = "bf16") -> dict[str, float]:
        per_layer = self.kv_elements_per_token_per_layer * bytes_per_element(precision)
        return {
            "full": per_layer * self.layer_attention.count("full"),
            "sliding": per_layer * self.n_sliding_layers,
        }

    def cached_tokens(self, kind: AttentionKind, context: int) -> int:
        """Tokens a layer of ``kind`` holds at ``context``: sliding layers keep the window."""
        if kind == "sliding":
            assert self.sliding_window is not None
            return min(context, self.sliding_window)
        return context

    def cached_tokens_all_layers(self, context: int) -> int:
        """Tokens all layers together hold at ``context`` (what ``cached_tokens`` sums to)."""
        n_sliding = self.n_sliding_layers
        held = (self.n_layers - n_sliding) * context
        return held + n_sliding * self.cached_tokens("sliding", context) if n_sliding else held

    def kv_cache_bytes(self, context: int, precision: str = "bf16") -> float:
        """KV bytes of one sequence at ``context`` tokens, sliding windows applied."""
        per_layer = self.kv_elements_per_token_per_layer * bytes_per_element(precision)
        return per_layer * self.cached_tokens_all_layers(context)

    # -- FLOPs -------------------------------------------------------------------------------

    @property
    def attention_flops_per_context_token(self) -> int:
        """FLOPs one query spends per attended key in one layer: scores (q.k) plus the
        weighted sum of values, 2 FLOPs per multiply-add each."""
        if self.mla:
            dk = self.mla.qk_nope_head_dim + self.mla.qk_rope_head_dim
            dv = self.mla.v_head_dim
        else:
            dk = dv = self.head_dim
        return 2 * self.n_heads * (dk + dv)

    def flops_per_token(self, context: int = 0) -> float:
        """Forward FLOPs for one token that attends to ``context`` earlier tokens (itself
        included): 2 per active weight, plus attention over the cached keys."""
        attended = self.cached_tokens_all_layers(context)
        return 2.0 * self.active_params + self.attention_flops_per_context_token * attended

    def summary(self) -> dict[str, object]:
        """The derived figures ``llmhw show`` prints, in SI units."""
        return {
            "id": self.id,
            "name": self.name or self.id,
            "model_type": self.model_type,
            "layers": self.n_layers,
            "hidden_size": self.hidden_size,
            "attention": self.attention_kind,
            "n_heads": self.n_heads,
            "n_kv_heads": self.n_kv_heads,
            "head_dim": self.head_dim,
            "moe": self.is_moe,
            "n_routed_experts": self.moe.n_routed_experts if self.moe else 0,
            "experts_per_token": self.moe.experts_per_token if self.moe else 0,
            "n_shared_experts": self.moe.n_shared_experts if self.moe else 0,
            "dense_layers": self.n_dense_layers,
            "moe_layers": self.n_moe_layers,
            "sliding_layers": self.n_sliding_layers,
            "sliding_window": self.sliding_window,
            "vocab_size": self.vocab_size,
            "max_context": self.max_context,
            "total_params": self.total_params,
            "active_params": self.active_params,
            "active_params_incl_embedding": self.active_params_incl_embedding,
            "weight_bytes": {p: self.weight_bytes(p) for p in ("bf16", "fp8", "fp4", "int4")},
            "kv_cache_bytes_per_token": self.kv_cache_bytes_per_token("bf16"),
            "kv_cache_bytes_per_token_by_kind": self.kv_cache_bytes_per_token_by_kind("bf16"),
            "kv_cache_bytes_at_max_context": self.kv_cache_bytes(self.max_context, "bf16"),
            "flops_per_token": self.flops_per_token(0),
            "flops_per_token_at_max_context": self.flops_per_token(self.max_context),
            "source": self.source,
        }
