"""The executor: walks a Plan's step DAG with bounded parallelism. It decides nothing.

A step runs once all its dependencies succeeded. A failed step skips its dependants (transitively) and nothing
else. On Ctrl-C no new step starts, running steps finish, the rest is reported as cancelled and
KeyboardInterrupt is raised: every step is idempotent, so the next apply converges from whatever state this
left. A second Ctrl-C stops at once: running steps are abandoned (reported cancelled; they run on daemon
threads, so they do not keep the process alive) and the final events are still emitted.
"""

from __future__ import annotations

import concurrent.futures as cf
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from pydantic import BaseModel, ConfigDict

from gefyra.apply.events import Event, EventSink, Stopwatch, discard
from gefyra.planning.plan import Plan, Step

RunStep = Callable[[Step], None]
DEFAULT_PARALLELISM = 4
_POLL_S = 0.1  # how often the main thread wakes so Ctrl-C is seen promptly


class ApplyResult(BaseModel):
    """Step ids by outcome."""

    model_config = ConfigDict(frozen=True)

    succeeded: tuple[str, ...] = ()
    failed: dict[str, str] = {}  # step id -> error message
    skipped: tuple[str, ...] = ()
    cancelled: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not (self.failed or self.skipped or self.cancelled)


class Executor:
    """Runs the steps of one plan through `run_step`."""

    def __init__(
        self,
        run_step: RunStep,
        *,
        parallelism: int = DEFAULT_PARALLELISM,
        emit: EventSink = discard,
        cancel: threading.Event | None = None,
    ) -> None:
        self._run_step = run_step
        self._parallelism = max(1, parallelism)
        self._emit = emit
        self.cancel = cancel or threading.Event()

    def execute(self, plan: Plan) -> ApplyResult:
        steps = {step.id: step for step in plan.steps}
        order = [step.id for step in plan.steps]
        done: list[str] = []
        failed: dict[str, str] = {}
        skipped: list[str] = []
        running: dict[cf.Future, str] = {}
        pending = list(order)
        self._emit(Event(event="apply_started", project=plan.project, data={"steps": len(order)}))
        clock = Stopwatch()
        pool = _DaemonPool()
        interrupted = threading.Event()
        with _sigint_sets(self.cancel, interrupted):
            try:
                while pending or running:
                    if not self.cancel.is_set():
                        pending = self._start_ready(
                            pool, steps, pending, running, done, failed, skipped, plan.project
                        )
                    if not running:
                        break
                    finished, _ = cf.wait(running, timeout=_POLL_S, return_when=cf.FIRST_COMPLETED)
                    for future in finished:
                        self._collect(future, running.pop(future), steps, done, failed, plan.project)
            except KeyboardInterrupt:  # the second Ctrl-C: abandon the running steps, still report
                self._finish(plan, done, failed, skipped, list(running.values()) + pending, clock)
                raise
        result = self._finish(plan, done, failed, skipped, pending, clock)
        if interrupted.is_set():
            raise KeyboardInterrupt
        return result

    def _start_ready(self, pool, steps, pending, running, done, failed, skipped, project) -> list[str]:
        still: list[str] = []
        for step_id in pending:
            deps = steps[step_id].depends_on
            blocked_by = next((dep for dep in deps if dep in failed or dep in skipped), None)
            if blocked_by is not None:
                skipped.append(step_id)
                self._emit(
                    _step_event(
                        "step_skipped", steps[step_id], project, message=f"{blocked_by} did not succeed"
                    )
                )
            elif all(dep in done for dep in deps) and len(running) < self._parallelism:
                self._emit(_step_event("step_started", steps[step_id], project))
                running[pool.submit(self._timed, steps[step_id])] = step_id
            else:
                still.append(step_id)
        return still

    def _timed(self, step: Step) -> float:
        clock = Stopwatch()
        self._run_step(step)
        return clock.elapsed()

    def _collect(self, future: cf.Future, step_id: str, steps, done, failed, project) -> None:
        try:
            elapsed = future.result()
        except Exception as error:  # noqa: BLE001 - a failed step is reported, its dependants skipped
            failed[step_id] = str(error) or type(error).__name__
            self._emit(_step_event("step_failed", steps[step_id], project, error=failed[step_id]))
        else:
            done.append(step_id)
            self._emit(_step_event("step_succeeded", steps[step_id], project, duration_s=elapsed))

    def _finish(self, plan, done, failed, skipped, pending, clock) -> ApplyResult:
        cancelled = [step_id for step_id in pending if step_id not in skipped]
        for step_id in cancelled:
            self._emit(
                _step_event("step_cancelled", next(s for s in plan.steps if s.id == step_id), plan.project)
            )
        result = ApplyResult(
            succeeded=tuple(done), failed=dict(failed), skipped=tuple(skipped), cancelled=tuple(cancelled)
        )
        self._emit(
            Event(
                event="apply_finished",
                project=plan.project,
                duration_s=clock.elapsed(),
                data={
                    "succeeded": len(done),
                    "failed": len(failed),
                    "skipped": len(skipped),
                    "cancelled": len(cancelled),
                },
            )
        )
        return result


class _DaemonPool:
    """Runs each submitted step on its own daemon thread (the executor bounds how many run at once).

    Not a ThreadPoolExecutor: its worker threads are joined at interpreter exit, so an abandoned step would
    keep the process alive after the second Ctrl-C."""

    def submit(self, fn: Callable[..., float], *args: object) -> cf.Future:
        future: cf.Future = cf.Future()

        def work() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(fn(*args))
            except BaseException as error:  # noqa: BLE001 - handed to the executor through the future
                future.set_exception(error)

        threading.Thread(target=work, name="gefyra-step", daemon=True).start()
        return future


def _step_event(kind: str, step: Step, project: str, **fields) -> Event:
    return Event(
        event=kind,
        project=project,
        step=step.id,
        op=step.op,
        action=step.action.value,
        address=str(step.key),
        **fields,
    )


@contextmanager
def _sigint_sets(cancel: threading.Event, interrupted: threading.Event) -> Iterator[None]:
    """While steps run, the first Ctrl-C only sets `cancel` (running steps finish, no new ones start; the
    caller
    re-raises KeyboardInterrupt afterwards); a second Ctrl-C interrupts at once. Main thread only."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_sigint(signum, frame) -> None:
        if interrupted.is_set():
            raise KeyboardInterrupt
        interrupted.set()
        cancel.set()

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
