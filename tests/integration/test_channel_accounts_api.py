"""Channel accounts through the API: addresses stored normalised, one account per
provider address, a queue that exists, admins only to change them."""

from __future__ import annotations

from typing import Any, get_args

import httpx
import pytest
from sqlalchemy import select

from opencx.core.enums import Role
from opencx.core.events import EventType
from opencx.db.models import AuditEntry
from opencx.features.context import AppContext, transaction
from opencx.features.directory.channel_accounts import Locale, find_account
from opencx.features.directory.provider_settings import SecretUnreadable, open_secret
from opencx.i18n import supported_locales
from opencx.testing import RecordingPublisher
from tests.conftest import Caller, MakeCaller
from tests.integration.test_directory_api import API, assert_problem, list_all, post

PATH = "/channel-accounts"


#: Settings each provider that needs some is created with.
SETTINGS = {
    "imap": {"host": "imap.example.com", "username": "support"},
    "google_play": {"package_name": "com.example.app"},
    "app_store": {"app_id": "1234567890", "issuer_id": "issuer", "key_id": "KEY123"},
    "twitter": {"user_id": "2244994945"},
}


def account(**fields: Any) -> dict[str, Any]:
    provider = fields.get("provider", "smtp")
    return {
        "channel": "email",
        "provider": provider,
        "address": "support@example.com",
        "name": "Support",
        **({"settings": SETTINGS[provider]} if provider in SETTINGS else {}),
        **fields,
    }


async def test_an_account_is_created_read_updated_and_deleted(
    client: httpx.AsyncClient, admin: Caller, ctx: AppContext, publisher: RecordingPublisher
) -> None:
    queue = await post(client, admin, "/queues", {"name": "Mail", "channel": "email"})
    created = await post(
        client,
        admin,
        PATH,
        account(address=" Support@Example.COM ", queue_id=queue["id"], auto_ack_hours=48),
    )
    assert {k: v for k, v in created.items() if k not in {"id", "created_at", "updated_at"}} == {
        "channel": "email",
        "provider": "smtp",
        "address": "support@example.com",
        "name": "Support",
        "queue_id": queue["id"],
        "auto_ack_hours": 48,
        "locale": "en",
        "is_active": True,
        "settings": {},
        "has_secret": False,
        "poller": {},
    }
    url = f"{API}{PATH}/{created['id']}"
    assert (await client.get(url, headers=admin.headers)).json() == created

    response = await client.patch(
        url,
        json={"name": "Support FR", "locale": "fr", "auto_ack_hours": None, "queue_id": None},
        headers=admin.headers,
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert (updated["name"], updated["locale"], updated["auto_ack_hours"]) == (
        "Support FR",
        "fr",
        None,
    )
    assert (updated["queue_id"], updated["address"]) == (None, "support@example.com")

    assert (await client.delete(url, headers=admin.headers)).status_code == 204
    assert_problem(await client.get(url, headers=admin.headers), 404, "opencx.not_found")
    assert_problem(await client.delete(url, headers=admin.headers), 404, "opencx.not_found")

    changes = [
        e.payload
        for e in publisher.events
        if e.type is EventType.DIRECTORY_CHANGED and e.entity_id == created["id"]
    ]
    assert changes == [
        {"kind": "channel_account", "action": action} for action in ("create", "update", "delete")
    ]
    async with transaction(ctx) as session:
        audit = await session.scalars(
            select(AuditEntry)
            .where(AuditEntry.entity_kind == "channel_account")
            .order_by(AuditEntry.id)
        )
        entries = list(audit)
    assert [e.action for e in entries] == [
        "channel_account.create",
        "channel_account.update",
        "channel_account.delete",
    ]
    assert entries[0].changes["address"] == "support@example.com"


@pytest.mark.parametrize(
    ("channel", "provider", "given", "stored"),
    [
        ("email", "smtp", "  Support@Example.COM", "support@example.com"),
        ("email", "imap", "Sales Team <Sales@Example.com>", "sales@example.com"),
        ("sms", "twilio", "+33 6 12 34 56 78", "+33612345678"),
        ("whatsapp", "twilio", "whatsapp:+1 (415) 523-8886", "+14155238886"),
        ("whatsapp", "meta", " 106540352242922 ", "106540352242922"),
        ("messenger", "meta", "1143726729055386", "1143726729055386"),
        ("instagram", "meta", "17841405822304914", "17841405822304914"),
        ("review", "google_play", " com.example.app ", "com.example.app"),
        ("twitter", "twitter", "2244994945", "2244994945"),
    ],
)
async def test_addresses_are_stored_normalised_and_found_as_the_provider_writes_them(
    client: httpx.AsyncClient,
    admin: Caller,
    ctx: AppContext,
    channel: str,
    provider: str,
    given: str,
    stored: str,
) -> None:
    created = await post(
        client, admin, PATH, account(channel=channel, provider=provider, address=given)
    )
    assert created["address"] == stored
    async with transaction(ctx) as session:
        found = await find_account(session, provider=provider, address=given)
        assert found is not None
        assert found.id == created["id"]
        assert await find_account(session, provider="other", address=given) is None


async def test_inactive_accounts_and_malformed_addresses_are_not_found(
    client: httpx.AsyncClient, admin: Caller, ctx: AppContext
) -> None:
    created = await post(client, admin, PATH, account(is_active=False))
    assert created["is_active"] is False
    async with transaction(ctx) as session:
        assert await find_account(session, provider="smtp", address="support@example.com") is None
        assert await find_account(session, provider="smtp", address="not an address") is None
        assert await find_account(session, provider="twilio", address="0612345678") is None


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"address": "not-an-email"}, "address"),
        ({"address": "support@localhost"}, "address"),
        # A number that does not parse (a short code) is kept as given, one with
        # control characters is no address.
        ({"channel": "sms", "provider": "twilio", "address": "+33\u200e1"}, "address"),
        ({"channel": "messenger", "provider": "meta", "address": "page-12"}, "address"),
        ({"channel": "instagram", "provider": "meta", "address": "١٢٣"}, "address"),
        ({"channel": "review", "provider": "app_store", "address": "   "}, "address"),
        ({"channel": "sms", "provider": "smtp"}, "channel"),
        ({"channel": "voice", "provider": "twilio", "address": "+33612345678"}, "channel"),
        (
            {
                "channel": "sms",
                "provider": "twilio",
                "address": "+33612345678",
                "auto_ack_hours": 4,
            },
            "auto_ack_hours",
        ),
        ({"provider": "fax"}, "body.provider"),
        ({"locale": "de"}, "body.locale"),
        ({"auto_ack_hours": 0}, "body.auto_ack_hours"),
        ({"name": ""}, "body.name"),
        ({"queue_id": 424242}, "queue_id"),
        ({"queue_id": 2**63}, "body.queue_id"),
    ],
)
async def test_bad_input_is_refused_naming_the_field(
    client: httpx.AsyncClient, admin: Caller, fields: dict[str, Any], field: str
) -> None:
    response = await client.post(f"{API}{PATH}", json=account(**fields), headers=admin.headers)
    problem = assert_problem(response, 422, "opencx.invalid_input")
    assert problem["errors"][0]["field"] == field, problem


async def test_one_account_per_provider_address(client: httpx.AsyncClient, admin: Caller) -> None:
    await post(client, admin, PATH, account())
    duplicate = await client.post(
        f"{API}{PATH}", json=account(address="SUPPORT@example.com"), headers=admin.headers
    )
    problem = assert_problem(duplicate, 409, "opencx.conflict")
    assert problem["errors"][0]["field"] == "address"
    assert "support@example.com" in problem["detail"]

    # The same mailbox read another way is another account.
    imap = await post(client, admin, PATH, account(provider="imap"))
    moved = await client.patch(
        f"{API}{PATH}/{imap['id']}",
        json={"provider": "smtp", "settings": {}},
        headers=admin.headers,
    )
    assert assert_problem(moved, 409, "opencx.conflict")["errors"][0]["field"] == "address"


async def test_updates_renormalise_and_recheck_the_whole_account(
    client: httpx.AsyncClient, admin: Caller
) -> None:
    created = await post(
        client,
        admin,
        PATH,
        account(channel="sms", provider="twilio", address="+33612345678", name="SMS"),
    )
    url = f"{API}{PATH}/{created['id']}"
    response = await client.patch(
        url, json={"address": "+33 6 98 76 54 32", "channel": "whatsapp"}, headers=admin.headers
    )
    assert response.status_code == 200, response.text
    assert (response.json()["address"], response.json()["channel"]) == ("+33698765432", "whatsapp")

    for body, field in [
        ({"provider": "meta"}, "address"),  # "+33698765432" is no Meta id
        ({"channel": "email"}, "channel"),
        ({"auto_ack_hours": 24}, "auto_ack_hours"),
        ({"address": None}, "address"),
        ({"queue_id": 424242}, "queue_id"),
    ]:
        refused = await client.patch(url, json=body, headers=admin.headers)
        assert assert_problem(refused, 422, "opencx.invalid_input")["errors"][0]["field"] == field
    unchanged = (await client.get(url, headers=admin.headers)).json()
    assert unchanged == response.json()
    missing = await client.patch(f"{API}{PATH}/999999", json={"name": "X"}, headers=admin.headers)
    assert_problem(missing, 404, "opencx.not_found")


async def test_accounts_are_listed_by_channel_provider_and_name(
    client: httpx.AsyncClient, admin: Caller
) -> None:
    specs = [
        account(name="Support mail"),
        account(name="Sales mail", provider="imap", address="sales@example.com"),
        account(name="Support SMS", channel="sms", provider="twilio", address="+33612345678"),
        account(name="Support WhatsApp", channel="whatsapp", provider="meta", address="1065"),
        account(name="Page", channel="messenger", provider="meta", address="1143"),
    ]
    for spec in specs:
        await post(client, admin, PATH, spec)

    async def names(**params: Any) -> list[str]:
        return [a["name"] for a in await list_all(client, admin, PATH, **params)]

    assert await names() == [s["name"] for s in specs]
    assert await names(channel="email") == ["Support mail", "Sales mail"]
    assert await names(provider="meta") == ["Support WhatsApp", "Page"]
    assert await names(q="SUPPORT") == ["Support mail", "Support SMS", "Support WhatsApp"]
    assert await names(q="support", provider="twilio") == ["Support SMS"]
    assert await names(q="%") == []
    bad = await client.get(f"{API}{PATH}", params={"provider": "fax"}, headers=admin.headers)
    assert_problem(bad, 422, "opencx.invalid_input")


async def test_everyone_reads_accounts_but_only_admins_change_them(
    client: httpx.AsyncClient, admin: Caller, make_caller: MakeCaller
) -> None:
    created = await post(client, admin, PATH, account())
    url = f"{API}{PATH}/{created['id']}"
    for role in (Role.AGENT, Role.SUPERVISOR):
        caller = await make_caller(role)
        assert [a["id"] for a in await list_all(client, caller, PATH)] == [created["id"]]
        assert (await client.get(url, headers=caller.headers)).json() == created
        for response in (
            await client.post(
                f"{API}{PATH}", json=account(address="x@example.com"), headers=caller.headers
            ),
            await client.patch(url, json={"name": "Y"}, headers=caller.headers),
            await client.delete(url, headers=caller.headers),
        ):
            assert_problem(response, 403, "opencx.permission_denied")
    assert (await client.get(url, headers=admin.headers)).json() == created


async def test_partner_users_see_only_accounts_routed_to_their_sites(
    client: httpx.AsyncClient, admin: Caller, make_caller: MakeCaller
) -> None:
    own = await post(client, admin, "/sites", {"name": "Partner A", "kind": "partner"})
    other = await post(client, admin, "/sites", {"name": "Partner B", "kind": "partner"})
    queue_a = await post(
        client, admin, "/queues", {"name": "A", "channel": "email", "site_id": own["id"]}
    )
    queue_b = await post(
        client, admin, "/queues", {"name": "B", "channel": "email", "site_id": other["id"]}
    )
    mine = await post(client, admin, PATH, account(address="a@example.com", queue_id=queue_a["id"]))
    theirs = await post(
        client, admin, PATH, account(address="b@example.com", queue_id=queue_b["id"])
    )
    unrouted = await post(client, admin, PATH, account(address="c@example.com"))

    partner = await make_caller(Role.SUPERVISOR, site_id=own["id"])
    assert [a["id"] for a in await list_all(client, partner, PATH)] == [mine["id"]]
    for hidden in (theirs, unrouted):
        response = await client.get(f"{API}{PATH}/{hidden['id']}", headers=partner.headers)
        assert_problem(response, 404, "opencx.not_found")
    internal = await make_caller(Role.AGENT)
    assert len(await list_all(client, internal, PATH)) == 3


async def test_creates_replay_with_an_idempotency_key(
    client: httpx.AsyncClient, admin: Caller
) -> None:
    headers = {**admin.headers, "Idempotency-Key": "mailbox-support"}
    first = await client.post(f"{API}{PATH}", json=account(), headers=headers)
    again = await client.post(f"{API}{PATH}", json=account(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"


def test_acknowledgement_locales_are_those_with_a_catalog() -> None:
    assert sorted(get_args(Locale)) == sorted(supported_locales())


IMAP = {
    "channel": "email",
    "provider": "imap",
    "address": "contact@example.com",
    "name": "Old mailbox",
    "settings": {"host": "imap.example.com", "username": "contact@example.com"},
}


async def test_provider_settings_are_checked_and_stored_with_their_defaults(
    client: httpx.AsyncClient, admin: Caller
) -> None:
    created = await post(client, admin, PATH, IMAP)
    assert created["settings"] == {
        "host": "imap.example.com",
        "port": 993,
        "security": "tls",
        "username": "contact@example.com",
        "folder": "INBOX",
    }
    missing = await client.post(
        f"{API}{PATH}",
        json={**IMAP, "address": "x@example.com", "settings": {}},
        headers=admin.headers,
    )
    assert_problem(missing, 422, "opencx.invalid_input")
    assert "settings.host" in missing.json()["detail"]
    unknown = await client.post(
        f"{API}{PATH}",
        json={**IMAP, "address": "y@example.com", "settings": {**IMAP["settings"], "pop": 1}},
        headers=admin.headers,
    )
    assert_problem(unknown, 422, "opencx.invalid_input")
    assert "settings.pop" in unknown.json()["detail"]
    smtp = await client.post(
        f"{API}{PATH}", json=account(settings={"host": "x"}), headers=admin.headers
    )
    assert_problem(smtp, 422, "opencx.invalid_input")
    assert "settings.host" in smtp.json()["detail"]


async def test_a_credential_is_sealed_never_shown_nor_audited_and_can_be_removed(
    client: httpx.AsyncClient, admin: Caller, ctx: AppContext
) -> None:
    password = "correct horse battery staple"
    created = await post(client, admin, PATH, {**IMAP, "secret": password})
    assert created["has_secret"] is True
    assert "secret" not in created
    url = f"{API}{PATH}/{created['id']}"
    assert password not in (await client.get(url, headers=admin.headers)).text

    async with transaction(ctx) as session:
        stored = await find_account(session, provider="imap", address="contact@example.com")
        assert stored is not None
        assert stored.secret is not None
        assert password not in stored.secret
        key = ctx.settings.security.secret_key.get_secret_value()
        assert open_secret(key, stored.secret) == password
        with pytest.raises(SecretUnreadable):
            open_secret("another key of at least thirty-two characters", stored.secret)
        audit = (await session.scalars(select(AuditEntry))).all()
    assert audit
    assert all(password not in str(entry.changes) for entry in audit)
    assert any(entry.changes.get("secret") == "set" for entry in audit)

    response = await client.patch(url, json={"secret": None}, headers=admin.headers)
    assert response.status_code == 200, response.text
    assert response.json()["has_secret"] is False
