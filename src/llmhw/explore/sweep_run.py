"""Running a sweep spec into a store: chunk by chunk, on Ray workers (local or a cluster) or in
this process when Ray is not installed (docs/scale.md).

A chunk is priced where it runs (a worker builds each of its scenarios once, keeps the last few,
and passes their batch and length axes through the vectorized engine in one pass per scenario)
and is encoded as a finished Parquet file there. A worker that sees the store (this machine's
run, or a shared filesystem; it must read this run's token in the manifest) writes the file
itself, atomically; any other sends it back to the driver, which writes it. Only the driver
writes the manifest (no lock), and a cluster needs no shared filesystem. At most two chunks per
worker are in flight, so neither the driver nor the object store ever holds more than that. A
worker that dies costs its chunk, which Ray runs again elsewhere (``MAX_RETRIES``); a chunk
written twice is written whole both times, with the same content.
"""

from __future__ import annotations

import functools
import itertools
import os
import sys
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from llmhw.core.errors import LlmhwError, clip
from llmhw.economics.report import economics_arrays
from llmhw.explore.parallel import MAX_RETRIES, TaskFailed, ray_map, ray_module, session
from llmhw.explore.store import (
    Store,
    calibration_sha256,
    chunk_name,
    encode,
    holds_run,
    write_atomic,
)
from llmhw.explore.sweep import check_finite
from llmhw.explore.sweep_spec import VECTOR_AXES, Axis, SweepSpec, build, load_spec
from llmhw.serving.closed_loop import Engine

# Scenarios (and their engines) a worker keeps between chunks: a grid's chunks walk through them
# in order; a random sample over listed values revisits a few.
ENGINE_CACHE = 64


@dataclass
class SweepRun:
    """What a run did (``llmhw sweep --json``)."""

    out: str
    mode: str                     # "ray" or "in-process"
    workers: int
    points: int
    chunks: int
    chunks_run: int               # chunks priced by this run (the others were already done)
    rows: int                     # rows in the store (points that passed the filter)
    invalid: int                  # points whose scenario is invalid (skipped; see notes)
    seconds: float                # wall time, Ray's start included
    points_per_s: float           # points this run priced, per second once the workers were up
    startup_s: float = 0.0        # starting Ray (or joining the cluster) and the workers
    peak_rss_bytes: int = 0       # the largest peak resident memory of a process that priced a chunk
    worker_cpu_s: float = 0.0     # CPU seconds the chunks of this run took, all workers together
    failed: list[int] = field(default_factory=list)     # chunks that failed after every retry
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


# -- one chunk

_CACHE: dict[str, OrderedDict[Any, Any]] = {}


def _engines(spec: SweepSpec) -> OrderedDict[Any, Any]:
    cache = _CACHE.get(spec.sha256)
    if cache is None:
        _CACHE.clear()                   # one spec at a time per process
        cache = _CACHE[spec.sha256] = OrderedDict()
    return cache


def _built(spec: SweepSpec, key: tuple[Any, ...]) -> tuple[Any, Engine] | str:
    """The scenario and engine of one combination of static values, or why it is invalid."""
    cache = _engines(spec)
    if key in cache:
        cache.move_to_end(key)
        return cache[key]
    assignment = {a.path: a.value(c) for a, c in zip(spec.static, key, strict=True)}
    try:
        s = build(spec.base, assignment)
        entry: tuple[Any, Engine] | str = (s, Engine(s))
    except LlmhwError as exc:
        entry = clip(f"{', '.join(f'{k}={v}' for k, v in assignment.items())}: {exc}", 300)
    cache[key] = entry
    if len(cache) > ENGINE_CACHE:
        cache.popitem(last=False)
    return entry


Members = slice | np.ndarray          # a chunk's points of one scenario: a run of them, or scattered


def _groups(spec: SweepSpec, coords: dict[str, np.ndarray], n: int) -> Iterator[tuple[tuple[Any, ...], Members]]:
    """The points of a chunk grouped by their static values: (key, positions). A grid's groups
    are runs of consecutive points (slices, no copying); a random sample's are scattered."""
    static = spec.static
    if not static:
        yield (), slice(0, n)
        return
    cols = [coords[a.path] for a in static]
    if all(not a.continuous for a in static):
        code = np.zeros(n, dtype=np.int64)
        for a, c in zip(static, cols, strict=True):
            code = code * a.size + c
        steps = np.diff(code)
        if not (steps < 0).any():            # sorted (a grid): each group is one run
            bounds = [0, *(np.flatnonzero(steps) + 1).tolist(), n]
            for lo, hi in itertools.pairwise(bounds):
                yield tuple(c[lo].item() for c in cols), slice(lo, hi)
            return
        keys, inverse = np.unique(code, return_inverse=True)
    else:
        stacked = np.stack([np.asarray(c, dtype=float) for c in cols], axis=1)
        keys, inverse = np.unique(stacked, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    order = np.argsort(inverse, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(inverse, minlength=len(keys)))])
    for g in range(len(keys)):
        members = order[bounds[g]:bounds[g + 1]]
        first = members[0]
        yield tuple(c[first].item() for c in cols), members


def _size(members: Members, n: int) -> int:
    return len(range(n)[members]) if isinstance(members, slice) else int(members.size)


def _vector(spec: SweepSpec, coords: dict[str, np.ndarray], members: Members, size: int) -> tuple[np.ndarray, ...]:
    """The batch and the two lengths of the members: their axes' values, else the base's."""
    w = spec.base.workload
    default = {"batch": -1.0 if w.batch == "max" else float(w.batch), "input_tokens": float(w.input_tokens),
               "output_tokens": float(w.output_tokens)}
    axes: dict[str, Axis] = {VECTOR_AXES[a.path]: a for a in spec.vector}
    return tuple(axes[name].numbers(coords[axes[name].path][members]) if name in axes
                 else np.full(size, default[name]) for name in ("batch", "input_tokens", "output_tokens"))


def evaluate_chunk(spec: SweepSpec, k: int) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Chunk ``k`` priced: its store columns (the points that are valid and pass the filter) and
    its counts (evaluated, invalid, the first invalid point's reason)."""
    start, stop = spec.chunk_range(k)
    n = stop - start
    coords = spec.coordinates(start, stop)
    needed = spec.needed
    values: dict[str, np.ndarray] = {}
    valid = np.zeros(n, dtype=bool)
    invalid, note = 0, None
    for key, members in _groups(spec, coords, n):
        size = _size(members, n)
        entry = _built(spec, key)
        if isinstance(entry, str):
            invalid += size
            note = note or entry
            continue
        s, eng = entry
        vec = _vector(spec, coords, members, size)
        m = eng.evaluate(*vec)
        got = m.as_dict()
        if spec.economics:
            got = {**got, **economics_arrays(m, s)}
        out = {name: got[name] for name in needed if name in got}
        check_finite(out, s, vec)
        if size == n and len(out) == len(needed):       # the whole chunk is one scenario: no copies
            values = {name: np.asarray(v, dtype=float) for name, v in out.items()}
        else:
            for name in needed:
                if name not in values:
                    values[name] = np.full(n, np.nan)
                if name in out:
                    values[name][members] = np.asarray(out[name], dtype=float)
        valid[members] = True
    for name in needed:
        values.setdefault(name, np.full(n, np.nan))
    keep = valid.copy()
    for c in spec.filter:
        with np.errstate(invalid="ignore"):
            keep &= c.holds(values[c.key])
    rows: Members = slice(None) if keep.all() else keep
    cols: dict[str, np.ndarray] = {"point": np.arange(start, stop, dtype=np.int64)[rows]}
    for a in spec.axes:
        cols.update(a.columns(coords[a.path][rows]))
    cols.update({name: values[name][rows] for name in spec.metrics})
    return cols, {"evaluated": n, "invalid": invalid, "rows": int(keep.sum()), **({"note": note} if note else {})}


def chunk_file(spec: SweepSpec, k: int) -> tuple[int, bytes, dict[str, Any]]:
    """Chunk ``k`` priced and encoded as its Parquet file: what a worker sends back."""
    t, cpu = time.perf_counter(), time.process_time()
    cols, info = evaluate_chunk(spec, k)
    data = encode(spec, k, cols, info)
    del cols
    return k, data, {**info, "seconds": time.perf_counter() - t, "cpu_s": time.process_time() - cpu,
                     "pid": os.getpid(), "peak_rss_bytes": _peak_rss(), "calibration_sha256": _calibration()}


def chunk_task(shared: tuple[SweepSpec, str, str], k: int) -> tuple[int, bytes | None, dict[str, Any]]:
    """What a worker runs for chunk ``k``: priced and encoded, then written into the store by the
    worker itself when it sees the store (this machine's run, or a shared filesystem), else sent
    back to the driver to write. ``shared``: the spec, the store's folder and the run's token."""
    spec, out, token = shared
    k, data, info = chunk_file(spec, k)
    if _sees(out, token):
        write_atomic(Path(out) / chunk_name(k), data)
        return k, None, info
    return k, data, info


@functools.cache
def _sees(out: str, token: str) -> bool:
    return holds_run(out, token)


@functools.cache
def _calibration() -> str:
    """The calibration this process prices with: a cluster node with another llmhw would price
    other numbers, and the driver refuses its chunks."""
    return calibration_sha256()


def _peak_rss() -> int:
    """This process's peak resident memory so far, in bytes (0 where the OS does not say)."""
    try:
        import resource
    except ImportError:          # not on Windows
        return 0
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(kb if sys.platform == "darwin" else kb * 1024)      # macOS counts bytes, Linux KiB


# -- running every chunk


Progress = Callable[[int, int], None]     # (points done, points in all)


def run_sweep(spec: SweepSpec | str | Path | dict[str, Any], out: str | Path, *, workers: int | None = None,
              address: str | None = None, resume: bool = False, progress: Progress | None = None,
              use_ray: bool | None = None, log: Callable[[str], None] = lambda s: None) -> SweepRun:
    """Price every chunk of ``spec`` not yet in the store at ``out``. On Ray when it is
    installed (``address``: a cluster, ``auto``, ``HOST:PORT`` or ``ray://HOST:PORT``; else a
    local instance of ``workers`` processes, default every core), else in this process;
    ``use_ray=False`` forces this process. ``progress(done, total)`` counts points; ``log`` gets
    one-line notes as they happen."""
    sp = spec if isinstance(spec, SweepSpec) else load_spec(spec)
    if workers is not None and workers < 1:
        raise LlmhwError(f"need at least one worker, got {workers}", field="--workers", accepted="1 or more")
    Store.check(out, resume)                  # a bad --out is refused before Ray starts
    ray = ray_module(use_ray, address)
    notes: list[str] = []
    if ray is None and use_ray is None:
        notes.append("ray is not installed: running in this process (pip install 'llmhw[ray]' for workers "
                     "and clusters)")
    t0 = time.perf_counter()
    with session(ray, workers, address) as n_workers:
        store = Store.open(out, sp, resume)
        todo = [k for k in range(sp.chunks) if k not in store.done]
        notes += store.notes
        if resume and store.done:
            notes.append(f"resumed: {len(store.done)} of {sp.chunks} chunks were done")
        if ray is not None:
            notes.append(f"ray: {n_workers} worker(s){' at ' + address if address else ' on this machine'}")
        for n in notes:
            log(n)
        up = time.perf_counter()
        done_points = sum(sp.chunk_range(k)[1] - sp.chunk_range(k)[0] for k in store.done)
        tick = _counter(progress, done_points, sp.points)
        peak, cpu = [0], [0.0]

        shared = (sp, str(store.root.resolve()), store.token)

        def finished(k: int, data: bytes | None, info: dict[str, Any]) -> None:
            store.add(k, data, info)
            peak[0] = max(peak[0], info["peak_rss_bytes"])
            cpu[0] += info["cpu_s"]
            tick(info["evaluated"])

        failed: list[int] = []
        try:
            if ray is None:
                for k in todo:
                    finished(*chunk_task(shared, k))
            else:
                for i, result in ray_map(ray, chunk_task, shared, todo, n_workers, log):
                    if isinstance(result, TaskFailed):
                        failed.append(todo[i])
                        continue
                    k, data, info = result
                    if info["calibration_sha256"] != _calibration():
                        raise LlmhwError(f"a worker (pid {info['pid']}) prices with another calibration than "
                                         "this machine's: install the same llmhw on every node", field="--address",
                                         accepted="a cluster whose nodes run this llmhw")
                    finished(k, data, info)
                    del data, result
        finally:
            store.write_manifest(force=True, finished=True)
    end = time.perf_counter()
    priced = sum(store.done[k]["evaluated"] for k in todo if k in store.done)
    if failed:
        notes.append(f"{len(failed)} chunk(s) failed after {MAX_RETRIES} retries (first: {failed[0]}): "
                     "run again with --resume")
    return SweepRun(str(store.root), "in-process" if ray is None else "ray", n_workers, sp.points, sp.chunks,
                    len(todo) - len(failed), sum(c["rows"] for c in store.done.values()),
                    sum(c["invalid"] for c in store.done.values()), end - t0,
                    priced / (end - up) if end > up else 0.0, up - t0, peak[0], cpu[0], failed,
                    [*notes, *_spec_notes(store)])


def _spec_notes(store: Store) -> list[str]:
    invalid = [c["note"] for c in store.done.values() if c.get("note")]
    return [*store.spec.notes, *([f"invalid points skipped, e.g. {invalid[0]}"] if invalid else [])]


def _counter(progress: Progress | None, done: int, total: int) -> Callable[[int], None]:
    state = [done]
    if progress:
        progress(done, total)

    def tick(n: int) -> None:
        state[0] += n
        if progress:
            progress(state[0], total)
    return tick
