"""Kind `container`: an app container from gefyra.yaml on the project network.

Container names are fixed (`gefyra-<project>-<name>`), so a replace is delete-then-create. After every start
the post-start hooks run (StepContext.started), e.g. the connection kind re-points the default route at Cargo.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gefyra.errors import ConfigError, ProviderError
from gefyra.model import labels
from gefyra.model.desired import container_resource
from gefyra.model.resources import Observed, Resource
from gefyra.providers.base import Kind, Session, Snapshot, StepContext
from gefyra.providers.docker import actions, ports, startcheck
from gefyra.providers.docker.context_hash import context_hash
from gefyra.providers.docker.observe import DockerSnapshot, labels_for, resource_from_labels

RESTART_TIMEOUT_S = 1


def missing_mounts(spec: dict[str, Any]) -> list[str]:
    return [mount["source"] for mount in spec.get("mounts") or () if not Path(mount["source"]).exists()]


class ContainerKind(Kind):
    kind = "container"
    provider = "docker"

    def desired(self, config: Any, snapshot: Snapshot) -> list[Resource]:
        docker: DockerSnapshot = snapshot.of("docker")
        resources, problems = [], []
        for name, container in config.containers.items():
            build_hash = None
            if container.build is not None:
                ignores = [(Path(r.path), list(r.ignore)) for r in container.watch if r.action == "rebuild"]
                build_hash = context_hash(Path(container.build.context), ignores)
            resource = container_resource(
                config, name, container, image_ids=docker.images, context_hash=build_hash
            )
            problems += [
                f"containers.{name}: mount source {src} does not exist"
                for src in missing_mounts(resource.spec)
            ]
            resources.append(resource)
        if problems:
            raise ConfigError(
                f"{config.source}: " + "; ".join(problems), hint="create the folder or fix the path"
            )
        return resources

    def preflight(self, creating: list[Resource], snapshot: Snapshot, session: Session) -> None:
        """Host ports must be free, except those our own containers publish now (a replace frees them)."""
        docker: DockerSnapshot = snapshot.of("docker")
        if not docker.local:
            return  # a remote engine's ports are not this machine's
        ours = ports.published(docker.containers)
        for resource in creating:
            for port in resource.spec.get("ports") or ():
                number, protocol = port["host_port"], port["protocol"]
                if (number, protocol) in ours or ports.is_free(port.get("host_ip"), number, protocol):
                    continue
                where = f"{port['host_ip']}:{number}" if port.get("host_ip") else str(number)
                message, hint = ports.busy_message(
                    session.client("docker"), f"{resource.key}: host port {where}/{protocol}", number
                )
                raise ProviderError(message, hint=hint)

    def read(self, snapshot: Snapshot) -> list[Resource]:
        docker: DockerSnapshot = snapshot.of("docker")
        found = []
        for item in docker.containers_of(self.kind):
            state = item.get("State", "unknown")
            observed = Observed(
                status=state,
                healthy=state == "running",
                detail=item.get("Status", ""),
                ref=item["Id"],
                info={
                    "docker_name": (item.get("Names") or ["?"])[0].lstrip("/"),
                    "image_id": item.get("ImageID"),
                },
            )
            found.append(resource_from_labels(item.get("Labels") or {}, observed))
        return found

    def create(self, ctx: StepContext, resource: Resource) -> None:
        client = ctx.session.client("docker")
        spec = resource.spec
        image_id = self._image(ctx, client, resource)
        if spec.get("image_id") != image_id:  # the label must carry the hash the next plan will compute
            resource = resource.evolve(spec={**spec, "image_id": image_id}, observed=None)
        missing = missing_mounts(spec)
        if missing:
            raise ProviderError(f"{resource.key}: mount source {missing[0]} does not exist")
        existing = actions.find_container(client, spec["docker_name"])
        if existing is not None:
            actions.ensure_ours(existing, ctx.project, f"container {spec['docker_name']}")
            same = (existing["Config"]["Labels"] or {}).get(labels.SPEC_HASH) == resource.spec_hash
            if same and existing["State"]["Running"] and not ctx.options.get("rebuild"):
                return  # an earlier, interrupted apply already made it
            actions.remove_container(client, existing["Id"])
        container_id = self._create(ctx, client, resource)
        self._start(client, resource, container_id)
        try:
            ctx.started(resource, container_id)
        except ProviderError as error:  # a hook fails on an exited container: say that it exited
            problem = startcheck.exited(client, str(resource.key), container_id)
            if problem is None:
                raise
            raise problem from error
        startcheck.check_started(client, str(resource.key), container_id)
        if spec.get("build"):
            actions.prune_old_builds(client, spec["image"].rpartition(":")[0], keep=spec["image"])

    def delete(self, ctx: StepContext, actual: Resource) -> None:
        assert actual.observed is not None
        client = ctx.session.client("docker")
        if actual.observed.status == "exited":  # its logs say why; they go with the container
            lines = startcheck.last_lines(client, actual.observed.ref)
            ctx.log(
                f"{actual.observed.detail}; last log lines:\n{lines}" if lines else actual.observed.detail,
                str(actual.key),
            )
        actions.remove_container(client, actual.observed.ref)

    def restart(self, ctx: StepContext, actual: Resource) -> None:
        assert actual.observed is not None
        client = ctx.session.client("docker")
        client.api.restart(actual.observed.ref, timeout=RESTART_TIMEOUT_S)
        ctx.started(actual, actual.observed.ref)

    def _start(self, client: Any, resource: Resource, container_id: str) -> None:
        """Start; on failure remove the created container (no `Created` leftovers) and say why."""
        try:
            client.api.start(container_id)
        except Exception as error:  # noqa: BLE001 - docker.errors.APIError, imported lazily
            actions.remove_container(client, container_id)
            text = str(getattr(error, "explanation", None) or error)
            published = [str(p["host_port"]) for p in resource.spec.get("ports") or ()]
            if published and ("already allocated" in text or "address already in use" in text):
                what = f"cannot start {resource.key}: host port {', '.join(published)}"
                message, hint = ports.busy_message(client, what, int(published[0]))
                raise ProviderError(f"{message} ({text})", hint=hint) from error
            raise ProviderError(f"cannot start {resource.key}: {text}") from error

    def _image(self, ctx: StepContext, client: Any, resource: Resource) -> str:
        spec = resource.spec
        log = lambda text: ctx.log(text, str(resource.key))  # noqa: E731
        if spec.get("build"):
            if not ctx.options.get("rebuild"):
                try:
                    return client.api.inspect_image(spec["image"])["Id"]
                except Exception:  # noqa: BLE001 - docker.errors.ImageNotFound: build below
                    pass
            return actions.build_image(client, spec["build"], spec["image"], ctx.project, log=log)
        return actions.ensure_image(client, spec["image"], log=log)

    def _create(self, ctx: StepContext, client: Any, resource: Resource) -> str:
        spec = resource.spec
        bindings: dict[str, list[tuple[str, int] | int]] = {}
        for port in spec.get("ports") or ():
            target = (port["host_ip"], port["host_port"]) if port.get("host_ip") else port["host_port"]
            bindings.setdefault(f"{port['container_port']}/{port['protocol']}", []).append(target)
        host_config = client.api.create_host_config(
            binds=[
                f"{m['source']}:{m['target']}:{'ro' if m['read_only'] else 'rw'}"
                for m in spec.get("mounts") or ()
            ],
            port_bindings=bindings or None,
            dns=spec.get("dns"),
            dns_search=spec.get("dns_search"),
            cap_add=spec.get("cap_add"),
        )
        networking = client.api.create_networking_config(
            {spec["network"]: client.api.create_endpoint_config(aliases=list(spec.get("aliases") or ()))}
        )
        try:
            created = client.api.create_container(
                image=spec["image"],
                name=spec["docker_name"],
                entrypoint=spec.get("command"),
                command=spec.get("args"),
                environment=dict(spec.get("env") or {}),
                labels=labels_for(ctx.project, resource),
                host_config=host_config,
                networking_config=networking,
                working_dir=spec.get("workdir"),
                user=spec.get("user") or None,
                hostname=resource.name,
                ports=[tuple(key.split("/")) for key in bindings] or None,
                detach=True,
            )
        except Exception as error:  # noqa: BLE001 - docker.errors.APIError, imported lazily
            raise ProviderError(
                f"cannot create {resource.key}: {getattr(error, 'explanation', None) or error}"
            ) from error
        return created["Id"]


KIND = ContainerKind()
