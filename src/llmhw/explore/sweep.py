"""Sweeps: the engine's metrics and the economics over one broadcast grid of design points."""

from __future__ import annotations

from typing import Any

import numpy as np

from llmhw.economics.report import economics_arrays
from llmhw.scenario import Scenario
from llmhw.scenario.economics import EconomicsParams
from llmhw.serving.closed_loop import Engine
from llmhw.serving.metrics import Metrics


def as_scenario(s: Scenario | dict[str, Any]) -> Scenario:
    """A Scenario, or the same mapping as the YAML file, checked."""
    return s if isinstance(s, Scenario) else Scenario.from_dict(s)


def grid(s: Scenario, batch: Any = None, input_tokens: Any = None, output_tokens: Any = None) -> tuple[Any, Any, Any]:
    """The grid's three axes; a missing one takes the scenario's value (batch -1: 'max')."""
    w = s.workload
    b = (-1 if w.batch == "max" else w.batch) if batch is None else batch
    i = w.input_tokens if input_tokens is None else input_tokens
    o = w.output_tokens if output_tokens is None else output_tokens
    return b, i, o


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
    return evaluate(scenario, batch=batch, input_tokens=input_tokens, output_tokens=output_tokens).as_dict()


def sweep_economics(scenario: Scenario | dict[str, Any], params: EconomicsParams | None = None,
                    **engine_kw: Any) -> dict[str, np.ndarray]:
    """:func:`sweep` plus the economics arrays, over the same broadcast grid."""
    s = as_scenario(scenario)
    m = evaluate(s, **engine_kw)
    return {**m.as_dict(), **economics_arrays(m, s, params)}
