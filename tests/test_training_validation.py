"""The training validation set (validation/measurements_training.csv) and what docs/validation.md
says of it."""

from __future__ import annotations

import csv
import io
import re
from importlib import resources
from pathlib import Path

import pytest

from llmhw.validation import training as tv
from llmhw.workload.catalog import load_model

ROOT = Path(__file__).resolve().parents[1]


def test_every_row_is_sourced_and_loads() -> None:
    text = resources.files("llmhw.validation").joinpath(tv.TRAINING_CSV).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    cases = tv.load_training_cases()
    assert len(cases) == len(rows) >= 25
    for r in rows:
        assert r["source_url"].startswith("https://") and r["notes"]
        n, tp, pp, cp = (int(r[k]) for k in ("n_chips", "tp", "pp", "cp"))
        assert n % (tp * pp * cp) == 0, r
    # Three independent sources, four chips (A100, H100, B200, GB200).
    assert {c.source for c in cases} >= {"Megatron-LM (Korthikanti 2022)", "NeMo Megatron-Bridge 25.11", "Llama 3 405B"}
    assert {c.chip for c in cases} == {"a100-sxm-80gb", "h100-sxm", "b200", "gb200"}


@pytest.mark.parametrize(("name", "published"), [
    ("megatron-gpt-22b", 22e9), ("gpt3-175b", 175.0e9), ("megatron-gpt-530b", 530e9), ("megatron-gpt-1t", 1.0e12)])
def test_megatron_gpt_shapes_have_their_published_sizes(name: str, published: float) -> None:
    # 12 L h^2 dominates: GPT-3 175B is 12 x 96 x 12288^2 = 173.9B plus the 629M embedding (Brown et
    # al. 2020 name 175.0B); the others are named by their size in Korthikanti et al. 2022.
    path = resources.files("llmhw.validation").joinpath(f"training_models/{name}.json")
    m = load_model(str(path))
    assert m.total_params == pytest.approx(published, rel=0.012)
    assert not m.gated_ffn and m.tie_embeddings and m.intermediate_size == 4 * m.hidden_size


def test_the_fitted_profile_sits_inside_its_bounds() -> None:
    row = tv.training_profile_row()
    for k, (lo, hi) in tv.BOUNDS.items():
        assert lo <= row[k] <= hi, k


def test_docs_print_the_figures_a_run_gives() -> None:
    """docs/validation.md's training section states the medians the shipped fit gives."""
    res = tv.run()
    doc = (ROOT / "docs" / "validation.md").read_text(encoding="utf-8")
    section = doc[doc.index("## Training"):]
    m = re.search(r"all (\d+) rows (\d+\.\d)%", section)
    assert m, "the training section states the all-rows median"
    assert int(m.group(1)) == len(res.rows)
    assert float(m.group(2)) == pytest.approx(100 * res.median_abs(), abs=0.051)
    for name in ("README.md", "docs/training.md"):
        other = re.search(r"(\d+\.\d)% median error of step time",
                          " ".join((ROOT / name).read_text(encoding="utf-8").split()))
        assert other and float(other.group(1)) == pytest.approx(100 * res.median_abs(), abs=0.051), name
    dense = re.search(r"dense (\d+\.\d)%", section)
    assert dense and float(dense.group(1)) == pytest.approx(
        100 * res.median_abs(where=lambda r: not r.case.moe), abs=0.051)


def test_training_doc_prints_the_shipped_fit() -> None:
    doc = (ROOT / "docs" / "training.md").read_text(encoding="utf-8")
    for k, v in tv.training_profile_row().items():
        m = re.search(rf"\| `{k}` \| (\d\.\d+) \|", doc)
        assert m, k
        assert float(m.group(1)) == pytest.approx(v, abs=0.0006), k
