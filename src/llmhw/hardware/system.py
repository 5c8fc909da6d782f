"""A system: chips of one kind joined by a scale-up and a scale-out network."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from llmhw.hardware.chip import Chip
from llmhw.hardware.interconnect import Interconnect
from llmhw.hardware.memory import MemoryTech
from llmhw.hardware.provenance import Sourced


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

    def replace(self, overrides: dict[str, Any] | None = None, **dotted: Any) -> System:
        """A what-if copy: ``system.replace(**{"chip.memory": ["hbm3e", "hbf"]})``, or the same
        paths as one mapping ``system.replace(overrides={"interconnect.hop_latency_s": 1e-7})``; a keyword
        may spell the dots as ``__`` (``interconnect__hop_latency_s=1e-7``). Paths, values and
        errors as a scenario's ``overrides:`` (docs/whatif.md)."""
        from llmhw.mapping.overrides import apply_overrides

        changes = dict(overrides or {})
        changes.update({k.replace("__", "."): v for k, v in dotted.items()})
        return apply_overrides(self, changes)


def system_of(chip: Chip, n_chips: int) -> System:
    """``n_chips`` of ``chip`` on the chip's own networks, for scenarios that name a chip."""
    return System(id=f"{n_chips}x{chip.id}", name=f"{n_chips}x {chip.label}", chip=chip, n_chips=n_chips)
