"""Fuzzing the scenario loader: ten thousand spoiled scenarios (tests/robustness/scenario_mutations.py),
each refused on one short line naming a field, or loaded; one in ten of the loaded ones is also
predicted, and every number of the prediction must be finite."""

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.robustness.scenario_mutations import check, random_case


# One seed per case (drawing one integer is the cheapest thing Hypothesis generates), so the time
# goes to the loader. A failure reports its seed; `benchmarks/fuzz_loaders.py --seed N --cases 0
# --spec-cases 0 --scenario-cases 1` replays it (with its prediction).
@settings(max_examples=10_000, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**64 - 1))
def test_fuzz_scenario_loader(seed):
    check(random_case(random.Random(seed)), predict=seed % 10 == 0)


def test_the_fuzz_reaches_every_outcome():
    # The property would pass vacuously if every case were refused: count the outcomes of a
    # fixed sample and require both refusals and answers.
    seen = {check(random_case(random.Random(s))) for s in range(300)}
    assert {"refused", "answered"} <= seen
