"""The public API: the one module that joins the stages (scenario -> accounting -> cost ->
serving -> economics) and builds the JSON users and scripts read."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from llmhw.accounting.fit import FitResult, context_notes
from llmhw.accounting.fit import fit as fit_memory
from llmhw.accounting.operators import Step, prefill_step
from llmhw.accounting.operators import totals as operator_sums
from llmhw.core.errors import LlmhwError, shown
from llmhw.core.units import DAYS_PER_YEAR
from llmhw.cost.comm import CollectiveCost
from llmhw.cost.comm import collective_cost as _collective_cost
from llmhw.cost.params import FamilyParams
from llmhw.cost.params import family_params as _family_params
from llmhw.cost.roofline import StepCost, tier_model
from llmhw.cost.trust import CalibrationUsed, chip_calibration
from llmhw.economics.report import Constants, constants_for, economics_json
from llmhw.explore.query import pareto as pareto_sweep
from llmhw.explore.query import query as query_sweep
from llmhw.explore.search import SearchResult, scenario_of
from llmhw.explore.search import search as _search
from llmhw.explore.sweep import as_scenario, check_finite, evaluate, sweep, sweep_economics
from llmhw.explore.sweep_run import run_sweep
from llmhw.explore.vary import apply as apply_varied
from llmhw.hardware.chip import Chip
from llmhw.hardware.interconnect import Interconnect
from llmhw.hardware.package import PackagePower
from llmhw.hardware.spec_help import Derived
from llmhw.hardware.spec_help import derived as derived_figures
from llmhw.hardware.spec_help import template as spec_template
from llmhw.hardware.spec_help import warnings as spec_warnings
from llmhw.hardware.system import System
from llmhw.scenario import Scenario
from llmhw.scenario.disaggregated import Disaggregated
from llmhw.scenario.economics import EconomicsParams, params_for
from llmhw.serving.closed_loop import Engine
from llmhw.serving.disaggregated import DisaggregatedMetrics
from llmhw.serving.disaggregated import evaluate as evaluate_disaggregated
from llmhw.serving.metrics import METRICS, Metrics

__all__ = ["Metrics", "Prediction", "TrainingPrediction", "train", "collective_cost", "economics_constants", "evaluate", "family_params", "fit",
           "near_memory_ops", "operator_totals", "package_power", "pareto_sweep", "predict", "query_sweep", "run_sweep",
           "step_cost", "sweep", "sweep_economics", "whatif"]


@dataclass
class Prediction:
    """One scenario's metrics at one design point (SI units): ``metrics`` typed as the serving
    model hands them on; ``to_dict`` is the JSON contract of ``llmhw predict``."""

    scenario: Scenario
    metrics: Metrics
    notes: list[str] = field(default_factory=list)
    placement_where: dict[str, int] = field(default_factory=dict)

    @property
    def values(self) -> dict[str, Any]:
        """The flat named values of ``llmhw.sweep``, at this one point."""
        return self.metrics.as_dict()

    batch = property(lambda self: self.metrics.batch)
    ttft_s = property(lambda self: self.metrics.ttft_s)
    tpot_s = property(lambda self: self.metrics.tpot_s)
    e2e_s = property(lambda self: self.metrics.e2e_s)
    output_tok_s = property(lambda self: self.metrics.output_tok_s)
    output_tok_s_per_chip = property(lambda self: self.metrics.output_tok_s_per_chip)
    tok_s_per_user = property(lambda self: self.metrics.tok_s_per_user)
    prefill_tok_s = property(lambda self: self.metrics.prefill_tok_s)
    fits = property(lambda self: self.metrics.fits)
    max_batch = property(lambda self: self.metrics.max_batch)

    def to_dict(self) -> dict[str, Any]:
        m, s = self.metrics, self.scenario
        tiers = s.chip.memory
        phases = {}
        for name, ph in (("prefill", m.prefill), ("decode", m.decode)):
            tm = ph.time
            phases[name] = {"compute_s": tm.compute_s, "memory_s": tm.memory_s, "comm_s": tm.comm_s,
                            "overhead_s": tm.overhead_s, "near_memory_s": tm.near_memory_s, "total_s": tm.total_s,
                            "bound": tm.bound(), "comm_latency_s": tm.comm_latency_s,
                            "comm_bandwidth_s": tm.comm_bandwidth_s,
                            "memory_tiers_s": {t.id: tm.tier_s[i] for i, t in enumerate(tiers)}}
        where = self.placement_where
        reads = tier_model(s.chip)
        memory_tiers = []
        for i, (t, use) in enumerate(zip(tiers, m.tiers, strict=True)):
            memory_tiers.append({
                "name": t.id, "capacity_bytes": t.capacity_bytes, "used_bytes": use.used_bytes,
                "holds": [c for c, k in where.items() if k == i],
                "read_bytes_per_s": use.read_bytes_per_s, "write_bytes_per_s": use.write_bytes_per_s,
                "time_s": m.decode.time.tier_s[i],
                "lifetime_days": None if use.lifetime_days == float("inf") else use.lifetime_days,
                # read ahead (flash): the reads it can have outstanding, and the rate that allows
                "bytes_in_flight": reads.in_flight[i],
                "read_ahead_bandwidth_bytes_per_s": reads.stream_bw(i) if reads.prefetched(i) else None,
            })
        # energy, power, cost and carbon per token; None and a note when a constant is missing
        econ, econ_notes = economics_json(m, s)
        out = {
            "model": s.model.id, "hardware": s.system.id, "chip": s.chip.id, "n_chips": s.n_chips,
            "engine": s.engine, "parallelism": s.parallelism.model_dump(),
            "precision": s.precision.model_dump(),
            "overrides": dict(s.overrides),
            "placement": {c: tiers[i].id for c, i in where.items()},
            "input_tokens": s.workload.input_tokens, "output_tokens": s.workload.output_tokens,
            "batch": int(m.batch),
            **{k: getattr(m, k) for k in METRICS},
            "prefill_tok_s": m.prefill_tok_s,
            "fits": bool(m.fits),
            "max_batch": int(m.max_batch),
            "max_batch_memory": int(m.max_batch_memory),
            "max_batch_engine": int(m.max_batch_engine),
            "memory": asdict(m.memory),
            "memory_tiers": memory_tiers,
            "breakdown": phases,
            **econ,
            "calibration": self.calibration.to_dict(),
            "notes": [*self.notes, *econ_notes],
        }
        check_finite(out, s)
        return out

    @property
    def calibration(self) -> CalibrationUsed:
        """Which calibration this prediction used and the median error of its class of chip."""
        s = self.scenario
        return chip_calibration(s.chip, s.compute_unit, s.engine)


@dataclass
class DisaggregatedPrediction:
    """A prefill/decode-disaggregated deployment's metrics (docs/search.md)."""

    scenario: Disaggregated
    metrics: DisaggregatedMetrics

    def to_dict(self) -> dict[str, Any]:
        m = {k: v.item() if hasattr(v, "item") else v for k, v in self.metrics.as_dict().items()}
        pools = {name: {"n_chips": p.n_chips, "parallelism": p.parallelism.model_dump(), "hardware": p.chip.id,
                        "engine": p.engine}
                 for name, p in (("prefill", self.scenario.prefill), ("decode", self.scenario.decode))}
        return {
            "model": self.scenario.decode.model.id, "n_chips": self.scenario.n_chips,
            **{k: m[k] for k in ("batch", *METRICS)}, "fits": bool(m["fits"]),
            "fits_prefill": bool(m["fits_prefill"]), "fits_decode": bool(m["fits_decode"]),
            "limiting_pool": "prefill" if m["prefill_limited"] else "decode",
            "prefill_capacity_req_s": m["prefill_capacity_req_s"], "kv_bytes_per_request": m["kv_bytes"],
            "breakdown": {"kv_transfer_s": m["kv_transfer_s"], "prefill_s": m["prefill_s"],
                          "prefill_wait_s": m["prefill_wait_s"], "decode_step_s": m["decode_step_s"]},
            "pools": pools,
        }


def predict_disaggregated(scenario: Disaggregated | dict[str, Any]) -> DisaggregatedPrediction:
    """A scenario with a ``disaggregation:`` block: a prefill pool and a decode pool."""
    dis = scenario if isinstance(scenario, Disaggregated) else Disaggregated.from_dict(scenario)
    w = dis.decode.workload
    batch = -1 if w.batch == "max" else int(w.batch)
    return DisaggregatedPrediction(dis, evaluate_disaggregated(dis, batch, w.input_tokens, w.output_tokens))


def predict(scenario: Scenario | dict[str, Any]) -> Prediction:
    """Metrics of one scenario (a Scenario, or the same mapping as the YAML file; a mapping with
    a ``disaggregation:`` block goes to :func:`predict_disaggregated`)."""
    if isinstance(scenario, dict | Disaggregated) and (isinstance(scenario, Disaggregated)
                                                        or "disaggregation" in scenario):
        return predict_disaggregated(scenario)  # type: ignore[return-value]
    s = as_scenario(scenario)
    w = s.workload
    batch = -1 if w.batch == "max" else int(w.batch)
    eng = Engine(s)
    m = eng.evaluate(batch, w.input_tokens, w.output_tokens).point()
    notes = [*eng.notes, *context_notes(s), *_wear_notes(s, m), *_open_loop_only_notes(s)]
    if w.batch == "max" and m.max_batch_memory < 1:
        notes.append("batch 'max': not one request fits in memory; the metrics are for batch 1, which does not "
                     "fit either (see below and `llmhw fit`)")
    if m.max_batch_engine < m.max_batch_memory:
        notes.append(f"max_batch {m.max_batch:.0f} is the engine's limit ({s.engine}: "
                     f"{m.max_batch_engine:.0f} requests at once over its {s.parallelism.dp} replica(s)); "
                     f"memory would hold {m.max_batch_memory:.0f}")
    if not m.fits:
        n_notes = len(notes)
        for t, use, usable in zip(s.chip.memory, m.tiers, eng.memory.usable, strict=True):
            over = use.used_bytes - usable
            if over > 0:
                notes.append(f"does not fit: {t.id} holds {use.used_bytes / 1e9:.2f} GB per chip, "
                             f"{over / 1e9:.2f} GB over its usable {usable / 1e9:.2f} GB; metrics assume it did "
                             f"(see `llmhw fit`)")
        if len(notes) == n_notes and m.batch >= 1:
            # The bytes shown are the most loaded stage's; another stage overflows a tier of its own.
            notes.append("does not fit: a pipeline stage other than the most loaded one overflows a memory tier; "
                         "metrics assume it did (see `llmhw fit`)")
    check_finite(m.as_dict(), s)
    return Prediction(s, m, notes, dict(eng.placement.where))


def _open_loop_only_notes(s: Scenario) -> list[str]:
    """Workload fields only the open-loop simulator models: predict's closed loop at fixed lengths
    prices the same step without them, and says so rather than ignore them silently."""
    w = s.workload
    used = [name for name, on in (("arrival", w.arrival is not None), ("lengths", w.lengths is not None),
                                  ("speculative", w.speculative is not None),
                                  ("prefix_cached_tokens", w.prefix_cached_tokens > 0)) if on]
    if not used:
        return []
    return [f"workload.{', workload.'.join(used)}: modelled by `llmhw simulate` (open loop); this closed-loop "
            "prediction does not apply them"]


def _wear_notes(s: Scenario, m: Metrics) -> list[str]:
    """Memories that wear out before the service life the economics assume (the scenario's)."""
    years = params_for(s).service_life_years
    notes = []
    for t, use in zip(s.chip.memory, m.tiers, strict=True):
        if use.lifetime_days < years * DAYS_PER_YEAR:
            notes.append(f"{t.id} wears out in {use.lifetime_days:,.0f} days at this write rate "
                         f"({use.write_bytes_per_s / 1e9:.2f} GB/s; {t.write_endurance_cycles:,.0f} "
                         f"program/erase cycles), under a {years:g}-year service life")
    return notes


def whatif(scenario: Scenario | dict[str, Any], path: str, values: Sequence[Any]) -> list[Prediction]:
    """One prediction per value of ``path`` (docs/whatif.md): an override path (chip.*,
    interconnect.*, ...) on top of the scenario's own overrides, or a scenario field
    (``engine``, ``n_chips``, ``hardware``, ``model``, ``workload.batch``, ``precision.weights``)."""
    s = as_scenario(scenario)
    if isinstance(values, str | bytes | dict) or not isinstance(values, Sequence) or not values:
        raise LlmhwError(f"expected a non-empty list of values, got {shown(values)}", field="values",
                         accepted="e.g. [5e-8, 1e-7]")
    return [predict(apply_varied(s, {path: v})) for v in values]


def search(scenario: Scenario | dict[str, Any], slo: Sequence[str] = (), objective: str = "output_tok_s_per_chip",
           vary: dict[str, Sequence[Any]] | None = None, top: int = 5, **kw: Any) -> SearchResult:
    """The best configuration under the SLOs, exhaustively: every valid mapping of the model on
    its chips, every combination of ``vary`` (path -> values), every batch up to the memory limit
    (docs/search.md). The best point (or, when none meets the SLOs, the closest) comes back as a
    full prediction: every ``predict`` key plus its parallelism, batch and varied values."""
    res = _search(scenario, slo, objective, vary, top, **kw)
    for name in ("best", "closest"):
        p = getattr(res, name)
        if p is not None and res.base is not None:
            setattr(res, name, {**predict(scenario_of(res.base, p)).to_dict(), **p})
    return res


def fit(scenario: Scenario | dict[str, Any]) -> FitResult:
    """Memory per chip for the scenario; ``batch: max`` takes the largest batch that fits."""
    return fit_memory(as_scenario(scenario))


# -- for studies and notebooks: the engine's per-step cost and operator totals, collective costs,
# fitted family parameters and economics constants, so that scripts need not reach into the stages.


def _step(eng: Engine, phase: str, requests: Any, length: Any, positions: int) -> Step:
    if phase == "prefill":
        return prefill_step(eng.scenario.model, length, requests)
    if phase != "decode":
        raise LlmhwError(f"unknown phase '{phase}'", field="phase", accepted="prefill, decode")
    if positions < 1:
        raise LlmhwError(f"positions must be at least 1, got {positions}", field="positions")
    return eng.decode_step(requests, length, positions)


def step_cost(scenario: Scenario | dict[str, Any], phase: str, requests: Any, length: Any,
              positions: int = 1) -> StepCost:
    """The engine's cost of one step, per chip: a decode step of ``requests`` requests at
    ``length`` tokens of context (``positions`` new positions per request, see :func:`_step`), or
    the prefill of ``requests`` prompts of ``length`` tokens (chunked as the engine chunks).
    ``positions`` > 1: parallel (diffusion-style) decoding, each request running that many new
    positions on one read of the weights and its cached context."""
    eng = Engine(as_scenario(scenario))
    if phase == "prefill":
        return eng.prefill_cost(length, requests)
    _step(eng, phase, requests, length, positions)     # checks the phase and positions
    return eng.decode_cost(requests, length, positions)


def operator_totals(scenario: Scenario | dict[str, Any], phase: str, requests: Any, length: Any,
                    positions: int = 1) -> dict[str, Any]:
    """FLOPs and bytes by class (weights, KV reads and writes, activations, messages) of the
    operators of the step :func:`step_cost` prices, per chip, for one pipeline stage's share."""
    eng = Engine(as_scenario(scenario))
    return operator_sums(eng.ops.ops(_step(eng, phase, requests, length, positions)))


def near_memory_ops(scenario: Scenario | dict[str, Any]) -> frozenset[str]:
    """The engine operators the chip's near-memory compute runs (after the shard check); empty
    when the chip has none."""
    near = Engine(as_scenario(scenario)).near
    return frozenset() if near is None else near.ops


def package_power(scenario: Scenario | dict[str, Any]) -> PackagePower | None:
    """The power envelope the engine runs a chip with a 3D stack under (hardware/package.py:
    the logic and the stack within the thermal cap and the TDP, memory included, and the
    fraction of clock and stack data rate that leaves); None for a chip without a stack or TDP."""
    return Engine(as_scenario(scenario)).package


def family_params(key: str) -> FamilyParams:
    """The fitted cost parameters of a hardware family (``nvidia-gpu``, or ``family:unit``)."""
    return _family_params(key)


def collective_cost(kind: str, size: Any, group: int, scale_up: Interconnect | None,
                    scale_out: Interconnect | None, params: FamilyParams,
                    algorithms: Sequence[str] | None = None) -> CollectiveCost:
    """One collective of ``kind`` with ``size`` bytes per chip over ``group`` chips, as the engine
    prices it: the fastest algorithm per size, its latency and bandwidth seconds and its name."""
    return _collective_cost(kind, size, group, scale_up, scale_out, params, algorithms)


def economics_constants(scenario: Scenario | dict[str, Any], params: EconomicsParams | None = None) -> Constants:
    """Every economics constant the scenario resolves to (power, J per bit and FLOP, prices)."""
    return constants_for(as_scenario(scenario), params)


def engine_profile_overhead(scenario: Scenario | dict[str, Any]) -> float:
    """The per-request time a scenario's engine adds to TTFT and end-to-end time outside the
    engine's steps (its request overhead, and the front end's when served)."""
    return float(Engine(as_scenario(scenario)).request_overhead_s(0.0))


def _is_disaggregated(scenario: Any) -> bool:
    return isinstance(scenario, Disaggregated) or (isinstance(scenario, dict) and "disaggregation" in scenario)


def _disaggregated(scenario: Disaggregated | dict[str, Any]) -> Disaggregated:
    return scenario if isinstance(scenario, Disaggregated) else Disaggregated.from_dict(scenario)


def simulate(scenario: Scenario | Disaggregated | dict[str, Any], rate_per_s: float | None = None, requests: int | None = None,
             seed: int | None = None, concurrency: int | None = None, slo: Sequence[str] = (),
             min_lifetimes: float = 0.0) -> dict[str, Any]:
    """Open-loop serving (serving/simulate.py, docs/serving.md): Poisson arrivals at ``rate_per_s``
    over the whole deployment, or a closed loop of ``concurrency`` requests, or (with neither) the
    scenario's ``workload.arrival`` (poisson, gamma, closed, or a trace dealt round-robin over the
    dp replicas). Lengths: ``workload.lengths`` (a dataset, fixed lengths or distributions), a
    trace's own, else uniform in [ratio x L, L]. Continuous batching with the engine's scheduling
    policy on each replica. Returns percentiles of TTFT, TPOT, end-to-end and queueing time,
    throughput, whether the load saturates the system, with ``slo`` the goodput (requests a second
    meeting every limit), and the economics keys of ``predict`` at the run's operating point.
    ``requests`` and ``seed`` default to ``workload.requests`` and ``workload.seed``;
    ``min_lifetimes`` > 0 lengthens a run whose arrivals span fewer mean lifetimes than that.
    A ``Disaggregated`` deployment (or a mapping with ``disaggregation:``) runs its prefill and
    decode pools with the KV transfer between (serving/open_loop_disaggregated.py; no economics)."""
    from llmhw.serving.open_loop import simulate as run_open_loop

    if _is_disaggregated(scenario):     # a prefill pool and a decode pool (open_loop_disaggregated.py)
        from llmhw.serving.open_loop_disaggregated import simulate as run_disaggregated

        return run_disaggregated(_disaggregated(scenario), rate_per_s, requests, seed, concurrency, slo, min_lifetimes)
    s = as_scenario(scenario)
    eng = Engine(s)
    out = run_open_loop(eng, rate_per_s, requests, seed, concurrency, slo, min_lifetimes)
    out.update(_simulated_economics(eng, out))
    return out


def _simulated_economics(eng: Engine, out: dict[str, Any]) -> dict[str, Any]:
    """Energy, cost and carbon per token at a simulated run's operating point: the engine's
    accounting at the run's mean requests in flight and mean lengths (the closed loop that holds
    as many requests, which by Little's law serves about the same rate). An approximation: the
    batch varies over a run, and energy is not linear in it."""
    s = eng.scenario
    batch = max(1, round(out["mean_in_flight"])) if math.isfinite(out.get("mean_in_flight", math.nan)) else 1
    m = eng.evaluate(batch, out["mean_input_tokens"], out["mean_output_tokens"]).point()
    econ, notes = economics_json(m, s)
    return {**econ, "economics_batch": batch, "economics_notes": notes}


def find_rate(scenario: Scenario | dict[str, Any], slo: Sequence[str], requests: int | None = None,
              seed: int | None = None, lo: float = 0.01, hi: float = 1.0e5, tolerance: float = 0.05,
              min_lifetimes: float = 0.0, log: Callable[[str], None] = lambda s: None) -> dict[str, Any]:
    """The highest Poisson rate whose simulation meets every SLO (``ttft_s.p99<=2``,
    ``tpot_s.mean<=0.05``, ``e2e_s.p90<=30``; a bare key means its mean) and does not saturate:
    bisection on a log scale to ``tolerance``. Returns that run's results and ``rate_per_s``;
    ``rate_per_s`` is 0 when even ``lo`` fails."""
    from llmhw.serving import open_loop

    if _is_disaggregated(scenario):
        dis = _disaggregated(scenario)
        return open_loop.find_rate(lambda rate: simulate(dis, rate, requests, seed, slo=slo,
                                                         min_lifetimes=min_lifetimes), slo, lo, hi, tolerance, log)
    eng = Engine(as_scenario(scenario))
    best = open_loop.find_rate(
        lambda rate: open_loop.simulate(eng, rate, requests, seed, slo=slo, min_lifetimes=min_lifetimes),
        slo, lo, hi, tolerance, log)
    if best["rate_per_s"] > 0:
        best.update(_simulated_economics(eng, best))
    return best


def find_chips(scenario: Scenario | dict[str, Any], rate_per_s: float, slo: Sequence[str], requests: int | None = None,
               seed: int | None = None, max_chips: int = 1024, tries_per_size: int = 6,
               min_lifetimes: float = 0.0, log: Callable[[str], None] = lambda s: None) -> dict[str, Any]:
    """Capacity planning: the fewest chips, and their mapping, that serve ``rate_per_s`` Poisson
    arrivals within every SLO without saturating. Chip counts 1, 2, 4, 8, then multiples of 8, up
    to ``max_chips``; at each count, the mappings (issue 9's search space) ranked by their
    closed-loop capacity, of which the ``tries_per_size`` largest that can carry the load are
    simulated. Returns the winning run's results with ``n_chips`` and ``parallelism``; ``n_chips``
    is None (and ``tried`` says what) when no count up to ``max_chips`` does."""
    from llmhw.explore.search import mappings
    from llmhw.serving import slo as slo_

    s = as_scenario(scenario)
    rules = slo_.parse(slo)
    if not rules:
        raise LlmhwError("give at least one SLO", field="--slo", accepted="e.g. ttft_s.p99<=2")
    if isinstance(rate_per_s, bool) or not isinstance(rate_per_s, int | float) or not rate_per_s > 0:
        raise LlmhwError(f"must be a positive rate, got {rate_per_s!r}", field="rate_per_s")
    w = s.workload
    # Output tokens a second the load asks for: the closed loop's capacity must exceed it.
    demand = rate_per_s * w.output_tokens * w.mean_factor
    sizes = sorted({1, 2, 4, 8} | set(range(8, max_chips + 1, 8)))
    tried: list[dict[str, Any]] = []
    for n in (k for k in sizes if k <= max_chips):
        try:
            sn = s.replace(n_chips=n, parallelism={"tp": 1, "pp": 1, "ep": 1, "dp": n})
        except LlmhwError:
            continue
        ranked = []
        for par in mappings(sn):
            sc = sn.replace(parallelism=par)
            m = Engine(sc).evaluate(-1, w.input_tokens, w.output_tokens).point()
            if m.fits and m.output_tok_s >= demand:
                ranked.append((m.output_tok_s, par, sc))
        ranked.sort(key=lambda x: -x[0])
        for _, par, sc in ranked[:tries_per_size]:
            log(f"{n} chips, tp {par['tp']} pp {par['pp']} ep {par['ep']} dp {par['dp']}: simulating")
            r = simulate(sc, rate_per_s, requests, seed, min_lifetimes=min_lifetimes)
            tried.append({"n_chips": n, "parallelism": par, "saturated": r["saturated"],
                          **{str(x): r[x.key][x.stat] for x in rules}})
            if not r["saturated"] and slo_.met(r, rules):
                return {**r, "n_chips": n, "parallelism": par, "slo": [str(x) for x in rules], "tried": tried}
    return {"n_chips": None, "parallelism": None, "rate_per_s": rate_per_s, "slo": [str(x) for x in rules],
            "tried": tried}


@dataclass
class HardwareInspection:
    """A chip or system as ``llmhw hardware ID|PATH`` shows it: the entry with provenance, the
    figures derived from it, what to check, and the calibration its predictions would use."""

    entry: Chip | System
    derived: list[Derived]
    warnings: list[str]
    calibration: CalibrationUsed

    def to_dict(self) -> dict[str, Any]:
        # The entry's own fields stay at the top (as `llmhw hardware ID --json` always printed
        # them); what is derived from it comes beside them.
        return {**self.entry.model_dump(mode="json"),
                "derived": [asdict(d) for d in self.derived], "warnings": list(self.warnings),
                "calibration": self.calibration.to_dict()}


def inspect_hardware(name: str) -> HardwareInspection:
    """A catalog chip or system, or a user's spec file, explained."""
    from llmhw.core.io import read_yaml
    from llmhw.hardware.catalog import chips, hardware_from_dict, load_hardware, systems

    raw = None
    if name in chips() or name in systems():
        hw = load_hardware(name)
    else:
        # A user's file, read once: its mapping builds the spec and shows what it left unsaid.
        raw = read_yaml(Path(name), field="hardware", mapping=True)
        hw = hardware_from_dict(raw, where=Path(name).name)
    chip = hw.chip if isinstance(hw, System) else hw
    warns = spec_warnings(hw, raw, list(chips().values()))
    cal = chip_calibration(chip)
    if cal.basis == "uncalibrated family":
        warns.append(cal.text)
    return HardwareInspection(hw, derived_figures(hw), warns, cal)


def hardware_template(like: str) -> str:
    """A commented spec file started from a catalog chip or system (``llmhw hardware new --like``)."""
    from llmhw.hardware.catalog import raw_entry

    return spec_template(raw_entry(like), like)


# -- training (issue 17, docs/training.md) ---------------------------------------------------


@dataclass
class TrainingPrediction:
    """One training step of a scenario with a ``training:`` block (SI units)."""

    scenario: Scenario
    training: Any
    flops: Any
    memory: Any
    cost: Any
    tokens_per_step: float
    micro_batches: int
    energy_per_step_j: float
    traffic: Any = None              # accounting.training.TrainingTraffic: HBM bytes per chip per step
    power_w_per_chip: float = 0.0    # mean power of one chip over the step (capped at its limit; host excluded)
    messages: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def step_time_s(self) -> float:
        return self.cost.step_time_s

    @property
    def intensity(self) -> float:
        """Arithmetic intensity of the step on one chip: executed FLOPs per HBM byte (FLOP/B)."""
        return self.flops.executed / self.scenario.n_chips / self.traffic.total

    @property
    def tokens_per_s(self) -> float:
        return self.tokens_per_step / self.cost.step_time_s

    @property
    def mfu(self) -> float:
        """Model FLOPs (every attention pair counted, no recompute) / (chips x peak x step time)."""
        return self.flops.model / (self.scenario.n_chips * self.cost.gemm_peak_flops * self.cost.step_time_s)

    @property
    def hfu(self) -> float:
        """Executed FLOPs (causal attention, recompute included) over the same denominator."""
        return self.flops.executed / (self.scenario.n_chips * self.cost.gemm_peak_flops * self.cost.step_time_s)

    @property
    def capacity_bytes(self) -> float:
        return self.scenario.chip.memory_capacity_bytes * self.scenario.memory_utilization

    @property
    def fits(self) -> bool:
        return self.memory.total <= self.capacity_bytes

    def to_dict(self) -> dict[str, Any]:
        s, c, mem, f = self.scenario, self.cost, self.memory, self.flops
        return {
            "model": s.model.id, "hardware": s.system.id, "chip": s.chip.id, "n_chips": s.n_chips,
            "parallelism": {"tp": s.parallelism.tp, "pp": s.parallelism.pp,
                            "dp": s.parallelism.dp // self.training.context_parallel,
                            "cp": self.training.context_parallel, "ep": s.parallelism.ep},
            "training": self.training.model_dump(),
            "micro_batches": self.micro_batches, "tokens_per_step": self.tokens_per_step,
            "step_time_s": c.step_time_s, "tokens_per_s": self.tokens_per_s,
            "mfu": self.mfu, "hfu": self.hfu,
            "flops": {"forward": f.forward, "backward": f.backward, "recompute": f.recompute,
                      "executed": f.executed, "model": f.model},
            "memory_per_chip": {"weights": mem.weights, "gradients": mem.gradients, "optimizer": mem.optimizer,
                                "activations": mem.activations, "logits": mem.logits, "total": mem.total,
                                "capacity": self.capacity_bytes, "fits": self.fits},
            "breakdown": {"compute_s": c.compute_s, "memory_s": c.memory_s,
                          "communication_exposed_s": c.communication_s, "bubble_s": c.bubble_s},
            "compute_per_micro_batch_forward_s": c.compute_parts_s,
            "gemm_efficiency": {"engine": self.training.engine, "gemm_eff": c.efficiency.gemm_eff,
                                "fp8_eff": c.efficiency.fp8_eff, "moe_eff": c.efficiency.moe_eff,
                                "fitted": c.efficiency.fitted},
            "communication_total_s": c.comm_total_s,
            "messages": self.messages,
            "hbm_traffic_per_chip": {**asdict(self.traffic), "total": self.traffic.total},
            "arithmetic_intensity_flop_per_byte": self.intensity,
            "energy_per_step_j": self.energy_per_step_j,
            "power_w_per_chip": self.power_w_per_chip,
            "energy_per_token_j": self.energy_per_step_j / self.tokens_per_step,
            "notes": self.notes,
        }


def _unit_share(v: float | None, name: str, default: float) -> float:
    if v is None:
        return default
    if isinstance(v, bool) or not isinstance(v, int | float) or not 0 < v <= 1:
        raise LlmhwError(f"expected a share in (0, 1], got {v!r}", field=name, accepted="0 < value <= 1")
    return float(v)


def train(scenario: dict[str, Any], *, gemm_eff: float | None = None, fp8_eff: float | None = None,
          moe_eff: float | None = None, base_dir: str | Path | None = None) -> TrainingPrediction:
    """One training step of ``scenario`` (a mapping with model, hardware, n_chips, parallelism and
    a ``training:`` block): step time, tokens/s, MFU, memory per chip and fit, the breakdown and
    energy (docs/training.md). ``gemm_eff`` / ``fp8_eff`` / ``moe_eff`` replace the training
    engine's fitted GEMM efficiencies (cost/training.yaml) for a what-if. Relative model and
    hardware paths are read from ``base_dir`` (a scenario file's folder)."""
    from llmhw.accounting.training import (
        degrees,
        step_flops,
        training_memory,
        training_messages,
        training_traffic,
    )
    from llmhw.cost.params import family_key
    from llmhw.cost.training import (
        TrainingEfficiency,
        message_latency,
        training_cost,
        training_efficiency,
    )
    from llmhw.economics.energy import cap_power, flop_energy, memory_energy, wire_energy
    from llmhw.scenario.training import training_scenario

    s, t, seqs = training_scenario(scenario, base_dir=None if base_dir is None else Path(base_dir))
    par = s.parallelism
    d = degrees(par.tp, par.pp, par.dp, par.ep, t.context_parallel)
    m = seqs // d.dp // t.micro_batch
    tokens = float(seqs * t.sequence_length)
    flops = step_flops(s.model, t, tokens)
    mem = training_memory(s.model, t, d, m)
    key = family_key(s.chip.family, s.compute_unit)
    fp = _family_params(key)
    override = None
    if gemm_eff is not None or fp8_eff is not None or moe_eff is not None:
        base = training_efficiency(t.engine, key, fp)
        override = TrainingEfficiency(_unit_share(gemm_eff, "gemm_eff", base.gemm_eff),
                                      _unit_share(fp8_eff, "fp8_eff", base.fp8_eff),
                                      _unit_share(moe_eff, "moe_eff", base.moe_eff), fitted=False)
    cost = training_cost(s, t, d, flops, m, fp, key, override)
    # Energy: the economics model's per-FLOP, per-bit and static figures for this chip; the chip's
    # dynamic energy is its share of the executed FLOPs, its HBM traffic (accounting.training) and
    # its messages' bytes.
    k = economics_constants(s)
    n = s.n_chips
    e_flop = flop_energy({t.precision: flops.executed / n}, k.j_per_flop)
    traffic = training_traffic(s.model, t, d, m)
    e_mem = memory_energy([traffic.reads], [traffic.writes], k.read_j_per_bit[:1], k.write_j_per_bit[:1])
    msgs = training_messages(s.model, t, d, m)
    up, out = s.system.scale_up_network, s.system.scale_out_network
    messages = []
    for purpose, msg in msgs.items():
        count = msg.count * (m if msg.per_micro_batch else 1)
        one = cost.comm_total_s[purpose] / msg.count if msg.count else 0.0   # as the cost model priced it
        messages.append({"purpose": purpose, "kind": msg.kind, "bytes": msg.bytes, "group": msg.group,
                         "count_per_step": count, "seconds_each": one,
                         "latency_share": message_latency(msg, up, out, fp) / one if one > 0 else 0.0})
    wire = sum(x["count_per_step"] * x["bytes"] for x in messages)
    e_net = wire_energy(wire, k.link_j_per_bit)
    power = k.static_w + float(e_flop + e_mem + e_net) / cost.step_time_s
    capped, over = cap_power(power, k.power_cap_w)
    notes = ["the chip's power would exceed its cap: the step is optimistic"] if bool(over) else []
    clock = cost.clock_fraction
    if clock < 1.0:
        notes.append(f"3D stack {s.chip.stacked.id}: the logic and the stack share the chip's power envelope; clock "
                     f"and stack data rate at {clock:.0%} (hardware/package.py)")
    if override is not None:
        notes.append(f"GEMM efficiency set by the caller: {override.gemm_eff:.3g} (fp8 share {override.fp8_eff:.3g}, "
                     f"MoE share {override.moe_eff:.3g})")
    elif not cost.efficiency.fitted:
        notes.append(f"no {t.engine} training fit for the {key} family: its inference GEMM efficiency "
                     f"({cost.efficiency.gemm_eff:.2f}) stands in (cost/training.yaml)")
    energy = n * (float(capped) + k.host_avg_w) * cost.step_time_s
    return TrainingPrediction(scenario=s, training=t, flops=flops, memory=mem, cost=cost, tokens_per_step=tokens,
                              micro_batches=m, energy_per_step_j=energy, traffic=traffic,
                              power_w_per_chip=float(capped), messages=messages, notes=notes)
