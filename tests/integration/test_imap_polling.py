"""Existing mailboxes polled over IMAP, against a real Dovecot: what arrives becomes
conversations in the account's queue, once; the mailbox shows it handled; failures are
recorded on the account and never leak the password."""

from __future__ import annotations

import asyncio
import email
import email.message
import os
import socket
import sys
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from pydantic import SecretStr
from sqlalchemy import func, select
from structlog.testing import capture_logs

from opencx.db.models import ChannelAccount, Message
from opencx.features.context import AppContext, transaction
from opencx.features.delivery.outbox import send_queued_message
from opencx.features.sources import imap_poller
from opencx.features.sources.imap_poller import PollResult, poll_mailboxes
from opencx.jobs.registry import default_registry
from opencx.settings import Settings, SmtpOutSettings
from opencx.testing import FakeClock
from tests.conftest import Caller
from tests.integration.imap_server import DovecotServer, ImapUser, dovecot_server  # noqa: F401
from tests.integration.test_directory_api import API, list_all, post

pytestmark = pytest.mark.timeout(60)

MAILBOX = "support@example.com"


@pytest.fixture(autouse=True)
def local_servers_allowed(settings: Settings) -> None:
    """The Dovecot of these tests listens on loopback, refused by default."""
    settings.network.allow_private_destinations = True


def mail(
    sender: str, subject: str, body: str, *, message_id: str | None = None, **headers: str
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = MAILBOX
    message["Subject"] = subject
    if message_id:
        message["Message-ID"] = f"<{message_id}>"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message.as_bytes().replace(b"\n", b"\r\n")


async def imap_account(
    client: httpx.AsyncClient,
    admin: Caller,
    server: DovecotServer,
    user: ImapUser,
    *,
    address: str = MAILBOX,
    password: str | None = None,
    **settings: Any,
) -> tuple[int, int]:
    """An IMAP channel account on ``user``'s mailbox, as an admin creates it; with its
    queue. Returns ``(account_id, queue_id)``."""
    queue = await post(
        client, admin, "/queues", {"name": f"Mail {user.username}", "channel": "email"}
    )
    account = await post(
        client,
        admin,
        "/channel-accounts",
        {
            "channel": "email",
            "provider": "imap",
            "address": address,
            "name": "Support",
            "queue_id": queue["id"],
            "settings": {
                "host": "127.0.0.1",
                "port": server.port,
                "security": "none",
                "username": user.username,
                **settings,
            },
            "secret": user.password if password is None else password,
        },
    )
    return account["id"], queue["id"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def cursor(ctx: AppContext, account_id: int) -> dict[str, Any]:
    async with transaction(ctx) as session:
        account = await session.get(ChannelAccount, account_id)
        assert account is not None
        return dict(account.cursor)


async def message_count(ctx: AppContext) -> int:
    async with transaction(ctx) as session:
        return int(await session.scalar(select(func.count()).select_from(Message)) or 0)


async def messages(client: httpx.AsyncClient, admin: Caller, conversation_id: int) -> list[Any]:
    return await list_all(client, admin, f"/conversations/{conversation_id}/messages")


async def poll_one(ctx: AppContext) -> PollResult:
    (result,) = await poll_mailboxes(ctx)
    return result


# --- receiving -------------------------------------------------------------------------


async def test_new_mail_becomes_conversations_in_the_queue_and_is_marked_read(
    ctx: AppContext, client: httpx.AsyncClient, admin: Caller, dovecot: DovecotServer
) -> None:
    user = dovecot.add_user()
    ada = user.append(
        mail("Ada <ada@example.com>", "Parcel", "Where is my parcel?", message_id="a1@example.com")
    )
    grace = user.append(
        mail("grace@example.com", "Invoice", "Wrong amount.", message_id="g1@example.com")
    )
    # Read in a mail client before OpenCX took the mailbox over: left alone.
    already_read = user.append(
        mail("Old <old@example.com>", "Old news", "Read long ago.", message_id="old@example.com"),
        flags=r"\Seen",
    )
    account_id, queue_id = await imap_account(client, admin, dovecot, user)

    result = await poll_one(ctx)

    assert (result.fetched, result.stored, result.duplicates, result.error) == (2, 2, 0, None)
    conversations = await list_all(client, admin, "/conversations")
    assert sorted(c["subject"] for c in conversations) == ["Invoice", "Parcel"]
    assert {c["queue_id"] for c in conversations} == {queue_id}
    parcel = next(c for c in conversations if c["subject"] == "Parcel")
    (message,) = await messages(client, admin, parcel["id"])
    assert message["body_text"].strip() == "Where is my parcel?"
    assert message["provider_message_id"] == "a1@example.com"
    assert message["metadata"]["provider"] == "imap"
    assert message["metadata"]["recipient"] == MAILBOX
    assert [a["filename"] for a in message["attachments"]] == ["original.eml"]
    flags = user.flags()
    assert r"\Seen" in flags[ada]
    assert r"\Seen" in flags[grace]
    saved = await cursor(ctx, account_id)
    assert saved["uidvalidity"] == user.uidvalidity()
    assert saved["last_uid"] == already_read  # the folder's last when it was caught up
    assert "last_error" not in saved
    assert await message_count(ctx) == 2

    again = await poll_one(ctx)
    assert (again.fetched, again.stored, again.error) == (0, 0, None)
    assert await message_count(ctx) == 2

    later = user.append(
        mail("Ada <ada@example.com>", "Parcel", "Found it, thanks.", message_id="a2@example.com")
    )
    third = await poll_one(ctx)
    assert (third.fetched, third.stored) == (1, 1)
    assert len(await messages(client, admin, parcel["id"])) == 2  # she wrote again: same one
    assert (await cursor(ctx, account_id))["last_uid"] == later
    assert r"\Seen" in user.flags()[later]


async def test_a_message_read_twice_is_stored_once(
    ctx: AppContext,
    client: httpx.AsyncClient,
    admin: Caller,
    dovecot: DovecotServer,
) -> None:
    """A crash after storing a message but before the cursor moved: it is read again."""
    user = dovecot.add_user()
    uid = user.append(mail("ada@example.com", "Parcel", "Where?", message_id="twice@example.com"))
    no_id = user.append(mail("bob@example.com", "No id", "My client sets no Message-ID."))
    account_id, _ = await imap_account(client, admin, dovecot, user)
    assert (await poll_one(ctx)).stored == 2
    async with transaction(ctx) as session:  # as if the poll had died before the cursor
        account = await session.get(ChannelAccount, account_id)
        assert account is not None
        account.cursor = {**account.cursor, "last_uid": uid - 1}

    result = await poll_one(ctx)

    assert (result.fetched, result.stored, result.duplicates) == (2, 0, 2)
    assert await message_count(ctx) == 2
    assert (await cursor(ctx, account_id))["last_uid"] == no_id


class FullDisk:
    """Attachment storage that refuses every write."""

    async def put(self, data: bytes, *, content_type: str) -> str:
        raise OSError(28, "No space left on device")

    async def get(self, key: str) -> bytes:
        raise KeyError(key)


async def test_mail_that_cannot_be_stored_stays_unread_and_is_read_next_time(
    ctx: AppContext, client: httpx.AsyncClient, admin: Caller, dovecot: DovecotServer
) -> None:
    user = dovecot.add_user()
    uid = user.append(mail("ada@example.com", "Parcel", "Where?", message_id="s1@example.com"))
    account_id, _ = await imap_account(client, admin, dovecot, user)
    working, ctx.blobs = ctx.blobs, FullDisk()

    failed = await poll_one(ctx)

    assert failed.error is not None
    assert "could not be stored" in failed.error
    assert r"\Seen" not in user.flags()[uid]  # read with BODY.PEEK[]: still unread
    assert (await cursor(ctx, account_id))["last_uid"] < uid
    assert await message_count(ctx) == 0

    ctx.blobs = working
    retried = await poll_one(ctx)
    assert (retried.stored, retried.error) == (1, None)
    assert r"\Seen" in user.flags()[uid]


async def test_each_poll_reads_a_bounded_batch_oldest_first(
    ctx: AppContext,
    client: httpx.AsyncClient,
    admin: Caller,
    dovecot: DovecotServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(imap_poller, "POLL_BATCH", 2)
    user = dovecot.add_user()
    uids = [
        user.append(
            mail(f"c{n}@example.com", f"Order {n}", "Hello.", message_id=f"b{n}@example.com")
        )
        for n in range(3)
    ]
    account_id, _ = await imap_account(client, admin, dovecot, user)

    first = await poll_one(ctx)
    assert first.fetched == 2
    assert (await cursor(ctx, account_id))["last_uid"] == uids[1]
    assert r"\Seen" not in user.flags()[uids[2]]
    second = await poll_one(ctx)
    assert second.fetched == 1
    subjects = [c["subject"] for c in await list_all(client, admin, "/conversations")]
    assert sorted(subjects) == ["Order 0", "Order 1", "Order 2"]


async def test_handled_mail_is_moved_to_the_processed_folder_which_is_created(
    ctx: AppContext, client: httpx.AsyncClient, admin: Caller, dovecot: DovecotServer
) -> None:
    user = dovecot.add_user()
    user.append(mail("ada@example.com", "Parcel", "Where?", message_id="m1@example.com"))
    await imap_account(client, admin, dovecot, user, processed_folder="Traité")

    result = await poll_one(ctx)

    assert (result.stored, result.error) == (1, None)
    assert user.flags() == {}
    # RFC 3501 modified UTF-7: what any mail client shows as "Traité".
    (moved,) = user.flags(folder='"Trait&AOk-"').values()
    assert r"\Seen" in moved


# --- threading -------------------------------------------------------------------------


class Relay:
    """A real SMTP server standing for the relay our answers go through."""

    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(email.message_from_bytes(envelope.original_content))
        return "250 OK"


@pytest.fixture
def relay(settings: Settings) -> Iterator[Relay]:
    handler = Relay()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings.smtp_out = SmtpOutSettings(host="127.0.0.1", port=port, starttls=False)
        yield handler
    finally:
        controller.stop()


async def test_a_reply_to_our_answer_joins_its_conversation(
    ctx: AppContext,
    client: httpx.AsyncClient,
    admin: Caller,
    dovecot: DovecotServer,
    relay: Relay,
    clock: FakeClock,
) -> None:
    user = dovecot.add_user()
    user.append(mail("Ada <ada@example.com>", "Parcel", "Where?", message_id="q1@example.com"))
    await imap_account(client, admin, dovecot, user)
    # The polled mailbox answers through the relay: it needs no SMTP account of its own.
    await poll_one(ctx)
    (conversation,) = await list_all(client, admin, "/conversations")
    answer = await post(
        client,
        admin,
        f"/conversations/{conversation['id']}/messages",
        {
            "channel": "email",
            "direction": "outbound",
            "author_kind": "agent",
            "body_text": "It left this morning.",
        },
    )
    assert await send_queued_message(ctx, answer["id"])
    (sent,) = relay.messages
    clock.advance(timedelta(days=10).total_seconds())  # too old to continue by itself

    user.append(
        mail(
            "Ada <ada@example.com>",
            "Thanks",  # no ticket token: only In-Reply-To can thread it
            "Got it!",
            message_id="q2@example.com",
            In_Reply_To=sent["Message-ID"],
        )
    )
    result = await poll_one(ctx)

    assert result.stored == 1
    assert len(await list_all(client, admin, "/conversations")) == 1
    texts = [m["body_text"].strip() for m in await messages(client, admin, conversation["id"])]
    assert texts == ["Where?", "It left this morning.", "Got it!"]


# --- renumbered folders and damaged mail ------------------------------------------------


async def test_a_renumbered_folder_is_read_again_without_duplicates(
    ctx: AppContext, client: httpx.AsyncClient, admin: Caller, dovecot: DovecotServer
) -> None:
    user = dovecot.add_user()
    with user.connect() as imap:
        assert imap.create("Support")[0] == "OK"
    with_id = mail("ada@example.com", "Parcel", "Where?", message_id="r1@example.com")
    without_id = mail("bob@example.com", "Refund", "My client sets no Message-ID.")
    user.append(with_id, folder="Support")
    user.append(without_id, folder="Support")
    account_id, _ = await imap_account(client, admin, dovecot, user, folder="Support")
    assert (await poll_one(ctx)).stored == 2
    before = (await cursor(ctx, account_id))["uidvalidity"]

    # The server loses its index: the same mail comes back under new UIDs, unread.
    user.recreate("Support")
    user.append(with_id, folder="Support")
    user.append(without_id, folder="Support")
    new = user.append(
        mail("carol@example.com", "Hello", "New here.", message_id="r3@example.com"),
        folder="Support",
    )
    result = await poll_one(ctx)

    assert (result.fetched, result.stored, result.duplicates) == (3, 1, 2)
    assert await message_count(ctx) == 3
    saved = await cursor(ctx, account_id)
    assert saved["uidvalidity"] != before
    assert saved["uidvalidity"] == user.uidvalidity(folder="Support")
    assert saved["last_uid"] == new
    assert all(r"\Seen" in flags for flags in user.flags(folder="Support").values())


async def test_an_unparseable_message_is_stored_raw_and_flagged(
    ctx: AppContext, client: httpx.AsyncClient, admin: Caller, dovecot: DovecotServer
) -> None:
    user = dovecot.add_user()
    broken = (
        b"From: ada@example.com\r\nSubject: Scan\r\nMessage-ID: <broken@example.com>\r\n"
        b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="cut"\r\n\r\n'
        b"--cut\r\nContent-Type: text/plain\r\n\r\nHere is the scan\r\n--cut\r\n"
        b"Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0"
    )
    uid = user.append(broken)
    await imap_account(client, admin, dovecot, user)

    result = await poll_one(ctx)

    assert (result.stored, result.error) == (1, None)
    (conversation,) = await list_all(client, admin, "/conversations")
    (message,) = await messages(client, admin, conversation["id"])
    assert "unparsed" in message["metadata"]["flags"].split(",")
    assert [a["filename"] for a in message["attachments"] if a["filename"] == "original.eml"]
    assert r"\Seen" in user.flags()[uid]


# --- failures ----------------------------------------------------------------------------


async def test_a_wrong_password_is_recorded_and_never_logged_and_others_go_on(
    ctx: AppContext,
    client: httpx.AsyncClient,
    admin: Caller,
    dovecot: DovecotServer,
    clock: FakeClock,
) -> None:
    locked = dovecot.add_user()
    uid = locked.append(mail("ada@example.com", "Parcel", "Where?", message_id="w1@example.com"))
    wrong = "not-the-Password-42"
    bad_id, _ = await imap_account(client, admin, dovecot, locked, password=wrong)
    fine = dovecot.add_user()
    fine.append(mail("bob@example.com", "Refund", "Please.", message_id="w2@example.com"))
    good_id, _ = await imap_account(
        client, admin, dovecot, fine, address=f"{fine.username}@example.com"
    )

    with capture_logs() as logs:
        results = {r.account_id: r for r in await poll_mailboxes(ctx)}

    assert results[bad_id].error is not None
    assert "authentication failed" in results[bad_id].error.lower()
    assert (results[good_id].stored, results[good_id].error) == (1, None)
    saved = await cursor(ctx, bad_id)
    assert saved["last_error"] == results[bad_id].error
    assert saved["last_error_at"] == clock.now().isoformat()
    assert await message_count(ctx) == 1  # the other mailbox's only
    assert r"\Seen" not in locked.flags()[uid]
    assert any(log["event"] == "imap_poll_failed" for log in logs)
    assert wrong not in repr(logs)
    assert locked.password not in repr(logs)
    assert wrong not in repr(saved)
    # The admin reads what went wrong on the account itself.
    shown = await client.get(f"{API}/channel-accounts/{bad_id}", headers=admin.headers)
    assert shown.json()["poller"]["last_error"] == results[bad_id].error
    assert "last_uid" not in shown.json()["poller"]

    # The password is put right: the next poll reads the mail and clears the error.
    response = await client.patch(
        f"{API}/channel-accounts/{bad_id}",
        json={"secret": locked.password},
        headers=admin.headers,
    )
    assert response.status_code == 200, response.text
    results = {r.account_id: r for r in await poll_mailboxes(ctx)}
    assert (results[bad_id].stored, results[bad_id].error) == (1, None)
    assert "last_error" not in await cursor(ctx, bad_id)


async def test_a_credential_sealed_with_another_key_says_so(
    ctx: AppContext, client: httpx.AsyncClient, admin: Caller, dovecot: DovecotServer
) -> None:
    user = dovecot.add_user()
    user.append(mail("ada@example.com", "Parcel", "Where?", message_id="k1@example.com"))
    account_id, _ = await imap_account(client, admin, dovecot, user)
    ctx.settings.security.secret_key = SecretStr("a rotated secret key, long enough to pass")

    result = await poll_one(ctx)

    assert result.error is not None
    assert "current secret key" in result.error
    assert (await cursor(ctx, account_id))["last_error"] == result.error
    assert await message_count(ctx) == 0


@pytest.mark.parametrize("fault", ["missing folder", "closed port"])
async def test_a_missing_folder_or_a_closed_port_is_recorded(
    ctx: AppContext,
    client: httpx.AsyncClient,
    admin: Caller,
    dovecot: DovecotServer,
    fault: str,
) -> None:
    user = dovecot.add_user()
    if fault == "missing folder":
        settings, says = {"folder": "Nowhere"}, "Nowhere"
    else:  # nothing listens on a port once its socket is closed
        settings, says = {"port": free_port()}, "ConnectionRefusedError"
    account_id, _ = await imap_account(client, admin, dovecot, user, **settings)

    result = await poll_one(ctx)

    assert result.error is not None
    assert says in result.error
    assert (await cursor(ctx, account_id))["last_error"] == result.error


# --- TLS -----------------------------------------------------------------------------------


@pytest.mark.parametrize("security", ["tls", "starttls"])
async def test_tls_and_starttls_verify_the_servers_certificate(
    ctx: AppContext,
    client: httpx.AsyncClient,
    admin: Caller,
    dovecot: DovecotServer,
    monkeypatch: pytest.MonkeyPatch,
    security: str,
) -> None:
    user = dovecot.add_user()
    user.append(mail("ada@example.com", "Parcel", "Where?", message_id=f"{security}@example.com"))
    port = dovecot.tls_port if security == "tls" else dovecot.port
    await imap_account(client, admin, dovecot, user, security=security, port=port)

    untrusted = await poll_one(ctx)  # a self-signed certificate no one vouches for
    assert untrusted.error is not None
    assert "CERTIFICATE_VERIFY_FAILED" in untrusted.error
    assert await message_count(ctx) == 0

    monkeypatch.setenv("SSL_CERT_FILE", str(dovecot.cert_file))
    trusted = await poll_one(ctx)
    assert (trusted.stored, trusted.error) == (1, None)


# --- the job -------------------------------------------------------------------------------


async def test_the_job_polls_every_mailbox_each_minute(
    ctx: AppContext, client: httpx.AsyncClient, admin: Caller, dovecot: DovecotServer
) -> None:
    user = dovecot.add_user()
    user.append(mail("ada@example.com", "Parcel", "Where?", message_id="job@example.com"))
    await imap_account(client, admin, dovecot, user)
    job = default_registry().get("poll_imap_mailboxes")
    assert job.every == timedelta(minutes=1)

    await job.run(ctx, {})

    assert await message_count(ctx) == 1


# --- the command ---------------------------------------------------------------------------


async def test_the_poll_command_says_what_each_mailbox_gave(
    ctx: AppContext,
    client: httpx.AsyncClient,
    admin: Caller,
    dovecot: DovecotServer,
    settings: Settings,
) -> None:
    user = dovecot.add_user()
    user.append(mail("ada@example.com", "Parcel", "Where?", message_id="cli@example.com"))
    good_id, _ = await imap_account(client, admin, dovecot, user)
    locked = dovecot.add_user()
    bad_id, _ = await imap_account(
        client,
        admin,
        dovecot,
        locked,
        address=f"{locked.username}@example.com",
        password="wrong-Password-7",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENCX_")}
    env |= {
        "OPENCX_ENV": "test",
        "OPENCX_DATABASE__URL": settings.database.url,
        "OPENCX_STORAGE__PATH": str(settings.storage.path),
        "OPENCX_NETWORK__ALLOW_PRIVATE_DESTINATIONS": "true",
    }

    command = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "opencx",
        "mailboxes",
        "poll",
        env=env,
        cwd=Path(settings.storage.path).parent,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(command.communicate(), timeout=60)
    stdout, stderr = out.decode(), err.decode()

    assert command.returncode == 1, stderr  # one mailbox could not be read
    lines = stdout.splitlines()
    assert f"{good_id} {MAILBOX}: fetched 1, new 1, already stored 0" in lines
    (failed,) = [line for line in lines if line.startswith(f"{bad_id} ")]
    assert "error:" in failed
    assert "authentication failed" in failed.lower()
    assert "wrong-Password-7" not in stdout + stderr
    assert await message_count(ctx) == 1
