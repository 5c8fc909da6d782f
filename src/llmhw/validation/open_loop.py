"""The open-loop rows of ``measurements.csv``: MLPerf Server and Interactive runs at a target QPS
over their datasets, and JetStream's closed-concurrency runs on ShareGPT, scored with the
simulator (``llmhw simulate``) rather than the closed-loop formula.

The mapping follows the data's README: ``Poisson arrivals, target_qps X`` is ``arrival:
{process: poisson, rate_per_s: X}``; the dataset named in the notes gives the lengths; a JetStream
row's number is ``arrival: {process: closed, concurrency: N}``; MLPerf's TTFT and TPOT are means.
Beyond those rules (each stated in the case's note):

- where a row quotes its run's mean output tokens per sample (MLPerf's accuracy run or
  TOKENS_PER_SAMPLE), the dataset's output lengths are scaled to that mean: the output length is
  the model's, not the dataset's, and the row says what it was;
- an MLPerf result without its target QPS (the v6.1 summary rows) is the highest Poisson rate that
  meets the benchmark's p99 TTFT and TPOT limits, which is what a submitter tunes the target QPS
  to; the predicted value is the simulated throughput at the rate llmhw finds;
- MLPerf Interactive runs through the same LoadGen harness as Server, so both are ``served``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from llmhw.core.errors import LlmhwError
from llmhw.scenario import Scenario
from llmhw.validation import cases as rows_

# Metrics an open-loop row measures: the CSV's metric -> (simulate output key, statistic).
_METRICS: dict[str, tuple[str, str | None]] = {
    "ttft_ms": ("ttft_s", "mean"),
    "tpot_ms": ("tpot_s", "mean"),
    "output_tok_s_total": ("output_tok_s", None),
    "e2e_latency_s": ("e2e_s", "mean"),
}

# MLPerf Inference latency limits (p99 TTFT s, p99 TPOT s) per (catalog model, scenario), as the
# other rows of the same benchmarks quote them (MLPerf Inference rules, "LLM latency
# constraints": https://github.com/mlcommons/inference_policies/blob/master/inference_rules.adoc).
_MLPERF_SLO: dict[tuple[str, str], tuple[float, float]] = {
    ("llama-2-70b", "server"): (2.0, 0.200),
    ("llama-2-70b", "interactive"): (0.450, 0.040),
    ("deepseek-r1", "server"): (2.0, 0.080),
    ("llama-3.1-405b", "server"): (6.0, 0.175),
    ("llama-3.1-405b", "interactive"): (4.5, 0.080),
    ("mixtral-8x7b", "server"): (2.0, 0.200),
    ("llama-3.1-8b", "server"): (2.0, 0.100),
    ("llama-3.1-8b", "interactive"): (0.5, 0.030),
}

# Chips in one tensor-parallel group when a rack-scale row states no mapping.
_NODE = 8

# JetStream's benchmark_serving on ShareGPT keeps prompts and outputs of at most 1,024 tokens
# (the rows' notes: "max input 1024, max output 1024").
_JETSTREAM_MAX_TOKENS = 1024


@dataclass(frozen=True)
class OpenLoopCase:
    """One open-loop measurement: a scenario with its arrivals and lengths, what it measures."""

    row: int
    scenario: dict[str, Any] = field(hash=False)
    metric: str                  # simulate output key: ttft_s, tpot_s, e2e_s, output_tok_s
    stat: str | None             # mean (latencies) or None (a rate)
    measured: float              # SI
    family: str                  # family key (family or family:unit), as the closed-loop rows
    hardware: str
    source: str
    note: str
    slo: tuple[str, ...] = ()    # the benchmark's latency limits (MLPerf), p99
    find_rate: bool = False      # no target QPS: the rate is the highest that meets ``slo``


def is_open_loop(r: dict[str, str]) -> bool:
    t = r["batch_or_concurrency"].lower()
    return "poisson" in t or "server scenario" in t or "interactive scenario" in t or \
        ("sharegpt" in r["isl"].lower() and rows_._int_or_none(r["batch_or_concurrency"]) is not None)


def _dataset(r: dict[str, str], model: str) -> str:
    ds = rows_.dataset_of(r, model)
    if ds is None:
        raise rows_._SkipRow("dataset not known", f"no shipped dataset for {r['model']!r} ({r['notes'][:60]!r})")
    return ds


def _scenario_kind(r: dict[str, str]) -> str:
    text = f"{r['batch_or_concurrency']} {r['notes']}".lower()
    return "interactive" if "interactive" in text else "server"


def _slo(r: dict[str, str], model: str) -> tuple[str, ...]:
    m = re.search(r"SLO TTFT<=([\d.]+)ms p99, TPOT<=([\d.]+)ms p99", r["notes"])
    if m:
        ttft, tpot = float(m.group(1)) / 1e3, float(m.group(2)) / 1e3
    elif (model, _scenario_kind(r)) in _MLPERF_SLO:
        ttft, tpot = _MLPERF_SLO[(model, _scenario_kind(r))]
    else:
        raise rows_._SkipRow("latency limits not known",
                             f"MLPerf {_scenario_kind(r)} run of {r['model']!r} without a target QPS or known SLO")
    return (f"ttft_s.p99<={ttft:g}", f"tpot_s.p99<={tpot:g}")


def _lengths(dataset: str, out_mean: float | None, max_tokens: int | None) -> dict[str, Any]:
    """The dataset's length distributions, its outputs scaled to the run's mean (the spread in
    proportion) and both sides clipped at the benchmark's limit where it has one."""
    from llmhw.workload.lengths import datasets

    if out_mean is None and max_tokens is None:
        return {"dataset": dataset}
    sides = [d.model_dump(exclude_none=True) for d in datasets()[dataset]]
    if out_mean is not None:
        o = sides[1]
        if o.get("std") is not None and o.get("mean"):
            o["std"] = o["std"] * out_mean / o["mean"]
        o["mean"] = min(out_mean, o.get("max", out_mean))
    if max_tokens is not None:
        for d in sides:
            d["max"] = min(d.get("max", max_tokens), max_tokens)
            if d.get("mean") is not None:
                d["mean"] = min(d["mean"], d["max"])
    return {"input": sides[0], "output": sides[1]}


def _row_to_case(i: int, r: dict[str, str]) -> OpenLoopCase:
    notes: list[str] = []
    n_chips = rows_._int_or_none(r["n_chips"])
    if n_chips is None:
        raise rows_._SkipRow("chip count not disclosed", f"{r['hardware']!r}")
    cid, chip = rows_._row_chip(r, notes)
    mid, mnote = rows_._model_id(r["model"])
    if mnote:
        notes.append(mnote)
    metric_col = r["metric"].strip()
    if metric_col not in _METRICS:
        raise rows_._SkipRow("unknown metric", f"{metric_col!r} for an open-loop row")
    _, measured = rows_._row_metric(r)
    metric, stat = _METRICS[metric_col]
    precision = rows_._row_precision(r, chip, cid, notes)
    dataset = _dataset(r, mid)
    text = r["batch_or_concurrency"]
    slo: tuple[str, ...] = ()
    find_rate = False
    mlperf = rows_.is_mlperf(r)
    concurrency = rows_._int_or_none(text)
    if concurrency is not None:
        arrival: dict[str, Any] = {"process": "closed", "concurrency": concurrency}
        max_tokens = _JETSTREAM_MAX_TOKENS if "jetstream" in r["framework"].lower() else None
    else:
        max_tokens = None
        slo = _slo(r, mid)
        m = re.search(r"target_qps ([\d.]+)", text)
        if m:
            arrival = {"process": "poisson", "rate_per_s": float(m.group(1))}
        else:
            find_rate = True
            arrival = {"process": "poisson", "rate_per_s": 1.0}     # replaced by the rate found
            notes.append(f"no target QPS: the highest rate meeting {', '.join(slo)}")
    # MLPerf's LoadGen calls the system under test in-process (no HTTP server or client between
    # them), so its TTFT has no front end's time: the offline harness. JetStream's
    # benchmark_serving is a client of the server.
    harness = "offline" if mlperf else "served"
    if mlperf:
        notes.append("MLPerf LoadGen runs in-process: harness offline (no HTTP front end in TTFT)")
    out_mean = rows_.output_mean_of(r)
    notes.append(f"lengths: dataset {dataset}")
    if out_mean is not None:
        notes.append(f"output lengths scaled to the run's mean of {out_mean:g} tokens")
    scenario: dict[str, Any] = {
        "model": mid, "hardware": cid, "n_chips": n_chips,
        "parallelism": rows_._parallelism(r, n_chips, notes),
        "precision": precision,
        "engine": rows_._engine(r["framework"]),
        "compute_unit": rows_._compute_unit(r["hardware"], r["framework"], set(chip.compute_units)),
        # Each request draws its own lengths; the nominal ones are their means.
        "workload": {"batch": 1, "harness": harness,
                     "arrival": arrival, "lengths": _lengths(dataset, out_mean, max_tokens)},
    }
    rows_.apply_unstated_mapping(r, scenario, n_chips, notes)
    try:
        s = Scenario.from_dict(scenario)
    except LlmhwError as exc:
        par = scenario["parallelism"]
        if not (par["tp"] == n_chips > _NODE and n_chips % _NODE == 0 and "tp" in str(exc)):
            raise rows_._SkipRow("invalid scenario", str(exc)) from None
        # A rack-scale system (NVL72) with no stated mapping: tp over all 72 chips divides no
        # model's heads; serve with replicas of tp 8 instead, the largest power-of-two group.
        # Experts (MoE) split over the same chips: the first expert-parallel width that the
        # expert count and FFN width accept, widest first.
        for ep in (par["ep"], n_chips, n_chips // _NODE, _NODE):
            scenario["parallelism"] = {**par, "tp": _NODE, "dp": n_chips // _NODE, "ep": ep}
            try:
                s = Scenario.from_dict(scenario)
                break
            except LlmhwError as exc2:
                err = str(exc2)
        else:
            raise rows_._SkipRow("invalid scenario", err) from None
        notes.append(f"tp {n_chips} divides no head count: {n_chips // _NODE} replicas of tp {_NODE}, ep {ep}")
    unit = s.compute_unit or s.chip.default_compute_unit
    from llmhw.cost.params import family_key

    notes += rows_._source_notes(r)
    return OpenLoopCase(row=i, scenario=scenario, metric=metric, stat=stat, measured=measured,
                        family=family_key(chip.family, unit if chip.compute_units else None), hardware=cid,
                        source=r["source_url"], note="; ".join(notes), slo=slo, find_rate=find_rate)


def load_open_loop_cases() -> tuple[list[OpenLoopCase], list[rows_.Skip]]:
    """The open-loop rows of the shipped measurements as cases or skips, in row order."""
    cases: list[OpenLoopCase] = []
    skips: list[rows_.Skip] = []
    for i, r in enumerate(rows_._rows()):
        if not is_open_loop(r):
            continue
        try:
            c = _row_to_case(i, r)
        except rows_._SkipRow as s:
            skips.append(rows_.Skip(row=i, reason=str(s)))
            continue
        cases.append(c)
        if c.metric == "output_tok_s" and c.slo and not c.find_rate:
            cases.append(capacity_case(c))
    return cases, skips


def capacity_case(c: OpenLoopCase) -> OpenLoopCase:
    """The same MLPerf run read as a capacity: the submitter tunes the target QPS to the highest
    its system passes the benchmark's p99 limits at, so the highest rate llmhw finds within those
    limits is scored against it (metric ``rate_per_s``). Unlike a latency at a fixed rate close
    to capacity, which moves several-fold for a 10% error in capacity, this reads the capacity
    itself."""
    rate = c.scenario["workload"]["arrival"]["rate_per_s"]
    return replace(c, metric="rate_per_s", stat=None, measured=float(rate), find_rate=True,
                   note=c.note + "; read as a capacity: the highest rate within the limits vs the target QPS")


# Requests per simulated row: enough that a mean settles within about a percent (the first tenth
# is left out as the empty system's transient) while 80 rows score in under a minute.
REQUESTS = 2000
# ... lengthened until the arrivals span this many mean request lifetimes (a steady state).
LIFETIMES = 10.0


def predict(case: OpenLoopCase, requests: int = REQUESTS, seed: int = 0, params: Any = None) -> float:
    """The simulated value of a case's metric; ``params`` (FamilyParams) replace the chip
    family's calibrated software efficiency (cross-validation)."""
    from llmhw.serving import open_loop as sim
    from llmhw.serving.closed_loop import Engine

    eng = Engine(Scenario.from_dict(case.scenario))
    if params is not None:
        eng.params = params.scaled(eng.profile.kernel_eff)
    if case.find_rate:
        # Bracket the bisection by the closed loop's capacity at the mean lengths (twice it as the
        # upper end): the answer is the same, the search shorter.
        w = eng.scenario.workload
        cap = eng.evaluate(-1, w.input_tokens, w.output_tokens).point()
        hi = 2.0 * max(float(cap.output_tok_s), 1e-3) / w.output_tokens
        out = sim.find_rate(lambda rate: sim.simulate(eng, rate, requests, seed, min_lifetimes=LIFETIMES),
                            list(case.slo), lo=hi / 1e3, hi=hi)
    else:
        out = sim.simulate(eng, requests=requests, seed=seed, min_lifetimes=LIFETIMES)
    v = out[case.metric]
    return float(v[case.stat] if case.stat else v)


def score(cases: list[OpenLoopCase], requests: int = REQUESTS, log: Any = lambda s: None,
          params: Any = None) -> tuple[list[Any], list[tuple[int, str]]]:
    """Rows (as the closed-loop validation's) for every case, and the cases the simulator refused.
    ``params``: a function of a case giving the FamilyParams to score it with (None: as
    calibrated), for cross-validation."""
    from llmhw.validation.calibrate import Row

    rows, failed = [], []
    for c in cases:
        try:
            p = predict(c, requests, params=params(c) if params else None)
        except LlmhwError as exc:
            failed.append((c.row, f"simulation failed: {exc}"))
            continue
        rows.append(Row(c.row, c.family, c.hardware, c.metric, c.measured, p, abs(p - c.measured) / c.measured))
        log(f"open loop: row {c.row}")
    return rows, failed


def held_out(cases: list[OpenLoopCase], held: dict[tuple[str, str], Any],
             fitted_chips: set[tuple[str, str]]) -> list[OpenLoopCase]:
    """The cases that can be scored with their chip held out of the fit: those whose chip was held
    out (``held`` has its refitted parameters) and those whose chip no fitted row ran on (the
    calibration never saw it)."""
    return [c for c in cases if (c.family, c.hardware) in held or (c.family, c.hardware) not in fitted_chips]
