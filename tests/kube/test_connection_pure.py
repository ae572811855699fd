"""The connection's spec (its source and the peer version) and where the install's images come from (no I/O
but a gefyra.yaml in tmp_path)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from gefyra.config import load
from gefyra.dataplane.models import PeerConfig
from gefyra.errors import ProviderError
from gefyra.model import labels
from gefyra.model.dataplane_specs import ConnectionSpec, SecretSource, StowawaySource
from gefyra.model.resources import Resource
from gefyra.providers.base import Snapshot
from gefyra.providers.docker.connection import KIND as CONNECTION
from gefyra.providers.docker.engine import ContainerRow
from gefyra.providers.docker.observe import DockerSnapshot, labels_for
from gefyra.providers.kube.images import image_refs
from gefyra.providers.kube.observe import KubeSnapshot
from gefyra.providers.kube.peer import peer_version

PEER = PeerConfig(
    name="shop-1",
    address="100.87.0.2/32",
    private_key="cHJpdmF0ZQ==",
    public_key="pub-1",
    server_public_key="server-1",
    allowed_ips=["100.87.0.0/24", "10.96.0.0/16"],
    dns=["10.96.0.10"],
)


def test_the_source_is_a_field_of_its_own():
    spec = dict(docker_name="c", peer="p", endpoint="auto", mtu="auto", network="n")
    secret = ConnectionSpec(**spec, source=SecretSource(namespace="gefyra", name="gefyra-peer-p"))
    assert secret.dump()["source"] == {"kind": "secret", "namespace": "gefyra", "name": "gefyra-peer-p"}
    assert ConnectionSpec.model_validate(secret.dump()) == secret
    hatch = ConnectionSpec(**spec, source=StowawaySource(url="http://127.0.0.1:8080"))
    assert (
        str(hatch.source) == "http://127.0.0.1:8080" and str(secret.source) == "Secret gefyra/gefyra-peer-p"
    )
    with pytest.raises(ValidationError):
        ConnectionSpec.model_validate({**secret.dump(), "source": "secret:gefyra/gefyra-peer-p"})


def test_the_peer_version_follows_keys_address_and_routes_never_the_private_key_alone():
    version = peer_version(PEER)
    assert len(version) == 16 and version == peer_version(PEER.model_copy())
    assert peer_version(PEER.model_copy(update={"public_key": "pub-2"})) != version
    assert peer_version(PEER.model_copy(update={"server_public_key": "server-2"})) != version
    assert peer_version(PEER.model_copy(update={"allowed_ips": ["100.87.0.0/24"]})) != version
    assert peer_version(PEER.model_copy(update={"private_key": "b3RoZXI="})) == version


def _config(tmp_path, extra: str = ""):
    (tmp_path / "gefyra.yaml").write_text(
        f"version: 1\nproject: {{name: shop}}\ncluster:\n  namespace: shop\n{extra}containers: {{}}\n"
    )
    return load(tmp_path / "gefyra.yaml")


def _snapshot(kube_version: str, held: str | None) -> Snapshot:
    docker = DockerSnapshot(project="shop")
    if held is not None:
        spec = {
            "docker_name": "gefyra-shop.connection",
            "peer": "shop-1",
            "source": {"kind": "secret", "namespace": "gefyra", "name": "gefyra-peer-shop-1"},
            "peer_version": held,
            "endpoint": "auto",
            "mtu": "auto",
            "network": "gefyra-shop",
        }
        held_labels = labels_for("shop", Resource(kind="connection", name="default", spec=spec))
        row = {"Id": "h1", "Names": ["/gefyra-shop.connection"], "State": "created", "Labels": held_labels}
        docker.containers.append(ContainerRow.model_validate(row))
    kube = KubeSnapshot(project="shop", client_id="1", connected=True, peer_version=kube_version)
    return Snapshot(project="shop", providers={"docker": docker, "kube": kube})


def test_desired_names_the_secrets_version_and_an_unknown_one_keeps_the_held(tmp_path, monkeypatch):
    monkeypatch.setenv("GEFYRA_CLIENT_ID", "1")
    monkeypatch.delenv("GEFYRA_STOWAWAY_URL", raising=False)
    config = _config(tmp_path)
    (now,) = CONNECTION.desired(config, _snapshot("new", held="old"))
    assert now.spec["peer_version"] == "new" and now.spec["source"]["kind"] == "secret"
    (unknown,) = CONNECTION.desired(config, _snapshot("", held="old"))
    assert unknown.spec["peer_version"] == "old"  # no Secret for a moment: the working tunnel stays
    (first,) = CONNECTION.desired(config, _snapshot("", held=None))
    assert first.spec["peer_version"] == ""
    assert labels.SPEC in labels_for("shop", first)


def test_images_from_the_environment_then_gefyra_yaml_then_built_here(tmp_path, monkeypatch):
    for variable in ("GEFYRA_OPERATOR_IMAGE", "GEFYRA_STOWAWAY_IMAGE", "GEFYRA_CARRIER_IMAGE"):
        monkeypatch.delenv(variable, raising=False)
    images = "  images: {operator: reg/op:2, stowaway: reg/st:2, carrier: reg/ca:2}\n"
    configured = _config(tmp_path, images).cluster.images
    refs = image_refs(configured)
    assert (refs.operator, refs.stowaway, refs.carrier, refs.local) == (
        "reg/op:2",
        "reg/st:2",
        "reg/ca:2",
        False,
    )
    assert image_refs(None).local and image_refs(None).carrier.startswith("gefyra/carrier:")
    monkeypatch.setenv("GEFYRA_OPERATOR_IMAGE", "env/op:3")
    monkeypatch.setenv("GEFYRA_STOWAWAY_IMAGE", "env/st:3")
    monkeypatch.setenv("GEFYRA_CARRIER_IMAGE", "env/ca:3")
    assert image_refs(configured).operator == "env/op:3"
    monkeypatch.delenv("GEFYRA_CARRIER_IMAGE")
    with pytest.raises(ProviderError, match="GEFYRA_CARRIER_IMAGE not set"):
        image_refs(configured)


def test_cluster_images_need_all_three(tmp_path):
    from gefyra.errors import ConfigError

    with pytest.raises(ConfigError) as error:
        _config(tmp_path, "  images: {operator: reg/op:2}\n")
    messages = [problem.message for problem in error.value.problems]
    assert messages == [
        "cluster.images: missing required key 'stowaway'",
        "cluster.images: missing required key 'carrier'",
    ]
