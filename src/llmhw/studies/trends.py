"""RQ1: where LLM inference hits the wall on current hardware, for the AI trends the paper names.

Five parts, each from the catalogs through the engine:

1. Arithmetic intensity (FLOPs per byte of memory traffic, per chip, from the engine's per-step
   accounting) of prefill and decode for each trend, against each chip's ridge point (dense FP8
   peak / memory bandwidth).
2. Where a step's time goes (compute-bound, memory-bound on weights or on the KV cache,
   communication, overhead) for each trend on H100, B200, MI300X and TPU v6e.
3. Memory needed (weights + KV cache of 32 requests) against what an 8-chip node holds.
4. The hardware trend the paper cites: NVIDIA datacenter GPUs from K20X (2012) to H100 (2022).
5. SRAM-only systems (Groq-, Cerebras-class): chips needed to hold the weights and KV cache, and
   the hops a token then crosses.

Assumptions (stated again in the tables' notes):

- FP8 weights and KV cache, BF16 activations; the `default` engine profile.
- Each trend runs on one 8-chip node (HGX H100, DGX B200, MI300X platform, TPU v6e-8) with
  tensor parallelism 8, doubled (pipeline stages over the scale-out network) until the weights and
  one request's KV cache fit; 32 requests in flight, fewer where memory holds fewer.
- Trends as workloads: MoE = DeepSeek-V3, 1K in / 1K out; reasoning = 1K in / 16K out; multimodal
  = Gemma 3 27B with 4 images x 256 tokens (its SigLIP encoder at 896 px, pooled to 256 tokens
  per image) + 200 text tokens in, 256 out, the vision encoder not priced; long context = 127K in
  + 1K out (128K, Llama 3.1's maximum); RAG = 32K prompt, 512 out; the rest on Llama 3.1 70B.
- Diffusion-style parallel decoding: each step runs the model over a block of 32 positions per
  request (one read of the weights and of the request's cached context serves all 32; each
  position attends to the context and the block) and commits 4 tokens on average (8 denoising
  steps per 32-token block, as block-diffusion LMs with parallel decoding report); time per output
  token = step time / 4.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np

from llmhw import api
from llmhw.hardware.catalog import chips
from llmhw.scenario import Scenario
from llmhw.studies.base import Figure, Study, Table
from llmhw.workload.catalog import load_model

# -- the setup --------------------------------------------------------------------------------

# (chip, its 8-chip system): the current systems the study compares.
SYSTEMS: tuple[tuple[str, str], ...] = (("h100-sxm", "hgx-h100-8"), ("b200", "dgx-b200-8"),
                                        ("mi300x", "mi300x-8"), ("tpu-v6e", "tpu-v6e-8"))
PRECISION = {"weights": "fp8", "kv_cache": "fp8", "activations": "bf16"}
GEMM_DTYPE = "fp8"        # the dtype the weight GEMMs run in (every chip here has FP8 units)
NODE = 8                  # chips per node, and the tensor-parallel degree
BATCH = 32                # requests in flight, unless memory holds fewer
MAX_CHIPS = 64


@dataclass(frozen=True)
class Trend:
    key: str
    label: str
    model: str
    input_tokens: int
    output_tokens: int
    note: str
    positions_per_step: int = 1    # diffusion: positions one step processes per request
    tokens_per_step: int = 1       # diffusion: tokens one step commits per request


IMAGES, IMAGE_TOKENS, TEXT_TOKENS = 4, 256, 200
DIFFUSION_BLOCK, DIFFUSION_TOKENS_PER_STEP = 32, 4

TRENDS: tuple[Trend, ...] = (
    Trend("chat", "Chat (reference)", "llama-3.1-70b", 1024, 1024, "Llama 3.1 70B, 1K in / 1K out"),
    Trend("moe", "MoE", "deepseek-v3", 1024, 1024,
          "DeepSeek-V3 (671 B parameters, 37 B active: 8 of 256 routed experts + 1 shared), 1K in / 1K out"),
    Trend("reasoning", "Reasoning", "llama-3.1-70b", 1024, 16384, "Llama 3.1 70B, 1K in / 16K out (thought tokens)"),
    Trend("multimodal", "Multimodal", "gemma-3-27b", IMAGES * IMAGE_TOKENS + TEXT_TOKENS, 256,
          f"Gemma 3 27B, {IMAGES} images x {IMAGE_TOKENS} tokens + {TEXT_TOKENS} text tokens in, 256 out; "
          "the SigLIP vision encoder is not priced"),
    Trend("long_context", "Long context", "llama-3.1-70b", 131072 - 1024, 1024,
          "Llama 3.1 70B, 127K in + 1K out = 128K context (the model's maximum)"),
    Trend("rag", "RAG", "llama-3.1-70b", 32000, 512, "Llama 3.1 70B, 32K-token prompt of retrieved passages, 512 out"),
    Trend("diffusion", "Diffusion decoding", "llama-3.1-70b", 1024, 1024,
          f"Llama 3.1 70B, 1K in / 1K out, decoded in blocks of {DIFFUSION_BLOCK} positions committing "
          f"{DIFFUSION_TOKENS_PER_STEP} tokens per step", DIFFUSION_BLOCK, DIFFUSION_TOKENS_PER_STEP),
)

# The hardware trend: the flagship datacenter GPU of each NVIDIA generation, 2012-2022.
GENERATIONS: tuple[tuple[str, str], ...] = (("k20x", "Kepler"), ("k40", "Kepler"), ("m40", "Maxwell"),
                                            ("p100-sxm2", "Pascal"), ("v100-sxm2", "Volta"),
                                            ("a100-sxm-80gb", "Ampere"), ("h100-sxm", "Hopper"))
PAPER_FP64_GROWTH, PAPER_BW_GROWTH = 80.0, 17.0     # Ma and Patterson (2026), 2012 -> 2022
# FP64 on the vector units of the two tensor-core parts (catalog notes; klockwood_a100, klockwood_h100):
# the catalog's fp64 is the tensor-core (DMMA) rate.
FP64_VECTOR = {"a100-sxm-80gb": 9.7e12, "h100-sxm": 33.5e12}

# SRAM-only systems.
SRAM_CHIPS: tuple[str, ...] = ("groq-lpu", "cerebras-wse3")
SRAM_MODELS: tuple[str, ...] = ("llama-3.1-70b", "deepseek-v3")
SRAM_CONTEXTS: tuple[int, ...] = (1024, 4096, 16384, 65536, 131072)
SRAM_CONTEXT = 8192                     # the per-token time comparison
HOP_LATENCY_S = 1e-6                    # per chip-to-chip hop; as the catalog's ICI links (scaling book)
HOP_LATENCIES = np.logspace(-8, -5, 31)  # 10 ns .. 10 us


# -- computing --------------------------------------------------------------------------------


@dataclass
class Run:
    """One trend on one system: the deployment and the per-chip accounting of its steps."""

    trend: Trend
    chip: str
    hardware: str
    n_chips: int
    tp: int
    pp: int
    batch: int
    max_batch: int
    decode: dict[str, float]      # seconds by part, flops, bytes
    prefill: dict[str, float]
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def decode_intensity(self) -> float:
        return self.decode["flops"] / self.decode["bytes"]

    @property
    def prefill_intensity(self) -> float:
        return self.prefill["flops"] / self.prefill["bytes"]


def _scenario(t: Trend, chip: str, system: str, n: int, batch: int) -> Scenario:
    tp = min(NODE, n)
    return Scenario.from_dict({
        "model": t.model, "hardware": system if n == NODE else chip, "n_chips": n,
        "parallelism": {"tp": tp, "pp": n // tp}, "precision": PRECISION,
        "workload": {"input_tokens": t.input_tokens, "output_tokens": t.output_tokens, "batch": batch},
    })


def _cost_dict(c: Any, kv_share: float) -> dict[str, float]:
    """A step's seconds by part (memory-bound seconds split between weights and KV cache by
    ``kv_share``), its FLOPs and the bytes it moves through memory."""
    flops = float(sum(np.sum(v) for v in c.flops.values()))
    nbytes = float(sum(np.sum(b) for b in c.tier_read_bytes) + sum(np.sum(b) for b in c.tier_write_bytes))
    mem = float(c.memory_s)
    return {"compute_s": float(c.compute_s), "memory_weights_s": mem * (1 - kv_share),
            "memory_kv_s": mem * kv_share, "comm_s": float(c.comm_s), "overhead_s": float(c.overhead_s),
            "near_memory_s": float(c.near_memory_s), "total_s": float(c.total_s), "flops": flops, "bytes": nbytes,
            "kv_byte_share": kv_share}


def _kv_share(s: Scenario, phase: str, requests: float, length: float, positions: int = 1) -> float:
    """Share of a step's memory traffic that is KV cache (reads and writes), from the operator
    accounting: how the memory-bound seconds split between weights and KV cache."""
    tot = api.operator_totals(s, phase, requests, length, positions)
    kv = float(np.sum(tot["kv_read_bytes"]) + np.sum(tot["kv_write_bytes"]))
    other = float(np.sum(tot["weight_bytes"]) + np.sum(tot["act_bytes"]))
    return kv / max(kv + other, 1e-30)


def deploy(t: Trend, chip: str, system: str) -> tuple[int, int]:
    """The smallest node multiple (chips) that holds the trend's weights and one request, and the
    most requests it holds: (chips, max batch)."""
    n = NODE
    while True:
        s = _scenario(t, chip, system, n, BATCH)
        max_batch = int(api.sweep(s, batch=-1, input_tokens=t.input_tokens, output_tokens=t.output_tokens)["max_batch"])
        if max_batch >= 1 or n >= MAX_CHIPS:
            return n, max_batch
        n *= 2


def run_trend(t: Trend, chip: str, system: str, batch: int = BATCH) -> Run:
    """Deploy a trend on a system (the smallest node multiple that holds it) and price its steps
    at ``batch`` requests (fewer when memory holds fewer)."""
    n, max_batch = deploy(t, chip, system)
    batch = max(1, min(batch, max_batch))
    s = _scenario(t, chip, system, n, batch)
    ctx = t.input_tokens + t.output_tokens / 2           # the engine's mean decode context
    pos = t.positions_per_step
    decode = _cost_dict(api.step_cost(s, "decode", batch, ctx, pos), _kv_share(s, "decode", batch, ctx, pos))
    prefill = _cost_dict(api.step_cost(s, "prefill", 1, t.input_tokens), _kv_share(s, "prefill", 1, t.input_tokens))
    ev = api.sweep(s, batch=batch, input_tokens=t.input_tokens, output_tokens=t.output_tokens)
    per_token = decode["total_s"] / t.tokens_per_step
    metrics = {
        "ttft_s": float(ev["ttft_s"]), "tpot_s": float(ev["tpot_s"]) if t.tokens_per_step == 1 else per_token,
        "decode_per_token_s": per_token,
        "weights_bytes_per_chip": float(ev["weights_bytes"]), "kv_bytes_per_chip": float(ev["kv_cache_bytes"]),
        "usable_bytes_per_chip": float(ev["usable_bytes"]),
        "decode_tok_s_per_chip": batch * t.tokens_per_step / decode["total_s"] / s.n_chips,
    }
    return Run(t, chip, s.system.id if n == NODE else chip, n, s.parallelism.tp, s.parallelism.pp, batch, max_batch,
               decode, prefill, metrics)


def peak(chip_id: str, dtype: str = GEMM_DTYPE) -> float:
    f = chips()[chip_id].flops()
    return f.get(dtype) or f.get("bf16") or f.get("fp16") or max(f.values())


def ridge(chip_id: str, dtype: str = GEMM_DTYPE) -> float:
    """Ridge point: the arithmetic intensity (FLOP/byte) above which a kernel is compute-bound."""
    return peak(chip_id, dtype) / chips()[chip_id].memory_bandwidth_bytes_per_s


@cache
def runs() -> tuple[Run, ...]:
    return tuple(run_trend(t, c, sy) for t in TRENDS for c, sy in SYSTEMS)


def batch_sweep(chip: str = "h100-sxm", system: str = "hgx-h100-8", model: str = "llama-3.1-70b",
                batches: tuple[int, ...] = (1, 4, 16, 64, 256, 1024)) -> list[dict[str, float]]:
    """Decode and prefill of Llama 3.1 70B on 8 x H100 at growing batch: where each lands on the
    roofline (per-chip FLOPs per step over bytes, and FLOPs over the step's time)."""
    t = Trend("sweep", "", model, 1024, 1024, "")
    s = _scenario(t, chip, system, NODE, 1)
    dec = api.evaluate(s, batch=np.array(batches, float), input_tokens=1024, output_tokens=1024).decode
    out = []
    for i, b in enumerate(batches):
        fl, by = float(dec.accounting.total_flops[i]), float(dec.accounting.memory_bytes[i])
        step = float(dec.time.total_s[i])
        out.append({"phase": "decode", "batch": b, "intensity": fl / by, "flops_per_s": fl / step, "step_s": step})
    for L in (1024, 32000):
        pre = api.evaluate(s, batch=1, input_tokens=L, output_tokens=1024).prefill
        fl, by = float(pre.accounting.total_flops), float(pre.accounting.memory_bytes)
        step = float(pre.time.total_s)
        out.append({"phase": "prefill", "batch": L, "intensity": fl / by, "flops_per_s": fl / step, "step_s": step})
    return out


def generations() -> list[dict[str, Any]]:
    base = chips()[GENERATIONS[0][0]]
    f0, b0 = base.flops()["fp64"], base.memory_bandwidth_bytes_per_s
    h0 = _sixteen(base)
    rows = []
    for cid, arch in GENERATIONS:
        c = chips()[cid]
        f = c.flops()
        rows.append({
            "gpu": c.name, "id": cid, "architecture": arch, "year": c.year,
            "fp64_tflop_s": f["fp64"] / 1e12,
            "fp64_vector_tflop_s": FP64_VECTOR.get(cid, f["fp64"]) / 1e12,
            "sixteen_bit_tflop_s": _sixteen(c) / 1e12,
            "bandwidth_gb_s": c.memory_bandwidth_bytes_per_s / 1e9,
            "capacity_gb": c.memory_capacity_bytes / 1e9,
            "fp64_growth_x": f["fp64"] / f0,
            "fp64_vector_growth_x": FP64_VECTOR.get(cid, f["fp64"]) / f0,
            "sixteen_bit_growth_x": _sixteen(c) / h0,
            "bandwidth_growth_x": c.memory_bandwidth_bytes_per_s / b0,
            "fp64_ridge_flop_per_byte": f["fp64"] / c.memory_bandwidth_bytes_per_s,
        })
    return rows


def _sixteen(c: Any) -> float:
    """Dense 16-bit FLOP/s, or FP32 where the chip has no faster 16-bit path (Kepler, Maxwell)."""
    f = c.flops()
    return max(f.get("bf16", 0.0), f.get("fp16", 0.0), f.get("fp32", 0.0))


def sram_chips_needed(model_id: str, chip_id: str, context: int, batch: int = 1) -> dict[str, Any]:
    """How many SRAM-only chips hold a model's FP8 weights and the KV cache of ``batch`` requests
    at ``context`` tokens (all SRAM usable; a lower bound), and the hops a token crosses."""
    m = load_model(model_id)
    c = chips()[chip_id]
    sram = c.memory[0].capacity_bytes
    w = m.weight_bytes(PRECISION["weights"])
    kv = batch * m.kv_cache_bytes(context, PRECISION["kv_cache"])
    n = math.ceil((w + kv) / sram)
    return {"model": model_id, "chip": chip_id, "context_tokens": context, "batch": batch,
            "weights_gb": w / 1e9, "kv_cache_gb": kv / 1e9, "sram_per_chip_gb": sram / 1e9, "chips": n,
            "pipeline_hops": n - 1, "mesh_diameter_hops": 2 * (math.ceil(math.sqrt(n)) - 1)}


def sram_time_per_token(model_id: str, chip_id: str, context: int, hop_s: Any) -> dict[str, Any]:
    """Batch-1 time per output token on SRAM-only chips in a layer pipeline: each chip in turn
    reads its share of weights and KV from SRAM (or computes, whichever is slower), and the token
    crosses chips - 1 links. Chips work one after another, so the SRAM time is the whole model's
    bytes over one chip's bandwidth. A roofline bound: no kernel, sync or host overheads."""
    m = load_model(model_id)
    c = chips()[chip_id]
    need = sram_chips_needed(model_id, chip_id, context)
    nbytes = m.weight_bytes(PRECISION["weights"]) + m.kv_cache_bytes(context, PRECISION["kv_cache"])
    mem_s = nbytes / c.memory[0].bandwidth_bytes_per_s
    f = c.flops()
    comp_s = m.flops_per_token(context) / max(f.get("fp8", 0.0), f.get("fp16", 0.0), f.get("bf16", 0.0))
    hops = need["pipeline_hops"]
    return {"chips": need["chips"], "hops": hops, "memory_s": mem_s, "compute_s": comp_s,
            "hop_s": hops * np.asarray(hop_s, float), "total_s": max(mem_s, comp_s) + hops * np.asarray(hop_s, float)}


def h100_batch1_step(model_id: str = "llama-3.1-70b", context: int = SRAM_CONTEXT) -> float:
    t = Trend("ref", "", model_id, context, 2, "")
    s = _scenario(t, "h100-sxm", "hgx-h100-8", NODE, 1)
    return float(api.step_cost(s, "decode", 1, context).total_s)


# -- figures ----------------------------------------------------------------------------------

PARTS = (("compute_s", "compute-bound", "compute"), ("memory_weights_s", "memory-bound: weights", "weights"),
         ("memory_kv_s", "memory-bound: KV cache", "kv_cache"), ("comm_s", "communication", "communication"),
         ("overhead_s", "overhead (launch, host)", "overhead"))


def _fig_roofline(sweep: list[dict[str, float]]) -> Any:
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
            lw=0.9, ms=6, label="H100 x8 decode (engine), batch 1 to 1,024")
    ax.plot([r["intensity"] for r in pre], [r["flops_per_s"] / 1e12 for r in pre], "s", color=col, mfc="white",
            mew=1.6, ms=7, label="H100 x8 prefill (engine), 1K and 32K prompt")
    for r in dec:
        ax.annotate(f"B={r['batch']:,}", (r["intensity"], r["flops_per_s"] / 1e12), textcoords="offset points",
                    xytext=(5, -11), fontsize=7.5, color="#333333")
    for r in pre:
        ax.annotate(f"{r['batch'] / 1000:.0f}K prompt", (r["intensity"], r["flops_per_s"] / 1e12),
                    textcoords="offset points", xytext=(-8, 7), fontsize=7.5, color="#333333", ha="right")
    style.log_axis(ax, "xy")
    ax.set_xlim(x[0], x[-1])
    ax.set_ylim(0.5, 1.3e4)
    ax.set_xlabel("arithmetic intensity (FLOP per byte of memory traffic, per chip)")
    ax.set_ylabel("attainable FLOP/s per chip (TFLOP/s)")
    ax.set_title("FP8 rooflines; Llama 3.1 70B on 8 x H100 (TP8), engine-predicted")
    ax.legend(loc="upper left", fontsize=7.6)
    return fig


def _fig_intensity(rs: tuple[Run, ...]) -> Any:
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
                        fontsize=7.5, bbox={"fc": "white", "ec": "none", "pad": 0.5})
            ax.annotate(num(p), (p, yi), textcoords="offset points", xytext=(8, 0), ha="left", va="center",
                        fontsize=7.5)
        else:
            ax.annotate(num(d), (d, yi), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=7.5)
            ax.annotate(num(p), (p, yi), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=7.5)
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
    fig.legend(handles=handles, loc="outside lower center", ncol=3, fontsize=7.8)
    ax.set_title("Arithmetic intensity per trend (8 x H100, FP8) vs FP8 ridge points")
    return fig


def _fig_breakdown(rs: tuple[Run, ...]) -> Any:
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
            ax.text(1.015, yy, txt, va="center", fontsize=6.8, color="#333333")
        ax.set_xlim(0, 1)
        style.percent_axis(ax, "x")
        ax.grid(axis="y", visible=False)
        ax.set_title({"prefill": "prefill of one prompt", "decode": "one decode step"}[phase])
        ax.set_xlabel("share of the step's time")
    axes[0].set_yticks(ypos_a, labels, fontsize=7.5)
    axes[0].tick_params(axis="y", length=0)
    for t, a, b in groups:
        axes[0].text(-0.27, -(a + b) / 2, t.label.replace(" (", "\n(").replace(" ", "\n", 1)
                     if len(t.label) > 10 else t.label, rotation=90, va="center", ha="center", fontsize=8,
                     fontweight="bold", transform=axes[0].get_yaxis_transform())
    handles, labs = axes[0].get_legend_handles_labels()
    fig.legend(handles, labs, loc="outside upper center", ncol=3, fontsize=8)
    return fig


def _memory_needed() -> list[dict[str, Any]]:
    rows = []
    for t in TRENDS:
        if t.key == "diffusion":
            continue
        m = load_model(t.model)
        ctx = t.input_tokens + t.output_tokens
        w = m.weight_bytes(PRECISION["weights"])
        kv1 = m.kv_cache_bytes(ctx, PRECISION["kv_cache"])
        rows.append({"trend": t.label, "model": t.model, "context_tokens": ctx, "weights_gb": w / 1e9,
                     "kv_per_request_gb": kv1 / 1e9, "kv_at_batch_gb": BATCH * kv1 / 1e9,
                     "total_gb": (w + BATCH * kv1) / 1e9})
    return rows


def _fig_memory(rows: list[dict[str, Any]]) -> Any:
    from llmhw.studies import style

    fig, ax = style.figure(6.6, 3.9)
    n = len(rows)
    x = np.arange(n)
    w = np.array([r["weights_gb"] for r in rows])
    kv = np.array([r["kv_at_batch_gb"] for r in rows])
    ax.bar(x, w, 0.6, color=style.color("weights"), label="weights (FP8)")
    ax.bar(x, kv, 0.6, bottom=w, color=style.color("kv_cache"), label=f"KV cache of {BATCH} requests (FP8)")
    for xi, tot in zip(x, w + kv, strict=True):
        ax.text(xi, tot + 20, f"{tot:,.0f}", ha="center", fontsize=7.5)
    caps = sorted(((NODE * chips()[c].memory_capacity_bytes / 1e9, c) for c, _ in SYSTEMS))
    top = max(max(w + kv), caps[-1][0]) * 1.08
    last = -1e9
    for cap, cid in caps:
        ax.plot([-0.5, n - 0.5], [cap, cap], color=style.color(cid), ls="--", lw=1.3)
        ytxt = max(cap, last + 0.05 * top)       # keep labels of close lines apart
        last = ytxt
        ax.text(n - 0.42, ytxt, f"{style.label(cid)} x{NODE}: {cap:,.0f} GB", va="center", ha="left",
                fontsize=7.5, color=style.color(cid))

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


def _fig_generations(rows: list[dict[str, Any]]) -> Any:
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
                    xytext=(0, 7), ha="center", fontsize=7.5, color="#444444")
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
    ax.legend([handles[i] for i in order], [labels[i] for i in order], loc="upper left", fontsize=7.6)
    ax.set_title("NVIDIA datacenter GPUs, flagship part per generation")
    return fig


def _fig_sram(need: list[dict[str, Any]]) -> tuple[Any, dict[str, Any]]:
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
                       xytext=(6, 0), va="center", fontsize=7.5)
    style.log_axis(a, "xy")
    a.set_xlim(700, 3.2e5)
    a.set_xlabel("context (tokens), batch 1")
    a.set_ylabel("chips to hold FP8 weights + KV cache")
    a.set_title("SRAM-only chips needed")
    a.legend(fontsize=7, loc="lower left", bbox_to_anchor=(0.0, 0.36))
    ref = h100_batch1_step()
    info: dict[str, Any] = {"h100_step_s": ref}
    for cid in SRAM_CHIPS:
        tpt = sram_time_per_token(SRAM_MODELS[0], cid, SRAM_CONTEXT, HOP_LATENCIES)
        b.plot(HOP_LATENCIES * 1e6, tpt["total_s"] * 1e3, color=style.color(cid),
               label=f"{style.label(cid)} x{tpt['chips']:,} ({tpt['hops']:,} hop{'s' if tpt['hops'] != 1 else ''})")
        info[cid] = sram_time_per_token(SRAM_MODELS[0], cid, SRAM_CONTEXT, HOP_LATENCY_S)
    b.axhline(ref * 1e3, color=style.color("h100-sxm"), ls="--", lw=1.3, label="H100 x8 (TP8) decode step")
    b.axvline(HOP_LATENCY_S * 1e6, color="#999999", ls=":", lw=1)
    b.text(HOP_LATENCY_S * 1e6 * 1.12, 1.6e-3, f"{HOP_LATENCY_S * 1e6:.0f} us (TPU ICI)", fontsize=7, color="#666666")
    b.set_ylim(1e-3, 30)
    style.log_axis(b, "xy")
    b.set_xlabel("latency per chip-to-chip hop (us)")
    b.set_ylabel("time per output token (ms)")
    b.set_title(f"Llama 3.1 70B, {SRAM_CONTEXT // 1024}K context, batch 1")
    b.legend(fontsize=7, loc="center left", bbox_to_anchor=(0.0, 0.45))
    return fig, info


# -- the study --------------------------------------------------------------------------------


@dataclass
class Results:
    """What the tables, figures and findings are drawn from."""

    runs: tuple[Run, ...]
    sweep: list[dict[str, float]]
    generations: list[dict[str, Any]]
    memory: list[dict[str, Any]]
    sram_need: list[dict[str, Any]]
    sram_figure: Any
    sram: dict[str, Any]

    @property
    def by(self) -> dict[tuple[str, str], Run]:
        return {(r.trend.key, r.chip): r for r in self.runs}


def results() -> Results:
    need = [sram_chips_needed(mid, cid, ctx, b) for cid in SRAM_CHIPS for mid in SRAM_MODELS
            for ctx in SRAM_CONTEXTS for b in (1, BATCH)]
    sram_fig, sram = _fig_sram(need)
    return Results(runs(), batch_sweep(), generations(), _memory_needed(), need, sram_fig, sram)


def _systems_rows() -> list[dict[str, Any]]:
    rows = []
    for cid, sy in SYSTEMS:
        c = chips()[cid]
        f = c.flops()
        rows.append({
            "chip": c.name, "node": sy, "fp8_tflop_s": f.get("fp8", 0) / 1e12, "bf16_tflop_s": f.get("bf16", 0) / 1e12,
            "bandwidth_tb_s": c.memory_bandwidth_bytes_per_s / 1e12, "capacity_gb": c.memory_capacity_bytes / 1e9,
            "ridge_fp8_flop_per_byte": ridge(cid, "fp8"), "ridge_bf16_flop_per_byte": ridge(cid, "bf16"),
            "node_capacity_gb": NODE * c.memory_capacity_bytes / 1e9,
        })
    return rows


def _trend_row(r: Run) -> dict[str, Any]:
    d, p = r.decode, r.prefill
    return {
        "trend": r.trend.label, "hardware": r.hardware, "chips": r.n_chips, "tp": r.tp, "pp": r.pp,
        "batch": r.batch, "max_batch": r.max_batch,
        "decode_intensity_flop_per_byte": r.decode_intensity, "prefill_intensity_flop_per_byte": r.prefill_intensity,
        "ridge_flop_per_byte": ridge(r.chip),
        "decode_step_ms": d["total_s"] * 1e3,
        "decode_compute_pct": 100 * d["compute_s"] / d["total_s"],
        "decode_memory_weights_pct": 100 * d["memory_weights_s"] / d["total_s"],
        "decode_memory_kv_pct": 100 * d["memory_kv_s"] / d["total_s"],
        "decode_comm_pct": 100 * d["comm_s"] / d["total_s"],
        "decode_overhead_pct": 100 * d["overhead_s"] / d["total_s"],
        "decode_per_token_ms": r.metrics["decode_per_token_s"] * 1e3,
        "prefill_ms": p["total_s"] * 1e3,
        "prefill_compute_pct": 100 * p["compute_s"] / p["total_s"],
        "prefill_comm_pct": 100 * p["comm_s"] / p["total_s"],
        "ttft_ms": r.metrics["ttft_s"] * 1e3,
        "decode_tok_s_per_chip": r.metrics["decode_tok_s_per_chip"],
    }


def _memory_table(res: Results) -> list[dict[str, Any]]:
    """The memory rows with the chips each system's deployment uses."""
    by = res.by
    out = []
    for row in res.memory:
        t = next(t for t in TRENDS if t.label == row["trend"])
        out.append({**row, **{f"{style_label(cid)}_chips": by[(t.key, cid)].n_chips for cid, _ in SYSTEMS}})
    return out


def _decode_range(rs: tuple[Run, ...]) -> tuple[float, float]:
    """Lowest and highest decode intensity of the autoregressive trends on H100."""
    ar = [r for r in rs if r.chip == SYSTEMS[0][0] and r.trend.key != "diffusion"]
    return min(r.decode_intensity for r in ar), max(r.decode_intensity for r in ar)


def _need(res: Results, chip: str, model: str, context: int, batch: int) -> dict[str, Any]:
    return next(r for r in res.sram_need if r["chip"] == chip and r["model"] == model
                and r["context_tokens"] == context and r["batch"] == batch)


def _pct(r: Run, phase: str, *parts: str) -> float:
    """Share of a run's step (percent) in the given parts."""
    d = getattr(r, phase)
    return 100 * sum(d[k] for k in parts) / d["total_s"]


def _findings_intensity(res: Results) -> list[str]:
    """Ridge points, prefill, MoE, long context and diffusion decoding: intensity findings."""
    rs, by, h100 = res.runs, res.by, SYSTEMS[0][0]
    chat, moe, lc, diff = (by[(k, h100)] for k in ("chat", "moe", "long_context", "diffusion"))
    chat1 = run_trend(TRENDS[0], *SYSTEMS[0], batch=1)
    diff1 = run_trend(next(t for t in TRENDS if t.key == "diffusion"), *SYSTEMS[0], batch=1)
    ridges = [ridge(c) for c, _ in SYSTEMS]
    dec_lo, dec_hi = _decode_range(rs)
    dense_pre = [r.prefill_intensity for r in rs if r.chip == h100 and r.trend.key != "moe"]
    b1 = res.sweep[0]
    return [
        f"Ridge points at FP8 are {min(ridges):.0f}-{max(ridges):.0f} FLOP/B "
        f"({', '.join(f'{style_label(c)} {ridge(c):.0f}' for c, _ in SYSTEMS)}). Llama 3.1 70B decode at batch 1 "
        f"runs at {b1['intensity']:.2f} FLOP/B (2 FLOPs per FP8 weight byte read), {ridge(h100) / b1['intensity']:.0f}x "
        f"below the H100's ridge; with {BATCH} requests in flight the decode of every autoregressive trend is at "
        f"{dec_lo:.1f}-{dec_hi:.0f} FLOP/B, {min(ridges) / dec_hi:.0f}-{max(ridges) / dec_lo:.0f}x below the ridges.",
        f"Prefill of dense models is compute-bound ({min(dense_pre):,.0f}-{max(dense_pre):,.0f} FLOP/B), but MoE "
        f"prefill of a 1K prompt is not: DeepSeek-V3 reaches {moe.prefill_intensity:.0f} FLOP/B because 1,024 tokens "
        f"x 8 of 256 experts give each expert only 32 tokens; its prefill is "
        f"{100 * (moe.prefill['memory_weights_s'] + moe.prefill['memory_kv_s']) / moe.prefill['total_s']:.0f}% "
        f"memory-bound on 16 x H100.",
        f"MoE cuts decode intensity: DeepSeek-V3 at batch {moe.batch} reaches {moe.decode_intensity:.1f} FLOP/B "
        f"against {chat.decode_intensity:.0f} for dense Llama 3.1 70B at batch {chat.batch}: {BATCH} tokens touch "
        f"most of the 256 experts' weights while each token computes with 8.",
        f"Long context turns decode into a KV-cache read: at 128K context the KV cache is "
        f"{100 * lc.decode['kv_byte_share']:.0f}% of a decode step's memory traffic on 8 x H100 (batch {lc.batch}, "
        f"all that fits) and intensity falls to {lc.decode_intensity:.0f} FLOP/B, near GQA attention's own 16 "
        f"(2 x 64 query heads x 256 FLOPs per key over 8 KV heads x 256 B at FP8).",
        f"Diffusion-style parallel decoding makes decode compute-bound: {DIFFUSION_BLOCK} positions per request "
        f"per step give {diff.decode_intensity:,.0f} FLOP/B at batch {diff.batch}, past the ridge. It pays for "
        f"latency, not throughput: at batch 1 it takes {diff1.metrics['decode_per_token_s'] * 1e3:.2f} ms per output "
        f"token against {chat1.metrics['decode_per_token_s'] * 1e3:.2f} ms autoregressive on 8 x H100, but at batch "
        f"{BATCH} {diff.metrics['decode_per_token_s'] * 1e3:.1f} ms against {chat.metrics['decode_per_token_s'] * 1e3:.1f} ms "
        f"(the {DIFFUSION_BLOCK - DIFFUSION_TOKENS_PER_STEP} positions per step that commit nothing cost compute).",
    ]


def _findings_time_and_memory(res: Results) -> list[str]:
    """Where a decode step's time goes, and what memory capacity decides."""
    rs, by, h100 = res.runs, res.by, SYSTEMS[0][0]
    moe, lc = by[("moe", h100)], by[("long_context", h100)]
    ar = [r for r in rs if r.chip == h100 and r.trend.key != "diffusion"]
    no_mi = [r for r in rs if r.chip != "mi300x" and r.trend.key != "diffusion"]
    max_compute = max(100 * r.decode["compute_s"] / r.decode["total_s"] for r in no_mi)
    mem_share = [100 * (r.decode["memory_weights_s"] + r.decode["memory_kv_s"]) / r.decode["total_s"] for r in ar]
    comm_share = [100 * r.decode["comm_s"] / r.decode["total_s"] for r in rs if r.trend.key == "chat"]
    mi_compute = [100 * r.decode["compute_s"] / r.decode["total_s"] for r in rs
                  if r.chip == "mi300x" and r.trend.key != "diffusion"]
    lc_mem = next(r for r in res.memory if r["trend"] == lc.trend.label)
    moe_mem = next(r for r in res.memory if r["trend"] == moe.trend.label)
    return [
        ("No autoregressive decode step has a compute-bound operator on H100, B200 or TPU v6e"
         if max_compute < 0.5 else f"No autoregressive decode step spends more than {max_compute:.0f}% of its "
                                   f"time compute-bound on H100, B200 or TPU v6e") +
        f"; memory-bound operators take {min(mem_share):.0f}-{max(mem_share):.0f}% of the step on "
        f"8 x H100, TP8 all-reduces (mostly latency) and host overhead the rest: communication is "
        f"{min(comm_share):.0f}-{max(comm_share):.0f}% of the chat decode step across the four systems. On MI300X "
        f"the engine's fitted efficiency for small-batch GEMMs makes {min(mi_compute):.0f}-{max(mi_compute):.0f}% "
        f"of the step compute-bound.",
        f"Memory capacity: DeepSeek-V3's FP8 weights ({moe_mem['weights_gb']:,.0f} GB) fit neither an 8 x H100 "
        f"node ({NODE * chips()[h100].memory_capacity_bytes / 1e9:,.0f} GB) nor a TPU v6e-8 "
        f"({NODE * chips()['tpu-v6e'].memory_capacity_bytes / 1e9:,.0f} GB): it takes {moe.n_chips} H100s or "
        f"{by[('moe', 'tpu-v6e')].n_chips} v6e chips. At 128K context, {BATCH} requests need "
        f"{lc_mem['kv_at_batch_gb']:,.0f} GB of KV cache, {lc_mem['kv_at_batch_gb'] / lc_mem['weights_gb']:.0f}x the "
        f"weights; 8 x H100 hold {lc.max_batch} such requests, a TPU v6e-8 {by[('long_context', 'tpu-v6e')].max_batch}.",
    ]


def _findings_hardware(res: Results) -> list[str]:
    """The hardware trend and the SRAM-only systems."""
    g0, g1 = res.generations[0], res.generations[-1]
    groq70 = _need(res, "groq-lpu", "llama-3.1-70b", 4096, 1)
    groq_ds = _need(res, "groq-lpu", "deepseek-v3", 131072, BATCH)
    cer70 = _need(res, "cerebras-wse3", "llama-3.1-70b", 4096, 1)
    gq = res.sram["groq-lpu"]
    return [
        f"Hardware trend: from {style_label(g0['id'])} ({g0['year']}) to {style_label(g1['id'])} ({g1['year']}) the "
        f"catalog gives {g1['fp64_growth_x']:.0f}X FP64 FLOP/s with tensor cores ({g1['fp64_vector_growth_x']:.0f}X on "
        f"the vector units) and {g1['bandwidth_growth_x']:.1f}X memory bandwidth, against the paper's "
        f"{PAPER_FP64_GROWTH:.0f}X and {PAPER_BW_GROWTH:.0f}X. The endpoints do not reproduce from datasheets; the "
        f"gap does: compute outgrew bandwidth by {g1['fp64_growth_x'] / g1['bandwidth_growth_x']:.1f}X "
        f"(paper {PAPER_FP64_GROWTH / PAPER_BW_GROWTH:.1f}X), and the 16-bit FLOP/s that LLMs use grew "
        f"{g1['sixteen_bit_growth_x']:.0f}X.",
        f"SRAM-only: Llama 3.1 70B's FP8 weights and a 4K context need {groq70['chips']:,} Groq-class chips "
        f"({groq70['sram_per_chip_gb'] * 1e3:.0f} MB each) or {cer70['chips']} Cerebras WSE-3 wafers; DeepSeek-V3 "
        f"with {BATCH} requests at 128K needs {groq_ds['chips']:,} Groq-class chips. In a layer pipeline a token "
        f"crosses {gq['hops']:,} chip-to-chip links (8K context): at {HOP_LATENCY_S * 1e6:.0f} us per hop that is "
        f"{gq['hop_s'] * 1e3:.2f} ms per token against {gq['memory_s'] * 1e3:.2f} ms of SRAM reads; the hops "
        f"overtake the SRAM time above {gq['memory_s'] / gq['hops'] * 1e6:.1f} us per hop.",
    ]


def _figures(res: Results) -> list[Figure]:
    rs, sweep = res.runs, res.sweep
    ridges = [ridge(c) for c, _ in SYSTEMS]
    dec_lo, dec_hi = _decode_range(rs)
    b1 = sweep[0]
    g1 = res.generations[-1]
    groq70 = _need(res, "groq-lpu", "llama-3.1-70b", 4096, 1)
    gq = res.sram["groq-lpu"]
    short_v6e = [r.trend.label for r in rs if r.chip == "tpu-v6e" and r.trend.key != "diffusion"
                 and (r.n_chips > NODE or r.max_batch < BATCH)]
    gens, mem_rows, sram_fig = res.generations, res.memory, res.sram_figure
    return [
        Figure("roofline", f"Decode is memory-bound up to batch 1,024: Llama 3.1 70B decode on 8 x H100 moves "
               f"from {b1['intensity']:.1f} FLOP/B at batch 1 to {sweep[len(sweep) - 3]['intensity']:.0f} at batch "
               f"{sweep[len(sweep) - 3]['batch']:,}, still below the ridge points (FP8 rooflines of the four chips); "
               f"prefill runs past them. Points are the engine's FLOPs per step over its predicted step time "
               f"(communication and overheads included), so they sit below the roofline.", _fig_roofline(sweep)),
        Figure("intensity_vs_ridge", f"Every autoregressive trend decodes {min(ridges) / dec_hi:.0f}-"
               f"{max(ridges) / dec_lo:.0f}x below the ridge points of current chips (dashed: FP8 peak / HBM "
               f"bandwidth); dense prefill lies above them, MoE prefill of a short prompt below; diffusion-style "
               f"decoding ({DIFFUSION_BLOCK} positions per step) crosses them. Intensity per chip on 8 x H100 "
               f"(16 for DeepSeek-V3), FP8 weights and KV cache, {BATCH} requests or as many as fit.",
               _fig_intensity(rs)),
        Figure("step_breakdown", "Where the time goes: autoregressive decode is bound by memory (weights for short "
               "contexts and MoE, the KV cache for long context, RAG and reasoning), TP all-reduces and host overhead, "
               "never by compute except on MI300X (its fitted small-GEMM efficiency); dense prefill and diffusion "
               "decoding are compute-bound. Shares of one step, step time at the right; memory-bound seconds split "
               "between weights and KV cache by their bytes. FP8, TP8, 32 requests or as many as fit.",
               _fig_breakdown(rs)),
        Figure("memory_capacity", f"Memory, not compute, decides the chip count: DeepSeek-V3's weights and the KV "
               f"cache of {BATCH} requests at 128K context each exceed an 8 x H100 node; a TPU v6e-8 cannot hold "
               f"{BATCH} requests of {', '.join(short_v6e)} (with 90% of HBM usable). Weights at FP8 plus the KV cache at each trend's full context "
               f"(sliding windows applied), against the HBM of 8 chips (dashed).", _fig_memory(mem_rows)),
        Figure("hardware_trend", f"From K20X (2012) to H100 (2022) FP64 FLOP/s grew {g1['fp64_growth_x']:.0f}X "
               f"({g1['fp64_vector_growth_x']:.0f}X without tensor cores) and memory bandwidth "
               f"{g1['bandwidth_growth_x']:.1f}X: the paper's 80X and 17X (stars) are not reproduced by datasheet "
               f"numbers, but the widening gap between compute and bandwidth is. Growth over K20X, log scale.",
               _fig_generations(gens)),
        Figure("sram_only", f"SRAM-only systems trade memory bandwidth for hops: holding Llama 3.1 70B takes "
               f"{groq70['chips']:,} Groq-class chips (left, Groq LPU 230 MB; Cerebras WSE-3 44 GB per wafer), "
               f"and in a layer pipeline every token crosses them all, so above "
               f"{gq['memory_s'] / gq['hops'] * 1e6:.1f} us per hop the hop latency sets the time per token (right). "
               f"Roofline bounds: all SRAM usable, no kernel or synchronization overheads.", sram_fig),
    ]


def _tables(res: Results) -> list[Table]:
    systems_rows = _systems_rows()
    trend_rows = [_trend_row(r) for r in res.runs]
    mem_table = _memory_table(res)
    gens = res.generations
    sram_rows = [r for r in res.sram_need if r["context_tokens"] in (4096, 131072)]
    return [
        Table("systems", "The systems: peaks, bandwidth, capacity and ridge points", systems_rows,
              note="Dense peaks from the catalog; ridge = peak FLOP/s / HBM bandwidth. TPU v6e has no FP8 speed-up "
                   "(FP8 = BF16 rate)."),
        Table("trends", "Each AI trend on each system: intensity, where a step's time goes, latency", trend_rows,
              note=("Per chip, from the engine's accounting (default engine profile). FP8 weights and KV cache, BF16 "
                    f"activations; TP{NODE} on one {NODE}-chip node, pipeline stages added (pp) until the weights and "
                    f"one request fit; batch = {BATCH} or the most that fits. Decode step at the mean context (input + "
                    "output / 2); decode tok/s per chip = batch x tokens per step / decode step / chips (prefill "
                    "excluded). Memory-bound seconds split between weights and KV by bytes. Diffusion: a step is "
                    f"{DIFFUSION_BLOCK} positions per request and commits {DIFFUSION_TOKENS_PER_STEP} tokens; its "
                    "per-token time is the step / 4. Trends: " + "; ".join(f"{t.label}: {t.note}" for t in TRENDS))),
        Table("memory", f"Memory needed (weights + KV of {BATCH} requests) and chips used per system", mem_table,
              note="Weights at FP8; KV cache at FP8 at the trend's full context (input + output), sliding windows "
                   "applied, without the replication TP adds for MLA's latent cache. Chips: the deployment of the "
                   "trends table (a multiple of an 8-chip node)."),
        Table("hardware_trend", "NVIDIA datacenter GPUs 2012-2022: FP64, 16-bit FLOP/s and memory bandwidth", gens,
              note=f"Catalog values with their sources (llmhw hardware ID). fp64 is the highest dense FP64 rate "
                   f"(tensor cores on A100 and H100); fp64 vector is the FP64 unit rate. The paper: FP64 "
                   f"{PAPER_FP64_GROWTH:.0f}X, bandwidth {PAPER_BW_GROWTH:.0f}X from 2012 to 2022."),
        Table("sram_only", "SRAM-only systems: chips to hold weights and KV cache, and hops per token", sram_rows,
              note="chips = ceil((FP8 weights + KV cache) / SRAM per chip), all SRAM usable (a lower bound). "
                   "Pipeline hops: a token crosses every chip of a layer pipeline (chips - 1); mesh diameter: the "
                   "hops of one collective across a square 2D mesh of the chips (tensor parallelism)."),
    ]


def run() -> Study:
    res = results()
    tables = _tables(res)
    figures = _figures(res)
    findings = [*_findings_intensity(res), *_findings_time_and_memory(res), *_findings_hardware(res)]
    return Study(name="trends", title="RQ1: Bottlenecks of current systems under the AI trends",
                 question="Which wall does LLM inference hit on today's hardware (compute, memory bandwidth, memory "
                          "capacity or interconnect) for MoE, reasoning, multimodal, long-context, RAG and "
                          "diffusion-style workloads, and does the hardware trend the paper cites reproduce?",
                 tables=tables, figures=figures, findings=findings)



def style_label(cid: str) -> str:
    from llmhw.studies import style

    return style.label(cid)
