"""The catalog's source audit (docs/catalog.md, "How primary the sources are")."""

from pathlib import Path

from llmhw.hardware import source_audit as audit


def test_primary_sources_are_told_from_secondary_ones():
    assert audit.is_primary("https://www.nvidia.com/en-us/data-center/h100/")
    assert audit.is_primary("https://resources.nvidia.com/en-us-tensor-core/nvidia-tensor-core-gpu-datasheet")
    assert audit.is_primary("https://arxiv.org/abs/2510.27583")
    assert audit.is_primary("https://github.com/mlcommons/inference_results_v5.1/tree/main/closed/NVIDIA")
    assert not audit.is_primary("https://glennklockwood.com/garden/processors/h100")
    assert not audit.is_primary("https://github.com/someone/specs")
    assert not audit.is_primary("https://nvidia.com.example.org/fake")          # not the maker's host


def test_every_catalog_number_is_counted_once():
    nums = audit.numbers()
    assert len({n.where for n in nums}) == len(nums)
    h100 = {n.where.split("h100-sxm.", 1)[1]: n for n in nums if ".h100-sxm." in n.where}
    assert "peak_flops.bf16" in h100 and h100["peak_flops.bf16"].urls


def test_docs_print_the_current_audit():
    doc = (Path(__file__).resolve().parents[1] / "docs" / "catalog.md").read_text(encoding="utf-8")
    section = doc.split("<!-- sources:start -->\n")[1].split("<!-- sources:end -->")[0]
    assert section == audit.markdown(), "regenerate with llmhw.hardware.source_audit.markdown()"
