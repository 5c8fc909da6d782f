"""The claims table: every numeric claim of the paper is a row, and llmhw's figures are the ratios
of catalog numbers computed by hand."""

from __future__ import annotations

import math

import pytest

import llmhw
from llmhw.hardware.catalog import chips as catalog_chips
from llmhw.hardware.catalog import lookup
from llmhw.studies import claims
from llmhw.studies.base import Study


@pytest.fixture(scope="module")
def study() -> Study:
    return claims.run()


@pytest.fixture(scope="module")
def rows(study: Study) -> dict[str, dict]:
    return {r["id"]: r for r in study.tables[0].rows}


def test_every_row_is_complete(study: Study) -> None:
    for r in study.tables[0].rows:
        assert r["agree"] in claims.AGREE
        assert r["claim"] and r["paper_figure"] and r["paper_source"] and r["why"], r
        assert not r["why"].startswith("error"), r
        if r["agree"] != "not computable":
            assert r["llmhw_figure"] != "-", r
    counts = {a: sum(r["agree"] == a for r in study.tables[0].rows) for a in claims.AGREE}
    assert study.findings[0].startswith(f"{len(study.tables[0].rows)} claims: {counts['yes']} agree, "
                                        f"{counts['partly']} partly, {counts['no']} disagree, "
                                        f"{counts['not computable']} not computable")
    assert len(study.figures) == 3 and all(f.caption for f in study.figures)


def test_every_numeric_claim_of_section_2_is_a_row(rows: dict[str, dict]) -> None:
    # paper.md §2: claims 1-24; 7 (why HBM costs grow) and 8 (the 2026 price surge) carry no number;
    # 22 (Table 1) is the T1-* rows
    for n in (1, 2, 3, 4, 5, 6, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 23, 24):
        assert any(k == f"S2-{n}" or k.startswith(f"S2-{n}") and not k[len(f"S2-{n}")].isdigit()
                   for k in rows), n
    for k in ("T1-hbm2e", "T1-hbm3", "T1-hbm3e", "T1-hbm4", "T1-stacks", "T3-hbm4", "T3-hbf", "T3-ddr5",
              "T3-lpddr5", "T3-flash", "Q1", "Q9"):
        assert k in rows


def test_experts(rows: dict[str, dict]) -> None:
    assert rows["S2-3"]["llmhw_value"] == 256 and rows["S2-3"]["agree"] == "yes"


def test_hbf_ratios(rows: dict[str, dict]) -> None:
    assert rows["S2-12"]["llmhw_value"] == pytest.approx(512 / 48, rel=1e-3)             # 10.7X
    assert rows["S2-13"]["llmhw_value"] == pytest.approx(1638, rel=1e-3)
    # The HBM4 bandwidth row reads the catalog's HBM4 stack (the catalog keeps no bus width or pin
    # rate, so the stack's bandwidth is the independent number here).
    assert rows["T1-hbm4"]["llmhw_value"] == pytest.approx(lookup("hbm4").bandwidth_bytes_per_s / 1e9)
    # energy_j_per_bit is access energy now (docs/economics.md): these rows multiply it by the
    # bandwidth, so they give the access part of Table 3's watts, without the static part.
    hbf_access = 0.9 * 80 / (1638.4e9 * 8)                          # 80 W less 10 % static
    assert rows["S2-14"]["llmhw_value"] == pytest.approx(hbf_access * 1638e9 * 8, rel=1e-2)  # 72 of 80 W
    hbm4_access = 0.8 * 40 / (1638.4e9 * 8)                         # 40 W less 20 % static
    assert rows["T3-hbm4"]["llmhw_value"] == pytest.approx(1638.4 / (hbm4_access * 1638.4e9 * 8), rel=1e-2)  # 51


def test_memory_wall(rows: dict[str, dict]) -> None:
    chips = catalog_chips()
    if "k20x" not in chips or "fp64" not in chips["k20x"].peak_flops:
        assert rows["S2-4"]["agree"] == "not computable"
        return
    k, h = chips["k20x"], chips["h100-sxm"]
    assert rows["S2-4a"]["llmhw_value"] == pytest.approx(h.peak_flops["fp64"] / k.peak_flops["fp64"], rel=1e-3)
    assert rows["S2-4b"]["llmhw_value"] == pytest.approx(3350 / 250, rel=1e-3)            # 13.4X
    assert rows["S2-4c"]["llmhw_value"] == pytest.approx(rows["S2-4a"]["llmhw_value"] / 13.4, rel=1e-3)


def test_pim_pnm(rows: dict[str, dict]) -> None:
    assert rows["S2-18"]["llmhw_value"] == pytest.approx(48e9 / 32e6)                     # 1,500X
    assert rows["S2-19b"]["llmhw_value"] == pytest.approx(2.44 / 0.98, rel=1e-3)          # 2.5X, access energies
    assert rows["S2-19b"]["agree"] == "yes"
    # PIM: HBM2E 3.7 / 1.1, GDDR 7.5 / 1.5, LPDDR5 5.86 / 1.64 pJ/bit (access energies): median 3.57X,
    # under the paper's 5-10X
    assert rows["S2-19a"]["llmhw_value"] == pytest.approx(5.86 / 1.64, rel=1e-3)
    assert rows["S2-19a"]["agree"] == "partly"
    assert rows["S2-20"]["llmhw_value"] == pytest.approx(2.44 / 0.98, rel=1e-3)


def test_table3_modules(rows: dict[str, dict]) -> None:
    # These rows price access energy alone (claims.py predates the static power): LPDDR5 51.2 GB/s
    # at 5.86 pJ/bit -> 2.4 W -> 21.3 GB/s per W; DDR5 at 10 pJ/bit -> 12.5, not 4
    assert rows["T3-lpddr5"]["llmhw_value"] == pytest.approx(1 / (5.86e-12 * 8) / 1e9, rel=1e-3)
    assert rows["T3-ddr5"]["llmhw_value"] == pytest.approx(1 / (10e-12 * 8) / 1e9, rel=1e-3)
    assert rows["T3-ddr5"]["agree"] == "no"


def test_sram_and_stacks(rows: dict[str, dict]) -> None:
    w = llmhw.load_model("llama-3.1-70b").weight_bytes("fp8")
    assert rows["S2-10"]["llmhw_value"] == math.ceil(w / 230e6) == 307
    # A100 and H100 80 GB / 16 GB stacks = 5; B200 180 GB / 24 GB = 7.5 -> 8
    assert rows["T1-stacks"]["agree"] == "yes"
    assert math.ceil(lookup("b200").memory[0].capacity_bytes / 24e9) == 8


def test_decode_and_latency(rows: dict[str, dict]) -> None:
    # batch-1 decode of an FP8 model: 2 FLOP per weight byte, against a ridge of 1979 / 3.35 = 591
    assert rows["Q1"]["llmhw_value"] == pytest.approx(2.0, rel=0.05)
    assert "decode memory-bound" in rows["Q1"]["llmhw_figure"] and "591" in rows["Q1"]["llmhw_figure"]
    assert rows["Q9"]["llmhw_value"] > 90                                                  # % latency, 16 KB
    assert rows["Q6"]["llmhw_value"] < 4 * 365.25                                          # days


def test_off_by() -> None:
    r = claims.row("X", "c", "p", "s", "l", "yes", "w", (2, 3), 3.3, "x")
    assert claims.off_by(r) == pytest.approx(0.1)
    assert claims.off_by(claims.row("X", "c", "p", "s", "l", "yes", "w", (2, 3), 2.5, "x")) == 0.0
    assert claims.off_by(claims.row("X", "c", "p", "s", "l", "yes", "w", 4, 2, "x")) == pytest.approx(-0.5)
