"""A de-duplicating work queue with delayed adds, and the worker loop every controller runs on it."""

from __future__ import annotations

import heapq
import logging
import threading
import time
from collections.abc import Callable, Hashable

log = logging.getLogger(__name__)


class WorkQueue:
    """Keys waiting for a sync. A key is never handed to two workers at once; re-adds while it is being
    processed are remembered and served once the worker is done (like client-go's workqueue).
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._queue: list[Hashable] = []
        self._queued: set[Hashable] = set()
        self._active: set[Hashable] = set()
        self._dirty: set[Hashable] = set()
        self._delayed: list[tuple[float, int, Hashable]] = []
        self._counter = 0
        self._closed = False

    def add(self, key: Hashable) -> None:
        with self._cond:
            if key in self._active:
                self._dirty.add(key)
            elif key not in self._queued:
                self._queued.add(key)
                self._queue.append(key)
                self._cond.notify()

    def add_after(self, key: Hashable, seconds: float) -> None:
        with self._cond:
            self._counter += 1
            heapq.heappush(self._delayed, (time.monotonic() + seconds, self._counter, key))
            self._cond.notify()

    def get(self) -> Hashable | None:
        """The next key (marks it active), or None once the queue is closed."""
        with self._cond:
            while True:
                if self._closed:
                    return None
                now = time.monotonic()
                while self._delayed and self._delayed[0][0] <= now:
                    _, _, key = heapq.heappop(self._delayed)
                    if key not in self._queued and key not in self._active:
                        self._queued.add(key)
                        self._queue.append(key)
                    elif key in self._active:
                        self._dirty.add(key)
                if self._queue:
                    key = self._queue.pop(0)
                    self._queued.discard(key)
                    self._active.add(key)
                    return key
                timeout = self._delayed[0][0] - now if self._delayed else None
                self._cond.wait(timeout)

    def done(self, key: Hashable) -> None:
        with self._cond:
            self._active.discard(key)
            if key in self._dirty:
                self._dirty.discard(key)
                self._queued.add(key)
                self._queue.append(key)
                self._cond.notify()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()


class Workers:
    """A queue plus the threads that drain it; `stop` closes the queue and waits for in-flight syncs."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.queue = WorkQueue()
        self.threads: list[threading.Thread] = []

    def run(self, sync: Callable[[Hashable], None], count: int = 1) -> None:
        self.threads = run_workers(self.name, self.queue, sync, count)

    def stop(self, timeout: float = 10.0) -> None:
        self.queue.close()
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))


def run_workers(
    name: str, queue: WorkQueue, sync: Callable[[Hashable], None], count: int
) -> list[threading.Thread]:
    """Start `count` threads calling `sync(key)`; a failing sync is logged and retried with a delay."""

    def loop() -> None:
        failures: dict[Hashable, int] = {}
        while (key := queue.get()) is not None:
            try:
                sync(key)
                failures.pop(key, None)
            except Exception as error:  # noqa: BLE001 - controllers retry, they never die
                failures[key] = failures.get(key, 0) + 1
                delay = min(0.2 * 2 ** failures[key], 10.0)
                log.warning(
                    "%s: sync %s failed (%s: %s); retry in %.1fs",
                    name,
                    key,
                    type(error).__name__,
                    error,
                    delay,
                    exc_info=failures[key] > 3,
                )
                queue.add_after(key, delay)
            finally:
                queue.done(key)

    threads = [threading.Thread(target=loop, name=f"{name}-{i}", daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    return threads
