"""Training steps against published training runs (issue 17; docs/validation.md, "Training").

``measurements_training.csv`` (shipped beside the inference measurements) holds published
training throughput with the full mapping each run states: measured iteration times of
Megatron-LM on A100 (Korthikanti et al. 2022), NVIDIA's NeMo / Megatron-Bridge pre-training
tables on H100, B200 and GB200 (tokens/s per GPU), and Llama 3 405B's MFU on 8,192 and 16,384
H100s. Each row becomes a training scenario; the measured figure becomes a step time:

- ``step_time_s``: as printed;
- ``tokens_per_s_per_chip``: global batch tokens / (value x chips);
- ``mfu``: llmhw's model FLOPs (PaLM's convention) / (chips x bf16 peak x value), the
  convention being the row's stated doubt.

The training engine's two software figures (``gemm_eff``, ``fp8_eff`` of cost/training.yaml) are
fitted by least squares on the log of predicted / measured step time, with every other figure
physics or the family's inference calibration. ``run(cross_validate=True)`` also refits with each
chip's rows held out and predicts them: the error on chips the fit never saw.

    python -m llmhw.validation.training [--fit] [--write] [--cross-validate] [--markdown]
"""

from __future__ import annotations

import argparse
import csv
import datetime as _dt
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from llmhw.api import TrainingPrediction, train
from llmhw.hardware.catalog import lookup
from llmhw.workload.catalog import load_model

TRAINING_CSV = "measurements_training.csv"
ENGINE = "megatron"
FAMILY = "nvidia-gpu"
# What the fit may not leave: a training GEMM library reaches 40-90% of the matrix peak; FP8
# GEMMs keep at least a third of it (below that FP8 would not be worth running).
BOUNDS = {"gemm_eff": (0.3, 0.95), "fp8_eff": (0.33, 1.0), "moe_eff": (0.1, 1.0)}


@dataclass(frozen=True)
class TrainingCase:
    row: int
    source: str
    chip: str
    label: str
    scenario: dict[str, Any]
    metric: str
    value: float
    notes: str
    moe: bool

    def measured_step_s(self, p: TrainingPrediction) -> float:
        """The published figure as a step time (the prediction supplies the FLOP count an MFU row
        needs and the chip count)."""
        if self.metric == "step_time_s":
            return self.value
        if self.metric == "tokens_per_s_per_chip":
            return p.tokens_per_step / (self.value * p.scenario.n_chips)
        peak = p.scenario.chip.flops(p.scenario.compute_unit)["bf16"]
        return p.flops.model / (p.scenario.n_chips * peak * self.value)


def _source(url: str) -> str:
    if "2205.05198" in url:
        return "Megatron-LM (Korthikanti 2022)"
    if "2407.21783" in url:
        return "Llama 3 405B"
    return "NeMo Megatron-Bridge 25.11"


def load_training_cases() -> list[TrainingCase]:
    text = resources.files("llmhw.validation").joinpath(TRAINING_CSV).read_text(encoding="utf-8")
    base = Path(str(resources.files("llmhw.validation")))
    out = []
    for i, r in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        model = r["model"]
        if model.endswith(".json"):
            model = str(base / model)
        n = int(r["n_chips"])
        tp, pp, cp, ep = (int(r[k]) for k in ("tp", "pp", "cp", "ep"))
        dp = n // (tp * pp * cp)
        vp = int(r["vp"])
        scenario = {
            "model": model, "hardware": r["hardware"], "n_chips": n,
            "parallelism": {"tp": tp, "pp": pp, "dp": dp, "cp": cp, "ep": ep},
            "training": {"sequence_length": int(r["sequence_length"]),
                         "global_batch_sequences": int(r["global_batch_sequences"]),
                         "micro_batch": int(r["micro_batch"]), "precision": r["precision"],
                         "recompute": r["recompute"], "zero": int(r["zero"]),
                         "pipeline_schedule": "interleaved" if vp > 1 else "1f1b", "virtual_stages": vp},
        }
        name = Path(r["model"]).name.removesuffix(".json")
        label = f"{name} {r['precision']} {n} x {r['hardware']} tp{tp} pp{pp}" + (f" cp{cp}" if cp > 1 else "") + \
            (f" ep{ep}" if ep > 1 else "") + (f" ({r['recompute']})" if "2205.05198" in r["source_url"] else "")
        system = lookup(r["hardware"])
        chip = getattr(system, "chip", system).id
        moe = load_model(model).moe is not None
        out.append(TrainingCase(row=i, source=_source(r["source_url"]), chip=chip, label=label, scenario=scenario,
                                metric=r["metric"], value=float(r["value"]), notes=r["notes"], moe=moe))
    return out


@dataclass(frozen=True)
class TrainingRow:
    case: TrainingCase
    predicted_s: float
    measured_s: float
    mfu: float
    fits: bool
    held_out: bool = False

    @property
    def error(self) -> float:
        return self.predicted_s / self.measured_s - 1.0


def is_moe(c: TrainingCase) -> bool:
    return bool(c.moe)


def score(cases: list[TrainingCase], gemm_eff: float | None = None, fp8_eff: float | None = None,
          moe_eff: float | None = None, *, held_out: bool = False) -> list[TrainingRow]:
    rows = []
    for c in cases:
        p = train(c.scenario, gemm_eff=gemm_eff, fp8_eff=fp8_eff, moe_eff=moe_eff)
        rows.append(TrainingRow(case=c, predicted_s=p.step_time_s, measured_s=c.measured_step_s(p), mfu=p.mfu,
                                fits=p.fits, held_out=held_out))
    return rows


def fit(cases: list[TrainingCase]) -> dict[str, float]:
    """(gemm_eff, fp8_eff, moe_eff) minimising the squared log error of the step times. FP8's and
    MoE's shares are only fitted when such rows are present."""
    from scipy.optimize import least_squares

    names = ["gemm_eff"]
    if any(c.scenario["training"]["precision"] == "fp8" for c in cases):
        names.append("fp8_eff")
    if any(is_moe(c) for c in cases):
        names.append("moe_eff")
    lo = [BOUNDS[k][0] for k in names]
    hi = [BOUNDS[k][1] for k in names]

    def residuals(x: np.ndarray) -> np.ndarray:
        kw = dict(zip(names, map(float, x), strict=True))
        return np.array([np.log(r.predicted_s / r.measured_s) for r in score(cases, **kw)])

    x0 = [{"gemm_eff": 0.7, "fp8_eff": 0.75, "moe_eff": 0.6}[k] for k in names]
    res = least_squares(residuals, x0, bounds=(lo, hi), diff_step=1e-3, max_nfev=60)
    return {k: round(float(v), 4) for k, v in zip(names, res.x, strict=True)}


@dataclass
class TrainingResult:
    rows: list[TrainingRow]
    fitted: dict[str, float] | None
    held_out: list[TrainingRow]

    def median_abs(self, rows: list[TrainingRow] | None = None,
                   where: Callable[[TrainingRow], bool] = lambda r: True) -> float:
        errs = [abs(r.error) for r in (self.rows if rows is None else rows) if where(r)]
        return float(np.median(errs)) if errs else float("nan")


def run(*, do_fit: bool = False, cross_validate: bool = False, write: bool = False) -> TrainingResult:
    cases = load_training_cases()
    fitted = fit(cases) if do_fit else None
    rows = score(cases, **(fitted or {}))
    held: list[TrainingRow] = []
    if cross_validate:
        for chip in sorted({c.chip for c in cases}):
            train_set = [c for c in cases if c.chip != chip]
            test_set = [c for c in cases if c.chip == chip]
            f = fit(train_set)
            held += score(test_set, **f, held_out=True)
    if write and fitted is not None:
        write_fit(fitted)
    return TrainingResult(rows=rows, fitted=fitted, held_out=held)


def training_profile_row() -> dict[str, float]:
    """The shipped fit: the megatron engine's nvidia-gpu row of cost/training.yaml."""
    from llmhw.cost.training import training_profiles

    return {k: float(v) for k, v in training_profiles()[ENGINE]["families"][FAMILY].items()}


def write_fit(fitted: dict[str, float]) -> None:
    """Rewrite the engine's row of the nvidia-gpu family in cost/training.yaml, in place."""
    path = Path(str(resources.files("llmhw.cost").joinpath("training.yaml")))
    text = path.read_text(encoding="utf-8")
    for k, v in fitted.items():
        text, n = re.subn(rf"(\n        {k}: )[0-9.]+", rf"\g<1>{v}", text, count=1)
        if n != 1:
            raise RuntimeError(f"cost/training.yaml has no {k} line to rewrite")
    stamp = f"#   last fit: {_dt.date.today().isoformat()} on {TRAINING_CSV}"
    text = re.sub(r"#   last fit: .*", stamp, text) if "#   last fit:" in text else text.replace(
        "engines:\n", f"{stamp}\nengines:\n", 1)
    path.write_text(text, encoding="utf-8")


def markdown(res: TrainingResult) -> str:
    """The per-row table and the medians, as docs/validation.md prints them."""
    lines = ["| Source | Run | Measured step | llmhw | Error | MFU (llmhw) | Fits |",
             "|---|---|---:|---:|---:|---:|---|"]
    for r in res.rows:
        lines.append(f"| {r.case.source} | {r.case.label} | {r.measured_s:.3g} s | {r.predicted_s:.3g} s | "
                     f"{r.error:+.0%} | {r.mfu:.2f} | {'yes' if r.fits else 'no'} |")
    lines.append("")
    sources = sorted({r.case.source for r in res.rows})
    med = [f"all {len(res.rows)} rows {res.median_abs():.1%}"]
    med += [f"{s} {res.median_abs(where=lambda r, s=s: r.case.source == s):.1%}" for s in sources]
    med += [f"dense {res.median_abs(where=lambda r: not is_moe(r.case)):.1%}",
            f"MoE {res.median_abs(where=lambda r: is_moe(r.case)):.1%}"]
    lines.append("Median |error| of step time (as fitted): " + "; ".join(med) + ".")
    if res.held_out:
        chips = sorted({r.case.chip for r in res.held_out})
        per = [f"{c} {res.median_abs(res.held_out, lambda r, c=c: r.case.chip == c):.1%}" for c in chips]
        kinds = [f"dense {res.median_abs(res.held_out, lambda r: not is_moe(r.case)):.1%}",
                 f"MoE {res.median_abs(res.held_out, lambda r: is_moe(r.case)):.1%}"]
        lines.append(f"Chip held out of the fit: all {res.median_abs(res.held_out):.1%}; " + "; ".join(per + kinds)
                     + ".")
    return "\n".join(lines)


SECTION_INTRO = (
    "Published training runs with their whole mapping (`src/llmhw/validation/measurements_training.csv`, "
    "scored by `llmhw validate --training`, `validation/training.py`): Megatron-LM's measured iteration times "
    "for GPT 22B to 1T on A100s (Korthikanti et al. 2022, full and selective recomputation), NVIDIA's NeMo "
    "Megatron-Bridge 25.11 pre-training table (tokens/s per GPU on H100, B200 and GB200, dense Llama 3.1 "
    "and MoE models) and Llama 3 405B's MFU on 8,192 and 16,384 H100s. Each figure is read as a step time. "
    "Three software figures of the `megatron` training engine (`cost/training.yaml`: the large-GEMM "
    "efficiency, FP8's share of it, the MoE expert path's share of it) are fitted on all rows; every other "
    "figure is hardware physics or the family's inference calibration. *Chip held out*: the three figures "
    "refitted without any row of that chip, then that chip's rows predicted. *Fits*: whether llmhw's "
    "memory model holds the run in 90% of the chip's memory; a 'no' on a run that did run means its recipe "
    "recomputes, offloads or stores FP8 activations beyond what the row states (the tables give no "
    "recomputation settings).")


def section(res: TrainingResult) -> list[str]:
    """The "Training" section of docs/validation.md."""
    return ["", "## Training (`llmhw train`)", "", SECTION_INTRO, "", markdown(res)]


def to_dict(res: TrainingResult) -> dict[str, Any]:
    def row(r: TrainingRow) -> dict[str, Any]:
        return {"row": r.case.row, "source": r.case.source, "run": r.case.label, "chip": r.case.chip,
                "moe": r.case.moe, "measured_step_s": r.measured_s, "predicted_step_s": r.predicted_s,
                "error": r.error, "mfu": r.mfu, "fits": r.fits}

    out: dict[str, Any] = {"fitted": res.fitted, "rows": [row(r) for r in res.rows],
                           "median_abs_error": res.median_abs()}
    if res.held_out:
        out["held_out"] = [row(r) for r in res.held_out]
        out["held_out_median_abs_error"] = res.median_abs(res.held_out)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m llmhw.validation.training", description=__doc__.split("\n")[0])
    ap.add_argument("--fit", action="store_true", help="fit gemm_eff and fp8_eff on the rows")
    ap.add_argument("--write", action="store_true", help="with --fit: write the fit to cost/training.yaml")
    ap.add_argument("--cross-validate", action="store_true", help="refit with each chip held out")
    a = ap.parse_args(argv)
    res = run(do_fit=a.fit, cross_validate=a.cross_validate, write=a.write)
    if res.fitted:
        print("fitted:", res.fitted)
    print(markdown(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
