"""A memory technology: one stack, package or device, and the physics of reading it.

Energy has one definition for every tier (docs/economics.md):

    E = 8 x (bytes read x energy_j_per_bit + bytes written x write_energy_j_per_bit)   access (dynamic)
      + static_power_w x devices x seconds                                              background, refresh

``energy_j_per_bit`` is the *access* energy of a bit (activation, data movement, I/O), not a
whole-device power over its bandwidth; ``static_power_w`` is what one device draws while powered
whatever the traffic (refresh, standby of banks, PHYs and controllers). A device streaming at its
full read bandwidth draws ``static_power_w + energy_j_per_bit x 8 x bandwidth``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from llmhw.core.provenance import Sourced

MemoryClass = Literal["sram", "dram", "flash"]

BITS_PER_BYTE = 8.0


class MemoryTech(Sourced):
    """A memory device as attached to a chip (for a chip's tier: that chip's total of it).

    Catalog presets describe one device (an HBM stack, an LPDDR package, an SSD, an HBF
    stack); a chip's tier copies the preset and overrides capacity and bandwidth with the
    chip's totals. The preset's capacity stays as ``device_capacity_bytes``, so a tier knows how
    many devices it holds (capacity / device capacity) and so its static power.
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
    energy_j_per_bit: float | None = Field(None, gt=0, description="access (dynamic) energy per bit read")
    write_energy_j_per_bit: float | None = Field(None, gt=0, description="access energy per bit written, if not the read energy")
    static_power_w: float | None = Field(
        None, ge=0, description="background, refresh and standby power of ONE device while powered, whatever the traffic")
    device_capacity_bytes: float | None = Field(
        None, gt=0, description="capacity of one device (the preset's); a tier holds capacity / this many devices. "
        "Defaults to capacity_bytes (one device)")
    cost_usd_per_byte: float | None = Field(None, gt=0)
    write_endurance_cycles: float | None = Field(None, gt=0, description="program/erase cycles per cell; None = unlimited")
    max_bytes_in_flight: float | None = Field(
        None, gt=0, description="reads one device can have outstanding (concurrent page reads x page size, or the "
        "prefetch buffer); a tier of k devices has k times this. None: reads are not prefetched")
    year: int | None = None
    note: str = ""

    @model_validator(mode="after")
    def _one_device_by_default(self) -> MemoryTech:
        # A spec given from scratch is one device; a tier built from a preset carries the
        # preset's device capacity (catalog and what-if copies keep every field).
        if self.device_capacity_bytes is None:
            object.__setattr__(self, "device_capacity_bytes", self.capacity_bytes)
        return self

    @property
    def label(self) -> str:
        return self.name or self.id

    @property
    def devices(self) -> float:
        """Devices in this tier: capacity / one device's capacity (refresh and standby scale with
        the bits held; 141 GB of 24 GB HBM3E stacks is 5.9 devices)."""
        return self.capacity_bytes / (self.device_capacity_bytes or self.capacity_bytes)

    @property
    def tier_static_power_w(self) -> float | None:
        """Static power of the whole tier: static_power_w x devices (None when not known)."""
        return None if self.static_power_w is None else self.static_power_w * self.devices

    @property
    def access_power_w(self) -> float | None:
        """Access power when the tier reads at its full bandwidth: energy_j_per_bit x 8 x bandwidth."""
        if self.energy_j_per_bit is None:
            return None
        return self.energy_j_per_bit * BITS_PER_BYTE * self.bandwidth_bytes_per_s

    @property
    def full_power_w(self) -> float | None:
        """The tier streaming reads at its full bandwidth: static + access power (None when either
        is unknown)."""
        s, a = self.tier_static_power_w, self.access_power_w
        return None if s is None or a is None else s + a

    @property
    def tier_bytes_in_flight(self) -> float | None:
        """Reads the whole tier can have outstanding: per device x devices (None: not modelled)."""
        return None if self.max_bytes_in_flight is None else self.max_bytes_in_flight * self.devices
