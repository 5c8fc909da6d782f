"""``llmhw validate``: predict every shipped measurement, report the error, optionally refit."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from llmhw.validation import calibrate as cal


@dataclass
class ValidationResult:
    rows: list[cal.Row]
    summary: dict[tuple[str, str], dict[str, float]]
    flagged: list[tuple[cal.Row, str]] = field(default_factory=list)
    cv_chip: list[cal.Row] = field(default_factory=list)
    cv_kfold: list[cal.Row] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)
    fitted: dict[str, Any] | None = None
    transfers: dict[str, list[cal.Row]] = field(default_factory=dict)   # fit on some families, score others
    open_loop: list[cal.Row] = field(default_factory=list)        # simulated rows (validation/open_loop.py)
    open_loop_cv: list[cal.Row] = field(default_factory=list)     # the same, each chip's family refit without it

    def to_dict(self) -> dict[str, Any]:
        def rows(rs: list[cal.Row]) -> list[dict[str, Any]]:
            return [r.__dict__ for r in rs]

        return {
            "summary": [{"family": f, "metric": m, **v} for (f, m), v in sorted(self.summary.items())],
            "cross_validated": {
                "chip": [{"family": f, "metric": m, **v} for (f, m), v in sorted(cal.summarize(self.cv_chip).items())],
                "kfold": [{"family": f, "metric": m, **v} for (f, m), v in sorted(cal.summarize(self.cv_kfold).items())],
                **{name: [{"family": f, "metric": m, **v} for (f, m), v in sorted(cal.summarize(rows).items())]
                   for name, rows in self.transfers.items()},
            },
            "open_loop": {
                "summary": [{"family": f, "metric": m, **v} for (f, m), v in sorted(cal.summarize(self.open_loop).items())],
                "chip_held_out": [{"family": f, "metric": m, **v}
                                  for (f, m), v in sorted(cal.summarize(self.open_loop_cv).items())],
                "points": rows(self.open_loop),
            },
            "points": rows(self.rows),
            "flagged": [{**r.__dict__, "reason": why} for r, why in self.flagged],
            "skipped": [{"row": r, "reason": why} for r, why in self.skipped],
        }


def run(*, fit: bool = False, cross_validate: bool = False, write_calibration: bool = False,
        open_loop: bool = True, log: Callable[[str], None] = lambda s: None) -> ValidationResult:
    from llmhw.validation import open_loop as ol
    from llmhw.validation.cases import flagged, load_cases

    cases, skips = load_cases()
    ol_cases, ol_skips = ol.load_open_loop_cases()
    # The open-loop rows are scored by simulation below; those it cannot map say why.
    open_rows = {c.row for c in ol_cases} | {s.row for s in ol_skips}
    skips = [s for s in skips if s.row not in open_rows] + ol_skips
    flags = flagged()
    points, failed = cal.prepare([c for c in cases if c.row not in flags])
    flagged_points, _ = cal.prepare([c for c in cases if c.row in flags])
    skipped = [(s.row, s.reason) for s in skips] + [(c.row, why) for c, why in failed]
    fitted = None
    if fit:
        fitted = cal.fit_all(points, log=log)
        if write_calibration:
            _write_calibration(cal.params_table(fitted))
    rows = cal.score(points)
    res = ValidationResult(rows, cal.summarize(rows), skipped=sorted(skipped), fitted=fitted,
                           flagged=[(r, flags[r.row]) for r in cal.score(flagged_points)])
    if open_loop:
        res.open_loop, ol_failed = ol.score(ol_cases, log=log)
        res.skipped = sorted(res.skipped + ol_failed)
    if cross_validate:
        current = fitted or {"families": {}, "engines": {}}
        held: dict[tuple[str, str], Any] = {}
        res.cv_chip = cal.cross_validate(points, current, how="chip", log=log, held_params=held)
        if open_loop:
            # Each open-loop row with its chip's family refitted without that chip's rows.
            fitted_chips = {(p.key, p.chip) for p in points}
            res.open_loop_cv, _ = ol.score(ol.held_out(ol_cases, held, fitted_chips), log=log,
                                           params=lambda c: held.get((c.family, c.hardware)))
        res.cv_kfold = cal.cross_validate(points, current, how="kfold", log=log)
        res.transfers = {name: cal.transfer(points, train, test, log=log)
                         for name, (train, test) in cal.TRANSFERS.items()}
        if write_calibration:
            chips: dict[str, set[str]] = {}
            for p in points:
                chips.setdefault(p.key, set()).add(p.chip)
            _write_trust(trust_table(res, {k: sorted(v) for k, v in chips.items()}))
    return res


def trust_table(res: ValidationResult, fitted_chips: dict[str, list[str]]) -> dict[str, Any]:
    """What a prediction may tell its reader about its own error, from a cross-validated run:
    per family, the rows it was fitted on, its median error in sample and with each chip held
    out of the fit (a chip the family never saw), the chips it was fitted on; and, for a family
    never calibrated, the median error of one group's fit scoring families it never saw."""
    s = res.summary
    cv = cal.summarize(res.cv_chip) if res.cv_chip else {}
    fams = {}
    for (fam, metric), v in sorted(s.items()):
        if metric != "all" or fam == "all":
            continue
        held = cv.get((fam, "all"))
        fams[fam] = {"rows": int(v["n"]), "in_sample": round(v["median"], 4),
                     "chip_held_out": None if held is None else round(held["median"], 4),
                     "chips": sorted(fitted_chips.get(fam, []))}
    never = {name: round(cal.summarize(rows)[("all", "all")]["median"], 4)
             for name, rows in res.transfers.items() if rows}
    return {"families": fams, "never_seen": never,
            "all": {"in_sample": round(s[("all", "all")]["median"], 4),
                    "chip_held_out": None if ("all", "all") not in cv else round(cv[("all", "all")]["median"], 4)}}


def _write_trust(table: dict[str, Any]) -> None:
    path = Path(str(resources.files("llmhw.cost").joinpath("trust.yaml")))
    head = ("# What a prediction tells its reader about its own error (llmhw.cost.trust): per family,\n"
            "# the median absolute error of the validation rows in sample and with each chip held out of\n"
            "# its family's fit; for a family never calibrated, one group's fit scoring families it never\n"
            "# saw (docs/validation.md, 'Families never seen'). Errors are fractions.\n")
    stamp = f"# written by `llmhw validate --fit --cross-validate --write` on {_dt.date.today().isoformat()}\n"
    path.write_text(head + stamp + yaml.safe_dump(table, sort_keys=True))


def _write_calibration(table: dict[str, Any]) -> None:
    path = Path(str(resources.files("llmhw.cost").joinpath("calibration.yaml")))
    text = path.read_text()
    # Everything above the marker (comments and defaults) is kept; the fitted tables are redone.
    head = text.split(FITTED_MARKER)[0].rstrip("\n")
    if "\nfamilies:" in head:
        head = head.split("\nfamilies:")[0]
    body = yaml.safe_dump({"families": table["families"], "engines": table["engines"]}, sort_keys=True)
    stamp = f"{FITTED_MARKER} by `llmhw validate --fit` on {_dt.date.today().isoformat()}\n"
    path.write_text(head + "\n" + stamp + body)


FITTED_MARKER = "# ---- fitted"


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _transfer_lines(res: ValidationResult) -> list[str]:
    """Families never seen: one group's software efficiency on another group's chips."""
    if not res.transfers:
        return []
    cv_c = cal.summarize(res.cv_chip) if res.cv_chip else {}
    lines = ["", "## Families never seen", "",
             "Software efficiency fitted on one group of families only, every row of another group scored "
             "with it. Each scored chip keeps its own hardware physics (memory stream efficiency, matrix "
             "tile; `hardware/catalog`), as a hypothetical chip would; engines seen in training keep their "
             "fitted overheads, others (ATOM, QNN, ExecuTorch) their shipped defaults. Beside it, the same "
             "family in-sample and with one chip held out of its own family's fit.", "",
             "| fit on | scored family | metric | n | median (never seen) | median (in-sample) | median (chip held out) |",
             "|---|---|---|---:|---:|---:|---:|"]
    for name, rows in res.transfers.items():
        train = ", ".join(cal.TRANSFERS[name][0])
        for (f, m), v in sorted(cal.summarize(rows).items(), key=lambda kv: (kv[0][0] == "all", kv[0])):
            if f == "all" and m != "all":
                continue
            ins, c = res.summary.get((f, m)), cv_c.get((f, m))
            lines.append(f"| {name} ({train}) | {f} | {m} | {v['n']} | {_pct(v['median'])} | "
                         f"{_pct(ins['median']) if ins else '-'} | {_pct(c['median']) if c else '-'} |")
    return lines


def _open_loop_lines(res: ValidationResult) -> list[str]:
    """Open-loop serving: MLPerf Server / Interactive at their target QPS, JetStream on ShareGPT."""
    if not res.open_loop:
        return []
    s = cal.summarize(res.open_loop)
    cv = cal.summarize(res.open_loop_cv) if res.open_loop_cv else {}
    lines = ["", "## Open-loop serving (`llmhw simulate`)", "",
             "MLPerf Server and Interactive runs (Poisson arrivals at the submitter's target QPS over the "
             "benchmark's dataset; MLPerf's TTFT and TPOT are means) and JetStream's closed-concurrency runs on "
             "ShareGPT, each simulated (`validation/open_loop.py`, 2,000 requests, the first tenth left out). "
             "No open-loop row is fitted on: *as fitted* scores them with the calibration fitted on the "
             "closed-loop rows; *chip held out* with the chip's family refitted without any row of that chip. "
             "Where a row quotes its run's mean output tokens, the dataset's outputs are scaled to it; an "
             "MLPerf result without a target QPS is the highest rate llmhw finds within the benchmark's p99 "
             "TTFT and TPOT limits.", "",
             "Submitters tune the target QPS to the edge of what their system passes, so these runs sit close "
             "to capacity, where latency grows as 1 / (1 - load): a 10% error in capacity moves the mean TTFT "
             "and TPOT several-fold. `rate_per_s` therefore also reads each Server and Interactive run as a "
             "capacity: the highest Poisson rate llmhw finds within the benchmark's p99 limits, against the "
             "submitter's target QPS (at or just under the system's true capacity).", "",
             "| family | metric | n | median (as fitted) | worst (row) | median (chip held out) |",
             "|---|---|---:|---:|---:|---:|"]
    for (f, m), v in sorted(s.items(), key=lambda kv: (kv[0][0] == "all", kv[0])):
        c = cv.get((f, m))
        lines.append(f"| {f} | {m} | {v['n']} | {_pct(v['median'])} | {_pct(v['worst'])} ({v['worst_row']}) | "
                     f"{_pct(c['median']) if c else '-'} |")
    lines += ["", "| row | family | chip | metric | measured | simulated | error |", "|---:|---|---|---|---:|---:|---:|"]
    for r in sorted(res.open_loop, key=lambda r: r.row):
        lines.append(f"| {r.row} | {r.family} | {r.chip} | {r.metric} | {r.measured:.4g} | {r.predicted:.4g} | "
                     f"{_pct(r.ape)} |")
    return lines


def _training_lines(cross_validate: bool) -> list[str]:
    """Training steps against published training runs (validation/training.py)."""
    from llmhw.validation import training

    return training.section(training.run(cross_validate=cross_validate))


def markdown(res: ValidationResult) -> str:
    """docs/validation.md: per family and metric, in-sample and cross-validated, then every point."""
    s = res.summary
    cv_c = cal.summarize(res.cv_chip) if res.cv_chip else {}
    cv_k = cal.summarize(res.cv_kfold) if res.cv_kfold else {}
    lines = [
        "# Validation against published measurements",
        "",
        "Generated by `llmhw validate --cross-validate --markdown docs/validation.md`. Each row of",
        "`src/llmhw/validation/measurements.csv` is mapped to a scenario by the rules in that folder's",
        "README; the error is |predicted - measured| / measured. *In-sample*: with the parameters in",
        "`cost/calibration.yaml`, fitted on all rows. *k-fold*: each fifth of a family's rows predicted",
        "by parameters fitted on the other four fifths. *Chip held out*: every row of one chip predicted",
        "by parameters fitted on the family's other chips (the figure that says how llmhw does on",
        "hardware it was never fit on).",
        "",
        "| family | metric | n | median (in-sample) | worst (row) | median (k-fold) | median (chip held out) |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for (f, m), v in sorted(s.items(), key=lambda kv: (kv[0][0] == "all", kv[0])):
        k = cv_k.get((f, m))
        c = cv_c.get((f, m))
        lines.append(f"| {f} | {m} | {v['n']} | {_pct(v['median'])} | {_pct(v['worst'])} ({v['worst_row']}) | "
                     f"{_pct(k['median']) if k else '-'} | {_pct(c['median']) if c else '-'} |")
    lines += _transfer_lines(res)
    lines += _open_loop_lines(res)
    lines += _training_lines(bool(res.cv_chip))
    lines += ["", f"Rows not mapped to a scenario: {len(res.skipped)} (reasons at the end).", "",
              "## Rows no plausible model reaches", "",
              "Predicted and listed here, but left out of the fit and of the table above "
              "(`src/llmhw/validation/flags.yaml`).", "",
              "| row | chip | metric | measured | predicted | error | why |", "|---:|---|---|---:|---:|---:|---|"]
    for r, why in sorted(res.flagged, key=lambda x: x[0].row):
        lines.append(f"| {r.row} | {r.chip} | {r.metric} | {r.measured:.4g} | {r.predicted:.4g} | {_pct(r.ape)} | {why} |")
    lines += ["",
              "## Every point", "", "| row | family | chip | metric | measured | predicted | error |",
              "|---:|---|---|---|---:|---:|---:|"]
    for r in sorted(res.rows, key=lambda r: r.row):
        lines.append(f"| {r.row} | {r.family} | {r.chip} | {r.metric} | {r.measured:.4g} | {r.predicted:.4g} | "
                     f"{_pct(r.ape)} |")
    lines += ["", "## Rows not mapped", "", "| row | reason |", "|---:|---|"]
    for row, why in res.skipped:
        lines.append(f"| {row} | {why.replace('|', '/')} |")
    return "\n".join(lines) + "\n"


# What each parameter is, for the table in docs/engine.md: (kind, meaning, why its bounds).
_PARAM_DOC: dict[str, tuple[str, str]] = {
    "compute_eff_max": ("software, per family", "share of the matrix peak a large GEMM's kernels reach"),
    "compute_m_half": ("software, per family", "GEMM tokens at which a GEMM keeps half of compute_eff_max"),
    "compute_n_half": ("software, per family", "narrowest weight dimension at which a GEMM loses half"),
    "fp8_eff": ("software, per family", "share of compute_eff_max FP8 GEMMs keep"),
    "fp4_eff": ("software, per family", "share of compute_eff_max FP4 GEMMs keep"),
    "attention_eff": ("software, per family", "share of the matrix peak prefill attention reaches"),
    "memory_eff": ("software, per family", "share of the memory's stream bandwidth the kernels reach"),
    "read_overhead_s": ("software, per family", "fixed time of one streaming read (ramp-up and tail)"),
    "kernel_overhead_s": ("software, per family", "time per kernel beyond the hardware launch"),
    "comm_latency_s": ("software, per family", "base latency of one collective call"),
    "comm_bw_eff": ("software, per family (fixed)", "share of link bandwidth a large collective reaches"),
}


def parameters_markdown() -> str:
    """The parameter table of docs/engine.md: every parameter, its kind, fitted values and bounds,
    and where the hardware ones come from."""
    from llmhw.cost.params import BOUNDS, calibration, family_params
    from llmhw.hardware.physics import family_physics

    fams = sorted((calibration().get("families") or {}).keys())
    lines = ["| parameter | kind | meaning | bounds | " + " | ".join(fams) + " |",
             "|---|---|---|---|" + "---:|" * len(fams)]
    for name, (kind, meaning) in _PARAM_DOC.items():
        lo, hi = BOUNDS.get(name, (None, None))
        bounds = "fixed" if name not in cal.FIT_FAMILY else f"[{lo:.3g}, {hi:.3g}]"
        vals = " | ".join(f"{getattr(family_params(f), name):.3g}" for f in fams)
        lines.append(f"| `{name}` | {kind} | {meaning} | {bounds} | {vals} |")
    from llmhw.cost.params import profiles
    engines = sorted(n for n in profiles() if n not in ("default", "ideal"))
    lines += ["", "Fitted per engine on the same measurements (software: the serving stack's host time, "
              "queueing and its kernels against its family's best); `default` and `ideal` are not fitted.", "",
              "| engine parameter | bounds | " + " | ".join(engines) + " |",
              "|---|---|" + "---:|" * len(engines)]
    for name in cal.FIT_ENGINE:
        lo, hi = cal.ENGINE_BOUNDS[name]
        vals = " | ".join(f"{getattr(profiles()[e], name):.3g}" for e in engines)
        lines.append(f"| `{name}` | [{lo:.3g}, {hi:.3g}] | {vals} |")
    lines += ["", "| hardware physics | family | value | status | source |", "|---|---|---:|---|---|"]
    for fid, fam in sorted(family_physics().items()):
        for name in ("matrix_tile_tokens", "kernel_launch_s"):
            prov = fam.source_of(name)
            src = ", ".join(prov.sources) if prov else ""
            lines.append(f"| `{name}` | {fid} | {getattr(fam, name):.3g} | {prov.status if prov else ''} | {src} |")
    return "\n".join(lines) + "\n"
