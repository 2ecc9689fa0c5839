"""Request bodies over a real socket: the caller is checked before the body is read, and
a body is cut off at its route's limit while it streams in."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest

from opencx.features.context import AppContext
from opencx.settings import Settings
from opencx.web import create_app
from tests.conftest import Caller
from tests.integration.local_server import serving

CHUNK = 64 * 1024
#: What a well-behaved server has answered by, once it has what it needs (seconds).
ANSWER_WITHIN = 10.0
UPLOAD_LIMIT = 2 * 1024 * 1024


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    #: Body bytes we had written when the answer came.
    sent: int


@pytest.fixture
def settings(settings: Settings) -> Settings:
    settings.storage.max_upload_bytes = UPLOAD_LIMIT
    return settings


@pytest.fixture
async def server(ctx: AppContext) -> AsyncIterator[str]:
    async with serving(create_app(ctx)) as url:
        yield url


async def post(
    url: str,
    path: str,
    *,
    headers: dict[str, str],
    declared: int | None = None,
    most: int = 60 * 1024 * 1024,
    start: bytes = b"[",
) -> Answer:
    """POST up to ``most`` body bytes (``Content-Length: declared``, else chunked), writing
    only while no answer has come; the answer and how much was written by then."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    framing = {"Content-Length": str(declared)} if declared else {"Transfer-Encoding": "chunked"}
    head = {"Host": parts.netloc, **framing, **headers}
    lines = [f"POST {path} HTTP/1.1", *(f"{k}: {v}" for k, v in head.items()), "", ""]
    writer.write("\r\n".join(lines).encode())
    answered = asyncio.create_task(_read_answer(reader))
    try:
        return await _write_until_answered(writer, answered, declared, most, start)
    finally:
        answered.cancel()
        writer.close()


async def _write_until_answered(
    writer: asyncio.StreamWriter,
    answered: asyncio.Task[tuple[int, dict[str, str], bytes]],
    declared: int | None,
    most: int,
    start: bytes,
) -> Answer:
    sent = 0
    try:
        while sent < most and not answered.done():
            data = (start if sent == 0 else b"") + b"1," * (CHUNK // 2)
            writer.write(data if declared else b"%x\r\n%s\r\n" % (len(data), data))
            sent += len(data)
            await asyncio.wait([answered], timeout=0.005)
            if not answered.done():
                await asyncio.wait_for(writer.drain(), ANSWER_WITHIN)
    except (ConnectionError, TimeoutError):
        pass  # the server stopped reading: its answer says why
    status, answer_headers, body = await asyncio.wait_for(answered, ANSWER_WITHIN)
    return Answer(status, answer_headers, body, sent)


async def _read_answer(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    status_line = await reader.readline()
    headers = {}
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    body = await reader.readexactly(length) if length else b""
    return int(status_line.split()[1]), headers, body


def problem(answer: Answer) -> dict[str, object]:
    assert answer.headers["content-type"] == "application/problem+json"
    found: dict[str, object] = json.loads(answer.body)
    return found


async def test_a_big_post_without_a_token_is_refused_before_its_body_is_read(
    server: str,
) -> None:
    answer = await post(
        server,
        "/api/v1/customers",
        headers={"Content-Type": "application/json"},
        declared=60 * 1024 * 1024,
        most=256 * 1024,  # we stop writing early: only an answer without the body comes
    )
    assert answer.status == 401
    assert problem(answer)["code"] == "opencx.unauthenticated"


async def test_a_streamed_post_without_a_token_is_refused_having_read_little(
    server: str,
) -> None:
    answer = await post(
        server, "/api/v1/customers", headers={"Content-Type": "application/json"}, most=256 * 1024
    )
    assert answer.status == 401


async def test_a_chat_post_with_a_forged_token_is_refused_before_its_body(server: str) -> None:
    answer = await post(
        server,
        "/chat/messages",
        headers={"Content-Type": "application/json", "X-Chat-Token": "forged"},
        most=256 * 1024,
    )
    assert answer.status == 401


async def test_an_authenticated_body_past_the_limit_is_cut_off_while_it_streams(
    server: str, ctx: AppContext, admin: Caller
) -> None:
    limit = ctx.settings.limits.body_bytes
    most = 32 * 1024 * 1024
    answer = await post(
        server,
        "/api/v1/customers",
        headers={"Content-Type": "application/json", **admin.headers},
        most=most,
    )
    assert answer.status == 413
    assert problem(answer)["code"] == "opencx.too_large"
    assert problem(answer)["limit"] == limit
    # Answered before the end of the body (socket buffers hold a few MB of what we wrote).
    assert answer.sent < most


async def test_a_declared_length_past_the_limit_is_refused_before_reading(
    server: str, admin: Caller
) -> None:
    answer = await post(
        server,
        "/api/v1/customers",
        headers={"Content-Type": "application/json", **admin.headers},
        declared=60 * 1024 * 1024,
        most=256 * 1024,
    )
    assert answer.status == 413
    assert problem(answer)["limit"] == 1024 * 1024


async def test_an_upload_past_its_own_limit_is_cut_off_while_it_streams(
    server: str, ctx: AppContext, admin: Caller
) -> None:
    answer = await post(
        server,
        "/api/v1/conversations/1/attachments",
        headers={"Content-Type": "multipart/form-data; boundary=xyz", **admin.headers},
        most=64 * 1024 * 1024,
        start=(
            b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
            b"Content-Type: application/octet-stream\r\n\r\n"
        ),
    )
    assert answer.status == 413
    assert answer.sent < 64 * 1024 * 1024
    limit = problem(answer)["limit"]
    assert limit == UPLOAD_LIMIT + ctx.settings.limits.upload_overhead_bytes
