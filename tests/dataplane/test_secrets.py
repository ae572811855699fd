"""Keys and tokens are files of mode 600 and never appear in env, labels, command lines or logs."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def _secrets(bed) -> dict[str, str]:
    stowaway = bed.containers["stowaway"]
    server_key = stowaway.exec_run(["cat", "/var/lib/stowaway/server.key"]).output.decode().strip()
    return {
        "token": bed.token,
        "peer private key": bed.api.get_peer("dev1").private_key.get_secret_value(),
        "server private key": server_key,
    }


@pytest.mark.parametrize("role", ["stowaway", "cargo"])
def test_no_secret_in_inspect_logs_or_process_list(bed, role):
    secrets = _secrets(bed)
    assert all(len(value) >= 32 for value in secrets.values())
    container = bed.containers[role]
    container.reload()
    config = container.attrs["Config"]

    def run(*cmd: str) -> str:
        return container.exec_run(list(cmd)).output.decode(errors="replace")

    visible = {
        "env": "\n".join(config.get("Env") or []),
        "labels": repr(config.get("Labels")),
        "command line": repr([config.get("Cmd"), config.get("Entrypoint"), container.attrs["Args"]]),
        "logs": container.logs().decode(errors="replace"),
        "process list": run("ps", "-eo", "args"),
        "environment of pid 1": run("cat", "/proc/1/environ"),
    }
    for secret_name, value in secrets.items():
        for where, text in visible.items():
            assert value not in text, f"{secret_name} visible in {role}'s {where}"


@pytest.mark.parametrize(
    ("role", "pattern"),
    [
        ("cargo", "/etc/gefyra/wg0.conf"),
        ("stowaway", "/run/secrets/stowaway/token /var/lib/stowaway/server.key /var/lib/stowaway/peers/*"),
    ],
)
def test_secret_files_are_mode_600(bed, role, pattern):
    out = bed.containers[role].exec_run(["sh", "-c", f"stat -c '%a %U %n' {pattern}"]).output.decode()
    lines = out.strip().splitlines()
    assert lines and all(line.startswith("600 root ") for line in lines), out
