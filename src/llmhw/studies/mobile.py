"""RQ5 (the paper's Q14): LLMs of 1-8 B parameters on phone SoCs.

What fits in a phone's LPDDR, how fast one user's tokens come (decode is a stream of every weight
per token, so tok/s follows LPDDR bandwidth / weight bytes), what a token costs in energy, whether
streaming weights from the phone's UFS flash (LLM-in-a-flash style) is a way past the DRAM
capacity, and which of the paper's four directions help a phone.

Everything is computed with ``llmhw.api.sweep_economics`` (the engine plus the energy model). Phones
have no TDP in the catalog, so the economics' static power would rest on a fallback TDP; this
study reports the *dynamic* energy per token (FLOPs x J/FLOP + bits moved x J/bit, from the
engine's accounting), which does not depend on it.

Comparison basis for the directions (like with like): one user (batch 1) is the phone's workload,
not a mapping choice. Each direction is shown at the phone's own interface and, where its
preset brings another (the 3D DRAM stack's 4.9 TB/s), also at the LPDDR's bandwidth, labelled. The
power envelope is one assumed budget (``POWER_BUDGET_W``) for compute and memory, shown two ways:
dynamic power only (as before), and with the memories' standby power (refresh, PHY: the static
power llmhw.economics counts for every tier) taken out of it first.
PIM runs an operator only where that is faster (the engine's per-operator choice); each direction
is shown at every weight precision and, labelled, at the precision that suits it best.
"""

from __future__ import annotations

import math
from typing import Any

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
from matplotlib.figure import Figure as MplFigure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import FuncFormatter, NullLocator  # noqa: E402

import llmhw  # noqa: E402
from llmhw import api  # noqa: E402
from llmhw.api import sweep_economics as econ_sweep  # noqa: E402
from llmhw.core.units import bytes_per_element  # noqa: E402
from llmhw.hardware.catalog import lookup, stacking_presets  # noqa: E402
from llmhw.scenario.economics import EconomicsParams  # noqa: E402
from llmhw.studies import style
from llmhw.studies.base import Figure, Study, Table  # noqa: E402

PHONES: tuple[str, ...] = (
    "snapdragon-8-gen3", "snapdragon-8-elite", "snapdragon-8-elite-gen5",
    "apple-a17-pro", "apple-a18-pro", "apple-a19-pro", "google-tensor-g4",
)
MODELS: tuple[str, ...] = ("llama-3.2-1b", "qwen2.5-1.5b", "llama-3.2-3b", "phi-3-mini", "qwen2.5-7b", "llama-3.1-8b")
PRECISIONS: tuple[str, ...] = ("fp16", "int8", "int4")
INPUT_TOKENS = 1024                 # a chat turn with some context
OUTPUT_TOKENS = 256
TARGET_TOK_S = 10.0                 # a comfortable reading speed for one user
# Assumed power a phone can give the LLM's dynamic (compute + memory) work, sustained: phones
# sustain ~3-4 W in all (the catalog's note on apple-a18-pro, a weak source); 3 W is also the
# paper's Table 3 power of one LPDDR5 16 GB module. An assumption of this study, not a catalog number.
POWER_BUDGET_W = 3.0
FLASH_FRACTIONS = np.array([1.0, 0.5, 0.25, 0.1, 0.05, 0.025, 0.01])
FLASH_CASES: tuple[tuple[str, str, str], ...] = (
    ("apple-a18-pro", "llama-3.1-8b", "int8"),      # 8.0 GB of weights, 7.2 GB usable of 8 GB
    ("snapdragon-8-elite", "llama-3.1-8b", "fp16"),  # 16.1 GB of weights, 14.4 GB usable of 16 GB
    ("google-tensor-g4", "qwen2.5-7b", "fp16"),     # 15.2 GB of weights on 16 GB
)
DIRECTIONS_PHONE = "snapdragon-8-elite"
DIRECTIONS_MODEL = "llama-3.2-3b"
DIRECTION_PRECISIONS: tuple[str, ...] = ("fp16", "int8", "int4")
STACK = "3d-dram-soic-gen1"

_PLAIN = FuncFormatter(lambda v, _: f"{v:g}")
_PLAIN_MINOR = FuncFormatter(lambda v, _: f"{v:g}" if f"{v:.1e}"[0] in "235" else "")

_NAMES = {
    "snapdragon-8-gen3": "Snapdragon 8 Gen 3", "snapdragon-8-elite": "Snapdragon 8 Elite",
    "snapdragon-8-elite-gen5": "Snapdragon 8 Elite Gen 5", "apple-a17-pro": "Apple A17 Pro",
    "apple-a18-pro": "Apple A18 Pro", "apple-a19-pro": "Apple A19 Pro", "google-tensor-g4": "Google Tensor G4",
}



def _ufs_j_per_bit() -> float:
    """The access energy per bit llmhw.economics prices UFS reads at (its fallback for ``ufs``)."""
    return EconomicsParams.default().memory_energy_j_per_bit_fallback["ufs"]

def sig(v: float, n: int = 3) -> float:
    """``v`` rounded to ``n`` significant figures."""
    return float(f"{v:.{n}g}")


def phone_name(chip_id: str) -> str:
    return _NAMES.get(chip_id, chip_id)


def compute_unit(chip_id: str) -> str:
    c = lookup(chip_id)
    return c.default_compute_unit or "gpu"


def engine_for(chip_id: str) -> str:
    """The usual LLM path: Snapdragon's Hexagon NPU through QNN/Genie, Apple and Tensor GPUs
    through llama.cpp (as in the validation rows)."""
    return "qnn" if compute_unit(chip_id) == "npu" else "llama.cpp"


def scenario(phone: str, model: str, weights: str, **extra: Any) -> dict[str, Any]:
    s: dict[str, Any] = {
        "model": model, "hardware": phone, "n_chips": 1, "engine": engine_for(phone),
        "precision": {"weights": weights, "kv_cache": "fp16", "activations": "fp16"},
        "workload": {"input_tokens": INPUT_TOKENS, "output_tokens": OUTPUT_TOKENS, "batch": 1},
    }
    s.update(extra)
    return s


def _one(s: dict[str, Any]) -> dict[str, float]:
    """Engine + economics arrays for one design point, as floats."""
    a = econ_sweep(s, batch=np.array([1]))
    return {k: (bool(v[0]) if np.asarray(v).dtype == bool else float(v[0])) for k, v in a.items()
            if np.ndim(v) == 1 and np.size(v) == 1}


def dynamic_j_per_token(a: dict[str, float]) -> float:
    """Dynamic energy per output token (decode step + share of the prefill), J: independent of the
    phone's (missing) TDP."""
    return a["energy_j_per_token_decode"] + a["energy_j_per_token_prefill"]


def bandwidth_bound_tok_s(phone: str, model: str, weights: str) -> float:
    """The floor every decode step pays: read every active weight once (the input-embedding lookup
    excluded) at the LPDDR peak bandwidth."""
    m = llmhw.load_model(model)
    bw = lookup(phone).memory[0].bandwidth_bytes_per_s
    return bw / (m.active_params * bytes_per_element(weights))


# ------------------------------------------------------------------ what fits, how fast
def fit_table() -> list[dict[str, Any]]:
    rows = []
    for ph in PHONES:
        chip = lookup(ph)
        tier = chip.memory[0]
        for model in MODELS:
            m = llmhw.load_model(model)
            for prec in PRECISIONS:
                a = _one(scenario(ph, model, prec))
                bound = bandwidth_bound_tok_s(ph, model, prec)
                rows.append({
                    "phone": phone_name(ph), "chip_id": ph,
                    "compute_unit": compute_unit(ph), "engine": engine_for(ph),
                    "dram_gb": round(tier.capacity_bytes / 1e9, 1),
                    "dram_bandwidth_gb_per_s": round(tier.bandwidth_bytes_per_s / 1e9, 1),
                    "model": model, "params_b": round(m.total_params / 1e9, 2), "weights": prec,
                    "weights_gb": round(a["weights_bytes"] / 1e9, 2),
                    "kv_cache_gb": round(a["kv_cache_bytes"] / 1e9, 3),
                    "usable_gb": round(a["usable_bytes"] / 1e9, 1),
                    "fits": bool(a["fits"]),
                    "decode_tok_s": sig(a["tok_s_per_user"]),
                    "bandwidth_bound_tok_s": sig(bound),
                    "share_of_bound": round(a["tok_s_per_user"] / bound, 2),
                    "ttft_s": sig(a["ttft_s"]),
                    "dynamic_j_per_token": sig(dynamic_j_per_token(a)),
                    "overhead_share_of_step": round(a["decode_overhead_s"] / a["decode_step_s"], 3),
                    "memory_share_of_dynamic": round(
                        a["energy_j_per_token_decode"] * a["decode_step_energy_j_memory"]
                        / max(a["decode_step_energy_j"], 1e-30) / dynamic_j_per_token(a), 3),
                    "lpddr_pj_per_bit": round(api.economics_constants(scenario(ph, model, prec)).read_j_per_bit[0]
                                              * 1e12, 2),
                })
    return rows


# ------------------------------------------------------------------ LLM-in-a-flash
def flash_rows() -> list[dict[str, Any]]:
    """Weights in the phone's UFS 4.0 flash, a fraction ``f`` of them read per token.

    Assumption (LLM-in-a-flash, Alizadeh et al. 2023, keeps the recently used FFN neurons in DRAM
    and reads only the newly predicted-active ones from flash): per token a fraction f of the weight
    bytes comes from flash, and the whole model computes from DRAM. Modelled as the UFS tier at
    bandwidth / f (f of the bytes at full bandwidth take the same time), its flash-page latency kept,
    with the DRAM side (the same phone with DRAM enough to hold the model) priced in parallel, as
    llmhw prices separate tiers: tok/s = min(flash-limited, DRAM-resident). Flash read energy: f x
    weight bytes x 8 x the UFS tier's J/bit; DRAM and compute energy: the DRAM-resident run's.
    """
    rows = []
    ufs = lookup("ufs4")
    for ph, model, prec in FLASH_CASES:
        chip = lookup(ph)
        dram = chip.memory[0]
        big = scenario(ph, model, prec, overrides={"chip.memory[0].capacity_bytes": 64e9})
        resident = _one(big)
        base = _one(scenario(ph, model, prec))
        for f in FLASH_FRACTIONS:
            s = scenario(ph, model, prec,
                         overrides={"chip.memory[1]": {"tech": "ufs4", "bandwidth_bytes_per_s": ufs.bandwidth_bytes_per_s / f}},
                         placement={"weights": "ufs4"})
            a = _one(s)
            j_bit = api.economics_constants(s).read_j_per_bit[1]
            flash_read = float(api.evaluate(s, batch=1).decode.accounting.tier_read_bytes[1])
            flash_j = flash_read * f * 8 * j_bit          # batch 1: one token per step
            tok_s = min(a["tok_s_per_user"], resident["tok_s_per_user"])
            rows.append({
                "phone": phone_name(ph), "chip_id": ph, "model": model, "weights": prec,
                "weights_gb": round(a["weights_bytes"] / 1e9, 2),
                "dram_usable_gb": round(base["usable_bytes"] / 1e9, 1),
                "fits_in_dram": bool(base["fits"]),
                "flash_fraction_per_token": float(f),
                "flash_gb_per_token": sig(flash_read * f / 1e9, 4),
                "flash_limited_tok_s": sig(a["tok_s_per_user"]),
                "dram_resident_tok_s": sig(resident["tok_s_per_user"]),
                "tok_s": sig(tok_s),
                "flash_j_per_token": sig(float(flash_j)),
                "dynamic_j_per_token": sig(float(dynamic_j_per_token(resident) + flash_j)),
                "dram_bandwidth_gb_per_s": round(dram.bandwidth_bytes_per_s / 1e9, 1),
                "flash_bandwidth_gb_per_s": round(ufs.bandwidth_bytes_per_s / 1e9, 1),
            })
    return rows


def flash_fraction_for(rows: list[dict[str, Any]], share: float) -> float | None:
    """Largest fraction of the weights read from flash per token at which tok/s still reaches
    ``share`` of the DRAM-resident speed (log-interpolated over the sweep)."""
    rows = sorted(rows, key=lambda r: r["flash_fraction_per_token"])
    target = share * rows[0]["dram_resident_tok_s"]
    ok = [r for r in rows if r["flash_limited_tok_s"] >= target]
    if not ok:
        return None
    f_ok = max(r["flash_fraction_per_token"] for r in ok)
    above = [r for r in rows if r["flash_fraction_per_token"] > f_ok]
    if not above:
        return f_ok
    lo, hi = [r for r in rows if r["flash_fraction_per_token"] == f_ok][0], above[0]
    # flash-limited tok/s ~ 1 / f over the sweep: interpolate log tok/s against log f
    x0, x1 = math.log(lo["flash_fraction_per_token"]), math.log(hi["flash_fraction_per_token"])
    y0, y1 = math.log(lo["flash_limited_tok_s"]), math.log(hi["flash_limited_tok_s"])
    if y1 == y0:
        return f_ok
    return math.exp(x0 + (math.log(target) - y0) * (x1 - x0) / (y1 - y0))


# ------------------------------------------------------------------ the four directions on a phone
def stack_at_bandwidth(bandwidth: float) -> dict[str, Any]:
    """The 3D DRAM stack preset with its data pads cut so that it reads at ``bandwidth`` (B/s): the
    same stack (capacity, J/bit, footprint) behind the interface of the memory it is compared with."""
    st = stacking_presets()[STACK]
    return {"tech": STACK, "data_fraction": st.data_fraction * bandwidth / st.bandwidth_bytes_per_s}


def stack_same_interface(phone: str) -> dict[str, Any]:
    """Overrides putting the stack on ``phone`` behind the interface of its LPDDR: the same peak
    bandwidth and the same stream efficiency (the catalog has none for the hypothetical stack, which
    would otherwise stream at 100% against the LPDDR's measured share). The stack is the chip's
    first tier (docs/stacking.md)."""
    lp = lookup(phone).memory[0]
    o: dict[str, Any] = {"chip.stacked": stack_at_bandwidth(lp.bandwidth_bytes_per_s)}
    if lp.stream_efficiency is not None:
        o["chip.memory[0].stream_efficiency"] = lp.stream_efficiency
    return o


def direction_variants() -> list[tuple[str, str, dict[str, Any] | None, str]]:
    """(key, label, extra scenario keys or None when not applicable, what it is)."""
    lp = lookup(DIRECTIONS_PHONE).memory[0]
    st = stacking_presets()[STACK]
    return [
        ("baseline", "LPDDR5X (today)", {}, "the phone as catalogued"),
        ("pim", "PIM in LPDDR (pim-lpddr5)", {"overrides": {"chip.near_memory": "pim-lpddr5"}},
         "Samsung LPDDR5-PIM preset on the phone's LPDDR5X tier, same interface (GEMV offload where faster)"),
        ("stack3d", f"3D DRAM on the SoC ({STACK}), its own {st.bandwidth_bytes_per_s / 1e12:.1f} TB/s",
         {"overrides": {"chip.stacked": STACK}},
         f"a {st.capacity_bytes / 1e9:.0f} GB, {st.bandwidth_bytes_per_s / 1e12:.1f} TB/s DRAM stack on the SoC die "
         "(100 mm2 preset): a wider interface than the LPDDR's; the catalog has no phone die area or TDP, so no "
         "thermal cap is applied"),
        ("stack3d_same_bw", f"3D DRAM on the SoC at the LPDDR's {lp.bandwidth_bytes_per_s / 1e9:.1f} GB/s",
         {"overrides": stack_same_interface(DIRECTIONS_PHONE)},
         "the same stack with its data pads cut to the LPDDR5X's bandwidth and the LPDDR's stream efficiency: "
         "same interface, only its energy per bit and capacity differ"),
        ("flash", "Weights in UFS 4.0 flash", {"overrides": {"chip.memory[1]": "ufs4"}, "placement": {"weights": "ufs4"}},
         "the capacity direction on a phone (HBM and HBF are infeasible there): every weight read from "
         "UFS 4.0 each token, through the flash's own interface"),
        ("pnm", "PNM (none for phones)", None, "no phone PNM device in the catalog"),
        ("interconnect", "Low-latency interconnect", None, "one chip: a phone's decode step has no collectives"),
    ]


def memory_standby_w(s: dict[str, Any]) -> float:
    """Standby power of a design's memories (refresh, PHY), W: every tier's static power as
    llmhw.economics counts it (static_power_w x devices, else the class's static share of the
    device's full-bandwidth power; docs/economics.md)."""
    return float(sum(api.economics_constants(llmhw.Scenario.from_dict(s)).tier_static_w))


def weights_interface(s: dict[str, Any], a: dict[str, float]) -> float:
    """External bandwidth (B/s) of the tier the decode step reads most bytes from: the weights'."""
    tiers = llmhw.Scenario.from_dict(s).chip.memory
    reads = [a.get(f"decode_tier{i}_read_bytes", 0.0) for i in range(len(tiers))]
    return tiers[int(np.argmax(reads))].bandwidth_bytes_per_s


def tok_s_within(tok_s: float, j_per_token: float, budget_w: float, standby_w: float = 0.0) -> float:
    """Decode speed a power budget allows: what is left after the standby power, over the dynamic
    energy per token, and never more than the unconstrained speed."""
    return min(tok_s, max(budget_w - standby_w, 0.0) / j_per_token)


def best_precision(rows: list[dict[str, Any]], key: str) -> dict[str, Any] | None:
    """The direction's row at the precision with the most tok/s within the budget (standby
    included); None when the budget allows it none."""
    rs = [r for r in rows if r["direction"] == key and r["applicable"]]
    best = max(rs, key=lambda r: r["tok_s_at_budget"], default=None)
    return best if best is not None and best["tok_s_at_budget"] > 0 else None


_SAME_AS_BASE = ("decode_tok_s", "dynamic_j_per_token", "dynamic_power_w", "interface_bandwidth_gb_s",
                 "memory_standby_w", "tok_s_at_budget_dynamic_only", "tok_s_at_budget", "near_memory_share")


def direction_rows() -> list[dict[str, Any]]:
    rows = []
    for prec in DIRECTION_PRECISIONS:
        base = None
        for key, label, extra, what in direction_variants():
            row: dict[str, Any] = {"direction": key, "label": label, "phone": phone_name(DIRECTIONS_PHONE),
                                   "model": DIRECTIONS_MODEL, "weights": prec, "what": what}
            if extra is None:
                ref = base or {}
                row.update({k: ref.get(k) for k in _SAME_AS_BASE})
                row["applicable"] = False
                rows.append(row)
                continue
            s = scenario(DIRECTIONS_PHONE, DIRECTIONS_MODEL, prec, **extra)
            a = _one(s)
            tok_s = a["tok_s_per_user"]
            j = dynamic_j_per_token(a)
            standby = memory_standby_w(s)
            row.update({
                "applicable": True,
                "interface_bandwidth_gb_s": sig(weights_interface(s, a) / 1e9),
                "decode_tok_s": sig(tok_s),
                "dynamic_j_per_token": sig(j),
                "dynamic_power_w": sig(j * tok_s),
                "memory_standby_w": sig(standby),
                "tok_s_at_budget_dynamic_only": sig(tok_s_within(tok_s, j, POWER_BUDGET_W)),
                "tok_s_at_budget": sig(tok_s_within(tok_s, j, POWER_BUDGET_W, standby)),
                "near_memory_share": round(a["decode_near_memory_s"] / a["tpot_s"], 2),
            })
            if key == "baseline":
                base = row
            rows.append(row)
    for key, _, extra, _ in direction_variants():
        if extra is None:
            continue
        best = best_precision(rows, key)
        for r in rows:
            if r["direction"] == key:
                r["best_precision_for_direction"] = r is best
    return rows


# ------------------------------------------------------------------ figures
# One colour and marker per phone, one colour per precision (style.PALETTE: colour-blind safe).
PHONE_COLORS = dict(zip(PHONES, (style.PALETTE[0], style.PALETTE[5], style.PALETTE[2], style.PALETTE[1],
                                 style.PALETTE[3], style.PALETTE[4], style.PALETTE[9]), strict=True))
PRECISION_COLORS = {"fp16": style.PALETTE[0], "int8": style.PALETTE[2], "int4": style.PALETTE[3]}


def _fig_fit(rows: list[dict[str, Any]]) -> MplFigure:
    fig, ax = style.figure(8.0, 5.4)
    markers = dict(zip(PHONES, "osD^v<>", strict=True))
    for ph in PHONES:
        rs = [r for r in rows if r["chip_id"] == ph]
        fit = [r for r in rs if r["fits"]]
        nofit = [r for r in rs if not r["fits"]]
        r0 = rs[0]
        ax.scatter([r["weights_gb"] for r in fit], [r["decode_tok_s"] for r in fit], marker=markers[ph],
                   color=PHONE_COLORS[ph], s=28, label=f"{phone_name(ph)} ({r0['dram_gb']:g} GB, "
                   f"{r0['dram_bandwidth_gb_per_s']:g} GB/s, {r0['compute_unit'].upper()})")
        ax.scatter([r["weights_gb"] for r in nofit], [r["decode_tok_s"] for r in nofit], marker=markers[ph],
                   facecolors="none", edgecolors=PHONE_COLORS[ph], s=28)
    x = np.logspace(np.log10(0.5), np.log10(20), 50)
    for bw, ls in ((51.2, ":"), (84.8, "--")):
        ax.plot(x, bw / x, color="0.4", ls=ls, lw=1)
        ax.text(0.75, bw / 0.75 * 1.06, f"{bw:g} GB/s / weight bytes", color="0.3", fontsize=8, ha="left",
                va="bottom")
    for cap in (8, 12, 16):
        ax.axvline(0.9 * cap, color="0.75", lw=0.8, zorder=0)
        ax.text(0.9 * cap * 0.97, 1.08, f"{cap} GB DRAM", fontsize=8, color="0.35", ha="right", va="bottom",
                rotation=90)
    ax.axhline(TARGET_TOK_S, color="0.6", lw=0.8, ls="-.")
    ax.text(0.52, TARGET_TOK_S * 1.05, f"{TARGET_TOK_S:g} tok/s", fontsize=8, color="0.4")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(0.5, 20)
    ax.set_ylim(1, 300)                # room above the points for the legend
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(_PLAIN)
        axis.set_minor_formatter(_PLAIN_MINOR)
    ax.tick_params(which="minor", labelsize=8)
    ax.set_xlabel("weight bytes (GB): 1-8 B models at FP16, INT8, INT4")
    ax.set_ylabel("single-user decode speed (tokens/s)")
    ax.set_title("Decode speed vs model size (filled: fits in 90% of DRAM, hollow: does not)")
    ax.legend(fontsize=8, loc="upper right", title="SoC (DRAM, LPDDR bandwidth, unit)", title_fontsize=8)
    ax.grid(True, which="both", alpha=0.25)
    return fig


def _fig_flash(rows: list[dict[str, Any]]) -> MplFigure:
    fig, (ax1, ax2) = style.figure(8.0, 4.9, 1, 2)
    for (ph, model, prec), c in zip(FLASH_CASES, (style.PALETTE[0], style.PALETTE[1], style.PALETTE[2]), strict=True):
        rs = sorted([r for r in rows if r["chip_id"] == ph and r["model"] == model and r["weights"] == prec],
                    key=lambda r: r["flash_fraction_per_token"])
        f = [100 * r["flash_fraction_per_token"] for r in rs]
        lab = (f"{phone_name(ph)}, {model} {prec.upper()} ({rs[0]['weights_gb']:.1f} GB > "
               f"{rs[0]['dram_usable_gb']:g} GB usable)")
        ax1.plot(f, [r["tok_s"] for r in rs], "o-", color=c, label=lab, ms=4)
        ax1.axhline(rs[0]["dram_resident_tok_s"], color=c, ls="--", lw=0.8)
        ax2.plot(f, [r["dynamic_j_per_token"] for r in rs], "o-", color=c, ms=4)
    ax1.plot([], [], "k--", lw=0.8, label="the same model if DRAM could hold it")
    ticks = [100 * f for f in FLASH_FRACTIONS]
    for ax in (ax1, ax2):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xticks(ticks, [f"{t:g}%" for t in ticks], rotation=45)
        ax.xaxis.set_minor_locator(NullLocator())
        ax.yaxis.set_major_formatter(_PLAIN)
        ax.yaxis.set_minor_formatter(_PLAIN_MINOR)
        ax.tick_params(axis="y", which="minor", labelsize=8)
        ax.set_xlabel("weights read from UFS 4.0 per token")
        ax.grid(True, which="both", alpha=0.25)
        ax.invert_xaxis()
    ax1.set_ylabel("decode speed (tokens/s)")
    ax2.set_ylabel(f"dynamic energy (J per token; flash {_ufs_j_per_bit() * 1e12:.0f} pJ/bit)")
    ax1.set_title("(a) speed")
    ax2.set_title("(b) energy")
    fig.legend(*ax1.get_legend_handles_labels(), fontsize=8, loc="outside lower center", ncol=1)
    return fig


def _fig_directions(rows: list[dict[str, Any]]) -> MplFigure:
    # Three panels one above the other, 8 in wide: bar labels stay at 8 pt.
    fig, axes = style.figure(8.0, 8.6, 3, 1, sharex=True)
    keys = [k for k, _, extra, _ in direction_variants() if extra is not None]
    st_bw = stacking_presets()[STACK].bandwidth_bytes_per_s
    labels = {"baseline": "LPDDR5X\n(today)", "pim": "LPDDR5\n-PIM", "stack3d": f"3D DRAM\n{st_bw / 1e12:.1f} TB/s",
              "stack3d_same_bw": "3D DRAM\nat LPDDR\nbandwidth", "flash": "weights\nin UFS 4.0"}
    width = 0.8 / len(DIRECTION_PRECISIONS)
    xs = np.arange(len(keys))
    metrics = (("decode_tok_s", "tokens/s", "(a) decode speed, no power limit"),
               ("dynamic_j_per_token", "J per token", "(b) dynamic energy per token"),
               ("tok_s_at_budget", "tokens/s", f"(c) decode speed within {POWER_BUDGET_W:g} W, the memories' "
                                              "standby power counted"))
    for ax, (m, ylab, title) in zip(axes, metrics, strict=True):
        positive = [r[m] for r in rows if r["applicable"] and r[m] > 0]
        for i, prec in enumerate(DIRECTION_PRECISIONS):
            rs = [next(r for r in rows if r["direction"] == k and r["weights"] == prec) for k in keys]
            x = xs + (i - (len(DIRECTION_PRECISIONS) - 1) / 2) * width
            vals = [r[m] for r in rs]
            # In (c) a label goes above the bar's dynamic-power tick too.
            tops = [max(v, r["tok_s_at_budget_dynamic_only"]) if m == "tok_s_at_budget" else v
                    for v, r in zip(vals, rs, strict=True)]
            bars = ax.bar(x, vals, width, color=PRECISION_COLORS[prec], label=f"{prec.upper()} weights",
                          edgecolor="white", linewidth=0.4,
                          hatch=["//" if r["best_precision_for_direction"] and m == "tok_s_at_budget" else ""
                                 for r in rs])
            for b, v, top in zip(bars, vals, tops, strict=True):
                if v > 0:
                    ax.text(b.get_x() + b.get_width() / 2, top * 1.15, f"{v:.3g}", ha="center", va="bottom",
                            fontsize=8, rotation=90)
                else:
                    ax.text(b.get_x() + b.get_width() / 2, 0.03, "0", ha="center", va="bottom", fontsize=8,
                            transform=ax.get_xaxis_transform())
            if m == "tok_s_at_budget":
                # The same budget for dynamic power only (memory standby left out): a tick.
                ax.plot(x, [r["tok_s_at_budget_dynamic_only"] for r in rs], "_", color="k", ms=9, mew=1.4)
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(_PLAIN)
        ax.set_ylabel(ylab)
        ax.set_title(title, loc="left")
        ax.grid(True, axis="y", which="both", alpha=0.25)
        ax.grid(axis="x", visible=False)
        ax.set_ylim(min(positive) / 2, max(positive) * 8)
    axes[-1].set_xticks(xs, [labels[k] for k in keys])
    axes[0].legend(fontsize=8, loc="upper left", ncol=3)
    handles = [Line2D([], [], ls="none", marker="_", color="k", ms=9, mew=1.4, label="dynamic power only"),
               Patch(facecolor="w", edgecolor="0.3", hatch="//", label="the direction's best precision")]
    axes[2].legend(handles=handles, fontsize=8, loc="upper right", ncol=2)
    return fig


# ------------------------------------------------------------------ the study
def _largest(rows: list[dict[str, Any]], ph: str, pred: Any) -> dict[str, Any] | None:
    ok = [r for r in rows if r["chip_id"] == ph and pred(r)]
    return max(ok, key=lambda r: (r["params_b"], r["decode_tok_s"])) if ok else None



def _summary_rows(fit: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per phone: the largest model that fits, the largest at the target speed, Llama 8B INT4."""
    summary = []
    for ph in PHONES:
        r0 = next(r for r in fit if r["chip_id"] == ph)
        big = _largest(fit, ph, lambda r: r["fits"])
        fast = _largest(fit, ph, lambda r: r["fits"] and r["decode_tok_s"] >= TARGET_TOK_S)
        i4 = [r for r in fit if r["chip_id"] == ph and r["model"] == "llama-3.1-8b" and r["weights"] == "int4"][0]
        summary.append({
            "phone": phone_name(ph), "dram_gb": r0["dram_gb"], "dram_bandwidth_gb_per_s": r0["dram_bandwidth_gb_per_s"],
            "compute_unit": r0["compute_unit"], "engine": r0["engine"],
            "largest_fitting": f"{big['model']} {big['weights'].upper()}" if big else "-",
            "largest_fitting_tok_s": big["decode_tok_s"] if big else None,
            f"largest_at_{int(TARGET_TOK_S)}_tok_s": f"{fast['model']} {fast['weights'].upper()}" if fast else "-",
            "llama_3_1_8b_int4_tok_s": i4["decode_tok_s"],
            "llama_3_1_8b_int4_dynamic_j_per_token": i4["dynamic_j_per_token"],
            "median_share_of_bandwidth_bound": round(float(np.median([r["share_of_bound"] for r in fit if r["chip_id"] == ph])), 2),
        })
    return summary


def _fit_findings(fit: list[dict[str, Any]]) -> list[str]:
    """The bandwidth bound, what fits, and the energy per token."""
    findings: list[str] = []
    n_fit = sum(r["fits"] for r in fit)
    shares = [r["share_of_bound"] for r in fit]
    over = {w: float(np.median([r["overhead_share_of_step"] for r in fit if r["weights"] == w])) for w in PRECISIONS}
    findings.append(
        f"Decode on a phone is {'bounded by' if max(shares) <= 1.0 else 'mostly below'} LPDDR bandwidth / active "
        f"weight bytes: across {len(fit)} (phone, model, precision) points the engine's single-user tok/s is "
        f"{min(shares):.2f}-{max(shares):.2f} (median {np.median(shares):.2f}) of that bound. The per-step overhead "
        f"is a median {over['int4']:.0%} of the step at INT4 and {over['fp16']:.0%} at FP16; the rest of the gap is "
        "the share of its peak bandwidth the LPDDR reaches.")
    n_ph = len(PHONES)
    e8 = [r for r in fit if r["model"] == "llama-3.1-8b" and r["weights"] == "int4"]
    f8 = [r for r in fit if r["model"] == "llama-3.1-8b" and r["weights"] == "fp16"]
    findings.append(
        f"Llama 3.1 8B at INT4 ({e8[0]['weights_gb']:.2f} GB) fits {sum(r['fits'] for r in e8)} of {n_ph} phones and "
        f"decodes at {min(r['decode_tok_s'] for r in e8):.1f}-{max(r['decode_tok_s'] for r in e8):.1f} tok/s; at "
        f"FP16 ({f8[0]['weights_gb']:.1f} GB) it fits {sum(r['fits'] for r in f8)} of {n_ph}; "
        f"{n_fit} of {len(fit)} points fit in 90% of DRAM.")
    e8j = [r["dynamic_j_per_token"] for r in e8]
    j_range = f"{min(e8j):.2f}" if f"{min(e8j):.2f}" == f"{max(e8j):.2f}" else f"{min(e8j):.2f}-{max(e8j):.2f}"
    pj = sorted({r["lpddr_pj_per_bit"] for r in fit})
    pj_text = (f"the catalog gives every phone's LPDDR {pj[0]} pJ/bit" if len(pj) == 1 else
               f"the phones' LPDDR costs {pj[0]}-{pj[-1]} pJ/bit")
    mem = [r["memory_share_of_dynamic"] for r in e8]
    mem_text = f"{min(mem):.0%}" if f"{min(mem):.0%}" == f"{max(mem):.0%}" else f"{min(mem):.0%}-{max(mem):.0%}"
    tok = [POWER_BUDGET_W / j for j in e8j]
    findings.append(
        f"Dynamic energy of Llama 3.1 8B INT4 is {j_range} J/token across the phones, {mem_text} "
        f"of it LPDDR reads ({e8[0]['weights_gb']:.2f} GB x 8 x {pj[0]} pJ/bit = "
        f"{e8[0]['weights_gb'] * 8 * pj[0] * 1e-3:.2f} J; {pj_text}): {POWER_BUDGET_W:g} W of dynamic power sustains "
        + (f"at most {max(tok):.0f} tok/s of it on any phone, whatever its bandwidth." if max(tok) < 1.05 * min(tok)
           else f"{min(tok):.0f}-{max(tok):.0f} tok/s of it."))
    return findings


def _flash_findings(flash: list[dict[str, Any]]) -> list[str]:
    findings: list[str] = []
    for ph, model, prec in FLASH_CASES:
        rs = [r for r in flash if r["chip_id"] == ph and r["model"] == model and r["weights"] == prec]
        full = next(r for r in rs if r["flash_fraction_per_token"] == 1.0)
        f90 = flash_fraction_for(rs, 0.9)
        findings.append(
            f"LLM-in-a-flash, {phone_name(ph)} with {model} {prec.upper()} ({full['weights_gb']:.1f} GB > "
            f"{full['dram_usable_gb']:g} GB usable): reading every weight from UFS 4.0 gives {full['tok_s']:.2f} tok/s "
            f"at {full['dynamic_j_per_token']:.1f} J/token; 90% of the DRAM-resident {full['dram_resident_tok_s']:.1f} "
            f"tok/s needs at most {100 * f90:.1f}% of the weights read from flash per token." if f90 else
            f"LLM-in-a-flash, {phone_name(ph)} with {model}: no fraction in the sweep reaches 90% of DRAM speed.")
    return findings


def _ratio_text(r: float, tol: float = 0.02) -> str:
    return "the same as" if abs(r - 1) <= tol else f"{r:.2f}x"


def _direction_findings(dirs: list[dict[str, Any]]) -> list[str]:
    """Per precision, then each direction at its best precision, then the comparison basis."""
    findings: list[str] = []
    dd = {(r["direction"], r["weights"]): r for r in dirs}
    for prec in DIRECTION_PRECISIONS:
        b, p, s3, sb, fl = (dd[k, prec] for k in ("baseline", "pim", "stack3d", "stack3d_same_bw", "flash"))
        findings.append(
            f"Directions on a {phone_name(DIRECTIONS_PHONE)}, {DIRECTIONS_MODEL} {prec.upper()} (within "
            f"{POWER_BUDGET_W:g} W, memory standby included): baseline {b['decode_tok_s']} tok/s at "
            f"{b['dynamic_j_per_token']} J/token, {b['tok_s_at_budget']} within the budget; PIM on the same LPDDR "
            f"interface {p['decode_tok_s']} tok/s ({_ratio_text(p['decode_tok_s'] / b['decode_tok_s'])} the baseline, "
            f"{p['near_memory_share']:.0%} of the step in PIM), {p['tok_s_at_budget']} within the budget; the 3D DRAM "
            f"stack on its own {s3['interface_bandwidth_gb_s'] / 1e3:.1f} TB/s {s3['decode_tok_s']} tok/s at "
            f"{s3['dynamic_power_w']} W dynamic plus {s3['memory_standby_w']} W standby, so "
            f"{s3['tok_s_at_budget_dynamic_only']} tok/s within the budget counting dynamic power only and "
            f"{s3['tok_s_at_budget']} counting standby; the same stack on the LPDDR's interface "
            f"{sb['decode_tok_s']} tok/s, {sb['tok_s_at_budget']} within the budget "
            f"({_ratio_text(sb['tok_s_at_budget'] / b['tok_s_at_budget'])} the baseline); weights in UFS flash "
            f"{fl['decode_tok_s']} tok/s at {fl['dynamic_j_per_token']} J/token.")
    # Each direction at the precision that suits it (more tokens within the budget), labelled: a
    # different precision is a different model quality.
    keys = [k for k, _, extra, _ in direction_variants() if extra is not None]
    best = {k: best_precision(dirs, k) for k in keys}
    ref = best["baseline"]
    ranked = sorted((k for k in keys if best[k] is not None), key=lambda k: -best[k]["tok_s_at_budget"])
    lab = {k: lbl for k, lbl, _, _ in direction_variants()}

    def at_best(k: str) -> str:
        r = best[k]
        return (f"{lab[k]}: nothing within the budget" if r is None else
                f"{lab[k]} {r['tok_s_at_budget']} tok/s at {r['weights'].upper()}"
                + ("" if k == "baseline" or ref is None else
                   f" ({_ratio_text(r['tok_s_at_budget'] / ref['tok_s_at_budget'])} the baseline)"))
    findings.append(
        f"Each at its best precision (the most tok/s within {POWER_BUDGET_W:g} W, memory standby included; "
        "precisions differ in model quality): " + "; ".join(at_best(k) for k in keys) + ". "
        + (f"Ranked: {', '.join(lab[k] for k in ranked)}." if ranked else ""))
    # What helps, computed at equal precision against the baseline within the budget (standby in).
    helps, hurts = [], []
    for k in keys:
        if k == "baseline":
            continue
        g = [dd[k, w]["tok_s_at_budget"] / dd["baseline", w]["tok_s_at_budget"] for w in DIRECTION_PRECISIONS]
        span = f"{min(g):.2f}x" if f"{min(g):.2f}" == f"{max(g):.2f}" else f"{min(g):.2f}-{max(g):.2f}x"
        (helps if max(g) > 1.02 else hurts).append(f"{lab[k]} ({span})")
    findings.append(
        f"At equal precision within {POWER_BUDGET_W:g} W (memory standby included), the directions that give "
        f"more tok/s than the baseline at some precision: {', '.join(helps) or 'none'}; those that never do: "
        f"{', '.join(hurts) or 'none'}. PNM has no phone device in the catalog and a single-chip phone has no "
        "collectives for an interconnect to speed up.")
    b16 = dd["baseline", DIRECTION_PRECISIONS[0]]
    s3 = dd["stack3d", DIRECTION_PRECISIONS[0]]
    findings.append(
        f"Assumptions and doubts: one user (batch 1) is the workload, not a mapping. PIM and the baseline share "
        f"the LPDDR5X interface ({b16['interface_bandwidth_gb_s']} GB/s); the 3D stack is shown on its own "
        f"{s3['interface_bandwidth_gb_s']:.0f} GB/s (with the catalog's 100% stream efficiency for it, as it gives "
        "none) and, labelled, behind the LPDDR's bandwidth and stream efficiency; flash is the capacity direction "
        f"on its own interface. The {POWER_BUDGET_W:g} W budget is this study's assumption; memory standby is "
        f"each tier's static power in llmhw.economics (estimated, no published split: {b16['memory_standby_w']} W for the "
        f"LPDDR5X, {s3['memory_standby_w']} W with the full-bandwidth stack), which decides whether the wide stack "
        "fits the budget at all; the dynamic-only figures are kept beside it. PIM logic has no standby power in "
        "the model; the phone has no die area or TDP in the catalog, so the stack has no thermal cap.")
    return findings


def _pim_gains(dirs: list[dict[str, Any]]) -> dict[str, float]:
    """Decode speed-up of PIM over the baseline at each precision."""
    dd = {(r["direction"], r["weights"]): r for r in dirs}
    return {w: dd["pim", w]["decode_tok_s"] / dd["baseline", w]["decode_tok_s"] for w in DIRECTION_PRECISIONS}


def _tables(fit: list[dict[str, Any]], flash: list[dict[str, Any]], dirs: list[dict[str, Any]]) -> list[Table]:
    summary = _summary_rows(fit)
    return [
        Table("mobile_fit", "What fits and how fast: phones x 1-8 B models x precision (batch 1, "
              f"{INPUT_TOKENS} in / {OUTPUT_TOKENS} out)", fit,
              note="usable = 90% of DRAM (llmhw's memory_utilization default; a phone OS may leave less). "
                   "bandwidth_bound = LPDDR peak / (active params x bytes per weight). dynamic_j_per_token: "
                   "FLOPs x J/FLOP + bits x J/bit from the engine's accounting (static power excluded: phones "
                   "have no TDP in the catalog). overhead_share_of_step: the engine's per-step overhead / the "
                   "decode step; memory_share_of_dynamic: the decode steps' memory reads / dynamic energy."),
        Table("mobile_summary", "Per phone: the largest model that fits and the largest at "
              f">= {TARGET_TOK_S:g} tok/s", summary),
        Table("mobile_flash", "LLM-in-a-flash: weights in UFS 4.0, a fraction read per token", flash,
              note="Assumption: per token a fraction f of the weight bytes comes from flash (the rest is "
                   "cached in DRAM); flash-limited tok/s from the engine with the UFS tier at bandwidth / f; "
                   "tok/s = min(flash-limited, DRAM-resident). Energy = DRAM-resident dynamic energy + f x "
                   f"weight bytes x 8 x the UFS access J/bit (economics fallback, {_ufs_j_per_bit() * 1e12:.1f} pJ/bit). "
                   "The DRAM-resident "
                   "reference is the same phone and LPDDR interface with DRAM enough to hold the model; no "
                   "power budget is applied here."),
        Table("mobile_directions", f"The directions on a phone ({phone_name(DIRECTIONS_PHONE)}, "
              f"{DIRECTIONS_MODEL}, batch 1), like with like", dirs,
              note=f"One power envelope, {POWER_BUDGET_W:g} W (an assumed sustained budget for the LLM's compute "
                   "and memory), two ways: tok_s_at_budget_dynamic_only = min(decode_tok_s, budget / "
                   "dynamic_j_per_token); tok_s_at_budget = min(decode_tok_s, (budget - memory_standby_w) / "
                   "dynamic_j_per_token), 0 when standby alone exceeds it. memory_standby_w: every memory tier's "
                   "full-bandwidth read power x llmhw.economics' static share for its class. "
                   "interface_bandwidth_gb_s: the external bandwidth of the tier the weights are read from; the "
                   "3D stack is given both on its own interface and on the LPDDR's (same peak bandwidth and stream "
                   "efficiency). best_precision_for_direction: the precision with the most tok/s within the "
                   "budget for that direction (precisions differ in model quality)."),
    ]


def _figures(fit: list[dict[str, Any]], flash: list[dict[str, Any]], dirs: list[dict[str, Any]]) -> list[Figure]:
    e8 = [r for r in fit if r["model"] == "llama-3.1-8b" and r["weights"] == "int4"]
    big16 = [r for r in fit if r["weights"] == "fp16" and r["params_b"] >= 7]
    e_lo, e_hi = min(r["decode_tok_s"] for r in e8), max(r["decode_tok_s"] for r in e8)
    shares = [r["share_of_bound"] for r in fit]
    full = [r for r in flash if r["flash_fraction_per_token"] == 1.0]
    f90 = [f for f in (flash_fraction_for([r for r in flash if (r["chip_id"], r["model"], r["weights"]) == c], 0.9)
                       for c in FLASH_CASES) if f is not None]
    pim = _pim_gains(dirs)
    dd = {(r["direction"], r["weights"]): r for r in dirs}
    keys = [k for k, _, extra, _ in direction_variants() if extra is not None]
    lab = {k: lbl for k, lbl, _, _ in direction_variants()}
    best = {k: best_precision(dirs, k) for k in keys}
    top = max((k for k in keys if best[k] is not None), key=lambda k: best[k]["tok_s_at_budget"])
    same = [dd["stack3d_same_bw", w]["tok_s_at_budget"] / dd["baseline", w]["tok_s_at_budget"]
            for w in DIRECTION_PRECISIONS]
    wide = [dd["stack3d", w] for w in DIRECTION_PRECISIONS]
    return [
        Figure("mobile_fit_speed",
               f"Phones decode at {min(shares):.0%}-{max(shares):.0%} of LPDDR bandwidth / weight bytes: Llama 3.1 8B "
               f"INT4 fits {sum(r['fits'] for r in e8)} of {len(e8)} phones and runs at {e_lo:.0f}-{e_hi:.0f} tok/s; "
               f"7-8 B models at FP16 fit {sum(r['fits'] for r in big16)} of {len(big16)} (phone, model) points "
               "(hollow markers: do not fit).", _fig_fit(fit)),
        Figure("mobile_flash",
               f"Reading every weight from UFS 4.0 flash gives {min(r['tok_s'] for r in full):.2f}-"
               f"{max(r['tok_s'] for r in full):.2f} tok/s at {min(r['dynamic_j_per_token'] for r in full):.0f}-"
               f"{max(r['dynamic_j_per_token'] for r in full):.0f} J/token; 90% of DRAM speed needs at most "
               + (f"{100 * min(f90):.0f}-{100 * max(f90):.0f}% of the weights from flash per token."
                  if f90 else "a fraction below the sweep's smallest."), _fig_flash(flash)),
        Figure("mobile_directions",
               f"Within {POWER_BUDGET_W:g} W with memory standby counted, each at its best precision, "
               f"{lab[top]} gives the most tok/s ({best[top]['tok_s_at_budget']} at {best[top]['weights'].upper()}); "
               f"the 3D stack on the LPDDR's interface gives {min(same):.2f}-{max(same):.2f}x the baseline, on its "
               f"own {wide[0]['interface_bandwidth_gb_s'] / 1e3:.1f} TB/s {max(r['tok_s_at_budget'] for r in wide):.3g} "
               f"tok/s (its standby: {wide[0]['memory_standby_w']} W); PIM on the same interface gains "
               + ", ".join(f"{g:.2f}x at {w.upper()}" for w, g in pim.items()) + ". Bars within the budget count "
               "the memories' standby power (ticks: dynamic power only); PNM and a low-latency interconnect do not "
               "apply to one phone.", _fig_directions(dirs)),
    ]


def _setups() -> dict[str, str]:
    """Each figure's setup line, from the study's constants."""
    lengths = f"batch 1, {style.tokens(INPUT_TOKENS)} in / {style.tokens(OUTPUT_TOKENS)} out"
    precisions = "/".join(p.upper() for p in PRECISIONS)
    flash_models = ", ".join(dict.fromkeys(llmhw.load_model(m).name for _, m, _ in FLASH_CASES))
    flash_phones = ", ".join(phone_name(p) for p, _, _ in FLASH_CASES)
    return {
        "mobile_fit_speed": style.setup(f"{len(MODELS)} models ({llmhw.load_model(MODELS[0]).name} to "
                                        f"{llmhw.load_model(MODELS[-1]).name}) at {precisions} on {len(PHONES)} phone SoCs",
                                        lengths),
        "mobile_flash": style.setup(f"{flash_models} on {flash_phones}", lengths),
        "mobile_directions": style.setup(f"{llmhw.load_model(DIRECTIONS_MODEL).name} on {phone_name(DIRECTIONS_PHONE)} "
                                         f"({compute_unit(DIRECTIONS_PHONE).upper()})", lengths,
                                         f"{POWER_BUDGET_W:g} W budget"),
    }


def _summary(fit: list[dict[str, Any]], flash: list[dict[str, Any]], dirs: list[dict[str, Any]]) -> str:
    shares = [r["share_of_bound"] for r in fit]
    e8 = [r for r in fit if r["model"] == "llama-3.1-8b" and r["weights"] == "int4"]
    full = [r["tok_s"] for r in flash if r["flash_fraction_per_token"] == 1.0]
    keys = [k for k, _, extra, _ in direction_variants() if extra is not None]
    lab = {k: lbl for k, lbl, _, _ in direction_variants()}
    best = {k: best_precision(dirs, k) for k in keys}
    top = max((k for k in keys if best[k] is not None), key=lambda k: best[k]["tok_s_at_budget"])
    tied = [k for k in keys if best[k] is not None and best[k]["tok_s_at_budget"] == best[top]["tok_s_at_budget"]]
    return (f"Phones decode at {min(shares):.0%}-{max(shares):.0%} of LPDDR bandwidth / weight bytes: Llama 3.1 8B "
            f"INT4 fits {sum(r['fits'] for r in e8)} of {len(e8)} phones at {min(r['decode_tok_s'] for r in e8):.0f}-"
            f"{max(r['decode_tok_s'] for r in e8):.0f} tok/s. Reading every weight from UFS flash gives "
            f"{min(full):.2f}-{max(full):.2f} tok/s. Within {POWER_BUDGET_W:g} W, "
            + (f"{lab[top]} serves the most" if len(tied) == 1 else
               " and ".join(lab[k] for k in tied) + " tie for the most")
            + f" ({best[top]['tok_s_at_budget']} tok/s at {best[top]['weights'].upper()}).")


def run() -> Study:
    style.apply()
    fit = fit_table()
    flash = flash_rows()
    dirs = direction_rows()
    findings = [*_fit_findings(fit), *_flash_findings(flash), *_direction_findings(dirs)]
    tables = _tables(fit, flash, dirs)
    figs = _figures(fit, flash, dirs)
    setups = _setups()
    for f in figs:
        f.setup = setups[f.name]
    return Study(
        name="mobile", title="RQ5: LLMs on phones",
        question="For a phone SoC with LPDDR, what model sizes reach a usable tok/s, at what energy, can flash "
                 "hold larger models, and which of the four directions help (the paper's Q14)?",
        tables=tables, figures=figs, findings=findings, summary=_summary(fit, flash, dirs))
