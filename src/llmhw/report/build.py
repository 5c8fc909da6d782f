"""Write studies to disk: a self-contained HTML page, a markdown twin, CSVs, PNGs and SVGs.

    DIR/index.html            one page, opens offline: inline CSS, figures as inline SVG
    DIR/report.md             the same content in markdown, images referenced as files
    DIR/<study>/<table>.csv   one CSV per table (raw values, 6 significant digits)
    DIR/<study>/<figure>.png  and .svg, one pair per figure
"""

from __future__ import annotations

import csv
import html
import io
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from llmhw.studies.base import Figure, Study, Table
from llmhw.studies.style import RC


@dataclass
class StudyFailure:
    """A study that raised: the report gets an error section instead of its results."""

    name: str
    error: str
    traceback: str = ""

    @property
    def title(self) -> str:
        return f"{self.name}: failed"


@dataclass
class ReportPaths:
    """What :func:`render` wrote."""

    index: Path
    markdown: Path
    csv: list[Path] = field(default_factory=list)
    png: list[Path] = field(default_factory=list)
    svg: list[Path] = field(default_factory=list)

    @property
    def all(self) -> list[Path]:
        return [self.index, self.markdown, *self.csv, *self.png, *self.svg]


# -- number and header formatting -------------------------------------------------------------

# Column-name suffix -> unit shown in headers ("tpot_ms" -> "tpot (ms)"). Longest first.
_UNITS: tuple[tuple[str, str], ...] = tuple(sorted({
    "_flop_per_byte": "FLOP/B", "_flop_per_b": "FLOP/B", "_pflop_s": "PFLOP/s", "_tflop_s": "TFLOP/s",
    "_gflop_s": "GFLOP/s", "_tflop": "TFLOP", "_gflop": "GFLOP", "_pb_s": "PB/s", "_tb_s": "TB/s",
    "_gb_s": "GB/s", "_mb_s": "MB/s", "_tok_s_per_chip": "tok/s per chip", "_tok_s_per_user": "tok/s per user",
    "_tok_s": "tok/s", "_tokens": "tokens", "_ms": "ms", "_us": "us", "_ns": "ns", "_s": "s", "_pb": "PB",
    "_tb": "TB", "_gb": "GB", "_mb": "MB", "_kb": "KB", "_pct": "%", "_percent": "%", "_kw": "kW", "_mw": "MW",
    "_w": "W", "_usd": "USD", "_usd_per_mtok": "USD per Mtok", "_j": "J", "_mj": "mJ", "_j_per_token": "J/token",
    "_x": "x", "_mm2": "mm2", "_days": "days", "_years": "years", "_hops": "hops", "_chips": "chips",
}.items(), key=lambda kv: -len(kv[0])))


def header(column: str) -> str:
    """Display text of a column name: its unit suffix in parentheses, underscores as spaces."""
    for suffix, unit in _UNITS:
        if column.endswith(suffix) and len(column) > len(suffix):
            return f"{column[: -len(suffix)].replace('_', ' ')} ({unit})"
    return column.replace("_", " ")


def fmt(v: Any, column: str = "") -> str:
    """A value as the report prints it: 3 significant digits below 10, fewer decimals above,
    thousands separators, '-' for missing; percentages (a ``_pct`` column) to 0.1 below 10, whole
    above."""
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if hasattr(v, "item") and not isinstance(v, str | bytes):       # numpy scalars
        try:
            v = v.item()
        except (ValueError, AttributeError):
            pass
    if _is_year(column) and isinstance(v, int | float) and float(v).is_integer():
        return str(int(v))                          # 2012, not 2,012
    if isinstance(v, float) and v.is_integer() and _is_count(column):
        v = int(v)                                  # 1 hop, not 1.00
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        if math.isnan(v):
            return "-"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        a = abs(v)
        if a == 0:
            return "0"
        if column.endswith(("_pct", "_percent")):
            return f"{v:.0f}" if a >= 9.95 else f"{v:.1f}"
        if a >= 1000:
            return f"{v:,.0f}"
        if a >= 100:
            return f"{v:.0f}"
        if a >= 10:
            return f"{v:.1f}"
        if a >= 1:
            return f"{v:.2f}"
        if a >= 0.001:
            return f"{v:.3g}"
        return f"{v:.2e}"
    return str(v)


def _is_year(column: str) -> bool:
    return column == "year" or column.endswith("_year")


def _is_count(column: str) -> bool:
    """Columns that count whole things (hops, chips, layers, requests in a batch)."""
    return column.endswith(("_hops", "_chips", "_layers", "_count")) or \
        column in ("hops", "chips", "n_chips", "layers", "batch", "tp", "pp", "ep", "dp")


def _csv_value(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if hasattr(v, "item") and not isinstance(v, str | bytes):
        try:
            v = v.item()
        except (ValueError, AttributeError):
            pass
    if isinstance(v, float):
        return "" if math.isnan(v) else f"{v:.6g}"
    return v


def _columns(rows: Sequence[dict[str, Any]]) -> list[str]:
    cols: dict[str, None] = {}
    for r in rows:
        for k in r:
            cols.setdefault(k, None)
    return list(cols)


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) or (hasattr(v, "dtype") and v.dtype.kind in "iuf")


_STEM = re.compile(r"[^A-Za-z0-9_-]+")


def _stem(name: str) -> str:
    return _STEM.sub("-", name).strip("-") or "item"


# -- figures ----------------------------------------------------------------------------------


PNG_DPI = float(RC["savefig.dpi"])


def _save_figure(fig: Figure, directory: Path, prefix: str) -> tuple[Path, Path, str]:
    """Write the figure's SVG and PNG; return their paths and the SVG text for inlining."""
    import matplotlib

    png = directory / f"{_stem(fig.name)}.png"
    svg = directory / f"{_stem(fig.name)}.svg"
    mfig = fig.figure
    if fig.setup:
        _stamp_setup(mfig, fig.setup)
    # Unique ids per figure, so that several SVGs inlined in one page do not share clip paths.
    with matplotlib.rc_context({"svg.hashsalt": prefix}):
        buf = io.StringIO()
        mfig.savefig(buf, format="svg", metadata={"Date": None})
        text = buf.getvalue()
    svg.write_text(text, encoding="utf-8")
    # The layout engine placed everything while drawing the SVG; the PNG reuses that layout
    # (a quarter of the rendering time).
    engine = mfig.get_layout_engine()
    if engine is not None:
        mfig.set_layout_engine("none")
    try:
        # One resolution for every PNG (the style's), whatever the figure was made with.
        mfig.savefig(png, format="png", dpi=PNG_DPI)
    finally:
        if engine is not None:
            mfig.set_layout_engine(engine)
    try:                                   # figures made with pyplot live in its registry
        import matplotlib.pyplot as plt

        if plt.fignum_exists(getattr(mfig, "number", -1)):
            plt.close(mfig)
    except Exception:
        pass
    return png, svg, text


# The setup line on top of a saved figure: small, grey, above any title (the tight bounding box
# of savefig takes in text outside the figure's own frame).
SETUP_FONT_SIZE = 8.5
SETUP_COLOR = "#555555"


def _stamp_setup(mfig: Any, setup: str) -> None:
    """Write the figure's setup line above everything else in it, once."""
    if getattr(mfig, "_llmhw_setup", None) == setup:
        return
    mfig.text(0.5, 1.0, setup, ha="center", va="bottom", fontsize=SETUP_FONT_SIZE, color=SETUP_COLOR,
              fontstyle="italic", transform=mfig.transFigure, wrap=False)
    mfig._llmhw_setup = setup


_XML_HEAD = re.compile(r"<\?xml[^>]*\?>\s*|<!DOCTYPE[^>]*>\s*", re.S)
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.S)
_XMLNS = re.compile(r'\s+xmlns(:\w+)?="[^"]*"')


def _inline_svg(text: str, prefix: str) -> str:
    """The SVG as an element of an HTML page: no XML prologue, no metadata, no namespace URLs
    (the HTML parser puts <svg> in the SVG namespace), ids prefixed to stay unique."""
    text = _XML_HEAD.sub("", text)
    text = _METADATA.sub("", text)
    text = _XMLNS.sub("", text)
    p = _stem(prefix)
    text = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{p}-{m.group(1)}"', text)
    text = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{p}-{m.group(1)}"', text)
    text = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{p}-{m.group(1)})", text)
    # Let the page scale the figure to its column, never past its natural size (pt -> px); a wide
    # figure to the scale narrow ones get.
    def sized(m: re.Match[str]) -> str:
        natural = float(m.group(2)) * 4 / 3
        scale = WIDE_SCALE if float(m.group(2)) / 72.0 > WIDE_FIGURE_IN else 1.0
        return f'<svg{m.group(1)} width="100%" style="max-width:{natural * scale:.0f}px;height:auto"'

    text = re.sub(r'<svg([^>]*?)\swidth="([\d.]+)pt"\s+height="([\d.]+)pt"', sized, text, count=1)
    return text.strip()


def _timing_line(timings: dict[str, float]) -> str:
    """Seconds each study took to compute and draw, for the footer."""
    if not timings:
        return ""
    return " Computed and drawn in " + ", ".join(f"{_e(k)} {v:.1f} s" for k, v in timings.items()) + "."


# Wide figures are shown at the scale the narrow ones get in their half of the page (about 80%
# of their natural size), so text reads the same size in every figure.
WIDE_SCALE = 0.8

# A figure wider than this (inches, as saved) takes a whole row of the page; narrower ones go
# two to a row. 8.5 in: the widest figure whose fonts stay legible at half of a 1,320 px page.
WIDE_FIGURE_IN = 8.5
_SVG_WIDTH = re.compile(r'<svg[^>]*?\swidth="([\d.]+)pt"')


def _is_wide(svg_text: str) -> bool:
    m = _SVG_WIDTH.search(svg_text)
    return bool(m) and float(m.group(1)) / 72.0 > WIDE_FIGURE_IN


# -- HTML -------------------------------------------------------------------------------------

_CSS = """
:root { --ink:#1d1d1f; --muted:#5f6368; --rule:#e3e3e3; --accent:#0b57a4; --bg:#fff; --zebra:#f6f8fa; }
* { box-sizing: border-box; }
body { font: 15px/1.5 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink);
       background: var(--bg); margin: 0; }
main { max-width: 1320px; margin: 0 auto; padding: 20px 28px 60px; }
h1 { font-size: 28px; margin: 8px 0 4px; }
h2 { font-size: 22px; margin: 32px 0 6px; padding-top: 8px; border-top: 2px solid var(--ink); }
h3 { font-size: 16px; margin: 20px 0 6px; }
.sub { color: var(--muted); margin: 0 0 14px; }
.prose { max-width: 1080px; }
nav.toc { background: var(--zebra); border: 1px solid var(--rule); border-radius: 6px; padding: 8px 18px;
          margin-top: 18px; }
nav.toc ol { margin: 4px 0; padding-left: 22px; columns: 2; column-gap: 40px; }
nav.toc .counts { color: var(--muted); font-size: 13px; }
a { color: var(--accent); text-decoration: none; } a:hover { text-decoration: underline; }
.summary li { margin: 6px 0; }
.question { font-size: 15px; border-left: 4px solid var(--accent); margin: 8px 0 10px; padding: 3px 14px;
            background: #f3f7fc; max-width: 1080px; }
.findings { font-size: 14px; line-height: 1.45; padding-left: 22px; margin: 8px 0; }
.findings li { margin: 2px 0; }
details.doubts > summary { cursor: pointer; color: var(--muted); font-size: 14px; }
/* Figures two to a row, packed (a narrow figure after a wide one moves up beside the previous
   narrow one; captions keep their numbers); a wide multi-panel figure takes the whole row. */
.figs { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 8px 32px; align-items: start;
        grid-auto-flow: row dense; }
.figs figure.wide { grid-column: 1 / -1; }
figure { margin: 10px 0; padding: 0; min-width: 0; }
figure svg { display: block; margin: 0 auto; }
figcaption { color: var(--ink); font-size: 13px; line-height: 1.45; margin-top: 4px; }
figcaption b { white-space: nowrap; }
figcaption .setup { display: block; color: var(--muted); font-size: 12.5px; margin-top: 2px; }
/* Tables fold, two titles to a row: a reader opens the one they want (it takes the whole row);
   the CSV next to the page holds every row. */
.tables { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 0 32px; margin-top: 10px;
          border-bottom: 1px solid var(--rule); }
details.table { border-top: 1px solid var(--rule); padding: 5px 0; min-width: 0; }
details.table[open] { grid-column: 1 / -1; }
details.table > summary { cursor: pointer; font-size: 14.5px; }
details.table > summary .counts { color: var(--muted); font-size: 13px; }
.tablewrap { overflow-x: auto; margin: 6px 0 4px; }
table { border-collapse: collapse; font-size: 13px; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 9px; border-bottom: 1px solid var(--rule); vertical-align: top; }
th { text-align: left; background: var(--zebra); border-bottom: 2px solid #c8c8c8; font-weight: 600; }
td.num, th.num { text-align: right; white-space: nowrap; }
td.text { min-width: 9ch; }
tbody tr:nth-child(even) td { background: #fbfbfc; }
.note { color: var(--muted); font-size: 13px; margin: 4px 0 8px; max-width: 1080px; }
.files { color: var(--muted); font-size: 12.5px; margin: 4px 0; }
.error { border: 1px solid #d93025; background: #fce8e6; padding: 10px 14px; border-radius: 6px; }
.error pre { white-space: pre-wrap; font-size: 12px; margin: 8px 0 0; }
footer { color: var(--muted); font-size: 12.5px; margin-top: 50px; border-top: 1px solid var(--rule);
         padding-top: 10px; }
@media (max-width: 900px) { .figs { grid-template-columns: minmax(0, 1fr); } nav.toc ol { columns: 1; } }
/* Paper: no contents box or scroll bars, every table open (the script below opens them before
   printing), tables and figures kept whole on a page, links as text. */
@media print {
  body { font-size: 10.5pt; }
  main { max-width: none; padding: 0; }
  nav.toc { display: none; }
  .tablewrap { overflow: visible; }
  table { font-size: 8.5pt; }
  figure, table, .summary li { break-inside: avoid; }
  section { break-before: page; }
  a { color: inherit; text-decoration: none; }
}
"""

# Folded tables open for printing and close again after: the only script, inline.
_PRINT_SCRIPT = ("<script>addEventListener('beforeprint',()=>document.querySelectorAll('details:not([open])')"
                 ".forEach(d=>{d.open=true;d.dataset.printed='1'}));addEventListener('afterprint',()=>"
                 "document.querySelectorAll('details[data-printed]').forEach(d=>{d.open=false;delete d.dataset.printed}))"
                 "</script>")


def _e(s: Any) -> str:
    return html.escape(str(s), quote=True)


# Rows a table shows in the page (HTML and markdown); a longer one shows its first rows and
# points at its CSV, which holds them all: a reader skims forty rows, and 300 made a report
# 95,000 pixels tall.
PAGE_ROWS = 40


def _page_rows(t: Table) -> list[dict[str, Any]]:
    return list(t.rows[:PAGE_ROWS])


def _more(t: Table, rel: str) -> str:
    """The line under a table cut to the page: how many rows are shown, where the rest are."""
    return f"The first {PAGE_ROWS} of {len(t.rows)} rows; all of them in {rel}."


def _html_table(t: Table) -> str:
    cols = _columns(t.rows)
    numeric = {c for c in cols if any(_is_number(r.get(c)) for r in t.rows)}
    kind = {c: "num" if c in numeric else "text" for c in cols}
    head = "".join(f'<th class="{kind[c]}">{_e(header(c))}</th>' for c in cols)
    body = []
    for r in _page_rows(t):
        cells = "".join(f'<td class="{kind[c]}">{_e(fmt(r.get(c), c))}</td>' for c in cols)
        body.append(f"<tr>{cells}</tr>")
    return (f'<div class="tablewrap"><table><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


def _md_table(t: Table) -> str:
    cols = _columns(t.rows)
    if not cols:
        return "(empty table)\n"
    numeric = {c for c in cols if any(_is_number(r.get(c)) for r in t.rows)}

    def cell(s: str) -> str:
        return s.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cell(header(c)) for c in cols) + " |",
             "|" + "|".join("---:" if c in numeric else "---" for c in cols) + "|"]
    for r in _page_rows(t):
        lines.append("| " + " | ".join(cell(fmt(r.get(c), c)) for c in cols) + " |")
    return "\n".join(lines) + "\n"


def _write_csv(t: Table, path: Path) -> None:
    cols = _columns(t.rows)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for r in t.rows:
            w.writerow([_csv_value(r.get(c)) for c in cols])


@dataclass
class WrittenStudy:
    """A study whose files are on disk: its text and tables, and each figure's SVG for inlining
    (the matplotlib figures themselves are dropped, so the record pickles cheaply)."""

    study: Study
    svgs: list[str]
    png: list[Path]
    svg: list[Path]
    csv: list[Path]


def write_study(study: Study, out_dir: str | Path) -> WrittenStudy:
    """Write one study's CSVs, PNGs and SVGs under ``out_dir/<study>/``."""
    out = Path(out_dir)
    sdir = out / _stem(study.name)
    sdir.mkdir(parents=True, exist_ok=True)
    svgs, pngs, svgp, csvs = [], [], [], []
    for fg in study.figures:
        png, svg, text = _save_figure(fg, sdir, f"{_stem(study.name)}-{_stem(fg.name)}")
        pngs.append(png)
        svgp.append(svg)
        svgs.append(text)
    for t in study.tables:
        path = sdir / f"{_stem(t.name)}.csv"
        _write_csv(t, path)
        csvs.append(path)
    light = Study(name=study.name, title=study.title, question=study.question, tables=list(study.tables),
                  figures=[Figure(f.name, f.caption, None, f.setup) for f in study.figures],
                  findings=list(study.findings), summary=study.summary)
    return WrittenStudy(light, svgs, pngs, svgp, csvs)


def render(studies: Iterable[Study | StudyFailure], out_dir: str | Path, *,
           title: str = "llmhw: LLM inference on real and hypothetical hardware",
           timings: dict[str, float] | None = None) -> ReportPaths:
    """Write every study (and an error section per failed one) under ``out_dir``: index.html,
    report.md, and each study's CSVs, PNGs and SVGs."""
    items = [s if isinstance(s, StudyFailure) else write_study(s, out_dir) for s in studies]
    return assemble(items, out_dir, title=title, timings=timings)


def assemble(items: Sequence[WrittenStudy | StudyFailure], out_dir: str | Path, *,
             title: str = "llmhw: LLM inference on real and hypothetical hardware",
             timings: dict[str, float] | None = None) -> ReportPaths:
    """Write index.html and report.md for studies whose files :func:`write_study` wrote."""
    from llmhw.core import __version__

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = ReportPaths(index=out / "index.html", markdown=out / "report.md")
    toc: list[str] = []
    sections: list[str] = []
    md: list[str] = [f"# {title}\n", f"llmhw {__version__}, {date.today().isoformat()}.\n", "## Contents\n"]
    md_body: list[str] = []
    timings = timings or {}
    summary, md_summary = _summary(items)

    for i, item in enumerate(items, start=1):
        if isinstance(item, StudyFailure):
            anchor = f"study-{_stem(item.name)}"
            toc.append(f'<li><a href="#{anchor}">{_e(item.title)}</a></li>')
            md.append(f"{i}. [{item.title}](#{anchor})")
            sections.append(
                f'<section id="{anchor}"><h2>{i}. {_e(item.title)}</h2><div class="error">'
                f"<b>{_e(item.error)}</b><pre>{_e(item.traceback)}</pre></div></section>")
            md_body.append(f'\n<a id="{anchor}"></a>\n\n## {i}. {item.title}\n\n**{item.error}**\n\n'
                           f"```\n{item.traceback.rstrip()}\n```\n")
            continue
        s = item.study
        paths.png += item.png
        paths.svg += item.svg
        paths.csv += item.csv
        anchor = f"study-{_stem(s.name)}"
        parts: list[str] = [f'<section id="{anchor}"><h2>{i}. {_e(s.title)}</h2>',
                            f'<p class="question">{_e(s.question)}</p>']
        mdp: list[str] = [f'\n<a id="{anchor}"></a>\n\n## {i}. {s.title}\n', f"> {s.question}\n"]
        if s.findings:
            shown, doubts = _split_doubts(s.findings)
            parts.append('<ul class="findings">'
                         + "".join(f"<li>{_e(f)}</li>" for f in shown) + "</ul>")
            if doubts:
                parts.append('<details class="doubts"><summary>Assumptions and doubts</summary><ul class="findings">'
                             + "".join(f"<li>{_e(f)}</li>" for f in doubts) + "</ul></details>")
            mdp.append("**Findings**\n\n" + "\n".join(f"- {f}" for f in s.findings) + "\n")
        figs: list[str] = []
        for j, (fg, text, png, svg) in enumerate(zip(s.figures, item.svgs, item.png, item.svg, strict=True), start=1):
            fid = f"{anchor}-fig-{_stem(fg.name)}"
            label = f"Figure {i}.{j}"
            setup = f'<span class="setup">Setup: {_e(fg.setup)}</span>' if fg.setup else ""
            wide = ' class="wide"' if _is_wide(text) else ""
            figs.append(f'<figure id="{fid}"{wide}>{_inline_svg(text, fid)}'
                        f"<figcaption><b>{label}.</b> {_e(fg.caption)}{setup}</figcaption></figure>")
            md_setup = f" Setup: {fg.setup}." if fg.setup else ""
            mdp.append(f"![{label}]({png.relative_to(out).as_posix()})\n\n*{label}. {fg.caption}*{md_setup} "
                       f"([SVG]({svg.relative_to(out).as_posix()}))\n")
        if figs:
            parts.append(f'<div class="figs">{"".join(figs)}</div>')
        tables: list[str] = []
        for j, (t, path) in enumerate(zip(s.tables, item.csv, strict=True), start=1):
            tid = f"{anchor}-table-{_stem(t.name)}"
            rel = path.relative_to(out).as_posix()
            label = f"Table {i}.{j}"
            counts = f"{len(t.rows):,} row{'s' if len(t.rows) != 1 else ''}"
            more = f'<p class="note">{_e(_more(t, rel))}</p>' if len(t.rows) > PAGE_ROWS else ""
            note = f'<p class="note">{_e(t.note)}</p>' if t.note else ""
            tables.append(f'<details class="table" id="{tid}"><summary><b>{label}.</b> {_e(t.title)} '
                          f'<span class="counts">({counts})</span></summary>{_html_table(t)}{more}{note}'
                          f'<p class="files">CSV: <a href="{_e(rel)}">{_e(rel)}</a></p></details>')
            mdp.append(f"### {label}. {t.title}\n\n{_md_table(t)}")
            if len(t.rows) > PAGE_ROWS:
                mdp.append(f"{_more(t, rel)}\n")
            if t.note:
                mdp.append(f"{t.note}\n")
            mdp.append(f"CSV: [{rel}]({rel})\n")
        if tables:
            parts.append(f'<div class="tables">{"".join(tables)}</div>')
        parts.append("</section>")
        sections.append("".join(parts))
        counts = f"{len(s.figures)} figure{'s' if len(s.figures) != 1 else ''}, " \
                 f"{len(s.tables)} table{'s' if len(s.tables) != 1 else ''}"
        toc.append(f'<li><a href="#{anchor}">{_e(s.title)}</a> <span class="counts">({counts})</span></li>')
        md.append(f"{i}. [{s.title}](#{anchor})")
        md_body.append("\n".join(mdp))

    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body><main>"
        f"<h1>{_e(title)}</h1>"
        f'<p class="sub">The questions of Ma and Patterson, <i>Challenges and Research Directions for Large Language '
        f"Model Inference Hardware</i> (2026), computed by llmhw {__version__} on {date.today().isoformat()}. "
        f"Every number comes from the sourced hardware and model catalogs through the engine; tables are also "
        f"written as CSV, figures as PNG and SVG, next to this page.</p>"
        f"{summary}"
        f'<nav class="toc"><b>Contents</b><ol>{"".join(toc)}</ol></nav>'
        f'{"".join(sections)}'
        f"<footer>Generated by <code>llmhw study</code>. Self-contained: opens offline. Tables are folded: "
        f"click a title to open one; printing opens them all.{_timing_line(timings)}</footer>"
        f"</main>{_PRINT_SCRIPT}</body></html>\n")
    paths.index.write_text(page, encoding="utf-8")
    md[2:2] = md_summary
    paths.markdown.write_text("\n".join(md) + "\n" + "\n".join(md_body), encoding="utf-8")
    return paths


# A finding that opens with this states a study's assumptions and doubts: the page folds those
# under the findings (a reader who wants them opens one line); the markdown keeps them in place.
DOUBTS_PREFIX = "Assumptions and doubts:"


def _split_doubts(findings: Sequence[str]) -> tuple[list[str], list[str]]:
    shown = [f for f in findings if not f.startswith(DOUBTS_PREFIX)]
    doubts = [f[len(DOUBTS_PREFIX):].strip() for f in findings if f.startswith(DOUBTS_PREFIX)]
    return shown, doubts


# Findings the summary quotes for a study that wrote no summary: the first is its answer.
SUMMARY_FINDINGS = 1


def _summary(items: Sequence[WrittenStudy | StudyFailure]) -> tuple[str, list[str]]:
    """The report's summary, on top: each study's question, its first findings (the answer, with
    its key figure) and a link to its section; a failed study says so. HTML and markdown."""
    html_items, md_items = [], ["## Summary\n"]
    for i, item in enumerate(items, start=1):
        anchor = f"study-{_stem(item.name if isinstance(item, StudyFailure) else item.study.name)}"
        if isinstance(item, StudyFailure):
            html_items.append(f'<li><a href="#{anchor}">{_e(item.title)}</a>: the study failed ({_e(item.error)}).</li>')
            md_items.append(f"{i}. [{item.title}](#{anchor}): the study failed ({item.error}).")
            continue
        s = item.study
        said = s.summary or " ".join(s.findings[:SUMMARY_FINDINGS]) or "(no findings)"
        html_items.append(f'<li><a href="#{anchor}"><b>{_e(s.title)}</b></a>. {_e(said)}</li>')
        md_items.append(f"{i}. [**{s.title}**](#{anchor}). {said}")
    html_out = f'<section class="summary prose"><h2>Summary</h2><ol>{"".join(html_items)}</ol></section>'
    return html_out, [*md_items, ""]
