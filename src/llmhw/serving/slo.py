"""Service-level objectives of a simulated run: ``ttft_s.p99<=2``, ``tpot_s.mean<=0.05``.

An SLO on a percentile holds for a run when that percentile of the run meets the limit
(:func:`met`); a request is *good* when its own latencies meet every limit (:func:`good`), and
goodput is good requests per second, the DistServe / MLPerf sense of "requests served within SLO".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from llmhw.core.errors import LlmhwError

# Per-request latencies an SLO may limit (keys of simulate's output, arrays of the Requests).
LATENCIES = ("ttft_s", "tpot_s", "e2e_s", "queue_s")
STATS = ("mean", "p50", "p90", "p99")
_RULE = re.compile(r"^\s*([a-z_]+)(?:\.([a-z0-9]+))?\s*(<=|<)\s*([-+0-9.eE]+)\s*$")


@dataclass(frozen=True)
class Slo:
    key: str        # ttft_s, tpot_s, e2e_s, queue_s
    stat: str       # mean, p50, p90, p99
    limit: float    # seconds

    def __str__(self) -> str:
        return f"{self.key}.{self.stat}<={self.limit:g}"


def parse(texts: Sequence[str]) -> list[Slo]:
    """``KEY[.mean|.p50|.p90|.p99]<=SECONDS`` each; a bare key limits its mean."""
    rules = []
    for text in texts:
        m = _RULE.match(text if isinstance(text, str) else "")
        if not m:
            raise LlmhwError(f"expected KEY[.mean|.p50|.p90|.p99]<=SECONDS, got {text!r}", field="--slo",
                             accepted="e.g. ttft_s.p99<=2, tpot_s.mean<=0.05")
        key, stat, limit = m.group(1), m.group(2) or "mean", float(m.group(4))
        if key not in LATENCIES:
            raise LlmhwError(f"unknown latency '{key}' in {text!r}", field="--slo", accepted=", ".join(LATENCIES))
        if stat not in STATS:
            raise LlmhwError(f"unknown statistic '{stat}' in {text!r}", field="--slo", accepted=", ".join(STATS))
        if not np.isfinite(limit) or limit <= 0:
            raise LlmhwError(f"the limit must be a positive number of seconds, got {text!r}", field="--slo")
        rules.append(Slo(key, stat, limit))
    return rules


def met(summary: dict[str, Any], rules: Sequence[Slo]) -> bool:
    """Whether a run's percentiles meet every rule (NaN, from a run with nothing finished, fails)."""
    return all(summary[r.key][r.stat] <= r.limit for r in rules)


def good(latencies: dict[str, np.ndarray], rules: Sequence[Slo]) -> np.ndarray:
    """Per request: its own latencies within every limit (a request's p99 is its value)."""
    ok = np.ones(next(iter(latencies.values())).shape, dtype=bool)
    for r in rules:
        ok &= latencies[r.key] <= r.limit
    return ok
