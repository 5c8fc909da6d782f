"""The explorer's plots as Vega-Lite specifications: plain mappings, the data inline.

Written by hand rather than through Altair: building and validating an Altair chart costs tens
of milliseconds a plot, more than the prediction it shows (docs/performance.md), and an
interaction is answered in a few hundred milliseconds at most.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any


def _values(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Rows as JSON data: numbers that are not finite (a metric left undefined) become null."""
    return [{k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in r.items()} for r in rows]


def _axis(field: str, kind: str = "quantitative", title: str | None = None, log: bool = False) -> dict[str, Any]:
    enc: dict[str, Any] = {"field": field, "type": kind, "title": field if title is None else title}
    if log:
        enc["scale"] = {"type": "log"}
    return enc


def line(rows: Sequence[Mapping[str, Any]], x: str, y: str, *, color: str | None = None, log_x: bool = False,
         log_y: bool = False, y_title: str | None = None, tooltip: Sequence[str] = (), height: int = 260) -> dict[str, Any]:
    """A line with its points: ``y`` against ``x``, one line per value of ``color``."""
    enc: dict[str, Any] = {"x": _axis(x, log=log_x), "y": _axis(y, title=y_title, log=log_y)}
    if color:
        enc["color"] = _axis(color, "nominal")
    tips = [x, y, *([color] if color else []), *tooltip]
    enc["tooltip"] = [{"field": t} for t in dict.fromkeys(tips)]
    return {"data": {"values": _values(rows)}, "mark": {"type": "line", "point": True}, "encoding": enc,
            "height": height}


def bars(rows: Sequence[Mapping[str, Any]], x: str, y: str, color: str, x_title: str | None = None) -> dict[str, Any]:
    """Stacked horizontal bars: ``x`` summed per ``y``, split by ``color``."""
    return {"data": {"values": _values(rows)}, "mark": "bar", "height": 120,
            "encoding": {"x": _axis(x, title=x_title), "y": _axis(y, "nominal", title=""),
                         "color": _axis(color, "nominal"), "tooltip": [{"field": f} for f in (y, color, x)]}}


def roofline(line_rows: Sequence[Mapping[str, Any]], points: Sequence[Mapping[str, Any]], dtype: str) -> dict[str, Any]:
    """The roof (log-log) and the steps on it."""
    x = _axis("flop_per_byte", title="FLOP per byte moved", log=True)
    y = _axis("tflops", title=f"TFLOP/s ({dtype})", log=True)
    return {"height": 320, "layer": [
        {"data": {"values": _values(line_rows)}, "mark": {"type": "line", "color": "#888888"},
         "encoding": {"x": x, "y": y}},
        {"data": {"values": _values(points)}, "mark": {"type": "point", "filled": True, "size": 140},
         "encoding": {"x": x, "y": y, "color": _axis("step", "nominal"),
                      "tooltip": [{"field": f} for f in ("step", "bound", "flop_per_byte", "tflops")]}},
    ]}
