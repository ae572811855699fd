"""Hostile gefyra.yaml and env files: refused at their line and column, and no message shows an env value."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gefyra.config import load
from gefyra.errors import ConfigError
from tests.unit.config_helpers import problems, write

SECRET = "s3cr3t-Value-42"


def _messages(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> str:
    return "\n".join(problems(tmp_path, text, environ))


def test_env_file_from_proc_is_refused_and_shows_nothing_of_it(tmp_path):
    environ_file = Path("/proc/self/environ")
    assert environ_file.is_file()  # what made it pass before: procfs says "regular file", size 0
    found = problems(
        tmp_path, "version: 1\ncontainers:\n  web:\n    image: nginx\n    env_file: /proc/self/environ\n"
    )
    assert len(found) == 1
    assert found[0].startswith(
        "gefyra.yaml:5:15: containers.web.env_file: env file /proc/self/environ is a kernel"
    )
    for key, value in os.environ.items():
        if len(value) >= 6:
            assert value not in found[0], key


def test_env_file_through_a_symlink_to_proc_is_refused(tmp_path):
    (tmp_path / "app.env").symlink_to("/proc/self/environ")
    found = problems(tmp_path, "version: 1\ncontainers:\n  web: {image: nginx, env_file: app.env}\n")
    assert "is a kernel file (/proc/" in found[0]


@pytest.mark.parametrize("kind", ["fifo", "symlink-to-fifo", "folder"])
def test_env_file_that_is_not_a_regular_file_is_refused_without_blocking(tmp_path, kind):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)  # nobody ever writes: a blocking open would hang the test (pytest-timeout stops it)
    name = {"fifo": "pipe", "symlink-to-fifo": "link.env", "folder": "dir.env"}[kind]
    if kind == "symlink-to-fifo":
        (tmp_path / name).symlink_to(fifo)
    if kind == "folder":
        (tmp_path / name).mkdir()
    found = problems(tmp_path, f"version: 1\ncontainers:\n  web: {{image: nginx, env_file: {name}}}\n")
    assert found == [
        f"gefyra.yaml:3:33: containers.web.env_file: env file {tmp_path / name} is not a regular file"
    ]


def test_env_file_problems_name_the_line_never_its_content(tmp_path):
    (tmp_path / "a.env").write_text(f"A=1\n{SECRET}\n")
    (tmp_path / "b.env").write_text(f'CERT="-----BEGIN\nMIIB{SECRET}+/=\n')  # a value spread on two lines
    (tmp_path / "c.env").write_bytes(f"A=1\nB=x\0{SECRET}\n".encode())
    text = "version: 1\ncontainers:\n  web: {image: nginx, env_file: [a.env, b.env, c.env]}\n"
    found = problems(tmp_path, text)
    assert [p.split(": ", 2)[2] for p in found] == [
        f"{tmp_path / 'a.env'}:2: expected KEY=VALUE (the line has no '=')",
        f"{tmp_path / 'b.env'}:2: the name before '=' is not a variable name (letters, digits, '_', '.' "
        "and '-', not starting with a digit; a value spans one line)",
        f"{tmp_path / 'c.env'}:2: holds a NUL character, which no environment can take",
    ]
    assert SECRET not in "\n".join(found)


@pytest.mark.parametrize(
    "env",
    [
        f"TOKEN={SECRET}",
        f"[TOKEN={SECRET}]",
        f"{{TOKEN: [{SECRET}]}}",
        f"{{TOKEN: {{x: {SECRET}}}}}",
        f'{{TOKEN: "{SECRET}\\0"}}',
        f'{{"TOKEN={SECRET}": x}}',  # a key is shown: what is in it was meant as a name
    ][:5],
)
def test_env_values_never_appear_in_messages(tmp_path, env):
    found = _messages(tmp_path, f"version: 1\ncontainers:\n  web:\n    image: nginx\n    env: {env}\n")
    assert found.startswith("gefyra.yaml:5:")
    assert SECRET not in found


def test_env_section_written_as_text_does_not_echo_it(tmp_path):
    found = problems(
        tmp_path, f"version: 1\ncontainers:\n  web:\n    image: nginx\n    env: TOKEN={SECRET}\n"
    )
    assert found == ["gefyra.yaml:5:10: containers.web.env: expected a mapping, got text"]


def test_build_args_values_never_appear_in_messages(tmp_path):
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "Dockerfile").write_text("FROM scratch\n")
    text = f"version: 1\ncontainers:\n  web:\n    build: {{context: app, args: {{T: [{SECRET}]}}}}\n"
    found = problems(tmp_path, text)
    assert found == ["gefyra.yaml:4:37: containers.web.build.args.T: expected text, got a list"]


@pytest.mark.parametrize(
    ("key", "shown"),
    [('"PATH=/evil:/bin"', "PATH=/evil:/bin"), ('"A\\nB"', "A\\nB"), ('"A\\0B"', None), ('""', "")],
)
def test_env_keys_with_equals_line_breaks_or_nul_are_refused(tmp_path, key, shown):
    found = problems(tmp_path, f"version: 1\ncontainers:\n  web:\n    image: nginx\n    env: {{{key}: x}}\n")
    assert len(found) == 1
    assert found[0].startswith("gefyra.yaml:5:11: containers.web.env")
    if shown is not None:
        assert f"'{shown}' is not an environment variable name" in found[0]
    else:
        assert "NUL" in found[0]


def test_build_args_keys_with_equals_are_refused(tmp_path):
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "Dockerfile").write_text("FROM scratch\n")
    found = problems(
        tmp_path, 'version: 1\ncontainers:\n  web:\n    build: {context: app, args: {"A=B": x}}\n'
    )
    assert found == [
        "gefyra.yaml:4:34: containers.web.build.args.A=B: 'A=B' is not an environment variable name: it must "
        "not be empty nor hold '=', a line break, NUL or other control characters"
    ]


@pytest.mark.parametrize(
    ("line", "where"),
    [
        ('    image: "nginx\\0"\n', "4:12: containers.web.image"),
        ('    command: ["sh", "-c\\0x"]\n', "4:21: containers.web.command[1]"),
        ('    env: {A: "x\\0y"}\n', "4:14: containers.web.env.A"),
        ('    user: "a\\0"\n', "4:11: containers.web.user"),
    ],
)
def test_nul_anywhere_is_refused_at_its_value(tmp_path, line, where):
    found = problems(
        tmp_path,
        "version: 1\ncontainers:\n  web:\n" + line + ("    image: nginx\n" if "image" not in line else ""),
    )
    assert any(where in p and "NUL character" in p for p in found), found


def test_raw_nul_byte_is_refused_at_its_position(tmp_path):
    (tmp_path / "gefyra.yaml").write_bytes(b"version: 1\ncontainers:\n  web: {image: ng\0inx}\n")
    with pytest.raises(ConfigError) as info:
        load(cwd=tmp_path, environ={})
    assert [str(p) for p in info.value.problems] == [
        "gefyra.yaml:3:18: a NUL character (U+0000): YAML text cannot hold one"
    ]


@pytest.mark.parametrize("digits", ["١٢٣٤٥", "１２３４５", "12３45"])
def test_port_numbers_must_be_ascii_digits(tmp_path, digits):
    text = f'version: 1\ncontainers:\n  web:\n    image: nginx\n    ports: ["127.0.0.1:{digits}:80"]\n'
    found = problems(tmp_path, text)
    assert found == [
        f"gefyra.yaml:5:13: containers.web.ports[0]: host port '{digits}' is not a number (digits 0-9)"
    ]


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("mtu", '"١٤٠٠"', "cluster.mtu: mtu must be 'auto' or a number, got '١٤٠٠'"),
        (
            "endpoint",
            '"127.0.0.1:٣١٨٢٠"',
            "cluster.endpoint: endpoint '127.0.0.1:٣١٨٢٠' must be 'auto' or 'host:port'",
        ),
    ],
)
def test_cluster_numbers_must_be_ascii_digits(tmp_path, key, value, message):
    found = problems(tmp_path, f"version: 1\ncluster:\n  {key}: {value}\n")
    assert len(found) == 1 and message in found[0], found


@pytest.mark.parametrize(
    ("subnet", "reason"),
    [
        ("0.0.0.0/0", "is not a private range"),
        ("127.0.0.0/8", "is not a private range"),
        ("8.8.8.0/24", "is not a private range"),
        ("169.254.0.0/16", "is not a private range"),
        ("10.0.0.0/8", "must be from /16 (65536 addresses) to /28 (16) in size"),
        ("172.30.0.0/29", "must be from /16 (65536 addresses) to /28 (16) in size"),
        ("192.168.1.1/32", "must be from /16"),
    ],
)
def test_subnet_must_be_private_and_of_a_sane_size(tmp_path, subnet, reason):
    found = problems(tmp_path, f"version: 1\nnetwork: {{subnet: {subnet}}}\n")
    assert len(found) == 1 and found[0].startswith("gefyra.yaml:2:19: network.subnet: subnet ")
    assert reason in found[0]


@pytest.mark.parametrize("subnet", ["10.1.0.0/16", "172.16.5.0/24", "192.168.7.16/28", "100.64.0.0/24"])
def test_private_subnets_of_a_sane_size_are_accepted(tmp_path, subnet):
    write(tmp_path, f"version: 1\nnetwork: {{subnet: {subnet}}}\n")
    assert str(load(cwd=tmp_path, environ={}).network.subnet) == subnet


@pytest.mark.parametrize("char", ["\u202e", "\u2066", "\u2069", "\u200b", "\ufeff", "\u200d"])
@pytest.mark.parametrize("place", ["image", "name", "key"])
def test_bidi_and_invisible_characters_in_names_and_images_are_refused(tmp_path, char, place):
    image = f"ngi{char}nx" if place == "image" else "nginx"
    name = f"w{char}eb" if place == "name" else "web"
    key = f"ima{char}ge" if place == "key" else "image"
    found = problems(tmp_path, f'version: 1\ncontainers:\n  "{name}":\n    {key}: "{image}"\n')
    code = f"U+{ord(char):04X}"
    assert any(code in p for p in found), found
    assert all(char not in p for p in found)  # shown escaped, never as itself


def test_bidi_controls_are_refused_in_comments_too(tmp_path):
    found = problems(tmp_path, "version: 1\n# harmless \u202e}; evil {\ncontainers: {}\n")
    assert found == [
        "gefyra.yaml:2:12: the bidirectional control character U+202E (RIGHT-TO-LEFT OVERRIDE) makes this "
        "line display in another order than it is read; remove it"
    ]


def test_invisible_characters_stay_allowed_in_free_text(tmp_path):
    write(
        tmp_path,
        'version: 1\ncontainers:\n  web:\n    image: nginx\n    env: {NAME: "a\u200db"}\n'
        '    command: ["echo", "x\u200by"]\n',
    )
    web = load(cwd=tmp_path, environ={}).containers["web"]
    assert web.env["NAME"] == "a\u200db" and web.command == ["echo", "x\u200by"]


def test_invisible_characters_brought_in_by_a_variable_are_refused(tmp_path):
    found = problems(tmp_path, 'version: 1\ncontainers:\n  web: {image: "${IMG}"}\n', {"IMG": "ngi\u202enx"})
    assert found == [
        "gefyra.yaml:3:16: containers.web.image: holds the bidirectional control character U+202E "
        "(RIGHT-TO-LEFT OVERRIDE) (from a variable)"
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("99999999999999999999d", "duration '99999999999999999999d' is longer than 365 days"),
        ("366d", "duration '366d' is longer than 365 days"),
        ("9" * 5000 + "s", "is not a duration"),
    ],
)
def test_huge_durations_are_positioned_problems(tmp_path, value, message):
    found = problems(tmp_path, f"version: 1\ncluster:\n  client_timeout: {value}\n")
    assert len(found) == 1 and found[0].startswith("gefyra.yaml:3:19: cluster.client_timeout: ")
    assert message in found[0]


@pytest.mark.parametrize(
    ("line", "where"),
    [
        ("cluster: {mtu: " + "9" * 5000 + "}", "gefyra.yaml:2:16: cluster.mtu: "),
        ('cluster: {mtu: "' + "9" * 5000 + '"}', "gefyra.yaml:2:16: cluster.mtu: "),
        ('cluster: {endpoint: "h:' + "9" * 5000 + '"}', "gefyra.yaml:2:21: cluster.endpoint: "),
        ("cluster: {mtu: 0x" + "f" * 5000 + "}", "gefyra.yaml:2:16: cluster.mtu: "),
        ("version: 0x" + "f" * 5000, "gefyra.yaml:1:10: version: "),
        (
            'containers: {web: {image: x, ports: ["' + "9" * 5000 + ':80"]}}',
            "gefyra.yaml:2:38: containers.web.ports[0]: ",
        ),
        ("containers: {web: {image: x, env: {A: 0x" + "f" * 5000 + "}}}", None),
        ("network: {subnet: 10.0.0.0/" + "9" * 5000 + "}", "gefyra.yaml:2:19: network.subnet: "),
    ],
    ids=["mtu", "mtu-text", "endpoint", "mtu-hex", "version-hex", "port", "env-hex", "subnet"],
)
def test_huge_numbers_are_positioned_problems_never_internal_errors(tmp_path, line, where):
    text = ("version: 1\n" if not line.startswith("version") else "") + line + "\n"
    write(tmp_path, text)
    try:
        load(cwd=tmp_path, environ={})
    except ConfigError as error:
        assert where is not None and len(error.problems) == 1, error.message
        assert str(error.problems[0]).startswith(where), error.message
        assert len(error.message) < 400
    else:
        assert where is None
