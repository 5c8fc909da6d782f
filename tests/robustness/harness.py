"""Running the command line on a bad input and checking how it refuses it.

Every bad input must end the same way (issue 13): exit code 2, exactly one line on stderr that
names the offending field (or option), no traceback, nothing half-printed on stdout, and an
answer in under two seconds (no hang, no alias bomb expanded). The command runs in-process
(``llmhw.cli.run``), so a case costs milliseconds, not an interpreter start.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from llmhw import cli

# The bound on any answer, good or bad.
ANSWER_S = 2.0
# The longest error line we accept: an error names a field and what is accepted, it never
# echoes a huge value back (a 34 MB error line was seen).
MAX_LINE = 2000


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str
    seconds: float


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> Outcome:
    capsys.readouterr()
    t0 = time.perf_counter()
    code = cli.run([str(a) for a in argv])
    dt = time.perf_counter() - t0
    o, e = capsys.readouterr()
    return Outcome(code, o, e, dt)


def assert_refused(res: Outcome, *names: str) -> str:
    """The input was refused the documented way; the error line names each of ``names``
    (case-insensitively). Returns the line."""
    assert "Traceback" not in res.stderr + res.stdout, res.stderr[-2000:]
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert res.code == 2, f"exit {res.code}, stderr: {res.stderr[:500]!r}, stdout: {res.stdout[:300]!r}"
    assert len(lines) == 1, f"{len(lines)} lines on stderr: {res.stderr[:1000]!r}"
    line = lines[0]
    assert line.startswith("error: "), line[:300]
    assert len(line) <= MAX_LINE, f"error line of {len(line)} characters"
    for n in names:
        assert n.lower() in line.lower(), f"{n!r} not named in: {line[:500]}"
    assert res.stdout.strip() == "", f"stdout on a refused input: {res.stdout[:300]!r}"
    assert res.seconds < ANSWER_S, f"answered in {res.seconds:.2f} s"
    return line


def assert_answered(res: Outcome) -> None:
    """A valid input: exit 0, no traceback, in time."""
    assert "Traceback" not in res.stderr + res.stdout, res.stderr[-2000:]
    assert res.code == 0, f"exit {res.code}: {res.stderr[:500]!r}"
    assert res.seconds < ANSWER_S, f"answered in {res.seconds:.2f} s"


def strict_json(text: str) -> object:
    """Parse ``text`` as strict JSON (NaN and Infinity are not JSON)."""

    def refuse(tok: str) -> object:
        raise AssertionError(f"non-finite number {tok} in --json output")

    return json.loads(text, parse_constant=refuse)


def write(tmp: Path, name: str, content: str | bytes) -> Path:
    p = tmp / name
    if isinstance(content, bytes):
        p.write_bytes(content)
    else:
        p.write_text(content, encoding="utf-8")
    return p
