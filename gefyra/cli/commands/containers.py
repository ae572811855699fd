"""`gefyra list`, `logs`, `run`: imperative helpers over gefyra.api."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from gefyra.cli.commands._engine_common import check_output, file_option, output_option

if TYPE_CHECKING:
    from gefyra.config.model import Config


def _project(project: str | None, file: Path | None) -> tuple[str, Config | None]:
    """(project name, config or None): --project wins, else gefyra.yaml."""
    from gefyra import api

    if project:
        return project, None
    config = api.load(file)
    return config.project.name, config


def register(app: typer.Typer) -> None:
    @app.command("list")
    def list_(
        output: str = output_option(),
        project: str | None = typer.Option(None, "--project", "-p", help="Only this project."),
    ) -> None:
        """Every gefyra container on this machine: project, name, state, image."""
        from gefyra.cli import readonly

        check_output(output)
        raise typer.Exit(readonly.containers(project, output))

    @app.command("logs")
    def logs(
        name: str = typer.Argument(..., help="Container name as in gefyra.yaml (or of `gefyra run -N`)."),
        follow: bool = typer.Option(False, "-f", "--follow", help="Keep printing new output."),
        tail: int | None = typer.Option(None, "--tail", help="Only the last N lines."),
        file: Path | None = typer.Option(None, "--file", help="gefyra.yaml; default: searched upward."),
        project: str | None = typer.Option(
            None, "--project", "-p", help="Project name instead of gefyra.yaml."
        ),
    ) -> None:
        """Print a container's logs."""
        import sys

        from gefyra import api

        name_of_project, _ = _project(project, file)
        for chunk in api.logs(name_of_project, name, follow=follow, tail=tail):
            sys.stdout.buffer.write(chunk)
            sys.stdout.buffer.flush()

    @app.command("run", context_settings={"allow_interspersed_args": False})
    def run(
        image: str = typer.Option(..., "-i", "--image", help="Image to run."),
        name: str | None = typer.Option(None, "-N", "--name", help="Name (default: run-<random>)."),
        env: list[str] = typer.Option(
            [], "-e", "--env", help="KEY=VALUE (repeatable; wins over the others)."
        ),
        env_file: list[Path] = typer.Option(
            [], "--env-file", help="KEY=VALUE file (repeatable; over --env-from, under --env)."
        ),
        env_from: str | None = typer.Option(
            None,
            "--env-from",
            help="Start with the environment of a cluster container: deployment/NAME[/CONTAINER], "
            "statefulset/... or pod/... (needs gefyra.yaml with cluster:).",
        ),
        namespace: str | None = typer.Option(
            None, "--namespace", help="Namespace of --env-from's workload; default: cluster.namespace."
        ),
        volume: list[str] = typer.Option([], "-v", "--volume", help="SOURCE:/TARGET[:ro] (repeatable)."),
        port: list[str] = typer.Option([], "-p", "--port", help="[IP:]HOST:CONTAINER[/udp] (repeatable)."),
        command: str | None = typer.Option(None, "--command", help="Replace the image's ENTRYPOINT."),
        project: str | None = typer.Option(None, "--project", help="Project name instead of gefyra.yaml."),
        file: Path | None = file_option(),
        args: list[str] = typer.Argument(None, help="Arguments (the image's CMD)."),
    ) -> None:
        """Start a one-off container on the project network (removed by `gefyra down`)."""
        import os
        import shlex

        from gefyra import api
        from gefyra.render.console import Console

        project_name, config = _project(project, file)
        docker_name = api.run(
            project_name,
            image=image,
            name=name,
            env={**_env_files(env_file), **_env(env)},
            mounts=volume,
            ports=port,
            args=list(args) if args else None,
            config=config,
            cwd=os.getcwd(),
            command=shlex.split(command) if command else None,
            env_from=env_from,
            env_from_namespace=namespace,
        )
        Console().data(docker_name)


def _env(items: list[str]) -> dict[str, str]:
    from gefyra.providers.docker.oneoff import parse_env

    return parse_env(items)


def _env_files(paths: list[Path]) -> dict[str, str]:
    """The files' values in order (a later file wins); a bad file is a ConfigError naming it and the line."""
    from gefyra.config.envfile import EnvFileError, read_env_file
    from gefyra.errors import ConfigError

    env: dict[str, str] = {}
    for path in paths:
        try:
            env.update(read_env_file(path))
        except EnvFileError as error:
            where = f", line {error.line}" if error.line else ""
            raise ConfigError(f"--env-file {path}{where}: {error}") from None
    return env
