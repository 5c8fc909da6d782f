"""Near-memory compute (PIM / PNM): the physics functions, the shard rule, presets, bad input."""

from importlib import resources

import pytest
import yaml

import llmhw
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
    shard_fit,
    tier_peak_flops,
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


# The engine's own near-memory pricing, through the public API: Llama 3.1 8B on one H100 at batch 1,
# the ideal engine (no efficiencies, no overheads). Every linear layer runs as a GEMV near memory:
# per layer qkv 4096 x (4096 + 2 x 8 x 128), o 4096 x 4096, ffn 3 x 4096 x 14336; 32 layers + the
# LM head 128256 x 4096: 7,504,658,432 weights, 2 bytes each in bf16, 2 FLOPs each per token.
LLAMA8B_H100 = {"model": "llama-3.1-8b", "hardware": "h100-sxm", "n_chips": 1, "engine": "ideal",
                "precision": {"weights": "bf16", "kv_cache": "bf16", "activations": "bf16"},
                "workload": {"input_tokens": 512, "output_tokens": 128, "batch": 1}}
LINEAR_WEIGHTS = 32 * 4096 * (4096 + 2 * 8 * 128 + 4096 + 3 * 14336) + 128256 * 4096
GEMVS = 3 * 32 + 1                                             # qkv, o, ffn per layer + the LM head
H100_HBM_BW, H100_HBM_LATENCY = 3.35e12, 100e-9


def _with_near(near):
    return llmhw.predict({**LLAMA8B_H100, "overrides": {"chip.near_memory": near}})


def test_pim_usable_capacity_and_pnm_keeps_all():
    # PIM gives 25 % of the HBM to bank logic; PNM puts its logic beside the memory.
    def usable(near):
        fit = llmhw.fit({**LLAMA8B_H100, "overrides": {"chip.near_memory": near}}).to_dict()
        return fit["memory_tiers"][0]["usable_bytes"]
    u = 0.9                                                    # the scenario's default memory_utilization
    assert usable("pim-hbm") == pytest.approx(80e9 * (1 - 0.25) * u, rel=1e-12)
    assert usable("pnm-hbm") == pytest.approx(80e9 * u, rel=1e-12)


def test_memory_bound_gemv_near_memory_takes_bytes_over_internal_bandwidth():
    # PNM with 4x the HBM bandwidth inside and 16 TFLOP/s per 2048 GB/s of stack: 26 TFLOP/s over
    # the H100's 3.35 TB/s against 1 FLOP per weight byte: memory-bound.
    p = _with_near({"tech": "pnm-hbm", "ops": ["gemv"], "internal_bandwidth_multiplier": 4})
    weight_bytes = 2 * LINEAR_WEIGHTS
    assert p.values["decode_near_memory_bytes"] == pytest.approx(weight_bytes, rel=1e-12)
    expect = weight_bytes / (4 * H100_HBM_BW) + GEMVS * H100_HBM_LATENCY
    assert p.to_dict()["breakdown"]["decode"]["near_memory_s"] == pytest.approx(expect, rel=1e-9)


def test_compute_bound_gemv_near_memory_takes_flops_over_peak():
    # HBM-PIM: 1.2 TFLOP/s fp16 per 307.2 GB/s stack, scaled to the H100's 3.35 TB/s; 0.98 FLOP
    # per byte of its 4x internal bandwidth, under the GEMV's 1: compute-bound. Its fp16 units run
    # the bf16 model (the twin datatype).
    p = _with_near("pim-hbm")
    peak = 1.2e12 * H100_HBM_BW / 307.2e9
    expect = 2 * LINEAR_WEIGHTS / peak + GEMVS * H100_HBM_LATENCY
    assert p.to_dict()["breakdown"]["decode"]["near_memory_s"] == pytest.approx(expect, rel=1e-9)


def test_near_memory_read_energy_is_bytes_times_energy_per_bit():
    # Only the near-memory read energy changes with its energy per bit: the decode energy per
    # token (batch 1: one token a step) moves by weight bytes x 8 x the difference.
    def decode_j(e):
        near = {"tech": "pnm-hbm", "ops": ["gemv"], "internal_bandwidth_multiplier": 4, "energy_j_per_bit": e}
        return _with_near(near).to_dict()["energy_j_per_token_parts"]["decode"]
    assert decode_j(3e-12) - decode_j(1e-12) == pytest.approx(2 * LINEAR_WEIGHTS * 8 * 2e-12, rel=1e-9)


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
