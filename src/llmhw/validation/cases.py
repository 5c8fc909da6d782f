"""Turn each published measurement (``measurements.csv``) into a checkable case or a skip.

A :class:`Case` is an llmhw scenario mapping (what :meth:`llmhw.Scenario.from_dict` accepts),
the llmhw output it measures and the measured value in SI units. A row that cannot be mapped
to a closed-loop scenario becomes a :class:`Skip` with the reason. The mapping follows the
rules of the data's README (shared/validation/README.md, summarised in this package's
README.md) so that error figures computed from these cases mean what the data's authors mean:

- hardware and model names map to the catalog entry of the same chip / architecture;
- precision: FP4 / NVFP4 / MXFP4 -> fp4, FP8 -> fp8, w4a16 / Q4_0 / Q4_K_M / INT4 groupwise ->
  int4, Q8_0 -> int8, F16 / FP16 / BF16 -> bf16; the KV cache is ``precision_kv`` when given,
  else fp8 where the weights are fp8 or fp4 on a datacenter accelerator, else 16-bit;
- parallelism: tp, pp, ep as given; a blank tp on a multi-chip row is tp = n_chips; TensorRT-LLM
  ``DEPn`` is attention data parallel over n chips with ep = n (tp = 1, dp = n);
- workload: isl / osl as given (a single-stream decode speed without lengths is taken at 128 in,
  128 out); ``concurrency N`` or a number is batch N; offline and max-throughput rows are
  ``batch: max``; Poisson arrivals and rows without lengths are skipped;
- engine from the framework column; ``compute_unit`` from the hardware / framework text.

Choices beyond those rules are spelled out in each case's ``note``.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from llmhw.core.errors import LlmhwError
from llmhw.core.io import read_yaml
from llmhw.hardware.catalog import chips
from llmhw.scenario import Scenario
from llmhw.workload.catalog import load_model, model_ids

CSV_NAME = "measurements.csv"
# Measurements of chips the collection above did not cover (Inferentia2, Trainium1), kept apart
# from its unchanged copy: they fit only their own stacks' engine profiles (new_chips.py).
NEW_CHIPS_CSV = "measurements_new_chips.csv"

# llmhw output names a case can measure, keyed by the CSV's metric column.
METRICS: dict[str, str] = {
    "tpot_ms": "tpot_s",
    "ttft_ms": "ttft_s",
    "decode_tok_s_per_user": "tok_s_per_user",
    "output_tok_s_total": "output_tok_s",
    "output_tok_s_per_chip": "output_tok_s_per_chip",
    "prefill_tok_s": "prefill_tok_s",
    "e2e_latency_s": "e2e_s",
}
_UNIT_TO_SI: dict[str, float] = {"ms": 1e-3, "s": 1.0, "tok/s": 1.0, "tok/s/chip": 1.0, "tok/s/user": 1.0}

# Families whose fp8 / fp4 rows default to an fp8 KV cache (the README's "datacenter accelerator").
_DATACENTER_FAMILIES = frozenset({"nvidia-gpu", "amd-gpu", "google-tpu", "intel-gaudi", "aws-trainium",
                                  "sram-dataflow"})
_NOT_DATACENTER = frozenset({"dgx-spark"})  # a desktop GB10 box in the nvidia-gpu family

# Single-stream decode rows quoted without lengths are taken at this many tokens in and out.
_DEFAULT_LENGTH = 128


@dataclass(frozen=True)
class Case:
    """One measurement llmhw can be checked against."""

    row: int                      # 0-based data row of measurements.csv
    scenario: dict[str, Any] = field(hash=False)   # accepted by llmhw.Scenario.from_dict
    metric: str                   # llmhw output name: tpot_s, ttft_s, tok_s_per_user, ...
    measured: float               # SI: seconds or tokens/s
    family: str                   # the chip's catalog family (nvidia-gpu, apple-soc, phone-soc, ...)
    hardware: str                 # the chip's catalog id
    source: str                   # URL of the measurement
    note: str                     # mapping choices and the row's caveats


@dataclass(frozen=True)
class Skip:
    """A row left out, with why (``category: detail``)."""

    row: int
    reason: str

    @property
    def category(self) -> str:
        return self.reason.split(":", 1)[0]


class _SkipRow(Exception):
    def __init__(self, category: str, detail: str):
        super().__init__(f"{category}: {detail}")


# ------------------------------------------------------------------------------- hardware

# (pattern on the lower-cased hardware column, catalog chip id); first match wins.
_HARDWARE_RULES: tuple[tuple[str, str], ...] = (
    (r"^gb300\b", "gb300"),
    (r"^gb200\b", "gb200"),
    (r"^gh200\b", "gh200"),
    (r"^b300\b", "b300"),
    (r"^b200\b", "b200"),
    (r"^h200[- ]nvl\b", "h200-nvl"),
    (r"^h200\b", "h200"),
    (r"^h100 pcie\b", "h100-pcie"),
    (r"^h100\b", "h100-sxm"),
    (r"^a100 pcie\b", "a100-pcie-80gb"),
    (r"^a100\b", "a100-sxm-80gb"),
    (r"^rtx[- ]pro[- ]6000[- ](bse|blackwell server)", "rtx-pro-6000-bse"),
    (r"^(amd )?(instinct )?mi300x\b", "mi300x"),
    (r"^(amd )?(instinct )?mi325x\b", "mi325x"),
    (r"^(amd )?(instinct )?mi355x\b", "mi355x"),
    (r"^tpu v4\b", "tpu-v4"),
    (r"^tpu v5e\b", "tpu-v5e"),
    (r"^tpu v5p\b", "tpu-v5p"),
    (r"^tpu v6e\b", "tpu-v6e"),
    (r"^tpu ?7x\b|ironwood", "tpu-v7"),
    (r"dgx spark|\bgb10\b", "dgx-spark"),
    (r"^cerebras\b", "cerebras-wse3"),
    (r"^groq\b", "groq-lpu"),
    (r"^snapdragon 8 elite gen 5\b", "snapdragon-8-elite-gen5"),
    (r"^snapdragon 8 elite\b", "snapdragon-8-elite"),
    (r"^snapdragon 8 gen 3\b", "snapdragon-8-gen3"),
    (r"^snapdragon x elite\b", "snapdragon-x-elite"),
    (r"^google tensor g4\b", "google-tensor-g4"),
    (r"^apple a15\b", "apple-a15"),
    (r"^apple a17 pro\b", "apple-a17-pro"),
    (r"^apple a18 pro\b", "apple-a18-pro"),
    (r"^apple a18\b", "apple-a18"),
    (r"^apple a19 pro\b", "apple-a19-pro"),
    (r"^(aws )?inferentia ?2\b|^inf2\b", "inferentia2"),
    (r"^(aws )?trainium ?1?\b(?! ?[23])|^trn1\b", "trainium1"),
    (r"^(intel )?(habana )?gaudi ?2\b|^hls-gaudi2\b", "gaudi2"),
)
# Neuron's tensor-parallel degree counts NeuronCores: two NeuronCore-v2 per Inferentia2 or
# Trainium1 chip, each a rank (Scenario parallelism.ranks_per_chip).
_RANKS_PER_CHIP: dict[str, int] = {"inferentia2": 2, "trainium1": 2}
_APPLE_M = re.compile(r"^apple (m\d)( pro| max| ultra)?\b")


def _chip_id(hardware: str) -> str:
    h = hardware.strip().lower()
    if "not stated" in h:
        raise _SkipRow("ambiguous hardware", f"{hardware!r} does not say which SoC")
    for pattern, cid in _HARDWARE_RULES:
        if re.search(pattern, h):
            return cid
    m = _APPLE_M.match(h)
    if m:
        return f"apple-{m.group(1)}{('-' + m.group(2).strip()) if m.group(2) else ''}"
    raise _SkipRow("hardware not in catalog", f"no catalog chip for {hardware!r}")


def _compute_unit(hardware: str, framework: str, chip_units: set[str]) -> str | None:
    text = f"{hardware} {framework}".lower()
    if "arm cpu" in text or "oryon cpu" in text or "cpu backend" in text:
        unit = "cpu"
    elif "qnn" in text or "genie" in text or "hexagon" in text or "neural engine" in text:
        unit = "npu"
    elif "opencl" in text or "vulkan" in text or "adreno" in text:
        unit = "gpu"
    else:
        return None
    return unit if unit in chip_units else None


# ---------------------------------------------------------------------------------- model

_MODELS: dict[str, tuple[str, str]] = {
    # name (lower case, suffix in parentheses dropped) -> (catalog id, note)
    "deepseek-r1": ("deepseek-r1", ""),
    "deepseek-r1-0528": ("deepseek-r1", ""),
    "gpt-oss-120b": ("gpt-oss-120b", ""),
    "gpt-oss-20b": ("gpt-oss-20b", ""),
    "llama-3.1-405b-instruct": ("llama-3.1-405b", ""),
    "llama-3.3-70b-instruct": ("llama-3.3-70b", ""),
    "llama-3.1-70b": ("llama-3.1-70b", ""),
    "llama-3-70b": ("llama-3.1-70b", "Llama 3 70B has Llama 3.1 70B's shapes (context 8192)"),
    "llama-3.1-8b": ("llama-3.1-8b", ""),
    "llama-3.1-8b-instruct": ("llama-3.1-8b", ""),
    "llama-3-8b": ("llama-3.1-8b", "Llama 3 8B has Llama 3.1 8B's shapes (context 8192)"),
    "llama-3-8b-instruct": ("llama-3.1-8b", "Llama 3 8B has Llama 3.1 8B's shapes (context 8192)"),
    "llama-3.2-1b-instruct": ("llama-3.2-1b", ""),
    "llama-3.2-3b-instruct": ("llama-3.2-3b", ""),
    "llama-2-70b": ("llama-2-70b", ""),
    "llama-2-70b-chat": ("llama-2-70b", ""),
    "llama-2-13b": ("llama-2-13b", ""),
    "llama-2-7b": ("llama-2-7b", ""),
    "llama-2-7b-chat": ("llama-2-7b", ""),
    "llama-7b": ("llama-2-7b", "LLaMA-7B has Llama 2 7B's shapes (context 2048)"),
    "vicuna-7b-v1": ("llama-2-7b", "Vicuna-7B v1 is a LLaMA-7B fine-tune: Llama 2 7B's shapes (context 2048)"),
    "mixtral-8x7b": ("mixtral-8x7b", ""),
    "mixtral-8x7b-instruct-v0.1": ("mixtral-8x7b", ""),
    "mistral-7b-instruct-v0.3": ("mistral-7b", ""),
    "mistral-7b-instruct-v0.2": ("mistral-7b", "Mistral 7B v0.2 has v0.3's shapes but a 32,000-token vocabulary"),
    "codellama-13b-hf": ("llama-2-13b", "Code Llama 13B has Llama 2 13B's shapes (vocabulary 32,016, context 16,384)"),
    "mistral-7b-v0.1": ("mistral-7b-v0.1", ""),
    "qwen3-235b-a22b": ("qwen3-235b-a22b", ""),
    "qwen3-30b-a3b": ("qwen3-30b-a3b", ""),
    "qwen3-coder-30b-a3b-instruct": ("qwen3-30b-a3b", "Qwen3-Coder-30B-A3B has Qwen3-30B-A3B's shapes (context 262144)"),
    "qwen2-7b-instruct": ("qwen2-7b", ""),
    "qwen2.5-7b-instruct": ("qwen2.5-7b", "Qwen2.5-7B-Instruct has the base model's shapes"),
    "qwen2.5-1.5b-instruct": ("qwen2.5-1.5b", ""),
    "phi-3.5-mini-instruct": ("phi-3-mini", ""),
    "granite-3.1-8b-instruct": ("granite-3.1-8b", ""),
    "gemma-7b": ("gemma-7b", ""),
}

# (pattern on the lower-cased model name, architecture llmhw has no reader for)
_UNSUPPORTED_MODELS: tuple[tuple[str, str], ...] = (
    (r"^falcon", "Falcon (model_type falcon: parallel attention/MLP blocks, multi-query attention)"),
    (r"^gpt-j", "GPT-J (model_type gptj: parallel attention/MLP, ungated GELU FFN)"),
    (r"^redpajama", "GPT-NeoX (RedPajama-INCITE, model_type gpt_neox)"),
    (r"^llama-4", "Llama 4 (model_type llama4: chunked local attention, MoE with shared expert)"),
    (r"^gemma ?4", "Gemma 4 (per-layer-embedding E-model)"),
    (r"^qwen3\.5", "Qwen3.5 (model_type qwen3_5: hybrid Gated DeltaNet and gated attention)"),
)


def _model_id(name: str) -> tuple[str, str]:
    n = re.sub(r"\s*\(.*\)\s*$", "", name.strip()).lower()
    if n in _MODELS:
        mid, note = _MODELS[n]
        if mid not in model_ids():
            raise _SkipRow("model not in catalog", f"{name!r} would be '{mid}', which the catalog lacks")
        return mid, note
    for pattern, arch in _UNSUPPORTED_MODELS:
        if re.search(pattern, n):
            raise _SkipRow("unsupported architecture", f"{name!r} is {arch}")
    raise _SkipRow("model not in catalog", f"no catalog model for {name!r}")


# ------------------------------------------------------------------------------ precision

def _precision(text: str, *, what: str) -> tuple[str, str]:
    """(llmhw precision, note) for a precision as a source writes it."""
    t = text.strip().lower()
    if not t:
        raise _SkipRow("precision not stated", f"no {what} precision given")
    if "q3f16" in t:
        raise _SkipRow("unsupported precision", f"3-bit weights ({text}) have no llmhw precision")
    if re.match(r"(nv|mx)?fp4\b", t) or "nvfp4" in t or "mxfp4" in t:
        return "fp4", ""
    if t.startswith("fp8"):
        return "fp8", ""
    if re.match(r"w4(a16)?\b", t) or t.startswith(("q4_0", "q4_k_m", "int4")):
        return "int4", ""
    if t.startswith("q4f16"):
        return "int4", f"{text}: MLC 4-bit weights with fp16 activations, mapped to int4"
    if t.startswith("coreml") and "palettized" in t:
        return "int4", f"{text}: ~4 GB for 6.7 B weights is about 4.8 bits per weight, mapped to int4"
    if t.startswith(("q8_0", "int8")):
        return "int8", ""
    if t.startswith(("f16", "fp16", "bf16", "bfloat16", "16-bit")):
        return "bf16", ""
    raise _SkipRow("unsupported precision", f"no llmhw precision for {what} {text!r}")


# -------------------------------------------------------------------------------- workload

def _int_or_none(text: str) -> int | None:
    t = text.strip()
    return int(t) if re.fullmatch(r"\d+", t) else None


def _batch(text: str) -> int | str:
    t = text.strip().lower()
    if "poisson" in t or "server scenario" in t or "interactive scenario" in t:
        raise _SkipRow("Poisson arrivals", f"open-loop run ({text}); no closed-loop batch")
    if t.startswith(("offline", "max throughput")):
        return "max"
    m = re.fullmatch(r"(?:concurrency\s+)?(\d+)", t)
    if m:
        return int(m.group(1))
    if t.startswith("per user"):
        return 1
    raise _SkipRow("unreadable batch", f"batch_or_concurrency {text!r}")


def _length(text: str, what: str) -> int | None:
    """Tokens, None when blank; a bound, range or dataset is a skip."""
    t = text.strip()
    if not t:
        return None
    n = _int_or_none(t)
    if n is None:
        raise _SkipRow("length is a bound or dataset", f"{what} {t!r} is not a fixed length")
    return n


# ---------------------------------------------------------------------------- parallelism

_DEP = re.compile(r"\bDEP(\d+)\b")


def _parallelism(r: dict[str, str], n_chips: int, notes: list[str]) -> dict[str, int]:
    tp, pp, ep = (_int_or_none(r[k]) for k in ("tp", "pp", "ep"))
    pp = pp or 1
    dep = _DEP.search(f"{r['notes']} {r['framework']}")
    if dep:
        n = int(dep.group(1))
        notes.append(f"DEP{n}: attention data parallel over {n} chips with ep={n} (tp=1, dp={n})")
        return {"tp": 1, "pp": pp, "ep": n, "dp": n}
    if "dp_attention=true" in r["notes"]:
        # InferenceMAX's attention-DP runs: the "tp" chips run attention as data-parallel replicas
        # and split the experts ep ways, the TensorRT-LLM / SGLang meaning of DP attention.
        width = tp or n_chips
        notes.append(f"dp_attention=true: attention data parallel over {width} chips "
                     f"(tp=1, dp={width}, ep={ep or 1}) rather than tp={width}")
        return {"tp": 1, "pp": pp, "ep": ep or 1, "dp": width}
    if tp is None:
        tp = n_chips // pp if n_chips > 1 else 1
        if n_chips > 1:
            notes.append(f"tp not stated: tp = n_chips / pp = {tp}")
    ep = ep or 1
    if n_chips % (tp * pp):
        raise _SkipRow("invalid scenario", f"{n_chips} chips is not a multiple of tp x pp = {tp} x {pp}")
    dp = n_chips // (tp * pp)
    if dp > 1:
        notes.append(f"dp = n_chips / (tp x pp) = {dp}")
    return {"tp": tp, "pp": pp, "ep": ep, "dp": dp}


# --------------------------------------------------------------------------------- engine

_ENGINES: tuple[tuple[str, str], ...] = (
    (r"executorch", "executorch"),
    (r"\bqnn\b|\bgenie\b|qnn_context_binary", "qnn"),
    (r"llama\.cpp|ollama", "llama.cpp"),
    (r"\bmlc\b|mlc-llm", "mlc"),
    (r"jetstream", "jetstream"),
    (r"sglang", "sglang"),
    (r"transformers[- ]?neuronx", "transformers-neuronx"),
    (r"vllm.*neuron|neuron.*vllm", "vllm-neuron"),
    (r"optimum[- ]habana", "optimum-habana"),
    (r"vllm", "vllm"),
    (r"\batom\b", "atom"),
    (r"tensorrt|trt-llm|trtllm", "trtllm"),
)


def _engine(framework: str) -> str:
    f = framework.lower()
    for pattern, engine in _ENGINES:
        if re.search(pattern, f):
            return engine
    return "default"


# Benchmarks that time requests through an HTTP server and a client; every other source times the
# engine in-process (trtllm-bench, gptSessionBenchmark, llama-bench, MLPerf Offline, AI Hub apps).
_SERVED = re.compile(r"inferencemax|bench[ _-]serve|genai-perf|mlperf.*server|hosted|api\b|guidellm", re.IGNORECASE)


def _harness(r: dict[str, str]) -> str:
    text = " ".join((r["framework"], r["source_desc"], r.get("notes", ""), r["batch_or_concurrency"]))
    return "served" if _SERVED.search(text) else "offline"


# ------------------------------------------------------------------------ MLPerf datasets

# The dataset a row's notes name -> the shipped dataset id (the data README's rule); first match wins.
_DATASETS: tuple[tuple[str, str], ...] = (
    (r"openorca\+gsm8k\+mbxp", "mlperf-mixtral-8x7b"),
    (r"openorca", "mlperf-openorca"),
    (r"cnn-dailymail", "mlperf-cnndm"),
    (r"llama-3\.1-405b long-context", "mlperf-llama3.1-405b"),
    (r"deepseek-r1 reasoning", "mlperf-deepseek-r1"),
    (r"sharegpt", "sharegpt"),
)
# MLPerf rows whose notes do not name the dataset: the benchmark is the model's.
_BENCHMARK_DATASET: dict[str, str] = {
    "llama-2-70b": "mlperf-openorca",
    "deepseek-r1": "mlperf-deepseek-r1",
    "llama-3.1-405b": "mlperf-llama3.1-405b",
    "mixtral-8x7b": "mlperf-mixtral-8x7b",
    "llama-3.1-8b": "mlperf-cnndm",
}


def is_mlperf(r: dict[str, str]) -> bool:
    return "mlperf" in f"{r['source_desc']} {r['notes']}".lower()


def dataset_of(r: dict[str, str], model: str) -> str | None:
    """The shipped dataset a row ran on, or None."""
    text = f"{r['notes']} {r['isl']}".lower()
    for pattern, ds in _DATASETS:
        if re.search(pattern, text):
            return ds
    return _BENCHMARK_DATASET.get(model) if is_mlperf(r) else None


def output_mean_of(r: dict[str, str]) -> float | None:
    """The mean output tokens per sample a row quotes for its own run (MLPerf's accuracy run or
    TOKENS_PER_SAMPLE), or None."""
    m = re.search(r"mean output tok/sample[^;\d]*([\d.]+)|TOKENS_PER_SAMPLE ([\d.]+)", r["notes"])
    return float(m.group(1) or m.group(2)) if m else None


# Where an MLPerf row states no mapping, submitters pick it; llmhw takes the one they usually
# do: the fewest chips per tensor-parallel group whose weights fill at most this share of each
# chip's memory (the rest holds the KV cache a throughput benchmark needs), the other chips
# data-parallel replicas. A MoE model's replicas are independent full copies (moe_dp:
# replicated), as MLPerf submitters run Mixtral on 80-141 GB GPUs, with the experts spread over
# the group's chips (ep = tp, else 1: every expert tensor-split over the group); when the model
# refuses that, its experts spread over all chips, shared by the replicas.
_WEIGHT_SHARE = 0.5


def unstated_mapping(scenario: dict[str, Any], n_chips: int) -> dict[str, Any] | None:
    """The mapping above for a scenario mapping (None when no group size fits)."""
    from llmhw.accounting.fit import fit as fit_memory

    try:
        moe = load_model(scenario["model"]).is_moe
    except LlmhwError:
        moe = False
    tp = 1
    while tp <= n_chips:
        if n_chips % tp == 0:
            dp = n_chips // tp
            options: list[dict[str, Any]] = [{"tp": tp, "pp": 1, "ep": ep, "dp": dp} for ep in (tp, 1)]
            if moe:
                options = [*({**o, "moe_dp": "replicated"} for o in options),
                           *({**o, "moe_dp": "shared"} for o in options)]
            for par in options:
                try:
                    s = Scenario.from_dict({**scenario, "parallelism": par})
                except LlmhwError:
                    continue
                f = fit_memory(s)
                if f.weights_bytes <= _WEIGHT_SHARE * f.capacity_bytes:
                    return par
                break
        tp *= 2
    return None


# -------------------------------------------------------------------------------- mapping

def _row_to_case(i: int, r: dict[str, str]) -> Case:
    notes: list[str] = []
    # The open-loop and undisclosed-size rows cannot be scenarios whatever else they say.
    batch = _batch(r["batch_or_concurrency"])
    n_chips = _int_or_none(r["n_chips"])
    if n_chips is None:
        raise _SkipRow("chip count not disclosed", f"{r['hardware']!r}: the source does not say how many chips")
    cid, chip = _row_chip(r, notes)
    mid, mnote = _model_id(r["model"])
    if mnote:
        notes.append(mnote)
    metric, measured = _row_metric(r)
    isl, osl = _row_lengths(r, batch, metric, notes, mid)
    precision = _row_precision(r, chip, cid, notes)      # its notes come before the mapping's
    par_notes: list[str] = []
    scenario: dict[str, Any] = {
        "model": mid,
        "hardware": cid,
        "n_chips": n_chips,
        "parallelism": _parallelism(_per_chip_tp(r, cid, par_notes), n_chips, par_notes),
        "precision": precision,
        "workload": {"input_tokens": isl, "output_tokens": osl, "batch": batch},
        "engine": _engine(r["framework"]),
        "compute_unit": _compute_unit(r["hardware"], r["framework"], set(chip.compute_units)),
    }
    scenario["workload"]["harness"] = _harness(r)
    if _RANKS_PER_CHIP.get(cid, 1) > 1:
        scenario["parallelism"]["ranks_per_chip"] = _RANKS_PER_CHIP[cid]
    if not apply_unstated_mapping(r, scenario, n_chips, notes):
        notes += par_notes
    if "InferenceMAX" in r["source_desc"]:
        # InferenceMAX's client draws each request's lengths uniformly from [0.8 L, L]
        # (RANDOM_RANGE_RATIO=0.8 in its benchmark configuration).
        scenario["workload"]["length_ratio"] = 0.8
        notes.append("InferenceMAX random lengths: length_ratio 0.8 (lengths uniform in [0.8 L, L])")
    try:
        Scenario.from_dict(scenario)
    except LlmhwError as exc:
        raise _SkipRow("invalid scenario", str(exc)) from None
    notes += _source_notes(r)
    return Case(row=i, scenario=scenario, metric=metric, measured=measured, family=chip.family,
                hardware=cid, source=r["source_url"], note="; ".join(notes))


def _per_chip_tp(r: dict[str, str], cid: str, notes: list[str]) -> dict[str, str]:
    """The row with its tp in chips: Neuron quotes its tensor-parallel degree in NeuronCores."""
    ranks, cores = _RANKS_PER_CHIP.get(cid, 1), _int_or_none(r["tp"])
    if ranks == 1 or cores is None:
        return r
    if cores % ranks:
        raise _SkipRow("invalid scenario", f"TP {cores} NeuronCores is not a whole number of {cid} chips")
    notes.append(f"TP {cores} NeuronCores = tp {cores // ranks} chips x {ranks} ranks per chip")
    return {**r, "tp": str(cores // ranks)}


def _row_chip(r: dict[str, str], notes: list[str]) -> tuple[str, Any]:
    """The catalog chip a row names, noting where the row's memory differs from the catalog's."""
    cid = _chip_id(r["hardware"])
    if cid not in chips():
        raise _SkipRow("hardware not in catalog", f"{r['hardware']!r} would be '{cid}', which the catalog lacks")
    chip = chips()[cid]
    if r["hardware"].lower().startswith("a100 sxm/pcie"):
        notes.append("source says A100 SXM or PCIe 80GB: SXM assumed (5% more bandwidth than PCIe)")
    mem = r["memory_gb_per_chip"].strip()
    if mem and abs(float(mem) * 1e9 - chip.memory_capacity_bytes) > 0.1 * chip.memory_capacity_bytes:
        notes.append(f"row memory {mem} GB vs catalog {chip.memory_capacity_bytes / 1e9:g} GB")
    return cid, chip


def _row_metric(r: dict[str, str]) -> tuple[str, float]:
    """(llmhw output name, measured value in SI units)."""
    metric_col = r["metric"].strip()
    if metric_col not in METRICS:
        raise _SkipRow("unknown metric", f"{metric_col!r}")
    unit = r["unit"].strip()
    if unit not in _UNIT_TO_SI:
        raise _SkipRow("unknown unit", f"{unit!r}")
    return METRICS[metric_col], float(r["value"]) * _UNIT_TO_SI[unit]


def apply_unstated_mapping(r: dict[str, str], scenario: dict[str, Any], n_chips: int, notes: list[str]) -> bool:
    """Give an MLPerf row that states no mapping the one submitters usually choose
    (:func:`unstated_mapping`), noting it; False when the row keeps its own."""
    par = unstated_mapping(scenario, n_chips) if mlperf_unstated(r, n_chips) else None
    if par is None:
        return False
    scenario["parallelism"] = par
    notes.append(f"MLPerf mapping not stated: tp {par['tp']} x dp {par['dp']}"
                 f"{', ep ' + str(par['ep']) if par['ep'] > 1 else ''} (the fewest chips per group whose "
                 f"weights fill at most half of each chip's memory)")
    return True


def mlperf_unstated(r: dict[str, str], n_chips: int) -> bool:
    """An MLPerf row on several chips that states no tp and no DEP mapping."""
    return is_mlperf(r) and n_chips > 1 and not r["tp"].strip() and not _DEP.search(f"{r['notes']} {r['framework']}")


def _row_lengths(r: dict[str, str], batch: int | str, metric: str, notes: list[str],
                 model: str = "") -> tuple[int, int]:
    """Input and output tokens. A single-stream decode speed without lengths is taken at 128 in /
    128 out; a TTFT or prefill speed at batch 1 needs only the prompt length (one output token is
    the first). An MLPerf Offline run over a dataset takes the dataset's mean prompt and the run's
    own mean output (or the dataset's)."""
    isl = _length(r["isl"], "isl")
    osl = _length(r["osl"], "osl")
    ds = dataset_of(r, model) if isl is None and osl is None and batch == "max" and is_mlperf(r) else None
    if ds is not None:
        from llmhw.workload.lengths import datasets

        i, o = datasets()[ds]
        out_mean = output_mean_of(r)
        isl, osl = round(i.nominal), round(out_mean if out_mean is not None else o.nominal)
        notes.append(f"MLPerf Offline over {ds}: its mean prompt, {isl} tokens, and "
                     + (f"the run's mean output, {osl} tokens" if out_mean is not None
                        else f"the dataset's mean output, {osl} tokens"))
    single_decode = batch == 1 and metric in ("tok_s_per_user", "tpot_s")
    first_token = batch == 1 and metric in ("ttft_s", "prefill_tok_s")
    if single_decode:
        if isl is None:
            isl = _DEFAULT_LENGTH
            notes.append(f"single-stream decode without a prompt length: {_DEFAULT_LENGTH} input tokens")
        if osl is None:
            osl = _DEFAULT_LENGTH
            notes.append(f"single-stream decode without an output length: {_DEFAULT_LENGTH} output tokens")
    elif first_token and osl in (None, 0):
        osl = 1
        notes.append("time to first token / prefill speed: 1 output token")
    if isl is None or osl is None:
        raise _SkipRow("no lengths", "input or output length not given" +
                       (" (MLPerf dataset run: lengths vary per request)" if "MLPerf" in r["source_desc"] else ""))
    if isl == 0:
        isl = 1
        notes.append("isl 0 (generation from an empty context) taken as a 1-token prompt")
    if osl == 0:
        osl = 1
        notes.append("osl 0 (prompt processing only) taken as 1 output token")
    return isl, osl


def _row_precision(r: dict[str, str], chip: Any, cid: str, notes: list[str]) -> dict[str, str]:
    """Weights, KV cache and activations as the row states them, with stated defaults."""
    weights, wnote = _precision(r["precision_weights"], what="weights")
    if wnote:
        notes.append(wnote)
    if r["precision_kv"].strip():
        kv, _ = _precision(r["precision_kv"], what="KV cache")
    elif weights in ("fp8", "fp4") and chip.family in _DATACENTER_FAMILIES and cid not in _NOT_DATACENTER:
        kv = "fp8"
        notes.append("KV cache not stated: fp8 (fp8/fp4 weights on a datacenter accelerator)")
    else:
        kv = "bf16"
        notes.append("KV cache not stated: 16-bit")
    pw = r["precision_weights"].lower()
    activations = "int8" if "int8 dyn. act" in pw else "bf16"
    precision: dict[str, str] = {"weights": weights, "kv_cache": kv, "activations": activations}
    if weights in ("int8", "int4") and re.search(r"matmul\w*[- ]bf16", pw):
        # Weights stored narrow, multiplied in BF16 (transformers-neuronx's int8 weight storage).
        precision["compute"] = "bf16"
        notes.append(f"{weights} weights dequantized to bf16 GEMMs (W{8 if weights == 'int8' else 4}A16)")
    if "4-bit embeddings" in pw:
        precision["embeddings"] = "int4"
    return precision


def _source_notes(r: dict[str, str]) -> list[str]:
    """What the row's source and notes say about how the value was measured."""
    notes = []
    low = r["notes"].lower()
    if re.search(r"\bp50\b", low) and "mean" not in low:
        notes.append("the value is the median (p50), not a mean")
    elif re.search(r"\bp9[59]\b", low) and "mean" not in low:
        notes.append("the value is a percentile (p95/p99), not a mean")
    if "s_tg" in low:
        notes.append("llama-batched-bench S_TG: decode-only throughput, prompt processing excluded")
    notes.append(f"{r['source_desc']} ({r['date'] or 'undated'}); framework {r['framework']}")
    if r["notes"].strip():
        notes.append(f"source notes: {r['notes'].strip()}")
    return notes


def _rows(name: str = CSV_NAME) -> list[dict[str, str]]:
    text = resources.files("llmhw.validation").joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


@cache
def _load(name: str = CSV_NAME) -> tuple[tuple[Case, ...], tuple[Skip, ...]]:
    cases: list[Case] = []
    skips: list[Skip] = []
    for i, r in enumerate(_rows(name)):
        try:
            cases.append(_row_to_case(i, r))
        except _SkipRow as s:
            skips.append(Skip(row=i, reason=str(s)))
    return tuple(cases), tuple(skips)


@cache
def flagged() -> dict[int, str]:
    """Rows no plausible model reaches (flags.yaml): row -> why. Predicted and reported, but
    neither fitted nor counted in the headline error."""

    raw = read_yaml(resources.files("llmhw.validation").joinpath("flags.yaml"))
    return {row: " ".join(f["reason"].split()) for f in raw["flags"] for row in f["rows"]}


def load_cases(name: str = CSV_NAME) -> tuple[list[Case], list[Skip]]:
    """Every row of the shipped measurements.csv (or of another file of the same columns in this
    package, ``NEW_CHIPS_CSV``) as a Case or a Skip, in row order."""
    cases, skips = _load(name)
    return list(cases), list(skips)


def summary() -> str:
    """A short text table: cases per family and metric, skips per reason."""
    cases, skips = load_cases()
    metrics = sorted({c.metric for c in cases})
    per = Counter((c.family, c.metric) for c in cases)
    families = sorted({c.family for c in cases})
    width = max([len("family")] + [len(f) for f in families])
    cols = [max(len(m), 4) for m in metrics]
    lines = [f"{len(cases)} cases, {len(skips)} skips, {len(cases) + len(skips)} rows", ""]
    lines.append("  ".join([f"{'family':<{width}}"] + [f"{m:>{w}}" for m, w in zip(metrics, cols, strict=True)]
                           + [f"{'total':>5}"]))
    for fam in families:
        counts = [per[(fam, m)] for m in metrics]
        lines.append("  ".join([f"{fam:<{width}}"] + [f"{n:>{w}}" for n, w in zip(counts, cols, strict=True)]
                               + [f"{sum(counts):>5}"]))
    lines += ["", "skips per reason:"]
    for reason, n in Counter(s.category for s in skips).most_common():
        lines.append(f"  {n:>4}  {reason}")
    return "\n".join(lines)
