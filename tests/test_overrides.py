"""What-if overrides: dotted paths into a system, presets by name, errors that name the field,
provenance, and the `llmhw whatif` command (docs/whatif.md)."""

import json

import pytest

import llmhw
from llmhw.core.errors import LlmhwError
from llmhw.hardware import whatif
from llmhw.hardware.catalog import lookup
from llmhw.hardware.system import System
from llmhw.hardware.whatif import apply_overrides, is_list_path
from llmhw.scenario import Scenario

BASE = {"model": "llama-3.1-70b", "hardware": "h100-sxm", "n_chips": 8, "parallelism": {"tp": 8},
        "precision": {"weights": "bf16", "kv_cache": "bf16"},
        "workload": {"input_tokens": 1024, "output_tokens": 128, "batch": 1}, "engine": "ideal"}


def scenario(**extra):
    return Scenario.from_dict({**BASE, **extra})


def decode(s):
    return llmhw.predict(s).to_dict()["breakdown"]["decode"]


def field_of(overrides, hardware="hgx-h100-8"):
    with pytest.raises(LlmhwError) as exc:
        apply_overrides(lookup(hardware), overrides)
    return exc.value


# -- effects on the prediction ----------------------------------------------------------------


def test_doubling_memory_bandwidth_halves_memory_bound_decode_memory_time():
    # Without the tier's access latency (a fixed cost per operator), a read's time is
    # bytes / (bandwidth x memory_eff(bytes)), and memory_eff depends on bytes only: doubling the
    # bandwidth halves every operator's memory time, so the memory-bound step's sum halves.
    s = scenario(overrides={"chip.memory[0].latency_s": None})
    bw = s.chip.memory[0].bandwidth_bytes_per_s
    before = decode(s)
    after = decode(s.replace(overrides={**s.overrides, "chip.memory[0].bandwidth_bytes_per_s": 2 * bw}))
    assert before["bound"] == after["bound"] == "memory"
    assert before["compute_s"] == after["compute_s"] == 0.0
    assert after["memory_s"] == pytest.approx(before["memory_s"] / 2, rel=1e-9)
    assert after["comm_s"] == pytest.approx(before["comm_s"], rel=1e-12)


def test_bandwidth_scaling_with_access_latency_by_hand():
    # With latency: memory_s(bw) = B / bw' + L. Three bandwidths give B/2 and B/4 as differences.
    s = scenario()
    bw = s.chip.memory[0].bandwidth_bytes_per_s
    m = [decode(s.replace(overrides={"chip.memory[0].bandwidth_bytes_per_s": k * bw}))["memory_s"]
         for k in (1, 2, 4)]
    assert (m[0] - m[1]) == pytest.approx(2 * (m[1] - m[2]), rel=1e-9)


def test_hop_latency_changes_only_comm_monotonically():
    s = scenario()
    rows = [decode(s.replace(overrides={"interconnect.hop_latency_s": v})) for v in (5e-8, 1e-7, 5e-7, 1e-6)]
    comm = [r["comm_s"] for r in rows]
    assert all(a < b for a, b in zip(comm, comm[1:], strict=False))
    for key in ("compute_s", "memory_s", "overhead_s"):
        assert len({r[key] for r in rows}) == 1, key
    # 161 latency-bound collectives a step (docs/engine.md), each a single one-hop step over NVSwitch
    # (one-shot: with 0.6 us of synchronisation per step a second step costs more than the bytes it
    # saves at 16 KB), so the step grows by 161 x the hop latency's growth.
    assert comm[-1] - comm[0] == pytest.approx(161 * (1e-6 - 5e-8), rel=1e-6)


def test_interconnect_on_a_chip_scenario_is_the_chips_scale_up():
    s = scenario(overrides={"interconnect.hop_latency_s": 1e-7, "interconnect.topology": "full_mesh"})
    assert s.chip.scale_up.hop_latency_s == 1e-7 and s.chip.scale_up.topology == "full_mesh"
    assert s.system.scale_up_network.hop_latency_s == 1e-7
    assert s.base_hardware is lookup("h100-sxm")
    assert s.chip.id == "h100-sxm" and s.chip.label.endswith(" (what-if)")


def test_interconnect_on_a_system_with_its_own_network():
    hgx = lookup("hgx-h100-8")
    assert hgx.scale_up is not None
    r = whatif.replace(hgx, **{"interconnect.hop_latency_s": 2e-7})
    assert r.scale_up.hop_latency_s == 2e-7 and r.scale_up.id == hgx.scale_up.id
    assert r.chip == hgx.chip                       # the chip is untouched, its name too
    assert r.id == hgx.id and r.label == hgx.label + " (what-if)"
    r2 = whatif.replace(hgx, interconnect="nvlink5-nvl72")
    assert r2.scale_up_network.id == "nvlink5-nvl72"


# -- memory tiers -----------------------------------------------------------------------------


def test_memory_tiers_by_preset_name():
    r = whatif.replace(lookup("hgx-h100-8"), **{"chip.memory": ["hbm3e", "hbf"]})
    hbm, hbf = lookup("hbm3e"), lookup("hbf")
    assert [t.id for t in r.chip.memory] == ["hbm3e", "hbf"]
    for got, want in zip(r.chip.memory, (hbm, hbf), strict=True):
        assert got.capacity_bytes == want.capacity_bytes
        assert got.bandwidth_bytes_per_s == want.bandwidth_bytes_per_s
        assert got.latency_s == want.latency_s and got.memory_class == want.memory_class
        assert got.provenance["capacity_bytes"] == want.provenance["capacity_bytes"]
    assert r.chip.memory[1].memory_class == "flash"
    assert r.chip.provenance["memory"].status == "user"


def test_memory_tier_mapping_with_quantities_and_append():
    r = whatif.replace(lookup("hgx-h100-8"), overrides={
        "chip.memory[1]": {"tech": "hbf", "capacity_bytes": {"value": 1, "unit": "TB"}},
        "chip.memory[0].bandwidth_bytes_per_s": {"value": 8, "unit": "TB/s"},
    })
    assert len(r.chip.memory) == 2
    assert r.chip.memory[0].bandwidth_bytes_per_s == 8e12
    assert r.chip.memory[1].capacity_bytes == 1e12
    assert r.chip.memory[1].bandwidth_bytes_per_s == lookup("hbf").bandwidth_bytes_per_s
    assert r.chip.memory[1].provenance["capacity_bytes"].status == "user"
    assert r.chip.memory[1].provenance["bandwidth_bytes_per_s"].status == "announced"


def test_null_removes_a_tier():
    two = whatif.replace(lookup("hgx-h100-8"), **{"chip.memory": ["hbm3e", "hbf"]})
    assert [t.id for t in whatif.replace(two, **{"chip.memory[0]": None}).chip.memory] == ["hbf"]
    with pytest.raises(LlmhwError) as exc:
        whatif.replace(two, **{"chip.memory[0]": None, "chip.memory[1]": None})
    assert exc.value.field == "overrides.chip.memory[1]"


def test_whole_path_applies_before_paths_inside_it():
    r = apply_overrides(lookup("hgx-h100-8"), {"chip.memory[1].latency_s": 1e-6, "chip.memory": ["hbm3e", "hbf"]})
    assert r.chip.memory[1].id == "hbf" and r.chip.memory[1].latency_s == 1e-6


def test_peak_flops_entry_and_yaml_exponent_string():
    r = whatif.replace(lookup("hgx-h100-8"), **{"chip.peak_flops.fp8": "4e15"})   # YAML 1.1 reads 4e15 as a string
    assert r.chip.peak_flops["fp8"] == 4e15
    assert r.chip.peak_flops["bf16"] == lookup("h100-sxm").peak_flops["bf16"]


def test_system_fields_and_keyword_spelling():
    r = whatif.replace(lookup("hgx-h100-8"), system__price_usd=1e5, **{"system.n_chips": 4})
    assert r.price_usd == 1e5 and r.n_chips == 4
    assert r.provenance["price_usd"].status == "user"


def test_system_paths_on_a_chip_scenario_make_a_system():
    s = scenario(overrides={"system.price_usd": 2e5})
    assert isinstance(s.hardware, System) and s.system.price_usd == 2e5 and s.system.n_chips == 8


# -- provenance -------------------------------------------------------------------------------


def test_provenance_user_for_overridden_and_source_kept_for_the_rest():
    h100 = lookup("h100-sxm")
    r = whatif.replace(lookup("hgx-h100-8"), **{"chip.memory[0].bandwidth_bytes_per_s": 5e12, "chip.tdp_w": 900})
    p = r.chip.memory[0].provenance["bandwidth_bytes_per_s"]
    assert p.status == "user" and p.note == "override"
    assert r.chip.provenance["tdp_w"].status == "user"
    kept = r.chip.memory[0].provenance["capacity_bytes"]
    assert kept == h100.memory[0].provenance["capacity_bytes"] and kept.status != "user"
    assert r.chip.provenance["peak_flops.bf16"] == h100.provenance["peak_flops.bf16"]
    assert r.chip.provenance["peak_flops.bf16"].sources[0].startswith("https://")


def test_a_quantity_may_carry_its_own_provenance():
    r = whatif.replace(lookup("hgx-h100-8"), **{"chip.tdp_w": {"value": 1.2, "unit": "kW", "status": "announced",
                                                       "source": "https://example.com/x", "note": "rumour"}})
    assert r.chip.tdp_w == 1200
    assert r.chip.provenance["tdp_w"].status == "announced" and r.chip.provenance["tdp_w"].note == "rumour"


# -- scenarios --------------------------------------------------------------------------------


def test_scenario_keeps_raw_overrides_and_reapplies_on_replace():
    ov = {"chip.memory": ["hbm3e", "hbf"], "interconnect.hop_latency_s": 1e-7}
    s = scenario(overrides=ov)
    assert s.overrides == ov
    assert [t.id for t in s.chip.memory] == ["hbm3e", "hbf"]
    s2 = s.replace(n_chips=4, parallelism={"tp": 4})
    assert [t.id for t in s2.chip.memory] == ["hbm3e", "hbf"] and s2.overrides == ov
    assert s2.base_hardware is lookup("h100-sxm")
    assert s.replace(overrides={}).chip is lookup("h100-sxm")


def test_no_overrides_leaves_hardware_untouched():
    s = scenario()
    assert s.hardware is lookup("h100-sxm") and s.overrides == {} and s.placement == {}


def test_placement_stored_and_checked():
    s = scenario(overrides={"chip.memory": ["hbm3e", "hbf"]}, placement={"weights": "hbf", "kv_cache": "hbm3e"})
    assert s.placement == {"weights": "hbf", "kv_cache": "hbm3e"}
    with pytest.raises(LlmhwError) as exc:
        scenario(overrides={"chip.memory": ["hbm3e", "hbf"]}, placement={"weights": "hbm4"})
    assert exc.value.field == "placement.weights" and "hbf" in exc.value.accepted
    with pytest.raises(LlmhwError) as exc:
        scenario(placement={"optimizer": "hbm3"})
    assert exc.value.field == "placement.optimizer" and "kv_cache" in exc.value.accepted
    with pytest.raises(LlmhwError) as exc:
        scenario(placement=["weights"])
    assert exc.value.field == "placement"


def test_from_dict_rejects_non_mapping_overrides():
    with pytest.raises(LlmhwError) as exc:
        scenario(overrides=["chip.memory"])
    assert exc.value.field == "overrides"


# -- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("overrides", "field", "accepted"), [
    ({"chip.nope": 1}, "overrides.chip.nope", "memory"),
    ({"nope.x": 1}, "overrides.nope.x", "chip.<field>"),
    ({"interconnect.hop_latnecy_s": 1e-7}, "overrides.interconnect.hop_latnecy_s", "hop_latency_s"),
    ({"chip.memory": ["hbm3e", "hbx"]}, "overrides.chip.memory[1]", "hbf"),
    ({"chip.memory": ["hbm3e", "h100-sxm"]}, "overrides.chip.memory[1]", "hbf"),
    ({"interconnect": "nvlink5"}, "overrides.interconnect", "nvlink5-nvl72"),
    ({"interconnect.hop_latency_s": "fast"}, "overrides.interconnect.hop_latency_s", "number"),
    ({"chip.tdp_w": True}, "overrides.chip.tdp_w", "number"),
    ({"chip.memory": 5}, "overrides.chip.memory", "memory"),
    ({"chip.memory[0].bandwidth_bytes_per_s": -1e12}, "overrides.chip.memory[0].bandwidth_bytes_per_s", None),
    ({"chip.memory": ["hbm3e", {"tech": "hbf", "capacity_bytes": 0}]}, "overrides.chip.memory[1].capacity_bytes", None),
    ({"chip.memory": ["hbm3e", {"id": "x", "bandwidth_bytes_per_s": 1e12}]},
     "overrides.chip.memory[1].capacity_bytes", None),
    ({"chip.memory": []}, "overrides.chip.memory", None),
    ({"chip.memory[5].latency_s": 1e-6}, "overrides.chip.memory[5]", "0..0"),
    ({"chip.peak_flops.fp9": 1e15}, "overrides.chip.peak_flops.fp9", None),
    ({"chip.tdp_w.x": 1}, "overrides.chip.tdp_w.x", None),
    ({"interconnect.topology": "star"}, "overrides.interconnect.topology", None),
    ({"chip.memory[0].capacity_bytes": {"value": 80, "unit": "parsecs"}},
     "overrides.chip.memory[0].capacity_bytes.unit", None),
    ({"system.n_chips": 0}, "overrides.system.n_chips", None),
    ({"chip.id": "x"}, "overrides.chip.id", "memory"),
])
def test_errors_name_the_field(overrides, field, accepted):
    e = field_of(overrides)
    assert e.field == field, str(e)
    if accepted:
        assert accepted in (e.accepted or ""), str(e)


def test_missing_network_error():
    phone = lookup("snapdragon-8-elite")
    assert phone.scale_up is None
    e = field_of({"interconnect.hop_latency_s": 1e-7}, hardware="snapdragon-8-elite")
    assert e.field == "overrides.interconnect" and "as a whole" in str(e)
    r = apply_overrides(phone, {"interconnect": "pcie-gen5-host", "interconnect.hop_latency_s": 1e-6})
    assert r.scale_up.id == "pcie-gen5-host" and r.scale_up.hop_latency_s == 1e-6 and r.id == phone.id


def test_scenario_error_names_override_field():
    with pytest.raises(LlmhwError) as exc:
        scenario(overrides={"chip.memory": ["hbm3e", "hbx"]})
    assert exc.value.field == "overrides.chip.memory[1]"


def test_list_paths():
    assert is_list_path("chip.memory") and is_list_path("system.host_memory") and is_list_path("interconnect.dims")
    assert not is_list_path("chip.memory[0]") and not is_list_path("chip.memory[0].latency_s")
    assert not is_list_path("chip.peak_flops.fp8") and not is_list_path("nope")


# -- the command line -------------------------------------------------------------------------


def test_whatif_json(run_cli, write_yaml):
    path = write_yaml({**BASE, "overrides": {"chip.memory[0].latency_s": 1e-7}})
    values = ["5e-8", "1e-7", "5e-7", "1e-6"]
    r = run_cli("whatif", str(path), "--vary", "interconnect.hop_latency_s=" + ",".join(values), "--json")
    assert r.returncode == 0, r.stderr
    base, *rows = json.loads(r.stdout)
    assert base["baseline"] and not any(row["baseline"] for row in rows)      # the scenario as given first
    assert len(rows) == 4
    assert [row["varied"] for row in rows] == [{"path": "interconnect.hop_latency_s", "value": float(v)}
                                              for v in values]
    for row in rows:
        assert {"ttft_s", "tpot_s", "output_tok_s_per_chip", "tok_s_per_user", "fits", "breakdown"} <= set(row)
    comm = [row["breakdown"]["decode"]["comm_s"] for row in rows]
    assert comm == sorted(comm) and comm[0] < comm[-1]


def test_whatif_list_path_and_table(run_cli, write_yaml):
    path = write_yaml(BASE)
    r = run_cli("whatif", str(path), "--vary", "chip.memory=hbm3e;hbm3e+hbf", "--json")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)[1:]                 # after the baseline row
    assert [row["varied"]["value"] for row in rows] == [["hbm3e"], ["hbm3e", "hbf"]]
    r = run_cli("whatif", str(path), "--vary", "chip.memory=hbm3e;hbm3e+hbf")
    assert r.returncode == 0, r.stderr
    for col in ("TTFT", "TPOT", "tok/s per chip", "tok/s per user", "fits", "decode bound", "hbm3e+hbf"):
        assert col in r.stdout


@pytest.mark.parametrize(("vary", "field"), [
    ("chip.nope=1,2", "overrides.chip.nope"),
    ("interconnect.hop_latency_s=fast", "overrides.interconnect.hop_latency_s"),
    ("chip.memory=hbm3e;hbx", "overrides.chip.memory[0]"),
    ("interconnect.hop_latency_s", "--vary"),
])
def test_whatif_bad_input_exits_2(run_cli, write_yaml, vary, field):
    r = run_cli("whatif", str(write_yaml(BASE)), "--vary", vary)
    assert r.returncode == 2
    assert field in r.stderr and "Traceback" not in r.stderr


def test_example_scenario_runs():
    from pathlib import Path

    s = Scenario.from_yaml(Path(__file__).resolve().parents[1] / "examples" / "whatif-hbf.yaml")
    assert [t.id for t in s.chip.memory] == ["hbm3e", "hbf"] and s.placement["weights"] == "hbf"
    assert llmhw.predict(s).fits


def test_near_memory_and_stack_presets_by_name():
    from llmhw.hardware.chip import Chip

    if "near_memory" not in Chip.model_fields or "stacked" not in Chip.model_fields:
        pytest.skip("near_memory / stacked not in this tree")
    hgx = lookup("hgx-h100-8")
    r = whatif.replace(hgx, **{"chip.near_memory": "pnm-hbm"})
    assert r.chip.near_memory == lookup("pnm-hbm")
    assert r.chip.provenance["near_memory"].status == "user"
    r = whatif.replace(hgx, **{"chip.near_memory": {"tech": "pim-hbm"}})
    assert r.chip.near_memory.id == "pim-hbm"
    e = field_of({"chip.near_memory": "hbf"})
    assert e.field == "overrides.chip.near_memory" and "pnm-hbm" in e.accepted
    s = scenario(overrides={"chip.memory": ["hbm3e", "hbf"], "interconnect.topology": "full_mesh",
                            "interconnect.hop_latency_s": 1.0e-7, "chip.near_memory": "pnm-hbm"},
                 placement={"weights": "hbf", "kv_cache": "hbm3e"})
    assert s.chip.near_memory.id == "pnm-hbm" and llmhw.predict(s).tpot_s > 0
