"""Channel accounts: the addresses on our side that customers write to (a mailbox, a
Twilio number, a Meta page…), and the queue where what they receive goes.

Rules:
- a provider carries only some channels (``PROVIDER_CHANNELS``), and writes its
  addresses one way: e-mail addresses are checked as the users API checks them and
  lower-cased; Twilio numbers follow the phone rule of ``opencx.providers.phones``
  (E.164 where they parse, a short code as given; a ``whatsapp:`` prefix is dropped);
  Meta ids (WhatsApp phone_number_id, page id, Instagram account id) are digits only;
  every other provider's address is an opaque handle, trimmed;
- ``(provider, address)`` is unique; inbound lookups (``find_account``) see active
  accounts only, and normalise the address the same way;
- an account is visible to whoever sees the site of its queue; one with no queue only
  to users who see every site, as for queues;
- an automatic acknowledgement (``auto_ack_hours``) is for e-mail accounts only;
- ``settings`` are checked against the provider's schema, and a credential (``secret``)
  is sealed before it is stored, never returned (only ``has_secret``) and never audited
  (``provider_settings``); sending ``"secret": null`` removes it;
- a host to connect to (IMAP's ``settings.host``) that resolves to a loopback, private,
  link-local or reserved address is refused (422) unless
  ``network.allow_private_destinations``; the poller checks again at each connection;
- what a poller last said (``poller``) is read in full by admins (``directory.write``);
  others see whether it failed and when, not its words, which can quote a server.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import Field, SecretStr
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.enums import Channel
from opencx.core.errors import Conflict, InvalidInput, NotFound
from opencx.core.permissions import Permission, Principal, require
from opencx.db.models import ChannelAccount, Queue
from opencx.features.common import InputSchema, Page, Schema, paginate
from opencx.features.context import AppContext, transaction
from opencx.features.destinations import check_host
from opencx.features.directory._changes import (
    RefId,
    name_prefix,
    record_change,
    reject_nulls,
)
from opencx.features.directory.provider_settings import check_settings, seal_secret
from opencx.providers.addresses import normalise_address

__all__ = [
    "MAILBOX_PROVIDERS",
    "PROVIDER_CHANNELS",
    "ChannelAccountCreate",
    "ChannelAccountOut",
    "ChannelAccountUpdate",
    "Locale",
    "Provider",
    "ReceivingAccount",
    "create_account",
    "delete_account",
    "find_account",
    "find_mailbox",
    "get_account",
    "list_accounts",
    "load_account",
    "normalise_address",
    "receiving_accounts",
    "update_account",
]

KIND = "channel_account"
LABEL = "channel account"
#: Longest promised delay: a month.
MAX_ACK_HOURS = 30 * 24
NULLABLE = frozenset({"queue_id", "auto_ack_hours", "secret"})
ADDRESS_FIELDS = frozenset({"channel", "provider", "address"})

Provider = Literal[
    "smtp", "imap", "twilio", "meta", "google_play", "app_store", "twitter", "widget"
]
#: The locales the acknowledgement can be written in (those with a catalog).
Locale = Literal["en", "fr"]

#: The channels each provider carries.
PROVIDER_CHANNELS: Mapping[str, frozenset[Channel]] = {
    "smtp": frozenset({Channel.EMAIL}),
    "imap": frozenset({Channel.EMAIL}),
    "twilio": frozenset({Channel.SMS, Channel.WHATSAPP}),
    "meta": frozenset({Channel.WHATSAPP, Channel.MESSENGER, Channel.INSTAGRAM}),
    "google_play": frozenset({Channel.REVIEW}),
    "app_store": frozenset({Channel.REVIEW}),
    "twitter": frozenset({Channel.TWITTER}),
    "widget": frozenset({Channel.CHAT}),
}


class ChannelAccountCreate(InputSchema):
    channel: Channel
    provider: Provider
    address: str = Field(min_length=1, max_length=320, examples=["support@example.com"])
    name: str = Field(min_length=1, max_length=120)
    queue_id: RefId | None = None
    auto_ack_hours: int | None = Field(default=None, ge=1, le=MAX_ACK_HOURS)
    locale: Locale = "en"
    is_active: bool = True
    settings: dict[str, Any] = Field(default_factory=dict)
    secret: SecretStr | None = Field(default=None, min_length=1, max_length=20_000)


class ChannelAccountUpdate(InputSchema):
    """Only the fields sent change; ``queue_id`` and ``auto_ack_hours`` may be cleared."""

    channel: Channel | None = None
    provider: Provider | None = None
    address: str | None = Field(default=None, min_length=1, max_length=320)
    name: str | None = Field(default=None, min_length=1, max_length=120)
    queue_id: RefId | None = None
    auto_ack_hours: int | None = Field(default=None, ge=1, le=MAX_ACK_HOURS)
    locale: Locale | None = None
    is_active: bool | None = None
    # Replaces the whole settings object.
    settings: dict[str, Any] | None = None
    secret: SecretStr | None = Field(default=None, min_length=1, max_length=20_000)


class ChannelAccountOut(Schema):
    id: int
    channel: Channel
    provider: str
    address: str
    name: str
    queue_id: int | None
    auto_ack_hours: int | None
    locale: str
    is_active: bool
    settings: dict[str, Any]
    has_secret: bool
    # What the account's poller last said (IMAP, reviews, X): when, and its error.
    poller: dict[str, Any]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, account: ChannelAccount, *, errors_visible: bool = True) -> ChannelAccountOut:
        poller = {k: v for k, v in account.cursor.items() if k in POLLER_STATUS}
        if not errors_visible and "last_error" in poller:
            poller["last_error"] = HIDDEN_ERROR
        return cls.model_validate(
            {
                **{name: getattr(account, name) for name in _OUT_COLUMNS},
                "has_secret": account.secret is not None,
                "poller": poller,
            }
        )

    @classmethod
    def reader(cls, principal: Principal) -> Callable[[ChannelAccount], ChannelAccountOut]:
        """How ``principal`` reads accounts: a poller's words are for admins."""
        visible = principal.can(Permission.DIRECTORY_WRITE)
        return lambda account: cls.of(account, errors_visible=visible)


_OUT_COLUMNS = tuple(
    name for name in ChannelAccountOut.model_fields if name not in {"has_secret", "poller"}
)
#: The parts of a poller's cursor an admin reads (its position stays its own).
POLLER_STATUS = frozenset({"last_poll_at", "last_error", "last_error_at", "backoff_until"})
#: ``last_error`` as non-admins read it: a server's words can quote what it is.
HIDDEN_ERROR = "the last poll failed; an admin can read why"


#: The providers of mailboxes: accounts that receive e-mail and send its answers.
MAILBOX_PROVIDERS = ("smtp", "imap")


def _check_account(fields: Mapping[str, Any]) -> None:
    """Cross-field rules on an account's complete state."""
    provider, channel = fields["provider"], fields["channel"]
    carried = PROVIDER_CHANNELS.get(provider, frozenset())
    if channel not in carried:
        names = ", ".join(sorted(c.value for c in carried))
        raise InvalidInput(
            f"provider {provider!r} carries {names}, not {channel.value}", field="channel"
        )
    if fields.get("auto_ack_hours") is not None and channel is not Channel.EMAIL:
        raise InvalidInput(
            "only e-mail accounts send an automatic acknowledgement", field="auto_ack_hours"
        )


# --- reads -------------------------------------------------------------------------------


async def list_accounts(
    ctx: AppContext,
    principal: Principal,
    *,
    cursor: str | None = None,
    limit: int = 50,
    q: str | None = None,
    channel: Channel | None = None,
    provider: str | None = None,
) -> Page[ChannelAccountOut]:
    require(principal, Permission.DIRECTORY_READ)
    stmt = select(ChannelAccount)
    visible = principal.visible_site_ids
    if visible is not None:
        stmt = stmt.join(Queue, ChannelAccount.queue_id == Queue.id).where(
            Queue.site_id.in_(visible)
        )
    if q:
        stmt = stmt.where(name_prefix(ChannelAccount.name, q))
    if channel is not None:
        stmt = stmt.where(ChannelAccount.channel == channel)
    if provider is not None:
        stmt = stmt.where(ChannelAccount.provider == provider)
    async with transaction(ctx) as session:
        return await paginate(
            session,
            stmt,
            id_column=ChannelAccount.id,
            cursor=cursor,
            limit=limit,
            to_out=ChannelAccountOut.reader(principal),
        )


async def get_account(ctx: AppContext, principal: Principal, account_id: int) -> ChannelAccountOut:
    require(principal, Permission.DIRECTORY_READ)
    async with transaction(ctx) as session:
        account, _ = await load_account(session, principal, account_id)
        return ChannelAccountOut.reader(principal)(account)


async def find_account(
    session: AsyncSession, *, provider: str, address: str
) -> ChannelAccount | None:
    """The active account receiving at ``address`` (as the provider wrote it) for a
    channel adapter; ``None`` when there is none or the address is malformed."""
    normalised = _receiving_address(provider, address)
    if normalised is None:
        return None
    return await session.scalar(_ACCOUNT, {"provider": provider, "address": normalised})


@dataclass(frozen=True, slots=True)
class ReceivingAccount:
    """What intake reads of an active account that received a message: its queue (the
    one place a new conversation's queue comes from) with the queue's site, and its
    settings (a mailbox's threading rule)."""

    id: int
    provider: str
    address: str
    queue_id: int | None
    site_id: int | None
    settings: Mapping[str, Any]


#: Active accounts of any of ``providers`` at any of ``addresses``: a superset of the
#: pairs asked for, which the caller narrows. Built once.
_RECEIVING = (
    select(
        ChannelAccount.id,
        ChannelAccount.provider,
        ChannelAccount.address,
        ChannelAccount.queue_id,
        Queue.site_id,
        ChannelAccount.settings,
    )
    .outerjoin(Queue, Queue.id == ChannelAccount.queue_id)
    .where(
        ChannelAccount.provider.in_(bindparam("providers", expanding=True)),
        ChannelAccount.address.in_(bindparam("addresses", expanding=True)),
        ChannelAccount.is_active.is_(True),
    )
)


async def receiving_accounts(
    session: AsyncSession, wanted: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], ReceivingAccount]:
    """The active account of each ``(provider, address as the provider wrote it)`` that
    has one, in one query (what intake needs of accounts, for a whole batch)."""
    normalised = {
        pair: address for pair in set(wanted) if (address := _receiving_address(*pair)) is not None
    }
    if not normalised:
        return {}
    rows = await session.execute(
        _RECEIVING,
        {
            "providers": sorted({provider for provider, _ in normalised}),
            "addresses": sorted(set(normalised.values())),
        },
    )
    found = {(row.provider, row.address): ReceivingAccount(*row) for row in rows}
    return {
        pair: found[pair[0], address]
        for pair, address in normalised.items()
        if (pair[0], address) in found
    }


def _receiving_address(provider: str, address: str) -> str | None:
    try:
        normalised = normalise_address(provider, address)
    except InvalidInput:
        return None
    if "\x00" in normalised:  # no account has one, and PostgreSQL cannot compare it
        return None
    return normalised


_ACTIVE_AT = (
    ChannelAccount.provider == bindparam("provider"),
    ChannelAccount.address == bindparam("address"),
    ChannelAccount.is_active.is_(True),
)
_ACCOUNT = select(ChannelAccount).where(*_ACTIVE_AT)


async def find_mailbox(session: AsyncSession, address: str) -> ChannelAccount | None:
    """The active mailbox at ``address``, whether it receives through our SMTP server or
    is polled over IMAP: either can send answers and acknowledgements."""
    for provider in MAILBOX_PROVIDERS:
        account = await find_account(session, provider=provider, address=address)
        if account is not None:
            return account
    return None


# --- changes -----------------------------------------------------------------------------


async def create_account(
    ctx: AppContext, principal: Principal, data: ChannelAccountCreate
) -> ChannelAccountOut:
    require(principal, Permission.DIRECTORY_WRITE)
    fields = data.model_dump(exclude={"secret", "settings"})
    _check_account(fields)
    fields["address"] = normalise_address(data.provider, data.address)
    fields["settings"] = check_settings(data.provider, data.settings)
    await _check_destination(ctx, fields["settings"])
    fields["secret"] = _sealed(ctx, data.secret)
    try:
        async with transaction(ctx) as session:
            site_id = await _check_queue(session, principal, data.queue_id)
            account = ChannelAccount(**fields)
            session.add(account)
            await session.flush()
            audit = {
                **data.model_dump(mode="json", exclude={"secret"}),
                "address": account.address,
                "settings": account.settings,
                **_secret_audit(data.secret, given=data.secret is not None),
            }
            await _changed(session, ctx, principal, account, site_id, "create", audit)
            return ChannelAccountOut.of(account)
    except IntegrityError:
        raise _duplicate(data.provider, fields["address"]) from None


async def update_account(
    ctx: AppContext, principal: Principal, account_id: int, data: ChannelAccountUpdate
) -> ChannelAccountOut:
    require(principal, Permission.DIRECTORY_WRITE)
    changes = data.model_dump(exclude_unset=True)
    reject_nulls(changes, nullable=NULLABLE)
    try:
        async with transaction(ctx) as session:
            account, site_id = await load_account(session, principal, account_id)
            merged = {**_state(account), **changes}
            _check_account(merged)
            if changes.keys() & ADDRESS_FIELDS:
                changes["address"] = normalise_address(merged["provider"], merged["address"])
            if changes.keys() & {"settings", "provider"}:
                changes["settings"] = check_settings(merged["provider"], merged["settings"])
                await _check_destination(ctx, changes["settings"])
            if "secret" in changes:
                changes["secret"] = _sealed(ctx, data.secret)
            if "queue_id" in changes:
                site_id = await _check_queue(session, principal, changes["queue_id"])
            for name, value in changes.items():
                setattr(account, name, value)
            await session.flush()
            audit = data.model_dump(mode="json", exclude_unset=True, exclude={"secret"})
            audit.update(_secret_audit(data.secret, given="secret" in changes))
            for derived in ("address", "settings"):
                if derived in changes:
                    audit[derived] = changes[derived]
            await _changed(session, ctx, principal, account, site_id, "update", audit)
            return ChannelAccountOut.of(account)
    except IntegrityError:
        raise Conflict(
            "another channel account of this provider has this address", field="address"
        ) from None


async def delete_account(ctx: AppContext, principal: Principal, account_id: int) -> None:
    """Delete an account; to stop receiving while keeping its history, deactivate it.
    Its WhatsApp templates go with it (the database cascades).

    Messages carry no account id, so no foreign key can refuse this: when messages do,
    refuse here with ``refuse_if_used`` (409)."""
    require(principal, Permission.DIRECTORY_WRITE)
    async with transaction(ctx) as session:
        account, site_id = await load_account(session, principal, account_id)
        await session.delete(account)
        await session.flush()
        audit = {"provider": account.provider, "address": account.address}
        await _changed(session, ctx, principal, account, site_id, "delete", audit)


# --- helpers -----------------------------------------------------------------------------


async def _site_of(session: AsyncSession, queue_id: int | None) -> int | None:
    if queue_id is None:
        return None
    return await session.scalar(select(Queue.site_id).where(Queue.id == queue_id))


async def load_account(
    session: AsyncSession, principal: Principal, account_id: int
) -> tuple[ChannelAccount, int | None]:
    """The account and its queue's site, if the principal sees that site (404 otherwise)."""
    account = await session.get(ChannelAccount, account_id)
    site_id = None if account is None else await _site_of(session, account.queue_id)
    if account is None or not principal.sees_site(site_id):
        raise NotFound(f"{LABEL} {account_id} does not exist")
    return account, site_id


async def _check_queue(
    session: AsyncSession, principal: Principal, queue_id: int | None
) -> int | None:
    """The site of the queue named in input; a queue one cannot see does not exist (422)."""
    if queue_id is None:
        return None
    queue = await session.get(Queue, queue_id)
    if queue is None or not principal.sees_site(queue.site_id):
        raise InvalidInput(f"queue {queue_id} does not exist", field="queue_id")
    return queue.site_id


async def _check_destination(ctx: AppContext, settings: Mapping[str, Any]) -> None:
    """Refuse a host that leads to an internal address (checked again at connect time)."""
    host = settings.get("host")
    if isinstance(host, str):
        await check_host(
            host,
            int(settings.get("port", 0)),
            allow_private=ctx.settings.network.allow_private_destinations,
        )


def _state(account: ChannelAccount) -> dict[str, Any]:
    return {
        "channel": account.channel,
        "provider": account.provider,
        "address": account.address,
        "auto_ack_hours": account.auto_ack_hours,
        "settings": account.settings,
    }


def _sealed(ctx: AppContext, secret: SecretStr | None) -> str | None:
    if secret is None:
        return None
    return seal_secret(
        ctx.settings.security.secret_key.get_secret_value(), secret.get_secret_value()
    )


def _secret_audit(secret: SecretStr | None, *, given: bool) -> dict[str, str]:
    """What the audit log says of a credential: that it changed, never its value."""
    if not given:
        return {}
    return {"secret": "removed" if secret is None else "set"}


def _duplicate(provider: str, address: str) -> Conflict:
    return Conflict(f"{provider} already has a channel account for {address!r}", field="address")


async def _changed(
    session: AsyncSession,
    ctx: AppContext,
    principal: Principal,
    account: ChannelAccount,
    site_id: int | None,
    action: str,
    changes: Mapping[str, Any],
) -> None:
    await record_change(
        session,
        ctx,
        principal,
        kind=KIND,
        entity_id=account.id,
        action=action,
        changes=changes,
        site_id=site_id,
    )
