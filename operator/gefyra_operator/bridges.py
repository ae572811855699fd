"""GefyraBridge: swap one container's image of every Pod of the target for Carrier (and back, exactly).

State lives in the world: the original image is in a Pod annotation (written in the same patch as Carrier's
image) and in the bridge's status; routes at Stowaway are found again by their stable names. Any step can be
repeated; the timer runs the same reconcile to bridge Pods created later and to repair drift.
"""

from __future__ import annotations

import logging
from typing import Any

import kopf
from pydantic import ValidationError

from gefyra.cluster import bridged, names
from gefyra.cluster.crds import BridgedPod, GefyraBridgeSpec, GefyraClientSpec, RoutePort
from gefyra.dataplane.models import ProxyRoute
from gefyra_operator import carrier, kube, reconcile, stowaway
from gefyra_operator.reconcile import Problem
from gefyra_operator.settings import Settings

log = logging.getLogger(__name__)
Obj = dict[str, Any]


class Blocked(Exception):
    """The bridge cannot proceed as specified: a Problem for its status (never a crash loop)."""

    def __init__(self, problem: Problem, phase: str = "Failed") -> None:
        super().__init__(problem.message)
        self.problem, self.phase = problem, phase


def reconcile_bridge(settings: Settings, body: Obj) -> Obj:
    """Bring the target's Pods in line with the bridge; returns the status to write."""
    meta, old = body["metadata"], dict(body.get("status") or {})
    key = reconcile.bridge_key(meta["namespace"], meta["name"])
    conditions = old.get("conditions") or []
    try:
        status = _reconcile(settings, body, key)
    except Blocked as blocked:
        if blocked.phase == "Failed":
            restore_pods(key, (body.get("spec") or {}).get("namespace"))
        problem = blocked.problem
        return {
            "phase": blocked.phase,
            "conditions": reconcile.set_condition(
                conditions, "Ready", False, problem.reason, problem.message
            ),
            "observedGeneration": meta.get("generation"),
        }
    done = [p for p in status["pods"] if p["state"] == "Bridged"]
    failed = [p for p in status["pods"] if p["state"] == "Failed"]
    if failed:
        reason, message = "PodsNotBridged", "; ".join(f"{p['name']}: {p['reason']}" for p in failed)
    elif done:
        reason, message = "Bridged", f"{len(done)} Pod(s) bridged"
    else:
        reason, message = "NoPods", "the target has no running Pod yet"
    status["phase"] = "Active" if done else ("Failed" if failed else "Pending")
    status["conditions"] = reconcile.set_condition(
        conditions, "Ready", bool(done) and not failed, reason, message
    )
    status["observedGeneration"] = meta.get("generation")
    return status


def _reconcile(settings: Settings, body: Obj, key: str) -> Obj:
    meta, previous = body["metadata"], body.get("status") or {}
    try:
        spec = GefyraBridgeSpec.model_validate(body.get("spec") or {})
    except ValidationError as error:
        raise Blocked(Problem(reason="InvalidSpec", message=str(error).replace("\n", " "))) from None
    client_spec, tunnel_address = _client(meta["namespace"], spec.client)
    problem = reconcile.local_ip_problem(spec.local_ip, client_spec.routed_subnets, spec.client)
    if problem:
        raise Blocked(problem)
    pods, pod_spec = _target(spec)
    container, problem = reconcile.find_container(pod_spec, spec.container, spec.target)
    if problem or container is None:
        raise Blocked(problem or Problem(reason="ContainerMissing", message=spec.target))
    problem = reconcile.carrier_problem(pod_spec, container, spec.target)
    if problem:
        raise Blocked(problem)
    ports, problem = reconcile.bridge_ports(spec, container, spec.target)
    problem = problem or reconcile.probe_problem(container, ports, spec.target)
    if problem:
        raise Blocked(problem)
    _check_conflicts(meta, spec)
    stowaway_ip = stowaway.pod_ip(settings.namespace)
    if stowaway_ip is None:
        raise Blocked(Problem(reason="StowawayNotReady", message="no running Stowaway Pod"), phase="Pending")
    if tunnel_address is None:
        message = f"GefyraClient {spec.client} has no tunnel address yet"
        raise Blocked(Problem(reason="ClientNotReady", message=message), phase="Pending")
    before = {r["route"]: r["listenPort"] for r in previous.get("routes") or []}
    routes = _ensure_routes(settings, meta, spec, ports, before)
    # The guard first: a Carrier never serves its rsync module while any peer could reach it.
    _ensure_guard(settings, meta, _guarded_ips(pods, container["name"], key), tunnel_address)
    states = [_bridge_pod(settings, pod, container["name"], key) for pod in pods]
    old = previous.get("stowawayAddress")
    if old and old != stowaway_ip:  # Carriers proxy to Stowaway's Pod IP: tell them to fetch again
        carrier.reload([p.get("status", {}).get("podIP") for p in pods], settings.carrier_control_port)
    return {
        "container": container["name"],
        "routes": [r.model_dump() for r in routes],
        "pods": [s.model_dump() for s in states],
        "stowawayAddress": stowaway_ip,
    }


def _client(namespace: str, name: str) -> tuple[GefyraClientSpec, str | None]:
    """The client's spec and its tunnel address (None until its peer is provisioned)."""
    client = kube.get(kube.custom(namespace, names.CLIENT_PLURAL, name))
    if client is None or reconcile.is_terminating(client):
        raise Blocked(
            Problem(reason="ClientMissing", message=f"GefyraClient {namespace}/{name} does not exist")
        )
    try:
        spec = GefyraClientSpec.model_validate(client.get("spec") or {})
    except ValidationError:
        raise Blocked(
            Problem(reason="ClientInvalid", message=f"GefyraClient {name} has an invalid spec")
        ) from None
    return spec, (client.get("status") or {}).get("tunnelAddress")


def _check_conflicts(meta: Obj, spec: GefyraBridgeSpec) -> None:
    """Two bridges on one container: the older one keeps it (ties: the smaller name); a failed one holds
    nothing."""
    mine = (meta.get("creationTimestamp") or "", meta["name"])
    for other in kube.items(kube.custom(meta["namespace"], names.BRIDGE_PLURAL)):
        other_meta, other_spec = other["metadata"], other.get("spec") or {}
        failed = (other.get("status") or {}).get("phase") == "Failed"
        if other_meta["name"] == meta["name"] or reconcile.is_terminating(other) or failed:
            continue
        same = (other_spec.get("namespace"), other_spec.get("target")) == (spec.namespace, spec.target)
        overlapping = other_spec.get("container") == spec.container or None in (
            other_spec.get("container"),
            spec.container,
        )
        if same and overlapping and (other_meta.get("creationTimestamp") or "", other_meta["name"]) < mine:
            raise Blocked(
                Problem(
                    reason="AlreadyBridged",
                    message=f"{spec.target} in {spec.namespace} (container {spec.container or 'default'}) is "
                    f"bridged by {other_meta['namespace']}/{other_meta['name']}",
                )
            )


def _target(spec: GefyraBridgeSpec) -> tuple[list[Obj], Obj]:
    """The target's live Pods and the Pod spec to check (the workload's template, or the Pod's own)."""
    kind, name = spec.kind_and_name()
    missing = Problem(
        reason="TargetMissing", message=f"{spec.target} not found in namespace {spec.namespace}"
    )
    if kind == "pod":
        pod = kube.get(kube.core(spec.namespace, "pods", name))
        if pod is None or reconcile.is_terminating(pod):
            raise Blocked(missing, phase="Pending")
        return [pod], pod["spec"]
    workload = kube.get(kube.apps(spec.namespace, f"{kind}s", name))
    if workload is None:
        raise Blocked(missing, phase="Pending")
    selector = reconcile.workload_selector(workload)
    if selector is None:
        raise Blocked(Problem(reason="TargetInvalid", message=f"{spec.target} has no Pod selector"))
    pods = kube.items(kube.core(spec.namespace, "pods"), labelSelector=selector)
    live = [p for p in pods if not reconcile.is_terminating(p) and _owned_by(p, workload)]
    return sorted(live, key=lambda p: p["metadata"]["name"]), workload["spec"]["template"]["spec"]


def _owned_by(pod: Obj, workload: Obj) -> bool:
    """A StatefulSet owns its Pods directly; a Deployment through a ReplicaSet named `<deploy>-<hash>`."""
    name = workload["metadata"]["name"]
    for ref in (pod.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("uid") == workload["metadata"].get("uid"):
            return True
        if ref.get("kind") == "ReplicaSet" and workload.get("kind", "Deployment") == "Deployment":
            if ref.get("name", "").rsplit("-", 1)[0] == name:
                return True
    return False


def _ensure_routes(
    settings: Settings, meta: Obj, spec: GefyraBridgeSpec, ports: dict[int, int], before: dict[str, int]
) -> list[RoutePort]:
    """One Stowaway route per port (PUT is idempotent; a new Stowaway gets them back on the ports they had);
    routes of ports the bridge no longer has are removed."""
    api = stowaway.client(settings)
    try:
        existing = {r.name: r.listen_port for r in api.routes()}
        routes = reconcile.plan_routes(
            meta["namespace"], meta["name"], ports, existing, existing.values(), previous=before
        )
        for route in routes:
            api.put_route(
                ProxyRoute(
                    name=route.route,
                    listen_port=route.listen_port,
                    target_host=spec.local_ip,
                    target_port=route.local_port,
                )
            )
        prefix = reconcile.guard_name(meta["namespace"], meta["name"]) + "-"
        for name in set(existing) - {r.route for r in routes}:
            if name.startswith(prefix):
                api.delete_route(name)
    except stowaway.StowawayError as error:
        raise kopf.TemporaryError(f"Stowaway: {error}", delay=3) from None
    except ValueError as error:
        raise Blocked(Problem(reason="NoProxyPort", message=str(error))) from None
    return routes


def _guarded_ips(pods: list[Obj], container: str, key: str) -> list[str]:
    """Pod IPs whose Carrier this bridge runs or will run (not those another bridge holds)."""
    ips = []
    for pod in pods:
        record = bridged.bridged_record(pod, container)
        ip = (pod.get("status") or {}).get("podIP")
        if ip and (record is None or record.get("bridge") == key):
            ips.append(str(ip))
    return sorted(ips)


def _ensure_guard(settings: Settings, meta: Obj, pod_ips: list[str], tunnel_address: str) -> None:
    """Only this bridge's client reaches Carrier's rsync daemon (the Pod's service-account token) through
    the tunnel; Carrier itself admits Stowaway's address only (see carrier.rsync_directive)."""
    guard = stowaway.Guard(
        name=reconcile.guard_name(meta["namespace"], meta["name"]),
        port=names.CARRIER_RSYNC_PORT,
        destinations=pod_ips,
        sources=[tunnel_address],
    )
    try:
        stowaway.client(settings).put_guard(guard)
    except stowaway.StowawayError as error:
        raise kopf.TemporaryError(f"Stowaway: {error}", delay=3) from None


def _bridge_pod(settings: Settings, pod: Obj, container: str, key: str) -> BridgedPod:
    meta = pod["metadata"]
    base = {"name": meta["name"], "uid": meta["uid"], "container": container}
    record = bridged.bridged_record(pod, container)
    if record is not None and record.get("bridge") != key:
        reason = f"container {container} is bridged by {record.get('bridge')}"
        return BridgedPod(**base, state="Failed", reason=reason)
    problem = reconcile.carrier_problem(pod["spec"], _container(pod, container), f"pod/{meta['name']}")
    if record is None and problem:
        return BridgedPod(**base, state="Failed", reason=problem.message)
    original = record["originalImage"] if record else bridged.current_image(pod, container)
    if original is None:
        return BridgedPod(**base, state="Failed", reason=f"container {container} has no image")
    if bridged.current_image(pod, container) != settings.carrier_image or record is None:
        patch = bridged.bridge_patch(container, original, settings.carrier_image, key)
        # The resourceVersion makes the patch conditional: the image recorded is the image replaced.
        patch["metadata"]["resourceVersion"] = meta["resourceVersion"]
        try:
            kube.patch(kube.core(meta["namespace"], "pods", meta["name"]), patch, "strategic")
        except kube.KubeError as error:
            if error.status in (404, 409):
                return BridgedPod(
                    **base, original_image=original, state="Pending", reason="changed meanwhile"
                )
            raise
        log.info("bridged %s/%s container %s (was %s)", meta["namespace"], meta["name"], container, original)
    return BridgedPod(**base, original_image=original, state="Bridged")


def _container(pod: Obj, name: str) -> Obj:
    return next((c for c in pod["spec"].get("containers") or [] if c["name"] == name), {"name": name})


def restore_pods(key: str, namespace: str | None) -> int:
    """Give every Pod this bridge swapped its original image back (annotation removed); returns how many."""
    if not namespace:
        return 0
    restored = 0
    for pod in kube.items(kube.core(namespace, "pods")):
        for container, image in bridged.bridged_containers(pod, key).items():
            try:
                kube.patch(
                    kube.core(namespace, "pods", pod["metadata"]["name"]),
                    bridged.restore_patch(container, image),
                    "strategic",
                )
            except kube.KubeError as error:
                if error.status != 404:
                    raise
                continue
            restored += 1
            log.info(
                "restored %s/%s container %s to %s", namespace, pod["metadata"]["name"], container, image
            )
    return restored


RESTART_WAIT_RETRIES = 60  # about a minute: a kubelet that never restarts the container must not block us


def remove_bridge(settings: Settings, body: Obj, retry: int = 0) -> None:
    """Restore every Pod and wait until none runs Carrier any more (for a while), then drop the guard and the
    routes at Stowaway (best effort: a gone Stowaway has none)."""
    meta = body["metadata"]
    key = reconcile.bridge_key(meta["namespace"], meta["name"])
    namespace = (body.get("spec") or {}).get("namespace")
    restore_pods(key, namespace)
    waiting = _still_carrier(settings, namespace, (body.get("status") or {}).get("pods") or [])
    if waiting and retry < RESTART_WAIT_RETRIES:
        raise kopf.TemporaryError(f"waiting for {', '.join(waiting)} to run their own image again", delay=1)
    if waiting:
        log.warning("bridge %s: %s still run Carrier; removing its guard anyway", key, ", ".join(waiting))
    prefix = reconcile.guard_name(meta["namespace"], meta["name"])
    try:
        api = stowaway.client(settings)
        api.delete_guard(prefix)
        for route in api.routes():
            if route.name.startswith(prefix + "-"):
                api.delete_route(route.name)
    except (stowaway.StowawayError, kube.KubeError) as error:
        log.warning("routes of bridge %s not removed at Stowaway: %s", key, error)


def _still_carrier(settings: Settings, namespace: str | None, pods: list[Obj]) -> list[str]:
    """Names of the bridge's Pods whose container still runs Carrier (the kubelet has not restarted it)."""
    if not namespace:
        return []
    waiting = []
    for item in pods:
        pod = kube.get(kube.core(namespace, "pods", item["name"]))
        if pod is None or reconcile.is_terminating(pod) or pod["metadata"].get("uid") != item.get("uid"):
            continue
        container = item.get("container") or ""
        if bridged.current_image(pod, container) == settings.carrier_image:
            continue  # not restored by this bridge: another one holds it
        for status in (pod.get("status") or {}).get("containerStatuses") or []:
            if status.get("name") == container and status.get("image") == settings.carrier_image:
                waiting.append(item["name"])
    return waiting
