"""The per-chip memory of a scenario: the one model that fit, predict, sweep and the studies read.

A chip holds three classes of tensors (accounting/placement.py puts each on a memory tier):

- weights: its pipeline stage's share of the parameters (accounting/sharding.py);
- KV cache: per request in flight, the stage's layers times the cached tokens (full-attention
  layers hold the whole context, sliding layers at most their window);
- activations: the live set of one forward step: the residual stream and its normed copy plus
  the wider of the attention and FFN intermediates, for every token of the step, and FP32
  logits for the requests that sample. A step holds at most the prompt chunk
  (``Scenario.prefill_chunk_tokens``) and at least one token per request in flight.

Framework workspace, CUDA graphs and allocator slack are covered by ``memory_utilization``
(vLLM's default keeps 10%): a tier's usable bytes are its capacity, less what near-memory logic
takes from it, times ``memory_utilization``.

Everything is a closed form in (r requests per replica, context tokens, prompt tokens) and
broadcasts over numpy arrays, so the serving engine prices millions of points at once. With
pipeline stages the chips differ: the scenario fits only if every stage fits on every tier, the
memory limit is the smallest over the stages, and the bytes reported are those of the stage
holding the most bytes at that point (the first such stage on a tie).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil
from typing import Any

import numpy as np

from llmhw.accounting.placement import Placement, auto_placement, explicit_placement
from llmhw.accounting.sharding import (
    kv_elements_per_token_per_chip,
    kv_heads_per_chip,
    stage_shares,
)
from llmhw.core.units import bytes_per_element
from llmhw.hardware.chip import Chip
from llmhw.hardware.near_memory import usable_capacity
from llmhw.scenario import Parallelism, Scenario
from llmhw.workload.model import ModelSpec

LOGIT_BYTES = 4.0  # logits are computed in FP32 before sampling


def activation_elements_per_token(model: ModelSpec, par: Parallelism) -> float:
    """Elements one token keeps live inside a layer on one chip (see module doc)."""
    tp = par.tp
    attn = (model.q_width / tp + 2 * kv_heads_per_chip(model, tp) * model.head_dim
            + model.attn_out_width / tp)
    if model.mla is not None:
        # Prefill expands the latent into per-head K (nope + rope) and V for the local heads.
        m = model.mla
        heads = model.n_heads / tp
        attn = heads * (2 * (m.qk_nope_head_dim + m.qk_rope_head_dim) + 2 * m.v_head_dim)
    widths = [model.intermediate_size] if model.n_dense_layers else []
    if model.moe is not None:
        widths.append(model.moe.experts_per_token * model.moe.expert_intermediate_size
                      + model.moe.shared_intermediate_size)
    # Gated FFN: gate and up outputs, then their product.
    ffn = max(widths) / tp * (3 if model.gated_ffn else 2)
    return 2 * model.hidden_size + max(attn, ffn)


def tier_capacities(chip: Chip) -> list[float]:
    """Bytes each memory tier offers, less what near-memory logic takes from its tier."""
    nm, nm_tier = chip.near_memory, chip.near_memory_tier
    return [usable_capacity(nm, t) if nm is not None and t is nm_tier else t.capacity_bytes for t in chip.memory]


@dataclass(frozen=True)
class Stage:
    """What one chip of one pipeline stage holds, as closed-form coefficients."""

    index: int
    weights: float           # bytes
    kv_full: float           # bytes per request per context token, over the stage's full layers
    kv_sliding: float        # the same for its sliding layers (capped at the window)


@dataclass(frozen=True)
class MemoryPoint:
    """The memory at some points (arrays broadcast over them): bytes of the most loaded stage,
    and whether every stage fits on every tier."""

    weights: Any
    kv: Any
    act: Any
    loads: list[Any]         # per tier, of the most loaded stage
    fits: Any                # every stage on every tier
    stage: Any               # index of the most loaded stage
    total: Any               # weights + kv + act


@dataclass(frozen=True)
class MemoryModel:
    """Per-chip memory of a scenario on its placement (build with :meth:`of`)."""

    stages: tuple[Stage, ...]    # the stages that can be the most loaded (dominated ones dropped)
    window: float                # sliding window in tokens (0: none)
    act_per_token: float         # activation bytes per token of a step
    logits_per_request: float    # FP32 logit bytes per sampling request
    chunk: float                 # prompt tokens per step at most
    capacity: tuple[float, ...]  # per tier, after near-memory logic
    usable: tuple[float, ...]    # per tier: capacity x memory_utilization
    placement: Placement

    @property
    def where(self) -> dict[str, int]:
        return self.placement.where

    @property
    def weights(self) -> float:
        """Weight bytes of the stage with the most weights (what a prompt chunk re-reads)."""
        return max(st.weights for st in self.stages)

    @classmethod
    def of(cls, s: Scenario) -> MemoryModel:
        """The scenario's memory model on its placement: explicit when the scenario gives one,
        else automatic, sized at the scenario's batch (accounting/placement.py)."""
        m, p = s.run_model, s.parallelism     # heads padded where the engine pads them
        kvt = kv_elements_per_token_per_chip(m, p.tp) * bytes_per_element(s.precision.kv_cache)
        shares = stage_shares(m, p, s.precision.weights, s.precision.embedding_precision, s.precision.kv_cache, 1)
        stages = []
        for sh in shares:
            n_full = sum(1 for i in sh.layers if m.layer_attention[i] == "full")
            stages.append(Stage(sh.stage, sh.weight_bytes, kvt * n_full, kvt * (len(sh.layers) - n_full)))
        caps = tuple(tier_capacities(s.chip))
        tiers = s.chip.memory
        unplaced = cls(
            stages=_undominated(stages), window=float(m.sliding_window or 0),
            act_per_token=activation_elements_per_token(m, p) * bytes_per_element(s.precision.activations),
            logits_per_request=m.vocab_size / p.tp * LOGIT_BYTES, chunk=float(s.prefill_chunk_tokens),
            capacity=caps, usable=tuple(c * s.memory_utilization for c in caps),
            placement=Placement(tiers, {"weights": 0, "kv_cache": 0, "activations": 0}))
        if s.placement:
            pl = explicit_placement(tiers, dict(s.placement))
        else:
            for_max = s.workload.batch == "max"
            r = 1 if for_max else max(1, ceil(int(s.workload.batch) / p.dp))
            pt = unplaced.at(r, s.workload.peak_context, s.workload.input_tokens)
            pl = auto_placement(tiers, list(unplaced.usable), float(pt.weights), float(pt.kv), float(pt.act),
                                for_max_batch=for_max)
        return cls(unplaced.stages, unplaced.window, unplaced.act_per_token, unplaced.logits_per_request,
                   unplaced.chunk, unplaced.capacity, unplaced.usable, pl)

    # -- closed forms -------------------------------------------------------------------------
    # The serving engine evaluates these on blocks of thousands of points, where every new array
    # costs more than the arithmetic on it: each form writes into one array of its own (``out``)
    # in the same order of operations as the formula in its docstring.

    def kv(self, st: Stage, r: Any, ctx: Any) -> Any:
        """KV bytes of ``r`` requests at ``ctx`` tokens on a chip of stage ``st``:
        r x (kv_full x ctx + kv_sliding x min(ctx, window))."""
        out = np.multiply(st.kv_full, ctx, out=np.empty(np.broadcast_shapes(np.shape(r), np.shape(ctx))))
        if st.kv_sliding:
            out += st.kv_sliding * np.minimum(ctx, self.window)
        out *= r
        return out

    def act(self, r: Any, isl: Any) -> Any:
        """Activation bytes of the largest step, a prompt chunk or one token per request:
        max(r, min(isl, chunk)) x act_per_token + r x logits_per_request."""
        out = np.minimum(isl, self.chunk, out=np.empty(np.broadcast_shapes(np.shape(r), np.shape(isl))))
        np.maximum(r, out, out=out)
        out *= self.act_per_token
        out += r * self.logits_per_request
        return out

    def _loads(self, w: float, kv: Any, act: Any) -> list[Any]:
        """Bytes per tier: the classes it holds, added in the order weights, KV, activations."""
        out: list[Any] = [0.0] * len(self.usable)
        where = self.where
        held = [(where["weights"], w), (where["kv_cache"], kv), (where["activations"], act)]
        for i in range(len(out)):
            terms = [b for j, b in held if j == i]
            if not terms:
                continue
            acc = terms[0] + terms[1] if len(terms) > 1 else terms[0]
            if len(terms) > 2:
                acc += terms[2]       # acc is a new array (w + kv): adding in place is safe
            out[i] = acc
        return out

    def at(self, r: Any, ctx: Any, isl: Any) -> MemoryPoint:
        """The memory with ``r`` requests per replica at context ``ctx`` after prompts of ``isl``."""
        act = self.act(r, isl)
        single = self.placement.single
        best: MemoryPoint | None = None
        fits: Any = None
        for st in self.stages:
            kv = self.kv(st, r, ctx)
            loads = self._loads(st.weights, kv, act)
            for load, u in zip(loads, self.usable, strict=True):
                ok = load <= u
                fits = ok if fits is None else fits & ok
            # With one tier its load is the total (the same sum, in the same order).
            total = loads[self.where["weights"]] if single else st.weights + kv + act
            if best is None:
                best = MemoryPoint(st.weights, kv, act, loads, True, st.index, total)
                continue
            # The stage with the most bytes; act is the same on every stage.
            more = total > best.total
            best = MemoryPoint(np.where(more, st.weights, best.weights), np.where(more, kv, best.kv), act,
                               [np.where(more, x, y) for x, y in zip(loads, best.loads, strict=True)],
                               True, np.where(more, st.index, best.stage), np.where(more, total, best.total))
        assert best is not None
        return MemoryPoint(best.weights, best.kv, act, best.loads, fits, best.stage, best.total)

    def overflow(self, r: Any, ctx: Any, isl: Any) -> Any:
        """The most bytes any stage holds beyond its tiers' usable bytes (0 when all fit)."""
        act = self.act(r, isl)
        worst: Any = 0.0
        for st in self.stages:
            loads = self._loads(st.weights, self.kv(st, r, ctx), act)
            over = sum(np.maximum(load - u, 0.0) for load, u in zip(loads, self.usable, strict=True))
            worst = np.maximum(worst, over)
        return worst

    @staticmethod
    def _largest(free: float, per: Any, act_per_token: float, t0: Any) -> Any:
        """Largest r with r x per + max(r, t0) x act_per_token <= free, the better of the two
        regimes of the activation term: r1 = min(floor((free - t0 x act) / per), t0) while the
        prompt chunk sets the step, r2 = floor(free / (per + act)) once r > t0. ``per`` is an
        array of this form's own (it is overwritten)."""
        np.maximum(per, 1e-30, out=per)
        r1 = np.multiply(t0, act_per_token, out=np.empty(np.shape(per)))
        np.subtract(free, r1, out=r1)
        r1 /= per
        np.floor(r1, out=r1)
        np.minimum(r1, t0, out=r1)
        r2 = np.add(per, act_per_token, out=per)
        np.divide(free, r2, out=r2)
        np.floor(r2, out=r2)
        np.copyto(r2, 0.0, where=r2 <= t0)     # r2 only in its own regime
        np.maximum(r1, r2, out=r1)
        np.maximum(r1, 0.0, out=r1)
        return r1

    def kv_bytes_per_token(self) -> float:
        """KV bytes one cached token takes on the chip of the stage holding the most per token
        (full and sliding layers alike: the upper bound, reached below the window)."""
        return max(st.kv_full + st.kv_sliding for st in self.stages)

    def kv_budget_tokens(self, requests: float, step_tokens: float, extra_weights: float = 0.0,
                         extra_per_token: float = 0.0) -> float:
        """Tokens of KV cache a replica holds (a paged engine's block pool): on every stage, the
        KV tier's usable bytes less what else it holds (the stage's weights, ``extra_weights``
        such as a draft model's, the activations of a step of ``step_tokens`` tokens with
        ``requests`` sampling), over the bytes a token takes (the stage's KV per token plus
        ``extra_per_token``); the smallest over the stages. A sliding-window layer is counted at
        every token, so a model with such layers gets a lower bound. ``extra_weights`` sit with
        the weights, so they count here only when weights and KV share a tier."""
        w, k, a = self.where["weights"], self.where["kv_cache"], self.where["activations"]
        act = float(self.act(requests, step_tokens)) if a == k else 0.0
        best = float("inf")
        for st in self.stages:
            free = self.usable[k] - act - ((st.weights + extra_weights) if w == k else 0.0)
            best = min(best, max(free, 0.0) / max(st.kv_full + st.kv_sliding + extra_per_token, 1e-30))
        return float(np.floor(best))

    def max_requests(self, ctx: Any, isl: Any) -> Any:
        """Largest r per replica that fits every stage on every tier (0 when a stage's weights
        alone overflow their tier)."""
        w, k, a = self.where["weights"], self.where["kv_cache"], self.where["activations"]
        shape = np.broadcast_shapes(np.shape(ctx), np.shape(isl))
        t0 = np.minimum(isl, self.chunk, out=np.empty(shape))
        out: Any = None
        for st in self.stages:
            free = [u - (st.weights if i == w else 0.0) for i, u in enumerate(self.usable)]
            if free[w] < 0:
                r = np.zeros(shape)
            elif k == a:
                per = self.kv(st, 1.0, np.broadcast_to(ctx, shape))
                per += self.logits_per_request
                r = self._largest(free[k], per, self.act_per_token, t0)
            else:
                kv1 = self.kv(st, 1.0, np.broadcast_to(ctx, shape))
                r = self._largest(free[a], np.full(shape, self.logits_per_request), self.act_per_token, t0)
                np.maximum(kv1, 1e-30, out=kv1)
                np.divide(free[k], kv1, out=kv1)
                np.floor(kv1, out=kv1)
                np.maximum(kv1, 0.0, out=kv1)
                np.minimum(kv1, r, out=r)
            out = r if out is None else np.minimum(out, r, out=out)
        return out


def _undominated(stages: list[Stage]) -> tuple[Stage, ...]:
    """Drop stages that hold no more of anything than another stage: they are never the most
    loaded and never the first to overflow (keeps the hot path to one or two stages)."""
    def key(st: Stage) -> tuple[float, float, float]:
        return (st.weights, st.kv_full, st.kv_sliding)

    keep = []
    for i, st in enumerate(stages):
        dominated = any(
            all(a >= b for a, b in zip(key(o), key(st), strict=True))
            and (key(o) != key(st) or j < i)
            for j, o in enumerate(stages) if j != i)
        if not dominated:
            keep.append(st)
    return tuple(keep)


def placement_for(s: Scenario) -> Placement:
    """The scenario's placement: explicit when it gives one, else automatic for its batch."""
    return MemoryModel.of(s).placement
