"""The explorer as a user meets it: ``llmhw serve`` on a free loopback port, driven by a real
browser (headless Chromium through Playwright).

Each page loads and draws without an error; a changed control changes the numbers shown (and
the link); the YAML a page exports predicts, through the command line, the number the page shows;
a bad upload is a message, not a traceback. Screenshots go to out/test-artifacts/web-*.png. The
server is shut down at the end (and must go when asked).

Needs Playwright's Python package, Streamlit and a Chromium on the PATH (Debian: `apt-get install
chromium`; .ci/run installs it); skips cleanly without them.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from tests.browser import browser_path

from llmhw import cli

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
pytest.importorskip("streamlit", reason="Streamlit is not installed (pip install 'llmhw[web]')")

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "out" / "test-artifacts"
START_S = 90            # s: the server's start on a loaded two-core machine
RUN_MS = 60_000         # ms: one page run (the report page runs a study the first time)
PAGES = {"": "Predict", "what-if": "What-if", "search": "Search", "serving": "Serving", "compare": "Compare",
         "report": "Report"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    """``llmhw serve`` in its own process on a free port; its URL. Stopped (SIGTERM) at the end."""
    if browser_path() is None:
        pytest.skip("no Chromium on the PATH (apt-get install chromium)")
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, "-m", "llmhw", "serve", "--port", str(port), "--host", "127.0.0.1"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_S
    while True:
        if proc.poll() is not None:
            pytest.fail(f"llmhw serve exited with {proc.returncode}: {proc.stdout.read().decode()[-2000:]}")
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                break
        except OSError:
            if time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"llmhw serve did not answer within {START_S} s")
            time.sleep(0.25)
    yield url
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        pytest.fail("llmhw serve did not stop on SIGTERM")


@pytest.fixture(scope="module")
def page(server):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as pw:
        try:
            browser = pw.chromium.launch(executable_path=browser_path(), args=["--no-sandbox"])
        except Exception as exc:                       # a browser that cannot start here
            pytest.skip(f"Chromium did not start: {exc}")
        pg = browser.new_page(viewport={"width": 1400, "height": 1000})
        yield pg
        browser.close()


def _settled(pg) -> None:
    """Wait until the page's script has run (Streamlit marks its root element)."""
    pg.wait_for_selector("[data-testid=stApp][data-test-script-state=notRunning]", timeout=RUN_MS)


def _open(pg, server: str, path: str) -> None:
    """Show a page: through the app's own navigation once the app is loaded (as a reader moves;
    a fresh load of the app costs a second or two more), else by its address."""
    title = PAGES[path]
    if pg.url.startswith(server):
        pg.locator("[data-testid=stSidebarNav] a", has_text=title).first.click()
    else:
        pg.goto(f"{server}/{path}")
    sync_api.expect(pg.locator("h1").first).to_have_text(title, timeout=RUN_MS)
    _settled(pg)
    assert pg.url.split("?")[0].rstrip("/") == f"{server}/{path}".rstrip("/")


def _metric(pg, label: str):
    return pg.locator("[data-testid=stMetric]", has_text=label).locator("[data-testid=stMetricValue]").first


def _no_error(pg) -> None:
    assert pg.locator("[data-testid=stException]").count() == 0
    errors = pg.locator("[data-testid=stAlertContentError]").all_inner_texts()
    assert errors == [], errors


def _changed(pg, locator, before: str) -> str:
    sync_api.expect(locator).not_to_have_text(before, timeout=RUN_MS)
    _settled(pg)
    return locator.inner_text()


def test_each_page_loads_and_draws(server, page):
    for path in PAGES:
        _open(page, server, path)
        _no_error(page)
        # every chart and image on the page has been drawn with a size
        page.wait_for_function("""() => [...document.querySelectorAll('[data-testid=stVegaLiteChart] canvas,'
            + ' [data-testid=stVegaLiteChart] svg, [data-testid=stImage] img')]
            .every(e => e.getBoundingClientRect().width > 50)""", timeout=RUN_MS)
        page.screenshot(path=str(ARTIFACTS / f"web-{path or 'predict'}.png"))


def test_a_changed_control_changes_the_numbers_and_the_link(server, page, tmp_path, capsys):
    _open(page, server, "")
    tpot = _metric(page, "TPOT (ms)")
    before = tpot.inner_text()
    box = page.get_by_label("requests in flight (batch)")
    box.fill("256")
    box.press("Enter")
    after = _changed(page, tpot, before)
    assert float(after.replace(",", "")) > float(before.replace(",", ""))    # more requests, a longer step
    assert "batch=256" in page.url
    page.screenshot(path=str(ARTIFACTS / "web-predict-batch256.png"))
    # the exported YAML, read off the page, predicts the number the page shows
    page.get_by_text("Export: scenario YAML and command line").click()
    code = page.locator("[data-testid=stCode]").first
    sync_api.expect(code).to_contain_text("batch: 256", timeout=RUN_MS)
    path = tmp_path / "scenario.yaml"
    path.write_text(code.inner_text())
    capsys.readouterr()
    assert cli.run(["predict", str(path), "--json"]) == 0
    import json

    shown = json.loads(capsys.readouterr().out)["tpot_s"] * 1e3
    assert after == f"{shown:,.4g}"
    # a link reproduces the view
    page.goto(page.url)
    _settled(page)
    assert _metric(page, "TPOT (ms)").inner_text() == after


def test_a_whatif_direction_changes_the_variant(server, page):
    _open(page, server, "what-if")
    tpot = _metric(page, "TPOT (ms)")
    before = tpot.inner_text()
    page.get_by_label("hop latency (ns; 0 = as is)").fill("20000")
    page.get_by_label("hop latency (ns; 0 = as is)").press("Enter")
    _changed(page, tpot, before)
    assert "hop_ns=20000" in page.url
    _no_error(page)
    page.screenshot(path=str(ARTIFACTS / "web-what-if-hop.png"))


def test_a_bad_upload_is_a_message(server, page, tmp_path):
    _open(page, server, "")
    bad = tmp_path / "config.json"
    bad.write_text('{"model_type": "llama", "hidden_size": ')
    page.locator("[data-testid=stFileUploader] input[type=file]").set_input_files(str(bad))
    alert = page.locator("[data-testid=stAlertContentError]").first
    sync_api.expect(alert).to_contain_text("config.json", timeout=RUN_MS)
    assert "Traceback" not in page.content()
    assert page.locator("[data-testid=stException]").count() == 0
