"""The command line: JSON contracts and clean failures (one line, exit code 2, no traceback)."""

import json

import pytest

GOOD = {"model": "llama-3.1-70b", "hardware": "h100-sxm", "n_chips": 8,
        "parallelism": {"tp": 8, "pp": 1, "ep": 1, "dp": 1},
        "precision": {"weights": "fp8", "kv_cache": "fp8", "activations": "bf16"},
        "workload": {"input_tokens": 1024, "output_tokens": 1024, "batch": 64}}


def test_models_json(run_cli):
    r = run_cli("models", "--json")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    ids = {row["id"] for row in rows}
    assert {"llama-3.1-70b", "deepseek-v3", "gpt-oss-120b"} <= ids


def test_hardware_json_has_kinds(run_cli):
    r = run_cli("hardware", "--json")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    kinds = {row["kind"] for row in rows}
    assert {"chip", "system", "memory", "interconnect"} <= kinds
    assert all("id" in row for row in rows)


def test_hardware_entry_shows_sources(run_cli):
    r = run_cli("hardware", "h100-sxm", "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["provenance"]["peak_flops.bf16"]["status"] == "specified"
    assert d["provenance"]["peak_flops.bf16"]["sources"][0].startswith("https://")


def test_show_json(run_cli):
    r = run_cli("show", "deepseek-v3", "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["layers"] == 61
    assert d["kv_cache_bytes_per_token"] == 70_272
    assert abs(d["total_params"] - 671e9) / 671e9 < 0.01
    assert abs(d["active_params"] - 36.6e9) / 36.6e9 < 0.01


def test_show_table(run_cli):
    r = run_cli("show", "llama-3.1-70b")
    assert r.returncode == 0 and "70.55 B" in r.stdout


def test_fit_json_contract(run_cli, write_yaml):
    r = run_cli("fit", str(write_yaml(GOOD)), "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    for key in ("weights_bytes", "kv_cache_bytes", "activation_bytes", "total_bytes", "capacity_bytes",
                "fits", "max_batch"):
        assert key in d
    assert d["weights_bytes"] == 8_820_367_360 and d["fits"] is True
    assert d["total_bytes"] == d["weights_bytes"] + d["kv_cache_bytes"] + d["activation_bytes"]


def test_fit_not_fitting_is_not_an_error(run_cli, write_yaml):
    r = run_cli("fit", str(write_yaml({**GOOD, "n_chips": 1, "parallelism": {"tp": 1}})))
    assert r.returncode == 0, r.stderr
    assert "does not fit" in r.stdout and "overflows by" in r.stdout


def test_example_scenarios_run(run_cli):
    from conftest import ROOT
    for p in sorted((ROOT / "examples").glob("*.yaml")):
        r = run_cli("fit", str(p), "--json")
        assert r.returncode == 0, (p, r.stderr)


def _fails_cleanly(r, *needles):
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    for n in needles:
        assert n in r.stderr, r.stderr


def test_unknown_model_suggests(run_cli, write_yaml):
    _fails_cleanly(run_cli("fit", str(write_yaml({**GOOD, "model": "llama-3.1-7b"}))),
                   "model", "llama-3.1-8b")


def test_unknown_hardware_suggests(run_cli, write_yaml):
    _fails_cleanly(run_cli("fit", str(write_yaml({**GOOD, "hardware": "h100"}))), "hardware", "h100-sxm")


def test_malformed_yaml(run_cli, write_yaml):
    _fails_cleanly(run_cli("fit", str(write_yaml("model: [llama\nhardware: h100-sxm\n"))), "malformed YAML")


def test_malformed_config_json(run_cli, tmp_path, write_yaml):
    cfg = tmp_path / "broken.json"
    cfg.write_text("{not json")
    _fails_cleanly(run_cli("fit", str(write_yaml({**GOOD, "model": str(cfg)}))), "malformed JSON")


@pytest.mark.parametrize("change, field", [
    ({"workload": {"input_tokens": 1024, "output_tokens": 1024, "batch": -4}}, "workload.batch"),
    ({"workload": {"output_tokens": 1024}}, "workload.input_tokens"),
    ({"parallelism": {"tp": 3}, "n_chips": 3}, "parallelism.tp"),
    ({"parallelism": {"tp": 8, "ep": 2}}, "parallelism.ep"),
    ({"n_chips": 16}, "n_chips"),
])
def test_bad_fields_are_named(run_cli, write_yaml, change, field):
    _fails_cleanly(run_cli("fit", str(write_yaml({**GOOD, **change}))), field)


def test_user_hardware_spec_negative_bandwidth(run_cli, write_yaml):
    spec = write_yaml({"kind": "chip", "id": "mychip", "family": "custom", "peak_flops": {"bf16": 1e15},
                       "memory": [{"tech": "hbm3", "capacity_bytes": 96e9, "bandwidth_bytes_per_s": -4e12}]},
                      name="chip.yaml")
    _fails_cleanly(run_cli("fit", str(write_yaml({**GOOD, "hardware": str(spec)}))), "bandwidth_bytes_per_s")


def test_user_hardware_spec_works(run_cli, write_yaml):
    spec = write_yaml({"kind": "chip", "id": "mychip", "family": "custom", "peak_flops": {"bf16": 1e15},
                       "memory": [{"tech": "hbm3", "capacity_bytes": {"value": 96, "unit": "GB"},
                                   "bandwidth_bytes_per_s": {"value": 4, "unit": "TB/s"}}]},
                      name="chip.yaml")
    r = run_cli("fit", str(write_yaml({**GOOD, "hardware": str(spec)})), "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["capacity_bytes"] == 96e9


def test_unknown_show_model(run_cli):
    _fails_cleanly(run_cli("show", "mixtral-8x8b"), "mixtral-8x7b")
