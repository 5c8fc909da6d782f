"""What one training step costs in seconds (issue 17, docs/training.md).

Per micro-batch the heaviest pipeline stage runs its forward, backward (2 x forward) and
recompute at ``peak x compute_eff_max``: the family's fitted large-GEMM efficiency
(cost/calibration.yaml, fitted on inference prefill), taken as the efficiency of training's
large GEMMs; fp8 GEMMs also keep ``fp8_eff`` of it and attention runs at the bf16 peak. Tensor,
pipeline and expert messages sit on the critical path (exposed); ZeRO-3's weight gathers overlap
the forward and the backward they feed. The step is

    step = m x t_mb + bubble + max(0, t_dp - t_bwd) + t_optimizer
    bubble = (pp - 1) / v x t_mb        (fraction of the step: (pp-1)/(v m + pp - 1); 1F1B: v = 1)

``t_dp`` is the gradient reduction, which can only overlap the backward of the last
micro-batch (``t_bwd``, the window in which the final gradients appear). The optimizer step
streams its states through the fastest memory tier at ``memory_eff`` of its bandwidth.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil

from llmhw.accounting.training import (
    Message,
    StepFlops,
    optimizer_traffic_per_param,
    stage_params,
    training_messages,
)
from llmhw.cost.comm import collective_time
from llmhw.cost.params import FamilyParams
from llmhw.hardware.interconnect import Interconnect
from llmhw.scenario.scenario import Scenario
from llmhw.scenario.training import TrainingSpec


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


def training_cost(s: Scenario, t: TrainingSpec, flops: StepFlops, m: int, fp: FamilyParams) -> TrainingCost:
    par, model, chip = s.parallelism, s.model, s.chip
    tp, pp, dp, ep = par.tp, par.pp, par.dp, par.ep
    peaks = chip.flops(s.compute_unit)
    gemm_peak = peaks[t.precision]
    eff = fp.compute_eff_max * (fp.fp8_eff if t.precision == "fp8" else 1.0)
    # Heaviest stage: ceil(L/pp) layers plus the LM head (on the last stage).
    L = model.n_layers
    head = 2.0 * (model.vocab_size * model.hidden_size + model.hidden_size) * t.sequence_length * t.micro_batch
    layers_lin = (flops.forward_linear / (m * dp) - head) / L * ceil(L / pp)
    attn = (flops.forward - flops.forward_linear) / (m * dp) / L * ceil(L / pp)
    lin_s = (layers_lin + head) / tp / (gemm_peak * eff)
    attn_s = attn / tp / (peaks["bf16"] * fp.compute_eff_max)
    fwd = lin_s + attn_s
    bwd = 2.0 * fwd
    rec = fwd if t.recompute == "full" else attn_s if t.recompute == "selective" else 0.0
    up, out = s.system.scale_up_network, s.system.scale_out_network
    msgs = training_messages(model, t, tp, pp, dp, ep, m)
    times = {k: msg.count * message_time(msg, up, out, fp) for k, msg in msgs.items()}
    exposed_mb = sum(times[k] for k in ("tp", "pp", "ep") if k in times)
    if "zero3_gather" in times:
        one = times["zero3_gather"] / 2
        exposed_mb += max(0.0, one - fwd) + max(0.0, one - bwd)
    t_mb = fwd + bwd + rec + exposed_mb
    bubble = (pp - 1) / t.virtual_stages * t_mb
    dp_s = sum(v for k, v in times.items() if k.startswith("dp"))
    dp_exposed = max(0.0, dp_s - bwd)
    sp = stage_params(model, tp, pp, ep)
    updated = sp.total if t.zero == 0 else sp.dense / dp + sp.expert / (dp // ep)
    mem_s = updated * optimizer_traffic_per_param(t) / (chip.memory_bandwidth_bytes_per_s * fp.memory_eff)
    compute = m * (fwd + bwd + rec)
    comm = m * exposed_mb + dp_exposed
    step = compute + comm + mem_s + bubble
    return TrainingCost(step_time_s=step, compute_s=compute, communication_s=comm, memory_s=mem_s,
                        bubble_s=bubble, micro_batch_s=t_mb, comm_total_s=times, gemm_peak_flops=gemm_peak)
