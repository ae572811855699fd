"""Keep environment values out of engine errors (pure).

The engine quotes a container's environment in some of its errors: `invalid environment variable:
=<value>` when a create is refused, and runc's `environment variable value can't contain null(\\x00):
"KEY=<value>"` when a start fails. Env values are where secrets live (tokens, passwords), and an error
message ends up on a terminal, in CI logs and in bug reports. So every error of a create, start or restart
passes through `redact`: a quoted `KEY=value` pair keeps its key only, and any other occurrence of a value
(raw, or escaped as Go, JSON or Python quote it) is replaced. Values shorter than MIN_SECRET characters are
only cut out of `KEY=value` pairs: anywhere else they would match ordinary words and numbers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping

from gefyra.providers.errors import EngineError

MIN_SECRET = 4
HIDDEN = "<value not shown>"


def env_dict(pairs: Iterable[str]) -> dict[str, str]:
    """`["K=V", ...]` (the engine's form) as a dict; an entry without '=' has no value."""
    return dict(pair.split("=", 1) for pair in pairs if "=" in pair)


def _go_quoted(value: str) -> str:
    """The inside of Go's %q of `value` (how runc and the engine quote strings), close enough for matching:
    backslash escapes for quotes and backslashes, \\a..\\v, \\xNN for other control bytes."""
    named = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}
    out = []
    for char in value:
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif char in named:
            out.append(named[char])
        elif ord(char) < 32 or ord(char) == 127:
            out.append(f"\\x{ord(char):02x}")
        else:
            out.append(char)
    return "".join(out)


def _forms(value: str) -> set[str]:
    """The value raw and as Go, JSON and Python quote it (without the quotes)."""
    quoted = (json.dumps(value), json.dumps(value, ensure_ascii=False), repr(value))
    return {value, _go_quoted(value), *(text[1:-1] for text in quoted)}


def _escaped(key: str) -> str:
    """`key` as a literal in a re.sub replacement."""
    return key.replace("\\", "\\\\")


def redact(text: str, env: Mapping[str, str]) -> str:
    """`text` with no value of `env` in it (see the module's docstring)."""
    for key, value in sorted(env.items(), key=lambda item: -len(item[1])):
        if len(value) >= MIN_SECRET:
            for form in sorted(_forms(value), key=len, reverse=True):
                text = text.replace(form, f"<value of {key or '(empty name)'} not shown>")
    for key in sorted((key for key in env if key), key=len, reverse=True):  # gefyra refuses empty names
        name = re.escape(key)
        text = text.replace(f"{key}=<value of {key} not shown>", f"{key}={HIDDEN}")
        # a quoted pair: everything up to the closing quote; else up to the next blank
        text = re.sub(rf"(\"|'){name}=.*?(?<!\\)\1", rf"\g<1>{_escaped(key)}={HIDDEN}\g<1>", text)
        text = re.sub(rf"(?<![\w<]){name}=(?!<value)[^\s\"']*", f"{_escaped(key)}={HIDDEN}", text)
    return text


def redacted(error: EngineError, env: Mapping[str, str] | None, what: str) -> EngineError:
    """The same error (type, status, hint) with its message redacted; when the environment is unknown
    (None), the engine's message is withheld altogether and `what` says what failed."""
    if env is None:
        message = f"{what} failed (the engine's message is not shown: it may quote environment values)"
    else:
        message = redact(error.message, env)
    return type(error)(message, status=error.status, hint=error.hint)
