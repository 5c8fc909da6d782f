"""3D memory-on-logic stacks: bandwidth from the bond grid, capacity, the thermal clock cap."""

import pytest

from llmhw.core.errors import LlmhwError
from llmhw.hardware.catalog import (
    hardware_from_dict,
    hardware_ids,
    lookup,
    stacked_from_dict,
    stacking_presets,
)
from llmhw.hardware.package import package_power
from llmhw.hardware.stacking import StackedMemory

PRESETS = ["3d-sram-vcache", "3d-dram-soic-gen1", "3d-dram-hybrid-bond-gen2"]


def _st(**kw):
    base = {"id": "s", "connection_pitch_m": 10e-6, "stack_area_m2": 100e-6,
            "bandwidth_per_connection_bytes_per_s": 0.25e9, "data_fraction": 0.02, "layers": 4,
            "capacity_per_layer_bytes": 2e9, "max_logic_power_density_w_per_m2": 0.5e6}
    base.update(kw)
    return StackedMemory.from_dict(base, where="st")


def test_presets_present():
    st = stacking_presets()
    assert set(PRESETS) <= set(st)
    for k in PRESETS:
        assert hardware_ids()[k] == "stacking" and lookup(k) is st[k]
    assert st["3d-sram-vcache"].memory_class == "sram"


def test_bandwidth_from_pitch_area_and_rate_by_hand():
    s = stacking_presets()["3d-dram-soic-gen1"]
    # 100 mm2 / (9 um)^2 = 1e-4 / 8.1e-11 = 1,234,567.9 pads; x 0.016184 data = 19,980.2;
    # x 1.953125 Gb/s / 8 = 244,140,625 B/s -> 4.878e12 B/s.
    pads = 100e-6 / (9e-6) ** 2
    assert s.connections == pytest.approx(1_234_567.9, rel=1e-6)
    assert s.bandwidth_bytes_per_s == pytest.approx(pads * 0.016184 * 1.953125e9 / 8)
    assert s.bandwidth_bytes_per_s == pytest.approx(4.878e12, rel=1e-3)
    assert s.gbps_per_connection == pytest.approx(1.953125)
    # V-Cache: 41 mm2 / (9 um)^2 x 0.016184 = 8192 data connections x 244 MB/s = AMD's 2 TB/s.
    v = stacking_presets()["3d-sram-vcache"]
    assert v.data_connections == pytest.approx(8192, rel=1e-3)
    assert v.bandwidth_bytes_per_s == pytest.approx(2e12, rel=1e-3)
    # Gen 2: 100 mm2 / (3 um)^2 = 11.1 M pads x 1 % x 1 Gb/s / 8 = 13.9 TB/s.
    g2 = stacking_presets()["3d-dram-hybrid-bond-gen2"]
    assert g2.bandwidth_bytes_per_s == pytest.approx(100e-6 / 9e-12 * 0.01 * 1e9 / 8)
    # Simple hand case: 100 mm2 / (10 um)^2 = 1e6 pads x 2 % x 2 Gb/s / 8 = 5e12 B/s.
    assert _st().bandwidth_bytes_per_s == pytest.approx(5e12)


def test_capacity_is_layers_times_per_layer():
    assert _st().capacity_bytes == 4 * 2e9
    s = stacking_presets()["3d-dram-soic-gen1"]
    assert s.capacity_bytes == 8 * 3e9
    assert stacking_presets()["3d-dram-hybrid-bond-gen2"].capacity_bytes == 12 * 4e9
    assert stacking_presets()["3d-sram-vcache"].capacity_bytes == 64e6


def test_as_memory_tech_plugs_in():
    s = stacking_presets()["3d-dram-soic-gen1"]
    t = s.as_memory_tech()
    assert t.kind == "memory" and t.id == s.id and t.memory_class == "dram"
    assert t.capacity_bytes == s.capacity_bytes and t.bandwidth_bytes_per_s == s.bandwidth_bytes_per_s
    assert t.energy_j_per_bit == s.energy_j_per_bit and t.static_power_w == s.static_power_w
    assert t.provenance["bandwidth_bytes_per_s"].status == "derived"
    assert t.provenance["bandwidth_bytes_per_s"].sources       # the pitch's and rate's sources
    assert t.provenance["energy_j_per_bit"] == s.provenance["energy_j_per_bit"]


def test_thermal_clock_fraction_by_hand():
    s = _st()                                                  # 0.5 W/mm2
    # 100 mm2 of die may shed 0.5e6 W/m2 x 1e-4 m2 = 50 W, logic and memory together.
    assert s.allowed_power_w(100e-6) == pytest.approx(50.0)
    assert s.thermal_clock_fraction(40.0, 100e-6) == 1.0      # under the cap
    assert s.thermal_clock_fraction(100.0, 100e-6) == pytest.approx(0.5)          # P ~ f
    assert s.thermal_clock_fraction(100.0, 100e-6, power_exponent=3) == pytest.approx(0.5 ** (1 / 3))
    # 20 W of memory on the same footprint leave 30 W: clock 30 / 100 at a fixed voltage.
    assert s.thermal_clock_fraction(100.0, 100e-6, memory_power_w=20.0) == pytest.approx(0.3)
    assert s.thermal_clock_fraction(25.0, 100e-6, memory_power_w=20.0) == 1.0
    with pytest.raises(LlmhwError, match="memory_power_w"):
        s.thermal_clock_fraction(100.0, 100e-6, memory_power_w=60.0)   # the memory alone exceeds 50 W
    # An H100-class die (700 W on 814 mm2) under the gen-1 stack's 0.43 W/mm2 cap, logic alone:
    # 0.43e6 x 814e-6 / 700 = 0.50 of its clock.
    g1 = stacking_presets()["3d-dram-soic-gen1"]
    assert g1.thermal_clock_fraction(700.0, 814e-6) == pytest.approx(0.43e6 * 814e-6 / 700)
    assert _st(max_logic_power_density_w_per_m2=None).thermal_clock_fraction(1e4, 1e-6) == 1.0


def test_stack_static_power_scales_with_devices():
    # The gen-1 preset is one 24 GB device; over 400 mm2 with 12 GB layers it holds 96 GB = 4 devices.
    g1 = stacked_from_dict({"tech": "3d-dram-soic-gen1", "stack_area_m2": 400e-6, "capacity_per_layer_bytes": 12e9})
    assert g1.device_capacity_bytes == 24e9
    t = g1.as_memory_tech()
    assert t.devices == pytest.approx(4.0)
    assert t.tier_static_power_w == pytest.approx(4 * 9.36)
    # Access power at full bandwidth: 19.5 TB/s x 8 x 2.34 pJ = 365 W (0.91 W/mm2 over 400 mm2).
    assert t.access_power_w == pytest.approx(g1.bandwidth_bytes_per_s * 8 * 2.34e-12)
    assert t.access_power_w / 400 == pytest.approx(0.91, abs=0.01)
    assert t.provenance["static_power_w"] == g1.provenance["static_power_w"]
    assert _st().as_memory_tech().devices == 1.0               # a stack from scratch is one device


def _h200_stacked(preset, per_layer, **kw):
    spec = {"tech": preset, "stack_area_m2": 400e-6, "capacity_per_layer_bytes": per_layer, **kw}
    return hardware_from_dict({"kind": "chip", "id": "h200", "family": "nvidia-gpu", "peak_flops": {"fp8": 1979e12},
                               "memory": [], "tdp_w": 700, "die_area_m2": 814e-6, "stacked": spec})


# The H200's package: 700 W for the GH100 and its HBM3E tier (141 GB = 5.875 stacks of 24 GB,
# 4.8 TB/s). At full bandwidth the tier draws 3.9 pJ x 8 x 4.8 TB/s = 149.76 W of access and
# 5.875 x 9.36 W = 54.99 W static, so the logic at full clock is 700 - 204.75 = 495.25 W.
H200_LOGIC_W = 700 - (3.9e-12 * 8 * 4.8e12 + 141 / 24 * 9.36)


def test_package_power_by_hand():
    h200 = lookup("h200")
    assert H200_LOGIC_W == pytest.approx(495.25, abs=0.01)
    chip = _h200_stacked("3d-dram-soic-gen1", 12e9)
    pw = package_power(chip, h200)
    assert pw.logic_w == pytest.approx(H200_LOGIC_W)
    bw = chip.stacked.bandwidth_bytes_per_s
    access, static = bw * 8 * 2.34e-12, 4 * 9.36
    assert pw.stack_access_w == pytest.approx(access) and pw.stack_static_w == pytest.approx(static)
    # Thermal: 0.43 W/mm2 x 814 mm2 = 350.02 W for logic x f + reads x f + static:
    # f = (350.02 - 37.44) / (495.25 + 365.0) = 0.363. TDP: (700 - 37.44) / 860.3 = 0.77. Thermal binds.
    thermal = 0.43e6 * 814e-6
    f = (thermal - static) / (H200_LOGIC_W + access)
    assert pw.fraction == pytest.approx(f) and pw.binding == "thermal"
    assert pw.fraction == pytest.approx(0.363, abs=0.001)
    assert pw.envelope_w == pytest.approx(thermal)           # the operating point fills the cap exactly
    # Without the thermal cap the TDP binds: the same 700 W as the H200, memory included.
    iso = package_power(_h200_stacked("3d-dram-soic-gen1", 12e9, max_logic_power_density_w_per_m2=None), h200)
    assert iso.binding == "tdp" and iso.fraction == pytest.approx((700 - static) / (H200_LOGIC_W + access))
    assert iso.envelope_w == pytest.approx(700)
    # Voltage scaled with the clock (P ~ f^3): logic f^3 + reads f = 350.02 - 37.44, solved numerically.
    dv = package_power(_h200_stacked("3d-dram-soic-gen1", 12e9, clock_power_exponent=3), h200)
    x = dv.fraction
    assert H200_LOGIC_W * x ** 3 + access * x == pytest.approx(thermal - static, rel=1e-9)
    assert f < x < 1
    # A workload streaming a share u of the stack's rate pays u of its access power (a training step):
    # f = (350.02 - 37.44) / (495.25 + 0.1 x 365.0).
    light = package_power(chip, h200, stack_utilization=0.1)
    assert light.fraction == pytest.approx((thermal - static) / (H200_LOGIC_W + 0.1 * access))
    with pytest.raises(LlmhwError, match="stack utilization"):
        package_power(chip, h200, stack_utilization=1.5)
    # The H200 itself carries no stack; a chip without a TDP has no envelope.
    assert package_power(h200) is None
    assert package_power(_chip(stacked="3d-dram-soic-gen1")) is None


def test_package_power_counts_the_package_memory():
    # A chip whose TDP is its own: the stack (preset, 100 mm2) and an HBM3 stack next to it.
    chip = _chip(stacked="3d-dram-hybrid-bond-gen2", memory=["hbm3"], tdp_w=700, die_area_m2=800e-6)
    pw = package_power(chip)
    hbm3 = 3.9e-12 * 8 * 819e9 + 6.39                            # 31.94 W at full bandwidth
    stack = 100e-6 / 9e-12 * 0.01 * 1e9 / 8 * 8 * 1e-12         # 111.1 W of reads
    assert pw.logic_w == pytest.approx(700 - hbm3 - stack - 8.0)
    assert pw.other_memory_w == pytest.approx(hbm3)
    # Thermal 0.43e6 x 800e-6 = 344 W for logic + stack; the HBM3 counts in the 700 W TDP only.
    assert pw.fraction == pytest.approx((344 - 8.0) / (pw.logic_w + stack))
    # A stack whose static power alone exceeds the cap is an error naming the field.
    hot = _chip(stacked={"tech": "3d-dram-hybrid-bond-gen2", "static_power_w": 400}, tdp_w=700, die_area_m2=800e-6)
    with pytest.raises(LlmhwError, match="static_power_w"):
        package_power(hot)


@pytest.mark.parametrize("args, field", [
    ((-1.0, 1e-4), "logic_power_w"),
    ((100.0, 0.0), "logic_area_m2"),
])
def test_thermal_bad_inputs(args, field):
    with pytest.raises(LlmhwError, match=field):
        _st().thermal_clock_fraction(*args)


@pytest.mark.parametrize("change, field", [
    ({"connection_pitch_m": -9e-6}, "connection_pitch_m"),
    ({"stack_area_m2": 0}, "stack_area_m2"),
    ({"data_fraction": 1.5}, "data_fraction"),
    ({"layers": 0}, "layers"),
    ({"memory_class": "flash"}, "memory_class"),
    ({"bandwidth_per_connection_bytes_per_s": {"value": 2, "unit": "furlongs"}},
     "bandwidth_per_connection_bytes_per_s.unit"),
    ({"gbps_per_connection": 2}, "gbps_per_connection"),      # derived, not an input
    ({"static_power_w": -1}, "static_power_w"),
    ({"clock_power_exponent": 5}, "clock_power_exponent"),
    ({"connection_pitch_m": 1.0}, "connection_pitch_m"),        # pitch wider than the stack
])
def test_bad_stack_names_the_field(change, field):
    with pytest.raises(LlmhwError) as e:
        _st(**change)
    assert field in str(e.value), str(e.value)


def _chip(**kw):
    d = {"kind": "chip", "id": "c", "family": "custom", "peak_flops": {"bf16": 1e15}}
    d.update(kw)
    return hardware_from_dict(d)


def test_chip_with_a_stack_gets_its_tier_first():
    c = _chip(stacked="3d-dram-soic-gen1", memory=["hbm3e"], die_area_m2={"value": 800, "unit": "mm2"})
    assert [m.id for m in c.memory] == ["3d-dram-soic-gen1", "hbm3e"]
    assert c.memory_bandwidth_bytes_per_s == pytest.approx(c.stacked.bandwidth_bytes_per_s)
    assert c.die_area_m2 == pytest.approx(800e-6)
    only = _chip(stacked="3d-dram-soic-gen1")                 # a stack alone is memory enough
    assert [m.id for m in only.memory] == ["3d-dram-soic-gen1"]
    # PNM with no tier named sits on the first tier that is not the stack.
    c = _chip(stacked="3d-dram-soic-gen1", memory=["hbm3e"], near_memory="pnm-hbm")
    assert c.near_memory_tier.id == "hbm3e"
    # A stack wider than the die is an error naming both.
    with pytest.raises(LlmhwError, match="die_area_m2"):
        _chip(stacked="3d-dram-soic-gen1", die_area_m2={"value": 50, "unit": "mm2"})
    with pytest.raises(LlmhwError, match="hardware.stacked.connection_pitch_m"):
        _chip(stacked={"tech": "3d-dram-soic-gen1", "connection_pitch_m": -1})


def test_stack_preset_with_overrides():
    s = stacked_from_dict({"tech": "3d-dram-soic-gen1", "layers": 12}, where="x")
    assert s.capacity_bytes == 12 * 3e9
    assert "layers" not in s.provenance                        # the preset's source no longer applies
    assert s.provenance["connection_pitch_m"].status == "specified"
