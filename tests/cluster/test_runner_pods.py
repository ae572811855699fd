"""Runner acceptance: what a kubelet does for one Pod.

Environment, volumes, the service-account token the API server accepts, restart in place on an image patch
(same Pod IP, restartCount + 1), crash restarts, terminal phases, waiting reasons, deletion.
"""

from __future__ import annotations

import base64
import json
import ssl
import urllib.request

import pytest

from tests.sandbox.fixtures import http_get, wait_for

pytest_plugins = ("tests.sandbox.fixtures",)  # sandbox, sandbox_kube, sandbox_ns, echo_image
pytestmark = [pytest.mark.docker, pytest.mark.cluster]

SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"


def pod_file(pod_ip: str, path: str) -> bytes:
    return http_get(f"http://{pod_ip}:8080/file?path={path}")


def pod_env(pod_ip: str) -> dict[str, str]:
    return json.loads(http_get(f"http://{pod_ip}:8080/env"))


def readiness() -> dict:
    return {"httpGet": {"path": "/", "port": 8080}, "periodSeconds": 1}


def test_env_volumes_and_service_account(sandbox_kube, sandbox_ns, echo_image):
    core = sandbox_kube.core
    core.create_namespaced_config_map(
        sandbox_ns, {"metadata": {"name": "settings"}, "data": {"COLOR": "blue", "app.conf": "port=1\n"}}
    )
    core.create_namespaced_secret(
        sandbox_ns, {"metadata": {"name": "creds"}, "stringData": {"password": "s3cret"}}
    )
    core.create_namespaced_pod(
        sandbox_ns,
        {
            "metadata": {"name": "full", "labels": {"team": "a"}},
            "spec": {
                "volumes": [
                    {"name": "shared", "emptyDir": {}},
                    {
                        "name": "conf",
                        "configMap": {"name": "settings", "items": [{"key": "app.conf", "path": "app.conf"}]},
                    },
                    {"name": "creds", "secret": {"secretName": "creds"}},
                ],
                "containers": [
                    {
                        "name": "echo",
                        "image": echo_image,
                        "readinessProbe": readiness(),
                        "envFrom": [{"configMapRef": {"name": "settings"}, "prefix": "CM_"}],
                        "env": [
                            {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
                            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                            {
                                "name": "POD_NS",
                                "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}},
                            },
                            {
                                "name": "TEAM",
                                "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['team']"}},
                            },
                            {
                                "name": "PASSWORD",
                                "valueFrom": {"secretKeyRef": {"name": "creds", "key": "password"}},
                            },
                            {
                                "name": "COLOR",
                                "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "COLOR"}},
                            },
                            {"name": "GREETING", "value": "hello $(POD_NAME)"},
                        ],
                        "volumeMounts": [
                            {"name": "shared", "mountPath": "/shared"},
                            {"name": "conf", "mountPath": "/etc/app", "readOnly": True},
                            {"name": "creds", "mountPath": "/etc/creds", "readOnly": True},
                        ],
                    },
                    {
                        "name": "writer",
                        "image": echo_image,
                        "command": ["sh", "-c"],
                        "args": ["echo $(WORD) > /out/word && exec sleep infinity"],
                        "env": [{"name": "WORD", "value": "written-by-sidecar"}],
                        "volumeMounts": [{"name": "shared", "mountPath": "/out"}],
                    },
                ],
            },
        },
    )
    pod = sandbox_kube.wait_running(sandbox_ns, "full")
    ip = pod.status.pod_ip
    env = pod_env(ip)
    assert env["POD_IP"] == ip and env["POD_NAME"] == "full" and env["POD_NS"] == sandbox_ns
    assert env["TEAM"] == "a" and env["PASSWORD"] == "s3cret" and env["COLOR"] == "blue"
    assert env["CM_COLOR"] == "blue" and env["GREETING"] == "hello full"
    assert env["KUBERNETES_SERVICE_PORT"] == "443"
    assert pod_file(ip, "/etc/app/app.conf") == b"port=1\n"
    assert pod_file(ip, "/etc/creds/password") == b"s3cret"
    # emptyDir shared by both containers; command/args with $(VAR) expansion
    assert wait_for(lambda: pod_file(ip, "/shared/word"), what="sidecar file") == b"written-by-sidecar\n"
    # The projected service-account directory: a real token, the CA and the namespace.
    token = pod_file(ip, f"{SA_DIR}/token").decode()
    ca = pod_file(ip, f"{SA_DIR}/ca.crt").decode()
    assert pod_file(ip, f"{SA_DIR}/namespace").decode() == sandbox_ns
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert claims["sub"] == f"system:serviceaccount:{sandbox_ns}:default"
    context = ssl.create_default_context(cadata=ca)
    request = urllib.request.Request(
        f"{sandbox_kube.api_client.configuration.host}/api/v1/namespaces/{sandbox_ns}/pods/full",
        headers={"Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, context=context, timeout=5) as response:
        assert json.loads(response.read())["metadata"]["name"] == "full"


def test_pod_uses_api_through_kubernetes_service(sandbox_kube, sandbox_ns, echo_image):
    """In-cluster config works: https://$KUBERNETES_SERVICE_HOST with the mounted token and CA (DNAT to the
    API server on the node)."""
    script = (
        "import json, os, ssl, urllib.request\n"
        f"d = '{SA_DIR}'\n"
        "ctx = ssl.create_default_context(cafile=d + '/ca.crt')\n"
        "url = 'https://%s:%s/api/v1/namespaces/%s/pods' % (os.environ['KUBERNETES_SERVICE_HOST'],"
        " os.environ['KUBERNETES_SERVICE_PORT'], open(d + '/namespace').read())\n"
        "auth = {'Authorization': 'Bearer ' + open(d + '/token').read()}\n"
        "req = urllib.request.Request(url, headers=auth)\n"
        "names = [p['metadata']['name'] for p in json.load(urllib.request.urlopen(req, context=ctx,"
        " timeout=5))['items']]\n"
        "raise SystemExit(0 if 'incluster' in names else 1)\n"
    )
    sandbox_kube.core.create_namespaced_pod(
        sandbox_ns,
        {
            "metadata": {"name": "incluster"},
            "spec": {
                "restartPolicy": "Never",
                "containers": [{"name": "main", "image": echo_image, "command": ["python3", "-c", script]}],
            },
        },
    )
    phase = wait_for(
        lambda: (
            sandbox_kube.pod(sandbox_ns, "incluster").status.phase in ("Succeeded", "Failed")
            and sandbox_kube.pod(sandbox_ns, "incluster").status.phase
        ),
        what="incluster finished",
    )
    assert phase == "Succeeded"


def test_image_patch_restarts_only_that_container(
    sandbox, sandbox_kube, sandbox_ns, echo_image, docker_client
):
    patched = f"{echo_image.split(':')[0]}:patched-{sandbox.instance}"
    docker_client.images.get(echo_image).tag(patched)
    try:
        sandbox_kube.core.create_namespaced_pod(
            sandbox_ns,
            {
                "metadata": {"name": "two"},
                "spec": {
                    "containers": [
                        {"name": "web", "image": echo_image, "readinessProbe": readiness()},
                        {"name": "side", "image": echo_image, "env": [{"name": "PORT", "value": "9090"}]},
                    ]
                },
            },
        )
        before = sandbox_kube.wait_running(sandbox_ns, "two")
        ids = {s.name: s.container_id for s in before.status.container_statuses}
        started = json.loads(http_get(f"http://{before.status.pod_ip}:8080/"))["started"]
        sandbox_kube.core.patch_namespaced_pod(
            "two", sandbox_ns, {"spec": {"containers": [{"name": "web", "image": patched}]}}
        )

        def restarted():
            pod = sandbox_kube.pod(sandbox_ns, "two")
            web = next(s for s in pod.status.container_statuses if s.name == "web")
            return pod if web.restart_count == 1 and web.ready and web.image == patched else None

        after = wait_for(restarted, what="web restarted with the patched image")
        statuses = {s.name: s for s in after.status.container_statuses}
        assert after.status.pod_ip == before.status.pod_ip
        assert statuses["side"].restart_count == 0 and statuses["side"].container_id == ids["side"]
        assert statuses["web"].container_id != ids["web"]
        assert statuses["web"].last_state.terminated is not None
        assert json.loads(http_get(f"http://{after.status.pod_ip}:8080/"))["started"] > started
    finally:
        docker_client.images.remove(patched)


def test_crashing_container_restarts_with_backoff(sandbox_kube, sandbox_ns, echo_image):
    sandbox_kube.core.create_namespaced_pod(
        sandbox_ns,
        {
            "metadata": {"name": "crash"},
            "spec": {
                "containers": [
                    {
                        "name": "main",
                        "image": echo_image,
                        "command": ["sh", "-c", "echo crashing now; exit 3"],
                    }
                ]
            },
        },
    )

    def crashed_twice():
        status = sandbox_kube.pod(sandbox_ns, "crash").status
        main = (status.container_statuses or [None])[0]
        return main if main and main.restart_count >= 2 else None

    main = wait_for(crashed_twice, timeout=20, what="two restarts")
    assert main.last_state.terminated.exit_code == 3
    assert "crashing now" in sandbox_kube.core.read_namespaced_pod_log("crash", sandbox_ns)
    assert sandbox_kube.pod(sandbox_ns, "crash").status.phase == "Running"


def test_failed_and_succeeded_pods(sandbox_kube, sandbox_ns, echo_image):
    for name, code in (("ok", 0), ("bad", 1)):
        sandbox_kube.core.create_namespaced_pod(
            sandbox_ns,
            {
                "metadata": {"name": name},
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [
                        {"name": "main", "image": echo_image, "command": ["sh", "-c", f"exit {code}"]}
                    ],
                },
            },
        )
    assert wait_for(
        lambda: sandbox_kube.pod(sandbox_ns, "ok").status.phase == "Succeeded", what="ok Succeeded"
    )
    assert wait_for(lambda: sandbox_kube.pod(sandbox_ns, "bad").status.phase == "Failed", what="bad Failed")


def test_missing_image_says_how_to_get_it_and_the_pod_starts_once_it_is_there(
    sandbox, sandbox_kube, sandbox_ns, echo_image, docker_client
):
    """No registry here: a missing image gets ErrImagePull, then ImagePullBackOff, with a message saying how
    to get it; the sandbox keeps looking (back-off), so the Pod starts once the image is built - nothing else
    has to touch the Pod."""
    missing = f"local/never-built-{sandbox_ns}:1"
    sandbox_kube.core.create_namespaced_pod(
        sandbox_ns,
        {"metadata": {"name": "noimage"}, "spec": {"containers": [{"name": "main", "image": missing}]}},
    )

    def waiting():
        statuses = sandbox_kube.pod(sandbox_ns, "noimage").status.container_statuses or []
        return statuses and statuses[0].state.waiting

    first = wait_for(waiting, what="noimage waiting")
    assert first.reason in ("ErrImagePull", "ImagePullBackOff"), first.reason
    assert f'image "{missing}" is not on this machine' in first.message
    assert f"docker build -t {missing}" in first.message and "docker load" in first.message
    assert wait_for(lambda: waiting().reason == "ImagePullBackOff", what="ImagePullBackOff")
    docker_client.images.get(echo_image).tag(missing)  # "docker build" happened
    try:
        sandbox_kube.wait_running(sandbox_ns, "noimage", timeout=30)
    finally:
        docker_client.images.remove(missing)  # the tag only: the echo image keeps its own


def test_missing_configmap_waits(sandbox_kube, sandbox_ns, echo_image):
    core = sandbox_kube.core
    core.create_namespaced_pod(
        sandbox_ns,
        {
            "metadata": {"name": "nocm"},
            "spec": {
                "containers": [
                    {"name": "main", "image": echo_image, "envFrom": [{"configMapRef": {"name": "later"}}]}
                ]
            },
        },
    )

    def waiting(name):
        statuses = sandbox_kube.pod(sandbox_ns, name).status.container_statuses or []
        return statuses and statuses[0].state.waiting and statuses[0].state.waiting.reason

    assert wait_for(lambda: waiting("nocm"), what="nocm waiting") == "CreateContainerConfigError"
    core.create_namespaced_config_map(sandbox_ns, {"metadata": {"name": "later"}, "data": {"X": "1"}})
    sandbox_kube.wait_running(sandbox_ns, "nocm")


def test_deleted_pod_leaves_no_containers(sandbox, sandbox_kube, sandbox_ns, echo_image, docker_client):
    sandbox_kube.core.create_namespaced_pod(
        sandbox_ns,
        {"metadata": {"name": "gone"}, "spec": {"containers": [{"name": "main", "image": echo_image}]}},
    )
    pod = sandbox_kube.wait_running(sandbox_ns, "gone")
    label = f"dev.gefyra.sandbox.pod-uid={pod.metadata.uid}"

    def reasons():
        events = sandbox_kube.core.list_namespaced_event(sandbox_ns).items
        return {e.reason for e in events if e.involved_object.uid == pod.metadata.uid}

    assert wait_for(lambda: {"Scheduled", "Started"} <= reasons(), what="kubelet events")
    assert len(docker_client.containers.list(filters={"label": label})) == 2  # infra + main
    sandbox_kube.core.delete_namespaced_pod("gone", sandbox_ns)

    def gone():
        names = [p.metadata.name for p in sandbox_kube.core.list_namespaced_pod(sandbox_ns).items]
        return "gone" not in names and not docker_client.containers.list(all=True, filters={"label": label})

    wait_for(gone, what="pod and its containers gone")


def test_init_containers_run_first_and_liveness_failures_restart(
    sandbox_kube, sandbox_ns, echo_image, docker_client
):
    core = sandbox_kube.core
    core.create_namespaced_pod(
        sandbox_ns,
        {
            "metadata": {"name": "init"},
            "spec": {
                "volumes": [{"name": "work", "emptyDir": {}}],
                "initContainers": [
                    {
                        "name": "prepare",
                        "image": echo_image,
                        "command": ["sh", "-c", "echo ready > /w/flag"],
                        "volumeMounts": [{"name": "work", "mountPath": "/w"}],
                    }
                ],
                "containers": [
                    {
                        "name": "main",
                        "image": echo_image,
                        "volumeMounts": [{"name": "work", "mountPath": "/w"}],
                        "livenessProbe": {
                            "exec": {"command": ["test", "!", "-e", "/w/sick"]},
                            "periodSeconds": 1,
                            "failureThreshold": 1,
                        },
                    }
                ],
            },
        },
    )
    pod = sandbox_kube.wait_running(sandbox_ns, "init")
    (init_status,) = pod.status.init_container_statuses
    assert init_status.state.terminated.exit_code == 0
    assert {c.type: c.status for c in pod.status.conditions}["Initialized"] == "True"
    assert wait_for(lambda: pod_file(pod.status.pod_ip, "/w/flag"), what="init output") == b"ready\n"
    # Make the liveness probe fail: the kubelet kills the container and the restart policy brings it back.
    (main,) = docker_client.containers.list(
        filters={
            "label": [
                f"dev.gefyra.sandbox.pod-uid={pod.metadata.uid}",
                "dev.gefyra.sandbox.container=main",
            ]
        }
    )
    main.exec_run(["touch", "/w/sick"])

    def restarted():
        status = sandbox_kube.pod(sandbox_ns, "init").status.container_statuses[0]
        return status.restart_count >= 1

    wait_for(restarted, timeout=15, what="restart after failed liveness probe")
    assert sandbox_kube.pod(sandbox_ns, "init").status.pod_ip == pod.status.pod_ip


def test_lost_infra_container_restarts_the_pod_sandbox(sandbox_kube, sandbox_ns, echo_image, docker_client):
    sandbox_kube.core.create_namespaced_pod(
        sandbox_ns,
        {
            "metadata": {"name": "sbx"},
            "spec": {"containers": [{"name": "main", "image": echo_image, "readinessProbe": readiness()}]},
        },
    )
    pod = sandbox_kube.wait_running(sandbox_ns, "sbx")
    (infra,) = docker_client.containers.list(
        filters={"label": [f"dev.gefyra.sandbox.pod-uid={pod.metadata.uid}", "dev.gefyra.sandbox.role=infra"]}
    )
    infra.remove(force=True)

    def recovered():
        fresh = sandbox_kube.pod(sandbox_ns, "sbx")
        status = fresh.status.container_statuses[0]
        return fresh if status.restart_count == 1 and status.ready else None

    fresh = wait_for(recovered, what="pod sandbox recreated")
    assert json.loads(http_get(f"http://{fresh.status.pod_ip}:8080/"))["hostname"] == "sbx"
