"""A scenario's economics: energy, power, cost and carbon per token from the serving model's
typed metrics and per-phase accounting (one design point or a sweep's arrays), priced with the
constants of :mod:`llmhw.economics.constants` (re-exported here: ``constants_for``, ``Constants``).

:func:`economics_of` returns the keys ``llmhw predict`` adds to its JSON; :func:`economics_detail`
adds every intermediate (constants, per-part powers, cost per chip-hour, embodied carbon per chip);
:func:`economics_arrays` is the vectorized form (``llmhw.explore.sweep`` runs the engine and this together).
docs/economics.md gives the equations and a worked example.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from llmhw.core.errors import LlmhwError
from llmhw.core.units import DAYS_PER_YEAR
from llmhw.economics import carbon, energy, tco
from llmhw.economics.constants import Constants, constants_for
from llmhw.scenario.economics import EconomicsParams
from llmhw.serving.metrics import Metrics, PhaseAccounting

# The keys Prediction.to_dict gains (docs/economics.md).
KEYS = ("energy_j_per_token", "energy_j_per_token_parts", "power_w_per_chip", "power_w_system", "power_capped",
        "cost_usd_per_mtok", "cost_usd_per_mtok_total_tokens", "cost_usd_per_mtok_parts", "co2e_g_per_mtok",
        "tokens_per_mw")


def _step(acc: PhaseAccounting, c: Constants) -> dict[str, Any]:
    """Joules of one step of a phase, by part, from the serving model's accounting."""
    for d in acc.flops:
        if d not in c.j_per_flop:
            raise LlmhwError(f"no energy per FLOP for datatype '{d}'", field="economics.energy_j_per_flop_fallback")
    return energy.step_energy(
        acc.flops, c.j_per_flop, list(acc.tier_read_bytes), list(acc.tier_write_bytes), c.read_j_per_bit,
        c.write_j_per_bit, acc.near_memory_bytes, c.near_memory_tier, c.near_memory_j_per_bit, acc.wire_bytes,
        c.link_j_per_bit)


def economics_arrays(metrics: Metrics, scenario: Any, params: EconomicsParams | None = None,
                     constants: Constants | None = None) -> dict[str, np.ndarray]:
    """Energy, power, cost and carbon for every design point of ``metrics`` (the serving model's
    output, one point or arrays). Keys as :data:`KEYS`, parts flattened (``energy_j_per_token_decode``,
    ``cost_usd_per_mtok_capex``, ``co2e_g_per_mtok_embodied`` ...), plus intermediates."""
    c = constants or constants_for(scenario, params)
    p = c.params
    n, u = c.n_chips, p.utilization
    m = metrics
    dec = _step(m.decode.accounting, c)
    pre = _step(m.prefill.accounting, c)
    # The engine prices a prompt's prefill through all pp stages (its latency); a chip computes
    # only its own stage of it, so a chip's prefill energy is the accounting over pp.
    pre = {k: v / c.pp for k, v in pre.items()}
    e_dec = sum(dec.values())
    e_pre = sum(pre.values())
    p_dec, p_pre = energy.dynamic_power(e_dec, e_pre, m.mean_output_tokens, m.requests_per_replica, m.e2e_s)
    busy = c.static_w + p_dec + p_pre
    chip_w, capped = energy.cap_power(busy, c.power_cap_w)
    out = np.asarray(m.output_tok_s, dtype=float)
    per_tok = {"prefill": energy.per_token(n * p_pre, out), "decode": energy.per_token(n * p_dec, out),
               "static": energy.per_token(n * c.static_w + 0 * out, out),
               "host": energy.per_token(n * c.host_avg_w + 0 * out, out)}
    j_tok = sum(per_tok.values())
    total_ratio = (m.mean_input_tokens + m.mean_output_tokens) / np.maximum(m.mean_output_tokens, 1e-30)

    # Over the life: serving u of the time, idle the rest; the host runs throughout.
    avg_it_w = energy.average_power(busy, c.idle_w, u) + c.host_avg_w
    j_tok_life = energy.per_token(n * avg_it_w, u * out)

    wear_usd, wear_g = _wear(m, c)
    tok_chip = np.asarray(m.output_tok_s_per_chip, dtype=float)
    cost_parts, chip_hour_usd = _cost(c, avg_it_w, wear_usd, tok_chip)
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
        "cost_usd_per_chip_hour": chip_hour_usd + z,
        "co2e_g_per_mtok": co2_op + co2_emb + z,
        "co2e_g_per_mtok_operational": co2_op + z,
        "co2e_g_per_mtok_embodied": co2_emb + z,
        "tokens_per_mw": tco.tokens_per_mw(out, n * c.provisioned_it_w, p.pue) + z,
        "memory_static_w_per_chip": sum(c.tier_static_w) + z,
        "energy_j_per_token_static_memory": energy.per_token(n * sum(c.tier_static_w) + 0 * out, out),
        "decode_step_energy_j": e_dec + z,
        "prefill_energy_j": e_pre + z,
        **{f"decode_step_energy_j_{k}": v + z for k, v in dec.items()},
        **{f"prefill_energy_j_{k}": v + z for k, v in pre.items()},
        "embodied_g_per_chip": embodied_chip + z,
        "wear_replacement_usd_per_chip": wear_usd + z,
    }


def _wear(m: Metrics, c: Constants) -> tuple[Any, Any]:
    """(USD, gCO2e) per chip of the flash replacements needed within the service life: a tier
    that wears out first is bought (life / lifetime - 1) more times."""
    life_days = c.params.service_life_years * DAYS_PER_YEAR
    wear_usd: Any = 0.0
    wear_g: Any = 0.0
    for i, tier in enumerate(m.tiers):
        lt = np.asarray(tier.lifetime_days, dtype=float)
        extra = np.where(np.isfinite(lt), np.maximum(life_days / np.maximum(lt, 1e-30) - 1.0, 0.0), 0.0)
        wear_usd = wear_usd + extra * c.tier_usd[i]
        wear_g = wear_g + extra * c.tier_g[i]
    return wear_usd, wear_g


def _cost(c: Constants, avg_it_w: Any, wear_usd: Any, tok_chip: Any) -> tuple[dict[str, Any], Any]:
    """(USD per million output tokens by part, USD per chip-hour): capital as an annuity over the
    service life (hardware) and the facility's life, energy at the average power, operations."""
    p, u = c.params, c.params.utilization
    hw_usd = c.chip_usd + c.host_usd + c.network_usd + wear_usd
    capex_h = tco.capex_per_hour(hw_usd, p.interest_rate, p.service_life_years) \
        + tco.capex_per_hour(c.facility_usd, p.interest_rate, p.facility_life_years)
    energy_h = tco.energy_per_hour(avg_it_w, p.pue, p.electricity_usd_per_kwh)
    ops_h = tco.ops_per_hour(capex_h, energy_h, p.operations_share)
    parts = {"capex": tco.usd_per_mtok(capex_h, tok_chip, u), "energy": tco.usd_per_mtok(energy_h, tok_chip, u),
             "ops": tco.usd_per_mtok(ops_h, tok_chip, u)}
    return parts, capex_h + energy_h + ops_h


def _f(x: Any) -> Any:
    a = np.asarray(x)
    if a.dtype == bool:
        return bool(a)
    v = float(a)
    return v if math.isfinite(v) else None


def economics_of(metrics: Metrics, scenario: Any, params: EconomicsParams | None = None) -> dict[str, Any]:
    """The prediction JSON's economics keys (:data:`KEYS`) for one design point."""
    a = economics_arrays(metrics, scenario, params)
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


def economics_json(metrics: Metrics, scenario: Any) -> tuple[dict[str, Any], list[str]]:
    """(keys, notes) for ``Prediction.to_dict``: never raises for a missing constant; the keys are
    then None and a note says why."""
    try:
        c = constants_for(scenario)
        a = economics_arrays(metrics, scenario, constants=c)
    except LlmhwError as exc:
        return {k: None for k in KEYS}, [f"economics unavailable: {exc}"]
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


def economics_detail(metrics: Metrics, scenario: Any, params: EconomicsParams | None = None) -> dict[str, Any]:
    """Everything: the JSON keys, every intermediate of :func:`economics_arrays` and the resolved
    constants (for reports and the worked example in docs/economics.md)."""
    c = constants_for(scenario, params)
    a = economics_arrays(metrics, scenario, constants=c)
    p = c.params
    return {
        **_json(a),
        "values": {k: _f(v) for k, v in a.items()},
        "constants": {
            "n_chips": c.n_chips, "tdp_w": c.tdp_w, "tdp_estimated": c.tdp_estimated,
            "j_per_flop": dict(c.j_per_flop), "read_j_per_bit": list(c.read_j_per_bit),
            "write_j_per_bit": list(c.write_j_per_bit), "near_memory_j_per_bit": c.near_memory_j_per_bit,
            "tier_static_w": list(c.tier_static_w), "logic_static_w_per_chip": c.logic_static_w,
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
