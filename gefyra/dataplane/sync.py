"""Copy a read-only rsync module of a Carrier (e.g. the Pod's service-account directory) into a local folder.

A short-lived container from the Cargo image shares Cargo's network namespace, so it reaches the Pod IP
through the tunnel like any app, and writes into `dest` through a bind mount.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

from gefyra.dataplane.gateway import helper_stderr, run_in_netns
from gefyra.errors import ProviderError

MODULE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def copy_from_carrier(
    client, cargo, carrier_ip: str, module: str, dest: Path, *, port: int = 873, image: str | None = None
) -> None:
    """`rsync -a --delete rsync://<carrier>:<port>/<module>/ <dest>/` through the tunnel."""
    import docker.errors

    carrier_ip = str(ipaddress.ip_address(carrier_ip))
    if not MODULE_RE.match(module):
        raise ValueError(f"invalid rsync module name {module!r}")
    dest = Path(dest).resolve()
    dest.mkdir(parents=True, exist_ok=True)
    source = f"rsync://{carrier_ip}:{int(port)}/{module}/"
    try:
        run_in_netns(
            client,
            cargo,
            "rsync",
            ["-a", "--delete", "--timeout=20", source, "/dest/"],
            role="rsync",
            image=image,
            volumes={str(dest): {"bind": "/dest", "mode": "rw"}},
        )
    except docker.errors.ContainerError as error:
        raise ProviderError(f"rsync from {source} failed: {helper_stderr(error)}") from None
    except docker.errors.APIError as error:
        why = error.explanation
        raise ProviderError(f"cannot enter Cargo {cargo.name}'s network namespace: {why}") from None
