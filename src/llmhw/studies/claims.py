"""Every quantitative claim of Ma and Patterson (2026) that llmhw can recompute, recomputed.

The claims come from the paper (Ma & Patterson 2026, "Challenges and Research Directions for LLM
Inference Hardware"): its section 2 (the numbered quantitative claims, _claims_section2), its Tables
1 and 3 (_claims_tables) and the tests its section 5 proposes (Q1-Q15, _claims_questions). Each row: the claim, the paper's figure
(a number, a range, or for a qualitative claim the condition on llmhw's results that states it),
llmhw's figure computed live from the catalogs and the engine, the verdict, and why.

One rule gives every verdict (_claims_rule.judge; docs/claims.md):

- **by construction** when llmhw's figure restates a catalog quantity whose only source is the
  paper (read from the catalog's provenance): never counted as agreement;
- **agree**: inside the paper's range or within 10% of its number; a qualitative claim's condition
  holds;
- **partly**: the same direction (an effect on the same side of 1, by more than 10%) or, for a
  plain quantity, the same order of magnitude (within 10X); a qualitative claim's weaker form holds;
- **disagree** otherwise; **not computable** when llmhw has no figure.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import llmhw
from llmhw.hardware.catalog import lookup
from llmhw.studies import (
    _claims_figures,
    _claims_questions,
    _claims_section2,
    _claims_tables,
    style,
)
from llmhw.studies._claims_figures import distance, fig_counts, fig_roofline, fig_scatter, numeric
from llmhw.studies._claims_rule import TOLERANCE, VERDICTS, Row, not_computable
from llmhw.studies.base import Figure, Study, Table

CHECKS: tuple[Callable[[], list[Row]], ...] = (
    *_claims_section2.CHECKS, *_claims_tables.CHECKS, *_claims_questions.CHECKS)


def _order(r: Row) -> tuple[int, float, str]:
    """Section 2, then the tables, then the section 5 tests; by claim number within each."""
    cid = r["id"]
    head = cid.split("-")[0] if cid[0] != "Q" else cid
    num = "".join(ch for ch in (cid.split("-")[1] if cid.startswith("S2-") else head[1:]) if ch.isdigit())
    return {"S": 0, "T": 1, "Q": 2}.get(cid[0], 3), float(num or 0), cid


def claim_rows() -> tuple[list[Row], dict[str, Any]]:
    """Every row of the claims table, in the paper's order, and Q1's decode sweep (for its figure)."""
    rows: list[Row] = []
    for f in CHECKS:
        try:
            rows.extend(f())
        except Exception as e:  # a failing check becomes its own row, never a failed study
            rows.append(not_computable(f.__name__, (f.__doc__ or f.__name__).strip().split("\n")[0], "-", "-",
                                       f"error: {e}"))
    q1_rows, q1 = _claims_questions.q1_decode_bound()
    rows.extend(q1_rows)
    rows.sort(key=_order)
    return rows, q1


def counts(rows: list[Row]) -> dict[str, int]:
    """Rows per verdict, every class of the rule (zeros included)."""
    return {v: sum(1 for r in rows if r["verdict"] == v) for v in VERDICTS}


def summary(rows: list[Row]) -> str:
    c = counts(rows)
    return (f"{len(rows)} claims: {c['agree']} agree, {c['partly']} partly, {c['disagree']} disagree, "
            f"{c['by construction']} by construction (llmhw's input was taken from the paper), "
            f"{c['not computable']} not computable by llmhw.")


def _findings(rows: list[Row]) -> list[str]:
    out = [summary(rows)]
    for r in rows:
        if r["verdict"] in ("partly", "disagree"):
            out.append(f"{r['id']} ({r['verdict']}: {r['why']}): {r['claim']}. Paper {r['paper_figure']}; llmhw "
                       f"{r['llmhw_figure']}. {r['note'][:1].upper()}{r['note'][1:]}.")
    built = [f"{r['id']} ({r['from_paper']})" for r in rows if r["verdict"] == "by construction"]
    out.append("By construction (llmhw's figure restates a catalog number whose only source is the paper; not counted "
               f"as agreement): {', '.join(built) or 'none'}.")
    nc = [r["id"] for r in rows if r["verdict"] == "not computable"]
    out.append(f"Not computable (history, markets, prices over time, diffusion models): {', '.join(nc)}.")
    return out


def _setups(rows: list[Row], q1: dict[str, Any]) -> dict[str, str]:
    """Each figure's setup line, from the rows and Q1's scenario."""
    s = q1["scenario"]
    system = lookup(s["hardware"])
    w = s["workload"]
    chips = ", ".join(_claims_figures.RIDGE_NAMES.get(c, c) for c in q1["ridges"])
    return {
        "claims_agreement": style.setup(f"{len(rows)} claims of Ma & Patterson 2026 (§2, Tables 1 and 3, §5 tests)",
                                        "llmhw from its catalogs and engine"),
        "claims_scatter": style.setup(f"the {len(numeric(rows))} claims of Ma & Patterson 2026 with a number on "
                                      "each side", "llmhw from its catalogs and engine"),
        "claims_decode_roofline": style.setup(
            f"{llmhw.load_model(s['model']).name} {s['precision']['weights'].upper()} on {s['n_chips']} x "
            f"{style.label(system.chip.id)} (TP{s['parallelism']['tp']})",
            f"{style.tokens(w['input_tokens'])} in / {style.tokens(w['output_tokens'])} out",
            f"batch {int(q1['batch'][0])}-{int(q1['batch'][-1]):,}", f"ridges of {chips}"),
    }


def _summary(rows: list[Row], q1: dict[str, Any]) -> str:
    c = counts(rows)
    pts = [r for r in numeric(rows) if r["verdict"] != "by construction"]
    within = sum(1 for r in pts if abs(distance(r)) <= TOLERANCE)
    lo, hi, top = min(q1["ridges"].values()), max(q1["ridges"].values()), float(q1["ai"].max())
    return (f"Of the paper's {len(rows)} quantitative claims, llmhw's figures agree with {c['agree']}, partly with "
            f"{c['partly']} and disagree with {c['disagree']}; {c['by construction']} restate the paper's own numbers "
            f"and {c['not computable']} are history or markets. {within} of the {len(pts)} claims with an independent "
            f"number land within 10%. Q1: a decode step does {q1['ai'][0]:.1f} FLOP/B at batch 1 and at most "
            f"{top:.0f} at any batch, {'below' if top < lo else 'reaching'} the {lo:.0f}-{hi:.0f} FLOP/B ridges.")


def run() -> Study:
    style.apply()
    rows, q1 = claim_rows()
    c = counts(rows)
    n = len(rows)
    pts = [r for r in numeric(rows) if r["verdict"] != "by construction"]
    within = sum(1 for r in pts if abs(distance(r)) <= TOLERANCE)
    misses = [r["id"] for r in pts if abs(distance(r)) > TOLERANCE]
    study = Study(
        name="claims", title="The paper's quantitative claims, recomputed",
        question="Which numbers in Ma and Patterson (2026) does llmhw reproduce from its catalogs and engine, and "
                 "where and why does it differ?",
        tables=[Table("claims", "Every numeric claim of the paper (Ma & Patterson 2026: §2, Tables 1 and 3, the §5 tests)",
                      [dict(r) for r in rows],
                      note="verdict (one rule, docs/claims.md): by construction when llmhw's figure restates a catalog "
                           "quantity whose only source is the paper; agree inside the paper's range or within 10% "
                           "of its number (qualitative: the condition holds); partly in the same direction (an "
                           "effect beyond 10% on the same side of 1) or order of magnitude (within 10X; qualitative: "
                           "the weaker condition holds); disagree otherwise; not computable without a figure. "
                           "paper_low / paper_high / llmhw_value: the numbers compared, in 'unit' (paper_effect: a "
                           "factor whose 'no effect' is 1); condition / partial_condition and their *_holds: a "
                           "qualitative claim as computed booleans; restates: the catalog quantities llmhw's figure "
                           "restates; from_paper: those whose only source is the paper.")],
        figures=[
            Figure("claims_agreement",
                   f"Of {n} claims, {c['agree']} agree, {c['partly']} partly and {c['disagree']} disagree; "
                   f"{c['by construction']} are by construction (llmhw took the number from the paper) and "
                   f"{c['not computable']} are history, markets or prices over time.", fig_counts(rows)),
            Figure("claims_scatter",
                   f"{within} of the {len(pts)} claims with an independent number on each side land within 10% of "
                   f"the paper's number or range; the misses ({', '.join(misses)}) are explained row by row in the "
                   "table. Squares: by construction.", fig_scatter(rows)),
            Figure("claims_decode_roofline",
                   f"Decode is memory-bound (Q1): a Llama 3.1 70B FP8 decode step does {q1['ai'][0]:.0f} FLOP per "
                   f"byte at batch 1 and saturates near {q1['ai'].max():.0f} as KV reads grow with the batch, below "
                   f"the {min(q1['ridges'].values()):.0f}-{max(q1['ridges'].values()):.0f} FLOP/B ridges of today's GPUs.",
                   fig_roofline(q1)),
        ],
        findings=_findings(rows), summary=_summary(rows, q1))
    setups = _setups(rows, q1)
    for f in study.figures:
        f.setup = setups[f.name]
    return study
