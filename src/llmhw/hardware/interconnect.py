"""Links and the networks they form between chips: topology physics.

A network is a topology, a link, the links each chip drives, the number of chips it can join
(``domain_size``) and, for rings, tori and dragonflies, a shape (``dims``). From those this module
answers what a collective needs to know about a group of ``g`` chips on the network:

- how many hops a message crosses (``hops``), the worst pair (``"max"``), the mean over pairs
  (``"mean"``) and a ring neighbour (``"neighbor"``);
- how much bandwidth one chip can inject towards the group (``group_bandwidth``) and towards one
  peer (``peer_bandwidth``): a ring uses 2 links per chip, a 2D torus 4, a 3D torus 6, and a full
  mesh reaches one peer over the links to that peer only;
- which slice of a torus the group occupies (``slice_dims``).

A *hop* is one switch or router traversal on an indirect network (switch, dragonfly) and one
chip-to-chip link on a direct network (ring, torus, full mesh), where the chip's own router
forwards; ``hop_latency_s`` (or the link's ``latency_s``) is the latency of one hop. So:

| topology | hops between the farthest pair (``diameter``) |
|---|---|
| switch, ``levels`` L | 2L - 1 switches (up L - 1, the top, down L - 1) |
| ring of n | floor(n / 2) links (bidirectional) |
| torus d1 x d2 (x d3) | sum of floor(d_i / 2) |
| full mesh | 1 |
| point_to_point (through a host) | 1 |
| dragonfly (chips per router, routers per group, groups) | 4 routers: local, global, local links |

A group smaller than the network uses only what it needs: the lowest levels of a fat tree that
hold it, the routers of a dragonfly it spans, the slice of a torus it occupies.

One algorithm step over ``h`` hops costs ``step_latency(h)`` = ``sync_latency_s`` (the collective
protocol's synchronisation, per step) + ``endpoint_latency_s`` + h x the hop latency. The software
base latency of a collective (``software_latency_s``, else the family's fitted ``comm_latency_s``)
is paid once per collective, not per step (cost/comm.py).
"""

from __future__ import annotations

from math import ceil, log, prod
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from llmhw.core.errors import LlmhwError
from llmhw.core.provenance import Sourced, is_quantity

Topology = Literal["switch", "ring", "torus_2d", "torus_3d", "full_mesh", "point_to_point", "dragonfly"]
TOPOLOGIES: tuple[str, ...] = ("switch", "ring", "torus_2d", "torus_3d", "full_mesh", "point_to_point",
                               "dragonfly")
# Networks in which every chip reaches every other chip in one algorithm step without relaying
# through other chips: direct algorithms (one-shot, two-shot, direct all-to-all) run on them.
DIRECT_TOPOLOGIES: tuple[str, ...] = ("switch", "full_mesh", "dragonfly")
_SHAPED = {"ring": 1, "torus_2d": 2, "torus_3d": 3, "dragonfly": 3}


class Link(Sourced):
    """One physical link (an NVLink, an ICI port, a NIC port, a die-to-die interface)."""

    id: str
    name: str = ""
    kind: Literal["link"] = "link"
    bandwidth_bytes_per_s: float = Field(gt=0, description="per direction")
    # How the spec's bandwidth was quoted. Vendors mostly quote a bidirectional total ("900 GB/s
    # NVLink"), sometimes per direction, often without saying which; the engine moves bytes one
    # way per step, so a bidirectional figure is halved when the spec is read. Default: per
    # direction (the catalog's convention); `llmhw hardware SPEC.yaml` warns when a user's spec
    # does not say. Once read, the field says per_direction (what the stored number is) and the
    # bandwidth's provenance note keeps how it was quoted, so rebuilding a link (a what-if)
    # never halves it twice.
    bandwidth_direction: Literal["per_direction", "bidirectional"] = "per_direction"
    latency_s: float | None = Field(None, gt=0, description="one-hop latency over this link")
    energy_j_per_bit: float | None = Field(None, gt=0)
    note: str = ""

    @model_validator(mode="before")
    @classmethod
    def _per_direction(cls, data: Any) -> Any:
        """A bidirectional total becomes the per-direction bandwidth the engine uses (halved,
        range included); the provenance note says so."""
        if not isinstance(data, dict) or data.get("bandwidth_direction") != "bidirectional":
            return data
        out = dict(data)
        bw = out.get("bandwidth_bytes_per_s")
        if is_quantity(bw):
            q = dict(bw)
            for k in ("value", "low", "high"):
                if isinstance(q.get(k), int | float) and not isinstance(q.get(k), bool):
                    q[k] = q[k] / 2
            q["note"] = "; ".join(x for x in (str(q.get("note", "")), "quoted as a bidirectional total: halved") if x)
            out["bandwidth_bytes_per_s"] = q
        elif isinstance(bw, int | float) and not isinstance(bw, bool):
            out["bandwidth_bytes_per_s"] = bw / 2
        out["bandwidth_direction"] = "per_direction"
        return out


def _error(msg: str) -> PydanticCustomError:
    return PydanticCustomError("interconnect", msg)


def _prime_factors(n: int) -> list[int]:
    out, f = [], 2
    while f * f <= n:
        while n % f == 0:
            out.append(f)
            n //= f
        f += 1
    if n > 1:
        out.append(n)
    return sorted(out, reverse=True)


def _ring_distances(n: int) -> int:
    """Sum of the shortest distances from one chip of a bidirectional ring of n to all others."""
    return sum(min(k, n - k) for k in range(1, n))


class Interconnect(Sourced):
    """A network joining chips: links per chip, a topology and the size of its domain."""

    id: str
    name: str = ""
    kind: Literal["interconnect"] = "interconnect"
    topology: Topology
    link: Link
    domain_size: int = Field(gt=0, description="chips one such network can join")
    links_per_chip: int = Field(gt=0)
    levels: int = Field(1, ge=1, le=8, validate_default=True,
                        description="switch tiers (switch topology): 1 is one switch level, 2 a leaf-spine "
                                    "fat tree, 3 a three-tier fat tree")
    dims: tuple[int, ...] | None = Field(
        None, validate_default=True,
        description="ring: (n,); torus: its shape, e.g. (4, 4, 4); dragonfly: (chips per router, routers per "
                    "group, groups). Must multiply to domain_size")
    hop_latency_s: float | None = Field(None, gt=0, description="per hop, switch traversal included")
    software_latency_s: float | None = Field(
        None, ge=0, description="software base latency of one collective, charged once per collective "
        "(launch, argument setup, the library's fixed cost); default: the hardware family's fitted value "
        "(cost/calibration.yaml comm_latency_s)")
    sync_latency_s: float | None = Field(
        None, ge=0, description="per algorithm step: the collective protocol's synchronisation between the "
                                "chips (the receiver sees the sender's flag and data), on top of the hops; "
                                "NCCL's tuner models a low-latency-protocol step as 0.6 us on NVLink")
    endpoint_latency_s: float | None = Field(
        None, ge=0, description="per algorithm step at the chips themselves (NIC or DMA engine injection and "
                                "ejection), on top of the hops; a knob for low-latency network interfaces")
    in_network_reduction: bool = Field(False, description="switches can reduce (NVLink SHARP)")
    note: str = ""

    @field_validator("links_per_chip")
    @classmethod
    def _check_links(cls, v: int, info: ValidationInfo) -> int:
        topo, domain = info.data.get("topology"), info.data.get("domain_size")
        if topo == "full_mesh" and domain is not None and v < domain - 1:
            raise _error(f"a full mesh of {domain} chips needs at least {domain - 1} links per chip "
                         f"(one to each peer), got {v}")
        return v

    @field_validator("levels")
    @classmethod
    def _check_levels(cls, v: int, info: ValidationInfo) -> int:
        topo = info.data.get("topology")
        if v > 1 and topo is not None and topo != "switch":
            raise _error(f"levels apply to a switch, not to a {topo}")
        return v

    @field_validator("dims")
    @classmethod
    def _check_dims(cls, v: tuple[int, ...] | None, info: ValidationInfo) -> tuple[int, ...] | None:
        topo, domain = info.data.get("topology"), info.data.get("domain_size")
        if topo is None:
            return v
        want = _SHAPED.get(topo)
        if v is None:
            if topo in ("torus_2d", "torus_3d", "dragonfly"):
                example = {"torus_2d": "[16, 16]", "torus_3d": "[4, 4, 4]",
                           "dragonfly": "[chips per router, routers per group, groups]"}[topo]
                raise _error(f"a {topo} needs dims, e.g. {example}")
            return v
        if want is None:
            raise _error(f"dims apply to ring, torus_2d, torus_3d and dragonfly, not to a {topo}")
        if len(v) != want:
            raise _error(f"a {topo} needs {want} dims, got {len(v)}")
        if any(d < 1 for d in v):
            raise _error(f"every dim must be at least 1, got {list(v)}")
        if domain is not None and prod(v) != domain:
            raise _error(f"dims {list(v)} hold {prod(v)} chips but domain_size is {domain}; they must match")
        return v

    # -- the whole network ----------------------------------------------------------------

    @property
    def bandwidth_per_chip(self) -> float:
        """Bytes per second one chip can inject, per direction, over all its links."""
        return self.links_per_chip * self.link.bandwidth_bytes_per_s

    @property
    def latency_per_hop(self) -> float | None:
        return self.hop_latency_s if self.hop_latency_s is not None else self.link.latency_s

    @property
    def fixed_step_latency(self) -> float:
        """Seconds every algorithm step pays whatever its hops: synchronisation + endpoints."""
        return (self.sync_latency_s or 0.0) + (self.endpoint_latency_s or 0.0)

    def step_latency(self, hops: float) -> float:
        """Seconds of one algorithm step that crosses ``hops`` hops: synchronisation, endpoints and
        hops (the collective's software base latency, paid once per collective, excluded)."""
        return self.fixed_step_latency + hops * (self.latency_per_hop or 0.0)

    @property
    def diameter(self) -> int:
        """Hops between the farthest two chips of the whole network (see the module's table)."""
        return self.hops(self.domain_size, "max")

    # -- a group of g chips on it ---------------------------------------------------------

    def slice_dims(self, g: int) -> tuple[int, ...] | None:
        """The shape of the slice ``g`` chips occupy on a ring or torus: as cubic as the torus
        allows (largest prime factors first, each to the smallest dimension it fits in); None
        when ``g`` is no such slice (a prime larger than every dimension) or on other topologies."""
        if self.topology not in ("ring", "torus_2d", "torus_3d"):
            return None
        dims = self.dims or (self.domain_size,)
        if g == prod(dims):
            return tuple(dims)
        shape = [1] * len(dims)
        for f in _prime_factors(g):
            fits = [i for i in range(len(dims)) if shape[i] * f <= dims[i]]
            if not fits:
                return None
            i = min(fits, key=lambda j: shape[j])
            shape[i] *= f
        return tuple(shape)

    def group_shape(self, g: int) -> tuple[int, ...]:
        """The ring or torus shape a group of ``g`` runs on: its slice, or, when it is no slice,
        a snake (a ring of g through the torus)."""
        return self.slice_dims(g) or (g,)

    def switch_levels(self, g: int) -> int:
        """Tiers of a fat tree a group of ``g`` chips spans. A fat tree of radix k and L levels
        joins 2 (k/2)^L chips and a subtree of l < L levels (k/2)^l, so (k/2) = (domain/2)^(1/L)."""
        if self.topology != "switch" or self.levels == 1 or g <= 1:
            return 1
        per = (self.domain_size / 2.0) ** (1.0 / self.levels)          # chips below one leaf switch
        if per <= 1.0:
            return self.levels
        need = ceil(log(g) / log(per) - 1e-9)
        return max(1, min(self.levels, need))

    def hops(self, g: int, which: Literal["max", "mean", "neighbor"] = "max") -> float:
        """Hops a message crosses within a group of ``g`` chips: between the farthest pair
        (``max``), averaged over pairs (``mean``) or between ring neighbours (``neighbor``)."""
        if g <= 1:
            return 0.0
        t = self.topology
        if t == "switch":
            return 2.0 * self.switch_levels(g) - 1.0
        if t in ("full_mesh", "point_to_point"):
            return 1.0
        if t == "dragonfly":
            per_router, routers, _ = self.dims  # type: ignore[misc]
            in_router = min(g, per_router)
            in_group = min(g, per_router * routers)
            if which == "max" or which == "neighbor":
                return 1.0 if g <= per_router else 2.0 if g <= per_router * routers else 4.0
            return ((in_router - 1) * 1.0 + (in_group - in_router) * 2.0 + (g - in_group) * 4.0) / (g - 1)
        shape = self.group_shape(g)
        if which == "neighbor":
            return 1.0
        if which == "max":
            return float(sum(d // 2 for d in shape))
        return self.mean_distance(g) * g / (g - 1)

    def mean_distance(self, g: int) -> float:
        """Hops from one chip to a destination drawn uniformly from the group, itself included
        (0 hops): the average distance a byte of an all-to-all travels. Ring and torus: the sum over
        dimensions of (sum of ring distances) / d_i; elsewhere ``hops(g, 'mean') x (g - 1) / g``."""
        if g <= 1:
            return 0.0
        if self.topology in ("ring", "torus_2d", "torus_3d"):
            return sum(_ring_distances(d) / d for d in self.group_shape(g))
        return self.hops(g, "mean") * (g - 1) / g

    def links_used(self, g: int) -> float:
        """Links per chip a collective over ``g`` chips can drive: every link on a switch, a
        dragonfly or a host link; on a ring or torus 2 per dimension of the slice longer than 2
        (1 for a dimension of 2); on a full mesh the links to the g - 1 peers in the group."""
        t = self.topology
        if g <= 1:
            return 0.0
        if t == "full_mesh":
            return self.links_per_chip * (g - 1) / (self.domain_size - 1)
        if t in ("ring", "torus_2d", "torus_3d"):
            used = sum(2 if d >= 3 else 1 if d == 2 else 0 for d in self.group_shape(g))
            return float(min(self.links_per_chip, used))
        return float(self.links_per_chip)

    def group_bandwidth(self, g: int) -> float:
        """Bytes per second (per direction) one chip injects towards a group of ``g`` chips."""
        return self.links_used(g) * self.link.bandwidth_bytes_per_s

    def peer_bandwidth(self, g: int) -> float:
        """Bytes per second from one chip to one other chip of the group: the full injection
        bandwidth through a switch, the links to that peer on a full mesh, one link on a ring or
        torus (a shortest path leaves in one direction of one dimension)."""
        t = self.topology
        if t == "full_mesh":
            return self.bandwidth_per_chip / (self.domain_size - 1)
        if t in ("ring", "torus_2d", "torus_3d"):
            return self.link.bandwidth_bytes_per_s
        return self.bandwidth_per_chip

    def ring_bandwidth(self, g: int) -> float:
        """Bytes per second per chip of a ring algorithm (as many rings as the links allow). A
        switch, ring or torus fills its links. A full mesh of g chips splits into floor((g-1)/2)
        edge-disjoint Hamiltonian cycles (Walecki); run both ways, they use 2 floor((g-1)/2) of
        the g - 1 peer links, so the ring reaches that share of the group bandwidth (6/7 at g = 8)."""
        b = self.group_bandwidth(g)
        if self.topology == "full_mesh" and g > 2:
            return b * 2 * ((g - 1) // 2) / (g - 1)
        return b


def check_size(net: Interconnect, n_chips: int, where: str = "interconnect") -> None:
    """Raise a clear :class:`LlmhwError` when ``net`` cannot hold ``n_chips`` chips: more chips
    than its domain (``<where>.domain_size``), or a chip count that is no slice of a torus or ring
    (``<where>.topology``). Collectives over groups larger than a scale-up domain are fine (they go
    hierarchical over the scale-out network); this is for a network asked to hold them alone."""
    if n_chips < 1:
        raise LlmhwError(f"a network holds at least 1 chip, got {n_chips}", field=f"{where}.domain_size")
    if n_chips > net.domain_size:
        raise LlmhwError(f"'{net.id}' ({net.topology}) joins at most {net.domain_size} chips, not {n_chips}",
                         field=f"{where}.domain_size", accepted=f"1 to {net.domain_size} chips")
    if net.topology in ("ring", "torus_2d", "torus_3d") and net.slice_dims(n_chips) is None:
        shape = "x".join(str(d) for d in (net.dims or (net.domain_size,)))
        raise LlmhwError(f"{n_chips} chips are no slice of the {shape} {net.topology} of '{net.id}': "
                         f"a prime factor of {n_chips} is longer than every dimension",
                         field=f"{where}.topology",
                         accepted=f"products of one factor per dimension, each at most {shape}")
