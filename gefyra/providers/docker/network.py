"""Kind `network`: the project's Docker bridge network (`network/default`)."""

from __future__ import annotations

from gefyra.config.model import Config
from gefyra.model.desired import NetworkSpec, network_resource
from gefyra.model.resources import Observed, Resource
from gefyra.providers.base import Kind, Snapshot, StepContext
from gefyra.providers.docker import actions
from gefyra.providers.docker.engine import Engine
from gefyra.providers.docker.observe import docker_snapshot, labels_for, resource_from_labels


class NetworkKind(Kind):
    kind = "network"
    provider = "docker"

    def desired(self, config: Config, snapshot: Snapshot) -> list[Resource]:
        return [network_resource(config)]

    def read(self, snapshot: Snapshot) -> list[Resource]:
        found = []
        for network in docker_snapshot(snapshot).networks_of(self.kind):
            observed = Observed(
                status="present",
                healthy=True,
                ref=network.id,
                info={"subnet": network.subnet, "docker_name": network.name},
            )
            found.append(resource_from_labels(network.labels, observed))
        return found

    def create(self, ctx: StepContext, resource: Resource) -> None:
        spec = NetworkSpec.model_validate(resource.spec)
        actions.create_network(
            ctx.session.client_of("docker", Engine),
            spec.docker_name,
            spec.subnet,
            labels_for(ctx.project, resource),
            driver=spec.driver,
            log=lambda text: ctx.log(text, str(resource)),
        )

    def delete(self, ctx: StepContext, actual: Resource) -> None:
        assert actual.observed is not None
        actions.remove_network(ctx.session.client_of("docker", Engine), actual.observed.ref)


KIND = NetworkKind()
