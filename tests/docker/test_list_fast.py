"""`gefyra list` on a local engine reads `GET /containers/json` with the standard library only
(gefyra/providers/docker/listing.py): the same rows as the typed path, and clear engine errors."""

from __future__ import annotations

import json

from gefyra import api
from gefyra.providers.docker.listing import local_listing
from tests.docker.engine_helpers import SLEEPER


def test_local_listing_equals_the_typed_listing(engine_project) -> None:
    engine_project.write({"a": SLEEPER, "b": SLEEPER})
    api.apply(engine_project.load()).raise_for_failures()
    fast = local_listing(engine_project.name)
    assert fast is not None and [row["name"] for row in fast] == ["a", "b"]
    assert _steady(fast) == _steady(api.list_containers(engine_project.name))
    shown = json.loads(engine_project.cli("list", "-p", engine_project.name, "-o", "json").stdout)
    assert _steady(shown["containers"]) == _steady(fast)
    assert all(row["status"].startswith("Up ") for row in [*fast, *shown["containers"]])


def _steady(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """The rows without the engine's `status` text, which ages between two reads ("Up Less than a second" ->
    "Up 1 second"); every other field must be equal."""
    return [{key: value for key, value in row.items() if key != "status"} for row in rows]


def test_list_without_an_engine_says_so(engine_project, tmp_path) -> None:
    missing = tmp_path / "no.sock"
    result = engine_project.cli("list", check=None, env={"DOCKER_HOST": f"unix://{missing}"})
    assert result.returncode != 0
    assert f"no socket at unix://{missing}" in result.stderr
    assert "Traceback" not in result.stderr
