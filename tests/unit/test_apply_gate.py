"""The gate: once the executor abandons running steps they start no new engine call (calls under way land);
a step that ends at the gate is settled by looking at the world, not reported as failed. No Docker: the
clients are plain objects standing in for any provider client."""

from __future__ import annotations

import _thread
import threading

import pytest

from gefyra.apply.events import Event
from gefyra.apply.executor import Executor
from gefyra.apply.gate import Abandoned, Gated, GatedSession
from gefyra.model.resources import Resource, ResourceKey
from gefyra.planning.planner import plan
from gefyra.providers.base import Session


class Api:
    base_url = "http+docker://localhost"

    def __init__(self) -> None:
        self.calls: list[str] = []

    def start(self, ident: str) -> dict[str, str]:
        self.calls.append(f"start {ident}")
        return {"Id": ident}


class Collection:
    """Like the docker SDK's collections: callable (it raises) and with methods."""

    def __call__(self) -> None:
        raise TypeError("not callable")

    def get(self, ident: str) -> str:
        return ident


class Client:
    def __init__(self) -> None:
        self.api = Api()
        self.containers = Collection()


def test_calls_go_through_until_the_gate_closes() -> None:
    gate, client = threading.Event(), Client()
    gated = Gated(client, gate)
    assert gated.api.start("a") == {"Id": "a"} and gated.containers.get("b") == "b"
    assert gated.api.base_url == "http+docker://localhost"  # plain values pass as they are
    gate.set()
    with pytest.raises(Abandoned):
        gated.api.start("c")
    assert client.api.calls == ["start a"]


def test_a_gated_session_gates_every_client() -> None:
    gate, client = threading.Event(), Client()
    session = GatedSession(Session({"docker": lambda: client}), gate)
    session.client("docker").api.start("a")
    gate.set()
    with pytest.raises(Abandoned):
        session.client("docker")


def test_a_step_stopped_by_the_gate_is_settled_by_looking_at_the_world() -> None:
    gate, cancel = threading.Event(), threading.Event()
    client = Client()
    api = Gated(client, gate)
    net = ResourceKey("network", "default")
    desired = [Resource(kind="network", name="default", spec={})]
    desired += [Resource(kind="container", name="a", spec={}, depends_on=(net,))]

    def run(step) -> None:
        if step.key == net:
            return
        api.api.start("created")  # the call under way when the second Ctrl-C comes lands ...
        _thread.interrupt_main()
        assert cancel.wait(5)
        _thread.interrupt_main()
        assert gate.wait(5)
        try:
            api.api.start("again")  # ... the next one never starts
        except Abandoned as error:  # a provider wrapping the error still ends the step at the gate
            raise RuntimeError("cannot start container/a") from error

    events: list[Event] = []
    verify = lambda steps: frozenset(s.id for s in steps)  # noqa: E731 - the world shows its effect
    with pytest.raises(KeyboardInterrupt):
        Executor(run, emit=events.append, cancel=cancel, gate=gate, verify=verify).execute(
            plan("p", desired, [])
        )
    assert client.api.calls == ["start created"]
    assert not [e for e in events if e.event == "step_failed"]
    done = [e for e in events if e.event == "step_succeeded" and e.step == "create:container/a"]
    assert done and done[0].message == "done (found in the world after the interruption)"
