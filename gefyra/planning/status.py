"""Status of each resource, derived from a plan and the observation it was made from (pure)."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel

from gefyra.model.resources import Observed, Resource
from gefyra.planning.plan import Action, Plan


class ResourceStatus(BaseModel):
    address: str
    kind: str
    name: str
    state: str  # running | exited | created | present | missing | drifted | not-in-config
    healthy: bool
    detail: str = ""
    docker_name: str | None = None


class StatusReport(BaseModel):
    project: str
    resources: list[ResourceStatus]

    @property
    def healthy(self) -> bool:
        return all(item.healthy for item in self.resources)


def status_of(plan: Plan, actual: Iterable[Resource]) -> StatusReport:
    have = {resource.key: resource for resource in actual}
    items = []
    for change in plan.changes:
        observed = have[change.key].observed if change.key in have else None
        state, healthy, detail = _state(change.action, observed, change.cause)
        items.append(
            ResourceStatus(
                address=str(change.key),
                kind=change.key.kind,
                name=change.key.name,
                state=state,
                healthy=healthy,
                detail=detail,
                docker_name=observed.fact("docker_name") if observed else None,
            )
        )
    return StatusReport(project=plan.project, resources=items)


def _state(action: Action, observed: Observed | None, cause: str) -> tuple[str, bool, str]:
    if action is Action.CREATE:
        return "missing", False, "not present; `gefyra apply` creates it"
    if action is Action.DELETE:
        return "not-in-config", False, "no longer in gefyra.yaml; `gefyra apply` removes it"
    if observed is not None and not observed.healthy:
        return observed.status, False, observed.detail
    if action in (Action.REPLACE, Action.UPDATE):
        return "drifted", False, cause
    return (observed.status if observed else "present"), True, (observed.detail if observed else "")
