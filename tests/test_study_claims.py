"""The claims table: one rule turns the paper's figure and llmhw's into every verdict; a number
llmhw took from the paper is "by construction", never agreement; llmhw's figures are the ratios of
catalog numbers computed by hand. No test pins a verdict that depends on today's physics."""

from __future__ import annotations

import ast
import inspect
import math
from pathlib import Path

import numpy as np
import pytest

import llmhw
from llmhw import api
from llmhw.core.errors import LlmhwError
from llmhw.core.provenance import Provenance
from llmhw.hardware.catalog import chips as catalog_chips
from llmhw.hardware.catalog import lookup, sources
from llmhw.scenario.economics import EconomicsParams
from llmhw.studies import _claims_rule as rule
from llmhw.studies import claims, style
from llmhw.studies.base import Study

PAPER = sources()["ma_patterson2026"]["url"]


@pytest.fixture(scope="module")
def study(study_of) -> Study:
    return study_of("claims")


@pytest.fixture(scope="module")
def rows(study: Study) -> dict[str, dict]:
    return {r["id"]: r for r in study.tables[0].rows}


# -- the rule on hand cases -----------------------------------------------------------------------

def verdict(paper: rule.Paper | None, value: float | None = None, **kw: object) -> str:
    return rule.judge(paper, value, **kw)[0]



def test_figures_say_their_setup_and_the_study_its_answer(study: Study) -> None:
    """Every figure says what was computed in a setup line that fits above it, no text under 8 pt;
    the summary is short and quotes numbers; the paper is cited as a paper, not as a file."""
    assert not style.study_problems(study, {"Ma & Patterson 2026", "Llama 3.1 70B"})
    texts = [study.summary, *study.findings, *(f.caption for f in study.figures)]
    texts += [str(v) for t in study.tables for r in t.rows for v in r.values()] + [t.title for t in study.tables]
    assert not [t for t in texts if "paper.md" in t]

def test_rule_agrees_inside_a_range_or_within_ten_percent() -> None:
    assert verdict(rule.Number.of((2, 3)), 2.5) == "agree"
    assert verdict(rule.Number.of((2, 3)), 3.0) == "agree"                 # the end of the range
    assert verdict(rule.Number.of(80), 75) == "agree"                      # -6.25%
    assert verdict(rule.Number.of(80), 87) == "agree"                      # +8.75%
    assert verdict(rule.Number.of((2, 3)), 3.25) == "agree"                # 8.3% above the range
    assert verdict(rule.Number.of((20.5, math.inf)), 30) == "agree"        # ">20.5"
    assert verdict(rule.Number.of((0, 80)), 60) == "agree"                 # "<80"


def test_rule_partly_for_the_same_order_or_direction() -> None:
    # a plain quantity: within a factor of 10 of the paper's range
    assert verdict(rule.Number.of(4), 12.5) == "partly"                    # 3.1X
    assert verdict(rule.Number.of(100), 89) == "partly"                    # -11%
    assert verdict(rule.Number.of(4), 0.41) == "partly"
    # an effect (a factor, 1 = none): on the same side of 1 by more than 10%
    assert verdict(rule.Number.of(80, effect=True), 51) == "partly"
    assert verdict(rule.Number.of((2, 3), effect=True), 1.5) == "partly"
    assert verdict(rule.Number.of((250, 1000), effect=True), 1500) == "partly"
    assert verdict(rule.Number.of(0.5, effect=True), 0.8) == "partly"       # a saving, smaller


def test_rule_disagrees_in_the_opposite_direction_or_beyond_an_order() -> None:
    assert verdict(rule.Number.of(2, effect=True), 0.5) == "disagree"       # opposite
    assert verdict(rule.Number.of(0.5, effect=True), 1.5) == "disagree"     # opposite
    assert verdict(rule.Number.of((2, 3), effect=True), 1.05) == "disagree"  # no effect: within 10% of 1
    assert verdict(rule.Number.of((2, 3), effect=True), 0.97) == "disagree"
    assert verdict(rule.Number.of(4), 0.39) == "disagree"                  # under a tenth
    assert verdict(rule.Number.of(100), 1001) == "disagree"                # over 10X


def test_rule_by_construction_is_never_agreement() -> None:
    for value in (80, 79.9, 40, 1000):
        assert verdict(rule.Number.of(80), value, from_paper=["hbf.energy_j_per_bit"]) == "by construction"
    assert verdict(rule.Condition("x"), holds=True, from_paper=["a.b"]) == "by construction"


def test_rule_on_conditions() -> None:
    c = rule.Condition("the claim", "a weaker form")
    assert verdict(c, holds=True, partial=True) == "agree"
    assert verdict(c, holds=True, partial=False) == "agree"
    assert verdict(c, holds=False, partial=True) == "partly"
    assert verdict(c, holds=False, partial=False) == "disagree"
    assert verdict(rule.Condition("no weaker form"), holds=False, partial=True) == "disagree"
    assert verdict(c) == "not computable"


def test_rule_not_computable_and_bad_ranges() -> None:
    assert verdict(None) == "not computable"
    assert verdict(rule.Number.of(4)) == "not computable"
    assert verdict(rule.Number.of(4), float("nan")) == "not computable"
    with pytest.raises(LlmhwError, match="paper"):
        rule.Number.of((3, 2))
    with pytest.raises(LlmhwError, match="side of 1"):
        rule.Number.of((0.5, 2), effect=True)
    assert set(rule.VERDICTS) == {"agree", "partly", "disagree", "by construction", "not computable"}


def test_taken_from_paper_reads_the_sources() -> None:
    assert rule.taken_from_paper(Provenance(status="derived", sources=(PAPER,)))
    assert not rule.taken_from_paper(Provenance(status="specified", sources=(PAPER, "https://vendor.example")))
    assert not rule.taken_from_paper(Provenance(status="estimated", sources=("https://vendor.example",)))
    assert not rule.taken_from_paper(Provenance(status="user"))
    assert not rule.taken_from_paper(None)


# -- every row -----------------------------------------------------------------------------------

def test_every_row_is_complete(study: Study) -> None:
    for r in study.tables[0].rows:
        assert r["verdict"] in rule.VERDICTS
        assert r["claim"] and r["paper_figure"] and r["paper_source"] and r["why"], r
        assert "error" not in r["note"], r
        assert "\n" not in r["why"], r
        if r["verdict"] != "not computable":
            assert r["llmhw_figure"] != "-", r
    assert len(study.figures) == 3 and all(f.caption for f in study.figures)


def test_every_verdict_is_the_rule_applied_to_the_row(study: Study) -> None:
    for r in study.tables[0].rows:
        from_paper = [x for x in r["from_paper"].split("; ") if x]
        got = rule.judge(rule.paper_of(r), r["llmhw_value"], r["condition_holds"], r["partial_holds"], from_paper)
        assert got == (r["verdict"], r["why"]), r["id"]


def test_no_row_builder_types_a_verdict() -> None:
    # row() takes no verdict, and the row builders hold no verdict as a string constant
    assert not {"verdict", "agree"} & set(inspect.signature(rule.row).parameters)
    src = Path(claims.__file__).parent
    for name in ("_claims_section2.py", "_claims_tables.py", "_claims_questions.py", "_claims_runs.py"):
        tree = ast.parse((src / name).read_text())
        typed = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and n.value in rule.VERDICTS]
        assert not typed, (name, typed)


def _catalog_quantity(label: str) -> Provenance | None:
    """A row's restated quantity, looked up in the catalog by its label (id.field, id.memory.field)."""
    head, _, field = label.partition(".")
    spec = lookup(head)
    if field.startswith("memory."):
        spec, field = spec.memory[0], field.removeprefix("memory.")
    return spec.source_of(field)


def test_no_circular_row_counts_as_agreement(study: Study) -> None:
    for r in study.tables[0].rows:
        restated = [x for x in r["restates"].split("; ") if x]
        paper_only = [x for x in restated if (p := _catalog_quantity(x)) is not None and set(p.sources) == {PAPER}]
        if paper_only:
            assert r["verdict"] == "by construction", r["id"]
        else:
            assert r["verdict"] != "by construction", r["id"]


def test_rows_restating_table3_name_their_catalog_numbers(rows: dict[str, dict]) -> None:
    # The detection reads provenance; these rows must name the quantity that carries the claim.
    for cid, q in (("T3-hbm4", "hbm4.energy_j_per_bit"), ("T3-hbf", "hbf.energy_j_per_bit"),
                   ("T3-lpddr5", "lpddr5.energy_j_per_bit"), ("T3-ddr5", "ddr5.energy_j_per_bit"),
                   ("S2-14", "hbf.energy_j_per_bit"), ("S2-16", "hbf.access_granularity_bytes"),
                   ("S2-19b", "pnm-hbm.energy_j_per_bit"), ("S2-20a", "pnm-hbm.energy_j_per_bit"),
                   ("T3-latency", "hbm4.latency_s"), ("S2-13", "hbf.bandwidth_bytes_per_s")):
        assert q in rows[cid]["restates"].split("; "), cid


def test_the_summary_counts_add_up(study: Study) -> None:
    rs = study.tables[0].rows
    c = claims.counts(rs)
    assert list(c) == list(rule.VERDICTS)
    assert sum(c.values()) == len(rs)
    assert study.findings[0] == claims.summary(rs)
    assert study.findings[0].startswith(f"{len(rs)} claims: {c['agree']} agree, {c['partly']} partly, "
                                        f"{c['disagree']} disagree, {c['by construction']} by construction")
    assert f"{c['not computable']} not computable" in study.findings[0]


def test_every_numeric_claim_of_section_2_is_a_row(rows: dict[str, dict]) -> None:
    # The paper's §2: claims 1-24; 7 (why HBM costs grow) and 8 (the 2026 price surge) carry no number;
    # 22 (Table 1) is the T1-* rows
    for n in (1, 2, 3, 4, 5, 6, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 23, 24):
        assert any(k == f"S2-{n}" or k.startswith(f"S2-{n}") and not k[len(f"S2-{n}")].isdigit()
                   for k in rows), n
    for k in ("T1-hbm2e", "T1-hbm3", "T1-hbm3e", "T1-hbm4", "T1-stacks", "T3-hbm4", "T3-hbf", "T3-ddr5",
              "T3-lpddr5", "T3-flash", "Q1", "Q9"):
        assert k in rows


# -- llmhw's figures by hand ----------------------------------------------------------------------

def test_pnm_energy_is_the_system_result(rows: dict[str, dict]) -> None:
    # The near-memory study's system, whole-system J/token with plain HBM over with PNM, at batch 1 and 16
    s = {"model": "llama-3.1-70b", "hardware": "hgx-h100-8", "n_chips": 8, "parallelism": {"tp": 8},
         "precision": {"weights": "bf16", "kv_cache": "bf16"},
         "workload": {"input_tokens": 1024, "output_tokens": 1024, "batch": 1}}
    b = np.array([1, 16])
    e0 = api.sweep_economics(s, batch=b)["energy_j_per_token"]
    e1 = api.sweep_economics({**s, "overrides": {"chip.near_memory": "pnm-hbm"}}, batch=b)["energy_j_per_token"]
    for cid, i in (("S2-20b", 0), ("S2-20c", 1)):
        r = rows[cid]
        assert r["llmhw_value"] == pytest.approx(e0[i] / e1[i], rel=1e-3)
        assert (r["paper_low"], r["paper_high"], r["paper_effect"]) == (2, 3, True)
        assert r["verdict"] == rule.judge(rule.Number.of((2, 3), effect=True), r["llmhw_value"])[0]
        assert r["verdict"] != "by construction"


def test_experts(rows: dict[str, dict]) -> None:
    assert rows["S2-3"]["llmhw_value"] == 256 and rows["S2-3"]["verdict"] == "agree"


def test_hbf_ratios(rows: dict[str, dict]) -> None:
    hbf, hbm4 = lookup("hbf"), lookup("hbm4")
    assert rows["S2-12"]["llmhw_value"] == pytest.approx(hbf.capacity_bytes / hbm4.capacity_bytes, rel=1e-3)
    assert rows["S2-13"]["llmhw_value"] == pytest.approx(hbf.bandwidth_bytes_per_s / 1e9, rel=1e-3)
    assert rows["T1-hbm4"]["llmhw_value"] == pytest.approx(hbm4.bandwidth_bytes_per_s / 1e9, rel=1e-3)
    # power = static W + pJ/bit x bytes/s x 8 bits; HBM4-6400 = 2048 pins x 6.4 Gb/s / 8 = 1638.4 GB/s
    p_hbf = hbf.static_power_w + hbf.energy_j_per_bit * hbf.bandwidth_bytes_per_s * 8
    assert rows["S2-14"]["llmhw_value"] == pytest.approx(p_hbf, rel=1e-3)
    p_hbm4 = hbm4.static_power_w + hbm4.energy_j_per_bit * 1638.4e9 * 8
    assert rows["T3-hbm4"]["llmhw_value"] == pytest.approx(1638.4 / p_hbm4, rel=1e-3)


def test_memory_wall(rows: dict[str, dict]) -> None:
    chips = catalog_chips()
    if "k20x" not in chips or "fp64" not in chips["k20x"].peak_flops:
        assert rows["S2-4"]["verdict"] == "not computable"
        return
    k, h = chips["k20x"], chips["h100-sxm"]
    assert rows["S2-4a"]["llmhw_value"] == pytest.approx(h.peak_flops["fp64"] / k.peak_flops["fp64"], rel=1e-3)
    bw = h.memory[0].bandwidth_bytes_per_s / k.memory[0].bandwidth_bytes_per_s
    assert rows["S2-4b"]["llmhw_value"] == pytest.approx(bw, rel=1e-3)
    assert rows["S2-4c"]["llmhw_value"] == pytest.approx(rows["S2-4a"]["llmhw_value"] / bw, rel=1e-3)


def test_pim_pnm(rows: dict[str, dict]) -> None:
    pim, pnm = lookup("pim-hbm"), lookup("pnm-hbm")
    assert rows["S2-18"]["llmhw_value"] == pytest.approx(pnm.shard_bytes / pim.shard_bytes, rel=1e-3)
    per_bit = lookup("hbm4").energy_j_per_bit / pnm.energy_j_per_bit
    assert rows["S2-19b"]["llmhw_value"] == pytest.approx(per_bit, rel=1e-3)
    assert rows["S2-20a"]["llmhw_value"] == pytest.approx(per_bit, rel=1e-3)
    # PIM: host pJ/bit over PIM pJ/bit on HBM2E, GDDR and LPDDR5: the median of the three
    gddr = lookup("gddr7").energy_j_per_bit or EconomicsParams.default().memory_energy_j_per_bit_fallback["gddr"]
    r = [lookup("hbm2e").energy_j_per_bit / pim.energy_j_per_bit,
         gddr / lookup("pim-gddr6-aim").energy_j_per_bit,
         lookup("lpddr5").energy_j_per_bit / lookup("pim-lpddr5").energy_j_per_bit]
    assert rows["S2-19a"]["llmhw_value"] == pytest.approx(sorted(r)[1], rel=1e-3)


def test_table3_modules(rows: dict[str, dict]) -> None:
    # GB/s per W = bandwidth / (static W + pJ/bit x bandwidth x 8), in GB/s
    for cid, tech in (("T3-lpddr5", "lpddr5"), ("T3-ddr5", "ddr5")):
        t = lookup(tech)
        w = t.static_power_w + t.energy_j_per_bit * t.bandwidth_bytes_per_s * 8
        assert rows[cid]["llmhw_value"] == pytest.approx(t.bandwidth_bytes_per_s / 1e9 / w, rel=1e-3)


def test_sram_and_stacks(rows: dict[str, dict]) -> None:
    w = llmhw.load_model("llama-3.1-70b").weight_bytes("fp8")
    assert rows["S2-10"]["llmhw_value"] == math.ceil(w / lookup("groq-lpu").memory[0].capacity_bytes)
    # A100 and H100 80 GB / 16 GB stacks = 5; B200 180 GB / 24 GB = 7.5 -> 8
    assert rows["T1-stacks"]["verdict"] == "agree"
    assert math.ceil(lookup("b200").memory[0].capacity_bytes / lookup("hbm3e").capacity_bytes) == 8


def test_decode_is_memory_bound_at_batch_one(rows: dict[str, dict]) -> None:
    # batch-1 decode of an FP8 model: 2 FLOP per weight byte, against a ridge of 1979 / 3.35 = 591
    assert rows["Q1"]["llmhw_value"] == pytest.approx(2.0, rel=0.05)
    assert "decode memory-bound" in rows["Q1"]["llmhw_figure"] and "591" in rows["Q1"]["llmhw_figure"]
    assert rows["Q1"]["partial_holds"] is True
