"""Provider-neutral error types: what went wrong talking to an engine (Docker, later Kubernetes).

Each provider's boundary translates its client's errors into these in one place, so kinds can tell "not
there" (NotFound) from "cannot tell" (EngineUnavailable, EnginePermission, EngineFailure) without knowing any
client library; nothing but a real "not found" answer may ever be read as "missing".
"""

from __future__ import annotations

from gefyra.errors import ProviderError


class EngineError(ProviderError):
    """The engine answered with an error or could not be asked. `status`: the HTTP status, 0 without one."""

    def __init__(self, message: str, *, status: int = 0, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.status = status


class EngineUnavailable(EngineError):
    """Nobody answers at the engine's address (not running, wrong DOCKER_HOST, timed out)."""


class EnginePermission(EngineError):
    """The engine refused us (socket permission, HTTP 401/403)."""


class NotFound(EngineError):
    """The engine says the object does not exist (HTTP 404): the only error that means "missing"."""


class Conflict(EngineError):
    """The object exists or is in use (HTTP 409): a name taken, a removal already in progress."""


class EngineFailure(EngineError):
    """Any other error answer (bad request, HTTP 500, ...)."""


def from_status(status: int, message: str, *, hint: str | None = None) -> EngineError:
    """The error type for an HTTP error answer of an engine API (the one mapping of statuses)."""
    kind: type[EngineError]
    if status == 404:
        kind = NotFound
    elif status == 409:
        kind = Conflict
    elif status in (401, 403):
        kind = EnginePermission
    else:
        kind = EngineFailure
    return kind(message, status=status, hint=hint)
