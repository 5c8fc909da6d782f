"""Where a hardware number comes from, and how catalog files spell numbers with units.

In a catalog or spec file a number may be written plainly (SI units) or as a quantity::

    bandwidth_bytes_per_s: {value: 3.35, unit: TB/s, status: specified, source: [klockwood_h100]}

The quantity is converted to SI base units at load time and its status, sources and note are
kept in the spec's ``provenance`` map under the field's name, so every figure llmhw prints can
say whether it was specified by a vendor, measured, derived or estimated, and where it is from.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from llmhw.core.errors import LlmhwError, shown
from llmhw.core.units import RANGES, check_dimension, number_string, range_problem, to_si

Status = Literal["specified", "measured", "derived", "estimated", "announced", "user"]
STATUSES: tuple[str, ...] = ("specified", "measured", "derived", "estimated", "announced", "user")


class Provenance(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

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
    raw, low, high = (_number(q.get(k), f"{field}.{k}" if k != "value" else field) for k in ("value", "low", "high"))
    status = q.get("status", "user")
    if not isinstance(status, str) or status not in STATUSES:
        raise LlmhwError(f"unknown status {shown(status)}", field=f"{field}.status", accepted=", ".join(STATUSES))
    src = q.get("source", ())
    sources = (src,) if isinstance(src, str) else tuple(src) if isinstance(src, list | tuple) else None
    if sources is None or not all(isinstance(x, str) for x in sources):
        raise LlmhwError(f"expected a source id or a list of them, got {shown(src)}", field=f"{field}.source")
    if convert is None:
        check_dimension(unit, _unit_of_path(field), f"{field}.unit")
    value = None if raw is None else conv(raw, unit, f"{field}.unit")
    low = None if low is None else conv(low, unit, f"{field}.unit")
    high = None if high is None else conv(high, unit, f"{field}.unit")
    return value, Provenance(status=status, sources=sources, note=str(q.get("note", "")), low=low, high=high)


def _unit_of_path(field: str) -> str | None:
    """The RANGES unit of the field a dotted path ends in (``chip.memory[0].bandwidth_bytes_per_s``,
    ``peak_flops.bf16``: the map's own name)."""
    names = [re.sub(r"\[.*?\]", "", part) for part in field.split(".")]
    for name in reversed(names[-2:]):
        unit = field_unit(name)
        if unit is not None:
            return unit
    return None


def _number(v: Any, field: str) -> float | None:
    """A quantity's value (or range end) as given: None, or a finite number; a numeric string is
    read as the number (YAML 1.1 reads ``1e15`` without a dot as a string)."""
    v = number_string(v)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise LlmhwError(f"expected a number, got {shown(v)}", field=field)
    if not math.isfinite(v):
        raise LlmhwError(f"must be a finite number, got {v}", field=field)
    return v


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


# The unit (a key of core.units.RANGES) of a hardware spec's number, by the field's name: a
# field's name says its unit (house rule), so a new field is range-checked by its name alone;
# tests/test_hardware_catalog.py checks every numeric field resolves. Longest suffix first.
_FIELD_UNITS: tuple[tuple[str, str], ...] = (
    ("_bytes_per_s", "B/s"), ("_j_per_bit", "J/bit"), ("_w_per_m2", "W/m2"), ("_usd_per_byte", "USD/byte"),
    ("_bytes", "B"), ("_bytes_in_flight", "B"), ("_s", "s"), ("_w", "W"), ("_usd", "USD"), ("_m2", "m2"),
    ("_m", "m"), ("_cycles", "cycles"), ("_multiplier", "x"), ("_tokens", "tokens"),
)
_NAMED_UNITS: dict[str, str] = {
    "peak_flops": "FLOP/s", "year": "calendar year", "domain_size": "chips", "n_chips": "chips", "dims": "chips",
    "links_per_chip": "links", "layers": "dies",
}


def refuse_booleans(v: Any) -> None:
    """``true`` where a number belongs is a mistake, not 1 (pydantic would take it as 1): a
    validation error naming the item of ``v`` (a number, a list or a map of them)."""
    for item, x in items_of(v):
        if isinstance(x, bool):
            raise PydanticCustomError("number", "expected a number, got {got}", {"item": item, "got": shown(x)})


def refuse_out_of_range(v: Any, unit: str, shown_unit: str | None = None) -> None:
    """A validation error for the first number of ``v`` outside ``unit``'s range (RANGES),
    with the range as what is accepted (in ``shown_unit``, default ``unit``)."""
    for item, x in items_of(v):
        problem = range_problem(x, unit)
        if problem:
            raise PydanticCustomError("range", "{problem}", {"item": item, "problem": problem,
                                                            "accepted": RANGES[unit].text(shown_unit or unit)})


def field_unit(name: str) -> str | None:
    """The RANGES unit of a hardware spec field ``name`` (None: not a number, or a share bounded
    by its own constraint)."""
    if name in _NAMED_UNITS:
        return _NAMED_UNITS[name]
    return next((u for suffix, u in _FIELD_UNITS if name.endswith(suffix)), None)


def items_of(v: Any) -> list[tuple[str, Any]]:
    """A field's numbers with where each sits: ``(".bf16", x)`` in a mapping, ``("[0]", x)`` in a
    list, ``("", x)`` for a single value."""
    if isinstance(v, dict):
        return [(f".{k}", x) for k, x in v.items()]
    if isinstance(v, list | tuple):
        return [(f"[{i}]", x) for i, x in enumerate(v)]
    return [("", v)]


class Sourced(BaseModel):
    """Base of every hardware spec: frozen, strict about unknown keys, carrying provenance.
    Every number is finite and inside its unit's range (core.units.RANGES, by the field's name)."""

    # NaN and infinities are refused wherever a float is read (pydantic would take them).
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    provenance: dict[str, Provenance] = Field(default_factory=dict, repr=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_booleans(cls, v: Any, info: ValidationInfo) -> Any:
        """``true`` where a number belongs is a mistake, not 1 (pydantic would take it as 1)."""
        if info.field_name is not None and field_unit(info.field_name) is not None:
            refuse_booleans(v)
        return v

    @field_validator("*", mode="after")
    @classmethod
    def _in_range(cls, v: Any, info: ValidationInfo) -> Any:
        unit = None if info.field_name is None else field_unit(info.field_name)
        if unit is not None and v is not None:
            refuse_out_of_range(v, unit)
        return v

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
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            allowed = ", ".join(k for k in cls.model_fields if k != "provenance")
            raise LlmhwError("unknown field", field=f"{where}.{loc}", accepted=allowed) from None
        if err["type"] == "missing":
            msg = "missing required field"
        ctx = err.get("ctx") or {}
        inner = ctx.get("error")
        if isinstance(inner, LlmhwError):
            # Raised by our own checks inside validation (a quantity's unit): keep its field under ours.
            sub = ".".join(x for x in (loc, inner.field) if x)
            raise LlmhwError(inner.detail, field=f"{where}.{sub}" if sub else where, accepted=inner.accepted) from None
        # A range check on a mapping or list field names the entry at fault (peak_flops.bf16).
        loc += str(ctx.get("item", ""))
        raise LlmhwError(msg, field=f"{where}.{loc}" if loc else where, accepted=ctx.get("accepted")) from None
