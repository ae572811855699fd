"""The docs match the CLI: every `gefyra <command> [<subcommand>]` that README.md and docs/*.md show as a
command exists in the typer app.

A command is shown in an inline code span that starts with `gefyra ` (`gefyra plan -o json`), or on a line of
a fenced code block that starts with `gefyra ` / `$ gefyra ` / `python -m gefyra ` (comments after `#` are
not commands). Blocks fenced as ```text are program output, not commands.
"""

from __future__ import annotations

import re
from pathlib import Path

import typer

from gefyra.cli.app import app

REPO = Path(__file__).resolve().parents[2]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
_INVOCATION = re.compile(r"^(?:\$\s+)?(?:python3?\s+-m\s+)?gefyra\s+(.*)$")
_WORD = re.compile(r"[a-z][a-z0-9-]*$")


def mentions(text: str) -> list[tuple[str, ...]]:
    """Each command invocation shown in `text`: its words after `gefyra` (options and placeholders dropped
    from the first non-word on)."""
    found = []
    for language, body in _FENCE.findall(text):
        if language != "text":
            found += [words for line in body.splitlines() if (words := _words(line.split("#", 1)[0]))]
    prose = _FENCE.sub("", text)
    found += [words for span in re.findall(r"`([^`\n]+)`", prose) if (words := _words(span))]
    return found


def _words(command: str) -> tuple[str, ...]:
    match = _INVOCATION.match(command.strip())
    if match is None:
        return ()
    words: list[str] = []
    for word in match.group(1).split():
        if not _WORD.match(word) or len(words) == 2:
            break
        words.append(word)
    return tuple(words)


def missing(words: tuple[str, ...], group: object) -> str | None:
    """The part of `gefyra <words>` the CLI does not have (None when the command exists)."""
    commands = getattr(group, "commands", {})
    if not words or words[0] not in commands:
        return f"gefyra {' '.join(words[:1])}"
    sub = commands[words[0]]
    if hasattr(sub, "commands") and len(words) > 1 and words[1] not in sub.commands:
        return f"gefyra {words[0]} {words[1]}"
    return None


def test_the_reader_finds_commands_and_skips_output_and_comments() -> None:
    text = (
        "Run `gefyra plan -o json`, then `gefyra.yaml` and `dev.gefyra.project`.\n"
        "```bash\n$ gefyra down --all   # gefyra made this\npython -m gefyra run -i IMG\n```\n"
        "```text\ngefyra will change project demo:\n```\n"
    )
    assert mentions(text) == [("down",), ("run",), ("plan",)]


def test_every_command_the_docs_show_exists() -> None:
    cli = typer.main.get_command(app)
    problems = sorted(
        {
            f"{path.relative_to(REPO)}: {wrong}"
            for path in DOCS
            for words in mentions(path.read_text())
            if (wrong := missing(words, cli)) is not None
        }
    )
    assert problems == [], "documented commands the CLI does not have:\n" + "\n".join(problems)
