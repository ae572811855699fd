"""Field-level difference of two JSON-able specs (pure)."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import JsonValue

from gefyra.planning.plan import FieldDiff


def diff_specs(
    before: Mapping[str, JsonValue] | None, after: Mapping[str, JsonValue], prefix: str = ""
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
        else:
            old, new = before[key], after[key]
            if isinstance(old, Mapping) and isinstance(new, Mapping):
                out.extend(diff_specs(old, new, prefix=f"{path}."))
            elif old != new:
                out.append(FieldDiff(path=path, change="changed", before=old, after=new))
    return out
