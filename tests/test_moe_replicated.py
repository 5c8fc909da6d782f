"""MoE data parallelism as independent replicas (parallelism.moe_dp: replicated): every replica
holds all routed experts on its own tp chips, sees only its own tokens and talks only inside its
tp group. Checked against hand arithmetic on the model's own parameter counts and against a
single-chip scenario (a replica of tp 1 is exactly one such chip)."""

import pytest

from llmhw import Scenario
from llmhw.accounting.fit import fit
from llmhw.core.errors import LlmhwError
from llmhw.explore.search import mappings
from llmhw.serving.closed_loop import Engine

MIXTRAL = {"model": "mixtral-8x7b", "hardware": "h200", "n_chips": 8,
           "precision": {"weights": "fp8", "kv_cache": "fp8"},
           "workload": {"input_tokens": 1024, "output_tokens": 1024, "batch": 64}}
REPLICATED = {"tp": 1, "dp": 8, "ep": 1, "moe_dp": "replicated"}


def _s(par: dict, **kw) -> Scenario:
    return Scenario.from_dict({**MIXTRAL, "parallelism": par, **kw})


def test_weights_per_chip_by_hand():
    s = _s(REPLICATED)
    m = s.model
    # fp8: one byte per parameter, the embedding and head too (they follow the weights).
    assert fit(s).weights_bytes == pytest.approx(m.total_params * 1.0, rel=1e-9)
    assert 46e9 < m.total_params < 47.5e9          # Mixtral 8x7B: 46.7 B parameters
    experts = m.n_layers * m.moe.n_routed_experts * m.expert_params
    shared = _s({"tp": 1, "dp": 8, "ep": 8})
    assert fit(shared).weights_bytes == pytest.approx(m.total_params - experts + experts / 8, rel=1e-9)
    # tp 2 replicas: every tensor of the replica halves except the replicated norms, router and
    # KV heads (Mixtral has 8 KV heads, so tp 2 still splits them): experts exactly halve.
    tp2 = _s({"tp": 2, "dp": 4, "ep": 1, "moe_dp": "replicated"})
    tp2_shared = _s({"tp": 2, "dp": 4, "ep": 1})
    d = fit(tp2).weights_bytes - fit(tp2_shared).weights_bytes
    assert d == pytest.approx(experts / 2 - experts / 8, rel=1e-9)


def test_decode_step_has_no_collective_and_sees_only_its_tokens():
    e = Engine(_s(REPLICATED))
    ops = e.ops.ops(e.decode_step(8.0, 2048.0))
    assert not [o.name for o in ops if o.kind == "comm"]
    shared = Engine(_s({"tp": 1, "dp": 8, "ep": 8}))
    assert {"moe_dispatch", "moe_combine"} <= {o.name for o in shared.ops.ops(shared.decode_step(8.0, 2048.0))}
    # tp 2 replicas with two expert groups: collectives stay in the pair of chips.
    e2 = Engine(_s({"tp": 2, "dp": 4, "ep": 2, "moe_dp": "replicated"}))
    comm = [o for o in e2.ops.ops(e2.decode_step(8.0, 2048.0)) if o.kind == "comm"]
    assert comm and all(o.group == 2 for o in comm)


@pytest.mark.parametrize("per_replica", [8, 96])
def test_eight_replicas_serve_eight_times_one_chip(per_replica):
    """A tp 1 replica is one chip serving its share: the deployment's throughput is 8 x that of
    a one-chip scenario at the replica's batch (replicas are independent: no coupled queue)."""
    m8 = Engine(_s(REPLICATED)).evaluate(8.0 * per_replica, 1024, 1024).point()
    m1 = Engine(_s({"tp": 1}, n_chips=1)).evaluate(float(per_replica), 1024, 1024).point()
    assert float(m8.output_tok_s) == pytest.approx(8 * float(m1.output_tok_s), rel=0.01)
    assert float(m8.ttft_s) == pytest.approx(float(m1.ttft_s), rel=0.01)


def test_dp1_replicated_is_the_shared_mapping():
    """With one replica there is nothing to share: both readings are the same deployment."""
    a = Engine(_s({"tp": 8, "ep": 8, "moe_dp": "replicated"})).evaluate(64.0, 1024, 1024).point()
    b = Engine(_s({"tp": 8, "ep": 8})).evaluate(64.0, 1024, 1024).point()
    assert float(a.output_tok_s) == pytest.approx(float(b.output_tok_s), rel=1e-12)


def test_checks():
    with pytest.raises(LlmhwError, match="parallelism.ep"):
        _s({"tp": 2, "dp": 4, "ep": 4, "moe_dp": "replicated"})      # ep must divide tp
    _s({"tp": 2, "dp": 4, "ep": 4})                                    # shared: ep | tp x dp is enough
    with pytest.raises(LlmhwError, match="parallelism.moe_dp") as exc:
        _s({"tp": 1, "dp": 8, "moe_dp": "copies"})
    assert "shared" in str(exc.value) and "replicated" in str(exc.value)
    # A dense model accepts the field and ignores it.
    dense = {**MIXTRAL, "model": "llama-3.1-8b"}
    a = Scenario.from_dict({**dense, "parallelism": {"tp": 2, "dp": 4, "moe_dp": "replicated"}})
    b = Scenario.from_dict({**dense, "parallelism": {"tp": 2, "dp": 4}})
    assert float(Engine(a).evaluate(64.0, 1024, 1024).point().output_tok_s) == \
        float(Engine(b).evaluate(64.0, 1024, 1024).point().output_tok_s)


def test_search_offers_replicated_mappings():
    maps = mappings(_s(REPLICATED))
    assert REPLICATED | {"pp": 1} in maps
    assert {"tp": 1, "pp": 1, "ep": 8, "dp": 8, "moe_dp": "shared"} in maps
    assert all(m["ep"] <= m["tp"] for m in maps if m.get("moe_dp") == "replicated")
    assert not any(m.get("moe_dp") == "replicated" and m["dp"] == 1 for m in maps)
    dense = Scenario.from_dict({**MIXTRAL, "model": "llama-3.1-8b", "parallelism": {"tp": 8}})
    assert all("moe_dp" not in m for m in mappings(dense))


def test_unstated_mlperf_mapping_prefers_full_replicas():
    from llmhw.validation.cases import unstated_mapping

    sc = {k: v for k, v in MIXTRAL.items() if k != "n_chips"}
    # 46.7 GB of fp8 weights fill a third of a 141 GB H200: one chip per replica.
    assert unstated_mapping({**sc, "n_chips": 8}, 8) == {"tp": 1, "pp": 1, "ep": 1, "dp": 8, "moe_dp": "replicated"}
    # bf16 (93 GB) is over half of an H200: pairs of chips, the 8 experts spread 4 to a chip.
    bf16 = {**sc, "n_chips": 8, "precision": {"weights": "bf16", "kv_cache": "bf16"}}
    assert unstated_mapping(bf16, 8) == {"tp": 2, "pp": 1, "ep": 2, "dp": 4, "moe_dp": "replicated"}
