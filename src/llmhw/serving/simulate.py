"""Open-loop serving: requests arrive, an engine batches them continuously, percentiles come out.

One replica is simulated (a data-parallel deployment splits the arrivals evenly over its
replicas), first come first served, with the engine profile's scheduling policy
(scenario/engines.yaml; docs/serving.md gives each engine's and its source):

- **KV cache.** The replica holds ``kv_tokens`` tokens of KV cache: the memory model's bytes
  left on the KV tier after the weights (a draft model's too) and one step's activations, over
  the bytes a token takes (``MemoryModel.kv_budget_tokens``). A running request holds its prompt
  (counted from admission: the engine will fill it) and its generated tokens.
- **Admission** (``admission``). ``peak``: admit the head of the line only if its prompt + output
  fit beside the peaks of the running requests (TensorRT-LLM's GUARANTEED_NO_EVICT), so nothing
  is ever preempted. ``current``: admit it if its prompt fits beside what the running requests
  hold now and will add in the next step, under a watermark (vLLM, SGLang). Never more than
  ``max_seqs`` running requests.
- **Preemption** (``preemption``, ``current`` admission only). When the running requests' next
  step would outgrow the cache, the most recently admitted request leaves for the front of the
  waiting line: ``recompute`` drops its KV and prefills its prompt + generated tokens again on
  return (vLLM V1); ``swap`` copies its KV to host memory over the host link and back on return,
  the engine waiting for each copy.
- **Schedule** (``schedule``). ``mixed``: each iteration decodes one step for every request past
  its prompt, then spends the rest of the ``max_tokens`` budget on prompt chunks in admission
  order (vLLM V1, TensorRT-LLM). ``prefill_first``: while any admitted prompt is unfinished, an
  iteration prefills up to ``max_tokens`` prompt tokens alone and the decodes wait (SGLang
  without mixed chunks, JetStream).

Each iteration costs what the engine prices (never a fitted constant of its own):

    t_iter = T_decode(decoding requests, their mean context)        a decode step, host overheads in
           + sum over prefilled prompts of k_i x c(L_i)             c(L) = the per-token prefill cost of a
                                                                     prompt of L tokens, chunked
           + the engine's step overhead when the iteration only prefills
           + host-link copies of swapped KV

both from tables the engine fills once (a grid of requests x context; a grid of prompt lengths),
so the event loop looks costs up instead of pricing them. With a draft model (speculative
decoding) a step adds ``draft`` decode steps of the draft model at the same batch and context,
and a prompt token the draft's prefill of it. A request's first token comes with the iteration
that finishes its prefill; its TTFT adds the engine's per-request overhead (and the served front
end's, ``workload.harness``).
"""

from __future__ import annotations

from bisect import bisect_left
from collections import deque
from dataclasses import dataclass
from heapq import heappop, heappush
from math import ceil, floor, inf
from typing import Any

import numpy as np

from llmhw.core.errors import LlmhwError
from llmhw.scenario.engines import check_policy
from llmhw.serving.closed_loop import Engine
from llmhw.workload.catalog import load_model

Array = np.ndarray

# Share of the KV cache kept free when admitting under ``current`` admission: vLLM V0's block
# manager's default watermark (0.01 of the blocks), which keeps a newly admitted prompt from
# forcing a preemption at once.
WATERMARK = 0.01


@dataclass(frozen=True)
class Policy:
    """How one replica schedules (the engine profile's choices and the replica's KV budget)."""

    schedule: str = "mixed"            # mixed | prefill_first
    admission: str = "current"         # peak | current
    preemption: str = "recompute"      # recompute | swap | none
    max_seqs: int = 1024               # running requests at most (max_num_seqs)
    max_tokens: int = 8192             # tokens per iteration at most (max_num_batched_tokens)
    kv_tokens: float = inf             # KV cache of the replica, in tokens
    swap_s_per_token: float = 0.0      # host-link seconds to copy one token's KV one way (swap)
    draft: Engine | None = None        # the draft model's engine (speculative decoding with a draft)


def host_link_bandwidth(engine: Engine) -> float:
    """Bytes per second one chip moves to or from host memory: its host link, the link of a
    network through the host (point-to-point, PCIe) in the chip's or system's networks."""
    for net in (engine.scale_up, engine.scale_out):
        if net is not None and net.topology == "point_to_point":
            return float(net.link.bandwidth_bytes_per_s)
    s = engine.scenario
    raise LlmhwError(f"preemption 'swap' copies KV to host memory over the host link; {s.system.id} lists none "
                     "(only networks through the host, topology point_to_point, name one)",
                     field="preemption", accepted="recompute, or hardware whose scale_up / scale_out is a host link "
                     "(e.g. pcie-gen5-host)")


def draft_engine(engine: Engine) -> Engine | None:
    """The draft model's engine: the scenario with the draft in place of the model (same chips,
    parallelism, precision and engine), or None without a draft model."""
    spec = engine.scenario.workload.speculative
    if spec is None or spec.draft_model is None:
        return None
    model = load_model(spec.draft_model, field="workload.speculative.draft_model")
    return Engine(engine.scenario.replace(model=model))


def policy_of(engine: Engine, **changes: Any) -> Policy:
    """The engine profile's policy on the scenario's replica: its limits, the scenario's prompt
    chunk (``Scenario.prefill_chunk_tokens``), the KV budget from the memory model (less a draft
    model's weights, with its KV per token added), and the host link when it swaps. ``changes``
    override the profile's choices (schedule, admission, preemption, max_seqs, max_tokens)."""
    p, s = engine.profile, engine.scenario
    fields = {"schedule": p.schedule, "admission": p.admission, "preemption": p.preemption,
              "max_seqs": int(p.max_batch), "max_tokens": int(s.prefill_chunk_tokens)}
    fields.update(changes)
    check_policy("engine", fields["schedule"], fields["admission"], fields["preemption"])
    draft = draft_engine(engine)
    mem = engine.memory
    extra_w = draft.memory.weights if draft else 0.0
    extra_kv = draft.memory.kv_bytes_per_token() if draft else 0.0
    # The step the activations are sized for: the token budget, at most a whole prompt of the
    # workload (as the memory model sizes it), sampling for the most requests that can run (the
    # engine's cap, or as many prompts as the cache holds): an 'ideal' engine's unbounded limits
    # must not eat the cache.
    w = s.workload
    step = min(fields["max_tokens"], w.input_tokens)
    kv = mem.kv_budget_tokens(1, step, extra_w, extra_kv)
    r = max(1, min(fields["max_seqs"], int(kv // w.input_tokens)))
    kv = mem.kv_budget_tokens(r, step, extra_w, extra_kv)
    swap = 0.0
    if fields["preemption"] == "swap" and fields["admission"] == "current":
        swap = (mem.kv_bytes_per_token() + extra_kv) / host_link_bandwidth(engine)
    return Policy(**fields, kv_tokens=kv, swap_s_per_token=swap, draft=draft)


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
    slots: int = 1             # requests the replica holds at once (about; for the saturation check)
    preempted: Array | None = None   # times each request was preempted

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
                 positions: int = 1, draft: Engine | None = None):
        self.r = np.arange(1, max_seqs + 1, dtype=float)
        self.ctx = np.unique(np.geomspace(1, max(max_context, 2.0), 48))
        # A step verifies ``positions`` tokens per request (1 without speculative decoding).
        self.decode = engine.decode_cost(self.r[:, None], self.ctx[None, :], positions).total_s   # (r, ctx)
        self.prompt = np.unique(np.geomspace(1, max(max_prompt, 2.0), 48))
        per_chunk = np.maximum(np.floor(chunk / self.prompt), 1.0)
        self.per_token = engine.prefill_cost(self.prompt, per_chunk).total_s / (self.prompt * per_chunk)
        if draft is not None:
            # The draft proposes positions - 1 tokens one after another: as many decode steps of
            # the draft model at the same batch and context; it also prefills every prompt.
            self.decode = self.decode + (positions - 1) * draft.decode_cost(
                self.r[:, None], self.ctx[None, :]).total_s
            self.per_token = self.per_token + draft.prefill_cost(self.prompt, per_chunk).total_s / (
                self.prompt * per_chunk)
        self.step_overhead = engine.profile.step_overhead_s
        # The stream of the weights in a decode step (its memory time at one request and no
        # context). An iteration that mixes decodes with prompt chunks runs them as one forward
        # pass: the weights are read once, under the chunk's GEMMs, so that stream is not paid
        # twice (up to the chunk's own time: a small chunk hides less).
        self.weights_s = float(engine.decode_cost(1.0, 1.0).memory_s)
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


def run(engine: Engine, arrival: Array, input_tokens: Array, output_tokens: Array, policy: Policy,
        closed: int = 0, cached: int | Array = 0, draft: int = 0, tokens_per_step: float = 1.0) -> Requests:
    """The event loop of one replica over the given requests (sorted by arrival) under ``policy``.
    ``closed`` > 0: a closed loop instead, that many requests in flight, each finished one
    replaced at once (``arrival`` is then ignored). ``cached``: prompt tokens already in the
    prefix cache, which skip prefill (at least one token of each prompt is computed): one count
    for every request, or an array of one per request (a decode pool receiving each prompt's KV).
    ``draft`` > 0: speculative decoding, each step verifying ``draft`` + 1 positions and emitting
    ``tokens_per_step`` tokens per request on average."""
    n = arrival.size
    if closed:
        arrival = np.where(np.arange(n) < closed, 0.0, np.inf)
    budget = float(policy.kv_tokens)
    longest = int((input_tokens + output_tokens).max())
    if longest > budget:
        raise LlmhwError(f"the replica's KV cache holds {budget:.0f} tokens; a request of {longest} tokens "
                         "(prompt + output) never fits", field="workload",
                         accepted="shorter requests, more memory or chips, a smaller KV precision")
    peak = policy.admission == "peak"
    swap = policy.preemption == "swap"
    mixed = policy.schedule == "mixed"
    chunk = int(policy.max_tokens)
    # Running requests at most: the engine's cap, the requests there are, what the cache holds.
    cap = min(int(policy.max_seqs), n, max(1, int(budget // max(1.0, float(input_tokens.min())))))
    cap = max(cap, 1)
    max_prompt = float(input_tokens.max()) if swap or peak else float(longest)   # recompute re-prefills
    tables = StepTables(engine, cap, float(longest), max_prompt, chunk, draft + 1, policy.draft)
    tps = tokens_per_step
    admitted = np.full(n, np.inf)
    first = np.full(n, np.inf)
    finish = np.full(n, np.inf)
    preempted = np.zeros(n, dtype=int)
    arr, inp, outp = arrival.tolist(), input_tokens.tolist(), output_tokens.tolist()
    hit = np.broadcast_to(np.asarray(cached, dtype=int), (n,)).tolist()      # prompt tokens cached, per request
    scheduled = min(closed, n) if closed else n          # requests whose arrival time is known
    # Every decoding request advances by the same tokens each decode step, so one counter G
    # (tokens per decoding request so far) stands for all of them: a decoding request has
    # generated off[j] + G tokens and finishes when G reaches out[j] - off[j] (a heap of those).
    # A prefilling request's generated tokens are fixed, off[j] itself. Aggregates over the
    # decoding requests (their count nd, S = sum of prompt + off) give the mean context and the
    # KV held without a pass over the running requests: the event loop costs O(prefilling
    # requests + log n) an iteration.
    left = [0] * n                                       # prompt tokens still to prefill
    off = [0.0] * n
    plen = [0] * n                                       # prompt length whose prefill cost applies
    ver = [0] * n                                        # bumps on preemption: stale heap entries
    running: dict[int, None] = {}                        # admission order
    pf: dict[int, None] = {}                             # running and still prefilling, admission order
    heap: list[tuple[float, int, int]] = []
    G = 0.0
    S = 0.0
    nd = 0
    H0 = 0.0                                             # prompt + generated of the prefilling requests
    reserved = 0.0                                       # sum of running peaks (prompt + output)
    room = (1.0 - WATERMARK) * budget
    # Preempted requests waiting to return: generated tokens (recompute), or (generated, prompt
    # left, prefill length) with their KV in host memory (swap).
    saved_gen: dict[int, float] = {}
    swapped: dict[int, tuple[float, int, int]] = {}
    s_tok = policy.swap_s_per_token
    copy_s = 0.0                                         # host-link copies due in this iteration
    t, nxt = 0.0, 0
    waiting: deque[int] = deque()
    step_tokens = draft + 1                              # tokens a decode takes of the iteration's budget

    def start_decoding(j: int, g: float) -> None:
        nonlocal S, nd
        off[j] = g - G
        S += inp[j] + off[j]
        nd += 1
        heappush(heap, (outp[j] - off[j], j, ver[j]))

    def end(j: int) -> None:
        """Request ``j`` leaves the running requests (finished or preempted)."""
        nonlocal reserved
        del running[j]
        reserved -= inp[j] + outp[j]

    def retire_decoders() -> None:
        nonlocal S, nd, scheduled
        while heap and heap[0][0] <= G + 1e-9:
            _, j, v = heappop(heap)
            if v != ver[j]:
                continue
            S -= inp[j] + off[j]
            nd -= 1
            finish[j] = t
            end(j)
            if closed and scheduled < n:
                arr[scheduled] = t
                scheduled += 1

    while nxt < n or waiting or running:
        while nxt < n and arr[nxt] <= t:
            waiting.append(nxt)
            nxt += 1
        while waiting and len(running) < cap:
            j = waiting[0]
            g = (swapped[j][0] if j in swapped else 0.0) if swap else saved_gen.get(j, 0.0)
            if peak:
                if reserved + inp[j] + outp[j] > budget:
                    break
            elif running and H0 + S + nd * G + inp[j] + g + len(running) * tps > room:
                break
            waiting.popleft()
            if admitted[j] == inf:
                admitted[j] = t
            running[j] = None
            reserved += inp[j] + outp[j]
            if j in swapped:
                g, left[j], plen[j] = swapped.pop(j)
                copy_s += (inp[j] + g - left[j]) * s_tok          # its KV comes back over the host link
            else:
                saved_gen.pop(j, None)
                left[j] = max(int(inp[j] + g) - hit[j], 1)
                plen[j] = int(inp[j] + g)
            if left[j]:
                pf[j] = None
                off[j] = g
                H0 += inp[j] + g
            else:
                start_decoding(j, g)
        if not running:
            if nxt >= n or arr[nxt] == inf:
                break
            t = float(arr[nxt])
            continue
        n_dec = nd if (mixed or not pf) else 0                # prefill first: the decodes wait
        if n_dec and not peak and H0 + S + nd * G + nd * tps > budget:
            # The next step outgrows the cache: preempt the newest requests until it fits.
            while len(running) > 1 and H0 + S + nd * G + nd * tps > budget:
                j = next(reversed(running))
                preempted[j] += 1
                if j in pf:
                    g = off[j]
                    del pf[j]
                    H0 -= inp[j] + g
                else:
                    g = off[j] + G
                    S -= inp[j] + off[j]
                    nd -= 1
                    ver[j] += 1
                end(j)
                if swap:
                    swapped[j] = (g, left[j], plen[j])
                    copy_s += (inp[j] + g - left[j]) * s_tok
                else:
                    saved_gen[j] = g
                waiting.appendleft(j)
            n_dec = nd if (mixed or not pf) else 0
        pre: list[tuple[int, int]] = []
        if pf:
            budget_t = max(chunk - n_dec * step_tokens, 0) if mixed else chunk
            for j in pf:
                if budget_t <= 0:
                    break
                k = min(left[j], budget_t)
                pre.append((j, k))
                budget_t -= k
        dt, copy_s = copy_s, 0.0
        if n_dec and not pre:
            # Only decodes until the next arrival, completion or preemption: take those
            # iterations in one jump, at the step time of their mean context.
            ctx = (S + nd * G) / nd
            step = tables.decode_s(nd, ctx)
            while heap[0][2] != ver[heap[0][1]]:
                heappop(heap)
            k = max(1, ceil((heap[0][0] - G) / tps - 1e-9))
            if nxt < n and not waiting and arr[nxt] < inf:
                k = min(k, max(1, ceil((arr[nxt] - t) / step)))
            if not peak:
                k = min(k, max(1, floor((budget - H0 - S - nd * G) / (nd * tps))))
            if k > 1:
                step = tables.decode_s(nd, ctx + (k - 1) / 2 * tps)
            t += dt + k * step
            G += k * tps
            retire_decoders()
            continue
        if n_dec:
            dt += tables.decode_s(nd, (S + nd * G) / nd)
        if pre:
            chunk_s = sum(k * tables.prefill_token_s(plen[j]) for j, k in pre)
            dt += chunk_s - min(tables.weights_s, chunk_s) if n_dec else chunk_s + tables.step_overhead
        t += dt
        if n_dec:
            G += tps
        for j, k in pre:
            left[j] -= k
            if left[j] == 0:
                # The iteration that ends a prefill emits a token.
                del pf[j]
                g = off[j]
                H0 -= inp[j] + g
                if first[j] == inf:
                    first[j] = t
                if g + 1 >= outp[j]:
                    finish[j] = t
                    end(j)
                    if closed and scheduled < n:
                        arr[scheduled] = t
                        scheduled += 1
                else:
                    start_decoding(j, g + 1)
        if n_dec:
            retire_decoders()
    over = engine.request_overhead_s(0.0)
    # The most requests the cache holds at once, at their mean footprint (the saturation check).
    per = float(np.mean(input_tokens + (output_tokens if peak else output_tokens / 2)))
    slots = int(max(1, min(policy.max_seqs, budget // max(per, 1.0))))
    return Requests(np.asarray(arr, dtype=float), input_tokens, output_tokens, admitted, first, finish, over, slots,
                    preempted)


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


def _steady_window(req: Requests, keep: Array) -> tuple[float, float] | None:
    """The steady part of a run: from when nearly every request in the system at the start of
    the kept arrivals could have finished (the first kept arrival plus the 95th-percentile
    lifetime) to the last arrival. None when that leaves under a fifth of the arrivals' span (the
    run is too short, or lifetimes grow without bound: a saturated load)."""
    life = req.finish - req.arrival
    ok = np.isfinite(life) & keep
    finite = np.isfinite(req.arrival)
    if not ok.any() or finite.sum() < 2:
        return None
    a0, a1 = float(req.arrival[keep].min()), float(req.arrival[finite].max())
    w0 = a0 + float(np.percentile(life[ok], 95))
    return (w0, a1) if a1 - w0 > 0.2 * (a1 - a0) else None


def _tokens_in(req: Requests, w0: float, w1: float) -> float:
    """Output tokens produced in [w0, w1]: a request's first token at its first-token time, the
    rest spread evenly until it finishes."""
    first, fin, out = req.first_token, req.finish, req.output_tokens.astype(float)
    ok = np.isfinite(first) & np.isfinite(fin)
    first, fin, out = first[ok], fin[ok], out[ok]
    n_first = float(np.sum((first >= w0) & (first <= w1)))
    dur = fin - first
    overlap = np.clip(np.minimum(fin, w1) - np.maximum(first, w0), 0.0, None)
    frac = np.divide(overlap, dur, out=np.zeros_like(dur), where=dur > 0)
    return n_first + float(np.sum((out - 1.0) * frac))


def _steady_completion_rate(req: Requests, keep: Array, rate_in: float, window: tuple[float, float] | None) -> float:
    """Completions per second in the steady window. Without one, the queue's growth and
    Little's law decide between the offered rate and none."""
    if window is not None:
        w0, w1 = window
        fin = req.finish[np.isfinite(req.finish)]
        return float(np.sum((fin >= w0) & (fin <= w1))) / (w1 - w0)
    life = req.finish - req.arrival
    ok = np.isfinite(life) & keep
    if not ok.any():
        return 0.0
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
    window = _steady_window(req, keep)
    if window is not None:
        # Tokens a second while the load is steady: neither the empty system filling up nor the
        # last requests draining after the arrivals stop.
        out = replicas * _tokens_in(req, *window) / (window[1] - window[0])
    else:
        span = float(req.finish[done].max() - req.arrival[keep].min()) if done.any() else float("nan")
        out = replicas * float(req.output_tokens[done].sum()) / span if span > 0 else float("nan")
    finite = np.isfinite(req.arrival) & keep
    rate_in = (finite.sum() - 1) / float(req.arrival[finite].max() - req.arrival[finite].min()) \
        if finite.sum() > 1 else 0.0
    mean_in_flight = _time_average_in_flight(req, keep) if done.any() else float("nan")
    served_rate = _steady_completion_rate(req, keep, rate_in, window)
    return {
        "requests": int(n * replicas), "completed": int(req.done.sum() * replicas),
        "ttft_s": _pct(req.ttft[done]), "tpot_s": _pct(req.tpot[done]), "e2e_s": _pct(req.e2e[done]),
        "queue_s": _pct(req.queue[done]),
        "output_tok_s": out, "output_tok_s_per_chip": out / n_chips,
        "arrival_rate_per_s": rate_in * replicas, "completion_rate_per_s": served_rate * replicas,
        "mean_in_flight": mean_in_flight * replicas,
        "preemptions": int(req.preempted.sum() * replicas) if req.preempted is not None else 0,
        # Arrivals outpace completions: the queue grows without bound and no steady state exists.
        # (A steady window of N completions counts them to about 1/sqrt(N): 7% leaves room.)
        "saturated": bool(served_rate < 0.93 * rate_in),
    }
