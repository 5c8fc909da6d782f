"""Numbers in scenarios, hardware specs, economics and sweeps (issue 13): NaN, infinities, 1e-300,
1e30, booleans and strings where numbers belong, units that are numbers. Each is refused with one
line naming the field; odd but valid inputs are answered, with a note where they deserve one, and
every number a valid answer prints is finite."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.robustness.harness import assert_answered, assert_refused, run_cli, strict_json, write

import llmhw
from llmhw.core.errors import LlmhwError
from llmhw.core.provenance import Sourced, field_unit
from llmhw.core.units import RANGES

WORKLOAD = "workload: {input_tokens: 128, output_tokens: 32, batch: 1}"


def scenario(*lines: str, workload: str = WORKLOAD, hardware: str = "h100-sxm") -> str:
    """A minimal scenario (Llama 3.1 8B on one H100) with extra top-level YAML lines."""
    return "\n".join(["model: llama-3.1-8b", f"hardware: {hardware}", workload, *lines]) + "\n"


# (scenario YAML, names the error line must hold)
WORKLOAD_CASES = [
    ("{input_tokens: 1e29, output_tokens: 32}", "workload.input_tokens"),      # YAML 1.1: a string
    ("{input_tokens: 1.0e29, output_tokens: 32}", "workload.input_tokens"),
    ("{input_tokens: .nan, output_tokens: 32}", "workload.input_tokens"),
    ("{input_tokens: 128, output_tokens: .inf}", "workload.output_tokens"),
    ("{input_tokens: 128, output_tokens: -4}", "workload.output_tokens"),
    ("{input_tokens: 128, output_tokens: 32, batch: true}", "workload.batch"),
    ("{input_tokens: 128, output_tokens: 32, batch: 0}", "workload.batch"),
    ("{input_tokens: 128, output_tokens: 32, batch: 2.5}", "workload.batch"),
    ("{input_tokens: 128, output_tokens: 32, batch: maximum}", "workload.batch"),
    ("{input_tokens: 128, output_tokens: 32, batch: 1.0e12}", "workload.batch"),
    ("{input_tokens: 128, output_tokens: 32, prefill_chunk_tokens: 0}", "workload.prefill_chunk_tokens"),
    ("{input_tokens: 128, output_tokens: 32, prefix_cached_tokens: -1}", "workload.prefix_cached_tokens"),
    ("{input_tokens: 128, output_tokens: 32, length_ratio: .nan}", "workload.length_ratio"),
    ("{input_tokens: 128, output_tokens: 32, length_ratio: true}", "workload.length_ratio"),
    ("{input_tokens: 128, output_tokens: 32, seed: true}", "workload.seed"),
    ("{input_tokens: 128, output_tokens: 32, requests: 1.0e30}", "workload.requests"),
    ("{input_tokens: 128, output_tokens: 32, arrival: {process: poisson, rate_per_s: .inf}}",
     "workload.arrival.rate_per_s"),
    ("{input_tokens: 128, output_tokens: 32, arrival: {process: gamma, rate_per_s: 1, cv: .nan}}",
     "workload.arrival.cv"),
    ("{input_tokens: 128, output_tokens: 32, speculative: {draft_tokens: true, acceptance: 0.5}}",
     "workload.speculative.draft_tokens"),
]

SCENARIO_CASES = [
    ("parallelism: {dp: 1e30}", "parallelism.dp"),
    ("parallelism: {dp: 1.0e30}", "parallelism.dp"),
    ("parallelism: {tp: true}", "parallelism.tp"),
    ("parallelism: {tp: 2.5}", "parallelism.tp"),
    ("parallelism: {pp: -1}", "parallelism.pp"),
    ("parallelism: {ep: .inf}", "parallelism.ep"),
    ("parallelism: {tp: 1000, pp: 1000, dp: 1000}", "parallelism"),
    ("n_chips: true", "n_chips"),
    ("n_chips: 1.0e30", "n_chips"),
    ("memory_utilization: .nan", "memory_utilization"),
]

OVERRIDE_CASES = [
    ("chip.peak_flops.bf16: .nan", "overrides.chip.peak_flops.bf16"),
    ("chip.peak_flops.bf16: .inf", "overrides.chip.peak_flops.bf16"),
    ("chip.peak_flops.fp8: 1.0e-300", "overrides.chip.peak_flops.fp8"),
    ("chip.peak_flops: {bf16: true}", "overrides.chip.peak_flops.bf16"),
    ("'chip.memory[0].bandwidth_bytes_per_s': 1.0e-300", "overrides.chip.memory[0].bandwidth_bytes_per_s"),
    ("'chip.memory[0].bandwidth_bytes_per_s': -.inf", "overrides.chip.memory[0].bandwidth_bytes_per_s"),
    ("'chip.memory[0].bandwidth_bytes_per_s': true", "overrides.chip.memory[0].bandwidth_bytes_per_s"),
    ("'chip.memory[0].bandwidth_bytes_per_s': {value: 3, unit: 5}",
     "overrides.chip.memory[0].bandwidth_bytes_per_s.unit"),
    ("'chip.memory[0].bandwidth_bytes_per_s': {value: .nan, unit: TB/s}",
     "overrides.chip.memory[0].bandwidth_bytes_per_s"),
    ("'chip.memory[0].capacity_bytes': 1.0e300", "overrides.chip.memory[0].capacity_bytes"),
    ("'chip.memory[0].energy_j_per_bit': 1.0e10", "overrides.chip.memory[0].energy_j_per_bit"),
    ("interconnect.link.bandwidth_bytes_per_s: .nan", "overrides.interconnect.link.bandwidth_bytes_per_s"),
    ("interconnect.link.latency_s: .inf", "overrides.interconnect.link.latency_s"),
    ("interconnect.hop_latency_s: 1.0e-300", "overrides.interconnect.hop_latency_s"),
    ("scale_out.link.bandwidth_bytes_per_s: 1.0e-300", "overrides.scale_out.link.bandwidth_bytes_per_s"),
    ("chip.near_memory: {tech: pnm-hbm, peak_flops: {bf16: .inf}}", "overrides.chip.near_memory.peak_flops.bf16"),
    ("chip.near_memory: {tech: pnm-hbm, internal_bandwidth_multiplier: 1.0e300}",
     "overrides.chip.near_memory.internal_bandwidth_multiplier"),
    ("chip.stacked: {tech: 3d-dram-soic-gen1, connection_pitch_m: 1.0e-300}",
     "overrides.chip.stacked.connection_pitch_m"),
    ("chip.stacked: {tech: 3d-dram-soic-gen1, connection_pitch_m: 1.0e-10, stack_area_m2: 1.0}",
     "overrides.chip.stacked"),                         # its derived bandwidth: 1e20 pads x 2 Gb/s
    ("chip.tdp_w: .nan", "overrides.chip.tdp_w"),
    ("chip.price_usd: -1", "overrides.chip.price_usd"),
    ("system.price_usd: .inf", "overrides.system.price_usd"),
]

ECONOMICS_CASES = [
    ("electricity_usd_per_kwh: .inf", "economics.electricity_usd_per_kwh"),
    ("electricity_usd_per_kwh: {value: 8, unit: 5}", "economics.electricity_usd_per_kwh.unit"),
    ("electricity_usd_per_kwh: {value: .nan, unit: cents/kWh}", "economics.electricity_usd_per_kwh"),
    ("pue: .nan", "economics.pue"),
    ("pue: true", "economics.pue"),
    ("service_life_years: 1.0e-300", "economics.service_life_years"),
    ("regions: {mars: .inf}", "economics.regions.mars"),
    ("host_capex_share: 1.0e300", "economics.host_capex_share"),
    ("grid_gco2e_per_kwh: .nan", "economics.grid_gco2e_per_kwh"),
    ("logic_price_usd_per_flops: 1.0e300", "economics.logic_price_usd_per_flops"),
    ("interest_rate: .inf", "economics.interest_rate"),
    ("energy_j_per_flop: {bf16: .nan}", "economics.energy_j_per_flop.bf16"),
]

CHIP = "id: mychip\nfamily: nvidia-gpu\n"
MEMORY = "memory: [{tech: hbm3, capacity_bytes: 80.0e9, bandwidth_bytes_per_s: 3.35e12}]\n"
FLOPS = "peak_flops: {bf16: 1.0e15}\n"

# (hardware spec file, names the error line must hold)
HARDWARE_CASES = [
    (CHIP + "peak_flops: {bf16: .nan}\n" + MEMORY, "hw.yaml.peak_flops.bf16"),
    (CHIP + FLOPS + "memory: [{tech: hbm3, capacity_bytes: 80.0e9, bandwidth_bytes_per_s: .inf}]\n",
     "hw.yaml.memory[0].bandwidth_bytes_per_s"),
    (CHIP + "peak_flops: {bf16: {value: 989, unit: 12}}\n" + MEMORY, "hw.yaml.peak_flops.bf16.unit"),
    (CHIP + "peak_flops: {bf16: {value: 989, unit: [TFLOP/s]}}\n" + MEMORY, "hw.yaml.peak_flops.bf16.unit"),
    (CHIP + FLOPS + "memory: [{tech: hbm3, capacity_bytes: {value: 80, unit: GB, source: [1, 2]}}]\n",
     "hw.yaml.memory[0].capacity_bytes.source"),
    (CHIP + FLOPS + "memory: [{tech: hbm3, capacity_bytes: {value: 80, unit: GB, low: abc}}]\n",
     "hw.yaml.memory[0].capacity_bytes.low"),
    (CHIP + FLOPS + MEMORY + "tdp_w: 1.0e300\n", "hw.yaml.tdp_w"),
    (CHIP + FLOPS + MEMORY + "sram_bytes: true\n", "hw.yaml.sram_bytes"),
    (CHIP + FLOPS + MEMORY + "year: 1.0e30\n", "hw.yaml.year"),
    (CHIP + FLOPS + MEMORY + "scale_up: {id: x, topology: switch, domain_size: 8, links_per_chip: 18, "
     "link: {id: l, bandwidth_bytes_per_s: 1.0e-300}}\n", "hw.yaml.scale_up.link.bandwidth_bytes_per_s"),
    (CHIP + FLOPS + MEMORY + "scale_up: {id: x, topology: switch, domain_size: 1.0e30, links_per_chip: 18, "
     "link: nvlink4}\n", "hw.yaml.scale_up.domain_size"),
    (CHIP + FLOPS + MEMORY + "near_memory: {tech: pnm-hbm, shard_bytes: .nan}\n", "hw.yaml.near_memory.shard_bytes"),
    # A unit that measures something else than the field holds: a slip, not a conversion.
    (CHIP + FLOPS + "memory: [{tech: hbm3, capacity_bytes: 80.0e9, bandwidth_bytes_per_s: {value: 3, unit: TB}}]\n",
     "hw.yaml.memory[0].bandwidth_bytes_per_s.unit"),
    (CHIP + FLOPS + "memory: [{tech: hbm3, capacity_bytes: {value: 80, unit: GB/s}}]\n",
     "hw.yaml.memory[0].capacity_bytes.unit"),
    (CHIP + "peak_flops: {bf16: {value: 989, unit: TB/s}}\n" + MEMORY, "hw.yaml.peak_flops.bf16.unit"),
    (CHIP + FLOPS + MEMORY + "tdp_w: {value: 700, unit: J}\n", "hw.yaml.tdp_w.unit"),
]


@pytest.mark.parametrize("workload, field", WORKLOAD_CASES)
def test_bad_workload_numbers(capsys, tmp_path, workload, field):
    p = write(tmp_path, "s.yaml", scenario(workload=f"workload: {workload}"))
    assert_refused(run_cli(capsys, "predict", p), field)


@pytest.mark.parametrize("line, field", SCENARIO_CASES)
def test_bad_scenario_numbers(capsys, tmp_path, line, field):
    p = write(tmp_path, "s.yaml", scenario(line))
    assert_refused(run_cli(capsys, "predict", p), field)


@pytest.mark.parametrize("override, field", OVERRIDE_CASES)
def test_bad_hardware_overrides(capsys, tmp_path, override, field):
    p = write(tmp_path, "s.yaml", scenario(f"overrides: {{{override}}}"))
    assert_refused(run_cli(capsys, "predict", p), field)


@pytest.mark.parametrize("entry, field", ECONOMICS_CASES)
def test_bad_economics(capsys, tmp_path, entry, field):
    p = write(tmp_path, "s.yaml", scenario(f"economics: {{{entry}}}"))
    assert_refused(run_cli(capsys, "predict", p), field)


@pytest.mark.parametrize("spec, field", HARDWARE_CASES)
def test_bad_hardware_files(capsys, tmp_path, spec, field):
    write(tmp_path, "hw.yaml", spec)
    p = write(tmp_path, "s.yaml", scenario(hardware="hw.yaml"))
    assert_refused(run_cli(capsys, "predict", p), field)


@pytest.mark.parametrize("line, field", [
    ("parallelism: {dp: 1.0e30}", "parallelism.dp"),
    ("overrides: {chip.peak_flops.bf16: .nan}", "overrides.chip.peak_flops.bf16"),
    ("overrides: {'chip.memory[0].capacity_bytes': {value: 80, unit: 80}}", "overrides.chip.memory[0].capacity_bytes.unit"),
    ("economics: {pue: .inf}", "economics.pue"),
])
def test_fit_refuses_the_same(capsys, tmp_path, line, field):
    p = write(tmp_path, "s.yaml", scenario(line))
    assert_refused(run_cli(capsys, "fit", p), field)


@pytest.mark.parametrize("vary, names", [
    ("chip.peak_flops.bf16=.nan", ["overrides.chip.peak_flops.bf16"]),
    ("chip.peak_flops.bf16=nan", ["overrides.chip.peak_flops.bf16"]),
    ("chip.peak_flops.bf16=1e400", ["overrides.chip.peak_flops.bf16"]),
    ("chip.peak_flops.bf16=-5", ["overrides.chip.peak_flops.bf16"]),
    ("chip.memory[0].bandwidth_bytes_per_s=1e-300", ["overrides.chip.memory[0].bandwidth_bytes_per_s"]),
    ("chip.memory[0].bandwidth_bytes_per_s=3e12,inf", ["overrides.chip.memory[0].bandwidth_bytes_per_s"]),
    ("chip.memory[0].bandwidth_bytes_per_s=1..1e400:lin:3", ["--vary"]),
    ("chip.memory[0].bandwidth_bytes_per_s=-1..5:log:3", ["--vary"]),
    ("chip.tdp_w=1..2:lin:100000000", ["--vary", "10,000"]),
    ("interconnect.hop_latency_s=1e5", ["overrides.interconnect.hop_latency_s"]),
    ("interconnect.link.bandwidth_bytes_per_s=true", ["overrides.interconnect.link.bandwidth_bytes_per_s"]),
    ("chip.nope=3", ["overrides.chip.nope"]),
    ("warp.drive=3", ["overrides.warp.drive"]),
    ("chip.memory=;", ["--vary"]),
    ("chip.tdp_w=", ["--vary"]),
])
def test_whatif_vary_refuses(capsys, tmp_path, vary, names):
    p = write(tmp_path, "s.yaml", scenario())
    assert_refused(run_cli(capsys, "whatif", p, "--vary", vary), *names)


def test_a_bad_quantity_in_a_jsonl_line_spares_the_others(capsys, tmp_path):
    good = {"model": "llama-3.1-8b", "hardware": "h100-sxm",
            "workload": {"input_tokens": 128, "output_tokens": 32, "batch": 1}}
    bad = {**good, "overrides": {"chip.memory[0].bandwidth_bytes_per_s": {"value": 3, "unit": 5}}}
    p = write(tmp_path, "b.jsonl", json.dumps(bad) + "\n" + json.dumps(good) + "\n")
    res = run_cli(capsys, "predict", "--batch", p, "--json")
    assert_answered(res)
    lines = [strict_json(x) for x in res.stdout.splitlines()]
    assert lines[0]["error"]["field"] == "overrides.chip.memory[0].bandwidth_bytes_per_s.unit"
    assert lines[1]["tpot_s"] > 0


# -- odd but valid: answered, finite, with a note ------------------------------------------------


def test_a_prompt_past_the_context_is_priced_with_a_note(capsys, tmp_path):
    # Llama 3.1's context is 131,072 tokens (its config.json); a 200,000-token prompt is priced
    # (studies ask what long contexts cost) and said, in the table and the JSON.
    p = write(tmp_path, "s.yaml", scenario(workload="workload: {input_tokens: 200000, output_tokens: 32, batch: 1}"))
    res = run_cli(capsys, "predict", p)
    assert_answered(res)
    assert "131,072" in res.stdout and "max_context" in res.stdout
    d = strict_json(run_cli(capsys, "predict", p, "--json").stdout)
    assert any("131,072" in n for n in d["notes"])
    assert d["ttft_s"] > 0
    fit = strict_json(run_cli(capsys, "fit", p, "--json").stdout)
    assert any("131,072" in n for n in fit["notes"])


def test_batch_max_when_the_weights_alone_overflow(capsys, tmp_path):
    # Llama 3.1 405B in bf16 is 811 GB of weights; one H100 has 80 GB. 'max' cannot be 0 requests
    # (no tokens to share energy and cost by): it is priced at one request that does not fit.
    p = write(tmp_path, "s.yaml", "model: llama-3.1-405b\nhardware: h100-sxm\n"
              "workload: {input_tokens: 128, output_tokens: 32, batch: max}\n")
    res = run_cli(capsys, "predict", p, "--json")
    assert_answered(res)
    d = strict_json(res.stdout)
    assert d["batch"] == 1 and d["max_batch"] == 0 and not d["fits"]
    assert any("batch 'max'" in n for n in d["notes"])
    over = [n for n in d["notes"] if n.startswith("does not fit")]
    assert over and "GB over" in over[0]
    # One request's energy: finite and of the order of a batch-1 token on an H100 (hundreds of J:
    # 0.5 kW for 0.3 s), nowhere near the 7e32 J a batch of 0 gave.
    assert 1 < d["energy_j_per_token"] < 1e4
    f = strict_json(run_cli(capsys, "fit", p, "--json").stdout)
    assert f["batch"] == 1 and not f["fits"] and f["overflow_bytes"] > 700e9


@pytest.mark.parametrize("workload", [
    "{input_tokens: 1e3, output_tokens: 32, batch: 1}",       # YAML 1.1 string '1e3': the number 1000
    "{input_tokens: 128.0, output_tokens: 32, batch: 2.0}",   # whole floats, as a script writes them
])
def test_whole_numbers_written_otherwise_are_read(capsys, tmp_path, workload):
    p = write(tmp_path, "s.yaml", scenario(workload=f"workload: {workload}"))
    res = run_cli(capsys, "predict", p, "--json")
    assert_answered(res)
    d = strict_json(res.stdout)
    assert d["input_tokens"] in (1000, 128) and isinstance(d["input_tokens"], int)


# -- llmhw.sweep -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small():
    return llmhw.Scenario.from_dict({"model": "llama-3.1-8b", "hardware": "h100-sxm",
                                     "workload": {"input_tokens": 128, "output_tokens": 32, "batch": 4}})


@pytest.mark.parametrize("kw, field", [
    ({"batch": -2}, "batch"),                      # only -1 means 'max'
    ({"batch": 0}, "batch"),
    ({"batch": [1.5, 2]}, "batch"),
    ({"batch": [True, False]}, "batch"),
    ({"batch": [[1, 2], [3]]}, "batch"),
    ({"batch": 2e9}, "batch"),
    ({"input_tokens": np.nan}, "input_tokens"),
    ({"input_tokens": np.inf}, "input_tokens"),
    ({"input_tokens": -5}, "input_tokens"),
    ({"input_tokens": "1024"}, "input_tokens"),
    ({"output_tokens": []}, "output_tokens"),
    ({"output_tokens": {"a": 1}}, "output_tokens"),
    ({"batch": np.arange(1, 4), "input_tokens": np.arange(1, 5)}, "input_tokens"),
    ({"batch": np.ones(4000)[:, None], "input_tokens": np.ones(4000)}, "batch"),   # 16 million points
])
def test_sweep_refuses_bad_axes(small, kw, field):
    with pytest.raises(LlmhwError) as e:
        llmhw.sweep(small, **kw)
    assert field in (e.value.field or "")


def test_sweep_economics_refuses_an_unknown_axis(small):
    with pytest.raises(LlmhwError) as e:
        llmhw.api.sweep_economics(small, batches=[1, 2])
    assert e.value.field == "batches"


def test_sweep_batch_minus_one_is_max(small):
    g = llmhw.sweep(small, batch=[1, -1], input_tokens=np.array([128]))
    # -1 takes the largest batch that fits, capped by the default engine's 1024 requests.
    assert g["batch"][0] == 1 and g["batch"][1] == g["max_batch"][1] == 1024
    e = llmhw.api.sweep_economics(small, batch=[1, -1])
    assert np.all(np.isfinite(e["energy_j_per_token"]))


def test_a_nonfinite_metric_is_reported_not_returned(small, monkeypatch):
    # A bug that made a metric NaN must surface as an error naming the metric and the inputs.
    from llmhw.serving import closed_loop

    real = closed_loop.Engine._closed_loop

    def broken(self, *a):
        loop = real(self, *a)
        return loop._replace(tpot=loop.tpot * np.nan)

    monkeypatch.setattr(closed_loop.Engine, "_closed_loop", broken)
    with pytest.raises(LlmhwError) as e:
        llmhw.predict(small)
    assert e.value.field in ("tpot_s", "tok_s_per_user") and "llama-3.1-8b" in str(e.value)
    with pytest.raises(LlmhwError) as e:
        llmhw.sweep(small, batch=[1, 2])
    assert "batch 1" in str(e.value)


def test_whatif_refuses_an_empty_list(small):
    with pytest.raises(LlmhwError) as e:
        llmhw.api.whatif(small, "chip.tdp_w", [])
    assert e.value.field == "values"


# -- every bound has a home, every hardware number a bound -----------------------------------------


def _spec_classes() -> list[type[Sourced]]:
    from llmhw.hardware import chip, interconnect, memory, near_memory, physics, stacking, system  # noqa: F401

    out, todo = [], list(Sourced.__subclasses__())
    while todo:
        c = todo.pop()
        out.append(c)
        todo += c.__subclasses__()
    return out


def test_every_hardware_number_is_bounded():
    # A number field either has a unit (by its name) whose range is in RANGES, or its own two-sided
    # constraint (a share in [0, 1]); a new field that has neither would let 1e300 through.
    for cls in _spec_classes():
        for name, f in cls.model_fields.items():
            if name == "provenance" or not re.search(r"\b(float|int)\b", str(f.annotation)):
                continue
            unit = field_unit(name)
            bounded = bool({type(m).__name__ for m in f.metadata} & {"Le", "Lt"})
            assert (unit in RANGES) or bounded, f"{cls.__name__}.{name}: no range"


def test_the_catalog_lies_inside_the_ranges():
    # The shipped hardware is the widest real evidence the bounds must admit: every number of
    # every entry loads (the checks run on load) and sits well inside its range.
    from llmhw.hardware import catalog

    for _, table in catalog._tables():
        assert table
    bw = [t.bandwidth_bytes_per_s for c in catalog.chips().values() for t in c.memory]
    assert RANGES["B/s"].lo * 1e6 < min(bw) and max(bw) < RANGES["B/s"].hi / 1e3


# -- a fuzz of Scenario.from_dict: an error, or a prediction whose numbers are all finite ---------

_JUNK = st.one_of(
    st.integers(min_value=-10, max_value=10), st.integers(min_value=-(10**40), max_value=10**40),
    st.sampled_from([0.0, -1.0, 0.5, 1.5, 1e-300, 1e300, math.nan, math.inf, -math.inf, 2.0, 8.0]),
    st.booleans(), st.none(), st.sampled_from(["max", "abc", "1e3", "", "nan"]),
    st.just([1, 2]), st.just({"value": 3, "unit": 5}), st.just({"value": 1.0, "unit": "TB/s"}),
)
_OVERRIDES = ["chip.peak_flops.bf16", "chip.memory[0].bandwidth_bytes_per_s", "chip.memory[0].capacity_bytes",
              "interconnect.link.bandwidth_bytes_per_s", "interconnect.hop_latency_s", "chip.tdp_w",
              "chip.price_usd", "chip.memory[0].energy_j_per_bit", "chip.memory[0].static_power_w"]
_ECONOMICS = ["electricity_usd_per_kwh", "pue", "utilization", "service_life_years", "grid_gco2e_per_kwh",
              "host_capex_share", "interest_rate", "facility_usd_per_w"]
_WORKLOAD = ["input_tokens", "output_tokens", "batch", "prefill_chunk_tokens", "length_ratio"]


def _some(keys: list[str], values: st.SearchStrategy) -> st.SearchStrategy:
    """Most blocks untouched, so that each draw spoils few things and many draws are answered."""
    return st.one_of(st.just({}), st.just({}), st.just({}), st.dictionaries(st.sampled_from(keys), values, max_size=2))


# Plausible values mixed in, so that valid scenarios are drawn too.
_NUMBER = st.one_of(_JUNK, st.integers(min_value=1, max_value=4096), st.floats(min_value=1e-3, max_value=1e16))
_DEGREE = st.one_of(st.sampled_from([1, 1, 2, 4, 8]), _JUNK)


@settings(max_examples=200, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(workload=_some(_WORKLOAD, _NUMBER), parallelism=_some(["tp", "pp", "dp", "ep"], _DEGREE),
       precision=_some(["weights", "kv_cache"], st.sampled_from(["fp8", "bf16", "fp4", "fp7", 8, True])),
       overrides=_some(_OVERRIDES, _NUMBER), economics=_some(_ECONOMICS, _NUMBER))
def test_fuzz_scenarios_error_or_finite(workload, parallelism, precision, overrides, economics):
    d = {"model": "llama-3.1-8b", "hardware": "h100-sxm",
         "workload": {"input_tokens": 128, "output_tokens": 32, "batch": 1, **workload},
         "parallelism": parallelism, "precision": precision, "overrides": overrides, "economics": economics}
    try:
        out = llmhw.predict(d).to_dict()
    except LlmhwError as exc:
        assert exc.field and len(str(exc)) < 2000
        return
    json.dumps(out, allow_nan=False)                  # every number finite
    if out["cost_usd_per_mtok"] is None:              # a missing figure is said, never silent
        assert any("economics unavailable" in n for n in out["notes"])


def test_fuzz_found_both_outcomes():
    # The fuzz above would pass vacuously if every draw were refused: a plausible draw is answered.
    d = {"model": "llama-3.1-8b", "hardware": "h100-sxm",
         "workload": {"input_tokens": 4096, "output_tokens": 1, "batch": 3},
         "overrides": {"chip.tdp_w": 1e-3, "chip.memory[0].bandwidth_bytes_per_s": 1.0},
         "economics": {"pue": 1.0, "utilization": 1e-3}}
    out = llmhw.predict(d).to_dict()
    json.dumps(out, allow_nan=False)
    assert out["tpot_s"] > 1e9      # 16 GB of weights at 1 B/s per token: over 500 years


def test_python_api_values_of_the_wrong_kind_are_named():
    # Through the Python API, not only YAML: an array where one number belongs, a number where
    # an SLO string belongs.
    base = {"model": "llama-3.1-8b", "hardware": "h100-sxm",
            "workload": {"input_tokens": 128, "output_tokens": 32, "batch": np.array([1, 2])}}
    with pytest.raises(LlmhwError, match="workload.batch: expected a whole number"):
        llmhw.predict(base)
    base["workload"]["batch"] = 1
    with pytest.raises(LlmhwError, match="--slo"):
        llmhw.search(base, slo=[5])
