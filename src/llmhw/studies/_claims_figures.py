"""The claims study's figures: verdicts per part of the paper, paper vs llmhw numbers, and the
decode roofline of Q1."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.figure import Figure as MplFigure
from matplotlib.ticker import FuncFormatter

from llmhw.studies._claims_rule import TOLERANCE, VERDICTS, Number, Row, off_by

_PLAIN = FuncFormatter(lambda v, _: f"{v:g}")
COLORS = {"agree": "#009E73", "partly": "#E69F00", "disagree": "#D55E00", "by construction": "#56B4E9",
          "not computable": "#bbbbbb"}

# label offsets (points) for crowded markers of the scatter; the rest go right of their marker
_LABEL_AT = {"Q14": (-5, 3), "S2-4a": (5, 3), "T3-flash": (-5, 3), "T3-hbm4": (-5, -8), "T3-hbf": (-5, 1),
             "T3-lpddr5": (-5, 2), "S2-4b": (5, -6), "S2-4c": (-5, -2), "S2-19a": (5, -5), "S2-20a": (-5, 3),
             "S2-18": (-5, 3), "T1-hbm4": (-5, 1), "S2-15": (5, 3), "T3-ddr5": (-5, -8), "T1-hbm4-cap": (5, -3),
             "S2-14": (5, -4), "S2-20b": (5, 2), "S2-20c": (5, -6), "S2-19b": (5, -7)}


def numeric(rows: list[Row]) -> list[Row]:
    """Rows with a number on each side (the paper's and llmhw's)."""
    return [r for r in rows if r["paper_low"] is not None and r["llmhw_value"] and r["verdict"] != "not computable"]


def distance(r: Row) -> float:
    """Relative distance of a numeric row's llmhw number from the paper's number or range."""
    return off_by(Number(r["paper_low"], r["paper_high"], bool(r["paper_effect"])), r["llmhw_value"])


def fig_scatter(rows: list[Row]) -> MplFigure:
    pts = numeric(rows)
    fig = MplFigure(figsize=(7.2, 6.2), layout="constrained")
    ax = fig.subplots()
    lo = min(min(r["paper_low"] or r["llmhw_value"], r["llmhw_value"]) for r in pts) / 2
    hi = max(max(r["paper_high"] if np.isfinite(r["paper_high"]) else r["paper_low"], r["llmhw_value"])
             for r in pts) * 2
    x = np.array([lo, hi])
    ax.plot(x, x, color="0.3", lw=1, label="llmhw = paper")
    ax.fill_between(x, x * (1 - TOLERANCE), x * (1 + TOLERANCE), color="0.85", label="within 10% (agree)")

    def xpos(r: Row) -> float:       # the paper's number, or the point of its range nearest llmhw's
        return min(max(r["llmhw_value"], r["paper_low"]), r["paper_high"])

    for a in VERDICTS[:4]:
        p = [r for r in pts if r["verdict"] == a]
        ax.scatter([xpos(r) for r in p], [r["llmhw_value"] for r in p], color=COLORS[a], s=30, zorder=3,
                   marker="s" if a == "by construction" else "o", label=f"{a} ({len(p)})")
        for r in p:
            if r["paper_high"] > r["paper_low"]:
                ends = [max(r["paper_low"], lo), min(r["paper_high"], hi)]
                ax.plot(ends, [r["llmhw_value"]] * 2, color=COLORS[a], lw=2, alpha=0.5)
    ax.plot([], [], color="0.5", lw=2, label="the paper's range")
    for r in pts:
        dx, dy = _LABEL_AT.get(r["id"], (5, -3))
        ax.annotate(f"{r['id']} ({r['unit']})", (xpos(r), r["llmhw_value"]), fontsize=6.5, xytext=(dx, dy),
                    textcoords="offset points", ha="left" if dx > 0 else "right")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.xaxis.set_major_formatter(_PLAIN)
    ax.yaxis.set_major_formatter(_PLAIN)
    ax.set_xlabel("the paper's figure (unit in each label; bars: its range, dot at its nearest point)")
    ax.set_ylabel("llmhw's figure (same unit)")
    ax.set_title("Paper vs llmhw: every claim with a number on each side", fontsize=10)
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(True, which="both", alpha=0.25)
    return fig


def fig_counts(rows: list[Row]) -> MplFigure:
    groups = {"paper.md §2 (claims)": lambda r: r["id"].startswith("S2"),
              "Tables 1 and 3 (specs)": lambda r: r["id"].startswith("T"),
              "Section 5 tests (Q1-Q15)": lambda r: r["id"].startswith("Q")}
    fig = MplFigure(figsize=(8, 3.2), layout="constrained")
    ax = fig.subplots()
    names = list(groups)
    left = np.zeros(len(names))
    for a in VERDICTS:
        v = np.array([sum(1 for r in rows if groups[g](r) and r["verdict"] == a) for g in names])
        ax.barh(names, v, left=left, color=COLORS[a], label=a)
        for i, (lf, n) in enumerate(zip(left, v, strict=True)):
            if n:
                ax.text(lf + n / 2, i, str(n), ha="center", va="center", fontsize=8)
        left += v
    ax.invert_yaxis()
    ax.set_xlabel("number of claims")
    fig.legend(*ax.get_legend_handles_labels(), fontsize=8, ncol=5, loc="outside upper center")
    return fig


def fig_roofline(q1: dict[str, Any]) -> MplFigure:
    fig = MplFigure(figsize=(7.5, 4.6), layout="constrained")
    ax = fig.subplots()
    ax.plot(q1["batch"], q1["ai"], "o-", ms=3, color="k", zorder=3,
            label="decode step, Llama 3.1 70B FP8, 8 x H100, TP 8 (1K in / 1K out)")
    names = {"h100-sxm": "H100 (HBM3)", "h200": "H200 (HBM3E)", "b200": "B200 (HBM3E)", "mi300x": "MI300X (HBM3)",
             "mi355x": "MI355X (HBM3E)"}
    colors = ["#1f77b4", "#2ca02c", "#d62728", "#ff7f0e", "#9467bd"]
    for (cid, r), c in zip(q1["ridges"].items(), colors, strict=True):
        ax.axhline(r, color=c, ls="--", lw=1, label=f"ridge {names[cid]}: {r:.0f} FLOP/B (FP8 peak / bandwidth)")
    if q1.get("eng_cross") is not None:
        ax.axvline(q1["eng_cross"], color="0.5", ls=":", lw=1)
        ax.text(q1["eng_cross"] / 1.08, 240, f"batch {q1['eng_cross']}: compute time overtakes memory time\n"
                "with fitted GEMM efficiencies", fontsize=7, color="0.3", ha="right")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.xaxis.set_major_formatter(_PLAIN)
    ax.yaxis.set_major_formatter(_PLAIN)
    ax.set_ylim(1, 2000)
    ax.set_xlabel("batch (requests decoded together; up to the largest that fits)")
    ax.set_ylabel("arithmetic intensity (FP8 FLOP per HBM byte)")
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title("Q1: decode arithmetic intensity vs the roofline ridge", fontsize=10)
    return fig
