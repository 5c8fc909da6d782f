"""RQ3b study (3D stacking): its key numbers against hand arithmetic, and its verdicts against its
own results (the verdict is computed, so no test fixes which bound wins)."""

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

import llmhw  # noqa: E402
from llmhw.cost.params import family_params  # noqa: E402
from llmhw.studies import stacking, style  # noqa: E402

GEN1_BW = 400e-6 / (9e-6) ** 2 * (8192 / 506173) * (1.953125e9 / 8)    # area / pitch^2 x data share x rate
GEN2_BW = 400e-6 / (3e-6) ** 2 * 0.01 * (1e9 / 8)
# The H200's HBM3E tier (5.875 stacks of 24 GB, 9.36 W static each; 4.8 TB/s at 3.9 pJ/bit) is
# inside its 700 W: the logic at full clock is 700 - 54.99 - 149.76 = 495.25 W.
HBM_STATIC, HBM_READS = 141 / 24 * 9.36, 4.8e12 * 8 * 3.9e-12
LOGIC = 700 - HBM_STATIC - HBM_READS
CAP = 0.43e6 * 814e-6                                                    # 350.02 W under the stack
GEN1_READS, GEN1_STATIC = GEN1_BW * 8 * 2.34e-12, 4 * 9.36              # 96 GB = 4 preset devices
GEN2_READS, GEN2_STATIC = GEN2_BW * 8 * 1.0e-12, 4 * 8.0                # 192 GB = 4 preset devices
F_GEN1 = (CAP - GEN1_STATIC) / (LOGIC + GEN1_READS)
F_GEN2 = (CAP - GEN2_STATIC) / (LOGIC + GEN2_READS)
F_GEN2_700 = (700 - GEN2_STATIC) / (LOGIC + GEN2_READS)


@pytest.fixture(scope="module")
def study(study_of):
    return study_of("stacking")


@pytest.fixture(scope="module")
def curves():
    return {i: stacking._sweep(stacking.scenario(i), stacking.BATCHES) for i in range(len(stacking.DESIGNS))}


def rows(study, name):
    return next(t for t in study.tables if t.name == name).rows


def test_figures_say_their_setup_and_the_study_its_answer(study):
    """Every figure names its model or system in a setup line that fits above it, no text under
    8 pt; the summary is short and quotes numbers."""
    assert not style.study_problems(study, {"Llama 3.1 70B", "H200", "GH100"})


def test_study_shape(study):
    assert study.name == "stacking"
    assert 2 <= len(study.figures) <= 4 and all(f.caption for f in study.figures)
    assert len(study.findings) >= 5


def test_stacked_bandwidth_is_area_over_pitch_squared():
    # gen-1: 400 mm2 / (9 um)^2 = 4.94 M pads, 1.62 % of them data (V-Cache's 8192 of 506k), 1.95 Gb/s each.
    assert GEN1_BW == pytest.approx(19.5e12, rel=0.01)
    assert GEN2_BW == pytest.approx(55.6e12, rel=0.01)
    g1 = stacking.stack("3d-dram-soic-gen1", 12e9)
    g2 = stacking.stack("3d-dram-hybrid-bond-gen2", 16e9)
    assert g1.bandwidth_bytes_per_s == pytest.approx(GEN1_BW, rel=1e-3)
    assert g2.bandwidth_bytes_per_s == pytest.approx(GEN2_BW, rel=1e-9)
    assert g1.capacity_bytes == 8 * 12e9 and g2.capacity_bytes == 12 * 16e9


def test_technology_table(study):
    by = {r["memory"]: r for r in rows(study, "stacking-technologies")}
    g1 = by["3d-dram-soic-gen1 over 400 mm2 (this study)"]
    assert g1["bandwidth_tb_s"] == pytest.approx(GEN1_BW / 1e12, abs=0.05)
    # Whole power at full bandwidth = static + reads: 4 x 9.36 + 19.5 TB/s x 8 x 2.34 pJ = 402 W,
    # 0.91 W/mm2 of reads alone over 400 mm2 (1.11 for gen-2); an HBM3E stack 9.36 + 37.4 = 46.8 W.
    assert g1["full_bandwidth_power_w"] == pytest.approx(GEN1_STATIC + GEN1_READS, abs=1)
    assert g1["static_w"] == pytest.approx(GEN1_STATIC, abs=0.1)
    assert GEN1_READS / 400 == pytest.approx(0.91, abs=0.01) and GEN2_READS / 400 == pytest.approx(1.11, abs=0.01)
    assert by["HBM3E stack (H200: 6)"]["full_bandwidth_power_w"] == pytest.approx(9.36 + 1.2e12 * 8 * 3.9e-12, abs=1)
    assert by["HBM4 stack (JEDEC, 2048 pins)"]["access_pj_per_bit"] == pytest.approx(2.44)


def test_envelope_by_hand(study):
    # Thermal cap, memory included: logic x f + reads x f + static <= 350 W.
    assert F_GEN1 == pytest.approx(0.363, abs=0.001) and F_GEN2 == pytest.approx(0.338, abs=0.001)
    th = {r["design"]: r for r in rows(study, "stacking-thermal")}
    d = stacking.DESIGNS
    assert th[d[0].label]["envelope_w"] == 700 and th[d[0].label]["logic_full_clock_w"] == round(LOGIC)
    for i, f in ((1, F_GEN1), (2, F_GEN2)):
        r = th[d[i].label]
        assert r["clock_and_data_rate_fraction"] == pytest.approx(f, abs=5e-4)
        assert r["binding_limit"] == "thermal" and r["envelope_w"] == round(CAP)
        assert stacking.envelope(i).fraction == pytest.approx(f, rel=1e-5)     # the catalog rounds the data share
    # In the H200's 700 W without the thermal cap (iso-power, memory included): the TDP binds.
    iso = th[d[4].label]
    assert iso["binding_limit"] == "tdp" and iso["clock_and_data_rate_fraction"] == pytest.approx(F_GEN2_700, abs=5e-4)
    # DVFS: logic x^3 + reads x = 350 - 32 W, so x lies between the fixed-voltage fraction and 1.
    x = stacking.envelope(3).fraction
    assert LOGIC * x ** 3 + GEN2_READS * x == pytest.approx(CAP - GEN2_STATIC, rel=1e-6)
    assert F_GEN2 < x < 1
    # The clock and the data rate fall together, so the roofline ridge B <= f peak / (2 f bw) keeps its value.
    gen1 = th[d[1].label]
    assert gen1["memory_tb_s"] == pytest.approx(GEN1_BW * F_GEN1 / 1e12, abs=0.05)
    assert gen1["fp8_peak_tflop_s"] == pytest.approx(1979 * F_GEN1, abs=1)
    assert gen1["memory_bound_up_to_batch_roofline"] == int(1979e12 / (2 * GEN1_BW))          # 50
    assert th[d[0].label]["memory_bound_up_to_batch_roofline"] == int(1979e12 / (2 * 4.8e12))  # 206
    fp = family_params("nvidia-gpu")

    # The H200's HBM3E streams at 90% of peak (BabelStream), the software reaches memory_eff of that;
    # a GEMV padded to the 8-token tensor-core tile keeps 1/8.
    def fitted(bw):
        x = 1979e12 * fp.compute_eff_max / (2 * bw * 0.9 * fp.memory_eff)
        return max(0, int(np.floor(max(x / 8, x - fp.compute_m_half))))

    assert gen1["memory_bound_up_to_batch_h100_kernels"] == fitted(GEN1_BW)
    assert th[d[0].label]["memory_bound_up_to_batch_h100_kernels"] == fitted(4.8e12)


def test_engine_agrees_with_hand_arithmetic():
    b = np.array([1])
    ideal = stacking._sweep(stacking.scenario(1, engine="ideal"), b)
    # Ideal roofline, batch 1: the FP8 weights (70.6 GB) once per step at the throttled
    # 19.5 TB/s x 0.363 = 7.1 TB/s (+ the KV cache).
    weights = llmhw.load_model(stacking.MODEL).weight_bytes("fp8")
    assert float(ideal["decode_step_s"][0]) == pytest.approx(weights / (GEN1_BW * F_GEN1), rel=0.05)
    # Prefill is compute-bound: at the throttled clock it takes 1 / f as long as on the H200.
    base = stacking._sweep(stacking.scenario(0), b)
    gen1 = stacking._sweep(stacking.scenario(1), b)
    assert float(gen1["prefill_s"][0] / base["prefill_s"][0]) == pytest.approx(1 / F_GEN1, rel=0.05)
    s = stacking.scenario(1)
    assert [t.id for t in s.chip.memory] == ["3d-dram-soic-gen1"]
    assert s.chip.memory[0].capacity_bytes == 96e9


def test_average_power_stays_inside_the_envelope(curves):
    # The envelope is set for full activity, so a chip's average draw while serving never exceeds it.
    for i, a in curves.items():
        pw = stacking.envelope(i)
        limit = 700 if pw is None else pw.envelope_w
        ok = a["fits"].astype(bool)
        assert np.all(a["power_w_per_chip_model"][ok] <= limit * (1 + 1e-9)), stacking.SHORT[i]


def test_bound_summary_by_hand():
    assert stacking.bound_summary(["memory", "memory", "compute"], [1, 2, 4]) == \
        "memory-bound at batch 1-2, compute-bound at 4"
    assert stacking.bound_summary(["compute"] * 3, [1, 2, 4]) == "compute-bound at every batch that fits (1-4)"
    assert stacking.bound_summary(["memory"], [8]) == "memory-bound at every batch that fits (8)"


def test_verdicts_are_the_results(study, curves):
    d = {(r["design"], r["batch"]): r for r in rows(study, "stacking-designs")}
    for i in range(1, len(stacking.DESIGNS)):
        v = stacking.verdict(curves, i)
        a = curves[i]
        # The verdict's bounds and ratios are the engine's: compute seconds against memory seconds,
        # tokens/s against the H200's at the same batch.
        for k, b in enumerate(v.batches):
            j = int(np.where(stacking.BATCHES == b)[0][0])
            assert v.bounds[k] == ("compute" if a["decode_compute_s"][j] > a["decode_memory_s"][j] else "memory")
            assert v.ratio[k] == pytest.approx(a["output_tok_s"][j] / curves[0]["output_tok_s"][j])
            row = d.get((stacking.SHORT[i], int(b)))
            if row is not None:
                assert row["decode_bound"] == v.bounds[k]
                assert row["tok_s_vs_h200"] == pytest.approx(v.ratio[k], abs=1e-3)
        # and the finding states them.
        assert any(f.startswith(f"{stacking.SHORT[i]}:") and v.text in f for f in study.findings)


def test_best_under_slo_rows_meet_the_slo_and_are_the_search_best(study):
    best = rows(study, "stacking-best-under-slo")
    assert [r["design"] for r in best] == list(stacking.SHORT)
    for r in best:
        assert r["output_tok_s_per_chip"] is not None
        assert r["tpot_ms"] <= stacking.TPOT_SLO_S * 1e3        # every row meets the one SLO
        assert r["best_mapping"] == "tp1"                        # one chip: the only mapping
        assert r["min_cost_usd_per_mtok"] <= r["cost_usd_per_mtok"] + 0.01
    # Brute force for the H200 and gen-2 700 W: every batch from 1 to 64, one predict each (the
    # search's grid is exact to 64; the best batches here are single digits).
    for i in (stacking.BASE, 4):
        top = 0.0
        with np.errstate(all="ignore"):
            for b in range(1, 65):
                p = llmhw.predict(stacking.scenario(i, batch=b))
                if p.fits and p.tpot_s <= stacking.TPOT_SLO_S:
                    top = max(top, p.output_tok_s_per_chip)
        assert best[i]["output_tok_s_per_chip"] == pytest.approx(top, abs=0.06)
    # And one design through llmhw.api.search directly.
    with np.errstate(all="ignore"):
        res = llmhw.api.search(stacking.scenario(1), [f"tpot_s<={stacking.TPOT_SLO_S}"], "output_tok_s_per_chip")
    assert best[1]["output_tok_s_per_chip"] == pytest.approx(res.best["output_tok_s_per_chip"], abs=0.06)


def test_best_under_slo_finding_follows_the_table(study):
    best = rows(study, "stacking-best-under-slo")
    text = next(f for f in study.findings if f.startswith("Each at its best mapping under the same SLO"))
    base = best[stacking.BASE]["output_tok_s_per_chip"]
    for r in best:
        # The table rounds the ratio to 0.01 and each throughput to 0.1 token/s: the ratio of two
        # rounded throughputs may differ from the rounded ratio by that much.
        ratio = r["output_tok_s_per_chip"] / base
        slack = 0.005 + ratio * (0.05 / base + 0.05 / r["output_tok_s_per_chip"])
        assert r["ratio_vs_h200"] == pytest.approx(ratio, abs=slack)
        assert f"{r['ratio_vs_h200']:.2f}x the H200" in text
    ranked = sorted(best, key=lambda r: -r["output_tok_s_per_chip"])
    margin = ranked[0]["output_tok_s_per_chip"] / ranked[1]["output_tok_s_per_chip"]
    assert f"{ranked[0]['design']} wins, {margin:.2f}x the runner-up ({ranked[1]['design']})" in text
