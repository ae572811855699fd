"""The warm agent without an engine: it starts once, serves only read-only commands to its own uid from a
private folder, gives the same output and exit code as an in-process run, follows code changes (a new
fingerprint, a new agent), and a client falls back when anything is wrong."""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

from gefyra.cli import agent_client
from tests.unit.agent_helpers import REPO, AgentFolder, agent_folder, wait_for

__all__ = ["agent_folder"]


def _missing(tmp_path: Path) -> list[str]:
    return ["status", "-f", str(tmp_path / "missing.yaml")]


def test_the_first_client_starts_one_agent_in_a_private_folder(agent_folder: AgentFolder, tmp_path) -> None:
    shutil.rmtree(agent_folder.path)  # made by the agent itself
    first = agent_folder.cli(*_missing(tmp_path), cwd=tmp_path)
    assert first.returncode == 1 and "missing.yaml" in first.stderr
    agent = agent_folder.ready()
    assert agent_folder.agents() == [agent]
    assert stat.S_IMODE(agent_folder.path.stat().st_mode) == 0o700
    assert agent_folder.path.stat().st_uid == os.geteuid()
    for path in agent_folder.path.iterdir():
        assert path.stat().st_uid == os.geteuid() and not path.stat().st_mode & 0o077, path
    served = agent_folder.served()
    second = agent_folder.cli(*_missing(tmp_path), cwd=tmp_path)
    assert agent_folder.served() == served + 1
    inside = agent_folder.cli(*_missing(tmp_path), cwd=tmp_path, agent=False)
    assert (second.returncode, second.stdout, second.stderr) == (
        inside.returncode,
        inside.stdout,
        inside.stderr,
    )
    assert agent_folder.served() == served + 1  # GEFYRA_AGENT=0: not through the agent


def test_gefyra_agent_0_starts_no_agent(agent_folder: AgentFolder, tmp_path) -> None:
    for _ in range(2):
        assert agent_folder.cli(*_missing(tmp_path), cwd=tmp_path, agent=False).returncode == 1
    assert agent_folder.agents() == [] and list(agent_folder.path.iterdir()) == []


def test_a_folder_others_may_enter_is_not_used(agent_folder: AgentFolder, tmp_path) -> None:
    agent_folder.path.chmod(0o755)
    done = agent_folder.cli(*_missing(tmp_path), cwd=tmp_path)
    assert done.returncode == 1 and "missing.yaml" in done.stderr
    assert agent_folder.agents() == [] and list(agent_folder.path.iterdir()) == []


def _raw_request(
    agent_folder: AgentFolder, argv: list[str], cwd: Path, claimed: str | None = None
) -> tuple[str, str]:
    """What the worker answers to a hand-made request (the protocol of agent_client)."""
    os.environ["GEFYRA_AGENT_DIR"] = str(agent_folder.path)
    try:
        key = agent_client.fingerprint(agent_client.package_dir())
        sock = agent_client.paths(str(agent_folder.path), key)["sock"]
        with socket.socket(socket.AF_UNIX) as connection:
            connection.settimeout(30)
            connection.connect(sock)
            cwd_before = os.getcwd()
            os.chdir(cwd)
            try:
                settings = {"encoding": "utf-8", "errors": "strict", "line_buffering": False}
                settings["write_through"] = False
                streams = dict.fromkeys(("stdin", "stdout", "stderr"), settings)
                data = agent_client.request(argv, claimed or key, streams)
            finally:
                os.chdir(cwd_before)
            with open(os.devnull, "rb") as null_in, open(os.devnull, "wb") as null_out:
                fds = [null_in.fileno(), null_out.fileno(), null_out.fileno()]
                sent = socket.send_fds(connection, [data[:4096]], fds)
                try:
                    connection.sendall(data[sent:])
                except BrokenPipeError as error:  # seen once under load: say what the agent logged
                    logs = "".join(log.read_text() for log in agent_folder.path.glob("*.log"))
                    why = f"the worker closed before the request was in; agent log:\n{logs}"
                    raise AssertionError(why) from error
                reply = agent_client.read_reply(connection)
    finally:
        del os.environ["GEFYRA_AGENT_DIR"]
    assert reply is not None
    return reply


def test_only_read_only_commands_are_served(agent_folder: AgentFolder, tmp_path) -> None:
    agent_folder.cli(*_missing(tmp_path), cwd=tmp_path)
    agent_folder.ready()
    for argv in (["apply", "--yes"], ["down", "--all"], ["plan", "--debug"], ["validate"], []):
        assert _raw_request(agent_folder, argv, tmp_path) == ("refused", "not a read-only command"), argv
    assert _raw_request(agent_folder, _missing(tmp_path), tmp_path)[0] == "pid"


def test_a_changed_source_file_makes_a_new_agent_and_the_old_one_exits(agent_folder: AgentFolder, tmp_path):
    copy = tmp_path / "checkout"
    shutil.copytree(REPO / "gefyra", copy / "gefyra", ignore=shutil.ignore_patterns("__pycache__"))
    env = {"PYTHONPATH": str(copy)}
    agent_folder.cli(*_missing(tmp_path), cwd=tmp_path, env=env)
    old = agent_folder.ready()
    assert agent_folder.cli(*_missing(tmp_path), cwd=tmp_path, env=env).returncode == 1
    served = agent_folder.served()
    assert served >= 1
    source = copy / "gefyra" / "errors.py"
    os.utime(source, ns=(source.stat().st_atime_ns, source.stat().st_mtime_ns + 10**9))
    done = agent_folder.cli(*_missing(tmp_path), cwd=tmp_path, env=env)
    assert done.returncode == 1 and "missing.yaml" in done.stderr
    wait_for("the old agent to exit", lambda: old not in agent_folder.agents())
    new = agent_folder.ready()
    assert new != old
    agent_folder.cli(*_missing(tmp_path), cwd=tmp_path, env=env)
    assert agent_folder.served() == served + 1  # the new agent serves


def test_the_fingerprint_is_cheap_and_covers_every_source(tmp_path) -> None:
    package = agent_client.package_dir()
    start = time.perf_counter()
    key = agent_client.fingerprint(package)
    spent = time.perf_counter() - start
    assert len(key) == 24 and spent < 1.0  # a few ms alone (see docs/engine.md); generous under load
    copy = tmp_path / "gefyra"
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("__pycache__"))
    before = agent_client.fingerprint(str(copy))
    (copy / "cli" / "new_module.py").write_text("")
    assert agent_client.fingerprint(str(copy)) != before


def test_the_client_imports_only_the_standard_library() -> None:
    probe = (
        "import sys\nbefore = set(sys.modules)\nimport gefyra.cli.agent_client\n"
        "print(sorted(m for m in set(sys.modules) - before if '.' not in m and not m.startswith('_')))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    new = json.loads(done.stdout.replace("'", '"'))
    assert set(new) <= set(sys.stdlib_module_names) | {"gefyra"}, new


def test_a_peer_of_another_uid_gets_nothing(agent_folder: AgentFolder, tmp_path) -> None:
    """Even with the folder opened up, the agent closes a connection from another uid unanswered."""
    agent_folder.cli(*_missing(tmp_path), cwd=tmp_path)
    agent_folder.ready()
    sock = next(agent_folder.path.glob("*.sock"))
    served = agent_folder.served()
    agent_folder.path.chmod(0o711)
    sock.chmod(0o777)
    try:
        child = os.fork()
        if child == 0:  # pragma: no cover - the child reports through its exit status
            status = 3
            try:
                os.setgid(65534)
                os.setuid(65534)
                with socket.socket(socket.AF_UNIX) as connection:
                    connection.settimeout(20)
                    connection.connect(str(sock))
                    status = 0 if connection.recv(64) == b"" else 1
            except OSError:
                status = 2
            finally:
                os._exit(status)
        _, code = os.waitpid(child, 0)
    finally:
        agent_folder.path.chmod(0o700)
    assert os.waitstatus_to_exitcode(code) == 0  # connected, then closed without a word
    assert agent_folder.served() == served  # no worker forked


def test_an_idle_agent_exits_and_cleans_up(agent_folder: AgentFolder, tmp_path) -> None:
    agent_folder.env["GEFYRA_AGENT_IDLE_S"] = "1"
    agent_folder.cli(*_missing(tmp_path), cwd=tmp_path)
    agent = agent_folder.ready()
    wait_for("the idle agent to exit", lambda: agent not in agent_folder.agents())
    assert sorted(path.suffix for path in agent_folder.path.iterdir()) == [".lock", ".log"]
    assert "idle for 1 s" in next(agent_folder.path.glob("*.log")).read_text()


def test_a_client_of_other_code_is_refused_and_the_agent_makes_way(agent_folder: AgentFolder, tmp_path):
    agent_folder.cli(*_missing(tmp_path), cwd=tmp_path)
    agent = agent_folder.ready()
    assert _raw_request(agent_folder, _missing(tmp_path), tmp_path, claimed="0" * 24) == ("refused", "stale")
    wait_for("the stale agent to exit", lambda: agent not in agent_folder.agents())
