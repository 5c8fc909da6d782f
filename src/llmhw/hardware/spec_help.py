"""A hardware spec explained to the person writing one: what each field means, its unit, where
vendors publish it and what llmhw does with it (the template ``llmhw hardware new --like ID``
writes), and what a spec says once read: derived figures and warnings (``llmhw hardware
PATH.yaml``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from llmhw.core.provenance import is_quantity
from llmhw.hardware.chip import Chip
from llmhw.hardware.system import System


@dataclass(frozen=True)
class FieldDoc:
    meaning: str
    where: str = ""          # where vendors publish it
    use: str = ""            # what llmhw does with it
    optional: bool = True


# One line each, for the template's comments (and docs/new-chip.md). Units are those the
# template writes; any unit of the same dimension is accepted (docs/catalog.md, "Units").
FIELD_DOCS: dict[str, FieldDoc] = {
    "id": FieldDoc("a short name for this spec (letters, digits, '-')", optional=False),
    "name": FieldDoc("display name"),
    "vendor": FieldDoc("maker"),
    "kind": FieldDoc("chip (one accelerator) or system (a chip x n_chips with its networks)"),
    "family": FieldDoc("the software family: which fitted calibration applies (nvidia-gpu, amd-gpu, apple-soc, "
                       "phone-soc) and which hardware physics defaults (catalog families.yaml); any other name "
                       "runs with the engine's defaults and every prediction says so", optional=False,
                       use="picks the calibration; `llmhw predict` prints which one applied and its error"),
    "year": FieldDoc("year of first shipment"),
    "peak_flops": FieldDoc("DENSE peak FLOP/s (integer OP/s) per datatype: halve a vendor's 'with sparsity' "
                           "figure", where="datasheet, 'Tensor Core' / 'matrix' rows",
                           use="GEMM and attention time = FLOPs / (peak x fitted efficiency)", optional=False),
    "matrix_tile_tokens": FieldDoc("smallest token count one matrix instruction computes (a GEMV pads to it)",
                                   where="ISA manuals (NVIDIA mma n=8, AMD MFMA 16)",
                                   use="the floor of small-batch GEMM efficiency; default: the family's"),
    "compute_units": FieldDoc("SoCs only: cpu / gpu / npu, each with its own peak_flops"),
    "default_compute_unit": FieldDoc("SoCs only: the unit a scenario runs on unless it names one"),
    "sram_bytes": FieldDoc("on-chip SRAM (L2 / scratchpad)", where="architecture whitepaper",
                           use="SRAM-only systems hold weights in it; otherwise informational"),
    "memory": FieldDoc("device memory tiers, fastest first; each starts from a catalog preset (tech:) and "
                       "overrides its capacity and bandwidth", optional=False,
                       use="capacity decides fit and batch; bandwidth x stream efficiency prices every read"),
    "tech": FieldDoc("the preset this tier starts from (llmhw hardware --kind memory lists them)"),
    "capacity_bytes": FieldDoc("capacity of this tier on one chip", where="datasheet 'GPU memory'", optional=False),
    "bandwidth_bytes_per_s": FieldDoc("peak bandwidth; for a link: per direction unless bandwidth_direction says "
                                      "bidirectional", where="datasheet 'memory bandwidth' / 'interconnect'",
                                      optional=False),
    "bandwidth_direction": FieldDoc("per_direction or bidirectional: how the link bandwidth above was quoted "
                                    "(vendors' per-chip totals are usually bidirectional); bidirectional is halved"),
    "near_memory": FieldDoc("PIM / PNM compute at one memory tier (a preset from llmhw hardware --kind near_memory)"),
    "stacked": FieldDoc("a 3D memory-on-logic stack (a preset from llmhw hardware --kind stacking)"),
    "tdp_w": FieldDoc("board power (TDP / TGP) in watts", where="datasheet 'max thermal design power'",
                      use="power, energy, cost and carbon per token; without it they are estimated or absent"),
    "price_usd": FieldDoc("price of one chip (or the whole system)", use="capex in cost per token; without it "
                          "llmhw.economics estimates one from the peak FLOP/s and says so"),
    "scale_up": FieldDoc("the chip-to-chip network (a catalog interconnect id, or a mapping: topology, link, "
                         "links_per_chip, domain_size)", use="prices tensor/expert-parallel collectives"),
    "scale_out": FieldDoc("the network between scale-up domains"),
    "topology": FieldDoc("switch, ring, torus_2d, torus_3d, full_mesh, point_to_point or dragonfly"),
    "link": FieldDoc("one physical port: a catalog link id or a mapping with bandwidth_bytes_per_s, latency_s"),
    "links_per_chip": FieldDoc("ports each chip drives into this network", optional=False),
    "domain_size": FieldDoc("chips this network joins"),
    "latency_s": FieldDoc("one-hop latency (a link) or access latency (a memory)", where="rarely published: "
                          "papers and microbenchmarks", use="latency-bound decode collectives, flash read-ahead"),
    "chip": FieldDoc("systems: the chip (a catalog id, or a chip mapping)", optional=False),
    "n_chips": FieldDoc("systems: chips in the system", optional=False),
    "host_memory": FieldDoc("systems: host DRAM tiers (offload)"),
    "note": FieldDoc("anything a reader should know"),
}

_QUANTITY_ORDER = ("value", "unit", "low", "high", "status", "source", "note")


def _flow(v: Any) -> str:
    """A value as one line of YAML (flow style)."""
    if is_quantity(v):
        v = {k: v[k] for k in _QUANTITY_ORDER if k in v}
    # Inside a one-item list, a scalar is written as YAML reads it back (no document end marker).
    return yaml.safe_dump([v], default_flow_style=True, width=10_000, sort_keys=False).strip()[1:-1]


def _comment(key: str, indent: str) -> list[str]:
    d = FIELD_DOCS.get(key)
    if d is None:
        return []
    bits = [d.meaning]
    if d.where:
        bits.append(f"published in: {d.where}")
    if d.use:
        bits.append(f"llmhw: {d.use}")
    bits.append("required" if not d.optional else "optional")
    return [f"{indent}# {key}: " + "; ".join(bits)]


def _emit(d: dict[str, Any], indent: str, out: list[str]) -> None:
    for k, v in d.items():
        out.extend(_comment(k, indent))
        if isinstance(v, dict) and not is_quantity(v) and not all(is_quantity(x) for x in v.values()):
            out.append(f"{indent}{k}:")
            _emit(v, indent + "  ", out)
        elif isinstance(v, dict) and v and all(is_quantity(x) for x in v.values()):
            out.append(f"{indent}{k}:")
            for sub, q in v.items():
                out.append(f"{indent}  {sub}: {_flow(q)}")
        elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            out.append(f"{indent}{k}:")
            for item in v:
                first = True
                for ik, iv in item.items():
                    out.extend(_comment(ik, indent + ("  " if first else "    ")))
                    lead = f"{indent}  - " if first else f"{indent}    "
                    out.append(f"{lead}{ik}: {_flow(iv)}")
                    first = False
        else:
            out.append(f"{indent}{k}: {_flow(v)}")


def template(raw: dict[str, Any], like: str) -> str:
    """A commented spec file from a catalog entry's raw mapping (source ids resolved to URLs)."""
    d = dict(raw)
    d["id"] = f"my-{like}"
    d["name"] = f"My chip (from {d.get('name') or like})" if d.get("kind", "chip") == "chip" else \
        f"My system (from {d.get('name') or like})"
    d.setdefault("kind", "chip")
    d = {"kind": d.pop("kind"), **d}
    head = [f"# A hardware spec for llmhw, started from the catalog's '{like}' (llmhw hardware new --like {like}).",
            "# Change what differs and keep each number's source: a URL or a document, and a status",
            "# (specified: a datasheet; measured; derived: arithmetic on published numbers, say which in",
            "# note; estimated). Units: any of the field's dimension (GB, GiB, TB/s, GiB/s, Gbps, TFLOPS, ...).",
            "# Check it with `llmhw hardware THIS.yaml`; use it with `llmhw predict --hardware THIS.yaml` or",
            "# `hardware: THIS.yaml` in a scenario. docs/new-chip.md walks through one.", ""]
    out: list[str] = []
    _emit(d, "", out)
    return "\n".join(head + out) + "\n"


# -- what a spec says once read ------------------------------------------------------------


@dataclass(frozen=True)
class Derived:
    name: str
    value: float
    unit: str
    how: str


def derived(hw: Chip | System) -> list[Derived]:
    """The figures a reader checks a spec by: totals, ridge points, network injection."""
    chip = hw.chip if isinstance(hw, System) else hw
    n = hw.n_chips if isinstance(hw, System) else 1
    out = [Derived("memory capacity per chip", chip.memory_capacity_bytes, "B", "sum of the tiers"),
           Derived("fastest tier bandwidth per chip", chip.memory_bandwidth_bytes_per_s, "B/s", "memory[0]")]
    bw = chip.memory_bandwidth_bytes_per_s
    for dtype, f in chip.flops().items():
        out.append(Derived(f"ridge point {dtype}", f / bw, "FLOP/B", f"peak {dtype} / memory[0] bandwidth"))
    if "bf16" in chip.flops():
        out.append(Derived("bytes per FLOP (bf16)", bw / chip.flops()["bf16"], "B/FLOP", "memory[0] bandwidth / "
                           "peak bf16"))
    if chip.tdp_w and "bf16" in chip.flops():
        out.append(Derived("bf16 FLOP/s per watt", chip.flops()["bf16"] / chip.tdp_w, "FLOP/s/W", "peak / TDP"))
    net = hw.scale_up_network if isinstance(hw, System) else chip.scale_up
    if net is not None:
        per_dir = net.bandwidth_per_chip
        out.append(Derived("scale-up injection per chip, per direction", per_dir, "B/s",
                           f"{net.links_per_chip} links x {net.link.bandwidth_bytes_per_s / 1e9:g} GB/s"))
        out.append(Derived("scale-up injection per chip, both directions", 2 * per_dir, "B/s",
                           "as vendors quote it"))
        if net.latency_per_hop:
            out.append(Derived("scale-up hop latency", net.latency_per_hop, "s", "link or network"))
    if n > 1:
        out.append(Derived("chips", n, "", "n_chips"))
        out.append(Derived("memory capacity, system", n * chip.memory_capacity_bytes, "B", "chips x per chip"))
        out.append(Derived("memory bandwidth, system", n * bw, "B/s", "chips x memory[0]"))
        if "bf16" in chip.flops():
            out.append(Derived("peak bf16, system", n * chip.flops()["bf16"], "FLOP/s", "chips x per chip"))
    return out


def _links_without_direction(raw: Any, where: str = "") -> list[str]:
    """Paths of link mappings in a user's spec that give a bandwidth without saying its direction."""
    found: list[str] = []
    if isinstance(raw, dict):
        if "bandwidth_bytes_per_s" in raw and ("link" in where.rsplit(".", 1)[-1] or "links_per_chip" in raw) \
                and "bandwidth_direction" not in raw:
            found.append(where or "link")
        for k, v in raw.items():
            found += _links_without_direction(v, f"{where}.{k}" if where else k)
    elif isinstance(raw, list):
        for i, v in enumerate(raw):
            found += _links_without_direction(v, f"{where}[{i}]")
    return found


def _estimated(obj: Any, prefix: str = "") -> list[str]:
    out = [f"{prefix}{k}" for k, p in getattr(obj, "provenance", {}).items() if p.status == "estimated"]
    for k in type(obj).model_fields if hasattr(type(obj), "model_fields") else ():
        v = getattr(obj, k)
        if hasattr(type(v), "model_fields"):
            out += _estimated(v, f"{prefix}{k}.")
        elif isinstance(v, tuple):
            for i, item in enumerate(v):
                if hasattr(type(item), "model_fields"):
                    out += _estimated(item, f"{prefix}{k}[{i}].")
    return out


def warnings(hw: Chip | System, raw: dict[str, Any] | None, known: list[Chip]) -> list[str]:
    """What a reader of this spec should check: estimated or missing numbers, link figures of
    unstated direction, numbers outside the range of every chip llmhw knows (a unit slip?)."""
    chip = hw.chip if isinstance(hw, System) else hw
    out: list[str] = []
    est = _estimated(hw)
    if est:
        out.append(f"{len(est)} estimated number(s): {', '.join(est[:8])}{', ...' if len(est) > 8 else ''}")
    if chip.tdp_w is None:
        out.append("no tdp_w: power, energy, cost and carbon per token cannot use the chip's own power")
    if chip.price_usd is None and not (isinstance(hw, System) and hw.price_usd):
        out.append("no price_usd: cost per token uses a price estimated from the peak FLOP/s (llmhw.economics)")
    net = hw.scale_up_network if isinstance(hw, System) else chip.scale_up
    if net is None and (isinstance(hw, System) and hw.n_chips > 1):
        out.append("no scale_up network: chips of this system cannot share a model (no collectives priced)")
    elif net is not None and net.latency_per_hop is None:
        out.append("the scale-up network gives no hop latency: decode collectives pay only their bandwidth time")
    if raw is not None:
        for path in _links_without_direction(raw):
            out.append(f"{path}: the link bandwidth does not say bandwidth_direction; read as per direction "
                       "(set bidirectional if the vendor's figure is a two-way total, as most are)")
    checks = (("peak bf16", lambda c: c.flops().get("bf16")), ("memory bandwidth", lambda c: c.memory_bandwidth_bytes_per_s),
              ("memory capacity", lambda c: c.memory_capacity_bytes), ("tdp_w", lambda c: c.tdp_w))
    for name, get in checks:
        mine = get(chip)
        vals = [v for v in (get(c) for c in known) if v]
        if mine and vals and not (min(vals) / 3 <= mine <= max(vals) * 3):
            out.append(f"{name} {mine:.3g} is outside 1/3-3x of the catalog's chips ({min(vals):.3g} to "
                       f"{max(vals):.3g}, SI units): check its unit")
    return out
