"""Is anything coming back through Cargo's tunnel? Cargo's keeper (images/cargo/cargo-keeper.sh) pings
Stowaway's tunnel address every 2 s, re-handshakes from a new source port when nothing comes back, and
reports in its notes (`/run/gefyra-notes/tunnel`, key=value lines); observe reads that note with Cargo's
other notes (one archive call). Parsing and judging the report is pure; `rehandshake` asks the keeper for
one more re-handshake now (gefyra's in-place repair of a silent tunnel).
"""

from __future__ import annotations

import time

from pydantic import BaseModel, ConfigDict, ValidationError

from gefyra.dataplane.cargo_layout import READY_MARKER
from gefyra.errors import ProviderError
from gefyra.providers.docker.engine import Engine

TUNNEL_NOTE = "tunnel"  # file name in Cargo's notes folder (no dot: never an app's `<kind>.<name>` note)
KEEPER_SCRIPT = "/usr/local/bin/cargo-keeper.sh"
STALE_AFTER_S = 30  # the keeper reports every 2 s: a report this old means it hangs (or the clock jumped)
ANSWER_WAIT_S = 4.0  # after a re-handshake: a live Stowaway answers within milliseconds
_POLL_S = 0.2


class TunnelReport(BaseModel):
    """The keeper's last report."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    state: str  # ok | silent
    silent_s: int  # seconds since bytes last came back
    last_rx: int = 0  # unix time of the last answer
    handshake: int = 0  # unix time of the latest handshake (0: none since the last re-handshake)
    rehandshakes: int = 0  # re-handshakes in this silence
    checked: int  # unix time of the report
    port: str = ""  # WireGuard's current source port
    probe: str = ""  # Stowaway's tunnel address the keeper pings


def parse_report(text: str) -> TunnelReport | None:
    """The report in `text` (key=value lines), None when it is missing or unreadable."""
    pairs = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    try:
        return TunnelReport.model_validate(pairs)
    except ValidationError:
        return None


def tunnel_drift(notes: dict[str, str], now: float, *, local: bool) -> str | None:
    """Why the tunnel needs repair according to Cargo's notes, or None. `now` is the observation's time;
    it is compared with the report's only for a local engine (same clock)."""
    text = notes.get(TUNNEL_NOTE)
    if text is None:
        return None  # a Cargo image without a keeper (an earlier gefyra): nothing to judge
    report = parse_report(text)
    if report is None:
        return "Cargo's tunnel report is unreadable"
    age = int(now - report.checked)
    if local and age > STALE_AFTER_S:
        return f"Cargo's tunnel keeper has not reported for {age}s"
    if report.state == "silent":
        silent = report.silent_s + (max(age, 0) if local else 0)
        tries = f"; {report.rehandshakes} re-handshakes from new source ports" if report.rehandshakes else ""
        return f"tunnel silent for {silent}s: no answer from Stowaway ({report.probe}){tries}"
    return None


def wg_show(engine: Engine, cargo: str, interface: str, field: str) -> str | None:
    """`wg show <if> <field>` in Cargo once its entry point is ready, None before or on failure. Before the
    ready marker wireguard-go may have bound its control socket without listening yet: a `wg` connecting then
    is refused, unlinks the socket, and wireguard-go exits (docs/dataplane.md)."""
    script = f'test -e {READY_MARKER} && exec wg show "$0" "$1"'
    result = engine.exec(cargo, ["sh", "-c", script, interface, field])
    return result.output if result.exit_code == 0 else None


def received_bytes(engine: Engine, cargo: str, interface: str = "wg0") -> int:
    """Bytes received through the tunnel (all peers), from `wg show <if> transfer`; -1 when unreadable."""
    output = wg_show(engine, cargo, interface, "transfer")
    if output is None:
        return -1
    return sum(int(line.split()[1]) for line in output.splitlines() if len(line.split()) == 3)


def rehandshake(engine: Engine, cargo: str, name: str, timeout: float = ANSWER_WAIT_S) -> str:
    """A new handshake from a new source port now, then wait until something comes back; returns the
    keeper's answer ("port 41234"). ProviderError when it cannot be done or nothing answers in time."""
    result = engine.exec(cargo, [KEEPER_SCRIPT, "rehandshake"])
    if result.exit_code != 0:
        raise ProviderError(f"Cargo {name}: re-handshake failed: {result.output.strip()[-300:]}")
    deadline = time.monotonic() + timeout
    while received_bytes(engine, cargo) <= 0:  # the counters start again at 0 with the new session
        if time.monotonic() > deadline:
            raise ProviderError(
                f"Cargo {name}: the tunnel stays silent after a new handshake from a new source port",
                hint="is Stowaway running and its UDP port (cluster.endpoint) reachable from here? Cargo "
                "keeps re-handshaking every few seconds; `gefyra status` shows when it answers again",
            )
        time.sleep(_POLL_S)
    return result.output.strip().splitlines()[-1] if result.output.strip() else ""
