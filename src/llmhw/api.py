"""The public API: the one module that joins the stages (scenario -> accounting -> cost ->
serving -> economics) and builds the JSON users and scripts read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from llmhw.accounting.fit import FitResult
from llmhw.accounting.fit import fit as fit_memory
from llmhw.accounting.operators import OperatorModel, Step, decode_step, prefill_step
from llmhw.accounting.operators import totals as operator_sums
from llmhw.core.errors import LlmhwError
from llmhw.cost.comm import CollectiveCost
from llmhw.cost.comm import collective_cost as _collective_cost
from llmhw.cost.params import FamilyParams
from llmhw.cost.params import family_params as _family_params
from llmhw.cost.roofline import StepCost
from llmhw.economics.report import Constants, constants_for, economics_json
from llmhw.explore.sweep import as_scenario, sweep, sweep_economics
from llmhw.hardware.interconnect import Interconnect
from llmhw.scenario import Scenario
from llmhw.scenario.economics import EconomicsParams
from llmhw.serving.closed_loop import METRICS, SERVICE_LIFE_DAYS, Engine

__all__ = ["Prediction", "fit", "predict", "sweep", "sweep_economics"]


def _bound(parts: dict[str, float]) -> str:
    names = {"compute_s": "compute", "memory_s": "memory", "comm_s": "communication", "overhead_s": "overhead",
             "near_memory_s": "near-memory compute"}
    return names[max(parts, key=lambda k: parts[k])]


@dataclass
class Prediction:
    """One scenario's metrics (SI units). ``to_dict`` is the JSON contract of ``llmhw predict``."""

    scenario: Scenario
    values: dict[str, float]
    notes: list[str] = field(default_factory=list)
    placement_where: dict[str, int] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        values = self.__dict__.get("values", {})
        if name in values:
            return values[name]
        raise AttributeError(name)

    def to_dict(self) -> dict[str, Any]:
        v, s = self.values, self.scenario
        tiers = s.chip.memory
        phases = {}
        for ph in ("prefill", "decode"):
            parts = {k: v[f"{ph}_{k}"] for k in ("compute_s", "memory_s", "comm_s", "overhead_s", "near_memory_s")}
            phases[ph] = {**parts, "total_s": v["prefill_s" if ph == "prefill" else "decode_step_s"],
                          "bound": _bound(parts),
                          "comm_latency_s": v[f"{ph}_comm_latency_s"], "comm_bandwidth_s": v[f"{ph}_comm_bandwidth_s"],
                          "memory_tiers_s": {t.id: v[f"tier{i}_{ph}_s"] for i, t in enumerate(tiers)}}
        where = self.__dict__.get("placement_where", {})
        memory_tiers = []
        for i, t in enumerate(tiers):
            life = v[f"tier{i}_lifetime_days"]
            memory_tiers.append({
                "name": t.id, "capacity_bytes": t.capacity_bytes, "used_bytes": v[f"tier{i}_used_bytes"],
                "holds": [c for c, k in where.items() if k == i],
                "read_bytes_per_s": v[f"tier{i}_read_bytes_per_s"], "write_bytes_per_s": v[f"tier{i}_write_bytes_per_s"],
                "time_s": v[f"tier{i}_decode_s"],
                "lifetime_days": None if life == float("inf") else life,
            })
        # economics (llmhw.economics): energy, power, cost and carbon per token; None + a note when a
        # constant or value is missing
        econ, econ_notes = economics_json(v, s)
        return {
            "model": s.model.id, "hardware": s.system.id, "chip": s.chip.id, "n_chips": s.n_chips,
            "engine": s.engine, "parallelism": s.parallelism.model_dump(),
            "precision": s.precision.model_dump(),
            "overrides": dict(getattr(s, "overrides", None) or {}),
            "placement": {c: tiers[i].id for c, i in where.items()},
            "input_tokens": s.workload.input_tokens, "output_tokens": s.workload.output_tokens,
            "batch": int(v["batch"]),
            **{k: v[k] for k in METRICS},
            "prefill_tok_s": v["prefill_tok_s"],
            "fits": bool(v["fits"]),
            "max_batch": int(v["max_batch"]),
            "memory": {k: v[k] for k in ("weights_bytes", "kv_cache_bytes", "activation_bytes", "total_bytes",
                                          "capacity_bytes", "usable_bytes")},
            "memory_tiers": memory_tiers,
            "breakdown": phases,
            **econ,
            "notes": [*self.notes, *econ_notes],
        }


def predict(scenario: Scenario | dict[str, Any]) -> Prediction:
    """Metrics of one scenario (a Scenario, or the same mapping as the YAML file)."""
    s = as_scenario(scenario)
    w = s.workload
    batch = -1 if w.batch == "max" else int(w.batch)
    eng = Engine(s)
    arr = eng.evaluate(batch, w.input_tokens, w.output_tokens)
    values = {k: (bool(v) if np.asarray(v).dtype == bool else float(v)) for k, v in arr.items()}
    notes = list(eng.notes)
    for i, t in enumerate(s.chip.memory):
        life = values[f"tier{i}_lifetime_days"]
        if life < SERVICE_LIFE_DAYS:
            notes.append(f"{t.id} wears out in {life:,.0f} days at this write rate "
                         f"({values[f'tier{i}_write_bytes_per_s'] / 1e9:.2f} GB/s; {t.write_endurance_cycles:,.0f} "
                         f"program/erase cycles), under a {SERVICE_LIFE_DAYS / 365:.0f}-year service life")
    if not values["fits"]:
        usable = [u for u in eng.memory.usable]
        for i, t in enumerate(s.chip.memory):
            over = values[f"tier{i}_used_bytes"] - usable[i]
            if over > 0:
                notes.append(f"does not fit: {t.id} holds {values[f'tier{i}_used_bytes'] / 1e9:.2f} GB per chip, "
                             f"{over / 1e9:.2f} GB over its usable {usable[i] / 1e9:.2f} GB; metrics assume it did "
                             f"(see `llmhw fit`)")
    return Prediction(s, values, notes, dict(eng.placement.where))


def fit(scenario: Scenario | dict[str, Any]) -> FitResult:
    """Memory per chip for the scenario; ``batch: max`` takes the largest batch that fits."""
    return fit_memory(as_scenario(scenario))


# -- for studies and notebooks: the engine's per-step cost and operator totals, collective costs,
# fitted family parameters and economics constants, so that scripts need not reach into the stages.

def _step(s: Scenario, phase: str, requests: Any, length: Any, positions: int) -> Step:
    """The step the engine prices on one pipeline stage: ``requests`` decode requests (split into
    pp micro-batches, at least one each) at ``length`` tokens of context, or ``requests`` prompts
    of ``length`` tokens. ``positions`` > 1: parallel (diffusion-style) decoding, where each
    request runs ``positions`` new positions that share one read of the weights and of its cached
    context, and each attends to the context and the block."""
    if phase == "prefill":
        return prefill_step(s.model, length, requests)
    if phase != "decode":
        raise LlmhwError(f"unknown phase '{phase}'", field="phase", accepted="prefill, decode")
    if positions < 1:
        raise LlmhwError(f"positions must be at least 1, got {positions}", field="positions")
    r = np.maximum(np.asarray(requests, dtype=float) / s.parallelism.pp, 1.0)
    if positions == 1:
        return decode_step(s.model, r, length)
    c, p = np.asarray(length, dtype=float), float(positions)
    win = s.model.sliding_window
    cs = np.minimum(c, win) if win else c
    return Step(tokens=r * p, logits=r * p, attended_full=r * p * (c + p), attended_sliding=r * p * (cs + p),
                kv_read_full=r * c, kv_read_sliding=r * cs, phase="decode")


def step_cost(scenario: Scenario | dict[str, Any], phase: str, requests: Any, length: Any,
              positions: int = 1) -> StepCost:
    """The engine's cost of one step, per chip: a decode step of ``requests`` requests at
    ``length`` tokens of context (``positions`` new positions per request, see :func:`_step`), or
    the prefill of ``requests`` prompts of ``length`` tokens (chunked as the engine chunks)."""
    s = as_scenario(scenario)
    eng = Engine(s)
    if phase == "prefill":
        return eng.prefill_cost(length, requests)
    if positions == 1:
        return eng.decode_cost(requests, length)
    return eng._price(_step(s, phase, requests, length, positions)).scaled(s.parallelism.pp)


def operator_totals(scenario: Scenario | dict[str, Any], phase: str, requests: Any, length: Any,
                    positions: int = 1) -> dict[str, Any]:
    """FLOPs and bytes by class (weights, KV reads and writes, activations, messages) of the
    operators of the step :func:`step_cost` prices, per chip, for one pipeline stage's share."""
    s = as_scenario(scenario)
    return operator_sums(OperatorModel(s).ops(_step(s, phase, requests, length, positions)))


def near_memory_ops(scenario: Scenario | dict[str, Any]) -> frozenset[str]:
    """The engine operators the chip's near-memory compute runs (after the shard check); empty
    when the chip has none."""
    near = Engine(as_scenario(scenario)).near
    return frozenset() if near is None else near.ops


def family_params(key: str) -> FamilyParams:
    """The fitted cost parameters of a hardware family (``nvidia-gpu``, or ``family:unit``)."""
    return _family_params(key)


def collective_cost(kind: str, size: Any, group: int, scale_up: Interconnect | None,
                    scale_out: Interconnect | None, params: FamilyParams,
                    algorithms: Sequence[str] | None = None) -> CollectiveCost:
    """One collective of ``kind`` with ``size`` bytes per chip over ``group`` chips, as the engine
    prices it: the fastest algorithm per size, its latency and bandwidth seconds and its name."""
    return _collective_cost(kind, size, group, scale_up, scale_out, params, algorithms)


def economics_constants(scenario: Scenario | dict[str, Any], params: EconomicsParams | None = None) -> Constants:
    """Every economics constant the scenario resolves to (power, J per bit and FLOP, prices)."""
    return constants_for(as_scenario(scenario), params)
