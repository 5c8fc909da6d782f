"""Prefill/decode disaggregation: two pools of chips, one scenario each, serving one workload.

The YAML is a scenario with a ``disaggregation:`` block; the pools take the scenario's model,
precision, workload and engine, and their own chip count, mapping and (optionally) hardware::

    disaggregation:
      prefill: {n_chips: 2, parallelism: {tp: 2}}
      decode:  {n_chips: 6, parallelism: {tp: 2, dp: 3}, hardware: h200}

The scenario's own ``n_chips`` and ``parallelism`` are not used (``n_chips``, when given, must
be the two pools' sum).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmhw.core.errors import LlmhwError
from llmhw.core.io import read_yaml
from llmhw.scenario.scenario import Scenario

POOLS = ("prefill", "decode")
_POOL_KEYS = ("n_chips", "parallelism", "hardware", "engine")


@dataclass(frozen=True)
class Disaggregated:
    """The two pools as checked scenarios."""

    prefill: Scenario
    decode: Scenario

    @property
    def n_chips(self) -> int:
        return self.prefill.n_chips + self.decode.n_chips

    @classmethod
    def from_dict(cls, d: Any, *, base_dir: Path | None = None) -> Disaggregated:
        if not isinstance(d, dict) or not isinstance(d.get("disaggregation"), dict):
            raise LlmhwError("expected a mapping with prefill and decode pools", field="disaggregation",
                             accepted="disaggregation: {prefill: {n_chips, parallelism}, decode: {...}}")
        block = d["disaggregation"]
        for k in block:
            if k not in POOLS:
                raise LlmhwError("unknown pool", field=f"disaggregation.{k}", accepted="prefill, decode")
        pools = {}
        for name in POOLS:
            p = block.get(name)
            where = f"disaggregation.{name}"
            if not isinstance(p, dict):
                raise LlmhwError("missing or not a mapping", field=where, accepted="{n_chips, parallelism, hardware?}")
            for k in p:
                if k not in _POOL_KEYS:
                    raise LlmhwError("unknown field", field=f"{where}.{k}", accepted=", ".join(_POOL_KEYS))
            if "n_chips" not in p:
                raise LlmhwError("missing required field", field=f"{where}.n_chips")
            sub = {k: v for k, v in d.items() if k not in ("disaggregation", "n_chips", "parallelism")}
            sub.update({k: v for k, v in p.items()})
            sub.setdefault("parallelism", {"tp": p["n_chips"]} if type(p["n_chips"]) is int else {})
            try:
                pools[name] = Scenario.from_dict(sub, base_dir=base_dir)
            except LlmhwError as exc:
                raise LlmhwError(exc.detail, field=f"{where}.{exc.field}" if exc.field else where,
                                 accepted=exc.accepted) from None
        out = cls(pools["prefill"], pools["decode"])
        n = d.get("n_chips")
        if n is not None and n != out.n_chips:
            raise LlmhwError(f"n_chips ({n}) must be the pools' sum, {out.prefill.n_chips} + {out.decode.n_chips}",
                             field="n_chips")
        return out

    @classmethod
    def from_yaml(cls, path: str | Path) -> Disaggregated:
        p = Path(path)
        return cls.from_dict(read_yaml(p, field="scenario", mapping=True), base_dir=p.parent)
