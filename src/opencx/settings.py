"""Runtime configuration, read from ``OPENCX_*`` environment variables.

Settings are built once by the entry point (CLI, test fixture) and passed in;
nothing in the package reads the environment at import time.
Nested groups use a double underscore: ``OPENCX_DATABASE__URL``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = [
    "BusSettings",
    "DatabaseSettings",
    "JobsSettings",
    "KnowledgeSettings",
    "LimitsSettings",
    "MailParsingSettings",
    "MetaSettings",
    "NetworkSettings",
    "RoutingSettings",
    "SecuritySettings",
    "SendGridSettings",
    "ServerSettings",
    "Settings",
    "SmtpOutSettings",
    "SmtpSettings",
    "StorageSettings",
    "TwilioSettings",
]

DEV_SECRET = "dev-only-insecure-secret-change-me"  # noqa: S105 - refused outside dev
#: Shortest shared secret accepted in a webhook URL.
MIN_TOKEN_LENGTH = 16


class DatabaseSettings(BaseModel):
    """Where the data lives: an SQLite file by default, PostgreSQL by URL."""

    url: str = "sqlite+aiosqlite:///./opencx.db"
    echo: bool = False
    pool_size: int = Field(default=10, ge=1)

    @property
    def async_url(self) -> str:
        """The URL with the async driver SQLAlchemy needs, whatever the user typed."""
        url = self.url
        for prefix in ("postgres://", "postgresql://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        if url.startswith("sqlite:///"):
            return "sqlite+aiosqlite:///" + url[len("sqlite:///") :]
        return url

    @property
    def is_postgres(self) -> bool:
        return self.async_url.startswith("postgresql")


class ServerSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    public_url: str | None = None
    default_locale: str = "en"
    default_timezone: str = "Europe/Paris"


class SecuritySettings(BaseModel):
    secret_key: SecretStr = SecretStr(DEV_SECRET)
    session_max_age_seconds: int = Field(default=12 * 3600, ge=60)
    cookie_secure: bool = False
    login_attempts: int = Field(default=5, ge=1)
    login_window_seconds: int = Field(default=300, ge=1)
    # How long this process remembers whom an API token belongs to; whatever ends or
    # changes access is heard at once (features/auth/token_cache.py). 0: no cache.
    token_cache_seconds: float = Field(default=5.0, ge=0)


class LimitsSettings(BaseModel):
    """Rate and size limits at the public edges (docs/security.md). Counters live in
    Redis when the bus is Redis (shared by every node), else in the database when it is
    PostgreSQL (shared), else in this process's memory; ``storage`` forces one."""

    storage: Literal["auto", "memory", "redis", "database"] = "auto"
    # Sign-in: per account and client address (strict: security.login_attempts per
    # security.login_window_seconds), per client address over all accounts (strict),
    # per account over all addresses (no lock: each attempt past the free ones waits).
    login_client_attempts: int = Field(default=50, ge=1)
    login_account_free_attempts: int = Field(default=20, ge=1)
    login_account_delay_seconds: float = Field(default=1.0, ge=0)
    login_account_max_delay_seconds: float = Field(default=15.0, ge=0)
    # The public chat, per client address ("visitor") and per e-mail address given.
    chat_window_seconds: int = Field(default=600, ge=1)
    chat_starts_per_visitor: int = Field(default=10, ge=1)
    chat_starts_per_address: int = Field(default=5, ge=1)
    chat_messages_per_minute: int = Field(default=30, ge=1)
    chat_files_per_visitor: int = Field(default=20, ge=1)
    chat_emails_per_address_per_day: int = Field(default=10, ge=1)
    # Request bodies, counted while they arrive: the API and pages; uploads (which
    # also have storage.max_upload_bytes); provider webhooks.
    body_bytes: int = Field(default=1024 * 1024, ge=1024)
    upload_overhead_bytes: int = Field(default=64 * 1024, ge=0)
    webhook_body_bytes: int = Field(default=40 * 1024 * 1024, ge=1024)


class BusSettings(BaseModel):
    """Cross-node events: in-process when ``url`` is empty, else redis:// or nats://."""

    url: str | None = None
    channel: str = "opencx.events"


class JobsSettings(BaseModel):
    """``auto`` runs jobs in-process on SQLite and through procrastinate on PostgreSQL."""

    backend: Literal["auto", "inprocess", "procrastinate"] = "auto"
    run_in_server: bool = True
    poll_interval_seconds: float = Field(default=1.0, gt=0)
    max_attempts: int = Field(default=5, ge=1)


class RoutingSettings(BaseModel):
    """The router: offers, missed offers, aging, and how the active one is chosen."""

    run_in_server: bool = True
    offer_timeout_seconds: float = Field(default=20.0, gt=0)
    max_missed_offers: int = Field(default=3, ge=0)
    aging_seconds: float | None = Field(default=60.0, gt=0)
    reoffer_cooldown_seconds: float = Field(default=60.0, ge=0)
    # How often the router looks for commands from other nodes, and reloads its
    # configuration (queues, sites, hours, agents' profiles) to catch any change.
    poll_interval_seconds: float = Field(default=0.2, gt=0)
    # After a wake-up, how long the router waits for more commands to batch with it.
    # Under a burst, 30 ms gathers about twice the tasks of 10 ms into one transaction,
    # which cut the server's CPU per inbound message by about a fifth
    # (docs/performance.md); it is also the most an offer waits for it.
    batch_window_seconds: float = Field(default=0.03, ge=0)
    reload_interval_seconds: float = Field(default=10.0, gt=0)
    # How often a standby tries to become the active router.
    election_interval_seconds: float = Field(default=1.0, gt=0)
    # Tasks an agent takes at once per channel when their profile sets none.
    default_capacity: dict[str, int] = Field(
        default_factory=lambda: {
            "voice": 1,
            "chat": 3,
            "email": 5,
            "sms": 3,
            "whatsapp": 3,
            "messenger": 3,
            "instagram": 3,
            "twitter": 3,
            "review": 5,
        }
    )


class SmtpSettings(BaseModel):
    """The inbound SMTP server for mailboxes (channel accounts with provider "smtp")."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=2525, ge=0, le=65535)
    # The name the server gives itself in its greeting and Received headers.
    hostname: str = "opencx.localhost"
    max_message_bytes: int = Field(default=35 * 1024 * 1024, ge=1024)
    # Accept mail for addresses no mailbox is configured for (routed to no queue).
    accept_unknown_recipients: bool = False


class MailParsingSettings(BaseModel):
    """How received e-mail (SMTP and IMAP) is parsed: in a pool of worker processes, off
    the event loop, within bounds; a message past a bound is kept raw and flagged."""

    # Worker processes that parse mail for ``opencx serve``.
    workers: int = Field(default=2, ge=1, le=64)
    # MIME parts read per message, containers included.
    max_parts: int = Field(default=1000, ge=1)
    # Multiparts nested deeper than this are not opened.
    max_depth: int = Field(default=32, ge=1, le=256)
    # Characters of an HTML body converted to the message's text.
    max_html_chars: int = Field(default=2_000_000, ge=1000)


class SmtpOutSettings(BaseModel):
    """Where e-mail answers and acknowledgements are sent (your relay or provider);
    without a ``host`` they go to the ``outbox`` folder if one is set, else stay queued
    and are sent once a host is set."""

    host: str | None = None
    port: int = Field(default=587, ge=1, le=65535)
    username: str | None = None
    password: SecretStr | None = None
    starttls: bool = True
    tls: bool = False  # implicit TLS (port 465) instead of STARTTLS
    timeout_seconds: float = Field(default=30.0, gt=0)
    # Attempts before a message is marked failed; retries back off exponentially.
    max_attempts: int = Field(default=8, ge=1)
    # Without a relay (no ``host``), write each e-mail as an .eml file in this folder and
    # count it sent: a local outbox a person reads (``opencx demo`` sets one).
    outbox: Path | None = None


class MetaSettings(BaseModel):
    """Meta (WhatsApp Cloud API, Messenger, Instagram). Webhooks: the app secret signs
    every delivery; the verify token answers the subscription check. Sending: the Graph
    API with ``access_token`` (a system user's token with access to every WhatsApp
    number, page and Instagram account configured); without it answers stay queued."""

    app_secret: SecretStr | None = None
    verify_token: SecretStr | None = None
    access_token: SecretStr | None = None
    graph_base: str = "https://graph.facebook.com"
    graph_version: str = "v21.0"
    timeout_seconds: float = Field(default=30.0, gt=0)
    # Attempts before a message is marked failed; retries back off exponentially.
    max_attempts: int = Field(default=8, ge=1)
    # Meta granted the app the Human Agent permission: an agent (never a bot) may answer
    # on Messenger and Instagram up to 7 days after the customer's last message.
    human_agent_tag: bool = False


class TwilioSettings(BaseModel):
    """Twilio (SMS, MMS, WhatsApp). Webhooks: the auth token signs every request.
    Sending: the Messages API with ``account_sid`` and the auth token; without both,
    answers stay queued. ``status_callback_url`` is the public URL of
    ``/webhooks/twilio/sms/status``, sent with each message (omitted when unset)."""

    account_sid: str | None = None
    auth_token: SecretStr | None = None
    api_base: str = "https://api.twilio.com"
    status_callback_url: str | None = None
    timeout_seconds: float = Field(default=30.0, gt=0)
    # Attempts before a message is marked failed; retries back off exponentially.
    max_attempts: int = Field(default=8, ge=1)


class SendGridSettings(BaseModel):
    """SendGrid Inbound Parse: it signs nothing by default, so the URL it posts to carries
    a shared secret (``?token=``, or the password of basic auth in that URL)."""

    inbound_token: SecretStr | None = None

    @field_validator("inbound_token")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        # The token is the only thing between the Internet and the mailboxes.
        if value is not None and len(value.get_secret_value()) < MIN_TOKEN_LENGTH:
            raise ValueError(f"the inbound token needs at least {MIN_TOKEN_LENGTH} characters")
        return value


class EmailAuthSettings(BaseModel):
    """Whose ``Authentication-Results`` fields count: the authserv-ids of the relays that
    receive our mail from the internet (``mx.example.com``). A field with any other id
    is ignored, since anyone can write one; with none configured nothing is trusted."""

    trusted_authserv_ids: tuple[str, ...] = ()
    # With no trusted relay's field, check DKIM signatures ourselves (DNS queries; the
    # ``dkim`` extra): it can only show a sender as proven, never as forged.
    verify_dkim: bool = False
    dkim_timeout_seconds: float = Field(default=5.0, gt=0, le=60)

    @field_validator("verify_dkim")
    @classmethod
    def _dkim_installed(cls, value: bool) -> bool:
        if value and importlib.util.find_spec("dkim") is None:
            raise ValueError("verify_dkim needs dkimpy: pip install 'opencx[dkim]'")
        return value


class StorageSettings(BaseModel):
    """Attachments: a directory on disk (object storage plugs in behind the same port)."""

    path: Path = Path("./opencx-data/attachments")
    max_upload_bytes: int = Field(default=25 * 1024 * 1024, ge=1)
    # A file uploaded for an answer that was never written is removed after this long.
    unused_upload_hours: int = Field(default=24, ge=1)


class PublicChannelSettings(BaseModel):
    """Google Play and App Store reviews and X mentions, polled and answered through
    the providers' APIs; each account's own credential is on the channel account.

    The URLs default to the providers' own (``None``); set them only to reach a proxy
    or a test double."""

    google_api_base: str | None = None  # https://androidpublisher.googleapis.com
    google_token_url: str | None = None  # https://oauth2.googleapis.com/token
    app_store_api_base: str | None = None  # https://api.appstoreconnect.apple.com
    x_api_base: str | None = None  # https://api.x.com
    timeout_seconds: float = Field(default=30.0, gt=0)
    # Attempts at sending one reply before it is marked failed; retries back off.
    max_attempts: int = Field(default=8, ge=1)


class IntakeSettings(BaseModel):
    """What customers send on messaging channels: where a message to an address no
    channel account has goes, and the files fetched from providers (MMS, WhatsApp,
    Messenger media), checked by size and by type (``fnmatch`` patterns, matched
    against the type the bytes show, not only the declared one)."""

    # A queue id; None: such a message is kept, in no queue, logged and counted.
    unknown_account_queue_id: int | None = Field(default=None, ge=1)
    media_max_bytes: int = Field(default=16 * 1024 * 1024, ge=1)
    media_types: list[str] = [
        "image/jpeg",
        "image/png",
        "image/gif",
        "image/webp",
        "image/heic",
        "audio/*",
        "video/*",
        "application/pdf",
        "text/plain",
        "text/vcard",
        "text/x-vcard",
    ]
    media_timeout_seconds: float = Field(default=30.0, gt=0)
    # Attempts at fetching one file before it is marked failed; retries back off.
    media_max_attempts: int = Field(default=6, ge=1)


class KnowledgeSettings(BaseModel):
    """Suggested answers: each process keeps a search index of the canned responses,
    the knowledge base and the agents' answers in the most recent resolved
    conversations, rebuilt when they change.

    A change to a canned response or an article shows in the next suggestions; newly
    resolved conversations join the index at most every ``refresh_seconds`` (a
    rebuild costs about 0.3 s at 6,000 documents, and conversations are resolved all
    day long)."""

    past_conversations: int = Field(default=5000, ge=0, le=100_000)
    refresh_seconds: float = Field(default=30.0, ge=0)


class DemoSettings(BaseModel):
    """The demo's living traffic (``opencx demo``, docs/demo.md): simulated customers
    write on every written channel through the real intake, and simulated agents take
    their contacts. Off unless set: ``opencx demo`` turns it on (``--no-simulation``
    keeps it off); ``opencx serve`` runs it only with ``OPENCX_DEMO__SIMULATION=true``."""

    simulation: bool = False
    # New contacts a minute on each written channel (web chat, e-mail, SMS, WhatsApp,
    # Messenger), on average.
    contacts_per_minute: float = Field(default=2.0, gt=0, le=600)
    # How much faster than real time the simulated people act (tests speed it up).
    speed: float = Field(default=1.0, gt=0, le=10_000)
    # The seed of the simulation's random draws; none: a new one each start.
    seed: int | None = None


class NetworkSettings(BaseModel):
    """Where admin-configured hosts (an IMAP server) may lead the server: public
    addresses only, unless ``allow_private_destinations`` (a mail server on the
    installation's own network; tests and demos with local servers)."""

    allow_private_destinations: bool = False


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="OPENCX_",
        env_nested_delimiter="__",
        env_file=".env",
        extra="ignore",
    )

    env: Literal["dev", "test", "prod"] = "dev"
    log_json: bool = False
    database: DatabaseSettings = DatabaseSettings()
    server: ServerSettings = ServerSettings()
    security: SecuritySettings = SecuritySettings()
    bus: BusSettings = BusSettings()
    limits: LimitsSettings = LimitsSettings()
    jobs: JobsSettings = JobsSettings()
    storage: StorageSettings = StorageSettings()
    public_channels: PublicChannelSettings = PublicChannelSettings()
    routing: RoutingSettings = RoutingSettings()
    smtp: SmtpSettings = SmtpSettings()
    smtp_out: SmtpOutSettings = SmtpOutSettings()
    meta: MetaSettings = MetaSettings()
    twilio: TwilioSettings = TwilioSettings()
    sendgrid: SendGridSettings = SendGridSettings()
    intake: IntakeSettings = IntakeSettings()
    email_auth: EmailAuthSettings = EmailAuthSettings()
    network: NetworkSettings = NetworkSettings()
    mail_parsing: MailParsingSettings = MailParsingSettings()
    knowledge: KnowledgeSettings = KnowledgeSettings()
    demo: DemoSettings = DemoSettings()

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Settings:
        secret = self.security.secret_key.get_secret_value()
        if self.env == "prod" and (secret == DEV_SECRET or len(secret) < 32):
            raise ValueError(
                "OPENCX_SECURITY__SECRET_KEY must be set to a random value of at least "
                "32 characters when OPENCX_ENV=prod"
            )
        return self

    @property
    def jobs_backend(self) -> Literal["inprocess", "procrastinate"]:
        if self.jobs.backend == "auto":
            return "procrastinate" if self.database.is_postgres else "inprocess"
        return self.jobs.backend
