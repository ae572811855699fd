"""Sessions: the provider clients of one API call, connected lazily (light: `gefyra list` needs no more)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from gefyra.providers import registry
from gefyra.providers.base import Provider, Session

if TYPE_CHECKING:
    from gefyra.config.model import Config


def open_session(config: Config | None = None) -> Session:
    """Lazily connecting clients of every provider."""
    return Session({name: _connector(provider, config) for name, provider in registry.providers().items()})


def _connector(provider: Provider, config: Config | None) -> Callable[[], object]:
    return lambda: provider.connect(config)


@contextmanager
def session(config: Config | None) -> Iterator[Session]:
    """A Session for the body, closed afterwards."""
    opened = open_session(config)
    try:
        yield opened
    finally:
        opened.close()
