"""Stowaway control API (python3 stdlib only; runs inside the Stowaway image).

Bearer token from a mounted file (re-read on every request, so it can be rotated). JSON in and out.
Peers are added and removed live with `wg set` (no restart, other peers undisturbed); their handshakes
come from `wg show <if> dump` (never the human output). Proxy routes are nginx `stream` files plus a reload.
Guards keep tunnel traffic to a port of given cluster addresses to given peers (iptables, one chain).
Stowaway generates every key pair; a peer's private key leaves only in the body of an authenticated response
(and comes back in one when the Operator restores a peer at a new Stowaway: same keys, same address).
"""

from __future__ import annotations

import base64
import hmac
import ipaddress
import json
import os
import re
import subprocess
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

IFNAME = os.environ.get("STOWAWAY_INTERFACE", "wg0")
STATE = Path(os.environ.get("STOWAWAY_STATE", "/var/lib/stowaway"))
SUBNET = ipaddress.ip_network(os.environ.get("STOWAWAY_SUBNET", "100.87.0.0/24"))
LISTEN_PORT = int(os.environ.get("STOWAWAY_LISTEN_PORT", "51820"))
API_PORT = int(os.environ.get("STOWAWAY_API_PORT", "8080"))
TOKEN_FILE = Path(os.environ.get("STOWAWAY_TOKEN_FILE", "/run/secrets/stowaway/token"))
CLUSTER_ROUTES = [c.strip() for c in os.environ.get("STOWAWAY_CLUSTER_ROUTES", "").split(",") if c.strip()]
DNS = [d.strip() for d in os.environ.get("STOWAWAY_DNS", "").split(",") if d.strip()]
MTU = os.environ.get("STOWAWAY_MTU", "1420")
ENDPOINT = os.environ.get("STOWAWAY_ENDPOINT") or None
# Seconds a connection may wait for (the rest of) a request before it is closed; idle keep-alives included.
IDLE_TIMEOUT = float(os.environ.get("STOWAWAY_API_IDLE_TIMEOUT", "5"))
NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
MAX_BODY = 64 * 1024
LOCK = threading.Lock()


class ApiError(Exception):
    def __init__(self, status: HTTPStatus, message: str):
        super().__init__(message)
        self.status = status


def run(*args: str, stdin: str | None = None) -> str:
    """Run a command whose arguments never carry secrets; secrets go through stdin or files."""
    done = subprocess.run(args, input=stdin, capture_output=True, text=True)
    if done.returncode != 0:
        raise ApiError(HTTPStatus.INTERNAL_SERVER_ERROR, f"{args[0]} {args[1]} failed: {done.stderr.strip()}")
    return done.stdout


def write_private(path: Path, text: str) -> None:
    """Write atomically with mode 600 from the first byte on."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)


def server_public_key() -> str:
    return run("wg", "pubkey", stdin=(STATE / "server.key").read_text()).strip()


def server_address() -> ipaddress.IPv4Address:
    return next(SUBNET.hosts())


# ---------------------------------------------------------------- peers
def peer_path(name: str) -> Path:
    return STATE / "peers" / f"{name}.json"


def load_peers() -> dict[str, dict]:
    peers = {}
    for path in sorted((STATE / "peers").glob("*.json")):
        record = json.loads(path.read_text())
        peers[record["name"]] = record
    return peers


def allocate_address(peers: dict[str, dict]) -> str:
    used = {server_address()} | {ipaddress.ip_interface(p["address"]).ip for p in peers.values()}
    for host in SUBNET.hosts():
        if host not in used:
            return f"{host}/32"
    raise ApiError(HTTPStatus.CONFLICT, f"tunnel subnet {SUBNET} is full")


def connected_networks() -> list[str]:
    """IPv4 networks of Stowaway's interfaces but the tunnel and loopback (from `ip -4 -o address show`)."""
    nets = []
    for line in run("ip", "-4", "-o", "address", "show").splitlines():
        fields = line.split()
        if len(fields) > 3 and fields[1] not in (IFNAME, "lo"):
            nets.append(str(ipaddress.ip_interface(fields[3]).network))
    return nets


def reserved_ranges() -> list[tuple[str, str]]:
    """Ranges no routed subnet may overlap, each with what it is. A routed subnet replaces Stowaway's own
    route for that range: overlapping a cluster range or a network Stowaway sits on would cut Stowaway (and
    every peer) off from the cluster."""
    reserved = [(str(SUBNET), "the tunnel subnet"), *((c, "a cluster route") for c in CLUSTER_ROUTES)]
    return reserved + [(c, "a network Stowaway is attached to") for c in connected_networks()]


def check_routed_subnets(
    name: str, subnets: list[str], peers: dict[str, dict], reserved: list[tuple[str, str]]
) -> list[str]:
    """Routed subnets (a client's project network) must not overlap other peers' or a reserved range."""
    try:
        nets = [ipaddress.ip_network(s, strict=False) for s in subnets]
    except ValueError as error:
        raise ApiError(HTTPStatus.BAD_REQUEST, str(error)) from None
    for net in nets:
        for cidr, what in reserved:
            if net.overlaps(ipaddress.ip_network(cidr, strict=False)):
                raise ApiError(HTTPStatus.CONFLICT, f"{net} overlaps {cidr}, {what}")
        for other in peers.values():
            if other["name"] == name:
                continue
            for theirs in other.get("routed_subnets", []):
                if net.overlaps(ipaddress.ip_network(theirs)):
                    raise ApiError(HTTPStatus.CONFLICT, f"{net} overlaps {theirs} of peer {other['name']}")
    return [str(n) for n in nets]


def apply_peer(record: dict) -> None:
    allowed = ",".join([record["address"], *record.get("routed_subnets", [])])
    run("wg", "set", IFNAME, "peer", record["public_key"], "allowed-ips", allowed)
    for cidr in record.get("routed_subnets", []):
        run("ip", "-4", "route", "replace", cidr, "dev", IFNAME)


def unroute(cidr: str) -> None:
    """A subnet no peer routes any more becomes a blackhole, not a gap: a proxy route still aimed at it must
    not send the developer's addresses out through the cluster network (a later peer's route replaces it)."""
    run("ip", "-4", "route", "replace", "blackhole", cidr)


def peer_config(record: dict) -> dict:
    """What a client needs to bring up its side (the private key included: authenticated callers only)."""
    return {
        "name": record["name"],
        "address": record["address"],
        "private_key": record["private_key"],
        "public_key": record["public_key"],
        "server_public_key": server_public_key(),
        "allowed_ips": [str(SUBNET), *CLUSTER_ROUTES],
        "dns": DNS,
        "mtu": MTU,
        "listen_port": LISTEN_PORT,
        "endpoint": ENDPOINT,
        "routed_subnets": record.get("routed_subnets", []),
    }


def given_keys(body: dict, peers: dict[str, dict], name: str) -> tuple[str | None, str] | None:
    """The address (and, to restore a peer at a new Stowaway, the private key) chosen by whoever keeps
    them: the Operator, from the peer's Secret. (private key or None, address); None if the body has none."""
    private, address = body.get("private_key"), body.get("address")
    if private is None and address is None:
        return None
    if not isinstance(address, str) or not isinstance(private, str | None):
        raise ApiError(HTTPStatus.BAD_REQUEST, "address is a string, and a private_key comes with an address")
    if private is not None:
        try:
            raw = base64.b64decode(private, validate=True)
        except ValueError:
            raw = b""
        if len(raw) != 32:
            raise ApiError(HTTPStatus.BAD_REQUEST, "private_key is not a WireGuard key (base64 of 32 bytes)")
    try:
        host = ipaddress.ip_interface(address)
    except ValueError:
        raise ApiError(HTTPStatus.BAD_REQUEST, f"address {address!r} is not an IP address") from None
    reserved = (server_address(), SUBNET.network_address, SUBNET.broadcast_address)
    if host.ip not in SUBNET or host.ip in reserved:
        raise ApiError(HTTPStatus.CONFLICT, f"address {host.ip} is no peer address of tunnel subnet {SUBNET}")
    for other in peers.values():
        if other["name"] != name and ipaddress.ip_interface(other["address"]).ip == host.ip:
            raise ApiError(HTTPStatus.CONFLICT, f"address {host.ip} belongs to peer {other['name']}")
    return private, f"{host.ip}/32"


def put_peer(name: str, body: dict) -> tuple[HTTPStatus, dict]:
    peers = load_peers()
    subnets = check_routed_subnets(name, list(body.get("routed_subnets") or []), peers, reserved_ranges())
    keys = given_keys(body, peers, name)
    existing = peers.get(name)
    if existing is not None:
        other_keys = keys is not None and keys[0] not in (None, existing["private_key"])
        if other_keys or (keys is not None and keys[1] != existing["address"]):
            raise ApiError(HTTPStatus.CONFLICT, f"peer {name} exists with other keys or another address")
        stale = set(existing.get("routed_subnets", [])) - set(subnets)
        existing["routed_subnets"] = subnets
        write_private(peer_path(name), json.dumps(existing))
        apply_peer(existing)
        for cidr in stale:
            unroute(cidr)
        return HTTPStatus.OK, peer_config(existing)
    private, address = keys or (None, allocate_address(peers))
    private = private or run("wg", "genkey").strip()
    record = {
        "name": name,
        "address": address,
        "private_key": private,
        "public_key": run("wg", "pubkey", stdin=private).strip(),
        "routed_subnets": subnets,
    }
    write_private(peer_path(name), json.dumps(record))
    apply_peer(record)
    return HTTPStatus.CREATED, peer_config(record)


def delete_peer(name: str) -> None:
    record = load_peers().get(name)
    if record is None:
        raise ApiError(HTTPStatus.NOT_FOUND, f"no peer {name}")
    run("wg", "set", IFNAME, "peer", record["public_key"], "remove")
    for cidr in record.get("routed_subnets", []):
        unroute(cidr)
    peer_path(name).unlink()


def parse_wg_dump(text: str) -> dict[str, dict]:
    """Parse `wg show <if> dump`: line 1 is the interface (holds the private key: skipped), then peers
    (public-key, preshared-key, endpoint, allowed-ips, latest-handshake, rx, tx, keepalive; tab-separated)."""
    status = {}
    for line in text.splitlines()[1:]:
        fields = line.split("\t")
        if len(fields) < 8:
            continue
        public, _psk, endpoint, _allowed, handshake, rx, tx, _keepalive = fields[:8]
        status[public] = {
            "endpoint": None if endpoint == "(none)" else endpoint,
            "latest_handshake": int(handshake),
            "rx_bytes": int(rx),
            "tx_bytes": int(tx),
        }
    return status


def wg_dump() -> dict[str, dict]:
    return parse_wg_dump(run("wg", "show", IFNAME, "dump"))


def list_peers() -> list[dict]:
    status = wg_dump()
    result = []
    for record in load_peers().values():
        live = status.get(record["public_key"], {})
        result.append(
            {
                "name": record["name"],
                "address": record["address"],
                "public_key": record["public_key"],
                "routed_subnets": record.get("routed_subnets", []),
                "active": record["public_key"] in status,
                "endpoint": live.get("endpoint"),
                "latest_handshake": live.get("latest_handshake", 0),
                "rx_bytes": live.get("rx_bytes", 0),
                "tx_bytes": live.get("tx_bytes", 0),
            }
        )
    return result


# ---------------------------------------------------------------- proxy routes
def route_file(name: str) -> Path:
    return STATE / "routes" / f"{name}.conf"


def route_meta(name: str) -> Path:
    return STATE / "routes" / f"{name}.json"


def list_routes() -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((STATE / "routes").glob("*.json"))]


def render_route(route: dict) -> str:
    return (
        f"# route {route['name']}\n"
        "server {\n"
        f"    listen {route['listen_port']};\n"
        f"    proxy_pass {route['target_host']}:{route['target_port']};\n"
        "    proxy_connect_timeout 5s;\n"
        "    proxy_half_close on;\n"
        "}\n"
    )


def check_target(host: str, peers: dict[str, dict]) -> None:
    """A proxy route reaches a developer's containers through the tunnel: its target must lie in some current
    peer's routed subnets or be a peer's tunnel address. Anything else (the cluster, a metadata service such
    as 169.254.169.254, the internet) would make Stowaway an open relay for whoever holds the API token."""
    address = ipaddress.ip_address(host)
    allowed = []
    for peer in peers.values():
        for cidr in [peer["address"], *peer.get("routed_subnets", [])]:
            if address in ipaddress.ip_network(cidr, strict=False):
                return
            allowed.append(f"{cidr} ({peer['name']})")
    raise ApiError(
        HTTPStatus.UNPROCESSABLE_ENTITY,
        f"target_host {host} is outside every peer's routed subnets and tunnel address "
        f"(allowed: {', '.join(allowed) or 'none: no peer'})",
    )


def validate_route(name: str, body: dict) -> dict:
    try:
        route = {
            "name": name,
            "listen_port": int(body["listen_port"]),
            "target_host": str(ipaddress.ip_address(body["target_host"])),
            "target_port": int(body["target_port"]),
        }
    except (KeyError, TypeError, ValueError) as error:
        raise ApiError(HTTPStatus.BAD_REQUEST, f"bad route: {error}") from None
    for port in (route["listen_port"], route["target_port"]):
        if not 1 <= port <= 65535:
            raise ApiError(HTTPStatus.BAD_REQUEST, f"port {port} out of range")
    if route["listen_port"] in (API_PORT,):
        raise ApiError(HTTPStatus.CONFLICT, f"port {route['listen_port']} is the control API's")
    check_target(route["target_host"], load_peers())
    for other in list_routes():
        if other["name"] != name and other["listen_port"] == route["listen_port"]:
            port = route["listen_port"]
            raise ApiError(HTTPStatus.CONFLICT, f"port {port} is used by route {other['name']}")
    return route


def reload_nginx() -> None:
    test = subprocess.run(["nginx", "-t", "-q"], capture_output=True, text=True)
    if test.returncode != 0:
        raise ApiError(HTTPStatus.BAD_REQUEST, f"nginx rejected the routes: {test.stderr.strip()}")
    run("nginx", "-s", "reload")


def put_route(name: str, body: dict) -> tuple[HTTPStatus, dict]:
    route = validate_route(name, body)
    path, meta = route_file(name), route_meta(name)
    previous = path.read_text() if path.exists() else None
    path.write_text(render_route(route))
    try:
        reload_nginx()
    except ApiError:
        if previous is None:
            path.unlink()
        else:
            path.write_text(previous)
        raise
    status = HTTPStatus.OK if meta.exists() else HTTPStatus.CREATED
    meta.write_text(json.dumps(route))
    return status, route


def delete_route(name: str) -> None:
    if not route_meta(name).exists():
        raise ApiError(HTTPStatus.NOT_FOUND, f"no route {name}")
    route_file(name).unlink(missing_ok=True)
    route_meta(name).unlink()
    reload_nginx()


# ---------------------------------------------------------------- guards
# Tunnel traffic to a guarded destination port (a bridged Pod's rsync daemon, which serves its service-account
# token) passes only from the allowed sources: WireGuard vouches for a source address inside the tunnel, while
# behind Stowaway's MASQUERADE every peer looks alike. One chain, rebuilt whole and atomically.
GUARD_CHAIN = "STOWAWAY-GUARDS"


def guard_path(name: str) -> Path:
    return STATE / "guards" / f"{name}.json"


def list_guards() -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((STATE / "guards").glob("*.json"))]


def validate_guard(name: str, body: dict) -> dict:
    try:
        guard = {
            "name": name,
            "port": int(body["port"]),
            "destinations": sorted({str(ipaddress.IPv4Address(d)) for d in body["destinations"]}),
            "sources": sorted({str(ipaddress.IPv4Network(s, strict=False)) for s in body["sources"]}),
        }
    except (KeyError, TypeError, ValueError) as error:
        raise ApiError(HTTPStatus.BAD_REQUEST, f"bad guard: {error}") from None
    if not 1 <= guard["port"] <= 65535:
        raise ApiError(HTTPStatus.BAD_REQUEST, f"port {guard['port']} out of range")
    return guard


def render_guards(guards: list[dict]) -> str:
    """iptables-restore input: per guarded destination and port, RETURN for each allowed source (the union of
    every guard naming it), then a TCP reset for everybody else."""
    allowed: dict[tuple[str, int], set[str]] = {}
    for guard in guards:
        for destination in guard["destinations"]:
            allowed.setdefault((destination, guard["port"]), set()).update(guard["sources"])
    lines = ["*filter", f":{GUARD_CHAIN} - [0:0]"]
    for (destination, port), sources in sorted(allowed.items()):
        match = f"-d {destination}/32 -p tcp --dport {port}"
        lines += [f"-A {GUARD_CHAIN} -s {source} {match} -j RETURN" for source in sorted(sources)]
        lines.append(f"-A {GUARD_CHAIN} {match} -j REJECT --reject-with tcp-reset")
    return "\n".join([*lines, "COMMIT", ""])


def apply_guards() -> None:
    """Replace the chain's rules in one iptables-restore (it declares, hence flushes, only this chain), then
    make sure traffic from the tunnel passes through it."""
    run("iptables-restore", "--noflush", stdin=render_guards(list_guards()))
    jump = ["FORWARD", "-i", IFNAME, "-j", GUARD_CHAIN]
    if subprocess.run(["iptables", "-C", *jump], capture_output=True).returncode != 0:
        run("iptables", "-I", jump[0], "1", *jump[1:])


def put_guard(name: str, body: dict) -> tuple[HTTPStatus, dict]:
    guard = validate_guard(name, body)
    path = guard_path(name)
    previous = path.read_text() if path.exists() else None
    if previous is not None and json.loads(previous) == guard:
        return HTTPStatus.OK, guard  # unchanged: the chain stays as it is
    path.parent.mkdir(mode=0o700, exist_ok=True)
    path.write_text(json.dumps(guard))
    try:
        apply_guards()
    except ApiError:
        if previous is None:
            path.unlink()
        else:
            path.write_text(previous)
        raise
    return (HTTPStatus.OK if previous is not None else HTTPStatus.CREATED), guard


def delete_guard(name: str) -> None:
    if not guard_path(name).exists():
        raise ApiError(HTTPStatus.NOT_FOUND, f"no guard {name}")
    guard_path(name).unlink()
    apply_guards()


# ---------------------------------------------------------------- HTTP
def authorized(header: str | None) -> bool:
    try:
        token = TOKEN_FILE.read_text().strip()
    except OSError:
        return False
    if not token or not header or not header.startswith("Bearer "):
        return False
    return hmac.compare_digest(header[len("Bearer ") :].strip().encode(), token.encode())


class Handler(BaseHTTPRequestHandler):
    server_version = "stowaway"
    protocol_version = "HTTP/1.1"
    timeout = IDLE_TIMEOUT  # socket timeout of each read: a silent connection ends after it

    def logged_path(self) -> str:
        """The path without query or fragment: a client may put a token into the URL."""
        try:
            return urlsplit(getattr(self, "path", "") or "").path or "-"
        except ValueError:
            return "-"

    def log_request(self, code="-", size="-") -> None:  # noqa: ARG002 - stdlib signature
        # Method, path and status only: never a query string, headers (the token) or bodies (keys).
        status = code.value if isinstance(code, HTTPStatus) else code
        sys.stderr.write(f"stowaway-api: {self.command or '-'} {self.logged_path()} {status}\n")

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - stdlib signature
        # Errors of the stdlib (send_error, timeouts) quote the raw request line: only their first words.
        status = f" {args[0]}" if format.startswith("code %d") and args else ""
        sys.stderr.write(f"stowaway-api: {format.split('%')[0].rstrip(' ,:')}{status}\n")

    def send_json(self, status: HTTPStatus, payload) -> None:
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def content_length(self) -> int:
        """The request body's length; a body we cannot delimit ends the connection after the answer."""
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            raise ApiError(HTTPStatus.LENGTH_REQUIRED, "chunked bodies are not supported")
        raw = (self.headers.get("Content-Length") or "0").strip()
        if not re.fullmatch(r"[0-9]{1,12}", raw):
            self.close_connection = True
            raise ApiError(HTTPStatus.BAD_REQUEST, "Content-Length is not a whole number")
        return int(raw)

    def read_body(self) -> dict:
        length, self.unread = self.unread, 0
        if length > MAX_BODY:
            self.unread = length
            raise ApiError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "body too large")
        if length == 0:
            return {}
        try:
            body = json.loads(self.rfile.read(length))
        except ValueError:
            raise ApiError(HTTPStatus.BAD_REQUEST, "body is not JSON") from None
        if not isinstance(body, dict):
            raise ApiError(HTTPStatus.BAD_REQUEST, "body must be a JSON object")
        return body

    def discard_body(self) -> None:
        """Consume a body nobody read (an error came first), so that on a keep-alive connection the next
        request is not parsed out of it; one too large to read closes the connection instead."""
        if self.unread > MAX_BODY:
            self.close_connection = True
        elif self.unread:
            self.rfile.read(self.unread)
        self.unread = 0

    def dispatch(self) -> None:
        parts = [p for p in self.path.split("?")[0].split("/") if p]
        self.unread = 0
        try:
            self.unread = self.content_length()
            if parts == ["healthz"] and self.command == "GET":
                status, payload = HTTPStatus.OK, {"status": "ok"}
            elif not authorized(self.headers.get("Authorization")):
                status, payload = HTTPStatus.UNAUTHORIZED, {"error": "missing or wrong bearer token"}
            else:
                body = self.read_body() if self.command == "PUT" else {}
                with LOCK:
                    status, payload = self.route(parts, body)
        except ApiError as error:
            status, payload = error.status, {"error": str(error)}
        self.discard_body()
        self.send_json(status, payload)

    def route(self, parts: list[str], body: dict):
        method = self.command
        if len(parts) < 2 or parts[0] != "v1":
            raise ApiError(HTTPStatus.NOT_FOUND, "unknown path")
        if len(parts) == 3 and not NAME_RE.match(parts[2]):
            raise ApiError(HTTPStatus.BAD_REQUEST, f"invalid name {parts[2]!r}")
        match (method, parts[1:]):
            case ("GET", ["server"]):
                return HTTPStatus.OK, {
                    "public_key": server_public_key(),
                    "address": f"{server_address()}/{SUBNET.prefixlen}",
                    "subnet": str(SUBNET),
                    "listen_port": LISTEN_PORT,
                    "cluster_routes": CLUSTER_ROUTES,
                    "dns": DNS,
                    "mtu": MTU,
                }
            case ("GET", ["peers"]):
                return HTTPStatus.OK, list_peers()
            case ("GET", ["peers", name]):
                record = load_peers().get(name)
                if record is None:
                    raise ApiError(HTTPStatus.NOT_FOUND, f"no peer {name}")
                return HTTPStatus.OK, peer_config(record)
            case ("PUT", ["peers", name]):
                return put_peer(name, body)
            case ("DELETE", ["peers", name]):
                delete_peer(name)
                return HTTPStatus.OK, {"deleted": name}
            case ("GET", ["routes"]):
                return HTTPStatus.OK, list_routes()
            case ("PUT", ["routes", name]):
                return put_route(name, body)
            case ("DELETE", ["routes", name]):
                delete_route(name)
                return HTTPStatus.OK, {"deleted": name}
            case ("GET", ["guards"]):
                return HTTPStatus.OK, list_guards()
            case ("PUT", ["guards", name]):
                return put_guard(name, body)
            case ("DELETE", ["guards", name]):
                delete_guard(name)
                return HTTPStatus.OK, {"deleted": name}
        raise ApiError(HTTPStatus.NOT_FOUND, f"no {method} {self.logged_path()}")

    do_GET = do_PUT = do_DELETE = dispatch


def restore() -> None:
    """Re-apply stored peers and guards after a restart (keys survive in the state directory; nginx reads the
    route files itself when it starts). The guard chain is made even when empty."""
    for record in load_peers().values():
        apply_peer(record)
    apply_guards()


def main() -> None:
    restore()
    server = ThreadingHTTPServer(("0.0.0.0", API_PORT), Handler)
    server.daemon_threads = True
    sys.stderr.write(f"stowaway-api: listening on tcp/{API_PORT}\n")
    server.serve_forever()


if __name__ == "__main__":
    main()
