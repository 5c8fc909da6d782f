"""Search: the best configuration under SLOs equals brute force over the same space; mappings,
parsing, inverse design and the command line."""

import json

import numpy as np
import pytest

import llmhw
from llmhw.api import search
from llmhw.core.errors import LlmhwError
from llmhw.explore.search import batch_grid, mappings, parse_objective, parse_slo
from llmhw.explore.vary import parse_vary

SMALL = {"model": "llama-3.1-8b", "hardware": "h100-sxm", "n_chips": 2, "engine": "vllm",
         "precision": {"weights": "bf16", "kv_cache": "bf16"},
         "workload": {"input_tokens": 512, "output_tokens": 256, "batch": 1}}


def test_parse_slo_and_objective():
    c = parse_slo("tpot_s<=0.05")
    assert (c.key, c.op, c.value) == ("tpot_s", "<=", 0.05)
    assert bool(c.holds(np.array(0.05))) and not bool(c.holds(np.array(0.051)))
    with pytest.raises(LlmhwError, match="--slo"):
        parse_slo("tpot_s = fast")
    # Direction by meaning: latencies, costs and energy smaller; throughput larger.
    assert not parse_objective("tpot_s").maximise and not parse_objective("cost_usd_per_mtok").maximise
    assert not parse_objective("energy_j_per_token").maximise
    assert parse_objective("output_tok_s_per_chip").maximise and parse_objective("tokens_per_mw").maximise
    assert parse_objective("output_tok_s").maximise and parse_objective("prefill_tok_s").maximise
    assert parse_objective("max:ttft_s").maximise and not parse_objective("min:output_tok_s").maximise
    # A varied path is an inverse-design objective, smallest by default.
    o = parse_objective("chip.memory[0].bandwidth_bytes_per_s", ["chip.memory[0].bandwidth_bytes_per_s"])
    assert o.path and not o.maximise


def test_parse_vary_lists_and_ranges():
    assert parse_vary("engine=vllm,trtllm") == ("engine", ["vllm", "trtllm"])
    path, vals = parse_vary("chip.memory[0].bandwidth_bytes_per_s=1e12..1e13:log:3")
    assert path == "chip.memory[0].bandwidth_bytes_per_s"
    assert vals == pytest.approx([1e12, 10 ** 12.5, 1e13])
    assert parse_vary("n_chips=1..4:lin:4")[1] == pytest.approx([1, 2, 3, 4])
    with pytest.raises(LlmhwError, match="--vary"):
        parse_vary("x=5..1:lin:3")


def test_mappings_of_a_dense_model_on_four_chips():
    # tp x pp x dp = 4, tp dividing 32 heads and 8 KV heads: six ways, ep always 1.
    s = llmhw.Scenario.from_dict({**SMALL, "n_chips": 4, "parallelism": {"dp": 4}})
    got = {(m["tp"], m["pp"], m["ep"], m["dp"]) for m in mappings(s)}
    assert got == {(1, 1, 1, 4), (1, 2, 1, 2), (1, 4, 1, 1), (2, 1, 1, 2), (2, 2, 1, 1), (4, 1, 1, 1)}


def test_mappings_of_a_moe_model_include_expert_and_attention_data_parallelism():
    s = llmhw.Scenario.from_dict({"model": "mixtral-8x7b", "hardware": "h100-sxm", "n_chips": 2,
                                  "parallelism": {"dp": 2}, "workload": {"input_tokens": 128, "output_tokens": 128}})
    got = {(m["tp"], m["pp"], m["ep"], m["dp"]) for m in mappings(s)}
    assert {(2, 1, 2, 1), (2, 1, 1, 1), (1, 1, 2, 2), (1, 1, 1, 2), (1, 2, 1, 1)} == got


def test_batch_grid_is_dense_then_geometric_and_ends_at_the_limit():
    g = batch_grid(1000)
    assert list(g[:64]) == list(range(1, 65)) and g[-1] == 1000
    assert np.all(np.diff(g) > 0) and np.all(g[64:] / g[63:-1] <= 1.13)
    assert list(batch_grid(5)) == [1, 2, 3, 4, 5]


def test_exhaustive_search_equals_brute_force():
    res = search(SMALL, ["tpot_s<=0.012"], "output_tok_s_per_chip", top=3)
    # Brute force over the same space: every mapping, every batch of the grid, one predict each.
    best, count = None, 0
    s0 = llmhw.Scenario.from_dict({**SMALL, "parallelism": {"dp": 2}})
    for par in mappings(s0):
        s = s0.replace(parallelism=par)
        top = llmhw.predict(s.replace(workload={"batch": "max"})).to_dict()["max_batch"]
        for b in batch_grid(top):
            d = llmhw.predict(s.replace(workload={"batch": int(b)})).to_dict()
            count += 1
            if d["fits"] and d["tpot_s"] <= 0.012 and (best is None or d["output_tok_s_per_chip"] > best[0]):
                best = (d["output_tok_s_per_chip"], par, int(b))
    assert res.evaluated == count
    assert res.best["output_tok_s_per_chip"] == pytest.approx(best[0], rel=1e-9)
    assert (res.best["parallelism"], res.best["batch"]) == (best[1], best[2])
    assert res.best["tpot_s"] <= 0.012
    # The rejections add up: every priced point is feasible or rejected by one count at least.
    assert res.rejected["tpot_s"] > 0 and res.rejected["fits"] == 0


def test_pareto_front_is_not_dominated():
    res = search(SMALL, [], "output_tok_s_per_chip")
    f = res.pareto
    speeds = [p["tok_s_per_user"] for p in f]
    objs = [p["objective"] for p in f]
    assert speeds == sorted(speeds, reverse=True) and objs == sorted(objs)
    # The best objective is the last point of the front (the slowest per user).
    assert objs[-1] == pytest.approx(res.best["objective"])


def test_no_feasible_configuration_reports_the_closest():
    res = search(SMALL, ["tpot_s<=0.0001"], "output_tok_s_per_chip")
    assert res.best is None and res.closest is not None
    # The closest violates least: the fastest TPOT of the whole space.
    assert res.closest["tpot_s"] == pytest.approx(min(p["tpot_s"] for p in search(SMALL, [], "min:tpot_s").top),
                                                  rel=1e-6)


def test_unknown_objective_names_the_option():
    with pytest.raises(LlmhwError, match="--objective"):
        search(SMALL, [], "speed")


def test_inverse_design_finds_the_least_bandwidth_that_meets_the_slo():
    path = "chip.memory[0].bandwidth_bytes_per_s"
    values = [1e12, 2e12, 3.35e12, 6e12]
    res = search({**SMALL, "n_chips": 1}, ["tpot_s<=0.012"], f"min:{path}", {path: values})
    bw = res.best["varied"][path]
    # Every smaller bandwidth fails the SLO at every mapping and batch; this one meets it.
    for v in values:
        r = search({**SMALL, "n_chips": 1}, ["tpot_s<=0.012"], "output_tok_s_per_chip", {path: [v]})
        assert (r.best is not None) == (v >= bw)


def test_cli_search_json_and_bad_slo(run_cli, write_yaml):
    p = write_yaml({**SMALL, "parallelism": {"tp": 2}})
    r = run_cli("search", str(p), "--slo", "tpot_s<=0.012", "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert {"best", "pareto", "evaluated", "rejected"} <= set(d)
    assert d["best"]["tpot_s"] <= 0.012 and d["evaluated"] > 100
    bad = run_cli("search", str(p), "--slo", "tpot_s is small")
    assert bad.returncode == 2 and "--slo" in bad.stderr and "Traceback" not in bad.stderr


def test_varying_the_chip_count_remaps_and_prices_economics():
    res = search({**SMALL, "n_chips": 1}, ["tpot_s<=0.02"], "cost_usd_per_mtok", {"n_chips": [1, 2]})
    b = res.best
    par = b["parallelism"]
    assert par["tp"] * par["pp"] * par["dp"] == b["varied"]["n_chips"] == b["n_chips"]
    # Minimised: no feasible point of the space is cheaper.
    assert all(p["objective"] >= b["cost_usd_per_mtok"] * (1 - 1e-9) for p in res.top)
    assert "invalid" not in res.rejected


def test_disaggregated_search_equals_brute_force_over_splits():
    from llmhw.explore.search import batch_grid as grid_of
    from llmhw.scenario.disaggregated import Disaggregated
    from llmhw.serving.disaggregated import evaluate

    sc = {**SMALL, "n_chips": 3, "workload": {"input_tokens": 2048, "output_tokens": 128, "batch": 1}}
    res = search(sc, ["tpot_s<=0.02"], "output_tok_s_per_chip", disaggregate=True)
    s0 = llmhw.Scenario.from_dict({**sc, "parallelism": {"dp": 3}})
    best, count = None, 0
    for n_p in (1, 2):
        for mp in mappings(s0.replace(n_chips=n_p, parallelism={"tp": 1, "pp": 1, "ep": 1, "dp": n_p})):
            for md in mappings(s0.replace(n_chips=3 - n_p, parallelism={"tp": 1, "pp": 1, "ep": 1, "dp": 3 - n_p})):
                dis = Disaggregated(s0.replace(n_chips=n_p, parallelism=mp), s0.replace(n_chips=3 - n_p, parallelism=md))
                g = grid_of(float(evaluate(dis, -1.0, 2048, 128).batch))
                m = evaluate(dis, g, 2048, 128)
                count += g.size
                ok = m.fits & (m.tpot_s <= 0.02)
                if ok.any():
                    j = int(np.argmax(np.where(ok, m.output_tok_s_per_chip, -1)))
                    if best is None or m.output_tok_s_per_chip[j] > best[0]:
                        best = (float(m.output_tok_s_per_chip[j]), n_p)
    assert res.evaluated == count
    assert res.best["output_tok_s_per_chip"] == pytest.approx(best[0], rel=1e-9)
    assert res.best["pools"]["prefill"]["n_chips"] == best[1]
    assert res.best["limiting_pool"] in ("prefill", "decode")       # a full disaggregated prediction
