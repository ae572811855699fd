"""The demo's steps after the set-up: sandbox, images, deploy, apply, proofs, watch, down. Each step prints
one line with its time; a DemoError ends the run with what went wrong and what to do (scripts/demo.py).

`Shop` is the run's context (example folder, namespace, project, clients, the CLI's environment); the e2e test
builds one of its own around a copy of the example and calls the same functions.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scripts import demo_shop as shop
from scripts.demo_shop import DemoError

INSTANCE = "demo"  # the demo's sandbox instance: tests never use it
STOWAWAY_PORT = 31821  # the demo's Stowaway NodePort (31820 is examples/bridge's default)


def say(text: str = "") -> None:
    print(text, flush=True)


@contextmanager
def step(title: str) -> Iterator[None]:
    """`==> title` ... `    done in 1.2s`: progress with timing."""
    say(f"==> {title}")
    started = time.monotonic()
    yield
    say(f"    done in {time.monotonic() - started:.1f}s")


@dataclass
class Shop:
    example: Path
    namespace: str
    project: str
    kubeconfig: Path
    node_ip: str
    endpoint: str
    local_port: int = 8081  # SHOP_LOCAL_PORT: where the local backend is published on 127.0.0.1
    config_home: Path | None = None
    kube: shop.Kube = field(init=False)
    images: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.kube = shop.Kube.from_file(self.kubeconfig)

    @property
    def file(self) -> Path:
        return self.example / "gefyra.yaml"

    def env(self) -> dict[str, str]:
        """The gefyra CLI's environment: this cluster, this namespace and endpoint, no escape hatches."""
        env = dict(os.environ)
        env.update(
            PYTHONPATH=os.pathsep.join(filter(None, [str(shop.REPO), os.environ.get("PYTHONPATH")])),
            KUBECONFIG=str(self.kubeconfig),
            SHOP_NAMESPACE=self.namespace,
            SHOP_ENDPOINT=self.endpoint,
            SHOP_LOCAL_PORT=str(self.local_port),
        )
        if self.config_home is not None:
            env["XDG_CONFIG_HOME"] = str(self.config_home)
        for variable in ("GEFYRA_STOWAWAY_URL", "GEFYRA_STOWAWAY_TOKEN_FILE"):
            env.pop(variable, None)
        return env

    def gefyra(self, *args: str, echo: bool = True, timeout: float = 300) -> str:
        """`python -m gefyra <args> -f <gefyra.yaml>`; output indented when `echo`; DemoError on failure."""
        done = subprocess.run(
            [sys.executable, "-m", "gefyra", *args, "-f", str(self.file)],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        output = (done.stdout + done.stderr).rstrip()
        if echo or done.returncode not in (0, 2):
            for line in output.splitlines():
                say(f"    | {line}")
        if done.returncode not in (0, 2) or (done.returncode == 2 and args[0] != "status"):
            last = output.splitlines()[-1] if output else "no output"
            raise DemoError(
                f"gefyra {args[0]} failed (exit {done.returncode}): {last}", "see its output above"
            )
        return done.stdout


def docker0() -> str:
    """The host's docker0 address: Stowaway's NodePort is reached there (the node address lies in the Pod
    range, which is routed into the tunnel)."""
    out = subprocess.run(["ip", "-4", "-o", "addr", "show", "docker0"], capture_output=True, text=True).stdout
    if not out.split():
        raise DemoError("the host has no docker0 address", "start the Docker engine with its default bridge")
    return out.split()[3].split("/")[0]


def sandbox_up() -> tuple[Path, str]:
    """`python -m tests.sandbox up --instance demo` (idempotent; a sandbox of a killed run is reaped first):
    (kubeconfig, node ip)."""
    env = dict(os.environ, PYTHONPATH=str(shop.REPO))
    done = subprocess.run(
        [sys.executable, "-m", "tests.sandbox", "up", "--instance", INSTANCE],
        env=env,
        capture_output=True,
        text=True,
        cwd=shop.REPO,
    )
    if done.returncode != 0:
        detail = done.stderr.strip().splitlines()
        raise DemoError(
            "the sandbox did not start: " + (detail[0] if detail else "no output"),
            f"look at /tmp/gefyra-sandbox/{INSTANCE}.log; then: python3 -m tests.sandbox down"
            f" --instance {INSTANCE} and run the demo again",
        )
    info_line = next((line for line in done.stderr.splitlines() if "node " in line), "")
    say(f"    {done.stderr.strip().splitlines()[0]}")
    kubeconfig = Path(done.stdout.strip().splitlines()[-1])
    node_ip = info_line.split("node ", 1)[1].split(",")[0] if info_line else ""
    if not node_ip:  # an already running sandbox names no node: ask the API
        kube = shop.Kube.from_file(kubeconfig)
        node_ip = kube.core.list_node().items[0].status.addresses[0].address
        kube.api_client.close()
    return kubeconfig, node_ip


def sandbox_down() -> None:
    """`python -m tests.sandbox down --instance demo`: every container, network, rule and route it made."""
    env = dict(os.environ, PYTHONPATH=str(shop.REPO))
    done = subprocess.run(
        [sys.executable, "-m", "tests.sandbox", "down", "--instance", INSTANCE],
        env=env,
        capture_output=True,
        text=True,
        cwd=shop.REPO,
    )
    for line in done.stderr.strip().splitlines():
        say(f"    | {line}")
    if done.returncode != 0:
        raise DemoError(f"sandbox '{INSTANCE}' down left things behind", "see the lines above")


def deploy_shop(run: Shop, docker_client: Any) -> dict[str, Any]:
    """Images built (cached by content), cluster.yaml applied, the three Pods Ready: {service: Pod}."""
    run.images = shop.build_images(docker_client, run.example)
    say("    images: " + ", ".join(run.images.values()))
    shop.deploy(run.kube, run.namespace, shop.manifests(run.example, run.images))
    return shop.shop_pods(run.kube, run.namespace, run.images)


def clean_stale(run: Shop, docker_client: Any) -> None:
    """A previous run killed (or `--keep`) left the project up: take it down so the 'before' is clean."""
    left = shop.sweep(run.kube, run.namespace, run.project, docker_client)
    if left:
        say(f"    a previous run left {len(left)} object(s) ({left[0]}, ...): gefyra down first")
        run.gefyra("down", echo=False)


@dataclass
class Proof:
    lines: list[str] = field(default_factory=list)

    def add(self, line: str) -> None:
        self.lines.append(line)
        say(f"    proof: {line}")


def prove_bridge(run: Shop, pod_env: dict[str, str], proof: Proof) -> None:
    """The frontend's NodePort answered by the local code; it reached `prices` by name with the Pod's env."""
    url = shop.frontend_url(run.node_ip)
    answer = shop.wait(
        lambda: (lambda a: a if shop.served_locally(a) else None)(shop.get_json(url)),
        60,
        "the frontend answered by the local backend",
        "gefyra status -f " + str(run.file),
    )
    backend = answer["backend"]
    proof.add(
        f"GET {url} -> frontend {answer['hostname']} -> backend {backend['served_by']} {backend['hostname']}"
    )
    prices = backend.get("prices", {})
    if "prices" not in prices:
        raise DemoError(f"the local backend did not reach the prices Service: {prices}", "gefyra status")
    proof.add(
        f"the local code reached http://prices/ by name: {prices['hostname']} answered {prices['prices']}"
    )
    local_env = shop.get_json(shop.frontend_url(run.node_ip, "/backend/env"))
    diff = shop.compare_env(pod_env, local_env)
    if diff.differ or diff.only_pod or diff.only_local != ["SERVED_BY"]:
        raise DemoError(f"the local environment is not the Pod's: {diff}", "gefyra status")
    proof.add(
        f"env: all {len(diff.equal)} variables of the Pod's container have the Pod's values in the local"
        " container (ConfigMap GREETING, Secret PRICES_TOKEN, PRICES_URL, service links); only SERVED_BY"
        " is added (gefyra.yaml's env)"
    )


def prove_watch(run: Shop, proof: Proof, log: Path) -> float:
    """`gefyra watch` running: an edit of backend/app.py answers through the NodePort; seconds it took."""
    app = run.example / "backend" / "app.py"
    url = shop.frontend_url(run.node_ip)
    original = shop.version_of(app)
    watcher = subprocess.Popen(
        [sys.executable, "-m", "gefyra", "watch", "-o", "json", "-f", str(run.file)],
        env=run.env(),
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        # watch_ready: the first apply is done and the file watchers run, so the edit below is seen.
        shop.wait(lambda: _events(log, "watch_ready"), 120, "gefyra watch to be ready", f"read {log}")
        stamp = time.strftime("%H%M%S")
        try:
            edited = f"{original}-edited-{stamp}"
            seconds = _edit_and_wait(app, edited, url, log)
            proof.add(
                f"edit VERSION = {original!r} -> {edited!r}: the NodePort answered it {seconds:.1f}s later"
            )
        finally:
            shop.set_version(app, original)
        shop.wait(
            lambda: shop.served_locally(shop.get_json(url), original), 60, "the code restored", f"read {log}"
        )
        return seconds
    finally:
        os.killpg(watcher.pid, signal.SIGINT)
        try:
            watcher.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(watcher.pid, signal.SIGKILL)
            watcher.wait()


def _edit_and_wait(app: Path, version: str, url: str, log: Path) -> float:
    """Seconds from the saved edit until the frontend's NodePort answers that version."""
    started = time.monotonic()
    shop.set_version(app, version)
    shop.wait(
        lambda: shop.served_locally(shop.get_json(url), version),
        60,
        "the edited code answering",
        f"read {log}",
    )
    return time.monotonic() - started


def _events(log: Path, name: str) -> list[dict[str, object]]:
    """The NDJSON events of that name in watch's log so far."""
    import json

    found = []
    for line in log.read_text().splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and event.get("event") == name:
            found.append(event)
    return found
