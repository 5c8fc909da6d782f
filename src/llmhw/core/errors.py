"""One error type for every bad input llmhw can be given.

The CLI turns an :class:`LlmhwError` into a one-line message and exit code 2, never a
traceback. Each error names the field that is wrong and, where a closed set applies, what is
accepted, so a user can fix the input without reading our code.
"""

from __future__ import annotations

import difflib
import reprlib
from collections.abc import Iterable
from typing import Any

# The longest error text (field, message and accepted values together). An error names a field
# and says what is wrong in a sentence; anything longer is a user value echoed back (a 34 MB
# error line was seen, from an expanded YAML alias bomb), so it is clipped, never printed whole.
MAX_ERROR_CHARS = 1000
# Of that, a field path (a user's key may be arbitrarily long) and the message's share; the
# accepted values get what is left, and at least ACCEPTED_MIN characters.
_FIELD_CHARS = 200
_MESSAGE_CHARS = 600
_ACCEPTED_MIN = 150
# A user value quoted in a message: enough to recognise it.
SHOWN_CHARS = 60


def clip(text: str, limit: int) -> str:
    """``text`` folded onto one line (newlines and runs of blanks become one space, other control
    characters and lone surrogates escaped) and, when longer than ``limit``, clipped in the middle
    with '...' so both ends stay readable."""
    limit = max(limit, 5)
    if len(text) > 4 * limit:
        # Fold only what can be kept: a huge text is cut before any per-character work.
        text = text[: 2 * limit] + " ... " + text[-2 * limit:]
    text = " ".join(text.split())
    if not text.isprintable():
        text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    # Lone surrogates (JSON's "\ud800") are printable to Python but cannot be written as UTF-8.
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    if len(text) > limit:
        head = (limit - 3) // 2
        text = text[:head] + "..." + text[len(text) - (limit - 3 - head):]
    return text


_SHORT = reprlib.Repr()
_SHORT.maxstring = SHOWN_CHARS
_SHORT.maxother = SHOWN_CHARS
_SHORT.maxlist = _SHORT.maxtuple = _SHORT.maxdict = _SHORT.maxset = _SHORT.maxfrozenset = 4
_SHORT.maxlevel = 2
_SHORT.maxlong = 24


def shown(value: Any, limit: int = SHOWN_CHARS) -> str:
    """A user's value as a message quotes it: its repr (strings quoted), bounded without ever
    building the whole repr of a huge value (a long string, a list of a million items), clipped
    in the middle with '...'."""
    try:
        text = _SHORT.repr(value)
    except Exception:                                       # a value whose repr itself fails
        text = f"<{type(value).__name__}>"
    return clip(text, limit)


class LlmhwError(ValueError):
    """A bad input: names the offending field and what would have been accepted.

    Whatever the caller passes, the text is one line of at most :data:`MAX_ERROR_CHARS`
    characters (see :func:`clip`); ``field``, ``detail`` and ``accepted`` hold the clipped parts."""

    def __init__(self, message: str, *, field: str | None = None, accepted: str | None = None):
        self.field = clip(str(field), _FIELD_CHARS) if field else field
        self.detail = clip(str(message), _MESSAGE_CHARS)
        text = f"{self.field}: {self.detail}" if self.field else self.detail
        if accepted:
            room = max(MAX_ERROR_CHARS - len(text) - len(" (accepted: )"), _ACCEPTED_MIN)
            accepted = clip(str(accepted), room)
            text += f" (accepted: {accepted})"
        self.accepted = accepted
        super().__init__(text)


def suggest(name: str, known: Iterable[str], n: int = 3) -> str:
    """A short 'did you mean' fragment listing the nearest known names."""
    known = list(known)
    if len(name) > 2 * max((len(k) for k in known), default=0):
        return ""           # nothing is near; and difflib's cost grows with the name's length
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
    msg = f"unknown {kind} {shown(name)}" + (f"; {hint}" if hint else "")
    listing = ", ".join(known) if len(known) <= 40 else ", ".join(known[:40]) + ", ..."
    return LlmhwError(msg, field=field, accepted=listing)
