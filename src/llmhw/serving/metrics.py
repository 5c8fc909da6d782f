"""What the serving model hands downstream: typed metrics and per-phase accounting.

Every field is a numpy array over the design points of one evaluation (0-d for one point), in
SI units. Economics reads :class:`PhaseAccounting`; the public API flattens :class:`Metrics`
into the named arrays of ``llmhw.sweep`` and the JSON of ``llmhw.predict`` (:meth:`Metrics.as_dict`
is the one place those names are spelled).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields, is_dataclass
from typing import Any

import numpy as np

from llmhw.cost.roofline import StepCost

Array = np.ndarray

# Headline metrics, in the order reports list them.
METRICS = ("ttft_s", "tpot_s", "e2e_s", "output_tok_s", "output_tok_s_per_chip", "tok_s_per_user")

# Names of a step's time parts, and the word for each when it dominates.
TIME_PARTS = {"compute_s": "compute", "memory_s": "memory", "comm_s": "communication", "overhead_s": "overhead",
              "near_memory_s": "near-memory compute"}


@dataclass(frozen=True)
class PhaseAccounting:
    """What one chip computes, reads, writes and sends in one step of a phase: a decode step of
    the replica's requests, or one prompt's prefill through all pipeline stages."""

    flops: dict[str, Array]             # by the datatype they ran in ("near_memory": PIM/PNM units)
    tier_read_bytes: tuple[Array, ...]  # per memory tier of the chip, page amplification included
    tier_write_bytes: tuple[Array, ...]
    near_memory_bytes: Array            # bytes near-memory units read inside their tier
    wire_bytes: Array                   # bytes the chip puts on its links

    @property
    def total_flops(self) -> Array:
        return sum(self.flops.values(), np.zeros(np.shape(self.wire_bytes)))

    @property
    def memory_bytes(self) -> Array:
        """Bytes moved to and from every tier (reads and writes)."""
        return sum(self.tier_read_bytes, np.zeros(np.shape(self.wire_bytes))) + sum(
            self.tier_write_bytes, np.zeros(np.shape(self.wire_bytes)))


@dataclass(frozen=True)
class PhaseTime:
    """Seconds of one step of a phase and how they split (the breakdown)."""

    total_s: Array
    compute_s: Array
    memory_s: Array
    comm_s: Array
    overhead_s: Array
    near_memory_s: Array
    comm_latency_s: Array
    comm_bandwidth_s: Array
    tier_s: tuple[Array, ...]           # memory seconds each tier spends (parallel tiers)

    def bound(self) -> str:
        """What dominates a single design point's step."""
        return TIME_PARTS[max(TIME_PARTS, key=lambda k: float(getattr(self, k)))]


@dataclass(frozen=True)
class Phase:
    time: PhaseTime
    accounting: PhaseAccounting

    @classmethod
    def of(cls, c: StepCost, shape: tuple[int, ...]) -> Phase:
        """A step's cost broadcast to the evaluation's shape."""
        z = np.zeros(shape)
        time = PhaseTime(c.total_s + z, c.compute_s + z, c.memory_s + z, c.comm_s + z, c.overhead_s + z,
                         c.near_memory_s + z, c.comm_latency_s + z, c.comm_bandwidth_s + z,
                         tuple(t + z for t in c.tier_s))
        acc = PhaseAccounting({d: f + z for d, f in c.flops.items()}, tuple(b + z for b in c.tier_read_bytes),
                              tuple(b + z for b in c.tier_write_bytes), c.near_memory_bytes + z,
                              c.comm_wire_bytes + z)
        return cls(time, acc)


@dataclass(frozen=True)
class MemoryUse:
    """Bytes per chip of the most loaded chip."""

    weights_bytes: Array
    kv_cache_bytes: Array
    activation_bytes: Array
    total_bytes: Array
    capacity_bytes: Array
    usable_bytes: Array


@dataclass(frozen=True)
class TierUse:
    """One memory tier of the chip in steady state."""

    used_bytes: Array
    read_bytes_per_s: Array
    write_bytes_per_s: Array
    lifetime_days: Array                # inf for memories that do not wear out


@dataclass(frozen=True)
class Metrics:
    """Everything the closed-loop serving model computes for a grid of design points."""

    batch: Array
    ttft_s: Array
    tpot_s: Array
    e2e_s: Array
    output_tok_s: Array
    output_tok_s_per_chip: Array
    tok_s_per_user: Array
    prefill_tok_s: Array
    fits: Array
    max_batch: Array                    # the lower of the two limits below
    max_batch_memory: Array             # the most requests memory holds (accounting/memory.py)
    max_batch_engine: Array             # the most the engine schedules at once (scenario/engines.yaml)
    memory: MemoryUse
    tiers: tuple[TierUse, ...]
    decode: Phase
    prefill: Phase
    # how often each phase happens: per replica, r requests each with one prefill and
    # mean_output_tokens decode steps
    requests_per_replica: Array
    mean_output_tokens: Array
    mean_input_tokens: Array

    def as_dict(self) -> dict[str, Array]:
        """The flat arrays of ``llmhw.sweep``, under their public names."""
        out: dict[str, Array] = {k: getattr(self, k) for k in (
            "batch", *METRICS, "prefill_tok_s", "fits", "max_batch", "max_batch_memory", "max_batch_engine")}
        out.update({f.name: getattr(self.memory, f.name) for f in fields(MemoryUse)})
        for i, t in enumerate(self.tiers):
            out.update({f"tier{i}_used_bytes": t.used_bytes, f"tier{i}_decode_s": self.decode.time.tier_s[i],
                        f"tier{i}_prefill_s": self.prefill.time.tier_s[i],
                        f"tier{i}_read_bytes_per_s": t.read_bytes_per_s,
                        f"tier{i}_write_bytes_per_s": t.write_bytes_per_s, f"tier{i}_lifetime_days": t.lifetime_days})
        out["decode_step_s"] = self.decode.time.total_s
        out["prefill_s"] = self.prefill.time.total_s
        for name, ph in (("decode", self.decode), ("prefill", self.prefill)):
            for k in ("compute_s", "memory_s", "comm_s", "overhead_s", "near_memory_s", "comm_latency_s",
                      "comm_bandwidth_s"):
                out[f"{name}_{k}"] = getattr(ph.time, k)
        out["requests_per_replica"] = self.requests_per_replica
        out["mean_output_tokens"] = self.mean_output_tokens
        out["mean_input_tokens"] = self.mean_input_tokens
        for name, ph in (("decode", self.decode), ("prefill", self.prefill)):
            a = ph.accounting
            out.update({f"{name}_flops_{d}": f for d, f in a.flops.items()})
            out[f"{name}_comm_wire_bytes"] = a.wire_bytes
            out[f"{name}_near_memory_bytes"] = a.near_memory_bytes
            for i, (rb, wb) in enumerate(zip(a.tier_read_bytes, a.tier_write_bytes, strict=True)):
                out[f"{name}_tier{i}_read_bytes"] = rb
                out[f"{name}_tier{i}_write_bytes"] = wb
        return out

    def point(self) -> Metrics:
        """The same metrics with every array a Python float (bool for fits) — one design point."""
        return tree_map(_scalar, self)


def _scalar(a: Any) -> Any:
    arr = np.asarray(a)
    return bool(arr) if arr.dtype == bool else float(arr)


def tree_map(fn: Callable[..., Any], first: Any, *rest: Any) -> Any:
    """Apply ``fn`` leaf-wise over matching dataclasses, tuples and dicts of arrays."""
    if is_dataclass(first) and not isinstance(first, type):
        return type(first)(**{f.name: tree_map(fn, getattr(first, f.name), *(getattr(r, f.name) for r in rest))
                              for f in fields(first)})
    if isinstance(first, tuple):
        return tuple(tree_map(fn, *items) for items in zip(first, *rest, strict=True))
    if isinstance(first, dict):
        return {k: tree_map(fn, first[k], *(r[k] for r in rest)) for k in first}
    return fn(first, *rest)


def concatenate(parts: list[Metrics], shape: tuple[int, ...]) -> Metrics:
    """Blocks of a flattened evaluation joined back into one, reshaped to ``shape``."""
    return tree_map(lambda *xs: np.concatenate(xs).reshape(shape), *parts)

