"""One contact, end to end, as MISSION.md §2 tells it, in real browsers over a real
server: an agent takes a visitor's web chat, reads the customer's history and what the
delivery system says, answers with a suggested answer, asks a supervisor and reads the
answer, and hands the conversation to an expert with a note; the expert answers by
e-mail and wraps the contact up on the three reason axes. The visitor reads the first
answer in the widget, the second arrives in their mailbox (a real SMTP relay)."""

from __future__ import annotations

import http.server
import json
import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.e2e.browsing import Floor, Site
from tests.e2e.conftest import LiveServer, LiveServers, OpencxEnv, RunOpencx, free_port, wait_for
from tests.e2e.test_agent_desktop import PASSWORD, start_chat
from tests.e2e.test_email_inbound import Sink

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]


class DeliverySystem(http.server.BaseHTTPRequestHandler):
    """The company's delivery tracking: JSON about a customer, by e-mail address."""

    def do_GET(self) -> None:
        known = self.path == "/parcels/ada%40example.com"
        body = json.dumps({"parcel": {"number": "48213", "status": "In transit"}}).encode()
        self.send_response(200 if known else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body if known else b"{}")

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def center(
    database_url: str,
    live_servers: LiveServers,
    opencx_env: OpencxEnv,
    run_opencx: RunOpencx,
) -> Iterator[tuple[LiveServer, Floor, Sink, int]]:
    relay, relay_port = Sink(), free_port()
    controller = Controller(relay, hostname="127.0.0.1", port=relay_port)
    controller.start()
    delivery = http.server.ThreadingHTTPServer(("127.0.0.1", 0), DeliverySystem)
    threading.Thread(target=delivery.serve_forever, daemon=True).start()
    env = opencx_env(
        database_url,
        SMTP__ENABLED="false",
        SMTP_OUT__HOST="127.0.0.1",
        SMTP_OUT__PORT=str(relay_port),
        SMTP_OUT__STARTTLS="false",
        NETWORK__ALLOW_PRIVATE_DESTINATIONS="true",  # the delivery system runs here
    )
    server = live_servers.start(env)
    floor = Floor(server, env, run_opencx)
    try:
        yield server, floor, relay, delivery.server_address[1]
    finally:
        floor.api.close()
        floor.agent.close()
        delivery.shutdown()
        delivery.server_close()
        controller.stop()


def furnish(center: Floor, site: Site, delivery_port: int, run_opencx: RunOpencx) -> dict[str, Any]:
    """What an admin set up beforehand: the widget, a mailbox to answer from, an expert,
    a supervisor, the delivery connector, a saved answer and the reason trees."""
    api, ok = center.api, center.ok
    center.widget(
        allowed_origins=[f"http://127.0.0.1:{site.port}"], offline_mailbox="support@example.com"
    )
    mail_queue = ok(api.post("/queues", json={"name": "E-mail", "channel": "email"}), 201)
    account = {
        "channel": "email",
        "provider": "smtp",
        "address": "support@example.com",
        "name": "Acme Support",
        "queue_id": mail_queue["id"],
        "locale": "en",
    }
    ok(api.post("/channel-accounts", json=account), 201)
    ok(api.patch(f"/users/{center.agent_id}", json={"password": PASSWORD}))
    expert = {
        "email": "marc@example.com",
        "display_name": "Marc Expert",
        "role": "agent",
        "capacity": {"chat": 2, "email": 2},
        "password": PASSWORD,
    }
    marc = ok(api.post("/users", json=expert), 201)
    boss = {"email": "sam@example.com", "display_name": "Sam", "role": "supervisor"}
    ok(api.post("/users", json=boss), 201)
    supervisor_token = run_opencx(["token", "create", "--user", "sam@example.com"], center.env)
    connector = {
        "name": "Delivery tracking",
        "url_template": f"http://127.0.0.1:{delivery_port}/parcels/{{customer.email}}",
        "fields": [
            {"label": {"en": "Parcel"}, "path": "parcel.number", "format": "text"},
            {"label": {"en": "Parcel status"}, "path": "parcel.status", "format": "status"},
        ],
    }
    ok(api.post("/connectors", json=connector), 201)
    saved = {
        "title": "Parcel in transit",
        "body": "Hello {{ customer.name }}, your parcel is in transit and arrives tomorrow.",
        "locale": "en",
        "scope": "company",
    }
    ok(api.post("/canned-responses", json=saved), 201)
    # Ada wrote about an invoice last month: she is a known customer.
    ada = ok(api.post("/customers", json={"display_name": "Ada Lovelace"}), 201)
    identity = {"kind": "email", "value": "ada@example.com"}
    ok(api.post(f"/customers/{ada['id']}/identities", json=identity), 201)
    past = {"customer_id": ada["id"], "subject": "Invoice 2026-114 charged twice"}
    ok(api.post("/conversations", json=past), 201)
    reasons = {}
    for axis, code, label in (
        ("declaration", "late_parcel", "Late parcel"),
        ("qualification", "carrier_delay", "Carrier delay"),
        ("action", "refund", "Refund"),
    ):
        body = {"axis": axis, "code": code, "labels": {"en": label, "fr": label}}
        reasons[axis] = ok(api.post("/contact-reasons", json=body), 201)["id"]
    return {"marc": marc, "supervisor": supervisor_token.splitlines()[-1], "reasons": reasons}


def sign_in(browser: Any, server: LiveServer, email: str) -> Any:
    page = browser.new_page()
    page.goto(f"{server.url}/login?lang=en")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("button[type=submit]").click()
    page.wait_for_url(f"{server.url}/desktop")
    page.locator('.connection[data-connection="connected"]').wait_for()
    page.get_by_role("combobox", name="Presence").select_option("available")
    page.locator('.presence[data-presence="available"]').wait_for()
    return page


def test_a_contact_from_chat_offer_to_three_axis_wrap_up(
    browser: Any,
    site: Site,
    center: tuple[LiveServer, Floor, Sink, int],
    run_opencx: RunOpencx,
) -> None:
    server, floor, relay, delivery_port = center
    setup = furnish(floor, site, delivery_port, run_opencx)
    floor.presence("not_ready", "training")  # at her desk: the chat is open
    lea = sign_in(browser, server, "lea@example.com")

    widget = start_chat(browser, site, server, "Where is my parcel 48213?")
    # She proves her address with the code it was sent: the chat joins her history.
    code_mail = wait_for(lambda: [m for m in relay.messages if m["To"] == "ada@example.com"])[0]
    text = next(p for p in code_mail.walk() if p.get_content_type() == "text/plain")
    code = re.search(r"\b(\d{6})\b", text.get_payload(decode=True).decode())
    assert code, "the verification e-mail carries a six-digit code"
    widget.get_by_label("Code").fill(code.group(1))
    widget.get_by_role("button", name="Confirm").click()
    widget.get_by_text("Your e-mail address is confirmed.").wait_for()
    lea.get_by_role("listitem").filter(has_text="Web chat").get_by_role(
        "button", name="Accept"
    ).click()
    lea.get_by_role("log").get_by_text("Where is my parcel 48213?").wait_for()

    # The customer 360 and the delivery system, beside the conversation.
    context = lea.locator("cx-context")
    context.get_by_role("heading", name="Ada Lovelace").wait_for()
    tracking = context.get_by_role("region", name="Delivery tracking")
    tracking.get_by_text("In transit").wait_for()
    assert tracking.get_by_text("48213").is_visible()
    context.get_by_role("button", name="Invoice 2026-114 charged twice").wait_for()

    # A suggested answer, filled for this customer, edited in the box and sent.
    context.get_by_role("tab", name="Answers").click()
    suggestion = context.get_by_role("listitem").filter(has_text="Parcel in transit")
    suggestion.get_by_role("button", name="Use").click()
    reply = lea.get_by_role("textbox", name="Reply")
    assert reply.input_value().startswith("Hello Ada Lovelace, your parcel is in transit")
    lea.get_by_role("button", name="Send").click()
    widget.get_by_text("your parcel is in transit and arrives tomorrow").wait_for()

    # A question to a supervisor, answered live in the conversation.
    context.get_by_role("tab", name="Team").click()
    context.get_by_role("textbox", name="Your question").fill("May I refund the shipping?")
    context.get_by_role("button", name="Ask a supervisor").click()
    supervisor = {"Authorization": f"Bearer {setup['supervisor']}"}
    asked = wait_for(
        lambda: floor.api.get("/help-requests?state=open", headers=supervisor).json()["items"]
    )
    answer = {"answer": "Yes, refund the shipping fee."}
    floor.ok(
        floor.api.post(f"/help-requests/{asked[0]['id']}/answer", json=answer, headers=supervisor)
    )
    lea.get_by_role("log").get_by_text("Yes, refund the shipping fee.").wait_for()

    # A warm transfer to the expert, with a note.
    marc = sign_in(browser, server, "marc@example.com")
    lea.get_by_role("button", name="Transfer").click()
    dialog = lea.get_by_role("dialog", name="Transfer the conversation")
    dialog.get_by_role("combobox", name="Transfer to").select_option(
        label="Marc Expert (Available)"
    )
    dialog.get_by_role("textbox", name="Note for the next agent").fill("Refund the shipping fee")
    dialog.get_by_role("button", name="Transfer").click()
    offer = marc.get_by_role("listitem").filter(has_text="Web chat")
    offer.get_by_text("Note from the previous agent: Refund the shipping fee").wait_for()
    offer.get_by_role("button", name="Accept").click()
    log = marc.get_by_role("log")
    log.get_by_text("Where is my parcel 48213?").wait_for()
    assert log.get_by_text("Refund the shipping fee", exact=True).is_visible()
    lea.get_by_text("No conversation open.").wait_for()

    # The expert answers by e-mail, then codes the contact on the three axes.
    marc.get_by_role("combobox", name="Reply on").select_option(label="E-mail")
    marc.get_by_role("textbox", name="Reply").fill("The shipping fee is refunded.")
    marc.get_by_role("button", name="Send").click()
    sent = wait_for(
        lambda: [m for m in relay.messages if "shipping fee is refunded" in m.as_string()]
    )[0]
    assert sent["To"] == "ada@example.com"
    body = next(part for part in sent.walk() if part.get_content_type() == "text/plain")
    assert "The shipping fee is refunded." in body.get_payload(decode=True).decode()

    marc.get_by_role("button", name="Wrap up").click()
    wrap = marc.get_by_role("dialog", name="Wrap up the contact")
    wrap.get_by_role("combobox", name="What the customer said").fill("Late parcel")
    wrap.get_by_role("combobox", name="What it really was").fill("Carrier delay")
    wrap.get_by_role("combobox", name="What was done").fill("Refund")
    wrap.get_by_role("textbox", name="Summary").fill("Parcel late; shipping refunded.")
    wrap.get_by_role("button", name="Finish").click()
    marc.get_by_text("No conversation open.").wait_for()

    conversation = floor.api.get("/conversations", params={"status": "open"}).json()["items"][-1]
    timeline = floor.api.get(f"/conversations/{conversation['id']}/timeline").json()["items"]
    coded = [e["interaction"] for e in timeline if e["kind"] == "interaction"][-1]
    reasons = setup["reasons"]
    assert coded["declaration_reason_id"] == reasons["declaration"]
    assert coded["qualification_reason_id"] == reasons["qualification"]
    assert coded["action_reason_id"] == reasons["action"]
    assert coded["summary"] == "Parcel late; shipping refunded."
