"""`python -m tests.sandbox up|down|status` - the test and demo sandbox from the command line.

TEST AND DEMO SANDBOX ONLY - not a Kubernetes distribution; real work runs on any real cluster (k3d, kind,
minikube, cloud).

up      starts the API server and the runner in a background process and prints the kubeconfig path
down    stops it and removes every container, network, iptables rule and route it made (verified)
status  says whether it runs, where, and what the node and its Pods look like
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from .runner.cleanup import alive
from .runner.settings import STATE_ROOT

REPO = Path(__file__).resolve().parents[2]


def ready_file(instance: str) -> Path:
    return STATE_ROOT / instance / "ready.json"


def log_file(instance: str) -> Path:
    return STATE_ROOT / f"{instance}.log"


def read_ready(instance: str) -> dict | None:
    path = ready_file(instance)
    return json.loads(path.read_text()) if path.exists() else None


def up(instance: str, timeout: float) -> int:
    info = read_ready(instance)
    if info and alive(info["pid"]):
        print(f"sandbox '{instance}' already running (pid {info['pid']})", file=sys.stderr)
        print(info["kubeconfig"])
        return 0
    STATE_ROOT.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    with open(log_file(instance), "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.sandbox", "serve", "--instance", instance],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=log,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    deadline = time.monotonic() + timeout
    while (info := read_ready(instance)) is None or info.get("pid") != process.pid:
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            print(
                f"sandbox did not start; log: {log_file(instance)}\n{log_file(instance).read_text()[-3000:]}",
                file=sys.stderr,
            )
            return 1
        time.sleep(0.1)
    print(
        f"sandbox '{instance}' is up: API {info['url']}, node {info['node_ip']}, pid {info['pid']}",
        file=sys.stderr,
    )
    print(f"use it with: export KUBECONFIG={info['kubeconfig']}", file=sys.stderr)
    print(info["kubeconfig"])
    return 0


def down(instance: str) -> int:
    import logging

    import docker

    logging.basicConfig(level=logging.WARNING, format="%(message)s")  # cleanup says what it disconnected

    from .runner import cleanup

    client = docker.from_env()
    foreign = cleanup.foreign_endpoints(client, instance)
    if foreign:
        names = "\n  ".join(foreign)
        print(f"disconnecting containers the sandbox did not make:\n  {names}", file=sys.stderr)
    info = read_ready(instance)
    if info and alive(info["pid"]):
        os.kill(info["pid"], signal.SIGTERM)
        deadline = time.monotonic() + 30
        while alive(info["pid"]) and time.monotonic() < deadline:
            time.sleep(0.1)
        if alive(info["pid"]):
            os.kill(info["pid"], signal.SIGKILL)
    left = cleanup.remove_all(client, instance)
    client.close()
    if left:
        print("sandbox down, but these are left:\n  " + "\n  ".join(left), file=sys.stderr)
        return 1
    log_file(instance).unlink(missing_ok=True)  # kept only while running, or when something went wrong
    print(
        f"sandbox '{instance}' is down; no containers, networks, iptables rules or routes left",
        file=sys.stderr,
    )
    return 0


def status(instance: str) -> int:
    info = read_ready(instance)
    if not info or not alive(info["pid"]):
        print(f"sandbox '{instance}' is not running")
        return 3
    from kubernetes import client, config

    api = config.new_client_from_config(config_file=info["kubeconfig"])
    core = client.CoreV1Api(api)
    print(f"sandbox '{instance}': pid {info['pid']}, API {info['url']}")
    print(f"kubeconfig: {info['kubeconfig']}")
    for node in core.list_node().items:
        ready = {c.type: c.status for c in node.status.conditions or []}.get("Ready")
        print(f"node {node.metadata.name}: Ready={ready}, InternalIP={node.status.addresses[0].address}")
    for pod in core.list_pod_for_all_namespaces().items:
        name = f"{pod.metadata.namespace}/{pod.metadata.name}"
        print(f"  pod {name}: {pod.status.phase} {pod.status.pod_ip or ''}")
    api.close()
    return 0


def serve(instance: str) -> int:
    """The background process: run the sandbox until SIGTERM/SIGINT, then tear it down."""
    import logging
    import threading

    from .cluster import Sandbox

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    sandbox = Sandbox(instance=instance).start()
    try:
        info = {
            "pid": os.getpid(),
            "kubeconfig": str(sandbox.kubeconfig),
            "url": sandbox.url,
            "node_ip": sandbox.node_ip,
            "instance": instance,
        }
        tmp = ready_file(instance).with_suffix(".tmp")
        tmp.write_text(json.dumps(info))
        tmp.replace(ready_file(instance))
        stopping.wait()
    finally:
        left = sandbox.stop()
        logging.info("stopped; left behind: %s", left or "nothing")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.sandbox",
        description="gefyra's Kubernetes TEST AND DEMO sandbox (not a distribution)",
    )
    parser.add_argument("command", choices=["up", "down", "status", "serve"])
    parser.add_argument("--instance", default="cluster", help="name of this sandbox (1-8 of [a-z0-9])")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds `up` waits for the sandbox")
    args = parser.parse_args(argv)
    if args.command == "up":
        return up(args.instance, args.timeout)
    if args.command == "down":
        return down(args.instance)
    if args.command == "status":
        return status(args.instance)
    return serve(args.instance)


if __name__ == "__main__":
    sys.exit(main())
