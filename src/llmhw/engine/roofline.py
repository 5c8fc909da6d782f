"""Pricing a step's operators on a chip: the roofline with size-dependent efficiencies.

Each operator takes max(compute time, memory time) plus a launch overhead:

    compute = FLOPs / (peak[dtype] x compute_eff)   compute_eff = eff_max x max(m / (m + m_half), floor) x n / (n + n_half)
    memory  = bytes / (bandwidth x memory_eff(bytes))     memory_eff(b)  = eff_max x b / (b + b_half)

so a GEMM with few tokens (decode, or a lightly loaded expert) or a thin weight slice (a high TP
degree) cannot reach peak FLOP/s, and a small read cannot reach peak bandwidth. Collectives are priced by ``comm.collective_time``.
Every quantity is a numpy array: one call prices a whole sweep.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from llmhw.engine.comm import collective_time
from llmhw.engine.params import EngineProfile, FamilyParams
from llmhw.hardware.chip import Chip
from llmhw.hardware.interconnect import Interconnect
from llmhw.mapping.operators import Op

Array = np.ndarray | float

_TWIN = {"bf16": "fp16", "fp16": "bf16"}


def peak_for(flops: dict[str, float], dtype: str) -> tuple[str, float]:
    """The dtype the chip actually computes ``dtype`` in, and its peak: a missing bf16 runs as
    fp16 (Apple GPUs); a missing 16-bit format runs in fp32, else in int8 (NPUs)."""
    for d in (dtype, _TWIN.get(dtype, dtype), "fp32", "int8", "fp8"):
        if d in flops:
            return d, flops[d]
    d, v = max(flops.items(), key=lambda kv: kv[1])
    return d, v


def gemm_dtype(weight_precision: str, activations: str, flops: dict[str, float], profile: EngineProfile) -> str:
    """Quantized weights run on low-precision units only when the chip has them and the engine
    uses them (FP8 W8A8, NVFP4 W4A4); otherwise they are dequantized to the activation type."""
    if weight_precision in ("fp8", "int8") and weight_precision in flops and (
            profile.native_fp8 or weight_precision == "int8"):
        return weight_precision
    if weight_precision == "fp4" and "fp4" in flops and profile.native_fp4:
        return "fp4"
    return activations


@dataclass
class StepCost:
    """Seconds of one step, and how they split."""

    compute_s: Array      # in operators whose compute time exceeds their memory time
    memory_s: Array       # in operators bound by memory traffic
    comm_s: Array         # collectives
    overhead_s: Array     # launches and the engine's per-step host time

    @property
    def total_s(self) -> Array:
        return self.compute_s + self.memory_s + self.comm_s + self.overhead_s


def price_ops(ops: list[Op], chip: Chip, flops: dict[str, float], activations: str, fp: FamilyParams,
              profile: EngineProfile, scale_up: Interconnect | None, scale_out: Interconnect | None,
              requests: Array = 0.0) -> StepCost:
    """Seconds of one step; ``requests`` in the step each add the engine's per-token host time."""
    bw = chip.memory_bandwidth_bytes_per_s
    compute = memory = comm = 0.0
    launches = 0.0
    act_peak = peak_for(flops, activations)[1]
    for op in ops:
        if op.kind == "comm":
            comm = comm + op.count * collective_time(op.collective, op.comm_bytes, op.group, scale_up, scale_out, fp)
            continue
        b = np.asarray(op.bytes, dtype=float)
        mem_eff = fp.memory_eff_max * b / (b + fp.memory_bytes_half)
        t_m = b / (bw * np.maximum(mem_eff, 1e-12))
        if op.kind == "attention":
            t_c = np.asarray(op.flops, dtype=float) / (act_peak * fp.attention_eff)
        else:
            dtype, peak = peak_for(flops, gemm_dtype(op.weight_precision, activations, flops, profile))
            peak *= fp.fp4_eff if dtype == "fp4" else fp.fp8_eff if dtype == "fp8" else 1.0
            m = np.asarray(op.m, dtype=float)
            eff = fp.compute_eff_max * np.maximum(m / (m + fp.compute_m_half), fp.compute_eff_floor) \
                * (op.n / (op.n + fp.compute_n_half))
            t_c = np.asarray(op.flops, dtype=float) / (peak * eff)
        cbound = t_c > t_m
        compute = compute + op.count * np.where(cbound, t_c, 0.0)
        memory = memory + op.count * np.where(cbound, 0.0, t_m)
        launches += op.count
    overhead = launches * fp.kernel_overhead_s + profile.step_overhead_s \
        + profile.token_overhead_s * np.asarray(requests, dtype=float)
    z = np.zeros(np.broadcast(compute, memory, comm).shape)
    return StepCost(compute + z, memory + z, comm + z, overhead + z)
