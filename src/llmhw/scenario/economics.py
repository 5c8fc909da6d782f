"""The constants of energy, cost and carbon: typed, sourced, overridable.

Every constant lives in ``scenario/economics.yaml`` as a quantity with its provenance, as in
the hardware catalog::

    pue: {value: 1.2, status: estimated, source: [aiinframap_tco], note: "..."}

A field's name says its unit (``electricity_usd_per_kwh`` is in USD per kWh, ``service_life_years``
in years, ``energy_j_per_flop_fallback`` in J per FLOP); a quantity may be written in another unit
of the same kind (``{value: 8, unit: cents/kWh}``) and is converted to the field's unit on load.
Shares are plain numbers in [0, 1].

Overrides, most specific last:

- the catalog (:meth:`EconomicsParams.default`);
- a scenario's ``economics:`` block (``{electricity_usd_per_kwh: 0.05, region: france,
  utilization: 0.6}``), checked when the scenario is built; errors name ``economics.<field>``;
- Python: ``params.replace(utilization=0.6)`` or ``params.replace(**{"regions": {"mars": 10}})``
  (a mapping field merges into the catalog's mapping).

An overridden field gets status ``user`` in :attr:`EconomicsParams.provenance` unless the
override is a quantity with its own status.
"""

from __future__ import annotations

import math
from functools import cache
from importlib import resources
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from llmhw.core.errors import LlmhwError, shown, unknown_name
from llmhw.core.io import read_yaml
from llmhw.core.provenance import (
    Provenance,
    build,
    is_quantity,
    items_of,
    parse_quantity,
    refuse_booleans,
    refuse_out_of_range,
)
from llmhw.core.units import RANGES
from llmhw.hardware.catalog import resolve_sources

# Units a catalog or override may use, per kind: unit -> (the field unit it converts to, factor).
_CONVERT: dict[str, tuple[str, float]] = {
    "": ("", 1.0), "1": ("", 1.0), "%": ("", 0.01),
    "USD/kWh": ("USD/kWh", 1.0), "cents/kWh": ("USD/kWh", 0.01), "USD/MWh": ("USD/kWh", 1e-3),
    "gCO2e/kWh": ("gCO2e/kWh", 1.0), "gCO2/kWh": ("gCO2e/kWh", 1.0), "kgCO2e/MWh": ("gCO2e/kWh", 1.0),
    "lbCO2/kWh": ("gCO2e/kWh", 453.59237), "gCO2e/MJ": ("gCO2e/kWh", 3.6),
    "J/FLOP": ("J/FLOP", 1.0), "pJ/FLOP": ("J/FLOP", 1e-12), "fJ/FLOP": ("J/FLOP", 1e-15),
    "J/bit": ("J/bit", 1.0), "pJ/bit": ("J/bit", 1e-12),
    "year": ("year", 1.0), "years": ("year", 1.0), "month": ("year", 1.0 / 12.0),
    "USD/W": ("USD/W", 1.0), "USD/kW": ("USD/W", 1e-3), "USD/MW": ("USD/W", 1e-6),
    "USD/(FLOP/s)": ("USD/(FLOP/s)", 1.0), "USD/TFLOPS": ("USD/(FLOP/s)", 1e-12),
    "USD/TFLOP/s": ("USD/(FLOP/s)", 1e-12),
    "USD/GB": ("USD/GB", 1.0), "USD/TB": ("USD/GB", 1e-3),
    "kWh/cm2": ("kWh/cm2", 1.0),
    "gCO2e/cm2": ("gCO2e/cm2", 1.0), "kgCO2e/cm2": ("gCO2e/cm2", 1e3),
    "mm2": ("mm2", 1.0), "cm2": ("mm2", 100.0),
    "mm2/W": ("mm2/W", 1.0),
    "gCO2e": ("gCO2e", 1.0), "kgCO2e": ("gCO2e", 1e3), "tCO2e": ("gCO2e", 1e6),
    "gCO2e/GB": ("gCO2e/GB", 1.0), "kgCO2e/GB": ("gCO2e/GB", 1e3),
}


def _convert(value: float, unit: str | None, want: str, field: str) -> float:
    u = "" if unit is None else str(unit).strip()
    if u not in _CONVERT:
        raise LlmhwError(f"unknown unit '{u}'", field=f"{field}.unit",
                         accepted=", ".join(k for k, (kind, _) in _CONVERT.items() if kind == want) or want)
    kind, factor = _CONVERT[u]
    if u and kind != want:
        raise LlmhwError(f"unit '{u}' is not a {want or 'plain number'}", field=f"{field}.unit",
                         accepted=", ".join(k for k, (kd, _) in _CONVERT.items() if kd == want) or "no unit")
    return float(value) * factor


def _quantity(q: dict[str, Any], want: str, field: str) -> tuple[float | None, Provenance]:
    """The catalog's quantity format, converted into the field's own unit (``want``)."""
    return parse_quantity(q, field=field, convert=lambda v, u, f: _convert(v, u, want, f.rsplit(".unit", 1)[0]))


class _Quantified(BaseModel):
    """Frozen, strict about unknown keys; quantities become (value in the field's unit, provenance).
    A field's unit is its ``json_schema_extra['unit']`` ('' for plain numbers and shares)."""

    # NaN and infinities are refused wherever a float is read (pydantic would take them).
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    provenance: dict[str, Provenance] = Field(default_factory=dict, repr=False)

    @classmethod
    def unit_of(cls, name: str) -> str:
        extra = cls.model_fields[name].json_schema_extra
        return str(extra.get("unit", "")) if isinstance(extra, dict) else ""

    @classmethod
    def _numeric(cls, name: str | None) -> bool:
        return name is not None and "float" in str(cls.model_fields[name].annotation)

    @field_validator("*", mode="before")
    @classmethod
    def _no_booleans(cls, v: Any, info: ValidationInfo) -> Any:
        """``pue: true`` is a mistake, not 1 (pydantic would read it as 1)."""
        if cls._numeric(info.field_name):
            refuse_booleans(v)
        return v

    @field_validator("*", mode="after")
    @classmethod
    def _in_range(cls, v: Any, info: ValidationInfo) -> Any:
        """Finite, and inside the range of the field's unit (core.units.RANGES); plain numbers
        and shares are bounded by their own fields' constraints."""
        if v is None or not cls._numeric(info.field_name):
            return v
        unit = cls.unit_of(str(info.field_name))
        key = "duration year" if unit == "year" else unit
        if key in RANGES:
            refuse_out_of_range(v, key, unit)
            return v
        for item, x in items_of(v):
            if not (isinstance(x, int | float) and math.isfinite(x)):
                raise PydanticCustomError("range", "{problem}", {"item": item, "accepted": None,
                                                                "problem": f"must be a finite number, got {shown(x)}"})
        return v

    @model_validator(mode="before")
    @classmethod
    def _unwrap(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        out = dict(data)
        prov = dict(out.get("provenance") or {})
        for key, v in data.items():
            if key == "provenance" or key not in cls.model_fields:
                continue
            want = cls.unit_of(key)
            if is_quantity(v):
                out[key], prov[key] = _quantity(v, want, key)
            elif isinstance(v, dict) and v and any(is_quantity(x) for x in v.values()):
                inner = {}
                for sub, q in v.items():
                    if is_quantity(q):
                        inner[sub], prov[f"{key}.{sub}"] = _quantity(q, want, f"{key}.{sub}")
                    else:
                        inner[sub] = q
                out[key] = inner
        out["provenance"] = prov
        return out

    def source_of(self, field: str) -> Provenance | None:
        return self.provenance.get(field)


def _u(unit: str) -> dict[str, str]:
    return {"unit": unit}


class ProcessNode(_Quantified):
    """One logic process in the ACT model: fab energy and process gases per wafer area."""

    energy_kwh_per_cm2: float = Field(gt=0, json_schema_extra=_u("kWh/cm2"))
    gas_gco2e_per_cm2: float = Field(ge=0, json_schema_extra=_u("gCO2e/cm2"))
    note: str = ""


class ChipSilicon(_Quantified):
    """A catalog chip's compute silicon: die area (all compute dies) and process node."""

    die_area_mm2: float = Field(gt=0, json_schema_extra=_u("mm2"))
    process_node: str
    note: str = ""


_SHARE = {"ge": 0.0, "le": 1.0}


class EconomicsParams(_Quantified):
    """Constants of energy, cost and carbon (docs/economics.md lists each with its source)."""

    # -- energy -------------------------------------------------------------------------
    compute_power_share_of_tdp: float = Field(
        gt=0, le=1, description="share of TDP the matrix units draw at the chip's peak FLOP/s in a datatype: "
        "J/FLOP(dtype) = share x TDP / peak(dtype)")
    energy_j_per_flop: dict[str, float] = Field(
        default_factory=dict, json_schema_extra=_u("J/FLOP"),
        description="explicit J per FLOP by datatype; replaces the TDP-derived value for those datatypes")
    energy_j_per_flop_fallback: dict[str, float] = Field(
        json_schema_extra=_u("J/FLOP"), description="J per FLOP by datatype for chips without a TDP")
    near_memory_energy_j_per_flop: float = Field(gt=0, json_schema_extra=_u("J/FLOP"))
    static_power_share_of_tdp: float = Field(
        description="share of TDP a chip draws while serving whatever the work (leakage, clocks, memory "
        "refresh, kernels waiting)", **_SHARE)
    idle_power_share_of_tdp: float = Field(
        description="share of TDP a chip draws with the model loaded and nothing to serve", **_SHARE)
    memory_energy_j_per_bit_fallback: dict[str, float] = Field(
        json_schema_extra=_u("J/bit"), description="access energy per bit read by tier-id prefix, then memory "
        "class, for tiers without energy_j_per_bit")
    memory_static_share: dict[str, float] = Field(
        description="static power of a tier without static_power_w, as a share of the device's whole power at "
        "full read bandwidth, by memory class: static = s / (1 - s) x access power")
    link_energy_j_per_bit_fallback: dict[str, float] = Field(
        json_schema_extra=_u("J/bit"), description="wire energy for links without energy_j_per_bit: "
        "scale_up, scale_out")
    host_power_share_of_tdp: float = Field(
        ge=0, le=100, description="host, NICs, switches and fans per chip at their maximum, as a share of chip TDP")
    host_average_share: float = Field(description="host power drawn on average, as a share of its maximum",
                                      **_SHARE)
    # -- cost ---------------------------------------------------------------------------
    electricity_usd_per_kwh: float = Field(ge=0, json_schema_extra=_u("USD/kWh"))
    # Upper bounds on plain factors: the worst datacenters measure a PUE near 3, and a host or network a
    # hundred times its chip's power or price is a typo; either would price tokens absurdly.
    pue: float = Field(ge=1, le=10, description="facility power / IT power")
    utilization: float = Field(gt=0, le=1, description="share of the service life spent serving at this "
                               "operating point; the rest idles")
    service_life_years: float = Field(gt=0, json_schema_extra=_u("year"))
    interest_rate: float = Field(ge=0, le=1, description="yearly cost of capital")
    facility_usd_per_w: float = Field(ge=0, json_schema_extra=_u("USD/W"),
                                      description="datacenter capex per W of provisioned IT power")
    facility_life_years: float = Field(gt=0, json_schema_extra=_u("year"))
    operations_share: float = Field(ge=0, lt=1, description="staff, maintenance, software: share of the "
                                    "total cost")
    host_capex_share: float = Field(ge=0, le=100, description="host servers (CPUs, DRAM, chassis, NICs, scale-up "
                                    "switches) per chip, as a share of the chip's capex, when the system has "
                                    "no price")
    network_capex_share: float = Field(ge=0, le=100, description="scale-out network (switches, optics, cables) per "
                                       "chip, as a share of chip and host capex")
    logic_price_usd_per_flops: float = Field(
        gt=0, json_schema_extra=_u("USD/(FLOP/s)"),
        description="price of a chip without price_usd: its peak bf16 (or best) FLOP/s x this, plus memory")
    memory_usd_per_gb_fallback: dict[str, float] = Field(
        json_schema_extra=_u("USD/GB"), description="by tier-id prefix, then memory class")
    # -- carbon -------------------------------------------------------------------------
    region: str = Field(description="grid preset (a key of regions)")
    grid_gco2e_per_kwh: float | None = Field(None, ge=0, json_schema_extra=_u("gCO2e/kWh"),
                                             description="explicit grid intensity; default: the region's")
    regions: dict[str, float] = Field(json_schema_extra=_u("gCO2e/kWh"))
    fab_grid_gco2e_per_kwh: float = Field(ge=0, json_schema_extra=_u("gCO2e/kWh"))
    process_nodes: dict[str, ProcessNode]
    logic_materials_gco2e_per_cm2: float = Field(ge=0, json_schema_extra=_u("gCO2e/cm2"))
    logic_yield: float = Field(gt=0, le=1)
    default_process_node: str
    logic_area_mm2_per_tdp_w: float = Field(gt=0, json_schema_extra=_u("mm2/W"),
                                            description="die area of a chip with no known area, per W of TDP")
    chips: dict[str, ChipSilicon] = Field(default_factory=dict)
    logic_area_mm2: float | None = Field(None, gt=0, json_schema_extra=_u("mm2"),
                                         description="die area of the scenario's chip (overrides the rest)")
    process_node: str | None = Field(None, description="process node of the scenario's chip")
    memory_gco2e_per_gb: dict[str, float] = Field(json_schema_extra=_u("gCO2e/GB"),
                                                  description="by tier-id prefix, then memory class")
    board_gco2e_per_chip: float = Field(ge=0, json_schema_extra=_u("gCO2e"),
                                        description="package substrate, module board, power delivery, heatsink")
    host_gco2e_per_chip: float = Field(ge=0, json_schema_extra=_u("gCO2e"),
                                       description="host servers, storage, NICs, switches: share per chip")

    @field_validator("energy_j_per_flop", "energy_j_per_flop_fallback", "memory_energy_j_per_bit_fallback",
                     "link_energy_j_per_bit_fallback", "memory_usd_per_gb_fallback", "regions",
                     "memory_gco2e_per_gb", "memory_static_share")
    @classmethod
    def _non_negative(cls, v: dict[str, float]) -> dict[str, float]:
        for k, x in v.items():
            if isinstance(x, bool) or not isinstance(x, int | float) or x < 0:
                raise ValueError(f"{k} must be a non-negative number, got {shown(x)}")
        return {k: float(x) for k, x in v.items()}

    @model_validator(mode="after")
    def _check(self) -> EconomicsParams:
        if self.region not in self.regions:
            raise ValueError(f"unknown region '{self.region}' (accepted: {', '.join(sorted(self.regions))})")
        for node in (self.default_process_node, self.process_node, *(c.process_node for c in self.chips.values())):
            if node is not None and node not in self.process_nodes:
                raise ValueError(f"unknown process node '{node}' (accepted: {', '.join(self.process_nodes)})")
        for k, x in self.memory_static_share.items():
            if x >= 1.0:      # static = s / (1 - s) x access power
                raise ValueError(f"memory_static_share.{k} must be below 1, got {shown(x)}")
        for key in ("scale_up", "scale_out"):
            if key not in self.link_energy_j_per_bit_fallback:
                raise ValueError(f"link_energy_j_per_bit_fallback needs '{key}'")
        return self

    # -- derived ------------------------------------------------------------------------

    @property
    def grid(self) -> float:
        """gCO2e per kWh used for operational carbon: the explicit value, else the region's."""
        return self.grid_gco2e_per_kwh if self.grid_gco2e_per_kwh is not None else self.regions[self.region]

    @property
    def grid_source(self) -> str:
        return "grid_gco2e_per_kwh" if self.grid_gco2e_per_kwh is not None else f"regions.{self.region}"

    # -- construction -------------------------------------------------------------------

    @classmethod
    def default(cls) -> EconomicsParams:
        """The shipped catalog."""
        return _default()

    @classmethod
    def fields(cls) -> tuple[str, ...]:
        return tuple(k for k in cls.model_fields if k != "provenance")

    def replace(self, overrides: dict[str, Any] | None = None, *, where: str = "economics",
                **changes: Any) -> EconomicsParams:
        """A copy with some fields changed, checked again. Mapping fields merge into the current
        mapping (``regions={"mars": 10}`` adds a region; ``None`` as a key's value removes it).
        Errors name ``<where>.<field>``."""
        changes = {**(overrides or {}), **changes}
        if not isinstance(changes, dict):
            raise LlmhwError("expected a mapping of field -> value", field=where)
        data = {k: getattr(self, k) for k in self.fields()}
        prov = dict(self.provenance)
        for k, v in changes.items():
            if k not in data:
                raise unknown_name("field", str(k), self.fields(), field=f"{where}.{k}")
            for p in [p for p in prov if p == k or p.startswith(f"{k}.")]:
                if not isinstance(v, dict) or is_quantity(v):
                    prov.pop(p)
            if isinstance(data[k], dict) and isinstance(v, dict) and not is_quantity(v):
                merged = {kk: (vv.model_dump(exclude={"provenance"}) if isinstance(vv, BaseModel) else vv)
                          for kk, vv in data[k].items()}
                for kk, vv in v.items():
                    if vv is None:
                        merged.pop(kk, None)
                    else:
                        merged[kk] = vv
                        prov[f"{k}.{kk}"] = Provenance(status="user", note="override")
                v = merged
            elif not is_quantity(v):
                prov[k] = Provenance(status="user", note="override")
            data[k] = v
        data["provenance"] = prov
        return build_params(data, where=where)


def build_params(data: Any, where: str = "economics") -> EconomicsParams:
    """Validate a mapping into EconomicsParams; one named LlmhwError on failure."""
    return build(EconomicsParams, data, where=where)


@cache
def _raw() -> dict[str, Any]:
    return read_yaml(resources.files("llmhw.scenario").joinpath("economics.yaml"))


def _resolve(node: Any, where: str) -> Any:
    """Source ids -> URLs, as the hardware catalog does (unknown ids are an error)."""
    return resolve_sources(node, where)


@cache
def _default() -> EconomicsParams:
    raw = _raw()
    data = dict(_resolve(raw["params"], "economics.yaml:params"))
    data["regions"] = _resolve(raw["regions"], "economics.yaml:regions")
    data["process_nodes"] = _resolve(raw["process_nodes"], "economics.yaml:process_nodes")
    data["chips"] = _resolve(raw.get("chips") or {}, "economics.yaml:chips")
    return build_params(data, where="economics.yaml")


def check_overrides(block: Any, where: str = "economics") -> dict[str, Any]:
    """Check a scenario's ``economics:`` block against the catalog; returns it unchanged (as a
    dict). Errors name ``economics.<field>``."""
    if block is None:
        return {}
    if not isinstance(block, dict):
        raise LlmhwError(f"expected a mapping of constant -> value, got {shown(block)}", field=where,
                         accepted=", ".join(EconomicsParams.fields()))
    EconomicsParams.default().replace(block, where=where)
    return dict(block)


def params_for(scenario: Any, params: EconomicsParams | None = None) -> EconomicsParams:
    """The constants a scenario is priced with: ``params`` when given, else the catalog with the
    scenario's ``economics:`` block applied."""
    if params is not None:
        return params
    block = getattr(scenario, "economics", None) or {}
    return EconomicsParams.default().replace(block) if block else EconomicsParams.default()
