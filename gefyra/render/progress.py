"""Event renderers: plain lines (tty or not), NDJSON (`-o json`), or quiet."""

from __future__ import annotations

from collections.abc import Callable

from gefyra.apply.events import Event
from gefyra.render.console import Console

_VERBS = {
    ("create", "create"): ("creating", "created"),
    ("create", "replace"): ("recreating", "recreated"),
    ("delete", "replace"): ("removing old", "removed old"),
    ("delete", "delete"): ("removing", "removed"),
    ("update", "update"): ("updating", "updated"),
}


def plain(console: Console) -> Callable[[Event], None]:
    """Human progress on stderr: one line per step start / end, logs, and watch triggers."""

    def show(event: Event) -> None:
        verbs = _VERBS.get((event.op or "", event.action or ""), ("working on", "done with"))
        if event.event == "step_started":
            console.note(f"{event.address}: {verbs[0]}...")
        elif event.event == "step_succeeded":
            console.note(f"{event.address}: {verbs[1]} ({event.duration_s:.1f}s)")
        elif event.event == "step_failed":
            console.note(f"{event.address}: FAILED: {event.error}")
        elif event.event in ("step_skipped", "step_cancelled"):
            console.note(
                f"{event.address}: {event.event.removeprefix('step_')} ({event.message or 'interrupted'})"
            )
        elif event.event == "log":
            console.note(f"{event.address or event.project}: {event.message}")
        elif event.event == "apply_finished":
            data = event.data
            console.note(
                f"Apply finished in {event.duration_s:.1f}s: {data.get('succeeded', 0)} done, "
                f"{data.get('failed', 0)} failed, {data.get('skipped', 0)} skipped, "
                f"{data.get('cancelled', 0)} cancelled."
            )
        elif event.event in ("watch_started", "watch_triggered", "watch_error", "watch_ended"):
            console.note(f"watch: {event.message}" + (f"\n{event.error}" if event.error else ""))

    return show


def jsonl(console: Console) -> Callable[[Event], None]:
    """Every event as one NDJSON line on stdout."""
    return lambda event: console.json_line(event.to_json())


def quiet(console: Console) -> Callable[[Event], None]:
    return lambda event: None
