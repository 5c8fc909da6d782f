"""Where a hardware number comes from, and how catalog files spell numbers with units.

In a catalog or spec file a number may be written plainly (SI units) or as a quantity::

    bandwidth_bytes_per_s: {value: 3.35, unit: TB/s, status: specified, source: [klockwood_h100]}

The quantity is converted to SI base units at load time and its status, sources and note are
kept in the spec's ``provenance`` map under the field's name, so every figure llmhw prints can
say whether it was specified by a vendor, measured, derived or estimated, and where it is from.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from llmhw.core.errors import LlmhwError
from llmhw.core.units import to_si

Status = Literal["specified", "measured", "derived", "estimated", "announced", "user"]
STATUSES: tuple[str, ...] = ("specified", "measured", "derived", "estimated", "announced", "user")


class Provenance(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    status: Status
    sources: tuple[str, ...] = ()
    note: str = ""
    low: float | None = Field(None, description="lower end of a published range, SI units")
    high: float | None = Field(None, description="upper end of a published range, SI units")


_QUANTITY_KEYS = {"value", "unit", "status", "source", "note", "low", "high"}


def is_quantity(v: Any) -> bool:
    return isinstance(v, dict) and "value" in v and set(v) <= _QUANTITY_KEYS


def parse_quantity(q: dict[str, Any], *, field: str,
                   convert: Callable[[float, str | None, str], float] | None = None) -> tuple[float | None, Provenance]:
    """A ``{value, unit, status, source, note}`` mapping -> (SI value, provenance). ``convert``
    (value, unit, field) replaces the SI conversion where a caller has its own units."""
    unit = q.get("unit")
    conv = convert or (lambda v, u, f: to_si(v, u, field=f))
    raw = q["value"]
    if raw is not None and (isinstance(raw, bool) or not isinstance(raw, int | float)):
        raise LlmhwError(f"expected a number, got {raw!r}", field=field)
    status = q.get("status", "user")
    if status not in STATUSES:
        raise LlmhwError(f"unknown status '{status}'", field=f"{field}.status", accepted=", ".join(STATUSES))
    src = q.get("source", ())
    sources = (src,) if isinstance(src, str) else tuple(src or ())
    value = None if raw is None else conv(raw, unit, f"{field}.unit")
    low = None if q.get("low") is None else conv(q["low"], unit, f"{field}.unit")
    high = None if q.get("high") is None else conv(q["high"], unit, f"{field}.unit")
    return value, Provenance(status=status, sources=sources, note=str(q.get("note", "")), low=low, high=high)


def walk_numbers(node: Any, path: str = "") -> Iterator[tuple[str, str, Any]]:
    """Every number in a raw catalog tree: ``("quantity", path, mapping)`` for a sourced
    quantity, ``("number", path, value)`` for a bare number (which a catalog check may reject)."""
    if is_quantity(node):
        yield "quantity", path, node
    elif isinstance(node, dict):
        for k, v in node.items():
            yield from walk_numbers(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from walk_numbers(v, f"{path}[{i}]")
    elif isinstance(node, int | float) and not isinstance(node, bool):
        yield "number", path, node


class Sourced(BaseModel):
    """Base of every hardware spec: frozen, strict about unknown keys, carrying provenance."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    provenance: dict[str, Provenance] = Field(default_factory=dict, repr=False)

    @model_validator(mode="before")
    @classmethod
    def _unwrap_quantities(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        out = dict(data)
        prov = dict(out.get("provenance") or {})
        for key, v in data.items():
            if key == "provenance":
                continue
            if is_quantity(v):
                out[key], prov[key] = parse_quantity(v, field=key)
            elif isinstance(v, dict) and v and all(is_quantity(x) for x in v.values()):
                # A map of quantities, e.g. peak_flops per datatype.
                inner = {}
                for sub, q in v.items():
                    inner[sub], prov[f"{key}.{sub}"] = parse_quantity(q, field=f"{key}.{sub}")
                out[key] = inner
        out["provenance"] = prov
        return out

    def source_of(self, field: str) -> Provenance | None:
        return self.provenance.get(field)


def build(cls: type[BaseModel], data: Any, *, where: str) -> Any:
    """Validate ``data`` into ``cls``, turning pydantic's errors into one named LlmhwError."""
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"] if p not in ("function-after",))
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            allowed = ", ".join(k for k in cls.model_fields if k != "provenance")
            raise LlmhwError("unknown field", field=f"{where}.{loc}", accepted=allowed) from None
        if err["type"] == "missing":
            msg = "missing required field"
        raise LlmhwError(msg, field=f"{where}.{loc}" if loc else where) from None
