"""The report as a reader sees it: index.html rendered by a real browser (headless Chromium).

Asserts what a reader would notice: the page is under 20,000 px tall at 1,400 px wide, nothing
runs off its right edge, every figure and image renders, and the folded tables open. Screenshots
are kept in out/test-artifacts/ (the top of the page and every study section).

Needs Playwright's Python package and a Chromium on the PATH (Debian: `apt-get install chromium`;
.ci/run installs it); skips cleanly without them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.browser import browser_path

from llmhw.report import render
from llmhw.studies import STUDY_ORDER

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "out" / "test-artifacts"
WIDTH = 1400            # px: a laptop browser window
MAX_HEIGHT = 20_000     # px: the bound on the whole page at that width

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")


@pytest.fixture(scope="module")
def page(tmp_path_factory, study_of):
    exe = browser_path()
    if exe is None:
        pytest.skip("no Chromium on the PATH (apt-get install chromium)")
    out = tmp_path_factory.mktemp("report")
    index = render([study_of(name) for name in STUDY_ORDER], out).index
    with sync_api.sync_playwright() as pw:
        try:
            browser = pw.chromium.launch(executable_path=exe, args=["--no-sandbox"])
        except Exception as exc:                       # a browser that cannot start here
            pytest.skip(f"Chromium did not start: {exc}")
        pg = browser.new_page(viewport={"width": WIDTH, "height": 1000})
        pg.goto(index.as_uri())
        pg.wait_for_load_state("load")
        yield pg
        browser.close()


def _measure(pg) -> dict:
    return pg.evaluate("""() => {
      const de = document.documentElement;
      const overflowing = [];
      for (const el of document.querySelectorAll('body *')) {
        const r = el.getBoundingClientRect();
        if (r.width === 0 || r.right <= de.clientWidth + 1) continue;
        // inside a container that scrolls or clips sideways (a wide table's wrapper) is fine
        let p = el.parentElement, held = false;
        while (p && p !== document.body) {
          const o = getComputedStyle(p).overflowX;
          if (o === 'auto' || o === 'scroll' || o === 'hidden') { held = true; break; }
          p = p.parentElement;
        }
        if (!held) overflowing.push(`${el.tagName.toLowerCase()}#${el.id} right=${Math.round(r.right)}`);
      }
      const svgs = [...document.querySelectorAll('figure svg')].map(s => {
        const r = s.getBoundingClientRect(); return [s.closest('figure').id, r.width, r.height]; });
      const images = [...document.images].map(i => [i.src, i.complete && i.naturalWidth > 0]);
      return {height: de.scrollHeight, scrollWidth: de.scrollWidth, clientWidth: de.clientWidth,
              overflowing: overflowing.slice(0, 10), svgs, images,
              figures: document.querySelectorAll('figure').length,
              tables: document.querySelectorAll('details.table').length};
    }""")


def test_the_report_fits_a_reader_s_screen(page):
    m = _measure(page)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report-top.png"))
    for name in STUDY_ORDER:
        loc = page.locator(f"#study-{name}")
        loc.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / f"report-{name}.png"))
    assert m["height"] < MAX_HEIGHT, f"the page is {m['height']:,} px tall at {WIDTH} px wide"
    assert m["scrollWidth"] <= m["clientWidth"], "the page scrolls sideways"
    assert not m["overflowing"], m["overflowing"]
    # every figure drew: an inline SVG with a real size (a broken one collapses to 0 x 0)
    assert m["figures"] >= len(STUDY_ORDER) and len(m["svgs"]) == m["figures"]
    assert all(w > 200 and h > 100 for _, w, h in m["svgs"]), [s for s in m["svgs"] if s[1] <= 200 or s[2] <= 100]
    assert all(ok for _, ok in m["images"]), [src for src, ok in m["images"] if not ok]


def test_a_folded_table_opens_and_stays_inside_the_page(page):
    first = page.locator("details.table").first
    closed = first.bounding_box()["height"]
    first.locator("summary").click()
    opened = first.bounding_box()["height"]
    assert opened > closed + 40                         # its rows appeared
    m = _measure(page)
    assert m["scrollWidth"] <= m["clientWidth"] and not m["overflowing"], m["overflowing"]
    first.locator("summary").click()
