"""Typed client of Stowaway's control API (bearer token, JSON). The Operator uses it in the cluster;
tests and the pre-Operator client use it directly."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Sequence

from pydantic import SecretStr, TypeAdapter

from gefyra.dataplane.models import PeerConfig, PeerStatus, ProxyRoute, ServerInfo
from gefyra.errors import ProviderError


class StowawayError(ProviderError):
    """The control API answered with an error (status kept) or could not be reached (status 0)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class StowawayClient:
    def __init__(self, base_url: str, token: SecretStr | str, *, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token if isinstance(token, SecretStr) else SecretStr(token)
        self.timeout = timeout

    def __repr__(self) -> str:  # never the token
        return f"StowawayClient({self.base_url!r})"

    def _request(
        self, method: str, path: str, body: dict[str, object] | None = None, *, auth: bool = True
    ) -> object:
        """The answer's JSON (validated by the caller), None for an empty body."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if auth:
            request.add_header("Authorization", f"Bearer {self._token.get_secret_value()}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as error:
            try:
                message = json.loads(error.read() or b"{}").get("error", error.reason)
            except ValueError:
                message = error.reason
            raise StowawayError(f"Stowaway {method} {path}: {error.code} {message}", error.code) from None
        except OSError as error:
            raise StowawayError(f"Stowaway at {self.base_url} unreachable: {error}") from None
        return json.loads(raw) if raw else None

    def healthy(self) -> bool:
        try:
            payload = self._request("GET", "/healthz", auth=False)
        except StowawayError:
            return False
        return isinstance(payload, dict) and payload.get("status") == "ok"

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.healthy():
            if time.monotonic() > deadline:
                raise StowawayError(f"Stowaway at {self.base_url} not ready after {timeout:.0f}s")
            time.sleep(0.1)

    def server(self) -> ServerInfo:
        return ServerInfo.model_validate(self._request("GET", "/v1/server"))

    def put_peer(self, name: str, routed_subnets: Sequence[str] = ()) -> PeerConfig:
        """Create the peer (Stowaway generates its keys) or update its routed subnets; returns its config."""
        payload = self._request("PUT", f"/v1/peers/{name}", {"routed_subnets": list(routed_subnets)})
        return PeerConfig.model_validate(payload)

    def get_peer(self, name: str) -> PeerConfig | None:
        try:
            return PeerConfig.model_validate(self._request("GET", f"/v1/peers/{name}"))
        except StowawayError as error:
            if error.status == 404:
                return None
            raise

    def delete_peer(self, name: str) -> bool:
        """Remove the peer live; False when it did not exist."""
        try:
            self._request("DELETE", f"/v1/peers/{name}")
        except StowawayError as error:
            if error.status == 404:
                return False
            raise
        return True

    def peers(self) -> list[PeerStatus]:
        return TypeAdapter(list[PeerStatus]).validate_python(self._request("GET", "/v1/peers"))

    def put_route(self, route: ProxyRoute) -> ProxyRoute:
        body = route.model_dump(exclude={"name"})
        return ProxyRoute.model_validate(self._request("PUT", f"/v1/routes/{route.name}", body))

    def delete_route(self, name: str) -> bool:
        try:
            self._request("DELETE", f"/v1/routes/{name}")
        except StowawayError as error:
            if error.status == 404:
                return False
            raise
        return True

    def routes(self) -> list[ProxyRoute]:
        return TypeAdapter(list[ProxyRoute]).validate_python(self._request("GET", "/v1/routes"))
