"""Request traces for the open-loop simulator (``workload.arrival: {process: trace, path: FILE}``).

A trace is a CSV file with a header row, one request a row, in one of three layouts (told
apart by the header):

- plain: ``arrival_s,input_tokens,output_tokens`` (seconds, any origin);
- Azure LLM inference traces (2023 and 2024, github.com/Azure/AzurePublicDataset):
  ``TIMESTAMP,ContextTokens,GeneratedTokens``, the timestamp as ISO date-time text;
- BurstGPT (github.com/HPMLL/BurstGPT): ``Timestamp,Model,Request tokens,Response tokens,
  Total tokens,Log Type``, the timestamp in seconds.

Rows with zero prompt or zero output tokens are dropped in the Azure and BurstGPT layouts:
BurstGPT records a failed request with 0 response tokens, and a request that generated nothing
(or had no prompt) has no serving work to simulate. Both of BurstGPT's log types
(``Conversation log``, ``API log``) are real requests and are kept. In the plain layout, which
a user writes, every row must have at least one token each side.

The arrivals come back sorted and shifted to start at 0.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from llmhw.core.errors import LlmhwError
from llmhw.core.io import TRACE_MAX_BYTES, read_text

Array = np.ndarray

# layout -> (time column, input column, output column, timestamps are date-time text, drop zeros)
LAYOUTS: dict[str, tuple[str, str, str, bool, bool]] = {
    "plain": ("arrival_s", "input_tokens", "output_tokens", False, False),
    "azure": ("TIMESTAMP", "ContextTokens", "GeneratedTokens", True, True),
    "burstgpt": ("Timestamp", "Request tokens", "Response tokens", False, True),
}
_ACCEPTED = "; ".join(f"{name}: {', '.join(cols[:3])}" for name, cols in LAYOUTS.items())


def _seconds(text: str) -> float:
    """An ISO date-time (Azure's ``2023-11-16 18:15:46.6805900``) as seconds since the epoch;
    a time without a zone is taken as UTC."""
    t = datetime.fromisoformat(text)
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return t.timestamp()


def _rows(text: str, where: str) -> Iterator[list[str]]:
    """The CSV rows of ``text``; the csv module's own refusals (a field over its 128 KiB limit)
    become an LlmhwError naming the file and the row."""
    reader = csv.reader(io.StringIO(text))
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise LlmhwError(f"row {reader.line_num}: unreadable CSV ({exc})", field=where) from None
        yield row


def read_trace(path: str | Path) -> tuple[Array, Array, Array]:
    """(arrival seconds from 0, input tokens, output tokens) of every request in the trace,
    sorted by arrival. Errors name the file, and the row and column at fault."""
    p = Path(path)
    where = str(path)
    text = read_text(p, field="workload.arrival.path", max_bytes=TRACE_MAX_BYTES)
    rows = _rows(text, where)
    header = next(rows, None)
    if not header or not any(h.strip() for h in header):
        raise LlmhwError("empty file: expected a header row and one request a row", field=where,
                         accepted=_ACCEPTED)
    names = [h.strip() for h in header]
    layout = next((k for k, cols in LAYOUTS.items() if all(c in names for c in cols[:3])), None)
    if layout is None:
        found = next(((k, [c for c in cols[:3] if c not in names]) for k, cols in LAYOUTS.items()
                      if cols[0] in names), None)
        msg = (f"{found[0]} layout without column(s) {', '.join(found[1])}" if found
               else f"no known layout in the header ({', '.join(names)})")
        raise LlmhwError(msg, field=where, accepted=_ACCEPTED)
    tcol, icol, ocol, datetimes, drop_zeros = LAYOUTS[layout]
    idx = [names.index(c) for c in (tcol, icol, ocol)]
    t: list[float] = []
    inp: list[float] = []
    out: list[float] = []
    for line, row in enumerate(rows, start=2):
        if not row or not any(c.strip() for c in row):
            continue                                            # blank lines
        vals = []
        for col, k in zip((tcol, icol, ocol), idx, strict=True):
            cell = row[k].strip() if k < len(row) else ""
            try:
                v = _seconds(cell) if datetimes and col == tcol else float(cell)
            except ValueError:
                kind = "an ISO date-time" if datetimes and col == tcol else "a number"
                raise LlmhwError(f"row {line}, column '{col}': expected {kind}, got {cell!r}",
                                 field=where) from None
            if not np.isfinite(v):
                raise LlmhwError(f"row {line}, column '{col}': expected a finite number, got {cell!r}",
                                 field=where)
            vals.append(v)
        for col, v in ((icol, vals[1]), (ocol, vals[2])):
            if v < 0 or v != int(v):
                raise LlmhwError(f"row {line}, column '{col}': tokens must be a whole number >= 0, got {v:g}",
                                 field=where)
        if vals[1] == 0 or vals[2] == 0:
            if drop_zeros:
                continue                                        # failed or empty requests
            col = icol if vals[1] == 0 else ocol
            raise LlmhwError(f"row {line}, column '{col}': a request needs at least 1 token", field=where)
        t.append(vals[0])
        inp.append(vals[1])
        out.append(vals[2])
    if not t:
        raise LlmhwError("no requests in the trace (only a header, or every row empty or failed)", field=where)
    ta = np.asarray(t)
    order = np.argsort(ta, kind="stable")
    return (ta[order] - ta[order[0]], np.asarray(inp, dtype=np.int64)[order],
            np.asarray(out, dtype=np.int64)[order])
