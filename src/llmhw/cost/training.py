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

from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from math import ceil
from typing import Any

from llmhw.accounting.training import (
    Degrees,
    Message,
    StepFlops,
    forward_activation_traffic,
    optimizer_traffic_per_param,
    training_messages,
    training_traffic,
    updated_params,
)
from llmhw.core.errors import LlmhwError
from llmhw.core.io import read_yaml
from llmhw.cost.comm import collective_time
from llmhw.cost.params import FamilyParams
from llmhw.hardware.interconnect import Interconnect
from llmhw.hardware.package import package_power
from llmhw.scenario.scenario import Scenario
from llmhw.scenario.training import TrainingSpec
from llmhw.workload.model import ModelSpec


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
    clock_fraction: float = 1.0        # the clock (and 3D stack data rate) the power envelope allows
    elementwise_s: float = 0.0         # of compute_s: the element-wise kernels over the step (memory-bound)


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


def message_latency(msg: Message, up: Interconnect | None, out: Interconnect | None, fp: FamilyParams) -> float:
    """The latency part of one collective: its time with one byte per chip (software base,
    synchronisation and hops; the bandwidth term vanishes)."""
    return message_time(replace(msg, bytes=1.0), up, out, fp)


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


def _routed_linear_per_token(model: ModelSpec) -> float:
    """Forward GEMM FLOPs per token in routed experts (all layers)."""
    if model.moe is None:
        return 0.0
    return 2.0 * model.n_moe_layers * model.moe.experts_per_token * model.expert_params


def clock_fraction(s: Scenario, stack_utilization: float = 1.0) -> float:
    """Share of its clock (and of its stack's data rate) a chip with a 3D memory stack keeps inside
    its power envelope when the step uses ``stack_utilization`` of the stack's data rate
    (hardware/package.py); 1 for a chip without a stack."""
    base = getattr(s.base_hardware, "chip", s.base_hardware)
    pw = package_power(s.chip, base if base.id == s.chip.id else s.chip, min(1.0, stack_utilization))
    return 1.0 if pw is None else min(1.0, pw.fraction)


def step_clock(s: Scenario, t: TrainingSpec, d: Degrees, m: int, step_s: float, clock: float) -> float:
    """The clock share once the stack's access power follows the step's own HBM traffic
    (accounting.training.training_traffic) rather than the stack's full rate: one pass of the fixed
    point from a step priced at ``clock`` (the traffic's rate only rises as the clock does, and stays
    a few percent of the stack's bandwidth for a compute-bound step)."""
    used = training_traffic(s.model, t, d, m).total / step_s
    return clock_fraction(s, used / (s.chip.memory_bandwidth_bytes_per_s * clock))


def forward_seconds(s: Scenario, t: TrainingSpec, d: Degrees, flops: StepFlops, m: int, fp: FamilyParams,
                    eff: TrainingEfficiency, clock: float = 1.0) -> dict[str, float]:
    """One micro-batch's forward on one chip of the heaviest stage, by kind of work; ``clock`` the
    share of its clock (and of a 3D stack's data rate) the chip keeps in its power envelope."""
    model, chip = s.model, s.chip
    bandwidth = chip.memory_bandwidth_bytes_per_s * clock
    peaks = {k: v * clock for k, v in chip.flops(s.compute_unit).items()}
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
    elementwise = forward_activation_traffic(model, t, d) / (bandwidth * fp.memory_eff)
    return {"gemm": gemm, "attention": attn, "elementwise": elementwise}


def training_cost(s: Scenario, t: TrainingSpec, d: Degrees, flops: StepFlops, m: int, fp: FamilyParams,
                  family: str, efficiency: TrainingEfficiency | None = None) -> TrainingCost:
    """``efficiency`` replaces the engine's fitted row (a what-if, or a fit in progress). A chip
    with a 3D stack is priced at the clock its power envelope allows: first with the stack at its
    full rate, then at the rate the step's traffic uses (:func:`step_clock`)."""
    eff = efficiency or training_efficiency(t.engine, family, fp)
    clock = clock_fraction(s)
    cost = _priced(s, t, d, flops, m, fp, eff, clock)
    if clock < 1.0:
        cost = _priced(s, t, d, flops, m, fp, eff, step_clock(s, t, d, m, cost.step_time_s, clock))
    return cost


def _priced(s: Scenario, t: TrainingSpec, d: Degrees, flops: StepFlops, m: int, fp: FamilyParams,
            eff: TrainingEfficiency, clock: float) -> TrainingCost:
    model, chip = s.model, s.chip
    parts = forward_seconds(s, t, d, flops, m, fp, eff, clock)
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
    mem_s = updated_params(model, t, d) * optimizer_traffic_per_param(t) / \
        (chip.memory_bandwidth_bytes_per_s * clock * fp.memory_eff)
    compute = m * (fwd + bwd + rec)
    comm = m * exposed_mb + dp_exposed
    step = compute + comm + mem_s + bubble
    return TrainingCost(step_time_s=step, compute_s=compute, communication_s=comm, memory_s=mem_s,
                        bubble_s=bubble, micro_batch_s=t_mb, comm_total_s=times,
                        gemm_peak_flops=chip.flops(s.compute_unit)[t.precision], compute_parts_s=parts,
                        efficiency=eff, clock_fraction=clock,
                        # forward, backward at twice it, and the forward again under full recompute
                        elementwise_s=m * parts["elementwise"] * (3.0 + (t.recompute == "full")))
