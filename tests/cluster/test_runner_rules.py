"""The runner's pure parts, without Docker or a server: kube-proxy rules, environment, DNS records, template
hashes, Pod phase, Endpoints, selectors and volume files."""

from __future__ import annotations

import pytest

from tests.sandbox.runner import deployments, dns, endpoints, podenv, podstatus, proxy, selectors, volumes
from tests.sandbox.runner.settings import Settings

SETTINGS = Settings(instance="unit", slot=7)


def service(name, ports, cluster_ip="10.243.7.20", kind="ClusterIP", selector=None, namespace="ns"):
    return {
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "clusterIP": cluster_ip,
            "type": kind,
            "ports": ports,
            "selector": selector or {"app": name},
        },
    }


def pod(name, ip, ready=True, labels=None, ports=None, **spec):
    return {
        "metadata": {"name": name, "namespace": "ns", "uid": f"uid-{name}", "labels": labels or {}},
        "spec": {"containers": [{"name": "c", "ports": ports or []}], **spec},
        "status": {"podIP": ip, "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]},
    }


def test_proxy_spreads_over_endpoints_and_adds_node_ports():
    svc = service(
        "web", [{"name": "http", "port": 80, "nodePort": 30080, "protocol": "TCP"}], kind="NodePort"
    )
    eps = {
        ("ns", "web"): {
            "subsets": [
                {
                    "ports": [{"name": "http", "port": 8080}],
                    "addresses": [{"ip": "10.242.7.3"}, {"ip": "10.242.7.2"}],
                }
            ]
        }
    }
    text = proxy.render(SETTINGS, [svc, service("headless", [{"port": 1}], cluster_ip="None")], eps)
    lines = text.splitlines()
    svc_chain, np_chain = SETTINGS.chain("SVC"), SETTINGS.chain("NP")
    dnat = [line for line in lines if line.startswith(f"-A {svc_chain} -d 10.243.7.20/32")]
    assert "--probability 0.50000" in dnat[0] and dnat[0].endswith("--to-destination 10.242.7.2:8080")
    assert "statistic" not in dnat[1] and dnat[1].endswith("--to-destination 10.242.7.3:8080")
    assert len([line for line in lines if line.startswith(f"-A {np_chain} -p tcp -m tcp --dport 30080")]) == 2
    # Only this instance's Node IP and non-sandbox local addresses: never another sandbox's Node IP.
    assert f"-A {svc_chain} -d {SETTINGS.gateway}/32 -j {np_chain}" in lines
    assert f"-A {svc_chain} ! -d 10.242.0.0/16 -m addrtype --dst-type LOCAL -j {np_chain}" in lines
    assert "headless" not in text and lines[0] == "*nat" and lines[-1] == "COMMIT"


def test_udp_flush_is_scoped_to_this_instance():
    local = proxy.node_addresses(
        "1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever\n"
        "2: eth0    inet 192.0.2.2/24 brd 192.0.2.255 scope global eth0\\       valid_lft forever\n"
        "3: gsbx-b    inet 10.242.3.1/24 brd 10.242.3.255 scope global gsbx-b\\       valid_lft forever\n"
        "4: docker0    inet 172.17.0.1/16 brd 172.17.255.255 scope global docker0\\       valid_lft forever\n"
    )
    assert local == ["127.0.0.1", "172.17.0.1", "192.0.2.2"]  # not another sandbox's Node IP
    commands = proxy.flush_commands(SETTINGS, ("10.243.7.30", 53, 30053), ("10.242.7.5:5353",), local)
    assert ["conntrack", "-D", "-p", "udp", "--orig-dst", "10.243.7.30", "--orig-port-dst", "53"] in commands
    for command in commands:  # never "every flow to this nodePort": always our ClusterIP, Node IP or Pods
        assert {"--orig-dst", "--reply-src"} & set(command), command
    udp = ["conntrack", "-D", "-p", "udp"]
    assert [*udp, "--orig-dst", "10.242.7.1", "--orig-port-dst", "30053"] in commands
    assert [*udp, "--orig-port-dst", "30053", "--reply-src", "10.242.7.5"] in commands
    for address in local:  # flows that reached no sandbox (no rule yet): on every node address
        assert [*udp, "--orig-dst", address, "--orig-port-dst", "30053", "--reply-src", address] in commands


def test_proxy_without_endpoints_writes_no_rule():
    text = proxy.render(SETTINGS, [service("lonely", [{"port": 80}])], {})
    assert "DNAT" not in text


def test_env_expansion_precedence_and_missing_references():
    env = {"A": "1"}
    assert podenv.expand("$(A)-$(B)-$$(A)", env) == "1-$(B)-$(A)"
    cms = {("ns", "cm"): {"data": {"K": "from-cm"}}}
    lookup = lambda ns, name: cms.get((ns, name))  # noqa: E731
    container = {
        "envFrom": [{"configMapRef": {"name": "cm"}}],
        "env": [
            {"name": "K", "value": "explicit"},
            {"name": "REF", "value": "$(K)!"},
            {"name": "OPT", "valueFrom": {"configMapKeyRef": {"name": "none", "key": "x", "optional": True}}},
        ],
    }
    p = pod("p", "10.242.7.9")
    result = podenv.container_env(
        container, p, "10.242.7.9", "10.242.7.1", [service("web", [{"port": 80}])], lookup, lookup
    )
    assert result["K"] == "explicit" and result["REF"] == "explicit!" and "OPT" not in result
    assert result["WEB_SERVICE_HOST"] == "10.243.7.20" and result["WEB_PORT_80_TCP_PORT"] == "80"
    with pytest.raises(podenv.ConfigError, match='configmap "absent" not found'):
        podenv.container_env(
            {"envFrom": [{"configMapRef": {"name": "absent"}}]}, p, "", "", [], lookup, lookup
        )
    assert podenv.field_value(pod("p", "x", labels={"team": "a"}), "metadata.labels['team']", "", "") == "a"


def test_dns_records_for_cluster_ip_and_headless_services():
    headless = service("db", [{"port": 80}], cluster_ip="None")
    eps = {("ns", "db"): {"subsets": [{"addresses": [{"ip": "10.242.7.5", "hostname": "db-0"}]}]}}
    text = dns.hosts_text(SETTINGS, [service("web", [{"port": 80}]), headless], eps)
    assert text.splitlines() == [
        "10.242.7.5 db.ns.svc.cluster.local",
        "10.242.7.5 db-0.db.ns.svc.cluster.local",
        "10.243.7.20 web.ns.svc.cluster.local",
    ]


def test_template_hash_ignores_nulls_and_the_hash_label():
    template = {"metadata": {"labels": {"app": "a"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}
    noisy = {
        "metadata": {
            "labels": {"app": "a", "pod-template-hash": "x"},
            "creationTimestamp": None,
            "annotations": {},
        },
        "spec": {"containers": [{"name": "c", "image": "i"}]},
    }
    assert deployments.template_hash(template) == deployments.template_hash(noisy)
    assert len(deployments.template_hash(template)) == 10
    assert set(deployments.template_hash(template)) <= set(deployments.SAFE)
    changed = {**template, "spec": {"containers": [{"name": "c", "image": "j"}]}}
    assert deployments.template_hash(changed) != deployments.template_hash(template)


@pytest.mark.parametrize(
    ("policy", "states", "phase"),
    [
        ("Always", [{"running": {}}], "Running"),
        ("Never", [{"terminated": {"exitCode": 0}}], "Succeeded"),
        ("Never", [{"terminated": {"exitCode": 2}}], "Failed"),
        ("OnFailure", [{"terminated": {"exitCode": 0}}, {"terminated": {"exitCode": 0}}], "Succeeded"),
        ("Always", [{"waiting": {"reason": "CrashLoopBackOff"}}], "Running"),
        ("Always", [{"waiting": {"reason": "ContainerCreating"}}], "Pending"),
    ],
)
def test_pod_phase(policy, states, phase):
    statuses = [{"state": s} for s in states]
    assert podstatus.phase({"spec": {"restartPolicy": policy}}, statuses, initialized=True) == phase


def test_endpoints_resolve_named_ports_and_split_by_readiness():
    svc = service("web", [{"name": "http", "port": 80, "targetPort": "web"}])
    ports = [{"name": "web", "containerPort": 8080, "protocol": "TCP"}]
    pods = [
        pod("a", "10.242.7.2", ports=ports),
        pod("b", "10.242.7.3", ready=False, ports=ports),
        pod("c", None, ports=ports),
    ]
    (subset,) = endpoints.subsets(svc, pods)
    assert subset["ports"] == [{"port": 8080, "protocol": "TCP", "name": "http"}]
    assert [a["ip"] for a in subset["addresses"]] == ["10.242.7.2"]
    assert [a["ip"] for a in subset["notReadyAddresses"]] == ["10.242.7.3"]


def test_label_selector_expressions():
    selector = {
        "matchLabels": {"app": "a"},
        "matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["web", "api"]},
            {"key": "canary", "operator": "DoesNotExist"},
        ],
    }
    assert selectors.matches(selector, {"app": "a", "tier": "web"})
    assert not selectors.matches(selector, {"app": "a", "tier": "db"})
    assert not selectors.matches(selector, {"app": "a", "tier": "web", "canary": "1"})
    assert selectors.matches(None, {"any": "thing"})


def test_volume_files_are_synced_exactly(tmp_path):
    volumes.sync_files(tmp_path, {"a": (b"1", 0o644), "dir/b": (b"2", 0o600)})
    volumes.sync_files(tmp_path, {"a": (b"changed", 0o644)})
    assert (tmp_path / "a").read_bytes() == b"changed"
    assert not (tmp_path / "dir").exists()


def test_cli_rejects_bad_instance_names_and_misplaced_flags(capsys):
    from tests.sandbox.__main__ import main

    for argv in (["up", "--instance", "Bad"], ["down", "--instance", "toolongname"], ["up", "--all"]):
        with pytest.raises(SystemExit) as exited:
            main(argv)
        assert exited.value.code == 2, argv
    assert "1-8 characters of [a-z0-9]" in capsys.readouterr().err
