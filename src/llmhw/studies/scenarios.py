"""Scenario factories more than one study uses: the B200 with some of its HBM sites given to High
Bandwidth Flash (the HBF study, RQ2, and the interconnect study's system sizes), and the
1T-parameter MoE they serve (Kimi K2's shape)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

import llmhw
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


def _base_tier() -> Any:
    return lookup(HARDWARE).memory[0]


def design_label(n_hbf: int) -> str:
    if n_hbf == 0:
        return "B200: 8 HBM3E (180 GB, 8 TB/s)"
    hbm = _base_tier()
    k = SITES - n_hbf
    hbf = memory_presets()["hbf"]
    return (f"B200 with {k} HBM3E + {n_hbf} HBF ({hbm.capacity_bytes * k / SITES / 1e9:.0f} GB + "
            f"{hbf.capacity_bytes * n_hbf / 1e12:.0f} TB)")


def design_short(n_hbf: int) -> str:
    return "8 HBM3E" if n_hbf == 0 else f"{SITES - n_hbf} HBM3E + {n_hbf} HBF"


def design(n_hbf: int) -> tuple[dict[str, Any], dict[str, str]]:
    """(overrides, placement) of a B200 with ``n_hbf`` of its 8 HBM3E sites given to HBF stacks."""
    if n_hbf == 0:
        return {}, {}
    hbm, hbf = _base_tier(), memory_presets()["hbf"]
    k = SITES - n_hbf
    tiers = [{"tech": "hbm3e", "capacity_bytes": hbm.capacity_bytes * k / SITES,
              "bandwidth_bytes_per_s": hbm.bandwidth_bytes_per_s * k / SITES},
             {"tech": "hbf", "capacity_bytes": hbf.capacity_bytes * n_hbf,
              "bandwidth_bytes_per_s": hbf.bandwidth_bytes_per_s * n_hbf,
              "write_bandwidth_bytes_per_s": hbf.write_bandwidth_bytes_per_s * n_hbf}]
    return {"chip.memory": tiers}, {"weights": "hbf", "kv_cache": "hbm3e"}


def parallelism(model: ModelSpec, n: int) -> dict[str, int]:
    """MoE: attention data parallel, experts over all chips; dense: TP within 8, then PP."""
    if model.is_moe:
        return {"tp": 1, "dp": n, "ep": n}
    tp = min(n, 8)
    return {"tp": tp, "pp": n // tp}


def scenario(n_hbf: int, n: int, model: ModelSpec | None = None, weights: str = "fp8", batch: int = 64,
             extra: dict[str, Any] | None = None, placement: dict[str, str] | None = None,
             isl: int = ISL, osl: int = OSL) -> llmhw.Scenario:
    model = model or moe_1t()
    ov, pl = design(n_hbf)
    return llmhw.Scenario.from_dict({
        "model": model, "hardware": HARDWARE, "n_chips": n, "parallelism": parallelism(model, n),
        "precision": {"weights": weights, "kv_cache": "fp8"},
        "workload": {"input_tokens": isl, "output_tokens": osl, "batch": batch},
        "overrides": {**ov, **(extra or {})}, "placement": placement if placement is not None else pl})


def max_batch(n_hbf: int, n: int, model: ModelSpec, weights: str) -> int:
    """Largest batch that fits (0 when the weights alone do not)."""
    s = scenario(n_hbf, n, model, weights)    # weights its placement cannot hold: max_batch 0
    with np.errstate(all="ignore"):
        return int(llmhw.sweep(s, batch=-1)["max_batch"])


def chips_needed(n_hbf: int, model: ModelSpec, weights: str, requests: int = 1) -> tuple[int, int]:
    """(smallest power-of-two chip count whose memory holds the weights and ``requests`` requests
    of ISL + OSL tokens, the largest batch it holds)."""
    n = 1
    while n <= 1024:
        ok = (model.moe is None or model.moe.n_routed_experts % n == 0)
        mb = max_batch(n_hbf, n, model, weights) if ok else 0
        if mb >= requests:
            return n, mb
        n *= 2
    return 0, 0


def usable_weight_capacity(n_hbf: int) -> float:
    """Bytes per chip the weights may use: 0.9 (vLLM's memory_utilization) of the tier that holds them."""
    hbm, hbf = _base_tier(), memory_presets()["hbf"]
    cap = hbm.capacity_bytes if n_hbf == 0 else hbf.capacity_bytes * n_hbf
    return 0.9 * cap
