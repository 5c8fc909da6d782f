#!/usr/bin/env python3
"""Side-by-side run of third-party LLM inference estimators on llmhw's comparison cases.

Run it from the separate environment (it must not import llmhw):

    benchmarks/.venv-compare/bin/python benchmarks/compare_tools.py \
        --cases benchmarks/compare_cases.json --out benchmarks/out/compare.json

Tools: llm-analysis (``llm_analysis.analysis.LLMAnalysis``) and GenZ (pip ``genz-llm``,
``GenZ.prefill_moddeling`` / ``GenZ.decode_moddeling``). For every case and tool it records
the predicted ``ttft_s``, ``tpot_s``, ``output_tok_s``, ``output_tok_s_per_chip`` and
``tok_s_per_user``, the value for the case's own ``metric`` and its absolute percentage error
against ``measured``, the wall time of the tool's API calls (median of ``--repeats`` after one
warm-up) and an ``error`` string where the tool cannot express or cannot run the case.

Model architectures come from the Hugging Face config.json files of llmhw's model catalog
(read as data from ``--hf-config-dir``; nothing of llmhw is imported). Hardware comes from each
tool's own preset where it has the chip, else from the datasheet numbers in ``HARDWARE`` below.
See benchmarks/README_compare.md for the mapping rules and the tools' limitations.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import io
import json
import logging
import math
import os
import platform
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")  # llm-analysis imports transformers
warnings.filterwarnings("ignore")

REPO = Path(__file__).resolve().parents[1]
DEFAULT_HF_DIR = REPO / "src" / "llmhw" / "workload" / "catalog" / "models"
METRICS = ("ttft_s", "tpot_s", "output_tok_s", "output_tok_s_per_chip", "tok_s_per_user")

# ----------------------------------------------------------------------------------------------
# Hardware: per-chip datasheet numbers (dense, no sparsity; decimal units) and each tool's
# preset for the chip when it ships one. link_GBps is the scale-up bandwidth per direction
# (NVLink 900 GB/s bidirectional -> 450), the convention both tools' H100 presets use.
# ----------------------------------------------------------------------------------------------
HARDWARE: dict[str, dict[str, Any]] = {
    "h100-sxm": {
        "name": "NVIDIA H100 SXM5 80GB",
        "bf16_tflops": 989.4,
        "fp8_tflops": 1979.0,
        "fp4_tflops": None,
        "int8_tops": 1979.0,
        "int4_tops": None,
        "mem_GB": 80,
        "hbm_GBps": 3350,
        "link_GBps": 450,
        "llm_analysis_preset": "h100-sxm-80gb",
        "genz_preset": "H100_GPU",
        "source": "NVIDIA H100 datasheet (989 TFLOP/s BF16 dense, 3.35 TB/s, NVLink4 900 GB/s bidir.)",
    },
    "h200": {
        "name": "NVIDIA H200 SXM 141GB",
        "bf16_tflops": 989.4,
        "fp8_tflops": 1979.0,
        "fp4_tflops": None,
        "int8_tops": 1979.0,
        "int4_tops": None,
        "mem_GB": 141,
        "hbm_GBps": 4800,
        "link_GBps": 450,
        "llm_analysis_preset": None,
        "genz_preset": None,
        "source": "NVIDIA H200 datasheet (989 TFLOP/s BF16 dense, 141 GB HBM3e, 4.8 TB/s, NVLink4 900 GB/s bidir.)",
    },
    "b200": {
        "name": "NVIDIA B200 (HGX/DGX)",
        "bf16_tflops": 2250.0,
        "fp8_tflops": 4500.0,
        "fp4_tflops": 9000.0,
        "int8_tops": 4500.0,
        "int4_tops": None,
        "mem_GB": 180,
        "hbm_GBps": 8000,
        "link_GBps": 900,
        "llm_analysis_preset": None,
        "genz_preset": None,
        "genz_link_latency_us": 0.25,  # GenZ's own Blackwell presets (B100, GB200) use ICN_LL 0.25 us
        "source": "NVIDIA DGX/HGX B200 (2.25 PF BF16, 4.5 PF FP8, 9 PF FP4 dense; 1440 GB and 64 TB/s per 8 GPUs; NVLink5 1.8 TB/s bidir.)",
    },
    "mi300x": {
        "name": "AMD Instinct MI300X",
        "bf16_tflops": 1307.4,
        "fp8_tflops": 2614.9,
        "fp4_tflops": None,
        "int8_tops": 2614.9,
        "int4_tops": None,
        "mem_GB": 192,
        "hbm_GBps": 5300,
        "link_GBps": 448,
        "llm_analysis_preset": None,
        "genz_preset": "MI300X",
        "source": "AMD CDNA3 white paper (1307.4 TFLOP/s BF16 dense, 192 GB HBM3, 5.3 TB/s, 7 x 64 GB/s Infinity Fabric per direction)",
    },
    "a100-sxm-80gb": {
        "name": "NVIDIA A100 SXM4 80GB",
        "bf16_tflops": 312.0,
        "fp8_tflops": None,
        "fp4_tflops": None,
        "int8_tops": 624.0,
        "int4_tops": 1248.0,
        "mem_GB": 80,
        "hbm_GBps": 2039,
        "link_GBps": 300,
        "llm_analysis_preset": "a100-sxm-80gb",
        "genz_preset": "A100_80GB_GPU",
        "source": "NVIDIA A100 datasheet (312 TFLOP/s BF16 dense, 2039 GB/s, NVLink3 600 GB/s bidir.)",
    },
}


# ----------------------------------------------------------------------------------------------
# Model architecture, normalised from a Hugging Face config.json
# ----------------------------------------------------------------------------------------------
NON_GATED_TYPES = {"gptj", "gpt2", "gpt_neox", "falcon", "opt", "bloom", "gpt_bigcode"}


@dataclass
class Arch:
    name: str
    model_type: str
    layers: int
    hidden: int
    heads: int
    kv_heads: int
    head_dim: int
    vocab: int
    max_pos: int | None
    gated_mlp: bool
    dense_ffn: int
    experts: int = 1
    top_k: int = 1
    expert_ffn: int = 0
    shared_experts: int = 0
    shared_ffn: int = 0
    first_dense_layers: int = 0
    mla: dict | None = None
    sliding_window: int | None = None
    sliding_layers: int = 0
    tied_embeddings: bool = False

    @property
    def is_moe(self) -> bool:
        return self.experts > 1


def arch_from_hf(name: str, cfg: dict) -> Arch:
    mt = cfg.get("model_type", "")
    heads = cfg.get("num_attention_heads") or cfg.get("n_head")
    hidden = cfg.get("hidden_size") or cfg.get("n_embd")
    layers = cfg.get("num_hidden_layers") or cfg.get("n_layer")
    kv = cfg.get("num_key_value_heads") or heads
    head_dim = cfg.get("head_dim") or hidden // heads
    experts = (
        cfg.get("num_local_experts") or cfg.get("num_experts") or cfg.get("n_routed_experts") or 1
    )
    top_k = cfg.get("num_experts_per_tok") or cfg.get("experts_per_token") or 1
    dense_ffn = cfg.get("intermediate_size") or cfg.get("n_inner") or 4 * hidden
    mla = None
    if cfg.get("kv_lora_rank"):
        mla = {
            k: cfg.get(k)
            for k in (
                "q_lora_rank",
                "kv_lora_rank",
                "qk_nope_head_dim",
                "qk_rope_head_dim",
                "v_head_dim",
            )
        }
        head_dim = cfg["qk_nope_head_dim"] + cfg["qk_rope_head_dim"]
    layer_types = cfg.get("layer_types") or []
    sliding_layers = sum(1 for t in layer_types if "sliding" in str(t))
    sw = cfg.get("sliding_window")
    if sw and not layer_types and cfg.get("use_sliding_window", True):
        sliding_layers = layers
    return Arch(
        name=name,
        model_type=mt,
        layers=layers,
        hidden=hidden,
        heads=heads,
        kv_heads=kv,
        head_dim=head_dim,
        vocab=cfg["vocab_size"],
        max_pos=cfg.get("max_position_embeddings"),
        gated_mlp=mt not in NON_GATED_TYPES,
        dense_ffn=dense_ffn,
        experts=experts,
        top_k=top_k,
        expert_ffn=(cfg.get("moe_intermediate_size") or dense_ffn) if experts > 1 else 0,
        shared_experts=cfg.get("n_shared_experts") or 0,
        shared_ffn=cfg.get("shared_expert_intermediate_size")
        or (cfg.get("moe_intermediate_size") or 0),
        first_dense_layers=cfg.get("first_k_dense_replace") or 0,
        mla=mla,
        sliding_window=sw if sliding_layers else None,
        sliding_layers=sliding_layers,
        tied_embeddings=bool(cfg.get("tie_word_embeddings", False)),
    )


def mla_kv_elements(a: Arch) -> int:
    """KV-cache elements per token per layer of multi-head latent attention (latent + rope key)."""
    return a.mla["kv_lora_rank"] + a.mla["qk_rope_head_dim"]


# ----------------------------------------------------------------------------------------------
# Results
# ----------------------------------------------------------------------------------------------
@dataclass
class ToolResult:
    tool: str
    ttft_s: float | None = None
    tpot_s: float | None = None
    output_tok_s: float | None = None
    output_tok_s_per_chip: float | None = None
    tok_s_per_user: float | None = None
    predicted: float | None = None
    ape: float | None = None
    wall_s: float | None = None
    wall_s_repeats: list[float] = field(default_factory=list)
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    notes: list[dict] = field(default_factory=list)  # mapping compromises: {"severity", "text"}
    exact_mapping: bool = True
    inputs: dict = field(default_factory=dict)
    extras: dict = field(default_factory=dict)


def note(notes: list, severity: str, text: str) -> None:
    notes.append({"severity": severity, "text": text})


def fmt_err(e: BaseException) -> str:
    msg = str(e).strip().replace("\n", " ")
    return f"{type(e).__name__}: {msg[:400]}"


def derive_metrics(
    res: ToolResult, case: dict, prefill_s: float | None, decode_s: float | None
) -> None:
    """Fill the metric fields from a tool's prefill latency (one static batch of r requests) and
    decode step latency, the way both tools define end-to-end time: prefill + osl x decode step."""
    dp = replicas(case)
    r = batch_per_replica(case)
    osl = case["output_tokens"]
    res.ttft_s = prefill_s
    res.tpot_s = decode_s
    if decode_s:
        res.tok_s_per_user = 1.0 / decode_s
    if prefill_s is not None and decode_s is not None:
        e2e = prefill_s + osl * decode_s
        res.output_tok_s = dp * r * osl / e2e
        res.output_tok_s_per_chip = res.output_tok_s / case["n_chips"]
    metric = case["metric"]
    res.predicted = getattr(res, metric)
    if res.predicted is not None and case.get("measured"):
        res.ape = abs(res.predicted - case["measured"]) / case["measured"]


def replicas(case: dict) -> int:
    return max(1, case["n_chips"] // (case.get("tp", 1) * case.get("pp", 1)))


def batch_per_replica(case: dict) -> int:
    return math.ceil(case["batch"] / replicas(case))


def time_call(fn: Callable[[], Any], repeats: int) -> tuple[Any, list[float]]:
    """One warm-up call, then ``repeats`` timed calls; returns the last result and the times."""
    out = fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return out, times


# ----------------------------------------------------------------------------------------------
# llm-analysis
# ----------------------------------------------------------------------------------------------
class LLMAnalysisTool:
    name = "llm-analysis"

    def __init__(self, flops_eff: float | None, mem_eff: float | None) -> None:
        with contextlib.redirect_stderr(io.StringIO()):
            from llm_analysis import analysis, config
            from llm_analysis.logger import logger
        logger.setLevel(logging.ERROR)
        self.analysis, self.config = analysis, config
        self.flops_eff, self.mem_eff = flops_eff, mem_eff
        self.version = importlib.metadata.version("llm-analysis")

    # -- inputs -----------------------------------------------------------------------------
    def model_config(self, a: Arch, notes: list) -> Any:
        C = self.config
        gate = (
            1.5 if a.gated_mlp else 1.0
        )  # 2-matrix MLP model: 3 gated matrices of width f == 2 of width 1.5 f
        if a.gated_mlp:
            note(
                notes,
                "minor",
                "gated MLP (3 matrices) expressed as ffn_embed_dim = 1.5 x intermediate_size "
                "so the weight count matches; the tool's MLP FLOPs stay 16*h^2 per token",
            )
        kv = a.kv_heads
        if a.heads * a.head_dim != a.hidden and not a.mla:
            note(
                notes,
                "major",
                f"head_dim {a.head_dim} x {a.heads} heads != hidden {a.hidden}: the tool sizes "
                f"attention as hidden x hidden and head_dim as hidden/heads = {a.hidden / a.heads:g}",
            )
        if a.mla:
            # MLA is not expressible. Keep n_head and pick the KV-head count (a divisor of n_head) whose
            # KV bytes per token come closest to MLA's latent cache.
            target = mla_kv_elements(a)
            hd = a.hidden / a.heads
            divisors = [d for d in range(1, a.heads + 1) if a.heads % d == 0]
            kv = min(divisors, key=lambda d: abs(2 * d * hd - target))
            note(
                notes,
                "major",
                f"MLA not expressible: modelled as GQA with {kv} KV heads of head_dim {hd:g} "
                f"({2 * kv * hd:g} KV elements/token/layer vs MLA's {target}); q/kv LoRA projections dropped",
            )
        if a.is_moe:
            ffn = int(a.expert_ffn * gate)
            experts, top_k = a.experts, a.top_k
            if a.shared_experts:
                top_k += a.shared_experts
                note(
                    notes,
                    "major" if a.mla else "minor",
                    f"{a.shared_experts} shared expert(s) folded in as always-active routed experts (top_k {top_k})",
                )
            if a.first_dense_layers:
                note(
                    notes,
                    "minor",
                    f"first {a.first_dense_layers} dense layers modelled as MoE layers",
                )
            note(
                notes,
                "minor",
                "MoE: weight reads per step count all experts (no top-k/batch dependence); "
                "MLP FLOPs ignore expert width and top-k",
            )
        else:
            ffn, experts, top_k = int(a.dense_ffn * gate), 1, 1
        if a.sliding_layers:
            note(
                notes,
                "minor",
                f"sliding-window attention ({a.sliding_layers}/{a.layers} layers, window "
                f"{a.sliding_window}) not expressible: all layers full attention",
            )
        return C.ModelConfig(
            name=a.name,
            num_layers=a.layers,
            n_head=a.heads,
            hidden_dim=a.hidden,
            vocab_size=a.vocab,
            max_seq_len=a.max_pos,
            num_key_value_heads=kv,
            ffn_embed_dim=ffn,
            expansion_ratio=ffn / a.hidden,
            model_type=a.model_type,
            moe_num_experts=experts,
            moe_top_k=top_k,
        )

    def gpu_config(self, hw_id: str, notes: list) -> Any:
        hw = HARDWARE[hw_id]
        if hw["llm_analysis_preset"]:
            return self.config.get_gpu_config_by_name(hw["llm_analysis_preset"])
        note(
            notes,
            "info",
            f"no llm-analysis preset for {hw_id}: GPUConfig built from datasheet ({hw['source']})",
        )
        i8 = hw["fp8_tflops"] or hw["int8_tops"]
        i4 = (
            hw["fp4_tflops"] or hw["int4_tops"] or i8
        )  # no native 4-bit math: 4-bit GEMMs at the 8-bit rate
        return self.config.GPUConfig(
            name=hw_id,
            mem_per_GPU_in_GB=hw["mem_GB"],
            hbm_bandwidth_in_GB_per_sec=hw["hbm_GBps"],
            intra_node_bandwidth_in_GB_per_sec=hw["link_GBps"],
            intra_node_min_message_latency=8e-6,
            peak_fp16_TFLOPS=hw["bf16_tflops"],
            peak_i8_TFLOPS=i8,
            peak_i4_TFLOPS=i4,
        )

    def dtype_name(self, case: dict, notes: list) -> str:
        hw = HARDWARE[case["hardware"]]
        w = case["weights"]
        if w == "bf16":
            return "w16a16e16"
        if w in ("fp8", "int8"):
            if hw["fp8_tflops"] or w == "int8":
                return "w8a8e16"
            note(notes, "minor", "no FP8 math on this chip: weight-only 8-bit (w8a16)")
            return "w8a16e16"
        if w == "fp4":
            if hw["fp4_tflops"]:
                return "w4a4e16"
            note(
                notes,
                "minor",
                "no FP4 math on this chip: weight-only 4-bit (w4a16), as vLLM runs MXFP4 on Hopper",
            )
            return "w4a16e16"
        if w == "int4":
            return "w4a16e16"
        raise ValueError(f"weights precision {w!r} not expressible")

    # -- run ------------------------------------------------------------------------------------
    def run(self, case: dict, a: Arch, repeats: int) -> ToolResult:
        res = ToolResult(self.name)
        try:
            mc = self.model_config(a, res.notes)
            gc = self.gpu_config(case["hardware"], res.notes)
            dt = self.config.get_dtype_config_by_name(self.dtype_name(case, res.notes))
        except Exception as e:  # noqa: BLE001 - report, do not crash the comparison
            res.error = "cannot express: " + fmt_err(e)
            return finish(res)
        tp, pp = case.get("tp", 1), case.get("pp", 1)
        if case.get("ep", 1) > 1:
            note(
                res.notes,
                "minor",
                f"ep={case['ep']}: experts sharded over the tp={tp} chips (per-chip weight "
                "bytes are the same; the tool's latency model ignores ep_size)",
            )
        if case.get("attention_dp"):
            note(
                res.notes,
                "minor",
                "attention data-parallel not expressible: attention is tensor-parallel",
            )
        par = self.config.ParallelismConfig(tp_size=tp, pp_size=pp, dp_size=replicas(case))
        kv_bytes = 1 if case["kv_cache"] in ("fp8", "int8") else 2
        isl = max(1, case["input_tokens"])
        if case["input_tokens"] < 1:
            note(res.notes, "info", "input_tokens 0 run as 1 (the tool needs a prompt)")
        r = batch_per_replica(case)
        res.inputs = {
            "model_config": asdict(mc),
            "gpu_config": asdict(gc),
            "dtype": dt.name,
            "parallelism": asdict(par),
            "batch_size_per_gpu": r,
            "seq_len": isl,
            "num_tokens_to_generate": case["output_tokens"],
            "kv_cache_dtype_bytes": kv_bytes,
            "flops_efficiency": self.flops_eff,
            "hbm_memory_efficiency": self.mem_eff,
        }

        def call(batch: int = r, osl: int = case["output_tokens"]) -> dict:
            la = self.analysis.LLMAnalysis(
                mc, gc, dt, par, flops_efficiency=self.flops_eff, hbm_memory_efficiency=self.mem_eff
            )
            return la.inference(
                batch_size_per_gpu=batch,
                seq_len=isl,
                num_tokens_to_generate=osl,
                kv_cache_dtype_bytes=kv_bytes,
            )

        try:
            out, times = time_call(call, repeats)
        except Exception as e:  # noqa: BLE001
            res.error = fmt_err(e) or "AssertionError"
            return finish(res)
        res.wall_s_repeats = times
        res.wall_s = statistics.median(times)
        derive_metrics(res, case, out["prefill_latency"], out["decode_latency"])
        res.extras = {
            "tool_total_tokens_per_sec": out["total_tokens_per_sec"] * replicas(case),
            "tool_decode_tokens_per_sec": out["decode_tokens_per_sec"],
            "weight_memory_per_gpu_GB": out["weight_memory_per_gpu"] / 1e9,
            "kv_cache_memory_per_gpu_GB": out["kv_cache_memory_per_gpu"] / 1e9,
            "decode_kv_cache_latency_s": out["kv_cache_latency"],
        }
        if case["metric"] == "ttft_s" and r > 1:
            try:
                res.extras["ttft_s_batch1"] = call(1, 1)["prefill_latency"]
            except Exception as e:  # noqa: BLE001
                res.warnings.append("batch-1 prefill: " + fmt_err(e))
        return finish(res)


# ----------------------------------------------------------------------------------------------
# GenZ (genz-llm)
# ----------------------------------------------------------------------------------------------
class GenZTool:
    name = "genz-llm"

    BITS = {"bf16": "bf16", "fp8": "fp8", "int8": "int8", "fp4": "fp4", "int4": "int4"}

    def __init__(self, flops_eff: float | None, mem_eff: float | None) -> None:
        import GenZ
        from GenZ.Models import ModelConfig
        from Systems.system_configs import system_configs

        self.GenZ, self.ModelConfig, self.presets = GenZ, ModelConfig, system_configs
        if flops_eff is not None and mem_eff is not None and flops_eff != mem_eff:
            raise SystemExit(
                "GenZ takes one system_eff for compute and memory; pass equal --flops-eff/--mem-eff"
            )
        self.eff = flops_eff if flops_eff is not None else mem_eff
        self.version = importlib.metadata.version("genz-llm")

    def model_config(self, a: Arch, notes: list) -> Any:
        heads, kv, hd = a.heads, a.kv_heads, a.head_dim
        if a.mla:
            # GenZ has head_dim and KV heads but no MLA: one KV head whose K+V equal the latent cache.
            target = mla_kv_elements(a)
            kv, hd = 1, target // 2
            note(
                notes,
                "major",
                f"MLA not expressible: modelled as {heads} query heads and 1 KV head of head_dim {hd} "
                f"(K+V = {target} elements/token/layer, as MLA's latent cache); q/kv LoRA projections dropped",
            )
        if a.is_moe:
            ffn, experts, top_k = a.expert_ffn, a.experts, a.top_k
            if a.shared_experts:
                top_k += a.shared_experts
                note(
                    notes,
                    "major" if a.mla else "minor",
                    f"{a.shared_experts} shared expert(s) folded in as always-active routed experts (top_k {top_k})",
                )
            if a.first_dense_layers:
                note(
                    notes,
                    "minor",
                    f"first {a.first_dense_layers} dense layers modelled as MoE layers",
                )
            note(
                notes,
                "minor",
                "MoE decode reads only top_k experts' weights per step whatever the batch; "
                "prefill reads all experts",
            )
        else:
            ffn, experts, top_k = a.dense_ffn, 1, 1
        if a.sliding_layers:
            note(
                notes,
                "minor",
                f"sliding-window attention ({a.sliding_layers}/{a.layers} layers, window "
                f"{a.sliding_window}) not modelled by GenZ's attention: all layers full attention",
            )
        return self.ModelConfig(
            model=a.name,
            vocab_size=a.vocab,
            max_model_len=a.max_pos or 128 * 1024,
            hidden_size=a.hidden,
            intermediate_size=ffn,
            num_ffi=2 if a.gated_mlp else 1,
            num_decoder_layers=a.layers,
            num_attention_heads=heads,
            head_dim=hd,
            num_key_value_heads=kv,
            hidden_act="silu" if a.gated_mlp else "gelu",
            num_experts=experts,
            expert_top_k=top_k,
        )

    def system(self, hw_id: str, notes: list) -> Any:
        hw = HARDWARE[hw_id]
        if hw["genz_preset"]:
            return hw["genz_preset"]
        note(
            notes,
            "info",
            f"no GenZ preset for {hw_id}: system built from datasheet ({hw['source']})",
        )
        spec = {
            "Flops": hw["bf16_tflops"],
            "Memory_size": hw["mem_GB"],
            "Memory_BW": hw["hbm_GBps"],
            "ICN": hw["link_GBps"],
            "real_values": True,
        }
        if hw.get("genz_link_latency_us") is not None:
            spec["ICN_LL"] = hw["genz_link_latency_us"]
        return spec

    def run(self, case: dict, a: Arch, repeats: int) -> ToolResult:
        res = ToolResult(self.name)
        try:
            mc = self.model_config(a, res.notes)
            system = self.system(case["hardware"], res.notes)
            bits = self.BITS[case["weights"]]
        except Exception as e:  # noqa: BLE001
            res.error = "cannot express: " + fmt_err(e)
            return finish(res)
        hw = HARDWARE[case["hardware"]]
        if case["kv_cache"] != case["weights"]:
            note(
                res.notes,
                "minor",
                f"one precision for everything: KV cache and activations also {bits} "
                f"(case KV cache {case['kv_cache']})",
            )
        if bits in ("fp8", "fp4") and not hw.get(f"{bits}_tflops"):
            note(
                res.notes,
                "minor",
                f"GenZ scales compute by precision ({bits}: "
                f"{1 / self.GenZ.System.compute_multiplier[bits]:g}x BF16) although the chip has no {bits} math",
            )
        tp, pp, ep = case.get("tp", 1), case.get("pp", 1), case.get("ep", 1)
        if ep > 1 and not a.is_moe:
            ep = 1
        if ep > 1:
            if tp % ep:
                res.error = f"cannot express: ep={ep} does not divide tp={tp}"
                return finish(res)
            g_tp, g_ep = (
                tp // ep,
                ep,
            )  # GenZ: attention over tp*ep chips, experts over ep, expert FFN split by tp
        else:
            g_tp, g_ep = tp, 1
        if case.get("attention_dp"):
            note(
                res.notes,
                "minor",
                "attention data-parallel not expressible: attention is tensor-parallel",
            )
        r = batch_per_replica(case)
        isl = max(1, case["input_tokens"])
        if case["input_tokens"] < 1:
            note(res.notes, "info", "input_tokens 0 run as 1 (the tool needs a prompt)")
        osl = case["output_tokens"]
        mid = max(1, osl // 2)  # decode step at mid-output context: the average over the generation
        kw = dict(
            system_name=system,
            bits=bits,
            tensor_parallel=g_tp,
            pipeline_parallel=pp,
            expert_parallel=g_ep,
        )
        if self.eff is not None:
            kw["system_eff"] = self.eff
        res.inputs = {
            "model_config": {k: v for k, v in vars(mc).items() if k != "model_quality"},
            "system": system,
            "bits": bits,
            "tensor_parallel": g_tp,
            "expert_parallel": g_ep,
            "pipeline_parallel": pp,
            "batch_size": r,
            "input_tokens": isl,
            "decode_output_tokens": mid,
            "Bb": 1,
            "system_eff": self.eff,
        }

        def call() -> tuple[Any, Any, str | None]:
            pre = self.GenZ.prefill_moddeling(model=mc, batch_size=r, input_tokens=isl, **kw)
            try:
                dec = self.GenZ.decode_moddeling(
                    model=mc, batch_size=r, input_tokens=isl, output_tokens=mid, Bb=1, **kw
                )
                derr = None
            except Exception as e:  # noqa: BLE001
                dec, derr = None, fmt_err(e)
            return pre, dec, derr

        try:
            with contextlib.redirect_stdout(io.StringIO()):
                (pre, dec, derr), times = time_call(call, repeats)
        except Exception as e:  # noqa: BLE001
            res.error = fmt_err(e)
            return finish(res)
        res.wall_s_repeats = times
        res.wall_s = statistics.median(times)
        pre_s = pre["Latency"] / 1e3  # GenZ reports msec
        dec_s = dec["Latency"] / 1e3 if dec is not None else None
        derive_metrics(res, case, pre_s, dec_s)
        if derr:
            if case["metric"] == "ttft_s":
                res.warnings.append("decode: " + derr)
            else:
                res.error = "decode: " + derr
        res.extras = {"prefill_breakdown_ms": pre["Runtime_breakdown"].to_dict()}
        if dec is not None:
            res.extras["decode_breakdown_ms"] = dec["Runtime_breakdown"].to_dict()
            res.extras["tool_decode_throughput_tok_s"] = dec["Throughput"] * replicas(case)
        if case["metric"] == "ttft_s" and r > 1:
            try:
                with contextlib.redirect_stdout(io.StringIO()):
                    res.extras["ttft_s_batch1"] = (
                        self.GenZ.prefill_moddeling(model=mc, batch_size=1, input_tokens=isl, **kw)[
                            "Latency"
                        ]
                        / 1e3
                    )
            except Exception as e:  # noqa: BLE001
                res.warnings.append("batch-1 prefill: " + fmt_err(e))
        return finish(res)


def finish(res: ToolResult) -> ToolResult:
    res.exact_mapping = not any(n["severity"] == "major" for n in res.notes)
    if res.error:
        res.predicted = res.ape = None
    return res


TOOLS = {"llm-analysis": LLMAnalysisTool, "genz-llm": GenZTool}


# ----------------------------------------------------------------------------------------------
# Driver
# ----------------------------------------------------------------------------------------------
def load_arch(case: dict, hf_dir: Path) -> Arch:
    if "hf_config" in case:
        cfg = case["hf_config"]
    else:
        path = hf_dir / f"{case['model']}.json"
        if not path.exists():
            raise FileNotFoundError(f"no HF config for {case['model']!r} at {path}")
        cfg = json.loads(path.read_text())
    return arch_from_hf(case.get("hf_repo") or case["model"], cfg)


def summarize(cases: list[dict], tool: str) -> dict:
    rs = [c["results"][tool] for c in cases if tool in c["results"]]
    ran = [r for r in rs if r["predicted"] is not None]
    exact = [r for r in ran if r["exact_mapping"]]
    walls = [r["wall_s"] for r in rs if r["wall_s"] is not None]
    by_metric: dict[str, list[float]] = {}
    for c in cases:
        r = c["results"].get(tool)
        if r and r["ape"] is not None:
            by_metric.setdefault(c["metric"], []).append(r["ape"])
    ttft_b1 = [
        abs(
            c["results"][tool]["extras"].get("ttft_s_batch1", c["results"][tool]["ttft_s"])
            - c["measured"]
        )
        / c["measured"]
        for c in cases
        if c["metric"] == "ttft_s" and c["results"].get(tool, {}).get("ttft_s") is not None
    ]

    def med(x: list[float]) -> float | None:
        return statistics.median(x) if x else None

    return {
        "n_cases": len(rs),
        "n_ran": len(ran),
        "n_error": sum(1 for r in rs if r["error"]),
        "n_exact_mapping": len(exact),
        "mdape": med([r["ape"] for r in ran]),
        "worst_ape": max((r["ape"] for r in ran), default=None),
        "mdape_exact_mapping": med([r["ape"] for r in exact]),
        "mdape_by_metric": {m: med(v) for m, v in sorted(by_metric.items())},
        "n_by_metric": {m: len(v) for m, v in sorted(by_metric.items())},
        "mdape_ttft_as_batch1_prefill": med(ttft_b1),
        "median_wall_s": med(walls),
        "max_wall_s": max(walls, default=None),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=Path, default=REPO / "benchmarks" / "compare_cases.json")
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "out" / "compare.json")
    ap.add_argument(
        "--hf-config-dir",
        type=Path,
        default=DEFAULT_HF_DIR,
        help="directory of <model>.json Hugging Face configs (default: llmhw's catalog, read as data)",
    )
    ap.add_argument(
        "--tools", default=",".join(TOOLS), help="comma-separated subset of: " + ", ".join(TOOLS)
    )
    ap.add_argument(
        "--repeats", type=int, default=5, help="timed repeats per call after one warm-up"
    )
    ap.add_argument(
        "--flops-eff",
        type=float,
        default=None,
        help="override the tools' compute efficiency (default: tool default, 1.0)",
    )
    ap.add_argument(
        "--mem-eff",
        type=float,
        default=None,
        help="override the tools' memory efficiency (default: tool default, 1.0)",
    )
    ap.add_argument("--only", default=None, help="comma-separated case ids to run")
    args = ap.parse_args(argv)

    cases = json.loads(args.cases.read_text())
    if args.only:
        keep = set(args.only.split(","))
        cases = [c for c in cases if c["id"] in keep]
    tools = {}
    for t in args.tools.split(","):
        tools[t] = TOOLS[t](args.flops_eff, args.mem_eff)

    for c in cases:
        c["results"] = {}
        try:
            a = load_arch(c, args.hf_config_dir)
        except Exception as e:  # noqa: BLE001
            for t in tools:
                c["results"][t] = asdict(
                    finish(ToolResult(t, error="cannot express: " + fmt_err(e)))
                )
            continue
        for t, tool in tools.items():
            c["results"][t] = asdict(tool.run(c, a, args.repeats))

    out = {
        "generated_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "processor": platform.processor(),
        "tools": {t: {"version": tool.version} for t, tool in tools.items()},
        "settings": {
            "repeats": args.repeats,
            "flops_eff": args.flops_eff,
            "mem_eff": args.mem_eff,
            "hf_config_dir": str(args.hf_config_dir),
        },
        "hardware": HARDWARE,
        "summary": {t: summarize(cases, t) for t in tools},
        "cases": cases,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1, default=str))
    print_table(cases, out["summary"], list(tools))
    print(f"\nwrote {args.out}")
    return 0


def print_table(cases: list[dict], summary: dict, tools: list[str]) -> None:
    def f(x: float | None) -> str:
        return "-" if x is None else f"{x:.4g}"

    head = f"{'case':9} {'model':13} {'hw':14} {'tp':>2} {'batch':>5} {'isl/osl':>10} {'metric':22} {'measured':>9}"
    for t in tools:
        head += f" | {t[:12]:>12} {'APE':>6} {'ms':>7}"
    print(head)
    for c in cases:
        line = (
            f"{c['id']:9} {c['model'][:13]:13} {c['hardware'][:14]:14} {c['tp']:>2} {c['batch']:>5} "
            f"{str(c['input_tokens']) + '/' + str(c['output_tokens']):>10} {c['metric']:22} {f(c['measured']):>9}"
        )
        for t in tools:
            r = c["results"][t]
            if r["error"]:
                line += f" | {'ERROR':>12} {'':>6} {'':>7}"
            else:
                ape = "-" if r["ape"] is None else f"{100 * r['ape']:.0f}%"
                flag = "" if r["exact_mapping"] else "*"
                line += f" | {f(r['predicted']) + flag:>12} {ape:>6} {1e3 * r['wall_s']:7.2f}"
        print(line)
    print("(* = mapping needed a major approximation, see notes)")
    for t in tools:
        s = summary[t]
        pct = lambda x: "-" if x is None else f"{100 * x:.0f}%"  # noqa: E731
        print(
            f"\n{t}: ran {s['n_ran']}/{s['n_cases']} (errors {s['n_error']}), MdAPE {pct(s['mdape'])} "
            f"(exact mappings only: {pct(s['mdape_exact_mapping'])} over {s['n_exact_mapping']}), "
            f"worst {pct(s['worst_ape'])}, median call {f(None if s['median_wall_s'] is None else 1e3 * s['median_wall_s'])} ms"
        )
        print(
            "   by metric: "
            + ", ".join(
                f"{m} {pct(v)} (n={s['n_by_metric'][m]})" for m, v in s["mdape_by_metric"].items()
            )
        )
        for c in cases:
            r = c["results"][t]
            if r["error"]:
                print(f"   {c['id']}: {r['error'][:160]}")


if __name__ == "__main__":
    sys.exit(main())
