"""The gate between running steps and the engines: once the executor abandons its running steps (a second
Ctrl-C, or watch's grace period is over), they can start no new engine call.

A call already under way still lands (the engine carries it out whatever the client does), so the executor
waits for those calls, then looks at the world: what it reports afterwards stays true. Without the gate an
abandoned step would go on creating and starting things after the report was made.

Steps reach their clients through a `GatedSession`; every attribute path of a client (`client.api.start`) is
wrapped, so each call checks the gate first and raises `Abandoned` when it is closed. Objects a call returns
(dicts, SDK models) are not wrapped: they are results, not the way to the engine.
"""

from __future__ import annotations

import threading

from gefyra.providers.base import Session

_PLAIN = (str, bytes, int, float, bool, dict, list, tuple, set, frozenset, type(None))


class Abandoned(Exception):
    """An abandoned step tried to start an engine call."""


class GatedSession(Session):
    """`session`'s clients behind `gate` (set: closed)."""

    def __init__(self, session: Session, gate: threading.Event) -> None:
        super().__init__({})
        self._session = session
        self._gate = gate

    def client(self, provider: str) -> object:
        _check(self._gate)
        return Gated(self._session.client(provider), self._gate)

    def close(self) -> None:
        """The session a step got is closed by its owner, not by the step."""


class Gated:
    """`target` whose calls (at any depth of attributes) first check `gate`."""

    _target: object
    _gate: threading.Event

    def __init__(self, target: object, gate: threading.Event) -> None:
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_gate", gate)

    def __getattr__(self, name: str) -> object:
        value = getattr(self._target, name)
        return value if isinstance(value, _PLAIN) else Gated(value, self._gate)

    def __setattr__(self, name: str, value: object) -> None:
        setattr(self._target, name, value)

    def __call__(self, *args: object, **kwargs: object) -> object:
        _check(self._gate)
        if not callable(self._target):
            raise TypeError(f"{type(self._target).__name__} is not callable")
        return self._target(*args, **kwargs)


def _check(gate: threading.Event) -> None:
    if gate.is_set():
        raise Abandoned("the apply was interrupted: no new engine call")
