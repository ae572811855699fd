"""The desired bridges: each `bridges:` entry of gefyra.yaml, and each bridge `gefyra bridge` made.

A bridge made by `gefyra bridge` (origin `cli`) keeps its desired state in the cluster instead of gefyra.yaml:
its spec annotation on the GefyraBridge. While that object exists every plan takes it as desired (drift is
repaired, `status` shows it, `down` removes it), until `gefyra unbridge` deletes it. A name declared in
gefyra.yaml wins over a recorded one.
"""

from __future__ import annotations

from pydantic import ValidationError

from gefyra.config.model import Bridge, Config
from gefyra.model.cluster_specs import BRIDGE_MUTABLE, CLIENT, BridgeSpec, bridge_object_name, client_name
from gefyra.model.dataplane_specs import CARGO
from gefyra.model.desired import container_name, network_name
from gefyra.model.resources import Observed, Resource, ResourceKey
from gefyra.providers.kube import identity, sync
from gefyra.providers.kube.observe import KubeSnapshot, resource_from

KIND = "bridge"


def bridge_resource(config: Config, name: str, bridge: Bridge, *, origin: str = "config") -> Resource:
    """The resource of one bridge (sync paths Carrier cannot serve are a ConfigError naming it)."""
    project = config.project.name
    client = client_name(project, identity.client_id())
    sync.check_paths(name, bridge.sync)
    spec = BridgeSpec(
        object_name=bridge_object_name(client, name),
        target=str(bridge.target),
        namespace=bridge.namespace,
        container=bridge.container,
        ports={str(port): local for port, local in sorted(bridge.ports.items())},
        client=client,
        local=bridge.local,
        local_docker_name=container_name(project, bridge.local),
        network=network_name(project),
        sync=[path.rstrip("/") for path in bridge.sync],
        origin="cli" if origin == "cli" else "config",
    )
    return _resource(name, spec, config)


def _resource(name: str, spec: BridgeSpec, config: Config) -> Resource:
    after = (ResourceKey("container", spec.local), CARGO)
    return Resource(
        kind=KIND,
        name=name,
        spec=spec.dump(),
        depends_on=(CLIENT,),
        after=after,
        mutable=BRIDGE_MUTABLE,
        summary=describe(spec),
    )


def describe(spec: BridgeSpec) -> str:
    """`deployment/web:web 80->8080` (container and ports when given): the plan line and the wait message."""
    ports = " ".join(f"{port}->{local}" for port, local in spec.ports.items()) or "every port"
    return f"{spec.target}{':' + spec.container if spec.container else ''} {ports}"


def recorded(config: Config, kube: KubeSnapshot) -> list[Resource]:
    """The bridges `gefyra bridge` made for this client (not being deleted, not declared in gefyra.yaml)."""
    found = []
    for obj in kube.of_kind(KIND):
        resource = resource_from(obj, Observed(status="recorded", healthy=True))
        if resource.name in config.bridges or obj.metadata.deletion_timestamp is not None:
            continue
        try:
            spec = BridgeSpec.model_validate(resource.spec)
        except ValidationError:
            continue  # another gefyra's record: not ours to keep
        if spec.origin == "cli":
            found.append(_resource(resource.name, spec, config))
    return found
