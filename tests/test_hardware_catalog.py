"""The hardware catalog: required ids, a source and status behind every number, sane physics."""

from importlib import resources

import pytest
import yaml

from llmhw.core.errors import LlmhwError
from llmhw.core.provenance import walk_numbers
from llmhw.core.units import to_si
from llmhw.hardware.catalog import (
    chips,
    hardware_from_dict,
    hardware_ids,
    interconnects,
    load_hardware,
    memory_presets,
    sources,
    systems,
)

CHIPS = ["a100-sxm-80gb", "h100-sxm", "h100-pcie", "h200", "b200", "gb200", "mi300x", "mi325x", "mi355x",
         "tpu-v5e", "tpu-v5p", "tpu-v6e", "tpu-v7", "gaudi3", "apple-m1-max", "apple-m2-ultra", "apple-m3-max",
         "apple-m4-max", "snapdragon-8-gen3", "snapdragon-8-elite", "apple-a18-pro"]
MEMORIES = ["hbm2e", "hbm3", "hbm3e", "hbm4", "lpddr5x", "ddr5", "gddr7", "nand-ssd-gen5", "hbf"]


def test_required_ids_present():
    assert set(CHIPS) <= set(chips())
    assert set(MEMORIES) <= set(memory_presets())
    assert systems() and interconnects()


def _raw_files():
    base = resources.files("llmhw.hardware").joinpath("catalog")
    for name in ("families", "memory", "interconnects", "chips", "systems"):
        yield name, yaml.safe_load(base.joinpath(f"{name}.yaml").read_text())


def _numeric_leaves(node):
    return [(path, v) for kind, path, v in walk_numbers(node) if kind == "number"]


def _quantities(node):
    return [(path, q) for kind, path, q in walk_numbers(node) if kind == "quantity"]


# Counts and structure (years, link counts, domain sizes, torus shapes) are not measurements.
_STRUCTURAL = ("year", "n_chips", "links_per_chip", "domain_size", "dims")


def test_every_number_carries_status_and_source():
    for name, raw in _raw_files():
        for path, v in _numeric_leaves(raw):
            assert path.split(".")[-1].split("[")[0] in _STRUCTURAL, f"{name}{path} = {v} has no source"
        for path, q in _quantities(raw):
            assert q.get("status") in ("specified", "measured", "derived", "estimated", "announced"), f"{name}{path}"
            src = q.get("source")
            assert src, f"{name}{path} has no source"
            for s in [src] if isinstance(src, str) else src:
                assert s in sources() or s.startswith("http"), f"{name}{path}: unknown source {s}"


def test_estimated_and_derived_numbers_say_why():
    for name, raw in _raw_files():
        for path, q in _quantities(raw):
            if q["status"] == "derived":
                assert q.get("note"), f"{name}{path}: a derived number needs its formula in note"


def test_sources_are_urls():
    for sid, s in sources().items():
        assert s["url"].startswith(("http://", "https://")), sid


@pytest.mark.parametrize("cid", CHIPS)
def test_chip_physics_is_plausible(cid):
    c = chips()[cid]
    f = c.flops()
    assert f, cid
    # Narrower datatypes never run slower than wider ones on the same units.
    order = [p for p in ("fp32", "bf16", "fp8", "fp4") if p in f]
    assert [f[p] for p in order] == sorted(f[p] for p in order), cid
    assert all(1e9 < x < 1e17 for x in f.values()), cid                 # 1 GFLOP/s .. 100 PFLOP/s
    assert 1e9 <= c.memory_capacity_bytes <= 1e12, cid                  # 1 GB .. 1 TB per chip
    assert 3e10 <= c.memory_bandwidth_bytes_per_s <= 3e13, cid          # 30 GB/s .. 30 TB/s
    # Every tier keeps its provenance through the preset merge.
    assert "capacity_bytes" in c.memory[0].provenance and "bandwidth_bytes_per_s" in c.memory[0].provenance


def test_spot_values_in_si():
    h100 = chips()["h100-sxm"]
    assert h100.flops()["bf16"] == pytest.approx(989.4e12, rel=0.01)
    assert h100.memory_capacity_bytes == 80e9
    assert h100.memory_bandwidth_bytes_per_s == pytest.approx(3.35e12, rel=0.01)
    assert h100.scale_up.bandwidth_per_chip == pytest.approx(450e9)      # 900 GB/s both ways
    assert "fp8" not in chips()["a100-sxm-80gb"].flops()                # Ampere has no FP8 units


def test_hbf_is_flash_with_page_reads():
    hbf = memory_presets()["hbf"]
    hbm = memory_presets()["hbm4"]
    assert hbf.memory_class == "flash"
    assert hbf.capacity_bytes >= 5 * hbm.capacity_bytes            # the paper's ~10x capacity
    assert hbf.access_granularity_bytes >= 4096                     # page-based reads
    assert hbf.latency_s > 10 * hbm.latency_s                       # microseconds vs ~100 ns
    assert hbf.write_endurance_cycles is not None                   # flash wears out


# The paper's Table 3 gives whole-device power at full read bandwidth; the catalog splits it into
# access energy per bit and static power per device (memory.yaml), so the two must add back up.
TABLE3_WHOLE_POWER = {            # preset: (W, bytes/s the watts are quoted at)
    "hbm4": (40.0, 2048 * 6.4e9 / 8),     # HBM4-6400: 1638.4 GB/s
    "lpddr5": (3.0, 51.2e9),
    "ddr5": (12.0, 51.2e9),
    "hbf": (80.0, 1638.4e9),
}


@pytest.mark.parametrize("tid", sorted(TABLE3_WHOLE_POWER))
def test_access_energy_plus_static_gives_table3_power(tid):
    t = memory_presets()[tid]
    watts, bw = TABLE3_WHOLE_POWER[tid]
    assert t.static_power_w + t.energy_j_per_bit * 8 * bw == pytest.approx(watts, rel=0.005)
    assert t.provenance["static_power_w"].note and t.provenance["energy_j_per_bit"].note


def test_energy_is_access_energy_with_the_stated_split():
    mp = memory_presets()
    # HBM4: 0.8 x 40 W / (1638.4 GB/s x 8) = 2.44 pJ/bit of access, 0.2 x 40 = 8 W static.
    assert mp["hbm4"].energy_j_per_bit == pytest.approx(0.8 * 40 / (1638.4e9 * 8), rel=0.005)
    assert mp["hbm4"].static_power_w == pytest.approx(8.0)
    # DDR5 keeps ReaLLM's 10 pJ/bit access energy; static is Table 3's 12 W less 10 pJ x 8 x 51.2 GB/s.
    assert mp["ddr5"].energy_j_per_bit == pytest.approx(10e-12)
    assert mp["ddr5"].static_power_w == pytest.approx(12 - 10e-12 * 8 * 51.2e9, abs=0.01)
    # HBM3E: FGDRAM-style access energy 3.9 pJ/bit; static = 0.2 / 0.8 x 3.9 pJ x 8 x 1.2 TB/s = 9.36 W.
    assert mp["hbm3e"].static_power_w == pytest.approx(0.25 * 3.9e-12 * 8 * 1.2e12)
    # Every preset with an access energy has a static power, and vice versa.
    for tid, t in mp.items():
        assert (t.energy_j_per_bit is None) == (t.static_power_w is None), tid


def test_a_tier_holds_devices():
    # The H200's tier copies the HBM3E preset (24 GB per stack) with 141 GB: 5.875 devices.
    h200 = chips()["h200"].memory[0]
    assert h200.device_capacity_bytes == 24e9 and h200.devices == pytest.approx(141 / 24)
    assert h200.tier_static_power_w == pytest.approx(141 / 24 * 9.36)
    assert h200.access_power_w == pytest.approx(3.9e-12 * 8 * 4.8e12)
    assert h200.full_power_w == pytest.approx(141 / 24 * 9.36 + 3.9e-12 * 8 * 4.8e12)
    # A what-if on the capacity keeps the device size: twice the bytes, twice the static power.
    from llmhw.hardware import whatif
    chip2 = whatif.apply_to_hardware(load_hardware("h200"), {"chip.memory[0].capacity_bytes": 282e9}, 1)
    assert chip2.memory[0].devices == pytest.approx(2 * 141 / 24)
    # A tier given from scratch is one device.
    c = hardware_from_dict({"kind": "chip", "id": "x", "family": "f", "peak_flops": {"bf16": 1e15},
                            "memory": [{"id": "m", "capacity_bytes": 8e9, "bandwidth_bytes_per_s": 1e11,
                                        "static_power_w": 2.0}]})
    assert c.memory[0].devices == 1.0 and c.memory[0].tier_static_power_w == 2.0


def test_systems_resolve_their_chips():
    for sid, s in systems().items():
        assert s.chip.id in chips(), sid
        net = s.scale_up_network
        if net is not None and s.n_chips <= net.domain_size:
            assert net.domain_size >= 2, sid


def test_hardware_ids_have_kinds():
    kinds = set(hardware_ids().values())
    assert {"chip", "system", "memory", "interconnect", "link"} <= kinds


def test_units():
    assert to_si(3.35, "TB/s") == pytest.approx(3.35e12)
    assert to_si(900, "Gb/s") == pytest.approx(112.5e9)
    assert to_si(3.9, "pJ/bit") == pytest.approx(3.9e-12)
    with pytest.raises(LlmhwError, match="unknown unit"):
        to_si(1, "furlongs")


def test_unknown_hardware_suggests():
    with pytest.raises(LlmhwError) as e:
        load_hardware("h100")
    assert "h100-sxm" in str(e.value)


@pytest.mark.parametrize("spec, field", [
    ({"kind": "chip", "id": "x", "family": "f", "peak_flops": {"bf16": 1e15}, "memory": [{"tech": "hbm9"}]},
     "memory[0].tech"),
    ({"kind": "chip", "id": "x", "family": "f", "peak_flops": {"bf16": -1e15}, "memory": ["hbm3"]}, "peak_flops"),
    ({"kind": "chip", "id": "x", "family": "f", "peak_flops": {"bf15": 1e15}, "memory": ["hbm3"]}, "peak_flops"),
    ({"kind": "chip", "id": "x", "family": "f", "peak_flops": {"bf16": 1e15}, "memory": ["hbm3"], "wheels": 4},
     "wheels"),
    ({"kind": "chip", "id": "x", "family": "f", "peak_flops": {"bf16": 1e15}}, "memory"),
    ({"kind": "chip", "id": "x", "family": "f", "peak_flops": {"bf16": 1e15}, "memory": ["hbm3"],
      "scale_up": "nvlink99"}, "scale_up"),
    ({"kind": "gpu", "id": "x"}, "kind"),
    ({"kind": "chip", "id": "x", "family": "f", "peak_flops": {"bf16": {"value": 1, "unit": "parsecs"}},
      "memory": ["hbm3"]}, "peak_flops.bf16.unit"),
])
def test_bad_user_specs_name_the_field(spec, field):
    with pytest.raises(LlmhwError) as e:
        hardware_from_dict(spec)
    assert field in str(e.value), str(e.value)


def test_ids_are_unique_across_kinds():
    from llmhw.hardware.catalog import links
    seen: dict[str, str] = {}
    for kind, table in (("chip", chips()), ("system", systems()), ("memory", memory_presets()),
                        ("interconnect", interconnects()), ("link", links())):
        for k in table:
            assert k not in seen, f"id '{k}' is both a {seen[k]} and a {kind}"
            seen[k] = kind
