"""The claims study's one rule: the paper's figure and llmhw's figure in, a verdict out.

The rule (:func:`judge`), stated once:

1. **by construction**: llmhw's figure restates a catalog quantity whose only source is the paper
   itself (:func:`taken_from_paper`). Agreement there checks llmhw's bookkeeping, not the claim,
   so it never counts as agreement, whatever the numbers say.
2. **agree**: llmhw's number lies inside the paper's range, or within 10% of the paper's number
   (of the nearer end of its range); for a qualitative claim, the condition that states the claim
   in llmhw's results holds.
3. **partly**: the same direction, or the same order of magnitude. The paper's figure is either a
   plain quantity (GB/s, W, ns) or an effect, a factor whose "no effect" value is 1 (80X, 2-3X
   lower power). A quantity agrees in order of magnitude within a factor of 10 of the paper's
   range; an effect agrees in direction when llmhw's factor lies on the same side of 1 as the
   paper's and more than 10% from 1 (closer than that it is, by step 2's own tolerance, no effect).
   For a qualitative claim: the weaker form of the condition holds.
4. **disagree**: otherwise.
5. **not computable**: llmhw has no figure (history, markets, prices over time).

Row builders never write a verdict: :func:`row` calls :func:`judge` on what they computed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from llmhw.core.errors import LlmhwError
from llmhw.core.provenance import Provenance, Sourced
from llmhw.hardware.catalog import sources

VERDICTS = ("agree", "partly", "disagree", "by construction", "not computable")
TOLERANCE = 0.10        # within 10% of the paper's number is the paper's number
ORDER = 10.0            # the same order of magnitude: within a factor of 10
PAPER_KEY = "ma_patterson2026"   # the paper's key in the hardware catalog's sources.yaml

Row = dict[str, Any]


@dataclass(frozen=True)
class Number:
    """The paper's number (low == high) or range, in the row's unit. ``effect``: the number is a
    factor whose "no effect" value is 1 (a growth, a saving), so its direction is its side of 1.
    An open bound (">20.5") has ``high = inf``; ("<80") ``low = 0``."""

    low: float
    high: float
    effect: bool = False

    def __post_init__(self) -> None:
        if not (0 <= self.low <= self.high) or math.isnan(self.high):
            raise LlmhwError(f"a paper's range needs 0 <= low <= high, got {self.low}..{self.high}",
                             field="paper", accepted="a number >= 0 or a (low, high) range")
        if self.effect and self.low <= 1 < self.high:
            raise LlmhwError(f"an effect's range must lie on one side of 1, got {self.low}..{self.high}",
                             field="paper", accepted="factors all above 1 or all below 1")

    @classmethod
    def of(cls, v: float | tuple[float, float], effect: bool = False) -> Number:
        lo, hi = v if isinstance(v, tuple) else (v, v)
        return cls(float(lo), float(hi), effect)


@dataclass(frozen=True)
class Condition:
    """A qualitative claim stated as a condition on llmhw's results (``text``), and optionally a
    weaker form of it (``partial``) whose holding alone makes the verdict "partly"."""

    text: str
    partial: str = ""


Paper = Number | Condition


def off_by(paper: Number, value: float) -> float:
    """Relative distance of ``value`` from the paper's number or range (0 inside the range)."""
    if value > paper.high:
        return value / paper.high - 1
    if value < paper.low:
        return value / paper.low - 1 if paper.low > 0 else -math.inf
    return 0.0


def judge(paper: Paper | None, value: float | None = None, holds: bool | None = None,
          partial: bool | None = None, from_paper: Sequence[str] = ()) -> tuple[str, str]:
    """The verdict on one claim, and why (one line). See the module's docstring for the rule.

    ``value``: llmhw's number (for a :class:`Number`); ``holds`` / ``partial``: whether the
    condition and its weaker form hold in llmhw's results (for a :class:`Condition`);
    ``from_paper``: the catalog quantities behind llmhw's figure whose only source is the paper."""
    if from_paper:
        were = "were" if len(from_paper) > 1 else "was"
        return "by construction", f"llmhw's {', '.join(from_paper)} {were} taken from the paper (its only source)"
    if isinstance(paper, Condition):
        if holds is None:
            return "not computable", "llmhw computed no result for the condition"
        if holds:
            return "agree", f"holds: {paper.text}"
        if paper.partial and partial:
            return "partly", f"only the weaker form holds: {paper.partial}"
        return "disagree", f"fails: {paper.text}"
    if paper is None or value is None or not math.isfinite(value):
        return "not computable", "llmhw has no figure for this"
    d = off_by(paper, value)
    ranged = paper.high > paper.low
    if d == 0.0:
        return "agree", "inside the paper's range" if ranged else "equal to the paper's number"
    if abs(d) <= TOLERANCE:
        return "agree", f"within 10% of the paper's {'range' if ranged else 'number'} ({d:+.1%})"
    if paper.effect:
        if 1 / (1 + TOLERANCE) <= value <= 1 + TOLERANCE:
            return "disagree", f"no effect ({value:.2f}X, within 10% of none) where the paper claims one"
        if (value > 1) == (paper.low > 1):
            return "partly", f"same direction, {d:+.0%} from the paper's {'range' if ranged else 'number'}"
        return "disagree", f"opposite direction ({value:.2f}X)"
    if paper.low / ORDER <= value <= paper.high * ORDER:
        return "partly", f"same order of magnitude, {d:+.0%} from the paper's {'range' if ranged else 'number'}"
    return "disagree", f"more than 10X from the paper's {'range' if ranged else 'number'}"


# -- where llmhw's inputs come from ---------------------------------------------------------------

def paper_url() -> str:
    """The paper's address as the catalog resolves its source key."""
    return sources()[PAPER_KEY]["url"]


def taken_from_paper(prov: Provenance | None) -> bool:
    """A catalog quantity was taken from the paper when the paper is its only source: a second
    source quoting the same number makes a comparison with the paper a check; the paper alone makes
    it an echo. (Read from the catalog's provenance, never typed per row.)"""
    return prov is not None and len(prov.sources) > 0 and set(prov.sources) == {paper_url()}


@dataclass(frozen=True)
class Input:
    """A catalog quantity that llmhw's figure restates (identity or unit conversion): if the paper
    is its only source, the row is "by construction"."""

    label: str
    prov: Provenance | None


def restates(spec: Sourced, field: str, label: str = "") -> Input:
    """The catalog quantity ``spec.field`` (e.g. the HBF preset's energy_j_per_bit), named
    ``catalog id.field`` unless ``label`` says otherwise (``chip id.memory.field`` for a chip's memory)."""
    name = label or f"{getattr(spec, 'id', type(spec).__name__)}.{field}"
    return Input(name, spec.source_of(field))


# -- a row of the table ---------------------------------------------------------------------------

def row(cid: str, claim: str, source: str, paper: Paper | None, paper_figure: str, llmhw_figure: str, *,
        value: float | None = None, holds: bool | None = None, partial: bool | None = None, unit: str = "",
        echoes: Sequence[Input] = (), note: str = "") -> Row:
    """One claim: the paper's figure (a :class:`Number` and its text, or a :class:`Condition`),
    llmhw's computed figure (text, and ``value`` or ``holds``/``partial``), the verdict of
    :func:`judge` and why. ``echoes``: the catalog quantities llmhw's figure restates."""
    v = None if value is None else float(f"{value:.4g}")    # the verdict judges the number the row shows
    from_paper = [i.label for i in echoes if taken_from_paper(i.prov)]
    verdict, why = judge(paper, v, holds, partial, from_paper)
    num = paper if isinstance(paper, Number) else None
    cond = paper if isinstance(paper, Condition) else None
    if cond is not None:      # a qualitative claim's figure is the condition it is judged on
        paper_figure = f"{paper_figure}; agree if {cond.text}" + (f"; partly if {cond.partial}" if cond.partial else "")
    return {"id": cid, "claim": claim, "paper_figure": paper_figure, "paper_source": source,
            "llmhw_figure": llmhw_figure, "verdict": verdict, "why": why, "note": note,
            "paper_low": None if num is None else num.low, "paper_high": None if num is None else num.high,
            "paper_effect": None if num is None else num.effect, "llmhw_value": v, "unit": unit,
            "condition": None if cond is None else cond.text, "condition_holds": holds,
            "partial_condition": None if cond is None else cond.partial or None, "partial_holds": partial,
            "restates": "; ".join(i.label for i in echoes), "from_paper": "; ".join(from_paper)}


def paper_of(r: Row) -> Paper | None:
    """The paper's figure a row was judged against, read back from the row."""
    if r["condition"] is not None:
        return Condition(r["condition"], r["partial_condition"] or "")
    if r["paper_low"] is not None:
        return Number(r["paper_low"], r["paper_high"], bool(r["paper_effect"]))
    return None


def not_computable(cid: str, claim: str, paper_figure: str, source: str, note: str,
                   llmhw_figure: str = "-") -> Row:
    """A claim llmhw has no figure for (history, markets); ``note`` says why."""
    return row(cid, claim, source, None, paper_figure, llmhw_figure, note=note)
