"""Make Cargo the default gateway of an app container from outside it.

A short-lived container from the Cargo image joins the app's network namespace with NET_ADMIN and runs
`ip route replace default via <cargo>`; the app itself keeps no privileges. A restarted app gets a fresh
namespace, so callers check `default_gateway` and patch again (idempotent).
"""

from __future__ import annotations

import ipaddress

from gefyra.dataplane.images import image_tag
from gefyra.errors import ProviderError
from gefyra.model import labels

HELPER_LABEL = labels.HELPER


def run_in_netns(
    client, target, entrypoint: str, args: list[str], *, role: str, image: str | None = None, **run
) -> str:
    """Run `entrypoint args` in a short-lived helper container (Cargo image) sharing `target`'s network
    namespace; its output, or ContainerError / APIError from the engine (callers word the message).

    Create, start, wait and remove by hand rather than `containers.run(remove=True)`: when the start fails
    (a stopped target, say) the SDK leaves the created helper behind."""
    import docker.errors

    image = image or image_tag("cargo")
    helper = client.containers.create(
        image,
        entrypoint=[entrypoint],
        command=list(args),
        network_mode=f"container:{target.id}",
        labels={HELPER_LABEL: role},
        **run,
    )
    try:
        helper.start()
        status = helper.wait().get("StatusCode", 1)
        if status != 0:
            stderr = helper.logs(stdout=False, stderr=True)
            raise docker.errors.ContainerError(helper, status, [entrypoint, *args], image, stderr)
        return (helper.logs(stdout=True, stderr=True) or b"").decode(errors="replace")
    finally:
        helper.remove(force=True)


def helper_stderr(error) -> str:
    """The helper's stderr from a docker ContainerError."""
    return (error.stderr or b"").decode(errors="replace").strip()


def _in_netns(client, app, *args: str, image: str | None = None) -> str:
    import docker.errors

    try:
        return run_in_netns(client, app, "ip", list(args), role="netns", image=image, cap_add=["NET_ADMIN"])
    except docker.errors.ContainerError as error:
        command = " ".join(args)
        raise ProviderError(
            f"`ip {command}` in {app.name}'s network namespace failed: {helper_stderr(error)}"
        ) from None
    except docker.errors.APIError as error:
        raise ProviderError(f"cannot enter {app.name}'s network namespace: {error.explanation}") from None


def default_gateway(client, app, *, image: str | None = None) -> str | None:
    """The app's current IPv4 default gateway, or None when it has no default route."""
    for line in _in_netns(client, app, "-4", "route", "show", "default", image=image).splitlines():
        fields = line.split()
        if "via" in fields:
            return fields[fields.index("via") + 1]
    return None


def patch_default_route(client, app, cargo_ip: str, *, image: str | None = None) -> bool:
    """Route the app's traffic through Cargo; returns False when it already did (nothing changed)."""
    cargo_ip = str(ipaddress.ip_address(cargo_ip))
    app.reload()
    if app.status != "running":
        raise ProviderError(f"app container {app.name} is {app.status}; only a running one can be patched")
    if default_gateway(client, app, image=image) == cargo_ip:
        return False
    _in_netns(client, app, "-4", "route", "replace", "default", "via", cargo_ip, image=image)
    return True


def endpoint_of(container: dict, network: str) -> str:
    """The container's endpoint id on `network` (a list row or inspect data): Docker makes a new one at every
    start, so it tells a start gefyra routed from a later `docker restart` (a fresh namespace, no route)."""
    networks = (container.get("NetworkSettings") or {}).get("Networks") or {}
    return (networks.get(network) or {}).get("EndpointID") or ""


def route_note_name(app_labels: dict) -> str:
    """The note of one app (`<kind>.<name>`: one file per app, however often it is replaced)."""
    return f"{app_labels.get(labels.KIND)}.{app_labels.get(labels.NAME)}"


def routed_endpoint(notes: dict[str, str], app: dict) -> str:
    """The endpoint id of the start of `app` (a list row) that Cargo routed, per its notes; "" when none."""
    container_id, _, endpoint = notes.get(route_note_name(app.get("Labels") or {}), "").partition(" ")
    return endpoint if container_id == app.get("Id") else ""


def route_and_note(client, cargo, app, cargo_ip: str, network: str, *, image: str | None = None) -> bool:
    """patch_default_route, then note in Cargo which start of `app` is routed (read back by observe)."""
    from gefyra.dataplane.files import put_files

    changed = patch_default_route(client, app, cargo_ip, image=image)
    note = f"{app.id} {endpoint_of(app.attrs, network)}"
    put_files(cargo, {f"{labels.NOTES_FOLDER}/{route_note_name(app.labels)}": note})
    return changed
