"""Which calibration a prediction used, and the error that class of chip showed in validation."""

import re
from pathlib import Path

import pytest

from llmhw.cost.params import calibration
from llmhw.cost.trust import calibration_used, trust

DOCS = Path(__file__).resolve().parents[1] / "docs" / "validation.md"
NEW_CHIPS = DOCS.with_name("validation-new-chips.md")


def test_the_trust_table_is_the_validation_report_s():
    """cost/trust.yaml and docs/validation.md come from the same cross-validated run: each
    family's rows, in-sample and chip-held-out medians agree to the report's 0.1%."""
    md = DOCS.read_text()
    fams = trust()["families"]
    seen = 0
    for m in re.finditer(r"^\| ([a-z:-]+) \| all \| (\d+) \| ([\d.]+)% \| [^|]+\| [^|]+\| ([\d.]+%|-) \|$", md, re.M):
        fam, n, ins, held = m.groups()
        if fam == "all":
            continue
        seen += 1
        assert fams[fam]["rows"] == int(n)
        assert fams[fam]["in_sample"] == pytest.approx(float(ins) / 100, abs=5e-4)
        assert (fams[fam]["chip_held_out"] is None) == (held == "-")
        if held != "-":
            assert fams[fam]["chip_held_out"] == pytest.approx(float(held[:-1]) / 100, abs=5e-4)
    neuron, gaudi = NEW_CHIPS.read_text().split("\n## Gaudi 2")   # families fitted on the new chips' rows alone
    new = neuron
    ins = re.search(r"^\| in-sample \| all \| all \| (\d+) \| ([\d.]+)% \|", new, re.M)
    held = re.search(r"^\| chip held out \| transformers-neuronx \| all \| \d+ \| ([\d.]+)% \|", new, re.M)
    assert fams["aws-trainium"]["rows"] == int(ins.group(1))
    assert fams["aws-trainium"]["in_sample"] == pytest.approx(float(ins.group(2)) / 100, abs=5e-4)
    assert fams["aws-trainium"]["chip_held_out"] == pytest.approx(float(held.group(1)) / 100, abs=5e-4)
    ins = re.search(r"^\| in-sample \| all \| all \| (\d+) \| ([\d.]+)% \|", gaudi, re.M)
    assert fams["intel-gaudi"]["rows"] == int(ins.group(1))
    assert fams["intel-gaudi"]["in_sample"] == pytest.approx(float(ins.group(2)) / 100, abs=5e-4)
    assert fams["intel-gaudi"]["chip_held_out"] is None          # one chip: none to hold out
    assert seen + 2 == len(fams) >= 6
    # every family with a trust row is one the calibration fitted, and the other way round
    cal = calibration()
    assert set(fams) == set(cal["families"]) | set(cal["new_chip_families"])


def test_the_trust_table_lists_the_chips_each_family_was_fitted_on():
    from llmhw.validation import calibrate as cal
    from llmhw.validation.cases import flagged, load_cases

    cases, _ = load_cases()
    points, _ = cal.prepare([c for c in cases if c.row not in flagged()])
    chips: dict[str, set[str]] = {}
    for p in points:
        chips.setdefault(p.key, set()).add(p.chip)
    new_fams = ("aws-trainium", "intel-gaudi")
    listed = {k: v["chips"] for k, v in trust()["families"].items() if k not in new_fams}
    assert {k: sorted(v) for k, v in chips.items()} == listed
    from llmhw.validation import new_chips

    pts = new_chips.points()
    for fam in new_fams:
        assert sorted({p.chip for p in pts if p.key == fam}) == trust()["families"][fam]["chips"]


def test_each_class_of_chip_gets_its_own_error():
    t = trust()["families"]["nvidia-gpu"]
    fitted = calibration_used("nvidia-gpu", None, "h100-sxm")
    assert fitted.basis == "fitted chip" and fitted.median_error == t["in_sample"]
    unseen = calibration_used("nvidia-gpu", None, "h100-pcie")           # in the catalog, never measured
    assert unseen.basis == "calibrated family" and unseen.median_error == t["chip_held_out"]
    assert unseen.median_error > fitted.median_error
    new = calibration_used("google-tpu", None, "tpu-user-spec")
    assert new.basis == "uncalibrated family"
    assert new.median_error == max(trust()["never_seen"].values())
    assert "not calibrated" in new.text and "default software efficiencies" in new.text
    assert calibration_used("nvidia-gpu", None, "h100-sxm", engine="ideal").basis == "ideal"
    # a family of one measured chip: its other chips get the in-sample error, said to be optimistic
    g3 = calibration_used("intel-gaudi", None, "gaudi3")
    assert g3.basis == "calibrated family" and g3.median_error == trust()["families"]["intel-gaudi"]["in_sample"]
    assert "too few chips" in g3.text


def test_predict_says_which_calibration_applied(capsys):
    from tests.robustness.harness import run_cli, strict_json

    res = run_cli(capsys, "predict", "--model", "llama-3.1-8b", "--hardware", "tpu-v6e", "--input-tokens", "128",
                  "--output-tokens", "32", "--json")
    d = strict_json(res.stdout)
    assert d["calibration"]["basis"] == "uncalibrated family" and d["calibration"]["family"] == "google-tpu"
    res = run_cli(capsys, "predict", "--model", "llama-3.1-8b", "--hardware", "h100-sxm", "--input-tokens", "128",
                  "--output-tokens", "32")
    assert "calibration: h100-sxm is among the chips" in res.stdout
