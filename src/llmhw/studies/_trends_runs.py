"""The trends study's workloads and what the engine computes for them (studies/trends.py)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np

from llmhw import api
from llmhw.hardware.catalog import chips
from llmhw.scenario import Scenario
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

# The roofline's batch sweep: Llama 3.1 70B on 8 x H100, decode at these batches, prefill of these prompts.
SWEEP_MODEL = "llama-3.1-70b"
SWEEP_BATCHES: tuple[int, ...] = (1, 4, 16, 64, 256, 1024)
SWEEP_PROMPTS: tuple[int, ...] = (1024, 32000)
SWEEP_INPUT, SWEEP_OUTPUT = 1024, 1024


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


def _scenario(t: Trend, chip: str, system: str, n: int, batch: int, overrides: dict[str, Any] | None = None) -> Scenario:
    tp = min(NODE, n)
    return Scenario.from_dict({
        "model": t.model, "hardware": system if n == NODE else chip, "n_chips": n,
        "parallelism": {"tp": tp, "pp": n // tp}, "precision": PRECISION,
        "workload": {"input_tokens": t.input_tokens, "output_tokens": t.output_tokens, "batch": batch},
        "overrides": overrides or {},
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


def batch_sweep(chip: str = "h100-sxm", system: str = "hgx-h100-8", model: str = SWEEP_MODEL,
                batches: tuple[int, ...] = SWEEP_BATCHES) -> list[dict[str, float]]:
    """Decode and prefill of Llama 3.1 70B on 8 x H100 at growing batch: where each lands on the
    roofline (per-chip FLOPs per step over bytes, and FLOPs over the step's time)."""
    t = Trend("sweep", "", model, SWEEP_INPUT, SWEEP_OUTPUT, "")
    s = _scenario(t, chip, system, NODE, 1)
    dec = api.evaluate(s, batch=np.array(batches, float), input_tokens=SWEEP_INPUT, output_tokens=SWEEP_OUTPUT).decode
    out = []
    for i, b in enumerate(batches):
        fl, by = float(dec.accounting.total_flops[i]), float(dec.accounting.memory_bytes[i])
        step = float(dec.time.total_s[i])
        out.append({"phase": "decode", "batch": b, "intensity": fl / by, "flops_per_s": fl / step, "step_s": step})
    for L in SWEEP_PROMPTS:
        pre = api.evaluate(s, batch=1, input_tokens=L, output_tokens=SWEEP_OUTPUT).prefill
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

def memory_needed() -> list[dict[str, Any]]:
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
