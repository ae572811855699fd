"""The one boundary to the Docker engine: typed reads over HTTP (EngineReads) plus the writes, which go
through the docker SDK (imported on the first write only). Every engine error leaves this module as one of
gefyra.providers.errors' types; nothing else in gefyra touches the SDK or its errors."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from gefyra.providers.docker.engine.commands import ContainerCreate
from gefyra.providers.docker.engine.events import PROJECT_FILTERS, EventStream, ProjectEvents
from gefyra.providers.docker.engine.models import ExecResult
from gefyra.providers.docker.engine.reads import EngineReads
from gefyra.providers.docker.engine.redact import env_dict, redacted
from gefyra.providers.docker.engine.transport import (
    HINT_DOWN,
    SessionTransport,
    Transport,
    UnixTransport,
    docker_host,
    os_error,
)
from gefyra.providers.errors import EngineError, EngineFailure, EngineUnavailable, NotFound, from_status

TIMEOUT_S = 120
_SDK_IMPORT = threading.Lock()


def sdk() -> Any:  # the untyped docker SDK module; it never leaves this module
    """The docker SDK, imported whole and once. Steps run in threads: two threads importing `docker.errors`
    and `docker.types` at once can meet inside the package's circular imports and one of them gets a
    partially initialised module ("cannot import name ... most likely due to a circular import"); one lock
    around the first import rules that out."""
    with _SDK_IMPORT:
        import docker
        import docker.errors
        import docker.types
        import requests  # noqa: F401 - imported by the SDK; loaded here under the lock too

        return docker


class BuildFailed(EngineFailure):
    """An image build failed; `hint` holds the last lines of its output."""


@contextmanager
def translated(what: str, host: str) -> Iterator[None]:
    """The one place that turns the SDK's (and requests') errors into gefyra's."""
    docker = sdk()
    import requests  # already loaded by sdk()

    try:
        yield
    except docker.errors.APIError as error:
        status = error.status_code or 0
        raise from_status(
            status, f"{what}: {error.explanation or error} (HTTP {status} from {host})"
        ) from None
    except requests.exceptions.ConnectionError as error:
        cause = error.__context__ or error.__cause__
        inner = next((arg for arg in getattr(error, "args", ()) if isinstance(arg, OSError)), None)
        found = cause if isinstance(cause, OSError) else inner
        if isinstance(found, OSError):
            raise os_error(found, host) from None
        raise EngineUnavailable(f"{what}: Docker engine not reachable at {host}", hint=HINT_DOWN) from None
    except requests.exceptions.RequestException as error:
        raise EngineUnavailable(f"{what}: {error} ({host})", hint=HINT_DOWN) from None
    except docker.errors.DockerException as error:
        raise EngineFailure(f"{what}: {error}") from None
    except OSError as error:
        raise os_error(error, host) from None


def _open() -> None:
    """The gate of an engine nobody gates: every call may start."""


def _attempt(what: str, host: str, action: Callable[[], object]) -> EngineError | None:
    """Run `action`; its (translated) error, or None. Returned, not raised: the caller raises a redacted copy
    outside any handler, so the original (with env values) is not even the context of what it raises."""
    try:
        with translated(what, host):
            action()
    except EngineError as error:
        return error
    return None


def _without_values(what: str, env: Mapping[str, str], action: Callable[[], str]) -> str:
    """`action()` (which translates its own errors), its errors redacted of `env`'s values (redact.py)."""
    failure: EngineError | None = None
    try:
        return action()
    except EngineError as error:
        failure = redacted(error, env, what)
    raise failure  # outside the handler: no context holding the original


class Engine(EngineReads):
    """Reads (fast, typed) and writes (docker SDK) of one engine; `close()` when done."""

    def __init__(self, transport: Transport, api_version: str = "") -> None:
        super().__init__(transport)
        self.api_version = api_version
        self._sdk: Any = None
        self._lock = threading.Lock()
        self._before: Callable[[], None] = _open

    def gated(self, check: Callable[[], None]) -> Engine:
        """This engine (same connection and SDK client) whose every write first calls `check`, which raises
        to refuse it: the executor's gate for steps it abandoned (gefyra/apply/gate.py)."""
        clone = copy.copy(self)
        clone._before = check
        clone._api = self._api  # type: ignore[method-assign]  # one SDK client for both
        return clone

    @classmethod
    def from_env(cls) -> Engine:
        """The engine at DOCKER_HOST (the local socket when unset), pinged: EngineUnavailable /
        EnginePermission with a one-line reason when it cannot be used."""
        host = docker_host()
        engine: Engine
        if host.startswith("unix://"):
            engine = cls(UnixTransport(host.removeprefix("unix://"), TIMEOUT_S))
        else:
            holder: list[Engine] = []
            engine = cls(SessionTransport(host, lambda: holder[0]._api()))
            holder.append(engine)
        engine.api_version = engine.ping()
        return engine

    # ---- the SDK ----------------------------------------------------------------------------------------

    def _api(self) -> Any:  # the SDK is untyped; it never leaves this class
        """The SDK's low-level APIClient (created once, on first use)."""
        with self._lock:
            if self._sdk is None:
                docker = sdk()
                with translated("connecting", self.host):
                    if isinstance(self.transport, UnixTransport):
                        self._sdk = docker.APIClient(
                            base_url=self.host, version=self.api_version or "auto", timeout=TIMEOUT_S
                        )
                    else:
                        self._sdk = docker.from_env(version=self.api_version or "auto", timeout=TIMEOUT_S).api
            return self._sdk

    def close(self) -> None:
        if self._sdk is not None:
            self._sdk.close()

    def _call(self, what: str) -> AbstractContextManager[None]:
        self._before()
        return translated(what, self.host)

    # ---- containers -------------------------------------------------------------------------------------

    def create_container(self, request: ContainerCreate) -> str:
        """Create (not start) a container; returns its id. Its errors never show env values."""
        what = f"creating container {request.name or request.image}"
        return _without_values(what, request.env, lambda: self._create(request, what))

    def _create(self, request: ContainerCreate, what: str) -> str:
        api = self._api()
        bindings: dict[str, list[tuple[str, int] | int]] = {}
        for port in request.ports:
            target = (port.host_ip, port.host_port) if port.host_ip else port.host_port
            bindings.setdefault(f"{port.container_port}/{port.protocol}", []).append(target)
        with self._call(what):
            host_config = api.create_host_config(
                binds=list(request.binds) or None,
                port_bindings=bindings or None,
                dns=request.dns,
                dns_search=request.dns_search,
                dns_opt=request.dns_opt,
                cap_add=request.cap_add,
                devices=request.devices,
                sysctls=request.sysctls,
                tmpfs=request.tmpfs,
                network_mode=request.network_mode or request.network,
            )
            networking = None
            if request.network and not request.network_mode:
                endpoint = api.create_endpoint_config(
                    aliases=list(request.aliases) or None, ipv4_address=request.ip
                )
                networking = api.create_networking_config({request.network: endpoint})
            created = api.create_container(
                image=request.image,
                name=request.name,
                entrypoint=request.entrypoint,
                command=request.command,
                environment=dict(request.env),
                labels=dict(request.labels),
                host_config=host_config,
                networking_config=networking,
                working_dir=request.working_dir,
                user=request.user or None,
                hostname=request.hostname,
                ports=[tuple(key.split("/")) for key in bindings] or None,
                healthcheck={"test": ["NONE"]} if request.healthcheck_off else None,
                network_disabled=request.network_mode == "none",
                detach=True,
            )
        return str(created["Id"])

    def start(self, ref: str) -> None:
        """Start a created or stopped container; its errors name it and never show env values."""
        self._hiding_env_of(ref, "starting", lambda: self._api().start(ref))

    def restart(self, ref: str, timeout: int = 1) -> None:
        self._hiding_env_of(ref, "restarting", lambda: self._api().restart(ref, timeout=timeout))

    def _hiding_env_of(self, ref: str, verb: str, action: Callable[[], object]) -> None:
        """Run `action` on the existing container `ref`; when it fails, read the container's name and
        environment and raise the error without the values (withheld when they cannot be read)."""
        short = f"{verb} container {ref[:12]}"
        self._before()  # the gate, as in _call
        failure = _attempt(short, self.host, action)
        if failure is None:
            return
        try:
            info = self.inspect_container(ref)
        except EngineError:
            info = None
        if info is None:
            raise redacted(failure, None, short)
        named = f"{verb} container {info.name}"
        failure = type(failure)(
            failure.message.replace(short, named, 1), status=failure.status, hint=failure.hint
        )
        raise redacted(failure, env_dict(info.config.env), named)

    def stop(self, ref: str, timeout: int = 1) -> None:
        with self._call(f"stopping container {ref[:12]}"):
            self._api().stop(ref, timeout=timeout)

    def remove_container(self, ref: str) -> bool:
        """Force-remove with anonymous volumes; False when it was gone (or already being removed)."""
        try:
            with self._call(f"removing container {ref[:12]}"):
                self._api().remove_container(ref, force=True, v=True)
        except NotFound:
            return False
        except EngineError as error:
            if error.status == 409 and "already in progress" in str(error):
                return False
            raise
        return True

    def wait(self, ref: str) -> int:
        """Block until the container exits; its exit code."""
        with self._call(f"waiting for container {ref[:12]}"):
            return int(self._api().wait(ref).get("StatusCode", 1))

    def logs(self, ref: str, *, tail: int | None = None, stdout: bool = True, stderr: bool = True) -> str:
        with self._call(f"reading the logs of {ref[:12]}"):
            data = self._api().logs(
                ref, stdout=stdout, stderr=stderr, tail=tail if tail is not None else "all"
            )
        return bytes(data).decode(errors="replace")

    def stream_logs(self, ref: str, *, follow: bool, tail: int | None) -> Iterator[bytes]:
        with self._call(f"reading the logs of {ref[:12]}"):
            stream = self._api().logs(
                ref, stream=True, follow=follow, tail=tail if tail is not None else "all"
            )
            yield from stream

    def exec(self, ref: str, command: list[str]) -> ExecResult:
        """Run `command` in the running container; its exit code and combined output."""
        with self._call(f"running {command[0]} in {ref[:12]}"):
            created = self._api().exec_create(ref, command)
            output = self._api().exec_start(created["Id"])
            code = self._api().exec_inspect(created["Id"]).get("ExitCode")
        return ExecResult(
            exit_code=code if code is not None else 1, output=bytes(output).decode(errors="replace")
        )

    def events(self, filters: Mapping[str, list[str]], *, since: int | None = None) -> EventStream:
        """The engine's events matching `filters` (the Engine API's), from now (or unix time `since`) on,
        until the stream is closed."""
        with self._call("subscribing to engine events"):
            raw = self._api().events(filters=dict(filters), since=since, decode=True)
        return EventStream(raw, lambda: self._call("reading engine events"))

    def project_events(self, project: str, networks: list[str]) -> ProjectEvents:
        """Events of one project's containers and of its `networks` that may be drift, from now on."""
        return ProjectEvents(self.events(PROJECT_FILTERS), project, networks)

    def put_archive(self, ref: str, directory: str, data: bytes) -> None:
        with self._call(f"copying files into {directory} of {ref[:12]}"):
            if not self._api().put_archive(ref, directory, data):
                raise EngineFailure(f"copying files into {directory} of {ref[:12]}: refused")

    # ---- networks, volumes, images ----------------------------------------------------------------------

    def create_network(
        self, name: str, *, subnet: str, labels: dict[str, str], driver: str = "bridge"
    ) -> str:
        types = sdk().types
        with self._call(f"creating network {name} ({subnet})"):
            ipam = types.IPAMConfig(pool_configs=[types.IPAMPool(subnet=subnet)])
            created = self._api().create_network(
                name, driver=driver, ipam=ipam, labels=labels, check_duplicate=True
            )
        return str(created["Id"])

    def connect(
        self, container: str, network: str, *, aliases: list[str] | None = None, ip: str | None = None
    ) -> None:
        """Attach a container (running or not) to a network, with DNS aliases and a fixed address."""
        with self._call(f"connecting {container[:12]} to {network}"):
            self._api().connect_container_to_network(
                container, network, aliases=list(aliases or ()) or None, ipv4_address=ip
            )

    def rename(self, ref: str, name: str) -> None:
        with self._call(f"renaming container {ref[:12]} to {name}"):
            self._api().rename(ref, name)

    def disconnect(self, container: str, network: str) -> None:
        with self._call(f"disconnecting {container[:12]} from {network}"):
            self._api().disconnect_container_from_network(container, network, force=True)

    def remove_network(self, ref: str) -> bool:
        try:
            with self._call(f"removing network {ref}"):
                self._api().remove_network(ref)
        except NotFound:
            return False
        return True

    def remove_volume(self, name: str) -> bool:
        try:
            with self._call(f"removing volume {name}"):
                self._api().remove_volume(name, force=True)
        except NotFound:
            return False
        return True

    def remove_image(self, ref: str, *, force: bool = True) -> bool:
        try:
            with self._call(f"removing image {ref[:19]}"):
                self._api().remove_image(ref, force=force)
        except NotFound:
            return False
        return True

    def pull(self, ref: str) -> str:
        """Pull `ref`; its image id."""
        with self._call(f"pulling {ref}"):
            for chunk in self._api().pull(ref, stream=True, decode=True):
                if "error" in chunk:
                    raise EngineFailure(f"pulling {ref}: {str(chunk['error']).strip()}")
        return self.inspect_image(ref).id

    def tag_image(self, ref: str, repository: str, tag: str) -> None:
        """Give the image `ref` the name `repository:tag` too."""
        with self._call(f"tagging {ref} as {repository}:{tag}"):
            if not self._api().tag(ref, repository, tag=tag):
                raise EngineFailure(f"tagging {ref} as {repository}:{tag}: refused by the engine")

    def push(self, repository: str, tag: str, *, progress: Callable[[str], None]) -> None:
        """Push `repository:tag` (the engine talks to the registry); each layer's change of state is reported
        once (no byte counters). The registry's error (unreachable, denied) is an EngineFailure."""
        ref, seen = f"{repository}:{tag}", set[str]()
        with self._call(f"pushing {ref}"):
            for chunk in self._api().push(repository, tag=tag, stream=True, decode=True):
                if "error" in chunk:
                    raise EngineFailure(f"pushing {ref}: {str(chunk['error']).strip()}")
                line = " ".join(str(chunk[k]) for k in ("id", "status") if chunk.get(k))
                if line and line not in seen and not chunk.get("progressDetail"):
                    seen.add(line)
                    progress(line)

    def build(
        self,
        context: str,
        *,
        tag: str,
        dockerfile: str | None = None,
        labels: dict[str, str] | None = None,
        buildargs: dict[str, str] | None = None,
        target: str | None = None,
    ) -> str:
        """Build `tag` from the folder `context`; its image id. BuildFailed carries the output's tail."""
        tail: list[str] = []
        with self._call(f"building {tag}"):
            for chunk in self._api().build(
                path=context,
                dockerfile=dockerfile,
                tag=tag,
                labels=labels or None,
                buildargs=buildargs or None,
                target=target,
                rm=True,
                forcerm=True,
                decode=True,
            ):
                if "error" in chunk:
                    why = str(chunk["error"]).strip()
                    raise BuildFailed(
                        f"building {tag} failed: {why}", hint="\n".join(tail[-15:]).strip()[-800:] or None
                    )
                if "stream" in chunk:
                    tail.append(str(chunk["stream"]).rstrip())
        return self.inspect_image(tag).id
