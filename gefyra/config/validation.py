"""Turn pydantic's validation errors into problems at the line and column they are about."""

from __future__ import annotations

import datetime
import re
import types
import typing
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ValidationError

from gefyra.config.document import Document
from gefyra.config.model import NEEDS_CLUSTER
from gefyra.config.problems import MAX_PROBLEMS, did_you_mean, human_path

Located = tuple[tuple[int, int], str]


def problems_from(
    error: ValidationError, doc: Document, root: type[BaseModel], limit: int = MAX_PROBLEMS
) -> list[Located]:
    """One problem per place (pydantic reports a union's failure once per branch; we keep the first).

    Only the first `limit` by position are put into words (a "did you mean" compares a key with every
    allowed one): the others keep an empty message, as they are only counted (see loader._capped).
    """
    seen: set[tuple[Any, ...]] = set()
    places: list[tuple[tuple[int, int], Callable[[], str]]] = []
    for item in error.errors(include_url=False):
        path, is_key = _data_path(item["loc"], doc, keyed=item["type"] not in ("extra_forbidden", "missing"))
        if (path, is_key) in seen:
            continue
        seen.add((path, is_key))
        places.append(_locate(dict(item), path, is_key, doc, root))
    places.sort(key=lambda place: place[0])  # stable: problems at one place keep pydantic's order
    result: list[Located] = []
    shown: set[Located] = set()
    for where, render in places[:limit]:
        located = (where, render())
        if located not in shown:
            shown.add(located)
            result.append(located)
    return result + [(where, "") for where, _ in places[limit:]]


def _data_path(loc: tuple[Any, ...], doc: Document, *, keyed: bool) -> tuple[tuple[Any, ...], bool]:
    """Follow `loc` through the data, skipping pydantic's union-branch and validator names."""
    path: tuple[Any, ...] = ()
    node = doc.data
    is_key = False
    for index, part in enumerate(loc):
        if keyed and part == "[key]" and index == len(loc) - 1:  # pydantic's marker: the key itself is wrong
            is_key = True
            continue
        if isinstance(node, dict) and part in node:
            node, path = node[part], (*path, part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node, path = node[part], (*path, part)
        elif isinstance(node, dict | str) and not _looks_like_branch(part):
            # a missing or injected key (reported at its parent), or a field of a short form like
            # 'deployment/api/Main' (reported at the string)
            path = (*path, part)
            node = None
    return path, is_key


def _looks_like_branch(part: Any) -> bool:
    return isinstance(part, str) and ("[" in part or part in {"str", "int", "float", "bool", "list", "dict"})


def _locate(
    item: dict[str, Any], path: tuple[Any, ...], is_key: bool, doc: Document, root: type
) -> tuple[tuple[int, int], Callable[[], str]]:
    """Where the problem is, and how to say it (called only for the problems shown)."""
    kind = item["type"]
    where = human_path(path)
    if kind == "extra_forbidden" and path:
        parent, key = path[:-1], path[-1]
        inside = f" in {human_path(parent)}" if parent else ""
        return doc.position(
            path, prefer_key=True
        ), lambda: f"unknown key '{key}'{inside}{did_you_mean(key, _fields_at(root, parent))}"
    if kind == "missing" and path:
        parent, key = path[:-1], path[-1]
        prefix = f"{human_path(parent)}: " if parent else ""
        return doc.position(parent, prefer_key=True), lambda: f"{prefix}missing required key '{key}'"

    def message() -> str:
        return f"{where}: {_message(item, secret=_secret(path))}"

    if is_key or kind == NEEDS_CLUSTER:  # a key that is wrong here as a whole: point at it
        return doc.position(path, prefer_key=True), message
    if isinstance(_value_at(doc.data, path[:-1]), str):  # a field of a short form: point at the string
        return doc.position(path), message
    value = _value_at(doc.data, path)
    # A mapping or list that is wrong as a whole (not its type) is best pointed at by its key.
    prefer_key = (
        (isinstance(value, dict) and not kind.endswith("_type"))  # e.g. a container as a whole
        or value is None  # an empty value is placed at the start of the next token
        or path not in doc.positions
    )
    return doc.position(path, prefer_key=prefer_key), message


def _secret(path: tuple[Any, ...]) -> bool:
    """Values that may be secrets (env, build args): a message names their key, never shows them."""
    return len(path) >= 3 and path[0] == "containers" and (path[2] == "env" or path[2:4] == ("build", "args"))


_EXPECTED = {
    "model_type": "a mapping of keys",
    "model_attributes_type": "a mapping of keys",
    "dict_type": "a mapping",
    "list_type": "a list",
    "string_type": "text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "path_type": "a path",
    "ip_v4_network": "an IPv4 CIDR",
}


def _message(item: dict[str, Any], *, secret: bool = False) -> str:
    kind, ctx, value = item["type"], item.get("ctx") or {}, item.get("input")
    show = _kind_of if secret else _show
    if kind == "value_error":
        return str(ctx.get("error", item["msg"]))
    if kind in ("literal_error", "enum"):
        expected = re.findall(r"'([^']*)'|(\d+)", str(ctx.get("expected", "")))
        options = [a or b for a, b in expected]
        if isinstance(value, str) and value in options and not secret:  # `version: "1"`: text, not 1
            return f"{item['msg']}, got the text {value!r} (write it without quotes)"
        return f"{item['msg']}, got {show(value)}{'' if secret else did_you_mean(value, options)}"
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}, got {show(value)}"
    if kind.endswith("_type") or kind.endswith("_parsing"):
        return f"{item['msg']}, got {show(value)}"
    return str(item["msg"])


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, datetime.date):
        return f"the date {value.isoformat()} (quote it to make it text)"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _kind_of(value: Any) -> str:
    """What `value` is, never what it says: for values that may be secrets."""
    if isinstance(value, dict | list) or value is None or isinstance(value, bool):
        return _show(value)
    return {str: "text", int: "a number", float: "a number"}.get(type(value), "a date")


def _value_at(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _fields_at(root: type, path: tuple[Any, ...]) -> list[str]:
    """The keys allowed at `path`, found by walking the model's type annotations."""
    current: Any = root
    for part in path:
        current = _child_type(current, part)
        if current is None:
            return []
    models = [t for t in _flatten(current) if isinstance(t, type) and issubclass(t, BaseModel)]
    return [name for model in models for name in model.model_fields]


def _child_type(annotation: Any, part: Any) -> Any:
    for option in _flatten(annotation):
        if isinstance(option, type) and issubclass(option, BaseModel):
            if isinstance(part, str) and part in option.model_fields:
                return option.model_fields[part].annotation
            continue
        origin = typing.get_origin(option)
        args = typing.get_args(option)
        if origin is dict and len(args) == 2:
            return args[1]
        if origin is list and args and isinstance(part, int):
            return args[0]
    return None


def _flatten(annotation: Any) -> list[Any]:
    """Unwrap Annotated, Optional and unions into the plain types they allow."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _flatten(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [t for arg in typing.get_args(annotation) for t in _flatten(arg)]
    return [annotation]
