"""Event renderers: plain lines (tty or not), NDJSON (`-o json`), or quiet."""

from __future__ import annotations

from gefyra.apply.events import Event, EventSink
from gefyra.planning.plan import Notice
from gefyra.render.console import Console

_VERBS = {
    ("create", "create"): ("creating", "created"),
    ("create", "replace"): ("recreating", "recreated"),
    ("delete", "replace"): ("removing old", "removed old"),
    ("delete", "delete"): ("removing", "removed"),
    ("update", "update"): ("updating", "updated"),
}
_WATCH = ("watch_started", "watch_ready", "watch_triggered", "watch_error", "watch_ended")


def plain(console: Console) -> EventSink:
    """Human progress on stderr: one line per step start / end, logs, notices and watch triggers."""

    def show(event: Event) -> None:
        line = _line(event)
        if line is not None:
            console.note(line)

    return show


def _line(event: Event) -> str | None:
    verbs = _VERBS.get((event.op or "", event.action or ""), ("working on", "done with"))
    if event.event == "step_started":
        return f"{event.address}: {verbs[0]}..."
    if event.event == "step_succeeded":
        took = f"{event.duration_s:.1f}s" if event.duration_s is not None else event.message
        return f"{event.address}: {verbs[1]} ({took})"
    if event.event == "step_failed":
        return f"{event.address}: FAILED: {event.error}"
    if event.event in ("step_skipped", "step_cancelled"):
        return f"{event.address}: {event.event.removeprefix('step_')} ({event.message or 'interrupted'})"
    if event.event == "log":
        return f"{event.address or event.project}: {event.message}"
    if event.event == "notice":
        return notice_line(event.message)
    if event.event == "apply_finished":
        return _finished(event)
    if event.event in _WATCH:
        return f"watch: {event.message}" + (f"\n{event.error}" if event.error else "")
    return None


def _finished(event: Event) -> str:
    data = event.data
    how = "interrupted after" if data.get("interrupted") else "finished in"
    return (
        f"Apply {how} {event.duration_s or 0:.1f}s: {data.get('succeeded', 0)} done, "
        f"{data.get('failed', 0)} failed, {data.get('skipped', 0)} skipped, "
        f"{data.get('cancelled', 0)} cancelled."
    )


def notice_line(message: str) -> str:
    return f"notice: {message}"


def notices(console: Console, found: tuple[Notice, ...]) -> None:
    """Each notice of a plan as one line on stderr."""
    for notice in found:
        console.note(notice_line(notice.message))


def jsonl(console: Console) -> EventSink:
    """Every event as one NDJSON line on stdout."""
    return lambda event: console.json_line(event.to_json())


def quiet(console: Console) -> EventSink:
    return lambda event: None
