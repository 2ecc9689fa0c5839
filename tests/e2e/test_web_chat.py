"""The web chat in a real browser (Debian's Chromium driven by Playwright): a visitor on
a customer's site opens the widget, sees their place in the queue and the estimated
wait, an agent takes the chat and answers through the API, and the visitor reads the
answer; the widget follows the page's language and invites by rule."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.browsing import Floor, Site
from tests.e2e.conftest import LiveServer, LiveServers, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]


def test_a_visitor_waits_in_the_queue_then_chats_with_an_agent(
    browser: Any, site: Site, floor: tuple[LiveServer, Floor]
) -> None:
    server, center = floor
    center.widget(allowed_origins=[f"http://127.0.0.1:{site.port}"])
    center.presence("not_ready", "training")  # logged in, busy: the visitor will wait
    page = browser.new_page()
    page.goto(site.page("shop.html", server, lang="en"))

    widget = page.locator("#opencx-chat")
    widget.get_by_role("button", name="Chat with us").click()
    widget.get_by_label("Your name").fill("Ada Lovelace")
    widget.get_by_label("Your e-mail address").fill("ada@example.com")
    widget.get_by_label("How can we help?").fill("Where is my parcel 48213?")
    widget.get_by_role("button", name="Start the chat").click()

    status = widget.locator("[data-role=status]")
    # 240 s of expected handling over the agent's 2 chat slots: about 2 minutes (shown
    # once the router has written the queue's figures, about every second).
    status.get_by_text("You are number 1 in the queue. Estimated wait: 2 minutes.").wait_for()

    (conversation,) = center.ok(center.api.get("/conversations"))["items"]
    assert conversation["subject"] == "Where is my parcel 48213?"
    customer = center.ok(center.api.get(f"/customers/{conversation['customer_id']}"))
    assert customer["display_name"] == "Ada Lovelace"

    center.presence("available")
    center.take_offer()
    status.get_by_text("Léa joined the chat.").wait_for()
    typing = center.agent.post(f"/conversations/{conversation['id']}/typing")
    assert typing.status_code == 204, typing.text
    status.get_by_text("Léa is typing…").wait_for()
    answer = center.agent.post(
        f"/conversations/{conversation['id']}/messages",
        json={
            "channel": "chat",
            "direction": "outbound",
            "author_kind": "agent",
            "body_text": "It left our warehouse this morning.",
        },
    )
    message = center.ok(answer, 201)
    widget.get_by_text("It left our warehouse this morning.").wait_for()

    # The visitor answers; the agent reads it in the conversation.
    widget.get_by_role("textbox", name="Write a message…").fill("Thank you!")
    widget.get_by_role("button", name="Send").click()
    path = f"/conversations/{conversation['id']}/messages"
    bodies = wait_for(
        lambda: (
            [m["body_text"] for m in center.ok(center.agent.get(path))["items"]][-1] == "Thank you!"
        )
    )
    assert bodies
    # The browser said it had the answer, and that the visitor saw it.
    wait_for(
        lambda: (
            center.ok(center.agent.get(f"/messages/{message['id']}"))["delivery_status"] == "read"
        )
    )

    # A reload resumes the same chat, with its whole history.
    page.reload()
    widget = page.locator("#opencx-chat")
    widget.get_by_text("It left our warehouse this morning.").wait_for()
    assert widget.locator(".msg").count() == 3
    page.close()


def test_the_widget_speaks_the_pages_language_and_invites_by_rule(
    browser: Any, site: Site, floor: tuple[LiveServer, Floor]
) -> None:
    server, center = floor
    center.widget(
        invitations=[
            {
                "path_prefix": "/checkout",
                "seconds_on_page": 1,
                "min_cart_value": 100,
                "message_en": "Need help with your order?",
                "message_fr": "Besoin d'aide pour votre commande ?",
            }
        ]
    )
    center.presence("available")
    page = browser.new_page()
    (site.root / "checkout").mkdir()
    page.goto(site.page("checkout/cart.html", server, lang="fr", extra='data-cart-value="80"'))
    widget = page.locator("#opencx-chat")
    widget.get_by_role("button", name="Discutons").wait_for()
    page.wait_for_timeout(1500)
    assert widget.get_by_text("Besoin d'aide pour votre commande ?").count() == 0  # cart: 80
    page.evaluate("window.OpenCX.setCartValue(120)")
    widget.get_by_text("Besoin d'aide pour votre commande ?").wait_for()
    widget.get_by_role("button", name="Démarrer la discussion").click()
    assert widget.get_by_label("Votre nom").is_visible()
    page.close()


def test_a_chat_survives_a_server_restart_without_losing_or_doubling_a_message(
    browser: Any, site: Site, floor: tuple[LiveServer, Floor], live_servers: LiveServers
) -> None:
    server, center = floor
    center.widget()
    center.presence("available")
    page = browser.new_page()
    page.goto(site.page("help.html", server, lang="en"))
    widget = page.locator("#opencx-chat")
    widget.get_by_role("button", name="Chat with us").click()
    widget.get_by_label("Your name").fill("Grace")
    widget.get_by_label("How can we help?").fill("My alarm beeps")
    widget.get_by_role("button", name="Start the chat").click()
    center.take_offer()
    status = widget.locator("[data-role=status]")
    status.get_by_text("Léa joined the chat.").wait_for()

    server.stop()  # the server goes away mid-chat
    status.get_by_text("Connection lost. Reconnecting…").wait_for()
    widget.get_by_role("textbox", name="Write a message…").fill("Are you still there?")
    widget.get_by_role("button", name="Send").click()  # kept by the browser meanwhile
    live_servers.start(center.env, name="restarted", port=server.port)

    (conversation,) = center.ok(center.api.get("/conversations"))["items"]
    path = f"/conversations/{conversation['id']}/messages"
    texts = wait_for(
        lambda: [
            m["body_text"]
            for m in center.ok(center.agent.get(path))["items"]
            if m["body_text"] == "Are you still there?"
        ]
    )
    center.ok(
        center.agent.post(
            path,
            json={
                "channel": "chat",
                "direction": "outbound",
                "author_kind": "agent",
                "body_text": "Yes, still here.",
            },
        ),
        201,
    )
    widget.get_by_text("Yes, still here.").wait_for()
    assert texts == ["Are you still there?"]  # sent once, stored once
    bodies = [m["body_text"] for m in center.ok(center.agent.get(path))["items"]]
    assert bodies.count("Are you still there?") == 1
    assert widget.locator(".msg.pending").count() == 0
    page.close()
