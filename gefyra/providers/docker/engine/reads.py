"""Typed reads of the engine (what observe, status and the kinds' checks need), over a Transport.

Every HTTP error answer is translated here (`providers.errors.from_status`): a 404 is NotFound, nothing else
is; a 403 is EnginePermission, a 500 EngineFailure.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TypeVar
from urllib.parse import quote, urlencode

from pydantic import BaseModel, TypeAdapter, ValidationError

from gefyra.providers.docker.engine.models import (
    ContainerInfo,
    ContainerRow,
    ImageInfo,
    ImageRow,
    NetworkInfo,
    VolumeRow,
)
from gefyra.providers.docker.engine.transport import Answer, Transport
from gefyra.providers.errors import EngineFailure, NotFound, from_status

M = TypeVar("M", bound=BaseModel)
Filters = Mapping[str, Sequence[str]]


def _filters(filters: Filters) -> str | None:
    given = {key: [str(item) for item in values] for key, values in filters.items() if values}
    return json.dumps(given) if given else None


class EngineReads:
    """The read half of the boundary: lists by label, inspects, archive reads, ping."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    @property
    def host(self) -> str:
        return self.transport.host

    @property
    def local(self) -> bool:
        return self.transport.local

    # ---- plumbing ---------------------------------------------------------------------------------------

    def _get(self, url: str, what: str, **params: str | None) -> Answer:
        query = urlencode({key: value for key, value in params.items() if value is not None})
        answer = self.transport.get(url, query)
        if answer.status >= 400:
            raise from_status(
                answer.status, f"{what}: {_message(answer)} (HTTP {answer.status} from {self.host})"
            )
        return answer

    def _list(self, model: type[M], url: str, what: str, **params: str | None) -> list[M]:
        answer = self._get(url, what, **params)
        try:
            return TypeAdapter(list[model]).validate_json(answer.body)  # type: ignore[valid-type]
        except ValidationError as error:
            raise EngineFailure(f"{what}: unexpected answer from {self.host}: {error}") from None

    def _one(self, model: type[M], url: str, what: str, **params: str | None) -> M:
        answer = self._get(url, what, **params)
        try:
            return model.model_validate_json(answer.body)
        except ValidationError as error:
            raise EngineFailure(f"{what}: unexpected answer from {self.host}: {error}") from None

    # ---- reads ------------------------------------------------------------------------------------------

    def ping(self) -> str:
        """The engine's API version; raises EngineUnavailable / EnginePermission when it cannot be asked."""
        answer = self._get("/_ping", "ping")
        return answer.headers.get("Api-Version") or answer.headers.get("API-Version") or ""

    def containers(
        self,
        *,
        labels: Sequence[str] = (),
        all: bool = True,  # noqa: A002 - the Engine API's word
        name: str | None = None,
        ids: Sequence[str] = (),
        publish: int | None = None,
    ) -> list[ContainerRow]:
        """Containers matching every given filter (`labels`: `key` or `key=value`; `name`: exact name)."""
        filters = {
            "label": labels,
            "name": [f"^/{name}$"] if name else [],
            "id": ids,
            "publish": [str(publish)] if publish is not None else [],
        }
        return self._list(
            ContainerRow,
            "/containers/json",
            "listing containers",
            all="1" if all else None,
            filters=_filters(filters),
        )

    def networks(self, *, labels: Sequence[str] = (), names: Sequence[str] = ()) -> list[NetworkInfo]:
        """Networks with these labels / exactly these names (the engine's name filter matches substrings)."""
        found = self._list(
            NetworkInfo, "/networks", "listing networks", filters=_filters({"label": labels, "name": names})
        )
        return [net for net in found if not names or net.name in names]

    def volumes(self, *, labels: Sequence[str] = ()) -> list[VolumeRow]:
        answer = self._get("/volumes", "listing volumes", filters=_filters({"label": labels}))
        try:
            rows = json.loads(answer.body).get("Volumes") or []
            return [VolumeRow.model_validate(row) for row in rows]
        except (ValueError, AttributeError, ValidationError) as error:
            raise EngineFailure(f"listing volumes: unexpected answer from {self.host}: {error}") from None

    def images(self, *, labels: Sequence[str] = (), reference: str | None = None) -> list[ImageRow]:
        filters = {"label": labels, "reference": [reference] if reference else []}
        return self._list(ImageRow, "/images/json", "listing images", filters=_filters(filters))

    def inspect_container(self, ref: str) -> ContainerInfo:
        """Raises NotFound when there is no such container."""
        return self._one(ContainerInfo, f"/containers/{quote(ref, safe='')}/json", f"container {ref}")

    def find_container(self, ref: str) -> ContainerInfo | None:
        """Inspect data of container `ref` (name or id), None only when the engine says it does not exist."""
        try:
            return self.inspect_container(ref)
        except NotFound:
            return None

    def inspect_network(self, ref: str) -> NetworkInfo:
        return self._one(NetworkInfo, f"/networks/{quote(ref, safe='')}", f"network {ref}")

    def inspect_image(self, ref: str) -> ImageInfo:
        """Raises NotFound when the image is not present locally."""
        return self._one(ImageInfo, f"/images/{quote(ref, safe='/:@')}/json", f"image {ref}")

    def find_image(self, ref: str) -> ImageInfo | None:
        try:
            return self.inspect_image(ref)
        except NotFound:
            return None

    def archive(self, container: str, path: str) -> bytes:
        """A tar of `path` in the container (`docker cp` out); NotFound when the container or path is not
        there."""
        return self._get(
            f"/containers/{quote(container, safe='')}/archive", f"reading {path} of {container}", path=path
        ).body


def _message(answer: Answer) -> str:
    try:
        found = json.loads(answer.body).get("message")
    except (ValueError, AttributeError):
        found = None
    text = found if isinstance(found, str) else answer.body.decode(errors="replace").strip()
    return text.splitlines()[0][:300] if text else "no message"
