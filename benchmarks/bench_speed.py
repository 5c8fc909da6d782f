"""How fast llmhw prices design points, and how long one `llmhw predict` takes.

    .venv/bin/python benchmarks/bench_speed.py [--points 1000000] [--json out.json]

Single core: numpy's element-wise kernels run on one thread; BLAS is not used by the engine.
Reports the median of several runs after one warm-up.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import llmhw  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

SCENARIOS = {
    "llama-3.1-70b, 8x H100, TP8": {"model": "llama-3.1-70b", "hardware": "h100-sxm", "n_chips": 8,
                                    "parallelism": {"tp": 8}, "precision": {"weights": "fp8", "kv_cache": "fp8"},
                                    "workload": {"input_tokens": 1024, "output_tokens": 1024, "batch": 64}},
    "deepseek-v3, 8x H200, TP8 EP8": {"model": "deepseek-v3", "hardware": "h200", "n_chips": 8,
                                      "parallelism": {"tp": 8, "ep": 8},
                                      "precision": {"weights": "fp8", "kv_cache": "fp8"},
                                      "workload": {"input_tokens": 1024, "output_tokens": 1024, "batch": 64}},
    "gemma-3-27b, 1x B200": {"model": "gemma-3-27b", "hardware": "b200", "n_chips": 1,
                             "workload": {"input_tokens": 8192, "output_tokens": 1024, "batch": 16}},
}


def sweep_rate(scenario: dict, n: int, repeats: int = 5) -> float:
    rng = np.random.default_rng(0)
    batch = rng.integers(1, 512, n).astype(float)
    isl = rng.integers(128, 32768, n).astype(float)
    osl = rng.integers(128, 8192, n).astype(float)
    eng_s = llmhw.Scenario.from_dict(scenario)
    llmhw.sweep(eng_s, batch=batch[:1000], input_tokens=isl[:1000], output_tokens=osl[:1000])  # warm-up
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        llmhw.sweep(eng_s, batch=batch, input_tokens=isl, output_tokens=osl)
        times.append(time.perf_counter() - t)
    return n / statistics.median(times)


def predict_wall(repeats: int = 5) -> float:
    exe = Path(sys.executable).with_name("llmhw")
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        subprocess.run([str(exe), "predict", str(ROOT / "examples/llama70b-h100x8.yaml"), "--json"],
                       check=True, capture_output=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def search_rate(repeats: int = 3) -> dict[str, float]:
    """`llmhw.search` over every mapping and batch: Llama 3.1 70B on 8 H100s (dense) and
    Qwen3-235B on 8 H100s (MoE), TPOT under 50 ms. Returns configurations and seconds."""
    out = {}
    for name, model in (("llama-3.1-70b", "llama-3.1-70b"), ("qwen3-235b-a22b", "qwen3-235b-a22b")):
        sc = {"model": model, "hardware": "h100-sxm", "n_chips": 8, "engine": "vllm",
              "precision": {"weights": "fp8", "kv_cache": "fp8"},
              "workload": {"input_tokens": 1024, "output_tokens": 1024, "batch": 1}}
        times, n = [], 0
        for _ in range(repeats):
            t = time.perf_counter()
            r = llmhw.api.search(sc, ["tpot_s<=0.05"], "output_tok_s_per_chip")
            times.append(time.perf_counter() - t)
            n = r.evaluated
        out[name] = {"configurations": n, "seconds": statistics.median(times)}
    return out


def simulate_rate(n: int = 100_000) -> float:
    """Simulated requests per minute: Llama 3.1 70B on 8 H100s, Poisson at 10/s, 1,024 in / 256 out
    (engine build and step tables included)."""
    sc = {"model": "llama-3.1-70b", "hardware": "h100-sxm", "n_chips": 8, "parallelism": {"tp": 8},
          "precision": {"weights": "fp8", "kv_cache": "fp8"},
          "workload": {"input_tokens": 1024, "output_tokens": 256, "batch": 1}}
    t = time.perf_counter()
    llmhw.api.simulate(sc, 10.0, n)
    return n / (time.perf_counter() - t) * 60


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--json", dest="out")
    a = ap.parse_args()
    res = {"points": a.points, "sweep_points_per_s": {}, "predict_process_wall_s": None}
    for name, sc in SCENARIOS.items():
        rate = sweep_rate(sc, a.points)
        res["sweep_points_per_s"][name] = rate
        print(f"{name:34s} {rate / 1e6:6.2f} M design points/s")
    res["search"] = search_rate()
    for name, v in res["search"].items():
        print(f"search {name:27s} {v['configurations']:,} configurations in {v['seconds']:.2f} s")
    res["simulated_requests_per_min"] = simulate_rate()
    print(f"simulate: {res['simulated_requests_per_min']:,.0f} requests per minute")
    res["predict_process_wall_s"] = predict_wall()
    print(f"one `llmhw predict` process: {res['predict_process_wall_s']:.2f} s wall")
    if a.out:
        Path(a.out).write_text(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
