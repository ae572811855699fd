"""How much of a replaced container's removal may overlap its successor's start (docker/retire.py)."""

from __future__ import annotations

from gefyra.model.dataplane_specs import AppSpec
from gefyra.providers.docker.retire import overlap


def _spec(**fields: object) -> AppSpec:
    base = {"image": "debian:bookworm-slim", "docker_name": "gefyra-p-a", "network": "gefyra-p"}
    base["image_id"] = "sha256:0"
    return AppSpec.model_validate({**base, **fields})


def test_nothing_shared_but_the_name_overlaps_fully() -> None:
    assert overlap(_spec()) == "full"
    assert overlap(_spec(mounts=[{"source": "/tmp", "target": "/src", "read_only": True}])) == "full"


def test_a_writable_mount_is_killed_before_its_successor_starts() -> None:
    assert overlap(_spec(mounts=[{"source": "/tmp", "target": "/src", "read_only": False}])) == "after_kill"


def test_host_ports_or_an_infra_namespace_never_overlap() -> None:
    assert overlap(_spec(ports=[{"host_port": 8080, "container_port": 80}])) == "none"
    assert overlap(_spec(netns="infra")) == "none"
