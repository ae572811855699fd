"""Kind `cargo` reads which start of each app container Cargo routed (its notes): an app started outside
gefyra is observed drift ("container/app is not routed through Cargo"), which the planner turns into an
in-place update of Cargo. Pure: snapshots are list rows as the engine returns them."""

from __future__ import annotations

import pytest

from gefyra.config.loader import load
from gefyra.model import labels
from gefyra.model.resources import Resource
from gefyra.planning.plan import Action
from gefyra.planning.planner import plan
from gefyra.providers.base import Snapshot
from gefyra.providers.docker.cargo import CargoKind
from gefyra.providers.docker.engine import ContainerRow
from gefyra.providers.docker.observe import DockerSnapshot, labels_for

PROJECT = "demo"
NETWORK = f"gefyra-{PROJECT}"
CARGO_ID = "c" * 64


@pytest.fixture
def config(tmp_path, monkeypatch):
    (tmp_path / "gefyra.yaml").write_text(
        "version: 1\nproject: {name: demo}\ncluster: {endpoint: '127.0.0.1:31820'}\n"
        "containers:\n  app: {image: 'debian:bookworm-slim'}\n"
    )
    monkeypatch.setenv("GEFYRA_STOWAWAY_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("GEFYRA_STOWAWAY_TOKEN_FILE", str(tmp_path / "token"))
    return load(tmp_path / "gefyra.yaml")


def app_row(container_id: str, endpoint: str | None, state: str = "running") -> dict:
    networks = {NETWORK: {"EndpointID": endpoint}} if endpoint is not None else {"other": {"EndpointID": "x"}}
    return {
        "Id": container_id,
        "State": state,
        "Labels": {labels.PROJECT: PROJECT, labels.KIND: "container", labels.NAME: "app"},
        "NetworkSettings": {"Networks": networks},
    }


def snapshot(apps: list[dict], notes: dict[str, str], cargo_spec: Resource, cargo_state: str = "running"):
    cargo_row = {
        "Id": CARGO_ID,
        "State": cargo_state,
        "Status": "Up 1 minute (healthy)" if cargo_state == "running" else "Exited (1) 1 second ago",
        "Names": [f"/gefyra-{PROJECT}.cargo"],
        "Labels": {**labels_for(PROJECT, cargo_spec), labels.NOTES: "true"},
        "NetworkSettings": {"Networks": {NETWORK: {"EndpointID": "cargo-endpoint"}}},
    }
    rows = [ContainerRow.model_validate(row) for row in (cargo_row, *apps)]
    docker = DockerSnapshot(project=PROJECT, containers=rows, notes={CARGO_ID: notes})
    return Snapshot(project=PROJECT, providers={"docker": docker})


def cargo_change(config, apps: list[dict], notes: dict[str, str], cargo_state: str = "running"):
    kind = CargoKind()
    empty = snapshot([], {}, Resource(kind="cargo", name="default", spec={}))
    created = kind.desired(config, empty)[0]  # what Cargo's labels were written from
    world = snapshot(apps, notes, created, cargo_state)
    want = kind.desired(config, world)[0].evolve(depends_on=())
    have = kind.read(world)
    assert "routed" not in want.spec and want.mutable == ()  # a fact of the world, never desired
    result = plan(PROJECT, [want], have)
    return next(change for change in result.changes if str(change.key) == "cargo/default")


def test_an_app_routed_in_its_current_start_is_unchanged(config):
    change = cargo_change(config, [app_row("a1", "e1")], {"container.app": "a1 e1"})
    assert change.action is Action.UNCHANGED


def test_an_app_restarted_outside_gefyra_is_an_in_place_update(config):
    change = cargo_change(config, [app_row("a1", "e2")], {"container.app": "a1 e1"})
    assert change.action is Action.UPDATE
    assert change.cause == "container/app is not routed through Cargo"


def test_a_note_of_a_replaced_container_does_not_count(config):
    change = cargo_change(config, [app_row("a2", "e1")], {"container.app": "a1 e1"})
    assert change.action is Action.UPDATE
    assert change.cause == "container/app is not routed through Cargo"


def test_an_app_without_a_note_is_an_update(config):
    assert cargo_change(config, [app_row("a1", "e1")], {}).action is Action.UPDATE


def test_stopped_apps_and_apps_off_the_project_network_are_left_alone(config):
    apps = [app_row("a1", "e1", state="exited"), app_row("a2", None)]
    assert cargo_change(config, apps, {}).action is Action.UNCHANGED


def test_a_stopped_cargo_is_started_again_in_place(config):
    """Its config, fixed address and notes are in its container: starting it again is all a repair needs
    (a replace would create, copy and route everything again)."""
    change = cargo_change(config, [app_row("a1", "e2")], {"container.app": "a1 e1"}, cargo_state="exited")
    assert change.action is Action.UPDATE
    assert change.cause == "stopped (Exited (1) 1 second ago): started again"


def infra_row(container_id: str, endpoint: str, state: str = "running") -> dict:
    """The namespace holder of app `app` (kind infra, named after its app's `<kind>.<name>`)."""
    return {
        "Id": container_id,
        "State": state,
        "Names": [f"/gefyra-{PROJECT}-app.infra"],
        "Labels": {labels.PROJECT: PROJECT, labels.KIND: "infra", labels.NAME: "container.app"},
        "NetworkSettings": {"Networks": {NETWORK: {"EndpointID": endpoint}}},
    }


def joined_app_row(container_id: str, infra_id: str) -> dict:
    """An app in its infra container's namespace: no network of its own."""
    return {
        "Id": container_id,
        "State": "running",
        "Labels": {labels.PROJECT: PROJECT, labels.KIND: "container", labels.NAME: "app"},
        "HostConfig": {"NetworkMode": f"container:{infra_id}"},
        "NetworkSettings": {"Networks": {}},
    }


def test_a_routed_infra_container_is_unchanged(config):
    rows = [infra_row("i1", "e1"), joined_app_row("a1", "i1")]
    assert cargo_change(config, rows, {"infra.container.app": "i1 e1"}).action is Action.UNCHANGED


def test_an_infra_container_restarted_outside_gefyra_is_drift_named_after_its_app(config):
    rows = [infra_row("i1", "e2"), joined_app_row("a1", "i1")]
    change = cargo_change(config, rows, {"infra.container.app": "i1 e1"})
    assert (change.action, change.cause) == (Action.UPDATE, "container/app is not routed through Cargo")


def test_an_app_whose_infra_container_stopped_is_replaced(config):
    """The app's namespace is gone with its holder: the container kind reports it unhealthy."""
    from gefyra.providers.docker.container import ContainerKind

    app = Resource(kind="container", name="app", spec={"netns": "infra"})
    app_row = {**joined_app_row("a1", "i1"), "Labels": labels_for(PROJECT, app)}
    for infra in ([infra_row("i1", "e1", state="exited")], []):
        rows = [ContainerRow.model_validate(row) for row in (app_row, *infra)]
        world = Snapshot(
            project=PROJECT, providers={"docker": DockerSnapshot(project=PROJECT, containers=rows)}
        )
        observed = ContainerKind().read(world)[0].observed
        assert observed is not None and not observed.healthy
        assert observed.detail in ("its infra container is exited", "its infra container is gone")


def test_a_cargo_labelled_by_an_earlier_gefyra_is_replaced_once(config):
    """Cargo's labels once carried `routed` (a fact, now drift): such a Cargo is replaced, not updated
    forever (labels cannot change in place)."""
    kind = CargoKind()
    empty = snapshot([], {}, Resource(kind="cargo", name="default", spec={}))
    current = kind.desired(config, empty)[0]
    earlier = current.evolve(spec={**current.spec, "routed": {}}, mutable=("routed",))
    world = snapshot([], {}, earlier)
    change = next(
        c
        for c in plan(
            PROJECT, [kind.desired(config, world)[0].evolve(depends_on=())], kind.read(world)
        ).changes
    )
    assert change.action is Action.REPLACE and "routed" in change.cause
