"""Connectors as admins configure them: list, read, create, change, delete.

Rules:
- only admins (``connectors.manage``) read or change a connector's configuration: its
  URL and auth say where the company's systems are and how to enter them;
- ``url_template`` is checked by ``opencx.core.connectors`` (http(s), placeholders in
  the path or query only), and its host must not lead to an internal address unless
  ``network.allow_private_destinations`` (checked again before each call);
- the credential (bearer token, basic password, header value) is sealed as a channel
  account's is, never returned (only ``auth.has_secret``), never logged, and audited
  only as ``"set"``; a kind of auth that needs one cannot be saved without one;
- ``site_ids`` must name existing sites; a name is unique (409);
- every change is audited and appends ``directory.changed`` (kind ``connector``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from opencx.core.connectors import AuthKind, parse_url_template
from opencx.core.errors import Conflict, InvalidInput, NotFound
from opencx.core.events import EventType
from opencx.core.permissions import Permission, Principal, require
from opencx.db.models import Connector, Site
from opencx.features.common import Page, paginate
from opencx.features.connectors.schemas import (
    AuthIn,
    AuthOut,
    BasicAuth,
    BearerAuth,
    ConnectorCreate,
    ConnectorOut,
    ConnectorUpdate,
    HeaderAuth,
)
from opencx.features.context import AppContext, transaction
from opencx.features.destinations import DestinationRefused, check_host
from opencx.features.directory.provider_settings import seal_secret
from opencx.features.events.record import record_audit, record_event

__all__ = [
    "check_destination",
    "connector_out",
    "create_connector",
    "delete_connector",
    "get_connector",
    "list_connectors",
    "update_connector",
]

KIND = "connector"
#: What each kind of auth calls its credential, in input and in errors.
_SECRET_FIELD = {AuthKind.BEARER: "token", AuthKind.BASIC: "password", AuthKind.HEADER: "value"}
_NOT_NULL = frozenset(ConnectorUpdate.model_fields) - {"label"}


def connector_out(row: Connector) -> ConnectorOut:
    return ConnectorOut.model_validate(
        {
            **{name: getattr(row, name) for name in _COLUMNS},
            "label": row.labels or None,
            "auth": AuthOut(
                kind=row.auth_kind,
                username=row.auth_username,
                name=row.auth_header,
                has_secret=row.secret is not None,
            ),
        }
    )


_COLUMNS = tuple(
    name for name in ConnectorOut.model_fields if name not in {"label", "auth", "method"}
)


async def list_connectors(
    ctx: AppContext,
    principal: Principal,
    *,
    cursor: str | None = None,
    limit: int = 50,
    enabled: bool | None = None,
) -> Page[ConnectorOut]:
    require(principal, Permission.CONNECTORS_MANAGE)
    stmt = select(Connector)
    if enabled is not None:
        stmt = stmt.where(Connector.enabled.is_(enabled))
    async with transaction(ctx) as session:
        return await paginate(
            session, stmt, id_column=Connector.id, cursor=cursor, limit=limit, to_out=connector_out
        )


async def get_connector(ctx: AppContext, principal: Principal, connector_id: int) -> ConnectorOut:
    require(principal, Permission.CONNECTORS_MANAGE)
    async with transaction(ctx) as session:
        return connector_out(await _load(session, connector_id))


async def create_connector(
    ctx: AppContext, principal: Principal, data: ConnectorCreate
) -> ConnectorOut:
    require(principal, Permission.CONNECTORS_MANAGE)
    await check_destination(ctx, data.url_template)
    fields: dict[str, Any] = data.model_dump(
        mode="json", exclude={"auth", "label", "method", "fields"}
    )
    fields["labels"] = data.label or {}
    fields["fields"] = _lines(data)
    fields.update(_auth_columns(ctx, data.auth, stored=None))
    fields["site_ids"] = sorted(set(data.site_ids))
    now = ctx.clock.now()
    try:
        async with transaction(ctx) as session:
            await _check_sites(session, data.site_ids)
            connector = Connector(**fields, created_at=now, updated_at=now)
            session.add(connector)
            await session.flush()
            audit = {**data.model_dump(mode="json", exclude={"auth"}), "auth": _audit(data.auth)}
            await _changed(session, ctx, principal, connector.id, "create", audit)
            return connector_out(connector)
    except IntegrityError:
        raise _duplicate(data.name) from None


async def update_connector(
    ctx: AppContext, principal: Principal, connector_id: int, data: ConnectorUpdate
) -> ConnectorOut:
    require(principal, Permission.CONNECTORS_MANAGE)
    changes = data.model_dump(mode="json", exclude_unset=True, exclude={"auth"})
    for name in sorted(_NOT_NULL & data.model_fields_set):
        if getattr(data, name) is None:
            raise InvalidInput(f"{name} cannot be set to null", field=name)
    if data.url_template is not None:
        await check_destination(ctx, data.url_template)
    changes.pop("method", None)
    if data.fields is not None:
        # Each line whole: ``exclude_unset`` would drop the defaults of nested models.
        changes["fields"] = _lines(data)
    if "label" in changes:
        changes["labels"] = changes.pop("label") or {}
    try:
        async with transaction(ctx) as session:
            connector = await _load(session, connector_id)
            if data.auth is not None:
                changes.update(_auth_columns(ctx, data.auth, stored=connector))
            if data.site_ids is not None:
                await _check_sites(session, data.site_ids)
                changes["site_ids"] = sorted(set(data.site_ids))
            for name, value in changes.items():
                setattr(connector, name, value)
            connector.updated_at = ctx.clock.now()
            await session.flush()
            audit = data.model_dump(mode="json", exclude_unset=True, exclude={"auth"})
            if data.auth is not None:
                audit["auth"] = _audit(data.auth)
            await _changed(session, ctx, principal, connector.id, "update", audit)
            return connector_out(connector)
    except IntegrityError:
        raise _duplicate(data.name or "") from None


async def delete_connector(ctx: AppContext, principal: Principal, connector_id: int) -> None:
    require(principal, Permission.CONNECTORS_MANAGE)
    async with transaction(ctx) as session:
        connector = await _load(session, connector_id)
        await session.delete(connector)
        await session.flush()
        audit = {"name": connector.name, "url_template": connector.url_template}
        await _changed(session, ctx, principal, connector_id, "delete", audit)


async def check_destination(ctx: AppContext, url_template: str) -> None:
    """The template's shape, then its host: ``InvalidInput`` on ``url_template``."""
    parse_url_template(url_template)
    url = urlsplit(url_template)
    default_port = 443 if url.scheme == "https" else 80
    try:
        await check_host(
            url.hostname or "",
            url.port or default_port,
            allow_private=ctx.settings.network.allow_private_destinations,
        )
    except DestinationRefused as exc:
        raise InvalidInput(exc.detail, field="url_template") from None


# --- helpers ---------------------------------------------------------------------------


def _lines(data: ConnectorCreate | ConnectorUpdate) -> list[dict[str, Any]]:
    return [item.model_dump(mode="json", exclude_none=True) for item in data.fields or ()]


async def _load(session: AsyncSession, connector_id: int) -> Connector:
    connector = await session.get(Connector, connector_id)
    if connector is None:
        raise NotFound(f"connector {connector_id} does not exist")
    return connector


def _auth_columns(ctx: AppContext, auth: AuthIn, *, stored: Connector | None) -> dict[str, Any]:
    """The auth columns for ``auth``; a credential left out is kept when the stored
    connector has one of the same kind, else it is missing (422)."""
    kind = AuthKind(auth.kind)
    columns: dict[str, Any] = {
        "auth_kind": kind,
        "auth_username": auth.username if isinstance(auth, BasicAuth) else None,
        "auth_header": auth.name if isinstance(auth, HeaderAuth) else None,
        "secret": None,
    }
    if kind is AuthKind.NONE:
        return columns
    given = _given_secret(auth)
    if given is not None:
        secret_key = ctx.settings.security.secret_key.get_secret_value()
        columns["secret"] = seal_secret(secret_key, given)
    elif stored is not None and stored.auth_kind is kind and stored.secret is not None:
        columns["secret"] = stored.secret
    else:
        name = _SECRET_FIELD[kind]
        raise InvalidInput(f"{kind.value} auth needs auth.{name}", field=f"auth.{name}")
    return columns


def _given_secret(auth: AuthIn) -> str | None:
    secret = None
    if isinstance(auth, BearerAuth):
        secret = auth.token
    elif isinstance(auth, BasicAuth):
        secret = auth.password
    elif isinstance(auth, HeaderAuth):
        secret = auth.value
    return None if secret is None else secret.get_secret_value()


def _audit(auth: AuthIn) -> dict[str, Any]:
    """What the audit log keeps of auth: its kind and names, and whether a credential
    was given, never the credential."""
    shown = auth.model_dump(mode="json", exclude={"token", "password", "value"})
    if _given_secret(auth) is not None:
        shown["secret"] = "set"  # noqa: S105 - that one was given, not what it is
    return shown


async def _check_sites(session: AsyncSession, site_ids: list[int]) -> None:
    wanted = set(site_ids)
    if not wanted:
        return
    found = set(await session.scalars(select(Site.id).where(Site.id.in_(wanted))))
    missing = sorted(wanted - found)
    if missing:
        raise InvalidInput(f"site {missing[0]} does not exist", field="site_ids")


def _duplicate(name: str) -> Conflict:
    return Conflict(f"a connector named {name!r} already exists", field="name")


async def _changed(
    session: AsyncSession,
    ctx: AppContext,
    principal: Principal,
    connector_id: int,
    action: str,
    changes: dict[str, Any],
) -> None:
    record_audit(
        session,
        ctx,
        actor_user_id=principal.user_id,
        action=f"{KIND}.{action}",
        entity_kind=KIND,
        entity_id=connector_id,
        changes=changes,
    )
    await record_event(
        session,
        ctx,
        EventType.DIRECTORY_CHANGED,
        entity_kind=KIND,
        entity_id=connector_id,
        payload={"kind": KIND, "action": action},
        actor_user_id=principal.user_id,
    )
