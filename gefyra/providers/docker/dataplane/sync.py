"""Copy a read-only rsync module of a Carrier (e.g. the Pod's service-account directory) into a local folder.

A short-lived container from the Cargo image shares Cargo's network namespace, so it reaches the Pod IP
through the tunnel like any app, and writes into `dest` through a bind mount.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

from gefyra.errors import ProviderError
from gefyra.providers.docker.dataplane.gateway import HelperFailed, run_in_netns
from gefyra.providers.docker.engine import Engine
from gefyra.providers.errors import EngineError

MODULE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def copy_from_carrier(
    engine: Engine,
    cargo: str,
    carrier_ip: str,
    module: str,
    dest: Path,
    *,
    port: int = 873,
    image: str | None = None,
) -> None:
    """`rsync -a --delete rsync://<carrier>:<port>/<module>/ <dest>/` through the tunnel."""
    carrier_ip = str(ipaddress.ip_address(carrier_ip))
    if not MODULE_RE.match(module):
        raise ValueError(f"invalid rsync module name {module!r}")
    dest = Path(dest).resolve()
    dest.mkdir(parents=True, exist_ok=True)
    source = f"rsync://{carrier_ip}:{int(port)}/{module}/"
    try:
        run_in_netns(
            engine,
            cargo,
            "rsync",
            ["-a", "--delete", "--timeout=20", source, "/dest/"],
            role="rsync",
            image=image,
            binds=[f"{dest}:/dest:rw"],
        )
    except HelperFailed as error:
        raise ProviderError(f"rsync from {source} failed: {error.stderr}") from None
    except EngineError as error:
        raise ProviderError(f"cannot enter Cargo {cargo}'s network namespace: {error}") from None
