"""gefyra.yaml: the model, the loader with file:line:col problems, and the JSON schema.

from gefyra.config import load
config = load()            # ./gefyra.yaml, searched upward like git
"""

from gefyra.config.loader import find_config, load
from gefyra.config.model import (
    Bridge,
    Build,
    Cluster,
    Config,
    Container,
    EnvFrom,
    MatchRule,
    Mount,
    Network,
    PortMapping,
    Project,
    Target,
    WatchRule,
)
from gefyra.config.problems import Problem

__all__ = [
    "Bridge",
    "Build",
    "Cluster",
    "Config",
    "Container",
    "EnvFrom",
    "MatchRule",
    "Mount",
    "Network",
    "PortMapping",
    "Problem",
    "Project",
    "Target",
    "WatchRule",
    "find_config",
    "load",
]
