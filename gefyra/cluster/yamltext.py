"""Multi-document YAML of manifests: keys in the given order, no line wrapping."""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from typing import Any

from ruamel.yaml import YAML


def dump_all(documents: Iterable[Mapping[str, Any]]) -> str:
    yaml = YAML()
    yaml.default_flow_style = False
    yaml.width = 4096  # long descriptions stay on one line: the committed files diff cleanly
    yaml.indent(mapping=2, sequence=4, offset=2)
    out = io.StringIO()
    yaml.dump_all([_plain(d) for d in documents], out)
    return out.getvalue()


def load_all(text: str) -> list[Any]:
    return [d for d in YAML(typ="safe", pure=True).load_all(text) if d is not None]


def _plain(node: Any) -> Any:
    """Plain dicts and lists (tuples and Mappings from models would be dumped with tags)."""
    if isinstance(node, Mapping):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list | tuple):
        return [_plain(v) for v in node]
    return node
