"""A memory technology: one stack, package or device, and the physics of reading it."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from llmhw.core.provenance import Provenance, Sourced, is_quantity

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
    max_bytes_in_flight: float | None = Field(
        None, gt=0, description="reads one device can have outstanding (concurrent page reads x page size, or the "
        "prefetch buffer); a tier of k devices has k times this. None: reads are not prefetched")
    device_capacity_bytes: float | None = Field(
        None, gt=0, description="capacity of one device, to count a tier's devices (default: capacity_bytes)")
    year: int | None = None
    note: str = ""

    @model_validator(mode="before")
    @classmethod
    def _one_device_by_default(cls, data: Any) -> Any:
        """A spec that gives bytes in flight without a device size describes one device: a preset.
        A chip's tier built from that preset keeps the preset's device size and overrides only
        capacity, so its device count (capacity / device size) scales the bytes in flight."""
        if not isinstance(data, dict) or data.get("max_bytes_in_flight") is None \
                or data.get("device_capacity_bytes") is not None or data.get("capacity_bytes") is None:
            return data
        out = dict(data)
        cap, note = out["capacity_bytes"], "one device: this spec's capacity"
        if is_quantity(cap):          # still {value, unit, ...}: the base class converts it next
            out["device_capacity_bytes"] = {k: v for k, v in cap.items() if k not in ("low", "high", "note")} \
                | {"status": "derived", "note": note}
            return out
        out["device_capacity_bytes"] = cap
        prov = dict(out.get("provenance") or {})
        if "capacity_bytes" in prov:
            p = prov["capacity_bytes"]
            p = p if isinstance(p, Provenance) else Provenance.model_validate(p)
            prov["device_capacity_bytes"] = p.model_copy(update={"status": "derived", "low": None, "high": None,
                                                                 "note": note})
        out["provenance"] = prov
        return out

    @property
    def label(self) -> str:
        return self.name or self.id

    @property
    def devices(self) -> float:
        """Devices (stacks, packages) this tier amounts to, by capacity."""
        return self.capacity_bytes / self.device_capacity_bytes if self.device_capacity_bytes else 1.0

    @property
    def tier_bytes_in_flight(self) -> float | None:
        """Reads the whole tier can have outstanding: per device x devices (None: not modelled)."""
        return None if self.max_bytes_in_flight is None else self.max_bytes_in_flight * self.devices
