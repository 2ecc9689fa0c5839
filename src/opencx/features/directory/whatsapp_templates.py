"""WhatsApp templates: the catalog of approved templates an admin keeps per WhatsApp
account, which the agent desktop offers once a customer's 24-hour window is closed.

Rules:
- a template belongs to one WhatsApp channel account (Meta or Twilio); another
  channel's account has none (422);
- ``(account, name, language)`` is unique; ``name`` is the template's name at Meta
  (letters, digits, underscores); ``language`` a WhatsApp language code (``fr``,
  ``en_US``); ``body`` its text, whose placeholders are numbered ``{{1}}``, ``{{2}}``…
  without a gap (``opencx.core.whatsapp_templates``);
- an account at Twilio sends a template by its Content SID (``HX`` and 32 hex digits):
  on such an account a template without one is refused (422), since it could not be
  sent;
- reading follows the account: whoever sees the account reads its templates
  (``directory.read``); admins manage them (``directory.write``), each change audited;
- the catalog is the desktop's list, not a gate: a template it does not hold may still
  be sent through the API, as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import Field, field_validator
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.enums import Channel
from opencx.core.errors import Conflict, InvalidInput, NotFound
from opencx.core.permissions import Permission, Principal, require
from opencx.core.whatsapp_templates import TemplateCategory, placeholder_count
from opencx.db.models import ChannelAccount, WhatsAppTemplate
from opencx.features.common import InputSchema, Page, Schema, paginate
from opencx.features.context import AppContext, transaction
from opencx.features.directory._changes import record_change, reject_nulls
from opencx.features.directory.channel_accounts import load_account

__all__ = [
    "TemplateCreate",
    "TemplateOut",
    "TemplateUpdate",
    "active_templates",
    "create_template",
    "delete_template",
    "get_template",
    "list_templates",
    "update_template",
]

KIND = "whatsapp_template"
NAME_PATTERN = r"^[A-Za-z0-9_]+$"
LANGUAGE_PATTERN = r"^[a-z]{2,3}(_[A-Za-z0-9]{2,8})?$"
CONTENT_SID_PATTERN = r"^HX[0-9a-fA-F]{32}$"
#: Meta's limit on a template's body.
MAX_BODY = 1024
NULLABLE = frozenset({"content_sid"})


def _check_body(body: str) -> str:
    if not body.strip():
        raise ValueError("a template's body cannot be blank")
    placeholder_count(body)  # ValueError names the gap
    return body


class TemplateCreate(InputSchema):
    name: str = Field(min_length=1, max_length=512, pattern=NAME_PATTERN)
    language: str = Field(min_length=2, max_length=16, pattern=LANGUAGE_PATTERN)
    body: str = Field(min_length=1, max_length=MAX_BODY, examples=["Hello {{1}}, your order…"])
    content_sid: str | None = Field(default=None, pattern=CONTENT_SID_PATTERN)
    category: TemplateCategory = TemplateCategory.UTILITY
    is_active: bool = True

    _body = field_validator("body")(_check_body)


class TemplateUpdate(InputSchema):
    """Only the fields sent change; ``content_sid`` may be cleared."""

    name: str | None = Field(default=None, min_length=1, max_length=512, pattern=NAME_PATTERN)
    language: str | None = Field(
        default=None, min_length=2, max_length=16, pattern=LANGUAGE_PATTERN
    )
    body: str | None = Field(default=None, min_length=1, max_length=MAX_BODY)
    content_sid: str | None = Field(default=None, pattern=CONTENT_SID_PATTERN)
    category: TemplateCategory | None = None
    is_active: bool | None = None

    @field_validator("body")
    @classmethod
    def _body_is_numbered(cls, body: str | None) -> str | None:
        return None if body is None else _check_body(body)


class TemplateOut(Schema):
    id: int
    account_id: int
    name: str
    language: str
    body: str
    content_sid: str | None
    category: TemplateCategory
    is_active: bool
    #: How many parameters it takes: one per placeholder number.
    parameters: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: WhatsAppTemplate) -> TemplateOut:
        return cls.model_validate(
            {
                **{name: getattr(row, name) for name in _COLUMNS},
                "parameters": placeholder_count(row.body),
            }
        )


_COLUMNS = tuple(name for name in TemplateOut.model_fields if name != "parameters")


# --- reads -------------------------------------------------------------------------------


async def list_templates(
    ctx: AppContext,
    principal: Principal,
    account_id: int,
    *,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[TemplateOut]:
    """The account's templates, oldest first."""
    require(principal, Permission.DIRECTORY_READ)
    async with transaction(ctx) as session:
        await load_account(session, principal, account_id)
        return await paginate(
            session,
            select(WhatsAppTemplate).where(WhatsAppTemplate.account_id == account_id),
            id_column=WhatsAppTemplate.id,
            cursor=cursor,
            limit=limit,
            to_out=TemplateOut.of,
        )


async def get_template(ctx: AppContext, principal: Principal, template_id: int) -> TemplateOut:
    require(principal, Permission.DIRECTORY_READ)
    async with transaction(ctx) as session:
        row, _ = await _visible(session, principal, template_id)
        return TemplateOut.of(row)


async def active_templates(session: AsyncSession, account_id: int) -> list[TemplateOut]:
    """The account's active templates, by name and language: what the desktop offers."""
    rows = await session.scalars(
        select(WhatsAppTemplate)
        .where(WhatsAppTemplate.account_id == account_id, WhatsAppTemplate.is_active.is_(True))
        .order_by(WhatsAppTemplate.name, WhatsAppTemplate.language)
    )
    return [TemplateOut.of(row) for row in rows]


# --- changes -----------------------------------------------------------------------------


async def create_template(
    ctx: AppContext, principal: Principal, account_id: int, data: TemplateCreate
) -> TemplateOut:
    require(principal, Permission.DIRECTORY_WRITE)
    try:
        async with transaction(ctx) as session:
            account, site_id = await load_account(session, principal, account_id)
            _check_template(account, data.model_dump())
            row = WhatsAppTemplate(**data.model_dump(), account_id=account.id)
            session.add(row)
            await session.flush()
            audit = {**data.model_dump(mode="json"), "account_id": account.id}
            await _changed(session, ctx, principal, row, site_id, "create", audit)
            return TemplateOut.of(row)
    except IntegrityError:
        raise _duplicate() from None


async def update_template(
    ctx: AppContext, principal: Principal, template_id: int, data: TemplateUpdate
) -> TemplateOut:
    require(principal, Permission.DIRECTORY_WRITE)
    changes = data.model_dump(exclude_unset=True)
    reject_nulls(changes, nullable=NULLABLE)
    try:
        async with transaction(ctx) as session:
            row, site_id = await _visible(session, principal, template_id)
            account = await session.get(ChannelAccount, row.account_id)
            assert account is not None
            _check_template(account, {"content_sid": row.content_sid, **changes})
            for name, value in changes.items():
                setattr(row, name, value)
            await session.flush()
            audit = data.model_dump(mode="json", exclude_unset=True)
            await _changed(session, ctx, principal, row, site_id, "update", audit)
            return TemplateOut.of(row)
    except IntegrityError:
        raise _duplicate() from None


async def delete_template(ctx: AppContext, principal: Principal, template_id: int) -> None:
    """Delete a template; messages that used it keep what they sent (in their metadata)."""
    require(principal, Permission.DIRECTORY_WRITE)
    async with transaction(ctx) as session:
        row, site_id = await _visible(session, principal, template_id)
        await session.delete(row)
        await session.flush()
        audit = {"account_id": row.account_id, "name": row.name, "language": row.language}
        await _changed(session, ctx, principal, row, site_id, "delete", audit)


# --- helpers -----------------------------------------------------------------------------


def _check_template(account: ChannelAccount, fields: Mapping[str, Any]) -> None:
    if account.channel is not Channel.WHATSAPP:
        raise InvalidInput(
            f"channel account {account.id} is on {account.channel.value}: only WhatsApp "
            "accounts have templates",
            field="account_id",
        )
    if account.provider == "twilio" and not fields.get("content_sid"):
        raise InvalidInput(
            "Twilio sends a WhatsApp template by its Content SID (HX…): give content_sid",
            field="content_sid",
        )


async def _visible(
    session: AsyncSession, principal: Principal, template_id: int
) -> tuple[WhatsAppTemplate, int | None]:
    row = await session.get(WhatsAppTemplate, template_id)
    if row is not None:
        try:
            _, site_id = await load_account(session, principal, row.account_id)
        except NotFound:
            pass
        else:
            return row, site_id
    raise NotFound(f"WhatsApp template {template_id} does not exist")


def _duplicate() -> Conflict:
    return Conflict(
        "this account already has a template of this name in this language", field="name"
    )


async def _changed(
    session: AsyncSession,
    ctx: AppContext,
    principal: Principal,
    row: WhatsAppTemplate,
    site_id: int | None,
    action: str,
    changes: Mapping[str, Any],
) -> None:
    await record_change(
        session,
        ctx,
        principal,
        kind=KIND,
        entity_id=row.id,
        action=action,
        changes=changes,
        site_id=site_id,
    )
