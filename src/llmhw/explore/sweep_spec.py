"""Sweep specs (``llmhw sweep SPEC.yaml``, docs/scale.md): a base scenario, the axes to vary, how
to sample them, a filter and the metrics to keep; checked once, then turned into points chunk by
chunk without ever holding the whole sweep.

A spec::

    base: scenario.yaml                  # or the scenario mapping inline
    axes:
      chip.memory[1].bandwidth_bytes_per_s: {range: ["1 TB/s", "16 TB/s"], num: 5, scale: log}
      engine: [vllm, sglang]
      workload.batch: [1, 8, 64, 512]
      workload.input_tokens: {range: [1024, 131072], num: 8}
    sample: grid                         # or {random: N, seed: S} or {lhs: N, seed: S}
    filter: ["tpot_s<=0.05"]             # constraints as search's --slo; failing points are not stored
    metrics: [tpot_s, ttft_s, output_tok_s_per_chip, fits]   # default: predict's performance keys

An axis is any path ``whatif`` varies (override paths ``chip.*``, ``interconnect.*``, ...;
``engine``, ``n_chips``, ``hardware``, ``model``, ``compute_unit``; ``precision.*``, ``workload.*``)
or ``parallelism`` (a mapping ``{tp, pp, ep, dp}`` per value). Its values are a list, or a range
``{range: [lo, hi], num: K, scale: lin|log}`` (log by default, as ``--vary``'s ranges): K values
in a grid; under random or Latin-hypercube sampling a range without ``num`` is sampled
continuously. Whole-number axes (batch, lengths, n_chips, or a range whose ends are both
integers) take whole values.

Points are numbered 0..N-1. On a grid the static axes (everything but the batch and the two
lengths) vary slowest, so a chunk of consecutive points is a few scenarios, each built once, whose
batch and lengths go through the vectorized engine in one pass. Random and Latin-hypercube points
are a function of (seed, point number) alone, hashed, so any chunk is drawn on its own, anywhere,
and the same spec gives the same points whatever the chunking.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from llmhw.core.errors import LlmhwError, shown, unknown_name
from llmhw.core.io import read_yaml
from llmhw.core.provenance import is_quantity, parse_quantity
from llmhw.core.units import RANGES, number_string
from llmhw.explore.search import Constraint, parse_slo
from llmhw.explore.sweep import AXES, _axis, sweep, sweep_economics
from llmhw.explore.vary import BLOCK_PATHS, SCENARIO_PATHS, apply, parse_value
from llmhw.hardware.whatif import is_list_path
from llmhw.scenario import Scenario
from llmhw.serving.metrics import METRICS

# The axes the vectorized engine takes as arrays, and the argument of Engine.evaluate each is.
VECTOR_AXES: dict[str, str] = {f"workload.{k}": k for k in AXES}
WHOLE_AXES = frozenset({*VECTOR_AXES, "n_chips"})
# predict's performance keys: what a sweep keeps unless its spec names others.
DEFAULT_METRICS: tuple[str, ...] = ("batch", *METRICS, "prefill_tok_s", "fits", "max_batch", "max_batch_memory",
                                    "max_batch_engine")
PARALLELISM_KEYS = ("tp", "pp", "ep", "dp")
SPEC_KEYS = ("base", "axes", "sample", "filter", "metrics", "chunk_points")
# Columns the store adds besides the axes and the metrics.
RESERVED = ("point",)
# Points per chunk: a chunk of 2^18 points costs about 300 MB and 0.2-0.6 s on one core (the
# engine's speed falls beyond that, from memory traffic); chunks of scenarios built point by
# point are made smaller so that each still takes about a second.
MAX_CHUNK_POINTS = 1 << 18
MIN_CHUNK_POINTS = 256
# Seconds to build one scenario and its engine, and to price one point in a vectorized pass
# (docs/performance.md): they size the chunks.
BUILD_S, POINT_S, CHUNK_S = 7e-3, 2e-6, 1.0


@dataclass(frozen=True)
class Axis:
    """One varied path: its ``values`` (a list, or a range's grid), or, for a range sampled
    continuously, ``lo``..``hi`` on ``scale``."""

    path: str
    values: tuple[Any, ...] | None
    lo: float = math.nan
    hi: float = math.nan
    scale: str = "log"
    whole: bool = False
    labels: tuple[Any, ...] = ()         # per value: its column entry (SI number, or text)
    numeric: bool = True

    @property
    def vector(self) -> bool:
        return self.path in VECTOR_AXES

    @property
    def continuous(self) -> bool:
        return self.values is None

    @property
    def size(self) -> int:
        return 0 if self.values is None else len(self.values)

    def from_unit(self, u: np.ndarray) -> np.ndarray:
        """Coordinates for uniform numbers in [0, 1): an index into ``values``, or a value."""
        if self.values is not None:
            return np.minimum((u * self.size).astype(np.int64), self.size - 1)
        if self.scale == "log":
            v = np.exp(math.log(self.lo) + u * (math.log(self.hi) - math.log(self.lo)))
        else:
            v = self.lo + u * (self.hi - self.lo)
        v = np.clip(v, self.lo, self.hi)
        return np.rint(v) if self.whole else v

    def value(self, coord: Any) -> Any:
        """The value a coordinate applies to the scenario."""
        if self.values is not None:
            return self.values[int(coord)]
        return int(coord) if self.whole else float(coord)

    def numbers(self, coord: np.ndarray) -> np.ndarray:
        """A numeric axis's values (SI) at the coordinates."""
        if self.values is None:
            return np.asarray(coord, dtype=float)
        return np.asarray(self.labels, dtype=float)[coord]

    def columns(self, coord: np.ndarray) -> dict[str, np.ndarray]:
        """The store's columns for this axis at the coordinates: one named by the path
        (``parallelism``: one per degree, ``parallelism.tp``, ...)."""
        if self.path == "parallelism":
            assert self.values is not None
            return {f"parallelism.{k}": np.array([v[k] for v in self.values], dtype=np.int64)[coord]
                    for k in PARALLELISM_KEYS}
        if not self.numeric:
            return {self.path: np.array(self.labels, dtype=object)[coord]}
        v = self.numbers(coord)
        return {self.path: v.astype(np.int64) if self.whole else v}


@dataclass(frozen=True)
class Sample:
    kind: str                 # grid, random or lhs
    n: int = 0                # points drawn (random, lhs)
    seed: int = 0


@dataclass
class SweepSpec:
    """A checked spec and the plan of its points."""

    raw: dict[str, Any]                  # the spec as given, base resolved to its mapping (manifest)
    base: Scenario
    axes: tuple[Axis, ...]               # the static axes, then the vector axes
    sample: Sample
    filter: tuple[Constraint, ...]
    metrics: tuple[str, ...]
    economics: bool                      # a kept or filtered key is an economics key
    chunk_points: int
    points: int
    sha256: str
    notes: list[str] = field(default_factory=list)

    @property
    def static(self) -> tuple[Axis, ...]:
        return tuple(a for a in self.axes if not a.vector)

    @property
    def vector(self) -> tuple[Axis, ...]:
        return tuple(a for a in self.axes if a.vector)

    @property
    def chunks(self) -> int:
        return -(-self.points // self.chunk_points)

    def chunk_range(self, k: int) -> tuple[int, int]:
        start = k * self.chunk_points
        return start, min(start + self.chunk_points, self.points)

    @property
    def needed(self) -> tuple[str, ...]:
        """The metrics a chunk computes: those kept and those the filter reads."""
        return tuple(dict.fromkeys([*self.metrics, *(c.key for c in self.filter)]))

    def coordinates(self, start: int, stop: int) -> dict[str, np.ndarray]:
        """Each axis's coordinates for points ``start`` to ``stop - 1``: an index into its values,
        or (a continuously sampled range) the value."""
        idx = np.arange(start, stop, dtype=np.int64)
        out: dict[str, np.ndarray] = {}
        if self.sample.kind == "grid":
            for a in reversed(self.axes):
                idx, out[a.path] = np.divmod(idx, a.size)
            return {a.path: out[a.path] for a in self.axes}
        for k, a in enumerate(self.axes):
            if self.sample.kind == "random":
                u = uniform(self.sample.seed, 2 * k, idx)
            else:      # Latin hypercube: point i falls in stratum perm_k(i) of N on axis k
                strata = permutation(self.sample.seed, 2 * k, idx, self.points)
                # anywhere in its stratum on a range; at its middle on a list, so that each of
                # the listed values gets N / values points, give or take one
                jitter = 0.5 if not a.continuous else uniform(self.sample.seed, 2 * k + 1, idx)
                u = (strata + jitter) / self.points
            out[a.path] = a.from_unit(u)
        return out


# -- counter-based randomness: a point's numbers depend only on (seed, stream, point)

_M64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finalizer: a bijection of 64-bit words that spreads every input bit."""
    with np.errstate(over="ignore"):
        z = x + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def _key(seed: int, stream: int) -> np.uint64:
    return _mix(np.array([(seed & 0xFFFFFFFF) << 20 | (stream & 0xFFFFF)], dtype=np.uint64))[0]


def uniform(seed: int, stream: int, i: np.ndarray) -> np.ndarray:
    """Uniform numbers in [0, 1), one per point number in ``i``, for (seed, stream)."""
    with np.errstate(over="ignore"):
        z = _mix(_mix(i.astype(np.uint64) ^ _key(seed, stream)))
    return (z >> np.uint64(11)).astype(np.float64) * 2.0 ** -53


def permutation(seed: int, stream: int, i: np.ndarray, n: int) -> np.ndarray:
    """A pseudo-random permutation of 0..n-1 evaluated at ``i`` (each < n), without building it:
    a balanced Feistel network on the smallest power of 4 >= n, walked until it lands below n
    (the domain is under 4n, so a few steps at most on average)."""
    half = max(1, math.ceil(math.log2(max(n, 2)) / 2))
    mask = np.uint64((1 << half) - 1)
    keys = [_key(seed, (stream << 4) + r) for r in range(6)]

    def feistel(x: np.ndarray) -> np.ndarray:
        left, right = x >> np.uint64(half), x & mask
        for k in keys:
            left, right = right, left ^ (_mix(right ^ k) & mask)
        return (left << np.uint64(half)) | right

    x = feistel(i.astype(np.uint64))
    out = x.copy()
    todo = np.flatnonzero(x >= np.uint64(n))
    while todo.size:
        out[todo] = feistel(out[todo])
        todo = todo[out[todo] >= np.uint64(n)]
    return out.astype(np.int64)


# -- reading and checking a spec


def load_spec(source: str | Path | dict[str, Any], *, base_dir: Path | None = None,
              chunk_points: int | None = None) -> SweepSpec:
    """A spec from a YAML file or a mapping, checked: every error is one line naming the spec's
    field (``axes.PATH``, ``sample``, ``filter``, ``metrics``). ``chunk_points`` overrides the
    spec's (tests, benchmarks)."""
    if isinstance(source, dict):
        raw = source
    else:
        p = Path(source)
        raw = read_yaml(p, field="spec", mapping=True)
        base_dir = p.parent if base_dir is None else base_dir
    if not isinstance(raw, dict):
        raise LlmhwError(f"a sweep spec is a mapping with base and axes, got {shown(raw)}", field="spec")
    for k in raw:
        if k not in SPEC_KEYS:
            raise unknown_name("spec key", str(k), SPEC_KEYS, field=str(k))
    for k in ("base", "axes"):
        if raw.get(k) is None:
            raise LlmhwError("missing required field", field=k, accepted="; ".join(SPEC_KEYS))
    base_raw, base_dir = _base(raw["base"], base_dir)
    base = Scenario.from_dict(base_raw, base_dir=base_dir)
    sample = _sample(raw.get("sample", "grid"))
    notes: list[str] = []
    axes_raw = raw["axes"]
    if not isinstance(axes_raw, dict) or not axes_raw:
        raise LlmhwError(f"expected a mapping of paths to values, got {shown(axes_raw)}", field="axes",
                         accepted="e.g. {workload.batch: [1, 8, 64], engine: [vllm, sglang]}")
    if sample.kind == "grid":        # a grid's size first: no value is checked for a sweep too big to run
        _points([Axis(str(p), (None,) * _listed_size(v)) for p, v in axes_raw.items()], sample)
    axes = [_axis_of(str(path), v, base, sample, notes) for path, v in axes_raw.items()]
    axes = [a for a in axes if not a.vector] + [a for a in axes if a.vector]
    points = _points(axes, sample)
    perf = set(sweep(base, batch=np.array([1.0])))
    econ = set(sweep_economics(base, batch=np.array([1.0])))
    metrics = _metrics(raw.get("metrics"), econ, axes)
    cons = _filter(raw.get("filter"), econ)
    economics = any(k not in perf for k in [*metrics, *(c.key for c in cons)])
    chunk = _chunk_points(chunk_points if chunk_points is not None else raw.get("chunk_points"), axes, sample)
    canonical = {"base": base_raw, **{k: raw[k] for k in SPEC_KEYS if k in raw and k != "base"},
                 "chunk_points": chunk}
    sha = hashlib.sha256(json.dumps(canonical, sort_keys=True, default=str).encode()).hexdigest()
    return SweepSpec(canonical, base, tuple(axes), sample, tuple(cons), metrics, economics, chunk, points, sha,
                     notes)


def _base(v: Any, base_dir: Path | None) -> tuple[dict[str, Any], Path | None]:
    """The base scenario's mapping, and the folder its relative paths are read from."""
    if isinstance(v, dict):
        return v, base_dir
    if isinstance(v, str) and v.strip():
        p = Path(v)
        if not p.is_absolute() and base_dir is not None:
            p = base_dir / p
        if not p.is_file():
            raise LlmhwError(f"no such scenario file {shown(v)}", field="base",
                             accepted="a scenario YAML path (relative to the spec's folder) or the mapping inline")
        return read_yaml(p, field="base", mapping=True), p.parent
    raise LlmhwError(f"expected a scenario mapping or a path to one, got {shown(v)}", field="base")


def _sample(v: Any) -> Sample:
    accepted = "grid, {random: N, seed: S} or {lhs: N, seed: S}"
    if v == "grid" or v is None:
        return Sample("grid")
    if not isinstance(v, dict) or len(set(v) & {"random", "lhs"}) != 1 or set(v) - {"random", "lhs", "seed"}:
        raise LlmhwError(f"unknown sampling {shown(v)}", field="sample", accepted=accepted)
    kind = "random" if "random" in v else "lhs"
    n, seed = number_string(v[kind]), number_string(v.get("seed", 0))
    most = RANGES["sweep points"].hi
    if isinstance(n, bool) or not isinstance(n, int | float) or not math.isfinite(n) or n != int(n) or n < 1:
        raise LlmhwError(f"points to draw must be a whole number >= 1, got {shown(v[kind])}", field=f"sample.{kind}",
                         accepted=accepted)
    if n > most:
        raise LlmhwError(f"{n:,.0f} points asked", field=f"sample.{kind}",
                         accepted=f"at most {most:,.0f} ({RANGES['sweep points'].why})")
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= RANGES["seed"].hi:
        raise LlmhwError(f"expected a whole number, got {shown(v.get('seed'))}", field="sample.seed",
                         accepted=f"0 to {RANGES['seed'].hi:,.0f}")
    return Sample(kind, int(n), int(seed))


def _axis_of(path: str, v: Any, base: Scenario, sample: Sample, notes: list[str]) -> Axis:
    where = f"axes.{path}"
    head = path.partition(".")[0]
    if path in RESERVED:
        raise LlmhwError(f"'{path}' is a column the store adds", field=where, accepted="a varied path")
    if path == "parallelism" or path in VECTOR_AXES or path in SCENARIO_PATHS or head in BLOCK_PATHS:
        pass
    elif head not in ("chip", "interconnect", "scale_up", "scale_out", "system"):
        raise LlmhwError(f"unknown axis path {shown(path)}", field=where,
                         accepted="parallelism, engine, n_chips, hardware, model, compute_unit, precision.*, "
                         "workload.*, or an override path (chip.*, interconnect.*, scale_out.*, system.*)")
    if isinstance(v, dict) and "range" in v:
        return _range_axis(path, v, base, sample, notes)
    if isinstance(v, str | bytes) or not isinstance(v, list) or not v:
        raise LlmhwError(f"expected a non-empty list of values or {{range: [lo, hi], num: K}}, got {shown(v)}",
                         field=where, accepted="e.g. [1, 8, 64] or {range: [1e12, 2e13], num: 8, scale: log}")
    most = RANGES["varied values"]
    if len(v) > most.hi:
        raise LlmhwError(f"{len(v):,} values given", field=where, accepted=f"at most {most.hi:,.0f} ({most.why})")
    values = [_value(path, x) for x in v]
    return _listed(path, values, base, whole=path in WHOLE_AXES)


def _value(path: str, x: Any) -> Any:
    """One listed value as the scenario takes it: typed text parsed as ``--vary`` parses it."""
    if path == "parallelism":
        if not isinstance(x, dict) or not x or set(x) - {*PARALLELISM_KEYS, "moe_dp"}:
            raise LlmhwError(f"expected a mapping of degrees, got {shown(x)}", field="axes.parallelism",
                             accepted="e.g. {tp: 8, ep: 8} (tp, pp, ep, dp default 1; moe_dp)")
        return {"tp": 1, "pp": 1, "ep": 1, "dp": 1, **x}
    if path == "workload.batch" and x == "max":
        return -1
    if is_list_path(path):
        return [parse_value(s, f"axes.{path}") for s in x.split("+")] if isinstance(x, str) else x
    return parse_value(x, f"axes.{path}") if isinstance(x, str) else x


def _label(path: str, v: Any) -> Any:
    """A value's column entry: the SI number of a number or quantity, else its text."""
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, int | float):
        return float(v)
    if is_quantity(v):
        try:
            return parse_quantity(v, field=path)[0]
        except LlmhwError as exc:
            raise LlmhwError(str(exc), field=f"axes.{path}") from None
    if isinstance(v, list):
        return "+".join(str(x) for x in v)
    if isinstance(v, dict):
        return json.dumps(v, sort_keys=True, default=str)
    return str(v)


def _listed(path: str, values: list[Any], base: Scenario, whole: bool) -> Axis:
    """A listed (or gridded) axis, every value checked against the base scenario."""
    where = f"axes.{path}"
    if path in VECTOR_AXES:
        try:
            arr = _axis(VECTOR_AXES[path], values)
        except LlmhwError as exc:
            raise LlmhwError(exc.detail, field=where, accepted=exc.accepted) from None
        values = [int(x) for x in arr]
    else:
        # Numbers are checked at the two ends (a field's bounds are an interval); names and
        # mappings one by one. A combination of valid values may still be invalid: such points
        # are skipped and counted when the chunk runs.
        nums = [x for x in values if isinstance(x, int | float) and not isinstance(x, bool)]
        bad = [x for x in nums if not math.isfinite(x)]
        if bad:
            raise LlmhwError(f"value {bad[0]} is not a finite number", field=where, accepted="finite numbers")
        check = [x for x in values if x not in nums] + ([min(nums), max(nums)] if nums else [])
        for x in check:
            try:
                build(base, {path: x})
            except LlmhwError as exc:
                raise LlmhwError(f"value {shown(x)}: {exc}", field=where) from None
    labels = tuple(_label(path, x) for x in values)
    numeric = path != "parallelism" and all(isinstance(x, float) for x in labels)
    whole = whole or (numeric and all(isinstance(x, int) and not isinstance(x, bool) for x in values))
    return Axis(path, tuple(values), whole=whole and numeric, labels=labels, numeric=numeric)


def _range_axis(path: str, v: dict[str, Any], base: Scenario, sample: Sample, notes: list[str]) -> Axis:
    where = f"axes.{path}"
    accepted = "{range: [lo, hi], num: K, scale: lin|log}"
    if set(v) - {"range", "num", "scale"}:
        raise unknown_name("range key", str(sorted(set(v) - {"range", "num", "scale"})[0]), ("range", "num", "scale"),
                           field=where)
    ends = v["range"]
    if not isinstance(ends, list) or len(ends) != 2:
        raise LlmhwError(f"range needs [lo, hi], got {shown(ends)}", field=f"{where}.range", accepted=accepted)
    if path == "parallelism" or (path in SCENARIO_PATHS and path != "n_chips") or is_list_path(path):
        raise LlmhwError("this path takes a list of values, not a range", field=where, accepted="a list")
    lo, hi = (_label(path, _value(path, e)) for e in ends)
    scale = v.get("scale", "log")
    if scale not in ("lin", "log"):
        raise LlmhwError(f"unknown scale {shown(scale)}", field=f"{where}.scale", accepted="lin, log")
    if not all(isinstance(e, float) and math.isfinite(e) for e in (lo, hi)) or hi < lo or (scale == "log" and lo <= 0):
        raise LlmhwError(f"bad range {shown(ends)}: need finite numbers lo <= hi (lo > 0 on a log scale)",
                         field=f"{where}.range", accepted=accepted)
    whole = path in WHOLE_AXES or all(isinstance(number_string(e), int) and not isinstance(e, bool) for e in ends)
    num = v.get("num")
    if num is None:
        if sample.kind == "grid":
            raise LlmhwError("a grid needs num, the values in the range", field=f"{where}.num", accepted=accepted)
        for e in (lo, hi):       # the ends, checked as values of the base scenario
            _listed(path, [int(round(e)) if whole else e], base, whole)
        return Axis(path, None, lo=lo, hi=hi, scale=scale, whole=whole)
    most = RANGES["varied values"]
    if isinstance(num, bool) or not isinstance(num, int) or num < 1 or num > most.hi:
        raise LlmhwError(f"num must be a whole number from 1 to {most.hi:,.0f}, got {shown(num)}",
                         field=f"{where}.num", accepted=accepted)
    grid = np.geomspace(lo, hi, num) if scale == "log" else np.linspace(lo, hi, num)
    if whole:
        grid = np.unique(np.rint(grid))
        if grid.size < num:
            notes.append(f"{path}: {num} values asked, {grid.size} distinct whole numbers in [{lo:g}, {hi:g}]")
        return _listed(path, [int(x) for x in grid], base, True)
    return _listed(path, [float(x) for x in grid], base, False)


def _listed_size(v: Any) -> int:
    """The values an axis lists or grids, before any check (1 for what the checks will refuse)."""
    if isinstance(v, list):
        return max(1, len(v))
    num = v.get("num") if isinstance(v, dict) else None
    return num if isinstance(num, int) and not isinstance(num, bool) and num >= 1 else 1


def _points(axes: Sequence[Axis], sample: Sample) -> int:
    most = RANGES["sweep points"]
    if sample.kind != "grid":
        return sample.n
    n = math.prod(a.size for a in axes)
    if n > most.hi:
        raise LlmhwError(f"the grid has {n:,} points", field="axes",
                         accepted=f"at most {most.hi:,.0f} ({most.why}); fewer values, or sample: {{random: N}}")
    return n


def _metrics(v: Any, known: set[str], axes: Sequence[Axis]) -> tuple[str, ...]:
    if v is None:
        return DEFAULT_METRICS
    if isinstance(v, str):
        v = [v]
    if not isinstance(v, list) or not v or not all(isinstance(x, str) for x in v):
        raise LlmhwError(f"expected a list of prediction keys, got {shown(v)}", field="metrics",
                         accepted="e.g. [tpot_s, ttft_s, output_tok_s_per_chip, fits]")
    taken = {a.path for a in axes} | {f"parallelism.{k}" for k in PARALLELISM_KEYS}
    for x in v:
        if x not in known:
            raise unknown_name("metric", x, known, field="metrics")
        if x in taken or x in RESERVED:
            raise LlmhwError(f"'{x}' is an axis's column", field="metrics", accepted="a prediction key")
    return tuple(dict.fromkeys(v))


def _filter(v: Any, known: set[str]) -> list[Constraint]:
    if v is None:
        return []
    if isinstance(v, str):
        v = [v]
    if not isinstance(v, list):
        raise LlmhwError(f"expected a list of constraints, got {shown(v)}", field="filter",
                         accepted="e.g. [tpot_s<=0.05, fits>=1]")
    out = []
    for x in v:
        try:
            c = parse_slo(x)
        except LlmhwError as exc:
            raise LlmhwError(exc.detail, field="filter", accepted=exc.accepted) from None
        if c.key not in known:
            raise unknown_name("metric", c.key, known, field="filter")
        out.append(c)
    return out


def _chunk_points(v: Any, axes: Sequence[Axis], sample: Sample) -> int:
    """Points per chunk: the spec's, else sized so a chunk takes about CHUNK_S on one core."""
    if v is not None:
        v = number_string(v)
        if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 1 << 24:
            raise LlmhwError(f"expected a whole number from 1 to {1 << 24:,}, got {shown(v)}", field="chunk_points")
        return v
    static = [a for a in axes if not a.vector]
    if sample.kind == "grid":
        per_group = math.prod(a.size for a in axes if a.vector)
    elif any(a.continuous for a in static):
        per_group = 1
    else:
        per_group = max(1, MAX_CHUNK_POINTS // math.prod(a.size for a in static))
    per_point = POINT_S + BUILD_S / per_group
    chunk = 1 << max(0, int(math.log2(CHUNK_S / per_point)))
    return int(min(MAX_CHUNK_POINTS, max(MIN_CHUNK_POINTS, chunk)))


def build(base: Scenario, assignment: dict[str, Any]) -> Scenario:
    """The base scenario with the static axes' values set (``parallelism`` sets the mapping and,
    unless ``n_chips`` is an axis too, the chip count it implies)."""
    rest = {k: v for k, v in assignment.items() if k != "parallelism" and k not in VECTOR_AXES}
    s = apply(base, rest) if rest else base
    par = assignment.get("parallelism")
    if par is not None:
        par = {"tp": 1, "pp": 1, "ep": 1, "dp": 1, **par}
        chips = {} if "n_chips" in assignment else {"n_chips": par["tp"] * par["pp"] * par["dp"]}
        s = s.replace(parallelism=dict(par), **chips)
    return s
