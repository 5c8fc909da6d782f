"""Questions to a sweep store (``llmhw query DIR "SQL"``): DuckDB over its Parquet files, the
view ``sweep`` holding every finished chunk's rows; and the Pareto front of two columns, kept
batch by batch so that a store of a billion rows is read once, never held.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from llmhw.core.errors import LlmhwError, clip, shown
from llmhw.explore.parallel import require
from llmhw.explore.search import Objective, parse_objective
from llmhw.explore.store import CHUNK_GLOB, MANIFEST, read_manifest

# Rows per batch when a query's result is streamed (the Pareto front).
BATCH_ROWS = 1 << 20


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    notes: list[str] = field(default_factory=list)

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, r, strict=True)) for r in self.rows]


def connect(root: str | Path) -> tuple[Any, list[str]]:
    """A DuckDB connection with the view ``sweep`` over the store's finished chunks, and notes
    (a sweep still running or stopped part way)."""
    duckdb = require("duckdb")
    require("pyarrow")
    p = Path(root)
    if not p.is_dir():
        raise LlmhwError(f"no such folder '{clip(str(root), 200)}'", field="DIR", accepted="a folder `llmhw sweep --out` wrote")
    m = read_manifest(p)
    files = sorted(p.glob(CHUNK_GLOB))
    if not files:
        raise LlmhwError(f"'{p}' holds no finished chunk yet", field="DIR", accepted="a sweep with at least one chunk done")
    notes = []
    if len(files) < int(m.get("chunks_total", 0)):
        notes.append(f"{len(files)} of {m['chunks_total']} chunks are done: the sweep is running or was stopped "
                     f"(llmhw sweep --resume finishes it)")
    con = duckdb.connect(":memory:")
    # DuckDB draws its own progress bar on the terminal for long queries, into our output.
    con.execute("SET enable_progress_bar = false")
    pattern = str(p.resolve() / CHUNK_GLOB).replace("'", "''")
    con.execute(f"CREATE VIEW sweep AS SELECT * FROM read_parquet('{pattern}')")
    return con, notes


def _run(con: Any, sql: str) -> Any:
    duckdb = require("duckdb")
    if not isinstance(sql, str) or not sql.strip():
        raise LlmhwError("empty query", field="SQL", accepted='e.g. "SELECT * FROM sweep WHERE fits LIMIT 10"')
    try:
        return con.execute(sql)
    except duckdb.Error as exc:
        raise LlmhwError(clip(str(exc), 600), field="SQL",
                         accepted="DuckDB SQL over the view sweep (columns: `llmhw query DIR \"DESCRIBE sweep\"`)") from None


def _relation(con: Any, sql: str) -> Any:
    """``sql`` as a DuckDB relation (rows read lazily); a statement without rows is refused."""
    duckdb = require("duckdb")
    if not isinstance(sql, str) or not sql.strip():
        raise LlmhwError("empty query", field="SQL", accepted='e.g. "SELECT * FROM sweep WHERE fits"')
    try:
        rel = con.sql(sql)
    except duckdb.Error as exc:
        raise LlmhwError(clip(str(exc), 600), field="SQL", accepted="DuckDB SQL over the view sweep") from None
    if rel is None:
        raise LlmhwError("the statement returns no rows", field="SQL", accepted="a SELECT over the view sweep")
    return rel


def _reader(rel: Any, rows: int) -> Any:
    """The relation's rows as a stream of Arrow record batches (the method's name moved between
    DuckDB 1.x and 2.x)."""
    for name in ("to_arrow_reader", "fetch_arrow_reader", "record_batch"):
        f = getattr(rel, name, None)
        if f is not None:
            return f(rows)
    raise LlmhwError("this DuckDB cannot stream Arrow batches", field="--pareto", accepted="duckdb >= 1.1")


def query(root: str | Path, sql: str) -> QueryResult:
    """The rows of ``sql`` (DuckDB; ``FROM sweep``) over the store at ``root``."""
    con, notes = connect(root)
    try:
        cur = _run(con, sql)
        cols = [d[0] for d in cur.description] if cur.description else []
        rows = cur.fetchall() if cols else []
    finally:
        con.close()
    return QueryResult(cols, rows, notes)


def pareto_mask(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The points no other point beats on both ``x`` and ``y`` (both larger-is-better): a point
    is dropped when another is at least as large in both and larger in one. Of points equal in
    both, one is kept."""
    n = x.size
    keep = np.zeros(n, dtype=bool)
    if n == 0:
        return keep
    order = np.lexsort((-y, -x))                 # largest x first; of equal x, largest y first
    ys = y[order]
    best_before = np.concatenate([[-np.inf], np.maximum.accumulate(ys)[:-1]])
    keep[order[ys > best_before]] = True
    return keep


def pareto(root: str | Path, axes: Sequence[str], sql: str | None = None) -> QueryResult:
    """The Pareto front of two columns of ``sql``'s rows (default: every row of ``sweep``), each
    maximised or minimised by its meaning (latencies and costs smaller, throughput larger) or by
    a ``max:``/``min:`` prefix; rows with a null in either are left out. The front comes back
    ordered by the first column."""
    pa = require("pyarrow")
    if len(axes) != 2:
        raise LlmhwError(f"expected two columns X,Y, got {shown(','.join(axes))}", field="--pareto",
                         accepted="e.g. tok_s_per_user,output_tok_s_per_chip or min:tpot_s,max:output_tok_s")
    objs = [parse_objective(a) for a in axes]
    con, notes = connect(root)
    if sql is None:
        # Every row: read the two columns (and the point number) only, then the front's rows whole.
        cols = [d[0] for d in con.execute("SELECT * FROM sweep LIMIT 0").description]
        if all(o.key in cols for o in objs) and "point" in cols and "point" not in (o.key for o in objs):
            con.close()
            front = pareto(root, axes, 'SELECT point, {} FROM sweep'.format(", ".join(_quoted(o.key) for o in objs)))
            points = ", ".join(str(int(r[0])) for r in front.rows) or "NULL"
            whole = query(root, f"SELECT * FROM sweep WHERE point IN ({points})")
            order = {r[0]: i for i, r in enumerate(front.rows)}
            rows = sorted(whole.rows, key=lambda r: order[r[whole.columns.index("point")]])
            return QueryResult(whole.columns, rows, notes)
    try:
        rel = _relation(con, sql or "SELECT * FROM sweep")
        cols = list(rel.columns)
        for o in objs:
            if o.key not in cols:
                raise LlmhwError(f"no column {shown(o.key)} in the query's result", field="--pareto",
                                 accepted=", ".join(cols))
        reader = _reader(rel, BATCH_ROWS)
        front: Any = None
        for batch in reader:
            t = pa.Table.from_batches([batch])
            if front is not None:
                # Most of a batch is beaten by the front so far: drop it before sorting the rest.
                t = t.filter(pa.array(~_beaten(t, front, objs)))
                t = pa.concat_tables([front, t])
            front = t.take(pa.array(np.flatnonzero(_front(t, objs))))
    except LlmhwError:
        raise
    except Exception as exc:
        if type(exc).__module__.startswith(("duckdb", "_duckdb", "pyarrow")):
            raise LlmhwError(clip(str(exc), 600), field="--pareto", accepted="two numeric columns") from None
        raise
    finally:
        con.close()
    if front is None or front.num_rows == 0:
        return QueryResult(cols, [], notes)
    x = _numbers(front, objs[0].key)
    front = front.take(pa.array(np.argsort(x, kind="stable")))
    rows = list(zip(*(front.column(c).to_pylist() for c in cols), strict=True))
    return QueryResult(cols, rows, notes)


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _numbers(t: Any, name: str) -> np.ndarray:
    col = t.column(name)
    try:
        return np.asarray(col.to_numpy(zero_copy_only=False), dtype=float)
    except (TypeError, ValueError):
        raise LlmhwError(f"column {shown(name)} is not numeric ({col.type})", field="--pareto",
                         accepted="two numeric columns") from None


def _signed(t: Any, objs: Sequence[Objective]) -> tuple[np.ndarray, np.ndarray]:
    """The two columns, each turned larger-is-better."""
    x, y = (_numbers(t, o.key) * (1.0 if o.maximise else -1.0) for o in objs)
    return x, y


def _beaten(t: Any, front: Any, objs: Sequence[Objective]) -> np.ndarray:
    """Rows of ``t`` some row of ``front`` (a Pareto front) is at least as good as on both
    columns. Along a front sorted by x the y falls, so the best y among the front rows with an x
    at least a row's x is that of the first such row."""
    x, y = _signed(t, objs)
    fx, fy = _signed(front, objs)
    order = np.argsort(fx, kind="stable")
    fx, fy = fx[order], fy[order]
    i = np.searchsorted(fx, x, side="left")
    beaten = np.zeros(x.size, dtype=bool)
    inside = i < fx.size
    beaten[inside] = fy[i[inside]] >= y[inside]
    return beaten


def _front(t: Any, objs: Sequence[Objective]) -> np.ndarray:
    x, y = _signed(t, objs)
    ok = np.isfinite(x) & np.isfinite(y)
    keep = np.zeros(t.num_rows, dtype=bool)
    idx = np.flatnonzero(ok)
    keep[idx[pareto_mask(x[idx], y[idx])]] = True
    return keep


__all__ = ["MANIFEST", "QueryResult", "connect", "pareto", "pareto_mask", "query"]
