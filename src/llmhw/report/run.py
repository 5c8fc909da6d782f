"""Run studies by name, each in its own process when there are several, and hand the results to
:mod:`llmhw.report.build` to write. A study that raises becomes an error section of the report.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmhw.report.build import ReportPaths, StudyFailure, WrittenStudy, assemble, write_study
from llmhw.report.output import check_output
from llmhw.studies import STUDY_ORDER
from llmhw.studies.base import Study

_NOT_STUDIES = frozenset({"base"})


def available_studies() -> list[str]:
    """Modules of ``llmhw.studies`` that define ``run``, in the report's order. A module that
    fails to import is listed too, so that its error shows in the report instead of vanishing."""
    import importlib
    import pkgutil

    import llmhw.studies as pkg

    found = []
    for m in pkgutil.iter_modules(pkg.__path__):
        if m.name.startswith("_") or m.name in _NOT_STUDIES:
            continue
        try:
            mod = importlib.import_module(f"llmhw.studies.{m.name}")
        except Exception:
            found.append(m.name)
            continue
        if callable(getattr(mod, "run", None)):
            found.append(m.name)
    order = {n: k for k, n in enumerate(STUDY_ORDER)}
    return sorted(found, key=lambda n: (order.get(n, len(order)), n))


def resolve(names: str | Sequence[str]) -> list[str]:
    """``"all"`` -> every available study; otherwise check each name exists."""
    from llmhw.core.errors import LlmhwError

    wanted = [names] if isinstance(names, str) else list(names)
    avail = available_studies()
    if wanted == ["all"]:
        return avail
    out = []
    for n in wanted:
        if n not in avail:
            raise LlmhwError(f"no study named '{n}'", field="study", accepted=", ".join(["all", *avail]))
        out.append(n)
    return out


def run_one(name: str) -> Study | StudyFailure:
    """Import ``llmhw.studies.<name>`` and call its ``run()``; an exception becomes a failure."""
    import importlib

    from llmhw.studies import style

    try:
        # Every study draws in the report's one style (fonts, palette, resolution), whether it
        # runs alone or after others, and whether it makes its figures through style.figure.
        style.apply()
        mod = importlib.import_module(f"llmhw.studies.{name}")
        fn = getattr(mod, "run", None)
        if not callable(fn):
            return StudyFailure(name, f"llmhw.studies.{name} has no run() function")
        res = fn()
        if not isinstance(res, Study):
            return StudyFailure(name, f"llmhw.studies.{name}.run() returned {type(res).__name__}, not a Study")
        return res
    except Exception as exc:
        return StudyFailure(name, f"{type(exc).__name__}: {exc}", traceback.format_exc())


@dataclass
class RunResult:
    paths: ReportPaths
    studies: list[Study]                   # in the order run (matplotlib figures dropped)
    failures: list[StudyFailure]
    seconds: dict[str, float]              # per study name (run and files), and "(render)"
    outcome: dict[str, str] = field(default_factory=dict)   # study name -> "ok" or "failed"

    @property
    def ok(self) -> bool:
        return not self.failures


def _run_and_write(name: str, out_dir: str) -> tuple[str, WrittenStudy | StudyFailure, float]:
    """Worker: run one study and write its files (in a child process when run in parallel)."""
    import os

    os.environ.setdefault("MPLBACKEND", "Agg")   # studies that use pyplot draw off-screen
    t0 = time.perf_counter()
    res = run_one(name)
    if isinstance(res, Study):
        try:
            res = write_study(res, out_dir)
        except Exception as exc:
            res = StudyFailure(name, f"writing its files: {type(exc).__name__}: {exc}", traceback.format_exc())
    return name, res, time.perf_counter() - t0


def _workers(n_studies: int, workers: int | None) -> int:
    import os

    if workers is not None:
        return max(0, workers)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    # A child process costs about a second of imports: only worth it for several studies.
    return min(cpus, n_studies) if n_studies >= 3 and cpus > 1 else 0


def run_studies(names: str | Sequence[str], out_dir: str | Path, progress: bool = True,
                console: Any = None, workers: int | None = None) -> RunResult:
    """Run studies by name (``"all"`` for every one) and render the report to ``out_dir``.
    A study that raises becomes an error section; the others are still written. Several studies
    run in parallel processes (``workers``: default one per CPU for 3 or more studies; 0 runs
    them in this process)."""
    from contextlib import nullcontext

    todo = resolve(names)
    out = check_output(out_dir, "out_dir", folder=True)     # before the studies run, not after
    out.mkdir(parents=True, exist_ok=True)
    done: dict[str, WrittenStudy | StudyFailure] = {}
    seconds: dict[str, float] = {}
    n_workers = _workers(len(todo), workers)

    bar: Any = None
    if progress:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        bar = Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                       TimeElapsedColumn(), console=console or Console(stderr=True), transient=False)
    with bar if bar is not None else nullcontext():
        task = bar.add_task("studies", total=len(todo) + 1) if bar is not None else None

        def note(desc: str, advance: int = 0) -> None:
            if bar is not None:
                bar.update(task, description=desc, advance=advance)

        def record(name: str, res: WrittenStudy | StudyFailure, secs: float) -> None:
            done[name] = res
            seconds[name] = secs
            left = [n for n in todo if n not in done]
            note(f"study {', '.join(left)}" if left else "writing the report", 1)

        if n_workers:
            import multiprocessing as mp
            from concurrent.futures import ProcessPoolExecutor, as_completed

            note(f"study {', '.join(todo)} ({n_workers} processes)")
            with ProcessPoolExecutor(n_workers, mp_context=mp.get_context("spawn")) as pool:
                futs = {pool.submit(_run_and_write, n, str(out)): n for n in todo}
                for fut in as_completed(futs):
                    name = futs[fut]
                    try:
                        record(*fut.result())
                    except Exception as exc:        # the worker died (out of memory, a crash)
                        record(name, StudyFailure(name, f"{type(exc).__name__}: {exc}", traceback.format_exc()), 0.0)
        else:
            for name in todo:
                note(f"study {name}")
                record(*_run_and_write(name, str(out)))
        t0 = time.perf_counter()
        items = [done[n] for n in todo]
        paths = assemble(items, out, timings=seconds)
        seconds["(render)"] = time.perf_counter() - t0
        note("done", 1)
    studies = [r.study for r in items if isinstance(r, WrittenStudy)]
    failures = [r for r in items if isinstance(r, StudyFailure)]
    outcome = {n: ("failed" if isinstance(done[n], StudyFailure) else "ok") for n in todo}
    return RunResult(paths=paths, studies=studies, failures=failures, seconds=seconds, outcome=outcome)
