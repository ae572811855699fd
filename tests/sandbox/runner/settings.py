"""Names, labels and address ranges of one sandbox instance."""

from __future__ import annotations

import ipaddress
import os
import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, field_validator

from ..privatedir import private_dir

LABEL = "dev.gefyra.sandbox"  # value: the instance name; on every Docker object the runner makes
LABEL_ROLE = "dev.gefyra.sandbox.role"  # network | infra | container | dns
LABEL_POD_UID = "dev.gefyra.sandbox.pod-uid"
LABEL_POD = "dev.gefyra.sandbox.pod"  # <namespace>/<name>
LABEL_CONTAINER = "dev.gefyra.sandbox.container"
LABEL_RESTARTS = "dev.gefyra.sandbox.restart-count"
LABEL_SPEC_HASH = "dev.gefyra.sandbox.spec-hash"

POD_SUPERNET = ipaddress.ip_network("10.242.0.0/16")  # slot k -> Pods in 10.242.k.0/24 (a Docker network)
SERVICE_SUPERNET = ipaddress.ip_network(
    "10.243.0.0/16"
)  # slot k -> Services in 10.243.k.0/24 (unreachable route)
# State of every instance (settings, API certificates, kubeconfig, pid and lock files); see state_root().
STATE_ROOT = Path(os.environ.get("GEFYRA_SANDBOX_STATE") or "/tmp/gefyra-sandbox")


def state_root() -> Path:
    """STATE_ROOT, made (0700) and checked to be a private folder of ours (privatedir.py) before each use."""
    return private_dir(STATE_ROOT)


class Settings(BaseModel):
    """Everything derived from (instance name, slot): Docker names, chain names, ranges, paths."""

    model_config = ConfigDict(frozen=True)

    instance: str
    slot: int
    node_name: str = "sandbox-node"
    cluster_domain: str = "cluster.local"

    @field_validator("instance")
    @classmethod
    def _short_name(cls, value: str) -> str:
        # The name ends up in a bridge name (15 chars max) and in iptables chain names (28 chars max).
        if not re.fullmatch(r"[a-z0-9]{1,8}", value):
            raise ValueError("instance must be 1-8 characters of [a-z0-9]")
        return value

    @field_validator("slot")
    @classmethod
    def _slot_range(cls, value: int) -> int:
        if not 0 <= value <= 255:
            raise ValueError("slot must be 0..255")
        return value

    @property
    def prefix(self) -> str:
        return f"gefyra-sandbox-{self.instance}"

    @property
    def network_name(self) -> str:
        return f"{self.prefix}-cluster" if self.instance != "cluster" else "gefyra-sandbox-cluster"

    @property
    def bridge(self) -> str:
        return f"gsbx-{self.instance}"

    @property
    def pod_cidr(self) -> ipaddress.IPv4Network:
        return ipaddress.ip_network(f"10.242.{self.slot}.0/24")

    @property
    def service_cidr(self) -> ipaddress.IPv4Network:
        return ipaddress.ip_network(f"10.243.{self.slot}.0/24")

    @property
    def gateway(self) -> str:
        """The bridge address on the host; doubles as the Node's InternalIP."""
        return str(self.pod_cidr.network_address + 1)

    @property
    def api_service_ip(self) -> str:
        """ClusterIP of `default/kubernetes`."""
        return str(self.service_cidr.network_address + 1)

    @property
    def dns_service_ip(self) -> str:
        """ClusterIP of `kube-system/kube-dns`."""
        return str(self.service_cidr.network_address + 10)

    def chain(self, suffix: str) -> str:
        return f"GEFYRA-SANDBOX-{self.instance.upper()}-{suffix}"

    @property
    def state_dir(self) -> Path:
        return state_root() / self.instance

    @property
    def labels(self) -> dict[str, str]:
        return {LABEL: self.instance}
