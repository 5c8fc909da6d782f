"""Sweeps: the engine's metrics and the economics over one broadcast grid of design points.

The grid's axes (``batch``, ``input_tokens``, ``output_tokens``) are checked before any pricing:
numbers (not strings or booleans), finite, whole, at least 1 (``batch`` -1 means 'max', the largest
batch that fits), inside the ranges of core.units.RANGES, broadcastable together, and no more points
than the grid bound there. Every number a sweep returns is finite (:func:`check_finite`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from llmhw.core.errors import LlmhwError, shown
from llmhw.core.units import RANGES
from llmhw.economics.report import economics_arrays
from llmhw.scenario import Scenario
from llmhw.scenario.economics import EconomicsParams
from llmhw.serving.closed_loop import Engine
from llmhw.serving.metrics import Metrics

# The axes of a grid and the RANGES unit of each.
AXES: dict[str, str] = {"batch": "requests", "input_tokens": "tokens", "output_tokens": "tokens"}


def as_scenario(s: Scenario | dict[str, Any]) -> Scenario:
    """A Scenario, or the same mapping as the YAML file, checked."""
    return s if isinstance(s, Scenario) else Scenario.from_dict(s)


def _axis(name: str, v: Any) -> np.ndarray:
    """One axis of the grid as a float array, checked; errors name the argument."""
    unit = AXES[name]
    hi = RANGES[unit].hi
    accepted = f"whole numbers from 1 to {hi:,.0f}" + (", or -1 for 'max'" if name == "batch" else "")
    try:
        a = np.asarray(v)
    except (ValueError, TypeError):
        raise LlmhwError("expected a number or an array of numbers (the lists have different lengths?)",
                         field=name, accepted=accepted) from None
    if a.dtype.kind not in "iuf":
        raise LlmhwError(f"expected numbers, got {shown(v)} ({a.dtype.name})", field=name, accepted=accepted)
    if a.size == 0:
        raise LlmhwError("an empty array has no points to price", field=name, accepted=accepted)
    a = a.astype(float)
    if not np.all(np.isfinite(a)):
        raise LlmhwError(f"must be finite, got {a[~np.isfinite(a)].ravel()[0]}", field=name, accepted=accepted)
    if not np.all(a == np.floor(a)):
        raise LlmhwError(f"must be whole numbers, got {a[a != np.floor(a)].ravel()[0]:g}", field=name,
                         accepted=accepted)
    ok = (a >= 1) & (a <= hi)
    if name == "batch":
        ok |= a == -1
    if not np.all(ok):
        raise LlmhwError(f"{a[~ok].ravel()[0]:g} is out of range", field=name, accepted=f"{accepted} ({RANGES[unit].why})")
    return a


def grid(s: Scenario, batch: Any = None, input_tokens: Any = None, output_tokens: Any = None) -> tuple[Any, Any, Any]:
    """The grid's three axes, checked and broadcast; a missing one takes the scenario's value
    (batch -1: 'max')."""
    w = s.workload
    b = (-1 if w.batch == "max" else w.batch) if batch is None else batch
    i = w.input_tokens if input_tokens is None else input_tokens
    o = w.output_tokens if output_tokens is None else output_tokens
    axes = {name: _axis(name, v) for name, v in zip(AXES, (b, i, o), strict=True)}
    try:
        shape = np.broadcast_shapes(*(a.shape for a in axes.values()))
    except ValueError:
        raise LlmhwError("the arrays do not broadcast together: "
                         + ", ".join(f"{k} {a.shape}" for k, a in axes.items()), field="batch, input_tokens, output_tokens",
                         accepted="shapes numpy broadcasts, e.g. batch[:, None] against input_tokens[None, :]") from None
    points = int(np.prod(shape, dtype=float))
    if points > RANGES["grid points"].hi:
        raise LlmhwError(f"the grid has {points:,} points", field="batch, input_tokens, output_tokens",
                         accepted=f"at most {RANGES['grid points'].hi:,.0f} ({RANGES['grid points'].why})")
    return axes["batch"], axes["input_tokens"], axes["output_tokens"]


def check_finite(values: dict[str, Any], s: Scenario, axes: tuple[Any, Any, Any] | None = None) -> None:
    """Every number of a valid prediction or sweep is finite (a tier's lifetime may be infinite:
    it does not wear). One that is not is a bug in llmhw, reported as an error naming the metric
    and the inputs that produced it, never handed on as NaN. ``axes``: the sweep's grid, to name
    the point."""
    for key, v in _numbers(values):
        if key.endswith("lifetime_days"):
            continue
        a = np.asarray(v, dtype=float)
        bad = ~np.isfinite(a)
        if not bad.any():
            continue
        w = s.workload
        where = f"{w.input_tokens} in / {w.output_tokens} out, batch {w.batch}"
        if axes is not None and a.ndim:
            at = np.unravel_index(int(np.argmax(bad)), a.shape)
            b, i, o = (np.broadcast_to(x, a.shape)[at] for x in axes)
            where = f"{i:g} in / {o:g} out, batch {b:g}"
        par = s.parallelism
        raise LlmhwError(
            f"llmhw computed {a[bad].ravel()[0]} for {s.model.id} on {s.n_chips} x {s.chip.id} ({s.engine} engine, "
            f"tp {par.tp} pp {par.pp} ep {par.ep} dp {par.dp}, {where}, overrides "
            f"{', '.join(sorted(map(str, s.overrides))[:5]) or 'none'}): a bug; please report it with this scenario",
            field=key)


def _numbers(node: Any, path: str = "") -> list[tuple[str, Any]]:
    """The numbers (and numeric arrays) in a nested mapping, by dotted path."""
    if isinstance(node, dict):
        return [x for k, v in node.items() for x in _numbers(v, f"{path}.{k}" if path else str(k))]
    if isinstance(node, list | tuple):
        return [x for i, v in enumerate(node) for x in _numbers(v, f"{path}[{i}]")]
    if node is None or isinstance(node, bool | str):
        return []
    return [(path, node)]


def evaluate(scenario: Scenario | dict[str, Any], *, batch: Any = None, input_tokens: Any = None,
             output_tokens: Any = None) -> Metrics:
    """Typed metrics over the broadcast of the keyword arrays (missing ones take the scenario's
    value; batch -1 means 'max')."""
    s = as_scenario(scenario)
    return Engine(s).evaluate(*grid(s, batch, input_tokens, output_tokens))


def sweep(scenario: Scenario | dict[str, Any], *, batch: Any = None, input_tokens: Any = None,
          output_tokens: Any = None) -> dict[str, np.ndarray]:
    """Vectorized metrics: the keyword arrays broadcast together (missing ones take the
    scenario's value; batch -1 means 'max'). Returns one numpy array per metric name."""
    s = as_scenario(scenario)
    axes = grid(s, batch, input_tokens, output_tokens)
    out = Engine(s).evaluate(*axes).as_dict()
    check_finite(out, s, axes)
    return out


def sweep_economics(scenario: Scenario | dict[str, Any], params: EconomicsParams | None = None,
                    **engine_kw: Any) -> dict[str, np.ndarray]:
    """:func:`sweep` plus the economics arrays, over the same broadcast grid."""
    s = as_scenario(scenario)
    unknown = sorted(set(engine_kw) - set(AXES))
    if unknown:
        raise LlmhwError("unknown argument", field=unknown[0], accepted=", ".join(AXES))
    axes = grid(s, **engine_kw)
    m = Engine(s).evaluate(*axes)
    out = {**m.as_dict(), **economics_arrays(m, s, params)}
    check_finite(out, s, axes)
    return out
