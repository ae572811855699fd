"""The gate: once the executor abandons running steps they start no new engine call (calls under way land);
a step that ends at the gate is settled by looking at the world, not reported as failed. No Docker: a small
client stands in for a provider boundary; the Docker boundary is checked against a socket nobody serves."""

from __future__ import annotations

import _thread
import threading

import pytest

from gefyra.apply.events import Event
from gefyra.apply.executor import Executor
from gefyra.apply.gate import Abandoned, GatedSession
from gefyra.model.resources import Resource, ResourceKey
from gefyra.planning.planner import plan
from gefyra.providers.base import Session
from gefyra.providers.docker.engine import Engine
from gefyra.providers.docker.engine.transport import UnixTransport


class Client:
    """A provider boundary in miniature: every call passes its one check first, as Engine and Kube do."""

    def __init__(self, calls: list[str] | None = None, check=lambda: None) -> None:
        self.calls = [] if calls is None else calls
        self._check = check

    def gated(self, check) -> Client:
        return Client(self.calls, check)

    def start(self, ident: str) -> dict[str, str]:
        self._check()
        self.calls.append(f"start {ident}")
        return {"Id": ident}


def test_a_gated_session_gates_every_client() -> None:
    gate, client = threading.Event(), Client()
    session = GatedSession(Session({"docker": lambda: client}), gate)
    gated = session.client("docker")
    assert isinstance(gated, Client) and gated.start("a") == {"Id": "a"}
    gate.set()
    with pytest.raises(Abandoned):
        gated.start("b")
    with pytest.raises(Abandoned):
        session.client("docker")
    assert client.calls == ["start a"]


def test_the_docker_boundary_checks_the_gate_before_it_calls_the_engine(tmp_path) -> None:
    engine = Engine(UnixTransport(str(tmp_path / "nobody.sock"), 1.0))  # a call would be EngineUnavailable
    gate = threading.Event()
    gated = GatedSession(Session({"docker": lambda: engine}), gate).client("docker")
    assert isinstance(gated, Engine)
    gate.set()
    with pytest.raises(Abandoned):
        gated.start("abc")


def test_a_step_stopped_by_the_gate_is_settled_by_looking_at_the_world() -> None:
    gate, cancel = threading.Event(), threading.Event()
    client = Client()
    api = GatedSession(Session({"docker": lambda: client}), gate).client("docker")
    net = ResourceKey("network", "default")
    desired = [Resource(kind="network", name="default", spec={})]
    desired += [Resource(kind="container", name="a", spec={}, depends_on=(net,))]

    def run(step) -> None:
        if step.key == net:
            return
        api.start("created")  # the call under way when the second Ctrl-C comes lands ...
        _thread.interrupt_main()
        assert cancel.wait(5)
        _thread.interrupt_main()
        assert gate.wait(5)
        try:
            api.start("again")  # ... the next one never starts
        except Abandoned as error:  # a provider wrapping the error still ends the step at the gate
            raise RuntimeError("cannot start container/a") from error

    events: list[Event] = []
    verify = lambda steps: frozenset(s.id for s in steps)  # noqa: E731 - the world shows its effect
    with pytest.raises(KeyboardInterrupt):
        Executor(run, emit=events.append, cancel=cancel, gate=gate, verify=verify).execute(
            plan("p", desired, [])
        )
    assert client.calls == ["start created"]
    assert not [e for e in events if e.event == "step_failed"]
    done = [e for e in events if e.event == "step_succeeded" and e.step == "create:container/a"]
    assert done and done[0].message == "done (found in the world after the interruption)"
