"""What a study returns, so the report can render any of them the same way.

A study is a small module in ``llmhw.studies`` with one function, ``run() -> Study``. It computes
with the public API (``llmhw.predict``, ``llmhw.sweep``, ``llmhw.fit``, catalogs) and returns
tables (lists of row dicts with units in the column names), figures (matplotlib figures with a
caption stating their one message) and findings (sentences a reader should take away, with
numbers). Studies never write files: ``llmhw.report`` does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Table:
    name: str                       # file stem: letters, digits, '-' and '_'
    title: str
    rows: list[dict[str, Any]]      # column names carry units, e.g. "tpot_ms", "weights_gb"
    note: str = ""


@dataclass
class Figure:
    name: str                       # file stem
    caption: str                    # the figure's one message, stated
    figure: Any                     # a matplotlib.figure.Figure
    # What was computed, in one line: model, precision, system and mapping, lengths, batch
    # ("Llama 3.1 70B FP8, 8 x H100 TP8, 1K in / 1K out, batch 1-1,024"). The report prints it
    # after the caption and on top of the PNG and SVG, so a figure that travels alone says it.
    setup: str = ""


@dataclass
class Study:
    name: str                       # cli name, e.g. "hbf"
    title: str                      # e.g. "RQ2: High Bandwidth Flash"
    question: str                   # the paper's question, in a sentence
    tables: list[Table] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    # The answer in two or three sentences with its key figure, for the report's summary on
    # top (the findings hold the detail); empty: the summary quotes the first finding.
    summary: str = ""
