"""How much expert work lands on the busiest expert-parallel group in one MoE layer.

With expert parallelism the E routed experts are split into ``ep`` groups of E/ep experts, each
group on its own chips. N tokens each choose k distinct experts; with routing spread evenly, a
group's load is random, and a step waits for the busiest group. Two loads matter:

- experts *touched* in a group (each touched expert's weights are read once: bytes);
- token-expert *pairs* in a group (each pair is one token through one expert: FLOPs).

The means are exact: an expert is idle with probability r1^N, r1 = 1 - k/E, so a group touches
G (1 - r1^N) experts (G = E/ep), and receives N k / ep pairs. The expected *maximum* over the ep
groups has no closed form; we use a normal approximation with a skewness correction:

    E[max] ~ mean + sd_pair x (c_ep + skew / 6 x (s_ep - 1))

- ``sd_pair`` is sqrt(Var - Cov) of two groups' loads (the groups are negatively correlated:
  the pairs sum to N k; for exchangeable loads with correlation rho the maximum of normals is
  mean + sd sqrt(1 - rho) c_n exactly, and sd^2 (1 - rho) = Var - Cov). Both are exact:
  touched: Var - Cov = G (r1^N - r2^N) with r2 = r1 (1 - k/(E-1)) (the chance a token avoids
  two given experts); pairs: Var - Cov = N k/ep (E - k)/(E - 1) (multivariate hypergeometric).
- c_n = E[max of n standard normals], s_n = E[(max of n standard normals)^2]; the skew term is
  the Cornish-Fisher correction Z + skew/6 (Z^2 - 1), which maps the maximum to the maximum
  while it is monotone (negative skews are capped so that it stays so). ``skew`` is the binomial
  one of the group's load.
- The result is clipped to hard bounds: at least the mean and at least 1 (with N >= 1 token some
  group does work); at most the group's capacity (G experts, N min(k, G) pairs) and at most
  1 + ep (mean - P(load >= 1)), since max - 1 <= sum over groups of (load - 1)^+ when the max is
  at least 1. That last bound takes over when the loads are sparse (N k well below ep).

Against a Monte Carlo of uniform top-k routing (tests/test_expert_load.py) the estimate is within
5% for ep <= 8 (DeepSeek-V3, Qwen3-MoE, Mixtral, gpt-oss shapes) at any N, within 6% at EP16, and
high by up to 14% when the loads are sparse (EP32-64 with fewer tokens than ep / 4; with attention
data parallelism N >= dp = ep, where it is within 2.5%). ep = 1 returns the mean exactly.
The busiest group for bytes and for FLOPs need not be the same one; pricing each by its own
maximum is slightly pessimistic when both matter. Real routers are not uniform (popular experts,
choices correlated within a sequence), which usually adds imbalance on top of this floor.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np

# Near saturation (almost every expert of a group touched) the count's skew is large and negative
# and the Cornish-Fisher map Z + skew/6 (Z^2 - 1) stops rising at the maximum's typical z = c_n;
# a skew no lower than -1.5 / c_n keeps its slope there at least 1/2, so the estimate stays above
# the mean and never falls as tokens are added.
NEG_SKEW_CAP = 1.5


@cache
def normal_max_moments(n: int) -> tuple[float, float]:
    """E[M] and E[M^2] for M the maximum of n independent standard normals.

    One numerical integral of x^j n phi(x) Phi(x)^(n-1) per n, cached: ep is a small integer.
    """
    if n <= 1:
        return 0.0, 1.0
    x = np.linspace(-12.0, 12.0, 9601)
    cdf = 0.5 * (1.0 + np.array([math.erf(v / math.sqrt(2.0)) for v in x]))
    density = n * np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi) * cdf ** (n - 1)
    return float(np.trapezoid(x * density, x)), float(np.trapezoid(x * x * density, x))


def _max_estimate(mean: np.ndarray, sd_pair: np.ndarray, skew_times_sd: np.ndarray, ep: int,
                  capacity: np.ndarray | float, p_zero: np.ndarray, tokens: np.ndarray) -> np.ndarray:
    c, s = normal_max_moments(ep)
    skew_times_sd = np.maximum(skew_times_sd, -NEG_SKEW_CAP / c * sd_pair)
    est = mean + sd_pair * c + skew_times_sd * (s - 1.0) / 6.0
    upper = np.minimum(capacity, 1.0 + ep * (mean - (1.0 - p_zero)))
    return np.maximum(np.minimum(est, upper), np.maximum(mean, np.minimum(tokens, 1.0)))


def busiest_group_load(tokens: np.ndarray | float, n_experts: int, top_k: int,
                       ep: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Experts touched and token-expert pairs: (mean, busiest) per expert-parallel group each.

    ``tokens`` is N, the tokens routed together (an array over a sweep); returns arrays shaped
    like it: (touched mean, touched max, pairs mean, pairs max). With ep = 1 the max is the mean.
    """
    N = np.asarray(tokens, dtype=float)
    E, k = n_experts, top_k
    G = E / ep
    r1 = 1.0 - k / E
    idle = np.power(r1, N)
    touched = G * (1.0 - idle)
    pairs = N * k / ep
    if ep == 1:
        return touched, touched, pairs, pairs
    # A token's chance of choosing no expert of a given group (hypergeometric zero).
    miss = math.comb(E - E // ep, k) / math.comb(E, k)
    p_zero = np.power(miss, N)
    r2 = r1 * (1.0 - k / (E - 1))
    # Skewness x sd of a binomial count: (1 - 2p) sd / sqrt(n p (1 - p)); written so that it
    # stays finite when the variance vanishes (every expert touched, or no tokens).
    q = 1.0 - idle
    sd_t = np.sqrt(np.maximum(G * (idle - np.power(r2, N)), 0.0))
    skew_sd_t = (1.0 - 2.0 * q) * sd_t / np.sqrt(np.maximum(G * q * idle, 1e-300))
    p = 1.0 / ep
    sd_p = np.sqrt(N * k * p * (E - k) / (E - 1))
    skew_sd_p = (1.0 - 2.0 * p) * np.sqrt((E - k) / ((E - 1) * (1.0 - p))) * np.ones_like(N)
    touched_max = _max_estimate(touched, sd_t, skew_sd_t, ep, G, p_zero, N)
    pairs_max = _max_estimate(pairs, sd_p, skew_sd_p, ep, N * min(k, G), p_zero, N)
    return touched, touched_max, pairs, pairs_max
