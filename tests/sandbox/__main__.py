"""`python -m tests.sandbox up|down|status` - the test and demo sandbox from the command line.

TEST AND DEMO SANDBOX ONLY - not a Kubernetes distribution; real work runs on any real cluster (k3d, kind,
minikube, cloud).

up      starts the API server and the runner in a background process and prints the kubeconfig path
down    stops it (also while it is starting) and removes every container, network, iptables rule and route it
        made (verified); `down --all` does so for every instance, `down --stale` for those whose owner is gone
status  says whether it runs, where, and what the node and its Pods look like
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from .images import MissingImage
from .privatedir import FILE_FLAGS, UnsafeFolder
from .runner.cleanup import alive
from .runner.settings import state_root

REPO = Path(__file__).resolve().parents[2]
INSTANCE = re.compile(r"[a-z0-9]{1,8}")


def ready_file(instance: str) -> Path:
    return state_root() / instance / "ready.json"


def log_file(instance: str) -> Path:
    return state_root() / f"{instance}.log"


def read_ready(instance: str) -> dict | None:
    path = ready_file(instance)
    return json.loads(path.read_text()) if path.exists() else None


def lock_file(instance: str) -> Path:
    return state_root() / f"{instance}.lock"


def pid_file(instance: str) -> Path:
    return state_root() / f"{instance}.pid"


def try_lock(instance: str) -> int | None:
    """The instance's lock as an fd, or None while another `up`/`down`/sandbox process holds it. The lock
    belongs to the open file, so the `serve` process that inherits the fd keeps holding it after `up` exits,
    for its whole life. A lock file that `down` unlinked meanwhile does not count (hence the inode check)."""
    fd = os.open(lock_file(instance), os.O_RDWR | os.O_CREAT | FILE_FLAGS, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if os.fstat(fd).st_ino == os.stat(lock_file(instance)).st_ino:
            return fd
    except (BlockingIOError, FileNotFoundError):
        pass
    os.close(fd)
    return None


def recorded_pids(instance: str) -> set[int]:
    """Sandbox processes of this instance: the one that is ready and the one that is starting."""
    pids = set()
    info = read_ready(instance)
    if info:
        pids.add(int(info["pid"]))
    try:
        pids.add(int(pid_file(instance).read_text()))
    except (OSError, ValueError):
        pass
    return pids


def stop_process(pid: int, timeout: float = 30.0) -> None:
    """SIGTERM (the sandbox tears itself down), SIGKILL after `timeout`."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if alive(pid):
        os.kill(pid, signal.SIGKILL)


def require_base() -> None:
    """MissingImage (saying how to make it) when the base image is missing: the serve process would only
    fail later, with a traceback in its log."""
    import docker

    from .images import require_base as check

    client = docker.from_env()
    try:
        check(client)
    finally:
        client.close()


def up(instance: str, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    require_base()
    while True:
        info = read_ready(instance)
        if info and alive(info["pid"]):
            print(f"sandbox '{instance}' already running (pid {info['pid']})", file=sys.stderr)
            print(info["kubeconfig"])
            return 0
        lock = try_lock(instance)
        if lock is not None:
            break  # nobody runs or starts this instance: ours to start
        if time.monotonic() > deadline:  # another `up` is starting it, or a `down` is removing it
            print(
                f"sandbox '{instance}' is busy (another up/down holds {lock_file(instance)})", file=sys.stderr
            )
            return 1
        time.sleep(0.1)
    try:
        ready_file(instance).unlink(
            missing_ok=True
        )  # of a process that is gone (it no longer holds the lock)
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
        with open(log_file(instance), "ab") as log:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.sandbox",
                    "serve",
                    "--instance",
                    instance,
                    "--lock-fd",
                    str(lock),
                ],
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=log,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                pass_fds=(lock,),
            )
        pid_file(instance).write_text(str(process.pid))  # so that `down` stops it while it is starting
        while (info := read_ready(instance)) is None or info.get("pid") != process.pid:
            if process.poll() is not None or time.monotonic() > deadline:
                if process.poll() is None:
                    stop_process(process.pid)
                process.wait()
                print(
                    f"sandbox did not start; log: {log_file(instance)}\n"
                    + (log_file(instance).read_text()[-3000:] if log_file(instance).exists() else ""),
                    file=sys.stderr,
                )
                return 1
            time.sleep(0.1)
    finally:
        os.close(lock)  # the serve process holds the lock from here on
    print(
        f"sandbox '{instance}' is up: API {info['url']}, node {info['node_ip']}, pid {info['pid']}",
        file=sys.stderr,
    )
    print(f"use it with: export KUBECONFIG={info['kubeconfig']}", file=sys.stderr)
    print(info["kubeconfig"])
    return 0


def down(instance: str, timeout: float = 60.0) -> int:
    """Stop the instance's process (also one that is still starting), then remove whatever is left, holding
    the instance lock so that no `up` starts it meanwhile."""
    import logging

    import docker

    from .runner import cleanup

    logging.basicConfig(level=logging.WARNING, format="%(message)s")  # cleanup says what it disconnected
    client = docker.from_env()
    try:
        foreign = cleanup.foreign_endpoints(client, instance)
        if foreign:
            names = "\n  ".join(foreign)
            print(f"disconnecting containers the sandbox did not make:\n  {names}", file=sys.stderr)
        deadline = time.monotonic() + timeout
        while (lock := try_lock(instance)) is None:
            for pid in recorded_pids(instance):
                if alive(pid):
                    stop_process(pid)
            if time.monotonic() > deadline:
                print(
                    f"sandbox '{instance}': {lock_file(instance)} stays locked; nothing removed",
                    file=sys.stderr,
                )
                return 1
            time.sleep(0.1)
        try:
            left = cleanup.remove_all(client, instance)
            pid_file(instance).unlink(missing_ok=True)
            lock_file(instance).unlink(missing_ok=True)  # while locked: a waiter notices by the inode check
        finally:
            os.close(lock)
    finally:
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


def all_instances() -> list[str]:
    """Every instance this host knows of: by its Docker network, its state directory or its lock file."""
    import docker

    from .runner.settings import LABEL, LABEL_ROLE

    client = docker.from_env()
    try:
        found = {
            n.attrs.get("Labels", {}).get(LABEL, "")
            for n in client.networks.list(filters={"label": [LABEL, f"{LABEL_ROLE}=network"]})
        }
    finally:
        client.close()
    root = state_root()
    found |= {p.name for p in root.iterdir() if p.is_dir()}
    found |= {p.stem for p in root.glob("*.lock") if not p.name.startswith(".")}
    return sorted(n for n in found if INSTANCE.fullmatch(n))


def down_stale() -> int:
    """Remove only sandboxes whose owner process is gone (what every Sandbox.start() does first)."""
    import logging

    import docker

    from .runner import cleanup

    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    client = docker.from_env()
    try:
        reaped = cleanup.reap_orphans(client)
    finally:
        client.close()
    print(f"removed stale sandboxes: {', '.join(reaped) or 'none'}", file=sys.stderr)
    return 0


def down_all() -> int:
    codes = [down(instance) for instance in all_instances()]
    return max(codes, default=0)


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


def serve(instance: str, lock_fd: int | None) -> int:
    """The background process: run the sandbox until SIGTERM/SIGINT, then tear it down. It holds the instance
    lock for its whole life (inherited from `up`, or taken here)."""
    import logging
    import threading

    from .cluster import Sandbox

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    lock = lock_fd if lock_fd is not None else try_lock(instance)
    if lock is None:
        print(f"sandbox '{instance}' is locked by another process", file=sys.stderr)
        return 1
    pid_file(instance).write_text(str(os.getpid()))
    sandbox = Sandbox(instance=instance).start()
    try:
        info = {
            "pid": os.getpid(),
            "kubeconfig": str(sandbox.kubeconfig),
            "url": sandbox.url,
            "node_ip": sandbox.node_ip,
            "instance": instance,
        }
        if not stopping.is_set():  # a `down` while starting: never announce a sandbox that is going away
            tmp = ready_file(instance).with_suffix(".tmp")
            tmp.write_text(json.dumps(info))
            tmp.replace(ready_file(instance))
        stopping.wait()
    finally:
        left = sandbox.stop()
        logging.info("stopped; left behind: %s", left or "nothing")
    return 0


def instance_name(value: str) -> str:
    if not INSTANCE.fullmatch(value):
        raise argparse.ArgumentTypeError("1-8 characters of [a-z0-9]")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.sandbox",
        description="gefyra's Kubernetes TEST AND DEMO sandbox (not a distribution)",
    )
    parser.add_argument("command", choices=["up", "down", "status", "serve"])
    parser.add_argument(
        "--instance", type=instance_name, default="cluster", help="name of this sandbox (1-8 of [a-z0-9])"
    )
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds `up` waits for the sandbox")
    parser.add_argument("--all", action="store_true", help="down: every sandbox instance on this host")
    parser.add_argument(
        "--stale", action="store_true", help="down: only sandboxes whose owner process is gone"
    )
    parser.add_argument("--lock-fd", type=int, default=None, help=argparse.SUPPRESS)  # serve, from `up`
    args = parser.parse_args(argv)
    if (args.all or args.stale) and args.command != "down":
        parser.error("--all and --stale only go with down")
    try:
        return run(args)
    except (UnsafeFolder, MissingImage) as error:  # a problem to fix, with what to do: no traceback
        print(f"sandbox: {error}", file=sys.stderr)
        return 1


def run(args: argparse.Namespace) -> int:
    if args.command == "up":
        return up(args.instance, args.timeout)
    if args.command == "down":
        if args.all:
            return down_all()
        return down_stale() if args.stale else down(args.instance)
    if args.command == "status":
        return status(args.instance)
    return serve(args.instance, args.lock_fd)


if __name__ == "__main__":
    sys.exit(main())
