"""Calibration: the fit recovers parameters from data the model itself generated, and stays
inside physical bounds; the shipped calibration keeps every efficiency a fraction of peak."""

from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest

from llmhw.cost.params import BOUNDS, calibration, family_params, profiles
from llmhw.validation import calibrate as cal


def _synthetic_points():
    specs = []
    for model, n, tp in (("llama-3.1-8b", 1, 1), ("llama-3.1-70b", 8, 8), ("mixtral-8x7b", 2, 2)):
        for batch in (1, 16, 128):
            for isl, osl in ((128, 128), (2048, 256)):
                for metric in ("tpot_s", "ttft_s", "output_tok_s"):
                    specs.append(SimpleNamespace(
                        row=len(specs), metric=metric, measured=1.0,
                        scenario={"model": model, "hardware": "h100-sxm", "n_chips": n, "parallelism": {"tp": tp},
                                  "precision": {"weights": "fp8", "kv_cache": "fp8"},
                                  "workload": {"input_tokens": isl, "output_tokens": osl, "batch": batch}}))
    points, failed = cal.prepare(specs)
    assert not failed
    return points


def test_fit_recovers_known_parameters():
    points = _synthetic_points()
    truth = replace(family_params("nvidia-gpu"), compute_eff_max=0.62, memory_eff=0.85, attention_eff=0.4,
                    comm_latency_s=1.5e-5)
    cal._set_family(points, truth)
    for p in points:
        p.case.measured = p.predict()
    start = replace(truth, compute_eff_max=0.3, memory_eff=0.97, attention_eff=0.7, comm_latency_s=5e-6)
    cal._set_family(points, start)
    before = np.median(np.abs(cal.log_errors(points)))
    fitted = cal.fit_family(points, start, max_nfev=25)      # converges well within 25 evaluations here
    after = np.median(np.abs(cal.log_errors(points)))
    assert before > 0.1 and after < 0.01
    assert fitted.memory_eff == pytest.approx(0.85, rel=0.05)
    # Batches up to 128 trade compute_eff_max against compute_m_half: only loosely pinned.
    assert fitted.compute_eff_max == pytest.approx(0.62, rel=0.15)


def test_fitted_parameters_are_physical():
    fams = calibration().get("families") or {}
    assert fams, "calibration.yaml holds no fitted families"
    for key in fams:
        fp = family_params(key)
        for name, (lo, hi) in BOUNDS.items():
            v = getattr(fp, name)
            assert lo <= v <= hi, f"{key}.{name} = {v} outside [{lo}, {hi}]"
    for name, prof in profiles().items():
        assert 0 <= prof.queue_factor <= 2 and prof.step_overhead_s >= 0 and prof.token_overhead_s >= 0, name
