"""A chip: its peak arithmetic per datatype, its memory tiers, its power and price."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from llmhw.core.provenance import Sourced
from llmhw.core.units import check_peak_flops
from llmhw.hardware.interconnect import Interconnect
from llmhw.hardware.memory import MemoryTech
from llmhw.hardware.near_memory import NearMemoryCompute
from llmhw.hardware.stacking import STACK_NOTE, StackedMemory

ComputeUnitName = Literal["cpu", "gpu", "npu", "tensor"]




class ComputeUnit(Sourced):
    """One engine of a heterogeneous SoC (a phone's CPU, GPU or NPU)."""

    peak_flops: dict[str, float] = Field(description="dense FLOP/s (or OP/s for integers) per datatype")
    matrix_tile_tokens: float | None = Field(
        None, ge=1, description="smallest token dimension of one matrix instruction (default: the family's)")
    note: str = ""

    _flops = field_validator("peak_flops")(check_peak_flops)


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
    matrix_tile_tokens: float | None = Field(
        None, ge=1, description="smallest token dimension of one matrix instruction (default: the family's, "
        "hardware/catalog/families.yaml)")
    compute_units: dict[ComputeUnitName, ComputeUnit] = Field(default_factory=dict)
    default_compute_unit: ComputeUnitName | None = None
    sram_bytes: float | None = Field(None, gt=0, description="on-chip SRAM (L2 / CMEM / scratchpad)")
    memory: tuple[MemoryTech, ...] = Field(min_length=1, description="device memory tiers, fastest first")
    near_memory: NearMemoryCompute | None = Field(None, description="compute at one memory tier (PIM / PNM)")
    die_area_m2: float | None = Field(None, gt=0, description="compute die area (all compute dies of the package)")
    stacked: StackedMemory | None = Field(
        None, description="a memory stack on the compute die; its tier is memory[0] (added if missing)")
    tdp_w: float | None = Field(None, gt=0)
    price_usd: float | None = Field(None, gt=0)
    scale_up: Interconnect | None = None
    scale_out: Interconnect | None = None
    note: str = ""

    _flops = field_validator("peak_flops")(check_peak_flops)

    @model_validator(mode="before")
    @classmethod
    def _stack_tier(cls, data: Any) -> Any:
        """A chip with a 3D stack gets the stack's tier first in ``memory`` (replacing the tier of a
        stack it had before), so the stack plugs in like any other memory."""
        if not isinstance(data, dict) or data.get("stacked") is None:
            return data
        st = data["stacked"]
        if isinstance(st, dict):
            try:
                st = StackedMemory.model_validate(st)
            except ValidationError:
                return data                      # the field's own validation names the error
        if not isinstance(st, StackedMemory):
            return data
        mem = data.get("memory")
        tiers = list(mem) if isinstance(mem, list | tuple) else ([] if mem is None else None)
        if tiers is None:
            return data

        def tier_id(t: Any) -> Any:
            return t.id if isinstance(t, MemoryTech) else t.get("id") if isinstance(t, dict) else None

        def from_stack(t: Any) -> bool:
            note = t.note if isinstance(t, MemoryTech) else t.get("note", "") if isinstance(t, dict) else ""
            return isinstance(note, str) and note.startswith(STACK_NOTE)

        if any(tier_id(t) == st.id for t in tiers):
            return {**data, "stacked": st}
        tiers = [t for t in tiers if not from_stack(t)]
        return {**data, "stacked": st, "memory": [st.as_memory_tech(), *tiers]}

    @model_validator(mode="after")
    def _check(self) -> Chip:
        if self.near_memory is not None and self.near_memory.tier is not None:
            ids = [m.id for m in self.memory]
            if self.near_memory.tier not in ids:
                raise ValueError(f"near_memory.tier '{self.near_memory.tier}' is not one of the chip's "
                                 f"memory tiers ({', '.join(ids)})")
        st, area = self.stacked, self.die_area_m2
        if st is not None and area is not None and st.stack_area_m2 > area * (1 + 1e-9):
            raise ValueError(f"stacked.stack_area_m2 ({self.stacked.stack_area_m2:g}) exceeds die_area_m2 "
                             f"({self.die_area_m2:g})")
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
    def near_memory_tier(self) -> MemoryTech | None:
        """The memory tier the near-memory compute sits on (None without near-memory compute):
        the tier named by ``near_memory.tier``, else the first tier that is not a 3D stack on the
        die (compute under a stack is the chip's own), else the first tier."""
        if self.near_memory is None:
            return None
        if self.near_memory.tier is None:
            return next((m for m in self.memory if not m.note.startswith(STACK_NOTE)), self.memory[0])
        return next(m for m in self.memory if m.id == self.near_memory.tier)

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
