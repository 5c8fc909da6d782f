"""Total cost of ownership per token. Pure functions over numpy arrays (or floats); money in USD,
power in W, time in hours where the name says so.

    CRF(r, n)      = r (1 + r)^n / ((1 + r)^n - 1)        capital recovery factor (1/n when r = 0)
    capex / hour   = capex x CRF(r, life) / 8760            an annuity: equal yearly payments that repay
                                                             the capital with interest over its life
    energy / hour  = P_avg x PUE x price / 1000             P_avg in W (IT power), price in USD/kWh
    ops / hour     = s / (1 - s) x (capex + energy)         operations are a share s of the total
    $ / Mtok       = cost / hour / (tok/s x 3600 x u) x 1e6  u = share of the life spent serving
    tokens / MW    = tok/s / (provisioned IT W x PUE) x 1e6 all-in provisioned utility power
"""

from __future__ import annotations

from typing import Any

import numpy as np

Array = Any

HOURS_PER_YEAR = 8760.0


def crf(rate: float, years: float) -> float:
    """Capital recovery factor: the share of a capital paid each year to repay it with interest
    over ``years``; 1/years without interest."""
    if rate == 0:
        return 1.0 / years
    g = (1.0 + rate) ** years
    return rate * g / (g - 1.0)


def capex_per_hour(capex_usd: Array, rate: float, years: float) -> Array:
    """USD per hour of owning ``capex_usd``: capex x CRF(rate, years) / 8760."""
    return np.asarray(capex_usd, dtype=float) * crf(rate, years) / HOURS_PER_YEAR


def energy_per_hour(avg_it_w: Array, pue: float, usd_per_kwh: float) -> Array:
    """USD per hour of electricity: P_avg (W) / 1000 x PUE x price (USD/kWh)."""
    return np.asarray(avg_it_w, dtype=float) / 1000.0 * pue * usd_per_kwh


def ops_per_hour(capex_h: Array, energy_h: Array, share: float) -> Array:
    """USD per hour of operations when they are ``share`` of the total: s / (1 - s) x (capex + energy)."""
    return share / (1.0 - share) * (np.asarray(capex_h, dtype=float) + np.asarray(energy_h, dtype=float))


def usd_per_mtok(usd_per_hour: Array, tokens_per_s: Array, utilization: float) -> Array:
    """USD per million tokens: cost per hour / (tokens/s x 3600 x u) x 1e6."""
    tok_h = np.maximum(np.asarray(tokens_per_s, dtype=float), 1e-30) * 3600.0 * utilization
    return np.asarray(usd_per_hour, dtype=float) / tok_h * 1e6


def tokens_per_mw(tokens_per_s: Array, provisioned_it_w: Array, pue: float) -> Array:
    """Tokens per second per MW of all-in provisioned utility power (IT power at its maximum x PUE),
    as InferenceMAX reports it."""
    return np.asarray(tokens_per_s, dtype=float) / (np.asarray(provisioned_it_w, dtype=float) * pue) * 1e6
