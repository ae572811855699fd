"""Copy a read-only rsync module of a Carrier (e.g. the Pod's service-account directory) into a local folder.

A short-lived container from the Cargo image shares Cargo's network namespace, so it reaches the Pod IP
through the tunnel like any app, and writes into `dest` through a bind mount.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

from gefyra.dataplane.gateway import HELPER_LABEL
from gefyra.dataplane.images import image_tag
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
        client.containers.run(
            image or image_tag("cargo"),
            entrypoint=["rsync"],
            command=["-a", "--delete", "--timeout=20", source, "/dest/"],
            network_mode=f"container:{cargo.id}",
            volumes={str(dest): {"bind": "/dest", "mode": "rw"}},
            labels={HELPER_LABEL: "rsync"},
            remove=True,
            stdout=True,
            stderr=True,
        )
    except docker.errors.ContainerError as error:
        message = (error.stderr or b"").decode(errors="replace").strip()
        raise ProviderError(f"rsync from {source} failed: {message}") from None
