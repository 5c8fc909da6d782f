"""Spoiled scenarios for fuzzing the scenario loader, and the property every answer must pass.

A case is a valid scenario with a few fields (anywhere in its blocks, or as override paths) set to
odd values, or deleted, written out as YAML text: the loader is the whole user path, YAML text
through llmhw's bounded reader to ``Scenario.from_dict``. The property: the loader refuses with
one short LlmhwError line naming a field, or builds a scenario whose prediction (when asked) has
every number finite. Shared by tests/robustness/test_fuzz_scenario.py and
benchmarks/fuzz_loaders.py (many more cases), so a failing seed replays in either.
"""

from __future__ import annotations

import json
import math
import random
from typing import Any

import llmhw
from llmhw.core.errors import MAX_ERROR_CHARS, LlmhwError
from llmhw.core.io import read_yaml
from llmhw.scenario import Scenario

# Valid starting points: dense, GQA on several chips, MoE with experts, MLA, a phone.
BASES: list[dict[str, Any]] = [
    {"model": "llama-3.1-8b", "hardware": "h100-sxm", "n_chips": 1,
     "workload": {"input_tokens": 512, "output_tokens": 64, "batch": 4}},
    {"model": "llama-3.1-70b", "hardware": "hgx-h100-8", "n_chips": 8, "parallelism": {"tp": 8},
     "precision": {"weights": "fp8", "kv_cache": "fp8"},
     "workload": {"input_tokens": 2048, "output_tokens": 256, "batch": "max"}},
    {"model": "mixtral-8x7b", "hardware": "mi300x", "n_chips": 2, "parallelism": {"tp": 2, "ep": 2},
     "workload": {"input_tokens": 1024, "output_tokens": 128, "batch": 16, "length_ratio": 0.5}},
    {"model": "deepseek-v3", "hardware": "b200", "n_chips": 8, "parallelism": {"tp": 8, "ep": 8},
     "precision": {"weights": "fp8", "kv_cache": "fp8"},
     "workload": {"input_tokens": 4096, "output_tokens": 512, "batch": 32}},
    {"model": "llama-3.2-1b", "hardware": "apple-a18-pro", "n_chips": 1,
     "workload": {"input_tokens": 128, "output_tokens": 128, "batch": 1}},
]

# Where a spoiled value goes: top-level fields, block fields, override paths, economics keys.
PLACES: list[tuple[str, ...]] = [
    ("model",), ("hardware",), ("n_chips",), ("engine",), ("compute_unit",),
    ("workload", "input_tokens"), ("workload", "output_tokens"), ("workload", "batch"),
    ("workload", "length_ratio"), ("workload", "prefill_chunk_tokens"), ("workload", "harness"),
    ("workload", "prefix_cached_tokens"), ("workload", "requests"), ("workload", "seed"),
    ("parallelism", "tp"), ("parallelism", "pp"), ("parallelism", "ep"), ("parallelism", "dp"),
    ("parallelism", "moe_dp"),
    ("precision", "weights"), ("precision", "kv_cache"), ("precision", "activations"),
    ("overrides", "chip.peak_flops.bf16"), ("overrides", "chip.memory[0].bandwidth_bytes_per_s"),
    ("overrides", "chip.memory[0].capacity_bytes"), ("overrides", "chip.memory[0].latency_s"),
    ("overrides", "interconnect.link.bandwidth_bytes_per_s"), ("overrides", "chip.tdp_w"),
    ("overrides", "chip.price_usd"), ("overrides", "chip.memory"), ("overrides", "no.such.path"),
    ("economics", "electricity_usd_per_kwh"), ("economics", "pue"), ("economics", "utilization"),
    ("economics", "service_life_years"), ("economics", "grid_gco2e_per_kwh"),
    ("placement",), ("workload",), ("parallelism",), ("precision",), ("overrides",), ("economics",),
    ("unknown_key",),
]

DELETE = object()

# Values that make sense at a place (the default: small whole numbers), so that about a third of
# the cases load and get predicted.
PLAUSIBLE: dict[tuple[str, ...], list[Any]] = {
    ("workload", "length_ratio"): [0.1, 0.5, 0.9, 1.0],
    ("workload", "batch"): [1, 8, 64, "max"],
    ("workload", "input_tokens"): [1, 128, 4096, 100_000], ("workload", "output_tokens"): [1, 64, 2048],
    ("precision", "weights"): ["fp8", "bf16", "fp4", "int4"], ("precision", "kv_cache"): ["fp8", "bf16"],
    ("overrides", "chip.peak_flops.bf16"): [1e12, 1e15, 1e18],
    ("overrides", "chip.memory[0].bandwidth_bytes_per_s"): [1e9, 3.35e12, 1e15],
    ("overrides", "chip.memory[0].capacity_bytes"): [8e9, 80e9, 1e13],
    ("overrides", "chip.memory[0].latency_s"): [1e-7, 1e-5],
    ("overrides", "interconnect.link.bandwidth_bytes_per_s"): [1e9, 4.5e11],
    ("overrides", "chip.tdp_w"): [5, 700, 5000], ("overrides", "chip.price_usd"): [100, 30000],
    ("overrides", "chip.memory"): [["hbm3e"], ["hbm3e", "hbf"]],
    ("economics", "pue"): [1.0, 1.3, 2.0], ("economics", "utilization"): [0.01, 0.5, 1.0],
    ("economics", "electricity_usd_per_kwh"): [0.0, 0.05, 0.3], ("economics", "service_life_years"): [1, 4, 10],
    ("economics", "grid_gco2e_per_kwh"): [0, 400, 900],
    ("engine",): ["vllm", "sglang", "trtllm", "ideal"], ("hardware",): ["h100-sxm", "b200", "mi300x"],
    ("model",): ["llama-3.1-8b", "qwen3-30b-a3b"], ("n_chips",): [1, 2, 8],
}

ODD: list[Any] = [
    0, -1, 1, 2, 3, 7, 8, 1024, 10**6, 10**12, 10**30, -(10**30), 10**400,
    0.0, -0.5, 0.5, 1.5, 1e-300, 1e300, math.nan, math.inf, -math.inf,
    True, False, None, "", "max", "abc", "1e3", "nan", "inf", "-1", "h100-sxm", "fp8", "bf16", "[/b]",
    "x" * 5000, [], [1, 2], ["hbm3e"], {}, {"value": 3, "unit": 5}, {"value": 1.0, "unit": "TB/s"},
    {"value": "nan", "unit": "GB"}, {"value": 1, "unit": "parsecs"}, {"a": {"b": {"c": 1}}},
]


def random_case(rng: random.Random) -> str:
    """A spoiled scenario as YAML text (one or two changes to one base)."""
    d = json.loads(json.dumps(rng.choice(BASES)))
    for _ in range(1 if rng.random() < 0.7 else 2):
        place = rng.choice(PLACES)
        value = DELETE if rng.random() < 0.1 else rng.choice(ODD)
        if rng.random() < 0.4:      # a plausible value, so that many cases are answered
            value = rng.choice(PLAUSIBLE.get(place, [1, 2, 4, 8, 64]))
        node = d
        for k in place[:-1]:
            if not isinstance(node.get(k), dict):
                node[k] = {}
            node = node[k]
        if value is DELETE:
            node.pop(place[-1], None)
        else:
            node[place[-1]] = value
    # JSON is YAML (flow style) and 30 times faster to write than block YAML; NaN and the
    # infinities are respelt as YAML writes them (.nan, .inf), which a user can write too.
    text = json.dumps(d, ensure_ascii=False)
    return text.replace("-Infinity", "-.inf").replace("Infinity", ".inf").replace("NaN", ".nan")


def check(text: str, predict: bool = True) -> str:
    """The property; returns 'refused', 'loaded' or 'answered'."""
    try:
        s = Scenario.from_dict(read_yaml(text, name="scenario.yaml", mapping=True))
        if not predict:
            return "loaded"
        out = llmhw.predict(s).to_dict()
    except LlmhwError as exc:
        line = str(exc)
        assert "\n" not in line and "\r" not in line, line[:300]
        assert len(line) <= MAX_ERROR_CHARS, f"{len(line)} characters: {line[:300]}"
        assert exc.field, line[:300]
        return "refused"
    json.dumps(out, allow_nan=False)               # every number finite
    return "answered"
