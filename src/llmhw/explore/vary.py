"""Varied paths: ``PATH=V1,V2,...`` lists and ``PATH=LO..HI[:log|lin][:N]`` ranges, parsed once for
``whatif`` and ``search``, and applied to a scenario (an override path, or a scenario field such
as ``engine``, ``n_chips``, ``hardware`` or ``precision.weights``)."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

from llmhw.core.errors import LlmhwError, shown
from llmhw.core.io import read_yaml
from llmhw.core.units import RANGES, canonical_unit, number_string, whole_number
from llmhw.hardware.catalog import load_hardware
from llmhw.hardware.whatif import is_list_path
from llmhw.scenario import Scenario
from llmhw.workload.catalog import load_model

# Scenario fields a search may vary directly (the rest are override paths: chip.*, interconnect.*).
SCENARIO_PATHS = ("engine", "n_chips", "hardware", "model", "compute_unit")
BLOCK_PATHS = ("precision", "workload")

_QUANTITY = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([A-Za-zµμ][A-Za-z/0-9 ]*?)\s*$")
_RANGE = re.compile(r"^\s*([-+0-9.eE]+)\s*\.\.\s*([-+0-9.eE]+)\s*(?::\s*(log|lin))?\s*(?::\s*(\d+))?\s*$")


def _scalar(item: str, spec: str) -> Any:
    item = item.strip()
    if not item:
        raise LlmhwError(f"empty value in {shown(spec)}", field="--vary")
    try:
        # The bounded loader a scenario file gets (no alias bombs), on text typed at a prompt.
        v = read_yaml(item, name="--vary")
    except LlmhwError:
        v = item                        # not YAML: the text itself (a name such as hbm3e+hbf)
    if isinstance(v, list | dict):
        v = item
    v = number_string(v)
    m = _QUANTITY.match(v) if isinstance(v, str) else None
    if m and canonical_unit(m.group(2)) is not None:
        # '9.6 TB/s' typed at a prompt: the quantity a YAML override would write out, whose unit
        # the field then checks (a bandwidth in TB is refused).
        return {"value": float(m.group(1)), "unit": m.group(2)}
    return v


def parse_value(item: str, where: str = "--vary") -> Any:
    """One value as typed at a prompt or in a sweep spec: a YAML scalar (number, name), or a
    quantity such as '9.6 TB/s' as the ``{value, unit}`` a YAML override would write."""
    return _scalar(item, where)


def parse_vary(spec: str) -> tuple[str, list[Any]]:
    """``PATH=V1,V2,...`` -> (path, values). Values are YAML scalars (numbers, names). Alternatives
    are separated by ``,``, or by ``;`` when the text has one; for a path that holds a list
    (``chip.memory``) each alternative is ``+``-joined items: ``chip.memory=hbm3e;hbm3e+hbf``.
    ``LO..HI[:log|lin][:N]`` is N values from LO to HI (default: log-spaced, 10)."""
    path, eq, text = (spec or "").partition("=")
    path = path.strip()
    if not eq or not path or not text.strip():
        raise LlmhwError(f"expected PATH=V1,V2,... or PATH=LO..HI:log:N, got {shown(spec)}", field="--vary",
                         accepted="e.g. interconnect.hop_latency_s=5e-8,1e-7 or "
                                  "chip.memory[0].bandwidth_bytes_per_s=1e12..2e13:log:20")
    most = RANGES["varied values"]
    m = _RANGE.match(text)
    if m:
        try:
            lo, hi = float(m.group(1)), float(m.group(2))
        except ValueError:
            raise LlmhwError(f"bad range {shown(text)}: LO and HI must be numbers", field=f"--vary {path[:80]}",
                             accepted="e.g. 1e12..2e13:log:20") from None
        kind, n = m.group(3) or "log", int(m.group(4) or 10)
        if not (math.isfinite(lo) and math.isfinite(hi)) or n < 1 or (kind == "log" and (lo <= 0 or hi <= 0)) \
                or hi < lo:
            raise LlmhwError(f"bad range {shown(text)}: need finite LO <= HI, N >= 1, and LO > 0 for log",
                             field=f"--vary {path[:80]}", accepted="e.g. 1e12..2e13:log:20")
        if n > most.hi:
            raise LlmhwError(f"{n:,} values asked", field=f"--vary {path[:80]}",
                             accepted=f"at most {most.hi:,.0f} ({most.why})")
        vals = np.geomspace(lo, hi, n) if kind == "log" else np.linspace(lo, hi, n)
        return path, [float(v) for v in vals]
    alts = text.split(";") if ";" in text else text.split(",")
    if len(alts) > most.hi:
        raise LlmhwError(f"{len(alts):,} values given", field=f"--vary {path[:80]}",
                         accepted=f"at most {most.hi:,.0f} ({most.why})")
    if is_list_path(path):
        return path, [[_scalar(x, spec) for x in alt.split("+")] for alt in alts]
    return path, [_scalar(a, spec) for a in alts]


def apply(s: Scenario, assignment: dict[str, Any]) -> Scenario:
    """The scenario with each varied path set: scenario fields and blocks directly, every other
    path as an override on top of the scenario's own."""
    fields: dict[str, Any] = {}
    blocks: dict[str, dict[str, Any]] = {}
    overrides = dict(s.overrides)
    for path, v in assignment.items():
        head, _, rest = path.partition(".")
        if path in SCENARIO_PATHS:
            fields[path] = v
        elif head in BLOCK_PATHS and rest:
            blocks.setdefault(head, {})[rest] = v
        else:
            overrides[path] = v
    # A catalog id names the chip or model itself (Scenario.replace takes the loaded spec).
    if isinstance(fields.get("hardware"), str):
        fields["hardware"] = load_hardware(fields["hardware"])
    if isinstance(fields.get("model"), str):
        fields["model"] = load_model(fields["model"])
    if "n_chips" in fields:
        # A new chip count invalidates the mapping: start from plain replicas (search remaps).
        fields["n_chips"] = whole_number(fields["n_chips"], "chips", "n_chips")
        fields["parallelism"] = {"tp": 1, "pp": 1, "ep": 1, "dp": fields["n_chips"]}
    return s.replace(**fields, **blocks, overrides=overrides)
