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


def test_gaudi2_from_intel_s_figures():
    # 96 GB at 2.46 TB/s and 432 BF16 TFLOP/s: a ridge point of 432 / 2.46 = 175.6 FLOP/B; 21 of
    # 24 100 GbE ports to the 7 peers of an HLS-Gaudi2, 21 x 12.5 GB/s a direction.
    from llmhw.hardware.catalog import chips, systems

    g2 = chips()["gaudi2"]
    assert g2.family == chips()["gaudi3"].family == "intel-gaudi"
    assert g2.flops()["bf16"] / g2.memory_bandwidth_bytes_per_s == pytest.approx(432 / 2.46)
    assert g2.memory_capacity_bytes == pytest.approx(96e9) and g2.tdp_w == 600
    assert g2.scale_up.bandwidth_per_chip == pytest.approx(21 * 100e9 / 8)
    assert g2.scale_up.links_per_chip + g2.scale_out.links_per_chip == 24
    server = systems()["gaudi2-8"]
    assert server.chip.id == "gaudi2" and server.n_chips == g2.scale_up.domain_size == 8


def test_gaudi2_rows_run_as_intel_ran_them(cases):
    # Optimum Habana: the cards are the tensor-parallel ranks (no NeuronCore-style split), one
    # static batch prefilled in one pass; FP8 weights with an FP8 KV cache, which Llama 2 70B's
    # batch of 1,750 at 256 tokens needs on two 96 GB cards (a 16-bit cache alone is
    # 1750 x 256 x 80 layers x 2 x 8 heads x 128 x 2 B = 147 GB).
    from llmhw.accounting.fit import fit as fit_memory

    g = [c for c in cases if c.hardware == "gaudi2"]
    assert len(g) == 22 and {c.scenario["engine"] for c in g} == {"optimum-habana"}
    for c in g:
        assert c.scenario["parallelism"]["tp"] == c.scenario["n_chips"]
        assert "ranks_per_chip" not in c.scenario["parallelism"]
        assert c.scenario["precision"]["kv_cache"] == "fp8"
    big = [c for c in g if c.scenario["workload"]["batch"] == 1750][0]
    s = Scenario.from_dict(big.scenario)
    from llmhw.cost.params import profiles

    prof = profiles()[s.engine]
    assert prof.batching == "static" and not prof.pad_heads
    assert fit_memory(s).fits
    bf16 = Scenario.from_dict({**big.scenario, "precision": {**big.scenario["precision"], "kv_cache": "bf16"}})
    assert not fit_memory(bf16).fits


def test_gaudi2_rows_against_the_fitted_profile(cases):
    # Loose regression bounds on the shipped intel-gaudi fit (the report is in
    # docs/validation-new-chips.md): Intel's throughput and latency tables within 10% at the median.
    pts, failed = cal.prepare([c for c in cases if c.hardware == "gaudi2"])
    assert not failed
    ape = np.array([r.ape for r in cal.score(pts)])
    assert np.median(ape) < 0.10
