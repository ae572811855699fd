"""Decode Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`) into JSON-shaped objects.

kubectl 1.32 and later sends the objects its imperative verbs build (`create namespace|configmap|
deployment`, `expose`, `run`, `create token`, ...) as protobuf. The body is the magic `k8s\\0` followed by a
runtime.Unknown envelope: 1 typeMeta {1 apiVersion, 2 kind}, 2 raw (the typed message), 3 contentEncoding,
4 contentType. The typed message is read with the field table of pbschema.py; the result is what the same
object looks like as JSON, so everything after the body parser is unchanged.
"""

from __future__ import annotations

import base64
import datetime
from collections.abc import Iterator
from typing import Any

from . import errors
from .errors import ApiError
from .pbschema import KINDS, SCHEMA, Field

MAGIC = b"k8s\x00"
VARINT, FIXED64, LENGTH, FIXED32 = 0, 1, 2, 5


class WireError(ValueError):
    """The bytes are not a well-formed protobuf message."""


def read_varint(data: bytes, pos: int) -> tuple[int, int]:
    """The varint at `pos` and the position after it."""
    result = shift = 0
    while pos < len(data):
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            break
    raise WireError("truncated or overlong varint")


def fields(data: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """(field number, wire type, value) of each field: an int for varints and fixed types, bytes otherwise."""
    pos = 0
    while pos < len(data):
        key, pos = read_varint(data, pos)
        number, wire = key >> 3, key & 7
        value: int | bytes
        if wire == VARINT:
            value, pos = read_varint(data, pos)
        elif wire in (FIXED64, FIXED32):
            size = 8 if wire == FIXED64 else 4
            value, pos = int.from_bytes(data[pos : pos + size], "little"), pos + size
        elif wire == LENGTH:
            size, pos = read_varint(data, pos)
            value, pos = data[pos : pos + size], pos + size
        else:
            raise WireError(f"unsupported wire type {wire} (field {number})")
        if pos > len(data) or number == 0:
            raise WireError("truncated message")
        yield number, wire, value


def signed(value: int) -> int:
    """Negative int32/int64 travel as 64-bit two's complement varints."""
    return value - (1 << 64) if value >= 1 << 63 else value


def text(value: int | bytes) -> str:
    if not isinstance(value, bytes):
        raise WireError("a string field holds a number")
    return value.decode("utf-8")


def special(type_: str, data: bytes) -> Any:
    """The JSON forms of meta/v1 Time (RFC 3339, None for the zero time), Quantity and IntOrString."""
    values = {number: value for number, _, value in fields(data)}
    if type_ == "Quantity":
        return text(values.get(1, b""))
    if type_ == "IntOrString":
        if values.get(1, 0) == 1:
            return text(values.get(3, b""))
        return signed(int(values.get(2, 0)))
    seconds = signed(int(values.get(1, 0)))
    if not seconds and not values.get(2):
        return None
    moment = datetime.datetime.fromtimestamp(seconds, datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def scalar(field: Field, wire: int, value: int | bytes) -> Any:
    if field.type == "s":
        return text(value)
    if field.type == "b":
        if not isinstance(value, bytes):
            raise WireError(f"bytes field {field.name} holds a number")
        return base64.b64encode(value).decode()
    if not isinstance(value, int):
        raise WireError(f"numeric field {field.name} holds bytes")
    return bool(value) if field.type == "t" else signed(value)


def value_of(field: Field, wire: int, value: int | bytes) -> Any:
    if field.type in ("s", "b", "i", "t"):
        return scalar(field, wire, value)
    if not isinstance(value, bytes):
        raise WireError(f"message field {field.name} holds a number")
    return decode_message(field.type, value) if field.type in SCHEMA else special(field.type, value)


def map_entry(field: Field, data: bytes) -> tuple[str, Any]:
    entry = {number: (wire, value) for number, wire, value in fields(data)}
    key = text(entry.get(1, (LENGTH, b""))[1])
    wire, value = entry.get(2, (LENGTH, b""))
    return key, value_of(Field(field.name, field.type), wire, value)


def packed(data: bytes) -> list[int]:
    out, pos = [], 0
    while pos < len(data):
        value, pos = read_varint(data, pos)
        out.append(signed(value))
    return out


def message_bytes(value: int | bytes | None) -> bytes:
    if isinstance(value, int):
        raise WireError("a message field holds a number")
    return value or b""


def is_zero(field: Field, value: Any) -> bool:
    """A non-pointer scalar at its zero value: gogo-protobuf writes it even when unset; JSON omits it."""
    return not field.pointer and field.type in ("s", "b", "i", "t") and value in ("", 0, False)


def decode_message(message: str, data: bytes) -> dict[str, Any]:
    """One message as a JSON-shaped dict, by the field table; fields not in the table are skipped."""
    table = SCHEMA[message]
    out: dict[str, Any] = {}
    for number, wire, raw in fields(data):
        field = table.get(number)
        if field is None:
            continue
        if field.inline:
            out.update(decode_message(field.type, message_bytes(raw)))
        elif field.mapped:
            if not isinstance(raw, bytes):
                raise WireError(f"map field {field.name} holds a number")
            key, value = map_entry(field, raw)
            out.setdefault(field.name, {})[key] = value
        elif field.repeated:
            if field.type == "i" and isinstance(raw, bytes):
                out.setdefault(field.name, []).extend(packed(raw))
            else:
                out.setdefault(field.name, []).append(value_of(field, wire, raw))
        else:
            value = value_of(field, wire, raw)
            if value is None or is_zero(field, value):
                out.pop(field.name, None)
            else:
                out[field.name] = value
    return out


def decode_body(body: bytes) -> dict[str, Any]:
    """A whole request body (magic + runtime.Unknown) as a JSON-shaped object, or a 415/400 ApiError."""
    if not body.startswith(MAGIC):
        raise errors.bad_request("protobuf body without the k8s\\0 prefix")
    try:
        envelope = {number: value for number, _, value in fields(body[len(MAGIC) :])}
        type_meta = {number: text(value) for number, _, value in fields(message_bytes(envelope.get(1)))}
        api_version, kind = type_meta.get(1, ""), type_meta.get(2, "")
        encoding = text(envelope.get(3, b""))  # gzip etc.: kubectl never sets one
        message = KINDS.get((api_version, kind))
        if message is None or encoding:
            raise unsupported(api_version, kind, encoding)
        obj = decode_message(message, message_bytes(envelope.get(2)))
    except (WireError, UnicodeDecodeError) as error:
        raise errors.bad_request(f"the protobuf request body could not be decoded: {error}") from None
    return {"apiVersion": api_version, "kind": kind, **obj}


def unsupported(api_version: str, kind: str, encoding: str) -> ApiError:
    what = f"{api_version} {kind}".strip() or "an object without apiVersion/kind"
    why = f"content encoding {encoding!r}" if encoding else f"kind {what}"
    return ApiError(
        415,
        "UnsupportedMediaType",
        f"the sandbox API server cannot decode a protobuf body of {why}; "
        "it decodes protobuf only for the kinds imperative kubectl creates "
        f"({', '.join(sorted({k for _, k in KINDS}))}); "
        "send this one as JSON (Content-Type: application/json), e.g. with kubectl create -f / apply -f",
    )
