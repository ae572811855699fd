"""Kind `container`: an app container from gefyra.yaml on the project network.

Container names are fixed (`gefyra-<project>-<name>`), so a replace is delete-then-create. After every start
the post-start hooks run (StepContext.started), e.g. the cargo kind points the default route at Cargo. With
Cargo (spec `netns: infra`) the app joins the namespace of its infra container (netns.py), started and
routed before the app: the hooks run for the infra container, so the app's first packet has its route. A
replace of such an app is done by its create step: the old app goes, the new one joins the running infra
container again when its namespace settings are unchanged (no new namespace, route or port binding).
"""

from __future__ import annotations

from pathlib import Path

from gefyra.config.model import Config
from gefyra.errors import ConfigError, ProviderError
from gefyra.model import labels
from gefyra.model.dataplane_specs import INFRA_KIND, AppSpec, infra_name, infra_owner
from gefyra.model.desired import ContainerSpec, container_resource
from gefyra.model.resources import Observed, Resource
from gefyra.providers.base import Kind, Session, Snapshot, StepContext
from gefyra.providers.docker import actions, attachment, netns, ports, retire, startcheck
from gefyra.providers.docker.context_hash import context_hash
from gefyra.providers.docker.engine import ContainerCreate, ContainerRow, Engine
from gefyra.providers.docker.observe import DockerSnapshot, docker_snapshot, labels_for, resource_from_labels
from gefyra.providers.errors import EngineError
from gefyra.providers.kube.envfrom import container_env

RESTART_TIMEOUT_S = 1


def missing_mounts(spec: ContainerSpec) -> list[str]:
    return [mount.source for mount in spec.mounts if not Path(mount.source).exists()]


class ContainerKind(Kind):
    kind = "container"
    provider = "docker"

    def desired(self, config: Config, snapshot: Snapshot) -> list[Resource]:
        docker = docker_snapshot(snapshot)
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
                for src in missing_mounts(AppSpec.model_validate(resource.spec))
            ]
            resources.append(resource)
        if problems:
            raise ConfigError(
                f"{config.source}: " + "; ".join(problems), hint="create the folder or fix the path"
            )
        return resources

    def preflight(self, creating: list[Resource], snapshot: Snapshot, session: Session) -> None:
        """Host ports must be free, except those our own containers publish now (a replace frees them)."""
        docker = docker_snapshot(snapshot)
        if not docker.local:
            return  # a remote engine's ports are not this machine's
        ours = ports.published(docker.containers)
        for resource in creating:
            for port in AppSpec.model_validate(resource.spec).ports:
                number, protocol = port.host_port, port.protocol
                if (number, protocol) in ours or ports.is_free(port.host_ip, number, protocol):
                    continue
                where = f"{port.host_ip}:{number}" if port.host_ip else str(number)
                message, hint = ports.busy_message(
                    session.client_of("docker", Engine),
                    f"{resource.key}: host port {where}/{protocol}",
                    number,
                )
                raise ProviderError(message, hint=hint)

    def read(self, snapshot: Snapshot) -> list[Resource]:
        docker = docker_snapshot(snapshot)
        found = []
        for item in docker.containers_of(self.kind):
            observed = Observed(
                status=item.state,
                healthy=item.state == "running",
                detail=item.status,
                ref=item.id,
                info={"docker_name": item.name, "image_id": item.image_id},
            )
            resource = resource_from_labels(item.labels, observed)
            if item.network_mode.startswith("container:"):
                resource = _with_infra_state(resource, docker)
            found.append(_with_attachment_drift(resource, item, docker))
        return found

    def update(self, ctx: StepContext, previous: Resource, resource: Resource) -> None:
        """Repair drift in place (the process keeps running): rename back, connect the namespace (the app's
        own, or its infra container's) to the project network again, then run the post-start hooks for a
        reconnected namespace (Cargo routes it again)."""
        assert previous.observed is not None
        engine = ctx.session.client_of("docker", Engine)
        spec = AppSpec.model_validate(resource.spec)
        own = spec.netns == "own"
        fixed = attachment.repair(
            engine,
            previous.observed.ref,
            docker_name=spec.docker_name,
            network=spec.network if own else None,
            aliases=list(spec.aliases),
        )
        done, namespace = list(fixed.done), fixed.info.id if fixed.reconnected else None
        if not own:
            infra = netns.infra_of(engine, ctx.project, resource)
            if infra is None:
                raise ProviderError(f"{resource.key} lost its infra container", hint="`gefyra apply` again")
            held = attachment.repair(
                engine,
                infra.id,
                docker_name=infra_name(spec.docker_name),
                network=spec.network,
                aliases=list(spec.aliases),
            )
            done += held.done
            namespace = infra.id if held.reconnected else None
        if namespace is not None:
            ctx.started(resource, namespace)
        ctx.log("; ".join(done) if done else "nothing left to repair", str(resource.key))

    def create(self, ctx: StepContext, resource: Resource) -> None:
        try:
            self._create(ctx, resource)
        finally:  # the old container of a replace went away meanwhile (retire.py)
            error = retire.settle(ctx.project, resource.name)
            if error is not None:
                ctx.log(f"removal of the replaced container failed: {error}", str(resource.key))

    def _create(self, ctx: StepContext, resource: Resource) -> None:
        engine = ctx.session.client_of("docker", Engine)
        spec = AppSpec.model_validate(resource.spec)
        image_id = self._image(ctx, engine, resource, spec)
        if spec.image_id != image_id:  # the label must carry the hash the next plan will compute
            resource = resource.evolve(spec={**resource.spec, "image_id": image_id}, observed=None)
        missing = missing_mounts(spec)
        if missing:
            raise ProviderError(f"{resource.key}: mount source {missing[0]} does not exist")
        existing = engine.find_container(spec.docker_name)
        if existing is not None:
            actions.ensure_ours(existing.labels, ctx.project, f"container {spec.docker_name}")
            same = existing.labels.get(labels.SPEC_HASH) == resource.spec_hash
            infra = netns.infra_of(engine, ctx.project, resource) if spec.netns == "infra" else None
            whole = spec.netns == "own" or (infra is not None and infra.state == "running")
            if same and whole and existing.state.running and not ctx.options.get("rebuild"):
                return  # an earlier, interrupted apply already made it
            if spec.netns == "infra" and existing.state.running:  # its namespace may be joined again
                self._retire(ctx, engine, resource.name, existing.id, spec.docker_name)
            else:
                engine.remove_container(existing.id)
            if spec.netns == "own":  # the former app may have had an infra container (see `delete`)
                netns.remove_infra(engine, ctx.project, resource)
        if spec.netns == "infra":
            container_id = self._create_in_infra(ctx, engine, resource, spec)
        else:
            container_id = engine.create_container(self._request(ctx, resource, spec))
            self._start(engine, resource, spec, container_id)
            try:
                ctx.started(resource, container_id)
            except ProviderError as error:  # a hook fails on an exited container: say that it exited
                problem = startcheck.exited(engine, str(resource.key), container_id)
                if problem is None:
                    raise
                raise problem from error
        retire.begin(ctx.project, resource.name)  # the replaced container goes now, beside the check
        startcheck.check_started(engine, str(resource.key), container_id)
        if spec.build is not None:
            actions.prune_old_builds(engine, spec.image.rpartition(":")[0], keep=spec.image)

    def delete(self, ctx: StepContext, actual: Resource) -> None:
        assert actual.observed is not None
        engine = ctx.session.client_of("docker", Engine)
        if actual.observed.status == "exited":  # its logs say why; they go with the container
            lines = startcheck.last_lines(engine, actual.observed.ref)
            ctx.log(
                f"{actual.observed.detail}; last log lines:\n{lines}" if lines else actual.observed.detail,
                str(actual.key),
            )
        spec = AppSpec.model_validate(actual.spec) if actual.spec.get("docker_name") else None
        replacing = bool(ctx.options.get("replacing"))
        if replacing and spec is not None and spec.netns == "infra":
            if actual.observed.info.get("docker_name") == spec.docker_name:  # not renamed by hand
                return  # the create step that follows removes it and keeps or remakes its infra container
        how = retire.overlap(spec) if spec is not None and replacing else "none"

        def remove() -> None:
            assert actual.observed is not None
            engine.remove_container(actual.observed.ref)
            netns.remove_infra(engine, ctx.project, actual)

        if spec is None or how == "none":
            remove()
        else:  # its successor is created meanwhile (retire.py)
            ref = actual.observed.ref
            retire.retire(engine, ctx.project, actual.name, ref, spec.docker_name, how, remove)

    def restart(self, ctx: StepContext, actual: Resource) -> None:
        """Restart the app's process. With an infra container the namespace (and its route) stays; the
        hooks run for the infra first, which routes it again if it was restarted meanwhile."""
        assert actual.observed is not None
        engine = ctx.session.client_of("docker", Engine)
        if actual.spec.get("netns") == "infra":
            infra = netns.infra_of(engine, ctx.project, actual)
            if infra is None:
                raise ProviderError(
                    f"{actual.key} lost its infra container", hint="`gefyra apply` recreates it"
                )
            if infra.state != "running":
                engine.start(infra.id)
            ctx.started(actual, infra.id)
            engine.restart(actual.observed.ref, timeout=RESTART_TIMEOUT_S)
            return
        engine.restart(actual.observed.ref, timeout=RESTART_TIMEOUT_S)
        ctx.started(actual, actual.observed.ref)

    def _retire(self, ctx: StepContext, engine: Engine, name: str, old: str, docker_name: str) -> None:
        """Rename and kill the replaced app now (its successor may bind the same ports in the same
        namespace); remove it beside the successor's start (retire.py)."""

        def remove() -> None:
            engine.remove_container(old)

        retire.retire(engine, ctx.project, name, old, docker_name, "after_kill", remove)

    def _create_in_infra(self, ctx: StepContext, engine: Engine, resource: Resource, spec: AppSpec) -> str:
        """Start the infra container, let the hooks route it, then create and start the app inside its
        namespace: the app's first packet already goes through Cargo and resolves through Cargo's DNS. A
        running infra container made for the same namespace is joined again (netns.reusable_infra); the hooks
        find its namespace routed already."""
        infra = netns.reusable_infra(engine, ctx.project, resource, spec)
        if infra is None:
            infra = netns.start_infra(engine, ctx.project, resource, spec)
        ctx.started(resource, infra)
        request = self._request(ctx, resource, spec).model_copy(
            update={
                "network": None,
                "aliases": [],
                "ports": [],
                "dns": None,
                "dns_search": None,
                "hostname": None,
                "network_mode": f"container:{infra}",
            }
        )
        try:
            container_id = engine.create_container(request)
            self._start(engine, resource, spec, container_id)
        except Exception:
            netns.remove_infra(engine, ctx.project, resource)  # no holder is left without its app
            raise
        return container_id

    def _start(self, engine: Engine, resource: Resource, spec: ContainerSpec, container_id: str) -> None:
        """Start; on failure remove the created container (no `Created` leftovers) and say why."""
        try:
            engine.start(container_id)
        except EngineError as error:
            engine.remove_container(container_id)
            text = str(error)
            published = [str(p.host_port) for p in spec.ports]
            if published and ("already allocated" in text or "address already in use" in text):
                what = f"cannot start {resource.key}: host port {', '.join(published)}"
                message, hint = ports.busy_message(engine, what, int(published[0]))
                raise ProviderError(f"{message} ({text})", hint=hint) from error
            raise ProviderError(f"cannot start {resource.key}: {text}") from error

    def _image(self, ctx: StepContext, engine: Engine, resource: Resource, spec: ContainerSpec) -> str:
        """The image id to run: a build is made only when the engine says its tag is not there (a real 404;
        an engine that cannot be asked is an error, never "missing")."""

        def log(text: str) -> None:
            ctx.log(text, str(resource.key))

        if spec.build is not None:
            if not ctx.options.get("rebuild"):
                found = engine.find_image(spec.image)
                if found is not None:
                    return found.id
            return actions.build_image(engine, spec.build, spec.image, ctx.project, log=log)
        return actions.ensure_image(engine, spec.image, log=log)

    def _request(self, ctx: StepContext, resource: Resource, spec: AppSpec) -> ContainerCreate:
        return ContainerCreate(
            image=spec.image,
            name=spec.docker_name,
            entrypoint=spec.command,
            command=spec.args,
            env=container_env(ctx, resource.name, spec),
            labels=labels_for(ctx.project, resource),
            network=spec.network,
            aliases=list(spec.aliases),
            binds=[f"{m.source}:{m.target}:{'ro' if m.read_only else 'rw'}" for m in spec.mounts],
            ports=ports.bindings(spec.ports),
            dns=spec.dns,
            dns_search=spec.dns_search,
            cap_add=spec.cap_add,
            working_dir=spec.workdir,
            user=spec.user,
            hostname=resource.name,
        )


def _infra_row(resource: Resource, docker: DockerSnapshot) -> ContainerRow | None:
    wanted = infra_owner(resource.kind, resource.name)
    return next((c for c in docker.containers_of(INFRA_KIND) if c.resource_name == wanted), None)


def _with_attachment_drift(resource: Resource, item: ContainerRow, docker: DockerSnapshot) -> Resource:
    """Drift of the app's name and network (or of its infra container's): see attachment.py."""
    docker_name, network = resource.spec.get("docker_name"), resource.spec.get("network")
    if resource.observed is None or not isinstance(docker_name, str) or not isinstance(network, str):
        return resource  # labelled by another gefyra version: nothing to compare with
    if not item.network_mode.startswith("container:"):
        drift = attachment.drift_of(item, docker_name, network)
    else:
        infra = _infra_row(resource, docker)
        drift = attachment.drift_of(item, docker_name, None)
        if infra is not None:
            drift += attachment.drift_of(infra, infra_name(docker_name), network, "its infra container ")
    if not drift:
        return resource
    return resource.evolve(observed=resource.observed.model_copy(update={"drift": drift}))


def _with_infra_state(resource: Resource, docker: DockerSnapshot) -> Resource:
    """An app in an infra container's namespace is healthy only while that infra container runs."""
    infra = _infra_row(resource, docker)
    if resource.observed is None or (infra is not None and infra.state == "running"):
        return resource
    why = f"its infra container is {infra.state}" if infra is not None else "its infra container is gone"
    return resource.evolve(observed=resource.observed.model_copy(update={"healthy": False, "detail": why}))


KIND = ContainerKind()
