"""Twilio's Messages API and Meta's Graph API as their documentation describes them,
for the outbound messaging and media tests: answered in-process through the context's
HTTP port (``Providers.http``, a ``FakeHttp`` a test puts on ``ctx.http``), or served
over real HTTP on a local port (``serve_providers``) where the test is about the real
transport.

The doubles check what the real APIs check (basic auth with the Account SID and auth
token; a bearer token; the documented form fields and JSON bodies) and answer with the
documented bodies: a Message resource (``201``, ``sid``), WhatsApp's ``messages[0].id``
(a wamid), Messenger's ``message_id``; refusals are the documented error objects. A
test queues refusals (``fail_next``), chooses the next ids (``next_ids``), or holds
answers until it releases them (``hold``).

Files: like the real providers, the doubles download each file of a message
(``MediaUrl``, a WhatsApp media ``link``, a template's media header ``link``, a
Messenger ``payload.url``) while accepting
it, through ``fetch`` when a test sets it, and refuse the message when a download fails
(Twilio ``11200``, Meta ``131053``); what they downloaded is in ``downloads``.

Media customers send: the doubles also hold the files of incoming messages
(``media``, by path: a test puts a file there and names its URL in a webhook) and
serve them as documented: Twilio's ``/2010-04-01/Accounts/{sid}/Messages/{sid}/Media/
{sid}`` with basic auth; WhatsApp's ``GET /{version}/{media-id}`` (bearer token)
answering the media URL object, then that URL (bearer token again); a Messenger CDN
link with no credential. A file not there is a ``404``; every media request is in
``media_requests`` as (path, Authorization header).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx

from opencx.features.context import AppContext
from opencx.testing import FakeHttp
from tests.integration.local_server import serving_transport

ACCOUNT_SID = "AC00000000000000000000000000000001"
AUTH_TOKEN = "12345"  # also what the recorded Twilio webhooks are signed with
ACCESS_TOKEN = "EAAG-test-access-token"
STARTUP_SECONDS = 10.0
#: Where the doubles answer in-process: a name that resolves nowhere (RFC 2606), so a
#: request that missed the fake fails instead of leaving the machine.
FAKE_URL = "https://providers.test"


@dataclass(frozen=True)
class Call:
    """One request the doubles accepted as well-formed."""

    provider: str  # "twilio" or "meta"
    path: str
    form: dict[str, list[str]] = field(default_factory=dict)
    json: dict[str, Any] = field(default_factory=dict)


@dataclass
class Providers:
    url: str = FAKE_URL
    http: FakeHttp = field(default_factory=FakeHttp)
    calls: list[Call] = field(default_factory=list)
    refused: int = 0  # requests refused for bad credentials or a malformed body
    fail_next: deque[tuple[int, dict[str, Any]]] = field(default_factory=deque)
    next_ids: deque[str] = field(default_factory=deque)
    hold: asyncio.Event | None = None
    called: asyncio.Condition = field(default_factory=asyncio.Condition)
    fetch: Callable[[str], Awaitable[httpx.Response]] | None = None
    downloads: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # url: (type, bytes)
    media: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # path: (type, bytes)
    media_requests: list[tuple[str, str | None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        route = self.http.route
        route("POST", "/2010-04-01/Accounts/{sid}/Messages.json", self.twilio)
        route("POST", "/{version}/{node}/messages", self.meta)
        route(
            "GET", "/2010-04-01/Accounts/{sid}/Messages/{message}/Media/{media}", self.twilio_media
        )
        route("GET", "/whatsapp-media/{media_id}", self.whatsapp_media)
        route("GET", "/cdn/{name:path}", self.cdn)
        route("GET", "/{version}/{media_id}", self.whatsapp_media_url)

    def twilio_media_url(self, media_sid: str) -> str:
        path = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/MM0123/Media/{media_sid}"
        return self.url + path

    def twilio_media(self, request: httpx.Request, path: dict[str, str]) -> httpx.Response:
        authorization = request.headers.get("authorization")
        self.media_requests.append((request.url.path, authorization))
        if path["sid"] != ACCOUNT_SID or authorization != _basic():
            return _twilio_error(401, 20003, "Authenticate")
        return self._file(request.url.path)

    def whatsapp_media_url(self, request: httpx.Request, path: dict[str, str]) -> httpx.Response:
        authorization = request.headers.get("authorization")
        self.media_requests.append((request.url.path, authorization))
        if authorization != f"Bearer {ACCESS_TOKEN}":
            return _meta_error(401, 190, "Invalid OAuth access token.")
        media_id = path["media_id"]
        found = self.media.get(f"/whatsapp-media/{media_id}")
        if found is None:
            return _meta_error(404, 100, "(#100) Unsupported get request.")
        content_type, data = found
        return httpx.Response(
            200,
            json={
                "messaging_product": "whatsapp",
                "url": f"{self.url}/whatsapp-media/{media_id}",
                "mime_type": content_type,
                "sha256": hashlib.sha256(data).hexdigest(),
                "file_size": len(data),
                "id": media_id,
            },
        )

    def whatsapp_media(self, request: httpx.Request, _path: dict[str, str]) -> httpx.Response:
        authorization = request.headers.get("authorization")
        self.media_requests.append((request.url.path, authorization))
        if authorization != f"Bearer {ACCESS_TOKEN}":
            return httpx.Response(401)
        return self._file(request.url.path)

    def cdn(self, request: httpx.Request, _path: dict[str, str]) -> httpx.Response:
        self.media_requests.append((request.url.path, request.headers.get("authorization")))
        return self._file(request.url.path)

    def _file(self, path: str) -> httpx.Response:
        found = self.media.get(path)
        if found is None:
            return httpx.Response(404)
        content_type, data = found
        return httpx.Response(200, content=data, headers={"content-type": content_type})

    async def _download(self, urls: list[str]) -> bool:
        """Fetch each file as the provider would; False when one cannot be had."""
        for url in urls:
            if self.fetch is None:
                return False
            response = await self.fetch(url)
            if response.status_code != 200:
                return False
            content_type = response.headers.get("content-type", "")
            self.downloads[url] = (content_type, response.content)
        return True

    async def wait_for_calls(self, count: int) -> None:
        async with self.called:
            await asyncio.wait_for(
                self.called.wait_for(lambda: len(self.calls) >= count), STARTUP_SECONDS
            )

    async def twilio(self, request: httpx.Request, path: dict[str, str]) -> httpx.Response:
        sid = path["sid"]
        if sid != ACCOUNT_SID or request.headers.get("authorization") != _basic():
            self.refused += 1
            return _twilio_error(401, 20003, "Authenticate")
        form: dict[str, list[str]] = {}
        for name, value in parse_qsl(request.content.decode(), keep_blank_values=True):
            form.setdefault(name, []).append(value)
        if not form.get("To") or not form.get("From"):
            self.refused += 1
            return _twilio_error(400, 21604, "A 'To' phone number is required.")
        if not (form.get("Body") or form.get("ContentSid") or form.get("MediaUrl")):
            self.refused += 1
            return _twilio_error(400, 21602, "Message body is required.")
        if not await self._download(form.get("MediaUrl", [])):
            return _twilio_error(400, 11200, "HTTP retrieval failure")
        await self._record(Call("twilio", request.url.path, form=form))
        return await self._answer(lambda: _message_resource(form, self._id("SM")))

    async def meta(self, request: httpx.Request, _path: dict[str, str]) -> httpx.Response:
        if request.headers.get("authorization") != f"Bearer {ACCESS_TOKEN}":
            self.refused += 1
            return _meta_error(401, 190, "Invalid OAuth access token.")
        body = json.loads(request.content)
        if not isinstance(body, dict) or not (_whatsapp_ok(body) or _messaging_ok(body)):
            self.refused += 1
            return _meta_error(400, 100, "(#100) Invalid parameter")
        if not await self._download(_meta_links(body)):
            return _meta_error(400, 131053, "Media upload error")
        await self._record(Call("meta", request.url.path, json=body))
        if body.get("messaging_product") == "whatsapp":
            to = body.get("to") or body.get("recipient")
            return await self._answer(lambda: _whatsapp_sent(to, self._id("wamid.")))
        user = body["recipient"]["id"]
        return await self._answer(lambda: {"recipient_id": user, "message_id": self._id("m_")})

    async def _record(self, call: Call) -> None:
        async with self.called:
            self.calls.append(call)
            self.called.notify_all()

    async def _answer(self, success: Any) -> httpx.Response:
        if self.hold is not None:
            await self.hold.wait()
        if self.fail_next:
            status, body = self.fail_next.popleft()
            return httpx.Response(status, json=body)
        status = 201 if "sid" in (answer := success()) else 200
        return httpx.Response(status, json=answer)

    def _id(self, prefix: str) -> str:
        return self.next_ids.popleft() if self.next_ids else prefix + secrets.token_hex(16)


@asynccontextmanager
async def providers_on(ctx: AppContext) -> AsyncIterator[Providers]:
    """Both doubles answering through ``ctx``'s HTTP port, for the duration of the block."""
    providers = Providers()
    ctx.http = providers.http
    try:
        yield providers
    finally:
        if providers.hold is not None:
            providers.hold.set()  # let held answers finish


@asynccontextmanager
async def serve_providers() -> AsyncIterator[Providers]:
    """Both doubles on one free local port, over real HTTP, for the duration of the
    block: for the tests of the real transport."""
    providers = Providers()
    async with serving_transport(providers.http) as url:
        providers.url = url
        try:
            yield providers
        finally:
            if providers.hold is not None:
                providers.hold.set()  # let held answers finish, or shutdown waits for them


def _basic() -> str:
    return "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()


_WHATSAPP_MEDIA = ("image", "video", "audio", "document")
#: What a template's media header may be (never audio).
_HEADER_MEDIA = ("image", "video", "document")


def _meta_links(body: dict[str, Any]) -> list[str]:
    kind = body.get("type")
    if kind in _WHATSAPP_MEDIA:
        return [body[kind]["link"]]
    if kind == "template":
        return [
            parameter[parameter["type"]]["link"]
            for component in body["template"].get("components", [])
            if component.get("type") == "header"
            for parameter in component.get("parameters", [])
            if parameter.get("type") in _HEADER_MEDIA
        ]
    attachment = body.get("message", {}).get("attachment")
    return [attachment["payload"]["url"]] if attachment else []


def _whatsapp_ok(body: dict[str, Any]) -> bool:
    if body.get("messaging_product") != "whatsapp" or not (body.get("to") or body.get("recipient")):
        return False
    if body.get("type") == "text":
        return bool(body.get("text", {}).get("body"))
    if body.get("type") in _WHATSAPP_MEDIA:
        media = body.get(body["type"], {})
        # Exactly one of id and link; audio takes no caption.
        return bool(media.get("link")) and not (body["type"] == "audio" and "caption" in media)
    template = body.get("template", {})
    headers = [c for c in template.get("components", []) if c.get("type") == "header"]
    # A media header parameter is an image, a video or a document with a link.
    media_ok = all(
        p.get("type") == "text" or (p.get("type") in _HEADER_MEDIA and p[p["type"]].get("link"))
        for header in headers
        for p in header.get("parameters", [])
    )
    return (
        body.get("type") == "template"
        and media_ok
        and bool(template.get("name") and template.get("language", {}).get("code"))
    )


def _messaging_ok(body: dict[str, Any]) -> bool:
    message = body.get("message", {})
    attachment = message.get("attachment")
    # A message is text or one attachment, never both.
    content = bool(message.get("text")) != bool(attachment)
    if attachment:
        content = content and attachment.get("type") in ("image", "video", "audio", "file")
        content = content and bool(attachment.get("payload", {}).get("url"))
    kind = body.get("messaging_type")
    tagged = kind == "MESSAGE_TAG" and body.get("tag") == "HUMAN_AGENT"
    return bool(body.get("recipient", {}).get("id")) and (kind == "RESPONSE" or tagged) and content


def _message_resource(form: dict[str, list[str]], sid: str) -> dict[str, Any]:
    return {
        "account_sid": ACCOUNT_SID,
        "api_version": "2010-04-01",
        "body": form.get("Body", [""])[0],
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": form["From"][0],
        "num_media": str(len(form.get("MediaUrl", []))),
        "num_segments": "1",
        "sid": sid,
        "status": "queued",
        "to": form["To"][0],
        "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}.json",
    }


def _whatsapp_sent(to: str, wamid: str) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "contacts": [{"input": to, "wa_id": to}],
        "messages": [{"id": wamid}],
    }


def twilio_error_body(status: int, code: int, message: str) -> dict[str, Any]:
    """Twilio's documented error body."""
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def meta_error_body(code: int, message: str, **more: Any) -> dict[str, Any]:
    """Meta's documented Graph error object."""
    return {
        "error": {
            "message": message,
            "type": "OAuthException",
            "code": code,
            "fbtrace_id": "AbCdEf123",
            **more,
        }
    }


def _twilio_error(status: int, code: int, message: str) -> httpx.Response:
    return httpx.Response(status, json=twilio_error_body(status, code, message))


def _meta_error(status: int, code: int, message: str) -> httpx.Response:
    return httpx.Response(status, json=meta_error_body(code, message))
