"""The explorer's logic, without Streamlit: form state -> scenario mapping -> results, the URL's
query parameters, and the exports (YAML, a ``llmhw`` command line).

A page's state is a flat mapping of named fields in the units the page shows (milliseconds,
nanoseconds, GB/s); the scenario mappings built from it are in SI units, exactly as a scenario
file would hold them, so an exported YAML or command line reproduces what the page shows.
"""

from __future__ import annotations

import json
import math
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import yaml

from llmhw import api
from llmhw.core.errors import LlmhwError, shown
from llmhw.core.io import CONFIG_MAX_BYTES, decode_utf8, read_json
from llmhw.hardware.catalog import hardware_ids
from llmhw.hardware.interconnect import TOPOLOGIES
from llmhw.scenario import Scenario
from llmhw.scenario.engines import engine_names
from llmhw.scenario.flags import FLAG_PATHS
from llmhw.workload.catalog import model_ids
from llmhw.workload.hf_config import model_from_hf_config
from llmhw.workload.lengths import dataset_ids

# -- fields ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """One control of a page: its query parameter name, its label (with the unit it is shown in),
    its default (whose type is the field's type) and what it accepts."""

    name: str
    label: str
    default: Any
    choices: tuple[str, ...] = ()
    lo: float | None = None
    hi: float | None = None
    help: str = ""

    @property
    def kind(self) -> type:
        return type(self.default)

    def accepted(self) -> str:
        if self.choices:
            return ", ".join(self.choices)
        if self.kind is bool:
            return "true or false"
        word = "a whole number" if self.kind is int else "a number"
        if self.lo is not None and self.hi is not None:
            return f"{word} from {self.lo:g} to {self.hi:g}"
        return f"{word} of at least {self.lo:g}" if self.lo is not None else word

    def parse(self, raw: Any) -> Any:
        """The field's value from a query parameter (text) or a form value; LlmhwError naming the
        field when it is not one the field accepts."""
        bad = LlmhwError(f"{shown(raw)} is not accepted", field=self.name, accepted=self.accepted())
        if self.kind is bool:
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise bad
        if self.kind is str:
            text = str(raw).strip()
            if self.choices and text not in self.choices:
                raise bad
            return text
        try:
            v = float(raw) if self.kind is float else _whole(raw)
        except (TypeError, ValueError):
            raise bad from None
        if not math.isfinite(v) or (self.lo is not None and v < self.lo) or (self.hi is not None and v > self.hi):
            raise bad
        return v


def _whole(raw: Any) -> int:
    v = float(raw)
    if not v.is_integer():
        raise ValueError(raw)
    return int(v)


def _fmt(v: Any) -> str:
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, float):
        return f"{v:.12g}"
    return str(v)


def defaults(fields: Sequence[Field]) -> dict[str, Any]:
    return {f.name: f.default for f in fields}


def state_from_query(fields: Sequence[Field], params: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """A page's state from the URL's query parameters: each field's value, its default where the
    URL has none; a value the field refuses keeps the default and adds a one-line message.
    Parameters the page does not know are ignored (a link from another page)."""
    state, errors = defaults(fields), []
    for f in fields:
        if f.name not in params:
            continue
        raw = params[f.name]
        if isinstance(raw, list):       # a parameter given twice: the last one counts
            raw = raw[-1] if raw else ""
        try:
            state[f.name] = f.parse(raw)
        except LlmhwError as exc:
            errors.append(f"link parameter {exc}")
    return state, errors


def state_to_query(fields: Sequence[Field], state: Mapping[str, Any]) -> dict[str, str]:
    """The query parameters of a state: the fields that differ from their defaults, as text, so a
    link holds only what the user changed."""
    return {f.name: _fmt(state[f.name]) for f in fields if f.name in state and state[f.name] != f.default}


# -- the catalogs the controls offer --------------------------------------------------------------

PRECISIONS = ("bf16", "fp16", "fp8", "int8", "fp4", "int4")
_HW = hardware_ids()
MODELS = tuple(model_ids())
HARDWARE = tuple(h for h, k in _HW.items() if k in ("chip", "system"))
NEAR_MEMORY = tuple(h for h, k in _HW.items() if k == "near_memory")
STACKS = tuple(h for h, k in _HW.items() if k == "stacking")
HBF = tuple(h for h, k in _HW.items() if k == "memory" and h.startswith("hbf"))
ENGINES = tuple(engine_names())
DATASETS = tuple(dataset_ids())
NONE = "none"
AS_IS = "as is"

# The scenario every page starts from: docs/architecture.md's worked example.
MODEL, HARDWARE_ID, TP = "llama-3.1-70b", "h100-sxm", 8


def scenario_fields(*, batch: bool = True, mapping: bool = True) -> list[Field]:
    """The controls of a scenario: model, hardware, mapping, precision, lengths, batch, engine."""
    out = [Field("model", "model", MODEL, MODELS), Field("hardware", "hardware (chip or system)", HARDWARE_ID,
                                                           HARDWARE)]
    if mapping:
        out += [Field("tp", "tensor parallel (tp)", TP, lo=1, hi=1024),
                Field("pp", "pipeline stages (pp)", 1, lo=1, hi=1024),
                Field("ep", "expert parallel (ep)", 1, lo=1, hi=1024),
                Field("dp", "data-parallel replicas (dp)", 1, lo=1, hi=1024)]
    else:
        out += [Field("n_chips", "chips", TP, lo=1, hi=1024)]
    out += [Field("weights", "weight precision", "fp8", PRECISIONS),
            Field("kv_cache", "KV-cache precision", "fp8", PRECISIONS),
            Field("input_tokens", "input tokens per request", 1024, lo=1, hi=1_000_000),
            Field("output_tokens", "output tokens per request", 1024, lo=1, hi=1_000_000)]
    if batch:
        out += [Field("batch", "requests in flight (batch)", 64, lo=1, hi=100_000)]
    return [*out, Field("engine", "serving engine", "default", ENGINES)]


def scenario_dict(state: Mapping[str, Any], model: str | None = None) -> dict[str, Any]:
    """The scenario mapping of a page's scenario fields (what a YAML file would hold); ``model``
    replaces the model id (an uploaded config.json's file name)."""
    d: dict[str, Any] = {"model": model or state["model"], "hardware": state["hardware"]}
    if "n_chips" in state:
        d["n_chips"] = int(state["n_chips"])
    if "tp" in state:
        # tp always (the mapping people set first); the other degrees only when not 1 (their default)
        d["parallelism"] = {k: int(state[k]) for k in ("tp", "pp", "ep", "dp") if k == "tp" or int(state[k]) != 1}
    d["precision"] = {"weights": state["weights"], "kv_cache": state["kv_cache"]}
    d["workload"] = {"input_tokens": int(state["input_tokens"]), "output_tokens": int(state["output_tokens"])}
    if "batch" in state:
        d["workload"]["batch"] = int(state["batch"])
    if state.get("engine", "default") != "default":
        d["engine"] = state["engine"]
    return d


def with_model(d: Mapping[str, Any], model: Any) -> dict[str, Any]:
    """The mapping with its model replaced by a loaded ``ModelSpec`` (an upload)."""
    return {**d, "model": model} if model is not None else dict(d)


def uploaded_model(name: str, data: bytes) -> Any:
    """A model from an uploaded Hugging Face config.json (its bytes): the same checks as a file
    given on the command line (size, UTF-8, strict JSON, the fields its architecture needs)."""
    label = (name or "config.json")[:120]
    if len(data) > CONFIG_MAX_BYTES:
        raise LlmhwError(f"{label} is {len(data):,} bytes", field="model",
                         accepted=f"a config.json of at most {CONFIG_MAX_BYTES:,} bytes")
    text = decode_utf8(data, name=label, field="model")
    raw = read_json(text, name=label, field="model")
    if not isinstance(raw, dict):
        raise LlmhwError("expected a JSON object (a Hugging Face config.json)", field=label)
    stem = label.rsplit(".", 1)[0] or "uploaded"
    return model_from_hf_config(raw, model_id=stem, source=label, where=label)


# -- exports ---------------------------------------------------------------------------------------

def quick_flags(d: Mapping[str, Any]) -> list[str] | None:
    """The command line's flags for a scenario mapping, or None when a field has no flag (an
    override, a placement, an arrival process: then the command reads the YAML)."""
    flags: list[str] = []
    seen = 0
    for name, path in FLAG_PATHS.items():
        node: Any = d
        for key in path:
            node = node.get(key) if isinstance(node, Mapping) else None
        if node is None:
            continue
        seen += 1
        if isinstance(node, Mapping | list):
            return None
        flags += [f"--{name.replace('_', '-')}", _fmt(node)]
    leaves = sum(len(v) if isinstance(v, Mapping) else 1 for v in d.values())
    return flags if seen == leaves else None


def to_yaml(d: Mapping[str, Any]) -> str:
    """A scenario mapping as a scenario file (SI units; what ``llmhw predict FILE`` reads)."""
    return yaml.safe_dump(_plain(d), sort_keys=False, default_flow_style=None)


def _plain(v: Any) -> Any:
    if isinstance(v, Mapping):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    if isinstance(v, np.generic):
        return v.item()
    return v


def command_line(command: str, d: Mapping[str, Any], extra: Sequence[str] = (), yaml_name: str = "scenario.yaml") -> str:
    """The ``llmhw`` command that answers what the page shows: the quick flags when they can
    say the whole scenario, else the exported YAML (saved as ``yaml_name``); ``extra`` follows."""
    flags = quick_flags(d)
    args = ["llmhw", command, *(flags if flags is not None else [yaml_name]), *extra]
    return shlex.join(args)


# -- predict ---------------------------------------------------------------------------------------

MS, US = 1e3, 1e6


def _num(v: Any, scale: float = 1.0) -> float | None:
    return None if v is None else float(v) * scale


def summary_rows(p: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The headline numbers of a prediction (``Prediction.to_dict()``), each with its unit."""
    co2 = p.get("co2e_g_per_mtok")
    return [
        {"metric": "time to first token (TTFT)", "value": _num(p["ttft_s"], MS), "unit": "ms"},
        {"metric": "time per output token (TPOT)", "value": _num(p["tpot_s"], MS), "unit": "ms"},
        {"metric": "output throughput", "value": _num(p["output_tok_s"]), "unit": "tokens/s"},
        {"metric": "output throughput per chip", "value": _num(p["output_tok_s_per_chip"]), "unit": "tokens/s/chip"},
        {"metric": "speed per user", "value": _num(p["tok_s_per_user"]), "unit": "tokens/s/user"},
        {"metric": "fits in memory", "value": "yes" if p["fits"] else "no", "unit": ""},
        {"metric": "largest batch that fits", "value": p["max_batch"], "unit": "requests"},
        {"metric": "energy per output token", "value": _num(p.get("energy_j_per_token")), "unit": "J/token"},
        {"metric": "cost per million output tokens", "value": _num(p.get("cost_usd_per_mtok")), "unit": "USD/Mtok"},
        {"metric": "CO2e per million output tokens",
         "value": _num(co2.get("total")) if isinstance(co2, Mapping) else _num(co2), "unit": "g/Mtok"},
    ]


_PARTS = ("compute_s", "memory_s", "comm_s", "overhead_s", "near_memory_s", "total_s")


def breakdown_rows(p: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One step of each phase, split into its parts (ms), and what bounds it."""
    rows = []
    for phase in ("prefill", "decode"):
        b = p["breakdown"][phase]
        rows.append({"phase": phase, **{f"{k[:-2]} (ms)": b[k] * MS for k in _PARTS}, "bound": b["bound"]})
    return rows


@dataclass
class Roofline:
    """A chip's roofline (peak FLOP/s for the step's datatype, the fastest tier's bandwidth) and
    the prefill and decode steps on it: FLOP per byte moved and FLOP/s achieved."""

    peak_flops: float
    bandwidth_bytes_per_s: float
    dtype: str
    points: list[dict[str, Any]]

    def line(self, lo: float = 0.1, hi: float = 1e5, n: int = 60) -> list[dict[str, float]]:
        xs = np.geomspace(lo, hi, n)
        return [{"flop_per_byte": float(x), "tflops": min(self.peak_flops, x * self.bandwidth_bytes_per_s) / 1e12}
                for x in xs]


def roofline(d: Mapping[str, Any], p: Mapping[str, Any]) -> Roofline:
    """The prediction's steps on the chip's roofline, per chip: the prefill of one prompt and a
    decode step of a replica's requests at the mean context."""
    s = Scenario.from_dict(dict(d)) if not isinstance(d, Scenario) else d
    dp = s.parallelism.dp
    requests = max(1, math.ceil(p["batch"] / dp))
    w = s.workload
    points, dtypes = [], {}
    for phase, n, length in (("prefill", 1, w.input_tokens), ("decode", requests, w.input_tokens + w.output_tokens // 2)):
        c = api.step_cost(s, phase, n, length)
        flops = sum(float(np.sum(v)) for v in c.flops.values())
        moved = sum(float(np.sum(b)) for b in (*c.tier_read_bytes, *c.tier_write_bytes))
        for k, v in c.flops.items():
            dtypes[k] = dtypes.get(k, 0.0) + float(np.sum(v))
        t = float(np.sum(c.total_s))
        points.append({"step": phase, "flop_per_byte": flops / moved if moved else None,
                       "tflops": flops / t / 1e12 if t else None, "bound": p["breakdown"][phase]["bound"]})
    peaks = s.chip.flops(s.compute_unit)
    dtype = max(dtypes, key=dtypes.get) if dtypes else s.precision.weights
    peak = peaks.get(dtype) or max(peaks.values())
    return Roofline(float(peak), float(s.chip.memory_bandwidth_bytes_per_s), dtype, points)


def predict(d: Mapping[str, Any]) -> dict[str, Any]:
    """``llmhw predict --json``'s object for a scenario mapping."""
    return api.predict(dict(d)).to_dict()


# -- what-if ----------------------------------------------------------------------------------------

AUTO, FAST = "auto", "fastest tier"
STACK = "3d-dram-hybrid-bond-gen2" if "3d-dram-hybrid-bond-gen2" in STACKS else NONE
PLACES = (AUTO, FAST, "hbf")


def whatif_fields() -> list[Field]:
    """The four directions: an HBF tier and where tensors go, near-memory compute, a 3D stack,
    the scale-up network's topology and hop latency; then one control swept."""
    return [*scenario_fields(),
            Field("hbf", "add a High Bandwidth Flash tier", False),
            Field("hbf_tech", "HBF preset", HBF[0] if HBF else "hbf", HBF or ("hbf",)),
            Field("hbf_gb", "HBF capacity per chip (GB; 0 = one device)", 0.0, lo=0, hi=1e6),
            Field("weights_on", "weights on", AUTO, PLACES),
            Field("kv_on", "KV cache on", AUTO, PLACES),
            Field("near", "near-memory compute (PIM/PNM)", NONE, (NONE, *NEAR_MEMORY)),
            # A direction on by default, so the page opens on a change to read (a 3D-stacked DRAM)
            Field("stack", "3D-stacked memory", STACK, (NONE, *STACKS)),
            Field("topology", "scale-up topology", AS_IS, (AS_IS, *TOPOLOGIES)),
            Field("hop_ns", "hop latency (ns; 0 = as is)", 0.0, lo=0, hi=1e7),
            Field("sweep", "sweep", "hop_latency", tuple(SWEEPS)),
            Field("sweep_lo", "from", 10.0, lo=0, hi=1e9),
            Field("sweep_hi", "to", 1000.0, lo=0, hi=1e9),
            Field("sweep_n", "points", 8, lo=2, hi=40)]


# control -> (path, label, unit shown, SI per unit shown, default from, default to)
SWEEPS: dict[str, tuple[str, str, str, float, float, float]] = {
    "hop_latency": ("interconnect.hop_latency_s", "hop latency", "ns", 1e-9, 10.0, 1000.0),
    "link_bandwidth": ("interconnect.link.bandwidth_bytes_per_s", "scale-up link bandwidth", "GB/s", 1e9, 25.0, 1800.0),
    "memory_bandwidth": ("chip.memory[0].bandwidth_bytes_per_s", "fastest tier's bandwidth", "TB/s", 1e12, 1.0, 20.0),
    "batch": ("workload.batch", "requests in flight", "requests", 1.0, 1.0, 512.0),
}


def whatif_dicts(state: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The baseline scenario and the variant: the baseline with the chosen directions as
    overrides (docs/whatif.md) and a placement when tensors are placed by hand."""
    base = scenario_dict(state)
    over: dict[str, Any] = {}
    placement: dict[str, str] = {}
    if state["hbf"]:   # appended after the chip's own tiers
        tiers = Scenario.from_dict(base).chip.memory
        gb = float(state["hbf_gb"])
        tier: Any = state["hbf_tech"] if gb <= 0 else {"tech": state["hbf_tech"],
                                                       "capacity_bytes": {"value": gb, "unit": "GB"}}
        over[f"chip.memory[{len(tiers)}]"] = tier
    if state["near"] != NONE:
        over["chip.near_memory"] = state["near"]
    if state["stack"] != NONE:
        over["chip.stacked"] = state["stack"]
    if state["topology"] != AS_IS:
        over["interconnect.topology"] = state["topology"]
    if state["hop_ns"] > 0:
        over["interconnect.hop_latency_s"] = float(state["hop_ns"]) / 1e9
    variant = dict(base)
    if over:
        variant["overrides"] = over
    if state["hbf"] and (state["weights_on"], state["kv_on"]) != (AUTO, AUTO):
        # The tier ids of the chip as changed: a 3D stack takes the place of the fastest tier.
        ids = {FAST: Scenario.from_dict(variant).chip.memory[0].id, "hbf": state["hbf_tech"]}
        for cls_, key in (("weights", "weights_on"), ("kv_cache", "kv_on")):
            if state[key] != AUTO:
                placement[cls_] = ids[state[key]]
    if placement:
        variant["placement"] = placement
    return base, variant


def sweep_values(state: Mapping[str, Any]) -> tuple[str, list[float], list[Any]]:
    """The swept path, its values as shown (the page's unit) and in SI (what the scenario takes):
    log-spaced from ``sweep_lo`` to ``sweep_hi``; whole numbers for a batch."""
    path, _, unit, si, _, _ = SWEEPS[state["sweep"]]
    lo, hi, n = float(state["sweep_lo"]), float(state["sweep_hi"]), int(state["sweep_n"])
    if not 0 < lo <= hi:
        raise LlmhwError(f"need 0 < from <= to, got {lo:g} and {hi:g}", field="sweep",
                         accepted=f"a range in {unit}")
    shown_vals = [float(v) for v in np.geomspace(lo, hi, n)]
    if path == "workload.batch":
        ints = sorted({max(1, round(v)) for v in shown_vals})
        return path, [float(v) for v in ints], ints
    # Six significant figures: the values the exported --vary spells out, so the command line
    # prices exactly the points the page shows.
    shown_vals = [float(f"{v:.6g}") for v in shown_vals]
    return path, shown_vals, [float(f"{v * si:.6g}") for v in shown_vals]


def compare_rows(names: Sequence[str], preds: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Headline numbers side by side: a row per metric, a column per design."""
    tables = [summary_rows(p) for p in preds]
    return [{"metric": f"{row['metric']} ({row['unit']})" if row["unit"] else row["metric"],
             **{n: t[i]["value"] for n, t in zip(names, tables, strict=True)}}
            for i, row in enumerate(tables[0])]


def swept_base(variant: Mapping[str, Any], state: Mapping[str, Any]) -> dict[str, Any]:
    """The variant without the override the sweep sets at each point: the same sweep, whatever
    the page's own value of the swept control (so moving that control need not sweep again)."""
    path = SWEEPS[state["sweep"]][0]
    over = {k: v for k, v in (variant.get("overrides") or {}).items() if k != path}
    out = {k: v for k, v in variant.items() if k != "overrides"}
    return {**out, "overrides": over} if over else out


def whatif_sweep(variant: Mapping[str, Any], state: Mapping[str, Any]) -> tuple[list[dict[str, Any]], str]:
    """The variant predicted at each swept value: rows for a table and a line plot, and the
    ``--vary`` argument that asks the command line for the same."""
    variant = swept_base(variant, state)
    path, shown_vals, si_vals = sweep_values(state)
    label, unit = SWEEPS[state["sweep"]][1:3]
    preds = api.whatif(dict(variant), path, si_vals)
    rows = []
    for x, p in zip(shown_vals, preds, strict=True):
        # the prediction's own fields, not its JSON: the economics are not plotted (a third faster)
        rows.append({f"{label} ({unit})": x, "TTFT (ms)": float(p.ttft_s) * MS, "TPOT (ms)": float(p.tpot_s) * MS,
                     "tokens/s/chip": float(p.output_tok_s_per_chip), "tokens/s/user": float(p.tok_s_per_user),
                     "fits": bool(p.fits), "decode bound": p.metrics.decode.time.bound()})
    vary = f"{path}={','.join(_fmt(v) for v in si_vals)}"
    return rows, vary


# -- search ----------------------------------------------------------------------------------------

OBJECTIVES = ("output_tok_s_per_chip", "tok_s_per_user", "output_tok_s", "min:cost_usd_per_mtok",
              "min:energy_j_per_token")


def search_fields() -> list[Field]:
    return [*scenario_fields(batch=False, mapping=False),
            Field("slo_ttft_s", "TTFT at most (s; 0 = no limit)", 2.0, lo=0, hi=1e4),
            Field("slo_tpot_ms", "TPOT at most (ms; 0 = no limit)", 50.0, lo=0, hi=1e6),
            Field("objective", "objective", OBJECTIVES[0], OBJECTIVES),
            Field("top", "configurations listed", 5, lo=1, hi=50)]


def search_request(state: Mapping[str, Any]) -> tuple[dict[str, Any], list[str], str, int]:
    """The scenario searched (its chips; mapping and batch are what the search chooses), the
    SLOs, the objective and how many of the best to list."""
    # The chips as plain replicas: a valid mapping to start from, which the search replaces.
    plain = {k: v for k, v in state.items() if k != "n_chips"}
    d = scenario_dict({**plain, "tp": 1, "pp": 1, "ep": 1, "dp": int(state["n_chips"])})
    slo = []
    if state["slo_ttft_s"] > 0:
        slo.append(f"ttft_s<={_fmt(float(state['slo_ttft_s']))}")
    if state["slo_tpot_ms"] > 0:
        slo.append(f"tpot_s<={_fmt(float(state['slo_tpot_ms']) / MS)}")
    return d, slo, state["objective"], int(state["top"])


def search_args(slo: Sequence[str], objective: str, top: int) -> list[str]:
    args = [x for s in slo for x in ("--slo", s)]
    return [*args, "--objective", objective, "--top", str(top)]


def mapping_label(par: Mapping[str, Any]) -> str:
    return " ".join(f"{k}{par[k]}" for k in ("tp", "pp", "ep", "dp"))


def search_rows(points: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Search points (the top list or the Pareto front) as table rows in the units shown."""
    return [{"mapping": mapping_label(p["parallelism"]), "batch": int(p["batch"]),
             "TTFT (ms)": p["ttft_s"] * MS, "TPOT (ms)": p["tpot_s"] * MS,
             "tokens/s/user": p["tok_s_per_user"], "tokens/s/chip": p["output_tok_s_per_chip"],
             "objective": p["objective"]} for p in points]


# -- serving ---------------------------------------------------------------------------------------

FIXED = "fixed lengths"
RATE_STEPS = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0)


def serving_fields() -> list[Field]:
    return [*scenario_fields(batch=False),
            Field("rate", "arrival rate (requests/s)", 10.0, lo=1e-3, hi=1e5),
            Field("arrival", "arrival process", "poisson", ("poisson", "gamma")),
            Field("cv", "burstiness (gamma CV)", 2.0, lo=0.05, hi=100),
            Field("dataset", "request lengths", FIXED, (FIXED, *DATASETS)),
            Field("chunk", "prompt-chunk token budget (0 = engine's)", 0, lo=0, hi=1_000_000),
            Field("requests", "requests simulated", 500, lo=10, hi=20_000),
            Field("seed", "seed", 0, lo=0, hi=2**31 - 1),
            Field("slo_ttft_s", "TTFT p99 at most (s; 0 = none)", 2.0, lo=0, hi=1e4),
            Field("slo_tpot_ms", "TPOT p99 at most (ms; 0 = none)", 50.0, lo=0, hi=1e6)]


@dataclass
class ServingRequest:
    scenario: dict[str, Any]
    rate: float | None         # Poisson arrivals given as --rate; None: the scenario's arrival block
    requests: int
    seed: int
    slo: list[str]

    def at_rate(self, rate: float) -> tuple[dict[str, Any], float | None]:
        """The scenario and rate argument of the same run at another rate."""
        if self.rate is not None:
            return self.scenario, rate
        w = self.scenario["workload"]
        return {**self.scenario, "workload": {**w, "arrival": {**w["arrival"], "rate_per_s": rate}}}, None

    def args(self) -> list[str]:
        rate = ["--rate", _fmt(self.rate)] if self.rate is not None else []
        return [*rate, "--requests", str(self.requests), "--seed", str(self.seed),
                *[x for s in self.slo for x in ("--slo", s)]]


def serving_request(state: Mapping[str, Any]) -> ServingRequest:
    """What the serving page simulates: Poisson arrivals as a rate (the command's ``--rate``),
    bursts as the scenario's gamma arrival block; a dataset's lengths; the token budget."""
    d = scenario_dict(state)
    w = d["workload"]
    rate: float | None = float(state["rate"])
    if state["arrival"] == "gamma":
        w["arrival"] = {"process": "gamma", "rate_per_s": rate, "cv": float(state["cv"])}
        rate = None
    if state["dataset"] != FIXED:
        w["lengths"] = {"dataset": state["dataset"]}
    if state["chunk"] > 0:
        w["prefill_chunk_tokens"] = int(state["chunk"])
    slo = []
    if state["slo_ttft_s"] > 0:
        slo.append(f"ttft_s.p99<={_fmt(float(state['slo_ttft_s']))}")
    if state["slo_tpot_ms"] > 0:
        slo.append(f"tpot_s.p99<={_fmt(float(state['slo_tpot_ms']) / MS)}")
    return ServingRequest(d, rate, int(state["requests"]), int(state["seed"]), slo)


def simulate(req: ServingRequest, rate: float | None = None) -> dict[str, Any]:
    """One open-loop run, as ``llmhw simulate ... --requests N --seed S`` runs it."""
    d, r = req.at_rate(rate) if rate is not None else (req.scenario, req.rate)
    return api.simulate(d, r, req.requests, req.seed, slo=req.slo)


def serving_rows(req: ServingRequest, base_rate: float) -> list[dict[str, Any]]:
    """The run at each of RATE_STEPS times the page's rate: percentiles, throughput, goodput."""
    rows = []
    for k in RATE_STEPS:
        r = simulate(req, base_rate * k)
        rows.append({"rate (requests/s)": base_rate * k, "TTFT p50 (ms)": r["ttft_s"]["p50"] * MS,
                     "TTFT p99 (ms)": r["ttft_s"]["p99"] * MS, "TPOT p50 (ms)": r["tpot_s"]["p50"] * MS,
                     "TPOT p99 (ms)": r["tpot_s"]["p99"] * MS, "tokens/s": r["output_tok_s"],
                     "goodput (requests/s)": r.get("goodput_req_s"), "saturated": bool(r["saturated"])})
    return rows


def percentile_rows(r: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{"metric": name, **{stat: r[key][stat] * MS for stat in ("mean", "p50", "p90", "p99")}}
            for key, name in (("ttft_s", "TTFT (ms)"), ("tpot_s", "TPOT (ms)"), ("e2e_s", "end to end (ms)"),
                              ("queue_s", "queueing (ms)"))]


# -- compare ---------------------------------------------------------------------------------------

DESIGNS = 4
_DESIGN_DEFAULTS = (("h100-sxm", 8, "fp8"), ("h200", 8, "fp8"), ("b200", 8, "fp4"), (NONE, 8, "fp8"))


def compare_fields() -> list[Field]:
    shared = [f for f in scenario_fields() if f.name in ("model", "kv_cache", "input_tokens", "output_tokens",
                                                          "batch", "engine")]
    per = []
    for i, (hw, tp, wt) in enumerate(_DESIGN_DEFAULTS, start=1):
        per += [Field(f"hw{i}", f"design {i}: hardware", hw, (NONE, *HARDWARE)),
                Field(f"tp{i}", f"design {i}: chips (tp)", tp, lo=1, hi=1024),
                Field(f"w{i}", f"design {i}: weights", wt, PRECISIONS)]
    return [*shared, *per]


def compare_dicts(state: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(label, scenario) per design in use (hardware not 'none'), up to four."""
    out = []
    for i in range(1, DESIGNS + 1):
        if state[f"hw{i}"] == NONE:
            continue
        s = {**state, "hardware": state[f"hw{i}"], "tp": state[f"tp{i}"], "pp": 1, "ep": 1, "dp": 1,
             "weights": state[f"w{i}"]}
        out.append((f"{i}: {state[f'hw{i}']} x{state[f'tp{i}']} {state[f'w{i}']}", scenario_dict(s)))
    if not out:
        raise LlmhwError("every design is 'none'", field="hw1", accepted="a chip or system for at least one design")
    return out


def front(d: Mapping[str, Any], points: int = 24) -> list[dict[str, Any]]:
    """The throughput-interactivity front: tokens/s per chip against tokens/s per user over
    batches from 1 to the largest that fits (log-spaced)."""
    most = max(1, int(api.predict({**d, "workload": {**d["workload"], "batch": "max"}}).batch))
    batches = np.unique(np.round(np.geomspace(1, most, min(points, most))).astype(int))
    m = api.sweep(dict(d), batch=batches)
    return [{"batch": int(b), "tokens/s/user": float(u), "tokens/s/chip": float(c)}
            for b, u, c, ok in zip(batches, m["tok_s_per_user"], m["output_tok_s_per_chip"], m["fits"], strict=True)
            if ok]


def to_jsonl(dicts: Sequence[Mapping[str, Any]]) -> str:
    """Scenarios one per line, as ``llmhw predict --batch FILE.jsonl`` reads them."""
    return "".join(json.dumps(_plain(d)) + "\n" for d in dicts)


# -- report ----------------------------------------------------------------------------------------


def report_fields(studies: Sequence[str]) -> list[Field]:
    return [Field("study", "study", "claims" if "claims" in studies else studies[0], tuple(studies))]
