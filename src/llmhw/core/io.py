"""Reading YAML: llmhw's scenario files and its packaged catalogs and parameter tables."""

from __future__ import annotations

from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml

from llmhw.core.errors import LlmhwError


def read_yaml(source: Path | Traversable | str, name: str | None = None) -> Any:
    """The data of a YAML file (a path or a packaged resource), or of YAML text (a str, then
    ``name`` says where it came from). Malformed YAML is a one-line LlmhwError naming the file
    and the line, never a parser traceback."""
    if isinstance(source, str):
        text, where = source, name or "yaml"
    else:
        text, where = source.read_text(), name or source.name
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise LlmhwError(f"malformed YAML{at}: {getattr(exc, 'problem', exc)}", field=where) from None
