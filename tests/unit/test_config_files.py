"""Local files gefyra.yaml names are checked at load time: build context, Dockerfile, mount sources."""

from __future__ import annotations

from gefyra.config import load
from tests.unit.config_helpers import problems, write

DOCKERFILE = "FROM debian:bookworm-slim\n"


def test_missing_build_context_suggests_a_near_miss_folder(tmp_path):
    (tmp_path / "web").mkdir()
    (tmp_path / "wbe.txt").write_text("a file is no context\n")
    text = """
    version: 1
    containers:
      app:
        build: {context: ./wbe}
      other:
        build: nope
    """
    assert problems(tmp_path, text) == [
        "gefyra.yaml:4:22: containers.app.build.context: build context ./wbe does not exist "
        f"(relative to {tmp_path}) (did you mean 'web'?)",
        "gefyra.yaml:6:12: containers.other.build.context: build context nope does not exist "
        f"(relative to {tmp_path})",
    ]


def test_build_context_that_is_a_file(tmp_path):
    (tmp_path / "web").write_text(DOCKERFILE)
    assert problems(tmp_path, "version: 1\ncontainers: {app: {build: web}}\n") == [
        "gefyra.yaml:2:27: containers.app.build.context: build context web is not a folder",
    ]


def test_missing_dockerfile_suggests_a_near_miss_file(tmp_path):
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "Dockerfile.dev").write_text(DOCKERFILE)
    (tmp_path / "empty").mkdir()
    text = """
    version: 1
    containers:
      a:
        build:
          context: ./web
          dockerfile: Dockerfile.dvl
      b:
        build: ./web
      c:
        build: empty
    """
    assert problems(tmp_path, text) == [
        "gefyra.yaml:6:19: containers.a.build.dockerfile: Dockerfile ./web/Dockerfile.dvl not found "
        "(did you mean 'Dockerfile.dev'?)",
        "gefyra.yaml:8:12: containers.b.build.dockerfile: Dockerfile ./web/Dockerfile not found "
        "(did you mean 'Dockerfile.dev'?)",
        "gefyra.yaml:10:12: containers.c.build.dockerfile: Dockerfile empty/Dockerfile not found "
        "(set build.dockerfile to use another file)",
    ]


def test_dockerfile_that_is_a_folder(tmp_path):
    (tmp_path / "Dockerfile").mkdir()
    assert problems(tmp_path, "version: 1\ncontainers: {app: {build: .}}\n") == [
        "gefyra.yaml:2:27: containers.app.build.dockerfile: Dockerfile ./Dockerfile is not a file",
    ]


def test_dockerfile_outside_the_context_and_in_a_subfolder_are_found(tmp_path):
    (tmp_path / "ctx" / "docker").mkdir(parents=True)
    (tmp_path / "ctx" / "docker" / "dev.Dockerfile").write_text(DOCKERFILE)
    (tmp_path / "shared.Dockerfile").write_text(DOCKERFILE)
    write(
        tmp_path,
        f"""
        version: 1
        containers:
          a: {{build: {{context: ctx, dockerfile: docker/dev.Dockerfile}}}}
          b: {{build: {{context: ctx, dockerfile: ../shared.Dockerfile}}}}
          c: {{build: {{context: ctx, dockerfile: {tmp_path / "shared.Dockerfile"}}}}}
        """,
    )
    config = load(cwd=tmp_path, environ={})
    assert [c.build.dockerfile for c in config.containers.values()] == [
        "docker/dev.Dockerfile",
        "../shared.Dockerfile",
        str(tmp_path / "shared.Dockerfile"),
    ]


def test_missing_mount_source_is_reported_at_its_entry(tmp_path):
    (tmp_path / "site").mkdir()
    (tmp_path / "data.db").write_text("")
    text = """
    version: 1
    containers:
      web:
        image: nginx
        mounts:
          - ./sit:/srv:ro
          - ./site:/www
          - {source: data.db, target: /data.db}
          - {source: cache, target: /cache, read_only: true}
          - /nonexistent/gefyra-test:/x
    """
    assert problems(tmp_path, text) == [
        "gefyra.yaml:6:9: containers.web.mounts[0]: mount source ./sit does not exist "
        f"(relative to {tmp_path}) (did you mean 'site'?)",
        "gefyra.yaml:9:18: containers.web.mounts[3]: mount source cache does not exist "
        f"(relative to {tmp_path})",
        "gefyra.yaml:10:9: containers.web.mounts[4]: mount source /nonexistent/gefyra-test does not exist",
    ]


def test_watched_paths_may_not_exist_yet(tmp_path):
    write(tmp_path, "version: 1\ncontainers: {web: {image: x, watch: [later, {path: gen/out}]}}\n")
    rules = load(cwd=tmp_path, environ={}).containers["web"].watch
    assert [rule.path for rule in rules] == [tmp_path / "later", tmp_path / "gen" / "out"]


def test_missing_files_are_reported_with_the_other_problems_of_their_container(tmp_path):
    text = """
    version: 1
    containers:
      web:
        imgae: nginx
        build: ctx
        env_file: [gone.env]
        mounts: ["gone:/gone"]
        ports: ["0:80"]
    """
    assert problems(tmp_path, text) == [
        "gefyra.yaml:4:5: unknown key 'imgae' in containers.web (did you mean 'image'?)",
        "gefyra.yaml:5:12: containers.web.build.context: build context ctx does not exist "
        f"(relative to {tmp_path})",
        f"gefyra.yaml:6:16: containers.web.env_file: env file {tmp_path / 'gone.env'} does not exist",
        "gefyra.yaml:7:14: containers.web.mounts[0]: mount source gone does not exist "
        f"(relative to {tmp_path})",
        "gefyra.yaml:8:13: containers.web.ports[0]: host port 0 is out of range (1-65535)",
    ]


def test_names_no_file_can_have_are_just_missing(tmp_path):
    long = "x" * 300
    text = f"""
    version: 1
    containers:
      web:
        image: nginx
        env_file: ["a\\0b", {long}]
        mounts: ["a\\0b:/a", "{long}:/b"]
      api:
        build: {{context: "a\\0b"}}
      db:
        build: {long}
    """
    found = problems(tmp_path, text)
    assert [p.split(": ", 2)[1] for p in found] == [
        "containers.web.env_file[0]",  # a NUL is refused where it is written, before any file is looked up
        "containers.web.env_file",
        "containers.web.mounts[0]",
        "containers.web.mounts[1]",
        "containers.api.build.context",
        "containers.db.build.context",
    ]
    assert [p.split(": ")[0] for p in found] == [
        "gefyra.yaml:5:16",
        "gefyra.yaml:5:24",
        "gefyra.yaml:6:14",
        "gefyra.yaml:6:25",
        "gefyra.yaml:8:22",
        "gefyra.yaml:10:12",
    ]
