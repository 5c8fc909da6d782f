"""What one training step costs in seconds (issue 17, docs/training.md).

Per micro-batch the heaviest pipeline stage runs, on each of its chips:

- its GEMMs (forward, and backward at twice the forward) at ``peak x gemm_eff x M/(M + m_half)``:
  ``gemm_eff`` is the training engine's large-GEMM efficiency on the family (cost/training.yaml,
  fitted on published training runs), FP8 GEMMs keep ``fp8_eff`` of it, a routed expert's grouped
  GEMMs ``moe_eff`` of it (fitted on the MoE runs: the engine's expert path), and ``M`` is the GEMM's
  token count (a routed expert sees ``ep x b s k / (cp E)`` tokens, a dense layer ``b s / cp``)
  on the family's inference-fitted size curve;
- attention (flash attention) at the bf16 peak x the family's ``attention_eff``;
- the element-wise kernels between GEMMs (norms, activation functions, residual adds) and MoE's
  token permutations as memory traffic: forward reads and writes each stored activation once, a
  routed token is copied to its k experts and back, backward twice the forward, at the fastest
  tier's bandwidth x ``memory_eff``.

Tensor, pipeline and expert messages sit on the critical path (exposed); context-parallel K/V
exchanges overlap the attention they feed, ZeRO-3's weight gathers the pass they feed. The step is

    step = m x t_mb + bubble + max(0, t_dp - t_bwd) + t_optimizer
    bubble = (pp - 1) / v x t_mb        (fraction of the step: (pp-1)/(v m + pp - 1); 1F1B: v = 1)

``t_dp`` is the gradient reduction, which can only overlap the backward of the last
micro-batch (``t_bwd``, the window in which the final gradients appear). The optimizer step
streams its states through the fastest memory tier at ``memory_eff`` of its bandwidth.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from math import ceil
from typing import Any

from llmhw.accounting.training import (
    ACT,
    Degrees,
    Message,
    StepFlops,
    activation_bytes_per_token_layer,
    optimizer_traffic_per_param,
    stage_params,
    training_messages,
)
from llmhw.core.errors import LlmhwError
from llmhw.core.io import read_yaml
from llmhw.cost.comm import collective_time
from llmhw.cost.params import FamilyParams
from llmhw.hardware.interconnect import Interconnect
from llmhw.scenario.scenario import Scenario
from llmhw.scenario.training import TrainingSpec
from llmhw.workload.model import ModelSpec

# Element-wise traffic per stored activation byte in the forward: read once and written once (the
# backward's twice that follows from backward = 2 x forward).
FORWARD_ELEMENTWISE_PASSES = 2


@cache
def training_profiles() -> dict[str, Any]:
    return read_yaml(resources.files("llmhw.cost").joinpath("training.yaml"))["engines"]


@dataclass(frozen=True)
class TrainingEfficiency:
    """The GEMM efficiency a training engine reaches on a family, and where it comes from."""

    gemm_eff: float
    fp8_eff: float
    moe_eff: float        # share of gemm_eff a routed expert's grouped GEMMs keep
    fitted: bool          # False: the family's inference calibration stands in


def training_efficiency(engine: str, family: str, fp: FamilyParams) -> TrainingEfficiency:
    profiles = training_profiles()
    if engine not in profiles:
        raise LlmhwError(f"unknown training engine '{engine}'", field="training.engine",
                         accepted=", ".join(sorted(profiles)))
    row = (profiles[engine].get("families") or {}).get(family)
    if row is None:
        return TrainingEfficiency(fp.compute_eff_max, fp.fp8_eff, 1.0, fitted=False)
    return TrainingEfficiency(float(row["gemm_eff"]), float(row.get("fp8_eff", 1.0)), float(row.get("moe_eff", 1.0)),
                              fitted=True)


@dataclass(frozen=True)
class TrainingCost:
    """Seconds of one step and its parts; ``compute_s + communication_s + memory_s + bubble_s``
    is ``step_time_s``."""

    step_time_s: float
    compute_s: float
    communication_s: float
    memory_s: float
    bubble_s: float
    micro_batch_s: float
    comm_total_s: dict[str, float]     # per purpose, before overlap
    gemm_peak_flops: float             # per chip, of the GEMM datatype
    compute_parts_s: dict[str, float]  # one micro-batch's compute: gemm, attention, elementwise
    efficiency: TrainingEfficiency


def message_time(msg: Message, up: Interconnect | None, out: Interconnect | None,
                 fp: FamilyParams) -> float:
    """One collective: on the scale-up network when its group lies inside one domain, on the
    scale-out network when its members are a domain or more apart, else hierarchical."""
    if msg.group <= 1:
        return 0.0
    span = msg.group * msg.stride if msg.kind != "send" else msg.stride + 1
    if up is None or span <= up.domain_size or out is None:
        return float(collective_time(msg.kind, msg.bytes, msg.group, up, None, fp))
    if msg.stride >= up.domain_size:
        return float(collective_time(msg.kind, msg.bytes, msg.group, None, out, fp))
    return float(collective_time(msg.kind, msg.bytes, msg.group, up, out, fp))


def _size_eff(m_tokens: float, narrowest: float, fp: FamilyParams) -> float:
    """The family's GEMM shape curve (fitted on inference, cost/roofline.py): a GEMM of ``M``
    tokens keeps ``M / (M + m_half)`` of the large-GEMM efficiency, and ``n / (n + n_half)`` when
    its narrowest weight dimension on the chip is ``n``."""
    return m_tokens / (m_tokens + fp.compute_m_half) * narrowest / (narrowest + fp.compute_n_half)


def _narrowest(model: ModelSpec, tp: int) -> tuple[float, float]:
    """Narrowest weight dimension per chip of (the dense GEMMs, a routed expert's GEMMs)."""
    h = model.hidden_size
    widths = [h, model.q_width / tp]
    if model.intermediate_size and model.n_dense_layers:
        widths.append(model.intermediate_size / tp)
    expert = min(h, model.moe.expert_intermediate_size / tp) if model.moe else h
    return float(min(widths)), float(expert)


def moe_dispatch_bytes_per_token_layer(model: ModelSpec) -> float:
    """Forward memory traffic of routing one token through one MoE layer: the permutation reads
    its hidden state and writes k copies (one per chosen expert), the un-permutation reads the k
    expert outputs and writes their weighted sum."""
    if model.moe is None:
        return 0.0
    return ACT * model.hidden_size * (2 + 2 * model.moe.experts_per_token)


def _routed_linear_per_token(model: ModelSpec) -> float:
    """Forward GEMM FLOPs per token in routed experts (all layers)."""
    if model.moe is None:
        return 0.0
    return 2.0 * model.n_moe_layers * model.moe.experts_per_token * model.expert_params


def forward_seconds(s: Scenario, t: TrainingSpec, d: Degrees, flops: StepFlops, m: int, fp: FamilyParams,
                    eff: TrainingEfficiency) -> dict[str, float]:
    """One micro-batch's forward on one chip of the heaviest stage, by kind of work."""
    model, chip = s.model, s.chip
    peaks = chip.flops(s.compute_unit)
    gemm_rate = peaks[t.precision] * eff.gemm_eff * (eff.fp8_eff if t.precision == "fp8" else 1.0)
    L = model.n_layers
    share = ceil(L / d.pp) / L                       # the heaviest stage's share of the layers
    per_chip = 1.0 / (m * d.dp * d.cp * d.tp)        # one micro-batch, split over cp x tp chips
    tokens = t.micro_batch * t.sequence_length / d.cp
    head = 2.0 * (model.vocab_size * model.hidden_size + model.hidden_size) * tokens / d.tp
    total_tokens = flops.forward_linear / (2.0 * model.active_params)
    routed = _routed_linear_per_token(model) * total_tokens
    dense = flops.forward_linear - routed
    body_dense = (dense * per_chip - head) * share
    body_routed = routed * per_chip * share
    m_expert = tokens * d.ep * model.moe.experts_per_token / model.moe.n_routed_experts if model.moe else 1.0
    n_dense, n_expert = _narrowest(model, d.tp)
    gemm = (body_dense + head) / (gemm_rate * _size_eff(tokens, n_dense, fp)) + \
        (body_routed / (gemm_rate * eff.moe_eff * _size_eff(m_expert, n_expert, fp)) if body_routed else 0.0)
    attn = (flops.forward - flops.forward_linear) * per_chip * share / (peaks["bf16"] * fp.attention_eff)
    act = activation_bytes_per_token_layer(model, "selective", t.sequence_length)
    layers = ceil(L / d.pp)
    moe_layers = ceil(model.n_moe_layers / d.pp)
    traffic = FORWARD_ELEMENTWISE_PASSES * act * layers + moe_dispatch_bytes_per_token_layer(model) * moe_layers
    elementwise = traffic * tokens / d.tp / (chip.memory_bandwidth_bytes_per_s * fp.memory_eff)
    return {"gemm": gemm, "attention": attn, "elementwise": elementwise}


def training_cost(s: Scenario, t: TrainingSpec, d: Degrees, flops: StepFlops, m: int, fp: FamilyParams,
                  family: str, efficiency: TrainingEfficiency | None = None) -> TrainingCost:
    """``efficiency`` replaces the engine's fitted row (a what-if, or a fit in progress)."""
    model, chip = s.model, s.chip
    eff = efficiency or training_efficiency(t.engine, family, fp)
    parts = forward_seconds(s, t, d, flops, m, fp, eff)
    fwd = sum(parts.values())
    bwd = 2.0 * fwd
    rec = fwd if t.recompute == "full" else parts["attention"] if t.recompute == "selective" else 0.0
    up, out = s.system.scale_up_network, s.system.scale_out_network
    msgs = training_messages(model, t, d, m)
    times = {k: msg.count * message_time(msg, up, out, fp) for k, msg in msgs.items()}
    exposed_mb = sum(times[k] for k in ("tp", "pp", "ep") if k in times)
    if "cp" in times:        # ring attention hides its K/V exchange behind the attention it feeds
        hidden_by = parts["attention"] * (3 + (t.recompute != "none"))
        exposed_mb += max(0.0, times["cp"] - hidden_by)
    if "zero3_gather" in times:
        one = times["zero3_gather"] / 2
        exposed_mb += max(0.0, one - fwd) + max(0.0, one - bwd)
    t_mb = fwd + bwd + rec + exposed_mb
    bubble = (d.pp - 1) / t.virtual_stages * t_mb
    dp_s = sum(v for k, v in times.items() if k.startswith("dp"))
    dp_exposed = max(0.0, dp_s - bwd)
    sp = stage_params(model, d.tp, d.pp, d.ep)
    updated = sp.total if t.zero == 0 else sp.dense / d.shard + sp.expert / d.expert_shard
    mem_s = updated * optimizer_traffic_per_param(t) / (chip.memory_bandwidth_bytes_per_s * fp.memory_eff)
    compute = m * (fwd + bwd + rec)
    comm = m * exposed_mb + dp_exposed
    step = compute + comm + mem_s + bubble
    return TrainingCost(step_time_s=step, compute_s=compute, communication_s=comm, memory_s=mem_s,
                        bubble_s=bubble, micro_batch_s=t_mb, comm_total_s=times,
                        gemm_peak_flops=chip.flops(s.compute_unit)[t.precision], compute_parts_s=parts,
                        efficiency=eff)
