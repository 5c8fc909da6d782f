"""Serving-engine profiles: which software serves the scenario (``engines.yaml``).

A profile describes software, not hardware: its scheduler limits (the most requests it runs at
once, the most prompt tokens one step takes) and its default overheads. This is the one list of
engine names; the overheads fitted on published measurements live with the rest of the
calibration (``cost/calibration.yaml``) and are laid over these defaults by
:func:`llmhw.cost.params.engine_profile`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

from llmhw.core.errors import LlmhwError
from llmhw.core.io import read_yaml


@dataclass(frozen=True)
class EngineProfile:
    name: str
    step_overhead_s: float
    token_overhead_s: float
    request_overhead_s: float
    api_overhead_s: float
    api_queue_s: float
    kernel_eff: float
    native_fp4: bool
    native_fp8: bool
    max_batch: int
    prefill_chunk_tokens: int
    queue_factor: float
    dp_admission_wait_steps: float


@cache
def default_profiles() -> dict[str, EngineProfile]:
    """Every engine's profile as shipped (before the calibration's fitted overheads)."""
    raw = read_yaml(resources.files("llmhw.scenario").joinpath("engines.yaml"))["profiles"]
    return {k: EngineProfile(name=k, **v) for k, v in raw.items()}


def engine_names() -> tuple[str, ...]:
    return tuple(default_profiles())


def check_engine(name: object) -> str:
    if not isinstance(name, str) or name not in default_profiles():
        raise LlmhwError(f"unknown engine {name!r}", field="engine", accepted=", ".join(engine_names()))
    return name
