"""The JSON schema of gefyra.yaml, generated from the pydantic models (schemas/gefyra.schema.json is this)."""

from __future__ import annotations

import json
from typing import Any

SCHEMA_PATH = "schemas/gefyra.schema.json"


def json_schema() -> dict[str, Any]:
    from gefyra.config.model import Config

    schema = Config.model_json_schema(mode="validation")
    _close_maps(schema)
    return schema


def schema_text() -> str:
    """The schema as committed: 2-space indented JSON and a final newline."""
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


def _close_maps(node: Any) -> None:
    """Maps keyed by names (containers, bridges) allow only valid names, so editors flag `Web_1:`."""
    if isinstance(node, dict):
        if "patternProperties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
        for value in node.values():
            _close_maps(value)
    elif isinstance(node, list):
        for value in node:
            _close_maps(value)
