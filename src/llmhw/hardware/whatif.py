"""What-if overrides: change any part of a system by a dotted path, add technologies by preset name.

A scenario's ``overrides:`` (and :func:`replace` on a system) maps a dotted path
into the system to a value (docs/whatif.md)::

    overrides:
      chip.memory: [hbm3e, hbf]              # memory tiers by preset name, fastest first
      chip.memory[0].bandwidth_bytes_per_s: {value: 8, unit: TB/s}
      chip.peak_flops.fp8: 5.0e+15
      chip.near_memory: pnm-hbm              # a near-memory compute preset
      interconnect.topology: full_mesh       # the scale-up network
      interconnect.hop_latency_s: 1.0e-7
      scale_out.link.bandwidth_bytes_per_s: 1.0e+11
      system.price_usd: 300000

Path grammar::

    path    := root ("." segment)*
    root    := "chip" | "interconnect" | "scale_up" | "scale_out" | "system"
    segment := field | field "[" index "]" | key        (key: an entry of a mapping field, e.g. bf16)

``interconnect`` (alias ``scale_up``) is the scale-up network and ``scale_out`` the scale-out
network, wherever they are held: the system's own when it has one, else its chip's. Values are
SI numbers, quantities ``{value, unit}`` (converted as in catalog files), names and lists; a field
that holds a hardware spec (a memory tier, a network, a link, a near-memory unit) takes a catalog
preset name, whose ``kind`` must match, or a mapping as in catalog files (``tech:`` or
``preset:`` names the preset it starts from). Every change is validated again by the spec's own
model, so every physical check applies; an error names the field under ``overrides.``.

Overridden fields get provenance status ``user`` with the note ``override`` (a quantity may give
its own status, source and note); untouched fields keep their sources. Ids are kept; the name of
a changed chip and system gets the suffix `` (what-if)`` so reports show it.
"""

from __future__ import annotations

import re
import types
import typing
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from llmhw.core.errors import LlmhwError, shown, unknown_name
from llmhw.core.provenance import Provenance, Sourced, build, is_quantity, parse_quantity
from llmhw.core.units import number_string
from llmhw.hardware import catalog
from llmhw.hardware.chip import Chip
from llmhw.hardware.system import System, system_of

SUFFIX = " (what-if)"
ROOTS: tuple[str, ...] = ("chip", "interconnect", "scale_up", "scale_out", "system")
_FIXED = ("provenance", "kind", "id")          # fields an override may not change
_SEGMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_\-]*)(?:\[(\d+)\])?$")


def override_provenance() -> Provenance:
    return Provenance(status="user", note="override")


@dataclass(frozen=True)
class _Seg:
    name: str          # the model field (or mapping key) it addresses
    index: int | None  # [i] into a list field
    label: str | None  # what the user wrote, for error fields (None: an implicit step)

    def shown(self, field: str) -> str:
        if self.label is None:
            return field
        return f"{field}.{self.label}"


def parse_path(path: Any, where: str = "overrides") -> list[_Seg]:
    """``chip.memory[1].latency_s`` -> segments; a malformed path is an error naming it."""
    if not isinstance(path, str) or not path:
        raise LlmhwError(f"an override path is a dotted string, got {shown(path)}", field=where,
                         accepted="chip.<field>, interconnect.<field>, scale_out.<field>, system.<field>")
    segs = []
    for part in path.split("."):
        m = _SEGMENT.match(part)
        if not m:
            raise LlmhwError(f"malformed path segment {shown(part)}", field=f"{where}.{path}",
                             accepted="name, name[index], separated by dots")
        idx = None if m.group(2) is None else int(m.group(2))
        segs.append(_Seg(m.group(1), idx, part))
    if segs[0].name not in ROOTS or segs[0].index is not None:
        raise LlmhwError(f"unknown path {shown(path)}", field=f"{where}.{path}",
                         accepted=", ".join(f"{r}.<field>" for r in ROOTS))
    return segs


# -- types ------------------------------------------------------------------------------------


def _unwrap_optional(ann: Any) -> Any:
    if typing.get_origin(ann) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(ann) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return ann


def _spec_cls(ann: Any) -> type[Sourced] | None:
    return ann if isinstance(ann, type) and issubclass(ann, Sourced) else None


def _shape(ann: Any) -> tuple[str, Any]:
    """('one', cls) | ('seq', element type) | ('map', value type) | ('scalar', type)."""
    ann = _unwrap_optional(ann)
    origin = typing.get_origin(ann)
    if origin is tuple:
        args = typing.get_args(ann)
        return "seq", _unwrap_optional(args[0]) if args else Any
    if origin is dict:
        args = typing.get_args(ann)
        return "map", _unwrap_optional(args[1]) if len(args) == 2 else Any
    if _spec_cls(ann) is not None:
        return "one", ann
    return "scalar", ann


def _is_number_type(ann: Any) -> bool:
    return _unwrap_optional(ann) in (float, int)


def _field_ann(cls: type[BaseModel], name: str) -> Any:
    return cls.model_fields[name].annotation


def _fields(cls: type[BaseModel]) -> list[str]:
    return [k for k in cls.model_fields if k not in _FIXED]


# -- values -----------------------------------------------------------------------------------


def _scalar(ann: Any, value: Any, field: str) -> tuple[Any, Provenance | None]:
    """A plain field's new value and its provenance (None when the value is None)."""
    if value is None:
        return None, None
    if is_quantity(value):
        v, p = parse_quantity(value, field=field)
        if not p.note and "status" not in value:
            p = p.model_copy(update={"note": "override"})
        return v, p
    if _is_number_type(ann):
        value = number_string(value)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise LlmhwError(f"expected a number, got {shown(value)}", field=field,
                             accepted="a number in SI units, or a quantity {value, unit}")
    return value, override_provenance()


def _ids_of(kind: str) -> list[str]:
    return [k for k, v in catalog.hardware_ids().items() if v == kind]


def _kind_of(cls: type[Sourced]) -> str | None:
    f = cls.model_fields.get("kind")
    return None if f is None else f.default


def _a(word: str) -> str:
    return ("an " if word[:1] in "aeiou" else "a ") + word


def _preset(cls: type[Sourced], name: Any, field: str) -> Sourced:
    """A catalog entry by id whose ``kind`` is the one ``cls`` holds."""
    kind = _kind_of(cls) or cls.__name__.lower()
    if not isinstance(name, str):
        raise LlmhwError(f"expected {_a(kind)} preset name, got {shown(name)}", field=field,
                         accepted=", ".join(_ids_of(kind)) or None)
    try:
        entry = catalog.lookup(name)
    except LlmhwError:
        raise unknown_name(f"{kind} preset", name, _ids_of(kind), field=field) from None
    got = getattr(entry, "kind", None)
    if got != kind or not isinstance(entry, cls):
        raise LlmhwError(f"'{name}' is a {got}, not {_a(kind)}", field=field,
                         accepted=", ".join(_ids_of(kind)) or None)
    return entry


def _spec(cls: type[Sourced], value: Any, field: str) -> Sourced:
    """A hardware spec from a preset name, a mapping (optionally starting from a preset named by
    ``tech:`` or ``preset:``), or an instance."""
    if isinstance(value, cls):
        return value
    if isinstance(value, str):
        return _preset(cls, value, field)
    if not isinstance(value, dict):
        kind = _kind_of(cls) or cls.__name__.lower()
        raise LlmhwError(f"expected {_a(kind)} preset name or a mapping, got {shown(value)}", field=field,
                         accepted=", ".join(_ids_of(kind)) or None)
    d = dict(value)
    base_key = next((k for k in ("tech", "preset") if k in d and k not in cls.model_fields), None)
    data: dict[str, Any] = {}
    prov: dict[str, Provenance] = {}
    if base_key is not None:
        base = _preset(cls, d.pop(base_key), f"{field}.{base_key}")
        data = {k: getattr(base, k) for k in cls.model_fields if k != "provenance"}
        prov = dict(base.provenance)
    for k, v in d.items():
        if k == "provenance" or k not in cls.model_fields:
            raise LlmhwError("unknown field", field=f"{field}.{k}",
                             accepted=", ".join(k2 for k2 in cls.model_fields if k2 != "provenance"))
        if k == "kind":
            data[k] = v
            continue
        new, updates = _whole(_field_ann(cls, k), k, v, f"{field}.{k}", prov)
        data[k] = new
        prov = updates
    data["provenance"] = prov
    return build(cls, data, where=field)


def _whole(ann: Any, name: str, value: Any, field: str, prov: dict[str, Provenance]
           ) -> tuple[Any, dict[str, Provenance]]:
    """The new value of field ``name`` set as a whole, and the owner's updated provenance."""
    prov = {k: p for k, p in prov.items() if k != name and not k.startswith(f"{name}.")}
    if value is None:
        return None, prov
    shape, inner = _shape(ann)
    cls = _spec_cls(inner)
    if shape == "one" and cls is not None:
        new: Any = _spec(cls, value, field)
    elif shape == "seq":
        if isinstance(value, str | dict) and cls is not None:
            value = [value]          # one tier
        if not isinstance(value, list | tuple):
            kind = _kind_of(cls) if cls is not None else None
            raise LlmhwError(f"expected a list, got {shown(value)}", field=field,
                             accepted=f"a list of {kind} preset names or mappings" if kind else None)
        if cls is not None:
            new = tuple(_spec(cls, v, f"{field}[{i}]") for i, v in enumerate(value))
        else:
            new = tuple(_scalar(inner, v, f"{field}[{i}]")[0] for i, v in enumerate(value))
    elif shape == "map":
        if not isinstance(value, dict):
            raise LlmhwError(f"expected a mapping, got {shown(value)}", field=field)
        new = {}
        for k, v in value.items():
            if cls is not None:
                new[k] = _spec(cls, v, f"{field}.{k}")
            else:
                new[k], p = _scalar(inner, v, f"{field}.{k}")
                if p is not None:
                    prov[f"{name}.{k}"] = p
        if cls is None:
            return new, prov
    else:
        new, p = _scalar(inner, value, field)
        if p is not None:
            prov[name] = p
        return new, prov
    prov[name] = override_provenance()
    return new, prov


# -- the walk ---------------------------------------------------------------------------------


def _set(obj: Sourced, segs: list[_Seg], value: Any, field: str) -> Sourced:
    """A copy of ``obj`` with the path ``segs`` set to ``value``, validated again."""
    cls = type(obj)
    seg, rest = segs[0], segs[1:]
    here = seg.shown(field)
    if seg.name not in cls.model_fields or seg.name in _FIXED:
        at = here if seg.index is None else here[: here.rindex("[")]
        raise LlmhwError("unknown path", field=at, accepted=", ".join(_fields(cls)))
    ann = _field_ann(cls, seg.name)
    cur = getattr(obj, seg.name)
    prov = dict(obj.provenance)
    shape, inner = _shape(ann)
    if seg.index is not None:
        bare = here[: here.rindex("[")]
        if shape != "seq" or not isinstance(cur, tuple):
            raise LlmhwError("not a list: drop the [index]", field=bare)
        n, i = len(cur), seg.index
        if rest:
            if i >= n:
                raise LlmhwError(f"no entry [{i}]; it has {n}", field=here, accepted=f"0..{n - 1}")
            item = _set(cur[i], rest, value, here)
        else:
            if i > n:
                raise LlmhwError(f"no entry [{i}]; it has {n} (index {n} appends one)", field=here,
                                 accepted=f"0..{n}")
            cls_i = _spec_cls(inner)
            prov[seg.name] = override_provenance()
            if value is None:                         # null removes the entry
                if i == n:
                    raise LlmhwError(f"no entry [{i}] to remove; it has {n}", field=here, accepted=f"0..{n - 1}")
                item = None
            else:
                item = _spec(cls_i, value, here) if cls_i is not None else _scalar(inner, value, here)[0]
        new: Any = cur[:i] + (() if item is None else (item,)) + cur[i + 1:]
    elif rest:
        if cur is None:
            raise LlmhwError(f"{obj.id} has no {seg.name}; set it as a whole first "
                             f"(e.g. `{here.split('.', 1)[-1]}: <preset>`)", field=here)
        if isinstance(cur, Sourced):
            new = _set(cur, rest, value, here)
        elif isinstance(cur, dict):
            key, after = rest[0], rest[1:]
            sub = key.shown(here)
            if key.index is not None:
                raise LlmhwError("not a list: drop the [index]", field=sub[: sub.rindex("[")])
            cls_v = _spec_cls(inner)
            if after:
                if key.name not in cur or not isinstance(cur[key.name], Sourced):
                    raise LlmhwError(f"no entry '{key.name}'", field=sub, accepted=", ".join(map(str, cur)) or None)
                new = {**cur, key.name: _set(cur[key.name], after, value, sub)}
            elif cls_v is not None:
                new = {**cur, key.name: _spec(cls_v, value, sub)}
                prov[seg.name] = override_provenance()
            else:
                v, p = _scalar(inner, value, sub)
                new = dict(cur)
                prov.pop(f"{seg.name}.{key.name}", None)
                if v is None:
                    new.pop(key.name, None)
                else:
                    new[key.name] = v
                    prov[f"{seg.name}.{key.name}"] = p  # type: ignore[assignment]
        else:
            raise LlmhwError(f"{seg.name} is a single value; there is nothing inside it to set",
                             field=rest[0].shown(here))
    else:
        new, prov = _whole(ann, seg.name, value, here, prov)
    data = {k: getattr(obj, k) for k in cls.model_fields}
    data[seg.name] = new
    data["provenance"] = prov
    try:
        return build(cls, data, where=field)
    except LlmhwError as exc:
        if seg.index is None and len(rest) == 1 and isinstance(cur, dict) and exc.field == here:
            # A check on a whole mapping (peak_flops) caused by the one entry set.
            raise LlmhwError(exc.detail, field=rest[0].shown(here), accepted=exc.accepted) from None
        raise


def _network_path(system: System, segs: list[_Seg]) -> list[_Seg]:
    """``interconnect.x`` / ``scale_out.x`` -> the path to where that network is held."""
    name = "scale_up" if segs[0].name in ("interconnect", "scale_up") else "scale_out"
    root = _Seg(name, None, segs[0].label)
    if getattr(system, name) is not None:
        return [root, *segs[1:]]
    return [_Seg("chip", None, None), root, *segs[1:]]


def _depth(path: Any) -> int:
    return str(path).count(".") + str(path).count("[")


def apply_overrides(system: System, overrides: dict[str, Any], where: str = "overrides") -> System:
    """A new system with every ``path: value`` of ``overrides`` applied (docs/whatif.md).

    A path is applied before the paths inside it (``chip.memory`` before ``chip.memory[1].x``),
    otherwise in the given order. Errors name the field as ``<where>.<path>``.
    """
    if isinstance(system, Chip):   # a chip alone: see apply_to_hardware
        return apply_to_hardware(system, overrides, 1, where)  # type: ignore[return-value]
    if not overrides:
        return system
    if not isinstance(overrides, dict):
        raise LlmhwError(f"expected a mapping of dotted paths to values, got {shown(overrides)}", field=where)
    out = system
    for path, value in sorted(overrides.items(), key=lambda kv: _depth(kv[0])):
        segs = parse_path(path, where)
        root = segs[0].name
        field = where
        if root == "system":
            if len(segs) == 1:
                raise LlmhwError("give a field: system.<field>", field=f"{where}.{path}",
                                 accepted=", ".join(_fields(System)))
            segs, field = segs[1:], f"{where}.system"
        elif root != "chip":
            segs = _network_path(out, segs)
        out = _set(out, segs, value, field)
    return _mark(system, out, chip_named="chip.name" in overrides, system_named="system.name" in overrides)


def _mark(before: System, after: System, *, chip_named: bool, system_named: bool) -> System:
    """Suffix the names of what changed (unless an override set the name itself)."""
    chip = after.chip
    if chip != before.chip and not chip_named and not chip.label.endswith(SUFFIX):
        chip = chip.model_copy(update={"name": chip.label + SUFFIX})
    update: dict[str, Any] = {"chip": chip}
    if after != before and not system_named and not after.label.endswith(SUFFIX):
        update["name"] = after.label + SUFFIX
    return after.model_copy(update=update)


def apply_to_hardware(hardware: Chip | System, overrides: dict[str, Any] | None, n_chips: int,
                      where: str = "overrides") -> Chip | System:
    """Overrides on a scenario's hardware. A chip stays a chip (its own scale-up and scale-out
    networks take ``interconnect.*`` and ``scale_out.*``) unless a ``system.*`` path needs a
    system, in which case it becomes ``n_chips`` of it."""
    if not overrides:
        return hardware
    if isinstance(hardware, System):
        return apply_overrides(hardware, overrides, where)
    if not isinstance(overrides, dict):
        raise LlmhwError(f"expected a mapping of dotted paths to values, got {shown(overrides)}", field=where)
    out = apply_overrides(system_of(hardware, n_chips), overrides, where)
    if any(str(p).split(".", 1)[0] == "system" for p in overrides):
        return out
    return out.chip


def is_list_path(path: str) -> bool:
    """Whether ``path`` holds a list as a whole (``chip.memory``, ``interconnect.dims``); False
    for unknown paths (applying them reports the error)."""
    try:
        segs = parse_path(path)
    except LlmhwError:
        return False
    if segs[0].name == "system":
        segs = segs[1:]
    elif segs[0].name != "chip":
        segs = [_Seg("scale_up" if segs[0].name in ("interconnect", "scale_up") else "scale_out", None, None),
                *segs[1:]]
    cls: Any = System
    shape = "scalar"
    it = iter(segs)
    for seg in it:
        if not (isinstance(cls, type) and issubclass(cls, BaseModel)) or seg.name not in cls.model_fields:
            return False
        shape, inner = _shape(_field_ann(cls, seg.name))
        if seg.index is not None:
            if shape != "seq":
                return False
            shape = "scalar"
        elif shape == "map":
            if next(it, None) is None:
                return False
            shape = "scalar"
        cls = inner
    return shape == "seq"


def replace(system: System, overrides: dict[str, Any] | None = None, **dotted: Any) -> System:
    """A what-if copy of ``system``: ``replace(system, **{"chip.memory": ["hbm3e", "hbf"]})``, or the
    same paths as one mapping ``replace(system, overrides={"interconnect.hop_latency_s": 1e-7})``;
    a keyword may spell the dots as ``__`` (``interconnect__hop_latency_s=1e-7``). Paths, values
    and errors as a scenario's ``overrides:`` (docs/whatif.md)."""
    changes = dict(overrides or {})
    changes.update({k.replace("__", "."): v for k, v in dotted.items()})
    return apply_overrides(system, changes)
