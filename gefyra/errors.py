"""The project's error types and exit codes, in one place."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class ExitCode:
    """Process exit codes of the CLI (documented in README.md)."""

    OK = 0
    ERROR = 1
    CHANGES = 2  # `gefyra plan`: the plan has changes
    INTERRUPTED = 130


class GefyraError(Exception):
    """Base of every error gefyra reports to a user: one line of message, an optional hint."""

    exit_code = ExitCode.ERROR

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class LocatedProblem(Protocol):
    """A problem with its place in a file (gefyra.config.problems.Problem)."""

    def to_dict(self) -> dict[str, object]: ...


class ConfigError(GefyraError):
    """gefyra.yaml could not be found, parsed or validated. `problems` holds every problem found."""

    def __init__(
        self, message: str, *, problems: Sequence[LocatedProblem] | None = None, hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.problems = list(problems or [])


class ProviderError(GefyraError):
    """Talking to Docker or Kubernetes failed, or the world is not as a step needs it."""


class PlanError(GefyraError):
    """The desired state cannot be planned (for example a dependency cycle)."""


class LockError(GefyraError):
    """Another gefyra process holds the project's lock."""


class ProjectTakenDown(GefyraError):
    """`gefyra down` ran for the project since a watch started: the watch must not bring it back."""
