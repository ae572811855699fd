"""What an apply did, step by step, keyed by resource (ResourceKey), never by parsing step ids."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict

from gefyra.errors import ProviderError
from gefyra.model.resources import ResourceKey
from gefyra.planning.plan import Action, Plan


class Outcome(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"  # a dependency did not succeed
    CANCELLED = "cancelled"  # interrupted: not started, or abandoned and its effect not found


class StepResult(BaseModel):
    """The outcome of one step. `observed`: settled by observing the world after an interruption."""

    model_config = ConfigDict(frozen=True)

    step: str
    key: ResourceKey
    op: Literal["create", "delete", "update"]
    action: Action
    outcome: Outcome
    message: str = ""
    error: str | None = None
    duration_s: float | None = None
    observed: bool = False


class ApplyResult(BaseModel):
    """Every step's result (in the order they were settled); `interrupted`: Ctrl-C or cancel stopped it."""

    model_config = ConfigDict(frozen=True)

    results: tuple[StepResult, ...] = ()
    interrupted: bool = False

    def having(self, outcome: Outcome) -> tuple[StepResult, ...]:
        return tuple(result for result in self.results if result.outcome is outcome)

    def keys(self, outcome: Outcome, *, op: str | None = None) -> frozenset[ResourceKey]:
        """Keys of the resources whose step (of `op`, when given) ended with `outcome`."""
        return frozenset(r.key for r in self.results if r.outcome is outcome and op in (None, r.op))

    @property
    def succeeded(self) -> tuple[str, ...]:
        return tuple(result.step for result in self.having(Outcome.SUCCEEDED))

    @property
    def failed(self) -> dict[str, str]:
        return {result.step: result.error or "" for result in self.having(Outcome.FAILED)}

    @property
    def skipped(self) -> tuple[str, ...]:
        return tuple(result.step for result in self.having(Outcome.SKIPPED))

    @property
    def cancelled(self) -> tuple[str, ...]:
        return tuple(result.step for result in self.having(Outcome.CANCELLED))

    @property
    def ok(self) -> bool:
        return all(result.outcome is Outcome.SUCCEEDED for result in self.results)

    def counts(self) -> dict[str, int]:
        """Steps per outcome, every outcome named (the `apply_finished` data)."""
        return {outcome.value: len(self.having(outcome)) for outcome in Outcome}


class ApplyOutcome(BaseModel):
    """What `apply` did: the plan, and the executor's result (None: nothing to do, dry run, not confirmed)."""

    model_config = ConfigDict(frozen=True)

    plan: Plan
    result: ApplyResult | None = None
    confirmed: bool = True

    @property
    def ok(self) -> bool:
        return self.result is None or self.result.ok

    def raise_for_failures(self) -> None:
        if self.result is not None and not self.result.ok:
            raise ProviderError(failure_message(self.result))


def failure_message(result: ApplyResult) -> str:
    """One line: the first failed step and its error, or why the apply did not finish."""
    failed = result.having(Outcome.FAILED)
    if not failed:
        return f"apply did not finish: {len(result.skipped)} skipped, {len(result.cancelled)} cancelled"
    more = len(failed) - 1
    return f"{failed[0].step} failed: {failed[0].error}" + (f" (and {more} more failed)" if more else "")


class DownReport(BaseModel):
    """What `down` removed for one project."""

    project: str
    removed: list[str]
