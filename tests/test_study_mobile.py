"""The mobile study's key numbers against hand arithmetic."""

from __future__ import annotations

import math

import pytest

import llmhw
from llmhw.hardware.catalog import lookup
from llmhw.studies import mobile, style
from llmhw.studies.base import Study


@pytest.fixture(scope="module")
def study(study_of) -> Study:
    return study_of("mobile")


def _table(study: Study, name: str) -> list[dict]:
    return next(t for t in study.tables if t.name == name).rows


def test_figures_say_their_setup_and_the_study_its_answer(study: Study) -> None:
    """Every figure names its model or phone in a setup line that fits above it, no text under
    8 pt; the summary is short and quotes numbers."""
    names = {mobile.phone_name(p) for p in mobile.PHONES} | {llmhw.load_model(m).name for m in mobile.MODELS}
    assert not style.study_problems(study, names)


def test_structure(study: Study) -> None:
    assert study.name == "mobile"
    assert 2 <= len(study.figures) <= 4
    assert all(f.caption and f.figure is not None for f in study.figures)
    assert {t.name for t in study.tables} >= {"mobile_fit", "mobile_flash", "mobile_directions"}
    assert len(study.findings) >= 5


def test_weight_bytes_are_params_times_bits(study: Study) -> None:
    # int4 is 4.25 bits (group-128 scales), int8 8, fp16 16
    bits = {"fp16": 16, "int8": 8, "int4": 4.25}
    for r in _table(study, "mobile_fit"):
        m = llmhw.load_model(r["model"])
        assert r["weights_gb"] == pytest.approx(m.total_params * bits[r["weights"]] / 8 / 1e9, abs=0.006)


def test_what_fits_against_usable_dram(study: Study) -> None:
    for r in _table(study, "mobile_fit"):
        dram = lookup(r["chip_id"]).memory[0].capacity_bytes / 1e9
        assert r["usable_gb"] == pytest.approx(0.9 * dram, abs=0.06)
        need = r["weights_gb"] + r["kv_cache_gb"]
        if need > r["usable_gb"] + 0.01:
            assert not r["fits"], r
        if need < r["usable_gb"] - 0.3:          # activations are well under 0.3 GB at batch 1
            assert r["fits"], r
    rows = {(r["chip_id"], r["model"], r["weights"]): r for r in _table(study, "mobile_fit")}
    # Llama 3.1 8B: FP16 16.06 GB > 14.4 GB usable of 16 GB; INT4 4.27 GB fits an 8 GB iPhone (7.2 GB usable)
    assert not rows["snapdragon-8-elite", "llama-3.1-8b", "fp16"]["fits"]
    assert rows["apple-a17-pro", "llama-3.1-8b", "int4"]["fits"]
    assert not rows["apple-a17-pro", "llama-3.1-8b", "int8"]["fits"]     # 8.03 GB > 7.2 GB


def test_single_stream_below_bandwidth_bound(study: Study) -> None:
    bytes_per = {"fp16": 2.0, "int8": 1.0, "int4": 4.25 / 8}
    for r in _table(study, "mobile_fit"):
        m = llmhw.load_model(r["model"])
        bw = lookup(r["chip_id"]).memory[0].bandwidth_bytes_per_s
        bound = bw / (m.active_params * bytes_per[r["weights"]])
        assert r["bandwidth_bound_tok_s"] == pytest.approx(bound, rel=0.01)
        assert r["decode_tok_s"] <= bound * 1.001
    # Snapdragon 8 Elite, Llama 3.1 8B INT4: 84.8e9 / (7.504e9 x 0.53125) = 21.3 tok/s at most
    r = next(r for r in _table(study, "mobile_fit")
             if r["chip_id"] == "snapdragon-8-elite" and r["model"] == "llama-3.1-8b" and r["weights"] == "int4")
    assert r["bandwidth_bound_tok_s"] == pytest.approx(84.8e9 / (7.504924e9 * 0.53125), rel=0.005)
    assert 0.3 * r["bandwidth_bound_tok_s"] < r["decode_tok_s"] < r["bandwidth_bound_tok_s"]


def test_dynamic_energy_is_lpddr_reads(study: Study) -> None:
    # Every active weight read once per token at the catalog's 5.86 pJ/bit LPDDR access energy
    # (Table 3's 3 W per 51.2 GB/s module less 20 % static); compute, KV reads and the prefill share
    # add a little.
    for r in _table(study, "mobile_fit"):
        if r["model"] != "llama-3.1-8b" or r["weights"] != "int4":
            continue
        floor = 7.504924e9 * 4.25 / 8 * 8 * (0.8 * 3 / (51.2e9 * 8))          # 0.187 J
        assert floor <= r["dynamic_j_per_token"] <= 1.35 * floor


def test_flash_streaming(study: Study) -> None:
    rows = _table(study, "mobile_flash")
    ufs = lookup("ufs4").bandwidth_bytes_per_s
    for r in rows:
        # f of the weights per token through 4.2 GB/s: tok/s can never beat bandwidth / bytes
        assert r["flash_limited_tok_s"] <= ufs / (r["flash_gb_per_token"] * 1e9) * 1.01
        assert r["tok_s"] == pytest.approx(min(r["flash_limited_tok_s"], r["dram_resident_tok_s"]), rel=0.01)
        # flash read energy: bytes x 8 x 144.6 pJ/bit (the economics fallback for UFS: an NVMe drive's
        # 18 W at 14 GB/s less 10 % static)
        assert r["flash_j_per_token"] == pytest.approx(r["flash_gb_per_token"] * 1e9 * 8 * (0.9 * 18 / (14e9 * 8)),
                                                       rel=0.01)
        assert not r["fits_in_dram"]
    for case in mobile.FLASH_CASES:
        rs = sorted([r for r in rows if (r["chip_id"], r["model"], r["weights"]) == case],
                    key=lambda r: -r["flash_fraction_per_token"])
        assert [r["tok_s"] for r in rs] == sorted(r["tok_s"] for r in rs)       # less flash, faster
        assert rs[0]["tok_s"] < 1.0                                             # every weight from UFS: < 1 tok/s
    # A18 Pro, Llama 3.1 8B INT8, all weights from flash: 7.5 GB per token at 4.2 GB/s -> <= 0.56 tok/s
    a18 = next(r for r in rows if r["chip_id"] == "apple-a18-pro" and r["flash_fraction_per_token"] == 1.0)
    assert a18["flash_gb_per_token"] == pytest.approx(7.5049, rel=0.001)
    assert a18["tok_s"] <= 4.2 / 7.5049


def test_flash_fraction_interpolation() -> None:
    rows = [{"flash_fraction_per_token": f, "flash_limited_tok_s": 1.0 / f, "dram_resident_tok_s": 10.0}
            for f in (1.0, 0.1, 0.01)]
    # tok/s = 1/f reaches 9 (90% of 10) at f = 1/9
    assert mobile.flash_fraction_for(rows, 0.9) == pytest.approx(1 / 9, rel=1e-6)


def test_directions(study: Study) -> None:
    d = {(r["direction"], r["weights"]): r for r in _table(study, "mobile_directions")}
    budget = mobile.POWER_BUDGET_W
    for prec in mobile.DIRECTION_PRECISIONS:
        base = d["baseline", prec]
        for key in ("baseline", "pim", "stack3d", "stack3d_same_bw", "flash"):
            r = d[key, prec]
            assert r["dynamic_power_w"] == pytest.approx(r["dynamic_j_per_token"] * r["decode_tok_s"], rel=0.01)
            assert r["tok_s_at_budget_dynamic_only"] == pytest.approx(
                min(r["decode_tok_s"], budget / r["dynamic_j_per_token"]), rel=0.01)
            # Standby power is taken out of the same budget first.
            left = max(budget - r["memory_standby_w"], 0.0)
            assert r["tok_s_at_budget"] == pytest.approx(min(r["decode_tok_s"], left / r["dynamic_j_per_token"]),
                                                         rel=0.01, abs=1e-9)
            assert r["tok_s_at_budget"] <= r["tok_s_at_budget_dynamic_only"]
        # 3D stack: 2.34 pJ/bit instead of 5.86 -> well under half the dynamic energy; counting dynamic
        # power only, 3.1x fewer joules per token buy more than twice the tokens within the budget.
        assert d["stack3d", prec]["dynamic_j_per_token"] < 0.5 * base["dynamic_j_per_token"]
        s3 = d["stack3d", prec]
        assert s3["tok_s_at_budget_dynamic_only"] >= min(2 * base["tok_s_at_budget_dynamic_only"],
                                                         s3["decode_tok_s"]) * (1 - 1e-3)
        # flash: every active weight through UFS 4.0's 4.2 GB/s each token
        m = llmhw.load_model(mobile.DIRECTIONS_MODEL)
        bpw = {"fp16": 2.0, "int8": 1.0, "int4": 4.25 / 8}[prec]
        assert d["flash", prec]["decode_tok_s"] <= 4.2e9 / (m.active_params * bpw)
        assert not d["pnm", prec]["applicable"] and not d["interconnect", prec]["applicable"]
    # PIM: 0.1 TFLOP/s per LPDDR5 device does ~1 FLOP per byte it reads: FP16 weights (1 FLOP/B)
    # gain more than INT4 weights (~3.8 FLOP/B)
    pim16 = d["pim", "fp16"]["decode_tok_s"] / d["baseline", "fp16"]["decode_tok_s"]
    pim4 = d["pim", "int4"]["decode_tok_s"] / d["baseline", "int4"]["decode_tok_s"]
    assert pim16 > pim4 >= 1.0
    assert math.isclose(2 / (4.25 / 8), 3.76, rel_tol=0.01)


def test_directions_same_interface() -> None:
    # PIM and the cut-down stack sit behind the LPDDR5X's interface: the same peak bandwidth and
    # stream efficiency; the full stack keeps its own (wider) interface, labelled as such.
    lp = lookup(mobile.DIRECTIONS_PHONE).memory[0]
    variants = {k: extra for k, _, extra, _ in mobile.direction_variants()}
    for key in ("baseline", "pim", "stack3d_same_bw"):
        s = llmhw.Scenario.from_dict(mobile.scenario(mobile.DIRECTIONS_PHONE, mobile.DIRECTIONS_MODEL, "fp16",
                                                     **variants[key]))
        first = s.chip.memory[0]
        assert first.bandwidth_bytes_per_s == pytest.approx(lp.bandwidth_bytes_per_s, rel=1e-9)
        assert first.stream_efficiency == lp.stream_efficiency
    s = llmhw.Scenario.from_dict(mobile.scenario(mobile.DIRECTIONS_PHONE, mobile.DIRECTIONS_MODEL, "fp16",
                                                 **variants["stack3d"]))
    assert s.chip.memory[0].bandwidth_bytes_per_s > 10 * lp.bandwidth_bytes_per_s


def test_directions_interface_column(study: Study) -> None:
    rows = _table(study, "mobile_directions")
    lp = lookup(mobile.DIRECTIONS_PHONE).memory[0].bandwidth_bytes_per_s / 1e9
    for r in rows:
        if r["direction"] in ("baseline", "pim", "stack3d_same_bw"):
            assert r["interface_bandwidth_gb_s"] == pytest.approx(lp, rel=0.01)
        if r["direction"] == "flash":
            assert r["interface_bandwidth_gb_s"] == pytest.approx(lookup("ufs4").bandwidth_bytes_per_s / 1e9,
                                                                  rel=0.01)


def test_memory_standby_by_hand() -> None:
    # The phone's LPDDR5X tier stands by at its packages' static power: (capacity / one package's)
    # x the preset's static_power_w (one energy definition: docs/economics.md).
    s = mobile.scenario(mobile.DIRECTIONS_PHONE, mobile.DIRECTIONS_MODEL, "fp16")
    tier = llmhw.Scenario.from_dict(s).chip.memory[0]
    pkg = lookup(tier.id)
    assert mobile.memory_standby_w(s) == pytest.approx(tier.capacity_bytes / pkg.capacity_bytes * pkg.static_power_w,
                                                       rel=1e-6)


def test_best_precision_is_the_argmax(study: Study) -> None:
    rows = _table(study, "mobile_directions")
    for key, _, extra, _ in mobile.direction_variants():
        if extra is None:
            continue
        rs = [r for r in rows if r["direction"] == key]
        flagged = [r for r in rs if r["best_precision_for_direction"]]
        top = max(r["tok_s_at_budget"] for r in rs)
        if top > 0:
            assert len(flagged) == 1 and flagged[0]["tok_s_at_budget"] == top
        else:
            assert not flagged
    assert mobile.best_precision([{"direction": "x", "applicable": True, "tok_s_at_budget": 0.0}], "x") is None


def test_direction_verdicts_follow_the_numbers(study: Study) -> None:
    rows = _table(study, "mobile_directions")
    d = {(r["direction"], r["weights"]): r for r in rows}
    text = next(f for f in study.findings if f.startswith("At equal precision"))
    helps = text.split("those that never do")[0]
    for key, label, extra, _ in mobile.direction_variants():
        if extra is None or key == "baseline":
            continue
        g = max(d[key, w]["tok_s_at_budget"] / d["baseline", w]["tok_s_at_budget"] for w in mobile.DIRECTION_PRECISIONS)
        assert (label in helps) == (g > 1.02), (key, g)
    best = next(f for f in study.findings if f.startswith("Each at its best precision"))
    for r in rows:
        if r.get("best_precision_for_direction"):
            assert f"{r['label']} {r['tok_s_at_budget']} tok/s at {r['weights'].upper()}" in best
