"""Does a scenario fit in memory? Per chip: weights, KV cache, activations, against capacity.

The bytes come from the one memory model (accounting/memory.py), the same closed forms the
serving engine evaluates: every pipeline stage must fit on every tier, the memory limit is the
smallest over the stages, and the bytes reported are those of the most loaded stage. This
module adds the verdict's report: notes on the mapping and advice when it does not fit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import ceil
from typing import Any

from llmhw.accounting.memory import MemoryModel, placement_for
from llmhw.accounting.placement import Placement
from llmhw.accounting.sharding import kv_replication, stage_layers
from llmhw.core.errors import LlmhwError
from llmhw.core.units import fmt_bytes
from llmhw.hardware.system import System
from llmhw.scenario import Scenario

__all__ = ["FitResult", "context_notes", "fit", "fit_at", "max_requests_per_replica", "placement_for"]


@dataclass
class FitResult:
    """Memory of the most loaded chip. All sizes in bytes."""

    scenario: Scenario
    batch: int                      # global requests in flight this result is for
    requests_per_replica: int
    weights_bytes: float
    kv_cache_bytes: float
    activation_bytes: float
    capacity_bytes: float           # summed over the tiers, after near-memory logic
    usable_bytes: float             # capacity_bytes x memory_utilization
    max_batch: int                  # the memory limit (the engine's own cap is predict's concern)
    stage: int                      # pipeline stage of the most loaded chip
    placement: Placement | None = None
    notes: list[str] = field(default_factory=list)
    advice: list[str] = field(default_factory=list)
    all_stages_fit: bool = True     # every stage on every tier, at requests_per_replica
    overflow_bytes: float = 0.0     # the most bytes any stage holds beyond its usable tiers
    tier_usable: tuple[float, ...] = ()

    @property
    def total_bytes(self) -> float:
        return self.weights_bytes + self.kv_cache_bytes + self.activation_bytes

    def tier_loads(self) -> list[float]:
        assert self.placement is not None
        loads = [0.0] * len(self.placement.tiers)
        for cls, b in (("weights", self.weights_bytes), ("kv_cache", self.kv_cache_bytes),
                       ("activations", self.activation_bytes)):
            loads[self.placement.where[cls]] += b
        return loads

    @property
    def fits(self) -> bool:
        return self.batch >= 1 and self.all_stages_fit

    def tiers(self) -> list[dict[str, Any]]:
        assert self.placement is not None
        return [{"name": t.id, "capacity_bytes": t.capacity_bytes, "usable_bytes": u, "used_bytes": load,
                 "holds": self.placement.holds(i)}
                for i, (t, u, load) in enumerate(zip(self.placement.tiers, self.tier_usable, self.tier_loads(),
                                                     strict=True))]

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
            "max_batch_memory": self.max_batch,
            "stage": self.stage,
            "memory_tiers": self.tiers(),
            "notes": self.notes,
            "advice": self.advice,
        }


def _replica_requests(s: Scenario, batch: int) -> int:
    return max(1, ceil(batch / s.parallelism.dp))


def max_requests_per_replica(s: Scenario, mem: MemoryModel | None = None) -> int:
    """Largest number of requests one replica can hold (0 if the weights alone overflow)."""
    mem = mem or MemoryModel.of(s)
    return int(mem.max_requests(float(s.workload.peak_context), float(s.workload.input_tokens)))


def fit_at(s: Scenario, batch: int, mem: MemoryModel | None = None) -> bool:
    """Whether ``batch`` requests (global) fit, every stage on every tier."""
    mem = mem or MemoryModel.of(s)
    w = s.workload
    return bool(mem.at(_replica_requests(s, batch), w.peak_context, w.input_tokens).fits)


def fit(s: Scenario) -> FitResult:
    """Memory per chip for the scenario; ``batch: max`` takes the largest batch that fits."""
    dp = s.parallelism.dp
    mem = MemoryModel.of(s)
    max_batch = max_requests_per_replica(s, mem) * dp
    # 'max' when not one request fits: the verdict for one request, as predict prices it.
    batch = max(max_batch, 1) if s.workload.batch == "max" else int(s.workload.batch)
    r = _replica_requests(s, batch)
    ctx, isl = s.workload.peak_context, s.workload.input_tokens
    pt = mem.at(r, ctx, isl)
    res = FitResult(s, batch, r, float(pt.weights), float(pt.kv), float(pt.act), sum(mem.capacity),
                    sum(mem.usable), max_batch, int(pt.stage), mem.placement,
                    all_stages_fit=bool(pt.fits), overflow_bytes=float(mem.overflow(r, ctx, isl)),
                    tier_usable=mem.usable)
    res.notes = _notes(s)
    if not res.fits:
        res.advice = _advice(s, res)
    return res


def context_notes(s: Scenario) -> list[str]:
    """A request longer than the model's context: priced (studies ask what longer contexts would
    cost), but said, by fit and predict alike."""
    w, m = s.workload, s.model
    if w.peak_context <= m.max_context:
        return []
    return [f"{w.input_tokens:,} input + {w.output_tokens:,} output tokens exceed {m.id}'s context of "
            f"{m.max_context:,} tokens (max_context); the figures extrapolate to a context it was not built for"]


def _notes(s: Scenario) -> list[str]:
    m, p = s.model, s.parallelism
    notes = []
    run = s.run_model
    if run is not m:
        notes.append(_padding_note(m, run, p.tp * p.ranks_per_chip, s.engine))
    rep = kv_replication(m, p.tp)
    if m.mla is not None and p.tp > 1:
        notes.append(f"MLA's latent KV cache is replicated on all {p.tp} TP ranks (use dp for attention to avoid it)")
    elif rep > 1 and run is m:
        notes.append(f"{m.n_kv_heads} KV heads < tp={p.tp}: each KV head is replicated on {rep} chips")
    if m.n_layers % p.pp:
        sizes = sorted({len(r) for r in stage_layers(m.n_layers, p.pp)})
        notes.append(f"{m.n_layers} layers over pp={p.pp}: uneven stages of {' and '.join(map(str, sizes))} layers")
    notes += context_notes(s)
    if s.workload.batch != "max" and int(s.workload.batch) % p.dp:
        notes.append(f"batch {s.workload.batch} does not divide over dp={p.dp}; the fullest replica decides")
    return notes


def _padding_note(m: Any, run: Any, ranks: int, engine: str) -> str:
    """What the engine's head padding costs: the heads, K/V heads and FFN width it computes."""
    parts = []
    if run.n_heads != m.n_heads:
        parts.append(f"{m.n_heads} -> {run.n_heads} query heads ({run.n_heads // ranks} per rank, "
                     f"+{run.n_heads / m.n_heads - 1:.1%} attention FLOPs)")
    if run.n_kv_heads != m.n_kv_heads:
        parts.append(f"{m.n_kv_heads} -> {run.n_kv_heads} K/V heads (replicated or padded: "
                     f"{max(1, run.n_kv_heads // ranks)} per rank)")
    if run.intermediate_size != m.intermediate_size:
        parts.append(f"FFN width {m.intermediate_size} -> {run.intermediate_size}")
    return f"engine '{engine}' pads for {ranks} tensor-parallel ranks: " + "; ".join(parts or ["nothing padded"])


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

