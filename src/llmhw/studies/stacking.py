"""RQ3b: 3D memory-on-logic stacks vs HBM on the shoreline.

Ma & Patterson (2026, section 4.5): hybrid bonds and TSVs give a memory stack on the compute die an
interface over its whole footprint instead of HBM's 2D shoreline, so more bandwidth at 2-3x less
energy per bit; the catch is heat, which they would meet with a lower clock and voltage, arguing
decode's low arithmetic intensity tolerates it (their question Q8).

The study covers 400 mm2 of an H100/H200-class die (814 mm2, 700 W, the GH100) with the catalog's
DRAM stacks (docs/stacking.md): ``3d-dram-soic-gen1`` (9 um pitch, 96 GB over 400 mm2, 19.5 TB/s,
2.34 pJ/bit) and ``3d-dram-hybrid-bond-gen2`` (3 um, 192 GB, 55.6 TB/s, 1.0 pJ/bit), both capped at
0.43 W/mm2 of logic (the clock halves at fixed voltage), against the H200's six HBM3E stacks
(141 GB, 4.8 TB/s, 3.9 pJ/bit). Every design has the same die and the same 700 W TDP (iso-power
for the logic): the stack's thermal cap lowers the clock instead.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.figure import Figure as MplFigure

import llmhw
from llmhw.api import family_params
from llmhw.hardware.catalog import lookup, memory_presets, stacked_from_dict, stacking_presets
from llmhw.studies.base import Figure, Study, Table

DIE_M2 = 814e-6                  # GH100 (H100, H200)
TDP_W = 700.0
STACK_M2 = 400e-6                # the stack covers about half of the die
PITCHES_M = np.logspace(np.log10(1e-6), np.log10(40e-6), 50)
FRACTIONS = np.linspace(0.2, 1.0, 81)
BATCHES = np.array([1, 2, 4, 8, 16, 32, 64, 128, 256])
MODEL = "llama-3.1-70b"

# (label, stack preset id or None, capacity per layer over STACK_M2, clock: "fixed-V" or "DVFS")
DESIGNS: tuple[tuple[str, str | None, float, str], ...] = (
    ("H200: 6 HBM3E on the shoreline (141 GB, 4.8 TB/s)", None, 0.0, ""),
    ("3D gen-1, 9 um SoIC (96 GB, 19.5 TB/s), clock at fixed V", "3d-dram-soic-gen1", 12e9, "fixed-V"),
    ("3D gen-2, 3 um hybrid bond (192 GB, 55.6 TB/s), clock at fixed V", "3d-dram-hybrid-bond-gen2", 16e9,
     "fixed-V"),
    ("3D gen-2, 3 um hybrid bond, clock and voltage scaled (DVFS)", "3d-dram-hybrid-bond-gen2", 16e9, "DVFS"),
)
SHORT = ("H200 HBM3E", "3D gen-1", "3D gen-2", "3D gen-2 DVFS")
COLORS = ("0.3", "C0", "C3", "C1")


def stack(preset: str, capacity_per_layer: float) -> Any:
    """A catalog stack spread over STACK_M2 of the die, with that capacity per layer."""
    return stacked_from_dict({"tech": preset, "stack_area_m2": STACK_M2, "capacity_per_layer_bytes": capacity_per_layer})


def clock_fraction(preset: str, exponent: float = 1.0) -> float:
    """Sustained clock of the GH100 die under the stack: (cap x area / TDP)^(1/exponent)."""
    return stacking_presets()[preset].thermal_clock_fraction(TDP_W, DIE_M2, power_exponent=exponent)


def overrides(i: int) -> dict[str, Any]:
    _, preset, per_layer, clock = DESIGNS[i]
    if preset is None:
        return {}
    spec: dict[str, Any] = {"tech": preset, "stack_area_m2": STACK_M2, "capacity_per_layer_bytes": per_layer}
    if clock == "DVFS":
        # The engine scales the clock at fixed voltage (power ~ f); with V ~ f (power ~ f^3) the same
        # cap allows (allowed / TDP)^(1/3). Express it as the power density that gives that
        # fraction at fixed voltage.
        spec["max_logic_power_density_w_per_m2"] = clock_fraction(preset, 3.0) * TDP_W / DIE_M2
    return {"chip.die_area_m2": DIE_M2, "chip.stacked": spec, "chip.memory": []}


def scenario(i: int, engine: str = "default", batch: int = 1) -> llmhw.Scenario:
    return llmhw.Scenario.from_dict({
        "model": MODEL, "hardware": "h200", "n_chips": 1, "engine": engine,
        "precision": {"weights": "fp8", "kv_cache": "fp8"},
        "workload": {"input_tokens": 2048, "output_tokens": 512, "batch": batch}, "overrides": overrides(i)})


def _sweep(s: llmhw.Scenario, batch: Any) -> dict[str, np.ndarray]:
    from llmhw.api import sweep_economics as econ_sweep
    with np.errstate(all="ignore"):
        return econ_sweep(s, batch=batch)


def ridge_batch(bandwidth: Any, clock: Any, peak: float, weight_bytes: float = 1.0, eff_max: float = 1.0,
                m_half: float = 0.0, mem_eff: float = 1.0, floor: float = 0.0) -> Any:
    """Largest decode batch B that stays memory-bound when every weight is read once per step:
    2 B / (clock x peak x eff(B)) <= weight_bytes / (bandwidth x mem_eff), per parameter, with the
    engine's GEMM efficiency eff(B) = eff_max x max(B / (B + m_half), floor) (1 on the ideal roofline).
    With X = clock x peak x eff_max x weight_bytes / (2 x bandwidth x mem_eff) the condition is
    B <= X x floor or B + m_half <= X, so B* = max(X x floor, X - m_half)."""
    x = np.asarray(clock) * peak * eff_max * weight_bytes / (2.0 * np.asarray(bandwidth) * mem_eff)
    return np.maximum(x * floor, x - m_half)


# -- tables ----------------------------------------------------------------------------------


def _tech_table() -> Table:
    rows = []
    mp = memory_presets()
    for tid, label in (("hbm3", "HBM3 stack (H100: 5)"), ("hbm3e", "HBM3E stack (H200: 6)"),
                       ("hbm4", "HBM4 stack (JEDEC, 2048 pins)")):
        t = mp[tid]
        rows.append({"memory": label, "where": "2.5D, shoreline", "bandwidth_tb_s": round(t.bandwidth_bytes_per_s / 1e12, 2),
                     "capacity_gb": round(t.capacity_bytes / 1e9), "read_pj_per_bit": round(t.energy_j_per_bit * 1e12, 2),
                     "bond_pitch_um": None, "connections_k": None, "footprint_mm2": None,
                     "full_bandwidth_read_power_w": round(t.bandwidth_bytes_per_s * 8 * t.energy_j_per_bit)})
    for pid, s in stacking_presets().items():
        rows.append({"memory": f"{pid} (preset, {s.stack_area_m2 * 1e6:.0f} mm2)", "where": "3D, on the die",
                     "bandwidth_tb_s": round(s.bandwidth_bytes_per_s / 1e12, 2),
                     "capacity_gb": round(s.capacity_bytes / 1e9, 3), "read_pj_per_bit": round(s.energy_j_per_bit * 1e12, 2),
                     "bond_pitch_um": round(s.connection_pitch_m * 1e6, 1), "connections_k": round(s.connections / 1e3),
                     "footprint_mm2": round(s.stack_area_m2 * 1e6),
                     "full_bandwidth_read_power_w": round(s.bandwidth_bytes_per_s * 8 * s.energy_j_per_bit)})
    for _, preset, per_layer, _clock in DESIGNS[1:3]:
        s = stack(preset, per_layer)
        rows.append({"memory": f"{preset} over 400 mm2 (this study)", "where": "3D, on the die",
                     "bandwidth_tb_s": round(s.bandwidth_bytes_per_s / 1e12, 1), "capacity_gb": round(s.capacity_bytes / 1e9),
                     "read_pj_per_bit": round(s.energy_j_per_bit * 1e12, 2),
                     "bond_pitch_um": round(s.connection_pitch_m * 1e6, 1), "connections_k": round(s.connections / 1e3),
                     "footprint_mm2": round(s.stack_area_m2 * 1e6),
                     "full_bandwidth_read_power_w": round(s.bandwidth_bytes_per_s * 8 * s.energy_j_per_bit)})
    note = ("3D bandwidth = footprint / pitch^2 x data share of the pads x rate per pad (docs/stacking.md). "
            "full_bandwidth_read_power = bandwidth x 8 x pJ/bit: what the memory draws streaming at its peak, "
            "outside the logic's thermal budget. HBM figures are per stack (catalog presets).")
    return Table("stacking-technologies", "Memory technologies: bandwidth, capacity, energy per bit", rows, note)


def _thermal_table() -> tuple[Table, dict[str, Any]]:
    p = stacking_presets()["3d-dram-soic-gen1"]
    prov = p.provenance["max_logic_power_density_w_per_m2"]
    h200 = lookup("h200")
    peak = h200.peak_flops["fp8"]
    fp = family_params("nvidia-gpu")
    rows = []
    out: dict[str, Any] = {}
    for i, (label, preset, per_layer, clock) in enumerate(DESIGNS):
        if preset is None:
            bw, f = h200.memory[0].bandwidth_bytes_per_s, 1.0
        else:
            bw = stack(preset, per_layer).bandwidth_bytes_per_s
            f = clock_fraction(preset, 3.0 if clock == "DVFS" else 1.0)
        ideal = ridge_batch(bw, f, peak)
        fitted = float(ridge_batch(bw, f, peak, eff_max=fp.compute_eff_max, m_half=fp.compute_m_half,
                                   mem_eff=fp.memory_eff_max, floor=fp.compute_eff_floor))
        ideal = float(ideal)
        out[SHORT[i]] = {"bw": bw, "clock": f, "ideal": ideal, "fitted": fitted}
        rows.append({"design": label, "memory_tb_s": round(bw / 1e12, 1), "clock_fraction": round(f, 2),
                     "fp8_peak_tflop_s": round(f * peak / 1e12),
                     "logic_power_allowed_w": round(min(TDP_W, (p.max_logic_power_density_w_per_m2 * DIE_M2)))
                     if preset else TDP_W,
                     "memory_bound_up_to_batch_roofline": nb(ideal),
                     "memory_bound_up_to_batch_h100_kernels": nb(fitted)})
    note = ("Decode of FP8 weights (1 byte per parameter, 2 FLOP per parameter per token): memory-bound while "
            "2 B / (clock x peak x eff(B)) <= 1 / (bandwidth x memory eff), with the KV cache left out (it only "
            "adds memory time). Roofline: eff = 1. H100 kernels: the engine's fitted NVIDIA curve, "
            f"eff(B) = {fp.compute_eff_max:.3f} x max(B / (B + {fp.compute_m_half:.1f}), {fp.compute_eff_floor:.3f}), "
            f"memory eff {fp.memory_eff_max:.2f} "
            "(tile quantization: a GEMM with few rows wastes most of a tensor core). Thermal cap 0.43 W/mm2 "
            f"(estimated, range {prov.low / 1e6:.2f}-{prov.high / 1e6:.2f}) x 814 mm2 = 350 W of logic under a 700 W "
            "TDP: clock 0.50 at fixed voltage (power ~ f), 0.79 with voltage scaled too (power ~ f^3).")
    return Table("stacking-thermal", "Thermal cap: clock, peak FLOP/s, and how far decode stays memory-bound",
                 rows, note), out


def _designs_table(curves: dict[int, dict[str, np.ndarray]]) -> Table:
    rows = []
    for i, a in curves.items():
        for b in (1, 16, 64):
            j = int(np.where(BATCHES == b)[0][0])
            if not a["fits"][j]:
                continue
            rows.append({"design": SHORT[i], "batch": b, "tpot_ms": round(float(a["tpot_s"][j]) * 1e3, 2),
                         "ttft_ms": round(float(a["ttft_s"][j]) * 1e3),
                         "output_tok_s": round(float(a["output_tok_s"][j])),
                         "energy_j_per_token": round(float(a["energy_j_per_token"][j]), 3),
                         "decode_memory_j_per_token": round(float(a["energy_j_per_token_decode"][j] * a[
                             "decode_step_energy_j_memory"][j] / max(float(a["decode_step_energy_j"][j]), 1e-30)), 3),
                         "decode_bound": "compute" if a["decode_compute_s"][j] > a["decode_memory_s"][j] else "memory",
                         "max_batch": int(a["max_batch"][j])})
    note = (f"{MODEL} in FP8 on one chip, 2048 in / 512 out, default engine (fitted NVIDIA kernels). Same die "
            "(814 mm2) and TDP (700 W) for all; the 3D stacks replace the HBM and cap the logic's clock. "
            "J/token from llmhw.economics: whole system; a memory tier added by a what-if adds its read power "
            "(and 20 % of its full-bandwidth power as static power) on top of the chip's TDP, which the stacks' "
            "J/token carries.")
    return Table("stacking-designs", "TPOT, TTFT and J/token on a 700 W GH100-class die", rows, note)


# -- figures ---------------------------------------------------------------------------------


def _style(ax: Any) -> None:
    ax.grid(True, which="major", alpha=0.3)
    ax.grid(True, which="minor", alpha=0.1)


def _fig_bandwidth() -> MplFigure:
    fig = MplFigure(figsize=(7.5, 4.4), layout="constrained")
    ax = fig.add_subplot()
    for (_, preset, _, _), color, short in zip(DESIGNS[1:3], ("C0", "C3"), ("gen-1 pads", "gen-2 pads"), strict=True):
        p = stacking_presets()[preset]
        bw = STACK_M2 / PITCHES_M ** 2 * p.data_fraction * p.bandwidth_per_connection_bytes_per_s
        ax.plot(PITCHES_M * 1e6, bw / 1e12, color=color,
                label=f"{short}: {p.data_fraction:.2%} data pads at {p.gbps_per_connection:.2f} Gb/s")
        at = STACK_M2 / p.connection_pitch_m ** 2 * p.data_fraction * p.bandwidth_per_connection_bytes_per_s
        ax.plot(p.connection_pitch_m * 1e6, at / 1e12, "o", color=color, ms=7)
        ax.annotate(f"{preset}\n{at / 1e12:.1f} TB/s", (p.connection_pitch_m * 1e6, at / 1e12),
                    textcoords="offset points", xytext=(8, 4) if color == "C0" else (-8, -24), fontsize=7.5,
                    color=color, ha="left" if color == "C0" else "right")
    mp = memory_presets()
    refs = (("H100: 5 x HBM3", 3.35e12), ("H200: 6 x HBM3E", 4.8e12), ("B200: 8 x HBM3E", 8e12),
            ("8 x HBM4", 8 * mp["hbm4"].bandwidth_bytes_per_s))
    for k, (label, bw) in enumerate(refs):
        ax.axhline(bw / 1e12, color="0.5", ls=(0, (4, 2 + k)), lw=1)
        ax.text(38, bw / 1e12 * 1.06, label, fontsize=7, ha="right", color="0.3")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("bond pitch (um)")
    ax.set_ylabel("stack bandwidth (TB/s)")
    ax.set_title("3D stack over 400 mm2 of the die: bandwidth = area / pitch^2 x data share x rate")
    ax.legend(fontsize=7.5, loc="upper right")
    _style(ax)
    return fig


def _fig_thermal(th: dict[str, Any]) -> MplFigure:
    fig = MplFigure(figsize=(10, 4.2), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    p = stacking_presets()["3d-dram-soic-gen1"]
    prov = p.provenance["max_logic_power_density_w_per_m2"]
    cap = np.linspace(0.15e6, 0.9e6, 100)
    ax1.plot(cap / 1e6, np.minimum(1, cap * DIE_M2 / TDP_W), color="C0", label="clock cut at fixed voltage (P ~ f)")
    ax1.plot(cap / 1e6, np.minimum(1, cap * DIE_M2 / TDP_W) ** (1 / 3), color="C1",
             label="clock and voltage cut (P ~ f^3)")
    ax1.axvspan(prov.low / 1e6, prov.high / 1e6, color="0.92", lw=0, label="range of the estimate")
    ax1.axvline(p.max_logic_power_density_w_per_m2 / 1e6, color="k", lw=1, ls="--", label="preset: 0.43 W/mm2")
    ax1.set_xlabel("power density the logic under the stack may dissipate (W/mm2)")
    ax1.set_ylabel("sustained clock / full clock")
    ax1.set_title("(a) thermal cap on a 700 W, 814 mm2 die")
    ax1.set_ylim(0, 1.05)
    ax1.legend(fontsize=7.5, loc="lower right")
    peak = lookup("h200").peak_flops["fp8"]
    fp = family_params("nvidia-gpu")
    for short, color in zip(SHORT[:3], COLORS[:3], strict=True):
        bw = th[short]["bw"]
        ideal = ridge_batch(bw, FRACTIONS, peak)
        fitted = ridge_batch(bw, FRACTIONS, peak, eff_max=fp.compute_eff_max, m_half=fp.compute_m_half,
                             mem_eff=fp.memory_eff_max, floor=fp.compute_eff_floor)
        ax2.plot(FRACTIONS, ideal, color=color, label=f"{short} ({bw / 1e12:.1f} TB/s), roofline")
        ok = fitted >= 1
        ax2.plot(FRACTIONS[ok], fitted[ok], color=color, ls="--", label=f"{short}, H100 kernels" if ok.any() else None)
    for f, txt in ((0.5, "fixed V"), (th["3D gen-2 DVFS"]["clock"], "DVFS")):
        ax2.axvline(f, color="0.5", lw=0.8, ls=":")
        ax2.text(f, 1.15, txt, fontsize=7, rotation=90, ha="right", va="bottom", color="0.3")
    ax2.set_yscale("log")
    ax2.set_ylim(1, 1000)
    ax2.set_xlabel("clock fraction")
    ax2.set_ylabel("largest memory-bound decode batch (FP8)")
    ax2.set_title("(b) memory-bound at the lower clock?")
    never = [short for short in SHORT[1:3] if float(np.max(ridge_batch(
        th[short]["bw"], FRACTIONS, peak, eff_max=fp.compute_eff_max, m_half=fp.compute_m_half,
        mem_eff=fp.memory_eff_max, floor=fp.compute_eff_floor))) < 1]
    if never:
        ax2.text(0.98, 0.97, f"{' and '.join(never)} with H100 kernels:\ncompute-bound at every batch", fontsize=7,
                 ha="right", va="top", transform=ax2.transAxes, color="0.2")
    ax2.legend(fontsize=6.8, loc="upper left")
    for ax in (ax1, ax2):
        _style(ax)
    return fig


def _fig_designs(curves: dict[int, dict[str, np.ndarray]], ideal: dict[int, dict[str, np.ndarray]]) -> MplFigure:
    fig = MplFigure(figsize=(10, 5.0), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    for i, a in curves.items():
        f = a["fits"].astype(bool)
        wide = {"lw": 4, "alpha": 0.45} if i == 1 else {"lw": 1.5}
        ax1.plot(BATCHES[f], a["tpot_s"][f] * 1e3, marker="o", ms=3.5, color=COLORS[i], label=DESIGNS[i][0], **wide)
        ax2.plot(BATCHES[f], a["energy_j_per_token"][f], marker="o", ms=3.5, color=COLORS[i], **wide)
        g = ideal[i]
        ax1.plot(BATCHES[f], g["tpot_s"][f] * 1e3, ls=":", color=COLORS[i], lw=1.2)
    ax1.plot([], [], "k:", lw=1.2, label="dotted: the same on the ideal roofline (peak efficiencies, no overheads)")
    for ax in (ax1, ax2):
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("concurrent requests (batch)")
        _style(ax)
    ax1.set_ylabel("TPOT (ms)")
    ax1.set_title(f"(a) TPOT, {MODEL} FP8, one 700 W die")
    ax2.set_ylabel("energy per output token, whole system (J)")
    ax2.set_title("(b) energy per token (llmhw.economics)")
    fig.legend(*ax1.get_legend_handles_labels(), loc="outside lower center", ncol=2, fontsize=7.5)
    return fig


def nb(ridge: float) -> int:
    """A ridge batch as a whole number of requests (0: compute-bound at batch 1)."""
    return max(0, int(np.floor(ridge)))


def bound_text(ridge: float, name: str) -> str:
    return f"compute-bound at every batch with {name}" if ridge < 1 else \
        f"memory-bound up to batch {nb(ridge)} with {name}"


def _stacks() -> tuple[Any, Any, Any]:
    """The gen-1 and gen-2 stacks over 400 mm2, and the H200's HBM3E tier they are compared with."""
    return stack("3d-dram-soic-gen1", 12e9), stack("3d-dram-hybrid-bond-gen2", 16e9), lookup("h200").memory[0]


def _crossing(curves: dict[int, dict[str, np.ndarray]]) -> tuple[str, str]:
    """The first batch at which each stacked design's TPOT exceeds the H200's, as a sentence and as a
    short clause for a caption."""
    cross = {}
    for i in range(1, len(DESIGNS)):
        worse = np.where(curves[0]["fits"].astype(bool) & (curves[i]["tpot_s"] > curves[0]["tpot_s"]))[0]
        cross[i] = int(BATCHES[worse[0]]) if worse.size else None
    worse = {SHORT[i]: b for i, b in cross.items() if b is not None}
    if not worse:
        return "They stay ahead of the H200 at every batch that fits.", "yet"
    return ("From batch " + ", ".join(f"{b} ({k})" for k, b in worse.items())
            + " the lower clock makes them slower than the H200."), \
        f"from batch {min(worse.values())}-{max(worse.values())} they lose to HBM:"


def _ideal_gain(ideal: dict[int, dict[str, np.ndarray]]) -> dict[int, float]:
    """Batch-1 TPOT of the H200 over each stacked design's, on the ideal roofline."""
    return {i: float(ideal[0]["tpot_s"][0] / ideal[i]["tpot_s"][0]) for i in (1, 2)}


def _memory_findings() -> list[str]:
    """Bandwidth and energy per bit of the stacks."""
    g1, g2, h200 = _stacks()
    return [
        f"Bandwidth: a 3D DRAM stack over 400 mm2 of the die gives {g1.bandwidth_bytes_per_s / 1e12:.1f} TB/s at "
        f"SoIC's 9 um pitch ({g1.connections / 1e6:.1f} M pads, 1.6 % carrying data at 1.95 Gb/s) and "
        f"{g2.bandwidth_bytes_per_s / 1e12:.1f} TB/s at a 3 um hybrid-bond pitch: "
        f"{g1.bandwidth_bytes_per_s / h200.bandwidth_bytes_per_s:.1f}x and "
        f"{g2.bandwidth_bytes_per_s / h200.bandwidth_bytes_per_s:.1f}x the H200's six HBM3E stacks, with "
        f"{g1.capacity_bytes / 1e9:.0f} and {g2.capacity_bytes / 1e9:.0f} GB. Bandwidth scales as 1/pitch^2.",
        f"Energy per bit: 2.34 (gen-1) and 1.0 pJ/bit (gen-2) against HBM3E's 3.9 and HBM4's 3.05 (the paper's "
        f"2-3x). But at 4-12x the bandwidth the stack draws more power when it streams: "
        f"{g1.bandwidth_bytes_per_s * 8 * g1.energy_j_per_bit:.0f} and {g2.bandwidth_bytes_per_s * 8 * g2.energy_j_per_bit:.0f} W "
        f"at full bandwidth against {h200.bandwidth_bytes_per_s * 8 * h200.energy_j_per_bit:.0f} W for the HBM3E, "
        f"on top of a logic budget the stack itself caps.",
    ]


def _design_findings(th: dict[str, Any], designs_t: Table, curves: dict[int, dict[str, np.ndarray]],
                     ideal: dict[int, dict[str, np.ndarray]]) -> list[str]:
    """The thermal cap, Q8, TPOT and J/token of the designs."""
    d = {(r["design"], r["batch"]): r for r in designs_t.rows}
    base1, s1, s2, dv1 = (d[(k, 1)] for k in SHORT)
    base64 = d[(SHORT[0], 64)]
    s2_64 = d[(SHORT[2], 64)]
    fp = family_params("nvidia-gpu")
    ideal_gain = _ideal_gain(ideal)
    cross_text, _ = _crossing(curves)
    return [
        f"Thermal cap: 0.43 W/mm2 (the estimate from imec's HBM-on-GPU study) allows 350 W of the die's 700 W, so "
        f"the clock and every peak FLOP/s halve at fixed voltage (0.79 with voltage scaled too). TTFT, compute-bound, "
        f"grows from {base1['ttft_ms']} to {s1['ttft_ms']} ms for {MODEL} (batch 1).",
        f"Does decode stay memory-bound at the lower clock (Q8)? On the ideal roofline yes, but only for small "
        f"batches: up to {nb(th['3D gen-1']['ideal'])} requests for gen-1 and {nb(th['3D gen-2']['ideal'])} for gen-2 "
        f"at half clock (HBM3E at full clock: {nb(th['H200 HBM3E']['ideal'])}). With GPU kernels as the engine fits "
        f"them (a GEMM with few rows wastes most of a tensor core: eff(B) = {fp.compute_eff_max:.2f} x "
        f"max(B / (B + {fp.compute_m_half:.0f}), {fp.compute_eff_floor:.3f})), the half-clock die is "
        + ("compute-bound at every batch with either stack"
           if max(th['3D gen-1']['fitted'], th['3D gen-2']['fitted']) < 1 else
           bound_text(th['3D gen-1']['fitted'], "gen-1") + " and " + bound_text(th['3D gen-2']['fitted'], "gen-2"))
        + f" (HBM3E: memory-bound up to {nb(th['H200 HBM3E']['fitted'])}). The stack's bandwidth is "
        "fully usable only by logic that keeps small-batch GEMV efficient at the lower clock.",
        f"TPOT at iso-power (700 W): at batch 1 the stacks cut {MODEL}'s TPOT from {base1['tpot_ms']} to "
        f"{s1['tpot_ms']} ms (gen-1) and {s2['tpot_ms']} ms (gen-2"
        + (": 3x gen-1's bandwidth buys nothing, the half-clock logic binds" if s2['tpot_ms'] > 0.95 * s1['tpot_ms']
           else "") +
        f"), {dv1['tpot_ms']} ms with DVFS, against {ideal_gain[1]:.0f}x and {ideal_gain[2]:.0f}x on the ideal "
        f"roofline. " + cross_text + f" At batch 64: {s2_64['tpot_ms']} ms (gen-2) and "
        f"{d[(SHORT[3], 64)]['tpot_ms']} ms (DVFS) against {base64['tpot_ms']} ms on the H200; TTFT doubles at half "
        "clock.",
        f"J/token: at batch 1 the whole system spends {base1['energy_j_per_token']:.1f} J per token on HBM3E, "
        f"{s1['energy_j_per_token']:.1f} J with gen-1, {s2['energy_j_per_token']:.1f} J with gen-2 and "
        f"{dv1['energy_j_per_token']:.1f} J with DVFS (mostly static and host power over the step); the decode steps' "
        f"memory reads fall from {base1['decode_memory_j_per_token']:.2f} to {s1['decode_memory_j_per_token']:.2f} "
        f"and {s2['decode_memory_j_per_token']:.2f} J per token. At batch 64: {s2_64['energy_j_per_token']:.2f} J "
        f"(gen-2) against {base64['energy_j_per_token']:.2f} J"
        + (" (the slower half-clock steps cost more)" if s2_64['energy_j_per_token'] > base64['energy_j_per_token']
           else "") + ". DVFS's lower energy per FLOP at the lower voltage is not modelled (J/FLOP stays the chip's).",
    ]


def _figures(th: dict[str, Any], designs_t: Table, curves: dict[int, dict[str, np.ndarray]],
             ideal: dict[int, dict[str, np.ndarray]]) -> list[Figure]:
    g1, g2, h200 = _stacks()
    d = {(r["design"], r["batch"]): r for r in designs_t.rows}
    base1, s1, s2 = (d[(k, 1)] for k in SHORT[:3])
    ideal_gain = _ideal_gain(ideal)
    _, cross_short = _crossing(curves)
    return [
        Figure("stacking-bandwidth", f"Bandwidth grows as 1/pitch^2: over 400 mm2 a 9 um SoIC stack gives "
               f"{g1.bandwidth_bytes_per_s / 1e12:.1f} TB/s ({g1.bandwidth_bytes_per_s / h200.bandwidth_bytes_per_s:.0f}x an "
               f"H200's HBM3E) and a 3 um hybrid bond "
               f"{g2.bandwidth_bytes_per_s / 1e12:.1f} TB/s, beyond eight HBM4 stacks.", _fig_bandwidth()),
        Figure("stacking-thermal", f"A 0.43 W/mm2 cap halves the clock of a 700 W GH100-class die; decode then "
               f"stays memory-bound only up to batch {nb(th['3D gen-1']['ideal'])} (gen-1) or "
               f"{nb(th['3D gen-2']['ideal'])} (gen-2) on the ideal roofline, and "
               + ("at no batch" if max(th['3D gen-1']['fitted'], th['3D gen-2']['fitted']) < 1 else
                  f"to {nb(th['3D gen-1']['fitted'])} and {nb(th['3D gen-2']['fitted'])}")
               + " with the engine's fitted small-batch GEMM efficiency.", _fig_thermal(th)),
        Figure("stacking-tpot-energy", f"At the same 700 W, 3D stacks cut batch-1 TPOT "
               f"{base1['tpot_ms'] / s1['tpot_ms']:.1f}x (gen-1) and {base1['tpot_ms'] / s2['tpot_ms']:.1f}x (gen-2) "
               f"against {ideal_gain[1]:.0f}x and {ideal_gain[2]:.0f}x on the ideal roofline (dotted); "
               + cross_short + " the lower-clocked logic, not the memory, bounds the step.",
               _fig_designs(curves, ideal)),
    ]


def run() -> Study:
    tech_t = _tech_table()
    thermal_t, th = _thermal_table()
    curves = {i: _sweep(scenario(i), BATCHES) for i in range(len(DESIGNS))}
    ideal = {i: _sweep(scenario(i, engine="ideal"), BATCHES) for i in range(len(DESIGNS))}
    designs_t = _designs_table(curves)
    findings = [*_memory_findings(), *_design_findings(th, designs_t, curves, ideal)]
    figures = _figures(th, designs_t, curves, ideal)
    return Study(
        name="stacking", title="RQ3b: 3D memory-on-logic stacking vs HBM",
        question=("How much bandwidth and energy per bit does a memory stack on the compute die give over HBM's "
                  "shoreline, what clock does its thermal cap leave, and does decode stay memory-bound at that "
                  "clock (TPOT and J/token at iso-power)? (Ma & Patterson 2026, section 4.5; Q8)"),
        tables=[tech_t, thermal_t, designs_t], figures=figures, findings=findings)
