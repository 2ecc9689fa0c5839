"""The demo company: seeded once into the configured database."""

from __future__ import annotations

from sqlalchemy import func, select

from opencx.core.enums import Role
from opencx.db.models import User
from opencx.features.context import transaction
from opencx.features.users.service import UserCreate, create_user_as_system
from opencx.runtime import build_context
from opencx.settings import Settings

__all__ = ["DEMO_LOGINS", "ensure_demo"]

DEMO_PASSWORD = "opencx-demo"  # noqa: S105 - demo data, printed to the user on purpose
DEMO_LOGINS: list[tuple[Role, str]] = [
    (Role.ADMIN, "admin@demo.opencx.dev"),
    (Role.SUPERVISOR, "supervisor@demo.opencx.dev"),
    (Role.AGENT, "agent@demo.opencx.dev"),
]


async def ensure_demo(settings: Settings) -> list[tuple[str, str, str]]:
    """Seed the demo company unless users exist; return (role, email, password) to print."""
    ctx = build_context(settings)
    try:
        async with transaction(ctx) as session:
            has_users = await session.scalar(select(func.count()).select_from(User))
        if not has_users:
            for role, email in DEMO_LOGINS:
                await create_user_as_system(
                    ctx, UserCreate(email=email, role=role, password=DEMO_PASSWORD)
                )
    finally:
        await ctx.engine.dispose()
    return [(role.value, email, DEMO_PASSWORD) for role, email in DEMO_LOGINS]
