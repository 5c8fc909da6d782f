"""A system: chips of one kind joined by a scale-up and a scale-out network."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from llmhw.core.provenance import Sourced
from llmhw.hardware.chip import Chip
from llmhw.hardware.interconnect import Interconnect
from llmhw.hardware.memory import MemoryTech


class System(Sourced):
    id: str
    name: str = ""
    kind: Literal["system"] = "system"
    chip: Chip
    n_chips: int = Field(gt=0)
    scale_up: Interconnect | None = Field(None, description="default: the chip's own scale-up network")
    scale_out: Interconnect | None = None
    host_memory: tuple[MemoryTech, ...] = ()
    price_usd: float | None = Field(None, gt=0, description="whole system")
    note: str = ""

    @property
    def scale_up_network(self) -> Interconnect | None:
        return self.scale_up or self.chip.scale_up

    @property
    def scale_out_network(self) -> Interconnect | None:
        return self.scale_out or self.chip.scale_out

    @property
    def label(self) -> str:
        return self.name or self.id


def system_of(chip: Chip, n_chips: int) -> System:
    """``n_chips`` of ``chip`` on the chip's own networks, for scenarios that name a chip."""
    return System(id=f"{n_chips}x{chip.id}", name=f"{n_chips}x {chip.label}", chip=chip, n_chips=n_chips)
