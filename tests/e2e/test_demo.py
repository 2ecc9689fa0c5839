"""The README's first command, as a newcomer runs it: `opencx demo` in an empty
directory, then the API read with a token from `opencx token create`; the demo at any
hour (a chat and an e-mail answered by the printed agent login, the answer in the local
outbox); two demos on one machine; the CLI's version and its refusal to create an empty
database elsewhere; the API docs without the Internet."""

from __future__ import annotations

import re
import smtplib
import subprocess
import sys
from email import message_from_bytes
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest

from opencx import __version__
from tests.e2e.conftest import (
    CLI_TIMEOUT,
    LiveServer,
    LiveServers,
    OpencxEnv,
    RunOpencx,
    free_port,
    wait_for,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]  # a test may start two demos

AGENT = "agent@demo.opencx.dev"
ADMIN = "admin@demo.opencx.dev"
MAILBOX = "support@demo.opencx.dev"


def test_demo_serves_seeded_company_readable_with_a_cli_token(
    live_servers: LiveServers, opencx_env: OpencxEnv, run_opencx: RunOpencx, tmp_path: Path
) -> None:
    env = opencx_env("unused")
    del env["OPENCX_DATABASE__URL"]  # the demo uses ./opencx.db of the current directory
    server = live_servers.start(
        env, name="demo", command=("demo", "--customers", "12", "--no-simulation")
    )
    assert (tmp_path / "opencx.db").exists()
    printed = server.output()
    assert "admin@demo.opencx.dev" in printed
    assert "/api/v1/docs" in printed
    assert "/chat/try/vigilo-web" in printed

    with httpx.Client(base_url=server.url, timeout=10) as http:
        assert http.get("/healthz").json()["status"] == "ok"
        assert http.get("/readyz").json() == {"status": "ok", "database": "ok"}
        assert http.get("/api/v1/openapi.json").json()["info"]["title"] == "OpenCX API"
        assert http.get("/api/v1/customers").status_code == 401
        try_page = http.get("/chat/try/vigilo-web", params={"lang": "fr"})
        assert try_page.status_code == 200
        assert 'data-widget="vigilo-web"' in try_page.text
        widget = http.get("/chat/widgets/vigilo-web", params={"lang": "fr"}).json()
        assert widget["title"] == "Discuter avec Vigilo"

        token = run_opencx(["token", "create", "--user", "admin@demo.opencx.dev"], env)
        admin = {"Authorization": f"Bearer {token.strip().splitlines()[-1]}"}
        sites = http.get("/api/v1/sites", headers=admin).json()["items"]
        assert sorted(s["kind"] for s in sites) == ["internal", "partner", "partner", "partner"]
        customers = http.get("/api/v1/customers", params={"limit": 200}, headers=admin).json()
        assert len(customers["items"]) == 12
        users = http.get("/api/v1/users", params={"limit": 200}, headers=admin).json()["items"]
        agents = [
            u
            for u in users
            if u["role"] == "agent" and u["site_id"] is not None and u["email"] != AGENT
        ]
        simulated = [u for u in agents if u["simulated"]]
        assert len(simulated) == 6  # the simulation's, idle here (docs/demo.md)
        agents = [u for u in agents if not u["simulated"]]
        assert len(agents) == 25
        assert {lang for a in agents for lang in a["languages"]} >= {
            "fr",
            "en",
            "es",
            "it",
            "nl",
            "pl",
            "de",
        }
        conversations = http.get(
            "/api/v1/conversations", params={"limit": 200}, headers=admin
        ).json()["items"]
        assert conversations
        timeline = http.get(
            f"/api/v1/conversations/{conversations[0]['id']}/timeline", headers=admin
        )
        assert timeline.status_code == 200
        # The customer panel reads the demo's simulated CRM through its two connectors.
        customer_id = conversations[0]["customer_id"]
        panel = http.get(
            f"/api/v1/customers/{customer_id}/connectors", params={"locale": "fr"}, headers=admin
        ).json()
        assert [line["name"] for line in panel] == ["Contrat", "Suivi de livraison"]
        assert panel[0]["status"] == "ok", panel
        assert panel[0]["fields"][0]["value"].startswith("CT-")
        overview = http.get(f"/api/v1/customers/{customer_id}/overview", headers=admin).json()
        assert conversations[0]["id"] in [c["id"] for c in overview["conversations"]]
        assert http.get("/demo-crm/").json()["system"].startswith("Vigilo CRM")


def demo_env(opencx_env: OpencxEnv, **settings: str) -> dict[str, str]:
    env = opencx_env("unused", **settings)
    del env["OPENCX_DATABASE__URL"]  # the demo uses ./opencx.db of the current directory
    return env


def bearer(run_opencx: RunOpencx, env: dict[str, str], user: str) -> dict[str, str]:
    token = run_opencx(["token", "create", "--user", user], env).strip().splitlines()[-1]
    return {"Authorization": f"Bearer {token}"}


def announced_smtp_port(server: LiveServer) -> int:
    found = re.search(r"through SMTP at [\d.]+:(\d+)", server.output())
    assert found, server.output()
    return int(found.group(1))


def mail(port: int, *, sender: str, subject: str, message_id: str) -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, MAILBOX, subject
    message["Message-ID"] = f"<{message_id}>"
    message.set_content("My alarm beeps every night at 3. What can I do?")
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        assert smtp.send_message(message) == {}


def test_the_demo_answers_a_chat_and_an_email_with_the_printed_agent_at_any_hour(
    live_servers: LiveServers, opencx_env: OpencxEnv, run_opencx: RunOpencx, tmp_path: Path
) -> None:
    smtp_port = free_port()
    env = demo_env(opencx_env, SMTP__PORT=str(smtp_port))
    server = live_servers.start(
        env, name="demo", command=("demo", "--customers", "4", "--no-simulation")
    )
    outbox = tmp_path / "opencx-data" / "outbox"
    assert f"Outbox      answers by e-mail are written to {outbox}" in server.output()
    admin, agent = bearer(run_opencx, env, ADMIN), bearer(run_opencx, env, AGENT)

    with httpx.Client(base_url=server.url, timeout=10) as http:
        # Whatever the hour in Paris, the chat is open once the router has its figures.
        wait_for(lambda: http.get("/chat/widgets/vigilo-web").json()["online"])
        started = http.post(
            "/chat/widgets/vigilo-web/chats",
            json={"name": "Night Owl", "email": "owl@example.com", "intent": "It beeps"},
        )
        assert started.status_code == 201, started.text
        assert started.json()["mode"] == "chat"
        offers = wait_for(
            lambda: http.get(
                "/api/v1/reservations", params={"state": "pending"}, headers=agent
            ).json()["items"]
        )
        accepted = http.post(f"/api/v1/reservations/{offers[0]['id']}/accept", headers=agent)
        assert accepted.status_code == 200, accepted.text
        me = http.get("/api/v1/users/me", headers=agent).json()
        everyone = http.get("/api/v1/reservations", headers=admin).json()["items"]
        assert {r["worker_id"] for r in everyone if r["task_id"] == offers[0]["task_id"]} == {
            me["id"]
        }

        mail(smtp_port, sender="night.owl@example.com", subject="Beeping", message_id="owl@x.fr")

        def stored() -> list[dict[str, Any]]:
            found = http.get(
                "/api/v1/messages", params={"provider_message_id": "<owl@x.fr>"}, headers=admin
            )
            return list(found.json()["items"])

        (received,) = wait_for(stored)
        assert (received["sender"], received["recipient"]) == ("night.owl@example.com", MAILBOX)
        assert received["subject"] == "Beeping"
        answer = http.post(
            f"/api/v1/conversations/{received['conversation_id']}/messages",
            json={
                "channel": "email",
                "direction": "outbound",
                "author_kind": "agent",
                "body_text": "Please unplug it for ten seconds.",
            },
            headers=agent,
        )
        assert answer.status_code == 201, answer.text

        def delivered() -> dict[str, Any] | None:
            found = http.get(f"/api/v1/messages/{answer.json()['id']}", headers=admin).json()
            return dict(found) if found["delivery_status"] == "sent" else None

        sent = wait_for(delivered)
    written = message_from_bytes((outbox / f"{sent['id']}.eml").read_bytes())
    assert written["To"] == "night.owl@example.com"
    assert written["In-Reply-To"] == "<owl@x.fr>"
    assert sent["recipient"] == "night.owl@example.com"


def test_a_second_demo_on_the_machine_announces_another_smtp_port_that_takes_mail(
    live_servers: LiveServers, opencx_env: OpencxEnv, run_opencx: RunOpencx, tmp_path: Path
) -> None:
    first_env = opencx_env(f"sqlite:///{tmp_path}/first.db")
    first = live_servers.start(
        first_env, name="first", command=("demo", "--customers", "0", "--no-simulation")
    )
    second_env = opencx_env(f"sqlite:///{tmp_path}/second.db")
    second = live_servers.start(
        second_env, name="second", command=("demo", "--customers", "0", "--no-simulation")
    )
    first_port, second_port = announced_smtp_port(first), announced_smtp_port(second)
    assert first_port != second_port

    mail(second_port, sender="ada@example.com", subject="To the second", message_id="a@x.fr")
    admin = bearer(run_opencx, second_env, ADMIN)
    with httpx.Client(base_url=f"{second.url}/api/v1", headers=admin, timeout=10) as api:
        conversations = wait_for(lambda: api.get("/conversations").json()["items"])
    assert [c["subject"] for c in conversations] == ["To the second"]


def test_the_demo_takes_the_smtp_port_it_is_given(
    live_servers: LiveServers, opencx_env: OpencxEnv
) -> None:
    port = free_port()
    env = demo_env(opencx_env)
    server = live_servers.start(
        env,
        name="demo",
        command=("demo", "--customers", "0", "--no-simulation", "--smtp-port", str(port)),
    )
    assert announced_smtp_port(server) == port
    mail(port, sender="ada@example.com", subject="Hello", message_id="b@x.fr")


def test_the_cli_prints_its_version(opencx_env: OpencxEnv, run_opencx: RunOpencx) -> None:
    assert run_opencx(["--version"], opencx_env("unused")).strip() == f"opencx {__version__}"


@pytest.mark.parametrize(
    "command",
    [("serve",), ("token", "create", "--user", ADMIN), ("seed",), ("db", "revision", "-m", "x")],
)
def test_a_command_where_there_is_no_database_says_so_and_creates_none(
    opencx_env: OpencxEnv, tmp_path: Path, command: tuple[str, ...]
) -> None:
    env = opencx_env("unused")
    del env["OPENCX_DATABASE__URL"]
    done = subprocess.run(
        [sys.executable, "-m", "opencx", *command],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert f"no database at {tmp_path / 'opencx.db'}" in " ".join(done.stderr.split())
    assert "opencx db upgrade" in done.stderr
    assert not (tmp_path / "opencx.db").exists()


def test_the_api_docs_are_served_from_this_server_alone(
    database_url: str, live_servers: LiveServers, opencx_env: OpencxEnv
) -> None:
    server = live_servers.start(opencx_env(database_url, SMTP__ENABLED="false"))
    with httpx.Client(base_url=server.url, timeout=10) as http:
        page = http.get("/api/v1/docs")
        assert page.status_code == 200
        assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assets += re.findall(r"url: '([^']+)'", page.text)
        assert len(assets) >= 4, page.text  # styles, icon, script, the OpenAPI document
        for url in assets:
            assert url.startswith("/"), url
            assert not url.startswith("//"), url
            served = http.get(url)
            assert served.status_code == 200, url
            assert len(served.content) > 1000, url
        script = next(url for url in assets if url.endswith(".js"))
        assert "SwaggerUIBundle" in http.get(script).text
