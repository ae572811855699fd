"""The one boundary to the Docker engine (see engine.py); kinds and helpers import from here."""

from gefyra.providers.docker.engine.commands import ContainerCreate, PortBinding
from gefyra.providers.docker.engine.engine import BuildFailed, Engine
from gefyra.providers.docker.engine.events import EngineEvent, EventStream, ProjectEvents
from gefyra.providers.docker.engine.models import (
    ContainerInfo,
    ContainerRow,
    Endpoint,
    ExecResult,
    ImageInfo,
    ImageRow,
    NetworkInfo,
    VolumeRow,
)
from gefyra.providers.docker.engine.reads import EngineReads

__all__ = [
    "BuildFailed",
    "ContainerCreate",
    "ContainerInfo",
    "ContainerRow",
    "Endpoint",
    "Engine",
    "EngineEvent",
    "EngineReads",
    "EventStream",
    "ExecResult",
    "ImageInfo",
    "ImageRow",
    "NetworkInfo",
    "ProjectEvents",
    "PortBinding",
    "VolumeRow",
]
