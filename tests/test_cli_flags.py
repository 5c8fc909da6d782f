"""Quick flags (issue 14): a scenario typed on the command line equals the same YAML."""

import json

import pytest
from tests.robustness.harness import assert_answered, assert_refused, run_cli, strict_json, write

YAML = ("model: llama-3.1-70b\nhardware: h100-sxm\nparallelism: {tp: 8}\nprecision: {weights: fp8, kv_cache: fp8}\n"
        "engine: vllm\nworkload: {input_tokens: 1024, output_tokens: 256, batch: 64}\n")
FLAGS = ["--model", "llama-3.1-70b", "--hardware", "h100-sxm", "--tp", "8", "--weights", "fp8", "--kv-cache", "fp8",
         "--engine", "vllm", "--input-tokens", "1024", "--output-tokens", "256", "--batch", "64"]


@pytest.mark.parametrize("command", ["predict", "fit"])
def test_flags_equal_the_same_yaml(capsys, tmp_path, command):
    from_file = run_cli(capsys, command, write(tmp_path, "s.yaml", YAML), "--json")
    from_flags = run_cli(capsys, command, *FLAGS, "--json")
    assert_answered(from_file)
    assert_answered(from_flags)
    assert strict_json(from_flags.stdout) == strict_json(from_file.stdout)


def test_flags_over_a_file_set_only_their_fields(capsys, tmp_path):
    p = write(tmp_path, "s.yaml", YAML)
    res = run_cli(capsys, "predict", p, "--batch", "8", "--tp", "4", "--json")
    assert_answered(res)
    d = strict_json(res.stdout)
    assert (d["batch"], d["parallelism"]["tp"], d["n_chips"]) == (8, 4, 4)      # n_chips follows tp x pp x dp
    assert d["precision"]["weights"] == "fp8"                                   # the file's own fields stay


def test_a_jsonl_batch_reads_as_a_table_without_json(capsys, tmp_path):
    """A row per answered line, its line number whole; a refused line as 'line N: message'."""
    good = {"model": "llama-3.1-8b", "hardware": "h100-sxm", "workload": {"input_tokens": 8, "output_tokens": 4}}
    lines = [json.dumps(good), json.dumps({"model": "llama-3.1-8b"}), "",
             json.dumps({**good, "workload": {**good["workload"], "batch": 4}})]
    res = run_cli(capsys, "predict", "--batch", str(write(tmp_path, "runs.jsonl", "\n".join(lines) + "\n")))
    assert_answered(res)
    assert "2 of 3 lines answered" in res.stdout
    rows = [r for r in res.stdout.splitlines() if "llama-3.1-8b" in r]
    assert [r.split()[1] for r in rows] == ["1", "4"]                  # file line numbers, blank counted
    assert "line 2: hardware: missing required field" in res.stdout
    assert not res.stdout.lstrip().startswith("{")


def test_batch_is_a_size_or_a_jsonl_file(capsys, tmp_path):
    line = {"model": "llama-3.1-8b", "hardware": "h100-sxm", "workload": {"input_tokens": 8, "output_tokens": 4}}
    jsonl = write(tmp_path, "runs.jsonl", json.dumps(line) + "\n")
    res = run_cli(capsys, "predict", "--batch", str(jsonl), "--json")
    assert_answered(res)
    assert strict_json(res.stdout.splitlines()[0])["batch"] == 1
    res = run_cli(capsys, "predict", write(tmp_path, "s.yaml", YAML), "--batch", "max", "--json")
    assert_answered(res)
    assert strict_json(res.stdout)["batch"] > 64


@pytest.mark.parametrize("argv, names", [
    (["--hardware", "h100-sxm", "--input-tokens", "8", "--output-tokens", "4"], ["model", "--model"]),
    (["--model", "llama-3.1-8b", "--input-tokens", "8", "--output-tokens", "4"], ["hardware", "--hardware"]),
    (["--model", "llama-3.1-8b", "--hardware", "h100-sxm"], ["workload", "--input-tokens"]),
    ([*FLAGS[:4], "--tp", "3", "--input-tokens", "8", "--output-tokens", "4"], ["parallelism.tp"]),
    ([*FLAGS[:4], "--input-tokens", "8", "--output-tokens", "4", "--batch", "0"], ["workload.batch"]),
    ([*FLAGS[:4], "--input-tokens", "8", "--output-tokens", "4", "--weights", "fp3"], ["precision.weights"]),
    ([], ["scenario"]),
])
def test_bad_flags_name_the_field(capsys, argv, names):
    assert_refused(run_cli(capsys, "predict", *argv), *names)


@pytest.mark.parametrize("argv", [["models"], ["hardware"], ["hardware", "--kind", "chip"],
                                  ["hardware", "--family", "nvidia-gpu"]])
def test_every_id_whole_in_80_columns(capsys, monkeypatch, argv):
    """The id is the value a user copies: in an 80-column terminal it is never cut or wrapped
    (other columns are dropped or wrapped first), and no line is wider than the terminal."""
    from llmhw import cli_tables

    monkeypatch.setattr(cli_tables.out, "width", 80)
    res = run_cli(capsys, *argv)
    assert_answered(res)
    lines = res.stdout.splitlines()
    assert max(len(ln) for ln in lines) <= 80
    ids = [r["id"] for r in strict_json(run_cli(capsys, *argv, "--json").stdout)]
    first_cells = {ln.split("│")[1].strip() for ln in lines if ln.startswith("│") and ln.split("│")[1].strip()}
    assert set(ids) <= first_cells, sorted(set(ids) - first_cells)[:5]


def test_hardware_filters(capsys):
    res = run_cli(capsys, "hardware", "--kind", "network", "--json")
    assert_answered(res)
    kinds = {r["kind"] for r in strict_json(res.stdout)}
    assert kinds == {"interconnect"}
    res = run_cli(capsys, "hardware", "--family", "amd-gpu", "--json")
    rows = strict_json(res.stdout)
    assert rows and all(r.get("family") == "amd-gpu" or r["kind"] == "system" for r in rows)
    assert_refused(run_cli(capsys, "hardware", "--kind", "toaster"), "--kind")
    assert_refused(run_cli(capsys, "hardware", "--family", "nvidia"), "--family", "nvidia-gpu")


def test_hardware_entry_reads_with_units(capsys):
    """`llmhw hardware h100-sxm` shows numbers as people read them (989.4 TFLOP/s, 3.35 TB/s,
    80 GB), each the catalog's SI value (--json) in the unit its field's name states."""
    from llmhw import cli_tables

    res = run_cli(capsys, "hardware", "h100-sxm")
    assert_answered(res)
    data = strict_json(run_cli(capsys, "hardware", "h100-sxm", "--json").stdout)
    bf16, bw, cap = data["peak_flops"]["bf16"], data["memory"][0]["bandwidth_bytes_per_s"], data["memory"][0]["capacity_bytes"]
    for shown in (f"{bf16 / 1e12:.4g} TFLOP/s", f"{bw / 1e12:.4g} TB/s", f"{cap / 1e9:.4g} GB"):
        assert shown in res.stdout, shown
    assert "e+" not in res.stdout.split("source")[1].split("│ memory")[0]   # no raw exponents in the chip's rows
    assert cli_tables.readable(5e-8, "s") == "50 ns" and cli_tables.readable(2.5e-12, "J/bit") == "2.5 pJ/bit"


def test_a_prediction_that_does_not_fit_warns_first(capsys):
    # Exit 0 (a model that does not fit is a result), and the warning is the line after the header.
    res = run_cli(capsys, "predict", "--model", "llama-3.1-405b", "--hardware", "h100-sxm",
                  "--input-tokens", "100", "--output-tokens", "10")
    assert_answered(res)
    assert res.stdout.splitlines()[1].startswith("warning: does not fit")


def test_whatif_baseline_units_and_workload_paths(capsys, tmp_path):
    """whatif: the scenario as given first (baseline: true, equal to predict), then each value;
    a quantity typed with its unit ('9.6 TB/s') is that many bytes a second; workload fields vary
    like override paths."""
    p = write(tmp_path, "s.yaml", YAML.replace("engine: vllm\n", ""))
    res = run_cli(capsys, "whatif", p, "--vary", "chip.memory[0].bandwidth_bytes_per_s=3.35 TB/s,9.6e12", "--json")
    assert_answered(res)
    rows = strict_json(res.stdout)
    assert [r["baseline"] for r in rows] == [True, False, False]
    base = strict_json(run_cli(capsys, "predict", p, "--json").stdout)
    assert rows[0]["tpot_s"] == base["tpot_s"]
    assert rows[1]["tpot_s"] == pytest.approx(base["tpot_s"])        # H100's own 3.35 TB/s
    assert rows[2]["tpot_s"] < rows[1]["tpot_s"]
    res = run_cli(capsys, "whatif", p, "--vary", "workload.batch=1,128", "--json")
    assert_answered(res)
    assert [r["batch"] for r in strict_json(res.stdout)] == [64, 1, 128]
    res = run_cli(capsys, "whatif", p, "--vary", "chip.memory[0].bandwidth_bytes_per_s=9.6 TB")
    assert_refused(res, "bandwidth_bytes_per_s.unit")


def test_compute_and_ranks_per_chip_flags_equal_the_yaml(capsys, tmp_path):
    base = {"model": "llama-3.1-8b", "hardware": "inferentia2", "n_chips": 12, "engine": "transformers-neuronx",
            "parallelism": {"tp": 12, "ranks_per_chip": 2},
            "precision": {"weights": "int8", "compute": "bf16"},
            "workload": {"input_tokens": 128, "output_tokens": 32, "batch": 1}}
    from_yaml = strict_json(run_cli(capsys, "predict", str(write(tmp_path, "s.yaml", json.dumps(base))),
                                    "--json").stdout)
    flags = strict_json(run_cli(capsys, "predict", "--model", "llama-3.1-8b", "--hardware", "inferentia2",
                                "--tp", "12", "--ranks-per-chip", "2", "--weights", "int8", "--compute", "bf16",
                                "--engine", "transformers-neuronx", "--input-tokens", "128",
                                "--output-tokens", "32", "--json").stdout)
    assert flags["tpot_s"] == from_yaml["tpot_s"] and flags["ttft_s"] == from_yaml["ttft_s"]
    assert flags["precision"]["compute"] == "bf16" and flags["parallelism"]["ranks_per_chip"] == 2
