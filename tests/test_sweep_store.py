"""`llmhw sweep` and `llmhw query` (issue 15): the points a spec names, the values stored for
them against `llmhw.predict`, the Parquet store and its resume after a crash, SQL and the Pareto
front, and the in-process run without Ray."""

from __future__ import annotations

import itertools
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from tests.robustness.harness import run_cli, strict_json

import llmhw
from llmhw.core.errors import LlmhwError
from llmhw.explore import sweep_run
from llmhw.explore.query import pareto, pareto_mask, query
from llmhw.explore.store import MANIFEST, chunk_name
from llmhw.explore.sweep_run import evaluate_chunk, run_sweep
from llmhw.explore.sweep_spec import build, load_spec, permutation

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
pytest.importorskip("duckdb")

ROOT = Path(__file__).resolve().parents[1]
BASE = {"model": "llama-3.1-8b", "hardware": "h100-sxm", "n_chips": 2, "parallelism": {"tp": 2},
        "precision": {"weights": "fp8", "kv_cache": "fp8"},
        "workload": {"input_tokens": 1024, "output_tokens": 256, "batch": 16}}
AXES = {"chip.memory[0].bandwidth_bytes_per_s": {"range": ["2 TB/s", "8 TB/s"], "num": 3, "scale": "lin"},
        "engine": ["vllm", "sglang"],
        "parallelism": [{"tp": 2}, {"tp": 1, "dp": 2}],
        "workload.batch": [1, 8, "max"],
        "workload.input_tokens": {"range": [128, 8192], "num": 4}}
GRID_POINTS = 3 * 2 * 2 * 3 * 4


def spec(**kw):
    return {"base": BASE, "axes": AXES, **kw}


def rows(path) -> dict[str, list]:
    """Every stored row, by column, in point order."""
    t = pa.concat_tables([pq.read_table(f) for f in sorted(Path(path).glob("chunk-*.parquet"))])
    t = t.sort_by("point")
    return {c: t.column(c).to_pylist() for c in t.column_names}


# -- the points a spec names


def test_grid_has_every_combination_once():
    sp = load_spec(spec(chunk_points=17))
    assert sp.points == GRID_POINTS
    assert sp.chunks == math.ceil(GRID_POINTS / 17)
    coords = sp.coordinates(0, sp.points)
    combos = set(zip(*(coords[a.path].tolist() for a in sp.axes), strict=True))
    assert combos == set(itertools.product(*(range(a.size) for a in sp.axes)))
    # chunks tile the points: the same coordinates piece by piece
    parts = [sp.coordinates(*sp.chunk_range(k)) for k in range(sp.chunks)]
    for a in sp.axes:
        assert np.array_equal(np.concatenate([p[a.path] for p in parts]), coords[a.path])
    # the batch and length axes vary fastest: a chunk is a few scenarios, each a vectorized block
    static = np.stack([coords[a.path] for a in sp.static], axis=1)
    changes = int((np.diff(static, axis=0) != 0).any(axis=1).sum())
    assert changes == 3 * 2 * 2 - 1


def test_a_log_range_of_whole_numbers_is_rounded_and_deduplicated():
    sp = load_spec({"base": BASE, "axes": {"workload.batch": {"range": [1, 8], "num": 20}}})
    (a,) = sp.axes
    assert a.values == (1, 2, 3, 4, 5, 6, 7, 8)        # 20 log-spaced values, 8 whole ones
    assert sp.notes and "8 distinct" in sp.notes[0]


@pytest.mark.parametrize("kind", ["random", "lhs"])
def test_sampled_points_are_in_range_reproducible_and_chunk_independent(kind):
    axes = {"chip.memory[0].bandwidth_bytes_per_s": {"range": [1e12, 1e13], "scale": "log"},
            "engine": ["vllm", "sglang", "trtllm"], "workload.batch": {"range": [1, 512]}}
    sp = load_spec({"base": BASE, "axes": axes, "sample": {kind: 1000, "seed": 7}, "chunk_points": 300})
    assert sp.points == 1000
    c = sp.coordinates(0, 1000)
    bw = c["chip.memory[0].bandwidth_bytes_per_s"]
    assert bw.min() >= 1e12 and bw.max() <= 1e13
    assert set(c["engine"].tolist()) == {0, 1, 2}
    b = c["workload.batch"]
    assert np.all(b == np.rint(b)) and b.min() >= 1 and b.max() <= 512
    again = load_spec({"base": BASE, "axes": axes, "sample": {kind: 1000, "seed": 7}, "chunk_points": 64})
    pieces = np.concatenate([again.coordinates(s, min(s + 64, 1000))["chip.memory[0].bandwidth_bytes_per_s"]
                             for s in range(0, 1000, 64)])
    assert np.array_equal(pieces, bw)
    other = load_spec({"base": BASE, "axes": axes, "sample": {kind: 1000, "seed": 8}})
    assert not np.array_equal(other.coordinates(0, 1000)["chip.memory[0].bandwidth_bytes_per_s"], bw)


def test_latin_hypercube_puts_one_point_in_each_stratum_of_each_axis():
    n = 997
    axes = {"chip.memory[0].bandwidth_bytes_per_s": {"range": [1e12, 9e12], "scale": "lin"},
            "interconnect.hop_latency_s": {"range": [1e-8, 1e-6], "scale": "log"},
            "engine": ["vllm", "sglang", "trtllm"]}
    sp = load_spec({"base": BASE, "axes": axes, "sample": {"lhs": n, "seed": 3}})
    c = sp.coordinates(0, n)
    lin = np.floor((c["chip.memory[0].bandwidth_bytes_per_s"] - 1e12) / 8e12 * n)
    log = np.floor(np.log(c["interconnect.hop_latency_s"] / 1e-8) / np.log(100.0) * n)
    for strata in (lin, log):
        assert sorted(strata.astype(int).tolist()) == list(range(n))
    counts = np.bincount(c["engine"], minlength=3)
    assert counts.max() - counts.min() <= 1                # 997 points over 3 values: 332 or 333 each


@pytest.mark.parametrize("n", [1, 2, 3, 17, 256, 1000, 4097])
def test_the_permutation_is_a_bijection(n):
    p = permutation(5, 1, np.arange(n), n)
    assert sorted(p.tolist()) == list(range(n))
    if n > 16:
        assert not np.array_equal(p, np.arange(n))        # not the identity


# -- the stored values


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep") / "store"
    res = run_sweep(spec(chunk_points=20), out, use_ray=False)
    return out, res


def test_the_store_holds_every_point_once_with_the_manifest(store):
    out, res = store
    assert res.mode == "in-process" and res.points == GRID_POINTS and res.rows == GRID_POINTS
    r = rows(out)
    assert r["point"] == list(range(GRID_POINTS))
    m = json.loads((out / MANIFEST).read_text())
    assert m["finished"] and m["points"] == GRID_POINTS and m["chunks_done"] == m["chunks_total"] == 8
    assert [c["file"] for c in m["chunks"]] == [chunk_name(k) for k in range(8)]
    assert m["spec"]["axes"] == json.loads(json.dumps(AXES))
    assert len(m["calibration_sha256"]) == 64 and m["llmhw_version"] == llmhw.__version__
    # one column per axis (parallelism: one per degree) and one per default metric
    for col in ("chip.memory[0].bandwidth_bytes_per_s", "engine", "parallelism.tp", "parallelism.dp",
                "workload.batch", "workload.input_tokens", "tpot_s", "ttft_s", "fits", "max_batch"):
        assert col in r
    assert set(r["chip.memory[0].bandwidth_bytes_per_s"]) == {2e12, 5e12, 8e12}     # SI, from 'TB/s'


def test_the_store_round_trips_what_a_chunk_computes(store):
    out, _ = store
    sp = load_spec(spec(chunk_points=20))
    cols, info = evaluate_chunk(sp, 3)
    t = pq.read_table(out / chunk_name(3))
    assert info == {"evaluated": 20, "invalid": 0, "rows": 20}
    for name, v in cols.items():
        got = t.column(name).to_pylist()
        assert got == list(v.tolist() if hasattr(v, "tolist") else v), name


def test_stored_values_equal_predict_at_sampled_points(store):
    out, _ = store
    r = rows(out)
    base = llmhw.Scenario.from_dict(BASE)
    for i in (0, 13, 40, 77, 101, GRID_POINTS - 1):
        par = {"tp": r["parallelism.tp"][i], "pp": 1, "ep": 1, "dp": r["parallelism.dp"][i]}
        s = build(base, {"chip.memory[0].bandwidth_bytes_per_s": r["chip.memory[0].bandwidth_bytes_per_s"][i],
                         "engine": r["engine"][i], "parallelism": par})
        b = r["workload.batch"][i]
        s = s.replace(workload={"batch": "max" if b == -1 else b, "input_tokens": r["workload.input_tokens"][i]})
        d = llmhw.predict(s).to_dict()
        for k in ("ttft_s", "tpot_s", "e2e_s", "output_tok_s", "tok_s_per_user", "max_batch", "batch"):
            assert r[k][i] == pytest.approx(d[k], rel=1e-9), (i, k)
        assert r["fits"][i] == d["fits"]


def test_filter_keeps_only_the_points_that_pass(tmp_path):
    res = run_sweep(spec(chunk_points=50, filter=["tpot_s<=0.01"], metrics=["tpot_s", "cost_usd_per_mtok"]),
                    tmp_path / "f", use_ray=False)
    full = rows(tmp_path / "f")
    assert 0 < res.rows < GRID_POINTS
    assert all(t <= 0.01 for t in full["tpot_s"])
    assert set(full) == {"point", "chip.memory[0].bandwidth_bytes_per_s", "engine", "parallelism.tp",
                         "parallelism.pp", "parallelism.ep", "parallelism.dp", "workload.batch",
                         "workload.input_tokens", "tpot_s", "cost_usd_per_mtok"}
    # the economics key is predict's at that point
    i = 0
    par = {"tp": full["parallelism.tp"][i], "dp": full["parallelism.dp"][i]}
    s = build(llmhw.Scenario.from_dict(BASE), {"chip.memory[0].bandwidth_bytes_per_s":
                                               full["chip.memory[0].bandwidth_bytes_per_s"][i],
                                               "engine": full["engine"][i], "parallelism": par})
    b = full["workload.batch"][i]
    s = s.replace(workload={"batch": "max" if b == -1 else b, "input_tokens": full["workload.input_tokens"][i]})
    assert full["cost_usd_per_mtok"][i] == pytest.approx(llmhw.predict(s).to_dict()["cost_usd_per_mtok"], rel=1e-9)


def test_invalid_combinations_are_skipped_and_counted(tmp_path):
    # tp 4 on 2 chips cannot be; n_chips as an axis keeps the mapping's chip count fixed
    sp = {"base": BASE, "axes": {"n_chips": [2, 4], "parallelism": [{"tp": 2}, {"tp": 4}],
                                 "workload.batch": [1, 2]}}
    res = run_sweep(sp, tmp_path / "inv", use_ray=False)
    assert res.points == 8 and res.invalid == 4 and res.rows == 4
    r = rows(tmp_path / "inv")
    assert r["n_chips"] == [2, 2, 4, 4] and r["parallelism.tp"] == [2, 2, 4, 4]
    assert any("invalid" in n for n in res.notes)


# -- resume


def test_resume_after_a_crash_gives_every_point_exactly_once(tmp_path, monkeypatch):
    out = tmp_path / "crash"
    sp = load_spec(spec(chunk_points=20))
    real = sweep_run.chunk_task
    calls = []

    def dies_on_the_fifth(s, k):
        calls.append(k)
        if len(calls) == 5:
            raise KeyboardInterrupt
        return real(s, k)

    monkeypatch.setattr(sweep_run, "chunk_task", dies_on_the_fifth)
    with pytest.raises(KeyboardInterrupt):
        run_sweep(sp, out, use_ray=False)
    monkeypatch.setattr(sweep_run, "chunk_task", real)
    assert len(list(out.glob("chunk-*.parquet"))) == 4
    # the debris a kill -9 can leave, and worse: a half-written temporary file, a chunk file
    # truncated and one deleted, a manifest that lists chunks that are gone
    (out / f".{chunk_name(4)}.123.456.tmp").write_bytes(b"PAR1 half")
    data = (out / chunk_name(1)).read_bytes()
    (out / chunk_name(1)).write_bytes(data[: len(data) // 2])
    (out / chunk_name(2)).unlink()
    kept = (out / chunk_name(0)).stat().st_mtime_ns
    with pytest.raises(LlmhwError, match="--resume"):
        run_sweep(sp, out, use_ray=False)                       # without --resume: refused
    res = run_sweep(sp, out, use_ray=False, resume=True)
    assert res.chunks_run == 6                                  # 1, 2 and the four never done
    r = rows(out)
    assert r["point"] == list(range(GRID_POINTS))
    assert not list(out.glob(".*.tmp"))
    assert (out / chunk_name(0)).stat().st_mtime_ns == kept     # finished chunks are kept as they are
    m = json.loads((out / MANIFEST).read_text())
    assert m["finished"] and m["chunks_done"] == 8 and m["rows"] == GRID_POINTS


def test_resume_refuses_another_spec(tmp_path):
    run_sweep(spec(chunk_points=50), tmp_path / "a", use_ray=False)
    other = spec(chunk_points=50, metrics=["tpot_s"])
    with pytest.raises(LlmhwError, match="different spec"):
        run_sweep(other, tmp_path / "a", use_ray=False, resume=True)


def test_a_killed_process_resumes_to_every_point_once(tmp_path):
    # The real thing: `llmhw sweep` in its own process, killed with SIGKILL part way.
    sp = tmp_path / "spec.yaml"
    sp.write_text(json.dumps({"base": BASE, "axes": {"interconnect.hop_latency_s": {"range": [1e-8, 1e-6], "num": 150},
                                                     "workload.batch": [1, 4]}, "chunk_points": 2}))
    out = tmp_path / "killed"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen([sys.executable, "-m", "llmhw", "sweep", str(sp), "--out", str(out), "--workers", "0",
                             "--json"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(out.glob("chunk-*.parquet"))) < 5 and proc.poll() is None:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert 5 <= len(list(out.glob("chunk-*.parquet"))) < 150
    res = run_sweep(sp, out, use_ray=False, resume=True)
    assert rows(out)["point"] == list(range(300)) and res.rows == 300


# -- query


def test_query_sql_json_and_csv(store, capsys):
    out, _ = store
    q = query(out, "SELECT engine, count(*) AS n FROM sweep GROUP BY engine ORDER BY engine")
    assert q.columns == ["engine", "n"] and q.rows == [("sglang", GRID_POINTS // 2), ("vllm", GRID_POINTS // 2)]
    res = run_cli(capsys, "query", out, 'SELECT point, tpot_s FROM sweep WHERE "workload.batch" = 8 ORDER BY point',
                  "--json")
    assert res.code == 0, res.stderr
    got = strict_json(res.stdout)
    r = rows(out)
    want = [{"point": p, "tpot_s": t} for p, b, t in zip(r["point"], r["workload.batch"], r["tpot_s"], strict=True)
            if b == 8]
    assert got == want
    res = run_cli(capsys, "query", out, "SELECT point, engine FROM sweep ORDER BY point LIMIT 2", "--csv")
    assert res.stdout.splitlines() == ["point,engine", "0,vllm", "1,vllm"]
    res = run_cli(capsys, "query", out, "SELECT nonsense FROM sweep")
    assert res.code == 2 and "SQL" in res.stderr and len(res.stderr.strip().splitlines()) == 1


def test_pareto_mask_against_a_hand_computed_front():
    x = np.array([1.0, 2.0, 3.0, 2.0, 1.0, 3.0, 0.5, 4.0])
    y = np.array([5.0, 4.0, 3.0, 2.0, 1.0, 3.0, 6.0, 0.5])
    # (1,5) (2,4) (3,3) (0.5,6) (4,0.5) are on it; (2,2) (1,1) are beaten; (3,3) twice: one kept
    assert np.flatnonzero(pareto_mask(x, y)).tolist() == [0, 1, 2, 6, 7]


def _fake_store(path: Path, columns: dict[str, list]) -> None:
    path.mkdir()
    pq.write_table(pa.table(columns), path / chunk_name(0))
    pq.write_table(pa.table({k: v[:0] for k, v in columns.items()}), path / chunk_name(1))
    (path / MANIFEST).write_text(json.dumps({"format": 1, "chunks_total": 2}))


def test_pareto_over_a_store_against_a_hand_computed_front(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("llmhw.explore.query.BATCH_ROWS", 3)       # the front kept across batches
    _fake_store(tmp_path / "s", {"point": [0, 1, 2, 3, 4, 5, 6],
                                 "tpot_s": [0.01, 0.02, 0.03, 0.02, 0.05, None, 0.04],
                                 "output_tok_s": [100.0, 300.0, 400.0, 200.0, 500.0, 900.0, 350.0]})
    # smaller tpot and larger throughput are better: 0 (0.01,100), 1 (0.02,300), 2 (0.03,400),
    # 4 (0.05,500); 3 is beaten by 1, 6 by 2, 5 has no tpot
    front = pareto(tmp_path / "s", ["tpot_s", "output_tok_s"])
    assert [r[0] for r in front.rows] == [0, 1, 2, 4]
    front = pareto(tmp_path / "s", ["max:tpot_s", "output_tok_s"], "SELECT * FROM sweep WHERE point < 5")
    assert [r[0] for r in front.rows] == [4]
    res = run_cli(capsys, "query", tmp_path / "s", "--pareto", "tpot_s,output_tok_s", "--json")
    assert [r["point"] for r in strict_json(res.stdout)] == [0, 1, 2, 4]
    res = run_cli(capsys, "query", tmp_path / "s", "--pareto", "tpot_s,bogus")
    assert res.code == 2 and "--pareto" in res.stderr and "bogus" in res.stderr


# -- without Ray


def test_the_command_runs_in_this_process_without_ray(tmp_path, capsys, monkeypatch, write_yaml):
    monkeypatch.setitem(sys.modules, "ray", None)               # import ray fails
    p = write_yaml({"base": BASE, "axes": {"workload.batch": [1, 2, 4], "engine": ["vllm", "sglang"]}}, "spec.yaml")
    res = run_cli(capsys, "sweep", p, "--out", tmp_path / "o")
    assert res.code == 0, res.stderr
    assert "ray is not installed" in res.stdout + res.stderr and "in-process" in res.stdout
    assert rows(tmp_path / "o")["point"] == list(range(6))
    res = run_cli(capsys, "sweep", p, "--out", tmp_path / "o2", "--address", "auto")
    assert res.code == 1 and "llmhw[ray]" in res.stderr and len(res.stderr.strip().splitlines()) == 1


def test_a_worker_writes_its_chunk_only_into_the_store_it_sees(tmp_path):
    # A cluster node without the driver's folder (or with a stale one of the same name) sends its
    # chunk back; a worker that reads this run's mark in the manifest writes the chunk itself.
    from llmhw.explore.store import Store

    sp = load_spec(spec(chunk_points=50))
    store = Store.open(tmp_path / "s", sp)
    elsewhere = tmp_path / "stale"
    elsewhere.mkdir()
    (elsewhere / MANIFEST).write_text(json.dumps({"run_token": "another run", "spec_sha256": sp.sha256}))
    k, data, info = sweep_run.chunk_task((sp, str(elsewhere), store.token), 1)
    assert data is not None and not list(elsewhere.glob("chunk-*"))
    store.add(k, data, info)
    k, data, info = sweep_run.chunk_task((sp, str(store.root.resolve()), store.token), 0)
    assert data is None and (store.root / chunk_name(0)).exists()
    store.add(k, data, info)
    r = rows(store.root)
    assert r["point"] == list(range(100))


def test_the_example_sweeps_load():
    for p in sorted((ROOT / "examples" / "sweeps").glob("*.yaml")):
        sp = load_spec(p)
        assert sp.points > 0 and sp.sample.kind == "grid", p
