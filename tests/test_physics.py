"""Hardware physics that must hold on chips that do not exist: what extrapolates is the hardware's
own limits (matrix tile, stream efficiency), never a factor fitted on today's software."""

import numpy as np
import pytest

import llmhw
from llmhw.accounting.operators import Op
from llmhw.cost.params import engine_profile, family_params
from llmhw.cost.roofline import _compute_time
from llmhw.hardware.catalog import get_chip
from llmhw.hardware.physics import chip_physics


def _decode(hardware, model="llama-3.1-8b", weights="bf16", bw=None, batch=1):
    s = {"model": model, "hardware": hardware, "n_chips": 1, "engine": "vllm",
         "precision": {"weights": weights, "kv_cache": weights},
         "workload": {"input_tokens": 128, "output_tokens": 128, "batch": batch}}
    if bw is not None:
        s["overrides"] = {"chip.memory[0].bandwidth_bytes_per_s": bw}
    return llmhw.predict(s).to_dict()["breakdown"]["decode"]


def test_batch1_decode_stays_memory_bound_with_4x_bandwidth():
    # Llama-3.1-8B reads 16 GB of weights per token: 1.2 ms at 13.4 TB/s. Its 16 GFLOP at the
    # GEMV floor (1/8 of 989 TFLOP/s, times the software's share) take a fraction of that.
    d = _decode("h100-sxm", bw=4 * 3.35e12)
    assert d["memory_s"] > 0.9e-3
    assert d["compute_s"] == 0.0


@pytest.mark.parametrize("chip,tile", [("h100-sxm", 8), ("b200", 8), ("mi300x", 16), ("apple-m2-ultra", 8)])
def test_gemv_floor_is_the_padded_matrix_tile(chip, tile):
    c = get_chip(chip)
    phys = chip_physics(c)
    assert phys.gemv_floor == pytest.approx(1 / tile)
    fp = family_params(f"{c.family}:gpu" if c.compute_units else c.family)
    # A one-token GEMM of a 8192 x 8192 weight: 2 x 8192^2 FLOPs. n_half is set to 0 to isolate m.
    op = Op(name="o_proj", kind="gemm", count=1, flops=2 * 8192 ** 2, m=1.0, n=8192.0, weight_bytes=2 * 8192 ** 2,
            weight_precision="bf16")
    from dataclasses import replace
    fp0 = replace(fp, compute_n_half=0.0)
    _, t = _compute_time(op, c.flops(), "bf16", fp0, engine_profile("vllm"), phys.gemv_floor)
    peak = c.flops()["bf16"] if "bf16" in c.flops() else c.flops()["fp16"]
    # Never slower than the padded tile at the software's large-GEMM efficiency.
    assert float(t) <= 2 * 8192 ** 2 / (peak * fp.compute_eff_max / tile) * (1 + 1e-9)


def test_two_vendors_same_bandwidth_read_weights_alike():
    # An H200 and an MI300X set to the same 4.8 TB/s read the same 70 GB of FP8 weights per token:
    # each at its own stream efficiency (90% vs 81% measured) times its software's share. The
    # fitted software share may not make one vendor's memory more than 1.5x slower.
    a = _decode("h200", model="llama-3.1-70b", weights="fp8", bw=4.8e12)
    b = _decode("mi300x", model="llama-3.1-70b", weights="fp8", bw=4.8e12)
    ratio = b["memory_s"] / a["memory_s"]
    assert 1 / 1.5 <= ratio <= 1.5


def test_stream_efficiency_comes_from_the_memory_not_the_fit():
    # MI300X's own measured stream (BabelStream, 81%) overrides the HBM3 preset's 90%.
    assert chip_physics(get_chip("mi300x")).stream_efficiency == (0.81,)
    assert chip_physics(get_chip("h100-sxm")).stream_efficiency == (0.90,)
    # The ideal engine is the pure roofline: every memory at its peak.
    assert chip_physics(get_chip("mi300x"), ideal=True).stream_efficiency == (1.0,)


def test_memory_time_is_bytes_over_stream_bandwidth_plus_a_fixed_read_time():
    # One decode step of a 1-layer read, by hand: b / (bw x stream x memory_eff) + read_overhead.
    from llmhw.cost.roofline import _read_time
    fp = family_params("nvidia-gpu")
    b = np.array([1e6, 1e9])
    t = _read_time(b, 3.35e12, 0.9, fp)
    assert t == pytest.approx(b / (3.35e12 * 0.9 * fp.memory_eff) + fp.read_overhead_s)
    assert float(_read_time(np.array(0.0), 3.35e12, 0.9, fp)) == 0.0


def test_engine_doc_lists_every_parameter_as_fitted():
    # docs/engine.md carries the generated parameter table; regenerate it after a refit.
    from pathlib import Path

    from llmhw.validation.validate import parameters_markdown
    doc = (Path(__file__).parents[1] / "docs" / "engine.md").read_text()
    table = doc.split("<!-- parameters:start -->\n")[1].split("<!-- parameters:end -->")[0]
    assert table.strip() == parameters_markdown().strip()


def test_a_narrow_datatype_the_chip_lacks_runs_on_the_next_wider_units():
    """Engines upcast a format the chip has no units for one step at a time: FP4 activations on
    an H100 (no FP4) run on its FP8 tensor cores, FP8 on an A100 (no FP8) on its BF16 ones, never
    first on the fp32 path (15-30x slower), which only a 16-bit format without 16-bit units takes."""
    from llmhw.core.units import compute_dtype

    h100 = llmhw.load_hardware("h100-sxm").flops()
    a100 = llmhw.load_hardware("a100-sxm-80gb").flops()
    assert compute_dtype(h100, "fp4") == ("fp8", h100["fp8"])
    assert compute_dtype(a100, "fp8") == ("bf16", a100["bf16"])
    assert compute_dtype(a100, "fp4") == ("bf16", a100["bf16"])
    assert compute_dtype(a100, "int4") == ("int4", a100["int4"])          # A100 has int4 units
    assert compute_dtype({"bf16": 1e14, "int8": 2e14}, "int4") == ("int8", 2e14)
    assert compute_dtype({"fp32": 1e13}, "bf16") == ("fp32", 1e13)
