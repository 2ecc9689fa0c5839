"""A company for the toolbox's tests, built through the API: a head office and two
partner sites, two teams, and callers of each role in them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from opencx.core.enums import Role
from tests.conftest import Caller, MakeCaller

API = "/api/v1"


async def call(
    http: httpx.AsyncClient, who: Caller, method: str, path: str, body: Any = None, **params: Any
) -> httpx.Response:
    return await http.request(
        method, API + path, json=body, params=params or None, headers=who.headers
    )


async def made(http: httpx.AsyncClient, who: Caller, path: str, body: Any) -> dict[str, Any]:
    response = await call(http, who, "POST", path, body)
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()
    return found


async def items(http: httpx.AsyncClient, who: Caller, path: str, **params: Any) -> list[Any]:
    response = await call(http, who, "GET", path, **params)
    assert response.status_code == 200, response.text
    found: list[Any] = response.json()["items"]
    return found


@dataclass
class World:
    http: httpx.AsyncClient
    admin: Caller
    care_agent: Caller  # head office, Care team
    tech_agent: Caller  # head office, Tech team
    care_supervisor: Caller  # head office, Care team
    partner_agent: Caller  # partner site 1, Care team
    partner_supervisor: Caller  # partner site 1, Care team
    other_partner_agent: Caller  # partner site 2, Care team
    sites: dict[str, int]
    teams: dict[str, int]
    queues: dict[str, int]

    async def conversation(
        self,
        *,
        site: str,
        customer: str,
        said: list[str],
        answer: str | None = None,
        subject: str = "",
        language: str | None = None,
        status: str | None = None,
    ) -> int:
        """A conversation on ``site`` where the customer said ``said`` and, if given, an
        agent answered ``answer``; then moved to ``status``."""
        person = await made(
            self.http, self.admin, "/customers", {"display_name": customer, "language": language}
        )
        conversation = await made(
            self.http,
            self.admin,
            "/conversations",
            {"customer_id": person["id"], "queue_id": self.queues[site], "subject": subject},
        )
        path = f"/conversations/{conversation['id']}/messages"
        for text in said:
            await made(
                self.http,
                self.admin,
                path,
                {
                    "body_text": text,
                    "channel": "chat",
                    "direction": "inbound",
                    "author_kind": "customer",
                },
            )
        if answer is not None:
            await made(
                self.http,
                self.admin,
                path,
                {
                    "body_text": answer,
                    "channel": "chat",
                    "direction": "outbound",
                    "author_kind": "agent",
                },
            )
        if status is not None:
            response = await call(
                self.http,
                self.admin,
                "POST",
                f"/conversations/{conversation['id']}/status",
                {"status": status},
            )
            assert response.status_code == 200, response.text
        conversation_id: int = conversation["id"]
        return conversation_id


async def build_world(http: httpx.AsyncClient, admin: Caller, make_caller: MakeCaller) -> World:
    sites = {
        "hq": (await made(http, admin, "/sites", {"name": "HQ"}))["id"],
        "p1": (await made(http, admin, "/sites", {"name": "Lisbon", "kind": "partner"}))["id"],
        "p2": (await made(http, admin, "/sites", {"name": "Warsaw", "kind": "partner"}))["id"],
    }
    teams = {
        name: (await made(http, admin, "/teams", {"name": name}))["id"] for name in ("Care", "Tech")
    }
    queues = {
        site: (
            await made(
                http, admin, "/queues", {"name": f"{site} chat", "channel": "chat", "site_id": sid}
            )
        )["id"]
        for site, sid in sites.items()
    }

    async def person(role: Role, site: str, team: str) -> Caller:
        caller = await make_caller(role, site_id=sites[site])
        response = await call(
            http, admin, "PATCH", f"/users/{caller.user.id}", {"team_id": teams[team]}
        )
        assert response.status_code == 200, response.text
        return caller

    return World(
        http=http,
        admin=admin,
        care_agent=await person(Role.AGENT, "hq", "Care"),
        tech_agent=await person(Role.AGENT, "hq", "Tech"),
        care_supervisor=await person(Role.SUPERVISOR, "hq", "Care"),
        partner_agent=await person(Role.AGENT, "p1", "Care"),
        partner_supervisor=await person(Role.SUPERVISOR, "p1", "Care"),
        other_partner_agent=await person(Role.AGENT, "p2", "Care"),
        sites=sites,
        teams=teams,
        queues=queues,
    )
