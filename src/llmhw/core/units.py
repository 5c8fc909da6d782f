"""Units and number formats at llmhw's edges.

Inside the engine every quantity is in SI base units: bytes, seconds, FLOP, watts, joules,
dollars, grams CO2e. This module converts catalog and user units into them, and defines the
numeric formats (precisions) a tensor can be stored in.
"""

from __future__ import annotations

import math
import numbers
import re
from typing import Any, NamedTuple

from llmhw.core.errors import LlmhwError, shown

# Multipliers into SI base units. Decimal prefixes for rates and vendor capacities (GB/s is
# 1e9 B/s; a "80 GB" HBM part is quoted decimal), binary ones only where the unit says GiB.
_UNITS: dict[str, float] = {
    # bytes
    "B": 1.0, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
    "KiB": 2.0**10, "MiB": 2.0**20, "GiB": 2.0**30, "TiB": 2.0**40,
    "bit": 1 / 8, "Kb": 1e3 / 8, "Mb": 1e6 / 8, "Gb": 1e9 / 8,
    "PB": 1e15, "PiB": 2.0**50, "Tb": 1e12 / 8,
    # bandwidth, bytes per second (AWS and others quote GiB/s; links are quoted in Gb/s)
    "B/s": 1.0, "KB/s": 1e3, "MB/s": 1e6, "GB/s": 1e9, "TB/s": 1e12, "PB/s": 1e15,
    "KiB/s": 2.0**10, "MiB/s": 2.0**20, "GiB/s": 2.0**30, "TiB/s": 2.0**40,
    "b/s": 1 / 8, "Kb/s": 1e3 / 8, "Mb/s": 1e6 / 8, "Gb/s": 1e9 / 8, "Tb/s": 1e12 / 8,
    # compute, FLOP (or integer op) per second
    "FLOP/s": 1.0, "GFLOP/s": 1e9, "TFLOP/s": 1e12, "PFLOP/s": 1e15, "EFLOP/s": 1e18,
    "TFLOPS": 1e12, "TOPS": 1e12, "GFLOPS": 1e9, "PFLOPS": 1e15, "GOPS": 1e9, "POPS": 1e15,
    # time
    "s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9,
    # energy and power
    "J": 1.0, "mJ": 1e-3, "uJ": 1e-6, "nJ": 1e-9, "pJ": 1e-12, "fJ": 1e-15,
    "pJ/bit": 1e-12, "fJ/bit": 1e-15, "J/bit": 1.0, "mW": 1e-3, "W": 1.0, "kW": 1e3, "MW": 1e6,
    # money
    "USD": 1.0, "USD/GB": 1e-9, "USD/byte": 1.0,
    # dimensionless
    "": 1.0, "1": 1.0, "count": 1.0, "cycles": 1.0, "year": 1.0,
    # area
    "mm2": 1e-6, "m2": 1.0,
}



# What each unit measures, named as RANGES names a field's unit: a quantity's unit must measure
# what its field holds (a bandwidth given in GB is a unit slip, not 13e9 bytes a second).
# Dimensionless units ("", "1", "count", "cycles", "year") fit any field.
_DIMENSION: dict[str, str] = {
    **dict.fromkeys(("B", "KB", "MB", "GB", "TB", "PB", "KiB", "MiB", "GiB", "TiB", "PiB", "bit", "Kb", "Mb",
                     "Gb", "Tb"), "B"),
    **dict.fromkeys(("B/s", "KB/s", "MB/s", "GB/s", "TB/s", "PB/s", "KiB/s", "MiB/s", "GiB/s", "TiB/s", "b/s",
                     "Kb/s", "Mb/s", "Gb/s", "Tb/s"), "B/s"),
    **dict.fromkeys(("FLOP/s", "GFLOP/s", "TFLOP/s", "PFLOP/s", "EFLOP/s", "TFLOPS", "TOPS", "GFLOPS", "PFLOPS",
                     "GOPS", "POPS"), "FLOP/s"),
    **dict.fromkeys(("s", "ms", "us", "ns"), "s"),
    **dict.fromkeys(("J", "mJ", "uJ", "nJ", "pJ", "fJ"), "J"), **dict.fromkeys(("pJ/bit", "fJ/bit", "J/bit"), "J/bit"),
    **dict.fromkeys(("mW", "W", "kW", "MW"), "W"), "USD": "USD", "USD/GB": "USD/byte", "USD/byte": "USD/byte",
    "mm2": "m2", "m2": "m2",
}

# Vendors' spellings of the units above: "GiB/s", "Gbps", "Gbit/s", "TFLOPs", "teraFLOPS", "TB/sec",
# "µs". canonical_unit() maps each onto its _UNITS key. Case matters only where it carries
# meaning: B is a byte and b a bit; m is milli and M mega (except in FLOP and op rates, where
# vendors write "Tflops" and "TOPs" for the same thing).
_PREFIX_WORDS = {"kilo": "K", "mega": "M", "giga": "G", "tera": "T", "peta": "P", "exa": "E"}
_RATE_TAIL = re.compile(r"(?:/s|/sec|/second|ps)$")
_FLOP_RATE = re.compile(r"^(kilo|mega|giga|tera|peta|exa|[kmgtpe])?(flops?|ops)(/s|/sec|/second|ps)?$", re.I)
_DATA = re.compile(r"^(kilo|mega|giga|tera|peta|[kKMGTP])?(i)?(B|Byte|Bytes|byte|bytes|b|bit|bits|Bit|Bits)$")
_TIME = {"sec": "s", "secs": "s", "second": "s", "seconds": "s", "msec": "ms", "usec": "us", "µs": "us", "μs": "us",
         "nsec": "ns", "millisecond": "ms", "milliseconds": "ms", "microsecond": "us", "microseconds": "us",
         "nanosecond": "ns", "nanoseconds": "ns"}


def canonical_unit(unit: str) -> str | None:
    """The _UNITS key a unit as written means, or None when it means none of them."""
    u = re.sub(r"\s+", "", unit.strip()).replace("µ", "u").replace("μ", "u")
    if u in _UNITS:
        return u
    if u in _TIME or u.lower() in _TIME:
        return _TIME.get(u) or _TIME[u.lower()]
    m = _FLOP_RATE.match(u)
    if m and (m.group(2).lower().endswith("s") or m.group(3)):     # "TFLOP" alone is an amount
        prefix = _PREFIX_WORDS.get((m.group(1) or "").lower(), (m.group(1) or "").upper())
        key = f"{prefix}FLOP/s" if prefix else "FLOP/s"
        if m.group(2).lower() == "ops":
            key = f"{prefix}OPS" if f"{prefix}OPS" in _UNITS else key
        return key if key in _UNITS else None
    rate = _RATE_TAIL.search(u)
    body = u[: rate.start()] if rate else u
    m = _DATA.match(body)
    if not m:
        return None
    prefix = _PREFIX_WORDS.get((m.group(1) or "").lower(), (m.group(1) or "").upper())
    bits = m.group(3) in ("b", "bit", "bits", "Bit", "Bits")
    if bits and m.group(2):
        return None                                      # no binary-prefixed bits (Gibit) in use
    key = f"{prefix}{'i' if m.group(2) else ''}{'b' if bits else 'B'}"
    if key == "b":
        key = "bit"
    if rate:
        key = "b/s" if key == "bit" else f"{key}/s"
    return key if key in _UNITS else None


def check_dimension(unit: str | None, field_unit: str | None, field: str) -> None:
    """Refuse a unit that measures something other than the field's unit (a RANGES unit, from
    the field's name); a bare number or a dimensionless unit passes."""
    if not isinstance(unit, str) or field_unit is None:
        return
    dim = _DIMENSION.get(canonical_unit(unit) or unit.strip())
    if dim is None or dim == field_unit:
        return
    units = ", ".join(u for u, d in _DIMENSION.items() if d == field_unit) or "a plain number"
    raise LlmhwError(f"{unit} measures {dim}, but this field holds {field_unit}", field=field, accepted=units)


def to_si(value: float, unit: str | None, *, field: str = "value") -> float:
    """Convert ``value`` expressed in ``unit`` to SI base units."""
    if unit is not None and not isinstance(unit, str):
        # YAML reads `unit: 5` or `unit: [TB/s]` as a number or a list, not a unit name.
        raise LlmhwError(f"a unit is a name such as TB/s, got {shown(unit)}", field=field,
                         accepted=", ".join(u for u in sorted(_UNITS) if u))
    key = "" if unit is None or not unit.strip() else canonical_unit(unit)
    if key is None:
        raise LlmhwError(f"unknown unit {shown(unit)}", field=field,
                         accepted=", ".join(u for u in sorted(_UNITS) if u) + " (and spellings such as Gbps, "
                                  "Gbit/s, TB/sec, TFLOPs, teraFLOPS)")
    return float(value) * _UNITS[key]


_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


def number_string(v: Any) -> Any:
    """'5e-8' -> 5e-08, '8' -> 8 (YAML 1.1 reads exponents without a dot as strings); anything
    else as it is."""
    if isinstance(v, str) and len(v) < 100 and _NUMBER.match(v.strip()):
        t = v.strip()
        return int(t) if t.lstrip("+-").isdigit() else float(t)
    return v


# -- physically generous ranges for the numbers users give ---------------------------------
#
# Every number a scenario, a hardware spec or an economics block gives must be finite and, when
# not zero, inside its unit's range below: wide enough for any real or imagined hardware, narrow
# enough to catch a unit slip (GB/s written in TB), a typo (1e-300, 1e30) or a value that
# would overflow the arithmetic. Zero passes only where a field's own constraint allows it
# (a static power may be 0 W; a bandwidth may not). The one table of these bounds.


class Range(NamedTuple):
    lo: float       # the smallest magnitude of a nonzero value
    hi: float       # the largest
    why: str        # what the bounds are set against

    def text(self, unit: str) -> str:
        u = f" {unit}" if unit and unit not in _UNITLESS else ""
        return f"{self.lo:g} to {self.hi:g}{u}: {self.why}"


_UNITLESS = ("", "chips", "links", "dies", "tokens", "requests", "simulated requests", "seed", "grid points",
             "varied values", "sweep points", "cycles", "x", "calendar year")

RANGES: dict[str, Range] = {
    # -- hardware (SI) --
    "B": Range(1.0, 1e18, "one byte to an exabyte, 1000x the largest flash tier a chip or system holds"),
    "B/s": Range(1.0, 1e20, "a slow serial line to 5000x a wafer-scale chip's SRAM (21 PB/s); "
                 "1e-300 B/s is not a bandwidth"),
    "FLOP/s": Range(1.0, 1e21, "to 10,000x a wafer-scale chip (125 PFLOP/s)"),
    "s": Range(1e-15, 1e3, "latencies: a femtosecond (light crosses 0.3 um) to 1000 s, slower than any "
               "access, hop or kernel launch"),
    "W": Range(1e-6, 1e7, "a microwatt (one idle memory device) to 10 MW, 400x a wafer-scale system"),
    "J/bit": Range(1e-21, 1e-6, "the Landauer limit (3e-21 J per bit at room temperature) to 1 uJ, "
                   "7000x a NAND read"),
    "USD": Range(1e-2, 1e11, "a cent to 100 billion dollars, more than any datacenter"),
    "USD/byte": Range(1e-15, 1e-3, "a dollar per petabyte to a million dollars per GB"),
    "m2": Range(1e-12, 1.0, "a square micron to 14 wafers of silicon"),
    "m": Range(1e-10, 1e-2, "bond pitches: an atom to a centimetre"),
    "W/m2": Range(1.0, 1e9, "power densities: to 1000x what a die can shed (100 W/cm2)"),
    "cycles": Range(1.0, 1e18, "program/erase cycles: 1 to far beyond any memory's endurance"),
    "x": Range(1e-3, 1e4, "ratios and multipliers: PIM reaches 8-16x the bandwidth inside the memory; "
               "bursty arrivals have gap CVs of 1-10"),
    "dies": Range(1.0, 1e3, "memory dies in one stack (HBM has 8-16)"),
    "chips": Range(1.0, 1e6, "a million chips: 3.5x the largest network in the catalog (279,040) and "
                   "the size of the largest clusters announced"),
    "links": Range(1.0, 1e6, "links one chip drives: a full mesh of a million chips needs that many"),
    "calendar year": Range(1940.0, 2200.0, "the first electronic computers to a far what-if"),
    # -- workloads --
    "tokens": Range(1.0, 1e8, "100x the longest context any model publishes (10M tokens)"),
    "requests": Range(1.0, 1e9, "requests in flight: a million chips' engines at 1024 each"),
    "simulated requests": Range(1.0, 2e6, "requests an open-loop run simulates: p99s settle within 1e5, "
                                "and 2e6 already take about a minute and a gigabyte"),
    "requests/s": Range(1e-9, 1e9, "arrival rates: one request in 30 years to a billion a second"),
    "varied values": Range(1.0, 1e4, "values one --vary tries: each is a prediction, and search multiplies "
                           "them by every mapping and batch"),
    "grid points": Range(1.0, 1e7, "points one sweep prices: about 60 metrics of 8 bytes each take 5 GB at "
                         "that size"),
    "sweep points": Range(1.0, 1e12, "points one stored sweep (`llmhw sweep`) prices: a trillion take about "
                          "a week on a thousand workers and tens of terabytes unfiltered"),
    "seed": Range(1.0, 2.0**32 - 1, "a 32-bit random seed, which every numpy generator takes"),
    # -- economics (each field's own unit, scenario/economics.py) --
    "USD/kWh": Range(1e-6, 1e3, "a thousandth of a cent to 5000x the dearest retail tariff"),
    "gCO2e/kWh": Range(1e-3, 1e4, "to 10x lignite (about 1,100 g per kWh)"),
    "J/FLOP": Range(1e-21, 1e-6, "the Landauer limit to 1 uJ, a million times a GPU's pJ per FLOP"),
    "duration year": Range(1e-3, 1e3, "service lives: about nine hours to a thousand years"),
    "USD/W": Range(1e-6, 1e5, "capex per watt: datacenters cost about 10"),
    "USD/(FLOP/s)": Range(1e-20, 1e-6, "chip prices per FLOP/s: an H100 is 3e-11"),
    "USD/GB": Range(1e-6, 1e6, "memory prices: flash 0.1, HBM about 10"),
    "kWh/cm2": Range(1e-6, 1e3, "fab energy per wafer area: about 3"),
    "gCO2e/cm2": Range(1e-6, 1e7, "fab emissions per wafer area: about 500"),
    "mm2": Range(1e-6, 1e6, "die areas: to 14 wafers"),
    "mm2/W": Range(1e-6, 1e4, "die area per watt of TDP: about 1"),
    "gCO2e": Range(1e-6, 1e10, "embodied carbon per chip's share: to 10,000 t"),
    "gCO2e/GB": Range(1e-6, 1e7, "embodied carbon of memory: about 65 g per GB"),
}


def range_problem(x: Any, unit: str) -> str | None:
    """What is wrong with ``x`` as a number in ``unit`` (a key of :data:`RANGES`), or None. Zero
    passes: a field that forbids it says so itself."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        return f"expected a number, got {shown(x)}"
    v = float(x)
    if not math.isfinite(v):
        return f"must be a finite number, got {v}"
    if v < 0:
        return f"must not be negative, got {v:g}"
    r = RANGES[unit]
    if v != 0.0 and not r.lo <= v <= r.hi:
        return f"{v:g} is out of range"
    return None


def check_number(x: Any, unit: str, field: str) -> float:
    """``x`` as a float when it is a number in ``unit``'s range (:data:`RANGES`), else a named
    error."""
    problem = range_problem(x, unit)
    if problem:
        raise LlmhwError(problem, field=field, accepted=RANGES[unit].text(unit))
    return float(x)


def whole_number(x: Any, unit: str, field: str, *, least: int = 1) -> int:
    """``x`` as an int: a whole number from ``least`` to ``unit``'s upper bound (:data:`RANGES`).
    numpy integers, floats with no fraction (a script's ``p.max_batch``, 2.0) and numeric strings
    (YAML 1.1 reads ``1e3`` as one) pass; booleans, fractions, NaN and infinities do not."""
    hi = RANGES[unit].hi
    accepted = f"a whole number from {least} to {hi:,.0f}"
    x = number_string(x)
    if isinstance(x, numbers.Real) and not isinstance(x, bool | numbers.Integral) and math.isfinite(x) \
            and float(x) == math.floor(x):
        x = int(x)
    if isinstance(x, bool) or not isinstance(x, numbers.Integral):
        raise LlmhwError(f"expected a whole number, got {shown(x)}", field=field, accepted=accepted)
    if not least <= int(x) <= hi:
        raise LlmhwError(f"{shown(int(x))} is out of range", field=field,
                         accepted=f"{accepted} ({RANGES[unit].why})")
    return int(x)


PRECISIONS: tuple[str, ...] = ("fp32", "bf16", "fp16", "fp8", "int8", "fp4", "int4")

# Storage bits per element, including the block scales real formats carry. fp8 and int8 use
# one scale per tensor or per channel, which is negligible. fp4 is NVFP4 (an FP8 E4M3 scale per
# 16 elements: 4 + 8/16 bits); MXFP4 (E8M0 per 32) would be 4.25. int4 is group-wise (group 128,
# fp16 scale and fp16 zero point: 4 + 32/128 bits), as AWQ/GPTQ checkpoints store it.
_STORAGE_BITS: dict[str, float] = {
    "fp32": 32.0, "bf16": 16.0, "fp16": 16.0, "fp8": 8.0, "int8": 8.0,
    "fp4": 4.0 + 8.0 / 16.0, "int4": 4.0 + 32.0 / 128.0,
}


def check_precision(name: str, field: str = "precision") -> str:
    if name not in _STORAGE_BITS:
        raise LlmhwError(f"unknown precision '{name}'", field=field, accepted=", ".join(PRECISIONS))
    return name


def bytes_per_element(precision: str) -> float:
    """Bytes one stored element takes, block scales included."""
    return _STORAGE_BITS[check_precision(precision)] / 8.0


def fmt_bytes(n: float) -> str:
    """Human-readable decimal bytes (GB = 1e9 B), as vendors quote memory."""
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:.2f} {unit}"
    return f"{n:.0f} B"


# Datatypes a chip's peak_flops may list: the storage precisions plus fp64, which no LLM tensor
# uses but the hardware trends (GPU 64-bit FLOP/s over a decade) compare.
PEAK_FLOPS_DTYPES: tuple[str, ...] = (*PRECISIONS, "fp64")


def check_peak_flops(v: dict[str, float]) -> dict[str, float]:
    """Peak FLOP/s per datatype: known datatypes, positive rates (chips and near-memory units)."""
    for k, x in v.items():
        if k not in PEAK_FLOPS_DTYPES:
            raise ValueError(f"unknown datatype {shown(k)} in peak_flops (accepted: {', '.join(PEAK_FLOPS_DTYPES)})")
        if isinstance(x, bool) or not isinstance(x, numbers.Real) or not x > 0:
            raise ValueError(f"peak_flops.{k} must be positive, got {shown(x)}")
    return v


# The one dtype-fallback table: a datatype's twin, the other format of the same width.
#   bf16 <-> fp16: 16-bit floats through the same multipliers (H100: 989 TFLOP/s each); Apple
#                  GPUs list only fp16 and run bf16 models in it.
#   fp8 <-> int8, fp4 <-> int4: 8-bit (4-bit) multipliers, whose energy per operation is set by
#                  the width (H100: 1979 TFLOP/s fp8 and 1979 TOPS int8 in the same 700 W).
# Energy stands in the twin for any datatype it has no J/FLOP for. Compute stands in the twin only
# when both are floats (or both integers): a float format cannot run on integer units without a
# requantization the engine does not model (B300's int8 is a 1/36 rate path, not its fp8 units).
# Past the twin, a narrow format the chip lacks is widened one step at a time, as engines upcast
# it (FP4 activations on a chip without FP4 run on its FP8, else its 16-bit tensor units, never
# on the 15x slower fp32 path first): the next wider format of the same kind, then the 16-bit
# floats, then fp32 (CUDA cores), else int8 (NPUs with no float units at all), else fp8.
DTYPE_TWIN: dict[str, str] = {"bf16": "fp16", "fp16": "bf16", "fp8": "int8", "int8": "fp8",
                              "fp4": "int4", "int4": "fp4"}
_NEXT_WIDER: dict[str, tuple[str, ...]] = {"fp4": ("fp8", "bf16", "fp16"), "int4": ("int8", "bf16", "fp16"),
                                           "fp8": ("bf16", "fp16"), "int8": ("bf16", "fp16")}
_WIDER_FALLBACKS: tuple[str, ...] = ("fp32", "int8", "fp8")


def _is_integer(dtype: str) -> bool:
    return dtype.startswith("int")


def compute_dtype(flops: dict[str, float], dtype: str) -> tuple[str, float]:
    """The datatype a unit with peak ``flops`` computes ``dtype`` in, and its peak: ``dtype``, else
    its twin of the same kind, else the next wider formats (fp4 -> fp8 -> bf16/fp16), else fp32,
    int8, fp8, else the unit's fastest datatype."""
    twin = DTYPE_TWIN.get(dtype, dtype)
    same_kind = (twin,) if _is_integer(twin) == _is_integer(dtype) else ()
    for d in (dtype, *same_kind, *_NEXT_WIDER.get(dtype, ()), *_WIDER_FALLBACKS):
        if d in flops:
            return d, flops[d]
    d, v = max(flops.items(), key=lambda kv: kv[1])
    return d, v


# Calendar units for lifetimes and service lives (a Julian year, as carbon accounting uses).
SECONDS_PER_DAY = 86400.0
DAYS_PER_YEAR = 365.25
