"""`llmhw simulate`'s own arguments: rates, request counts, seeds, concurrency and SLOs, each
refused on one line naming it (a billion requests once ran until memory ran out)."""

import pytest
from tests.robustness.harness import assert_refused, run_cli, write

BASE = "model: llama-3.1-8b\nhardware: h100-sxm\nn_chips: 1\nworkload: {input_tokens: 512, output_tokens: 64}\n"


@pytest.mark.parametrize("args, names", [
    (["--rate", "-1"], ["rate_per_s"]),
    (["--rate", "nan"], ["rate_per_s"]),
    (["--rate", "inf"], ["rate_per_s"]),
    (["--rate", "1e300"], ["rate_per_s", "out of range"]),
    (["--rate", "1e-300"], ["rate_per_s", "out of range"]),
    (["--rate", "0"], ["rate_per_s"]),
    (["--rate", "1", "--requests", "0"], ["requests"]),
    (["--rate", "1", "--requests", "9"], ["requests"]),
    (["--rate", "1", "--requests", "1000000000"], ["requests", "2,000,000"]),
    (["--rate", "1", "--requests", "50", "--seed", "-1"], ["seed"]),
    (["--rate", "1", "--requests", "50", "--seed", "99999999999"], ["seed"]),
    (["--concurrency", "0"], ["concurrency"]),
    (["--concurrency", "-3"], ["concurrency"]),
    (["--concurrency", "1000000000"], ["concurrency", "requests"]),
    (["--concurrency", "64", "--requests", "64"], ["concurrency", "requests"]),
    (["--rate", "1", "--slo", "garbage"], ["--slo"]),
    (["--rate", "1", "--slo", "ttft_s.p99<=nan"], ["--slo"]),
    (["--find-rate"], ["--slo"]),
    (["--find-rate", "--slo", "ttft_s.p99<=-1"], ["--slo"]),
    (["--find-chips"], ["--rate"]),
])
def test_simulate_arguments(capsys, tmp_path, args, names):
    p = write(tmp_path, "s.yaml", BASE)
    assert_refused(run_cli(capsys, "simulate", p, *args), *names)


@pytest.mark.parametrize("workload, names", [
    ("requests: 1000000000, arrival: {process: poisson, rate_per_s: 1}", ["workload.requests"]),
    ("seed: -4, arrival: {process: poisson, rate_per_s: 1}", ["workload.seed"]),
    ("arrival: {process: poisson, rate_per_s: 1e12}", ["workload.arrival.rate_per_s"]),
    ("arrival: {process: gamma, rate_per_s: 1, cv: 1e-300}", ["workload.arrival.cv"]),
    ("arrival: {process: closed, concurrency: 0}", ["workload.arrival.concurrency"]),
    ("arrival: {process: trace, path: .}", ["workload.arrival.path"]),
    ("arrival: {process: teleport}", ["workload.arrival.process"]),
])
def test_simulate_workload_fields(capsys, tmp_path, workload, names):
    p = write(tmp_path, "s.yaml", BASE.replace("output_tokens: 64}", f"output_tokens: 64, {workload}}}"))
    assert_refused(run_cli(capsys, "simulate", p), *names)


def test_a_cached_prefix_cannot_cover_the_whole_prompt(capsys, tmp_path):
    p = write(tmp_path, "s.yaml", BASE.replace("output_tokens: 64}", "output_tokens: 64, prefix_cached_tokens: 512}"))
    assert_refused(run_cli(capsys, "predict", p), "prefix_cached_tokens", "input_tokens")


def test_predict_says_which_open_loop_fields_it_leaves_out(capsys, tmp_path):
    # Speculative decoding is the simulator's: predict must not silently price without it.
    import json

    from tests.robustness.harness import assert_answered, strict_json

    p = write(tmp_path, "s.yaml", BASE.replace("output_tokens: 64}",
                                               "output_tokens: 64, speculative: {draft_tokens: 4, acceptance: 0.6}}"))
    res = run_cli(capsys, "predict", p, "--json")
    assert_answered(res)
    notes = strict_json(res.stdout)["notes"]
    assert any("workload.speculative" in n and "llmhw simulate" in n for n in notes), json.dumps(notes)
