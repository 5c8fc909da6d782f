"""A scenario's economics: the constants it is priced with, then energy, power, cost and carbon
per token from the engine's values (a prediction's floats or a sweep's arrays).

:func:`economics_of` returns the keys ``llmhw predict`` adds to its JSON; :func:`economics_detail`
adds every intermediate (constants, per-part powers, cost per chip-hour, embodied carbon per chip);
:func:`economics_arrays` is the vectorized form (``llmhw.explore.sweep`` runs the engine and this together).
docs/economics.md gives the equations and a worked example.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from llmhw.core.errors import LlmhwError
from llmhw.core.units import DTYPE_TWIN
from llmhw.economics import carbon, energy, tco
from llmhw.hardware.memory import MemoryTech
from llmhw.scenario.economics import EconomicsParams, params_for

# The keys Prediction.to_dict gains (docs/economics.md).
KEYS = ("energy_j_per_token", "energy_j_per_token_parts", "power_w_per_chip", "power_w_system", "power_capped",
        "cost_usd_per_mtok", "cost_usd_per_mtok_total_tokens", "cost_usd_per_mtok_parts", "co2e_g_per_mtok",
        "tokens_per_mw")


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
    near_memory_tier: int | None
    near_memory_j_per_bit: float
    link_j_per_bit: float
    link_level: str
    static_w: float                 # per chip, while serving
    idle_w: float                   # per chip, while idle
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


def constants_for(scenario: Any, params: EconomicsParams | None = None) -> Constants:
    """Resolve every constant of ``scenario`` (a checked Scenario)."""
    p = params_for(scenario, params)
    s = scenario
    chip, system = s.chip, s.system
    notes: list[str] = []
    flops = chip.flops(s.compute_unit)
    has_host = system.scale_up_network is not None or system.scale_out_network is not None

    # -- power: TDP, J per FLOP ------------------------------------------------------------
    share = p.compute_power_share_of_tdp
    if chip.tdp_w:
        tdp, tdp_est = chip.tdp_w, False
    else:
        peaks = [v * p.energy_j_per_flop_fallback[d] for d, v in flops.items() if d in p.energy_j_per_flop_fallback]
        if not peaks:
            raise LlmhwError(f"{chip.id} has no tdp_w and no datatype with a fallback J/FLOP",
                             field="economics.energy_j_per_flop_fallback")
        tdp, tdp_est = max(peaks) / share, True
        notes.append(f"{chip.id} has no published TDP: taken as {tdp:.0f} W, the power of its peak FLOP/s "
                     f"at the fallback J/FLOP")
    j_per_flop: dict[str, float] = {}
    for d in {*flops, *p.energy_j_per_flop_fallback, *p.energy_j_per_flop}:
        if d in p.energy_j_per_flop:
            j_per_flop[d] = p.energy_j_per_flop[d]
        elif chip.tdp_w and flops.get(d):
            j_per_flop[d] = share * chip.tdp_w / flops[d]
        elif d in p.energy_j_per_flop_fallback:
            j_per_flop[d] = p.energy_j_per_flop_fallback[d]
    for d, twin in DTYPE_TWIN.items():
        j_per_flop.setdefault(d, j_per_flop.get(twin, p.energy_j_per_flop_fallback.get("bf16", 0.0)))
    j_per_flop["near_memory"] = p.near_memory_energy_j_per_flop

    # -- memory tiers ------------------------------------------------------------------------
    tiers = chip.memory
    read_j = tuple(_tier_read_j(t, p) for t in tiers)
    write_j = tuple(t.write_energy_j_per_bit or r for t, r in zip(tiers, read_j, strict=True))
    base = _base_chip(s)
    base_ids = {t.id for t in base.memory} if base.id == chip.id else {t.id for t in tiers}
    added = [i for i, t in enumerate(tiers) if t.id not in base_ids]
    added_full_w = sum(tiers[i].bandwidth_bytes_per_s * 8 * read_j[i] for i in added)
    added_static_w = sum(tiers[i].bandwidth_bytes_per_s * 8 * read_j[i] * p.memory_static_share.get(
        tiers[i].memory_class, 0.0) for i in added)

    nm_tier, nm_j = None, 0.0
    if chip.near_memory is not None:
        t = chip.near_memory_tier
        nm_tier = next(i for i, x in enumerate(tiers) if x is t or x.id == t.id)
        if chip.near_memory.energy_j_per_bit is not None:
            nm_j = chip.near_memory.energy_j_per_bit
        else:
            nm_j = read_j[nm_tier]
            notes.append(f"{chip.near_memory.id} gives no energy per bit: its reads are priced as the tier's")

    # -- links -------------------------------------------------------------------------------
    up, out = system.scale_up_network, system.scale_out_network
    if up is not None and (s.n_chips <= up.domain_size or out is None):
        link, level = up.link, "scale_up"
    elif out is not None:
        link, level = out.link, "scale_out"
    else:
        link, level = None, "scale_up"
    link_j = link.energy_j_per_bit if link is not None and link.energy_j_per_bit else \
        p.link_energy_j_per_bit_fallback[level]

    # -- power per chip ----------------------------------------------------------------------
    static_w = p.static_power_share_of_tdp * tdp + added_static_w
    idle_w = p.idle_power_share_of_tdp * tdp + added_static_w
    cap = None if tdp_est else tdp + added_full_w
    host_max = p.host_power_share_of_tdp * tdp if has_host else 0.0
    host_avg = p.host_average_share * host_max
    provisioned = tdp + added_full_w + host_max

    # -- capital ------------------------------------------------------------------------------
    tier_usd = tuple(_tier_usd(t, p) for t in tiers)
    mem_usd = sum(tier_usd)
    price_overridden = any(k == "chip" or k.startswith("chip.price_usd") or k == "system.chip"
                           for k in (s.overrides or {}))
    if chip.price_usd is not None:
        if not price_overridden and base.id == chip.id and base.price_usd == chip.price_usd:
            chip_usd = chip.price_usd + mem_usd - sum(_tier_usd(t, p) for t in base.memory)
        else:
            chip_usd = chip.price_usd
    else:
        peak = flops.get("bf16") or flops.get(DTYPE_TWIN["bf16"]) or max(flops.values())
        chip_usd = peak * p.logic_price_usd_per_flops + mem_usd
        notes.append(f"{chip.id} has no price: estimated at {chip_usd:,.0f} USD from its peak FLOP/s "
                     f"({p.logic_price_usd_per_flops * 1e12:.1f} USD per TFLOP/s) and its memory")
    base_chip_usd = base.price_usd if base.price_usd is not None else chip_usd
    if system.price_usd is not None:
        host_usd = max(system.price_usd / system.n_chips - base_chip_usd, 0.0)
    elif has_host:
        host_usd = p.host_capex_share * chip_usd
    else:
        host_usd = 0.0
    network_usd = p.network_capex_share * (chip_usd + host_usd) if out is not None else 0.0
    facility_usd = p.facility_usd_per_w * provisioned

    # -- embodied carbon -------------------------------------------------------------------------
    silicon = p.chips.get(chip.id)
    if p.logic_area_mm2 is not None:
        area = p.logic_area_mm2
    elif chip.die_area_m2:
        area = chip.die_area_m2 * 1e6
    elif silicon is not None:
        area = silicon.die_area_mm2
    else:
        area = p.logic_area_mm2_per_tdp_w * tdp
        notes.append(f"{chip.id}: die area unknown, taken as {area:.0f} mm^2 "
                     f"({p.logic_area_mm2_per_tdp_w} mm^2 per TDP watt)")
    node = p.process_node or (silicon.process_node if silicon is not None else p.default_process_node)
    pn = p.process_nodes[node]
    g_mm2 = carbon.logic_g_per_mm2(p.fab_grid_gco2e_per_kwh, pn.energy_kwh_per_cm2, pn.gas_gco2e_per_cm2,
                                   p.logic_materials_gco2e_per_cm2, p.logic_yield)
    tier_g = tuple((t.capacity_bytes / 1e9) * (_lookup(p.memory_gco2e_per_gb, t) or 0.0) for t in tiers)
    embodied = carbon.embodied_per_chip(area, g_mm2, [t.capacity_bytes / 1e9 for t in tiers],
                                        [(_lookup(p.memory_gco2e_per_gb, t) or 0.0) for t in tiers],
                                        p.board_gco2e_per_chip, p.host_gco2e_per_chip if has_host else 0.0)

    return Constants(
        n_chips=s.n_chips, pp=s.parallelism.pp, tdp_w=tdp, tdp_estimated=tdp_est, j_per_flop=j_per_flop,
        read_j_per_bit=read_j, write_j_per_bit=write_j, near_memory_tier=nm_tier, near_memory_j_per_bit=nm_j,
        link_j_per_bit=link_j, link_level=level, static_w=static_w, idle_w=idle_w, power_cap_w=cap, host_max_w=host_max,
        host_avg_w=host_avg, provisioned_it_w=provisioned, chip_usd=chip_usd, host_usd=host_usd,
        network_usd=network_usd, facility_usd=facility_usd, tier_usd=tier_usd, tier_g=tier_g,
        embodied_g=embodied, logic_area_mm2=area, process_node=node, params=p, notes=notes)


def _step(values: Mapping[str, Any], ph: str, c: Constants) -> dict[str, Any]:
    prefix = f"{ph}_flops_"
    flops = {k[len(prefix):]: values[k] for k in values if k.startswith(prefix)}
    for d in flops:
        if d not in c.j_per_flop:
            raise LlmhwError(f"no energy per FLOP for datatype '{d}'", field="economics.energy_j_per_flop_fallback")
    n = len(c.read_j_per_bit)
    return energy.step_energy(
        flops, c.j_per_flop, [values[f"{ph}_tier{i}_read_bytes"] for i in range(n)],
        [values[f"{ph}_tier{i}_write_bytes"] for i in range(n)], c.read_j_per_bit, c.write_j_per_bit,
        values[f"{ph}_near_memory_bytes"], c.near_memory_tier, c.near_memory_j_per_bit,
        values[f"{ph}_comm_wire_bytes"], c.link_j_per_bit)


def economics_arrays(values: Mapping[str, Any], scenario: Any, params: EconomicsParams | None = None,
                     constants: Constants | None = None) -> dict[str, np.ndarray]:
    """Energy, power, cost and carbon for every design point of ``values`` (the engine's output,
    floats or arrays). Keys as :data:`KEYS`, parts flattened (``energy_j_per_token_decode``,
    ``cost_usd_per_mtok_capex``, ``co2e_g_per_mtok_embodied`` ...), plus intermediates."""
    c = constants or constants_for(scenario, params)
    p = c.params
    n, u = c.n_chips, p.utilization
    f = {k: np.asarray(v, dtype=float) for k, v in values.items() if k in ("e2e_s", "output_tok_s",
         "output_tok_s_per_chip", "requests_per_replica", "mean_output_tokens", "mean_input_tokens")}
    dec = _step(values, "decode", c)
    pre = _step(values, "prefill", c)
    # The engine prices a prompt's prefill through all pp stages (its latency); a chip computes
    # only its own stage of it, so a chip's prefill energy is the accounting over pp.
    pre = {k: v / c.pp for k, v in pre.items()}
    e_dec = sum(dec.values())
    e_pre = sum(pre.values())
    p_dec, p_pre = energy.dynamic_power(e_dec, e_pre, f["mean_output_tokens"], f["requests_per_replica"],
                                        f["e2e_s"])
    busy = c.static_w + p_dec + p_pre
    chip_w, capped = energy.cap_power(busy, c.power_cap_w)
    out = f["output_tok_s"]
    per_tok = {"prefill": energy.per_token(n * p_pre, out), "decode": energy.per_token(n * p_dec, out),
               "static": energy.per_token(n * c.static_w + 0 * out, out),
               "host": energy.per_token(n * c.host_avg_w + 0 * out, out)}
    j_tok = sum(per_tok.values())
    total_ratio = (f["mean_input_tokens"] + f["mean_output_tokens"]) / np.maximum(f["mean_output_tokens"], 1e-30)

    # Over the life: serving u of the time, idle the rest; the host runs throughout.
    avg_it_w = energy.average_power(busy, c.idle_w, u) + c.host_avg_w
    j_tok_life = energy.per_token(n * avg_it_w, u * out)

    # Flash that wears out before the service life is replaced: (life / lifetime - 1) more tiers.
    life_days = p.service_life_years * 365.25
    wear_usd: Any = 0.0
    wear_g: Any = 0.0
    for i in range(len(c.tier_usd)):
        key = f"tier{i}_lifetime_days"
        if key in values:
            lt = np.asarray(values[key], dtype=float)
            extra = np.where(np.isfinite(lt), np.maximum(life_days / np.maximum(lt, 1e-30) - 1.0, 0.0), 0.0)
            wear_usd = wear_usd + extra * c.tier_usd[i]
            wear_g = wear_g + extra * c.tier_g[i]

    hw_usd = c.chip_usd + c.host_usd + c.network_usd + wear_usd
    capex_h = tco.capex_per_hour(hw_usd, p.interest_rate, p.service_life_years) \
        + tco.capex_per_hour(c.facility_usd, p.interest_rate, p.facility_life_years)
    energy_h = tco.energy_per_hour(avg_it_w, p.pue, p.electricity_usd_per_kwh)
    ops_h = tco.ops_per_hour(capex_h, energy_h, p.operations_share)
    tok_chip = f["output_tok_s_per_chip"]
    cost_parts = {"capex": tco.usd_per_mtok(capex_h, tok_chip, u), "energy": tco.usd_per_mtok(energy_h, tok_chip, u),
                  "ops": tco.usd_per_mtok(ops_h, tok_chip, u)}
    cost = sum(cost_parts.values())

    embodied_chip = sum(c.embodied_g.values()) + wear_g
    co2_op = carbon.operational_g_per_mtok(j_tok_life, p.pue, p.grid)
    co2_emb = carbon.embodied_g_per_mtok(embodied_chip, n, p.service_life_years, u, out)

    z = np.zeros(np.shape(out))
    return {
        "energy_j_per_token": j_tok + z,
        **{f"energy_j_per_token_{k}": v + z for k, v in per_tok.items()},
        "energy_j_per_total_token": j_tok / total_ratio,
        "energy_j_per_token_at_utilization": j_tok_life + z,
        "power_w_per_chip": chip_w + z,
        "power_w_per_chip_model": busy + z,
        "power_w_system": n * (chip_w + c.host_avg_w) + z,
        "power_capped": capped | (z > 0),
        "cost_usd_per_mtok": cost + z,
        **{f"cost_usd_per_mtok_{k}": v + z for k, v in cost_parts.items()},
        "cost_usd_per_mtok_total_tokens": cost / total_ratio + z,
        "cost_usd_per_chip_hour": capex_h + energy_h + ops_h + z,
        "co2e_g_per_mtok": co2_op + co2_emb + z,
        "co2e_g_per_mtok_operational": co2_op + z,
        "co2e_g_per_mtok_embodied": co2_emb + z,
        "tokens_per_mw": tco.tokens_per_mw(out, n * c.provisioned_it_w, p.pue) + z,
        "decode_step_energy_j": e_dec + z,
        "prefill_energy_j": e_pre + z,
        **{f"decode_step_energy_j_{k}": v + z for k, v in dec.items()},
        **{f"prefill_energy_j_{k}": v + z for k, v in pre.items()},
        "embodied_g_per_chip": embodied_chip + z,
        "wear_replacement_usd_per_chip": wear_usd + z,
    }


def _f(x: Any) -> Any:
    a = np.asarray(x)
    if a.dtype == bool:
        return bool(a)
    v = float(a)
    return v if math.isfinite(v) else None


def economics_of(values: Mapping[str, Any], scenario: Any, params: EconomicsParams | None = None) -> dict[str, Any]:
    """The prediction JSON's economics keys (:data:`KEYS`) for one design point."""
    a = economics_arrays(values, scenario, params)
    return _json(a)


def _json(a: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "energy_j_per_token": _f(a["energy_j_per_token"]),
        "energy_j_per_token_parts": {k: _f(a[f"energy_j_per_token_{k}"]) for k in ("prefill", "decode", "static",
                                                                                   "host")},
        "power_w_per_chip": _f(a["power_w_per_chip"]),
        "power_w_system": _f(a["power_w_system"]),
        "power_capped": _f(a["power_capped"]),
        "cost_usd_per_mtok": _f(a["cost_usd_per_mtok"]),
        "cost_usd_per_mtok_total_tokens": _f(a["cost_usd_per_mtok_total_tokens"]),
        "cost_usd_per_mtok_parts": {k: _f(a[f"cost_usd_per_mtok_{k}"]) for k in ("capex", "energy", "ops")},
        "co2e_g_per_mtok": {"operational": _f(a["co2e_g_per_mtok_operational"]),
                            "embodied": _f(a["co2e_g_per_mtok_embodied"]), "total": _f(a["co2e_g_per_mtok"])},
        "tokens_per_mw": _f(a["tokens_per_mw"]),
    }


def economics_json(values: Mapping[str, Any], scenario: Any) -> tuple[dict[str, Any], list[str]]:
    """(keys, notes) for ``Prediction.to_dict``: never raises for a missing constant or value; the
    keys are then None and a note says why."""
    try:
        c = constants_for(scenario)
        a = economics_arrays(values, scenario, constants=c)
    except (LlmhwError, KeyError, ValueError, ZeroDivisionError) as exc:
        missing = f"missing engine value {exc}" if isinstance(exc, KeyError) else str(exc)
        return {k: None for k in KEYS}, [f"economics unavailable: {missing}"]
    notes = list(c.notes)
    if bool(np.asarray(a["power_capped"])):
        notes.append(f"the model's {float(a['power_w_per_chip_model']):.0f} W per chip exceeds the "
                     f"{c.power_cap_w:.0f} W TDP: power is capped there, and throughput and cost per token are "
                     f"optimistic by about {float(a['power_w_per_chip_model']) / c.power_cap_w:.2f}x")
    wear = float(np.asarray(a["wear_replacement_usd_per_chip"]))
    if wear > 0:
        notes.append(f"flash wears out within the {c.params.service_life_years:g}-year service life: "
                     f"{wear:,.0f} USD per chip of replacements are in the capex")
    return _json(a), notes


def economics_detail(values: Mapping[str, Any], scenario: Any, params: EconomicsParams | None = None) -> dict[str, Any]:
    """Everything: the JSON keys, every intermediate of :func:`economics_arrays` and the resolved
    constants (for reports and the worked example in docs/economics.md)."""
    c = constants_for(scenario, params)
    a = economics_arrays(values, scenario, constants=c)
    p = c.params
    return {
        **_json(a),
        "values": {k: _f(v) for k, v in a.items()},
        "constants": {
            "n_chips": c.n_chips, "tdp_w": c.tdp_w, "tdp_estimated": c.tdp_estimated,
            "j_per_flop": dict(c.j_per_flop), "read_j_per_bit": list(c.read_j_per_bit),
            "write_j_per_bit": list(c.write_j_per_bit), "near_memory_j_per_bit": c.near_memory_j_per_bit,
            "link_j_per_bit": c.link_j_per_bit, "link_level": c.link_level, "static_w_per_chip": c.static_w, "idle_w_per_chip": c.idle_w,
            "power_cap_w": c.power_cap_w, "host_max_w_per_chip": c.host_max_w, "host_avg_w_per_chip": c.host_avg_w,
            "provisioned_it_w_per_chip": c.provisioned_it_w, "chip_usd": c.chip_usd, "host_usd": c.host_usd,
            "network_usd": c.network_usd, "facility_usd": c.facility_usd, "embodied_g_per_chip": dict(c.embodied_g),
            "logic_area_mm2": c.logic_area_mm2, "process_node": c.process_node,
            "electricity_usd_per_kwh": p.electricity_usd_per_kwh, "pue": p.pue, "utilization": p.utilization,
            "service_life_years": p.service_life_years, "interest_rate": p.interest_rate,
            "grid_gco2e_per_kwh": p.grid, "grid_source": p.grid_source,
        },
        "notes": list(c.notes),
    }
