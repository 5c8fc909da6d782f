"""The ``llmhw`` command line. Every command has ``--json`` for machine-readable output; the
terminal tables are :mod:`llmhw.cli_tables`'s.

Bad input of any kind ends in one line on stderr naming the field, and exit code 2.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import typer
from rich.markup import escape

from llmhw import cli_tables as tables
from llmhw.cli_tables import err, out
from llmhw.core.errors import LlmhwError
from llmhw.core.units import DTYPE_TWIN

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="How LLM inference runs on real and hypothetical hardware.",
    pretty_exceptions_enable=False,
)
JSON_OPT = typer.Option(False, "--json", help="Print machine-readable JSON instead of a table.")


def _emit_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, default=_jsonable) + "\n")


def _jsonable(o: Any) -> Any:
    if isinstance(o, tuple | set | range):
        return list(o)
    if hasattr(o, "model_dump"):
        return o.model_dump()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


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
    tables.print_models(rows)


def _hardware_row(hid: str, kind: str) -> dict[str, Any]:
    from llmhw.hardware.catalog import lookup

    e = lookup(hid)
    row: dict[str, Any] = {"id": hid, "kind": kind, "name": getattr(e, "name", "") or hid}
    if kind == "chip":
        flops = e.flops()
        row.update(family=e.family, bf16_flops=flops.get("bf16") or flops.get(DTYPE_TWIN["bf16"]),
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
        tables.print_entry(e)
        return
    rows = [_hardware_row(h, k) for h, k in hardware_ids().items()]
    if as_json:
        _emit_json(rows)
        return
    tables.print_hardware(rows)


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
    tables.print_model(s)


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
    tables.print_fit(res.scenario, d)


def _scenario_file(path: str) -> Any:
    """A scenario YAML file: a ``Disaggregated`` deployment when it has a ``disaggregation:``
    block, else a ``Scenario``."""
    from pathlib import Path

    from llmhw.core.io import read_yaml
    from llmhw.scenario import Scenario
    from llmhw.scenario.disaggregated import Disaggregated

    raw = read_yaml(Path(path)) if Path(path).is_file() else None
    if isinstance(raw, dict) and "disaggregation" in raw:
        return Disaggregated.from_yaml(path)
    return Scenario.from_yaml(path)


@app.command("predict")
def predict_cmd(
    scenario: str = typer.Argument(None, help="Scenario YAML file"),
    batch_file: str = typer.Option(None, "--batch", help="JSONL file: one scenario mapping per line"),
    as_json: bool = JSON_OPT,
) -> None:
    """TTFT, TPOT, throughput, memory and the bottleneck of a scenario (or of each line of a JSONL file)."""
    from llmhw.api import predict

    if batch_file:
        _predict_batch(batch_file)
        return
    if not scenario:
        raise LlmhwError("give a scenario YAML file, or --batch FILE.jsonl", field="scenario")
    from llmhw.scenario.disaggregated import Disaggregated

    loaded = _scenario_file(scenario)
    if isinstance(loaded, Disaggregated):
        d = predict(loaded).to_dict()
        if as_json:
            _emit_json(d)
        else:
            tables.print_disaggregated(d)
        return
    d = predict(loaded).to_dict()
    if as_json:
        _emit_json(d)
        return
    tables.print_prediction(d)


def _jsonl(path: str, run: Any) -> None:
    """``--batch FILE.jsonl``: ``run(mapping)`` on each line, one JSON object per line out, in
    order; a bad line gets an error object and the others still run."""
    from pathlib import Path

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
            res: dict[str, Any] = run(d)
        except LlmhwError as exc:
            res = {"error": {"line": n, "field": exc.field, "message": str(exc)}}
        sys.stdout.write(json.dumps(res, default=_jsonable) + "\n")


def _predict_batch(path: str) -> None:
    from llmhw.api import predict

    _jsonl(path, lambda d: predict(d).to_dict())


@app.command()
def whatif(
    scenario: str = typer.Argument(..., help="Scenario YAML file"),
    vary: str = typer.Option(..., "--vary", help="PATH=V1,V2,...: an override path and the values to try "
                             "(';'-separated, '+'-joined items for list paths: chip.memory='hbm3e;hbm3e+hbf')"),
    as_json: bool = JSON_OPT,
) -> None:
    """Vary one override path over a list of values and print the metrics per value (docs/whatif.md)."""
    from llmhw.api import whatif as vary_path
    from llmhw.scenario import Scenario

    base = Scenario.from_yaml(scenario)
    from llmhw.explore.vary import parse_vary

    path, values = parse_vary(vary)
    rows = []
    for v, p in zip(values, vary_path(base, path, values), strict=True):
        d = p.to_dict()
        d["varied"] = {"path": path, "value": v}
        rows.append(d)
    if as_json:
        _emit_json(rows)
        return
    tables.print_whatif(base, path, rows)


@app.command()
def search(
    scenario: str = typer.Argument(..., help="Scenario YAML file (its parallelism and batch are searched)"),
    slo: list[str] = typer.Option([], "--slo", help="a constraint KEY<=VALUE (or <, >=, >), e.g. tpot_s<=0.05; "
                                  "repeat for several"),
    objective: str = typer.Option("output_tok_s_per_chip", "--objective",
                                  help="a prediction key to maximise or minimise (by its meaning, or max:/min:), "
                                  "or a varied path (inverse design: min:chip.memory[0].bandwidth_bytes_per_s)"),
    vary: list[str] = typer.Option([], "--vary", help="PATH=V1,V2,... or PATH=LO..HI:log:N; repeat for several"),
    top: int = typer.Option(5, "--top", min=1, help="how many of the best configurations to list"),
    disaggregate: bool = typer.Option(False, "--disaggregate", help="search prefill/decode pools: every split "
                                      "of the chips and every mapping of each pool"),
    as_json: bool = JSON_OPT,
) -> None:
    """The best configuration under service-level objectives: every mapping, batch and varied value
    (docs/search.md)."""
    from rich.progress import Progress

    from llmhw.api import search as run_search
    from llmhw.explore.vary import parse_vary
    from llmhw.scenario import Scenario

    base = Scenario.from_yaml(scenario)
    varied = dict(parse_vary(v) for v in vary)
    with Progress(console=tables.err, transient=True, disable=as_json) as bar:
        task = bar.add_task("searching", total=None)
        res = run_search(base, slo, objective, varied, top, disaggregate=disaggregate,
                         progress=lambda i, n: bar.update(task, completed=i, total=n))
    if as_json:
        _emit_json(res.to_dict())
        return
    tables.print_search(base, res)


@app.command()
def simulate(
    scenario: str = typer.Argument(None, help="Scenario YAML file"),
    batch_file: str = typer.Option(None, "--batch", help="JSONL file: one scenario mapping per line (its "
                                   "workload.arrival gives the load); one JSON object per line out"),
    rate: float = typer.Option(None, "--rate", help="Poisson arrivals per second over the whole deployment"),
    requests: int = typer.Option(None, "--requests", help="requests to simulate; default: workload.requests (2000), "
                                  "lengthened until the arrivals span ten request lifetimes"),
    seed: int = typer.Option(None, "--seed", help="default: workload.seed (0)"),
    concurrency: int = typer.Option(None, "--concurrency", help="a closed loop instead: this many requests in "
                                    "flight, each finished one replaced at once"),
    find_rate: bool = typer.Option(False, "--find-rate", help="find the highest rate that meets every --slo"),
    find_chips: bool = typer.Option(False, "--find-chips", help="capacity planning: the fewest chips (and their "
                                    "mapping) that serve --rate within every --slo"),
    max_chips: int = typer.Option(1024, "--max-chips", help="with --find-chips: the most chips to try"),
    slo: list[str] = typer.Option([], "--slo", help="KEY[.mean|.p50|.p90|.p99]<=SECONDS, e.g. ttft_s.p99<=2; "
                                  "repeat for several. With a rate: goodput (requests meeting all); with "
                                  "--find-rate / --find-chips: the target"),
    as_json: bool = JSON_OPT,
) -> None:
    """Open-loop serving: arrivals (Poisson, bursts, a trace, or a closed loop), per-request lengths
    (datasets, distributions), continuous batching with the engine's scheduling policy, preemption,
    prefix caching and speculative decoding; TTFT, TPOT, end-to-end and queueing percentiles,
    throughput, goodput under --slo, saturation and the economics. --find-rate: the highest rate
    within the SLOs; --find-chips: the fewest chips for --rate within them."""
    from llmhw.api import simulate as run_simulation
    from llmhw.scenario import Scenario

    # Without --requests, a run is lengthened until its arrivals span ten request lifetimes (a
    # steady state), up to 200,000 requests.
    steady = 0.0 if requests else 10.0
    if batch_file:
        _simulate_batch(batch_file, requests, seed)
        return
    if not scenario:
        raise LlmhwError("give a scenario YAML file, or --batch FILE.jsonl", field="scenario")
    if find_chips:
        from llmhw.api import find_chips as search_chips

        if rate is None:
            raise LlmhwError("--find-chips needs the load to serve", field="--rate", accepted="--rate R (requests/s)")
        loaded = _scenario_file(scenario)
        if not isinstance(loaded, Scenario):
            raise LlmhwError("--find-chips searches one pool's chips; a disaggregated scenario gives both pools' "
                             "chips itself", field="--find-chips", accepted="--rate R or --find-rate")
        with err.status("finding the fewest chips") as status:
            d = search_chips(loaded, rate, slo, requests, seed, max_chips=max_chips,
                             min_lifetimes=steady, log=lambda m: status.update(m))
        if d["n_chips"] is None:
            if as_json:
                _emit_json(d)
            else:
                out.print(f"no deployment of up to {max_chips} chips serves {rate:g} requests/s within "
                          f"{', '.join(d['slo'])} ({len(d['tried'])} mappings simulated)", highlight=False, markup=False)
            return
    elif find_rate:
        from llmhw.api import find_rate as search_rate

        with err.status("finding the highest rate") as status:
            d = search_rate(_scenario_file(scenario), slo, requests, seed, min_lifetimes=steady,
                            log=lambda m: status.update(m))
    elif concurrency is not None:
        d = run_simulation(_scenario_file(scenario), None, requests, seed, concurrency=concurrency, slo=slo)
    else:      # --rate, else the scenario's workload.arrival
        with err.status("simulating"):
            d = run_simulation(_scenario_file(scenario), rate, requests, seed, slo=slo, min_lifetimes=steady)
    if as_json:
        _emit_json(d)
        return
    tables.print_simulation(d)


def _simulate_batch(path: str, requests: int | None, seed: int | None) -> None:
    from llmhw.api import simulate as run_simulation

    # Without --requests, each run is lengthened until its arrivals span ten request lifetimes.
    _jsonl(path, lambda d: run_simulation(d, None, requests, seed, min_lifetimes=0.0 if requests else 10.0))


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
    tables.print_validation(res)


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
        tables.print_study(names, res)
    if res.failures:
        raise typer.Exit(1)


def _error_line(text: str) -> None:
    """One line on stderr: ``error: TEXT``, the text printed as is (user text may hold square
    brackets, which rich would otherwise read as markup), newlines folded."""
    line = " ".join(str(text).split())
    err.print(f"[bold red]error[/bold red]: {escape(line)}", highlight=False, soft_wrap=True, markup=True)


def run(argv: list[str] | None = None) -> int:
    """Run the command line on ``argv`` (default: the process's) and return its exit code:
    0 on success, 2 on bad input or a usage error (one line on stderr naming the field or the
    option), 1 when a study failed or an input/output operation failed (docs/cli.md)."""
    from typer._click import exceptions as click_errors  # typer's bundled click

    try:
        rv = app(args=argv, prog_name="llmhw", standalone_mode=False)
        return rv if isinstance(rv, int) else 0
    except LlmhwError as exc:
        _error_line(str(exc))
        return 2
    except click_errors.NoArgsIsHelpError as exc:
        sys.stdout.write((exc.ctx.get_help() if exc.ctx else "") + "\n")
        return 0
    except click_errors.UsageError as exc:
        where = f" ({exc.ctx.command_path})" if exc.ctx and exc.ctx.command_path != "llmhw" else ""
        _error_line(f"{exc.format_message().rstrip('.')}{where}; see llmhw --help")
        return 2
    except click_errors.ClickException as exc:
        _error_line(exc.format_message())
        return exc.exit_code
    except typer.Abort:
        _error_line("aborted")
        return 1
    except typer.Exit as exc:
        return exc.exit_code


def main() -> None:
    sys.exit(run())


if __name__ == "__main__":
    main()
