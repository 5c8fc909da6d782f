"""Energy, power, cost and carbon per token, from the engine's own accounting (docs/economics.md).

Data flows one way: ``economics`` reads a prediction's values (or a sweep's arrays) and the
scenario; the engine knows nothing of it except that ``Prediction.to_dict`` asks
:func:`llmhw.economics.report.economics_json` for the economics keys.
"""

from llmhw.economics.params import EconomicsParams
from llmhw.economics.report import economics_arrays, economics_detail, economics_of, sweep

__all__ = ["EconomicsParams", "economics_arrays", "economics_detail", "economics_of", "sweep"]
