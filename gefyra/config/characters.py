"""Characters gefyra.yaml must not hold: NUL, bidirectional controls, invisible characters.

- NUL cannot be passed to a program (argv, environment) nor be part of a Docker or Kubernetes name.
- Bidirectional embeddings, overrides and isolates make text display in another order than it is read
  ("Trojan Source", CVE-2021-42574): a reviewer would approve something else than what runs. They are
  refused anywhere in the file, comments included.
- Invisible characters (zero-width spaces and joiners, word joiner, BOM, soft hyphen, direction marks) make
  two names look equal that are not. They are refused in keys and in every value that names something
  (images, names, paths, ports, ...), not in free text (env values, build args, command lines, match
  values), where they may be meant, e.g. in non-Latin scripts.
No message ever repeats the text holding the character: it may be a secret.
"""

from __future__ import annotations

import re
import unicodedata

BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
INVISIBLE = "\u00ad\u061c\u180e\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff"
_BIDI = re.compile(f"[{BIDI}]")
_HIDDEN = re.compile(f"[{BIDI}{INVISIBLE}\x00]")

Located = tuple[tuple[int, int], str]


def describe(char: str) -> str:
    """'U+202E (RIGHT-TO-LEFT OVERRIDE)'."""
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X}" + (f" ({name})" if name else "")


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return (line, offset - (text.rfind("\n", 0, offset) + 1) + 1)


def bidi_in_text(text: str, limit: int = 100) -> list[Located]:
    """Every bidirectional control in the file (up to `limit`), at its own line and column."""
    found: list[Located] = []
    for match in _BIDI.finditer(text):
        if len(found) >= limit:
            break
        message = (
            f"the bidirectional control character {describe(match.group())} makes this line display in "
            "another order than it is read; remove it"
        )
        found.append((_position(text, match.start()), message))
    return found


def hidden_character(raw: str, value: str, *, free_text: bool) -> str | None:
    """What is wrong with `value` (after interpolation of `raw`), or None.

    Bidirectional controls written in the file are reported by `bidi_in_text`; here only those that
    interpolation brought in.
    """
    if "\x00" in value:
        return "holds a NUL character (U+0000), which no program, name or environment can take"
    if free_text:
        return None
    for match in _HIDDEN.finditer(value):
        char = match.group()
        if char not in BIDI:
            return f"holds the invisible character {describe(char)}, which makes it look like something else"
        if char not in raw:
            return f"holds the bidirectional control character {describe(char)} (from a variable)"
    return None
