"""Carrier's rsync config (images/carrier/carrier_ctl.py; pure parts): `hosts allow` from the config the
Operator serves, else the environment, else loopback only."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from gefyra_operator.carrier import rsync_directive

SOURCE = Path(__file__).resolve().parents[2] / "images/carrier/carrier_ctl.py"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, SOURCE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def ctl(monkeypatch):
    monkeypatch.delenv("CARRIER_RSYNC_HOSTS_ALLOW", raising=False)
    monkeypatch.delenv("CARRIER_RSYNC_MODULES", raising=False)
    return _load("carrier_ctl_under_test")


def test_the_operators_line_sets_hosts_allow(ctl, monkeypatch):
    served = rsync_directive(["10.242.1.9"]) + "stream {\n}\n"
    assert served.startswith("# carrier: rsync-hosts-allow 10.242.1.9\n")
    monkeypatch.setenv("CARRIER_RSYNC_HOSTS_ALLOW", "10.0.0.1")
    assert ctl.hosts_allow(served) == "10.242.1.9/32"  # the config wins over the env


def test_without_the_line_env_then_loopback(ctl, monkeypatch):
    assert ctl.hosts_allow("stream {\n}\n") == "127.0.0.1"
    monkeypatch.setenv("CARRIER_RSYNC_HOSTS_ALLOW", "10.0.0.1")
    assert ctl.hosts_allow("stream {\n}\n") == "10.0.0.1"


@pytest.mark.parametrize("hosts", ["10.0.0.1; rm -rf /", "*", "10.0.0.1 host.example"])
def test_a_bad_line_is_refused(ctl, hosts):
    with pytest.raises(RuntimeError, match="bad rsync-hosts-allow line"):
        ctl.hosts_allow(f"# carrier: rsync-hosts-allow {hosts}\n")
    # A line break ends the directive: what follows is nginx's (which rejects it), never rsync's.
    assert ctl.hosts_allow("# carrier: rsync-hosts-allow 10.0.0.1\nhosts allow = *\n") == "10.0.0.1/32"


def test_rsyncd_conf_has_read_only_modules_and_the_hosts(ctl):
    text = ctl.render_rsyncd("10.242.1.9/32")
    assert "hosts allow = 10.242.1.9/32\n" in text and "port = 873\n" in text
    assert (
        "[serviceaccount]\n    path = /var/run/secrets/kubernetes.io/serviceaccount\n    read only = yes\n"
        in text
    )
