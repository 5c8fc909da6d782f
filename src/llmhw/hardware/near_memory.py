"""Compute placed at a memory tier: processing-in-memory (PIM) and processing-near-memory (PNM).

PIM puts logic in the DRAM die, one unit per bank (or pair of banks): Samsung HBM-PIM, SK hynix
GDDR6-AiM, Samsung LPDDR5-PIM, UPMEM. PNM puts logic on a separate die next to the memory: the
HBM base (logic) die, a CXL memory expander's controller. Ma & Patterson (2026, Table 4) contrast
them: PIM has more bandwidth per watt but needs the model sharded into bank-sized pieces (32-64
MB); PNM shards can be 1000x larger (16-32 GB per device).

A :class:`NearMemoryCompute` describes that compute as attached to one memory tier of a chip:

- ``peak_flops`` per datatype. ``scope: tier`` (the default, and what a chip's spec should give):
  the FLOP/s of the whole tier, all devices of the chip together. ``scope: device`` (the catalog
  presets): the FLOP/s of one device whose external bandwidth is ``device_bandwidth_bytes_per_s``;
  :func:`tier_peak_flops` scales it to a tier by bandwidth (a tier with k times the device's
  external bandwidth has k devices' worth of compute, which keeps the preset's FLOP per byte of
  internal bandwidth).
- ``internal_bandwidth_multiplier``: the bandwidth the compute sees inside the memory over the
  tier's external bandwidth (bank-level parallelism: 4x on HBM-PIM, 8x on GDDR6-AiM).
- ``energy_j_per_bit``: energy to bring a bit to the near-memory compute (no off-chip I/O).
- ``capacity_overhead``: the share of the tier's capacity lost to the logic (0..1): a PIM die
  gives up cell area; a PNM die does not.
- ``shard_bytes``: the memory one compute unit can reach: a bank (PIM) or a device (PNM).
- ``tier``: the id of the chip's memory tier it sits on (None: the chip's first tier that is not
  a 3D stack on the die; see ``Chip.near_memory_tier``).
- ``ops``: the operators it can run (:data:`OPS`).

Sharding rule (:func:`shard_fit`): a compute unit works only on data in its own shard and
takes nothing from other units but a broadcast input vector. So

- a weight matrix ``y = W x`` can be split by output rows: each unit holds whole rows, computes
  its outputs, and the input vector is broadcast to all units (as HBM-PIM and AiM do). Its
  smallest piece is one row (``in_features x bytes per element``); see :func:`gemv_item`.
- a KV head's cache for one request cannot be split: attention over a head needs the head's whole
  sequence for its softmax (splitting along the sequence needs the partial results merged
  outside the memory, which is no longer near-memory compute); see :func:`kv_head_item`.
- an item given as a plain number of bytes is indivisible.

An item maps when its smallest piece fits one shard; it then needs ``ceil(bytes / (pieces per
shard x piece))`` shards. Items are the per-chip slices after tensor/expert parallelism.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal, NamedTuple

from pydantic import Field, field_validator, model_validator

from llmhw.core.errors import LlmhwError, shown
from llmhw.core.provenance import Sourced, build
from llmhw.core.units import check_peak_flops, fmt_bytes
from llmhw.hardware.memory import MemoryTech

Placement = Literal["pim", "pnm"]
Scope = Literal["tier", "device"]

# Operators near-memory compute may run, and the engine operators (docs/engine.md) they cover.
OPS: dict[str, str] = {
    "decode_attention": "attention in decode steps (reads the KV cache; one query per request)",
    "gemv": "the linear layers of decode steps (qkv_proj, o_proj, dense ffn, shared_experts, lm_head)",
    "moe_experts": "the routed experts of decode steps",
    "gemm": "linear layers with many tokens (prefill); only compute-rich PNM should list it",
}


class NearMemoryCompute(Sourced):
    """Compute at a memory tier (PIM in the DRAM die, or PNM on a die next to it)."""

    id: str
    name: str = ""
    kind: Literal["near_memory"] = "near_memory"
    placement: Placement = Field(description="pim: logic in the memory die; pnm: logic on a nearby die")
    peak_flops: dict[str, float] = Field(description="dense FLOP/s per datatype; see scope")
    scope: Scope = Field("tier", description="tier: peak_flops is the whole tier's; device: one device's")
    device_bandwidth_bytes_per_s: float | None = Field(
        None, gt=0, description="external bandwidth of the device peak_flops is quoted for (scope: device)")
    internal_bandwidth_multiplier: float = Field(gt=0, description="internal bandwidth / the tier's external bandwidth")
    energy_j_per_bit: float | None = Field(None, gt=0, description="energy per bit read into the near-memory compute")
    capacity_overhead: float = Field(0.0, ge=0, lt=1, description="share of the tier's capacity lost to logic")
    shard_bytes: float = Field(gt=0, description="memory one compute unit reaches: a bank (PIM) or a device (PNM)")
    tier: str | None = Field(None, description="id of the memory tier it attaches to; None = the chip's first (non-stacked) tier")
    ops: tuple[str, ...] = Field(("gemv",), min_length=1)
    year: int | None = None
    note: str = ""

    @field_validator("peak_flops")
    @classmethod
    def _flops(cls, v: dict[str, float]) -> dict[str, float]:
        if not v:
            raise ValueError("give at least one datatype")
        return check_peak_flops(v)

    @field_validator("ops")
    @classmethod
    def _ops(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for op in v:
            if op not in OPS:
                raise ValueError(f"unknown operator '{op}' (accepted: {', '.join(OPS)})")
        return v

    @model_validator(mode="after")
    def _check(self) -> NearMemoryCompute:
        if self.scope == "device" and self.device_bandwidth_bytes_per_s is None:
            raise ValueError("scope 'device' needs device_bandwidth_bytes_per_s (the device's external bandwidth)")
        return self

    @classmethod
    def from_dict(cls, d: Any, where: str = "near_memory") -> NearMemoryCompute:
        """Validate a mapping (plain SI numbers or quantities); errors name the field."""
        return build(cls, d, where=where)

    @property
    def label(self) -> str:
        return self.name or self.id

    @property
    def unit_name(self) -> str:
        return "bank" if self.placement == "pim" else "device"


# -- physics ----------------------------------------------------------------------------------


def internal_bandwidth(nm: NearMemoryCompute, tier: MemoryTech) -> float:
    """Bytes/s the near-memory compute reads inside ``tier``: multiplier x the tier's external bandwidth."""
    return nm.internal_bandwidth_multiplier * tier.bandwidth_bytes_per_s


def usable_capacity(nm: NearMemoryCompute, tier: MemoryTech) -> float:
    """Bytes of ``tier`` left for data once the logic has taken its share."""
    return tier.capacity_bytes * (1.0 - nm.capacity_overhead)


def devices_in(nm: NearMemoryCompute, tier: MemoryTech) -> float:
    """How many of the preset's devices ``tier`` amounts to, by bandwidth (1 for scope 'tier')."""
    if nm.scope == "tier":
        return 1.0
    assert nm.device_bandwidth_bytes_per_s is not None
    return tier.bandwidth_bytes_per_s / nm.device_bandwidth_bytes_per_s


def tier_peak_flops(nm: NearMemoryCompute, tier: MemoryTech) -> dict[str, float]:
    """Peak FLOP/s per datatype of the near-memory compute over the whole ``tier``."""
    n = devices_in(nm, tier)
    return {k: v * n for k, v in nm.peak_flops.items()}


# -- sharding ---------------------------------------------------------------------------------


class ShardFit(NamedTuple):
    """One item of :func:`shard_fit`: whether it maps to the near-memory compute units."""

    tensor: str
    bytes: float
    shards: int          # compute units it occupies (0 when it cannot map)
    fits: bool
    why: str


def gemv_item(out_features: int, in_features: int, bytes_per_element: float) -> tuple[float, float]:
    """A weight matrix as a shard_fit item: (bytes, one output row's bytes). Rows split across
    units with the input vector broadcast."""
    row = in_features * bytes_per_element
    return out_features * row, row


def kv_head_item(tokens: int, head_dim: int, bytes_per_element: float, tensors: int = 2) -> float:
    """One request's cache of one KV head (K and V: ``tensors=2``; MLA's latent: 1), indivisible."""
    return float(tokens * head_dim * bytes_per_element * tensors)


def _item(name: str, v: Any) -> tuple[float, float]:
    if isinstance(v, tuple | list) and len(v) == 2:
        total, piece = float(v[0]), float(v[1])
    elif isinstance(v, int | float) and not isinstance(v, bool):
        total = piece = float(v)
    else:
        raise LlmhwError(f"expected bytes or (bytes, smallest piece bytes), got {shown(v)}", field=f"tensors.{name}")
    if not (total > 0 and piece > 0) or piece > total:
        raise LlmhwError(f"need 0 < smallest piece <= bytes, got ({total}, {piece})", field=f"tensors.{name}")
    return total, piece


def shard_fit(nm: NearMemoryCompute, tensor_bytes_per_chip: Mapping[str, Any]) -> list[ShardFit]:
    """Which tensors can map onto the compute units' shards, and how many shards each takes.

    ``tensor_bytes_per_chip`` maps a name to its bytes on one chip (indivisible), or to
    ``(bytes, smallest piece)`` when it may be split into pieces no smaller than that along a
    dimension that needs no data from other units (see the module docstring and
    :func:`gemv_item`, :func:`kv_head_item`)."""
    shard = nm.shard_bytes
    unit = nm.unit_name
    out = []
    for name, v in tensor_bytes_per_chip.items():
        total, piece = _item(name, v)
        if piece > shard:
            what = "it" if piece == total else "its smallest piece"
            out.append(ShardFit(name, total, 0, False,
                                f"{what} ({fmt_bytes(piece)}) exceeds one {unit} ({fmt_bytes(shard)}); "
                                f"it needs a split whose partial results are merged outside the memory, "
                                f"or a larger shard"))
            continue
        per_shard = math.floor(shard / piece) * piece
        n = max(1, math.ceil(total / per_shard - 1e-12))
        if n == 1:
            why = f"fits one {unit} ({fmt_bytes(total)} <= {fmt_bytes(shard)})"
        else:
            why = f"split into {n} {unit}s of whole pieces ({fmt_bytes(piece)} each), input broadcast"
        out.append(ShardFit(name, total, n, True, why))
    return out
