"""Which memory tier holds which tensors.

A chip may have several memory tiers, fastest first (HBM + High Bandwidth Flash, LPDDR + flash
on a phone, HBM + host DDR over a link). Three classes of tensors live in them:

- ``weights``: read every step, never written during inference;
- ``kv_cache``: read every step and appended every token;
- ``activations``: the step's working set (always the fastest tier).

Placement is explicit (the scenario's ``placement:`` maps a class to a tier id) or automatic:
everything on the fastest tier when it fits; otherwise the assignment of weights and KV cache to
tiers that fits and gives the shortest memory time for a decode step (tiers are read in
parallel), preferring flash for the read-only weights and keeping the KV cache, which is written
every token, out of flash when another tier can take it. For ``batch: max`` the KV cache is
given the most room it can have: read-only weights go to a flash tier when one can hold them, as
the paper proposes for High Bandwidth Flash.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

from llmhw.core.errors import LlmhwError
from llmhw.hardware.memory import MemoryTech

CLASSES: tuple[str, ...] = ("weights", "kv_cache", "activations")


@dataclass(frozen=True)
class Placement:
    tiers: tuple[MemoryTech, ...]
    where: dict[str, int]          # tensor class -> tier index
    explicit: bool = False

    def tier(self, cls: str) -> MemoryTech:
        return self.tiers[self.where[cls]]

    def holds(self, index: int) -> list[str]:
        return [c for c in CLASSES if self.where[c] == index]

    @property
    def single(self) -> bool:
        return len(set(self.where.values())) == 1


def _is_flash(t: MemoryTech) -> bool:
    return t.memory_class == "flash"


def explicit_placement(tiers: tuple[MemoryTech, ...], mapping: dict[str, str]) -> Placement:
    ids = [t.id for t in tiers]
    where = {"weights": 0, "kv_cache": 0, "activations": 0}
    for cls, tier_id in mapping.items():
        if cls not in CLASSES:
            raise LlmhwError(f"unknown tensor class '{cls}'", field=f"placement.{cls}", accepted=", ".join(CLASSES))
        if tier_id not in ids:
            raise LlmhwError(f"no memory tier '{tier_id}' on this chip", field=f"placement.{cls}",
                             accepted=", ".join(ids))
        where[cls] = ids.index(tier_id)
    return Placement(tiers, where, explicit=True)


def auto_placement(tiers: tuple[MemoryTech, ...], usable: list[float], weights: float, kv: float, act: float,
                   for_max_batch: bool = False) -> Placement:
    """Automatic placement for per-chip sizes ``weights``, ``kv`` and ``act`` (bytes) on tiers
    whose usable capacities are ``usable``."""
    if len(tiers) == 1:
        return Placement(tiers, dict.fromkeys(CLASSES, 0))
    if not for_max_batch and weights + kv + act <= usable[0]:
        return Placement(tiers, dict.fromkeys(CLASSES, 0))
    best: tuple[tuple[float, ...], dict[str, int]] | None = None
    flash_room = max((usable[i] for i, t in enumerate(tiers) if _is_flash(t)), default=0.0)
    for w, k in product(range(len(tiers)), repeat=2):
        load = [0.0] * len(tiers)
        load[w] += weights
        load[k] += kv
        load[0] += act
        overflow = sum(max(0.0, load[i] - usable[i]) for i in range(len(tiers)))
        # Decode-step memory time with the tiers read in parallel.
        per_tier = [0.0] * len(tiers)
        per_tier[w] += weights / tiers[w].bandwidth_bytes_per_s
        per_tier[k] += kv / tiers[k].bandwidth_bytes_per_s
        time = max(per_tier)
        kv_in_flash = 1.0 if _is_flash(tiers[k]) and any(not _is_flash(t) for t in tiers) else 0.0
        weights_not_in_flash = 0.0 if _is_flash(tiers[w]) or not any(_is_flash(t) for t in tiers) else 1.0
        if for_max_batch:
            # Room left for the KV cache on its tier, after what else shares it.
            room = usable[k] - load[k] + kv
            key = (overflow, kv_in_flash, weights_not_in_flash if weights <= flash_room else 0.0, -room, time)
        else:
            key = (overflow, kv_in_flash, time, weights_not_in_flash)
        if best is None or key < best[0]:
            best = (key, {"weights": w, "kv_cache": k, "activations": 0})
    assert best is not None
    return Placement(tiers, best[1])
