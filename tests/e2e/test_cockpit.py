"""The supervisor cockpit in a real browser, over a real server: a supervisor signs in,
lands on the cockpit and watches a queue's waiting count rise live as chats arrive;
closes a site in one click and sees the next contact go to the other site's agent; a
partner site's supervisor sees only their own site; a threshold set in its dialog is
crossed, marked and announced; an agent's state forced from the Agents table changes
their row live. Nothing on the page polls: every change shown here comes over
/ws/supervisor."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.e2e.browsing import Floor
from tests.e2e.conftest import LiveServer, RunOpencx, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

PASSWORD = "a long enough password"


def person(center: Floor, email: str, name: str, role: str, site_id: int | None = None) -> int:
    body: dict[str, Any] = {"email": email, "display_name": name, "role": role}
    if site_id is not None:
        body["site_id"] = site_id
    if role == "agent":
        body["capacity"] = {"chat": 2}
    created = center.ok(center.api.post("/users", json=body), 201)
    center.ok(center.api.patch(f"/users/{created['id']}", json={"password": PASSWORD}))
    return int(created["id"])


def sign_in(
    browser: Any, server: LiveServer, email: str, *, locale: str = "en", password: str = PASSWORD
) -> Any:
    page = browser.new_page(locale=locale, viewport={"width": 1400, "height": 900})
    page.goto(f"{server.url}/login?lang={locale}")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(password)
    page.locator("button[type=submit]").click()
    page.wait_for_url(f"{server.url}/cockpit")
    page.locator('.connection[data-connection="connected"]').wait_for()
    return page


def chat(server: LiveServer, name: str) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as http:
        wait_for(lambda: http.get("/chat/widgets/acme-web").json()["online"])
        started = http.post(
            "/chat/widgets/acme-web/chats",
            json={"name": name, "email": f"{name.lower()}@example.com", "intent": "Hello"},
        )
        assert started.status_code == 201, started.text
        assert started.json()["mode"] == "chat"


def waiting_cell(page: Any, queue: str) -> Any:
    table = page.get_by_role("table", name="Queues")
    row = table.get_by_role("row").filter(has=page.get_by_role("rowheader", name=queue))
    return row.locator("td.waiting")


def test_a_supervisor_watches_the_waiting_count_rise_live(
    browser: Any, floor: tuple[LiveServer, Floor]
) -> None:
    server, center = floor
    center.widget()
    center.presence("not_ready", "training")  # logged in, taking nothing: chats wait
    person(center, "nadia@example.com", "Nadia Roux", "supervisor")
    cockpit = sign_in(browser, server, "nadia@example.com")

    waiting = waiting_cell(cockpit, "Web chat")
    assert waiting.inner_text() == "0"
    agents = cockpit.get_by_role("table", name="Agents")
    lea = agents.get_by_role("row").filter(has=cockpit.get_by_role("rowheader", name="Léa"))
    assert "Not ready" in lea.inner_text()

    chat(server, "Ada")
    cockpit.locator("#queues td.waiting", has_text="1").wait_for()
    chat(server, "Grace")
    cockpit.locator("#queues td.waiting", has_text="2").wait_for()
    assert waiting.inner_text() == "2"

    center.presence("available")  # Léa is offered both chats: offered still waits
    lea.get_by_text("Available").wait_for()
    offers = wait_for(
        lambda: center.agent.get("/reservations", params={"state": "pending"}).json()["items"]
    )
    center.ok(center.agent.post(f"/reservations/{offers[0]['id']}/accept"))
    cockpit.locator("#queues td.waiting", has_text="1").wait_for()
    assert lea.locator("td.contacts").inner_text() == "1"  # one contact in hand


def test_closing_a_site_sends_new_contacts_to_the_other_one(
    browser: Any, floor: tuple[LiveServer, Floor], run_opencx: RunOpencx
) -> None:
    server, center = floor
    center.widget()
    lyon = center.ok(center.api.post("/sites", json={"name": "Lyon"}), 201)["id"]
    porto = center.ok(center.api.post("/sites", json={"name": "Porto"}), 201)["id"]
    center.ok(center.api.patch(f"/users/{center.agent_id}", json={"site_id": lyon}))
    marc = person(center, "marc@example.com", "Marc", "agent", porto)
    token = run_opencx(["token", "create", "--user", "marc@example.com"], center.env)
    marc_api = httpx.Client(
        base_url=f"{server.url}/api/v1",
        headers={"Authorization": f"Bearer {token.splitlines()[-1]}"},
        timeout=10,
    )
    center.ok(marc_api.put(f"/users/{marc}/presence", json={"state": "available"}))
    center.presence("available")
    person(center, "nadia@example.com", "Nadia Roux", "supervisor")
    cockpit = sign_in(browser, server, "nadia@example.com")

    sites = cockpit.get_by_role("table", name="Sites")
    row = sites.get_by_role("row").filter(has=cockpit.get_by_role("rowheader", name="Lyon"))
    assert "Open" in row.locator("td.state").inner_text()
    row.get_by_role("button", name="Close", exact=True).click()
    row.locator("td.state", has_text="Closed").wait_for()
    cockpit.get_by_text("Lyon is now closed").wait_for()
    assert row.get_by_role("button", name="Open", exact=True).is_enabled()

    chat(server, "Ada")
    offers = wait_for(
        lambda: center.api.get("/reservations", params={"state": "pending"}).json()["items"]
    )
    assert [o["worker_id"] for o in offers] == [marc]  # not Léa, whose site is closed
    center.ok(marc_api.post(f"/reservations/{offers[0]['id']}/accept"))
    other = sites.get_by_role("row").filter(has=cockpit.get_by_role("rowheader", name="Porto"))
    other.locator("td.num").nth(1).filter(has_text="1").wait_for()  # Marc, on a contact
    marc_api.close()


def test_a_partner_supervisor_sees_only_their_site(
    browser: Any, floor: tuple[LiveServer, Floor]
) -> None:
    server, center = floor
    lyon = center.ok(center.api.post("/sites", json={"name": "Lyon"}), 201)["id"]
    dakar = center.ok(center.api.post("/sites", json={"name": "Dakar", "kind": "partner"}), 201)[
        "id"
    ]
    center.ok(center.api.patch(f"/users/{center.agent_id}", json={"site_id": lyon}))
    person(center, "awa@example.com", "Awa", "agent", dakar)
    center.ok(
        center.api.post(
            "/queues", json={"name": "Dakar chat", "channel": "chat", "site_id": dakar}
        ),
        201,
    )
    person(center, "moussa@example.com", "Moussa", "supervisor", dakar)
    cockpit = sign_in(browser, server, "moussa@example.com", locale="fr")

    sites = cockpit.get_by_role("table", name="Sites")
    sites.get_by_role("rowheader", name="Dakar").wait_for()
    assert sites.get_by_role("rowheader").all_inner_texts() == ["Dakar"]
    agents = cockpit.get_by_role("table", name="Conseillers")
    assert agents.get_by_role("rowheader", name="Awa", exact=True).count() == 1
    assert agents.get_by_role("rowheader", name="Léa").count() == 0  # another site's agent
    queues = cockpit.get_by_role("table", name="Files d'attente")
    assert queues.get_by_role("rowheader", name="Dakar chat", exact=True).count() == 1
    assert queues.get_by_role("rowheader").count() == 1


def queue_row(page: Any, queue: str) -> Any:
    table = page.get_by_role("table", name="Queues")
    return table.get_by_role("row").filter(has=page.get_by_role("rowheader", name=queue))


def test_a_crossed_threshold_is_marked_and_announced(
    browser: Any, floor: tuple[LiveServer, Floor]
) -> None:
    server, center = floor
    center.widget()
    center.presence("not_ready", "training")  # logged in, taking nothing: chats wait
    person(center, "nadia@example.com", "Nadia Roux", "supervisor")
    cockpit = sign_in(browser, server, "nadia@example.com")
    row = queue_row(cockpit, "Web chat")
    # Léa serves the queue, not ready: away; her two chat slots set the estimate
    # (no contact handled today: the queue's expected 240 s per contact).
    assert row.locator("td.staff .away").inner_text().startswith("1")
    assert row.locator("td.estimated").inner_text() == "2:00"
    # The day's chart, with its figures as a table for whoever does not see it.
    assert cockpit.get_by_label("Queue", exact=True).input_value() == str(center.queue_id)
    assert cockpit.get_by_role("img", name="Contacts offered (bars)").count() == 1
    cockpit.get_by_text("Show the figures as a table").click()
    day = cockpit.get_by_role("table", name="The day per 15 minutes")
    assert day.get_by_role("row").last.inner_text() == "no contact yet"

    row.get_by_role("button", name="Thresholds of Web chat").click()
    dialog = cockpit.get_by_role("dialog", name="Thresholds of Web chat")
    dialog.get_by_label("Most contacts waiting").fill("1")
    dialog.get_by_role("button", name="Save").click()
    dialog.wait_for(state="hidden")
    assert cockpit.locator("#alerts").is_hidden()

    chat(server, "Ada")
    cockpit.locator("#queues td.waiting", has_text="1").wait_for()
    assert cockpit.locator("#alerts").is_hidden()  # one waiting: not more than 1
    chat(server, "Grace")
    alert = cockpit.get_by_role("alert").filter(has_text="Web chat: 2 waiting, more than 1.")
    alert.wait_for()
    cockpit.get_by_role("list", name="Thresholds crossed").get_by_text(
        "Web chat: 2 waiting, more than 1."
    ).wait_for()
    assert row.locator("td.waiting").get_attribute("data-crossed") == ""
    assert row.locator("td.estimated").inner_text() == "6:00"  # third in line, 2 slots

    center.presence("available")  # Léa takes the chats: the alert clears
    center.take_offer()
    cockpit.locator("#alerts").wait_for(state="hidden")
    assert row.locator("td.waiting").get_attribute("data-crossed") is None


def test_forcing_an_agent_state_changes_their_row_live(
    browser: Any, floor: tuple[LiveServer, Floor]
) -> None:
    server, center = floor
    center.presence("not_ready", "lunch")
    person(center, "nadia@example.com", "Nadia Roux", "supervisor")
    cockpit = sign_in(browser, server, "nadia@example.com", locale="fr")
    agents = cockpit.get_by_role("table", name="Conseillers")
    lea = agents.get_by_role("row").filter(has=cockpit.get_by_role("rowheader", name="Léa"))
    assert "Indisponible" in lea.locator("td.state").inner_text()

    lea.get_by_role("button", name="Changer l'état de Léa").click()
    dialog = cockpit.get_by_role("dialog", name="Changer l'état de Léa")
    dialog.get_by_label("Nouvel état").select_option("available")
    dialog.get_by_role("button", name="Appliquer").click()
    lea.locator("td.state", has_text="Disponible").wait_for()

    # Taking her offline asks for a second, explicit click.
    lea.get_by_role("button", name="Changer l'état de Léa").click()
    dialog.get_by_label("Nouvel état").select_option("offline")
    dialog.get_by_text("Léa passera hors ligne").wait_for()
    dialog.get_by_role("button", name="Mettre hors ligne").click()
    lea.locator("td.state", has_text="Hors ligne").wait_for()
    state = center.ok(center.api.get(f"/users/{center.agent_id}"))
    assert state["presence"] == "offline"


def test_a_contact_in_hand_is_reassigned_to_another_agent(
    browser: Any, floor: tuple[LiveServer, Floor]
) -> None:
    server, center = floor
    center.widget()
    center.presence("available")
    chat(server, "Ada")
    center.take_offer()  # Léa has Ada's chat in hand
    marc = person(center, "marc@example.com", "Marc", "agent")
    center.ok(center.api.put(f"/users/{marc}/presence", json={"state": "available"}))
    person(center, "nadia@example.com", "Nadia Roux", "supervisor")
    cockpit = sign_in(browser, server, "nadia@example.com")
    agents = cockpit.get_by_role("table", name="Agents")
    lea = agents.get_by_role("row").filter(has=cockpit.get_by_role("rowheader", name="Léa"))
    assert lea.locator("td.contacts").inner_text() == "1"

    lea.get_by_role("button", name="Reassign a contact of Léa").click()
    dialog = cockpit.get_by_role("dialog", name="Reassign a contact of Léa")
    dialog.get_by_label("Give it to").select_option(label="Marc")
    dialog.get_by_label("Note for the next agent (optional)").fill("She asked for a refund")
    dialog.get_by_role("button", name="Reassign").click()
    lea.locator("td.contacts", has_text="0").wait_for()  # Léa wraps up; Ada goes to Marc
    offers = wait_for(
        lambda: center.api.get("/reservations", params={"state": "pending"}).json()["items"]
    )
    assert [offer["worker_id"] for offer in offers] == [marc]


def test_a_supervisor_views_a_conversation_silently(
    browser: Any, floor: tuple[LiveServer, Floor]
) -> None:
    server, center = floor
    center.widget()
    center.presence("available")
    chat(server, "Ada")
    offer = center.take_offer()
    task = center.ok(center.agent.get(f"/tasks/{offer['task_id']}"))
    interaction = center.ok(center.agent.get(f"/interactions/{task['interaction_id']}"))
    sent = center.agent.post(
        f"/conversations/{interaction['conversation_id']}/messages",
        json={
            "channel": "chat",
            "direction": "outbound",
            "author_kind": "agent",
            "interaction_id": task["interaction_id"],
            "body_text": "Hello Ada, how can I help?",
        },
    )
    assert sent.status_code == 201, sent.text
    before = center.ok(center.api.get(f"/conversations/{interaction['conversation_id']}/timeline"))
    person(center, "nadia@example.com", "Nadia Roux", "supervisor")
    cockpit = sign_in(browser, server, "nadia@example.com")
    agents = cockpit.get_by_role("table", name="Agents")
    lea = agents.get_by_role("row").filter(has=cockpit.get_by_role("rowheader", name="Léa"))

    lea.get_by_role("button", name="View the conversation of Léa silently").click()
    dialog = cockpit.get_by_role("dialog", name="View the conversation of Léa silently")
    log = dialog.get_by_role("log", name="Conversation history")
    log.get_by_text("Hello Ada, how can I help?").wait_for()
    assert dialog.get_by_role("textbox").count() == 0  # nothing to write with
    dialog.get_by_role("button", name="Close").click()
    dialog.wait_for(state="hidden")
    after = center.ok(center.api.get(f"/conversations/{interaction['conversation_id']}/timeline"))
    assert after == before  # no trace left in the conversation
