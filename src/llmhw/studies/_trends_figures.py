"""The trends study's figures (studies/trends.py)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from llmhw.hardware.catalog import chips
from llmhw.studies._trends_runs import (
    BATCH,
    HOP_LATENCIES,
    HOP_LATENCY_S,
    NODE,
    PAPER_BW_GROWTH,
    PAPER_FP64_GROWTH,
    SRAM_CHIPS,
    SRAM_CONTEXT,
    SRAM_MODELS,
    SYSTEMS,
    TRENDS,
    Run,
    h100_batch1_step,
    peak,
    ridge,
    sram_time_per_token,
)
from llmhw.workload.catalog import load_model

# -- figures ----------------------------------------------------------------------------------

PARTS = (("compute_s", "compute-bound", "compute"), ("memory_weights_s", "memory-bound: weights", "weights"),
         ("memory_kv_s", "memory-bound: KV cache", "kv_cache"), ("comm_s", "communication", "communication"),
         ("overhead_s", "overhead (launch, host)", "overhead"))


def fig_roofline(sweep: list[dict[str, float]]) -> Any:
    from llmhw.studies import style

    fig, ax = style.figure(6.6, 4.3)
    x = np.logspace(-0.5, 4.3, 300)
    for cid, _sy in SYSTEMS:
        c = chips()[cid]
        p, bw = peak(cid), c.memory_bandwidth_bytes_per_s
        ax.plot(x, np.minimum(p, x * bw) / 1e12, color=style.color(cid), lw=1.8,
                label=f"{style.label(cid)}: {p / 1e12:,.0f} TFLOP/s FP8, {bw / 1e12:.2f} TB/s, "
                      f"ridge {p / bw:.0f} FLOP/B")
    dec = [r for r in sweep if r["phase"] == "decode"]
    pre = [r for r in sweep if r["phase"] == "prefill"]
    col = style.color("h100-sxm")
    ax.plot([r["intensity"] for r in dec], [r["flops_per_s"] / 1e12 for r in dec], "o-", color=col, mfc=col,
            lw=0.9, ms=6, label=f"H100 x8 decode (engine), batch {dec[0]['batch']:,} to {dec[-1]['batch']:,}")
    ax.plot([r["intensity"] for r in pre], [r["flops_per_s"] / 1e12 for r in pre], "s", color=col, mfc="white",
            mew=1.6, ms=7, label="H100 x8 prefill (engine) of a " + " and a ".join(style.tokens(r["batch"]) for r in pre)
            + " prompt")
    for r in dec:
        ax.annotate(f"B={r['batch']:,}", (r["intensity"], r["flops_per_s"] / 1e12), textcoords="offset points",
                    xytext=(5, -11), fontsize=8, color="#333333")
    for r in pre:                       # right of the squares: above them runs the TPU's roof
        ax.annotate(style.tokens(r["batch"]), (r["intensity"], r["flops_per_s"] / 1e12),
                    textcoords="offset points", xytext=(7, 0), fontsize=8, color="#333333", va="center")
    style.log_axis(ax, "xy")
    ax.set_xlim(x[0], x[-1])
    ax.set_ylim(0.5, 1.3e4)
    ax.set_xlabel("arithmetic intensity (FLOP per byte of memory traffic, per chip)")
    ax.set_ylabel("attainable FLOP/s per chip (TFLOP/s)")
    ax.set_title("FP8 rooflines and where the engine puts decode and prefill")
    ax.legend(loc="lower right", fontsize=8)     # the empty corner: past the ridges, below the roofs
    return fig


def fig_intensity(rs: tuple[Run, ...]) -> Any:
    from matplotlib.lines import Line2D

    from llmhw.studies import style

    ref = [r for r in rs if r.chip == SYSTEMS[0][0]]
    fig, ax = style.figure(6.6, 4.0)
    y = np.arange(len(ref))[::-1]
    for cid, _sy in SYSTEMS:
        ax.axvline(ridge(cid), color=style.color(cid), lw=1.4, ls="--", zorder=1)

    def num(v: float) -> str:
        return f"{v:.1f}" if v < 10 else f"{v:,.0f}"

    for yi, r in zip(y, ref, strict=True):
        d, p = r.decode_intensity, r.prefill_intensity
        ax.plot([d, p], [yi, yi], color="#BBBBBB", lw=1, zorder=2)
        ax.plot(d, yi, "o", color="#222222", ms=7, zorder=3)
        ax.plot(p, yi, "s", color="#222222", mfc="white", mew=1.5, ms=7, zorder=3)
        close = abs(math.log10(p / d)) < 0.25
        if close:   # markers overlap: decode's value to the left, prefill's to the right
            ax.annotate(num(d), (d, yi), textcoords="offset points", xytext=(-8, 0), ha="right", va="center",
                        fontsize=8, bbox={"fc": "white", "ec": "none", "pad": 0.5})
            ax.annotate(num(p), (p, yi), textcoords="offset points", xytext=(8, 0), ha="left", va="center",
                        fontsize=8)
        else:
            ax.annotate(num(d), (d, yi), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=8)
            ax.annotate(num(p), (p, yi), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=8)
    ax.set_yticks(y, [f"{r.trend.label}\n(batch {r.batch})" for r in ref], fontsize=8)
    style.log_axis(ax, "x")
    ax.set_xlim(1, 2e4)
    ax.set_ylim(-0.6, len(ref) - 0.3)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel("arithmetic intensity (FLOP per byte of memory traffic, per chip)")
    handles = [Line2D([], [], marker="o", color="#222222", ls="", label="decode step"),
               Line2D([], [], marker="s", color="#222222", mfc="white", ls="", label="prefill of one prompt")]
    handles += [Line2D([], [], color=style.color(c), ls="--", label=f"{style.label(c)} ridge ({ridge(c):.0f})")
                for c, _ in SYSTEMS]
    fig.legend(handles=handles, loc="outside lower center", ncol=3, fontsize=8)
    ax.set_title("Arithmetic intensity per trend (8 x H100, FP8) vs FP8 ridge points")
    return fig


def fig_breakdown(rs: tuple[Run, ...]) -> Any:
    from llmhw.studies import style

    fig, axes = style.figure(7.2, 7.4, 1, 2, sharey=True)
    labels, ypos, y = [], [], 0.0
    groups = []
    for t in TRENDS:
        start = y
        for cid, _sy in SYSTEMS:
            labels.append(style.label(cid))
            ypos.append(y)
            y += 1
        groups.append((t, start, y - 1))
        y += 0.8
    ypos_a = -np.array(ypos)
    by_key = {(r.trend.key, r.chip): r for r in rs}
    for ax, phase in zip(axes, ("prefill", "decode"), strict=True):
        left = np.zeros(len(ypos))
        totals_ = []
        for t in TRENDS:
            for cid, _ in SYSTEMS:
                totals_.append(getattr(by_key[(t.key, cid)], phase)["total_s"])
        tot = np.array(totals_)
        for key, lab, ckey in PARTS:
            vals = []
            for t in TRENDS:
                for cid, _ in SYSTEMS:
                    vals.append(getattr(by_key[(t.key, cid)], phase)[key])
            frac = np.array(vals) / tot
            ax.barh(ypos_a, frac, left=left, height=0.78, color=style.color(ckey), label=lab,
                    edgecolor="white", linewidth=0.4)
            left += frac
        for yy, tt in zip(ypos_a, tot, strict=True):
            txt = f"{tt * 1e3:,.1f} ms" if tt < 1 else f"{tt:,.1f} s"
            ax.text(1.015, yy, txt, va="center", fontsize=8, color="#333333")
        ax.set_xlim(0, 1)
        ax.set_ylim(ypos_a.min() - 0.7, 0.7)
        style.percent_axis(ax, "x")
        ax.grid(axis="y", visible=False)
        ax.set_title({"prefill": "prefill of one prompt", "decode": "one decode step"}[phase])
        ax.set_xlabel("share of the step's time")
    axes[0].set_yticks(ypos_a, labels, fontsize=8)
    axes[0].tick_params(axis="y", length=0)
    for t, a, b in groups:
        axes[0].text(-0.27, -(a + b) / 2, t.label.replace(" (", "\n(").replace(" ", "\n", 1)
                     if len(t.label) > 10 else t.label, rotation=90, va="center", ha="center", fontsize=8,
                     fontweight="bold", transform=axes[0].get_yaxis_transform())
    handles, labs = axes[0].get_legend_handles_labels()
    # Below the panels: a figure legend on top would be re-anchored onto the setup line the report
    # stamps above the figure (savefig's tight box moves figure legends to the cropped canvas).
    fig.legend(handles, labs, loc="outside lower center", ncol=3, fontsize=8)
    return fig




def fig_memory(rows: list[dict[str, Any]]) -> Any:
    from llmhw.studies import style

    fig, ax = style.figure(6.6, 3.9)
    n = len(rows)
    x = np.arange(n)
    w = np.array([r["weights_gb"] for r in rows])
    kv = np.array([r["kv_at_batch_gb"] for r in rows])
    ax.bar(x, w, 0.6, color=style.color("weights"), label="weights (FP8)")
    ax.bar(x, kv, 0.6, bottom=w, color=style.color("kv_cache"), label=f"KV cache of {BATCH} requests (FP8)")
    for xi, tot in zip(x, w + kv, strict=True):
        ax.text(xi, tot + 20, f"{tot:,.0f}", ha="center", fontsize=8,      # over the dashed lines
                bbox={"fc": "white", "ec": "none", "pad": 0.6})
    caps = sorted(((NODE * chips()[c].memory_capacity_bytes / 1e9, c) for c, _ in SYSTEMS))
    top = max(max(w + kv), caps[-1][0]) * 1.08
    last = -1e9
    for cap, cid in caps:
        ax.plot([-0.5, n - 0.5], [cap, cap], color=style.color(cid), ls="--", lw=1.3)
        ytxt = max(cap, last + 0.05 * top)       # keep labels of close lines apart
        last = ytxt
        ax.text(n - 0.42, ytxt, f"{style.label(cid)} x{NODE}: {cap:,.0f} GB", va="center", ha="left",
                fontsize=8, color=style.color(cid))

    def k(tokens: int) -> str:
        v = tokens / 1024
        return f"{v:.1f}K" if v < 10 and abs(v - round(v)) > 0.05 else f"{v:,.0f}K"

    ax.set_xticks(x, [f"{r['trend'].replace(' (reference)', '')}\n{k(r['context_tokens'])}" for r in rows],
                  fontsize=8)
    ax.set_xlabel("trend, and its context per request (input + output tokens)")
    ax.set_xlim(-0.6, n + 1.3)
    ax.set_ylabel("memory needed (GB)")
    ax.set_ylim(0, top)
    ax.grid(axis="x", visible=False)
    ax.legend(loc="center left", bbox_to_anchor=(0.0, 0.66), fontsize=8)
    ax.set_title(f"Weights + KV cache of {BATCH} requests vs the HBM of an {NODE}-chip node")
    return fig


def fig_generations(rows: list[dict[str, Any]]) -> Any:
    from llmhw.studies import style

    fig, ax = style.figure(6.6, 4.0)
    yrs = [r["year"] for r in rows]
    fp64c, bwc, c16 = "#D55E00", "#0072B2", "#888888"
    # The vector-only FP64 differs from the peak only on tensor-core parts: draw it from the last
    # common point on.
    k0 = max(i for i, r in enumerate(rows) if r["fp64_vector_growth_x"] == r["fp64_growth_x"]
             and i < len(rows) - 1 and rows[i + 1]["fp64_vector_growth_x"] != rows[i + 1]["fp64_growth_x"])
    ax.plot(yrs[k0:], [r["fp64_vector_growth_x"] for r in rows[k0:]], ls=":", marker="o", color=fp64c,
            mfc="white", ms=5.5, label="FP64 FLOP/s, vector units only")
    series = (("sixteen_bit_growth_x", "16-bit FLOP/s (FP32 where no faster 16-bit path)", c16, "^"),
              ("fp64_growth_x", "FP64 FLOP/s (tensor cores on A100, H100)", fp64c, "o"),
              ("bandwidth_growth_x", "memory bandwidth", bwc, "s"))
    for key, lab, col, mk in series:
        ax.plot(yrs, [r[key] for r in rows], marker=mk, color=col, label=lab, ms=5.5)
    for r in rows:
        ax.annotate(style.label(r["id"]), (r["year"], r["sixteen_bit_growth_x"]), textcoords="offset points",
                    xytext=(0, 7), ha="center", fontsize=8, color="#444444")
    end = rows[-1]
    ax.plot([end["year"]], [PAPER_FP64_GROWTH], marker="*", ms=13, color=fp64c, mec="black", ls="",
            label=f"paper, 2012 to 2022: FP64 {PAPER_FP64_GROWTH:.0f}X, bandwidth {PAPER_BW_GROWTH:.0f}X")
    ax.plot([end["year"]], [PAPER_BW_GROWTH], marker="*", ms=13, color=bwc, mec="black", ls="")
    for key, col in (("fp64_growth_x", fp64c), ("bandwidth_growth_x", bwc), ("fp64_vector_growth_x", fp64c),
                     ("sixteen_bit_growth_x", c16)):
        ax.annotate(f"{end[key]:.0f}X", (end["year"], end[key]), textcoords="offset points", xytext=(9, 0),
                    va="center", fontsize=8, color=col)
    style.log_axis(ax, "y")
    ax.set_ylim(0.1, 1000)
    ax.set_xlim(yrs[0] - 0.6, yrs[-1] + 1.4)
    ax.set_xticks(range(yrs[0], yrs[-1] + 1, 2))
    ax.set_xlabel("year of introduction")
    ax.set_ylabel(f"relative to {style.label(rows[0]['id'])} ({rows[0]['year']} = 1)")
    handles, labels = ax.get_legend_handles_labels()
    order = [1, 2, 0, 3, 4]                      # 16-bit, FP64, FP64 vector, bandwidth, paper
    ax.legend([handles[i] for i in order], [labels[i] for i in order], loc="upper left", fontsize=8)
    ax.set_title("Compute outgrew memory bandwidth, 2012 to 2022")
    return fig


def fig_sram(need: list[dict[str, Any]]) -> tuple[Any, dict[str, Any]]:
    from llmhw.studies import style

    fig, (a, b) = style.figure(7.2, 3.6, 1, 2)
    styles = {SRAM_MODELS[0]: "-", SRAM_MODELS[1]: "--"}
    for cid in SRAM_CHIPS:
        for mid in SRAM_MODELS:
            pts = [r for r in need if r["chip"] == cid and r["model"] == mid and r["batch"] == 1]
            a.plot([r["context_tokens"] for r in pts], [r["chips"] for r in pts], ls=styles[mid], marker="o",
                   color=style.color(cid), label=f"{style.label(cid)}, {load_model(mid).name}")
            last = pts[-1]
            a.annotate(f"{last['chips']:,}", (last["context_tokens"], last["chips"]), textcoords="offset points",
                       xytext=(6, 0), va="center", fontsize=8)
    style.log_axis(a, "xy")
    a.set_xlim(700, 3.2e5)
    a.set_xlabel("context (tokens), batch 1")
    a.set_ylabel("chips to hold FP8 weights + KV cache")
    a.set_title("SRAM-only chips needed")
    a.legend(fontsize=8, loc="lower left", bbox_to_anchor=(0.0, 0.36))
    ref = h100_batch1_step()
    info: dict[str, Any] = {"h100_step_s": ref}
    for cid in SRAM_CHIPS:
        tpt = sram_time_per_token(SRAM_MODELS[0], cid, SRAM_CONTEXT, HOP_LATENCIES)
        b.plot(HOP_LATENCIES * 1e6, tpt["total_s"] * 1e3, color=style.color(cid),
               label=f"{style.label(cid)} x{tpt['chips']:,} ({tpt['hops']:,} hop{'s' if tpt['hops'] != 1 else ''})")
        info[cid] = sram_time_per_token(SRAM_MODELS[0], cid, SRAM_CONTEXT, HOP_LATENCY_S)
    b.axhline(ref * 1e3, color=style.color("h100-sxm"), ls="--", lw=1.3, label="H100 x8 (TP8) decode step")
    b.axvline(HOP_LATENCY_S * 1e6, color="#999999", ls=":", lw=1)
    b.text(HOP_LATENCY_S * 1e6 * 1.12, 1.6e-3, f"{HOP_LATENCY_S * 1e6:.0f} us (TPU ICI)", fontsize=8, color="#666666")
    b.set_ylim(1e-3, 30)
    style.log_axis(b, "xy")
    b.set_xlabel("latency per chip-to-chip hop (us)")
    b.set_ylabel("time per output token (ms)")
    b.set_title(f"Llama 3.1 70B, {SRAM_CONTEXT // 1024}K context, batch 1")
    b.legend(fontsize=8, loc="center left", bbox_to_anchor=(0.0, 0.45))
    return fig, info


def style_label(cid: str) -> str:
    from llmhw.studies import style

    return style.label(cid)
