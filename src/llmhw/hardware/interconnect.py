"""Links and the networks they form between chips."""

from __future__ import annotations

from math import prod
from typing import Literal

from pydantic import Field, model_validator

from llmhw.hardware.provenance import Sourced

Topology = Literal["switch", "ring", "torus_2d", "torus_3d", "full_mesh", "point_to_point"]
TOPOLOGIES: tuple[str, ...] = ("switch", "ring", "torus_2d", "torus_3d", "full_mesh", "point_to_point")


class Link(Sourced):
    """One physical link (an NVLink, an ICI port, a NIC port)."""

    id: str
    name: str = ""
    kind: Literal["link"] = "link"
    bandwidth_bytes_per_s: float = Field(gt=0, description="per direction")
    latency_s: float | None = Field(None, gt=0, description="one-hop latency over this link")
    energy_j_per_bit: float | None = Field(None, gt=0)
    note: str = ""


class Interconnect(Sourced):
    """A network joining chips: links per chip, a topology and the size of its domain."""

    id: str
    name: str = ""
    kind: Literal["interconnect"] = "interconnect"
    topology: Topology
    link: Link
    links_per_chip: int = Field(gt=0)
    domain_size: int = Field(gt=0, description="chips one such network can join")
    dims: tuple[int, ...] | None = Field(None, description="torus or ring shape, e.g. (4, 4, 4)")
    hop_latency_s: float | None = Field(None, gt=0, description="per hop, switch traversal included")
    in_network_reduction: bool = Field(False, description="switches can reduce (NVLink SHARP)")
    note: str = ""

    @model_validator(mode="after")
    def _check(self) -> Interconnect:
        want = {"torus_2d": 2, "torus_3d": 3, "ring": 1}.get(self.topology)
        if self.dims is not None:
            if want and len(self.dims) != want:
                raise ValueError(f"a {self.topology} needs {want} dims, got {len(self.dims)}")
            if prod(self.dims) > self.domain_size:
                raise ValueError(f"dims {self.dims} hold more chips than domain_size {self.domain_size}")
        return self

    @property
    def bandwidth_per_chip(self) -> float:
        """Bytes per second one chip can inject, per direction."""
        return self.links_per_chip * self.link.bandwidth_bytes_per_s

    @property
    def latency_per_hop(self) -> float | None:
        return self.hop_latency_s if self.hop_latency_s is not None else self.link.latency_s
