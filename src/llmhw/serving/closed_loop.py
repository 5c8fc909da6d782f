"""Scenario in, metrics out: TTFT, TPOT, throughput, memory fit and where the time goes.

The serving model is a closed loop (docs/engine.md): ``batch`` requests are in flight on the
whole system, each with ``input_tokens`` in and ``output_tokens`` out, and a finished request is
replaced at once, as in InferenceMAX-style concurrency sweeps. A replica (one of ``dp``) holds
r = ceil(batch / dp) of them. In steady state every request costs one prefill and
``output_tokens`` decode steps, so

    e2e  = r x T_prefill + output_tokens x T_decode(r)          (time a request is in flight)
    output_tok_s = batch x output_tokens / e2e                  (Little's law)
    ttft = T_prefill + the wait for prefills queued ahead of it and for the step in progress
    tpot = (e2e - ttft) / (output_tokens - 1)

(docs/engine.md gives the queueing term and the attention-data-parallel coupling.)

T_decode is one decode step with the r requests at the middle of their output (contexts spread
evenly over [input, input + output] average to that), T_prefill one prompt's prefill.
Prefills of other requests interleave with a request's decode steps, which is why TPOT under
load exceeds a bare decode step.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, NamedTuple

import numpy as np

from llmhw.accounting.memory import MemoryModel
from llmhw.accounting.operators import (
    OperatorModel,
    Step,
    decode_step,
    parallel_decode_step,
    prefill_step,
)
from llmhw.accounting.sharding import kv_elements_per_token_per_chip
from llmhw.core.errors import LlmhwError
from llmhw.core.units import SECONDS_PER_DAY, bytes_per_element
from llmhw.cost.params import engine_profile, family_key, family_params
from llmhw.cost.roofline import NearMemoryModel, StepCost, TierModel, price_ops, tier_model
from llmhw.hardware.near_memory import (
    gemv_item,
    internal_bandwidth,
    kv_head_item,
    shard_fit,
    tier_peak_flops,
)
from llmhw.hardware.package import PackagePower, package_power
from llmhw.hardware.physics import chip_physics
from llmhw.scenario import Scenario
from llmhw.serving.metrics import MemoryUse, Metrics, Phase, TierUse, concatenate

# Operators near-memory "gemv" units can run besides the shard-checked matrices.
GEMV_OPS = ("kv_b_proj", "shared_experts", "router")

# A KV read fetches one cache block of one layer: vLLM's default block is 16 tokens.
KV_BLOCK_TOKENS = 16


Array = np.ndarray


class Engine:
    """A scenario's static part, ready to price arrays of batch sizes and lengths."""

    def __init__(self, scenario: Scenario):
        s = self.scenario = scenario
        self.profile = engine_profile(s.engine)
        chip = s.chip
        unit = s.compute_unit or chip.default_compute_unit
        self.flops = chip.flops(s.compute_unit)
        self.params = family_params(family_key(chip.family, unit if chip.compute_units else None))
        ideal = s.engine == "ideal"
        # The pure roofline: every memory streams at its peak, nothing waits for a launch.
        self.physics = chip_physics(chip, s.compute_unit, ideal=ideal)
        if ideal:
            self.physics = replace(self.physics, kernel_launch_s=0.0)
            self.params = replace(self.params, compute_eff_max=1.0, compute_m_half=0.0,
                                  compute_n_half=0.0, fp8_eff=1.0, fp4_eff=1.0, attention_eff=1.0,
                                  memory_eff=1.0, read_overhead_s=0.0, kernel_overhead_s=0.0,
                                  comm_latency_s=0.0, comm_bw_eff=1.0)
        else:
            self.params = self.params.scaled(self.profile.kernel_eff)
        system = s.system
        self.scale_up = system.scale_up_network
        self.scale_out = system.scale_out_network
        if s.n_chips > 1 and self.scale_up is None and self.scale_out is None:
            raise LlmhwError(f"{s.n_chips} chips of {chip.id} need an interconnect; the chip lists none",
                             field="hardware", accepted="a chip or system with scale_up or scale_out")
        self.notes: list[str] = []
        self.package = self._package_power(chip)
        self.ops = OperatorModel(s)
        self.memory = MemoryModel.of(s)
        self.placement = self.memory.placement
        kv_block = KV_BLOCK_TOKENS * kv_elements_per_token_per_chip(s.run_model, s.parallelism.tp) \
            * bytes_per_element(s.precision.kv_cache)
        self.tiers = self._throttled(tier_model(chip, self.placement.where, kv_block, self.physics), chip)
        self.near = self._near_memory(chip)
        self.chunk = self.memory.chunk   # Scenario.prefill_chunk_tokens

    def _package_power(self, chip: Any) -> PackagePower | None:
        """A chip with a 3D stack shares one power envelope between its logic and the stack (the
        thermal cap under the stack and the package's TDP, memory included: hardware/package.py,
        ``package_power``): the clock, and so every peak FLOP/s, drops by the envelope's fraction
        here, the stack's data rate in :meth:`_throttled`."""
        base = self.scenario.base_hardware
        base = getattr(base, "chip", base)
        pw = package_power(chip, base if base.id == chip.id else chip)
        if pw is None or pw.fraction >= 1.0:
            return pw
        self.flops = {k: v * pw.fraction for k, v in self.flops.items()}
        limit = (f"{chip.stacked.max_logic_power_density_w_per_m2 / 1e6:.2f} W/mm^2 x "
                 f"{chip.die_area_m2 * 1e6:.0f} mm^2 = {pw.thermal_w:.0f} W" if pw.binding == "thermal"
                 else f"the {pw.tdp_w:.0f} W TDP")
        self.notes.append(f"3D stack {chip.stacked.id}: logic ({pw.logic_w:.0f} W at full clock) and stack "
                          f"({pw.stack_access_w:.0f} W of reads at full bandwidth + {pw.stack_static_w:.0f} W static) "
                          f"share {limit}: clock and stack data rate at {pw.fraction:.0%}")
        return pw

    def _throttled(self, tiers: TierModel, chip: Any) -> TierModel:
        """The stack's tier at the data rate its share of the power envelope allows."""
        pw = self.package
        if pw is None or pw.fraction >= 1.0:
            return tiers
        i = next(j for j, t in enumerate(chip.memory) if t.id == chip.stacked.id)

        def scale(bw: tuple[float, ...]) -> tuple[float, ...]:
            return tuple(b * pw.fraction if j == i else b for j, b in enumerate(bw))
        return replace(tiers, read_bw=scale(tiers.read_bw), write_bw=scale(tiers.write_bw))

    def _near_memory(self, chip: Any) -> NearMemoryModel | None:
        """Which operators the chip's near-memory compute may run, after the shard check."""
        nm = chip.near_memory
        if nm is None:
            return None
        s, m, tp = self.scenario, self.scenario.run_model, self.scenario.parallelism.tp
        tier = chip.near_memory_tier
        index = next(i for i, t in enumerate(chip.memory) if t is tier or t.id == tier.id)
        wb = bytes_per_element(s.precision.weights)
        h = m.hidden_size
        items: dict[str, tuple[str, Any]] = {
            "qkv_proj": ("gemv", gemv_item(int(m.q_width / tp + 2 * m.n_kv_heads * m.head_dim / tp) or 1, h, wb)),
            "o_proj": ("gemv", gemv_item(h, max(1, m.attn_out_width // tp), wb)),
            "lm_head": ("gemv", gemv_item(max(1, m.vocab_size // tp), h, wb)),
        }
        if m.intermediate_size:
            items["ffn"] = ("gemv", gemv_item(h, max(1, m.intermediate_size // tp), wb))
        if m.moe is not None:
            split = max(1, s.parallelism.expert_chips // s.parallelism.ep)
            items["experts"] = ("moe_experts", gemv_item(h, max(1, m.moe.expert_intermediate_size // split), wb))
        kvb = bytes_per_element(s.precision.kv_cache)
        if m.mla is not None:
            items["attention"] = ("decode_attention", kv_head_item(
                s.workload.peak_context, m.mla.kv_lora_rank + m.mla.qk_rope_head_dim, kvb, tensors=1))
        else:
            items["attention"] = ("decode_attention", kv_head_item(s.workload.peak_context, m.head_dim, kvb))
        fits = {f.tensor: f for f in shard_fit(nm, {k: v for k, (_, v) in items.items()})}
        names: set[str] = set()
        for op, (kind, _) in items.items():
            if kind not in nm.ops and not (kind == "gemv" and "gemm" in nm.ops):
                continue
            if not fits[op].fits:
                self.notes.append(f"{nm.id}: {op} stays on the main compute: {fits[op].why}")
                continue
            names.add(op)
        if "gemv" in nm.ops or "gemm" in nm.ops:
            names |= set(GEMV_OPS)
        phases = {"decode", "prefill"} if "gemm" in nm.ops else {"decode"}
        return NearMemoryModel(tier=index, flops=tier_peak_flops(nm, tier), bandwidth=internal_bandwidth(nm, tier),
                               latency=tier.latency_s or 0.0, ops=frozenset(names), phases=frozenset(phases))

    @property
    def engine_cap(self) -> int:
        """The most requests the deployment's engines schedule at once: the engine's cap
        (vLLM's max_num_seqs, TensorRT-LLM's max_batch_size) on each data-parallel replica."""
        return self.profile.max_batch * self.scenario.parallelism.dp

    def request_overhead_s(self, in_flight: Any = 0.0) -> Any:
        """Time a request spends outside the engine's steps: the engine's per-request overhead and,
        when served, the front end's fixed time and its wait behind the ``in_flight`` requests it
        streams (docs/engine.md section 3)."""
        p = self.profile
        if self.scenario.workload.harness != "served":
            return p.request_overhead_s
        return p.request_overhead_s + p.api_overhead_s + p.api_queue_s * np.asarray(in_flight, dtype=float)

    def price(self, step: Step) -> StepCost:
        """One step's operators on this scenario's chip (one pipeline stage)."""
        s = self.scenario
        return price_ops(self.ops.ops(step), s.chip, self.flops, s.precision.activations, self.params,
                         self.profile, self.scale_up, self.scale_out, requests=step.logits, tiers=self.tiers,
                         near=self.near, phase=step.phase, physics=self.physics)

    def decode_cost(self, requests: Any, context: Any, positions: int = 1) -> StepCost:
        """One decode step of ``requests`` (per replica) at ``context``. With PP the requests are
        split into pp micro-batches that take turns on the stages, so a token crosses every
        stage once per step. ``positions`` > 1: parallel decoding of that many positions per
        request (accounting/operators.py, parallel_decode_step)."""
        pp = self.scenario.parallelism.pp
        return self.price(self.decode_step(requests, context, positions)).scaled(pp)

    def decode_step(self, requests: Any, context: Any, positions: int = 1) -> Step:
        """The decode step one pipeline stage runs: the replica's requests over pp micro-batches."""
        r = np.maximum(np.asarray(requests, float) / self.scenario.parallelism.pp, 1.0)
        if positions == 1:
            return decode_step(self.scenario.model, r, context)
        return parallel_decode_step(self.scenario.model, r, context, positions)

    def prefill_cost(self, prompt: Any, prompts: Any = 1.0) -> StepCost:
        """Prefill of ``prompts`` prompts together through all pipeline stages, in chunks of the
        engine's size."""
        pp = self.scenario.parallelism.pp
        L = np.asarray(prompt, dtype=float)
        n_chunks = np.ceil(L * prompts / self.chunk)
        # Price the prompts in one pass, then add the weight re-reads of the extra chunks.
        c = self.price(prefill_step(self.scenario.model, L, prompts))
        wt = self.tiers.weights
        extra = (n_chunks - 1) * (self.memory.weights / (self.tiers.read_bw[wt] * self.tiers.stream[wt]
                                                         * self.params.memory_eff))
        c = c.scaled(pp)
        return StepCost(c.compute_s, c.memory_s + extra * pp, c.comm_s, c.overhead_s, c.tier_s,
                        c.tier_read_bytes, c.tier_write_bytes, c.near_memory_s, c.near_memory_bytes,
                        c.comm_latency_s, c.flops, c.comm_wire_bytes)

    # Large sweeps are priced in blocks that stay in the CPU cache: each metric is a chain of
    # element-wise numpy passes, and a block of this size is about twice as fast as one pass
    # over millions of points.
    BLOCK = 16384

    def evaluate(self, batch: Any, input_tokens: Any, output_tokens: Any) -> Metrics:
        """Every metric as arrays over the broadcast of the three inputs. ``batch`` may hold -1
        for 'max' (the largest batch that fits, capped by the engine's max_batch)."""
        B, isl, osl = np.broadcast_arrays(np.asarray(batch, dtype=float), np.asarray(input_tokens, dtype=float),
                                          np.asarray(output_tokens, dtype=float))
        if B.size <= self.BLOCK:
            return self._evaluate(B, isl, osl)
        flat = [a.ravel() for a in (B, isl, osl)]
        parts = [self._evaluate(*(a[k:k + self.BLOCK] for a in flat)) for k in range(0, B.size, self.BLOCK)]
        return concatenate(parts, B.shape)

    def _evaluate(self, batch: Any, input_tokens: Any, output_tokens: Any) -> Metrics:
        s = self.scenario
        B, isl, osl = np.broadcast_arrays(np.asarray(batch, dtype=float), np.asarray(input_tokens, dtype=float),
                                          np.asarray(output_tokens, dtype=float))
        shape = B.shape
        B, r, memory, loads, fits, limits = self._memory(B, isl, osl)
        # Lengths vary per request in [ratio x L, L] (benchmark random range): the work follows
        # their means, the memory their maxima (above).
        mf = s.workload.mean_factor
        isl_m, osl_m = isl * mf, osl * mf
        dec = self.decode_cost(r, isl_m + osl_m / 2)
        pre = self.prefill_cost(isl_m)
        loop = self._closed_loop(B, r, isl_m, osl_m, dec.total_s, pre.total_s)
        out = B * osl_m / loop.e2e
        max_batch, max_batch_memory = limits
        return Metrics(
            batch=B, ttft_s=loop.ttft, tpot_s=loop.tpot, e2e_s=loop.e2e, output_tok_s=out,
            output_tok_s_per_chip=out / s.n_chips, tok_s_per_user=1.0 / loop.tpot, prefill_tok_s=isl_m / loop.ttft,
            fits=fits, max_batch=max_batch, max_batch_memory=max_batch_memory,
            max_batch_engine=np.full(shape, float(self.engine_cap)), memory=memory,
            tiers=self._tiers(loads, dec, pre, loop, osl_m, shape), decode=Phase.of(dec, shape),
            prefill=Phase.of(pre, shape), requests_per_replica=r, mean_output_tokens=osl_m, mean_input_tokens=isl_m)

    def _memory(self, B: Array, isl: Array, osl: Array) -> tuple[Array, Array, MemoryUse, list[Array], Array,
                                                               tuple[Array, Array]]:
        """(batch with 'max' resolved, requests per replica, memory use, loads per tier, fits,
        (max_batch, max_batch_memory)) at the peak context of every request."""
        dp = self.scenario.parallelism.dp
        ctx = isl + osl
        max_batch_memory = self.memory.max_requests(ctx, isl)
        max_batch_memory *= dp
        # Each data-parallel replica runs its own engine instance, with its own scheduler cap.
        max_batch = np.minimum(max_batch_memory, self.engine_cap)
        # 'max' when not one request fits is priced at one request (fits stays False): a batch
        # of 0 has no tokens to share the energy and cost by.
        B = np.where(B < 0, np.maximum(max_batch, 1.0), B)
        r = np.maximum(np.ceil(B / dp), 1.0)
        mem = self.memory.at(r, ctx, isl)
        z = np.zeros(B.shape)
        use = MemoryUse(weights_bytes=mem.weights + z, kv_cache_bytes=mem.kv, activation_bytes=mem.act,
                        total_bytes=mem.total, capacity_bytes=np.full(B.shape, sum(self.memory.capacity)),
                        usable_bytes=np.full(B.shape, sum(self.memory.usable)))
        return B, r, use, mem.loads, mem.fits & (B >= 1), (max_batch, max_batch_memory)

    def _closed_loop(self, B: Array, r: Array, isl_m: Array, osl_m: Array, t_dec: Array, t_pf: Array) -> _Loop:
        """TTFT, end-to-end time and TPOT of a request in the closed loop (docs/engine.md)."""
        s, profile = self.scenario, self.profile
        req = self.request_overhead_s(0.0)      # the front end's queue part is TTFT's alone
        api_wait = self.request_overhead_s(np.maximum(B, 1.0)) - req
        if profile.batching != "continuous":
            # A static batch: the replica's r requests start together, their prompts are prefilled
            # in one pass (static) or one after another (static_sequential: transformers-neuronx
            # encodes each prompt on its own), then the batch decodes together until it ends. Every
            # first token waits for all r prompts; no prefill interleaves with the decode steps.
            t_q = t_pf if profile.batching == "static_sequential" else self.prefill_cost(isl_m, r).total_s / r
            ttft = r * t_q + req + api_wait
            e2e = ttft + np.maximum(osl_m - 1, 0) * t_dec
            return _Loop(ttft, e2e, t_dec + 0 * ttft, r, t_q, t_pf)
        # With attention data-parallel MoE the replicas step together (they meet at every MoE
        # layer), so a prefill on any replica stalls all of them: the queue is the whole batch.
        # Replicas that each hold all experts (moe_dp: replicated) run independently.
        coupled = s.parallelism.expert_dp > 1 and s.model.is_moe
        Q = np.maximum(B, 1.0) if coupled else r
        # Queued prompts are prefilled together, as many as fit in one chunk (and as there are
        # requests): each costs t_q.
        chunk_prompts = np.clip(np.floor(self.chunk / np.maximum(isl_m, 1.0)), 1.0, Q)
        t_q = self.prefill_cost(isl_m, chunk_prompts).total_s / chunk_prompts
        # A benchmark starts its Q requests together: each waits behind the (Q - 1) / 2 that
        # were admitted before it on average. Later waves do not queue: a wave returns spread
        # over at least its own prefill time (each request left the queue one prefill after the
        # previous one) plus its output-length spread, so prompts arrive no faster than they are
        # served. ``queue_factor`` (fitted per engine) is the share of requests that meet a
        # synchronized wave. A faster decode thus never lengthens the queue: it returns requests
        # sooner, but no closer together than the prefills that spaced them (docs/engine.md).
        queued = profile.queue_factor * (Q - 1) / 2
        others = (r - 1) / r
        admission = profile.dp_admission_wait_steps * t_dec if coupled else 0.0
        ttft = t_pf + queued * t_q + others * t_dec / 2 + admission + req + api_wait
        work = Q * t_q + osl_m * t_dec + req
        e2e = np.maximum(work, ttft + (osl_m - 1) * t_dec)
        tpot = np.where(osl_m > 1, (e2e - ttft) / np.maximum(osl_m - 1, 1), t_dec)
        return _Loop(ttft, e2e, tpot, Q, t_q, t_pf)

    def _tiers(self, loads: list[Array], dec: StepCost, pre: StepCost, loop: _Loop, osl_m: Array,
               shape: tuple[int, ...]) -> tuple[TierUse, ...]:
        """Each tier in steady state: bytes held, read and write rates, and how long flash lasts."""
        z = np.zeros(shape)
        out = []
        for i, t in enumerate(self.scenario.chip.memory):
            # Per chip: every request's decode steps and its prefill, per e2e.
            rd = (osl_m * dec.tier_read_bytes[i]
                  + loop.Q * loop.t_q / np.maximum(loop.t_pf, 1e-30) * pre.tier_read_bytes[i]) / loop.e2e
            wr = (osl_m * dec.tier_write_bytes[i] + loop.Q * pre.tier_write_bytes[i]) / loop.e2e
            life = (t.capacity_bytes * t.write_endurance_cycles / np.maximum(wr, 1e-30) / SECONDS_PER_DAY
                    if t.write_endurance_cycles else np.full(shape, np.inf))
            out.append(TierUse(used_bytes=loads[i] + z, read_bytes_per_s=rd, write_bytes_per_s=wr,
                               lifetime_days=np.where(wr > 0, life, np.inf)))
        return tuple(out)


class _Loop(NamedTuple):
    """A request's times in the closed loop and the prefill queue behind them."""

    ttft: Array
    e2e: Array
    tpot: Array
    Q: Array          # requests whose prefills queue together
    t_q: Array        # prefill seconds per queued prompt (prompts batched per chunk)
    t_pf: Array       # one prompt's prefill alone
