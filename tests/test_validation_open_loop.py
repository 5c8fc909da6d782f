"""The open-loop rows (MLPerf Server / Interactive, JetStream): how they map to simulations, and
that the simulator reproduces what such a run must show."""

import pytest

from llmhw.validation import open_loop as ol


@pytest.fixture(scope="module")
def cases():
    c, skips = ol.load_open_loop_cases()
    # Keyed by row, the row's own metric; an MLPerf throughput row is also read as a capacity,
    # kept under (row, "rate_per_s").
    by_row = {x.row: x for x in c if x.metric != "rate_per_s"}
    by_row.update({(x.row, x.metric): x for x in c if x.metric == "rate_per_s"})
    return by_row, {s.row: s for s in skips}


def test_every_open_loop_row_is_a_case_or_a_skip(cases):
    c, skips = cases
    # 83 rows of the data are open-loop (Poisson arrivals, or JetStream on ShareGPT).
    rows = {k for k in c if isinstance(k, int)}
    assert len(rows) + len(skips) == 83 and len(rows) >= 75
    assert skips[695].category == "unsupported architecture"          # GPT-J


def test_mlperf_server_row(cases):
    c = cases[0][8]       # B200 x8, Llama-2-70B FP4, TensorRT-LLM, Server at 364 queries/s
    w = c.scenario["workload"]
    assert w["arrival"] == {"process": "poisson", "rate_per_s": 364.0}
    # The run's own 274.4 output tokens per sample, the dataset's prompts, in-process LoadGen.
    assert w["lengths"]["output"]["mean"] == pytest.approx(274.4) and w["harness"] == "offline"
    assert c.slo == ("ttft_s.p99<=2", "tpot_s.p99<=0.2") and not c.find_rate
    assert (c.metric, c.stat) == ("output_tok_s", None)
    assert (cases[0][9].metric, cases[0][9].stat) == ("ttft_s", "mean")
    # Read as a capacity too: the highest rate within the limits against the 364 queries/s.
    cap = cases[0][(8, "rate_per_s")]
    assert cap.find_rate and cap.measured == 364.0 and cap.slo == c.slo


def test_result_without_a_target_rate_is_found_within_the_limits(cases):
    c = cases[0][96]      # MI355X, v6.1 Server summary: tokens/s only
    assert c.find_rate and c.slo == ("ttft_s.p99<=2", "tpot_s.p99<=0.2")


def test_jetstream_rows_are_closed_loops_clipped_at_1024(cases):
    c = cases[0][690]
    w = c.scenario["workload"]
    assert w["arrival"] == {"process": "closed", "concurrency": 128}
    assert w["lengths"]["input"]["max"] == 1024 and w["lengths"]["output"]["max"] == 1024


def test_below_saturation_throughput_is_the_published_rate(cases):
    # GB200 x4 Interactive at 110 queries/s: an unsaturated run serves the offered load, rate x
    # mean output tokens; the published 29,750 tokens/s is 110 x 272.1 within 1%.
    c = cases[0][18]
    r = ol.predict(c)
    assert r == pytest.approx(c.measured, rel=0.10)
