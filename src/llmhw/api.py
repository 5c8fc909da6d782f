"""The public API: the one module that joins the stages (scenario -> accounting -> cost ->
serving -> economics) and builds the JSON users and scripts read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from llmhw.accounting.fit import FitResult
from llmhw.accounting.fit import fit as fit_memory
from llmhw.economics.report import economics_json
from llmhw.explore.sweep import as_scenario, sweep, sweep_economics
from llmhw.scenario import Scenario
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
            "max_batch_memory": int(v["max_batch_memory"]),
            "max_batch_engine": int(v["max_batch_engine"]),
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
    if values["max_batch_engine"] < values["max_batch_memory"]:
        notes.append(f"max_batch {values['max_batch']:.0f} is the engine's limit ({s.engine}: "
                     f"{values['max_batch_engine']:.0f} requests at once); memory would hold "
                     f"{values['max_batch_memory']:.0f}")
    if not values["fits"]:
        usable = [u for u in eng.memory.usable]
        n_notes = len(notes)
        for i, t in enumerate(s.chip.memory):
            over = values[f"tier{i}_used_bytes"] - usable[i]
            if over > 0:
                notes.append(f"does not fit: {t.id} holds {values[f'tier{i}_used_bytes'] / 1e9:.2f} GB per chip, "
                             f"{over / 1e9:.2f} GB over its usable {usable[i] / 1e9:.2f} GB; metrics assume it did "
                             f"(see `llmhw fit`)")
        if len(notes) == n_notes and values["batch"] >= 1:
            # The bytes shown are the most loaded stage's; another stage overflows a tier of its own.
            notes.append("does not fit: a pipeline stage other than the most loaded one overflows a memory tier; "
                         "metrics assume it did (see `llmhw fit`)")
    return Prediction(s, values, notes, dict(eng.placement.where))


def fit(scenario: Scenario | dict[str, Any]) -> FitResult:
    """Memory per chip for the scenario; ``batch: max`` takes the largest batch that fits."""
    return fit_memory(as_scenario(scenario))
