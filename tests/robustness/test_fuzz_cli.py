"""Fuzzing the command line itself: random commands, options and values (paths that exist or do
not, folders, devices, markup, NaN, huge and empty strings). Whatever the argv, llmhw exits 0, 1
or 2 with no traceback; a refusal is one line; nothing is an internal error."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.robustness.harness import run_cli

SCENARIO = "model: llama-3.1-8b\nhardware: h100-sxm\nn_chips: 1\nworkload: {input_tokens: 128, output_tokens: 16, batch: 2}\n"
LINE = '{"model": "llama-3.1-8b", "hardware": "h100-sxm", "workload": {"input_tokens": 8, "output_tokens": 4}}\n'

# validate, study, search and simulate take seconds when they run: they are drawn only with an
# argument that ends them at once (a usage error, or a help flag).
FAST = ["predict", "fit", "show", "hardware", "models", "whatif", "nonsense", ""]
SLOW = ["validate", "study", "search", "simulate"]
OPTIONS = ["--json", "--batch", "--vary", "--slo", "--rate", "--requests", "--seed", "--top", "--objective",
           "--out", "--markdown", "--", "-", "--no-progress"]
VALUES = ["s.yaml", "b.jsonl", "missing.yaml", "/dev/null", ".", "", "[/b]", "nan", "-1", "0", "1e400",
          "tpot_s<=0.05", "chip.tdp_w=1,2", "chip.tdp_w=nan", "llama-3.1-8b", "h100-sxm", "workload.batch=1..4:lin:3",
          "é", "a" * 3000, "1"]


@settings(max_examples=100, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.one_of(
    st.tuples(st.sampled_from(FAST), st.lists(st.sampled_from(OPTIONS + VALUES), max_size=4)),
    # An unknown option first: click refuses it before any later option could start the work
    # (`validate --markdown FILE` would run the whole validation).
    st.tuples(st.sampled_from(SLOW), st.lists(st.sampled_from(OPTIONS + VALUES), max_size=3)
              .map(lambda a: ["--bogus", *a])),
))
def test_any_argv_ends_in_a_defined_way(capsys, tmp_path_factory, args):
    folder = tmp_path_factory.getbasetemp() / "cli-fuzz"
    folder.mkdir(exist_ok=True)
    (folder / "s.yaml").write_text(SCENARIO)
    (folder / "b.jsonl").write_text(LINE + "[1]\n" + LINE)
    cmd, rest = args
    argv = [cmd, *rest] if cmd else rest
    argv = [str(folder / a) if a in ("s.yaml", "b.jsonl", "missing.yaml") else a for a in argv]
    res = run_cli(capsys, *argv)
    assert "Traceback" not in res.stderr + res.stdout
    assert "internal error" not in res.stderr + res.stdout, res.stderr[:500]
    assert res.code in (0, 1, 2), res.code
    if res.code == 2:
        assert len([ln for ln in res.stderr.splitlines() if ln.strip()]) == 1, res.stderr[:500]
