"""Maps a plan step onto its kind handler (mechanical: the plan already decided everything), and runs a plan's
steps that way through the executor."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, NamedTuple

from gefyra.apply.events import Event, EventSink
from gefyra.apply.executor import Executor, Verify
from gefyra.apply.gate import GatedSession
from gefyra.apply.observe import active_kinds
from gefyra.apply.results import ApplyResult
from gefyra.planning.plan import Action, Plan, Step
from gefyra.providers.base import Kind, PostStartHook, Session, Snapshot, StepContext

if TYPE_CHECKING:
    from gefyra.config.model import Config


def step_runner(
    kinds: Sequence[Kind],
    *,
    project: str,
    session: Session,
    snapshot: Snapshot,
    config: Config | None,
    hooks: Sequence[PostStartHook],
    emit: EventSink,
    gate: threading.Event | None = None,
) -> Callable[[Step], None]:
    """A RunStep for the executor. With `gate`, steps reach the engines through it (gefyra/apply/gate.py)."""
    handlers: Mapping[str, Kind] = {handler.kind: handler for handler in kinds}
    clients = GatedSession(session, gate) if gate is not None else session

    def log(message: str, address: str | None) -> None:
        emit(Event(event="log", project=project, message=message, address=address))

    def run(step: Step) -> None:
        handler = handlers[step.key.kind]
        ctx = StepContext(
            project=project,
            session=clients,
            snapshot=snapshot,
            config=config,
            # `replacing`: a delete whose create follows (the container kind overlaps the two)
            options={**step.options.model_dump(), "replacing": step.action is Action.REPLACE},
            hooks=hooks,
            log_sink=log,
        )
        if step.op == "create":
            handler.create(ctx, step.resource)
        elif step.op == "delete":
            handler.delete(ctx, step.resource)
        else:
            assert step.previous is not None
            handler.update(ctx, step.previous, step.resource)

    return run


class Target(NamedTuple):
    """What a plan's steps run against: the observation, the clients, the config (None for `down`), the
    post-start hooks, and where events go."""

    snapshot: Snapshot
    session: Session
    config: Config | None
    hooks: Sequence[PostStartHook]
    emit: EventSink


def execute(
    plan: Plan,
    target: Target,
    *,
    parallelism: int,
    cancel: threading.Event | None = None,
    grace_s: float | None = None,
    verify: Verify | None = None,
) -> ApplyResult:
    """Run every step of `plan` against `target` with the executor (see gefyra/apply/executor.py); steps
    the executor abandons can start no new engine call."""
    gate = threading.Event()
    run = step_runner(
        active_kinds(target.snapshot),
        project=plan.project,
        session=target.session,
        snapshot=target.snapshot,
        config=target.config,
        hooks=target.hooks,
        emit=target.emit,
        gate=gate,
    )
    executor = Executor(
        run,
        parallelism=parallelism,
        emit=target.emit,
        cancel=cancel,
        grace_s=grace_s,
        verify=verify,
        gate=gate,
    )
    return executor.execute(plan)
