"""llmhw: how large-language-model inference runs on real and hypothetical hardware.

    >>> import llmhw
    >>> m = llmhw.load_model("llama-3.1-70b")
    >>> s = llmhw.Scenario.from_dict({"model": "llama-3.1-70b", "hardware": "h100-sxm", "n_chips": 8,
    ...     "parallelism": {"tp": 8}, "precision": {"weights": "fp8", "kv_cache": "fp8"},
    ...     "workload": {"input_tokens": 1024, "output_tokens": 1024, "batch": 64}})
    >>> llmhw.fit(s).fits
    True
"""

from llmhw.engine.predict import Prediction, predict, sweep
from llmhw.errors import LlmhwError
from llmhw.hardware.catalog import load_hardware
from llmhw.mapping.fit import FitResult, fit
from llmhw.mapping.scenario import Parallelism, PrecisionSpec, Scenario, Workload
from llmhw.workload.catalog import load_model
from llmhw.workload.hf_config import load_hf_config, model_from_hf_config
from llmhw.workload.model import ModelSpec

__version__ = "0.1.0"

__all__ = [
    "FitResult", "LlmhwError", "ModelSpec", "Parallelism", "Prediction", "PrecisionSpec", "Scenario", "Workload",
    "fit", "predict", "sweep", "load_hardware", "load_hf_config", "load_model", "model_from_hf_config",
]
