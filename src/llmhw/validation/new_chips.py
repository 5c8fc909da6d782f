"""The engine profiles of the new chips' stacks, fitted on their published measurements.

``measurements_new_chips.csv`` holds measurements of chips the shipped collection does not cover
(Inferentia2 and Trainium1: AWS's transformers-neuronx tables; vLLM with the Neuron plugin from
optimum-neuron's benchmarks; Gaudi 2: Intel's Optimum Habana tables). They fit the software
efficiency of these chips' families (``aws-trainium``: the Neuron SDK's kernels; ``intel-gaudi``:
Intel's Gaudi software; neither had a calibration) and the overheads and ``kernel_eff`` of these
stacks' engine profiles (``vllm-neuron``, ``transformers-neuronx``, ``optimum-habana``), as
``llmhw validate --fit`` does for the shipped families; no other family or engine moves. Each
family is fitted on its own rows and each engine runs on one family, so one family can be refitted
alone (:func:`run_family`) with the same result as the whole fit gives it. The
values go to their own blocks of ``cost/calibration.yaml`` (``new_chip_families``,
``new_chip_engines``), which ``llmhw validate --fit --write`` leaves alone.

Three errors are reported (:func:`run`): in-sample (fitted and scored on all rows), chip held out
(each profile fitted on one chip's rows, scored on the other chip's, for the engines measured on
both) and source held out (``vllm-neuron``: fitted on one benchmark, scored on the other);
:func:`run_family` scores one family in-sample and with each model held out.
"""

from __future__ import annotations

import datetime as _dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields, replace
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from llmhw.cost.params import FamilyParams, calibration
from llmhw.scenario.engines import default_profiles
from llmhw.validation import calibrate as cal
from llmhw.validation.cases import NEW_CHIPS_CSV, load_cases
from llmhw.validation.validate import FITTED_MARKER

ENGINES: tuple[str, ...] = ("transformers-neuronx", "vllm-neuron", "optimum-habana")
BLOCK = "new_chip_engines"
FAMILY_BLOCK = "new_chip_families"
BLOCK_MARKER = "# ==== new chips"


def points() -> list[cal.Point]:
    cases, _ = load_cases(NEW_CHIPS_CSV)
    pts, failed = cal.prepare(cases)
    if failed:
        raise RuntimeError(f"{len(failed)} rows of {NEW_CHIPS_CSV} do not build: {failed[0][1]}")
    return pts


def _defaults() -> FamilyParams:
    """The calibration's defaults: where a family without calibration starts."""
    names = {f.name for f in fields(FamilyParams)}
    return FamilyParams(**{k: float(v) for k, v in calibration()["defaults"].items() if k in names})


def _reset(pts: list[cal.Point]) -> None:
    """Every point back to its engine's shipped defaults (engines.yaml) and its family's
    uncalibrated defaults, before any fit."""
    for p in pts:
        p.engine.profile = default_profiles()[p.engine.profile.name]
        p.set_params(_defaults())


def fit(pts: list[cal.Point], rounds: int = 2) -> Fitted:
    """The new chips' family (their software stack's efficiency) and each new engine's overheads,
    fitted in turn on the rows, from the uncalibrated defaults (as ``llmhw validate --fit`` does
    for the shipped families)."""
    _reset(pts)
    fams: dict[str, FamilyParams] = {}
    engines: dict[str, dict[str, float]] = {}
    for _ in range(rounds):
        for key in sorted({p.key for p in pts}):
            mine = [p for p in pts if p.key == key]
            if len(mine) >= 4:
                fams[key] = cal.fit_family(mine, fams.get(key, _defaults()), max_nfev=40)
        for name in ENGINES:
            mine = [p for p in pts if p.engine.profile.name == name]
            if len(mine) >= 4:
                engines[name] = _keep_unseen(mine, name, cal.fit_engine(mine, name, mine[0].engine.profile))
    return Fitted({k: asdict(v) for k, v in fams.items()}, engines)


def _keep_unseen(pts: list[cal.Point], name: str, values: dict[str, float]) -> dict[str, float]:
    """The fitted overheads, with those no row exercises (a served front end's time when every
    row ran in-process) put back to the profile's shipped value: the rows say nothing about them,
    so the optimizer's last value would be noise a served prediction then inherits."""
    shipped = default_profiles()[name]
    out = dict(values)
    base = cal.log_errors(pts)
    for k in values:
        trial = {**out, k: float(getattr(shipped, k))}
        cal._set_engine(pts, name, trial)
        if np.allclose(cal.log_errors(pts), base, rtol=0.0, atol=1e-9):
            out = trial
    cal._set_engine(pts, name, out)
    return out


def _apply(pts: list[cal.Point], fitted: Fitted) -> None:
    for p in pts:
        prof = default_profiles()[p.engine.profile.name]
        p.engine.profile = replace(prof, **fitted.engines.get(prof.name, {}))
        fam = fitted.families.get(p.key)
        p.set_params(FamilyParams(**fam) if fam else _defaults())


def _held_out(pts: list[cal.Point], held: Callable[[cal.Point], bool], engine: str) -> list[cal.Row]:
    """The ``engine``'s rows that ``held`` selects, scored with the family and engines fitted on
    every other row (none when too few of the engine's rows are left to fit it)."""
    train = [p for p in pts if not held(p)]
    test = [p for p in pts if held(p) and p.engine.profile.name == engine]
    if not test or sum(p.engine.profile.name == engine for p in train) < 4:
        return []
    fitted = fit(train)
    _apply(test, fitted)
    return cal.score(test)


@dataclass
class Fitted:
    families: dict[str, dict[str, float]]
    engines: dict[str, dict[str, float]]


@dataclass
class NewChipsResult:
    fitted: Fitted
    in_sample: list[cal.Row]
    chip_held_out: list[cal.Row] = field(default_factory=list)
    source_held_out: list[cal.Row] = field(default_factory=list)
    engine_of: dict[int, str] = field(default_factory=dict)
    model_held_out: list[cal.Row] = field(default_factory=list)

    def summary(self) -> dict[str, dict[tuple[str, str], dict[str, float]]]:
        out = {}
        for label, rows in (("in-sample", self.in_sample), ("chip held out", self.chip_held_out),
                            ("source held out", self.source_held_out),
                            ("model held out", self.model_held_out)):
            groups: dict[tuple[str, str], list[float]] = defaultdict(list)
            for r in rows:
                e = self.engine_of[r.row]
                groups[(e, r.metric)].append(r.ape)
                groups[(e, "all")].append(r.ape)
                groups[("all", "all")].append(r.ape)
            if not rows:
                continue
            out[label] = {k: {"n": len(v), "median": float(np.median(v)), "worst": float(np.max(v))}
                          for k, v in groups.items()}
        return out


def run(*, write: bool = False) -> NewChipsResult:
    """Fit the new engines on every row (optionally writing them to calibration.yaml), score
    them in-sample, then with a chip and a source held out."""
    pts = points()
    engine_of = {p.case.row: p.engine.profile.name for p in pts}
    fitted = fit(pts)
    if write:
        write_block(fitted)
    _apply(pts, fitted)
    in_sample = cal.score(pts)
    # Each chip's rows scored with everything fitted on the other chip's rows alone; vLLM's
    # smaller benchmark scored with everything fitted on the other rows.
    chip = [r for c in sorted({p.chip for p in pts})
            for r in _held_out(pts, lambda p, c=c: p.chip == c, "transformers-neuronx")]
    sources = sorted({p.case.source for p in pts if p.engine.profile.name == "vllm-neuron"})
    source = [r for u in sources for r in _held_out(pts, lambda p, u=u: p.case.source == u, "vllm-neuron")]
    _apply(pts, fitted)
    return NewChipsResult(fitted, in_sample, chip, source, engine_of)


def run_family(family: str, *, write: bool = False) -> NewChipsResult:
    """Fit one family and its engines on that family's rows alone (optionally writing them over
    the shipped blocks, every other entry kept), score them in-sample and with each model's rows
    scored from a fit on the family's other models."""
    pts = [p for p in points() if p.key == family]
    if not pts:
        raise RuntimeError(f"no row of {NEW_CHIPS_CSV} is of family {family!r}")
    engine_of = {p.case.row: p.engine.profile.name for p in pts}
    fitted = fit(pts)
    if write:
        cal_ = calibration()
        write_block(Fitted({**(cal_.get(FAMILY_BLOCK) or {}), **fitted.families},
                           {**(cal_.get(BLOCK) or {}), **fitted.engines}))
    _apply(pts, fitted)
    in_sample = cal.score(pts)
    models = sorted({p.case.scenario["model"] for p in pts})
    held = [r for m in models for e in sorted(set(engine_of.values()))
            for r in _held_out(pts, lambda p, m=m: p.case.scenario["model"] == m, e)]
    _apply(pts, fitted)
    return NewChipsResult(fitted, in_sample, engine_of=engine_of, model_held_out=held)


def write_block(fitted: Fitted) -> None:
    """Rewrite the ``new_chip_engines`` block of calibration.yaml (placed before the fitted tables
    of ``llmhw validate --fit``, which keeps everything above its own marker)."""
    path = Path(str(resources.files("llmhw.cost").joinpath("calibration.yaml")))
    text = path.read_text()
    marker = FITTED_MARKER
    head, tail = text.split(marker, 1)
    if BLOCK_MARKER in head:
        head = head.split(BLOCK_MARKER)[0]
    table = {FAMILY_BLOCK: {k: {n: float(f"{v:.4g}") for n, v in d.items()} for k, d in fitted.families.items()},
             BLOCK: {k: {n: float(f"{v:.4g}") for n, v in d.items()} for k, d in fitted.engines.items()}}
    stamp = (f"{BLOCK_MARKER}, fitted by llmhw.validation.new_chips on {_dt.date.today().isoformat()} on "
             f"validation/{NEW_CHIPS_CSV}: these chips' family and engines only\n")
    path.write_text(head.rstrip("\n") + "\n" + stamp + yaml.safe_dump(table, sort_keys=True) + marker + tail)


def markdown(res: NewChipsResult) -> str:
    """Median and worst absolute error per engine and metric, for the three ways of scoring."""
    lines = ["| scored | engine | metric | n | median | worst |", "|---|---|---|---:|---:|---:|"]
    for label, table in res.summary().items():
        for (e, m), v in sorted(table.items()):
            lines.append(f"| {label} | {e} | {m} | {v['n']} | {v['median']:.1%} | {v['worst']:.1%} |")
    return "\n".join(lines) + "\n"


def fitted_values() -> dict[str, Any]:
    """The engines' block as shipped in calibration.yaml."""
    return dict(calibration().get(BLOCK) or {})
