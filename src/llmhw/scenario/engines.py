"""Serving-engine profiles: which software serves the scenario (``engines.yaml``).

A profile describes software, not hardware: its scheduler limits (the most requests it runs at
once, the most tokens one iteration takes), its scheduling policy (how the open-loop simulator,
serving/simulate.py, shares iterations between prefills and decodes, admits requests against the
KV cache and makes room when the cache runs out) and its default overheads. This is the one list of
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
    max_num_batched_tokens: int
    queue_factor: float
    dp_admission_wait_steps: float
    schedule: str = "mixed"          # mixed | prefill_first
    admission: str = "current"       # peak | current
    preemption: str = "recompute"    # recompute | swap | none
    pad_heads: bool = False          # pads heads to the tensor-parallel ranks (scenario/padding.py)
    batching: str = "continuous"     # continuous | static | static_sequential (closed_loop.py)

    @property
    def prefill_chunk_tokens(self) -> int:
        """The most prompt tokens one step takes (the per-iteration token budget)."""
        return self.max_num_batched_tokens


SCHEDULES = ("mixed", "prefill_first")
BATCHINGS = ("continuous", "static", "static_sequential")
ADMISSIONS = ("peak", "current")
PREEMPTIONS = ("recompute", "swap", "none")


def check_policy(where: str, schedule: str, admission: str, preemption: str) -> None:
    """The scheduler's three choices are known, and a policy that may outgrow the KV cache
    (``current`` admission) has a way to make room."""
    for field, value, accepted in (("schedule", schedule, SCHEDULES), ("admission", admission, ADMISSIONS),
                                   ("preemption", preemption, PREEMPTIONS)):
        if value not in accepted:
            raise LlmhwError(f"unknown {field} {value!r}", field=f"{where}.{field}", accepted=", ".join(accepted))
    if admission == "current" and preemption == "none":
        raise LlmhwError("admission 'current' lets running requests outgrow the KV cache; it needs a preemption",
                         field=f"{where}.preemption", accepted="recompute, swap (or admission: peak)")


@cache
def default_profiles() -> dict[str, EngineProfile]:
    """Every engine's profile as shipped (before the calibration's fitted overheads)."""
    raw = read_yaml(resources.files("llmhw.scenario").joinpath("engines.yaml"))["profiles"]
    out = {k: EngineProfile(name=k, **v) for k, v in raw.items()}
    for k, p in out.items():
        check_policy(f"engines.{k}", p.schedule, p.admission, p.preemption)
        if p.batching not in BATCHINGS:
            raise LlmhwError(f"unknown batching {p.batching!r}", field=f"engines.{k}.batching",
                             accepted=", ".join(BATCHINGS))
    return out


def engine_names() -> tuple[str, ...]:
    return tuple(default_profiles())


def check_engine(name: object) -> str:
    if not isinstance(name, str) or name not in default_profiles():
        raise LlmhwError(f"unknown engine {name!r}", field="engine", accepted=", ".join(engine_names()))
    return name
