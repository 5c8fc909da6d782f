"""Units and number formats at llmhw's edges.

Inside the engine every quantity is in SI base units: bytes, seconds, FLOP, watts, joules,
dollars, grams CO2e. This module converts catalog and user units into them, and defines the
numeric formats (precisions) a tensor can be stored in.
"""

from __future__ import annotations

from llmhw.core.errors import LlmhwError

# Multipliers into SI base units. Decimal prefixes for rates and vendor capacities (GB/s is
# 1e9 B/s; a "80 GB" HBM part is quoted decimal), binary ones only where the unit says GiB.
_UNITS: dict[str, float] = {
    # bytes
    "B": 1.0, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
    "KiB": 2.0**10, "MiB": 2.0**20, "GiB": 2.0**30, "TiB": 2.0**40,
    "bit": 1 / 8, "Kb": 1e3 / 8, "Mb": 1e6 / 8, "Gb": 1e9 / 8,
    # bandwidth, bytes per second
    "B/s": 1.0, "KB/s": 1e3, "MB/s": 1e6, "GB/s": 1e9, "TB/s": 1e12, "PB/s": 1e15,
    "Gb/s": 1e9 / 8, "Tb/s": 1e12 / 8,
    # compute, FLOP (or integer op) per second
    "FLOP/s": 1.0, "GFLOP/s": 1e9, "TFLOP/s": 1e12, "PFLOP/s": 1e15,
    "TFLOPS": 1e12, "TOPS": 1e12, "GFLOPS": 1e9, "PFLOPS": 1e15,
    # time
    "s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9,
    # energy and power
    "J": 1.0, "mJ": 1e-3, "pJ": 1e-12, "pJ/bit": 1e-12, "J/bit": 1.0, "W": 1.0, "kW": 1e3,
    # money
    "USD": 1.0, "USD/GB": 1e-9, "USD/byte": 1.0,
    # dimensionless
    "": 1.0, "1": 1.0, "count": 1.0, "cycles": 1.0, "year": 1.0,
    # area
    "mm2": 1e-6, "m2": 1.0,
}


def to_si(value: float, unit: str | None, *, field: str = "value") -> float:
    """Convert ``value`` expressed in ``unit`` to SI base units."""
    unit = "" if unit is None else unit.strip()
    if unit not in _UNITS:
        raise LlmhwError(f"unknown unit '{unit}'", field=field, accepted=", ".join(sorted(_UNITS)))
    return float(value) * _UNITS[unit]


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
            raise ValueError(f"unknown datatype '{k}' in peak_flops (accepted: {', '.join(PEAK_FLOPS_DTYPES)})")
        if x is None or x <= 0:
            raise ValueError(f"peak_flops.{k} must be positive, got {x}")
    return v


# The one dtype-fallback table: a datatype's twin, the other format of the same width.
#   bf16 <-> fp16: 16-bit floats through the same multipliers (H100: 989 TFLOP/s each); Apple
#                  GPUs list only fp16 and run bf16 models in it.
#   fp8 <-> int8, fp4 <-> int4: 8-bit (4-bit) multipliers, whose energy per operation is set by
#                  the width (H100: 1979 TFLOP/s fp8 and 1979 TOPS int8 in the same 700 W).
# Energy stands in the twin for any datatype it has no J/FLOP for. Compute stands in the twin only
# when both are floats (or both integers): a float format cannot run on integer units without a
# requantization the engine does not model (B300's int8 is a 1/36 rate path, not its fp8 units).
# Past the twin, compute falls back to the wider units every chip has: fp32 (CUDA cores), else int8
# (NPUs that have no float units at all), else fp8.
DTYPE_TWIN: dict[str, str] = {"bf16": "fp16", "fp16": "bf16", "fp8": "int8", "int8": "fp8",
                              "fp4": "int4", "int4": "fp4"}
_WIDER_FALLBACKS: tuple[str, ...] = ("fp32", "int8", "fp8")


def _is_integer(dtype: str) -> bool:
    return dtype.startswith("int")


def compute_dtype(flops: dict[str, float], dtype: str) -> tuple[str, float]:
    """The datatype a unit with peak ``flops`` computes ``dtype`` in, and its peak: ``dtype``, else
    its twin of the same kind, else fp32, int8, fp8, else the unit's fastest datatype."""
    twin = DTYPE_TWIN.get(dtype, dtype)
    same_kind = (twin,) if _is_integer(twin) == _is_integer(dtype) else ()
    for d in (dtype, *same_kind, *_WIDER_FALLBACKS):
        if d in flops:
            return d, flops[d]
    d, v = max(flops.items(), key=lambda kv: kv[1])
    return d, v


# Calendar units for lifetimes and service lives (a Julian year, as carbon accounting uses).
SECONDS_PER_DAY = 86400.0
DAYS_PER_YEAR = 365.25
