"""Notices: what the user should know about a plan that is not a change (pure).

Today: parts of gefyra.yaml that nothing acts on yet. Each notice is produced before anything starts and shown
once (stderr for text output, `notices` in JSON); a notice never fails a command.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from gefyra.model.resources import Resource
from gefyra.planning.plan import Notice

if TYPE_CHECKING:
    from gefyra.config.model import Config

CLUSTER_KINDS = ("connection", "cargo", "install", "bridge")  # resources that exist only for `cluster:`
CLUSTER_IGNORED = "cluster-ignored"
BRIDGES_IGNORED = "bridges-ignored"


def cluster_notices(config: Config, desired: Sequence[Resource]) -> tuple[Notice, ...]:
    """A `cluster:` section (or `bridges:`) for which no kind produced a resource is ignored: say so."""
    kinds = {resource.kind for resource in desired}
    found: list[Notice] = []
    if config.cluster is not None and not kinds & set(CLUSTER_KINDS):
        found.append(
            Notice(
                code=CLUSTER_IGNORED,
                message=(
                    "the `cluster:` section is ignored: there is no source of WireGuard peers yet (no "
                    "gefyra Operator, and GEFYRA_STOWAWAY_URL / GEFYRA_STOWAWAY_TOKEN_FILE are not set), "
                    "so only the local containers are planned"
                ),
            )
        )
    if config.bridges and "bridge" not in kinds:
        names = ", ".join(sorted(config.bridges))
        message = f"the `bridges:` section ({names}) is ignored: gefyra cannot bridge yet"
        found.append(Notice(code=BRIDGES_IGNORED, message=message))
    return tuple(found)
