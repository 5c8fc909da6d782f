"""Driving the simulator (serving/simulate.py) for one engine: draw the requests a scenario asks
for, run one replica, summarise, and answer the questions users ask of it: goodput under SLOs,
and the highest rate that meets them.

A run is long enough when its arrivals span many request lifetimes; a short one sees mostly the
empty system filling up and its throughput and percentiles say little about a steady state. With
``min_lifetimes`` the run is lengthened (once) until its arrivals span that many mean end-to-end
times, up to :data:`MAX_REQUESTS`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from llmhw.core.errors import LlmhwError
from llmhw.core.units import check_number, whole_number
from llmhw.serving import slo as slo_
from llmhw.serving.closed_loop import Engine
from llmhw.serving.simulate import (
    Requests,
    gamma_arrivals,
    poisson_arrivals,
    policy_of,
    run,
    summarize,
)
from llmhw.workload.lengths import sample as sample_lengths
from llmhw.workload.traces import read_trace

# The most requests a lengthened run simulates (all replicas): about 10 s of event loop.
MAX_REQUESTS = 200_000


def simulated_requests(v: Any) -> int:
    """A run's request count (an argument or ``workload.requests``): a whole number in range."""
    return whole_number(v, "simulated requests", "requests", least=10)


def seed_of(v: Any) -> int:
    """A run's seed (an argument or ``workload.seed``): a whole number in range (core.units.RANGES)."""
    return whole_number(v, "seed", "seed", least=0)


def _load(engine: Engine, rate_per_s: float | None, concurrency: int | None,
          requests: int) -> tuple[float, float, int | None, tuple[np.ndarray, ...] | None]:
    """(rate, gap cv, concurrency, trace) from the arguments, else the scenario's arrival."""
    w = engine.scenario.workload
    spec = w.arrival
    cv, trace = 1.0, None
    if rate_per_s is None and concurrency is None:
        if spec is None:
            raise LlmhwError("give a rate, a concurrency, or workload.arrival in the scenario", field="rate_per_s",
                             accepted="--rate R, --concurrency N, or workload: {arrival: {process: poisson, rate_per_s: R}}")
        if spec.process == "closed":
            concurrency = spec.concurrency
        elif spec.process == "trace":
            trace = read_trace(spec.path)
            used = min(requests, trace[0].size)
            span = float(trace[0][used - 1])
            rate_per_s = (used - 1) / span if span > 0 else 1.0
        else:
            rate_per_s, cv = spec.rate_per_s, spec.cv if spec.process == "gamma" else 1.0
    if concurrency is not None:
        concurrency = whole_number(concurrency, "requests", "concurrency")
        rate_per_s = 1.0                      # unused: arrivals follow completions
    else:
        rate_per_s = check_number(rate_per_s, "requests/s", "rate_per_s")
        if not rate_per_s > 0:
            raise LlmhwError(f"must be a positive rate, got {rate_per_s!r}", field="rate_per_s")
    return float(rate_per_s), cv, concurrency, trace


def _requests(engine: Engine, rate_per_s: float, cv: float, concurrency: int | None,
              trace: tuple[np.ndarray, ...] | None, requests: int, seed: int,
              dp: int | None = None) -> tuple[np.ndarray, ...]:
    """Arrival times, prompt and output tokens of the simulated replica's requests (of one of
    ``dp`` replicas, by default the scenario's; 1: every request of the deployment)."""
    s = engine.scenario
    w = s.workload
    dp = s.parallelism.dp if dp is None else dp
    if trace is not None:
        # The first ``requests`` rows, dealt round-robin: replica 0 (the one simulated) gets every dp-th.
        if min(requests, trace[0].size) < 10:
            raise LlmhwError(f"a trace needs at least 10 requests, {w.arrival.path} has {trace[0].size}",
                             field="workload.arrival.path")
        return tuple(x[:requests][::dp] for x in trace)
    n = max(10, requests // dp)
    rng = np.random.default_rng(seed + 1)
    arrival = poisson_arrivals(rate_per_s / dp, n, seed) if cv == 1.0 else gamma_arrivals(rate_per_s / dp, cv, n, seed)
    if w.lengths is not None:
        isl, osl = sample_lengths(w.lengths, n, rng)
    else:
        lo = w.length_ratio
        isl = np.maximum(np.round(w.input_tokens * rng.uniform(lo, 1.0, n)), 1).astype(int)
        osl = np.maximum(np.round(w.output_tokens * rng.uniform(lo, 1.0, n)), 1).astype(int)
    return arrival, isl, osl


def _goodput(req: Requests, replicas: int, rules: Sequence[slo_.Slo], warmup: float = 0.1) -> tuple[float, float]:
    """(good requests a second over all replicas, share of finished requests that are good), over
    the same requests and span as :func:`summarize`'s throughput."""
    n = req.arrival.size
    keep = np.arange(n) >= int(warmup * n)
    done = req.done & keep
    if not done.any():
        return 0.0, 0.0
    span = float(req.finish[done].max() - req.arrival[keep].min())
    lat = {"ttft_s": req.ttft, "tpot_s": req.tpot, "e2e_s": req.e2e, "queue_s": req.queue}
    good = slo_.good(lat, rules) & done
    return replicas * float(good.sum()) / span, float(good.sum()) / float(done.sum())


def simulate(engine: Engine, rate_per_s: float | None = None, requests: int | None = None, seed: int | None = None,
             concurrency: int | None = None, slo: Sequence[str] = (), min_lifetimes: float = 0.0) -> dict[str, Any]:
    """One replica of the engine's scenario under the load (see ``llmhw.api.simulate``)."""
    s = engine.scenario
    w, dp = s.workload, s.parallelism.dp
    requests = simulated_requests(w.requests if requests is None else requests)
    seed = seed_of(w.seed if seed is None else seed)
    rules = slo_.parse(slo)
    rate, cv, concurrency, trace = _load(engine, rate_per_s, concurrency, requests)
    closed = max(1, -(-concurrency // dp)) if concurrency is not None else 0
    if closed and closed >= max(10, requests // dp):
        # With as many in flight as there are requests nothing is ever replaced: one batch that
        # arrives at once, not a closed loop (its arrival rate would be infinite).
        raise LlmhwError(f"a closed loop of {concurrency:,} in flight needs more requests than that: the first "
                         f"{concurrency:,} start together and the rest replace finished ones; {requests:,} simulated",
                         field="concurrency", accepted=f"a concurrency below {requests:,} (per data-parallel replica "
                         "too), or more requests (--requests, workload.requests; at most 2,000,000)")
    spec = w.speculative
    policy = policy_of(engine)

    def once(n_requests: int) -> tuple[Requests, dict[str, Any], np.ndarray, np.ndarray]:
        arrival, isl, osl = _requests(engine, rate, cv, concurrency, trace, n_requests, seed)
        req = run(engine, arrival, isl, osl, policy, closed, w.prefix_cached_tokens,
                  spec.draft_tokens if spec else 0, spec.tokens_per_step if spec else 1.0)
        return req, summarize(req, dp, s.n_chips), isl, osl

    req, out, isl, osl = once(requests)
    lifetimes = _lifetimes(req)
    if min_lifetimes > 0 and trace is None and not closed and lifetimes < min_lifetimes and requests < MAX_REQUESTS:
        requests = min(MAX_REQUESTS, int(math.ceil(requests * 1.2 * min_lifetimes / max(lifetimes, 0.05))))
        req, out, isl, osl = once(requests)
        lifetimes = _lifetimes(req)
    # The lengths simulated (drawn or from the trace), per request, on the simulated replica.
    out["mean_input_tokens"], out["mean_output_tokens"] = float(np.mean(isl)), float(np.mean(osl))
    out["rate_per_s"] = out["arrival_rate_per_s"] if concurrency is not None else rate
    out["lifetimes"] = lifetimes
    if concurrency is not None:
        out["concurrency"] = concurrency
    if rules:
        out["slo"] = [str(r) for r in rules]
        out["slo_met"] = slo_.met(out, rules) and not out["saturated"]
        out["goodput_req_s"], out["good_share"] = _goodput(req, dp, rules)
    return out


def _lifetimes(req: Requests) -> float:
    """How many mean request lifetimes the arrivals span: a steady state needs many."""
    done = req.done
    if not done.any():
        return 0.0
    life = float(np.mean(req.finish[done] - req.arrival[done]))
    span = float(req.arrival[np.isfinite(req.arrival)].max() - req.arrival.min())
    return span / life if life > 0 else float("inf")


def find_rate(run_at: Callable[[float], dict[str, Any]], slo: Sequence[str], lo: float = 0.01, hi: float = 1.0e5,
              tolerance: float = 0.05, log: Callable[[str], None] = lambda s: None) -> dict[str, Any]:
    """The highest rate at which ``run_at(rate)`` (a simulation) meets every SLO and does not
    saturate: bisection on a log scale to ``tolerance``. Returns that run's results with
    ``rate_per_s``; ``rate_per_s`` is 0 when even ``lo`` fails."""
    rules = slo_.parse(slo)
    if not rules:
        raise LlmhwError("give at least one SLO", field="--slo", accepted="e.g. ttft_s.p99<=2")

    def meets(rate: float) -> tuple[bool, dict[str, Any]]:
        r = run_at(rate)
        ok = not r["saturated"] and slo_.met(r, rules)
        log(f"{rate:.4g} requests/s: " + ("within the SLOs" if ok else "saturated" if r["saturated"] else "misses an SLO"))
        return ok, r

    ok, res = meets(lo)
    if not ok:
        return {**res, "rate_per_s": 0.0, "slo": [str(r) for r in rules]}
    good, bad = lo, hi
    best = res
    while bad / good > 1 + tolerance:
        mid = math.sqrt(good * bad)
        ok, r = meets(mid)
        if ok:
            good, best = mid, r
        else:
            bad = mid
    return {**best, "rate_per_s": good, "slo": [str(r) for r in rules]}
