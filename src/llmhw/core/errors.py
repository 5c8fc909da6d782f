"""One error type for every bad input llmhw can be given.

The CLI turns an :class:`LlmhwError` into a one-line message and exit code 2, never a
traceback. Each error names the field that is wrong and, where a closed set applies, what is
accepted, so a user can fix the input without reading our code.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class LlmhwError(ValueError):
    """A bad input: names the offending field and what would have been accepted."""

    def __init__(self, message: str, *, field: str | None = None, accepted: str | None = None):
        self.field = field
        self.accepted = accepted
        self.detail = message
        text = f"{field}: {message}" if field else message
        if accepted:
            text += f" (accepted: {accepted})"
        super().__init__(text)


def suggest(name: str, known: Iterable[str], n: int = 3) -> str:
    """A short 'did you mean' fragment listing the nearest known names."""
    known = list(known)
    close = difflib.get_close_matches(name.lower(), [k.lower() for k in known], n=n, cutoff=0.5)
    # get_close_matches lowercases for us; map back to the canonical spelling.
    by_lower = {k.lower(): k for k in known}
    close = [by_lower[c] for c in close]
    if not close:
        # Substring matches catch 'h100' -> 'h100-sxm', which difflib ranks low.
        close = [k for k in known if name.lower() in k.lower()][:n]
    return f"did you mean {', '.join(close)}?" if close else ""


def unknown_name(kind: str, name: str, known: Iterable[str], field: str | None = None) -> LlmhwError:
    known = sorted(known)
    hint = suggest(name, known)
    msg = f"unknown {kind} '{name}'" + (f"; {hint}" if hint else "")
    listing = ", ".join(known) if len(known) <= 40 else ", ".join(known[:40]) + ", ..."
    return LlmhwError(msg, field=field, accepted=listing)
