"""`${VAR}` and `${VAR:-default}` in string values; `$$` is a literal `$`."""

from __future__ import annotations

import re
from collections.abc import Mapping

_TOKEN = re.compile(r"\$(?:(\$)|\{([^{}]*)\})")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
PLACEHOLDER = ""  # stands for a reference that cannot be resolved, so the rest of the file is still checked


class InterpolationError(ValueError):
    """A reference that cannot be resolved; the message names the variable."""


def interpolate(text: str, environ: Mapping[str, str]) -> str:
    """Replace every `${VAR}` / `${VAR:-default}` (default used when VAR is unset or empty)."""
    result, problems = interpolate_all(text, environ)
    if problems:
        raise InterpolationError(problems[0])
    return result


def interpolate_all(text: str, environ: Mapping[str, str]) -> tuple[str, list[str]]:
    """Like `interpolate`, but every bad reference becomes PLACEHOLDER and one message each, in order."""
    if "$" not in text:
        return text, []
    problems: list[str] = []

    def replace(match: re.Match[str]) -> str:
        if match.group(1):
            return "$"
        body = match.group(2)
        name, sep, default = body.partition(":-")
        if not _NAME.fullmatch(name):
            problems.append(
                f"'${{{body[:40]}}}' is not a valid reference: write ${{NAME}} or ${{NAME:-default}}"
            )
            return PLACEHOLDER
        value = environ.get(name)
        if sep:
            return value if value else default
        if value is None:
            problems.append(
                f"environment variable '{name}' is not set (write ${{{name}:-default}} to give a default)"
            )
            return PLACEHOLDER
        return value

    result = _TOKEN.sub(replace, text)
    return result, list(dict.fromkeys(problems))  # each unset variable once, however often it is used
