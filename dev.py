#!/usr/bin/env python3
"""Set up a virtual environment and run llmhw's main job or its tests.

    python3 dev.py demo    # the main job: the paper's studies as a report in out/report/
    python3 dev.py test    # lint and the whole test suite

Needs only Python 3.11+ (with its standard venv module) and the package index.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".llmhw-installed"


def sh(*cmd: str | Path) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    rc = subprocess.call([str(c) for c in cmd], cwd=ROOT)
    if rc:
        sys.exit(rc)


def setup() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py must speak to older Pythons too
        sys.exit(f"llmhw needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    want = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == want and PY.exists():
        return
    if not PY.exists():
        print(f"+ creating {VENV.name}", flush=True)
        try:
            venv.create(VENV, with_pip=True)
        except Exception as exc:  # Debian's python3 without python3-venv has no ensurepip
            sys.exit(f"could not create a virtual environment ({exc}); install your Python's venv module")
    sh(PY, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    sh(PY, "-m", "pip", "install", "--quiet", "-e", ".[test]")
    STAMP.write_text(want)


def demo() -> None:
    """The main job: the paper's studies as a report, then the validation summary."""
    llmhw = BIN / "llmhw"
    sh(llmhw, "study", "all", "--out", "out/report")
    sh(llmhw, "validate")
    sh(llmhw, "predict", "examples/llama70b-h100x8.yaml")
    print(f"\nreport: {ROOT / 'out' / 'report' / 'index.html'}")


def test() -> None:
    sh(BIN / "ruff", "check", "src", "tests", "dev.py")
    sh(PY, "-m", "pytest")


def main() -> None:
    tasks = {"demo": demo, "test": test, "setup": lambda: None}
    if len(sys.argv) != 2 or sys.argv[1] not in tasks:
        sys.exit(f"usage: python3 dev.py {{{'|'.join(tasks)}}}")
    setup()
    tasks[sys.argv[1]]()


if __name__ == "__main__":
    main()
