"""Reading the files a user hands llmhw, and llmhw's own packaged YAML, at one boundary.

Every user file goes through :func:`read_text` (size, kind of file, encoding), then
:func:`read_yaml` or :func:`read_json` (structure). Whatever the file holds, the answer is
either the data or one :class:`LlmhwError` line naming the file and what is wrong, quickly:
no traceback, no file read whole before its size is known, no alias bomb expanded, no duplicate
key silently dropped, no nesting deep enough to exhaust Python's stack.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources.abc import Traversable
from itertools import chain
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from llmhw.core.errors import LlmhwError, clip, shown

MiB = 1 << 20

# Size caps, by kind of file. Each is far above any real file of its kind and low enough that a
# file at the cap is read and parsed in well under a second and a few times its size in memory.
# A scenario or a hand-written chip or system spec is a few KB, and the largest packaged catalog
# (hardware/catalog/chips.yaml) is 66 KB: 4 MiB is 60 times that.
YAML_MAX_BYTES = 4 * MiB
# A Hugging Face config.json is 1-10 KB (a few with label maps reach tens of KB); at 2 MiB, a
# file of nothing but small objects still parses in a fraction of a second.
CONFIG_MAX_BYTES = 2 * MiB
# A --batch file is one scenario mapping (~200 bytes) a line: 64 MiB is some 300,000 scenarios,
# more than a batch run gets through in an hour.
JSONL_MAX_BYTES = 64 * MiB
# A request trace is one request (~30-60 bytes) a row: 256 MiB is 5-8 million requests, more
# than a week of a public production trace; its parsed rows still fit in about 1 GB.
TRACE_MAX_BYTES = 256 * MiB

# The most values (scalars, lists and mappings) a YAML or JSON document may hold, a YAML one
# with its aliases expanded. The largest packaged catalog holds 5,533, a config.json a few
# hundred and a scenario about 50. 50,000 keeps a billion-laughs file (a few lines whose aliases
# expand to 10^9 values) from reaching any code that would walk the expansion, and bounds the
# parse of any file (10-40 us a value in Python) to well under the 2 seconds.
MAX_VALUES = 50_000
# The deepest nesting of mappings and lists a YAML or JSON file may have. Real files nest six
# levels at most (a config.json's text_config.rope_scaling); the parsers and the code after them
# recurse once a level, so 100 stays far from Python's recursion limit (1,000 frames).
MAX_DEPTH = 100
# The most digits an integer may be written with. No count or size llmhw takes comes near 30
# digits, and a longer one only breaks things downstream (Python refuses to read one of more
# than 4,300 digits; numpy's integers stop at 19).
MAX_INT_DIGITS = 30

_UTF8_BOM = b"\xef\xbb\xbf"
# Longer marks first: a UTF-32 LE mark starts with the UTF-16 LE one.
_OTHER_BOMS = ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"),
               (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16"))
_UTF8 = "UTF-8 text (save the file as UTF-8)"


def _size(n: int) -> str:
    """A byte count exactly (a file one byte over a cap must not read as equal to it)."""
    return f"{n:,} bytes" + (f" ({n / MiB:,.1f} MiB)" if n >= MiB else "")


def _cap(n: int) -> str:
    return f"{n // MiB} MiB" if n % MiB == 0 else f"{n:,} bytes"


@contextmanager
def path_errors(shown_path: str, field: str, verb: str = "open") -> Iterator[None]:
    """Checks of a path the user gave, inside: an OS refusal (a name too long, a loop of
    symbolic links) or a path Python cannot pass to the OS (a NUL byte) becomes one LlmhwError
    naming ``field``; an LlmhwError raised inside passes through."""
    try:
        yield
    except OSError as exc:
        raise LlmhwError(f"cannot {verb} '{shown_path}': {exc.strerror or exc}", field=field) from None
    except ValueError as exc:
        if isinstance(exc, LlmhwError):
            raise
        raise LlmhwError(f"not a usable path: {exc}", field=field) from None


def read_text(path: str | Path, *, field: str, max_bytes: int) -> str:
    """The text of a user's file, refused (an LlmhwError on ``field``, the message naming the
    path) when it is missing, a folder or not a regular file, larger than ``max_bytes``, or not
    UTF-8. A UTF-8 byte-order mark is dropped. The size is checked before the file is read, and
    never more than ``max_bytes`` + 1 bytes are read (a file may grow, or report no size)."""
    name = shown(str(path), 200)           # a path is worth showing whole, within reason
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        raise LlmhwError(f"no such file {name}", field=field) from None
    except (OSError, ValueError) as exc:                    # permissions, a NUL in the name, ...
        raise LlmhwError(f"cannot read {name}: {getattr(exc, 'strerror', None) or exc}", field=field) from None
    if stat.S_ISDIR(st.st_mode):
        raise LlmhwError(f"{name} is a folder; give a file", field=field)
    if not stat.S_ISREG(st.st_mode):
        raise LlmhwError(f"{name} is not a regular file (a device, pipe or socket)", field=field)
    too_big = LlmhwError(f"{name} is too large: {_size(st.st_size)}, over the {_cap(max_bytes)} limit",
                         field=field, accepted=f"a file of at most {_cap(max_bytes)}")
    if st.st_size > max_bytes:
        raise too_big
    try:
        with open(path, "rb") as f:
            data = f.read(max_bytes + 1)
    except OSError as exc:
        raise LlmhwError(f"cannot read {name}: {exc.strerror or exc}", field=field) from None
    if len(data) > max_bytes:
        raise too_big
    return decode_utf8(data, name=name, field=field)


def decode_utf8(data: bytes, *, name: str, field: str) -> str:
    """``data`` as UTF-8 text (a leading byte-order mark dropped); any other encoding is refused
    saying what it looks like: UTF-16 or UTF-32 (by its byte-order mark), binary (NUL bytes),
    or a single-byte encoding such as Latin-1 (at the first byte that is not UTF-8)."""
    for bom, enc in _OTHER_BOMS:
        if data.startswith(bom):
            raise LlmhwError(f"{name} is {enc} text (it starts with a {enc} byte-order mark)", field=field,
                             accepted=_UTF8)
    if data.startswith(_UTF8_BOM):
        data = data[len(_UTF8_BOM):]
    nul = data.find(b"\x00")
    if nul >= 0:
        raise LlmhwError(f"{name} holds a NUL byte at offset {nul:,}: a binary file, or UTF-16/32 text "
                         "without a byte-order mark", field=field, accepted=_UTF8)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise LlmhwError(f"{name} is not UTF-8: byte 0x{data[exc.start]:02X} at line {line} (offset "
                         f"{exc.start:,}) is not UTF-8, e.g. Latin-1 or Windows-1252 text", field=field,
                         accepted=_UTF8) from None


# --- YAML -------------------------------------------------------------------------------------

try:            # libyaml's scanner and parser (C) when present: 10x faster; composing stays ours
    from yaml._yaml import CParser as _Parser
except ImportError:                                         # pragma: no cover - pure-Python PyYAML
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _Parser(Reader, Scanner, Parser):                 # type: ignore[no-redef]
        def __init__(self, stream: str) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)


class _Refused(Exception):
    """Raised inside the loader; read_yaml turns it into an LlmhwError naming the file."""


class _BoundedComposer(Composer):
    """PyYAML's composer, counting as it goes: every value with its aliases expanded (an alias
    adds the whole size of what it names, however often it is used), and the nesting depth.
    Past a bound, composing stops at once, so a billion-laughs file costs the few nodes it
    is written with. Duplicate keys in a mapping are refused here too."""

    def __init__(self) -> None:
        super().__init__()
        self._values = 0
        self._depth = 0
        self._sizes: dict[int, int] = {}       # id(node) -> its size with aliases expanded
        self._open: set[str] = set()           # anchors of nodes still being composed

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        if self.check_event(AliasEvent):
            event = self.peek_event()
            target = self.anchors.get(event.anchor)
            if target is not None:
                line = event.start_mark.line + 1
                if event.anchor in self._open:
                    raise _Refused(f"alias *{clip(event.anchor, 60)} at line {line} refers to its own "
                                   "anchor: a value cannot contain itself")
                size = self._expanded(target)
                self._values += size
                if self._values > MAX_VALUES:
                    raise _Refused(
                        f"alias *{clip(event.anchor, 60)} at line {line} (anchor &{clip(event.anchor, 60)} at line "
                        f"{target.start_mark.line + 1}) expands to {size:,} values, taking the file "
                        f"past {MAX_VALUES:,} values with its aliases expanded (an alias bomb?)")
            return super().compose_node(parent, index)
        self._values += 1
        if self._values > MAX_VALUES:
            line = self.peek_event().start_mark.line + 1
            raise _Refused(f"more than {MAX_VALUES:,} values (at line {line})")
        self._depth += 1
        if self._depth > MAX_DEPTH:
            line = self.peek_event().start_mark.line + 1
            raise _Refused(f"nested more than {MAX_DEPTH} levels deep (at line {line})")
        anchor = self.peek_event().anchor
        if anchor is not None:
            self._open.add(anchor)
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1
            self._open.discard(anchor)  # type: ignore[arg-type]

    def compose_mapping_node(self, anchor: str | None) -> MappingNode:
        node = super().compose_mapping_node(anchor)
        seen: dict[Any, Any] = {}
        for key, _ in node.value:
            # Scalar keys, compared as constructed ('a' and "a" are one key); merge keys ('<<')
            # may repeat and are overridden by design.
            if not isinstance(key, ScalarNode) or key.tag == "tag:yaml.org,2002:merge":
                continue
            k = self.construct_object(key)  # type: ignore[attr-defined]
            if k in seen:
                first, again = seen[k], key.start_mark
                where = (f"line {again.line + 1}" if first.line != again.line else
                         f"line {again.line + 1}, column {again.column + 1}")
                was = (f"line {first.line + 1}" if first.line != again.line else f"column {first.column + 1}")
                raise _Refused(f"duplicate key {shown(k)} at {where} (first at {was}); YAML would keep "
                               "only the last")
            seen[k] = key.start_mark
        return node

    def _expanded(self, root: Node) -> int:
        """The number of values under ``root`` with every alias expanded, memoised per node
        (iterative: no recursion however deep)."""
        sizes = self._sizes
        stack: list[tuple[Node, bool]] = [(root, False)]
        while stack:
            node, children_done = stack.pop()
            if id(node) in sizes:
                continue
            if isinstance(node, ScalarNode):
                sizes[id(node)] = 1
                continue
            kids = node.value if isinstance(node, SequenceNode) else [x for kv in node.value for x in kv]
            if children_done:
                sizes[id(node)] = 1 + sum(sizes.get(id(k), 0) for k in kids)
            else:
                stack.append((node, True))
                stack.extend((k, False) for k in kids if id(k) not in sizes)
        return sizes[id(root)]


class _Loader(_BoundedComposer, _Parser, SafeConstructor, Resolver):  # type: ignore[misc,valid-type]
    """yaml.SafeLoader's data types (no Python objects), with the bounded composer."""

    def __init__(self, stream: str) -> None:
        _Parser.__init__(self, stream)
        _BoundedComposer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, TypeError, OverflowError) as exc:
            # A scalar the constructor cannot make: a date out of range, an unhashable key.
            raise _Refused(f"unreadable value at line {node.start_mark.line + 1}: {exc}") from None

    def construct_yaml_int(self, node: ScalarNode) -> int:
        digits = sum(c.isdigit() for c in node.value)
        if digits > MAX_INT_DIGITS:
            raise _Refused(f"the integer at line {node.start_mark.line + 1} has {digits:,} digits "
                           f"(at most {MAX_INT_DIGITS})")
        return super().construct_yaml_int(node)


_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)


def read_yaml(source: Path | Traversable | str, name: str | None = None, *, field: str = "file",
              max_bytes: int = YAML_MAX_BYTES, mapping: bool = False) -> Any:
    """The data of a YAML file (a user's path, read through :func:`read_text` with ``field``
    and ``max_bytes``, or a packaged resource), or of YAML text (a str; ``name`` says where it
    came from). With ``mapping``, the top level must be a mapping (an empty file is refused).

    Refused, as one LlmhwError naming the file (and the line): malformed YAML, a duplicate key,
    an alias that refers to itself, more than :data:`MAX_VALUES` values with aliases
    expanded (a billion-laughs bomb is refused after composing its few written nodes), nesting
    deeper than :data:`MAX_DEPTH`, a number too long to read."""
    if isinstance(source, str):
        text, where = source, name or "yaml"
    elif isinstance(source, Path):
        text, where = read_text(source, field=field, max_bytes=max_bytes), name or source.name
    else:
        text, where = source.read_text(encoding="utf-8"), name or source.name
    try:
        loader = _Loader(text)
    except UnicodeError:                                    # text from code, with lone surrogates
        raise LlmhwError("not valid Unicode text", field=where) from None
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        context = getattr(exc, "context", None)
        problem = f"{getattr(exc, 'problem', None) or exc}" + (f" ({context})" if context else "")
        raise LlmhwError(f"malformed YAML{at}: {problem}", field=where) from None
    except _Refused as exc:
        raise LlmhwError(str(exc), field=where) from None
    except RecursionError:                                  # pragma: no cover - MAX_DEPTH comes first
        raise LlmhwError(f"nested more than {MAX_DEPTH} levels deep", field=where) from None
    finally:
        loader.dispose()
    if mapping:
        expect_mapping(data, where)
    return data


def expect_mapping(data: Any, where: str) -> dict[Any, Any]:
    """``data`` when it is a mapping; else an LlmhwError saying what the top level was."""
    if isinstance(data, dict):
        return data
    if data is None:
        raise LlmhwError("the file is empty; expected a mapping of 'key: value' lines", field=where)
    kind = {list: "a list", str: "a string"}.get(type(data), f"a {type(data).__name__}")
    raise LlmhwError(f"expected a mapping of 'key: value' lines at the top level, got {kind} {shown(data, 40)}",
                     field=where)


# --- JSON -------------------------------------------------------------------------------------

class _NotJson:
    """NaN, Infinity or -Infinity, held in place until the walk names the key it sits under."""

    def __init__(self, token: str) -> None:
        self.token = token


class _LongInt:
    """An integer written with more digits than Python reads, held in place like _NotJson."""

    def __init__(self, digits: int) -> None:
        self.digits = digits


def _int(text: str) -> int | _LongInt:
    return int(text) if len(text) <= MAX_INT_DIGITS + 1 else _LongInt(len(text.lstrip("-")))


class _Duplicate(Exception):
    """Raised by the object hook; read_json turns it into an LlmhwError naming the file."""


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    d = dict(pairs)
    if len(d) < len(pairs):                                 # rare: then find which key repeats
        seen: set[str] = set()
        for k, _ in pairs:
            if k in seen:
                raise _Duplicate(f"duplicate key {shown(k)}; JSON readers disagree on which one counts")
            seen.add(k)
    return d


# More than MAX_DEPTH brackets opened in a row: the usual shape of a deeply nested file, looked
# for in its first 16 KiB only (the search backtracks over runs of brackets; a deeper nesting
# further on is found after parsing).
_DEEP_OPENING = re.compile(r"(?:[\[{]\s*){" + str(MAX_DEPTH + 1) + "}")
_DEEP_HEAD = 16 * 1024


def read_json(source: str | Path, name: str | None = None, *, field: str = "file",
              max_bytes: int = CONFIG_MAX_BYTES) -> Any:
    """Strict JSON from a user's file (a Path, read through :func:`read_text` with ``field`` and
    ``max_bytes``) or from text (a str; ``name`` says where it came from).

    Refused, as one LlmhwError naming the file (or ``name``): malformed JSON (with line and
    column), an empty file, duplicate keys, NaN/Infinity and numbers that overflow to infinity
    and integers of more than :data:`MAX_INT_DIGITS` digits (naming the key), nesting deeper
    than :data:`MAX_DEPTH`, more than :data:`MAX_VALUES` values (checked before parsing)."""
    if isinstance(source, Path):
        text, where = read_text(source, field=field, max_bytes=max_bytes), name or source.name
    else:
        text, where = source, name or "json"
    if not text.strip():
        raise LlmhwError("empty; expected a JSON value", field=where)
    if _DEEP_OPENING.search(text, 0, _DEEP_HEAD):           # before the count: say what is wrong
        raise LlmhwError(f"nested more than {MAX_DEPTH} levels deep", field=where)
    # Every value but the last is followed by a comma, and every list and object opens with a
    # bracket: an upper bound on the values, counted at C speed before anything is parsed.
    values = text.count(",") + text.count("[") + text.count("{") + 1
    if values > MAX_VALUES:
        raise LlmhwError(f"holds about {values:,} values, more than the {MAX_VALUES:,} any config or "
                         "scenario comes near", field=where)
    constants: list[str] = []

    def constant(token: str) -> _NotJson:
        constants.append(token)
        return _NotJson(token)

    try:
        try:
            data = json.loads(text, object_pairs_hook=_object, parse_constant=constant)
        except ValueError as exc:
            if isinstance(exc, json.JSONDecodeError):
                raise
            # An integer of more than 4,300 digits, which Python will not read: again, holding
            # long integers as markers so the walk below names the key.
            data = json.loads(text, object_pairs_hook=_object, parse_constant=constant, parse_int=_int)
    except json.JSONDecodeError as exc:
        raise LlmhwError(f"malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}", field=where) from None
    except _Duplicate as exc:
        raise LlmhwError(str(exc), field=where) from None
    except RecursionError:                                  # json's C scanner, some 1,000 levels down
        raise LlmhwError(f"nested more than {MAX_DEPTH} levels deep", field=where) from None
    problem = _check(data)
    if problem == "deep":
        raise LlmhwError(f"nested more than {MAX_DEPTH} levels deep", field=where)
    if problem == "number":
        raise LlmhwError(_path_to_refused(data) or "a number strict JSON refuses", field=where)
    return data


_BIG = 10**MAX_INT_DIGITS


def _refused_number(v: Any) -> str | None:
    if isinstance(v, _NotJson):
        return f"{v.token} is not a JSON number (NaN and Infinity are not JSON)"
    if isinstance(v, _LongInt):
        return f"an integer of {v.digits:,} digits (at most {MAX_INT_DIGITS})"
    if isinstance(v, float) and not math.isfinite(v):
        return "a number too large for a float (it overflows to infinity)"
    if isinstance(v, int) and not isinstance(v, bool) and not -_BIG < v < _BIG:
        return f"an integer of {len(str(abs(v))):,} digits (at most {MAX_INT_DIGITS})"
    return None


def _is_refused(x: Any) -> bool:
    t = type(x)
    return t is _NotJson or t is _LongInt or (t is float and not math.isfinite(x)) or (t is int and not -_BIG < x < _BIG)


def _check(data: Any) -> str | None:
    """'deep' when containers in ``data`` nest deeper than MAX_DEPTH, 'number' when it holds a
    number strict reading refuses, else None. Level by level, without recursion."""
    if type(data) is not dict and type(data) is not list:
        return "number" if _is_refused(data) else None
    level = [data]
    for _ in range(MAX_DEPTH):
        vals = list(chain.from_iterable(v.values() if type(v) is dict else v for v in level))
        if any(map(_is_refused, vals)):
            return "number"
        level = [x for x in vals if type(x) is dict or type(x) is list]
        if not level:
            return None
    return "deep"


def _path_to_refused(data: Any) -> str | None:
    """The first number strict reading refuses in ``data`` (breadth first), with the path to it
    (``a.b[2]``); None when there is none. Only walked when the text can hold one."""
    level: list[tuple[Any, str]] = [(data, "")]
    while level:
        nxt: list[tuple[Any, str]] = []
        for v, path in level:
            if isinstance(v, dict):
                items: Any = ((f"{path}.{clip(k, 60)}" if path else clip(k, 60), x) for k, x in v.items())
            elif isinstance(v, list):
                items = ((f"{path}[{i}]", x) for i, x in enumerate(v))
            else:
                items = ((path, v),)
            for p, x in items:
                why = _refused_number(x)
                if why:
                    return f"{p or 'top level'}: {why}"
                if isinstance(x, dict | list):
                    nxt.append((x, p))
        level = nxt
    return None
