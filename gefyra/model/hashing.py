"""Canonical JSON and spec hashes.

The hash covers the canonical spec minus the fields a kind declares mutable (those are updated in place, never
force a replace). Canonical = sorted keys, no whitespace, so equal specs hash equal across runs and machines.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import JsonValue


def canonical_json(value: JsonValue) -> str:
    """Deterministic JSON text of a JSON-able value."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def spec_hash(spec: Mapping[str, JsonValue], mutable: Iterable[str] = ()) -> str:
    """sha256 (hex, 'sha256:' prefixed) of the canonical spec without the mutable fields."""
    skip = set(mutable)
    hashed = {key: value for key, value in spec.items() if key not in skip}
    return "sha256:" + hashlib.sha256(canonical_json(hashed).encode()).hexdigest()
