"""What a chip's hardware can do beyond its peak numbers: the floors and ceilings that decide how
close real kernels can get to a datasheet, with sources (catalog/families.yaml, memory presets).

These are hardware physics and travel to a chip that does not exist yet. What a serving engine's
kernels achieve of them is software, fitted on measurements (llmhw/cost/calibration.yaml), and is
applied on top: a hypothetical chip gets its own physics and its family's software efficiency.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from pydantic import Field

from llmhw.core.provenance import Sourced, build
from llmhw.hardware.chip import Chip


class FamilyPhysics(Sourced):
    """Matrix-unit shape and launch latency of a family of chips (or one SoC compute unit)."""

    id: str
    matrix_tile_tokens: float = Field(ge=1, description="smallest token dimension of one matrix instruction")
    kernel_launch_s: float = Field(ge=0, description="time to start one kernel from a captured graph")
    note: str = ""


@dataclass(frozen=True)
class ChipPhysics:
    """The hardware limits the roofline applies to one chip (and compute unit)."""

    matrix_tile_tokens: float
    kernel_launch_s: float
    stream_efficiency: tuple[float, ...]     # per memory tier, fastest first

    @property
    def gemv_floor(self) -> float:
        """Share of the matrix peak a one-token GEMM keeps: the padded tile's one useful row."""
        return 1.0 / self.matrix_tile_tokens


@cache
def family_physics() -> dict[str, FamilyPhysics]:
    from llmhw.hardware.catalog import family_entries

    return {k: build(FamilyPhysics, v, where=f"families.{k}") for k, v in family_entries().items()}


def physics_of_family(family: str, unit: str | None = None) -> FamilyPhysics:
    table = family_physics()
    for key in ((f"{family}:{unit}",) if unit else ()) + (family, "default"):
        if key in table:
            return table[key]
    raise KeyError("default")   # the shipped table always has a default


def chip_physics(chip: Chip, unit: str | None = None, ideal: bool = False) -> ChipPhysics:
    """The physics of ``chip`` running on ``unit`` (an SoC's compute unit). ``ideal`` is the pure
    roofline: every memory streams at its peak."""
    u = (unit or chip.default_compute_unit) if chip.compute_units else None
    fam = physics_of_family(chip.family, u)
    own = chip.compute_units[u].matrix_tile_tokens if u else chip.matrix_tile_tokens  # type: ignore[index]
    stream = tuple(1.0 if ideal or t.stream_efficiency is None else t.stream_efficiency for t in chip.memory)
    return ChipPhysics(own or fam.matrix_tile_tokens, fam.kernel_launch_s, stream)
