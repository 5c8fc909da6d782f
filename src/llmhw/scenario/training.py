"""The ``training:`` block of a scenario (issue 17): what one optimizer step is made of.

A training scenario is an inference scenario's model, hardware, ``n_chips`` and ``parallelism``
plus this block; ``workload`` is not needed (a placeholder one-token workload lets the same
checks run: heads divisible by tp, layers by pp, the networks able to hold the chips).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator

from llmhw.core.errors import LlmhwError, shown
from llmhw.core.provenance import build
from llmhw.scenario.scenario import Scenario
from llmhw.scenario.values import Block, _whole


class TrainingSpec(Block):
    sequence_length: int = Field(description="tokens per training sequence")
    global_batch_tokens: int | None = Field(None, description="tokens per optimizer step (a multiple of sequence_length)")
    global_batch_sequences: int | None = Field(None, description="sequences per optimizer step (instead of tokens)")
    micro_batch: int = Field(1, description="sequences per micro-batch on one replica")
    optimizer: Literal["adam", "sgd"] = "adam"
    precision: Literal["bf16", "fp8"] = Field("bf16", description="GEMM datatype; weights, grads and "
                                              "activations stay bf16, master weights fp32")
    recompute: Literal["none", "selective", "full"] = "none"
    zero: Literal[0, 1, 2, 3] = Field(0, description="ZeRO stage: 1 shards optimizer states over dp, 2 also "
                                      "gradients, 3 also weights")
    pipeline_schedule: Literal["1f1b", "interleaved"] = "1f1b"
    virtual_stages: int = Field(1, description="model chunks per pipeline stage (interleaved schedule)")
    context_parallel: int = Field(1, description="chips one sequence is split over (ring attention); also "
                                  "written parallelism.cp. n_chips = tp x pp x dp x cp")
    engine: str = Field("megatron", description="training software profile (cost/training.yaml)")

    _counts = field_validator("sequence_length", "global_batch_tokens", "global_batch_sequences", "micro_batch",
                              "virtual_stages", "context_parallel", mode="before")(_whole("tokens"))


def check_training(t: TrainingSpec, s: Scenario) -> int:
    """Check the block against the scenario's model and mapping; return the global batch in
    sequences. Errors are one line naming ``training.<field>``."""
    par, model = s.parallelism, s.model
    cp = t.context_parallel
    dp = par.dp // cp          # the scenario's dp holds dp x cp (see training_scenario)
    if (t.global_batch_tokens is None) == (t.global_batch_sequences is None):
        raise LlmhwError("give exactly one of global_batch_tokens and global_batch_sequences",
                         field="training.global_batch_tokens")
    if t.sequence_length > model.max_context:
        raise LlmhwError(f"{t.sequence_length} exceeds the {model.max_context}-token context of {model.id}",
                         field="training.sequence_length", accepted=f"1..{model.max_context}")
    if t.global_batch_tokens is not None:
        if t.global_batch_tokens % t.sequence_length:
            raise LlmhwError(f"{t.global_batch_tokens} is not a multiple of sequence_length {t.sequence_length}",
                             field="training.global_batch_tokens")
        seqs = t.global_batch_tokens // t.sequence_length
    else:
        seqs = int(t.global_batch_sequences)  # type: ignore[arg-type]
    if seqs % dp:
        raise LlmhwError(f"dp={dp} does not divide the global batch of {seqs} sequences",
                         field="training.global_batch_tokens")
    per_replica = seqs // dp
    if per_replica % t.micro_batch:
        raise LlmhwError(f"micro_batch {t.micro_batch} does not divide the per-replica batch of {per_replica} "
                         f"sequences (global {seqs} / dp {dp})", field="training.micro_batch")
    if cp > 1 and t.sequence_length % (2 * cp):
        # Causal ring attention balances the work by giving each rank two chunks, one early, one late.
        raise LlmhwError(f"context parallelism over {cp} chips needs a sequence length divisible by 2 x cp = "
                         f"{2 * cp}, got {t.sequence_length}", field="training.context_parallel")
    if t.pipeline_schedule == "1f1b" and t.virtual_stages != 1:
        raise LlmhwError("virtual_stages applies to the interleaved schedule only", field="training.virtual_stages",
                         accepted="1 with 1f1b")
    if t.pipeline_schedule == "interleaved":
        if par.pp == 1:
            raise LlmhwError("the interleaved schedule needs pp > 1", field="training.pipeline_schedule")
        # Stages may be uneven (Llama 3 runs 126 layers on 16 stages): the heaviest one is priced.
        if par.pp * t.virtual_stages > model.n_layers:
            raise LlmhwError(f"pp x virtual_stages = {par.pp * t.virtual_stages} model chunks exceed the "
                             f"{model.n_layers} layers of {model.id}", field="training.virtual_stages",
                             accepted=f"at most {model.n_layers // par.pp}")
    if par.ep > 1 and dp % par.ep:
        raise LlmhwError(f"ep={par.ep} must divide dp={dp}: in training, expert groups are drawn from the "
                         f"data-parallel replicas", field="parallelism.ep")
    if par.ranks_per_chip != 1:
        raise LlmhwError("training models one rank per chip", field="parallelism.ranks_per_chip", accepted="1")
    if t.precision not in s.chip.flops(s.compute_unit) or "bf16" not in s.chip.flops(s.compute_unit):
        raise LlmhwError(f"{s.chip.id} lists no {t.precision} (or bf16) peak", field="training.precision",
                         accepted=", ".join(k for k in ("bf16", "fp8") if k in s.chip.flops(s.compute_unit)))
    return seqs


def training_scenario(d: Any, *, base_dir: Path | None = None) -> tuple[Scenario, TrainingSpec, int]:
    """(scenario, training block, global batch in sequences) from a scenario mapping with a
    ``training:`` block."""
    if not isinstance(d, dict):
        raise LlmhwError("a training scenario must be a mapping with model, hardware, parallelism and training",
                         field="scenario")
    if not isinstance(d.get("training"), dict):
        raise LlmhwError(f"expected a mapping, got {shown(d.get('training'))}", field="training")
    t = build(TrainingSpec, d["training"], where="training")
    rest = {k: v for k, v in d.items() if k != "training"}
    par = rest.get("parallelism")
    if isinstance(par, dict) and "cp" in par:
        if t.context_parallel != 1:
            raise LlmhwError("context parallelism is given twice: keep parallelism.cp or "
                             "training.context_parallel", field="parallelism.cp")
        t = build(TrainingSpec, {**d["training"], "context_parallel": par["cp"]}, where="training")
        par = {k: v for k, v in par.items() if k != "cp"}
    cp = t.context_parallel
    if cp > 1:
        # The scenario's checks (heads over tp, layers over pp, the networks holding the chips) run
        # on tp x pp x (dp x cp) chips: a context-parallel group is priced apart, in training.
        par = dict(par or {})
        tp, pp, dp = (par.get(k, 1) for k in ("tp", "pp", "dp"))
        n = rest.get("n_chips")
        if all(isinstance(v, int) for v in (tp, pp, dp)) and n != tp * pp * dp * cp:
            raise LlmhwError(f"n_chips ({n}) must equal tp x pp x dp x cp = {tp} x {pp} x {dp} x {cp} = "
                             f"{tp * pp * dp * cp}", field="n_chips")
        par["dp"] = dp * cp if isinstance(dp, int) else dp
    if par is not None:
        rest["parallelism"] = par
    # The placeholder workload only lets Scenario's checks run; training never reads it.
    rest.setdefault("workload", {"input_tokens": 1, "output_tokens": 1, "batch": 1})
    s = Scenario.from_dict(rest, base_dir=base_dir)
    return s, t, check_training(t, s)
