"""The Operator's settings, from its environment (the install sets them; nothing secret here)."""

from __future__ import annotations

import os
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gefyra.cluster import names


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    namespace: str = names.NAMESPACE
    carrier_image: str = Field(min_length=1)
    stowaway_url: str = ""  # empty: the control API's Service in `namespace`
    host: str = "0.0.0.0"
    port: int = Field(names.OPERATOR_PORT, ge=1, le=65535)
    reconcile_interval: float = Field(5.0, gt=0)  # bridges: new Pods, Stowaway restarts
    reap_interval: float = Field(10.0, gt=0)  # clients: handshakes, timeouts; the janitor
    carrier_control_port: int = 10001

    @property
    def stowaway_api(self) -> str:
        default = f"http://{names.STOWAWAY_API}.{self.namespace}.svc:{names.STOWAWAY_API_PORT}"
        return self.stowaway_url or default


ENV = {
    "namespace": "GEFYRA_NAMESPACE",
    "carrier_image": "GEFYRA_CARRIER_IMAGE",
    "stowaway_url": "GEFYRA_STOWAWAY_URL",
    "host": "GEFYRA_OPERATOR_HOST",
    "port": "GEFYRA_OPERATOR_PORT",
    "reconcile_interval": "GEFYRA_RECONCILE_INTERVAL",
    "reap_interval": "GEFYRA_REAP_INTERVAL",
}


def from_env(environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from GEFYRA_* variables; a bad value is an error naming the variable."""
    environ = os.environ if environ is None else environ
    values = {field: environ[var] for field, var in ENV.items() if environ.get(var)}
    try:
        return Settings.model_validate(values)
    except ValidationError as error:
        problems = "; ".join(f"{ENV.get(str(e['loc'][0]), e['loc'][0])}: {e['msg']}" for e in error.errors())
        raise ValueError(f"bad Operator settings: {problems}") from None
