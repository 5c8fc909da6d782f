"""The busiest expert-parallel group: closed form against hand values and a Monte Carlo of routing."""

import math

import numpy as np
import pytest

from llmhw.accounting.expert_load import busiest_group_load, normal_max_moments


def simulate(tokens: int, n_experts: int, top_k: int, ep: int, trials: int = 3000,
             seed: int = 0) -> tuple[float, float, float, float]:
    """Uniform top-k routing, counted per group: (touched mean, touched max, pairs mean, pairs max)."""
    rng = np.random.default_rng(seed)
    g = n_experts // ep
    out = np.zeros(4)
    chunk = max(1, 2_000_000 // (tokens * n_experts))
    done = 0
    while done < trials:
        r = min(chunk, trials - done)
        # k distinct experts per token: the k smallest of E uniform draws.
        pick = np.argpartition(rng.random((r, tokens, n_experts)), top_k - 1, axis=-1)[..., :top_k]
        flat = (np.arange(r)[:, None, None] * n_experts + pick).ravel()
        counts = np.bincount(flat, minlength=r * n_experts).reshape(r, ep, g)
        touched, pairs = (counts > 0).sum(-1), counts.sum(-1)
        out += [touched.mean(-1).sum(), touched.max(-1).sum(), pairs.mean(-1).sum(), pairs.max(-1).sum()]
        done += r
    return tuple(out / trials)


def test_normal_order_statistics_by_hand():
    # E[max of 2] = 1/sqrt(pi), E[max of 3] = 3/(2 sqrt(pi)); E[max^2] = 1 for 2 (the mean of
    # Z1^2 and Z2^2) and 1 + sqrt(3)/(2 pi) for 3.
    c2, s2 = normal_max_moments(2)
    c3, s3 = normal_max_moments(3)
    assert c2 == pytest.approx(1 / math.sqrt(math.pi), rel=1e-6)
    assert c3 == pytest.approx(3 / (2 * math.sqrt(math.pi)), rel=1e-6)
    assert s2 == pytest.approx(1.0, rel=1e-6)
    assert s3 == pytest.approx(1 + math.sqrt(3) / (2 * math.pi), rel=1e-6)
    assert normal_max_moments(1) == (0.0, 1.0)


def test_no_expert_parallelism_is_the_mean():
    n = np.array([0.0, 1.0, 8.0, 64.0, 4096.0])
    tm, tmax, pm, pmax = busiest_group_load(n, 256, 8, 1)
    np.testing.assert_array_equal(tmax, tm)
    np.testing.assert_array_equal(pmax, pm)
    np.testing.assert_allclose(tm, 256 * (1 - (1 - 8 / 256) ** n))
    np.testing.assert_allclose(pm, 8 * n)


def test_edges_by_hand():
    # Mixtral on EP8: one expert per group, a token picks 2 of them: the busiest group holds
    # exactly one expert and one pair, though the mean is a quarter.
    tm, tmax, pm, pmax = busiest_group_load(1.0, 8, 2, 8)
    assert (tm, pm) == (pytest.approx(0.25), pytest.approx(0.25))
    assert (tmax, pmax) == (pytest.approx(1.0), pytest.approx(1.0))
    # Many tokens touch every expert: each group reads all its E/ep experts.
    _, tmax, _, _ = busiest_group_load(1e5, 256, 8, 8)
    assert tmax == pytest.approx(32.0)
    # No tokens, no work.
    tm, tmax, pm, pmax = busiest_group_load(0.0, 256, 8, 8)
    assert tmax == 0.0 and pmax == 0.0
    # The busiest group never does less than the mean nor more than it can hold.
    n = np.geomspace(1, 1e5, 60)
    tm, tmax, pm, pmax = busiest_group_load(n, 256, 8, 8)
    assert np.all(tmax >= tm) and np.all(tmax <= 32.0) and np.all(pmax >= pm) and np.all(pmax <= 8 * n)
    # More tokens never lighten the busiest group.
    assert np.all(np.diff(tmax) >= -1e-9) and np.all(np.diff(pmax) > 0)


@pytest.mark.parametrize("experts, k, ep, tokens", [
    (256, 8, 8, 1), (256, 8, 8, 8), (256, 8, 8, 32), (256, 8, 8, 64),   # DeepSeek-V3, EP8
    (128, 8, 4, 1), (128, 8, 4, 16),                                     # Qwen3-235B-A22B, EP4
    (8, 2, 4, 1), (8, 2, 4, 8),                                          # Mixtral 8x7B, EP4
    (256, 8, 32, 32),                                                    # DeepSeek-V3, DEP32
])
def test_busiest_group_against_monte_carlo(experts, k, ep, tokens):
    tm, tmax, pm, pmax = busiest_group_load(float(tokens), experts, k, ep)
    mc = simulate(tokens, experts, k, ep)
    # The means are exact; the maxima within 5% (the error bound docs/engine.md states).
    assert tm == pytest.approx(mc[0], rel=0.02) and pm == pytest.approx(mc[2], rel=0.02)
    assert tmax / tm == pytest.approx(mc[1] / mc[0], rel=0.05)
    assert pmax / pm == pytest.approx(mc[3] / mc[2], rel=0.05)
