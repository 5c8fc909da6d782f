"""Pricing a step's operators on a chip: the roofline with size-dependent efficiencies.

Each operator takes max(compute time, memory time) plus a launch overhead:

    compute = FLOPs / (peak[dtype] x compute_eff)
              compute_eff = eff_max x max(m / (m + m_half), 1 / tile) x n / (n + n_half)
    memory  = bytes / (bandwidth x stream x memory_eff) + read_overhead

so a GEMM with few tokens (decode, or a lightly loaded expert) or a thin weight slice (a high TP
degree) cannot reach peak FLOP/s, and a small read cannot reach peak bandwidth. ``tile`` (the
matrix instruction's token width: a GEMV padded to it keeps 1 / tile of the peak) and ``stream``
(the share of peak bandwidth a stream benchmark reaches) are hardware physics with sources
(``llmhw.hardware.physics``); ``eff_max``, ``m_half``, ``n_half``, ``memory_eff`` and
``read_overhead`` are the family's software efficiency, fitted (``cost/params.py``).
Collectives are priced by ``comm.collective_time``.
Every quantity is a numpy array: one call prices a whole sweep.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from llmhw.accounting.operators import Op
from llmhw.core.units import compute_dtype
from llmhw.cost.comm import collective_split
from llmhw.cost.params import EngineProfile, FamilyParams
from llmhw.hardware.chip import Chip
from llmhw.hardware.interconnect import Interconnect
from llmhw.hardware.physics import ChipPhysics, chip_physics

Array = np.ndarray | float


def gemm_dtype(weight_precision: str, activations: str, flops: dict[str, float], profile: EngineProfile,
               compute: str | None = None) -> str:
    """The type a weight GEMM multiplies in. A scenario's ``precision.compute`` decides when given
    (W8A16: int8 weights read, dequantized, bf16 GEMMs), whatever peaks the chip lists. Otherwise
    quantized weights run on low-precision units only when the chip has them and the engine uses
    them (FP8 W8A8, NVFP4 W4A4), and are dequantized to the activation type elsewhere. The
    dequantization itself (a multiply-add per weight element, in registers, hidden behind the
    weight read in a memory-bound step) is not priced."""
    if compute is not None:
        return compute
    if weight_precision in ("fp8", "int8") and weight_precision in flops and (
            profile.native_fp8 or weight_precision == "int8"):
        return weight_precision
    if weight_precision == "fp4" and "fp4" in flops and profile.native_fp4:
        return "fp4"
    return activations


PAGED_GRANULARITY = 512.0  # bytes

# Bytes one chip sends per byte of its message, for the usual bandwidth-optimal algorithm of each
# collective (ring/two-shot all-reduce moves 2(p-1)/p of the message): for energy accounting.
_WIRE_FACTOR = {
    "all_reduce": lambda p: 2.0 * (p - 1) / p,
    "reduce_scatter": lambda p: (p - 1) / p,
    "all_gather": lambda p: float(p - 1),
    "all_to_all": lambda p: (p - 1) / p,
    "send": lambda p: 1.0,
}


# Operators whose weights are known only at run time: the routed experts, read after the router
# has picked them. Every other weight matrix is read in the same order every step.
DEPENDENT_WEIGHT_OPS = frozenset({"experts"})


@dataclass(frozen=True)
class TierModel:
    """Where each tensor class is read from, and the physics of each tier.

    Tiers are read in parallel (separate interfaces: HBM stacks and HBF stacks, LPDDR and flash),
    so an operator's memory time is that of its slowest tier. Reads smaller than a tier's access
    granularity cost a whole access (a flash page).

    Latency. A tier without a bytes-in-flight figure (``in_flight`` None: DRAM, SRAM, SSDs) adds
    its access latency once to every operator that touches it (the first, dependent read; the
    rest streams behind it): ~100 ns, nothing beside a kernel. A tier with one (HBF) is read
    ahead: weights of statically known operators are prefetched, so they wait for no latency but
    stream at most at the rate Little's law allows, bytes in flight / latency (a stack streams
    bandwidth B at latency L only with B x L bytes outstanding). Reads whose addresses depend on
    data computed in the step (the routed experts after the router, KV blocks, activations) wait
    for one access latency per operator as before, then stream at that same rate."""

    read_bw: tuple[float, ...]
    write_bw: tuple[float, ...]
    stream: tuple[float, ...]        # share of peak bandwidth a stream reaches (hardware)
    latency: tuple[float, ...]
    granularity: tuple[float, ...]
    weights: int = 0
    kv: int = 0
    act: int = 0
    kv_access_bytes: float = 0.0     # bytes of one KV read (a cache block of one layer)
    in_flight: tuple[float | None, ...] = ()   # bytes each tier can have outstanding (None: not read ahead)

    @property
    def single(self) -> bool:
        return self.weights == self.kv == self.act

    def paged(self, tier: int) -> bool:
        """Page-based devices (flash) read in pages of KBs; DRAM bursts of 32-64 B are below any
        tensor access llmhw prices, so they amplify nothing."""
        return self.granularity[tier] >= PAGED_GRANULARITY

    def prefetched(self, tier: int) -> bool:
        """Whether the tier is read ahead (it has a bytes-in-flight limit)."""
        return bool(self.in_flight) and self.in_flight[tier] is not None

    def stream_bw(self, tier: int) -> float:
        """Read bandwidth the tier sustains: min(peak x stream efficiency, bytes in flight / latency)
        (Little's law bounds what is actually moved, so it caps the streamed rate, not the peak)."""
        q, lat = (self.in_flight[tier] if self.in_flight else None), self.latency[tier]
        peak = self.read_bw[tier] * self.stream[tier]
        if q is None or lat <= 0.0:
            return peak
        return min(peak, q / lat)

    def amplification(self, tier: int, access: Array) -> Array:
        """Bytes moved per byte wanted when each access is ``access`` bytes (unknown: 1)."""
        if not self.paged(tier):
            return 1.0
        g = self.granularity[tier]
        a = np.asarray(access, dtype=float)
        return np.where(a > 0, np.ceil(np.maximum(a, 1.0) / g) * g / np.maximum(a, 1.0), 1.0)


def tier_model(chip: Chip, where: dict[str, int] | None = None, kv_access_bytes: float = 0.0,
               physics: ChipPhysics | None = None) -> TierModel:
    where = where or {"weights": 0, "kv_cache": 0, "activations": 0}
    mem = chip.memory
    phys = physics or chip_physics(chip)
    return TierModel(
        read_bw=tuple(t.bandwidth_bytes_per_s for t in mem),
        write_bw=tuple(t.write_bandwidth_bytes_per_s or t.bandwidth_bytes_per_s for t in mem),
        stream=phys.stream_efficiency,
        latency=tuple(t.latency_s or 0.0 for t in mem),
        granularity=tuple(t.access_granularity_bytes or 0.0 for t in mem),
        weights=where["weights"], kv=where["kv_cache"], act=where["activations"], kv_access_bytes=kv_access_bytes,
        in_flight=tuple(t.tier_bytes_in_flight for t in mem))


@dataclass(frozen=True)
class NearMemoryModel:
    """Compute at a memory tier (PIM/PNM): its FLOP/s, internal bandwidth, which operators it
    may run, and which of those it may not because their shards do not fit (docs/near_memory.md)."""

    tier: int
    flops: dict[str, float]
    bandwidth: float
    latency: float
    ops: frozenset[str]          # engine operator names it may run
    phases: frozenset[str]       # "decode", and "prefill" when it runs GEMMs


@dataclass
class StepCost:
    """Seconds of one step, and how they split."""

    compute_s: Array      # in operators whose compute time exceeds their memory time
    memory_s: Array       # in operators bound by memory traffic
    comm_s: Array         # collectives
    overhead_s: Array     # launches and the engine's per-step host time
    tier_s: tuple[Array, ...] = ()           # memory seconds each tier spends (not only on the bound)
    tier_read_bytes: tuple[Array, ...] = ()  # bytes read from each tier (page amplification included)
    tier_write_bytes: tuple[Array, ...] = ()
    near_memory_s: Array = 0.0               # seconds of operators run by near-memory compute
    near_memory_bytes: Array = 0.0           # bytes those operators read inside the memory
    comm_latency_s: Array = 0.0              # the latency (alpha) part of comm_s; the rest is bandwidth
    flops: dict[str, Array] = field(default_factory=dict)  # FLOPs by the datatype they ran in
    comm_wire_bytes: Array = 0.0             # bytes one chip puts on its links (algorithm factors applied)

    @property
    def comm_bandwidth_s(self) -> Array:
        return self.comm_s - self.comm_latency_s

    @property
    def total_s(self) -> Array:
        return self.compute_s + self.memory_s + self.comm_s + self.overhead_s + self.near_memory_s

    def scaled(self, k: float) -> StepCost:
        return StepCost(self.compute_s * k, self.memory_s * k, self.comm_s * k, self.overhead_s * k,
                        tuple(t * k for t in self.tier_s), tuple(b * k for b in self.tier_read_bytes),
                        tuple(b * k for b in self.tier_write_bytes), self.near_memory_s * k,
                        self.near_memory_bytes * k, self.comm_latency_s * k,
                        {d: f * k for d, f in self.flops.items()}, self.comm_wire_bytes * k)


def _read_time(b: Array, bw: float, stream: float, fp: FamilyParams) -> Array:
    """bytes at the share of peak the software reaches of the hardware's stream, plus a fixed time
    per read (ramp-up and tail: what makes small reads slow). Zero bytes take no time."""
    return np.where(b > 0, b / (bw * stream * fp.memory_eff) + fp.read_overhead_s, 0.0)


@dataclass
class _Totals:
    """Running sums of one step's pricing, operator by operator."""

    n_tiers: int
    compute: Array = 0.0
    memory: Array = 0.0
    comm: Array = 0.0
    comm_lat: Array = 0.0
    wire: Array = 0.0
    launches: float = 0.0
    nm_s: Array = 0.0
    nm_bytes: Array = 0.0
    flops: dict[str, Array] = field(default_factory=dict)
    tier_s: list[Array] = field(default_factory=list)
    reads: list[Array] = field(default_factory=list)
    writes: list[Array] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.tier_s, self.reads, self.writes = [0.0] * self.n_tiers, [0.0] * self.n_tiers, [0.0] * self.n_tiers

    def add_flops(self, dtype: str, flops: Array) -> None:
        self.flops[dtype] = self.flops.get(dtype, 0.0) + flops

    def add_tier(self, i: int, count: float, seconds: Array, read: Array, written: Array) -> None:
        self.tier_s[i] = self.tier_s[i] + count * seconds
        self.reads[i] = self.reads[i] + count * read
        self.writes[i] = self.writes[i] + count * written


def _price_comm(op: Op, tot: _Totals, scale_up: Interconnect | None, scale_out: Interconnect | None,
                fp: FamilyParams) -> None:
    """A collective: its latency and bandwidth time, and the bytes it puts on the wire."""
    lat, bw = collective_split(op.collective, op.comm_bytes, op.group, scale_up, scale_out, fp)
    tot.comm = tot.comm + op.count * (lat + bw)
    tot.comm_lat = tot.comm_lat + op.count * lat
    tot.wire = tot.wire + op.count * _WIRE_FACTOR[op.collective](op.group) * np.asarray(op.comm_bytes, dtype=float)


def _memory_time(op: Op, tm: TierModel, fp: FamilyParams, tot: _Totals) -> Array:
    """The operator's memory time (the slowest tier it touches), booking each tier's time and bytes."""
    if tm.single and not tm.paged(tm.weights) and not tm.prefetched(tm.weights):
        # One tier, byte-addressable: every class streams through the same interface.
        i = tm.weights
        b = np.asarray(op.bytes, dtype=float)
        t_m = _read_time(b, tm.read_bw[i], tm.stream[i], fp) + tm.latency[i]
        tot.add_tier(i, op.count, t_m, b - op.kv_write_bytes, op.kv_write_bytes)
        return t_m
    n_t = len(tm.read_bw)
    r_t: list[Array] = [0.0] * n_t
    dep: list[Array] = [0.0] * n_t          # of r_t, the bytes whose addresses the step computes
    w_t: list[Array] = [0.0] * n_t
    if np.any(np.asarray(op.weight_bytes) > 0):
        wb = op.weight_bytes * tm.amplification(tm.weights, op.weight_bytes)
        r_t[tm.weights] = r_t[tm.weights] + wb
        if op.name in DEPENDENT_WEIGHT_OPS:
            dep[tm.weights] = dep[tm.weights] + wb
    if np.any(np.asarray(op.kv_read_bytes) > 0):
        kb = op.kv_read_bytes * tm.amplification(tm.kv, tm.kv_access_bytes)
        r_t[tm.kv] = r_t[tm.kv] + kb
        dep[tm.kv] = dep[tm.kv] + kb
    w_t[tm.kv] = w_t[tm.kv] + op.kv_write_bytes
    r_t[tm.act] = r_t[tm.act] + op.act_bytes
    dep[tm.act] = dep[tm.act] + op.act_bytes
    t_m: Array = 0.0
    for i in range(n_t):
        rb, wb = np.asarray(r_t[i], dtype=float), np.asarray(w_t[i], dtype=float)
        if not (np.any(rb > 0) or np.any(wb > 0)):
            continue
        if tm.prefetched(i):
            # Read ahead: only reads that wait for the step's own results pay the access latency.
            t_i = _read_time(rb, tm.stream_bw(i), 1.0, fp) + _read_time(wb, tm.write_bw[i], tm.stream[i], fp) \
                + np.where(np.asarray(dep[i], dtype=float) > 0, tm.latency[i], 0.0)
        else:
            t_i = _read_time(rb, tm.read_bw[i], tm.stream[i], fp) \
                + _read_time(wb, tm.write_bw[i], tm.stream[i], fp) + tm.latency[i]
        tot.add_tier(i, op.count, t_i, rb, wb)
        t_m = np.maximum(t_m, t_i)
    return t_m


def _compute_time(op: Op, flops: dict[str, float], activations: str, fp: FamilyParams,
                  profile: EngineProfile, floor: float) -> tuple[str, Array]:
    """The datatype the operator computes in and its compute time at the size-dependent efficiency.
    ``floor`` is the hardware's: a GEMV padded to the matrix tile keeps 1 / tile of the peak."""
    if op.kind == "attention":
        dtype, act_peak = compute_dtype(flops, activations)
        return dtype, np.asarray(op.flops, dtype=float) / (act_peak * fp.attention_eff)
    dtype, peak = compute_dtype(flops, gemm_dtype(op.weight_precision, activations, flops, profile,
                                                  op.compute_precision))
    peak *= fp.fp4_eff if dtype == "fp4" else fp.fp8_eff if dtype == "fp8" else 1.0
    m = np.asarray(op.m, dtype=float)
    eff = fp.compute_eff_max * np.maximum(m / (m + fp.compute_m_half), floor) \
        * (op.n / (op.n + fp.compute_n_half))
    return dtype, np.asarray(op.flops, dtype=float) / (peak * eff)


def _near_memory_time(op: Op, tm: TierModel, near: NearMemoryModel, activations: str, fp: FamilyParams,
                      profile: EngineProfile) -> tuple[str, Array, Array]:
    """Near memory: the operator's bytes on that tier at the internal bandwidth times the memory's
    stream efficiency (the host software's fitted shares and read overheads do not apply to logic
    in the memory), its FLOPs at the near-memory units' peak (same datatype rules as the host).
    Returns the datatype asked of the units, the time and the bytes read inside the memory."""
    on_tier = (op.weight_bytes if tm.weights == near.tier else 0.0) \
        + (op.kv_read_bytes if tm.kv == near.tier else 0.0)
    dtype = activations if op.kind == "attention" else gemm_dtype(op.weight_precision, activations,
                                                                  near.flops, profile, op.compute_precision)
    nm_peak = compute_dtype(near.flops, dtype)[1]
    t_near = np.maximum(np.asarray(op.flops, dtype=float) / nm_peak,
                        np.asarray(on_tier, dtype=float) / (near.bandwidth * tm.stream[near.tier])) + near.latency
    return dtype, t_near, on_tier


def price_ops(ops: list[Op], chip: Chip, flops: dict[str, float], activations: str, fp: FamilyParams,
              profile: EngineProfile, scale_up: Interconnect | None, scale_out: Interconnect | None,
              requests: Array = 0.0, tiers: TierModel | None = None, near: NearMemoryModel | None = None,
              phase: str = "decode", physics: ChipPhysics | None = None) -> StepCost:
    """Seconds of one step; ``requests`` in the step each add the engine's per-token host time.
    Operators the near-memory compute may run go there when that is faster. ``physics`` is the
    chip's (default: from the catalog)."""
    phys = physics or chip_physics(chip)
    tm = tiers or tier_model(chip, physics=phys)
    tot = _Totals(len(tm.read_bw))
    nm = near if near is not None and phase in near.phases else None
    for op in ops:
        if op.kind == "comm":
            _price_comm(op, tot, scale_up, scale_out, fp)
            continue
        t_m = _memory_time(op, tm, fp, tot)
        dtype, t_c = _compute_time(op, flops, activations, fp, profile, phys.gemv_floor)
        host_flops = np.asarray(op.flops, dtype=float)
        if nm is not None and op.name in nm.ops:
            # The host's FLOPs of an operator near memory may run are booked under the datatype
            # asked of the near-memory units (behaviour kept from before this function was split).
            dtype, t_near, on_tier = _near_memory_time(op, tm, nm, activations, fp, profile)
            offload = t_near < np.maximum(t_c, t_m)
            tot.add_flops("near_memory", op.count * np.where(offload, host_flops, 0.0))
            tot.nm_s = tot.nm_s + op.count * np.where(offload, t_near, 0.0)
            tot.nm_bytes = tot.nm_bytes + op.count * np.where(offload, on_tier, 0.0)
            t_c, t_m = np.where(offload, 0.0, t_c), np.where(offload, 0.0, t_m)
            host_flops = np.where(offload, 0.0, host_flops)
        tot.add_flops(dtype, op.count * host_flops)
        cbound = t_c > t_m
        tot.compute = tot.compute + op.count * np.where(cbound, t_c, 0.0)
        tot.memory = tot.memory + op.count * np.where(cbound, 0.0, t_m)
        tot.launches += op.count
    return _step_cost(tot, fp, profile, requests, phys.kernel_launch_s)


def _step_cost(tot: _Totals, fp: FamilyParams, profile: EngineProfile, requests: Array,
               launch_s: float) -> StepCost:
    """The sums as a StepCost, every field broadcast to the step's shape, launch and host overheads added."""
    overhead = tot.launches * (launch_s + fp.kernel_overhead_s) + profile.step_overhead_s \
        + profile.token_overhead_s * np.asarray(requests, dtype=float)
    z = np.zeros(np.broadcast(tot.compute, tot.memory, tot.comm).shape)
    return StepCost(tot.compute + z, tot.memory + z, tot.comm + z, overhead + z, tuple(t + z for t in tot.tier_s),
                    tuple(r + z for r in tot.reads), tuple(w + z for w in tot.writes), tot.nm_s + z,
                    tot.nm_bytes + z, tot.comm_lat + z, {d: f + z for d, f in tot.flops.items()}, tot.wire + z)
