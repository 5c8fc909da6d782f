"""The input boundary (llmhw.core.io, llmhw.core.errors): malformed YAML, wherever it is read, is
one LlmhwError naming the file and the line; files are checked for size, kind and encoding before
they are parsed; YAML and JSON are read strictly and within bounds; an error is one short line."""

import json
import os
from importlib import resources
from pathlib import Path

import pytest

from llmhw import Scenario
from llmhw.core.errors import MAX_ERROR_CHARS, LlmhwError, shown, unknown_name
from llmhw.core.io import MAX_DEPTH, MAX_INT_DIGITS, MAX_VALUES, read_json, read_text, read_yaml
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


# --- the error line ---------------------------------------------------------------------------



def test_a_short_error_is_kept_as_written():
    e = LlmhwError("must be positive, got -4", field="workload.batch", accepted="1, 2, 4")
    assert str(e) == "workload.batch: must be positive, got -4 (accepted: 1, 2, 4)"
    assert (e.field, e.detail, e.accepted) == ("workload.batch", "must be positive, got -4", "1, 2, 4")


def test_a_huge_error_is_one_clipped_line_keeping_both_ends():
    e = LlmhwError("START " + "x\n" * 500_000 + "END", field="f" * 100_000, accepted="a, " * 100_000 + "z")
    text = str(e)
    assert len(text) <= MAX_ERROR_CHARS and "\n" not in text
    assert e.detail.startswith("START x x") and e.detail.endswith("x x END") and "..." in e.detail
    assert e.accepted.endswith("a, z")


def test_control_characters_and_lone_surrogates_are_escaped():
    text = str(LlmhwError("bad \x1b[31mred\x00 \ud800", field="name"))
    text.encode("utf-8")                                    # would raise on a lone surrogate
    assert "\x1b" not in text and "\x00" not in text
    assert "\\x1b" in text and "\\ud800" in text


def test_shown_clips_without_building_the_whole_repr():
    s = shown("a" * 1_000_000 + "Z")
    assert len(s) <= 60 and s.startswith("'aaa") and "..." in s
    assert len(shown(list(range(1_000_000)))) <= 60
    deep: list = []
    for _ in range(10_000):                                 # repr() itself would recurse too deep
        deep = [deep]
    assert shown(deep).startswith("[[")

    class Odd:
        def __repr__(self) -> str:
            raise RuntimeError("no repr")

    assert shown(Odd()).startswith("<Odd")


def test_an_unknown_huge_name_is_clipped_and_gets_no_suggestion():
    e = unknown_name("model", "llama" * 200_000, ["llama-3.1-8b", "llama-3.1-70b"], field="model")
    assert len(str(e)) <= MAX_ERROR_CHARS and "did you mean" not in str(e)


# --- read_text --------------------------------------------------------------------------------

def _refused(fn, *args, **kw) -> str:
    with pytest.raises(LlmhwError) as info:
        fn(*args, **kw)
    text = str(info.value)
    assert "\n" not in text
    return text


def test_read_text_refuses_a_missing_file_and_a_folder(tmp_path):
    assert "no such file" in _refused(read_text, tmp_path / "nope.yaml", field="scenario", max_bytes=100)
    assert "folder" in _refused(read_text, tmp_path, field="scenario", max_bytes=100)
    assert "cannot read" in _refused(read_text, "a\0b", field="scenario", max_bytes=100)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX named pipes")
def test_read_text_refuses_a_pipe_without_blocking_on_it(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    assert "not a regular file" in _refused(read_text, tmp_path / "pipe", field="scenario", max_bytes=100)


def test_read_text_cap_is_exact(tmp_path):
    p = tmp_path / "f.txt"
    p.write_bytes(b"x" * 10)
    assert read_text(p, field="f", max_bytes=10) == "x" * 10
    p.write_bytes(b"x" * 11)
    text = _refused(read_text, p, field="f", max_bytes=10)
    assert "11 bytes" in text and "10 bytes" in text


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="Linux /proc")
def test_read_text_reads_no_more_than_the_cap_when_the_size_is_unknown():
    # /proc files report a size of 0 but hold hundreds of bytes: the read itself must stop.
    assert os.stat("/proc/self/status").st_size == 0
    assert "too large" in _refused(read_text, "/proc/self/status", field="f", max_bytes=16)


@pytest.mark.parametrize("data, words", [
    ("a: 1\n".encode("utf-16-le"), ["NUL", "offset 1"]),
    ("\ufeffa: 1\n".encode("utf-16-le"), ["UTF-16"]),
    ("\ufeffa: 1\n".encode("utf-16-be"), ["UTF-16"]),
    ("\ufeffa: 1\n".encode("utf-32-le"), ["UTF-32"]),
    ("\ufeffa: 1\n".encode("utf-32-be"), ["UTF-32"]),
    (b"\x7fELF\x02\x01\x01\x00", ["binary", "offset 7"]),
    ("name: x\nname2: Caf\u00e9\n".encode("latin-1"), ["not UTF-8", "0xE9", "line 2", "offset 18", "Latin-1"]),
    ("ok: \u00e9\n".encode("cp1252") + b"\x93quoted\x94", ["0xE9", "line 1"]),
])
def test_read_text_says_which_encoding_it_found(tmp_path, data, words):
    p = tmp_path / "f.yaml"
    p.write_bytes(data)
    text = _refused(read_text, p, field="scenario", max_bytes=1000)
    assert text.startswith("scenario: ") and "f.yaml" in text and "UTF-8" in text
    for w in words:
        assert w in text


def test_read_text_drops_a_utf8_bom(tmp_path):
    p = tmp_path / "f.yaml"
    p.write_bytes(b"\xef\xbb\xbfa: caf\xc3\xa9\n")
    assert read_text(p, field="f", max_bytes=100) == "a: caf\u00e9\n"


# --- read_yaml --------------------------------------------------------------------------------

def test_duplicate_keys_are_refused_naming_the_key_and_both_places():
    assert "duplicate key 'tp' at line 3 (first at line 1)" in _refused(read_yaml, "tp: 1\npp: 2\ntp: 4\n")
    assert "duplicate key 'b'" in _refused(read_yaml, "a:\n  b: 1\n  'b': 2\n")
    text = _refused(read_yaml, "w: {batch: 1, x: 2, batch: 3}\n")
    assert "line 1, column 21 (first at column 5)" in text
    # the same key in two different mappings is no duplicate
    assert read_yaml("a: {k: 1}\nb: {k: 2}\n") == {"a": {"k": 1}, "b": {"k": 2}}


def test_merge_keys_may_be_overridden():
    data = read_yaml("base: &b {tp: 2, pp: 1}\nmore: &m {ep: 2}\nrun: {<<: [*b, *m], tp: 8}\n")
    assert data["run"] == {"tp": 8, "pp": 1, "ep": 2}


def test_a_billion_laughs_is_refused_naming_the_alias():
    bomb = "l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
        f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]\n" for i in range(1, 10))
    text = _refused(read_yaml, bomb, "bomb.yaml")
    assert text.startswith("bomb.yaml: alias *l") and "anchor &l" in text and "50,000" in text


def test_the_value_budget_counts_aliases_expanded():
    # 'a' is a list of 99 scalars: 100 values, each alias of it 100 more. With the root mapping,
    # two keys and the outer list, m aliases make 104 + 100 m values.
    anchor = "a: &a [" + ", ".join(["1"] * 99) + "]\n"
    m = (MAX_VALUES - 104) // 100
    assert len(read_yaml(anchor + "b: [" + ", ".join(["*a"] * m) + "]\n")["b"]) == m
    assert "alias *a" in _refused(read_yaml, anchor + "b: [" + ", ".join(["*a"] * (m + 1)) + "]\n")


def test_the_value_budget_counts_plain_values():
    # the root mapping, the key, the list and its items
    n = MAX_VALUES - 3
    assert len(read_yaml("x: [" + ",".join(["1"] * n) + "]\n")["x"]) == n
    assert f"more than {MAX_VALUES:,} values" in _refused(read_yaml, "x: [" + ",".join(["1"] * (n + 1)) + "]\n")


def test_an_alias_inside_its_own_anchor_is_refused():
    assert "refers to its own anchor" in _refused(read_yaml, "a: &a [1, *a]\n")
    assert "refers to its own anchor" in _refused(read_yaml, "a: &a {x: {y: *a}}\n")


def test_nesting_is_bounded_without_a_recursion_error():
    def block(levels: int) -> str:
        return "".join("  " * i + f"k{i}:\n" for i in range(levels)) + "  " * levels + "v\n"

    data = read_yaml(block(MAX_DEPTH - 1))                  # MAX_DEPTH - 1 mappings and the leaf
    for i in range(MAX_DEPTH - 1):
        data = data[f"k{i}"]
    assert data == "v"
    assert f"nested more than {MAX_DEPTH} levels" in _refused(read_yaml, block(MAX_DEPTH))
    assert "nest" in _refused(read_yaml, "x: " + "[" * 100_000 + "]" * 100_000)


def test_integers_are_bounded_in_digits():
    assert read_yaml("n: " + "9" * MAX_INT_DIGITS) == {"n": int("9" * MAX_INT_DIGITS)}
    assert f"{MAX_INT_DIGITS + 1} digits" in _refused(read_yaml, "n: " + "9" * (MAX_INT_DIGITS + 1))
    assert "5,000 digits" in _refused(read_yaml, "n: " + "9" * 5000)


def test_a_mapping_is_required_where_asked():
    assert "empty" in _refused(read_yaml, "# only a comment\n", mapping=True)
    assert "got a list" in _refused(read_yaml, "- a\n- b\n", mapping=True)
    assert "got a string" in _refused(read_yaml, "just text\n", mapping=True)
    assert read_yaml("- a\n") == ["a"]                      # without mapping=True a list is data


def test_values_the_constructor_cannot_make_name_the_line():
    assert "line 2" in _refused(read_yaml, "a: 1\nb: 2024-13-45\n")


def test_packaged_yaml_is_read_through_the_same_loader():
    raw = read_yaml(resources.files("llmhw.scenario").joinpath("engines.yaml"))
    assert "profiles" in raw


# --- read_json --------------------------------------------------------------------------------

@pytest.mark.parametrize("text, words", [
    ('{"a": NaN}', ["a: NaN"]),
    ('{"a": {"b": [1, [2, Infinity]]}}', ["a.b[1][1]: Infinity"]),
    ('{"a": -Infinity}', ["a: -Infinity"]),
    ("NaN", ["top level: NaN"]),
    ("[1, NaN]", ["[1]: NaN"]),
    ('{"a": 1e400}', ["a: ", "infinity"]),
    ('{"a": -1e400}', ["a: ", "infinity"]),
    ('{"a": [' + "9" * (MAX_INT_DIGITS + 1) + "]}", ["a[0]: ", f"{MAX_INT_DIGITS + 1} digits"]),
    ('{"a": -' + "9" * 5000 + "}", ["a: ", "5,000 digits"]),
])
def test_json_numbers_that_are_not_json_are_refused_naming_the_key(text, words):
    msg = _refused(read_json, text, "c.json")
    assert msg.startswith("c.json: ")
    for w in words:
        assert w in msg


def test_json_numbers_within_range_are_read():
    data = read_json('{"a": 1e308, "b": -' + "9" * MAX_INT_DIGITS + ', "c": "NaN", "d": 5e-324}')
    assert data == {"a": 1e308, "b": -int("9" * MAX_INT_DIGITS), "c": "NaN", "d": 5e-324}


def test_json_duplicate_keys_are_refused():
    assert "duplicate key 'a'" in _refused(read_json, '{"a": 1, "b": {"a": 2}, "a": 3}')
    assert read_json('{"a": {"a": 1}}') == {"a": {"a": 1}}


@pytest.mark.parametrize("shape", ["run", "keyed"])
def test_json_nesting_is_bounded(shape):
    def doc(depth: int) -> str:
        return "[" * depth + "]" * depth if shape == "run" else '{"k": ' * depth + "1" + "}" * depth

    data = read_json(doc(MAX_DEPTH))
    for _ in range(MAX_DEPTH - 1):
        data = data[0] if shape == "run" else data["k"]
    assert data == ([] if shape == "run" else {"k": 1})
    assert f"nested more than {MAX_DEPTH}" in _refused(read_json, doc(MAX_DEPTH + 1))
    assert f"nested more than {MAX_DEPTH}" in _refused(read_json, doc(20_000))


def test_json_values_are_bounded_before_parsing():
    # a list of n numbers: n - 1 commas and one bracket
    assert len(read_json("[" + ",".join(["1"] * (MAX_VALUES - 1)) + "]")) == MAX_VALUES - 1
    assert "values" in _refused(read_json, "[" + ",".join(["1"] * MAX_VALUES) + "]")


def test_json_from_a_path_or_from_text(tmp_path):
    p = tmp_path / "config.json"
    p.write_text('{"model_type": "llama"}')
    assert read_json(p) == {"model_type": "llama"}
    assert "config.json: malformed JSON at line 2, column 1" in _refused(read_json, "{\n", "config.json")
    assert "empty" in _refused(read_json, "  \n", "config.json")
    assert read_json(json.dumps({"x": [1, 2.5, None, True]})) == {"x": [1, 2.5, None, True]}
