"""The power envelope of a package whose compute die carries a 3D memory stack.

The logic and the stack on top of it shed their heat through the same footprint, so the stack's
thermal cap covers both; the package's TDP covers the logic and every memory tier it carries, as
a published TDP covers a GPU and its HBM (docs/stacking.md):

    logic x f^k + stack access x f + stack static               <= cap density x die area
    logic x f^k + stack access x f + stack static + other tiers <= TDP

``logic`` is the logic at full clock: the published package's TDP less its own memory at full
bandwidth (static + access power, hardware/memory.py). The package throttles the logic's clock
and the stack's data rate by the same fraction f, the largest in (0, 1] that meets both limits;
k is the stack's ``clock_power_exponent`` (1 at a fixed voltage, 3 with voltage scaling).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from llmhw.core.errors import LlmhwError
from llmhw.hardware.chip import Chip
from llmhw.hardware.memory import MemoryTech


class PackagePower(NamedTuple):
    """How a chip with a 3D stack shares its power envelope (W; see the module docstring)."""

    fraction: float          # the logic's clock and the stack's data rate, both, as a share of full
    logic_w: float           # the logic at full clock: the published TDP less that package's memory
    stack_static_w: float    # the stack's refresh and standby (devices x per device)
    stack_access_w: float    # the stack's access power at full bandwidth x the workload's utilization
    other_memory_w: float    # the package's other tiers at full bandwidth (inside the TDP only)
    thermal_w: float | None  # cap density x die area (None: no thermal cap)
    tdp_w: float             # the package's TDP
    power_exponent: float    # k: logic power ~ f^k
    binding: str             # "thermal", "tdp" or "none"

    @property
    def envelope_w(self) -> float:
        """The most the package draws at this operating point: logic, stack and other tiers."""
        return self.logic_w * self.fraction ** self.power_exponent + self.stack_access_w * self.fraction \
            + self.stack_static_w + self.other_memory_w

    @property
    def logic_power_fraction(self) -> float:
        """The logic's power at the throttled clock over its full-clock power: f^k."""
        return self.fraction ** self.power_exponent


def memory_full_power_w(tiers: Iterable[MemoryTech]) -> float:
    """Sum of the tiers' power streaming at full bandwidth (static + access); a tier without an
    energy or a static figure adds what it has."""
    return sum((t.tier_static_power_w or 0.0) + (t.access_power_w or 0.0) for t in tiers)


def package_power(chip: Chip, published: Chip | None = None, stack_utilization: float = 1.0) -> PackagePower | None:
    """The power envelope of a chip with a 3D stack and a TDP (None otherwise).

    ``published``: the chip whose TDP was published (the catalog chip a what-if started from,
    when the what-if kept its TDP); its memory at full bandwidth comes off the TDP to leave the
    logic's full-clock power. Default: ``chip`` itself (its TDP covers its own stack).
    ``stack_utilization``: the share of the stack's (throttled) data rate the workload uses; its
    access power scales with it. 1 (the stack streaming flat out) for inference, whose decode
    does; a training step, compute-bound, streams a few percent."""
    if not 0.0 <= stack_utilization <= 1.0:
        raise LlmhwError(f"stack utilization {stack_utilization} is not a share", field="stack_utilization",
                         accepted="0 to 1")
    st, tdp = chip.stacked, chip.tdp_w
    if st is None or not tdp:
        return None
    pub = published if published is not None and published.tdp_w == tdp else chip
    logic = tdp - memory_full_power_w(pub.memory)
    if logic <= 0:
        raise LlmhwError(f"{pub.id}'s memory at full bandwidth ({memory_full_power_w(pub.memory):.0f} W) leaves no "
                         f"power of its {tdp:.0f} W TDP for the logic", field="tdp_w")
    tier = next((t for t in chip.memory if t.id == st.id), None) or st.as_memory_tech()
    static, access = tier.tier_static_power_w or 0.0, (tier.access_power_w or 0.0) * stack_utilization
    others = memory_full_power_w(t for t in chip.memory if t is not tier)
    thermal = st.allowed_power_w(chip.die_area_m2) if chip.die_area_m2 else None
    k = st.clock_power_exponent
    limits = {"tdp": tdp - static - others}
    if thermal is not None:
        limits["thermal"] = thermal - static
    fraction, binding = 1.0, "none"
    for name, budget in limits.items():
        if budget <= 0:
            raise LlmhwError(f"{st.id}'s static power ({static:.0f} W) leaves nothing of the {name} limit for the "
                             "logic and the data", field="stacked.static_power_w")
        f = _largest_fraction(logic, access, budget, k)
        if f < fraction:
            fraction, binding = f, name
    return PackagePower(fraction, logic, static, access, others, thermal, tdp, k, binding)


def _largest_fraction(logic_w: float, access_w: float, budget_w: float, k: float) -> float:
    """The largest x in (0, 1] with logic x^k + access x <= budget (both terms grow with x)."""
    if logic_w + access_w <= budget_w:
        return 1.0
    if k == 1.0:
        return budget_w / (logic_w + access_w)
    lo, hi = 0.0, 1.0
    for _ in range(200):                 # bisection to machine precision
        mid = 0.5 * (lo + hi)
        if logic_w * mid ** k + access_w * mid <= budget_w:
            lo = mid
        else:
            hi = mid
    return lo


