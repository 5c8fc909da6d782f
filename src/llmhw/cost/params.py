"""Software efficiency parameters (per hardware family) and engine profiles, kept as data.

The roofline separates two things. What the hardware can do beyond its peak numbers (how close
a stream gets to the memory's peak, the matrix tile a GEMV pads to, the kernel launch floor) is
hardware physics with sources, in ``llmhw.hardware.physics``. What a family's software stack
achieves of it (its kernels' share of the stream bandwidth and of the matrix peak, fixed times per
read, kernel and collective) is fitted on published measurements and stored per family in
``calibration.yaml``. A hypothetical chip gets its own physics and its family's software
efficiency. An engine profile describes the serving software on top (``scenario/engines.yaml``,
with the overheads fitted here laid over it).
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
    """What a family's software stack achieves of its hardware (docs/engine.md, section 4)."""

    compute_eff_max: float     # share of the matrix peak a large GEMM's kernels reach
    compute_m_half: float      # GEMM tokens at which a GEMM keeps half of compute_eff_max
    compute_n_half: float      # a GEMM's narrowest weight dimension at which it loses half
    fp8_eff: float             # share of compute_eff_max FP8 GEMMs keep
    fp4_eff: float             # share of compute_eff_max FP4 GEMMs keep
    attention_eff: float       # share of the matrix peak prefill attention reaches
    memory_eff: float          # share of the memory's stream bandwidth the kernels reach
    read_overhead_s: float     # fixed time of one streaming read (ramp-up and tail)
    kernel_overhead_s: float   # time per kernel beyond the hardware launch
    comm_latency_s: float      # software base latency of one collective
    comm_bw_eff: float         # share of link bandwidth a large collective reaches

    def scaled(self, kernel_eff: float) -> FamilyParams:
        return replace(self, compute_eff_max=self.compute_eff_max * kernel_eff,
                       attention_eff=self.attention_eff * kernel_eff,
                       memory_eff=self.memory_eff * kernel_eff)


# What the fit may not leave: physical and software plausibility, with the reason.
BOUNDS: dict[str, tuple[float, float]] = {
    # Tuned large GEMMs reach 40-80% of the matrix peak on GPUs; below 20% is not a GEMM library.
    "compute_eff_max": (0.2, 1.0),
    "compute_m_half": (1.0, 4096.0),
    "compute_n_half": (0.0, 4096.0),
    "fp8_eff": (0.2, 1.0),
    "fp4_eff": (0.2, 1.0),
    "attention_eff": (0.05, 1.0),
    # Weight-streaming GEMV kernels are written to saturate memory: a family's best kernels reach
    # most of what a stream benchmark does. Below 80% of the stream is one engine's software gap,
    # which belongs to that engine's profile (kernel_eff), not to the chip family, and must not
    # travel to a new chip of the family.
    "memory_eff": (0.8, 1.0),
    # A streaming read reaches full bandwidth within about one DRAM latency and a wave tail:
    # 0.3-1 us on GPUs. 3 us bounds it.
    "read_overhead_s": (0.0, 3.0e-6),
    # Software time per kernel beyond the launch: unfused, non-graph-captured kernels cost up to
    # about 10-20 us each.
    "kernel_overhead_s": (0.0, 2.0e-5),
    # The base of one collective call: a graph-launched kernel (2 us, hardware/catalog/families.yaml)
    # plus the cross-GPU handshake of a one-shot custom all-reduce over NVLink (a few us): 4 us is the
    # floor (estimated); NCCL's LL protocol models about 6.6 us and measures 19-23 us in all on
    # 8 x H100. The data alone cannot separate it from the per-read and per-kernel times, so the
    # floor is physics, not fit.
    "comm_latency_s": (4.0e-6, 2.0e-5),
    "comm_bw_eff": (0.05, 1.0),
}


def _read(name: str) -> Any:
    return read_yaml(resources.files("llmhw.cost").joinpath(name))


@cache
def calibration() -> dict[str, Any]:
    return _read("calibration.yaml")


@cache
def profiles() -> dict[str, EngineProfile]:
    """Engine profiles, with the overheads fitted in calibration.yaml over the defaults: the main
    fit's ``engines`` and, for the stacks of chips outside the main collection, ``new_chip_engines``
    (validation/new_chips.py)."""
    fitted = {**(calibration().get("new_chip_engines") or {}), **(calibration().get("engines") or {})}
    return {k: replace(v, **fitted.get(k, {})) for k, v in default_profiles().items()}


def family_key(family: str, compute_unit: str | None) -> str:
    return f"{family}:{compute_unit}" if compute_unit else family


@cache
def family_params(key: str) -> FamilyParams:
    """Parameters of ``family`` or ``family:unit``: the fitted values over the defaults."""
    cal = calibration()
    values = dict(cal["defaults"])
    # The main fit's families, and those fitted on the new chips' rows (validation/new_chips.py).
    fams = {**(cal.get("new_chip_families") or {}), **(cal.get("families") or {})}
    base = key.split(":")[0]
    values.update(fams.get(base, {}))
    if key != base:
        values.update(fams.get(key, {}))
    names = {f.name for f in fields(FamilyParams)}
    return FamilyParams(**{k: float(v) for k, v in values.items() if k in names})


def engine_profile(name: str) -> EngineProfile:
    return profiles()[check_engine(name)]
