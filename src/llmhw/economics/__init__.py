"""Energy, power, cost and carbon per token, from the engine's own accounting (docs/economics.md).

Data flows one way: ``economics`` reads the serving model's accounting and the scenario; the
public API (``llmhw.api``) joins the two for ``predict`` and ``sweep_economics``.
"""

from llmhw.economics.report import economics_arrays, economics_detail, economics_of
from llmhw.scenario.economics import EconomicsParams

__all__ = ["EconomicsParams", "economics_arrays", "economics_detail", "economics_of"]
