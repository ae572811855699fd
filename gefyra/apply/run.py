"""The executor's state during one run: what waits, what runs, what each finished step came to."""

from __future__ import annotations

import concurrent.futures as cf

from gefyra.apply.events import Stopwatch
from gefyra.apply.results import ApplyResult, Outcome, StepResult
from gefyra.planning.plan import Plan, Step


class Run:
    """One plan being executed: pending steps (plan order), running ones by future, results by step id."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.pending: list[Step] = list(plan.steps)
        self.running: dict[cf.Future[float], Step] = {}
        self.results: dict[str, StepResult] = {}  # in the order they were settled
        self.clock = Stopwatch()

    def outcome(self, step_id: str) -> Outcome | None:
        result = self.results.get(step_id)
        return result.outcome if result is not None else None

    def blocked_by(self, step: Step) -> str | None:
        """The first dependency that failed or was skipped (then `step` is skipped too)."""
        stopped = (Outcome.FAILED, Outcome.SKIPPED, Outcome.CANCELLED)
        return next((dep for dep in step.depends_on if self.outcome(dep) in stopped), None)

    def ready(self, step: Step) -> bool:
        return all(self.outcome(dep) is Outcome.SUCCEEDED for dep in step.depends_on)

    def unfinished(self) -> list[Step]:
        """Running steps, then pending ones: everything without a result yet."""
        return [*self.running.values(), *self.pending]

    def record(
        self,
        step: Step,
        outcome: Outcome,
        *,
        message: str = "",
        error: str | None = None,
        duration_s: float | None = None,
        observed: bool = False,
    ) -> StepResult:
        result = StepResult(
            step=step.id,
            key=step.key,
            op=step.op,
            action=step.action,
            outcome=outcome,
            message=message,
            error=error,
            duration_s=duration_s,
            observed=observed,
        )
        self.results[step.id] = result
        return result

    def result(self, *, interrupted: bool) -> ApplyResult:
        return ApplyResult(results=tuple(self.results.values()), interrupted=interrupted)
