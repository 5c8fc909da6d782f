"""The scenarios the claims study runs through the engine, shared by its row builders."""

from __future__ import annotations

from typing import Any

import llmhw
from llmhw.hardware.catalog import lookup


def pred(s: dict[str, Any]) -> dict[str, Any]:
    """One prediction as the JSON contract's mapping."""
    return llmhw.predict(s).to_dict()


def l70(hw: str, n: int, batch: int, **kw: Any) -> dict[str, Any]:
    """Llama 3.1 70B in FP8 (weights and KV cache), 1K in / 1K out, tensor parallel over ``n`` chips."""
    s: dict[str, Any] = {"model": "llama-3.1-70b", "hardware": hw, "n_chips": n, "parallelism": {"tp": n},
                         "precision": {"weights": "fp8", "kv_cache": "fp8"},
                         "workload": {"input_tokens": 1024, "output_tokens": 1024, "batch": batch}}
    s.update(kw)
    return s


def h200_with_hbf() -> tuple[dict[str, Any], str]:
    """Override of an H200's memory as two tiers, its own HBM3E and one HBF stack, and the HBM
    tier's id (for placements)."""
    h = lookup("h200").memory[0]
    tier = {"tech": h.id, "capacity_bytes": h.capacity_bytes, "bandwidth_bytes_per_s": h.bandwidth_bytes_per_s}
    return {"chip.memory": [tier, "hbf"]}, h.id


# The near-memory study's setup (studies/near_memory.py: BASE): Llama 3.1 70B in BF16 on an HGX
# H100 (TP 8), 1K in / 1K out. The PNM energy claim is judged on the same system.
NEAR_MEMORY_BASE: dict[str, Any] = {
    "model": "llama-3.1-70b", "hardware": "hgx-h100-8", "n_chips": 8, "parallelism": {"tp": 8},
    "precision": {"weights": "bf16", "kv_cache": "bf16"},
    "workload": {"input_tokens": 1024, "output_tokens": 1024, "batch": 1},
}
