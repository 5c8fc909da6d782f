"""Static batches (engines.yaml ``batching``): prompts prefilled together or one after another."""

import pytest

import llmhw
from llmhw.api import step_cost
from llmhw.cost.params import engine_profile


def scenario(engine, batch):
    return llmhw.Scenario.from_dict({
        "model": "llama-3.1-8b", "hardware": "h100-sxm", "n_chips": 1, "engine": engine,
        "workload": {"input_tokens": 2048, "output_tokens": 256, "batch": batch, "harness": "offline"}})


def test_static_sequential_first_token_waits_for_every_prompt_of_the_batch():
    """transformers-neuronx encodes a batch's prompts one by one: batch 8's first tokens come after
    8 prefills of one prompt, then the batch decodes with no prefill in between."""
    req = engine_profile("transformers-neuronx").request_overhead_s
    t_pf = float(step_cost(scenario("transformers-neuronx", 8), "prefill", 1, 2048).total_s)
    p8 = llmhw.predict(scenario("transformers-neuronx", 8))
    p1 = llmhw.predict(scenario("transformers-neuronx", 1))
    assert float(p8.metrics.ttft_s) == pytest.approx(8 * t_pf + req)
    assert float(p1.metrics.ttft_s) == pytest.approx(t_pf + req)
    # TPOT is the bare decode step of the batch (here at the mean context, 2048 + 128).
    t_dec = float(step_cost(scenario("transformers-neuronx", 8), "decode", 8, 2048 + 128).total_s)
    assert float(p8.metrics.tpot_s) == pytest.approx(t_dec)


def test_continuous_batching_queues_fewer_prompts():
    # The same chip and batch under vLLM-style continuous batching waits for fewer prefills.
    seq = llmhw.predict(scenario("transformers-neuronx", 8)).metrics.ttft_s
    cont = llmhw.predict(scenario("vllm-neuron", 8)).metrics.ttft_s
    assert float(cont) < float(seq)
