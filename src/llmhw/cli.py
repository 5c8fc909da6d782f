"""The ``llmhw`` command line. Every command has ``--json`` for machine-readable output.

Bad input of any kind ends in one line on stderr naming the field, and exit code 2.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from llmhw.core.errors import LlmhwError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="How LLM inference runs on real and hypothetical hardware.",
    pretty_exceptions_enable=False,
)
# Piped output gets a fixed, roomy width instead of rich's 80-column fallback.
out = Console(width=None if sys.stdout.isatty() else 150)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 150)

JSON_OPT = typer.Option(False, "--json", help="Print machine-readable JSON instead of a table.")


def _emit_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, default=_jsonable) + "\n")


def _jsonable(o: Any) -> Any:
    if isinstance(o, tuple | set | range):
        return list(o)
    if hasattr(o, "model_dump"):
        return o.model_dump()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def _si(x: float | None, unit: str, scale: float, digits: int = 1) -> str:
    return "-" if x is None else f"{x / scale:,.{digits}f} {unit}"


@app.command()
def models(as_json: bool = JSON_OPT) -> None:
    """List the shipped model catalog."""
    from llmhw.workload.catalog import load_model, model_ids

    rows = []
    for mid in model_ids():
        m = load_model(mid)
        rows.append({
            "id": mid, "name": m.name, "model_type": m.model_type, "attention": m.attention_kind,
            "moe": m.is_moe, "layers": m.n_layers, "total_params": m.total_params,
            "active_params": m.active_params, "kv_cache_bytes_per_token": m.kv_cache_bytes_per_token("bf16"),
            "max_context": m.max_context,
        })
    if as_json:
        _emit_json(rows)
        return
    t = Table(title="llmhw model catalog")
    for col in ("id", "type", "attention", "layers", "total params", "active params", "KV / token (bf16)", "max context"):
        t.add_column(col, justify="left" if col in ("id", "type", "attention") else "right")
    for r in rows:
        t.add_row(r["id"], r["model_type"], r["attention"] + (" + MoE" if r["moe"] else ""), str(r["layers"]),
                  _si(r["total_params"], "B", 1e9, 2), _si(r["active_params"], "B", 1e9, 2),
                  _si(r["kv_cache_bytes_per_token"], "KB", 1e3), f"{r['max_context']:,}")
    out.print(t)


def _hardware_row(hid: str, kind: str) -> dict[str, Any]:
    from llmhw.hardware.catalog import lookup

    e = lookup(hid)
    row: dict[str, Any] = {"id": hid, "kind": kind, "name": getattr(e, "name", "") or hid}
    if kind == "chip":
        flops = e.flops()
        row.update(family=e.family, bf16_flops=flops.get("bf16") or flops.get("fp16"),
                   memory_bytes=e.memory_capacity_bytes, memory_bytes_per_s=e.memory_bandwidth_bytes_per_s,
                   tdp_w=e.tdp_w)
    elif kind == "system":
        row.update(chip=e.chip.id, n_chips=e.n_chips)
    elif kind == "memory":
        row.update(capacity_bytes=e.capacity_bytes, bandwidth_bytes_per_s=e.bandwidth_bytes_per_s,
                   latency_s=e.latency_s)
    elif kind == "interconnect":
        row.update(topology=e.topology, domain_size=e.domain_size, bandwidth_bytes_per_s=e.bandwidth_per_chip)
    elif kind == "link":
        row.update(bandwidth_bytes_per_s=e.bandwidth_bytes_per_s)
    elif kind == "near_memory":
        row.update(placement=e.placement, internal_bandwidth_multiplier=e.internal_bandwidth_multiplier,
                   shard_bytes=e.shard_bytes)
    elif kind == "stacking":
        row.update(bandwidth_bytes_per_s=e.bandwidth_bytes_per_s, capacity_bytes=e.capacity_bytes)
    return row


@app.command()
def hardware(
    name: str = typer.Argument(None, help="Show one entry with the source of every number."),
    as_json: bool = JSON_OPT,
) -> None:
    """List the hardware catalog (chips, systems, memories, interconnects), or show one entry."""
    from llmhw.hardware.catalog import hardware_ids, lookup

    if name:
        e = lookup(name)
        data = e.model_dump(mode="json")
        if as_json:
            _emit_json(data)
            return
        _print_entry(e)
        return
    rows = [_hardware_row(h, k) for h, k in hardware_ids().items()]
    if as_json:
        _emit_json(rows)
        return
    t = Table(title="llmhw chips")
    for col in ("id", "name", "family", "bf16 dense", "memory", "bandwidth", "TDP"):
        t.add_column(col, justify="right" if col in ("bf16 dense", "memory", "bandwidth", "TDP") else "left")
    for r in rows:
        if r["kind"] == "chip":
            t.add_row(r["id"], r["name"], r["family"], _si(r["bf16_flops"], "TFLOP/s", 1e12, 0),
                      _si(r["memory_bytes"], "GB", 1e9, 0), _si(r["memory_bytes_per_s"], "GB/s", 1e9, 0),
                      _si(r["tdp_w"], "W", 1, 0))
    out.print(t)
    t = Table(title="systems, memories, near-memory compute, 3D stacks, interconnects")
    for col in ("id", "kind", "name", "detail"):
        t.add_column(col)
    for r in rows:
        if r["kind"] == "system":
            t.add_row(r["id"], "system", r["name"], f"{r['n_chips']} x {r['chip']}")
        elif r["kind"] == "memory":
            t.add_row(r["id"], "memory", r["name"],
                      f"{_si(r['capacity_bytes'], 'GB', 1e9, 0)}, {_si(r['bandwidth_bytes_per_s'], 'GB/s', 1e9, 0)}")
        elif r["kind"] == "near_memory":
            t.add_row(r["id"], "near memory", r["name"],
                      f"{r['placement'].upper()}, {r['internal_bandwidth_multiplier']:g}x internal bandwidth, "
                      f"shards of {_si(r['shard_bytes'], 'MB', 1e6, 0)}")
        elif r["kind"] == "stacking":
            t.add_row(r["id"], "3D stack", r["name"],
                      f"{_si(r['capacity_bytes'], 'GB', 1e9, 1)}, {_si(r['bandwidth_bytes_per_s'], 'GB/s', 1e9, 0)}")
        elif r["kind"] in ("interconnect", "link"):
            detail = _si(r["bandwidth_bytes_per_s"], "GB/s per direction", 1e9, 0)
            if r["kind"] == "interconnect":
                detail = f"{r['topology']}, {r['domain_size']} chips, " + detail
            t.add_row(r["id"], r["kind"], r["name"], detail)
    out.print(t)


def _print_entry(e: Any) -> None:
    t = Table(title=f"{getattr(e, 'name', '') or e.id} ({e.kind})")
    for col in ("field", "value (SI)", "status", "source"):
        t.add_column(col, overflow="fold")

    def walk(obj: Any, prefix: str) -> None:
        prov = getattr(obj, "provenance", {})
        for k in type(obj).model_fields:
            if k == "provenance":
                continue
            v = getattr(obj, k)
            path = f"{prefix}{k}"
            if hasattr(v, "model_fields"):
                walk(v, path + ".")
            elif isinstance(v, tuple) and v and hasattr(v[0], "model_fields"):
                for i, item in enumerate(v):
                    walk(item, f"{path}[{i}].")
            elif isinstance(v, dict) and v and all(isinstance(x, int | float) for x in v.values()):
                for sub, x in v.items():
                    p = prov.get(f"{k}.{sub}")
                    t.add_row(f"{path}.{sub}", f"{x:.4g}", p.status if p else "", "\n".join(p.sources) if p else "")
            elif isinstance(v, dict) and v:
                for sub, x in v.items():
                    walk(x, f"{path}.{sub}.")
            elif v is not None and v != "" and v != ():
                p = prov.get(k)
                shown = f"{v:.4g}" if isinstance(v, float) else str(v)
                t.add_row(path, shown, p.status if p else "", "\n".join(p.sources) if p else "")

    walk(e, "")
    out.print(t)


@app.command()
def show(model: str = typer.Argument(..., help="Catalog id or path to a HF config.json"),
         as_json: bool = JSON_OPT) -> None:
    """Print a model's derived figures: parameters, weight bytes, KV cache, FLOPs."""
    from llmhw.workload.catalog import load_model

    m = load_model(model)
    s = m.summary()
    if as_json:
        _emit_json(s)
        return
    t = Table(title=f"{s['name']} ({s['model_type']})", show_header=False)
    t.add_column("figure")
    t.add_column("value", justify="right")
    t.add_row("layers", str(s["layers"]))
    t.add_row("hidden size", f"{s['hidden_size']:,}")
    t.add_row("attention", f"{s['attention']}: {s['n_heads']} heads, {s['n_kv_heads']} KV heads, head dim {s['head_dim']}")
    if s["moe"]:
        t.add_row("experts", f"{s['n_routed_experts']} routed, {s['experts_per_token']} per token, "
                             f"{s['n_shared_experts']} shared; {s['dense_layers']} dense + {s['moe_layers']} MoE layers")
    if s["sliding_layers"]:
        t.add_row("sliding window", f"{s['sliding_layers']} of {s['layers']} layers, window {s['sliding_window']:,}")
    t.add_row("total parameters", _si(s["total_params"], "B", 1e9, 2))
    t.add_row("active parameters / token", _si(s["active_params"], "B", 1e9, 2) + "  (without input embedding)")
    for p, b in s["weight_bytes"].items():
        t.add_row(f"weights at {p}", _si(b, "GB", 1e9, 1))
    t.add_row("KV cache / token (bf16)", _si(s["kv_cache_bytes_per_token"], "KB", 1e3, 1))
    t.add_row(f"KV cache at {s['max_context']:,} tokens (bf16)", _si(s["kv_cache_bytes_at_max_context"], "GB", 1e9, 2))
    t.add_row("FLOPs / token (no context)", _si(s["flops_per_token"], "GFLOP", 1e9, 1))
    out.print(t)


@app.command("fit")
def fit_cmd(scenario: str = typer.Argument(..., help="Scenario YAML file"), as_json: bool = JSON_OPT) -> None:
    """Memory per chip for a scenario: weights, KV cache, activations, and whether it fits."""
    from llmhw.accounting.fit import fit
    from llmhw.scenario import Scenario

    res = fit(Scenario.from_yaml(scenario))
    d = res.to_dict()
    if as_json:
        _emit_json(d)
        return
    s = res.scenario
    p = s.parallelism
    out.print(f"[bold]{s.model.name}[/bold] on {s.n_chips} x {s.chip.label}: tp={p.tp} pp={p.pp} ep={p.ep} "
              f"dp={p.dp}, batch {d['batch']}, context {d['peak_context']:,} tokens", highlight=False)
    t = Table()
    t.add_column("per chip")
    t.add_column("bytes", justify="right")
    t.add_column("share of usable", justify="right")
    for label, key in (("weights", "weights_bytes"), ("KV cache", "kv_cache_bytes"),
                       ("activations", "activation_bytes"), ("total", "total_bytes")):
        t.add_row(label, _si(d[key], "GB", 1e9, 2), f"{d[key] / d['usable_bytes']:.1%}")
    t.add_row("usable", _si(d["usable_bytes"], "GB", 1e9, 2), f"{s.memory_utilization:.0%} of {_si(d['capacity_bytes'], 'GB', 1e9, 0)}")
    out.print(t)
    verdict = "[green]fits[/green]" if d["fits"] else "[red]does not fit[/red]"
    out.print(f"{verdict}; largest batch that fits: {d['max_batch']}")
    for n in d["notes"]:
        out.print(f"note: {n}")
    for a in d["advice"]:
        out.print(f"- {a}")


@app.command("predict")
def predict_cmd(
    scenario: str = typer.Argument(None, help="Scenario YAML file"),
    batch_file: str = typer.Option(None, "--batch", help="JSONL file: one scenario mapping per line"),
    as_json: bool = JSON_OPT,
) -> None:
    """TTFT, TPOT, throughput, memory and the bottleneck of a scenario (or of each line of a JSONL file)."""
    from llmhw.api import predict
    from llmhw.scenario import Scenario

    if batch_file:
        _predict_batch(batch_file)
        return
    if not scenario:
        raise LlmhwError("give a scenario YAML file, or --batch FILE.jsonl", field="scenario")
    d = predict(Scenario.from_yaml(scenario)).to_dict()
    if as_json:
        _emit_json(d)
        return
    _print_prediction(d)


def _predict_batch(path: str) -> None:
    """One JSON object per input line, in order; a bad line gets an error object."""
    from pathlib import Path

    from llmhw.api import predict

    p = Path(path)
    if not p.is_file():
        raise LlmhwError(f"no such file '{path}'", field="--batch")
    for n, line in enumerate(p.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            try:
                d = json.loads(line)
            except json.JSONDecodeError as exc:
                raise LlmhwError(f"malformed JSON: {exc.msg}", field=f"line {n}") from None
            res: dict[str, Any] = predict(d).to_dict()
        except LlmhwError as exc:
            res = {"error": {"line": n, "field": exc.field, "message": str(exc)}}
        sys.stdout.write(json.dumps(res, default=_jsonable) + "\n")


def _print_prediction(d: dict[str, Any]) -> None:
    p = d["parallelism"]
    label = d["chip"] + (" (what-if)" if d.get("overrides") else "")
    out.print(f"[bold]{d['model']}[/bold] on {d['n_chips']} x {label} ({d['engine']} engine): "
              f"tp={p['tp']} pp={p['pp']} ep={p['ep']} dp={p['dp']}, batch {d['batch']}, "
              f"{d['input_tokens']:,} in / {d['output_tokens']:,} out", highlight=False)
    t = Table()
    t.add_column("metric")
    t.add_column("value", justify="right")
    t.add_row("time to first token", _si(d["ttft_s"], "ms", 1e-3, 1))
    t.add_row("time per output token", _si(d["tpot_s"], "ms", 1e-3, 2))
    t.add_row("end to end", _si(d["e2e_s"], "s", 1, 2))
    t.add_row("output tokens/s (system)", f"{d['output_tok_s']:,.0f}")
    t.add_row("output tokens/s per chip", f"{d['output_tok_s_per_chip']:,.1f}")
    t.add_row("tokens/s per user", f"{d['tok_s_per_user']:,.1f}")
    mem = d["memory"]
    if d.get("energy_j_per_token") is not None:
        t.add_row("energy per output token", f"{d['energy_j_per_token']:,.3g} J")
        t.add_row("power per chip", f"{d['power_w_per_chip']:,.0f} W" + (" (capped at TDP)" if d.get("power_capped") else ""))
    if d.get("cost_usd_per_mtok") is not None:
        t.add_row("cost per million output tokens", f"${d['cost_usd_per_mtok']:,.3g}")
    if d.get("tokens_per_mw") is not None:
        t.add_row("tokens/s per provisioned MW", f"{d['tokens_per_mw']:,.0f}")
    co2 = d.get("co2e_g_per_mtok")
    if isinstance(co2, dict) and co2.get("total") is not None:
        t.add_row("gCO2e per million output tokens", f"{co2['total']:,.3g} ({co2['operational']:,.3g} operational + "
                  f"{co2['embodied']:,.3g} embodied)")
    t.add_row("memory per chip", f"{mem['total_bytes'] / 1e9:,.1f} of {mem['usable_bytes'] / 1e9:,.1f} GB usable"
              + ("" if d["fits"] else "  [red](does not fit)[/red]"))
    out.print(t)
    b = Table(title="where a step's time goes")
    for col in ("phase", "compute-bound", "memory-bound", "communication", "overhead", "total", "bound"):
        b.add_column(col, justify="left" if col in ("phase", "bound") else "right")
    for ph, v in d["breakdown"].items():
        b.add_row(ph, *(_si(v[k], "ms", 1e-3, 2) for k in ("compute_s", "memory_s", "comm_s", "overhead_s",
                                                              "total_s")), v["bound"])
    out.print(b)
    if len(d.get("memory_tiers", [])) > 1:
        mt = Table(title="memory tiers (per chip)")
        for col in ("tier", "holds", "used / capacity", "decode s/step", "read GB/s", "write GB/s", "lifetime"):
            mt.add_column(col, justify="left" if col in ("tier", "holds") else "right")
        for t in d["memory_tiers"]:
            life = "unlimited" if t["lifetime_days"] is None else f"{t['lifetime_days']:,.0f} days"
            mt.add_row(t["name"], ", ".join(t["holds"]) or "-",
                       f"{t['used_bytes'] / 1e9:,.1f} / {t['capacity_bytes'] / 1e9:,.0f} GB",
                       _si(t["time_s"], "ms", 1e-3, 2), f"{t['read_bytes_per_s'] / 1e9:,.1f}",
                       f"{t['write_bytes_per_s'] / 1e9:,.3f}", life)
        out.print(mt)
    for n in d["notes"]:
        out.print(f"note: {n}")


def _vary(spec: str) -> tuple[str, list[Any]]:
    """``PATH=V1,V2,...`` -> (path, values). Values are YAML scalars (numbers, names; ``5e-8``
    is a number). Alternatives are separated by ``,``, or by ``;`` when the text has one; for a
    path that holds a list (``chip.memory``) each alternative is ``+``-joined items:
    ``chip.memory=hbm3e;hbm3e+hbf``."""
    import yaml

    from llmhw.hardware.whatif import is_list_path, number_string

    path, eq, text = (spec or "").partition("=")
    path = path.strip()
    if not eq or not path or not text.strip():
        raise LlmhwError(f"expected PATH=V1,V2,..., got {spec!r}", field="--vary",
                         accepted="e.g. interconnect.hop_latency_s=5e-8,1e-7 or chip.memory=hbm3e;hbm3e+hbf")

    def scalar(item: str) -> Any:
        item = item.strip()
        if not item:
            raise LlmhwError(f"empty value in {spec!r}", field="--vary")
        try:
            v = yaml.safe_load(item)
        except yaml.YAMLError:
            v = item
        if isinstance(v, list | dict):
            v = item
        return number_string(v)

    alts = text.split(";") if ";" in text else text.split(",")
    if is_list_path(path):
        values: list[Any] = [[scalar(x) for x in alt.split("+")] for alt in alts]
    else:
        values = [scalar(a) for a in alts]
    return path, values


def _shown(v: Any) -> str:
    if isinstance(v, list):
        return "+".join(_shown(x) for x in v)
    return f"{v:g}" if isinstance(v, float) else str(v)


@app.command()
def whatif(
    scenario: str = typer.Argument(..., help="Scenario YAML file"),
    vary: str = typer.Option(..., "--vary", help="PATH=V1,V2,...: an override path and the values to try "
                             "(';'-separated, '+'-joined items for list paths: chip.memory='hbm3e;hbm3e+hbf')"),
    as_json: bool = JSON_OPT,
) -> None:
    """Vary one override path over a list of values and print the metrics per value (docs/whatif.md)."""
    from llmhw.api import predict
    from llmhw.scenario import Scenario

    base = Scenario.from_yaml(scenario)
    path, values = _vary(vary)
    rows = []
    for v in values:
        d = predict(base.replace(overrides={**base.overrides, path: v})).to_dict()
        d["varied"] = {"path": path, "value": v}
        rows.append(d)
    if as_json:
        _emit_json(rows)
        return
    out.print(f"[bold]{base.model.name}[/bold] on {base.n_chips} x {base.chip.label} ({base.engine} engine), "
              f"batch {base.workload.batch}, {base.workload.input_tokens:,} in / "
              f"{base.workload.output_tokens:,} out: varying {path}", highlight=False)
    t = Table()
    for col in (path, "TTFT", "TPOT", "tok/s per chip", "tok/s per user", "fits", "decode bound"):
        t.add_column(col, justify="left" if col in (path, "fits", "decode bound") else "right")
    for d in rows:
        t.add_row(_shown(d["varied"]["value"]), _si(d["ttft_s"], "ms", 1e-3, 1), _si(d["tpot_s"], "ms", 1e-3, 2),
                  f"{d['output_tok_s_per_chip']:,.1f}", f"{d['tok_s_per_user']:,.1f}",
                  "yes" if d["fits"] else "[red]no[/red]", d["breakdown"]["decode"]["bound"])
    out.print(t)


@app.command()
def validate(
    fit: bool = typer.Option(False, "--fit", help="Refit the efficiency parameters on the measurements first."),
    write: bool = typer.Option(False, "--write", help="With --fit: save the fitted values to calibration.yaml."),
    cross: bool = typer.Option(False, "--cross-validate", help="Also score held-out rows (k-fold, chip held out)."),
    md: str = typer.Option(None, "--markdown", help="Write the full report to this markdown file."),
    as_json: bool = JSON_OPT,
) -> None:
    """Predict every shipped published measurement and report the error per family and metric."""
    from llmhw.validation.validate import markdown, run

    with out.status("validating") as status:
        res = run(fit=fit, cross_validate=cross, write_calibration=write,
                  log=lambda msg: status.update(msg))
    if md:
        from pathlib import Path

        Path(md).write_text(markdown(res))
    if as_json:
        _emit_json(res.to_dict())
        return
    t = Table(title="absolute percentage error, in-sample")
    for col in ("family", "metric", "n", "median", "worst (row)"):
        t.add_column(col, justify="right" if col in ("n", "median", "worst (row)") else "left")
    for (f, m), v in sorted(res.summary.items(), key=lambda kv: (kv[0][0] == "all", kv[0])):
        t.add_row(f, m, str(v["n"]), f"{100 * v['median']:.1f}%", f"{100 * v['worst']:.0f}% ({v['worst_row']})")
    out.print(t)
    out.print(f"{len(res.rows)} points predicted, {len(res.skipped)} rows not mapped")


@app.command()
def study(
    name: str = typer.Argument(..., help="A study (trends, hbf, near_memory, ...), or 'all'."),
    out_dir: str = typer.Option("out/report", "--out", help="Directory for index.html, report.md, CSVs and figures."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar on stderr."),
    as_json: bool = JSON_OPT,
) -> None:
    """Run one of the paper's studies, or all of them, and write the report (DIR/index.html, report.md,
    a CSV per table, a PNG and an SVG per figure). Exits 1 if any study failed."""
    from llmhw.report import resolve, run_studies

    names = resolve(name)
    res = run_studies(names, out_dir, progress=progress and not as_json, console=err)
    if as_json:
        _emit_json({
            "out": str(res.paths.index.parent), "index": str(res.paths.index), "markdown": str(res.paths.markdown),
            "files": [str(p) for p in res.paths.all], "seconds": res.seconds,
            "studies": res.outcome,
            "failures": [{"study": f.name, "error": f.error} for f in res.failures],
        })
    else:
        t = Table(title=f"report in {res.paths.index.parent}")
        for col in ("study", "title", "tables", "figures", "seconds"):
            t.add_column(col, justify="right" if col in ("tables", "figures", "seconds") else "left")
        ok = [n for n in names if res.outcome.get(n) == "ok"]
        done = dict(zip(ok, res.studies, strict=True))
        for n in names:
            s = done.get(n)
            if s is None:
                t.add_row(n, "[red]failed[/red]", "-", "-", f"{res.seconds.get(n, 0):.2f}")
            else:
                t.add_row(n, s.title, str(len(s.tables)), str(len(s.figures)), f"{res.seconds.get(n, 0):.2f}")
        out.print(t)
        out.print(f"wrote {res.paths.index} and {res.paths.markdown} ({len(res.paths.all)} files; "
                  f"rendering {res.seconds.get('(render)', 0):.2f} s)", highlight=False)
        for f in res.failures:
            err.print(f"[bold red]study {f.name} failed[/bold red]: {f.error}", highlight=False)
    if res.failures:
        raise typer.Exit(1)


def main() -> None:
    try:
        app()
    except LlmhwError as exc:
        err.print(f"[bold red]error[/bold red]: {exc}", highlight=False, soft_wrap=True, markup=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
