"""A chip llmhw has never seen: the template a user starts from, and what `llmhw hardware PATH`
tells them about their spec."""

import re

import pytest
import yaml
from tests.robustness.harness import assert_answered, assert_refused, run_cli, strict_json, write

WORK = ["--input-tokens", "1024", "--output-tokens", "128", "--batch", "16"]
SAME = ("ttft_s", "tpot_s", "output_tok_s", "energy_j_per_token", "fits")


@pytest.mark.parametrize(("like", "flags"), [("h100-sxm", []), ("hgx-h100-8", ["--tp", "8"])])
def test_the_template_predicts_what_the_catalog_entry_does(capsys, tmp_path, like, flags):
    res = run_cli(capsys, "hardware", "new", "--like", like)
    assert_answered(res)
    spec = write(tmp_path, "mine.yaml", res.stdout)
    mine = strict_json(run_cli(capsys, "predict", "--model", "llama-3.1-70b", "--hardware", str(spec),
                               *flags, *WORK, "--json").stdout)
    ref = strict_json(run_cli(capsys, "predict", "--model", "llama-3.1-70b", "--hardware", like,
                              *flags, *WORK, "--json").stdout)
    for k in SAME:
        assert mine[k] == pytest.approx(ref[k], rel=1e-12), k
    assert f"my-{like}" in (mine["hardware"], mine["chip"])


def test_every_field_of_the_template_is_explained(capsys):
    text = run_cli(capsys, "hardware", "new", "--like", "h100-sxm").stdout
    lines = text.splitlines()
    keys = [(i, m.group(1)) for i, ln in enumerate(lines) if (m := re.match(r"^\s*(?:- )?([a-z_0-9]+):", ln))]
    top = {k for i, k in keys if not lines[i].startswith(" ")}
    assert {"kind", "id", "family", "peak_flops", "memory", "tdp_w", "scale_up"} <= top
    for i, k in keys:
        if k in ("fp64", "fp32", "bf16", "fp16", "fp8", "int8", "int4", "fp4"):
            continue                                    # datatypes under peak_flops, explained there
        assert lines[i - 1].strip().startswith(f"# {k}:"), (k, lines[i - 1])
    assert yaml.safe_load(text)["id"] == "my-h100-sxm"


def _spec(tmp_path, **changes):
    d = {"id": "acc2", "name": "Accelerator 2", "family": "google-tpu",
         "peak_flops": {"bf16": {"value": 432, "unit": "TFLOPS", "status": "specified", "source": "https://x.example"}},
         "memory": [{"tech": "hbm2e", "capacity_bytes": {"value": 96, "unit": "GB", "status": "specified",
                                                         "source": "https://x.example"},
                     "bandwidth_bytes_per_s": {"value": 2.46, "unit": "TB/s", "status": "specified",
                                               "source": "https://x.example"}}],
         "tdp_w": {"value": 600, "unit": "W", "status": "specified", "source": "https://x.example"},
         "scale_up": {"id": "acc2-net", "topology": "full_mesh", "links_per_chip": 21, "domain_size": 8,
                      "link": {"id": "acc2-port", "bandwidth_bytes_per_s": {"value": 100, "unit": "Gbps",
                                                                            "status": "specified",
                                                                            "source": "https://x.example"}}}}
    d.update(changes)
    return write(tmp_path, "acc2.yaml", yaml.safe_dump(d))


def test_a_user_spec_is_shown_with_derived_figures_and_what_to_check(capsys, tmp_path):
    res = run_cli(capsys, "hardware", str(_spec(tmp_path)), "--json")
    assert_answered(res)
    d = strict_json(res.stdout)
    fig = {x["name"]: x["value"] for x in d["derived"]}
    assert fig["ridge point bf16"] == pytest.approx(432e12 / 2.46e12)          # 175.6 FLOP/B
    assert fig["scale-up injection per chip, per direction"] == pytest.approx(21 * 100e9 / 8)
    text = " | ".join(d["warnings"])
    assert "scale_up.link: the link bandwidth does not say bandwidth_direction" in text
    assert "family 'google-tpu' is not calibrated" in text
    assert d["calibration"]["basis"] == "uncalibrated family"
    assert "no price_usd" in text


def test_a_unit_slip_is_flagged_against_the_chips_llmhw_knows(capsys, tmp_path):
    bad = _spec(tmp_path, tdp_w={"value": 600, "unit": "kW", "status": "specified", "source": "https://x.example"})
    d = strict_json(run_cli(capsys, "hardware", str(bad), "--json").stdout)
    assert any(w.startswith("tdp_w 6e+05 is outside") and "check its unit" in w for w in d["warnings"])


def test_new_needs_like_and_like_needs_new(capsys):
    assert_refused(run_cli(capsys, "hardware", "new"), "--like")
    assert_refused(run_cli(capsys, "hardware", "new", "--like", "nope"), "--like", "unknown chip or system")
    assert_refused(run_cli(capsys, "hardware", "h100-sxm", "--like", "b200"), "--like")


def test_the_worked_example_predicts_aws_s_published_tpot(capsys):
    """docs/new-chip.md: examples/hardware/my-inferentia2.yaml, Llama 3 8B W8A16 on 12 chips (TP 24
    NeuronCores, heads padded), against AWS's Inf2 latency table: TPOT P50 7.41 ms at 128 in /
    8,064 out and 7.47 ms at 4,096 / 4,096 (batch 1)."""
    for (isl, osl), measured in (((128, 8064), 7.41e-3), ((4096, 4096), 7.47e-3)):
        d = strict_json(run_cli(capsys, "predict", "--model", "llama-3.1-8b", "--hardware",
                                "examples/hardware/my-inferentia2.yaml", "--tp", "12", "--ranks-per-chip", "2",
                                "--weights", "int8", "--compute", "bf16", "--engine", "transformers-neuronx",
                                "--input-tokens", str(isl), "--output-tokens", str(osl), "--json").stdout)
        assert abs(d["tpot_s"] / measured - 1) < 0.15
        assert d["calibration"]["basis"] == "calibrated family"
