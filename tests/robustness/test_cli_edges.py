"""The command line's edges (issue 13): user text with rich markup, output paths that cannot be
written, input paths that are folders, strict JSON, one bad line in a --batch file, relative paths
inside a JSONL file, and the exit codes (docs/cli.md)."""

from __future__ import annotations

import errno
import json
import math
import os
import sys
from pathlib import Path

import pytest
import yaml
from tests.robustness.harness import (
    MAX_LINE,
    assert_answered,
    assert_refused,
    run_cli,
    strict_json,
    write,
)

import llmhw.api
from llmhw import cli

SMALL = {"model": "llama-3.2-1b", "hardware": "h100-sxm", "n_chips": 1,
         "workload": {"input_tokens": 128, "output_tokens": 16, "batch": 1}}
ROOT = Path(__file__).resolve().parents[2]
AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


@pytest.fixture(scope="module", autouse=True)
def _catalogs_loaded():
    """The catalogs are read once per process; the 2-second bound is on answering, not on that."""
    llmhw.api.predict(SMALL)


def chip_spec(name: str, tiers: tuple[str, ...] = ("hbm3e",)) -> dict:
    """A user's chip YAML (docs/catalog.md) whose id, name and memory tier ids are ``name``."""
    memory = [{"tech": t, "id": f"{name} {i}", "capacity_bytes": {"value": 96, "unit": "GB"},
               "bandwidth_bytes_per_s": {"value": 4 if i == 0 else 1, "unit": "TB/s"}} for i, t in enumerate(tiers)]
    return {"kind": "chip", "id": name, "name": name, "family": "custom", "peak_flops": {"bf16": 1.0e15},
            "memory": memory}


def one_line_failure(res, *names: str) -> str:
    """Not the input's fault: exit 1, one error line naming ``names``, no traceback."""
    assert "Traceback" not in res.stderr + res.stdout, res.stderr[-2000:]
    assert res.code == 1, f"exit {res.code}: {res.stderr[:500]!r}"
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr[:1000]
    for n in names:
        assert n.lower() in lines[0].lower(), lines[0]
    return lines[0]


def lines_of(text: str) -> list[dict]:
    return [strict_json(ln) for ln in text.splitlines()]


# -- rich markup in user text -------------------------------------------------------------------

NAMES = ["Accel [v2]", "[/b]", "[bold]x[/bold]", "tpu [red]", "chip\\", "x:smile:y"]


@pytest.mark.parametrize("name", NAMES)
def test_a_hardware_name_is_printed_as_written(capsys, tmp_path, name):
    spec = write(tmp_path, "chip.yaml", yaml.safe_dump(chip_spec(name)))
    scen = write(tmp_path, "s.yaml", yaml.safe_dump({**SMALL, "hardware": spec.name}))
    for argv in (["fit"], ["predict"], ["whatif", "--vary", "chip.tdp_w=500,700"], ["search", "--slo", "tpot_s<=0.05"]):
        res = run_cli(capsys, argv[0], scen, *argv[1:])
        assert_answered(res)
        assert name in res.stdout, (argv, res.stdout[:500])


def test_memory_tier_names_are_printed_as_written(capsys, tmp_path):
    name = "[/b] tier [v2]"
    write(tmp_path, "chip.yaml", yaml.safe_dump(chip_spec(name, ("hbm3e", "hbf"))))
    scen = write(tmp_path, "s.yaml", yaml.safe_dump({**SMALL, "hardware": "chip.yaml"}))
    res = run_cli(capsys, "predict", scen)
    assert_answered(res)
    assert f"{name} 0" in res.stdout and f"{name} 1" in res.stdout, res.stdout[-1500:]


def test_a_config_json_folder_with_brackets(capsys, tmp_path):
    folder = tmp_path / "Llama [v2] [bold]x"
    folder.mkdir()
    (folder / "config.json").write_text((ROOT / "src/llmhw/workload/catalog/models/llama-3.2-1b.json").read_text())
    res = run_cli(capsys, "show", folder / "config.json")
    assert_answered(res)
    assert "Llama [v2] [bold]x" in res.stdout
    scen = write(tmp_path, "s.yaml", yaml.safe_dump({**SMALL, "model": "Llama [v2] [bold]x/config.json"}))
    res = run_cli(capsys, "whatif", scen, "--vary", "chip.memory[0].bandwidth_bytes_per_s=3e12,4e12")
    assert_answered(res)
    assert "Llama [v2] [bold]x" in res.stdout
    # The varied path is a column header, printed as typed.
    assert "chip.memory[0].bandwidth_bytes_per_s" in res.stdout


@pytest.mark.parametrize("path", ["[/b]", "chip.[red]x"])
def test_markup_in_a_vary_path(capsys, tmp_path, path):
    scen = write(tmp_path, "s.yaml", yaml.safe_dump(SMALL))
    line = assert_refused(run_cli(capsys, "whatif", scen, "--vary", f"{path}=1,2"), path)
    assert path in line


@pytest.mark.parametrize("name", ["[/b]", "Accel [v2]"])
def test_markup_in_an_error_line(capsys, tmp_path, name):
    scen = write(tmp_path, "s.yaml", yaml.safe_dump({**SMALL, "model": name}))
    line = assert_refused(run_cli(capsys, "predict", scen), "model")
    assert name in line


# -- output paths: refused at once, naming the option -------------------------------------------

def test_study_out_naming_a_file(capsys, tmp_path):
    f = write(tmp_path, "taken", "x")
    assert_refused(run_cli(capsys, "study", "trends", "--out", f), "--out", "taken")
    assert f.read_text() == "x"


def test_study_out_under_a_file(capsys, tmp_path):
    f = write(tmp_path, "taken", "x")
    assert_refused(run_cli(capsys, "study", "trends", "--out", f / "report"), "--out")
    assert f.read_text() == "x"


@pytest.mark.skipif(AS_ROOT, reason="root may write in any folder")
def test_study_out_in_a_folder_nobody_may_write(capsys, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        assert_refused(run_cli(capsys, "study", "trends", "--out", ro / "report"), "--out", "permission")
    finally:
        ro.chmod(0o700)


def test_study_out_not_writable(capsys, tmp_path, monkeypatch):
    # The same refusal where the folder's permission cannot be taken away (running as root).
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: not mode & os.W_OK)
    assert_refused(run_cli(capsys, "study", "trends", "--out", tmp_path / "report"), "--out", "permission")
    assert not (tmp_path / "report").exists()


def test_validate_markdown_naming_a_folder(capsys, tmp_path):
    # Refused before the twenty seconds of validation (assert_refused bounds the answer at 2 s).
    assert_refused(run_cli(capsys, "validate", "--markdown", tmp_path), "--markdown", "folder")


def test_validate_markdown_under_a_file(capsys, tmp_path):
    f = write(tmp_path, "taken", "x")
    assert_refused(run_cli(capsys, "validate", "--markdown", f / "v.md"), "--markdown")


@pytest.mark.skipif(AS_ROOT, reason="root may write any file")
def test_validate_markdown_read_only_file(capsys, tmp_path):
    f = write(tmp_path, "v.md", "old")
    f.chmod(0o400)
    assert_refused(run_cli(capsys, "validate", "--markdown", f), "--markdown", "permission")


def test_validate_markdown_not_writable(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: not mode & os.W_OK)
    assert_refused(run_cli(capsys, "validate", "--markdown", tmp_path / "v.md"), "--markdown", "permission")


# -- input paths that are folders ---------------------------------------------------------------

@pytest.mark.parametrize("argv, field", [
    (["fit", "{d}"], "scenario"),
    (["predict", "{d}"], "scenario"),
    (["whatif", "{d}", "--vary", "workload.batch=1,2"], "scenario"),
    (["search", "{d}"], "scenario"),
    (["simulate", "{d}", "--rate", "1"], "scenario"),
    (["predict", "--batch", "{d}"], "--batch"),
    (["simulate", "--batch", "{d}"], "--batch"),
])
def test_an_input_path_that_is_a_folder(capsys, tmp_path, argv, field):
    res = run_cli(capsys, *(a.format(d=tmp_path) for a in argv))
    assert_refused(res, field, "folder")


def test_a_missing_batch_file(capsys, tmp_path):
    assert_refused(run_cli(capsys, "predict", "--batch", tmp_path / "none.jsonl"), "--batch", "no such file")


# -- failures that are not the input's fault: exit 1, one line -----------------------------------

class _Full:
    """A stdout on a full disk (or one whose reader has gone)."""

    def __init__(self, exc: OSError):
        self.exc = exc

    def write(self, text: str) -> int:
        raise self.exc

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def test_a_full_disk_under_stdout(capsys, tmp_path, monkeypatch):
    scen = write(tmp_path, "s.yaml", yaml.safe_dump(SMALL))
    monkeypatch.setattr(sys, "stdout", _Full(OSError(errno.ENOSPC, "No space left on device")))
    code = cli.run(["predict", str(scen), "--json"])
    monkeypatch.undo()
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    assert [ln for ln in err.splitlines() if ln.strip()] == ["error: No space left on device"]


def test_a_broken_pipe_is_quiet(capsys, tmp_path, monkeypatch):
    scen = write(tmp_path, "s.yaml", yaml.safe_dump(SMALL))
    monkeypatch.setattr(sys, "stdout", _Full(BrokenPipeError(errno.EPIPE, "Broken pipe")))
    code = cli.run(["predict", str(scen), "--json"])
    monkeypatch.undo()
    assert code == 1
    assert capsys.readouterr().err == ""


def test_an_io_error_while_the_report_is_written(capsys, tmp_path, monkeypatch):
    def disk_fails(*a, **k):
        raise OSError(errno.EIO, "Input/output error", str(tmp_path / "report" / "index.html"))

    monkeypatch.setattr("llmhw.report.run_studies", disk_fails)
    res = run_cli(capsys, "study", "trends", "--out", tmp_path / "report")
    one_line_failure(res, "index.html", "input/output error")


def test_ctrl_c_is_one_line_and_130(capsys, tmp_path, monkeypatch):
    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(llmhw.api, "predict", interrupted)
    res = run_cli(capsys, "predict", write(tmp_path, "s.yaml", yaml.safe_dump(SMALL)))
    assert res.code == 130 and "Traceback" not in res.stderr
    assert [ln for ln in res.stderr.splitlines() if ln.strip()] == ["error: interrupted"]


def test_a_bug_is_one_line_and_exit_1(capsys, tmp_path, monkeypatch):
    def bug(*a, **k):
        return 1 / 0

    monkeypatch.setattr(llmhw.api, "predict", bug)
    res = run_cli(capsys, "predict", write(tmp_path, "s.yaml", yaml.safe_dump(SMALL)))
    one_line_failure(res, "internal error", "ZeroDivisionError")


# -- strict JSON --------------------------------------------------------------------------------

@pytest.mark.parametrize("obj, where", [
    ({"a": 1.0, "b": {"c": [1.0, 2.0, float("nan")]}}, "b.c[2]"),
    ([{"x": 1}, {"x": float("-inf")}], "[1].x"),
    ({"ok": [1, 2.5, None, "nan", True]}, None),
    (float("inf"), "(value)"),
    ({"t": (1.0, math.inf)}, "t[1]"),
])
def test_the_first_non_finite_key_path(obj, where):
    assert cli.non_finite_path(obj) == where


def _poison(monkeypatch, key: str, when=lambda d: True):
    """Predictions whose ``key`` is NaN (a stand-in for any bug that lets one through)."""
    real = llmhw.api.Prediction.to_dict

    def to_dict(self):
        d = real(self)
        if when(d):
            d[key] = math.nan
        return d

    monkeypatch.setattr(llmhw.api.Prediction, "to_dict", to_dict)


def test_a_nan_never_reaches_json_output(capsys, tmp_path, monkeypatch):
    scen = write(tmp_path, "s.yaml", yaml.safe_dump(SMALL))
    assert_answered(res := run_cli(capsys, "predict", scen, "--json"))
    assert strict_json(res.stdout)["n_chips"] == 1
    _poison(monkeypatch, "tpot_s")
    res = run_cli(capsys, "predict", scen, "--json")
    one_line_failure(res, "internal error: non-finite value at tpot_s")
    assert res.stdout == ""


# -- --batch: every line answered, in order ------------------------------------------------------

def test_predict_batch_isolates_each_bad_line(capsys, tmp_path, monkeypatch):
    real_predict = llmhw.api.predict

    def predict(s):           # a bad value that slips past the checks and raises (a bug)
        if s.workload.input_tokens == 77:
            raise TypeError("unsupported operand type(s)")
        return real_predict(s)

    monkeypatch.setattr(llmhw.api, "predict", predict)
    good = json.dumps(SMALL)
    rows = [
        good,                                                      # 1
        "{not json",                                               # 2
        "[1, 2, 3]",                                               # 3: not a mapping
        "[" * 100_000 + "]" * 100_000,                             # 4: nested too deeply
        '{"model": "llama-3.2-1b", "n_chips": NaN}',               # 5: NaN is not JSON
        json.dumps({**SMALL, "colour": "red"}),                    # 6: unknown field
        "",                                                        # 7: blank, skipped
        json.dumps({**SMALL, "workload": {**SMALL["workload"], "input_tokens": 77}}),   # 8: a bug
        json.dumps({**SMALL, "model": "x" * 100_000}),             # 9: a huge value, not echoed whole
        good,                                                      # 10
    ]
    f = write(tmp_path, "runs.jsonl", "\n".join(rows) + "\n")
    res = run_cli(capsys, "predict", "--batch", f, "--json")
    assert "Traceback" not in res.stderr + res.stdout
    out = lines_of(res.stdout)
    assert len(out) == 9
    assert out[0]["n_chips"] == 1 and out[-1]["n_chips"] == 1 and out[0]["tpot_s"] == out[-1]["tpot_s"]
    errors = {e["error"]["line"]: e["error"] for e in out[1:-1]}
    assert sorted(errors) == [2, 3, 4, 5, 6, 8, 9]
    assert errors[2]["field"] == "line 2" and "malformed JSON" in errors[2]["message"]
    assert errors[3]["field"] == "line 3" and "array" in errors[3]["message"]
    assert errors[4]["field"] == "line 4" and "nested" in errors[4]["message"]
    assert errors[5]["field"] == "line 5" and "NaN" in errors[5]["message"]
    assert errors[6]["field"] == "colour"
    assert errors[8]["field"] is None and errors[8]["message"].startswith("internal error (TypeError)")
    assert errors[9]["field"] in ("model", "line 9") and len(errors[9]["message"]) <= MAX_LINE
    assert "internal" not in errors[9]["message"]
    # A line that hit a bug makes the run's exit code 1, with one line saying which.
    one_line_failure(res, "--batch", "line 8")


def test_predict_batch_of_refused_lines_exits_0(capsys, tmp_path):
    # A refused line's error object is its answer: the run itself succeeded.
    f = write(tmp_path, "runs.jsonl", json.dumps(SMALL) + "\n" + json.dumps({**SMALL, "n_chips": -1}) + "\n")
    res = run_cli(capsys, "predict", "--batch", f, "--json")
    assert_answered(res)
    first, second = lines_of(res.stdout)
    assert first["ttft_s"] > 0 and second["error"]["field"] == "n_chips"


def test_a_non_finite_result_is_that_lines_error(capsys, tmp_path, monkeypatch):
    _poison(monkeypatch, "ttft_s", when=lambda d: d["batch"] == 2)
    rows = [json.dumps({**SMALL, "workload": {**SMALL["workload"], "batch": b}}) for b in (1, 2, 4)]
    res = run_cli(capsys, "predict", "--batch", write(tmp_path, "runs.jsonl", "\n".join(rows)), "--json")
    a, b, c = lines_of(res.stdout)
    assert a["batch"] == 1 and c["batch"] == 4
    assert b["error"] == {"line": 2, "field": "ttft_s", "message": "internal error: non-finite value at ttft_s"}
    one_line_failure(res, "line 2")


def test_relative_paths_in_a_jsonl_file_are_read_from_its_folder(capsys, tmp_path, monkeypatch):
    data = tmp_path / "data"
    (data / "cfg").mkdir(parents=True)
    (data / "cfg" / "config.json").write_text(
        (ROOT / "src/llmhw/workload/catalog/models/llama-3.2-1b.json").read_text())
    write(data, "my_chip.yaml", yaml.safe_dump(chip_spec("my-chip")))
    f = write(data, "runs.jsonl", json.dumps({**SMALL, "model": "./cfg/config.json", "hardware": "my_chip.yaml"}))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    res = run_cli(capsys, "predict", "--batch", os.path.relpath(f, elsewhere), "--json")
    assert_answered(res)
    [row] = lines_of(res.stdout)
    assert row["chip"] == "my-chip" and row["model"] == "cfg"


def test_a_trace_path_in_a_jsonl_file_is_read_from_its_folder(capsys, tmp_path, monkeypatch):
    data = tmp_path / "data"
    data.mkdir()
    write(data, "trace.csv", "arrival_s,input_tokens,output_tokens\n" + "".join(f"{i * 0.5},100,8\n" for i in range(12)))
    w = {**SMALL["workload"], "arrival": {"process": "trace", "path": "trace.csv"}}
    write(data, "runs.jsonl", json.dumps({**SMALL, "workload": w}) + "\n" + json.dumps(SMALL) + "\n")
    monkeypatch.chdir(tmp_path)
    res = run_cli(capsys, "simulate", "--batch", "data/runs.jsonl", "--requests", "12", "--json")
    assert_answered(res)
    traced, no_arrival = lines_of(res.stdout)
    assert traced["completed"] == 12
    assert no_arrival["error"]["field"] == "rate_per_s" and no_arrival["error"]["line"] == 2


def test_a_huge_key_in_a_batch_line_is_not_echoed_whole(capsys, tmp_path):
    f = write(tmp_path, "runs.jsonl", json.dumps({**SMALL, "k" * 100_000: 1}) + "\n" + json.dumps(SMALL) + "\n")
    res = run_cli(capsys, "predict", "--batch", f, "--json")
    assert_answered(res)
    bad, good = lines_of(res.stdout)
    assert len(json.dumps(bad)) <= MAX_LINE and bad["error"]["line"] == 1
    assert good["n_chips"] == 1


def test_an_unreadable_scenario(capsys, tmp_path, monkeypatch):
    scen = write(tmp_path, "s.yaml", yaml.safe_dump(SMALL))
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: not mode & os.R_OK)
    assert_refused(run_cli(capsys, "fit", scen), "scenario", "permission")


def test_a_path_too_long_inside_a_scenario(capsys, tmp_path):
    # The operating system refuses the name (a path the user gave): bad input, one short line.
    scen = write(tmp_path, "s.yaml", yaml.safe_dump({**SMALL, "hardware": "h" * 100_000 + ".yaml"}))
    assert_refused(run_cli(capsys, "predict", scen))
