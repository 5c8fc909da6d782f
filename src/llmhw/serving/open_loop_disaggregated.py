"""Open-loop serving of a disaggregated deployment: a prefill pool, the KV transfer, a decode pool.

The requests of the whole deployment are drawn as for co-located serving (serving/open_loop.py),
then go through the two pools one after the other, each pool's replicas simulated by the same
event loop (serving/simulate.py ``run``):

1. **Prefill pool.** The arrivals are dealt round-robin over its dp replicas; each request asks
   for one output token, the first, which the iteration ending its prefill emits. A replica
   batches prompts under the engine's policy (chunks of ``max_tokens``), so a burst of long
   prompts queues here.
2. **KV transfer.** When its prefill ends, the request's KV cache (prompt tokens x KV bytes a
   token) is sent to the decode pool on the network joining the pools, priced as the closed
   loop prices it (serving/disaggregated.py ``kv_transfer``). Transfers do not contend with
   each other for the links.
3. **Decode pool.** A request arrives when its KV has landed (prefill end + transfer), in that
   order, dealt round-robin over the decode replicas. Its prompt is in the cache but for the
   last token, which the decode replica computes to sample the first output token itself (the
   prefill pool's token is not streamed: vLLM's prefill/decode connectors and llm-d send the
   prefill replica a one-token request and the decode replica the whole one, whose prompt then
   hits the transferred cache but for that token); then it generates the other output - 1
   tokens. The decode pool never prefills a prompt, so its iterations are decode steps with
   those one-token prefills riding along (``schedule: mixed`` whatever the engine's profile).

A request's TTFT is its first token on the decode pool less its arrival (plus the engine's
per-request overhead): its wait and prefill on the prefill pool, the KV transfer, and its first
iteration on the decode pool. Its TPOT and end-to-end time end with its last token there; its
queueing time is its wait for admission to the prefill pool.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from llmhw.core.errors import LlmhwError
from llmhw.scenario.disaggregated import Disaggregated
from llmhw.serving import slo as slo_
from llmhw.serving.closed_loop import Engine
from llmhw.serving.disaggregated import kv_transfer
from llmhw.serving.open_loop import (
    MAX_REQUESTS,
    _goodput,
    _lifetimes,
    _load,
    _requests,
    seed_of,
    simulated_requests,
)
from llmhw.serving.simulate import Requests, _pct, policy_of, run, summarize

Array = np.ndarray


def _pool(engine: Engine, arrival: Array, isl: Array, osl: Array, cached: Any, draft: int, tps: float,
          **policy: Any) -> Requests:
    """Every replica of one pool over its requests (``arrival`` sorted), dealt round-robin: the
    pool's requests as one :class:`Requests` in that order (slots: its replicas' together)."""
    dp = engine.scenario.parallelism.dp
    pol = policy_of(engine, **policy)
    n = arrival.size
    cached = np.broadcast_to(np.asarray(cached, dtype=int), (n,))
    admitted, first, finish = np.full(n, np.inf), np.full(n, np.inf), np.full(n, np.inf)
    preempted = np.zeros(n, dtype=int)
    slots, over = 0, 0.0
    for k in range(min(dp, n)):
        idx = np.arange(k, n, dp)
        r = run(engine, arrival[idx], isl[idx], osl[idx], pol, 0, cached[idx], draft, tps)
        admitted[idx], first[idx], finish[idx] = r.admitted, r.first_token, r.finish
        preempted[idx] = r.preempted
        slots += r.slots
        over = r.overhead_s
    return Requests(arrival, isl, osl, admitted, first, finish, over, slots, preempted)


def _pool_keys(req: Requests, n_chips: int) -> dict[str, Any]:
    """What one pool reports: whether its queue grows, its requests in flight, their wait."""
    if req.arrival.size < 2:          # (a pool that served no request, or one)
        return {"saturated": False, "mean_in_flight": 0.0, "queue_s": _pct(req.queue)}
    s = summarize(req, 1, n_chips)
    return {"saturated": s["saturated"], "mean_in_flight": s["mean_in_flight"], "queue_s": s["queue_s"]}


def simulate(d: Disaggregated, rate_per_s: float | None = None, requests: int | None = None, seed: int | None = None,
             concurrency: int | None = None, slo: Sequence[str] = (), min_lifetimes: float = 0.0) -> dict[str, Any]:
    """The two pools under the load (see ``llmhw.api.simulate``): the keys of the co-located
    simulation (serving/open_loop.py) over the whole deployment (throughput per chip over both
    pools' chips), and per pool ``prefill_pool`` / ``decode_pool`` (saturated, mean_in_flight,
    queue_s) and ``kv_transfer_s`` (the mean transfer)."""
    ep, ed = Engine(d.prefill), Engine(d.decode)
    w = d.decode.workload
    requests = simulated_requests(w.requests if requests is None else requests)
    if concurrency is not None or (rate_per_s is None and w.arrival is not None and w.arrival.process == "closed"):
        raise LlmhwError("a disaggregated deployment is simulated under open-loop arrivals only", field="concurrency",
                         accepted="--rate R, or workload.arrival of process poisson, gamma or trace")
    seed = seed_of(w.seed if seed is None else seed)
    rules = slo_.parse(slo)
    rate, cv, _, trace = _load(ed, rate_per_s, None, requests)
    spec = w.speculative

    def once(n_requests: int) -> tuple[Requests, dict[str, Any]]:
        arrival, isl, osl = _requests(ed, rate, cv, None, trace, n_requests, seed, dp=1)
        isl, osl = np.asarray(isl, dtype=int), np.asarray(osl, dtype=int)
        n = arrival.size
        # 1. The prefill pool: every request for its first token.
        pre = _pool(ep, arrival, isl, np.ones(n, dtype=int), w.prefix_cached_tokens, 0, 1.0)
        # 2. The KV transfer of each prompt; 3. the decode pool, in the order the caches land.
        kv_bytes, t_kv = kv_transfer(d, isl.astype(float), ed)
        landed = pre.finish + t_kv
        ids = np.flatnonzero(np.isfinite(landed))
        ids = ids[np.argsort(landed[ids], kind="stable")]
        dec = _pool(ed, landed[ids], isl[ids], osl[ids], isl[ids] - 1,
                    spec.draft_tokens if spec else 0, spec.tokens_per_step if spec else 1.0, schedule="mixed")
        first, finish = np.full(n, np.inf), np.full(n, np.inf)
        first[ids], finish[ids] = dec.first_token, dec.finish
        preempted = pre.preempted.copy()
        preempted[ids] += dec.preempted
        whole = Requests(arrival, isl, osl, pre.admitted, first, finish, pre.overhead_s,
                         pre.slots + dec.slots, preempted)
        out = summarize(whole, 1, d.n_chips)
        out["prefill_pool"] = _pool_keys(pre, d.prefill.n_chips)
        out["decode_pool"] = _pool_keys(dec, d.decode.n_chips)
        # The deployment saturates when either pool does: a queue growing at one pool.
        out["saturated"] = bool(out["saturated"] or out["prefill_pool"]["saturated"]
                                or out["decode_pool"]["saturated"])
        out["kv_transfer_s"] = float(np.mean(t_kv))
        out["kv_bytes_per_request"] = float(np.mean(kv_bytes))
        out["mean_input_tokens"], out["mean_output_tokens"] = float(np.mean(isl)), float(np.mean(osl))
        return whole, out

    req, out = once(requests)
    lifetimes = _lifetimes(req)
    if min_lifetimes > 0 and trace is None and lifetimes < min_lifetimes and requests < MAX_REQUESTS:
        requests = min(MAX_REQUESTS, int(math.ceil(requests * 1.2 * min_lifetimes / max(lifetimes, 0.05))))
        req, out = once(requests)
        lifetimes = _lifetimes(req)
    out["rate_per_s"] = rate
    out["lifetimes"] = lifetimes
    out["prefill_chips"], out["decode_chips"] = d.prefill.n_chips, d.decode.n_chips
    if rules:
        out["slo"] = [str(r) for r in rules]
        out["slo_met"] = slo_.met(out, rules) and not out["saturated"]
        out["goodput_req_s"], out["good_share"] = _goodput(req, 1, rules)
    return out

