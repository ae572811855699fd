"""The contracts every provider and kind handler implements, and the context a step runs in."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, TypeVar

from gefyra.config.model import Config
from gefyra.errors import ProviderError
from gefyra.model.resources import Resource

T = TypeVar("T")


def narrow(value: object, expected: type[T], what: str) -> T:
    """`value` as `expected`, or a ProviderError naming `what` (a wiring mistake, never user input)."""
    if not isinstance(value, expected):
        raise ProviderError(f"{what} is a {type(value).__name__}, not a {expected.__name__}")
    return value


@dataclass
class Snapshot:
    """One observation of the world, taken once before planning: provider name -> that provider's snapshot."""

    project: str | None
    providers: dict[str, object] = field(default_factory=dict)

    def of(self, provider: str, expected: type[T]) -> T:
        """The snapshot of `provider`, checked to be an `expected`."""
        if provider not in self.providers:
            raise ProviderError(f"no snapshot of provider {provider!r}")
        return narrow(self.providers[provider], expected, f"the snapshot of {provider}")


class Session:
    """Provider clients for one API call, created lazily and shared by every step (thread-safe creation)."""

    def __init__(self, factories: Mapping[str, Callable[[], object]]) -> None:
        self._factories = dict(factories)
        self._clients: dict[str, object] = {}
        self._lock = threading.Lock()

    def client(self, provider: str) -> object:
        with self._lock:
            if provider not in self._clients:
                self._clients[provider] = self._factories[provider]()
            return self._clients[provider]

    def client_of(self, provider: str, expected: type[T]) -> T:
        """The client of `provider`, checked to be an `expected` (each provider's boundary type)."""
        return narrow(self.client(provider), expected, f"the client of {provider}")

    def close(self) -> None:
        for client in self._clients.values():
            close = getattr(client, "close", None)
            if callable(close):
                close()


@dataclass
class StepContext:
    """What a kind handler gets when it changes the world.

    `snapshot` is the observation the plan was made from (read-only; re-check the world before acting on it),
    `config` is the loaded gefyra.yaml (None for `down`), `options` the step's options (e.g. {"rebuild":
    True}).
    """

    project: str
    session: Session
    snapshot: Snapshot
    config: Config | None = None
    options: Mapping[str, object] = field(default_factory=dict)
    hooks: Sequence[PostStartHook] = ()
    log_sink: Callable[[str, str | None], None] | None = None

    def log(self, message: str, address: str | None = None) -> None:
        """A message worth showing (image built, subnet chosen); becomes a `log` event."""
        if self.log_sink is not None:
            self.log_sink(message, address)

    def started(self, resource: Resource, container_id: str) -> None:
        """Call after a container of `resource` was (re)started: runs every post-start hook for its kind."""
        for hook in self.hooks:
            if resource.kind in hook.kinds:
                try:
                    hook.run(self, resource, container_id)
                except Exception as error:  # noqa: BLE001 - name the hook, the step fails
                    raise ProviderError(
                        f"post-start hook {hook.name} failed on {resource.key}: {error}"
                    ) from error


@dataclass(frozen=True)
class PostStartHook:
    """Runs after any container of one of `kinds` starts (create, replace, drift repair, watch restart).

    The connection kind uses it to point a freshly started app container's default route at Cargo.
    `run(ctx, resource, container_id)` must be idempotent; raising fails the step that started the container.
    """

    name: str
    kinds: tuple[str, ...]
    run: Callable[[StepContext, Resource, str], None]


class Kind(ABC):
    """Handler of one resource kind: desired resources from Config, actual ones from a snapshot, and actions.

    Every action must be idempotent and re-check the world (the snapshot may be stale): the executor may
    run it
    again after an interrupted apply.
    """

    kind: ClassVar[str]
    provider: ClassVar[str] = "docker"

    @abstractmethod
    def desired(self, config: Config, snapshot: Snapshot) -> list[Resource]:
        """Resources of this kind that gefyra.yaml asks for (may read local files, never the provider)."""

    def amend(self, desired: list[Resource], config: Config) -> list[Resource]:
        """Adjust the whole desired list after every kind produced its own (e.g. add a depends_on).
        Default: none."""
        return desired

    def preflight(self, creating: list[Resource], snapshot: Snapshot, session: Session) -> None:
        """Raise ProviderError when creating these resources would fail (e.g. a host port in use), so plan
        and apply stop before anything is changed (`session` only to explain a problem). Default: no
        check."""
        return None

    @abstractmethod
    def read(self, snapshot: Snapshot) -> list[Resource]:
        """Actual resources of this kind (with `observed`), parsed from the provider's snapshot."""

    @abstractmethod
    def create(self, ctx: StepContext, resource: Resource) -> None:
        """Make `resource` exist (also when an unhealthy or stale copy is still there)."""

    @abstractmethod
    def delete(self, ctx: StepContext, actual: Resource) -> None:
        """Remove `actual`; already gone is fine."""

    def update(self, ctx: StepContext, previous: Resource, resource: Resource) -> None:
        """Change mutable fields in place. Only called for kinds that declare `mutable` fields."""
        raise ProviderError(f"{self.kind} cannot be updated in place")

    def restart(self, ctx: StepContext, actual: Resource) -> None:
        """Restart without replacing (watch `restart` action). Kinds without processes need not support it."""
        raise ProviderError(f"{self.kind} cannot be restarted")


class Provider(ABC):
    """One backend (docker, later kube): connect, observe once, and clean up everything labelled."""

    name: ClassVar[str]

    def active(self, config: Config | None) -> bool:
        """Whether this provider takes part for `config` (None: `down`/`list` without a file). Default:
        always.
        Kinds of an inactive provider neither produce desired resources nor are read."""
        return True

    @abstractmethod
    def connect(self, config: Config | None) -> object:
        """A client (created lazily by Session, at most once per API call)."""

    @abstractmethod
    def observe(self, client: object, project: str | None, config: Config | None) -> object:
        """One snapshot of every labelled object of `project` (every gefyra project when None)."""

    @abstractmethod
    def projects(self, client: object) -> set[str]:
        """Names of every gefyra project with objects here."""

    @abstractmethod
    def sweep(self, client: object, project: str, *, images: bool = False) -> list[str]:
        """Remove every object labelled with `project` still left (and the images built for it when `images`);
        return what was removed (for `down`)."""

    @abstractmethod
    def leftovers(self, client: object, project: str, *, images: bool = False) -> list[str]:
        """Objects labelled with `project` that still exist (down verifies this is empty)."""
