"""One call of a connector to its business system, through ``ctx.http``.

Rules:
- a GET to the filled URL, with ``Accept: application/json`` and the connector's auth
  header; no redirect is followed (a 3xx is an ``error``: a system that moved is
  reconfigured, not chased);
- the whole call, the destination check included, ends within the connector's
  timeout (``timeout``), whatever the transport does;
- the host is checked again before each call (``opencx.features.destinations``): a
  name that has come to lead to an internal address is refused (``error``);
- the answer must say it is JSON (``application/json`` or ``…+json``) and hold at most
  ``MAX_RESPONSE_BYTES``: more is refused as soon as its length or its bytes say so;
- what the agent reads is kept, not the answer: each field's value as its format
  reads it (``opencx.core.connectors.read_value``), so the cache holds small values
  and the locale of the labels is chosen later;
- an error says what went wrong in a few words for the agent, never the credential.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

import httpx

from opencx.core.connectors import (
    MAX_RESPONSE_BYTES,
    ConnectorStatus,
    FieldFormat,
    FieldSpec,
    Scalar,
    UrlTemplate,
    read_fields,
    status_of_answer,
)
from opencx.features.context import AppContext
from opencx.features.destinations import DestinationRefused, check_host
from opencx.features.transports import http_client

__all__ = ["Answer", "ConnectorSpec", "call_connector"]

_ACCEPT = "application/json"
_USER_AGENT = "OpenCX connector"


@dataclass(frozen=True, slots=True)
class ConnectorSpec:
    """What a call needs of a connector, read in one transaction and used after it."""

    id: int
    name: str
    labels: tuple[tuple[str, str], ...]
    template: UrlTemplate
    fields: tuple[FieldSpec, ...]
    timeout_ms: int
    cache_seconds: int
    #: The auth header with its credential opened: kept out of every repr.
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    #: Why the credential cannot be used (sealed with another key), if so.
    auth_problem: str | None = None
    #: Changes whenever the configuration does: a cached answer of an older one is stale.
    version: str = ""


@dataclass(frozen=True, slots=True)
class Answer:
    """How a call ended, and what the agent reads of it."""

    status: ConnectorStatus
    fetched_at: datetime | None = None
    values: tuple[tuple[Scalar, FieldFormat], ...] = ()
    error: str | None = None
    http_status: int | None = None


async def call_connector(ctx: AppContext, spec: ConnectorSpec, url: str) -> Answer:
    """Call the system at ``url`` (filled from the template) and read its answer."""
    if spec.auth_problem is not None:
        return Answer(ConnectorStatus.ERROR, error=spec.auth_problem)
    try:
        async with asyncio.timeout(spec.timeout_ms / 1000):
            await _check_destination(ctx, url)
            answer = await _get(ctx, spec, url)
    except TimeoutError:
        answer = _timed_out(spec)
    except DestinationRefused:
        answer = Answer(ConnectorStatus.ERROR, error="the system's host is an internal address")
    return Answer(answer.status, ctx.clock.now(), answer.values, answer.error, answer.http_status)


async def _check_destination(ctx: AppContext, url: str) -> None:
    parts = urlsplit(url)
    await check_host(
        parts.hostname or "",
        parts.port or (443 if parts.scheme == "https" else 80),
        allow_private=ctx.settings.network.allow_private_destinations,
    )


async def _get(ctx: AppContext, spec: ConnectorSpec, url: str) -> Answer:
    headers = {"Accept": _ACCEPT, "User-Agent": _USER_AGENT, **dict(spec.headers)}
    try:
        async with (
            http_client(ctx.http, timeout=spec.timeout_ms / 1000, follow_redirects=False) as client,
            client.stream("GET", url, headers=headers) as response,
        ):
            return await _read(spec, response)
    except httpx.TimeoutException:
        return _timed_out(spec)
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        return Answer(
            ConnectorStatus.ERROR, error=f"no answer from the system ({type(exc).__name__})"
        )


async def _read(spec: ConnectorSpec, response: httpx.Response) -> Answer:
    code = response.status_code
    status = status_of_answer(code)
    if status is not ConnectorStatus.OK:
        moved = " (a redirect, not followed)" if 300 <= code < 400 else ""
        error = (
            None
            if status is ConnectorStatus.NOT_FOUND
            else f"the system answered HTTP {code}{moved}"
        )
        return Answer(status, error=error, http_status=code)
    media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if not (media_type.endswith("/json") or media_type.endswith("+json")):
        shown = media_type[:60] or "no content type"
        return Answer(
            ConnectorStatus.ERROR, error=f"the answer is not JSON ({shown})", http_status=code
        )
    body = await _capped(response)
    if body is None:
        limit = MAX_RESPONSE_BYTES // 1024
        return Answer(
            ConnectorStatus.ERROR, error=f"the answer is larger than {limit} KiB", http_status=code
        )
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return Answer(ConnectorStatus.ERROR, error="the answer is not valid JSON", http_status=code)
    return Answer(ConnectorStatus.OK, values=read_fields(data, spec.fields), http_status=code)


async def _capped(response: httpx.Response) -> bytes | None:
    """The body, or ``None`` when it is larger than ``MAX_RESPONSE_BYTES``."""
    length = response.headers.get("content-length", "")
    if length.isascii() and length.isdigit() and int(length) > MAX_RESPONSE_BYTES:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _timed_out(spec: ConnectorSpec) -> Answer:
    return Answer(ConnectorStatus.TIMEOUT, error=f"no answer within {spec.timeout_ms} ms")
