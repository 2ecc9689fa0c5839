"""What a channel account needs beyond its address: the provider's connection settings,
its credential, and the position of its poller.

Rules:
- ``settings`` are per provider (``PROVIDER_SETTINGS``): checked on every write, with
  the offending key named; a provider with no schema takes none;
- a credential (an IMAP password, a service-account key, an API token) is sealed with
  a key derived from ``security.secret_key`` before it is stored, is never returned by
  the API (only ``has_secret``) and never logged or audited; rotating the secret key
  makes sealed credentials unreadable, which says so (``SecretUnreadable``) rather than
  failing later at the provider;
- a poller's ``cursor`` is written only by the poller, in its own transaction, so an
  admin's change of settings and a poll never overwrite each other.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from typing import Any, Literal

from cryptography.fernet import Fernet, InvalidToken
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from opencx.core.errors import InvalidInput

__all__ = [
    "PROVIDER_SETTINGS",
    "AppStoreSettings",
    "GooglePlaySettings",
    "ImapAccountSettings",
    "InvitationRule",
    "SecretUnreadable",
    "SmtpAccountSettings",
    "Threading",
    "TwitterSettings",
    "WidgetSettings",
    "check_settings",
    "open_secret",
    "seal_secret",
]


class _ProviderSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


#: What a new e-mail with no reply fields and no ticket token joins (see
#: ``opencx.core.mail_trust``): ``subject``, the customer's recent open conversation with
#: the same subject; ``recent``, their latest recent open conversation whatever its
#: subject. Unset means ``subject``.
Threading = Literal["subject", "recent"]


class SmtpAccountSettings(_ProviderSettings):
    """A mailbox our SMTP server receives for."""

    threading: Threading | None = None


class ImapAccountSettings(_ProviderSettings):
    """An existing mailbox polled over IMAP; the password is the account's secret."""

    threading: Threading | None = None

    host: str = Field(min_length=1, max_length=255)
    port: int = Field(default=993, ge=1, le=65535)
    security: Literal["tls", "starttls", "none"] = "tls"
    username: str = Field(min_length=1, max_length=320)
    folder: str = Field(default="INBOX", min_length=1, max_length=255)
    # Where handled mail is moved; none only marks it \Seen.
    processed_folder: str | None = Field(default=None, min_length=1, max_length=255)


class GooglePlaySettings(_ProviderSettings):
    """An app's reviews on Google Play; the secret is a service account's JSON key."""

    package_name: str = Field(min_length=1, max_length=255, examples=["com.example.app"])


class AppStoreSettings(_ProviderSettings):
    """An app's reviews on the App Store; the secret is the App Store Connect API
    private key (``.p8`` text)."""

    app_id: str = Field(min_length=1, max_length=32, pattern=r"^[0-9]+$")
    issuer_id: str = Field(min_length=1, max_length=64)
    key_id: str = Field(min_length=1, max_length=32)


class TwitterSettings(_ProviderSettings):
    """Mentions of an X account; the secret is an OAuth 2.0 user access token with
    ``tweet.read``, ``users.read`` and ``tweet.write``: bare, or a JSON object with the
    refresh token that renews it (``offline.access``) and, for a confidential client,
    the app's client secret (see ``opencx.providers.x.read_credential``)."""

    user_id: str = Field(min_length=1, max_length=32, pattern=r"^[0-9]+$")
    # The X app's OAuth 2.0 client id, a public identifier: needed to refresh tokens.
    client_id: str | None = Field(
        default=None, min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.~-]+$"
    )


class InvitationRule(_ProviderSettings):
    """Invite a visitor to chat when every condition given holds."""

    # The page's path starts with this (``/checkout``); none matches every page.
    path_prefix: str | None = Field(default=None, min_length=1, max_length=500)
    seconds_on_page: int = Field(default=0, ge=0, le=24 * 3600)
    # The cart value the page reports (``OpenCX.setCartValue``) is at least this.
    min_cart_value: float | None = Field(default=None, ge=0)
    message_en: str = Field(min_length=1, max_length=300)
    message_fr: str = Field(min_length=1, max_length=300)


class WidgetSettings(_ProviderSettings):
    """A web chat widget embedded on a site's pages."""

    # The pages allowed to open the widget (``https://www.example.com``); none: any.
    allowed_origins: tuple[str, ...] = Field(default=(), max_length=20)
    invitations: tuple[InvitationRule, ...] = Field(default=(), max_length=20)
    title_en: str = Field(default="Chat with us", min_length=1, max_length=80)
    title_fr: str = Field(default="Discutons", min_length=1, max_length=80)
    # The mailbox (an ``smtp`` or ``imap`` account's address) that takes a visitor's
    # message when nobody can chat, turning it into an e-mail conversation, and sends
    # transcripts; none: the chat waits, and no transcripts.
    offline_mailbox: str | None = Field(default=None, min_length=3, max_length=320)


PROVIDER_SETTINGS: Mapping[str, type[_ProviderSettings]] = {
    "smtp": SmtpAccountSettings,
    "imap": ImapAccountSettings,
    "google_play": GooglePlaySettings,
    "app_store": AppStoreSettings,
    "twitter": TwitterSettings,
    "widget": WidgetSettings,
}


def check_settings(provider: str, raw: Mapping[str, Any]) -> dict[str, Any]:
    """The settings to store for ``provider``; ``InvalidInput`` names the bad key."""
    schema = PROVIDER_SETTINGS.get(provider)
    if schema is None:
        if raw:
            raise InvalidInput(f"provider {provider!r} takes no settings", field="settings")
        return {}
    try:
        return schema.model_validate(dict(raw)).model_dump(mode="json", exclude_none=True)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        raise InvalidInput(
            f"settings.{where}: {error['msg']}", field=f"settings.{where}" if where else "settings"
        ) from None


class SecretUnreadable(InvalidInput):
    """A stored credential sealed with another secret key: enter it again."""


def _fernet(secret_key: str) -> Fernet:
    # A key of its own, so that the cookie-signing key never seals anything directly.
    digest = hashlib.sha256(b"opencx channel credentials\x00" + secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal_secret(secret_key: str, plaintext: str) -> str:
    return _fernet(secret_key).encrypt(plaintext.encode()).decode("ascii")


def open_secret(secret_key: str, sealed: str) -> str:
    try:
        return _fernet(secret_key).decrypt(sealed.encode("ascii")).decode()
    except (InvalidToken, ValueError):
        raise SecretUnreadable(
            "the stored credential cannot be read with the current secret key: enter it again",
            field="secret",
        ) from None
