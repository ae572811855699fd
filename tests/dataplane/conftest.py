"""Fixtures of the data-plane tests: images built from images/ (cached by content hash) and one test stand
(cluster network with Stowaway, service and DNS; project network with Cargo and an app) per module."""

from __future__ import annotations

import pytest

from gefyra.providers.docker.dataplane.images import ensure_images
from gefyra.providers.docker.engine import Engine
from tests.dataplane.testbed import Testbed, host_bridge_ip, new_run_id


@pytest.fixture(scope="session")
def engine(docker_client):
    """gefyra's own boundary to the engine (what the product's helpers take)."""
    found = Engine.from_env()
    yield found
    found.close()


@pytest.fixture(scope="session")
def dataplane_images(engine, base_image) -> dict[str, str]:
    return ensure_images(engine)


@pytest.fixture(scope="module")
def bed(docker_client, dataplane_images):
    stand = Testbed(docker_client, new_run_id("dp"))
    try:
        stand.start_cluster()
        stand.start_cargo()
        stand.start_app()
        yield stand
    finally:
        stand.teardown()


@pytest.fixture(scope="module")
def cluster(docker_client, dataplane_images):
    """A cluster stand only (Stowaway, service, DNS) for projects applied through the engine, which reaches
    Stowaway's UDP port at the host bridge address like a NodePort."""
    stand = Testbed(docker_client, new_run_id("dpe"), publish_ip=host_bridge_ip(docker_client))
    try:
        stand.start_cluster()
        yield stand
    finally:
        stand.teardown()
