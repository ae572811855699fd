"""The Kubernetes provider: connects lazily per project, observes once by label, sweeps by label.

Active only for a project with `cluster:` in gefyra.yaml, or one that still has objects in a cluster (it is
recorded on this machine until `down` verified they are gone): `gefyra plan` of a local-only project never
imports `kubernetes`.
"""

from __future__ import annotations

from gefyra.config.model import Config
from gefyra.errors import ProviderError
from gefyra.model.cluster_specs import client_name
from gefyra.providers.base import Provider, narrow
from gefyra.providers.kube import cleanup, identity, sync
from gefyra.providers.kube.boundary import ClusterRef, Kube
from gefyra.providers.kube.observe import KubeSnapshot, observe, project_selector
from gefyra.stowaway.peers import peer_source_from_env


class KubeConnector:
    """The provider's session client: one `Kube` per cluster, made on first use."""

    def __init__(self, config: Config | None) -> None:
        self._config = config
        self._clients: dict[ClusterRef, Kube] = {}
        self._by_project: dict[str, Kube] = {}  # kept after `down` forgot the record: leftovers still ask

    def ref(self, project: str) -> ClusterRef | None:
        """The cluster of `project`: from gefyra.yaml when it has `cluster:`, else the one recorded."""
        config = self._config
        if config is not None and config.project.name == project and config.cluster is not None:
            return ClusterRef.resolve(config.cluster.kubeconfig, config.cluster.context)
        return identity.recorded(project)

    def kube(self, project: str) -> Kube | None:
        if project in self._by_project:
            return self._by_project[project]
        ref = self.ref(project)
        if ref is None:
            return None
        if ref not in self._clients:
            self._clients[ref] = Kube.connect(ref)
        self._by_project[project] = self._clients[ref]
        return self._clients[ref]

    def require(self, project: str) -> Kube:
        found = self.kube(project)
        if found is None:
            raise ProviderError(f"project {project!r} has no cluster", hint="add `cluster:` to gefyra.yaml")
        return found

    def close(self) -> None:
        for client in self._clients.values():
            client.close()


def connector_of(client: object) -> KubeConnector:
    return narrow(client, KubeConnector, "the kube client")


class KubeProvider(Provider):
    name = "kube"

    def active(self, config: Config | None) -> bool:
        """With `cluster:` (unless the Stowaway escape hatch stands in for the cluster), or while the
        project still has objects in a cluster."""
        if config is None:
            return bool(identity.recorded_projects())
        if identity.recorded(config.project.name) is not None:
            return True
        return config.cluster is not None and peer_source_from_env() is None

    def connect(self, config: Config | None) -> KubeConnector:
        return KubeConnector(config)

    def observe(self, client: object, project: str | None, config: Config | None) -> KubeSnapshot:
        connector = connector_of(client)
        client_id = identity.client_id()
        if project is None:  # every project (listing): the snapshot of each recorded one is not merged
            return KubeSnapshot(project=None, client_id=client_id)
        kube = connector.kube(project)
        if kube is None:
            return KubeSnapshot(project=project, client_id=client_id)
        auto = config is not None and config.cluster is not None and config.cluster.install == "auto"
        return observe(kube, project, client_id, facts=auto)

    def projects(self, client: object) -> set[str]:
        return set(identity.recorded_projects())

    def sweep(self, client: object, project: str, *, images: bool = False) -> list[str]:
        kube = connector_of(client).kube(project)
        if kube is None:
            return []
        name = client_name(project, identity.client_id())
        removed: list[str] = []
        log = removed.append
        if cleanup.client_exists(kube, name):
            cleanup.remove_client(kube, name, log)
            removed.append(f"GefyraClient {name}")
        if not cleanup.client_leftovers(kube, name, project_selector(project, name)):
            identity.forget(project)  # nothing of it left there: `down`/`list` need not ask that cluster
        sync.forget(project)  # the local copies of the bridged Pods' files (tokens) leave the disk
        return removed

    def leftovers(self, client: object, project: str, *, images: bool = False) -> list[str]:
        kube = connector_of(client).kube(project)
        if kube is None:
            return []
        name = client_name(project, identity.client_id())
        return cleanup.client_leftovers(kube, name, project_selector(project, name))


PROVIDER = KubeProvider()
