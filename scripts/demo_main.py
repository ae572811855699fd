"""The demo's story, step by step (scripts/demo.py runs it after the set-up)."""

from __future__ import annotations

import os
import socket
import tempfile
from pathlib import Path
from typing import Any

from scripts import demo_shop as shop
from scripts.demo_run import (
    INSTANCE,
    STOWAWAY_PORT,
    Proof,
    Shop,
    clean_stale,
    deploy_shop,
    docker0,
    prove_bridge,
    prove_watch,
    sandbox_up,
    say,
    step,
)
from scripts.demo_shop import DemoError

NAMESPACE = "shop"


def local_port() -> int:
    return int(os.environ.get("SHOP_LOCAL_PORT", "8081"))


def check_port_free(port: int) -> None:
    """The local backend publishes 127.0.0.1:<port>: say so now, not as a Docker error halfway through."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as error:
            raise DemoError(
                f"port 127.0.0.1:{port} is taken ({error.strerror}); the local backend publishes it",
                f"free it (ss -ltnp 'sport = :{port}' shows who), or: SHOP_LOCAL_PORT=<port> make demo",
            ) from None


def open_shop() -> tuple[Shop, Any]:
    import docker

    with step(f"Kubernetes test sandbox '{INSTANCE}' (python3 -m tests.sandbox up --instance {INSTANCE})"):
        kubeconfig, node_ip = sandbox_up()
    endpoint = f"{docker0()}:{STOWAWAY_PORT}"
    run = Shop(shop.EXAMPLE, NAMESPACE, "shop", kubeconfig, node_ip, endpoint, local_port())
    return run, docker.from_env(timeout=300)


def demo(keep: bool) -> None:
    run, docker_client = open_shop()
    app = run.example / "backend" / "app.py"
    if shop.version_of(app) != "v1":  # a run killed during the edit
        shop.set_version(app, "v1")
    with step("examples/shop: build its images (cached by content), deploy cluster.yaml, wait for its Pods"):
        clean_stale(run, docker_client)
        pods = deploy_shop(run, docker_client)
        check_port_free(local_port())
    before = shop.plain_pods(run.kube, run.namespace)
    pod_env = shop.wait(
        lambda: shop.get_json(f"http://{pods['backend'].status.pod_ip}:8080/env"),
        30,
        "the backend Pod's /env",
        f"kubectl logs -n {run.namespace} deployment/backend",
    )
    answer = shop.wait(
        lambda: shop.get_json(shop.frontend_url(run.node_ip)),
        30,
        f"the frontend at {shop.frontend_url(run.node_ip)}",
        f"kubectl get pods,svc -n {run.namespace}",
    )
    say(
        f"    before: GET {shop.frontend_url(run.node_ip)} -> backend"
        f" served_by={answer['backend']['served_by']}"
    )
    with step("gefyra apply -f examples/shop/gefyra.yaml (install, connect, local backend, bridge)"):
        run.gefyra("apply", "--yes")
    proof = Proof()
    with step("proofs: the NodePort answered by the local code, cluster Services by name, the Pod's env"):
        prove_bridge(run, pod_env, proof)
    with step("gefyra status"):
        run.gefyra("status")
    with step("gefyra watch: edit examples/shop/backend/app.py, time until the NodePort answers the edit"):
        prove_watch(run, proof, Path(tempfile.gettempdir()) / "gefyra-demo-watch.log")
    if keep:
        print_next(run)
        return
    with step("gefyra down, then the cluster compared with before"):
        run.gefyra("down")
        prove_restored(run, before, docker_client, proof)
    say("\nproof:")
    for line in proof.lines:
        say(f"  - {line}")
    say("\nthe sandbox keeps running (the next `make demo` is warm); remove it: make demo-clean")


def prove_restored(run: Shop, before: dict[str, Any], docker_client: Any, proof: Proof) -> None:
    after = shop.plain_pods(run.kube, run.namespace)
    changed = sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))
    if changed:
        raise DemoError(
            f"Pods differ from before the apply: {', '.join(changed)}",
            "gefyra down -f examples/shop/gefyra.yaml",
        )
    left = shop.sweep(run.kube, run.namespace, run.project, docker_client)
    if left:
        raise DemoError(f"gefyra left {', '.join(left)}", "gefyra down -f examples/shop/gefyra.yaml")
    proof.add(
        f"after down: {len(after)} Pod(s) of namespace {run.namespace} equal to before (spec, labels,"
        " annotations, IP); label sweep: no gefyra namespace, CRD, bridge annotation, container, network"
    )


def print_next(run: Shop) -> None:
    env = run.env()
    say("\nthe shop stays bridged to your local backend (examples/shop/backend). Next:")
    say(
        f"  export KUBECONFIG={env['KUBECONFIG']} SHOP_NAMESPACE={env['SHOP_NAMESPACE']}"
        f" SHOP_ENDPOINT={env['SHOP_ENDPOINT']} SHOP_LOCAL_PORT={env['SHOP_LOCAL_PORT']}"
    )
    file = "-f examples/shop/gefyra.yaml"
    steps = [
        (f"curl {shop.frontend_url(run.node_ip)}", "the frontend, answered by the local backend"),
        (f"curl http://127.0.0.1:{run.local_port}/", "the local backend directly"),
        (f"gefyra watch {file}", "then edit examples/shop/backend/app.py"),
        (f"gefyra status {file}", "the tunnel, the local container, the bridged Pod"),
        (f"gefyra down {file}", "the Pod restored, gefyra removed"),
        ("make demo-clean", f"gefyra down + the sandbox '{INSTANCE}' down"),
    ]
    width = max(len(command) for command, _ in steps)
    for command, why in steps:
        say(f"  {command.ljust(width)}   # {why}")


def clean() -> None:
    """`make demo-clean`: the shop's gefyra objects, then the whole demo sandbox."""
    from scripts.demo_run import sandbox_down

    state = Path(os.environ.get("GEFYRA_SANDBOX_STATE", "/tmp/gefyra-sandbox")) / INSTANCE / "ready.json"
    if state.exists():
        run, _ = open_shop()
        with step("gefyra down -f examples/shop/gefyra.yaml"):
            run.gefyra("down")
    with step(f"sandbox '{INSTANCE}' down"):
        sandbox_down()
