"""Per-request prompt and output lengths for the open-loop simulator (``workload.lengths``).

A length spec is one of:

- ``{dataset: ID}``: a shipped dataset's length statistics (catalog/datasets.yaml, each number
  with its source and status);
- ``{input: N, output: N}``: every request exactly N tokens;
- ``{input: {dist: ..., mean, std, min, max}, output: {...}}``: a distribution per side
  (either side may also be a plain integer).

Distributions (all sample integers, at least 1, and clipped to ``[min, max]``):

- ``lognormal``: ``mean`` and ``std`` are the arithmetic mean and standard deviation of the
  token counts (what papers and READMEs quote), converted to the log-space parameters
  ``sigma^2 = ln(1 + (std/mean)^2)``, ``mu = ln(mean) - sigma^2 / 2``;
- ``normal``: mean and std as given;
- ``uniform``: integers in ``[min, max]``, each equally likely (``mean``/``std`` not taken);
- ``fixed``: always ``mean``.

Clipping at ``min``/``max`` moves the mass beyond a bound onto the bound, so the sampled mean
differs from ``mean`` by the clipped tail's excess: ``E[(X - max)+]`` below, ``E[(min - X)+]``
above. The shipped datasets keep the tail past ``max`` to a few per cent of the samples, which
keeps that shift within about 2.5 % (tests/test_workload_lengths.py checks 3 %).

Input and output lengths are drawn independently; real datasets correlate them weakly (long
prompts that ask for summaries get short answers, and the reverse), which this leaves out.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from llmhw.core.errors import LlmhwError
from llmhw.core.io import read_yaml

Array = np.ndarray
DISTRIBUTIONS: tuple[str, ...] = ("lognormal", "normal", "uniform", "fixed")
STATUSES: tuple[str, ...] = ("measured", "specified", "estimated")
_SHAPE = "a positive integer, or {dist: lognormal|normal|uniform|fixed, mean, std, min, max}"


class LengthDist(BaseModel):
    """The lengths of one side (prompt or output) of the requests, in tokens."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    dist: Literal["lognormal", "normal", "uniform", "fixed"]
    mean: float | None = Field(None, gt=0, description="arithmetic mean of the token counts")
    std: float | None = Field(None, ge=0, description="standard deviation of the token counts")
    min: int = Field(1, ge=1, description="fewest tokens a request has")
    max: int | None = Field(None, ge=1, description="most tokens a request has; default: no bound")

    @model_validator(mode="after")
    def _consistent(self) -> LengthDist:
        hi = self.max if self.max is not None else float("inf")
        if hi < self.min:
            raise ValueError(f"max ({self.max}) is below min ({self.min})")
        if self.dist == "uniform":
            if self.max is None:
                raise ValueError("uniform takes min and max (mean and std follow from them)")
            if self.mean is not None or self.std is not None:
                raise ValueError("uniform takes min and max only; mean and std follow from them")
            return self
        if self.mean is None:
            raise ValueError(f"{self.dist} needs a mean")
        if self.dist in ("lognormal", "normal") and self.std is None:
            raise ValueError(f"{self.dist} needs a std (0 for every request at the mean)")
        if not self.min <= self.mean <= hi:
            raise ValueError(f"mean ({self.mean:g}) is outside [min, max] = [{self.min}, {self.max}]")
        return self

    @property
    def nominal(self) -> float:
        """The distribution's mean before clipping (uniform: the middle of [min, max])."""
        if self.dist == "uniform":
            return (self.min + float(self.max)) / 2.0          # type: ignore[arg-type]
        return float(self.mean)                                  # type: ignore[arg-type]


def _side(v: Any) -> Any:
    """A plain integer side is a fixed length."""
    if isinstance(v, bool) or isinstance(v, float) and not v.is_integer():
        raise ValueError(f"expected {_SHAPE}, got {v!r}")
    if isinstance(v, int | float):
        if v < 1:
            raise ValueError(f"a fixed length must be at least 1 token, got {v!r}")
        return {"dist": "fixed", "mean": int(v)}
    if v is None or isinstance(v, dict | LengthDist):
        return v
    raise ValueError(f"expected {_SHAPE}, got {v!r}")


class Lengths(BaseModel):
    """``workload.lengths``: a shipped dataset, or an input and an output side."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    dataset: str | None = Field(None, description="a shipped dataset id (catalog/datasets.yaml)")
    input: LengthDist | None = Field(None, description="prompt tokens per request")
    output: LengthDist | None = Field(None, description="generated tokens per request")

    @field_validator("input", "output", mode="before")
    @classmethod
    def _plain(cls, v: Any) -> Any:
        return _side(v)

    @field_validator("dataset")
    @classmethod
    def _known(cls, v: str | None) -> str | None:
        if v is not None and v not in datasets():
            raise ValueError(f"unknown dataset '{v}' (accepted: {', '.join(dataset_ids())})")
        return v

    @model_validator(mode="after")
    def _one_form(self) -> Lengths:
        if self.dataset is not None:
            if self.input is not None or self.output is not None:
                raise ValueError("give either dataset or input and output, not both")
        elif self.input is None or self.output is None:
            raise ValueError("give {dataset: ID}, or both input and output")
        return self

    def sides(self) -> tuple[LengthDist, LengthDist]:
        """The input and output distributions (a dataset's, or the ones given)."""
        if self.dataset is not None:
            return datasets()[self.dataset]
        return self.input, self.output                          # type: ignore[return-value]

    @property
    def means(self) -> tuple[float, float]:
        """Nominal mean prompt and output tokens (before clipping)."""
        i, o = self.sides()
        return i.nominal, o.nominal


# -- sampling


def sample_side(d: LengthDist, n: int, rng: np.random.Generator) -> Array:
    """``n`` integer token counts of one side, at least max(min, 1), at most max."""
    hi = np.inf if d.max is None else float(d.max)
    if d.dist == "uniform":
        return rng.integers(d.min, int(hi) + 1, n)
    if d.dist == "fixed" or not d.std:
        x = np.full(n, float(d.mean))
    elif d.dist == "normal":
        x = rng.normal(d.mean, d.std, n)
    else:
        s2 = np.log1p((d.std / d.mean) ** 2)
        x = rng.lognormal(np.log(d.mean) - s2 / 2.0, np.sqrt(s2), n)
    return np.clip(np.rint(x), max(d.min, 1), hi).astype(np.int64)


def sample(spec: Lengths | dict[str, Any], n: int, rng: np.random.Generator) -> tuple[Array, Array]:
    """``n`` requests' (input tokens, output tokens), integer arrays; input and output drawn
    independently (see the module's note)."""
    if not isinstance(spec, Lengths):
        spec = lengths_from(spec)
    i, o = spec.sides()
    return sample_side(i, n, rng), sample_side(o, n, rng)


def lengths_from(data: Any, where: str = "workload.lengths") -> Lengths:
    """Validate a mapping into :class:`Lengths`; one LlmhwError naming the field on failure."""
    from pydantic import ValidationError

    try:
        return Lengths.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        field = f"{where}.{loc}" if loc else where
        if err["type"] == "extra_forbidden":
            raise LlmhwError("unknown field", field=field,
                             accepted="dataset, input, output; per side: dist, mean, std, min, max") from None
        raise LlmhwError(err["msg"].removeprefix("Value error, "), field=field) from None


# -- the shipped datasets


def _value(node: Any, where: str, sources: dict[str, str]) -> float | None:
    """A catalog number: ``{value, status, source | note}``; checks status and source."""
    if node is None:
        return None
    if not isinstance(node, dict) or "value" not in node or "status" not in node:
        raise LlmhwError("expected {value, status, source or note}", field=where)
    if node["status"] not in STATUSES:
        raise LlmhwError(f"unknown status {node['status']!r}", field=where, accepted=", ".join(STATUSES))
    for key in [node["source"]] if isinstance(node.get("source"), str) else node.get("source") or []:
        if key not in sources:
            raise LlmhwError(f"unknown source key {key!r}", field=where, accepted=", ".join(sources))
    if not node.get("source") and not node.get("note"):
        raise LlmhwError("a number needs a source or, when estimated, a note saying how", field=where)
    return node["value"]


@cache
def catalog() -> dict[str, Any]:
    """The raw datasets catalog (sources, datasets with their sourced numbers)."""
    return read_yaml(resources.files("llmhw.workload").joinpath("catalog/datasets.yaml"))


@cache
def datasets() -> dict[str, tuple[LengthDist, LengthDist]]:
    """Dataset id -> (input, output) distributions, from catalog/datasets.yaml."""
    raw = catalog()
    sources = raw["sources"]
    out = {}
    for ds_id, entry in raw["datasets"].items():
        sides = []
        for side in ("input", "output"):
            node, where = entry[side], f"datasets.yaml:{ds_id}.{side}"
            vals = {k: _value(node.get(k), f"{where}.{k}", sources) for k in ("mean", "std", "min", "max")}
            d = {"dist": node["dist"], **{k: v for k, v in vals.items() if v is not None}}
            try:
                sides.append(LengthDist.model_validate(d))
            except ValueError as exc:
                raise LlmhwError(str(exc), field=where) from None
        out[ds_id] = (sides[0], sides[1])
    return out


def dataset_ids() -> list[str]:
    return list(catalog()["datasets"])
