"""The economics study: Pareto fronts are non-dominated, and its per-token numbers follow the
hand arithmetic of docs/economics.md."""

from __future__ import annotations

import pytest

import llmhw
from llmhw.hardware.catalog import lookup
from llmhw.studies import economics as ec
from llmhw.studies import style
from llmhw.studies._claims_questions import q13_metrics
from llmhw.studies.base import Study


@pytest.fixture(scope="module")
def study(study_of) -> Study:
    return study_of("economics")


def _table(study: Study, name: str) -> list[dict]:
    return next(t for t in study.tables if t.name == name).rows


def test_figures_say_their_setup_and_the_study_its_answer(study: Study) -> None:
    """Every figure names its model or systems in a setup line that fits above it, no text under
    8 pt; the summary is short and quotes numbers."""
    assert not style.study_problems(study, {llmhw.load_model(ec.MODEL).name, *ec.SYSTEMS})


def test_the_two_cost_rankings_are_explained(study: Study) -> None:
    """The fixed-point ranking the finding quotes (TP 8, batch 64) is the claims study's Q13 ranking
    of the same systems (Llama 3.1 70B there, 3.3 here: one architecture), and the finding and the
    targets table's note both explain why the per-user floor ranks them otherwise."""
    why = next(f for f in study.findings if f.startswith("Two cost rankings"))
    assert why in next(t for t in study.tables if t.name == "economics_targets").note
    fixed = why.split("USD/Mtok ranks ")[1].split(" (")[0].split(" < ")
    q13 = q13_metrics()[0]["llmhw_figure"].split("by USD/Mtok ")[1].split(" (")[0].split(" < ")
    assert [n for n in fixed if n in q13] == q13
    floor = why.split("cheapest mapping and batch, ")[1].split(" (")[0].split(" < ")
    assert sorted(floor) == sorted(fixed) and (floor == fixed or "per GPU" in why)


def test_structure(study: Study) -> None:
    assert study.name == "economics"
    assert [f.name for f in study.figures] == ["economics_pareto_systems", "economics_pareto_directions",
                                               "economics_cost_power_carbon"]
    assert all(f.caption for f in study.figures)
    assert not any("not available" in f for f in study.findings)


def test_pareto_by_hand() -> None:
    pts = [{"tok_s_per_user": x, "tok_s_per_gpu": y} for x, y in
           [(10, 100), (20, 80), (15, 90), (20, 70), (5, 100), (30, 10), (12, 85)]]
    front = ec.pareto(pts, "tok_s_per_gpu")
    # (5, 100) is beaten by (10, 100); (20, 70) by (20, 80); (12, 85) by (15, 90)
    assert [(r["tok_s_per_user"], r["tok_s_per_gpu"]) for r in front] == [(10, 100), (15, 90), (20, 80), (30, 10)]
    low = ec.pareto([{"tok_s_per_user": x, "usd": y} for x, y in [(1, 5), (2, 3), (3, 4), (4, 1)]], "usd",
                    maximize=False)
    assert [(r["tok_s_per_user"], r["usd"]) for r in low] == [(4, 1)]


def test_fronts_are_non_dominated(study: Study) -> None:
    fronts: dict[str, list[dict]] = {}
    for r in _table(study, "economics_pareto"):
        fronts.setdefault(r["system"], []).append(r)
    assert len(fronts) == len(ec.SYSTEMS) + len(ec.directions())
    for fr in fronts.values():
        for a in fr:
            for b in fr:
                if a is not b:
                    assert not (b["tok_s_per_user"] >= a["tok_s_per_user"] and b["tok_s_per_gpu"] >= a["tok_s_per_gpu"])
    # the H100 front in the table is the front of every H100 point, and no point beats a front point
    pts = ec.points("H100", "hgx-h100-8", [ec.Config()], econ=False)
    h100 = fronts[ec.system_label("H100")]
    assert len(h100) == len(ec.pareto(pts, "tok_s_per_gpu"))
    for f in h100:
        assert not any(p["tok_s_per_user"] > f["tok_s_per_user"] + 0.01 and p["tok_s_per_gpu"] > f["tok_s_per_gpu"] + 0.01
                       for p in pts)


def test_interactivity_below_bandwidth_bound(study: Study) -> None:
    # One user at TP 8 cannot decode faster than 8 x HBM bandwidth / weight bytes
    w = llmhw.load_model(ec.MODEL).weight_bytes("fp8")            # 70.55 GB
    for r in _table(study, "economics_pareto"):
        name = r["system"].split(":")[0].split(" +")[0]
        chip = lookup(ec.SYSTEMS[name]).chip
        assert r["tok_s_per_user"] <= r["tp"] * chip.memory[0].bandwidth_bytes_per_s / w
    # H100 at TP 8, by hand: 8 x 3.35e12 B/s / 70.55e9 B = 380 tok/s per user at most
    h100_tp8 = [r for r in _table(study, "economics_pareto") if r["system"].startswith("H100:") and r["tp"] == 8]
    assert h100_tp8 and max(r["tok_s_per_user"] for r in h100_tp8) < 8 * 3.35e12 / 70.55e9


def test_tokens_per_mw_and_cost_by_hand() -> None:
    # InferenceMAX's provisioned power: (TDP + host max 0.8 x TDP) x PUE 1.2 per H100 = 1,512 W
    a = ec._arrays("hgx-h100-8", 8, ec.Config(), econ=True)
    per_gpu = a["output_tok_s_per_chip"]
    assert a["tokens_per_mw"] == pytest.approx(per_gpu * 1e6 / ((700 + 0.8 * 700) * 1.2), rel=1e-9)
    # Capital per H100: 30,000 + host 12.5% + network 12% of both = 37,800 USD over 4 years at 8%, plus
    # the facility (10 USD/W x 1,260 W over 12 years): 1.4937 USD/h, spread over tokens at 60% utilization
    crf = lambda r, n: r * (1 + r) ** n / ((1 + r) ** n - 1)  # noqa: E731
    capex_h = 37800 * crf(0.08, 4) / 8760 + 10 * 1260 * crf(0.08, 12) / 8760
    assert capex_h == pytest.approx(1.4937, abs=1e-4)
    assert a["cost_usd_per_mtok_capex"] == pytest.approx(capex_h / (per_gpu * 3600 * 0.6) * 1e6, rel=1e-6)


def test_targets_table(study: Study) -> None:
    rows = _table(study, "economics_targets")
    for r in rows:
        if r["tok_s_per_gpu"] is not None:
            assert r["tok_s_per_user"] >= r["min_tok_s_per_user"]
    # throughput at a higher interactivity floor is never higher
    by_sys: dict[str, list[dict]] = {}
    for r in rows:
        by_sys.setdefault(r["system"], []).append(r)
    for rs in by_sys.values():
        vals = [r["tok_s_per_gpu"] or 0 for r in sorted(rs, key=lambda r: r["min_tok_s_per_user"])]
        assert vals == sorted(vals, reverse=True)


def test_targets_are_the_search_best_under_the_slo(study: Study) -> None:
    t = next(t for t in study.tables if t.name == "economics_targets")
    assert "at its own best mapping and batch under the same SLO" in t.note
    for r in t.rows:
        if r["tok_s_per_gpu"] is None:
            continue
        # the SLO holds (TPOT is the inverse of tok/s per user) and the mapping uses the row's GPUs
        assert r["tpot_ms"] == pytest.approx(1e3 / r["tok_s_per_user"], rel=3e-3)   # tok/s per user to 0.1
        assert r["tp"] * r["pp"] * r["dp"] == r["gpus"] and r["gpus"] in ec.TPS
        assert r["batch"] >= r["dp"]
    # The H200 row at 50 tok/s per user is llmhw.api.search's best, rebuilt here by hand.
    s = {"model": "llama-3.3-70b", "hardware": "hgx-h200-8", "n_chips": 8,
         "precision": {"weights": "fp8", "kv_cache": "fp8"}, "engine": "default",
         "workload": {"input_tokens": 1024, "output_tokens": 1024, "batch": 1}}
    h200 = next(r for r in t.rows if r["system"] == ec.system_label("H200") and r["min_tok_s_per_user"] == 50)
    best = llmhw.api.search(s, slo=["tok_s_per_user>=50"], vary={"n_chips": [1, 2, 4, 8]}).best
    assert h200["tok_s_per_gpu"] == round(best["output_tok_s_per_chip"])
    assert h200["batch"] == best["batch"] and h200["tp"] == best["parallelism"]["tp"]
    cheap = llmhw.api.search(s, slo=["tok_s_per_user>=50"], objective="cost_usd_per_mtok",
                             vary={"n_chips": [1, 2, 4, 8]}).best
    assert h200["usd_per_mtok"] == pytest.approx(cheap["cost_usd_per_mtok"], rel=2e-3)
    assert cheap["tok_s_per_user"] >= 50
    # The search covers the fronts' TP 1-8 mappings, so no drawn point under the floor beats the row by
    # more than the search's batch spacing (every batch to 64, then 12% apart).
    pts = ec.points("H200", "hgx-h200-8", [ec.Config()], econ=False)
    assert h200["tok_s_per_gpu"] >= 0.98 * ec.best_at(pts, 50, "tok_s_per_gpu")["tok_s_per_gpu"]


def test_direction_findings_follow_the_table(study: Study) -> None:
    import re
    rows = {(r["system"], r["min_tok_s_per_user"]): r for r in _table(study, "economics_targets")}
    base = ec.system_label(ec.BASE)
    for n in ec.directions():
        f = next(x for x in study.findings if x.startswith(f"{ec.BASE} + {n} vs {ec.BASE}, each at its best"))
        lab = next(s for s, _ in rows if s.startswith(f"{ec.BASE} + ") and
                   s == f"{ec.BASE} + {ec._direction_label(n)}")
        for t in ec.TARGETS_TOK_S_PER_USER:
            r0, r1 = rows[(base, t)], rows[(lab, t)]
            if r0["tok_s_per_gpu"] is None or r1["tok_s_per_gpu"] is None:
                continue
            m = re.search(rf"([+-]\d+)% at {t:g}\b", f)
            assert m and abs(int(m.group(1)) - (r1["tok_s_per_gpu"] / r0["tok_s_per_gpu"] - 1) * 100) <= 1


def test_directions_move_the_fronts_as_expected() -> None:
    dirs = ec.directions()
    base = ec.points(ec.BASE, ec.SYSTEMS[ec.BASE], [ec.Config()], econ=False)
    # HBF: weights in the 512 GB stack leave the 141 GB of HBM to the KV cache: a larger batch fits at TP 1
    hbf = ec.points("HBF", ec.SYSTEMS[ec.BASE], dirs["HBF"][1], econ=False)
    assert max(r["concurrency"] for r in hbf if r["tp"] == 1) > 2 * max(r["concurrency"] for r in base if r["tp"] == 1)
    # low-latency interconnect: the batch-1 TP-8 step loses all-reduce latency
    ll = ec.points("LL", ec.SYSTEMS[ec.BASE], dirs["Low-latency interconnect"][1], econ=False)
    # (how much depends on the fitted base latency per collective, 2.5 us on NVIDIA after the refit)
    assert max(r["tok_s_per_user"] for r in ll) > 1.02 * max(r["tok_s_per_user"] for r in base)
    # PNM leaves every step time unchanged (pnm-hbm's internal bandwidth is the HBM's own)
    pnm = ec.points("PNM", ec.SYSTEMS[ec.BASE], dirs["PNM"][1], econ=False)
    assert max(r["tok_s_per_gpu"] for r in pnm) == pytest.approx(max(r["tok_s_per_gpu"] for r in base), rel=0.01)


def test_degrades_without_economics(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ec, "economics_available", lambda: False)
    s = ec.run()
    assert any("Economics not available" in f for f in s.findings)
    assert len(s.figures) == 2
    assert "usd_per_mtok" not in _table(s, "economics_targets")[0]
