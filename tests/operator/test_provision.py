"""Provisioning a client's peer is idempotent: an earlier try that PUT the peer at Stowaway but never wrote
its Secret (the Operator restarted, a Kubernetes write failed, a second Operator raced) is taken up again,
never refused as "other keys or another address" (a client Failed with PeerRejected 409 right after Ready).

The real Stowaway image (the data-plane test stand) and the sandbox's API for the Secrets; the Operator's
functions in-process."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from gefyra.cluster import names
from tests.dataplane.testbed import Testbed, new_run_id

pytest_plugins = ("tests.sandbox.fixtures",)
pytestmark = [pytest.mark.docker, pytest.mark.cluster, pytest.mark.slow]


@pytest.fixture
def stowaway(docker_client, base_image) -> Iterator[Testbed]:
    from gefyra.providers.docker.dataplane.images import ensure_images
    from gefyra.providers.docker.engine import Engine

    engine = Engine.from_env()
    try:
        ensure_images(engine)
    finally:
        engine.close()
    stand = Testbed(docker_client, new_run_id("prov"))
    try:
        stand.start_cluster()
        yield stand
    finally:
        stand.teardown()


@pytest.fixture
def settings(sandbox, sandbox_kube, sandbox_ns, stowaway):
    """Operator settings for `sandbox_ns` talking to the stand's Stowaway (its token in the usual Secret)."""
    from gefyra_operator import kube
    from gefyra_operator.settings import Settings

    sandbox_kube.core.create_namespaced_secret(
        sandbox_ns,
        {"metadata": {"name": names.STOWAWAY_TOKEN}, "stringData": {"token": stowaway.token}},
    )
    saved = os.environ.get("KUBECONFIG")
    os.environ["KUBECONFIG"] = str(sandbox.kubeconfig)
    kube.reset_client()
    try:
        yield Settings(namespace=sandbox_ns, carrier_image="unused", stowaway_url=stowaway.api.base_url)
    finally:
        kube.reset_client()
        if saved is None:
            os.environ.pop("KUBECONFIG", None)
        else:
            os.environ["KUBECONFIG"] = saved


def test_a_peer_put_again_without_its_secret_is_the_same_peer(settings, stowaway):
    from gefyra_operator import clients

    first = clients.provision(settings, settings.namespace, "alice", [])
    again = clients.provision(settings, settings.namespace, "alice", [])  # no Secret was written
    assert again.address == first.address
    assert again.public_key == first.public_key
    assert again.private_key.get_secret_value() == first.private_key.get_secret_value()
    assert [p.name for p in stowaway.api.peers()] == ["alice"]
    # A second client still gets an address of its own.
    other = clients.provision(settings, settings.namespace, "bob", [])
    assert other.address != first.address
