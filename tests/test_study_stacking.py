"""RQ3b study (3D stacking): its key numbers against hand arithmetic."""

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

import llmhw  # noqa: E402
from llmhw.cost.params import family_params  # noqa: E402
from llmhw.studies import stacking  # noqa: E402

GEN1_BW = 400e-6 / (9e-6) ** 2 * (8192 / 506173) * (1.953125e9 / 8)    # area / pitch^2 x data share x rate
GEN2_BW = 400e-6 / (3e-6) ** 2 * 0.01 * (1e9 / 8)


@pytest.fixture(scope="module")
def study():
    return stacking.run()


def rows(study, name):
    return next(t for t in study.tables if t.name == name).rows


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
    # Full-bandwidth read power: 19.5 TB/s x 8 bit x 2.34 pJ = 365 W; HBM3E stack 1.2 TB/s x 8 x 3.9 pJ = 37 W.
    assert g1["full_bandwidth_read_power_w"] == pytest.approx(GEN1_BW * 8 * 2.34e-12, abs=1)
    assert by["HBM3E stack (H200: 6)"]["full_bandwidth_read_power_w"] == pytest.approx(1.2e12 * 8 * 3.9e-12, abs=1)


def test_thermal_clock_and_ridge_by_hand(study):
    # 0.43 W/mm2 x 814 mm2 = 350 W of a 700 W TDP: clock 0.50 at fixed V, 0.50^(1/3) = 0.79 with DVFS.
    assert stacking.clock_fraction("3d-dram-soic-gen1") == pytest.approx(0.43 * 814 / 700, rel=1e-6)
    assert stacking.clock_fraction("3d-dram-soic-gen1", 3.0) == pytest.approx((0.43 * 814 / 700) ** (1 / 3), rel=1e-6)
    th = {r["design"]: r for r in rows(study, "stacking-thermal")}
    gen1 = th[stacking.DESIGNS[1][0]]
    assert gen1["clock_fraction"] == 0.5 and gen1["fp8_peak_tflop_s"] == pytest.approx(1979 * 0.5, abs=1)
    # Ideal roofline, FP8: memory-bound while 2 B / (f x peak) <= 1 / bandwidth: B <= f peak / (2 bw).
    assert gen1["memory_bound_up_to_batch_roofline"] == int(0.5 * 1979e12 / (2 * GEN1_BW))      # 25
    assert th[stacking.DESIGNS[0][0]]["memory_bound_up_to_batch_roofline"] == int(1979e12 / (2 * 4.8e12))  # 206
    # With the fitted kernels, eff(B) = eff_max max(B / (B + m_half), floor): memory-bound while
    # B <= X floor or B + m_half <= X, X = f peak eff_max / (2 bw mem_eff).
    fp = family_params("nvidia-gpu")

    def fitted(bw, f):
        x = f * 1979e12 * fp.compute_eff_max / (2 * bw * fp.memory_eff_max)
        return max(0, int(np.floor(max(x * fp.compute_eff_floor, x - fp.compute_m_half))))

    assert gen1["memory_bound_up_to_batch_h100_kernels"] == fitted(GEN1_BW, 0.5)
    assert th[stacking.DESIGNS[0][0]]["memory_bound_up_to_batch_h100_kernels"] == fitted(4.8e12, 1.0)


def test_engine_agrees_with_hand_arithmetic():
    b = np.array([1])
    ideal = stacking._sweep(stacking.scenario(1, engine="ideal"), b)
    # Ideal roofline, batch 1: the FP8 weights (70.6 GB) once per step at 19.5 TB/s = 3.6 ms (+ the KV cache).
    weights = llmhw.load_model(stacking.MODEL).weight_bytes("fp8")
    assert float(ideal["decode_step_s"][0]) == pytest.approx(weights / GEN1_BW, rel=0.05)
    # The engine caps the clock: prefill (compute-bound) takes twice as long as on the full-clock H200.
    base = stacking._sweep(stacking.scenario(0), b)
    gen1 = stacking._sweep(stacking.scenario(1), b)
    assert float(gen1["prefill_s"][0] / base["prefill_s"][0]) == pytest.approx(2.0, rel=0.05)
    # and the stack is the only memory tier.
    s = stacking.scenario(1)
    assert [t.id for t in s.chip.memory] == ["3d-dram-soic-gen1"]
    assert s.chip.memory[0].capacity_bytes == 96e9


def test_designs_table(study):
    d = {(r["design"], r["batch"]): r for r in rows(study, "stacking-designs")}
    # batch 1 faster with the stack, batch 64 slower at half clock (compute-bound)
    assert d[("3D gen-2", 1)]["tpot_ms"] < d[("H200 HBM3E", 1)]["tpot_ms"]
    assert d[("3D gen-2", 64)]["tpot_ms"] > d[("H200 HBM3E", 64)]["tpot_ms"]
    assert d[("3D gen-2", 1)]["decode_bound"] == "compute"
