"""The planner: desired + actual -> Plan. Pure (no I/O), deterministic (dependency order, then key text).

Rules, in order, per desired resource:
  missing                              -> create
  forced (watch rebuild, ...)          -> replace, the given cause
  actual not healthy (stopped by hand) -> replace, the provider's why
  a depends_on is created or replaced  -> replace ("network/default is recreated")
  spec hash differs                    -> replace, naming the fields that differ
  only mutable fields differ           -> update
  observed drift (Observed.drift)      -> update, the provider's facts as the cause
  otherwise                            -> unchanged
Actual resources nobody desires -> delete.

Steps: deletes in reverse dependency order (read from the actual resources, so `down` works without
gefyra.yaml); every create waits for all delete_first deletes (frees names, ports and subnets); creates follow
dependencies.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from gefyra.errors import PlanError
from gefyra.model.resources import Resource, ResourceKey
from gefyra.planning.diff import diff_specs
from gefyra.planning.graph import topo_order
from gefyra.planning.plan import Action, Change, FieldDiff, Notice, Plan, Step, StepOptions

_MAX_NAMED_FIELDS = 4


def plan(
    project: str,
    desired: Sequence[Resource],
    actual: Sequence[Resource],
    *,
    force_replace: Mapping[ResourceKey, str] | None = None,
    options: Mapping[ResourceKey, StepOptions] | None = None,
    notices: Sequence[Notice] = (),
) -> Plan:
    """Compare desired with actual. `force_replace` maps keys to a cause; `options` are handed to their
    steps; `notices` travel with the plan."""
    force_replace = force_replace or {}
    options = options or {}
    wanted = _index_desired(desired)
    present, duplicates = _index_actual(actual)
    order = topo_order(wanted, {key: res.depends_on + res.after for key, res in wanted.items()})

    changes: dict[ResourceKey, Change] = {}
    renewed: set[ResourceKey] = set()
    for key in order:
        change = _decide(wanted[key], present.get(key), force_replace.get(key), renewed)
        change = change.model_copy(update={"summary": wanted[key].summary})
        if change.action in (Action.CREATE, Action.REPLACE):
            renewed.add(key)
        changes[key] = change
    gone = [key for key in present if key not in wanted]
    for key in gone:
        summary = present[key].summary
        changes[key] = Change(key=key, action=Action.DELETE, cause="not in gefyra.yaml", summary=summary)

    steps = _steps(wanted, present, duplicates, changes, options)
    display = topo_order(list(changes), _display_edges(wanted, present))
    extra = tuple(
        Change(key=resource.key, action=Action.DELETE, cause="another copy with the same labels")
        for resource in duplicates
    )
    return Plan(
        project=project,
        changes=tuple(changes[key] for key in display) + extra,
        steps=steps,
        notices=tuple(notices),
    )


def _index_desired(desired: Iterable[Resource]) -> dict[ResourceKey, Resource]:
    wanted: dict[ResourceKey, Resource] = {}
    for resource in desired:
        if resource.key in wanted:
            raise PlanError(f"{resource.key} is desired twice")
        wanted[resource.key] = resource
    for resource in wanted.values():
        for dep in resource.depends_on + resource.after:
            if dep not in wanted:
                raise PlanError(f"{resource.key} depends on {dep}, which is not part of the project")
    return wanted


def _index_actual(actual: Iterable[Resource]) -> tuple[dict[ResourceKey, Resource], list[Resource]]:
    """First of each key wins (provider order is sorted); further copies are deleted."""
    present: dict[ResourceKey, Resource] = {}
    duplicates: list[Resource] = []
    for resource in actual:
        (
            duplicates.append(resource)
            if resource.key in present
            else present.__setitem__(resource.key, resource)
        )
    return present, duplicates


def _decide(want: Resource, have: Resource | None, forced: str | None, renewed: set[ResourceKey]) -> Change:
    key = want.key
    if have is None:
        return Change(key=key, action=Action.CREATE, cause="not present")
    diff = tuple(diff_specs(have.spec, want.spec))
    hashed = tuple(item for item in diff if item.path.split(".")[0] not in want.mutable)
    changed = want.spec_hash != have.spec_hash
    # Another reason to replace comes first; the resource's own field diffs are still shown with it.
    shown = hashed if changed else ()
    also = f"; {_cause(hashed)}" if changed and hashed else ""
    if forced:
        return Change(key=key, action=Action.REPLACE, cause=forced + also, diff=shown)
    if have.observed is not None and not have.observed.healthy:
        why = have.observed.detail or have.observed.status
        cause = f"{key.kind} is {have.observed.status}: {why}{also}"
        return Change(key=key, action=Action.REPLACE, cause=cause, diff=shown)
    renewed_deps = [dep for dep in want.depends_on if dep in renewed]
    if renewed_deps:
        cause = f"{renewed_deps[0]} is recreated{also}"
        return Change(key=key, action=Action.REPLACE, cause=cause, diff=shown)
    if changed:
        return Change(key=key, action=Action.REPLACE, cause=_cause(hashed), diff=hashed)
    drift = have.observed.drift if have.observed is not None else ()
    if diff or drift:
        cause = "; ".join(([_cause(diff)] if diff else []) + list(drift))
        return Change(key=key, action=Action.UPDATE, cause=cause, diff=diff)
    return Change(key=key, action=Action.UNCHANGED, cause="up to date")


def _cause(diff: Sequence[FieldDiff]) -> str:
    if not diff:
        return "spec hash differs (no recorded spec to compare)"
    names = [f"{item.path} {item.change}" for item in diff[:_MAX_NAMED_FIELDS]]
    more = len(diff) - _MAX_NAMED_FIELDS
    return ", ".join(names) + (f" and {more} more" if more > 0 else "")


def _steps(
    wanted: Mapping[ResourceKey, Resource],
    present: Mapping[ResourceKey, Resource],
    duplicates: Sequence[Resource],
    changes: Mapping[ResourceKey, Change],
    options: Mapping[ResourceKey, StepOptions],
) -> tuple[Step, ...]:
    steps: dict[str, Step] = {}
    deletes: dict[str, Resource] = {}  # step id -> actual resource
    for key, change in changes.items():
        if change.action is Action.DELETE or (
            change.action is Action.REPLACE and wanted[key].replace_policy == "delete_first"
        ):
            deletes[f"delete:{key}"] = present[key]
    for index, resource in enumerate(duplicates, start=2):
        deletes[f"delete:{resource.key}#{index}"] = resource
    creates = {key for key, change in changes.items() if change.action in (Action.CREATE, Action.REPLACE)}

    first_deletes = tuple(sorted(deletes))
    for step_id, resource in deletes.items():
        after = [other_id for other_id, other in deletes.items() if resource.key in other.depends_on]
        steps[step_id] = Step(
            id=step_id,
            op="delete",
            key=resource.key,
            action=Action.DELETE if "#" in step_id else _action(changes, resource.key),
            depends_on=tuple(sorted(after)),
            resource=resource,
        )
    for key in creates:
        want = wanted[key]
        needs = [f"create:{dep}" for dep in want.depends_on + want.after if dep in creates]
        needs += first_deletes
        steps[f"create:{key}"] = Step(
            id=f"create:{key}",
            op="create",
            key=key,
            action=changes[key].action,
            depends_on=tuple(sorted(set(needs))),
            resource=want,
            options=options.get(key, StepOptions()),
        )
        if changes[key].action is Action.REPLACE and want.replace_policy == "create_first":
            steps[f"delete:{key}"] = Step(
                id=f"delete:{key}",
                op="delete",
                key=key,
                action=Action.REPLACE,
                depends_on=(f"create:{key}",),
                resource=present[key],
            )
    for key, change in changes.items():
        if change.action is Action.UPDATE:
            want = wanted[key]
            needs = sorted(f"create:{dep}" for dep in want.depends_on + want.after if dep in creates)
            steps[f"update:{key}"] = Step(
                id=f"update:{key}",
                op="update",
                key=key,
                action=Action.UPDATE,
                depends_on=tuple(needs),
                resource=want,
                previous=present[key],
                options=options.get(key, StepOptions()),
            )
    order = topo_order(
        steps, {step_id: step.depends_on for step_id, step in steps.items()}, sort_key=_step_sort
    )
    return tuple(steps[step_id] for step_id in order)


def _action(changes: Mapping[ResourceKey, Change], key: ResourceKey) -> Action:
    change = changes.get(key)
    return change.action if change and change.action is Action.REPLACE else Action.DELETE


def _step_sort(step_id: str) -> tuple[int, str]:
    op, _, rest = step_id.partition(":")
    return ({"delete": 0, "update": 1, "create": 2}[op], rest)


def _display_edges(
    wanted: Mapping[ResourceKey, Resource], present: Mapping[ResourceKey, Resource]
) -> dict[ResourceKey, tuple[ResourceKey, ...]]:
    edges: dict[ResourceKey, tuple[ResourceKey, ...]] = {}
    for key in set(wanted) | set(present):
        source = wanted.get(key) or present[key]
        edges[key] = source.depends_on + source.after
    return edges
