"""The engine's event stream through the typed boundary: a project's containers dying, renamed or
disconnected arrive as they happen (what a watch can react to instead of a polling tick); other projects'
events do not; closing the stream from another thread ends the iteration."""

from __future__ import annotations

import queue
import secrets
import threading

import pytest

from gefyra.model import labels
from gefyra.providers.docker.engine import ContainerCreate

pytestmark = [pytest.mark.docker]


def test_a_projects_drift_events_arrive_and_others_do_not(engine, docker_client, dataplane_images):
    project, other = f"t-ev-{secrets.token_hex(3)}", f"t-ev-{secrets.token_hex(3)}"
    network = f"gefyra-{project}"
    made = []
    try:
        # Docker picks the subnet (atomically): a fixed one failed when a second suite ran this test too.
        docker_client.networks.create(network, labels={labels.PROJECT: project})
        events = engine.project_events(project, [network])
        seen: queue.Queue = queue.Queue()
        reader = threading.Thread(target=lambda: [seen.put(e) for e in events], daemon=True)
        reader.start()

        def container(owner: str, name: str, network: str | None) -> str:
            ident = engine.create_container(
                ContainerCreate(
                    image="debian:bookworm-slim",
                    name=name,
                    entrypoint=["sleep", "infinity"],
                    labels={labels.PROJECT: owner, labels.KIND: "container", labels.NAME: "x"},
                    network=network,
                )
            )
            made.append(ident)
            engine.start(ident)
            return ident

        stranger = container(other, f"gefyra-{other}-x", None)  # on Docker's default bridge
        engine.remove_container(stranger)  # another project's events never arrive
        ours = container(project, f"gefyra-{project}-x", network)
        engine.rename(ours, f"gefyra-{project}-renamed")
        engine.disconnect(ours, network)
        docker_client.api.kill(ours)

        got: list[tuple[str, str, str]] = []
        while ("container", "die", ours) not in got:
            event = seen.get(timeout=30)
            subject = event.actor.attributes.get("container") if event.kind == "network" else event.actor.id
            got.append((event.kind, event.verb, subject))
        order = [item for index, item in enumerate(got) if item not in got[:index]]  # the engine repeats some
        assert order == [
            ("container", "rename", ours),
            ("network", "disconnect", ours),
            ("container", "kill", ours),
            ("container", "die", ours),
        ], got
        events.close()
        reader.join(10)
        assert not reader.is_alive()  # closed from this thread: the reader's iteration ended quietly
    finally:
        for ident in made:
            engine.remove_container(ident)
        engine.remove_network(network)
