"""`Sandbox`: the whole test cluster (API server + runner) from Python, for tests, the bench and the demo.

TEST AND DEMO SANDBOX ONLY - not a Kubernetes distribution; real work runs on any real cluster.

    from tests.sandbox.cluster import Sandbox
    sandbox = Sandbox(instance="demo").start()
    sandbox.kubeconfig           # a kubeconfig for kubectl, the official client and kopf
    sandbox.stop()               # removes every container, network, iptables rule and route it made
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import Any

from .images import BASE_IMAGE, require_base
from .runner import cleanup, netsetup
from .runner.runner import Runner
from .runner.settings import Settings

log = logging.getLogger(__name__)
INFRA_IMAGE = BASE_IMAGE  # the Pod infra ("pause") container only sleeps


def random_instance() -> str:
    return "t" + secrets.token_hex(3)[:5]


class Sandbox:
    """A one-node Kubernetes test cluster on the local Docker engine."""

    def __init__(self, instance: str = "cluster", docker_client: Any = None) -> None:
        self.instance = instance
        self._docker = docker_client
        self._own_docker = docker_client is None
        self.settings: Settings | None = None
        self.api: Any = None
        self.runner: Runner | None = None

    @property
    def docker(self) -> Any:
        if self._docker is None:
            import docker

            # Kubelet workers, the event stream and the prober share it: a pool larger than the default 10.
            self._docker = docker.from_env(timeout=120, max_pool_size=32)
        return self._docker

    def start(self) -> Sandbox:
        from .apiserver.serve import start as start_api

        # Never adopt the network of an instance another live process runs (its stop() would be ours to race).
        owner = cleanup.owner_pid(self.instance)
        if owner is not None and owner != os.getpid() and cleanup.alive(owner):
            raise RuntimeError(f"sandbox {self.instance!r} is in use by process {owner}")
        require_base(self.docker)  # MissingImage saying how to make it, before anything is made
        try:
            cleanup.reap_orphans(self.docker)
            with netsetup.slot_lock():  # the slot (network + route) is taken as one step
                self.settings = netsetup.create_network(self.docker, self.instance)
                cleanup.save_settings(self.settings)
                netsetup.setup_host(self.settings)
            # The server listens on the bridge address: the host reaches it there, and Pods through the
            # `kubernetes` Service (ClusterIP -> DNAT -> this address), with a certificate valid for both.
            self.api = start_api(
                state_dir=self.settings.state_dir / "api",
                host=self.settings.gateway,
                service_cidr=str(self.settings.service_cidr),
                extra_sans=["kubernetes", "kubernetes.default", "kubernetes.default.svc"],
            )
            self.runner = Runner(self.settings, self.api.kubeconfig, self.docker, INFRA_IMAGE)
            self.runner.start()
            # `kubectl logs` / read_namespaced_pod_log: the API server asks the runtime (the kubelet's job).
            if self.api.server is not None:
                self.api.server.set_log_source(self.runner.runtime.logs)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> list[str]:
        """Stop everything and remove what the sandbox made; returns leftovers (empty when clean)."""
        if self.runner is not None:
            self.runner.stop()
            self.runner = None
        if self.api is not None:
            self.api.stop()
            self.api = None
        left = cleanup.remove_all(self.docker, self.instance)
        if self._own_docker and self._docker is not None:
            self._docker.close()
            self._docker = None
        return left

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- handy accessors ------------------------------------------------------------------------------------
    @property
    def kubeconfig(self) -> Path:
        return self.api.kubeconfig

    @property
    def url(self) -> str:
        return self.api.url

    @property
    def node_ip(self) -> str:
        assert self.settings is not None
        return self.settings.gateway

    def api_client(self) -> Any:
        """A fresh official-client ApiClient for this sandbox (independent of $KUBECONFIG)."""
        from kubernetes import config

        return config.new_client_from_config(config_file=str(self.kubeconfig))
