"""``opencx``: serve, demo, database, users, tokens and simulations."""

from __future__ import annotations

import asyncio
import socket
import sys
import time
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from fastapi import FastAPI
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from opencx import __version__
from opencx.cli.demo import DEMO_CUSTOMERS, DEMO_MAILBOX, DEMO_WIDGET
from opencx.cli.demo_crm import DEMO_CRM_HOST, DEMO_CRM_PATH, create_demo_crm
from opencx.cli.mailboxes import mailboxes_app
from opencx.cli.simulate import simulate_command
from opencx.core.enums import Role
from opencx.core.errors import OpenCXError
from opencx.db import migrate
from opencx.features.auth import create_api_token
from opencx.features.auth.tokens import TokenOut, list_tokens_as_system, revoke_token_as_system
from opencx.features.reports import rebuild_intervals
from opencx.features.users.service import UserCreate, create_user_as_system
from opencx.runtime import build_app, build_context, run_job_worker, upgrade_database
from opencx.settings import Settings
from opencx.structured_logging import configure_logging

__all__ = ["app", "run"]

app = typer.Typer(help="OpenCX omnichannel contact center.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
user_app = typer.Typer(help="Users.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
reports_app = typer.Typer(help="KPI reports.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.add_typer(mailboxes_app, name="mailboxes")
app.add_typer(reports_app, name="reports")
app.command("simulate")(simulate_command)

console = Console(stderr=True)
#: The demo's local outbox (relative to where it runs) when no relay is configured.
DEMO_OUTBOX = Path("opencx-data/outbox")
HostOpt = Annotated[str | None, typer.Option(help="Address to listen on.")]
PortOpt = Annotated[int | None, typer.Option(help="Port to listen on.")]


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"opencx {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version."
        ),
    ] = False,
) -> None:
    """OpenCX omnichannel contact center."""


def _settings(
    host: str | None = None, port: int | None = None, *, creates_database: bool = False
) -> Settings:
    """The settings every command reads. Only the commands that exist to create a
    database (``creates_database``: ``demo``, ``db upgrade``, ``db check``) may start
    from an SQLite file that is not there; the others stop, naming the file they looked
    for, rather than create an empty database in whatever directory they were run."""
    try:
        settings = Settings()
    except ValidationError as exc:
        console.print(f"[red]configuration error:[/red]\n{exc}")
        raise typer.Exit(2) from None
    configure_logging(json=settings.log_json)
    if not creates_database:
        _require_database(settings)
    if host is not None:
        settings.server.host = host
    if port is not None:
        settings.server.port = port
    return settings


def _require_database(settings: Settings) -> None:
    path = migrate.sqlite_path(settings.database)
    if path is None or path.exists():
        return
    console.print(
        f"[red]error:[/red] no database at {path.resolve()}. This command uses an existing "
        "database: run it where you ran `opencx demo`, set OPENCX_DATABASE__URL to your "
        "database, or create one with `opencx db upgrade`.",
        soft_wrap=True,
    )
    raise typer.Exit(1)


def _fail(exc: OpenCXError) -> None:
    console.print(f"[red]error:[/red] {exc.detail}")
    raise typer.Exit(1)


def _serve(settings: Settings, app: FastAPI | None = None) -> None:
    uvicorn.run(
        app or build_app(settings),
        host=settings.server.host,
        port=settings.server.port,
        log_level="info",
    )


def _demo_app(settings: Settings) -> FastAPI:
    """The server with the demo's simulated CRM: its connectors reach it in process, and
    a person reads it under ``DEMO_CRM_PATH``. ``opencx serve`` has neither."""
    crm = create_demo_crm(date.today)
    app = build_app(settings, local_hosts={DEMO_CRM_HOST: crm})
    app.mount(DEMO_CRM_PATH, crm)
    return app


@app.command()
def serve(host: HostOpt = None, port: PortOpt = None) -> None:
    """Run the server (web, API, WebSockets, jobs) on the configured database."""
    settings = _settings(host, port)
    upgrade_database(settings)
    _serve(settings)


@app.command()
def worker() -> None:
    """Run background jobs without the web server; start one on as many nodes as needed."""
    settings = _settings()
    upgrade_database(settings)
    console.print(f"running {settings.jobs_backend} jobs; Ctrl+C stops")
    asyncio.run(run_job_worker(settings))


CustomersOpt = Annotated[
    int, typer.Option(min=0, max=100_000, help="How many demo customers to create.")
]
SmtpPortOpt = Annotated[
    int | None,
    typer.Option(
        min=1, max=65535, help="Port for inbound mail; default: the configured one if free."
    ),
]


NoSimulationOpt = Annotated[
    bool,
    typer.Option(
        "--no-simulation",
        help="No simulated customers or agents (also: OPENCX_DEMO__SIMULATION=false).",
    ),
]


@app.command()
def demo(
    host: HostOpt = None,
    port: PortOpt = None,
    customers: CustomersOpt = DEMO_CUSTOMERS,
    smtp_port: SmtpPortOpt = None,
    no_simulation: NoSimulationOpt = False,
) -> None:
    """Create and seed a demo database if needed, print the logins, and serve, with
    simulated customers and agents keeping it busy unless --no-simulation."""
    settings = _settings(host, port, creates_database=True)
    set_demo_simulation(settings, no_simulation=no_simulation)
    if settings.smtp.enabled:
        settings.smtp.port = smtp_port or _free_or_any(settings.smtp.host, settings.smtp.port)
    if settings.smtp_out.host is None and settings.smtp_out.outbox is None:
        # No relay to send through: answers by e-mail go where the person trying it reads.
        settings.smtp_out.outbox = DEMO_OUTBOX.resolve()
    upgrade_database(settings)
    logins = _seed_with_progress(settings, customers)
    base = f"http://{settings.server.host}:{settings.server.port}"
    console.print(f"\n[bold]OpenCX demo[/bold] at [link]{base}/[/link]")
    console.print(f"  API docs    {base}/api/v1/docs", soft_wrap=True)
    console.print(f"  OpenAPI     {base}/api/v1/openapi.json", soft_wrap=True)
    if settings.smtp.enabled:
        smtp = f"{settings.smtp.host}:{settings.smtp.port}"
        console.print(
            f"  E-mail      send to {DEMO_MAILBOX} through SMTP at {smtp}", soft_wrap=True
        )
    if settings.smtp_out.host is None and settings.smtp_out.outbox is not None:
        console.print(
            f"  Outbox      answers by e-mail are written to {settings.smtp_out.outbox}",
            soft_wrap=True,
        )
    console.print(f"  Web chat    {base}/chat/try/{DEMO_WIDGET}", soft_wrap=True)
    console.print(
        f"  Demo CRM    {base}{DEMO_CRM_PATH}/ (simulated; the Contract and Delivery "
        "tracking connectors read it)",
        soft_wrap=True,
    )
    if settings.demo.simulation:
        console.print(
            "  Simulation  simulated customers write on web chat, e-mail, SMS, WhatsApp and "
            f"Messenger (about {settings.demo.contacts_per_minute:g} a minute on each); "
            "simulated agents, marked as such, answer beside you. Turn it off with "
            "--no-simulation",
            soft_wrap=True,
        )
    else:
        console.print("  Simulation  off: only what you send comes in", soft_wrap=True)
    console.print("  Sign in with:")
    for role, email, password in logins:
        console.print(f"  {role:<11} {email:<32} password: {password}", soft_wrap=True)
    console.print()
    _serve(settings, _demo_app(settings))


def set_demo_simulation(settings: Settings, *, no_simulation: bool) -> None:
    """``opencx demo`` runs its simulation unless ``--no-simulation`` or
    ``OPENCX_DEMO__SIMULATION`` set to false (``opencx serve`` only when it is set).

    With it, missed offers set no one not ready (unless configured): simulated contacts
    are offered to the printed agent login before anyone signs in with it, and the
    person trying the demo must still find their own first chat offered to it."""
    explicit = "simulation" in settings.demo.model_fields_set
    settings.demo.simulation = not no_simulation and (settings.demo.simulation or not explicit)
    if settings.demo.simulation and "max_missed_offers" not in settings.routing.model_fields_set:
        settings.routing.max_missed_offers = 0


def _free_or_any(host: str, port: int) -> int:
    """``port`` if nothing listens there yet, else one the system finds free: a second
    demo on the same machine must not announce the first one's SMTP port."""
    for candidate in (port, 0):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((host, candidate))
            except OSError:
                continue
            found: int = sock.getsockname()[1]
            return found
    return port  # nothing bindable: the server reports the port it cannot take


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations up to REVISION (default: the latest)."""
    upgrade_database(_settings(creates_database=True), revision)
    console.print("database is up to date")


@db_app.command("check")
def db_check() -> None:
    """Fail if the models differ from what the migrations create (on a new database when
    none is there: the check's own)."""
    settings = _settings(creates_database=True)
    migrate.upgrade(settings.database)
    migrate.check(settings.database)
    console.print("migrations match the models")


@db_app.command("revision")
def db_revision(message: Annotated[str, typer.Option("-m", "--message")]) -> None:
    """Autogenerate a migration from the difference between models and database."""
    migrate.revision(_settings().database, message)


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Option(help="Sign-in email.")],
    role: Annotated[Role, typer.Option(help="admin, supervisor or agent.")],
    site: Annotated[str | None, typer.Option(help="Site name.")] = None,
    password: Annotated[str | None, typer.Option(help="Prompted when omitted.")] = None,
    name: Annotated[str, typer.Option(help="Display name.")] = "",
) -> None:
    """Create a user who can sign in."""
    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    settings = _settings()
    migrate.upgrade(settings.database)

    async def create() -> None:
        ctx = build_context(settings)
        try:
            data = UserCreate(email=email, role=role, password=password, display_name=name)
            user = await create_user_as_system(ctx, data, site_name=site)
        finally:
            await ctx.engine.dispose()
        console.print(f"created {user.role.value} {user.email} (id {user.id})")

    try:
        asyncio.run(create())
    except OpenCXError as exc:
        _fail(exc)
    except ValueError as exc:  # pydantic validation of email or password
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None


@token_app.command("create")
def token_create(
    user: Annotated[str, typer.Option(help="Email of the user the token acts as.")],
    name: Annotated[str, typer.Option(help="A label to recognise it by.")] = "cli",
) -> None:
    """Create an API token; it is printed alone on the last line, and never again."""
    settings = _settings()
    migrate.upgrade(settings.database)

    async def create() -> str:
        ctx = build_context(settings)
        try:
            return await create_api_token(ctx, email=user, name=name)
        finally:
            await ctx.engine.dispose()

    try:
        raw = asyncio.run(create())
    except OpenCXError as exc:
        _fail(exc)
        return
    console.print(f"token for {user} (shown once):")
    sys.stdout.write(raw + "\n")


@token_app.command("list")
def token_list(
    user: Annotated[str | None, typer.Option(help="Only this user's tokens (email).")] = None,
) -> None:
    """List API tokens: id, user, name, prefix, created, last used, revoked."""
    settings = _settings()
    migrate.upgrade(settings.database)

    async def read() -> list[TokenOut]:
        ctx = build_context(settings)
        try:
            return await list_tokens_as_system(ctx, email=user)
        finally:
            await ctx.engine.dispose()

    for token in asyncio.run(read()):
        sys.stdout.write(
            "\t".join(
                [
                    str(token.id),
                    str(token.user_id),
                    token.name or "-",
                    token.prefix,
                    token.created_at.isoformat(timespec="seconds"),
                    _when(token.last_used_at),
                    "revoked " + _when(token.revoked_at) if token.revoked_at else "active",
                ]
            )
            + "\n"
        )


@token_app.command("revoke")
def token_revoke(token_id: Annotated[int, typer.Argument(min=1, help="The token's id.")]) -> None:
    """Revoke a token at once; its requests and WebSockets are refused from then on."""
    settings = _settings()
    migrate.upgrade(settings.database)

    async def revoke() -> TokenOut:
        ctx = build_context(settings)
        try:
            return await revoke_token_as_system(ctx, token_id)
        finally:
            await ctx.engine.dispose()

    try:
        token = asyncio.run(revoke())
    except OpenCXError as exc:
        _fail(exc)
        return
    console.print(f"token {token.id} ({token.prefix}…) of user {token.user_id} is revoked")


@reports_app.command("rebuild")
def reports_rebuild() -> None:
    """Recompute the 15-minute interval counters from the whole event log."""
    settings = _settings()
    _require_database(settings)

    async def rebuild() -> int:
        ctx = build_context(settings)
        try:
            return await rebuild_intervals(ctx, on_progress=progress)
        finally:
            await ctx.engine.dispose()

    def progress(folded: int) -> None:
        console.print(f"{folded} events folded ({time.perf_counter() - started:.0f} s)")

    started = time.perf_counter()
    folded = asyncio.run(rebuild())
    console.print(f"folded {folded} events in {time.perf_counter() - started:.1f} s")


def _when(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment is not None else "-"


@app.command()
def seed(customers: CustomersOpt = DEMO_CUSTOMERS) -> None:
    """Load the demo company into the configured database (skipped if already there)."""
    settings = _settings()
    upgrade_database(settings)
    for role, email, password in _seed_with_progress(settings, customers):
        console.print(f"  {role:<11} {email:<32} password: {password}")


def _seed_with_progress(settings: Settings, customers: int) -> list[tuple[str, str, str]]:
    from opencx.cli.demo import ensure_demo

    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("Seeding the demo company", total=None)

        def report(_label: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return asyncio.run(ensure_demo(settings, customers=customers, progress=report))


def run() -> None:
    app()
