"""How many of a model's parameters and cached elements land on one chip.

The rules are those of vLLM, SGLang and TensorRT-LLM:
- TP splits query heads, the O projection and dense FFN widths; K/V heads are split too, but a
  chip never holds less than one KV head, so KV heads fewer than TP are replicated.
- MLA's down-projections (q_a, kv_a) are replicated on every TP rank, its up-projections and O
  are split by head, and its compressed latent cache is replicated on every TP rank.
- MoE layers split the chips that hold one copy of the experts into ep expert groups; each group
  holds n_experts / ep experts, each tensor-split over the chips of the group. With
  ``moe_dp: shared`` (attention data parallel) one copy spans all tp x dp chips; with
  ``moe_dp: replicated`` every replica holds its own copy on its tp chips. Either way a chip
  holds 1 / (chips per copy) of all routed-expert weights. Routers are replicated; shared
  experts follow TP.
- The embedding (vocab-parallel over TP) sits on the first pipeline stage, the LM head and
  final norm on the last; a tied head on its own last stage needs its own copy.
- PP gives stages whole layers; when they do not divide evenly the extra layers go to the
  stages before the last, as vLLM's ``get_pp_indices`` does, so the stage with the LM head is
  lighter.
"""

from __future__ import annotations

from dataclasses import dataclass

from llmhw.core.units import bytes_per_element
from llmhw.scenario import Parallelism
from llmhw.workload.model import ModelSpec


def kv_heads_per_chip(model: ModelSpec, tp: int) -> int:
    """KV heads a chip holds (MLA: its latent is not split by heads; report n_heads / tp)."""
    if model.mla is not None:
        return model.n_heads // tp
    return max(1, model.n_kv_heads // tp)


def kv_replication(model: ModelSpec, tp: int) -> int:
    """How many chips of a TP group hold a copy of the same KV head (or of MLA's latent)."""
    if model.mla is not None:
        return tp
    return max(1, tp // model.n_kv_heads)


def attention_params_per_chip(model: ModelSpec, tp: int) -> float:
    h = model.hidden_size
    if model.mla is not None:
        m, H = model.mla, model.n_heads
        qk_head = m.qk_nope_head_dim + m.qk_rope_head_dim
        if m.q_lora_rank:
            replicated = h * m.q_lora_rank + m.q_lora_rank
            split = m.q_lora_rank * H * qk_head
        else:
            replicated, split = 0, h * H * qk_head
        replicated += h * (m.kv_lora_rank + m.qk_rope_head_dim) + m.kv_lora_rank
        split += m.kv_lora_rank * H * (m.qk_nope_head_dim + m.v_head_dim) + H * m.v_head_dim * h
        return replicated + split / tp
    kv = kv_heads_per_chip(model, tp) * model.head_dim
    p = h * model.q_width / tp + 2 * h * kv + model.attn_out_width * h / tp
    if model.qkv_bias:
        p += model.q_width / tp + 2 * kv
    if model.o_bias:
        p += h
    if model.qk_norm:
        p += 2 * model.head_dim
    if model.attention_sinks:
        p += model.n_heads / tp
    return p


def layer_params_per_chip(model: ModelSpec, par: Parallelism, i: int) -> float:
    """Parameters of layer ``i`` held by one chip of its stage."""
    p = attention_params_per_chip(model, par.tp) + model.norm_params_per_layer
    if model.layer_ffn[i] == "moe":
        assert model.moe is not None
        p += model.moe.n_routed_experts * model.expert_params / par.expert_chips
        p += model.router_params + model.shared_expert_params / par.tp
    else:
        p += model.dense_ffn_params / par.tp
    return p


def stage_layers(n_layers: int, pp: int) -> list[range]:
    """Contiguous layer ranges per pipeline stage (vLLM's split)."""
    sizes = [n_layers // pp] * pp
    for k in range(2, n_layers % pp + 2):
        sizes[-k] += 1
    out, start = [], 0
    for s in sizes:
        out.append(range(start, start + s))
        start += s
    return out


def kv_elements_per_token_per_chip(model: ModelSpec, tp: int) -> int:
    """Cached elements one token adds to one layer on one chip."""
    if model.mla is not None:
        return model.kv_elements_per_token_per_layer
    return 2 * kv_heads_per_chip(model, tp) * model.head_dim


@dataclass(frozen=True)
class StageShare:
    """What one chip of one pipeline stage holds."""

    stage: int
    layers: range
    layer_params: float          # transformer-layer parameters on the chip
    embedding_params: float      # embedding and/or LM head on the chip
    weight_bytes: float
    kv_bytes_per_request: float  # at the scenario's peak context

    @property
    def params(self) -> float:
        return self.layer_params + self.embedding_params


def stage_shares(model: ModelSpec, par: Parallelism, weights: str, embeddings: str, kv: str,
                 context: int) -> list[StageShare]:
    """Per-chip weights and per-request KV of every pipeline stage."""
    wb, eb, kb = bytes_per_element(weights), bytes_per_element(embeddings), bytes_per_element(kv)
    kv_tok = kv_elements_per_token_per_chip(model, par.tp)
    vocab_shard = model.vocab_size * model.hidden_size / par.tp
    ranges = stage_layers(model.n_layers, par.pp)
    out = []
    for s, layers in enumerate(ranges):
        lp = sum(layer_params_per_chip(model, par, i) for i in layers)
        first, last = s == 0, s == len(ranges) - 1
        emb = 0.0
        if first:
            emb += vocab_shard
        if last:
            lp += model.hidden_size  # final norm
            # An untied head always needs its own matrix; a tied one only when the embedding
            # lives on another stage.
            if not model.tie_embeddings or not first:
                emb += vocab_shard
        kv_req = kv_tok * kb * sum(model.cached_tokens(model.layer_attention[i], context) for i in layers)
        out.append(StageShare(s, layers, lp, emb, lp * wb + emb * eb, kv_req))
    return out
