"""Pod status from what the runtime sees: phase, conditions, containerStatuses with restartCount. Pure."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .runtime import Running

Obj = dict[str, Any]


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _stamp(docker_time: str) -> str:
    """Docker's nanosecond RFC 3339 -> Kubernetes' second precision."""
    return docker_time[:19] + "Z" if docker_time and not docker_time.startswith("0001") else now()


def _state(run: Running) -> Obj:
    state = run.state
    if state.get("Running") or state.get("Restarting"):
        return {"running": {"startedAt": _stamp(state.get("StartedAt", ""))}}
    if state.get("Status") == "created":
        return {"waiting": {"reason": "ContainerCreating"}}
    code = int(state.get("ExitCode", 0))
    return {
        "terminated": {
            "exitCode": code,
            "reason": "OOMKilled" if state.get("OOMKilled") else ("Completed" if code == 0 else "Error"),
            "startedAt": _stamp(state.get("StartedAt", "")),
            "finishedAt": _stamp(state.get("FinishedAt", "")),
            "containerID": f"docker://{run.container.id}",
        }
    }


def container_status(spec: Obj, runs: list[Running], waiting: Obj | None, ready: bool) -> Obj:
    """One entry of containerStatuses; `waiting` overrides the state (CrashLoopBackOff, config errors...)."""
    status: Obj = {
        "name": spec["name"],
        "image": spec["image"],
        "imageID": "",
        "ready": False,
        "started": False,
        "restartCount": runs[0].restarts if runs else 0,
        "state": {},
        "lastState": {},
    }
    if runs:
        current = runs[0]
        status["imageID"] = f"docker://{current.container.attrs.get('Image', '')}"
        status["containerID"] = f"docker://{current.container.id}"
        status["state"] = _state(current)
        if len(runs) > 1:
            status["lastState"] = _state(runs[1])
        status["started"] = "running" in status["state"]
        status["ready"] = ready and status["started"]
    if waiting is not None:
        status["state"] = {"waiting": waiting}
        status["ready"] = status["started"] = False
    if not status["state"]:
        status["state"] = {"waiting": {"reason": "ContainerCreating"}}
    return status


def phase(pod: Obj, statuses: list[Obj], initialized: bool) -> str:
    if not initialized or not statuses:
        return "Pending"
    policy = (pod.get("spec") or {}).get("restartPolicy", "Always")
    states = [s["state"] for s in statuses]
    if any("running" in s for s in states):
        return "Running"
    if all("terminated" in s for s in states) and policy != "Always":
        codes = [s["terminated"]["exitCode"] for s in states]
        if all(c == 0 for c in codes):
            return "Succeeded"
        if policy == "Never":
            return "Failed"
    if any(s.get("waiting", {}).get("reason") == "CrashLoopBackOff" for s in states) or all(
        "terminated" in s for s in states
    ):
        return "Running"  # a restarting Pod stays Running, as on a real node
    return "Pending"


def conditions(old: list[Obj], initialized: bool, ready: bool) -> list[Obj]:
    """PodScheduled, Initialized, ContainersReady, Ready; lastTransitionTime moves only on a flip."""
    previous = {c["type"]: c for c in old or []}
    wanted = {"PodScheduled": True, "Initialized": initialized, "ContainersReady": ready, "Ready": ready}
    result = []
    for kind, value in wanted.items():
        status = "True" if value else "False"
        before = previous.get(kind)
        stamp = before["lastTransitionTime"] if before and before.get("status") == status else now()
        entry = {"type": kind, "status": status, "lastProbeTime": None, "lastTransitionTime": stamp}
        if not value and kind in ("ContainersReady", "Ready"):
            entry["reason"] = "ContainersNotReady"
        result.append(entry)
    return result
