"""Kind `network`: the project's Docker bridge network (`network/default`)."""

from __future__ import annotations

from typing import Any

from gefyra.model.desired import network_resource
from gefyra.model.resources import Observed, Resource
from gefyra.providers.base import Kind, Snapshot, StepContext
from gefyra.providers.docker import actions
from gefyra.providers.docker.observe import DockerSnapshot, labels_for, resource_from_labels


class NetworkKind(Kind):
    kind = "network"
    provider = "docker"

    def desired(self, config: Any, snapshot: Snapshot) -> list[Resource]:
        return [network_resource(config)]

    def read(self, snapshot: Snapshot) -> list[Resource]:
        docker: DockerSnapshot = snapshot.of("docker")
        found = []
        for network in docker.networks_of(self.kind):
            pools = (network.get("IPAM") or {}).get("Config") or [{}]
            observed = Observed(
                status="present",
                healthy=True,
                ref=network["Id"],
                info={"subnet": pools[0].get("Subnet"), "docker_name": network.get("Name")},
            )
            found.append(resource_from_labels(network.get("Labels") or {}, observed))
        return found

    def create(self, ctx: StepContext, resource: Resource) -> None:
        client = ctx.session.client("docker")
        spec = resource.spec
        actions.create_network(
            client,
            spec["docker_name"],
            spec["subnet"],
            labels_for(ctx.project, resource),
            driver=spec.get("driver", "bridge"),
            log=lambda text: ctx.log(text, str(resource)),
        )

    def delete(self, ctx: StepContext, actual: Resource) -> None:
        client = ctx.session.client("docker")
        assert actual.observed is not None
        actions.remove_network(client, actual.observed.ref)


KIND = NetworkKind()
