"""The shipped model catalog: public Hugging Face configs, indexed in catalog/models/index.yaml."""

from __future__ import annotations

import json
import os
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from llmhw.core.errors import LlmhwError, unknown_name
from llmhw.core.io import read_yaml
from llmhw.workload.hf_config import load_hf_config, model_from_hf_config
from llmhw.workload.model import ModelSpec

_DIR = "catalog/models"


def _files() -> Any:
    return resources.files("llmhw.workload").joinpath(_DIR)


@cache
def model_index() -> dict[str, dict[str, Any]]:
    """id -> index entry (config file, Hugging Face repo, published parameter counts)."""
    raw = read_yaml(_files().joinpath("index.yaml"))
    return {entry["id"]: entry for entry in raw["models"]}


def model_ids() -> list[str]:
    return list(model_index())


@cache
def _catalog_model(model_id: str) -> ModelSpec:
    entry = model_index()[model_id]
    raw = json.loads(_files().joinpath(entry["config"]).read_text())
    return model_from_hf_config(
        raw, model_id=model_id, name=entry.get("name", model_id),
        source=entry.get("config_source", ""), where=entry["config"],
    )


# Linux's PATH_MAX: a longer name is no path the system accepts, and no catalog id either.
_MAX_NAME = 4096
# An error line quotes a name only up to this length (a pasted blob is described, not echoed).
_QUOTE_CHARS = 120


def _quoted(text: str) -> str:
    return f"'{text}'" if len(text) <= _QUOTE_CHARS else f"'{text[:_QUOTE_CHARS]}...' ({len(text)} characters)"


def load_model(name: str | Path, *, field: str = "model") -> ModelSpec:
    """A model by catalog id, or from a path to a Hugging Face config.json."""
    text = str(name)
    if text in model_index():
        return _catalog_model(text)
    accepted = "a catalog id (llmhw models) or a path to a config.json"
    if len(text) > _MAX_NAME or "\0" in text:
        raise LlmhwError(f"{_quoted(text)} is no catalog model and no file path", field=field, accepted=accepted)
    p = Path(text)
    # os.path's tests, not Path's: they answer False for a name the OS cannot look up at all
    # (too long, a NUL byte) instead of raising.
    if p.suffix == ".json" or os.path.isfile(p) or "/" in text:
        if not os.path.exists(p):
            raise LlmhwError(f"no such file {_quoted(text)} and no catalog model of that name", field=field)
        if os.path.isdir(p):
            p = p / "config.json"
        return load_hf_config(p)
    if len(text) > _QUOTE_CHARS:
        raise LlmhwError(f"unknown model {_quoted(text)}", field=field, accepted=accepted)
    raise unknown_name("model", text, model_index(), field=field)
