"""`llmhw sweep` on Ray (issue 15): a local two-worker instance, started once for the module
(about ten seconds), prices the same rows as the in-process run, and a worker that dies costs
its chunk, not the run. Skipped where Ray is not installed (it is the `[ray]` extra)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from llmhw.explore import sweep_run
from llmhw.explore.sweep_run import run_sweep

ray = pytest.importorskip("ray")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

SPEC = {"base": {"model": "llama-3.1-8b", "hardware": "h100-sxm", "n_chips": 1,
                 "workload": {"input_tokens": 512, "output_tokens": 128, "batch": 8}},
        "axes": {"engine": ["vllm", "sglang"], "interconnect.hop_latency_s": [1e-7, 1e-6],
                 "workload.batch": [1, 4, 16], "workload.input_tokens": [256, 4096]},
        "chunk_points": 5}


@pytest.fixture(scope="module")
def local_ray():
    src = str(Path(__file__).resolve().parents[1] / "src")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": src}})
    yield
    ray.shutdown()


def table(path: Path):
    t = pa.concat_tables([pq.read_table(f) for f in sorted(path.glob("chunk-*.parquet"))])
    return t.sort_by("point")


def test_ray_prices_what_the_process_prices_and_survives_a_dead_worker(local_ray, tmp_path, monkeypatch):
    marker = tmp_path / "died"
    real = sweep_run.chunk_task

    def dies_once_on_chunk_2(spec, k):
        # The first attempt at chunk 2 kills its worker process outright (as the OOM killer
        # would); Ray runs the chunk again on a fresh worker.
        if k == 2 and not marker.exists():
            marker.write_text("x")
            os._exit(1)
        return real(spec, k)

    monkeypatch.setattr(sweep_run, "chunk_task", dies_once_on_chunk_2)
    res = run_sweep(SPEC, tmp_path / "ray", use_ray=True)
    assert marker.exists()
    assert res.mode == "ray" and res.workers == 2 and not res.failed
    monkeypatch.setattr(sweep_run, "chunk_task", real)
    ref = run_sweep(SPEC, tmp_path / "local", use_ray=False)
    assert res.rows == ref.rows == 24 and res.chunks == 5
    got, want = table(tmp_path / "ray"), table(tmp_path / "local")
    assert got.column("point").to_pylist() == list(range(24))
    assert got.equals(want)


@pytest.mark.parametrize("address, names", [("bogus", ["--address", "malformed"]),
                                            ("127.0.0.1:1", ["--address", "nothing answers"]),
                                            ("ray://127.0.0.1:1", ["--address", "nothing answers"])])
def test_an_address_without_a_cluster_is_refused_at_once(capsys, tmp_path, address, names):
    from tests.robustness.harness import assert_refused, run_cli

    p = tmp_path / "spec.json"
    p.write_text(__import__("json").dumps({**SPEC, "chunk_points": 24}))
    assert_refused(run_cli(capsys, "sweep", p, "--out", tmp_path / "o", "--address", address), *names)
    assert not (tmp_path / "o").exists()


def test_search_on_ray_equals_search_in_one_process(local_ray):
    from llmhw.api import search

    sc = {"model": "llama-3.1-8b", "hardware": "h100-sxm", "n_chips": 4, "engine": "vllm",
          "workload": {"input_tokens": 512, "output_tokens": 128, "batch": 1}}
    vary = {"interconnect.hop_latency_s": [1e-7, 1e-6]}
    one = search(sc, ["tpot_s<=0.01"], "output_tok_s_per_chip", vary)
    many = search(sc, ["tpot_s<=0.01"], "output_tok_s_per_chip", vary, workers=2)
    assert many.to_dict() == one.to_dict()
    assert one.evaluated > 100 and one.best is not None
