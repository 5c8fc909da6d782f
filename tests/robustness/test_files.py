"""Bad files at the input boundary (issue 13): every kind of file a user hands llmhw (scenario
YAML, hardware YAML, config.json, a --batch JSONL file, a request trace CSV), written in the
wrong encoding, binary, empty, a folder, oversized, an alias bomb, with duplicate keys, nested
too deep or holding numbers JSON does not have. Each is refused the documented way: exit 2 and
one line naming the file (and the field where one applies), in under two seconds.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.robustness.harness import assert_answered, assert_refused, run_cli, strict_json, write

from llmhw.core.io import CONFIG_MAX_BYTES, JSONL_MAX_BYTES, TRACE_MAX_BYTES, YAML_MAX_BYTES

SCENARIO = "model: llama-3.1-8b\nhardware: h100-sxm\nn_chips: 1\nworkload: {input_tokens: 128, output_tokens: 32, batch: 1}\n"
HARDWARE = """kind: chip
id: my-accelerator
family: custom
peak_flops: {bf16: 2.0e+15, fp8: 4.0e+15}
memory:
  - tech: hbm4
    capacity_bytes: {value: 288, unit: GB}
    bandwidth_bytes_per_s: {value: 13, unit: TB/s}
scale_up: nvlink5-nvl72
"""
CONFIG = {"model_type": "llama", "hidden_size": 512, "intermediate_size": 1408, "num_hidden_layers": 4,
          "num_attention_heads": 8, "num_key_value_heads": 8, "vocab_size": 32000,
          "max_position_embeddings": 4096}
BATCH_LINE = json.dumps({"model": "llama-3.1-8b", "hardware": "h100-sxm", "n_chips": 1,
                         "workload": {"input_tokens": 128, "output_tokens": 32, "batch": 1}})


def laughs(indent: str = "", levels: int = 9) -> str:
    """A billion-laughs block: ``levels`` anchors, each a list of nine aliases of the one
    before, so the last expands to 9**levels values (10 levels: 3.5e9)."""
    lines = [f"{indent}l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"{indent}l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


# An alias bomb written with merge keys: each level merges the one before twice.
MERGE_BOMB = "m0: &m0 {a: 1, b: 2}\n" + "".join(
    f"m{i}: &m{i} {{<<: [*m{i - 1}, *m{i - 1}], k{i}: 1}}\n" for i in range(1, 40))


def sparse(tmp: Path, name: str, size: int) -> Path:
    """A file of ``size`` bytes that takes no disk (a hole): refused by its size, never read."""
    p = tmp / name
    with open(p, "wb") as f:
        f.truncate(size)
    return p


def nested_json(depth: int) -> str:
    """A config.json whose rope_scaling nests ``depth`` objects (a key before each opening, so
    the nesting is not one run of brackets)."""
    return json.dumps({**CONFIG, "rope_scaling": "X"}).replace('"X"', '{"a": ' * depth + "1" + "}" * depth)


# --- scenario YAML ----------------------------------------------------------------------------

SCENARIO_CASES: dict[str, tuple[str | bytes | Callable[[Path], Path], tuple[str, ...]]] = {
    "latin-1": (SCENARIO.replace("n_chips: 1", "name: Caf\u00e9 test\nn_chips: 1").encode("latin-1"),
                ("scenario", "s.yaml", "not UTF-8", "0xE9", "line 3")),
    "utf-16 with BOM": (SCENARIO.encode("utf-16"), ("scenario", "s.yaml", "UTF-16")),
    "utf-16-be with BOM": ("\ufeff".encode("utf-16-be") + SCENARIO.encode("utf-16-be"), ("s.yaml", "UTF-16")),
    "utf-32 with BOM": (SCENARIO.encode("utf-32"), ("s.yaml", "UTF-32")),
    "utf-16 without BOM": (SCENARIO.encode("utf-16-le"), ("s.yaml", "NUL")),
    "binary (PNG header)": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), ("s.yaml", "binary")),
    "empty": ("", ("s.yaml", "empty")),
    "comments only": ("# nothing here\n# at all\n", ("s.yaml", "empty")),
    "a list at the top level": ("- model: llama-3.1-8b\n- hardware: h100-sxm\n", ("s.yaml", "mapping", "list")),
    "a scalar at the top level": ("llama-3.1-8b\n", ("s.yaml", "mapping")),
    "oversized": (lambda tmp: sparse(tmp, "s.yaml", YAML_MAX_BYTES + 1), ("scenario", "s.yaml", "too large")),
    "a folder": (lambda tmp: (tmp / "s.yaml").mkdir() or tmp / "s.yaml", ("scenario", "s.yaml", "folder")),
    "missing": (lambda tmp: tmp / "s.yaml", ("scenario", "s.yaml", "no such file")),
    "billion laughs under an unknown key": (SCENARIO + "x-anchors:\n" + laughs("  "), ("s.yaml", "alias", "line")),
    "billion laughs at the top level": (laughs() + SCENARIO, ("s.yaml", "alias")),
    "billion laughs in parallelism": (
        SCENARIO + "parallelism:\n" + laughs("  ", 10) + "  tp: *l10\n", ("s.yaml", "alias")),
    "billion laughs in workload": (
        SCENARIO.replace("workload: {input_tokens: 128, output_tokens: 32, batch: 1}\n",
                         "workload:\n  input_tokens: 128\n  output_tokens: 32\n" + laughs("  ") + "  batch: *l9\n"),
        ("s.yaml", "alias")),
    "billion laughs in overrides": (SCENARIO + "overrides:\n" + laughs("  ") + "  chip.peak_flops: *l9\n",
                                    ("s.yaml", "alias")),
    "billion laughs in economics": (SCENARIO + "economics:\n" + laughs("  ") + "  pue: *l9\n", ("s.yaml", "alias")),
    "billion laughs in placement": (SCENARIO + "placement:\n" + laughs("  ") + "  weights: *l9\n",
                                    ("s.yaml", "alias")),
    "billion laughs as the name": (laughs() + SCENARIO + "name: *l9\n", ("s.yaml", "alias")),
    "merge-key bomb": (MERGE_BOMB + SCENARIO, ("s.yaml", "alias")),
    "an alias inside its own anchor": (SCENARIO + "parallelism: &p {tp: 1, more: *p}\n", ("s.yaml", "itself")),
    "a duplicate top-level key": (SCENARIO + "model: llama-3.1-70b\n", ("s.yaml", "duplicate key 'model'", "line 5")),
    "a duplicate key, quoted differently": (SCENARIO + "'hardware': a100-sxm\n", ("s.yaml", "duplicate", "hardware")),
    "a duplicate key in a block": (
        SCENARIO.replace("batch: 1}", "batch: 1, input_tokens: 4096}"), ("s.yaml", "duplicate", "input_tokens")),
    "deep block nesting": (SCENARIO + "overrides:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(150))
                           + "  " * 151 + "v\n", ("s.yaml", "nested")),
    "deep flow nesting": (SCENARIO + "overrides: " + "[" * 5000 + "]" * 5000 + "\n", ("s.yaml", "nest")),
    "an integer of 5,000 digits": (SCENARIO.replace("n_chips: 1", "n_chips: " + "9" * 5000), ("s.yaml", "digits")),
    "a python tag": (SCENARIO + "name: !!python/object/apply:os.system [ls]\n", ("s.yaml", "malformed YAML")),
    "two documents": (SCENARIO + "---\n" + SCENARIO, ("s.yaml", "malformed YAML", "document")),
    "too many values": (SCENARIO + "name: [" + ",".join(["1"] * 60_000) + "]\n", ("s.yaml", "values")),
    "a 3 MB model name": (SCENARIO.replace("llama-3.1-8b", "x" * 3_000_000), ("model",)),
    # An explicit key ('? KEY'): a plain key is limited to 1,024 characters by the YAML parser.
    "a 1 MB unknown key": (SCENARIO + "? " + "k" * 1_000_000 + "\n: 1\n", ("unknown field",)),
}


@pytest.mark.parametrize("case", list(SCENARIO_CASES), ids=list(SCENARIO_CASES))
@pytest.mark.parametrize("command", ["predict", "fit"])
def test_a_bad_scenario_file_is_refused(capsys, tmp_path, case, command):
    content, names = SCENARIO_CASES[case]
    p = content(tmp_path) if callable(content) else write(tmp_path, "s.yaml", content)
    assert_refused(run_cli(capsys, command, p), *names)


def test_a_scenario_saved_with_a_utf8_bom_is_answered(capsys, tmp_path):
    p = write(tmp_path, "s.yaml", "\ufeff" + SCENARIO)
    res = run_cli(capsys, "predict", p, "--json")
    assert_answered(res)
    assert strict_json(res.stdout)["model"] == "llama-3.1-8b"


def test_a_scenario_with_anchors_and_merge_keys_is_answered(capsys, tmp_path):
    """Aliases used as intended (one block reused) stay far below the bound."""
    text = ("model: &m llama-3.1-8b\nname: *m\nhardware: h100-sxm\nn_chips: 2\nparallelism: {tp: 2}\n"
            "workload: {<<: &w {input_tokens: 128, output_tokens: 32}, batch: 1, output_tokens: 64}\n")
    res = run_cli(capsys, "predict", write(tmp_path, "s.yaml", text), "--json")
    assert_answered(res)
    d = strict_json(res.stdout)
    assert d["parallelism"]["tp"] == 2
    assert d["output_tokens"] == 64                      # the key written after the merge wins


# --- hardware YAML, through a scenario's `hardware: FILE` -------------------------------------

HARDWARE_CASES: dict[str, tuple[str | bytes | None, tuple[str, ...]]] = {
    "latin-1": (HARDWARE.replace("custom", "custom\nname: Acc\u00e9l\u00e9rateur").encode("latin-1"),
                ("hardware", "hw.yaml", "not UTF-8")),
    "utf-16 with BOM": (HARDWARE.encode("utf-16"), ("hardware", "hw.yaml", "UTF-16")),
    "binary": (bytes(range(256)) * 4, ("hardware", "hw.yaml", "binary")),
    "empty": ("", ("hw.yaml", "empty")),
    "a list": ("- kind: chip\n", ("hw.yaml", "mapping")),
    "billion laughs": (laughs() + HARDWARE, ("hw.yaml", "alias")),
    "billion laughs in peak_flops": (HARDWARE.replace("peak_flops: {bf16: 2.0e+15, fp8: 4.0e+15}",
                                                     "extra:\n" + laughs("  ") + "peak_flops: *l9"),
                                     ("hw.yaml", "alias")),
    "a duplicate key": (HARDWARE + "peak_flops: {bf16: 1.0e+15}\n", ("hw.yaml", "duplicate key 'peak_flops'")),
    "a duplicate key in memory": (HARDWARE.replace("    capacity_bytes: {value: 288, unit: GB}\n",
                                                   "    capacity_bytes: {value: 288, unit: GB}\n"
                                                   "    capacity_bytes: 1\n"), ("hw.yaml", "duplicate")),
    "oversized": (None, ("hardware", "hw.yaml", "too large")),
    "a folder": (None, ("hardware", "hw.yaml", "folder")),
}


@pytest.mark.parametrize("case", list(HARDWARE_CASES), ids=list(HARDWARE_CASES))
def test_a_bad_hardware_file_is_refused(capsys, tmp_path, case):
    content, names = HARDWARE_CASES[case]
    if case == "oversized":
        sparse(tmp_path, "hw.yaml", YAML_MAX_BYTES + 1)
    elif case == "a folder":
        (tmp_path / "hw.yaml").mkdir()
    else:
        write(tmp_path, "hw.yaml", content)
    s = write(tmp_path, "s.yaml", SCENARIO.replace("hardware: h100-sxm", "hardware: hw.yaml"))
    assert_refused(run_cli(capsys, "predict", s), *names)


def test_a_hardware_file_with_a_utf8_bom_is_answered(capsys, tmp_path):
    write(tmp_path, "hw.yaml", "\ufeff" + HARDWARE)
    s = write(tmp_path, "s.yaml", SCENARIO.replace("hardware: h100-sxm", "hardware: hw.yaml"))
    res = run_cli(capsys, "predict", s, "--json")
    assert_answered(res)
    assert strict_json(res.stdout)["chip"] == "my-accelerator"


# --- config.json, through `llmhw show FILE` and a scenario's `model: FILE` --------------------

CONFIG_TEXT = json.dumps(CONFIG)
CONFIG_CASES: dict[str, tuple[str | bytes | None, tuple[str, ...]]] = {
    "latin-1": (json.dumps({**CONFIG, "name": "Caf\u00e9"}, ensure_ascii=False).encode("latin-1"),
                ("model", "config.json", "not UTF-8")),
    "utf-16 with BOM": (CONFIG_TEXT.encode("utf-16"), ("model", "config.json", "UTF-16")),
    "utf-32 with BOM": (CONFIG_TEXT.encode("utf-32"), ("model", "config.json", "UTF-32")),
    "binary (safetensors-like)": (b"\x08\x00\x00\x00\x00\x00\x00\x00{}" + bytes(64), ("config.json", "binary")),
    "empty": ("", ("config.json", "empty")),
    "malformed": (CONFIG_TEXT[:-5], ("config.json", "malformed JSON", "line 1")),
    "NaN": (CONFIG_TEXT.replace('"vocab_size": 32000', '"vocab_size": NaN'), ("config.json", "vocab_size", "NaN")),
    "Infinity": (CONFIG_TEXT.replace("4096", "Infinity"), ("config.json", "max_position_embeddings", "Infinity")),
    "-Infinity nested": (json.dumps({**CONFIG, "rope_scaling": {"factor": "X"}}).replace('"X"', "-Infinity"),
                         ("config.json", "rope_scaling.factor", "-Infinity")),
    "NaN in a list": (json.dumps({**CONFIG, "eos_token_id": [1, "X"]}).replace('"X"', "NaN"),
                      ("config.json", "eos_token_id[1]")),
    "1e400": (CONFIG_TEXT.replace("512", "1e400"), ("config.json", "hidden_size", "infinity")),
    "a 40-digit integer": (CONFIG_TEXT.replace("512", "9" * 40), ("config.json", "hidden_size", "digits")),
    "an integer of 5,000 digits": (CONFIG_TEXT.replace("512", "9" * 5000), ("config.json", "digits")),
    "duplicate keys": (CONFIG_TEXT.replace('"hidden_size": 512', '"hidden_size": 512, "hidden_size": 64'),
                       ("config.json", "duplicate key 'hidden_size'")),
    "deep nesting (a run of brackets)": ('{"rope_scaling": ' + "[" * 100_000 + "]" * 100_000 + "}",
                                         ("config.json", "nested")),
    "deep nesting (keyed objects)": (nested_json(150), ("config.json", "nested")),
    "very deep nesting (keyed objects)": (nested_json(3000), ("config.json", "nested")),
    "a list at the top level": ("[" + CONFIG_TEXT + "]", ("config.json",)),
    "too many values": (json.dumps({**CONFIG, "eos_token_id": list(range(60_000))}), ("config.json", "values")),
    "oversized": (None, ("model", "config.json", "too large")),
}


def _config_file(tmp: Path, case: str, content: str | bytes | None) -> Path:
    d = tmp / "m"
    d.mkdir()
    if case == "oversized":
        return sparse(d, "config.json", CONFIG_MAX_BYTES + 1)
    return write(d, "config.json", content)


@pytest.mark.parametrize("case", list(CONFIG_CASES), ids=list(CONFIG_CASES))
def test_a_bad_config_json_is_refused_by_show(capsys, tmp_path, case):
    content, names = CONFIG_CASES[case]
    p = _config_file(tmp_path, case, content)
    assert_refused(run_cli(capsys, "show", p), *names)


@pytest.mark.parametrize("case", ["latin-1", "utf-16 with BOM", "NaN", "duplicate keys",
                                  "very deep nesting (keyed objects)", "oversized"])
def test_a_bad_config_json_is_refused_in_a_scenario(capsys, tmp_path, case):
    content, names = CONFIG_CASES[case]
    _config_file(tmp_path, case, content)
    s = write(tmp_path, "s.yaml", SCENARIO.replace("model: llama-3.1-8b", "model: m/config.json"))
    assert_refused(run_cli(capsys, "predict", s), *names)


def test_a_config_folder_without_config_json_is_refused(capsys, tmp_path):
    (tmp_path / "m").mkdir()
    assert_refused(run_cli(capsys, "show", tmp_path / "m"), "model", "config.json", "no such file")


def test_a_config_json_with_a_utf8_bom_is_answered(capsys, tmp_path):
    d = tmp_path / "m"
    d.mkdir()
    write(d, "config.json", "\ufeff" + CONFIG_TEXT)
    res = run_cli(capsys, "show", d / "config.json", "--json")
    assert_answered(res)
    assert strict_json(res.stdout)["layers"] == 4


# --- --batch JSONL: a bad FILE is refused whole -----------------------------------------------

BATCH_CASES: dict[str, tuple[str | bytes | None, tuple[str, ...]]] = {
    "latin-1": ((BATCH_LINE + "\n" + BATCH_LINE.replace("llama-3.1-8b", "caf\u00e9") + "\n").encode("latin-1"),
                ("--batch", "b.jsonl", "not UTF-8", "line 2")),
    "utf-16 with BOM": ((BATCH_LINE + "\n").encode("utf-16"), ("--batch", "b.jsonl", "UTF-16")),
    "binary": (bytes(range(256)), ("--batch", "b.jsonl", "binary")),
    "oversized": (None, ("--batch", "b.jsonl", "too large")),
    "missing": (None, ("--batch", "b.jsonl", "no such file")),
}


@pytest.mark.parametrize("case", list(BATCH_CASES), ids=list(BATCH_CASES))
def test_a_bad_batch_file_is_refused_whole(capsys, tmp_path, case):
    content, names = BATCH_CASES[case]
    if case == "oversized":
        p = sparse(tmp_path, "b.jsonl", JSONL_MAX_BYTES + 1)
    elif case == "missing":
        p = tmp_path / "b.jsonl"
    else:
        p = write(tmp_path, "b.jsonl", content)
    assert_refused(run_cli(capsys, "predict", "--batch", p), *names)


def test_a_batch_file_folder_is_refused(capsys, tmp_path):
    (tmp_path / "b.jsonl").mkdir()
    assert_refused(run_cli(capsys, "predict", "--batch", tmp_path / "b.jsonl"), "--batch", "b.jsonl", "folder")


def test_a_batch_file_with_a_utf8_bom_is_answered(capsys, tmp_path):
    p = write(tmp_path, "b.jsonl", "\ufeff" + BATCH_LINE + "\n" + BATCH_LINE + "\n")
    res = run_cli(capsys, "predict", "--batch", p, "--json")
    assert_answered(res)
    rows = [strict_json(line) for line in res.stdout.splitlines()]
    assert [r["model"] for r in rows] == ["llama-3.1-8b", "llama-3.1-8b"]


# --- a request trace CSV, through a scenario's workload.arrival -------------------------------

TRACE = "arrival_s,input_tokens,output_tokens\n" + "".join(f"{k * 0.5},{100 + k},{10 + k}\n" for k in range(20))
TRACE_CASES: dict[str, tuple[str | bytes | None, tuple[str, ...]]] = {
    "latin-1": ((TRACE + "# caf\u00e9\n").encode("latin-1"), ("workload.arrival.path", "t.csv", "not UTF-8")),
    "utf-16 with BOM": (TRACE.encode("utf-16"), ("workload.arrival.path", "t.csv", "UTF-16")),
    "binary": (bytes(range(256)), ("workload.arrival.path", "t.csv", "binary")),
    "oversized": (None, ("workload.arrival.path", "t.csv", "too large")),
    "a folder": (None, ("workload.arrival.path", "t.csv", "folder")),
    "a field over the csv module's limit": (TRACE + '1,"' + "x" * 200_000 + '",3\n', ("t.csv", "row 22")),
}


@pytest.mark.parametrize("case", list(TRACE_CASES), ids=list(TRACE_CASES))
def test_a_bad_trace_file_is_refused(capsys, tmp_path, case):
    content, names = TRACE_CASES[case]
    if case == "oversized":
        sparse(tmp_path, "t.csv", TRACE_MAX_BYTES + 1)
    elif case == "a folder":
        (tmp_path / "t.csv").mkdir()
    else:
        write(tmp_path, "t.csv", content)
    s = write(tmp_path, "s.yaml", "model: llama-3.1-8b\nhardware: h100-sxm\nengine: vllm\n"
              "workload: {harness: offline, requests: 10, arrival: {process: trace, path: t.csv}}\n")
    assert_refused(run_cli(capsys, "fit", s), *names)


def test_a_trace_with_a_utf8_bom_is_answered(capsys, tmp_path):
    write(tmp_path, "t.csv", "\ufeff" + TRACE)
    s = write(tmp_path, "s.yaml", "model: llama-3.1-8b\nhardware: h100-sxm\nengine: vllm\n"
              "workload: {harness: offline, requests: 10, arrival: {process: trace, path: t.csv}}\n")
    res = run_cli(capsys, "predict", s, "--json")
    assert_answered(res)
    # the workload's prompt length is the trace's mean prompt (100 ... 119: 109.5, rounded to even)
    assert strict_json(res.stdout)["input_tokens"] == 110
