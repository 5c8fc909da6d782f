"""Per-request lengths (workload.lengths), the shipped datasets' statistics, and trace files."""

import numpy as np
import pytest

from llmhw.api import simulate
from llmhw.core.errors import LlmhwError
from llmhw.scenario import Scenario
from llmhw.workload.lengths import catalog, dataset_ids, datasets, lengths_from, sample
from llmhw.workload.traces import read_trace

N = 200_000
S = {"model": "llama-3.1-8b", "hardware": "h100-sxm", "n_chips": 1, "engine": "vllm",
     "workload": {"harness": "offline"}}


def _draw(spec, n=N, seed=0):
    return sample(spec, n, np.random.default_rng(seed))


@pytest.mark.parametrize("dist", ["lognormal", "normal"])
def test_distribution_moments_match_the_spec(dist):
    # Bounds far from the bulk, so clipping leaves the moments as specified.
    side = {"dist": dist, "mean": 800, "std": 200, "min": 1, "max": 100_000}
    i, o = _draw({"input": side, "output": 50})
    assert i.mean() == pytest.approx(800, rel=0.01)
    assert i.std() == pytest.approx(200, rel=0.03)
    assert (o == 50).all()
    assert i.dtype.kind == "i" and i.min() >= 1


def test_uniform_and_fixed():
    i, o = _draw({"input": {"dist": "uniform", "min": 100, "max": 300}, "output": {"dist": "fixed", "mean": 7}})
    assert i.mean() == pytest.approx(200, rel=0.01)
    # integers uniform on [a, b]: variance ((b - a + 1)^2 - 1) / 12
    assert i.std() == pytest.approx(np.sqrt((201**2 - 1) / 12), rel=0.02)
    assert i.min() == 100 and i.max() == 300
    assert (o == 7).all()


def test_clipping_bounds_and_lognormal_skew():
    i, _ = _draw({"input": {"dist": "lognormal", "mean": 300, "std": 300, "min": 20, "max": 1000}, "output": 1})
    assert i.min() >= 20 and i.max() <= 1000
    assert np.median(i) < i.mean()          # right-skewed: the median sits below the mean


@pytest.mark.parametrize("ds", dataset_ids())
def test_dataset_sampled_means_match_their_sourced_means(ds):
    raw = catalog()["datasets"][ds]
    i, o = _draw({"dataset": ds})
    assert i.mean() == pytest.approx(raw["input"]["mean"]["value"], rel=0.03)
    assert o.mean() == pytest.approx(raw["output"]["mean"]["value"], rel=0.03)
    for side, x in (("input", i), ("output", o)):
        if "max" in raw[side]:
            assert x.max() <= raw[side]["max"]["value"]


def test_every_dataset_number_has_a_source_or_an_estimate():
    raw = catalog()
    for ds, entry in raw["datasets"].items():
        for side in ("input", "output"):
            for key in ("mean", "std", "min", "max"):
                node = entry[side].get(key)
                if node is None:
                    continue
                assert node["status"] in ("measured", "specified", "estimated"), (ds, side, key)
                if node["status"] == "estimated":
                    assert node.get("note"), (ds, side, key)
                else:
                    assert node.get("source"), (ds, side, key)
    assert set(datasets()) == set(raw["datasets"])


def test_openorca_output_mean_is_inside_the_published_range():
    # MLPerf v5.1 accuracy runs: NVIDIA 272.1 tokens/sample to AMD (vLLM) 301.1.
    _, o = _draw({"dataset": "mlperf-openorca"})
    assert 272 <= o.mean() <= 301


@pytest.mark.parametrize("bad, field, words", [
    ({"dataset": "nope"}, "workload.lengths.dataset", "mlperf-openorca"),
    ({"input": {"dist": "lognormal", "mean": 100, "std": -1}, "output": 5}, "workload.lengths.input.std", ""),
    ({"input": {"dist": "normal", "mean": 100, "std": 5, "min": 50, "max": 20}, "output": 5},
     "workload.lengths.input", "below min"),
    ({"input": 5, "output": {"dist": "lognormal", "mean": 900, "std": 5, "max": 500}},
     "workload.lengths.output", "outside"),
    ({"input": {"dist": "gauss", "mean": 100}, "output": 5}, "workload.lengths.input.dist", "lognormal"),
    ({"input": 0, "output": 5}, "workload.lengths.input", "at least 1"),
    ({"input": 5}, "workload.lengths", "both input and output"),
    ({"dataset": "sharegpt", "input": 5}, "workload.lengths", "not both"),
    ({"input": 5, "output": 5, "sizes": 1}, "workload.lengths.sizes", ""),
])
def test_bad_lengths_name_the_field(bad, field, words):
    with pytest.raises(LlmhwError) as e:
        lengths_from(bad)
    assert e.value.field == field
    assert words in str(e.value)
    with pytest.raises(LlmhwError) as e:
        Scenario.from_dict({**S, "workload": {**S["workload"], "lengths": bad}})
    assert "lengths" in str(e.value)


def test_lengths_set_the_nominal_request_size():
    s = Scenario.from_dict({**S, "workload": {"lengths": {"input": 300, "output": {"dist": "uniform", "min": 10,
                                                                                      "max": 30}}}})
    assert (s.workload.input_tokens, s.workload.output_tokens) == (300, 20)
    assert (s.workload.requests, s.workload.seed) == (2000, 0)


# -- traces

PLAIN = "arrival_s,input_tokens,output_tokens\n5.0,100,20\n3.0,50,10\n4.5,70,0\n"
AZURE = ("TIMESTAMP,ContextTokens,GeneratedTokens\n"
         "2023-11-16 18:15:46.6805900,374,44\n"
         "2023-11-16 18:15:50.9951690,396,109\n"
         "2023-11-16 18:15:47.0000000,0,12\n")
BURST = ("Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n"
         "5,ChatGPT,472,18,490,Conversation log\n"
         "45,ChatGPT,1087,0,1087,Conversation log\n"
         "118,GPT-4,417,30,447,API log\n")


def test_trace_layouts(tmp_path):
    (tmp_path / "p.csv").write_text(PLAIN.replace("4.5,70,0\n", "4.5,70,5\n"))
    t, i, o = read_trace(tmp_path / "p.csv")
    assert t.tolist() == [0.0, 1.5, 2.0] and i.tolist() == [50, 70, 100] and o.tolist() == [10, 5, 20]
    (tmp_path / "a.csv").write_text(AZURE)
    t, i, o = read_trace(tmp_path / "a.csv")
    # the row with no prompt is dropped; 18:15:46.68059 -> 18:15:50.995169 is 4.314579 s
    assert t == pytest.approx([0.0, 4.314579]) and i.tolist() == [374, 396] and o.tolist() == [44, 109]
    (tmp_path / "b.csv").write_text(BURST)
    t, i, o = read_trace(tmp_path / "b.csv")
    # the failed request (0 response tokens) is dropped; both log types are kept
    assert t.tolist() == [0.0, 113.0] and i.tolist() == [472, 417] and o.tolist() == [18, 30]


@pytest.mark.parametrize("text, words", [
    ("", "empty"),
    ("arrival_s,input_tokens\n1,2\n", "output_tokens"),
    ("when,a,b\n1,2,3\n", "no known layout"),
    ("arrival_s,input_tokens,output_tokens\n1,2,3\n2,x,3\n", "row 3, column 'input_tokens'"),
    ("arrival_s,input_tokens,output_tokens\n1,-2,3\n", "row 2, column 'input_tokens'"),
    ("arrival_s,input_tokens,output_tokens\n1,2,0\n", "row 2, column 'output_tokens'"),
    ("TIMESTAMP,ContextTokens,GeneratedTokens\nyesterday,1,2\n", "row 2, column 'TIMESTAMP'"),
    ("arrival_s,input_tokens,output_tokens\n", "no requests"),
])
def test_bad_traces_name_the_file_row_and_column(tmp_path, text, words):
    f = tmp_path / "t.csv"
    f.write_text(text)
    with pytest.raises(LlmhwError) as e:
        read_trace(f)
    assert e.value.field == str(f)
    assert words in str(e.value)


def test_non_utf8_trace(tmp_path):
    f = tmp_path / "t.csv"
    f.write_bytes(b"arrival_s,input_tokens,output_tokens\n1,2,3\xff\n")
    with pytest.raises(LlmhwError, match="UTF-8"):
        read_trace(f)


def _trace_file(folder, n=40, gap=0.5):
    rows = "".join(f"{k * gap},{100 + k},{10 + k % 7}\n" for k in range(n))
    (folder / "trace.csv").write_text("arrival_s,input_tokens,output_tokens\n" + rows)


def test_simulate_a_trace_resolves_the_path_and_uses_its_lengths(tmp_path):
    _trace_file(tmp_path)
    (tmp_path / "s.yaml").write_text(
        "model: llama-3.1-8b\nhardware: h100-sxm\nengine: vllm\n"
        "workload: {harness: offline, requests: 30, arrival: {process: trace, path: trace.csv}}\n")
    s = Scenario.from_yaml(tmp_path / "s.yaml")
    assert s.workload.input_tokens == round(np.mean([100 + k for k in range(40)]))
    r = simulate(s)
    assert r["requests"] == 30                          # workload.requests caps the rows used
    # 30 rows 0.5 s apart: 2 requests a second; the lengths are the trace's
    assert r["arrival_rate_per_s"] == pytest.approx(2.0, rel=0.01)
    assert r["mean_input_tokens"] == pytest.approx(np.mean([100 + k for k in range(30)]))
    with pytest.raises(LlmhwError, match="trace"):
        Scenario.from_dict({**S, "workload": {"input_tokens": 5, "output_tokens": 5,
                                              "lengths": {"dataset": "sharegpt"},
                                              "arrival": {"process": "trace", "path": "x.csv"}}})


def test_trace_is_dealt_round_robin_over_replicas(tmp_path):
    _trace_file(tmp_path, n=40)
    w = {"harness": "offline", "arrival": {"process": "trace", "path": str(tmp_path / "trace.csv")}}
    r = simulate({**S, "n_chips": 2, "parallelism": {"dp": 2}, "workload": w})
    # replica 0 gets rows 0, 2, 4, ...: prompts 100, 102, ..., 138
    assert r["mean_input_tokens"] == pytest.approx(np.mean([100 + 2 * k for k in range(20)]))
    assert r["arrival_rate_per_s"] == pytest.approx(2.0, rel=0.01)


def test_requests_and_seed_from_the_workload():
    w = {**S["workload"], "input_tokens": 200, "output_tokens": 20, "requests": 50, "seed": 4}
    a = simulate({**S, "workload": w}, 1.0)
    assert a["requests"] == 50
    assert a == simulate({**S, "workload": w}, 1.0, 50, 4)         # the same run
    assert simulate({**S, "workload": w}, 1.0, 80)["requests"] == 80


def test_openorca_throughput_is_the_offered_load():
    # Below saturation every request is served: output tokens per second = arrival rate x mean
    # output tokens (of the requests drawn), and those are the dataset's (SE ~ 200 / sqrt(400)).
    r = simulate({**S, "workload": {**S["workload"], "lengths": {"dataset": "mlperf-openorca"}}}, 2.0, 400)
    assert not r["saturated"]
    assert r["output_tok_s"] == pytest.approx(r["arrival_rate_per_s"] * r["mean_output_tokens"], rel=0.05)
    assert r["mean_output_tokens"] == pytest.approx(294.45, abs=4 * 220 / np.sqrt(400))


def test_a_trace_and_lengths_together_name_the_conflict(tmp_path):
    from llmhw.core.errors import LlmhwError
    from llmhw.scenario import Scenario

    trace = tmp_path / "t.csv"
    trace.write_text("arrival_s,input_tokens,output_tokens\n" + "".join(f"{i * 0.1},100,20\n" for i in range(20)))
    with pytest.raises(LlmhwError) as e:
        Scenario.from_dict({"model": "llama-3.1-8b", "hardware": "h100-sxm",
                            "workload": {"lengths": {"dataset": "sharegpt"},
                                         "arrival": {"process": "trace", "path": str(trace)}}})
    assert "drop workload.lengths" in str(e.value)
