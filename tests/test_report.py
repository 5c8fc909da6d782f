"""The report: files written, self-contained HTML, error sections, the `llmhw study` command."""

import csv
import re
import sys
import types

import pytest
from typer.testing import CliRunner

from llmhw.cli import app
from llmhw.report import StudyFailure, fmt, header, render, run_one, run_studies
from llmhw.report import run as run_mod
from llmhw.studies import style
from llmhw.studies.base import Figure, Study, Table


def _tiny_study(name: str = "tiny") -> Study:
    fig, ax = style.figure(4, 3)
    ax.plot([1, 10, 100], [3, 30, 300], marker="o", color=style.color("h100-sxm"), label="H100")
    style.log_axis(ax, "xy")
    ax.set_xlabel("batch (requests)")
    ax.set_ylabel("throughput (tok/s)")
    ax.legend()
    return Study(
        name=name, title="A tiny study", question="Does the report render a study?",
        tables=[Table("speed", "Speed per batch", [{"batch": 1, "tpot_ms": 12.3456, "fits": True},
                                                    {"batch": 8, "tpot_ms": 15.0, "fits": False}],
                      note="made up")],
        figures=[Figure("throughput", "Throughput grows with batch on a log scale.", fig)],
        findings=["Throughput grows 100x from batch 1 to 100."])


def test_render_writes_every_file(tmp_path):
    paths = render([_tiny_study()], tmp_path)
    assert paths.index == tmp_path / "index.html" and paths.markdown == tmp_path / "report.md"
    for p in paths.all:
        assert p.is_file() and p.stat().st_size > 0, p
    assert (tmp_path / "tiny" / "speed.csv").is_file()
    assert (tmp_path / "tiny" / "throughput.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<svg" in (tmp_path / "tiny" / "throughput.svg").read_text()
    rows = list(csv.DictReader((tmp_path / "tiny" / "speed.csv").open()))
    assert rows == [{"batch": "1", "tpot_ms": "12.3456", "fits": "true"},
                    {"batch": "8", "tpot_ms": "15", "fits": "false"}]


def test_index_is_self_contained(tmp_path):
    html = render([_tiny_study()], tmp_path).index.read_text()
    # No resource is fetched from anywhere: no URL at all, no external script, style sheet or image.
    assert not re.search(r"https?://", html)
    assert "<script src" not in html and "<link" not in html and "<img" not in html
    assert html.count("<script") == 1 and "beforeprint" in html     # the one inline script: print opens tables
    assert html.count("<svg") == 1                     # the figure, inline
    assert "Throughput grows with batch" in html        # its caption
    assert "Figure 1.1." in html and "<b>Table 1.1.</b> Speed per batch" in html
    assert "tpot (ms)" in html and "12.3" in html        # units in headers, rounded numbers
    assert 'href="#study-tiny"' in html                 # the table of contents
    md = (tmp_path / "report.md").read_text()
    assert "![Figure 1.1](tiny/throughput.png)" in md and "| batch | tpot (ms) | fits |" in md


def test_inline_svgs_get_unique_ids(tmp_path):
    a, b = _tiny_study("one"), _tiny_study("two")
    html = render([a, b], tmp_path).index.read_text()
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids))


def test_header_and_number_format():
    assert header("tpot_ms") == "tpot (ms)"
    assert header("bandwidth_tb_s") == "bandwidth (TB/s)"
    assert header("decode_intensity_flop_per_byte") == "decode intensity (FLOP/B)"
    assert header("model") == "model"
    assert fmt(1234567.0) == "1,234,567" and fmt(123.4) == "123" and fmt(12.34) == "12.3"
    assert fmt(1.2345) == "1.23" and fmt(0.012345) == "0.0123" and fmt(None) == "-" and fmt(True) == "yes"
    assert fmt(4.1709, "decode_comm_pct") == "4.2" and fmt(40.86, "decode_comm_pct") == "41"
    assert fmt(3) == "3" and fmt(float("nan")) == "-"


@pytest.fixture
def fake_studies(monkeypatch):
    """Two studies in llmhw.studies: one works, one raises."""
    ok = types.ModuleType("llmhw.studies.fake_ok")
    ok.run = lambda: _tiny_study("fake_ok")
    bad = types.ModuleType("llmhw.studies.fake_bad")

    def boom():
        raise RuntimeError("the study broke")

    bad.run = boom
    monkeypatch.setitem(sys.modules, "llmhw.studies.fake_ok", ok)
    monkeypatch.setitem(sys.modules, "llmhw.studies.fake_bad", bad)
    monkeypatch.setattr(run_mod, "available_studies", lambda: ["fake_ok", "fake_bad"])


def test_a_failing_study_becomes_an_error_section(tmp_path, fake_studies):
    assert isinstance(run_one("fake_bad"), StudyFailure)
    res = run_studies("all", tmp_path, progress=False, workers=0)
    assert not res.ok and [f.name for f in res.failures] == ["fake_bad"]
    assert res.outcome == {"fake_ok": "ok", "fake_bad": "failed"}
    html = res.paths.index.read_text()
    assert "A tiny study" in html and "fake_bad: failed" in html and "the study broke" in html
    assert (tmp_path / "fake_ok" / "throughput.png").is_file()


def test_cli_study_exits_nonzero_when_a_study_fails(tmp_path, fake_studies):
    r = CliRunner().invoke(app, ["study", "all", "--out", str(tmp_path), "--no-progress"])
    assert r.exit_code == 1, r.output
    assert (tmp_path / "index.html").is_file()
    r = CliRunner().invoke(app, ["study", "fake_ok", "--out", str(tmp_path / "ok"), "--no-progress", "--json"])
    assert r.exit_code == 0, r.output
    assert '"fake_ok": "ok"' in r.output


def test_unknown_study_names_the_accepted_ones():
    from llmhw.core.errors import LlmhwError
    from llmhw.report import resolve

    with pytest.raises(LlmhwError, match="trends"):
        resolve("nope")


def test_all_lists_the_studies_in_the_report_order():
    from llmhw.report import STUDY_ORDER, available_studies

    names = available_studies()
    assert names[0] == "trends" and "base" not in names
    known = [n for n in names if n in STUDY_ORDER]
    assert known == sorted(known, key=STUDY_ORDER.index)


def test_style_colours_are_stable():
    assert style.color("h100-sxm") == style.color("hgx-h100-8")
    assert style.color("pnm-hbm") == style.color("pnm")
    assert style.color("something-new") == style.color("something-new")
    assert style.label("h100-sxm") == "H100"


def test_a_long_table_shows_its_first_rows_and_points_at_the_csv(tmp_path):
    from llmhw.report.build import PAGE_ROWS

    s = _tiny_study()
    rows = [{"batch": b, "tpot_ms": float(b)} for b in range(1, 3 * PAGE_ROWS + 1)]
    s.tables.append(Table("long", "A long table", rows))
    paths = render([s], tmp_path)
    html = paths.index.read_text()
    section = html.split("<b>Table 1.2.</b> A long table")[1]
    assert "(120 rows)" in section.split("</summary>")[0]                    # the count on the folded line
    assert section.split("</table>")[0].count("<tr>") == PAGE_ROWS + 1          # header + the first rows
    assert f"The first {PAGE_ROWS} of {3 * PAGE_ROWS} rows; all of them in tiny/long.csv." in html
    assert len(list(csv.DictReader((tmp_path / "tiny" / "long.csv").open()))) == 3 * PAGE_ROWS
    md = paths.markdown.read_text().split("### Table 1.2. A long table")[1]
    assert md.count("\n| ") == PAGE_ROWS + 1


def test_years_counts_and_large_values_read_as_written():
    from llmhw.cli_tables import g3

    assert fmt(2012, "year") == "2012" and fmt(2012.0, "launch_year") == "2012"
    assert fmt(1.0, "hops") == "1" and fmt(8.0, "n_chips") == "8" and fmt(2.0, "tpot_ms") == "2.00"
    assert g3(1054.2) == "1,054" and g3(0.91349) == "0.913" and g3(12.44) == "12.4"


def test_the_summary_answers_each_study_on_top(tmp_path, fake_studies):
    """Before any section: each study's question, its first finding, and a link to its section;
    a failed study is listed as failed."""
    paths = run_studies(["fake_ok", "fake_bad"], tmp_path, progress=False).paths
    html = paths.index.read_text()
    summary = html.split('<section class="summary prose">')[1].split("</section>")[0]
    assert html.index('<section class="summary prose">') < html.index('<section id="study-fake_ok">')
    assert 'href="#study-fake_ok"' in summary
    assert "Throughput grows 100x from batch 1 to 100." in summary
    assert 'href="#study-fake_bad"' in summary and "failed" in summary
    md = paths.markdown.read_text()
    assert md.index("## Summary") < md.index("## Contents")


def test_every_png_has_the_style_resolution_whatever_made_the_figure(tmp_path):
    """A figure made without style.figure (a bare matplotlib Figure) is saved at the report's one
    resolution too: 4 x 3 inches at 150 dpi is about 600 x 450 pixels (tight bounding box)."""
    import struct

    from matplotlib.figure import Figure as MplFigure

    from llmhw.report.build import PNG_DPI

    fig = MplFigure(figsize=(4, 3))
    fig.subplots().plot([1, 2, 3], [1, 4, 9])
    s = Study(name="bare", title="A bare figure", question="Is its resolution the report's?",
              figures=[Figure("bare", "A plain matplotlib figure.", fig)])
    render([s], tmp_path)
    head = (tmp_path / "bare" / "bare.png").read_bytes()[:24]
    width, height = struct.unpack(">II", head[16:24])
    assert PNG_DPI == 150
    assert 0.8 * 4 * PNG_DPI <= width <= 4 * PNG_DPI + 2 and 0.8 * 3 * PNG_DPI <= height <= 3 * PNG_DPI + 2


def test_the_page_has_a_print_stylesheet(tmp_path):
    html = render([_tiny_study()], tmp_path).index.read_text()
    css = html.split("@media print")[1].split("</style>")[0]
    assert "nav.toc { display: none; }" in css and "break-inside: avoid" in css


def test_a_study_s_own_summary_and_figure_setup_reach_the_page_and_the_png(tmp_path):
    """A study's summary replaces the quoted finding; a figure's setup follows its caption in the
    page and the markdown, and is drawn on top of the PNG (the PNG grows by that line)."""
    import struct

    plain = _tiny_study("plain")
    stamped = _tiny_study("stamped")
    stamped.summary = "Throughput grows 100x: batch 1 to 100."
    stamped.figures[0].setup = "Tiny model FP8 on 1 x H100, 128 in / 32 out, batch 1-100"
    paths = render([plain, stamped], tmp_path)
    html = paths.index.read_text()
    summary = html.split('<section class="summary prose">')[1].split("</section>")[0]
    assert "Throughput grows 100x: batch 1 to 100." in summary
    assert '<span class="setup">Setup: Tiny model FP8 on 1 x H100, 128 in / 32 out, batch 1-100</span>' in html
    assert "Setup: Tiny model FP8 on 1 x H100" in paths.markdown.read_text()
    assert "Tiny model FP8 on 1 x H100" in (tmp_path / "stamped" / "throughput.svg").read_text()

    def size(p):
        return struct.unpack(">II", p.read_bytes()[16:24])

    h0 = size(tmp_path / "plain" / "throughput.png")[1]
    h1 = size(tmp_path / "stamped" / "throughput.png")[1]
    assert h1 > h0 + 8                                   # one more line of text on top


def test_wide_figures_take_a_row_and_narrow_ones_share_it(tmp_path):
    from llmhw.report.build import WIDE_FIGURE_IN

    s = _tiny_study()
    fig, ax = style.figure(WIDE_FIGURE_IN + 2, 3)
    ax.plot([1, 2], [1, 2])
    s.figures.append(Figure("wide", "A wide two-panel figure.", fig))
    html = render([s], tmp_path).index.read_text()
    assert '<figure id="study-tiny-fig-wide" class="wide">' in html
    assert '<figure id="study-tiny-fig-throughput">' in html


def test_assumptions_fold_under_the_findings(tmp_path):
    s = _tiny_study()
    s.findings.append("Assumptions and doubts: the numbers are made up.")
    paths = render([s], tmp_path)
    html = paths.index.read_text()
    doubts = html.split('<details class="doubts">')[1].split("</details>")[0]
    assert "the numbers are made up." in doubts
    assert "Throughput grows 100x" not in doubts
    assert "- Assumptions and doubts: the numbers are made up." in paths.markdown.read_text()
