"""The reply box on the channels that add to it, in a real browser over a real server:
a customer wrote on WhatsApp more than a day ago, so the agent's WhatsApp answer can only
be an approved template, picked, filled in and previewed; the same agent then writes to
the customer by e-mail, with bold, a list, a link and a copy to a colleague, and the
relay (a real SMTP server) receives one multipart e-mail for both of them. On Messenger,
past a day the answer goes with Meta's Human Agent tag; past a week nothing can go."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, make_url, update

from opencx.db.models import Message
from tests.e2e.browsing import Floor
from tests.e2e.conftest import LiveServer, LiveServers, OpencxEnv, RunOpencx, free_port, wait_for
from tests.e2e.test_agent_desktop import PASSWORD
from tests.e2e.test_email_inbound import Sink

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

PAYLOADS = Path(__file__).parents[1] / "unit" / "providers" / "meta" / "payloads"
META_SECRET = "meta-test-app-secret-0123456789"  # what the recorded payloads are signed with
WHATSAPP_NUMBER_ID = "106540352242922"  # the number the recorded message was sent to


@pytest.fixture
def center(
    database_url: str, live_servers: LiveServers, opencx_env: OpencxEnv, run_opencx: RunOpencx
) -> Iterator[tuple[LiveServer, Floor, Sink]]:
    relay, relay_port = Sink(), free_port()
    controller = Controller(relay, hostname="127.0.0.1", port=relay_port)
    controller.start()
    env = opencx_env(
        database_url,
        SMTP__ENABLED="false",
        SMTP_OUT__HOST="127.0.0.1",
        SMTP_OUT__PORT=str(relay_port),
        SMTP_OUT__STARTTLS="false",
        META__APP_SECRET=META_SECRET,
        META__HUMAN_AGENT_TAG="true",  # the app holds Meta's Human Agent permission
    )
    server = live_servers.start(env)
    floor = Floor(server, env, run_opencx)
    try:
        yield server, floor, relay
    finally:
        floor.api.close()
        floor.agent.close()
        controller.stop()


def customer_wrote(server: LiveServer, floor: Floor, payload: str) -> dict[str, Any]:
    """A recorded Meta message, delivered signed as Meta delivers it; the conversation
    it started."""
    spec = json.loads((PAYLOADS / f"{payload}.request.json").read_text("utf-8"))
    headers = {k: v for k, v in spec["headers"].items() if k.lower() != "content-length"}
    body = (PAYLOADS / spec["body_file"]).read_bytes()
    delivered = httpx.post(f"{server.url}/webhooks/meta", content=body, headers=headers)
    assert delivered.status_code in (200, 204), delivered.text
    (conversation,) = wait_for(lambda: floor.api.get("/conversations").json()["items"])
    return dict(conversation)


def time_passes(database_url: str, channel: str, hours: int) -> None:
    """The customer's messages on ``channel`` reached us ``hours`` ago."""
    url = make_url(database_url)
    sync = "sqlite" if url.get_backend_name() == "sqlite" else "postgresql+psycopg"
    engine = create_engine(url.set(drivername=sync))
    try:
        with engine.begin() as conn:
            conn.execute(
                update(Message.__table__)
                .where(Message.__table__.c.channel == channel)
                .values(created_at=datetime.now(UTC) - timedelta(hours=hours))
            )
    finally:
        engine.dispose()


def open_conversation(browser: Any, server: LiveServer, floor: Floor, conversation_id: int) -> Any:
    """The agent's desktop, signed in, with the conversation open."""
    floor.ok(floor.api.patch(f"/users/{floor.agent_id}", json={"password": PASSWORD}))
    desk = browser.new_page()
    desk.goto(f"{server.url}/login?lang=en")
    desk.locator("input[name=email]").fill("lea@example.com")
    desk.locator("input[name=password]").fill(PASSWORD)
    desk.locator("button[type=submit]").click()
    desk.wait_for_url(f"{server.url}/desktop")
    desk.goto(f"{server.url}/desktop/conversations/{conversation_id}")
    desk.locator('.connection[data-connection="connected"]').wait_for()
    return desk


def test_a_template_past_the_whatsapp_window_then_a_formatted_email_with_a_copy(
    browser: Any, center: tuple[LiveServer, Floor, Sink], database_url: str
) -> None:
    server, floor, relay = center
    api, ok = floor.api, floor.ok
    mailbox = {"channel": "email", "provider": "smtp", "address": "support@example.com"}
    ok(api.post("/channel-accounts", json={**mailbox, "name": "Acme Support"}), 201)
    number = {"channel": "whatsapp", "provider": "meta", "address": WHATSAPP_NUMBER_ID}
    account = ok(api.post("/channel-accounts", json={**number, "name": "Acme WhatsApp"}), 201)
    template = {
        "name": "parcel_update",
        "language": "en",
        "body": "Hello {{1}}, your parcel {{2}} ships today.",
        "category": "utility",
    }
    ok(api.post(f"/channel-accounts/{account['id']}/whatsapp-templates", json=template), 201)
    conversation = customer_wrote(server, floor, "whatsapp_text_message")
    identity = {"kind": "email", "value": "ada@example.com"}
    ok(api.post(f"/customers/{conversation['customer_id']}/identities", json=identity), 201)
    time_passes(database_url, "whatsapp", hours=25)

    desk = open_conversation(browser, server, floor, conversation["id"])

    # WhatsApp, past its window: the reason, and a template instead of free text.
    reply_on = desk.get_by_role("combobox", name="Reply on")
    assert reply_on.input_value() == "whatsapp"
    desk.get_by_text(
        "The customer last wrote more than 24 hours ago: WhatsApp allows only approved templates."
    ).wait_for()
    assert desk.get_by_role("textbox", name="Reply").is_hidden()
    send = desk.get_by_role("button", name="Send")
    assert send.is_disabled()
    desk.get_by_role("combobox", name="Approved template").select_option(label="parcel_update (en)")
    desk.get_by_role("textbox", name="Value 1").fill("Ada")
    assert send.is_disabled()  # one value is still missing
    desk.get_by_role("textbox", name="Value 2").fill("48213")
    desk.get_by_text("Hello Ada, your parcel 48213 ships today.").wait_for()
    send.click()
    desk.get_by_role("log").get_by_text("Hello Ada, your parcel 48213 ships today.").wait_for()
    (sent,) = [
        m
        for m in api.get(f"/conversations/{conversation['id']}/messages").json()["items"]
        if m["direction"] == "outbound"
    ]
    assert sent["metadata"]["template"] == "parcel_update"
    assert json.loads(sent["metadata"]["template_params"]) == ["Ada", "48213"]

    # The same customer by e-mail: formatting from the toolbar and the keyboard, a copy.
    reply_on.select_option("email")
    reply = desk.get_by_role("textbox", name="Reply")
    toolbar = desk.get_by_role("toolbar", name="Formatting")
    toolbar.wait_for()
    reply.fill("Your parcel ships ")
    reply.press("End")
    reply.press("Control+b")
    reply.press_sequentially("today")
    reply.press("End")
    reply.press("Enter")
    reply.press("Enter")
    reply.press_sequentially("tracked")
    toolbar.get_by_role("button", name="Bulleted list").click()
    desk.once("dialog", lambda dialog: dialog.accept("https://track.example.com/48213"))
    reply.press("End")
    reply.press_sequentially(" ")
    toolbar.get_by_role("button", name="Link").click()
    assert reply.input_value() == (
        "Your parcel ships **today**\n\n- tracked [https://track.example.com/48213]"
        "(https://track.example.com/48213)"
    )
    cc = desk.get_by_role("textbox", name="Cc", exact=True)
    cc.fill("marc@example, ")
    assert send.is_disabled()
    assert cc.get_attribute("aria-invalid") == "true"
    cc.fill("marc@example.com")
    send.click()

    mail = wait_for(lambda: relay.messages)[0]
    assert mail["To"] == "ada@example.com"
    assert mail["Cc"] == "marc@example.com"
    assert mail.get_content_type() == "multipart/alternative"
    text, html = mail.get_payload()
    plain = text.get_payload(decode=True).decode().replace("\r\n", "\n")
    assert plain.startswith("Your parcel ships today\n\n- tracked https://track.example.com/48213")
    markup = html.get_payload(decode=True).decode()
    assert "<strong>today</strong>" in markup
    assert '<a href="https://track.example.com/48213">' in markup


def test_messenger_past_a_day_goes_with_the_human_agent_tag_and_past_a_week_waits(
    browser: Any, center: tuple[LiveServer, Floor, Sink], database_url: str
) -> None:
    server, floor, _ = center
    page = {"channel": "messenger", "provider": "meta", "address": "104612345678901"}
    floor.ok(floor.api.post("/channel-accounts", json={**page, "name": "Acme page"}), 201)
    conversation = customer_wrote(server, floor, "messenger_text_message")
    time_passes(database_url, "messenger", hours=3 * 24)
    desk = open_conversation(browser, server, floor, conversation["id"])

    assert desk.get_by_role("combobox", name="Reply on").input_value() == "messenger"
    desk.get_by_text("this answer goes with Meta's Human Agent tag, possible until").wait_for()
    desk.get_by_role("textbox", name="Reply").fill("Still there?")
    desk.get_by_role("button", name="Send").click()
    desk.get_by_role("log").get_by_text("Still there?").wait_for()

    time_passes(database_url, "messenger", hours=8 * 24)
    desk.reload()
    desk.get_by_text(
        "No answer is possible on Messenger until the customer writes again: they last "
        "wrote more than 7 days ago."
    ).wait_for()
    assert desk.get_by_role("button", name="Send").is_disabled()
