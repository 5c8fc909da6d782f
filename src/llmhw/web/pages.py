"""The explorer's pages: thin Streamlit layers over :mod:`llmhw.web.logic`.

Each page reads its state from the URL on first load, shows its controls in the sidebar, writes
the state it ends with back to the URL (so a link reproduces the view), shows its results, and
ends with its exports. Every computation runs inside :func:`answered`: bad input becomes its
one-line message on the page, never a traceback.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import pandas as pd
import streamlit as st

from llmhw.core.errors import LlmhwError, clip
from llmhw.web import charts, logic

# -- shared pieces -----------------------------------------------------------------------------


@contextmanager
def answered() -> Iterator[None]:
    """Bad input (an LlmhwError) as its message; anything else as one line saying it is a bug."""
    try:
        yield
    except LlmhwError as exc:
        st.error(str(exc))
    except Exception as exc:        # a bug: one line on the page, never a traceback
        st.error(f"internal error ({type(exc).__name__}): {clip(str(exc), 300)}; please report it")


def _key(page: str, name: str) -> str:
    return f"{page}.{name}"


def load(page: str, fields: Sequence[logic.Field]) -> None:
    """Seed the page's controls from the URL when they have no value yet this session (the first
    load of a link, or a return to the page); a refused parameter is named and left at its default."""
    fresh = [f for f in fields if _key(page, f.name) not in st.session_state]
    if not fresh:
        return
    parsed, errors = logic.state_from_query(fields, st.query_params.to_dict())
    for f in fresh:
        st.session_state[_key(page, f.name)] = parsed[f.name]
    for e in errors:
        st.warning(e)


def controls(page: str, fields: Sequence[logic.Field], where: Any = None, disabled: Sequence[str] = ()) -> None:
    """One widget per field, bound to the page's state."""
    where = where if where is not None else st.sidebar
    for f in fields:
        k, off = _key(page, f.name), f.name in disabled
        if f.choices:
            where.selectbox(f.label, f.choices, key=k, help=f.help or None, disabled=off)
        elif f.kind is bool:
            where.checkbox(f.label, key=k, help=f.help or None, disabled=off)
        elif f.kind is int:
            where.number_input(f.label, min_value=int(f.lo) if f.lo is not None else None,
                               max_value=int(f.hi) if f.hi is not None else None, step=1, key=k,
                               help=f.help or None, disabled=off)
        else:
            where.number_input(f.label, min_value=float(f.lo) if f.lo is not None else None,
                               max_value=float(f.hi) if f.hi is not None else None, key=k, format="%g",
                               help=f.help or None, disabled=off)


def state(page: str, fields: Sequence[logic.Field]) -> dict[str, Any]:
    """The page's state after its controls, written to the URL (only what differs from the
    defaults)."""
    values = {f.name: st.session_state[_key(page, f.name)] for f in fields}
    want = logic.state_to_query(fields, values)
    if st.query_params.to_dict() != want:
        st.query_params.from_dict(want)
    return values


def fmt(v: Any, unit: str = "") -> str:
    """A number as the pages show it: four significant figures, thousands separated."""
    if v is None:
        return "n/a"
    if isinstance(v, bool) or isinstance(v, str):
        return str(v)
    text = f"{v:,.4g}" if abs(v) < 1e15 else f"{v:.3e}"
    return f"{text} {unit}".strip()


def _sig(v: Any) -> Any:
    """Floats to four significant figures (still numbers: the table sorts them as numbers)."""
    return float(f"{v:.4g}") if isinstance(v, float) else v


def table(rows: Sequence[Mapping[str, Any]]) -> None:
    st.dataframe(pd.DataFrame([{k: _sig(v) for k, v in r.items()} for r in rows]), hide_index=True)


def export(yaml_text: str, yaml_name: str, commands: Sequence[str], note: str = "") -> None:
    """The page's scenario as a file to download and as the ``llmhw`` command that answers it."""
    with st.expander("Export: scenario YAML and command line", expanded=False):
        if note:
            st.caption(note)
        st.download_button(f"Download {yaml_name}", yaml_text, file_name=yaml_name, mime="text/yaml")
        st.code(yaml_text, language="yaml")
        for c in commands:
            st.code(c, language="bash")


def metrics(rows: Sequence[Mapping[str, Any]], names: Mapping[str, str], base: Sequence[Mapping[str, Any]] | None = None,
            where: Any = None) -> None:
    """Chosen headline numbers (row metric -> label) as large figures, with the change against
    ``base`` when given."""
    where = where if where is not None else st
    cols = where.columns(len(names))
    by = {r["metric"]: r for r in rows}
    old = {r["metric"]: r for r in base} if base else {}
    for col, name in zip(cols, names, strict=True):
        r = by[name]
        delta = None
        if name in old and isinstance(r["value"], float) and isinstance(old[name]["value"], float) and old[name]["value"]:
            delta = f"{(r['value'] / old[name]['value'] - 1) * 100:+.1f}%"
        col.metric(names[name], fmt(r["value"]), delta=delta, delta_color="off", help=label(r))


def label(row: Mapping[str, Any]) -> str:
    """A headline number's label, its unit in brackets (the figure itself stays short)."""
    return f"{row['metric']} ({row['unit']})" if row["unit"] else row["metric"]


@st.cache_data(max_entries=512, show_spinner=False)
def _predicted(scenario: str) -> dict[str, Any]:
    return logic.predict(json.loads(scenario))


def predicted(d: Mapping[str, Any]) -> dict[str, Any]:
    """``logic.predict``, remembered per scenario for the server's sessions (the baseline of a
    what-if does not change when a direction does); an uploaded model is not remembered."""
    try:
        key = json.dumps(d, sort_keys=True)
    except TypeError:
        return logic.predict(d)
    return _predicted(key)


def chart(spec: Mapping[str, Any]) -> None:
    st.vega_lite_chart(spec, width="stretch")


# The headline figures of a prediction, and their short labels (the unit in brackets).
HEADLINE = {"time to first token (TTFT)": "TTFT (ms)", "time per output token (TPOT)": "TPOT (ms)",
            "output throughput per chip": "tokens/s per chip", "speed per user": "tokens/s per user"}

# -- Predict -----------------------------------------------------------------------------------


def predict() -> None:
    page, fields = "predict", logic.scenario_fields()
    st.title("Predict")
    st.caption("One scenario: latency, throughput, memory fit, energy, cost and carbon, the time of one step "
               "of each phase, and where the steps sit on the chip's roofline.")
    load(page, fields)
    controls(page, fields)
    upload = st.sidebar.file_uploader("or your model's config.json (Hugging Face)", type=["json"],
                                      key="predict.upload")
    s = state(page, fields)
    with answered():
        spec = logic.uploaded_model(upload.name, upload.getvalue()) if upload is not None else None
        d = logic.scenario_dict(s)
        run = logic.with_model(d, spec)
        p = predicted(run)
        if spec is not None:
            st.info(f"model: the uploaded {upload.name} ({spec.name}); a link does not carry the file")
            d = logic.scenario_dict(s, model=upload.name)
        rows = logic.summary_rows(p)
        metrics(rows, HEADLINE)
        left, right = st.columns(2)
        with left:
            st.subheader("All figures")
            table([{**r, "value": fmt(r["value"])} for r in rows])
        with right:
            st.subheader("One step of each phase")
            parts = logic.breakdown_rows(p)
            table(parts)
            long = [{"phase": r["phase"], "part": k[:-5], "ms": v} for r in parts
                    for k, v in r.items() if k.endswith("(ms)") and not k.startswith("total")]
            chart(charts.bars(long, "ms", "phase", "part", x_title="ms per step"))
        st.subheader("On the roofline (per chip)")
        roof = logic.roofline(run, p)
        chart(charts.roofline(roof.line(), roof.points, roof.dtype))
        st.caption(f"peak {fmt(roof.peak_flops / 1e12, 'TFLOP/s')} ({roof.dtype}), fastest tier "
                   f"{fmt(roof.bandwidth_bytes_per_s / 1e12, 'TB/s')}; prefill of one prompt, decode of a "
                   f"replica's requests at the mean context")
        for note in p["notes"]:
            st.info(note)
        yaml_text = logic.to_yaml(d)
        note = f"save the uploaded file as {upload.name} next to the YAML" if spec is not None else ""
        export(yaml_text, "scenario.yaml", [logic.command_line("predict", d)], note)


# -- What-if -----------------------------------------------------------------------------------


def whatif() -> None:
    page, fields = "whatif", logic.whatif_fields()
    st.title("What-if")
    st.caption("The paper's four directions on top of a scenario: High Bandwidth Flash, processing in or near "
               "memory, 3D-stacked memory, the scale-up network. The baseline and the variant side by side, "
               "and one control swept.")
    load(page, fields)
    by = {f.name: f for f in fields}
    scen = [f for f in fields if f.name in {g.name for g in logic.scenario_fields()}]
    with st.sidebar.expander("Scenario", expanded=False):
        controls(page, scen, st)
    hbf_on = bool(st.session_state[_key(page, "hbf")])
    directions = [by[n] for n in ("hbf", "hbf_tech", "hbf_gb", "weights_on", "kv_on", "near", "stack", "topology",
                                  "hop_ns")]
    controls(page, directions, disabled=() if hbf_on else ("hbf_tech", "hbf_gb", "weights_on", "kv_on"))
    st.sidebar.markdown("**Sweep one control**")
    controls(page, [by[n] for n in ("sweep", "sweep_lo", "sweep_hi", "sweep_n")])
    s = state(page, fields)
    with answered():
        base, variant = logic.whatif_dicts(s)
        pb, pv = predicted(base), predicted(variant)
        rb, rv = logic.summary_rows(pb), logic.summary_rows(pv)
        st.subheader("Variant (change against the baseline)")
        metrics(rv, HEADLINE, base=rb)
        table([{**r, **{k: fmt(v) for k, v in r.items() if k != "metric"}}
               for r in logic.compare_rows(["baseline", "variant"], [pb, pv])])
        table([{"design": name, **row} for name, p in (("baseline", pb), ("variant", pv))
               for row in logic.breakdown_rows(p) if row["phase"] == "decode"])
        for note in pv["notes"]:
            st.info(note)
        path, label, unit = logic.SWEEPS[s["sweep"]][:3]
        st.subheader(f"The variant against {label}")
        sweep = {k: s[k] for k in ("sweep", "sweep_lo", "sweep_hi", "sweep_n")}
        rows, vary = _swept(json.dumps([logic.swept_base(variant, s), sweep], sort_keys=True))
        x = f"{label} ({unit})"
        for col, y in zip(st.columns(2), ("TPOT (ms)", "tokens/s/chip"), strict=True):
            with col:
                chart(charts.line(rows, x, y, log_x=True, tooltip=("fits", "decode bound")))
        table(rows)
        export(logic.to_yaml(variant), "whatif.yaml",
               [logic.command_line("predict", variant, yaml_name="whatif.yaml"),
                logic.command_line("whatif", variant, ["--vary", vary], yaml_name="whatif.yaml")])


@st.cache_data(max_entries=256, show_spinner=False)
def _swept(request: str) -> tuple[list[dict[str, Any]], str]:
    variant, sweep = json.loads(request)
    return logic.whatif_sweep(variant, sweep)


# -- Search ------------------------------------------------------------------------------------


@st.cache_data(max_entries=64, show_spinner=False)
def _search(request: str) -> dict[str, Any]:
    from llmhw import api

    d, slo, objective, top = json.loads(request)
    return api.search(d, slo, objective, top=top).to_dict()


def search() -> None:
    page, fields = "search", logic.search_fields()
    st.title("Search")
    st.caption("The best mapping and batch for a model on a number of chips under service-level objectives, "
               "and the Pareto front of the objective against speed per user.")
    load(page, fields)
    controls(page, fields)
    s = state(page, fields)
    with answered():
        d, slo, objective, top = logic.search_request(s)
        with st.spinner("searching"):
            res = _search(json.dumps([d, slo, objective, top]))
        best = res["best"] or res["closest"]
        if res["best"] is None:
            st.warning("no configuration meets every SLO; the closest one:")
        if best is not None:
            st.subheader(f"Best: {logic.mapping_label(best['parallelism'])}, batch {best['batch']}")
            metrics(logic.summary_rows(best), HEADLINE)
        st.caption(f"{res['evaluated']:,} configurations priced; objective {res['objective']}; "
                   f"SLOs {', '.join(res['slo']) or 'none'}; rejected: "
                   + ", ".join(f"{k} {v:,}" for k, v in res["rejected"].items()))
        if res["pareto"]:
            st.subheader("Pareto front")
            chart(charts.line(logic.search_rows(res["pareto"]), "tokens/s/user", "objective", y_title=res["objective"],
                              tooltip=("mapping", "batch", "TTFT (ms)", "TPOT (ms)")))
        st.subheader(f"The {top} best")
        table(logic.search_rows(res["top"]))
        for note in res["notes"]:
            st.info(note)
        export(logic.to_yaml(d), "search.yaml",
               [logic.command_line("search", d, logic.search_args(slo, objective, top), "search.yaml")])


# -- Serving -----------------------------------------------------------------------------------


@st.cache_data(max_entries=32, show_spinner=False)
def _serve(request: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    d, rate, requests, seed, slo, base_rate = json.loads(request)
    req = logic.ServingRequest(d, rate, requests, seed, slo)
    return logic.simulate(req), logic.serving_rows(req, base_rate)


def serving() -> None:
    page, fields = "serving", logic.serving_fields()
    st.title("Serving")
    st.caption("Open-loop serving: requests arrive at a rate, are batched continuously by the engine's scheduler; "
               "percentiles, throughput and goodput (requests a second within every SLO), and how they move "
               "with the rate.")
    load(page, fields)
    controls(page, fields, disabled=() if st.session_state[_key(page, "arrival")] == "gamma" else ("cv",))
    s = state(page, fields)
    with answered():
        req = logic.serving_request(s)
        with st.spinner("simulating"):
            r, rows = _serve(json.dumps([req.scenario, req.rate, req.requests, req.seed, req.slo, s["rate"]]))
        cols = st.columns(4)
        cols[0].metric("output throughput (tokens/s)", fmt(r["output_tok_s"]))
        cols[1].metric("goodput (requests/s)", fmt(r.get("goodput_req_s")))
        cols[2].metric("TTFT p99 (ms)", fmt(r["ttft_s"]["p99"] * logic.MS))
        cols[3].metric("TPOT p99 (ms)", fmt(r["tpot_s"]["p99"] * logic.MS))
        if r["saturated"]:
            st.warning("the load saturates the deployment: the queue grows for as long as requests arrive")
        table(logic.percentile_rows(r))
        st.subheader("Against the arrival rate")
        x = "rate (requests/s)"
        for col, y in zip(st.columns(3), ("TTFT p99 (ms)", "TPOT p99 (ms)", "goodput (requests/s)"), strict=True):
            with col:
                chart(charts.line(rows, x, y, tooltip=("saturated",), height=220))
        table(rows)
        export(logic.to_yaml(req.scenario), "serving.yaml",
               [logic.command_line("simulate", req.scenario, req.args(), "serving.yaml")])


# -- Compare -----------------------------------------------------------------------------------


def compare() -> None:
    page, fields = "compare", logic.compare_fields()
    st.title("Compare")
    st.caption("Up to four designs on one model: the headline numbers side by side, and each design's "
               "throughput-interactivity front (batch 1 to the largest that fits) on one plot.")
    load(page, fields)
    controls(page, fields[:6])
    for i in range(1, logic.DESIGNS + 1):
        with st.sidebar.expander(f"Design {i}", expanded=i == 1):
            controls(page, [f for f in fields if f.name in (f"hw{i}", f"tp{i}", f"w{i}")], st)
    s = state(page, fields)
    with answered():
        designs = logic.compare_dicts(s)
        preds = [predicted(d) for _, d in designs]
        names = [n for n, _ in designs]
        table([{k: fmt(v) if k != "metric" else v for k, v in r.items()} for r in logic.compare_rows(names, preds)])
        fronts = [{**pt, "design": n} for n, d in designs for pt in logic.front(d)]
        st.subheader("Fronts")
        chart(charts.line(fronts, "tokens/s/user", "tokens/s/chip", color="design", tooltip=("batch",), height=360))
        dicts = [d for _, d in designs]
        export(logic.to_jsonl(dicts), "compare.jsonl",
               ["llmhw predict --batch compare.jsonl"] + [logic.command_line("predict", d) for d in dicts],
               note="one scenario per line: `llmhw predict --batch compare.jsonl` predicts them all")


# -- Report ------------------------------------------------------------------------------------


@st.cache_resource(show_spinner=False, max_entries=16)
def _study(name: str) -> dict[str, Any]:
    """A study run once per server, its figures drawn to PNG once (matplotlib is not thread-safe:
    sessions share the bytes, not the figures)."""
    import matplotlib.pyplot as plt

    from llmhw.report import run_one

    res = run_one(name)
    if not hasattr(res, "figures"):
        raise LlmhwError(f"study {name} failed: {clip(str(getattr(res, 'error', res)), 300)}", field="study")
    figs = []
    for f in res.figures:
        buf = io.BytesIO()
        f.figure.savefig(buf, format="png", dpi=110, bbox_inches="tight")
        plt.close(f.figure)
        figs.append({"caption": f.caption, "setup": f.setup, "png": buf.getvalue()})
    return {"title": res.title, "question": res.question, "summary": res.summary, "findings": res.findings,
            "figures": figs, "tables": [{"title": t.title, "note": t.note, "rows": t.rows} for t in res.tables]}


def report() -> None:
    from llmhw.report import available_studies

    page = "report"
    fields = logic.report_fields(available_studies())
    st.title("Report")
    st.caption("The paper's studies: their findings, figures and tables (the claims study holds the claims "
               "table). Each study runs once per server; the economics study takes half a minute.")
    load(page, fields)
    controls(page, fields)
    s = state(page, fields)
    with answered():
        with st.spinner(f"running the {s['study']} study"):
            res = _study(s["study"])
        st.header(res["title"])
        st.markdown(f"*{res['question']}*")
        st.markdown(res["summary"] or (res["findings"][0] if res["findings"] else ""))
        for t in res["tables"]:
            with st.expander(f"Table: {t['title']} ({len(t['rows'])} rows)", expanded=s["study"] == "claims"):
                table(t["rows"])
                if t["note"]:
                    st.caption(t["note"])
        cols = st.columns(2)
        for i, f in enumerate(res["figures"]):
            cols[i % 2].image(f["png"], caption=f"{f['caption']} ({f['setup']})" if f["setup"] else f["caption"])
        with st.expander(f"Findings ({len(res['findings'])})", expanded=False):
            st.markdown("\n".join(f"- {f}" for f in res["findings"]))
        st.code(f"llmhw study {s['study']} --out out/report", language="bash")
