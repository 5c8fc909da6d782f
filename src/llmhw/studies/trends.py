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
6. Compared to training (_trends_training.py): a Llama 3.1 70B training step on 64 x H100 against
   the chat trend's prefill and decode on 8 x H100 (intensity against the ridge, where the time
   goes, share of peak FLOP/s, the collectives' sizes and whether latency or bandwidth rules them,
   bytes per parameter, power, energy per token); the paper's four directions applied to both; the
   write endurance HBF would need to hold each one's data.

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

from dataclasses import dataclass
from typing import Any

from llmhw.hardware.catalog import chips
from llmhw.studies import _trends_training, style
from llmhw.studies._trends_figures import (
    fig_breakdown,
    fig_generations,
    fig_intensity,
    fig_memory,
    fig_roofline,
    fig_sram,
    style_label,
)
from llmhw.studies._trends_runs import (
    BATCH,
    DIFFUSION_BLOCK,
    DIFFUSION_TOKENS_PER_STEP,
    HOP_LATENCY_S,
    NODE,
    PAPER_BW_GROWTH,
    PAPER_FP64_GROWTH,
    PRECISION,
    SRAM_CHIPS,
    SRAM_CONTEXT,
    SRAM_CONTEXTS,
    SRAM_MODELS,
    SWEEP_INPUT,
    SWEEP_MODEL,
    SWEEP_OUTPUT,
    SYSTEMS,
    TRENDS,
    Run,
    batch_sweep,
    generations,
    memory_needed,
    ridge,
    run_trend,
    runs,
    sram_chips_needed,
    sram_time_per_token,
)
from llmhw.studies._trends_training import Contrast, contrast
from llmhw.studies.base import Figure, Study, Table
from llmhw.workload.catalog import load_model

# The study's public names (tests and notebooks use them through this module).
__all__ = ["SYSTEMS", "TRENDS", "Results", "batch_sweep", "generations", "results", "ridge", "run", "run_trend",
           "sram_chips_needed", "sram_time_per_token"]


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
    training: Contrast

    @property
    def by(self) -> dict[tuple[str, str], Run]:
        return {(r.trend.key, r.chip): r for r in self.runs}


def results() -> Results:
    need = [sram_chips_needed(mid, cid, ctx, b) for cid in SRAM_CHIPS for mid in SRAM_MODELS
            for ctx in SRAM_CONTEXTS for b in (1, BATCH)]
    sram_fig, sram = fig_sram(need)
    return Results(runs(), batch_sweep(), generations(), memory_needed(), need, sram_fig, sram, contrast())


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


def _setups(res: Results) -> dict[str, str]:
    """Each figure's setup line, from the runs behind it."""
    fp8 = PRECISION["weights"].upper()
    models = ", ".join(dict.fromkeys(load_model(t.model).name for t in TRENDS))
    ref = [r for r in res.runs if r.chip == SYSTEMS[0][0]]
    lo, hi = min(r.n_chips for r in ref), max(r.n_chips for r in ref)
    h100 = style.label(SYSTEMS[0][0])
    systems = ", ".join(style.label(c) for c, _ in SYSTEMS)
    dec = [r for r in res.sweep if r["phase"] == "decode"]
    pre = [r for r in res.sweep if r["phase"] == "prefill"]
    g0, g1 = res.generations[0], res.generations[-1]
    batch = f"up to {BATCH} requests"
    return {
        "roofline": style.setup(f"{load_model(SWEEP_MODEL).name} {fp8} on {NODE} x {h100} (TP{NODE})",
                                f"{style.tokens(SWEEP_INPUT)} in / {style.tokens(SWEEP_OUTPUT)} out",
                                f"decode batch {dec[0]['batch']:,}-{dec[-1]['batch']:,}",
                                "prefill of " + " and ".join(style.tokens(r["batch"]) for r in pre) + " prompts"),
        "intensity_vs_ridge": style.setup(f"{models} {fp8} on {lo}-{hi} x {h100} (TP{NODE})", batch),
        "step_breakdown": style.setup(f"{models} {fp8}, TP{NODE} per {NODE}-chip node of {systems}", batch),
        "memory_capacity": style.setup(f"{models}, {fp8} weights and KV", f"{BATCH} requests at full context",
                                       f"{NODE}-chip nodes"),
        "hardware_trend": style.setup(f"NVIDIA flagship GPUs, {style.label(g0['id'])} ({g0['year']}) to "
                                      f"{style.label(g1['id'])} ({g1['year']})",
                                      "datasheet FP64, 16-bit FLOP/s and memory bandwidth"),
        "sram_only": style.setup(", ".join(load_model(m).name for m in SRAM_MODELS) + f" {fp8}, batch 1 on "
                                 + ", ".join(style.label(c) for c in SRAM_CHIPS) + " pipelines",
                                 f"right: {style.tokens(SRAM_CONTEXT)} context"),
    }


def _summary(res: Results) -> str:
    ridges = [ridge(c) for c, _ in SYSTEMS]
    dec_lo, dec_hi = _decode_range(res.runs)
    moe = res.by[("moe", SYSTEMS[0][0])]
    g1 = res.generations[-1]
    return (f"{_trends_training.summary(res.training)} Every autoregressive trend decodes at {dec_lo:.1f}-"
            f"{dec_hi:.0f} FLOP/B against FP8 ridges of {min(ridges):.0f}-{max(ridges):.0f}; capacity sets the chip "
            f"count (DeepSeek-V3: {moe.n_chips} H100s); from K20X to H100 compute outgrew bandwidth "
            f"{g1['fp64_growth_x'] / g1['bandwidth_growth_x']:.1f}X (paper {PAPER_FP64_GROWTH / PAPER_BW_GROWTH:.1f}X).")


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
               f"(communication and overheads included), so they sit below the roofline.", fig_roofline(sweep)),
        Figure("intensity_vs_ridge", f"Every autoregressive trend decodes {min(ridges) / dec_hi:.0f}-"
               f"{max(ridges) / dec_lo:.0f}x below the ridge points of current chips (dashed: FP8 peak / HBM "
               f"bandwidth); dense prefill lies above them, MoE prefill of a short prompt below; diffusion-style "
               f"decoding ({DIFFUSION_BLOCK} positions per step) crosses them. Intensity per chip on 8 x H100 "
               f"(16 for DeepSeek-V3), FP8 weights and KV cache, {BATCH} requests or as many as fit.",
               fig_intensity(rs)),
        Figure("step_breakdown", "Where the time goes: autoregressive decode is bound by memory (weights for short "
               "contexts and MoE, the KV cache for long context, RAG and reasoning), TP all-reduces and host overhead, "
               "never by compute except on MI300X (its fitted small-GEMM efficiency); dense prefill and diffusion "
               "decoding are compute-bound. Shares of one step, step time at the right; memory-bound seconds split "
               "between weights and KV cache by their bytes. FP8, TP8, 32 requests or as many as fit.",
               fig_breakdown(rs)),
        Figure("memory_capacity", f"Memory, not compute, decides the chip count: DeepSeek-V3's weights and the KV "
               f"cache of {BATCH} requests at 128K context each exceed an 8 x H100 node; a TPU v6e-8 cannot hold "
               f"{BATCH} requests of {', '.join(short_v6e)} (with 90% of HBM usable). Weights at FP8 plus the KV cache at each trend's full context "
               f"(sliding windows applied), against the HBM of 8 chips (dashed).", fig_memory(mem_rows)),
        Figure("hardware_trend", f"From K20X (2012) to H100 (2022) FP64 FLOP/s grew {g1['fp64_growth_x']:.0f}X "
               f"({g1['fp64_vector_growth_x']:.0f}X without tensor cores) and memory bandwidth "
               f"{g1['bandwidth_growth_x']:.1f}X: the paper's 80X and 17X (stars) are not reproduced by datasheet "
               f"numbers, but the widening gap between compute and bandwidth is. Growth over K20X, log scale.",
               fig_generations(gens)),
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
        *_trends_training.tables(res.training),
    ]


def run() -> Study:
    res = results()
    tables = _tables(res)
    figures = _figures(res)
    setups = _setups(res)
    for f in figures:
        f.setup = setups[f.name]
    findings = [*_trends_training.findings(res.training), *_findings_intensity(res), *_findings_time_and_memory(res),
                *_findings_hardware(res)]
    return Study(name="trends", title="RQ1: Bottlenecks of current systems under the AI trends",
                 question="Which wall does LLM inference hit on today's hardware (compute, memory bandwidth, memory "
                          "capacity or interconnect), compared to training, for MoE, reasoning, multimodal, "
                          "long-context, RAG and diffusion-style workloads, and does the hardware trend the paper "
                          "cites reproduce?",
                 tables=tables, figures=figures, findings=findings, summary=_summary(res))

