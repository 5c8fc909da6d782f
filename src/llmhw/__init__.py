"""llmhw: how large-language-model inference runs on real and hypothetical hardware.

    >>> import llmhw
    >>> m = llmhw.load_model("llama-3.1-70b")
    >>> s = llmhw.Scenario.from_dict({"model": "llama-3.1-70b", "hardware": "h100-sxm", "n_chips": 8,
    ...     "parallelism": {"tp": 8}, "precision": {"weights": "fp8", "kv_cache": "fp8"},
    ...     "workload": {"input_tokens": 1024, "output_tokens": 1024, "batch": 64}})
    >>> llmhw.fit(s).fits
    True
"""

from llmhw.accounting.fit import FitResult
from llmhw.api import (
    Prediction,
    find_chips,
    find_rate,
    fit,
    predict,
    search,
    simulate,
    sweep,
    train,
    whatif,
)
from llmhw.core import __version__
from llmhw.core.errors import LlmhwError
from llmhw.hardware.catalog import load_hardware
from llmhw.scenario import Parallelism, PrecisionSpec, Scenario, Workload
from llmhw.workload.catalog import load_model
from llmhw.workload.hf_config import load_hf_config, model_from_hf_config
from llmhw.workload.model import ModelSpec

__all__ = [
    "FitResult", "LlmhwError", "__version__", "ModelSpec", "Parallelism", "Prediction", "PrecisionSpec", "Scenario", "Workload",
    "find_chips", "find_rate", "fit", "predict", "search", "simulate", "sweep", "train", "whatif", "load_hardware", "load_hf_config", "load_model", "model_from_hf_config",
]
