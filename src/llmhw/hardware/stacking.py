"""3D memory-logic stacking: memory dies bonded on top of the compute die.

Instead of the 2D "shoreline" I/O of HBM on an interposer, a stack on the compute die connects
through its whole footprint (hybrid bonds or micro-bumps, then TSVs through the memory dies).
Ma & Patterson (2026, section 4.5) list two versions: compute on the HBM base die (HBM bandwidth,
2-3x less power) and custom 3D (wider, denser interfaces: more bandwidth and bandwidth per watt),
and the main challenge: heat, which they would meet by running the logic at a lower clock and
voltage (acceptable because decode has low arithmetic intensity).

A :class:`StackedMemory` is one stack on the compute die:

- bandwidth = connections x data fraction x bandwidth per connection, with connections =
  stack area / pitch^2 (a square grid of bond pads); the data fraction is the share of pads
  that carry data (the rest carry power, ground, clocks, commands or are dummies for bonding);
- capacity = layers x capacity per layer; static (refresh, standby) power per device, a device
  being the preset's stack (``device_capacity_bytes``), so a wider or taller stack holds more;
- a thermal limit: the power density (W/m^2) the die under the memory may dissipate.

Power envelope (``llmhw.hardware.package.package_power``): the logic and the stack on top of it
shed their heat through the same footprint, so the thermal cap covers both, and the package's TDP
covers the logic and every memory tier it carries; the logic's clock and the stack's data rate
are throttled together to fit (docs/stacking.md). Dynamic power is C V^2 f: at a fixed voltage the
logic's power goes as f (``clock_power_exponent`` 1, the default and conservative bound: imec's 3D
HBM-on-GPU study needed the GPU clock halved to approach 2.5D temperatures); with voltage scaled
along (DVFS above threshold) as f^3 (3, the optimistic bound).
:meth:`StackedMemory.thermal_clock_fraction` is the one-constraint form for a logic power and a
memory power given by hand.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import Field, model_validator

from llmhw.core.errors import LlmhwError, shown
from llmhw.core.provenance import Provenance, Sourced, build
from llmhw.core.units import RANGES, range_problem
from llmhw.hardware.memory import MemoryTech

STACK_NOTE = "3D stack on the compute die"   # as_memory_tech() tiers start their note with this


class StackedMemory(Sourced):
    """One memory stack bonded on the compute die."""

    id: str
    name: str = ""
    kind: Literal["stacking"] = "stacking"
    memory_class: Literal["sram", "dram"] = "dram"
    connection_pitch_m: float = Field(gt=0, description="hybrid-bond / micro-bump pitch")
    stack_area_m2: float = Field(gt=0, description="footprint of the stack on the logic die")
    bandwidth_per_connection_bytes_per_s: float = Field(
        gt=0, description="signal rate of one data connection, in bytes/s (a '2 Gb/s' pin is 0.25e9)")
    data_fraction: float = Field(gt=0, le=1, description="share of the connections that carry data")
    layers: int = Field(gt=0, description="memory dies in the stack")
    capacity_per_layer_bytes: float = Field(gt=0)
    energy_j_per_bit: float | None = Field(None, gt=0, description="access energy per bit read across the stack")
    static_power_w: float | None = Field(
        None, ge=0, description="refresh and standby power of one device (the preset's stack) while powered")
    device_capacity_bytes: float | None = Field(
        None, gt=0, description="capacity of one device (the preset's stack); defaults to this stack's capacity")
    latency_s: float | None = Field(None, gt=0)
    max_logic_power_density_w_per_m2: float | None = Field(
        None, gt=0, description="power density the die under the memory may dissipate, logic and stack together; "
        "None = no thermal cap (the package's TDP still covers both)")
    clock_power_exponent: float = Field(
        1.0, ge=1.0, le=3.0, description="how the logic's power falls with its clock under the cap: 1 = clock cut "
        "at a fixed voltage (P ~ f), 3 = voltage scaled with it (P ~ f^3)")
    year: int | None = None
    note: str = ""

    @model_validator(mode="after")
    def _check(self) -> StackedMemory:
        if self.connection_pitch_m ** 2 > self.stack_area_m2:
            raise ValueError("connection_pitch_m is larger than the stack: fewer than one connection")
        for name, unit, how in (("bandwidth_bytes_per_s", "B/s", "stack_area / pitch^2 x data_fraction x "
                                 "bandwidth_per_connection"), ("capacity_bytes", "B", "layers x capacity_per_layer")):
            problem = range_problem(getattr(self, name), unit)
            if problem:      # the tier the stack becomes must itself be a valid memory
                raise ValueError(f"the stack's {name} ({how}) {problem} (accepted: {RANGES[unit].text(unit)})")
        if self.device_capacity_bytes is None:     # a stack from scratch is one device
            object.__setattr__(self, "device_capacity_bytes", self.capacity_bytes)
        return self

    @classmethod
    def from_dict(cls, d: Any, where: str = "stacked") -> StackedMemory:
        """Validate a mapping (plain SI numbers or quantities); errors name the field."""
        return build(cls, d, where=where)

    @property
    def label(self) -> str:
        return self.name or self.id

    # -- derived --------------------------------------------------------------------------------

    @property
    def connections(self) -> float:
        """Bond pads under the stack: area / pitch^2."""
        return self.stack_area_m2 / self.connection_pitch_m ** 2

    @property
    def data_connections(self) -> float:
        return self.connections * self.data_fraction

    @property
    def gbps_per_connection(self) -> float:
        """Signal rate per data connection in Gb/s (bits), for display."""
        return self.bandwidth_per_connection_bytes_per_s * 8 / 1e9

    @property
    def bandwidth_bytes_per_s(self) -> float:
        """(area / pitch^2) x data fraction x per-connection bandwidth."""
        return self.data_connections * self.bandwidth_per_connection_bytes_per_s

    @property
    def capacity_bytes(self) -> float:
        return self.layers * self.capacity_per_layer_bytes

    def as_memory_tech(self) -> MemoryTech:
        """The stack as a chip memory tier (fastest first in a chip's ``memory``)."""
        prov: dict[str, Provenance] = {
            "capacity_bytes": Provenance(status="derived", sources=self._sources("layers", "capacity_per_layer_bytes"),
                                         note=f"{self.layers} layers x capacity_per_layer_bytes"),
            "bandwidth_bytes_per_s": Provenance(
                status="derived",
                sources=self._sources("stack_area_m2", "connection_pitch_m", "data_fraction",
                                      "bandwidth_per_connection_bytes_per_s"),
                note="stack_area / pitch^2 x data_fraction x bandwidth_per_connection"),
        }
        for k in ("energy_j_per_bit", "static_power_w", "latency_s"):
            if k in self.provenance:
                prov[k] = self.provenance[k]
        return MemoryTech(
            id=self.id, name=self.name, memory_class=self.memory_class,
            capacity_bytes=self.capacity_bytes, bandwidth_bytes_per_s=self.bandwidth_bytes_per_s,
            energy_j_per_bit=self.energy_j_per_bit, static_power_w=self.static_power_w,
            device_capacity_bytes=self.device_capacity_bytes, latency_s=self.latency_s, year=self.year,
            note=f"{STACK_NOTE} (stacking preset {self.id})", provenance=prov)

    def _sources(self, *fields: str) -> tuple[str, ...]:
        out: list[str] = []
        for f in fields:
            p = self.provenance.get(f)
            for s in p.sources if p else ():
                if s not in out:
                    out.append(s)
        return tuple(out)

    # -- thermal --------------------------------------------------------------------------------

    def allowed_power_w(self, die_area_m2: float) -> float | None:
        """Watts the die under the stack may shed, logic and stack together (None without a cap)."""
        _positive(die_area_m2, "die_area_m2")
        if self.max_logic_power_density_w_per_m2 is None:
            return None
        return self.max_logic_power_density_w_per_m2 * die_area_m2

    def thermal_clock_fraction(self, logic_power_w: float, logic_area_m2: float, *, memory_power_w: float = 0.0,
                               power_exponent: float | None = None) -> float:
        """Share of the full clock the logic can sustain under the thermal cap, given by hand the
        logic's power at full clock and the memory's power on the same footprint (which does not
        throttle here; ``llmhw.hardware.package.package_power`` throttles both).

        min(1, ((allowed - memory) / logic) ** (1 / k)), allowed = cap x area; k the
        ``power_exponent`` (default the stack's ``clock_power_exponent``): 1 at a fixed voltage,
        3 with voltage scaling. A memory that alone exceeds the cap is an error."""
        _positive(logic_power_w, "logic_power_w")
        _positive(logic_area_m2, "logic_area_m2")
        k = self.clock_power_exponent if power_exponent is None else power_exponent
        _positive(k, "power_exponent")
        if isinstance(memory_power_w, bool) or not isinstance(memory_power_w, int | float) \
                or not 0 <= memory_power_w < math.inf:
            raise LlmhwError(f"must be a finite number >= 0, got {shown(memory_power_w)}", field="memory_power_w")
        allowed = self.allowed_power_w(logic_area_m2)
        if allowed is None or logic_power_w + memory_power_w <= allowed:
            return 1.0
        if memory_power_w >= allowed:
            raise LlmhwError(f"the memory's {memory_power_w:.0f} W alone exceed the {allowed:.0f} W the die may shed",
                             field="memory_power_w")
        return ((allowed - memory_power_w) / logic_power_w) ** (1.0 / k)


def _positive(x: float, field: str) -> None:
    if isinstance(x, bool) or not isinstance(x, int | float) or not 0 < x < math.inf:
        raise LlmhwError(f"must be a positive finite number, got {shown(x)}", field=field)
