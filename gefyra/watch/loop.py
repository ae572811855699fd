"""The watch loop: apply, then re-apply on (a) gefyra.yaml edits, (b) containers' `watch:` paths, (c) drift
ticks.

It calls the engine only through `WatchActions` (wired by gefyra.api.watch), so it stays below the API layer
and testable. Ctrl-C stops watching and leaves everything running.
"""

from __future__ import annotations

import math
import queue
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol

from gefyra.apply.events import Event, EventSink
from gefyra.errors import ConfigError, GefyraError, ProjectTakenDown
from gefyra.model.resources import ResourceKey
from gefyra.watch.debounce import DEFAULT_QUIET_S, Debouncer, Trigger, ignored, is_editor_temp

DEFAULT_DRIFT_INTERVAL_S = 5.0
BACKOFF_BASE_S = 5.0  # a container the drift tick had to repair waits 5 s, 10, 20, ... before the next repair
BACKOFF_MAX_S = 300.0


class WatchActions(Protocol):
    def load(self, path: Path) -> Any: ...
    def apply(
        self, config: Any, *, emit: EventSink, force_replace: dict, options: dict, hold: frozenset
    ) -> Any: ...
    def restart(self, config: Any, name: str) -> None: ...


class _FileWatcher:
    """watchfiles in a thread, feeding changed paths into a queue until stopped."""

    def __init__(self, paths: Iterable[Path], recursive: bool, sink: queue.Queue) -> None:
        self.paths = sorted({p for p in paths if p.exists()})
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(recursive, sink), daemon=True, name="gefyra-watch-files"
        )

    def start(self) -> _FileWatcher:
        if self.paths:
            self._thread.start()
        return self

    def _run(self, recursive: bool, sink: queue.Queue) -> None:
        import watchfiles

        for changes in watchfiles.watch(
            *self.paths,
            stop_event=self._stop,
            debounce=50,
            step=20,
            recursive=recursive,
            raise_interrupt=False,
            ignore_permission_denied=True,
        ):
            for _, path in changes:
                sink.put(Path(path))

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)


class WatchLoop:
    def __init__(
        self,
        config_path: Path,
        actions: WatchActions,
        *,
        emit: EventSink,
        drift_interval: float = DEFAULT_DRIFT_INTERVAL_S,
        quiet_s: float = DEFAULT_QUIET_S,
        stop: threading.Event | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.actions = actions
        self.emit = emit
        self.drift_interval = drift_interval
        self.stop = stop or threading.Event()
        self.clock = clock
        self.debouncer = Debouncer(quiet_s=quiet_s, clock=clock)
        self.changes: queue.Queue[Path] = queue.Queue()
        self.config = actions.load(config_path)
        self.config_path = Path(self.config.source)
        self._watchers: list[_FileWatcher] = []
        self.backoff: dict[str, tuple[int, float]] = {}  # container -> (repairs in a row, no repair before)

    def run(self) -> None:
        """Until `stop` is set (or Ctrl-C, which propagates after the watchers stopped)."""
        project = self.config.project.name
        self.emit(Event(event="watch_started", project=project, message=f"watching {self.config_path}"))
        try:
            self._restart_watchers()
            self._act([])
            next_drift = self.clock() + self.drift_interval
            while not self.stop.is_set():
                wait = min(
                    self.debouncer.wait_s() if self.debouncer.pending else math.inf,
                    max(0.0, next_drift - self.clock()),
                    0.5,
                )
                self._collect(wait)
                due = self.debouncer.take()
                if self.clock() >= next_drift:
                    due = due or [Trigger("drift")]
                    next_drift = self.clock() + self.drift_interval
                if due:
                    self._act(due)
        finally:
            for watcher in self._watchers:
                watcher.stop()

    def _collect(self, wait: float) -> None:
        try:
            path = self.changes.get(timeout=wait)
        except queue.Empty:
            return
        while True:
            for trigger in self.triggers_for(path):
                self.debouncer.add(trigger)
            try:
                path = self.changes.get_nowait()
            except queue.Empty:
                return

    def triggers_for(self, path: Path) -> list[Trigger]:
        """What a changed path means under the current config (pure given the config)."""
        if is_editor_temp(path):
            return []
        if path == self.config_path:
            return [Trigger("config", path=path.name)]
        if path in self._env_files():  # env_file values are part of the config: re-load it
            return [Trigger("config", path=path.name)]
        found = []
        for name, container in self.config.containers.items():
            for rule in container.watch:
                root = Path(rule.path)
                inside = path == root or root in path.parents
                if inside and not ignored(path, root, rule.ignore):
                    shown = (
                        path.relative_to(self.config.base_dir)
                        if self.config.base_dir in path.parents
                        else path
                    )
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
            _FileWatcher(flat, False, self.changes).start(),
            _FileWatcher(deep, True, self.changes).start(),
        ]

    def _env_files(self) -> set[Path]:
        return {Path(path) for c in self.config.containers.values() for path in getattr(c, "env_file", ())}

    def _act(self, due: list[Trigger]) -> None:
        project = self.config.project.name
        files = [t for t in due if t.reason != "drift"]
        if files:
            self.emit(
                Event(
                    event="watch_triggered",
                    project=project,
                    message="; ".join(t.describe() for t in files),
                    data={"reasons": [t.describe() for t in files]},
                )
            )
        if any(t.reason == "config" for t in due):
            self._reload()
        rebuild = {
            ResourceKey("container", t.container): f"watch: {t.path} changed (rebuild)"
            for t in due
            if t.reason == "rebuild" and t.container in self.config.containers
        }
        everything = not due or any(t.reason == "config" for t in due)  # the first apply or a config edit
        edited = {t.container for t in due if t.container} | (
            set(self.config.containers) if everything else set()
        )
        for name in edited:  # the user changed something: repair at once again
            self.backoff.pop(name, None)
        now = self.clock()
        hold = frozenset(ResourceKey("container", n) for n, (_, at) in self.backoff.items() if at > now)
        outcome = None
        try:
            outcome = self.actions.apply(
                self.config,
                emit=self._emit_filtered,
                force_replace=rebuild,
                options={key: {"rebuild": True} for key in rebuild},
                hold=hold,
            )
        except ProjectTakenDown as error:  # `gefyra down` of this project: do not bring it back
            self.emit(Event(event="watch_ended", project=project, message=error.message))
            self.stop.set()
            return
        except Exception as error:  # noqa: BLE001 - watch keeps running whatever broke (engine restart, ...)
            self.emit(Event(event="watch_error", project=project, message="apply failed", error=_why(error)))
        renewed = set()
        if outcome is not None and outcome.result is not None:
            renewed = {
                step.split(":", 1)[1] for step in outcome.result.succeeded if step.startswith("create:")
            }
        if outcome is not None:
            self._track_repairs(outcome, edited, {key.name for key in hold})
        for name in sorted({t.container for t in due if t.reason == "restart"}):
            if f"container/{name}" in renewed or name not in self.config.containers:
                continue  # just (re)created: already runs the new files
            try:
                self.actions.restart(self.config, name)
                self.emit(
                    Event(event="log", project=project, address=f"container/{name}", message="restarted")
                )
            except Exception as error:  # noqa: BLE001 - as above
                self.emit(
                    Event(
                        event="watch_error",
                        project=project,
                        message=f"restart of {name} failed",
                        error=_why(error),
                    )
                )

    def _track_repairs(self, outcome: Any, edited: set[str], held: set[str]) -> None:
        """Exponential backoff per container the drift tick had to (re)create: a container that keeps exiting
        is not recreated every tick. One that needed no repair this time starts over."""
        result = outcome.result
        steps = (*result.succeeded, *getattr(result, "failed", {})) if result is not None else ()
        repaired = {s.split("/", 1)[1] for s in steps if s.startswith("create:container/")} - edited
        for name in set(self.backoff) - repaired - held:
            del self.backoff[name]
        for name in sorted(repaired):
            count = self.backoff.get(name, (0, 0.0))[0] + 1
            delay = min(BACKOFF_BASE_S * 2 ** (count - 1), BACKOFF_MAX_S)
            self.backoff[name] = (count, self.clock() + delay)
            if count > 1:
                self.emit(
                    Event(
                        event="log",
                        project=self.config.project.name,
                        address=f"container/{name}",
                        message=f"keeps stopping (repaired {count} times in a row); "
                        f"next repair not before {delay:g}s",
                    )
                )

    def _reload(self) -> None:
        try:
            config = self.actions.load(self.config_path)
        except ConfigError as error:
            self.emit(
                Event(
                    event="watch_error",
                    project=self.config.project.name,
                    message="gefyra.yaml is invalid; keeping the last good state",
                    error=error.message,
                )
            )
            return
        if config.project.name != self.config.project.name:
            self.emit(
                Event(
                    event="watch_error",
                    project=self.config.project.name,
                    message="project.name changed; restart watch to switch projects",
                    error=f"{self.config.project.name} -> {config.project.name}",
                )
            )
            return
        self.config = config
        self._restart_watchers()

    def _emit_filtered(self, event: Event) -> None:
        """Without changes an apply is silent (drift ticks would otherwise print a plan every few seconds)."""
        if event.event == "plan" and not event.data.get("has_changes"):
            return
        self.emit(event)


def _why(error: Exception) -> str:
    return error.message if isinstance(error, GefyraError) else f"{type(error).__name__}: {error}"
