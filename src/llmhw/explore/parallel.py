"""Tasks on Ray, for sweeps and searches too big for one process (docs/scale.md): a local Ray
instance or a cluster joined for the run, and a bounded stream of tasks over it.

Ray is optional (the ``[ray]`` extra); :func:`ray_module` says whether it is there. A task whose
worker dies (out of memory, a node lost) runs again elsewhere, up to ``MAX_RETRIES`` times; an
error raised inside a task (a bad input, a bug) comes back as itself, not wrapped.
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from llmhw.core.errors import LlmhwError, clip

# Times Ray runs a task again after its worker died (a machine lost, the OOM killer).
MAX_RETRIES = 3
# Tasks in flight per worker: one running, one queued, so a worker never waits on the driver and
# the driver never holds more than two results per worker.
IN_FLIGHT_PER_WORKER = 2
ADDRESSES = "auto (the cluster this machine belongs to), HOST:PORT (its head's GCS) or ray://HOST:PORT (Ray Client)"
# Seconds to wait for a cluster's head to answer before saying it cannot be reached (Ray itself
# retries for minutes).
CONNECT_S = 5.0


class MissingExtra(RuntimeError):
    """An optional dependency is not installed: the message names the extra that brings it."""


class TaskFailed(RuntimeError):
    """A task whose worker died on every try."""


def require(module: str, extra: str = "sweep") -> Any:
    """Import an optional dependency, or say in one line which extra installs it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        what = {"sweep": "pyarrow and duckdb", "ray": "ray"}[extra]
        raise MissingExtra(f"this needs {what} ({module} is not installed): pip install 'llmhw[{extra}]'") from None


def ray_module(use_ray: bool | None, address: str | None) -> Any:
    """The ray module, or None to run in this process: ``use_ray`` False forces this process,
    True (or an ``address``) requires Ray, None takes it when installed."""
    if use_ray is False:
        if address:
            raise LlmhwError("a cluster address needs Ray", field="--address", accepted="no --address with --workers 0")
        return None
    try:
        import ray
    except ImportError:
        if address or use_ray:
            require("ray", "ray")      # raises MissingExtra naming the extra
        return None
    return ray


def check_reachable(address: str) -> None:
    """Refuse at once an address that is malformed or whose head does not answer."""
    if address == "auto":
        return
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise LlmhwError(f"malformed address '{clip(address, 200)}'", field="--address", accepted=ADDRESSES)
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_S).close()
    except OSError as exc:
        raise LlmhwError(f"nothing answers at {clip(address, 200)} ({exc.strerror or exc})", field="--address",
                         accepted=ADDRESSES) from None


@contextlib.contextmanager
def session(ray: Any, workers: int | None, address: str | None) -> Iterator[int]:
    """Ray started (a local instance of ``workers`` processes, default every core) or joined (a
    cluster) for the run, and the workers it gives; nothing to start in-process (one worker). A
    Ray the caller already started is used as it is."""
    if ray is None:
        yield 1
        return
    import logging

    started = False
    if address:
        check_reachable(address)
    if not ray.is_initialized():
        kw: dict[str, Any] = {"include_dashboard": False, "logging_level": logging.ERROR, "log_to_driver": False}
        if address:
            try:
                ray.init(address=address, **kw)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise LlmhwError(f"cannot join the Ray cluster at '{clip(address, 200)}': {clip(str(exc), 300)}",
                                 field="--address", accepted=ADDRESSES) from None
        else:
            ray.init(num_cpus=workers or os.cpu_count() or 1, **kw)
        started = True
    try:
        n = max(1, int(ray.cluster_resources().get("CPU", 1)))
        yield min(n, workers) if workers and not address else n
    finally:
        if started:
            ray.shutdown()


def ray_map(ray: Any, fn: Callable[..., Any], shared: Any, items: Sequence[Any], n_workers: int,
            log: Callable[[str], None] = lambda s: None) -> Iterator[tuple[int, Any]]:
    """``fn(shared, item)`` for every item as Ray tasks (``shared`` sent once), at most
    IN_FLIGHT_PER_WORKER per worker in flight; yields (item's index, result) as they finish, and
    (index, TaskFailed) for an item whose worker died on every try."""
    task = ray.remote(num_cpus=1, max_retries=MAX_RETRIES, retry_exceptions=False)(fn)
    ref = ray.put(shared)
    pending: dict[Any, int] = {}
    queue = list(reversed(range(len(items))))
    while queue or pending:
        while queue and len(pending) < IN_FLIGHT_PER_WORKER * n_workers:
            i = queue.pop()
            pending[task.remote(ref, items[i])] = i
        ready, _ = ray.wait(list(pending), num_returns=1)
        for r in ready:
            i = pending.pop(r)
            try:
                result = ray.get(r)
            except ray.exceptions.RayTaskError as exc:
                cause = getattr(exc, "cause", None)
                if isinstance(cause, Exception):
                    raise cause from None        # the task's own error, not Ray's wrapper
                raise
            except (ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError,
                    ray.exceptions.ObjectLostError) as exc:
                log(f"task {i} failed after {MAX_RETRIES} retries: {clip(str(exc), 200)}")
                yield i, TaskFailed(clip(str(exc), 300))
                continue
            yield i, result
