"""The value types of a scenario's blocks: parallelism, precision and workload, each checked by
its own pydantic schema (errors name the block and field)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from llmhw.core.errors import LlmhwError, shown
from llmhw.core.units import PRECISIONS, RANGES, check_number, whole_number
from llmhw.workload.lengths import Lengths, lengths_from
from llmhw.workload.traces import read_trace

# Tensor classes a scenario's placement may put on a memory tier.
PLACEMENT_CLASSES: tuple[str, ...] = ("weights", "kv_cache", "activations")


class Block(BaseModel):
    # NaN and infinities are refused wherever a float is read (pydantic would take them).
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_booleans(cls, v: Any, info: ValidationInfo) -> Any:
        """``batch: true`` is a mistake, not 1 (pydantic would read it as 1)."""
        if isinstance(v, bool) and info.field_name is not None \
                and any(t in str(cls.model_fields[info.field_name].annotation) for t in ("int", "float")):
            raise PydanticCustomError("number", "expected a number, got {got}", {"got": shown(v)})
        return v


def _whole(unit: str, least: int = 1) -> Callable[[Any, ValidationInfo], Any]:
    """A before-validator: a whole number (not a boolean, not a float) from ``least`` to the upper
    bound of ``unit`` in core.units.RANGES; None passes (optional fields)."""
    def check(v: Any, info: ValidationInfo) -> Any:
        if v is None or (isinstance(v, str) and v == "max" and info.field_name == "batch"):
            return v
        try:
            return whole_number(v, unit, str(info.field_name), least=least)
        except LlmhwError as exc:
            accepted = exc.accepted + (", or 'max'" if info.field_name == "batch" else "")
            raise PydanticCustomError("number", "{msg}", {"msg": exc.detail, "accepted": accepted}) from None
    return check


def _real(unit: str) -> Callable[[Any, ValidationInfo], Any]:
    """An after-validator: a finite number inside ``unit``'s range (core.units.RANGES)."""
    def check(v: Any, info: ValidationInfo) -> Any:
        if v is None:
            return v
        try:
            return check_number(v, unit, str(info.field_name))
        except LlmhwError as exc:
            raise PydanticCustomError("number", "{msg}", {"msg": exc.detail, "accepted": exc.accepted}) from None
    return check


class Parallelism(Block):
    tp: int = Field(1, ge=1, description="tensor parallel: splits heads and FFN widths")
    pp: int = Field(1, ge=1, description="pipeline parallel: splits layers into stages")
    ep: int = Field(1, ge=1, description="expert parallel: expert groups among the chips holding the experts")
    dp: int = Field(1, ge=1, description="data parallel: replicas (attention DP for MoE)")
    moe_dp: Literal["shared", "replicated"] = Field(
        "shared", description="MoE models with dp > 1: 'shared' spreads the routed experts over all "
        "tp x dp chips (attention data parallel, DeepSeek style); 'replicated' gives every replica "
        "all experts on its own tp chips (independent replicas). Dense models ignore it")

    ranks_per_chip: int = Field(
        1, ge=1, description="tensor-parallel ranks the engine runs on each chip: 1 on GPUs; Neuron runs one "
        "per NeuronCore, 2 on an Inferentia2 or Trainium1 chip (vLLM's tensor_parallel_size 24 on 12 chips). "
        "Heads split (and, where the engine pads, pad) over tp x ranks_per_chip ranks")

    _degrees = field_validator("tp", "pp", "ep", "dp", "ranks_per_chip", mode="before")(_whole("chips"))

    @model_validator(mode="after")
    def _total(self) -> Parallelism:
        if self.n_chips > RANGES["chips"].hi:
            raise PydanticCustomError(
                "number", "tp x pp x dp = {n} chips is out of range",
                {"n": f"{self.n_chips:,}", "accepted": f"at most {RANGES['chips'].hi:,.0f} chips in all"})
        return self

    @property
    def n_chips(self) -> int:
        return self.tp * self.pp * self.dp

    @property
    def expert_dp(self) -> int:
        """Replicas that share one copy of the routed experts and meet at every MoE layer:
        dp when shared, 1 when every replica holds its own."""
        return self.dp if self.moe_dp == "shared" else 1

    @property
    def expert_chips(self) -> int:
        """Chips of one pipeline stage that one copy of the routed experts is spread over."""
        return self.tp * self.expert_dp


# Quantization schemes as engines and papers name them, W<weight bits>A<activation bits>: the
# weights' storage type and the type the weight GEMMs multiply in. Integer formats, as the names
# are used for AWQ/GPTQ (W4A16), weight-only int8 (W8A16), SmoothQuant / LLM.int8() kernels (W8A8)
# and QuaRot-style W4A4; a float variant (FP8 weights in bf16 GEMMs) is spelled in full,
# ``{weights: fp8, compute: bf16}``. A16 is bf16 (a chip with only fp16 units runs it in fp16).
SCHEMES: dict[str, tuple[str, str]] = {
    "W8A16": ("int8", "bf16"), "W4A16": ("int4", "bf16"), "W8A8": ("int8", "int8"), "W4A4": ("int4", "int4"),
}


class PrecisionSpec(Block):
    weights: str = Field("bf16", description="storage type of the weight matrices (bytes read per parameter)")
    kv_cache: str = "bf16"
    activations: str = Field("bf16", description="storage type of activations and messages; attention "
                             "computes in it")
    embeddings: str | None = Field(None, description="embedding and LM head; default: as weights")
    compute: str | None = Field(
        None, description="the type the weight GEMMs multiply in, whatever the chip lists: weights stored "
        "narrower are dequantized to it (W8A16: int8 weights, bf16 GEMMs); default: the engine's rule (FP8, "
        "FP4 and INT8 weights on the chip's own units when it has them and the engine uses them, else the "
        "activation type)")

    @model_validator(mode="before")
    @classmethod
    def _scheme(cls, v: Any) -> Any:
        """``precision: W8A16`` (or ``{scheme: W8A16, kv_cache: fp8}``) is ``weights`` and
        ``compute`` spelled in full; a value given beside the scheme must agree with it."""
        if isinstance(v, str):
            v = {"scheme": v}
        if not isinstance(v, dict) or "scheme" not in v:
            return v
        v = dict(v)
        raw = v.pop("scheme")
        key = raw.strip().upper() if isinstance(raw, str) else None
        if key not in SCHEMES:
            raise LlmhwError(f"unknown scheme {shown(raw)}", field="scheme",
                             accepted=", ".join(SCHEMES) + " (or weights and compute spelled out)")
        for name, value in zip(("weights", "compute"), SCHEMES[key], strict=True):
            if v.get(name, value) != value:
                raise LlmhwError(f"scheme {key} stores weights as {SCHEMES[key][0]} and multiplies in "
                                 f"{SCHEMES[key][1]}, but {name} is {shown(v[name])}", field=name,
                                 accepted=f"{value}, or drop scheme")
            v[name] = value
        return v

    @field_validator("weights", "kv_cache", "activations", "embeddings", "compute")
    @classmethod
    def _known(cls, v: str | None) -> str | None:
        if v is not None and v not in PRECISIONS:
            raise LlmhwError(f"unknown precision {shown(v)}", accepted=", ".join(PRECISIONS))
        return v

    @property
    def embedding_precision(self) -> str:
        return self.embeddings or self.weights


class Arrival(Block):
    """How requests arrive, for the open-loop simulator (``llmhw simulate``): a Poisson stream, a
    bursty gamma stream (coefficient of variation ``cv`` of the gaps; 1 is Poisson), a closed
    loop of ``concurrency`` requests, or a recorded trace (``path``: a CSV file of arrival times
    and lengths, llmhw/workload/traces.py; a relative path is read from the scenario file's
    folder, or the working directory for a scenario given as a mapping)."""

    process: Literal["poisson", "gamma", "closed", "trace"]
    rate_per_s: float | None = Field(None, gt=0, description="requests per second (poisson, gamma)")
    cv: float = Field(1.0, gt=0, description="gamma: coefficient of variation of the inter-arrival gaps")
    concurrency: int | None = Field(None, ge=1, description="closed: requests in flight")
    path: str | None = Field(None, description="trace: a CSV file (plain, Azure or BurstGPT layout)")

    _rate = field_validator("rate_per_s")(_real("requests/s"))
    _cv = field_validator("cv")(_real("x"))
    _concurrency = field_validator("concurrency", mode="before")(_whole("requests"))

    @model_validator(mode="after")
    def _complete(self) -> Arrival:
        if self.process == "closed" and self.concurrency is None:
            raise ValueError("a closed process needs concurrency")
        if self.process == "trace":
            if not self.path:
                raise ValueError("a trace process needs path (a CSV file)")
        elif self.process != "closed" and self.rate_per_s is None:
            raise ValueError(f"a {self.process} process needs rate_per_s")
        if self.path is not None and self.process != "trace":
            raise ValueError(f"path is for a trace process, not {self.process}")
        return self


class Speculative(Block):
    """Speculative decoding or multi-token prediction: each decode step verifies ``draft_tokens``
    proposed tokens, each accepted with probability ``acceptance`` (given the previous ones)."""

    draft_tokens: int = Field(ge=1, le=16, description="tokens proposed per step")
    acceptance: float = Field(ge=0, lt=1, description="probability each proposed token is accepted")
    draft_model: str | None = Field(
        None, description="catalog id of a separate draft model: each step then also runs draft_tokens decode "
        "steps of it, and its weights and KV cache take memory; none = MTP heads or n-gram lookup, no extra model")

    _draft = field_validator("draft_tokens", mode="before")(_whole("tokens"))

    @property
    def tokens_per_step(self) -> float:
        """Expected tokens a step emits: the accepted run plus the verifier's own token,
        (1 - a^(k+1)) / (1 - a)."""
        a, k = self.acceptance, self.draft_tokens
        return (1.0 - a ** (k + 1)) / (1.0 - a)


class Workload(Block):
    input_tokens: int = Field(ge=1, description="prompt tokens per request; default with lengths or a trace: "
                              "their mean")
    output_tokens: int = Field(ge=1, description="generated tokens per request; default with lengths or a "
                               "trace: their mean")
    batch: int | Literal["max"] = Field(1, description="requests in flight on the whole system, or 'max'")
    prefill_chunk_tokens: int | None = Field(
        None, ge=1, description="most prompt tokens one step processes (vLLM's max_num_batched_tokens); "
        "default: the engine's (Scenario.prefill_chunk_tokens)"
    )
    length_ratio: float = Field(
        1.0, gt=0, le=1, description="lengths drawn uniformly from [ratio x L, L] per request, as the "
        "vLLM/InferenceMAX benchmark's --random-range-ratio; 1 = every request exactly L"
    )
    arrival: Arrival | None = Field(None, description="open loop (llmhw simulate): how requests arrive")
    speculative: Speculative | None = Field(
        None, description="open loop (llmhw simulate): speculative decoding / MTP; a draft model's own cost "
        "counts when draft_model names one")
    prefix_cached_tokens: int = Field(
        0, ge=0, description="open loop (llmhw simulate): tokens at the start of every prompt already in the "
        "prefix cache (a shared system prompt); they skip prefill but stay in the KV cache")
    lengths: Lengths | None = Field(
        None, description="open loop (llmhw simulate): per-request lengths, {dataset: ID}, {input: N, output: N} "
        "or a distribution per side (llmhw/workload/lengths.py); default: uniform in [length_ratio x L, L]")
    requests: int = Field(2000, ge=10, description="open loop (llmhw simulate): requests to simulate (with a "
                          "trace: at most this many of its rows)")
    seed: int = Field(0, ge=0, description="open loop (llmhw simulate): random seed of arrivals and lengths")
    harness: Literal["served", "offline"] = Field(
        "served", description="'served': requests reach the engine through its HTTP server from a client "
        "(vLLM/SGLang bench serve, InferenceMAX, a deployed service), so TTFT includes the server's and "
        "client's time (the engine's api_overhead_s); 'offline': an in-process benchmark with no server "
        "(trtllm-bench, llama-bench, MLPerf Offline, an on-device app)"
    )

    _tokens = field_validator("input_tokens", "output_tokens", "prefill_chunk_tokens", mode="before")(_whole("tokens"))
    _cached = field_validator("prefix_cached_tokens", mode="before")(_whole("tokens", least=0))
    _batch = field_validator("batch", mode="before")(_whole("requests"))
    _requests = field_validator("requests", mode="before")(_whole("simulated requests", least=10))
    _seed = field_validator("seed", mode="before")(_whole("seed", least=0))

    @model_validator(mode="before")
    @classmethod
    def _nominal_lengths(cls, d: Any) -> Any:
        """Without input_tokens/output_tokens, the mean of the lengths or of the trace: the request
        size the memory model and the closed-loop metrics take."""
        if not isinstance(d, dict) or ("input_tokens" in d and "output_tokens" in d):
            return d
        arr, lens = d.get("arrival"), d.get("lengths")
        means = None
        if isinstance(arr, dict) and arr.get("process") == "trace" and arr.get("path"):
            if lens is not None:
                # Placeholders: the 'both given' error below says what to fix.
                return {"input_tokens": 1, "output_tokens": 1, **d}
            _, i, o = read_trace(arr["path"])
            means = (float(i.mean()), float(o.mean()))
        elif lens is not None:
            try:
                means = (lens if isinstance(lens, Lengths) else lengths_from(lens)).means
            except LlmhwError:
                # Placeholders, so that the error reported is the lengths field's own.
                return {"input_tokens": 1, "output_tokens": 1, **d}
        if means is None:
            return d
        return {"input_tokens": max(1, round(means[0])), "output_tokens": max(1, round(means[1])), **d}

    @model_validator(mode="after")
    def _one_source_of_lengths(self) -> Workload:
        if self.lengths is not None and self.arrival is not None and self.arrival.process == "trace":
            raise ValueError("a trace gives each request's lengths; drop workload.lengths (or use a poisson, "
                             "gamma or closed arrival)")
        if self.lengths is None and self.arrival is None and self.prefix_cached_tokens >= self.input_tokens:
            # Requests of one fixed length: a cached prefix as long as the prompt leaves nothing to
            # prefill, which no engine does (the last token is always computed).
            raise ValueError(f"prefix_cached_tokens ({self.prefix_cached_tokens:,}) must be below input_tokens "
                             f"({self.input_tokens:,}): at least the prompt's last token is computed")
        return self

    @property
    def peak_context(self) -> int:
        return self.input_tokens + self.output_tokens

    @property
    def mean_factor(self) -> float:
        """Mean length over nominal length."""
        return (1.0 + self.length_ratio) / 2.0
