"""RQ3b: 3D memory-on-logic stacks vs HBM on the shoreline.

Ma & Patterson (2026, section 4.5): hybrid bonds and TSVs give a memory stack on the compute die an
interface over its whole footprint instead of HBM's 2D shoreline, so more bandwidth at 2-3x less
energy per bit; the catch is heat, which they would meet with a lower clock and voltage, arguing
decode's low arithmetic intensity tolerates it (their question Q8).

The study covers 400 mm2 of an H200's die (GH100: 814 mm2 in a 700 W package) with the catalog's
DRAM stacks (docs/stacking.md): ``3d-dram-soic-gen1`` (9 um pitch, 96 GB over 400 mm2, 19.5 TB/s,
2.34 pJ/bit of access energy) and ``3d-dram-hybrid-bond-gen2`` (3 um, 192 GB, 55.6 TB/s, 1.0
pJ/bit), against the H200's six HBM3E stacks (141 GB, 4.8 TB/s, 3.9 pJ/bit). Every design is
compared at the same power envelope with the memory inside it: the H200's 700 W cover the GH100
and its HBM3E, so the logic at full clock is 700 W less the HBM3E at full bandwidth; a stacked
design gives the same logic and the stack 700 W (the TDP) and, under the stack, the 0.43 W/mm2
thermal cap over the die (350 W). The engine throttles the logic's clock and the stack's data
rate together to fit (hardware/package.py). Verdicts are computed from the results.
"""

from __future__ import annotations

from itertools import groupby
from typing import Any, NamedTuple

import numpy as np
from matplotlib.figure import Figure as MplFigure

import llmhw
from llmhw.api import family_params
from llmhw.api import package_power as engine_package_power
from llmhw.core.errors import LlmhwError
from llmhw.hardware.catalog import lookup, memory_presets, stacked_from_dict, stacking_presets
from llmhw.hardware.package import PackagePower, package_power
from llmhw.hardware.physics import chip_physics
from llmhw.studies import style
from llmhw.studies.base import Figure, Study, Table
from llmhw.studies.scenarios import (
    DIE_M2,
    STACK_GEN1,
    STACK_GEN2,
    STACK_M2,
    TDP_W,
    stacked_overrides,
)

PITCHES_M = np.logspace(np.log10(1e-6), np.log10(40e-6), 50)
CAPS_W_PER_M2 = np.linspace(0.15e6, 1.2e6, 120)
BATCHES = np.array([1, 2, 4, 8, 16, 32, 64, 128, 256])
MODEL = "llama-3.1-70b"
ISL, OSL = 2048, 512              # one chat-length request
# The one SLO every design is searched under: 50 tokens/s per user, an interactive chat pace that a
# bandwidth-rich stack should serve at a larger batch than HBM (the H200 alone decodes Llama 70B FP8
# at batch 1 in about 17 ms). ALT_TPOT_SLO_S: the looser SLO the finding checks the verdict against.
TPOT_SLO_S = 0.020
ALT_TPOT_SLO_S = 0.050


class Design(NamedTuple):
    label: str
    short: str
    preset: str | None              # stacking preset; None = the H200 as shipped
    capacity_per_layer: float       # over STACK_M2
    power_exponent: float           # logic power ~ f^k: 1 fixed voltage, 3 voltage scaled (DVFS)
    thermal_cap: bool               # the stack's 0.43 W/mm2 applies (else the 700 W TDP alone)
    color: str
    marker: str = "o"               # lines that run close stay apart by marker and dash too
    ls: str = "-"


DESIGNS: tuple[Design, ...] = (
    Design("H200: 6 HBM3E on the shoreline (141 GB, 4.8 TB/s), 700 W with its memory", "H200 HBM3E", None, 0.0,
           1.0, False, "#444444", "o", "-"),
    Design("3D gen-1, 9 um SoIC (96 GB, 19.5 TB/s), thermal cap, fixed voltage", "3D gen-1", *STACK_GEN1,
           1.0, True, style.PALETTE[0], "s", "-"),
    Design("3D gen-2, 3 um hybrid bond (192 GB, 55.6 TB/s), thermal cap, fixed voltage", "3D gen-2",
           *STACK_GEN2, 1.0, True, style.PALETTE[3], "^", "--"),
    Design("3D gen-2, thermal cap, clock and voltage scaled (DVFS)", "3D gen-2 DVFS", *STACK_GEN2,
           3.0, True, style.PALETTE[1], "D", "-"),
    Design("3D gen-2 in the H200's 700 W, no thermal cap (iso-power, memory included)", "3D gen-2 700 W",
           *STACK_GEN2, 1.0, False, style.PALETTE[2], "v", "-."),
)
SHORT = tuple(d.short for d in DESIGNS)
BASE = 0


def stack(preset: str, capacity_per_layer: float) -> Any:
    """A catalog stack spread over STACK_M2 of the die, with that capacity per layer."""
    return stacked_from_dict({"tech": preset, "stack_area_m2": STACK_M2, "capacity_per_layer_bytes": capacity_per_layer})


def overrides(i: int) -> dict[str, Any]:
    d = DESIGNS[i]
    if d.preset is None:
        return {}
    return stacked_overrides(d.preset, d.capacity_per_layer, d.power_exponent, d.thermal_cap)


def scenario(i: int, engine: str = "default", batch: int = 1) -> llmhw.Scenario:
    return llmhw.Scenario.from_dict({
        "model": MODEL, "hardware": "h200", "n_chips": 1, "engine": engine,
        "precision": {"weights": "fp8", "kv_cache": "fp8"},
        "workload": {"input_tokens": ISL, "output_tokens": OSL, "batch": batch}, "overrides": overrides(i)})


def envelope(i: int) -> PackagePower | None:
    """The power envelope design ``i`` runs under (None for the H200, which carries no stack)."""
    return engine_package_power(scenario(i))


def h200_memory_w() -> tuple[float, float]:
    """(static, access at full bandwidth) W of the H200's HBM3E tier: inside its 700 W."""
    t = lookup("h200").memory[0]
    return t.tier_static_power_w, t.access_power_w


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


def nb(ridge: float) -> int:
    """A ridge batch as a whole number of requests (0: compute-bound at batch 1)."""
    return max(0, int(np.floor(ridge)))


def bound_text(ridge: float, name: str) -> str:
    return f"compute-bound at every batch with {name}" if ridge < 1 else \
        f"memory-bound up to batch {nb(ridge)} with {name}"


def decode_bounds(a: dict[str, np.ndarray]) -> list[str]:
    """Per batch, which side bounds the engine's decode step: 'compute' or 'memory'."""
    return ["compute" if c > m else "memory" for c, m in zip(a["decode_compute_s"], a["decode_memory_s"], strict=True)]


def bound_summary(bounds: list[str], batches: Any) -> str:
    """Runs of the same bound over the batches, as a phrase ('memory-bound at every batch
    (1-256)', 'memory-bound at batch 1-4, compute-bound at 8-256')."""
    runs = []
    k = 0
    for b, grp in groupby(bounds):
        n = len(list(grp))
        runs.append((b, int(batches[k]), int(batches[k + n - 1])))
        k += n
    if not runs:
        return "no batch fits"

    def span(lo: int, hi: int) -> str:
        return f"{lo}" if lo == hi else f"{lo}-{hi}"
    if len(runs) == 1:
        b, lo, hi = runs[0]
        return f"{b}-bound at every batch that fits ({span(lo, hi)})"
    return ", ".join(f"{b}-bound at {'batch ' if j == 0 else ''}{span(lo, hi)}" for j, (b, lo, hi) in enumerate(runs))


class Verdict(NamedTuple):
    """One stacked design against the H200, over the batches where both fit."""

    batches: np.ndarray
    bounds: list[str]           # the design's decode bound per batch
    ratio: np.ndarray           # its output tokens/s over the H200's, per batch

    @property
    def text(self) -> str:
        if not self.batches.size:
            return "fits at no batch the H200 fits"
        lo, hi = float(self.ratio.min()), float(self.ratio.max())
        trend = (f"{self.ratio[0]:.2f}x the H200's tokens/s at batch {int(self.batches[0])}, "
                 f"{self.ratio[-1]:.2f}x at batch {int(self.batches[-1])}")
        side = "ahead of" if lo >= 1 else "behind" if hi <= 1 else "ahead of and behind"
        return f"decode {bound_summary(self.bounds, self.batches)}; {trend} ({side} the H200 across the range)"


def verdict(curves: dict[int, dict[str, np.ndarray]], i: int) -> Verdict:
    both = curves[BASE]["fits"].astype(bool) & curves[i]["fits"].astype(bool)
    a = {k: v[both] for k, v in curves[i].items()}
    ratio = curves[i]["output_tok_s"][both] / curves[BASE]["output_tok_s"][both]
    return Verdict(BATCHES[both], decode_bounds(a), ratio)


# -- tables ----------------------------------------------------------------------------------


def _tech_row(label: str, where: str, t: Any, s: Any = None) -> dict[str, Any]:
    """One memory as a table row; ``t`` its MemoryTech (for a stack, as_memory_tech()), ``s`` the stack."""
    return {"memory": label, "where": where, "bandwidth_tb_s": round(t.bandwidth_bytes_per_s / 1e12, 2),
            "capacity_gb": round(t.capacity_bytes / 1e9, 3), "access_pj_per_bit": round(t.energy_j_per_bit * 1e12, 2),
            "static_w": round(t.tier_static_power_w, 1),
            "bond_pitch_um": None if s is None else round(s.connection_pitch_m * 1e6, 1),
            "connections_k": None if s is None else round(s.connections / 1e3),
            "footprint_mm2": None if s is None else round(s.stack_area_m2 * 1e6),
            "full_bandwidth_power_w": round(t.full_power_w),
            "full_bandwidth_w_per_mm2": None if s is None else round(t.full_power_w / (s.stack_area_m2 * 1e6), 2)}


def _tech_table() -> Table:
    mp = memory_presets()
    rows = [_tech_row(label, "2.5D, shoreline", mp[tid]) for tid, label in (
        ("hbm3", "HBM3 stack (H100: 5)"), ("hbm3e", "HBM3E stack (H200: 6)"), ("hbm4", "HBM4 stack (JEDEC, 2048 pins)"))]
    rows.append(_tech_row("H200's HBM3E tier (141 GB = 5.9 stacks)", "2.5D, shoreline", lookup("h200").memory[0]))
    for pid, s in stacking_presets().items():
        rows.append(_tech_row(f"{pid} (preset, {s.stack_area_m2 * 1e6:.0f} mm2)", "3D, on the die", s.as_memory_tech(), s))
    for d in DESIGNS[1:3]:
        s = stack(d.preset, d.capacity_per_layer)
        rows.append(_tech_row(f"{d.preset} over 400 mm2 (this study)", "3D, on the die", s.as_memory_tech(), s))
    note = ("3D bandwidth = footprint / pitch^2 x data share of the pads x rate per pad (docs/stacking.md). "
            "Energy, one definition for every memory: access energy per bit (dynamic) plus static power (refresh, "
            "standby) per device; full_bandwidth_power = static + bandwidth x 8 x access energy, what the memory "
            "draws streaming at its peak. HBM rows are per stack (catalog presets) except the H200's tier.")
    return Table("stacking-technologies", "Memory technologies: bandwidth, capacity, access energy, static power",
                 rows, note)


def _thermal_table() -> tuple[Table, dict[str, Any]]:
    h200 = lookup("h200")
    peak = h200.peak_flops["fp8"]
    fp = family_params("nvidia-gpu")
    phys = chip_physics(h200)
    # The kernels' share of peak bandwidth: the memory's stream efficiency (hardware) x the NVIDIA
    # software's share of it; the GEMV floor is the tensor core's padded tile (1 / 8).
    mem_eff, floor = phys.stream_efficiency[0] * fp.memory_eff, phys.gemv_floor
    hbm_static, hbm_access = h200_memory_w()
    rows = []
    out: dict[str, Any] = {}
    for i, d in enumerate(DESIGNS):
        pw = envelope(i)
        if pw is None:
            bw, f, env, binding = h200.memory[0].bandwidth_bytes_per_s, 1.0, TDP_W, "tdp"
            logic, mem_access, mem_static = TDP_W - hbm_static - hbm_access, hbm_access, hbm_static
        else:
            bw = stack(d.preset, d.capacity_per_layer).bandwidth_bytes_per_s
            f, env, binding = pw.fraction, pw.envelope_w, pw.binding
            logic, mem_access, mem_static = pw.logic_w, pw.stack_access_w, pw.stack_static_w
        # The clock and the stack's data rate scale together, so the ridge batch does not move with f.
        ideal = float(ridge_batch(bw * f, f, peak))
        fitted = float(ridge_batch(bw * f, f, peak, eff_max=fp.compute_eff_max, m_half=fp.compute_m_half,
                                   mem_eff=mem_eff, floor=floor))
        out[d.short] = {"bw": bw, "clock": f, "ideal": ideal, "fitted": fitted, "envelope": pw}
        rows.append({"design": d.label, "envelope_w": round(env), "binding_limit": binding,
                     "logic_full_clock_w": round(logic), "memory_reads_full_bw_w": round(mem_access),
                     "memory_static_w": round(mem_static, 1), "clock_and_data_rate_fraction": round(f, 3),
                     "memory_tb_s": round(bw * f / 1e12, 1), "fp8_peak_tflop_s": round(f * peak / 1e12),
                     "memory_bound_up_to_batch_roofline": nb(ideal),
                     "memory_bound_up_to_batch_h100_kernels": nb(fitted)})
    g1 = stacking_presets()["3d-dram-soic-gen1"]
    prov = g1.provenance["max_logic_power_density_w_per_m2"]
    note = (f"One envelope for logic and memory. The H200's {TDP_W:.0f} W cover the GH100 at full clock and its "
            f"HBM3E at full bandwidth ({hbm_access:.0f} W of reads + {hbm_static:.0f} W static), so the logic is "
            f"{TDP_W - hbm_static - hbm_access:.0f} W. A stacked design keeps that logic and fits logic x f^k + stack "
            f"reads x f + stack static into the {TDP_W:.0f} W TDP and, with the thermal cap, into "
            f"{g1.max_logic_power_density_w_per_m2 / 1e6:.2f} W/mm2 x {DIE_M2 * 1e6:.0f} mm2 = "
            f"{g1.max_logic_power_density_w_per_m2 * DIE_M2:.0f} W (estimated, range {prov.low / 1e6:.2f}-"
            f"{prov.high / 1e6:.2f} W/mm2); f throttles the clock and the stack's data rate together, k = 1 at a "
            "fixed voltage, 3 with DVFS. Decode of FP8 weights (1 byte and 2 FLOP per parameter per token) is "
            "memory-bound while 2 B / (f x peak x eff(B)) <= 1 / (f x bandwidth x memory eff), the KV cache left out: "
            "f cancels. Roofline: eff = 1. H100 kernels: the engine's fitted NVIDIA curve, eff(B) = "
            f"{fp.compute_eff_max:.3f} x max(B / (B + {fp.compute_m_half:.1f}), {floor:.3f}) (the floor: a GEMV "
            f"padded to the tensor core's 8-token tile), memory eff {mem_eff:.2f} (stream x software share).")
    return Table("stacking-thermal", "Power envelope, memory included: clock, data rate, and how far decode stays "
                 "memory-bound", rows, note), out


def _designs_table(curves: dict[int, dict[str, np.ndarray]]) -> Table:
    rows = []
    for i, a in curves.items():
        for b in (1, 16, 64):
            j = int(np.where(BATCHES == b)[0][0])
            if not a["fits"][j]:
                continue
            base_ok = bool(curves[BASE]["fits"][j])
            rows.append({"design": SHORT[i], "batch": b, "tpot_ms": round(float(a["tpot_s"][j]) * 1e3, 2),
                         "ttft_ms": round(float(a["ttft_s"][j]) * 1e3),
                         "output_tok_s": round(float(a["output_tok_s"][j])),
                         "tok_s_vs_h200": round(float(a["output_tok_s"][j] / curves[BASE]["output_tok_s"][j]), 3)
                         if base_ok else None,
                         "energy_j_per_token": round(float(a["energy_j_per_token"][j]), 3),
                         "decode_memory_access_j_per_token": round(float(
                             a["decode_step_energy_j_memory"][j] / max(float(a["requests_per_replica"][j]), 1.0)), 3),
                         "memory_static_j_per_token": round(float(a["energy_j_per_token_static_memory"][j]), 3),
                         "decode_bound": decode_bounds({k: a[k][j:j + 1] for k in
                                                        ("decode_compute_s", "decode_memory_s")})[0],
                         "power_w_per_chip": round(float(a["power_w_per_chip_model"][j])),
                         "max_batch": int(a["max_batch"][j])})
    note = (f"{MODEL} in FP8 on one chip, {ISL} in / {OSL} out, default engine (fitted NVIDIA kernels). Same die "
            f"(814 mm2) and the same envelope with the memory inside it: {TDP_W:.0f} W for the H200 and its HBM3E; "
            "the stacked designs also under the thermal cap where marked. J/token from llmhw.economics, whole "
            "system: memory energy is access energy x bytes (decode_memory_access, per request per step) plus "
            "static power x time (memory_static). power_w_per_chip: the chip's average draw while serving.")
    return Table("stacking-designs", "TPOT, throughput and J/token at the same power envelope, memory included",
                 rows, note)


# -- figures ---------------------------------------------------------------------------------


def _style(ax: Any) -> None:
    ax.grid(True, which="major", alpha=0.3)
    ax.grid(True, which="minor", alpha=0.1)


def _fig_bandwidth() -> MplFigure:
    fig, ax = style.figure(7.5, 4.4)
    for d, short in zip(DESIGNS[1:3], ("gen-1 pads", "gen-2 pads"), strict=True):
        p = stacking_presets()[d.preset]
        bw = STACK_M2 / PITCHES_M ** 2 * p.data_fraction * p.bandwidth_per_connection_bytes_per_s
        ax.plot(PITCHES_M * 1e6, bw / 1e12, color=d.color, ls=d.ls,
                label=f"{short}: {p.data_fraction:.2%} data pads at {p.gbps_per_connection:.2f} Gb/s")
        at = STACK_M2 / p.connection_pitch_m ** 2 * p.data_fraction * p.bandwidth_per_connection_bytes_per_s
        ax.plot(p.connection_pitch_m * 1e6, at / 1e12, d.marker, color=d.color, ms=7)
        first = d.short == "3D gen-1"
        ax.annotate(f"{d.preset}\n{at / 1e12:.1f} TB/s", (p.connection_pitch_m * 1e6, at / 1e12),
                    textcoords="offset points", xytext=(8, 4) if first else (-8, -24), fontsize=8,
                    color=d.color, ha="left" if first else "right")
    mp = memory_presets()
    refs = (("H100: 5 x HBM3", 3.35e12), ("H200: 6 x HBM3E", 4.8e12), ("B200: 8 x HBM3E", 8e12),
            ("8 x HBM4", 8 * mp["hbm4"].bandwidth_bytes_per_s))
    for k, (label, bw) in enumerate(refs):
        ax.axhline(bw / 1e12, color="0.5", ls=(0, (4, 2 + k)), lw=1)
        # At the left, where both lines run far above the HBM references.
        ax.text(PITCHES_M[0] * 1e6, bw / 1e12 * 1.06, label, fontsize=8, ha="left", color="0.3")
    style.log_axis(ax, "xy")
    ax.set_xlabel("bond pitch (um)")
    ax.set_ylabel("stack bandwidth (TB/s)")
    ax.set_title(f"Bandwidth = {STACK_M2 * 1e6:.0f} mm2 / pitch^2 x data share x rate per pad")
    ax.legend(fontsize=8, loc="upper right")
    _style(ax)
    return fig


def _fraction_vs_cap(i: int, caps: np.ndarray) -> np.ndarray:
    """Design ``i``'s clock and data-rate fraction as the thermal cap varies (the TDP still applies)."""
    chip = scenario(i).chip
    h200 = lookup("h200")
    out = []
    for c in caps:
        st = chip.stacked.model_copy(update={"max_logic_power_density_w_per_m2": float(c)})
        try:
            out.append(package_power(chip.model_copy(update={"stacked": st}), h200).fraction)
        except LlmhwError:                # the stack's static power alone exceeds the cap
            out.append(0.0)
    return np.array(out)


def _fig_thermal(th: dict[str, Any]) -> MplFigure:
    fig, (ax1, ax2) = style.figure(10, 4.4, 1, 2)
    g1 = stacking_presets()["3d-dram-soic-gen1"]
    prov = g1.provenance["max_logic_power_density_w_per_m2"]
    logic = th[SHORT[1]]["envelope"].logic_w
    ax1.plot(CAPS_W_PER_M2 / 1e6, np.minimum(1, CAPS_W_PER_M2 * DIE_M2 / logic), color="0.5", ls="--",
             label="logic alone, the memory's power left out")
    for i in (1, 2, 3):
        d = DESIGNS[i]
        ax1.plot(CAPS_W_PER_M2 / 1e6, _fraction_vs_cap(i, CAPS_W_PER_M2), color=d.color, ls=d.ls,
                 label=f"{d.short}, memory included")
    ax1.axvspan(prov.low / 1e6, prov.high / 1e6, color="0.88", lw=0, label="range of the estimate")
    ax1.axvline(g1.max_logic_power_density_w_per_m2 / 1e6, color="k", lw=1, ls=":",
                label=f"preset: {g1.max_logic_power_density_w_per_m2 / 1e6:.2f} W/mm2")
    ax1.set_xlabel("power density the die under the stack may shed (W/mm2)")
    ax1.set_ylabel("clock and stack data rate / full")
    ax1.set_title(f"(a) throttle under the cap ({logic:.0f} W logic, {DIE_M2 * 1e6:.0f} mm2)")
    ax1.set_ylim(0, 1.05)
    # On a white box: it sits partly over the shaded range, whose own patch would vanish there.
    ax1.legend(fontsize=8, loc="lower right", frameon=True, facecolor="white", edgecolor="none", framealpha=1)
    hbm_static, hbm_access = h200_memory_w()
    parts = {"logic": [], "memory reads": [], "memory static": []}
    for d in DESIGNS:
        pw = th[d.short]["envelope"]
        if pw is None:
            parts["logic"].append(TDP_W - hbm_static - hbm_access)
            parts["memory reads"].append(hbm_access)
            parts["memory static"].append(hbm_static)
        else:
            parts["logic"].append(pw.logic_w * pw.logic_power_fraction)
            parts["memory reads"].append(pw.stack_access_w * pw.fraction)
            parts["memory static"].append(pw.stack_static_w + pw.other_memory_w)
    x = np.arange(len(DESIGNS))
    bottom = np.zeros(len(DESIGNS))
    for (name, v), color in zip(parts.items(), ("#999999", style.color("memory"), style.PALETTE[9]), strict=True):
        ax2.bar(x, v, bottom=bottom, color=color, label=name)
        bottom += np.array(v)
    for i, d in enumerate(DESIGNS):         # inside the bar tops: above them run the TDP and cap lines
        pw = th[d.short]["envelope"]
        f = 1.0 if pw is None else pw.fraction
        ax2.text(i, bottom[i] - 12, f"f = {f:.2f}", ha="center", va="top", fontsize=8, color="white")
    cap_w = g1.max_logic_power_density_w_per_m2 * DIE_M2
    ax2.axhline(TDP_W, color="k", lw=0.8, ls="--")
    ax2.axhline(cap_w, color="k", lw=0.8, ls=":")
    ax2.text(-0.45, TDP_W + 8, f"TDP {TDP_W:.0f} W", fontsize=8, ha="left")
    ax2.text(0.55, cap_w + 8, f"thermal cap {cap_w:.0f} W", fontsize=8, ha="left")
    ax2.set_ylim(0, TDP_W * 1.08)
    ax2.set_xticks(x, [d.short.replace(" ", "\n", 1) for d in DESIGNS], fontsize=8)
    ax2.set_ylabel("W at the operating point (full activity)")
    ax2.set_title("(b) where the envelope goes")
    ax2.legend(fontsize=8, loc="center", bbox_to_anchor=(0.5, 0.64))
    ax2.grid(axis="x", visible=False)
    _style(ax1)
    return fig


def _fig_designs(curves: dict[int, dict[str, np.ndarray]], ideal: dict[int, dict[str, np.ndarray]]) -> MplFigure:
    fig, (ax1, ax2) = style.figure(10, 5.0, 1, 2)
    ends: dict[Any, list[tuple[float, float, str, str]]] = {ax1: [], ax2: []}
    for i, a in curves.items():
        d = DESIGNS[i]
        f = a["fits"].astype(bool)
        line = {"color": d.color, "ls": d.ls, "marker": d.marker, "ms": 4.5, "lw": 1.6}
        ax1.plot(BATCHES[f], a["tpot_s"][f] * 1e3, label=d.label, **line)
        ax2.plot(BATCHES[f], a["energy_j_per_token"][f], **line)
        ax1.plot(BATCHES[f], ideal[i]["tpot_s"][f] * 1e3, ls=":", color=d.color, lw=1.1)
        last = int(np.nonzero(f)[0][-1])
        ends[ax1].append((BATCHES[last], float(a["tpot_s"][last]) * 1e3, d.short, d.color))
        ends[ax2].append((BATCHES[last], float(a["energy_j_per_token"][last]), d.short, d.color))
    ax1.plot([], [], "k:", lw=1.1, label="dotted: the same on the ideal roofline (peak efficiencies, no overheads)")
    shown = BATCHES[BATCHES <= max(e[0] for e in ends[ax1])]
    for ax in (ax1, ax2):
        ax.set_xscale("log", base=2)
        ax.set_xticks(shown, labels=[str(b) for b in shown])
        ax.set_xlim(shown[0] / 1.25, shown[-1] * 1.25)
        style.log_axis(ax, "y")
        ax.set_xlabel("concurrent requests (batch)")
        _style(ax)
        style.end_labels(ax, ends[ax])
    ax1.set_ylabel("TPOT (ms)")
    ax1.set_title("(a) time per output token")
    ax2.set_ylabel("energy per output token, whole system (J)")
    ax2.set_title("(b) energy per token (llmhw.economics)")
    fig.legend(*ax1.get_legend_handles_labels(), loc="outside lower center", ncol=2, fontsize=8)
    return fig


def search_design(i: int, tpot_s: float = TPOT_SLO_S, objective: str = "output_tok_s_per_chip") -> Any:
    """llmhw.search of design ``i`` under TPOT <= ``tpot_s``: every mapping of its one chip (only
    tp1) and every batch up to its memory limit, the design at its best rather than at fixed batches."""
    with np.errstate(all="ignore"):
        return llmhw.api.search(scenario(i), [f"tpot_s<={tpot_s}"], objective)


def mapping_text(par: dict[str, Any]) -> str:
    """A mapping as 'tp4 ep2' (factors of 1 left out; 'tp1' when every factor is 1)."""
    text = " ".join(f"{k}{v}" for k, v in par.items() if isinstance(v, int) and v > 1) or "tp1"
    # moe_dp replicated: every replica holds all experts (not attention data parallel).
    return text + (" replicas" if par.get("moe_dp") == "replicated" else "")


def _best_table() -> Table:
    """Each design at its best batch under the same TPOT SLO, against the H200 at its best."""
    best = [search_design(i).best for i in range(len(DESIGNS))]
    cheap = [search_design(i, objective="cost_usd_per_mtok").best for i in range(len(DESIGNS))]
    base = best[BASE]
    rows = []
    for i, (b, c) in enumerate(zip(best, cheap, strict=True)):
        if b is None:
            rows.append({"design": SHORT[i], "best_mapping": None, "batch": None, "tpot_ms": None, "ttft_ms": None,
                         "output_tok_s_per_chip": None, "ratio_vs_h200": None, "cost_usd_per_mtok": None,
                         "min_cost_usd_per_mtok": None})
            continue
        rows.append({"design": SHORT[i], "best_mapping": mapping_text(b["parallelism"]), "batch": int(b["batch"]),
                     "tpot_ms": round(b["tpot_s"] * 1e3, 2), "ttft_ms": round(b["ttft_s"] * 1e3),
                     "output_tok_s_per_chip": round(b["output_tok_s_per_chip"], 1),
                     "ratio_vs_h200": None if base is None else
                     round(b["output_tok_s_per_chip"] / base["output_tok_s_per_chip"], 2),
                     "cost_usd_per_mtok": round(b["cost_usd_per_mtok"], 2),
                     "min_cost_usd_per_mtok": None if c is None else round(c["cost_usd_per_mtok"], 2)})
    note = (f"Each design at its best mapping under the same SLO, TPOT <= {TPOT_SLO_S * 1e3:.0f} ms: llmhw.search over "
            "every batch up to its memory limit (one chip, so the only mapping is tp1) for the most output "
            f"tokens/s per chip; {MODEL} FP8 weights and KV, {ISL} in / {OSL} out, default engine, each design in its "
            "own power envelope as above. cost_usd_per_mtok is at that point; min_cost_usd_per_mtok is a second "
            "search for the least cost under the same SLO. The stacking-designs table compares the designs at the "
            "same fixed batches: a different question.")
    return Table("stacking-best-under-slo", f"Each at its best mapping under the same SLO (TPOT <= "
                 f"{TPOT_SLO_S * 1e3:.0f} ms): tokens/s per chip", rows, note)


def best_finding(best_t: Table, curves: dict[int, dict[str, np.ndarray]]) -> str:
    """Which design wins at its best under the SLO, by how much, whether the fixed-batch verdicts
    (stacking-designs, ratios at equal batch) say the same, and whether a looser SLO changes the winner."""
    rows = best_t.rows
    ok = sorted((r for r in rows if r["output_tok_s_per_chip"] is not None), key=lambda r: -r["output_tok_s_per_chip"])
    head = (f"Each at its best mapping under the same SLO (TPOT <= {TPOT_SLO_S * 1e3:.0f} ms; llmhw.search over every "
            "batch to the memory limit): ")
    if not ok:
        return head + "no design meets the SLO."
    listed = "; ".join(f"{r['design']}: no batch meets it" if r["output_tok_s_per_chip"] is None else
                       f"{r['design']} {r['output_tok_s_per_chip']:.1f} tokens/s per chip (batch {r['batch']}, "
                       f"{r['tpot_ms']} ms, {r['ratio_vs_h200']:.2f}x the H200; least cost "
                       f"{r['min_cost_usd_per_mtok']} USD/Mtok)" for r in rows)
    text = head + listed + f". {ok[0]['design']} wins"
    if len(ok) > 1:
        text += f", {ok[0]['output_tok_s_per_chip'] / ok[1]['output_tok_s_per_chip']:.2f}x the runner-up ({ok[1]['design']})"
    changed = []
    for i in range(1, len(DESIGNS)):
        r = rows[i]
        v = verdict(curves, i)
        if r["ratio_vs_h200"] is None or not v.batches.size:
            continue
        fixed = "ahead" if v.ratio.min() >= 1 else "behind" if v.ratio.max() <= 1 else "mixed"
        at_best = "ahead" if r["ratio_vs_h200"] > 1 else "behind"
        if fixed != at_best:
            changed.append(f"{SHORT[i]} ({fixed} at equal batches, {at_best} at its best)")
    text += (". Against the equal-batch comparison the verdict differs for " + ", ".join(changed) if changed else
             ". The equal-batch comparison gives every design the same side of the H200")
    alt = [search_design(i, ALT_TPOT_SLO_S).best for i in range(len(DESIGNS))]
    alt_ok = [(b["output_tok_s_per_chip"], SHORT[i]) for i, b in enumerate(alt) if b is not None]
    if alt_ok:
        top = max(alt_ok)
        text += (f". Under the looser TPOT <= {ALT_TPOT_SLO_S * 1e3:.0f} ms {top[1]} wins "
                 f"({top[0]:.0f} tokens/s per chip)" + (": the SLO decides the verdict" if top[1] != ok[0]["design"]
                                                         else ": the same winner"))
    return text + "."


# -- findings --------------------------------------------------------------------------------


def _stacks() -> tuple[Any, Any, Any]:
    """The gen-1 and gen-2 stacks over 400 mm2, and the H200's HBM3E tier they are compared with."""
    return stack("3d-dram-soic-gen1", 12e9), stack("3d-dram-hybrid-bond-gen2", 16e9), lookup("h200").memory[0]


def _memory_findings() -> list[str]:
    """Bandwidth, access energy and static power of the stacks."""
    g1, g2, h200 = _stacks()
    t1, t2 = g1.as_memory_tech(), g2.as_memory_tech()
    mp = memory_presets()
    cap_w = g1.max_logic_power_density_w_per_m2 * DIE_M2
    return [
        f"Bandwidth: a 3D DRAM stack over 400 mm2 of the die gives {g1.bandwidth_bytes_per_s / 1e12:.1f} TB/s at "
        f"SoIC's 9 um pitch ({g1.connections / 1e6:.1f} M pads, {g1.data_fraction:.1%} carrying data at "
        f"{g1.gbps_per_connection:.2f} Gb/s) and {g2.bandwidth_bytes_per_s / 1e12:.1f} TB/s at a 3 um hybrid-bond "
        f"pitch: {g1.bandwidth_bytes_per_s / h200.bandwidth_bytes_per_s:.1f}x and "
        f"{g2.bandwidth_bytes_per_s / h200.bandwidth_bytes_per_s:.1f}x the H200's six HBM3E stacks, with "
        f"{g1.capacity_bytes / 1e9:.0f} and {g2.capacity_bytes / 1e9:.0f} GB. Bandwidth scales as 1/pitch^2.",
        f"Energy: access energy {g1.energy_j_per_bit * 1e12:.2f} (gen-1) and {g2.energy_j_per_bit * 1e12:.2f} pJ/bit "
        f"(gen-2) against HBM3E's {mp['hbm3e'].energy_j_per_bit * 1e12:.2f} and HBM4's "
        f"{mp['hbm4'].energy_j_per_bit * 1e12:.2f} (the paper's 2-3x), plus {t1.tier_static_power_w:.0f} and "
        f"{t2.tier_static_power_w:.0f} W of refresh and standby. At 4-12x the bandwidth the stack draws more when "
        f"it streams: {t1.access_power_w:.0f} and {t2.access_power_w:.0f} W of reads at full bandwidth "
        f"({t1.access_power_w / (STACK_M2 * 1e6):.2f} and {t2.access_power_w / (STACK_M2 * 1e6):.2f} W/mm2 over "
        f"400 mm2) against {h200.access_power_w:.0f} W (+{h200.tier_static_power_w:.0f} W static) for the H200's "
        f"HBM3E, while the die under the stack may shed {g1.max_logic_power_density_w_per_m2 / 1e6:.2f} W/mm2 "
        f"({cap_w:.0f} W), logic and stack together.",
    ]


def _design_findings(th: dict[str, Any], designs_t: Table, curves: dict[int, dict[str, np.ndarray]],
                     ideal: dict[int, dict[str, np.ndarray]]) -> list[str]:
    """The envelope, Q8, TPOT and tokens/s against the H200, and J/token, each from the results."""
    d = {(r["design"], r["batch"]): r for r in designs_t.rows}
    base1 = d[(SHORT[BASE], 1)]
    fp = family_params("nvidia-gpu")
    floor = chip_physics(lookup("h200")).gemv_floor
    env = {s: th[s]["envelope"] for s in SHORT[1:]}
    hbm_static, hbm_access = h200_memory_w()
    peak = lookup("h200").peak_flops["fp8"]
    out = [
        f"Envelope, memory included: the H200's {TDP_W:.0f} W cover the GH100 ({env[SHORT[1]].logic_w:.0f} W at full "
        f"clock) and its HBM3E ({hbm_access + hbm_static:.0f} W at full bandwidth). With the stack's thermal cap "
        f"({env[SHORT[1]].thermal_w:.0f} W for logic and stack) the clock and the stack's data rate fall to "
        f"{env[SHORT[1]].fraction:.0%} (gen-1) and {env[SHORT[2]].fraction:.0%} (gen-2) at a fixed voltage, "
        f"{env[SHORT[3]].fraction:.0%} with voltage scaled too; in the H200's {TDP_W:.0f} W without the cap gen-2 runs "
        f"at {env[SHORT[4]].fraction:.0%}. The stacks then deliver "
        + ", ".join(f"{th[s]['bw'] * th[s]['clock'] / 1e12:.1f} TB/s ({s})" for s in SHORT[1:])
        + f" and {min(th[s]['clock'] for s in SHORT[1:]) * peak / 1e12:.0f}-"
        f"{max(th[s]['clock'] for s in SHORT[1:]) * peak / 1e12:.0f} FP8 TFLOP/s, "
        f"against 4.8 TB/s and {peak / 1e12:.0f} for the H200. Leaving the memory out of the cap, as a logic-only "
        f"cap does, would give gen-1 a clock of {min(1.0, env[SHORT[1]].thermal_w / env[SHORT[1]].logic_w):.0%}.",
        f"Does decode stay memory-bound at the lower clock (Q8)? The clock and the stack's data rate fall together, "
        f"so the ridge does not move with the throttle: on the ideal roofline decode is memory-bound up to batch "
        f"{nb(th[SHORT[1]]['ideal'])} (gen-1) and {nb(th[SHORT[2]]['ideal'])} (gen-2), against "
        f"{nb(th[SHORT[BASE]]['ideal'])} for the H200. With GPU kernels as the engine fits them (eff(B) = "
        f"{fp.compute_eff_max:.2f} x max(B / (B + {fp.compute_m_half:.0f}), {floor:.3f})): "
        f"{bound_text(th[SHORT[1]]['fitted'], 'gen-1')}, {bound_text(th[SHORT[2]]['fitted'], 'gen-2')} "
        f"({bound_text(th[SHORT[BASE]]['fitted'], 'HBM3E')}).",
    ]
    gain = {i: float(ideal[BASE]["tpot_s"][0] / ideal[i]["tpot_s"][0]) for i in range(1, len(DESIGNS))}
    for i in range(1, len(DESIGNS)):
        s1 = d.get((SHORT[i], 1))
        lead = (f"{SHORT[i]}: TPOT at batch 1 {s1['tpot_ms']} ms against the H200's {base1['tpot_ms']} ms "
                f"({gain[i]:.1f}x faster on the ideal roofline); " if s1 else f"{SHORT[i]}: ")
        out.append(lead + verdict(curves, i).text + ".")
    e = {i: d.get((SHORT[i], 1)) for i in range(len(DESIGNS))}
    out.append(
        "J/token at batch 1 (whole system): " + ", ".join(
            f"{e[i]['energy_j_per_token']:.1f} J ({SHORT[i]}; memory {e[i]['decode_memory_access_j_per_token']:.2f} J "
            f"of access and {e[i]['memory_static_j_per_token']:.2f} J static)" for i in e if e[i] is not None)
        + ". Static and host power over a longer step dominate at batch 1; at a fixed voltage J/FLOP stays the "
        "chip's, with DVFS it falls as the square of the clock.")
    capped = [i for i, dz in enumerate(DESIGNS) if dz.thermal_cap]
    draws = [r["power_w_per_chip"] for r in designs_t.rows if r["design"] in {SHORT[i] for i in capped}]
    g1 = stacking_presets()["3d-dram-soic-gen1"]
    prov = g1.provenance["max_logic_power_density_w_per_m2"]
    out.append(
        f"Assumptions and doubts: the envelope holds the logic at full activity (its full-clock power x f^k) and "
        f"the stack streaming at its throttled rate, while the engine's average draw under the thermal cap is "
        f"{min(draws)}-{max(draws)} W against {env[SHORT[1]].thermal_w:.0f} W, so a power manager that throttles "
        "on measured power would run faster; the clock and the stack's data rate throttle together (a split that "
        "favours the stack would help decode and hurt prefill); the decode bound follows the small-batch GEMM "
        f"efficiency, whose floor is hardware (a GEMV padded to the tensor core's tile: {floor:.3f} of the software's "
        "large-GEMM share of peak) and whose curve above it is the NVIDIA software's fit; the stacks' static power and the split "
        f"of HBM power into access and static are assumed (none published); the cap, "
        f"{g1.max_logic_power_density_w_per_m2 / 1e6:.2f} W/mm2, is an estimate in "
        f"{prov.low / 1e6:.2f}-{prov.high / 1e6:.2f}.")
    return out


def _figures(th: dict[str, Any], designs_t: Table, curves: dict[int, dict[str, np.ndarray]],
             ideal: dict[int, dict[str, np.ndarray]]) -> list[Figure]:
    g1, g2, h200 = _stacks()
    env1, env2 = th[SHORT[1]]["envelope"], th[SHORT[2]]["envelope"]
    v2 = verdict(curves, 2)
    return [
        Figure("stacking-bandwidth", f"Bandwidth grows as 1/pitch^2: over 400 mm2 a 9 um SoIC stack gives "
               f"{g1.bandwidth_bytes_per_s / 1e12:.1f} TB/s ({g1.bandwidth_bytes_per_s / h200.bandwidth_bytes_per_s:.0f}x an "
               f"H200's HBM3E) and a 3 um hybrid bond {g2.bandwidth_bytes_per_s / 1e12:.1f} TB/s, beyond eight HBM4 "
               "stacks.", _fig_bandwidth()),
        Figure("stacking-thermal", f"With the stack's own power inside the {env1.thermal_w:.0f} W the die may shed, "
               f"clock and data rate fall to {env1.fraction:.0%} (gen-1) and {env2.fraction:.0%} (gen-2), not the "
               f"{min(1.0, env1.thermal_w / env1.logic_w):.0%} a logic-only cap gives.", _fig_thermal(th)),
        Figure("stacking-tpot-energy", f"At the same envelope, memory included, gen-2 under the thermal cap: "
               f"{v2.text}.", _fig_designs(curves, ideal)),
    ]


def _setups(curves: dict[int, dict[str, np.ndarray]]) -> dict[str, str]:
    """Each figure's setup line, from the study's constants and sweeps."""
    presets = [d.preset for d in DESIGNS[1:3]]
    fits = [BATCHES[a["fits"].astype(bool)] for a in curves.values()]
    hi = max(int(b.max()) for b in fits if b.size)
    return {
        "stacking-bandwidth": style.setup(f"{', '.join(presets)} over {STACK_M2 * 1e6:.0f} mm2 of a GH100 die",
                                          f"bond pitch {PITCHES_M[0] * 1e6:.0f}-{PITCHES_M[-1] * 1e6:.0f} um"),
        "stacking-thermal": style.setup(f"GH100 die ({DIE_M2 * 1e6:.0f} mm2) + 3D DRAM over {STACK_M2 * 1e6:.0f} mm2 vs "
                                        f"H200 ({TDP_W:.0f} W with its HBM3E)", "logic and memory at full activity"),
        "stacking-tpot-energy": style.setup(f"{llmhw.load_model(MODEL).name} FP8 on one H200 or GH100 + 3D DRAM",
                                            f"{style.tokens(ISL)} in / {style.tokens(OSL)} out",
                                            f"batch {int(BATCHES[0])}-{hi} (as fits)"),
    }


def _summary(th: dict[str, Any], best_t: Table) -> str:
    g1, g2, h200 = _stacks()
    env1, env2 = th[SHORT[1]]["envelope"], th[SHORT[2]]["envelope"]
    ok = sorted((r for r in best_t.rows if r["output_tok_s_per_chip"] is not None),
                key=lambda r: -r["output_tok_s_per_chip"])
    best = "" if not ok else (f" At each design's best batch under TPOT <= {TPOT_SLO_S * 1e3:.0f} ms, {ok[0]['design']} "
                              f"serves the most ({ok[0]['ratio_vs_h200']:.2f}x the H200's tokens/s).")
    return (f"A 3D DRAM stack over {STACK_M2 * 1e6:.0f} mm2 of the die gives {g1.bandwidth_bytes_per_s / 1e12:.1f} "
            f"(9 um) to {g2.bandwidth_bytes_per_s / 1e12:.1f} TB/s (3 um), "
            f"{g1.bandwidth_bytes_per_s / h200.bandwidth_bytes_per_s:.0f}-"
            f"{g2.bandwidth_bytes_per_s / h200.bandwidth_bytes_per_s:.0f}x an H200's HBM3E. With the stack's own power "
            f"inside the {env1.thermal_w:.0f} W the die may shed, clock and data rate fall to {env1.fraction:.0%} "
            f"(gen-1) and {env2.fraction:.0%} (gen-2)." + best)


def run() -> Study:
    tech_t = _tech_table()
    thermal_t, th = _thermal_table()
    curves = {i: _sweep(scenario(i), BATCHES) for i in range(len(DESIGNS))}
    ideal = {i: _sweep(scenario(i, engine="ideal"), BATCHES) for i in range(len(DESIGNS))}
    designs_t = _designs_table(curves)
    best_t = _best_table()
    findings = [*_memory_findings(), *_design_findings(th, designs_t, curves, ideal), best_finding(best_t, curves)]
    figures = _figures(th, designs_t, curves, ideal)
    setups = _setups(curves)
    for f in figures:
        f.setup = setups[f.name]
    return Study(
        name="stacking", title="RQ3b: 3D memory-on-logic stacking vs HBM",
        question=("How much bandwidth, access energy and static power does a memory stack on the compute die give "
                  "over HBM's shoreline, what clock and data rate do the thermal cap and the TDP leave once the "
                  "stack's own power counts, and does decode stay memory-bound there (TPOT, tokens/s and J/token at "
                  "the same power envelope, memory included)? (Ma & Patterson 2026, section 4.5; Q8)"),
        tables=[tech_t, thermal_t, designs_t, best_t], figures=figures, findings=findings,
        summary=_summary(th, best_t))
