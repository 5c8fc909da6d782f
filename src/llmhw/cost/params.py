"""Efficiency parameters (per hardware family) and engine profiles, kept as data.

A hardware family's parameters describe physics the datasheet leaves out (how close GEMMs and
streaming reads get to peak, launch and collective latencies); they are fitted on published
measurements and stored in ``calibration.yaml``. An engine profile describes the serving
software on top (``scenario/engines.yaml``, with the overheads fitted here laid over it).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from functools import cache
from importlib import resources
from typing import Any

from llmhw.core.io import read_yaml
from llmhw.scenario.engines import EngineProfile, check_engine, default_profiles


@dataclass(frozen=True)
class FamilyParams:
    compute_eff_max: float
    compute_m_half: float
    compute_eff_floor: float
    compute_n_half: float
    fp8_eff: float
    fp4_eff: float
    attention_eff: float
    memory_eff_max: float
    memory_bytes_half: float
    kernel_overhead_s: float
    comm_latency_s: float
    comm_bw_eff: float

    def scaled(self, kernel_eff: float) -> FamilyParams:
        return replace(self, compute_eff_max=self.compute_eff_max * kernel_eff,
                       attention_eff=self.attention_eff * kernel_eff,
                       memory_eff_max=self.memory_eff_max * kernel_eff)


# Physical bounds the fit may not leave: an efficiency is a fraction of peak.
BOUNDS: dict[str, tuple[float, float]] = {
    "compute_eff_max": (0.05, 1.0),
    "compute_m_half": (1.0, 4096.0),
    "compute_eff_floor": (0.01, 1.0),
    "compute_n_half": (0.0, 4096.0),
    "fp8_eff": (0.2, 1.0),
    "fp4_eff": (0.2, 1.0),
    "attention_eff": (0.05, 1.0),
    "memory_eff_max": (0.05, 1.0),
    # A read reaches half its peak bandwidth by a few MB on every memory we know; 32 MB is far past it.
    "memory_bytes_half": (0.0, 3.2e7),
    "kernel_overhead_s": (0.0, 1.0e-3),
    # Measured small-message collectives take 5-50 us (custom all-reduce to NCCL); 2 us is a floor.
    "comm_latency_s": (2.0e-6, 1.0e-3),
    "comm_bw_eff": (0.05, 1.0),
}


def _read(name: str) -> Any:
    return read_yaml(resources.files("llmhw.cost").joinpath(name))


@cache
def calibration() -> dict[str, Any]:
    return _read("calibration.yaml")


@cache
def profiles() -> dict[str, EngineProfile]:
    """Engine profiles, with the overheads fitted in calibration.yaml over the defaults."""
    fitted = calibration().get("engines") or {}
    return {k: replace(v, **fitted.get(k, {})) for k, v in default_profiles().items()}


def family_key(family: str, compute_unit: str | None) -> str:
    return f"{family}:{compute_unit}" if compute_unit else family


@cache
def family_params(key: str) -> FamilyParams:
    """Parameters of ``family`` or ``family:unit``: the fitted values over the defaults."""
    cal = calibration()
    values = dict(cal["defaults"])
    fams = cal.get("families") or {}
    base = key.split(":")[0]
    values.update(fams.get(base, {}))
    if key != base:
        values.update(fams.get(key, {}))
    names = {f.name for f in fields(FamilyParams)}
    return FamilyParams(**{k: float(v) for k, v in values.items() if k in names})


def engine_profile(name: str) -> EngineProfile:
    return profiles()[check_engine(name)]
