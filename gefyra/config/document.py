"""Read YAML text into plain Python data plus the line and column of every key and value.

yamlread gives a node tree (libyaml, bounded by a first pass over its events) whose nodes know their line
and column; we copy it into plain dicts and lists (so pydantic sees ordinary types) and keep the positions in
`Document.positions`, keyed by the path of keys and indexes.
`${VAR}` interpolation happens during that copy, because only then do we know which line a string came from.
Duplicate keys (the first value is kept) and unresolved variables (a placeholder is used, the path is
`tainted`) do not stop the loader: the rest of the file is still checked, and every problem is reported at
once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from gefyra.config import yamlread
from gefyra.config.characters import bidi_in_text, hidden_character
from gefyra.config.interpolate import interpolate_all
from gefyra.config.problems import human_path
from gefyra.config.yamlread import MAX_DEPTH, MAX_NODES, MAX_WRITTEN

__all__ = ["MAX_DEPTH", "MAX_NODES", "MAX_WRITTEN", "Document", "Position", "parse"]

Path_ = tuple[Any, ...]
Located = tuple[tuple[int, int], str]


@dataclass(frozen=True)
class Position:
    """1-based line/column of a key (None for list items and the root) and of its value."""

    key: tuple[int, int] | None
    value: tuple[int, int]


@dataclass
class Document:
    data: Any = None
    positions: dict[Path_, Position] = field(default_factory=dict)
    problems: list[Located] = field(default_factory=list)
    fatal: bool = False  # the data is unusable (syntax, nesting, size, aliases): report `problems` and stop
    tainted: set[Path_] = field(default_factory=set)  # strings holding a placeholder for a missing variable
    tainted_keys: set[Path_] = field(default_factory=set)  # keys already reported (a hidden character)

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
    doc = Document()
    data = text.encode("utf-8", "surrogatepass")
    try:
        yamlread.scan(data)  # bounded: every limit is checked on the event stream before a tree is built
        node = yamlread.compose(data)
    except yamlread.YamlProblem as problem:
        return _fatal(doc, problem.where, problem.message)
    doc.problems += bidi_in_text(text)
    doc.positions[()] = Position(None, (1, 1))
    if node is not None:
        _duplicates(node, doc)
        doc.data = _Copier(doc, environ).copy(node, (), 0)
    return doc


def _fatal(doc: Document, where: tuple[int, int], message: str) -> Document:
    doc.problems.append((where, message))
    doc.fatal = True
    return doc


class _Copier:
    """Node tree -> plain dicts, lists and scalars, recording the position of every key and value."""

    def __init__(self, doc: Document, environ: Mapping[str, str]) -> None:
        self.doc = doc
        self.environ = environ
        self.done: dict[int, Any] = {}  # aliases: each node copied once (so shared, never expanded twice)
        self.active: set[int] = set()  # recursive aliases (scan refuses them; this keeps copy() total)

    def copy(self, node: Node, path: Path_, depth: int) -> Any:
        if isinstance(node, ScalarNode):
            value = yamlread.scalar_value(node)
            return self._string(value, path) if isinstance(value, str) else value
        if id(node) in self.active or depth >= MAX_DEPTH:
            _fatal(self.doc, self.doc.position(path), f"nested too deeply (more than {MAX_DEPTH} levels)")
            return None
        if id(node) in self.done:
            return self.done[id(node)]
        self.active.add(id(node))
        try:
            if isinstance(node, MappingNode):
                result: Any = self._mapping(node, path, depth)
            else:
                result = [self._item(item, (*path, i), depth) for i, item in enumerate(node.value)]
        finally:
            self.active.discard(id(node))
        self.done[id(node)] = result
        return result

    def _item(self, node: Node, path: Path_, depth: int) -> Any:
        self.doc.positions.setdefault(path, Position(None, _where(node)))
        return self.copy(node, path, depth + 1)

    def _mapping(self, node: MappingNode, path: Path_, depth: int) -> dict[Any, Any]:
        for bad in yamlread.bad_merges(node):
            self.doc.problems.append((_where(bad), "a merge key '<<' takes a mapping or a list of mappings"))
        pairs = yamlread.pairs(node)
        explicit = {id(k) for k, _, merged in pairs if not merged}
        written = {self._key(k, path) for k, _, merged in pairs if not merged}
        result: dict[Any, Any] = {}
        for key_node, value_node, merged in pairs:
            key = self._key(key_node, path)
            if key in result or (merged and key in written):  # first wins; written keys win over merged
                continue
            child = (*path, key)
            self.doc.positions.setdefault(child, Position(_where(key_node), _where(value_node)))
            if id(key_node) in explicit and isinstance(key, str):
                self._check_key(key, child)
            result[key] = self.copy(value_node, child, depth + 1)
        return result

    def _key(self, node: Node, path: Path_) -> Any:
        if isinstance(node, ScalarNode):
            return _plain_key(yamlread.scalar_value(node))
        return f"<a {'mapping' if isinstance(node, MappingNode) else 'list'} as a key>"

    def _check_key(self, key: str, path: Path_) -> None:
        problem = hidden_character(key, key, free_text=False)
        if problem is not None:
            where = self.doc.position(path, prefer_key=True)
            self.doc.tainted_keys.add(path)
            self.doc.problems.append((where, f"{human_path(path[:-1])}: a key {problem}"))

    def _string(self, value: str, path: Path_) -> str:
        result, problems = interpolate_all(value, self.environ)
        if problems:
            self.doc.tainted.add(path)
            self.doc.problems.extend((self.doc.position(path), message) for message in problems)
        hidden = hidden_character(value, result, free_text=_free_text(path))
        if hidden is not None:
            self.doc.tainted.add(path)  # one problem per value: the character, not what it breaks
            self.doc.problems.append((self.doc.position(path), f"{human_path(path)}: {hidden}"))
        return result


def _free_text(path: Path_) -> bool:
    """Values where invisible characters may be meant: env values, build args, command lines, match values."""
    if len(path) >= 3 and path[0] == "containers":
        if path[2] in ("command", "args") or (path[2] == "env" and len(path) >= 4):
            return True
        return path[2:4] == ("build", "args") and len(path) >= 5
    return len(path) == 6 and path[0] == "bridges" and path[2] == "match" and path[5] in _MATCH_VALUES


_MATCH_VALUES = ("exact", "prefix", "regex")


def _where(node: Node) -> tuple[int, int]:
    mark = node.start_mark
    return (mark.line + 1, mark.column + 1)


def _plain_key(key: Any) -> Any:
    if isinstance(key, bool) or key is None:
        return str(key).lower() if key is not None else "null"
    if isinstance(key, int):
        return int(key)
    return str(key)


def _duplicates(root: Node, doc: Document) -> None:
    """Every duplicate key of every mapping, with the line of the first one; aliased nodes once."""
    seen_nodes: set[int] = set()
    todo = [root]  # a stack, not recursion: the scan bounded the tree, this keeps the stack flat anyway
    while todo:
        node = todo.pop()
        if id(node) in seen_nodes or isinstance(node, ScalarNode):
            continue
        seen_nodes.add(id(node))
        if isinstance(node, SequenceNode):
            todo.extend(reversed(node.value))
            continue
        seen: dict[tuple[str, str], int] = {}
        for key, value in node.value:
            if isinstance(key, ScalarNode) and key.tag != yamlread.TAG + "merge":
                ident = (key.tag, key.value)
                if ident in seen:
                    message = f"duplicate key '{key.value}' (first defined at line {seen[ident]})"
                    doc.problems.append((_where(key), message))
                else:
                    seen[ident] = key.start_mark.line + 1
            todo.append(value)
