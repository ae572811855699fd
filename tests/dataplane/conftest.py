"""Fixtures of the data-plane tests: images built from images/ (cached by content hash) and one test stand
(cluster network with Stowaway, service and DNS; project network with Cargo and an app) per module."""

from __future__ import annotations

import pytest

from gefyra.dataplane.images import ensure_images
from tests.dataplane.testbed import Testbed, new_run_id


@pytest.fixture(scope="session")
def dataplane_images(docker_client, base_image) -> dict[str, str]:
    return ensure_images(docker_client)


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
