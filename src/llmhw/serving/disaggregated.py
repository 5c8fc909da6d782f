"""Prefill/decode disaggregation: a prefill pool and a decode pool, the KV cache moving between.

Each request is prefilled on the prefill pool, its KV cache is sent to the decode pool, and the
decode pool generates its tokens without being interrupted by other requests' prefills:

    t_kv      = the request's KV bytes / (prefill chips of a replica, each sending its shard),
                priced as a send on the network joining the pools: the scale-up network when both
                pools fit in one scale-up domain, else the scale-out network
    T_decode  = decode step of the decode pool's r = batch / dp_decode requests (no prefill in it)
    R_prefill = prefill replicas / T_q   prompts per second the prefill pool sustains, T_q the
                per-prompt cost when a chunk's worth of prompts run together
    ttft      = T_prefill + M/D/1 wait at the prefill pool + t_kv + T_decode / 2 + overheads
    e2e       = ttft + (output - 1) x T_decode
    output_tok_s = min(batch x output / e2e, R_prefill x output)      the limiting pool

``batch`` is the requests in flight (decoding or waiting for their first token). When the prefill
pool limits, the closed loop's TTFT grows until Little's law holds at R_prefill.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from llmhw.cost.comm import collective_split
from llmhw.scenario.disaggregated import Disaggregated
from llmhw.serving.closed_loop import Engine

Array = np.ndarray


@dataclass(frozen=True)
class DisaggregatedMetrics:
    """The usual headline metrics of a disaggregated deployment, and what each pool does."""

    batch: Array
    ttft_s: Array
    tpot_s: Array
    e2e_s: Array
    output_tok_s: Array
    output_tok_s_per_chip: Array
    tok_s_per_user: Array
    kv_transfer_s: Array          # one request's KV cache, prefill pool -> decode pool
    kv_bytes: Array               # that KV cache
    prefill_s: Array              # one prompt's prefill on the prefill pool
    prefill_wait_s: Array         # queueing for the prefill pool
    decode_step_s: Array          # one decode step of the decode pool
    prefill_capacity_req_s: Array  # prompts per second the prefill pool sustains
    prefill_limited: Array        # True where the prefill pool sets the throughput
    fits_prefill: Array
    fits_decode: Array

    @property
    def fits(self) -> Array:
        return self.fits_prefill & self.fits_decode

    def as_dict(self) -> dict[str, Array]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["fits"] = self.fits
        return d


def _transfer_network(dis: Disaggregated) -> tuple[Any, Any]:
    """(scale_up, scale_out) for the send between pools: scale-up only when both pools fit in one
    scale-up domain of the decode pool's system."""
    sys_d = dis.decode.system
    up, out = sys_d.scale_up_network, sys_d.scale_out_network
    if up is not None and dis.n_chips <= up.domain_size:
        return up, None
    return None, out if out is not None else up


def kv_transfer(dis: Disaggregated, prompt_tokens: Any, decode: Engine | None = None) -> tuple[Array, Array]:
    """(bytes, seconds) of a request's KV cache of ``prompt_tokens`` tokens moving from the prefill
    pool to the decode pool: sent shard by shard from the prefill replica's chips, as one send on
    the network joining the pools (``decode``: the decode pool's engine, for its cost parameters)."""
    ed = decode if decode is not None else Engine(dis.decode)
    kv = dis.decode.model.kv_cache_bytes(1, dis.decode.precision.kv_cache) * np.asarray(prompt_tokens, dtype=float)
    senders = dis.prefill.parallelism.tp * dis.prefill.parallelism.pp
    up, out = _transfer_network(dis)
    lat, bw = collective_split("send", kv / senders, 2, up, out, ed.params)
    return kv, np.asarray(lat + bw, dtype=float)


def evaluate(dis: Disaggregated, batch: Any, input_tokens: Any, output_tokens: Any) -> DisaggregatedMetrics:
    """Metrics over the broadcast arrays (batch -1: the most the decode pool's memory holds)."""
    ep, ed = Engine(dis.prefill), Engine(dis.decode)
    dec_all = ed.evaluate(batch, input_tokens, output_tokens)      # memory, the batch limit, r
    B = np.asarray(dec_all.batch, dtype=float)
    isl, osl = np.broadcast_arrays(np.asarray(input_tokens, dtype=float) + 0 * B,
                                   np.asarray(output_tokens, dtype=float) + 0 * B)
    mf = dis.decode.workload.mean_factor
    isl_m, osl_m = isl * mf, osl * mf
    r = np.asarray(dec_all.requests_per_replica, dtype=float)
    t_dec = ed.decode_cost(r, isl_m + osl_m / 2).total_s + 0 * B
    # The prefill pool: one prompt's latency, and its throughput with a chunk's worth together.
    t_pf = ep.prefill_cost(isl_m).total_s + 0 * B
    per_chunk = np.maximum(np.floor(dis.prefill.prefill_chunk_tokens / np.maximum(isl_m, 1.0)), 1.0)
    t_q = ep.prefill_cost(isl_m, per_chunk).total_s / per_chunk
    cap = dis.prefill.parallelism.dp / t_q
    fits_p = np.asarray(ep.evaluate(1.0, isl, np.ones_like(isl)).fits, dtype=bool)
    kv, t_kv = kv_transfer(dis, isl_m, ed)
    t_kv = t_kv + 0 * B
    over = ed.request_overhead_s(np.maximum(B, 1.0))
    base_ttft = t_pf + t_kv + t_dec / 2 + over
    # Offered load at the prefill pool, then its M/D/1 wait (one pass; a prefill-limited pool
    # is handled by Little's law below).
    x0 = B / (base_ttft + (osl_m - 1) * t_dec)
    rho = np.clip(x0 / cap, 0.0, 0.95)
    wait = rho / (2 * (1 - rho)) * t_q
    ttft = base_ttft + wait
    e2e = ttft + (osl_m - 1) * t_dec
    x = B / e2e
    limited = x >= cap
    x = np.minimum(x, cap)
    e2e = np.where(limited, B / cap, e2e)
    ttft = np.where(limited, e2e - (osl_m - 1) * t_dec, ttft)
    out_tok = x * osl_m
    return DisaggregatedMetrics(
        batch=B, ttft_s=ttft, tpot_s=t_dec, e2e_s=e2e, output_tok_s=out_tok, output_tok_s_per_chip=out_tok / dis.n_chips,
        tok_s_per_user=1.0 / t_dec, kv_transfer_s=t_kv, kv_bytes=kv, prefill_s=t_pf, prefill_wait_s=ttft - base_ttft,
        decode_step_s=t_dec, prefill_capacity_req_s=cap + 0 * B, prefill_limited=limited,
        fits_prefill=fits_p + np.zeros(B.shape, dtype=bool), fits_decode=np.asarray(dec_all.fits, dtype=bool))
