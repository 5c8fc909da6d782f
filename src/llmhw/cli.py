"""The ``llmhw`` command line. Every command has ``--json`` for machine-readable output; the
terminal tables are :mod:`llmhw.cli_tables`'s.

Bad input of any kind ends in one line on stderr naming the field, and exit code 2; a failure
that is not the input's fault (a study that failed, a disk that is full, a bug) in one line and
exit code 1 (docs/cli.md).
"""

from __future__ import annotations

import errno
import json
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape

from llmhw import cli_tables as tables
from llmhw.cli_flags import with_quick_flags
from llmhw.cli_tables import err, out
from llmhw.core.errors import LlmhwError, clip
from llmhw.core.units import DTYPE_TWIN
from llmhw.studies import STUDY_ORDER

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="How LLM inference runs on real and hypothetical hardware.",
    pretty_exceptions_enable=False,
)
JSON_OPT = typer.Option(False, "--json", help="Print machine-readable JSON instead of a table.")


# An error line or a batch line's error message is cut to this many characters: an error names
# a field and what is accepted; it never echoes a huge value back.
MAX_MESSAGE = 1000
# Exit codes (docs/cli.md).
EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130
# An OSError with one of these points at a path the user gave (missing, a folder, too long a
# name, not allowed): bad input. Any other (a full disk, a device error) is a failure.
PATH_ERRNOS = frozenset({errno.ENOENT, errno.ENOTDIR, errno.EISDIR, errno.ENAMETOOLONG, errno.ELOOP,
                         errno.EACCES, errno.EPERM})


class Failed(Exception):
    """Not the input's fault: the command ends with this one line and exit code 1."""


class NonFinite(Failed):
    """A NaN or an infinity in a result about to be printed as JSON: a bug, never printed."""

    def __init__(self, where: str):
        self.where = where
        super().__init__(f"internal error: non-finite value at {where}")


def _short(text: Any, limit: int = MAX_MESSAGE) -> str:
    """``text`` on one line of at most ``limit`` characters (core.errors.clip)."""
    return clip(str(text), limit)


def _emit_json(obj: Any) -> None:
    sys.stdout.write(_dumps(obj, indent=2) + "\n")


def _dumps(obj: Any, indent: int | None = None) -> str:
    """Strict JSON: NaN and Infinity are not JSON, and a non-finite number in a result is our bug,
    reported as such (exit 1) with the key that holds it, never printed."""
    try:
        return json.dumps(obj, indent=indent, default=_jsonable, allow_nan=False)
    except ValueError:
        where = non_finite_path(obj)
        if where is None:
            raise
        raise NonFinite(where) from None


def _jsonable(o: Any) -> Any:
    if isinstance(o, tuple | set | frozenset | range):
        return list(o)
    if isinstance(o, Path):
        return str(o)
    if hasattr(o, "model_dump"):
        return o.model_dump()
    if type(o).__module__ == "numpy" and hasattr(o, "tolist"):     # a numpy scalar or array
        return o.tolist()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def non_finite_path(obj: Any, path: str = "") -> str | None:
    """The key path of the first NaN or infinity in ``obj`` (``breakdown.decode.compute_s``,
    ``[2].ttft_s``; ``(value)`` for a bare number), or None when every number is finite. Walks
    what ``json.dumps`` would: mappings, sequences, and what ``_jsonable`` turns into them."""
    if isinstance(obj, bool) or obj is None or isinstance(obj, str | int):
        return None
    if isinstance(obj, float):
        return None if math.isfinite(obj) else (path or "(value)")
    if isinstance(obj, dict):
        for k, v in obj.items():
            found = non_finite_path(v, f"{path}.{k}" if path else str(k))
            if found is not None:
                return found
        return None
    if isinstance(obj, list):
        for i, v in enumerate(obj):
            found = non_finite_path(v, f"{path}[{i}]")
            if found is not None:
                return found
        return None
    try:
        return non_finite_path(_jsonable(obj), path)
    except TypeError:
        return None


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


# `hardware --kind`: the catalog's kinds, and the words people use for them.
_KINDS = {"chip": "chip", "system": "system", "memory": "memory", "near_memory": "near_memory",
          "near-memory": "near_memory", "pim": "near_memory", "stacking": "stacking", "3d": "stacking",
          "interconnect": "interconnect", "network": "interconnect", "link": "link"}


@app.command()
def hardware(
    name: str = typer.Argument(None, help="Show one entry (a catalog id or a spec file PATH.yaml) with the source "
                               "of every number, its derived figures and what to check; `new` writes a spec "
                               "template (with --like)."),
    like: str = typer.Option(None, "--like", help="with `new`: the catalog chip or system the template starts from"),
    kind: str = typer.Option(None, "--kind", help="only this kind: chip, system, memory, near_memory, stacking, "
                             "network (interconnect) or link"),
    family: str = typer.Option(None, "--family", help="only chips of this family (nvidia-gpu, amd-gpu, ...) and "
                               "systems of them"),
    as_json: bool = JSON_OPT,
) -> None:
    """List the hardware catalog (chips, systems, memories, interconnects), or show one entry."""
    from llmhw.core.errors import unknown_name
    from llmhw.hardware.catalog import hardware_ids, lookup

    if like is not None and name != "new":
        raise LlmhwError("--like goes with `llmhw hardware new`", field="--like",
                         accepted="llmhw hardware new --like CATALOG_ID > my-chip.yaml")
    if name == "new":
        from llmhw.api import hardware_template

        if like is None:
            raise LlmhwError("which catalog chip or system should the template start from?", field="--like",
                             accepted="llmhw hardware new --like h100-sxm (any id `llmhw hardware --kind chip` "
                                      "or `--kind system` lists)")
        sys.stdout.write(hardware_template(like))
        return
    if name:
        from llmhw.hardware.catalog import chips, systems

        if name in chips() or name in systems() or name.endswith((".yaml", ".yml")) or "/" in name:
            from llmhw.api import inspect_hardware

            ins = inspect_hardware(name)
            if as_json:
                _emit_json(ins.to_dict())
                return
            tables.print_inspection(ins)
            return
        e = lookup(name)
        data = e.model_dump(mode="json")
        if as_json:
            _emit_json(data)
            return
        tables.print_entry(e)
        return
    ids = hardware_ids()
    if kind is not None:
        if kind.lower() not in _KINDS:
            raise unknown_name("kind", kind, sorted(set(_KINDS)), field="--kind")
        ids = {h: k for h, k in ids.items() if k == _KINDS[kind.lower()]}
    rows = [_hardware_row(h, k) for h, k in ids.items()]
    if family is not None:
        chip_family = {h: lookup(h).family for h, k in hardware_ids().items() if k == "chip"}
        if family not in set(chip_family.values()):
            raise unknown_name("family", family, sorted(set(chip_family.values())), field="--family")
        chips = {h for h, f in chip_family.items() if f == family}
        rows = [r for r in rows if r["id"] in chips or (r["kind"] == "system" and r["chip"] in chips)]
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
@with_quick_flags
def fit_cmd(scenario: str = typer.Argument(None, help="Scenario YAML file (or give the scenario as flags)"),
            as_json: bool = JSON_OPT, quick: dict[str, Any] | None = None) -> None:
    """Memory per chip for a scenario: weights, KV cache, activations, and whether it fits."""
    from llmhw.accounting.fit import fit

    res = fit(_scenario_input(scenario, quick or {}, one_pool=True))
    d = res.to_dict()
    if as_json:
        _emit_json(d)
        return
    tables.print_fit(res.scenario, d)


@dataclass(frozen=True)
class _TrainingInput:
    """A scenario file with a ``training:`` block, which ``predict`` prices as a training step."""

    raw: dict[str, Any]
    base: Path


def _scenario_input(path: str | None, quick: dict[str, Any], *, one_pool: bool = False,
                    training_ok: bool = False) -> Any:
    """The scenario a command runs: a YAML file, the quick flags, or the flags over the file's
    fields (cli_flags). A ``Disaggregated`` deployment when it has a ``disaggregation:`` block
    (refused with ``one_pool``), a ``_TrainingInput`` when it has a ``training:`` block (refused
    unless ``training_ok``), else a ``Scenario``."""
    from llmhw.cli_flags import apply_quick_flags
    from llmhw.core.io import read_yaml
    from llmhw.scenario import Scenario
    from llmhw.scenario.disaggregated import Disaggregated

    if path:
        # Read once: the file decides which loader builds it.
        p = _input_file(path, "scenario")
        raw, base = read_yaml(p, field="scenario", mapping=True), p.parent
    elif quick:
        raw, base = {}, Path.cwd()
    else:
        raise LlmhwError("give a scenario YAML file, or the scenario as flags", field="scenario",
                         accepted="SCENARIO.yaml, or --model M --hardware H --input-tokens N --output-tokens N "
                         "[--tp ... --batch ...]")
    if "training" in raw:
        if not training_ok or quick:
            raise LlmhwError("a training scenario is priced by 'llmhw train' or 'llmhw predict' (without quick "
                             "flags)", field="training", accepted="llmhw train SCENARIO.yaml, or a scenario "
                             "without a training: block")
        return _TrainingInput(raw, base)
    raw = apply_quick_flags(raw, quick)
    for field, flag in (("model", "--model"), ("hardware", "--hardware")):
        if not path and field not in raw:
            raise LlmhwError("missing required field", field=field, accepted=f"{flag} ID (or a scenario file)")
    if not path and not {"input_tokens", "output_tokens"} <= set(raw.get("workload") or {}):
        raise LlmhwError("missing the request lengths", field="workload",
                         accepted="--input-tokens N --output-tokens N (or a scenario file)")
    if "disaggregation" in raw:
        if one_pool:
            raise LlmhwError("this command takes one pool's scenario; a disaggregated deployment has two",
                             field="disaggregation", accepted="predict or simulate for disaggregated deployments")
        return Disaggregated.from_dict(raw, base_dir=base)
    return Scenario.from_dict(raw, base_dir=base)


def _batch_size(value: str | None) -> bool:
    """``--batch`` names a JSONL file of scenarios, or (quick flag) the requests in flight: a
    whole number or 'max'."""
    return value is not None and (value.strip() == "max" or value.strip().isdigit())


@app.command("predict")
@with_quick_flags
def predict_cmd(
    scenario: str = typer.Argument(None, help="Scenario YAML file (or give the scenario as flags)"),
    batch_file: str = typer.Option(None, "--batch", metavar="FILE|N", help="JSONL file: one scenario mapping per "
                                   "line; or, as a scenario flag, the requests in flight (a number or max: "
                                   "workload.batch)"),
    as_json: bool = JSON_OPT,
    quick: dict[str, Any] | None = None,
) -> None:
    """TTFT, TPOT, throughput, memory and the bottleneck of a scenario (or of each line of a JSONL file)."""
    from llmhw.api import predict

    quick = dict(quick or {})
    if _batch_size(batch_file):
        quick["batch"], batch_file = batch_file, None
    if batch_file:
        _predict_batch(batch_file, as_json)
        return
    from llmhw.scenario.disaggregated import Disaggregated

    loaded = _scenario_input(scenario, quick, training_ok=True)
    if isinstance(loaded, _TrainingInput):
        _print_training(loaded, as_json)
        return
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


def _input_file(path: str, field: str) -> Path:
    """A file the user named as input: it must exist, be a file (not a folder) and be readable;
    else a one-line error naming ``field``."""
    from llmhw.core.io import path_errors

    p = Path(path)
    shown = _short(path, 200)
    with path_errors(shown, field):
        if p.is_dir():
            raise LlmhwError(f"'{shown}' is a folder, not a file", field=field)
        if not p.exists():
            raise LlmhwError(f"no such file '{shown}'", field=field)
        if not os.access(p, os.R_OK):
            raise LlmhwError(f"cannot read '{shown}' (permission denied)", field=field)
    return p


def _scenario_of(d: Any, base_dir: Path) -> Any:
    """A JSONL line's mapping as a scenario, its relative paths (model config.json, hardware
    YAML, a trace) read from the JSONL file's folder, as a scenario file's are from its own."""
    from llmhw.scenario import Scenario
    from llmhw.scenario.disaggregated import Disaggregated

    if "disaggregation" in d:
        return Disaggregated.from_dict(d, base_dir=base_dir)
    return Scenario.from_dict(d, base_dir=base_dir)


def _line_result(n: int, line: str, base_dir: Path, run: Any) -> tuple[str, bool]:
    """One JSONL line's output line, and whether it is an internal error. Whatever goes wrong
    with the line (bad JSON, a bad field, a bug) becomes its error object; the batch goes on."""
    def error(field: str | None, message: str) -> str:
        shown = None if field is None else _short(field, 200)
        return json.dumps({"error": {"line": n, "field": shown, "message": _short(message)}})

    from llmhw.core.io import read_json

    try:
        # Strict JSON per line: no NaN or Infinity, no duplicate keys, bounded nesting.
        d = read_json(line, name=f"line {n}")
        if not isinstance(d, dict):
            raise LlmhwError(f"expected a JSON object (a scenario mapping), got a JSON {_json_kind(d)}",
                             field=f"line {n}")
        return _dumps(run(_scenario_of(d, base_dir))), False
    except LlmhwError as exc:
        return error(exc.field, str(exc)), False
    except RecursionError:
        return error(f"line {n}", f"line {n}: nested too deeply"), False
    except OSError as exc:                  # a file the line names cannot be read
        return error(f"line {n}", f"line {n}: {_os_error(exc)}"), False
    except NonFinite as exc:                # a NaN or infinity in the result: our bug
        return error(exc.where, str(exc)), True
    except Exception as exc:                # a bug: this line's answer says so, the next lines still run
        return error(None, f"internal error ({type(exc).__name__}): {exc}"), True


def _os_error(exc: OSError) -> str:
    """An OSError as 'PATH: reason', the path cut short."""
    where = f"'{_short(exc.filename, 200)}': " if exc.filename else ""
    return f"{where}{exc.strerror or type(exc).__name__}"


def _json_kind(v: Any) -> str:
    return {list: "array", str: "string", bool: "boolean", type(None): "null"}.get(type(v), "number")


def _jsonl(path: str, run: Any, as_json: bool = True, kind: str = "predict") -> None:
    """``--batch FILE.jsonl``: ``run(scenario)`` on each line, in order; a bad line gets an error
    and the others still run. With ``--json``, one JSON object per line out as each is answered
    (an error object for a bad line); without, a table with a row per line once all are answered.
    Exit code 0 when every line was answered (a refused line's error is its answer); 1 when a line
    hit an internal error, after all lines are answered."""
    p = _input_file(path, "--batch")
    base_dir = p.parent
    internal: list[int] = []
    answered: list[tuple[int, dict[str, Any]]] = []
    from llmhw.core.io import JSONL_MAX_BYTES, read_text

    for n, line in enumerate(read_text(p, field="--batch", max_bytes=JSONL_MAX_BYTES).split("\n"), start=1):
        if not line.strip():
            continue
        text, failed = _line_result(n, line, base_dir, run)
        if failed:
            internal.append(n)
        if as_json:
            sys.stdout.write(text + "\n")
        else:
            answered.append((n, json.loads(text)))
    if not as_json:
        tables.print_batch(answered, kind)
    if internal:
        lines = ", ".join(str(n) for n in internal[:20]) + (", ..." if len(internal) > 20 else "")
        raise Failed(f"--batch: internal error on line {lines} (see its error object)")


def _predict_batch(path: str, as_json: bool) -> None:
    from llmhw.api import predict

    _jsonl(path, lambda s: predict(s).to_dict(), as_json, "predict")


@app.command()
@with_quick_flags
def whatif(
    scenario: str = typer.Argument(None, help="Scenario YAML file (or give the scenario as flags)"),
    vary: str = typer.Option(..., "--vary", help="PATH=V1,V2,...: an override path and the values to try "
                             "(';'-separated, '+'-joined items for list paths: chip.memory='hbm3e;hbm3e+hbf')"),
    as_json: bool = JSON_OPT,
    quick: dict[str, Any] | None = None,
) -> None:
    """Vary one override path over a list of values and print the metrics per value (docs/whatif.md)."""
    from llmhw.api import whatif as vary_path

    base = _scenario_input(scenario, quick or {}, one_pool=True)
    from llmhw.api import predict
    from llmhw.explore.vary import parse_vary

    path, values = parse_vary(vary)
    # The scenario as given comes first, so every varied value reads against it.
    rows = [{**predict(base).to_dict(), "baseline": True, "varied": {"path": path, "value": None}}]
    for v, p in zip(values, vary_path(base, path, values), strict=True):
        d = p.to_dict()
        d["baseline"] = False
        d["varied"] = {"path": path, "value": v}
        rows.append(d)
    if as_json:
        _emit_json(rows)
        return
    tables.print_whatif(base, path, rows)


@app.command()
@with_quick_flags
def search(
    scenario: str = typer.Argument(None, help="Scenario YAML file (its parallelism and batch are searched), or "
                                   "give the scenario as flags"),
    slo: list[str] = typer.Option([], "--slo", help="a constraint KEY<=VALUE (or <, >=, >), e.g. tpot_s<=0.05; "
                                  "repeat for several"),
    objective: str = typer.Option("output_tok_s_per_chip", "--objective",
                                  help="a prediction key to maximise or minimise (by its meaning, or max:/min:), "
                                  "or a varied path (inverse design: min:chip.memory[0].bandwidth_bytes_per_s)"),
    vary: list[str] = typer.Option([], "--vary", help="PATH=V1,V2,... or PATH=LO..HI:log:N; repeat for several"),
    top: int = typer.Option(5, "--top", min=1, help="how many of the best configurations to list"),
    disaggregate: bool = typer.Option(False, "--disaggregate", help="search prefill/decode pools: every split "
                                      "of the chips and every mapping of each pool"),
    workers: int = typer.Option(None, "--workers", help="price the space on this many Ray workers (each within "
                                "the budget, so a space N times larger is searched whole); needs llmhw[ray]"),
    address: str = typer.Option(None, "--address", help="price the space on a Ray cluster: auto, HOST:PORT or "
                                "ray://HOST:PORT (docs/scale.md)"),
    as_json: bool = JSON_OPT,
    quick: dict[str, Any] | None = None,
) -> None:
    """The best configuration under service-level objectives: every mapping, batch and varied value
    (docs/search.md)."""
    from rich.progress import Progress

    from llmhw.api import search as run_search
    from llmhw.explore.parallel import MissingExtra, TaskFailed
    from llmhw.explore.vary import parse_vary

    base = _scenario_input(scenario, quick or {}, one_pool=True)
    varied = dict(parse_vary(v) for v in vary)
    try:
        with Progress(console=tables.err, transient=True, disable=as_json) as bar:
            task = bar.add_task("searching", total=None)
            res = run_search(base, slo, objective, varied, top, disaggregate=disaggregate, workers=workers,
                             address=address, progress=lambda i, n: bar.update(task, completed=i, total=n))
    except (MissingExtra, TaskFailed) as exc:
        raise Failed(str(exc)) from None
    if as_json:
        _emit_json(res.to_dict())
        return
    tables.print_search(base, res)


# -- sweep and query (docs/scale.md): a spec's points into a Parquet store, and SQL over it

# Rows a terminal table of `llmhw query` shows; --csv and --json print them all.
QUERY_TABLE_ROWS = 200


@app.command("sweep")
def sweep_cmd(
    spec: str = typer.Argument(..., help="Sweep spec YAML: base scenario, axes, sample, filter, metrics "
                               "(docs/scale.md)"),
    out_dir: str = typer.Option(..., "--out", help="Folder of the store: a Parquet file per chunk and "
                                "manifest.json"),
    workers: int = typer.Option(None, "--workers", help="Ray worker processes on this machine (default: every "
                                "core); 0 runs in this process, without Ray"),
    address: str = typer.Option(None, "--address", help="a Ray cluster to run on: auto, or ray://HOST:PORT"),
    resume: bool = typer.Option(False, "--resume", help="Finish the sweep already in --out: its finished chunks "
                                "are kept, the rest priced"),
    as_json: bool = JSON_OPT,
) -> None:
    """Price every point of a sweep spec into a Parquet store (on Ray workers when Ray is installed,
    else in this process); `llmhw query` reads it."""
    from rich.progress import BarColumn, Progress, ProgressColumn, TextColumn, TimeRemainingColumn
    from rich.text import Text

    from llmhw.explore.parallel import MissingExtra
    from llmhw.explore.sweep_run import run_sweep
    from llmhw.explore.sweep_spec import load_spec

    class Rate(ProgressColumn):
        def render(self, task: Any) -> Text:
            return Text(f"{task.speed:,.0f} points/s" if task.speed else "", style="progress.data.speed")

    if workers is not None and workers < 0:
        raise LlmhwError(f"expected 0 or more, got {workers}", field="--workers", accepted="0 (this process) or N")
    sp = load_spec(_input_file(spec, "SPEC"))
    notes: list[str] = []
    try:
        with Progress(TextColumn("sweeping"), BarColumn(), TextColumn("{task.completed:,.0f}/{task.total:,.0f} points"),
                      Rate(), TimeRemainingColumn(), console=err, transient=True, disable=as_json) as bar:
            task = bar.add_task("sweep", total=sp.points)

            def log(text: str) -> None:
                notes.append(text)
                if not as_json:
                    bar.console.print(escape(text), style="dim", highlight=False)
            res = run_sweep(sp, out_dir, workers=workers or None, address=address, resume=resume,
                            use_ray=False if workers == 0 else None, log=log,
                            progress=lambda done, total: bar.update(task, completed=done, total=total))
    except MissingExtra as exc:
        raise Failed(str(exc)) from None
    if as_json:
        _emit_json(res.to_dict())
    else:
        out.print(f"{res.points:,} points in {res.chunks:,} chunks ({res.chunks_run:,} priced now, "
                  f"{res.mode}, {res.workers} worker(s)): {res.rows:,} rows stored"
                  + (f", {res.invalid:,} invalid points skipped" if res.invalid else "")
                  + f"; {res.seconds:.1f} s, {res.points_per_s:,.0f} points/s", highlight=False, markup=False)
        for n in res.notes:
            if n not in notes:
                out.print(f"note: {n}", highlight=False, markup=False)
        out.print(f'query it: llmhw query {res.out} "SELECT * FROM sweep LIMIT 10"', highlight=False, markup=False)
    if res.failed:
        raise Failed(f"{len(res.failed)} chunk(s) failed after every retry; llmhw sweep --resume prices them")


@app.command("query")
def query_cmd(
    store: str = typer.Argument(..., help="A sweep's folder (llmhw sweep --out)"),
    sql: str = typer.Argument(None, help='DuckDB SQL over the view sweep, e.g. "SELECT engine, max(tok_s_per_user) '
                              'FROM sweep WHERE fits GROUP BY engine"'),
    pareto: str = typer.Option(None, "--pareto", help="X,Y: the Pareto front of two columns (of SQL's rows, default "
                               "every row), each by its meaning or with max:/min:"),
    as_csv: bool = typer.Option(False, "--csv", help="Print CSV instead of a table."),
    as_json: bool = JSON_OPT,
) -> None:
    """SQL over a sweep's Parquet store (DuckDB; the rows are the view `sweep`), or its Pareto front."""
    import csv

    from llmhw.explore.parallel import MissingExtra
    from llmhw.explore.query import pareto as pareto_front
    from llmhw.explore.query import query as run_query

    if as_csv and as_json:
        raise LlmhwError("choose one output format", field="--csv", accepted="--csv or --json, not both")
    if sql is None and pareto is None:
        raise LlmhwError("give a query or --pareto X,Y", field="SQL", accepted='e.g. "SELECT * FROM sweep LIMIT 10"')
    try:
        res = pareto_front(store, pareto.split(","), sql) if pareto is not None else run_query(store, sql)
    except MissingExtra as exc:
        raise Failed(str(exc)) from None
    for n in res.notes:
        err.print(f"note: {escape(n)}", style="dim", highlight=False)
    if as_json:
        _emit_json([{k: _finite_or_none(v) for k, v in r.items()} for r in res.records()])
        return
    if as_csv:
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(res.columns)
        w.writerows(res.rows)
        return
    from rich.table import Table

    table = Table(show_lines=False)
    for c in res.columns:
        table.add_column(escape(c), overflow="fold")
    for r in res.rows[:QUERY_TABLE_ROWS]:
        table.add_row(*(escape(_cell(v)) for v in r))
    out.print(table)
    if len(res.rows) > QUERY_TABLE_ROWS:
        out.print(f"{len(res.rows):,} rows; the first {QUERY_TABLE_ROWS} shown (LIMIT, --csv or --json for more)",
                  highlight=False, markup=False)


def _finite_or_none(v: Any) -> Any:
    """A query's value as strict JSON takes it: NaN and infinities (a memory that never wears
    out, a division by zero in the SQL) become null."""
    return None if isinstance(v, float) and not math.isfinite(v) else v


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


@app.command()
@with_quick_flags
def simulate(
    scenario: str = typer.Argument(None, help="Scenario YAML file (or give the scenario as flags)"),
    batch_file: str = typer.Option(None, "--batch", metavar="FILE|N", help="JSONL file: one scenario mapping per line (its "
                                   "workload.arrival gives the load); one JSON object per line out. As a "
                                   "scenario flag: the requests in flight (a number or max)"),
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
    quick: dict[str, Any] | None = None,
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
    quick = dict(quick or {})
    if _batch_size(batch_file):
        quick["batch"], batch_file = batch_file, None
    if batch_file:
        _simulate_batch(batch_file, requests, seed, as_json)
        return
    if find_chips:
        from llmhw.api import find_chips as search_chips

        if rate is None:
            raise LlmhwError("--find-chips needs the load to serve", field="--rate", accepted="--rate R (requests/s)")
        loaded = _scenario_input(scenario, quick)
        if not isinstance(loaded, Scenario):
            raise LlmhwError("--find-chips searches one pool's chips; a disaggregated scenario gives both pools' "
                             "chips itself", field="--find-chips", accepted="--rate R or --find-rate")
        with err.status("finding the fewest chips") as status:
            d = search_chips(loaded, rate, slo, requests, seed, max_chips=max_chips,
                             min_lifetimes=steady, log=lambda m: status.update(escape(m)))
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
            d = search_rate(_scenario_input(scenario, quick), slo, requests, seed, min_lifetimes=steady,
                            log=lambda m: status.update(escape(m)))
    elif concurrency is not None:
        d = run_simulation(_scenario_input(scenario, quick), None, requests, seed, concurrency=concurrency, slo=slo)
    else:      # --rate, else the scenario's workload.arrival
        with err.status("simulating"):
            d = run_simulation(_scenario_input(scenario, quick), rate, requests, seed, slo=slo, min_lifetimes=steady)
    if as_json:
        _emit_json(d)
        return
    tables.print_simulation(d)


def _simulate_batch(path: str, requests: int | None, seed: int | None, as_json: bool) -> None:
    from llmhw.api import simulate as run_simulation

    # Without --requests, each run is lengthened until its arrivals span ten request lifetimes.
    _jsonl(path, lambda s: run_simulation(s, None, requests, seed, min_lifetimes=0.0 if requests else 10.0),
           as_json, "simulate")


@app.command()
def train(scenario: str = typer.Argument(..., help="Scenario YAML file with a training: block"),
          as_json: bool = JSON_OPT) -> None:
    """One training step (docs/training.md): step time, tokens/s, MFU, memory per chip, breakdown.
    ``llmhw predict`` on the same file answers the same."""
    from llmhw.core.io import read_yaml

    p = _input_file(scenario, "scenario")
    raw = read_yaml(p, field="scenario", mapping=True)
    if "training" not in raw:
        raise LlmhwError("missing the training: block", field="training",
                         accepted="sequence_length, global_batch_tokens or global_batch_sequences, micro_batch, ... "
                         "(docs/training.md)")
    _print_training(_TrainingInput(raw, p.parent), as_json)


def _print_training(inp: _TrainingInput, as_json: bool) -> None:
    from llmhw.api import train as train_step

    d = train_step(inp.raw, base_dir=inp.base).to_dict()
    if as_json:
        _emit_json(d)
        return
    par = d["parallelism"]
    mapping = " ".join(f"{k}{v}" for k, v in par.items() if v > 1) or "one chip"
    out.print(f"training step: {escape(d['model'])} on {d['n_chips']:,} x {escape(d['chip'])} ({mapping}), "
              f"{d['micro_batches']:,} micro-batches", highlight=False)
    for k in ("step_time_s", "tokens_per_s", "mfu", "hfu", "energy_per_token_j"):
        out.print(f"{k}: {d[k]:.4g}", highlight=False)
    for k, v in d["breakdown"].items():
        out.print(f"{k}: {v:.4g}", highlight=False)
    mem = d["memory_per_chip"]
    out.print(f"memory per chip: {mem['total'] / 1e9:.3g} GB of {mem['capacity'] / 1e9:.3g} GB "
              f"({'fits' if mem['fits'] else 'does not fit: over by ' + format(mem['total'] / mem['capacity'] - 1, '.0%')})",
              highlight=False)
    out.print(f"HBM traffic per chip: {d['hbm_traffic_per_chip']['total'] / 1e9:,.4g} GB per step, "
              f"{d['arithmetic_intensity_flop_per_byte']:,.4g} FLOP/B; power {d['power_w_per_chip']:.4g} W per chip",
              highlight=False)
    for m in sorted(d["messages"], key=lambda m: -m["count_per_step"] * m["seconds_each"]):
        out.print(f"{m['purpose']}: {m['count_per_step']:,} x {m['kind']} of {m['bytes'] / 1e6:,.4g} MB over "
                  f"{m['group']} chips, {m['seconds_each'] * 1e3:.3g} ms each, {m['latency_share']:.0%} latency",
                  highlight=False)
    g = d["gemm_efficiency"]
    out.print(f"GEMM efficiency: {g['gemm_eff']:.3g} of peak ({g['engine']}, "
              f"{'fitted on published training runs' if g['fitted'] else 'not fitted for this family'})",
              highlight=False)
    for note in d["notes"]:
        out.print(f"note: {escape(note)}", highlight=False)


@app.command()
def validate(
    fit: bool = typer.Option(False, "--fit", help="Refit the efficiency parameters on the measurements first."),
    write: bool = typer.Option(False, "--write", help="With --fit: save the fitted values to calibration.yaml."),
    cross: bool = typer.Option(False, "--cross-validate", help="Also score held-out rows (k-fold, chip held out)."),
    md: str = typer.Option(None, "--markdown", help="Write the full report to this markdown file."),
    training: bool = typer.Option(False, "--training", help="Score the training steps against published training "
                                  "runs instead (--fit/--write/--cross-validate then refer to the training fit)."),
    as_json: bool = JSON_OPT,
) -> None:
    """Predict every shipped published measurement and report the error per family and metric."""
    from llmhw.report import check_output
    from llmhw.validation.validate import markdown, run

    if md is not None:          # refused now, not after the twenty seconds of validation
        check_output(md, "--markdown", folder=False)
    if training:
        _validate_training(fit, write, cross, md, as_json)
        return
    with out.status("validating") as status:
        res = run(fit=fit, cross_validate=cross, write_calibration=write,
                  log=lambda msg: status.update(escape(msg)))
    if md is not None:
        Path(md).parent.mkdir(parents=True, exist_ok=True)
        Path(md).write_text(markdown(res), encoding="utf-8")
    if as_json:
        _emit_json(res.to_dict())
        return
    tables.print_validation(res)


def _validate_training(fit: bool, write: bool, cross: bool, md: str | None, as_json: bool) -> None:
    from llmhw.validation import training as tv

    with out.status("validating training steps"):
        res = tv.run(do_fit=fit, cross_validate=cross, write=write)
    text = tv.markdown(res)
    if md is not None:
        Path(md).parent.mkdir(parents=True, exist_ok=True)
        Path(md).write_text(text + "\n", encoding="utf-8")
    if as_json:
        _emit_json(tv.to_dict(res))
        return
    if res.fitted:
        out.print("fitted: " + ", ".join(f"{k} {v}" for k, v in res.fitted.items()), highlight=False)
    out.print(escape(text), highlight=False)


@app.command()
def study(
    name: str = typer.Argument(..., help=f"A study ({', '.join(STUDY_ORDER)}), or 'all'."),
    out_dir: str = typer.Option("out/report", "--out", help="Directory for index.html, report.md, CSVs and figures."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar on stderr."),
    as_json: bool = JSON_OPT,
) -> None:
    """Run one of the paper's studies, or all of them, and write the report (DIR/index.html, report.md,
    a CSV per table, a PNG and an SVG per figure). Exits 1 if any study failed."""
    from llmhw.report import check_output, resolve, run_studies

    check_output(out_dir, "--out", folder=True)     # refused now, not after minutes of studies
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
        raise typer.Exit(EXIT_FAILED)


@app.command()
def serve(
    port: int = typer.Option(8501, "--port", help="TCP port to listen on"),
    host: str = typer.Option("127.0.0.1", "--host", help="address to listen on (0.0.0.0: every interface)"),
) -> None:
    """Start the web explorer (docs/web.md): Predict, What-if, Search, Serving, Compare and Report
    pages in the browser, at http://HOST:PORT. Needs the web extra: pip install 'llmhw[web]'."""
    from llmhw.web import serve as run_server

    run_server(host, port)


def _error_line(text: str) -> None:
    """One line on stderr: ``error: TEXT``, the text printed as is (user text may hold square
    brackets, which rich would otherwise read as markup), newlines folded, cut to MAX_MESSAGE."""
    err.print(f"[bold red]error[/bold red]: {escape(_short(text))}", highlight=False, soft_wrap=True, markup=True)


def _quiet_stdout() -> None:
    """After a broken pipe (``llmhw models --json | head -1``): point stdout at /dev/null so
    that flushing it at exit does not complain again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass     # not a real file (tests capture it): nothing will be flushed to a pipe


def _plain_metavars(command: Any) -> None:
    """Help that reads like a man page: a flag shows no type tag (typer prints <bool>), a text
    option its name (--out OUT, not <str>), a number N or X."""
    for cmd in [command, *getattr(command, "commands", {}).values()]:
        for p in cmd.params:
            kind = getattr(p, "param_type_name", "")
            if p.metavar is not None or kind not in ("option", "argument"):
                continue
            if kind == "argument":
                p.metavar = (p.name or "value").upper()
            elif getattr(p, "is_flag", False):
                p.metavar = ""
            else:
                ann = getattr(getattr(p, "type_descriptor", None), "annotation", None)
                p.metavar = {int: "N", float: "X"}.get(ann, (p.name or "value").upper())


def run(argv: list[str] | None = None) -> int:
    """Run the command line on ``argv`` (default: the process's) and return its exit code:
    0 on success, 2 on bad input or a usage error (one line on stderr naming the field or the
    option), 1 when a study failed, an input/output operation failed or llmhw hit a bug (one
    line), 130 when interrupted (docs/cli.md). Never a traceback (set LLMHW_TRACEBACK=1 to see
    a bug's)."""
    from typer._click import exceptions as click_errors  # typer's bundled click

    try:
        command = typer.main.get_command(app)
        _plain_metavars(command)
        rv = command.main(args=argv, prog_name="llmhw", standalone_mode=False)
        if rv == EXIT_INTERRUPTED:
            # typer answers a Ctrl-C inside a command by returning 130 (no command of ours does).
            _error_line("interrupted")
        return rv if isinstance(rv, int) else EXIT_OK
    except LlmhwError as exc:
        _error_line(str(exc))
        return EXIT_BAD_INPUT
    except click_errors.NoArgsIsHelpError as exc:
        sys.stdout.write((exc.ctx.get_help() if exc.ctx else "") + "\n")
        return EXIT_OK
    except click_errors.UsageError as exc:
        where = f" ({exc.ctx.command_path})" if exc.ctx and exc.ctx.command_path != "llmhw" else ""
        _error_line(f"{exc.format_message().rstrip('.')}{where}; see llmhw --help")
        return EXIT_BAD_INPUT
    except click_errors.ClickException as exc:
        _error_line(exc.format_message())
        return exc.exit_code
    except typer.Abort:
        _error_line("aborted")
        return EXIT_FAILED
    except typer.Exit as exc:
        return exc.exit_code
    except KeyboardInterrupt:
        _error_line("interrupted")
        return EXIT_INTERRUPTED
    except SystemExit as exc:
        # typer answers a broken pipe with sys.exit(1) (and quiets stdout); the reader has gone,
        # so there is nobody to tell.
        return exc.code if isinstance(exc.code, int) else EXIT_FAILED
    except BrokenPipeError:
        _quiet_stdout()
        return EXIT_FAILED
    except Failed as exc:
        _error_line(str(exc))
        return EXIT_FAILED
    except OSError as exc:
        if exc.errno == errno.EPIPE:
            _quiet_stdout()
            return EXIT_FAILED
        # The paths named on the command line were checked before the work started; this is a
        # path named inside an input (bad input), or a read or write that failed mid-way (a full
        # disk, an I/O error: not the input's fault).
        _error_line(_os_error(exc))
        return EXIT_BAD_INPUT if exc.errno in PATH_ERRNOS else EXIT_FAILED
    except RecursionError:
        _error_line("the input is nested too deeply")
        return EXIT_BAD_INPUT
    except Exception as exc:
        if os.environ.get("LLMHW_TRACEBACK"):
            raise
        _error_line(f"internal error ({type(exc).__name__}): {_short(str(exc), 300)}; please report it "
                    f"(LLMHW_TRACEBACK=1 shows where)")
        return EXIT_FAILED


def main() -> None:
    sys.exit(run())


if __name__ == "__main__":
    main()
