"""Malformed YAML, wherever it is read, is one LlmhwError naming the file and the line."""

import pytest

from llmhw import Scenario
from llmhw.core.errors import LlmhwError
from llmhw.hardware.catalog import load_hardware

# The unclosed list opens on line 1; the parser notices on line 3, where a new key starts.
BROKEN = "model: [llama\nhardware: h100-sxm\nn_chips: 1\n"


@pytest.mark.parametrize("load", [Scenario.from_yaml, load_hardware])
def test_malformed_yaml_names_file_and_line(tmp_path, load):
    p = tmp_path / "broken.yaml"
    p.write_text(BROKEN)
    with pytest.raises(LlmhwError) as info:
        load(p)
    text = str(info.value)
    assert "broken.yaml" in text and "malformed YAML at line" in text
    assert "\n" not in text
