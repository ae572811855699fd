"""Resource: one thing gefyra manages, identified by kind + name, described by a canonical spec.

The same type describes the desired state (from gefyra.yaml) and the actual state (read back from labels); the
actual one also carries an `Observed` with what the provider saw (running or not, and why).
"""

from __future__ import annotations

from typing import Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, JsonValue, model_validator

from gefyra.model.hashing import spec_hash

Spec = dict[str, JsonValue]
"""A canonical spec: JSON-able (what is hashed, stored in a label and diffed)."""


class ResourceKey(NamedTuple):
    """Identity of a resource; sorts by kind, then name."""

    kind: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind}/{self.name}"

    @classmethod
    def parse(cls, text: str) -> ResourceKey:
        kind, _, name = text.partition("/")
        return cls(kind, name)


class Observed(BaseModel):
    """What a provider saw of an actual resource."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    status: str  # provider words: running, exited, created, present, ...
    healthy: bool  # False: the planner replaces it (stopped or broken by hand)
    detail: str = ""  # human why, e.g. "exited with code 137"
    ref: str = ""  # provider id (container id, network id)
    # provider facts for status/other kinds (ip, subnet, image id); never planned on
    info: dict[str, JsonValue] = {}
    # facts an in-place `update` repairs (e.g. "container/web is not routed through Cargo"); the planner plans
    # an update with these as the cause when the spec itself is up to date. Not part of any spec or hash.
    drift: tuple[str, ...] = ()

    def fact(self, name: str) -> str | None:
        """A text fact from `info` (None when absent or not text)."""
        value = self.info.get(name)
        return value if isinstance(value, str) else None


class Resource(BaseModel):
    """A desired or actual resource.

    depends_on: created after these, deleted before them, and replaced when one of them is replaced.
    after: ordering only (created after these), no cascade of replaces.
    mutable: spec fields left out of the hash; a difference there is an in-place `update`, not a replace.
    replace_policy: delete_first when the name is fixed (Docker containers and networks), else create_first.
    summary: one line for people (plan text and JSON), e.g. `deployment/web:web 80->8080`; never hashed.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str
    name: str
    spec: Spec
    depends_on: tuple[ResourceKey, ...] = ()
    after: tuple[ResourceKey, ...] = ()
    mutable: tuple[str, ...] = ()
    replace_policy: Literal["delete_first", "create_first"] = "delete_first"
    spec_hash: str = ""
    summary: str = ""
    observed: Observed | None = None

    @model_validator(mode="after")
    def _hash(self) -> Resource:
        if not self.spec_hash:
            object.__setattr__(self, "spec_hash", spec_hash(self.spec, self.mutable))
        return self

    def evolve(self, **changes: object) -> Resource:
        """A copy with `changes`; the spec hash is recomputed when the spec changes (model_copy would not)."""
        data = {**dict(self), **changes}
        if "spec" in changes and "spec_hash" not in changes:
            data["spec_hash"] = ""
        return Resource.model_validate(data)

    @property
    def key(self) -> ResourceKey:
        return ResourceKey(self.kind, self.name)

    def __str__(self) -> str:
        return str(self.key)
