"""The terminal tables of the ``llmhw`` command line (its ``--json`` output is :mod:`llmhw.cli`'s).

Each function prints one command's result to the console; none computes anything.

Names a user wrote (a model's config.json folder, a hardware YAML's id and name, a memory tier,
a scenario path, a --vary path, an SLO) may hold square brackets, which rich reads as markup:
"Accel [v2]" would lose "[v2]" and "[/b]" would raise. So every table cell goes through ``_row``
(plain text unless it is a ``Text`` we styled) and every user piece of a title or a printed line
through ``esc``.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import numpy as np
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

# Piped output gets a fixed, roomy width instead of rich's 80-column fallback, unless COLUMNS
# says how wide (the shell's own convention). No emoji codes: a name like "x:smile:y" is printed
# as written.
_PIPED = None if "COLUMNS" in os.environ else 150
out = Console(width=None if sys.stdout.isatty() else _PIPED, emoji=False)
err = Console(stderr=True, width=None if sys.stderr.isatty() else _PIPED, emoji=False)

# Cells we colour ourselves (everything else in a row is plain text).
NO = Text("no", style="red")
FAILED = Text("failed", style="red")


def esc(v: Any) -> str:
    """``v`` as text rich prints literally inside markup (its square brackets escaped)."""
    return escape(str(v))


def _row(t: Table, *cells: Any) -> None:
    """Add a row whose cells are plain text, never markup; a ``Text`` cell keeps its own style."""
    t.add_row(*(c if isinstance(c, Text) else Text(str(c)) for c in cells))


def g3(x: float) -> str:
    """Three significant digits as people write them: 0.913, 12.4, 1,060 (never 1.06e+03)."""
    a = abs(x)
    if a >= 100:
        return f"{x:,.0f}"
    return f"{x:.3g}" if a >= 1e-3 or a == 0 else f"{x:.2e}"


def si(x: float | None, unit: str, scale: float, digits: int = 1) -> str:
    """``x`` in ``unit`` (``x / scale``), thousands separated; ``-`` when missing."""
    return "-" if x is None else f"{x / scale:,.{digits}f} {unit}"


# How a value of each unit (core.units.RANGES, from the field's name) reads: the unit steps,
# largest first, each with the factor from SI. Capacities and bandwidths in decimal steps, as
# vendors quote them.
_READABLE: dict[str, tuple[tuple[str, float], ...]] = {
    "B": (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("KB", 1e3), ("B", 1.0)),
    "B/s": (("TB/s", 1e12), ("GB/s", 1e9), ("MB/s", 1e6), ("KB/s", 1e3), ("B/s", 1.0)),
    "FLOP/s": (("PFLOP/s", 1e15), ("TFLOP/s", 1e12), ("GFLOP/s", 1e9), ("FLOP/s", 1.0)),
    "s": (("s", 1.0), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9), ("ps", 1e-12)),
    "W": (("kW", 1e3), ("W", 1.0), ("mW", 1e-3)),
    "J/bit": (("pJ/bit", 1e-12),), "USD": (("USD", 1.0),), "USD/byte": (("USD/GB", 1e-9),),
    "m2": (("mm2", 1e-6),), "m": (("um", 1e-6),),
}


def readable(x: float, unit: str | None) -> str:
    """A number as people read it: in the largest step of its unit it is at least 1 of
    (``989.4 TFLOP/s``, ``3.35 TB/s``, ``50 MB``), four significant digits; as is without one."""
    steps = _READABLE.get(unit or "")
    if unit == "USD" and abs(x) >= 100:
        return f"{x:,.0f} USD"
    if not steps or x == 0:
        return f"{x:.4g}" + (f" {unit}" if unit and unit not in ("x", "chips", "links", "dies", "cycles",
                                                                    "tokens", "calendar year") else "")
    name, f = next(((n, f) for n, f in steps if abs(x) >= f), steps[-1])
    return f"{x / f:.4g} {name}"


def _fitted_table(title: str, columns: list[tuple[str, str, int]], cells: list[list[str]]) -> Table:
    """A table that fits the terminal with its first column (the id a user copies) whole:
    ``columns`` are (header, justify, priority); while the natural width is wider than the
    console, the lowest-priority column is dropped; a column left too wide wraps, the id never."""
    keep = list(range(len(columns)))

    def natural(i: int) -> int:
        return max([len(columns[i][0]), *(len(r[i].plain if isinstance(r[i], Text) else str(r[i]))
                                          for r in cells)]) + 3     # padding and rule

    while len(keep) > 1 and sum(natural(i) for i in keep) + 1 > out.width:
        keep.remove(min(keep[1:], key=lambda i: columns[i][2]))
    t = Table(title=title)
    for n, i in enumerate(keep):
        header, justify, _ = columns[i]
        if n == 0:
            t.add_column(header, justify=justify, no_wrap=True, min_width=natural(i) - 3)
        else:
            t.add_column(header, justify=justify, overflow="fold")
    for r in cells:
        _row(t, *(r[i] for i in keep))
    return t


def print_models(rows: list[dict[str, Any]]) -> None:
    """``llmhw models``: one row per catalog model (narrow terminals drop the least-read columns)."""
    cols = [("id", "left", 9), ("type", "left", 2), ("attention", "left", 3), ("layers", "right", 1),
            ("total params", "right", 6), ("active params", "right", 5), ("KV / token (bf16)", "right", 4),
            ("max context", "right", 7)]
    cells = [[r["id"], r["model_type"], r["attention"] + (" + MoE" if r["moe"] else ""), str(r["layers"]),
              si(r["total_params"], "B", 1e9, 2), si(r["active_params"], "B", 1e9, 2),
              si(r["kv_cache_bytes_per_token"], "KB", 1e3), f"{r['max_context']:,}"] for r in rows]
    out.print(_fitted_table("llmhw model catalog", cols, cells))


def print_hardware(rows: list[dict[str, Any]]) -> None:
    """``llmhw hardware``: chips in one table, every other catalog entry in another."""
    cols = [("id", "left", 9), ("name", "left", 1), ("family", "left", 2), ("bf16 dense", "right", 6),
            ("memory", "right", 5), ("bandwidth", "right", 7), ("TDP", "right", 3)]
    cells = [[r["id"], r["name"], r["family"], si(r["bf16_flops"], "TFLOP/s", 1e12, 0),
              si(r["memory_bytes"], "GB", 1e9, 0), si(r["memory_bytes_per_s"], "GB/s", 1e9, 0),
              si(r["tdp_w"], "W", 1, 0)] for r in rows if r["kind"] == "chip"]
    if cells:
        out.print(_fitted_table("llmhw chips", cols, cells))
    t = Table(title="systems, memories, near-memory compute, 3D stacks, interconnects")
    ids = [r["id"] for r in rows if r["kind"] != "chip"]
    t.add_column("id", no_wrap=True, min_width=max((len(i) for i in ids), default=2))
    for col in ("kind", "name", "detail"):
        t.add_column(col, overflow="fold")
    for r in rows:
        if r["kind"] == "system":
            _row(t, r["id"], "system", r["name"], f"{r['n_chips']} x {r['chip']}")
        elif r["kind"] == "memory":
            _row(t, r["id"], "memory", r["name"],
                    f"{si(r['capacity_bytes'], 'GB', 1e9, 0)}, {si(r['bandwidth_bytes_per_s'], 'GB/s', 1e9, 0)}")
        elif r["kind"] == "near_memory":
            _row(t, r["id"], "near memory", r["name"],
                    f"{r['placement'].upper()}, {r['internal_bandwidth_multiplier']:g}x internal bandwidth, "
                    f"shards of {si(r['shard_bytes'], 'MB', 1e6, 0)}")
        elif r["kind"] == "stacking":
            _row(t, r["id"], "3D stack", r["name"],
                    f"{si(r['capacity_bytes'], 'GB', 1e9, 1)}, {si(r['bandwidth_bytes_per_s'], 'GB/s', 1e9, 0)}")
        elif r["kind"] in ("interconnect", "link"):
            detail = si(r["bandwidth_bytes_per_s"], "GB/s per direction", 1e9, 0)
            if r["kind"] == "interconnect":
                detail = f"{r['topology']}, {r['domain_size']} chips, " + detail
            _row(t, r["id"], r["kind"], r["name"], detail)
    out.print(t)


def print_entry(e: Any) -> None:
    """``llmhw hardware NAME``: every field of one entry with its status and sources."""
    from llmhw.core.provenance import field_unit

    t = Table(title=f"{esc(getattr(e, 'name', '') or e.id)} ({esc(e.kind)})")
    for col in ("field", "value", "status", "source"):
        t.add_column(col, overflow="fold")

    def walk(obj: Any, prefix: str) -> None:
        prov = getattr(obj, "provenance", {})
        for k in type(obj).model_fields:
            if k == "provenance":
                continue
            v = getattr(obj, k)
            path = f"{prefix}{k}"
            if hasattr(type(v), "model_fields"):
                walk(v, path + ".")
            elif isinstance(v, tuple) and v and hasattr(type(v[0]), "model_fields"):
                for i, item in enumerate(v):
                    walk(item, f"{path}[{i}].")
            elif isinstance(v, dict) and v and all(isinstance(x, int | float) for x in v.values()):
                for sub, x in v.items():
                    p = prov.get(f"{k}.{sub}")
                    _row(t, f"{path}.{sub}", readable(x, field_unit(k)), p.status if p else "",
                         "\n".join(p.sources) if p else "")
            elif isinstance(v, dict) and v:
                for sub, x in v.items():
                    walk(x, f"{path}.{sub}.")
            elif v is not None and v != "" and v != ():
                p = prov.get(k)
                unit = field_unit(k)
                shown = readable(v, unit) if isinstance(v, int | float) and not isinstance(v, bool) and unit \
                    and k != "year" else f"{v:.4g}" if isinstance(v, float) else str(v)
                _row(t, path, shown, p.status if p else "", "\n".join(p.sources) if p else "")

    walk(e, "")
    out.print(t)


def print_inspection(ins: Any) -> None:
    """``llmhw hardware ID|PATH`` for a chip or system: its entry, derived figures, warnings and
    the calibration its predictions use."""
    print_entry(ins.entry)
    t = Table(title="derived (a kernel below a ridge point's FLOP/B is memory-bound)")
    for col, just in (("figure", "left"), ("value", "right"), ("how", "left")):
        t.add_column(col, justify=just, overflow="fold")
    for d in ins.derived:
        if d.unit == "FLOP/s/W":
            shown = f"{g3(d.value / 1e12)} TFLOP/s per W"
        elif d.unit in ("", "FLOP/B", "B/FLOP"):
            shown = f"{g3(d.value)} {d.unit}".strip()
        else:
            shown = readable(d.value, d.unit)
        _row(t, d.name, shown, d.how)
    out.print(t)
    for w in ins.warnings:
        out.print(Text(f"warning: {w}", style="yellow"))
    out.print(Text(f"calibration: {ins.calibration.text}", style="dim"))


def print_model(s: dict[str, Any]) -> None:
    """``llmhw show``: a model's derived figures."""
    t = Table(title=f"{esc(s['name'])} ({esc(s['model_type'])})", show_header=False)
    t.add_column("figure")
    t.add_column("value", justify="right")
    _row(t, "layers", str(s["layers"]))
    _row(t, "hidden size", f"{s['hidden_size']:,}")
    _row(t, "attention", f"{s['attention']}: {s['n_heads']} heads, {s['n_kv_heads']} KV heads, head dim {s['head_dim']}")
    if s["moe"]:
        _row(t, "experts", f"{s['n_routed_experts']} routed, {s['experts_per_token']} per token, "
                           f"{s['n_shared_experts']} shared; {s['dense_layers']} dense + {s['moe_layers']} MoE layers")
    if s["sliding_layers"]:
        _row(t, "sliding window", f"{s['sliding_layers']} of {s['layers']} layers, window {s['sliding_window']:,}")
    _row(t, "total parameters", si(s["total_params"], "B", 1e9, 2))
    _row(t, "active parameters / token", si(s["active_params"], "B", 1e9, 2) + "  (without input embedding)")
    for p, b in s["weight_bytes"].items():
        _row(t, f"weights at {p}", si(b, "GB", 1e9, 1))
    _row(t, "KV cache / token (bf16)", si(s["kv_cache_bytes_per_token"], "KB", 1e3, 1))
    _row(t, f"KV cache at {s['max_context']:,} tokens (bf16)", si(s["kv_cache_bytes_at_max_context"], "GB", 1e9, 2))
    _row(t, "FLOPs / token (no context)", si(s["flops_per_token"], "GFLOP", 1e9, 1))
    out.print(t)


def _moe_dp(par: Any) -> str:
    """A mark for MoE replicas that each hold all experts (parallelism.moe_dp: replicated)."""
    v = par.get("moe_dp") if isinstance(par, dict) else getattr(par, "moe_dp", None)
    return " (experts replicated per dp replica)" if v == "replicated" else ""


def print_fit(s: Any, d: dict[str, Any]) -> None:
    """``llmhw fit``: memory per chip against the usable capacity, the verdict and advice."""
    p = s.parallelism
    out.print(f"[bold]{esc(s.model.name)}[/bold] on {s.n_chips} x {esc(s.chip.label)}: tp={p.tp} pp={p.pp} "
              f"ep={p.ep} dp={p.dp}{_moe_dp(p)}, batch {d['batch']}, context {d['peak_context']:,} tokens",
              highlight=False)
    t = Table()
    t.add_column("per chip")
    t.add_column("bytes", justify="right")
    t.add_column("share of usable", justify="right")
    for label, key in (("weights", "weights_bytes"), ("KV cache", "kv_cache_bytes"),
                       ("activations", "activation_bytes"), ("total", "total_bytes")):
        _row(t, label, si(d[key], "GB", 1e9, 2), f"{d[key] / d['usable_bytes']:.1%}")
    _row(t, "usable", si(d["usable_bytes"], "GB", 1e9, 2), f"{s.memory_utilization:.0%} of {si(d['capacity_bytes'], 'GB', 1e9, 0)}")
    out.print(t)
    verdict = "[green]fits[/green]" if d["fits"] else "[red]does not fit[/red]"
    out.print(f"{verdict}; largest batch that fits: {d['max_batch']}")
    for n in d["notes"]:
        out.print(f"note: {n}", markup=False)
    for a in d["advice"]:
        out.print(f"- {a}", markup=False)


def print_prediction(d: dict[str, Any]) -> None:
    """``llmhw predict``: the metrics, where a step's time goes and, with several tiers, each tier."""
    p = d["parallelism"]
    label = esc(d["chip"]) + (" (what-if)" if d.get("overrides") else "")
    out.print(f"[bold]{esc(d['model'])}[/bold] on {d['n_chips']} x {label} ({esc(d['engine'])} engine): "
              f"tp={p['tp']} pp={p['pp']} ep={p['ep']} dp={p['dp']}{_moe_dp(p)}, batch {d['batch']}, "
              f"{d['input_tokens']:,} in / {d['output_tokens']:,} out", highlight=False)
    # What makes the figures below hypothetical comes first, not under three tables.
    warnings = [n for n in d["notes"] if _is_warning(n)]
    for n in warnings:
        out.print(Text(f"warning: {n}", style="bold red"))
    t = Table()
    t.add_column("metric")
    t.add_column("value", justify="right")
    _row(t, "time to first token", si(d["ttft_s"], "ms", 1e-3, 1))
    _row(t, "time per output token", si(d["tpot_s"], "ms", 1e-3, 2))
    _row(t, "end to end", si(d["e2e_s"], "s", 1, 2))
    _row(t, "output tokens/s (system)", f"{d['output_tok_s']:,.0f}")
    _row(t, "output tokens/s per chip", f"{d['output_tok_s_per_chip']:,.1f}")
    _row(t, "tokens/s per user", f"{d['tok_s_per_user']:,.1f}")
    mem = d["memory"]
    if d.get("energy_j_per_token") is not None:
        _row(t, "energy per output token", f"{g3(d['energy_j_per_token'])} J")
        _row(t, "power per chip", f"{d['power_w_per_chip']:,.0f} W" + (" (capped at TDP)" if d.get("power_capped") else ""))
    if d.get("cost_usd_per_mtok") is not None:
        _row(t, "cost per million output tokens", f"${g3(d['cost_usd_per_mtok'])}")
    if d.get("tokens_per_mw") is not None:
        _row(t, "tokens/s per provisioned MW", f"{d['tokens_per_mw']:,.0f}")
    co2 = d.get("co2e_g_per_mtok")
    if isinstance(co2, dict) and co2.get("total") is not None:
        _row(t, "gCO2e per million output tokens", f"{g3(co2['total'])} ({g3(co2['operational'])} operational + "
                f"{g3(co2['embodied'])} embodied)")
    used = Text(f"{mem['total_bytes'] / 1e9:,.1f} of {mem['usable_bytes'] / 1e9:,.1f} GB usable")
    if not d["fits"]:
        used.append("  (does not fit)", style="red")
    _row(t, "memory per chip", used)
    out.print(t)
    b = Table(title="where a step's time goes")
    for col in ("phase", "compute-bound", "memory-bound", "communication", "overhead", "total", "bound"):
        b.add_column(col, justify="left" if col in ("phase", "bound") else "right")
    for ph, v in d["breakdown"].items():
        _row(b, ph, *(si(v[k], "ms", 1e-3, 2) for k in ("compute_s", "memory_s", "comm_s", "overhead_s",
                                                           "total_s")), v["bound"])
    out.print(b)
    if len(d.get("memory_tiers", [])) > 1:
        mt = Table(title="memory tiers (per chip)")
        for col in ("tier", "holds", "used / capacity", "decode s/step", "read GB/s", "write GB/s", "lifetime"):
            mt.add_column(col, justify="left" if col in ("tier", "holds") else "right")
        for t in d["memory_tiers"]:
            life = "unlimited" if t["lifetime_days"] is None else f"{t['lifetime_days']:,.0f} days"
            _row(mt, t["name"], ", ".join(t["holds"]) or "-",
                     f"{t['used_bytes'] / 1e9:,.1f} / {t['capacity_bytes'] / 1e9:,.0f} GB",
                     si(t["time_s"], "ms", 1e-3, 2), f"{t['read_bytes_per_s'] / 1e9:,.1f}",
                     f"{t['write_bytes_per_s'] / 1e9:,.3f}", life)
        out.print(mt)
    for n in d["notes"]:
        if n not in warnings:
            out.print(f"note: {n}", markup=False)
    if d.get("calibration"):
        out.print(Text(f"calibration: {d['calibration']['text']}", style="dim"))


def _is_warning(note: str) -> bool:
    """A note that says the prediction describes a deployment that cannot run as given."""
    return note.startswith("does not fit") or note.startswith("batch 'max': not one request fits")


def _shown(v: Any) -> str:
    if isinstance(v, list):
        return "+".join(_shown(x) for x in v)
    if isinstance(v, dict) and "value" in v:                # a quantity typed as '9.6 TB/s'
        return f"{v['value']:g} {v.get('unit') or ''}".strip()
    return f"{v:g}" if isinstance(v, float) else str(v)


def print_whatif(base: Any, path: str, rows: list[dict[str, Any]]) -> None:
    """``llmhw whatif``: one row per value of the varied path."""
    out.print(f"[bold]{esc(base.model.name)}[/bold] on {base.n_chips} x {esc(base.chip.label)} "
              f"({esc(base.engine)} engine), batch {base.workload.batch}, {base.workload.input_tokens:,} in / "
              f"{base.workload.output_tokens:,} out: varying {esc(path)}", highlight=False)
    cols = [(path, "left", 10), ("TTFT", "right", 8), ("TPOT", "right", 9), ("tok/s per chip", "right", 7),
            ("tok/s per user", "right", 5), ("J/token", "right", 4), ("USD/Mtok", "right", 6), ("fits", "left", 3),
            ("decode bound", "left", 2)]
    cells = []
    for d in rows:
        energy, cost = d.get("energy_j_per_token"), d.get("cost_usd_per_mtok")
        cells.append(["baseline" if d.get("baseline") else _shown(d["varied"]["value"]),
                      si(d["ttft_s"], "ms", 1e-3, 1), si(d["tpot_s"], "ms", 1e-3, 2),
                      f"{d['output_tok_s_per_chip']:,.1f}", f"{d['tok_s_per_user']:,.1f}",
                      "-" if energy is None else g3(energy), "-" if cost is None else g3(cost),
                      "yes" if d["fits"] else NO, d["breakdown"]["decode"]["bound"]])
    out.print(_fitted_table("", cols, cells))
    # Each note once, with the values it holds for (an estimated price, a prompt past the context).
    seen: dict[str, list[str]] = {}
    for d in rows:
        for n in d["notes"]:
            seen.setdefault(n, []).append("baseline" if d.get("baseline") else _shown(d["varied"]["value"]))
    for n, where in seen.items():
        tag = "" if len(where) == len(rows) else f" ({', '.join(where)})"
        out.print(f"note{tag}: {n}", markup=False, highlight=False)


def _config(p: dict[str, Any]) -> str:
    def mapping(par: dict[str, Any]) -> str:
        return f"tp{par['tp']} pp{par['pp']} ep{par['ep']} dp{par['dp']}" + \
            (" moe_dp replicated" if par.get("moe_dp") == "replicated" else "")
    if "pools" in p:
        pools = p["pools"]
        text = (f"prefill {pools['prefill']['n_chips']} ({mapping(pools['prefill']['parallelism'])}) + decode "
                f"{pools['decode']['n_chips']} ({mapping(pools['decode']['parallelism'])}), batch {p['batch']}")
    else:
        text = f"{mapping(p['parallelism'])}, batch {p['batch']}"
    return text + "".join(f", {k}={_shown(v)}" for k, v in (p.get("varied") or {}).items())


def print_search(base: Any, res: Any) -> None:
    """``llmhw search``: the best configuration, the runners-up, the Pareto front, what was rejected."""
    out.print(f"[bold]{esc(base.model.name)}[/bold] on {base.n_chips} x {esc(base.chip.label)} "
              f"({esc(base.engine)} engine), {base.workload.input_tokens:,} in / {base.workload.output_tokens:,} out: "
              f"{esc(res.objective)}"
              + (f" subject to {esc(', '.join(str(c) for c in res.constraints))}" if res.constraints else ""),
              highlight=False)
    rej = ", ".join(f"{k}: {v:,}" for k, v in res.rejected.items() if v)
    out.print(f"{res.evaluated:,} configurations priced" + (f"; rejected by {rej}" if rej else ""), highlight=False,
              markup=False)
    for n in res.notes:
        out.print(f"note: {n}", highlight=False, markup=False)
    if res.best is None:
        out.print("[red]no configuration meets the constraints[/red]" + (
            f"; the closest: {esc(_config(res.closest))} (TPOT {res.closest['tpot_s'] * 1e3:.1f} ms, TTFT "
            f"{res.closest['ttft_s'] * 1e3:.0f} ms)" if res.closest else ""), highlight=False)
        return
    t = Table(title="best configurations")
    for col in ("configuration", "objective", "TTFT", "TPOT", "tok/s per chip", "tok/s per user"):
        t.add_column(col, justify="left" if col == "configuration" else "right")
    for p in res.top:
        _row(t, _config(p), f"{p['objective']:,.4g}", si(p["ttft_s"], "ms", 1e-3, 0), si(p["tpot_s"], "ms", 1e-3, 1),
                f"{p['output_tok_s_per_chip']:,.1f}", f"{p['tok_s_per_user']:,.1f}")
    out.print(t)
    front = res.pareto
    shown = front if len(front) <= 12 else [front[i] for i in np.unique(np.linspace(0, len(front) - 1, 12).astype(int))]
    f = Table(title=f"Pareto front: {esc(res.objective.key)} against tok/s per user ({len(front)} points, {len(shown)} shown)")
    for col in ("configuration", "objective", "tok/s per user"):
        f.add_column(col, justify="left" if col == "configuration" else "right")
    for p in shown:
        _row(f, _config(p), f"{p['objective']:,.4g}", f"{p['tok_s_per_user']:,.1f}")
    out.print(f)


def print_disaggregated(d: dict[str, Any]) -> None:
    """``llmhw predict`` of a disaggregated scenario: the headline metrics and each pool."""
    pools = d["pools"]
    desc = "; ".join(f"{k}: {p['n_chips']} x {p['hardware']} "
                     f"(tp{p['parallelism']['tp']} pp{p['parallelism']['pp']} dp{p['parallelism']['dp']})"
                     for k, p in pools.items())
    out.print(f"[bold]{esc(d['model'])}[/bold], disaggregated: {esc(desc)}; batch {d['batch']:.0f}", highlight=False)
    t = Table()
    for col in ("TTFT", "TPOT", "tok/s", "tok/s per chip", "tok/s per user", "KV transfer", "limiting pool", "fits"):
        t.add_column(col, justify="right")
    b = d["breakdown"]
    _row(t, si(d["ttft_s"], "ms", 1e-3, 0), si(d["tpot_s"], "ms", 1e-3, 1), f"{d['output_tok_s']:,.0f}",
            f"{d['output_tok_s_per_chip']:,.1f}", f"{d['tok_s_per_user']:,.1f}", si(b["kv_transfer_s"], "ms", 1e-3, 2),
            d["limiting_pool"], "yes" if d["fits"] else NO)
    out.print(t)


def print_simulation(d: dict[str, Any]) -> None:
    """``llmhw simulate``: percentiles per latency, throughput and saturation."""
    if d.get("tried"):
        par = d["parallelism"]
        out.print(f"fewest chips: {d['n_chips']} (tp {par['tp']}, pp {par['pp']}, ep {par['ep']}, dp {par['dp']}{_moe_dp(par)}) "
                  f"serve {d['rate_per_s']:g} requests/s within {', '.join(d['slo'])}; "
                  f"{len(d['tried'])} mappings simulated", highlight=False, markup=False)
    out.print(f"{d['completed']:,} of {d['requests']:,} requests at {d['rate_per_s']:g}/s: "
              f"{d['output_tok_s']:,.0f} output tok/s ({d['output_tok_s_per_chip']:,.1f} per chip), "
              f"{d['mean_in_flight']:,.1f} in flight on average"
              + (" - [red]saturated: arrivals exceed what the system serves[/red]" if d["saturated"] else ""),
              highlight=False)
    if d.get("slo"):
        out.print(f"goodput: {d['goodput_req_s']:,.2f} requests/s ({100 * d['good_share']:.1f}% of those finished) "
                  f"within {esc(', '.join(d['slo']))}; the run's percentiles "
                  + ("meet them" if d["slo_met"] else "[red]do not meet them[/red]"), highlight=False)
    if d.get("prefill_pool"):
        for name in ("prefill", "decode"):
            p = d[f"{name}_pool"]
            out.print(f"{name} pool ({d[f'{name}_chips']} chips): {p['mean_in_flight']:,.1f} in flight, "
                      f"queue p99 {1e3 * p['queue_s']['p99']:,.1f} ms"
                      + (" - [red]saturated[/red]" if p["saturated"] else ""), highlight=False)
        out.print(f"KV transfer: {1e3 * d['kv_transfer_s']:,.2f} ms a request on average "
                  f"({d['kv_bytes_per_request'] / 1e6:,.0f} MB)", highlight=False)
    if d.get("cost_usd_per_mtok") is not None:
        out.print(f"at its mean of {d['economics_batch']} requests in flight: "
                  f"{g3(d['energy_j_per_token'])} J/token, {g3(d['cost_usd_per_mtok'])} USD per million output tokens, "
                  f"{g3(d['co2e_g_per_mtok']['total'])} g CO2e per million", highlight=False)
    t = Table()
    for col in ("", "mean", "p50", "p90", "p99"):
        t.add_column(col, justify="left" if not col else "right")
    for k, label in (("ttft_s", "TTFT"), ("tpot_s", "TPOT"), ("e2e_s", "end to end"), ("queue_s", "queue")):
        v = d[k]
        _row(t, label, *(si(v[q], "ms", 1e-3, 1) for q in ("mean", "p50", "p90", "p99")))
    out.print(t)


def _error_table(title: str, summary: dict[tuple[str, str], dict[str, float]]) -> Table:
    """Median and worst error per (family, metric), the 'all' rows last."""
    t = Table(title=title)
    for col in ("family", "metric", "n", "median", "worst (row)"):
        t.add_column(col, justify="right" if col in ("n", "median", "worst (row)") else "left")
    for (f, m), v in sorted(summary.items(), key=lambda kv: (kv[0][0] == "all", kv[0])):
        _row(t, f, m, str(v["n"]), f"{100 * v['median']:.1f}%", f"{100 * v['worst']:.0f}% ({v['worst_row']})")
    return t


def print_validation(res: Any) -> None:
    """``llmhw validate``: the error per family and metric."""
    out.print(_error_table("absolute percentage error, in-sample", res.summary))
    if res.open_loop:
        from llmhw.validation.calibrate import summarize

        out.print(_error_table("open-loop rows (llmhw simulate), as fitted", summarize(res.open_loop)))
    out.print(f"{len(res.rows)} points predicted, {len(res.open_loop)} simulated, {len(res.skipped)} rows not mapped")


def print_study(names: list[str], res: Any) -> None:
    """``llmhw study``: one row per study, the files written, and any failure on stderr."""
    t = Table(title=f"report in {esc(res.paths.index.parent)}")
    for col in ("study", "title", "tables", "figures", "seconds"):
        t.add_column(col, justify="right" if col in ("tables", "figures", "seconds") else "left")
    ok = [n for n in names if res.outcome.get(n) == "ok"]
    done = dict(zip(ok, res.studies, strict=True))
    for n in names:
        s = done.get(n)
        if s is None:
            _row(t, n, FAILED, "-", "-", f"{res.seconds.get(n, 0):.2f}")
        else:
            _row(t, n, s.title, str(len(s.tables)), str(len(s.figures)), f"{res.seconds.get(n, 0):.2f}")
    out.print(t)
    out.print(f"wrote {res.paths.index} and {res.paths.markdown} ({len(res.paths.all)} files; "
              f"rendering {res.seconds.get('(render)', 0):.2f} s)", highlight=False, markup=False)
    for f in res.failures:
        err.print(f"[bold red]study {esc(f.name)} failed[/bold red]: {esc(f.error)}", highlight=False)


def _batch_error(n: int, d: dict[str, Any]) -> str:
    e = d["error"]
    return f"line {n}: {e['message']}"


def print_batch(answered: list[tuple[int, dict[str, Any]]], kind: str) -> None:
    """``predict --batch`` / ``simulate --batch`` without ``--json``: a row per answered line
    (the line number is the id a reader goes back to), then each refused line's error."""
    ok = [(n, d) for n, d in answered if "error" not in d]
    if kind == "simulate":
        columns = [("line", "right", 9), ("rate/s", "right", 8), ("done", "right", 4),
                   ("TTFT p50", "right", 7), ("TTFT p99", "right", 6), ("TPOT p50", "right", 7),
                   ("TPOT p99", "right", 5), ("tok/s", "right", 8), ("saturated", "left", 3)]
        cells = [[str(n), g3(d["rate_per_s"]), f"{d['completed']:,}/{d['requests']:,}",
                  si(d["ttft_s"]["p50"], "ms", 1e-3, 1), si(d["ttft_s"]["p99"], "ms", 1e-3, 1),
                  si(d["tpot_s"]["p50"], "ms", 1e-3, 2), si(d["tpot_s"]["p99"], "ms", 1e-3, 2),
                  f"{d['output_tok_s']:,.0f}", "yes" if d["saturated"] else "no"] for n, d in ok]
    else:
        columns = [("line", "right", 9), ("model", "left", 8), ("hardware", "left", 7), ("chips", "right", 3),
                   ("tp/pp/ep/dp", "left", 2), ("batch", "right", 5), ("TTFT", "right", 8), ("TPOT", "right", 8),
                   ("tok/s", "right", 8), ("fits", "left", 4)]
        cells = []
        for n, d in ok:
            p = d["parallelism"]
            cells.append([str(n), esc(d["model"]), esc(d["chip"]), str(d["n_chips"]),
                          f"{p['tp']}/{p['pp']}/{p['ep']}/{p['dp']}", str(d["batch"]),
                          si(d["ttft_s"], "ms", 1e-3, 1), si(d["tpot_s"], "ms", 1e-3, 2),
                          f"{d['output_tok_s']:,.0f}", "yes" if d["fits"] else Text("no", style="red")])
    if cells:
        out.print(_fitted_table(f"{len(ok)} of {len(answered)} lines answered", columns, cells))
    for n, d in answered:
        if "error" in d:
            out.print(Text(_batch_error(n, d), style="red"))
