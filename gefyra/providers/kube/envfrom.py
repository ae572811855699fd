"""`containers.<name>.env_from`: a local container starts with the environment of a cluster container.

The spec of the local container carries only the references (set here by the kube provider's `amend`); the
values are read from the live Pod when the container is created (`container_env`, called by the container
kind) and go into the container's config only: never into a spec, a label, plan text or a log line. Order:
the cluster's environment first, then env_file and env from gefyra.yaml on top.
"""

from __future__ import annotations

from collections.abc import Mapping

from gefyra.config import forms
from gefyra.config.model import Config
from gefyra.errors import ConfigError, ProviderError
from gefyra.model.cluster_specs import EnvFromSpec
from gefyra.model.dataplane_specs import AppSpec
from gefyra.model.resources import Resource
from gefyra.providers.base import StepContext
from gefyra.providers.kube import podenv, workloads
from gefyra.providers.kube.boundary import Kube, KubeObject
from gefyra.providers.kube.provider import KubeConnector


def env_from_specs(config: Config, name: str) -> list[EnvFromSpec]:
    """The references of container `name` (namespace: the entry's, else cluster.namespace)."""
    container = config.containers.get(name)
    if container is None or config.cluster is None:
        return []
    default = config.cluster.namespace
    return [
        EnvFromSpec(kind=e.kind, name=e.name, container=e.container, namespace=e.namespace or default)
        for e in container.env_from
    ]


def with_env_from(desired: list[Resource], config: Config) -> list[Resource]:
    """`amend`: the env_from references into the spec of each app container that has some."""
    found = []
    for resource in desired:
        refs = env_from_specs(config, resource.name) if resource.kind == "container" else []
        if refs:
            resource = resource.evolve(spec={**resource.spec, "env_from": [r.dump() for r in refs]})
        found.append(resource)
    return found


def one_off_spec(config: Config | None, target: str, namespace: str | None) -> EnvFromSpec:
    """`gefyra run --env-from TARGET`: the reference like an env_from entry of gefyra.yaml (namespace: the
    given one, else cluster.namespace). Needs a gefyra.yaml with `cluster:` (that is the cluster asked)."""
    if config is None or config.cluster is None:
        where = (
            f" in {config.source}" if config is not None else " (run it next to a gefyra.yaml, not --project)"
        )
        raise ConfigError(f"--env-from {target}: needs a `cluster:` section{where}")
    try:
        parsed = forms.parse_workload(target, allow_container=True)
    except ValueError as error:
        raise ConfigError(f"--env-from: {error}") from None
    assert isinstance(parsed, dict)  # a str in gives a dict out
    return EnvFromSpec(
        kind=parsed["kind"],
        name=parsed["name"],
        container=parsed.get("container"),
        namespace=namespace or config.cluster.namespace,
    )


def describe(config: Config | None, name: str, index: int, ref: EnvFromSpec) -> str:
    """`containers.web.env_from[0] (deployment/web/web in namespace shop; local container of bridges.web)`,
    or `--env-from (deployment/web/web in namespace shop)` of a one-off."""
    if config is None or name not in config.containers:
        return f"--env-from ({ref})"
    bridges = sorted(b for b, bridge in (config.bridges.items() if config else ()) if bridge.local == name)
    of = f"; local container of {', '.join(f'bridges.{b}' for b in bridges)}" if bridges else ""
    return f"containers.{name}.env_from[{index}] ({ref}{of})"


def resolve(kube: Kube, ref: EnvFromSpec) -> dict[str, str]:
    """The environment of the referenced container, from one live Pod of the workload (the first by name)."""
    pods = workloads.live_pods(kube, ref.kind, ref.name, ref.namespace)
    if not pods:
        raise ProviderError(f"no running Pod of {ref.kind}/{ref.name} in namespace {ref.namespace}")
    pod = pods[0]
    container = workloads.pod_container(pod, ref.container)
    services = [_plain(s) for s in kube.list("Service", ref.namespace)]
    api = kube.find("Service", "kubernetes", "default")
    facts = podenv.PodFacts(_plain_meta(pod), pod.spec, pod.status)
    return podenv.container_env(
        container, facts, services, _lookup(kube, ref.namespace), api_service=_plain(api) if api else None
    )


def _lookup(kube: Kube, namespace: str) -> podenv.Lookup:
    """ConfigMaps and Secrets of `namespace`, each read once."""
    cache: dict[tuple[str, str], Mapping[str, str] | None] = {}

    def lookup(kind: str, name: str) -> Mapping[str, str] | None:
        if (kind, name) not in cache:
            found = kube.find(kind, name, namespace) if name else None
            data = found.data if found is not None else None
            if data is not None and kind == "Secret":
                data = podenv.decode_secret(data, f"Secret {namespace}/{name}")
            cache[(kind, name)] = data
        return cache[(kind, name)]

    return lookup


def _plain_meta(obj: KubeObject) -> dict[str, object]:
    return obj.metadata.model_dump(by_alias=True)


def _plain(obj: KubeObject) -> dict[str, object]:
    return {"metadata": _plain_meta(obj), "spec": obj.spec}


def container_env(ctx: StepContext, name: str, spec: AppSpec) -> dict[str, str]:
    """The environment to create app container `name` with: env_from's values first, then the spec's env
    (env_file and env). Without env_from only the spec's env (no cluster is asked)."""
    if not spec.env_from:
        return dict(spec.env)
    kube = ctx.session.client_of("kube", KubeConnector).require(ctx.project)
    env: dict[str, str] = {}
    for index, ref in enumerate(spec.env_from):
        try:
            env.update(resolve(kube, ref))
        except ProviderError as error:
            raise ProviderError(
                f"{describe(ctx.config, name, index, ref)}: {error.message}",
                hint=error.hint or "the container's environment is read from a running Pod of the workload",
            ) from None
    return {**env, **spec.env}
