"""Carbon per token: operational (the grid's) and embodied (manufacturing's). Pure functions over
numpy arrays (or floats); grams CO2e, joules, kWh where the name says so.

    operational g / Mtok = E_tok (J) / 3.6e6 x PUE x grid (g/kWh) x 1e6
    logic g / mm2        = (fab grid x EPA + GPA + MPA) / yield / 100          ACT, per cm2 / 100
    embodied g / chip    = area x g/mm2 + sum_i GB_i x g/GB_i + board + host share
    embodied g / Mtok    = n_chips x embodied g / chip / (life_s x u x tok/s) x 1e6
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from llmhw.core.units import DAYS_PER_YEAR, SECONDS_PER_DAY

Array = Any

J_PER_KWH = 3.6e6
SECONDS_PER_YEAR = DAYS_PER_YEAR * SECONDS_PER_DAY


def operational_g_per_mtok(j_per_token: Array, pue: float, grid_g_per_kwh: float) -> Array:
    """gCO2e per million tokens from electricity: J per token / 3.6e6 x PUE x grid x 1e6."""
    return np.asarray(j_per_token, dtype=float) / J_PER_KWH * pue * grid_g_per_kwh * 1e6


def logic_g_per_mm2(fab_grid_g_per_kwh: float, energy_kwh_per_cm2: float, gas_g_per_cm2: float,
                    materials_g_per_cm2: float, yield_: float) -> float:
    """ACT's logic model: (fab grid x fab energy per area + gases + materials) / yield, per mm2."""
    return (fab_grid_g_per_kwh * energy_kwh_per_cm2 + gas_g_per_cm2 + materials_g_per_cm2) / yield_ / 100.0


def embodied_per_chip(area_mm2: float, g_per_mm2: float, memory_gb: Sequence[float],
                      memory_g_per_gb: Sequence[float], board_g: float, host_g: float) -> dict[str, float]:
    """gCO2e of making one chip and its share of the system, by part: logic, memory, board, host."""
    mem = sum(gb * g for gb, g in zip(memory_gb, memory_g_per_gb, strict=True))
    return {"logic": area_mm2 * g_per_mm2, "memory": mem, "board": board_g, "host": host_g}


def embodied_g_per_mtok(embodied_g_per_chip: Array, n_chips: int, life_years: float, utilization: float,
                        tokens_per_s: Array) -> Array:
    """gCO2e per million tokens from manufacturing, amortized over the tokens the system serves in
    its life: n x embodied / (life x u x tok/s) x 1e6."""
    tokens = life_years * SECONDS_PER_YEAR * utilization * np.maximum(np.asarray(tokens_per_s, dtype=float), 1e-30)
    return n_chips * np.asarray(embodied_g_per_chip, dtype=float) / tokens * 1e6
