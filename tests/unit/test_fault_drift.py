"""Pure parts of the fault handling: the tunnel keeper's report, drift of names and networks, and env values
kept out of engine errors. Snapshots are list rows as the engine returns them."""

from __future__ import annotations

import pytest

from gefyra.config.loader import load
from gefyra.model import labels
from gefyra.planning.plan import Action
from gefyra.planning.planner import plan
from gefyra.providers.base import Snapshot
from gefyra.providers.docker import attachment
from gefyra.providers.docker.cargo import CargoKind
from gefyra.providers.docker.dataplane.tunnel import parse_report, tunnel_drift
from gefyra.providers.docker.engine import ContainerRow
from gefyra.providers.docker.engine.redact import redact
from gefyra.providers.docker.observe import DockerSnapshot, labels_for
from gefyra.providers.errors import EngineFailure

NOW = 1_800_000_000
REPORT = "state={state}\nsilent_s={silent}\nlast_rx=1\nhandshake=2\nrehandshakes={tries}\nchecked={checked}\n"
REPORT += "port=40000\nprobe=100.87.0.1\n"


def report(state: str = "ok", silent: int = 1, tries: int = 0, checked: int = NOW) -> dict[str, str]:
    return {"tunnel": REPORT.format(state=state, silent=silent, tries=tries, checked=checked)}


def test_an_answering_tunnel_is_no_drift():
    assert tunnel_drift(report(), NOW + 1, local=True) is None
    assert tunnel_drift({}, NOW, local=True) is None  # a Cargo without a keeper: nothing to judge


def test_a_silent_tunnel_is_drift_with_its_age_and_the_tries():
    found = tunnel_drift(report("silent", 12, 2, checked=NOW), NOW + 3, local=True)
    assert found == (
        "tunnel silent for 15s: no answer from Stowaway (100.87.0.1); 2 re-handshakes from new source ports"
    )
    # a remote engine's clock is not ours: the report's own age only
    assert tunnel_drift(report("silent", 12, checked=NOW), NOW + 3, local=False) == (
        "tunnel silent for 12s: no answer from Stowaway (100.87.0.1)"
    )


def test_a_keeper_that_stopped_reporting_is_drift():
    assert tunnel_drift(report(checked=NOW), NOW + 45, local=True) == (
        "Cargo's tunnel keeper has not reported for 45s"
    )
    assert tunnel_drift({"tunnel": "garbage"}, NOW, local=True) == "Cargo's tunnel report is unreadable"
    assert parse_report("state=ok\nsilent_s=x\nchecked=1") is None


def row(name: str, networks: dict[str, str], state: str = "running", **label: str) -> ContainerRow:
    return ContainerRow.model_validate(
        {
            "Id": name * 3,
            "Names": [f"/{name}"],
            "State": state,
            "Labels": label,
            "NetworkSettings": {"Networks": {net: {"EndpointID": ep} for net, ep in networks.items()}},
        }
    )


def test_attachment_drift_names_what_was_changed_by_hand():
    assert attachment.drift_of(row("web", {"net": "e1"}), "web", "net") == ()
    assert attachment.drift_of(row("webby", {}), "web", "net") == (
        "renamed to webby by hand (gefyra names it web)",
        "not attached to network net (left with no network)",
    )
    assert attachment.drift_of(row("web", {"other": "e2"}), "web", "net", "its infra container ") == (
        "its infra container not attached to network net (attached to other only)",
    )
    assert attachment.drift_of(row("web", {}, state="exited"), "web", "net") == ()  # stopped: unhealthy


@pytest.fixture
def config(tmp_path, monkeypatch):
    (tmp_path / "gefyra.yaml").write_text(
        "version: 1\nproject: {name: demo}\ncluster: {endpoint: '127.0.0.1:31820'}\n"
    )
    monkeypatch.setenv("GEFYRA_STOWAWAY_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("GEFYRA_STOWAWAY_TOKEN_FILE", str(tmp_path / "token"))
    return load(tmp_path / "gefyra.yaml")


def cargo_plan(config, *, name: str, networks: dict[str, str], notes: dict[str, str]):
    kind = CargoKind()
    empty = Snapshot(project="demo", providers={"docker": DockerSnapshot(project="demo")})
    created = kind.desired(config, empty)[0]
    cargo = ContainerRow.model_validate(
        {
            "Id": "c" * 64,
            "Names": [f"/{name}"],
            "State": "running",
            "Status": "Up 1 minute (healthy)",
            "Labels": {**labels_for("demo", created), labels.NOTES: "true"},
            "NetworkSettings": {"Networks": {net: {"EndpointID": ep} for net, ep in networks.items()}},
        }
    )
    docker = DockerSnapshot(project="demo", containers=[cargo], notes={cargo.id: notes}, observed_at=NOW)
    world = Snapshot(project="demo", providers={"docker": docker})
    want = kind.desired(config, world)[0].evolve(depends_on=())
    return next(c for c in plan("demo", [want], kind.read(world)).changes if str(c.key) == "cargo/default")


def test_a_silent_tunnel_is_an_in_place_update_of_cargo(config):
    change = cargo_plan(
        config, name="gefyra-demo.cargo", networks={"gefyra-demo": "e"}, notes=report("silent", 11)
    )
    assert (change.action, change.cause) == (
        Action.UPDATE,
        "tunnel silent for 11s: no answer from Stowaway (100.87.0.1)",
    )


def test_a_renamed_cargo_is_an_update_and_a_disconnected_one_a_replace(config):
    renamed = cargo_plan(config, name="mine", networks={"gefyra-demo": "e"}, notes=report())
    assert (renamed.action, renamed.cause) == (
        Action.UPDATE,
        "renamed to mine by hand (gefyra names it gefyra-demo.cargo)",
    )
    detached = cargo_plan(config, name="gefyra-demo.cargo", networks={}, notes=report())
    assert (detached.action, detached.cause) == (
        Action.REPLACE,
        "cargo is running: not attached to network gefyra-demo (left with no network)",
    )


SECRET = "s3cret-Value/with+base64=="


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (  # runc at start, Go-quoted with an escaped NUL
            "error during container init: environment variable value can't contain null(\\x00): \"TOKEN="
            + SECRET
            + '\\x00tail": unknown',
            "error during container init: environment variable value can't contain null(\\x00): "
            '"TOKEN=<value not shown>": unknown',
        ),
        (f"invalid environment variable: ={SECRET}", "invalid environment variable: =<value of"),
        (f"value {SECRET}\\x00tail somewhere", "value <value of TOKEN not shown> somewhere"),
        ('short: "PIN=12" and PIN=12;', 'short: "PIN=<value not shown>" and PIN=<value not shown>'),
        ("exit code 12, PINS=4", "exit code 12, PINS=4"),  # a short value alone is left (any number)
    ],
)
def test_env_values_are_cut_out_of_engine_messages(text, expected):
    env = {"TOKEN": f"{SECRET}\x00tail", "": SECRET, "PIN": "12"}
    found = redact(text, env)
    assert found.startswith(expected), found
    assert SECRET not in found and "PIN=12" not in found


def test_a_redacted_error_keeps_its_type_and_status():
    from gefyra.providers.docker.engine.redact import redacted

    error = redacted(EngineFailure(f"boom TOKEN={SECRET}", status=500), {"TOKEN": SECRET}, "starting x")
    assert (type(error), error.status, error.message) == (EngineFailure, 500, "boom TOKEN=<value not shown>")
    withheld = redacted(EngineFailure(f"boom {SECRET}", status=500), None, "starting x")
    assert SECRET not in withheld.message and withheld.message.startswith("starting x failed")
