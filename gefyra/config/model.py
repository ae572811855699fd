"""The gefyra.yaml model (pydantic v2): the single source of the JSON schema.

Validate with `Config.model_validate(data, context={"base_dir": folder})`; relative paths are resolved against
`base_dir`. The loader (loader.py) adds positions, env files and cross-reference checks: use
`gefyra.config.load`.
"""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WithJsonSchema,
    WrapValidator,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from gefyra.config import forms

Name = Annotated[
    str,
    AfterValidator(forms.check_label),
    # `|\$\{`: a value with ${VAR} is checked after interpolation (editors must not flag it)
    Field(json_schema_extra={"pattern": f"{forms.DNS_LABEL_PATTERN}|\\$\\{{", "maxLength": 63}),
]
# Keys of the containers and bridges maps: never interpolated, so no ${VAR} alternative.
MapKey = Annotated[
    str,
    AfterValidator(forms.check_label),
    Field(json_schema_extra={"pattern": forms.DNS_LABEL_PATTERN, "maxLength": 63}),
]
ObjectName = Annotated[str, AfterValidator(forms.check_subdomain)]
Port = Annotated[
    int, AfterValidator(forms.check_port), Field(json_schema_extra={"minimum": 1, "maximum": 65535})
]
Duration = Annotated[
    timedelta,
    BeforeValidator(forms.parse_duration),
    WithJsonSchema(
        {"type": "string", "pattern": forms.DURATION_PATTERN, "examples": ["30s", "10m", "1h30m"]}
    ),
]
EnvValue = Annotated[
    str, BeforeValidator(forms.scalar_to_str, json_schema_input_type=str | int | float | bool)
]
EnvKey = Annotated[str, AfterValidator(forms.check_env_key)]
CommandLine = Annotated[
    list[str], BeforeValidator(forms.split_command, json_schema_input_type=str | list[str])
]


def _short(pattern: str) -> Any:
    """Schema of a short form: a string with a pattern, or with ${VAR} (checked after interpolation)."""
    return Annotated[str, StringConstraints(pattern=f"^(?:{pattern.strip('^$')})$|\\$\\{{")]


def _base_dir(info: ValidationInfo) -> Path:
    context = info.context if isinstance(info.context, dict) else {}
    return Path(context.get("base_dir") or Path.cwd())


def _absolute(value: object, info: ValidationInfo) -> object:
    """Relative paths are relative to the folder of gefyra.yaml; `~` is the user's home.

    Before pydantic's own check, so that each path becomes a Path once (other types get its error).
    """
    if isinstance(value, str | Path):
        return forms.resolve_path(_base_dir(info), value)
    return value


RelPath = Annotated[Path, BeforeValidator(_absolute), WithJsonSchema({"type": "string"})]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Project(_Model):
    """Names everything gefyra makes (Docker labels, networks, cluster objects)."""

    name: Name = Field(
        default_factory=lambda: forms.normalise_label(Path.cwd().name),
        description="DNS-1123 label; default: the folder name of gefyra.yaml, normalised.",
    )


ImageRef = Annotated[str, AfterValidator(forms.check_image)]


class ClusterImages(_Model):
    """The images of gefyra's cluster side, from a registry the cluster can pull from (all three)."""

    operator: ImageRef = Field(description="The Operator's image.")
    stowaway: ImageRef = Field(description="Stowaway's image.")
    carrier: ImageRef = Field(description="Carrier's image (takes the place of a bridged container).")


class Cluster(_Model):
    """Where the cluster is and how to reach it. Without this section gefyra runs local containers only."""

    kubeconfig: RelPath | None = Field(
        None,
        description="kubeconfig path, relative to gefyra.yaml; default: $KUBECONFIG or ~/.kube/config.",
    )
    context: str | None = Field(None, description="Context of the kubeconfig; default: its current context.")
    namespace: Name = Field("default", description="Namespace of bridges that name none.")
    endpoint: Annotated[str, AfterValidator(forms.check_endpoint)] = Field(
        "auto",
        description="host:port of Stowaway's UDP NodePort as reachable from here, or 'auto' (a node).",
        json_schema_extra={"pattern": r"^(auto|.+:[0-9]{1,5})$|\$\{"},
    )
    mtu: Annotated[Literal["auto"] | int, BeforeValidator(forms.parse_mtu)] = Field(
        "auto", description="MTU of the WireGuard tunnel: 'auto' or a number (1280-9000)."
    )
    install: Literal["auto", "never"] = Field(
        "auto",
        description="'auto': install or upgrade gefyra in the cluster when needed; 'never': only use it.",
    )
    client_timeout: Duration = Field(
        "10m",  # validated into a timedelta; the schema shows the string
        validate_default=True,
        description="Grace period after which the cluster cleans up after a client that vanished.",
    )
    images: ClusterImages | None = Field(
        None,
        description="Images of the Operator, Stowaway and Carrier (install: auto); default: built here from "
        "images/ (GEFYRA_OPERATOR_IMAGE, GEFYRA_STOWAWAY_IMAGE, GEFYRA_CARRIER_IMAGE override both).",
    )


class Network(_Model):
    """The Docker network of the project's containers and Cargo."""

    subnet: Annotated[Literal["auto"] | ipaddress.IPv4Network, BeforeValidator(forms.parse_subnet)] = Field(
        "auto",
        description="'auto' (a free private /24) or a private IPv4 CIDR (inside 10/8, 172.16/12, 192.168/16 "
        "or 100.64/10) from /16 to /28, like '172.30.0.0/24'.",
    )


class Build(_Model):
    """Build the image from a Dockerfile instead of using a ready one."""

    context: RelPath = Field(description="Build context folder, relative to gefyra.yaml.")
    dockerfile: str = Field("Dockerfile", description="Path of the Dockerfile inside the context.")
    args: dict[EnvKey, EnvValue] = Field(default_factory=dict, description="Build arguments (ARG).")
    target: str | None = Field(None, description="Stage to build in a multi-stage Dockerfile.")


class EnvFrom(_Model):
    """Copy the environment of a container running in the cluster."""

    kind: Literal["deployment", "statefulset", "pod"] = Field(description="Kind of the workload.")
    name: ObjectName = Field(description="Name of the workload.")
    container: Name | None = Field(None, description="Container in its Pod; default: the first one.")
    namespace: Name | None = Field(None, description="Namespace of the workload; default: cluster.namespace.")


class Mount(_Model):
    """A bind mount of a local folder or file into the container."""

    source: RelPath = Field(description="Local path, relative to gefyra.yaml.")
    target: str = Field(description="Absolute path in the container.")
    read_only: bool = Field(False, description="Mount read-only.")

    @field_validator("target")
    @classmethod
    def _absolute_target(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError(f"mount target '{value}' must be an absolute path in the container")
        return value


class PortMapping(_Model):
    """Publish a container port on this machine."""

    host_ip: str | None = Field(None, description="Address to bind on this machine; default: all addresses.")
    host_port: Port = Field(description="Port on this machine.")
    container_port: Port = Field(description="Port in the container.")
    protocol: Literal["tcp", "udp"] = Field("tcp", description="'tcp' or 'udp'.")

    @field_validator("host_ip")
    @classmethod
    def _ip(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ipaddress.ip_address(value)
            except ValueError:
                raise ValueError(f"host address '{value}' is not an IP address") from None
        return value


class WatchRule(_Model):
    """What `gefyra watch` does when files below `path` change."""

    path: RelPath = Field(description="File or folder to watch, relative to gefyra.yaml.")
    action: Literal["restart", "rebuild"] = Field(
        "restart", description="'restart' the container or 'rebuild' its image and replace it."
    )
    ignore: list[str] = Field(default_factory=list, description="Glob patterns of changes to ignore.")


def _env_from(value: object) -> object:
    return forms.parse_workload(value, allow_container=True)


class _WithoutCluster(NamedTuple):
    """An `env_from` value in a file without `cluster:` (marked by Config._defaults): nothing can read it."""

    value: object


NEEDS_CLUSTER = "needs_cluster"  # the error type; validation points at the key


def _cluster_given(value: object, handler: ValidatorFunctionWrapHandler) -> object:
    """A marked env_from is first validated as usual (its own problems come first), then refused."""
    if not isinstance(value, _WithoutCluster):
        return handler(value)
    handler(value.value)
    raise PydanticCustomError(
        NEEDS_CLUSTER,
        "env_from reads the environment of a workload in the cluster, so it needs a 'cluster' section "
        "(add one, or use env / env_file instead)",
    )


def _target(value: object) -> object:
    return forms.parse_workload(value, allow_container=False)


class Container(_Model):
    """A local container of the project."""

    image: Annotated[str, AfterValidator(forms.check_image)] | None = Field(
        None, description="Image to run; set exactly one of image and build."
    )
    build: Annotated[
        Build | None, BeforeValidator(forms.build_short, json_schema_input_type=str | Build | None)
    ] = Field(None, description="Build the image: a context folder, or {context, dockerfile, args, target}.")
    command: CommandLine | None = Field(None, description="Replaces the image's ENTRYPOINT (list or string).")
    args: CommandLine | None = Field(None, description="Replaces the image's CMD (list or string).")
    workdir: Annotated[str, AfterValidator(forms.check_workdir)] | None = Field(
        None, description="Absolute working directory in the container."
    )
    user: Annotated[
        str | None, BeforeValidator(forms.scalar_to_str, json_schema_input_type=str | int | None)
    ] = Field(None, description="User (name or uid[:gid]) the container runs as.")
    env: dict[EnvKey, EnvValue] = Field(
        default_factory=dict, description="Environment variables; win over env_file."
    )
    env_file: Annotated[
        list[RelPath], BeforeValidator(forms.one_or_many, json_schema_input_type=str | list[str])
    ] = Field(default_factory=list, description="KEY=VALUE files, relative to gefyra.yaml; read before env.")
    env_from: Annotated[
        list[
            Annotated[
                EnvFrom,
                BeforeValidator(_env_from, json_schema_input_type=_short(forms.ENV_FROM_PATTERN) | EnvFrom),
            ]
        ],
        BeforeValidator(
            forms.one_or_many,
            json_schema_input_type=_short(forms.ENV_FROM_PATTERN)
            | list[_short(forms.ENV_FROM_PATTERN) | EnvFrom],
        ),
        WrapValidator(_cluster_given),
    ] = Field(
        default_factory=list,
        description="Copy the environment of 'deployment/name[/container]', 'statefulset/...' or 'pod/...'.",
    )
    mounts: list[
        Annotated[
            Mount,
            BeforeValidator(forms.parse_mount, json_schema_input_type=_short(forms.MOUNT_PATTERN) | Mount),
        ]
    ] = Field(
        default_factory=list, description="Bind mounts: 'source:target[:ro]' or {source, target, read_only}."
    )
    ports: list[
        Annotated[
            PortMapping,
            BeforeValidator(
                forms.parse_port_mapping,
                json_schema_input_type=_short(forms.PORT_MAPPING_PATTERN) | Port | PortMapping,
            ),
        ]
    ] = Field(
        default_factory=list, description="Published ports: '[ip:]host:container[/tcp|udp]' or the long form."
    )
    watch: list[
        Annotated[WatchRule, BeforeValidator(forms.watch_short, json_schema_input_type=str | WatchRule)]
    ] = Field(default_factory=list, description="Paths `gefyra watch` follows, and what it does on a change.")
    _env_file_values: dict[str, str] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _image_or_build(self) -> Container:
        if (self.image is None) == (self.build is None):
            raise ValueError("set exactly one of 'image' and 'build'")
        return self

    def resolved_env(self) -> dict[str, str]:
        """The environment: values of env_file (in order), then env on top."""
        return {**self._env_file_values, **self.env}


class Target(_Model):
    """The workload whose container a bridge replaces."""

    kind: Literal["deployment", "statefulset", "pod"] = Field(description="Kind of the workload.")
    name: ObjectName = Field(description="Name of the workload.")

    def __str__(self) -> str:
        return f"{self.kind}/{self.name}"


class MatchRule(_Model):
    """A header rule of a personal bridge: only matching requests come here (validated, not applied yet)."""

    header: Annotated[str, AfterValidator(forms.check_header)] = Field(
        description="HTTP header name, like x-user."
    )
    exact: str | None = Field(None, description="The header's value equals this.")
    prefix: str | None = Field(None, description="The header's value starts with this.")
    regex: str | None = Field(None, description="The header's value matches this regular expression.")

    @model_validator(mode="after")
    def _one_matcher(self) -> MatchRule:
        given = [k for k in ("exact", "prefix", "regex") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("set exactly one of 'exact', 'prefix' and 'regex'")
        if self.regex is not None:
            import re

            try:
                re.compile(self.regex)
            except re.error as error:
                raise ValueError(f"regex '{self.regex}' is invalid: {error}") from None
        return self


def _local_not_required(schema: dict[str, Any]) -> None:
    """`local` defaults to the bridge's own name (filled in by Config), so the schema must not require it."""
    schema["required"] = [name for name in schema.get("required", []) if name != "local"]


class Bridge(_Model):
    """Send the traffic of a container in the cluster to a local container."""

    model_config = ConfigDict(json_schema_extra=_local_not_required)

    target: Annotated[
        Target, BeforeValidator(_target, json_schema_input_type=_short(forms.TARGET_PATTERN) | Target)
    ] = Field(description="'deployment/name', 'statefulset/name' or 'pod/name' (or {kind, name}).")
    namespace: Name = Field("default", description="Namespace of the target; default: cluster.namespace.")
    container: Name | None = Field(
        None, description="Container of the Pod to replace; default: the only one."
    )
    local: Name = Field(description="The local container that gets the traffic; default: the bridge's name.")
    ports: Annotated[
        dict[Port, Port],
        BeforeValidator(forms.parse_bridge_ports, json_schema_input_type=dict[int, int] | list[int | str]),
    ] = Field(
        default_factory=dict,
        description="cluster port -> local port, or a list of ports (same number); default: every port.",
    )
    sync: list[str] = Field(
        default_factory=lambda: [forms.DEFAULT_SYNC],
        description="Paths copied from the Pod before the local container starts.",
    )
    match: list[MatchRule] = Field(default_factory=list, description="Header rules of a personal bridge.")


class Config(_Model):
    """gefyra.yaml: what gefyra makes for this project."""

    model_config = ConfigDict(
        title="gefyra.yaml", json_schema_extra={"$schema": "https://json-schema.org/draft/2020-12/schema"}
    )

    version: Literal[1] = Field(description="Format version of this file; always 1.")
    project: Project = Field(default_factory=Project, description="The project.")
    cluster: Cluster | None = Field(
        None, description="The cluster; without it gefyra runs local containers only."
    )
    network: Network = Field(default_factory=Network, description="The project's Docker network.")
    containers: dict[MapKey, Container] = Field(default_factory=dict, description="Local containers by name.")
    bridges: dict[MapKey, Bridge] = Field(
        default_factory=dict, description="Bridges by name; need a cluster."
    )
    _source: Path | None = PrivateAttr(None)
    _display: str | None = PrivateAttr(None)  # the file's name as messages show it
    _mount_positions: dict[tuple[str, int], tuple[int, int]] = PrivateAttr(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data: Any, info: ValidationInfo) -> Any:
        """Defaults that depend on other parts: the project name, each bridge's namespace and local."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for section in ("network", "containers", "bridges"):  # every entry commented out: an empty section
            if section in data and data[section] is None:
                data[section] = {}
        project = data.get("project")
        if project is None or (isinstance(project, dict) and "name" not in project):
            data["project"] = {**(project or {}), "name": forms.normalise_label(_base_dir(info).name)}
        cluster = data.get("cluster")
        if cluster is None and "containers" in data:
            data["containers"] = _mark_env_from(data.get("containers"))
        namespace = cluster.get("namespace") if isinstance(cluster, dict) else None
        bridges = data.get("bridges")
        if isinstance(bridges, dict):
            data["bridges"] = {name: _bridge_defaults(name, b, namespace) for name, b in bridges.items()}
        return data

    @property
    def source(self) -> Path:
        """Absolute path of the loaded file."""
        if self._source is None:
            raise AttributeError("this Config was not loaded from a file (use gefyra.config.load)")
        return self._source

    @property
    def base_dir(self) -> Path:
        """Folder of the loaded file: relative paths in it are relative to this."""
        return self.source.parent


def _mark_env_from(containers: object) -> object:
    """Without a cluster, each container's non-empty env_from becomes an error at its key."""
    if not isinstance(containers, dict):
        return containers
    return {
        name: {**c, "env_from": _WithoutCluster(c["env_from"])}
        if isinstance(c, dict) and c.get("env_from")
        else c
        for name, c in containers.items()
    }


def _bridge_defaults(name: object, bridge: object, namespace: object) -> object:
    if not isinstance(bridge, dict):
        return bridge
    bridge = dict(bridge)
    if "namespace" not in bridge and isinstance(namespace, str) and forms.is_label(namespace):
        bridge["namespace"] = namespace
    bridge.setdefault("local", name)
    return bridge
