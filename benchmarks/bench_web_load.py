"""The web explorer under load: concurrent sessions of scripted interactions against `llmhw serve`
on loopback.

Each session is a websocket client speaking Streamlit's own protocol, as a browser tab does: it
opens /_stcore/stream, asks for its page, learns the id of the control it will move, then, until
the time is up, sends a rerun carrying that control's new value and waits for the script's
"finished" message, reading every element the server sends on the way. An interaction's
response time is from sending the rerun to that message; an error is an exception or error
element on the page, a run that does not finish successfully, or a dropped connection.
Sessions alternate between the Predict page (moving the batch) and the What-if page (moving the
capacity of an added HBF tier, which changes the variant and its whole sweep).

First a warm-up and one session alone (the server-side time of an interaction, nothing else
running), then N sessions at once for the duration.

    python benchmarks/bench_web_load.py                      # 8 sessions, 60 s, its own server
    python benchmarks/bench_web_load.py --sessions 8 --seconds 60 --url http://127.0.0.1:8501

Needs Streamlit (`pip install 'llmhw[web]'`) and the `websockets` package (Streamlit's server
brings it).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import websockets
from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

ROOT = Path(__file__).resolve().parents[1]
# page url path -> (its query string, label of the control moved, kind of value, its k-th value).
# The values do not repeat within a run, so no interaction is answered from the server's cache of
# predictions; on What-if the control is the HBF tier's capacity (with HBF on), which changes the
# variant and every point of its sweep: the page's most expensive interaction.
SCRIPTS: dict[str, tuple[str, str, str, object]] = {
    "": ("", "requests in flight (batch)", "int", lambda k: 1 + (37 * k) % 1000),
    "what-if": ("hbf=1", "HBF capacity per chip (GB; 0 = one device)", "double", lambda k: 64.0 + (37.7 * k) % 4000.0),
}
WATCHED = "TPOT (ms)"       # the headline figure each interaction must move
FINISHED_OK = (ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY)


@dataclass
class Stats:
    times: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def add(self, page: str, seconds: float) -> None:
        self.times.setdefault(page or "predict", []).append(seconds)


def _rerun(page: str, widget: tuple[str, str, float] | None = None) -> bytes:
    msg = BackMsg()
    cs = msg.rerun_script
    cs.query_string = SCRIPTS[page][0]
    cs.page_name = page
    if widget is not None:
        wid, kind, value = widget
        w = cs.widget_states.widgets.add()
        w.id = wid
        if kind == "int":
            w.int_value = int(value)
        else:
            w.double_value = float(value)
    return msg.SerializeToString()


async def _until_finished(ws, label: str, shown: set[str] | None = None) -> tuple[str | None, list[str]]:
    """Read the run's messages up to its end: the id of the control labelled ``label`` (when
    sent) and the errors seen; the watched figure's values go into ``shown``."""
    wid, errors = None, []
    while True:
        fm = ForwardMsg()
        fm.ParseFromString(await ws.recv())
        kind = fm.WhichOneof("type")
        if kind == "delta" and fm.delta.WhichOneof("type") == "new_element":
            el = fm.delta.new_element
            et = el.WhichOneof("type")
            if et == "exception":
                errors.append(f"exception: {el.exception.message[:200]}")
            elif et == "alert" and el.alert.format == Alert.ERROR:
                errors.append(f"error: {el.alert.body[:200]}")
            elif et == "number_input" and el.number_input.label == label:
                wid = el.number_input.id
            elif et == "metric" and el.metric.label == WATCHED and shown is not None:
                shown.add(el.metric.body)
        elif kind == "page_not_found":
            errors.append("page not found")
        elif kind == "script_finished":
            if fm.script_finished not in FINISHED_OK:
                errors.append(f"script finished with status {fm.script_finished}")
            return wid, errors


async def session(url: str, page: str, until: float, stats: Stats, offset: int = 0, think: float = 0.0) -> None:
    """One tab: its page, then interactions until ``until``, ``think`` seconds apart (a person
    reading the answer before moving the control again)."""
    _, label, kind, value_of = SCRIPTS[page]
    shown: set[str] = set()
    ws_url = url.replace("http", "ws", 1) + "/_stcore/stream"
    try:
        async with websockets.connect(ws_url, subprotocols=["streamlit"], origin=url, max_size=None,
                                      open_timeout=60) as ws:
            await ws.send(_rerun(page))
            wid, errors = await _until_finished(ws, label)
            stats.errors += errors
            if wid is None:
                stats.errors.append(f"{page or 'predict'}: no control labelled {label!r}")
                return
            for k in itertools.count(1000 * offset):
                if time.monotonic() >= until:
                    break
                t0 = time.perf_counter()
                await ws.send(_rerun(page, (wid, kind, value_of(k))))
                _, errors = await _until_finished(ws, label, shown)
                stats.add(page, time.perf_counter() - t0)
                stats.errors += errors
                if think:
                    await asyncio.sleep(think)
            if len(shown) < 2:
                stats.errors.append(f"{page or 'predict'}: the interactions did not move {WATCHED}")
    except (OSError, websockets.WebSocketException) as exc:
        stats.errors.append(f"connection: {type(exc).__name__}: {exc}")


async def load(url: str, sessions: int, seconds: float, think: float = 0.0) -> Stats:
    stats = Stats()
    until = time.monotonic() + seconds
    pages = list(SCRIPTS)
    await asyncio.gather(*(session(url, pages[i % len(pages)], until, stats, offset=i, think=think)
                           for i in range(sessions)))
    return stats


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def summary(stats: Stats, seconds: float) -> dict:
    out: dict = {"errors": len(stats.errors), "error_samples": stats.errors[:5]}
    every = [t for ts in stats.times.values() for t in ts]
    for name, ts in [("all", every), *stats.times.items()]:
        if ts:
            out[name] = {"interactions": len(ts), "per_s": len(ts) / seconds, "p50_ms": 1e3 * statistics.median(ts),
                         "p95_ms": 1e3 * _pct(ts, 0.95), "p99_ms": 1e3 * _pct(ts, 0.99), "max_ms": 1e3 * max(ts)}
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server() -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, "-m", "llmhw", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                return proc, url
        except OSError:
            if proc.poll() is not None:
                sys.exit(f"llmhw serve exited with {proc.returncode}")
            time.sleep(0.1)
    proc.kill()
    sys.exit("llmhw serve did not start")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--alone-seconds", type=float, default=15.0, help="the single-session pass, per page")
    ap.add_argument("--think", type=float, default=0.0,
                    help="seconds each session waits after an answer before its next interaction (default 0: "
                         "back to back, the worst case)")
    ap.add_argument("--url", help="a running server (default: start `llmhw serve` on a free port)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    proc, url = (None, args.url.rstrip("/")) if args.url else start_server()
    try:
        asyncio.run(load(url, len(SCRIPTS), 5.0))          # warm-up: imports, first runs of each page
        alone = Stats()
        for page in SCRIPTS:                               # one session, nothing else running
            part = asyncio.run(load_one(url, page, args.alone_seconds))
            alone.times.update(part.times)
            alone.errors += part.errors
        loaded = asyncio.run(load(url, args.sessions, args.seconds, args.think))
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
    # The machine's load average as the run ends: on a shared machine, what else was running.
    res = {"sessions": args.sessions, "seconds": args.seconds, "think_s": args.think, "cpus": os.cpu_count(),
           "load_average_1min": os.getloadavg()[0],
           "alone": summary(alone, args.alone_seconds), "loaded": summary(loaded, args.seconds)}
    if args.json:
        print(json.dumps(res, indent=2))
        return
    print(f"{res['cpus']} CPUs, load average {res['load_average_1min']:.1f} at the end")
    for name in ("alone", "loaded"):
        r = res[name]
        head = "1 session" if name == "alone" else f"{args.sessions} sessions, {args.seconds:g} s, think {args.think:g} s"
        print(f"{head}: {r['errors']} errors {r['error_samples'] if r['errors'] else ''}")
        for page, s in r.items():
            if isinstance(s, dict):
                print(f"  {page:8s} {s['interactions']:5d} interactions ({s['per_s']:.1f}/s)  p50 {s['p50_ms']:.0f} ms  "
                      f"p95 {s['p95_ms']:.0f} ms  p99 {s['p99_ms']:.0f} ms  max {s['max_ms']:.0f} ms")


async def load_one(url: str, page: str, seconds: float) -> Stats:
    stats = Stats()
    await session(url, page, time.monotonic() + seconds, stats)
    return stats


if __name__ == "__main__":
    main()
