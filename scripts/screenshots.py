"""Photograph the agent desktop, the supervisor cockpit and the admin console for
docs/screenshots/, in English and in French.

Starts ``opencx demo`` on a fresh database in a temporary folder, plays a short scene
— a visitor asks a question in the web chat, a customer writes an e-mail — has the demo
agent take both in the desktop, answer the chat and start answering the e-mail beside
what the demo's CRM says of that customer (one of the demo's own), then saves one
screenshot per language. For the cockpit it gives the floor some life (chats waiting,
one in hand, agents on breaks, a site draining, a question from an agent) and
photographs the demo supervisor's view. For the admin console it saves a routing workflow
(French VIP chats first) and photographs a dry run of it, then the demo's office hours
with their holidays. Needs Debian's ``chromium`` and the ``dev`` extra
(Playwright)::

    .venv/bin/python scripts/screenshots.py

Prints, for each language, the time from the click on "Sign in" to the desktop's first
useful paint (the offers list and the presence menu shown, live); the password check
is part of it (``bench/desktop_paint.py`` measures the desktop alone).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import sync_playwright

from opencx.testing.demo_server import DEMO_PASSWORD, DemoServer

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
AGENT = ("agent@demo.opencx.dev", DEMO_PASSWORD)
SUPERVISOR = ("supervisor@demo.opencx.dev", DEMO_PASSWORD)
ADMIN = ("admin@demo.opencx.dev", DEMO_PASSWORD)
#: What the admin console's photographs click, by language.
CONSOLE = {
    "en": {"try": "Try it", "language": "Language", "vip": "VIP customer", "edit": "Edit"},
    "fr": {"try": "Essayer", "language": "Langue", "vip": "Client VIP", "edit": "Modifier"},
}
#: Visitors who write in the web chat while the cockpit is photographed.
VISITORS = ("Grace Hopper", "Alan Turing", "Ada Lovelace", "Edsger Dijkstra")
#: Presences given to the demo's agents, in turn, so the floor is not all offline.
PRESENCES = (
    ("available", None),
    ("not_ready", "break"),
    ("available", None),
    ("not_ready", "training"),
    ("available", None),
    ("not_ready", "lunch"),
    ("offline", None),
)
COCKPIT = {
    "en": {"queues": "Queues", "question": "May I refund the delivery fee twice?"},
    "fr": {
        "queues": "Files d'attente",
        "question": "Puis-je rembourser deux fois les frais de livraison ?",
    },
}
SCENES = {
    "en": {
        "presence": "Presence",
        "widget": (
            "Chat with Vigilo",
            "Your name",
            "Your e-mail address",
            "How can we help?",
            "Start the chat",
            "Write a message…",
            "Send",
        ),
        "accept": "Accept",
        "reply": "Reply",
        "send": "Send",
        "question": "Hello, my alarm has been beeping every night since Tuesday. What can I do?",
        "answer": "Hello Grace, a beep every night means the siren's battery is low. "
        "I am sending you a new one today.",
        "thanks": "Perfect, thank you!",
        "mail_subject": "Invoice 2026-114 charged twice",
        "draft": "Hello Louis, you are right: the second payment is refunded today. "
        "You will see it on your account within three days.",
        "mail_body": "Hello,\n\nI was charged twice for invoice 2026-114 this month. "
        "Could you refund the second payment?\n\nBest regards,\nLouis Martin",
    },
    "fr": {
        "presence": "Présence",
        "widget": (
            "Discuter avec Vigilo",
            "Votre nom",
            "Votre adresse e-mail",
            "Comment pouvons-nous vous aider ?",
            "Démarrer la discussion",
            "Écrivez un message…",
            "Envoyer",
        ),
        "accept": "Accepter",
        "reply": "Réponse",
        "send": "Envoyer",
        "question": "Bonjour, mon alarme sonne toutes les nuits depuis mardi. Que faire ?",
        "answer": "Bonjour Grace, un bip chaque nuit signale que la pile de la sirène est "
        "faible. Je vous en envoie une neuve aujourd'hui.",
        "thanks": "Parfait, merci beaucoup !",
        "mail_subject": "Facture 2026-114 prélevée deux fois",
        "draft": "Bonjour Louis, vous avez raison : le second prélèvement est remboursé "
        "aujourd'hui. Vous le verrez sur votre compte sous trois jours.",
        "mail_body": "Bonjour,\n\nJ'ai été prélevé deux fois pour la facture 2026-114 ce "
        "mois-ci. Pouvez-vous rembourser le second paiement ?\n\nCordialement,\nLouis Martin",
    },
}


def known_customer(demo: DemoServer) -> tuple[str, str]:
    """A seeded customer the demo's CRM knows (it has a customer number), and their
    e-mail address."""
    with sqlite3.connect(demo.folder / "demo.db") as db:
        row = db.execute(
            "SELECT c.display_name, e.value FROM customers c"
            " JOIN customer_identities e ON e.customer_id = c.id AND e.kind = 'email'"
            " JOIN customer_identities x ON x.customer_id = c.id AND x.kind = 'external'"
            " ORDER BY c.id LIMIT 1"
        ).fetchone()
    return str(row[0]), str(row[1])


def photograph(browser: Any, demo: DemoServer, lang: str) -> float:
    scene = SCENES[lang]
    desk = browser.new_page(viewport={"width": 1440, "height": 900}, locale=lang)
    desk.goto(f"{demo.url}/login?lang={lang}")
    desk.locator("input[name=email]").fill(AGENT[0])
    desk.locator("input[name=password]").fill(AGENT[1])
    started = time.perf_counter()
    desk.locator("button[type=submit]").click()
    desk.locator('.connection[data-connection="connected"]').wait_for()
    desk.get_by_role("combobox", name=scene["presence"]).wait_for()
    first_paint = time.perf_counter() - started
    if desk.get_by_role("combobox", name=scene["presence"]).input_value() != "available":
        desk.get_by_role("combobox", name=scene["presence"]).select_option("available")

    visitor = browser.new_page(locale=lang)
    visitor.goto(demo.widget + f"?lang={lang}")
    widget = visitor.locator("#opencx-chat")
    opener, name, address, question, start, write, send = scene["widget"]
    widget.get_by_role("button", name=opener).click()
    widget.get_by_label(name).fill("Grace Hopper")
    widget.get_by_label(address).fill("grace.hopper@example.com")
    widget.get_by_label(question).fill(scene["question"])
    widget.get_by_role("button", name=start).click()

    desk.get_by_role("button", name=scene["accept"]).first.click()
    desk.get_by_role("log").get_by_text(scene["question"]).wait_for()
    desk.get_by_role("textbox", name=scene["reply"]).fill(scene["answer"])
    desk.get_by_role("button", name=scene["send"]).click()
    widget.get_by_text(scene["answer"][:30]).wait_for()
    widget.get_by_role("textbox", name=write).fill(scene["thanks"])
    widget.get_by_role("button", name=send).click()
    desk.get_by_role("log").get_by_text(scene["thanks"]).wait_for()

    name, address = known_customer(demo)
    first = name.split()[0]
    body = scene["mail_body"].replace("Louis Martin", name)
    demo.send_mail(f"{name} <{address}>", scene["mail_subject"], body)
    desk.get_by_role("button", name=scene["accept"]).first.click()
    desk.get_by_role("log").get_by_text(scene["mail_subject"]).first.wait_for()
    desk.locator("cx-context .connector dl").first.wait_for()  # the CRM's answer
    desk.get_by_role("textbox", name=scene["reply"]).fill(scene["draft"].replace("Louis", first))
    desk.wait_for_timeout(300)
    OUT.mkdir(parents=True, exist_ok=True)
    desk.screenshot(path=str(OUT / f"desktop-{lang}.png"))
    return first_paint


def token(demo: DemoServer, email: str) -> str:
    """An API token for one of the demo's logins (``opencx token create``)."""
    env = {**os.environ, "OPENCX_DATABASE__URL": f"sqlite:///{demo.folder / 'demo.db'}"}
    made = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-m", "opencx", "token", "create", "--user", email],
        env=env,
        cwd=demo.folder,
        check=True,
        capture_output=True,
        text=True,
    )
    return made.stdout.strip().splitlines()[-1]


def liven_up(demo: DemoServer, lang: str) -> None:
    """Chats waiting, one in the demo agent's hands with a question to a supervisor,
    agents on breaks, a partner site draining and the chat queues' threshold of two
    contacts waiting crossed."""
    with (
        httpx.Client(base_url=f"{demo.url}/api/v1", timeout=20) as api,
        httpx.Client(base_url=demo.url, timeout=20) as visitor,
    ):
        admin = {"Authorization": f"Bearer {token(demo, 'admin@demo.opencx.dev')}"}
        agent = {"Authorization": f"Bearer {token(demo, AGENT[0])}"}
        me = api.get("/users/me", headers=agent).json()["id"]
        users = api.get("/users", params={"limit": 100}, headers=admin).json()["items"]
        others = [u for u in users if u["role"] == "agent" and u["id"] != me]
        for user, (state, reason) in zip(others, PRESENCES * 4, strict=False):
            body = {"state": state, **({"reason": reason} if reason else {})}
            moved = api.put(f"/users/{user['id']}/presence", json=body, headers=admin)
            if moved.status_code != 409:  # 409: in that state already
                moved.raise_for_status()
        chats = api.get("/queues", params={"channel": "chat"}, headers=admin).json()["items"]
        for queue in chats:
            limits = {"max_waiting": 2, "max_longest_wait_seconds": 300, "min_service_level": 0.8}
            put = api.put(f"/queues/{queue['id']}/thresholds", json=limits, headers=admin)
            put.raise_for_status()
        started = [chat(visitor, VISITORS[0], lang)]
        offer = wait(lambda: api.get("/reservations?state=pending", headers=agent).json()["items"])
        api.post(f"/reservations/{offer[0]['id']}/accept", headers=agent).raise_for_status()
        pause = {"state": "not_ready", "reason": "coaching"}
        api.put(f"/users/{me}/presence", json=pause, headers=agent).raise_for_status()
        started += [chat(visitor, name, lang) for name in VISITORS[1:]]
        question = {"conversation_id": started[0], "question": COCKPIT[lang]["question"]}
        api.post("/help-requests", json=question, headers=agent).raise_for_status()
        sites = api.get("/sites", headers=admin).json()["items"]
        warsaw = next(site["id"] for site in sites if site["name"].startswith("Warsaw"))
        draining = {"state": "draining"}
        api.post(f"/sites/{warsaw}/routing-state", json=draining, headers=admin).raise_for_status()


def chat(visitor: httpx.Client, name: str, lang: str) -> int:
    email = name.lower().replace(" ", ".") + "@example.com"
    body = {"name": name, "email": email, "intent": "Hello", "locale": lang}
    wait(lambda: visitor.get("/chat/widgets/vigilo-web").json()["online"])
    started = visitor.post("/chat/widgets/vigilo-web/chats", json=body)
    started.raise_for_status()
    return int(started.json()["conversation_id"])


def wait(check: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := check()):
        if time.monotonic() > deadline:
            raise TimeoutError("the demo did not get there in time")
        time.sleep(0.2)
    return found


def photograph_cockpit(browser: Any, demo: DemoServer, lang: str) -> None:
    liven_up(demo, lang)
    page = browser.new_page(viewport={"width": 1440, "height": 900}, locale=lang)
    page.goto(f"{demo.url}/login?lang={lang}")
    page.locator("input[name=email]").fill(SUPERVISOR[0])
    page.locator("input[name=password]").fill(SUPERVISOR[1])
    page.locator("button[type=submit]").click()
    page.locator('.connection[data-connection="connected"]').wait_for()
    page.get_by_role("table", name=COCKPIT[lang]["queues"]).locator(".pill.warn").first.wait_for()
    page.wait_for_timeout(2500)  # waits and times in state tick
    OUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUT / f"cockpit-{lang}.png"), full_page=True)


def save_workflow(demo: DemoServer) -> None:
    """A workflow of two filters: French VIP chats to the best agents first, then every
    chat; set through the API, as the console's Save does."""
    with httpx.Client(base_url=f"{demo.url}/api/v1", timeout=20) as api:
        admin = {"Authorization": f"Bearer {token(demo, ADMIN[0])}"}
        queues = api.get("/queues", params={"channel": "chat"}, headers=admin).json()["items"]
        chat_queue = queues[0]["id"]
        workflow = {
            "filters": [
                {
                    "name": "French VIP",
                    "expression": 'lang == "fr" AND vip',
                    "targets": [
                        {
                            "queue_id": chat_queue,
                            "expression": "skills.subscription >= 1",
                            "timeout_seconds": 60,
                            "priority": 10,
                        },
                        {"queue_id": chat_queue},
                    ],
                    "fallback": "callback",
                },
                {
                    "name": "Every chat",
                    "expression": 'channel == "chat"',
                    "targets": [{"queue_id": chat_queue}],
                },
            ],
            "fallback": "email",
        }
        api.put("/routing/workflow", json=workflow, headers=admin).raise_for_status()
        users = api.get("/users", params={"limit": 100}, headers=admin).json()["items"]
        agents = [u for u in users if u["role"] == "agent"]
        for user, (state, reason) in zip(agents, PRESENCES, strict=False):
            body = {"state": state, **({"reason": reason} if reason else {})}
            moved = api.put(f"/users/{user['id']}/presence", json=body, headers=admin)
            if moved.status_code != 409:  # 409: in that state already
                moved.raise_for_status()


def photograph_admin(browser: Any, demo: DemoServer, lang: str) -> None:
    save_workflow(demo)
    words = CONSOLE[lang]
    page = browser.new_page(viewport={"width": 1440, "height": 1000}, locale=lang)
    page.goto(f"{demo.url}/login?lang={lang}")
    page.locator("input[name=email]").fill(ADMIN[0])
    page.locator("input[name=password]").fill(ADMIN[1])
    page.locator("button[type=submit]").click()
    page.wait_for_load_state()
    page.goto(f"{demo.url}/admin/routing")
    page.locator('#section[aria-busy="false"]').wait_for()
    panel = page.locator("form.dry-run")
    panel.get_by_label(words["language"]).fill("fr")
    panel.get_by_label(words["vip"]).check()
    panel.get_by_role("button", name=words["try"]).click()
    panel.locator(".dry-run-result table").wait_for()
    OUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUT / f"admin-routing-{lang}.png"), full_page=True)
    page.goto(f"{demo.url}/admin/hours")
    page.locator('#section[aria-busy="false"]').wait_for()
    page.locator(".row-actions .button").first.click()
    page.locator(".holiday-list li").first.wait_for()
    page.locator(".hours-status .site-state").wait_for()
    page.screenshot(path=str(OUT / f"admin-hours-{lang}.png"), full_page=True)


def main() -> None:
    only = set(sys.argv[1:])  # "desktop", "cockpit", "admin": some of them only
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        for lang in SCENES:
            if not only or "desktop" in only:
                with DemoServer() as demo:
                    paint = photograph(browser, demo, lang)
                    print(f"{lang}: sign-in to the first useful paint {paint * 1000:.0f} ms")
            if not only or "cockpit" in only:
                with DemoServer() as demo:
                    photograph_cockpit(browser, demo, lang)
            if not only or "admin" in only:
                with DemoServer() as demo:
                    photograph_admin(browser, demo, lang)
        browser.close()
    print(f"saved in {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
