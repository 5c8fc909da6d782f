"""Inferentia2 and Trainium1: their published measurements, mapped and scored (validation/new_chips.py)."""

import numpy as np
import pytest

from llmhw import Scenario
from llmhw.validation import calibrate as cal
from llmhw.validation.cases import NEW_CHIPS_CSV, load_cases


@pytest.fixture(scope="module")
def cases():
    cs, skips = load_cases(NEW_CHIPS_CSV)
    assert not skips                      # every row maps: no tp refused, no model or chip missing
    return cs


def test_neuroncores_are_ranks_and_heads_are_padded(cases):
    # Llama 3 8B on inf2.48xlarge at TP 24 NeuronCores: 12 chips of 2 ranks; int8 weight storage
    # with BF16 matmuls is W8A16.
    c = cases[0]
    assert c.hardware == "inferentia2" and c.scenario["engine"] == "transformers-neuronx"
    assert c.scenario["parallelism"]["tp"] == 12 and c.scenario["parallelism"]["ranks_per_chip"] == 2
    assert (c.scenario["precision"]["weights"], c.scenario["precision"]["compute"]) == ("int8", "bf16")
    run = Scenario.from_dict(c.scenario).run_model
    assert (run.n_heads, run.n_kv_heads) == (48, 24)      # 2 query heads and 1 KV head per NeuronCore
    trn = [x for x in cases if x.hardware == "trainium1"][0]
    assert trn.scenario["parallelism"]["tp"] * trn.scenario["parallelism"]["ranks_per_chip"] == 32


def test_shipped_profiles_against_the_new_chips(cases):
    # Loose bounds against regressions (docs/validation-new-chips.md has the report): decode time
    # is within about 10% at the median, TTFT is not (the tables contradict themselves).
    pts, failed = cal.prepare(cases)
    assert not failed
    rows = cal.score(pts)
    ape = np.array([r.ape for r in rows])
    tpot = np.array([r.ape for r in rows if r.metric == "tpot_s"])
    assert np.median(ape) < 0.20 and np.median(tpot) < 0.15
