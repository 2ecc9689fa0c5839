"""Files in answers: an agent uploads them to the conversation, names them in the
answer, and each channel carries them its own way. The provider doubles download every
link they are given from the app, as Twilio and Meta do, so a link that does not serve
the file fails the send."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from opencx.features.context import AppContext
from opencx.features.conversations import media_links
from opencx.features.delivery.outbox import send_queued_message
from opencx.settings import ServerSettings
from opencx.testing import FakeClock
from tests.conftest import Caller
from tests.integration.messaging_providers import Providers
from tests.integration.test_directory_api import assert_problem
from tests.integration.test_outbound_messaging import (
    API,
    answer,
    message,
    messenger_conversation,
    sms_conversation,
    twilio_whatsapp_conversation,
    whatsapp_conversation,
)
from tests.integration.test_outbound_messaging import api as api  # the fixture
from tests.integration.test_outbound_messaging import providers as providers

PDF = b"%PDF-1.7 invoice 48213"
PNG = b"\x89PNG\r\n\x1a\n label"


@pytest.fixture(autouse=True)
def downloads_from_the_app(api: httpx.AsyncClient, providers: Providers) -> None:
    providers.fetch = api.get  # the ASGI client reaches the app whatever the host


async def upload(
    api: httpx.AsyncClient, caller: Caller, conversation_id: int, name: str, data: bytes, kind: str
) -> int:
    response = await api.post(
        f"{API}/conversations/{conversation_id}/attachments",
        files={"file": (name, data, kind)},
        headers=caller.headers,
    )
    assert response.status_code == 201, response.text
    assert response.json()["message_id"] is None
    return int(response.json()["id"])


async def test_a_whatsapp_answer_carries_a_document_meta_downloads(
    api: httpx.AsyncClient, admin: Caller, ctx: AppContext, providers: Providers
) -> None:
    cid = await whatsapp_conversation(api, admin)
    file_id = await upload(api, admin, cid, "Facture 48213.pdf", PDF, "application/pdf")
    sent = await answer(
        api, admin, cid, "whatsapp", body_text="Votre facture", attachment_ids=[file_id]
    )
    assert sent.status_code == 201, sent.text
    assert [(a["id"], a["message_id"]) for a in sent.json()["attachments"]] == [
        (file_id, sent.json()["id"])
    ]

    assert await send_queued_message(ctx, sent.json()["id"])
    (call,) = providers.calls
    document = call.json["document"]
    assert call.json["type"] == "document"
    assert (document["caption"], document["filename"]) == ("Votre facture", "Facture 48213.pdf")
    assert document["link"].startswith("https://support.example.com/media/")
    assert document["link"].endswith("/Facture%2048213.pdf")
    assert providers.downloads[document["link"]] == ("application/pdf", PDF)
    assert (await message(api, admin, sent.json()["id"]))["delivery_status"] == "sent"


async def test_an_mms_carries_its_images_with_the_text(
    api: httpx.AsyncClient, admin: Caller, ctx: AppContext, providers: Providers
) -> None:
    cid = await sms_conversation(api, admin)
    ids = [
        await upload(api, admin, cid, f"photo-{n}.png", PNG + bytes([n]), "image/png")
        for n in range(2)
    ]
    sent = await answer(api, admin, cid, "sms", body_text="Voici les photos", attachment_ids=ids)
    assert sent.status_code == 201, sent.text
    assert await send_queued_message(ctx, sent.json()["id"])
    (call,) = providers.calls
    assert call.form["Body"] == ["Voici les photos"]
    links = call.form["MediaUrl"]
    assert [providers.downloads[link] for link in links] == [
        ("image/png", PNG + bytes([n])) for n in range(2)
    ]


async def test_a_messenger_file_goes_alone(
    api: httpx.AsyncClient, admin: Caller, ctx: AppContext, providers: Providers
) -> None:
    cid = await messenger_conversation(api, admin)
    file_id = await upload(api, admin, cid, "label.png", PNG, "image/png")
    with_text = await answer(api, admin, cid, "messenger", attachment_ids=[file_id])
    assert_problem(with_text, 422, "opencx.invalid_input")
    assert "send the text in its own message" in with_text.json()["detail"]

    sent = await answer(api, admin, cid, "messenger", body_text="", attachment_ids=[file_id])
    assert sent.status_code == 201, sent.text
    assert await send_queued_message(ctx, sent.json()["id"])
    (call,) = providers.calls
    attachment = call.json["message"]["attachment"]
    assert attachment["type"] == "image"
    assert providers.downloads[attachment["payload"]["url"]] == ("image/png", PNG)


async def test_a_whatsapp_template_shows_its_file_as_media_header_through_meta(
    api: httpx.AsyncClient, admin: Caller, ctx: AppContext, clock: FakeClock, providers: Providers
) -> None:
    cid = await whatsapp_conversation(api, admin)
    clock.advance(30 * 3600)  # the customer-care window is closed: only a template goes
    invoice = await upload(api, admin, cid, "Facture 48213.pdf", PDF, "application/pdf")
    label = await upload(api, admin, cid, "label.png", PNG, "image/png")
    template = {"name": "invoice_ready", "language": "fr", "parameters": ["48213"]}

    sent = await answer(
        api, admin, cid, "whatsapp", body_text="", template=template, attachment_ids=[invoice]
    )
    assert sent.status_code == 201, sent.text
    assert await send_queued_message(ctx, sent.json()["id"])
    pictured = await answer(
        api,
        admin,
        cid,
        "whatsapp",
        body_text="",
        template={"name": "parcel_shipped", "language": "en_US"},
        attachment_ids=[label],
    )
    assert await send_queued_message(ctx, pictured.json()["id"])

    document, image = (call.json for call in providers.calls)
    assert document["type"] == "template"
    header, body = document["template"]["components"]
    (parameter,) = header["parameters"]
    assert (header["type"], parameter["type"]) == ("header", "document")
    assert parameter["document"]["filename"] == "Facture 48213.pdf"
    assert providers.downloads[parameter["document"]["link"]] == ("application/pdf", PDF)
    assert body == {"type": "body", "parameters": [{"type": "text", "text": "48213"}]}
    ((picture,),) = (c["parameters"] for c in image["template"]["components"])
    assert (picture["type"], set(picture["image"])) == ("image", {"link"})
    assert providers.downloads[picture["image"]["link"]] == ("image/png", PNG)


async def test_a_whatsapp_template_with_a_file_through_twilio_is_refused_when_written(
    api: httpx.AsyncClient, admin: Caller, ctx: AppContext, providers: Providers
) -> None:
    cid = await twilio_whatsapp_conversation(api, admin)
    invoice = await upload(api, admin, cid, "Facture 48213.pdf", PDF, "application/pdf")
    template = {"name": "HXb5b62575e6e4ff6129ad7c8efe1f983e", "language": "fr"}

    refused = await answer(api, admin, cid, "whatsapp", template=template, attachment_ids=[invoice])
    assert_problem(refused, 422, "opencx.invalid_input")
    assert "media is part of its content" in refused.json()["detail"]
    assert providers.calls == []

    # The file was not taken: the template goes without it, and the file may go alone.
    sent = await answer(api, admin, cid, "whatsapp", template=template)
    assert sent.status_code == 201, sent.text
    assert await send_queued_message(ctx, sent.json()["id"])
    alone = await answer(api, admin, cid, "whatsapp", body_text="", attachment_ids=[invoice])
    assert alone.status_code == 201, alone.text


async def test_files_that_a_channel_cannot_carry_are_refused_when_written(
    api: httpx.AsyncClient, admin: Caller, ctx: AppContext
) -> None:
    cid = await whatsapp_conversation(api, admin)
    two = [await upload(api, admin, cid, f"{n}.pdf", PDF, "application/pdf") for n in range(2)]
    refused = await answer(api, admin, cid, "whatsapp", attachment_ids=two)
    assert_problem(refused, 422, "opencx.invalid_input")
    assert "one file" in refused.json()["detail"]

    voice = await upload(api, admin, cid, "note.ogg", b"OggS voice", "audio/ogg")
    captioned = await answer(api, admin, cid, "whatsapp", attachment_ids=[voice])
    assert "audio file carries no text" in captioned.json()["detail"]

    template = {"name": "order_update", "language": "fr", "parameters": ["48213"]}
    two_headers = await answer(
        api, admin, cid, "whatsapp", body_text="", template=template, attachment_ids=two
    )
    assert_problem(two_headers, 422, "opencx.invalid_input")
    assert "one file at most: its media header" in str(two_headers.json())
    audio_header = await answer(
        api, admin, cid, "whatsapp", body_text="", template=template, attachment_ids=[voice]
    )
    assert_problem(audio_header, 422, "opencx.invalid_input")
    assert "an image, a video or a document" in audio_header.json()["detail"]

    nowhere = await answer(api, admin, cid, "whatsapp", attachment_ids=[999_999])
    assert_problem(nowhere, 422, "opencx.invalid_input")
    twice = await answer(api, admin, cid, "whatsapp", attachment_ids=[two[0], two[0]])
    assert_problem(twice, 422, "opencx.invalid_input")

    ctx.settings.server = ServerSettings(public_url=None)
    unreachable = await answer(api, admin, cid, "whatsapp", attachment_ids=[two[0]])
    assert_problem(unreachable, 422, "opencx.invalid_input")
    assert "OPENCX_SERVER__PUBLIC_URL" in unreachable.json()["detail"]
    ctx.settings.server = ServerSettings(public_url="https://support.example.com")

    first = await answer(api, admin, cid, "whatsapp", attachment_ids=[two[0]])
    assert first.status_code == 201, first.text
    again = await answer(api, admin, cid, "whatsapp", attachment_ids=[two[0]])
    assert_problem(again, 409, "opencx.conflict")

    # A file of another conversation is not this one's to send.
    customer = (await api.get(f"{API}/conversations/{cid}", headers=admin.headers)).json()
    other = (
        await api.post(
            f"{API}/conversations",
            json={"customer_id": customer["customer_id"], "subject": "Other"},
            headers=admin.headers,
        )
    ).json()["id"]
    theirs = await upload(api, admin, other, "x.pdf", PDF, "application/pdf")
    stolen = await answer(api, admin, cid, "whatsapp", attachment_ids=[theirs])
    assert_problem(stolen, 422, "opencx.invalid_input")
    messages = (await api.get(f"{API}/conversations/{cid}/messages", headers=admin.headers)).json()
    # Every refusal stored nothing: the one answer is the one accepted.
    outbound = [m["id"] for m in messages["items"] if m["direction"] == "outbound"]
    assert outbound == [first.json()["id"]]


async def test_media_links_serve_only_answer_files_and_cannot_be_forged(
    api: httpx.AsyncClient,
    admin: Caller,
    ctx: AppContext,
    providers: Providers,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cid = await whatsapp_conversation(api, admin)
    file_id = await upload(api, admin, cid, "a.pdf", PDF, "application/pdf")
    waiting = media_links.media_link(ctx.settings, file_id, "a.pdf")
    assert_problem(await api.get(waiting), 404, "opencx.not_found")  # not yet in an answer

    sent = await answer(api, admin, cid, "whatsapp", body_text="", attachment_ids=[file_id])
    link = media_links.media_link(ctx.settings, file_id, "a.pdf")
    served = await api.get(link)
    assert (served.status_code, served.content) == (200, PDF)
    assert served.headers["x-content-type-options"] == "nosniff"
    assert (await api.head(link)).status_code == 200

    token = link.split("/media/")[1].split("/")[0]
    forged = link.replace(token, token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    assert_problem(await api.get(forged), 404, "opencx.not_found")
    other_key: dict[str, Any] = {"secret_key": SecretStr("another-secret-key-0123456789")}
    elsewhere = ctx.settings.model_copy(
        update={"security": ctx.settings.security.model_copy(update=other_key)}
    )
    assert_problem(
        await api.get(media_links.media_link(elsewhere, file_id, "a.pdf")), 404, "opencx.not_found"
    )

    monkeypatch.setattr(media_links, "LINK_SECONDS", -1)
    assert_problem(await api.get(link), 404, "opencx.not_found")
    monkeypatch.undo()

    # The customer's own files never get a public link.
    inbound = await api.post(
        f"{API}/conversations/{cid}/messages",
        json={
            "channel": "whatsapp",
            "direction": "inbound",
            "author_kind": "customer",
            "body_text": "x",
        },
        headers=admin.headers,
    )
    theirs = await api.post(
        f"{API}/messages/{inbound.json()['id']}/attachments",
        files={"file": ("id.png", PNG, "image/png")},
        headers=admin.headers,
    )
    assert theirs.status_code == 201, theirs.text
    private = media_links.media_link(ctx.settings, theirs.json()["id"], "id.png")
    assert_problem(await api.get(private), 404, "opencx.not_found")
    assert sent.status_code == 201
