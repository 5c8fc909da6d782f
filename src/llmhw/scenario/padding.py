"""The model as an engine that pads heads runs it.

vLLM, SGLang and TensorRT-LLM refuse a tensor-parallel degree that does not divide the attention
heads. AWS's Neuron stacks (NxD Inference, under vLLM's Neuron plugin, and transformers-neuronx)
pad instead, so that an inf2.48xlarge runs 24 NeuronCores on a 32- or 64-head model. Their rule,
for T tensor-parallel ranks (neuronx-distributed ``get_number_of_extra_heads``, NxD Inference
``modules/attention/gqa.py`` ``get_shardable_head_counts``):

- query heads H are padded with zero heads to the next multiple of T: H' = ceil(H / T) x T, each
  rank computing ceil(H / T) heads;
- K/V heads: multi-head attention pads them as the queries (KV' = H'); grouped-query attention
  keeps KV heads that T divides; when KV < T and T is a multiple of KV, each KV head is
  replicated so that every rank holds one (``REPLICATE_TO_TP_DEGREE``, KV' = T); otherwise the
  KV heads are replicated to one per query head (``CONVERT_TO_MHA``, KV' = H'), the costly case;
- the dense FFN width is padded to a multiple of T as well (column-parallel layers with padding).

The padded heads are zeros but not free: their projections are read, multiplied and their K/V
cached like any other, which is what pricing the padded model charges. MLA and MoE expert widths
are not padded (no engine in the catalog pads them).

A chip may hold several ranks (``parallelism.ranks_per_chip``: a NeuronCore is a rank, two per
Inferentia2 or Trainium1 chip), so T = tp x ranks_per_chip and a chip holds ranks_per_chip
ranks' heads.
"""

from __future__ import annotations

from math import ceil

from llmhw.workload.model import ModelSpec


def padded_heads(n_heads: int, n_kv_heads: int, shards: int) -> tuple[int, int]:
    """(query heads, K/V heads) after padding to ``shards`` tensor-parallel ranks (NxD Inference's
    rule, module docstring)."""
    h = ceil(n_heads / shards) * shards
    if n_kv_heads == n_heads:
        return h, h
    if n_kv_heads % shards == 0:
        return h, n_kv_heads
    if shards % n_kv_heads == 0:
        return h, shards
    return h, h


def needs_padding(model: ModelSpec, shards: int) -> bool:
    """Whether ``shards`` ranks split the model's heads, KV heads and dense FFN evenly (vLLM's
    condition: T divides the heads, KV heads and T divide one another, T divides the FFN)."""
    kv_ok = model.mla is not None or model.n_kv_heads % shards == 0 or shards % model.n_kv_heads == 0
    ffn_ok = not (model.intermediate_size and model.n_dense_layers) or model.intermediate_size % shards == 0
    return bool(model.n_heads % shards or not kv_ok or not ffn_ok)


def padded_model(model: ModelSpec, tp: int, ranks_per_chip: int = 1) -> ModelSpec:
    """The model with its heads, K/V heads and dense FFN width padded for tp x ranks_per_chip
    ranks; the model itself when one rank per chip splits it evenly (nothing to pad)."""
    shards = tp * ranks_per_chip
    if model.mla is not None or (ranks_per_chip == 1 and not needs_padding(model, shards)):
        return model
    h, kv = padded_heads(model.n_heads, model.n_kv_heads, shards)
    width = model.intermediate_size
    if width and model.n_dense_layers:
        width = ceil(width / shards) * shards
    if (h, kv, width) == (model.n_heads, model.n_kv_heads, model.intermediate_size):
        return model
    # Validated afresh (not model_copy): ModelSpec caches derived counts on the instance.
    return ModelSpec.model_validate({**model.model_dump(), "n_heads": h, "n_kv_heads": kv, "intermediate_size": width})
