"""The sweep store: a folder of Parquet files, one per finished chunk, and ``manifest.json``.

Each chunk file is written whole to a hidden temporary name and renamed into place, so a file
named ``chunk-NNNNNNNN.parquet`` is complete: a run killed at any moment leaves finished chunks,
perhaps a temporary file, and nothing half-written under a chunk's name. Each file also carries
its chunk number, point range and the spec's hash in its Parquet metadata; ``--resume`` keeps the
files whose footer reads and matches, deletes temporary files and anything else, and prices the
rest, so every point ends up in exactly one file.

``manifest.json`` says what the folder holds (the spec, llmhw's version, the calibration's hash,
the chunks done); it is rewritten atomically now and then and at the end, and rebuilt from the
files on resume (the files, not the manifest, are the record of what is done).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from llmhw.core import __version__
from llmhw.core.errors import LlmhwError
from llmhw.explore.parallel import require
from llmhw.explore.sweep_spec import PARALLELISM_KEYS, SweepSpec

MANIFEST = "manifest.json"
FORMAT = 1
CHUNK_GLOB = "chunk-*.parquet"
_CHUNK = re.compile(r"^chunk-(\d{8})\.parquet$")
_TEMP = re.compile(r"^\.chunk-\d{8}\.parquet\..*\.tmp$")
# The key of a chunk file's own metadata in its Parquet footer.
META_KEY = b"llmhw.sweep"
# Seconds between rewrites of the manifest during a run (each rewrite lists every chunk done).
MANIFEST_EVERY_S = 5.0


def chunk_name(k: int) -> str:
    return f"chunk-{k:08d}.parquet"


def calibration_sha256() -> str:
    """The hash of the fitted parameters the numbers depend on (cost/calibration.yaml)."""
    data = resources.files("llmhw.cost").joinpath("calibration.yaml").read_bytes()
    return hashlib.sha256(data).hexdigest()


def schema(spec: SweepSpec) -> Any:
    """Every chunk's columns: the point number, one per axis (``parallelism``: one per degree),
    one per metric (``fits`` a boolean, the others float64; null where a point's hardware has no
    such tier)."""
    pa = require("pyarrow")
    cols = [pa.field("point", pa.int64(), nullable=False)]
    for a in spec.axes:
        if a.path == "parallelism":
            cols += [pa.field(f"parallelism.{k}", pa.int64()) for k in PARALLELISM_KEYS]
        elif not a.numeric:
            cols.append(pa.field(a.path, pa.string()))
        else:
            cols.append(pa.field(a.path, pa.int64() if a.whole else pa.float64()))
    cols += [pa.field(m, pa.bool_() if m == "fits" else pa.float64()) for m in spec.metrics]
    return pa.schema(cols)


def encode(spec: SweepSpec, k: int, columns: dict[str, np.ndarray], info: dict[str, Any]) -> bytes:
    """One chunk's columns as a Parquet file (bytes), with the chunk's metadata in the footer."""
    pa = require("pyarrow")
    pq = require("pyarrow.parquet")
    sch = schema(spec)
    arrays = []
    for f in sch:
        v = columns[f.name]
        if pa.types.is_floating(f.type) or pa.types.is_boolean(f.type):
            v = np.asarray(v, dtype=float)
            mask = np.isnan(v)
            arrays.append(pa.array(v.astype(bool) if pa.types.is_boolean(f.type) else v, type=f.type,
                                   mask=mask if mask.any() else None))
        else:
            arrays.append(pa.array(v, type=f.type))
    start, stop = spec.chunk_range(k)
    meta = {"chunk": k, "start": start, "stop": stop, "spec_sha256": spec.sha256, **info}
    table = pa.Table.from_arrays(arrays, schema=sch.with_metadata({META_KEY: json.dumps(meta).encode()}))
    sink = pa.BufferOutputStream()
    # Dictionary pages for the axes (few distinct values each), plain pages for the metrics:
    # trying dictionaries on a million distinct floats took most of a chunk's encoding time.
    axes = [f.name for f in sch if f.name not in spec.metrics and f.name != "point"]
    pq.write_table(table, sink, compression="snappy", use_dictionary=axes)
    return sink.getvalue().to_pybytes()


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a hidden temporary file in the same folder, renamed
    into place: ``path`` is either absent or complete."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{time.monotonic_ns()}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def chunk_meta(path: Path) -> dict[str, Any] | None:
    """A chunk file's own metadata when its footer reads, else None (truncated, not Parquet)."""
    pq = require("pyarrow.parquet")
    try:
        md = pq.read_metadata(path)
        raw = (md.metadata or {}).get(META_KEY)
        meta = json.loads(raw) if raw else None
    except (OSError, ValueError, TypeError, KeyError):     # pyarrow's ArrowInvalid is a ValueError
        return None
    if not isinstance(meta, dict):
        return None
    meta["rows"] = md.num_rows
    return meta


@dataclass
class Store:
    """A sweep's folder, opened for writing (new, or resumed)."""

    root: Path
    spec: SweepSpec
    done: dict[int, dict[str, Any]] = field(default_factory=dict)    # chunk -> its metadata
    started: float = field(default_factory=time.time)
    notes: list[str] = field(default_factory=list)
    # This run's own mark in the manifest: a worker writes its chunks into the store itself only
    # when it reads this mark there (the same folder, not one of the same name on another node).
    token: str = field(default_factory=lambda: secrets.token_hex(8))
    _written: float = 0.0

    @staticmethod
    def check(root: str | Path, resume: bool = False) -> bool:
        """Whether ``root`` holds a sweep to resume; refuses a folder a new sweep may not use
        (a file, a sweep without ``resume``, a folder of other files). Creates nothing."""
        require("pyarrow")
        p = Path(root)
        if p.exists() and not p.is_dir():
            raise LlmhwError(f"'{p}' is a file, not a folder", field="--out")
        if (p / MANIFEST).is_file():
            if not resume:
                raise LlmhwError(f"'{p}' already holds a sweep", field="--out",
                                 accepted="--resume to finish it, or an empty or new folder")
            return True
        if p.is_dir() and any(p.iterdir()):
            raise LlmhwError(f"'{p}' is not empty and holds no sweep (no {MANIFEST})", field="--out",
                             accepted="an empty or new folder")
        return False

    @classmethod
    def open(cls, root: str | Path, spec: SweepSpec, resume: bool = False) -> Store:
        """A new sweep in an empty (or absent) folder, or, with ``resume``, the one already
        there if it has the same spec and calibration; its finished chunks are kept."""
        p = Path(root)
        if cls.check(p, resume):
            store = cls(p, spec)
            store._check(read_manifest(p))
            store._scan()
        else:
            p.mkdir(parents=True, exist_ok=True)
            store = cls(p, spec)
        store.write_manifest(force=True)
        return store

    def _check(self, m: dict[str, Any]) -> None:
        for key, ours, what in (("spec_sha256", self.spec.sha256, "a different spec"),
                                ("calibration_sha256", calibration_sha256(), "a different calibration"),
                                ("llmhw_version", __version__, "another llmhw version")):
            if m.get(key) != ours:
                raise LlmhwError(f"'{self.root}' holds a sweep of {what} ({key} differs); its points would not "
                                 f"match this run's", field="--resume", accepted="the same spec, or a new --out")
        self.started = float(m.get("started_unix", time.time()))

    def _scan(self) -> None:
        """Keep the chunk files that are complete and belong to this spec; delete temporary
        files and every other chunk file."""
        for f in sorted(self.root.iterdir()):
            if _TEMP.match(f.name):
                f.unlink()
                continue
            m = _CHUNK.match(f.name)
            if not m:
                continue
            k = int(m.group(1))
            meta = chunk_meta(f)
            ok = (meta is not None and k < self.spec.chunks and meta.get("chunk") == k
                  and meta.get("spec_sha256") == self.spec.sha256
                  and (meta.get("start"), meta.get("stop")) == self.spec.chunk_range(k))
            if ok:
                self.done[k] = _entry(k, meta)
            else:
                self.notes.append(f"{f.name}: incomplete or not this sweep's; priced again")
                f.unlink()

    def add(self, k: int, data: bytes | None, info: dict[str, Any]) -> None:
        """Store one finished chunk (atomically; ``data`` None: a worker wrote it already), and
        note it in the manifest now and then."""
        if data is not None:
            write_atomic(self.root / chunk_name(k), data)
        start, stop = self.spec.chunk_range(k)
        self.done[k] = _entry(k, {"start": start, "stop": stop, **info})
        self.write_manifest()

    def write_manifest(self, force: bool = False, finished: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._written < MANIFEST_EVERY_S:
            return
        self._written = now
        spec = self.spec
        chunks = [self.done[k] for k in sorted(self.done)]
        m = {
            "format": FORMAT, "run_token": self.token, "llmhw_version": __version__,
            "calibration_sha256": calibration_sha256(),
            "spec_sha256": spec.sha256, "spec": spec.raw,
            "points": spec.points, "chunk_points": spec.chunk_points, "chunks_total": spec.chunks,
            "chunks_done": len(chunks), "finished": finished and len(chunks) == spec.chunks,
            "rows": sum(c["rows"] for c in chunks), "invalid": sum(c["invalid"] for c in chunks),
            "columns": [f.name for f in schema(spec)], "started_unix": self.started, "updated_unix": time.time(),
            "notes": [*spec.notes, *_invalid_notes(chunks)], "chunks": chunks,
        }
        write_atomic(self.root / MANIFEST, json.dumps(m, indent=1, default=str).encode())


def _entry(k: int, meta: dict[str, Any]) -> dict[str, Any]:
    return {"chunk": k, "file": chunk_name(k), "start": meta["start"], "stop": meta["stop"],
            "rows": int(meta.get("rows", 0)), "evaluated": int(meta.get("evaluated", 0)),
            "invalid": int(meta.get("invalid", 0)), **({"note": meta["note"]} if meta.get("note") else {})}


def _invalid_notes(chunks: list[dict[str, Any]], most: int = 5) -> list[str]:
    seen: list[str] = []
    for c in chunks:
        if c.get("note") and c["note"] not in seen:
            seen.append(c["note"])
            if len(seen) == most:
                break
    return [f"invalid points (skipped): {n}" for n in seen]


def holds_run(root: str | Path, token: str) -> bool:
    """Whether the folder ``root``, as this process sees it, is the store of the run marked
    ``token`` (False when it cannot be read)."""
    try:
        return json.loads((Path(root) / MANIFEST).read_text(encoding="utf-8")).get("run_token") == token
    except (OSError, ValueError, UnicodeError, AttributeError):
        return False


def read_manifest(root: str | Path) -> dict[str, Any]:
    p = Path(root) / MANIFEST
    try:
        m = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LlmhwError(f"'{root}' holds no sweep (no {MANIFEST})", field="DIR",
                         accepted="a folder `llmhw sweep --out` wrote") from None
    except (ValueError, UnicodeError):
        raise LlmhwError(f"'{p}' is not a sweep manifest (not JSON)", field="DIR") from None
    if not isinstance(m, dict) or m.get("format") != FORMAT:
        raise LlmhwError(f"'{p}' is not a sweep manifest of format {FORMAT}", field="DIR")
    return m
