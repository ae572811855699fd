"""`${VAR}` and `${VAR:-default}` in string values; `$$` is a literal `$`."""

from __future__ import annotations

import re
from collections.abc import Mapping

_TOKEN = re.compile(r"\$(?:(\$)|\{([^{}]*)\})")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class InterpolationError(ValueError):
    """A reference that cannot be resolved; the message names the variable."""


def interpolate(text: str, environ: Mapping[str, str]) -> str:
    """Replace every `${VAR}` / `${VAR:-default}` (default used when VAR is unset or empty)."""
    if "$" not in text:
        return text

    def replace(match: re.Match[str]) -> str:
        if match.group(1):
            return "$"
        body = match.group(2)
        name, sep, default = body.partition(":-")
        if not _NAME.match(name):
            raise InterpolationError(
                f"'${{{body}}}' is not a valid reference: write ${{NAME}} or ${{NAME:-default}}"
            )
        value = environ.get(name)
        if sep:
            return value if value else default
        if value is None:
            raise InterpolationError(
                f"environment variable '{name}' is not set (write ${{{name}:-default}} to give a default)"
            )
        return value

    return _TOKEN.sub(replace, text)
