"""One training step's work on one chip: FLOPs, bytes held, messages (issue 17, docs/training.md).

Notation: ``N_a`` the model's active parameters (``ModelSpec.active_params``: what a token is
multiplied by, LM head included, input embedding excluded), ``s`` the sequence length, ``T`` the
tokens of one step, ``L`` layers, ``b`` the micro-batch in sequences, ``m`` micro-batches per
replica, ``tp, pp, dp, ep`` the parallel degrees, ``v`` virtual stages per pipeline stage.

FLOPs. A forward pass costs 2 FLOPs per active weight per token plus attention: each query
against each key it attends to costs ``c = 2 H (d_k + d_v)`` FLOPs per layer (scores and the
weighted sum of values). Backward costs twice the forward (the gradient with respect to the
input and with respect to the weights, each a GEMM of the forward's size). So

    model FLOPs    = 3 x T x (2 N_a + c x sum_layers min(s, window))          (PaLM, Appendix B)
    executed FLOPs = 3 x T x (2 N_a + c x A(s) / s)  + recompute

where ``A(s)`` counts the (query, key) pairs a causal mask keeps per sequence, summed over the
layers (``s (s + 1) / 2`` per full layer): kernels skip the masked half, while the published MFU
convention counts every pair. Recompute adds one forward: ``full`` adds ``T (2 N_a + c A(s)/s)``,
``selective`` (Korthikanti et al. 2022) only the attention core, ``T c A(s) / s``.

Bytes held per chip. Each parameter a chip holds costs ``w + g + o`` bytes: bf16 weights (2, plus
1 for the FP8 copy under fp8 training), bf16 gradients (2), and the optimizer's fp32 master
weights and states (Adam: 4 + 4 + 4 = 12; SGD with momentum: 4 + 4 = 8): 16 bytes per parameter
for Adam in bf16. ZeRO stage 1 divides ``o`` by the data-parallel group, stage 2 also ``g``,
stage 3 also ``w``. The chip holds the heaviest pipeline stage's ``ceil(L/pp)`` layers (routed
experts split over tp x ep) plus the LM head (the embedding on the first stage, both at pp = 1),
divided by tp.

Activations (Korthikanti et al. 2022, their ``34 s b h`` generalized to GQA, gated FFNs and MoE,
without dropout masks, sequence parallelism with tensor parallelism so every term divides by tp),
bytes per token per layer in bf16: attention ``2h`` (QKV input) ``+ 2 q + 4 kv`` (Q, K, V) ``+ 2 o``
(output projection input), FFN ``2h + 6f`` gated (``2h + 4f`` not), norms ``4h``; ``none`` also
keeps the softmax output ``2 H s``; ``selective`` recomputes it; ``full`` keeps only the layer input,
``2h``, plus one layer's full set while it is recomputed. The first pipeline stage holds the most:
``min(m, pp)`` micro-batches in flight under 1F1B, times ``1 + (pp - 1)/(pp v)`` when interleaved.

Messages. TP: per layer and micro-batch two all-reduces forward and two backward (two more with
full recompute) of ``b s h`` bf16 values (with sequence parallelism an all-gather and a
reduce-scatter of the same wire bytes). PP: per micro-batch and virtual stage one send forward and
one backward of ``b s h / tp`` values. DP: the gradients once per step (an all-reduce; with ZeRO a
reduce-scatter of the gradients and an all-gather of the updated bf16 weights); ZeRO-3 also
all-gathers the weights forward and backward in every micro-batch. EP: per MoE layer and
micro-batch four all-to-alls (dispatch and combine, forward and backward) of ``b s k h / tp``
values.

HBM traffic (``training_traffic``, for intensity and energy). Per micro-batch a chip reads its
stage's bf16 weights in the forward and again for the backward's input gradients (once more under
full recompute) and adds into its bf16 gradients (a read and a write); the element-wise kernels
read and write every stored activation once in the forward (``FORWARD_ELEMENTWISE_PASSES``), a
routed token is copied to its k experts and back, and the backward moves twice the forward's
activation bytes. Once per step the optimizer reads and writes its states for the parameters the
chip updates. GEMM tiles re-read from memory are not counted: a lower bound on the bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil

from llmhw.accounting.memory import LOGIT_BYTES
from llmhw.core.units import bytes_per_element
from llmhw.scenario.training import TrainingSpec
from llmhw.workload.model import ModelSpec

ACT = bytes_per_element("bf16")       # activations, weights and gradients are kept in bf16
MASTER = bytes_per_element("fp32")    # master weights and optimizer states are fp32
# fp32 states per parameter beyond the master copy: Adam's first and second moments; SGD's momentum.
OPTIMIZER_STATES = {"adam": 2, "sgd": 1}
FP8_WEIGHT_COPY = bytes_per_element("fp8")   # the FP8 cast of each weight FP8 GEMMs read
# Element-wise traffic per stored activation byte in the forward: read once and written once (the
# backward's twice that follows from backward = 2 x forward).
FORWARD_ELEMENTWISE_PASSES = 2


@dataclass(frozen=True)
class Degrees:
    """The parallel degrees of a training mapping: ``tp x cp x dp x pp`` chips, numbered in that
    order (Megatron's: tp fastest). Gradients are reduced, and ZeRO shards states, over the
    ``dp x cp`` chips that hold the same weights; experts split over ``ep`` of those."""

    tp: int
    pp: int
    dp: int
    cp: int
    ep: int

    @property
    def shard(self) -> int:
        """Chips holding the same weights (the gradient reduction and ZeRO group)."""
        return self.dp * self.cp

    @property
    def expert_shard(self) -> int:
        return self.shard // self.ep


def degrees(tp: int, pp: int, scenario_dp: int, ep: int, cp: int) -> Degrees:
    """The mapping of a training scenario, whose ``parallelism.dp`` holds dp x cp."""
    return Degrees(tp=tp, pp=pp, dp=scenario_dp // cp, cp=cp, ep=ep)


def causal_pairs(model: ModelSpec, s: int) -> float:
    """(query, key) pairs a causal mask keeps in one sequence of ``s`` tokens, summed over the
    layers: ``s (s+1) / 2`` per full layer; a sliding layer of window ``w < s`` keeps
    ``w (w+1)/2 + (s - w) w``."""
    full = s * (s + 1) / 2
    n_sliding = model.n_sliding_layers
    if not n_sliding:
        return model.n_layers * full
    w = model.sliding_window or s
    slide = full if s <= w else w * (w + 1) / 2 + (s - w) * w
    return (model.n_layers - n_sliding) * full + n_sliding * slide


@dataclass(frozen=True)
class StepFlops:
    """FLOPs of one step over the whole system (all replicas)."""

    forward: float        # executed forward (causal attention)
    backward: float       # 2 x forward
    recompute: float      # the extra forward recompute adds
    model: float          # 3 x forward with every attention pair counted (the MFU numerator)
    forward_linear: float  # the weight GEMMs' part of ``forward`` (2 N_a T)

    @property
    def executed(self) -> float:
        return self.forward + self.backward + self.recompute


def step_flops(model: ModelSpec, t: TrainingSpec, tokens: float) -> StepFlops:
    s = t.sequence_length
    c = model.attention_flops_per_context_token
    lin = 2.0 * model.active_params * tokens
    attn = c * causal_pairs(model, s) / s * tokens
    fwd = lin + attn
    rec = fwd if t.recompute == "full" else attn if t.recompute == "selective" else 0.0
    return StepFlops(forward=fwd, backward=2.0 * fwd, recompute=rec,
                     model=3.0 * model.flops_per_token(s) * tokens, forward_linear=lin)


def state_bytes_per_param(t: TrainingSpec) -> tuple[float, float, float]:
    """(weights, gradients, optimizer) bytes per parameter, before ZeRO: Adam bf16 is (2, 2, 12)."""
    w = ACT + (FP8_WEIGHT_COPY if t.precision == "fp8" else 0.0)
    return w, ACT, MASTER * (1 + OPTIMIZER_STATES[t.optimizer])


def optimizer_traffic_per_param(t: TrainingSpec) -> float:
    """Bytes the optimizer step reads and writes per parameter: master + states + gradient read,
    master + states + bf16 weight written (Adam: 14 + 14 = 28)."""
    states = MASTER * (1 + OPTIMIZER_STATES[t.optimizer])
    return 2 * (states + ACT)


@dataclass(frozen=True)
class StageParams:
    """Parameters one chip of the heaviest pipeline stage holds, split by how ZeRO shards them."""

    dense: float      # replicated over dp (attention, dense FFN, norms, router, shared experts, head)
    expert: float     # routed experts: split over ep, replicated over dp / ep

    @property
    def total(self) -> float:
        return self.dense + self.expert


def stage_params(model: ModelSpec, tp: int, pp: int, ep: int) -> StageParams:
    L = model.n_layers
    layers = ceil(L / pp)
    routed = model.n_moe_layers * model.moe.n_routed_experts * model.expert_params if model.moe else 0
    all_layers = sum(model.layer_params(i) for i in range(L))
    body_dense = (all_layers - routed) / L * layers
    body_expert = routed / L * layers
    head = model.vocab_size * model.hidden_size + model.hidden_size       # LM head (tied or not) + final norm
    extra = model.embedding_params + model.lm_head_params + model.hidden_size if pp == 1 \
        else max(model.embedding_params, head)
    return StageParams(dense=(body_dense + extra) / tp, expert=body_expert / (tp * ep))


def activation_bytes_per_token_layer(model: ModelSpec, recompute: str, s: int) -> float:
    """Activation bytes one token keeps for one layer's backward (mean over the layers), before
    the tensor-parallel split."""
    h = model.hidden_size
    kv = model.n_kv_heads * model.head_dim if model.mla is None else model.kv_elements_per_token_per_layer
    attn = ACT * (h + model.q_width + 2 * kv + model.attn_out_width)

    def ffn(width: float) -> float:
        return ACT * (h + (3 if model.gated_ffn else 2) * width)

    L = model.n_layers
    dense = ffn(model.intermediate_size) if model.intermediate_size else 0.0
    moe = 0.0
    if model.moe:
        moe = model.moe.experts_per_token * ffn(model.moe.expert_intermediate_size)
        if model.moe.shared_intermediate_size:
            moe += ffn(model.moe.shared_intermediate_size)
    mean_ffn = (model.n_dense_layers * dense + model.n_moe_layers * moe) / L
    base = attn + mean_ffn + 2 * ACT * h                                   # two norms' inputs
    if recompute == "full":
        return ACT * h
    if recompute == "selective":
        return base
    return base + ACT * model.n_heads * s                                  # the softmax output


@dataclass(frozen=True)
class TrainingMemory:
    """Bytes per chip (heaviest stage's states, first stage's activations)."""

    weights: float
    gradients: float
    optimizer: float
    activations: float
    logits: float

    @property
    def total(self) -> float:
        return self.weights + self.gradients + self.optimizer + self.activations + self.logits


def stashed_activations(model: ModelSpec, t: TrainingSpec, d: Degrees) -> float:
    """Bytes of activations one micro-batch's forward stores on one chip of the heaviest stage for
    its backward, at the step's recompute setting."""
    per_token = activation_bytes_per_token_layer(model, t.recompute, t.sequence_length) * ceil(model.n_layers / d.pp)
    return per_token * t.micro_batch * t.sequence_length / d.cp / d.tp


def training_memory(model: ModelSpec, t: TrainingSpec, d: Degrees, m: int) -> TrainingMemory:
    tp, pp = d.tp, d.pp
    sp = stage_params(model, tp, pp, d.ep)
    w, g, o = state_bytes_per_param(t)

    def sharded(per_param: float, stage: int) -> float:
        if t.zero < stage:
            return per_param * sp.total
        return per_param * (sp.dense / d.shard + sp.expert / d.expert_shard)

    # A context-parallel chip keeps the activations of its s / cp tokens of each sequence.
    s, b = t.sequence_length // d.cp, t.micro_batch
    in_flight = min(m, pp)
    if t.pipeline_schedule == "interleaved":
        in_flight *= 1 + (pp - 1) / (pp * t.virtual_stages)
    act = in_flight * stashed_activations(model, t, d)
    if t.recompute == "full":       # one layer's full activations while it is recomputed
        act += b * s * activation_bytes_per_token_layer(model, "selective", s) / tp
    logits = b * s * model.vocab_size / tp * LOGIT_BYTES if pp == 1 else 0.0
    return TrainingMemory(weights=sharded(w, 3), gradients=sharded(g, 2), optimizer=sharded(o, 1),
                          activations=act, logits=logits)


@dataclass(frozen=True)
class Message:
    """A collective one chip takes part in: ``count`` times per step, ``bytes`` per chip as
    cost.comm defines it (all-gather: the shard in), over ``group`` chips ``stride`` apart."""

    kind: str
    bytes: float
    group: int
    stride: int
    count: float
    per_micro_batch: bool


def kv_width_per_chip(model: ModelSpec, tp: int) -> float:
    """K and V values per token and layer on one tensor-parallel chip: KV heads split over tp, each
    chip keeping at least one (heads are replicated when tp exceeds them); MLA's latent is whole."""
    if model.mla is not None:
        return float(model.kv_elements_per_token_per_layer)
    return 2.0 * model.head_dim * max(1.0, model.n_kv_heads / tp)


def training_messages(model: ModelSpec, t: TrainingSpec, d: Degrees, m: int) -> dict[str, Message]:
    """The collectives of one step for one chip, by purpose. Chips are numbered tp fastest, then
    cp, dp, pp (Megatron's order): a TP group is contiguous, CP groups are tp apart, DP and EP
    groups tp x cp apart, PP neighbours tp x cp x dp apart."""
    tp, pp, dp, cp, ep = d.tp, d.pp, d.dp, d.cp, d.ep
    h, s, b = model.hidden_size, t.sequence_length // cp, t.micro_batch
    layers = ceil(model.n_layers / pp)
    act = b * s * h * ACT
    sp = stage_params(model, tp, pp, ep)
    out: dict[str, Message] = {}
    if tp > 1:
        per_layer = 4 + (2 if t.recompute == "full" else 0)
        out["tp"] = Message("all_reduce", act, tp, 1, per_layer * layers, True)
    if cp > 1:
        # Ring attention: each layer gathers the other ranks' K and V forward, again backward, and
        # reduce-scatters their gradients (3 passes of the chip's own K, V); it overlaps the
        # attention it feeds (cost/training.py).
        kv = b * s * kv_width_per_chip(model, tp) * ACT
        out["cp"] = Message("all_gather", kv, cp, tp, 3 * layers, True)
    if pp > 1:
        out["pp"] = Message("send", act / tp, 2, tp * cp * dp, 2 * t.virtual_stages, True)
    if ep > 1 and model.moe:
        moe_layers = ceil(model.n_moe_layers / pp)
        out["ep"] = Message("all_to_all", act * model.moe.experts_per_token / tp, ep, tp * cp, 4 * moe_layers, True)
    g = d.shard
    if g > 1:
        grads = sp.dense * ACT
        if t.zero == 0:
            out["dp"] = Message("all_reduce", grads, g, tp, 1, False)
        else:
            out["dp_grads"] = Message("reduce_scatter", grads, g, tp, 1, False)
            out["dp_weights"] = Message("all_gather", sp.dense * ACT / g, g, tp, 1, False)
        if t.zero == 3:
            out["zero3_gather"] = Message("all_gather", sp.dense * ACT / g, g, tp, 2, True)
    g_e = d.expert_shard
    if g_e > 1 and sp.expert:
        kind = "all_reduce" if t.zero == 0 else "reduce_scatter"
        out["dp_experts"] = Message(kind, sp.expert * ACT, g_e, tp * cp * ep, 1 if t.zero == 0 else 2, False)
    return out


def moe_dispatch_bytes_per_token_layer(model: ModelSpec) -> float:
    """Forward memory traffic of routing one token through one MoE layer: the permutation reads
    its hidden state and writes k copies (one per chosen expert), the un-permutation reads the k
    expert outputs and writes their weighted sum."""
    if model.moe is None:
        return 0.0
    return ACT * model.hidden_size * (2 + 2 * model.moe.experts_per_token)


def forward_activation_traffic(model: ModelSpec, t: TrainingSpec, d: Degrees) -> float:
    """Bytes the element-wise kernels and MoE token permutations of one micro-batch's forward move
    on one chip of the heaviest stage (the layers' stored activations read and written once)."""
    act = activation_bytes_per_token_layer(model, "selective", t.sequence_length)
    layers = ceil(model.n_layers / d.pp)
    moe_layers = ceil(model.n_moe_layers / d.pp)
    per_token = FORWARD_ELEMENTWISE_PASSES * act * layers + moe_dispatch_bytes_per_token_layer(model) * moe_layers
    return per_token * t.micro_batch * t.sequence_length / d.cp / d.tp


@dataclass(frozen=True)
class TrainingTraffic:
    """HBM bytes one chip of the heaviest stage reads and writes in one step."""

    weight_reads: float
    gradient_reads: float
    gradient_writes: float
    activation_reads: float
    activation_writes: float
    optimizer_reads: float
    optimizer_writes: float
    # Of activation_writes: the activations the forward stores for the backward (at the step's
    # recompute setting), written once per micro-batch; the rest are transient element-wise outputs.
    stash_writes: float = 0.0

    @property
    def reads(self) -> float:
        return self.weight_reads + self.gradient_reads + self.activation_reads + self.optimizer_reads

    @property
    def writes(self) -> float:
        return self.gradient_writes + self.activation_writes + self.optimizer_writes

    @property
    def total(self) -> float:
        return self.reads + self.writes


def updated_params(model: ModelSpec, t: TrainingSpec, d: Degrees) -> float:
    """Parameters whose optimizer step one chip takes: its stage's, over the ZeRO group from stage 1."""
    sp = stage_params(model, d.tp, d.pp, d.ep)
    return sp.total if t.zero == 0 else sp.dense / d.shard + sp.expert / d.expert_shard


def training_traffic(model: ModelSpec, t: TrainingSpec, d: Degrees, m: int) -> TrainingTraffic:
    """HBM bytes one chip of the heaviest stage reads and writes in one step of ``m`` micro-batches."""
    sp = stage_params(model, d.tp, d.pp, d.ep)
    full = t.recompute == "full"
    weight_passes = 3 if full else 2               # forward, input gradients (+ the recomputed forward)
    act_passes = 4 if full else 3                  # forward, backward at twice it (+ the recomputed forward)
    act = forward_activation_traffic(model, t, d) * act_passes * m
    opt = updated_params(model, t, d) * optimizer_traffic_per_param(t) / 2
    grads = m * sp.total * ACT
    return TrainingTraffic(weight_reads=m * weight_passes * sp.total * ACT, gradient_reads=grads,
                           gradient_writes=grads, activation_reads=act / 2, activation_writes=act / 2,
                           optimizer_reads=opt, optimizer_writes=opt,
                           stash_writes=m * stashed_activations(model, t, d))
