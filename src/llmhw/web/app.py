"""The explorer's Streamlit script (``llmhw serve`` runs it): one page per question."""

import streamlit as st

from llmhw.web import pages

st.set_page_config(page_title="llmhw explorer", page_icon=":material/memory:", layout="wide")
st.navigation([
    st.Page(pages.predict, title="Predict", url_path="predict", default=True),
    st.Page(pages.whatif, title="What-if", url_path="what-if"),
    st.Page(pages.search, title="Search", url_path="search"),
    st.Page(pages.serving, title="Serving", url_path="serving"),
    st.Page(pages.compare, title="Compare", url_path="compare"),
    st.Page(pages.report, title="Report", url_path="report"),
]).run()
