"""Read YAML 1.2 text into a node tree with positions, fast and bounded, with libyaml (PyYAML's C parser).

Two passes over the text:
1. `scan` walks the parser's events, which the C parser makes without recursion, and stops at the first
   event past a limit (nesting, values written, values after expanding aliases, recursive or undefined
   aliases, a second document). So no later step ever sees a document that is too big or too deep, and a
   hostile 4 MiB file costs at most MAX_WRITTEN events.
2. `compose` builds the node tree (each node with its line and column) with the YAML 1.2 core schema
   (plus timestamps) that ruamel.yaml uses, so `on`, `yes` and `8080:80` stay text.
Scalars are turned into Python values by `scalar_value`. Problems are raised as YamlProblem(where, message).
"""

from __future__ import annotations

import datetime
import math
import re
from typing import Any

import yaml
from yaml import events
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

MAX_DEPTH = 64
MAX_WRITTEN = 20_000  # scalars, mappings and lists as written; real files have a few hundred
MAX_NODES = 100_000  # after expanding aliases: stops "billion laughs" documents before anything walks them

Where = tuple[int, int]  # 1-based line and column
TAG = "tag:yaml.org,2002:"


class YamlProblem(Exception):
    """The text cannot be read as one bounded YAML document; `where` is 1-based."""

    def __init__(self, where: Where, message: str) -> None:
        super().__init__(message)
        self.where = where
        self.message = message


class _Resolver(yaml.resolver.BaseResolver):
    """YAML 1.2 core schema plus timestamps and merge keys (ruamel.yaml's defaults), not PyYAML's 1.1."""


for _tag, _pattern, _first in (
    ("bool", r"true|True|TRUE|false|False|FALSE", "tTfF"),
    (
        "float",
        r"[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)"
        r"|[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)",
        "-+0123456789.",
    ),
    ("int", r"[-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?[0-9_]+|[-+]?0x[0-9a-fA-F_]+", "-+0123456789"),
    ("merge", r"<<", "<"),
    ("null", r"~|null|Null|NULL|", ["~", "n", "N", ""]),
    (
        "timestamp",
        r"[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?"
        r"(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?"
        r"(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?",
        "0123456789",
    ),
):
    _Resolver.add_implicit_resolver(TAG + _tag, re.compile(f"^(?:{_pattern})$"), list(_first))


try:  # libyaml: about ten times faster than the pure-Python parser, which stays as a fallback
    from yaml._yaml import CParser

    class _Loader(CParser, _Resolver):
        def __init__(self, stream: bytes) -> None:
            CParser.__init__(self, stream)
            _Resolver.__init__(self)

except ImportError:  # pragma: no cover - PyYAML wheels ship libyaml
    from yaml.composer import Composer
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _Loader(Reader, Scanner, Parser, Composer, _Resolver):  # type: ignore[no-redef]
        def __init__(self, stream: bytes) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)
            Composer.__init__(self)
            _Resolver.__init__(self)


def compose(data: bytes) -> Node | None:
    """The node tree of `data` (UTF-8); call `scan` first. Raises YamlProblem."""
    loader = _Loader(data)
    try:
        node: Node | None = loader.get_single_node()
        return node
    except yaml.YAMLError as error:
        raise _problem(error, data) from None
    finally:
        loader.dispose()


def scan(data: bytes) -> None:
    """Raise YamlProblem at the first event past a limit, or at a syntax error."""
    state = _ScanState()
    loader = _Loader(data)
    try:
        while loader.check_event():
            state.step(loader.get_event())
    except yaml.YAMLError as error:
        raise _problem(error, data) from None
    finally:
        loader.dispose()


class _ScanState:
    def __init__(self) -> None:
        self.depth = self.written = self.expanded = self.documents = 0
        self.sizes: dict[str, int] = {}  # anchor -> values it stands for, expanded
        self.anchors: dict[str, int] = {}  # anchor -> line it is defined at
        self.open: list[tuple[str | None, int]] = []  # collections being read: (anchor, expanded at start)

    def step(self, event: Any) -> None:
        where = _where(event.start_mark)
        if isinstance(event, events.DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                raise YamlProblem(where, "a second YAML document ('---'): gefyra.yaml is one document")
        elif isinstance(event, events.AliasEvent):
            self._alias(event.anchor or "", where)
        elif isinstance(event, events.ScalarEvent | events.CollectionStartEvent):
            self._anchor(event.anchor, where)
            self.written += 1
            self.expanded += 1
            if self.written > MAX_WRITTEN:
                raise YamlProblem(
                    where, f"the file has more than {MAX_WRITTEN} values; a gefyra.yaml needs far fewer"
                )
            if isinstance(event, events.ScalarEvent):
                if event.anchor:
                    self.sizes[event.anchor] = 1
            else:
                self.depth += 1
                if self.depth > MAX_DEPTH:
                    raise YamlProblem(where, f"nested too deeply (more than {MAX_DEPTH} levels)")
                self.open.append((event.anchor, self.expanded - 1))
        elif isinstance(event, events.CollectionEndEvent):
            anchor, start = self.open.pop()
            self.depth -= 1
            if anchor:
                self.sizes[anchor] = self.expanded - start
        self._check_expanded(where)

    def _anchor(self, anchor: str | None, where: Where) -> None:
        if not anchor:
            return
        if anchor in self.anchors:
            first = self.anchors[anchor]
            raise YamlProblem(where, f"the anchor '&{anchor}' is defined twice (first at line {first})")
        self.anchors[anchor] = where[0]

    def _alias(self, anchor: str, where: Where) -> None:
        if any(name == anchor for name, _ in self.open):
            raise YamlProblem(where, f"the alias '*{anchor}' refers to itself (recursive data)")
        if anchor not in self.sizes:
            raise YamlProblem(where, f"the alias '*{anchor}' names no anchor defined before it")
        self.expanded += self.sizes[anchor]

    def _check_expanded(self, where: Where) -> None:
        if self.expanded > MAX_NODES:
            raise YamlProblem(where, f"the document has more than {MAX_NODES} values after expanding aliases")


def scalar_value(node: ScalarNode) -> object:
    """The Python value of a scalar node: str, int, float, bool, None, date or datetime.

    A value its explicit tag cannot read (`!!int abc`) and unknown tags (`!foo x`) stay text.
    """
    text: str = node.value
    tag = node.tag[len(TAG) :] if node.tag.startswith(TAG) else ""
    try:
        if tag == "null":
            return None
        if tag == "bool":
            return text.lower() == "true"
        if tag == "int":
            return _int(text)
        if tag == "float":
            return _float(text)
        if tag == "timestamp":
            return _timestamp(node)
    except (ValueError, TypeError, AttributeError, OverflowError):
        pass
    return text


def _int(text: str) -> int:
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-").replace("_", "")
    base = {"0b": 2, "0o": 8, "0x": 16}.get(digits[:2], 10)
    number = int(digits[2:] if base != 10 else digits, base)
    if number.bit_length() > 1024:  # no number of gefyra.yaml is this big; str() of it would fail
        raise ValueError("too big")
    return sign * number


def _float(text: str) -> float:
    lowered = text.lower().replace("_", "")
    if lowered.endswith(".inf"):
        return -math.inf if lowered.startswith("-") else math.inf
    if lowered.endswith(".nan"):
        return math.nan
    return float(lowered)


_timestamps = yaml.constructor.SafeConstructor()


def _timestamp(node: ScalarNode) -> datetime.date:
    value: datetime.date = _timestamps.construct_yaml_timestamp(node)
    return value


def _where(mark: Any) -> Where:
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


def _problem(error: yaml.YAMLError, data: bytes) -> YamlProblem:
    if isinstance(error, yaml.reader.ReaderError):
        return YamlProblem(_byte_position(data, error.position), _reader_message(error))
    if isinstance(error, yaml.MarkedYAMLError):
        return YamlProblem(_where(error.problem_mark or error.context_mark), _syntax_message(error))
    return YamlProblem((1, 1), f"YAML error: {_one_line(str(error))}")


def _reader_message(error: yaml.reader.ReaderError) -> str:
    character = error.character
    code = character if isinstance(character, int) else ord(character) if character else 0
    if code == 0:
        return "a NUL character (U+0000): YAML text cannot hold one"
    return f"the character U+{code:04X} is not allowed in YAML text ({error.reason})"


def _byte_position(data: bytes, offset: int) -> Where:
    offset = max(0, min(int(offset or 0), len(data)))
    line_start = data.rfind(b"\n", 0, offset) + 1
    column = len(data[line_start:offset].decode("utf-8", "replace")) + 1
    return (data.count(b"\n", 0, offset) + 1, column)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _syntax_message(error: yaml.MarkedYAMLError) -> str:
    problem = _one_line(error.problem or str(error))
    context = _one_line(error.context or "")
    if context and not context.startswith("while"):
        return f"YAML syntax error: {context}, {problem}"
    if context and error.context_mark is not None and error.problem_mark is not None:
        return f"YAML syntax error: {problem} ({context} at line {error.context_mark.line + 1})"
    if context:
        return f"YAML syntax error: {problem} ({context})"
    return f"YAML syntax error: {problem}"


def pairs(node: MappingNode) -> list[tuple[Node, Node, bool]]:
    """The (key, value, merged) pairs of a mapping, `<<` merges expanded in place (scan refused cycles)."""
    result: list[tuple[Node, Node, bool]] = []
    for key, value in node.value:
        if isinstance(key, ScalarNode) and key.tag == TAG + "merge":
            sources = value.value if isinstance(value, SequenceNode) else [value]
            for source in sources:
                if isinstance(source, MappingNode):
                    result += [(k, v, True) for k, v, _ in pairs(source)]
        else:
            result.append((key, value, False))
    return result


def bad_merges(node: MappingNode) -> list[Node]:
    """Values of `<<` that are not a mapping or a list of mappings."""
    found: list[Node] = []
    for key, value in node.value:
        if isinstance(key, ScalarNode) and key.tag == TAG + "merge":
            sources = value.value if isinstance(value, SequenceNode) else [value]
            found += [s for s in sources if not isinstance(s, MappingNode)]
    return found
