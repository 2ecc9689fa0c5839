"""The agent desktop in a real browser, over a real server: an agent signs in, goes
available, receives a visitor's web chat as a live offer, accepts it, reads the
visitor's words in the conversation and answers them; the visitor reads the answer in
the widget. The page is looked at in English and in French."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.browsing import Floor, Site
from tests.e2e.conftest import LiveServer

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

PASSWORD = "a long enough password"


def sign_in(browser: Any, server: LiveServer, center: Floor, *, locale: str = "en") -> Any:
    center.ok(center.api.patch(f"/users/{center.agent_id}", json={"password": PASSWORD}))
    page = browser.new_page(locale=locale)
    page.goto(f"{server.url}/login?lang={locale}")
    page.locator("input[name=email]").fill("lea@example.com")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("button[type=submit]").click()
    page.wait_for_url(f"{server.url}/desktop")
    page.locator('.connection[data-connection="connected"]').wait_for()
    return page


def start_chat(browser: Any, site: Site, server: LiveServer, question: str) -> Any:
    visitor = browser.new_page()
    visitor.goto(site.page("shop.html", server, lang="en"))
    widget = visitor.locator("#opencx-chat")
    widget.get_by_role("button", name="Chat with us").click()
    widget.get_by_label("Your name").fill("Ada Lovelace")
    widget.get_by_label("Your e-mail address").fill("ada@example.com")
    widget.get_by_label("How can we help?").fill(question)
    widget.get_by_role("button", name="Start the chat").click()
    return widget


def test_an_agent_takes_a_web_chat_from_offer_to_answer(
    browser: Any, site: Site, floor: tuple[LiveServer, Floor]
) -> None:
    server, center = floor
    center.widget(allowed_origins=[f"http://127.0.0.1:{site.port}"])
    center.presence("not_ready", "training")
    desk = sign_in(browser, server, center)

    presence = desk.get_by_role("combobox", name="Presence")
    assert presence.input_value() == "not_ready:training"
    presence.select_option("available")
    desk.locator('.presence[data-presence="available"]').wait_for()

    widget = start_chat(browser, site, server, "Where is my parcel 48213?")
    offer = desk.get_by_role("listitem").filter(has_text="Web chat")
    offer.get_by_role("button", name="Accept").click()

    desk.get_by_role("log").get_by_text("Where is my parcel 48213?").wait_for()
    reply = desk.get_by_role("textbox", name="Reply")
    reply.fill("It left our warehouse this morning.")
    desk.get_by_role("button", name="Send").click()

    widget.get_by_text("It left our warehouse this morning.").wait_for()
    desk.get_by_role("log").get_by_text("It left our warehouse this morning.").wait_for()
    assert reply.input_value() == ""
    assert desk.get_by_role("button", name="Transfer").is_enabled()
    assert desk.get_by_role("button", name="Wrap up").is_enabled()


def test_the_desktop_speaks_french_and_keeps_a_draft_across_a_reload(
    browser: Any, site: Site, floor: tuple[LiveServer, Floor]
) -> None:
    server, center = floor
    center.widget(allowed_origins=[f"http://127.0.0.1:{site.port}"])
    center.presence("available")
    desk = sign_in(browser, server, center, locale="fr")
    assert desk.get_by_role("combobox", name="Présence").input_value() == "available"

    start_chat(browser, site, server, "Mon alarme sonne la nuit")
    desk.get_by_role("button", name="Accepter").click()
    desk.get_by_role("log").get_by_text("Mon alarme sonne la nuit").wait_for()
    desk.get_by_role("textbox", name="Réponse").fill("Je regarde cela tout de suite")

    desk.reload()
    desk.get_by_role("log").get_by_text("Mon alarme sonne la nuit").wait_for()
    assert desk.get_by_role("textbox", name="Réponse").input_value() == (
        "Je regarde cela tout de suite"
    )
    assert desk.get_by_role("button", name="Clôturer").is_visible()


def test_a_chat_waiting_in_the_agents_queue_shows_in_their_waiting_inbox_live(
    browser: Any, site: Site, floor: tuple[LiveServer, Floor]
) -> None:
    """No offer reaches an agent on a break; the contact waiting in their queue still
    shows in their inbox's Waiting view, without a reload."""
    server, center = floor
    center.widget(allowed_origins=[f"http://127.0.0.1:{site.port}"])
    center.presence("not_ready", "break")
    desk = sign_in(browser, server, center)
    desk.get_by_role("tab", name="Waiting").click()
    desk.get_by_role("tabpanel").get_by_text("Nothing here.").wait_for()

    start_chat(browser, site, server, "Is the shop open on Sunday?")
    desk.get_by_role("tabpanel").get_by_text("Ada Lovelace").wait_for(timeout=10_000)
