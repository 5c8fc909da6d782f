"""What is asked: the scenario's value types, schema and loading."""

from llmhw.scenario.scenario import Scenario, check_parallelism
from llmhw.scenario.values import PLACEMENT_CLASSES, Parallelism, PrecisionSpec, Workload

__all__ = ["PLACEMENT_CLASSES", "Parallelism", "PrecisionSpec", "Scenario", "Workload", "check_parallelism"]
