"""Economics: throughput per chip against interactivity, and what a token costs.

InferenceMAX's convention (SemiAnalysis, 2025): sweep concurrency (the requests in flight) and
parallelism, plot output tokens/s per GPU against tokens/s per user, and keep the Pareto front,
the configurations no other configuration beats on both. The same fronts are drawn for cost
(USD per million output tokens), power (output tokens/s per MW of provisioned power) and carbon
(gCO2e per million output tokens), for today's systems and for each of the paper's four
directions as a what-if on one of them (an H200 node).

Energy, cost and carbon come from ``llmhw.economics`` (docs/economics.md); this study adds no
constants of its own. If that package is missing, the study says so and draws throughput only.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from typing import Any

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
from matplotlib.figure import Figure as MplFigure  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

import llmhw  # noqa: E402
from llmhw import api  # noqa: E402
from llmhw.core.errors import LlmhwError  # noqa: E402
from llmhw.hardware.catalog import lookup  # noqa: E402
from llmhw.scenario.economics import EconomicsParams  # noqa: E402
from llmhw.studies import style
from llmhw.studies.base import Figure, Study, Table  # noqa: E402

MODEL = "llama-3.3-70b"
PRECISION = {"weights": "fp8", "kv_cache": "fp8"}
INPUT_TOKENS = 1024                   # InferenceMAX's 1k / 1k scenario
OUTPUT_TOKENS = 1024
ENGINE = "default"                    # one generic, well-optimised engine for every system
TPS: tuple[int, ...] = (1, 2, 4, 8)
CONCURRENCY = np.unique(np.round(np.logspace(0, 10, 31, base=2)).astype(int))   # 1 ... 1024
TARGETS_TOK_S_PER_USER: tuple[float, ...] = (20.0, 50.0, 100.0)
SYSTEMS: dict[str, str] = {"H100": "hgx-h100-8", "H200": "hgx-h200-8", "B200": "dgx-b200-8",
                           "MI300X": "mi300x-8", "MI355X": "mi355x-8"}
BASE = "H200"                          # the system the directions modify
ECON_KEYS = ("cost_usd_per_mtok", "tokens_per_mw", "co2e_g_per_mtok", "energy_j_per_token")
HOP_LATENCY_S = 5e-8                   # low-latency direction: 50 ns hops (NVLink 4 estimate: 500 ns)
SOFTWARE_LATENCY_FACTOR = 0.5          # ... and half the fitted per-step collective software latency

_PLAIN = FuncFormatter(lambda v, _: f"{v:g}")
_SI = FuncFormatter(lambda v, _: f"{v / 1e6:g}M" if v >= 1e6 else f"{v / 1e3:g}k" if v >= 1e3 else f"{v:g}")
_COLORS = {"H100": "#0072B2", "H200": "#56B4E9", "B200": "#009E73", "MI300X": "#D55E00", "MI355X": "#882255",
           "HBF": "#661100", "PNM": "#CC79A7", "3D stack": "#332288", "3D stack, no thermal cap": "#AA4499",
           "Low-latency interconnect": "#999933"}


@dataclass
class Config:
    """One way to run a system: its what-if overrides, a placement, a tweak to the engine."""
    overrides: dict[str, Any] = field(default_factory=dict)
    placement: dict[str, str] | None = None
    comm_latency_factor: float = 1.0


def system_label(name: str) -> str:
    """'H100: 8 x 80 GB HBM3, 3.35 TB/s' from the catalog."""
    sysm = lookup(SYSTEMS[name])
    t = sysm.chip.memory[0]
    return (f"{name}: {sysm.n_chips} x {t.capacity_bytes / 1e9:.0f} GB {t.id.upper()}, "
            f"{t.bandwidth_bytes_per_s / 1e12:.2f} TB/s")


def economics_available() -> bool:
    """Whether predictions carry the economics keys the study plots."""
    d = llmhw.predict(_scenario("hgx-h100-8", 8, Config())).to_dict()
    return all(k in d for k in ECON_KEYS)


def _scenario(hw: str, tp: int, cfg: Config) -> dict[str, Any]:
    s: dict[str, Any] = {
        "model": MODEL, "hardware": hw, "n_chips": tp, "parallelism": {"tp": tp}, "precision": PRECISION,
        "workload": {"input_tokens": INPUT_TOKENS, "output_tokens": OUTPUT_TOKENS, "batch": 1}, "engine": ENGINE,
    }
    if cfg.overrides:
        s["overrides"] = cfg.overrides
    if cfg.placement:
        s["placement"] = cfg.placement
    return s


def directions() -> dict[str, tuple[str, list[Config]]]:
    """Each direction on the BASE system: (what it is, the configurations software may choose from)."""
    chip = lookup(SYSTEMS[BASE]).chip
    hbm = chip.memory[0]
    hbm_tier = {"tech": hbm.id, "capacity_bytes": hbm.capacity_bytes, "bandwidth_bytes_per_s": hbm.bandwidth_bytes_per_s}
    die = EconomicsParams.default().chips[chip.id].die_area_mm2 * 1e-6
    stack = "3d-dram-hybrid-bond-gen2"
    stack_ov = {"chip.stacked": stack, "chip.die_area_m2": die}
    return {
        "HBF": ("+ one 512 GB, 1.64 TB/s HBF stack per GPU; weights in HBM or in HBF",
                [Config({"chip.memory": [hbm_tier, "hbf"]}),
                 Config({"chip.memory": [hbm_tier, "hbf"]}, {"weights": "hbf", "kv_cache": hbm.id})]),
        "PNM": ("compute on the HBM base die (pnm-hbm) for decode GEMV, attention and experts",
                [Config({"chip.near_memory": "pnm-hbm"})]),
        "3D stack": (f"+ a 48 GB, 13.9 TB/s hybrid-bonded DRAM stack on the die ({stack}); logic, stack and HBM "
                     f"share the package's power: under the stack's thermal cap (0.43 W/mm2 over the "
                     f"{die * 1e6:.0f} mm2 die) clock and stack data rate at {stack_fraction(stack_ov):.0%}",
                     [Config(stack_ov), Config(stack_ov, {"weights": stack, "kv_cache": hbm.id})]),
        "3D stack, no thermal cap": (f"the same stack without the thermal cap (no die area given): the TDP alone, "
                                     f"memory included, leaves {stack_fraction({'chip.stacked': stack}):.0%}",
                                     [Config({"chip.stacked": stack}),
                                      Config({"chip.stacked": stack}, {"weights": stack, "kv_cache": hbm.id})]),
        "Low-latency interconnect": (f"NVLink hops 500 -> {HOP_LATENCY_S * 1e9:.0f} ns and {SOFTWARE_LATENCY_FACTOR:g}x "
                                     "the fitted per-step collective software latency (12.7 us)",
                                     [Config({"interconnect.hop_latency_s": HOP_LATENCY_S},
                                             comm_latency_factor=SOFTWARE_LATENCY_FACTOR)]),
    }


def stack_fraction(overrides: dict[str, Any]) -> float:
    """Clock and stack data rate of the BASE chip with a 3D stack, in its power envelope (1: none binds)."""
    pw = api.package_power(_scenario(SYSTEMS[BASE], 1, Config(overrides)))
    return 1.0 if pw is None else pw.fraction


def _stack_clock(n: str) -> float:
    """The clock (and stack data rate) fraction of a 3D-stack direction, from its first configuration."""
    return stack_fraction(directions()[n][1][0].overrides)


def _direction_label(n: str) -> str:
    """A direction's legend label; the 3D stack's clock is the engine's."""
    if n == "3D stack":
        return f"3D DRAM stack, 48 GB, 13.9 TB/s; clock {_stack_clock(n):.0%} (thermal cap)"
    if n == "3D stack, no thermal cap":
        return f"3D DRAM stack, 48 GB, 13.9 TB/s; clock {_stack_clock(n):.0%} (TDP, memory included)"
    return DIRECTION_LABELS.get(n, n)


def _arrays(hw: str, tp: int, cfg: Config, econ: bool) -> dict[str, np.ndarray] | None:
    """Engine (+ economics) arrays over CONCURRENCY, or None when the configuration is impossible."""
    try:
        s = llmhw.Scenario.from_dict(_scenario(hw, tp, cfg))
        if cfg.comm_latency_factor != 1.0:
            s = s.replace(overrides={**s.overrides, "interconnect.software_latency_s": _software_latency_s(s, cfg)})
        grid = {"batch": CONCURRENCY, "input_tokens": INPUT_TOKENS, "output_tokens": OUTPUT_TOKENS}
        return api.sweep_economics(s, **grid) if econ else api.sweep(s, **grid)
    except LlmhwError:
        return None


def _software_latency_s(s: llmhw.Scenario, cfg: Config) -> float:
    """The per-step collective software latency of the configuration: its factor times the
    fitted value of the chip's family (what the scale-up network uses unless it sets its own)."""
    return api.family_params(s.chip.family).comm_latency_s * cfg.comm_latency_factor


def points(name: str, hw: str, configs: list[Config], econ: bool) -> list[dict[str, Any]]:
    """Every (TP, configuration, concurrency) point that fits, as rows."""
    out = []
    for tp in TPS:
        for ci, cfg in enumerate(configs):
            a = _arrays(hw, tp, cfg, econ)
            if a is None:
                continue
            for j, b in enumerate(CONCURRENCY):
                if not bool(a["fits"][j]):
                    continue
                r = {"system": name, "tp": tp, "config": ci, "concurrency": int(b),
                     "placement": "auto" if cfg.placement is None else ", ".join(f"{k}: {v}" for k, v in cfg.placement.items()),
                     "tok_s_per_user": float(a["tok_s_per_user"][j]),
                     "tok_s_per_gpu": float(a["output_tok_s_per_chip"][j]),
                     "tpot_ms": float(a["tpot_s"][j]) * 1e3, "ttft_s": float(a["ttft_s"][j])}
                if econ:
                    r.update({"usd_per_mtok": float(a["cost_usd_per_mtok"][j]),
                              "tok_s_per_mw": float(a["tokens_per_mw"][j]),
                              "gco2e_per_mtok": float(a["co2e_g_per_mtok"][j]),
                              "j_per_token": float(a["energy_j_per_token"][j])})
                out.append(r)
    return out


# The interactivity floor as an SLO, and each table metric as a search objective.
SEARCH_OBJECTIVES = {"tok_s_per_gpu": "output_tok_s_per_chip", "usd_per_mtok": "cost_usd_per_mtok",
                     "tok_s_per_mw": "tokens_per_mw", "gco2e_per_mtok": "co2e_g_per_mtok"}


def slo(target: float) -> str:
    """The interactivity floor as a search SLO."""
    return f"tok_s_per_user>={target:g}"


def search_scenario(hw: str, cfg: Config) -> dict[str, Any]:
    """One whole node of ``hw`` with the configuration's what-ifs, no mapping: the search maps it."""
    s = _scenario(hw, lookup(hw).n_chips, cfg)
    del s["parallelism"]
    if cfg.comm_latency_factor != 1.0:
        fam = lookup(hw).chip.family
        s["overrides"] = {**s.get("overrides", {}), "interconnect.software_latency_s":
                          api.family_params(fam).comm_latency_s * cfg.comm_latency_factor}
    return s


def best_under_slo(hw: str, configs: list[Config], target: float, y: str = "tok_s_per_gpu") -> dict[str, Any] | None:
    """The best point for metric ``y`` with tok/s per user >= ``target``: llmhw.api.search over 1, 2, 4
    and 8 GPUs of the node, every mapping (tp, pp, ep, dp) of each and every batch up to the memory
    limit, for each of the
    configurations software may choose from (a placement, a collective stack); None when none meets it."""
    best: dict[str, Any] | None = None
    for ci, cfg in enumerate(configs):
        # Every GPU count the fronts use, each mapped every way: the engine's batch cap (1024 requests)
        # binds a whole scenario, so a one-GPU replica is its own scenario, as on the fronts.
        r = api.search(search_scenario(hw, cfg), slo=[slo(target)], objective=SEARCH_OBJECTIVES[y],
                       vary={"n_chips": list(TPS)})
        if r.best is None:
            continue
        if best is None or r.objective.better(r.best["objective"], best["objective"]):
            best = {**r.best, "config": ci, "placement": "auto" if cfg.placement is None else
                    ", ".join(f"{k}: {v}" for k, v in cfg.placement.items())}
    return best


def mapping_label(par: dict[str, Any]) -> str:
    """'TP 4 x DP 2': the parallel degrees above 1."""
    text = " x ".join(f"{k.upper()} {v}" for k, v in par.items() if isinstance(v, int) and v > 1) or "one GPU"
    # moe_dp replicated: every replica holds all experts (not attention data parallel).
    return text + (" replicas" if par.get("moe_dp") == "replicated" else "")


def pareto(rows: list[dict[str, Any]], y: str, maximize: bool = True, x: str = "tok_s_per_user") -> list[dict[str, Any]]:
    """The non-dominated rows: no other row has at least the same x and a better-or-equal y (one
    strictly better). Sorted by x ascending."""
    sign = 1.0 if maximize else -1.0
    order = sorted(rows, key=lambda r: (-r[x], -sign * r[y]))
    front, best = [], -np.inf
    for r in order:
        v = sign * r[y]
        if v > best:
            front.append(r)
            best = v
    return front[::-1]


def best_at(rows: list[dict[str, Any]], target: float, y: str, maximize: bool = True) -> dict[str, Any] | None:
    """The best row on y among those at least ``target`` tok/s per user (the front's value there)."""
    ok = [r for r in rows if r["tok_s_per_user"] >= target]
    if not ok:
        return None
    return max(ok, key=lambda r: r[y]) if maximize else min(ok, key=lambda r: r[y])


# ------------------------------------------------------------------ figures
def _style(ax: Any, ylabel: str) -> None:
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.xaxis.set_major_formatter(_PLAIN)
    ax.yaxis.set_major_formatter(_PLAIN)
    ax.set_xlabel("interactivity (output tokens/s per user)")
    ax.set_ylabel(ylabel)
    ax.grid(True, which="both", alpha=0.25)


DIRECTION_LABELS = {
    "HBF": "HBF: one 512 GB, 1.64 TB/s flash stack per GPU",
    "PNM": "PNM on the HBM base die (pnm-hbm)",
    "Low-latency interconnect": "low-latency interconnect: 50 ns hops, half software latency",
}
_LINES = {"HBF": ("--", "s"), "PNM": (":", "x"), "3D stack": ("-.", "v"), "3D stack, no thermal cap": ("-.", "^"),
          "Low-latency interconnect": ("--", "D")}


def _line(name: str, styled: bool) -> dict[str, Any]:
    """Line style of a front: today's systems solid; with ``styled`` the directions dashed with their
    own markers and the base system a thick grey band under them."""
    if not styled:
        return {"ls": "-", "marker": "o", "ms": 3.5, "lw": 1.4, "color": _COLORS.get(name)}
    if name == BASE:
        return {"ls": "-", "marker": None, "lw": 5, "color": "0.75", "zorder": 1}
    ls, mk = _LINES.get(name, ("-", "o"))
    return {"ls": ls, "marker": mk, "ms": 4, "lw": 1.3, "color": _COLORS.get(name), "zorder": 3}


def _fig_fronts(fronts: dict[str, list[dict[str, Any]]], labels: dict[str, str], title: str,
                styled: bool = False) -> MplFigure:
    fig, ax = style.figure(8.0, 5.2)
    for name, fr in fronts.items():
        ax.plot([r["tok_s_per_user"] for r in fr], [r["tok_s_per_gpu"] for r in fr], label=labels[name],
                **_line(name, styled))
    for t in TARGETS_TOK_S_PER_USER:             # the tables' interactivity floors
        ax.axvline(t, color="0.7", lw=0.7, ls=":")
        ax.text(t, 1.0, f"{t:g}", transform=ax.get_xaxis_transform(), ha="center", va="bottom", fontsize=8,
                color="0.45")
    _style(ax, "throughput (output tokens/s per GPU)")
    ax.set_title(title)
    ax.legend(fontsize=8, loc="lower left")
    return fig


def _fig_econ(fronts: dict[str, dict[str, list[dict[str, Any]]]], labels: dict[str, str]) -> MplFigure:
    # Three panels and the legend in a 2 x 2 grid, 8 in wide: every text at 8 pt or more.
    fig = style.canvas(8.0, 7.6)
    axd = fig.subplot_mosaic([["usd_per_mtok", "tok_s_per_mw"], ["gco2e_per_mtok", "legend"]])
    spec = (("usd_per_mtok", "USD per million output tokens", "(a) cost, lower is better"),
            ("tok_s_per_mw", "output tokens/s per MW provisioned", "(b) power, higher is better"),
            ("gco2e_per_mtok", "gCO2e per million output tokens", "(c) carbon, lower is better"))
    for y, ylab, title in spec:
        ax = axd[y]
        for name, fr in fronts[y].items():
            st = _line(name, name in _LINES)
            st.update(ms=2.5) if "ms" in st else None
            if name == BASE:
                st = {**_line(name, False)}
            ax.plot([r["tok_s_per_user"] for r in fr], [r[y] for r in fr], label=labels[name], **st)
        _style(ax, ylab)
        if y == "tok_s_per_mw":
            ax.yaxis.set_major_formatter(_SI)
        ax.set_title(title)
    leg = axd["legend"]
    leg.axis("off")
    h, lab = axd["usd_per_mtok"].get_legend_handles_labels()
    leg.legend(h, [textwrap.fill(t, 42) for t in lab], fontsize=8, loc="center", title="solid: systems; "
               f"dashed: {BASE} + a direction", title_fontsize=8)
    return fig


# ------------------------------------------------------------------ the study
def _fmt(v: float | None, digits: int = 3) -> float | None:
    if v is None:
        return None
    return float(f"{v:.{digits}g}")



@dataclass
class Points:
    """Every point of every system and direction, and how the tables and figures label them."""

    econ: bool
    all: dict[str, list[dict[str, Any]]]
    dirs: list[str]
    labels: dict[str, str]
    best: dict[tuple[str, float, str], dict[str, Any] | None] = field(default_factory=dict)

    @property
    def sys_names(self) -> list[str]:
        return list(SYSTEMS)

    @property
    def dir_names(self) -> list[str]:
        return [BASE, *self.dirs]

    @property
    def labels_dir(self) -> dict[str, str]:
        return {**self.labels, BASE: f"{self.labels[BASE]}, today"}

    def tput(self) -> dict[str, list[dict[str, Any]]]:
        """The throughput Pareto front of each system and direction."""
        return {n: pareto(self.all[n], "tok_s_per_gpu") for n in self.all}

    def at(self, n: str, t: float, y: str = "tok_s_per_gpu", mx: bool = True) -> float:
        """The best ``y`` among ``n``'s drawn points of at least ``t`` tok/s per user (NaN when none)."""
        b = best_at(self.all[n], t, y, mx)
        return b[y] if b else float("nan")

    def slo_best(self, n: str, t: float, y: str = "tok_s_per_gpu") -> float:
        """``n``'s best ``y`` under tok/s per user >= ``t``, at its best mapping and batch (NaN when none)."""
        b = self.best.get((n, t, y))
        return float(b["objective"]) if b else float("nan")     # the searched metric


def gather() -> Points:
    """Every (TP, configuration, concurrency) point of the systems and of the directions on BASE."""
    econ = economics_available()
    all_points: dict[str, list[dict[str, Any]]] = {}
    for name, hw in SYSTEMS.items():
        all_points[name] = points(name, hw, [Config()], econ)
    dirs = directions()
    for name, (_, cfgs) in dirs.items():
        all_points[name] = points(name, SYSTEMS[BASE], cfgs, econ)
    labels = {n: system_label(n) for n in SYSTEMS}
    labels.update({n: f"{BASE} + {_direction_label(n)}" for n in dirs})
    # The tables' question, the best of a metric under an interactivity floor, is a search.
    best: dict[tuple[str, float, str], dict[str, Any] | None] = {}
    keys = list(SEARCH_OBJECTIVES) if econ else ["tok_s_per_gpu"]
    designs = {**{n: (hw, [Config()]) for n, hw in SYSTEMS.items()},
               **{n: (SYSTEMS[BASE], cfgs) for n, (_, cfgs) in dirs.items()}}
    for n, (hw, cfgs) in designs.items():
        for t in TARGETS_TOK_S_PER_USER:
            for y in keys:
                best[(n, t, y)] = best_under_slo(hw, cfgs, t, y)
    return Points(econ, all_points, list(dirs), labels, best)


def _target_rows(p: Points) -> list[dict[str, Any]]:
    """Each system and direction at its best mapping and batch under each interactivity floor."""
    target_rows = []
    for n in [*p.sys_names, *p.dirs]:
        chip = lookup(SYSTEMS[n] if n in SYSTEMS else SYSTEMS[BASE]).chip
        for t in TARGETS_TOK_S_PER_USER:
            b = p.best[(n, t, "tok_s_per_gpu")]
            row: dict[str, Any] = {"system": p.labels[n], "min_tok_s_per_user": t}
            if b is None:
                row.update({"tok_s_per_gpu": None, "mapping": None, "batch": None})
                target_rows.append(row)
                continue
            row.update({"tok_s_per_gpu": round(b["output_tok_s_per_chip"]), "gpus": b["varied"]["n_chips"],
                        "mapping": mapping_label(b["parallelism"]), **b["parallelism"], "batch": b["batch"], "placement": b["placement"],
                        "tok_s_per_user": round(b["tok_s_per_user"], 1), "tpot_ms": round(b["tpot_s"] * 1e3, 2)})
            if p.econ:
                row.update({"usd_per_mtok": _fmt(p.slo_best(n, t, "usd_per_mtok")),
                            "tok_s_per_mw": round(p.slo_best(n, t, "tok_s_per_mw"), -3),
                            "gco2e_per_mtok": _fmt(p.slo_best(n, t, "gco2e_per_mtok")),
                            "j_per_token": _fmt(b["energy_j_per_token"]),
                            "chip_price": "catalog" if chip.price_usd else "estimated by llmhw.economics"})
            target_rows.append(row)
    return target_rows


def _front_rows(p: Points) -> list[dict[str, Any]]:
    labels = p.labels
    front_rows = []
    for n, fr in p.tput().items():
        for r in fr:
            front_rows.append({"system": labels[n], **{k: (round(v, 3) if isinstance(v, float) else v)
                                                        for k, v in r.items() if k != "system" and k != "config"}})
    return front_rows


def _system_findings(p: Points) -> list[str]:
    findings: list[str] = []
    if not p.econ:
        findings.append("Economics not available: llmhw.economics (cost_usd_per_mtok, tokens_per_mw, "
                        "co2e_g_per_mtok) is missing from predictions, so only throughput fronts are drawn.")
    at, all_points, sys_names = p.slo_best, p.all, p.sys_names
    t_mid = TARGETS_TOK_S_PER_USER[1]
    h100 = at("H100", t_mid)
    parts = [f"{n} {at(n, t_mid):,.0f} ({at(n, t_mid) / h100:.1f}x)" for n in sys_names]
    findings.append(f"{MODEL} FP8, 1k/1k, at >= {t_mid:g} tok/s per user, each system at its best mapping and "
                    "batch on 1-8 GPUs: tok/s per GPU " + ", ".join(parts) + " (x H100).")
    maxes = {n: max(r["tok_s_per_gpu"] for r in all_points[n]) for n in sys_names}
    inter = {n: max(r["tok_s_per_user"] for r in all_points[n]) for n in sys_names}
    findings.append("Front ends: peak throughput " + ", ".join(f"{n} {maxes[n]:,.0f}" for n in sys_names)
                    + " tok/s per GPU; peak interactivity " + ", ".join(f"{n} {inter[n]:.0f}" for n in sys_names)
                    + " tok/s per user (batch 1, TP 8: decode is weight-bandwidth plus all-reduce latency bound).")
    return findings


def _direction_findings(p: Points) -> list[str]:
    all_points, econ, dirs = p.all, p.econ, p.dirs
    t_mid = TARGETS_TOK_S_PER_USER[1]
    findings: list[str] = []
    for n in dirs:
        gains = []
        for t in TARGETS_TOK_S_PER_USER:
            b0, b1 = p.slo_best(BASE, t), p.slo_best(n, t)
            gains.append(f"{(b1 / b0 - 1) * 100:+.0f}% at {t:g}" if np.isfinite(b0) and np.isfinite(b1) else f"n/a at {t:g}")
        m0 = max(r["tok_s_per_gpu"] for r in all_points[BASE])
        m1 = max(r["tok_s_per_gpu"] for r in all_points[n])
        i0 = max(r["tok_s_per_user"] for r in all_points[BASE])
        i1 = max(r["tok_s_per_user"] for r in all_points[n])
        s = (f"{BASE} + {n} vs {BASE}, each at its best mapping and batch: tok/s per GPU {', '.join(gains)} "
             f"tok/s/user; peak throughput {(m1 / m0 - 1) * 100:+.0f}%, "
             f"peak interactivity {(i1 / i0 - 1) * 100:+.0f}%")
        if econ:
            c0, c1 = p.slo_best(BASE, t_mid, "usd_per_mtok"), p.slo_best(n, t_mid, "usd_per_mtok")
            g0, g1 = p.slo_best(BASE, t_mid, "gco2e_per_mtok"), p.slo_best(n, t_mid, "gco2e_per_mtok")
            s += (f"; at {t_mid:g} tok/s/user {c1:.3g} vs {c0:.3g} USD/Mtok ({(c1 / c0 - 1) * 100:+.0f}%), "
                  f"{g1:.3g} vs {g0:.3g} gCO2e/Mtok")
        findings.append(s + ".")
    return findings


def _economics_findings(p: Points) -> list[str]:
    sys_names = p.sys_names
    t_mid = TARGETS_TOK_S_PER_USER[1]
    findings: list[str] = []
    costs = {n: p.slo_best(n, t_mid, "usd_per_mtok") for n in sys_names}
    mw = {n: p.slo_best(n, t_mid, "tok_s_per_mw") for n in sys_names}
    g = {n: p.slo_best(n, t_mid, "gco2e_per_mtok") for n in sys_names}
    findings.append(f"At >= {t_mid:g} tok/s per user: " + ", ".join(
        f"{n} {costs[n]:.3g} USD/Mtok, {mw[n] / 1e3:,.0f}k tok/s per MW, {g[n]:.3g} gCO2e/Mtok" for n in sys_names)
        + ". MI355X has no catalog price: llmhw.economics estimates it from its peak FLOP/s, so its USD/Mtok "
          "is the least certain.")
    rank_flops = sorted(sys_names, key=lambda n: -lookup(SYSTEMS[n]).chip.peak_flops.get("fp8", 0))
    rank_cost = sorted(sys_names, key=lambda n: costs[n])
    findings.append(f"Ranking by peak FP8 FLOP/s ({' > '.join(rank_flops)}) differs from ranking by USD/Mtok at "
                    f"{t_mid:g} tok/s/user ({' < '.join(rank_cost)}): the paper's point that peak FLOP/s is not "
                    "the metric.")
    why = ranking_explained(p)
    if why:
        findings.append(why)
    return findings


# One operating point for every system, as the claims study's Q13 ranks them: all eight GPUs of the
# node in tensor parallel, 64 requests in flight.
FIXED_TP, FIXED_BATCH = 8, 64


def fixed_point(p: Points, n: str) -> dict[str, Any] | None:
    """System ``n``'s drawn point at TP FIXED_TP and concurrency FIXED_BATCH (None when it does not fit)."""
    return next((r for r in p.all[n] if r["tp"] == FIXED_TP and r["concurrency"] == FIXED_BATCH
                 and r["config"] == 0), None)


def ranking_explained(p: Points) -> str:
    """Why USD/Mtok ranks the systems one way at one fixed point (TP 8, batch 64) and another under a
    per-user floor: every number from the study's points and searches; empty without economics."""
    t = TARGETS_TOK_S_PER_USER[1]
    fixed = {n: fixed_point(p, n) for n in p.sys_names}
    floor = {n: p.best.get((n, t, "usd_per_mtok")) for n in p.sys_names}
    names = [n for n in p.sys_names if fixed[n] is not None and floor[n] is not None]
    if not p.econ or len(names) < 2:
        return ""
    r64 = sorted(names, key=lambda n: fixed[n]["usd_per_mtok"])
    rfl = sorted(names, key=lambda n: floor[n]["objective"])
    # A GPU-hour's cost, from the fixed point: USD/Mtok x tokens/s per GPU x 3600 s / 1e6.
    hour = {n: fixed[n]["usd_per_mtok"] * fixed[n]["tok_s_per_gpu"] * 3600 / 1e6 for n in names}
    users = [fixed[n]["tok_s_per_user"] for n in names]
    head = (f"Two cost rankings, two operating points. At one point for all, TP {FIXED_TP} and batch {FIXED_BATCH} "
            f"(the claims study's Q13), USD/Mtok ranks {' < '.join(r64)} ("
            + ", ".join(f"{n} {fixed[n]['usd_per_mtok']:.2f}" for n in r64) + f"); under the {t:g} tok/s per-user "
            f"floor, each system at its cheapest mapping and batch, {' < '.join(rfl)} ("
            + ", ".join(f"{n} {floor[n]['objective']:.2f}" for n in rfl) + ").")
    if r64 == rfl:
        return head + " The two agree."
    mover = max(names, key=lambda n: r64.index(n) - rfl.index(n))
    per_gpu = {n: floor[n]["batch"] / floor[n]["varied"]["n_chips"] for n in names}
    fastest = max(names, key=lambda n: p.slo_best(n, t, "tok_s_per_gpu"))
    return (head + f" At batch {FIXED_BATCH} on {FIXED_TP} GPUs every system runs far above the floor "
            f"({min(users):.0f}-{max(users):.0f} tok/s per user), so a GPU-hour's cost ("
            + ", ".join(f"{n} {hour[n]:.2f}" for n in names) + " USD) over the tokens of that one light load decides, "
            "and the dearest GPUs lose. With only the floor to meet, each takes the largest load that keeps every "
            "user above it: " + "; ".join(
                f"{n} batch {floor[n]['batch']} on {floor[n]['varied']['n_chips']} GPU"
                f"{'s' if floor[n]['varied']['n_chips'] > 1 else ''} ({per_gpu[n]:.0f} requests per GPU, "
                f"{floor[n]['tok_s_per_user']:.0f} tok/s per user)" for n in rfl)
            + ". How many requests a GPU carries above the floor (its per-user speed under load: memory bandwidth "
            "and the engine's fitted efficiencies) sets the cost, so "
            + (f"{mover}, the fastest per GPU there, " if mover == fastest else f"{mover} ")
            + f"spreads its price over the most tokens: {fixed[mover]['usd_per_mtok']:.2f} -> "
            f"{floor[mover]['objective']:.2f} USD/Mtok.")


def _tables(p: Points) -> list[Table]:
    target_rows, front_rows = _target_rows(p), _front_rows(p)
    return [
        Table("economics_targets", f"Best configuration at an interactivity floor ({MODEL} FP8, 1k/1k, engine "
              f"'{ENGINE}', 1-8 GPUs, every mapping and batch)", target_rows,
              note="Each system, and the base system with each direction, at its own best mapping and batch under "
                   "the same SLO, tok_s_per_user >= the floor: llmhw.api.search over 1, 2, 4 and 8 GPUs of the node, "
                   "every valid (tp, pp, ep, dp) of each, every batch (requests in flight on those GPUs) up to the "
                   "memory limit and the engine's cap, and each direction's configurations (a placement, a "
                   "collective stack). tok_s_per_gpu, gpus, mapping, batch, placement, tok_s_per_user, tpot_ms, j_per_token: the highest-throughput point. "
                   "usd_per_mtok, tok_s_per_mw, gco2e_per_mtok: each its own search for that metric under the same "
                   "SLO (llmhw.economics defaults: 60% utilization, 4-year life, US grid). The Pareto fronts (table "
                   "economics_pareto and the figures) keep the InferenceMAX grid: TP 1-8, concurrency 1-1024. "
                   + ranking_explained(p)),
        Table("economics_pareto", "Throughput Pareto fronts (output tokens/s per GPU vs tokens/s per user)",
              front_rows),
    ]


def _throughput_figures(p: Points) -> list[Figure]:
    at, all_points, sys_names, dir_names = p.at, p.all, p.sys_names, p.dir_names
    labels, labels_dir, tput = p.labels, p.labels_dir, p.tput()
    t_mid = TARGETS_TOK_S_PER_USER[1]
    h100 = at("H100", t_mid)
    b = at("B200", t_mid) / h100
    span = min(max(r["tok_s_per_gpu"] for r in tput[n]) / min(r["tok_s_per_gpu"] for r in tput[n]) for n in sys_names)
    figs = [
        Figure("economics_pareto_systems",
               f"InferenceMAX-style fronts for {MODEL} FP8: at {t_mid:g} tok/s per user a B200 delivers {b:.1f}x an "
               f"H100's tokens/s per GPU; along every front throughput per GPU spans {span:.0f}x or more between the "
               "most interactive and the highest-throughput configuration.",
               _fig_fronts({n: tput[n] for n in sys_names}, labels, "Throughput per GPU vs interactivity: "
                           "Pareto fronts")),
    ]
    peak = {n: max(r["tok_s_per_gpu"] for r in all_points[n]) for n in dir_names}
    inter_d = {n: max(r["tok_s_per_user"] for r in all_points[n]) for n in dir_names}
    ll, cap, nocap = "Low-latency interconnect", "3D stack", "3D stack, no thermal cap"
    figs.append(Figure(
        "economics_pareto_directions",
        f"On an {BASE} node only latency and bandwidth per token move the interactive end: a low-latency "
        f"interconnect +{(inter_d[ll] / inter_d[BASE] - 1) * 100:.0f}% and a 3D stack without its thermal cap "
        f"+{(inter_d[nocap] / inter_d[BASE] - 1) * 100:.0f}% peak tok/s per user; HBF adds "
        f"{(peak['HBF'] / peak[BASE] - 1) * 100:.0f}% at the throughput end, PNM changes no time, and the 3D stack "
        f"under its thermal cap (clock and data rate {_stack_clock(cap):.0%}) "
        + (f"loses {(1 - peak[cap] / peak[BASE]) * 100:.0f}%" if peak[cap] < peak[BASE]
           else f"gains {(peak[cap] / peak[BASE] - 1) * 100:.0f}%") + " of peak throughput.",
        _fig_fronts({n: tput[n] for n in dir_names}, labels_dir,
                    f"{BASE} + each of the paper's directions: Pareto fronts", styled=True)))
    return figs


def _economics_figure(p: Points) -> Figure:
    at, all_points, sys_names, dirs, labels = p.at, p.all, p.sys_names, p.dirs, p.labels
    t_mid = TARGETS_TOK_S_PER_USER[1]
    econ_fronts = {
        "usd_per_mtok": {n: pareto(all_points[n], "usd_per_mtok", maximize=False) for n in [*sys_names, *dirs]},
        "tok_s_per_mw": {n: pareto(all_points[n], "tok_s_per_mw") for n in [*sys_names, *dirs]},
        "gco2e_per_mtok": {n: pareto(all_points[n], "gco2e_per_mtok", maximize=False) for n in [*sys_names, *dirs]},
    }
    cheapest = min(sys_names, key=lambda n: at(n, t_mid, "usd_per_mtok", False))
    hi = TARGETS_TOK_S_PER_USER[-1]
    ratio = at(cheapest, hi, "usd_per_mtok", False) / min(r["usd_per_mtok"] for r in all_points[cheapest])
    ranks = {y: sorted(sys_names, key=lambda n, y=y, mx=mx: (-1 if mx else 1) * at(n, t_mid, y, mx))
             for y, mx in (("usd_per_mtok", False), ("tok_s_per_mw", True), ("gco2e_per_mtok", False))}
    same = ranks["usd_per_mtok"] == ranks["tok_s_per_mw"] == ranks["gco2e_per_mtok"]
    if same:
        rank_text = f"the ranking of systems at {t_mid:g} tok/s per user is the same on all three metrics"
    else:
        rank_text = (f"at {t_mid:g} tok/s per user cost ranks {' < '.join(ranks['usd_per_mtok'])} but power "
                     f"ranks {' > '.join(ranks['tok_s_per_mw'])}")
    return Figure(
        "economics_cost_power_carbon",
        f"Cost, power and carbon per token follow the throughput fronts: on {cheapest}, the cheapest system, a "
        f"token at {hi:g} tok/s per user costs {ratio:.1f}x one at its cheapest operating point; {rank_text}.",
        _fig_econ(econ_fronts, labels))


def _setups(p: Points) -> dict[str, str]:
    """Each figure's setup line, from the study's constants."""
    e = EconomicsParams.default()
    base = style.setup(f"{llmhw.load_model(MODEL).name} {PRECISION['weights'].upper()}",
                       f"{style.tokens(INPUT_TOKENS)} in / {style.tokens(OUTPUT_TOKENS)} out",
                       f"TP {TPS[0]}-{TPS[-1]}", f"concurrency {CONCURRENCY[0]}-{CONCURRENCY[-1]:,}")
    return {
        "economics_pareto_systems": style.setup(base, "/".join(SYSTEMS)),
        "economics_pareto_directions": style.setup(base, f"{BASE} + each direction"),
        "economics_cost_power_carbon": style.setup(base, f"{e.utilization:.0%} utilization",
                                                   f"{e.service_life_years:.0f}-year life", f"{e.grid:.0f} gCO2e/kWh"),
    }


def _summary(p: Points) -> str:
    t = TARGETS_TOK_S_PER_USER[1]
    tput = {n: p.slo_best(n, t) for n in p.sys_names}
    top = max(tput, key=lambda n: tput[n])
    text = (f"At >= {t:g} tok/s per user on {llmhw.load_model(MODEL).name}, each system at its best mapping and batch, "
            f"{top} gives the most tokens/s per GPU ({tput[top]:,.0f}, {tput[top] / tput['H100']:.1f}x an H100).")
    if p.econ:
        cost = {n: p.slo_best(n, t, "usd_per_mtok") for n in p.sys_names}
        cheap = min(cost, key=lambda n: cost[n])
        fixed = {n: fixed_point(p, n) for n in p.sys_names}
        r64 = min((n for n in fixed if fixed[n] is not None), key=lambda n: fixed[n]["usd_per_mtok"])
        text += (f" It is also cheapest there ({cost[cheap]:.2f} USD/Mtok)" if cheap == top else
                 f" {cheap} is cheapest there ({cost[cheap]:.2f} USD/Mtok)")
        text += ("" if r64 == cheap else f", while at one fixed load for all (TP {FIXED_TP}, batch {FIXED_BATCH}) "
                 f"{r64} is: the operating point decides the cost ranking") + "."
    low = TARGETS_TOK_S_PER_USER[-1]
    ll = "Low-latency interconnect"
    if ll in p.dirs:
        text += (f" Of the directions on {BASE}, a low-latency interconnect adds "
                 f"{(p.slo_best(ll, low) / p.slo_best(BASE, low) - 1) * 100:+.0f}% tokens/s per GPU at {low:g} tok/s "
                 "per user.")
    return text


def run() -> Study:
    style.apply()
    p = gather()
    findings = _system_findings(p) + _direction_findings(p)
    if p.econ:
        findings += _economics_findings(p)
    tables = _tables(p)
    figs = _throughput_figures(p)
    if p.econ:
        figs.append(_economics_figure(p))
    setups = _setups(p)
    for f in figs:
        f.setup = setups[f.name]
    return Study(
        name="economics", title="Economics: throughput, cost, power and carbon per token",
        question="What throughput per chip does each system (and each of the paper's four directions) give at "
                 "each level of interactivity, and at what cost, power and carbon per token (the paper's Q13)?",
        tables=tables, figures=figs, findings=findings, summary=_summary(p))
