"""Cluster client -> Carrier -> Stowaway proxy port -> tunnel -> Cargo -> app; rsync of the service
account."""

from __future__ import annotations

import json
import secrets
import time

import pytest

from gefyra.dataplane.models import CarrierPort, ProxyRoute
from gefyra.dataplane.render import render_carrier_nginx
from gefyra.providers.docker.dataplane.cargo import container_ip
from gefyra.providers.docker.dataplane.files import put_files
from gefyra.providers.docker.dataplane.images import image_tag
from gefyra.providers.docker.dataplane.sync import copy_from_carrier
from tests.dataplane.testbed import HTTP_PORT, TCP_PORT

pytestmark = [pytest.mark.docker, pytest.mark.slow]
HTTP_ROUTE_PORT, TCP_ROUTE_PORT = 10080, 10090
CONTROL_PORT = 10001


def _poll(check, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.2)


@pytest.fixture(scope="module")
def service_account(tmp_path_factory):
    folder = tmp_path_factory.mktemp("serviceaccount")
    files = {"token": secrets.token_urlsafe(48), "namespace": "default", "ca.crt": "-----BEGIN CERT-----\n"}
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder, files


@pytest.fixture(scope="module")
def carrier(bed, service_account):
    """Routes on Stowaway, a config server standing in for the Operator, and Carrier fetching from it."""
    app_ip = bed.ips["app"]
    bed.api.put_route(
        ProxyRoute(name="br-http", listen_port=HTTP_ROUTE_PORT, target_host=app_ip, target_port=HTTP_PORT)
    )
    bed.api.put_route(
        ProxyRoute(name="br-tcp", listen_port=TCP_ROUTE_PORT, target_host=app_ip, target_port=TCP_PORT)
    )
    config = render_carrier_nginx(
        [
            CarrierPort(port=HTTP_PORT, upstream_host=bed.ips["stowaway"], upstream_port=HTTP_ROUTE_PORT),
            CarrierPort(
                port=TCP_PORT, upstream_host=bed.ips["stowaway"], upstream_port=TCP_ROUTE_PORT, protocol="tcp"
            ),
        ]
    )
    server = bed.workload("cfg", bed.cluster_net, "serve", "--http", "8080")
    put_files(bed.engine, server.id, {"/srv/carrier.conf": config}, mode=0o644)
    folder, _ = service_account
    container = bed.client.containers.create(
        image_tag("carrier"),
        name=bed.name("carrier"),
        network=bed.cluster_net,
        environment={
            "CARRIER_CONFIG_URL": f"http://{bed.ips['cfg']}:8080/files/carrier.conf",
            "CARRIER_CONTROL_PORT": str(CONTROL_PORT),
            # Only clients coming through the tunnel (masqueraded by Stowaway) may read the modules.
            "CARRIER_RSYNC_HOSTS_ALLOW": bed.ips["stowaway"],
        },
        volumes={str(folder): {"bind": "/var/run/secrets/kubernetes.io/serviceaccount", "mode": "ro"}},
        labels=bed.labels,
        detach=True,
    )
    container.start()
    bed.containers["carrier"] = container
    bed.ips["carrier"] = container_ip(bed.engine, container.id, bed.cluster_net)
    bed.workload("client", bed.cluster_net, "serve", "--http", "8080")
    return container


def test_carrier_forwards_http_to_the_app(bed, carrier):
    url = f"http://{bed.ips['carrier']}:{HTTP_PORT}/"
    result = _poll(lambda: bed.run_in("client", "get", url)[1].strip() == "hello from app")
    assert result, bed.run_in("client", "get", url)


def test_carrier_forwards_a_raw_tcp_stream_to_the_app(bed, carrier):
    _poll(lambda: bed.run_in("client", "get", f"http://{bed.ips['carrier']}:{HTTP_PORT}/")[0] == 0)
    code, out = bed.run_in("client", "echo", bed.ips["carrier"], str(TCP_PORT), "1", "2048")
    result = json.loads(out)
    assert code == 0 and result["errors"] == [], result
    assert result["sent"] > 1_000_000 and result["received"] == result["sent"] and result["intact"]


def test_carrier_reload_fetches_the_new_config(bed, carrier):
    extra = 8081
    config = render_carrier_nginx(
        [
            CarrierPort(port=HTTP_PORT, upstream_host=bed.ips["stowaway"], upstream_port=HTTP_ROUTE_PORT),
            CarrierPort(port=extra, upstream_host=bed.ips["stowaway"], upstream_port=HTTP_ROUTE_PORT),
        ]
    )
    put_files(bed.engine, bed.containers["cfg"].id, {"/srv/carrier.conf": config}, mode=0o644)
    # The control port is not published: reach it from the cluster client, as the Operator would.
    code, out = bed.run_in("client", "post", f"http://{bed.ips['carrier']}:{CONTROL_PORT}/reload")
    assert code == 0 and json.loads(out)["result"] == "reloaded", out
    url = f"http://{bed.ips['carrier']}:{extra}/"
    assert _poll(lambda: bed.run_in("client", "get", url)[1].strip() == "hello from app")


def test_rsync_copies_the_service_account_into_a_local_folder(bed, carrier, service_account, tmp_path):
    folder, files = service_account
    dest = tmp_path / "sa"
    copy_from_carrier(bed.engine, bed.containers["cargo"].id, bed.ips["carrier"], "serviceaccount", dest)
    assert {p.name: p.read_text() for p in dest.iterdir()} == files


def test_carrier_module_is_read_only(bed, carrier, tmp_path):
    """An upload into the module is refused by the rsync daemon."""
    result = bed.client.containers.run(
        image_tag("cargo"),
        entrypoint=["sh", "-c"],
        command=[
            f"echo x >/tmp/x; rsync /tmp/x rsync://{bed.ips['carrier']}/serviceaccount/x 2>&1; echo rc=$?"
        ],  # noqa: E501
        network_mode=f"container:{bed.containers['cargo'].id}",
        remove=True,
    ).decode()
    assert "module is read only" in result and not result.rstrip().endswith("rc=0"), result


def test_rsync_from_outside_the_tunnel_is_refused(bed, carrier):
    """A cluster client that does not come through Stowaway cannot list or read the service account."""
    output = bed.client.containers.run(
        image_tag("cargo"),
        entrypoint=["sh", "-c"],
        command=[f"rsync rsync://{bed.ips['carrier']}/serviceaccount/ 2>&1; echo rc=$?"],
        network=bed.cluster_net,
        labels=bed.labels,
        remove=True,
    ).decode()
    assert "access denied" in output and not output.rstrip().endswith("rc=0"), output


def test_rsync_through_a_stopped_cargo_says_so(docker_client, engine, dataplane_images, tmp_path):
    """The engine refuses to join a stopped container's namespace: a ProviderError naming Cargo, not a raw
    docker APIError."""
    from gefyra.errors import ProviderError
    from gefyra.providers.docker.dataplane.gateway import HELPER_LABEL
    from tests.dataplane.testbed import TEST_LABEL, new_run_id

    run_id = new_run_id("dps")
    cargo = docker_client.containers.create(
        image_tag("cargo"), name=f"gefyra-dp-{run_id}-cargo", labels={TEST_LABEL: run_id}, network_mode="none"
    )
    try:
        with pytest.raises(ProviderError, match=f"cannot enter Cargo gefyra-dp-{run_id}-cargo's network"):
            copy_from_carrier(engine, cargo.name, "100.87.0.9", "serviceaccount", tmp_path / "sa")
        # The helper whose start failed is gone too (the SDK's run(remove=True) used to leave it Created).
        joined = f"container:{cargo.id}"
        leftovers = [
            c.name
            for c in docker_client.containers.list(all=True, filters={"label": HELPER_LABEL})
            if c.attrs["HostConfig"]["NetworkMode"] == joined
        ]
        assert leftovers == []
    finally:
        cargo.remove(force=True)


def test_rsync_without_hosts_allow_serves_loopback_only(bed, carrier, service_account):
    """Without CARRIER_RSYNC_HOSTS_ALLOW the service-account token is served to no one but loopback."""
    folder, files = service_account
    container = bed.client.containers.create(
        image_tag("carrier"),
        name=bed.name("carrier-default"),
        network=bed.cluster_net,
        environment={"CARRIER_CONFIG_URL": f"http://{bed.ips['cfg']}:8080/files/carrier.conf"},
        volumes={str(folder): {"bind": "/var/run/secrets/kubernetes.io/serviceaccount", "mode": "ro"}},
        labels=bed.labels,
        detach=True,
    )
    try:
        container.start()
        address = container_ip(bed.engine, container.id, bed.cluster_net)
        listing = _poll(
            lambda: (
                (r := container.exec_run(["rsync", "rsync://127.0.0.1/serviceaccount/"])).exit_code == 0
                and r.output.decode()
            )
        )
        assert listing and "token" in listing, container.logs(tail=20)
        conf = container.exec_run(["cat", "/run/carrier/rsyncd.conf"]).output.decode()
        assert "hosts allow = 127.0.0.1\n" in conf, conf
        # Not even through the tunnel (Stowaway's address) nor from another cluster client.
        through_tunnel = {"network_mode": f"container:{bed.containers['cargo'].id}"}
        for where in (through_tunnel, {"network": bed.cluster_net}):
            output = bed.client.containers.run(
                image_tag("cargo"),
                entrypoint=["sh", "-c"],
                command=[f"rsync rsync://{address}/serviceaccount/token 2>&1; echo rc=$?"],
                labels=bed.labels,
                remove=True,
                **where,
            ).decode()
            assert "access denied" in output and files["token"] not in output, (where, output)
    finally:
        container.remove(force=True)
