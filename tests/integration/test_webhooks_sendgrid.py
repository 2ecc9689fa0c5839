"""SendGrid Inbound Parse over HTTP: the reference example is accepted with the URL's
token and stored once however often it is posted, refused without it (nothing stored),
and becomes routed work in the mailbox's queue."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from opencx.core.enums import DeliveryStatus, Direction
from opencx.db.models import Attachment, Message, RoutingTask
from opencx.features.context import AppContext, transaction
from opencx.settings import SendGridSettings
from tests.conftest import Caller
from tests.integration.test_directory_api import assert_problem, post
from tests.unit.providers.sendgrid.recorded import load

TOKEN = "inbound-parse-token-0123456789"
URL = "/webhooks/sendgrid/inbound"


@pytest.fixture
def configured(ctx: AppContext) -> None:
    ctx.settings.sendgrid = SendGridSettings(inbound_token=SecretStr(TOKEN))


async def mailbox(client: httpx.AsyncClient, admin: Caller, **fields: Any) -> dict[str, Any]:
    queue = await post(client, admin, "/queues", {"name": "Factures", "channel": "email"})
    account = {
        "channel": "email",
        "provider": "smtp",
        "address": "Support@Parse.Example.com",
        "name": "Support",
        "queue_id": queue["id"],
        **fields,
    }
    await post(client, admin, "/channel-accounts", account)
    return queue


async def deliver(
    client: httpx.AsyncClient, name: str, *, params: dict[str, str] | None = None, **headers: str
) -> httpx.Response:
    recorded = load(name)
    return await client.post(
        URL,
        params={"token": TOKEN} if params is None else params,
        content=recorded.body,
        headers={"Content-Type": recorded.content_type, **headers},
    )


async def stored(ctx: AppContext) -> list[Message]:
    async with transaction(ctx) as session:
        return list(await session.scalars(select(Message).order_by(Message.id)))


@pytest.mark.usefixtures("configured")
async def test_the_reference_example_is_stored_once_and_routed_to_the_mailboxs_queue(
    client: httpx.AsyncClient, admin: Caller, ctx: AppContext
) -> None:
    queue = await mailbox(client, admin)
    first = await deliver(client, "sendgrid_inbound_parse")
    assert first.status_code == 200, first.text
    again = await deliver(client, "sendgrid_inbound_parse")
    assert again.status_code == 200, again.text

    [message] = await stored(ctx)
    assert message.direction is Direction.INBOUND
    assert message.provider_message_id == "5A3F2B1C.7080305@example.fr"
    assert message.body_text.startswith("Bonjour,\nLa facture jointe est erronée")
    assert message.metadata_["provider"] == "sendgrid"
    assert message.metadata_["recipient"] == "support@parse.example.com"
    async with transaction(ctx) as session:
        files = list(await session.scalars(select(Attachment)))
        task = await session.scalar(select(RoutingTask))
    assert [(f.filename, f.content_type) for f in files] == [
        ("facture_48213.pdf", "application/pdf")
    ]
    assert task is not None
    assert task.requested_queue_id == queue["id"]
    conversation = (
        await client.get(f"/api/v1/conversations/{message.conversation_id}", headers=admin.headers)
    ).json()
    assert conversation["subject"] == "Facture erronée - commande n°48213"
    assert conversation["queue_id"] == queue["id"]


@pytest.mark.usefixtures("configured")
async def test_a_wrong_or_missing_token_is_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, admin: Caller, ctx: AppContext
) -> None:
    await mailbox(client, admin)
    for params in ({"token": TOKEN[:-1] + "x"}, {"token": ""}, {}):
        refused = await deliver(client, "sendgrid_inbound_parse", params=params)
        assert_problem(refused, 403, "opencx.permission_denied")
    wrong_basic = "Basic " + base64.b64encode(b"sendgrid:guess").decode()
    refused = await deliver(client, "sendgrid_inbound_parse", params={}, Authorization=wrong_basic)
    assert_problem(refused, 403, "opencx.permission_denied")
    assert await stored(ctx) == []


@pytest.mark.usefixtures("configured")
async def test_basic_auth_in_the_url_is_accepted_and_raw_mode_keeps_the_original(
    client: httpx.AsyncClient, admin: Caller, ctx: AppContext
) -> None:
    await mailbox(client, admin)
    credentials = "Basic " + base64.b64encode(f"sendgrid:{TOKEN}".encode()).decode()
    response = await deliver(client, "sendgrid_raw_mime", params={}, Authorization=credentials)
    assert response.status_code == 200, response.text
    [message] = await stored(ctx)
    assert message.body_text == "Still nothing — here is the photo of the label."
    async with transaction(ctx) as session:
        files = await session.scalars(select(Attachment).where(Attachment.message_id == message.id))
        names = sorted(f.filename for f in files)
    assert names == ["label.png", "original.eml"]


@pytest.mark.usefixtures("configured")
async def test_a_new_contact_on_a_mailbox_that_acknowledges_is_acknowledged_once(
    client: httpx.AsyncClient, admin: Caller, ctx: AppContext
) -> None:
    await mailbox(client, admin, auto_ack_hours=48, locale="fr")
    for _ in range(2):
        assert (await deliver(client, "sendgrid_parsed_attachments")).status_code == 200
    inbound, acknowledgement = await stored(ctx)
    assert inbound.direction is Direction.INBOUND
    assert acknowledgement.direction is Direction.OUTBOUND
    assert acknowledgement.delivery_status is DeliveryStatus.QUEUED
    assert acknowledgement.metadata_["mailbox"] == "support@parse.example.com"
    assert "48" in acknowledgement.body_text


@pytest.mark.usefixtures("configured")
async def test_mail_for_no_mailbox_is_stored_in_no_queue(
    client: httpx.AsyncClient, ctx: AppContext
) -> None:
    assert (await deliver(client, "sendgrid_parsed_latin1_html")).status_code == 200
    [message] = await stored(ctx)
    assert "12,50 €" in message.body_text
    async with transaction(ctx) as session:
        task = await session.scalar(select(RoutingTask))
    assert task is not None
    assert task.requested_queue_id is None


@pytest.mark.usefixtures("configured")
async def test_a_post_sendgrid_would_not_send_is_unprocessable(
    client: httpx.AsyncClient, ctx: AppContext
) -> None:
    response = await client.post(URL, params={"token": TOKEN}, json={"email": "x"})
    assert_problem(response, 422, "opencx.invalid_input")
    async with transaction(ctx) as session:
        assert await session.scalar(select(func.count()).select_from(Message)) == 0


async def test_without_a_token_configured_the_endpoint_is_unavailable(
    client: httpx.AsyncClient, ctx: AppContext
) -> None:
    response = await deliver(client, "sendgrid_inbound_parse")
    body = assert_problem(response, 503, "opencx.unavailable")
    assert "OPENCX_SENDGRID__INBOUND_TOKEN" in body["detail"]
    assert await stored(ctx) == []
