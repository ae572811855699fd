"""One test per kind of problem in gefyra.yaml, each with its exact file:line:col and message."""

from __future__ import annotations

import pytest

from gefyra.config import load
from gefyra.errors import ConfigError
from tests.unit.config_helpers import problems


def test_yaml_syntax_error_points_at_the_broken_token(tmp_path):
    text = """
    version: 1
    containers:
      web: {image: nginx
    """
    assert problems(tmp_path, text) == [
        "gefyra.yaml:4:1: YAML syntax error: did not find expected ',' or '}' "
        "(while parsing a flow mapping at line 3)"
    ]


def test_every_duplicate_key_is_reported_with_the_first_line(tmp_path):
    text = """
    version: 1
    containers:
      web:
        image: nginx
        image: caddy
      web:
        image: x
    """
    assert problems(tmp_path, text) == [
        "gefyra.yaml:5:5: duplicate key 'image' (first defined at line 4)",
        "gefyra.yaml:6:3: duplicate key 'web' (first defined at line 3)",
    ]


def test_unknown_key_suggests_the_near_miss(tmp_path):
    text = """
    version: 1
    containers:
      web:
        imgae: nginx
    """
    assert problems(tmp_path, text) == [
        "gefyra.yaml:4:5: unknown key 'imgae' in containers.web (did you mean 'image'?)",
    ]


def test_unknown_top_level_key_suggests_the_near_miss(tmp_path):
    assert problems(tmp_path, "version: 1\nbrigdes: {}\n") == [
        "gefyra.yaml:2:1: unknown key 'brigdes' (did you mean 'bridges'?)",
    ]


def test_wrong_type_names_the_expected_and_the_given_type(tmp_path):
    text = """
    version: 1
    containers:
      web:
        image: nginx
        env: [A=1]
    """
    assert problems(tmp_path, text) == [
        "gefyra.yaml:5:10: containers.web.env: expected a mapping, got a list",
    ]


def test_bad_value_of_a_choice_suggests_the_near_miss(tmp_path):
    text = """
    version: 1
    containers:
      web:
        image: nginx
        watch: [{path: src, action: rebuil}]
    """
    assert problems(tmp_path, text) == [
        "gefyra.yaml:5:33: containers.web.watch[0].action: Input should be 'restart' or 'rebuild', "
        "got 'rebuil' (did you mean 'rebuild'?)",
    ]


def test_image_and_build_together_is_an_error_at_the_container(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM debian:bookworm-slim\n")
    text = """
    version: 1
    containers:
      web:
        image: nginx
        build: .
    """
    assert problems(tmp_path, text) == [
        "gefyra.yaml:3:3: containers.web: set exactly one of 'image' and 'build'",
    ]


def test_dangling_local_reference_suggests_a_container_name(tmp_path):
    text = """
    version: 1
    cluster: {}
    containers:
      web: {image: nginx}
    bridges:
      api:
        target: deployment/api
        local: wbe
    """
    assert problems(tmp_path, text) == [
        "gefyra.yaml:8:12: bridges.api.local: no container named 'wbe' (did you mean 'web'?)",
    ]


def test_bridge_without_local_defaults_to_its_own_name_and_says_so(tmp_path):
    text = """
    version: 1
    cluster: {}
    containers:
      web: {image: nginx}
    bridges:
      api:
        target: deployment/api
    """
    assert problems(tmp_path, text) == [
        "gefyra.yaml:6:3: bridges.api.local: no container named 'api'; set 'local' to one of: web",
    ]


def test_missing_variable_names_it_and_its_line(tmp_path):
    text = """
    version: 1
    containers:
      web:
        image: "registry.local/web:${TAG}"
    """
    assert problems(tmp_path, text) == [
        "gefyra.yaml:4:12: environment variable 'TAG' is not set (write ${TAG:-default} to give a default)",
    ]


def test_bad_duration(tmp_path):
    text = """
    version: 1
    cluster:
      client_timeout: 10 minutes
    """
    assert problems(tmp_path, text) == [
        "gefyra.yaml:3:19: cluster.client_timeout: '10 minutes' is not a duration: "
        "write a number with a unit, like '30s', '10m' or '1h30m'",
    ]


def test_port_out_of_range_in_short_and_long_form(tmp_path):
    text = """
    version: 1
    containers:
      web:
        image: nginx
        ports: ["8080:80", "8081:70000", {host_port: 0, container_port: 80}]
    """
    assert problems(tmp_path, text) == [
        "gefyra.yaml:5:24: containers.web.ports[1]: container port 70000 is out of range (1-65535)",
        "gefyra.yaml:5:50: containers.web.ports[2].host_port: port 0 is out of range (1-65535)",
    ]


def test_non_dns_label_name(tmp_path):
    text = """
    version: 1
    containers:
      Web_1:
        image: nginx
    """
    assert problems(tmp_path, text) == [
        "gefyra.yaml:3:3: containers.Web_1: 'Web_1' is not a valid name: use at most 63 lowercase letters, "
        "digits and '-', starting and ending with a letter or digit (DNS-1123 label)",
    ]


def test_bridge_without_cluster(tmp_path):
    text = """
    version: 1
    containers:
      web: {image: nginx}
    bridges:
      web:
        target: deployment/web
    """
    assert problems(tmp_path, text) == [
        "gefyra.yaml:4:1: bridges need a 'cluster' section (without one gefyra runs local containers only)",
    ]


def test_missing_version(tmp_path):
    assert problems(tmp_path, "containers: {}\n") == ["gefyra.yaml:1:1: missing required key 'version'"]


def test_empty_file(tmp_path):
    assert problems(tmp_path, "# nothing here\n") == [
        "gefyra.yaml:1:1: the file is empty; it must start with 'version: 1'"
    ]


def test_not_utf8(tmp_path):
    (tmp_path / "gefyra.yaml").write_bytes(b"version: 1\nproject: {name: caf\xe9}\n")
    with pytest.raises(ConfigError) as info:
        load("gefyra.yaml", cwd=tmp_path, environ={})
    assert [str(p) for p in info.value.problems] == [
        "gefyra.yaml:2:20: the file is not UTF-8 text (byte 0xe9)"
    ]


def test_missing_env_file_is_reported_at_its_entry(tmp_path):
    text = """
    version: 1
    containers:
      web:
        image: nginx
        env_file: [present.env, missing.env]
    """
    (tmp_path / "present.env").write_text("A=1\n")
    assert problems(tmp_path, text) == [
        f"gefyra.yaml:5:29: containers.web.env_file: env file {tmp_path / 'missing.env'} does not exist",
    ]


def test_all_problems_are_reported_at_once_in_file_order(tmp_path):
    text = """
    version: 2
    cluster:
      mtu: big
    containers:
      web:
        image: nginx
        ports: ["80:80/sctp"]
    bridges:
      api: {target: deploy/api}
    """
    assert problems(tmp_path, text) == [
        "gefyra.yaml:1:10: version: Input should be 1, got 2",
        "gefyra.yaml:3:8: cluster.mtu: mtu must be 'auto' or a number, got 'big'",
        "gefyra.yaml:7:13: containers.web.ports[0]: protocol 'sctp' in '80:80/sctp' must be 'tcp' or 'udp'",
        "gefyra.yaml:9:3: bridges.api.local: no container named 'api'; set 'local' to one of: web",
        "gefyra.yaml:9:17: bridges.api.target: unknown kind 'deploy' in 'deploy/api': "
        "use deployment, statefulset, pod (did you mean 'deployment'?)",
    ]


def test_wrong_scalar_types_say_what_was_expected(tmp_path):
    (tmp_path / "a").mkdir()
    text = """
    version: 1
    containers:
      web:
        image: [nginx]
        ports: [{host_port: x, container_port: 80}]
        mounts: [{source: a, target: /b, read_only: maybe}]
      db:
    """
    assert problems(tmp_path, text) == [
        "gefyra.yaml:4:12: containers.web.image: expected text, got a list",
        "gefyra.yaml:5:25: containers.web.ports[0].host_port: expected a whole number, got 'x'",
        "gefyra.yaml:6:49: containers.web.mounts[0].read_only: expected true or false, got 'maybe'",
        "gefyra.yaml:7:3: containers.db: expected a mapping of keys, got nothing (null)",
    ]


def test_quoted_version_says_to_drop_the_quotes(tmp_path):
    assert problems(tmp_path, 'version: "1"\n') == [
        "gefyra.yaml:1:10: version: Input should be 1, got the text '1' (write it without quotes)"
    ]


def test_a_date_where_text_is_expected_says_to_quote_it(tmp_path):
    assert problems(tmp_path, "version: 1\ncontainers: {web: {image: nginx, workdir: 2024-01-31}}\n") == [
        "gefyra.yaml:2:43: containers.web.workdir: expected text, "
        "got the date 2024-01-31 (quote it to make it text)"
    ]


def test_host_port_published_twice(tmp_path):
    text = """
    version: 1
    containers:
      a: {image: x, ports: ["8080:80", "127.0.0.1:53:53/udp"]}
      b: {image: x, ports: ["127.0.0.1:8080:80", "127.0.0.2:53:53/udp", "53:53/tcp"]}
    """
    assert problems(tmp_path, text) == [
        "gefyra.yaml:4:25: containers.b.ports[0]: host port 8080/tcp is already published by "
        "containers.a.ports[0]",
    ]


def test_rebuild_needs_build(tmp_path):
    text = """
    version: 1
    containers:
      a: {image: x, watch: [{path: ., action: rebuild}]}
    """
    assert problems(tmp_path, text) == [
        "gefyra.yaml:3:43: containers.a.watch[0].action: 'rebuild' needs 'build' "
        "(this container runs a ready image)",
    ]


def test_one_target_bridged_twice(tmp_path):
    text = """
    version: 1
    cluster: {namespace: shop}
    containers:
      a: {image: x}
    bridges:
      a: {target: deployment/api}
      b: {target: deployment/api, local: a, namespace: shop}
    """
    assert problems(tmp_path, text) == [
        "gefyra.yaml:7:15: bridges.b.target: deployment/api in namespace shop "
        "is already bridged by bridges.a",
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("cluster: {mtu: 100}", "gefyra.yaml:2:16: cluster.mtu: mtu 100 is out of range (1280-9000)"),
        ("cluster: {mtu: [1]}", "gefyra.yaml:2:16: cluster.mtu: mtu must be 'auto' or a number, got a list"),
        (
            "cluster: {endpoint: 10.0.0.1}",
            "gefyra.yaml:2:21: cluster.endpoint: endpoint '10.0.0.1' must be 'auto' or 'host:port', "
            "like '192.168.49.2:31820'",
        ),
        (
            "cluster: {install: always}",
            "gefyra.yaml:2:20: cluster.install: Input should be 'auto' or 'never', got 'always'",
        ),
        (
            "network: {subnet: 5}",
            "gefyra.yaml:2:19: network.subnet: subnet must be 'auto' or an IPv4 CIDR like '172.30.0.0/24', "
            "got 5",
        ),
        (
            "network: {subnet: 10.1.2.0/33}",
            "gefyra.yaml:2:19: network.subnet: subnet '10.1.2.0/33' must be 'auto' or an IPv4 CIDR like "
            "'172.30.0.0/24' ('33' is not a valid netmask)",
        ),
        (
            "containers: {w: {image: x, mounts: [./a:app]}}",
            "gefyra.yaml:2:37: containers.w.mounts[0].target: mount target 'app' must be an absolute path "
            "in the container",
        ),
        (
            "containers: {w: {image: 'my image'}}",
            "gefyra.yaml:2:25: containers.w.image: 'my image' is not an image reference, "
            "like 'nginx:1.27' or 'registry.local/team/app'",
        ),
        (
            "containers: {w: {image: x, workdir: srv}}",
            "gefyra.yaml:2:37: containers.w.workdir: workdir 'srv' must be an absolute path in the container",
        ),
        (
            "containers: {w: {image: x, env_from: [deployment/api/Main]}}",
            "gefyra.yaml:2:39: containers.w.env_from[0].container: 'Main' is not a valid name: "
            "use at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit "
            "(DNS-1123 label)",
        ),
        (
            "containers: {w: {image: x, env_from: [cronjob/x]}}",
            "gefyra.yaml:2:39: containers.w.env_from[0]: unknown kind 'cronjob' in 'cronjob/x': "
            "use deployment, statefulset, pod",
        ),
        (
            "containers: {w: {image: x, ports: [{host_port: 80, container_port: 80, host_ip: localhost}]}}",
            "gefyra.yaml:2:81: containers.w.ports[0].host_ip: host address 'localhost' is not an IP address",
        ),
        (
            "containers: {w: {image: x, command: 'echo \"unterminated'}}",
            "gefyra.yaml:2:37: containers.w.command: cannot split command 'echo \"unterminated': "
            "No closing quotation",
        ),
    ],
)
def test_bad_values(tmp_path, line, message):
    (tmp_path / "a").mkdir()  # the mount source of one case
    assert problems(tmp_path, f"version: 1\n{line}\n") == [message]


def test_bad_match_rules(tmp_path):
    text = """
    version: 1
    cluster: {}
    containers: {api: {image: x}}
    bridges:
      api:
        target: deployment/api
        match:
          - {header: "x user", exact: a}
          - {header: x-user}
          - {header: x-user, regex: "("}
    """
    assert problems(tmp_path, text) == [
        "gefyra.yaml:8:18: bridges.api.match[0].header: 'x user' is not an HTTP header name",
        "gefyra.yaml:9:9: bridges.api.match[1]: set exactly one of 'exact', 'prefix' and 'regex'",
        "gefyra.yaml:10:9: bridges.api.match[2]: regex '(' is invalid: "
        "missing ), unterminated subpattern at position 0",
    ]


def test_keys_that_look_like_pydantic_markers_are_ordinary_keys(tmp_path):
    text = """
    version: 1
    "[key]": 1
    containers: {web: {"[key]": 1, image: x}}
    """
    assert problems(tmp_path, text) == [
        "gefyra.yaml:2:1: unknown key '[key]'",
        "gefyra.yaml:3:20: unknown key '[key]' in containers.web",
    ]


def test_duplicate_key_keeps_the_first_value_and_hides_no_later_problem(tmp_path):
    text = """
    version: 1
    containers:
      web:
        image: x
        image: "not an image"
        imgae: z
        ports: [99999]
    """
    assert problems(tmp_path, text) == [
        "gefyra.yaml:5:5: duplicate key 'image' (first defined at line 4)",
        "gefyra.yaml:6:5: unknown key 'imgae' in containers.web (did you mean 'image'?)",
        "gefyra.yaml:7:13: containers.web.ports[0]: port 99999 is out of range (1-65535)",
    ]


def test_missing_variable_hides_no_later_problem(tmp_path):
    text = """
    version: 1
    containers:
      rv:
        image: "registry.local/rv:${RV_TAG}"
        env_file: missing.env
    bridges:
      rv:
        target: deployment/rv
    """
    assert problems(tmp_path, text) == [
        "gefyra.yaml:4:12: environment variable 'RV_TAG' is not set "
        "(write ${RV_TAG:-default} to give a default)",
        f"gefyra.yaml:5:15: containers.rv.env_file: env file {tmp_path / 'missing.env'} does not exist",
        "gefyra.yaml:6:1: bridges need a 'cluster' section (without one gefyra runs local containers only)",
    ]


def test_placeholder_of_a_missing_variable_is_no_second_problem(tmp_path):
    # Each of these values is invalid once the variable is replaced by the placeholder; only the variable
    # is reported, while real problems next to them (workdir, the second image) still are.
    (tmp_path / "ctx").mkdir()
    text = """
    version: 1
    cluster: {namespace: "${NS}"}
    containers:
      web:
        image: "${IMAGE}"
        workdir: srv
        ports: ["${PORT}:80", "${PORT}:81"]
        mounts: ["${SRC}:/app", {source: "${SRC}", target: /b}]
        env_file: "${ENV_FILE}"
      api:
        build: {context: "${CTX}"}
        image: x
      db:
        build: {context: ctx, dockerfile: "${DF}"}
    bridges:
      web: {target: "deployment/${APP}/x", local: "${LOCAL}"}
    """

    def unset(name: str, where: str) -> str:
        hint = f"(write ${{{name}:-default}} to give a default)"
        return f"gefyra.yaml:{where}: environment variable '{name}' is not set {hint}"

    assert problems(tmp_path, text) == [
        unset("NS", "2:22"),
        unset("IMAGE", "5:12"),
        "gefyra.yaml:6:14: containers.web.workdir: workdir 'srv' must be an absolute path in the container",
        unset("PORT", "7:13"),
        unset("PORT", "7:27"),
        unset("SRC", "8:14"),
        unset("SRC", "8:38"),
        unset("ENV_FILE", "9:15"),
        "gefyra.yaml:10:3: containers.api: set exactly one of 'image' and 'build'",
        unset("CTX", "11:22"),
        unset("DF", "14:39"),
        unset("APP", "16:17"),
        unset("LOCAL", "16:47"),
    ]


def test_every_bad_reference_of_one_string_is_reported(tmp_path):
    text = 'version: 1\ncontainers: {web: {image: x, env: {URL: "${HOST}:${PORT}/${1X}"}}}\n'
    assert problems(tmp_path, text) == [
        "gefyra.yaml:2:41: environment variable 'HOST' is not set (write ${HOST:-default} to give a default)",
        "gefyra.yaml:2:41: environment variable 'PORT' is not set (write ${PORT:-default} to give a default)",
        "gefyra.yaml:2:41: '${1X}' is not a valid reference: write ${NAME} or ${NAME:-default}",
    ]


def test_duplicates_variables_and_other_problems_are_merged_in_file_order(tmp_path):
    text = """
    version: 1
    project: {name: Shop}
    containers:
      web:
        image: "web:${TAG}"
        ports: ["8080:80"]
        ports: ["1:2"]
        mounts: [./nope:/srv]
    """
    assert problems(tmp_path, text) == [
        "gefyra.yaml:2:17: project.name: 'Shop' is not a valid name: use at most 63 lowercase letters, "
        "digits and '-', starting and ending with a letter or digit (DNS-1123 label)",
        "gefyra.yaml:5:12: environment variable 'TAG' is not set (write ${TAG:-default} to give a default)",
        "gefyra.yaml:7:5: duplicate key 'ports' (first defined at line 6)",
        f"gefyra.yaml:8:14: containers.web.mounts[0]: mount source ./nope does not exist "
        f"(relative to {tmp_path})",
    ]
