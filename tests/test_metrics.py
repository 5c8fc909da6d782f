"""The serving model's typed hand-off (serving/metrics.py) and the flat arrays of llmhw.sweep say
the same thing, and the blocks of a large sweep join back into the values of one evaluation."""

import numpy as np
import pytest

import llmhw
from llmhw import api

HBF = {"model": "llama-3.1-70b", "hardware": "h200", "n_chips": 1, "precision": {"weights": "fp8", "kv_cache": "fp8"},
       "workload": {"input_tokens": 2048, "output_tokens": 256, "batch": 8},
       "overrides": {"chip.memory": ["hbm3e", "hbf"]}, "placement": {"weights": "hbf", "kv_cache": "hbm3e"}}


def test_flat_names_read_the_typed_fields():
    m = api.evaluate(HBF, batch=np.array([1, 8, 32]))
    a = llmhw.sweep(HBF, batch=np.array([1, 8, 32]))
    acc = m.decode.accounting
    for i in range(2):   # two tiers: HBM and HBF
        assert np.array_equal(a[f"decode_tier{i}_read_bytes"], acc.tier_read_bytes[i])
        assert np.array_equal(a[f"tier{i}_lifetime_days"], m.tiers[i].lifetime_days)
    assert np.array_equal(a["decode_step_s"], m.decode.time.total_s)
    # The weights sit in HBF, so a decode step reads every weight matrix there once: all weight
    # bytes but the input embedding, looked up row by row (128,256 x 8,192 at FP8), and the norm
    # vectors ((2 x 80 + 1) x 8,192, folded into the activations' pass).
    not_streamed = 128256 * 8192 * 1.0 + (2 * 80 + 1) * 8192 * 1.0
    assert np.allclose(acc.tier_read_bytes[1], m.memory.weights_bytes - not_streamed, rtol=1e-9)
    # memory_bytes is every tier's reads and writes; total_flops every datatype's FLOPs.
    by_hand = sum(a[k] for k in a if k.startswith("decode_tier") and k.endswith("_bytes"))
    assert np.allclose(acc.memory_bytes, by_hand, rtol=1e-12)
    assert np.allclose(acc.total_flops, sum(a[k] for k in a if k.startswith("decode_flops_")), rtol=1e-12)


def test_a_point_of_a_sweep_is_the_prediction():
    p = llmhw.predict(HBF)
    a = llmhw.sweep(HBF, batch=np.array([8]))
    for k, v in p.values.items():
        assert np.asarray(a[k]).ravel()[0] == pytest.approx(v, rel=1e-12), k
    assert p.tpot_s == p.to_dict()["tpot_s"] == p.metrics.tpot_s


def test_blocks_join_back():
    # More points than one block of the engine: the joined result equals pricing each point alone.
    from llmhw.serving.closed_loop import Engine

    n = Engine.BLOCK + 7
    batch = np.arange(1, n + 1) % 97 + 1.0
    big = llmhw.sweep(HBF, batch=batch)
    for i in (0, Engine.BLOCK - 1, Engine.BLOCK, n - 1):
        one = llmhw.sweep(HBF, batch=batch[i:i + 1])
        for k in ("tpot_s", "ttft_s", "decode_tier1_read_bytes", "tier0_used_bytes", "max_batch"):
            assert big[k][i] == pytest.approx(one[k][0], rel=1e-12), (k, i)
