"""Fitting the efficiency parameters on published measurements, and reporting the error.

Each hardware family (and SoC compute unit) gets the eight numbers of ``FamilyParams``; each
serving engine gets its per-step and per-request overheads. They are fitted by bounded least
squares on log(predicted / measured), with a soft-L1 loss so a few rows no plausible model
reaches (mislabelled or anomalous) cannot drag the fit; those rows are named in the report.

Cross-validation answers the question that matters: how wrong is llmhw on data it was not
fit on? Two rotations: k-fold over rows, and leave-one-chip-out (every row of one chip held
out while its family is refit on the rest).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from llmhw.core.errors import LlmhwError
from llmhw.cost.params import BOUNDS, EngineProfile, FamilyParams, family_key, family_params
from llmhw.scenario import Scenario
from llmhw.serving.closed_loop import Engine

# Parameters fitted per family, and those fixed at their defaults (too weakly constrained by
# the data to fit without overfitting).
FIT_FAMILY = ("compute_eff_max", "compute_m_half", "compute_n_half", "fp8_eff", "fp4_eff",
              "attention_eff", "memory_eff", "read_overhead_s", "kernel_overhead_s", "comm_latency_s")
FIT_ENGINE = ("step_overhead_s", "token_overhead_s", "request_overhead_s", "api_overhead_s", "api_queue_s",
              "queue_factor", "dp_admission_wait_steps", "kernel_eff")
ENGINE_BOUNDS = {"step_overhead_s": (0.0, 0.05), "token_overhead_s": (0.0, 1e-4), "request_overhead_s": (0.0, 1.0),
                 "api_overhead_s": (0.0, 0.2),
                 # A front end's streaming work per request in flight: tens of us per request at most.
                 "api_queue_s": (0.0, 1e-3),
                 # An engine's kernels against its family's best: a stack years behind (unfused,
                 # untuned kernels) loses up to 3x. This is where a software gap belongs, so that it
                 # travels with the engine and not with the chip.
                 "kernel_eff": (0.3, 1.0),
                 "queue_factor": (0.0, 2.0), "dp_admission_wait_steps": (0.0, 100.0)}
LOG_PARAMS = {"compute_m_half", "compute_n_half", "read_overhead_s", "kernel_overhead_s", "comm_latency_s", "step_overhead_s",
              "token_overhead_s", "request_overhead_s", "api_overhead_s", "api_queue_s"}


@dataclass
class Point:
    """A measurement ready to predict: its case, its engine, its inputs."""

    case: Any
    engine: Engine
    batch: float
    isl: float
    osl: float
    key: str          # family key (family or family:unit)
    chip: str
    fp: FamilyParams | None = None    # the family's software efficiency before the engine's kernel_eff

    def set_params(self, fp: FamilyParams) -> None:
        self.fp = fp
        self.engine.params = fp.scaled(self.engine.profile.kernel_eff)

    def predict(self) -> float:
        out = self.engine.evaluate(self.batch, self.isl, self.osl)
        return float(getattr(out, self.case.metric))


def prepare(cases: Iterable[Any]) -> tuple[list[Point], list[tuple[Any, str]]]:
    """Build an engine per case; cases the engine cannot price are returned with the reason."""
    points, failed = [], []
    for c in cases:
        try:
            s = Scenario.from_dict(c.scenario)
            eng = Engine(s)
        except LlmhwError as exc:
            failed.append((c, str(exc)))
            continue
        w = s.workload
        unit = s.compute_unit or s.chip.default_compute_unit
        key = family_key(s.chip.family, unit if s.chip.compute_units else None)
        points.append(Point(c, eng, -1.0 if w.batch == "max" else float(w.batch), float(w.input_tokens),
                            float(w.output_tokens), key, s.chip.id, family_params(key)))
    return points, failed


def _set_family(points: list[Point], fp: FamilyParams) -> None:
    for p in points:
        p.set_params(fp)


def _set_engine(points: list[Point], name: str, values: dict[str, float]) -> None:
    for p in points:
        if p.engine.profile.name == name:
            p.engine.profile = replace(p.engine.profile, **values)
            p.set_params(p.fp or family_params(p.key))


def log_errors(points: list[Point]) -> np.ndarray:
    pred = np.array([p.predict() for p in points])
    meas = np.array([p.case.measured for p in points])
    return np.log(np.maximum(pred, 1e-30) / meas)


def _metric_weights(points: list[Point]) -> np.ndarray:
    """Each metric counts equally in a fit, however many rows it has (TTFT rows are fewer than
    throughput rows, and would otherwise be traded away)."""
    counts: dict[str, int] = defaultdict(int)
    for p in points:
        counts[p.case.metric] += 1
    return np.array([1.0 / math.sqrt(counts[p.case.metric]) for p in points]) * math.sqrt(len(points) / len(counts))


def _to_x(values: dict[str, float], names: tuple[str, ...]) -> np.ndarray:
    return np.array([math.log(max(values[n], 1e-12)) if n in LOG_PARAMS else values[n] for n in names])


def _from_x(x: np.ndarray, names: tuple[str, ...]) -> dict[str, float]:
    return {n: float(math.exp(v) if n in LOG_PARAMS else v) for n, v in zip(names, x, strict=True)}


def _bounds(names: tuple[str, ...], table: dict[str, tuple[float, float]]) -> tuple[list[float], list[float]]:
    lo, hi = [], []
    for n in names:
        a, b = table[n]
        if n in LOG_PARAMS:
            a, b = math.log(max(a, 1e-9)), math.log(b)
        lo.append(a)
        hi.append(b)
    return lo, hi


def _least_squares(fun: Callable[[np.ndarray], np.ndarray], x0: np.ndarray, lo: list[float], hi: list[float],
                   max_nfev: int = 60) -> np.ndarray:
    from scipy.optimize import least_squares

    x0 = np.clip(x0, np.array(lo) + 1e-9, np.array(hi) - 1e-9)
    res = least_squares(fun, x0, bounds=(lo, hi), loss="soft_l1", f_scale=0.25, max_nfev=max_nfev, diff_step=1e-3)
    return res.x


def fit_family(points: list[Point], start: FamilyParams, max_nfev: int = 60) -> FamilyParams:
    """Bounded robust fit of one family's parameters on its points."""
    names = FIT_FAMILY
    base = asdict(start)

    w = _metric_weights(points)

    def fun(x: np.ndarray) -> np.ndarray:
        _set_family(points, FamilyParams(**{**base, **_from_x(x, names)}))
        return w * log_errors(points)

    lo, hi = _bounds(names, BOUNDS)
    x = _least_squares(fun, _to_x(base, names), lo, hi, max_nfev)
    fp = FamilyParams(**{**base, **_from_x(x, names)})
    _set_family(points, fp)
    return fp


def fit_engine(points: list[Point], name: str, start: EngineProfile) -> dict[str, float]:
    names = FIT_ENGINE
    base = {n: getattr(start, n) for n in names}

    w = _metric_weights(points)

    def fun(x: np.ndarray) -> np.ndarray:
        _set_engine(points, name, _from_x(x, names))
        return w * log_errors(points)

    lo, hi = _bounds(names, ENGINE_BOUNDS)
    x = _least_squares(fun, _to_x(base, names), lo, hi)
    values = _from_x(x, names)
    _set_engine(points, name, values)
    return values


def fit_all(points: list[Point], rounds: int = 2, log: Callable[[str], None] = lambda s: None) -> dict[str, Any]:
    """Alternate family fits and engine-overhead fits; returns the fitted tables."""
    by_family: dict[str, list[Point]] = defaultdict(list)
    by_engine: dict[str, list[Point]] = defaultdict(list)
    for p in points:
        by_family[p.key].append(p)
        by_engine[p.engine.profile.name].append(p)
    fams: dict[str, FamilyParams] = {k: family_params(k) for k in by_family}
    engines: dict[str, dict[str, float]] = {}
    for rnd in range(rounds):
        for k, pts in sorted(by_family.items()):
            if len(pts) >= 4:
                fams[k] = fit_family(pts, fams[k])
                log(f"round {rnd + 1}: fitted {k} on {len(pts)} points")
        for name, pts in sorted(by_engine.items()):
            if name != "ideal" and len(pts) >= 4:
                engines[name] = fit_engine(pts, name, pts[0].engine.profile)
                log(f"round {rnd + 1}: fitted engine {name} on {len(pts)} points")
    return {"families": {k: asdict(v) for k, v in fams.items()}, "engines": engines}


@dataclass
class Row:
    row: int
    family: str
    chip: str
    metric: str
    measured: float
    predicted: float
    ape: float


def score(points: list[Point]) -> list[Row]:
    out = []
    for p in points:
        pred = p.predict()
        out.append(Row(p.case.row, p.key, p.chip, p.case.metric, p.case.measured, pred,
                       abs(pred - p.case.measured) / p.case.measured))
    return out


def summarize(rows: list[Row]) -> dict[tuple[str, str], dict[str, float]]:
    """Median and worst absolute percentage error per (family, metric), and overall per metric."""
    groups: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for r in rows:
        groups[(r.family, r.metric)].append(r)
        groups[("all", r.metric)].append(r)
        groups[(r.family, "all")].append(r)
        groups[("all", "all")].append(r)
    out = {}
    for k, rs in groups.items():
        ape = np.array([r.ape for r in rs])
        worst = max(rs, key=lambda r: r.ape)
        out[k] = {"n": len(rs), "median": float(np.median(ape)), "worst": float(worst.ape), "worst_row": worst.row}
    return out


def cross_validate(points: list[Point], fitted: dict[str, Any], how: str = "chip", folds: int = 5,
                   log: Callable[[str], None] = lambda s: None,
                   held_params: dict[tuple[str, str], FamilyParams] | None = None) -> list[Row]:
    """Held-out rows: refit the family without them, then score them.

    ``how="chip"`` holds out every row of one chip at a time (within families of 2+ chips);
    ``how="kfold"`` holds out every ``folds``-th row of each family in turn. ``held_params``, when
    given, receives each held-out chip's refitted parameters, keyed by (family key, chip), so
    that other rows of that chip (the open-loop ones) can be scored with them too.
    """
    by_family: dict[str, list[Point]] = defaultdict(list)
    for p in points:
        by_family[p.key].append(p)
    held: list[Row] = []
    for k, pts in sorted(by_family.items()):
        start = FamilyParams(**fitted["families"].get(k, asdict(family_params(k))))
        if how == "chip":
            chips = sorted({p.chip for p in pts})
            splits = [[p for p in pts if p.chip == c] for c in chips] if len(chips) > 1 else []
        else:
            splits = [pts[i::folds] for i in range(folds)] if len(pts) >= 2 * folds else []
        for test in splits:
            train = [p for p in pts if p not in test]
            if len(train) < 4:
                continue
            # Refit from the full-data values: a warm start, so fewer evaluations suffice.
            fp = fit_family(train, start, max_nfev=25)
            if held_params is not None and how == "chip":
                held_params[(k, test[0].chip)] = fp
            _set_family(test, fp)
            held.extend(score(test))
            log(f"cross-validation ({how}) {k}: held out {len(test)}")
        _set_family(pts, start)
    return held


# Fit on one group of families, score another: the chips of the scored families were never seen,
# nor their software. Each scored chip keeps its own hardware physics (stream efficiency, matrix
# tile: from its datasheet and microbenchmarks) and takes the software efficiency fitted on the
# training families, as a hypothetical chip would. An engine seen in training keeps its fitted
# overheads; one never seen (ATOM, QNN, ExecuTorch) gets its shipped defaults.
TRANSFERS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "NVIDIA-only fit": (("nvidia-gpu",), ("amd-gpu", "apple-soc:gpu")),
    "datacenter-only fit": (("nvidia-gpu", "amd-gpu"), ("phone-soc:cpu", "phone-soc:gpu", "phone-soc:npu")),
}


def transfer(points: list[Point], train: tuple[str, ...], test: tuple[str, ...],
             log: Callable[[str], None] = lambda s: None) -> list[Row]:
    """One software-efficiency set fitted on ``train`` families pooled (with the engines' overheads
    fitted on the same rows), then every row of the ``test`` families scored with it."""
    from llmhw.scenario.engines import default_profiles

    tr = [p for p in points if p.key in train]
    te = [p for p in points if p.key in test]
    if len(tr) < 4 or not te:
        return []
    saved = [(p.engine.params, p.engine.profile, p.fp) for p in tr + te]
    start = family_params(train[0])
    for p in tr:                                   # fit from the shipped engine defaults
        p.engine.profile = default_profiles()[p.engine.profile.name]
        p.set_params(start)
    fp = start
    engines: dict[str, dict[str, float]] = {}
    by_engine: dict[str, list[Point]] = defaultdict(list)
    for p in tr:
        by_engine[p.engine.profile.name].append(p)
    for _ in range(2):
        fp = fit_family(tr, fp, max_nfev=40)
        for name, pts in sorted(by_engine.items()):
            if name != "ideal" and len(pts) >= 4:
                engines[name] = fit_engine(pts, name, pts[0].engine.profile)
    log(f"transfer: fitted on {len(tr)} rows of {', '.join(train)}")
    for p in te:
        prof = default_profiles()[p.engine.profile.name]
        p.engine.profile = replace(prof, **engines.get(prof.name, {}))
        p.set_params(fp)
    rows = score(te)
    for p, (params, prof, f) in zip(tr + te, saved, strict=True):
        p.engine.params, p.engine.profile, p.fp = params, prof, f
    return rows


def params_table(fitted: dict[str, Any]) -> dict[str, Any]:
    """Fitted values rounded for the YAML file."""
    fams = {k: {n: float(f"{v:.4g}") for n, v in d.items()} for k, d in fitted["families"].items()}
    engines = {k: {n: float(f"{v:.4g}") for n, v in d.items()} for k, d in fitted["engines"].items()}
    return {"families": fams, "engines": engines}

