"""A memory technology: one stack, package or device, and the physics of reading it."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from llmhw.core.provenance import Sourced

MemoryClass = Literal["sram", "dram", "flash"]


class MemoryTech(Sourced):
    """A memory device as attached to a chip (for a chip's tier: that chip's total of it).

    Catalog presets describe one device (an HBM stack, an LPDDR package, an SSD, an HBF
    stack); a chip's tier copies the preset and overrides capacity and bandwidth with the
    chip's totals.
    """

    id: str
    name: str = ""
    kind: Literal["memory"] = "memory"
    memory_class: MemoryClass = "dram"
    capacity_bytes: float = Field(gt=0)
    bandwidth_bytes_per_s: float = Field(gt=0, description="peak read bandwidth")
    stream_efficiency: float | None = Field(
        None, gt=0, le=1, description="fraction of the peak read bandwidth a streaming kernel reaches "
        "(a STREAM-type microbenchmark); None = 1")
    write_bandwidth_bytes_per_s: float | None = Field(None, gt=0, description="peak write bandwidth, if lower than read")
    latency_s: float | None = Field(None, gt=0, description="access latency of a random read")
    access_granularity_bytes: float | None = Field(None, gt=0, description="smallest unit a read costs (a burst, a flash page)")
    energy_j_per_bit: float | None = Field(None, gt=0, description="read energy per bit")
    write_energy_j_per_bit: float | None = Field(None, gt=0, description="write energy per bit, if not the read energy")
    cost_usd_per_byte: float | None = Field(None, gt=0)
    write_endurance_cycles: float | None = Field(None, gt=0, description="program/erase cycles per cell; None = unlimited")
    year: int | None = None
    note: str = ""

    @property
    def label(self) -> str:
        return self.name or self.id
