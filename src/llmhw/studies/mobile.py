"""RQ5 (the paper's Q14): LLMs of 1-8 B parameters on phone SoCs.

What fits in a phone's LPDDR, how fast one user's tokens come (decode is a stream of every weight
per token, so tok/s follows LPDDR bandwidth / weight bytes), what a token costs in energy, whether
streaming weights from the phone's UFS flash (LLM-in-a-flash style) is a way past the DRAM
capacity, and which of the paper's four directions help a phone.

Everything is computed with ``llmhw.api.sweep_economics`` (the engine plus the energy model). Phones
have no TDP in the catalog, so the economics' static power would rest on a fallback TDP; this
study reports the *dynamic* energy per token (FLOPs x J/FLOP + bits moved x J/bit, from the
engine's accounting), which does not depend on it.
"""

from __future__ import annotations

import math
from typing import Any

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
from matplotlib.figure import Figure as MplFigure  # noqa: E402
from matplotlib.ticker import FuncFormatter, NullLocator  # noqa: E402

import llmhw  # noqa: E402
from llmhw import api  # noqa: E402
from llmhw.api import sweep_economics as econ_sweep  # noqa: E402
from llmhw.core.units import bytes_per_element  # noqa: E402
from llmhw.hardware.catalog import lookup  # noqa: E402
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
def direction_variants() -> list[tuple[str, str, dict[str, Any] | None, str]]:
    """(key, label, extra scenario keys or None when not applicable, what it is)."""
    return [
        ("baseline", "LPDDR5X (today)", {}, "the phone as catalogued"),
        ("pim", "PIM in LPDDR (pim-lpddr5)", {"overrides": {"chip.near_memory": "pim-lpddr5"}},
         "Samsung LPDDR5-PIM preset on the phone's LPDDR5X tier (GEMV offload where faster)"),
        ("stack3d", "3D DRAM on the SoC (3d-dram-soic-gen1)", {"overrides": {"chip.stacked": "3d-dram-soic-gen1"}},
         "a 24 GB, 4.9 TB/s DRAM stack on the SoC die (100 mm2 preset); the catalog has no phone die area "
         "or TDP, so no thermal cap is applied"),
        ("flash", "Weights in UFS 4.0 flash", {"overrides": {"chip.memory[1]": "ufs4"}, "placement": {"weights": "ufs4"}},
         "the capacity direction on a phone (HBM and HBF are infeasible there): every weight read from "
         "UFS 4.0 each token"),
        ("pnm", "PNM (none for phones)", None, "no phone PNM device in the catalog"),
        ("interconnect", "Low-latency interconnect", None, "one chip: a phone's decode step has no collectives"),
    ]


def direction_rows() -> list[dict[str, Any]]:
    rows = []
    for prec in ("fp16", "int4"):
        base = None
        for key, label, extra, what in direction_variants():
            row: dict[str, Any] = {"direction": key, "label": label, "phone": phone_name(DIRECTIONS_PHONE),
                                   "model": DIRECTIONS_MODEL, "weights": prec, "what": what}
            if extra is None:
                ref = base or {}
                row.update({k: ref.get(k) for k in ("decode_tok_s", "dynamic_j_per_token", "dynamic_power_w",
                                                     "tok_s_at_budget", "near_memory_share")})
                row["applicable"] = False
                rows.append(row)
                continue
            a = _one(scenario(DIRECTIONS_PHONE, DIRECTIONS_MODEL, prec, **extra))
            tok_s = a["tok_s_per_user"]
            j = dynamic_j_per_token(a)
            row.update({
                "applicable": True,
                "decode_tok_s": sig(tok_s),
                "dynamic_j_per_token": sig(j),
                "dynamic_power_w": sig(j * tok_s),
                "tok_s_at_budget": sig(min(tok_s, POWER_BUDGET_W / j)),
                "near_memory_share": round(a["decode_near_memory_s"] / a["tpot_s"], 2),
            })
            if key == "baseline":
                base = row
            rows.append(row)
    return rows


# ------------------------------------------------------------------ figures
def _fig_fit(rows: list[dict[str, Any]]) -> MplFigure:
    fig = MplFigure(figsize=(8.0, 5.2), layout="constrained")
    ax = fig.subplots()
    markers = dict(zip(PHONES, "osD^v<>", strict=True))
    colors = dict(zip(PHONES, ["#1f77b4", "#2ca02c", "#17becf", "#d62728", "#ff7f0e", "#9467bd", "#8c564b"],
                      strict=True))
    for ph in PHONES:
        rs = [r for r in rows if r["chip_id"] == ph]
        fit = [r for r in rs if r["fits"]]
        nofit = [r for r in rs if not r["fits"]]
        r0 = rs[0]
        ax.scatter([r["weights_gb"] for r in fit], [r["decode_tok_s"] for r in fit], marker=markers[ph],
                   color=colors[ph], s=28, label=f"{phone_name(ph)} ({r0['dram_gb']:g} GB, "
                   f"{r0['dram_bandwidth_gb_per_s']:g} GB/s, {r0['compute_unit'].upper()})")
        ax.scatter([r["weights_gb"] for r in nofit], [r["decode_tok_s"] for r in nofit], marker=markers[ph],
                   facecolors="none", edgecolors=colors[ph], s=28)
    x = np.logspace(np.log10(0.5), np.log10(20), 50)
    for bw, ls in ((51.2, ":"), (84.8, "--")):
        ax.plot(x, bw / x, color="0.4", ls=ls, lw=1)
        ax.text(0.75, bw / 0.75 * 1.06, f"{bw:g} GB/s / weight bytes", color="0.3", fontsize=8, ha="left",
                va="bottom")
    for cap in (8, 12, 16):
        ax.axvline(0.9 * cap, color="0.75", lw=0.8, zorder=0)
        ax.text(0.9 * cap * 0.97, 1.08, f"{cap} GB DRAM", fontsize=7, color="0.35", ha="right", va="bottom",
                rotation=90)
    ax.axhline(TARGET_TOK_S, color="0.6", lw=0.8, ls="-.")
    ax.text(0.52, TARGET_TOK_S * 1.05, f"{TARGET_TOK_S:g} tok/s", fontsize=8, color="0.4")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(0.5, 20)
    ax.set_ylim(1, 200)
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(_PLAIN)
        axis.set_minor_formatter(_PLAIN_MINOR)
    ax.tick_params(which="minor", labelsize=7)
    ax.set_xlabel("weight bytes (GB): 1-8 B models at FP16, INT8, INT4")
    ax.set_ylabel("single-user decode speed (tokens/s)")
    ax.set_title("Phones: decode speed vs model size (filled: fits in 90% of DRAM, hollow: does not)",
                 fontsize=10)
    ax.legend(fontsize=7, loc="upper right", title="SoC (DRAM, LPDDR bandwidth, unit)", title_fontsize=7)
    ax.grid(True, which="both", alpha=0.25)
    return fig


def _fig_flash(rows: list[dict[str, Any]]) -> MplFigure:
    fig = MplFigure(figsize=(9.5, 4.8), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    colors = ["#1f77b4", "#d62728", "#2ca02c"]
    for (ph, model, prec), c in zip(FLASH_CASES, colors, strict=True):
        rs = sorted([r for r in rows if r["chip_id"] == ph and r["model"] == model and r["weights"] == prec],
                    key=lambda r: r["flash_fraction_per_token"])
        f = [100 * r["flash_fraction_per_token"] for r in rs]
        lab = f"{phone_name(ph)}, {model} {prec.upper()} ({rs[0]['weights_gb']:.1f} GB > {rs[0]['dram_usable_gb']:g} GB usable)"
        ax1.plot(f, [r["tok_s"] for r in rs], "o-", color=c, label=lab, ms=4)
        ax1.axhline(rs[0]["dram_resident_tok_s"], color=c, ls="--", lw=0.8)
        ax2.plot(f, [r["dynamic_j_per_token"] for r in rs], "o-", color=c, ms=4)
    ax1.plot([], [], "k--", lw=0.8, label="same model if DRAM could hold it")
    ticks = [100 * f for f in FLASH_FRACTIONS]
    for ax in (ax1, ax2):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xticks(ticks, [f"{t:g}%" for t in ticks])
        ax.xaxis.set_minor_locator(NullLocator())
        ax.yaxis.set_major_formatter(_PLAIN)
        ax.yaxis.set_minor_formatter(_PLAIN_MINOR)
        ax.tick_params(axis="y", which="minor", labelsize=7)
        ax.set_xlabel("weights read from UFS 4.0 per token (% of all)")
        ax.grid(True, which="both", alpha=0.25)
        ax.invert_xaxis()
    ax1.set_ylabel("decode speed (tokens/s)")
    ax2.set_ylabel("dynamic energy (J per token)")
    ax1.set_title("Speed: UFS 4.0 (4.2 GB/s) vs LPDDR5X", fontsize=10)
    ax2.set_title(f"Energy: flash reads ({_ufs_j_per_bit() * 1e12:.0f} pJ/bit) + DRAM + compute", fontsize=10)
    fig.legend(*ax1.get_legend_handles_labels(), fontsize=7.5, loc="outside lower center", ncol=2)
    return fig


def _fig_directions(rows: list[dict[str, Any]]) -> MplFigure:
    fig = MplFigure(figsize=(11, 4.4), layout="constrained")
    axes = fig.subplots(1, 3)
    keys = [k for k, _, extra, _ in direction_variants() if extra is not None]
    labels = {"baseline": "LPDDR5X\n(today)", "pim": "LPDDR5\n-PIM", "stack3d": "3D DRAM\nstack",
              "flash": "weights\nin UFS 4.0"}
    width = 0.38
    xs = np.arange(len(keys))
    metrics = (("decode_tok_s", "decode speed, no power limit (tokens/s)"),
               ("dynamic_j_per_token", "dynamic energy (J per token)"),
               ("tok_s_at_budget", f"decode speed at a {POWER_BUDGET_W:g} W budget (tokens/s)"))
    for ax, (m, ylab) in zip(axes, metrics, strict=True):
        for i, (prec, col) in enumerate((("fp16", "#4c72b0"), ("int4", "#dd8452"))):
            vals = [next(r[m] for r in rows if r["direction"] == k and r["weights"] == prec) for k in keys]
            bars = ax.bar(xs + (i - 0.5) * width, vals, width, color=col, label=f"{DIRECTIONS_MODEL} {prec.upper()}")
            for b, v in zip(bars, vals, strict=True):
                ax.text(b.get_x() + b.get_width() / 2, v * 1.08, f"{v:.3g}", ha="center", va="bottom", fontsize=6.5)
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(_PLAIN)
        ax.set_xticks(xs, [labels[k] for k in keys], fontsize=7.5)
        ax.set_ylabel(ylab, fontsize=8.5)
        ax.grid(True, axis="y", which="both", alpha=0.25)
        lo, hi = ax.get_ylim()
        ax.set_ylim(lo, hi * 3)
    axes[0].legend(fontsize=7, loc="upper left")
    fig.suptitle(f"Four directions on a phone ({phone_name(DIRECTIONS_PHONE)}, NPU, one user); "
                 "PNM and interconnect: not applicable", fontsize=10)
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
    findings.append(
        f"Decode on a phone is bounded by LPDDR bandwidth / active weight bytes: across {len(fit)} (phone, model, "
        f"precision) points the engine's single-user tok/s is {min(shares):.2f}-{max(shares):.2f} (median "
        f"{np.median(shares):.2f}) of that bound; the rest is per-step overhead (most of the gap for the small "
        "INT4 models) and small-read efficiency.")
    e8 = [r for r in fit if r["model"] == "llama-3.1-8b" and r["weights"] == "int4"]
    findings.append(
        f"Llama 3.1 8B at INT4 ({e8[0]['weights_gb']:.2f} GB) fits every phone studied and decodes at "
        f"{min(r['decode_tok_s'] for r in e8):.1f}-{max(r['decode_tok_s'] for r in e8):.1f} tok/s; at FP16 "
        f"({[r for r in fit if r['model'] == 'llama-3.1-8b' and r['weights'] == 'fp16'][0]['weights_gb']:.1f} GB) it fits none; "
        f"{n_fit} of {len(fit)} points fit in 90% of DRAM.")
    e8j = [r["dynamic_j_per_token"] for r in e8]
    lpddr_j = lookup("lpddr5").energy_j_per_bit
    j_range = f"{min(e8j):.2f}" if f"{min(e8j):.2f}" == f"{max(e8j):.2f}" else f"{min(e8j):.2f}-{max(e8j):.2f}"
    findings.append(
        f"Dynamic energy of Llama 3.1 8B INT4 is {j_range} J/token on every phone, almost all LPDDR reads "
        f"({e8[0]['weights_gb']:.2f} GB x 8 x {lpddr_j * 1e12:.2f} pJ/bit = {e8[0]['weights_gb'] * 8e9 * lpddr_j:.2f} J "
        f"of access energy; the catalog gives every LPDDR5/5X the same J/bit): at {POWER_BUDGET_W:g} W a phone sustains at most "
        f"{POWER_BUDGET_W / max(e8j):.0f} tok/s of it, whatever its bandwidth.")
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
            f"tok/s needs at most {100 * f90:.1f}% of the weights read from flash per token" if f90 else
            f"LLM-in-a-flash, {phone_name(ph)} with {model}: no fraction in the sweep reaches 90% of DRAM speed.")
    return findings


def _direction_findings(dirs: list[dict[str, Any]]) -> list[str]:
    findings: list[str] = []
    for prec in ("fp16", "int4"):
        d = {r["direction"]: r for r in dirs if r["weights"] == prec}
        b, p, s3, fl = d["baseline"], d["pim"], d["stack3d"], d["flash"]
        findings.append(
            f"Directions on a {phone_name(DIRECTIONS_PHONE)}, {DIRECTIONS_MODEL} {prec.upper()}: baseline "
            f"{b['decode_tok_s']} tok/s at {b['dynamic_j_per_token']} J/token; PIM (LPDDR5-PIM) "
            f"{p['decode_tok_s']} tok/s ({p['decode_tok_s'] / b['decode_tok_s']:.2f}x, {p['near_memory_share']:.0%} of "
            f"the step in PIM), {p['dynamic_j_per_token']} J/token; 3D DRAM stack {s3['decode_tok_s']} tok/s but "
            f"{s3['dynamic_power_w']} W, so {s3['tok_s_at_budget']} tok/s at {POWER_BUDGET_W:g} W "
            f"({s3['tok_s_at_budget'] / b['tok_s_at_budget']:.1f}x the baseline's {b['tok_s_at_budget']}); "
            f"weights in UFS flash {fl['decode_tok_s']} tok/s at {fl['dynamic_j_per_token']} J/token.")
    dd = {(r["direction"], r["weights"]): r for r in dirs}
    pim16 = dd["pim", "fp16"]["decode_tok_s"] / dd["baseline", "fp16"]["decode_tok_s"]
    pim4 = dd["pim", "int4"]["decode_tok_s"] / dd["baseline", "int4"]["decode_tok_s"]
    findings.append(
        "Which directions help a phone: 3D stacking (its lower J/bit gives the most tok/s within the power "
        f"budget, its bandwidth cannot be used at {POWER_BUDGET_W:g} W); PIM where its weak logic keeps up "
        f"({pim16:.2f}x at FP16, {pim4:.2f}x at INT4: the LPDDR5-PIM preset's 0.1 TFLOP/s per device does "
        "~1 FLOP per byte it reads, INT4 weights need ~4); flash gives capacity, not speed; PNM has no phone "
        "device in the catalog and a single-chip phone has no interconnect to speed up.")
    return findings


def _pim_gains(dirs: list[dict[str, Any]]) -> tuple[float, float]:
    """Decode speed-up of PIM over the baseline at FP16 and at INT4."""
    dd = {(r["direction"], r["weights"]): r for r in dirs}
    return tuple(dd["pim", w]["decode_tok_s"] / dd["baseline", w]["decode_tok_s"] for w in ("fp16", "int4"))


def _tables(fit: list[dict[str, Any]], flash: list[dict[str, Any]], dirs: list[dict[str, Any]]) -> list[Table]:
    summary = _summary_rows(fit)
    return [
        Table("mobile_fit", "What fits and how fast: phones x 1-8 B models x precision (batch 1, "
              f"{INPUT_TOKENS} in / {OUTPUT_TOKENS} out)", fit,
              note="usable = 90% of DRAM (llmhw's memory_utilization default; a phone OS may leave less). "
                   "bandwidth_bound = LPDDR peak / (active params x bytes per weight). dynamic_j_per_token: "
                   "FLOPs x J/FLOP + bits x J/bit from the engine's accounting (static power excluded: phones "
                   "have no TDP in the catalog)."),
        Table("mobile_summary", "Per phone: the largest model that fits and the largest at "
              f">= {TARGET_TOK_S:g} tok/s", summary),
        Table("mobile_flash", "LLM-in-a-flash: weights in UFS 4.0, a fraction read per token", flash,
              note="Assumption: per token a fraction f of the weight bytes comes from flash (the rest is "
                   "cached in DRAM); flash-limited tok/s from the engine with the UFS tier at bandwidth / f; "
                   "tok/s = min(flash-limited, DRAM-resident). Energy = DRAM-resident dynamic energy + f x "
                   f"weight bytes x 8 x the UFS access J/bit (economics fallback, {_ufs_j_per_bit() * 1e12:.1f} pJ/bit)."),
        Table("mobile_directions", f"The four directions on a phone ({phone_name(DIRECTIONS_PHONE)}, "
              f"{DIRECTIONS_MODEL}, batch 1)", dirs,
              note=f"tok_s_at_budget = min(decode_tok_s, {POWER_BUDGET_W:g} W / dynamic_j_per_token): "
                   f"{POWER_BUDGET_W:g} W is an assumed sustained budget for the LLM's dynamic power."),
    ]


def _figures(fit: list[dict[str, Any]], flash: list[dict[str, Any]], dirs: list[dict[str, Any]]) -> list[Figure]:
    e8 = [r for r in fit if r["model"] == "llama-3.1-8b" and r["weights"] == "int4"]
    pim16, pim4 = _pim_gains(dirs)
    e_lo, e_hi = min(r["decode_tok_s"] for r in e8), max(r["decode_tok_s"] for r in e8)
    return [
        Figure("mobile_fit_speed",
               "Phones decode at LPDDR bandwidth / weight bytes: 4-bit 7-8 B models fit every phone and run at "
               f"{e_lo:.0f}-{e_hi:.0f} tok/s; FP16 7-8 B models fit none (hollow markers).", _fig_fit(fit)),
        Figure("mobile_flash",
               "Streaming weights from UFS 4.0 flash runs under 1 tok/s and costs several J/token when every "
               "weight is read; it approaches DRAM speed only when a few percent of the weights come from "
               "flash per token.", _fig_flash(flash)),
        Figure("mobile_directions",
               "On a phone energy per bit, not bandwidth, is the limit: a 3D DRAM stack's bandwidth is unusable "
               f"at a {POWER_BUDGET_W:g} W budget but its lower J/bit still buys the most tok/s; PIM helps "
               f"FP16 weights ({pim16:.1f}x) more than INT4 ({pim4:.1f}x); flash trades speed for capacity.",
               _fig_directions(dirs)),
    ]


def run() -> Study:
    style.apply()
    fit = fit_table()
    flash = flash_rows()
    dirs = direction_rows()
    findings = [*_fit_findings(fit), *_flash_findings(flash), *_direction_findings(dirs)]
    tables = _tables(fit, flash, dirs)
    figs = _figures(fit, flash, dirs)
    return Study(
        name="mobile", title="RQ5: LLMs on phones",
        question="For a phone SoC with LPDDR, what model sizes reach a usable tok/s, at what energy, can flash "
                 "hold larger models, and which of the four directions help (the paper's Q14)?",
        tables=tables, figures=figs, findings=findings)
