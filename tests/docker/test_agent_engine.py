"""The warm agent on a real engine: `gefyra status` and `plan` through it print and exit exactly as in-process
(GEFYRA_AGENT=0), see every edit of gefyra.yaml and every changed `${VAR}`, survive a killed agent, serve
clients at once, behave in a pipe, and stop the command on Ctrl-C without leaving a worker behind."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from gefyra import api
from gefyra.cli import agent_client
from tests.docker.engine_helpers import SLEEPER
from tests.unit.agent_helpers import AgentFolder, agent_folder, wait_for

__all__ = ["agent_folder"]

COMMANDS = (["status"], ["status", "-o", "json"], ["plan"], ["plan", "-o", "json"])


def _masked(text: str) -> str:
    """Docker's running time ("Up 3 seconds") ticks between two runs; everything else must be equal."""
    return re.sub(r"Up [A-Za-z0-9 ]+?(?=\s{2}|\"|\n|$)", "Up <time>", text)


def _same(agent_folder: AgentFolder, project, args: list[str]) -> int:
    through = agent_folder.cli(*args, cwd=project.folder)
    inside = agent_folder.cli(*args, cwd=project.folder, agent=False)
    assert through.returncode == inside.returncode, (args, through.stderr, inside.stderr)
    assert _masked(through.stdout) == _masked(inside.stdout), args
    assert through.stderr == inside.stderr, args
    return through.returncode


def _started(agent_folder: AgentFolder, project) -> int:
    agent_folder.cli("status", cwd=project.folder)  # the first client starts the agent and runs in-process
    return agent_folder.ready()


def test_output_and_exit_codes_equal_in_process(agent_folder: AgentFolder, engine_project) -> None:
    engine_project.write({"a": SLEEPER, "b": SLEEPER})
    api.apply(engine_project.load()).raise_for_failures()
    _started(agent_folder, engine_project)
    served = agent_folder.served()
    assert [_same(agent_folder, engine_project, args) for args in COMMANDS] == [0, 0, 0, 0]
    engine_project.write({"a": SLEEPER, "b": SLEEPER, "c": SLEEPER})  # c: planned, not there
    assert [_same(agent_folder, engine_project, args) for args in COMMANDS] == [2, 2, 2, 2]
    engine_project.write({"a": SLEEPER, "b": {"image": 7}})  # a config error: exit 1, same message
    assert _same(agent_folder, engine_project, ["plan"]) == 1
    assert agent_folder.served() == served + 9


def test_edits_and_changed_variables_are_seen(agent_folder: AgentFolder, engine_project) -> None:
    engine_project.write({"a": {**SLEEPER, "env": {"GREETING": "${AGENT_TEST_GREETING:-hello}"}}})
    api.apply(engine_project.load()).raise_for_failures()
    _started(agent_folder, engine_project)
    served = agent_folder.served()
    assert agent_folder.cli("plan", cwd=engine_project.folder).returncode == 0
    changed = agent_folder.cli("plan", cwd=engine_project.folder, env={"AGENT_TEST_GREETING": "bye"})
    assert changed.returncode == 2 and "container/a" in changed.stdout
    engine_project.write({"a": {**SLEEPER, "env": {"GREETING": "hello"}}, "new": SLEEPER})
    edited = agent_folder.cli("plan", cwd=engine_project.folder)
    assert edited.returncode == 2 and "container/new" in edited.stdout and "container/a" not in edited.stdout
    assert agent_folder.served() == served + 3


def test_a_killed_agent_means_in_process_then_a_new_agent(agent_folder: AgentFolder, engine_project) -> None:
    engine_project.write({"a": SLEEPER})
    api.apply(engine_project.load()).raise_for_failures()
    first = _started(agent_folder, engine_project)
    os.kill(first, signal.SIGKILL)
    wait_for("the agent to die", lambda: first not in agent_folder.agents())
    done = agent_folder.cli("status", cwd=engine_project.folder)
    assert done.returncode == 0 and "container/a" in done.stdout
    second = agent_folder.ready()
    assert second != first
    served = agent_folder.served()
    assert _same(agent_folder, engine_project, ["status"]) == 0
    assert agent_folder.served() == served + 1


def test_clients_at_once_start_one_agent_and_are_served_at_once(agent_folder: AgentFolder, engine_project):
    engine_project.write({"a": SLEEPER})
    api.apply(engine_project.load()).raise_for_failures()
    env = {**agent_folder.env}
    command = [sys.executable, "-m", "gefyra", "status"]

    def burst() -> list[subprocess.CompletedProcess[str]]:
        running = [
            subprocess.Popen(command, cwd=engine_project.folder, env=env, stdout=subprocess.PIPE, text=True)
            for _ in range(4)
        ]
        return [subprocess.CompletedProcess(p.args, p.wait(120), p.communicate()[0]) for p in running]

    for done in burst():  # no agent yet: each runs in-process, at most one agent stays
        assert done.returncode == 0 and "container/a" in done.stdout
    agent_folder.ready()
    wait_for("one agent", lambda: len(agent_folder.agents()) == 1)
    served = agent_folder.served()
    for done in burst():
        assert done.returncode == 0 and "container/a" in done.stdout
    assert agent_folder.served() == served + 4


def test_a_pipe_to_head_behaves_as_in_process(agent_folder: AgentFolder, engine_project) -> None:
    """A short plan through `head -1`: the same first line, no message. The exit code is a race in both modes
    (0 when the plan's last write lands before `head` exits, 1 for the broken pipe after): both are allowed;
    test_a_reader_that_goes_away_gives_the_in_process_exit pins the broken pipe with a plan no pipe holds."""
    engine_project.write({f"c{i}": SLEEPER for i in range(3)})
    api.apply(engine_project.load()).raise_for_failures()
    _started(agent_folder, engine_project)
    script = f'{sys.executable} -m gefyra plan -o json | head -1; echo "exit ${{PIPESTATUS[0]}}"'
    outputs = _through_agent_and_in_process(agent_folder, engine_project, script)
    assert all(out in ("{\nexit 0\n", "{\nexit 1\n") and err == "" for out, err in outputs), outputs


def test_a_reader_that_goes_away_gives_the_in_process_exit(agent_folder: AgentFolder, engine_project) -> None:
    """More plan JSON than a pipe holds, read by `head -c 1`: the write fails (BrokenPipe) in the worker as it
    would in-process: the same exit code and nothing on stderr."""
    engine_project.write({f"c{i}": SLEEPER for i in range(250)})  # planned only, never applied
    _started(agent_folder, engine_project)
    served = agent_folder.served()
    script = f'{sys.executable} -m gefyra plan -o json | head -c 1; echo " exit ${{PIPESTATUS[0]}}"'
    outputs = _through_agent_and_in_process(agent_folder, engine_project, script)
    assert outputs[0] == outputs[1] == ("{ exit 1\n", "")
    assert agent_folder.served() == served + 1


def _through_agent_and_in_process(agent_folder: AgentFolder, project, script: str) -> list[tuple[str, str]]:
    """stdout and stderr of a bash `script`, first through the agent, then with GEFYRA_AGENT=0."""
    outputs = []
    for extra in ({}, {"GEFYRA_AGENT": "0"}):
        done = subprocess.run(
            ["bash", "-c", script],
            cwd=project.folder,
            env={**agent_folder.env, **extra},
            capture_output=True,
            text=True,
            timeout=120,
        )
        outputs.append((done.stdout, done.stderr))
    return outputs


def _on_a_terminal(agent_folder: AgentFolder, project, extra: dict[str, str]) -> bytes:
    """What `gefyra plan` writes when its stdout is a terminal (a pty)."""
    leader, follower = os.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "gefyra", "plan"],
            cwd=project.folder,
            env={**agent_folder.env, **extra},
            stdout=follower,
            stderr=subprocess.PIPE,
            timeout=120,
        )
        os.close(follower)
        follower = -1
        output = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: no writer is left on a Linux pty
                break
            if not chunk:
                break
            output += chunk
    finally:
        os.close(leader)
        if follower >= 0:
            os.close(follower)
    assert done.returncode == 2, done.stderr
    return output


def test_a_terminal_gets_the_same_colours(agent_folder: AgentFolder, engine_project) -> None:
    engine_project.write({"a": SLEEPER})  # planned only: a create, coloured on a terminal
    _started(agent_folder, engine_project)
    served = agent_folder.served()
    through = _on_a_terminal(agent_folder, engine_project, {})
    assert agent_folder.served() == served + 1
    inside = _on_a_terminal(agent_folder, engine_project, {"GEFYRA_AGENT": "0"})
    assert b"\x1b[" in through and through == inside
    plain = _on_a_terminal(agent_folder, engine_project, {"NO_COLOR": "1"})  # the request's env decides
    assert b"\x1b[" not in plain


class _Stalling:
    """A unix socket that accepts and never answers: DOCKER_HOST for a command that hangs in its first
    request (so Ctrl-C lands mid-command)."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "stall.sock"
        self.server = socket.socket(socket.AF_UNIX)
        self.server.bind(str(self.path))
        self.server.listen(8)
        self.accepted: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                self.accepted.append(self.server.accept()[0])
            except OSError:
                return

    def close(self) -> None:
        self.server.close()
        for connection in self.accepted:
            connection.close()


def _status_stalled(
    agent_folder: AgentFolder, project, stall: _Stalling, *, agent: bool, output: int
) -> subprocess.Popen[str]:
    """`gefyra status` (through the agent, or in-process) once it hangs in its first engine request."""
    before = len(stall.accepted)
    environ = {**agent_folder.env, "DOCKER_HOST": f"unix://{stall.path}"}
    if not agent:
        environ["GEFYRA_AGENT"] = "0"
    client = subprocess.Popen(
        [sys.executable, "-m", "gefyra", "status"],
        cwd=project.folder,
        env=environ,
        stdout=output,
        stderr=output,
        text=True,
    )
    wait_for("the command to reach the engine", lambda: len(stall.accepted) > before)
    return client


def _interrupted(
    agent_folder: AgentFolder, project, stall: _Stalling, agent: bool, run_s: float = 0.0
) -> tuple[int, str]:
    """Exit code and stderr of `gefyra status` hanging in its first engine request, given Ctrl-C after it
    has been running (still) for `run_s` seconds."""
    client = _status_stalled(agent_folder, project, stall, agent=agent, output=subprocess.PIPE)
    if run_s:
        with pytest.raises(subprocess.TimeoutExpired):  # it keeps running: nothing times it out
            client.wait(run_s)
    client.send_signal(signal.SIGINT)
    out, err = client.communicate(timeout=60)
    return client.returncode, err


def test_ctrl_c_stops_the_worker_and_exits_130(agent_folder: AgentFolder, engine_project, tmp_path) -> None:
    engine_project.write({"a": SLEEPER})
    agent = _started(agent_folder, engine_project)
    stall = _Stalling(tmp_path)
    try:
        served = agent_folder.served()
        through = _interrupted(agent_folder, engine_project, stall, agent=True)
        assert agent_folder.served() == served + 1
        # longer than the client's wait for a worker to be ready: a long command is not cut short
        slow = _interrupted(
            agent_folder, engine_project, stall, agent=True, run_s=agent_client.READY_TIMEOUT_S + 1
        )
        inside = _interrupted(agent_folder, engine_project, stall, agent=False)
    finally:
        stall.close()
    assert through == slow == inside == (130, "gefyra: interrupted\n")
    wait_for("no worker left", lambda: agent_folder.workers(agent) == [])


def test_a_client_killed_outright_takes_its_worker_along(agent_folder: AgentFolder, engine_project, tmp_path):
    engine_project.write({"a": SLEEPER})
    agent = _started(agent_folder, engine_project)
    stall = _Stalling(tmp_path)
    try:
        client = _status_stalled(agent_folder, engine_project, stall, agent=True, output=subprocess.DEVNULL)
        assert len(agent_folder.workers(agent)) == 1
        client.kill()
        client.wait(30)
        wait_for("no worker left", lambda: agent_folder.workers(agent) == [])
    finally:
        stall.close()
