"""The claims study's figures: verdicts per part of the paper, paper vs llmhw numbers, and the
decode roofline of Q1."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.figure import Figure as MplFigure
from matplotlib.ticker import FuncFormatter

from llmhw.studies import style
from llmhw.studies._claims_rule import TOLERANCE, VERDICTS, Number, Row, off_by

_PLAIN = FuncFormatter(lambda v, _: f"{v:g}")
COLORS = {"agree": "#009E73", "partly": "#E69F00", "disagree": "#D55E00", "by construction": "#56B4E9",
          "not computable": "#bbbbbb"}

def numeric(rows: list[Row]) -> list[Row]:
    """Rows with a number on each side (the paper's and llmhw's)."""
    return [r for r in rows if r["paper_low"] is not None and r["llmhw_value"] and r["verdict"] != "not computable"]


def distance(r: Row) -> float:
    """Relative distance of a numeric row's llmhw number from the paper's number or range."""
    return off_by(Number(r["paper_low"], r["paper_high"], bool(r["paper_effect"])), r["llmhw_value"])


def fig_scatter(rows: list[Row]) -> MplFigure:
    pts = numeric(rows)
    fig, ax = style.figure(8.0, 7.0)
    lo = min(min(r["paper_low"] or r["llmhw_value"], r["llmhw_value"]) for r in pts) / 2
    hi = max(max(r["paper_high"] if np.isfinite(r["paper_high"]) else r["paper_low"], r["llmhw_value"])
             for r in pts) * 2
    x = np.array([lo, hi])
    ax.plot(x, x, color="0.3", lw=1, label="llmhw = paper")
    ax.fill_between(x, x * (1 - TOLERANCE), x * (1 + TOLERANCE), color="0.85", label="within 10% (agree)")

    def xpos(r: Row) -> float:       # the paper's number, or the point of its range nearest llmhw's
        return min(max(r["llmhw_value"], r["paper_low"]), r["paper_high"])

    bars = []
    for a in VERDICTS[:4]:
        p = [r for r in pts if r["verdict"] == a]
        ax.scatter([xpos(r) for r in p], [r["llmhw_value"] for r in p], color=COLORS[a], s=30, zorder=3,
                   marker="s" if a == "by construction" else "o", label=f"{a} ({len(p)})")
        for r in p:
            if r["paper_high"] > r["paper_low"]:
                ends = [max(r["paper_low"], lo), min(r["paper_high"], hi)]
                bars += ax.plot(ends, [r["llmhw_value"]] * 2, color=COLORS[a], lw=2, alpha=0.5)
    ax.plot([], [], color="0.5", lw=2, label="the paper's range")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.xaxis.set_major_formatter(_PLAIN)
    ax.yaxis.set_major_formatter(_PLAIN)
    ax.set_xlabel("the paper's figure (unit in each label; bars: its range, dot at its nearest point)")
    ax.set_ylabel("llmhw's figure (same unit)")
    ax.set_title("Paper vs llmhw: every claim with a number on each side")
    legend = ax.legend(fontsize=8, loc="upper left")
    ax.grid(True, which="both", alpha=0.25)
    # Labels last, each where it clears the others, the markers, the range bars, the legend and the frame.
    style.place_labels(ax, [(xpos(r), r["llmhw_value"], f"{r['id']} ({r['unit']})") for r in pts],
                       avoid=[legend, *bars])
    return fig


def fig_counts(rows: list[Row]) -> MplFigure:
    groups = {"Section 2 claims (1-24)": lambda r: r["id"].startswith("S2"),
              "Tables 1 and 3 (specs)": lambda r: r["id"].startswith("T"),
              "Section 5 tests (Q1-Q15)": lambda r: r["id"].startswith("Q")}
    fig, ax = style.figure(8.0, 3.4)
    names = list(groups)
    left = np.zeros(len(names))
    for a in VERDICTS:
        v = np.array([sum(1 for r in rows if groups[g](r) and r["verdict"] == a) for g in names])
        ax.barh(names, v, left=left, color=COLORS[a], label=a)
        for i, (lf, n) in enumerate(zip(left, v, strict=True)):
            if n:
                ax.text(lf + n / 2, i, str(n), ha="center", va="center", fontsize=8.5)
        left += v
    ax.invert_yaxis()
    ax.grid(axis="y", visible=False)
    ax.set_xlabel("number of claims")
    # Below the bars: a figure legend on top would be re-anchored onto the setup line the report
    # stamps above the figure.
    fig.legend(*ax.get_legend_handles_labels(), fontsize=8, ncol=5, loc="outside lower center")
    return fig


RIDGE_NAMES = {"h100-sxm": "H100", "h200": "H200", "b200": "B200", "mi300x": "MI300X", "mi355x": "MI355X"}


def fig_roofline(q1: dict[str, Any]) -> MplFigure:
    fig, ax = style.figure(7.5, 4.6)
    ax.plot(q1["batch"], q1["ai"], "o-", ms=3, color="k", zorder=3, label="decode step (engine accounting)")
    ridges = q1["ridges"]
    lo, hi = min(ridges.values()), max(ridges.values())
    # The ridges sit within a factor of 1.5 of each other: one band, each chip's line in its colour,
    # labelled at its right end (spread apart, tied by leaders).
    ax.axhspan(lo, hi, color="0.9", lw=0, zorder=0, label=f"ridges, FP8 peak / HBM bandwidth: {lo:.0f}-{hi:.0f}")
    for cid, r in ridges.items():
        ax.axhline(r, color=style.color(cid), ls="--", lw=1.1, zorder=1)
    if q1.get("eng_cross") is not None:
        ax.axvline(q1["eng_cross"], color="0.5", ls=":", lw=1)
        # Right of the line, under the curve (which runs above 100 FLOP/B there).
        ax.text(q1["eng_cross"] * 1.08, 12, f"batch {q1['eng_cross']}: compute time\novertakes memory time\n"
                "with fitted GEMM efficiencies", fontsize=8, color="0.3", ha="left")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.xaxis.set_major_formatter(_PLAIN)
    ax.yaxis.set_major_formatter(_PLAIN)
    ax.set_ylim(1, 2000)
    ax.set_xlabel("batch (requests decoded together; up to the largest that fits)")
    ax.set_ylabel("arithmetic intensity (FP8 FLOP per HBM byte)")
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title("Q1: decode arithmetic intensity vs the roofline ridges")
    right = ax.get_xlim()[1]
    style.end_labels(ax, [(right, r, f"{RIDGE_NAMES.get(cid, cid)} {r:.0f}", style.color(cid))
                          for cid, r in ridges.items()], gap_pt=12, x=1.05)
    return fig
