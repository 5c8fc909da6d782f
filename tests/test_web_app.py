"""The explorer's pages through Streamlit's AppTest (no browser, no server): each page loads
without an exception, a changed control changes the numbers shown, the URL holds the state,
and bad input is a one-line message on the page."""

from __future__ import annotations

import pytest

pytest.importorskip("streamlit", reason="Streamlit is not installed (pip install 'llmhw[web]')")

from streamlit.testing.v1 import AppTest  # noqa: E402

from llmhw.web import APP, logic, pages  # noqa: E402

PAGES = ("predict", "whatif", "search", "serving", "compare", "report")
TIMEOUT = 60        # s: the first run imports the studies (the report page) on a loaded machine


def _page(name: str, **query: str) -> AppTest:
    at = AppTest.from_string(f"from llmhw.web import pages\npages.{name}()", default_timeout=TIMEOUT)
    for k, v in query.items():
        at.query_params[k] = v
    return at.run()


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def _widget(at: AppTest, kind: str, page: str, name: str):
    return getattr(at, kind)(key=f"{page}.{name}")


def _clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


@pytest.mark.parametrize("name", PAGES)
def test_each_page_loads(name):
    at = _page(name)
    _clean(at)
    assert at.title[0].value.lower().replace("-", "") == name
    assert dict(at.query_params) == {}            # the defaults: a bare link


def test_the_app_opens_on_predict():
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    _clean(at)
    assert at.title[0].value == "Predict"


def test_predict_shows_the_prediction_and_follows_the_batch():
    at = _page("predict")
    d = logic.scenario_dict(logic.defaults(logic.scenario_fields()))
    tpot = "TPOT (ms)"
    assert _metric(at, tpot) == pages.fmt(logic.predict(d)["tpot_s"] * 1e3)
    _widget(at, "number_input", "predict", "batch").set_value(256).run()
    _clean(at)
    moved = logic.predict({**d, "workload": {**d["workload"], "batch": 256}})
    assert _metric(at, tpot) == pages.fmt(moved["tpot_s"] * 1e3)
    assert moved["tpot_s"] > logic.predict(d)["tpot_s"]            # more requests, a longer step
    assert at.query_params["batch"] == "256"                       # the link holds the change
    code = [c.value for c in at.code]
    assert any("--batch 256" in c for c in code) and any("batch: 256" in c for c in code)


def test_a_link_sets_the_controls_and_a_bad_parameter_is_named():
    at = _page("predict", tp="4", weights="bf16", batch="lots")
    _clean(at)
    assert _widget(at, "number_input", "predict", "tp").value == 4
    assert _widget(at, "selectbox", "predict", "weights").value == "bf16"
    assert len(at.warning) == 1 and "batch" in at.warning[0].value
    assert dict(at.query_params) == {"tp": "4", "weights": "bf16"}   # the bad one dropped


def test_bad_input_is_a_message_not_a_traceback():
    at = _page("predict", tp="3")               # 64 heads do not split 3 ways
    assert not at.exception
    assert len(at.error) == 1 and at.error[0].value.startswith("parallelism")


def test_whatif_variant_moves_with_a_direction():
    at = _page("whatif")
    tpot = "TPOT (ms)"
    before = _metric(at, tpot)
    _widget(at, "checkbox", "whatif", "hbf").check().run()
    _widget(at, "selectbox", "whatif", "weights_on").set_value("hbf").run()
    _clean(at)
    assert _metric(at, tpot) != before
    assert at.query_params["hbf"] == "1" and at.query_params["weights_on"] == "hbf"
    assert any("llmhw whatif whatif.yaml --vary interconnect.hop_latency_s=" in c.value for c in at.code)


def test_serving_follows_the_rate():
    at = _page("serving", model="llama-3.1-8b", tp="1", requests="100")
    before = _metric(at, "output throughput (tokens/s)")
    _widget(at, "number_input", "serving", "rate").set_value(4.0).run()
    _clean(at)
    assert _metric(at, "output throughput (tokens/s)") != before
