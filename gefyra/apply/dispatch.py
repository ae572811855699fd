"""Maps a plan step onto its kind handler (mechanical: the plan already decided everything)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from gefyra.apply.events import Event, EventSink
from gefyra.planning.plan import Step
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
) -> Callable[[Step], None]:
    """A RunStep for the executor."""
    handlers: Mapping[str, Kind] = {handler.kind: handler for handler in kinds}

    def log(message: str, address: str | None) -> None:
        emit(Event(event="log", project=project, message=message, address=address))

    def run(step: Step) -> None:
        handler = handlers[step.key.kind]
        ctx = StepContext(
            project=project,
            session=session,
            snapshot=snapshot,
            config=config,
            options=step.options.model_dump(),
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
