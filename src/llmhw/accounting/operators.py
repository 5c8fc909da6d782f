"""The operators one forward step runs on one chip, with their FLOPs and bytes.

This is llmhw's explicit accounting (in the spirit of LLM-Viewer): for a scenario and a step
(how many new tokens, how many requests, how much context they attend to), every operator of
every kind of layer gets its FLOPs and its bytes by class (weights, KV read, KV write,
activations in and out) on one chip after sharding, and every collective its message size.
Quantities are numpy arrays, so one call describes a whole sweep of batch sizes and contexts.

A step is described by per-replica arrays (see :class:`Step`). The engine prices the operators
(``cost/``); this module only counts.

Conventions: 2 FLOPs per multiply-add. A GEMM's ``m`` is its token dimension (the rows that
share one read of the weights) and ``n`` the narrower of its two weight dimensions on this chip
(tensor parallelism shrinks it); together they decide how close it can get to peak compute.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from llmhw.accounting.expert_load import busiest_group_load
from llmhw.accounting.memory import LOGIT_BYTES
from llmhw.accounting.sharding import (
    attention_params_per_chip,
    kv_elements_per_token_per_chip,
    kv_heads_per_chip,
    stage_layers,
)
from llmhw.core.units import bytes_per_element
from llmhw.scenario import Scenario
from llmhw.workload.model import ModelSpec

Array = np.ndarray | float


@dataclass
class Op:
    """One operator of one layer (or of the model head), per chip, repeated ``count`` times."""

    name: str
    kind: str                      # gemm, attention, comm
    count: float                   # occurrences per step (layers of this kind on the stage)
    flops: Array = 0.0
    weight_bytes: Array = 0.0
    kv_read_bytes: Array = 0.0
    kv_write_bytes: Array = 0.0
    act_bytes: Array = 0.0         # activations in + out
    m: Array = 1.0                 # GEMM token dimension
    n: float = 1.0e9               # GEMM's narrowest weight dimension on the chip (TP shrinks it)
    weight_precision: str = "bf16"
    compute_precision: str | None = None   # GEMMs: the type they multiply in when the scenario names one
    collective: str = ""           # all_reduce, all_to_all, all_gather, send
    comm_bytes: Array = 0.0        # message size per chip
    group: int = 1                 # chips in the collective

    @property
    def bytes(self) -> Array:
        return self.weight_bytes + self.kv_read_bytes + self.kv_write_bytes + self.act_bytes


@dataclass
class Step:
    """What one step does on one replica (arrays broadcast together).

    tokens:   new tokens processed (decode: one per request; prefill: the prompt chunk)
    logits:   tokens that produce logits (decode: one per request; prefill: one per prompt)
    attended_full / attended_sliding: (query, key) pairs per layer of each attention kind
    kv_read_full / kv_read_sliding: cached tokens read per layer of each kind
    phase:    "prefill" or "decode" (MLA uses the absorbed form in decode)
    """

    tokens: Array
    logits: Array
    attended_full: Array
    attended_sliding: Array
    kv_read_full: Array
    kv_read_sliding: Array
    phase: str


def causal_pairs(length: Array, window: int | None) -> Array:
    """(query, key) pairs of causal attention over a fresh prompt of ``length`` tokens."""
    L = np.asarray(length, dtype=float)
    full = L * (L + 1) / 2
    if window is None:
        return full
    W = float(window)
    return np.where(L <= W, full, W * (W + 1) / 2 + (L - W) * W)


def decode_step(model: ModelSpec, requests: Array, context: Array) -> Step:
    """One decode step: each request adds a token and attends to its ``context`` tokens."""
    r = np.asarray(requests, dtype=float)
    c = np.asarray(context, dtype=float)
    win = model.sliding_window
    cs = np.minimum(c, win) if win else c
    return Step(tokens=r, logits=r, attended_full=r * c, attended_sliding=r * cs,
                kv_read_full=r * c, kv_read_sliding=r * cs, phase="decode")


def parallel_decode_step(model: ModelSpec, requests: Array, context: Array, positions: float) -> Step:
    """One step of parallel (diffusion-style) decoding: each request runs ``positions`` new
    positions that share one read of the weights and of its cached ``context``, and each position
    attends to the context and to the block."""
    r = np.asarray(requests, dtype=float)
    c = np.asarray(context, dtype=float)
    p = float(positions)
    win = model.sliding_window
    cs = np.minimum(c, win) if win else c
    return Step(tokens=r * p, logits=r * p, attended_full=r * p * (c + p), attended_sliding=r * p * (cs + p),
                kv_read_full=r * c, kv_read_sliding=r * cs, phase="decode")


def prefill_step(model: ModelSpec, prompt: Array, prompts: Array = 1.0) -> Step:
    """Prefill of ``prompts`` fresh prompts of ``prompt`` tokens each, in one pass."""
    n = np.asarray(prompts, dtype=float)
    L = np.asarray(prompt, dtype=float)
    return Step(tokens=n * L, logits=n, attended_full=n * causal_pairs(L, None),
                attended_sliding=n * causal_pairs(L, model.sliding_window),
                kv_read_full=0.0 * L, kv_read_sliding=0.0 * L, phase="prefill")


@dataclass
class LayerGroup:
    attention: str   # full / sliding
    ffn: str         # dense / moe
    count: int


@dataclass
class OperatorModel:
    """Per-chip operator accounting of a scenario's most loaded pipeline stage."""

    scenario: Scenario
    groups: list[LayerGroup] = field(default_factory=list)

    def __post_init__(self) -> None:
        s = self.scenario
        m = s.run_model
        stages = stage_layers(m.n_layers, s.parallelism.pp)
        # The stage with the most layers sets the pace (uneven splits leave one heavier).
        heavy = max(stages, key=len)
        kinds: dict[tuple[str, str], int] = {}
        for i in heavy:
            key = (m.layer_attention[i], m.layer_ffn[i])
            kinds[key] = kinds.get(key, 0) + 1
        self.groups = [LayerGroup(a, f, n) for (a, f), n in kinds.items()]

    # -- static, per chip -------------------------------------------------------------------

    @cached_property
    def wb(self) -> float:
        return bytes_per_element(self.scenario.precision.weights)

    @cached_property
    def ab(self) -> float:
        return bytes_per_element(self.scenario.precision.activations)

    @cached_property
    def kb(self) -> float:
        return bytes_per_element(self.scenario.precision.kv_cache)

    @cached_property
    def eb(self) -> float:
        return bytes_per_element(self.scenario.precision.embedding_precision)

    def _attention_split(self) -> tuple[float, float, float]:
        """Per-chip parameters of (q/k/v and down-projections, MLA's kv_b, o)."""
        m, tp = self.scenario.run_model, self.scenario.parallelism.tp
        total = attention_params_per_chip(m, tp)
        o = m.attn_out_width * m.hidden_size / tp
        kv_b = 0.0
        if m.mla is not None:
            kv_b = m.mla.kv_lora_rank * m.n_heads * (m.mla.qk_nope_head_dim + m.mla.v_head_dim) / tp
        return total - o - kv_b, kv_b, o

    # -- the operators ------------------------------------------------------------------------

    def ops(self, step: Step) -> list[Op]:
        s, m = self.scenario, self.scenario.run_model
        p = s.parallelism
        tp = p.tp
        h = m.hidden_size
        T = np.asarray(step.tokens, dtype=float)
        wp, cp = s.precision.weights, s.precision.compute
        ops: list[Op] = []
        qkv_p, kvb_p, o_p = self._attention_split()
        heads = m.n_heads / tp
        kv_tok_bytes = kv_elements_per_token_per_chip(m, tp) * self.kb
        if m.mla is not None and step.phase == "decode":
            # Absorbed MLA: scores in the 576-wide latent space, values in the 512-wide latent.
            dk = m.mla.kv_lora_rank + m.mla.qk_rope_head_dim
            dv = m.mla.kv_lora_rank
        elif m.mla is not None:
            dk = m.mla.qk_nope_head_dim + m.mla.qk_rope_head_dim
            dv = m.mla.v_head_dim
        else:
            dk = dv = m.head_dim
        q_out = m.q_width / tp + 2 * kv_heads_per_chip(m, tp) * m.head_dim

        for g in self.groups:
            n = g.count
            ops.append(Op("qkv_proj", "gemm", n, flops=2 * T * qkv_p, weight_bytes=qkv_p * self.wb,
                          act_bytes=T * (h + q_out) * self.ab, m=T, n=min(h, q_out), weight_precision=wp,
                          compute_precision=cp))
            if kvb_p:
                ops.append(Op("kv_b_proj", "gemm", n, flops=2 * T * kvb_p, weight_bytes=kvb_p * self.wb,
                              act_bytes=T * (m.mla.kv_lora_rank * 2 + heads * (dk + dv)) * self.ab,
                              m=T, n=m.mla.kv_lora_rank, weight_precision=wp, compute_precision=cp))
            pairs = step.attended_sliding if g.attention == "sliding" else step.attended_full
            read = step.kv_read_sliding if g.attention == "sliding" else step.kv_read_full
            ops.append(Op("attention", "attention", n, flops=2 * heads * (dk + dv) * np.asarray(pairs, float),
                          kv_read_bytes=np.asarray(read, float) * kv_tok_bytes, kv_write_bytes=T * kv_tok_bytes,
                          act_bytes=T * heads * (dk + dv) * self.ab, m=T))
            ops.append(Op("o_proj", "gemm", n, flops=2 * T * o_p, weight_bytes=o_p * self.wb,
                          act_bytes=T * (m.attn_out_width / tp + h) * self.ab, m=T, n=m.attn_out_width / tp,
                          weight_precision=wp, compute_precision=cp))
            if tp > 1:
                ops.append(Op("attn_all_reduce", "comm", n, collective="all_reduce", comm_bytes=T * h * self.ab,
                              group=tp))
            if g.ffn == "dense":
                fp = m.dense_ffn_params / tp
                ops.append(Op("ffn", "gemm", n, flops=2 * T * fp, weight_bytes=fp * self.wb,
                              act_bytes=T * (2 * h + 3 * m.intermediate_size / tp) * self.ab, m=T,
                              n=m.intermediate_size / tp, weight_precision=wp, compute_precision=cp))
                if tp > 1:
                    ops.append(Op("ffn_all_reduce", "comm", n, collective="all_reduce",
                                  comm_bytes=T * h * self.ab, group=tp))
            else:
                ops.extend(self._moe_ops(T, n))
        ops.extend(self._head_ops(step))
        if p.pp > 1:
            ops.append(Op("pp_send", "comm", 1, collective="send", comm_bytes=T * h * self.ab, group=2))
        return ops

    def _moe_ops(self, T: np.ndarray, n: int) -> list[Op]:
        s, m = self.scenario, self.scenario.run_model
        p, moe = s.parallelism, s.run_model.moe
        assert moe is not None
        h, wp, cp = m.hidden_size, s.precision.weights, s.precision.compute
        # dp: replicas that share one copy of the experts (all of them with moe_dp shared, else
        # 1: a replicated copy sees only its own replica's tokens and talks only within its tp).
        tp, dp, ep = p.tp, p.expert_dp, p.ep
        E, k = moe.n_routed_experts, moe.experts_per_token
        group_tokens = T * dp                       # tokens of the whole MoE group
        per_expert_split = tp * dp // ep            # chips each expert is tensor-split over
        # Each token picks k of E experts; only touched experts' weights are read, and each
        # token-expert pair costs one pass through an expert. The ep expert groups get uneven
        # shares and the step waits for the busiest: price the expected maximum over the groups
        # of experts touched (bytes) and of pairs (FLOPs); with ep = 1 these are the means.
        _, touched, _, pairs_here = busiest_group_load(group_tokens, E, k, ep)
        expert_chip = m.expert_params / per_expert_split
        ops = [
            Op("router", "gemm", n, flops=2 * T * m.router_params, weight_bytes=m.router_params * self.wb,
               act_bytes=T * (h + E) * self.ab, m=T, n=E, weight_precision=wp, compute_precision=cp),
            Op("experts", "gemm", n, flops=2 * pairs_here * expert_chip, weight_bytes=touched * expert_chip * self.wb,
               act_bytes=pairs_here * (2 * h + 3 * moe.expert_intermediate_size / per_expert_split) * self.ab,
               m=np.maximum(pairs_here / np.maximum(touched, 1e-9), 1.0),
               n=moe.expert_intermediate_size / per_expert_split, weight_precision=wp, compute_precision=cp),
        ]
        if moe.n_shared_experts:
            sp = m.shared_expert_params / tp
            ops.append(Op("shared_experts", "gemm", n, flops=2 * T * sp, weight_bytes=sp * self.wb,
                          act_bytes=T * (2 * h + 3 * moe.shared_intermediate_size / tp) * self.ab, m=T,
                          n=moe.shared_intermediate_size / tp, weight_precision=wp, compute_precision=cp))
        if dp > 1:
            # Attention data-parallel: tokens travel to their experts' chips and back.
            msg = T * min(k, ep) * h * self.ab
            ops.append(Op("moe_dispatch", "comm", n, collective="all_to_all", comm_bytes=msg, group=tp * dp))
            ops.append(Op("moe_combine", "comm", n, collective="all_to_all", comm_bytes=msg, group=tp * dp))
        elif tp > 1:
            ops.append(Op("moe_all_reduce", "comm", n, collective="all_reduce", comm_bytes=T * h * self.ab, group=tp))
        return ops

    def _head_ops(self, step: Step) -> list[Op]:
        s, m = self.scenario, self.scenario.run_model
        tp = s.parallelism.tp
        V, h = m.vocab_size, m.hidden_size
        lg = np.asarray(step.logits, dtype=float)
        shard = V * h / tp
        ops = [Op("lm_head", "gemm", 1, flops=2 * lg * shard, weight_bytes=shard * self.eb,
                  act_bytes=lg * (h * self.ab + V / tp * LOGIT_BYTES), m=lg, n=min(h, V / tp),
                  weight_precision=s.precision.embedding_precision, compute_precision=s.precision.compute)]
        if tp > 1:
            ops.append(Op("logits_gather", "comm", 1, collective="all_gather", comm_bytes=lg * V / tp * LOGIT_BYTES, group=tp))
        return ops


def totals(ops: list[Op]) -> dict[str, Array]:
    """Sums over a step's operators (each times its count): FLOPs and bytes by class."""
    out: dict[str, Array] = {k: 0.0 for k in ("flops", "weight_bytes", "kv_read_bytes", "kv_write_bytes",
                                                 "act_bytes", "comm_bytes")}
    for op in ops:
        for k in out:
            out[k] = out[k] + op.count * getattr(op, k)
    return out
