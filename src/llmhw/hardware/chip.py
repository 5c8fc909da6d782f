"""A chip: its peak arithmetic per datatype, its memory tiers, its power and price."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from llmhw.hardware.interconnect import Interconnect
from llmhw.hardware.memory import MemoryTech
from llmhw.hardware.provenance import Sourced
from llmhw.units import PRECISIONS

ComputeUnitName = Literal["cpu", "gpu", "npu", "tensor"]


def _check_flops(v: dict[str, float]) -> dict[str, float]:
    for k, x in v.items():
        if k not in PRECISIONS:
            raise ValueError(f"unknown datatype '{k}' in peak_flops (accepted: {', '.join(PRECISIONS)})")
        if x is None or x <= 0:
            raise ValueError(f"peak_flops.{k} must be positive, got {x}")
    return v


class ComputeUnit(Sourced):
    """One engine of a heterogeneous SoC (a phone's CPU, GPU or NPU)."""

    peak_flops: dict[str, float] = Field(description="dense FLOP/s (or OP/s for integers) per datatype")
    note: str = ""

    _flops = field_validator("peak_flops")(_check_flops)


class Chip(Sourced):
    """One accelerator package as software sees it (a GPU, a TPU chip, a phone SoC)."""

    id: str
    name: str = ""
    vendor: str = ""
    kind: Literal["chip"] = "chip"
    family: str = Field(description="hardware family, e.g. nvidia-gpu, amd-gpu, google-tpu, apple-soc, phone-soc")
    year: int | None = None
    peak_flops: dict[str, float] = Field(
        default_factory=dict, description="dense FLOP/s per datatype on the chip's main compute path"
    )
    compute_units: dict[ComputeUnitName, ComputeUnit] = Field(default_factory=dict)
    default_compute_unit: ComputeUnitName | None = None
    sram_bytes: float | None = Field(None, gt=0, description="on-chip SRAM (L2 / CMEM / scratchpad)")
    memory: tuple[MemoryTech, ...] = Field(min_length=1, description="device memory tiers, fastest first")
    tdp_w: float | None = Field(None, gt=0)
    price_usd: float | None = Field(None, gt=0)
    scale_up: Interconnect | None = None
    scale_out: Interconnect | None = None
    note: str = ""

    _flops = field_validator("peak_flops")(_check_flops)

    @model_validator(mode="after")
    def _check(self) -> Chip:
        if not self.peak_flops and not self.compute_units:
            raise ValueError("give peak_flops or compute_units")
        if self.compute_units:
            if self.default_compute_unit is None:
                raise ValueError("a chip with compute_units needs default_compute_unit")
            if self.default_compute_unit not in self.compute_units:
                raise ValueError(
                    f"default_compute_unit '{self.default_compute_unit}' is not one of {sorted(self.compute_units)}"
                )
        return self

    def flops(self, compute_unit: str | None = None) -> dict[str, float]:
        """Peak dense FLOP/s per datatype of ``compute_unit`` (default: the usual LLM path)."""
        unit = compute_unit or self.default_compute_unit
        if unit is None or not self.compute_units:
            return self.peak_flops
        return self.compute_units[unit].peak_flops  # type: ignore[index]

    @property
    def memory_capacity_bytes(self) -> float:
        return sum(m.capacity_bytes for m in self.memory)

    @property
    def memory_bandwidth_bytes_per_s(self) -> float:
        """Peak bandwidth of the fastest tier."""
        return self.memory[0].bandwidth_bytes_per_s

    @property
    def label(self) -> str:
        return self.name or self.id
