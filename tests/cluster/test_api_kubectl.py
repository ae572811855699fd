"""kubectl against the sandbox: apply, get, patch, scale, label, delete, wait and watch of each kind."""

from __future__ import annotations

import json
import subprocess
import time

import pytest

pytestmark = pytest.mark.cluster

MANIFEST = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: web:1
        env: [{name: MODE, value: "%(mode)s"}]
        ports: [{containerPort: 8080}]
      - name: side
        image: side:1
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {mode: "%(mode)s"}
---
apiVersion: v1
kind: Secret
metadata: {name: sec}
stringData: {token: abc}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: robot}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reader}
rules: [{apiGroups: [""], resources: [pods], verbs: [get, list]}]
---
apiVersion: v1
kind: Pod
metadata: {name: solo, labels: {app: solo}}
spec:
  containers: [{name: c, image: busybox:1}]
"""
KINDS = [
    "deployment/web",
    "service/web",
    "configmap/cfg",
    "secret/sec",
    "serviceaccount/robot",
    "role/reader",
    "pod/solo",
]


def _apply(kubectl, namespace, mode):
    return kubectl("apply", "--validate=false", "-n", namespace, "-f", "-", input=MANIFEST % {"mode": mode})


def test_apply_creates_then_is_idempotent_then_configures(kubectl, apps, namespace):
    created = _apply(kubectl, namespace, "a").stdout
    assert created.count(" created") == len(KINDS), created
    again = _apply(kubectl, namespace, "a").stdout
    # stringData is never stored, so kubectl always sends it again: "configured", as on a real cluster
    assert again.count(" unchanged") == len(KINDS) - 1 and "secret/sec configured" in again, again
    changed = _apply(kubectl, namespace, "b").stdout
    assert "deployment.apps/web configured" in changed and "configmap/cfg configured" in changed
    assert "service/web unchanged" in changed
    deployment = apps.read_namespaced_deployment("web", namespace)
    assert [c.name for c in deployment.spec.template.spec.containers] == ["web", "side"]
    assert deployment.spec.template.spec.containers[0].env[0].value == "b"
    assert deployment.metadata.generation == 2


def test_get_every_kind_as_json_and_table(kubectl, namespace):
    _apply(kubectl, namespace, "a")
    for kind in KINDS:
        obj = json.loads(kubectl("get", "-n", namespace, kind, "-o", "json").stdout)
        assert obj["metadata"]["name"] == kind.split("/")[1] and obj["metadata"]["uid"]
    table = kubectl("get", "-n", namespace, "deploy,svc,pods").stdout
    assert "deployment.apps/web" in table and "0/1" in table
    assert "service/web" in table and "NodePort" in table and "80:3" in table
    assert "pod/solo" in table and "Pending" in table
    wide = kubectl("get", "-n", namespace, "pods", "-o", "wide").stdout.splitlines()
    assert wide[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE"]
    assert kubectl("get", "-n", namespace, "cm", "cfg").stdout.split()[:4] == ["NAME", "DATA", "AGE", "cfg"]
    names = kubectl("get", "-n", namespace, "cm", "-o", "name").stdout.split()
    assert names == ["configmap/cfg", "configmap/kube-root-ca.crt"]


def test_patch_strategic_merge_and_json(kubectl, apps, core, namespace):
    _apply(kubectl, namespace, "a")
    kubectl(
        "patch",
        "-n",
        namespace,
        "deployment",
        "web",
        "-p",
        '{"spec":{"template":{"spec":{"containers":[{"name":"side","image":"side:2"}]}}}}',
    )
    containers = apps.read_namespaced_deployment("web", namespace).spec.template.spec.containers
    assert [(c.name, c.image) for c in containers] == [("web", "web:1"), ("side", "side:2")]
    kubectl("patch", "-n", namespace, "configmap", "cfg", "--type=merge", "-p", '{"data":{"extra":"1"}}')
    assert core.read_namespaced_config_map("cfg", namespace).data == {"mode": "a", "extra": "1"}
    kubectl(
        "patch",
        "-n",
        namespace,
        "service",
        "web",
        "--type=json",
        "-p",
        '[{"op":"add","path":"/metadata/labels","value":{"patched":"yes"}}]',
    )
    assert core.read_namespaced_service("web", namespace).metadata.labels == {"patched": "yes"}
    kubectl(
        "patch", "-n", namespace, "pod", "solo", "-p", '{"spec":{"containers":[{"name":"c","image":"bb:2"}]}}'
    )
    assert core.read_namespaced_pod("solo", namespace).spec.containers[0].image == "bb:2"


def test_scale_label_annotate(kubectl, apps, core, namespace):
    _apply(kubectl, namespace, "a")
    kubectl("scale", "-n", namespace, "deployment/web", "--replicas=3")
    assert apps.read_namespaced_deployment("web", namespace).spec.replicas == 3
    kubectl("label", "-n", namespace, "configmap/cfg", "team=blue")
    kubectl("annotate", "-n", namespace, "configmap/cfg", "note=hi")
    cfg = core.read_namespaced_config_map("cfg", namespace)
    assert cfg.metadata.labels == {"team": "blue"} and cfg.metadata.annotations["note"] == "hi"
    assert kubectl("get", "-n", namespace, "cm", "-l", "team=blue", "-o", "name").stdout.split() == [
        "configmap/cfg"
    ]


def test_imperative_create(kubectl, core, apps, namespace):
    kubectl("create", "configmap", "lit", "-n", namespace, "--from-literal=a=b")
    kubectl("create", "secret", "generic", "pw", "-n", namespace, "--from-literal=pw=x")
    kubectl("create", "deployment", "nginx", "-n", namespace, "--image=nginx:1")
    kubectl("create", "serviceaccount", "bot", "-n", namespace)
    assert core.read_namespaced_config_map("lit", namespace).data == {"a": "b"}
    assert apps.read_namespaced_deployment("nginx", namespace).spec.selector.match_labels == {"app": "nginx"}
    assert core.read_namespaced_service_account("bot", namespace).metadata.uid


def test_delete_file_and_wait(kubectl, core, namespace):
    _apply(kubectl, namespace, "a")
    out = kubectl(
        "delete", "-n", namespace, "-f", "-", "--wait=true", "--timeout=20s", input=MANIFEST % {"mode": "a"}
    ).stdout
    assert out.count(" deleted") == len(KINDS)
    assert kubectl("get", "-n", namespace, "deploy,svc,secret,sa,role,pod", "-o", "name").stdout.split() == [
        "serviceaccount/default"
    ]


def test_get_watch_streams_changes(kubectl_watch, kubectl, namespace, sandbox_api):
    watcher = kubectl_watch("get", "-n", namespace, "configmaps", "--watch-only", "-o", "name")
    store = sandbox_api.server.store
    deadline = time.monotonic() + 10
    while not any(w.namespace == namespace for w in list(store.watchers)):  # kubectl's watch is open
        assert time.monotonic() < deadline, "kubectl never opened its watch"
        time.sleep(0.02)
    kubectl("create", "configmap", "seen", "-n", namespace)
    kubectl("label", "-n", namespace, "configmap/seen", "x=y")
    kubectl("delete", "-n", namespace, "configmap/seen")
    lines = watcher(3)
    assert lines == ["configmap/seen"] * 3


def test_wait_for_condition_on_status(kubectl, core, namespace):
    core.create_namespaced_pod(
        namespace, {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "i:1"}]}}
    )
    core.patch_namespaced_pod_status(
        "p", namespace, {"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}}
    )
    out = kubectl("wait", "-n", namespace, "--for=condition=Ready", "pod/p", "--timeout=5s").stdout
    assert "condition met" in out


def test_api_resources_and_versions_include_crds(kubectl, api_client, crd_manifest):
    import uuid

    from kubernetes import client

    group = f"k{uuid.uuid4().hex[:8]}.example.com"
    ext = client.ApiextensionsV1Api(api_client)
    ext.create_custom_resource_definition(crd_manifest(group))
    try:
        resources = kubectl("api-resources").stdout
        assert f"{group}/v1" in resources and "Widget" in resources
        for line in ("deployments", "customresourcedefinitions", "leases", "tokenreviews"):
            assert line in resources
        versions = kubectl("api-versions").stdout.split()
        assert {
            "v1",
            "apps/v1",
            "rbac.authorization.k8s.io/v1",
            "apiextensions.k8s.io/v1",
            "coordination.k8s.io/v1",
            "events.k8s.io/v1",
            f"{group}/v1",
        } <= set(versions)
    finally:
        ext.delete_custom_resource_definition(f"widgets.{group}")


def test_apply_crd_and_custom_object(kubectl, custom, namespace, crd_manifest):
    import uuid

    import yaml

    group = f"a{uuid.uuid4().hex[:8]}.example.com"
    kubectl("apply", "--validate=false", "-f", "-", input=yaml.safe_dump(crd_manifest(group)))
    widget = {"apiVersion": f"{group}/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"size": 1}}
    kubectl("apply", "--validate=false", "-n", namespace, "-f", "-", input=yaml.safe_dump(widget))
    widget["spec"]["size"] = 2
    out = kubectl(
        "apply", "--validate=false", "-n", namespace, "-f", "-", input=yaml.safe_dump(widget)
    ).stdout
    assert "configured" in out
    assert custom.get_namespaced_custom_object(group, "v1", namespace, "widgets", "w")["spec"]["size"] == 2
    assert kubectl("get", "-n", namespace, "widgets", "-o", "name").stdout.split() == [f"widget.{group}/w"]
    header, row = kubectl("get", "-n", namespace, "widgets").stdout.splitlines()
    assert header.split() == ["NAME", "SIZE", "AGE"] and row.split()[:2] == ["w", "2"]
    kubectl("patch", "-n", namespace, "widget", "w", "--type=merge", "-p", '{"spec":{"size":5}}')
    assert custom.get_namespaced_custom_object(group, "v1", namespace, "widgets", "w")["spec"]["size"] == 5
    kubectl("delete", "crd", f"widgets.{group}")


@pytest.fixture
def kubectl_watch(kubeconfig):
    """Start a long-running kubectl; the returned reader collects `count` lines within a deadline."""
    import queue
    import threading

    processes: list[subprocess.Popen] = []

    def start(*args: str):
        process = subprocess.Popen(
            ["/usr/bin/kubectl", "--kubeconfig", str(kubeconfig), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        processes.append(process)
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(
            target=lambda: [lines.put(line.strip()) for line in process.stdout], daemon=True
        ).start()

        def read(count: int, timeout: float = 10.0) -> list[str]:
            deadline = time.monotonic() + timeout
            seen: list[str] = []
            while len(seen) < count and time.monotonic() < deadline:
                try:
                    seen.append(lines.get(timeout=max(deadline - time.monotonic(), 0.01)))
                except queue.Empty:
                    break
            return seen

        return read

    yield start
    for process in processes:
        process.kill()
        process.wait()


def test_server_side_apply(kubectl, core, namespace):
    manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa}\ndata: {a: '1'}\n"
    assert (
        "serverside-applied"
        in kubectl(
            "apply", "--server-side", "--validate=false", "-n", namespace, "-f", "-", input=manifest
        ).stdout
    )
    assert core.read_namespaced_config_map("ssa", namespace).data == {"a": "1"}


EACH_KIND = {
    "configmap": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: one}\ndata: {a: '1'}",
    "secret": "apiVersion: v1\nkind: Secret\nmetadata: {name: one}\ndata: {a: MQ==}",
    "serviceaccount": "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: one}",
    "service": "apiVersion: v1\nkind: Service\nmetadata: {name: one}\nspec: {ports: [{port: 80}]}",
    "endpoints": "apiVersion: v1\nkind: Endpoints\nmetadata: {name: one}\n"
    "subsets: [{addresses: [{ip: 10.1.2.3}], ports: [{port: 80}]}]",
    "event": "apiVersion: v1\nkind: Event\nmetadata: {name: one}\ninvolvedObject: {kind: Pod, name: p}\n"
    "reason: R\nmessage: m",
    "events.events.k8s.io": "apiVersion: events.k8s.io/v1\nkind: Event\nmetadata: {name: one}\n"
    "eventTime: '2024-01-01T00:00:00.000000Z'\nreportingController: t\n"
    "reportingInstance: t\naction: A\nreason: R\ntype: Normal",
    "pod": "apiVersion: v1\nkind: Pod\nmetadata: {name: one}\nspec: {containers: [{name: c, image: i:1}]}",
    "replicaset": "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: one}\nspec:\n"
    "  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n"
    "    spec: {containers: [{name: c, image: i:1}]}",
    "statefulset": "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: one}\n"
    "spec:\n  serviceName: one\n"
    "  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n"
    "    spec: {containers: [{name: c, image: i:1}]}",
    "rolebinding": "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: one}\n"
    "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: r}\n"
    "subjects: [{kind: ServiceAccount, name: default}]",
    "lease": "apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata: {name: one}\n"
    "spec: {holderIdentity: me}",
}


@pytest.mark.parametrize("kind", list(EACH_KIND))
def test_each_namespaced_kind_apply_get_patch_delete(kubectl, namespace, kind):
    out = kubectl("apply", "--validate=false", "-n", namespace, "-f", "-", input=EACH_KIND[kind]).stdout
    assert "created" in out
    kubectl("label", "-n", namespace, kind, "one", "step=labelled")
    kubectl(
        "patch", "-n", namespace, kind, "one", "--type=merge", "-p", '{"metadata":{"annotations":{"p":"1"}}}'
    )
    obj = json.loads(kubectl("get", "-n", namespace, kind, "one", "-o", "json").stdout)
    assert obj["metadata"]["labels"] == {"step": "labelled"} and obj["metadata"]["annotations"]["p"] == "1"
    assert "deleted" in kubectl("delete", "-n", namespace, kind, "one", "--wait=false").stdout
    assert kubectl("get", "-n", namespace, kind, "one", check=False).returncode != 0


@pytest.mark.parametrize("kind", ["namespace", "clusterrole", "clusterrolebinding"])
def test_each_cluster_kind_apply_get_patch_delete(kubectl, kind):
    import uuid

    name = f"k-{uuid.uuid4().hex[:8]}"
    manifest = {
        "namespace": f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {name}}}",
        "clusterrole": "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\n"
        f"metadata: {{name: {name}}}\n"
        "rules: [{apiGroups: [''], resources: [pods], verbs: [get]}]",
        "clusterrolebinding": "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\n"
        f"metadata: {{name: {name}}}\n"
        "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: r}",
    }[kind]
    assert "created" in kubectl("apply", "--validate=false", "-f", "-", input=manifest).stdout
    kubectl("label", kind, name, "step=labelled")
    obj = json.loads(kubectl("get", kind, name, "-o", "json").stdout)
    assert obj["metadata"]["labels"]["step"] == "labelled"
    kubectl("delete", kind, name, "--timeout=10s")
    assert kubectl("get", kind, name, check=False).returncode != 0
