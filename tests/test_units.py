"""Vendor spellings of units: each means exactly one SI multiplier, derived by hand here."""

import pytest

from llmhw.core.errors import LlmhwError
from llmhw.core.units import canonical_unit, check_dimension, to_si
from llmhw.explore.vary import parse_vary

GiB = 1024**3


@pytest.mark.parametrize(("value", "unit", "si"), [
    (384, "GiB/s", 384 * GiB),                 # AWS Trainium's NeuronLink, per device
    (1.0, "TiB/s", 1024**4),
    (820, "GB/s", 820e9),
    (100, "Gbps", 100e9 / 8),                  # a 100G Ethernet port: 12.5 GB/s
    (400, "Gbit/s", 400e9 / 8),
    (1.6, "Tb/s", 1.6e12 / 8),
    (3.35, "TB/sec", 3.35e12),
    (32, "GiB", 32 * GiB),
    (96, "GB", 96e9),
    (989.4, "TFLOPs", 989.4e12),
    (989.4, "teraFLOPS", 989.4e12),
    (1979, "Tflops", 1979e12),
    (3958, "TOPs", 3958e12),
    (2.5, "PFLOPS", 2.5e15),
    (5, "µs", 5e-6),
    (5, "usec", 5e-6),
    (3.9, "pJ/bit", 3.9e-12),
    (700, "W", 700.0),
])
def test_vendor_units_convert_by_hand(value, unit, si):
    assert to_si(value, unit) == pytest.approx(si, rel=1e-12)


def test_a_bit_is_not_a_byte_and_milli_is_not_mega():
    assert to_si(8, "Gb") == pytest.approx(1e9) and to_si(8, "GB") == pytest.approx(8e9)
    assert to_si(1, "mW") == pytest.approx(1e-3) and to_si(1, "MW") == pytest.approx(1e6)


@pytest.mark.parametrize("unit", ["TFLOP", "tb/s", "GiBit/s", "furlongs", "GT/s"])
def test_unknown_or_ambiguous_spellings_are_refused_naming_the_field(unit):
    with pytest.raises(LlmhwError) as e:
        to_si(1, unit, field="chip.memory[0].bandwidth_bytes_per_s.unit")
    assert "bandwidth_bytes_per_s.unit" in str(e.value) and "Gbps" in str(e.value)


def test_a_spelling_keeps_its_dimension():
    check_dimension("GiB/s", "B/s", "f")                       # a bandwidth in GiB/s: fine
    with pytest.raises(LlmhwError, match="measures B, but this field holds B/s"):
        check_dimension("GiB", "B/s", "f")
    assert canonical_unit("Gbps") == canonical_unit("Gbit/s") == "Gb/s"


def test_whatif_reads_the_same_spellings():
    path, values = parse_vary("chip.memory[0].bandwidth_bytes_per_s=384 GiB/s;4.8 TB/s")
    assert values == [{"value": 384.0, "unit": "GiB/s"}, {"value": 4.8, "unit": "TB/s"}]


def test_a_bidirectional_link_figure_is_halved_once():
    """AWS quotes NeuronLink-v2 as 384 GiB/s per device; stated bidirectional it moves 192 GiB/s
    each way, and rebuilding the link (as a what-if does) keeps 192."""
    from llmhw.core.provenance import build
    from llmhw.hardware.interconnect import Link

    spec = {"id": "nl", "bandwidth_bytes_per_s": {"value": 384, "unit": "GiB/s", "status": "specified",
                                                  "source": "https://example.org/trn1"},
            "bandwidth_direction": "bidirectional"}
    link = build(Link, spec, where="link")
    assert link.bandwidth_bytes_per_s == 192 * GiB
    assert "bidirectional" in link.provenance["bandwidth_bytes_per_s"].note
    again = build(Link, {k: getattr(link, k) for k in Link.model_fields}, where="link")
    assert again.bandwidth_bytes_per_s == 192 * GiB
    per_dir = build(Link, {**spec, "bandwidth_direction": "per_direction"}, where="link")
    assert per_dir.bandwidth_bytes_per_s == 384 * GiB
