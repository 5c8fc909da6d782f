"""Does a scenario fit in memory? Per chip: weights, KV cache, activations, against capacity.

The most loaded chip decides (with uneven pipeline stages, the heaviest stage). Activations
are the live set of one forward step: the residual stream and its normed copy, plus the wider
of the attention and FFN intermediates, for every token of the step, and FP32 logits for the
requests that sample. A step holds at most ``prefill_chunk_tokens`` prompt tokens (engines
chunk long prompts) and at least one token per request in flight. Framework workspace, CUDA
graphs and allocator slack are covered by ``memory_utilization`` (vLLM's default keeps 10%).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import ceil
from typing import Any

from llmhw.accounting.placement import Placement, auto_placement, explicit_placement
from llmhw.accounting.sharding import kv_heads_per_chip, kv_replication, stage_layers, stage_shares
from llmhw.core.errors import LlmhwError
from llmhw.core.units import bytes_per_element, fmt_bytes
from llmhw.hardware.chip import Chip
from llmhw.hardware.near_memory import usable_capacity
from llmhw.hardware.system import System
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


def step_tokens(s: Scenario, requests: int) -> int:
    """Tokens in the largest step: a prompt chunk, or one token per request in flight."""
    return max(requests, min(s.workload.input_tokens, s.workload.prefill_chunk_tokens))


def activation_bytes(s: Scenario, requests: int) -> float:
    act = activation_elements_per_token(s.model, s.parallelism) * bytes_per_element(s.precision.activations)
    logits = requests * s.model.vocab_size / s.parallelism.tp * LOGIT_BYTES
    return step_tokens(s, requests) * act + logits


@dataclass
class FitResult:
    """Memory of the most loaded chip. All sizes in bytes."""

    scenario: Scenario
    batch: int                      # global requests in flight this result is for
    requests_per_replica: int
    weights_bytes: float
    kv_cache_bytes: float
    activation_bytes: float
    capacity_bytes: float
    usable_bytes: float
    max_batch: int
    stage: int                      # pipeline stage of the most loaded chip
    placement: Placement | None = None
    notes: list[str] = field(default_factory=list)
    advice: list[str] = field(default_factory=list)

    @property
    def total_bytes(self) -> float:
        return self.weights_bytes + self.kv_cache_bytes + self.activation_bytes

    def tier_loads(self) -> list[float]:
        assert self.placement is not None
        return _loads(self.placement, self.weights_bytes, self.kv_cache_bytes, self.activation_bytes)

    @property
    def fits(self) -> bool:
        if self.batch < 1:
            return False
        usable = _tier_usable(self.scenario)
        return all(load <= u for load, u in zip(self.tier_loads(), usable, strict=True))

    @property
    def overflow_bytes(self) -> float:
        usable = _tier_usable(self.scenario)
        return sum(max(0.0, load - u) for load, u in zip(self.tier_loads(), usable, strict=True))

    def tiers(self) -> list[dict[str, Any]]:
        assert self.placement is not None
        usable = _tier_usable(self.scenario)
        return [{"name": t.id, "capacity_bytes": t.capacity_bytes, "usable_bytes": u, "used_bytes": load,
                 "holds": self.placement.holds(i)}
                for i, (t, u, load) in enumerate(zip(self.placement.tiers, usable, self.tier_loads(), strict=True))]

    def to_dict(self) -> dict[str, Any]:
        s = self.scenario
        return {
            "model": s.model.id,
            "hardware": s.system.id,
            "chip": s.chip.id,
            "n_chips": s.n_chips,
            "parallelism": s.parallelism.model_dump(),
            "precision": s.precision.model_dump(),
            "batch": self.batch,
            "requests_per_replica": self.requests_per_replica,
            "peak_context": s.workload.peak_context,
            "weights_bytes": self.weights_bytes,
            "kv_cache_bytes": self.kv_cache_bytes,
            "activation_bytes": self.activation_bytes,
            "total_bytes": self.total_bytes,
            "capacity_bytes": self.capacity_bytes,
            "usable_bytes": self.usable_bytes,
            "memory_utilization": s.memory_utilization,
            "fits": self.fits,
            "overflow_bytes": self.overflow_bytes,
            "max_batch": self.max_batch,
            "stage": self.stage,
            "memory_tiers": self.tiers(),
            "notes": self.notes,
            "advice": self.advice,
        }


def _per_chip(s: Scenario, requests: int) -> tuple[float, float, float, int]:
    """(weights, kv, activations, stage) of the most loaded chip at ``requests`` per replica."""
    shares = stage_shares(s.model, s.parallelism, s.precision.weights, s.precision.embedding_precision,
                          s.precision.kv_cache, s.workload.peak_context)
    act = activation_bytes(s, requests)
    best = max(shares, key=lambda sh: sh.weight_bytes + requests * sh.kv_bytes_per_request)
    return best.weight_bytes, requests * best.kv_bytes_per_request, act, best.stage


def weights_per_chip(s: Scenario) -> float:
    """Weight bytes of the most loaded chip."""
    return _per_chip(s, 1)[0]


def _usable(s: Scenario) -> tuple[float, float]:
    cap = s.chip.memory_capacity_bytes
    return cap, cap * s.memory_utilization


def tier_capacities(chip: Chip) -> list[float]:
    """Bytes each memory tier offers, less what near-memory logic takes from its tier."""
    nm, nm_tier = chip.near_memory, chip.near_memory_tier
    return [usable_capacity(nm, t) if nm is not None and t is nm_tier else t.capacity_bytes for t in chip.memory]


def _tier_usable(s: Scenario) -> list[float]:
    return [c * s.memory_utilization for c in tier_capacities(s.chip)]


def _loads(pl: Placement, w: float, kv: float, act: float) -> list[float]:
    loads = [0.0] * len(pl.tiers)
    loads[pl.where["weights"]] += w
    loads[pl.where["kv_cache"]] += kv
    loads[pl.where["activations"]] += act
    return loads


def placement_for(s: Scenario) -> Placement:
    """The scenario's placement: explicit when it gives one, else automatic for its batch."""
    tiers = s.chip.memory
    explicit = getattr(s, "placement", None)
    if explicit:
        return explicit_placement(tiers, dict(explicit))
    for_max = s.workload.batch == "max"
    r = 1 if for_max else max(1, ceil(int(s.workload.batch) / s.parallelism.dp))
    w, kv, act, _ = _per_chip(s, r)
    return auto_placement(tiers, _tier_usable(s), w, kv, act, for_max_batch=for_max)


def _ok(s: Scenario, pl: Placement, r: int) -> bool:
    w, kv, act, _ = _per_chip(s, r)
    return all(load <= u for load, u in zip(_loads(pl, w, kv, act), _tier_usable(s), strict=True))


def max_requests_per_replica(s: Scenario, pl: Placement | None = None) -> int:
    """Largest number of requests one replica can hold (0 if the weights alone overflow)."""
    pl = pl or placement_for(s)
    if not _ok(s, pl, 1):
        return 0
    lo, hi = 1, 2
    while _ok(s, pl, hi):
        lo, hi = hi, hi * 2
        if hi > 1 << 40:
            return lo
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if _ok(s, pl, mid) else (lo, mid)
    return lo


def fit(s: Scenario) -> FitResult:
    """Memory per chip for the scenario; ``batch: max`` takes the largest batch that fits."""
    dp = s.parallelism.dp
    pl = placement_for(s)
    max_r = max_requests_per_replica(s, pl)
    max_batch = max_r * dp
    if s.workload.batch == "max":
        batch = max_batch
    else:
        batch = int(s.workload.batch)
    r = max(1, ceil(batch / dp)) if batch else 1
    w, kv, act, stage = _per_chip(s, r)
    cap, usable = _usable(s)
    res = FitResult(s, batch, r, w, kv, act, cap, usable, max_batch, stage, pl)
    res.notes = _notes(s)
    if not res.fits:
        res.advice = _advice(s, res)
    return res


def _notes(s: Scenario) -> list[str]:
    m, p = s.model, s.parallelism
    notes = []
    rep = kv_replication(m, p.tp)
    if m.mla is not None and p.tp > 1:
        notes.append(f"MLA's latent KV cache is replicated on all {p.tp} TP ranks (use dp for attention to avoid it)")
    elif rep > 1:
        notes.append(f"{m.n_kv_heads} KV heads < tp={p.tp}: each KV head is replicated on {rep} chips")
    if m.n_layers % p.pp:
        sizes = sorted({len(r) for r in stage_layers(m.n_layers, p.pp)})
        notes.append(f"{m.n_layers} layers over pp={p.pp}: uneven stages of {' and '.join(map(str, sizes))} layers")
    if s.workload.peak_context > m.max_context:
        notes.append(f"peak context {s.workload.peak_context} exceeds the model's max_context {m.max_context}")
    if s.workload.batch != "max" and int(s.workload.batch) % p.dp:
        notes.append(f"batch {s.workload.batch} does not divide over dp={p.dp}; the fullest replica decides")
    return notes


_LOWER = {"fp32": "bf16", "bf16": "fp8", "fp16": "fp8", "fp8": "fp4", "int8": "int4"}


def _advice(s: Scenario, res: FitResult) -> list[str]:
    """The smallest changes that would make the scenario fit."""
    out = [f"overflows by {fmt_bytes(res.overflow_bytes)} per chip "
           f"({res.total_bytes / res.usable_bytes:.2f}x the usable {fmt_bytes(res.usable_bytes)})"]
    if res.max_batch >= 1 and res.batch > res.max_batch:
        out.append(f"smaller batch: batch <= {res.max_batch} fits")
    # Lower precision, one step at a time: KV cache first (cheapest in quality), then weights.
    prec = s.precision
    tried: list[tuple[str, Any]] = []
    if prec.kv_cache in _LOWER and _LOWER[prec.kv_cache] != "fp4":
        tried.append((f"kv_cache {_LOWER[prec.kv_cache]}", {"kv_cache": _LOWER[prec.kv_cache]}))
    w = prec.weights
    while w in _LOWER:
        w = _LOWER[w]
        tried.append((f"weights {w}", {"weights": w}))
        kv = _LOWER.get(prec.kv_cache, prec.kv_cache)
        if kv != "fp4":
            tried.append((f"weights {w} + kv_cache {kv}", {"weights": w, "kv_cache": kv}))
    for label, change in tried:
        alt = s.replace(precision=change)
        if fit_at(alt, res.batch):
            out.append(f"lower precision: {label} fits")
            break
    more = _more_chips(s, res.batch)
    if more:
        out.append(more)
    return out


def fit_at(s: Scenario, batch: int) -> bool:
    return _ok(s, placement_for(s), max(1, ceil(batch / s.parallelism.dp)))


def _more_chips(s: Scenario, batch: int) -> str:
    """Smallest power-of-two multiple of the chips, grown by TP then PP, that fits."""
    p = s.parallelism
    limit = s.hardware.n_chips if isinstance(s.hardware, System) else None
    for k in (2, 4, 8, 16, 32, 64):
        for tp, pp in ((p.tp * k, p.pp), (p.tp, p.pp * k)):
            n = tp * pp * p.dp
            try:
                alt = s.replace(parallelism={"tp": tp, "pp": pp}, n_chips=n) if limit is None or n <= limit \
                    else None
            except LlmhwError:
                continue
            if alt is not None and fit_at(alt, batch):
                return f"more chips: {n} chips (tp={tp}, pp={pp}, dp={p.dp}) fit"
            if alt is None:
                return f"more chips: needs more than the {limit} chips of system '{s.hardware.id}'"
    return ""

