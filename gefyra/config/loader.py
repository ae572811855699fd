"""Find, read and validate gefyra.yaml; every problem at once, each as `file:line:col: message`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from gefyra.config.problems import MAX_PROBLEMS, Problem
from gefyra.errors import ConfigError

if TYPE_CHECKING:  # pydantic stays off the `gefyra --help` path: the model is imported inside load()
    from gefyra.config.document import Document
    from gefyra.config.model import Config

Located = tuple[tuple[int, int], str]

FILE_NAME = "gefyra.yaml"
MAX_FILE_SIZE = 4 * 2**20


def find_config(start: Path) -> Path | None:
    """The nearest gefyra.yaml in `start` or a parent folder, like git finds its repository."""
    start = start.absolute()
    for folder in (start, *start.parents):
        candidate = folder / FILE_NAME
        if candidate.is_file():
            return candidate
    return None


def load(
    path: str | Path | None = None, *, cwd: Path | None = None, environ: Mapping[str, str] | None = None
) -> Config:
    """Load and validate gefyra.yaml; raise ConfigError with `.problems` holding every problem found."""
    from pydantic import ValidationError

    from gefyra.config.document import parse
    from gefyra.config.files import check_files
    from gefyra.config.model import Config  # noqa: F811 - the runtime import of the annotation above
    from gefyra.config.references import check_conflicts, check_references
    from gefyra.config.validation import problems_from

    cwd = Path(cwd) if cwd is not None else Path.cwd()
    environ = os.environ if environ is None else environ
    source, display = _locate(path, cwd)
    text = _read(source, display)

    def fail(located: list[Located]) -> ConfigError:
        problems = [Problem(display, line, col, _printable(message)) for (line, col), message in located]
        return ConfigError("\n".join(map(str, problems)), problems=problems)

    doc = parse(text, environ)
    if doc.fatal:
        raise fail(_capped(doc.problems))
    if doc.data is None:
        raise fail(doc.problems or [((1, 1), "the file is empty; it must start with 'version: 1'")])
    if not isinstance(doc.data, dict):
        found = _kind(doc.data)
        located = [((1, 1), f"the top level must be a mapping of keys (version, project, ...), got {found}")]
        raise fail(_capped(doc.problems + located))
    config: Config | None = None
    try:
        config = Config.model_validate(doc.data, context={"base_dir": source.parent})
        located = []
    except ValidationError as error:
        located = problems_from(error, doc, Config)
    located += check_references(doc)
    file_problems, env_values = check_files(doc, source.parent)
    located += file_problems
    if config is not None:
        located += check_conflicts(config, doc)
    # A placeholder for a missing variable may make its value invalid too: that is no second problem.
    tainted = {doc.position(p) for p in doc.tainted}
    tainted |= {doc.position(p, prefer_key=True) for p in doc.tainted_keys}
    located = doc.problems + [p for p in located if p[0] not in tainted]
    if located or config is None:
        raise fail(_capped(located))
    for name, container in config.containers.items():
        container._env_file_values = env_values.get(name, {})
    config._source = source
    config._display = display
    config._mount_positions = _mount_positions(doc, config)
    return config


def _capped(located: list[Located]) -> list[Located]:
    """Sorted by position (stable: problems at one place keep their order), at most MAX_PROBLEMS of them,
    then one at the next problem saying how many more there are."""
    located = sorted(located, key=lambda p: p[0])
    if len(located) <= MAX_PROBLEMS:
        return located
    more = len(located) - MAX_PROBLEMS
    message = f"and {more} more problems (only the first {MAX_PROBLEMS} are shown)"
    return [*located[:MAX_PROBLEMS], (located[MAX_PROBLEMS][0], message)]


def _mount_positions(doc: Document, config: Config) -> dict[tuple[str, int], tuple[int, int]]:
    """Where each mount's source is written (the entry of a short form), for warnings about it."""
    positions: dict[tuple[str, int], tuple[int, int]] = {}
    for name, container in config.containers.items():
        for index in range(len(container.mounts)):
            path = ("containers", name, "mounts", index)
            source = (*path, "source")
            positions[(name, index)] = doc.position(source if source in doc.positions else path)
    return positions


def _locate(path: str | Path | None, cwd: Path) -> tuple[Path, str]:
    """The absolute file and the name to show in messages (as given, or relative to cwd when searched)."""
    if path is not None:
        source = Path(os.path.normpath(cwd / Path(path).expanduser()))
        display = str(path)
        if source.is_dir():
            source, display = source / FILE_NAME, os.path.join(display, FILE_NAME)
        if not source.is_file():
            raise ConfigError(f"{display}: no such file", hint="pass the path of a gefyra.yaml with -f")
        return source, display
    found = find_config(cwd)
    if found is None:
        raise ConfigError(
            f"no {FILE_NAME} in {cwd.absolute()} or any parent folder",
            hint="create one (see gefyra.example.yaml) or pass its path with -f",
        )
    return found, os.path.relpath(found, cwd)


def _read(source: Path, display: str) -> str:
    try:
        size = source.stat().st_size
        if size > MAX_FILE_SIZE:
            problem = Problem(
                display, 1, 1, f"the file has {size} bytes, more than {MAX_FILE_SIZE // 2**20} MiB"
            )
            raise ConfigError(str(problem), problems=[problem])
        data = source.read_bytes()
    except OSError as error:
        raise ConfigError(f"{display}: cannot read: {error.strerror}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        col = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        problem = Problem(display, line, col, f"the file is not UTF-8 text (byte 0x{data[error.start]:02x})")
        raise ConfigError(str(problem), problems=[problem]) from None


def _kind(value: object) -> str:
    return "a list" if isinstance(value, list) else f"the value {value!r}"


def _printable(message: str, limit: int = 2000) -> str:
    """One line per problem, whatever a key or value contains: control characters are escaped, and a
    message quoting a huge key is cut."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in message[: limit + 1])
    return text if len(text) <= limit else text[: limit - 3] + "..."
