"""RQ1 "compared to training": the trends study's chat workload against a training step of the same
model on the same chip, and what each of the paper's four directions does for each.

One model (Llama 3.1 70B) and one chip (H100 SXM) throughout, so the contrast is the workload's:

- Training: one optimizer step on 64 x H100 (8 HGX nodes over InfiniBand), TP8 inside a node, 4
  pipeline stages (interleaved, 5 virtual stages each), DP 2, ZeRO-1, selective recompute, Adam,
  8K-token sequences, 128 sequences (1M tokens) per step, micro-batch 1: the Megatron recipe shape
  with the model parallelism that fits in 80 GB (TP4 PP8, NVIDIA's published recipe, needs 79 GB
  per GPU in llmhw's memory model, over the 72 GB usable). BF16 and FP8 GEMMs.
- Inference: the trends study's chat run (FP8 weights and KV cache, 8 x H100 TP8, 1K in / 1K out,
  32 requests), its prefill of one 1K prompt and its decode step.

Each row comes from the engine: ``llmhw.api.train`` for training, the trends study's runs and
``llmhw.api.predict`` for inference. The directions are scenario overrides applied to both sides
(the same hardware change on the same chip); HBF, which would hold data rather than speed a step,
is judged by the bytes each workload writes per second against the HBF preset's write endurance.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from llmhw import api
from llmhw.core.units import DAYS_PER_YEAR, SECONDS_PER_DAY
from llmhw.hardware.catalog import memory_presets, stacked_from_dict
from llmhw.studies._trends_runs import (
    BATCH,
    NODE,
    SYSTEMS,
    TRENDS,
    Run,
    _scenario,
    peak,
    ridge,
    runs,
)
from llmhw.studies.base import Table
from llmhw.studies.scenarios import (
    FAST_BASE_S,
    FAST_HOP_S,
    STACK_GEN1,
    STACK_GEN2,
    STACK_M2,
    TDP_W,
    TRAIN_CHIPS,
    TRAIN_PARALLELISM,
    llama70b_training,
    low_latency_overrides,
    stacked_overrides,
)
from llmhw.workload.catalog import load_model

CHIP, SYSTEM = SYSTEMS[0]                 # H100 SXM, HGX H100 8-GPU node
CHAT = TRENDS[0]                          # Llama 3.1 70B, 1K in / 1K out
MODEL = CHAT.model
ACT_BYTES = 2                             # BF16 activations: what a TP all-reduce carries per value
HBF_PRESET = "hbf"                        # one 512 GB stack per chip, the paper's Table 3 figure
MODEL_UPDATES_PER_DAY = 1.0               # inference rewrites its weights when the model changes: daily, assumed


def training(precision: str = "bf16", overrides: dict[str, Any] | None = None, **changes: Any) -> Any:
    """The contrast's training step (studies/scenarios.py; ``changes`` replace fields of its
    training block)."""
    return api.train(llama70b_training(precision, overrides, **changes))


def inference(batch: int = BATCH, overrides: dict[str, Any] | None = None) -> api.Prediction:
    """The chat trend on one HGX H100 node at ``batch`` requests."""
    return api.predict(_scenario(CHAT, CHIP, SYSTEM, NODE, batch, overrides))


def _parallelism_text(p: Any) -> str:
    d = p.to_dict()["parallelism"]
    t = p.training
    vp = f", {t.virtual_stages} virtual stages" if t.virtual_stages > 1 else ""
    return f"{p.scenario.n_chips} x H100, TP{d['tp']} PP{d['pp']} DP{d['dp']}{vp}, ZeRO-{t.zero}"


def _training_row(p: Any, states_per_param: float) -> dict[str, Any]:
    d = p.to_dict()
    b, step = d["breakdown"], p.step_time_s
    t = p.training
    # Memory-bound seconds of the step: the optimizer's update and the element-wise kernels.
    mem_s = b["memory_s"] + p.cost.elementwise_s
    busiest = max(p.messages, key=lambda x: x["count_per_step"] * x["seconds_each"])
    m = p.memory
    copy_chips = p.scenario.n_chips / d["parallelism"]["dp"]
    return {
        "workload": f"Training step, {t.precision.upper()} GEMMs", "system": _parallelism_text(p),
        "tokens_per_step": p.tokens_per_step,
        "intensity_flop_per_byte": p.intensity, "ridge_flop_per_byte": ridge(CHIP, t.precision),
        "compute_bound_pct": 100 * (b["compute_s"] - (mem_s - b["memory_s"])) / step,
        "memory_bound_pct": 100 * mem_s / step,
        "communication_pct": 100 * b["communication_exposed_s"] / step,
        "other_pct": 100 * b["bubble_s"] / step,
        "share_of_peak_pct": 100 * p.mfu,
        "largest_collective": f"{busiest['purpose'].split('_')[0].upper()} {busiest['kind'].replace('_', '-')}",
        "message_mb": busiest["bytes"] / 1e6, "messages_per_step": busiest["count_per_step"],
        "latency_share_pct": 100 * busiest["latency_share"],
        "memory_bytes_per_param": m.total * copy_chips / p.scenario.model.total_params,
        "state_bytes_per_param": states_per_param,
        "power_w_per_chip": p.power_w_per_chip,
        "energy_j_per_token": d["energy_per_token_j"],
    }


def _inference_row(r: Run, pred: api.Prediction, phase: str) -> dict[str, Any]:
    """One phase of the chat run (trends study) as a contrast row; ``pred`` the same scenario's
    prediction (its latency/bandwidth split of communication, power and energy)."""
    c = getattr(r, phase)
    d = pred.to_dict()
    b = d["breakdown"][phase]
    tokens = r.batch if phase == "decode" else CHAT.input_tokens
    model = load_model(MODEL)
    mem_bytes = d["memory"]["total_bytes"] * r.n_chips / model.total_params
    comm = b["comm_latency_s"] + b["comm_bandwidth_s"]
    label = (f"Decode step, batch {r.batch}, FP8" if phase == "decode"
             else f"Prefill of one {CHAT.input_tokens // 1024}K prompt, FP8")
    return {
        "workload": label, "system": f"{r.n_chips} x H100, TP{r.tp}", "tokens_per_step": float(tokens),
        "intensity_flop_per_byte": c["flops"] / c["bytes"], "ridge_flop_per_byte": ridge(CHIP),
        "compute_bound_pct": 100 * c["compute_s"] / c["total_s"],
        "memory_bound_pct": 100 * (c["memory_weights_s"] + c["memory_kv_s"]) / c["total_s"],
        "communication_pct": 100 * c["comm_s"] / c["total_s"],
        "other_pct": 100 * (c["overhead_s"] + c["near_memory_s"]) / c["total_s"],
        "share_of_peak_pct": 100 * c["flops"] / c["total_s"] / peak(CHIP),
        "largest_collective": "TP all-reduce",
        "message_mb": tokens * model.hidden_size * ACT_BYTES / 1e6,
        "messages_per_step": 2 * model.n_layers,
        "latency_share_pct": 100 * b["comm_latency_s"] / comm if comm > 0 else 0.0,
        "memory_bytes_per_param": mem_bytes,
        "state_bytes_per_param": d["memory"]["weights_bytes"] * r.n_chips / model.total_params,
        "power_w_per_chip": d["power_w_per_chip"] if phase == "decode" else None,
        "energy_j_per_token": d["energy_j_per_token"] if phase == "decode" else None,
    }


# -- the directions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Direction:
    name: str              # the paper's direction
    what_if: str           # the hardware change, in words
    overrides: dict[str, Any]
    training_note: str = ""    # why the training step is not priced, when it is not


def _bandwidth_overrides(p: Any) -> dict[str, int]:
    """Twice the links per chip of training step ``p``'s scale-up and scale-out networks."""
    up, out = p.scenario.system.scale_up_network, p.scenario.system.scale_out_network
    return {"interconnect.links_per_chip": 2 * up.links_per_chip, "scale_out.links_per_chip": 2 * out.links_per_chip}


def _stack_text(preset: str, capacity_per_layer: float, thermal_cap: bool) -> str:
    """A 3D DRAM stack on the H100's die, in words."""
    t = stacked_from_dict({"tech": preset, "stack_area_m2": STACK_M2,
                           "capacity_per_layer_bytes": capacity_per_layer}).as_memory_tech()
    envelope = "under the stack's thermal cap" if thermal_cap else f"in the {TDP_W:.0f} W TDP with its memory, no thermal cap"
    return (f"DRAM stacked on the die ({preset}: {t.capacity_bytes / 1e9:.0f} GB, "
            f"{t.bandwidth_bytes_per_s / 1e12:.1f} TB/s) {envelope}")


def directions(base: Any) -> tuple[Direction, ...]:
    """The what-ifs, on top of the training step ``base``'s hardware where they need its figures."""
    return (
        Direction("3D memory-logic stacking", _stack_text(*STACK_GEN1, True), stacked_overrides(*STACK_GEN1)),
        Direction("3D memory-logic stacking", _stack_text(*STACK_GEN2, False),
                  stacked_overrides(*STACK_GEN2, thermal_cap=False)),
        Direction("Processing-near-memory", "PNM logic on the HBM (pnm-hbm preset: GEMV and decode attention)",
                  {"chip.near_memory": "pnm-hbm"},
                  training_note="no operator qualifies: a training GEMM has micro-batch x sequence = 8,192 rows"),
        Direction("Low-latency interconnect", f"software base {FAST_BASE_S * 1e6:.0f} us per collective, "
                  f"{FAST_HOP_S * 1e9:.0f} ns hops, no step synchronisation (scale-up and scale-out)",
                  low_latency_overrides("interconnect", "scale_out")),
        Direction("Interconnect bandwidth (for contrast)", "twice the links per chip (scale-up and scale-out)",
                  _bandwidth_overrides(base)),
    )


def _change(new: float, old: float) -> float:
    return 100 * (new / old - 1)


def _stack_notes(t: Any, i: api.Prediction) -> str:
    """The clock share each side's power envelope allows a 3D-stacked chip, from the engine's notes."""
    def share(notes: list[str]) -> str:
        return next((n.rsplit(" at ", 1)[-1].split(" ")[0] for n in notes if n.startswith("3D stack")), "")
    inf = share(i.notes)
    if not inf:
        return ""
    tr = share(t.notes) or "100%"
    return (f"clock and stack data rate at {tr} in training (the stack's power at the step's traffic), {inf} in "
            "inference (at the stack's full rate)")


def direction_rows(base_t: Any, base_i: api.Prediction) -> list[dict[str, Any]]:
    """Each direction's change against the training step ``base_t`` and the chat prediction ``base_i``."""
    base_1 = inference(1)
    rows = []
    for dr in directions(base_t):
        i, i1 = inference(overrides=dr.overrides), inference(1, dr.overrides)
        t = None if dr.training_note else training(overrides=dr.overrides)
        rows.append({
            "direction": dr.name, "what_if": dr.what_if,
            "training_step_change_pct": None if t is None else _change(t.step_time_s, base_t.step_time_s),
            "ttft_change_pct": _change(i.ttft_s, base_i.ttft_s),
            "tpot_change_pct": _change(i.tpot_s, base_i.tpot_s),
            "tpot_batch1_change_pct": _change(i1.tpot_s, base_1.tpot_s),
            "note": _stack_notes(t, i) or dr.training_note,
        })
    return rows


# -- HBF: what each workload would write into it ----------------------------------------------


def hbf_rows(train: Any, pred: api.Prediction) -> list[dict[str, Any]]:
    """Write rate per chip and the lifetime of one HBF stack per chip if it held each kind of data:
    lifetime = capacity x P/E cycles / write rate (perfect wear levelling, write amplification 1)."""
    hbf = memory_presets()[HBF_PRESET]
    cap, cycles = hbf.capacity_bytes, hbf.write_endurance_cycles
    step, tr = train.step_time_s, train.traffic
    model = load_model(MODEL)
    d = pred.to_dict()
    n = d["n_chips"]
    requests_per_s = d["output_tok_s"] / CHAT.output_tokens
    kv_per_chip_token = model.kv_cache_bytes_per_token("fp8") / d["parallelism"]["tp"]
    kv_rate = requests_per_s * (CHAT.input_tokens + CHAT.output_tokens) * kv_per_chip_token / n
    cases = (
        ("training", "optimizer states (FP32 master weights, Adam moments; the BF16 weights)", "every step",
         tr.optimizer_writes / step),
        ("training", "gradients (BF16, accumulated)", "every micro-batch", tr.gradient_writes / step),
        ("training", "activations kept for the backward", "every micro-batch", tr.stash_writes / step),
        ("inference", "weights (FP8)", "on a model update, daily (assumed)",
         d["memory"]["weights_bytes"] * MODEL_UPDATES_PER_DAY / SECONDS_PER_DAY),
        ("inference", f"KV cache of the chat load (batch {BATCH})", "every prompt and output token", kv_rate),
    )
    rows = []
    for workload, what, when, rate in cases:
        life_s = cap * cycles / rate
        rows.append({"workload": workload, "data": what, "written": when, "write_mb_s_per_chip": rate / 1e6,
                     "lifetime_days": life_s / SECONDS_PER_DAY,
                     "lifetime_years": life_s / SECONDS_PER_DAY / DAYS_PER_YEAR})
    return rows


# -- all of it --------------------------------------------------------------------------------


@dataclass
class Contrast:
    rows: list[dict[str, Any]]
    directions: list[dict[str, Any]]
    hbf: list[dict[str, Any]]
    train: Any                 # the BF16 training prediction
    train_fp8: Any
    chat: Run
    pred: api.Prediction       # the chat scenario at batch 32
    dp_message: dict[str, Any]  # the training step's DP gradient reduce-scatter


@cache
def contrast() -> Contrast:
    chat = next(r for r in runs() if r.trend is CHAT and r.chip == CHIP)
    train, train_fp8 = training(), training("fp8")
    states = training(zero=0).memory
    per_param = (states.weights + states.gradients + states.optimizer) * TRAIN_CHIPS \
        / TRAIN_PARALLELISM["dp"] / load_model(MODEL).total_params
    pred = inference()
    rows = [_training_row(train, per_param), _training_row(train_fp8, per_param),
            _inference_row(chat, pred, "prefill"), _inference_row(chat, pred, "decode")]
    dp = next(m for m in train.messages if m["purpose"] == "dp_grads")
    return Contrast(rows, direction_rows(train, pred), hbf_rows(train, pred), train, train_fp8, chat, pred, dp)


# -- what the report shows --------------------------------------------------------------------


def _by(rows: list[dict[str, Any]], key: str, start: str) -> dict[str, Any]:
    return next(r for r in rows if r[key].startswith(start))


def findings(c: Contrast) -> list[str]:
    """Three findings: the contrast itself, memory and energy (with HBF), and the directions."""
    bf, f8, pre, dec = c.rows
    hb = {r["data"].split(" ")[0]: r for r in c.hbf}
    fast, wide = _by(c.directions, "direction", "Low-latency"), _by(c.directions, "direction", "Interconnect bandwidth")
    pnm = _by(c.directions, "direction", "Processing")
    st1, st2 = (r for r in c.directions if r["direction"].startswith("3D"))
    hbf = memory_presets()[HBF_PRESET]
    return [
        f"Compared to training, on the same H100: a Llama 3.1 70B training step ({bf['system']}, "
        f"{bf['tokens_per_step'] / 2**20:.0f}M tokens) runs at {bf['intensity_flop_per_byte']:,.0f} FLOP/B, "
        f"{bf['intensity_flop_per_byte'] / bf['ridge_flop_per_byte']:.0f}x above the BF16 ridge, "
        f"{bf['compute_bound_pct']:.0f}% of its time in compute-bound kernels, at {bf['share_of_peak_pct']:.0f}% MFU "
        f"({f8['share_of_peak_pct']:.0f}% of the FP8 peak with FP8 GEMMs); the chat decode step runs at "
        f"{dec['intensity_flop_per_byte']:.0f} FLOP/B, {dec['ridge_flop_per_byte'] / dec['intensity_flop_per_byte']:.0f}x "
        f"below the FP8 ridge, at {dec['share_of_peak_pct']:.1f}% of peak FLOP/s "
        f"({bf['share_of_peak_pct'] / dec['share_of_peak_pct']:.0f}x less of the chip's compute); prefill sits "
        f"between ({pre['intensity_flop_per_byte']:,.0f} FLOP/B, {pre['share_of_peak_pct']:.0f}% of peak). "
        f"Training's collectives are large and bandwidth-bound: {bf['messages_per_step']:,} TP all-reduces of "
        f"{bf['message_mb']:.0f} MB per step ({bf['latency_share_pct']:.1f}% of their time is latency) and a "
        f"{c.dp_message['bytes'] / 1e9:.1f} GB DP gradient reduce-scatter ({100 * c.dp_message['latency_share']:.2f}%); "
        f"decode's are {dec['messages_per_step']} all-reduces of {dec['message_mb'] * 1e3:.0f} KB, "
        f"{dec['latency_share_pct']:.0f}% latency (prefill: {pre['message_mb']:.1f} MB, {pre['latency_share_pct']:.0f}%).",
        f"Training holds {bf['state_bytes_per_param']:.1f} bytes of model state per parameter (BF16 weights and "
        f"gradients, FP32 master weights and Adam moments, per model copy without ZeRO) and "
        f"{bf['memory_bytes_per_param']:.0f} in all with ZeRO-1 and the in-flight activations; inference "
        f"{dec['memory_bytes_per_param']:.2f} (FP8 weights {dec['state_bytes_per_param']:.1f}, the KV cache of "
        f"{BATCH} requests the rest). A training chip draws {bf['power_w_per_chip']:.0f} W against "
        f"{dec['power_w_per_chip']:.0f} W serving chat; {bf['energy_j_per_token']:.2f} J per trained token against "
        f"{dec['energy_j_per_token']:.2f} J per output token (host included). So HBF's capacity does little for "
        f"training: what it would hold is rewritten constantly. Per chip the gradients are written at "
        f"{hb['gradients']['write_mb_s_per_chip'] / 1e3:.0f} GB/s and the activations kept for the backward at "
        f"{hb['activations']['write_mb_s_per_chip'] / 1e3:.0f} GB/s, wearing a {hbf.capacity_bytes / 1e9:.0f} GB stack "
        f"of {hbf.write_endurance_cycles / 1e3:.0f}k-cycle flash out in {hb['gradients']['lifetime_days']:.0f} and "
        f"{hb['activations']['lifetime_days']:.0f} days; the optimizer states, written once a step, last "
        f"{hb['optimizer']['lifetime_years']:.1f} years; inference's chat KV cache "
        f"{hb['KV']['lifetime_years']:.0f} years and its weights, written once per model update, "
        f"{hb['weights']['lifetime_years']:,.0f}.",
        f"The directions split the same way. Twice the interconnect bandwidth cuts the training step "
        f"{-wide['training_step_change_pct']:.0f}% and TTFT {-wide['ttft_change_pct']:.0f}% but TPOT only "
        f"{-wide['tpot_change_pct']:.0f}%; the low-latency interconnect ({fast['what_if'].split(',')[0]}, "
        f"{FAST_HOP_S * 1e9:.0f} ns hops) cuts TPOT {-fast['tpot_change_pct']:.0f}% and the training step "
        f"{-fast['training_step_change_pct']:.1f}%. PNM on the HBM speeds batch-1 decode "
        f"{-pnm['tpot_batch1_change_pct']:.0f}% and has nothing to run in training (no GEMV). DRAM stacked on "
        f"the die under its thermal cap slows the compute-bound training step {st1['training_step_change_pct']:.0f}% "
        f"(the clock throttled) while batch-1 decode gains {-st1['tpot_batch1_change_pct']:.0f}%; in the "
        f"{TDP_W:.0f} W TDP without the cap (3 um pitch) training changes "
        f"{st2['training_step_change_pct']:+.0f}% and decode TPOT {st2['tpot_change_pct']:+.0f}% at batch {BATCH}, "
        f"{st2['tpot_batch1_change_pct']:+.0f}% at batch 1.",
    ]


def summary(c: Contrast) -> str:
    """The RQ1 summary's opening sentence: compared to training."""
    bf, dec = c.rows[0], c.rows[3]
    return (f"Compared to training on the same H100 ({bf['share_of_peak_pct']:.0f}% MFU, "
            f"{bf['intensity_flop_per_byte']:,.0f} FLOP/B, {bf['message_mb']:.0f} MB bandwidth-bound collectives, "
            f"{bf['state_bytes_per_param']:.0f} B of state per parameter), decode runs at "
            f"{dec['share_of_peak_pct']:.1f}% of peak and {dec['intensity_flop_per_byte']:.0f} FLOP/B, its "
            f"{dec['message_mb'] * 1e3:.0f} KB all-reduces {dec['latency_share_pct']:.0f}% latency, "
            f"{dec['memory_bytes_per_param']:.1f} B per parameter.")


def tables(c: Contrast) -> list[Table]:
    return [
        Table("training_vs_inference", "Compared to training: one chip (H100), one model (Llama 3.1 70B), "
              "training step vs prefill vs decode", c.rows,
              note=("Training: llmhw.train (docs/training.md; 7.8% median step-time error on 30 published runs), "
                    "8K-token sequences, 128 per step, micro-batch 1, Adam, selective recompute, interleaved 1F1B; "
                    "TP8 PP4 rather than NVIDIA's published TP4 PP8 recipe, which needs 79 GB per GPU in llmhw's "
                    "memory model (72 GB usable). Inference: the chat trend (FP8 weights and KV cache, 8 x H100 "
                    f"TP8, 1K in / 1K out, {BATCH} requests). Intensity: FLOPs per byte of HBM traffic per chip "
                    "(training: the step's weight, gradient, activation and optimizer reads and writes, GEMM tile "
                    "re-reads not counted, a lower bound on bytes); ridge: the chip's peak at the GEMM datatype / "
                    "HBM bandwidth. Shares of the step: training's compute-bound share is its GEMMs and attention, "
                    "memory-bound its element-wise kernels and optimizer update, other its pipeline bubble; "
                    "inference's other is host overhead. Share of peak: MFU for training (model FLOPs, every "
                    "attention pair), executed FLOPs / step time / FP8 peak for inference. Collective: the one "
                    "that takes most of the step's communication time; latency share = its time with one byte / "
                    "its time. Bytes per parameter: memory per chip x the chips of one model copy / parameters; "
                    "state: training without ZeRO (weights, gradients, optimizer), inference its weights. Power: "
                    "the chip alone (inference: the mean over a request); energy per token includes the host "
                    "(training: per trained token; inference: per output token, its prefill included).")),
        Table("directions_training_vs_inference", "The paper's directions applied to training and to inference "
              "(change of step time, TTFT and TPOT)", c.directions,
              note=("The same override on the same H100 for both workloads (the training step of the first table; "
                    f"the chat trend at batch {BATCH} and at batch 1). 3D stacking: the stacking study's designs on "
                    "the H100's 814 mm2 die; the logic and the stack share the chip's power envelope "
                    "(hardware/package.py): training prices the stack's power at the step's own traffic, the "
                    "inference engine at the stack's full rate for both phases, which overstates the TTFT loss "
                    "(prefill streams a small share of the stack). PNM: the pnm-hbm preset, which takes GEMV and "
                    "decode attention where they run faster on it; at batch 32 it takes nothing. Low latency: "
                    "as the interconnect study's fastest design, on scale-up and scale-out. Bandwidth: twice the "
                    "links per chip, for contrast with latency. HBF: see the next table.")),
        Table("hbf_writes_training_vs_inference", "HBF endurance: how long a stack lasts holding each workload's data",
              c.hbf,
              note=(f"One {memory_presets()[HBF_PRESET].capacity_bytes / 1e9:.0f} GB HBF stack per chip (the hbf "
                    f"preset), {memory_presets()[HBF_PRESET].write_endurance_cycles:,.0f} program/erase cycles "
                    "(estimated: a secondary figure; TLC NAND is rated 1-3k), perfect wear levelling and a write "
                    "amplification of 1: lifetime = capacity x cycles / write rate, an upper bound. Write rates "
                    "per chip from the training step's HBM traffic (llmhw.train: hbm_traffic_per_chip) and the "
                    "chat trend's steady state (every prompt and output token's FP8 KV written once). Weights: "
                    "rewritten once a day (assumed).")),
    ]
