"""Notices: what the user should know about a plan that is not a change (pure).

Today: mounts that reach beyond the project folder (the host's root, system folders, the Docker socket, the
home folder or its credentials, anything outside the project). They are allowed, since developers need some of
them, but named once, before anything starts (stderr for text output, `notices` in JSON); a notice never fails
a command.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from gefyra.planning.plan import Notice

if TYPE_CHECKING:
    from gefyra.config.risks import MountWarning

RISKY_MOUNT = "risky-mount"


def mount_notices(warnings: Sequence[MountWarning]) -> tuple[Notice, ...]:
    """One notice per risky mount, in file order, with its file:line:col and its reasons."""
    return tuple(Notice(code=RISKY_MOUNT, message=str(warning)) for warning in warnings)
