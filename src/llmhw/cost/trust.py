"""Which calibration a prediction used and how far such predictions have been off.

A chip's software efficiencies come from its family's fit (cost/calibration.yaml) or, for a
family never fitted, from the engine's defaults. What the validation measured for each case
(cost/trust.yaml, written by ``llmhw validate --fit --cross-validate --write``) tells a reader
how much to trust the number: a chip the family was fitted on (in-sample error), a chip of a
calibrated family that the fit never saw (the family's error with each chip held out), or a
chip of an uncalibrated family (one group's fit scoring families it never saw).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

from llmhw.core.io import read_yaml
from llmhw.cost.params import calibration, family_key

Basis = Literal["fitted chip", "calibrated family", "uncalibrated family", "ideal"]


@dataclass(frozen=True)
class CalibrationUsed:
    """The calibration behind one prediction and the median error of its class of chip."""

    family: str                    # the family key the parameters came from (nvidia-gpu, phone-soc:npu)
    basis: Basis
    median_error: float | None     # median absolute error of that class in validation (a fraction)
    rows: int                      # validation rows behind median_error
    text: str                      # one sentence for people

    def to_dict(self) -> dict[str, Any]:
        return {"family": self.family, "basis": self.basis, "median_error": self.median_error,
                "rows": self.rows, "text": self.text}


@cache
def trust() -> dict[str, Any]:
    return read_yaml(resources.files("llmhw.cost").joinpath("trust.yaml"))


def calibrated_families() -> set[str]:
    """Family keys with fitted software parameters in calibration.yaml."""
    cal = calibration()
    return set(cal.get("families") or {}) | set(cal.get("new_chip_families") or {})


def calibration_used(family: str, compute_unit: str | None, chip_id: str, engine: str = "") -> CalibrationUsed:
    """What calibration a chip's prediction uses and the error that class of chip shows."""
    key = family_key(family, compute_unit)
    if engine == "ideal":
        return CalibrationUsed(key, "ideal", None, 0, "ideal engine: the pure roofline, no calibration applied")
    fams = calibrated_families()
    fitted_key = key if key in fams else family if family in fams else None
    t = trust()
    if fitted_key is None:
        never = t.get("never_seen") or {}
        med = max(never.values()) if never else None
        lo, hi = (min(never.values()), max(never.values())) if never else (None, None)
        how = "" if lo is None else f"; fits scored on families they never saw were off by a median " \
            f"{100 * lo:.0f}-{100 * hi:.0f}% (docs/validation.md)"
        text = f"family '{key}' is not calibrated: the engine's default software efficiencies apply{how}"
        return CalibrationUsed(key, "uncalibrated family", med, 0, text)
    row = (t.get("families") or {}).get(fitted_key, {})
    n = int(row.get("rows", 0))
    if chip_id in row.get("chips", ()):
        med = row.get("in_sample")
        text = (f"{chip_id} is among the chips the '{fitted_key}' calibration was fitted on ({n} rows): "
                f"median error {100 * med:.0f}% in sample" if med is not None else
                f"{chip_id} is among the chips the '{fitted_key}' fit used")
        return CalibrationUsed(fitted_key, "fitted chip", med, n, text)
    med = row.get("chip_held_out")
    if med is None:                       # too few chips to hold one out: the in-sample figure, said so
        med = row.get("in_sample")
        text = (f"'{fitted_key}' calibration on a chip it was never fitted on; it has too few chips to "
                f"hold one out (in-sample median error {100 * med:.0f}%, an optimistic bound)" if med is not None
                else f"'{fitted_key}' calibration on a chip it was never fitted on")
    else:
        text = (f"'{fitted_key}' calibration on a chip it was never fitted on: its chips held out of the "
                f"fit were off by a median {100 * med:.0f}% ({n} rows)")
    return CalibrationUsed(fitted_key, "calibrated family", med, n, text)


def chip_calibration(chip: Any, compute_unit: str | None = None, engine: str = "") -> CalibrationUsed:
    """:func:`calibration_used` for a chip spec, on ``compute_unit`` (an SoC's default unit when
    none is named; a chip without compute units has one family key)."""
    unit = compute_unit or chip.default_compute_unit
    return calibration_used(chip.family, unit if chip.compute_units else None, chip.id, engine)
