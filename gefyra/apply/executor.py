"""The executor: walks a Plan's step DAG with bounded parallelism. It decides nothing.

A step runs once all its dependencies succeeded. A failed step skips its dependants (transitively) and nothing
else.

Interruption (Ctrl-C in the main thread, or `cancel` set by the caller): no new step starts; running steps
get `grace_s` seconds to finish (None: as long as they take), then they are abandoned; a second Ctrl-C
abandons them at once. Abandoned steps run on daemon threads, so they never keep the process alive, and
the `gate` closes: they can start no new engine call (gefyra/apply/gate.py); the calls under way get
SETTLE_S to land. Then `verify` (the API observes the world again) settles which unfinished steps did take
effect, so the final events and counts say what is true, not what the executor last heard. A Ctrl-C is
re-raised as KeyboardInterrupt after `apply_finished`. Every step is idempotent: the next apply converges.
"""

from __future__ import annotations

import concurrent.futures as cf
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import FrameType
from typing import TypeVar

from gefyra.apply.events import Event, EventSink, Stopwatch, discard
from gefyra.apply.gate import Abandoned
from gefyra.apply.results import ApplyResult, Outcome, StepResult
from gefyra.apply.run import Run
from gefyra.planning.plan import Plan, Step

T = TypeVar("T")
RunStep = Callable[[Step], None]
Verify = Callable[[Sequence[Step]], frozenset[str]]
"""Steps that did not finish -> ids of those whose effect exists in the world now."""

DEFAULT_PARALLELISM = 4
VERIFY_TIMEOUT_S = 5.0  # an engine too slow to answer this is not observed again: the report says so
SETTLE_S = 5.0  # abandoned steps' engine calls already under way get this long to land (loaded engines)
_POLL_S = 0.1  # how often the main thread looks at interruptions and finished steps


class Interruption:
    """What the user asked for, by the number of Ctrl-C: 1 `cancel` (start nothing new), 2 `abandon` (stop
    waiting for running steps), 3 `hurry` (report without looking at the world again). Set by the SIGINT
    handler: only flags, never an exception in the middle of the executor's bookkeeping."""

    def __init__(self, cancel: threading.Event) -> None:
        self.cancel = cancel
        self.abandon = threading.Event()
        self.hurry = threading.Event()
        self.by_signal = threading.Event()  # a Ctrl-C came (re-raised as KeyboardInterrupt at the end)

    def on_sigint(self, signum: int, frame: FrameType | None) -> None:
        if self.abandon.is_set():
            self.hurry.set()
        if self.by_signal.is_set():
            self.abandon.set()
        self.by_signal.set()
        self.cancel.set()


class Executor:
    """Runs the steps of one plan through `run_step`."""

    def __init__(
        self,
        run_step: RunStep,
        *,
        parallelism: int = DEFAULT_PARALLELISM,
        emit: EventSink = discard,
        cancel: threading.Event | None = None,
        grace_s: float | None = None,
        verify: Verify | None = None,
        gate: threading.Event | None = None,
    ) -> None:
        self._run_step = run_step
        self._gate = gate or threading.Event()
        self._parallelism = max(1, parallelism)
        self._emit = emit
        self._grace_s = grace_s
        self._verify = verify
        self.cancel = cancel or threading.Event()

    def execute(self, plan: Plan) -> ApplyResult:
        run = Run(plan)
        self._emit(Event(event="apply_started", project=plan.project, data={"steps": len(plan.steps)}))
        interruption = Interruption(self.cancel)
        with _sigint_handler(interruption.on_sigint):
            self._drive(run, interruption)
            if run.running:  # abandoned: no new engine call from them; wait for the ones under way
                self._gate.set()
                self._settle(run, interruption)
            result = self._finish(run, interruption)
        if interruption.by_signal.is_set():
            raise KeyboardInterrupt
        return result

    def _drive(self, run: Run, interruption: Interruption) -> None:
        """Start ready steps and collect finished ones until none is left, or until interrupted and the
        running ones finished, exceeded the grace period, or were abandoned."""
        cancelled_at: float | None = None
        while run.pending or run.running:
            if not self.cancel.is_set():
                self._start_ready(run)
            elif cancelled_at is None:
                cancelled_at = time.monotonic()
                if run.running:
                    self._say_waiting(run)
            if not run.running or interruption.abandon.is_set() or self._grace_over(cancelled_at):
                return
            finished, _ = cf.wait(run.running, timeout=_POLL_S, return_when=cf.FIRST_COMPLETED)
            for future in finished:
                self._collect(run, future)

    def _grace_over(self, cancelled_at: float | None) -> bool:
        return (
            cancelled_at is not None
            and self._grace_s is not None
            and time.monotonic() - cancelled_at >= self._grace_s
        )

    def _say_waiting(self, run: Run) -> None:
        names = ", ".join(str(step.key) for step in run.running.values())
        limit = "" if self._grace_s is None else f" (at most {self._grace_s:g}s)"
        self._emit(
            Event(
                event="log",
                project=run.plan.project,
                message=f"interrupted: waiting for {names} to finish{limit}; Ctrl-C again stops at once",
            )
        )

    def _start_ready(self, run: Run) -> None:
        for step in list(run.pending):
            blocked_by = run.blocked_by(step)
            if blocked_by is not None:
                run.pending.remove(step)
                self._report(run, step, Outcome.SKIPPED, message=f"{blocked_by} did not succeed")
            elif run.ready(step) and len(run.running) < self._parallelism:
                run.pending.remove(step)
                self._emit(_step_event("step_started", step, run.plan.project))
                run.running[_start_daemon(self._timed, step)] = step

    def _timed(self, step: Step) -> float:
        clock = Stopwatch()
        self._run_step(step)
        return clock.elapsed()

    def _collect(self, run: Run, future: cf.Future[float]) -> None:
        step = run.running.pop(future)
        try:
            elapsed = future.result()
        except Exception as error:  # noqa: BLE001 - a failed step is reported, its dependants skipped
            self._report(run, step, Outcome.FAILED, error=str(error) or type(error).__name__)
        else:
            self._report(run, step, Outcome.SUCCEEDED, duration_s=elapsed)

    def _settle(self, run: Run, interruption: Interruption) -> None:
        """Wait up to SETTLE_S for the abandoned steps to end: the gate is closed, so each ends when its
        engine call under way returns (that call lands in the world anyway, so the report waits for it). A
        step that ends at the gate stays unfinished (the look at the world settles it); one that finished or
        failed by itself is reported as such. A further Ctrl-C stops waiting."""
        deadline = time.monotonic() + SETTLE_S
        abandoned: dict[cf.Future[float], Step] = {}
        while run.running and time.monotonic() < deadline and not interruption.hurry.is_set():
            finished, _ = cf.wait(run.running, timeout=_POLL_S, return_when=cf.FIRST_COMPLETED)
            for future in finished:
                if _stopped_at_gate(future.exception()):
                    abandoned[future] = run.running.pop(future)
                else:
                    self._collect(run, future)
        run.running.update(abandoned)

    def _finish(self, run: Run, interruption: Interruption) -> ApplyResult:
        """Settle the steps that did not finish (observing the world when interrupted), report them, and
        emit `apply_finished` with counts that hold afterwards."""
        interrupted = self.cancel.is_set()
        unfinished = run.unfinished()
        abandoned = {step.id for step in run.running.values()}
        found = self._settled(unfinished, interruption) if interrupted and unfinished else frozenset()
        for step in unfinished:
            if step.id in found:
                message = "done (found in the world after the interruption)"
                self._report(run, step, Outcome.SUCCEEDED, message=message, observed=True)
            elif step.id in abandoned:
                message = "abandoned while running; the next apply completes it"
                self._report(run, step, Outcome.CANCELLED, message=message, observed=self._verify is not None)
            else:
                self._report(run, step, Outcome.CANCELLED, message="interrupted before it started")
        result = run.result(interrupted=interrupted)
        self._emit(
            Event(
                event="apply_finished",
                project=run.plan.project,
                duration_s=run.clock.elapsed(),
                data={**result.counts(), "interrupted": interrupted},
            )
        )
        return result

    def _settled(self, unfinished: Sequence[Step], interruption: Interruption) -> frozenset[str]:
        """Ids of `unfinished` steps whose effect exists, by `verify`, within VERIFY_TIMEOUT_S (a slow engine,
        a failing observation or a third Ctrl-C leaves them unsettled: reported as cancelled)."""
        if self._verify is None:
            return frozenset()
        future = _start_daemon(self._verify, unfinished)
        deadline = time.monotonic() + VERIFY_TIMEOUT_S
        while not future.done() and time.monotonic() < deadline and not interruption.hurry.is_set():
            cf.wait([future], timeout=_POLL_S)
        if not future.done() or future.exception() is not None:
            return frozenset()
        return future.result()

    def _report(
        self,
        run: Run,
        step: Step,
        outcome: Outcome,
        *,
        message: str = "",
        error: str | None = None,
        duration_s: float | None = None,
        observed: bool = False,
    ) -> StepResult:
        result = run.record(
            step, outcome, message=message, error=error, duration_s=duration_s, observed=observed
        )
        self._emit(
            _step_event(
                _EVENTS[outcome],
                step,
                run.plan.project,
                message=result.message,
                error=result.error,
                duration_s=result.duration_s,
            )
        )
        return result


_EVENTS = {
    Outcome.SUCCEEDED: "step_succeeded",
    Outcome.FAILED: "step_failed",
    Outcome.SKIPPED: "step_skipped",
    Outcome.CANCELLED: "step_cancelled",
}


def _stopped_at_gate(error: BaseException | None) -> bool:
    """The step ended because the gate refused an engine call (a provider may have wrapped that error)."""
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, Abandoned):
            return True
        error, seen = error.__cause__ or error.__context__, seen + 1
    return False


def run_concurrently(calls: Sequence[Callable[[], None]]) -> list[Exception | None]:
    """Run `calls` at the same time on daemon threads; the error of each (None: it succeeded), in order.
    The waiting thread stays interruptible (Ctrl-C abandons the calls, like a second one in `execute`)."""
    futures = [_start_daemon(call) for call in calls]
    while not all(future.done() for future in futures):
        cf.wait(futures, timeout=_POLL_S)
    errors: list[Exception | None] = []
    for future in futures:
        error = future.exception()
        if error is not None and not isinstance(error, Exception):
            raise error  # KeyboardInterrupt, SystemExit: not a failure to report
        errors.append(error)
    return errors


def _start_daemon(fn: Callable[..., T], *args: object) -> cf.Future[T]:
    """Run `fn(*args)` on its own daemon thread (the executor bounds how many run at once).

    Not a ThreadPoolExecutor: its worker threads are joined at interpreter exit, so an abandoned step would
    keep the process alive after Ctrl-C."""
    future: cf.Future[T] = cf.Future()

    def work() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(fn(*args))
        except BaseException as error:  # noqa: BLE001 - handed to the executor through the future
            future.set_exception(error)

    threading.Thread(target=work, name="gefyra-step", daemon=True).start()
    return future


def _step_event(
    kind: str,
    step: Step,
    project: str,
    *,
    message: str = "",
    error: str | None = None,
    duration_s: float | None = None,
) -> Event:
    return Event.model_validate(
        {
            "event": kind,
            "project": project,
            "step": step.id,
            "op": step.op,
            "action": step.action.value,
            "address": str(step.key),
            "message": message,
            "error": error,
            "duration_s": duration_s,
        }
    )


@contextmanager
def _sigint_handler(handler: Callable[[int, FrameType | None], None]) -> Iterator[None]:
    """`handler` for SIGINT while the body runs (main thread only; elsewhere Ctrl-C is not ours to see)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
