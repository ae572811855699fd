"""watchfiles in a daemon thread, feeding changed paths into a queue until stopped.

The thread never sees Ctrl-C (signals go to the main thread; watchfiles checks them there only): the loop
stops it with `stop()`, which waits at most STOP_WAIT_S, and a daemon thread never keeps the process alive.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from pathlib import Path

STOP_WAIT_S = 1.0
STEP_MS = 10  # how often the Rust side looks at the stop event and for new changes
DEBOUNCE_MS = 20  # watchfiles groups changes this close together (the loop's debouncer does the rest)


class FileWatcher:
    """Watches `paths` (recursively or not) and hands each changed path to `sink` (a queue's put)."""

    def __init__(self, paths: Iterable[Path], recursive: bool, sink: Callable[[Path], None]) -> None:
        self.paths = sorted({p for p in paths if p.exists()})
        self._recursive = recursive
        self._sink = sink
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="gefyra-watch-files")

    def start(self) -> FileWatcher:
        if self.paths:
            self._thread.start()
        return self

    def _run(self) -> None:
        import watchfiles

        for changes in watchfiles.watch(
            *self.paths,
            stop_event=self._stop,
            debounce=DEBOUNCE_MS,
            step=STEP_MS,
            recursive=self._recursive,
            raise_interrupt=False,
            ignore_permission_denied=True,
        ):
            for _, path in changes:
                self._sink(Path(path))

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=STOP_WAIT_S)
