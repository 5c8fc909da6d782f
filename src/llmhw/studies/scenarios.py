"""Scenario factories more than one study uses: the B200 with some of its HBM sites given to High
Bandwidth Flash at the site's bandwidth (the HBF study, RQ2, and the interconnect study's system
sizes), a B200-class package with HBM4 sites, and the 1T-parameter MoE they serve (Kimi K2's shape)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

import llmhw
from llmhw.core.errors import LlmhwError
from llmhw.hardware.catalog import lookup, memory_presets
from llmhw.workload.model import ModelSpec

HARDWARE = "b200"
SITES = 8                         # memory stacks on a B200's shoreline
ISL, OSL = 8192, 1024             # a long-context (agentic / reasoning) request

# Kimi K2 (moonshotai/Kimi-K2-Instruct config.json), in DeepSeek-V3's config format.
MOE_1T_CONFIG: dict[str, Any] = {
    "model_type": "deepseek_v3", "architectures": ["DeepseekV3ForCausalLM"],
    "hidden_size": 7168, "intermediate_size": 18432, "moe_intermediate_size": 2048,
    "num_hidden_layers": 61, "first_k_dense_replace": 1, "moe_layer_freq": 1,
    "n_routed_experts": 384, "num_experts_per_tok": 8, "n_shared_experts": 1,
    "num_attention_heads": 64, "num_key_value_heads": 64, "kv_lora_rank": 512, "q_lora_rank": 1536,
    "qk_nope_head_dim": 128, "qk_rope_head_dim": 64, "v_head_dim": 128, "vocab_size": 163840,
    "max_position_embeddings": 131072, "n_group": 1, "topk_group": 1, "norm_topk_prob": True,
    "scoring_func": "sigmoid", "topk_method": "noaux_tc", "tie_word_embeddings": False,
    "rms_norm_eps": 1e-6, "rope_theta": 50000.0, "hidden_act": "silu",
}


@lru_cache(maxsize=1)
def moe_1t() -> ModelSpec:
    """The 1T-parameter-class MoE of these studies (Kimi-K2's shape; see the module doc)."""
    return llmhw.model_from_hf_config(dict(MOE_1T_CONFIG), model_id="moe-1t")


# -- the designs -----------------------------------------------------------------------------
#
# A package has SITES memory sites on its shoreline; each holds a DRAM stack or an HBF stack behind
# the same interface, so a design gives both kinds of stack the site's bandwidth (iso-bandwidth):
#
# - "hbm3e": the B200 as shipped, 8 HBM3E sites of 22.5 GB at 1.0 TB/s each (its 180 GB and 8 TB/s
#   over 8); an HBF stack on such a site reads at the site's 1.0 TB/s, not its own 1.638 TB/s.
# - "hbm4": a hypothetical B200-class package with HBM4-6400 sites, 48 GB at 1.638 TB/s (the
#   paper's Table 3 comparison point, equal to the HBF stack's read bandwidth).

SITE_KINDS = ("hbm3e", "hbm4")


def _base_tier() -> Any:
    return lookup(HARDWARE).memory[0]


def site(kind: str = "hbm3e") -> tuple[str, float, float]:
    """(DRAM preset id, capacity of one DRAM stack, interface bandwidth) of one memory site."""
    if kind == "hbm3e":
        t = _base_tier()
        return t.id, t.capacity_bytes / SITES, t.bandwidth_bytes_per_s / SITES
    if kind == "hbm4":
        # HBM4-6400: 2048 pins x 6.4 Gb/s / 8 = 1638 GB/s, which the paper gives the HBF stack too.
        return "hbm4", memory_presets()["hbm4"].capacity_bytes, memory_presets()["hbf"].bandwidth_bytes_per_s
    raise LlmhwError(f"unknown memory site {kind!r}", field="site", accepted=", ".join(SITE_KINDS))


def _dram_name(kind: str) -> str:
    return site(kind)[0].upper()


def design_label(n_hbf: int, kind: str = "hbm3e") -> str:
    dram, cap, bw = site(kind)
    k = SITES - n_hbf
    pkg = "B200" if kind == "hbm3e" else "B200-class, HBM4 sites"
    if n_hbf == 0:
        return f"{pkg}: {k} {dram.upper()} ({cap * k / 1e9:.0f} GB, {bw * k / 1e12:.1f} TB/s)"
    hbf = memory_presets()["hbf"]
    return (f"{pkg}: {k} {dram.upper()} + {n_hbf} HBF at {bw / 1e12:.2f} TB/s per site "
            f"({cap * k / 1e9:.0f} GB + {hbf.capacity_bytes * n_hbf / 1e12:.0f} TB)")


def design_short(n_hbf: int, kind: str = "hbm3e") -> str:
    d = _dram_name(kind)
    return f"{SITES} {d}" if n_hbf == 0 else f"{SITES - n_hbf} {d} + {n_hbf} HBF"


def design(n_hbf: int, kind: str = "hbm3e") -> tuple[dict[str, Any], dict[str, str]]:
    """(overrides, placement) of a package with ``n_hbf`` of its 8 sites given to HBF stacks, every
    stack at the site's interface bandwidth (the HBF write bandwidth scaled with it)."""
    if n_hbf == 0 and kind == "hbm3e":
        return {}, {}
    dram, cap, bw = site(kind)
    hbf = memory_presets()["hbf"]
    k = SITES - n_hbf
    tiers: list[dict[str, Any]] = [{"tech": dram, "capacity_bytes": cap * k, "bandwidth_bytes_per_s": bw * k}]
    if n_hbf == 0:
        return {"chip.memory": tiers}, {}
    write = hbf.write_bandwidth_bytes_per_s * bw / hbf.bandwidth_bytes_per_s
    tiers.append({"tech": "hbf", "capacity_bytes": hbf.capacity_bytes * n_hbf, "bandwidth_bytes_per_s": bw * n_hbf,
                  "write_bandwidth_bytes_per_s": write * n_hbf})
    return {"chip.memory": tiers}, {"weights": "hbf", "kv_cache": dram}


def parallelism(model: ModelSpec, n: int) -> dict[str, int]:
    """MoE: attention data parallel, experts over all chips; dense: TP within 8, then PP."""
    if model.is_moe:
        return {"tp": 1, "dp": n, "ep": n}
    tp = min(n, 8)
    return {"tp": tp, "pp": n // tp}


def scenario(n_hbf: int, n: int, model: ModelSpec | None = None, weights: str = "fp8", batch: int = 64,
             extra: dict[str, Any] | None = None, placement: dict[str, str] | None = None,
             isl: int = ISL, osl: int = OSL, kind: str = "hbm3e") -> llmhw.Scenario:
    model = model or moe_1t()
    ov, pl = design(n_hbf, kind)
    return llmhw.Scenario.from_dict({
        "model": model, "hardware": HARDWARE, "n_chips": n, "parallelism": parallelism(model, n),
        "precision": {"weights": weights, "kv_cache": "fp8"},
        "workload": {"input_tokens": isl, "output_tokens": osl, "batch": batch},
        "overrides": {**ov, **(extra or {})}, "placement": placement if placement is not None else pl})


def max_batch(n_hbf: int, n: int, model: ModelSpec, weights: str, kind: str = "hbm3e") -> int:
    """Largest batch that fits (0 when the weights alone do not)."""
    s = scenario(n_hbf, n, model, weights, kind=kind)    # weights its placement cannot hold: max_batch 0
    with np.errstate(all="ignore"):
        return int(llmhw.sweep(s, batch=-1)["max_batch"])


def chips_needed(n_hbf: int, model: ModelSpec, weights: str, requests: int = 1,
                 kind: str = "hbm3e") -> tuple[int, int]:
    """(smallest power-of-two chip count whose memory holds the weights and ``requests`` requests
    of ISL + OSL tokens, the largest batch it holds)."""
    n = 1
    while n <= 1024:
        ok = (model.moe is None or model.moe.n_routed_experts % n == 0)
        mb = max_batch(n_hbf, n, model, weights, kind) if ok else 0
        if mb >= requests:
            return n, mb
        n *= 2
    return 0, 0


def usable_weight_capacity(n_hbf: int, kind: str = "hbm3e") -> float:
    """Bytes per chip the weights may use: 0.9 (vLLM's memory_utilization) of the tier that holds them."""
    _, cap, _ = site(kind)
    hbf = memory_presets()["hbf"]
    return 0.9 * (cap * SITES if n_hbf == 0 else hbf.capacity_bytes * n_hbf)


# -- what-ifs the stacking, interconnect and trends studies share --------------------------------

DIE_M2 = 814e-6                  # GH100 (H100, H200)
TDP_W = 700.0                    # H100 SXM and H200 SXM
STACK_M2 = 400e-6                # a 3D stack covers about half of the die
# The catalog's 3D DRAM presets with the capacity per layer the studies give them (over STACK_M2).
STACK_GEN1 = ("3d-dram-soic-gen1", 12e9)
STACK_GEN2 = ("3d-dram-hybrid-bond-gen2", 16e9)


def stacked_overrides(preset: str, capacity_per_layer: float, power_exponent: float = 1.0,
                      thermal_cap: bool = True) -> dict[str, Any]:
    """Scenario overrides that put a catalog 3D DRAM stack over STACK_M2 of a GH100-sized die in
    place of its HBM; without ``thermal_cap`` only the chip's TDP bounds the logic and the stack."""
    spec: dict[str, Any] = {"tech": preset, "stack_area_m2": STACK_M2, "capacity_per_layer_bytes": capacity_per_layer,
                            "clock_power_exponent": power_exponent}
    if not thermal_cap:
        spec["max_logic_power_density_w_per_m2"] = None
    return {"chip.die_area_m2": DIE_M2, "chip.stacked": spec, "chip.memory": []}


FAST_BASE_S = 1.0e-6             # software base of a low-overhead collective library (device-initiated)
FAST_HOP_S = 1e-7                # a hop of a low-latency fabric


def low_latency_overrides(*networks: str) -> dict[str, float]:
    """The low-latency interconnect what-if on each named network ("interconnect" = scale-up,
    "scale_out"): FAST_BASE_S per collective, FAST_HOP_S per hop, no per-step synchronisation."""
    fast = {"software_latency_s": FAST_BASE_S, "hop_latency_s": FAST_HOP_S, "sync_latency_s": 0.0}
    return {f"{net}.{k}": v for net in networks for k, v in fast.items()}


# -- a training step beside inference (RQ1, "compared to training") ----------------------------

# Llama 3.1 70B on 64 x H100 (8 HGX nodes over InfiniBand): the Megatron recipe's sequence, batch,
# ZeRO-1 and interleaved schedule, with TP8 PP4 (NVIDIA's published TP4 PP8 needs 79 GB per GPU in
# llmhw's memory model, over the 72 GB usable).
TRAIN_MODEL, TRAIN_CHIP, TRAIN_CHIPS = "llama-3.1-70b", "h100-sxm", 64
TRAIN_PARALLELISM = {"tp": 8, "pp": 4, "dp": 2}
TRAINING = {"sequence_length": 8192, "global_batch_sequences": 128, "micro_batch": 1, "optimizer": "adam",
            "recompute": "selective", "zero": 1, "pipeline_schedule": "interleaved", "virtual_stages": 5}


def llama70b_training(precision: str = "bf16", overrides: dict[str, Any] | None = None,
                      **changes: Any) -> dict[str, Any]:
    """The training scenario (``changes`` replace fields of its training block)."""
    return {"model": TRAIN_MODEL, "hardware": TRAIN_CHIP, "n_chips": TRAIN_CHIPS, "parallelism": TRAIN_PARALLELISM,
            "training": {**TRAINING, "precision": precision, **changes}, "overrides": overrides or {}}
