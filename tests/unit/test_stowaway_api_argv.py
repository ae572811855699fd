"""Stowaway's control API never puts a secret on a command line (images/stowaway/stowaway_api.py).

`ps` in the running container (tests/dataplane/test_secrets.py) only sees long-lived processes; the API's
`wg`, `ip` and `nginx` calls last milliseconds. Here every command it runs is recorded (its subprocess runner
is replaced by a fake with plausible outputs) while the real HTTP handler serves every endpoint on loopback,
and restore() re-applies the stored peers: no argv may carry a private key, a preshared key or the API token.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import secrets
import subprocess
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest

from gefyra.dataplane.models import ProxyRoute
from gefyra.stowaway.client import StowawayClient

SOURCE = Path(__file__).resolve().parents[2] / "images/stowaway/stowaway_api.py"
# Commands the API may run at all; anything else is a change this test has to learn about.
KNOWN = {
    ("wg", "genkey"),
    ("wg", "pubkey"),
    ("wg", "set"),
    ("wg", "show"),
    ("ip", "-4"),
    ("nginx", "-t"),
    ("nginx", "-s"),
    ("iptables-restore", "--noflush"),
    ("iptables", "-C"),
    ("iptables", "-I"),
}


def _key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def _public(private: str) -> str:
    return base64.b64encode(hashlib.sha256(private.strip().encode()).digest()).decode()


class Recorder:
    """Stands in for `subprocess.run`: records argv and stdin, answers like wg / ip / nginx would."""

    def __init__(self, server_key: str) -> None:
        self.server_key = server_key
        self.calls: list[tuple[list[str], str | None]] = []
        self.private_keys: list[str] = []  # every key `wg genkey` handed out
        self.peers: dict[str, int] = {}  # public key -> rx bytes, as `wg set` left them
        self.jumps: set[tuple[str, ...]] = set()  # iptables rules inserted with -I

    def __call__(self, args, input=None, **_kw):  # noqa: A002 - subprocess.run's keyword
        argv = [str(a) for a in args]
        self.calls.append((argv, input))
        out = ""
        match argv:
            case ["wg", "genkey"]:
                out = _key()
                self.private_keys.append(out)
                out += "\n"
            case ["wg", "pubkey"]:
                assert input, "wg pubkey reads the private key from stdin"
                out = _public(input) + "\n"
            case ["wg", "set", _, "peer", public, "remove"]:
                self.peers.pop(public, None)
            case ["wg", "set", _, "peer", public, *_rest]:
                self.peers.setdefault(public, 1234)
            case ["wg", "show", ifname, "dump"]:
                # Line 1 is the interface and carries the server's private key, as the real dump does.
                lines = [f"{self.server_key}\t{_public(self.server_key)}\t51820\toff"]
                lines += [
                    f"{p}\t(none)\t172.18.0.1:40000\t100.87.0.2/32\t1764000000\t{rx}\t99\toff"
                    for p, rx in self.peers.items()
                ]
                out = "\n".join(lines) + "\n"
                assert ifname == "wg0"
            case ["iptables", "-C", *rule]:
                code = 0 if tuple(rule) in self.jumps else 1
                return subprocess.CompletedProcess(argv, code, stdout="", stderr="")
            case ["iptables", "-I", chain, "1", *rule]:
                self.jumps.add((chain, *rule))
            case ["ip", "-4", "-o", "address", "show"]:
                out = (
                    "1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever\n"
                    "2: eth0    inet 172.30.0.2/16 brd 172.30.255.255 scope global eth0\\"
                    "       valid_lft forever\n"
                    "3: wg0    inet 100.87.0.1/24 scope global wg0\\       valid_lft forever\n"
                )
        return subprocess.CompletedProcess(argv, 0, stdout=out, stderr="")


@pytest.fixture
def stowaway(tmp_path, monkeypatch):
    """The API module on a temporary state directory, with recorded subprocesses, served on loopback."""
    spec = importlib.util.spec_from_file_location("stowaway_api_argv_under_test", SOURCE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    state = tmp_path / "state"
    for sub in ("peers", "routes"):
        (state / sub).mkdir(parents=True)
    server_key = _key()
    (state / "server.key").write_text(server_key + "\n")
    token = secrets.token_urlsafe(32)
    token_file = tmp_path / "token"
    token_file.write_text(token + "\n")
    recorder = Recorder(server_key)
    monkeypatch.setattr(module, "STATE", state)
    monkeypatch.setattr(module, "TOKEN_FILE", token_file)
    monkeypatch.setattr(module, "CLUSTER_ROUTES", ["10.96.0.0/12"])
    # Only the module's own view of `subprocess` (the `run` helper and reload_nginx both go through it).
    monkeypatch.setattr(module, "subprocess", SimpleNamespace(run=recorder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), module.Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    client = StowawayClient(f"http://127.0.0.1:{server.server_address[1]}", token)
    try:
        yield SimpleNamespace(
            module=module, recorder=recorder, client=client, token=token, server_key=server_key, state=state
        )
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _secrets(stowaway) -> dict[str, str]:
    found = {"API token": stowaway.token, "server private key": stowaway.server_key}
    found.update(getattr(stowaway, "handed_back", {}))
    for index, key in enumerate(stowaway.recorder.private_keys):
        found[f"peer private key #{index}"] = key
    return found


def _secret_in_argv(stowaway) -> list[str]:
    leaks = []
    for argv, _stdin in stowaway.recorder.calls:
        joined = " ".join(argv)
        for name, value in _secrets(stowaway).items():
            if value in joined:
                leaks.append(f"{name} in the argv of {argv[:2]}")
        # A preshared key given inline (`wg set ... preshared-key <key>` wants a file path, never a key).
        for flag in ("preshared-key", "private-key"):
            if flag in argv:
                given = argv[argv.index(flag) + 1] if argv.index(flag) + 1 < len(argv) else ""
                if not given.startswith("/"):
                    leaks.append(f"{flag} is followed by no file path in {argv[:2]}")
    return leaks


def _drive_every_endpoint(stowaway) -> None:
    client = stowaway.client
    assert client.server().public_key == _public(stowaway.server_key)
    first = client.put_peer("dev1", routed_subnets=["172.31.0.0/24"])
    client.put_peer("dev2")
    again = client.put_peer("dev1", routed_subnets=["172.31.1.0/24"])  # update: drops the old route
    assert again.private_key.get_secret_value() == first.private_key.get_secret_value()
    assert client.get_peer("dev1").public_key == first.public_key
    assert {p.name: p.active for p in client.peers()} == {"dev1": True, "dev2": True}
    client.put_route(ProxyRoute(name="br-a", listen_port=10080, target_host="172.31.1.3", target_port=8080))
    assert [r.name for r in client.routes()] == ["br-a"]
    assert client.delete_route("br-a")
    assert client.delete_peer("dev2")
    stowaway.module.restore()  # what main() does after a restart: re-apply stored peers


def test_every_endpoint_and_restore_keep_secrets_off_command_lines(stowaway):
    _drive_every_endpoint(stowaway)
    calls = stowaway.recorder.calls
    ran = {tuple(argv[:2]) for argv, _ in calls}
    assert {("wg", "genkey"), ("wg", "pubkey"), ("wg", "set"), ("wg", "show")} <= ran, ran
    assert ran <= KNOWN, f"new commands to review for secrets: {ran - KNOWN}"
    assert len(stowaway.recorder.private_keys) == 2  # dev1 and dev2; the update kept dev1's key
    assert all(len(value) >= 32 for value in _secrets(stowaway).values())
    assert _secret_in_argv(stowaway) == []


def test_private_keys_reach_wg_only_through_stdin(stowaway):
    _drive_every_endpoint(stowaway)
    for argv, stdin in stowaway.recorder.calls:
        if stdin is None:
            continue
        if argv[:1] == ["iptables-restore"]:  # firewall rules: addresses only
            assert not [n for n, v in _secrets(stowaway).items() if v in stdin]
            continue
        assert argv[:2] == ["wg", "pubkey"], f"unexpected stdin for {argv[:3]}"
        known = {stowaway.server_key, *stowaway.recorder.private_keys}
        assert stdin.strip() in known


def test_the_interface_line_of_the_dump_stays_inside(stowaway):
    """`wg show dump` prints the server's private key on its first line: no response may carry it."""
    _drive_every_endpoint(stowaway)
    listing = repr(stowaway.client.peers()) + repr(stowaway.client.server())
    assert stowaway.server_key not in listing


def test_routes_reach_peers_only(stowaway):
    """A route's target must be a peer's tunnel address or lie in a peer's routed subnets (nginx reached only
    then); 169.254.169.254 (a cloud metadata service) and the cluster are refused with 422."""
    from gefyra.stowaway.client import StowawayError

    client = stowaway.client
    routed = client.put_peer("dev1", routed_subnets=["172.31.1.0/24"])
    bare = client.put_peer("dev2")
    tunnel_ip = bare.address.split("/")[0]
    assert (
        client.put_route(
            ProxyRoute(name="in-subnet", listen_port=10080, target_host="172.31.1.9", target_port=80)
        ).target_host
        == "172.31.1.9"
    )
    assert (
        client.put_route(
            ProxyRoute(name="tunnel", listen_port=10081, target_host=tunnel_ip, target_port=80)
        ).target_host
        == tunnel_ip
    )
    reloads = sum(argv[:2] == ["nginx", "-s"] for argv, _ in stowaway.recorder.calls)
    for target in ("169.254.169.254", "10.96.0.1"):
        with pytest.raises(StowawayError, match=f"422 target_host {target} is outside") as caught:
            client.put_route(ProxyRoute(name="out", listen_port=10082, target_host=target, target_port=80))
        assert caught.value.status == 422
    assert sum(argv[:2] == ["nginx", "-s"] for argv, _ in stowaway.recorder.calls) == reloads
    assert [r.name for r in client.routes()] == ["in-subnet", "tunnel"]
    assert routed.routed_subnets == ["172.31.1.0/24"]


# ---------------------------------------------------------------- peers restored with their keys
def _call(stowaway, method: str, path: str, body: dict | None = None):
    """A raw call (the typed client of gefyra.dataplane does not send keys back)."""
    return stowaway.client._request(method, path, body)


def _restore_peer(stowaway, name: str, private: str, address: str, routed=()):
    body = {"routed_subnets": list(routed), "private_key": private, "address": address}
    return _call(stowaway, "PUT", f"/v1/peers/{name}", body)


def test_a_peer_comes_back_with_the_keys_and_address_it_had(stowaway):
    private = _key()
    stowaway.handed_back = {"restored private key": private}
    config = _restore_peer(stowaway, "dev1", private, "100.87.0.7/32", ["172.31.4.0/24"])
    assert config["private_key"] == private and config["address"] == "100.87.0.7/32"
    assert config["public_key"] == _public(private) and config["routed_subnets"] == ["172.31.4.0/24"]
    assert stowaway.recorder.private_keys == []  # nothing generated
    assert _public(private) in stowaway.recorder.peers
    # Again with the same keys: an update, not a conflict; a new peer does not get the restored address.
    assert _restore_peer(stowaway, "dev1", private, "100.87.0.7/32")["routed_subnets"] == []
    assert stowaway.client.put_peer("dev2").address != "100.87.0.7/32"
    assert _secret_in_argv(stowaway) == []


def test_a_new_peer_may_be_given_its_address_and_gets_fresh_keys(stowaway):
    config = _call(stowaway, "PUT", "/v1/peers/dev3", {"address": "100.87.0.200"})
    assert config["address"] == "100.87.0.200/32"
    assert stowaway.recorder.private_keys == [config["private_key"]]
    again = _call(stowaway, "PUT", "/v1/peers/dev3", {"address": "100.87.0.200/32"})
    assert again["private_key"] == config["private_key"]


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"address": None}, 400, "a private_key comes with an address"),
        ({"address": 7}, 400, "address is a string"),
        ({"private_key": "bm90IGEga2V5", "address": "100.87.0.9/32"}, 400, "is not a WireGuard key"),
        ({"address": "not-an-ip"}, 400, "is not an IP address"),
        ({"address": "10.0.0.9/32"}, 409, "is no peer address of tunnel subnet 100.87.0.0/24"),
        ({"address": "100.87.0.1/32"}, 409, "is no peer address"),  # the server's own
        ({"address": "100.87.0.2/32"}, 409, "belongs to peer dev1"),
    ],
)
def test_handed_back_keys_are_checked(stowaway, body, status, message):
    from gefyra.stowaway.client import StowawayError

    stowaway.client.put_peer("dev1")  # takes 100.87.0.2
    full = {"private_key": _key(), **body}
    with pytest.raises(StowawayError, match=message) as caught:
        _call(stowaway, "PUT", "/v1/peers/dev9", {k: v for k, v in full.items() if v is not None})
    assert caught.value.status == status
    assert not (stowaway.state / "peers" / "dev9.json").exists()


def test_an_existing_peer_is_not_given_other_keys(stowaway):
    from gefyra.stowaway.client import StowawayError

    first = stowaway.client.put_peer("dev1")
    with pytest.raises(StowawayError, match="409 peer dev1 exists with other keys or another address"):
        _restore_peer(stowaway, "dev1", _key(), first.address)
    assert stowaway.client.get_peer("dev1").public_key == first.public_key


# ---------------------------------------------------------------- guards
def _restores(stowaway) -> list[str]:
    return [stdin for argv, stdin in stowaway.recorder.calls if argv[:1] == ["iptables-restore"]]


def test_guards_let_only_their_sources_reach_the_port(stowaway):
    guard = {"port": 873, "destinations": ["10.242.1.7", "10.242.1.8"], "sources": ["100.87.0.2/32"]}
    assert _call(stowaway, "PUT", "/v1/guards/ba", guard)["sources"] == ["100.87.0.2/32"]
    # A second guard on one of the same Pods (another container, another client): the union is let in.
    other = {"port": 873, "destinations": ["10.242.1.8"], "sources": ["100.87.0.3"]}
    _call(stowaway, "PUT", "/v1/guards/bb", other)
    assert _restores(stowaway)[-1] == (
        "*filter\n"
        ":STOWAWAY-GUARDS - [0:0]\n"
        "-A STOWAWAY-GUARDS -s 100.87.0.2/32 -d 10.242.1.7/32 -p tcp --dport 873 -j RETURN\n"
        "-A STOWAWAY-GUARDS -d 10.242.1.7/32 -p tcp --dport 873 -j REJECT --reject-with tcp-reset\n"
        "-A STOWAWAY-GUARDS -s 100.87.0.2/32 -d 10.242.1.8/32 -p tcp --dport 873 -j RETURN\n"
        "-A STOWAWAY-GUARDS -s 100.87.0.3/32 -d 10.242.1.8/32 -p tcp --dport 873 -j RETURN\n"
        "-A STOWAWAY-GUARDS -d 10.242.1.8/32 -p tcp --dport 873 -j REJECT --reject-with tcp-reset\n"
        "COMMIT\n"
    )
    assert stowaway.recorder.jumps == {("FORWARD", "-i", "wg0", "-j", "STOWAWAY-GUARDS")}  # inserted once
    count = len(_restores(stowaway))
    _call(stowaway, "PUT", "/v1/guards/bb", other)  # unchanged: iptables not touched
    assert len(_restores(stowaway)) == count
    assert [g["name"] for g in _call(stowaway, "GET", "/v1/guards")] == ["ba", "bb"]
    _call(stowaway, "DELETE", "/v1/guards/ba")
    _call(stowaway, "DELETE", "/v1/guards/bb")
    assert _restores(stowaway)[-1] == "*filter\n:STOWAWAY-GUARDS - [0:0]\nCOMMIT\n"
    stowaway.module.restore()  # at start: the (empty) chain and its jump, again without duplicates
    assert len(stowaway.recorder.jumps) == 1


@pytest.mark.parametrize(
    "guard",
    [
        {"port": 873, "destinations": ["10.242.1.7 -j ACCEPT"], "sources": ["100.87.0.2"]},
        {"port": 873, "destinations": ["10.242.1.7"], "sources": ["0/0 -j ACCEPT"]},
        {"port": 0, "destinations": ["10.242.1.7"], "sources": ["100.87.0.2"]},
        {"port": 873, "destinations": "10.242.1.7", "sources": ["100.87.0.2"]},
        {"destinations": ["10.242.1.7"], "sources": ["100.87.0.2"]},
    ],
)
def test_a_bad_guard_is_refused_before_iptables(stowaway, guard):
    from gefyra.stowaway.client import StowawayError

    with pytest.raises(StowawayError) as caught:
        _call(stowaway, "PUT", "/v1/guards/bad", guard)
    assert caught.value.status == 400 and _restores(stowaway) == []
