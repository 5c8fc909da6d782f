"""Near-memory compute (PIM / PNM): the physics functions, the shard rule, presets, bad input."""

import math
from importlib import resources

import pytest
import yaml

from llmhw.core.errors import LlmhwError
from llmhw.core.provenance import walk_numbers
from llmhw.hardware.catalog import (
    chips,
    hardware_from_dict,
    hardware_ids,
    interconnects,
    links,
    lookup,
    memory_presets,
    near_memory_from_dict,
    near_memory_presets,
    sources,
    stacking_presets,
    systems,
)
from llmhw.hardware.near_memory import (
    NearMemoryCompute,
    devices_in,
    gemv_item,
    internal_bandwidth,
    kv_head_item,
    op_time,
    read_energy_j,
    shard_fit,
    shards_available,
    tier_peak_flops,
    usable_capacity,
)

MB, GB = 1e6, 1e9
PRESETS = ["pim-hbm", "pim-gddr6-aim", "pim-lpddr5", "pnm-hbm", "pnm-cxl"]


def _nm(**kw):
    base = {"id": "t", "placement": "pim", "peak_flops": {"bf16": 1e12}, "internal_bandwidth_multiplier": 4,
            "shard_bytes": 64 * MB}
    base.update(kw)
    return NearMemoryCompute.from_dict(base, where="nm")


def test_presets_present_and_typed():
    nm = near_memory_presets()
    assert set(PRESETS) <= set(nm)
    assert {nm[k].placement for k in PRESETS} == {"pim", "pnm"}
    for k in PRESETS:
        assert hardware_ids()[k] == "near_memory" and lookup(k) is nm[k]
        assert nm[k].ops and nm[k].peak_flops
    # The paper's contrast: PIM shards are banks of tens of MB, PNM shards are devices of GBs.
    assert all(nm[k].shard_bytes <= 64 * MB for k in PRESETS if nm[k].placement == "pim")
    assert all(nm[k].shard_bytes >= 16 * GB for k in PRESETS if nm[k].placement == "pnm")
    # PNM does not cost memory density; PIM does.
    assert all(nm[k].capacity_overhead == 0 for k in PRESETS if nm[k].placement == "pnm")
    assert all(nm[k].capacity_overhead > 0 for k in PRESETS if nm[k].placement == "pim")


def test_internal_bandwidth_is_multiplier_times_external():
    pim = near_memory_presets()["pim-hbm"]
    hbm2e = memory_presets()["hbm2e"]                          # 460 GB/s per stack
    assert internal_bandwidth(pim, hbm2e) == pytest.approx(4 * 460e9)
    h100_tier = chips()["h100-sxm"].memory[0]                  # 3.35 TB/s
    assert internal_bandwidth(pim, h100_tier) == pytest.approx(4 * 3.35e12)
    aim = near_memory_presets()["pim-gddr6-aim"]
    assert aim.internal_bandwidth_multiplier == pytest.approx(512 / 64)  # 512 GB/s inside / 16 Gb/s x 32 / 8


def test_device_flops_scale_with_the_tier_bandwidth():
    pim = near_memory_presets()["pim-hbm"]                     # 1.2 TFLOPS per 307.2 GB/s stack
    tier = chips()["h100-sxm"].memory[0]
    assert devices_in(pim, tier) == pytest.approx(3350 / 307.2)
    assert tier_peak_flops(pim, tier)["fp16"] == pytest.approx(1.2e12 * 3350 / 307.2)
    whole = _nm(peak_flops={"fp16": 5e12})                     # scope tier: as given
    assert tier_peak_flops(whole, tier) == {"fp16": 5e12}


def test_usable_capacity_and_shards():
    pim = near_memory_presets()["pim-hbm"]                     # 25 % of capacity to logic, 32 MB banks
    tier = chips()["h100-sxm"].memory[0]                       # 80 GB
    assert usable_capacity(pim, tier) == pytest.approx(60e9)
    assert shards_available(pim, tier) == 60e9 // 32e6 == 1875
    pnm = near_memory_presets()["pnm-hbm"]
    assert usable_capacity(pnm, tier) == pytest.approx(80e9)


def test_op_time_and_energy_by_hand():
    nm = _nm(peak_flops={"bf16": 2e12}, internal_bandwidth_multiplier=4, energy_j_per_bit=1e-12)
    tier = memory_presets()["hbm3"]                            # 819 GB/s -> 3.276 TB/s inside
    # GEMV: 2 FLOP per bf16 weight (2 bytes): bandwidth-bound.
    t = op_time(nm, tier, flops=2e9, bytes_read=2e9, dtype="bf16")
    assert t == pytest.approx(max(2e9 / 2e12, 2e9 / (4 * 819e9)))
    assert op_time(nm, tier, 2e9, 2e9, "fp8") == math.inf     # no fp8 units
    assert read_energy_j(nm, 1e9) == pytest.approx(8e9 * 1e-12)


def test_pim_bank_cannot_hold_a_100mb_slice_but_pnm_can():
    pim = _nm(shard_bytes=64 * MB)
    pnm = near_memory_presets()["pnm-hbm"]
    [r] = shard_fit(pim, {"ffn.w1 slice": 100 * MB})
    assert r.tensor == "ffn.w1 slice" and r.bytes == 100 * MB
    assert not r.fits and r.shards == 0 and "exceeds one bank" in r.why
    [r] = shard_fit(pnm, {"ffn.w1 slice": 100 * MB})
    assert r.fits and r.shards == 1 and "device" in r.why


def test_row_split_matrix_maps_across_banks():
    pim = _nm(shard_bytes=64 * MB)
    # A 100 MB matrix split by output rows of 8192 bytes (4096 bf16 inputs): a bank holds
    # floor(64e6 / 8192) = 7812 rows = 63,995,904 bytes, so it takes ceil(100e6 / 63995904) = 2 banks.
    item = gemv_item(out_features=12207, in_features=4096, bytes_per_element=2)
    assert item == (12207 * 8192, 8192)
    [r] = shard_fit(pim, {"w": (100 * MB, 8192)})
    assert r.fits and r.shards == 2 and "split into 2 banks" in r.why
    # A KV head's cache cannot split: 32768 tokens x 128 dims x 2 bytes x (K, V) = 16.8 MB fits a bank,
    # 131072 tokens (67 MB) does not.
    assert kv_head_item(32768, 128, 2) == 32768 * 128 * 2 * 2
    ok, bad = shard_fit(pim, {"kv32k": kv_head_item(32768, 128, 2), "kv128k": kv_head_item(131072, 128, 2)})
    assert ok.fits and ok.shards == 1
    assert not bad.fits


def test_shard_fit_rejects_bad_items():
    pim = _nm()
    with pytest.raises(LlmhwError, match="tensors.w"):
        shard_fit(pim, {"w": (10, 20)})                        # piece larger than the item
    with pytest.raises(LlmhwError, match="tensors.w"):
        shard_fit(pim, {"w": "big"})


@pytest.mark.parametrize("change, field", [
    ({"capacity_overhead": 1.5}, "capacity_overhead"),
    ({"capacity_overhead": -0.1}, "capacity_overhead"),
    ({"placement": "pum"}, "placement"),
    ({"internal_bandwidth_multiplier": -4}, "internal_bandwidth_multiplier"),
    ({"shard_bytes": 0}, "shard_bytes"),
    ({"peak_flops": {"bf15": 1e12}}, "peak_flops"),
    ({"peak_flops": {"bf16": -1.0}}, "peak_flops"),
    ({"ops": ["prefill_everything"]}, "ops"),
    ({"energy_j_per_bit": {"value": 1, "unit": "furlongs"}}, "energy_j_per_bit.unit"),
    ({"wheels": 4}, "wheels"),
])
def test_bad_near_memory_names_the_field(change, field):
    with pytest.raises(LlmhwError) as e:
        _nm(**change)
    assert field in str(e.value), str(e.value)


def test_device_scope_needs_device_bandwidth():
    with pytest.raises(LlmhwError, match="device_bandwidth_bytes_per_s"):
        _nm(scope="device")


def test_preset_with_overrides():
    nm = near_memory_from_dict({"tech": "pim-hbm", "shard_bytes": {"value": 64, "unit": "MB"}}, where="x")
    assert nm.shard_bytes == 64e6 and nm.peak_flops == near_memory_presets()["pim-hbm"].peak_flops
    assert nm.provenance["shard_bytes"].status == "user"
    assert nm.provenance["peak_flops.fp16"].status == "specified"
    with pytest.raises(LlmhwError, match="x.tech"):
        near_memory_from_dict({"tech": "pim-hbn"}, where="x")


def _chip(**kw):
    d = {"kind": "chip", "id": "c", "family": "custom", "peak_flops": {"bf16": 1e15}, "memory": ["hbm3e"]}
    d.update(kw)
    return hardware_from_dict(d)


def test_chip_carries_near_memory_on_a_tier():
    c = _chip(near_memory="pnm-hbm")
    assert c.near_memory.id == "pnm-hbm" and c.near_memory_tier.id == "hbm3e"
    c = _chip(memory=["hbm3e", "cxl-expander"], near_memory="pnm-cxl")
    assert c.near_memory_tier.id == "cxl-expander"
    assert internal_bandwidth(c.near_memory, c.near_memory_tier) == pytest.approx(30.6 * 36e9)
    with pytest.raises(LlmhwError, match="near_memory.tier 'cxl-expander'"):
        _chip(near_memory="pnm-cxl")                           # no such tier on the chip
    with pytest.raises(LlmhwError, match="hardware.near_memory.tech"):
        _chip(near_memory={"tech": "pim-nope"})
    with pytest.raises(LlmhwError, match="hardware.near_memory.capacity_overhead"):
        _chip(near_memory={"tech": "pim-hbm", "capacity_overhead": 2})
    assert all(c.near_memory is None for c in chips().values())   # shipped chips unchanged


# -- the YAML: every number sourced ------------------------------------------------------------


def _raw(name):
    return yaml.safe_load(resources.files("llmhw.hardware").joinpath("catalog", f"{name}.yaml").read_text())


@pytest.mark.parametrize("name", ["near_memory", "stacking", "memory"])
def test_every_number_has_status_and_source(name):
    for what, path, v in walk_numbers(_raw(name)):
        if what == "number":
            assert path.rsplit(".", 1)[-1] == "year", f"{name}{path} = {v} is a bare number"
            continue
        assert v.get("status") in ("specified", "measured", "derived", "estimated", "announced"), f"{name}{path}"
        src = v.get("source")
        assert src, f"{name}{path} has no source"
        for s in [src] if isinstance(src, str) else src:
            assert s in sources() or s.startswith("http"), f"{name}{path}: unknown source {s}"
        if v["status"] in ("derived", "estimated") and name != "memory":
            assert v.get("note"), f"{name}{path}: a {v['status']} number needs a note saying how"


def test_ids_unique_across_all_kinds():
    seen: dict[str, str] = {}
    for kind, table in (("chip", chips()), ("system", systems()), ("memory", memory_presets()),
                        ("near_memory", near_memory_presets()), ("stacking", stacking_presets()),
                        ("interconnect", interconnects()), ("link", links())):
        for k in table:
            assert k not in seen, f"id '{k}' is both a {seen[k]} and a {kind}"
            seen[k] = kind
    assert {"near_memory", "stacking"} <= set(hardware_ids().values())


def test_hbf_presets_have_the_flash_physics():
    for k in ("hbf", "hbf-gen2"):
        m = memory_presets()[k]
        assert m.memory_class == "flash"
        assert m.access_granularity_bytes >= 4096 and m.latency_s >= 1e-6
        assert m.write_endurance_cycles and m.write_bandwidth_bytes_per_s < m.bandwidth_bytes_per_s
    assert memory_presets()["hbf-gen2"].bandwidth_bytes_per_s > memory_presets()["hbf"].bandwidth_bytes_per_s
