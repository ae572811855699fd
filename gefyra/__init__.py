"""gefyra: declarative local development against Kubernetes (gefyra.yaml -> plan -> apply)."""

__version__ = "0.1.0"
