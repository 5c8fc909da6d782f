"""The paper's Tables 1 and 3 (Ma & Patterson 2026, §3) as rows of the claims table: HBM generations, and one
stack or module of each memory against its alternatives."""

from __future__ import annotations

import math

from llmhw.hardware.catalog import lookup
from llmhw.studies._claims_rule import Condition, Input, Number, Row, restates, row

HBM4_6400 = 2048 * 6.4e9 / 8      # bytes/s: 2048 pins x 6.4 Gb/s, the paper's Table 3 HBM4 stack


def table1() -> list[Row]:
    paper = {"hbm2e": 461, "hbm3": 819, "hbm3e": 1254, "hbm4": 2048}
    rows = []
    for k, v in paper.items():
        t = lookup(k)
        bw = t.bandwidth_bytes_per_s / 1e9
        rows.append(row(f"T1-{k}", f"{k.upper()} stack bandwidth (Table 1)", "Ma & Patterson 2026, Table 1 [T-1]", Number.of(v),
                        f"{v:,} GB/s", f"{bw:,.0f} GB/s", value=bw, unit="GB/s",
                        echoes=(restates(t, "bandwidth_bytes_per_s"),),
                        note="Table 1 gives the maximum pin rate; presets hold vendors' shipping parts"))
    h4 = lookup("hbm4")
    rows.append(row("T1-hbm4-cap", "HBM4 maximum stack capacity (Table 1)", "Ma & Patterson 2026, Table 1 [T-1]",
                    Number.of(64 * 2**30 / 1e9), "64 GiB",
                    f"{h4.capacity_bytes / 1e9:.0f} GB (preset: the 48 GB HBM4-6400 part of Table 3)",
                    value=h4.capacity_bytes / 1e9, unit="GB", echoes=(restates(h4, "capacity_bytes"),),
                    note="Table 1 gives the JEDEC maximum, Table 3 and the catalog a shipping part"))
    stacks = {"a100-sxm-80gb": ("A100", 5, "hbm2e"), "h100-sxm": ("H100", 5, "hbm3"), "b200": ("B100/B200", 8, "hbm3e")}
    parts, match = [], 0
    for cid, (name, n, tech) in stacks.items():
        got = math.ceil(lookup(cid).memory[0].capacity_bytes / lookup(tech).capacity_bytes - 1e-9)
        parts.append(f"{name} {got} (paper {n})")
        match += got == n
    rows.append(row("T1-stacks", "HBM stacks per NVIDIA GPU (Table 1): A100 5, H100 5, B100 8", "Ma & Patterson 2026, Table 1 [T-1]",
                    Condition("each GPU's capacity / its stack's capacity gives the paper's stack count",
                              "most of the three do"), "5, 5, 8",
                    "; ".join(parts) + " = capacity / preset stack capacity",
                    holds=match == len(stacks), partial=2 * match > len(stacks),
                    note="derived from catalog capacities; B200 sells 180 of 192 GB"))
    return rows


def _module(tech: str, bw: float | None = None) -> tuple[float, float, float]:
    """(GB/s, W, GB/s per W) of one stack or module streaming at ``bw``: its whole power, static
    plus access energy x bandwidth (the one energy definition, docs/economics.md)."""
    t = lookup(tech)
    b = bw or t.bandwidth_bytes_per_s
    w = (t.static_power_w or 0) + (t.energy_j_per_bit or 0) * b * 8
    return b / 1e9, w, b / 1e9 / w if w else float("nan")


def _power_inputs(tech: str) -> tuple[Input, Input]:
    t = lookup(tech)
    return restates(t, "energy_j_per_bit"), restates(t, "static_power_w"), restates(t, "bandwidth_bytes_per_s")


def table3() -> list[Row]:
    rows = []
    b, w, r = _module("hbm4", HBM4_6400)
    rows.append(row("T3-hbm4", "One HBM4-6400 stack: 1638 GB/s at 40 W = 41 GB/s per W", "Ma & Patterson 2026, Table 3 [T-3]",
                    Number.of(41), "41 GB/s per W", f"{b:,.0f} GB/s at {w:.0f} W = {r:.0f} GB/s per W",
                    value=r, unit="GB/s per W", echoes=(restates(lookup("hbm4"), "energy_j_per_bit"),
                                                         restates(lookup("hbm4"), "static_power_w")),
                    note="at the 6.4 Gb/s bin of the paper's comparison point"))
    b, w, r = _module("hbf")
    cap = lookup("hbf").capacity_bytes / 1e9
    rows.append(row("T3-hbf", "One HBF stack: >20.5 GB/s per W and >6.4 GB per W", "Ma & Patterson 2026, Table 3 [T-3]",
                    Number.of((20.5, math.inf)), ">20.5 GB/s/W, >6.4 GB/W",
                    f"{r:.1f} GB/s per W, {cap / w:.1f} GB per W", value=r, unit="GB/s per W",
                    echoes=_power_inputs("hbf"), note="the paper's bound: HBF draws under 80 W"))
    b, w, r = _module("ddr5")
    rows.append(row("T3-ddr5", "One DDR5-6400 64 GB module: 51 GB/s at 12 W = 4 GB/s per W", "Ma & Patterson 2026, Table 3 [T-3]",
                    Number.of(4), "4 GB/s per W",
                    f"{b:.1f} GB/s at {w:.1f} W = {r:.1f} GB/s per W ({lookup('ddr5').energy_j_per_bit * 1e12:.0f} pJ/bit)",
                    value=r, unit="GB/s per W", echoes=_power_inputs("ddr5"),
                    note="the catalog prices DRAM access energy (ReaLLM's 10 pJ/bit); the paper's 12 W is whole-module "
                         "power (29 pJ/bit), refresh and I/O included"))
    b, w, r = _module("lpddr5")
    rows.append(row("T3-lpddr5", "One LPDDR5-6400 16 GB module: 51 GB/s at 3 W = 17 GB/s per W",
                    "Ma & Patterson 2026, Table 3 [T-3, single-source]", Number.of(17), "17 GB/s per W",
                    f"{b:.1f} GB/s at {w:.1f} W = {r:.0f} GB/s per W", value=r, unit="GB/s per W",
                    echoes=_power_inputs("lpddr5"), note="whole-module power as pJ/bit"))
    ssd = lookup("nand-ssd-gen5")
    b, w, r = _module("nand-ssd-gen5")
    rows.append(row("T3-flash", "One flash card: 4096 GB, 4 GB/s read, 50 W, 10,000s of ns", "Ma & Patterson 2026, Table 3 [T-3]",
                    Number.of(4), "4 GB/s, 0.1 GB/s per W",
                    f"a PCIe Gen5 SSD: {ssd.capacity_bytes / 1e12:.1f} TB, {b:.0f} GB/s, {w:.0f} W "
                    f"({r:.2f} GB/s per W), {ssd.latency_s * 1e6:.0f} us",
                    value=b, unit="GB/s", echoes=(restates(ssd, "bandwidth_bytes_per_s"),),
                    note="a newer, faster drive than the paper's card, same latency class"))
    dram = [lookup(k) for k in ("hbm4", "ddr5", "lpddr5")]
    rows.append(row("T3-latency", "DRAM read latency 10-100 ns (HBM4, DDR5, LPDDR5)", "Ma & Patterson 2026, Table 3 [T-3]",
                    Number.of((10, 100)), "10-100 ns",
                    ", ".join(f"{t.id} {t.latency_s * 1e9:.0f} ns" for t in dram),
                    value=max(t.latency_s for t in dram) * 1e9, unit="ns",
                    echoes=tuple(restates(t, "latency_s") for t in dram), note="the slowest of the three"))
    return rows


CHECKS = (table1, table3)
