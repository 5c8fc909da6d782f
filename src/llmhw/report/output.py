"""Where results are written: checking an output path before any long work starts.

A study run takes minutes and ``validate`` twenty seconds; a ``--out`` that names a file, or a
folder nobody may write in, should be refused at once, with the option named, not after the
work with a traceback. The check writes nothing (a refused run leaves no empty folder behind).
"""

from __future__ import annotations

import os
from pathlib import Path

from llmhw.core.errors import LlmhwError, clip
from llmhw.core.io import path_errors

# A path echoed in an error line is cut to this many characters (a generated path can be huge).
_SHOWN = 200


def _shown(p: Path | str) -> str:
    return clip(str(p), _SHOWN)


def check_output(path: str | Path, field: str, *, folder: bool) -> Path:
    """``path`` checked as somewhere to write: a folder (``folder=True``: it may exist as a
    folder, or be made under a folder we may write in) or a file (it may exist as a file we may
    write, or be made in a folder we may write in). Missing folders on the way are allowed (the
    writer makes them). Raises :class:`LlmhwError` naming ``field`` otherwise; returns the path."""
    p = Path(path)
    with path_errors(_shown(p), field, verb="use"):
        if str(path) == "":
            raise LlmhwError("an empty path", field=field)
        if p.exists():
            if folder and not p.is_dir():
                raise LlmhwError(f"'{_shown(p)}' is a file, not a folder", field=field)
            if not folder and p.is_dir():
                raise LlmhwError(f"'{_shown(p)}' is a folder; give a file name in it", field=field)
            target = p
        else:
            # The nearest part of the path that exists is where the first new entry is made.
            target = next((a for a in p.absolute().parents if a.exists()), None)
            if target is None:
                raise LlmhwError(f"no folder of '{_shown(p)}' exists", field=field)
            if not target.is_dir():
                raise LlmhwError(f"'{_shown(target)}' is a file, so '{_shown(p)}' cannot be made under it",
                                 field=field)
        # Writing in a folder takes write and search permission; writing a file, write permission.
        mode = os.W_OK | os.X_OK if target.is_dir() else os.W_OK
        if not os.access(target, mode):
            where = "in " if target.is_dir() else ""
            raise LlmhwError(f"cannot write {where}'{_shown(target)}' (permission denied)", field=field)
    return p
