"""The fakes of the HTTP and mail ports answer as their real counterparts do: a route's
handler with the path's parts, a 404 elsewhere, every request kept; a relay that keeps
what it took and refuses with an SMTP reply when told to."""

from __future__ import annotations

from email.message import EmailMessage

import httpx
import pytest

from opencx.features.ports import MailNotSent
from opencx.features.transports import http_client
from opencx.testing import FakeHttp, FakeMail


async def test_a_request_goes_to_the_matching_route_with_its_path_parts() -> None:
    fake = FakeHttp()
    fake.route("GET", "/v1/apps/{app}/reviews", lambda _r, p: httpx.Response(200, json=p))
    fake.route("GET", "/cdn/{name:path}", lambda _r, p: httpx.Response(200, json=p))
    fake.route("POST", "/v1/apps/{app}/reviews", lambda _r, _p: httpx.Response(201))

    async with http_client(fake, base_url="https://api.example.test") as client:
        reviews = await client.get("/v1/apps/682658836/reviews", params={"limit": "2"})
        created = await client.post("/v1/apps/682658836/reviews", json={"text": "Merci"})
        file = await client.get("/cdn/v/t1/photo.png")
        deeper = await client.get("/v1/apps/682658836/reviews/9")

    assert reviews.json() == {"app": "682658836"}
    assert created.status_code == 201
    assert file.json() == {"name": "v/t1/photo.png"}
    assert deeper.status_code == 404  # ``{app}`` is one segment, and nothing else matches
    assert [(r.method, r.url.path) for r in fake.requests] == [
        ("GET", "/v1/apps/682658836/reviews"),
        ("POST", "/v1/apps/682658836/reviews"),
        ("GET", "/cdn/v/t1/photo.png"),
        ("GET", "/v1/apps/682658836/reviews/9"),
    ]
    assert fake.requests[0].url.params["limit"] == "2"
    assert fake.requests[1].content == b'{"text":"Merci"}'


async def test_a_route_can_be_kept_to_one_host_and_answered_asynchronously() -> None:
    fake = FakeHttp()

    async def graph(_request: httpx.Request, _path: dict[str, str]) -> httpx.Response:
        return httpx.Response(200, json={"id": "wamid.1"})

    fake.route("POST", "/{version}/{node}/messages", graph, host="graph.facebook.test")
    async with http_client(fake) as client:
        ours = await client.post("https://graph.facebook.test/v21.0/1065/messages")
        elsewhere = await client.post("https://evil.example.test/v21.0/1065/messages")
    assert ours.json() == {"id": "wamid.1"}
    assert elsewhere.status_code == 404


def email(to: str) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "help@example.com", to, "Parcel"
    message.set_content("On its way.")
    return message


async def test_the_fake_relay_keeps_what_it_took_and_refuses_when_told() -> None:
    relay = FakeMail()
    relay.refuse_next(550, "5.1.1 No such user", times=2)
    for _ in range(2):
        with pytest.raises(MailNotSent) as refused:
            await relay.send(email("gone@example.com"))
        assert (refused.value.code, refused.value.reason) == (550, "(550, '5.1.1 No such user')")
    await relay.send(email("ada@example.com"), sender="bounce@example.com")

    (sent,) = relay.sent
    assert sent.message["To"] == "ada@example.com"
    assert (sent.sender, sent.recipients) == ("bounce@example.com", None)
