"""A Kubernetes API server for tests and the demo: HTTP + JSON, watch, CRDs, bearer tokens, TLS.

Part of the TEST AND DEMO SANDBOX, not a Kubernetes distribution. Start it with
`tests.sandbox.apiserver.serve.start()` (in-process) or `start_subprocess()`.
"""

from .serve import SandboxApi, start, start_subprocess
from .server import ApiServer, ServerConfig

__all__ = ["ApiServer", "SandboxApi", "ServerConfig", "start", "start_subprocess"]
