"""Usage errors: one line, exit 2 (not click's five-line box)."""

import pytest
from tests.robustness.harness import assert_refused, run_cli


@pytest.mark.parametrize("argv, names", [
    (["frobnicate"], ["frobnicate"]),
    (["predict", "--bogus"], ["--bogus"]),
    (["show"], ["model"]),
    (["simulate", "x.yaml", "--rate", "fast"], ["--rate"]),
    (["search", "x.yaml", "--top", "0"], ["--top"]),
])
def test_usage_error_is_one_line(capsys, argv, names):
    assert_refused(run_cli(capsys, *argv), *names)


@pytest.mark.parametrize("name", ["[/b]", "[/bold]", "Accel [v2]", "[red]x"])
def test_markup_in_a_name_is_printed_as_is(capsys, name):
    line = assert_refused(run_cli(capsys, "hardware", name), "hardware")
    assert name in line
