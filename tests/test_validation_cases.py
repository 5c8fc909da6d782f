"""The shipped measurements and their mapping to llmhw scenarios (src/llmhw/validation)."""

import csv
from importlib import resources
from pathlib import Path

import pytest

from llmhw import Scenario
from llmhw.hardware.catalog import chips
from llmhw.validation.cases import METRICS, Case, Skip, load_cases, summary

COLUMNS = ["source_url", "source_desc", "date", "hardware", "n_chips", "memory_gb_per_chip", "model", "params_b",
           "active_params_b", "precision_weights", "precision_kv", "framework", "tp", "pp", "ep", "isl", "osl",
           "batch_or_concurrency", "metric", "value", "unit", "notes"]
SHARED = Path(__file__).resolve().parents[2] / "shared" / "validation" / "measurements.csv"


def _shipped() -> str:
    return resources.files("llmhw.validation").joinpath("measurements.csv").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def loaded() -> tuple[dict[int, Case], dict[int, Skip]]:
    cases, skips = load_cases()
    return {c.row: c for c in cases}, {s.row: s for s in skips}


def test_csv_ships_with_700_rows():
    rows = list(csv.DictReader(_shipped().splitlines()))
    assert len(rows) == 700
    assert list(rows[0]) == COLUMNS
    if SHARED.is_file():  # the package copy is the collection, unchanged
        assert _shipped() == SHARED.read_text(encoding="utf-8")


def test_every_row_is_a_case_or_a_skip(loaded):
    cases, skips = loaded
    assert not set(cases) & set(skips)
    assert sorted([*cases, *skips]) == list(range(700))
    assert len(cases) > 400
    assert all(":" in s.reason for s in skips.values())


def test_every_case_builds_a_scenario(loaded):
    cases, _ = loaded
    for c in cases.values():
        s = Scenario.from_dict(c.scenario)
        assert c.metric in METRICS.values()
        assert c.measured > 0
        assert c.hardware == s.chip.id and c.family == s.chip.family
        assert c.source.startswith("https://")
        assert set(c.scenario["precision"]) >= {"weights", "kv_cache", "activations"}


def test_trtllm_max_throughput_row(loaded):
    c = loaded[0][255]  # H200, Llama-3.1-8B FP8, trtllm-bench 128/128, total tok/s
    assert c.scenario["workload"] == {"input_tokens": 128, "output_tokens": 128, "batch": "max",
                                      "harness": "offline"}
    assert c.scenario["engine"] == "trtllm" and c.scenario["hardware"] == "h200"
    assert c.scenario["parallelism"] == {"tp": 1, "pp": 1, "ep": 1, "dp": 1}
    assert c.scenario["precision"]["weights"] == "fp8" and c.scenario["precision"]["kv_cache"] == "fp8"
    assert (c.metric, c.measured, c.family) == ("output_tok_s", 27911.0, "nvidia-gpu")


def test_mlperf_offline_rows_take_the_dataset_means(loaded):
    cases, skips = loaded
    # Offline over OpenOrca: batch max at the dataset's mean prompt and the run's own mean output
    # (273.4 tokens per sample in the row's notes).
    c = cases[7]
    from llmhw.workload.lengths import datasets

    w = c.scenario["workload"]
    assert w["batch"] == "max" and w["output_tokens"] == 273
    assert w["input_tokens"] == round(datasets()["mlperf-openorca"][0].nominal)
    # No mapping stated: 70 B fp4 weights (about 35 GB) fill under half of a B200's 180 GB, so one
    # chip per replica and eight replicas.
    assert c.scenario["parallelism"] == {"tp": 1, "pp": 1, "ep": 1, "dp": 8}
    # H100 80 GB with fp8 weights (70 GB): two chips per group put 35 GB on each, under 40 GB.
    assert cases[55].scenario["parallelism"]["tp"] == 2
    # Server / Interactive: Poisson arrivals, scored by the simulator (validation/open_loop.py).
    assert skips[1].category == "Poisson arrivals" and skips[4].category == "Poisson arrivals"


def test_inferencemax_concurrency_row(loaded):
    c = loaded[0][289]  # B200, gpt-oss-120b MXFP4, vLLM TP1, concurrency 4
    assert c.scenario["workload"] == {"input_tokens": 1024, "output_tokens": 1024, "batch": 4, "length_ratio": 0.8,
                                      "harness": "served"}    # InferenceMAX: an HTTP client
    assert c.scenario["engine"] == "vllm" and c.scenario["n_chips"] == 1
    assert c.scenario["parallelism"] == {"tp": 1, "pp": 1, "ep": 1, "dp": 1}
    assert c.scenario["precision"] == {"weights": "fp4", "kv_cache": "fp8", "activations": "bf16"}
    assert c.metric == "output_tok_s_per_chip"
    mi300 = loaded[0][492]  # MI300X, DeepSeek-R1 FP8, SGLang TP8
    assert mi300.scenario["engine"] == "sglang" and mi300.family == "amd-gpu"
    assert mi300.scenario["parallelism"] == {"tp": 8, "pp": 1, "ep": 1, "dp": 1}
    assert loaded[0][504].scenario["engine"] == "atom"


def test_dep_and_attention_dp_rows(loaded):
    dep = loaded[0][102]  # H200, DeepSeek-R1-0528, TensorRT-LLM DEP8
    assert dep.scenario["parallelism"] == {"tp": 1, "pp": 1, "ep": 8, "dp": 8}
    assert dep.scenario["n_chips"] == 8 and dep.scenario["workload"]["batch"] == "max"
    assert "DEP8" in dep.note
    dpa = loaded[0][363]  # InferenceMAX TensorRT-LLM, tp 2, ep 2, dp_attention=true
    assert dpa.scenario["parallelism"] == {"tp": 1, "pp": 1, "ep": 2, "dp": 2}


def test_single_stream_without_lengths_and_npu(loaded):
    c = loaded[0][534]  # Snapdragon 8 Elite, Llama-2-7B w4a16, QNN on Hexagon, decode tok/s
    assert c.scenario["workload"] == {"input_tokens": 128, "output_tokens": 128, "batch": 1, "harness": "offline"}
    assert c.scenario["compute_unit"] == "npu" and c.scenario["engine"] == "qnn"
    assert c.scenario["precision"]["weights"] == "int4" and c.scenario["precision"]["kv_cache"] == "bf16"
    assert (c.metric, c.family, c.hardware) == ("tok_s_per_user", "phone-soc", "snapdragon-8-elite")


def test_cpu_rows(loaded):
    cases, skips = loaded
    c = cases[670]  # OnePlus 12 "Arm CPU", ExecuTorch, Llama-3.2-1B BF16, prompt 64
    assert c.scenario["compute_unit"] == "cpu" and c.scenario["engine"] == "executorch"
    assert c.scenario["workload"] == {"input_tokens": 64, "output_tokens": 128, "batch": 1, "harness": "offline"}
    assert cases[673].scenario["precision"]["activations"] == "int8"    # INT8 dynamic activations
    assert cases[679].scenario["compute_unit"] == "cpu"                 # "(Arm CPU)" in the framework
    assert skips[666].category == "unsupported architecture"            # Gemma 4 on the Oryon CPU


def test_units_convert_to_si(loaded):
    cases, _ = loaded
    tpot, ttft = cases[290], cases[291]    # InferenceMAX, printed in ms
    assert tpot.metric == "tpot_s" and tpot.measured == pytest.approx(3.798575106425084e-3)
    assert ttft.metric == "ttft_s" and ttft.measured == pytest.approx(44.83236956875771e-3)
    assert cases[285].measured == pytest.approx(0.047)                 # 47 ms first-token latency
    prefill = cases[601]                   # llama-bench pp512: prompt only
    assert prefill.metric == "prefill_tok_s" and prefill.scenario["workload"]["output_tokens"] == 1


def test_skip_reasons(loaded):
    _, skips = loaded
    assert skips[279].category == "unsupported architecture" and "Falcon" in skips[279].reason
    assert skips[537].category == "length is a bound or dataset"       # TTFT for a prompt of <=128
    assert skips[696].category == "chip count not disclosed"           # Cerebras
    assert skips[680].category == "ambiguous hardware"                 # Galaxy S24, SoC not stated


NEW_CHIPS = ["gb300", "gh200", "h200-nvl", "rtx-pro-6000-bse", "a100-pcie-80gb", "dgx-spark", "apple-m1-ultra",
             "apple-m2-max", "apple-m3", "apple-m2", "apple-a18", "apple-a15", "apple-a19-pro", "google-tensor-g4",
             "snapdragon-x-elite", "snapdragon-8-elite-gen5"]


@pytest.mark.parametrize("cid", NEW_CHIPS)
def test_added_chips_are_plausible(cid):
    c = chips()[cid]
    f = c.flops()
    order = [p for p in ("fp32", "bf16", "fp8", "fp4") if p in f]
    assert [f[p] for p in order] == sorted(f[p] for p in order), cid
    assert all(1e11 < x < 1e17 for x in f.values()), cid
    assert 1e9 <= c.memory_capacity_bytes <= 1e12 and 3e10 <= c.memory_bandwidth_bytes_per_s <= 3e13, cid


def test_summary_counts(loaded):
    cases, skips = loaded
    text = summary()
    assert f"{len(cases)} cases, {len(skips)} skips, 700 rows" in text
    assert "nvidia-gpu" in text and "Poisson arrivals" in text
