"""The watch loop: apply, then re-apply on (a) gefyra.yaml edits, (b) containers' `watch:` paths, (c) drift
ticks.

It calls the engine only through `WatchActions` (wired by gefyra.api.watch), so it stays below the API layer
and testable. Ctrl-C stops watching and leaves everything running: it raises KeyboardInterrupt in the main
thread wherever the loop is (waiting, loading, restarting); during an apply the executor lets running steps
finish for at most WATCH_GRACE_S, then abandons them, so the loop never waits on a slow engine call.
"""

from __future__ import annotations

import math
import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from pydantic import BaseModel, ConfigDict

from gefyra.apply.events import Event, EventSink, notice_event
from gefyra.apply.results import ApplyOutcome, Outcome
from gefyra.errors import ConfigError, GefyraError, ProjectTakenDown
from gefyra.model.resources import ResourceKey
from gefyra.planning.plan import Notice
from gefyra.watch.backoff import Backoff
from gefyra.watch.debounce import DEFAULT_QUIET_S, Debouncer, Trigger, ignored, is_editor_temp
from gefyra.watch.engine_events import EngineEvents, Subscribe, engine_subscribe
from gefyra.watch.files import FileWatcher

if TYPE_CHECKING:
    from gefyra.config.model import Config

DEFAULT_DRIFT_INTERVAL_S = 5.0
WATCH_GRACE_S = 3.0  # Ctrl-C during an apply: how long running steps may still take
_MAX_WAIT_S = 0.5  # the loop looks at `stop` at least this often


class WatchSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    drift_interval: float = DEFAULT_DRIFT_INTERVAL_S
    quiet_s: float = DEFAULT_QUIET_S

    @classmethod
    def with_defaults(cls, *, drift_interval: float | None, quiet_s: float | None) -> WatchSettings:
        given = {"drift_interval": drift_interval, "quiet_s": quiet_s}
        return cls.model_validate({key: value for key, value in given.items() if value is not None})


@dataclass(frozen=True)
class ApplyRequest:
    """One apply of the loop: where its events go, what to replace or rebuild, what to leave alone."""

    emit: EventSink
    force_replace: Mapping[ResourceKey, str]
    rebuild: frozenset[ResourceKey]
    hold: frozenset[ResourceKey]


class WatchActions(Protocol):
    def load(self, path: Path) -> Config: ...
    def apply(self, config: Config, request: ApplyRequest) -> ApplyOutcome: ...
    def restart(self, config: Config, names: Sequence[str]) -> None: ...


def container(name: str) -> ResourceKey:
    return ResourceKey("container", name)


class WatchLoop:
    def __init__(
        self,
        config_path: Path,
        actions: WatchActions,
        *,
        emit: EventSink,
        settings: WatchSettings | None = None,
        stop: threading.Event | None = None,
        clock: Callable[[], float] = time.monotonic,
        subscribe: Subscribe | None = engine_subscribe,
    ) -> None:
        """`subscribe`: where engine events of the project come from (None: drift ticks only)."""
        self.actions = actions
        self.emit = emit
        self.settings = settings or WatchSettings()
        self.stop = stop or threading.Event()
        self.clock = clock
        self.debouncer = Debouncer(quiet_s=self.settings.quiet_s, clock=clock)
        self.changes: queue.Queue[Path | Trigger] = queue.Queue()  # changed paths, engine drift
        self.config = actions.load(config_path)
        self.config_path = self.config.source
        self._watchers: list[FileWatcher] = []
        self.backoff = Backoff()
        self._noticed: set[Notice] = set()
        self._subscribe = subscribe

    def run(self) -> None:
        """Until `stop` is set (or Ctrl-C, which propagates after the watchers stopped)."""
        project = self.config.project.name
        self.emit(Event(event="watch_started", project=project, message=f"watching {self.config_path}"))
        events = (
            EngineEvents(project, lambda _: self.changes.put(Trigger("drift")), self._subscribe).start()
            if self._subscribe is not None
            else None
        )
        try:
            self._restart_watchers()
            self._act([])
            self.emit(Event(event="watch_ready", project=project, message="watching for changes"))
            next_drift = self.clock() + self.settings.drift_interval
            while not self.stop.is_set():
                pending = self.debouncer.wait_s()
                self._collect(min(math.inf if pending is None else pending, next_drift - self.clock()))
                due = self.debouncer.take()
                if self.clock() >= next_drift:
                    due = due or [Trigger("drift")]
                    next_drift = self.clock() + self.settings.drift_interval
                if due:
                    self._act(due)
        finally:
            if events is not None:
                events.stop()
            for watcher in self._watchers:
                watcher.stop()

    def _collect(self, wait: float) -> None:
        """Feed changed paths (and engine drift) to the debouncer: wait up to `wait` s for the first, then
        take the rest."""
        try:
            item = self.changes.get(timeout=min(max(0.0, wait), _MAX_WAIT_S))
        except queue.Empty:
            return
        while True:
            for trigger in [item] if isinstance(item, Trigger) else self.triggers_for(item):
                self.debouncer.add(trigger)
            try:
                item = self.changes.get_nowait()
            except queue.Empty:
                return

    def triggers_for(self, path: Path) -> list[Trigger]:
        """What a changed path means under the current config (pure given the config)."""
        if is_editor_temp(path):
            return []
        if path == self.config_path or path in self._env_files():  # env_file values are part of the config
            return [Trigger("config", path=path.name)]
        found = []
        for name, spec in self.config.containers.items():
            for rule in spec.watch:
                root = Path(rule.path)
                inside = path == root or root in path.parents
                if inside and not ignored(path, root, rule.ignore):
                    base = self.config.base_dir
                    shown = path.relative_to(base) if base in path.parents else path
                    found.append(Trigger(rule.action, container=name, path=str(shown)))
        return found

    def _restart_watchers(self) -> None:
        """(Re)start the file watchers when the watched paths changed: the config folder and the folders of
        file rules flat, folder rules recursively. Paths that do not exist yet count from the next edit on."""
        rules = [Path(rule.path) for c in self.config.containers.values() for rule in c.watch]
        files = {p.parent for p in rules if not p.is_dir()} | {p.parent for p in self._env_files()}
        flat = sorted({self.config_path.parent} | files)
        deep = sorted({p for p in rules if p.is_dir()})
        if [w.paths for w in self._watchers] == [
            [p for p in flat if p.exists()],
            [p for p in deep if p.exists()],
        ]:
            return
        for watcher in self._watchers:
            watcher.stop()
        self._watchers = [
            FileWatcher(flat, False, self.changes.put).start(),
            FileWatcher(deep, True, self.changes.put).start(),
        ]

    def _env_files(self) -> set[Path]:
        return {Path(path) for c in self.config.containers.values() for path in c.env_file}

    def _act(self, due: list[Trigger]) -> None:
        project = self.config.project.name
        files = [t for t in due if t.reason != "drift"]
        if files:
            reasons = [t.describe() for t in files]
            self.emit(
                Event(
                    event="watch_triggered",
                    project=project,
                    message="; ".join(reasons),
                    data={"reasons": list(reasons)},
                )
            )
        if any(t.reason == "config" for t in due):
            self._reload()
        names = set(self.config.containers)
        rebuild = {
            container(t.container): f"watch: {t.path} changed (rebuild)"
            for t in due
            if t.reason == "rebuild" and t.container in names
        }
        everything = not due or any(t.reason == "config" for t in due)  # the first apply or a config edit
        edited = {t.container for t in due if t.container} | (names if everything else set())
        self.backoff.reset(edited)  # the user changed something: repair at once again
        held = self.backoff.held(self.clock())
        outcome = self._apply(rebuild, frozenset(container(name) for name in held))
        if outcome is None:
            return
        self._notify(outcome.plan.notices)
        renewed = outcome.result.keys(Outcome.SUCCEEDED, op="create") if outcome.result else frozenset()
        self._track_repairs(outcome, edited, held)
        restarting = {t.container for t in due if t.reason == "restart"} & set(self.config.containers)
        stale = sorted(name for name in restarting if container(name) not in renewed)
        if stale:  # not just (re)created: those already run the new files
            self._restart(stale)

    def _apply(self, rebuild: dict[ResourceKey, str], hold: frozenset[ResourceKey]) -> ApplyOutcome | None:
        project = self.config.project.name
        request = ApplyRequest(
            emit=self._emit_filtered, force_replace=rebuild, rebuild=frozenset(rebuild), hold=hold
        )
        try:
            return self.actions.apply(self.config, request)
        except ProjectTakenDown as error:  # `gefyra down` of this project: do not bring it back
            self.emit(Event(event="watch_ended", project=project, message=error.message))
            self.stop.set()
        except Exception as error:  # noqa: BLE001 - watch keeps running whatever broke (engine restart, ...)
            self.emit(Event(event="watch_error", project=project, message="apply failed", error=_why(error)))
        return None

    def _restart(self, names: list[str]) -> None:
        """Restart these containers at once (their stop is a kill: the engine decides, not the image)."""
        project = self.config.project.name
        try:
            self.actions.restart(self.config, names)
        except Exception as error:  # noqa: BLE001 - as in _apply
            message = f"restart of {', '.join(names)} failed"
            self.emit(Event(event="watch_error", project=project, message=message, error=_why(error)))
            return
        for name in names:
            self.emit(Event(event="log", project=project, address=str(container(name)), message="restarted"))

    def _notify(self, notices: tuple[Notice, ...]) -> None:
        """Each notice once per watch (a drift tick every few seconds must not repeat it)."""
        for notice in notices:
            if notice not in self._noticed:
                self._noticed.add(notice)
                self.emit(notice_event(self.config.project.name, notice))

    def _track_repairs(self, outcome: ApplyOutcome, edited: set[str], held: frozenset[str]) -> None:
        """Backoff per container the drift tick had to (re)create: one that keeps exiting is not recreated
        every tick."""
        result = outcome.result
        tried = (
            result.keys(Outcome.SUCCEEDED, op="create") | result.keys(Outcome.FAILED, op="create")
            if result is not None
            else frozenset()
        )
        repaired = {key.name for key in tried if key.kind == "container"} - edited
        for name, (count, delay) in self.backoff.track(repaired, held, self.clock()).items():
            if count > 1:
                self.emit(
                    Event(
                        event="log",
                        project=self.config.project.name,
                        address=str(container(name)),
                        message=f"keeps stopping (repaired {count} times in a row); "
                        f"next repair not before {delay:g}s",
                    )
                )

    def _reload(self) -> None:
        project = self.config.project.name
        try:
            config = self.actions.load(self.config_path)
        except ConfigError as error:
            message = "gefyra.yaml is invalid; keeping the last good state"
            self.emit(Event(event="watch_error", project=project, message=message, error=error.message))
            return
        if config.project.name != project:
            message = "project.name changed; restart watch to switch projects"
            error_text = f"{project} -> {config.project.name}"
            self.emit(Event(event="watch_error", project=project, message=message, error=error_text))
            return
        self.config = config
        self._restart_watchers()

    def _emit_filtered(self, event: Event) -> None:
        """Without changes an apply is silent (drift ticks would otherwise print a plan every few seconds)."""
        if event.event == "plan" and event.plan is not None and not event.plan.has_changes:
            return
        self.emit(event)


def _why(error: Exception) -> str:
    return error.message if isinstance(error, GefyraError) else f"{type(error).__name__}: {error}"
