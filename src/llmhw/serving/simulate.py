"""Open-loop serving: requests arrive, an engine batches them continuously, percentiles come out.

A first version of the simulator (issue 12): one replica (a data-parallel deployment splits the
arrivals evenly over its replicas), continuous batching with the engine's ``max_batch`` sequences
and ``prefill_chunk_tokens`` per iteration (chunked prefill, decodes first), first come first
served, no preemption (a request is admitted only when a slot is free; slots are what the memory
holds at the peak context, the memory model's ``max_batch``).

Each iteration costs what the engine prices (never a fitted constant of its own):

    t_iter = T_decode(decoding requests, their mean context)        a decode step, host overheads in
           + sum over prefilled prompts of k_i x c(L_i)             c(L) = the per-token prefill cost of a
                                                                     prompt of L tokens, chunked
           + the engine's step overhead when the iteration only prefills

both from tables the engine fills once (a grid of requests x context; a grid of prompt lengths),
so the event loop looks costs up instead of pricing them. A request's first token comes with the
iteration that finishes its prefill; its TTFT adds the engine's per-request overhead (and the
served front end's, ``workload.harness``).
"""

from __future__ import annotations

from bisect import bisect_left
from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np

from llmhw.serving.closed_loop import Engine

Array = np.ndarray


@dataclass(frozen=True)
class Requests:
    """The simulated requests, per request (seconds from the start; inf when unfinished)."""

    arrival: Array
    input_tokens: Array
    output_tokens: Array
    admitted: Array
    first_token: Array
    finish: Array
    overhead_s: float          # per-request overhead added to TTFT and end-to-end time
    slots: int = 1             # requests the replica holds at once

    @property
    def done(self) -> Array:
        return np.isfinite(self.finish)

    @property
    def ttft(self) -> Array:
        return self.first_token - self.arrival + self.overhead_s

    @property
    def e2e(self) -> Array:
        return self.finish - self.arrival + self.overhead_s

    @property
    def queue(self) -> Array:
        return self.admitted - self.arrival

    @property
    def tpot(self) -> Array:
        n = np.maximum(self.output_tokens - 1, 1)
        return np.where(self.output_tokens > 1, (self.finish - self.first_token) / n, 0.0)


class StepTables:
    """The engine's iteration costs on grids, for lookups in the event loop."""

    def __init__(self, engine: Engine, max_seqs: int, max_context: float, max_prompt: float, chunk: int,
                 positions: int = 1):
        self.r = np.arange(1, max_seqs + 1, dtype=float)
        self.ctx = np.unique(np.geomspace(1, max(max_context, 2.0), 48))
        # A step verifies ``positions`` tokens per request (1 without speculative decoding).
        self.decode = engine.decode_cost(self.r[:, None], self.ctx[None, :], positions).total_s   # (r, ctx)
        self.prompt = np.unique(np.geomspace(1, max(max_prompt, 2.0), 48))
        per_chunk = np.maximum(np.floor(chunk / self.prompt), 1.0)
        self.per_token = engine.prefill_cost(self.prompt, per_chunk).total_s / (self.prompt * per_chunk)
        self.step_overhead = engine.profile.step_overhead_s
        # Python copies for the event loop's scalar lookups (numpy scalar indexing is slow there).
        self._ctx = self.ctx.tolist()
        self._decode = self.decode.tolist()
        self._prompt = self.prompt.tolist()
        self._per_token = self.per_token.tolist()

    def decode_s(self, n: int, ctx: float) -> float:
        j = min(bisect_left(self._ctx, ctx), len(self._ctx) - 1)
        return self._decode[n - 1][j]

    def prefill_token_s(self, prompt: float) -> float:
        """The per-token prefill cost of one prompt length (scalar, for the event loop)."""
        return self._per_token[min(bisect_left(self._prompt, prompt), len(self._prompt) - 1)]


def poisson_arrivals(rate_per_s: float, n: int, seed: int = 0) -> Array:
    rng = np.random.default_rng(seed)
    return np.cumsum(rng.exponential(1.0 / rate_per_s, n))


def gamma_arrivals(rate_per_s: float, cv: float, n: int, seed: int = 0) -> Array:
    """Bursty arrivals: gamma-distributed gaps of mean 1 / rate and coefficient of variation cv
    (shape 1 / cv^2; cv = 1 is Poisson, larger is burstier)."""
    rng = np.random.default_rng(seed)
    k = 1.0 / (cv * cv)
    return np.cumsum(rng.gamma(k, 1.0 / (rate_per_s * k), n))


def run(engine: Engine, arrival: Array, input_tokens: Array, output_tokens: Array, slots: int,
        chunk: int, max_seqs: int, closed: int = 0, cached: int = 0, draft: int = 0,
        tokens_per_step: float = 1.0) -> Requests:
    """The event loop of one replica over the given requests (sorted by arrival). ``closed`` > 0:
    a closed loop instead, that many requests in flight, each finished one replaced at once
    (``arrival`` is then ignored). ``cached``: prompt tokens already in the prefix cache, which
    skip prefill (at least one token of each prompt is computed). ``draft`` > 0: speculative
    decoding, each step verifying ``draft`` + 1 positions and emitting ``tokens_per_step`` tokens
    per request on average."""
    n = arrival.size
    if closed:
        arrival = np.where(np.arange(n) < closed, 0.0, np.inf)
    slots = int(max(1, min(slots, max_seqs)))
    tables = StepTables(engine, slots, float((input_tokens + output_tokens).max()), float(input_tokens.max()), chunk,
                        draft + 1)
    tps = tokens_per_step
    admitted = np.full(n, np.inf)
    first = np.full(n, np.inf)
    finish = np.full(n, np.inf)
    arr, inp, outp = arrival.tolist(), input_tokens.tolist(), output_tokens.tolist()
    scheduled = min(closed, n) if closed else n          # requests whose arrival time is known
    # Running requests, in admission order: request id, prompt tokens left, tokens generated.
    rid: list[int] = []
    left: list[int] = []
    gen: list[float] = []
    t, nxt = 0.0, 0
    waiting: deque[int] = deque()

    def retire(done: list[int]) -> None:
        """Finish the running requests at positions ``done`` (closed loop: each is replaced)."""
        nonlocal rid, left, gen, scheduled
        for i in done:
            finish[rid[i]] = t
            if closed and scheduled < n:
                arr[scheduled] = t
                scheduled += 1
        gone = set(done)
        keep = [i for i in range(len(rid)) if i not in gone]
        rid, left, gen = [rid[i] for i in keep], [left[i] for i in keep], [gen[i] for i in keep]

    while nxt < n or waiting or rid:
        while nxt < n and arr[nxt] <= t:
            waiting.append(nxt)
            nxt += 1
        while waiting and len(rid) < slots:
            j = waiting.popleft()
            admitted[j] = t
            rid.append(j)
            left.append(max(int(inp[j]) - cached, 1))
            gen.append(0)
        if not rid:
            if nxt >= n or arr[nxt] == float("inf"):
                break
            t = float(arr[nxt])
            continue
        dec = [i for i in range(len(rid)) if left[i] == 0]
        budget = max(chunk - len(dec), 0)
        pre: list[tuple[int, int]] = []
        for i in range(len(rid)):
            if budget <= 0:
                break
            if left[i] > 0:
                k = min(left[i], budget)
                pre.append((i, k))
                budget -= k
        dt = 0.0
        if dec and not pre and (not waiting or len(rid) >= slots):
            # Only decodes until the next arrival or completion: take those iterations in one
            # jump, at the step time of their mean context.
            ctx = sum(inp[rid[i]] + gen[i] for i in dec) / len(dec)
            step = tables.decode_s(len(dec), ctx)
            k = max(1, int(np.ceil(min(outp[rid[i]] - gen[i] for i in dec) / tps)))
            if nxt < n and not waiting and arr[nxt] < float("inf"):
                k = min(k, max(1, int(np.ceil((arr[nxt] - t) / step))))
            if k > 1:
                step = tables.decode_s(len(dec), ctx + (k - 1) / 2)
            t += k * step
            for i in dec:
                gen[i] += k * tps
            retire([i for i in dec if gen[i] >= outp[rid[i]]])
            continue
        if dec:
            ctx = sum(inp[rid[i]] + gen[i] for i in dec) / len(dec)
            dt += tables.decode_s(len(dec), ctx)
        if pre:
            dt += sum(k * tables.prefill_token_s(inp[rid[i]]) for i, k in pre)
            if not dec:
                dt += tables.step_overhead
        t += dt
        for i in dec:
            gen[i] += tps
        for i, k in pre:
            left[i] -= k
            if left[i] == 0:
                gen[i] = 1                       # the iteration that ends a prefill emits a token
                first[rid[i]] = t
        done = [i for i in dec if gen[i] >= outp[rid[i]]] + \
            [i for i, _ in pre if left[i] == 0 and gen[i] >= outp[rid[i]]]
        if done:
            retire(done)
    over = engine.request_overhead_s(0.0)
    return Requests(np.asarray(arr, dtype=float), input_tokens, output_tokens, admitted, first, finish, over, slots)


def _pct(x: Array) -> dict[str, float]:
    x = x[np.isfinite(x)]
    if not x.size:
        return {"mean": float("nan"), "p50": float("nan"), "p90": float("nan"), "p99": float("nan")}
    return {"mean": float(x.mean()), "p50": float(np.percentile(x, 50)), "p90": float(np.percentile(x, 90)),
            "p99": float(np.percentile(x, 99))}


def _time_average_in_flight(req: Requests, keep: Array) -> float:
    """Requests in the system averaged over time (from the first kept arrival to the last
    completion), counted from the event timeline: +1 at each arrival, -1 at each finish."""
    t0 = float(req.arrival[keep].min())
    fin = req.finish[np.isfinite(req.finish)]
    t1 = float(fin.max())
    times = np.concatenate([req.arrival, fin])
    steps = np.concatenate([np.ones(req.arrival.size), -np.ones(fin.size)])
    order = np.argsort(times, kind="stable")
    times, level = times[order], np.cumsum(steps[order])
    seg = np.diff(np.clip(np.append(times, t1), t0, t1))
    return float(np.sum(level * seg) / (t1 - t0))


def _steady_completion_rate(req: Requests, keep: Array, rate_in: float) -> float:
    """Completions per second while requests still arrive, once the first ones could have
    finished: [first kept arrival + median time in system, last arrival]. Without such a window
    (requests outlast the run), the queue's growth and Little's law decide."""
    life = req.finish - req.arrival
    ok = np.isfinite(life) & keep
    if not ok.any():
        return 0.0
    a0, a1 = float(req.arrival[keep].min()), float(req.arrival.max())
    w0 = a0 + float(np.median(life[ok]))
    if a1 - w0 > 0.2 * (a1 - a0):
        fin = req.finish[np.isfinite(req.finish)]
        return float(np.sum((fin >= w0) & (fin <= a1))) / (a1 - w0)
    q = req.queue[keep]
    half = q.size // 2
    late, early = float(np.mean(q[half:])), float(np.mean(q[:half]))
    growing = late > 1.5 * early and late - early > 0.01        # steady queues are level, not rising
    # Little's law: the load needs rate x time in system requests at once; more than the slots
    # hold cannot be a steady state.
    growing |= rate_in * float(np.median(life[ok])) > req.slots
    return 0.0 if growing else rate_in


def summarize(req: Requests, replicas: int, n_chips: int, warmup: float = 0.1) -> dict[str, Any]:
    """Percentiles and rates of a run, leaving out the first ``warmup`` share of the requests
    (the empty system's transient)."""
    n = req.arrival.size
    keep = np.arange(n) >= int(warmup * n)
    done = req.done & keep
    span = float(req.finish[done].max() - req.arrival[keep].min()) if done.any() else float("nan")
    out_tokens = float(req.output_tokens[done].sum())
    out = replicas * out_tokens / span if span > 0 else float("nan")
    # Little's law: requests in flight on average = completions per second x mean time in system.
    rate_in = (keep.sum() - 1) / float(req.arrival[keep].max() - req.arrival[keep].min()) if keep.sum() > 1 else 0.0
    mean_in_flight = _time_average_in_flight(req, keep) if done.any() else float("nan")
    served_rate = _steady_completion_rate(req, keep, rate_in)
    return {
        "requests": int(n * replicas), "completed": int(req.done.sum() * replicas),
        "ttft_s": _pct(req.ttft[done]), "tpot_s": _pct(req.tpot[done]), "e2e_s": _pct(req.e2e[done]),
        "queue_s": _pct(req.queue[done]),
        "output_tok_s": out, "output_tok_s_per_chip": out / n_chips,
        "arrival_rate_per_s": rate_in * replicas, "completion_rate_per_s": served_rate * replicas,
        "mean_in_flight": mean_in_flight * replicas,
        # Arrivals outpace completions: the queue grows without bound and no steady state exists.
        "saturated": bool(served_rate < 0.95 * rate_in),
    }
