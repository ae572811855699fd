"""Field-level difference of two JSON-able specs (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gefyra.planning.plan import FieldDiff


def diff_specs(
    before: Mapping[str, Any] | None, after: Mapping[str, Any], prefix: str = ""
) -> list[FieldDiff]:
    """Dotted paths that differ, sorted; nested mappings are walked, lists compare whole."""
    before = before or {}
    out: list[FieldDiff] = []
    for key in sorted(set(before) | set(after)):
        path = f"{prefix}{key}"
        if key not in before:
            out.append(FieldDiff(path=path, change="added", after=after[key]))
        elif key not in after:
            out.append(FieldDiff(path=path, change="removed", before=before[key]))
        elif isinstance(before[key], Mapping) and isinstance(after[key], Mapping):
            out.extend(diff_specs(before[key], after[key], prefix=f"{path}."))
        elif before[key] != after[key]:
            out.append(FieldDiff(path=path, change="changed", before=before[key], after=after[key]))
    return out
