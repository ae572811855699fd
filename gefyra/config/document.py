"""Read YAML text into plain Python data plus the line and column of every key and value.

ruamel.yaml keeps positions on its CommentedMap/CommentedSeq (`.lc`); we copy the data into plain dicts and
lists (so pydantic sees ordinary types) and keep the positions in `Document.positions`, keyed by the path of
keys and indexes.
`${VAR}` interpolation happens during that copy, because only then do we know which line a string came from.
Duplicate keys (the first value is kept) and unresolved variables (a placeholder is used, the path is
`tainted`) do not stop the loader: the rest of the file is still checked, and every problem is reported at
once.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gefyra.config.interpolate import interpolate_all

Path_ = tuple[Any, ...]
MAX_DEPTH = 64
MAX_NODES = 100_000  # after expanding aliases: stops "billion laughs" documents before pydantic walks them


@dataclass(frozen=True)
class Position:
    """1-based line/column of a key (None for list items and the root) and of its value."""

    key: tuple[int, int] | None
    value: tuple[int, int]


@dataclass
class Document:
    data: Any = None
    positions: dict[Path_, Position] = field(default_factory=dict)
    problems: list[tuple[tuple[int, int], str]] = field(default_factory=list)
    fatal: bool = False  # the data is unusable (syntax, nesting, recursion): report `problems` and stop
    tainted: set[Path_] = field(default_factory=set)  # strings holding a placeholder for a missing variable

    def position(self, path: Path_, *, prefer_key: bool = False) -> tuple[int, int]:
        """The position of `path`, or of its nearest ancestor that has one."""
        while path not in self.positions and path:
            path = path[:-1]
        pos = self.positions.get(path, Position(None, (1, 1)))
        return pos.key if prefer_key and pos.key else pos.value


def parse(text: str, environ: Mapping[str, str]) -> Document:
    """Parse one document; YAML problems (syntax, duplicate keys, missing variables) go to `.problems`.

    Only problems that leave no usable data set `.fatal`; with duplicate keys the first value is kept.
    """
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    doc = Document()
    too_deep = _flow_too_deep(text)
    if too_deep is not None:  # ruamel's scanner is quadratic in flow nesting: refuse before it starts
        where = _offset_position(text, too_deep)
        return _fatal(doc, where, f"nested too deeply (more than {MAX_DEPTH} levels)")
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = True  # found below with both positions, all at once
    try:
        node = yaml.compose(text)
        if node is not None:
            _duplicates(node, doc, 0)
        raw = yaml.load(text)  # with allow_duplicate_keys ruamel keeps the first value (and its position)
    except MarkedYAMLError as error:
        return _fatal(doc, _mark(error.problem_mark or error.context_mark), _yaml_message(error))
    except YAMLError as error:  # ReaderError (control characters) and friends carry a character offset
        where = _offset_position(text, getattr(error, "position", 0))
        return _fatal(doc, where, f"YAML error: {getattr(error, 'reason', None) or _one_line(error)}")
    except RecursionError:
        return _fatal(doc, (1, 1), f"the document is nested too deeply (more than {MAX_DEPTH} levels)")
    if _size(raw, {}, 0) > MAX_NODES:
        return _fatal(doc, (1, 1), f"the document has more than {MAX_NODES} values after expanding aliases")
    doc.positions[()] = Position(None, (1, 1))
    doc.data = _Copier(doc, environ).copy(raw, (), 0)
    return doc


def _fatal(doc: Document, where: tuple[int, int], message: str) -> Document:
    doc.problems.append((where, message))
    doc.fatal = True
    return doc


class _Copier:
    def __init__(self, doc: Document, environ: Mapping[str, str]) -> None:
        self.doc = doc
        self.environ = environ
        self.done: dict[int, Any] = {}  # aliases: each node copied once (so shared, never expanded twice)
        self.active: set[int] = set()  # recursive aliases

    def copy(self, value: Any, path: Path_, depth: int) -> Any:
        if isinstance(value, str):
            return self._string(value, path)
        if isinstance(value, bool) or value is None:
            return value if value is None else bool(value)
        if isinstance(value, int):
            return int(value)
        if isinstance(value, float):
            return float(value)
        if isinstance(value, datetime.date):
            return value
        if not isinstance(value, dict | list):
            return str(value)
        if id(value) in self.active:
            _fatal(self.doc, self.doc.position(path), "a YAML alias refers to itself (recursive data)")
            return None
        if id(value) in self.done:
            return self.done[id(value)]
        if depth >= MAX_DEPTH:
            _fatal(self.doc, self.doc.position(path), f"nested too deeply (more than {MAX_DEPTH} levels)")
            return None
        self.active.add(id(value))
        try:
            result = (
                self._mapping(value, path, depth)
                if isinstance(value, dict)
                else self._list(value, path, depth)
            )
        finally:
            self.active.discard(id(value))
        self.done[id(value)] = result
        return result

    def _mapping(self, value: dict, path: Path_, depth: int) -> dict:
        result: dict[Any, Any] = {}
        lc = getattr(value, "lc", None)
        for key, item in value.items():
            plain_key = _plain_key(key)
            child = (*path, plain_key)
            key_pos = _lc(lc, "key", key)
            value_pos = _lc(lc, "value", key) or key_pos
            if value_pos:
                self.doc.positions.setdefault(child, Position(key_pos, value_pos))
            if isinstance(plain_key, str) and not _encodable(plain_key):
                _fatal(self.doc, self.doc.position(child, prefer_key=True), _SURROGATE)
                continue
            result[plain_key] = self.copy(item, child, depth + 1)
        return result

    def _list(self, value: list, path: Path_, depth: int) -> list:
        lc = getattr(value, "lc", None)
        result = []
        for index, item in enumerate(value):
            child = (*path, index)
            pos = _lc(lc, "item", index)
            if pos:
                self.doc.positions.setdefault(child, Position(None, pos))
            result.append(self.copy(item, child, depth + 1))
        return result

    def _string(self, value: str, path: Path_) -> str:
        if not _encodable(value):
            _fatal(self.doc, self.doc.position(path), _SURROGATE)
            return ""
        result, problems = interpolate_all(str(value), self.environ)
        if problems:
            self.doc.tainted.add(path)
            self.doc.problems.extend((self.doc.position(path), message) for message in problems)
        return result


_SURROGATE = "invalid character: a lone UTF-16 surrogate escape (like \\ud800) is not text"


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _plain_key(key: Any) -> Any:
    if isinstance(key, bool) or key is None:
        return str(key).lower() if key is not None else "null"
    if isinstance(key, int):
        return int(key)
    return str(key)


def _lc(lc: Any, what: str, key: Any) -> tuple[int, int] | None:
    """ruamel's 0-based line/column as 1-based; None when ruamel has none (merged keys)."""
    if lc is None:
        return None
    try:
        line, col = getattr(lc, what)(key)
    except (KeyError, IndexError, TypeError, AttributeError):
        return None
    return (line + 1, col + 1)


def _size(value: Any, memo: dict[int, int], depth: int) -> int:
    if not isinstance(value, dict | list) or depth > MAX_DEPTH + 1:
        return 1
    if id(value) in memo:
        return memo[id(value)]
    memo[id(value)] = 1  # a recursive alias counts once; _Copier reports it
    items = value.values() if isinstance(value, dict) else value
    memo[id(value)] = 1 + sum(_size(item, memo, depth + 1) for item in items)
    return memo[id(value)]


def _duplicates(node: Any, doc: Document, depth: int, seen_nodes: set[int] | None = None) -> None:
    """Every duplicate key of every mapping, with the line of the first one; aliased nodes once."""
    from ruamel.yaml.nodes import MappingNode, SequenceNode

    seen_nodes = set() if seen_nodes is None else seen_nodes
    if depth > MAX_DEPTH or id(node) in seen_nodes:
        return
    seen_nodes.add(id(node))
    if isinstance(node, MappingNode):
        seen: dict[Any, int] = {}
        for key, value in node.value:
            if getattr(key, "tag", None) and str(
                key.tag.value if hasattr(key.tag, "value") else key.tag
            ).endswith(":merge"):
                continue
            ident = (str(key.tag), key.value) if isinstance(key.value, str) else None
            if ident is not None and ident in seen:
                doc.problems.append(
                    (
                        _mark(key.start_mark),
                        f"duplicate key '{key.value}' (first defined at line {seen[ident]})",
                    )
                )
            elif ident is not None:
                seen[ident] = key.start_mark.line + 1
            _duplicates(value, doc, depth + 1, seen_nodes)
    elif isinstance(node, SequenceNode):
        for item in node.value:
            _duplicates(item, doc, depth + 1, seen_nodes)


def _mark(mark: Any) -> tuple[int, int]:
    if mark is None:
        return (1, 1)
    return (mark.line + 1, mark.column + 1)


def _offset_position(text: str, offset: int) -> tuple[int, int]:
    offset = max(0, min(int(offset or 0), len(text)))
    line = text.count("\n", 0, offset) + 1
    return (line, offset - (text.rfind("\n", 0, offset) + 1) + 1)


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())


def _yaml_message(error: Any) -> str:
    problem = _one_line(error.problem) if error.problem else _one_line(error)
    context = _one_line(error.context) if error.context else ""
    if context and not context.startswith("while"):
        return f"YAML syntax error: {context}, {problem}"
    if context and error.context_mark is not None and error.problem_mark is not None:
        return f"YAML syntax error: {problem} ({context} at line {error.context_mark.line + 1})"
    if context:
        return f"YAML syntax error: {problem} ({context})"
    return f"YAML syntax error: {problem}"


def _flow_too_deep(text: str) -> int | None:
    """Offset of the first `[`/`{` nested deeper than MAX_DEPTH outside quotes and comments, if any."""
    depth, quote, index, length = 0, "", 0, len(text)
    while index < length:
        char = text[index]
        if quote:
            if char == "\\" and quote == '"':
                index += 1
            elif char == quote:
                quote = ""
        elif char in "\"'" and (index == 0 or text[index - 1] in " \t\n[{,:"):
            quote = char
        elif char == "#" and (index == 0 or text[index - 1] in " \t\n"):
            end = text.find("\n", index)
            index = length if end < 0 else end
            continue
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return index
        elif char in "]}":
            depth = max(0, depth - 1)
        index += 1
    return None
