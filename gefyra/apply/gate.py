"""The gate between running steps and the engines: once the executor abandons its running steps (a second
Ctrl-C, or watch's grace period is over), they can start no new engine call.

A call already under way still lands (the engine carries it out whatever the client does), so the executor
waits for those calls, then looks at the world: what it reports afterwards stays true. Without the gate an
abandoned step would go on creating and starting things after the report was made.

Steps reach their clients through a `GatedSession`: each provider's boundary (the Docker `Engine`, `Kube`)
hands out a gated copy of itself whose every engine call first checks the gate and raises `Abandoned` when it
is closed.
"""

from __future__ import annotations

import threading

from gefyra.providers.base import Session


class Abandoned(Exception):
    """An abandoned step tried to start an engine call."""


class GatedSession(Session):
    """`session`'s clients, each behind `gate` (set: closed). A client takes part through its boundary's
    `gated(check)`: a copy sharing the connection whose every write first calls `check` (the one place each
    boundary starts an engine call); a client without it is handed out as it is."""

    def __init__(self, session: Session, gate: threading.Event) -> None:
        super().__init__({})
        self._session = session
        self._gate = gate

    def client(self, provider: str) -> object:
        _check(self._gate)
        client = self._session.client(provider)
        gated = getattr(client, "gated", None)
        return gated(lambda: _check(self._gate)) if callable(gated) else client

    def close(self) -> None:
        """The session a step got is closed by its owner, not by the step."""


def _check(gate: threading.Event) -> None:
    if gate.is_set():
        raise Abandoned("the apply was interrupted: no new engine call")
