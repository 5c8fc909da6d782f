"""The README's counts are the package's: checked, not remembered (issue 14 found them stale)."""

import csv
import re
from importlib import resources
from pathlib import Path

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _count(pattern: str) -> int:
    m = re.search(pattern, README)
    assert m, f"README no longer says {pattern!r}"
    return int(m.group(1))


def test_model_count():
    from llmhw.workload.catalog import model_ids

    assert _count(r"(\d+) shipped Hugging Face configs") == len(model_ids())


def test_measurement_counts():
    from llmhw.validation.cases import flagged, load_cases
    from llmhw.validation.open_loop import load_open_loop_cases

    with resources.files("llmhw.validation").joinpath("measurements.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert _count(r"(\d+) published measurements") == len(rows)
    cases, _ = load_cases()
    flags = flagged()
    assert _count(r"of which (\d+) are scored") == len([c for c in cases if c.row not in flags])
    open_cases, _ = load_open_loop_cases()
    assert _count(r"and (\d+) with the open-loop simulator") == len({c.row for c in open_cases})
