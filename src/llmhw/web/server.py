"""Start the explorer: Streamlit's own server on a host and port, running ``app.py``."""

from __future__ import annotations

import errno
import importlib.util
import os
import socket
import sys
from pathlib import Path

from llmhw.core.errors import LlmhwError

APP = Path(__file__).with_name("app.py")
# Streamlit's settings for a local tool: no telemetry, no first-run prompt, no file watcher (the
# app is installed code, not a script being edited), errors shown as one line by the pages.
SETTINGS = ("--server.headless=true", "--browser.gatherUsageStats=false", "--server.fileWatcherType=none",
            "--server.runOnSave=false", "--client.toolbarMode=minimal", "--client.showErrorDetails=none")


def check_free(host: str, port: int) -> None:
    """Refuse, naming the option, a port outside 1-65535, a host that does not resolve, or a
    port already taken, before Streamlit starts (it would fail later with a longer story)."""
    if not 1 <= port <= 65535:
        raise LlmhwError(f"{port} is no TCP port", field="--port", accepted="1 to 65535")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise LlmhwError(f"cannot resolve host {host[:100]!r}", field="--host",
                         accepted="an address or name of this machine, e.g. 127.0.0.1 or 0.0.0.0") from None
    family, _, _, _, addr = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as s:
        try:
            s.bind(addr)
        except OSError as exc:
            if exc.errno == errno.EADDRNOTAVAIL:
                raise LlmhwError(f"{host[:100]} is not an address of this machine", field="--host",
                                 accepted="127.0.0.1, 0.0.0.0 or one of this machine's addresses") from None
            raise LlmhwError(f"cannot listen on {host}:{port} ({exc.strerror or exc})", field="--port",
                             accepted="a free port, e.g. --port 8502") from None


def command(host: str, port: int) -> list[str]:
    """The Streamlit command line that serves the explorer."""
    return [sys.executable, "-m", "streamlit", "run", str(APP), f"--server.address={host}",
            f"--server.port={port}", *SETTINGS]


def serve(host: str = "127.0.0.1", port: int = 8501) -> None:
    """Serve the explorer until interrupted: this process becomes Streamlit's server (so a signal
    that stops it stops the server, leaving no orphan). Without Streamlit installed, or with an
    address it cannot listen on, one line saying so, before anything starts."""
    if importlib.util.find_spec("streamlit") is None:
        raise LlmhwError("the web explorer needs Streamlit, which is not installed", field="serve",
                         accepted="pip install 'llmhw[web]'")
    check_free(host, port)
    argv = command(host, port)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(argv[0], argv)
