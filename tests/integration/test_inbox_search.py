"""Searching the inbox through the API: by customer name, e-mail and phone number,
subject and message words, accents and case aside, by case number; and the search
keeping up with what changes (a renamed customer, a removed identity, a merge, a
split, a message received on a channel)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from opencx.core.enums import Channel, IdentityKind
from opencx.features.contacts.intake import receive
from opencx.features.context import AppContext
from opencx.providers.base import InboundMessage, Sender
from tests.conftest import Caller
from tests.integration.inbox_helpers import call, conversation, customer, inbox_ids, write

pytestmark = pytest.mark.timeout(60)


async def found(client: httpx.AsyncClient, caller: Caller, q: str) -> set[int]:
    return set(await inbox_ids(client, caller, view="all", q=q))


async def test_words_match_accents_and_case_aside_and_every_word_must_match(
    client: httpx.AsyncClient, admin: Caller
) -> None:
    helene = await customer(client, admin, "Hélène Dupré")
    complaint = await conversation(client, admin, helene)
    await write(client, admin, complaint, "Je voudrais faire une réclamation sur ma facture.")
    marc = await customer(client, admin, "Marc")
    parcel = await conversation(client, admin, marc, subject="Reclamation colis")
    other = await conversation(client, admin, marc, subject="Bonjour")
    await write(
        client,
        admin,
        other,
        "",
        html="<p>Merci pour l&rsquo;<b>&OElig;uvre</b></p><style>x{}</style>",
    )

    assert await found(client, admin, "reclamation") == {complaint, parcel}
    assert await found(client, admin, "RÉCLAM") == {complaint, parcel}
    assert await found(client, admin, "réclamation facture") == {complaint}
    assert await found(client, admin, "helene") == {complaint}
    assert await found(client, admin, "Dupré Hél") == {complaint}
    assert await found(client, admin, "dupre colis") == set()
    assert await found(client, admin, "oeuvre") == {other}  # its HTML, read as text
    assert await found(client, admin, "style") == set()
    assert await found(client, admin, "!!!") == set()
    # A one-letter word matches whole words only.
    assert await found(client, admin, "m") == set()
    too_long = await client.get("/api/v1/inbox", params={"q": "x" * 201}, headers=admin.headers)
    assert too_long.status_code == 422


async def test_identities_and_case_numbers_find_their_conversations(
    client: httpx.AsyncClient, admin: Caller
) -> None:
    jean = await customer(
        client,
        admin,
        "JD",
        ("email", "jean.dupont@example.com"),
        ("phone", "+33612345678"),
    )
    his = await conversation(client, admin, jean)
    someone = await customer(client, admin, "Someone", ("email", "paul@example.com"))
    theirs = await conversation(client, admin, someone)

    assert await found(client, admin, "jean.dupont@example.com") == {his}
    assert await found(client, admin, "Jean.Dupont@Example.COM") == {his}
    assert await found(client, admin, "jean.dupont@exa") == {his}
    assert await found(client, admin, "other@example.com") == set()
    assert await found(client, admin, "06 12 34 56 78") == {his}
    assert await found(client, admin, "+33 6 12 34 56 78") == {his}
    assert await found(client, admin, "0033612345") == {his}
    assert await found(client, admin, f"#{theirs}") == {theirs}
    assert await found(client, admin, f"{theirs}") == {theirs}
    assert await found(client, admin, "#999999") == set()


async def test_the_search_follows_renames_removals_merges_and_splits(
    client: httpx.AsyncClient, admin: Caller
) -> None:
    helene = await customer(client, admin, "Hélène Dupré", ("email", "helene@example.com"))
    first = await conversation(client, admin, helene)
    parcel = await write(client, admin, first, "Mon colis est perdu.")
    await write(client, admin, first, "Et ma facture aussi.")

    await call(client, admin, "PATCH", f"/customers/{helene}", {"display_name": "Hélène Martin"})
    assert await found(client, admin, "dupre") == set()
    assert await found(client, admin, "martin") == {first}

    split = await call(
        client,
        admin,
        "POST",
        f"/conversations/{first}/split",
        {"message_ids": [parcel["id"]], "subject": "Colis"},
        expect=201,
    )
    assert await found(client, admin, "perdu") == {split["id"]}
    assert await found(client, admin, "facture") == {first}
    await call(client, admin, "POST", f"/conversations/{first}/merge", {"source_id": split["id"]})
    assert await found(client, admin, "perdu") == {first}

    twin = await customer(client, admin, "H. M.", ("email", "hm@example.com"))
    second = await conversation(client, admin, twin)
    merge = {"source_customer_id": twin}
    await call(client, admin, "POST", f"/customers/{helene}/merge", merge, expect=201)
    # Every conversation of the customer now, the one merged away (closed) too.
    assert await found(client, admin, "hm@example.com") == {first, split["id"], second}

    detail = await call(client, admin, "GET", f"/customers/{helene}")
    [identity] = [i for i in detail["identities"] if i["value"] == "hm@example.com"]
    path = f"/customers/{helene}/identities/{identity['id']}"
    await call(client, admin, "DELETE", path, expect=204)
    assert await found(client, admin, "hm@example.com") == set()


async def test_a_message_received_on_a_channel_is_found(
    ctx: AppContext, client: httpx.AsyncClient, admin: Caller
) -> None:
    received = await receive(ctx, email("lea@example.com", "Remboursement attendu", "Léa"))
    assert await found(client, admin, "remboursement") == {received.conversation_id}
    assert await found(client, admin, "attendu lea") == {received.conversation_id}
    assert await found(client, admin, "lea@example.com") == {received.conversation_id}


def email(sender: str, text: str, name: str) -> InboundMessage:
    values: dict[str, Any] = {
        "channel": Channel.EMAIL,
        "provider": "smtp",
        "provider_message_id": f"{sender}-1",
        "sender": Sender(IdentityKind.EMAIL, sender, name),
        "recipient": "support@example.com",
        "text": text,
        "subject": "Question",
    }
    return InboundMessage(**values)
