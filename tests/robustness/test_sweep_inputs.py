"""`llmhw sweep`'s spec and `llmhw query`'s arguments: each bad one refused on one line naming
the spec's field (issue 15), before any point is priced."""

import json

import pytest
from tests.robustness.harness import assert_refused, run_cli, write

pytest.importorskip("pyarrow")
pytest.importorskip("duckdb")

BASE = {"model": "llama-3.1-8b", "hardware": "h100-sxm", "n_chips": 1,
        "workload": {"input_tokens": 512, "output_tokens": 64, "batch": 4}}
GOOD_AXES = {"workload.batch": [1, 2]}


def spec_file(tmp_path, **fields):
    d = {"base": BASE, "axes": GOOD_AXES, **fields}
    return write(tmp_path, "spec.yaml", json.dumps(d))     # JSON is YAML


@pytest.mark.parametrize("fields, names", [
    ({"axes": {"chip.bogus": [1, 2]}}, ["axes.chip.bogus", "unknown path"]),
    ({"axes": {"bogus": [1, 2]}}, ["axes.bogus", "unknown axis path"]),
    ({"axes": {"workload.bogus": [1]}}, ["axes.workload.bogus", "unknown field"]),
    ({"axes": {"engine": ["vllm", "teleport"]}}, ["axes.engine", "teleport"]),
    ({"axes": {"workload.batch": [1, 0]}}, ["axes.workload.batch", "out of range"]),
    ({"axes": {"workload.batch": []}}, ["axes.workload.batch", "non-empty"]),
    ({"axes": {"interconnect.hop_latency_s": [1e-7, float("nan")]}}, ["axes.interconnect.hop_latency_s", "nan"]),
    ({"axes": {"interconnect.hop_latency_s": [1e-7, 1e9]}}, ["axes.interconnect.hop_latency_s", "1000000000"]),
    ({"axes": {}}, ["axes"]),
    ({"axes": {"chip.memory[0].bandwidth_bytes_per_s": {"range": [8e12, 1e12], "num": 3}}},
     ["axes.chip.memory[0].bandwidth_bytes_per_s.range", "lo <= hi"]),
    ({"axes": {"chip.memory[0].bandwidth_bytes_per_s": {"range": [0, 1e12], "num": 3, "scale": "log"}}},
     ["range", "lo > 0"]),
    ({"axes": {"chip.memory[0].bandwidth_bytes_per_s": {"range": [1e12], "num": 3}}}, ["range", "[lo, hi]"]),
    ({"axes": {"chip.memory[0].bandwidth_bytes_per_s": {"range": [1e12, 2e12], "num": 0}}}, [".num", "whole number"]),
    ({"axes": {"chip.memory[0].bandwidth_bytes_per_s": {"range": [1e12, 2e12], "num": -3}}}, [".num"]),
    ({"axes": {"chip.memory[0].bandwidth_bytes_per_s": {"range": [1e12, 2e12], "num": 100000}}}, [".num", "10,000"]),
    ({"axes": {"chip.memory[0].bandwidth_bytes_per_s": {"range": [1e12, 2e12]}}}, [".num", "grid needs num"]),
    ({"axes": {"chip.memory[0].bandwidth_bytes_per_s": {"range": [1e12, 2e12], "num": 2, "scale": "cubic"}}},
     [".scale", "lin, log"]),
    ({"axes": {"chip.memory[0].bandwidth_bytes_per_s": {"range": ["1 TB", "2 TB"], "num": 2}}}, ["bandwidth"]),
    ({"axes": {"chip.memory[0].bandwidth_bytes_per_s": {"range": [1e12, 2e12], "nums": 2}}}, ["range key", "nums"]),
    ({"axes": {"engine": {"range": [1, 2], "num": 2}}}, ["axes.engine", "list"]),
    ({"axes": {"parallelism": [{"tp": 2, "zz": 1}]}}, ["axes.parallelism"]),
    ({"axes": {"workload.batch": list(range(1, 10002))}}, ["axes.workload.batch", "10,000"]),
    ({"axes": {"n_chips": list(range(1, 10001)), "workload.input_tokens": list(range(1, 10001)),
               "workload.output_tokens": list(range(1, 10001)), "workload.batch": list(range(1, 101))}},
     ["axes", "points", "1,000,000,000,000"]),
    ({"sample": {"random": 10**13}}, ["sample.random", "1,000,000,000,000"]),
    ({"sample": {"lhs": 0}}, ["sample.lhs", ">= 1"]),
    ({"sample": {"lhs": 10, "seed": -1}}, ["sample.seed"]),
    ({"sample": {"sobol": 10}}, ["sample", "grid"]),
    ({"sample": "grids"}, ["sample"]),
    ({"metrics": ["tpot_s", "tpot_ms"]}, ["metrics", "unknown metric 'tpot_ms'"]),
    ({"metrics": []}, ["metrics"]),
    ({"metrics": ["workload.batch"]}, ["metrics"]),
    ({"filter": ["tpot_ms<=1"]}, ["filter", "tpot_ms"]),
    ({"filter": ["tpot_s=<1"]}, ["filter"]),
    ({"chunk_points": 0}, ["chunk_points"]),
    ({"bogus": 1}, ["bogus", "unknown spec key"]),
    ({"base": "missing.yaml"}, ["base", "missing.yaml"]),
    ({"base": {**BASE, "hardware": "teleporter"}}, ["hardware"]),
])
def test_bad_specs_are_refused(capsys, tmp_path, fields, names):
    p = spec_file(tmp_path, **fields)
    assert_refused(run_cli(capsys, "sweep", p, "--out", tmp_path / "out", "--workers", "0"), *names)
    assert not (tmp_path / "out").exists()


def test_a_spec_without_axes_and_a_missing_file(capsys, tmp_path):
    p = write(tmp_path, "spec.yaml", json.dumps({"base": BASE}))
    assert_refused(run_cli(capsys, "sweep", p, "--out", tmp_path / "o"), "axes", "missing")
    assert_refused(run_cli(capsys, "sweep", tmp_path / "nope.yaml", "--out", tmp_path / "o"), "SPEC")


def test_out_folders_that_are_not_a_sweep(capsys, tmp_path):
    p = spec_file(tmp_path)
    write(tmp_path, "busy/other.txt", "x") if (tmp_path / "busy").mkdir() is None else None
    assert_refused(run_cli(capsys, "sweep", p, "--out", tmp_path / "busy", "--workers", "0"), "--out", "not empty")
    assert_refused(run_cli(capsys, "sweep", p, "--out", p, "--workers", "0"), "--out", "file")
    assert_refused(run_cli(capsys, "sweep", p, "--out", tmp_path / "o", "--workers", "-1"), "--workers")
    assert run_cli(capsys, "sweep", p, "--out", tmp_path / "o", "--workers", "0").code == 0
    assert_refused(run_cli(capsys, "sweep", p, "--out", tmp_path / "o", "--workers", "0"), "--out", "--resume")


def test_query_arguments(capsys, tmp_path):
    p = spec_file(tmp_path)
    assert run_cli(capsys, "sweep", p, "--out", tmp_path / "o", "--workers", "0").code == 0
    o = tmp_path / "o"
    assert_refused(run_cli(capsys, "query", tmp_path / "none", "SELECT 1"), "DIR")
    assert_refused(run_cli(capsys, "query", tmp_path, "SELECT 1"), "DIR", "no sweep")
    assert_refused(run_cli(capsys, "query", o), "SQL", "--pareto")
    assert_refused(run_cli(capsys, "query", o, "SELEC * FROM sweep"), "SQL")
    assert_refused(run_cli(capsys, "query", o, "SELECT * FROM nowhere"), "SQL", "nowhere")
    assert_refused(run_cli(capsys, "query", o, "SELECT 1", "--csv", "--json"), "--csv")
    assert_refused(run_cli(capsys, "query", o, "--pareto", "tpot_s"), "--pareto", "two columns")
    assert_refused(run_cli(capsys, "query", o, "--pareto", "tpot_s,engine,x"), "--pareto")
    assert_refused(run_cli(capsys, "query", o, "SELECT point FROM sweep", "--pareto", "tpot_s,ttft_s"), "--pareto",
                   "tpot_s")
