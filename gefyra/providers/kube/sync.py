"""`bridges.<name>.sync`: folders of the bridged Pod copied into the local container, kept fresh while the
bridge lives.

Every local container of a project with a `cluster:` section mounts, from its start, a private folder per
path Carrier serves (`$XDG_CONFIG_HOME/gefyra/sync/<project>/<container>/...`, mode 700) read-only at that
path: empty until a bridge syncs into it. So adding or removing a bridge changes no container spec and never
replaces the local container. The bridge's create/update starts a small loop container (Cargo's image in
Cargo's network namespace, `gefyra-<project>.sync-<bridge>`) that rsyncs every path through the tunnel from
Carrier's read-only rsync module: in the background of the bridge (traffic flows without it), every second
until the first copy succeeds (Carrier's daemon listens a moment after the Pod turns Bridged; at most
RETRY_ROUNDS), then every GEFYRA_SYNC_INTERVAL seconds (30), so projected tokens the kubelet rotates follow.
The loop notes its last result in its notes folder; `gefyra status` shows it. A loop that is gone, stopped,
outside the current Cargo's namespace or copying from a Pod that is no longer bridged is drift: the bridge's
update starts it again. Unbridging removes the loop and empties the folder (no stale token stays). What the
last start copies is recorded on the GefyraBridge (annotation `gefyra.dev/sync`).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from gefyra.config import forms
from gefyra.errors import ConfigError, ProviderError
from gefyra.model import labels
from gefyra.model.dataplane_specs import cargo_name
from gefyra.model.resources import Resource
from gefyra.providers.docker.dataplane.images import ensure_images
from gefyra.providers.docker.engine import ContainerCreate, Engine
from gefyra.providers.docker.observe import DockerSnapshot
from gefyra.providers.kube import identity, workloads
from gefyra.providers.kube.boundary import KubeObject

SYNC_KIND = "sync"  # kind label of the loop containers (no kind handler reads them; `down` sweeps them)
MODULES = {forms.DEFAULT_SYNC: "serviceaccount"}  # Carrier's read-only rsync modules, by the path they serve
RSYNC_PORT = 873
INTERVAL_ENV = "GEFYRA_SYNC_INTERVAL"
DEFAULT_INTERVAL_S = 30
RETRY_ROUNDS = 20  # 1 s apart, before the first copy succeeds
NOTE = "sync"  # the loop's note: "<unix time> ok" or "<unix time> failed <path>: <rsync's last line>"
ANNOTATION = "gefyra.dev/sync"  # on the GefyraBridge: {"pod", "paths", "skipped"} of the last start
# rsync's own reason (`@ERROR: access denied ...`) rather than its last line (`error starting ...`)
REASON = '(grep -m 1 @ERROR /tmp/err || tail -n 1 /tmp/err) | tr -d "\\n"'
_SLUG = re.compile(r"[^A-Za-z0-9._-]+")


def loop_name(project: str, bridge: str) -> str:
    """The loop container's Docker name (a dot never occurs in an app container's name)."""
    return f"gefyra-{project}.sync-{bridge}"


def project_root(project: str) -> Path:
    return identity.config_home() / "sync" / project


def folder(project: str, local: str, path: str) -> Path:
    """The local copy of `path` for the local container `local` (a resource name)."""
    return project_root(project) / local / (_SLUG.sub("_", path.strip("/")) or "root")


def check_paths(bridge: str, paths: Iterable[str]) -> None:
    """Every sync path must be one Carrier serves (a ConfigError naming the bridge and path otherwise)."""
    for index, path in enumerate(paths):
        if path.rstrip("/") not in MODULES:
            served = ", ".join(sorted(MODULES))
            raise ConfigError(
                f"bridges.{bridge}.sync[{index}]: Carrier cannot serve {path} (it serves {served})",
                hint="remove the path from sync",
            )


def with_mounts(desired: list[Resource], project: str) -> list[Resource]:
    """`amend` of a project with a cluster: every local container mounts its copy of every path Carrier
    serves read-only at that path (unless gefyra.yaml mounts something there itself), bridged or not, so a
    bridge that starts or stops syncing changes no container. The folders are made here (empty, mode 700):
    Docker needs a mount's source before the container exists."""
    found = []
    for resource in desired:
        if resource.kind == "container":
            current = resource.spec.get("mounts")
            have = list(current) if isinstance(current, list) else []
            taken = {m.get("target") for m in have if isinstance(m, dict)}
            added: list[object] = []
            for path in sorted(MODULES):
                if path not in taken:
                    source = folder(project, resource.name, path)
                    source.mkdir(mode=0o700, parents=True, exist_ok=True)
                    added.append({"source": str(source), "target": path, "read_only": True})
            if added:
                resource = resource.evolve(spec={**resource.spec, "mounts": have + added})
        found.append(resource)
    return found


@dataclass(frozen=True)
class Source:
    """Where the copies come from: one bridged Pod (the first by name) and the paths it mounts."""

    pod: str
    ip: str
    paths: tuple[str, ...]  # the sync paths this Pod's container mounts (the others are skipped)
    skipped: tuple[str, ...]


def source(pod: KubeObject, container: str, paths: Iterable[str]) -> Source:
    """The sync paths the bridged container mounts (a Pod without a service-account token has none)."""
    mounts = workloads.pod_container(pod, container).get("volumeMounts")
    listed = [m for m in mounts if isinstance(m, Mapping)] if isinstance(mounts, list) else []
    mounted = {str(m.get("mountPath", "")).rstrip("/") for m in listed}
    wanted = [p.rstrip("/") for p in paths]
    return Source(
        pod=pod.name,
        ip=str(pod.status.get("podIP") or ""),
        paths=tuple(p for p in wanted if p in mounted),
        skipped=tuple(p for p in wanted if p not in mounted),
    )


def interval() -> int:
    raw = os.environ.get(INTERVAL_ENV, "").strip()
    if not raw:
        return DEFAULT_INTERVAL_S
    if not raw.isdigit() or not 1 <= int(raw) <= 3600:
        raise ProviderError(f"{INTERVAL_ENV}={raw!r} is not a number of seconds from 1 to 3600")
    return int(raw)


def loop_script(ip: str, paths: Iterable[str], every: int) -> str:
    """The loop's shell text: rsync every path into /sync/<i>/, note the result, sleep 1 s until the first
    round that succeeds (at most RETRY_ROUNDS times), then `every` s. Only validated values go in (an IP
    address, module names of MODULES, numbers), each quoted."""
    steps = []
    for index, path in enumerate(paths):
        url = shlex.quote(f"rsync://{ip}:{RSYNC_PORT}/{MODULES[path]}/")
        where = shlex.quote(path)
        steps.append(
            f"rsync -a --delete --timeout=20 {url} /sync/{index}/ 2>/tmp/err"
            f' || result="failed {where}: $( {REASON})"'  # "$( (": not arithmetic
        )
    note = f"{labels.NOTES_FOLDER}/{NOTE}"
    pause = (
        '[ "$result" = ok ] && tries=0; '
        f'if [ "$tries" -gt 0 ]; then tries=$((tries - 1)); sleep 1; else sleep {int(every)}; fi'
    )
    body = "; ".join(
        ["result=ok", *steps, f'echo "$(date +%s) $result" >{note}.tmp', f"mv {note}.tmp {note}", pause]
    )
    return f"tries={RETRY_ROUNDS}; while :; do {body}; done"


def loop_spec(found: Source, cargo_id: str, local: str) -> dict[str, object]:
    return {"pod": found.pod, "ip": found.ip, "paths": list(found.paths), "cargo": cargo_id, "local": local}


def record(found: Source) -> str:
    """The bridge's ANNOTATION value: what the last start copies (or skipped)."""
    return json.dumps({"pod": found.pod, "paths": list(found.paths), "skipped": list(found.skipped)})


def start(engine: Engine, project: str, bridge: str, local: str, found: Source) -> None:
    """(Re)start the loop of `bridge`, which copies into the folders of the local container `local` in the
    background (the bridge carries traffic without the copy; the loop notes how it went). Nothing to copy:
    no loop, and the folders are emptied."""
    stop(engine, project, bridge, local, keep_copies=bool(found.paths))
    if not found.paths:
        return
    cargo = engine.find_container(cargo_name(project))
    if cargo is None or not cargo.state.running:
        raise ProviderError(f"Cargo {cargo_name(project)} is not running: the sync copies through its tunnel")
    run_loop(engine, project, bridge, local, found, cargo.id)


def run_loop(engine: Engine, project: str, bridge: str, local: str, found: Source, cargo_id: str) -> None:
    """Create and start the loop container of `bridge` in the network namespace of Cargo `cargo_id`."""
    binds = [f"{folder(project, local, p)}:/sync/{i}:rw" for i, p in enumerate(found.paths)]
    engine.start(
        engine.create_container(
            ContainerCreate(
                image=ensure_images(engine, ["cargo"])["cargo"],
                name=loop_name(project, bridge),
                entrypoint=["sh", "-c", loop_script(found.ip, found.paths, interval())],
                network_mode=f"container:{cargo_id}",
                binds=binds,
                labels={
                    labels.PROJECT: project,
                    labels.KIND: SYNC_KIND,
                    labels.NAME: bridge,
                    labels.NOTES: "true",
                    labels.SPEC: json.dumps(loop_spec(found, cargo_id, local), sort_keys=True),
                },
                healthcheck_off=True,  # the image's health check is Cargo's
            )
        )
    )


def follow_cargo(engine: Engine, project: str, cargo_id: str) -> list[str]:
    """After Cargo was (re)created: move every sync loop of the project into its network namespace (the
    old one went with the old Cargo), from what each loop's label records. Returns the bridges moved."""
    moved = []
    for row in engine.containers(labels=[labels.project_filter(project), f"{labels.KIND}={SYNC_KIND}"]):
        try:
            spec = json.loads(row.labels.get(labels.SPEC, "{}"))
        except ValueError:
            spec = {}
        if not isinstance(spec, dict) or spec.get("cargo") == cargo_id and row.state == "running":
            continue
        paths = tuple(str(p) for p in spec.get("paths") or [] if str(p) in MODULES)
        found = Source(pod=str(spec.get("pod", "")), ip=str(spec.get("ip", "")), paths=paths, skipped=())
        engine.remove_container(row.id)
        local = str(spec.get("local") or row.resource_name)
        if found.paths and found.ip:
            run_loop(engine, project, row.resource_name, local, found, cargo_id)
            moved.append(row.resource_name)
    return moved


def stop(engine: Engine, project: str, bridge: str, local: str, *, keep_copies: bool) -> None:
    """Remove the loop of `bridge`; unless `keep_copies`, empty the copies of the local container `local`
    (their contents only: the running container mounts the folders themselves)."""
    found = engine.find_container(loop_name(project, bridge))
    if found is not None:
        if found.labels.get(labels.PROJECT) != project:
            raise ProviderError(f"container {found.name} exists but was not made by gefyra for {project}")
        engine.remove_container(found.id)
    if not keep_copies:
        for path in MODULES:
            empty(folder(project, local, path))


def empty(where: Path) -> None:
    """Remove what `where` holds, keeping the folder (a symlink in its place is left alone)."""
    if where.is_symlink() or not where.is_dir():
        return
    for item in where.iterdir():
        if item.is_dir() and not item.is_symlink():
            shutil.rmtree(item)
        else:
            item.unlink()


def forget(project: str) -> None:
    """`down`: every local copy of the project goes."""
    root = project_root(project)
    if root.is_dir() and not root.is_symlink():
        shutil.rmtree(root)


def loop_state(
    docker: DockerSnapshot, project: str, bridge: str, recorded: str | None, bridged: list[str]
) -> tuple[str, list[str]]:
    """(words for `gefyra status`, drift) of a bridge's sync. `recorded`: the bridge's ANNOTATION (None:
    never synced), `bridged`: the names of the Pods bridged now."""
    try:
        last = json.loads(recorded) if recorded else None
    except ValueError:
        last = None
    if not isinstance(last, Mapping):
        return "", ["not synced yet"]
    if last.get("pod") not in bridged:
        return "", [f"its sync copies from Pod {last.get('pod')}, which is not bridged"]
    if not last.get("paths"):
        return (
            f"nothing to sync (Pod {last.get('pod')} mounts none of {', '.join(last.get('skipped') or [])})",
            [],
        )
    row = next((c for c in docker.containers if c.name == loop_name(project, bridge)), None)
    cargo = next((c for c in docker.containers if c.name == cargo_name(project)), None)
    if row is None:
        return "", ["its sync is not running"]
    if row.state != "running":
        return "", [f"its sync is {row.state}"]
    if cargo is None or row.network_mode != f"container:{cargo.id}":
        return "", ["its sync is outside Cargo's network namespace"]
    words = note_words(docker.notes.get(row.id, {}).get(NOTE, ""), time.time())
    return words or "sync: first copy under way", []


def note_words(note: str, now: float) -> str:
    """'synced 12s ago' / 'sync failing: <why>' from the loop's note ('' before its first round)."""
    parts = note.strip().split(" ", 2)
    if len(parts) < 2 or not parts[0].isdigit():
        return ""
    if parts[1] == "ok":
        return f"synced {max(int(now) - int(parts[0]), 0)}s ago"
    return f"sync failing: {parts[2] if len(parts) > 2 else 'unknown'}"
