"""Errors of creating or starting a container name the container and the environment variable, never its
value: the engine quotes env values in some errors (a refused create: `invalid environment variable:
=<value>`; runc at start: `environment variable value can't contain null(\\x00): "KEY=<value>"`)."""

from __future__ import annotations

import secrets

import pytest

from gefyra import api
from gefyra.errors import GefyraError
from gefyra.model import labels
from gefyra.providers.docker.dataplane.images import image_tag
from gefyra.providers.docker.engine import ContainerCreate
from gefyra.providers.errors import EngineError

pytestmark = [pytest.mark.docker]

SECRET = "hunter2-" + secrets.token_hex(8)  # what must never show


def chain(error: BaseException | None) -> list[BaseException]:
    """The error and every error it was raised from or during (what a traceback would show)."""
    found = []
    while error is not None and error not in found:
        found.append(error)
        error = error.__cause__ or error.__context__
    return found


def test_a_failed_start_names_the_variable_not_its_value(docker_client):
    """gefyra.yaml refuses such a value (NUL); the Python API and providers take what they are given."""
    project = f"t-env-{secrets.token_hex(3)}"
    try:
        with pytest.raises(GefyraError) as caught:
            api.run(
                project,
                image="debian:bookworm-slim",
                name="leaky",
                command=["sleep", "infinity"],
                # a NUL in the value: the engine creates the container, runc refuses to start it and quotes
                # the whole KEY=value pair in its error
                env={"API_TOKEN": f"{SECRET}\u0000tail", "PLAIN": "visible-ok"},
            )
        message = str(caught.value)
        assert f"gefyra-{project}-leaky" in message and "API_TOKEN=<value not shown>" in message, message
        for error in chain(caught.value):
            assert "hunter2" not in str(error) and "hunter2" not in repr(error.args), error
        # nothing half-made: the refused container is gone
        assert docker_client.containers.list(all=True, filters={"name": f"gefyra-{project}-leaky"}) == []
    finally:
        api.down(project)


def test_a_refused_create_names_the_container_not_the_value(engine, docker_client):
    name = f"gefyra-t-env-{secrets.token_hex(3)}"
    with pytest.raises(EngineError) as caught:
        engine.create_container(
            ContainerCreate(
                image=image_tag("cargo"),
                name=name,
                env={"": SECRET},  # the engine refuses it and quotes `=<value>` in its answer
                labels={labels.TEST: name},
            )
        )
    message = str(caught.value)
    assert name in message and "invalid environment variable" in message, message
    assert SECRET not in message and "hunter2" not in message, message
    assert chain(caught.value) == [caught.value]  # nothing to unwrap
    assert docker_client.containers.list(all=True, filters={"label": f"{labels.TEST}={name}"}) == []
