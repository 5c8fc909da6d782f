"""A scenario: which model, on which hardware, split how, at what precision, serving what.

The YAML schema (the contract later tools extend)::

    model: llama-3.1-70b          # catalog id, or a path to a HF config.json
    hardware: h100-sxm            # catalog id of a chip or system, or a path to a YAML spec
    n_chips: 8
    parallelism: {tp: 8, pp: 1, ep: 1, dp: 1}
    precision: {weights: fp8, kv_cache: fp8, activations: bf16}   # or a scheme: W8A16, W4A16,
                                  #   W8A8, W4A4 (weights stored, GEMMs multiplied: values.SCHEMES);
                                  #   compute: bf16 names the GEMM type whatever the chip lists
    workload: {input_tokens: 1024, output_tokens: 1024, batch: 64}
    overrides:                    # optional what-ifs: dotted path into the system -> value
      chip.memory: [hbm3e, hbf]   #   (hardware/whatif.py, docs/whatif.md)
      interconnect.hop_latency_s: 1.0e-7
    placement: {weights: hbf, kv_cache: hbm3e}   # optional; automatic when absent
    economics: {electricity_usd_per_kwh: 0.05, region: france}   # optional: energy, cost and carbon
                                  #   constants (scenario/economics.py, docs/economics.md)

Sharding follows vLLM, SGLang and TensorRT-LLM: the chips are tp x pp x dp; TP splits
attention heads and dense FFNs, PP splits layers, DP replicates; MoE layers split the same
tp x dp chips into ep expert groups and tensor-split each expert over the tp x dp / ep chips
of its group (``moe_dp: shared``, the default: attention data parallel), or, with
``parallelism: {moe_dp: replicated}``, every replica holds all experts on its own tp chips,
split into ep groups of tp / ep chips each (independent replicas).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from llmhw.core.errors import LlmhwError, shown
from llmhw.core.io import read_yaml
from llmhw.core.provenance import build
from llmhw.core.units import whole_number
from llmhw.hardware.catalog import Hardware, hardware_from_dict, load_hardware
from llmhw.hardware.chip import Chip
from llmhw.hardware.interconnect import check_size
from llmhw.hardware.system import System, system_of
from llmhw.hardware.whatif import apply_to_hardware
from llmhw.scenario.economics import check_overrides
from llmhw.scenario.engines import check_engine, default_profiles
from llmhw.scenario.padding import padded_model
from llmhw.scenario.values import PLACEMENT_CLASSES, Block, Parallelism, PrecisionSpec, Workload
from llmhw.workload.catalog import load_model
from llmhw.workload.model import ModelSpec


class Scenario(BaseModel):
    """A checked scenario: model, hardware, mapping, precision and workload.

    Build one with :meth:`from_dict`, :meth:`from_yaml` or :meth:`create`, which check the
    mapping against the model and the hardware; :meth:`replace` re-checks after a change.

    ``hardware`` is the hardware with ``overrides`` applied (so :attr:`system` and :attr:`chip`
    are the what-if); ``overrides`` keeps the raw mapping as given, for reports, and
    :meth:`replace` applies it again to the hardware as given (:attr:`base_hardware`).
    ``placement`` maps tensor classes to memory tier ids of the (overridden) chip; empty means
    automatic.
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    model: ModelSpec
    hardware: Chip | System = Field(description="a chip (then n_chips of it) or a system")
    n_chips: int = Field(ge=1)
    parallelism: Parallelism
    precision: PrecisionSpec
    workload: Workload
    memory_utilization: float = Field(
        0.9, gt=0, le=1, description="share of device memory the engine may use (vLLM's default 0.9)"
    )
    engine: str = Field("default", description="serving engine profile: vllm, sglang, trtllm, ...")
    compute_unit: str | None = Field(None, description="cpu, gpu or npu on SoCs; default: the chip's usual LLM path")
    overrides: dict[str, Any] = Field(default_factory=dict, description="what-if: dotted path -> value, as given")
    placement: dict[str, str] = Field(
        default_factory=dict, description="tensor class (weights, kv_cache, activations) -> memory tier id; "
        "empty: automatic"
    )
    # economics (llmhw.economics): constants that override the economics catalog for this scenario
    economics: dict[str, Any] = Field(
        default_factory=dict, description="economics constant -> value (docs/economics.md); empty: the catalog's")
    _base_hardware: Chip | System | None = PrivateAttr(None)
    _run_model: ModelSpec | None = PrivateAttr(None)

    @property
    def base_hardware(self) -> Chip | System:
        """The hardware before ``overrides``."""
        return self._base_hardware if self._base_hardware is not None else self.hardware

    @property
    def run_model(self) -> ModelSpec:
        """The model as the engine runs it on this tensor-parallel split: the model itself, or with
        heads and FFN width padded where the engine pads them (scenario/padding.py). Accounting
        prices this one, so padded heads cost their FLOPs, weights and KV cache."""
        if self._run_model is None:
            self._run_model = padded_model(self.model, self.parallelism.tp, self.parallelism.ranks_per_chip)
        return self._run_model

    @property
    def system(self) -> System:
        if isinstance(self.hardware, System):
            return self.hardware
        return system_of(self.hardware, self.n_chips)

    @property
    def chip(self) -> Chip:
        return self.hardware.chip if isinstance(self.hardware, System) else self.hardware

    @property
    def prefill_chunk_tokens(self) -> int:
        """Most prompt tokens one step takes: the workload's when it gives one, else the engine
        profile's default (scenario/engines.yaml). Memory, prefill cost and queueing all read this."""
        w = self.workload.prefill_chunk_tokens
        return w if w is not None else default_profiles()[self.engine].max_num_batched_tokens

    @classmethod
    def create(cls, *, model: ModelSpec, hardware: Chip | System, n_chips: int, parallelism: Parallelism,
               precision: PrecisionSpec, workload: Workload, memory_utilization: float = 0.9,
               engine: str = "default", compute_unit: str | None = None,
               overrides: dict[str, Any] | None = None, placement: dict[str, str] | None = None,
               economics: dict[str, Any] | None = None) -> Scenario:
        n_chips = whole_number(n_chips, "chips", "n_chips")
        base = hardware
        overrides = dict(_mapping(overrides, "overrides"))
        hardware = apply_to_hardware(base, overrides, n_chips)
        if isinstance(hardware, System) and n_chips > hardware.n_chips:
            raise LlmhwError(
                f"{n_chips} chips asked of system '{hardware.id}', which has {hardware.n_chips}",
                field="n_chips", accepted=f"1..{hardware.n_chips}",
            )
        if isinstance(memory_utilization, bool) or not isinstance(memory_utilization, int | float) \
                or not 0 < memory_utilization <= 1:
            raise LlmhwError(f"must be a number in (0, 1], got {shown(memory_utilization)}", field="memory_utilization")
        check_engine(engine)
        check_parallelism(model, parallelism, n_chips, engine=engine)
        chip = hardware.chip if isinstance(hardware, System) else hardware
        if compute_unit is not None:
            units = sorted(chip.compute_units) or []
            if compute_unit not in units:
                raise LlmhwError(
                    f"{chip.id} has no compute unit {shown(compute_unit)}", field="compute_unit",
                    accepted=", ".join(units) if units else "none: this chip has a single compute path; omit the field",
                )
        placement = _placement(placement, chip)
        economics = _economics(economics)
        s = cls(model=model, hardware=hardware, n_chips=n_chips, parallelism=parallelism,
                precision=precision, workload=workload, memory_utilization=float(memory_utilization),
                engine=engine, compute_unit=compute_unit, overrides=overrides, placement=placement,
                economics=economics)
        s._base_hardware = base
        _check_networks(s)
        return s

    @classmethod
    def from_dict(cls, d: Any, *, base_dir: Path | None = None) -> Scenario:
        """Build and check a scenario from the YAML mapping; errors name the field."""
        if not isinstance(d, dict):
            raise LlmhwError("a scenario must be a mapping with model, hardware, workload, ...", field="scenario")
        allowed = {"model", "hardware", "n_chips", "parallelism", "precision", "workload", "memory_utilization",
                   "engine", "compute_unit", "name", "overrides", "placement", "economics"}
        for k in d:
            if k not in allowed:
                raise LlmhwError("unknown field", field=str(k), accepted=", ".join(sorted(allowed)))
        for k in ("model", "hardware", "workload"):
            if k not in d or d[k] is None:
                raise LlmhwError("missing required field", field=k)
        model = _model(d["model"], base_dir)
        hw = _hardware(d["hardware"], base_dir)
        par = build(Parallelism, _mapping(d.get("parallelism"), "parallelism"), where="parallelism")
        prec_raw = d.get("precision")
        # A quantization scheme alone (precision: W8A16) stands for {scheme: W8A16}.
        prec = build(PrecisionSpec, {"scheme": prec_raw} if isinstance(prec_raw, str) else
                     _mapping(prec_raw, "precision"), where="precision")
        wl = build(Workload, _trace_path(_mapping(d["workload"], "workload"), base_dir), where="workload")
        n_chips = d.get("n_chips")
        if n_chips is None:
            n_chips = par.n_chips
        return cls.create(model=model, hardware=hw, n_chips=n_chips, parallelism=par, precision=prec,
                          workload=wl, memory_utilization=d.get("memory_utilization", 0.9),
                          engine=d.get("engine") or "default", compute_unit=d.get("compute_unit"),
                          overrides=_mapping(d.get("overrides"), "overrides"),
                          placement=_mapping(d.get("placement"), "placement"),
                          economics=_mapping(d.get("economics"), "economics"))

    @classmethod
    def from_yaml(cls, path: str | Path) -> Scenario:
        p = Path(path)
        return cls.from_dict(read_yaml(p, field="scenario", mapping=True), base_dir=p.parent)

    def replace(self, **changes: Any) -> Scenario:
        """A copy with some fields changed (a block may be given as a partial mapping,
        e.g. ``parallelism={"tp": 4}``), checked again as a whole. ``hardware`` is the hardware
        before the overrides, which apply again; ``overrides={...}`` replaces them all (merge
        with ``{**s.overrides, ...}`` to add one)."""
        data: dict[str, Any] = {k: getattr(self, k) for k in type(self).model_fields}
        data["hardware"] = self.base_hardware
        for k, v in changes.items():
            if k not in data:
                raise LlmhwError("unknown field", field=k, accepted=", ".join(data))
            if k == "precision" and isinstance(v, str):
                v = {"scheme": v}
            if isinstance(v, dict) and isinstance(data[k], Block):
                base = data[k].model_dump()
                if k == "precision" and "scheme" in v:
                    # A scheme names weights and compute afresh; the rest of the block stays.
                    base = {n: x for n, x in base.items() if n not in ("weights", "compute")}
                v = build(type(data[k]), {**base, **v}, where=k)
            data[k] = v
        return Scenario.create(**data)


def _mapping(v: Any, where: str) -> dict[str, Any]:
    if v is None:
        return {}
    if not isinstance(v, dict):
        raise LlmhwError(f"expected a mapping, got {shown(v)}", field=where)
    return v


def _trace_path(w: dict[str, Any], base_dir: Path | None) -> dict[str, Any]:
    """A trace's relative path, read from the scenario file's folder (as model and hardware paths are)."""
    arr = w.get("arrival")
    if base_dir is None or not isinstance(arr, dict) or arr.get("process") != "trace":
        return w
    path = arr.get("path")
    if not isinstance(path, str) or Path(path).is_absolute():
        return w
    return {**w, "arrival": {**arr, "path": str(base_dir / path)}}


def _economics(v: Any) -> dict[str, Any]:
    """Check an ``economics:`` block against the economics constants (llmhw.scenario.economics);
    errors name ``economics.<field>``."""
    return check_overrides(_mapping(v, "economics"), "economics")


def _placement(v: Any, chip: Chip) -> dict[str, str]:
    """Check a placement mapping: known tensor classes, tiers the chip has."""
    v = _mapping(v, "placement")
    ids = [t.id for t in chip.memory]
    out: dict[str, str] = {}
    for cls_, tier in v.items():
        if cls_ not in PLACEMENT_CLASSES:
            raise LlmhwError(f"unknown tensor class {shown(cls_)}", field=f"placement.{cls_}",
                             accepted=", ".join(PLACEMENT_CLASSES))
        if not isinstance(tier, str) or tier not in ids:
            raise LlmhwError(f"{chip.id} has no memory tier {shown(tier)}", field=f"placement.{cls_}",
                             accepted=", ".join(ids))
        out[cls_] = tier
    return out


def _model(v: Any, base_dir: Path | None) -> ModelSpec:
    if isinstance(v, ModelSpec):
        return v
    if not isinstance(v, str):
        raise LlmhwError("expected a catalog model id or a path to a config.json", field="model")
    if base_dir is not None and not v.startswith("/") and os.path.exists(base_dir / v):
        v = str(base_dir / v)
    return load_model(v, field="model")


def _hardware(v: Any, base_dir: Path | None) -> Hardware:
    if isinstance(v, Chip | System):
        return v
    if isinstance(v, dict):
        return hardware_from_dict(v, where="hardware")
    if not isinstance(v, str):
        raise LlmhwError("expected a catalog chip or system id, or a path to a YAML spec", field="hardware")
    if base_dir is not None and not v.startswith("/") and os.path.exists(base_dir / v):
        v = str(base_dir / v)
    return load_hardware(v, field="hardware")


def _divisors(n: int, limit: int = 1024) -> str:
    return ", ".join(str(k) for k in range(1, min(n, limit) + 1) if n % k == 0)


def _padding_hint(engine: str) -> str:
    pads = [n for n, p in default_profiles().items() if p.pad_heads]
    if not pads:
        return ""
    return f"; engine '{engine}' does not pad heads (engines that do: {', '.join(pads)})"


def check_parallelism(model: ModelSpec, par: Parallelism, n_chips: int, *, engine: str = "default") -> None:
    """Reject mappings the engine cannot run; each error names the parallel degree at fault.
    An engine that pads heads (``pad_heads`` in engines.yaml: NxD Inference, transformers-neuronx)
    runs any tp on a model without MLA (scenario/padding.py)."""
    if par.n_chips != n_chips:
        raise LlmhwError(
            f"n_chips ({n_chips}) must equal tp x pp x dp = {par.tp} x {par.pp} x {par.dp} = {par.n_chips}",
            field="n_chips",
        )
    pads = default_profiles()[engine].pad_heads
    shards = par.tp * par.ranks_per_chip
    what = f"tp={par.tp}" if par.ranks_per_chip == 1 else \
        f"tp x ranks_per_chip = {par.tp} x {par.ranks_per_chip} = {shards} ranks"
    hint = _padding_hint(engine)

    def accepted(n: int, limit: int = 1024) -> str:
        tps = [k // par.ranks_per_chip for k in map(int, _divisors(n, limit).split(", ")) if k % par.ranks_per_chip == 0]
        return ", ".join(map(str, tps)) or "none at this ranks_per_chip"

    if pads:
        if model.mla is not None and model.n_heads % shards:
            raise LlmhwError(
                f"{what} does not divide the {model.n_heads} MLA heads of {model.id} (MLA heads are not padded)",
                field="parallelism.tp", accepted=accepted(model.n_heads),
            )
        return _check_experts(model, par)
    if model.n_heads % shards:
        raise LlmhwError(
            f"{what} does not divide the {model.n_heads} attention heads of {model.id}{hint}",
            field="parallelism.tp", accepted=accepted(model.n_heads),
        )
    if model.mla is None and model.n_kv_heads % shards and shards % model.n_kv_heads:
        raise LlmhwError(
            f"{what} and the {model.n_kv_heads} KV heads of {model.id} must divide one another{hint}",
            field="parallelism.tp",
        )
    if model.intermediate_size and model.n_dense_layers and model.intermediate_size % shards:
        raise LlmhwError(
            f"{what} does not divide the FFN width {model.intermediate_size} of {model.id}{hint}",
            field="parallelism.tp", accepted=accepted(model.intermediate_size, 64),
        )
    _check_experts(model, par)


def _check_experts(model: ModelSpec, par: Parallelism) -> None:
    """Pipeline and expert degrees: no engine pads these."""
    if par.pp > model.n_layers:
        raise LlmhwError(
            f"pp={par.pp} exceeds the {model.n_layers} layers of {model.id}",
            field="parallelism.pp", accepted=f"1..{model.n_layers}",
        )
    if model.moe is None:
        if par.ep != 1:
            raise LlmhwError(f"{model.id} has no experts; ep must be 1", field="parallelism.ep", accepted="1")
        return
    e = model.moe.n_routed_experts
    if e % par.ep:
        raise LlmhwError(
            f"ep={par.ep} does not divide the {e} routed experts of {model.id}",
            field="parallelism.ep", accepted=_divisors(e),
        )
    # Shared: one copy of the experts over all tp x dp chips; replicated: a copy per replica on its tp chips.
    group, over = par.expert_chips, ("tp x dp" if par.moe_dp == "shared" else "tp (moe_dp: replicated)")
    if group % par.ep:
        raise LlmhwError(
            f"ep={par.ep} must divide {over} = {group}: experts are split over the same chips",
            field="parallelism.ep", accepted=_divisors(group),
        )
    per_expert = group // par.ep
    if model.moe.expert_intermediate_size % per_expert:
        raise LlmhwError(
            f"each expert is tensor-split over {over} / ep = {per_expert} chips, which does not divide "
            f"its FFN width {model.moe.expert_intermediate_size}",
            field="parallelism.ep",
        )


def _check_networks(s: Scenario) -> None:
    """The scale-up network must be able to hold the chips it joins (a torus needs a slice of
    its shape); more chips than its domain need a scale-out network."""
    system = s.system
    net = system.scale_up_network
    if net is None or s.n_chips == 1:
        return
    if s.n_chips <= net.domain_size:
        check_size(net, s.n_chips, "interconnect")
    elif system.scale_out_network is None:
        raise LlmhwError(f"{s.n_chips} chips exceed the {net.domain_size}-chip domain of '{net.id}' and the system "
                         f"has no scale-out network", field="n_chips",
                         accepted=f"at most {net.domain_size}, or a system with scale_out")
