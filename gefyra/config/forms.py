"""Parsers for the short forms of gefyra.yaml ("30s", "8080:80/tcp", "./src:/app:ro", "deployment/api").

Each parser turns a short form into the long form (a dict or a plain value) that the pydantic models validate,
and raises ValueError with a message meant for the user. Long forms (mappings) pass through untouched.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import re
import shlex
from datetime import timedelta
from pathlib import Path

from gefyra.config.problems import did_you_mean

DNS_LABEL_PATTERN = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
DNS_SUBDOMAIN_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
DURATION_PATTERN = r"^([0-9]+(ms|s|m|h|d))+$"
_DNS_LABEL = re.compile(DNS_LABEL_PATTERN)
_DNS_SUBDOMAIN = re.compile(DNS_SUBDOMAIN_PATTERN)
_DURATION_PART = re.compile(r"([0-9]+)(ms|s|m|h|d)")
_DURATION = re.compile(DURATION_PATTERN)
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
MAX_DURATION_MS = 365 * _UNIT_MS["d"]  # a year: longer is a typo, and far from timedelta's overflow
_ASCII_NUMBER = re.compile(r"[0-9]+")
WORKLOAD_KINDS = ("deployment", "statefulset", "pod")
DEFAULT_SYNC = "/var/run/secrets/kubernetes.io/serviceaccount"


def resolve_path(base_dir: Path, value: str | Path) -> Path:
    """A path of gefyra.yaml: relative to the file's folder; `~` is the user's home."""
    return Path(resolve_text(base_dir, value))


def resolve_text(base_dir: Path, value: str | Path) -> str:
    """resolve_path as text: pathlib costs several times more, and a file may name 40000 paths."""
    return os.path.normpath(os.path.join(base_dir, os.path.expanduser(value)))


def is_label(value: str) -> bool:
    return bool(_DNS_LABEL.fullmatch(value))


def check_label(value: str) -> str:
    """A DNS-1123 label: what Docker and Kubernetes both accept as a name."""
    if not _DNS_LABEL.fullmatch(value):  # fullmatch: `$` alone would let a final newline through
        raise ValueError(
            f"'{value}' is not a valid name: use at most 63 lowercase letters, digits and '-', "
            "starting and ending with a letter or digit (DNS-1123 label)"
        )
    return value


def check_subdomain(value: str) -> str:
    """A DNS-1123 subdomain: what Kubernetes accepts as the name of a Deployment, StatefulSet or Pod."""
    if len(value) > 253 or not _DNS_SUBDOMAIN.fullmatch(value):
        raise ValueError(
            f"'{value}' is not a valid Kubernetes object name: use lowercase letters, digits, '-' and '.' "
            "(DNS-1123 subdomain)"
        )
    return value


def normalise_label(text: str) -> str:
    """Turn a folder name into a DNS-1123 label ("My_App" -> "my-app"); "gefyra" when nothing is left."""
    label = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")[:63].strip("-")
    return label or "gefyra"


def parse_duration(value: object) -> object:
    """'30s', '10m', '1h30m', '500ms', '2d' -> timedelta; other types are left to pydantic's error."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"expected a duration like '30s', '10m' or '1h30m', got {_describe(value)}")
    text = str(value).strip()
    if len(text) > 40 or not _DURATION.fullmatch(text):
        raise ValueError(
            f"'{_cut(text)}' is not a duration: write a number with a unit, like '30s', '10m' or '1h30m'"
        )
    # whole milliseconds as a Python int first: a timedelta would overflow on '99999999999999999999d'
    millis = sum(int(n) * _UNIT_MS[unit] for n, unit in _DURATION_PART.findall(text))
    if millis <= 0:
        raise ValueError(f"duration '{text}' must be longer than zero")
    if millis > MAX_DURATION_MS:
        raise ValueError(f"duration '{text}' is longer than {MAX_DURATION_MS // _UNIT_MS['d']} days")
    return timedelta(milliseconds=millis)


def check_port(value: int, what: str = "port") -> int:
    if not 1 <= value <= 65535:
        raise ValueError(f"{what} {value} is out of range (1-65535)")
    return value


def is_number(text: str) -> bool:
    """ASCII digits only: str.isdigit() and int() also take '١٢٣' or '１２３', which no reader sees as 123."""
    return bool(_ASCII_NUMBER.fullmatch(text))


def _port_number(text: str, what: str) -> int:
    if not is_number(text):
        raise ValueError(f"{what} '{_cut(text)}' is not a number (digits 0-9)")
    if len(text) > 5:
        raise ValueError(f"{what} {_cut(text)} is out of range (1-65535)")
    return check_port(int(text), what)


def parse_port_mapping(value: object) -> object:
    """'[ip:]host:container[/tcp|udp]' or a bare port number (same on both sides) -> the long form."""
    if isinstance(value, bool):
        raise ValueError(f"expected a port mapping like '8080:80', got {_describe(value)}")
    if isinstance(value, int):
        check_port(value)
        return {"host_port": value, "container_port": value}
    if not isinstance(value, str):
        return value
    spec, _, protocol = value.partition("/")
    if protocol and protocol not in ("tcp", "udp"):
        raise ValueError(f"protocol '{protocol}' in '{value}' must be 'tcp' or 'udp'")
    host_ip: str | None = None
    if spec.startswith("["):  # IPv6 host address in brackets: [::1]:8080:80
        host_ip, _, spec = spec[1:].partition("]")
        spec = spec.lstrip(":")
        if not host_ip:
            raise ValueError(f"'{value}' has an empty IPv6 address")
    parts = spec.split(":")
    if host_ip is None and len(parts) == 3:
        host_ip, parts = parts[0], parts[1:]
    if len(parts) == 1 and host_ip is None:
        parts = [parts[0], parts[0]]
    if len(parts) != 2:
        raise ValueError(
            f"'{value}' is not a port mapping: write '[ip:]host:container[/tcp|udp]', like '8080:80'"
        )
    result: dict[str, object] = {
        "host_port": _port_number(parts[0], "host port"),
        "container_port": _port_number(parts[1], "container port"),
        "protocol": protocol or "tcp",
    }
    if host_ip is not None:
        result["host_ip"] = host_ip
    return result


def parse_mount(value: object) -> object:
    """'src:dst[:ro|rw]' -> the long form."""
    if not isinstance(value, str):
        return value
    parts = value.split(":")
    mode = None
    if len(parts) == 3:
        mode = parts.pop()
        if mode not in ("ro", "rw"):
            raise ValueError(f"mount mode '{mode}' in '{value}' must be 'ro' or 'rw'")
    if len(parts) != 2 or not parts[0] or not parts[1]:
        raise ValueError(f"'{value}' is not a mount: write 'source:target[:ro]', like './src:/app:ro'")
    return {"source": parts[0], "target": parts[1], "read_only": mode == "ro"}


def parse_workload(value: object, *, allow_container: bool) -> object:
    """'deployment/name[/container]' (also statefulset/ and pod/) -> {kind, name[, container]}."""
    if not isinstance(value, str):
        return value
    parts = value.split("/")
    shape = "'kind/name/container'" if allow_container else "'kind/name'"
    if len(parts) < 2 or len(parts) > (3 if allow_container else 2) or not all(parts):
        raise ValueError(f"'{value}' must look like {shape} with kind one of {', '.join(WORKLOAD_KINDS)}")
    kind = parts[0].lower()
    if kind not in WORKLOAD_KINDS:
        raise ValueError(
            f"unknown kind '{parts[0]}' in '{value}': use {', '.join(WORKLOAD_KINDS)}"
            f"{did_you_mean(kind, WORKLOAD_KINDS)}"
        )
    result = {"kind": kind, "name": parts[1]}
    if len(parts) == 3:
        result["container"] = parts[2]
    return result


def split_command(value: object) -> object:
    """A command given as one string is split like a shell would; a list is kept."""
    if isinstance(value, str):
        try:
            return shlex.split(value)
        except ValueError as error:
            raise ValueError(f"cannot split command '{value}': {error}") from None
    return value


def scalar_to_str(value: object) -> object:
    """Environment values and build args may be written as numbers or booleans; Docker wants strings."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, datetime.date):  # `RELEASE: 2024-01-31` is a date to YAML, text to a program
        return value.isoformat()
    return value


def one_or_many(value: object) -> object:
    """A single item may be written without the list around it."""
    if isinstance(value, str | dict):
        return [value]
    return value


def _cut(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _describe(value: object) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"'{_cut(value)}'"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, int | float):
        return repr(value)
    return f"{type(value).__name__} {value!r}"


# Patterns of the short forms, for the JSON schema (editors); the parsers above give the precise errors.
PORT_MAPPING_PATTERN = r"^((\[[0-9a-fA-F:.]+\]|[0-9.]+):)?[0-9]{1,5}(:[0-9]{1,5})?(/(tcp|udp))?$"
MOUNT_PATTERN = r"^[^:]+:/[^:]*(:(ro|rw))?$"
TARGET_PATTERN = r"^(deployment|statefulset|pod)/[a-z0-9.-]+$"
ENV_FROM_PATTERN = r"^(deployment|statefulset|pod)/[a-z0-9.-]+(/[a-z0-9-]+)?$"


def parse_mtu(value: object) -> object:
    """'auto' or a number (also as text, after interpolation) within what WireGuard links carry."""
    if value == "auto":
        return value
    if isinstance(value, bool) or not (
        isinstance(value, int) or (isinstance(value, str) and is_number(value))
    ):
        raise ValueError(f"mtu must be 'auto' or a number, got {_describe(value)}")
    if (isinstance(value, str) and len(value) > 4) or not 1280 <= int(value) <= 9000:
        raise ValueError(f"mtu {_cut(str(value))} is out of range (1280-9000)")
    return int(value)


def check_endpoint(value: str) -> str:
    """'auto' or 'host:port' of Stowaway's NodePort."""
    if value == "auto":
        return value
    host, sep, port = value.rpartition(":")
    if not sep or not host or not is_number(port):
        raise ValueError(f"endpoint '{value}' must be 'auto' or 'host:port', like '192.168.49.2:31820'")
    _port_number(port, "endpoint port")
    return value


PRIVATE_RANGES = tuple(
    ipaddress.IPv4Network(net) for net in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")
)
SUBNET_PREFIXES = (16, 28)  # a /28 holds Docker's gateway, Cargo and 12 containers; wider than /16 is a typo


def parse_subnet(value: object) -> object:
    """'auto' or a private IPv4 network (RFC 1918 or RFC 6598) without host bits, from /16 to /28.

    Anything else would route public or special addresses (0.0.0.0/0, 127.0.0.0/8) into the project.
    """
    if value == "auto":
        return value
    if not isinstance(value, str):  # pydantic would read the number 5 as 0.0.0.5/32
        raise ValueError(
            f"subnet must be 'auto' or an IPv4 CIDR like '172.30.0.0/24', got {_describe(value)}"
        )
    try:
        network = ipaddress.IPv4Network(value, strict=True)
    except ValueError as error:
        raise ValueError(
            f"subnet '{_cut(value)}' must be 'auto' or an IPv4 CIDR like '172.30.0.0/24' "
            f"({_cut(str(error), 80)})"
        ) from None
    if not any(network.subnet_of(private) for private in PRIVATE_RANGES):
        ranges = ", ".join(map(str, PRIVATE_RANGES))
        raise ValueError(f"subnet {network} is not a private range: use one inside {ranges}")
    low, high = SUBNET_PREFIXES
    if not low <= network.prefixlen <= high:
        raise ValueError(f"subnet {network} must be from /{low} (65536 addresses) to /{high} (16) in size")
    return network


def check_env_key(value: str) -> str:
    """A name Docker passes as `KEY=VALUE`: a '=' or a control character would make it another variable."""
    if not value or "=" in value or any(ord(c) < 32 or 127 <= ord(c) < 160 for c in value):
        raise ValueError(
            f"'{_cut(value)}' is not an environment variable name: it must not be empty nor hold '=', "
            "a line break, NUL or other control characters"
        )
    return value


def build_short(value: object) -> object:
    """`build: ./dir` is `build: {context: ./dir}`."""
    return {"context": value} if isinstance(value, str) else value


def watch_short(value: object) -> object:
    """`watch: [src]` is `watch: [{path: src}]`."""
    return {"path": value} if isinstance(value, str) else value


def check_header(value: str) -> str:
    """An HTTP header name (RFC 9110 token), lowercased as HTTP/2 sends it."""
    if not re.fullmatch(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+", value):
        raise ValueError(f"'{value}' is not an HTTP header name")
    return value.lower()


def parse_bridge_ports(value: object) -> object:
    """A list of ports means the same number on both sides; 'cluster:local' strings may be in the list."""
    if not isinstance(value, list):
        return value
    result: dict[object, object] = {}
    for item in value:
        if isinstance(item, str) and ":" in item:
            remote, _, local = item.partition(":")
            result[remote] = local
        elif isinstance(item, int | str):
            result[item] = item
        else:
            raise ValueError(f"bridge ports must be numbers or 'cluster:local' strings, got {item!r}")
    return result


def check_image(value: str) -> str:
    """An image reference: not empty, no whitespace or control characters (Docker would refuse it later)."""
    if not value or any(c.isspace() or not c.isprintable() for c in value):
        raise ValueError(
            f"'{value}' is not an image reference, like 'nginx:1.27' or 'registry.local/team/app'"
        )
    return value


def check_workdir(value: str) -> str:
    if not value.startswith("/"):
        raise ValueError(f"workdir '{value}' must be an absolute path in the container")
    return value
