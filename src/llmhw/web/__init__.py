"""A web explorer (``llmhw serve``, docs/web.md): the public API's questions as Streamlit pages.

``logic`` holds the computation (form state -> scenario -> results, the URL, the exports) and
needs no Streamlit; ``pages`` and ``app`` are the Streamlit layers; ``serve`` starts the server.
Streamlit is an extra: ``pip install 'llmhw[web]'``.
"""

from llmhw.web.server import APP, serve

__all__ = ["APP", "serve"]
