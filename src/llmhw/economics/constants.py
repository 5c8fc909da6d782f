"""The constants a scenario is priced with: power (TDP, J per FLOP), memory tiers (access energy
per bit read and written, static power per tier), the link, capital (chip, host, network,
facility) and embodied carbon, resolved from the chip, the system and the economics params
(docs/economics.md).

Static power is the logic's and the memory's, kept apart so that a what-if that changes the
memory changes it: the measured share of TDP covers a chip with its own memory, so the logic's
part is that share less the published chip's tiers' static power, and the scenario's tiers add
theirs (the two cancel when the memory is the chip's own)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from llmhw.core.errors import LlmhwError
from llmhw.core.units import DTYPE_TWIN
from llmhw.economics import carbon
from llmhw.hardware.memory import BITS_PER_BYTE, MemoryTech
from llmhw.hardware.package import PackagePower, package_power
from llmhw.scenario.economics import EconomicsParams, params_for


def _lookup(table: Mapping[str, float], tier: MemoryTech) -> float | None:
    """A per-technology constant: the longest key the tier id starts with, else its memory class."""
    keys = sorted((k for k in table if tier.id.lower().startswith(k)), key=len, reverse=True)
    if keys:
        return table[keys[0]]
    return table.get(tier.memory_class)


@dataclass
class Constants:
    """Everything a scenario is priced with, resolved from the chip, the system and the params."""

    n_chips: int
    pp: int
    tdp_w: float
    tdp_estimated: bool
    j_per_flop: dict[str, float]
    read_j_per_bit: tuple[float, ...]
    write_j_per_bit: tuple[float, ...]
    tier_static_w: tuple[float, ...]   # per tier of the chip: static power x devices
    near_memory_tier: int | None
    near_memory_j_per_bit: float
    link_j_per_bit: float
    link_level: str
    static_w: float                 # per chip, while serving: the logic's and every tier's
    idle_w: float                   # per chip, while idle
    logic_static_w: float           # the logic's part of static_w (at the clock it runs at)
    power_cap_w: float | None       # per chip
    host_max_w: float               # per chip
    host_avg_w: float               # per chip
    provisioned_it_w: float         # per chip: TDP (+ added tiers) + host maximum
    chip_usd: float
    host_usd: float
    network_usd: float
    facility_usd: float
    tier_usd: tuple[float, ...]     # per tier of the chip (for flash wear replacement)
    tier_g: tuple[float, ...]
    embodied_g: dict[str, float]    # per chip: logic, memory, board, host
    logic_area_mm2: float
    process_node: str
    params: EconomicsParams
    notes: list[str] = field(default_factory=list)


def _base_chip(scenario: Any) -> Any:
    base = scenario.base_hardware
    return base.chip if hasattr(base, "chip") else base


def _published_chip(scenario: Any) -> Any:
    """The chip whose TDP was published: the catalog chip a what-if started from (same id and
    TDP), else the scenario's chip itself."""
    chip, base = scenario.chip, _base_chip(scenario)
    return base if base.id == chip.id and base.tdp_w == chip.tdp_w else chip


def _tier_usd(t: MemoryTech, p: EconomicsParams) -> float:
    per_byte = t.cost_usd_per_byte
    if per_byte is None:
        per_gb = _lookup(p.memory_usd_per_gb_fallback, t)
        per_byte = 0.0 if per_gb is None else per_gb / 1e9
    return t.capacity_bytes * per_byte


def _tier_read_j(t: MemoryTech, p: EconomicsParams) -> float:
    if t.energy_j_per_bit is not None:
        return t.energy_j_per_bit
    e = _lookup(p.memory_energy_j_per_bit_fallback, t)
    if e is None:
        raise LlmhwError(f"no read energy for memory tier '{t.id}' and no fallback for its class "
                         f"'{t.memory_class}'", field="economics.memory_energy_j_per_bit_fallback")
    return e


# -- power: TDP, J per FLOP -------------------------------------------------------------------


def _tdp(chip: Any, flops: dict[str, float], p: EconomicsParams, notes: list[str]) -> tuple[float, bool]:
    """The chip's TDP, or (estimated) the power of its peak FLOP/s at the fallback J/FLOP."""
    if chip.tdp_w:
        return chip.tdp_w, False
    peaks = [v * p.energy_j_per_flop_fallback[d] for d, v in flops.items() if d in p.energy_j_per_flop_fallback]
    if not peaks:
        raise LlmhwError(f"{chip.id} has no tdp_w and no datatype with a fallback J/FLOP",
                         field="economics.energy_j_per_flop_fallback")
    tdp = max(peaks) / p.compute_power_share_of_tdp
    notes.append(f"{chip.id} has no published TDP: taken as {tdp:.0f} W, the power of its peak FLOP/s "
                 f"at the fallback J/FLOP")
    return tdp, True


def _j_per_flop(chip: Any, flops: dict[str, float], p: EconomicsParams,
                package: PackagePower | None = None) -> dict[str, float]:
    """J per FLOP by datatype: the params' value, else the compute share of the TDP over the peak,
    else the fallback; a datatype none of them gives takes its twin's (core.units.DTYPE_TWIN).
    Under a 3D stack's envelope with voltage scaled along the clock (P ~ f^3, energy per
    operation ~ V^2 ~ f^2) the logic's J/FLOP falls by f^2; at a fixed voltage it stays."""
    share = p.compute_power_share_of_tdp
    j: dict[str, float] = {}
    for d in {*flops, *p.energy_j_per_flop_fallback, *p.energy_j_per_flop}:
        if d in p.energy_j_per_flop:
            j[d] = p.energy_j_per_flop[d]
        elif chip.tdp_w and flops.get(d):
            j[d] = share * chip.tdp_w / flops[d]
        elif d in p.energy_j_per_flop_fallback:
            j[d] = p.energy_j_per_flop_fallback[d]
    for d, twin in DTYPE_TWIN.items():
        j.setdefault(d, j.get(twin, p.energy_j_per_flop_fallback.get("bf16", 0.0)))
    if package is not None and package.power_exponent != 1.0:
        v2 = package.fraction ** (package.power_exponent - 1.0)
        j = {d: e * v2 for d, e in j.items()}
    j["near_memory"] = p.near_memory_energy_j_per_flop
    return j


# -- memory tiers ----------------------------------------------------------------------------


def _tier_static_w(t: MemoryTech, read_j: float, p: EconomicsParams) -> float:
    """A tier's static power: its devices x static_power_w, else the class split of its whole
    power at full bandwidth, s / (1 - s) x access power (the rule the catalog presets follow)."""
    if t.tier_static_power_w is not None:
        return t.tier_static_power_w
    s = _lookup(p.memory_static_share, t) or 0.0
    return s / (1.0 - s) * read_j * BITS_PER_BYTE * t.bandwidth_bytes_per_s


class _TierEnergy(NamedTuple):
    read_j: tuple[float, ...]
    write_j: tuple[float, ...]
    static_w: tuple[float, ...]   # per tier of the scenario's chip
    published_static_w: float     # the tiers of the chip whose TDP was published (inside that TDP)
    swapped_full_w: float         # full-bandwidth power of the tiers a what-if added, less those it removed


def _tier_energy(scenario: Any, p: EconomicsParams) -> _TierEnergy:
    """Access energy per bit read and written and static power per tier, and the same powers
    for the chip whose TDP was published (its memory is inside that TDP)."""

    def powers(tiers: tuple[MemoryTech, ...]) -> tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]]:
        read = tuple(_tier_read_j(t, p) for t in tiers)
        static = tuple(_tier_static_w(t, r, p) for t, r in zip(tiers, read, strict=True))
        full = tuple(st + r * BITS_PER_BYTE * t.bandwidth_bytes_per_s for t, r, st in zip(tiers, read, static, strict=True))
        return read, static, full

    tiers, published = scenario.chip.memory, _published_chip(scenario).memory
    read_j, static_w, full_w = powers(tiers)
    write_j = tuple(t.write_energy_j_per_bit or r for t, r in zip(tiers, read_j, strict=True))
    _, pub_static, pub_full = powers(published)
    # A tier of the published chip (by id) stays inside its TDP whatever a what-if changes in it.
    ids, pub_ids = {t.id for t in tiers}, {t.id for t in published}
    swapped = sum(w for t, w in zip(tiers, full_w, strict=True) if t.id not in pub_ids) \
        - sum(w for t, w in zip(published, pub_full, strict=True) if t.id not in ids)
    return _TierEnergy(read_j, write_j, static_w, sum(pub_static), swapped)


def _near_memory_energy(chip: Any, read_j: tuple[float, ...], notes: list[str]) -> tuple[int | None, float]:
    """(tier index, J per bit) of the chip's near-memory compute; (None, 0) without one."""
    if chip.near_memory is None:
        return None, 0.0
    t = chip.near_memory_tier
    tier = next(i for i, x in enumerate(chip.memory) if x is t or x.id == t.id)
    if chip.near_memory.energy_j_per_bit is not None:
        return tier, chip.near_memory.energy_j_per_bit
    notes.append(f"{chip.near_memory.id} gives no energy per bit: its reads are priced as the tier's")
    return tier, read_j[tier]


# -- links -------------------------------------------------------------------------------------


def _link(scenario: Any, p: EconomicsParams) -> tuple[float, str]:
    """(J per bit, level) of the network the scenario's collectives cross: scale-up when the chips
    fit one domain (or there is nothing else), else scale-out."""
    up, out = scenario.system.scale_up_network, scenario.system.scale_out_network
    if up is not None and (scenario.n_chips <= up.domain_size or out is None):
        link, level = up.link, "scale_up"
    elif out is not None:
        link, level = out.link, "scale_out"
    else:
        link, level = None, "scale_up"
    if link is not None and link.energy_j_per_bit:
        return link.energy_j_per_bit, level
    return p.link_energy_j_per_bit_fallback[level], level


# -- power per chip ----------------------------------------------------------------------------


class _Power(NamedTuple):
    static_w: float
    idle_w: float
    logic_static_w: float
    cap_w: float | None
    host_max_w: float
    host_avg_w: float
    provisioned_w: float


def _power(p: EconomicsParams, tdp: float, tdp_estimated: bool, tiers: _TierEnergy, has_host: bool,
           package: PackagePower | None, notes: list[str]) -> _Power:
    """Per chip: static and idle power (the logic's share of TDP less the published memory's
    static power, at the clock the package allows, plus the scenario's tiers' static power), the
    power cap, the host's maximum and average, and the provisioned IT power.

    The cap: a chip with a 3D stack draws at most its power envelope (logic and memory, the
    engine throttles to it); any other chip its TDP plus the full-bandwidth power of the tiers a
    what-if added, less that of the tiers it removed (the chip's own tiers stay inside the TDP).
    No cap for an estimated TDP (estimated from the logic's FLOP/s alone, so no memory comes off
    it for the static power either)."""
    pub_static = 0.0 if tdp_estimated else tiers.published_static_w
    share = 1.0 if package is None else package.logic_power_fraction
    logic_static = p.static_power_share_of_tdp * tdp - pub_static
    logic_idle = p.idle_power_share_of_tdp * tdp - pub_static
    if min(logic_static, logic_idle) < 0:
        notes.append(f"the memory's static power ({pub_static:.0f} W) exceeds the static or idle share of the "
                     f"{tdp:.0f} W TDP: the logic's is taken as 0")
    mem_static = sum(tiers.static_w)
    host_max = p.host_power_share_of_tdp * tdp if has_host else 0.0
    peak = package.envelope_w if package is not None else tdp + tiers.swapped_full_w
    return _Power(static_w=max(logic_static, 0.0) * share + mem_static,
                  idle_w=max(logic_idle, 0.0) * share + mem_static,
                  logic_static_w=max(logic_static, 0.0) * share,
                  cap_w=None if tdp_estimated else peak,
                  host_max_w=host_max, host_avg_w=p.host_average_share * host_max,
                  provisioned_w=peak + host_max)


# -- capital -----------------------------------------------------------------------------------


def _chip_usd(scenario: Any, flops: dict[str, float], p: EconomicsParams, notes: list[str]) -> float:
    """The chip's price: its list price (adjusted by a memory what-if's change of tiers), else
    its peak FLOP/s at the params' USD per FLOP/s plus its memory."""
    chip, base = scenario.chip, _base_chip(scenario)
    mem_usd = sum(_tier_usd(t, p) for t in chip.memory)
    price_overridden = any(k == "chip" or k.startswith("chip.price_usd") or k == "system.chip"
                           for k in (scenario.overrides or {}))
    if chip.price_usd is not None:
        if not price_overridden and base.id == chip.id and base.price_usd == chip.price_usd:
            return chip.price_usd + mem_usd - sum(_tier_usd(t, p) for t in base.memory)
        return chip.price_usd
    peak = flops.get("bf16") or flops.get(DTYPE_TWIN["bf16"]) or max(flops.values())
    chip_usd = peak * p.logic_price_usd_per_flops + mem_usd
    notes.append(f"{chip.id} has no price: estimated at {chip_usd:,.0f} USD from its peak FLOP/s "
                 f"({p.logic_price_usd_per_flops * 1e12:.1f} USD per TFLOP/s) and its memory")
    return chip_usd


def _host_usd(scenario: Any, chip_usd: float, p: EconomicsParams, has_host: bool) -> float:
    """Per chip: the system's price less its chips, else a share of the chip's price (no host: 0)."""
    system, base = scenario.system, _base_chip(scenario)
    base_chip_usd = base.price_usd if base.price_usd is not None else chip_usd
    if system.price_usd is not None:
        return max(system.price_usd / system.n_chips - base_chip_usd, 0.0)
    return p.host_capex_share * chip_usd if has_host else 0.0


# -- embodied carbon ---------------------------------------------------------------------------


def _logic_area_mm2(chip: Any, p: EconomicsParams, tdp: float, notes: list[str]) -> float:
    """The logic die's area: the params', the chip's, the silicon table's, else scaled from the TDP."""
    silicon = p.chips.get(chip.id)
    if p.logic_area_mm2 is not None:
        return p.logic_area_mm2
    if chip.die_area_m2:
        return chip.die_area_m2 * 1e6
    if silicon is not None:
        return silicon.die_area_mm2
    area = p.logic_area_mm2_per_tdp_w * tdp
    notes.append(f"{chip.id}: die area unknown, taken as {area:.0f} mm^2 "
                 f"({p.logic_area_mm2_per_tdp_w} mm^2 per TDP watt)")
    return area


def _process_node(chip: Any, p: EconomicsParams) -> str:
    silicon = p.chips.get(chip.id)
    return p.process_node or (silicon.process_node if silicon is not None else p.default_process_node)


def _embodied(chip: Any, p: EconomicsParams, area: float, node: str,
              has_host: bool) -> tuple[tuple[float, ...], dict[str, float]]:
    """(grams per memory tier, grams per chip by part: logic, memory, board, host)."""
    pn = p.process_nodes[node]
    g_mm2 = carbon.logic_g_per_mm2(p.fab_grid_gco2e_per_kwh, pn.energy_kwh_per_cm2, pn.gas_gco2e_per_cm2,
                                   p.logic_materials_gco2e_per_cm2, p.logic_yield)
    tiers = chip.memory
    tier_g = tuple((t.capacity_bytes / 1e9) * (_lookup(p.memory_gco2e_per_gb, t) or 0.0) for t in tiers)
    embodied = carbon.embodied_per_chip(area, g_mm2, [t.capacity_bytes / 1e9 for t in tiers],
                                        [(_lookup(p.memory_gco2e_per_gb, t) or 0.0) for t in tiers],
                                        p.board_gco2e_per_chip, p.host_gco2e_per_chip if has_host else 0.0)
    return tier_g, embodied


def constants_for(scenario: Any, params: EconomicsParams | None = None) -> Constants:
    """Resolve every constant of ``scenario`` (a checked Scenario)."""
    p = params_for(scenario, params)
    s = scenario
    chip, system = s.chip, s.system
    notes: list[str] = []
    flops = chip.flops(s.compute_unit)
    has_host = system.scale_up_network is not None or system.scale_out_network is not None
    tdp, tdp_est = _tdp(chip, flops, p, notes)
    tiers = _tier_energy(s, p)
    nm_tier, nm_j = _near_memory_energy(chip, tiers.read_j, notes)
    link_j, level = _link(s, p)
    package = package_power(chip, _published_chip(s))
    power = _power(p, tdp, tdp_est, tiers, has_host, package, notes)
    chip_usd = _chip_usd(s, flops, p, notes)
    host_usd = _host_usd(s, chip_usd, p, has_host)
    network_usd = p.network_capex_share * (chip_usd + host_usd) if system.scale_out_network is not None else 0.0
    area = _logic_area_mm2(chip, p, tdp, notes)
    node = _process_node(chip, p)
    tier_g, embodied = _embodied(chip, p, area, node, has_host)
    return Constants(
        n_chips=s.n_chips, pp=s.parallelism.pp, tdp_w=tdp, tdp_estimated=tdp_est,
        j_per_flop=_j_per_flop(chip, flops, p, package), read_j_per_bit=tiers.read_j, write_j_per_bit=tiers.write_j,
        tier_static_w=tiers.static_w, near_memory_tier=nm_tier, near_memory_j_per_bit=nm_j, link_j_per_bit=link_j,
        link_level=level, static_w=power.static_w, idle_w=power.idle_w, logic_static_w=power.logic_static_w,
        power_cap_w=power.cap_w, host_max_w=power.host_max_w, host_avg_w=power.host_avg_w,
        provisioned_it_w=power.provisioned_w, chip_usd=chip_usd, host_usd=host_usd, network_usd=network_usd,
        facility_usd=p.facility_usd_per_w * power.provisioned_w, tier_usd=tuple(_tier_usd(t, p) for t in chip.memory),
        tier_g=tier_g, embodied_g=embodied, logic_area_mm2=area, process_node=node, params=p, notes=notes)
