"""How `llmhw sweep` scales: points per second per worker against in-process `llmhw.sweep`, one
Ray worker against two, and one large run's wall time, rate and peak memory per worker.

    .venv/bin/python benchmarks/bench_sweep_scale.py [--points 1e8] [--workers 2] [--out DIR] [--json FILE]
    .venv/bin/python benchmarks/bench_sweep_scale.py --only large --points 1e9 --metrics tpot_s,output_tok_s_per_chip

Needs the `[ray]` extra (Ray, pyarrow, duckdb). The scenario is Llama 3.1 70B on 8 H100s (TP8,
FP8): a grid of HBM bandwidths (the static axis, one scenario per value) times batch x input x
output lengths (the vectorized axes). Results go to stdout (and --json); docs/performance.md
records them.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import llmhw  # noqa: E402
from llmhw.explore.sweep_run import run_sweep  # noqa: E402
from llmhw.explore.sweep_spec import DEFAULT_METRICS, load_spec  # noqa: E402

BASE = {"model": "llama-3.1-70b", "hardware": "h100-sxm", "n_chips": 8, "parallelism": {"tp": 8},
        "precision": {"weights": "fp8", "kv_cache": "fp8"},
        "workload": {"input_tokens": 1024, "output_tokens": 1024, "batch": 64}}


def spec(points: float, metrics: list[str] | None = None, filt: list[str] | None = None) -> dict:
    """A grid of about ``points`` points: 10 bandwidths (or more, for big sweeps) x batch x
    input x output, the three vectorized axes of equal size up to 1,000 values each."""
    n_static = 10
    per = max(1, round((points / n_static) ** (1 / 3)))
    axes = {"chip.memory[0].bandwidth_bytes_per_s": {"range": [2e12, 8e12], "num": n_static, "scale": "lin"},
            "workload.batch": {"range": [1, 4096], "num": per, "scale": "lin"},
            "workload.input_tokens": {"range": [128, 131072], "num": per, "scale": "lin"},
            "workload.output_tokens": {"range": [128, 32768], "num": per, "scale": "lin"}}
    d = {"base": BASE, "axes": axes}
    if metrics:
        d["metrics"] = metrics
    if filt:
        d["filter"] = filt
    return d


def sweep_rate(metrics: list[str], points: int = 1 << 20, repeats: int = 3) -> float:
    """In-process `llmhw.sweep` over the same kind of grid block, keeping the same metrics."""
    sp = load_spec(spec(points))
    c = sp.coordinates(0, points)
    arrays = {a.path: a.numbers(c[a.path]) for a in sp.vector}
    s = llmhw.Scenario.from_dict(BASE)
    times = []
    for _ in range(repeats + 1):
        t = time.perf_counter()
        out = llmhw.sweep(s, batch=arrays["workload.batch"], input_tokens=arrays["workload.input_tokens"],
                          output_tokens=arrays["workload.output_tokens"])
        kept = {k: out[k] for k in metrics}
        times.append(time.perf_counter() - t)
        del out, kept
    return points / statistics.median(times[1:])


def store_run(points: float, out: Path, workers: int | None, use_ray: bool, metrics: list[str] | None = None,
              filt: list[str] | None = None) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    last = [time.perf_counter(), 0]

    def progress(done: int, total: int) -> None:
        now = time.perf_counter()
        if now - last[0] > 30:
            print(f"  {done:,}/{total:,} points, {(done - last[1]) / (now - last[0]):,.0f} points/s", flush=True)
            last[0], last[1] = now, done
    cpu = time.process_time()
    with DaemonCpu() as daemons:
        res = run_sweep(spec(points, metrics, filt), out, workers=workers, use_ray=use_ray, progress=progress)
    driver_cpu = time.process_time() - cpu
    size = sum(f.stat().st_size for f in out.glob("chunk-*.parquet"))
    d = {k: v for k, v in res.to_dict().items() if k != "notes"}
    d["store_bytes"] = size
    # CPU accounting, which other jobs on the machine do not distort: the workers' CPU seconds
    # per point, and the driver's (writing the store, Ray's client) for the whole run.
    d["worker_cpu_s_per_mpoint"] = res.worker_cpu_s / res.points * 1e6
    d["driver_cpu_s"] = driver_cpu
    d["ray_daemons_cpu_s"] = daemons.seconds
    d["driver_peak_rss_bytes"] = _peak_rss()
    d["loadavg_1min_after"] = os.getloadavg()[0]
    return d


class DaemonCpu:
    """CPU seconds Ray's own processes (GCS, raylet, agents) take during a run, sampled from
    /proc twice a second (Linux; they exit with the run, so their last sample counts)."""

    NAMES = ("gcs_server", "raylet", "log_monitor", "dashboard", "runtime_env", "monitor.py")

    def __enter__(self) -> DaemonCpu:
        import threading

        self.seen: dict[int, float] = {}
        self.start = self._sample()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()
        return self

    def _loop(self) -> None:
        while not self.stop.wait(0.5):
            self.seen.update(self._sample())

    def _sample(self) -> dict[int, float]:
        out = {}
        tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        for p in Path("/proc").glob("[0-9]*"):
            try:
                cmd = (p / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                if not any(n in cmd for n in self.NAMES):
                    continue
                fields = (p / "stat").read_text().rsplit(")", 1)[1].split()
                out[int(p.name)] = (int(fields[11]) + int(fields[12])) / tick
            except (OSError, ValueError, IndexError):
                continue
        return out

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()
        self.seconds = sum(v - self.start.get(pid, 0.0) for pid, v in self.seen.items())


def _peak_rss() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=float, default=1e8, help="points of the large run")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", default=None, help="folder for the stores (default: a temporary one)")
    ap.add_argument("--only", choices=("rate", "scaling", "large"), default=None)
    ap.add_argument("--metrics", default=None, help="comma-separated metrics of the large run (default: predict's)")
    ap.add_argument("--filter", default=None, help="comma-separated filter of the large run, e.g. tpot_s<=0.02")
    ap.add_argument("--repeats", type=int, default=3, help="rounds of the rate and scaling comparisons")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    root = Path(args.out or tempfile.mkdtemp(prefix="llmhw-sweep-bench-"))
    metrics = list(DEFAULT_METRICS)
    result: dict = {"cpus": os.cpu_count(), "python": sys.version.split()[0], "numpy": np.__version__}
    # The machine may be shared: each measurement is repeated, alternating with the one it is
    # compared to, and the best of each is kept (interference only ever slows a run down).
    if args.only in (None, "rate"):
        sweeps, stores = [], []
        for _ in range(args.repeats):
            sweeps.append(sweep_rate(metrics))
            stores.append(store_run(1 << 22, root / "inproc", None, False))
        r_sweep = max(sweeps)
        inproc = max(stores, key=lambda d: d["points_per_s"])
        result["rate"] = {"llmhw_sweep_points_per_s": r_sweep, "store_in_process": inproc,
                          "ratio": inproc["points_per_s"] / r_sweep, "all_sweep": sweeps,
                          "all_store": [d["points_per_s"] for d in stores]}
        print(f"llmhw.sweep in-process: {r_sweep:,.0f} points/s; sweep store in-process: "
              f"{inproc['points_per_s']:,.0f} points/s ({inproc['points_per_s'] / r_sweep:.0%})", flush=True)
    if args.only in (None, "scaling"):
        ones, twos = [], []
        for _ in range(args.repeats):
            ones.append(store_run(1 << 25, root / "ray1", 1, True))
            twos.append(store_run(1 << 25, root / "ray2", args.workers, True))
        one = max(ones, key=lambda d: d["points_per_s"])
        two = max(twos, key=lambda d: d["points_per_s"])
        result["scaling"] = {"one_worker": one, "workers": two, "speedup": two["points_per_s"] / one["points_per_s"],
                             "all_one": [d["points_per_s"] for d in ones], "all_two": [d["points_per_s"] for d in twos]}
        print(f"ray, 1 worker: {one['points_per_s']:,.0f} points/s; {args.workers} workers: "
              f"{two['points_per_s']:,.0f} points/s ({two['points_per_s'] / one['points_per_s']:.2f}x); start-up "
              f"{two['startup_s']:.1f} s; worker CPU s per million points {one['worker_cpu_s_per_mpoint']:.2f} "
              f"(1 worker), {two['worker_cpu_s_per_mpoint']:.2f} ({args.workers}); driver CPU "
              f"{one['driver_cpu_s']:.1f} s, {two['driver_cpu_s']:.1f} s; Ray's daemons "
              f"{one['ray_daemons_cpu_s']:.1f} s, {two['ray_daemons_cpu_s']:.1f} s", flush=True)
    if args.only in (None, "large"):
        m = args.metrics.split(",") if args.metrics else None
        f = args.filter.split(",") if args.filter else None
        n = load_spec(spec(args.points, m, f)).points
        print(f"large run: {n:,} points on {args.workers} workers ...", flush=True)
        big = store_run(args.points, root / "large", args.workers, True, m, f)
        result["large"] = big
        print(f"large run: {big['points']:,} points in {big['seconds']:,.0f} s ({big['points_per_s']:,.0f} points/s "
              f"once started), peak memory per worker {big['peak_rss_bytes'] / 2**30:.2f} GiB (driver "
              f"{big['driver_peak_rss_bytes'] / 2**30:.2f} GiB), "
              f"{big['rows']:,} rows stored in {big['store_bytes'] / 1e9:.2f} GB", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1, default=lambda o: float(o) if math.isfinite(o) else None))
    if not args.out:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
