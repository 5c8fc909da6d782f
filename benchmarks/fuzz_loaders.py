"""Fuzz the config.json loader, ModelSpec and the scenario loader with many more cases than the
test suite runs.

    .venv/bin/python benchmarks/fuzz_loaders.py [--cases 200000] [--spec-cases 50000]
        [--scenario-cases 100000] [--seed 0]

Case i uses seed SEED + i, with the same generators and the same property as
tests/robustness/test_config_json.py (tests/robustness/hf_mutations.py): the loader either
refuses with one short LlmhwError line naming a config.json field, or returns a ModelSpec whose
every figure is finite, non-negative and consistent. Scenario cases (tests/robustness/
scenario_mutations.py, as tests/robustness/test_fuzz_scenario.py): the YAML text is refused on one
short line naming a field, or loaded and predicted with every number finite. A failing seed reported by Hypothesis (or by
this script) replays with ``--seed N --cases 1``. Reports cases per second, how many cases were
refused and answered, the slowest case, and every distinct failure (exit status 1 if any).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.robustness.hf_mutations import (  # noqa: E402
    check,
    check_spec_case,
    random_case,
    random_spec_case,
)
from tests.robustness.scenario_mutations import check as check_scenario  # noqa: E402
from tests.robustness.scenario_mutations import random_case as random_scenario  # noqa: E402

# Distinct failures printed in full; the rest are counted.
SHOWN_FAILURES = 10


def fuzz(label: str, n: int, seed: int, make: Callable[[random.Random], Any], prop: Callable[[Any], str]) -> int:
    outcomes: Counter[str] = Counter()
    failures: dict[tuple[str, str], int] = {}
    slowest = (0.0, seed)
    t0 = time.perf_counter()
    for i in range(n):
        s = seed + i
        t = time.perf_counter()
        try:
            outcomes[prop(make(random.Random(s)))] += 1
        except Exception as exc:  # noqa: BLE001 - any escape is the finding
            outcomes["failed"] += 1
            key = (type(exc).__name__, str(exc).splitlines()[0][:120] if str(exc) else "")
            if key not in failures:
                failures[key] = s
                if len(failures) <= SHOWN_FAILURES:
                    print(f"FAILURE at seed {s}: {key[0]}: {key[1]}")
                    traceback.print_exc(limit=4)
        dt = time.perf_counter() - t
        if dt > slowest[0]:
            slowest = (dt, s)
    wall = time.perf_counter() - t0
    print(f"{label}: {n} cases in {wall:.1f} s ({n / wall:,.0f} cases/s); "
          + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()))
          + f"; slowest {slowest[0] * 1e3:.1f} ms (seed {slowest[1]}); {len(failures)} distinct failures")
    return len(failures)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=200_000, help="config.json cases")
    ap.add_argument("--spec-cases", type=int, default=50_000, help="ModelSpec cases")
    ap.add_argument("--scenario-cases", type=int, default=100_000, help="scenario cases (each predicted)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the first case")
    a = ap.parse_args()
    bad = fuzz("config.json loader", a.cases, a.seed, random_case, check)
    bad += fuzz("ModelSpec", a.spec_cases, a.seed, random_spec_case, check_spec_case)
    bad += fuzz("scenario loader + predict", a.scenario_cases, a.seed, random_scenario, check_scenario)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
