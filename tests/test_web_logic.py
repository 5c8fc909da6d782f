"""The web explorer's logic (llmhw.web.logic), without Streamlit: the URL round trip, the
exports (a YAML and a command line that answer exactly what the page shows), uploads, the
what-if directions and the roofline."""

from __future__ import annotations

import json
import math
import shlex
from pathlib import Path

import pytest
from tests.robustness.harness import assert_answered, assert_refused, run_cli, strict_json

from llmhw import api, cli_flags
from llmhw.core.errors import LlmhwError
from llmhw.scenario import Scenario
from llmhw.web import logic

CATALOG = Path(logic.__file__).resolve().parents[1] / "workload" / "catalog" / "models"


def test_flag_table_is_the_command_lines():
    # The exported command line spells fields with the CLI's quick flags: one table, every flag explained.
    assert {k: v[2] for k, v in cli_flags.QUICK_FLAGS.items()} == logic.FLAG_PATHS
    assert all(v[1] for v in cli_flags.QUICK_FLAGS.values())


@pytest.mark.parametrize("fields", [logic.scenario_fields(), logic.whatif_fields(), logic.search_fields(),
                                    logic.serving_fields(), logic.compare_fields()])
def test_state_round_trips_through_the_url(fields):
    assert logic.state_to_query(fields, logic.defaults(fields)) == {}     # a fresh page has a bare URL
    changed = dict(logic.defaults(fields))
    for f in fields:        # every field moved off its default, to a value it accepts
        if f.choices:
            changed[f.name] = f.choices[-1] if f.default != f.choices[-1] else f.choices[0]
        elif f.kind is bool:
            changed[f.name] = not f.default
        else:
            changed[f.name] = f.kind(f.hi if f.default != f.hi else f.lo)
    query = logic.state_to_query(fields, changed)
    assert set(query) == {f.name for f in fields}
    assert all(isinstance(v, str) for v in query.values())
    back, errors = logic.state_from_query(fields, query)
    assert errors == [] and back == changed


def test_a_bad_link_parameter_is_named_and_left_at_its_default():
    fields = logic.scenario_fields()
    state, errors = logic.state_from_query(fields, {"tp": "2.5", "model": "no-such-model", "batch": "nan",
                                                    "pp": ["1", "2"], "unrelated": "x"})
    assert state["tp"] == logic.TP and state["model"] == logic.MODEL and state["batch"] == 64
    assert state["pp"] == 2                               # given twice: the last one counts
    assert len(errors) == 3
    assert [e.split(":")[0] for e in errors] == ["link parameter model", "link parameter tp", "link parameter batch"]
    assert "llama-3.1-70b" in errors[0] and "whole number" in errors[1]


def _same(a: dict, b: dict) -> None:
    for k in ("ttft_s", "tpot_s", "output_tok_s_per_chip", "tok_s_per_user", "fits", "max_batch", "batch"):
        assert a[k] == b[k], k


def _cli_json(capsys, cmd: str, files: dict[str, Path]) -> object:
    argv = [str(files.get(a, a)) for a in shlex.split(cmd)]
    assert argv[0] == "llmhw"
    res = run_cli(capsys, *argv[1:], "--json")
    assert_answered(res)
    return strict_json(res.stdout)


def test_exported_yaml_and_command_line_predict_what_the_page_shows(tmp_path, capsys):
    state = {**logic.defaults(logic.scenario_fields()), "tp": 4, "batch": 24, "weights": "fp8", "engine": "vllm"}
    d = logic.scenario_dict(state)
    shown = logic.predict(d)
    path = tmp_path / "scenario.yaml"
    path.write_text(logic.to_yaml(d))
    _same(api.predict(Scenario.from_yaml(path)).to_dict(), shown)
    cmd = logic.command_line("predict", d)
    assert "scenario.yaml" not in cmd and "--tp 4" in cmd and "--engine vllm" in cmd and "--pp" not in cmd
    _same(_cli_json(capsys, cmd, {}), shown)
    _same(_cli_json(capsys, f"llmhw predict {path}", {}), shown)


def test_a_whatif_exports_its_overrides_as_yaml(tmp_path, capsys):
    state = {**logic.defaults(logic.whatif_fields()), "hbf": True, "weights_on": "hbf", "near": "pnm-hbm", "stack": "none",
             "hop_ns": 250.0, "sweep": "hop_latency", "sweep_lo": 50.0, "sweep_hi": 500.0, "sweep_n": 3}
    base, variant = logic.whatif_dicts(state)
    assert "overrides" not in base
    assert variant["overrides"]["interconnect.hop_latency_s"] == 2.5e-7
    assert variant["placement"] == {"weights": "hbf"}
    # the flash tier is appended after the chip's own tiers, and the weights live there
    shown = logic.predict(variant)
    assert [t["name"] for t in shown["memory_tiers"]] == ["hbm3", "hbf"]
    assert shown["placement"]["weights"] == "hbf" and shown["tpot_s"] > logic.predict(base)["tpot_s"]
    assert logic.quick_flags(variant) is None             # overrides have no flag: the command reads the YAML
    rows, vary = logic.whatif_sweep(variant, state)
    path = tmp_path / "whatif.yaml"
    path.write_text(logic.to_yaml(variant))
    files = {"whatif.yaml": path}
    _same(_cli_json(capsys, logic.command_line("predict", variant, yaml_name="whatif.yaml"), files), shown)
    out = _cli_json(capsys, logic.command_line("whatif", variant, ["--vary", vary], "whatif.yaml"), files)
    assert [r["varied"]["value"] for r in out[1:]] == [5e-08, pytest.approx(1.58114e-07), 5e-07]
    assert [r["tpot_s"] * 1e3 for r in out[1:]] == [r["TPOT (ms)"] for r in rows]


def test_whatif_directions_reach_the_hardware():
    state = {**logic.defaults(logic.whatif_fields()), "stack": "3d-dram-hybrid-bond-gen2",
             "topology": "full_mesh", "hbf": True, "hbf_gb": 512.0, "kv_on": "fastest tier"}
    _, variant = logic.whatif_dicts(state)
    s = Scenario.from_dict(variant)
    assert s.chip.stacked is not None and s.system.scale_up_network.topology == "full_mesh"
    assert s.chip.memory[-1].capacity_bytes == 512e9
    assert variant["placement"] == {"kv_cache": "3d-dram-hybrid-bond-gen2"}     # the stack is now the fastest tier


def test_sweep_values_are_log_spaced_and_batches_whole():
    state = {**logic.defaults(logic.whatif_fields()), "sweep": "memory_bandwidth", "sweep_lo": 1.0,
             "sweep_hi": 16.0, "sweep_n": 5}
    path, shown, si = logic.sweep_values(state)
    assert path == "chip.memory[0].bandwidth_bytes_per_s"
    assert shown == [1.0, 2.0, 4.0, 8.0, 16.0] and si == [1e12, 2e12, 4e12, 8e12, 16e12]
    state.update(sweep="batch", sweep_lo=1.0, sweep_hi=4.0, sweep_n=12)
    _, shown, si = logic.sweep_values(state)
    assert si == [1, 2, 3, 4]
    with pytest.raises(LlmhwError, match="sweep"):
        logic.sweep_values({**state, "sweep_lo": 8.0})


def test_search_and_its_command_line_agree(capsys):
    state = {**logic.defaults(logic.search_fields()), "model": "llama-3.1-8b", "n_chips": 2, "slo_tpot_ms": 20.0,
             "slo_ttft_s": 0.0, "top": 3}
    d, slo, objective, top = logic.search_request(state)
    assert slo == ["tpot_s<=0.02"]
    res = api.search(d, slo, objective, top=top).to_dict()
    out = _cli_json(capsys, logic.command_line("search", d, logic.search_args(slo, objective, top)), {})
    assert out["best"]["parallelism"] == res["best"]["parallelism"] and out["best"]["batch"] == res["best"]["batch"]
    rows = logic.search_rows(res["top"])
    assert len(rows) == 3 and all(r["TPOT (ms)"] <= 20.0 for r in rows)


@pytest.mark.parametrize("arrival", ["poisson", "gamma"])
def test_serving_run_and_its_command_line_agree(tmp_path, capsys, arrival):
    state = {**logic.defaults(logic.serving_fields()), "model": "llama-3.1-8b", "tp": 1, "rate": 3.0,
             "requests": 60, "arrival": arrival, "dataset": "sharegpt" if arrival == "gamma" else logic.FIXED}
    req = logic.serving_request(state)
    assert (req.rate is None) == (arrival == "gamma")
    r = logic.simulate(req)
    path = tmp_path / "serving.yaml"
    path.write_text(logic.to_yaml(req.scenario))
    out = _cli_json(capsys, logic.command_line("simulate", req.scenario, req.args(), "serving.yaml"),
                    {"serving.yaml": path})
    assert out["ttft_s"] == r["ttft_s"] and out["tpot_s"] == r["tpot_s"]
    assert out["goodput_req_s"] == r["goodput_req_s"]
    # the same run at another rate: the arrival rate follows
    d, rate = req.at_rate(6.0)
    assert (rate or d["workload"]["arrival"]["rate_per_s"]) == 6.0


def test_serving_rows_follow_the_rate():
    state = {**logic.defaults(logic.serving_fields()), "model": "llama-3.1-8b", "tp": 1, "requests": 40}
    rows = logic.serving_rows(logic.serving_request(state), 1.0)
    assert [r["rate (requests/s)"] for r in rows] == list(logic.RATE_STEPS)
    # below saturation the deployment serves what arrives: more requests a second, more tokens a second
    assert rows[-1]["tokens/s"] > rows[0]["tokens/s"]


def test_compare_designs_fronts_and_jsonl(tmp_path, capsys):
    state = {**logic.defaults(logic.compare_fields()), "model": "llama-3.1-8b", "hw1": "h100-sxm", "tp1": 1,
             "hw2": "none", "hw3": "h200", "tp3": 2, "w3": "bf16"}
    designs = logic.compare_dicts(state)
    assert [n for n, _ in designs] == ["1: h100-sxm x1 fp8", "3: h200 x2 bf16"]
    f = logic.front(designs[0][1])
    most = logic.predict({**designs[0][1], "workload": {**designs[0][1]["workload"], "batch": "max"}})["batch"]
    assert f[0]["batch"] == 1 and f[-1]["batch"] <= most
    speeds = [p["tokens/s/user"] for p in f]
    assert speeds == sorted(speeds, reverse=True)          # a larger batch: each user waits longer per token
    path = tmp_path / "compare.jsonl"
    path.write_text(logic.to_jsonl([d for _, d in designs]))
    res = run_cli(capsys, "predict", "--batch", str(path), "--json")
    assert_answered(res)
    lines = [json.loads(x) for x in res.stdout.splitlines()]
    for (_, d), line in zip(designs, lines, strict=True):
        _same(line, logic.predict(d))
    rows = logic.compare_rows([n for n, _ in designs], [logic.predict(d) for _, d in designs])
    assert rows[0]["metric"] == "time to first token (TTFT) (ms)" and len(rows[0]) == 3
    with pytest.raises(LlmhwError, match="hw1"):
        logic.compare_dicts({**state, "hw1": "none", "hw3": "none"})


def test_roofline_points_lie_under_the_roof():
    d = logic.scenario_dict(logic.defaults(logic.scenario_fields()))
    p = logic.predict(d)
    roof = logic.roofline(d, p)
    assert roof.dtype == "fp8"
    by = {pt["step"]: pt for pt in roof.points}
    for pt in roof.points:
        bound = min(roof.peak_flops, pt["flop_per_byte"] * roof.bandwidth_bytes_per_s) / 1e12
        assert 0 < pt["tflops"] <= bound * (1 + 1e-9)
    # a prompt reuses each weight over its tokens; a decode step over its requests only
    assert by["prefill"]["flop_per_byte"] > by["decode"]["flop_per_byte"]
    ridge = roof.peak_flops / roof.bandwidth_bytes_per_s
    line = roof.line(lo=ridge / 10, hi=ridge * 10, n=3)
    assert line[1]["tflops"] == pytest.approx(roof.peak_flops / 1e12)
    assert line[0]["tflops"] == pytest.approx(roof.peak_flops / 10 / 1e12)


def test_an_uploaded_config_is_the_catalog_model():
    data = (CATALOG / "llama-3.1-8b.json").read_bytes()
    spec = logic.uploaded_model("config.json", data)
    d = logic.scenario_dict({**logic.defaults(logic.scenario_fields()), "model": "llama-3.1-8b", "tp": 1})
    _same(logic.predict(logic.with_model(d, spec)), logic.predict(d))


@pytest.mark.parametrize("data, words", [
    (b"\xff\xfe{}", ["UTF-16"]),
    (b'{"model_type": "llama",', ["mine.json"]),
    (b"[1, 2]", ["mine.json", "object"]),
    (b'{"model_type": "no-such-architecture"}', ["model_type"]),
    (b'{"a": NaN}', ["mine.json"]),
    (b" " * (3 << 20), ["bytes"]),
])
def test_a_bad_upload_is_one_message(data, words):
    with pytest.raises(LlmhwError) as err:
        logic.uploaded_model("mine.json", data)
    text = str(err.value)
    assert "\n" not in text and all(w in text for w in words), text


def test_quick_flags_only_when_every_field_has_one():
    d = logic.scenario_dict(logic.defaults(logic.scenario_fields()))
    flags = logic.quick_flags(d)
    assert flags is not None and flags[:2] == ["--model", "llama-3.1-70b"]
    assert logic.quick_flags({**d, "placement": {"weights": "hbm3"}}) is None
    assert logic.quick_flags({**d, "workload": {**d["workload"], "arrival": {"process": "poisson"}}}) is None
    assert math.isclose(float(flags[flags.index("--batch") + 1]), 64)


# -- llmhw serve: refused before any server starts ------------------------------------------------


def test_serve_without_streamlit_says_how_to_install(capsys, monkeypatch):
    from llmhw.web import server

    real = server.importlib.util.find_spec
    monkeypatch.setattr(server.importlib.util, "find_spec", lambda n, *a: None if n == "streamlit" else real(n, *a))
    assert_refused(run_cli(capsys, "serve"), "pip install 'llmhw[web]'")


@pytest.mark.parametrize("args, names", [(["--port", "0"], ["--port", "65535"]),
                                         (["--port", "70000"], ["--port"]),
                                         (["--host", "192.0.2.1"], ["--host", "192.0.2.1"])])
def test_serve_refuses_a_bad_address(capsys, args, names):
    assert_refused(run_cli(capsys, "serve", *args), *names)


def test_serve_refuses_a_port_in_use(capsys):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert_refused(run_cli(capsys, "serve", "--port", str(port)), "--port", str(port))


def test_the_sweep_does_not_depend_on_the_swept_controls_own_value():
    state = {**logic.defaults(logic.whatif_fields()), "sweep_n": 2, "hop_ns": 400.0}
    _, variant = logic.whatif_dicts(state)
    assert variant["overrides"]["interconnect.hop_latency_s"] == 4e-7
    base = logic.swept_base(variant, state)
    assert "interconnect.hop_latency_s" not in base["overrides"] and "chip.stacked" in base["overrides"]
    _, plain = logic.whatif_dicts({**state, "hop_ns": 0.0})
    assert logic.whatif_sweep(variant, state) == logic.whatif_sweep(plain, state)
