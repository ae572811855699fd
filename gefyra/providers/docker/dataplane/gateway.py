"""Make Cargo the default gateway of an app container from outside it.

A short-lived container from the Cargo image joins the app's network namespace with NET_ADMIN and runs
`ip route replace default via <cargo>`; the app itself keeps no privileges. A restarted app gets a fresh
namespace, so callers check `default_gateway` and patch again (idempotent).
"""

from __future__ import annotations

import ipaddress

from gefyra.errors import ProviderError
from gefyra.model import labels
from gefyra.providers.docker.dataplane.files import put_files
from gefyra.providers.docker.dataplane.images import image_tag
from gefyra.providers.docker.engine import ContainerCreate, ContainerRow, Engine
from gefyra.providers.errors import EngineError

HELPER_LABEL = labels.HELPER


class HelperFailed(ProviderError):
    """A helper container ran and exited non-zero; `stderr` is what it said."""

    def __init__(self, message: str, stderr: str) -> None:
        super().__init__(message)
        self.stderr = stderr


def run_in_netns(
    engine: Engine,
    target: str,
    entrypoint: str,
    args: list[str],
    *,
    role: str,
    image: str | None = None,
    cap_add: list[str] | None = None,
    binds: list[str] | None = None,
) -> str:
    """Run `entrypoint args` in a short-lived helper container (Cargo image) sharing `target`'s network
    namespace; its output. HelperFailed when it exits non-zero, an EngineError when it cannot run.

    Create, start, wait and remove by hand: when the start fails (a stopped target, say) nothing is left."""
    helper = engine.create_container(
        ContainerCreate(
            image=image or image_tag("cargo"),
            entrypoint=[entrypoint],
            command=list(args),
            network_mode=f"container:{target}",
            labels={HELPER_LABEL: role, labels.HELPER_FOR: target},
            cap_add=cap_add,
            binds=list(binds or ()),
        )
    )
    try:
        engine.start(helper)
        status = engine.wait(helper)
        if status != 0:
            stderr = engine.logs(helper, stdout=False, stderr=True).strip()
            raise HelperFailed(f"{entrypoint} exited with {status}: {stderr}", stderr)
        return engine.logs(helper)
    finally:
        engine.remove_container(helper)


def _in_netns(engine: Engine, app: str, *args: str, image: str | None = None) -> str:
    try:
        return run_in_netns(engine, app, "ip", list(args), role="netns", image=image, cap_add=["NET_ADMIN"])
    except HelperFailed as error:
        command = " ".join(args)
        raise ProviderError(f"`ip {command}` in {app}'s network namespace failed: {error.stderr}") from None
    except EngineError as error:
        raise ProviderError(f"cannot enter {app}'s network namespace: {error}") from None


def default_gateway(engine: Engine, app: str, *, image: str | None = None) -> str | None:
    """The app's current IPv4 default gateway, or None when it has no default route."""
    for line in _in_netns(engine, app, "-4", "route", "show", "default", image=image).splitlines():
        fields = line.split()
        if "via" in fields:
            return fields[fields.index("via") + 1]
    return None


def patch_default_route(engine: Engine, app: str, cargo_ip: str, *, image: str | None = None) -> bool:
    """Route the app's traffic through Cargo; returns False when it already did (nothing changed)."""
    cargo_ip = str(ipaddress.ip_address(cargo_ip))
    info = engine.inspect_container(app)
    if not info.state.running:
        raise ProviderError(
            f"app container {info.name} is {info.state.status}; only a running one can be patched"
        )
    if default_gateway(engine, app, image=image) == cargo_ip:
        return False
    _in_netns(engine, app, "-4", "route", "replace", "default", "via", cargo_ip, image=image)
    return True


def route_note_name(app_labels: dict[str, str]) -> str:
    """The note of one app (`<kind>.<name>`: one file per app, however often it is replaced)."""
    return f"{app_labels.get(labels.KIND)}.{app_labels.get(labels.NAME)}"


def routed_endpoint(notes: dict[str, str], app: ContainerRow) -> str:
    """The endpoint id of the start of `app` (a list row) that Cargo routed, per its notes; "" when none."""
    container_id, _, endpoint = notes.get(route_note_name(app.labels), "").partition(" ")
    return endpoint if container_id == app.id else ""


def route_and_note(
    engine: Engine, cargo: str, app: str, cargo_ip: str, network: str, *, image: str | None = None
) -> None:
    """Point the default route of `app`'s namespace at Cargo, then note in Cargo which start of `app` is
    routed (read back by observe). One helper container: `ip route replace` is idempotent by itself, so
    there is nothing to look at first (each helper costs a create, start, wait and remove)."""
    cargo_ip = str(ipaddress.ip_address(cargo_ip))
    info = engine.inspect_container(app)
    if not info.state.running:
        raise ProviderError(f"container {info.name} is {info.state.status}; only a running one can be routed")
    _in_netns(engine, app, "-4", "route", "replace", "default", "via", cargo_ip, image=image)
    found = info.networks.get(network)
    note = f"{info.id} {found.endpoint_id if found else ''}"
    put_files(engine, cargo, {f"{labels.NOTES_FOLDER}/{route_note_name(info.labels)}": note})
