"""The shipped hardware catalog (catalog/*.yaml) and user spec files.

Files: ``sources.yaml`` (source id -> URL and title), ``memory.yaml`` (memory technology
presets), ``near_memory.yaml`` (PIM / PNM compute presets), ``stacking.yaml`` (3D memory-on-logic
stacks), ``interconnects.yaml`` (links and networks), ``chips.yaml``, ``systems.yaml``.
Entries refer to each other by id: a chip's memory tier names a memory preset (``tech:``) and
overrides its capacity and bandwidth; a chip's ``near_memory`` and ``stacked`` name presets the
same way; a chip names its networks; a system names its chip.
Every number in these files carries a status and a source id; tests check that.
"""

from __future__ import annotations

import os
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from llmhw.core.errors import LlmhwError, shown, unknown_name
from llmhw.core.io import read_yaml
from llmhw.core.provenance import Sourced, build, is_quantity
from llmhw.hardware.chip import Chip
from llmhw.hardware.interconnect import Interconnect, Link
from llmhw.hardware.memory import MemoryTech
from llmhw.hardware.near_memory import NearMemoryCompute
from llmhw.hardware.stacking import StackedMemory
from llmhw.hardware.system import System

Hardware = Chip | System

_FILES = ("sources", "families", "memory", "near_memory", "stacking", "interconnects", "chips", "systems")


@cache
def _raw() -> dict[str, Any]:
    base = resources.files("llmhw.hardware").joinpath("catalog")
    return {name: read_yaml(base.joinpath(f"{name}.yaml")) for name in _FILES}


@cache
def sources() -> dict[str, dict[str, str]]:
    return dict(_raw()["sources"]["sources"])


def resolve_sources(node: Any, where: str) -> Any:
    """Replace source ids inside quantities by their URLs (unknown ids are an error)."""
    if is_quantity(node):
        out = dict(node)
        src = node.get("source", ())
        ids = [src] if isinstance(src, str) else list(src or ())
        urls = []
        for s in ids:
            if s.startswith(("http://", "https://")):
                urls.append(s)
            elif s in sources():
                urls.append(sources()[s]["url"])
            else:
                raise LlmhwError(f"unknown source id '{s}'", field=f"{where}.source")
        out["source"] = urls
        return out
    if isinstance(node, dict):
        return {k: resolve_sources(v, f"{where}.{k}") for k, v in node.items()}
    if isinstance(node, list):
        return [resolve_sources(v, f"{where}[{i}]") for i, v in enumerate(node)]
    return node


def _entries(file: str, key: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for i, e in enumerate(_raw()[file][key]):
        if e["id"] in out:
            raise LlmhwError(f"duplicate id '{e['id']}'", field=f"{file}.yaml:{key}[{i}]")
        out[e["id"]] = resolve_sources(e, f"{file}.yaml:{key}[{i}]({e['id']})")
    return out


def family_entries() -> dict[str, dict[str, Any]]:
    """Raw entries of ``families.yaml`` (hardware physics per chip family), sources resolved."""
    return _entries("families", "families")


@cache
def memory_presets() -> dict[str, MemoryTech]:
    return {k: build(MemoryTech, v, where=f"memory.{k}") for k, v in _entries("memory", "memory").items()}


@cache
def near_memory_presets() -> dict[str, NearMemoryCompute]:
    return {k: build(NearMemoryCompute, v, where=f"near_memory.{k}")
            for k, v in _entries("near_memory", "near_memory").items()}


@cache
def stacking_presets() -> dict[str, StackedMemory]:
    return {k: build(StackedMemory, v, where=f"stacking.{k}") for k, v in _entries("stacking", "stacking").items()}


@cache
def links() -> dict[str, Link]:
    return {k: build(Link, v, where=f"links.{k}") for k, v in _entries("interconnects", "links").items()}


@cache
def interconnects() -> dict[str, Interconnect]:
    return {
        k: _build_interconnect(v, where=f"interconnects.{k}")
        for k, v in _entries("interconnects", "interconnects").items()
    }


@cache
def chips() -> dict[str, Chip]:
    return {k: _build_chip(v, where=f"chips.{k}") for k, v in _entries("chips", "chips").items()}


@cache
def systems() -> dict[str, System]:
    return {k: _build_system(v, where=f"systems.{k}") for k, v in _entries("systems", "systems").items()}


# -- reference resolution, shared by the catalog and user spec files -------------------------


def _from_preset(cls: type[Sourced], d: Any, presets: dict[str, Any], what: str, where: str) -> Any:
    """A spec from a preset id, or a mapping that may start from a preset (``tech:``) and override
    some of its fields; an override's quantities bring their own provenance."""
    if isinstance(d, cls):
        return d
    if isinstance(d, str):
        d = {"tech": d}
    if not isinstance(d, dict):
        raise LlmhwError(f"a {what} is a preset name or a mapping", field=where)
    d = dict(d)
    tech = d.pop("tech", None)
    if tech is None:
        return build(cls, d, where=where)
    if tech not in presets:
        raise unknown_name(what, tech, presets, field=f"{where}.tech")
    preset = presets[tech]
    merged = preset.model_dump(exclude={"provenance"})
    prov = dict(preset.provenance)
    merged.update(d)
    # Quantities in the override bring their own provenance; drop the preset's for those keys.
    for k in d:
        prov.pop(k, None)
        for sub in [p for p in prov if p.startswith(f"{k}.")]:
            prov.pop(sub)
    merged["provenance"] = prov
    return build(cls, merged, where=where)


def _build_memory_tier(d: Any, where: str) -> MemoryTech:
    if not isinstance(d, str | dict | MemoryTech):
        raise LlmhwError("a memory tier is a preset name or a mapping", field=where)
    return _from_preset(MemoryTech, d, memory_presets(), "memory technology", where)


def near_memory_from_dict(d: Any, where: str = "near_memory") -> NearMemoryCompute:
    """Near-memory compute from a preset id or a mapping (``tech:`` starts from a preset)."""
    return _from_preset(NearMemoryCompute, d, near_memory_presets(), "near-memory compute", where)


def stacked_from_dict(d: Any, where: str = "stacked") -> StackedMemory:
    """A 3D memory stack from a preset id or a mapping (``tech:`` starts from a preset)."""
    return _from_preset(StackedMemory, d, stacking_presets(), "memory stack", where)


def _build_interconnect(d: Any, where: str) -> Interconnect:
    if isinstance(d, str):
        if d not in interconnects():
            raise unknown_name("interconnect", d, interconnects(), field=where)
        return interconnects()[d]
    if not isinstance(d, dict):
        raise LlmhwError("an interconnect is a catalog id or a mapping", field=where)
    d = dict(d)
    if isinstance(d.get("link"), str):
        name = d["link"]
        if name not in links():
            raise unknown_name("link", name, links(), field=f"{where}.link")
        d["link"] = links()[name]
    return build(Interconnect, d, where=where)


def _build_chip(d: Any, where: str) -> Chip:
    if isinstance(d, str):
        return get_chip(d, field=where)
    d = dict(d)
    mem = d.get("memory")
    if isinstance(mem, list):
        d["memory"] = [_build_memory_tier(m, f"{where}.memory[{i}]") for i, m in enumerate(mem)]
    for net in ("scale_up", "scale_out"):
        if d.get(net) is not None:
            d[net] = _build_interconnect(d[net], f"{where}.{net}")
    if d.get("near_memory") is not None:
        d["near_memory"] = near_memory_from_dict(d["near_memory"], f"{where}.near_memory")
    if d.get("stacked") is not None:
        d["stacked"] = stacked_from_dict(d["stacked"], f"{where}.stacked")
    return build(Chip, d, where=where)


def _build_system(d: Any, where: str) -> System:
    d = dict(d)
    if "chip" not in d:
        raise LlmhwError("missing required field", field=f"{where}.chip")
    d["chip"] = _build_chip(d["chip"], f"{where}.chip")
    for net in ("scale_up", "scale_out"):
        if d.get(net) is not None:
            d[net] = _build_interconnect(d[net], f"{where}.{net}")
    if isinstance(d.get("host_memory"), list):
        d["host_memory"] = [_build_memory_tier(m, f"{where}.host_memory[{i}]") for i, m in enumerate(d["host_memory"])]
    return build(System, d, where=where)


# -- public lookups ---------------------------------------------------------------------------


def get_chip(name: str, field: str = "hardware") -> Chip:
    if name not in chips():
        raise unknown_name("chip", name, chips(), field=field)
    return chips()[name]


def _tables() -> tuple[tuple[str, dict[str, Any]], ...]:
    return (("chip", chips()), ("system", systems()), ("memory", memory_presets()),
            ("near_memory", near_memory_presets()), ("stacking", stacking_presets()),
            ("interconnect", interconnects()), ("link", links()))


def hardware_ids() -> dict[str, str]:
    """Every catalog id -> its kind (chip, system, memory, near_memory, stacking, interconnect,
    link). Ids are unique across kinds (a test checks), so one id names one entry."""
    return {k: kind for kind, table in _tables() for k in table}


def load_hardware(name: str | Path, field: str = "hardware") -> Hardware:
    """A chip or system by catalog id, or from a YAML spec file (``kind: chip`` or ``system``)."""
    text = str(name)
    if text in chips():
        return chips()[text]
    if text in systems():
        return systems()[text]
    p = Path(text)
    if p.suffix in (".yaml", ".yml") or "/" in text:
        if not os.path.exists(p):                          # False, not an error, for a name too long
            raise LlmhwError(f"no such file {shown(text)} and no catalog chip or system of that name",
                             field=field)
        return hardware_from_dict(read_yaml(p, field=field, mapping=True), where=p.name)
    known = list(chips()) + list(systems())
    raise unknown_name("chip or system", text, known, field=field)


def hardware_from_dict(d: Any, where: str = "hardware") -> Hardware:
    """A chip or system from a mapping (a user's spec file, or inline in a scenario)."""
    if not isinstance(d, dict):
        raise LlmhwError("a hardware spec must be a mapping", field=where)
    kind = d.get("kind", "chip")
    if kind == "chip":
        return _build_chip(d, where)
    if kind == "system":
        return _build_system(d, where)
    raise LlmhwError(f"unknown kind '{kind}'", field=f"{where}.kind", accepted="chip, system")


def raw_entry(name: str) -> dict[str, Any]:
    """A catalog chip's or system's mapping as its file holds it, source ids resolved to URLs (the
    start of a user's spec: ``llmhw hardware new --like``)."""
    for file, kind in (("chips", "chip"), ("systems", "system")):
        entries = _entries(file, file)
        if name in entries:
            return {"kind": kind, **{k: v for k, v in entries[name].items() if k != "kind"}}
    raise unknown_name("chip or system", name, list(chips()) + list(systems()), field="--like")


def lookup(name: str) -> Chip | System | MemoryTech | NearMemoryCompute | StackedMemory | Interconnect | Link:
    """Any catalog entry by id."""
    for _, table in _tables():
        if name in table:
            return table[name]
    raise unknown_name("hardware", name, hardware_ids(), field="hardware")
