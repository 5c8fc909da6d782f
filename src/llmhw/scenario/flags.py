"""The scenario fields that command-line flags set (``--tp 8`` sets ``parallelism.tp``): one
table for the CLI's quick flags (llmhw/cli_flags.py) and the web explorer's command-line export
(llmhw/web/logic.py), so the two spell every field the same way."""

from __future__ import annotations

# flag name (``--n-chips`` is ``n_chips``) -> the field's path in the scenario mapping
FLAG_PATHS: dict[str, tuple[str, ...]] = {
    "model": ("model",), "hardware": ("hardware",), "n_chips": ("n_chips",),
    "tp": ("parallelism", "tp"), "pp": ("parallelism", "pp"), "ep": ("parallelism", "ep"),
    "dp": ("parallelism", "dp"), "weights": ("precision", "weights"), "kv_cache": ("precision", "kv_cache"),
    "compute": ("precision", "compute"), "ranks_per_chip": ("parallelism", "ranks_per_chip"),
    "input_tokens": ("workload", "input_tokens"), "output_tokens": ("workload", "output_tokens"),
    "batch": ("workload", "batch"), "engine": ("engine",),
}
